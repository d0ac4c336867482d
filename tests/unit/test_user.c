/*
 * user: roles, accounts, the login throttle and sessions, against a real
 * database file. The Argon2 cost is lowered (user_impl.h) for every case
 * but the one that checks the production parameters and the time an
 * unknown name costs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../lib/user_impl.h"
#include "chancery/sbuf.h"
#include "chancery/sha256.h"
#include "chancery/user.h"
#include "testutil.h"

#define PW "correct horse battery"
#define T0 1780000000 /* a fixed "now" for the throttle and sessions */

static void cheap(void)
{
	user_hash_cost_set(1, 64);
}

static void open_db(struct test_db *t)
{
	test_db_open(t);
	db_set_actor(t->db, "clerk");
}

static void add_ok(struct db *db, const char *name, enum user_role role,
		   const char *pw)
{
	struct error err = ERROR_INIT;

	if (user_add(db, name, role, pw, &err))
		fail_msg("user_add %s: %s", name, err.msg);
}

static int64_t count(struct db *db, const char *sql)
{
	return test_query_int(db, sql);
}

/* ---- roles ---- */

static void test_roles(void **state)
{
	static const struct {
		const char *name;
		int want; /* role, or -1 for refused */
	} cases[] = {
		{"viewer", USER_VIEWER},     {"editor", USER_EDITOR},
		{"approver", USER_APPROVER}, {"admin", USER_ADMIN},
		{"Admin", -1},               {"", -1},
		{"root", -1},                {"admin ", -1},
		{NULL, -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		enum user_role r = USER_VIEWER;
		int rc = user_role_parse(cases[i].name, &r, &err);

		if (cases[i].want < 0) {
			if (rc != ERR_USAGE)
				fail_msg("'%s': got %d, want ERR_USAGE",
					 cases[i].name, rc);
			if (!strstr(err.msg, "unknown role") ||
			    !strstr(err.msg, "(viewer, editor, approver, "
					     "admin)"))
				fail_msg("'%s': message '%s'", cases[i].name,
					 err.msg);
			continue;
		}
		if (rc || (int)r != cases[i].want)
			fail_msg("'%s': got rc %d role %d, want %d",
				 cases[i].name, rc, (int)r, cases[i].want);
		assert_str(user_role_name(r), cases[i].name);
	}
	assert_null(user_role_name((enum user_role)4));
	assert_null(user_role_name((enum user_role)-1));
}

static void test_may_matrix(void **state)
{
	/* rows: viewer, editor, approver, admin; columns: read, edit,
	 * approve, administer */
	static const bool want[4][4] = {
		{true, false, false, false},
		{true, true, false, false},
		{true, true, true, false},
		{true, true, true, true},
	};

	(void)state;
	for (int r = 0; r < 4; r++)
		for (int a = 0; a < 4; a++)
			if (user_may((enum user_role)r, (enum user_action)a) !=
			    want[r][a])
				fail_msg("role %s action %d: got %d, want %d",
					 user_role_name((enum user_role)r), a,
					 !want[r][a], want[r][a]);
	assert_false(user_may((enum user_role)7, USER_READ));
}

/* ---- accounts ---- */

static void test_names(void **state)
{
	static char long64[65], long65[66];
	static const struct {
		const char *name;
		int want;         /* 0 or the error code */
		const char *msg;  /* part of the message */
	} cases[] = {
		{"alice", 0, NULL},
		{"Müvəkkil Ələkbərov", 0, NULL},
		{long64, 0, NULL},
		{"", ERR_DATA, "cannot be empty"},
		{long65, ERR_DATA, "1 to 64 bytes (this one has 65)"},
		{"a\x01z", ERR_DATA, "holds a control character"},
		{"bad\xff", ERR_DATA, "not valid UTF-8"},
		{"over\xc0\xaflong", ERR_DATA, "not valid UTF-8"},
		{"evil\r\nX-Header: 1", ERR_DATA, "holds a control character"},
		{"line\n", ERR_DATA, "holds a control character"},
		{" lead", ERR_DATA, "begins or ends with a space"},
		{"trail ", ERR_DATA, "begins or ends with a space"},
	};
	struct test_db t;
	int64_t added = 0;

	(void)state;
	cheap();
	memset(long64, 'n', 64);
	memset(long65, 'n', 65);
	open_db(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		int rc = user_add(t.db, cases[i].name, USER_VIEWER, PW, &err);

		if (rc != cases[i].want)
			fail_msg("case %zu: got %d (%s), want %d", i, rc,
				 err.msg, cases[i].want);
		if (cases[i].msg && !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: message '%s' lacks '%s'", i,
				 err.msg, cases[i].msg);
		if (!rc) {
			struct user_info u;

			added++;
			if (user_find(t.db, cases[i].name, &u, &err))
				fail_msg("case %zu: find: %s", i, err.msg);
			assert_str(u.name, cases[i].name);
			assert_int_equal(u.role, USER_VIEWER);
			assert_false(u.disabled);
			assert_true(u.created_at > 0);
			assert_int_equal(u.last_login_at, 0);
			user_info_release(&u);
		}
		assert_int_equal(count(t.db, "SELECT count(*) FROM users"),
				 added);
	}
	test_db_close(&t);
}

static void test_duplicate_and_notfound(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	struct user_info u;

	(void)state;
	cheap();
	open_db(&t);
	add_ok(t.db, "alice", USER_EDITOR, PW);
	assert_int_equal(user_add(t.db, "alice", USER_ADMIN, PW "x", &err),
			 ERR_DATA);
	assert_str(err.msg, "user 'alice' exists");
	/* unchanged: still an editor, one account, one event */
	assert_int_equal(user_find(t.db, "alice", &u, &err), 0);
	assert_int_equal(u.role, USER_EDITOR);
	user_info_release(&u);
	assert_int_equal(count(t.db, "SELECT count(*) FROM users"), 1);
	assert_int_equal(count(t.db, "SELECT count(*) FROM events WHERE "
				     "kind = 'user.added'"), 1);
	assert_int_equal(user_find(t.db, "bob", &u, &err), ERR_NOTFOUND);
	assert_str(err.msg, "no user 'bob'");
	assert_int_equal(user_set_role(t.db, "bob", USER_ADMIN, &err),
			 ERR_NOTFOUND);
	assert_str(err.msg, "no user 'bob'");
	assert_int_equal(user_set_password(t.db, "bob", PW, &err),
			 ERR_NOTFOUND);
	assert_int_equal(user_set_disabled(t.db, "bob", true, &err),
			 ERR_NOTFOUND);
	test_db_close(&t);
}

static void test_password_rules(void **state)
{
	static char p256[257], p257[258];
	static const struct {
		const char *pw;
		int want;
	} cases[] = {
		{"", ERR_USAGE},
		{"elevenchars", ERR_USAGE},
		{"twelve chars", 0},
		{p256, 0},
		{p257, ERR_USAGE},
	};
	struct test_db t;

	(void)state;
	cheap();
	memset(p256, 'p', 256);
	memset(p257, 'p', 257);
	open_db(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		char name[16];
		int rc;

		snprintf(name, sizeof(name), "u%zu", i);
		rc = user_add(t.db, name, USER_VIEWER, cases[i].pw, &err);
		if (rc != cases[i].want)
			fail_msg("length %zu: got %d (%s), want %d",
				 strlen(cases[i].pw), rc, err.msg,
				 cases[i].want);
		if (rc && !strstr(err.msg, "a password is 12 to 256 bytes"))
			fail_msg("length %zu: message '%s'",
				 strlen(cases[i].pw), err.msg);
		/* the same rule for a new password */
		if (!rc) {
			rc = user_set_password(t.db, name, "short", &err);
			assert_int_equal(rc, ERR_USAGE);
		}
	}
	assert_int_equal(count(t.db, "SELECT count(*) FROM users"), 2);
	test_db_close(&t);
}

/* user.added and user.changed name the account and what changed, with
 * the actor; never a password or a hash. */
static void test_ledger_events(void **state)
{
	static const char *const want[] = {
		"user.added|{\"name\":\"alice\",\"role\":\"editor\"}|clerk",
		"user.changed|{\"name\":\"alice\",\"role\":{\"from\":\"editor\","
		"\"to\":\"approver\"}}|clerk",
		"user.changed|{\"name\":\"alice\",\"password\":\"changed\"}|"
		"clerk",
		"user.changed|{\"name\":\"alice\",\"state\":{\"from\":"
		"\"enabled\",\"to\":\"disabled\"}}|clerk",
		"user.changed|{\"name\":\"alice\",\"state\":{\"from\":"
		"\"disabled\",\"to\":\"enabled\"}}|clerk",
	};
	struct test_db t;
	struct error err = ERROR_INIT;
	char sql[160];

	(void)state;
	cheap();
	open_db(&t);
	add_ok(t.db, "alice", USER_EDITOR, PW);
	assert_int_equal(user_set_role(t.db, "alice", USER_APPROVER, &err), 0);
	/* the same role again records nothing */
	assert_int_equal(user_set_role(t.db, "alice", USER_APPROVER, &err), 0);
	assert_int_equal(user_set_password(t.db, "alice", "another password",
					   &err), 0);
	assert_int_equal(user_set_disabled(t.db, "alice", true, &err), 0);
	assert_int_equal(user_set_disabled(t.db, "alice", true, &err), 0);
	assert_int_equal(user_set_disabled(t.db, "alice", false, &err), 0);
	assert_int_equal(count(t.db, "SELECT count(*) FROM events"), 5);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *got;

		snprintf(sql, sizeof(sql), "SELECT kind || '|' || data || '|' "
			 "|| actor FROM events ORDER BY id LIMIT 1 OFFSET %zu",
			 i);
		got = test_query_text(t.db, sql);
		if (strcmp(got, want[i]) != 0)
			fail_msg("event %zu: got %s, want %s", i, got, want[i]);
		free(got);
	}
	assert_int_equal(count(t.db, "SELECT count(*) FROM events WHERE "
				     "data LIKE '%argon2%' OR data LIKE "
				     "'%horse%' OR data LIKE '%another%'"), 0);
	test_db_close(&t);
}

