/*
 * chancery inbox (and its older name, chancery bounce): keep and read
 * everything that comes back (one message on stdin, as an MTA alias
 * pipes it, or every new message of a Maildir; inbox.h), list what was
 * kept and the quarantine, and confirm a quarantined report by hand.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/bounce.h"
#include "chancery/bounce_report.h"
#include "chancery/clock.h"
#include "chancery/imap.h"
#include "chancery/inbox.h"
#include "chancery/json.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"
#include "commands.h"

/* What one message did, gathered for its one output line. */
struct outcome {
	struct sbuf notes;
};

static void gather_note(const char *line, void *arg)
{
	struct outcome *o = arg;

	sbuf_addstr(&o->notes, o->notes.len ? "; " : "");
	sbuf_addstr(&o->notes, line);
}

/* One message's JSON object, added to out with its newline. */
static void add_json(struct sbuf *out, const char *source, const char *origin,
		     const struct inbox_result *res)
{
	const struct bounce_result *b = &res->bounce;
	struct json js;

	json_init(&js, out, false);
	json_object_begin(&js);
	json_kv_string(&js, "source", source);
	if (origin)
		json_kv_string(&js, "origin", origin);
	json_kv_int(&js, "inbound", res->inbound_id);
	json_kv_bool(&js, "duplicate", res->duplicate);
	json_kv_string(&js, "kind", res->kind);
	if (res->format[0])
		json_kv_string(&js, "format", res->format);
	if (res->delivery_id)
		json_kv_int(&js, "delivery", res->delivery_id);
	if (res->reason[0])
		json_kv_string(&js, "reason", res->reason);
	json_kv_int(&js, "report", b->report_id);
	json_kv_int(&js, "bounced", b->bounced);
	if (b->klass)
		json_kv_string(&js, "class", b->klass);
	json_kv_int(&js, "delivered", b->delivered);
	json_kv_int(&js, "delayed", b->delayed);
	json_kv_int(&js, "unchanged", b->unchanged);
	json_kv_int(&js, "quarantined", b->quarantined);
	json_kv_int(&js, "contacts_bouncing", b->contacts_bouncing);
	json_kv_int(&js, "relay_blocked", b->blocked);
	json_object_end(&js);
	if (!out->len || out->buf[out->len - 1] != '\n')
		sbuf_addch(out, '\n');
}

/* The one line of a message: what it was read as and what changed. The
 * reason and the notes quote the message (its Subject, a diagnostic), the
 * name is a file's: each is shown escaped (utf8_escape_terminal). */
static void add_line(struct sbuf *out, const char *name,
		     const struct inbox_result *res, const struct outcome *o)
{
	utf8_escape_terminal(out, name);
	sbuf_addf(out, ": %s%s%s (inbound #%lld)", res->kind,
		  res->format[0] ? " " : "", res->format,
		  (long long)res->inbound_id);
	if (res->duplicate) {
		sbuf_addstr(out, ": read before, nothing changed\n");
		return;
	}
	sbuf_addstr(out, ": ");
	if (o->notes.len) {
		utf8_escape_terminal(out, o->notes.buf);
	} else if (res->delivery_id) {
		sbuf_addf(out, "delivery %lld%s", (long long)res->delivery_id,
			  res->reason[0] ? ": " : "");
		utf8_escape_terminal(out, res->reason);
	} else {
		utf8_escape_terminal(out, res->reason[0] ? res->reason
							 : "kept");
	}
	sbuf_addch(out, '\n');
}

/* Keeps and reads one message, adding its line (or JSON object) to out;
 * non-zero only when the database fails (err then names the source). */
static int take_one(struct cli *cli, const struct inbox_message *m,
		    const char *name, struct sbuf *out, struct error *err)
{
	struct outcome o = {SBUF_INIT};
	struct inbox_result res;
	const struct conf *cfg;
	struct db *db;
	int rc = cli_db(cli, &db, err);

	if (!rc && !(cfg = cli_config(cli, err)))
		rc = err->code;
	if (!rc)
		rc = inbox_take(db, cfg, m, &res, gather_note, &o, err);
	if (rc)
		error_prefix(err, "%s", name);
	else if (cli->json)
		add_json(out, inbox_source_name(m->source), m->origin, &res);
	else
		add_line(out, name, &res, &o);
	sbuf_release(&o.notes);
	return rc;
}

