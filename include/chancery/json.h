/*
 * json: a streaming JSON writer into a sbuf.
 *
 * The writer tracks nesting and commas, so callers only say what comes
 * next. Strings are escaped per RFC 8259; bytes that are not valid UTF-8
 * become U+FFFD, so the output always parses. Nesting deeper than
 * JSON_MAX_DEPTH is a programming error (abort).
 */
#ifndef CHANCERY_JSON_H
#define CHANCERY_JSON_H

#include <stdbool.h>

#include "chancery/sbuf.h"

#define JSON_MAX_DEPTH 32

struct json {
	struct sbuf *out;
	int depth;
	bool pretty;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *js, struct sbuf *out, bool pretty);

void json_object_begin(struct json *js);
void json_object_end(struct json *js);
void json_array_begin(struct json *js);
void json_array_end(struct json *js);

/* A member name inside an object; the next value call gives its value. */
void json_key(struct json *js, const char *key);

void json_string(struct json *js, const char *s); /* NULL writes null */
void json_int(struct json *js, long long v);
void json_double(struct json *js, double v);
void json_bool(struct json *js, bool v);
void json_null(struct json *js);
/* Inserts already-serialised JSON text as one value. */
void json_raw(struct json *js, const char *text);

/* Shorthands for a member: json_key then the value. */
void json_kv_string(struct json *js, const char *key, const char *s);
void json_kv_int(struct json *js, const char *key, long long v);
void json_kv_bool(struct json *js, const char *key, bool v);

/* Appends s as a quoted, escaped JSON string to sb. */
void json_quote(struct sbuf *sb, const char *s);

#endif
