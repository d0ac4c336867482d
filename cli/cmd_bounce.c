/*
 * chancery bounce: read delivery reports (one on stdin, as an MTA alias
 * pipes it, or every new message of a Maildir), list the quarantine and
 * confirm a quarantined report by hand.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/bounce.h"
#include "chancery/bounce_report.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/xalloc.h"
#include "commands.h"

static void print_note(const char *line, void *arg)
{
	(void)arg;
	printf("%s\n", line);
}

static void print_json(const char *source, const struct bounce_result *res)
{
	struct sbuf out = SBUF_INIT;
	struct json js;

	json_init(&js, &out, false);
	json_object_begin(&js);
	json_kv_string(&js, "source", source);
	json_kv_int(&js, "report", res->report_id);
	json_kv_bool(&js, "duplicate", res->duplicate);
	json_kv_int(&js, "bounced", res->bounced);
	json_kv_int(&js, "delivered", res->delivered);
	json_kv_int(&js, "delayed", res->delayed);
	json_kv_int(&js, "unchanged", res->unchanged);
	json_kv_int(&js, "quarantined", res->quarantined);
	json_kv_int(&js, "contacts_bouncing", res->contacts_bouncing);
	json_object_end(&js);
	cli_print_json(&out);
	sbuf_release(&out);
}

/* Parses and processes one report; err names the source on failure. */
static int read_one(struct cli *cli, const char *source, const char *data,
		    size_t len, struct error *err)
{
	struct bounce_report *r = NULL;
	struct bounce_result res;
	const struct conf *cfg;
	struct db *db;
	int rc = bounce_report_parse(data, len, &r, err);

	if (!rc)
		rc = cli_db(cli, &db, err);
	if (!rc && !(cfg = cli_config(cli, err)))
		rc = err->code;
	if (!rc)
		rc = bounce_process(db, r, data, len, cfg->bounce_threshold, &res,
				    cli->json ? NULL : print_note, NULL, err);
	if (rc)
		error_prefix(err, "%s", source);
	else if (cli->json)
		print_json(source, &res);
	bounce_report_free(r);
	return rc;
}

static int read_stdin(struct cli *cli)
{
	struct error err = ERROR_INIT;
	struct sbuf in = SBUF_INIT;
	int rc = sbuf_read_file(&in, "-", BOUNCE_MAX_SIZE, &err);

	if (!rc)
		rc = read_one(cli, "standard input", in.buf, in.len, &err);
	sbuf_release(&in);
	return rc ? cli_fail(rc, &err) : 0;
}

/* new/NAME → cur/NAME:2,S once the report is in the database; a crash in
 * between only means the next run sees a duplicate and moves it. */
static int move_to_cur(const char *dir, const char *name, struct error *err)
{
	char *from = xasprintf("%s/new/%s", dir, name);
	char *to = xasprintf("%s/cur/%s%s", dir, name,
			     strstr(name, ":2,") ? "" : ":2,S");
	int rc = 0;

	if (rename(from, to) != 0)
		rc = error_set_errno(err, ERR_IO, "cannot move %s to %s", from,
				     to);
	free(from);
	free(to);
	return rc;
}

static int read_entry(struct cli *cli, const char *dir, const char *name,
		      struct error *err)
{
	char *path = xasprintf("%s/new/%s", dir, name);
	struct sbuf in = SBUF_INIT;
	int rc = sbuf_read_file(&in, path, BOUNCE_MAX_SIZE, err);

