#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/xalloc.h"
#include "testutil.h"

char *test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = xasprintf("%s/chancery-unit-XXXXXX", base && *base ? base : "/tmp");

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void test_rmtree(char *dir)
{
	if (dir)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

void test_db_open(struct test_db *t)
{
	struct error err = ERROR_INIT;
	int rc;

	t->dir = test_tmpdir();
	t->path = xasprintf("%s/test.db", t->dir);
	rc = db_open(t->path, DB_CREATE, 1000, &t->db, &err);
	if (rc)
		fail_msg("db_open: %s", err.msg);
}

void test_db_close(struct test_db *t)
{
	db_close(t->db);
	t->db = NULL;
	free(t->path);
	t->path = NULL;
	test_rmtree(t->dir);
	t->dir = NULL;
}

void test_exec(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db_handle(db), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

int64_t test_query_int(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db_handle(db)));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		fail_msg("no row from %s", sql);
	sqlite3_finalize(st);
	return v;
}

char *test_query_text_or_null(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	if (sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s", sql);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

char *test_query_text(struct db *db, const char *sql)
{
	char *v = test_query_text_or_null(db, sql);

	if (!v)
		fail_msg("no row from %s", sql);
	return v;
}

char *test_write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail_msg("cannot write %s", path);
	return path;
}
