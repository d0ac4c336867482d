/*
 * Tests of locale_format: the exact strings ICU 72 (Debian 12) writes for
 * ordinals and dates in en, fr, ru, az, tr and ar, the cache, and the
 * template variables a render gets in a variant's language.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/anniversary.h"
#include "chancery/locale_format.h"
#include "chancery/mustache.h"
#include "chancery/protocol.h"
#include "chancery/template.h"
#include "testutil.h"

static void test_ordinals(void **state)
{
	static const struct {
		const char *lang;
		int n;
		const char *form;
		bool spelled;
		const char *want;
	} cases[] = {
		{NULL, 34, NULL, false, "34th"},
		{"en", 33, "", false, "33rd"},
		{"en", 34, "feminine_genitive", false, "34th"},
		{"en", 34, NULL, true, "thirty-fourth"},
		{"en", 1000, NULL, false, "1,000th"},
		{"en", -1, NULL, false, "-1st"},
		{"fr", -1, "feminine", false, "-1re"},
		{"en-US", 1, NULL, false, "1st"},
		{"fr", 34, NULL, false, "34e"},
		{"fr", 1, NULL, false, "1er"},
		{"fr", 1, "masculine", false, "1er"},
		{"fr", 1, "feminine", false, "1re"},
		{"fr", 1, "feminine_plural", false, "1res"}, /* ICU has it */
		{"fr", 1, "feminine_genitive", false, "1re"}, /* no such case */
		{"fr", 34, NULL, true, "trente-quatrième"},
		{"fr", 1, "feminine", true, "première"},
		{"fr", 1, "masculine", true, "premier"},
		{"ru", 34, NULL, false, "34."},
		{"ru", 34, "masculine", false, "34-й"},
		{"ru", 34, "feminine", false, "34-я"},
		{"ru", 34, "neuter", false, "34-е"},
		{"ru", 34, "masculine_genitive", false, "34-го"},
		{"ru", 34, "feminine_accusative", false, "34-ю"},
		{"ru", 34, "feminine_ablative", false, "34-й"},
		{"ru", 34, "plural_ablative", false, "34-ми"},
		{"ru", 34, NULL, true, "тридцать четвертый"},
		{"ru", 34, "feminine", true, "тридцать четвертая"},
		{"ru", 34, "feminine_genitive", true, "тридцать четвертой"},
		{"ru", 34, "feminine_ablative", true, "тридцать четвертой"},
		{"ru", 34, "masculine_dative", true, "тридцать четвертому"},
		{"az", 34, NULL, false, "34'inci"},
		{"az", 34, NULL, true, "otuz dördüncü"},
		{"az", 34, "feminine", true, "otuz dördüncü"},
		{"tr", 34, NULL, false, "34."},
		{"tr", 34, NULL, true, "otuz dördüncü"},
		{"ar", 34, NULL, false, "٣٤."},
		{"ar", 34, NULL, true, "الرابع والثلاثون"},
		{"ar", 34, "feminine", true, "الرابعة والثلاثون"},
		{"ar-u-nu-latn", 34, NULL, false, "34."},
		{"ar-MA", 34, NULL, false, "34."},
	};
	struct error err = ERROR_INIT;
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (locale_format_ordinal(cases[i].lang, cases[i].n,
					  cases[i].form, cases[i].spelled, buf,
					  sizeof(buf), &err))
			fail_msg("case %zu: %s", i, err.msg);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu (%s %d %s%s): got '%s', want '%s'",
				 i, cases[i].lang ? cases[i].lang : "NULL",
				 cases[i].n, cases[i].form ? cases[i].form : "",
				 cases[i].spelled ? " spelled" : "", buf,
				 cases[i].want);
	}
}

/* ICU's English is the hand-written table's, -120 to 999 (from 1000
 * ICU groups the digits: "1,000th", see test_ordinals). */
