/* chancery campaign: create, check, schedule and follow campaigns. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/campaign_render.h"
#include "chancery/campaign_start.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/progress.h"
#include "chancery/xalloc.h"
#include "commands.h"

/* Writes "local (utc)" for instant t in zone. */
static void format_both(const char *zone, int64_t t, char *buf, size_t size)
{
	char local[CALENDAR_FORMAT_SIZE], utc[24];

	calendar_format(zone, t, local, sizeof(local));
	clock_format_utc(t, utc, sizeof(utc));
	snprintf(buf, size, "%s (%s)", local, utc);
}

static int run_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"template", required_argument, NULL, 't'},
		{"version", required_argument, NULL, 'v'},
		{"list", required_argument, NULL, 'l'},
		{"at", required_argument, NULL, 'a'},
		{"tz", required_argument, NULL, 'z'},
		{"sender", required_argument, NULL, 's'},
		{"event-date", required_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	struct campaign_new c = {0};
	struct error err = ERROR_INIT;
	struct calendar_time at;
	const struct conf *cfg;
	const char *when = NULL;
	struct db *db;
	char shown[96];
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "t:v:l:a:z:s:e:", opts)) != -1) {
		switch (opt) {
		case 't': c.template_name = optarg; break;
		case 'v': c.template_version = atoi(optarg);
			if (c.template_version <= 0)
				return cli_bad_usage("bad --version '%s'", optarg);
			break;
		case 'l': c.list_name = optarg; break;
		case 'a': when = optarg; break;
		case 'z': c.tz = optarg; break;
		case 's': c.sender = optarg; break;
		case 'e': c.event_date = optarg; break;
		default: return EX_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	if (!c.template_name || !c.list_name || !when)
		return cli_bad_usage("--template, --list and --at are required");
	c.name = argv[optind];
	cfg = cli_config(cli, &err);
	if (!cfg)
		return cli_fail(err.code, &err);
	if (!c.tz)
		c.tz = cfg->timezone && *cfg->timezone ? cfg->timezone : "UTC";
	rc = calendar_parse_local(when, &at, &err);
	if (!rc)
		rc = calendar_to_utc(c.tz, &at, &c.send_at, &err);
	if (!rc)
		rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = campaign_create(db, &c, NULL, &err);
	if (rc)
		return cli_fail(rc, &err);
	format_both(c.tz, c.send_at, shown, sizeof(shown));
	printf("campaign %s created (draft), sends %s\n", c.name, shown);
	return 0;
}

/* Parses "NAME" (and no option) and finds the campaign. */
static int one_campaign(struct cli *cli, int argc, char **argv,
			struct db **db, struct campaign_info *c)
{
	struct error err = ERROR_INIT;
	int rc;

	if (cli_no_options(argc, argv))
		return EX_USAGE;
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	rc = cli_db(cli, db, &err);
	if (!rc)
		rc = campaign_find(*db, argv[optind], c, &err);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_schedule(struct cli *cli, int argc, char **argv)
{
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct campaign_info c;
	struct db *db;
	char shown[96];
	int rc = one_campaign(cli, argc, argv, &db, &c);

	if (rc)
		return rc;
	rc = campaign_schedule(db, cli_config(cli, &err), c.id, &problems, &err);
	if (rc) {
		rc = cli_fail(rc, &err);
		fwrite(problems.buf, 1, problems.len, stderr);
	} else {
		format_both(c.tz, c.send_at, shown, sizeof(shown));
		printf("campaign %s scheduled for %s\n", c.name, shown);
	}
	sbuf_release(&problems);
	campaign_info_release(&c);
	return rc;
}

/* pause, resume and cancel differ only in the call and the message. */
static int simple_change(struct cli *cli, int argc, char **argv,
			 const char *verb)
{
	struct error err = ERROR_INIT;
	struct campaign_info c, after;
	struct db *db;
	int cancelled = 0, rc = one_campaign(cli, argc, argv, &db, &c);

	if (rc)
		return rc;
	if (strcmp(verb, "pause") == 0)
		rc = campaign_pause(db, c.id, &err);
	else if (strcmp(verb, "resume") == 0)
		rc = campaign_resume(db, c.id, &err);
	else
		rc = campaign_cancel(db, c.id, &cancelled, &err);
	if (!rc)
		rc = campaign_get(db, c.id, &after, &err);
	if (rc) {
		campaign_info_release(&c);
		return cli_fail(rc, &err);
	}
	printf("campaign %s: %s → %s", c.name, campaign_state_name(c.state),
	       campaign_state_name(after.state));
	if (strcmp(verb, "cancel") == 0)
		printf(" (%d deliveries cancelled)", cancelled);
	printf("\n");
	campaign_info_release(&after);
	campaign_info_release(&c);
	return 0;
}

static int run_pause(struct cli *cli, int argc, char **argv)
{
	return simple_change(cli, argc, argv, "pause");
}

static int run_resume(struct cli *cli, int argc, char **argv)
{
	return simple_change(cli, argc, argv, "resume");
}

static int run_cancel(struct cli *cli, int argc, char **argv)
{
	return simple_change(cli, argc, argv, "cancel");
}

static int run_refresh(struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct campaign_info c;
	struct db *db;
	int added = 0, rc = one_campaign(cli, argc, argv, &db, &c);

	if (rc)
		return rc;
	rc = campaign_refresh(db, cli_config(cli, &err), c.id, &added, &err);
	if (rc)
		rc = cli_fail(rc, &err);
	else
		printf("campaign %s: %d deliveries added\n", c.name, added);
	campaign_info_release(&c);
	return rc;
}

/* The ledger's head under a done campaign: what to record elsewhere so
 * that a later 'audit verify --anchor' can prove the campaign's rows were
 * not rewritten. rc is ledger_anchor's, err its message. */
struct status_anchor {
	bool shown; /* the campaign is done */
	int rc;
	struct ledger_anchor a;
	struct error err;
};

static void print_status_text(const struct campaign_info *c,
			      const struct campaign_counts *n,
			      const struct status_anchor *an)
{
	char shown[96];

	format_both(c->tz, c->send_at, shown, sizeof(shown));
	printf("campaign:  %s\nstate:     %s\ntemplate:  %s v%d (sha256 %s)\n"
	       "list:      %s\nsend at:   %s\n", c->name,
	       campaign_state_name(c->state), c->template_name,
	       c->template_version, c->template_sha256, c->list_name, shown);
	if (c->event_date)
		printf("event:     %s\n", c->event_date);
	if (c->state == CAMPAIGN_MISSED)
		printf("missed:    its send time passed before it was "
		       "scheduled; nothing was sent (cancel it, or edit it to a "
		       "new send time)\n");
	if (c->started_at) {
		format_both(c->tz, c->started_at, shown, sizeof(shown));
		printf("started:   %s\n", shown);
	}
	if (c->finished_at) {
		format_both(c->tz, c->finished_at, shown, sizeof(shown));
		printf("finished:  %s\n", shown);
	}
	printf("deliveries: %d", n->total);
	for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++)
		if (n->by_state[i])
			printf(", %s %d", campaign_delivery_states[i],
			       n->by_state[i]);
	printf("\n");
	if (!an->shown)
		return;
	if (an->rc == 0)
		printf("anchor:    row %lld %s\n"
		       "           (the ledger's head: record it elsewhere; "
		       "'chancery audit verify --anchor' proves no row up to it "
		       "was rewritten)\n",
		       (long long)an->a.id, an->a.hash);
	else
		printf("anchor:    none: %s\n", an->err.msg);
}

static void print_status_json(const struct campaign_info *c,
			      const struct campaign_counts *n,
			      const struct status_anchor *an)
{
	struct sbuf out = SBUF_INIT;
	char utc[24];
	struct json js;

	json_init(&js, &out, true);
	json_object_begin(&js);
	json_kv_string(&js, "name", c->name);
	json_kv_string(&js, "state", campaign_state_name(c->state));
	json_kv_string(&js, "template", c->template_name);
	json_kv_int(&js, "template_version", c->template_version);
	json_kv_string(&js, "template_sha256", c->template_sha256);
	json_kv_string(&js, "list", c->list_name);
	json_kv_string(&js, "tz", c->tz);
	clock_format_utc(c->send_at, utc, sizeof(utc));
	json_kv_string(&js, "send_at", utc);
	json_kv_string(&js, "event_date", c->event_date);
	json_key(&js, "deliveries");
	json_object_begin(&js);
	json_kv_int(&js, "total", n->total);
	for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++)
		json_kv_int(&js, campaign_delivery_states[i], n->by_state[i]);
	json_object_end(&js);
	if (an->shown) {
		json_key(&js, "anchor");
		json_object_begin(&js);
		if (an->rc == 0) {
			json_kv_int(&js, "row", an->a.id);
			json_kv_string(&js, "head_hash", an->a.hash);
			json_kv_int(&js, "rows_verified", an->a.rows);
		} else {
			json_kv_string(&js, "error", an->err.msg);
		}
		json_object_end(&js);
	}
	json_object_end(&js);
	cli_print_json(&out);
	sbuf_release(&out);
}

