/*
 * notice: the messages the approval, reminder and missed events produce,
 * through the maildir transport into a temporary outbox. The events are
 * appended with ledger_append, as the approval and reminder work will
 * append them; the done summary and the SMTP path are tested end to end
 * in tests/integration/test_proof.py.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/ledger.h"
#include "chancery/list.h"
#include "chancery/notice.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1735689600 /* 2025-01-01T00:00:00Z */

struct fx {
	struct test_db t;
	struct conf cfg;
	char *outbox;
	int64_t campaign;
};

static void set_notify(struct conf *cfg, const char *const *to, size_t n)
{
	for (size_t i = 0; i < cfg->notify.nto; i++)
		free(cfg->notify.to[i]);
	free(cfg->notify.to);
	cfg->notify.to = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		cfg->notify.to[i] = xstrdup(to[i]);
	cfg->notify.nto = n;
}

static int setup(void **state)
{
	static const char *const to[] = {"head@office.example"};
	struct fx *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;
	struct template_info info;
	bool unchanged;
	int64_t list, body;
	char *path;
	struct campaign_new c = {.name = "feb", .template_name = "stmt",
				 .list_name = "all", .send_at = T0 + 7 * 86400,
				 .tz = "UTC"};

	clock_set_fake(T0);
	test_db_open(&f->t);
	conf_init(&f->cfg);
	f->outbox = xasprintf("%s/outbox", f->t.dir);
	free(f->cfg.outbox);
	f->cfg.outbox = xstrdup(f->outbox);
	free(f->cfg.sender.address);
	f->cfg.sender.address = xstrdup("office@ombudsman.example");
	set_notify(&f->cfg, to, N(to));
	path = test_write_file(f->t.dir, "t.tmpl",
			       "Subject: Statement\n\nTo the {{body.name}}.\n");
	if (template_add(f->t.db, "stmt", path, &info, &unchanged, &err) ||
	    list_create(f->t.db, "all", LIST_STATIC, NULL, &list, &err) ||
	    registry_body_add(f->t.db, "UNSG", "Secretary-General", "un-organ",
			      NULL, NULL, &body, &err) ||
	    list_add_body(f->t.db, list, body, &err) ||
	    campaign_create(f->t.db, &c, &f->campaign, &err))
		fail_msg("setup: %s", err.msg);
	template_info_release(&info);
	free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conf_release(&f->cfg);
	free(f->outbox);
	test_db_close(&f->t);
	free(f);
	clock_clear_fake();
	return 0;
}

/* The files in outbox/new, their names in a NULL-terminated array. */
static char **outbox_files(struct fx *f, size_t *n)
{
	char *dir = xasprintf("%s/new", f->outbox);
	char **v = xcalloc(64, sizeof(char *));
	DIR *d = opendir(dir);
	struct dirent *e;

	*n = 0;
	while (d && (e = readdir(d)) && *n < 63)
		if (e->d_name[0] != '.')
			v[(*n)++] = xasprintf("%s/%s", dir, e->d_name);
	if (d)
		closedir(d);
	free(dir);
	return v;
}

static void files_free(char **v)
{
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* Reads a message and decodes it enough to compare: the header unfolded
 * (one "Name: value\n" line per field) and the quoted-printable body. */
static void read_message(const char *path, struct sbuf *head,
			 struct sbuf *body)
{
	struct sbuf raw = SBUF_INIT;
	struct error err = ERROR_INIT;
	const char *p, *sep;

	if (sbuf_read_file(&raw, path, 1 << 20, &err))
		fail_msg("%s", err.msg);
	sep = strstr(raw.buf, "\r\n\r\n");
	assert_non_null(sep);
	for (p = raw.buf; p < sep; p++) {
		if (p[0] == '\r' && p[1] == '\n' &&
		    (p[2] == ' ' || p[2] == '\t')) {
			p += 1; /* a fold: the line goes on */
			continue;
		}
		if (*p != '\r')
			sbuf_addch(head, *p);
	}
	sbuf_addch(head, '\n');
	for (p = sep + 4; *p; p++) {
		unsigned v;

		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 2;
		} else if (p[0] == '=' && sscanf(p + 1, "%2x", &v) == 1) {
			sbuf_addch(body, (int)v);
			p += 2;
		} else if (*p != '\r') {
			sbuf_addch(body, *p);
		}
	}
	sbuf_release(&raw);
}

struct kind_case {
	const char *name;
	enum ledger_kind kind;
	const char *actor;       /* NULL: the daemon */
	const char *data;        /* NULL: {} */
	const char *subject;     /* NULL: no message */
	const char *in_body[3];  /* lines the body must hold */
};

