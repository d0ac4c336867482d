/* chancery body: the addressee bodies of the registry. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/find.h"
#include "chancery/json.h"
#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "chancery/template.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"
#include "commands.h"

static int run_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"acronym", required_argument, NULL, 'a'},
		{"kind", required_argument, NULL, 'k'},
		{"country", required_argument, NULL, 'c'},
		{"notes", required_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	const char *acronym = NULL, *kind = NULL, *country = NULL;
	const char *notes = NULL;
	struct error err = ERROR_INIT;
	struct db *db;
	int64_t id;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "a:k:c:n:", opts)) != -1) {
		switch (c) {
		case 'a': acronym = optarg; break;
		case 'k': kind = optarg; break;
		case 'c': country = optarg; break;
		case 'n': notes = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one NAME");
	if (!kind)
		return cli_bad_usage("--kind is required");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = registry_body_add(db, acronym, argv[optind], kind, country, notes,
			       &id, &err);
	if (rc)
		return cli_fail(rc, &err);
	printf("added body #%lld %s\n", (long long)id,
	       acronym && *acronym ? acronym : argv[optind]);
	return 0;
}

static int add_body_row(const struct registry_body *b, void *arg)
{
	struct table *t = arg;

	table_row(t);
	table_int(t, b->id);
	table_text(t, b->acronym);
	table_text(t, b->name);
	table_text(t, b->kind);
	table_text(t, b->country);
	return 0;
}

static int run_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"kind", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	static const char *const headers[] = {"id", "acronym", "name", "kind",
					      "country"};
	const char *kind = NULL;
	struct error err = ERROR_INIT;
	struct table *t;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "k:", opts)) != -1) {
		if (c != 'k')
			return EX_USAGE;
		kind = optarg;
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if (kind && !registry_kind_valid(kind))
		return cli_bad_usage("unknown kind '%s'", kind);
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	t = table_new(5, headers);
	rc = registry_body_each(db, kind, add_body_row, t, &err);
	return cli_print_listing(cli, t, rc, &err);
}

struct show {
	struct json *js;
	bool text;
};

static int show_alias(const char *alias, void *arg)
{
	struct show *s = arg;

	if (s->text) {
		char *a = utf8_escaped(alias);

		printf("  alias    %s\n", a);
		free(a);
	} else
		json_string(s->js, alias);
	return 0;
}

static int show_contact(const struct registry_contact *c, void *arg)
{
	struct show *s = arg;

	if (s->text) {
		char *email = utf8_escaped(c->email), *name = utf8_escaped(c->name);
		char *reason = utf8_escaped(c->status_reason);

		printf("  contact  %s%s%s%s [%s]%s%s\n", email,
		       name ? " (" : "", name ? name : "", name ? ")" : "",
		       registry_contact_status_name(c->status),
		       reason ? " " : "", reason ? reason : "");
		free(email);
		free(name);
		free(reason);
		return 0;
	}
	json_object_begin(s->js);
	json_kv_string(s->js, "email", c->email);
	json_kv_string(s->js, "name", c->name);
	json_kv_string(s->js, "role", c->role);
	json_kv_string(s->js, "language", c->language);
	json_kv_string(s->js, "status", registry_contact_status_name(c->status));
	json_kv_string(s->js, "reason", c->status_reason);
	json_kv_string(s->js, "notes", c->notes);
	json_object_end(s->js);
	return 0;
}

static int show_json(struct db *db, const struct registry_body *b,
		     struct error *err)
{
	struct sbuf out = SBUF_INIT;
	struct json js;
	struct show s = {&js, false};
	int rc;

	json_init(&js, &out, true);
	json_object_begin(&js);
	json_kv_int(&js, "id", b->id);
	json_kv_string(&js, "acronym", b->acronym);
	json_kv_string(&js, "name", b->name);
	json_kv_string(&js, "kind", b->kind);
	json_kv_string(&js, "country", b->country);
	json_kv_string(&js, "notes", b->notes);
	json_key(&js, "aliases");
	json_array_begin(&js);
	rc = registry_alias_each(db, b->id, show_alias, &s, err);
	json_array_end(&js);
	json_key(&js, "contacts");
	json_array_begin(&js);
	if (!rc)
		rc = registry_contact_each(db, b->id, show_contact, &s, err);
	json_array_end(&js);
	json_object_end(&js);
	if (!rc)
		cli_print_json(&out);
	sbuf_release(&out);
	return rc;
}

/* "  running  fr  le Conseil de sécurité ..." (escaped as names are). */
static int show_running(const char *key, const char *lang, const char *text,
			void *arg)
{
	char *t = utf8_escaped(text);

	(void)key;
	(void)arg;
	printf("  running  %-5s %s\n", lang, t);
	free(t);
	return 0;
}

