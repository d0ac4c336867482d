#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chancery/bounce.h"
#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/inbox.h"
#include "chancery/response.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "bounce_samples.h"
#include "testutil.h"

/* ---- fixture -------------------------------------------------------------- */

/* The ENVID and Message-ID chancery gave delivery did (fixed tokens
 * standing for the random ones); caller frees. */
static char *envid_of(int64_t did)
{
	return xasprintf("chancery-%lld-%016llx", (long long)did,
			 (unsigned long long)did * 0x9e3779b97f4a7c15ULL);
}

static char *mid_of(int64_t did)
{
	return xasprintf("chancery.1.%lld.%016llx@office.example",
			 (long long)did,
			 (unsigned long long)did * 0x2545f4914f6cdd1dULL);
}

static char *verp_of(int64_t did)
{
	char *envid = envid_of(did);
	char *a = bounce_verp_address("bounces@office.example", envid);

	free(envid);
	return a;
}

/*
 * Six bodies with one contact each; campaign 1 has delivered to every
 * contact (deliveries 1..6, `sent`). Contacts 3..6 share the domain
 * blocked.example.
 */
static void seed(struct db *db)
{
	static const char sql[] =
	"INSERT INTO bodies (id, acronym, name, kind, created_at) VALUES "
	"(1, 'OHCHR', 'OHCHR', 'un-agency', 0),"
	"(2, 'EO', 'European Ombudsman', 'ombudsman', 0),"
	"(3, 'B3', 'B3', 'embassy', 0), (4, 'B4', 'B4', 'embassy', 0),"
	"(5, 'B5', 'B5', 'embassy', 0), (6, 'B6', 'B6', 'embassy', 0);"
	"INSERT INTO contacts (id, body_id, email, created_at, updated_at) "
	"VALUES (1, 1, 'registry@ohchr.example.org', 0, 0),"
	"(2, 2, 'office@ombudsman.example.eu', 0, 0),"
	"(3, 3, 'a3@blocked.example', 0, 0), (4, 4, 'a4@blocked.example', 0, 0),"
	"(5, 5, 'a5@blocked.example', 0, 0), (6, 6, 'a6@blocked.example', 0, 0);"
	"INSERT INTO templates (id, name, version, source, sha256, "
	"created_at) VALUES (1, 'statement', 1, 'x', 'y', 0);"
	"INSERT INTO lists (id, name, kind, created_at, updated_at) "
	"VALUES (1, 'all', 'static', 0, 0);"
	"INSERT INTO campaigns (id, name, template_id, list_id, send_at, tz, "
	"state, created_at, updated_at) VALUES (1, 'feb', 1, 1, 1762750000, "
	"'UTC', 'done', 0, 0);";
	char buf[1024];

	test_exec(db, sql);
	for (int did = 1; did <= 6; did++) {
		char *envid = envid_of(did), *mid = mid_of(did);

		snprintf(buf, sizeof(buf),
			 "INSERT INTO deliveries (id, campaign_id, contact_id, "
			 "body_id, email, state, message_id, envid, created_at, "
			 "updated_at, sent_at) SELECT %d, 1, id, body_id, email, "
			 "'sent', '%s', '%s', 0, 0, 1762750000 FROM contacts "
			 "WHERE id = %d",
			 did, mid, envid, did);
		test_exec(db, buf);
		free(envid);
		free(mid);
	}
}

struct fx {
	struct test_db t;
	struct conf cfg;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	clock_set_fake(1763000000);
	test_db_open(&f->t);
	seed(f->t.db);
	conf_init(&f->cfg);
	f->cfg.bounce.address = xstrdup("bounces@office.example");
	f->cfg.bounce_threshold = 1;
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

static int take(struct fx *f, const char *text, const char *envelope_to,
		struct inbox_result *res, struct error *err)
{
	struct inbox_message m = {INBOX_MAILDIR, "1763000000.M1P1.host",
				  envelope_to, text, strlen(text)};

