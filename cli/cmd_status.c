/* chancery status: the whole state of the installation at a glance. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/status.h"
#include "commands.h"

static int run_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"days", required_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;
	const struct conf *cfg;
	struct status st;
	struct db *db;
	long days = 14;
	char *end;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "d:", opts)) != -1) {
		if (c != 'd')
			return EX_USAGE;
		days = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end || days < 0 ||
		    days > STATUS_DAYS_MAX)
			return cli_bad_usage("--days: '%s' is not a number of "
					     "days from 0 to %d", optarg,
					     STATUS_DAYS_MAX);
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	if (!(cfg = cli_config(cli, &err)))
		return cli_fail(err.code, &err);
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	rc = status_load(db, clock_now(), (int)days, cfg->campaign.approvals,
			 &st, &err);
	if (!rc) {
		if (cli->json)
			status_format_json(&st, &out);
		else
			status_format_text(&st, &out);
		cli_print_json(&out);
	}
	status_release(&st);
	sbuf_release(&out);
	return rc ? cli_fail(rc, &err) : 0;
}

static const struct cli_command status_cmd = {
	"status", run_status, "[--days N]",
	"the daemon, the relay, campaigns due and missed, the queue, the "
	"quarantine and the ledger, at a glance (read-only)",
	"  --days N   campaigns due in the next N days (default 14)\n",
};

int cmd_status(struct cli *cli, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			printf("usage: chancery status %s\n\n%s\n\n%s",
			       status_cmd.usage, status_cmd.summary,
			       status_cmd.help);
			return 0;
		}
	}
	cli_current = &status_cmd;
	cli_current_group = NULL;
	optind = 0;
	return run_status(cli, argc, argv);
}
