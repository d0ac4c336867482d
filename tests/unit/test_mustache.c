/*
 * Tests of the mustache module: the Mustache spec's own test files, the
 * compiler's messages, the name check (against the statement variables,
 * template_variables), render options and the render budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/mustache.h"
#include "chancery/sbuf.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "testutil.h"

/* ---- a small JSON reader, enough for the spec files ---- */

struct json_in {
	const char *s;
	size_t pos;
	bool bad;
};

static void json_ws(struct json_in *j)
{
	while (j->s[j->pos] == ' ' || j->s[j->pos] == '\n' ||
	       j->s[j->pos] == '\r' || j->s[j->pos] == '\t')
		j->pos++;
}

static void json_utf8(struct sbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		sbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		sbuf_addch(sb, (int)(0xC0 | (cp >> 6)));
		sbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		sbuf_addch(sb, (int)(0xE0 | (cp >> 12)));
		sbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3F)));
		sbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	} else {
		sbuf_addch(sb, (int)(0xF0 | (cp >> 18)));
		sbuf_addch(sb, (int)(0x80 | ((cp >> 12) & 0x3F)));
		sbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3F)));
		sbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	}
}

static char *json_string(struct json_in *j)
{
	struct sbuf sb = SBUF_INIT;

	j->pos++; /* the opening quote */
	while (j->s[j->pos] && j->s[j->pos] != '"') {
		char c = j->s[j->pos++];
		unsigned cp;

		if (c != '\\') {
			sbuf_addch(&sb, c);
			continue;
		}
		c = j->s[j->pos++];
		switch (c) {
		case 'n': sbuf_addch(&sb, '\n'); break;
		case 'r': sbuf_addch(&sb, '\r'); break;
		case 't': sbuf_addch(&sb, '\t'); break;
		case 'b': sbuf_addch(&sb, '\b'); break;
		case 'f': sbuf_addch(&sb, '\f'); break;
		case 'u':
			if (sscanf(j->s + j->pos, "%4x", &cp) != 1)
				j->bad = true;
			j->pos += 4;
			if (cp >= 0xD800 && cp < 0xDC00 &&
			    j->s[j->pos] == '\\' && j->s[j->pos + 1] == 'u') {
				unsigned lo;

				if (sscanf(j->s + j->pos + 2, "%4x", &lo) == 1) {
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					     (lo - 0xDC00);
					j->pos += 6;
				}
			}
			json_utf8(&sb, cp);
			break;
		default: sbuf_addch(&sb, c); break;
		}
	}
	if (j->s[j->pos] != '"')
		j->bad = true;
	else
		j->pos++;
	return sbuf_detach(&sb, NULL);
}

static struct tvalue *json_value(struct json_in *j)
{
	struct tvalue *v;

	json_ws(j);
	switch (j->s[j->pos]) {
	case '{':
		v = tvalue_new(TVALUE_OBJECT);
		j->pos++;
		json_ws(j);
		while (!j->bad && j->s[j->pos] != '}') {
			char *key;

			json_ws(j);
			if (j->s[j->pos] != '"') {
				j->bad = true;
				break;
			}
			key = json_string(j);
			json_ws(j);
			if (j->s[j->pos++] != ':')
				j->bad = true;
			tvalue_set(v, key, json_value(j));
			free(key);
			json_ws(j);
			if (j->s[j->pos] == ',')
				j->pos++;
			else if (j->s[j->pos] != '}')
				j->bad = true;
		}
		j->pos++;
		return v;
	case '[':
		v = tvalue_new(TVALUE_LIST);
		j->pos++;
		json_ws(j);
		while (!j->bad && j->s[j->pos] != ']') {
			tvalue_append(v, json_value(j));
			json_ws(j);
			if (j->s[j->pos] == ',')
				j->pos++;
			else if (j->s[j->pos] != ']')
				j->bad = true;
		}
		j->pos++;
		return v;
	case '"': {
		char *s = json_string(j);

		v = tvalue_new_string(s);
		free(s);
		return v;
	}
	case 't':
		j->pos += 4;
		return tvalue_new_bool(true);
	case 'f':
		j->pos += 5;
		return tvalue_new_bool(false);
	case 'n':
		j->pos += 4;
		return tvalue_new(TVALUE_NULL);
	default: {
		char *end;
		double d = strtod(j->s + j->pos, &end);

		if (end == j->s + j->pos)
			j->bad = true;
		j->pos = (size_t)(end - j->s);
		return tvalue_new_number(d);
	}
	}
}