static const struct kind_case kind_cases[] = {
	{"approved", LEDGER_CAMPAIGN_APPROVED, "alice", NULL,
	 "[chancery] campaign feb approved by alice",
	 {"Campaign feb was approved on 2025-01-01 00:00 UTC by alice.",
	  "Template:  stmt v1", "Send time: 2025-01-08 00:00 UTC"}},
	{"rejected", LEDGER_CAMPAIGN_REJECTED, "bob",
	 "{\"reason\":\"wrong year in the subject\"}",
	 "[chancery] campaign feb rejected by bob",
	 {"Campaign feb was rejected on 2025-01-01 00:00 UTC by bob.",
	  "Reason: wrong year in the subject", NULL}},
	{"approval void", LEDGER_CAMPAIGN_APPROVAL_VOID, "carol",
	 "{\"reason\":\"template changed\"}",
	 "[chancery] campaign feb: approval void",
	 {"(change by carol). It must be approved again",
	  "Reason: template changed", NULL}},
	{"reminded", LEDGER_CAMPAIGN_REMINDED, NULL, "{\"due_in_days\":7}",
	 "[chancery] campaign feb is due in 7 days and is draft",
	 {"in 7 days, and is still draft.", NULL, NULL}},
	{"reminded, 1 day", LEDGER_CAMPAIGN_REMINDED, NULL,
	 "{\"due_in_days\":1}",
	 "[chancery] campaign feb is due in 1 day and is draft",
	 {"in 1 day, and is still draft.", NULL, NULL}},
	{"missed", LEDGER_CAMPAIGN_MISSED, NULL, NULL,
	 "[chancery] campaign feb missed its send time",
	 {"was due to go out on 2025-01-08 00:00 UTC and was not sent", NULL,
	  NULL}},
	/* a name with a line break never makes a header of its own */
	{"actor with CRLF", LEDGER_CAMPAIGN_APPROVED,
	 "eve\r\nBcc: spy@evil.example", NULL,
	 "[chancery] campaign feb approved by eve  Bcc: spy@evil.example",
	 {"by eve  Bcc: spy@evil.example.", NULL, NULL}},
	{"reason with CRLF", LEDGER_CAMPAIGN_REJECTED, "bob",
	 "{\"reason\":\"no\\r\\nBcc: spy@evil.example\"}",
	 "[chancery] campaign feb rejected by bob",
	 {"Reason: no  Bcc: spy@evil.example", NULL, NULL}},
	/* relay trouble: repeated policy blocks from one domain (bounce.c) */
	{"relay blocked", LEDGER_RELAY_BLOCKED, NULL,
	 "{\"domain\":\"blocked.example\",\"reason\":\"3 deliveries to "
	 "blocked.example were refused for policy\"}",
	 "[chancery] relay trouble: mail blocked by a recipient domain",
	 {"3 deliveries to blocked.example were refused for policy",
	  "chancery inbox list", NULL}},
	/* the relay (relay.h): about no campaign */
	{"relay down", LEDGER_RELAY_DOWN, NULL,
	 "{\"relay\":\"mail.example:587\",\"reason\":\"AUTH as office "
	 "rejected: 535 5.7.8 Authentication credentials invalid\","
	 "\"code\":535,\"phase\":\"AUTH\"}",
	 "[chancery] relay (maildir outbox) is down: sending stopped",
	 {"could not be reached on 2025-01-01 00:00 UTC, before any message",
	  "Reason: AUTH as office rejected: 535 5.7.8 Authentication "
	  "credentials invalid", "Deliveries wait without spending"}},
	{"relay up", LEDGER_RELAY_UP, NULL,
	 "{\"reason\":\"AUTH as office rejected: 535 5.7.8 x\","
	 "\"outage_seconds\":600}",
	 "[chancery] relay (maildir outbox) works again",
	 {"works again since 2025-01-01 00:00 UTC: sending has resumed",
	  "The outage's last error: AUTH as office rejected: 535 5.7.8 x",
	  NULL}},
	/* not announced */
	{"cancelled", LEDGER_CAMPAIGN_CANCELLED, "alice", NULL, NULL, {NULL}},
	{"created, no approvals", LEDGER_CAMPAIGN_CREATED, "alice", NULL, NULL,
	 {NULL}},
	{"scheduled", LEDGER_CAMPAIGN_SCHEDULED, "alice", NULL, NULL, {NULL}},
};

