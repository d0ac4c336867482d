#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/db.h"
#include "chancery/ledger.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

static void test_create_sets_schema_and_pragmas(void **state)
{
	struct test_db t;
	struct stat st;

	(void)state;
	test_db_open(&t);
	assert_int_equal(db_schema_version(t.db), db_schema_latest());
	assert_int_equal(test_query_int(t.db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(test_query_int(t.db, "PRAGMA application_id"),
			 0x43484e43);
	assert_int_equal(stat(t.path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	test_db_close(&t);
}

/* Opening files that are not ours, or are newer, is refused by name. */
static void test_open_refuses(void **state)
{
	static const struct {
		const char *sql; /* run on a fresh raw SQLite file */
		int want_rc;
		const char *want;
	} cases[] = {
		{"CREATE TABLE other (x)", ERR_DATA, "not a chancery database"},
		{"PRAGMA application_id = 1234", ERR_DATA,
		 "not a chancery database"},
		{"PRAGMA application_id = 1128812099; PRAGMA user_version = 999",
		 ERR_DATA, "newer"},
	};
	char *dir = test_tmpdir();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = xasprintf("%s/db%zu", dir, i);
		sqlite3 *raw;
		struct db *db = NULL;
		struct error err = ERROR_INIT;

		assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
		assert_int_equal(sqlite3_exec(raw, cases[i].sql, NULL, NULL,
					      NULL),
				 SQLITE_OK);
		sqlite3_close(raw);
		assert_int_equal(db_open(path, 0, 1000, &db, &err),
				 cases[i].want_rc);
		if (!strstr(err.msg, cases[i].want) || !strstr(err.msg, path))
			fail_msg("case %zu: '%s'", i, err.msg);
		assert_null(db);
		free(path);
	}
	test_rmtree(dir);
}

static void test_missing_and_existing(void **state)
{
	char *dir = test_tmpdir();
	char *path = xasprintf("%s/none.db", dir);
	struct db *db = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(db_open(path, 0, 1000, &db, &err), ERR_NOINPUT);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(access(path, F_OK), -1); /* not created */
	assert_int_equal(db_open(path, DB_CREATE, 1000, &db, &err), 0);
	db_close(db);
	db = NULL;
	assert_int_equal(db_open(path, DB_CREATE, 1000, &db, &err),
			 ERR_CANTCREAT);
	free(path);
	test_rmtree(dir);
}

/* The names in dir, one per line, sorted: what an open left behind. */
static void dir_listing(const char *dir, struct sbuf *out)
{
	char *cmd = xasprintf("ls -A '%s'", dir);
	FILE *f = popen(cmd, "r");
	char line[256];

	sbuf_reset(out);
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		sbuf_addstr(out, line);
	pclose(f);
	free(cmd);
}

/*
 * Issue 15 item 8 and the permission messages: a zero-length file (and
 * an empty SQLite file) was taken for a new database and given a schema;
 * only a DB_CREATE open makes one now. Every refusal names the path and
 * what is wrong, and leaves the directory as it was. A symbolic link as
 * the file is refused; a linked directory on the way is followed.
 */
static void test_open_refuses_what_is_no_database(void **state)
{
	static const struct {
		const char *setup; /* shell, run in the directory */
		const char *path;  /* relative to the directory */
		int flags, want_rc;
		const char *want; /* "" to want success */
	} cases[] = {
		{": > z.db", "z.db", 0, ERR_NOINPUT,
		 "z.db: database file is empty (0 bytes): not a chancery "
		 "database; restore it from a backup or run 'chancery init' "
		 "on a new path"},
		{": > z.db", "z.db", DB_READONLY, ERR_NOINPUT,
		 "database file is empty (0 bytes)"},
		{": > z.db", "z.db", DB_CREATE, ERR_CANTCREAT,
		 "z.db: already exists (an empty file, 0 bytes: remove it "
		 "first to create a database there)"},
		{"python3 -c 'import sqlite3; c = sqlite3.connect(\"e.db\"); "
		 "c.execute(\"PRAGMA user_version = 0\"); c.execute(\"VACUUM"
		 "\")'", "e.db", 0, ERR_NOINPUT,
		 "e.db: an empty SQLite database with no chancery schema: not "
		 "a chancery database"},
		{"mkdir d.db", "d.db", 0, ERR_NOINPUT,
		 "d.db: not a regular file"},
		{"ln -s elsewhere.db l.db", "l.db", 0, ERR_CONFIG,
		 "l.db: is a symbolic link (to elsewhere.db): refusing to open "
		 "it"},
		{"ln -s elsewhere.db l.db", "l.db", DB_CREATE, ERR_CANTCREAT,
		 "l.db: already exists (a symbolic link)"},
	};
	struct sbuf before = SBUF_INIT, after = SBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir = test_tmpdir();
		char *cmd = xasprintf("cd '%s' && %s", dir, cases[i].setup);
		char *path = xasprintf("%s/%s", dir, cases[i].path);
		struct db *db = NULL;
		struct error err = ERROR_INIT;
		int rc;

		assert_int_equal(system(cmd), 0);
		dir_listing(dir, &before);
		rc = db_open(path, cases[i].flags, 1000, &db, &err);
		dir_listing(dir, &after);
		if (rc != cases[i].want_rc || !strstr(err.msg, cases[i].want) ||
		    !strstr(err.msg, path))
			fail_msg("case %zu: got %d '%s', want %d '%s'", i, rc,
				 err.msg, cases[i].want_rc, cases[i].want);
		assert_null(db);
		if (strcmp(before.buf, after.buf) != 0)
			fail_msg("case %zu: the directory changed: '%s' -> '%s'",
				 i, before.buf, after.buf);
		free(cmd);
		free(path);
		test_rmtree(dir);
	}
	sbuf_release(&before);
	sbuf_release(&after);
}

/* A database reached through a linked directory opens, and its -wal sits
 * beside the real file. */
static void test_open_through_linked_directory(void **state)
{
	char *dir = test_tmpdir();
	char *real = xasprintf("%s/real/x.db", dir);
	char *linked = xasprintf("%s/link/x.db", dir);
	char *cmd = xasprintf("ln -s real '%s/link'", dir);
	struct db *db = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(db_open(real, DB_CREATE, 1000, &db, &err), 0);
	db_close(db);
	db = NULL;
	assert_int_equal(system(cmd), 0);
	if (db_open(linked, 0, 1000, &db, &err))
		fail_msg("%s", err.msg);
	assert_str(db_path(db), linked);
	assert_int_equal(db_schema_version(db), db_schema_latest());
	db_close(db);
	free(real);
	free(linked);
	free(cmd);
	test_rmtree(dir);
}

static void test_nested_transactions(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;

	(void)state;
	test_db_open(&t);
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(db_exec(t.db, "INSERT INTO lists (name, kind, "
				       "created_at, updated_at) VALUES "
				       "('a', 'static', 0, 0)", &err), 0);
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(db_exec(t.db, "INSERT INTO lists (name, kind, "
				       "created_at, updated_at) VALUES "
				       "('b', 'static', 0, 0)", &err), 0);
	db_rollback(t.db); /* only b goes */
	assert_true(db_in_transaction(t.db));
	assert_int_equal(db_commit(t.db, &err), 0);
	assert_false(db_in_transaction(t.db));
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM lists"), 1);
	test_db_close(&t);
}

static void add_list(struct db *db, const char *name)
{
	struct error err = ERROR_INIT;
	char sql[128];

	snprintf(sql, sizeof(sql), "INSERT INTO lists (name, kind, created_at, "
		 "updated_at) VALUES ('%s', 'static', 0, 0)", name);
	if (db_exec(db, sql, &err))
		fail_msg("insert %s: %s", name, err.msg);
}

/*
 * Every nesting level is a savepoint of one name: commit and roll back
 * must act on the innermost only, at any depth, in any order.
 */
static void test_deep_nesting_acts_on_the_innermost(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	char *names;

	(void)state;
	test_db_open(&t);
	assert_int_equal(db_begin(t.db, &err), 0);
	add_list(t.db, "a");
	assert_int_equal(db_begin(t.db, &err), 0);
	add_list(t.db, "b");
	assert_int_equal(db_begin(t.db, &err), 0);
	add_list(t.db, "c");
	db_rollback(t.db);                           /* c goes */
	assert_int_equal(db_begin(t.db, &err), 0);
	add_list(t.db, "d");
	assert_int_equal(db_commit(t.db, &err), 0);  /* d into b's level */
	assert_int_equal(db_commit(t.db, &err), 0);  /* b, d into a's */
	assert_int_equal(db_begin(t.db, &err), 0);
	add_list(t.db, "e");
	assert_int_equal(db_begin(t.db, &err), 0);
	add_list(t.db, "f");
	assert_int_equal(db_commit(t.db, &err), 0);  /* f into e's level */
	db_rollback(t.db);                           /* e and f go */
	assert_int_equal(db_commit(t.db, &err), 0);
	assert_false(db_in_transaction(t.db));
	names = test_query_text(t.db, "SELECT group_concat(name, '') FROM "
				"(SELECT name FROM lists ORDER BY name)");
	assert_string_equal(names, "abd");
	free(names);
	test_db_close(&t);
}

/* How many lists are named 'x' (what a case left behind). */
static int64_t lists_named_x(struct db *db)
{
	return test_query_int(db, "SELECT count(*) FROM lists "
				  "WHERE name = 'x'");
}

/*
 * db_begin_if_none / db_end_if_own: alone they begin, then commit (or
 * roll back and hand rc back); inside a caller's transaction they take
 * no savepoint and leave the outcome to the caller, who may commit work
 * the inner step failed on or roll back work it finished.
 */
static void test_begin_if_none(void **state)
{
	static const struct {
		bool outer;	   /* a caller's transaction is open */
		int rc;		   /* what the work returns */
		bool outer_commits; /* how the caller ends its own */
		int64_t want_rows;
	} cases[] = {
		{false, 0, false, 1},
		{false, ERR_DATA, false, 0},
		{true, 0, true, 1},
		{true, 0, false, 0},
		{true, ERR_DATA, true, 1},
		{true, ERR_DATA, false, 0},
	};
	struct test_db t;
	struct db *other = NULL;
	struct error err = ERROR_INIT;
	bool own = true;

	(void)state;
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		test_exec(t.db, "DELETE FROM lists");
		if (cases[i].outer)
			assert_int_equal(db_begin(t.db, &err), 0);
		assert_int_equal(db_begin_if_none(t.db, &own, &err), 0);
		assert_true(db_in_transaction(t.db));
		if (own == cases[i].outer)
			fail_msg("case %zu: own %d with a caller's "
				 "transaction %d", i, own, cases[i].outer);
		test_exec(t.db, "INSERT INTO lists (name, kind, created_at, "
				"updated_at) VALUES ('x', 'static', 0, 0)");
		rc = db_end_if_own(t.db, own, cases[i].rc, &err);
		if (rc != cases[i].rc ||
		    db_in_transaction(t.db) != cases[i].outer)
			fail_msg("case %zu: ended with %d, in a transaction "
				 "%d; want %d, %d", i, rc,
				 db_in_transaction(t.db), cases[i].rc,
				 cases[i].outer);
		if (cases[i].outer && cases[i].outer_commits)
			assert_int_equal(db_commit(t.db, &err), 0);
		else if (cases[i].outer)
			db_rollback(t.db);
		if (lists_named_x(t.db) != cases[i].want_rows)
			fail_msg("case %zu: %lld rows, want %lld", i,
				 (long long)lists_named_x(t.db),
				 (long long)cases[i].want_rows);
	}

	/* A begin that fails (locked by another connection) owns nothing,
	 * and ending hands its error back untouched. */
	assert_int_equal(db_open(t.path, 0, 50, &other, &err), 0);
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(db_begin_if_none(other, &own, &err), ERR_TEMPFAIL);
	assert_false(own);
	assert_false(db_in_transaction(other));
	assert_int_equal(db_end_if_own(other, own, ERR_TEMPFAIL, &err),
			 ERR_TEMPFAIL);
	assert_non_null(strstr(err.msg, "locked"));
	db_rollback(t.db);
	db_close(other);
	test_db_close(&t);
}

/* The rows db_each_row showed a visit, and where it was told to stop. */
struct visit {
	struct sbuf seen; /* "1,2,3" */
	int64_t stop_at;  /* the row value whose callback returns stop_rc */
	int stop_rc;
};

static int visit_row(sqlite3_stmt *st, void *arg)
{
	struct visit *v = arg;
	int64_t x = sqlite3_column_int64(st, 0);

	sbuf_addf(&v->seen, "%s%lld", v->seen.len ? "," : "", (long long)x);
	return x == v->stop_at ? v->stop_rc : 0;
}

/* 1, 2, 3, one row at a time (a recursive query yields each row as it
 * makes it, so a failing row 3 fails after rows 1 and 2 were seen). */
#define ONE_TO_THREE                                                   \
	"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n " \
	"WHERE x < 3) "

static const char *const each_row_sql[] = {
	ONE_TO_THREE "SELECT x FROM n",
	ONE_TO_THREE "SELECT x FROM n WHERE x > 9",
	/* abs() of the smallest integer overflows: a step error. */
	ONE_TO_THREE "SELECT CASE WHEN x = 3 THEN "
		     "abs(-9223372036854775807 - 1) ELSE x END FROM n",
};

static const struct db_statements each_row_statements = {
	"test", each_row_sql, 3};

/*
 * db_each_row visits every row, stops at the first callback that returns
 * non-zero and hands that value back as it is, passes a step's error on
 * with its message, and leaves the statement reset: stepped again it
 * starts from the first row.
 */
static void test_each_row(void **state)
{
	static const struct {
		int sql;
		int64_t stop_at;
		int stop_rc;
		int want_rc;
		const char *want_seen, *want_msg;
	} cases[] = {
		{0, 0, 0, 0, "1,2,3", ""},
		{1, 0, 0, 0, "", ""},
		{0, 2, 7, 7, "1,2", ""},
		{0, 1, ERR_NOTFOUND, ERR_NOTFOUND, "1", ""},
		{0, 3, -1, -1, "1,2,3", ""},
		{2, 0, 0, ERR_SOFTWARE, "1,2", "integer overflow"},
		{2, 1, 5, 5, "1", ""},
	};
	/* What each statement gives when walked to the end. */
	static const struct {
		const char *seen;
		int rc;
	} whole[] = {{"1,2,3", 0}, {"", 0}, {"1,2", ERR_SOFTWARE}};
	struct test_db t;

	(void)state;
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct visit v = {SBUF_INIT, cases[i].stop_at,
				  cases[i].stop_rc};
		struct visit again = {SBUF_INIT, 0, 0};
		struct error err = ERROR_INIT;
		sqlite3_stmt *st;
		int rc;

		assert_int_equal(db_prepare(t.db, &each_row_statements,
					    cases[i].sql, &st, &err), 0);
		rc = db_each_row(t.db, st, visit_row, &v, &err);
		if (rc != cases[i].want_rc ||
		    strcmp(v.seen.buf, cases[i].want_seen) != 0 ||
		    !strstr(err.msg, cases[i].want_msg))
			fail_msg("case %zu: got %d '%s' '%s', want %d '%s' "
				 "'%s'", i, rc, v.seen.buf, err.msg,
				 cases[i].want_rc, cases[i].want_seen,
				 cases[i].want_msg);
		if (sqlite3_stmt_busy(st))
			fail_msg("case %zu: the statement was left mid-walk",
				 i);
		/* The same statement again, to the end: from the first row. */
		rc = db_each_row(t.db, st, visit_row, &again, &err);
		if (strcmp(again.seen.buf, whole[cases[i].sql].seen) != 0 ||
		    rc != whole[cases[i].sql].rc)
			fail_msg("case %zu: stepped again: got %d '%s'", i, rc,
				 again.seen.buf);
		sbuf_release(&v.seen);
		sbuf_release(&again.seen);
	}
	test_db_close(&t);
}

