#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/json.h"
#include "chancery/utf8.h"

void json_init(struct json *js, struct sbuf *out, bool pretty)
{
	memset(js, 0, sizeof(*js));
	js->out = out;
	js->pretty = pretty;
}

static void newline_indent(struct json *js)
{
	if (!js->pretty)
		return;
	sbuf_addch(js->out, '\n');
	for (int i = 0; i < js->depth; i++)
		sbuf_addstr(js->out, "  ");
}

/* Writes what must come before a value: a comma, a line break. */
static void before_value(struct json *js)
{
	if (js->after_key) {
		js->after_key = false;
		return;
	}
	if (js->depth > 0) {
		if (js->need_comma[js->depth])
			sbuf_addch(js->out, ',');
		newline_indent(js);
		js->need_comma[js->depth] = true;
	}
}

static void open_container(struct json *js, char c)
{
	before_value(js);
	sbuf_addch(js->out, c);
	if (++js->depth >= JSON_MAX_DEPTH)
		abort();
	js->need_comma[js->depth] = false;
}

static void close_container(struct json *js, char c)
{
	bool had_members = js->need_comma[js->depth];

	if (js->depth <= 0)
		abort();
	js->depth--;
	if (had_members)
		newline_indent(js);
	sbuf_addch(js->out, c);
	if (js->depth == 0 && js->pretty)
		sbuf_addch(js->out, '\n');
}

void json_object_begin(struct json *js) { open_container(js, '{'); }
void json_object_end(struct json *js) { close_container(js, '}'); }
void json_array_begin(struct json *js) { open_container(js, '['); }
void json_array_end(struct json *js) { close_container(js, ']'); }

void json_quote(struct sbuf *sb, const char *s)
{
	size_t len = strlen(s), i = 0;

	sbuf_addch(sb, '"');
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp;
		size_t n;

		if (c == '"' || c == '\\') {
			sbuf_addch(sb, '\\');
			sbuf_addch(sb, c);
			i++;
		} else if (c == '\n') {
			sbuf_addstr(sb, "\\n");
			i++;
		} else if (c == '\r') {
			sbuf_addstr(sb, "\\r");
			i++;
		} else if (c == '\t') {
			sbuf_addstr(sb, "\\t");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sbuf_addf(sb, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			/* A run of plain ASCII goes in at once: one character
			 * at a time was a tenth of each ledger event's cost. */
			size_t run = i + 1;

			while (run < len && s[run] >= 0x20 && s[run] < 0x7f &&
			       s[run] != '"' && s[run] != '\\')
				run++;
			sbuf_add(sb, s + i, run - i);
			i = run;
		} else if ((n = utf8_decode(s + i, len - i, &cp)) != 0) {
			sbuf_add(sb, s + i, n);
			i += n;
		} else {
			sbuf_addstr(sb, "\\ufffd");
			i++;
		}
	}
	sbuf_addch(sb, '"');
}

void json_key(struct json *js, const char *key)
{
	before_value(js);
	json_quote(js->out, key);
	sbuf_addstr(js->out, js->pretty ? ": " : ":");
	js->after_key = true;
}

void json_string(struct json *js, const char *s)
{
	if (!s) {
		json_null(js);
		return;
	}
	before_value(js);
	json_quote(js->out, s);
}

void json_int(struct json *js, long long v)
{
	before_value(js);
	sbuf_addf(js->out, "%lld", v);
}

void json_double(struct json *js, double v)
{
	before_value(js);
	if (isfinite(v))
		sbuf_addf(js->out, "%.6g", v);
	else
		sbuf_addstr(js->out, "null");
}

void json_bool(struct json *js, bool v)
{
	before_value(js);
	sbuf_addstr(js->out, v ? "true" : "false");
}

void json_null(struct json *js)
{
	before_value(js);
	sbuf_addstr(js->out, "null");
}

void json_raw(struct json *js, const char *text)
{
	before_value(js);
	sbuf_addstr(js->out, text);
}

void json_kv_string(struct json *js, const char *key, const char *s)
{
	json_key(js, key);
	json_string(js, s);
}

void json_kv_int(struct json *js, const char *key, long long v)
{
	json_key(js, key);
	json_int(js, v);
}

void json_kv_bool(struct json *js, const char *key, bool v)
{
	json_key(js, key);
	json_bool(js, v);
}
