/*
 * The delivery state machine (queue) and the sending engine (dispatch),
 * over real SQLite files, with a test link standing in for the transport.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chancery/bounce.h"
#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/dispatch.h"
#include "chancery/log.h"
#include "chancery/queue.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

#define T0 1750000000LL

struct fixture {
	struct test_db t;
	struct conf cfg;
	int64_t campaign;        /* running */
	int64_t paused_campaign; /* paused */
	int64_t event_floor;     /* events_of counts events after this id */
};

/* Rows a campaign needs: a body, a list, a template. */
static void seed_base(struct db *db)
{
	test_exec(db, "INSERT INTO bodies (id, name, kind, created_at) "
		  "VALUES (1, 'United Nations', 'un-organ', 0);"
		  "INSERT INTO lists (id, name, kind, created_at, updated_at) "
		  "VALUES (1, 'all', 'static', 0, 0);"
		  "INSERT INTO templates (id, name, version, source, sha256, "
		  "created_at) VALUES (1, 't', 1, 'x', 'h', 0);"
		  "INSERT INTO campaigns (id, name, template_id, list_id, "
		  "send_at, tz, state, created_at, updated_at) VALUES "
		  "(1, 'running', 1, 1, 0, 'UTC', 'running', 0, 0),"
		  "(2, 'paused', 1, 1, 0, 'UTC', 'paused', 0, 0);");
}

