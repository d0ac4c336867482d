/*
 * Tests of the template module: the Mustache spec's own test files, the
 * name check, the template file format and the versioned storage.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* ---- the template file format ---- */

static void test_parse_format(void **state)
{
	const char *src = "Subject: {{anniversary.ordinal}} anniversary\n"
			  "Reply-To: office@example.org\n"
			  "Attach: statement.pdf \t\n"
			  "\n"
			  "Text for {{body.name}}.\n"
			  TEMPLATE_HTML_SEPARATOR "\n"
			  "<p>HTML for {{body.name}}</p>\n";
	struct error err = ERROR_INIT;
	struct template *t = NULL;

	(void)state;
	assert_int_equal(template_parse(src, &t, &err), 0);
	assert_non_null(t->subject);
	assert_null(t->from);
	assert_non_null(t->reply_to);
	assert_non_null(t->text);
	assert_non_null(t->html);
	assert_int_equal(t->nattach_paths, 1);
	assert_str(t->attach_paths[0], "statement.pdf");
	template_free(t);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *src, *want;
	} cases[] = {
		{"Subject: x\nBody without a blank line",
		 "line 2, column 1: a header line must read"},
		{"Subject: x\nX-Mailer: y\n\nbody", "unknown header 'X-Mailer'"},
		{"From: a@example.org\n\nbody", "no Subject: header"},
		{"Subject: x\n", "no empty line after the header block"},
		{"Subject: x\nSubject: y\n\nb", "line 2, column 1: second "
						"Subject: header"},
		{"Subject: the {{#body.name}} day\n\nb",
		 "line 1, column 14: section 'body.name' is never closed"},
		{"Subject: x\n\nline 3\nline 4 {{/body}}",
		 "line 4, column 8: {{/body}} closes a section"},
		{"Subject: x\n\ntext\n" TEMPLATE_HTML_SEPARATOR
		 "\n<p>\n{{#body}}</p>",
		 "line 6, column 1: section 'body' is never closed"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct template *t = NULL;

		assert_int_equal(template_parse(cases[i].src, &t, &err),
				 ERR_DATA);
		assert_null(t);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg,
				 cases[i].want);
	}
}

/* ---- storage and versions ---- */

static int64_t count(struct db *db, const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return test_query_int(db, sql);
}

static void assert_nothing_stored(struct db *db)
{
	assert_int_equal(count(db, "templates"), 0);
	assert_int_equal(count(db, "template_partials"), 0);
	assert_int_equal(count(db, "template_attachments"), 0);
	assert_int_equal(count(db, "events"), 0);
}

static void test_add_errors_store_nothing(void **state)
{
	static const struct {
		const char *text, *want;
		int code;
	} cases[] = {
		{"Subject: x\n\nDear {{contact.nme}},\n",
		 "t.tmpl: line 3, column 6: unknown variable 'contact.nme'",
		 ERR_DATA},
		{"Subject: x\n\n{{#body.name}}\nno end\n",
		 "t.tmpl: line 3, column 1: section 'body.name' is never "
		 "closed", ERR_DATA},
		{"Subject: x\nAttach: missing.pdf\n\nbody\n",
		 "t.tmpl: Attach: missing.pdf", ERR_NOINPUT},
		{"Subject: x\n\n{{> nosuch}}\n", "partial 'nosuch'",
		 ERR_NOINPUT},
		{"Subject: x\n\n{{> ../etc}}\n", "not a plain file name",
		 ERR_DATA},
	};
	struct test_db t;

	(void)state;
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct template_info info;
		struct error err = ERROR_INIT;
		char *path = test_write_file(t.dir, "t.tmpl", cases[i].text);
		bool unchanged;
		int rc = template_add(t.db, "anniv", path, &info, &unchanged,
				      &err);

		if (rc != cases[i].code || !strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got %d '%s', want %d '%s'", i, rc,
				 err.msg, cases[i].code, cases[i].want);
		assert_nothing_stored(t.db);
		free(path);
	}
	test_db_close(&t);
}

