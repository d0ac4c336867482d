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

static int import_opts(struct db *db, const char *text,
		       const struct import_options *opt,
		       struct import_plan *plan, struct error *err)
{
	import_plan_release(plan);
	return import_csv_plan(db, "t.csv", text, strlen(text), opt, plan,
			       NULL, err);
}

/* The plan as text, one item a line. */
static char *plan_text(const struct import_plan *plan)
{
	struct sbuf s = SBUF_INIT;

	for (size_t i = 0; i < plan->count; i++) {
		import_item_format(&plan->items[i], &s);
		sbuf_addch(&s, '\n');
	}
	return sbuf_detach(&s, NULL);
}

static void want_in(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("want '%s' in:\n%s", want, text);
}

/* A differing kind or country is kept and listed; --update applies it;
 * --dry-run lists the same and changes nothing. */
static void test_changed_file_kept_unless_update(void **state)
{
	static const char changed[] =
		HEADER "IPB,International Peace Bureau,ngo,CH,,,,,,,\n";
	struct import_options opt = {.source = "csv"};
	struct import_plan plan = {0};
	struct test_db t;
	struct error err = ERROR_INIT;
	char *before, *after, *text;

	(void)state;
	test_db_open(&t);
	assert_int_equal(import_opts(t.db, HEADER "IPB,International Peace "
				     "Bureau,other,,,,,,,,\n", &opt, &plan,
				     &err), 0);
	before = db_state(t.db);
	assert_int_equal(import_opts(t.db, changed, &opt, &plan, &err), 0);
	assert_int_equal(plan.stats.bodies_changed, 0);
	assert_int_equal(plan.stats.kept, 2);
	text = plan_text(&plan);
	want_in(text, "line 2: body IPB: kept kind 'other' (the file says "
		"'ngo'; --update applies it)");
	want_in(text, "line 2: body IPB: kept country '' (the file says 'CH'");
	free(text);
	opt.update = true;
	opt.dry_run = true;
	assert_int_equal(import_opts(t.db, changed, &opt, &plan, &err), 0);
	assert_false(plan.applied);
	text = plan_text(&plan);
	want_in(text, "line 2: body IPB: changed kind 'other' → 'ngo'");
	want_in(text, "line 2: body IPB: changed country '' → 'CH'");
	free(text);
	after = db_state(t.db);
	assert_str(after, before);
	free(after);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies "
					      "WHERE kind = 'other'"), 1);
	opt.dry_run = false;
	assert_int_equal(import_opts(t.db, changed, &opt, &plan, &err), 0);
	assert_true(plan.applied);
	assert_int_equal(plan.stats.bodies_changed, 1);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies "
					      "WHERE kind = 'ngo' AND "
					      "country = 'CH'"), 1);
	free(before);
	import_plan_release(&plan);
	test_db_close(&t);
}

static void test_status_moves_only_toward_less_sending(void **state)
{
	static const struct {
		enum registry_contact_status from, to;
		bool reactivate;
		enum import_action want;
	} cases[] = {
		{CONTACT_ACTIVE, CONTACT_ACTIVE, false, IMPORT_UNCHANGED},
		{CONTACT_ACTIVE, CONTACT_SUPPRESSED, false, IMPORT_CHANGED},
		{CONTACT_ACTIVE, CONTACT_DISABLED, false, IMPORT_CHANGED},
		{CONTACT_ACTIVE, CONTACT_BOUNCING, false, IMPORT_CHANGED},
		{CONTACT_BOUNCING, CONTACT_SUPPRESSED, false, IMPORT_CHANGED},
		{CONTACT_DISABLED, CONTACT_SUPPRESSED, false, IMPORT_CHANGED},
		{CONTACT_SUPPRESSED, CONTACT_ACTIVE, false, IMPORT_KEPT},
		{CONTACT_BOUNCING, CONTACT_ACTIVE, false, IMPORT_KEPT},
		{CONTACT_DISABLED, CONTACT_ACTIVE, false, IMPORT_KEPT},
		{CONTACT_SUPPRESSED, CONTACT_DISABLED, false, IMPORT_KEPT},
		{CONTACT_DISABLED, CONTACT_BOUNCING, false, IMPORT_KEPT},
		{CONTACT_SUPPRESSED, CONTACT_ACTIVE, true, IMPORT_CHANGED},
		{CONTACT_BOUNCING, CONTACT_ACTIVE, true, IMPORT_CHANGED},
		{CONTACT_SUPPRESSED, CONTACT_SUPPRESSED, true, IMPORT_UNCHANGED},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum import_action got = import_status_move(
			cases[i].from, cases[i].to, cases[i].reactivate);

		if (got != cases[i].want)
			fail_msg("case %zu: %s -> %s%s: got %d, want %d", i,
				 registry_contact_status_name(cases[i].from),
				 registry_contact_status_name(cases[i].to),
				 cases[i].reactivate ? " (reactivate)" : "",
				 got, cases[i].want);
	}
}

