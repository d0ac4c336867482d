/* chancery init: create the database, optionally with the seed registry. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"

static int run_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	const struct conf *cfg;
	struct db *db = NULL;
	const char *path;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		return 64;
	}
	if (optind != argc)
		return cli_bad_usage("unexpected argument '%s'", argv[optind]);
	cfg = cli_config(cli, &err);
	if (!cfg)
		return cli_fail(err.code, &err);
	path = cli_db_path(cli, &err);
	rc = db_open(path, DB_CREATE, (int)cfg->busy_timeout_ms, &db, &err);
	if (rc)
		return cli_fail(rc, &err);
	cli->db = db;
	printf("created %s (schema version %d)\n", path, db_schema_version(db));
	return 0;
}

static const struct cli_command init_cmd[] = {
	{"init", run_init, "", "create the database", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_init(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, NULL, init_cmd, argc, argv);
}
