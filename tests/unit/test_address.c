#include <stdlib.h>
#include <string.h>

#include "chancery/address.h"
#include "chancery/sbuf.h"
#include "testutil.h"

/* 63 and 64 letters, for the label and local-part limits. */
#define L63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define L64 L63 "a"
/* Domains of 252 and 254 bytes: three 63-byte labels and one more. */
#define D189 L63 "." L63 "." L63 "."
#define B60 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define D252 D189 B60
#define D254 D189 B60 "bb"

/*
 * Every address case: what goes in, the canonical form that comes out (or
 * NULL when refused) and, when refused, a fragment of the one-line error.
 */
static const struct {
	const char *addr;
	const char *canonical;
	const char *error;
} cases[] = {
	{"unsg@example.org", "unsg@example.org", NULL},
	{"first.last+statement@mission.example.co.uk",
	 "first.last+statement@mission.example.co.uk", NULL},
	{"info@ombudsman.gov.az", "info@ombudsman.gov.az", NULL},
	{"Office@Example.ORG", "Office@Example.ORG", NULL}, /* ASCII kept */
	{"o'brien&co=x@example.org", "o'brien&co=x@example.org", NULL},
	/* IDN: U-labels and A-labels are one mailbox, stored in Unicode. */
	{"ombudsman@müvəkkil.az", "ombudsman@müvəkkil.az", NULL},
	{"info@münchen.de", "info@münchen.de", NULL},
	{"info@xn--mnchen-3ya.de", "info@münchen.de", NULL},
	{"info@XN--MNCHEN-3YA.DE", "info@münchen.de", NULL},
	{"info@MÜNCHEN.de", "info@münchen.de", NULL}, /* UTS #46 maps case */
	{"office@bücher.example", "office@bücher.example", NULL},
	{"user@[192.0.2.1]", "user@[192.0.2.1]", NULL},
	{"user@[IPv6:2001:db8::1]", "user@[IPv6:2001:db8::1]", NULL},
	{L64 "@example.org", L64 "@example.org", NULL},
	{"x@" L63 ".org", "x@" L63 ".org", NULL},
	{"x@" D252, "x@" D252, NULL},
	/* Refused, each with its reason. */
	{"", NULL, "empty e-mail address"},
	{"bad", NULL, "not a valid e-mail address (no '@')"},
	{"a@b", NULL, "'b' is not a full host name"},
	{"@example.org", NULL, "nothing before '@'"},
	{"user@", NULL, "nothing after '@'"},
	{"a@b@example.org", NULL, "more than one '@'"},
	{"two@example.org, three@example.org", NULL,
	 "not a valid e-mail address"},
	{"Name <name@example.org>", NULL, "not a valid e-mail address"},
	{"user@-example.org", NULL, "'-example' starts or ends with '-'"},
	{"user@example-.org", NULL, "'example-' starts or ends with '-'"},
	{"user@exa mple.org", NULL, "not a valid e-mail address"},
	{"user@example..org", NULL, "an empty label"},
	{"user@example.org.", NULL, "an empty label"},
	{".user@example.org", NULL, "starts or ends with '.'"},
	{"us..er@example.org", NULL, "two in a row"},
	{"müvəkkil@example.org", NULL, "non-ASCII local part needs SMTPUTF8"},
	{"user@example.org\r\nBcc: x@evil.example", NULL, "control character"},
	{"user@localhost", NULL, "'localhost' is not a full host name"},
	{"\"john doe\"@example.org", NULL, "quoted local parts"},
	{"o@ex%ample.org", NULL, "the domain holds '%'"},
	{"o@ex_ample.org", NULL, "the domain holds '_'"},
	{"o@exämple%.org", NULL, "not a valid internationalised name"},
	{"o[x]@example.org", NULL, "the local part holds '['"},
	{L64 "a@example.org", NULL, "local part is 65 bytes, more than the 64"},
	{"x@" L64 ".org", NULL, "is 64 bytes, more than 63"},
	{"x@" D254, NULL, "the domain is 254 bytes, more than the 253"},
	{"xy@" D252, NULL, "255 bytes on the wire, more than 254"},
	{"info@xn--zz.de", NULL, "not a valid internationalised name"},
	{"info@xn--ls8h.example", NULL, "not a valid internationalised name"},
	{"user@[192.0.2]", NULL, "not an IPv4 or [IPv6:...] address"},
	{"user@[nonsense]", NULL, "not an IPv4 or [IPv6:...] address"},
};

static void test_address_canonical(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		char *out = NULL;
		int rc = address_canonical(cases[i].addr, &out, &err);
		int check = address_check(cases[i].addr, NULL);

		if ((rc == 0) != (cases[i].canonical != NULL))
			fail_msg("'%s': got %s (%s), want %s", cases[i].addr,
				 rc ? "refused" : "accepted", err.msg,
				 cases[i].canonical ? "accepted" : "refused");
		if (check != rc)
			fail_msg("'%s': address_check says %d, canonical %d",
				 cases[i].addr, check, rc);
		if (rc == 0 && strcmp(out, cases[i].canonical) != 0)
			fail_msg("'%s': canonical form '%s', want '%s'",
				 cases[i].addr, out, cases[i].canonical);
		if (rc) {
			assert_int_equal(rc, ERR_DATA);
			assert_null(out);
			if (!strstr(err.msg, cases[i].error))
				fail_msg("'%s': error '%s', want it to say "
					 "'%s'", cases[i].addr, err.msg,
					 cases[i].error);
			if (strchr(err.msg, '\n'))
				fail_msg("'%s': error is not one line",
					 cases[i].addr);
		}
		free(out);
	}
}

/* The A-label form for the envelope, from either spelling. */
static void test_address_ascii(void **state)
{
	static const struct {
		const char *addr, *want;
	} ascii[] = {
		{"ombudsman@müvəkkil.az", "ombudsman@xn--mvkkil-3ya70z.az"},
		{"info@münchen.de", "info@xn--mnchen-3ya.de"},
		{"info@xn--mnchen-3ya.de", "info@xn--mnchen-3ya.de"},
		{"plain@example.org", "plain@example.org"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++) {
		char *a = address_ascii(ascii[i].addr);

		if (!a || strcmp(a, ascii[i].want) != 0)
			fail_msg("'%s': ascii '%s', want '%s'", ascii[i].addr,
				 a ? a : "(null)", ascii[i].want);
		free(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_canonical),
		cmocka_unit_test(test_address_ascii),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