/* The envelope recipient of a message on stdin: --envelope-to, else what
 * Postfix's local(8) and pipe(8) set. */
static const char *stdin_envelope(const char *given)
{
	static const char *const vars[] = {"ORIGINAL_RECIPIENT", "RECIPIENT"};

	if (given)
		return given;
	for (size_t i = 0; i < 2; i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return v;
	}
	return NULL;
}

static int read_stdin(struct cli *cli, const char *envelope_to)
{
	struct error err = ERROR_INIT;
	struct sbuf in = SBUF_INIT, out = SBUF_INIT;
	int rc = sbuf_read_file(&in, "-", INBOX_MAX_SIZE, &err);
	struct inbox_message m = {INBOX_STDIN, NULL,
				  stdin_envelope(envelope_to), in.buf, in.len};

	if (!rc)
		rc = take_one(cli, &m, "standard input", &out, &err);
	fwrite(out.buf, 1, out.len, stdout);
	sbuf_release(&in);
	sbuf_release(&out);
	return rc ? cli_fail(rc, &err) : 0;
}

/* A Maildir run's lines, printed once their batch is committed. */
struct maildir_read {
	struct cli *cli;
	struct sbuf out;
	int status;
};

static void maildir_taken(const char *name, const char *path,
			  const struct inbox_result *res, const char *notes,
			  void *arg)
{
	struct maildir_read *r = arg;
	struct outcome o = {SBUF_INIT};

	if (r->cli->json) {
		add_json(&r->out, "maildir", name, res);
	} else {
		sbuf_addstr(&o.notes, notes);
		add_line(&r->out, path, res, &o);
		sbuf_release(&o.notes);
	}
}

static void maildir_batch_done(bool ok, void *arg)
{
	struct maildir_read *r = arg;

	if (ok)
		fwrite(r->out.buf, 1, r->out.len, stdout);
	sbuf_reset(&r->out);
}

static void maildir_failed(const struct error *why, void *arg)
{
	struct maildir_read *r = arg;

	r->status = cli_fail(why->code, why);
}

/*
 * Every message in new/, each kept whatever it holds and moved to cur/
 * once its batch is committed (inbox_read_maildir). A file that cannot be
 * read stays (named on stderr) and the others go on; a failing database
 * stops the run. The exit status is that of the last failure.
 */
static int read_maildir(struct cli *cli, const char *dir,
			const char *envelope_to)
{
	struct error err = ERROR_INIT;
	struct maildir_read r = {cli, SBUF_INIT, 0};
	struct inbox_maildir p = {
		.dir = dir,
		.envelope_to = envelope_to,
		.taken = maildir_taken,
		.batch_done = maildir_batch_done,
		.failed = maildir_failed,
		.arg = &r,
	};
	struct inbox_maildir_stats st = {0};
	const struct conf *cfg = NULL;
	struct db *db;
	int rc = cli_db(cli, &db, &err);

	if (!rc && !(cfg = cli_config(cli, &err)))
		rc = err.code;
	if (!rc)
		rc = inbox_read_maildir(db, cfg, &p, &st, &err);
	if (rc)
		r.status = cli_fail(rc, &err);
	sbuf_release(&r.out);
	if (!cli->json)
		printf("%zu of %zu messages read from %s\n", st.moved,
		       st.listed, dir);
	return r.status;
}

/* --imap: the mailbox, the database and the exit status so far. */
struct imap_read {
	struct cli *cli;
	struct db *db;
	const struct conf *cfg;
	int status;
};