static bool settled(enum campaign_state s)
{
	return s == CAMPAIGN_DONE || s == CAMPAIGN_CANCELLED;
}

static int load_status(struct db *db, const char *name,
		       struct campaign_info *c, struct campaign_counts *n,
		       struct error *err)
{
	int rc;

	campaign_info_release(c);
	rc = campaign_find(db, name, c, err);
	if (!rc)
		rc = campaign_counts(db, c->id, n, err);
	return rc;
}

/* Deliveries that will not move again without a bounce report. */
static int settled_deliveries(const struct campaign_counts *n)
{
	int busy = 0;

	for (int i = 0; i < CAMPAIGN_DELIVERY_STATES; i++) {
		const char *s = campaign_delivery_states[i];

		if (!strcmp(s, "pending") || !strcmp(s, "sending") ||
		    !strcmp(s, "deferred"))
			busy += n->by_state[i];
	}
	return n->total - busy;
}

/*
 * --follow: waits until the campaign is done or cancelled, with a progress
 * line (settled deliveries of all, rate, ETA) on a terminal; the final
 * status is printed by the caller.
 */
static int follow_status(struct db *db, struct campaign_info *c,
			 struct campaign_counts *n, struct error *err)
{
	struct progress p;
	char *name = xstrdup(c->name);
	int rc = 0;

