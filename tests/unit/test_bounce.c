#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce.h"
#include "chancery/sha256.h"
#include "chancery/streak.h"
#include "chancery/clock.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "bounce_samples.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

/* The ENVID the fixture gives delivery did, "chancery-<did>-<16 hex>":
 * a fixed token standing for the random one chancery draws (caller
 * frees). */
static char *envid_of(int64_t did)
{
	return xasprintf("chancery-%lld-%016llx", (long long)did,
			 (unsigned long long)did * 0x9e3779b97f4a7c15ULL);
}

/*
 * The registry of the samples: six bodies with one contact each, one
 * campaign (id 1) whose deliveries 1..6 are `sent` with the Message-IDs
 * and ENVIDs chancery would have set.
 */
static void setup_registry(struct db *db)
{
	static const char seed[] =
	"INSERT INTO bodies (id, acronym, name, kind, created_at) VALUES "
	"(1, 'OHCHR', 'Office of the High Commissioner', 'un-agency', 0),"
	"(2, 'EO', 'European Ombudsman', 'ombudsman', 0),"
	"(3, 'EMB', 'Embassy', 'embassy', 0),"
	"(4, 'UNHCR', 'UNHCR', 'un-agency', 0),"
	"(5, 'NHRI', 'Public Defender', 'nhri', 0),"
	"(6, 'DIA', 'Diaspora Union', 'diaspora-org', 0);"
	"INSERT INTO contacts (id, body_id, email, created_at, updated_at) "
	"VALUES (1, 1, 'registry@ohchr.example.org', 0, 0),"
	"(2, 2, 'office@ombudsman.example.eu', 0, 0),"
	"(3, 3, 'info@embassy.example.az', 0, 0),"
	"(4, 4, 'secretariat@unhcr.example.int', 0, 0),"
	"(5, 5, 'press@nhri.example.ge', 0, 0),"
	"(6, 6, 'contact@diaspora.example.de', 0, 0);"
	"INSERT INTO templates (id, name, version, source, sha256, "
	"created_at) VALUES (1, 'statement', 1, 'x', 'y', 0);"
	"INSERT INTO lists (id, name, kind, created_at, updated_at) "
	"VALUES (1, 'all', 'static', 0, 0);";

	test_exec(db, seed);
}

/* A campaign sent at send_at, with deliveries to the given contacts. */
static void add_campaign(struct db *db, int64_t id, int64_t send_at,
			 const int *contacts, const char *state)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO campaigns (id, name, template_id, list_id, "
		 "send_at, tz, state, created_at, updated_at) VALUES "
		 "(%lld, 'campaign-%lld', 1, 1, %lld, 'UTC', 'done', 0, 0)",
		 (long long)id, (long long)id, (long long)send_at);
	test_exec(db, sql);
	for (const int *c = contacts; *c; c++) {
		int64_t did = id == 1 ? *c : id * 100 + *c;
		char *envid = envid_of(did);

		snprintf(sql, sizeof(sql),
			 "INSERT INTO deliveries (id, campaign_id, contact_id, "
			 "body_id, email, state, message_id, envid, "
			 "created_at, updated_at, sent_at) SELECT %lld, %lld, "
			 "id, body_id, email, '%s', "
			 "'c%lld.d%lld@chancery.example.net', "
			 "'%s', 0, 0, %lld FROM contacts WHERE id = %d",
			 (long long)did, (long long)id, state, (long long)id,
			 (long long)did, envid, (long long)send_at, *c);
		test_exec(db, sql);
		free(envid);
	}
}

static const int all_contacts[] = {1, 2, 3, 4, 5, 6, 0};

static int setup(void **state)
{
	struct test_db *t = xcalloc(1, sizeof(*t));

	clock_set_fake(1763000000);
	test_db_open(t);
	setup_registry(t->db);
	add_campaign(t->db, 1, 1762750000, all_contacts, "sent");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct test_db *t = *state;

	test_db_close(t);
	free(t);
	clock_clear_fake();
	return 0;
}

/* The parameters of these tests: every class counts (the classes are
 * test_inbox's), no VERP. */
static void params(struct bounce_params *p, int threshold, int64_t inbound)
{
	memset(p, 0, sizeof(*p));
	p->inbound_id = inbound;
	p->threshold = threshold;
	p->count_mask = ~0u;
	p->blocked_threshold = 3;
	p->blocked_window_ms = 7 * 86400000LL;
}

/* The inbound_messages row the report was read from, as inbox_take
 * keeps it (one per distinct bytes). */
static int64_t inbound_row(struct db *db, const char *data, size_t len)
{
	char sha[SHA256_HEX_SIZE], sql[256];
	sqlite3_stmt *st;

	sha256_hex(data, len, sha);
	assert_int_equal(sqlite3_prepare_v2(db_handle(db),
					    "INSERT OR IGNORE INTO "
					    "inbound_messages (sha256, source, "
					    "kind, received_at, raw) VALUES "
					    "(?1, 'stdin', 'report', 0, ?2)",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, data, (int)len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql), "SELECT id FROM inbound_messages WHERE "
		 "sha256 = '%s'", sha);
	return test_query_int(db, sql);
}

static int process_text(struct db *db, const char *data, size_t len,
			int threshold, struct bounce_result *res,
			struct error *err)
{
	struct bounce_report *r = NULL;
	struct bounce_params p;
	int rc = bounce_report_parse(data, len, &r, err);

	if (!rc) {
		params(&p, threshold, inbound_row(db, data, len));
		rc = bounce_process(db, r, &p, res, NULL, NULL, err);
	}
	bounce_report_free(r);
	return rc;
}

