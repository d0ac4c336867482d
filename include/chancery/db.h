/*
 * db: the SQLite connection every module works through.
 *
 * Opening a database checks that it is a chancery database, sets WAL,
 * foreign keys, synchronous=FULL and a busy timeout (so the command and the
 * daemon can share one file), and applies the missing schema migrations
 * from db/ in one transaction. A database newer than the program is
 * refused. A connection belongs to one thread at a time.
 *
 * SQL lives in the module that owns the table: each module declares its
 * statements once as a struct db_statements (an array indexed by its own
 * enum) and fetches them with db_prepare, which prepares each statement
 * once per connection and hands it back reset and unbound.
 */
#ifndef CHANCERY_DB_H
#define CHANCERY_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "chancery/error.h"

struct db;

enum db_open_flags {
	DB_CREATE = 1 << 0,   /* create the file (0600); refuse if it exists */
	DB_READONLY = 1 << 1, /* no writes, no migrations */
};

#define DB_BUSY_TIMEOUT_DEFAULT_MS 5000

/*
 * Opens (or with DB_CREATE creates) the database at path. Only DB_CREATE
 * gives a file a schema: without it an empty file (0 bytes) or an empty
 * SQLite database is refused like a missing one. Errors name the path:
 * missing or empty (ERR_NOINPUT), not SQLite or not chancery (ERR_DATA),
 * newer than the program (ERR_DATA), unreadable, read-only or in a
 * directory SQLite cannot write to (ERR_NOPERM), a symbolic link
 * (ERR_CONFIG; a linked directory on the way is followed), locked
 * (ERR_TEMPFAIL).
 */
int db_open(const char *path, int flags, int busy_timeout_ms, struct db **out,
	    struct error *err);

/* What db_open would say of path before opening it (missing, empty,
 * unreadable, read-only, a symbolic link), for a caller that must not
 * create anything next to a database that is not there. */
int db_check_file(const char *path, int flags, struct error *err);

/* Finalises the statements and closes; accepts NULL. */
void db_close(struct db *db);

sqlite3 *db_handle(struct db *db);
const char *db_path(const struct db *db);

/*
 * The person the ledger names for the changes made through this
 * connection (events.actor): the CLI sets the OS user or the name given
 * with --as; NULL (the default) is the daemon or the system. A claim,
 * not proof: whoever runs the program chooses it. Copied.
 */
void db_set_actor(struct db *db, const char *actor);
const char *db_actor(const struct db *db);

/* The schema version of the open database and the newest one known. */
int db_schema_version(struct db *db);
int db_schema_latest(void);

/* A module's named statements: sql[i] is the text of statement i. */
struct db_statements {
	const char *owner; /* module name, for messages */
	const char *const *sql;
	int count;
};

/* The prepared statement sql[index] of set, reset with bindings cleared. */
int db_prepare(struct db *db, const struct db_statements *set, int index,
	       sqlite3_stmt **out, struct error *err);

/*
 * Steps st: 1 for a row, 0 when done, or a negative ERR_ code with a
 * message (locked: ERR_TEMPFAIL, constraint: ERR_DATA, read-only:
 * ERR_NOPERM, disk full or I/O: ERR_IO). A finished statement is reset.
 */
int db_step(struct db *db, sqlite3_stmt *st, struct error *err);

/* Runs a statement expected to return no rows. */
int db_step_done(struct db *db, sqlite3_stmt *st, struct error *err);

/* What db_each_row calls on each row: 0 to go on, anything else to stop. */
typedef int (*db_row_fn)(sqlite3_stmt *st, void *arg);

/*
 * Steps st through its rows, calling row(st, arg) on each (the columns
 * are valid until row returns). The first non-zero value row returns
 * stops the walk: st is reset and that value is returned as it is.
 * Otherwise 0 once every row was seen, or db_step's negative ERR_ code;
 * st is reset either way. For the loaders that read a struct from the
 * row, hand it to their caller's callback and release it: each keeps
 * only that row function.
 */
int db_each_row(struct db *db, sqlite3_stmt *st, db_row_fn row, void *arg,
		struct error *err);

/* Binds text, or NULL when s is NULL. */
void db_bind_text(sqlite3_stmt *st, int index, const char *s);
/*
 * Binds text without copying it: s must stay unchanged until st has been
 * stepped to the end (db_prepare clears the binding before the next use).
 * For the hot statements whose texts outlive their one step.
 */
void db_bind_text_static(sqlite3_stmt *st, int index, const char *s);
/* Binds an id, or NULL when id is 0 (the core's "none"). */
void db_bind_id(sqlite3_stmt *st, int index, int64_t id);
/* The column as a new string (caller frees), NULL for SQL NULL. */
char *db_column_strdup(sqlite3_stmt *st, int col);
/* The column's text, "" for NULL; valid until the next step or reset. */
const char *db_column_text(sqlite3_stmt *st, int col);

/*
 * Transactions nest: the outermost db_begin is BEGIN IMMEDIATE (it takes
 * the write lock at once, so busy waits happen here and never halfway
 * through), inner ones are savepoints. db_rollback undoes the innermost.
 */
int db_begin(struct db *db, struct error *err);
int db_commit(struct db *db, struct error *err);
void db_rollback(struct db *db);
bool db_in_transaction(struct db *db);

/*
 * For work that must be atomic whether or not its caller has a
 * transaction open. db_begin_if_none begins one only when none is open
 * and sets *own to whether it did (no savepoint inside a caller's: the
 * caller's commit or rollback covers the work). db_end_if_own ends what
 * it began: with own false it returns rc as it is; with own true it
 * rolls back and returns rc when rc is non-zero, or commits and returns
 * what the commit returns.
 */
int db_begin_if_none(struct db *db, bool *own, struct error *err);
int db_end_if_own(struct db *db, bool own, int rc, struct error *err);

/*
 * For one large transaction of many small library calls (an import of a
 * whole registry): the journals of their savepoints kept in memory, not
 * written to a temporary file page by page, and a page cache of 32 MiB
 * rather than 2, until db_bulk_end puts both back. Measured on a 40,000
 * row import: 134,000 of 140,000 pwrite calls were the savepoint journal,
 * and a cache smaller than the indexes made the time grow faster than
 * the rows. Outside a transaction only (SQLite refuses the first inside).
 */
int db_bulk_begin(struct db *db, struct error *err);
void db_bulk_end(struct db *db);

/* The rowid of the last INSERT on this connection. */
int64_t db_last_id(struct db *db);
/* Rows changed by the last statement. */
int db_changes(struct db *db);

/* Runs fixed SQL text with no parameters (pragmas, migrations). */
int db_exec(struct db *db, const char *sql, struct error *err);

#endif