static void test_english_unchanged(void **state)
{
	struct error err = ERROR_INIT;
	char icu[64], hand[64];

	(void)state;
	for (int n = -120; n < 1000; n++) {
		anniversary_ordinal(n, hand, sizeof(hand));
		assert_int_equal(locale_format_ordinal(NULL, n, NULL, false,
						       icu, sizeof(icu), &err),
				 0);
		if (strcmp(icu, hand) != 0)
			fail_msg("%d: ICU '%s', table '%s'", n, icu, hand);
	}
	for (int m = 1; m <= 12; m++) {
		anniversary_format_date(1992, m, 26, hand, sizeof(hand));
		assert_int_equal(locale_format_date("en", 1992, m, 26, icu,
						    sizeof(icu), &err), 0);
		if (strcmp(icu, hand) != 0)
			fail_msg("month %d: ICU '%s', table '%s'", m, icu,
				 hand);
	}
}

static void test_dates(void **state)
{
	static const struct {
		const char *lang;
		int y, m, d;
		const char *want;
	} cases[] = {
		{NULL, 1992, 2, 26, "26 February 1992"},
		{"en", 2026, 2, 1, "1 February 2026"},
		{"en-US", 1992, 2, 26, "February 26, 1992"},
		{"fr", 1992, 2, 26, "26 février 1992"},
		{"fr", 2026, 2, 1, "1 février 2026"},
		{"ru", 1992, 2, 26, "26 февраля 1992\u202fг." /* narrow no-break space */},
		{"az", 1992, 2, 26, "26 fevral 1992"},
		{"tr", 1992, 2, 26, "26 Şubat 1992"},
		{"ar", 1992, 2, 26, "٢٦ فبراير ١٩٩٢"},
		{"ar-MA", 1992, 2, 26, "26 فبراير 1992"},
		{"ar-u-nu-latn", 1992, 2, 26, "26 فبراير 1992"},
		/* the Gregorian calendar, not the Persian one */
		{"fa", 1992, 2, 26, "۲۶ فوریهٔ ۱۹۹۲"},
		{"fr", 1, 1, 1, "1 janvier 1"},
		{"fr", 9999, 12, 31, "31 décembre 9999"},
	};
	struct error err = ERROR_INIT;
	char buf[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (locale_format_date(cases[i].lang, cases[i].y, cases[i].m,
				       cases[i].d, buf, sizeof(buf), &err))
			fail_msg("case %zu: %s", i, err.msg);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu (%s): got '%s', want '%s'", i,
				 cases[i].lang ? cases[i].lang : "NULL", buf,
				 cases[i].want);
	}
	assert_int_equal(locale_format_date("fr", 1992, 2, 30, buf,
					    sizeof(buf), &err), ERR_DATA);
}

static void test_rtl_and_rulesets(void **state)
{
	static const struct {
		const char *lang;
		bool rtl;
	} cases[] = {
		{NULL, false}, {"en", false}, {"fr", false}, {"ru", false},
		{"ar", true},  {"ar-MA", true}, {"he", true}, {"fa", true},
		{"ur", true},  {"az", false}, {"az-Arab", true},
	};
	struct error err = ERROR_INIT;
	struct sbuf sets = SBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (locale_format_rtl(cases[i].lang) != cases[i].rtl)
			fail_msg("%s: got rtl=%d", cases[i].lang,
				 !cases[i].rtl);
	assert_int_equal(locale_format_rulesets("fr", false, &sets, &err), 0);
	assert_str(sets.buf, "%digits-ordinal-masculine\n"
			     "%digits-ordinal-feminine\n"
			     "%digits-ordinal-masculine-plural\n"
			     "%digits-ordinal-feminine-plural\n"
			     "%digits-ordinal\n");
	sbuf_reset(&sets);
	assert_int_equal(locale_format_rulesets("tr", true, &sets, &err), 0);
	assert_str(sets.buf, "%spellout-numbering-year\n%spellout-numbering\n"
			     "%spellout-cardinal\n%spellout-ordinal\n");
	sbuf_release(&sets);
}

/* What a template sees in a variant's language, for a campaign on
 * 2026-02-26 about an event of 1992-02-26. */
