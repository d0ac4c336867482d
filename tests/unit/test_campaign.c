#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/campaign_render.h"
#include "chancery/campaign_start.h"
#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/list.h"
#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1735689600 /* 2025-01-01T00:00:00Z */
#define SEND (T0 + 86400)

/* A registry of three bodies on one list: two active contacts, one
 * disabled, one bouncing, and an empty list. */
struct fx {
	struct test_db t;
	struct conf cfg;
	int64_t list_id, empty_id;
	int64_t body[3], contact[4];
};

/* Stores source as the next version of template name. */
static void add_template(struct test_db *t, const char *name,
			 const char *source)
{
	struct template_info info;
	struct error err = ERROR_INIT;
	bool unchanged = false;
	char *path = test_write_file(t->dir, "t.tmpl", source);

	if (template_add(t->db, name, path, &info, &unchanged, &err) != 0)
		fail_msg("template_add %s: %s", name, err.msg);
	template_info_release(&info);
	free(path);
}

static int setup(void **state)
{
	static const struct {
		const char *acronym, *name, *kind;
	} bodies[] = {
		{"UNSG", "Secretary-General of the United Nations", "un-organ"},
		{"OSCE", "Organization for Security and Co-operation in Europe",
		 "regional-org"},
		{"EMBFR", "Embassy of France in Azerbaijan", "embassy"},
	};
	static const struct {
		int body;
		const char *email;
	} contacts[] = {
		{0, "sg@un.example.org"}, {1, "pc@osce.example.org"},
		{1, "old@osce.example.org"}, {2, "info@ambafrance.example.az"},
	};
	struct error err = ERROR_INIT;
	struct fx *f = xcalloc(1, sizeof(*f));

	clock_set_fake(T0);
	test_db_open(&f->t);
	conf_init(&f->cfg);
	free(f->cfg.sender.address);
	f->cfg.sender.address = xstrdup("press@ombudsman.example.az");
	add_template(&f->t, "stmt", "Subject: Statement\n\nTo the "
				    "{{body.name}}.\n");
	add_template(&f->t, "stmt", "Subject: Statement\n\nTo the "
				    "{{body.name}}, {{contact.email}}.\n");
	add_template(&f->t, "hdr", "Subject: For {{contact.name}}\n\nText.\n");
	if (list_create(f->t.db, "all", LIST_STATIC, NULL, &f->list_id, &err) ||
	    list_create(f->t.db, "empty", LIST_STATIC, NULL, &f->empty_id, &err))
		fail_msg("list_create: %s", err.msg);
	for (size_t i = 0; i < N(bodies); i++)
		if (registry_body_add(f->t.db, bodies[i].acronym, bodies[i].name,
				      bodies[i].kind, NULL, NULL, &f->body[i], &err) ||
		    list_add_body(f->t.db, f->list_id, f->body[i], &err))
			fail_msg("body %s: %s", bodies[i].acronym, err.msg);
	for (size_t i = 0; i < N(contacts); i++)
		if (registry_contact_add(f->t.db, f->body[contacts[i].body],
					 contacts[i].email, NULL, NULL, NULL,
					 &f->contact[i], &err))
			fail_msg("contact %s: %s", contacts[i].email, err.msg);
	if (registry_contact_set_status(f->t.db, f->contact[2], CONTACT_DISABLED,
					"left office", &err) ||
	    registry_contact_set_status(f->t.db, f->contact[3], CONTACT_BOUNCING,
					"5.1.1 user unknown", &err))
		fail_msg("set status: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conf_release(&f->cfg);
	test_db_close(&f->t);
	free(f);
	clock_clear_fake();
	return 0;
}

static int64_t count(struct fx *f, const char *sql)
{
	return test_query_int(f->t.db, sql);
}

static int64_t create_with(struct fx *f, const char *name, const char *tmpl,
			   const char *list)
{
	struct campaign_new c = {.name = name, .template_name = tmpl,
				 .list_name = list, .send_at = SEND,
				 .tz = "Asia/Baku"};
	struct error err = ERROR_INIT;
	int64_t id = 0;

	if (campaign_create(f->t.db, &c, &id, &err) != 0)
		fail_msg("create %s: %s", name, err.msg);
	return id;
}

static int64_t create(struct fx *f, const char *name, const char *list)
{
	return create_with(f, name, "stmt", list);
}

static enum campaign_state state_of(struct fx *f, int64_t id)
{
	struct campaign_info c;
	struct error err = ERROR_INIT;
	enum campaign_state s;

	if (campaign_get(f->t.db, id, &c, &err) != 0)
		fail_msg("get: %s", err.msg);
	s = c.state;
	campaign_info_release(&c);
	return s;
}

static void test_create(void **state)
{
	struct fx *f = *state;
	struct campaign_info c;
	struct error err = ERROR_INIT;
	int64_t id = create(f, "feb", "all");

	assert_int_equal(campaign_find(f->t.db, "feb", &c, &err), 0);
	assert_int_equal(c.id, id);
	assert_int_equal(c.state, CAMPAIGN_DRAFT);
	assert_int_equal(c.template_version, 2); /* the latest */
	assert_str(c.list_name, "all");
	assert_int_equal(c.send_at, SEND);
	campaign_info_release(&c);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = "
				  "'campaign.created' AND json_extract(data, "
				  "'$.template_version') = 2 AND json_extract("
				  "data, '$.template') = 'stmt' AND length("
				  "json_extract(data, '$.template_sha256')) = 64"),
			 1);
}

