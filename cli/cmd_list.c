/* chancery list: named addressee lists (static, or rules over kinds). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chancery/campaign.h"
#include "chancery/list.h"
#include "commands.h"

static int run_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"rule", no_argument, NULL, 'r'},
		{"description", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	enum list_kind kind = LIST_STATIC;
	const char *description = NULL;
	struct error err = ERROR_INIT;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "rd:", opts)) != -1) {
		switch (c) {
		case 'r': kind = LIST_RULE; break;
		case 'd': description = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one NAME");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = list_create(db, argv[optind], kind, description, NULL, &err);
	if (rc)
		return cli_fail(rc, &err);
	printf("created %s list %s\n", kind == LIST_RULE ? "rule" : "static",
	       argv[optind]);
	return 0;
}

/*
 * Whether the list call just made changed the list: each one ends, when
 * it changes something, with the UPDATE that touches the list (one row),
 * and otherwise with an INSERT OR IGNORE that changed none (list.c).
 */
static bool list_touched(struct db *db)
{
	return db_changes(db) > 0;
}

/* Voids the approvals the change of list l undoes, inside the command's
 * transaction, and says so on stdout. */
static int void_approvals(struct db *db, int64_t list_id, struct sbuf *said,
			  struct error *err)
{
	return campaign_list_changed(db, list_id, said, err);
}

/* Adds (or removes) bodies, and with --list member lists, to LIST. */
static int change_members(struct cli *cli, int argc, char **argv, bool add)
{
	static const struct option opts[] = {
		{"list", no_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	struct list_info l = {0};
	struct error err = ERROR_INIT;
	struct sbuf voided = SBUF_INIT;
	bool lists = false, changed = false;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "l", opts)) != -1) {
		if (c != 'l')
			return EX_USAGE;
		lists = true;
	}
	if (argc - optind < 2)
		return cli_bad_usage("expected LIST MEMBER...");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	if ((rc = list_find(db, argv[optind], &l, &err)) ||
	    (rc = db_begin(db, &err)))
		goto out;
	for (int i = optind + 1; i < argc && !rc; i++) {
		if (lists) {
			struct list_info m = {0};

			rc = list_find(db, argv[i], &m, &err);
			if (!rc)
				rc = add ? list_add_list(db, l.id, m.id, &err)
					 : list_remove_list(db, l.id, m.id, &err);
			list_info_release(&m);
		} else {
			struct registry_body b = {0};

			rc = registry_body_find(db, argv[i], &b, &err);
			if (!rc)
				rc = add ? list_add_body(db, l.id, b.id, &err)
					 : list_remove_body(db, l.id, b.id, &err);
			registry_body_release(&b);
		}
		changed = changed || (!rc && list_touched(db));
	}
	if (!rc && changed)
		rc = void_approvals(db, l.id, &voided, &err);
	if (!rc)
		rc = db_commit(db, &err);
	else
		db_rollback(db);
	if (!rc)
		fwrite(voided.buf, 1, voided.len, stdout);
out:
	sbuf_release(&voided);
	list_info_release(&l);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_add(struct cli *cli, int argc, char **argv)
{
	return change_members(cli, argc, argv, true);
}

static int run_rm(struct cli *cli, int argc, char **argv)
{
	return change_members(cli, argc, argv, false);
}

static int run_rule(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"country", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	const char *country = NULL;
	struct sbuf voided = SBUF_INIT;
	struct list_info l = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "c:", opts)) != -1) {
		if (c != 'c')
			return EX_USAGE;
		country = optarg;
	}
	if (optind + 2 != argc)
		return cli_bad_usage("expected LIST KIND");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = list_find(db, argv[optind], &l, &err);
	if (!rc && (rc = db_begin(db, &err)) == 0) {
		rc = list_add_rule(db, l.id, argv[optind + 1], country, &err);
		if (!rc && list_touched(db))
			rc = void_approvals(db, l.id, &voided, &err);
		if (!rc)
			rc = db_commit(db, &err);
		else
			db_rollback(db);
	}
	if (!rc)
		fwrite(voided.buf, 1, voided.len, stdout);
	sbuf_release(&voided);
	list_info_release(&l);
	return rc ? cli_fail(rc, &err) : 0;
}