/* Adds a contact and its delivery in a given state; returns its id. */
static int64_t add_delivery(struct db *db, int64_t campaign, const char *email,
			    const char *state, int64_t next_attempt_at)
{
	sqlite3_stmt *st;
	int64_t contact;

	sqlite3_prepare_v2(db_handle(db),
			   "INSERT INTO contacts (body_id, email, created_at, "
			   "updated_at) VALUES (1, ?1, 0, 0)",
			   -1, &st, NULL);
	sqlite3_bind_text(st, 1, email, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("insert contact %s", email);
	sqlite3_finalize(st);
	contact = sqlite3_last_insert_rowid(db_handle(db));
	sqlite3_prepare_v2(db_handle(db),
			   "INSERT INTO deliveries (campaign_id, contact_id, "
			   "body_id, email, state, next_attempt_at, created_at, "
			   "updated_at) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?6)",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, campaign);
	sqlite3_bind_int64(st, 2, contact);
	sqlite3_bind_text(st, 3, email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, state, -1, SQLITE_TRANSIENT);
	if (next_attempt_at)
		sqlite3_bind_int64(st, 5, next_attempt_at);
	sqlite3_bind_int64(st, 6, T0 - 100);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("insert delivery %s", email);
	sqlite3_finalize(st);
	return sqlite3_last_insert_rowid(db_handle(db));
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	log_open("test_queue", LOG_TARGET_STDERR, LOG_LEVEL_ERROR);
	clock_set_fake(T0);
	test_db_open(&f->t);
	conf_init(&f->cfg);
	f->cfg.queue.retry_first_ms = 60000;
	f->cfg.queue.retry_factor = 2.0;
	f->cfg.queue.retry_max_ms = 600000;
	f->cfg.queue.lifetime_ms = 3600000;
	f->cfg.queue.lease_ms = 600000;
	f->cfg.queue.batch_size = 8;
	f->cfg.queue.workers = 3;
	f->cfg.queue.commit_interval_ms = 50;
	f->cfg.queue.messages_per_connection = 5;
	free(f->cfg.sender.address);
	f->cfg.sender.address = xstrdup("statements@example.org");
	seed_base(f->t.db);
	f->campaign = 1;
	f->paused_campaign = 2;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	conf_release(&f->cfg);
	test_db_close(&f->t);
	free(f);
	clock_clear_fake();
	return 0;
}

static char *vformat(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_vaddf(&sb, fmt, ap);
	return sbuf_detach(&sb, NULL);
}

/* The integer a query (printf-formatted) returns. */
static int64_t q_int(struct fixture *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int64_t q_int(struct fixture *f, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int64_t v;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	v = test_query_int(f->t.db, sql);

	free(sql);
	return v;
}

/* The text a query returns, "(null)" for none; caller frees. */
static char *q_text(struct fixture *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *q_text(struct fixture *f, const char *fmt, ...)
{
	char *v, *sql;
	va_list ap;

	va_start(ap, fmt);
	sql = vformat(fmt, ap);
	va_end(ap);
	v = test_query_text_or_null(f->t.db, sql);
	free(sql);
	return v ? v : xstrdup("(null)");
}

static void assert_state(struct fixture *f, int64_t id, const char *want)
{
	char *got = q_text(f, "SELECT state FROM deliveries WHERE id = %lld", (long long)id);

	if (strcmp(got, want) != 0)
		fail_msg("delivery %lld: state %s, want %s", (long long)id, got,
			 want);
	free(got);
}

static int64_t events_of(struct fixture *f, int64_t id, const char *kind)
{
	char *sql = xasprintf("SELECT count(*) FROM events WHERE delivery_id = "
			      "%lld AND kind = '%s' AND id > %lld",
			      (long long)id, kind, (long long)f->event_floor);
	int64_t v = test_query_int(f->t.db, sql);

	free(sql);
	return v;
}

static int claim(struct fixture *f, const char *owner, int max,
		 struct queue_batch *b)
{
	struct error err = ERROR_INIT;
	int rc = queue_claim(f->t.db, &f->cfg.queue, f->cfg.sender.address,
			     owner, clock_now(), clock_now(), max, b, NULL, &err);

	if (rc)
		fail_msg("queue_claim: %s", err.msg);
	return (int)b->n;
}

static void test_backoff(void **state)
{
	static const struct {
		int64_t first, max;
		double factor;
		int attempts;
		int64_t want;
	} cases[] = {
		{60000, 600000, 2.0, 1, 60000},
		{60000, 600000, 2.0, 2, 120000},
		{60000, 600000, 2.0, 3, 240000},
		{60000, 600000, 2.0, 4, 480000},
		{60000, 600000, 2.0, 5, 600000},
		{60000, 600000, 2.0, 1000000, 600000},
		{1000, 10000, 1.5, 3, 2250},
		{5000, 5000, 3.0, 2, 5000},
		{30000, 14400000, 1.0, 50, 30000},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf_queue q = {.retry_first_ms = cases[i].first,
				       .retry_max_ms = cases[i].max,
				       .retry_factor = cases[i].factor};
		int64_t got = queue_backoff_ms(&q, cases[i].attempts);

		if (got != cases[i].want)
			fail_msg("case %zu: backoff(%d) = %lld, want %lld", i,
				 cases[i].attempts, (long long)got,
				 (long long)cases[i].want);
	}
}

/* Which rows a claim takes, by state, due time and campaign state. */
static void test_claim_selects_due_rows_of_running_campaigns(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int campaign;
		const char *state;
		int64_t next; /* relative to T0; 0: NULL */
		bool claimed;
	} cases[] = {
		{1, "pending", 0, true},      {1, "deferred", -1, true},
		{1, "deferred", 0 + 1, false}, {1, "deferred", -3600, true},
		{1, "sent", 0, false},        {1, "failed", 0, false},
		{1, "skipped", 0, false},     {1, "cancelled", 0, false},
		{2, "pending", 0, false},     {2, "deferred", -1, false},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	int64_t ids[16];
	struct queue_batch b;
	bool token = false;
	int want = 0;

	for (size_t i = 0; i < n; i++) {
		char email[64];

		snprintf(email, sizeof(email), "c%zu@example.org", i);
		ids[i] = add_delivery(f->t.db, cases[i].campaign, email,
				      cases[i].state,
				      cases[i].next ? T0 + cases[i].next : 0);
		want += cases[i].claimed;
	}
	queue_batch_init(&b);
	assert_int_equal(claim(f, "me", 100, &b), want);
	for (size_t i = 0; i < n; i++) {
		bool got = q_int(f, "SELECT state = 'sending' FROM deliveries "
				    "WHERE id = %lld", (long long)ids[i]);

		if (got != cases[i].claimed)
			fail_msg("case %zu (%s, campaign %d): claimed %d, want %d",
				 i, cases[i].state, cases[i].campaign, got,
				 cases[i].claimed);
		assert_int_equal(events_of(f, ids[i], "delivery.attempted"),
				 cases[i].claimed);
	}
	/* The fields a claim sets. */
	for (size_t i = 0; i < b.n; i++) {
		struct queue_item *it = &b.items[i];

		assert_int_equal(it->attempts, 1);
		assert_int_equal(it->lease_until, T0 + 600);
		assert_int_equal(it->expires_at, T0 - 100 + 3600);
		assert_int_equal(q_int(f, "SELECT lease_until FROM deliveries "
					  "WHERE id = %lld", (long long)it->delivery_id),
				 T0 + 600);
		assert_non_null(strstr(it->message_id, "@example.org"));
		assert_non_null(it->envid);
		/* ST_CLAIM_IDS gave it an ENVID with a random token */
		assert_int_equal(bounce_envid_delivery(it->envid, &token),
				 it->delivery_id);
		assert_true(token);
		assert_int_equal(it->campaign_id, 1);
	}
	queue_batch_release(&b);
	/* Nothing is left to claim, and max is honoured. */
	queue_batch_init(&b);
	assert_int_equal(claim(f, "me", 100, &b), 0);
	queue_batch_release(&b);
}

static void test_claim_honours_max_and_keeps_ids_stable(void **state)
{
	struct fixture *f = *state;
	struct queue_batch b;
	struct error err = ERROR_INIT;
	enum queue_outcome o;
	struct transport_result tf = {.outcome = TRANSPORT_TEMPFAIL, .code = 451};
	char *mid, *envid;
	int64_t id;

	for (int i = 0; i < 5; i++) {
		char email[32];

		snprintf(email, sizeof(email), "m%d@example.org", i);
		add_delivery(f->t.db, 1, email, "pending", 0);
	}
	queue_batch_init(&b);
	assert_int_equal(claim(f, "me", 3, &b), 3);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state = "
						 "'sending'"),
			 3);
	/* A retry keeps the Message-ID and ENVID of the first attempt. */
	id = b.items[0].delivery_id;
	mid = xstrdup(b.items[0].message_id);
	envid = xstrdup(b.items[0].envid);
	assert_int_equal(queue_record(f->t.db, &f->cfg, &b.items[0], "me",
				      &tf, T0, &o, &err),
			 0);
	assert_int_equal(o, QUEUE_DEFERRED);
	queue_batch_clear(&b);
	clock_advance(60);
	assert_int_equal(claim(f, "me", 10, &b), 3);
	for (size_t i = 0; i < b.n; i++) {
		if (b.items[i].delivery_id != id)
			continue;
		assert_str(b.items[i].message_id, mid);
		assert_str(b.items[i].envid, envid);
		assert_int_equal(b.items[i].attempts, 2);
	}
	free(mid);
	free(envid);
	queue_batch_release(&b);
}

/* Every result kind: the state, the event and the fields it leaves. */
static void test_record_transitions(void **state)
{
	struct fixture *f = *state;
	static const struct {
		enum transport_outcome outcome;
		int code;
		const char *enhanced, *text, *queue_id;
		int prior_attempts;     /* attempts before this claim */
		int64_t expires_offset; /* expires_at - T0 */
		const char *want_state, *want_event;
		int64_t want_next;      /* next_attempt_at - T0, or 0 */
	} cases[] = {
		{TRANSPORT_SENT, 250, "2.0.0", "Ok: queued as 4XyZ", "4XyZ", 0,
		 3600, "sent", "delivery.sent", 0},
		{TRANSPORT_PERMFAIL, 550, "5.1.1", "no such user", "", 0, 3600,
		 "failed", "delivery.failed", 0},
		{TRANSPORT_TEMPFAIL, 451, "4.3.0", "try later", "", 0, 3600,
		 "deferred", "delivery.deferred", 60},
		{TRANSPORT_TEMPFAIL, 421, "", "closing", "", 2, 3600, "deferred",
		 "delivery.deferred", 240},
		{TRANSPORT_TEMPFAIL, 0, "", "connection refused", "", 20, 3600,
		 "deferred", "delivery.deferred", 600},
		/* The next try would land after the lifetime: expired. */
		{TRANSPORT_TEMPFAIL, 451, "4.3.0", "try later", "", 3, 400,
		 "expired", "delivery.expired", 0},
		{TRANSPORT_TEMPFAIL, 451, "4.3.0", "try later", "", 0, 60,
		 "deferred", "delivery.deferred", 60},
		{TRANSPORT_TEMPFAIL, 451, "4.3.0", "try later", "", 0, 59,
		 "expired", "delivery.expired", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transport_result r = {.outcome = cases[i].outcome,
					     .code = cases[i].code};
		struct error err = ERROR_INIT;
		struct queue_batch b;
		enum queue_outcome o;
		char email[32], *got;
		int64_t id;

		snprintf(email, sizeof(email), "r%zu@example.org", i);
		id = add_delivery(f->t.db, 1, email, "pending", 0);
		{
			char *sql = xasprintf(
				"UPDATE deliveries SET state = 'pending', "
				"attempts = %d, expires_at = %lld WHERE id = %lld",
				cases[i].prior_attempts,
				(long long)(T0 + cases[i].expires_offset),
				(long long)id);
			test_exec(f->t.db, sql);
			free(sql);
		}
		strcpy(r.enhanced, cases[i].enhanced);
		strcpy(r.text, cases[i].text);
		strcpy(r.queue_id, cases[i].queue_id);
		queue_batch_init(&b);
		assert_int_equal(claim(f, "me", 10, &b), 1);
		assert_int_equal(queue_record(f->t.db, &f->cfg, &b.items[0],
					      "me", &r, T0, &o, &err),
				 0);
		assert_state(f, id, cases[i].want_state);
		if (events_of(f, id, cases[i].want_event) != 1)
			fail_msg("case %zu: no %s event", i, cases[i].want_event);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
							 "deliveries WHERE "
							 "lease_until IS NOT NULL"),
				 0);
		assert_int_equal(q_int(f, "SELECT coalesce(next_attempt_at, 0) "
					  "FROM deliveries WHERE id = %lld", (long long)id),
				 cases[i].want_next ? T0 + cases[i].want_next : 0);
		assert_int_equal(q_int(f, "SELECT coalesce(reply_code, 0) FROM "
					  "deliveries WHERE id = %lld", (long long)id),
				 cases[i].code);
		got = q_text(f, "SELECT reply_text FROM deliveries WHERE id = "
				"%lld", (long long)id);
		assert_str(got, cases[i].text);
		free(got);
		if (cases[i].outcome == TRANSPORT_SENT) {
			got = q_text(f, "SELECT queue_id FROM deliveries WHERE "
					"id = %lld", (long long)id);
			assert_str(got, cases[i].queue_id);
			free(got);
			assert_int_equal(q_int(f, "SELECT sent_at FROM deliveries "
						  "WHERE id = %lld", (long long)id), T0);
		} else {
			got = q_text(f, "SELECT reason FROM deliveries WHERE id "
					"= %lld", (long long)id);
			assert_str(got, cases[i].text);
			free(got);
		}
		queue_batch_release(&b);
	}
}

