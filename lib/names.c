#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/names.h"
#include "chancery/sbuf.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

/* Latin letters with diacritics, folded to ASCII for matching. */
static const struct {
	unsigned cp;
	const char *ascii;
} folds[] = {
	{0xe0, "a"}, {0xe1, "a"}, {0xe2, "a"}, {0xe3, "a"}, {0xe4, "a"},
	{0xe5, "a"}, {0xe6, "ae"}, {0xe7, "c"}, {0xe8, "e"}, {0xe9, "e"},
	{0xea, "e"}, {0xeb, "e"}, {0xec, "i"}, {0xed, "i"}, {0xee, "i"},
	{0xef, "i"}, {0xf1, "n"}, {0xf2, "o"}, {0xf3, "o"}, {0xf4, "o"},
	{0xf5, "o"}, {0xf6, "o"}, {0xf8, "o"}, {0xf9, "u"}, {0xfa, "u"},
	{0xfb, "u"}, {0xfc, "u"}, {0xfd, "y"}, {0xff, "y"}, {0xdf, "ss"},
	{0x11f, "g"}, {0x131, "i"}, {0x15f, "s"}, {0x259, "e"}, {0x10d, "c"},
	{0x161, "s"}, {0x17e, "z"}, {0x107, "c"}, {0x142, "l"}, {0x144, "n"},
	{0x159, "r"}, {0x11b, "e"}, {0x151, "o"}, {0x171, "u"}, {0x103, "a"},
	{0x219, "s"}, {0x21b, "t"}, {0x2019, ""}, {0x2018, ""},
};

/* Spelling variants mapped word by word to one form. */
static const struct {
	const char *word;
	const char *as;
} words[] = {
	{"organisation", "organization"}, {"organisations", "organization"},
	{"organizations", "organization"}, {"ombudsmen", "ombudsman"},
	{"ombudsperson", "ombudsman"},     {"ombudspersons", "ombudsman"},
	{"ombudsmans", "ombudsman"},       {"institutes", "institute"},
	{"institution", "institute"},      {"institutions", "institute"},
	{"and", "&"},                      {"centre", "center"},
	{"programme", "program"},          {"defence", "defense"},
	{"childrens", "children"},         {"childs", "child"},
};

static const char *const dropped[] = {"the", "of", "for", "on", "in", "s"};

static bool is_upper_latin1(unsigned cp)
{
	return cp >= 0xc0 && cp <= 0xde && cp != 0xd7;
}

static unsigned lower_cp(unsigned cp)
{
	if (cp < 0x80)
		return (unsigned)tolower((int)cp);
	if (is_upper_latin1(cp))
		return cp + 0x20;
	if (cp >= 0x100 && cp <= 0x17f && !(cp & 1))
		return cp + 1; /* Latin Extended-A pairs */
	if (cp == 0x18f)
		return 0x259; /* Ə → ə */
	if (cp == 0x130)
		return 'i';
	return cp;
}

/* Lower-cases, folds diacritics and turns punctuation into spaces. */
static void fold_text(const char *name, struct sbuf *out)
{
	size_t len = strlen(name), i = 0;

	while (i < len) {
		unsigned cp;
		size_t n = utf8_decode(name + i, len - i, &cp);
		const char *ascii = NULL;

		if (!n) {
			i++;
			continue;
		}
		i += n;
		cp = lower_cp(cp);
		for (size_t f = 0; f < sizeof(folds) / sizeof(folds[0]); f++)
			if (folds[f].cp == cp)
				ascii = folds[f].ascii;
		if (ascii)
			sbuf_addstr(out, ascii);
		else if (cp < 0x80 && isalnum((int)cp))
			sbuf_addch(out, (int)cp);
		else if (cp == '&')
			sbuf_addstr(out, " & ");
		else if (cp == '\'')
			; /* "children's" → "childrens" */
		else if (cp < 0x80)
			sbuf_addch(out, ' ');
		else
			sbuf_add(out, name + i - n, n);
	}
}

