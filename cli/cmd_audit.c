/* chancery audit: prove the ledger intact and report who received what. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/audit.h"
#include "chancery/progress.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/ledger.h"
#include "chancery/template.h"
#include "chancery/status.h"
#include "commands.h"

static const char *problem_name(enum ledger_problem p)
{
	switch (p) {
	case LEDGER_HASH_MISMATCH: return "hash-mismatch";
	case LEDGER_PREV_MISMATCH: return "prev-mismatch";
	case LEDGER_ANCHOR_MISSING: return "anchor-missing";
	default: return NULL;
	}
}

static void print_verify_json(const struct ledger_verify_result *res,
			      const char *anchor, int rc,
			      const struct error *err)
{
	struct sbuf out = SBUF_INIT;
	struct json js;

	json_init(&js, &out, true);
	json_object_begin(&js);
	json_kv_bool(&js, "ok", rc == 0);
	json_kv_int(&js, "rows_verified", res->rows);
	json_kv_int(&js, "head_id", res->head_id);
	json_kv_string(&js, "head_hash", res->head_hash);
	if (anchor) {
		json_kv_string(&js, "anchor", anchor);
		json_kv_int(&js, "anchor_id", res->anchor_id);
	}
	/* What "ok" is worth: only an anchor kept elsewhere proves that
	 * history was not rewritten and re-hashed. */
	json_kv_bool(&js, "history_proven", rc == 0 && anchor != NULL);
	if (rc) {
		json_kv_string(&js, "problem", problem_name(res->problem));
		json_kv_int(&js, "row", res->bad_id);
		json_kv_string(&js, "message", err->msg);
	}
	json_object_end(&js);
	cli_print_json(&out);
	sbuf_release(&out);
}

static int run_verify(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"anchor", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT, record_err = ERROR_INIT;
	struct ledger_verify_result res;
	struct progress progress;
	const char *anchor = NULL;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "a:", opts)) != -1) {
		if (c != 'a')
			return EX_USAGE;
		anchor = optarg;
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	/* Writable: the result is recorded for 'chancery status'; an
	 * archive on read-only storage is verified all the same. */
	rc = cli_db(cli, &db, &err);
	if (rc == ERR_NOPERM) {
		error_clear(&err);
		rc = cli_db_readonly(cli, &db, &err);
	}
	if (rc)
		return cli_fail(rc, &err);
	progress_init(&progress, stderr, "verify", 0, PROGRESS_AUTO);
	rc = ledger_verify_progress(db, anchor, &progress, &res, &err);
	progress_release(&progress);
	if (rc == ERR_USAGE)
		return cli_bad_usage("%s", err.msg);
	if (status_record_verify(db, clock_now(), &res, anchor, rc, err.msg,
				 &record_err))
		fprintf(stderr, "chancery: warning: the verification was not "
			"recorded: %s\n", record_err.msg);
	if (cli->json)
		print_verify_json(&res, anchor, rc, &err);
	if (rc)
		return cli_fail(rc, &err);
	if (!cli->json && anchor)
		printf("ok: %lld rows verified; anchor %s is row %lld, intact "
		       "with every row before it\nhead: row %lld %s\n",
		       (long long)res.rows, anchor,
		       (long long)res.anchor_id, (long long)res.head_id,
		       res.head_hash);
	else if (!cli->json)
		/* A consistent chain is all a verify without an anchor can
		 * show: the hashes hold no secret, so whoever can write the
		 * file can rewrite history and re-hash every row after it. */
		printf("ok: %lld rows verified\nhead: row %lld %s\n"
		       "note: without --anchor this proves only that the chain "
		       "is consistent; a rewrite that re-hashed every row would "
		       "pass. Record 'chancery audit anchor' elsewhere and verify "
		       "against it.\n",
		       (long long)res.rows, (long long)res.head_id,
		       res.head_hash);
	return 0;
}

