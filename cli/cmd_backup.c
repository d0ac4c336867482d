/* chancery backup: a verified copy of the live database. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "chancery/backup.h"
#include "chancery/json.h"
#include "commands.h"

static int run_backup(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	struct error err = ERROR_INIT;
	struct backup_result res;
	bool force = false;
	struct db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "f", opts)) != -1) {
		if (c != 'f')
			return EX_USAGE;
		force = true;
	}
	if (optind != argc - 1)
		return cli_bad_usage("expected one FILE to write the copy to");
	if ((rc = cli_open_db_readonly(cli, &db)))
		return rc;
	rc = backup_run(db, argv[optind], force, &res, &err);
	if (rc)
		return cli_fail(rc, &err);
	if (cli->json) {
		struct sbuf out = SBUF_INIT;
		struct json js;

		json_init(&js, &out, true);
		json_object_begin(&js);
		json_kv_string(&js, "file", argv[optind]);
		json_kv_int(&js, "bytes", res.bytes);
		json_kv_int(&js, "pages", res.pages);
		json_kv_bool(&js, "integrity_ok", true);
		json_kv_int(&js, "rows_verified", res.ledger.rows);
		json_kv_int(&js, "head_id", res.ledger.head_id);
		json_kv_string(&js, "head_hash", res.ledger.head_hash);
		json_object_end(&js);
		cli_print_json(&out);
		sbuf_release(&out);
	} else {
		printf("%s: %lld bytes, integrity ok, ledger ok: %lld rows "
		       "verified\nhead: row %lld %s\n",
		       argv[optind], (long long)res.bytes,
		       (long long)res.ledger.rows,
		       (long long)res.ledger.head_id, res.ledger.head_hash);
	}
	return 0;
}

static const struct cli_command backup_cmd = {
	"backup", run_backup, "FILE [--force]",
	"copy the database while the daemon runs (SQLite's online backup), "
	"then check the copy (integrity and the ledger's chain)",
	"  --force   replace an existing FILE (once the copy is proven)\n",
};

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			printf("usage: chancery backup %s\n\n%s\n\n%s",
			       backup_cmd.usage, backup_cmd.summary,
			       backup_cmd.help);
			return 0;
		}
	}
	cli_current = &backup_cmd;
	cli_current_group = NULL;
	optind = 0;
	return run_backup(cli, argc, argv);
}