static void test_versions(void **state)
{
	struct test_db t;
	struct template_info info, found;
	struct error err = ERROR_INIT;
	char *path, *pdf, *part;
	bool unchanged;

	(void)state;
	test_db_open(&t);
	pdf = test_write_file(t.dir, "s.pdf", "%PDF-1.4 fake");
	part = test_write_file(t.dir, "sig.partial", "{{sender.name}}\n");
	path = test_write_file(t.dir, "a.tmpl",
			       "Subject: {{anniversary.ordinal}}\n"
			       "Attach: s.pdf\n\nText\n{{> sig}}\n");
	assert_int_equal(template_add(t.db, "anniv", path, &info, &unchanged,
				      &err), 0);
	assert_false(unchanged);
	assert_int_equal(info.version, 1);
	assert_int_equal(info.npartials, 1);
	assert_int_equal(info.nattachments, 1);
	assert_int_equal(strlen(info.sha256), 64);
	template_info_release(&info);

	/* the same content again: no new version */
	assert_int_equal(template_add(t.db, "anniv", path, &info, &unchanged,
				      &err), 0);
	assert_true(unchanged);
	assert_int_equal(info.version, 1);
	assert_int_equal(count(t.db, "templates"), 1);
	template_info_release(&info);

	/* a changed partial is a new version */
	free(test_write_file(t.dir, "sig.partial", "-- {{sender.name}}\n"));
	assert_int_equal(template_add(t.db, "anniv", path, &info, &unchanged,
				      &err), 0);
	assert_false(unchanged);
	assert_int_equal(info.version, 2);
	template_info_release(&info);
	/* so is a changed attachment */
	free(test_write_file(t.dir, "s.pdf", "%PDF-1.4 other"));
	assert_int_equal(template_add(t.db, "anniv", path, &info, &unchanged,
				      &err), 0);
	assert_int_equal(info.version, 3);
	template_info_release(&info);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM events "
					      "WHERE kind = 'template.added'"),
			 3);

	assert_int_equal(template_find(t.db, "anniv", 0, &found, &err), 0);
	assert_int_equal(found.version, 3);
	template_info_release(&found);
	assert_int_equal(template_find(t.db, "anniv", 2, &found, &err), 0);
	assert_int_equal(found.version, 2);
	assert_false(found.locked);

	/* locking: the database then refuses changes */
	assert_int_equal(template_lock(t.db, found.id, &err), 0);
	assert_int_equal(template_lock(t.db, found.id, &err), 0);
	assert_int_equal(test_query_int(t.db, "SELECT locked FROM templates "
					      "WHERE version = 2"), 1);
	assert_int_not_equal(sqlite3_exec(db_handle(t.db),
					  "UPDATE templates SET source = 'x' "
					  "WHERE version = 2", NULL, NULL,
					  NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db_handle(t.db),
					  "DELETE FROM template_attachments "
					  "WHERE template_id = (SELECT id FROM "
					  "templates WHERE version = 2)",
					  NULL, NULL, NULL), SQLITE_OK);
	template_info_release(&found);
	assert_int_equal(template_lock(t.db, 999, &err), ERR_NOTFOUND);
	assert_int_equal(template_find(t.db, "anniv", 9, &found, &err),
			 ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "'anniv' version 9"));
	assert_int_equal(template_find(t.db, "nope", 0, &found, &err),
			 ERR_NOTFOUND);
	free(path);
	free(pdf);
	free(part);
	test_db_close(&t);
}

static void test_load_round_trip(void **state)
{
	struct test_db t;
	struct template_info info;
	struct error err = ERROR_INIT;
	struct template *tp = NULL;
	char *path, *att;
	bool unchanged;

	(void)state;
	test_db_open(&t);
	att = test_write_file(t.dir, "Bəyanat.pdf", "%PDF\x01\x02 bytes");
	free(test_write_file(t.dir, "sig.partial", "Sig {{sender.name}}"));
	path = test_write_file(t.dir, "a.tmpl",
			       "Subject: s\nAttach: Bəyanat.pdf\n\n{{> sig}}\n");
	assert_int_equal(template_add(t.db, "x", path, &info, &unchanged,
				      &err), 0);
	assert_int_equal(template_load(t.db, info.id, &tp, &err), 0);
	assert_int_equal(tp->nattachments, 1);
	assert_str(tp->attachments[0].filename, "Bəyanat.pdf");
	assert_str(tp->attachments[0].content_type, "application/pdf");
	assert_int_equal(tp->attachments[0].size, 12);
	assert_memory_equal(tp->attachments[0].content, "%PDF\x01\x02 bytes",
			    12);
	assert_int_equal(tp->npartials, 1);
	assert_str(tp->partial_names[0], "sig");
	template_free(tp);
	template_info_release(&info);
	free(path);
	free(att);
	test_db_close(&t);
}