/* What a row callback of show and ls needs beside the row. */
struct rows {
	struct db *db;
	struct table *t;
	struct error *err;
};

static int count_contact(const struct registry_contact *c, void *arg)
{
	int *n = arg;

	(*n) += c->status == CONTACT_ACTIVE;
	return 0;
}

static int add_member_row(const struct registry_body *b, void *arg)
{
	struct rows *s = arg;
	int active = 0;
	int rc = registry_contact_each(s->db, b->id, count_contact, &active,
				       s->err);

	if (rc)
		return rc;
	table_row(s->t);
	table_text(s->t, b->acronym);
	table_text(s->t, b->name);
	table_text(s->t, b->kind);
	table_int(s->t, active);
	return 0;
}

static int run_show(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {"acronym", "name", "kind",
					      "active_contacts"};
	struct list_info l = {0};
	struct error err = ERROR_INIT;
	struct rows s = {.err = &err};
	int rc;

	if (argc != 2)
		return cli_bad_usage("expected one LIST");
	if ((rc = cli_open_db_readonly(cli, &s.db)))
		return rc;
	if ((rc = list_find(s.db, argv[1], &l, &err)))
		return cli_fail(rc, &err);
	s.t = table_new(4, headers);
	rc = list_each_body(s.db, l.id, add_member_row, &s, &err);
	list_info_release(&l);
	return cli_print_listing(cli, s.t, rc, &err);
}

static int add_list_row(const struct list_info *l, void *arg)
{
	struct rows *s = arg;
	int bodies = 0, contacts = 0;
	int rc = list_count(s->db, l->id, &bodies, &contacts, s->err);

	if (rc)
		return rc;
	table_row(s->t);
	table_text(s->t, l->name);
	table_text(s->t, l->kind == LIST_RULE ? "rule" : "static");
	table_int(s->t, bodies);
	table_int(s->t, contacts);
	table_text(s->t, l->description);
	return 0;
}

static int run_ls(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {"name", "kind", "bodies",
					      "contacts", "description"};
	struct error err = ERROR_INIT;
	struct rows s = {.err = &err};
	int rc;

	(void)argv;
	if (argc != 1)
		return cli_bad_usage("unexpected argument '%s'", argv[1]);
	if ((rc = cli_open_db_readonly(cli, &s.db)))
		return rc;
	s.t = table_new(5, headers);
	rc = list_each(s.db, add_list_row, &s, &err);
	return cli_print_listing(cli, s.t, rc, &err);
}

static int run_delete(struct cli *cli, int argc, char **argv)
{
	struct list_info l = {0};
	struct error err = ERROR_INIT;
	struct db *db;
	int rc;

	if (argc != 2)
		return cli_bad_usage("expected one LIST");
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	rc = list_find(db, argv[1], &l, &err);
	if (!rc)
		rc = list_delete(db, l.id, &err);
	if (!rc)
		printf("deleted list %s\n", l.name);
	list_info_release(&l);
	return rc ? cli_fail(rc, &err) : 0;
}

static const struct cli_command list_cmds[] = {
	{"create", run_create, "NAME [--rule] [--description TEXT]",
	 "create a static list (or, with --rule, a rule list)", NULL},
	{"add", run_add, "LIST BODY... | LIST --list SUBLIST...",
	 "add bodies (or other lists) to a static list, in order", NULL},
	{"rm", run_rm, "LIST BODY... | LIST --list SUBLIST...",
	 "remove members from a static list", NULL},
	{"rule", run_rule, "LIST KIND [--country CC]",
	 "make a rule list take every body of KIND (in country CC)", NULL},
	{"show", run_show, "LIST", "the bodies a list expands to", NULL},
	{"ls", run_ls, "", "every list with its size", NULL},
	{"delete", run_delete, "LIST", "delete a list no campaign uses",
	 NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_list(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "list", list_cmds, argc - 1, argv + 1);
}
