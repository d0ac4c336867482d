/* chancery contact: the e-mail addresses of the registry's bodies. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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
		printf("added contact %s to %s\n", argv[optind + 1],
		       b.acronym ? b.acronym : b.name);
	registry_body_release(&b);
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
	if ((rc = cli_open_db(cli, &r.db)))
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
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_contact(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "contact", contact_cmds, argc - 1, argv + 1);
}