	if (!cli->json && !rc)
		printf("%s:\n", path);
	if (!rc)
		rc = read_one(cli, path, in.buf, in.len, err);
	if (!rc)
		rc = move_to_cur(dir, name, err);
	sbuf_release(&in);
	free(path);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in DIR/new, sorted (Maildir names start with the time). */
static int list_new(const char *dir, char ***names, size_t *n,
		    struct error *err)
{
	char *path = xasprintf("%s/new", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	size_t alloc = 0;
	struct stat st;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		rc = error_set_errno(err, ERR_NOINPUT,
				     "%s: not a Maildir (no new/)", dir);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		xgrow(names, sizeof(**names), *n + 1, &alloc);
		(*names)[(*n)++] = xstrdup(e->d_name);
	}
	if (d)
		closedir(d);
	free(path);
	path = xasprintf("%s/cur", dir);
	if (!rc && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
		rc = error_set(err, ERR_NOINPUT, "%s: not a Maildir (no cur/)",
			       dir);
	free(path);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return rc;
}

/* Every message in new/: a report that cannot be read stays there (and
 * is named on stderr) while the others go on; the exit status is that of
 * the last failure. */
static int read_maildir(struct cli *cli, const char *dir)
{
	struct error err = ERROR_INIT;
	char **names = NULL;
	size_t n = 0, done = 0;
	int rc = list_new(dir, &names, &n, &err), status = 0;

	if (rc)
		status = cli_fail(rc, &err);
	for (size_t i = 0; i < n; i++) {
		error_clear(&err);
		rc = read_entry(cli, dir, names[i], &err);
		if (rc)
			status = cli_fail(rc, &err);
		else
			done++;
		free(names[i]);
	}
	free(names);
	if (!cli->json)
		printf("%zu of %zu reports read from %s\n", done, n, dir);
	return status;
}

static int run_read(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"maildir", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	const char *maildir = NULL;
	int c;

	while ((c = cli_getopt(argc, argv, "m:", opts)) != -1) {
		if (c != 'm')
			return EX_USAGE;
		maildir = optarg;
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	return maildir ? read_maildir(cli, maildir) : read_stdin(cli);
}

static int add_row(const struct bounce_quarantined *q, void *arg)
{
	struct table *t = arg;
	char when[32];

	clock_format_utc(q->created_at, when, sizeof(when));
	table_row(t);
	table_int(t, q->id);
	table_int(t, q->report_id);
	table_text(t, when);
	table_text(t, q->format);
	table_text(t, q->action);
	table_text(t, q->recipient);
	table_text(t, q->status);
	table_text(t, q->envid);
	table_text(t, q->original_message_id);
	if (q->delivery_id)
		table_int(t, q->delivery_id);
	else
		table_null(t);
	table_text(t, q->reason);
	if (q->confirmed_by) {
		clock_format_utc(q->confirmed_at, when, sizeof(when));
		table_text(t, when);
	} else {
		table_null(t);
	}
	table_text(t, q->confirmed_by);
	return 0;
}

static int run_list(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {
		"id", "report", "received", "format", "action", "recipient",
		"status", "envid", "message_id", "delivery", "reason",
		"confirmed", "confirmed_by",
	};
	struct error err = ERROR_INIT;
	struct table *t;
	struct db *db;
	int rc;

	if (argc > 1)
		return cli_bad_usage("unexpected argument '%s'", argv[1]);
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	t = table_new(sizeof(headers) / sizeof(headers[0]), headers);
	rc = bounce_quarantine_each(db, add_row, t, &err);
	return cli_print_listing(cli, t, rc, &err);
}

/* Who confirms: the name of the effective user (a number when the
 * password database has none). Caller frees. */
static char *actor_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw && pw->pw_name && *pw->pw_name)
		return xstrdup(pw->pw_name);
	return xasprintf("uid %lld", (long long)geteuid());
}

static int run_confirm(struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct bounce_result res;
	const struct conf *cfg;
	struct db *db;
	char *end = NULL, *actor = NULL;
	long long id;
	int rc;

	if (argc != 2)
		return cli_bad_usage("expected one quarantine ID");
	errno = 0;
	id = strtoll(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || id < 1)
		return cli_bad_usage("bad quarantine ID '%s'", argv[1]);
	rc = cli_db(cli, &db, &err);
	if (!rc && !(cfg = cli_config(cli, &err)))
		rc = err.code;
	if (!rc) {
		actor = actor_name();
		rc = bounce_confirm(db, id, actor, cfg->bounce_threshold, &res,
				    cli->json ? NULL : print_note, NULL, &err);
	}
	if (!rc && cli->json)
		print_json("quarantine", &res);
	else if (!rc)
		printf("quarantined report #%lld confirmed by %s\n", id, actor);
	free(actor);
	return rc ? cli_fail(rc, &err) : 0;
}

static const struct cli_command read_cmd[] = {
	{"bounce", run_read, "[--maildir DIR] | list | confirm ID",
	 "read delivery reports: one message on stdin, or every message in "
	 "DIR/new (moved to DIR/cur with the S flag once recorded)",
	 "  --maildir DIR   read DIR/new instead of stdin\n"
	 "  list            show the quarantined reports (see 'bounce list "
	 "--help')\n"
	 "  confirm ID      apply quarantined report ID to the delivery it "
	 "matched\n"},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct cli_command bounce_cmds[] = {
	{"list", run_list, "",
	 "list the quarantine: reports that matched no delivery, or only by "
	 "what anyone could write",
	 NULL},
	{"confirm", run_confirm, "ID",
	 "apply quarantined report ID to the delivery it matched, as checked "
	 "by hand (recorded with your user name)",
	 NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_bounce(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && argv[1][0] != '-')
		return cli_dispatch(cli, "bounce", bounce_cmds, argc - 1,
				    argv + 1);
	return cli_dispatch(cli, NULL, read_cmd, argc, argv);
}
