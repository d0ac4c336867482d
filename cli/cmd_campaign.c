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
#include "chancery/template.h"
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

/*
 * A send time in the past is refused unless now is set (--now): then the
 * campaign goes out at once, and the command says so. 0 or ERR_DATA.
 */
/* After a command accepted a past time with --now. */
static void say_now(const char *zone, int64_t send_at, const char *what)
{
	char local[CALENDAR_FORMAT_SIZE];

	if (send_at >= clock_now())
		return;
	calendar_format(zone, send_at, local, sizeof(local));
	printf("send time %s has passed: %s (--now)\n", local, what);
}

/* The languages of the plan (campaign.h): which bodies get which,
 * every contact whose language has no variant, and every contact greeted
 * with a fallback salutation. */
static void print_languages(const struct campaign_plan *p)
{
	const char *line = p->languages.buf;
	char f[5][256];

	while (*line) {
		int n = 0;

		f[0][0] = f[1][0] = f[2][0] = '\0';
		if (sscanf(line, "%255[^\t]\t%d\t%255[^\n]", f[0], &n,
			   f[2]) >= 2)
			printf("language %s: %d contact%s (%s)\n", f[0], n,
			       n == 1 ? "" : "s", f[2]);
		line = strchr(line, '\n');
		line = line ? line + 1 : "";
	}
	line = p->fallbacks.buf;
	while (*line) {
		if (sscanf(line, "%255[^\t]\t%255[^\t]\t%255[^\t]\t%255[^\t]"
			   "\t%255[^\n]", f[0], f[1], f[2], f[3], f[4]) == 5)
			printf("fallback: %s (%s) speaks %s, no variant in it: "
			       "gets %s (%s)\n", f[0], f[1], f[2], f[3], f[4]);
		line = strchr(line, '\n');
		line = line ? line + 1 : "";
	}
	line = p->salutations.buf;
	while (*line) {
		if (sscanf(line, "%255[^\t]\t%255[^\t]\t%255[^\t]\t%255[^\n]",
			   f[0], f[1], f[2], f[3]) == 4)
			printf("salutation: %s (%s) gets \"%s\" (%s)\n", f[0],
			       f[1], f[2], f[3]);
		line = strchr(line, '\n');
		line = line ? line + 1 : "";
	}
}

/* "OSCE: all suppressed" lines as warnings, and the counts. */
/* The deliveries a schedule queued: they wait for the send time. */
static void print_queued(const struct campaign_plan *p)
{
	printf("deliveries queued: %d (sent from the send time; the start "
	       "does no list expansion)\n", p->queued);
}

static void print_plan(const struct campaign_plan *p)
{
	const char *line = p->warnings.buf;

	printf("plan: %d bodies, %d contacts to send to", p->bodies,
	       p->recipients);
	if (p->skipped)
		printf(", %d not sendable (skipped)", p->skipped);
	if (p->unreached)
		printf(", %d bodies not reached", p->unreached);
	printf("\nrecipients sha256: %s\n", p->recipients_sha256);
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *sep = NULL;

		for (const char *q = line; q + 1 < line + len; q++)
			if (q[0] == ':' && q[1] == ' ')
				sep = q;
		if (sep)
			printf("warning: body %.*s not reached: %.*s\n",
			       (int)(sep - line), line,
			       (int)(len - (size_t)(sep + 2 - line)), sep + 2);
		else
			printf("warning: %.*s\n", (int)len, line);
		line += len + (nl ? 1 : 0);
	}
	if (p->voided_earlier)
		printf("warning: the recipients changed since the earlier "
		       "approval, which no longer counts\n");
	print_languages(p);
}

/* The options campaign create and campaign edit share. */
struct campaign_opts {
	const char *template_name, *list_name, *when, *tz, *sender;
	const char *event_date;
	char *lang; /* --lang, canonical (caller frees), "" (none) or NULL */
	int template_version; /* 0: not given */
	bool now;
	int receipt;          /* 1 --receipt, -1 --no-receipt, 0 neither */
};