/* ---- the spec runner ---- */

static const char *partial_from_object(void *arg, const char *name)
{
	const struct tvalue *v = tvalue_get(arg, name);

	return v && v->kind == TVALUE_STRING ? v->string : NULL;
}

static const char *str_member(const struct tvalue *o, const char *key)
{
	const struct tvalue *v = tvalue_get(o, key);

	return v && v->kind == TVALUE_STRING ? v->string : NULL;
}

/* Runs one spec test; true when the output is the expected one. */
static bool spec_case(const char *file, const struct tvalue *t)
{
	const char *name = str_member(t, "name");
	const char *tpl = str_member(t, "template");
	const char *want = str_member(t, "expected");
	struct mustache_partials partials = {partial_from_object,
					     (void *)tvalue_get(t, "partials")};
	struct mustache_render_opts opts = {.html_escape = true};
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;
	struct mustache *m = NULL;
	bool ok = false;

	if (!tpl || !want)
		goto out;
	if (mustache_compile(tpl, 1, &m, &err)) {
		printf("  FAIL %s: %s: compile: %s\n", file, name, err.msg);
		goto out;
	}
	if (mustache_render(m, tvalue_get(t, "data"), &partials, &opts, &out,
			    &err)) {
		printf("  FAIL %s: %s: render: %s\n", file, name, err.msg);
		goto out;
	}
	ok = strcmp(out.buf, want) == 0;
	if (!ok)
		printf("  FAIL %s: %s\n    got  [%s]\n    want [%s]\n", file,
		       name, out.buf, want);
out:
	mustache_free(m);
	sbuf_release(&out);
	return ok;
}

static void test_mustache_spec(void **state)
{
	static const char *const files[] = {
		"comments.json", "delimiters.json", "interpolation.json",
		"inverted.json", "partials.json",   "sections.json",
	};
	const char *srcdir = getenv("CHANCERY_SOURCE_DIR");
	int passed = 0, total = 0;

	(void)state;
	assert_non_null(srcdir);
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char *path = xasprintf("%s/tests/mustache-spec/%s", srcdir,
				       files[f]);
		struct sbuf text = SBUF_INIT;
		struct error err = ERROR_INIT;
		struct json_in j = {0};
		struct tvalue *doc;
		const struct tvalue *tests;

		assert_int_equal(sbuf_read_file(&text, path, 1 << 20, &err), 0);
		j.s = text.buf;
		doc = json_value(&j);
		assert_false(j.bad);
		tests = tvalue_get(doc, "tests");
		assert_non_null(tests);
		assert_true(tests->count > 0);
		for (size_t i = 0; i < tests->count; i++) {
			total++;
			passed += spec_case(files[f], tests->items[i]);
		}
		tvalue_free(doc);
		sbuf_release(&text);
		free(path);
	}
	printf("mustache spec: %d/%d passed\n", passed, total);
	assert_int_equal(passed, total);
	assert_int_equal(total, 136);
}

/* ---- the compiler's errors name line and column ---- */

static void test_compile_errors(void **state)
{
	static const struct {
		const char *src, *want;
	} cases[] = {
		{"{{#a}}x", "line 1, column 1: section 'a' is never closed"},
		{"a\n  {{#a}}\n{{/b}}",
		 "line 3, column 1: {{/b}} does not close section 'a' opened "
		 "at line 2, column 3"},
		{"x\n\n  é {{/a}}",
		 "line 3, column 5: {{/a}} closes a section that was never "
		 "opened"},
		{"Dear {{contact.name", "line 1, column 6: tag '{{' is never "
					"closed"},
		{"{{=a=}}", "line 1, column 1: bad delimiter change"},
		{"{{}}", "line 1, column 1: empty tag"},
		{"{{#}}{{/}}", "line 1, column 1: section without a name"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct mustache *m = NULL;

		assert_int_equal(mustache_compile(cases[i].src, 1, &m, &err),
				 ERR_DATA);
		assert_null(m);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg,
				 cases[i].want);
	}
}