/* ---- issue 15.6: a template reads files in its own folder only ---- */

/* The files the cases below point at: symlinks out of the folder, a
 * symlinked directory, a FIFO (an open that would block), a directory. */
static void make_hostile_tree(const char *dir)
{
	char *p;

	p = xasprintf("%s/link.pdf", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	p = xasprintf("%s/etc", dir);
	assert_int_equal(symlink("/etc", p), 0);
	free(p);
	p = xasprintf("%s/evil.partial", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	free(p);
	p = xasprintf("%s/up.partial", dir);
	assert_int_equal(symlink("../outside.partial", p), 0);
	free(p);
	p = xasprintf("%s/fifo", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = xasprintf("%s/sub", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
}

static void test_add_refuses_files_outside_the_folder(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"Subject: x\nAttach: /etc/shadow\n\nhi\n",
		 "t.tmpl: Attach: /etc/shadow: an absolute path; a template's "
		 "files must be inside its folder "},
		{"Subject: x\nAttach: /proc/self/environ\n\nhi\n",
		 "Attach: /proc/self/environ: an absolute path"},
		{"Subject: x\nAttach: ../../../etc/shadow\n\nhi\n",
		 "Attach: ../../../etc/shadow: a '..' component"},
		{"Subject: x\nAttach: sub/../../t/x.pdf\n\nhi\n",
		 "Attach: sub/../../t/x.pdf: a '..' component"},
		{"Subject: x\nAttach: link.pdf\n\nhi\n",
		 "Attach: link.pdf: leads outside the template's folder"},
		{"Subject: x\nAttach: link.pdf\n\nhi\n", "(to /etc/passwd)"},
		{"Subject: x\nAttach: etc/passwd\n\nhi\n",
		 "Attach: etc/passwd: leads outside the template's folder"},
		{"Subject: x\n\n{{> evil}}\n",
		 "partial 'evil' (evil.partial): leads outside the template's "
		 "folder"},
		{"Subject: x\n\n{{> up}}\n",
		 "partial 'up' (up.partial): leads outside the template's "
		 "folder"},
		{"Subject: x\nAttach: fifo\n\nhi\n",
		 "Attach: fifo: "},
		{"Subject: x\nAttach: fifo\n\nhi\n", "/fifo: not a regular file"},
		{"Subject: x\nAttach: sub\n\nhi\n", "/sub: not a regular file"},
		{"Subject: x\nAttach: ./\n\nhi\n", "/./: not a regular file"},
	};
	struct test_db t;
	char *dir;

	(void)state;
	test_db_open(&t);
	dir = xasprintf("%s/t", t.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	free(test_write_file(t.dir, "outside.partial", "secret\n"));
	make_hostile_tree(dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct template_info info;
		struct error err = ERROR_INIT;
		char *path = test_write_file(dir, "t.tmpl", cases[i].text);
		bool unchanged;
		int rc = template_add(t.db, "t", path, &info, &unchanged,
				      &err);

		if (rc != ERR_DATA || !strstr(err.msg, cases[i].want) ||
		    strchr(err.msg, '\n'))
			fail_msg("case %zu: got %d '%s', want %d '%s'", i, rc,
				 err.msg, ERR_DATA, cases[i].want);
		assert_nothing_stored(t.db);
		free(path);
	}
	free(dir);
	test_db_close(&t);
}

/* What may be read: a symlink that stays in the folder, a subdirectory,
 * and a template whose folder is itself reached through a symlink. */
static void test_add_follows_symlinks_inside_the_folder(void **state)
{
	struct test_db t;
	struct template_info info;
	struct error err = ERROR_INIT;
	struct template *tp = NULL;
	char *real, *sub, *p, *path;
	bool unchanged;

	(void)state;
	test_db_open(&t);
	real = xasprintf("%s/real", t.dir);
	sub = xasprintf("%s/real/sub", t.dir);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	free(test_write_file(sub, "a.pdf", "%PDF a"));
	free(test_write_file(real, "sig.real", "Sig {{sender.name}}\n"));
	p = xasprintf("%s/sig.partial", real);
	assert_int_equal(symlink("sig.real", p), 0);
	free(p);
	p = xasprintf("%s/b.pdf", real);
	assert_int_equal(symlink("sub/a.pdf", p), 0);
	free(p);
	p = xasprintf("%s/alias", real);
	assert_int_equal(symlink("sub", p), 0);
	free(p);
	p = xasprintf("%s/via", t.dir);
	assert_int_equal(symlink("real", p), 0);
	free(p);
	free(test_write_file(real, "t.tmpl", "Subject: s\nAttach: b.pdf\n"
			     "Attach: alias/a.pdf\nAttach: ./sub//a.pdf\n\n"
			     "{{> sig}}"));
	path = xasprintf("%s/via/t.tmpl", t.dir);
	if (template_add(t.db, "x", path, &info, &unchanged, &err) != 0)
		fail_msg("template_add: %s", err.msg);
	assert_int_equal(template_load(t.db, info.id, &tp, &err), 0);
	assert_int_equal(tp->nattachments, 3);
	for (size_t i = 0; i < 3; i++)
		assert_memory_equal(tp->attachments[i].content, "%PDF a", 6);
	assert_str(tp->attachments[0].filename, "b.pdf");
	assert_str(tp->partial_sources[0], "Sig {{sender.name}}\n");
	template_free(tp);
	template_info_release(&info);
	free(path);
	free(sub);
	free(real);
	test_db_close(&t);
}

/* ---- issue 15.7: a partial fan-out is bounded ---- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* p1 .. p8, each including the next ten times; p8 is leaf. */
static void write_fan_out(const char *dir, const char *leaf)
{
	for (int i = 1; i < 8; i++) {
		char name[32], *text;

		snprintf(name, sizeof(name), "p%d.partial", i);
		text = xasprintf("{{> p%d}}{{> p%d}}{{> p%d}}{{> p%d}}{{> p%d}}"
				 "{{> p%d}}{{> p%d}}{{> p%d}}{{> p%d}}{{> p%d}}\n",
				 i + 1, i + 1, i + 1, i + 1, i + 1, i + 1,
				 i + 1, i + 1, i + 1, i + 1);
		free(test_write_file(dir, name, text));
		free(text);
	}
	free(test_write_file(dir, "p8.partial", leaf));
}

static void test_add_refuses_a_fan_out_fast(void **state)
{
	static const struct {
		const char *leaf;
		size_t max;
		const char *want;
	} cases[] = {
		/* 10^7 inclusions of p8: 100 MB of text */
		{"leaf text\n", TEMPLATE_MESSAGE_MAX_DEFAULT,
		 "f.tmpl: the message would exceed message.max_size (25 MB): "
		 "its text with the partials expanded is 101111112 bytes"},
		/* no text at all, still 10^7 variables to look up */
		{"{{contact.name}}", TEMPLATE_MESSAGE_MAX_DEFAULT,
		 "f.tmpl: its partials expand to more than 1000000 texts and "
		 "tags (a partial fan-out)"},
		/* a lower message.max_size */
		{"leaf text\n", 65536,
		 "exceed message.max_size (64 KB)"},
	};
	struct test_db t;

	(void)state;
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct template_info info;
		struct error err = ERROR_INIT;
		char *path;
		bool unchanged;
		double t0, took;
		int rc;

		write_fan_out(t.dir, cases[i].leaf);
		path = test_write_file(t.dir, "f.tmpl",
				       "Subject: x\n\n{{> p1}}\n");
		t0 = now_seconds();
		rc = template_add_max(t.db, "f", path, cases[i].max, &info,
				      &unchanged, &err);
		took = now_seconds() - t0;
		if (rc != ERR_DATA || !strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc,
				 err.msg, cases[i].want);
		/* A guard against walking the fan-out again (29 s of CPU
		 * did), not a speed target: measuring takes 10 ms here. */
		if (took > 10.0)
			fail_msg("case %zu: took %.3f s: the fan-out was "
				 "walked, not measured", i, took);
		assert_nothing_stored(t.db);
		free(path);
	}
	/* the same partial many times without a fan-out is fine */
	{
		struct template_info info;
		struct error err = ERROR_INIT;
		char *path;
		bool unchanged;

		free(test_write_file(t.dir, "p7.partial", "{{> p8}}{{> p8}}\n"));
		path = test_write_file(t.dir, "f.tmpl",
				       "Subject: x\n\n{{> p7}}{{> p7}}\n");
		if (template_add(t.db, "f", path, &info, &unchanged, &err))
			fail_msg("template_add: %s", err.msg);
		template_info_release(&info);
		free(path);
	}
	test_db_close(&t);
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
static void test_render_limit_is_message_max_size(void **state)
{
	static const struct {
		const char *body;
		const char *want; /* NULL: renders */
	} cases[] = {
		{"Short", NULL},
		{"A body whose name is long enough to pass the limit "
		 "a hundred times over",
		 "rendered message exceeds message.max_size (64 KB)"},
	};
	struct test_db t;
	struct template_info info;
	struct error err = ERROR_INIT;
	struct template *tp = NULL;
	struct conf cfg;
	char *path;
	bool unchanged;

	(void)state;
	test_db_open(&t);
	conf_init(&cfg);
	cfg.message_max_size = 64 * 1024;
	assert_int_equal(template_max_size(&cfg), 64 * 1024);
	assert_int_equal(template_max_size(NULL), TEMPLATE_MESSAGE_MAX_DEFAULT);
	/* 1000 times the body name: 5 KB short, 76 KB long */
	free(test_write_file(t.dir, "n.partial", "{{body.name}}"));
	free(test_write_file(t.dir, "h.partial", "{{> n}}{{> n}}{{> n}}{{> n}}"
			     "{{> n}}{{> n}}{{> n}}{{> n}}{{> n}}{{> n}}"));
	free(test_write_file(t.dir, "k.partial", "{{> h}}{{> h}}{{> h}}{{> h}}"
			     "{{> h}}{{> h}}{{> h}}{{> h}}{{> h}}{{> h}}"));
	path = test_write_file(t.dir, "t.tmpl", "Subject: s\n\n{{> k}}{{> k}}"
			       "{{> k}}{{> k}}{{> k}}{{> k}}{{> k}}{{> k}}"
			       "{{> k}}{{> k}}\n");
	if (template_add_max(t.db, "t", path, 64 * 1024, &info, &unchanged,
			     &err))
		fail_msg("template_add: %s", err.msg);
	assert_int_equal(template_load(t.db, info.id, &tp, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry_body body = {.name = (char *)cases[i].body};
		struct render_context ctx = {.cfg = &cfg, .body = &body,
					     .campaign_name = "c"};
		struct template_output o;
		int rc;

		template_output_init(&o);
		rc = template_render(tp, &ctx, &o, &err);
		if (!cases[i].want && rc != 0)
			fail_msg("case %zu: got %d '%s', want it rendered", i,
				 rc, err.msg);
		if (cases[i].want && (rc != ERR_DATA ||
				      strcmp(err.msg, cases[i].want) != 0))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc,
				 err.msg, cases[i].want);
		if (o.text.len > 64 * 1024)
			fail_msg("case %zu: %zu bytes rendered, over the limit",
				 i, o.text.len);
		template_output_release(&o);
	}
	template_free(tp);
	template_info_release(&info);
	conf_release(&cfg);
	free(path);
	test_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mustache_spec),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_check_names),
		cmocka_unit_test(test_escaping_is_an_option),
		cmocka_unit_test(test_single_line_refuses_line_breaks),
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_add_errors_store_nothing),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_load_round_trip),
		cmocka_unit_test(test_add_refuses_files_outside_the_folder),
		cmocka_unit_test(test_add_follows_symlinks_inside_the_folder),
		cmocka_unit_test(test_add_refuses_a_fan_out_fast),
		cmocka_unit_test(test_render_stops_at_the_budget),
		cmocka_unit_test(test_render_limit_is_message_max_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