static void process_sample(struct db *db, const char *name,
			   struct bounce_result *res)
{
	struct error err = ERROR_INIT;
	struct sbuf sb = SBUF_INIT;

	read_sample(name, &sb);
	if (process_text(db, sb.buf, sb.len, 2, res, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	sbuf_release(&sb);
}

static void assert_query_str(struct db *db, const char *sql, const char *want)
{
	char *got = test_query_text_or_null(db, sql);

	if (!got)
		fail_msg("%s: NULL, wanted '%s'", sql, want);
	if (strcmp(got, want) != 0)
		fail_msg("%s: got '%s', wanted '%s'", sql, got, want);
	free(got);
}

/* Every table a report can change, summed up so "nothing changed" can be
 * checked in one comparison. */
static char *snapshot(struct db *db)
{
	return test_query_text_or_null(
		db, "SELECT (SELECT count(*) FROM events) || '/' || "
		    "(SELECT count(*) FROM bounce_reports) || '/' || "
		    "(SELECT count(*) FROM bounce_quarantine) || '/' || "
		    "(SELECT count(*) FROM bounce_marks) || '/' || "
		    "(SELECT group_concat(state || ':' || coalesce(reason, ''), "
		    "'|') FROM deliveries) || '/' || "
		    "(SELECT group_concat(status, '|') FROM contacts)");
}

static void test_envid_delivery(void **state)
{
	static const struct {
		const char *envid;
		int64_t want;
		bool token;
	} cases[] = {
		{"chancery-12-0123456789abcdef", 12, true},
		{"chancery-1-ffffffffffffffff", 1, true},
		{"chancery-3-0123456789012345", 3, true},
		{"chancery-1", 1, false}, {"chancery-123456", 123456, false},
		{"chancery-12-0123456789ABCDEF", 0, false},
		{"chancery-12-0123456789abcde", 0, false},
		{"chancery-12-0123456789abcdef0", 0, false},
		{"chancery-12-0123456789abcdeg", 0, false},
		{"chancery-12-", 0, false}, {"chancery-0-0123456789abcdef", 0, false},
		{"chancery-", 0, false}, {"chancery-0", 0, false},
		{"chancery-12x", 0, false}, {"Chancery-12", 0, false},
		{"other-12", 0, false}, {NULL, 0, false},
		{"chancery-99999999999999999999", 0, false},
		{"chancery-3-12", 0, false}, {"chancery--12", 0, false},
		{"chancery-3x12", 0, false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool token = !cases[i].token;

		print_message("%s\n", cases[i].envid ? cases[i].envid : "(null)");
		assert_int_equal(bounce_envid_delivery(cases[i].envid, &token),
				 cases[i].want);
		assert_int_equal(token, cases[i].token);
	}
	assert_int_equal(bounce_envid_delivery("chancery-7", NULL), 7);
}

/* ---- processing -------------------------------------------------------- */

/* The samples carry their original Message-ID (trusted), except
 * delayed.eml, which names only its recipient: it is quarantined with the
 * delivery it would have matched. */
static void test_effects_of_each_sample(void **state)
{
	static const struct {
		const char *file;
		int delivery; /* 0: none */
		const char *state, *reason_part, *event;
	} cases[] = {
		{"dsn-failed.eml", 1, "bounced", "User unknown in virtual",
		 "delivery.bounced"},
		{"postfix.eml", 2, "bounced", "Mailbox full", "delivery.bounced"},
		{"exim.eml", 3, "bounced", "550 5.7.1", "delivery.bounced"},
		{"exchange.eml", 4, "bounced", "RecipientNotFound",
		 "delivery.bounced"},
		{"delayed.eml", 5, "sent", NULL, "bounce.quarantined"},
		{"delivered.eml", 6, "delivered", NULL, "delivery.delivered"},
		{"unmatched.eml", 0, NULL, NULL, "bounce.quarantined"},
	};
	struct test_db *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bounce_result res;
		char sql[256];

		print_message("%s\n", cases[i].file);
		process_sample(t->db, cases[i].file, &res);
		assert_false(res.duplicate);
		assert_int_equal(res.bounced + res.delivered + res.delayed +
					 res.quarantined,
				 1);
		snprintf(sql, sizeof(sql),
			 "SELECT kind FROM events ORDER BY id DESC LIMIT 1");
		assert_query_str(t->db, sql, cases[i].event);
		assert_int_equal(res.quarantined,
				 strcmp(cases[i].event, "bounce.quarantined") == 0);
		if (!cases[i].delivery)
			continue;
		snprintf(sql, sizeof(sql),
			 "SELECT state FROM deliveries WHERE id = %d",
			 cases[i].delivery);
		assert_query_str(t->db, sql, cases[i].state);
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM events WHERE delivery_id = %d "
			 "AND kind = '%s'",
			 cases[i].delivery, cases[i].event);
		assert_int_equal(test_query_int(t->db, sql), 1);
		if (cases[i].reason_part) {
			char *reason;

			snprintf(sql, sizeof(sql),
				 "SELECT reason FROM deliveries WHERE id = %d",
				 cases[i].delivery);
			reason = test_query_text_or_null(t->db, sql);
			if (!reason || !strstr(reason, cases[i].reason_part))
				fail_msg("reason '%s' lacks '%s'",
					 reason ? reason : "(null)",
					 cases[i].reason_part);
			free(reason);
		}
	}
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "bounce_reports"),
			 7);
	assert_query_str(t->db,
			 "SELECT reason FROM bounce_quarantine WHERE "
			 "delivery_id IS NULL",
			 "no delivery matches (envid chancery-9999, message-id "
			 "c9.d9999@chancery.example.net, recipient "
			 "nobody@unknown.example.com)");
	assert_query_str(t->db,
			 "SELECT reason FROM bounce_quarantine WHERE "
			 "delivery_id = 5",
			 "matched by recipient only: no chancery token in the "
			 "report, delivery 5 not changed; confirm with "
			 "'chancery bounce confirm 1'");
}