static int collect(const struct user_info *u, void *arg)
{
	struct sbuf *sb = arg;

	sbuf_addf(sb, "%s:%s:%d ", u->name, user_role_name(u->role),
		  u->disabled);
	return 0;
}

static void test_each_and_any(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	struct sbuf sb = SBUF_INIT;
	bool any = true;

	(void)state;
	cheap();
	open_db(&t);
	assert_int_equal(user_any(t.db, &any, &err), 0);
	assert_false(any);
	add_ok(t.db, "zoe", USER_ADMIN, PW);
	add_ok(t.db, "bob", USER_VIEWER, PW);
	assert_int_equal(user_set_disabled(t.db, "zoe", true, &err), 0);
	assert_int_equal(user_set_disabled(t.db, "bob", true, &err), 0);
	/* only disabled accounts: as if there were none */
	assert_int_equal(user_any(t.db, &any, &err), 0);
	assert_false(any);
	assert_int_equal(user_set_disabled(t.db, "bob", false, &err), 0);
	assert_int_equal(user_any(t.db, &any, &err), 0);
	assert_true(any);
	assert_int_equal(user_each(t.db, collect, &sb, &err), 0);
	assert_str(sb.buf, "bob:viewer:0 zoe:admin:1 ");
	sbuf_release(&sb);
	test_db_close(&t);
}