	return inbox_take(f->t.db, &f->cfg, &m, res, NULL, NULL, err);
}

/* The text of query fmt with its one "%lld" replaced by id. */
static char *query_fmt(struct db *db, const char *fmt, long long id)
{
	const char *at = strstr(fmt, "%lld");
	char *sql, *got;

	assert_non_null(at);
	sql = xasprintf("%.*s%lld%s", (int)(at - fmt), fmt, id, at + 4);
	got = test_query_text_or_null(db, sql);
	free(sql);
	return got;
}

static void assert_col(struct db *db, const char *fmt, long long id,
		       const char *want)
{
	char *got = query_fmt(db, fmt, id);

	if (!want && got)
		fail_msg("%s: got '%s', wanted NULL", fmt, got);
	if (want && !got)
		fail_msg("%s: got NULL, wanted '%s'", fmt, want);
	if (want && !strstr(got, want))
		fail_msg("%s: got '%s', wanted it to hold '%s'", fmt, got, want);
	free(got);
}

/* ---- the messages ------------------------------------------------------------ */

static char *dsn_failed(const char *per_message, const char *rcpt,
			const char *status)
{
	char *fields = xasprintf("Final-Recipient: rfc822; %s\nAction: failed\n"
				 "Status: %s\n", rcpt, status);
	static int n; /* each report its own Message-ID */
	char *d = make_dsn(++n, per_message, fields);

	free(fields);
	return d;
}

static char *m_dsn_envid(void)
{
	char *envid = envid_of(1), *pm = xasprintf("Original-Envelope-Id: %s",
						   envid);
	char *d = dsn_failed(pm, "registry@ohchr.example.org", "5.1.1");

	free(envid);
	free(pm);
	return d;
}

/* Names contact 1 as the recipient: the VERP envelope says delivery 2. */
static char *m_verp_wrong_recipient(void)
{
	return dsn_failed("", "registry@ohchr.example.org", "5.2.2");
}

static char *m_verp_in_delivered_to(void)
{
	char *verp = verp_of(2);
	char *d = dsn_failed("", "registry@ohchr.example.org", "5.2.2");
	char *out = xasprintf("Delivered-To: %s\n%s", verp, d);

	free(verp);
	free(d);
	return out;
}

/* The token where a relay copied it: not in the report's own fields. */
static char *m_token_in_text(void)
{
	char *envid = envid_of(2);
	char *d = dsn_failed("", "nobody@unknown.example", "5.1.1");
	char *out = xasprintf("X-Loop-Copy: %s\n%s", envid, d);

	free(envid);
	free(d);
	return out;
}

static char *m_message_id_in_text(void)
{
	char *mid = mid_of(2);
	char *d = dsn_failed("", "nobody@unknown.example", "5.1.1");
	char *out = xasprintf("References: <%s>\n%s", mid, d);

	free(mid);
	free(d);
	return out;
}

static char *m_unmatched(void)
{
	return dsn_failed("", "nobody@unknown.example", "5.1.1");
}

static char *m_plain(void)
{
	return xstrdup("From: Someone <someone@example.org>\n"
		       "Subject: =?UTF-8?Q?caf=C3=A9?=\n"
		       "Message-ID: <x1@example.org>\n\nJust a note.\n");
}

static char *m_garbage(void)
{
	return xstrdup("\x01\x02 not mail at all");
}

static char *m_mdn(void)
{
	char *mid = mid_of(2);
	char *out = xasprintf(
		"From: office@ombudsman.example.eu\n"
		"Subject: Read: statement\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; "
		"report-type=disposition-notification; boundary=\"M\"\n\n"
		"--M\nContent-Type: text/plain\n\nYour message was displayed.\n"
		"--M\nContent-Type: message/disposition-notification\n\n"
		"Reporting-UA: mail.ombudsman.example.eu; Outlook\n"
		"Final-Recipient: rfc822; office@ombudsman.example.eu\n"
		"Original-Message-ID: <%s>\n"
		"Disposition: manual-action/MDN-sent-manually; displayed\n\n"
		"--M--\n", mid);

	free(mid);
	return out;
}

static char *m_auto_reply(void)
{
	char *mid = mid_of(2);
	char *out = xasprintf("From: office@ombudsman.example.eu\n"
			      "Subject: Out of office\n"
			      "Auto-Submitted: auto-replied\n"
			      "In-Reply-To: <%s>\n\n"
			      "I am away until Monday.\n", mid);

	free(mid);
	return out;
}

static char *m_reply(void)
{
	char *mid = mid_of(2);
	char *out = xasprintf("From: office@ombudsman.example.eu\n"
			      "Subject: Re: statement\n"
			      "In-Reply-To: <%s>\nReferences: <%s>\n\n"
			      "Thank you, received.\n", mid, mid);

	free(mid);
	return out;
}

/* ---- kinds, table-driven ---------------------------------------------------- */

static void test_each_kind_is_kept(void **state)
{
	static const struct {
		const char *name;
		char *(*make)(void);
		int64_t verp;          /* envelope_to: VERP of this delivery */
		const char *kind;
		const char *format;    /* NULL: none */
		int64_t delivery;      /* matched, 0: none */
		const char *state;     /* of that delivery afterwards */
		const char *klass;     /* its bounce_class */
		const char *reason;    /* part of the row's reason, or NULL */
		bool response;         /* needs response.c */
	} cases[] = {
		{"dsn with envid", m_dsn_envid, 0, "report", "dsn", 1,
		 "bounced", "address", NULL, false},
		{"verp beats a wrong recipient", m_verp_wrong_recipient, 2,
		 "report", "dsn", 2, "bounced", "mailbox", NULL, false},
		{"verp in Delivered-To", m_verp_in_delivered_to, 0, "report",
		 "dsn", 2, "bounced", "mailbox", NULL, false},
		{"token anywhere in the text", m_token_in_text, 0, "report",
		 "dsn", 2, "bounced", "address", NULL, false},
		{"message-id anywhere in the text", m_message_id_in_text, 0,
		 "report", "dsn", 2, "bounced", "address", NULL, false},
		{"report naming no delivery", m_unmatched, 0, "report", "dsn",
		 0, NULL, NULL, "no trusted identifier", false},
		{"a plain message", m_plain, 0, "unreadable", NULL, 0, NULL,
		 NULL, "not a delivery report", false},
		{"garbage", m_garbage, 0, "unreadable", NULL, 0, NULL, NULL,
		 "", false},
		{"mdn", m_mdn, 0, "mdn", NULL, 2, "sent", NULL, NULL, true},
		{"auto-reply", m_auto_reply, 0, "auto_reply", NULL, 2, "sent",
		 NULL, NULL, true},
		{"reply", m_reply, 0, "reply", NULL, 2, "sent", NULL, NULL,
		 true},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = NULL;
		struct inbox_result res;
		struct error err = ERROR_INIT;
		char *text = cases[i].make();
		char *verp = cases[i].verp ? verp_of(cases[i].verp) : NULL;

		print_message("case: %s\n", cases[i].name);
		setup((void **)&f);
		if (take(f, text, verp, &res, &err) != 0)
			fail_msg("%s: %s", cases[i].name, err.msg);
		assert_false(res.duplicate);
		assert_str(res.kind, cases[i].kind);
		assert_int_equal(res.delivery_id, cases[i].delivery);
		assert_col(f->t.db, "SELECT kind FROM inbound_messages WHERE "
				    "id = %lld", res.inbound_id, cases[i].kind);
		assert_col(f->t.db, "SELECT format FROM inbound_messages "
				    "WHERE id = %lld", res.inbound_id,
			   cases[i].format);
		assert_col(f->t.db, "SELECT origin || ' ' || source FROM "
				    "inbound_messages WHERE id = %lld",
			   res.inbound_id, "1763000000.M1P1.host maildir");
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"inbound_messages WHERE "
						"raw IS NOT NULL AND "
						"length(sha256) = 64"),
				 1);
		assert_int_equal(
			test_query_int(f->t.db, "SELECT coalesce(delivery_id, "
						"0) FROM inbound_messages"),
			cases[i].delivery);
		if (cases[i].reason)
			assert_col(f->t.db, "SELECT reason FROM "
					    "inbound_messages WHERE id = %lld",
				   res.inbound_id, cases[i].reason);
		if (cases[i].delivery) {
			assert_col(f->t.db, "SELECT state FROM deliveries "
					    "WHERE id = %lld",
				   cases[i].delivery, cases[i].state);
			assert_col(f->t.db, "SELECT bounce_class FROM "
					    "deliveries WHERE id = %lld",
				   cases[i].delivery, cases[i].klass);
		}
		/* no other delivery moved */
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"deliveries WHERE state != "
						"'sent'"),
				 cases[i].state && strcmp(cases[i].state,
							  "sent") != 0);
		if (!strcmp(cases[i].kind, "report")) {
			/* the report row points at the kept bytes */
			assert_int_equal(
				test_query_int(f->t.db, "SELECT count(*) FROM "
					       "bounce_reports WHERE raw IS "
					       "NULL AND inbound_id = 1"),
				1);
		}
		if (cases[i].delivery && !strcmp(cases[i].kind, "report"))
			assert_col(f->t.db, "SELECT json_extract(data, "
					    "'$.class') FROM events WHERE "
					    "kind = 'delivery.bounced' AND "
					    "delivery_id = %lld",
				   cases[i].delivery, cases[i].klass);
		assert_int_equal(
			test_query_int(f->t.db, "SELECT count(*) FROM events "
					       "WHERE kind = "
					       "'inbound.quarantined' AND "
					       "json_extract(data, '$.inbound') "
					       "= 1"),
			!strcmp(cases[i].kind, "unreadable"));
		teardown((void **)&f);
		free(text);
		free(verp);
	}
}

