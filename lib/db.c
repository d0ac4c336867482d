#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/db.h"
#include "chancery/embedded.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "db_impl.h"

/* "CHNC": marks a file as a chancery database (PRAGMA application_id). */
#define CHANCERY_APPLICATION_ID 0x43484e43

struct stmt_cache {
	const struct db_statements *set;
	sqlite3_stmt **stmts;
};

struct db {
	sqlite3 *handle;
	char *path;
	int flags; /* enum db_open_flags it was opened with */
	int busy_timeout_ms;
	int depth; /* transaction nesting */
	struct stmt_cache *caches;
	size_t ncaches;
	size_t caches_alloc;
	struct db_ledger_cache ledger;
	char *actor; /* who the ledger names for changes; NULL: the system */
};

sqlite3 *db_handle(struct db *db) { return db->handle; }
const char *db_path(const struct db *db) { return db->path; }
bool db_in_transaction(struct db *db) { return db->depth > 0; }
const char *db_actor(const struct db *db) { return db->actor; }

void db_set_actor(struct db *db, const char *actor)
{
	free(db->actor);
	db->actor = actor && *actor ? xstrdup(actor) : NULL;
}
struct db_ledger_cache *db_ledger_cache(struct db *db)
{
	/* After an I/O error or a full disk SQLite may roll the whole
	 * transaction back on its own while depth still counts it. */
	if (db->depth == 0 || sqlite3_get_autocommit(db->handle))
		db->ledger.head_valid = false;
	return &db->ledger;
}

int64_t db_last_id(struct db *db) { return sqlite3_last_insert_rowid(db->handle); }
int db_changes(struct db *db) { return sqlite3_changes(db->handle); }

/* Maps a SQLite result code to an ERR_ code and a message naming the file. */
static int db_fail(struct db *db, int rc, struct error *err)
{
	const char *msg = sqlite3_errmsg(db->handle);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return error_set(err, ERR_TEMPFAIL,
				 "%s: database is locked by another process "
				 "(waited %d ms)",
				 db->path, db->busy_timeout_ms);
	case SQLITE_CONSTRAINT:
		return error_set(err, ERR_DATA, "%s: %s", db->path, msg);
	case SQLITE_READONLY:
		return error_set(err, ERR_NOPERM, "%s: database is read-only",
				 db->path);
	case SQLITE_FULL:
		return error_set(err, ERR_IO, "%s: disk full", db->path);
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		return error_set(err, ERR_IO, "%s: %s", db->path, msg);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return error_set(err, ERR_DATA, "%s: not a SQLite database (%s)",
				 db->path, msg);
	default:
		return error_set(err, ERR_SOFTWARE, "%s: %s", db->path, msg);
	}
}