	progress_init(&p, stderr, name, (uint64_t)n->total, PROGRESS_AUTO);
	while (!settled(c->state)) {
		progress_set_total(&p, (uint64_t)n->total);
		progress_update(&p, (uint64_t)settled_deliveries(n));
		sleep(1);
		if ((rc = load_status(db, name, c, n, err)))
			break;
	}
	progress_update(&p, (uint64_t)settled_deliveries(n));
	progress_release(&p);
	free(name);
	return rc;
}

static int run_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"follow", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct campaign_counts n;
	struct campaign_info c = {0};
	struct status_anchor an = {.err = ERROR_INIT};
	bool follow = false;
	struct db *db;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "f", opts)) != -1) {
		if (opt != 'f')
			return EX_USAGE;
		follow = true;
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = load_status(db, argv[optind], &c, &n, &err);
	if (!rc && follow && !settled(c.state))
		rc = follow_status(db, &c, &n, &err);
	if (!rc && c.state == CAMPAIGN_DONE) {
		an.shown = true;
		an.rc = ledger_anchor(db, &an.a, &an.err);
	}
	if (!rc) {
		if (cli->json)
			print_status_json(&c, &n, &an);
		else
			print_status_text(&c, &n, &an);
	}
	campaign_info_release(&c);
	return rc ? cli_fail(rc, &err) : 0;
}

