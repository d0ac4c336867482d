/*
 * What lib/bounce_report.c (MIME, RFC 3464, identifiers) and
 * lib/bounce_text.c (the plain-text formats) share. Not installed.
 */
#ifndef CHANCERY_BOUNCE_REPORT_IMPL_H
#define CHANCERY_BOUNCE_REPORT_IMPL_H

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stddef.h>

#include "chancery/bounce_report.h"

/* s[0..len) with white space collapsed to single spaces, trimmed, other
 * control characters as '?' (caller frees); NULL when nothing is left. */
char *bounce_report_squeeze(const char *s, size_t len);

/* s[0..len) as a bare address: an "rfc822;" (or "rfc/822;", "utf-8;")
 * type prefix and <> removed, the domain lower-cased; NULL when it is no
 * address (no @, white space, a pipe or a path, ...). need_dot: the domain
 * must hold a dot (for addresses found in free text). Caller frees. */
char *bounce_report_address(const char *s, size_t len, bool need_dot);

/* The first address-like token of s[0..len) that passes
 * bounce_report_address (with a dotted domain); NULL when none. */
char *bounce_report_find_address(const char *s, size_t len);

/* The line at p: *len gets its length without the newline (and CR); the
 * return value is the next line, NULL at the end of the text. */
const char *bounce_report_line(const char *p, size_t *len);

bool bounce_report_blank(const char *p, size_t len);

/* The first place phrase occurs at the start of a line, after white
 * space only (never after a '>' quote), case-insensitively; NULL when
 * none. Linear in the text. */
const char *bounce_report_phrase(const char *text, const char *phrase);

/*
 * Adds a recipient, taking ownership of addr (NULL allowed: a recipient
 * the report does not name). status is a Status field as written (NULL
 * when none); it is normalised (comments dropped, filled or refined from
 * the diagnostic) and the recipient classified. A repeat of one of the
 * last recipients (same address) fills what that one missed instead.
 */
void bounce_report_add(struct bounce_report *r, enum bounce_action action,
		       char *addr, const char *status, const char *diag,
		       size_t diag_len);

/*
 * Recognises one of the plain-text formats in msg, whose text/plain parts
 * are text: sets r->format and *action (failed, or delayed for a delay
 * warning) and adds the recipients it names. -1 when no format matches.
 */
int bounce_text_parse(struct bounce_report *r, GMimeMessage *msg,
		      const char *text, enum bounce_action *action);

#endif
