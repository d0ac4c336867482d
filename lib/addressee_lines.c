/*
 * addressee_lines: what a line of a statement is (see the header). Each
 * question looks at one line, or at one block of lines, once.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chancery/addressee_lines.h"

size_t addressee_bullet_len(const char *s, size_t n)
{
	static const char *const marks[] = {
		"\xe2\x80\xa2", "\xc2\xb7", "\xe2\x80\x93", "\xe2\x80\x94",
		"\xe2\x96\xaa", "-", "*", "\xe2\x97\x8f", "\xe2\x97\xa6",
		"\xef\x82\xb7", "\xe2\x96\xa0", "\xe2\x9e\xa2", "o",
	};
	size_t i = 0, k, paren;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
		k = strlen(marks[m]);
		if (i + k >= n || strncmp(s + i, marks[m], k) != 0)
			continue;
		if (s[i + k] == ' ' || s[i + k] == '\t')
			return i + k + 1;
		/* "•UNICEF": a bullet sign needs no space after it */
		if ((unsigned char)marks[m][0] >= 0x80 &&
		    (unsigned char)marks[m][0] != 0xc2)
			return i + k;
	}
	paren = i < n && s[i] == '(';
	/* "3.", "3)", "(3)"; "b)", "b.", "(b)"; "iv)", "(iv)" */
	for (k = i + paren; k < n && k - i < 3 + paren &&
			    isdigit((unsigned char)s[k]);
	     k++)
		;
	if (k == i + paren)
		for (; k < n && k - i < 4 + paren && strchr("ivx", s[k]); k++)
			;
	if (k == i + paren && k < n && islower((unsigned char)s[k]))
		k++;
	if (k == i + paren || k + 1 >= n || s[k + 1] != ' ')
		return 0;
	if ((paren && s[k] == ')') || (!paren && (s[k] == '.' || s[k] == ')')))
		return k + 2;
	return 0;
}

/* "12", "- 3 -", "3/7", "Page 2 of 5", "page12". */
static bool page_marker(const char *s, size_t n)
{
	size_t digits = 0, letters = 0;
	char buf[64];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isdigit(c))
			digits++;
		else if (isalpha(c))
			letters++;
		else if (!isspace(c) && c != '-' && c != '/' && c != '.')
			return false;
		if (!isspace(c) && k < sizeof(buf) - 1)
			buf[k++] = (char)tolower(c);
	}
	buf[k] = '\0';
	if (!digits)
		return false;
	if (!letters)
		return digits <= 4;
	if (strncmp(buf, "page", 4) != 0)
		return false;
	for (const char *p = buf + 4; *p; p++)
		if (!isdigit((unsigned char)*p) && strncmp(p, "of", 2) != 0 &&
		    *p != 'f')
			return false;
	return true;
}

/* A number of 1..4 digits set apart by three spaces or a tab at the
 * start or the end of the line. */
static bool page_number_apart(const char *s, size_t n)
{
	size_t a = 0, b = n, d;

	while (b && isspace((unsigned char)s[b - 1]))
		b--;
	for (d = b; d && isdigit((unsigned char)s[d - 1]); d--)
		;
	if (b - d >= 1 && b - d <= 4 && d >= 4 &&
	    (s[d - 1] == '\t' ||
	     (s[d - 1] == ' ' && s[d - 2] == ' ' && s[d - 3] == ' ')))
		return true;
	while (a < n && isspace((unsigned char)s[a]))
		a++;
	for (d = a; d < n && isdigit((unsigned char)s[d]); d++)
		;
	return d - a >= 1 && d - a <= 4 && d + 3 < n &&
	       (s[d] == '\t' || strncmp(s + d, "   ", 3) == 0);
}

bool addressee_line_debris(const char *s, size_t n)
{
	return page_marker(s, n) || page_number_apart(s, n);
}

static const char *const months[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
};

/* A place and a date alone on a line: a year, and a month's name or
 * "dd.mm.yyyy"; short, no full sentence. */
static bool date_line(const char *s, size_t n)
{
	bool year = false, month = false;
	char low[96];
	size_t k = 0;

	if (n > 60)
		return false;
	for (size_t i = 0; i < n && k < sizeof(low) - 1; i++)
		low[k++] = (char)tolower((unsigned char)s[i]);
	low[k] = '\0';
	for (size_t i = 0; i + 4 <= k; i++)
		if ((strncmp(low + i, "19", 2) == 0 ||
		     strncmp(low + i, "20", 2) == 0) &&
		    isdigit((unsigned char)low[i + 2]) &&
		    isdigit((unsigned char)low[i + 3]) &&
		    (i == 0 || !isdigit((unsigned char)low[i - 1])) &&
		    !isdigit((unsigned char)low[i + 4])) {
			year = true;
			month |= i >= 6 && low[i - 1] == '.' &&
				 isdigit((unsigned char)low[i - 2]) &&
				 low[i - 4] == '.';
		}
	for (size_t m = 0; m < sizeof(months) / sizeof(months[0]); m++)
		month |= strstr(low, months[m]) != NULL;
	/* "Baku, 26 February 2024", not "the OSCE on 26 May 2024, and" */
	for (size_t i = 0; year && month && i < n; i++)
		if ((i == 0 || s[i - 1] == ' ') &&
		    islower((unsigned char)s[i]) &&
		    strncmp(s + i, "of ", 3) != 0)
			return false;
	return year && month && s[n - 1] != ',' && s[n - 1] != ';';
}

bool addressee_line_after_list(const char *s, size_t n)
{
	static const char *const starts[] = {
		"press service", "press office", "press centre",
		"press center", "press secretary", "press release",
		"media office", "public relations", "tel:", "tel.", "tel ",
		"phone", "fax", "e-mail", "email:", "www.", "http://",
		"https://", "source:", "address:", "contact:", "follow us",
		"share this", "read more", "related", "tags:",
		"\xc2\xa9",
	};
	size_t i = 0;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
		if (n - i >= strlen(starts[k]) &&
		    strncasecmp(s + i, starts[k], strlen(starts[k])) == 0)
			return true;
	return date_line(s + i, n - i);
}

/* Whether one line can be one name of a line-per-name list. */
static bool item_line(const char *s, size_t n)
{
	static const char *const open_ends[] = {" of", " for", " and",
						" the", " on", " in", " to",
						"-", ":"};

	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	while (n && isspace((unsigned char)*s))
		s++, n--;
	if (!n || n > 100 || memchr(s, ',', n) || memchr(s, ';', n))
		return false;
	if (!isupper((unsigned char)*s) && (unsigned char)*s < 0xc3 &&
	    strncmp(s, "the ", 4) != 0)
		return false;
	for (size_t k = 0; k < sizeof(open_ends) / sizeof(open_ends[0]); k++) {
		size_t e = strlen(open_ends[k]);

		if (n >= e && strncasecmp(s + n - e, open_ends[k], e) == 0)
			return false;
	}
	return true;
}

bool addressee_lines_are_items(const char *text, size_t len, size_t from,
			       size_t *end)
{
	size_t i = from, lines = 0;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len, k;

		for (k = i; k < e && isspace((unsigned char)text[k]); k++)
			;
		if (k == e || addressee_line_after_list(text + i, e - i))
			break; /* a blank line or a signature ends it */
		if (!item_line(text + i, e - i))
			return false;
		lines++;
		i = e + 1;
	}
	*end = i;
	return lines >= 2;
}
