/*
 * Tests of protocol: which running name and salutation a message gets in
 * a language, the fallbacks and the reason the plan shows, and the rows
 * the setters write (and refuse to write).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/protocol.h"
#include "chancery/registry.h"
#include "testutil.h"

static void test_salutation_fallbacks(void **state)
{
	static const struct {
		const char *kind, *lang, *want, *reason;
	} cases[] = {
		/* the contact's own, exact or by primary subtag */
		{"embassy", "en", "Dear Ambassador", ""},
		{"embassy", NULL, "Dear Ambassador", ""},
		{"embassy", "fr", "Madame l'Ambassadrice", ""},
		{"embassy", "fr-CH", "Madame l'Ambassadrice", ""},
		/* the kind's default */
		{"embassy", "ru", "Ваше Превосходительство",
		 "no salutation in ru: the default for embassy"},
		{"embassy", "ar", "صاحب السعادة",
		 "no salutation in ar: the default for embassy"},
		/* neither: neutral, never a name */
		{"embassy", "az", "Hörmətli xanımlar və cənablar",
		 "no salutation in az and no default for embassy: neutral"},
		{"un-organ", "ru", "Уважаемые дамы и господа",
		 "no salutation in ru and no default for un-organ: neutral"},
		{"un-organ", "ja", "Dear Sir or Madam",
		 "no salutation in ja and no default for un-organ: neutral"},
	};
	struct test_db t;
	struct error err = ERROR_INIT;
	int64_t body_id, contact_id;

	(void)state;
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry_body b = {0};
		struct protocol_forms p;
		struct protocol_salutation s;
		char name[32];

		snprintf(name, sizeof(name), "Body %zu", i);
		assert_int_equal(registry_body_add(t.db, NULL, name,
						   cases[i].kind, NULL, NULL,
						   &body_id, &err), 0);
		assert_int_equal(registry_contact_add(t.db, body_id,
						      "office@example.org",
						      "Office of Body", NULL,
						      NULL, &contact_id, &err),
				 0);
		if (strcmp(cases[i].want, "Dear Ambassador") == 0 ||
		    strstr(cases[i].want, "Ambassadrice")) {
			assert_int_equal(protocol_salutation_set(
				t.db, contact_id, "en", "Dear Ambassador",
				NULL, &err), 0);
			assert_int_equal(protocol_salutation_set(
				t.db, contact_id, "fr",
				"Madame l'Ambassadrice", NULL, &err), 0);
		}
		assert_int_equal(registry_body_get(t.db, body_id, &b, &err), 0);
		assert_int_equal(protocol_forms_load(t.db, &b, contact_id, &p,
						     &err), 0);
		protocol_salutation(&p, &b, NULL, cases[i].lang, &s);
		if (strcmp(s.text, cases[i].want) != 0 ||
		    s.fell_back != (*cases[i].reason != '\0') ||
		    strcmp(s.reason, cases[i].reason) != 0)
			fail_msg("case %zu: got '%s' (%d, '%s'), want '%s' "
				 "('%s')", i, s.text, s.fell_back, s.reason,
				 cases[i].want, cases[i].reason);
		protocol_forms_release(&p);
		registry_body_release(&b);
	}
	test_db_close(&t);
}

static void test_running_names(void **state)
{
	static const struct {
		const char *lang, *want;
	} cases[] = {
		{NULL, "the United Nations Security Council"},
		{"en", "the United Nations Security Council"},
		{"EN", "the United Nations Security Council"},
		{"fr", "le Conseil de sécurité des Nations Unies"},
		{"fr-CA", "le Conseil de sécurité des Nations Unies"},
		{"ru", "United Nations Security Council"}, /* the name */
	};
	struct test_db t;
	struct error err = ERROR_INIT;
	struct registry_body b = {0};
	struct protocol_forms p;
	int64_t id;
	bool changed;

	(void)state;
	test_db_open(&t);
	assert_int_equal(registry_body_add(t.db, "UNSC",
					   "United Nations Security Council",
					   "un-organ", NULL, NULL, &id, &err),
			 0);
	assert_int_equal(protocol_running_name_set(t.db, id, NULL,
		"the United Nations Security Council", &changed, &err), 0);
	assert_true(changed);
	assert_int_equal(protocol_running_name_set(t.db, id, "fr",
		"le Conseil de sécurité des Nations Unies", &changed, &err),
			 0);
	assert_int_equal(protocol_running_name_set(t.db, id, "FR",
		"le Conseil de sécurité des Nations Unies", &changed, &err),
			 0);
	assert_false(changed); /* same text, the tag as ICU writes it */
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM "
					"body_running_names"), 2);
	assert_int_equal(registry_body_get(t.db, id, &b, &err), 0);
	assert_int_equal(protocol_forms_load(t.db, &b, 0, &p, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(protocol_running_name(&p, &b, cases[i].lang),
			   cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i,
				 protocol_running_name(&p, &b, cases[i].lang),
				 cases[i].want);
	/* without forms at all: the name, and the neutral greeting */
	assert_str(protocol_running_name(NULL, &b, "fr"),
		   "United Nations Security Council");
	protocol_forms_release(&p);

	/* refused: nothing written */
	assert_int_equal(protocol_running_name_set(t.db, id, "xx-!!", "x",
						   NULL, &err), ERR_DATA);
	assert_int_equal(protocol_running_name_set(t.db, id, "en", "a\nb",
						   NULL, &err), ERR_DATA);
	assert_int_equal(protocol_running_name_set(t.db, 999, "en", "x",
						   NULL, &err), ERR_NOTFOUND);
	assert_int_equal(protocol_default_set(t.db, "palace", "en", "x", NULL,
					      &err), ERR_DATA);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM "
					"body_running_names"), 2);
	/* removal */
	assert_int_equal(protocol_running_name_set(t.db, id, "fr", "",
						   &changed, &err), 0);
	assert_true(changed);
	assert_int_equal(test_query_int(t.db, "SELECT count(*) FROM "
					"body_running_names"), 1);
	registry_body_release(&b);
	test_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_salutation_fallbacks),
		cmocka_unit_test(test_running_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