/* The quarantine of delayed.eml (recipient only), then unmatched.eml. */
static int count_rows(const struct bounce_quarantined *q, void *arg)
{
	int *n = arg;

	assert_non_null(q->reason);
	assert_str(q->format, "dsn");
	assert_int_equal(q->delivery_id, *n == 0 ? 5 : 0);
	assert_opt_str(q->envid, *n == 0 ? NULL : "chancery-9999");
	assert_null(q->confirmed_by);
	(*n)++;
	return 0;
}

static void test_same_report_twice_changes_nothing(void **state)
{
	static const char *const files[] = {
		"dsn-failed.eml", "postfix.eml", "exim.eml", "exchange.eml",
		"delayed.eml", "delivered.eml", "unmatched.eml",
	};
	struct test_db *t = *state;
	struct error err = ERROR_INIT;
	int listed = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct bounce_result first, again;
		char *before;
		char *after;

		process_sample(t->db, files[i], &first);
		before = snapshot(t->db);
		process_sample(t->db, files[i], &again);
		after = snapshot(t->db);
		assert_true(again.duplicate);
		assert_int_equal(again.report_id, first.report_id);
		assert_int_equal(again.bounced + again.delivered + again.delayed +
					 again.quarantined + again.unchanged,
				 0);
		assert_str(after, before);
		free(before);
		free(after);
	}
	assert_int_equal(bounce_quarantine_each(t->db, count_rows, &listed, &err),
			 0);
	assert_int_equal(listed, 2);
}

static void test_same_message_id_other_bytes_is_duplicate(void **state)
{
	struct test_db *t = *state;
	struct bounce_result res;
	struct error err = ERROR_INIT;
	struct sbuf sb = SBUF_INIT;
	char *before;
	char *after;

	read_sample("dsn-failed.eml", &sb);
	assert_int_equal(process_text(t->db, sb.buf, sb.len, 2, &res, &err), 0);
	before = snapshot(t->db);
	/* A second copy, as delivered to another mailbox, gets another
	 * Delivered-To line: other bytes, same report. */
	sbuf_reset(&sb);
	sbuf_addstr(&sb, "Delivered-To: archive@chancery.example.net\n");
	read_sample("dsn-failed.eml", &sb);
	assert_int_equal(process_text(t->db, sb.buf, sb.len, 2, &res, &err), 0);
	assert_true(res.duplicate);
	after = snapshot(t->db);
	assert_str(after, before);
	free(before);
	free(after);
	sbuf_release(&sb);
}

/* Reports whose action does not fit the delivery's state. */
static void test_state_rules(void **state)
{
	static const struct {
		const char *before, *action, *status;
		const char *after;
		int unchanged, quarantined;
	} cases[] = {
		{"delivered", "failed", "5.1.1", "bounced", 0, 0},
		{"bounced", "failed", "5.1.1", "bounced", 1, 0},
		{"bounced", "delivered", "2.0.0", "bounced", 1, 0},
		{"bounced", "delayed", "4.4.1", "bounced", 1, 0},
		{"delivered", "delivered", "2.0.0", "delivered", 1, 0},
		{"sent", "relayed", "2.0.0", "sent", 1, 0},
		{"sent", "expanded", "2.0.0", "delivered", 0, 0},
		{"pending", "failed", "5.1.1", "pending", 0, 1},
		{"deferred", "delivered", "2.0.0", "deferred", 0, 1},
		{"failed", "failed", "5.1.1", "failed", 0, 1},
		{"cancelled", "delayed", "4.4.1", "cancelled", 0, 1},
	};
	struct test_db *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *fields = xasprintf("Final-Recipient: rfc822; "
					 "registry@ohchr.example.org\n"
					 "Action: %s\nStatus: %s\n",
					 cases[i].action, cases[i].status);
		char *envid = envid_of(1);
		char *per = xasprintf("Original-Envelope-Id: %s", envid);
		char *text = make_dsn(100 + (int)i, per, fields);
		struct error err = ERROR_INIT;
		struct bounce_result res;
		char sql[128];

		snprintf(sql, sizeof(sql),
			 "UPDATE deliveries SET state = '%s' WHERE id = 1",
			 cases[i].before);
		test_exec(t->db, sql);
		print_message("%s report on %s delivery\n", cases[i].action,
			      cases[i].before);
		assert_int_equal(process_text(t->db, text, strlen(text), 2, &res,
					      &err),
				 0);
		assert_query_str(t->db, "SELECT state FROM deliveries WHERE id = 1",
				 cases[i].after);
		assert_int_equal(res.unchanged, cases[i].unchanged);
		assert_int_equal(res.quarantined, cases[i].quarantined);
		if (cases[i].quarantined)
			assert_int_equal(
				test_query_int(t->db,
					       "SELECT delivery_id FROM "
					       "bounce_quarantine ORDER BY id "
					       "DESC LIMIT 1"),
				1);
		free(fields);
		free(envid);
		free(per);
		free(text);
	}
}

/* text with its "%s", if any, replaced by with (caller frees). */
static char *subst(const char *text, const char *with)
{
	const char *at = strstr(text, "%s");
	struct sbuf sb = SBUF_INIT;

	if (!at)
		return xstrdup(text);
	sbuf_add(&sb, text, (size_t)(at - text));
	sbuf_addstr(&sb, with);
	sbuf_addstr(&sb, at + 2);
	return sbuf_detach(&sb, NULL);
}