static const char *map_word(const char *w)
{
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strcmp(w, dropped[i]) == 0)
			return NULL;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(w, words[i].word) == 0)
			return words[i].as;
	return w;
}

/* "u n" (from "U.N.") is "un": runs of two or more single letters are
 * one word, as initials written with dots. */
static void join_initials(struct sbuf *sb)
{
	char *s = sb->buf;
	size_t r = 0, w = 0, n;

	/* one space between words first: "u  n" as well as "u n" */
	for (r = 0; r < sb->len; r++)
		if (s[r] != ' ' || (w > 0 && s[w - 1] != ' '))
			s[w++] = s[r];
	n = w;
	r = w = 0;
	while (r < n) {
		bool single = isalpha((unsigned char)s[r]) &&
			      (r == 0 || s[r - 1] == ' ') &&
			      (r + 1 == n || s[r + 1] == ' ');
		size_t k = r;

		/* a run: letter space letter space ... */
		while (single && k + 2 < n && s[k + 1] == ' ' &&
		       isalpha((unsigned char)s[k + 2]) &&
		       (k + 3 == n || s[k + 3] == ' '))
			k += 2;
		if (single && k > r) {
			for (size_t i = r; i <= k; i += 2)
				s[w++] = s[i];
			r = k + 1;
			continue;
		}
		s[w++] = s[r++];
	}
	s[w] = '\0';
	sb->len = w;
}

char *names_normalise(const char *name)
{
	struct sbuf folded = SBUF_INIT, out = SBUF_INIT;
	char *save = NULL, *w;
	bool pending_co = false;

	fold_text(name, &folded);
	/* "united nations" is one word for matching: "un". */
	for (char *p; (p = strstr(folded.buf, "united nations"));) {
		memcpy(p, "un", 2);
		memmove(p + 2, p + 14, strlen(p + 14) + 1);
	}
	join_initials(&folded);
	for (w = strtok_r(folded.buf, " ", &save); w;
	     w = strtok_r(NULL, " ", &save)) {
		const char *m = map_word(w);

		if (!m)
			continue;
		/* "co-operation" is "cooperation": a lone "co" joins the
		 * word after it */
		if (strcmp(m, "co") == 0 && !pending_co) {
			pending_co = true;
			continue;
		}
		if (out.len)
			sbuf_addch(&out, ' ');
		if (pending_co)
			sbuf_addstr(&out, "co");
		pending_co = false;
		sbuf_addstr(&out, m);
	}
	if (pending_co) {
		if (out.len)
			sbuf_addch(&out, ' ');
		sbuf_addstr(&out, "co");
	}
	sbuf_release(&folded);
	return sbuf_detach(&out, NULL);
}

/* The singular of an English plural, good enough for names: "states" →
 * "state", "bodies" → "body"; words ending in ss/us/is stay. */
static void singular(char *w)
{
	size_t n = strlen(w);

	if (n <= 3 || w[n - 1] != 's')
		return;
	if (w[n - 2] == 's' || w[n - 2] == 'u' || w[n - 2] == 'i')
		return;
	if (n > 4 && strcmp(w + n - 3, "ies") == 0)
		strcpy(w + n - 3, "y");
	else
		w[n - 1] = '\0';
}

static int cmp_words(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *names_word_key(const char *name)
{
	char *norm = names_normalise(name), *save = NULL, *w;
	char **words = NULL;
	size_t n = 0, alloc = 0;
	struct sbuf out = SBUF_INIT;

	for (w = strtok_r(norm, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		singular(w);
		xgrow(&words, sizeof(*words), n + 1, &alloc);
		words[n++] = w;
	}
	if (n)
		qsort(words, n, sizeof(*words), cmp_words);
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(words[i], words[i - 1]) == 0)
			continue;
		if (out.len)
			sbuf_addch(&out, ' ');
		sbuf_addstr(&out, words[i]);
	}
	free(words);
	free(norm);
	return sbuf_detach(&out, NULL);
}