static void test_context(void **state)
{
	static const struct {
		const char *lang, *path, *want;
	} cases[] = {
		{NULL, "campaign.date", "26 February 2026"},
		{NULL, "event.date", "26 February 1992"},
		{NULL, "anniversary.ordinal", "34th"},
		{NULL, "anniversary.ordinal_feminine", "34th"},
		{NULL, "anniversary.ordinal_spelled", "thirty-fourth"},
		{NULL, "anniversary.years", "34"},
		{NULL, "anniversary.year", "2026"},
		{"fr", "campaign.date", "26 février 2026"},
		{"fr", "event.date", "26 février 1992"},
		{"fr", "anniversary.ordinal", "34e"},
		{"fr", "anniversary.ordinal_spelled_feminine",
		 "trente-quatrième"},
		{"ru", "event.date", "26 февраля 1992\u202fг." /* narrow no-break space */},
		{"ru", "anniversary.ordinal_feminine", "34-я"},
		{"ru", "anniversary.ordinal_feminine_genitive", "34-й"},
		{"ru", "anniversary.ordinal_spelled_feminine_ablative",
		 "тридцать четвертой"},
		{"az", "anniversary.ordinal", "34'inci"},
		{"tr", "event.date", "26 Şubat 1992"},
		{"ar", "anniversary.ordinal", "٣٤."},
		{"ar", "event.date", "٢٦ فبراير ١٩٩٢"},
		{"ar", "anniversary.years", "34"},
	};
	struct registry_body body = {.id = 1, .name = "Embassy of France",
				     .kind = "embassy"};
	struct registry_contact contact = {.id = 1, .email = "a@example.org",
					   .name = "Embassy of France"};
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct render_context ctx = {
			.body = &body, .contact = &contact,
			.campaign_name = "c", .send_at = 1772107200, /* 2026-02-26 12:00 */
			.tz = "UTC", .event_date = "1992-02-26",
			.lang = cases[i].lang};
		struct tvalue *root = NULL;
		const struct tvalue *v;
		const char *dot = strchr(cases[i].path, '.');
		char head[32];

		if (template_context_build(&ctx, &root, &err))
			fail_msg("case %zu: %s", i, err.msg);
		snprintf(head, sizeof(head), "%.*s",
			 (int)(dot - cases[i].path), cases[i].path);
		v = tvalue_get(root, head);
		v = v ? tvalue_get(v, dot + 1) : NULL;
		if (!v || v->kind != TVALUE_STRING ||
		    strcmp(v->string, cases[i].want) != 0)
			fail_msg("case %zu (%s %s): got '%s', want '%s'", i,
				 cases[i].lang ? cases[i].lang : "NULL",
				 cases[i].path,
				 v && v->kind == TVALUE_STRING ? v->string
							       : "(none)",
				 cases[i].want);
		tvalue_free(root);
	}
}

/* Every name the module fills is one a template may use. */
static void test_variables_known(void **state)
{
	(void)state;
	for (size_t i = 0; locale_format_variables[i]; i++) {
		bool found = false;

		for (size_t j = 0; template_variables[j] && !found; j++)
			found = strcmp(template_variables[j],
				       locale_format_variables[i]) == 0;
		if (!found)
			fail_msg("%s is not in template_variables",
				 locale_format_variables[i]);
	}
	/* 1 plain + 24 forms, digits and spelled */
	assert_null(locale_format_forms[25]);
}

/* The cache keeps one formatter per language: formatting again after
 * clearing it gives the same strings. */
static void test_cache(void **state)
{
	struct error err = ERROR_INIT;
	char a[64], b[64];

	(void)state;
	for (int round = 0; round < 40; round++) {
		char lang[16];

		/* more languages than the cache holds: it starts over */
		snprintf(lang, sizeof(lang), "%s", round % 2 ? "fr" :
			 (const char *[]){"de", "es", "it", "pt", "nl", "sv",
					  "pl", "cs", "da", "fi", "el", "hu",
					  "ro", "bg", "sk", "sl", "et", "lv",
					  "lt", "hr"}[round / 2]);
		assert_int_equal(locale_format_ordinal(lang, 34, NULL, false,
						       a, sizeof(a), &err), 0);
	}
	assert_int_equal(locale_format_ordinal("fr", 1, "feminine", false, a,
					       sizeof(a), &err), 0);
	locale_format_cache_clear();
	assert_int_equal(locale_format_ordinal("fr", 1, "feminine", false, b,
					       sizeof(b), &err), 0);
	assert_str(a, b);
	assert_str(b, "1re");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinals),
		cmocka_unit_test(test_english_unchanged),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_rtl_and_rulesets),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_variables_known),
		cmocka_unit_test(test_cache),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	locale_format_cache_clear();
	return rc;
}