/* Recording the same result twice, or after another owner took the row
 * over, changes nothing and writes no event. */
/* A relay-level fault: deferred, due now, the attempt taken back and
 * the lifetime not checked; the same reply without the mark is the
 * recipient's (charged, and expired when past the lifetime). */
static void test_record_relay_fault(void **state)
{
	struct fixture *f = *state;
	static const struct {
		bool relay_fault;
		int prior_attempts;
		int64_t expires_offset;
		const char *want_state;
		int want_attempts;
		int64_t want_next; /* - T0, or -1 for NULL */
		const char *want_charged; /* the event's attempt_charged */
	} cases[] = {
		{true, 0, 3600, "deferred", 0, 0, "no"},
		{true, 4, 3600, "deferred", 4, 0, "no"},
		{true, 3, 10, "deferred", 3, 0, "no"},   /* not expired */
		{false, 0, 3600, "deferred", 1, 60, NULL},
		{false, 3, 10, "expired", 4, -1, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transport_result r = {.outcome = TRANSPORT_TEMPFAIL,
					     .code = 535};
		struct error err = ERROR_INIT;
		struct queue_batch b;
		enum queue_outcome o;
		char email[32], *sql, *got;
		int64_t id;

		snprintf(email, sizeof(email), "rf%zu@example.org", i);
		id = add_delivery(f->t.db, 1, email, "pending", 0);
		sql = xasprintf("UPDATE deliveries SET attempts = %d, "
				"expires_at = %lld WHERE id = %lld",
				cases[i].prior_attempts,
				(long long)(T0 + cases[i].expires_offset),
				(long long)id);
		test_exec(f->t.db, sql);
		free(sql);
		strcpy(r.enhanced, "5.7.8");
		strcpy(r.text, "AUTH as x rejected: 535 5.7.8 invalid");
		r.relay_fault = cases[i].relay_fault;
		r.phase = cases[i].relay_fault ? TRANSPORT_PHASE_AUTH
					       : TRANSPORT_PHASE_NONE;
		queue_batch_init(&b);
		assert_int_equal(claim(f, "me", 10, &b), 1);
		assert_int_equal(queue_record(f->t.db, &f->cfg, &b.items[0],
					      "me", &r, T0, &o, &err),
				 0);
		assert_state(f, id, cases[i].want_state);
		if (q_int(f, "SELECT attempts FROM deliveries WHERE id = %lld",
			  (long long)id) != cases[i].want_attempts)
			fail_msg("case %zu: attempts %lld, want %d", i,
				 (long long)q_int(f, "SELECT attempts FROM "
						  "deliveries WHERE id = %lld",
						  (long long)id),
				 cases[i].want_attempts);
		assert_int_equal(q_int(f, "SELECT coalesce(next_attempt_at, -1) "
					  "- %lld FROM deliveries WHERE id = "
					  "%lld", T0, (long long)id),
				 cases[i].want_next == -1 ? -1 - T0
							  : cases[i].want_next);
		assert_int_equal(q_int(f, "SELECT expires_at - %lld FROM "
					  "deliveries WHERE id = %lld", T0,
				       (long long)id),
				 cases[i].expires_offset);
		got = q_text(f, "SELECT coalesce(json_extract(data, "
				"'$.attempt_charged'), '-') FROM events WHERE "
				"delivery_id = %lld AND kind IN "
				"('delivery.deferred', 'delivery.expired')",
			     (long long)id);
		assert_str(got, cases[i].want_charged ? cases[i].want_charged
						      : "-");
		free(got);
		if (cases[i].relay_fault) {
			got = q_text(f, "SELECT reason FROM deliveries WHERE "
					"id = %lld", (long long)id);
			assert_str(got, "relay down (AUTH): AUTH as x rejected: "
					"535 5.7.8 invalid");
			free(got);
		}
		queue_batch_release(&b);
		/* out of the next case's claim: due now */
		sql = xasprintf("UPDATE deliveries SET state = 'failed' WHERE "
				"id = %lld", (long long)id);
		test_exec(f->t.db, sql);
		free(sql);
	}
}

/* After an outage: the waiting deliveries' lifetime extended by it, up
 * to the ceiling; past the ceiling while down, expired with the reason. */
static void test_outage_lifetime(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	int64_t a, b, c, sent;
	int n = 0;
	char *got;

	/* created at T0 - 100 (add_delivery) */
	a = add_delivery(f->t.db, 1, "a@example.org", "deferred", T0);
	b = add_delivery(f->t.db, 1, "b@example.org", "pending", 0);
	c = add_delivery(f->t.db, 1, "c@example.org", "deferred", T0);
	sent = add_delivery(f->t.db, 1, "s@example.org", "sent", 0);
	test_exec(f->t.db, "UPDATE deliveries SET expires_at = 1750000050");
	test_exec(f->t.db, "UPDATE deliveries SET expires_at = NULL "
			   "WHERE email = 'b@example.org'");
	assert_int_equal(queue_relay_outage_end(f->t.db, 1000, 2000, &n, &err),
			 0);
	assert_int_equal(n, 2); /* a and c; b has none yet, sent is done */
	assert_int_equal(q_int(f, "SELECT expires_at - %lld FROM deliveries "
				  "WHERE id = %lld", T0, (long long)a), 1050);
	assert_int_equal(q_int(f, "SELECT expires_at - %lld FROM deliveries "
				  "WHERE id = %lld", T0, (long long)sent), 50);
	/* a longer outage stops at created_at + ceiling */
	assert_int_equal(queue_relay_outage_end(f->t.db, 5000, 2000, &n, &err),
			 0);
	assert_int_equal(q_int(f, "SELECT expires_at - %lld FROM deliveries "
				  "WHERE id = %lld", T0, (long long)c), 1900);
	/* never shortened */
	assert_int_equal(queue_relay_outage_end(f->t.db, 0, 100, &n, &err), 0);
	assert_int_equal(q_int(f, "SELECT expires_at - %lld FROM deliveries "
				  "WHERE id = %lld", T0, (long long)c), 1900);
	/* the ceiling passes while the relay is down */
	assert_int_equal(queue_expire_outage(f->t.db, T0 + 1899, 2000,
					     "expired: the relay was down", &n,
					     &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(queue_expire_outage(f->t.db, T0 + 1900, 2000,
					     "expired: the relay was down", &n,
					     &err), 0);
	assert_int_equal(n, 2);
	assert_state(f, a, "expired");
	assert_state(f, c, "expired");
	assert_state(f, b, "pending");
	assert_state(f, sent, "sent");
	got = q_text(f, "SELECT reason FROM deliveries WHERE id = %lld",
		     (long long)a);
	assert_str(got, "expired: the relay was down");
	free(got);
	assert_int_equal(events_of(f, a, "delivery.expired"), 1);
}

static void test_record_is_idempotent_and_owner_checked(void **state)
{
	struct fixture *f = *state;
	struct transport_result ok = {.outcome = TRANSPORT_SENT, .code = 250};
	struct error err = ERROR_INIT;
	struct queue_batch mine, theirs;
	enum queue_outcome o;
	int64_t id = add_delivery(f->t.db, 1, "a@example.org", "pending", 0);
	int64_t events;

	queue_batch_init(&mine);
	queue_batch_init(&theirs);
	assert_int_equal(claim(f, "me", 1, &mine), 1);
	assert_int_equal(queue_record(f->t.db, &f->cfg, &mine.items[0],
				      "me", &ok, T0, &o, &err), 0);
	assert_int_equal(o, QUEUE_SENT);
	events = test_query_int(f->t.db, "SELECT count(*) FROM events");
	assert_int_equal(queue_record(f->t.db, &f->cfg, &mine.items[0],
				      "me", &ok, T0, &o, &err), 0);
	assert_int_equal(o, QUEUE_STALE);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM events"),
			 events);
	assert_int_equal(events_of(f, id, "delivery.sent"), 1);

	/* Lease runs out, another daemon recovers and re-claims: the late
	 * result of the first owner is stale. */
	id = add_delivery(f->t.db, 1, "b@example.org", "pending", 0);
	queue_batch_clear(&mine);
	assert_int_equal(claim(f, "me", 1, &mine), 1);
	clock_advance(601);
	assert_int_equal(queue_recover(f->t.db, clock_now(), NULL, &err), 0);
	assert_int_equal(claim(f, "other", 1, &theirs), 1);
	assert_int_equal(queue_record(f->t.db, &f->cfg, &mine.items[0],
				      "me", &ok, clock_now(), &o, &err), 0);
	assert_int_equal(o, QUEUE_STALE);
	assert_state(f, id, "sending");
	assert_int_equal(queue_record(f->t.db, &f->cfg, &theirs.items[0],
				      "other", &ok, clock_now(), &o, &err), 0);
	assert_int_equal(o, QUEUE_SENT);
	assert_int_equal(events_of(f, id, "delivery.attempted"), 2);
	assert_int_equal(events_of(f, id, "delivery.recovered"), 1);
	assert_int_equal(events_of(f, id, "delivery.sent"), 1);
	queue_batch_release(&mine);
	queue_batch_release(&theirs);
}

static void test_recover_only_lapsed_leases(void **state)
{
	struct fixture *f = *state;
	struct transport_result ok = {.outcome = TRANSPORT_SENT, .code = 250};
	struct error err = ERROR_INIT;
	struct queue_batch b;
	enum queue_outcome o;
	int recovered = -1;
	int64_t id = add_delivery(f->t.db, 1, "a@example.org", "pending", 0);

	queue_batch_init(&b);
	assert_int_equal(claim(f, "me", 1, &b), 1);
	/* Before the lease ends: nothing to recover. */
	clock_advance(599);
	assert_int_equal(queue_recover(f->t.db, clock_now(), &recovered, &err), 0);
	assert_int_equal(recovered, 0);
	assert_state(f, id, "sending");
	clock_advance(2);
	assert_int_equal(queue_recover(f->t.db, clock_now(), &recovered, &err), 0);
	assert_int_equal(recovered, 1);
	assert_state(f, id, "pending");
	assert_int_equal(events_of(f, id, "delivery.recovered"), 1);
	assert_int_equal(q_int(f, "SELECT attempts FROM deliveries WHERE id = "
				  "%lld", (long long)id), 1);
	/* Recovering again finds nothing. */
	assert_int_equal(queue_recover(f->t.db, INT64_MAX, &recovered, &err), 0);
	assert_int_equal(recovered, 0);
	/* The first owner's result still counts while no one re-claimed:
	 * the message did leave, so it is not sent twice. */
	assert_int_equal(queue_record(f->t.db, &f->cfg, &b.items[0], "me",
				      &ok, clock_now(), &o, &err), 0);
	assert_int_equal(o, QUEUE_SENT);
	assert_state(f, id, "sent");
	queue_batch_release(&b);
}

static void test_release_and_startup_recovery(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct queue_batch b;
	int recovered;
	int64_t a = add_delivery(f->t.db, 1, "a@example.org", "pending", 0);
	int64_t c = add_delivery(f->t.db, 1, "c@example.org", "pending", 0);

	queue_batch_init(&b);
	assert_int_equal(claim(f, "me", 2, &b), 2);
	assert_int_equal(queue_unclaim(f->t.db, &b.items[0], "me", NULL, T0, NULL, &err), 0);
	assert_state(f, a, "pending");
	assert_int_equal(q_int(f, "SELECT attempts FROM deliveries WHERE id = "
				  "%lld", (long long)a), 0);
	assert_int_equal(events_of(f, a, "delivery.recovered"), 1);
	/* Releasing twice does nothing. */
	assert_int_equal(queue_unclaim(f->t.db, &b.items[0], "me", NULL, T0, NULL, &err), 0);
	assert_int_equal(events_of(f, a, "delivery.recovered"), 1);
	/* At start-up every sending row belongs to a dead daemon. */
	assert_int_equal(queue_recover(f->t.db, INT64_MAX, &recovered, &err), 0);
	assert_int_equal(recovered, 1);
	assert_state(f, c, "pending");
	queue_batch_release(&b);
}

static void test_depth_and_next_due(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct queue_depth d;
	struct queue_batch b;
	int64_t when;

	add_delivery(f->t.db, 1, "p1@example.org", "pending", 0);
	add_delivery(f->t.db, 1, "p2@example.org", "pending", 0);
	add_delivery(f->t.db, 2, "p3@example.org", "pending", 0);
	add_delivery(f->t.db, 1, "d1@example.org", "deferred", T0 - 5);
	add_delivery(f->t.db, 1, "d2@example.org", "deferred", T0 + 300);
	add_delivery(f->t.db, 2, "d3@example.org", "deferred", T0 + 100);
	add_delivery(f->t.db, 1, "s@example.org", "sent", 0);
	assert_int_equal(queue_depth(f->t.db, T0, &d, &err), 0);
	assert_int_equal(d.pending, 3);
	assert_int_equal(d.deferred, 3);
	assert_int_equal(d.sending, 0);
	assert_int_equal(d.due, 3);
	assert_int_equal(queue_next_due(f->t.db, T0, &when, &err), 0);
	assert_int_equal(when, T0 + 300); /* the paused campaign's is ignored */
	queue_batch_init(&b);
	assert_int_equal(claim(f, "me", 1, &b), 1);
	assert_int_equal(queue_next_due(f->t.db, T0, &when, &err), 0);
	assert_int_equal(when, T0 + 300);
	f->cfg.queue.lease_ms = 60000;
	queue_batch_clear(&b);
	assert_int_equal(claim(f, "me", 1, &b), 1);
	assert_int_equal(queue_next_due(f->t.db, T0, &when, &err), 0);
	assert_int_equal(when, T0 + 60); /* a lease running out */
	assert_int_equal(queue_depth(f->t.db, T0, &d, &err), 0);
	assert_int_equal(d.sending, 2);
	assert_int_equal(d.due, 1);
	queue_batch_release(&b);
}

/* --- the sending engine, with a test link ------------------------------ */

/* The test link answers by recipient: "temp..." 451, "perm..." 550,
 * anything else 250 with a queue id; it keeps every message it got. */
struct sink {
	pthread_mutex_t lock;
	int opened, closed, calls, messages;
	int fail_calls;          /* transport errors for the first N calls */
	int max_chunk;
	char **bodies;           /* by delivery id */
	int nbodies;
	int threads_seen;
	pthread_t seen[8];
	int stop_after;          /* interrupt after this many messages */
};

static void *link_open(void *arg, int worker, struct error *err)
{
	struct sink *s = arg;

	(void)worker;
	(void)err;
	pthread_mutex_lock(&s->lock);
	s->opened++;
	pthread_mutex_unlock(&s->lock);
	return s;
}

static int link_send(void *link, struct transport_message *msgs, size_t n,
		     struct error *err)
{
	struct sink *s = link;
	bool fail;

	pthread_mutex_lock(&s->lock);
	fail = s->calls++ < s->fail_calls;
	if ((int)n > s->max_chunk)
		s->max_chunk = (int)n;
	{
		bool known = false;

		for (int i = 0; i < s->threads_seen; i++)
			known = known || pthread_equal(s->seen[i], pthread_self());
		if (!known && s->threads_seen < 8)
			s->seen[s->threads_seen++] = pthread_self();
	}
	pthread_mutex_unlock(&s->lock);
	if (fail)
		return error_set(err, ERR_CONFIG, "relay misconfigured");
	for (size_t i = 0; i < n; i++) {
		struct transport_result *r = &msgs[i].result;

		memset(r, 0, sizeof(*r));
		if (strncmp(msgs[i].recipient, "relay", 5) == 0) {
			*r = (struct transport_result){TRANSPORT_TEMPFAIL, 535,
						       "5.7.8", "AUTH as x "
						       "rejected: 535 5.7.8 "
						       "bad credentials", ""};
			r->relay_fault = true;
			r->phase = TRANSPORT_PHASE_AUTH;
		} else if (strncmp(msgs[i].recipient, "temp", 4) == 0) {
			*r = (struct transport_result){TRANSPORT_TEMPFAIL, 451,
						       "4.7.1", "greylisted", ""};
		} else if (strncmp(msgs[i].recipient, "perm", 4) == 0) {
			*r = (struct transport_result){TRANSPORT_PERMFAIL, 550,
						       "5.1.1", "unknown user", ""};
		} else {
			*r = (struct transport_result){TRANSPORT_SENT, 250,
						       "2.0.0", "ok", ""};
			snprintf(r->queue_id, sizeof(r->queue_id), "Q%lld",
				 (long long)msgs[i].delivery_id);
		}
		pthread_mutex_lock(&s->lock);
		s->messages++;
		if (msgs[i].delivery_id < s->nbodies) {
			free(s->bodies[msgs[i].delivery_id]);
			s->bodies[msgs[i].delivery_id] =
				xstrndup(msgs[i].data, msgs[i].size);
		}
		pthread_mutex_unlock(&s->lock);
		/* Half the results are told early, as the relay answers
		 * them; the rest when the call returns. */
		if (msgs[i].delivery_id % 2 == 0)
			transport_result_final(&msgs[i]);
	}
	return 0;
}

static void link_close(void *link)
{
	struct sink *s = link;

	pthread_mutex_lock(&s->lock);
	s->closed++;
	pthread_mutex_unlock(&s->lock);
}

static const struct dispatch_link_ops test_link = {link_open, link_send,
						   link_close};

/* Renders "To: <email>" plus the delivery id; "bad..." cannot render.
 * It runs in a worker, on a read-only connection that is not the
 * writer's (arg), and sees the Message-ID the claim committed. */
static int test_render(void *arg, struct db *db, const struct queue_item *it,
		       struct sbuf *out, struct error *err)
{
	sqlite3_stmt *st = NULL;
	bool seen = false;

	if (db == arg || sqlite3_db_readonly(db_handle(db), "main") != 1)
		return error_set(err, ERR_SOFTWARE, "rendered on the writer");
	sqlite3_prepare_v2(db_handle(db), "SELECT message_id = ?2 FROM "
					  "deliveries WHERE id = ?1",
			   -1, &st, NULL);
	sqlite3_bind_int64(st, 1, it->delivery_id);
	sqlite3_bind_text(st, 2, it->message_id, -1, SQLITE_STATIC);
	seen = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!seen)
		return error_set(err, ERR_SOFTWARE, "claim not visible");
	if (strncmp(it->email, "bad", 3) == 0)
		return error_set(err, ERR_DATA, "template needs body.acronym");
	sbuf_addf(out, "To: <%s>\r\nMessage-ID: <%s>\r\n\r\ndelivery %lld\r\n",
		  it->email, it->message_id, (long long)it->delivery_id);
	return 0;
}

static bool stop_when_enough(void *arg)
{
	struct sink *s = arg;
	bool stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop_after && s->messages >= s->stop_after;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void sink_init(struct sink *s, int nbodies)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->nbodies = nbodies;
	s->bodies = xcalloc((size_t)nbodies, sizeof(*s->bodies));
}

static void sink_release(struct sink *s)
{
	for (int i = 0; i < s->nbodies; i++)
		free(s->bodies[i]);
	free(s->bodies);
	pthread_mutex_destroy(&s->lock);
}

static struct dispatch_params params(struct fixture *f, struct sink *s)
{
	return (struct dispatch_params){
		.db = f->t.db,
		.cfg = &f->cfg,
		.owner = "test:1",
		.link = &test_link,
		.link_arg = s,
		.render = test_render,
		.render_arg = f->t.db,
		.interrupted = stop_when_enough,
		.interrupt_arg = s,
	};
}

static void test_dispatch_sends_every_delivery_once(void **state)
{
	struct fixture *f = *state;
	struct dispatch_stats st = {0};
	struct error err = ERROR_INIT;
	struct dispatch_params p;
	struct sink s;
	int n = 60;

	sink_init(&s, n + 10);
	for (int i = 0; i < n; i++) {
		char email[48];
		const char *kind = i % 10 == 3 ? "temp" : i % 10 == 7 ? "perm"
					: i % 20 == 9 ? "bad" : "ok";

		snprintf(email, sizeof(email), "%s%d@example.org", kind, i);
		add_delivery(f->t.db, 1, email, "pending", 0);
	}
	add_delivery(f->t.db, 2, "paused@example.org", "pending", 0);
	p = params(f, &s);
	if (dispatch_run(&p, &st, &err))
		fail_msg("dispatch_run: %s", err.msg);
	assert_int_equal(st.claimed, n);
	assert_int_equal(st.sent, 45);
	assert_int_equal(st.deferred, 6);
	assert_int_equal(st.failed, 9); /* 6 relay refusals, 3 renders */
	assert_int_equal(st.stale, 0);
	assert_int_equal(s.messages, n - 3);
	assert_int_equal(s.opened, 3);
	assert_int_equal(s.closed, 3);
	assert_true(s.max_chunk <= 5);  /* messages_per_connection */
	assert_true(st.commits < st.claimed); /* grouped */
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state IN "
						 "('sending', 'pending') AND "
						 "campaign_id = 1"),
			 0);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state = "
						 "'pending' AND campaign_id = 2"),
			 1);
	/* Exactly two events per delivery: attempted, then its outcome. */
	assert_int_equal(test_query_int(f->t.db,
					"SELECT count(*) FROM (SELECT delivery_id "
					"FROM events WHERE delivery_id IS NOT "
					"NULL GROUP BY delivery_id HAVING "
					"count(*) <> 2)"),
			 0);
	/* The message each recipient got is its own. */
	for (int id = 1; id <= n; id++) {
		char *email = q_text(f, "SELECT email FROM deliveries WHERE id = "
					"%lld", (long long)id);
		char *want = xasprintf("delivery %d\r\n", id);

		if (strncmp(email, "bad", 3) != 0) {
			assert_non_null(s.bodies[id]);
			assert_non_null(strstr(s.bodies[id], email));
			assert_non_null(strstr(s.bodies[id], want));
		} else {
			assert_null(s.bodies[id]);
		}
		free(email);
		free(want);
	}
	{
		char *reason = q_text(f, "SELECT reason FROM deliveries WHERE "
					 "email LIKE 'bad%%' LIMIT %lld", (long long)1);

		assert_str(reason, "render: template needs body.acronym");
		free(reason);
		reason = q_text(f, "SELECT queue_id FROM deliveries WHERE id = "
				   "%lld", (long long)1);
		assert_str(reason, "Q1");
		free(reason);
	}
	/* Deferred ones are not due again in the same run. */
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state = "
						 "'deferred' AND attempts = 1"),
			 6);
	sink_release(&s);
}

