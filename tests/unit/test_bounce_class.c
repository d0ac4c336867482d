/*
 * bounce_classify: the table of docs/bounces.md, row by row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce_report.h"
#include "testutil.h"

#define F BOUNCE_FAILED
#define D BOUNCE_DELAYED

static void test_classify(void **state)
{
	static const struct {
		const char *status, *diag;
		enum bounce_action action;
		enum bounce_class want;
	} cases[] = {
		/* the action decides first */
		{"4.4.1", "Connection timed out", D, BOUNCE_CLASS_TEMPORARY},
		{"5.1.1", "user unknown", D, BOUNCE_CLASS_TEMPORARY},
		{"2.0.0", "250 ok", BOUNCE_DELIVERED, BOUNCE_CLASS_UNKNOWN},
		{"2.0.0", NULL, BOUNCE_RELAYED, BOUNCE_CLASS_UNKNOWN},
		{"5.1.1", NULL, BOUNCE_EXPANDED, BOUNCE_CLASS_UNKNOWN},
		/* specific codes */
		{"5.1.1", NULL, F, BOUNCE_CLASS_ADDRESS},
		{"5.1.2", NULL, F, BOUNCE_CLASS_ADDRESS},
		{"5.1.3", NULL, F, BOUNCE_CLASS_ADDRESS},
		{"5.1.6", NULL, F, BOUNCE_CLASS_ADDRESS},
		{"5.1.10", NULL, F, BOUNCE_CLASS_ADDRESS},
		{"5.1.8", "sender domain unknown", F, BOUNCE_CLASS_POLICY},
		{"5.2.1", NULL, F, BOUNCE_CLASS_MAILBOX},
		{"5.2.2", NULL, F, BOUNCE_CLASS_MAILBOX},
		{"5.2.3", NULL, F, BOUNCE_CLASS_MESSAGE},
		{"5.3.4", NULL, F, BOUNCE_CLASS_MESSAGE},
		{"5.4.4", NULL, F, BOUNCE_CLASS_ADDRESS},
		{"5.4.7", NULL, F, BOUNCE_CLASS_EXPIRED},
		{"5.7.1", NULL, F, BOUNCE_CLASS_POLICY},
		{"5.7.13", NULL, F, BOUNCE_CLASS_MAILBOX},
		{"5.7.26", "DMARC policy", F, BOUNCE_CLASS_POLICY},
		/* an explicit specific code beats a phrase */
		{"5.7.1", "Mailbox unavailable or access denied", F,
		 BOUNCE_CLASS_POLICY},
		{"5.1.1", "blocked: user unknown", F, BOUNCE_CLASS_ADDRESS},
		{"5.2.2", "spam folder full", F, BOUNCE_CLASS_MAILBOX},
		/* a phrase beats a generic code */
		{"5.0.0", "550 Requested action not taken: mailbox unavailable",
		 F, BOUNCE_CLASS_ADDRESS},
		{"5.0.0", "554 Client host blocked using zen.spamhaus.org", F,
		 BOUNCE_CLASS_POLICY},
		{"5.0.0", "Message rejected: SPF check failed", F,
		 BOUNCE_CLASS_POLICY},
		{"5.0.0", "listed at bl.example.org", F, BOUNCE_CLASS_POLICY},
		{"5.0.0", "571 No PTR Record found. Reverse DNS required", F,
		 BOUNCE_CLASS_POLICY},
		{"5.0.0", "551 access forbidden by invalid RDNS record", F,
		 BOUNCE_CLASS_POLICY},
		{"5.0.0", "550 Unroutable sender address", F,
		 BOUNCE_CLASS_POLICY},
		{"5.0.0", "552 mailbox full", F, BOUNCE_CLASS_MAILBOX},
		{"5.0.0", "quota exceeded", F, BOUNCE_CLASS_MAILBOX},
		{"5.0.0", "Message too large", F, BOUNCE_CLASS_MESSAGE},
		{"5.0.0", "No Such User Here", F, BOUNCE_CLASS_ADDRESS},
		{"5.0.0", "The account does not exist", F, BOUNCE_CLASS_ADDRESS},
		{"5.0.0", "retry time exceeded", F, BOUNCE_CLASS_EXPIRED},
		{"5.0.0", "Connection timed out", F, BOUNCE_CLASS_EXPIRED},
		{"5.4.1", "Recipient address rejected: Access denied", F,
		 BOUNCE_CLASS_ADDRESS},
		{"5.5.0", "mailbox unavailable", F, BOUNCE_CLASS_ADDRESS},
		{"5.1.0", "Sender denied", F, BOUNCE_CLASS_POLICY},
		{NULL, "User not listed in public Name & Address Book", F,
		 BOUNCE_CLASS_ADDRESS},
		/* a phrase whose first byte is not ASCII */
		{NULL, "\xe3\x83\x87\xe3\x82\xa3\xe3\x83\xac\xe3\x82\xaf"
		       "\xe3\x83\x88\xe3\x83\xaa\xe3\x81\xae\xe3\x83\xaa"
		       "\xe3\x82\xb9\xe3\x83\x88\xe3\x81\xab\xe3\x81\x82"
		       "\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93",
		 F, BOUNCE_CLASS_ADDRESS},
		{NULL, "the group may not exist, or you may not have permission "
		       "to post messages to the group",
		 F, BOUNCE_CLASS_POLICY},
		{NULL, "This user doesn't have a yahoo.com account", F,
		 BOUNCE_CLASS_ADDRESS},
		/* a generic code, no phrase: the subject's default */
		{"5.0.0", "Administrative prohibition", F, BOUNCE_CLASS_UNKNOWN},
		{"5.1.0", NULL, F, BOUNCE_CLASS_UNKNOWN},
		{"5.2.0", NULL, F, BOUNCE_CLASS_MAILBOX},
		{"5.6.0", NULL, F, BOUNCE_CLASS_MESSAGE},
		{"5.7.0", NULL, F, BOUNCE_CLASS_POLICY},
		{"5.4.6", NULL, F, BOUNCE_CLASS_UNKNOWN},
		{NULL, NULL, F, BOUNCE_CLASS_UNKNOWN},
		{"garbage", NULL, F, BOUNCE_CLASS_UNKNOWN},
		/* a temporary code on a failure: given up, never address */
		{"4.0.0", NULL, F, BOUNCE_CLASS_EXPIRED},
		{"4.1.1", "user unknown", F, BOUNCE_CLASS_EXPIRED},
		{"4.2.2", "mailbox full", F, BOUNCE_CLASS_MAILBOX},
		{"4.4.7", NULL, F, BOUNCE_CLASS_EXPIRED},
		/* a null MX is the domain refusing all mail, even under 4.x */
		{"4.0.0", "The domain example.org doesn't receive email "
			  "according to the administrator: returned Null MX",
		 F, BOUNCE_CLASS_ADDRESS},
		{"4.0.0", "returned Null MX", D, BOUNCE_CLASS_TEMPORARY},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum bounce_class got = bounce_classify(
			cases[i].status, cases[i].diag, cases[i].action);

		if (got != cases[i].want)
			fail_msg("case %zu (%s, %s, %s): got %s, wanted %s", i,
				 cases[i].status ? cases[i].status : "NULL",
				 cases[i].diag ? cases[i].diag : "NULL",
				 bounce_action_name(cases[i].action),
				 bounce_class_name(got),
				 bounce_class_name(cases[i].want));
	}
}

static void test_class_names(void **state)
{
	(void)state;
	for (int c = 0; c < BOUNCE_CLASS_COUNT; c++) {
		enum bounce_class back;
		const char *name = bounce_class_name((enum bounce_class)c);

		assert_non_null(name);
		assert_int_equal(bounce_class_parse(name, &back), 0);
		assert_int_equal(back, c);
	}
	assert_null(bounce_class_name(BOUNCE_CLASS_COUNT));
	assert_int_equal(bounce_class_parse("Address", &(enum bounce_class){0}),
			 -1);
	for (int f = 0; f < BOUNCE_FORMAT_COUNT; f++) {
		enum bounce_format back;
		const char *name = bounce_format_name((enum bounce_format)f);

		assert_non_null(name);
		assert_int_equal(bounce_format_parse(name, &back), 0);
		assert_int_equal(back, f);
	}
	assert_null(bounce_format_name(BOUNCE_FORMAT_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_class_names),
	};
	return cmocka_run_group_tests_name("bounce_class", tests, NULL, NULL);
}