int db_exec(struct db *db, const char *sql, struct error *err)
{
	int rc = sqlite3_exec(db->handle, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(db, rc, err);
}

static int pragma_int(struct db *db, const char *sql, int *out,
		      struct error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : db_fail(db, rc, err);
}

/* The version a migration file name carries ("0003_x.sql" → 3), or -1. */
static int migration_version(const char *name)
{
	size_t len = strlen(name);

	if (len < 9 || strcmp(name + len - 4, ".sql") != 0 || name[4] != '_')
		return -1;
	for (int i = 0; i < 4; i++)
		if (name[i] < '0' || name[i] > '9')
			return -1;
	return atoi(name);
}

int db_schema_latest(void)
{
	int latest = 0;

	for (const struct embedded_file *f = embedded_files; f->name; f++) {
		int v = migration_version(f->name);

		if (v > latest)
			latest = v;
	}
	return latest;
}

int db_schema_version(struct db *db)
{
	int v = 0;

	if (pragma_int(db, "PRAGMA user_version", &v, NULL))
		return -1;
	return v;
}

/* Inside a write transaction: applies every migration newer than current. */
static int apply_migrations(struct db *db, int current, struct error *err)
{
	char pragma[64];
	int rc, latest = current;

	for (const struct embedded_file *f = embedded_files; f->name; f++) {
		int v = migration_version(f->name);

		if (v <= current)
			continue;
		rc = sqlite3_exec(db->handle, f->data, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			db_fail(db, rc, err);
			return error_prefix(err, "migration %s", f->name);
		}
		latest = v;
	}
	if (latest == current)
		return 0;
	/* Fixed format of an int: no SQL text comes from outside. */
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", latest);
	rc = db_exec(db, pragma, err);
	if (rc)
		return rc;
	snprintf(pragma, sizeof(pragma), "PRAGMA application_id = %d",
		 CHANCERY_APPLICATION_ID);
	return db_exec(db, pragma, err);
}

/* Refuses files that are SQLite but belong to some other program. */
static int check_identity(struct db *db, int version, struct error *err)
{
	int app_id = 0, tables = 0, rc;

	rc = pragma_int(db, "PRAGMA application_id", &app_id, err);
	if (!rc)
		rc = pragma_int(db, "SELECT count(*) FROM sqlite_schema", &tables,
				err);
	if (rc)
		return rc;
	if (app_id != 0 && app_id != CHANCERY_APPLICATION_ID)
		return error_set(err, ERR_DATA,
				 "%s: not a chancery database (application id "
				 "%#x)",
				 db->path, (unsigned)app_id);
	if (app_id == 0 && tables > 0)
		return error_set(err, ERR_DATA,
				 "%s: not a chancery database (it has tables "
				 "but no chancery schema)",
				 db->path);
	/* Only 'chancery init' gives a file its schema: a database with
	 * nothing in it is a lost one, not a new one. */
	if (app_id == 0 && tables == 0 && version == 0 &&
	    !(db->flags & DB_CREATE))
		return error_set(err, ERR_NOINPUT,
				 "%s: an empty SQLite database with no "
				 "chancery schema: not a chancery database; "
				 "restore it from a backup or run 'chancery "
				 "init' on a new path",
				 db->path);
	if (version > db_schema_latest())
		return error_set(err, ERR_DATA,
				 "%s: schema version %d is newer than this "
				 "program's %d; upgrade chancery",
				 db->path, version, db_schema_latest());
	return 0;
}

/* Inside the migration's transaction: no row may point at nothing. */
static int check_foreign_keys(struct db *db, struct error *err)
{
	int orphans = 0;
	int rc = pragma_int(db, "SELECT count(*) FROM pragma_foreign_key_check",
			    &orphans, err);

	if (rc)
		return rc;
	if (orphans > 0)
		return error_set(err, ERR_DATA,
				 "%s: migration left %d rows that refer to "
				 "missing rows; nothing was changed",
				 db->path, orphans);
	return 0;
}

/*
 * Some migrations rebuild a table (SQLite cannot change a CHECK in
 * place); with foreign keys on, dropping the old table would fail or
 * delete. The SQLite procedure: keys off outside the transaction, a
 * foreign_key_check before the commit, keys on again.
 */
static int migrate(struct db *db, struct error *err)
{
	int version = 0, rc;

	rc = db_exec(db, "PRAGMA foreign_keys = OFF", err);
	if (rc)
		return rc;
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = pragma_int(db, "PRAGMA user_version", &version, err);
	if (!rc)
		rc = check_identity(db, version, err);
	if (!rc && version < db_schema_latest())
		rc = apply_migrations(db, version, err);
	if (!rc)
		rc = check_foreign_keys(db, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc)
		rc = db_exec(db, "PRAGMA foreign_keys = ON", err);
	else
		db_exec(db, "PRAGMA foreign_keys = ON", NULL);
	return rc;
}

static int make_parent_dirs(const char *path, struct error *err)
{
	char *copy = xstrdup(path);
	int rc = 0;

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
			rc = error_set_errno(err, ERR_CANTCREAT,
					     "%s: cannot create directory", copy);
			break;
		}
		*p = '/';
	}
	free(copy);
	return rc;
}

/* What stands at path that init must not replace: "" when nothing. */
static const char *existing_what(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return "";
	if (S_ISLNK(st.st_mode))
		return " (a symbolic link)";
	if (S_ISREG(st.st_mode) && st.st_size == 0)
		return " (an empty file, 0 bytes: remove it first to create "
		       "a database there)";
	return "";
}

/* Creates an empty file readable by its owner only; SQLite then uses it
 * (and gives the -wal and -shm files the same mode). An existing file,
 * even an empty one, is never taken over: it may be a database whose
 * restore went wrong. */
static int create_file(const char *path, struct error *err)
{
	int fd, rc = make_parent_dirs(path, err);

	if (rc)
		return rc;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return error_set(err, ERR_CANTCREAT, "%s: already exists%s",
				 path, existing_what(path));
	if (fd < 0)
		return error_set_errno(err, ERR_CANTCREAT, "%s: cannot create",
				       path);
	close(fd);
	return 0;
}

/* Whether the process may not do mode (access(2)) on path. Root passes
 * every check but the one a read-only file system makes. */
static bool denied(const char *path, int mode)
{
	if (access(path, mode) == 0)
		return false;
	return geteuid() != 0 || errno == EROFS;
}

