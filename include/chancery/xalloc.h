/*
 * xalloc: allocation that cannot fail.
 *
 * Running out of memory is the one failure the core does not report: these
 * wrappers abort with a message, so callers never check for NULL.
 */
#ifndef CHANCERY_XALLOC_H
#define CHANCERY_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xstrdup(NULL) returns NULL, so optional strings copy without a test. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grows *array (of *alloc elements of size elem) to hold at least n. */
void xgrow(void *array_ptr, size_t elem, size_t n, size_t *alloc);

#endif