static void test_create_refusals(void **state)
{
	static const struct {
		const char *name, *tmpl, *list, *tz, *sender;
		int version, want;
		const char *says;
	} cases[] = {
		{"x", "nope", "all", "UTC", NULL, 0, ERR_NOTFOUND, "nope"},
		{"x", "stmt", "nope", "UTC", NULL, 0, ERR_NOTFOUND, "nope"},
		{"x", "stmt", "all", "Mars/Base", NULL, 0, ERR_USAGE, "Mars/Base"},
		{"x", "stmt", "all", "UTC", "not an address", 0, ERR_DATA, "sender"},
		{"x", "stmt", "all", "UTC", NULL, 9, ERR_NOTFOUND, "stmt"},
		{"", "stmt", "all", "UTC", NULL, 0, ERR_USAGE, "name"},
		{"dup", "stmt", "all", "UTC", NULL, 0, ERR_DATA, "already exists"},
	};
	struct fx *f = *state;

	create(f, "dup", "all");
	for (size_t i = 0; i < N(cases); i++) {
		struct campaign_new c = {cases[i].name, cases[i].tmpl,
					 cases[i].version, cases[i].list, SEND,
					 cases[i].tz, cases[i].sender, NULL, 0, 0};
		struct error err = ERROR_INIT;
		int rc = campaign_create(f->t.db, &c, NULL, &err);

		if (rc != cases[i].want || !strstr(err.msg, cases[i].says))
			fail_msg("case %zu: got %d '%s', want %d naming '%s'", i,
				 rc, err.msg, cases[i].want, cases[i].says);
	}
	assert_int_equal(count(f, "SELECT count(*) FROM campaigns"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = "
				  "'campaign.created'"), 1);
}

/* Brings a new campaign into state s the way the system would. */
static int64_t campaign_in(struct fx *f, const char *name,
			   enum campaign_state s)
{
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	int64_t id = create(f, name, "all");
	int started = 0, done = 0;
	char *sql;

	if (s == CAMPAIGN_DRAFT)
		return id;
	if (s == CAMPAIGN_CANCELLED)
		return campaign_cancel(f->t.db, id, NULL, &err) ? -1 : id;
	if (campaign_schedule(f->t.db, &f->cfg, id, &problems, &err))
		fail_msg("schedule: %s\n%s", err.msg, problems.buf);
	sbuf_release(&problems);
	if (s == CAMPAIGN_SCHEDULED)
		return id;
	if (s == CAMPAIGN_PAUSED) {
		assert_int_equal(campaign_pause(f->t.db, id, &err), 0);
		return id;
	}
	assert_int_equal(campaign_start_due(f->t.db, &f->cfg, SEND, &started,
					    &err), 0);
	/* Others scheduled earlier may start with it. */
	assert_true(started >= 1);
	assert_int_equal(state_of(f, id), CAMPAIGN_RUNNING);
	if (s == CAMPAIGN_RUNNING)
		return id;
	sql = xasprintf("UPDATE deliveries SET state = 'sent' WHERE "
			"campaign_id = %lld AND state = 'pending'", (long long)id);
	test_exec(f->t.db, sql);
	free(sql);
	assert_int_equal(campaign_finish_done(f->t.db, SEND, &done, &err), 0);
	assert_true(done >= 1);
	assert_int_equal(state_of(f, id), CAMPAIGN_DONE);
	return id;
}

enum verb { V_SCHEDULE, V_PAUSE, V_RESUME, V_CANCEL };

static int apply(struct fx *f, int64_t id, enum verb v, struct error *err)
{
	struct sbuf problems = SBUF_INIT;
	int rc;

	switch (v) {
	case V_SCHEDULE:
		rc = campaign_schedule(f->t.db, &f->cfg, id, &problems, err);
		break;
	case V_PAUSE: rc = campaign_pause(f->t.db, id, err); break;
	case V_RESUME: rc = campaign_resume(f->t.db, id, err); break;
	default: rc = campaign_cancel(f->t.db, id, NULL, err); break;
	}
	sbuf_release(&problems);
	return rc;
}