static void test_ledger_chain(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	struct ledger_event ev = {.kind = LEDGER_BODY_ADDED, .body_id = 0,
				  .data = "{\"name\":\"UNSG\"}"};
	int64_t id1 = 0, id2 = 0;

	(void)state;
	test_db_open(&t);
	assert_int_equal(ledger_append(t.db, &ev, &id1, &err), 0);
	ev.kind = LEDGER_CONTACT_ADDED;
	ev.data = NULL;
	assert_int_equal(ledger_append(t.db, &ev, &id2, &err), 0);
	assert_int_equal(id2, id1 + 1);
	/* Row 2 links to row 1's hash; row 1 to the genesis hash. */
	assert_int_equal(test_query_int(t.db,
		"SELECT count(*) FROM events a JOIN events b ON b.id = a.id + 1 "
		"WHERE b.prev_hash = a.hash"), 1);
	assert_int_equal(test_query_int(t.db,
		"SELECT count(*) FROM events WHERE id = 1 AND prev_hash = '"
		LEDGER_GENESIS_HASH "'"), 1);
	/* The triggers make the ledger append-only. */
	assert_int_not_equal(db_exec(t.db, "UPDATE events SET data = '{}'",
				     &err), 0);
	assert_int_not_equal(db_exec(t.db, "DELETE FROM events", &err), 0);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM events"),
			 2);
	test_db_close(&t);
}