static int run_anchor(struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct ledger_anchor a;
	char row_time[32], now[32];
	struct db *db;
	int rc;

	if (argc > 1)
		return cli_bad_usage("unexpected argument '%s'", argv[1]);
	rc = cli_db_readonly(cli, &db, &err);
	if (!rc)
		rc = ledger_anchor(db, &a, &err);
	if (rc)
		return cli_fail(rc, &err);
	clock_format_utc(a.ts, row_time, sizeof(row_time));
	clock_format_utc(clock_now(), now, sizeof(now));
	if (cli->json) {
		struct sbuf out = SBUF_INIT;
		struct json js;

		json_init(&js, &out, true);
		json_object_begin(&js);
		json_kv_string(&js, "head_hash", a.hash);
		json_kv_int(&js, "row", a.id);
		json_kv_string(&js, "row_time", row_time);
		json_kv_string(&js, "anchored_at", now);
		json_kv_int(&js, "rows_verified", a.rows);
		json_object_end(&js);
		cli_print_json(&out);
		sbuf_release(&out);
		return 0;
	}
	printf("chancery ledger anchor\n"
	       "head hash:   %s\n"
	       "row:         %lld (written %s)\n"
	       "anchored at: %s (%lld rows verified)\n"
	       "Record these lines outside this machine (a signed e-mail, a "
	       "ticket).\nLater, 'chancery audit verify --anchor %s' proves "
	       "that no row up to row %lld changed or disappeared.\n",
	       a.hash, (long long)a.id, row_time, now, (long long)a.rows,
	       a.hash, (long long)a.id);
	return 0;
}

/* Options shared by the reports. */
struct report_opts {
	enum audit_format fmt;
	const char *output;
	int since;
	char *lang; /* --lang, canonical (matrix), or NULL */
	enum audit_response response;
};

static int parse_since(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < 1970 || v > 9999)
		return cli_bad_usage("--since wants a year (1970-9999), not '%s'",
				     s);
	*out = (int)v;
	return 0;
}

/* Parses --format, --output (and --since where allowed); returns the
 * index of the first positional argument, or -1 after a usage error. */
static int parse_report_opts(struct cli *cli, int argc, char **argv,
			     bool since_ok, struct report_opts *o)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"since", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'l'},
		{"response", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	int c;

	o->fmt = cli->json ? AUDIT_FORMAT_JSON : AUDIT_FORMAT_TABLE;
	while ((c = cli_getopt(argc, argv, "f:o:s:l:r:", opts)) != -1) {
		if (c == 'f' && audit_format_parse(optarg, &o->fmt, &err)) {
			cli_bad_usage("%s", err.msg);
			return -1;
		} else if (c == 'l' && !since_ok) {
			cli_bad_usage("--lang applies to 'audit matrix' only");
			return -1;
		} else if (c == 'l') {
			free(o->lang);
			o->lang = NULL;
			if (template_lang_canonical(optarg, &o->lang, &err)) {
				cli_bad_usage("--lang: %s", err.msg);
				return -1;
			}
		} else if (c == 'o') {
			o->output = optarg;
		} else if (c == 's' && since_ok) {
			if (parse_since(optarg, &o->since))
				return -1;
		} else if (c == 's') {
			cli_bad_usage("--since applies to 'audit matrix' only");
			return -1;
		} else if (c == 'r' && !since_ok) {
			cli_bad_usage("--response applies to 'audit matrix' only");
			return -1;
		} else if (c == 'r' &&
			   audit_response_parse(optarg, &o->response, &err)) {
			cli_bad_usage("%s", err.msg);
			return -1;
		} else if (c == 'r') {
			continue;
		} else if (c != 'f') {
			return -1;
		}
	}
	if (cli->json && o->fmt != AUDIT_FORMAT_JSON) {
		cli_bad_usage("--json and --format %s disagree",
			      o->fmt == AUDIT_FORMAT_HTML  ? "html"
			      : o->fmt == AUDIT_FORMAT_CSV ? "csv"
							   : "table");
		return -1;
	}
	return optind;
}