static int show_text(struct db *db, const struct registry_body *b,
		     struct error *err)
{
	struct show s = {NULL, true};
	/* What the database holds is shown, never obeyed: an escape
	 * sequence in a name comes out as \x1b. */
	char *name = utf8_escaped(b->name), *acronym = utf8_escaped(b->acronym);
	char *kind = utf8_escaped(b->kind), *country = utf8_escaped(b->country);
	char *notes = utf8_escaped(b->notes);
	int rc;

	printf("#%lld %s%s%s%s\n", (long long)b->id, name,
	       acronym ? " (" : "", acronym ? acronym : "",
	       acronym ? ")" : "");
	printf("  kind     %s\n", kind);
	if (country)
		printf("  country  %s\n", country);
	if (notes)
		printf("  notes    %s\n", notes);
	free(name);
	free(acronym);
	free(kind);
	free(country);
	free(notes);
	rc = protocol_running_name_each(db, b->id, show_running, NULL, err);
	if (!rc)
		rc = registry_alias_each(db, b->id, show_alias, &s, err);
	if (!rc)
		rc = registry_contact_each(db, b->id, show_contact, &s, err);
	return rc;
}

/*
 * A name that finds no body: find's best bodies as suggestions, in the
 * one-line error ("no body 'defensor'; did you mean: DPE (Defensor del
 * Pueblo), ..."). Suggesting rather than showing the best match: a
 * command that acts on a body must not act on one it was not given, and
 * show behaves like every other command here.
 */
static void suggest(struct db *db, const char *key, struct error *err)
{
	struct find_result r = {0};
	struct sbuf sb = SBUF_INIT;
	int64_t shown[3];
	size_t n = 0;

	if (find_search(db, key, 0, &r, NULL) || r.n == 0)
		goto out;
	sbuf_addf(&sb, "no body '%s'; did you mean: ", key);
	for (size_t i = 0; i < r.n && n < 3; i++) {
		const struct find_match *m = &r.v[i];
		bool seen = false;

		for (size_t j = 0; j < n; j++)
			seen |= shown[j] == m->body_id;
		if (seen)
			continue;
		sbuf_addf(&sb, "%s%s", n ? ", " : "", m->body);
		if (strcmp(m->body, m->body_name) != 0)
			sbuf_addf(&sb, " (%s)", m->body_name);
		shown[n++] = m->body_id;
	}
	error_set(err, ERR_NOTFOUND, "%s", sb.buf);
out:
	sbuf_release(&sb);
	find_result_release(&r);
}

