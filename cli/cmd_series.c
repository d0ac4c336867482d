/* chancery series: yearly anniversary dispatches. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chancery/anniversary.h"
#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/series.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "commands.h"

static int parse_lead(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > SERIES_MAX_LEAD_DAYS)
		return cli_bad_usage("bad --lead-days '%s' (0 to %d)", s,
				     SERIES_MAX_LEAD_DAYS);
	*out = (int)v;
	return 0;
}

/* Each year's campaign takes the template's latest version when made. */
static void latest_note(struct db *db, const char *template_name)
{
	struct template_info t;
	struct error ignore = ERROR_INIT;

	if (template_find(db, template_name, 0, &t, &ignore) != 0)
		return;
	printf("each year's campaign takes the latest version of template %s "
	       "when it is made (now v%d)\n", t.name, t.version);
	template_info_release(&t);
}

static int run_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"event-date", required_argument, NULL, 'e'},
		{"send", required_argument, NULL, 'S'},
		{"tz", required_argument, NULL, 'z'},
		{"template", required_argument, NULL, 't'},
		{"list", required_argument, NULL, 'l'},
		{"lead-days", required_argument, NULL, 'd'},
		{"auto-schedule", no_argument, NULL, 'A'},
		{"sender", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	struct series_new s = {.lead_days = 14};
	struct error err = ERROR_INIT;
	const struct conf *cfg;
	char *lang = NULL;
	struct db *db;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "e:S:z:t:l:d:As:L:", opts)) != -1) {
		switch (opt) {
		case 'L':
			free(lang);
			lang = NULL;
			if (template_lang_canonical(optarg, &lang, &err))
				return cli_bad_usage("--lang: %s", err.msg);
			s.language = lang;
			break;
		case 'e': s.event_date = optarg; break;
		case 'S': s.send = optarg; break;
		case 'z': s.tz = optarg; break;
		case 't': s.template_name = optarg; break;
		case 'l': s.list_name = optarg; break;
		case 'd':
			if (parse_lead(optarg, &s.lead_days))
				return EX_USAGE;
			break;
		case 'A': s.auto_schedule = true; break;
		case 's': s.sender = optarg; break;
		default: free(lang); return EX_USAGE;
		}
	}
	if (optind != argc - 1)
		rc = cli_bad_usage("expected one series NAME");
	else if (!s.event_date || !s.send || !s.template_name || !s.list_name)
		rc = cli_bad_usage("--event-date, --send, --template and --list "
				   "are required");
	else if (!(cfg = cli_config(cli, &err)))
		rc = cli_fail(err.code, &err);
	else
		rc = 0;
	if (rc) {
		free(lang);
		return rc;
	}
	s.name = argv[optind];
	if (!s.tz)
		s.tz = cfg->timezone && *cfg->timezone ? cfg->timezone : "UTC";
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = series_add(db, &s, NULL, &err);
	free(lang);
	if (rc)
		return cli_fail(rc, &err);
	printf("series %s added (%s campaigns %d days ahead)\n", s.name,
	       s.auto_schedule ? "scheduled" : "draft", s.lead_days);
	latest_note(db, s.template_name);
	return 0;
}

static int this_year(void)
{
	time_t t = (time_t)clock_now();
	struct tm tm;

	gmtime_r(&t, &tm);
	return tm.tm_year + 1900;
}

/* The series' next send time from now on: its year and instant. */
static int next_send(const struct series_info *s, int *year, int64_t *send_at)
{
	int64_t now = clock_now();

	for (int y = this_year(); y <= this_year() + 1; y++) {
		if (series_send_time(s, y, send_at, NULL, NULL) == 0 &&
		    *send_at > now) {
			*year = y;
			return 0;
		}
	}
	return -1;
}

static int add_row(const struct series_info *s, void *arg)
{
	struct table *t = arg;
	char local[CALENDAR_FORMAT_SIZE], utc[24], send[48];
	int64_t at;
	int year;

	snprintf(send, sizeof(send), "%02d-%02dT%02d:%02d", s->send_month,
		 s->send_day, s->send_minute / 60, s->send_minute % 60);
	table_row(t);
	table_text(t, s->name);
	table_text(t, series_state_name(s->state));
	table_text(t, s->event_date);
	table_text(t, send);
	table_text(t, s->tz);
	table_text(t, s->template_name);
	table_text(t, s->list_name);
	table_int(t, s->lead_days);
	table_text(t, s->auto_schedule ? "yes" : "no");
	if (next_send(s, &year, &at) == 0) {
		calendar_format(s->tz, at, local, sizeof(local));
		clock_format_utc(at, utc, sizeof(utc));
		table_text(t, local);
		table_text(t, utc);
	} else {
		table_null(t);
		table_null(t);
	}
	return 0;
}