static int add_row(const struct campaign_info *c, void *arg)
{
	struct table *t = arg;
	char local[CALENDAR_FORMAT_SIZE], utc[24];

	calendar_format(c->tz, c->send_at, local, sizeof(local));
	clock_format_utc(c->send_at, utc, sizeof(utc));
	table_row(t);
	table_text(t, c->name);
	table_text(t, campaign_state_name(c->state));
	table_text(t, local);
	table_text(t, utc);
	table_text(t, c->tz);
	table_text(t, c->template_name);
	table_int(t, c->template_version);
	table_text(t, c->list_name);
	table_text(t, c->event_date);
	return 0;
}

static int run_ls(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {"name", "state", "send_local",
		"send_utc", "tz", "template", "version", "list", "event_date"};
	struct error err = ERROR_INIT;
	struct table *t;
	struct db *db;
	int rc;

	if (cli_no_options(argc, argv))
		return EX_USAGE;
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if ((rc = cli_open_db(cli, &db)))
		return rc;
	t = table_new(sizeof(headers) / sizeof(headers[0]), headers);
	rc = campaign_each(db, add_row, t, &err);
	return cli_print_listing(cli, t, rc, &err);
}

static int run_preview(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"body", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;
	struct campaign_info c = {0};
	const char *body = NULL;
	struct db *db;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "b:", opts)) != -1) {
		if (opt != 'b')
			return EX_USAGE;
		body = optarg;
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = campaign_find(db, argv[optind], &c, &err);
	if (!rc)
		rc = campaign_preview(db, cli_config(cli, &err), c.id, body, &out,
				      &err);
	if (!rc)
		fwrite(out.buf, 1, out.len, stdout);
	sbuf_release(&out);
	campaign_info_release(&c);
	return rc ? cli_fail(rc, &err) : 0;
}

static const struct cli_command campaign_cmds[] = {
	{"create", run_create,
	 "NAME --template T --list L --at \"YYYY-MM-DD HH:MM\" [--tz ZONE] "
	 "[--sender S] [--event-date YYYY-MM-DD]",
	 "create a draft bound to one template version and one list",
	 "  --template T   template name\n"
	 "  --version N    template version (default: the latest)\n"
	 "  --list L       list name\n"
	 "  --at TIME      send time, local to --tz\n"
	 "  --tz ZONE      time zone (default: the configured one)\n"
	 "  --sender S     From address instead of the configured one\n"
	 "  --event-date D the event an anniversary statement marks\n"
	 "                 (fills anniversary.* and event.date)\n"},
	{"preview", run_preview, "NAME [--body ACRONYM]",
	 "print the message the first (or that body's) contact would get", NULL},
	{"proof", cmd_campaign_proof, "NAME [--out DIR] [--force]",
	 "write readable proofs: one per distinct rendering, and an index",
	 "  --out DIR      where (default: ./proofs-NAME)\n"
	 "  --force        replace the proofs in a DIR that is not empty\n"},
	{"test", cmd_campaign_test, "NAME --to ADDRESS [--body ACRONYM]",
	 "send the real message, marked as a test, to one address",
	 "  --to ADDRESS   where the test goes (no delivery is made)\n"
	 "  --body B       the body whose message is sent (default: the\n"
	 "                 list's first)\n"},
	{"schedule", run_schedule, "NAME",
	 "check everything and schedule a draft (problems listed, one a line)",
	 NULL},
	{"pause", run_pause, "NAME", "pause a scheduled or running campaign",
	 NULL},
	{"resume", run_resume, "NAME", "resume a paused campaign", NULL},
	{"cancel", run_cancel, "NAME",
	 "cancel a campaign and its pending or deferred deliveries", NULL},
	{"status", run_status, "NAME [--follow]",
	 "state, times and deliveries per state", NULL},
	{"ls", run_ls, "", "list campaigns, newest send time first", NULL},
	{"refresh", run_refresh, "NAME",
	 "add deliveries for contacts added to the list since the start", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_campaign(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "campaign", campaign_cmds, argc - 1, argv + 1);
}