static void test_sender_and_subject(void **state)
{
	struct fx *f = *state;
	struct inbox_result res;
	struct error err = ERROR_INIT;
	char *text = m_plain();

	assert_int_equal(take(f, text, NULL, &res, &err), 0);
	assert_col(f->t.db, "SELECT sender || '|' || subject || '|' || "
			    "message_id FROM inbound_messages WHERE id = %lld",
		   res.inbound_id, "someone@example.org|café|x1@example.org");
	free(text);
}

/* The same bytes twice: the first row answers, nothing changes. */
static void test_duplicate(void **state)
{
	struct fx *f = *state;
	char *(*makers[])(void) = {m_dsn_envid, m_plain, m_garbage};

	for (size_t i = 0; i < sizeof(makers) / sizeof(makers[0]); i++) {
		struct inbox_result a, b;
		struct error err = ERROR_INIT;
		char *text = makers[i]();
		int64_t events, rows;

		assert_int_equal(take(f, text, NULL, &a, &err), 0);
		events = test_query_int(f->t.db, "SELECT count(*) FROM events");
		rows = test_query_int(f->t.db, "SELECT count(*) FROM "
					       "inbound_messages");
		assert_int_equal(take(f, text, NULL, &b, &err), 0);
		assert_true(b.duplicate);
		assert_int_equal(b.inbound_id, a.inbound_id);
		assert_str(b.kind, a.kind);
		assert_int_equal(b.delivery_id, a.delivery_id);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) "
						"FROM events"),
				 events);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"inbound_messages"),
				 rows);
		free(text);
	}
}

