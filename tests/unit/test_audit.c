/*
 * audit: the chain check against real tampering (a second connection to
 * the SQLite file drops the triggers and edits rows, as someone with the
 * sqlite3 shell would), anchors, and the reports in every format against
 * rows inserted with plain SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/audit.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/xalloc.h"
#include "testutil.h"
#include "../../lib/audit_impl.h"

#define T2023 1677398400LL /* 2023-02-26T08:00:00Z */
#define T2024 1708934400LL /* 2024-02-26T08:00:00Z */

/* Two campaigns, five bodies (one with a name built to break HTML, one
 * without an acronym), and deliveries in every final state the reports
 * must count. */
static const char fixture_sql[] =
	"INSERT INTO bodies (id, acronym, name, kind, country, created_at) VALUES"
	" (1, 'UNSG', 'UN Secretary-General', 'un-organ', NULL, 0),"
	" (2, 'OSCE', 'Organization for Security and Co-operation in Europe',"
	"  'regional-org', NULL, 0),"
	" (3, 'UNICEF', 'United Nations Children''s Fund', 'un-agency', NULL, 0),"
	" (4, 'EV\"<', '</script><img src=x onerror=alert(1)> & Co', 'ngo',"
	"  'AZ', 0),"
	" (5, NULL, 'Office of the Ombudsman', 'ombudsman', 'AZ', 0);"
	"INSERT INTO contacts (id, body_id, email, name, created_at, updated_at)"
	" VALUES (1, 1, 'sg@un.org', 'Office', 0, 0),"
	" (2, 2, 'osce@osce.org', NULL, 0, 0),"
	" (3, 2, 'press@osce.org', NULL, 0, 0),"
	" (4, 3, 'unicef@unicef.org', NULL, 0, 0),"
	" (5, 4, 'evil@example.org', NULL, 0, 0);"
	"INSERT INTO lists (id, name, kind, created_at, updated_at)"
	" VALUES (1, 'all', 'static', 0, 0);"
	"INSERT INTO templates (id, name, version, source, sha256, created_at)"
	" VALUES (1, 'anniversary', 3, 'text', 'ab12', 0);"
	"INSERT INTO campaigns (id, name, template_id, list_id, send_at, tz,"
	" state, created_at, updated_at) VALUES"
	" (1, 'stmt-2023', 1, 1, 1677398400, 'Asia/Baku', 'done', 0, 0),"
	" (2, 'stmt-2024', 1, 1, 1708934400, 'Asia/Baku', 'done', 0, 0);"
	"INSERT INTO deliveries (id, campaign_id, contact_id, body_id, email,"
	" state, attempts, reply_code, reply_enhanced, reply_text, queue_id,"
	" reason, created_at, updated_at, sent_at) VALUES"
	" (1, 1, 1, 1, 'sg@un.org', 'sent', 1, 250, '2.0.0',"
	"  'Ok: queued as AAA1', 'AAA1', NULL, 0, 0, 1677398460),"
	" (2, 1, 2, 2, 'osce@osce.org', 'delivered', 1, 250, '2.0.0', 'Ok',"
	"  'BBB2', NULL, 0, 0, 1677398470),"
	" (3, 1, 3, 2, 'press@osce.org', 'failed', 1, 550, '5.1.1',"
	"  'user unknown', NULL, '550 5.1.1 user unknown', 0, 0, NULL),"
	" (4, 1, 4, 3, 'unicef@unicef.org', 'skipped', 0, NULL, NULL, NULL,"
	"  NULL, 'contact disabled', 0, 0, NULL),"
	" (5, 2, 1, 1, 'sg@un.org', 'deferred', 2, 451, '4.7.1', 'try later',"
	"  NULL, NULL, 0, 0, NULL),"
	" (6, 2, 2, 2, 'osce@osce.org', 'bounced', 1, 250, '2.0.0', 'Ok',"
	"  'CCC3', 'smtp; 550 5.1.1 mailbox unavailable', 0, 0, 1708934460),"
	" (7, 2, 3, 2, 'press@osce.org', 'sent', 1, 250, '2.0.0', 'Ok',"
	"  'DDD4', NULL, 0, 0, 1708934470),"
	" (8, 2, 4, 3, 'unicef@unicef.org', 'sent', 1, 250, '2.0.0', 'Ok',"
	"  'EEE5', NULL, 0, 0, 1708934480),"
	" (9, 2, 5, 4, 'evil@example.org', 'sent', 1, 250, '2.0.0',"
	"  '</script><b>x</b>', 'FFF6', NULL, 0, 0, 1708934490);"
	/* the language and SHA-256 of what was sent (issue 21) */
	"UPDATE deliveries SET language = 'fr', sha256 = 'cd34' WHERE id = 6;";

struct fixture {
	struct test_db t;
	int64_t nevents;
};

static void append(struct db *db, enum ledger_kind kind, int64_t campaign,
		   int64_t delivery, int64_t body, int64_t contact,
		   const char *data)
{
	struct error err = ERROR_INIT;
	struct ledger_event ev = {kind, campaign, delivery, body, contact, data};

	if (ledger_append(db, &ev, NULL, &err))
		fail_msg("ledger_append: %s", err.msg);
}

