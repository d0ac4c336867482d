/* Tests of anniversary: ordinals, elapsed years, dates as written. */
#include <stdio.h>
#include <string.h>

#include "chancery/anniversary.h"
#include "testutil.h"

/* Every ordinal from 1 to 125, written out (not computed) so that the
 * table cannot share a mistake with the code. */
static void test_ordinals_1_to_125(void **state)
{
	static const char *const want[125] = {
		"1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th",
		"9th", "10th", "11th", "12th", "13th", "14th", "15th", "16th",
		"17th", "18th", "19th", "20th", "21st", "22nd", "23rd", "24th",
		"25th", "26th", "27th", "28th", "29th", "30th", "31st", "32nd",
		"33rd", "34th", "35th", "36th", "37th", "38th", "39th", "40th",
		"41st", "42nd", "43rd", "44th", "45th", "46th", "47th", "48th",
		"49th", "50th", "51st", "52nd", "53rd", "54th", "55th", "56th",
		"57th", "58th", "59th", "60th", "61st", "62nd", "63rd", "64th",
		"65th", "66th", "67th", "68th", "69th", "70th", "71st", "72nd",
		"73rd", "74th", "75th", "76th", "77th", "78th", "79th", "80th",
		"81st", "82nd", "83rd", "84th", "85th", "86th", "87th", "88th",
		"89th", "90th", "91st", "92nd", "93rd", "94th", "95th", "96th",
		"97th", "98th", "99th", "100th", "101st", "102nd", "103rd", "104th",
		"105th", "106th", "107th", "108th", "109th", "110th", "111th", "112th",
		"113th", "114th", "115th", "116th", "117th", "118th", "119th", "120th",
		"121st", "122nd", "123rd", "124th", "125th",
	};
	char buf[32];

	(void)state;
	for (int n = 1; n <= 125; n++) {
		anniversary_ordinal(n, buf, sizeof(buf));
		if (strcmp(buf, want[n - 1]) != 0)
			fail_msg("ordinal %d: got '%s', want '%s'", n, buf,
				 want[n - 1]);
	}
}

static void test_ordinals_beyond(void **state)
{
	static const struct {
		int n;
		const char *want;
	} cases[] = {
		{0, "0th"},       {211, "211th"},   {212, "212th"},
		{213, "213th"},   {221, "221st"},   {1001, "1001st"},
		{1011, "1011th"}, {1111, "1111th"}, {-1, "-1st"},
		{-12, "-12th"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		anniversary_ordinal(cases[i].n, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("ordinal %d: got '%s', want '%s'",
				 cases[i].n, buf, cases[i].want);
	}
}

static void test_years(void **state)
{
	static const struct {
		int event, year, want;
	} cases[] = {
		{1992, 2025, 33}, {1992, 2018, 26}, {1992, 1993, 1},
		{1992, 1992, 0},  {1990, 2026, 36}, {2000, 1999, -1},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(anniversary_years(cases[i].event,
						   cases[i].year),
				 cases[i].want);
}

static void test_format_date(void **state)
{
	static const struct {
		int y, m, d;
		const char *want;
	} cases[] = {
		{2025, 2, 26, "26 February 2025"}, {1992, 2, 26, "26 February 1992"},
		{2026, 1, 1, "1 January 2026"},    {1990, 1, 20, "20 January 1990"},
		{2024, 12, 31, "31 December 2024"}, {2024, 3, 9, "9 March 2024"},
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		anniversary_format_date(cases[i].y, cases[i].m, cases[i].d, buf,
					sizeof(buf));
		assert_str(buf, cases[i].want);
	}
}

static void test_parse_date(void **state)
{
	static const struct {
		const char *s;
		int ok, y, m, d;
	} cases[] = {
		{"1992-02-26", 1, 1992, 2, 26}, {"2024-02-29", 1, 2024, 2, 29},
		{"2000-02-29", 1, 2000, 2, 29}, {"1900-02-29", 0, 0, 0, 0},
		{"2025-02-29", 0, 0, 0, 0},     {"2025-13-01", 0, 0, 0, 0},
		{"2025-04-31", 0, 0, 0, 0},     {"2025-4-1", 0, 0, 0, 0},
		{"26.02.1992", 0, 0, 0, 0},     {"1992-02-26x", 0, 0, 0, 0},
		{"", 0, 0, 0, 0},               {"0000-01-01", 0, 0, 0, 0},
		{"+992-02-26", 0, 0, 0, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int y = 0, m = 0, d = 0;
		int rc = anniversary_parse_date(cases[i].s, &y, &m, &d);

		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': got %d, want %s", cases[i].s, rc,
				 cases[i].ok ? "accepted" : "refused");
		if (cases[i].ok) {
			assert_int_equal(y, cases[i].y);
			assert_int_equal(m, cases[i].m);
			assert_int_equal(d, cases[i].d);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinals_1_to_125),
		cmocka_unit_test(test_ordinals_beyond),
		cmocka_unit_test(test_years),
		cmocka_unit_test(test_format_date),
		cmocka_unit_test(test_parse_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
