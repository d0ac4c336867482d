#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/audit.h"
#include "chancery/clock.h"
#include "chancery/response.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

static void read_response_sample(const char *name, struct sbuf *out)
{
	struct error err = ERROR_INIT;
	const char *src = getenv("CHANCERY_SOURCE_DIR");
	char *path = xasprintf("%s/tests/data/responses/%s",
			       src ? src : "../..", name);

	if (sbuf_read_file(out, path, 1 << 20, &err) != 0)
		fail_msg("%s", err.msg);
	free(path);
}

static void parse_sample(const char *name, struct response *r)
{
	struct error err = ERROR_INIT;
	struct sbuf sb = SBUF_INIT;

	read_response_sample(name, &sb);
	if (response_parse(sb.buf, sb.len, r, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	sbuf_release(&sb);
}

static void want_str(const char *file, const char *what, const char *got,
		     const char *want)
{
	if (!want && !got)
		return;
	if (!want || !got || strcmp(got, want) != 0)
		fail_msg("%s: %s is '%s', wanted '%s'", file, what,
			 got ? got : "(null)", want ? want : "(null)");
}

static const char *kind_text(enum response_kind k)
{
	return k == RESPONSE_NONE ? "none" : response_kind_name(k);
}

/* ---- parsing ----------------------------------------------------------- */

#define OURS(x) "3.17." x "@mfa.example.gov"

static void test_parse_samples(void **state)
{
	static const struct {
		const char *file;
		enum response_kind kind;
		const char *disposition, *sender;
		int64_t date;
		const char *refs; /* space-separated, in order */
	} cases[] = {
		/* MDNs: dispositions and modifiers */
		{"mdn-displayed.eml", RESPONSE_MDN, "displayed",
		 "registry@unesco.example.org", 1772183702,
		 OURS("0123456789abcdef")},
		{"mdn-deleted.eml", RESPONSE_MDN, "deleted",
		 "postmaster@ombudsman.example.eu", 1772438400,
		 "3.18.1111111111111111@mfa.example.gov"},
		{"mdn-dispatched.eml", RESPONSE_MDN, "dispatched",
		 "press@nhri.example.ge", 1772526600,
		 "3.19.2222222222222222@mfa.example.gov"},
		{"mdn-processed-error.eml", RESPONSE_MDN, "processed/error",
		 "mdn@embassy.example.az", 1772607600,
		 "3.20.3333333333333333@mfa.example.gov"},
		/* automatic answers */
		{"auto-rfc3834.eml", RESPONSE_AUTO_REPLY, NULL,
		 "secretariat@unhcr.example.int", 1772092860,
		 OURS("4444444444444444")},
		{"auto-exchange.eml", RESPONSE_AUTO_REPLY, NULL,
		 "a.smith@oecd.example.org", 1772096405,
		 OURS("5555555555555555")},
		{"auto-exchange-auto.eml", RESPONSE_AUTO_REPLY, NULL,
		 "kanzlei@bmeia.example.at", 1772096400,
		 OURS("6666666666666666")},
		{"auto-fr.eml", RESPONSE_AUTO_REPLY, NULL,
		 "cabinet@francophonie.example.org", 1772096700,
		 OURS("7777777777777777")},
		{"auto-de-abwesenheit.eml", RESPONSE_AUTO_REPLY, NULL,
		 "botschaft@example.de", 1772096760, OURS("8888888888888888")},
		{"auto-de-automatische.eml", RESPONSE_AUTO_REPLY, NULL,
		 "referat@example.de", 1772096820, OURS("9999999999999999")},
		{"auto-es.eml", RESPONSE_AUTO_REPLY, NULL, "embajada@example.es",
		 1772096880, OURS("aaaaaaaaaaaaaaaa")},
		{"auto-ru.eml", RESPONSE_AUTO_REPLY, NULL, "info@example.ru",
		 1772096940, OURS("bbbbbbbbbbbbbbbb")},
		{"auto-ar.eml", RESPONSE_AUTO_REPLY, NULL, "safara@example.ae",
		 1772097000, OURS("cccccccccccccccc")},
		{"auto-xautoreply.eml", RESPONSE_AUTO_REPLY, NULL,
		 "mission@example.kz", 1772100660, OURS("dddddddddddddddd")},
		{"auto-precedence.eml", RESPONSE_AUTO_REPLY, NULL,
		 "desk@example.am", 1772104320, OURS("eeeeeeeeeeeeeeee")},
		/* people */
		{"reply-human.eml", RESPONSE_REPLY, NULL, "director@example.ch",
		 1772186400, OURS("ffffffffffffffff") " older-1@example.ch"},
		{"reply-references.eml", RESPONSE_REPLY, NULL,
		 "counsellor@example.no", 1772190000,
		 "thread-middle@example.no " OURS("1212121212121212")
		 " thread-start@example.no"},
		/* a complaint names the statement in its quoted copy */
		{"complaint-arf.eml", RESPONSE_COMPLAINT, "abuse",
		 "staff@fbl.example.net", 1772272800, OURS("5656565656565656")},
		/* none of them */
		{"newsletter-bulk.eml", RESPONSE_NONE, NULL,
		 "news@thinktank.example.com", 1772172000, ""},
		{"list-post.eml", RESPONSE_NONE, NULL,
		 "friends@lists.example.org", 1772173800,
		 OURS("0123456789abcdef")},
		{"new-message.eml", RESPONSE_NONE, NULL, "desk@paper.example.com",
		 1772175600, ""},
		{"forwarded.eml", RESPONSE_NONE, NULL, "officer@example.se",
		 1772175600, OURS("3434343434343434")},
		/* delivery reports are never a response, whatever they carry */
		{"bounce-dsn.eml", RESPONSE_NONE, NULL,
		 "MAILER-DAEMON@relay.example.net", 1772096700, ""},
		{"bounce-exim.eml", RESPONSE_NONE, NULL,
		 "Mailer-Daemon@mx.example.org", 1772096760, ""},
		{"bounce-qmail.eml", RESPONSE_NONE, NULL,
		 "MAILER-DAEMON@mail.example.com", 1772096820, ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct response r;
		struct sbuf refs = SBUF_INIT;

		parse_sample(cases[i].file, &r);
		if (r.kind != cases[i].kind)
			fail_msg("%s: kind %s (%s), wanted %s", cases[i].file,
				 kind_text(r.kind), r.why ? r.why : "-",
				 kind_text(cases[i].kind));
		want_str(cases[i].file, "disposition", r.disposition,
			 cases[i].disposition);
		want_str(cases[i].file, "sender", r.sender, cases[i].sender);
		if (r.date != cases[i].date)
			fail_msg("%s: date %lld, wanted %lld", cases[i].file,
				 (long long)r.date, (long long)cases[i].date);
		for (size_t j = 0; j < r.nrefs; j++)
			sbuf_addf(&refs, "%s%s", j ? " " : "", r.refs[j]);
		want_str(cases[i].file, "refs", refs.buf, cases[i].refs);
		sbuf_release(&refs);
		response_release(&r);
	}
}

/* The MDN's mode, and the decoded subjects the localized answers were
 * recognised by. */
static void test_parse_details(void **state)
{
	static const struct {
		const char *file, *mode, *subject;
	} cases[] = {
		{"mdn-displayed.eml", "manual-action/mdn-sent-manually",
		 "Read: Statement on the anniversary"},
		{"mdn-dispatched.eml", "automatic-action/mdn-sent-automatically",
		 "Disposition notification"},
		{"auto-fr.eml", NULL,
		 "Réponse automatique : Déclaration sur l'anniversaire"},
		{"auto-de-abwesenheit.eml", NULL, "Abwesenheitsnotiz: Erklärung"},
		{"auto-es.eml", NULL, "Respuesta automática: Declaración"},
		{"auto-ru.eml", NULL, "Автоматический ответ: Заявление"},
		{"auto-ar.eml", NULL, "رد تلقائي: بيان"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct response r;

		parse_sample(cases[i].file, &r);
		want_str(cases[i].file, "mode", r.mode, cases[i].mode);
		want_str(cases[i].file, "subject", r.subject, cases[i].subject);
		response_release(&r);
	}
}

/* Markers one header at a time, on an otherwise plain reply. */
static void test_parse_markers(void **state)
{
	static const struct {
		const char *headers;
		enum response_kind kind;
	} cases[] = {
		{"", RESPONSE_REPLY},
		{"Auto-Submitted: auto-replied\n", RESPONSE_AUTO_REPLY},
		{"Auto-Submitted: auto-generated (vacation)\n",
		 RESPONSE_AUTO_REPLY},
		{"Auto-Submitted: No\n", RESPONSE_REPLY},
		{"X-Autorespond: yes\n", RESPONSE_AUTO_REPLY},
		{"X-Autoreply: yes\n", RESPONSE_AUTO_REPLY},
		{"X-Auto-Response-Suppress: All\n", RESPONSE_REPLY},
		{"Precedence: auto_reply\n", RESPONSE_AUTO_REPLY},
		{"Precedence: bulk\n", RESPONSE_NONE},
		{"Precedence: junk\nSubject: Away from my mail\n",
		 RESPONSE_AUTO_REPLY},
		{"Precedence: bulk\nSubject: I am on vacation\n",
		 RESPONSE_AUTO_REPLY},
		{"Subject: Vacation plans for the delegation\n", RESPONSE_REPLY},
		{"Subject: Out of Office AutoReply: Statement\n",
		 RESPONSE_AUTO_REPLY},
		{"Subject: =?koi8-r?b?4dfUz8/U18XU?=\n", RESPONSE_AUTO_REPLY},
		{"Subject: RE: Automatic reply: Statement\n", RESPONSE_REPLY},
		{"X-Failed-Recipients: a@b.example\n", RESPONSE_NONE},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct response r;
		char *msg = xasprintf(
			"From: someone@example.org\n%s"
			"Date: Fri, 27 Feb 2026 11:00:00 +0000\n"
			"In-Reply-To: <" OURS("0123456789abcdef") ">\n\nText\n",
			cases[i].headers);

		assert_int_equal(response_parse(msg, strlen(msg), &r, &err), 0);
		if (r.kind != cases[i].kind)
			fail_msg("'%s': kind %s, wanted %s", cases[i].headers,
				 kind_text(r.kind), kind_text(cases[i].kind));
		response_release(&r);
		free(msg);
	}
}

/* Subjects as mail systems encode them, decoded: a character split
 * between two words, padding inside a run (GMime 3.2 loses the rest of
 * such a run), mixed charsets, plain text around words. */
static void test_parse_subjects(void **state)
{
	static const struct {
		const char *raw, *want;
	} cases[] = {
		/* "Авто" | "ответ", padded, folded */
		{"=?utf-8?b?0JDQstGC0L4=?=\n =?utf-8?b?0L7RgtCy0LXRgg==?=",
		 "Автоответ"},
		/* the "о" split between the two words */
		{"=?utf-8?b?0JDQstGC0A==?= =?UTF-8?b?vtC+0YLQstC10YI=?=",
		 "Автоответ"},
		{"=?ISO-8859-1?Q?R=E9ponse?= automatique : =?UTF-8?Q?D=C3=A9claration?=",
		 "Réponse automatique : Déclaration"},
		{"=?utf-8?q?Respuesta_autom=C3=A1?= =?iso-8859-1?q?tica?=",
		 "Respuesta automática"},
		{"=?windows-1251?b?wOLy7u7y4uXy?=", "Автоответ"},
		{"Plain  subject\n\tfolded", "Plain subject folded"},
		{"=?x-unknown?q?Auto=FFreply?=", "Auto?reply"},
		{"=?utf-8?q?broken", "=?utf-8?q?broken"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct response r;
		char *msg = xasprintf("From: a@example.org\nSubject: %s\n\nx\n",
				      cases[i].raw);

		assert_int_equal(response_parse(msg, strlen(msg), &r, &err), 0);
		want_str(cases[i].raw, "subject", r.subject, cases[i].want);
		response_release(&r);
		free(msg);
	}
}

/* A disposition or feedback type is atoms: it ends at what a message
 * puts there besides (an escape sequence, a bidi override), so the audit
 * never shows those. */
static void test_parse_disposition_atoms(void **state)
{
	static const struct {
		const char *type, *field, *value, *want;
	} cases[] = {
		{"disposition-notification", "Disposition",
		 "manual-action/MDN-sent-manually; displayed\x1b[2J", "displayed"},
		{"disposition-notification", "Disposition",
		 "automatic-action/MDN-sent-automatically; deleted\xe2\x80\xae"
		 "deyalpsid", "deleted"},
		{"disposition-notification", "Disposition",
		 "manual-action/MDN-sent-manually; processed / error",
		 "processed/error"},
		{"disposition-notification", "Disposition",
		 "manual-action/MDN-sent-manually; \x1b[2J", NULL},
		{"feedback-report", "Feedback-Type", "Abuse\x1b]0;x\x07", "abuse"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct response r;
		char *msg = xasprintf(
			"From: a@example.org\nMIME-Version: 1.0\n"
			"Content-Type: multipart/report; report-type=%s; "
			"boundary=B\n\n--B\nContent-Type: text/plain\n\nx\n"
			"--B\nContent-Type: message/%s\n\nFinal-Recipient: "
			"rfc822; a@example.org\nOriginal-Message-ID: <m@x.org>\n"
			"%s: %s\nUser-Agent: x\nVersion: 1\n--B--\n",
			cases[i].type, cases[i].type, cases[i].field,
			cases[i].value);

		assert_int_equal(response_parse(msg, strlen(msg), &r, &err), 0);
		want_str(cases[i].value, "disposition", r.disposition,
			 cases[i].want);
		response_release(&r);
		free(msg);
	}
}

/* The ids a reply names, most direct first. */
static void test_parse_refs(void **state)
{
	static const struct {
		const char *headers, *refs;
	} cases[] = {
		{"In-Reply-To: 3.17.aa@mfa.example.gov\n", "3.17.aa@mfa.example.gov"},
		{"In-Reply-To: <a@x.example> (Jane's message of 26 Feb)\n"
		 "References: <b@y.example> <a@x.example>\n",
		 "a@x.example b@y.example"},
		{"References: <a@x.example>\n <b@y.example>\n",
		 "b@y.example a@x.example"},
		{"In-Reply-To: <>\n", ""},
		{"In-Reply-To: not an id\n", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct response r;
		struct sbuf refs = SBUF_INIT;
		char *msg = xasprintf("From: a@example.org\n%s\nx\n",
				      cases[i].headers);

		assert_int_equal(response_parse(msg, strlen(msg), &r, &err), 0);
		for (size_t j = 0; j < r.nrefs; j++)
			sbuf_addf(&refs, "%s%s", j ? " " : "", r.refs[j]);
		want_str(cases[i].headers, "refs", refs.buf, cases[i].refs);
		/* naming nothing, it is no reply */
		assert_int_equal(r.kind, *cases[i].refs ? RESPONSE_REPLY
							 : RESPONSE_NONE);
		sbuf_release(&refs);
		response_release(&r);
		free(msg);
	}
	/* a thread of 100: the newest 64 */
	{
		struct sbuf msg = SBUF_INIT;
		struct error err = ERROR_INIT;
		struct response r;

		sbuf_addstr(&msg, "From: a@example.org\nReferences:");
		for (int i = 0; i < 100; i++)
			sbuf_addf(&msg, " <m%d@x.example>", i);
		sbuf_addstr(&msg, "\n\nx\n");
		assert_int_equal(response_parse(msg.buf, msg.len, &r, &err), 0);
		assert_int_equal(r.nrefs, 64);
		assert_str(r.refs[0], "m99@x.example");
		assert_str(r.refs[63], "m36@x.example");
		response_release(&r);
		sbuf_release(&msg);
	}
}

/* Every delivery report of the bounce corpus (tests/data/bounces, and
 * whatever samples join it) is never a response, whatever it quotes. */
static void test_bounce_corpus_is_never_a_response(void **state)
{
	const char *src = getenv("CHANCERY_SOURCE_DIR");
	char *dir = xasprintf("%s/tests/data/bounces", src ? src : "../..");
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		struct error err = ERROR_INIT;
		struct sbuf sb = SBUF_INIT;
		struct response r;
		char *path;
		size_t len = strlen(e->d_name);

		/* garbage*: no report; neg-*: the parser's own negative
		 * samples (auto-replies, MDNs, replies) */
		if (len < 5 || strcmp(e->d_name + len - 4, ".eml") != 0 ||
		    strncmp(e->d_name, "garbage", 7) == 0 ||
		    strncmp(e->d_name, "neg-", 4) == 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (sbuf_read_file(&sb, path, 1 << 22, &err) != 0)
			fail_msg("%s", err.msg);
		if (response_parse(sb.buf, sb.len, &r, &err) == 0 &&
		    r.kind != RESPONSE_NONE)
			fail_msg("%s: read as %s (%s)", e->d_name,
				 response_kind_name(r.kind), r.why);
		response_release(&r);
		sbuf_release(&sb);
		free(path);
		n++;
	}
	closedir(d);
	free(dir);
	assert_true(n >= 7);
}

static void test_parse_not_a_message(void **state)
{
	struct error err = ERROR_INIT;
	struct response r;

	(void)state;
	assert_int_equal(response_parse("", 0, &r, &err), ERR_DATA);
	assert_int_equal(response_parse("\x01\x02\x03", 3, &r, &err),
			 ERR_DATA);
	assert_non_null(strstr(err.msg, "not a mail message"));
	assert_int_equal(r.kind, RESPONSE_NONE);
	assert_null(r.refs);
}

/* ---- applying ---------------------------------------------------------- */

static int setup(void **state)
{
	struct test_db *t = xcalloc(1, sizeof(*t));

	clock_set_fake(1772300000);
	test_db_open(t);
	test_exec(t->db,
		  "INSERT INTO bodies (id, acronym, name, kind, created_at) "
		  "VALUES (1, 'UNESCO', 'UNESCO', 'un-agency', 0),"
		  "(2, 'EO', 'European Ombudsman', 'ombudsman', 0);"
		  "INSERT INTO contacts (id, body_id, email, created_at, "
		  "updated_at) VALUES (1, 1, 'registry@unesco.example.org', 0, 0),"
		  "(2, 2, 'office@ombudsman.example.eu', 0, 0);"
		  "INSERT INTO templates (id, name, version, source, sha256, "
		  "created_at) VALUES (1, 'statement', 1, 'x', 'y', 0);"
		  "INSERT INTO lists (id, name, kind, created_at, updated_at) "
		  "VALUES (1, 'all', 'static', 0, 0);"
		  "INSERT INTO campaigns (id, name, template_id, list_id, "
		  "send_at, tz, state, created_at, updated_at) VALUES "
		  "(3, 'anniversary', 1, 1, 1772096400, 'UTC', 'done', 0, 0);"
		  "INSERT INTO deliveries (id, campaign_id, contact_id, body_id, "
		  "email, state, message_id, created_at, updated_at, sent_at) "
		  "VALUES (17, 3, 1, 1, 'registry@unesco.example.org', 'sent', "
		  "'" OURS("0123456789abcdef") "', 0, 0, 1772096400),"
		  "(18, 3, 2, 2, 'office@ombudsman.example.eu', 'sent', "
		  "'3.17.ffffffffffffffff@mfa.example.gov', 0, 0, 1772096400);");
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

/* Stores the sample as the inbox would, then applies it. */
static int64_t take(struct db *db, const char *file, int64_t *delivery,
		    struct response *r)
{
	struct error err = ERROR_INIT;
	char sql[512];
	int64_t id;

	parse_sample(file, r);
	snprintf(sql, sizeof(sql),
		 "INSERT OR IGNORE INTO inbound_messages (sha256, source, "
		 "kind, sender, received_at, raw) VALUES ('%s', 'stdin', '%s', "
		 "NULL, 1772290000, 'x')",
		 file, r->kind ? response_kind_name(r->kind) : "unreadable");
	test_exec(db, sql);
	snprintf(sql, sizeof(sql),
		 "SELECT id FROM inbound_messages WHERE sha256 = '%s'", file);
	id = test_query_int(db, sql);
	if (response_apply(db, id, r, delivery, &err) != 0)
		fail_msg("%s: %s", file, err.msg);
	return id;
}

static void test_apply(void **state)
{
	static const struct {
		const char *file;
		int64_t delivery;   /* 0: names none */
		const char *row;    /* delivery_responses: kind|disposition|
				       sender|responded_at, or NULL */
		const char *event;  /* its ledger event, or NULL */
	} cases[] = {
		{"mdn-displayed.eml", 17,
		 "acknowledged|displayed|registry@unesco.example.org|1772183702",
		 "delivery.acknowledged"},
		{"reply-human.eml", 18,
		 "replied||director@example.ch|1772186400", "delivery.replied"},
		/* names no delivery of ours: nothing changes */
		{"mdn-deleted.eml", 0, NULL, NULL},
		{"new-message.eml", 0, NULL, NULL},
		/* ours, but in a list's copy: not a response */
		{"list-post.eml", 0, NULL, NULL},
	};
	struct test_db *t = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct response r;
		int64_t did = -1, inbound;
		char sql[512], *got;

		inbound = take(t->db, cases[i].file, &did, &r);
		response_release(&r);
		if (did != cases[i].delivery)
			fail_msg("%s: delivery %lld, wanted %lld", cases[i].file,
				 (long long)did, (long long)cases[i].delivery);
		snprintf(sql, sizeof(sql),
			 "SELECT kind || '|' || coalesce(disposition, '') || '|' "
			 "|| coalesce(sender, '') || '|' || responded_at FROM "
			 "delivery_responses WHERE inbound_id = %lld",
			 (long long)inbound);
		got = test_query_text_or_null(t->db, sql);
		want_str(cases[i].file, "response row", got, cases[i].row);
		free(got);
		snprintf(sql, sizeof(sql),
			 "SELECT kind FROM events WHERE json_extract(data, "
			 "'$.inbound_id') = %lld",
			 (long long)inbound);
		got = test_query_text_or_null(t->db, sql);
		want_str(cases[i].file, "event", got, cases[i].event);
		free(got);
		snprintf(sql, sizeof(sql),
			 "SELECT coalesce(delivery_id, 0) FROM inbound_messages "
			 "WHERE id = %lld",
			 (long long)inbound);
		assert_int_equal(test_query_int(t->db, sql), cases[i].delivery);
	}
	/* the event's data, as the audit and the ledger show it */
	{
		char *data = test_query_text(
			t->db, "SELECT data FROM events WHERE kind = "
			       "'delivery.acknowledged'");

		want_str("mdn-displayed.eml", "event data", data,
			 "{\"response\":\"mdn\",\"disposition\":\"displayed\","
			 "\"mode\":\"manual-action/mdn-sent-manually\","
			 "\"sender\":\"registry@unesco.example.org\","
			 "\"responded_at\":\"2026-02-27T09:15:02Z\","
			 "\"inbound_id\":1,\"message_id\":\""
			 OURS("0123456789abcdef") "\"}");
		free(data);
	}
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "deliveries WHERE state <> 'sent'"),
			 0);
}

/* The same message twice (the inbox's duplicate check aside): one row,
 * one event. */
static void test_apply_twice(void **state)
{
	static const char *const files[] = {"mdn-displayed.eml",
					    "complaint-arf.eml"};
	struct test_db *t = *state;

	/* the complaint's statement */
	test_exec(t->db, "UPDATE deliveries SET message_id = '"
			 OURS("5656565656565656") "' WHERE id = 18");
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < 2; i++) {
			struct error err = ERROR_INIT;
			struct response r;
			int64_t did = 0, inbound = take(t->db, files[i], &did, &r);

			/* and once more on the same row */
			assert_int_equal(response_apply(t->db, inbound, &r, &did,
							&err),
					 0);
			assert_int_equal(did, i ? 18 : 17);
			response_release(&r);
		}
	}
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "delivery_responses"),
			 1);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM events "
					       "WHERE kind LIKE 'delivery.%'"),
			 2);
	/* the complaint is on the record as one, never as a reply row */
	{
		char *data = test_query_text(
			t->db, "SELECT data FROM events WHERE delivery_id = 18");

		if (!strstr(data, "\"response\":\"complaint\",\"feedback_type\":"
				  "\"abuse\""))
			fail_msg("complaint event data: %s", data);
		free(data);
	}
	assert_int_equal(test_query_int(t->db, "SELECT delivery_id FROM "
					       "inbound_messages WHERE sha256 = "
					       "'complaint-arf.eml'"),
			 18);
}