/* The final event of each fixture delivery, as the queue would write it. */
static void append_delivery_events(struct db *db)
{
	static const struct {
		int64_t id, campaign, contact, body;
		enum ledger_kind last;
	} d[] = {
		{1, 1, 1, 1, LEDGER_DELIVERY_SENT},
		{2, 1, 2, 2, LEDGER_DELIVERY_DELIVERED},
		{3, 1, 3, 2, LEDGER_DELIVERY_FAILED},
		{4, 1, 4, 3, LEDGER_DELIVERY_SKIPPED},
		{5, 2, 1, 1, LEDGER_DELIVERY_DEFERRED},
		{6, 2, 2, 2, LEDGER_DELIVERY_BOUNCED},
		{7, 2, 3, 2, LEDGER_DELIVERY_SENT},
		{8, 2, 4, 3, LEDGER_DELIVERY_SENT},
		{9, 2, 5, 4, LEDGER_DELIVERY_SENT},
	};

	/* The two campaigns are a person's doing; deliveries the daemon's. */
	db_set_actor(db, "clerk");
	append(db, LEDGER_CAMPAIGN_CREATED, 1, 0, 0, 0, "{\"name\":\"stmt-2023\"}");
	append(db, LEDGER_CAMPAIGN_CREATED, 2, 0, 0, 0, "{\"name\":\"stmt-2024\"}");
	db_set_actor(db, NULL);
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		append(db, LEDGER_DELIVERY_QUEUED, d[i].campaign, d[i].id,
		       d[i].body, d[i].contact, NULL);
		clock_advance(60);
		append(db, d[i].last, d[i].campaign, d[i].id, d[i].body,
		       d[i].contact, "{\"reply\":\"<250 & ok>\"}");
	}
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;

	clock_set_fake(T2023);
	test_db_open(&f->t);
	if (db_exec(f->t.db, fixture_sql, &err))
		fail_msg("fixture: %s", err.msg);
	append_delivery_events(f->t.db);
	f->nevents = test_query_int(f->t.db, "SELECT count(*) FROM events");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_db_close(&f->t);
	free(f);
	clock_clear_fake();
	return 0;
}

/* Runs sql on a second connection to the file, as an attacker with the
 * sqlite3 shell would: triggers dropped first. */
