/*
 * Tests of the template module: the template file format, the
 * versioned storage, the folder a template reads its files from, the
 * size measure and rendering for one addressee (the engine itself is
 * tested in test_mustache.c).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chancery/sbuf.h"
#include "chancery/sha256.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "testutil.h"

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


/* ---- issue 21: language variants ---- */

/* A folder with a French variant (its own partial and PDF) beside the
 * default; the version's hash covers both, and a variant needs a
 * default. */
static void test_variants_versions(void **state)
{
	struct test_db t;
	struct template_info info;
	struct error err = ERROR_INIT;
	struct template *tp = NULL;
	char *en, *fr, *fr2, *dir, v1_sha[65], v2_sha[65];
	bool unchanged;

	(void)state;
	test_db_open(&t);
	en = test_write_file(t.dir, "en.tmpl", "Subject: Statement\n\nText\n");
	dir = xasprintf("%s/fr", t.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	free(test_write_file(dir, "sig.partial", "Le Médiateur\n"));
	free(test_write_file(dir, "fr.pdf", "%PDF français"));
	fr = test_write_file(dir, "fr.tmpl", "Subject: Déclaration\n"
			     "Attach: fr.pdf\n\nTexte\n{{> sig}}\n");

	/* no default yet: refused, nothing stored */
	assert_int_equal(template_add_lang(t.db, "st", fr, "fr",
					   TEMPLATE_MESSAGE_MAX_DEFAULT, &info,
					   &unchanged, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "add the template without --lang"));
	assert_int_equal(count(t.db, "templates"), 0);
	/* not a language tag: refused */
	assert_int_equal(template_add_lang(t.db, "st", fr, "fr_CA",
					   TEMPLATE_MESSAGE_MAX_DEFAULT, &info,
					   &unchanged, &err), ERR_USAGE);
	assert_non_null(strstr(err.msg, "'fr_CA' is not a BCP 47"));

	assert_int_equal(template_add(t.db, "st", en, &info, &unchanged, &err),
			 0);
	snprintf(v1_sha, sizeof(v1_sha), "%s", info.sha256);
	assert_null(info.langs);
	template_info_release(&info);
	/* "FR" is canonicalised: the variant is "fr" */
	assert_int_equal(template_add_lang(t.db, "st", fr, "FR",
					   TEMPLATE_MESSAGE_MAX_DEFAULT, &info,
					   &unchanged, &err), 0);
	assert_false(unchanged);
	assert_int_equal(info.version, 2);
	assert_str(info.langs, "fr");
	assert_int_equal(info.npartials, 1);
	assert_int_equal(info.nattachments, 1);
	assert_string_not_equal(info.sha256, v1_sha);
	snprintf(v2_sha, sizeof(v2_sha), "%s", info.sha256);
	template_info_release(&info);
	/* the same variant again: unchanged */
	assert_int_equal(template_add_lang(t.db, "st", fr, "fr",
					   TEMPLATE_MESSAGE_MAX_DEFAULT, &info,
					   &unchanged, &err), 0);
	assert_true(unchanged);
	assert_int_equal(info.version, 2);
	template_info_release(&info);
	/* the variant's attachment changed: a new version whose hash moves,
	 * keeping the default */
	free(test_write_file(dir, "fr.pdf", "%PDF français v2"));
	assert_int_equal(template_add_lang(t.db, "st", fr, "fr",
					   TEMPLATE_MESSAGE_MAX_DEFAULT, &info,
					   &unchanged, &err), 0);
	assert_int_equal(info.version, 3);
	assert_string_not_equal(info.sha256, v2_sha);
	template_info_release(&info);
	/* a new default keeps the French variant */
	free(test_write_file(t.dir, "en.tmpl", "Subject: Statement\n\nText 2\n"));
	assert_int_equal(template_add(t.db, "st", en, &info, &unchanged, &err),
			 0);
	assert_int_equal(info.version, 4);
	assert_str(info.langs, "fr");
	assert_int_equal(template_load(t.db, info.id, &tp, &err), 0);
	assert_int_equal(tp->nvariants, 1);
	assert_str(tp->variants[0]->lang, "fr");
	assert_int_equal(tp->variants[0]->nattachments, 1);
	assert_str(tp->variants[0]->attachments[0].filename, "fr.pdf");
	assert_memory_equal(tp->variants[0]->attachments[0].content,
			    "%PDF français v2", 17);
	assert_int_equal(tp->variants[0]->npartials, 1);
	assert_int_equal(tp->nattachments, 0);
	template_free(tp);

	/* a second variant; locked versions keep their variants */
	fr2 = test_write_file(t.dir, "ru.tmpl", "Subject: Заявление\n\nТекст\n");
	template_info_release(&info);
	assert_int_equal(template_add_lang(t.db, "st", fr2, "ru",
					   TEMPLATE_MESSAGE_MAX_DEFAULT, &info,
					   &unchanged, &err), 0);
	assert_str(info.langs, "fr,ru");
	assert_int_equal(template_lock(t.db, info.id, &err), 0);
	assert_int_not_equal(sqlite3_exec(db_handle(t.db),
					  "DELETE FROM template_variants WHERE "
					  "lang = 'ru'", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db_handle(t.db),
					  "INSERT INTO template_variants "
					  "(template_id, lang, source) SELECT "
					  "max(id), 'de', 'x' FROM templates",
					  NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM events "
					      "WHERE kind = 'template.added' "
					      "AND json_extract(data, '$.lang') "
					      "= 'fr'"), 2);
	template_info_release(&info);
	free(en);
	free(fr);
	free(fr2);
	free(dir);
	test_db_close(&t);
}

/* The hash of a version with variants is the one template.h defines. */
static void test_variants_hash_defined(void **state)
{
	struct test_db t;
	struct template_info info;
	struct error err = ERROR_INIT;
	char *en, *fr, def[65], frh[65], want[65];
	struct sbuf all = SBUF_INIT;
	bool unchanged;

	(void)state;
	test_db_open(&t);
	en = test_write_file(t.dir, "en.tmpl", "Subject: S\n\nT\n");
	fr = test_write_file(t.dir, "fr.tmpl", "Subject: D\n\nT\n");
	sha256_hex("Subject: S\n\nT\n", 14, def);
	sha256_hex("Subject: D\n\nT\n", 14, frh);
	sbuf_add(&all, def, 64);
	sbuf_add(&all, "\0variant\0fr\0", 12);
	sbuf_add(&all, frh, 64);
	sha256_hex(all.buf, all.len, want);
	assert_int_equal(template_add(t.db, "h", en, &info, &unchanged, &err),
			 0);
	assert_str(info.sha256, def); /* no variants: the digest as before */
	template_info_release(&info);
	assert_int_equal(template_add_lang(t.db, "h", fr, "fr",
					   TEMPLATE_MESSAGE_MAX_DEFAULT, &info,
					   &unchanged, &err), 0);
	assert_str(info.sha256, want);
	template_info_release(&info);
	sbuf_release(&all);
	free(en);
	free(fr);
	test_db_close(&t);
}

/* Which variant a contact gets: the table of issue 21. */
static void test_variants_choice(void **state)
{
	static const struct {
		const char *contact, *body, *campaign, *fallback;
		const char *want_sent; /* the language recorded */
		const char *want_lang; /* ctx->lang: NULL for the default */
		enum template_choice_via via;
		bool exact;
	} cases[] = {
		{"fr", NULL, NULL, NULL, "fr", "fr", TEMPLATE_VIA_CONTACT, true},
		{"FR", NULL, NULL, NULL, "fr", "fr", TEMPLATE_VIA_CONTACT, true},
		/* ICU's parent: fr-CA -> fr, noted as not exact */
		{"fr-CA", NULL, NULL, NULL, "fr", "fr", TEMPLATE_VIA_CONTACT,
		 false},
		{"ru", "fr", "ar", NULL, "ru", "ru", TEMPLATE_VIA_CONTACT, true},
		/* the default variant's own language (language.default) */
		{"en", "fr", NULL, NULL, "en", NULL, TEMPLATE_VIA_CONTACT, true},
		{"en-GB", NULL, NULL, NULL, "en", NULL, TEMPLATE_VIA_CONTACT,
		 false},
		/* no de variant: the body's language, then the campaign's */
		{"de", "fr", "ru", NULL, "fr", "fr", TEMPLATE_VIA_BODY, false},
		{"de", NULL, "ru", NULL, "ru", "ru", TEMPLATE_VIA_CAMPAIGN,
		 false},
		{"de", "it", "ar-EG", NULL, "ar", "ar", TEMPLATE_VIA_CAMPAIGN,
		 false},
		{"de", NULL, NULL, NULL, "en", NULL, TEMPLATE_VIA_DEFAULT, false},
		{NULL, NULL, NULL, NULL, "en", NULL, TEMPLATE_VIA_DEFAULT, false},
		{NULL, "ar", NULL, NULL, "ar", "ar", TEMPLATE_VIA_BODY, false},
		/* language.fallback before the parent, and chained */
		{"de", NULL, "ru", "de=fr", "fr", "fr", TEMPLATE_VIA_CONTACT,
		 false},
		{"de-AT", NULL, NULL, "de=ru", "ru", "ru", TEMPLATE_VIA_CONTACT,
		 false},
		{"fr-CA", NULL, NULL, "fr-CA=ar", "ar", "ar",
		 TEMPLATE_VIA_CONTACT, false},
		/* a map that loops ends, and the chain goes on */
		{"de", NULL, "ru", "de=it, it=de", "ru", "ru",
		 TEMPLATE_VIA_CAMPAIGN, false},
	};
	struct template *t = NULL;
	struct error err = ERROR_INIT;
	const char *langs[] = {"ar", "fr", "ru"};

	(void)state;
	assert_int_equal(template_parse("Subject: en\n\nx\n", &t, &err), 0);
	for (size_t i = 0; i < 3; i++) {
		struct template *v = NULL;
		char src[64];

		snprintf(src, sizeof(src), "Subject: %s\n\nx\n", langs[i]);
		assert_int_equal(template_parse(src, &v, &err), 0);
		v->lang = xstrdup(langs[i]);
		t->variants = xrealloc(t->variants,
				       (t->nvariants + 1) * sizeof(*t->variants));
		t->variants[t->nvariants++] = v;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct template_wanted w = {cases[i].contact, cases[i].body,
					    cases[i].campaign};
		struct template_choice ch;

		template_choose(t, &w, "en", cases[i].fallback, &ch);
		if (strcmp(ch.sent, cases[i].want_sent) != 0 ||
		    ch.via != cases[i].via || ch.exact != cases[i].exact ||
		    (ch.lang == NULL) != (cases[i].want_lang == NULL))
			fail_msg("case %zu (contact %s, body %s, campaign %s, "
				 "fallback %s): got %s via %d exact %d, want "
				 "%s via %d exact %d", i,
				 cases[i].contact ? cases[i].contact : "-",
				 cases[i].body ? cases[i].body : "-",
				 cases[i].campaign ? cases[i].campaign : "-",
				 cases[i].fallback ? cases[i].fallback : "-",
				 ch.sent, ch.via, ch.exact, cases[i].want_sent,
				 cases[i].via, cases[i].exact);
		assert_true(ch.variant == (ch.lang ? template_variant(t, ch.lang)
						   : t));
	}
	template_free(t);
}

static void test_lang_canonical(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: refused */
	} cases[] = {
		{"fr", "fr"},          {"FR-ca", "fr-CA"},
		{"az-latn", "az-Latn"}, {"zh-hant-tw", "zh-Hant-TW"},
		{"fr_CA", NULL},       {"", NULL},
		{"french!", NULL},     {"und", NULL},
		{"fr-", NULL},         {"x-private", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		char *out = NULL;
		int rc = template_lang_canonical(cases[i].in, &out, &err);

		if (cases[i].want ? rc != 0 || strcmp(out, cases[i].want)
				  : rc != ERR_USAGE)
			fail_msg("'%s': got rc %d '%s', want '%s'", cases[i].in,
				 rc, out ? out : "(none)",
				 cases[i].want ? cases[i].want : "(refused)");
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_add_errors_store_nothing),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_load_round_trip),
		cmocka_unit_test(test_add_refuses_files_outside_the_folder),
		cmocka_unit_test(test_add_follows_symlinks_inside_the_folder),
		cmocka_unit_test(test_add_refuses_a_fan_out_fast),
		cmocka_unit_test(test_render_limit_is_message_max_size),
		cmocka_unit_test(test_variants_versions),
		cmocka_unit_test(test_variants_hash_defined),
		cmocka_unit_test(test_variants_choice),
		cmocka_unit_test(test_lang_canonical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
