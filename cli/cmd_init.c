/* chancery init: create the database, optionally with the seed registry. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "chancery/import.h"
#include "chancery/xalloc.h"

#include "commands.h"

/* A database whose seeding failed is removed, so that init either
 * succeeds or leaves nothing behind. */
static void remove_db(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);

		unlink(p);
		free(p);
	}
}

static int seed(struct cli *cli, const char *path)
{
	struct error err = ERROR_INIT;
	struct import_stats st = {0};
	int rc = import_seed(cli->db, &st, &err);

	if (rc) {
		db_close(cli->db);
		cli->db = NULL;
		remove_db(path);
		return cli_fail(rc, &err);
	}
	printf("seeded %d bodies, %d aliases, %d group lists (no contacts: "
	       "add them with 'chancery contact add')\n", st.bodies_added,
	       st.aliases_added, st.lists_created);
	return 0;
}

static int run_init(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"seed", no_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	bool with_seed = false;
	const struct conf *cfg;
	struct db *db = NULL;
	const char *path;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c != 's')
			return EX_USAGE;
		with_seed = true;
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
	db_set_actor(db, cli->actor);
	printf("created %s (schema version %d)\n", path, db_schema_version(db));
	return with_seed ? seed(cli, path) : 0;
}

static const struct cli_command init_cmd[] = {
	{"init", run_init, "[--seed]", "create the database",
	 "--seed  load the seed registry (bodies, aliases, group lists; no "
	 "contacts)"},
	{NULL, NULL, NULL, NULL, NULL},
};

int cmd_init(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, NULL, init_cmd, argc, argv);
}