static char *dsn_for(int64_t did, const char *status)
{
	char *envid = envid_of(did), *pm = xasprintf("Original-Envelope-Id: %s",
						   envid);
	char *d = dsn_failed(pm, "whoever@example.org", status);

	free(envid);
	free(pm);
	return d;
}

/* Threshold 1: an address bounce makes the contact bouncing at once; a
 * policy or mailbox bounce is recorded with its class and does not. */
static void test_only_counted_classes_make_bouncing(void **state)
{
	static const struct {
		int64_t did;
		const char *status;
		const char *klass;
		const char *contact;
	} cases[] = {
		{2, "5.7.1", "policy", "active"},
		{3, "5.2.2", "mailbox", "active"},
		{1, "5.1.1", "address", "bouncing"},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct inbox_result res;
		struct error err = ERROR_INIT;
		char *text = dsn_for(cases[i].did, cases[i].status);

		assert_int_equal(take(f, text, NULL, &res, &err), 0);
		assert_int_equal(res.bounce.bounced, 1);
		assert_str(res.bounce.klass, cases[i].klass);
		assert_col(f->t.db, "SELECT bounce_class FROM deliveries WHERE "
				    "id = %lld", cases[i].did, cases[i].klass);
		assert_col(f->t.db, "SELECT status FROM contacts WHERE id = "
				    "%lld", cases[i].did, cases[i].contact);
		assert_int_equal(res.bounce.contacts_bouncing,
				 !strcmp(cases[i].contact, "bouncing"));
		free(text);
	}
	/* counted when the office says so */
	{
		struct inbox_result res;
		struct error err = ERROR_INIT;
		char *text = dsn_for(4, "5.2.2");

		f->cfg.bounce.count_mask |= 1u << BOUNCE_CLASS_MAILBOX;
		assert_int_equal(take(f, text, NULL, &res, &err), 0);
		assert_col(f->t.db, "SELECT status FROM contacts WHERE id = "
				    "%lld", 4, "bouncing");
		free(text);
	}
}