static void test_generate(void **state)
{
	char *a = user_password_generate(), *b = user_password_generate();

	(void)state;
	assert_int_equal(strlen(a), 20);
	assert_int_equal(strspn(a, "23456789abcdefghijkmnpqrstuvwxyz"
				   "ABCDEFGHJKLMNPQRSTUVWXYZ"), 20);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

/* ---- logins ---- */

static void test_login_outcomes(void **state)
{
	static const struct {
		const char *name, *pw;
		int want;
	} cases[] = {
		{"alice", PW, 0},
		{"alice", PW "!", ERR_NOPERM},
		{"alice", "", ERR_NOPERM},
		{"ALICE", PW, ERR_NOPERM},
		{"nobody", PW, ERR_NOPERM},
		{"", PW, ERR_NOPERM},
		{"gone", PW, ERR_NOPERM}, /* disabled */
	};
	struct test_db t;
	struct error err = ERROR_INIT;

	(void)state;
	cheap();
	open_db(&t);
	add_ok(t.db, "alice", USER_EDITOR, PW);
	add_ok(t.db, "gone", USER_ADMIN, PW);
	assert_int_equal(user_set_disabled(t.db, "gone", true, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct user_session s;
		/* each from its own client: no throttle here */
		char client[32];
		int rc;

		snprintf(client, sizeof(client), "192.0.2.%zu", i);
		rc = user_login(t.db, cases[i].name, cases[i].pw, client,
				T0 + (int64_t)i, 3600, &s, &err);
		if (rc != cases[i].want)
			fail_msg("%s/%s: got %d (%s), want %d", cases[i].name,
				 cases[i].pw, rc, err.msg, cases[i].want);
		if (rc) {
			assert_str(err.msg, "wrong name or password");
			assert_null(s.user.name);
			continue;
		}
		assert_str(s.user.name, "alice");
		assert_int_equal(s.user.role, USER_EDITOR);
		assert_int_equal(s.user.last_login_at, T0 + (int64_t)i);
		assert_int_equal(strlen(s.token), 43);
		assert_int_equal(strlen(s.csrf), 43);
		assert_int_equal(s.expires_at, T0 + (int64_t)i + 3600);
		user_session_release(&s);
	}
	assert_int_equal(count(t.db, "SELECT last_login_at FROM users WHERE "
				     "name = 'alice'"), T0);
	/* every failure recorded under the name tried */
	assert_int_equal(count(t.db, "SELECT count(*) FROM login_failures"),
			 6);
	test_db_close(&t);
}

static int try_login(struct db *db, const char *name, const char *pw,
		     const char *client, int64_t now, struct error *err)
{
	struct user_session s;
	int rc = user_login(db, name, pw, client, now, 3600, &s, err);

	user_session_release(&s);
	return rc;
}

static void test_throttle_by_name(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	char client[32];

	(void)state;
	cheap();
	open_db(&t);
	add_ok(t.db, "alice", USER_EDITOR, PW);
	/* five failures, from five clients, at T0 .. T0+40 */
	for (int i = 0; i < 5; i++) {
		snprintf(client, sizeof(client), "198.51.100.%d", i);
		assert_int_equal(try_login(t.db, "alice", "wrong password",
					   client, T0 + i * 10, &err),
				 ERR_NOPERM);
	}
	/* now even the right password waits until T0 leaves the window */
	assert_int_equal(try_login(t.db, "alice", PW, "203.0.113.9", T0 + 100,
				   &err), ERR_TEMPFAIL);
	assert_str(err.msg, "too many failed logins; try again in 800 "
			    "seconds");
	/* a throttled attempt is not a failure: the wait does not grow */
	assert_int_equal(count(t.db, "SELECT count(*) FROM login_failures"),
			 5);
	assert_int_equal(try_login(t.db, "alice", PW, NULL, T0 + 899, &err),
			 ERR_TEMPFAIL);
	assert_str(err.msg, "too many failed logins; try again in 1 seconds");
	/* another name is not held */
	add_ok(t.db, "bob", USER_VIEWER, PW);
	assert_int_equal(try_login(t.db, "bob", PW, "203.0.113.9", T0 + 100,
				   &err), 0);
	/* at T0+900 four failures are left in the window: allowed, and the
	 * success clears the name's failures */
	assert_int_equal(try_login(t.db, "alice", PW, "203.0.113.9", T0 + 900,
				   &err), 0);
	assert_int_equal(count(t.db, "SELECT count(*) FROM login_failures "
				     "WHERE name = 'alice'"), 0);
	test_db_close(&t);
}

static void test_throttle_by_client(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	char name[32];

	(void)state;
	cheap();
	open_db(&t);
	add_ok(t.db, "alice", USER_EDITOR, PW);
	/* one client trying five names, known or not */
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "guess%d", i);
		assert_int_equal(try_login(t.db, name, "whatever password",
					   "192.0.2.66", T0 + i, &err),
				 ERR_NOPERM);
	}
	assert_int_equal(try_login(t.db, "alice", PW, "192.0.2.66", T0 + 5,
				   &err), ERR_TEMPFAIL);
	assert_str(err.msg, "too many failed logins; try again in 895 "
			    "seconds");
	/* alice from her own machine is fine */
	assert_int_equal(try_login(t.db, "alice", PW, "192.0.2.7", T0 + 5,
				   &err), 0);
	/* a failure more than 15 minutes old no longer counts, and is
	 * deleted by the next failure */
	assert_int_equal(try_login(t.db, "alice", PW, "192.0.2.66", T0 + 901,
				   &err), 0);
	assert_int_equal(try_login(t.db, "nobody", "wrong password here",
				   "192.0.2.66", T0 + 1000, &err), ERR_NOPERM);
	assert_int_equal(count(t.db, "SELECT count(*) FROM login_failures"),
			 1);
	test_db_close(&t);
}

