/* chancery contact: the e-mail addresses of the registry's bodies. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "commands.h"

static int run_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"language", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	const char *name = NULL, *role = NULL, *language = NULL;
	struct registry_body b = {0};
	struct registry_contact ct = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int64_t id = 0;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "n:r:l:", opts)) != -1) {
		switch (c) {
		case 'n': name = optarg; break;
		case 'r': role = optarg; break;
		case 'l': language = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 2 != argc)
		return cli_bad_usage("expected BODY EMAIL");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = registry_body_find(db, argv[optind], &b, &err);
	if (!rc)
		rc = registry_contact_add(db, b.id, argv[optind + 1], name,
					  role, language, &id, &err);
	if (!rc)
		rc = registry_contact_get(db, id, &ct, &err);
	if (!rc)
		printf("added contact %s to %s\n", ct.email,
		       b.acronym ? b.acronym : b.name);
	registry_body_release(&b);
	registry_contact_release(&ct);
	return rc ? cli_fail(rc, &err) : 0;
}

struct rows {
	struct db *db;
	struct table *t;
	const char *status; /* filter, or NULL */
	struct error *err;
};

static int add_contact_row(const struct registry_contact *c, void *arg)
{
	struct rows *r = arg;
	struct registry_body b = {0};
	const char *status = registry_contact_status_name(c->status);
	int rc;

	if (r->status && strcmp(r->status, status) != 0)
		return 0;
	if ((rc = registry_body_get(r->db, c->body_id, &b, r->err)))
		return rc;
	table_row(r->t);
	table_text(r->t, b.acronym ? b.acronym : b.name);
	table_text(r->t, c->email);
	table_text(r->t, c->name);
	table_text(r->t, c->role);
	table_text(r->t, c->language);
	table_text(r->t, status);
	table_text(r->t, c->status_reason);
	registry_body_release(&b);
	return 0;
}

static int run_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"status", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	static const char *const headers[] = {"body", "email", "name", "role",
					      "language", "status", "reason"};
	struct registry_body b = {0};
	enum registry_contact_status unused;
	struct error err = ERROR_INIT;
	struct rows r = {.err = &err};
	int c, rc;

	while ((c = cli_getopt(argc, argv, "s:", opts)) != -1) {
		if (c != 's')
			return EX_USAGE;
		r.status = optarg;
	}
	if (r.status && registry_contact_status_parse(r.status, &unused))
		return cli_bad_usage("unknown status '%s' (active, disabled, "
				     "bouncing, suppressed)",
				     r.status);
	if (argc - optind > 1)
		return cli_bad_usage("expected at most one BODY");
	if ((rc = cli_open_db_readonly(cli, &r.db)))
		return rc;
	if (optind < argc &&
	    (rc = registry_body_find(r.db, argv[optind], &b, &err)))
		return cli_fail(rc, &err);
	r.t = table_new(7, headers);
	rc = registry_contact_each(r.db, b.id, add_contact_row, &r, &err);
	registry_body_release(&b);
	return cli_print_listing(cli, r.t, rc, &err);
}

/* disable | enable | suppress | rm EMAIL [--body BODY] [--reason TEXT] */
static int change(struct cli *cli, int argc, char **argv,
		  enum registry_contact_status status, bool remove)
{
	static const struct option opts[] = {
		{"body", required_argument, NULL, 'b'},
		{"reason", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	const char *body = NULL, *reason = NULL;
	struct registry_body b = {0};
	struct registry_contact ct = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "b:r:", opts)) != -1) {
		switch (c) {
		case 'b': body = optarg; break;
		case 'r': reason = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one EMAIL");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	if (body && (rc = registry_body_find(db, body, &b, &err)))
		goto out;
	if ((rc = registry_contact_find(db, b.id, argv[optind], &ct, &err)))
		goto out;
	if (remove)
		rc = registry_contact_remove(db, ct.id, &err);
	else
		rc = registry_contact_set_status(db, ct.id, status,
						 reason ? reason : "by hand",
						 &err);
	if (!rc)
		printf("%s: %s\n", ct.email,
		       remove ? "removed" : registry_contact_status_name(status));
out:
	registry_body_release(&b);
	registry_contact_release(&ct);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_disable(struct cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, CONTACT_DISABLED, false);
}

static int run_enable(struct cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, CONTACT_ACTIVE, false);
}

static int run_suppress(struct cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, CONTACT_SUPPRESSED, false);
}

static int run_rm(struct cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, CONTACT_ACTIVE, true);
}

