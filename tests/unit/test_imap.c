/*
 * Tests of imap's parsing: mailbox URLs (what is refused and why, and
 * that a password in a refused URL is not repeated), the literal a
 * response line announces, SEARCH answers and response codes. The
 * session itself is tested against a real Dovecot (test_imap.py).
 */
#include <stdlib.h>
#include <string.h>

#include "chancery/imap.h"
#include "testutil.h"

static void test_url_parse(void **state)
{
	static const struct {
		const char *url;
		const char *host, *mailbox, *base; /* NULL host: refused */
		int port;
		bool tls;
		const char *why;
	} cases[] = {
		{"imaps://mail.example.org/INBOX", "mail.example.org", "INBOX",
		 "imaps://mail.example.org:993/", 993, true, NULL},
		{"imaps://mail.example.org", "mail.example.org", "INBOX",
		 "imaps://mail.example.org:993/", 993, true, NULL},
		{"imap://127.0.0.1:1143/Bounces", "127.0.0.1", "Bounces",
		 "imap://127.0.0.1:1143/", 1143, false, NULL},
		{"imaps://h.example/Reports%20In", "h.example", "Reports In",
		 "imaps://h.example:993/", 993, true, NULL},
		{"imaps://h.example/Lists/Bounces", "h.example", "Lists/Bounces",
		 "imaps://h.example:993/", 993, true, NULL},
		{"https://h.example/INBOX", NULL, NULL, NULL, 0, false,
		 "not imap:// or imaps://"},
		{"imaps://bob@h.example/INBOX", NULL, NULL, NULL, 0, false,
		 "a user or password in the URL"},
		{"imaps://bob:hunter2@h.example/INBOX", NULL, NULL, NULL, 0,
		 false, "a user or password in the URL"},
		{"imaps://h.example/INBOX;UID=4", NULL, NULL, NULL, 0, false,
		 "URL parameters"},
		{"imaps://h.example/INBOX?x=1", NULL, NULL, NULL, 0, false,
		 "a query or fragment"},
		{"imaps://h.example/Caf%C3%A9", NULL, NULL, NULL, 0, false,
		 "outside printable ASCII"},
		{"imaps://h.example/A%0D%0AB", NULL, NULL, NULL, 0, false,
		 "does not decode"},
		{"imaps://h.example/A\nB", NULL, NULL, NULL, 0, false,
		 "'imaps://h.example/A?B': not a URL"},
		{"", NULL, NULL, NULL, 0, false, "empty"},
		{"not a url", NULL, NULL, NULL, 0, false, "not"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct error err = ERROR_INIT;
		struct imap_url u;
		int rc = imap_url_parse(cases[i].url, &u, &err);

		if (!cases[i].host) {
			if (rc != ERR_CONFIG || !strstr(err.msg, cases[i].why))
				fail_msg("%s: got %d '%s', wanted ERR_CONFIG "
					 "with '%s'", cases[i].url, rc, err.msg,
					 cases[i].why);
			if (strstr(err.msg, "hunter2"))
				fail_msg("%s: the password is in '%s'",
					 cases[i].url, err.msg);
			continue;
		}
		if (rc)
			fail_msg("%s: refused: %s", cases[i].url, err.msg);
		assert_str(u.host, cases[i].host);
		assert_str(u.mailbox, cases[i].mailbox);
		assert_str(u.base, cases[i].base);
		assert_int_equal(u.port, cases[i].port);
		assert_int_equal(u.implicit_tls, cases[i].tls);
		imap_url_release(&u);
	}
}

static void test_literal_size(void **state)
{
	static const struct {
		const char *line;
		long long want;
	} cases[] = {
		{"* 2 FETCH (UID 2 BODY[] {81}", 81},
		{"* 2 FETCH (UID 2 BODY[] {0}", 0},
		{"* 2 FETCH (UID 2 BODY[] {123+}", 123},
		{"* OK [UIDVALIDITY 1] UIDs valid", -1},
		{"* 2 FETCH (BODY[] {}", -1},
		{"* 2 FETCH (BODY[] {1x}", -1},
		{"}", -1},
		{"{99999999999999999999999}", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long got = imap_literal_size(cases[i].line,
						  strlen(cases[i].line));

		if (got != cases[i].want)
			fail_msg("'%s': got %lld, wanted %lld", cases[i].line,
				 got, cases[i].want);
	}
}

static void test_parse_search(void **state)
{
	static const struct {
		const char *line;
		int rc;
		size_t n;
		uint32_t uids[4];
	} cases[] = {
		{"* SEARCH", 0, 0, {0}},
		{"* SEARCH ", 0, 0, {0}},
		{"* SEARCH 7", 0, 1, {7}},
		{"* SEARCH 9 3 7", 0, 3, {3, 7, 9}},
		{"* search 4294967295", 0, 1, {4294967295u}},
		{"* SEARCH 4294967296", -1, 0, {0}},
		{"* SEARCH 0", -1, 0, {0}},
		{"* SEARCH 3 x", -1, 0, {0}},
		{"* SEARCHES 3", -1, 0, {0}},
		{"* 3 EXISTS", -1, 0, {0}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t *uids;
		size_t n;
		int rc = imap_parse_search(cases[i].line, &uids, &n);

		if (rc != cases[i].rc || n != cases[i].n)
			fail_msg("'%s': got rc %d and %zu UIDs, wanted %d and "
				 "%zu", cases[i].line, rc, n, cases[i].rc,
				 cases[i].n);
		for (size_t j = 0; j < n; j++)
			if (uids[j] != cases[i].uids[j])
				fail_msg("'%s': UID %zu is %u, wanted %u",
					 cases[i].line, j, uids[j],
					 cases[i].uids[j]);
		free(uids);
	}
}

static void test_response_code(void **state)
{
	static const struct {
		const char *line, *name;
		uint32_t want;
	} cases[] = {
		{"* OK [UIDVALIDITY 1796316791] UIDs valid", "UIDVALIDITY",
		 1796316791u},
		{"* OK [UIDNEXT 3] Predicted next UID", "UIDVALIDITY", 0},
		{"* OK [UIDVALIDITY x] bad", "UIDVALIDITY", 0},
		{"* OK [UIDVALIDITY 99999999999] too big", "UIDVALIDITY", 0},
		{"* NO [UIDVALIDITY 5] not OK", "UIDVALIDITY", 0},
		{"* OK [UIDVALIDITYX 5]", "UIDVALIDITY", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = imap_response_code(cases[i].line, cases[i].name);

		if (got != cases[i].want)
			fail_msg("'%s': got %u, wanted %u", cases[i].line, got,
				 cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_literal_size),
		cmocka_unit_test(test_parse_search),
		cmocka_unit_test(test_response_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
