/*
 * Shared helpers for the cmocka unit tests: temporary directories and
 * fresh databases (real SQLite files, removed at the end).
 */
#ifndef CHANCERY_TESTUTIL_H
#define CHANCERY_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chancery/db.h"

/* A new directory under $TMPDIR (or /tmp); caller frees the string. */
char *test_tmpdir(void);
/* Removes a directory tree made by test_tmpdir and frees the path. */
void test_rmtree(char *dir);

/* A fresh, migrated database file in a new temporary directory. */
struct test_db {
	char *dir;
	char *path;
	struct db *db;
};
void test_db_open(struct test_db *t);
void test_db_close(struct test_db *t);

/* Runs one or more SQL statements (fails the test on error). */
void test_exec(struct db *db, const char *sql);
/* The single integer a query returns (fails the test on error). */
int64_t test_query_int(struct db *db, const char *sql);
/* The text of the first column of the first row a query returns; fails
 * the test when there is no row or the value is NULL. Caller frees. */
char *test_query_text(struct db *db, const char *sql);
/* The same, but NULL when there is no row or the value is NULL. */
char *test_query_text_or_null(struct db *db, const char *sql);
/* Writes text to dir/name; returns the path (caller frees). */
char *test_write_file(const char *dir, const char *name, const char *text);

/* Fails with both values shown when the strings differ. */
#define assert_str(got, want) assert_string_equal((got), (want))

#endif