/* ---- the name check ---- */

static const char *no_partial(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "sig") == 0 ? "{{sender.name}}\n{{sender.nme}}"
					: NULL;
}

static void test_check_names(void **state)
{
	static const struct {
		const char *src, *want; /* want NULL: accepted */
	} cases[] = {
		{"{{body.name}} {{contact.email}}", NULL},
		{"{{#body}}{{name}} ({{acronym}}){{/body}}", NULL},
		{"{{#contact.name}}Dear {{.}},{{/contact.name}}"
		 "{{^contact.name}}Dear colleagues,{{/contact.name}}", NULL},
		{"{{! comment {{nothing}} }}{{anniversary.ordinal}}", NULL},
		{"{{=<% %>=}}<% event.date %>", NULL},
		{"line one\n  {{contact.nmae}}",
		 "line 2, column 3: unknown variable 'contact.nmae'"},
		{"{{#body}}{{email}}{{/body}}",
		 "line 1, column 10: unknown variable 'email'"},
		{"{{#nobody}}x{{/nobody}}",
		 "line 1, column 1: unknown variable 'nobody'"},
		{"{{body.name.first}}",
		 "line 1, column 1: unknown variable 'body.name.first'"},
		{"{{> sig}}",
		 "partial 'sig', line 2, column 1: unknown variable "
		 "'sender.nme'"},
		{"{{> nosuch}}", "partial 'nosuch' not found"},
	};
	struct mustache_partials partials = {no_partial, NULL};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct mustache *m = NULL;
		int rc;

		assert_int_equal(mustache_compile(cases[i].src, 1, &m, &err), 0);
		rc = mustache_check_names(m, template_variables, &partials,
					  &err);
		if (!cases[i].want && rc)
			fail_msg("case %zu: refused: %s", i, err.msg);
		if (cases[i].want && (rc != ERR_DATA ||
				      !strstr(err.msg, cases[i].want)))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc,
				 err.msg, cases[i].want);
		mustache_free(m);
	}
}

/* ---- render options: escaping and header safety ---- */

static void test_escaping_is_an_option(void **state)
{
	struct tvalue *ctx = tvalue_new(TVALUE_OBJECT);
	struct mustache_render_opts text = {0}, html = {.html_escape = true};
	struct error err = ERROR_INIT;
	struct sbuf a = SBUF_INIT, b = SBUF_INIT;
	struct mustache *m = NULL;

	(void)state;
	tvalue_set_path(ctx, "body.name", "Office <\"A&B\">");
	assert_int_equal(mustache_compile("{{body.name}}|{{{body.name}}}", 1,
					  &m, &err), 0);
	assert_int_equal(mustache_render(m, ctx, NULL, &text, &a, &err), 0);
	assert_int_equal(mustache_render(m, ctx, NULL, &html, &b, &err), 0);
	assert_str(a.buf, "Office <\"A&B\">|Office <\"A&B\">");
	assert_str(b.buf, "Office &lt;&quot;A&amp;B&quot;&gt;|Office <\"A&B\">");
	mustache_free(m);
	sbuf_release(&a);
	sbuf_release(&b);
	tvalue_free(ctx);
}

static void test_single_line_refuses_line_breaks(void **state)
{
	static const char *const bad[] = {"Evil\r\nBcc: x@example.org",
					  "two\nlines", "cr\ronly"};
	struct mustache_render_opts opts = {.single_line = true,
					    .what_for = "the Subject header"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tvalue *ctx = tvalue_new(TVALUE_OBJECT);
		struct error err = ERROR_INIT;
		struct sbuf out = SBUF_INIT;
		struct mustache *m = NULL;

		tvalue_set_path(ctx, "contact.name", bad[i]);
		assert_int_equal(mustache_compile("To {{contact.name}}", 1, &m,
						  &err), 0);
		assert_int_equal(mustache_render(m, ctx, NULL, &opts, &out,
						 &err), ERR_DATA);
		assert_non_null(strstr(err.msg, "variable 'contact.name' "
					       "holds a line break, refused "
					       "in the Subject header"));
		mustache_free(m);
		sbuf_release(&out);
		tvalue_free(ctx);
	}
}