/* Told to stop, the run hands back what was not sent and leaves nothing
 * in sending; a second run sends the rest, and no one gets two copies. */
static void test_dispatch_interrupt_hands_back_the_rest(void **state)
{
	struct fixture *f = *state;
	struct dispatch_stats st = {0};
	struct error err = ERROR_INIT;
	struct dispatch_params p;
	struct sink s;
	int n = 200;

	sink_init(&s, n + 1);
	f->cfg.queue.workers = 1;
	f->cfg.queue.batch_size = 20;
	for (int i = 0; i < n; i++) {
		char email[32];

		snprintf(email, sizeof(email), "x%d@example.org", i);
		add_delivery(f->t.db, 1, email, "pending", 0);
	}
	s.stop_after = 10;
	p = params(f, &s);
	if (dispatch_run(&p, &st, &err))
		fail_msg("dispatch_run: %s", err.msg);
	assert_true(st.interrupted);
	assert_true(st.sent >= 10);
	assert_true(st.sent < n);
	assert_int_equal(st.sent + st.released, st.claimed);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state = "
						 "'sending'"),
			 0);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state = 'sent'"),
			 st.sent);
	s.stop_after = 0;
	memset(&st, 0, sizeof(st));
	if (dispatch_run(&p, &st, &err))
		fail_msg("dispatch_run: %s", err.msg);
	assert_false(st.interrupted);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state = 'sent'"),
			 n);
	assert_int_equal(s.messages, n);
	sink_release(&s);
}