static int run_show(struct cli *cli, int argc, char **argv)
{
	struct registry_body b = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int rc;

	if (argc != 2)
		return cli_bad_usage("expected one BODY");
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	rc = registry_body_find(db, argv[1], &b, &err);
	if (rc == ERR_NOTFOUND && argv[1][0] != '#')
		suggest(db, argv[1], &err);
	if (!rc)
		rc = cli->json ? show_json(db, &b, &err)
			       : show_text(db, &b, &err);
	registry_body_release(&b);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_alias(struct cli *cli, int argc, char **argv)
{
	struct registry_body b = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int rc;

	if (argc < 3)
		return cli_bad_usage("expected BODY ALIAS...");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	if ((rc = registry_body_find(db, argv[1], &b, &err)))
		return cli_fail(rc, &err);
	/* All or nothing: one transaction around every alias. */
	rc = db_begin(db, &err);
	for (int i = 2; i < argc && !rc; i++)
		rc = registry_alias_add(db, b.id, argv[i], "manual", &err);
	if (!rc)
		rc = db_commit(db, &err);
	else
		db_rollback(db);
	registry_body_release(&b);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_edit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"acronym", required_argument, NULL, 'a'},
		{"name", required_argument, NULL, 'N'},
		{"kind", required_argument, NULL, 'k'},
		{"country", required_argument, NULL, 'c'},
		{"notes", required_argument, NULL, 'n'},
		{"language", required_argument, NULL, 'l'},
		{"running-name", required_argument, NULL, 'R'},
		{"lang", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	const char *v[5] = {NULL}, *running = NULL, *lang = NULL;
	const char *language = NULL;
	char *canon = NULL;
	struct registry_body b = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	bool fields = false;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "a:N:k:c:n:l:R:L:", opts)) != -1) {
		switch (c) {
		case 'a': v[0] = optarg; fields = true; break;
		case 'N': v[1] = optarg; fields = true; break;
		case 'k': v[2] = optarg; fields = true; break;
		case 'c': v[3] = optarg; fields = true; break;
		case 'n': v[4] = optarg; fields = true; break;
		case 'l': language = optarg; break;
		case 'R': running = optarg; break;
		case 'L': lang = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one BODY");
	if (lang && !running)
		return cli_bad_usage("--lang is the language of --running-name");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	/* --language "" clears the body's language */
	if (language && *language &&
	    template_lang_canonical(language, &canon, &err))
		return cli_fail(err.code, &err);
	rc = registry_body_find(db, argv[optind], &b, &err);
	if (!rc)
		rc = db_begin(db, &err);
	if (rc)
		goto out;
	/* nothing asked: the update names what may be given */
	if (fields || (!running && !language))
		rc = registry_body_update(db, b.id, v[0], v[1], v[2], v[3],
					  v[4], &err);
	if (!rc && language)
		rc = registry_body_set_language(db, b.id, canon, &err);
	if (!rc && running)
		rc = protocol_running_name_set(db, b.id, lang, running, NULL,
					       &err);
	if (!rc)
		rc = db_commit(db, &err);
	else
		db_rollback(db);
out:
	registry_body_release(&b);
	free(canon);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_rm(struct cli *cli, int argc, char **argv)
{
	struct registry_body b = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int rc;

	if (argc != 2)
		return cli_bad_usage("expected one BODY");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = registry_body_find(db, argv[1], &b, &err);
	if (!rc)
		rc = registry_body_remove(db, b.id, &err);
	if (!rc) {
		char *name = utf8_escaped(b.name);

		printf("removed body #%lld %s\n", (long long)b.id, name);
		free(name);
	}
	registry_body_release(&b);
	return rc ? cli_fail(rc, &err) : 0;
}

/* A body for history: as BODY finds it, or a removed one by #id. */
static int history_body(struct db *db, const char *key,
			struct registry_body *b, struct error *err)
{
	char *end;
	long long id;

	if (key[0] == '#' && key[1]) {
		id = strtoll(key + 1, &end, 10);
		if (*end == '\0' && id > 0)
			return registry_body_get(db, id, b, err);
	}
	return registry_body_find(db, key, b, err);
}

static int run_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"deliveries", no_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	struct registry_body b = {0};
	struct error err = ERROR_INIT;
	bool deliveries = false;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "D", opts)) != -1) {
		if (c != 'D')
			return EX_USAGE;
		deliveries = true;
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one BODY");
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	if ((rc = history_body(db, argv[optind], &b, &err)))
		return cli_fail(rc, &err);
	rc = cli_print_history(cli, db, b.id, b.merged_into, 0, deliveries);
	registry_body_release(&b);
	return rc;
}

static void merge_line(const char *what, const struct registry_strings *s)
{
	if (!s->n)
		return;
	printf("  %s:", what);
	for (size_t i = 0; i < s->n; i++) {
		char *t = utf8_escaped(s->v[i]);

		printf("%s %s", i ? "," : "", t);
		free(t);
	}
	printf("\n");
}

