/*
 * import: CSV validation (every bad row reported, nothing written),
 * idempotent re-import, export/import round trip, and the seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/import.h"
#include "chancery/list.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "testutil.h"

#define HEADER "acronym,name,kind,country,notes,aliases,email,contact_name," \
	       "role,language,status\n"

/* Everything an import may change, as one comparable string. */
static char *db_state(struct db *db)
{
	static const char *const tables[] = {
		"bodies", "aliases", "contacts", "lists", "list_members",
		"list_rules", "events",
	};
	struct sbuf s = SBUF_INIT;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char sql[64];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		sbuf_addf(&s, "%s=%lld ", tables[i],
			  (long long)test_query_int(db, sql));
	}
	return sbuf_detach(&s, NULL);
}

static int import_text(struct db *db, const char *text, struct sbuf *problems,
		       struct import_stats *st, struct error *err)
{
	return import_csv(db, "t.csv", text, strlen(text), "csv", problems, st,
			  err);
}

static void test_every_bad_row_is_reported(void **state)
{
	static const char text[] =
		HEADER
		"UNSG,Secretary-General of the United Nations,un-organ,,,,"
		"unsg@example.org,,,en,active\n"               /* 2 ok */
		"XX,Some Body,planet,,,,,,,,\n"                /* 3 kind */
		"YY,Other Body,ngo,Azerbaidjan,,,,,,,\n"       /* 4 country */
		"ZZ,,ngo,,,,,,,,\n"                            /* 5 name */
		"AA,Body A,ngo,,,,not-an-address,,,,\n"        /* 6 email */
		"BB,Body B,ngo,,,,,Mr B,,,\n"                  /* 7 contact */
		"CC,Body C,ngo,,,,c@example.org,,,englisch,\n" /* 8 language */
		"DD,Body D,ngo,,,,d@example.org,,,,gone\n"     /* 9 status */
		"UNSG,UN Secretary-General,un-organ,,,,,,,,\n" /* 10 differs */
		"EE,Body E,ngo\n"                              /* 11 fields */
		"UNSG,Secretary-General of the United Nations,un-organ,,,,"
		"UNSG@example.org,,,,\n"                       /* 12 dup email */
		"has space,Body F,ngo,,,,,,,,\n";              /* 13 acronym */
	static const char *const want[] = {
		"t.csv:3: column 'kind': 'planet' is not a kind (one of",
		"t.csv:4: column 'country': 'Azerbaidjan' is not a country "
		"(an ISO 3166 code like 'FR' or an English name like 'France')",
		"t.csv:5: column 'name': empty",
		"t.csv:6: column 'email': ",
		"t.csv:7: column 'email': empty, but the row names a contact",
		"t.csv:8: column 'language': 'englisch' is not a language (a "
		"BCP 47 tag like 'fr' or 'fr-CH', or an English name like "
		"'French')",
		"t.csv:9: column 'status': 'gone'",
		"t.csv:10: column 'name': differs from line 2",
		"t.csv:11: row: has 3 fields, expected 11",
		"t.csv:12: column 'email': 'UNSG@example.org' is already given "
		"at line 2",
		"t.csv:13: column 'acronym': 'has space'",
	};
	struct test_db t;
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;
	char *before, *after;

	(void)state;
	test_db_open(&t);
	before = db_state(t.db);
	assert_int_equal(import_text(t.db, text, &problems, NULL, &err),
			 ERR_DATA);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(problems.buf, want[i]))
			fail_msg("missing '%s' in:\n%s", want[i], problems.buf);
	assert_non_null(strstr(err.msg, "11 bad rows"));
	after = db_state(t.db);
	assert_str(after, before);
	free(before);
	free(after);
	sbuf_release(&problems);
	test_db_close(&t);
}

static void test_bad_files(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"", "t.csv:1: header: the file is empty"},
		{"acronym,name\nUNSG,x\n", "t.csv:1: header: expected"},
		{HEADER "UNSG,\"Secretary,un-organ,,,,,,,,\n", "t.csv:2: unterminated quoted field"},
		{HEADER "UNSG,Secretary \xc3\x28,un-organ,,,,,,,,\n",
		 "file: invalid UTF-8"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_db t;
		struct sbuf problems = SBUF_INIT;
		struct error err = ERROR_INIT;

		test_db_open(&t);
		assert_int_equal(import_text(t.db, cases[i].text, &problems,
					     NULL, &err), ERR_DATA);
		if (!strstr(problems.buf, cases[i].want))
			fail_msg("case %zu: want '%s' in '%s'", i,
				 cases[i].want, problems.buf);
		assert_int_equal(test_query_int(t.db,
						"SELECT count(*) FROM bodies"), 0);
		sbuf_release(&problems);
		test_db_close(&t);
	}
}