/* The chain is intact and has want rows. */
static void assert_chain(struct db *db, int64_t want)
{
	struct ledger_verify_result res;
	struct error err = ERROR_INIT;

	assert_int_equal(ledger_verify(db, NULL, &res, &err), 0);
	assert_int_equal(res.rows, want);
	assert_int_equal(res.head_id, want);
}

/*
 * Inside one write transaction the ledger remembers the head instead of
 * reading it: appends undone by a rolled-back savepoint or transaction,
 * and appends by another connection between transactions, must not leave
 * it linking to a row that is not the newest.
 */
static void test_ledger_head_cache(void **state)
{
	struct test_db t;
	struct db *other = NULL;
	struct error err = ERROR_INIT;
	struct ledger_event ev = {.kind = LEDGER_BODY_ADDED, .data = "{}"};
	int64_t id = 0;

	(void)state;
	test_db_open(&t);
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(ledger_append(t.db, &ev, &id, &err), 0);
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(ledger_append(t.db, &ev, &id, &err), 0);
	assert_int_equal(id, 2);
	db_rollback(t.db); /* row 2 goes */
	assert_int_equal(ledger_append(t.db, &ev, &id, &err), 0);
	assert_int_equal(id, 2);
	assert_int_equal(db_commit(t.db, &err), 0);
	assert_chain(t.db, 2);

	/* A whole transaction rolled back. */
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(ledger_append(t.db, &ev, &id, &err), 0);
	assert_int_equal(ledger_append(t.db, &ev, &id, &err), 0);
	db_rollback(t.db);
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(ledger_append(t.db, &ev, &id, &err), 0);
	assert_int_equal(id, 3);

	/* Another connection appends between two of ours. */
	assert_int_equal(db_commit(t.db, &err), 0);
	assert_int_equal(db_open(t.path, 0, 0, &other, &err), 0);
	assert_int_equal(ledger_append(other, &ev, &id, &err), 0);
	assert_int_equal(id, 4);
	db_close(other);
	assert_int_equal(db_begin(t.db, &err), 0);
	assert_int_equal(ledger_append(t.db, &ev, &id, &err), 0);
	assert_int_equal(id, 5);
	assert_int_equal(db_commit(t.db, &err), 0);
	assert_chain(t.db, 5);
	test_db_close(&t);
}

