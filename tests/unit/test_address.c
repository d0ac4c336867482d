#include <stdlib.h>
#include <string.h>

#include "chancery/address.h"
#include "chancery/mime.h"
#include "testutil.h"

static void test_address_check(void **state)
{
	static const struct {
		const char *addr;
		int ok;
	} cases[] = {
		{"unsg@example.org", 1},
		{"first.last+statement@mission.example.co.uk", 1},
		{"info@ombudsman.gov.az", 1},
		{"ombudsman@müvəkkil.az", 1}, /* IDN domain: sent as punycode */
		{"user@[192.0.2.1]", 1},
		{"", 0},
		{"bad", 0},
		{"a@b", 0},
		{"@example.org", 0},
		{"user@", 0},
		{"two@example.org, three@example.org", 0},
		{"Name <name@example.org>", 0},
		{"user@-example.org", 0},
		{"user@example-.org", 0},
		{"user@exa mple.org", 0},
		{"müvəkkil@example.org", 0}, /* no SMTPUTF8 */
		{"user@example.org\r\nBcc: x@evil.example", 0},
		{"user@localhost", 0},
	};

	(void)state;
	mime_init();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		int rc = address_check(cases[i].addr, &err);

		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': got %s (%s), want %s", cases[i].addr,
				 rc ? "refused" : "accepted", err.msg,
				 cases[i].ok ? "accepted" : "refused");
		if (rc)
			assert_int_equal(rc, ERR_DATA);
	}
}

static void test_address_ascii(void **state)
{
	char *a;

	(void)state;
	mime_init();
	a = address_ascii("ombudsman@müvəkkil.az");
	assert_non_null(a);
	assert_non_null(strstr(a, "@xn--"));
	free(a);
	a = address_ascii("plain@example.org");
	assert_str(a, "plain@example.org");
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_check),
		cmocka_unit_test(test_address_ascii),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
