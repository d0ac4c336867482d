#include <ctype.h>
#include <string.h>

#include "chancery/error.h"
#include "chancery/sbuf.h"
#include "chancery/utf8.h"

size_t utf8_decode(const char *str, size_t len, unsigned *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c;
	size_t n;

	if (!len)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
	size_t i = 0;

	while (i < len) {
		unsigned cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (!n) {
			if (bad_offset)
				*bad_offset = i;
			return false;
		}
		i += n;
	}
	return true;
}

static bool is_combining(unsigned cp)
{
	return (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
	       (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
	       (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0x200b || cp == 0x200d;
}

static bool is_wide(unsigned cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	       (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	       (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
	       (cp >= 0x20000 && cp <= 0x3fffd);
}

size_t utf8_width(const char *s)
{
	size_t len = strlen(s), i = 0, width = 0;

	while (i < len) {
		unsigned cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (!n) {
			width++; /* shown as a replacement character */
			i++;
			continue;
		}
		if (!is_combining(cp))
			width += is_wide(cp) ? 2 : 1;
		i += n;
	}
	return width;
}

static bool has_control(const char *s, bool lines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (((*p < 0x20 && *p != '\t') || *p == 0x7f) &&
		    !(lines && *p == '\n'))
			return true;
	return false;
}

bool utf8_has_control(const char *s) { return has_control(s, false); }
bool utf8_has_control_in_lines(const char *s) { return has_control(s, true); }

/* The bidirectional embedding, override and isolate controls (and the
 * Arabic letter mark): on a terminal they reorder what follows them, so
 * a subject holding U+202E can show a line that is not what was stored
 * (the "Trojan Source" trick). */
static bool is_bidi_control(unsigned cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)
	       || cp == 0x061c;
}

void utf8_escape_terminal(struct sbuf *out, const char *s)
{
	utf8_escape_terminal_len(out, s, s ? strlen(s) : 0);
}

void utf8_escape_terminal_len(struct sbuf *out, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (!n || cp < 0x20 || cp == 0x7f) {
			sbuf_addf(out, "\\x%02x", (unsigned char)s[i]);
			i++;
			continue;
		}
		if ((cp >= 0x80 && cp <= 0x9f) || is_bidi_control(cp))
			sbuf_addf(out, "\\u%04x", cp);
		else
			sbuf_add(out, s + i, n);
		i += n;
	}
}

char *utf8_escaped(const char *s)
{
	struct sbuf b = SBUF_INIT;

	if (!s)
		return NULL;
	sbuf_init(&b, 0);
	utf8_escape_terminal(&b, s);
	return sbuf_detach(&b, NULL);
}

int utf8_check_text(const char *what, const char *s, struct error *err)
{
	if (!s)
		return 0;
	if (!utf8_valid(s, strlen(s), NULL))
		return error_set(err, ERR_DATA, "%s is not valid UTF-8", what);
	if (utf8_has_control(s))
		return error_set(err, ERR_DATA, "%s holds a control character",
				 what);
	/* Invisible on every screen, and a CSV round trip trims it. */
	if (*s && (isspace((unsigned char)*s) ||
		   isspace((unsigned char)s[strlen(s) - 1])))
		return error_set(err, ERR_DATA, "%s '%s' begins or ends with a "
				 "space", what, s);
	return 0;
}