/* edit EMAIL [--body B] [--email NEW] [--name N] [--role R] ... */
static int run_edit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"body", required_argument, NULL, 'b'},
		{"email", required_argument, NULL, 'e'},
		{"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"language", required_argument, NULL, 'l'},
		{"notes", required_argument, NULL, 'N'},
		{"salutation", required_argument, NULL, 'S'},
		{"lang", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	struct registry_contact_edit edit = {0};
	const char *body = NULL, *salutation = NULL, *lang = NULL;
	bool greeted = false;
	struct registry_body b = {0};
	struct registry_contact ct = {0}, now = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int c, rc, changed = 0;

	while ((c = cli_getopt(argc, argv, "b:e:n:r:l:N:S:L:", opts)) != -1) {
		switch (c) {
		case 'b': body = optarg; break;
		case 'e': edit.email = optarg; break;
		case 'n': edit.name = optarg; break;
		case 'r': edit.role = optarg; break;
		case 'l': edit.language = optarg; break;
		case 'N': edit.notes = optarg; break;
		case 'S': salutation = optarg; break;
		case 'L': lang = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one EMAIL");
	if (lang && !salutation)
		return cli_bad_usage("--lang is the language of --salutation");
	if (!edit.email && !edit.name && !edit.role && !edit.language &&
	    !edit.notes && !salutation)
		return cli_bad_usage("nothing to change (give --email, --name, "
				     "--role, --language, --notes or "
				     "--salutation)");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	if (body && (rc = registry_body_find(db, body, &b, &err)))
		goto out;
	if ((rc = registry_contact_find_one(db, b.id, argv[optind], &ct,
					    &err)) ||
	    (rc = db_begin(db, &err)))
		goto out;
	rc = registry_contact_update(db, ct.id, &edit, &changed, &err);
	if (!rc && salutation)
		rc = protocol_salutation_set(db, ct.id, lang, salutation,
					     &greeted, &err);
	if (!rc)
		rc = db_commit(db, &err);
	else
		db_rollback(db);
	if (rc)
		goto out;
	changed += greeted;
	if (changed == 0) {
		printf("%s: nothing changed\n", ct.email);
		goto out;
	}
	if ((rc = registry_contact_get(db, ct.id, &now, &err)))
		goto out;
	if (strcmp(now.email, ct.email) != 0)
		printf("%s: now %s (%d field%s changed)\n", ct.email,
		       now.email, changed, changed == 1 ? "" : "s");
	else
		printf("%s: %d field%s changed\n", ct.email, changed,
		       changed == 1 ? "" : "s");
out:
	registry_body_release(&b);
	registry_contact_release(&ct);
	registry_contact_release(&now);
	return rc ? cli_fail(rc, &err) : 0;
}

/* history EMAIL [--body B] [--deliveries] */
static int run_history(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"body", required_argument, NULL, 'b'},
		{"deliveries", no_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	const char *body = NULL;
	bool deliveries = false;
	struct registry_body b = {0};
	struct registry_contact ct = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "b:D", opts)) != -1) {
		switch (c) {
		case 'b': body = optarg; break;
		case 'D': deliveries = true; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one EMAIL");
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	if ((body && (rc = registry_body_find(db, body, &b, &err))) ||
	    (rc = registry_contact_find_one(db, b.id, argv[optind], &ct,
					    &err))) {
		rc = cli_fail(rc, &err);
		goto out;
	}
	rc = cli_print_history(cli, db, 0, 0, ct.id, deliveries);
out:
	registry_body_release(&b);
	registry_contact_release(&ct);
	return rc;
}

static const struct cli_command contact_cmds[] = {
	{"add", run_add, "BODY EMAIL [--name N] [--role R] [--language L]",
	 "add an e-mail contact to a body", NULL},
	{"list", run_list, "[BODY] [--status S]", "list contacts", NULL},
	{"disable", run_disable, "EMAIL [--body BODY] [--reason TEXT]",
	 "stop sending to a contact", NULL},
	{"enable", run_enable, "EMAIL [--body BODY]",
	 "send to a contact again (also after bouncing)", NULL},
	{"suppress", run_suppress, "EMAIL [--body BODY] [--reason TEXT]",
	 "never send to a contact (the body asked)", NULL},
	{"rm", run_rm, "EMAIL [--body BODY]", "remove a contact", NULL},
	{"edit", run_edit, "EMAIL [--body BODY] [--email NEW] [--name N] "
			   "[--role R] [--language L] [--notes TEXT] "
			   "[--salutation TEXT [--lang L]]",
	 "change a contact in place (its history stays)",
	 "an empty value clears an optional field; --body picks the contact "
	 "when several bodies have the address"},
	{"history", run_history, "EMAIL [--body BODY] [--deliveries]",
	 "what happened to a contact, from the ledger, oldest first",
	 "--deliveries also lists the delivery events"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_contact(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "contact", contact_cmds, argc - 1, argv + 1);
}