/* ---- sessions ---- */

static void test_sessions(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	struct user_session s, f;
	char digest[SHA256_HEX_SIZE], sql[200], *stored;

	(void)state;
	cheap();
	open_db(&t);
	add_ok(t.db, "alice", USER_APPROVER, PW);
	assert_int_equal(user_login(t.db, "alice", PW, "192.0.2.1", T0, 600,
				    &s, &err), 0);

	/* the table holds the token's SHA-256, never the token */
	sha256_hex(s.token, strlen(s.token), digest);
	stored = test_query_text(t.db, "SELECT token_sha256 FROM "
				       "user_sessions");
	assert_str(stored, digest);
	free(stored);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM user_sessions WHERE "
		 "instr(token_sha256 || csrf || ifnull(client, ''), '%s')",
		 s.token);
	assert_int_equal(count(t.db, sql), 0);

	/* found while unexpired, with its csrf and account */
	assert_int_equal(user_session_find(t.db, s.token, T0 + 599, &f, &err),
			 0);
	assert_str(f.user.name, "alice");
	assert_int_equal(f.user.role, USER_APPROVER);
	assert_str(f.csrf, s.csrf);
	assert_str(f.token, "");
	assert_int_equal(f.expires_at, T0 + 600);
	user_session_release(&f);

	/* expired, forged, mangled, empty: no session */
	{
		static const char *const bad[] = {
			"", "short", NULL,
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		};

		assert_int_equal(user_session_find(t.db, s.token, T0 + 600, &f,
						   &err), ERR_NOPERM);
		assert_str(err.msg, "no session");
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			err.msg[0] = '\0';
			assert_int_equal(user_session_find(t.db, bad[i], T0,
							   &f, &err),
					 ERR_NOPERM);
			assert_str(err.msg, "no session");
		}
		/* the stored hash handed back as a token opens nothing */
		assert_int_equal(user_session_find(t.db, digest, T0, &f, &err),
				 ERR_NOPERM);
	}

	/* logout deletes; a second logout is harmless */
	assert_int_equal(user_logout(t.db, s.token, &err), 0);
	assert_int_equal(count(t.db, "SELECT count(*) FROM user_sessions"), 0);
	assert_int_equal(user_session_find(t.db, s.token, T0, &f, &err),
			 ERR_NOPERM);
	assert_int_equal(user_logout(t.db, s.token, &err), 0);
	user_session_release(&s);

	/* disabling ends every session of the account at once */
	assert_int_equal(user_login(t.db, "alice", PW, NULL, T0, 600, &s,
				    &err), 0);
	assert_int_equal(user_login(t.db, "alice", PW, NULL, T0, 600, &f,
				    &err), 0);
	user_session_release(&f);
	assert_int_equal(count(t.db, "SELECT count(*) FROM user_sessions"), 2);
	assert_int_equal(user_set_disabled(t.db, "alice", true, &err), 0);
	assert_int_equal(count(t.db, "SELECT count(*) FROM user_sessions"), 0);
	assert_int_equal(user_session_find(t.db, s.token, T0, &f, &err),
			 ERR_NOPERM);
	/* and enabling again does not bring them back */
	assert_int_equal(user_set_disabled(t.db, "alice", false, &err), 0);
	assert_int_equal(user_session_find(t.db, s.token, T0, &f, &err),
			 ERR_NOPERM);
	user_session_release(&s);
	test_db_close(&t);
}