/* Three policy failures from blocked.example: one relay.blocked event,
 * not another for the fourth. */
static void test_relay_blocked(void **state)
{
	struct fx *f = *state;

	for (int64_t did = 3; did <= 6; did++) {
		struct inbox_result res;
		struct error err = ERROR_INIT;
		char *text = dsn_for(did, "5.7.1");

		assert_int_equal(take(f, text, NULL, &res, &err), 0);
		assert_int_equal(res.bounce.blocked, did == 5);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"events WHERE kind = "
						"'relay.blocked'"),
				 did >= 5);
		free(text);
	}
	assert_col(f->t.db, "SELECT json_extract(data, '$.domain') || ' ' || "
			    "json_extract(data, '$.deliveries') FROM events "
			    "WHERE kind = 'relay.blocked' AND %lld",
		   1, "blocked.example 3");
	for (int64_t c = 3; c <= 6; c++)
		assert_col(f->t.db, "SELECT status FROM contacts WHERE id = "
				    "%lld", c, "active");
}

/* The database failing halfway: an error, and nothing kept. */
static void test_database_failure_leaves_nothing(void **state)
{
	static const char *const triggers[] = {
		"CREATE TRIGGER boom BEFORE INSERT ON bounce_reports BEGIN "
		"SELECT RAISE(ABORT, 'disk on fire'); END",
		"CREATE TRIGGER boom BEFORE INSERT ON events BEGIN "
		"SELECT RAISE(ABORT, 'disk on fire'); END",
	};
	char *(*makers[])(void) = {m_dsn_envid, m_plain};
	struct fx *f = *state;

	for (size_t i = 0; i < 2; i++) {
		struct inbox_result res;
		struct error err = ERROR_INIT;
		char *text = makers[i]();

		test_exec(f->t.db, triggers[i]);
		assert_int_not_equal(take(f, text, NULL, &res, &err), 0);
		assert_non_null(strstr(err.msg, "disk on fire"));
		assert_int_equal(res.inbound_id, 0);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"inbound_messages"),
				 0);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"events"),
				 0);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"deliveries WHERE state != "
						"'sent'"),
				 0);
		test_exec(f->t.db, "DROP TRIGGER boom");
		free(text);
	}
}

static void test_verp_addresses(void **state)
{
	static const struct {
		const char *base, *addr, *envid; /* envid NULL: none */
	} cases[] = {
		{"bounces@office.example",
		 "bounces+chancery-12-0123456789abcdef@office.example",
		 "chancery-12-0123456789abcdef"},
		{"bounces@office.example",
		 "BOUNCES+chancery-12-0123456789abcdef@Office.Example",
		 "chancery-12-0123456789abcdef"},
		/* a token-less ENVID is guessable: no VERP match */
		{"bounces@office.example", "bounces+chancery-12@office.example",
		 NULL},
		{"bounces@office.example",
		 "bounces+chancery-12-0123456789abcdef@other.example", NULL},
		{"bounces@office.example",
		 "other+chancery-12-0123456789abcdef@office.example", NULL},
		{"bounces@office.example",
		 "bounces+chancery-12-0123456789abcdeff@office.example", NULL},
		{"bounces@office.example", "bounces@office.example", NULL},
		{NULL, "bounces+chancery-12-0123456789abcdef@office.example",
		 NULL},
	};
	char *a;
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = bounce_verp_envid(cases[i].base, cases[i].addr);

		print_message("%s\n", cases[i].addr);
		if (cases[i].envid)
			assert_str(got ? got : "(null)", cases[i].envid);
		else
			assert_null(got);
		free(got);
	}
	a = bounce_verp_address("bounces@office.example",
				"chancery-7-00000000000000ff");
	assert_str(a, "bounces+chancery-7-00000000000000ff@office.example");
	free(a);
	assert_null(bounce_verp_address(NULL, "chancery-7-00000000000000ff"));
	assert_null(bounce_verp_address("bounces@office.example", NULL));
}

