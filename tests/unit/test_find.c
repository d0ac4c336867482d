#include <stdlib.h>
#include <string.h>

#include "chancery/find.h"
#include "chancery/mime.h"
#include "chancery/registry.h"
#include "testutil.h"

/* What each search finds first, and how many matches it has. */
static void test_find_ranks(void **state)
{
	static const struct {
		const char *text;
		const char *kind, *field, *match, *rank;
		size_t n;
	} cases[] = {
		{"OHCHR", "body", "acronym", "OHCHR", "exact_acronym", 1},
		{"ohchr", "body", "acronym", "OHCHR", "exact_acronym", 1},
		{"haut-commissariat aux droits de l'homme", "alias", "alias",
		 "Haut-Commissariat aux droits de l'Homme", "exact", 1},
		{"HAUT COMMISSARIAT", "alias", "alias",
		 "Haut-Commissariat aux droits de l'Homme", "prefix", 1},
		{"defensoria", "body", "name", "Defensoría del Pueblo", "prefix",
		 1},
		{"DEFENSORÍA DEL PUEBLO", "body", "name", "Defensoría del Pueblo",
		 "exact", 1},
		{"pueblo", "body", "name", "Defensoría del Pueblo", "prefix", 1},
		{"ueblo", "body", "name", "Defensoría del Pueblo", "substring",
		 1},
		{"nunez", "contact", "name", "José Núñez", "prefix", 1},
		{"info@xn--mnchen-3ya.de", "contact", "email", "info@münchen.de",
		 "exact", 1},
		{"rights", "body", "name", "Office of the High Commissioner for "
		 "Human Rights", "prefix", 1},
		{"zzz", NULL, NULL, NULL, NULL, 0},
	};
	struct test_db t;
	int64_t ohchr, dpe, cid;

	(void)state;
	mime_init();
	test_db_open(&t);
	assert_int_equal(registry_body_add(t.db, "OHCHR", "Office of the High "
					   "Commissioner for Human Rights",
					   "un-agency", NULL, NULL, &ohchr,
					   NULL), 0);
	assert_int_equal(registry_alias_add(t.db, ohchr, "Haut-Commissariat "
					    "aux droits de l'Homme", "manual",
					    NULL), 0);
	assert_int_equal(registry_body_add(t.db, "DPE", "Defensoría del Pueblo",
					   "ombudsman", "ES", NULL, &dpe,
					   NULL), 0);
	assert_int_equal(registry_contact_add(t.db, dpe, "info@münchen.de",
					      "José Núñez", NULL, NULL, &cid,
					      NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct find_result r = {0};
		struct error err = ERROR_INIT;

		if (find_search(t.db, cases[i].text, 0, &r, &err))
			fail_msg("'%s': %s", cases[i].text, err.msg);
		if (r.n != cases[i].n)
			fail_msg("'%s': %zu matches, want %zu", cases[i].text,
				 r.n, cases[i].n);
		if (r.n && (strcmp(r.v[0].kind, cases[i].kind) ||
			    strcmp(r.v[0].field, cases[i].field) ||
			    strcmp(r.v[0].text, cases[i].match) ||
			    strcmp(find_rank_name(r.v[0].rank), cases[i].rank)))
			fail_msg("'%s': got %s %s '%s' %s, want %s %s '%s' %s",
				 cases[i].text, r.v[0].kind, r.v[0].field,
				 r.v[0].text, find_rank_name(r.v[0].rank),
				 cases[i].kind, cases[i].field, cases[i].match,
				 cases[i].rank);
		find_result_release(&r);
	}
	test_db_close(&t);
}

static void test_find_refuses_nothing_to_search(void **state)
{
	static const char *const texts[] = {"", "-", "  ", "..."};
	struct test_db t;

	(void)state;
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct find_result r = {0};
		struct error err = ERROR_INIT;
		int rc = find_search(t.db, texts[i], 0, &r, &err);

		if (rc != ERR_USAGE || !strstr(err.msg, "nothing to search for"))
			fail_msg("'%s': rc %d '%s', want ERR_USAGE", texts[i],
				 rc, err.msg);
	}
	test_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_ranks),
		cmocka_unit_test(test_find_refuses_nothing_to_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
