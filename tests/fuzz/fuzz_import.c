/* Fuzzes the registry CSV importer against a real database: each input is
 * imported inside a transaction that is then rolled back, so every run
 * starts from the same (seeded) registry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "chancery/db.h"
#include "chancery/import.h"
#include "chancery/mime.h"
#include "chancery/sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct db *fuzz_db(void)
{
	static struct db *db;
	char path[64];
	struct error err = ERROR_INIT;

	if (db)
		return db;
	mime_init();
	snprintf(path, sizeof(path), "/tmp/chancery-fuzz-import-%d.db",
		 (int)getpid());
	unlink(path);
	if (db_open(path, DB_CREATE, 1000, &db, &err) ||
	    import_seed(db, NULL, &err)) {
		fprintf(stderr, "fuzz_import: %s\n", err.msg);
		abort();
	}
	return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db *db = fuzz_db();
	struct sbuf problems = SBUF_INIT;
	struct import_stats stats;
	struct error err = ERROR_INIT;

	if (db_begin(db, &err))
		abort();
	(void)import_csv(db, "fuzz.csv", (const char *)data, size, "fuzz",
			 &problems, &stats, &err);
	db_rollback(db);
	sbuf_release(&problems);
	return 0;
}