/* Every verb in every state: the new state, or an error naming the old. */
static void test_transitions(void **state)
{
	static const char *const verbs[] = {"schedule", "pause", "resume",
					    "cancel"};
	/* want[state][verb]: resulting state, or -1 for refused. */
	static const int want[6][4] = {
		[CAMPAIGN_DRAFT] = {CAMPAIGN_SCHEDULED, -1, -1, CAMPAIGN_CANCELLED},
		[CAMPAIGN_SCHEDULED] = {-1, CAMPAIGN_PAUSED, -1, CAMPAIGN_CANCELLED},
		[CAMPAIGN_RUNNING] = {-1, CAMPAIGN_PAUSED, -1, CAMPAIGN_CANCELLED},
		[CAMPAIGN_PAUSED] = {-1, -1, CAMPAIGN_SCHEDULED, CAMPAIGN_CANCELLED},
		[CAMPAIGN_DONE] = {-1, -1, -1, -1},
		[CAMPAIGN_CANCELLED] = {-1, -1, -1, -1},
	};
	struct fx *f = *state;
	int n = 0;

	for (int s = 0; s < 6; s++) {
		for (int v = 0; v < 4; v++) {
			struct error err = ERROR_INIT;
			char name[32];
			int64_t id, events_before;
			int rc;

			snprintf(name, sizeof(name), "c%d", n++);
			id = campaign_in(f, name, (enum campaign_state)s);
			assert_true(id > 0);
			assert_int_equal(state_of(f, id), s);
			events_before = count(f, "SELECT count(*) FROM events");
			rc = apply(f, id, (enum verb)v, &err);
			if (want[s][v] < 0) {
				if (rc != ERR_DATA ||
				    !strstr(err.msg, campaign_state_name(s)))
					fail_msg("%s a %s campaign: got %d '%s', "
						 "want a refusal naming the state",
						 verbs[v], campaign_state_name(s),
						 rc, err.msg);
				assert_int_equal(state_of(f, id), s);
				assert_int_equal(count(f, "SELECT count(*) FROM events"),
						 events_before);
			} else {
				if (rc != 0)
					fail_msg("%s a %s campaign: %s", verbs[v],
						 campaign_state_name(s), err.msg);
				assert_int_equal(state_of(f, id), want[s][v]);
			}
		}
	}
}

/* A paused running campaign resumes running, not scheduled. */
static void test_pause_resume_running(void **state)
{
	struct fx *f = *state;
	struct error err = ERROR_INIT;
	int64_t id = campaign_in(f, "run", CAMPAIGN_RUNNING);

	assert_int_equal(campaign_pause(f->t.db, id, &err), 0);
	assert_int_equal(state_of(f, id), CAMPAIGN_PAUSED);
	assert_int_equal(campaign_resume(f->t.db, id, &err), 0);
	assert_int_equal(state_of(f, id), CAMPAIGN_RUNNING);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind IN "
				  "('campaign.paused', 'campaign.resumed')"), 2);
}

static void test_materialise(void **state)
{
	struct fx *f = *state;
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	int64_t id = create(f, "m", "all");
	int started = -1;
	char want_prefix[64];

	assert_int_equal(campaign_schedule(f->t.db, &f->cfg, id, &problems, &err), 0);
	/* Not yet due: nothing happens. */
	assert_int_equal(campaign_start_due(f->t.db, &f->cfg, SEND - 1, &started,
					    &err), 0);
	assert_int_equal(started, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 0);
	assert_int_equal(campaign_start_due(f->t.db, &f->cfg, SEND, &started,
					    &err), 0);
	assert_int_equal(started, 1);
	assert_int_equal(state_of(f, id), CAMPAIGN_RUNNING);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE state "
				  "= 'pending' AND envid GLOB 'chancery-' || id "
				  "|| '-' || replace(hex(zeroblob(8)), '00', "
				  "'[0-9a-f][0-9a-f]')"), 2);
	assert_int_equal(count(f, "SELECT count(DISTINCT substr(envid, "
				  "instr(substr(envid, 10), '-') + 10)) FROM "
				  "deliveries WHERE state = 'pending'"), 2);
	snprintf(want_prefix, sizeof(want_prefix), "%lld.", (long long)id);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE state "
				  "= 'pending' AND message_id LIKE campaign_id "
				  "|| '.' || id || '.%@ombudsman.example.az' AND "
				  "message_id NOT LIKE '<%'"), 2);
	assert_int_equal(count(f, "SELECT count(DISTINCT message_id) FROM "
				  "deliveries WHERE state = 'pending'"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE state "
				  "= 'skipped' AND reason = 'contact disabled: "
				  "left office'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE state "
				  "= 'skipped' AND reason LIKE 'contact bouncing%'"),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = "
				  "'delivery.queued' AND delivery_id IS NOT NULL"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = "
				  "'delivery.skipped' AND json_extract(data, "
				  "'$.reason') IS NOT NULL"), 2);
	assert_int_equal(count(f, "SELECT locked FROM templates WHERE version = 2"),
			 1);
	/* Running the start again, or refreshing, never duplicates. */
	assert_int_equal(campaign_start_due(f->t.db, &f->cfg, SEND + 5, &started,
					    &err), 0);
	assert_int_equal(started, 0);
	{
		int added = -1;

		assert_int_equal(campaign_refresh(f->t.db, &f->cfg, id, &added,
						  &err), 0);
		assert_int_equal(added, 0);
	}
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries"), 4);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind LIKE "
				  "'delivery.%'"), 4);
	sbuf_release(&problems);
}