/* A transport that cannot work fails the run; its messages wait for a
 * retry instead of being lost. */
static void test_dispatch_transport_error(void **state)
{
	struct fixture *f = *state;
	struct dispatch_stats st = {0};
	struct error err = ERROR_INIT;
	struct dispatch_params p;
	struct sink s;

	sink_init(&s, 8);
	f->cfg.queue.workers = 1;
	s.fail_calls = 1000;
	for (int i = 0; i < 4; i++) {
		char email[32];

		snprintf(email, sizeof(email), "y%d@example.org", i);
		add_delivery(f->t.db, 1, email, "pending", 0);
	}
	p = params(f, &s);
	assert_int_equal(dispatch_run(&p, &st, &err), ERR_CONFIG);
	assert_non_null(strstr(err.msg, "relay misconfigured"));
	assert_int_equal(st.deferred + st.released, 4);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state IN "
						 "('deferred', 'pending')"),
			 4);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE reason LIKE "
						 "'transport: relay misconfigured'"),
			 st.deferred);
	sink_release(&s);
}

/* A relay-level fault (AUTH refused) stops the run: the deliveries it
 * met are deferred without an attempt, the rest handed back unclaimed,
 * nothing expires, and the stats carry the fault. */
static void test_dispatch_relay_fault_stops_the_run(void **state)
{
	struct fixture *f = *state;
	struct dispatch_stats st = {0};
	struct error err = ERROR_INIT;
	struct dispatch_params p;
	struct sink s;

	sink_init(&s, 64);
	f->cfg.queue.workers = 1;
	f->cfg.queue.batch_size = 4;
	for (int i = 0; i < 20; i++) {
		char email[32];

		snprintf(email, sizeof(email), "relay%02d@example.org", i);
		add_delivery(f->t.db, 1, email, "pending", 0);
	}
	/* each would expire on an ordinary tempfail */
	test_exec(f->t.db, "UPDATE deliveries SET expires_at = 1750000001");
	p = params(f, &s);
	assert_int_equal(dispatch_run(&p, &st, &err), 0);
	assert_true(st.relay_down);
	assert_false(st.interrupted);
	assert_int_equal(st.relay_fault.code, 535);
	assert_int_equal(st.relay_fault.phase, TRANSPORT_PHASE_AUTH);
	assert_int_equal(st.expired, 0);
	/* Fewer sessions than deliveries: it stopped claiming. */
	assert_true(s.messages < 20);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE attempts = 0 "
						 "AND state IN ('deferred', "
						 "'pending')"),
			 20);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						 "deliveries WHERE state = "
						 "'deferred' AND reason LIKE "
						 "'relay down (AUTH): AUTH as x "
						 "rejected: 535%%'"),
			 st.deferred);
	assert_true(st.deferred >= 1);
	sink_release(&s);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 600 a minute is 10 a second, with a burst of 10: 16 messages need at
 * least 0.6 s. */