static int run_ls(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {
		"name", "state", "event_date", "send", "tz", "template", "list",
		"lead_days", "auto_schedule", "next_local", "next_utc"};
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
	rc = series_each(db, add_row, t, &err);
	return cli_print_listing(cli, t, rc, &err);
}

static int one_series(struct cli *cli, int argc, char **argv, struct db **db,
		      struct series_info *s)
{
	struct error err = ERROR_INIT;
	int rc;

	if (cli_no_options(argc, argv))
		return EX_USAGE;
	if (optind != argc - 1)
		return cli_bad_usage("expected one series NAME");
	rc = cli_db(cli, db, &err);
	if (!rc)
		rc = series_find(*db, argv[optind], s, &err);
	return rc ? cli_fail(rc, &err) : 0;
}

/* The coming years: send and creation times, ordinal, campaign if any. */
static int run_show(struct cli *cli, int argc, char **argv)
{
	static const char *const headers[] = {
		"year", "anniversary", "ordinal", "send_local", "send_utc",
		"created_from_utc", "campaign", "state"};
	struct series_info s;
	struct table *t;
	struct db *db;
	int rc = one_series(cli, argc, argv, &db, &s);

	if (rc)
		return rc;
	if (!cli->json)
		printf("series:    %s (%s)\nevent:     %s\nsend:      "
		       "%02d-%02d %02d:%02d %s, campaigns %d days ahead, %s\n"
		       "template:  %s\nlist:      %s\n%s%s%s\n", s.name,
		       series_state_name(s.state), s.event_date, s.send_month,
		       s.send_day, s.send_minute / 60, s.send_minute % 60, s.tz,
		       s.lead_days, s.auto_schedule ? "scheduled" : "as drafts",
		       s.template_name, s.list_name,
		       s.language ? "language:  " : "",
		       s.language ? s.language : "", s.language ? "\n" : "");
	t = table_new(sizeof(headers) / sizeof(headers[0]), headers);
	for (int y = this_year() - 1; y <= this_year() + 2; y++) {
		struct campaign_info c;
		struct error ignore = ERROR_INIT;
		char local[CALENDAR_FORMAT_SIZE], utc[24], from[24], date[16],
			ord[16];
		int64_t send_at, create_at;
		int n;

		if (series_send_time(&s, y, &send_at, &create_at, NULL) != 0 ||
		    calendar_anniversary(s.event_date, y, date, sizeof(date), &n,
					 NULL) != 0)
			continue;
		calendar_format(s.tz, send_at, local, sizeof(local));
		clock_format_utc(send_at, utc, sizeof(utc));
		clock_format_utc(create_at, from, sizeof(from));
		anniversary_ordinal(n, ord, sizeof(ord));
		table_row(t);
		table_int(t, y);
		table_text(t, date);
		table_text(t, ord);
		table_text(t, local);
		table_text(t, utc);
		table_text(t, from);
		if (campaign_find_series(db, s.id, y, &c, &ignore) == 0) {
			table_text(t, c.name);
			table_text(t, campaign_state_name(c.state));
			campaign_info_release(&c);
		} else {
			table_null(t);
			table_null(t);
		}
	}
	series_info_release(&s);
	return cli_print_table(cli, t);
}

static int simple_change(struct cli *cli, int argc, char **argv,
			 int (*fn)(struct db *, int64_t, struct error *),
			 const char *done)
{
	struct error err = ERROR_INIT;
	struct series_info s;
	struct db *db;
	int rc = one_series(cli, argc, argv, &db, &s);

	if (rc)
		return rc;
	rc = fn(db, s.id, &err);
	if (!rc)
		printf("series %s %s\n", s.name, done);
	series_info_release(&s);
	return rc ? cli_fail(rc, &err) : 0;
}