static void merge_json_list(struct json *js, const char *key,
			    const struct registry_strings *s)
{
	json_key(js, key);
	json_array_begin(js);
	for (size_t i = 0; i < s->n; i++)
		json_string(js, s->v[i]);
	json_array_end(js);
}

static int run_merge(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct registry_body k = {0}, d = {0};
	struct registry_merge m = {0};
	struct error err = ERROR_INIT;
	bool dry_run = false;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "n", opts)) != -1) {
		if (c != 'n')
			return EX_USAGE;
		dry_run = true;
	}
	if (optind + 2 != argc)
		return cli_bad_usage("expected KEEP DROP");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	if ((rc = registry_body_find(db, argv[optind], &k, &err)) ||
	    (rc = registry_body_find(db, argv[optind + 1], &d, &err)) ||
	    (rc = registry_body_merge(db, k.id, d.id, dry_run, &m, &err)))
		goto out;
	if (cli->json) {
		struct sbuf out = SBUF_INIT;
		struct json js;

		json_init(&js, &out, true);
		json_object_begin(&js);
		json_kv_bool(&js, "dry_run", dry_run);
		json_kv_int(&js, "keep_id", k.id);
		json_kv_string(&js, "keep", k.name);
		json_kv_int(&js, "drop_id", d.id);
		json_kv_string(&js, "drop", d.name);
		merge_json_list(&js, "aliases", &m.aliases);
		merge_json_list(&js, "contacts", &m.contacts);
		merge_json_list(&js, "contacts_kept", &m.contacts_kept);
		merge_json_list(&js, "status_kept", &m.status_kept);
		merge_json_list(&js, "lists", &m.lists);
		merge_json_list(&js, "lists_already", &m.lists_already);
		json_object_end(&js);
		cli_print_json(&out);
		sbuf_release(&out);
		goto out;
	}
	printf("%s #%lld into #%lld%s\n",
	       dry_run ? "would merge" : "merged", (long long)d.id,
	       (long long)k.id, dry_run ? " (dry run: nothing changed)" : "");
	merge_line("aliases added", &m.aliases);
	merge_line("contacts moved", &m.contacts);
	merge_line("contacts not duplicated (the body already has them)",
		   &m.contacts_kept);
	merge_line("stricter status kept", &m.status_kept);
	merge_line("list entries moved", &m.lists);
	merge_line("lists that already had it", &m.lists_already);
out:
	registry_merge_release(&m);
	registry_body_release(&k);
	registry_body_release(&d);
	return rc ? cli_fail(rc, &err) : 0;
}

static const struct cli_command body_cmds[] = {
	{"add", run_add, "NAME --kind KIND [--acronym A] [--country CC] "
			 "[--notes TEXT]",
	 "add a body", NULL},
	{"list", run_list, "[--kind KIND]", "list the bodies", NULL},
	{"show", run_show, "BODY", "show a body, its aliases and contacts",
	 "BODY is an acronym, a name, an alias or #ID"},
	{"alias", run_alias, "BODY ALIAS...", "add other names of a body",
	 NULL},
	{"edit", run_edit, "BODY [--acronym A] [--name N] [--kind K] "
			   "[--country CC] [--notes TEXT] [--language L] "
			   "[--running-name TEXT [--lang L]]",
	 "change a body (an empty value clears an optional field)", NULL},
	{"rm", run_rm, "BODY", "remove a body and its contacts (kept for "
			       "the audit)",
	 NULL},
	{"merge", run_merge, "KEEP DROP [--dry-run]",
	 "merge a duplicate body into another (DROP is kept, removed)",
	 "DROP's aliases, name, acronym, contacts and list entries go to "
	 "KEEP"},
	{"history", run_history, "BODY [--deliveries]",
	 "what happened to a body, from the ledger, oldest first",
	 "BODY may be #ID of a removed body; --deliveries also lists the "
	 "delivery events"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_body(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "body", body_cmds, argc - 1, argv + 1);
}