static void test_dispatch_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct dispatch_stats st = {0};
	struct error err = ERROR_INIT;
	struct dispatch_params p;
	struct sink s;
	int64_t start, took;

	sink_init(&s, 20);
	f->cfg.queue.rate_per_minute = 600;
	for (int i = 0; i < 16; i++) {
		char email[32];

		snprintf(email, sizeof(email), "z%d@example.org", i);
		add_delivery(f->t.db, 1, email, "pending", 0);
	}
	p = params(f, &s);
	start = now_ms();
	if (dispatch_run(&p, &st, &err))
		fail_msg("dispatch_run: %s", err.msg);
	took = now_ms() - start;
	assert_int_equal(st.sent, 16);
	if (took < 550)
		fail_msg("16 messages at 600/min took %lld ms, want >= 550",
			 (long long)took);
	sink_release(&s);
}

/* Per-worker render state: one per worker, made and used in that worker's
 * thread only, freed when the worker ends. Chunks are not tiny. */
struct render_states {
	pthread_mutex_t lock;
	int opened, closed, renders;
	bool wrong_thread;
	bool workers_seen[8];
};

struct render_state {
	struct render_states *all;
	struct db *writer;
	pthread_t thread;
	int renders;
};

static void *state_open(void *arg, int worker)
{
	struct render_states *all = ((void **)arg)[0];
	struct render_state *rs = xcalloc(1, sizeof(*rs));

	rs->all = all;
	rs->writer = ((void **)arg)[1];
	rs->thread = pthread_self();
	pthread_mutex_lock(&all->lock);
	all->opened++;
	if (worker >= 0 && worker < 8)
		all->workers_seen[worker] = true;
	pthread_mutex_unlock(&all->lock);
	return rs;
}

static int state_render(void *arg, struct db *db, const struct queue_item *it,
			struct sbuf *out, struct error *err)
{
	struct render_state *rs = arg;

	if (!pthread_equal(rs->thread, pthread_self()))
		rs->all->wrong_thread = true;
	rs->renders++;
	return test_render(rs->writer, db, it, out, err);
}

static void state_close(void *arg)
{
	struct render_state *rs = arg;

	pthread_mutex_lock(&rs->all->lock);
	rs->all->closed++;
	rs->all->renders += rs->renders;
	if (!pthread_equal(rs->thread, pthread_self()))
		rs->all->wrong_thread = true;
	pthread_mutex_unlock(&rs->all->lock);
	free(rs);
}

static void test_dispatch_render_state_per_worker(void **state)
{
	struct fixture *f = *state;
	struct render_states all = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct dispatch_stats st = {0};
	struct error err = ERROR_INIT;
	struct dispatch_params p;
	struct sink s;
	void *arg[2] = {&all, f->t.db};

	sink_init(&s, 40);
	for (int i = 0; i < 30; i++) {
		char email[48];

		snprintf(email, sizeof(email), "ok%d@example.org", i);
		add_delivery(f->t.db, 1, email, "pending", 0);
	}
	f->cfg.queue.batch_size = 12;
	f->cfg.queue.messages_per_connection = 100;
	p = params(f, &s);
	p.render = state_render;
	p.render_arg = arg;
	p.render_open = state_open;
	p.render_close = state_close;
	if (dispatch_run(&p, &st, &err))
		fail_msg("dispatch_run: %s", err.msg);
	assert_int_equal(st.sent, 30);
	assert_int_equal(all.opened, 3); /* queue.workers */
	assert_int_equal(all.closed, 3);
	assert_true(all.workers_seen[0] && all.workers_seen[1] &&
		    all.workers_seen[2]);
	assert_int_equal(all.renders, 30);
	assert_false(all.wrong_thread);
	/* A chunk is one relay session: at least a worker's share of a
	 * batch (4 here), so about 30 / 4, where shares of what was left
	 * (4, 3, 2, 1, 1, 1 of each 12) took 16; plus each worker's first
	 * session of one message, which measures the relay. */
	assert_true(s.calls <= 13);
	sink_release(&s);
}