/* Writes the report to --output (whole, or not at all) or stdout. */
static int write_report(const struct report_opts *o, const struct sbuf *text)
{
	struct error err = ERROR_INIT;
	FILE *f = stdout;
	int rc = 0;

	if (o->output && !(f = fopen(o->output, "w")))
		return cli_fail(error_set_errno(&err, ERR_CANTCREAT,
						"cannot create %s", o->output),
				&err);
	if (fwrite(text->buf, 1, text->len, f) != text->len || fflush(f))
		rc = error_set_errno(&err, ERR_IO, "writing %s",
				     o->output ? o->output : "the report");
	if (o->output && fclose(f) && !rc)
		rc = error_set_errno(&err, ERR_IO, "writing %s", o->output);
	if (rc && o->output)
		remove(o->output);
	return rc ? cli_fail(rc, &err) : 0;
}

enum report_kind { REPORT_CAMPAIGN, REPORT_BODY, REPORT_MATRIX };

static int run_report(struct cli *cli, int argc, char **argv,
		      enum report_kind kind)
{
	struct error err = ERROR_INIT;
	struct report_opts o = {0};
	struct sbuf out = SBUF_INIT;
	int first = parse_report_opts(cli, argc, argv, kind == REPORT_MATRIX, &o);
	int want = kind == REPORT_MATRIX ? 0 : 1, rc;
	struct db *db;

	if (first < 0) {
		free(o.lang);
		return EX_USAGE;
	}
	if (argc - first != want) {
		free(o.lang);
		if (argc - first < want)
			return cli_bad_usage("missing %s", kind == REPORT_BODY
								    ? "ACRONYM"
								    : "NAME");
		return cli_bad_usage("unexpected argument '%s'",
				     argv[first + want]);
	}
	rc = cli_db_readonly(cli, &db, &err);
	if (!rc && kind == REPORT_CAMPAIGN)
		rc = audit_report_campaign(db, argv[first], o.fmt, &out, &err);
	else if (!rc && kind == REPORT_BODY)
		rc = audit_report_body(db, argv[first], o.fmt, &out, &err);
	else if (!rc)
		rc = audit_report_matrix_lang(db, o.since, o.lang, o.response,
					      o.fmt, &out, &err);
	rc = rc ? cli_fail(rc, &err) : write_report(&o, &out);
	sbuf_release(&out);
	free(o.lang);
	return rc;
}

static int run_campaign(struct cli *cli, int argc, char **argv)
{
	return run_report(cli, argc, argv, REPORT_CAMPAIGN);
}

static int run_body(struct cli *cli, int argc, char **argv)
{
	return run_report(cli, argc, argv, REPORT_BODY);
}

static int run_matrix(struct cli *cli, int argc, char **argv)
{
	return run_report(cli, argc, argv, REPORT_MATRIX);
}

#define FORMAT_HELP                                                       \
	"  --format F     table (default), csv, json or html (one "        \
	"self-contained file)\n"                                          \
	"  --output FILE  write the report to FILE instead of stdout\n"

static const struct cli_command audit_cmds[] = {
	{"verify", run_verify, "[--anchor HASH]",
	 "recompute the ledger's hash chain; name the first broken row",
	 "  --anchor HASH  also prove that the row carrying HASH (from "
	 "'audit anchor') and every row before it are unchanged\n"},
	{"anchor", run_anchor, "",
	 "print the verified head of the ledger, to record elsewhere", NULL},
	{"campaign", run_campaign, "NAME [--format F] [--output FILE]",
	 "every addressee of a campaign: contacts, state, relay reply, "
	 "acknowledgements and replies",
	 FORMAT_HELP},
	{"body", run_body, "ACRONYM [--format F] [--output FILE]",
	 "every statement a body was sent, year by year", FORMAT_HELP},
	{"matrix", run_matrix,
	 "[--since YEAR] [--lang L] [--response R] [--format F] "
	 "[--output FILE]",
	 "bodies x campaigns, each cell the best delivery state and what "
	 "came back",
	 "  --since YEAR   only campaigns sent in YEAR or later\n"
	 "  --lang L       only deliveries sent in language L\n"
	 "  --response R   only bodies with that response in some campaign: "
	 "acknowledged, auto_replied, replied, complained, any; none: "
	 "bodies with none\n" FORMAT_HELP},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "audit", audit_cmds, argc - 1, argv + 1);
}
