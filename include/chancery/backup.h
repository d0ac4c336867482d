/*
 * backup: a consistent copy of a live database, proven before it counts.
 *
 * The copy is made with SQLite's online backup API from inside one read
 * transaction on the source: in WAL mode a reader never blocks a writer,
 * so the daemon goes on sending while the copy sees one snapshot (no
 * restart however much is written meanwhile). Pages are copied in steps
 * into a temporary file (0600) beside the destination, which is then
 * checked (PRAGMA integrity_check and the ledger's hash chain,
 * ledger_verify) and only then given its name. A copy that fails is
 * removed.
 */
#ifndef CHANCERY_BACKUP_H
#define CHANCERY_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/ledger.h"

struct backup_result {
	int64_t pages;                     /* pages copied */
	int64_t bytes;                     /* the copy's size */
	struct ledger_verify_result ledger; /* the copy's chain */
};

/*
 * Copies db into dest. An existing dest is refused (ERR_CANTCREAT) unless
 * force, and then replaced only once the copy is proven. A copy that is
 * not intact is ERR_DATA (integrity_check) or ledger_verify's ERR_DATA,
 * and nothing is left at dest or beside it.
 */
int backup_run(struct db *db, const char *dest, bool force,
	       struct backup_result *res, struct error *err);

#endif