/* Partials from a fixed table, for rendering without a template file. */
static const char *fan_partial(void *arg, const char *name)
{
	static const char *const srcs[][2] = {
		{"a", "{{> b}}{{> b}}{{> b}}{{> b}}{{> b}}{{> b}}{{> b}}{{> b}}"
		      "{{> b}}{{> b}}"},
		{"b", "{{> c}}{{> c}}{{> c}}{{> c}}{{> c}}{{> c}}{{> c}}{{> c}}"
		      "{{> c}}{{> c}}"},
		{"c", "{{> d}}{{> d}}{{> d}}{{> d}}{{> d}}{{> d}}{{> d}}{{> d}}"
		      "{{> d}}{{> d}}"},
		{"d", "{{> e}}{{> e}}{{> e}}{{> e}}{{> e}}{{> e}}{{> e}}{{> e}}"
		      "{{> e}}{{> e}}"},
		{"e", "{{> f}}{{> f}}{{> f}}{{> f}}{{> f}}{{> f}}{{> f}}{{> f}}"
		      "{{> f}}{{> f}}"},
		{"f", "{{> g}}{{> g}}{{> g}}{{> g}}{{> g}}{{> g}}{{> g}}{{> g}}"
		      "{{> g}}{{> g}}"},
		{"g", "{{> h}}{{> h}}{{> h}}{{> h}}{{> h}}{{> h}}{{> h}}{{> h}}"
		      "{{> h}}{{> h}}"},
		{"h", "{{body.name}}"},
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++)
		if (strcmp(srcs[i][0], name) == 0)
			return srcs[i][1];
	return NULL;
}

/* A fan-out already stored (or one the data makes large) stops at the
 * budget: quickly, and without holding more than the budget. */
static void test_render_stops_at_the_budget(void **state)
{
	static const struct {
		const char *name;
		size_t bytes, steps;
		const char *want;
		size_t len; /* what out holds when it stopped */
	} cases[] = {
		{"Body", 64 * 1024, TEMPLATE_MAX_EXPANSION, "too big",
		 64 * 1024},
		{"", 64 * 1024, TEMPLATE_MAX_EXPANSION, "too long", 0},
		{"Body", TEMPLATE_MESSAGE_MAX_DEFAULT, TEMPLATE_MAX_EXPANSION,
		 "too long", 0},
		{"<&>", 64 * 1024, TEMPLATE_MAX_EXPANSION, "too big",
		 64 * 1024 - 64 * 1024 % 13},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mustache_budget budget = {cases[i].bytes, cases[i].steps,
						 "too big", "too long"};
		struct mustache_render_opts opts = {.html_escape = true,
						    .budget = &budget};
		struct mustache_partials partials = {fan_partial, NULL};
		struct tvalue *ctx = tvalue_new(TVALUE_OBJECT);
		struct error err = ERROR_INIT;
		struct sbuf out = SBUF_INIT;
		struct mustache *m = NULL;
		int rc;

		tvalue_set_path(ctx, "body.name", cases[i].name);
		assert_int_equal(mustache_compile("{{> a}}", 1, &m, &err), 0);
		rc = mustache_render(m, ctx, &partials, &opts, &out, &err);
		if (rc != ERR_DATA || strcmp(err.msg, cases[i].want) != 0)
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc,
				 err.msg, cases[i].want);
		if (cases[i].len && out.len != cases[i].len)
			fail_msg("case %zu: out holds %zu bytes, want %zu", i,
				 out.len, cases[i].len);
		if (out.len > cases[i].bytes || out.alloc > 2 * cases[i].bytes + 8192)
			fail_msg("case %zu: %zu bytes held (%zu allocated), "
				 "over the budget of %zu", i, out.len,
				 out.alloc, cases[i].bytes);
		mustache_free(m);
		sbuf_release(&out);
		tvalue_free(ctx);
	}
}

/* template_render: the configured message.max_size, for one addressee's
 * data (a long body name passes it where a short one does not). */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mustache_spec),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_escaping_is_an_option),
		cmocka_unit_test(test_single_line_refuses_line_breaks),
		cmocka_unit_test(test_render_stops_at_the_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
