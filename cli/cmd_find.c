/* chancery find: search bodies, aliases and contacts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/find.h"
#include "commands.h"

static int run_find(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"limit", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	static const char *const headers[] = {"kind", "body_id", "body",
					      "field", "text", "rank"};
	struct find_result r = {0};
	struct error err = ERROR_INIT;
	unsigned long limit = 50;
	struct table *t;
	struct db *db;
	char *end;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "l:", opts)) != -1) {
		if (c != 'l')
			return EX_USAGE;
		limit = strtoul(optarg, &end, 10);
		if (*end || !*optarg || optarg[0] == '-')
			return cli_bad_usage("--limit takes a number (0: all)");
	}
	if (optind + 1 != argc)
		return cli_bad_usage("expected one TEXT");
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	if ((rc = find_search(db, argv[optind], limit, &r, &err)))
		return cli_fail(rc, &err);
	t = table_new(6, headers);
	for (size_t i = 0; i < r.n; i++) {
		table_row(t);
		table_text(t, r.v[i].kind);
		table_int(t, r.v[i].body_id);
		table_text(t, r.v[i].body);
		table_text(t, r.v[i].field);
		table_text(t, r.v[i].text);
		table_text(t, find_rank_name(r.v[i].rank));
	}
	find_result_release(&r);
	return cli_print_table(cli, t);
}

static const struct cli_command find_cmd = {
	"find", run_find, "TEXT [--limit N]",
	"search bodies, aliases and contacts, accents and case aside",
	"ranked: exact acronym, exact name/alias/field, start of a word, "
	"anywhere; --limit N (default 50, 0: all)"};

int cmd_find(struct cli *cli, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: chancery find %s\n\n%s\n  %s\n",
			       find_cmd.usage, find_cmd.summary, find_cmd.help);
			return 0;
		}
	}
	cli_current = &find_cmd;
	cli_current_group = "find";
	optind = 0; /* GNU: restart getopt for this argv */
	return run_find(cli, argc, argv);
}