/* A reply naming two statements: the most direct (In-Reply-To) wins; a
 * forged sender address alone never matches. */
static void test_apply_choice(void **state)
{
	struct test_db *t = *state;
	struct error err = ERROR_INIT;
	struct response r = {0};
	char *refs[] = {"not-ours@example.ch",
			"3.17.ffffffffffffffff@mfa.example.gov",
			OURS("0123456789abcdef")};
	int64_t did = -1;

	test_exec(t->db, "INSERT INTO inbound_messages (id, sha256, source, "
			 "kind, received_at, raw) VALUES (9, 'h', 'stdin', "
			 "'reply', 1772290000, 'x')");
	r.kind = RESPONSE_REPLY;
	r.refs = refs;
	r.nrefs = 3;
	r.sender = "registry@unesco.example.org";
	assert_int_equal(response_apply(t->db, 9, &r, &did, &err), 0);
	assert_int_equal(did, 18);
	/* no Date: the received time stands */
	assert_int_equal(test_query_int(t->db, "SELECT responded_at FROM "
					       "delivery_responses"),
			 1772290000);

	/* a Date: before the statement went out, or after the message
	 * arrived, is not believed: the time it arrived stands */
	{
		static const struct {
			int64_t date, want;
		} dates[] = {
			{1772183702, 1772183702},      /* after sending: kept */
			{1772096400 - 86400 - 1, 1772290000}, /* before */
			{1772290000 + 86401, 1772290000},     /* the future */
			{1772096400 - 3600, 1772096400 - 3600}, /* clock skew */
		};

		r.refs = refs + 2; /* delivery 17, sent 1772096400 */
		for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
			char sql[200];

			snprintf(sql, sizeof(sql),
				 "INSERT INTO inbound_messages (id, sha256, "
				 "source, kind, received_at, raw) VALUES (%zu, "
				 "'d%zu', 'stdin', 'reply', 1772290000, 'x')",
				 20 + i, i);
			test_exec(t->db, sql);
			r.date = dates[i].date;
			assert_int_equal(response_apply(t->db, (int64_t)(20 + i),
							&r, &did, &err),
					 0);
			assert_int_equal(did, 17);
			snprintf(sql, sizeof(sql),
				 "SELECT responded_at FROM delivery_responses "
				 "WHERE inbound_id = %zu", 20 + i);
			assert_int_equal(test_query_int(t->db, sql),
					 dates[i].want);
		}
		r.refs = refs;
		r.date = 0;
	}

	r.nrefs = 1; /* only a stranger's id, from our addressee's address */
	test_exec(t->db, "INSERT INTO inbound_messages (id, sha256, source, "
			 "kind, received_at, raw) VALUES (10, 'i', 'stdin', "
			 "'reply', 1772290000, 'x')");
	assert_int_equal(response_apply(t->db, 10, &r, &did, &err), 0);
	assert_int_equal(did, 0);
	assert_int_equal(test_query_int(t->db, "SELECT count(*) FROM "
					       "delivery_responses"),
			 5); /* the one above and the four dates */
}