/* One message from the mailbox into the inbox, as from a Maildir. */
static int take_imap(const struct imap_message *m, void *arg,
		     struct error *err)
{
	struct imap_read *r = arg;
	struct inbox_message in = {INBOX_IMAP, m->origin, NULL, m->raw, m->len};
	struct sbuf out = SBUF_INIT;
	int rc = take_one(r->cli, &in, m->origin, &out, err);

	fwrite(out.buf, 1, out.len, stdout);
	sbuf_release(&out);
	return rc;
}

static void skipped_imap(const char *origin, const struct error *why,
			 void *arg)
{
	struct imap_read *r = arg;

	(void)origin; /* why names it */
	r->status = cli_fail(why->code, why);
}

/*
 * Every unread message of the mailbox at url: each taken is flagged
 * \Seen on the server, one that cannot be read stays unread (and is
 * named on stderr) while the others go on. user and password_file
 * override inbox.imap_user and the configured password.
 */
static int read_imap(struct cli *cli, const char *url, const char *user,
		     const char *password_file)
{
	struct imap_read r = {cli, NULL, NULL, 0};
	struct error err = ERROR_INIT;
	struct imap_params p;
	struct imap_stats st = {0};
	char *password = NULL;
	int rc = cli_db(cli, &r.db, &err);

	if (!rc && !(r.cfg = cli_config(cli, &err)))
		rc = err.code;
	if (!rc && password_file)
		rc = conf_read_password(password_file, &password, &err);
	if (!rc) {
		imap_params_from_conf(&p, r.cfg);
		p.url = url;
		p.user = user ? user : p.user;
		p.password = password ? password : p.password;
		p.take = take_imap;
		p.skipped = skipped_imap;
		p.arg = &r;
		rc = imap_fetch_unread(&p, &st, &err);
	}
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (rc)
		return cli_fail(rc, &err);
	if (!cli->json)
		printf("%zu of %zu unread messages read from %s\n", st.taken,
		       st.unread, url);
	return r.status;
}