/* A DSN whose per-message group holds per_message and whose returned
 * headers are headers (caller frees); "%s" in either stands for the
 * fixture's ENVID of delivery `envid`. */
static char *report_text(int n, const char *per_message, const char *headers,
			 const char *recipients, int64_t envid)
{
	char *e = envid ? envid_of(envid) : xstrdup("");
	char *per = subst(per_message, e);
	char *hdr = subst(headers, e);
	char *text = xasprintf(
		"From: MAILER-DAEMON@relay.example.net\n"
		"MIME-Version: 1.0\nMessage-ID: <m%d@relay.example.net>\n"
		"Content-Type: multipart/report; "
		"report-type=delivery-status; boundary=B\n\n"
		"--B\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; relay.example.net\n%s\n\n%s\n"
		"--B\nContent-Type: text/rfc822-headers\n\n%s\n--B--\n",
		n, per, recipients, hdr);

	free(e);
	free(per);
	free(hdr);
	return text;
}

/* The whole ENVID with its token beats the whole Message-ID; those two
 * apply the report. A token-less ENVID, then the recipient's most recent
 * delivery awaiting news, only find the delivery to quarantine with. */
static void test_matching_order(void **state)
{
	static const struct {
		const char *per_message, *recipient, *headers;
		int64_t envid; /* whose ENVID %s stands for */
		int64_t want;
		const char *by;
		bool applied;
	} cases[] = {
		{"Original-Envelope-Id: %s", "info@embassy.example.az",
		 "Message-ID: <c1.d3@chancery.example.net>", 2, 2, "envid",
		 true},
		{"Original-Envelope-Id: chancery-424242-0123456789abcdef",
		 "info@embassy.example.az",
		 "Message-ID: <c1.d3@chancery.example.net>", 0, 3, "message-id",
		 true},
		{"Arrival-Date: today", "registry@ohchr.example.org",
		 "X-Chancery-Delivery: %s", 4, 4, "envid", true},
		{"Original-Envelope-Id: %s0", "info@embassy.example.az",
		 "X-Chancery-Delivery: %s", 2, 2, "envid", true},
		{"Original-Envelope-Id: chancery-2-0000000000000000",
		 "info@embassy.example.az",
		 "Message-ID: <c1.d3@chancery.example.net>", 0, 3, "message-id",
		 true},
		{"Original-Envelope-Id: chancery-2", "info@embassy.example.az",
		 "Message-ID: <unknown@example.org>", 0, 2, "token-less envid",
		 false},
		{"Original-Envelope-Id: chancery-2-0000000000000000",
		 "info@embassy.example.az", "Message-ID: <unknown@example.org>",
		 0, 3, "recipient", false},
		{"Arrival-Date: today", "Press@NHRI.example.ge",
		 "Message-ID: <unknown@example.org>", 0, 205, "recipient", false},
	};
	struct test_db *t = *state;
	static const int one[] = {5, 0};

	add_campaign(t->db, 2, 1762990000, one, "sent");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *fields = xasprintf("Final-Recipient: rfc822; %s\n"
					 "Action: delayed\nStatus: 4.4.1\n",
					 cases[i].recipient);
		char *text = report_text((int)i, cases[i].per_message,
					 cases[i].headers, fields,
					 cases[i].envid);
		struct error err = ERROR_INIT;
		struct bounce_result res;
		char *data, *by;

		print_message("case %zu: %s\n", i, cases[i].by);
		assert_int_equal(process_text(t->db, text, strlen(text), 2, &res,
					      &err),
				 0);
		assert_int_equal(res.delayed, cases[i].applied);
		assert_int_equal(res.quarantined, !cases[i].applied);
		assert_int_equal(test_query_int(t->db, "SELECT delivery_id FROM "
						       "events ORDER BY id DESC "
						       "LIMIT 1"),
				 cases[i].want);
		assert_query_str(t->db, "SELECT kind FROM events ORDER BY id "
					"DESC LIMIT 1",
				 cases[i].applied ? "delivery.delayed"
						  : "bounce.quarantined");
		data = test_query_text_or_null(t->db, "SELECT data FROM events "
					       "ORDER BY id DESC LIMIT 1");
		by = xasprintf("\"matched_by\":\"%s\"", cases[i].by);
		if (!strstr(data, by))
			fail_msg("event data %s lacks %s", data, by);
		free(by);
		free(data);
		free(fields);
		free(text);
	}
	/* a wrong token is named in the reason */
	assert_query_str(t->db, "SELECT reason FROM bounce_quarantine WHERE "
				"delivery_id = 3",
			 "matched by recipient only: the report's ENVID "
			 "chancery-2-0000000000000000 is no delivery's (wrong "
			 "token), delivery 3 not changed; confirm with "
			 "'chancery bounce confirm 2'");
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM deliveries "
					       "WHERE state != 'sent'"),
			 0);
}

static void bounce_contact1(struct db *db, int64_t delivery, int n,
			    int threshold, struct bounce_result *res)
{
	char *envid = envid_of(delivery);
	char *per = xasprintf("Original-Envelope-Id: %s", envid);
	char *text = make_dsn(
		500 + n, per,
		"Final-Recipient: rfc822; registry@ohchr.example.org\n"
		"Action: failed\nStatus: 5.1.1\n"
		"Diagnostic-Code: smtp; 550 5.1.1 no such user\n");
	struct error err = ERROR_INIT;

	if (process_text(db, text, strlen(text), threshold, res, &err) != 0)
		fail_msg("%s", err.msg);
	free(envid);
	free(per);
	free(text);
}

