#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce_report.h"
#include "chancery/sbuf.h"
#include "bounce_samples.h"
#include "testutil.h"

static struct bounce_report *parse_sample(const char *name)
{
	struct error err = ERROR_INIT;
	struct bounce_report *r = NULL;
	struct sbuf sb = SBUF_INIT;

	read_sample(name, &sb);
	if (bounce_report_parse(sb.buf, sb.len, &r, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
	sbuf_release(&sb);
	return r;
}

static void test_parse_samples(void **state)
{
	static const struct {
		const char *file;
		enum bounce_format format;
		enum bounce_action action;
		const char *recipient, *status, *diag_part, *envid, *msgid,
			*delivery_header;
	} cases[] = {
		{"dsn-failed.eml", BOUNCE_FORMAT_DSN, BOUNCE_FAILED,
		 "registry@ohchr.example.org", "5.1.1",
		 "smtp; 550 5.1.1 <registry@ohchr.example.org>: Recipient "
		 "address rejected: User unknown in virtual mailbox table",
		 "chancery-1", "c1.d1@chancery.example.net", "chancery-1"},
		{"postfix.eml", BOUNCE_FORMAT_POSTFIX, BOUNCE_FAILED,
		 "office@ombudsman.example.eu", "5.2.2", "552 5.2.2 Mailbox full",
		 NULL, "c1.d2@chancery.example.net", NULL},
		{"exim.eml", BOUNCE_FORMAT_EXIM, BOUNCE_FAILED,
		 "info@embassy.example.az", "5.7.1",
		 "550 5.7.1 Mailbox unavailable", NULL,
		 "c1.d3@chancery.example.net", NULL},
		{"exchange.eml", BOUNCE_FORMAT_EXCHANGE, BOUNCE_FAILED,
		 "secretariat@unhcr.example.int", "5.1.10",
		 "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
		 "found by SMTP address lookup",
		 NULL, "c1.d4@chancery.example.net", NULL},
		{"delayed.eml", BOUNCE_FORMAT_DSN, BOUNCE_DELAYED,
		 "press@nhri.example.ge", "4.4.1", "Connection timed out", NULL,
		 NULL, NULL},
		{"delivered.eml", BOUNCE_FORMAT_DSN, BOUNCE_DELIVERED,
		 "contact@diaspora.example.de", "2.0.0", "250 2.0.0 Ok",
		 "chancery-6", "c1.d6@chancery.example.net", "chancery-6"},
		{"unmatched.eml", BOUNCE_FORMAT_DSN, BOUNCE_FAILED,
		 "nobody@unknown.example.com", "5.1.1", "User unknown",
		 "chancery-9999", "c9.d9999@chancery.example.net", NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bounce_report *r = parse_sample(cases[i].file);
		const struct bounce_recipient *rc = &r->recipients[0];

		print_message("%s\n", cases[i].file);
		assert_int_equal(r->format, cases[i].format);
		assert_int_equal(r->nrecipients, 1);
		assert_int_equal(rc->action, cases[i].action);
		assert_opt_str(rc->final_recipient, cases[i].recipient);
		assert_opt_str(rc->status, cases[i].status);
		if (!rc->diagnostic || !strstr(rc->diagnostic, cases[i].diag_part))
			fail_msg("%s: diagnostic '%s' lacks '%s'", cases[i].file,
				 rc->diagnostic ? rc->diagnostic : "(null)",
				 cases[i].diag_part);
		assert_opt_str(r->envid, cases[i].envid);
		assert_opt_str(r->original_message_id, cases[i].msgid);
		assert_opt_str(r->delivery_header, cases[i].delivery_header);
		assert_int_equal(strlen(r->sha256), 64);
		assert_non_null(r->message_id);
		bounce_report_free(r);
	}
}

static void test_parse_dsn_fields(void **state)
{
	char *text = make_dsn(
		1, "Original-Envelope-Id: chancery-4+2Bx",
		"Final-Recipient: RFC822; <A@Example.org>\n"
		"Action: Failed (bad mailbox)\nStatus: 5.1.1\n\n"
		"Final-Recipient: rfc822; b@example.org\n"
		"Original-Recipient: rfc822; alias@example.org\n"
		"Action: relayed\n\n"
		"Final-Recipient: x400; c=az;o=mfa\nAction: expanded\n");
	struct error err = ERROR_INIT;
	struct bounce_report *r = NULL;

	(void)state;
	assert_int_equal(bounce_report_parse(text, strlen(text), &r, &err), 0);
	assert_str(r->envid, "chancery-4+x");
	assert_str(r->message_id, "dsn-1@relay.example.net");
	assert_int_equal(r->nrecipients, 3);
	assert_int_equal(r->recipients[0].action, BOUNCE_FAILED);
	assert_str(r->recipients[0].final_recipient, "A@Example.org");
	assert_null(r->recipients[0].diagnostic);
	assert_int_equal(r->recipients[1].action, BOUNCE_RELAYED);
	assert_str(r->recipients[1].original_recipient, "alias@example.org");
	assert_null(r->recipients[1].status);
	assert_int_equal(r->recipients[2].action, BOUNCE_EXPANDED);
	assert_str(r->recipients[2].final_recipient, "x400; c=az;o=mfa");
	bounce_report_free(r);
	free(text);
}

static void test_parse_dsn_without_per_message_group(void **state)
{
	/* No Reporting-MTA group; a diagnostic with a terminal escape. */
	static const char text[] =
		"From: MAILER-DAEMON@relay.example.net\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status; "
		"boundary=B\n\n"
		"--B\nContent-Type: message/delivery-status\n\n"
		"Final-Recipient: rfc822; a@example.org\nAction: failed\n"
		"Status: 5.0.0\nDiagnostic-Code: smtp; 550 \x1b[31mred\n"
		"--B--\n";
	struct error err = ERROR_INIT;
	struct bounce_report *r = NULL;

	(void)state;
	assert_int_equal(bounce_report_parse(text, strlen(text), &r, &err), 0);
	assert_int_equal(r->nrecipients, 1);
	assert_str(r->recipients[0].final_recipient, "a@example.org");
	assert_str(r->recipients[0].diagnostic, "smtp; 550 ?[31mred");
	assert_null(r->envid);
	assert_null(r->message_id);
	bounce_report_free(r);
}

static void test_parse_rejects_garbage(void **state)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		const char *want;
	} cases[] = {
		{"", 0, "empty input"},
		{"\n\n  \n", 0, "empty input"},
		{"\x7f" "ELF\x02\x01\x01\0\0\0", 10, "NUL bytes"},
		{"just some words, no header at all\n", 0,
		 "no header fields"},
		{"From: a@example.org\nSubject: hello\n\nhi\n", 0,
		 "not a delivery report"},
		{"From: a@example.org\nMIME-Version: 1.0\nContent-Type: "
		 "multipart/report; report-type=disposition-notification; "
		 "boundary=B\n\n--B\nContent-Type: text/plain\n\nread\n--B--\n",
		 0, "type 'disposition-notification' is not a delivery report"},
		{"From: a@example.org\nMIME-Version: 1.0\nContent-Type: "
		 "multipart/report; report-type=delivery-status; boundary=B\n\n"
		 "--B\nContent-Type: text/plain\n\nfailed\n--B--\n",
		 0, "without a message/delivery-status part"},
		{"From: MAILER-DAEMON@x.example\nSubject: Mail delivery failed: "
		 "returning message to sender\n\nSomething went wrong.\n",
		 0, "exim bounce names neither a recipient nor the original"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct bounce_report *r = NULL;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);

		assert_int_equal(
			bounce_report_parse(cases[i].text, len, &r, &err),
			ERR_DATA);
		assert_null(r);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got '%s', wanted '%s'", i, err.msg,
				 cases[i].want);
		assert_null(strchr(err.msg, '\n'));
	}
}