static void test_session_of_disabled_row(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	struct user_session s, f;

	(void)state;
	cheap();
	open_db(&t);
	add_ok(t.db, "alice", USER_VIEWER, PW);
	assert_int_equal(user_login(t.db, "alice", PW, NULL, T0, 600, &s,
				    &err), 0);
	/* an account disabled behind the module's back still opens nothing */
	test_exec(t.db, "UPDATE users SET disabled = 1");
	assert_int_equal(user_session_find(t.db, s.token, T0, &f, &err),
			 ERR_NOPERM);
	user_session_release(&s);
	test_db_close(&t);
}

static void test_csrf(void **state)
{
	struct user_session s = {0};
	char other[USER_TOKEN_SIZE];

	(void)state;
	snprintf(s.csrf, sizeof(s.csrf), "%s",
		 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ");
	snprintf(other, sizeof(other), "%s", s.csrf);
	assert_true(user_session_csrf_ok(&s, other));
	other[42] = 'R';
	assert_false(user_session_csrf_ok(&s, other));
	other[42] = 'Q';
	other[0] = 'A';
	assert_false(user_session_csrf_ok(&s, other));
	assert_false(user_session_csrf_ok(&s, ""));
	assert_false(user_session_csrf_ok(&s, NULL));
	assert_false(user_session_csrf_ok(&s, "abcdefghijklmnopqrstuvwxyz"
					      "ABCDEFGHIJKLMNOPQx"));
	assert_false(user_session_csrf_ok(&s, "abcdefghijklmnopqrstuvwxyz"
					      "ABCDEFGHIJKLMNOP"));
	assert_false(user_session_csrf_ok(NULL, other));
	/* a session without a csrf token matches nothing, not "" */
	s.csrf[0] = '\0';
	assert_false(user_session_csrf_ok(&s, ""));
}

/* ---- production cost ---- */

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_production_cost(void **state)
{
	struct test_db t;
	struct error err = ERROR_INIT;
	double a, known, unknown;
	char *hash;

	(void)state;
	user_hash_cost_set(USER_HASH_T_COST, USER_HASH_M_KIB);
	open_db(&t);
	a = seconds();
	add_ok(t.db, "alice", USER_ADMIN, PW);
	print_message("one Argon2id hash (t=3, m=64 MiB, p=1): %.0f ms\n",
		      (seconds() - a) * 1000);
	hash = test_query_text(t.db, "SELECT password_hash FROM users");
	if (strncmp(hash, "$argon2id$v=19$m=65536,t=3,p=1$", 31) != 0)
		fail_msg("stored hash %s", hash);
	free(hash);
	/* the first login also makes the dummy hash: time the next ones */
	assert_int_equal(try_login(t.db, "alice", PW, NULL, T0, &err), 0);
	a = seconds();
	assert_int_equal(try_login(t.db, "alice", "wrong password", NULL, T0,
				   &err), ERR_NOPERM);
	known = seconds() - a;
	a = seconds();
	assert_int_equal(try_login(t.db, "nobody", "wrong password", NULL,
				   T0, &err), ERR_NOPERM);
	unknown = seconds() - a;
	print_message("wrong password %.0f ms, unknown name %.0f ms\n",
		      known * 1000, unknown * 1000);
	/* without the dummy hash an unknown name would answer in well under
	 * a millisecond; a quarter leaves room for a busy machine */
	if (unknown < known / 4)
		fail_msg("unknown name %.3f s, known %.3f s", unknown, known);
	test_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_may_matrix),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_duplicate_and_notfound),
		cmocka_unit_test(test_password_rules),
		cmocka_unit_test(test_ledger_events),
		cmocka_unit_test(test_each_and_any),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_login_outcomes),
		cmocka_unit_test(test_throttle_by_name),
		cmocka_unit_test(test_throttle_by_client),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_session_of_disabled_row),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_production_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