static int64_t append(struct fx *f, const struct kind_case *c)
{
	bool relay = c->kind == LEDGER_RELAY_DOWN || c->kind == LEDGER_RELAY_UP;
	struct ledger_event ev = {.kind = c->kind,
				  .campaign_id = relay ? 0 : f->campaign,
				  .data = c->data};
	struct error err = ERROR_INIT;
	int64_t id = 0;

	db_set_actor(f->t.db, c->actor);
	if (ledger_append(f->t.db, &ev, &id, &err))
		fail_msg("%s: ledger_append: %s", c->name, err.msg);
	db_set_actor(f->t.db, NULL);
	return id;
}

static void run(struct fx *f, struct notice_stats *st)
{
	struct error err = ERROR_INIT;

	if (notice_run(f->t.db, &f->cfg, clock_now(), st, &err))
		fail_msg("notice_run: %s", err.msg);
}

static void test_kinds(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < N(kind_cases); i++) {
		const struct kind_case *c = &kind_cases[i];
		struct sbuf head = SBUF_INIT, body = SBUF_INIT, want = SBUF_INIT;
		struct notice_stats st;
		size_t before, after;
		char **files;
		char *sql;
		int64_t id = append(f, c);

		files_free(outbox_files(f, &before));
		run(f, &st);
		files = outbox_files(f, &after);
		if (!c->subject) {
			if (after != before || st.sent)
				fail_msg("%s: %zu messages, wanted none",
					 c->name, after - before);
			files_free(files);
			continue;
		}
		if (after != before + 1 || st.sent != 1)
			fail_msg("%s: %zu new messages (%d sent), wanted 1",
				 c->name, after - before, st.sent);
		/* the message about this event: its body names the event */
		for (size_t k = 0; k < after; k++) {
			struct sbuf h = SBUF_INIT, b = SBUF_INIT;
			char tag[64];

			snprintf(tag, sizeof(tag), "ledger event #%lld ",
				 (long long)id);
			read_message(files[k], &h, &b);
			if (strstr(b.buf, tag)) {
				sbuf_addstr(&head, h.buf);
				sbuf_addstr(&body, b.buf);
			}
			sbuf_release(&h);
			sbuf_release(&b);
		}
		if (!head.len)
			fail_msg("%s: no message about event %lld", c->name,
				 (long long)id);
		sbuf_addf(&want, "\nSubject: %s\n", c->subject);
		if (!strstr(head.buf, want.buf))
			fail_msg("%s: header\n%s\nwanted%s", c->name, head.buf,
				 want.buf);
		if (strstr(head.buf, "\nBcc:") || !strstr(head.buf,
			      "\nTo: head@office.example\n") ||
		    !strstr(head.buf, "\nContent-Type: text/plain; "
				      "charset=utf-8\n"))
			fail_msg("%s: header\n%s", c->name, head.buf);
		for (size_t k = 0; k < N(c->in_body) && c->in_body[k]; k++)
			if (!strstr(body.buf, c->in_body[k]))
				fail_msg("%s: body\n%s\nwanted a line with: %s",
					 c->name, body.buf, c->in_body[k]);
		sql = xasprintf("SELECT count(*) FROM events WHERE kind = "
				"'notify.sent' AND json_extract(data, '$.event')"
				" = %lld AND json_extract(data, '$.to') = "
				"'head@office.example'", (long long)id);
		assert_int_equal(test_query_int(f->t.db, sql), 1);
		free(sql);
		files_free(files);
		sbuf_release(&head);
		sbuf_release(&body);
		sbuf_release(&want);
	}
	/* run again: nothing is sent twice */
	{
		struct notice_stats st;
		size_t before, after;

		files_free(outbox_files(f, &before));
		run(f, &st);
		files_free(outbox_files(f, &after));
		assert_int_equal(after, before);
		assert_int_equal(st.sent, 0);
	}
}

/* With nobody to tell, nothing is sent, and configuring an address
 * later does not announce what happened before. */
static void test_nobody(void **state)
{
	static const char *const to[] = {"head@office.example"};
	struct fx *f = *state;
	struct notice_stats st;
	size_t n;

	set_notify(&f->cfg, NULL, 0);
	append(f, &kind_cases[0]);
	run(f, &st);
	files_free(outbox_files(f, &n));
	assert_int_equal(n, 0);
	assert_int_equal(test_query_int(f->t.db, "SELECT event_id FROM "
						 "notice_cursor"),
			 test_query_int(f->t.db, "SELECT max(id) FROM events"));
	set_notify(&f->cfg, to, 1);
	run(f, &st);
	files_free(outbox_files(f, &n));
	assert_int_equal(n, 0);
	append(f, &kind_cases[0]);
	run(f, &st);
	files_free(outbox_files(f, &n));
	assert_int_equal(n, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_kinds),
		T(test_nobody),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