static void test_item_format(void **state)
{
	static const struct {
		struct import_item it;
		const char *want;
	} cases[] = {
		{{IMPORT_ADDED, 3, "body", "NEW", NULL, NULL, NULL, NULL, NULL,
		  NULL}, "line 3: body NEW: added"},
		{{IMPORT_ADDED, 4, "alias", "IPB", NULL, NULL, NULL, "IPB Gen",
		  NULL, NULL}, "line 4: body IPB: added alias 'IPB Gen'"},
		{{IMPORT_ADDED, 5, "contact", "IPB", "a@b.org", "status", NULL,
		  "suppressed", NULL, NULL},
		 "line 5: contact a@b.org of IPB: added (status suppressed)"},
		{{IMPORT_CHANGED, 6, "body", "OHCHR", NULL, "name", "Office",
		  "OHCHR", NULL, NULL},
		 "line 6: body OHCHR: changed name 'Office' → 'OHCHR'"},
		{{IMPORT_KEPT, 7, "contact", "UNSG", "sg@un.org", "status",
		  "suppressed", "active", "--reactivate", NULL},
		 "line 7: contact sg@un.org of UNSG: kept status suppressed "
		 "(the file says active; --reactivate applies it)"},
		{{IMPORT_KEPT, 7, "contact", "UNSG", "old@un.org", "status",
		  "removed", NULL, "--reactivate", NULL},
		 "line 7: contact old@un.org of UNSG: kept removed (the file "
		 "names it; --reactivate adds it back)"},
		{{IMPORT_KEPT, 7, "contact", "UNSG", "b@un.org", "status",
		  "bouncing", NULL, NULL, NULL},
		 "line 7: contact b@un.org of UNSG: kept status bouncing (the "
		 "file's status cell is empty)"},
		{{IMPORT_KEPT, 8, "body", "ICRC", NULL, "country", NULL, "AZ",
		  "--update", NULL},
		 "line 8: body ICRC: kept country '' (the file says 'AZ'; "
		 "--update applies it)"},
		{{IMPORT_CONFLICT, 9, "body", "HRC", NULL, NULL, NULL, NULL,
		  NULL, "'HRC' matches 2 bodies"},
		 "line 9: body HRC: conflict: 'HRC' matches 2 bodies"},
		/* a file's escape sequence is shown, not played */
		{{IMPORT_CHANGED, 10, "body", "X", NULL, "notes", NULL,
		  "a\nb\x1b[2J", NULL, NULL},
		 "line 10: body X: changed notes '' → 'a\\x0ab\\x1b[2J'"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf s = SBUF_INIT;

		import_item_format(&cases[i].it, &s);
		if (strcmp(s.buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, s.buf,
				 cases[i].want);
		sbuf_release(&s);
	}
}

/* An address book writing HRC for UNHRC, whose alias it uses as the
 * name, finds UNHRC; a name two bodies answer to is a conflict that
 * refuses the whole file. */
static void test_match_by_alias_and_conflict(void **state)
{
	struct import_options opt = {.source = "csv"};
	struct import_plan plan = {0};
	struct test_db t;
	struct error err = ERROR_INIT;
	int64_t id;
	char *before, *after, *text;

	(void)state;
	test_db_open(&t);
	assert_int_equal(registry_body_add(t.db, "UNHRC", "United Nations "
					   "Human Rights Council", "un-organ",
					   NULL, NULL, &id, &err), 0);
	assert_int_equal(registry_alias_add(t.db, id, "Human Rights Council",
					    "manual", &err), 0);
	assert_int_equal(import_opts(t.db, HEADER "HRC,Human Rights Council,"
				     "un-organ,,,,hrc@example.org,,,,\n",
				     &opt, &plan, &err), 0);
	assert_int_equal(plan.stats.bodies_added, 0);
	assert_int_equal(plan.stats.contacts_added, 1);
	text = plan_text(&plan);
	want_in(text, "line 2: body UNHRC: kept acronym 'UNHRC' (the file "
		"says 'HRC'; --update applies it)");
	want_in(text, "line 2: contact hrc@example.org of UNHRC: added");
	free(text);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM bodies"),
			 1);
	/* a second body answering to the name makes it ambiguous */
	assert_int_equal(registry_body_add(t.db, "HRCTTEE", "Human Rights "
					   "Committee", "un-organ", NULL, NULL,
					   &id, &err), 0);
	assert_int_equal(registry_alias_add(t.db, id, "Human Rights Council",
					    "manual", &err), 0);
	before = db_state(t.db);
	assert_int_equal(import_opts(t.db, HEADER "NEW,New Body,ngo,,,,,,,,\n"
				     "HRC,Human Rights Council,un-organ,,,,,,,,"
				     "\n", &opt, &plan, &err), ERR_DATA);
	want_in(err.msg, "t.csv:3: 'HRC' matches 2 bodies: UNHRC, HRCTTEE");
	assert_int_equal(plan.stats.conflicts, 1);
	after = db_state(t.db);
	assert_str(after, before);
	free(before);
	free(after);
	import_plan_release(&plan);
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
		cmocka_unit_test(test_changed_file_kept_unless_update),
		cmocka_unit_test(test_status_moves_only_toward_less_sending),
		cmocka_unit_test(test_item_format),
		cmocka_unit_test(test_match_by_alias_and_conflict),
		cmocka_unit_test(test_seed_and_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