static int run_edit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"template", required_argument, NULL, 't'},
		{"list", required_argument, NULL, 'l'},
		{"send", required_argument, NULL, 'S'},
		{"at", required_argument, NULL, 'a'},
		{"tz", required_argument, NULL, 'z'},
		{"lead-days", required_argument, NULL, 'd'},
		{"lang", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	struct series_edit e = {.lead_days = -1};
	struct series_edit_result res = {0};
	struct error err = ERROR_INIT;
	struct series_info s = {0};
	struct db *db;
	char *lang = NULL;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "t:l:S:a:z:d:L:", opts)) != -1) {
		switch (opt) {
		case 'L':
			free(lang);
			lang = NULL;
			if (!*optarg) /* none: campaign.language applies */
				lang = xstrdup("");
			else if (template_lang_canonical(optarg, &lang, &err))
				return cli_bad_usage("--lang: %s", err.msg);
			e.language = lang;
			break;
		case 't': e.template_name = optarg; break;
		case 'l': e.list_name = optarg; break;
		case 'S': e.send = optarg; break;
		case 'a': e.at = optarg; break;
		case 'z': e.tz = optarg; break;
		case 'd':
			if (parse_lead(optarg, &e.lead_days)) {
				free(lang);
				return EX_USAGE;
			}
			break;
		default: free(lang); return EX_USAGE;
		}
	}
	if (optind != argc - 1 ||
	    (!e.template_name && !e.list_name && !e.send && !e.at && !e.tz &&
	     e.lead_days < 0 && !e.language)) {
		free(lang);
		return optind != argc - 1
			       ? cli_bad_usage("expected one series NAME")
			       : cli_bad_usage("nothing to change: give "
					       "--template, --list, --send, "
					       "--at, --tz, --lead-days or "
					       "--lang");
	}
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = series_find(db, argv[optind], &s, &err);
	if (!rc)
		rc = series_edit(db, s.id, &e, clock_now(), &res, &err);
	free(lang);
	e.language = NULL;
	if (rc) {
		series_info_release(&s);
		return cli_fail(rc, &err);
	}
	printf("series %s changed: %s\n", s.name,
	       *res.changes ? res.changes : "nothing differs");
	switch (res.outcome) {
	case SERIES_DRAFT_NONE:
		printf("no campaign made yet for the coming year: it will be "
		       "made from the new settings\n");
		break;
	case SERIES_DRAFT_UPDATED:
		printf("draft %s updated too (template %s v%d, the latest)\n",
		       res.campaign, e.template_name ? e.template_name
						     : s.template_name,
		       res.template_version);
		break;
	case SERIES_DRAFT_SAME:
		printf("draft %s already matches: not changed\n", res.campaign);
		break;
	case SERIES_DRAFT_KEPT:
		printf("campaign %s is %s, not a draft: not changed (use "
		       "'chancery campaign edit %s')\n", res.campaign,
		       res.campaign_state, res.campaign);
		break;
	case SERIES_DRAFT_PASSED:
		printf("draft %s not changed: the new send time for its year "
		       "has passed already (use 'chancery campaign edit %s')\n",
		       res.campaign, res.campaign);
		break;
	}
	series_edit_result_release(&res);
	series_info_release(&s);
	return 0;
}

static int run_pause(struct cli *cli, int argc, char **argv)
{
	return simple_change(cli, argc, argv, series_pause, "paused");
}

static int run_resume(struct cli *cli, int argc, char **argv)
{
	return simple_change(cli, argc, argv, series_resume, "resumed");
}

static int run_rm(struct cli *cli, int argc, char **argv)
{
	return simple_change(cli, argc, argv, series_remove,
			     "removed (its campaigns stay)");
}

static const struct cli_command series_cmds[] = {
	{"add", run_add,
	 "NAME --event-date YYYY-MM-DD --send MM-DD[THH:MM] --tz ZONE "
	 "--template T --list L [--lead-days N] [--auto-schedule] [--sender S] "
	 "[--lang L]",
	 "add a yearly series; each year's campaign is made N days ahead",
	 "  --event-date D   the date the anniversary counts from\n"
	 "  --send MM-DDTHH:MM  send day and local time (02-29: 02-28 in "
	 "common years)\n"
	 "  --tz ZONE        time zone of the send time\n"
	 "  --lead-days N    create the campaign N days before (default 14)\n"
	 "  --auto-schedule  schedule it at once instead of a draft\n"
	 "  --lang L         its campaigns' language (campaign create --lang)\n"},
	{"edit", run_edit,
	 "NAME [--template T] [--list L] [--send MM-DD[THH:MM]] [--at HH:MM] "
	 "[--tz ZONE] [--lead-days N] [--lang L]",
	 "change a series; the coming year's draft follows, if still a draft",
	 "  --template T     the template (each campaign takes its latest "
	 "version)\n"
	 "  --list L         the list\n"
	 "  --send MM-DD     the send day (with THH:MM, the time too)\n"
	 "  --at HH:MM       the local send time\n"
	 "  --tz ZONE        time zone of the send time\n"
	 "  --lead-days N    create each campaign N days before\n"
	 "  --lang L         its campaigns' language (\"\": none)\n"},
	{"ls", run_ls, "", "list series with their next send time", NULL},
	{"show", run_show, "NAME",
	 "a series and its campaigns of the coming years", NULL},
	{"pause", run_pause, "NAME", "stop creating campaigns for now", NULL},
	{"resume", run_resume, "NAME", "create campaigns again", NULL},
	{"rm", run_rm, "NAME", "remove the series (its campaigns stay)", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_series(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "series", series_cmds, argc - 1, argv + 1);
}
