#include <stddef.h>

#include "bench_seed.h"

static int run_script(struct db *db, const char *script, int n,
		      struct error *err)
{
	const char *tail = script;
	int rc = 0;

	while (!rc && tail && *tail) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db_handle(db), tail, -1, &st, &tail) !=
		    SQLITE_OK)
			return error_set(err, ERR_SOFTWARE, "seed: %s",
					 sqlite3_errmsg(db_handle(db)));
		if (!st)
			break;
		if (sqlite3_bind_parameter_count(st) > 0)
			sqlite3_bind_int(st, 1, n);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = error_set(err, ERR_SOFTWARE, "seed: %s",
				       sqlite3_errmsg(db_handle(db)));
		sqlite3_finalize(st);
	}
	return rc;
}

int bench_seed(struct db *db, const char *script, int n, struct error *err)
{
	int rc = db_begin(db, err);

	if (!rc)
		rc = run_script(db, script, n, err);
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}