/* ---- decisions that hold at the moment mail leaves ---- */

/* What an office decision does to a due delivery, as the claim sees it. */
struct withdrawal_case {
	const char *what;
	const char *sql;       /* ?1: the contact's id */
	const char *deferred;  /* "deferred" for a retry, else pending */
	const char *reason;    /* what the skipped row must say */
};

static const struct withdrawal_case withdrawal_cases[] = {
	{"suppressed", "UPDATE contacts SET status = 'suppressed', "
		       "status_reason = 'at its own request' WHERE id = ?1",
	 NULL, "contact suppressed: at its own request"},
	{"disabled", "UPDATE contacts SET status = 'disabled' WHERE id = ?1",
	 NULL, "contact disabled"},
	{"bouncing", "UPDATE contacts SET status = 'bouncing' WHERE id = ?1",
	 NULL, "contact bouncing"},
	{"contact removed", "UPDATE contacts SET removed_at = 1 WHERE id = ?1",
	 NULL, "contact removed"},
	{"body removed", "UPDATE bodies SET removed_at = 1 WHERE id = "
			 "(SELECT body_id FROM contacts WHERE id = ?1)",
	 NULL, "body removed"},
	{"suppressed retry", "UPDATE contacts SET status = 'suppressed' "
			     "WHERE id = ?1",
	 "deferred", "contact suppressed"},
};

/* Deletes every delivery and contact: rows of an earlier case of a
 * table (ids are reused; events stay and are not counted again). */
static void fresh_rows(struct fixture *f)
{
	test_exec(f->t.db, "DELETE FROM deliveries; DELETE FROM contacts;"
		  "UPDATE bodies SET removed_at = NULL;"
		  "UPDATE campaigns SET state = 'running' WHERE id = 1");
	f->event_floor = q_int(f, "SELECT coalesce(max(id), 0) FROM events");
}

/* Runs one statement with ?1 bound to id. */
static void run_sql(struct fixture *f, const char *sql, int64_t id)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db_handle(f->t.db), sql, -1, &st, NULL))
		fail_msg("%s: %s", sql, sqlite3_errmsg(db_handle(f->t.db)));
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ERROR)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db_handle(f->t.db)));
	sqlite3_finalize(st);
}

static void test_claim_skips_withdrawn(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(withdrawal_cases) /
				sizeof(withdrawal_cases[0]); i++) {
		const struct withdrawal_case *tc = &withdrawal_cases[i];
		struct error err = ERROR_INIT;
		struct queue_batch b;
		int64_t keep, gone, contact;
		int skipped = -1;
		char *reason;

		fresh_rows(f);
		gone = add_delivery(f->t.db, f->campaign, "gone@example.org",
				    tc->deferred ? tc->deferred : "pending",
				    tc->deferred ? T0 - 1 : 0);
		keep = add_delivery(f->t.db, f->campaign, "keep@example.org",
				    "pending", 0);
		contact = q_int(f, "SELECT contact_id FROM deliveries WHERE "
				   "id = %lld", (long long)gone);
		run_sql(f, tc->sql, contact);
		queue_batch_init(&b);
		if (queue_claim(f->t.db, &f->cfg.queue, f->cfg.sender.address,
				"me", T0, T0, 8, &b, &skipped, &err))
			fail_msg("%s: queue_claim: %s", tc->what, err.msg);
		/* A removed body takes both contacts' deliveries with it. */
		if (strcmp(tc->what, "body removed") == 0) {
			assert_int_equal(b.n, 0);
			assert_int_equal(skipped, 2);
			assert_state(f, keep, "skipped");
		} else {
			if (b.n != 1 || b.items[0].delivery_id != keep)
				fail_msg("%s: claimed %zu, want only the "
					 "kept delivery", tc->what, b.n);
			assert_int_equal(skipped, 1);
			assert_state(f, keep, "sending");
		}
		assert_state(f, gone, "skipped");
		reason = q_text(f, "SELECT reason FROM deliveries WHERE id = "
				   "%lld", (long long)gone);
		if (strcmp(reason, tc->reason) != 0)
			fail_msg("%s: reason '%s', want '%s'", tc->what, reason,
				 tc->reason);
		free(reason);
		assert_int_equal(q_int(f, "SELECT attempts FROM deliveries "
					  "WHERE id = %lld", (long long)gone),
				 0);
		assert_int_equal(events_of(f, gone, "delivery.skipped"), 1);
		assert_int_equal(events_of(f, gone, "delivery.attempted"), 0);
		queue_batch_release(&b);
	}
}

/* queue_check on each kind of decision, campaign first. */
static void test_check_verdicts(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *sql; /* ?1: the contact */
		enum queue_verdict want;
		const char *reason;
	} cases[] = {
		{"SELECT ?1", QUEUE_GO, ""},
		{"UPDATE campaigns SET state = 'paused' WHERE id = 1 AND ?1",
		 QUEUE_HOLD, "campaign paused"},
		{"UPDATE campaigns SET state = 'cancelled' WHERE id = 1 AND ?1",
		 QUEUE_CANCEL, "campaign cancelled"},
		{"UPDATE contacts SET status = 'suppressed', status_reason = "
		 "'asked' WHERE id = ?1", QUEUE_SKIP,
		 "contact suppressed: asked"},
		{"UPDATE contacts SET removed_at = 5 WHERE id = ?1",
		 QUEUE_SKIP, "contact removed"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct queue_check chk;
		struct queue_item it = {0};
		int64_t d;

		fresh_rows(f);
		d = add_delivery(f->t.db, f->campaign, "a@example.org",
				 "sending", 0);
		it.delivery_id = d;
		it.campaign_id = f->campaign;
		it.body_id = 1;
		it.contact_id = q_int(f, "SELECT contact_id FROM deliveries "
					 "WHERE id = %lld", (long long)d);
		run_sql(f, cases[i].sql, it.contact_id);
		assert_int_equal(queue_check(f->t.db, &it, &chk, &err), 0);
		if (chk.verdict != cases[i].want ||
		    strcmp(chk.reason, cases[i].reason) != 0)
			fail_msg("case %zu: verdict %d '%s', want %d '%s'", i,
				 chk.verdict, chk.reason, cases[i].want,
				 cases[i].reason);
	}
}