char *db_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Whether path-suffix exists. */
static bool sibling_exists(const char *path, const char *suffix)
{
	char *p = xasprintf("%s%s", path, suffix);
	bool yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

/*
 * The checks SQLite would fail with a vague message ("unable to open
 * database file", "database is read-only" for every kind of permission
 * problem), made first so the message says what is wrong. A zero-length
 * file is refused: SQLite would take it for a new database and give it a
 * schema, and a lost database would then verify "ok" with no rows.
 */
static int check_existing(const char *path, int flags, struct error *err)
{
	struct stat st;
	char *dir = NULL;
	int rc = 0;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return error_set(err, ERR_NOINPUT,
					 "%s: no database here (create one "
					 "with 'chancery init')",
					 path);
		return error_set_errno(err, errno == EACCES ? ERR_NOPERM
							    : ERR_NOINPUT,
				       "%s: cannot look at the database file",
				       path);
	}
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		target[n > 0 ? n : 0] = '\0';
		/* Followed, the daemon's lock and SQLite's -wal would sit
		 * beside different names of one database. */
		return error_set(err, ERR_CONFIG,
				 "%s: is a symbolic link (to %s): refusing "
				 "to open it; set the database path to the "
				 "file itself",
				 path, n > 0 ? target : "?");
	}
	if (!S_ISREG(st.st_mode))
		return error_set(err, ERR_NOINPUT,
				 "%s: not a regular file: not a chancery "
				 "database",
				 path);
	if (denied(path, R_OK))
		return error_set(err, ERR_NOPERM,
				 "%s: permission denied: cannot read the "
				 "database file",
				 path);
	/* With a -wal beside it an empty main file can be a database whose
	 * pages are all still in the log: SQLite reads it then. */
	if (st.st_size == 0 && !sibling_exists(path, "-wal"))
		return error_set(err, ERR_NOINPUT,
				 "%s: database file is empty (0 bytes): not a "
				 "chancery database; restore it from a backup "
				 "or run 'chancery init' on a new path",
				 path);
	if (flags & DB_READONLY)
		return 0;
	if (denied(path, W_OK))
		return error_set(err, ERR_NOPERM, "%s: database is read-only",
				 path);
	dir = db_dir_of(path);
	if (denied(dir, W_OK | X_OK) &&
	    !(sibling_exists(path, "-wal") && sibling_exists(path, "-shm")))
		rc = error_set(err, ERR_NOPERM,
			       "%s: the directory %s is not writable (SQLite "
			       "needs to create %s-wal there)",
			       path, dir, path);
	free(dir);
	return rc;
}

char *db_real_path(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = db_dir_of(path), *real = realpath(dir, NULL), *out;

	if (real)
		out = xasprintf("%s%s%s", real, strcmp(real, "/") ? "/" : "",
				slash ? slash + 1 : path);
	else
		out = xstrdup(path);
	free(real);
	free(dir);
	return out;
}

/*
 * A read-only connection to a WAL database needs its -shm file, which
 * SQLite cannot create in a directory it cannot write (read-only
 * medium, an archive directory): it fails with "unable to open database
 * file". Without a -shm nobody has the database open, so it is opened
 * immutable (no locks, no -shm); a -wal that holds pages nobody
 * checkpointed would then be ignored, and is refused instead. Returns 1
 * for immutable, 0 for a plain read-only open, or an error.
 */
static int readonly_mode(const char *path, struct error *err)
{
	char *dir = db_dir_of(path), *wal = xasprintf("%s-wal", path);
	struct stat st;
	int rc = 0;

	if (!denied(dir, W_OK) || sibling_exists(path, "-shm"))
		goto out;
	if (stat(wal, &st) == 0 && st.st_size > 0) {
		rc = error_set(err, ERR_NOPERM,
			       "%s: its write-ahead log %s holds changes and "
			       "the directory is read-only: copy the database "
			       "with its -wal file to writable storage to "
			       "read it",
			       path, wal);
		goto out;
	}
	rc = 1;
out:
	free(wal);
	free(dir);
	return rc;
}

/* "file:" URI of path, every byte outside [A-Za-z0-9/._~-] escaped. */
static char *uri_of(const char *path, const char *query)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_addf(&sb, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._~-", *p))
			sbuf_addf(&sb, "%c", *p);
		else
			sbuf_addf(&sb, "%%%02X", *p);
	}
	sbuf_addf(&sb, "?%s", query);
	return sbuf_detach(&sb, NULL);
}

int db_check_file(const char *path, int flags, struct error *err)
{
	if (flags & DB_CREATE)
		return create_file(path, err);
	return check_existing(path, flags, err);
}