static void test_canonical_form(void **state)
{
	static const struct {
		struct ledger_row row;
		const char *want;
	} cases[] = {
		{{1, 1700000000, "body.added", 0, 0, 7, 0, "{}",
		  LEDGER_GENESIS_HASH},
		 "1:1,10:1700000000,10:body.added,0:,0:,1:7,0:,2:{},64:"
		 LEDGER_GENESIS_HASH ","},
		{{12, 5, "delivery.sent", 3, 44, 7, 9, "{\"a\":\"é\"}", "ab"},
		 "2:12,1:5,13:delivery.sent,1:3,2:44,1:7,1:9,10:{\"a\":\"é\"},"
		 "2:ab,"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf out = SBUF_INIT;

		ledger_canonical(&cases[i].row, &out);
		assert_str(out.buf, cases[i].want);
		sbuf_release(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_sets_schema_and_pragmas),
		cmocka_unit_test(test_open_refuses),
		cmocka_unit_test(test_missing_and_existing),
		cmocka_unit_test(test_open_refuses_what_is_no_database),
		cmocka_unit_test(test_open_through_linked_directory),
		cmocka_unit_test(test_nested_transactions),
		cmocka_unit_test(test_deep_nesting_acts_on_the_innermost),
		cmocka_unit_test(test_each_row),
		cmocka_unit_test(test_begin_if_none),
		cmocka_unit_test(test_ledger_chain),
		cmocka_unit_test(test_ledger_head_cache),
		cmocka_unit_test(test_canonical_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