static void tamper(struct fixture *f, const char *sql)
{
	sqlite3 *h = NULL;
	char *msg = NULL;
	struct sbuf all = SBUF_INIT;

	sbuf_addstr(&all, "DROP TRIGGER IF EXISTS events_no_update;"
			  "DROP TRIGGER IF EXISTS events_no_delete;");
	sbuf_addstr(&all, sql);
	if (sqlite3_open(f->t.path, &h) != SQLITE_OK ||
	    sqlite3_exec(h, all.buf, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("tamper %s: %s", sql, msg ? msg : sqlite3_errmsg(h));
	sqlite3_close(h);
	sbuf_release(&all);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("wanted '%s' in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("did not want '%s' in:\n%s", needle, hay);
}

/* ---- verification ---- */

static void test_verify_intact(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_result res;
	struct error err = ERROR_INIT;
	char *head = test_query_text(f->t.db, "SELECT hash FROM events "
				     "ORDER BY id DESC LIMIT 1");

	char *actors = test_query_text(f->t.db, "SELECT group_concat("
				       "ifnull(actor, '-'), ' ') FROM (SELECT "
				       "actor FROM events ORDER BY id LIMIT 4)");

	assert_str(actors, "clerk clerk - -");
	free(actors);
	assert_int_equal(ledger_verify(f->t.db, NULL, &res, &err), 0);
	assert_int_equal(res.rows, f->nevents);
	assert_int_equal(res.head_id, f->nevents);
	assert_int_equal(res.problem, LEDGER_OK);
	assert_str(res.head_hash, head);
	free(head);
}

static void test_every_kind_written_and_verified(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_result res;
	struct error err = ERROR_INIT;

	for (int k = 0; k < LEDGER_KIND_COUNT; k++)
		append(f->t.db, (enum ledger_kind)k, 1, 0, 0, 0, NULL);
	for (int k = 0; k < LEDGER_KIND_COUNT; k++) {
		char sql[160];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM events WHERE "
			 "kind = '%s'", ledger_kind_name((enum ledger_kind)k));
		if (test_query_int(f->t.db, sql) < 1)
			fail_msg("no event of kind %s written",
				 ledger_kind_name((enum ledger_kind)k));
	}
	assert_int_equal(ledger_verify(f->t.db, NULL, &res, &err), 0);
	assert_int_equal(res.rows, f->nevents + LEDGER_KIND_COUNT);
}

static void test_triggers_refuse_edits(void **state)
{
	static const char *const sql[] = {
		"UPDATE events SET data = '{}' WHERE id = 3",
		"UPDATE events SET hash = 'x'",
		"DELETE FROM events WHERE id = 3",
		"DELETE FROM events",
	};
	struct fixture *f = *state;
	char *before = test_query_text(f->t.db, "SELECT group_concat(hash) "
				       "FROM events");

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		char *msg = NULL;
		int rc = sqlite3_exec(db_handle(f->t.db), sql[i], NULL, NULL,
				      &msg);

		if (rc == SQLITE_OK || !msg || !strstr(msg, "append-only"))
			fail_msg("%s: got rc %d '%s', wanted a refusal", sql[i],
				 rc, msg ? msg : "");
		sqlite3_free(msg);
	}
	char *after = test_query_text(f->t.db, "SELECT group_concat(hash) FROM "
				      "events");
	assert_str(after, before);
	free(before);
	free(after);
}

/* The fixture's rows: 1-2 campaign.created, then per delivery d (1..9)
 * row 2d+1 delivery.queued and row 2d+2 its final state. */
static void test_verify_names_tampered_row(void **state)
{
	static const struct {
		const char *name, *sql;
		enum ledger_problem problem;
		int64_t bad_id, rows;
		const char *msg;
	} cases[] = {
		{"edit data", "UPDATE events SET data = '{\"reply\":\"forged\"}' "
			      "WHERE id = 8", LEDGER_HASH_MISMATCH, 8, 7,
		 "ledger row 8 (delivery.failed): hash mismatch: the row's "
		 "content changed"},
		{"edit kind", "UPDATE events SET kind = 'delivery.sent' "
			      "WHERE id = 6", LEDGER_HASH_MISMATCH, 6, 5,
		 "ledger row 6 (delivery.sent): hash mismatch"},
		{"edit time", "UPDATE events SET ts = ts - 86400 WHERE id = 4",
		 LEDGER_HASH_MISMATCH, 4, 3, "ledger row 4 "},
		{"edit body", "UPDATE events SET body_id = 1 WHERE id = 5",
		 LEDGER_HASH_MISMATCH, 5, 4, "ledger row 5 "},
		{"edit prev link", "UPDATE events SET prev_hash = "
				   "(SELECT hash FROM events WHERE id = 2) "
				   "WHERE id = 4", LEDGER_HASH_MISMATCH, 4, 3,
		 "ledger row 4 "},
		{"forge the actor", "UPDATE events SET actor = 'head' "
				    "WHERE id = 2", LEDGER_HASH_MISMATCH, 2, 1,
		 "ledger row 2 (campaign.created): hash mismatch"},
		{"erase the actor", "UPDATE events SET actor = NULL WHERE id = 1",
		 LEDGER_HASH_MISMATCH, 1, 0, "ledger row 1 "},
		{"name a person on a daemon row", "UPDATE events SET actor = "
		 "'clerk' WHERE id = 4", LEDGER_HASH_MISMATCH, 4, 3,
		 "ledger row 4 "},
		{"delete middle row", "DELETE FROM events WHERE id = 7",
		 LEDGER_PREV_MISMATCH, 8, 6,
		 "ledger row 8: prev mismatch: row 7 before it is missing"},
		{"delete three rows", "DELETE FROM events WHERE id BETWEEN 3 AND 5",
		 LEDGER_PREV_MISMATCH, 6, 2,
		 "ledger row 6: prev mismatch: rows 3..5 before it are missing"},
		{"delete first row", "DELETE FROM events WHERE id = 1",
		 LEDGER_PREV_MISMATCH, 2, 0,
		 "ledger row 2: prev mismatch: row 1 before it is missing"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ledger_verify_result res;
		struct error err = ERROR_INIT;
		void *st = NULL;
		int rc;

		setup(&st);
		tamper(st, cases[i].sql);
		rc = ledger_verify(((struct fixture *)st)->t.db, NULL, &res,
				   &err);
		if (rc != ERR_DATA || res.problem != cases[i].problem ||
		    res.bad_id != cases[i].bad_id || res.rows != cases[i].rows ||
		    !strstr(err.msg, cases[i].msg))
			fail_msg("%s: got rc %d problem %d row %lld after %lld "
				 "rows '%s'; wanted problem %d row %lld after "
				 "%lld rows '%s'", cases[i].name, rc, res.problem,
				 (long long)res.bad_id, (long long)res.rows,
				 err.msg, cases[i].problem,
				 (long long)cases[i].bad_id,
				 (long long)cases[i].rows, cases[i].msg);
		teardown(&st);
	}
}

/* Rewrites row id with new data AND the hash that content should have:
 * the row itself then checks out, but the next row's link breaks. */
static void test_rehashed_edit_breaks_next_link(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_result res;
	struct error err = ERROR_INIT;
	char hash[SHA256_HEX_SIZE], sql[400];
	char *prev = test_query_text(f->t.db, "SELECT prev_hash FROM events "
				     "WHERE id = 5");
	char *kind = test_query_text(f->t.db, "SELECT kind FROM events "
				     "WHERE id = 5");
	struct ledger_row row = {
		.id = 5,
		.ts = test_query_int(f->t.db, "SELECT ts FROM events WHERE id = 5"),
		.kind = kind,
		.campaign_id = 1, .delivery_id = 2, .body_id = 2, .contact_id = 2,
		.data = "{\"forged\":true}",
		.prev_hash = prev,
	};

	ledger_row_hash(&row, NULL, NULL, hash);
	snprintf(sql, sizeof(sql), "UPDATE events SET data = '%s', hash = '%s' "
		 "WHERE id = 5", row.data, hash);
	tamper(f, sql);
	assert_int_equal(ledger_verify(f->t.db, NULL, &res, &err), ERR_DATA);
	assert_int_equal(res.problem, LEDGER_PREV_MISMATCH);
	assert_int_equal(res.bad_id, 6);
	assert_contains(err.msg, "ledger row 6: prev mismatch: its prev_hash "
				 "is not the hash of row 5");
	free(prev);
	free(kind);
}

/* A truncated tail leaves a consistent chain: verify alone cannot see it;
 * an anchor recorded before the cut can. */
static void test_tail_truncation_needs_anchor(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_result res;
	struct ledger_anchor a;
	struct error err = ERROR_INIT;

	assert_int_equal(ledger_anchor(f->t.db, &a, &err), 0);
	assert_int_equal(a.id, f->nevents);
	tamper(f, "DELETE FROM events WHERE id = (SELECT max(id) FROM events)");
	assert_int_equal(ledger_verify(f->t.db, NULL, &res, &err), 0);
	assert_int_equal(res.rows, f->nevents - 1);
	assert_int_equal(ledger_verify(f->t.db, a.hash, &res, &err), ERR_DATA);
	assert_int_equal(res.problem, LEDGER_ANCHOR_MISSING);
	assert_contains(err.msg, "no row of the ledger carries this hash");
}

static void test_anchor_proves_prefix(void **state)
{
	struct fixture *f = *state;
	struct ledger_verify_result res;
	struct ledger_anchor a;
	struct error err = ERROR_INIT;
	char upper[SHA256_HEX_SIZE];

	assert_int_equal(ledger_anchor(f->t.db, &a, &err), 0);
	assert_int_equal(a.ts, test_query_int(f->t.db, "SELECT max(ts) FROM events"));
	append(f->t.db, LEDGER_CAMPAIGN_DONE, 2, 0, 0, 0, NULL);
	append(f->t.db, LEDGER_CONTACT_DISABLED, 0, 0, 2, 3, NULL);
	for (int i = 0; i < SHA256_HEX_SIZE; i++)
		upper[i] = (char)(a.hash[i] >= 'a' ? a.hash[i] - 32 : a.hash[i]);
	assert_int_equal(ledger_verify(f->t.db, upper, &res, &err), 0);
	assert_int_equal(res.anchor_id, a.id);
	assert_int_equal(res.rows, f->nevents + 2);

	/* A change after the anchor: the chain is broken, the prefix holds. */
	tamper(f, "UPDATE events SET data = '{\"x\":1}' WHERE id = "
		  "(SELECT max(id) FROM events)");
	assert_int_equal(ledger_verify(f->t.db, a.hash, &res, &err), ERR_DATA);
	assert_int_equal(res.bad_id, f->nevents + 2);
	assert_contains(err.msg, "rows up to the anchored row");
	/* A change before it: the anchor proves nothing any more. */
	tamper(f, "UPDATE events SET kind = 'delivery.sent' WHERE id = 3");
	assert_int_equal(ledger_verify(f->t.db, a.hash, &res, &err), ERR_DATA);
	assert_int_equal(res.bad_id, 3);
	assert_int_equal(res.anchor_id, 0);
	assert_int_equal(ledger_anchor(f->t.db, &a, &err), ERR_DATA);
	assert_contains(err.msg, "not anchoring a broken ledger");
}

static void test_bad_anchor_is_usage_error(void **state)
{
	static const char *const bad[] = {
		"",
		"abc",
		/* 64 characters, two not hex */
		("zz00000000000000000000000000000000000000000000000000"
		 "000000000000"),
		/* 65 hex digits */
		("00000000000000000000000000000000000000000000000000000000000000000"),
	};
	struct fixture *f = *state;
	struct ledger_verify_result res;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct error err = ERROR_INIT;

		if (ledger_verify(f->t.db, bad[i], &res, &err) != ERR_USAGE ||
		    !strstr(err.msg, "not a SHA-256 hash"))
			fail_msg("anchor '%s': got '%s'", bad[i], err.msg);
	}
}

static void test_empty_ledger(void **state)
{
	struct test_db t;
	struct ledger_verify_result res;
	struct ledger_anchor a;
	struct error err = ERROR_INIT;

	(void)state;
	test_db_open(&t);
	assert_int_equal(ledger_verify(t.db, NULL, &res, &err), 0);
	assert_int_equal(res.rows, 0);
	assert_str(res.head_hash, LEDGER_GENESIS_HASH);
	assert_int_equal(ledger_anchor(t.db, &a, &err), ERR_NOTFOUND);
	test_db_close(&t);
}

/* ---- states and formats ---- */

static void test_state_ranks(void **state)
{
	static const struct {
		const char *better, *worse;
	} cases[] = {
		{"delivered", "sent"}, {"sent", "deferred"},
		{"deferred", "bounced"}, {"bounced", "failed"},
		{"failed", "skipped"}, {"skipped", "nonsense"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (audit_state_rank(cases[i].better) <=
		    audit_state_rank(cases[i].worse))
			fail_msg("%s should rank above %s", cases[i].better,
				 cases[i].worse);
	for (int r = 1; audit_state_by_rank(r); r++)
		assert_int_equal(audit_state_rank(audit_state_by_rank(r)), r);
	assert_null(audit_state_by_rank(0));
}

static void test_format_parse(void **state)
{
	static const struct {
		const char *name;
		int rc;
		enum audit_format want;
	} cases[] = {
		{"table", 0, AUDIT_FORMAT_TABLE}, {"csv", 0, AUDIT_FORMAT_CSV},
		{"json", 0, AUDIT_FORMAT_JSON}, {"html", 0, AUDIT_FORMAT_HTML},
		{"HTML", ERR_USAGE, 0}, {"pdf", ERR_USAGE, 0}, {"", ERR_USAGE, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum audit_format f = AUDIT_FORMAT_TABLE;
		struct error err = ERROR_INIT;

		assert_int_equal(audit_format_parse(cases[i].name, &f, &err),
				 cases[i].rc);
		if (!cases[i].rc)
			assert_int_equal(f, cases[i].want);
		else
			assert_contains(err.msg, "unknown format");
	}
}

/* ---- reports ---- */

static char *report(struct fixture *f, int which, const char *arg, int since,
		    enum audit_format fmt)
{
	struct sbuf out = SBUF_INIT;
	struct error err = ERROR_INIT;
	int rc = which == 0   ? audit_report_campaign(f->t.db, arg, fmt, &out, &err)
		 : which == 1 ? audit_report_body(f->t.db, arg, fmt, &out, &err)
			      : audit_report_matrix(f->t.db, since,
						    AUDIT_RESPONSE_ALL, fmt,
						    &out, &err);

	if (rc)
		fail_msg("report %d %s: %s", which, arg ? arg : "", err.msg);
	return sbuf_detach(&out, NULL);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The totals agree with the deliveries table, state by state. */
static void test_campaign_totals_match_deliveries(void **state)
{
	static const char *const states[] = {
		"delivered", "sent", "deferred", "bounced", "failed", "skipped",
	};
	struct fixture *f = *state;

	for (int c = 1; c <= 2; c++) {
		char name[16], *json, *text, *csv, sql[160], want[64];

		snprintf(name, sizeof(name), "stmt-%d", 2022 + c);
		json = report(f, 0, name, 0, AUDIT_FORMAT_JSON);
		text = report(f, 0, name, 0, AUDIT_FORMAT_TABLE);
		csv = report(f, 0, name, 0, AUDIT_FORMAT_CSV);
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
			int64_t n;

			snprintf(sql, sizeof(sql), "SELECT count(*) FROM deliveries"
				 " WHERE campaign_id = %d AND state = '%s'", c,
				 states[s]);
			n = test_query_int(f->t.db, sql);
			snprintf(want, sizeof(want), "\"%s\": %lld", states[s],
				 (long long)n);
			if (n)
				assert_contains(json, want);
			else
				assert_lacks(json, want);
			snprintf(want, sizeof(want), " %lld %s", (long long)n,
				 states[s]);
			if (n)
				assert_contains(text, want);
		}
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM deliveries "
			 "WHERE campaign_id = %d", c);
		assert_int_equal(count_lines(csv), test_query_int(f->t.db, sql) + 1);
		free(json);
		free(text);
		free(csv);
	}
}

static void test_campaign_report_content(void **state)
{
	struct fixture *f = *state;
	char *text = report(f, 0, "stmt-2023", 0, AUDIT_FORMAT_TABLE);
	char *csv = report(f, 0, "stmt-2023", 0, AUDIT_FORMAT_CSV);
	char *json = report(f, 0, "stmt-2024", 0, AUDIT_FORMAT_JSON);
	struct sbuf out = SBUF_INIT;
	struct error err = ERROR_INIT;

	assert_contains(text, "campaign stmt-2023: template anniversary v3 "
			      "(sha256 ab12)");
	assert_contains(text, "Ok: queued as AAA1");
	assert_contains(text, "2023-02-26T08:01:00Z");
	assert_contains(text, "4 deliveries: 1 delivered, 1 sent, 1 failed, "
			      "1 skipped");
	assert_contains(csv, "body,body_name,kind,email,contact,state,sent_at,"
			     "reply_code,reply_enhanced,reply_text,queue_id,"
			     "reason,attempts,delivery_id,acknowledged_at,"
			     "disposition,auto_replied_at,replied_at,"
			     "complained_at,language,sha256\r\n");
	assert_contains(csv, "OSCE,Organization for Security and Co-operation "
			     "in Europe,regional-org,press@osce.org,,failed,,"
			     "550,5.1.1,user unknown,,550 5.1.1 user unknown,1,3");
	assert_contains(csv, "UNICEF,United Nations Children's Fund,un-agency,"
			     "unicef@unicef.org,,skipped,,,,,,contact disabled");
	assert_contains(json, "\"reason\": \"smtp; 550 5.1.1 mailbox "
			      "unavailable\"");
	assert_contains(json, "\"queue_id\": \"CCC3\"");
	assert_contains(json, "\"reply_code\": 451");
	assert_int_equal(audit_report_campaign(f->t.db, "stmt-1999",
					       AUDIT_FORMAT_TABLE, &out, &err),
			 ERR_NOTFOUND);
	assert_contains(err.msg, "no campaign named 'stmt-1999'");
	assert_int_equal(out.len, 0);
	free(text);
	free(csv);
	free(json);
}

static void test_body_report_year_by_year(void **state)
{
	struct fixture *f = *state;
	char *text = report(f, 1, "osce", 0, AUDIT_FORMAT_TABLE);
	char *csv = report(f, 1, "OSCE", 0, AUDIT_FORMAT_CSV);
	char *json = report(f, 1, "OSCE", 0, AUDIT_FORMAT_JSON);
	struct sbuf out = SBUF_INIT;
	struct error err = ERROR_INIT;
	const char *y23, *y24;

	assert_contains(text, "Organization for Security and Co-operation in "
			      "Europe (OSCE), regional-org");
	assert_contains(text, "4 deliveries: 1 delivered, 1 sent, 1 bounced, "
			      "1 failed");
	y23 = strstr(csv, "\r\n2023,stmt-2023,anniversary v3,");
	y24 = strstr(csv, "\r\n2024,stmt-2024,anniversary v3,");
	if (!y23 || !y24 || y23 > y24)
		fail_msg("wanted 2023 rows before 2024 rows in:\n%s", csv);
	assert_contains(csv, "2024,stmt-2024,anniversary v3,2024-02-26T08:00:00Z,"
			     "osce@osce.org,bounced,2024-02-26T08:01:00Z,250,"
			     "2.0.0,Ok,CCC3,\"smtp; 550 5.1.1 mailbox unavailable\","
			     "6,,,,,,fr,cd34\r\n");
	/* the language of each delivery, as audit campaign has it */
	assert_contains(csv, "year,campaign,template,send_at,email,state,"
			     "sent_at,reply_code,reply_enhanced,reply_text,"
			     "queue_id,reason,delivery_id,acknowledged_at,"
			     "disposition,auto_replied_at,replied_at,"
			     "complained_at,language,sha256\r\n");
	assert_contains(csv, "press@osce.org,sent,2024-02-26T08:01:10Z,250,"
			     "2.0.0,Ok,DDD4,,7,,,,,,,\r\n");
	assert_int_equal(count_lines(csv), 5);
	assert_contains(json, "\"acronym\": \"OSCE\"");
	assert_contains(json, "\"language\": \"fr\",\n      \"sha256\": "
			      "\"cd34\"");
	assert_contains(text, "LANGUAGE");
	free(text);
	text = report(f, 1, "office of the ombudsman", 0, AUDIT_FORMAT_TABLE);
	assert_contains(text, "Office of the Ombudsman, ombudsman, AZ\n");
	assert_contains(text, "0 deliveries\n");
	assert_int_equal(audit_report_body(f->t.db, "NOPE", AUDIT_FORMAT_JSON,
					   &out, &err), ERR_NOTFOUND);
	assert_contains(err.msg, "no body with acronym or name 'NOPE'");
	free(text);
	free(csv);
	free(json);
}

static void test_matrix_best_state(void **state)
{
	struct fixture *f = *state;
	char *csv = report(f, 2, NULL, 0, AUDIT_FORMAT_CSV);
	char *since = report(f, 2, NULL, 2024, AUDIT_FORMAT_CSV);
	char *json = report(f, 2, NULL, 0, AUDIT_FORMAT_JSON);
	char *text = report(f, 2, NULL, 0, AUDIT_FORMAT_TABLE);

	assert_contains(csv, "body,name,kind,stmt-2023,stmt-2024\r\n");
	/* OSCE: delivered beats failed; sent beats bounced. */
	assert_contains(csv, "\r\nOSCE,Organization for Security and "
			     "Co-operation in Europe,regional-org,delivered,"
			     "sent\r\n");
	assert_contains(csv, "\r\nUNICEF,United Nations Children's Fund,"
			     "un-agency,skipped,sent\r\n");
	assert_contains(csv, "\r\nUNSG,UN Secretary-General,un-organ,sent,"
			     "deferred\r\n");
	assert_contains(csv, ",ngo,,sent\r\n"); /* not addressed in 2023 */
	assert_int_equal(count_lines(csv), 5);
	assert_contains(since, "body,name,kind,stmt-2024\r\n");
	assert_lacks(since, "stmt-2023");
	assert_contains(json, "\"stmt-2023\": \"delivered\"");
	assert_contains(text, "STMT-2023");
	free(csv);
	free(since);
	free(json);
	free(text);
}

static void test_html_is_escaped_and_offline(void **state)
{
	static const char *const reports[] = {"matrix", "campaign", "body"};
	struct fixture *f = *state;

	for (size_t i = 0; i < 3; i++) {
		static const int which[] = {2, 0, 1};
		char *html = report(f, which[i], i == 1 ? "stmt-2024" : "EV\"<",
				    0, AUDIT_FORMAT_HTML);

		if (strncmp(html, "<!DOCTYPE html>", 15) != 0)
			fail_msg("%s: not an HTML document", reports[i]);
		assert_contains(html, "default-src 'none'");
		assert_lacks(html, "http://");
		assert_lacks(html, "https://");
		assert_lacks(html, "<img");
		assert_lacks(html, "<b>x");
		assert_contains(html, "id=\"f-kind\"");
		assert_contains(html, "id=\"f-state\"");
		assert_contains(html, "id=\"f-text\"");
		/* One script element per page, plus the matrix's data. */
		if (i == 0) {
			assert_contains(html, "&lt;/script&gt;&lt;img src=x "
					      "onerror=alert(1)&gt; &amp; Co");
			assert_contains(html, "<td class=\"cell st-delivered\" "
					      "data-cell=\"");
			assert_contains(html, "\\u003c/script\\u003e\\u003cb\\u003ex");
			assert_contains(html, "EV&quot;&lt;");
		} else {
			assert_contains(html, "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;");
			assert_contains(html, "&lt;250 &amp; ok&gt;");
			assert_contains(html, "<details>");
		}
		free(html);
	}
}

/* ---- acknowledgements, automatic answers, replies, complaints ---- */

/* What came back, as response_apply and the inbox record it: UNSG's MDN
 * for 2023 said "deleted"; UNICEF acknowledged 2024 (displayed); OSCE's
 * press office answered automatically, then a person replied; the EV"<
 * body's provider sent a complaint. */
static const char responses_sql[] =
	"INSERT INTO inbound_messages (id, sha256, source, kind, sender,"
	" delivery_id, received_at, raw) VALUES"
	" (1, 'a', 'stdin', 'mdn', 'sg@un.org', 1, 1677484900, 'x'),"
	" (2, 'b', 'maildir', 'mdn', 'unicef@unicef.org', 8, 1709024500, 'x'),"
	" (3, 'c', 'imap', 'auto_reply', 'press@osce.org', 7, 1708934800, 'x'),"
	" (4, 'd', 'imap', 'reply', 'press@osce.org', 7, 1709114500, 'x'),"
	" (5, 'e', 'stdin', 'complaint', 'fbl@example.net', 9, 1709251200,"
	"  'x'),"
	" (6, 'f', 'stdin', 'reply', 'someone@example.org', NULL, 1709251300,"
	"  'x');"
	"INSERT INTO delivery_responses (delivery_id, inbound_id, kind,"
	" disposition, sender, responded_at, created_at) VALUES"
	" (1, 1, 'acknowledged', 'deleted', 'sg@un.org', 1677484800, 0),"
	" (8, 2, 'acknowledged', 'displayed', 'unicef@unicef.org', 1709024400,"
	"  0),"
	" (7, 3, 'auto_replied', NULL, 'press@osce.org', 1708934700, 0),"
	" (7, 4, 'replied', NULL, 'press@osce.org', 1709114400, 0);";

static char *matrix_filtered(struct fixture *f, enum audit_response r,
			     enum audit_format fmt)
{
	struct sbuf out = SBUF_INIT;
	struct error err = ERROR_INIT;

	if (audit_report_matrix(f->t.db, 0, r, fmt, &out, &err))
		fail_msg("matrix: %s", err.msg);
	return sbuf_detach(&out, NULL);
}

static void test_responses_in_reports(void **state)
{
	struct fixture *f = *state;
	char *text, *json, *csv;

	test_exec(f->t.db, responses_sql);
	text = report(f, 0, "stmt-2024", 0, AUDIT_FORMAT_TABLE);
	assert_contains(text, "; responses: 1 acknowledged, 1 auto_replied, "
			      "1 replied, 1 complained\n");
	assert_contains(text, "\nresponses:\n"
			      "  OSCE answered stmt-2024 automatically on 26 "
			      "February 2024, from press@osce.org (delivery 7 "
			      "to press@osce.org)\n"
			      "  UNICEF acknowledged receipt of stmt-2024 on 27 "
			      "February 2024 (displayed), from unicef@unicef.org "
			      "(delivery 8 to unicef@unicef.org)\n"
			      "  OSCE replied to stmt-2024 on 28 February 2024, "
			      "from press@osce.org (delivery 7 to "
			      "press@osce.org)\n"
			      "  EV\"< complained about stmt-2024 (a feedback "
			      "report) on 1 March 2024, from fbl@example.net "
			      "(delivery 9 to evil@example.org)\n");
	free(text);

	json = report(f, 0, "stmt-2024", 0, AUDIT_FORMAT_JSON);
	assert_contains(json, "\"acknowledged_at\": \"2024-02-27T09:00:00Z\",\n"
			      "      \"disposition\": \"displayed\"");
	assert_contains(json, "\"auto_replied_at\": \"2024-02-26T08:05:00Z\"");
	assert_contains(json, "\"replied_at\": \"2024-02-28T10:00:00Z\"");
	assert_contains(json, "\"complained_at\": \"2024-03-01T00:00:00Z\"");
	assert_contains(json, "\"acknowledged\": 1,");
	assert_contains(json, "{\"body\":\"UNICEF\",\"campaign\":\"stmt-2024\","
			      "\"response\":\"acknowledged\",\"disposition\":"
			      "\"displayed\",\"sender\":\"unicef@unicef.org\","
			      "\"responded_at\":\"2024-02-27T09:00:00Z\","
			      "\"delivery_id\":8,\"email\":\"unicef@unicef.org\"}");
	free(json);

	/* year by year: each year's row carries its own responses */
	csv = report(f, 1, "UNSG", 0, AUDIT_FORMAT_CSV);
	assert_contains(csv, "\r\n2023,stmt-2023,anniversary v3,"
			     "2023-02-26T08:00:00Z,sg@un.org,sent,"
			     "2023-02-26T08:01:00Z,250,2.0.0,Ok: queued as "
			     "AAA1,AAA1,,1,2023-02-27T08:00:00Z,deleted,,,,,"
			     "\r\n");
	assert_contains(csv, "\r\n2024,stmt-2024,anniversary v3,"
			     "2024-02-26T08:00:00Z,sg@un.org,deferred,,451,"
			     "4.7.1,try later,,,5,,,,,,,\r\n");
	free(csv);
	text = report(f, 1, "UNSG", 0, AUDIT_FORMAT_TABLE);
	assert_contains(text, "UNSG acknowledged receipt of stmt-2023 on 27 "
			      "February 2023 (deleted), from sg@un.org");
	assert_lacks(text, "stmt-2024 on");
	free(text);
	/* an unmatched reply (inbound 6) is nobody's */
	json = report(f, 1, "OSCE", 0, AUDIT_FORMAT_JSON);
	assert_lacks(json, "someone@example.org");
	assert_contains(json, "\"response\":\"replied\"");
	free(json);
}

static void test_responses_in_matrix(void **state)
{
	struct fixture *f = *state;
	char *text, *csv, *json, *html;

	test_exec(f->t.db, responses_sql);
	csv = matrix_filtered(f, AUDIT_RESPONSE_ALL, AUDIT_FORMAT_CSV);
	assert_contains(csv, "\r\nOSCE,Organization for Security and "
			     "Co-operation in Europe,regional-org,delivered,"
			     "sent +auto +replied\r\n");
	assert_contains(csv, "\r\nUNICEF,United Nations Children's Fund,"
			     "un-agency,skipped,sent +ack\r\n");
	assert_contains(csv, "\r\nUNSG,UN Secretary-General,un-organ,"
			     "sent +ack,deferred\r\n");
	assert_contains(csv, ",ngo,,sent +complaint\r\n");
	free(csv);
	text = matrix_filtered(f, AUDIT_RESPONSE_ALL, AUDIT_FORMAT_TABLE);
	assert_contains(text, "\n+ack: acknowledged");
	free(text);

	/* the filters keep rows (bodies) */
	csv = matrix_filtered(f, AUDIT_RESPONSE_ACKNOWLEDGED, AUDIT_FORMAT_CSV);
	assert_contains(csv, "\r\nUNICEF,");
	assert_contains(csv, "\r\nUNSG,");
	assert_lacks(csv, "OSCE");
	assert_int_equal(count_lines(csv), 3);
	free(csv);
	csv = matrix_filtered(f, AUDIT_RESPONSE_REPLIED, AUDIT_FORMAT_CSV);
	assert_int_equal(count_lines(csv), 2);
	assert_contains(csv, "\r\nOSCE,");
	free(csv);
	csv = matrix_filtered(f, AUDIT_RESPONSE_NONE, AUDIT_FORMAT_CSV);
	assert_int_equal(count_lines(csv), 1); /* every body answered */
	free(csv);
	text = matrix_filtered(f, AUDIT_RESPONSE_NONE, AUDIT_FORMAT_TABLE);
	assert_lacks(text, "+ack:"); /* no legend for hidden marks */
	free(text);

	json = matrix_filtered(f, AUDIT_RESPONSE_ANY, AUDIT_FORMAT_JSON);
	assert_contains(json, "\"responses\": {\n"
			      "        \"stmt-2024\": [\n"
			      "          \"auto_replied\",\n"
			      "          \"replied\"\n");
	free(json);

	html = matrix_filtered(f, AUDIT_RESPONSE_COMPLAINED, AUDIT_FORMAT_HTML);
	assert_contains(html, "data-cell=\"0\">sent +complaint</td>");
	assert_contains(html, "data-states=\"sent complained\"");
	assert_lacks(html, "UNICEF");
	assert_contains(html, "<option value=\"acknowledged\">");
	free(html);
	html = report(f, 0, "stmt-2024", 0, AUDIT_FORMAT_HTML);
	assert_contains(html, "data-states=\"sent auto_replied replied\"");
	/* the sentences, escaped: the body's name is built to break HTML */
	assert_contains(html, "<h2>Acknowledgements and replies</h2>\n"
			      "<ul id=\"responses\"><li>OSCE answered "
			      "stmt-2024 automatically on 26 February 2024, "
			      "from press@osce.org (delivery 7 to "
			      "press@osce.org)</li>");
	assert_contains(html, "<li>EV&quot;&lt; complained about stmt-2024");
	free(html);
	html = report(f, 1, "UNICEF", 0, AUDIT_FORMAT_HTML);
	assert_contains(html, "<li>UNICEF acknowledged receipt of stmt-2024 "
			      "on 27 February 2024 (displayed)");
	free(html);
	html = report(f, 0, "stmt-2023", 0, AUDIT_FORMAT_HTML);
	assert_contains(html, "<li>UNSG acknowledged receipt");
	free(html);
	test_exec(f->t.db, "DELETE FROM delivery_responses; "
			   "DELETE FROM inbound_messages");
	html = report(f, 0, "stmt-2024", 0, AUDIT_FORMAT_HTML);
	assert_lacks(html, "Acknowledgements and replies");
	free(html);
}

static void test_response_parse_names(void **state)
{
	struct error err = ERROR_INIT;
	enum audit_response r;

	(void)state;
	assert_int_equal(audit_response_parse("replied", &r, &err), 0);
	assert_int_equal(r, AUDIT_RESPONSE_REPLIED);
	assert_int_equal(audit_response_parse("none", &r, &err), 0);
	assert_int_equal(r, AUDIT_RESPONSE_NONE);
	assert_int_equal(audit_response_parse("read", &r, &err), ERR_USAGE);
	assert_contains(err.msg, "unknown response 'read'");
}

/* A matrix too big for per-delivery details still shows every cell with
 * its state counts, and says where the details are. */
static void test_html_matrix_without_details(void **state)
{
	struct audit_matrix_campaign camps[] = {
		{7, "c<1>", "2024-01-01T00:00:00Z", "done", 2024},
	};
	struct audit_matrix_body bodies[] = {
		{3, "A&B", "A and B", "ngo", NULL},
	};
	int best[] = {audit_state_rank("sent")};
	unsigned counts[AUDIT_NSTATES] = {0};
	struct audit_matrix m = {
		.ncampaigns = 1, .nbodies = 1, .campaigns = camps,
		.bodies = bodies, .best = best, .counts = counts,
		.total = AUDIT_MATRIX_DETAIL_MAX + 1,
	};
	struct sbuf out = SBUF_INIT;

	(void)state;
	counts[audit_state_rank("sent") - 1] = 40000;
	counts[audit_state_rank("failed") - 1] = 10001;
	audit_html_matrix("big", &m, &out);
	assert_contains(out.buf, "<td class=\"cell st-sent\" data-cell=\"0\">"
				 "sent</td>");
	assert_contains(out.buf, "\"counts\":{\"sent\":40000,\"failed\":10001}");
	assert_lacks(out.buf, "\"deliveries\":");
	assert_contains(out.buf, "state counts only");
	assert_contains(out.buf, "c&lt;1&gt;");
	assert_contains(out.buf, "\"campaign\":\"c\\u003c1\\u003e\"");
	assert_contains(out.buf, ">A&amp;B</th>");
	sbuf_release(&out);
}

static void test_html_escape(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"", ""},
		{"plain text", "plain text"},
		{"<script>alert('x')</script>",
		 "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"},
		{"a & b \"c\"", "a &amp; b &quot;c&quot;"},
		{"&", "&amp;"},
		{"Müvəkkil <UNSG>", "Müvəkkil &lt;UNSG&gt;"},
		{"ends with '", "ends with &#39;"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf out = SBUF_INIT;

		audit_html_escape(&out, cases[i].in);
		assert_str(out.buf, cases[i].want);
		sbuf_release(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test_setup_teardown(test_verify_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_kind_written_and_verified,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_triggers_refuse_edits, setup,
						teardown),
		cmocka_unit_test(test_verify_names_tampered_row),
		cmocka_unit_test_setup_teardown(test_rehashed_edit_breaks_next_link,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_truncation_needs_anchor,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_proves_prefix, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_anchor_is_usage_error,
						setup, teardown),
		cmocka_unit_test(test_empty_ledger),
		cmocka_unit_test(test_state_ranks),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test_setup_teardown(
			test_campaign_totals_match_deliveries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_report_content,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_report_year_by_year,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_matrix_best_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_html_is_escaped_and_offline,
						setup, teardown),
		cmocka_unit_test(test_html_matrix_without_details),
		cmocka_unit_test_setup_teardown(test_responses_in_reports,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_responses_in_matrix, setup,
						teardown),
		cmocka_unit_test(test_response_parse_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