/* ---- a Maildir (inbox_read_maildir) -------------------------------------- */

/* What the callbacks were told. */
struct seen_run {
	struct sbuf taken;  /* "name:kind[:dup]," per message */
	int commits, rollbacks, failures, failure_code;
	size_t stop_after;  /* interrupted once this many were taken; 0 never */
	size_t ntaken;
};

static void run_taken(const char *name, const char *path,
		      const struct inbox_result *res, const char *notes,
		      void *arg)
{
	struct seen_run *r = arg;

	assert_non_null(strstr(path, "/new/"));
	assert_non_null(notes);
	sbuf_addf(&r->taken, "%s:%s%s,", name, res->kind,
		  res->duplicate ? ":dup" : "");
	r->ntaken++;
}

static void run_batch_done(bool ok, void *arg)
{
	struct seen_run *r = arg;

	if (ok)
		r->commits++;
	else
		r->rollbacks++;
}

static void run_failed(const struct error *why, void *arg)
{
	struct seen_run *r = arg;

	r->failures++;
	r->failure_code = why->code;
}

static bool run_interrupted(void *arg)
{
	struct seen_run *r = arg;

	return r->stop_after && r->ntaken >= r->stop_after;
}

static void put(const char *dir, const char *sub, const char *name,
		const char *text)
{
	char *path = xasprintf("%s/%s/%s", dir, sub, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
}

static size_t count_in(const char *dir, const char *sub)
{
	char *path = xasprintf("%s/%s", dir, sub);
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	free(path);
	return n;
}

/*
 * Every message of new/, oldest name first, kept and moved to cur/; a
 * duplicate counted as such; an entry that cannot be read (a directory)
 * told to failed with ERR_NOINPUT and left in new/; max_messages and
 * interrupted stop the run with the rest left in new/.
 */
static void test_read_maildir(void **state)
{
	static const struct {
		size_t max, stop_after;
		const char *taken;
		size_t moved, failed, left;
	} cases[] = {
		{0, 0, "1.a:report,2.b:unreadable,3.c:unreadable:dup,"
		       "5.e:mdn,", 4, 1, 1},
		{2, 0, "1.a:report,2.b:unreadable,", 2, 0, 3},
		{0, 1, "1.a:report,", 1, 0, 4},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *fixture;
		struct fx *f;
		char *dir = test_tmpdir(), *sub, *dsn = m_dsn_envid();
		char *garbage = m_garbage(), *mdn = m_mdn();
		struct seen_run r = {SBUF_INIT, 0, 0, 0, 0, cases[i].stop_after,
				     0};
		struct inbox_maildir p = {
			.dir = dir,
			.max_messages = cases[i].max,
			.taken = run_taken,
			.batch_done = run_batch_done,
			.failed = run_failed,
			.interrupted = run_interrupted,
			.arg = &r,
		};
		struct inbox_maildir_stats st;
		struct error err = ERROR_INIT;

		setup(&fixture); /* a fresh database for each case */
		f = fixture;
		for (const char *const *s = (const char *const[]){"new", "cur",
			    "tmp", "new/4.d", NULL}; *s; s++) {
			sub = xasprintf("%s/%s", dir, *s);
			assert_int_equal(mkdir(sub, 0700), 0);
			free(sub);
		}
		put(dir, "new", "3.c", garbage);
		put(dir, "new", "1.a", dsn);
		put(dir, "new", "2.b", garbage);
		put(dir, "new", "5.e", mdn);
		assert_int_equal(inbox_read_maildir(f->t.db, &f->cfg, &p, &st,
						    &err), 0);
		assert_str(r.taken.buf, cases[i].taken);
		assert_int_equal(st.listed, 5);
		assert_int_equal(st.moved, cases[i].moved);
		assert_int_equal(st.failed, cases[i].failed);
		assert_int_equal(r.failures, cases[i].failed);
		if (cases[i].failed)
			assert_int_equal(r.failure_code, ERR_NOINPUT);
		assert_int_equal(r.commits, 1);
		assert_int_equal(r.rollbacks, 0);
		assert_int_equal(count_in(dir, "cur"), cases[i].moved);
		assert_int_equal(count_in(dir, "new"), cases[i].left);
		assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
						"inbound_messages"),
				 cases[i].moved - (i == 0));
		assert_int_equal(st.counts.report, 1);
		assert_int_equal(st.counts.unreadable,
				 cases[i].moved >= 2 ? (i == 0 ? 2 : 1) : 0);
		assert_int_equal(st.counts.duplicate, i == 0);
		assert_int_equal(st.counts.mdn, i == 0);
		sub = xasprintf("%s/cur/1.a:2,S", dir);
		assert_int_equal(access(sub, F_OK), 0);
		free(sub);
		sbuf_release(&r.taken);
		free(dsn);
		free(garbage);
		free(mdn);
		test_rmtree(dir);
		teardown(&fixture);
	}
}