/* From the message to the line the audit prints. */
static void test_apply_then_audit(void **state)
{
	static const char *const files[] = {
		"mdn-displayed.eml", "reply-human.eml", "auto-fr.eml",
		"new-message.eml",
	};
	struct test_db *t = *state;
	struct error err = ERROR_INIT;
	struct sbuf out = SBUF_INIT;

	/* the French answer names delivery 18's statement */
	test_exec(t->db, "UPDATE deliveries SET message_id = '"
			 OURS("7777777777777777") "' WHERE id = 18");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct response r;
		int64_t did;

		take(t->db, files[i], &did, &r);
		response_release(&r);
	}
	assert_int_equal(audit_report_campaign(t->db, "anniversary",
					       AUDIT_FORMAT_TABLE, &out, &err),
			 0);
	if (!strstr(out.buf, "; responses: 1 acknowledged, 1 auto_replied\n"
			     "\nresponses:\n"
			     "  EO answered anniversary automatically on 26 "
			     "February 2026, from cabinet@francophonie.example.org "
			     "(delivery 18 to office@ombudsman.example.eu)\n"
			     "  UNESCO acknowledged receipt of anniversary on 27 "
			     "February 2026 (displayed), from "
			     "registry@unesco.example.org (delivery 17 to "
			     "registry@unesco.example.org)\n"))
		fail_msg("audit:\n%s", out.buf);
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_samples),
		cmocka_unit_test(test_parse_details),
		cmocka_unit_test(test_parse_markers),
		cmocka_unit_test(test_parse_subjects),
		cmocka_unit_test(test_parse_refs),
		cmocka_unit_test(test_parse_disposition_atoms),
		cmocka_unit_test(test_bounce_corpus_is_never_a_response),
		cmocka_unit_test(test_parse_not_a_message),
		cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_twice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_apply_choice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_apply_then_audit, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