/* A claimed delivery handed back: where each verdict sends it. */
static void test_unclaim_verdicts(void **state)
{
	struct fixture *f = *state;
	static const struct {
		enum queue_verdict verdict;
		const char *reason;
		bool cancel_campaign;
		const char *want_state, *want_event;
		enum queue_outcome want;
	} cases[] = {
		{QUEUE_HOLD, "campaign paused", false, "pending",
		 "delivery.recovered", QUEUE_HELD},
		{QUEUE_SKIP, "contact disabled", false, "skipped",
		 "delivery.skipped", QUEUE_SKIPPED},
		{QUEUE_CANCEL, "campaign cancelled", false, "cancelled",
		 "delivery.cancelled", QUEUE_CANCELLED},
		/* released by a stopping daemon after a cancel: cancelled */
		{QUEUE_GO, "", true, "cancelled", "delivery.cancelled",
		 QUEUE_CANCELLED},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct queue_check why = {cases[i].verdict, ""};
		enum queue_outcome got;
		struct queue_batch b;
		int64_t d;

		fresh_rows(f);
		snprintf(why.reason, sizeof(why.reason), "%s", cases[i].reason);
		d = add_delivery(f->t.db, f->campaign, "a@example.org",
				 "pending", 0);
		queue_batch_init(&b);
		assert_int_equal(claim(f, "me", 1, &b), 1);
		if (cases[i].cancel_campaign)
			test_exec(f->t.db, "UPDATE campaigns SET state = "
				  "'cancelled' WHERE id = 1");
		assert_int_equal(queue_unclaim(f->t.db, &b.items[0], "me",
					       cases[i].verdict == QUEUE_GO
						       ? NULL : &why,
					       T0, &got, &err), 0);
		assert_state(f, d, cases[i].want_state);
		assert_int_equal(got, cases[i].want);
		assert_int_equal(events_of(f, d, cases[i].want_event), 1);
		assert_int_equal(q_int(f, "SELECT attempts FROM deliveries "
					  "WHERE id = %lld", (long long)d), 0);
		/* Twice: the row is no longer ours. */
		assert_int_equal(queue_unclaim(f->t.db, &b.items[0], "me", &why,
					       T0, &got, &err), 0);
		assert_int_equal(got, QUEUE_STALE);
		queue_batch_release(&b);
	}
}

/*
 * A campaign cancelled while a message is with the relay: what waits is
 * cancelled at once, a message that left is recorded as sent, one that
 * would be retried is cancelled, and a lease that runs out cancels too.
 */
static void test_cancel_while_sending(void **state)
{
	struct fixture *f = *state;
	struct transport_result ok = {.outcome = TRANSPORT_SENT, .code = 250};
	struct transport_result tf = {.outcome = TRANSPORT_TEMPFAIL,
				      .code = 451};
	struct error err = ERROR_INIT;
	enum queue_outcome o;
	struct queue_batch b;
	int64_t sent, retried, lapsed, waiting, deferred;
	int n = 0;

	sent = add_delivery(f->t.db, f->campaign, "s@example.org", "pending", 0);
	retried = add_delivery(f->t.db, f->campaign, "r@example.org", "pending",
			       0);
	lapsed = add_delivery(f->t.db, f->campaign, "l@example.org", "pending",
			      0);
	queue_batch_init(&b);
	assert_int_equal(claim(f, "me", 3, &b), 3);
	waiting = add_delivery(f->t.db, f->campaign, "w@example.org", "pending",
			       0);
	deferred = add_delivery(f->t.db, f->campaign, "d@example.org",
				"deferred", T0 + 600);
	test_exec(f->t.db, "UPDATE campaigns SET state = 'cancelled' "
		  "WHERE id = 1");
	assert_int_equal(queue_cancel_campaign(f->t.db, f->campaign, T0, &n,
					       &err), 0);
	assert_int_equal(n, 2);
	assert_state(f, waiting, "cancelled");
	assert_state(f, deferred, "cancelled");
	assert_int_equal(queue_record(f->t.db, &f->cfg, &b.items[0], "me",
				      &ok, T0, &o, &err), 0);
	assert_int_equal(o, QUEUE_SENT);
	assert_state(f, sent, "sent");
	assert_int_equal(queue_record(f->t.db, &f->cfg, &b.items[1], "me",
				      &tf, T0, &o, &err), 0);
	assert_int_equal(o, QUEUE_CANCELLED);
	assert_state(f, retried, "cancelled");
	assert_int_equal(events_of(f, retried, "delivery.cancelled"), 1);
	assert_int_equal(queue_recover(f->t.db, INT64_MAX, NULL, &err), 0);
	assert_state(f, lapsed, "cancelled");
	assert_int_equal(events_of(f, lapsed, "delivery.recovered"), 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM deliveries WHERE "
				  "state IN ('pending', 'deferred', 'sending')"),
			 0);
	queue_batch_release(&b);
}

/* --once: a retry that comes due after the run began waits. */
/*
 * Taking a campaign's deliveries back (queue_withdraw_campaign) refuses
 * when one was ever tried, changing nothing; otherwise each pending one
 * gets a withdrawn delivery.cancelled event, every row goes, and no id
 * is given again.
 */
static void test_withdraw_campaign(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	int64_t skipped, pending, tried, last = 0;
	int withdrawn = -1, removed = -1;

	skipped = add_delivery(f->t.db, f->paused_campaign, "s@example.org",
			       "skipped", 0);
	pending = add_delivery(f->t.db, f->paused_campaign, "p@example.org",
			       "pending", 0);
	tried = add_delivery(f->t.db, f->paused_campaign, "d@example.org",
			     "deferred", T0 + 60);
	assert_int_not_equal(queue_withdraw_campaign(f->t.db, f->paused_campaign,
						     "campaign rejected: x",
						     &withdrawn, &removed,
						     &err), 0);
	assert_non_null(strstr(err.msg, "is deferred"));
	assert_int_equal(withdrawn + removed, 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM deliveries WHERE "
			       "campaign_id = 2"), 3);
	assert_int_equal(q_int(f, "SELECT count(*) FROM events"), 0);
	test_exec(f->t.db, "DELETE FROM deliveries WHERE state = 'deferred'");
	(void)tried;
	err = (struct error)ERROR_INIT;
	if (queue_withdraw_campaign(f->t.db, f->paused_campaign,
				    "campaign rejected: x", &withdrawn,
				    &removed, &err) != 0)
		fail_msg("withdraw: %s", err.msg);
	assert_int_equal(withdrawn, 1);
	assert_int_equal(removed, 2);
	assert_int_equal(q_int(f, "SELECT count(*) FROM deliveries WHERE "
			       "campaign_id = 2"), 0);
	assert_int_equal(q_int(f, "SELECT count(*) FROM events WHERE kind = "
			       "'delivery.cancelled' AND delivery_id = %lld AND "
			       "json_extract(data, '$.withdrawn') = 'yes' AND "
			       "json_extract(data, '$.reason') = 'campaign "
			       "rejected: x'", (long long)pending), 1);
	assert_int_equal(q_int(f, "SELECT count(*) FROM events WHERE "
			       "delivery_id = %lld", (long long)skipped), 0);
	assert_int_equal(queue_last_id(f->t.db, &last, &err), 0);
	assert_true(last >= pending);
}

static void test_claim_due_by(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct queue_batch b;
	int64_t early, late;

	early = add_delivery(f->t.db, f->campaign, "e@example.org", "deferred",
			     T0 - 10);
	late = add_delivery(f->t.db, f->campaign, "l@example.org", "deferred",
			    T0 + 10);
	queue_batch_init(&b);
	assert_int_equal(queue_claim(f->t.db, &f->cfg.queue,
				     f->cfg.sender.address, "me", T0 + 20,
				     T0, 8, &b, NULL, &err), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.items[0].delivery_id, early);
	assert_state(f, late, "deferred");
	queue_batch_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test_setup_teardown(test_claim_skips_withdrawn,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_verdicts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unclaim_verdicts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancel_while_sending,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_due_by, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_campaign, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_claim_selects_due_rows_of_running_campaigns, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_claim_honours_max_and_keeps_ids_stable, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_record_transitions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_record_relay_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_outage_lifetime, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_dispatch_relay_fault_stops_the_run, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_record_is_idempotent_and_owner_checked, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_recover_only_lapsed_leases,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_release_and_startup_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_and_next_due, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_dispatch_sends_every_delivery_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dispatch_interrupt_hands_back_the_rest, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_transport_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_rate_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_dispatch_render_state_per_worker, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