/* Not a Maildir, and a database that fails: an error, new/ untouched. */
static void test_read_maildir_errors(void **state)
{
	struct fx *f = *state;
	char *dir = test_tmpdir(), *sub, *garbage = m_garbage();
	struct seen_run r = {SBUF_INIT, 0, 0, 0, 0, 0, 0};
	struct inbox_maildir p = {.dir = dir, .batch_done = run_batch_done,
				  .arg = &r};
	struct inbox_maildir_stats st;
	struct error err = ERROR_INIT;

	assert_int_equal(inbox_read_maildir(f->t.db, &f->cfg, &p, &st, &err),
			 ERR_NOINPUT);
	assert_non_null(strstr(err.msg, "not a Maildir (no new/)"));
	for (const char *const *s = (const char *const[]){"new", "cur", "tmp",
							 NULL}; *s; s++) {
		sub = xasprintf("%s/%s", dir, *s);
		assert_int_equal(mkdir(sub, 0700), 0);
		free(sub);
	}
	put(dir, "new", "1.a", garbage);
	put(dir, "new", "2.b", "Subject: x\n\nhello\n");
	test_exec(f->t.db, "CREATE TRIGGER boom BEFORE INSERT ON "
			   "inbound_messages WHEN NEW.origin = '2.b' BEGIN "
			   "SELECT RAISE(ABORT, 'disk on fire'); END");
	error_clear(&err);
	assert_int_not_equal(inbox_read_maildir(f->t.db, &f->cfg, &p, &st,
						&err), 0);
	assert_non_null(strstr(err.msg, "/new/2.b"));
	assert_non_null(strstr(err.msg, "disk on fire"));
	assert_int_equal(r.rollbacks, 1);
	assert_int_equal(st.moved, 0);
	assert_int_equal(count_in(dir, "new"), 2);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
					"inbound_messages"), 0);
	free(garbage);
	test_rmtree(dir);
}

/* The per-kind counts and their log text. */
static void test_counts(void **state)
{
	static const struct {
		const char *kind;
		bool duplicate;
	} in[] = {
		{"report", false}, {"report", true}, {"mdn", false},
		{"auto_reply", false}, {"reply", false}, {"complaint", true},
		{"unreadable", false}, {"unreadable", false},
	};
	struct inbox_counts c = {0};
	struct sbuf out = SBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct inbox_result res = {.kind = in[i].kind,
					   .duplicate = in[i].duplicate};

		inbox_counts_add(&c, &res);
	}
	inbox_counts_format(&c, &out);
	assert_str(out.buf, "report=2 mdn=1 auto_reply=1 reply=1 complaint=1 "
			    "unreadable=2 duplicate=2");
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_kind_is_kept),
		cmocka_unit_test_setup_teardown(test_sender_and_subject, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_only_counted_classes_make_bouncing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_relay_blocked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_database_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test(test_verp_addresses),
		cmocka_unit_test(test_read_maildir),
		cmocka_unit_test_setup_teardown(test_read_maildir_errors,
						setup, teardown),
		cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
