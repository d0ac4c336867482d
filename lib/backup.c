/* backup: see backup.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_impl.h"
#include "chancery/backup.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"

/* Pages per backup step: 4 MiB at SQLite's default page size. */
#define BACKUP_STEP_PAGES 1024

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Removes path and the -wal/-shm SQLite may have left beside it. */
static void remove_copy(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);

		unlink(p);
		free(p);
	}
}

/* The copy's pages from src's snapshot into the file at tmp. */
static int copy_pages(struct db *db, const char *tmp, int64_t *pages,
		      struct error *err)
{
	sqlite3 *src = db_handle(db), *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc, src_rc = SQLITE_OK;
	bool snapshot = false;

	rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
				 SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		rc = error_set(err, ERR_CANTCREAT, "%s: %s", tmp,
			       dst ? sqlite3_errmsg(dst) : "cannot open");
		goto out;
	}
	/* One read transaction around every step: the copy is one snapshot
	 * and a write by the daemon in between does not restart it. */
	if ((rc = db_exec(db, "BEGIN", err)) ||
	    (rc = db_exec(db, "SELECT count(*) FROM sqlite_schema", err)))
		goto out;
	snapshot = true;
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = error_set(err, ERR_CANTCREAT, "%s: %s", tmp,
			       sqlite3_errmsg(dst));
		goto out;
	}
	do {
		src_rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		if (src_rc == SQLITE_BUSY || src_rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (src_rc == SQLITE_OK || src_rc == SQLITE_BUSY ||
		 src_rc == SQLITE_LOCKED);
	*pages = sqlite3_backup_pagecount(b);
	rc = sqlite3_backup_finish(b);
	if (src_rc != SQLITE_DONE || rc != SQLITE_OK) {
		int code = src_rc != SQLITE_DONE ? src_rc : rc;

		rc = error_set(err, (code & 0xff) == SQLITE_FULL ? ERR_IO
								 : ERR_CANTCREAT,
			       "%s: copy failed: %s", tmp, sqlite3_errstr(code));
		goto out;
	}
	rc = 0;
out:
	if (snapshot)
		db_exec(db, "COMMIT", NULL);
	if (dst && sqlite3_close(dst) != SQLITE_OK && !rc)
		rc = error_set(err, ERR_IO, "%s: cannot close the copy", tmp);
	return rc;
}

/* PRAGMA integrity_check on the copy: "ok", or its first complaint. */
static int check_integrity(struct db *copy, struct error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db_handle(copy), "PRAGMA integrity_check",
				    -1, &st, NULL);

	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);

		rc = r && strcmp(r, "ok") == 0
			     ? 0
			     : error_set(err, ERR_DATA, "integrity check "
					 "failed: %.200s", r ? r : "(no answer)");
	} else {
		rc = error_set(err, ERR_DATA, "integrity check failed: %s",
			       sqlite3_errmsg(db_handle(copy)));
	}
	sqlite3_finalize(st);
	return rc;
}

static int verify_copy(const char *tmp, struct backup_result *res,
		       struct error *err)
{
	struct db *copy = NULL;
	int rc = db_open(tmp, DB_READONLY, 0, &copy, err);

	if (!rc)
		rc = check_integrity(copy, err);
	if (!rc)
		rc = ledger_verify(copy, NULL, &res->ledger, err);
	db_close(copy);
	return rc;
}

int backup_run(struct db *db, const char *dest, bool force,
	       struct backup_result *res, struct error *err)
{
	char *tmp = NULL, *dir = NULL, *real = NULL;
	struct stat st;
	int fd, rc;

	memset(res, 0, sizeof(*res));
	if (lstat(dest, &st) == 0 && !force)
		return error_set(err, ERR_CANTCREAT, "%s: already exists "
				 "(--force replaces it)", dest);
	if (lstat(dest, &st) == 0 && !S_ISREG(st.st_mode))
		return error_set(err, ERR_CANTCREAT, "%s: not a regular file: "
				 "not replacing it", dest);
	/* the copy is made next to dest, through the real directory: SQLite
	 * (NOFOLLOW) refuses a linked directory on the way */
	real = db_real_path(dest);
	tmp = xasprintf("%s.tmp-XXXXXX", real);
	fd = mkstemp(tmp); /* 0600 */
	if (fd < 0) {
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot create",
				     dest);
		goto out_free;
	}
	close(fd);
	rc = copy_pages(db, tmp, &res->pages, err);
	if (!rc && fsync_path(tmp, O_RDONLY) != 0)
		rc = error_set_errno(err, ERR_IO, "%s: cannot sync", tmp);
	if (!rc) {
		rc = verify_copy(tmp, res, err);
		if (rc)
			error_prefix(err, "%s: the copy does not verify, "
				     "removed", dest);
	}
	if (!rc && stat(tmp, &st) == 0)
		res->bytes = st.st_size;
	/* Without --force link(2) refuses a dest made meanwhile; with it
	 * rename(2) replaces dest in one step. */
	if (!rc && !force && link(tmp, real) != 0)
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot create",
				     dest);
	else if (!rc && force && rename(tmp, real) != 0)
		rc = error_set_errno(err, ERR_CANTCREAT, "%s: cannot replace",
				     dest);
	if (!rc) {
		dir = db_dir_of(real);
		fsync_path(dir, O_RDONLY | O_DIRECTORY);
	}
	remove_copy(tmp);
out_free:
	free(dir);
	free(tmp);
	free(real);
	return rc;
}