static void test_consecutive_bounces_mark_contact(void **state)
{
	struct test_db *t = *state;
	struct bounce_result res;
	static const int one[] = {1, 0};

	add_campaign(t->db, 2, 1762800000, one, "sent");
	add_campaign(t->db, 3, 1762900000, one, "sent");

	/* Campaign 1 bounces; 2 and 3 are still awaiting news. */
	bounce_contact1(t->db, 1, 1, 2, &res);
	assert_int_equal(res.contacts_bouncing, 0);
	/* Campaign 3 bounces, but campaign 2 in between was delivered. */
	test_exec(t->db,
		  "UPDATE deliveries SET state = 'delivered' WHERE id = 201");
	bounce_contact1(t->db, 301, 2, 2, &res);
	assert_int_equal(res.bounced, 1);
	assert_int_equal(res.contacts_bouncing, 0);
	assert_query_str(t->db, "SELECT status FROM contacts WHERE id = 1",
			 "active");
	/* Campaign 4 bounces: 3 and 4 in a row. */
	add_campaign(t->db, 4, 1762950000, one, "sent");
	bounce_contact1(t->db, 401, 3, 2, &res);
	assert_int_equal(res.bounced, 1);
	assert_int_equal(res.contacts_bouncing, 1);
	assert_query_str(t->db, "SELECT status FROM contacts WHERE id = 1",
			 "bouncing");
	assert_query_str(t->db, "SELECT reason FROM bounce_marks",
			 "permanent failures in 2 consecutive campaigns: "
			 "campaign-4, campaign-3; last: smtp; 550 5.1.1 no "
			 "such user");
	assert_query_str(t->db, "SELECT status_reason FROM contacts WHERE id = 1",
			 "permanent failures in 2 consecutive campaigns: "
			 "campaign-4, campaign-3; last: smtp; 550 5.1.1 no "
			 "such user");
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events "
					       "WHERE kind = 'contact.bouncing' "
					       "AND contact_id = 1"),
			 1);

	/* Re-enabled by a person: the streak starts again. */
	test_exec(t->db, "UPDATE contacts SET status = 'active' WHERE id = 1");
	add_campaign(t->db, 5, 1762960000, one, "sent");
	bounce_contact1(t->db, 501, 4, 2, &res);
	assert_int_equal(res.contacts_bouncing, 0);
	assert_query_str(t->db, "SELECT status FROM contacts WHERE id = 1",
			 "active");
}

static void test_threshold_one_and_failed_state_counts(void **state)
{
	struct test_db *t = *state;
	struct error err = ERROR_INIT;
	bool marked = true;

	/* A 5xx from the relay (state failed) is a permanent failure too. */
	test_exec(t->db, "UPDATE deliveries SET state = 'failed', "
			  "reply_code = 550 WHERE id = 2");
	assert_int_equal(streak_check(t->db, 2, 1, ~0u, &marked, &err), 0);
	assert_true(marked);
	assert_query_str(t->db, "SELECT status FROM contacts WHERE id = 2",
			 "bouncing");
	/* An already bouncing contact is left alone. */
	assert_int_equal(streak_check(t->db, 2, 1, ~0u, &marked, &err), 0);
	assert_false(marked);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "bounce_marks"),
			 1);
	assert_int_equal(streak_check(t->db, 2, 0, ~0u, &marked, &err),
			 ERR_USAGE);
}

/* A failure half-way through a report undoes the whole report. */
static void test_error_changes_nothing(void **state)
{
	struct test_db *t = *state;
	struct error err = ERROR_INIT;
	struct bounce_result res;
	struct sbuf sb = SBUF_INIT;
	char *before = snapshot(t->db);
	char *after;

	/* The report bounces delivery 1 by its ENVID, then marking the
	 * contact bouncing (threshold 1) fails: the bounce must be undone
	 * with it. */
	char *envid = envid_of(1);
	char *per = xasprintf("Original-Envelope-Id: %s", envid);
	char *text = make_dsn(
		900, per,
		"Final-Recipient: rfc822; registry@ohchr.example.org\n"
		"Action: failed\nStatus: 5.1.1\n");

	test_exec(t->db, "CREATE TRIGGER fail_mark BEFORE INSERT ON "
		  "bounce_marks BEGIN SELECT RAISE(ABORT, 'disk on "
		  "fire'); END");
	assert_int_equal(process_text(t->db, text, strlen(text), 1, &res, &err),
			 ERR_DATA);
	assert_non_null(strstr(err.msg, "disk on fire"));
	after = snapshot(t->db);
	assert_str(after, before);
	assert_false(db_in_transaction(t->db));
	free(envid);
	free(per);
	free(text);
	free(before);
	free(after);
	before = snapshot(t->db);
	read_sample("dsn-failed.eml", &sb);
	assert_int_equal(process_text(t->db, sb.buf, sb.len, 0, &res, &err),
			 ERR_USAGE);
	sbuf_reset(&sb);
	read_sample("garbage.eml", &sb);
	assert_int_equal(process_text(t->db, sb.buf, sb.len, 2, &res, &err),
			 ERR_DATA);
	after = snapshot(t->db);
	assert_str(after, before);
	free(before);
	free(after);
	sbuf_release(&sb);
}

/* ---- trust: only a report carrying a secret changes anything -------- */

/* A failure report for registry@ohchr.example.org (delivery 1 of the
 * fixture), identified as each case says. */
