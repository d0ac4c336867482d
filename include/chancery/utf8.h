/*
 * utf8: the few UTF-8 facts the core needs (validation, display width),
 * without pulling in a locale.
 */
#ifndef CHANCERY_UTF8_H
#define CHANCERY_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). If not, *bad_offset (when given) is the offset
 * of the first bad byte.
 */
bool utf8_valid(const char *s, size_t len, size_t *bad_offset);

/*
 * Decodes one code point at s (len bytes available); returns its length in
 * bytes, or 0 for a malformed sequence.
 */
size_t utf8_decode(const char *s, size_t len, unsigned *cp);

/* Columns the text takes on a terminal: one per code point, except
 * combining marks (0) and wide East Asian characters (2). */
size_t utf8_width(const char *s);

/* True when s contains a byte below 0x20 or 0x7f (other than tab). */
bool utf8_has_control(const char *s);
/* The same for notes, where a line break (LF) is text too; a CR is not. */
bool utf8_has_control_in_lines(const char *s);

/*
 * Appends s to out as it is safe to show on a terminal: the bytes a
 * terminal would act on (C0 controls including tab and newline, DEL) and
 * bytes that are not UTF-8 as \xNN, the C1 controls (U+0080..U+009F,
 * 8-bit CSI among them) and the bidirectional controls (U+202A..U+202E,
 * U+2066..U+2069, U+061C) as \uNNNN; any other text, valid UTF-8 such as
 * "Défenseur", unchanged. NULL appends nothing.
 */
struct sbuf;
void utf8_escape_terminal(struct sbuf *out, const char *s);
/* The same for the len bytes at s (which may hold no NUL). */
void utf8_escape_terminal_len(struct sbuf *out, const char *s, size_t len);

/* The same in a new string; caller frees. NULL gives NULL. */
char *utf8_escaped(const char *s);

/*
 * Checks a short text that may reach a header, a file name or a ledger
 * event (a name, a role): valid UTF-8, no control characters, and no
 * space at either end. Returns 0 or ERR_DATA with "WHAT is not valid
 * UTF-8" / "WHAT holds a control character" / "WHAT 'TEXT' begins or ends
 * with a space". NULL is accepted (an absent optional field).
 */
struct error;
int utf8_check_text(const char *what, const char *s, struct error *err);

#endif