/* Parses them and the one NAME; 0, or the exit status of a usage error. */
static int parse_campaign_opts(int argc, char **argv, struct campaign_opts *o)
{
	static const struct option opts[] = {
		{"template", required_argument, NULL, 't'},
		{"version", required_argument, NULL, 'v'},
		{"list", required_argument, NULL, 'l'},
		{"at", required_argument, NULL, 'a'},
		{"tz", required_argument, NULL, 'z'},
		{"sender", required_argument, NULL, 's'},
		{"event-date", required_argument, NULL, 'e'},
		{"now", no_argument, NULL, 'n'},
		{"lang", required_argument, NULL, 'L'},
		{"receipt", no_argument, NULL, 'R'},
		{"no-receipt", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	int opt;

	memset(o, 0, sizeof(*o));
	while ((opt = cli_getopt(argc, argv, "t:v:l:a:z:s:e:nL:RN", opts)) != -1) {
		switch (opt) {
		case 'L':
			free(o->lang);
			o->lang = NULL;
			if (!*optarg) /* none: campaign.language applies */
				o->lang = xstrdup("");
			else if (template_lang_canonical(optarg, &o->lang,
							 &err))
				return cli_bad_usage("--lang: %s", err.msg);
			break;
		case 't': o->template_name = optarg; break;
		case 'v': o->template_version = atoi(optarg);
			if (o->template_version <= 0)
				return cli_bad_usage("bad --version '%s'", optarg);
			break;
		case 'l': o->list_name = optarg; break;
		case 'a': o->when = optarg; break;
		case 'z': o->tz = optarg; break;
		case 's': o->sender = optarg; break;
		case 'e': o->event_date = optarg; break;
		case 'n': o->now = true; break;
		case 'R':
		case 'N':
			if (o->receipt && o->receipt != (opt == 'R' ? 1 : -1))
				return cli_bad_usage("--receipt and --no-receipt "
						     "disagree");
			o->receipt = opt == 'R' ? 1 : -1;
			break;
		default: return EX_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	return 0;
}

static int run_create(struct cli *cli, int argc, char **argv)
{
	struct campaign_new c = {0};
	struct error err = ERROR_INIT;
	struct calendar_time at;
	const struct conf *cfg;
	char *renamed = NULL;
	struct campaign_opts o;
	struct db *db;
	char shown[96];
	int rc;

	if ((rc = parse_campaign_opts(argc, argv, &o)))
		return rc;
	c.template_name = o.template_name;
	c.template_version = o.template_version;
	c.list_name = o.list_name;
	c.tz = o.tz;
	c.sender = o.sender;
	c.event_date = o.event_date;
	c.language = o.lang && *o.lang ? o.lang : NULL;
	c.receipt = o.receipt > 0;
	if (!c.template_name || !c.list_name || (!o.when && !o.now)) {
		free(o.lang);
		return cli_bad_usage("--template, --list and --at (or --now) are "
				     "required");
	}
	c.name = argv[optind];
	cfg = cli_config(cli, &err);
	if (!cfg)
		return cli_fail(err.code, &err);
	if (!c.tz)
		c.tz = cfg->timezone && *cfg->timezone ? cfg->timezone : "UTC";
	if (o.when) {
		rc = calendar_parse_local(o.when, &at, &err);
		if (!rc)
			rc = calendar_to_utc(c.tz, &at, &c.send_at, &err);
	} else {
		c.send_at = clock_now();
		rc = 0;
	}
	c.refuse_past = o.when && !o.now;
	if (!rc)
		rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = campaign_create_renaming(db, &c, NULL, &renamed, &err);
	free(o.lang);
	if (rc)
		return cli_fail(rc, &err);
	if (renamed)
		printf("campaign %s was cancelled: renamed %s, its record kept\n",
		       c.name, renamed);
	format_both(c.tz, c.send_at, shown, sizeof(shown));
	printf("campaign %s created (draft), sends %s\n", c.name, shown);
	if (c.receipt)
		printf("read receipt: requested (Disposition-Notification-To: "
		       "the From address)\n");
	if (!o.when)
		printf("send time: now (--now): it goes out as soon as it is "
		       "scheduled\n");
	else
		say_now(c.tz, c.send_at, "it goes out as soon as it is "
					 "scheduled");
	free(renamed);
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

/* Parses "NAME" with --now (and, for approve, --schedule). */
static int parse_now(int argc, char **argv, bool *now, bool *schedule)
{
	static const struct option opts[] = {
		{"now", no_argument, NULL, 'n'},
		{"schedule", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = cli_getopt(argc, argv, schedule ? "ns" : "n", opts)) !=
	       -1) {
		if (opt == 'n')
			*now = true;
		else if (opt == 's' && schedule)
			*schedule = true;
		else
			return EX_USAGE;
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	return 0;
}

static int run_schedule(struct cli *cli, int argc, char **argv)
{
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct campaign_plan plan;
	struct campaign_info c = {0};
	bool now = false;
	struct db *db;
	char shown[96];
	int rc = parse_now(argc, argv, &now, NULL);

	if (rc)
		return rc;
	campaign_plan_init(&plan);
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = campaign_find(db, argv[optind], &c, &err);
	/* the time matters only where schedule would go ahead */
	if (!rc && (c.state == CAMPAIGN_APPROVED ||
		    (c.state == CAMPAIGN_DRAFT && cli_config(cli, &err) &&
		     cli_config(cli, &err)->campaign.approvals == 0)))
		rc = campaign_send_time_check(c.tz, c.send_at, now, &err);
	if (!rc)
		rc = campaign_schedule_plan(db, cli_config(cli, &err), c.id, &plan,
					    &problems, &err);
	if (rc) {
		rc = cli_fail(rc, &err);
		fwrite(problems.buf, 1, problems.len, stderr);
	} else {
		format_both(c.tz, c.send_at, shown, sizeof(shown));
		printf("campaign %s scheduled for %s\n", c.name, shown);
		print_plan(&plan);
		print_queued(&plan);
		say_now(c.tz, c.send_at, "it goes out at once");
	}
	campaign_plan_release(&plan);
	sbuf_release(&problems);
	campaign_info_release(&c);
	return rc;
}

static int run_approve(struct cli *cli, int argc, char **argv)
{
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct campaign_plan plan;
	struct campaign_info c = {0}, after = {0};
	bool now = false, schedule = false;
	const struct conf *cfg = NULL;
	const char *who;
	struct db *db;
	char shown[96];
	int rc = parse_now(argc, argv, &now, &schedule);

	if (rc)
		return rc;
	campaign_plan_init(&plan);
	cfg = cli_config(cli, &err);
	rc = cfg ? cli_db(cli, &db, &err) : err.code;
	if (!rc)
		rc = campaign_find(db, argv[optind], &c, &err);
	if (!rc && schedule && c.state == CAMPAIGN_DRAFT)
		rc = campaign_send_time_check(c.tz, c.send_at, now, &err);
	if (!rc)
		rc = campaign_approve(db, cfg, c.id, schedule, &plan, &problems,
				      &err);
	if (!rc)
		rc = campaign_get(db, c.id, &after, &err);
	if (rc) {
		rc = cli_fail(rc, &err);
		fwrite(problems.buf, 1, problems.len, stderr);
		goto out;
	}
	who = db_actor(db) ? db_actor(db) : "the system";
	format_both(c.tz, c.send_at, shown, sizeof(shown));
	printf("campaign %s approved by %s (%d of %d): %s v%d (sha256 %s), "
	       "sends %s\n", c.name, who, plan.approvals, plan.required,
	       c.template_name, c.template_version, c.template_sha256, shown);
	print_plan(&plan);
	if (after.state == CAMPAIGN_SCHEDULED) {
		printf("campaign %s scheduled for %s\n", c.name, shown);
		print_queued(&plan);
		say_now(c.tz, c.send_at, "it goes out at once");
	} else if (after.state == CAMPAIGN_APPROVED) {
		printf("campaign %s is approved: chancery campaign schedule %s\n",
		       c.name, c.name);
	} else {
		printf("campaign %s needs %d more approval%s\n", c.name,
		       plan.required - plan.approvals,
		       plan.required - plan.approvals == 1 ? "" : "s");
	}
out:
	campaign_plan_release(&plan);
	sbuf_release(&problems);
	campaign_info_release(&c);
	campaign_info_release(&after);
	return rc;
}

static int run_reject(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"reason", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct campaign_info c = {0};
	const char *reason = NULL;
	struct db *db;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "r:", opts)) != -1) {
		if (opt != 'r')
			return EX_USAGE;
		reason = optarg;
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one campaign NAME");
	if (!reason)
		return cli_bad_usage("--reason TEXT is required");
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = campaign_find(db, argv[optind], &c, &err);
	if (!rc)
		rc = campaign_reject(db, c.id, reason, &err);
	if (!rc)
		printf("campaign %s rejected by %s: %s → draft, approvals "
		       "cleared\n", c.name, db_actor(db) ? db_actor(db)
							 : "the system",
		       campaign_state_name(c.state));
	campaign_info_release(&c);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_edit(struct cli *cli, int argc, char **argv)
{
	struct campaign_edit e = {0};
	struct error err = ERROR_INIT;
	struct campaign_info c = {0}, after = {0};
	struct calendar_time at;
	const char *zone;
	struct sbuf voided = SBUF_INIT;
	struct campaign_opts o;
	struct db *db;
	char shown[96];
	int rc;

	if ((rc = parse_campaign_opts(argc, argv, &o)))
		return rc;
	e.template_name = o.template_name;
	e.template_version = o.template_version;
	e.list_name = o.list_name;
	e.tz = o.tz;
	e.sender = o.sender;
	e.event_date = o.event_date;
	e.language = o.lang;
	e.receipt = o.receipt;
	/* --now alone: send at once (a missed campaign's way out) */
	if (o.now && !o.when)
		e.send_at = clock_now();
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = campaign_find(db, argv[optind], &c, &err);
	if (rc)
		goto out;
	zone = e.tz ? e.tz : c.tz;
	if (e.tz && !clock_zone_valid(e.tz)) {
		rc = error_set(&err, ERR_USAGE, "unknown time zone '%s'", e.tz);
		goto out;
	}
	/* --tz alone keeps the local time of day in the new zone */
	if (!o.when && !o.now && e.tz &&
	    (rc = calendar_from_utc(c.tz, c.send_at, &at, &err)) == 0)
		rc = calendar_to_utc(zone, &at, &e.send_at, &err);
	if (!rc && o.when &&
	    (rc = calendar_parse_local(o.when, &at, &err)) == 0)
		rc = calendar_to_utc(zone, &at, &e.send_at, &err);
	if (!rc && e.send_at)
		rc = campaign_send_time_check(zone, e.send_at, o.now, &err);
	if (!rc)
		rc = campaign_edit(db, c.id, &e, &voided, &err);
	if (!rc)
		rc = campaign_get(db, c.id, &after, &err);
	if (rc)
		goto out;
	fwrite(voided.buf, 1, voided.len, stdout);
	format_both(after.tz, after.send_at, shown, sizeof(shown));
	printf("campaign %s edited (%s): %s v%d, list %s, sends %s\n", c.name,
	       campaign_state_name(after.state), after.template_name,
	       after.template_version, after.list_name, shown);
	if (e.receipt)
		printf("read receipt: %s\n", after.receipt ? "requested" : "none");
	if (e.language)
		printf("language: %s\n", after.language ? after.language
			: "none (campaign.language applies)");
	say_now(after.tz, after.send_at, "it goes out as soon as it is "
					 "scheduled");
out:
	free(o.lang);
	sbuf_release(&voided);
	campaign_info_release(&c);
	campaign_info_release(&after);
	return rc ? cli_fail(rc, &err) : 0;
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

/* Approval lines of status: "approved:  by NAME at TIME (...)". */
static int print_approval(const struct campaign_approval *a, void *arg)
{
	const struct campaign_info *c = arg;
	char shown[96];

	format_both(c->tz, a->at, shown, sizeof(shown));
	printf("approved:  by %s at %s (template sha256 %.16s…, %d recipients, "
	       "%d bodies not reached)\n", a->actor ? a->actor : "the system",
	       shown, a->template_sha256, a->recipients, a->unreached);
	return 0;
}

/* Approvals, the last rejection and the start's delay, for status. */
static void print_sign_off_text(struct db *db, const struct campaign_info *c)
{
	struct error err = ERROR_INIT;
	char *actor = NULL, *reason = NULL;
	char shown[96];
	double delay;
	int64_t at;

	campaign_approvals_each(db, c->id, print_approval, (void *)c, &err);
	if (campaign_last_rejection(db, c->id, &actor, &at, &reason, &err) == 0) {
		format_both(c->tz, at, shown, sizeof(shown));
		printf("rejected:  by %s at %s: %s\n",
		       actor ? actor : "the system", shown, reason ? reason : "");
	}
	free(actor);
	free(reason);
	if (campaign_first_delay(db, c->id, &delay, &err) == 0)
		printf("first message: %.1f s after the send time\n", delay);
}

static void print_status_text(struct db *db, const struct campaign_info *c,
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
	if (c->language)
		printf("language:  %s\n", c->language);
	if (c->receipt)
		printf("receipt:   requested (Disposition-Notification-To)\n");
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
	print_sign_off_text(db, c);
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

static int json_approval(const struct campaign_approval *a, void *arg)
{
	struct json *js = arg;
	char utc[24];

	clock_format_utc(a->at, utc, sizeof(utc));
	json_object_begin(js);
	json_kv_string(js, "actor", a->actor);
	json_kv_string(js, "at", utc);
	json_kv_string(js, "template_sha256", a->template_sha256);
	json_kv_string(js, "recipients_sha256", a->recipients_sha256);
	json_kv_int(js, "recipients", a->recipients);
	json_kv_int(js, "unreached", a->unreached);
	json_object_end(js);
	return 0;
}

static void print_status_json(struct db *db, const struct campaign_info *c,
			      const struct campaign_counts *n,
			      const struct status_anchor *an)
{
	struct error err = ERROR_INIT;
	char *actor = NULL, *reason = NULL;
	double delay;
	int64_t at;
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
	json_kv_string(&js, "language", c->language);
	json_kv_bool(&js, "receipt", c->receipt);
	json_key(&js, "approvals");
	json_array_begin(&js);
	campaign_approvals_each(db, c->id, json_approval, &js, &err);
	json_array_end(&js);
	if (campaign_last_rejection(db, c->id, &actor, &at, &reason, &err) == 0) {
		json_key(&js, "rejected");
		json_object_begin(&js);
		json_kv_string(&js, "actor", actor);
		clock_format_utc(at, utc, sizeof(utc));
		json_kv_string(&js, "at", utc);
		json_kv_string(&js, "reason", reason);
		json_object_end(&js);
	}
	free(actor);
	free(reason);
	if (campaign_first_delay(db, c->id, &delay, &err) == 0) {
		json_key(&js, "first_message_delay_s");
		json_double(&js, delay);
	}
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

/* Nothing more happens to it unless a person acts. */
static bool settled(enum campaign_state s)
{
	return s == CAMPAIGN_DONE || s == CAMPAIGN_CANCELLED ||
	       s == CAMPAIGN_MISSED;
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
 * --follow: waits until the campaign is done, cancelled or missed, with a
 * progress line (settled deliveries of all, rate, ETA) on a terminal; the
 * final status is printed by the caller.
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
	rc = cli_db_readonly(cli, &db, &err);
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
			print_status_json(db, &c, &n, &an);
		else
			print_status_text(db, &c, &n, &an);
	}
	campaign_info_release(&c);
	return rc ? cli_fail(rc, &err) : 0;
}

/* "alice 2027-02-20T09:00:00Z, bob ..." for the approved_by column. */
static int add_approver(const struct campaign_approval *a, void *arg)
{
	struct sbuf *sb = arg;
	char utc[24];

	clock_format_utc(a->at, utc, sizeof(utc));
	sbuf_addf(sb, "%s%s %s", sb->len ? ", " : "",
		  a->actor ? a->actor : "(system)", utc);
	return 0;
}

struct ls_rows {
	struct db *db;
	struct table *t;
};

static int add_row(const struct campaign_info *c, void *arg)
{
	struct ls_rows *ls = arg;
	struct table *t = ls->t;
	struct sbuf approvers = SBUF_INIT;
	struct error err = ERROR_INIT;
	char local[CALENDAR_FORMAT_SIZE], utc[24];
	int rc;

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
	rc = campaign_approvals_each(ls->db, c->id, add_approver, &approvers,
				     &err);
	table_text(t, approvers.len ? approvers.buf : NULL);
	sbuf_release(&approvers);
	return rc;
}

static int run_ls(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {"name", "state", "send_local",
		"send_utc", "tz", "template", "version", "list", "event_date",
		"approved_by"};
	struct error err = ERROR_INIT;
	struct table *t;
	struct db *db;
	int rc;

	if (cli_no_options(argc, argv))
		return EX_USAGE;
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	t = table_new(sizeof(headers) / sizeof(headers[0]), headers);
	struct ls_rows ls = {db, t};

	rc = campaign_each(db, add_row, &ls, &err);
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
	rc = cli_db_readonly(cli, &db, &err);
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
	 "NAME --template T --list L (--at \"YYYY-MM-DD HH:MM\" | --now) "
	 "[--tz ZONE] [--sender S] [--event-date YYYY-MM-DD] [--lang L] "
	 "[--receipt]",
	 "create a draft bound to one template version and one list",
	 "  --template T   template name\n"
	 "  --version N    template version (default: the latest)\n"
	 "  --list L       list name\n"
	 "  --at TIME      send time, local to --tz (a past one needs --now)\n"
	 "  --now          send at once (or accept a past --at)\n"
	 "  --tz ZONE      time zone (default: the configured one)\n"
	 "  --sender S     From address instead of the configured one\n"
	 "  --event-date D the event an anniversary statement marks\n"
	 "                 (fills anniversary.* and event.date)\n"
	 "  --lang L       the language for contacts whose own and whose\n"
	 "                 body's have no variant (default: campaign.language)\n"
	 "  --receipt      ask for a read receipt (Disposition-Notification-To\n"
	 "                 the From address; what comes back shows in the "
	 "audit)\n"},
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
	{"approve", run_approve, "NAME [--schedule] [--now]",
	 "approve a draft: freezes the recipients and records what it binds",
	 "  --schedule     schedule it too once approved\n"
	 "  --now          accept a send time that has passed: send at once\n"},
	{"reject", run_reject, "NAME --reason TEXT",
	 "refuse or revoke approval: back to draft, approvals cleared", NULL},
	{"edit", run_edit,
	 "NAME [--template T [--version N]] [--at TIME] [--tz ZONE] [--list L] "
	 "[--event-date D] [--sender S] [--receipt | --no-receipt] [--lang L] "
	 "[--now]",
	 "change a draft or approved campaign (voids an approval); a paused "
	 "one: --at",
	 "  --template T   another template (with --version N, or the latest)\n"
	 "  --version N    another version of the template\n"
	 "  --at TIME      send time, local to the campaign's zone\n"
	 "  --tz ZONE      time zone (alone: the same local time there)\n"
	 "  --list L       another list\n"
	 "  --event-date D the event an anniversary statement marks\n"
	 "  --sender S     From address (\"\": the configured one)\n"
	 "  --receipt      ask for a read receipt; --no-receipt: stop asking\n"
	 "  --lang L       the language for contacts whose own and whose\n"
	 "                 body's have no variant (\"\": campaign.language)\n"
	 "  --now          accept a send time that has passed\n"},
	{"schedule", run_schedule, "NAME [--now]",
	 "schedule an approved campaign (approvals = 0: approve and schedule a "
	 "draft; problems listed, one a line)",
	 "  --now          accept a send time that has passed: send at once\n"},
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