static void test_trust(void **state)
{
	static const struct {
		const char *name, *per_message, *headers;
		bool applied;
		const char *reason; /* of the quarantine row, when not */
	} cases[] = {
		{"forged: Final-Recipient only", "Arrival-Date: today",
		 "Subject: Statement", false,
		 "matched by recipient only: no chancery token in the report, "
		 "delivery 1 not changed; confirm with 'chancery bounce "
		 "confirm 1'"},
		{"old sequential ENVID", "Original-Envelope-Id: chancery-1",
		 "Subject: Statement", false,
		 "matched by a token-less ENVID only: no chancery token in the "
		 "report, delivery 1 not changed; confirm with 'chancery "
		 "bounce confirm 2'"},
		{"old sequential X-Chancery-Delivery", "Arrival-Date: today",
		 "X-Chancery-Delivery: chancery-1", false,
		 "matched by a token-less ENVID only: no chancery token in the "
		 "report, delivery 1 not changed; confirm with 'chancery "
		 "bounce confirm 3'"},
		{"wrong token", "Original-Envelope-Id: chancery-1-0123456789abcdef",
		 "Subject: Statement", false,
		 "matched by recipient only: the report's ENVID "
		 "chancery-1-0123456789abcdef is no delivery's (wrong token), "
		 "delivery 1 not changed; confirm with 'chancery bounce "
		 "confirm 4'"},
		{"another delivery's token", "Original-Envelope-Id: %s",
		 "Subject: Statement", false, NULL},
		{"right ENVID and token", "Original-Envelope-Id: %s",
		 "Subject: Statement", true, NULL},
		{"right token in X-Chancery-Delivery", "Arrival-Date: today",
		 "X-Chancery-Delivery: %s", true, NULL},
		{"original Message-ID", "Arrival-Date: today",
		 "Message-ID: <c1.d1@chancery.example.net>", true, NULL},
	};
	struct test_db *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* case 4 carries delivery 2's whole ENVID for delivery 1's
		 * recipient: it is applied to delivery 2, not 1 */
		int64_t whose = i == 4 ? 2 : 1;
		char *text = report_text(
			700 + (int)i, cases[i].per_message, cases[i].headers,
			"Final-Recipient: rfc822; registry@ohchr.example.org\n"
			"Action: failed\nStatus: 5.1.1\n"
			"Diagnostic-Code: smtp; 550 5.1.1 no such user\n",
			whose);
		int64_t events = test_query_int(t->db, "SELECT count(*) FROM "
						       "events");
		struct error err = ERROR_INIT;
		struct bounce_result res;

		print_message("%s\n", cases[i].name);
		test_exec(t->db, "UPDATE deliveries SET state = 'sent', "
				  "reason = NULL WHERE id IN (1, 2)");
		assert_int_equal(process_text(t->db, text, strlen(text), 1, &res,
					      &err),
				 0);
		assert_int_equal(res.bounced, cases[i].applied || i == 4);
		assert_int_equal(res.quarantined, !cases[i].applied && i != 4);
		assert_query_str(t->db, "SELECT state FROM deliveries WHERE id = 1",
				 cases[i].applied ? "bounced" : "sent");
		assert_query_str(t->db, "SELECT state FROM deliveries WHERE id = 2",
				 i == 4 ? "bounced" : "sent");
		if (cases[i].reason) {
			char sql[128];

			snprintf(sql, sizeof(sql),
				 "SELECT reason FROM bounce_quarantine WHERE "
				 "id = %zu AND delivery_id = 1", i + 1);
			assert_query_str(t->db, sql, cases[i].reason);
			/* one event, the quarantine; the contact untouched
			 * even at threshold 1 */
			assert_int_equal(test_query_int(t->db, "SELECT count(*) "
							       "FROM events"),
					 events + 1);
			assert_query_str(t->db, "SELECT status FROM contacts "
						"WHERE id = 1",
					 "active");
		}
		test_exec(t->db, "UPDATE contacts SET status = 'active', "
			  "status_reason = NULL");
		test_exec(t->db, "DELETE FROM bounce_marks");
		free(text);
	}
}

/* The attack of the issue: two forged reports naming only the address
 * used to bounce this year's and last year's delivery, and the contact
 * became bouncing; next year's campaign would skip it. */
static void test_forged_reports_never_mark_contact(void **state)
{
	struct test_db *t = *state;
	static const int one[] = {1, 0};
	char *before_deliveries;
	char *after_deliveries;

	add_campaign(t->db, 2, 1762800000, one, "sent");
	before_deliveries = test_query_text_or_null(
		t->db, "SELECT group_concat(id || ':' || state, ',') "
		       "FROM deliveries");
	for (int n = 0; n < 2; n++) {
		char *text = make_dsn(
			800 + n, "Arrival-Date: today",
			"Final-Recipient: rfc822; registry@ohchr.example.org\n"
			"Action: failed\nStatus: 5.1.1\n"
			"Diagnostic-Code: smtp; 550 5.1.1 no such user\n");
		struct error err = ERROR_INIT;
		struct bounce_result res;

		assert_int_equal(process_text(t->db, text, strlen(text), 2, &res,
					      &err),
				 0);
		assert_int_equal(res.quarantined, 1);
		assert_int_equal(res.bounced, 0);
		assert_int_equal(res.contacts_bouncing, 0);
		free(text);
	}
	after_deliveries = test_query_text_or_null(
		t->db, "SELECT group_concat(id || ':' || state, ',') "
		       "FROM deliveries");
	assert_str(after_deliveries, before_deliveries);
	assert_query_str(t->db, "SELECT status FROM contacts WHERE id = 1",
			 "active");
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "bounce_marks"),
			 0);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events "
					       "WHERE kind != "
					       "'bounce.quarantined'"),
			 0);
	/* both kept as evidence, with the delivery each would have hit */
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "bounce_reports"),
			 2);
	assert_query_str(t->db, "SELECT group_concat(delivery_id, ',') FROM "
				"bounce_quarantine",
			 "201,201");
	free(before_deliveries);
	free(after_deliveries);
}

