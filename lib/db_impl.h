/*
 * db_impl: state other modules keep in a database connection, private to
 * lib/: the ledger's cache. struct db (db.c) holds it, so that it lives
 * and dies with the connection and db_commit/db_rollback can forget the
 * chain head; ledger.c is the only module that reads or writes it. It is
 * db's private header (not the ledger's) so that db depends on nothing
 * above it.
 */
#ifndef CHANCERY_DB_IMPL_H
#define CHANCERY_DB_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/sbuf.h"
#include "chancery/sha256.h"

/*
 * What the ledger keeps per connection between appends. The chain head
 * (the newest event's id and hash) is valid only inside one write
 * transaction, where no other connection can append: db_commit and every
 * db_rollback (which may undo appends) forget it, and so does a
 * transaction SQLite ended by itself. The digest and buffer are reused
 * for every event and freed by db_close.
 */
struct db_ledger_cache {
	bool head_valid;
	int64_t head_id;
	char head_hash[SHA256_HEX_SIZE];
	struct sha256 *digest; /* NULL until the ledger makes one */
	struct sbuf canonical;
};

/* This connection's ledger cache, the head already forgotten when no
 * write transaction is open. */
struct db_ledger_cache *db_ledger_cache(struct db *db);

/* The directory part of path ("." for a bare name); caller frees. */
char *db_dir_of(const char *path);

/* path with its directory's symbolic links resolved (the last name is
 * kept as it is), or a copy of path when that fails; caller frees.
 * SQLITE_OPEN_NOFOLLOW refuses a link anywhere in a path. */
char *db_real_path(const char *path);

#endif
