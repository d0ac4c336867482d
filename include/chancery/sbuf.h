/*
 * sbuf: the one growable string type.
 *
 * Invariants: after sbuf_init (or SBUF_INIT) buf is never NULL and is
 * always NUL-terminated at buf[len]; len counts the bytes before that NUL
 * (the content may itself hold NUL bytes when built with sbuf_add).
 * A sbuf owns its memory until sbuf_detach hands it to the caller.
 */
#ifndef CHANCERY_SBUF_H
#define CHANCERY_SBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "chancery/error.h"

struct sbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char sbuf_empty[];
#define SBUF_INIT {sbuf_empty, 0, 0}

void sbuf_init(struct sbuf *sb, size_t hint);
void sbuf_release(struct sbuf *sb);
/* Returns the buffer (caller frees it) and leaves sb empty and valid. */
char *sbuf_detach(struct sbuf *sb, size_t *len);
void sbuf_grow(struct sbuf *sb, size_t extra);
void sbuf_setlen(struct sbuf *sb, size_t len);
void sbuf_reset(struct sbuf *sb);

void sbuf_add(struct sbuf *sb, const void *data, size_t len);
void sbuf_addstr(struct sbuf *sb, const char *s);
void sbuf_addch(struct sbuf *sb, int c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Removes leading and trailing ASCII white space. */
void sbuf_trim(struct sbuf *sb);

/*
 * Appends the contents of path; a file larger than max bytes is refused
 * (ERR_DATA), a missing or unreadable one is ERR_NOINPUT. "-" reads stdin.
 */
int sbuf_read_file(struct sbuf *sb, const char *path, size_t max,
		     struct error *err);
/* Appends what is left to read on fd (not closed), named path in
 * messages; more than max bytes is ERR_DATA and appends nothing. */
int sbuf_read_fd(struct sbuf *sb, int fd, const char *path, size_t max,
		 struct error *err);

#endif