/* A body added to the list after the start comes in with refresh. */
static void test_refresh(void **state)
{
	struct fx *f = *state;
	struct error err = ERROR_INIT;
	int64_t id = campaign_in(f, "r", CAMPAIGN_RUNNING), body, contact;
	int added = -1;

	assert_int_equal(registry_body_add(f->t.db, "CoE", "Council of Europe",
					   "regional-org", NULL, NULL, &body,
					   &err), 0);
	assert_int_equal(registry_contact_add(f->t.db, body, "sg@coe.example.int",
					      NULL, NULL, NULL, &contact, &err), 0);
	assert_int_equal(list_add_body(f->t.db, f->list_id, body, &err), 0);
	assert_int_equal(campaign_refresh(f->t.db, &f->cfg, id, &added, &err), 0);
	assert_int_equal(added, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE "
				  "email = 'sg@coe.example.int' AND state = "
				  "'pending'"), 1);
	assert_int_equal(campaign_refresh(f->t.db, &f->cfg, id, &added, &err), 0);
	assert_int_equal(added, 0);
	/* Each refresh records how many it added, as the ledger hashes it. */
	{
		char *data = test_query_text(f->t.db,
			"SELECT group_concat(data, ' ') FROM (SELECT data FROM "
			"events WHERE kind = 'campaign.refreshed' ORDER BY id)");

		assert_str(data, "{\"added\":1} {\"added\":0}");
		free(data);
	}
	/* A draft has nothing to refresh. */
	id = create(f, "r2", "all");
	assert_int_equal(campaign_refresh(f->t.db, &f->cfg, id, &added, &err),
			 ERR_DATA);
	assert_non_null(strstr(err.msg, "draft"));
}

static void test_cancel_running(void **state)
{
	struct fx *f = *state;
	struct error err = ERROR_INIT;
	int64_t id = campaign_in(f, "cx", CAMPAIGN_RUNNING);
	int cancelled = -1;

	test_exec(f->t.db, "UPDATE deliveries SET state = 'deferred' "
			   "WHERE id = (SELECT min(id) FROM deliveries "
			   "WHERE state = 'pending')");
	assert_int_equal(campaign_cancel(f->t.db, id, &cancelled, &err), 0);
	assert_int_equal(cancelled, 2);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE state "
				  "= 'cancelled'"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM deliveries WHERE state "
				  "= 'skipped'"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = "
				  "'delivery.cancelled'"), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = "
				  "'delivery.cancelled' AND json_extract(data, "
				  "'$.from') = 'deferred'"), 1);
}

static void test_schedule_problems(void **state)
{
	static const struct {
		const char *tmpl, *list;
		const char *setup_sql, *undo_sql;
		const char *says;
	} cases[] = {
		{"stmt", "empty", NULL, NULL, "has no contacts"},
		/* A header may not take a line break from a variable. */
		{"hdr", "all", "UPDATE contacts SET name = 'Office' || char(10) || "
			"'Bcc: x@example.org' WHERE email = 'pc@osce.example.org'",
		 "UPDATE contacts SET name = NULL", "pc@osce.example.org"},
		{"stmt", "all", "UPDATE contacts SET status = 'suppressed' WHERE status "
			"= 'active'", "UPDATE contacts SET status = 'active' WHERE "
			"status = 'suppressed'", "no active contact"},
		{"stmt", "all", "UPDATE contacts SET email = 'broken@@example' WHERE "
			"email = 'sg@un.example.org'", "UPDATE contacts SET email "
			"= 'sg@un.example.org' WHERE email = 'broken@@example'",
		 "broken@@example"},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < N(cases); i++) {
		struct sbuf problems = SBUF_INIT;
		struct error err = ERROR_INIT;
		char name[16];
		int64_t id, events;

		snprintf(name, sizeof(name), "p%zu", i);
		id = create_with(f, name, cases[i].tmpl, cases[i].list);
		if (cases[i].setup_sql)
			test_exec(f->t.db, cases[i].setup_sql);
		events = count(f, "SELECT count(*) FROM events");
		assert_int_equal(campaign_schedule(f->t.db, &f->cfg, id,
						   &problems, &err), ERR_DATA);
		if (!strstr(problems.buf, cases[i].says))
			fail_msg("case %zu: problems '%s' do not say '%s'", i,
				 problems.buf, cases[i].says);
		assert_non_null(strstr(err.msg, name));
		assert_int_equal(state_of(f, id), CAMPAIGN_DRAFT);
		assert_int_equal(count(f, "SELECT count(*) FROM events"), events);
		if (cases[i].setup_sql)
			test_exec(f->t.db, cases[i].undo_sql);
		sbuf_release(&problems);
	}
}

