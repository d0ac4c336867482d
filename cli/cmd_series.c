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
		{NULL, 0, NULL, 0},
	};
	struct series_new s = {.lead_days = 14};
	struct error err = ERROR_INIT;
	const struct conf *cfg;
	struct db *db;
	int opt, rc;

	while ((opt = cli_getopt(argc, argv, "e:S:z:t:l:d:As:", opts)) != -1) {
		switch (opt) {
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
		default: return EX_USAGE;
		}
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one series NAME");
	if (!s.event_date || !s.send || !s.template_name || !s.list_name)
		return cli_bad_usage("--event-date, --send, --template and --list "
				     "are required");
	s.name = argv[optind];
	cfg = cli_config(cli, &err);
	if (!cfg)
		return cli_fail(err.code, &err);
	if (!s.tz)
		s.tz = cfg->timezone && *cfg->timezone ? cfg->timezone : "UTC";
	rc = cli_db(cli, &db, &err);
	if (!rc)
		rc = series_add(db, &s, NULL, &err);
	if (rc)
		return cli_fail(rc, &err);
	printf("series %s added (%s campaigns %d days ahead)\n", s.name,
	       s.auto_schedule ? "scheduled" : "draft", s.lead_days);
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
	if ((rc = cli_open_db(cli, &db)))
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
		       "template:  %s\nlist:      %s\n\n", s.name,
		       series_state_name(s.state), s.event_date, s.send_month,
		       s.send_day, s.send_minute / 60, s.send_minute % 60, s.tz,
		       s.lead_days, s.auto_schedule ? "scheduled" : "as drafts",
		       s.template_name, s.list_name);
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
	 "--template T --list L [--lead-days N] [--auto-schedule] [--sender S]",
	 "add a yearly series; each year's campaign is made N days ahead",
	 "  --event-date D   the date the anniversary counts from\n"
	 "  --send MM-DDTHH:MM  send day and local time (02-29: 02-28 in "
	 "common years)\n"
	 "  --tz ZONE        time zone of the send time\n"
	 "  --lead-days N    create the campaign N days before (default 14)\n"
	 "  --auto-schedule  schedule it at once instead of a draft\n"},
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
