#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uloc.h>

#include "chancery/locale_names.h"
#include "testutil.h"

/* What ICU's data gives for what a clerk writes; NULL: refused. */
static void test_country(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"FR", "FR"},
		{"fr", "FR"},
		{"France", "FR"},
		{"france", "FR"},
		{"  FRANCE ", "FR"}, /* spaces are shifted away */
		{"Azerbaijan", "AZ"},
		{"AZE", "AZ"},
		{"United Kingdom", "GB"},
		{"united kingdom", "GB"},
		{"UK", "GB"},
		{"United States", "US"},
		{"Côte d’Ivoire", "CI"},
		{"Cote d'Ivoire", "CI"},
		{"cote divoire", "CI"},
		{"Ivory Coast", "CI"},
		{"Myanmar", "MM"},
		{"Myanmar (Burma)", "MM"},
		{"Czech Republic", "CZ"},
		{"Czechia", "CZ"},
		{"Türkiye", "TR"},
		{"Switzerland", "CH"},
		{"Frankreich", NULL},
		{"Azerbaidjan", NULL},
		{"ZZ", NULL},
		{"XX", NULL},
		{"F", NULL},
		{"", NULL},
		{"---", NULL},
		{"'", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char code[3] = "";
		bool ok = locale_country_parse(cases[i].text, code);

		if (ok != (cases[i].want != NULL) ||
		    (ok && strcmp(code, cases[i].want)))
			fail_msg("case %zu '%s': got %s, want %s", i,
				 cases[i].text, ok ? code : "(refused)",
				 cases[i].want ? cases[i].want : "(refused)");
	}
}

static void test_language(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"fr", "fr"},
		{"FR", "fr"},
		{"fr-CH", "fr-CH"},
		{"fr-ch", "fr-CH"},
		{"az-latn-az", "az-Latn-AZ"},
		{"zh-Hant", "zh-Hant"},
		{"fil", "fil"},
		{"French", "fr"},
		{"french", "fr"},
		{"Azerbaijani", "az"},
		{"Azeri", "az"},
		{"Russian", "ru"},
		{"Chinese", "zh"},
		{"Arabic", "ar"},
		{"English", "en"},
		{"Français", NULL},
		{"xx", NULL},
		{"zzz", NULL},
		{"fr_CH", NULL},
		{"e", NULL},
		{"und", NULL},
		{"", NULL},
		{"fr-", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *tag = locale_language_parse(cases[i].text);

		if ((tag != NULL) != (cases[i].want != NULL) ||
		    (tag && strcmp(tag, cases[i].want)))
			fail_msg("case %zu '%s': got %s, want %s", i,
				 cases[i].text, tag ? tag : "(refused)",
				 cases[i].want ? cases[i].want : "(refused)");
		free(tag);
	}
}

/* ';' where ICU's data has a decimal comma for the default locale. */
static void test_list_separator(void **state)
{
	static const struct {
		const char *locale;
		char want;
	} cases[] = {
		{"en_US", ','}, {"en_GB", ','}, {"de_DE", ';'}, {"fr_FR", ';'},
		{"ru_RU", ';'}, {"az_AZ", ';'}, {"de_CH", ','}, {"ja_JP", ','},
	};
	char saved[64];
	UErrorCode st = U_ZERO_ERROR;

	(void)state;
	snprintf(saved, sizeof(saved), "%s", uloc_getDefault());
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got;

		uloc_setDefault(cases[i].locale, &st);
		got = locale_list_separator();
		if (got != cases[i].want)
			fail_msg("%s: got '%c', want '%c'", cases[i].locale,
				 got, cases[i].want);
	}
	uloc_setDefault(saved, &st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_language),
		cmocka_unit_test(test_list_separator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