static void test_finish_and_next_due(void **state)
{
	struct fx *f = *state;
	struct error err = ERROR_INIT;
	int64_t when = 0, id;
	int done = -1;

	assert_int_equal(campaign_next_due(f->t.db, &when, &err), 1);
	id = campaign_in(f, "n", CAMPAIGN_SCHEDULED);
	assert_int_equal(campaign_next_due(f->t.db, &when, &err), 0);
	assert_int_equal(when, SEND);
	assert_int_equal(campaign_cancel(f->t.db, id, NULL, &err), 0);
	assert_int_equal(campaign_next_due(f->t.db, &when, &err), 1);
	id = campaign_in(f, "d", CAMPAIGN_RUNNING);
	assert_int_equal(campaign_finish_done(f->t.db, SEND, &done, &err), 0);
	assert_int_equal(done, 0); /* two deliveries still pending */
	test_exec(f->t.db, "UPDATE deliveries SET state = 'failed'");
	assert_int_equal(campaign_finish_done(f->t.db, SEND + 60, &done, &err), 0);
	assert_int_equal(done, 1);
	assert_int_equal(state_of(f, id), CAMPAIGN_DONE);
	assert_int_equal(count(f, "SELECT count(*) FROM campaigns WHERE state = "
				  "'done' AND finished_at = " "1735776060"), 1);
}