static void test_parse_rejects_bad_dsn(void **state)
{
	static const struct {
		const char *recipients, *want;
	} cases[] = {
		{"Final-Recipient: rfc822; a@example.org\nAction: exploded\n",
		 "unknown Action 'exploded'"},
		{"Final-Recipient: rfc822; a@example.org\nStatus: 5.1.1\n",
		 "without an Action"},
		{"", "names no recipient"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = make_dsn((int)i, "Arrival-Date: today",
				      cases[i].recipients);
		struct error err = ERROR_INIT;
		struct bounce_report *r = NULL;

		assert_int_equal(
			bounce_report_parse(text, strlen(text), &r, &err),
			ERR_DATA);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got '%s', wanted '%s'", i, err.msg,
				 cases[i].want);
		free(text);
	}
}

/* Text bounces built from the shapes the MTAs write, for the cases the
 * sample files do not cover: delay warnings and the older layouts. */
static void test_parse_text_variants(void **state)
{
	static const struct {
		const char *text;
		enum bounce_format format;
		enum bounce_action action;
		const char *recipient, *status, *msgid;
	} cases[] = {
		{"From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
		 "Subject: Delayed Mail (still being retried)\n\n"
		 "This is the mail system at host mx.example.org.\n\n"
		 "<a@example.org>: host mx.example.org[192.0.2.1] said: 451 "
		 "4.3.0\n    try again later (in reply to RCPT TO command)\n\n"
		 "Message-Id: <c1.d1@chancery.example.net>\n",
		 BOUNCE_FORMAT_POSTFIX, BOUNCE_DELAYED, "a@example.org", "4.3.0",
		 "c1.d1@chancery.example.net"},
		{"From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
		 "Subject: Warning: message 1abc-0001-XY delayed 24 hours\n\n"
		 "This message was created automatically by mail delivery "
		 "software.\n\nA message that you sent has not yet been "
		 "delivered to one or more of its\nrecipients after more than "
		 "24 hours on the queue on mx.example.org.\n\n"
		 "The following address(es) have not yet been delivered:\n\n"
		 "  b@example.org\n    host mx.b.example.org [192.0.2.2]: "
		 "Connection timed out\n\nNo action is required on your "
		 "part.\n",
		 BOUNCE_FORMAT_EXIM, BOUNCE_DELAYED, "b@example.org", NULL, NULL},
		{"From: postmaster@old.example.org\n"
		 "Subject: Undeliverable: Statement\n\n"
		 "Your message did not reach some or all of the intended "
		 "recipients.\n\n      Subject:\tStatement\n\n"
		 "The following recipient(s) could not be reached:\n\n"
		 "      c@old.example.org on 10/11/2026 09:00\n"
		 "            The e-mail account does not exist.\n"
		 "            <old.example.org #5.1.1 smtp;550 5.1.1 "
		 "User unknown>\n",
		 BOUNCE_FORMAT_EXCHANGE, BOUNCE_FAILED, "c@old.example.org", NULL,
		 NULL},
		{"From: MAILER-DAEMON@mx.example.org\n"
		 "Subject: Undelivered Mail Returned to Sender\n\n"
		 "<d@example.org> (expanded from <e@example.org>): host "
		 "mx.example.org[192.0.2.1] said: 550 Mailbox unavailable, "
		 "version 2.5.1.2 (in reply to RCPT TO command)\n",
		 BOUNCE_FORMAT_POSTFIX, BOUNCE_FAILED, "d@example.org", "5.0.0",
		 NULL},
		{"From: MAILER-DAEMON@x.example.org\n"
		 "Subject: Mail delivery failed: returning message to sender\n\n"
		 "------ This is a copy of the message's headers. ------\n\n"
		 "Subject: Statement\nX-Chancery-Delivery: chancery-3\n",
		 BOUNCE_FORMAT_EXIM, BOUNCE_FAILED, NULL, NULL, NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct bounce_report *r = NULL;

		if (bounce_report_parse(cases[i].text, strlen(cases[i].text),
					&r, &err))
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(r->format, cases[i].format);
		assert_int_equal(r->nrecipients, 1);
		assert_int_equal(r->recipients[0].action, cases[i].action);
		assert_opt_str(r->recipients[0].final_recipient,
			       cases[i].recipient);
		assert_opt_str(r->recipients[0].status, cases[i].status);
		assert_opt_str(r->original_message_id, cases[i].msgid);
		bounce_report_free(r);
	}
}

/* Every prefix of every sample either parses or is refused with ERR_DATA
 * (run under the sanitizers, this is the cheap cousin of a fuzzer). */
static void test_parse_truncated_samples(void **state)
{
	static const char *const files[] = {
		"dsn-failed.eml", "postfix.eml", "exim.eml", "exchange.eml",
		"delayed.eml", "delivered.eml", "unmatched.eml", "garbage.eml",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct sbuf sb = SBUF_INIT;

		read_sample(files[i], &sb);
		for (size_t len = 0; len <= sb.len; len += 5) {
			struct error err = ERROR_INIT;
			struct bounce_report *r = NULL;
			int rc = bounce_report_parse(sb.buf, len, &r, &err);

			if (rc != 0 && rc != ERR_DATA)
				fail_msg("%s[..%zu]: %d %s", files[i], len, rc,
					 err.msg);
			assert_true(rc == 0 ? r != NULL : r == NULL);
			bounce_report_free(r);
		}
		sbuf_release(&sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_samples),
		cmocka_unit_test(test_parse_dsn_fields),
		cmocka_unit_test(test_parse_dsn_without_per_message_group),
		cmocka_unit_test(test_parse_rejects_garbage),
		cmocka_unit_test(test_parse_rejects_bad_dsn),
		cmocka_unit_test(test_parse_text_variants),
		cmocka_unit_test(test_parse_truncated_samples),
	};
	return cmocka_run_group_tests_name("bounce_report", tests, NULL, NULL);
}