static void confirm_note(const char *line, void *arg)
{
	struct sbuf *sb = arg;

	sbuf_addstr(sb, line);
	sbuf_addch(sb, '\n');
}

/* A person confirms quarantined rows: applied once, with who in the
 * ledger; every refusal changes nothing. */
static void test_confirm(void **state)
{
	static const struct {
		int64_t id;
		int rc;
		const char *msg; /* of the refusal, or a line of the notes */
		const char *state1;
	} cases[] = {
		{1, 0, "delivery 1 bounced (matched by hand): smtp; 550 5.1.1 "
		       "no such user [class address]\n", "bounced"},
		{1, ERR_DATA, "quarantined report #1 was already confirmed by "
			      "alice", "bounced"},
		{2, ERR_DATA, "quarantined report #2: a failed report does not "
			      "fit delivery 1 in state bounced; nothing changed",
		 "bounced"},
		{3, ERR_DATA, "quarantined report #3 matched no delivery: there "
			      "is nothing to apply it to", "bounced"},
		{99, ERR_NOTFOUND, "no quarantined report #99", "bounced"},
	};
	struct test_db *t = *state;
	struct bounce_result res;
	struct bounce_params p;
	struct sbuf sb = SBUF_INIT;

	/* #1 and #2: forged-looking reports for delivery 1; #3 unmatched */
	for (int n = 0; n < 3; n++) {
		char *text = make_dsn(
			600 + n, "Arrival-Date: today",
			n < 2 ? "Final-Recipient: rfc822; "
				"registry@ohchr.example.org\n"
				"Action: failed\nStatus: 5.1.1\n"
				"Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
			      : "Final-Recipient: rfc822; nobody@example.org\n"
				"Action: failed\nStatus: 5.1.1\n");
		struct error err = ERROR_INIT;

		assert_int_equal(process_text(t->db, text, strlen(text), 2, &res,
					      &err),
				 0);
		assert_int_equal(res.quarantined, 1);
		free(text);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		char *before = snapshot(t->db);
		char *after;
		int rc;

		print_message("confirm #%lld\n", (long long)cases[i].id);
		sbuf_reset(&sb);
		params(&p, 2, 0);
		rc = bounce_confirm(t->db, cases[i].id, "alice", &p, &res,
				    confirm_note, &sb, &err);
		assert_int_equal(rc, cases[i].rc);
		if (rc) {
			assert_str(err.msg, cases[i].msg);
			after = snapshot(t->db);
			assert_str(after, before);
			free(after);
		} else if (!strstr(sb.buf, cases[i].msg)) {
			fail_msg("notes '%s' lack '%s'", sb.buf, cases[i].msg);
		}
		assert_false(db_in_transaction(t->db));
		assert_query_str(t->db, "SELECT state FROM deliveries WHERE id = 1",
				 cases[i].state1);
		free(before);
	}
	assert_int_equal(res.bounced, 0);
	/* the ledger says it was matched and confirmed by hand, by whom */
	{
		static const char *const parts[] = {
			"delivery.bounced ", "\"matched_by\":\"hand\"",
			"\"quarantine\":1,", "\"confirmed_by\":\"alice\"",
			"\"report\":1,",
		};
		char *ev = test_query_text_or_null(
			t->db, "SELECT kind || ' ' || data FROM events "
			       "WHERE delivery_id = 1 "
			       "ORDER BY id DESC LIMIT 1");

		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			if (!strstr(ev, parts[i]))
				fail_msg("event '%s' lacks '%s'", ev, parts[i]);
		free(ev);
	}
	assert_query_str(t->db, "SELECT confirmed_by || ' ' || confirmed_at "
				"FROM bounce_quarantine WHERE id = 1",
			 "alice 1763000000");
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "bounce_quarantine WHERE "
					       "confirmed_at IS NOT NULL"),
			 1);
	sbuf_release(&sb);
}

/* A person dismisses quarantined rows with a reason: recorded once, with
 * who and why in the ledger, nothing applied; a dismissed row cannot be
 * confirmed nor a confirmed one dismissed; every refusal changes
 * nothing. */
static char reason_max[BOUNCE_DISMISS_REASON_MAX + 1];
static char reason_over[BOUNCE_DISMISS_REASON_MAX + 2];