static int configure(struct db *db, int flags, struct error *err)
{
	int version = 0, rc;

	sqlite3_busy_timeout(db->handle, db->busy_timeout_ms);
	sqlite3_extended_result_codes(db->handle, 1);
	rc = db_exec(db, "PRAGMA foreign_keys = ON", err);
	if (rc)
		return rc;
	if (flags & DB_READONLY)
		return 0;
	if (sqlite3_db_readonly(db->handle, "main") == 1)
		return error_set(err, ERR_NOPERM, "%s: database is read-only",
				 db->path);
	/* Switching to WAL rewrites the file header: make sure the file is
	 * ours first, so another program's database is left as it was. */
	rc = pragma_int(db, "PRAGMA user_version", &version, err);
	if (!rc)
		rc = check_identity(db, version, err);
	if (!rc)
		rc = db_exec(db, "PRAGMA journal_mode = WAL", err);
	if (!rc)
		rc = db_exec(db, "PRAGMA synchronous = FULL", err);
	return rc;
}

/*
 * Process-wide settings, made once before the first connection (SQLite
 * accepts them only before it initialises). Memory statistics take a
 * global mutex around every allocation, and nothing here reads them:
 * measured, that mutex was a tenth of the daemon's database thread.
 */
static void db_global_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_open(const char *path, int flags, int busy_timeout_ms, struct db **out,
	    struct error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	struct db *db = NULL;
	char *real;
	int oflags, rc;

	*out = NULL;
	pthread_once(&once, db_global_init);
	rc = db_check_file(path, flags, err);
	if (rc)
		return rc;
	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	db->flags = flags;
	sbuf_init(&db->ledger.canonical, 0);
	db->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms
						  : DB_BUSY_TIMEOUT_DEFAULT_MS;
	oflags = (flags & DB_READONLY) ? SQLITE_OPEN_READONLY
				       : SQLITE_OPEN_READWRITE;
	/* A connection belongs to one thread at a time (the daemon's
	 * workers open their own), so SQLite need not lock it per call.
	 * NOFOLLOW refuses a symbolic link anywhere in the path: the file
	 * itself was checked above, a linked directory is resolved here. */
	real = db_real_path(path);
	if (flags & DB_READONLY) {
		rc = readonly_mode(real, err);
		if (rc < 0) {
			free(real);
			goto fail;
		}
		if (rc == 1) {
			char *uri = uri_of(real, "immutable=1");

			free(real);
			real = uri;
			oflags |= SQLITE_OPEN_URI;
		}
	}
	rc = sqlite3_open_v2(real, &db->handle,
			     oflags | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
			     NULL);
	free(real);
	if (rc != SQLITE_OK) {
		rc = db->handle ? db_fail(db, rc, err)
				: error_set(err, ERR_SOFTWARE, "%s: cannot open",
					    path);
		goto fail;
	}
	rc = configure(db, flags, err);
	if (!rc && !(flags & DB_READONLY))
		rc = migrate(db, err);
	if (!rc && (flags & DB_READONLY)) {
		int version = db_schema_version(db);

		rc = version < 0 ? db_fail(db, SQLITE_NOTADB, err)
				 : check_identity(db, version, err);
	}
	if (rc)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	if (flags & DB_CREATE)
		unlink(path);
	return rc;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->ncaches; i++) {
		for (int j = 0; j < db->caches[i].set->count; j++)
			sqlite3_finalize(db->caches[i].stmts[j]);
		free(db->caches[i].stmts);
	}
	free(db->caches);
	sha256_free(db->ledger.digest);
	sbuf_release(&db->ledger.canonical);
	sqlite3_close(db->handle);
	free(db->actor);
	free(db->path);
	free(db);
}

static struct stmt_cache *cache_for(struct db *db,
				    const struct db_statements *set)
{
	struct stmt_cache *c;

	for (size_t i = 0; i < db->ncaches; i++)
		if (db->caches[i].set == set)
			return &db->caches[i];
	xgrow(&db->caches, sizeof(*db->caches), db->ncaches + 1,
	      &db->caches_alloc);
	c = &db->caches[db->ncaches++];
	c->set = set;
	c->stmts = xcalloc((size_t)set->count, sizeof(*c->stmts));
	return c;
}

int db_prepare(struct db *db, const struct db_statements *set, int index,
	       sqlite3_stmt **out, struct error *err)
{
	struct stmt_cache *c = cache_for(db, set);
	sqlite3_stmt **st;

	if (index < 0 || index >= set->count)
		return error_set(err, ERR_SOFTWARE, "%s: no statement %d",
				 set->owner, index);
	st = &c->stmts[index];
	if (!*st) {
		int rc = sqlite3_prepare_v3(db->handle, set->sql[index], -1,
					    SQLITE_PREPARE_PERSISTENT, st, NULL);
		if (rc != SQLITE_OK) {
			db_fail(db, rc, err);
			return error_prefix(err, "%s statement %d", set->owner,
					    index);
		}
	} else {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
	}
	*out = *st;
	return 0;
}