static void test_counts_and_message(void **state)
{
	struct fx *f = *state;
	struct campaign_counts n;
	struct error err = ERROR_INIT;
	struct sbuf msg = SBUF_INIT;
	int64_t id = campaign_in(f, "msg", CAMPAIGN_RUNNING);
	int64_t delivery = count(f, "SELECT min(id) FROM deliveries WHERE state = "
				    "'pending'");
	sqlite3_stmt *st;
	char *mid;

	assert_int_equal(campaign_counts(f->t.db, id, &n, &err), 0);
	assert_int_equal(n.total, 4);
	assert_int_equal(n.by_state[0], 2); /* pending */
	assert_int_equal(n.by_state[7], 2); /* skipped */
	if (campaign_delivery_message(f->t.db, &f->cfg, delivery, &msg, &err))
		fail_msg("message: %s", err.msg);
	assert_int_equal(sqlite3_prepare_v2(db_handle(f->t.db), "SELECT "
			 "message_id FROM deliveries WHERE id = ?", -1, &st,
			 NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, delivery);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	mid = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (!strstr(msg.buf, mid) || !strstr(msg.buf, "sg@un.example.org"))
		fail_msg("message lacks '%s' or the address:\n%s", mid, msg.buf);
	free(mid);
	assert_int_equal(campaign_delivery_message(f->t.db, &f->cfg, 999999, &msg,
						   &err), ERR_NOTFOUND);
	sbuf_release(&msg);
}

/* The first pending delivery of campaign id. */
static int64_t first_delivery(struct fx *f, int64_t id)
{
	char *sql = xasprintf("SELECT min(id) FROM deliveries WHERE "
			      "campaign_id = %lld AND state = 'pending'",
			      (long long)id);
	int64_t d = count(f, sql);

	free(sql);
	return d;
}

/* Renders delivery with r into a fresh string (caller frees). */
static char *render_with(struct fx *f, struct campaign_renderer *r,
			 int64_t delivery)
{
	struct error err = ERROR_INIT;
	struct sbuf msg = SBUF_INIT;

	if (campaign_renderer_message(r, f->t.db, &f->cfg, delivery, &msg,
				      &err))
		fail_msg("render #%lld: %s", (long long)delivery, err.msg);
	return sbuf_detach(&msg, NULL);
}

static void assert_stats(struct campaign_renderer *r, int64_t loads,
			 int64_t hits)
{
	struct campaign_renderer_stats st;

	campaign_renderer_get_stats(r, &st);
	assert_int_equal(st.template_loads, loads);
	assert_int_equal(st.template_hits, hits);
}

/*
 * A renderer loads a campaign's template once and serves it again, with
 * the same message as an uncached rendering; a new version (new campaign)
 * is loaded, never served from the old entry, also after eviction; an
 * unlocked version is never kept; contacts are read every time.
 */
static void test_renderer_cache(void **state)
{
	struct fx *f = *state;
	struct campaign_renderer *r = campaign_renderer_new();
	struct error err = ERROR_INIT;
	struct sbuf plain = SBUF_INIT;
	int64_t a = campaign_in(f, "a", CAMPAIGN_RUNNING), b, draft;
	int64_t da = first_delivery(f, a), db, dd;
	char *m1, *m2, *sql;

	m1 = render_with(f, r, da);
	assert_stats(r, 1, 0);
	m2 = render_with(f, r, da);
	assert_stats(r, 1, 1);
	assert_string_equal(m1, m2);
	assert_int_equal(campaign_delivery_message(f->t.db, &f->cfg, da, &plain,
						   &err), 0);
	assert_string_equal(m1, plain.buf);
	assert_non_null(strstr(m1, "To the Secretary-General"));
	free(m1);
	free(m2);

	/* A new version of the same template: a new campaign gets it. */
	add_template(&f->t, "stmt", "Subject: Statement\n\nVersion three for "
				    "{{contact.email}}.\n");
	b = campaign_in(f, "b", CAMPAIGN_RUNNING);
	db = first_delivery(f, b);
	m1 = render_with(f, r, db);
	assert_stats(r, 2, 1);
	assert_non_null(strstr(m1, "Version three for sg@un.example.org."));
	m2 = render_with(f, r, da);
	assert_stats(r, 2, 2);
	assert_null(strstr(m2, "Version three"));
	assert_non_null(strstr(m2, "To the Secretary-General"));
	free(m1);
	free(m2);

	/* Contacts are not cached: a new name shows at once. */
	sql = xasprintf("UPDATE contacts SET name = 'Antonio Guterres' WHERE "
			"id = %lld", (long long)f->contact[0]);
	test_exec(f->t.db, sql);
	free(sql);
	m1 = render_with(f, r, da);
	assert_non_null(strstr(m1, "Antonio Guterres"));
	free(m1);

	/* Five more versions push the first ones out; they come back
	 * loaded again, still right. */
	for (int i = 0; i < 5; i++) {
		char src[80], name[8];

		snprintf(src, sizeof(src), "Subject: S\n\nEdition %d.\n", i);
		snprintf(name, sizeof(name), "e%d", i);
		add_template(&f->t, "stmt", src);
		m1 = render_with(f, r, first_delivery(f, campaign_in(f, name,
						CAMPAIGN_RUNNING)));
		snprintf(src, sizeof(src), "Edition %d.", i);
		assert_non_null(strstr(m1, src));
		free(m1);
	}
	assert_stats(r, 7, 3);
	m1 = render_with(f, r, da);
	assert_stats(r, 8, 3);
	assert_non_null(strstr(m1, "To the Secretary-General"));
	free(m1);

	/* A version no campaign locked is used once and not kept. */
	draft = create_with(f, "draft", "hdr", "all");
	sql = xasprintf("INSERT INTO deliveries (campaign_id, contact_id, "
			"body_id, email, state, created_at, updated_at, "
			"message_id, envid) VALUES (%lld, %lld, %lld, "
			"'sg@un.example.org', 'pending', 0, 0, 'x@y', 'e')",
			(long long)draft, (long long)f->contact[0],
			(long long)f->body[0]);
	test_exec(f->t.db, sql);
	free(sql);
	dd = first_delivery(f, draft);
	for (int i = 0; i < 2; i++) {
		m1 = render_with(f, r, dd);
		assert_non_null(strstr(m1, "Subject: For Antonio Guterres"));
		free(m1);
	}
	assert_stats(r, 10, 3);
	sbuf_release(&plain);
	campaign_renderer_free(r);
}


/* Adds source as the variant lang of template name (its file in its own
 * folder, with the files named in extra: "name=content" pairs). */
static void add_variant(struct test_db *t, const char *name, const char *lang,
			const char *source, const char *file,
			const char *content)
{
	struct template_info info;
	struct error err = ERROR_INIT;
	bool unchanged = false;
	char *dir = xasprintf("%s/%s", t->dir, lang), *path;

	mkdir(dir, 0700);
	if (file)
		free(test_write_file(dir, file, content));
	path = test_write_file(dir, "t.tmpl", source);
	if (template_add_lang(t->db, name, path, lang,
			      TEMPLATE_MESSAGE_MAX_DEFAULT, &info, &unchanged,
			      &err) != 0)
		fail_msg("template_add_lang %s %s: %s", name, lang, err.msg);
	template_info_release(&info);
	free(path);
	free(dir);
}

/*
 * Issue 21: each contact gets the variant of its language, chosen in
 * memory from the cached version (no new load for another variant); the
 * plan says which bodies get which language and who falls back; the
 * French attachment goes to the French contact only.
 */
static void test_variants(void **state)
{
	struct fx *f = *state;
	struct campaign_renderer *r = campaign_renderer_new();
	struct campaign_plan plan;
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	int64_t id, d_un, d_osce;
	int started = 0;
	char *m, *sql;

	add_variant(&f->t, "stmt", "fr", "Subject: Declaration FR\n"
		    "Attach: fr.pdf\n\nTexte pour {{body.acronym}}.\n",
		    "fr.pdf", "%PDF-fr");
	add_variant(&f->t, "stmt", "ru", "Subject: Zayavlenie RU\n\n"
		    "Tekst {{body.acronym}}.\n", NULL, NULL);
	sql = xasprintf("UPDATE contacts SET language = 'fr-CA' WHERE id = "
			"%lld", (long long)f->contact[0]);
	test_exec(f->t.db, sql);
	free(sql);
	sql = xasprintf("UPDATE contacts SET language = 'de' WHERE id = %lld",
			(long long)f->contact[1]);
	test_exec(f->t.db, sql);
	free(sql);
	f->cfg.language.campaign = xstrdup("ru");

	id = create(f, "v", "all");
	campaign_plan_init(&plan);
	if (campaign_schedule_plan(f->t.db, &f->cfg, id, &plan, &problems,
				   &err))
		fail_msg("schedule: %s\n%s", err.msg, problems.buf);
	assert_string_equal(plan.languages.buf, "fr\t1\tUNSG\nru\t1\tOSCE\n");
	assert_string_equal(plan.fallbacks.buf,
			    "sg@un.example.org\tUNSG\tfr-CA\tfr\tfallback chain\n"
			    "pc@osce.example.org\tOSCE\tde\tru\tcampaign's "
			    "language\n");
	campaign_plan_release(&plan);
	assert_int_equal(campaign_start_due(f->t.db, &f->cfg, SEND, &started,
					    &err), 0);
	d_un = count(f, "SELECT id FROM deliveries WHERE email = "
			"'sg@un.example.org'");
	d_osce = count(f, "SELECT id FROM deliveries WHERE email = "
			  "'pc@osce.example.org'");

	m = render_with(f, r, d_un);
	assert_non_null(strstr(m, "Subject: Declaration FR"));
	assert_non_null(strstr(m, "Texte pour UNSG."));
	assert_non_null(strstr(m, "fr.pdf"));
	assert_string_equal(campaign_renderer_last_lang(r), "fr");
	free(m);
	m = render_with(f, r, d_osce);
	assert_non_null(strstr(m, "Subject: Zayavlenie RU"));
	assert_null(strstr(m, "fr.pdf"));
	assert_string_equal(campaign_renderer_last_lang(r), "ru");
	free(m);
	/* one load for every variant: the choice is in memory */
	assert_stats(r, 1, 1);

	/* the body's language comes before the campaign's */
	assert_int_equal(registry_body_set_language(f->t.db, f->body[1], "fr",
						    &err), 0);
	m = render_with(f, r, d_osce);
	assert_non_null(strstr(m, "Texte pour OSCE."));
	assert_string_equal(campaign_renderer_last_lang(r), "fr");
	free(m);
	/* none at all: the default variant, in language.default */
	test_exec(f->t.db, "UPDATE contacts SET language = NULL");
	test_exec(f->t.db, "UPDATE bodies SET language = NULL");
	free(f->cfg.language.campaign);
	f->cfg.language.campaign = NULL;
	m = render_with(f, r, d_osce);
	assert_non_null(strstr(m, "Subject: Statement"));
	assert_string_equal(campaign_renderer_last_lang(r), "en");
	free(m);
	assert_stats(r, 1, 3);
	sbuf_release(&problems);
	campaign_renderer_free(r);
}

/* Schedules a campaign of template tmpl to list "all" and returns the
 * plan's salutation lines (caller frees). */
static char *plan_salutations(struct fx *f, const char *name,
			      const char *tmpl)
{
	struct campaign_plan plan;
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	int64_t id = create_with(f, name, tmpl, "all");
	char *lines;

	campaign_plan_init(&plan);
	if (campaign_schedule_plan(f->t.db, &f->cfg, id, &plan, &problems,
				   &err))
		fail_msg("schedule %s: %s\n%s", name, err.msg, problems.buf);
	lines = xstrdup(plan.salutations.buf);
	campaign_plan_release(&plan);
	sbuf_release(&problems);
	return lines;
}

/*
 * Issue 21: the plan names every contact greeted with a fallback (the
 * kind's default, else the neutral greeting), with protocol_salutation's
 * reason, but only where the contact's variant uses contact.salutation
 * (in a partial or a section too); never the disabled contact; nothing
 * for a template that does not greet.
 */
static void test_plan_salutations(void **state)
{
	struct fx *f = *state;
	struct error err = ERROR_INIT;
	char *lines, *sql;

	add_template(&f->t, "greet", "Subject: S\n\n{{contact.salutation}},"
		     "\n");
	add_variant(&f->t, "greet", "fr", "Subject: F\n\n{{> salut}}\n",
		    "salut.partial", "{{#contact}}{{salutation}}{{/contact}},");
	add_variant(&f->t, "greet", "ru", "Subject: R\n\nText.\n", NULL,
		    NULL);
	assert_int_equal(registry_contact_set_status(f->t.db, f->contact[3],
						     CONTACT_ACTIVE, NULL,
						     &err), 0);
	assert_int_equal(protocol_salutation_set(f->t.db, f->contact[0], "en",
						 "Dear Secretary-General",
						 NULL, &err), 0);
	sql = xasprintf("UPDATE contacts SET language = 'fr' WHERE id IN "
			"(%lld, %lld)", (long long)f->contact[1],
			(long long)f->contact[3]);
	test_exec(f->t.db, sql);
	free(sql);

	lines = plan_salutations(f, "g1", "greet");
	assert_string_equal(lines,
			    "pc@osce.example.org\tOSCE\tMadame, Monsieur\tno "
			    "salutation in fr and no default for regional-org:"
			    " neutral\n"
			    "info@ambafrance.example.az\tEMBFR\tExcellence\tno "
			    "salutation in fr: the default for embassy\n");
	free(lines);

	/* in English (the default variant): its own for the UNSG; in
	 * Russian, a variant that does not greet: no line */
	test_exec(f->t.db, "UPDATE contacts SET language = 'ru'");
	sql = xasprintf("UPDATE contacts SET language = 'en' WHERE id = %lld",
			(long long)f->contact[1]);
	test_exec(f->t.db, sql);
	free(sql);
	lines = plan_salutations(f, "g2", "greet");
	assert_string_equal(lines, "pc@osce.example.org\tOSCE\tDear Sir or "
			    "Madam\tno salutation in en and no default for "
			    "regional-org: neutral\n");
	free(lines);

	/* a template without variants that greets: the lines, no
	 * languages; one that does not greet: none */
	add_template(&f->t, "plain", "Subject: P\n\n{{contact.salutation}}"
		     "\n");
	lines = plan_salutations(f, "g3", "plain");
	assert_string_equal(lines,
			    "pc@osce.example.org\tOSCE\tDear Sir or Madam\tno "
			    "salutation in en and no default for regional-org:"
			    " neutral\n"
			    "info@ambafrance.example.az\tEMBFR\tYour "
			    "Excellency\tno salutation in en: the default for "
			    "embassy\n");
	free(lines);
	lines = plan_salutations(f, "g4", "stmt");
	assert_string_equal(lines, "");
	free(lines);
}

/* "EMAIL BODY STATUS SKIP" lines of a recipient set. */
static int collect_recipient(const struct campaign_recipient *r, void *arg)
{
	sbuf_addf(arg, "%s %s %s %s\n", r->email, r->body, r->status,
		  r->skip_reason ? r->skip_reason : "-");
	return 0;
}

/* The plan shown before approving is the one approving freezes, and
 * showing it changes nothing. */
static void test_plan_preview(void **state)
{
	static const char *const set =
		"sg@un.example.org UNSG active -\n"
		"pc@osce.example.org OSCE active -\n"
		"old@osce.example.org OSCE disabled contact disabled: left office\n"
		"info@ambafrance.example.az EMBFR bouncing contact bouncing: 5.1.1 "
		"user unknown\n";
	struct fx *f = *state;
	struct error err = ERROR_INIT;
	struct campaign_plan before, after;
	struct sbuf seen = SBUF_INIT, frozen = SBUF_INIT, problems = SBUF_INIT;
	int64_t id = create(f, "p", "all");

	campaign_plan_init(&before);
	campaign_plan_init(&after);
	assert_int_equal(campaign_plan_preview(f->t.db, &f->cfg, id, &before,
					       collect_recipient, &seen,
					       &err), 0);
	assert_string_equal(seen.buf, set);
	assert_int_equal(before.bodies, 3);
	assert_int_equal(before.recipients, 2);
	assert_int_equal(before.skipped, 2);
	assert_int_equal(before.unreached, 1);
	assert_string_equal(before.warnings.buf, "EMBFR: all bouncing\n");
	assert_int_equal(before.required, 1);
	/* rolled back: no set, no approval, still a draft */
	assert_int_equal(count(f, "SELECT count(*) FROM campaign_recipients"),
			 0);
	assert_int_equal(count(f, "SELECT count(*) FROM campaign_unreached"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM campaign_approvals"), 0);
	assert_int_equal(state_of(f, id), CAMPAIGN_DRAFT);
	/* approving freezes exactly that */
	assert_int_equal(campaign_approve(f->t.db, &f->cfg, id, false, &after,
					  &problems, &err), 0);
	assert_string_equal(after.recipients_sha256, before.recipients_sha256);
	assert_int_equal(after.recipients, before.recipients);
	assert_int_equal(after.unreached, before.unreached);
	assert_int_equal(campaign_recipients_each(f->t.db, id,
						  collect_recipient, &frozen,
						  &err), 0);
	assert_string_equal(frozen.buf, set);
	/* an unknown campaign is the library's not-found */
	assert_int_equal(campaign_plan_preview(f->t.db, &f->cfg, 999, &before,
					       NULL, NULL, &err),
			 ERR_NOTFOUND);
	sbuf_release(&seen);
	sbuf_release(&frozen);
	sbuf_release(&problems);
	campaign_plan_release(&before);
	campaign_plan_release(&after);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_create),
		T(test_create_refusals),
		T(test_transitions),
		T(test_pause_resume_running),
		T(test_materialise),
		T(test_refresh),
		T(test_cancel_running),
		T(test_schedule_problems),
		T(test_finish_and_next_due),
		T(test_counts_and_message),
		T(test_renderer_cache),
		T(test_variants),
		T(test_plan_salutations),
		T(test_plan_preview),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