static void test_dismiss(void **state)
{
	static const struct {
		char op; /* 'd' dismiss, 'c' confirm */
		int64_t id;
		const char *reason;
		int rc;
		const char *msg;  /* of the refusal */
		bool at;          /* msg goes on with " at <when>" */
		const char *state1; /* delivery 1 afterwards */
		int dismissed;    /* rows dismissed afterwards */
	} cases[] = {
		{'d', 1, "", ERR_USAGE, "a dismissal needs a reason "
		 "(--reason TEXT)", false, "sent", 0},
		{'d', 1, NULL, ERR_USAGE, "a dismissal needs a reason "
		 "(--reason TEXT)", false, "sent", 0},
		{'d', 1, "two\nlines", ERR_USAGE, "the dismissal reason must be "
		 "one line", false, "sent", 0},
		{'d', 1, "cr\rhere", ERR_USAGE, "the dismissal reason must be "
		 "one line", false, "sent", 0},
		{'d', 1, "tab\there", ERR_USAGE, "the dismissal reason has a "
		 "control character", false, "sent", 0},
		{'d', 1, reason_over, ERR_USAGE, "the dismissal reason is longer "
		 "than 500 bytes", false, "sent", 0},
		{'d', 99, "forged", ERR_NOTFOUND, "no quarantined report #99",
		 false, "sent", 0},
		{'d', 1, "sender is not the relay \xc3\xa9", 0, NULL, false,
		 "sent", 1},
		{'d', 1, "again", ERR_DATA, "quarantined report #1 was already "
		 "dismissed by bob", true, "sent", 1},
		{'c', 1, NULL, ERR_DATA, "quarantined report #1 was already "
		 "dismissed by bob", true, "sent", 1},
		{'c', 2, NULL, 0, NULL, false, "bounced", 1},
		{'d', 2, "late", ERR_DATA, "quarantined report #2 was already "
		 "confirmed by alice", true, "bounced", 1},
		{'d', 3, reason_max, 0, NULL, false, "bounced", 2},
	};
	struct test_db *t = *state;
	struct bounce_result res;
	struct bounce_params p;
	struct sbuf sb = SBUF_INIT;
	char when[32];

	memset(reason_max, 'x', BOUNCE_DISMISS_REASON_MAX);
	memset(reason_over, 'y', BOUNCE_DISMISS_REASON_MAX + 1);
	clock_format_utc(1763000000, when, sizeof(when));
	for (int n = 0; n < 3; n++) {
		char *text = make_dsn(
			700 + n, "Arrival-Date: today",
			n < 2 ? "Final-Recipient: rfc822; "
				"registry@ohchr.example.org\n"
				"Action: failed\nStatus: 5.1.1\n"
				"Diagnostic-Code: smtp; 550 5.1.1 no such user\n"
			      : "Final-Recipient: rfc822; nobody@example.org\n"
				"Action: failed\nStatus: 5.1.1\n");
		struct error err = ERROR_INIT;

		assert_int_equal(process_text(t->db, text, strlen(text), 2, &res,
					      &err),
				 0);
		assert_int_equal(res.quarantined, 1);
		free(text);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		char *before = snapshot(t->db);
		char *after;
		int rc;

		print_message("%c #%lld\n", cases[i].op, (long long)cases[i].id);
		if (cases[i].op == 'd') {
			rc = bounce_dismiss(t->db, cases[i].id, "bob",
					    cases[i].reason, &err);
		} else {
			sbuf_reset(&sb);
			params(&p, 2, 0);
			rc = bounce_confirm(t->db, cases[i].id, "alice", &p,
					    &res, confirm_note, &sb, &err);
		}
		assert_int_equal(rc, cases[i].rc);
		if (rc) {
			char *msg = cases[i].at
					    ? xasprintf("%s at %s", cases[i].msg,
							when)
					    : xstrdup(cases[i].msg);

			assert_str(err.msg, msg);
			free(msg);
			after = snapshot(t->db);
			assert_str(after, before);
			free(after);
		}
		assert_false(db_in_transaction(t->db));
		assert_query_str(t->db, "SELECT state FROM deliveries WHERE id = 1",
				 cases[i].state1);
		assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
						       "bounce_quarantine WHERE "
						       "dismissed_at IS NOT NULL"),
				 cases[i].dismissed);
		assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
						       "events WHERE kind = "
						       "'bounce.dismissed'"),
				 cases[i].dismissed);
		free(before);
	}
	assert_query_str(t->db, "SELECT dismissed_by || ' ' || dismissed_at || "
				"' ' || dismiss_reason FROM bounce_quarantine "
				"WHERE id = 1",
			 "bob 1763000000 sender is not the relay \xc3\xa9");
	assert_int_equal(test_query_int(t->db, "SELECT length(dismiss_reason) "
					       "FROM bounce_quarantine "
					       "WHERE id = 3"),
			 BOUNCE_DISMISS_REASON_MAX);
	/* nothing deleted: the rows and their reports stay */
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "bounce_quarantine q JOIN "
					       "bounce_reports r ON r.id = "
					       "q.report_id"),
			 3);
	{
		static const char *const parts[] = {
			"\"quarantine\":1,",
			"\"recipient\":\"registry@ohchr.example.org\"",
			"\"reason\":\"sender is not the relay \xc3\xa9\"",
			"\"dismissed_by\":\"bob\"",
		};
		char *ev = test_query_text_or_null(
			t->db, "SELECT data FROM events WHERE kind = "
			       "'bounce.dismissed' ORDER BY id LIMIT 1");

		for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
			if (!strstr(ev, parts[i]))
				fail_msg("event '%s' lacks '%s'", ev, parts[i]);
		free(ev);
	}
	/* the listing shows each row's outcome */
	assert_query_str(t->db, "SELECT group_concat(CASE WHEN confirmed_at "
				"IS NOT NULL THEN 'c' WHEN dismissed_at IS NOT "
				"NULL THEN 'd' ELSE 'o' END, '') FROM (SELECT * "
				"FROM bounce_quarantine ORDER BY id)",
			 "dcd");
	sbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envid_delivery),
		cmocka_unit_test_setup_teardown(test_effects_of_each_sample,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_same_report_twice_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_same_message_id_other_bytes_is_duplicate, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_state_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_matching_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_consecutive_bounces_mark_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_threshold_one_and_failed_state_counts, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_error_changes_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_forged_reports_never_mark_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dismiss, setup, teardown),
	};
	return cmocka_run_group_tests_name("bounce", tests, NULL, NULL);
}