static int run_read(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"maildir", required_argument, NULL, 'm'},
		{"imap", required_argument, NULL, 'i'},
		{"user", required_argument, NULL, 'u'},
		{"password-file", required_argument, NULL, 'p'},
		{"envelope-to", required_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	const char *maildir = NULL, *imap = NULL, *user = NULL, *pwfile = NULL;
	const char *envelope_to = NULL;
	int c;

	while ((c = cli_getopt(argc, argv, "m:i:u:p:e:", opts)) != -1) {
		switch (c) {
		case 'm': maildir = optarg; break;
		case 'i': imap = optarg; break;
		case 'u': user = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'e': envelope_to = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if (maildir && imap)
		return cli_bad_usage("--maildir and --imap: one source at a "
				     "time");
	if (!imap && (user || pwfile))
		return cli_bad_usage("--user and --password-file go with "
				     "--imap");
	if (imap && envelope_to)
		return cli_bad_usage("--envelope-to goes with standard input "
				     "or --maildir");
	if (imap)
		return read_imap(cli, imap, user, pwfile);
	return maildir ? read_maildir(cli, maildir, envelope_to)
		       : read_stdin(cli, envelope_to);
}

static int inbox_add_row(const struct inbox_row *row, void *arg)
{
	struct table *t = arg;
	char when[32];

	clock_format_utc(row->received_at, when, sizeof(when));
	table_row(t);
	table_int(t, row->id);
	table_text(t, when);
	table_text(t, row->source);
	table_text(t, row->kind);
	table_text(t, row->format);
	table_text(t, row->sender);
	table_text(t, row->subject);
	if (row->delivery_id)
		table_int(t, row->delivery_id);
	else
		table_null(t);
	table_text(t, row->reason);
	table_text(t, row->origin);
	table_text(t, row->envelope_to);
	return 0;
}

static int run_inbox_list(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {
		"id", "received", "source", "kind", "format", "sender",
		"subject", "delivery", "reason", "origin", "envelope_to",
	};
	static const struct option opts[] = {
		{"kind", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	const char *kind = NULL;
	struct table *t;
	struct db *db;
	int rc, c;

	while ((c = cli_getopt(argc, argv, "k:", opts)) != -1) {
		if (c != 'k')
			return EX_USAGE;
		kind = optarg;
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if (kind && !inbox_kind(kind))
		return cli_bad_usage("unknown kind '%s' (report, mdn, "
				     "auto_reply, reply, complaint, "
				     "unreadable)", kind);
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	t = table_new(sizeof(headers) / sizeof(headers[0]), headers);
	rc = inbox_each(db, kind, inbox_add_row, t, &err);
	return cli_print_listing(cli, t, rc, &err);
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
	table_text(t, q->klass);
	table_text(t, q->reason);
	if (q->confirmed_by) {
		clock_format_utc(q->confirmed_at, when, sizeof(when));
		table_text(t, when);
	} else {
		table_null(t);
	}
	table_text(t, q->confirmed_by);
	if (q->dismissed_by) {
		clock_format_utc(q->dismissed_at, when, sizeof(when));
		table_text(t, when);
	} else {
		table_null(t);
	}
	table_text(t, q->dismissed_by);
	table_text(t, q->dismiss_reason);
	table_text(t, q->confirmed_by ? "confirmed"
		      : q->dismissed_by ? "dismissed" : "open");
	return 0;
}

static int run_list(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {
		"id", "report", "received", "format", "action", "recipient",
		"status", "envid", "message_id", "delivery", "class", "reason",
		"confirmed", "confirmed_by", "dismissed", "dismissed_by",
		"dismiss_reason", "state",
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
	struct outcome o = {SBUF_INIT};
	struct bounce_params p;
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
		bounce_params_init(&p, cfg);
		rc = bounce_confirm(db, id, actor, &p, &res, gather_note, &o,
				    &err);
	}
	if (!rc && cli->json) {
		struct inbox_result ir = {.kind = "report", .bounce = res};
		struct sbuf out = SBUF_INIT;

		ir.delivery_id = res.delivery_id;
		add_json(&out, "quarantine", NULL, &ir);
		cli_print_json(&out);
		sbuf_release(&out);
	} else if (!rc) {
		if (o.notes.len) {
			char *notes = utf8_escaped(o.notes.buf);

			printf("%s\n", notes);
			free(notes);
		}
		printf("quarantined report #%lld confirmed by %s\n", id, actor);
	}
	sbuf_release(&o.notes);
	free(actor);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_dismiss(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"reason", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	const char *reason = NULL;
	char *end = NULL, *actor = NULL;
	struct db *db;
	long long id;
	int rc, c;

	while ((c = cli_getopt(argc, argv, "r:", opts)) != -1) {
		if (c != 'r')
			return EX_USAGE;
		reason = optarg;
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one quarantine ID");
	errno = 0;
	id = strtoll(argv[optind], &end, 10);
	if (errno || end == argv[optind] || *end || id < 1)
		return cli_bad_usage("bad quarantine ID '%s'", argv[optind]);
	if (!reason)
		return cli_bad_usage("--reason TEXT is required");
	rc = cli_db(cli, &db, &err);
	if (!rc) {
		actor = actor_name();
		rc = bounce_dismiss(db, id, actor, reason, &err);
	}
	if (!rc && cli->json) {
		struct sbuf out = SBUF_INIT;
		struct json js;

		json_init(&js, &out, false);
		json_object_begin(&js);
		json_kv_int(&js, "quarantine", id);
		json_kv_string(&js, "state", "dismissed");
		json_kv_string(&js, "dismissed_by", actor);
		json_kv_string(&js, "dismiss_reason", reason);
		json_object_end(&js);
		sbuf_addch(&out, '\n');
		cli_print_json(&out);
		sbuf_release(&out);
	} else if (!rc) {
		char *why = utf8_escaped(reason);

		printf("quarantined report #%lld dismissed by %s: %s\n", id,
		       actor, why);
		free(why);
	}
	free(actor);
	return rc ? cli_fail(rc, &err) : 0;
}

#define SOURCES_HELP                                                          \
	"  --maildir DIR       read every message in DIR/new (each moved to " \
	"DIR/cur with the S flag once kept)\n" \
	"  --imap URL          read every unread message of imaps://HOST[:PORT]/" \
	"MAILBOX (or imap:// with STARTTLS), each flagged \\Seen once kept\n" \
	"  --user NAME         the IMAP login (default: inbox.imap_user)\n" \
	"  --password-file FILE  its password, mode 0600 (default: " \
	"inbox.imap_password_file)\n" \
	"  --envelope-to ADDR  the address the message on stdin was delivered " \
	"to (default: $ORIGINAL_RECIPIENT, $RECIPIENT, then the headers)\n"

static const char read_help[] = SOURCES_HELP
	"  list [--kind K]     show the messages kept\n"
	"  quarantine          show the quarantined report recipients\n"
	"  confirm ID          apply quarantined report ID to the delivery it "
	"matched\n"
	"  dismiss ID --reason TEXT  set quarantined report ID aside, not "
	"applied (kept for the audit)\n";

/* The older command's subcommands: its list is the quarantine. */
static const char bounce_help[] = SOURCES_HELP
	"  list                show the quarantined report recipients\n"
	"  confirm ID          apply quarantined report ID to the delivery it "
	"matched\n"
	"  dismiss ID --reason TEXT  set quarantined report ID aside, not "
	"applied (kept for the audit)\n";

static const struct cli_command inbox_read_cmd[] = {
	{"inbox", run_read,
	 "[--maildir DIR | --imap URL [--user NAME] [--password-file FILE]] "
	 "[--envelope-to ADDR] | list [--kind K] "
	 "| quarantine | confirm ID | dismiss ID --reason TEXT",
	 "keep and read what comes back: one message on stdin, or every "
	 "message in DIR/new; reports, read receipts, automatic answers, "
	 "replies, complaints; the unreadable kept with the reason",
	 read_help},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct cli_command inbox_cmds[] = {
	{"list", run_inbox_list, "[--kind K]",
	 "list the messages kept (id, received, source, kind, format, "
	 "sender, subject, delivery, reason)",
	 "  --kind K   only report, mdn, auto_reply, reply, complaint or "
	 "unreadable\n"},
	{"quarantine", run_list, "",
	 "list the quarantine: report recipients that matched no delivery, "
	 "or only by what anyone could write",
	 NULL},
	{"confirm", run_confirm, "ID",
	 "apply quarantined report ID to the delivery it matched, as checked "
	 "by hand (recorded with your user name)",
	 NULL},
	{"dismiss", run_dismiss, "ID --reason TEXT",
	 "set quarantined report ID aside without applying it, as checked by "
	 "hand (recorded with your user name and the reason; the report is "
	 "kept)",
	 "  --reason TEXT  why (required: one line, at most 500 bytes)\n"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_inbox(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && argv[1][0] != '-')
		return cli_dispatch(cli, "inbox", inbox_cmds, argc - 1,
				    argv + 1);
	return cli_dispatch(cli, NULL, inbox_read_cmd, argc, argv);
}

static const struct cli_command read_cmd[] = {
	{"bounce", run_read,
	 "[--maildir DIR | --imap URL] [--envelope-to ADDR] | list | confirm "
	 "ID | dismiss ID --reason TEXT",
	 "the same as 'chancery inbox' (kept for MTA aliases that call it); "
	 "list shows the quarantine",
	 bounce_help},
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
	{"dismiss", run_dismiss, "ID --reason TEXT",
	 "set quarantined report ID aside without applying it, as checked by "
	 "hand (recorded with your user name and the reason; the report is "
	 "kept)",
	 "  --reason TEXT  why (required: one line, at most 500 bytes)\n"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_bounce(struct cli *cli, int argc, char **argv)
{
	if (argc > 1 && argv[1][0] != '-')
		return cli_dispatch(cli, "bounce", bounce_cmds, argc - 1,
				    argv + 1);
	return cli_dispatch(cli, NULL, read_cmd, argc, argv);
}