int db_step(struct db *db, sqlite3_stmt *st, struct error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(db, rc, err);
}

int db_step_done(struct db *db, sqlite3_stmt *st, struct error *err)
{
	int rc = db_step(db, st, err);

	if (rc == 1) {
		sqlite3_reset(st);
		return 0;
	}
	return rc;
}

int db_each_row(struct db *db, sqlite3_stmt *st, db_row_fn row, void *arg,
		struct error *err)
{
	int rc;

	while ((rc = db_step(db, st, err)) == 1) {
		rc = row(st, arg);
		if (rc) {
			sqlite3_reset(st);
			return rc;
		}
	}
	return rc;
}

void db_bind_text(sqlite3_stmt *st, int index, const char *s)
{
	if (s)
		sqlite3_bind_text(st, index, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, index);
}

void db_bind_text_static(sqlite3_stmt *st, int index, const char *s)
{
	if (s)
		sqlite3_bind_text(st, index, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, index);
}

void db_bind_id(sqlite3_stmt *st, int index, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, index, id);
	else
		sqlite3_bind_null(st, index);
}

char *db_column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? xstrdup((const char *)s) : NULL;
}

const char *db_column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? (const char *)s : "";
}

/*
 * Nested transactions are savepoints, prepared once per connection: an
 * import of 100,000 rows opens one per registry call, and parsing the
 * text each time was a tenth of its time. One name serves every level:
 * RELEASE and ROLLBACK TO act on the innermost savepoint of that name,
 * and nesting here is strictly last in, first out.
 */
enum { TX_SAVEPOINT, TX_RELEASE, TX_ROLLBACK_TO, TX__COUNT };

static const char *const tx_sql[TX__COUNT] = {
	[TX_SAVEPOINT] = "SAVEPOINT nested",
	[TX_RELEASE] = "RELEASE nested",
	[TX_ROLLBACK_TO] = "ROLLBACK TO nested",
};

static const struct db_statements tx_statements = {"db", tx_sql, TX__COUNT};

static int tx_run(struct db *db, int index, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &tx_statements, index, &st, err);

	return rc ? rc : db_step_done(db, st, err);
}

int db_begin(struct db *db, struct error *err)
{
	int rc;

	if (db->depth == 0)
		rc = db_exec(db, "BEGIN IMMEDIATE", err);
	else
		rc = tx_run(db, TX_SAVEPOINT, err);
	if (!rc)
		db->depth++;
	return rc;
}

int db_commit(struct db *db, struct error *err)
{
	int rc;

	if (db->depth <= 0)
		return error_set(err, ERR_SOFTWARE, "commit outside a transaction");
	if (db->depth == 1) {
		db->ledger.head_valid = false;
		rc = db_exec(db, "COMMIT", err);
	} else {
		rc = tx_run(db, TX_RELEASE, err);
	}
	if (rc) {
		db_rollback(db);
		return rc;
	}
	db->depth--;
	return 0;
}

void db_rollback(struct db *db)
{
	if (db->depth <= 0)
		return;
	db->ledger.head_valid = false;
	if (db->depth == 1) {
		sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
	} else {
		/* ROLLBACK TO keeps the savepoint open: RELEASE ends it */
		tx_run(db, TX_ROLLBACK_TO, NULL);
		tx_run(db, TX_RELEASE, NULL);
	}
	db->depth--;
}

int db_bulk_begin(struct db *db, struct error *err)
{
	int rc = db_exec(db, "PRAGMA temp_store = MEMORY", err);

	if (rc == 0)
		rc = db_exec(db, "PRAGMA cache_size = -32768", err);
	return rc;
}

void db_bulk_end(struct db *db)
{
	/* the defaults db_open leaves: nothing sets them otherwise */
	sqlite3_exec(db->handle, "PRAGMA temp_store = DEFAULT; "
		     "PRAGMA cache_size = -2000", NULL, NULL, NULL);
}

int db_begin_if_none(struct db *db, bool *own, struct error *err)
{
	int rc;

	*own = false;
	if (db->depth > 0)
		return 0;
	rc = db_begin(db, err);
	*own = rc == 0;
	return rc;
}

int db_end_if_own(struct db *db, bool own, int rc, struct error *err)
{
	if (!own)
		return rc;
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}