static void test_rows_of_one_body_and_reimport(void **state)
{
	static const char text[] =
		HEADER
		"IPB,International Peace Bureau,ngo,,,Bureau international "
		"de la paix,ipb@example.org,Secretariat,office,en,active\n"
		"IPB,International Peace Bureau,ngo,,,IPB Geneva,"
		"press@example.net,,press,fr,disabled\n"
		",Embassy of Azerbaijan in France,embassy,AZ,,Azerbaijani "
		"embassy in Paris,,,,,\n";
	struct test_db t;
	struct import_stats st = {0};
	struct error err = ERROR_INIT;
	char *once, *twice;

	(void)state;
	test_db_open(&t);
	if (import_text(t.db, text, NULL, &st, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(st.rows, 3);
	assert_int_equal(st.bodies_added, 2);
	assert_int_equal(st.contacts_added, 2);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM contacts "
					      "WHERE status = 'disabled'"), 1);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies "
					      "WHERE country = 'AZ' AND "
					      "kind = 'embassy'"), 1);
	once = db_state(t.db);
	memset(&st, 0, sizeof(st));
	if (import_text(t.db, text, NULL, &st, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(st.bodies_added + st.bodies_changed + st.aliases_added +
			 st.contacts_added + st.contacts_changed, 0);
	twice = db_state(t.db);
	assert_str(twice, once);
	free(once);
	free(twice);
	test_db_close(&t);
}

static void test_changed_file_updates(void **state)
{
	struct test_db t;
	struct import_stats st = {0};
	struct error err = ERROR_INIT;

	(void)state;
	test_db_open(&t);
	assert_int_equal(import_text(t.db, HEADER "IPB,International Peace "
				     "Bureau,other,,,,,,,,\n", NULL, &st, &err), 0);
	assert_int_equal(import_text(t.db, HEADER "IPB,International Peace "
				     "Bureau,ngo,CH,,,,,,,\n", NULL, &st, &err), 0);
	assert_int_equal(st.bodies_changed, 1);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies "
					      "WHERE kind = 'ngo' AND "
					      "country = 'CH'"), 1);
	test_db_close(&t);
}

static const char contacts_csv[] =
	HEADER
	"UNSG,Secretary-General of the United Nations,un-organ,,,,"
	"sg@example.org,\"Office, Executive\",office,en,active\n"
	"UNSG,Secretary-General of the United Nations,un-organ,,,,"
	"old@example.org,,,,disabled\n"
	"IPB,International Peace Bureau,ngo,CH,\"notes with \"\"quotes\"\"\","
	"Bureau international de la paix|M\xc3\xbcv\xc9\x99kkil,"
	"ipb@example.net,,,fr,bouncing\n";

static void test_seed_and_round_trip(void **state)
{
	struct test_db a, b;
	struct import_stats st = {0};
	struct error err = ERROR_INIT;
	struct sbuf out_a = SBUF_INIT, out_b = SBUF_INIT;
	char *before, *after;

	(void)state;
	test_db_open(&a);
	test_db_open(&b);
	if (import_seed(a.db, &st, &err))
		fail_msg("seed: %s", err.msg);
	assert_true(st.bodies_added >= 20);
	assert_int_equal(st.lists_created, 5);
	/* no address is shipped */
	assert_int_equal(test_query_int(a.db, "SELECT count(*) FROM contacts"),
			 0);
	/* contacts of every status take part in the round trip below */
	if (import_csv(a.db, "c.csv", contacts_csv, strlen(contacts_csv), "csv",
		       NULL, NULL, &err))
		fail_msg("contacts: %s", err.msg);
	/* seeding again changes nothing */
	before = db_state(a.db);
	memset(&st, 0, sizeof(st));
	assert_int_equal(import_seed(a.db, &st, &err), 0);
	assert_int_equal(st.bodies_added + st.aliases_added + st.lists_created,
			 0);
	after = db_state(a.db);
	assert_str(after, before);
	free(after);
	/* export, import elsewhere, export again: the same text */
	assert_int_equal(import_export_csv(a.db, &out_a, &err), 0);
	if (import_csv(b.db, "export.csv", out_a.buf, out_a.len, "csv", NULL,
		       NULL, &err))
		fail_msg("re-import: %s", err.msg);
	assert_int_equal(import_export_csv(b.db, &out_b, &err), 0);
	assert_str(out_b.buf, out_a.buf);
	/* and importing its own export changes nothing */
	assert_int_equal(import_csv(a.db, "export.csv", out_a.buf, out_a.len,
				    "csv", NULL, NULL, &err), 0);
	after = db_state(a.db);
	assert_str(after, before);
	free(before);
	free(after);
	sbuf_release(&out_a);
	sbuf_release(&out_b);
	test_db_close(&a);
	test_db_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_bad_row_is_reported),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_rows_of_one_body_and_reimport),
		cmocka_unit_test(test_changed_file_updates),
		cmocka_unit_test(test_seed_and_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
