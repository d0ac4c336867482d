#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <assert.h>

#include "chancery/anniversary.h"
#include "chancery/calendar.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Local wall times to UTC, including the DST change days. */
static void test_to_utc(void **state)
{
	static const struct {
		const char *zone, *local;
		int64_t want;
		const char *why;
	} cases[] = {
		{"Asia/Baku", "2025-02-25 10:00", 1740463200, "+04, no DST"},
		{"Asia/Baku", "2015-02-25 10:00", 1424844000, "+04 in winter"},
		{"UTC", "2024-06-01 12:00", 1717243200, "UTC"},
		{"Europe/Paris", "2024-03-31 01:59", 1711846740, "before the gap"},
		{"Europe/Paris", "2024-03-31 02:30", 1711848600,
		 "in the gap: moves forward to 03:30 CEST"},
		{"Europe/Paris", "2024-03-31 03:00", 1711846800, "after the gap"},
		{"Europe/Paris", "2024-10-27 02:30", 1729989000,
		 "ambiguous: the first (CEST) occurrence"},
		{"Europe/Paris", "2024-10-27 03:00", 1729994400, "after the overlap"},
		{"Europe/Paris", "2024-10-27 01:30", 1729985400, "before the overlap"},
		{"America/New_York", "2024-03-10 02:30", 1710055800,
		 "in the gap: 03:30 EDT"},
		{"America/New_York", "2024-11-03 01:30", 1730611800,
		 "ambiguous: EDT first"},
		{"America/New_York", "2024-07-04 12:00", 1720108800, "EDT"},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct error err = ERROR_INIT;
		struct calendar_time t;
		int64_t got = 0;

		assert_int_equal(calendar_parse_local(cases[i].local, &t, &err), 0);
		if (calendar_to_utc(cases[i].zone, &t, &got, &err) != 0)
			fail_msg("%s %s: %s", cases[i].zone, cases[i].local, err.msg);
		if (got != cases[i].want)
			fail_msg("%s %s (%s): got %lld, want %lld", cases[i].zone,
				 cases[i].local, cases[i].why, (long long)got,
				 (long long)cases[i].want);
	}
}

/* UTC instants back to wall times with their abbreviations. */
static void test_from_utc_and_format(void **state)
{
	static const struct {
		const char *zone;
		int64_t utc;
		const char *want;
	} cases[] = {
		{"Asia/Baku", 1740463200, "2025-02-25 10:00 +04"},
		{"Europe/Paris", 1711848600, "2024-03-31 03:30 CEST"},
		{"Europe/Paris", 1729989000, "2024-10-27 02:30 CEST"},
		{"Europe/Paris", 1729992600, "2024-10-27 02:30 CET"},
		{"America/New_York", 1720108800, "2024-07-04 12:00 EDT"},
		{"No/Such_Zone", 1717243200, "2024-06-01 12:00 UTC"},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		char buf[CALENDAR_FORMAT_SIZE];

		calendar_format(cases[i].zone, cases[i].utc, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("%s %lld: got '%s', want '%s'", cases[i].zone,
				 (long long)cases[i].utc, buf, cases[i].want);
	}
}

static void test_bad_input(void **state)
{
	static const char *const bad_local[] = {
		"", "2025-02-30 10:00", "2025-13-01 10:00", "2025-02-25",
		"2025-02-25 24:00", "2025-02-25 10:60", "25-02-2025 10:00",
		"2025-02-25 10:00x", "2023-02-29 09:00", "tomorrow",
	};
	static const char *const bad_send[] = {
		"", "13-01", "02-30", "04-31T10:00", "02-25T25:00", "02-25T10",
		"2-25", "02-25X10:00",
	};
	struct error err = ERROR_INIT;
	struct calendar_time t;
	int64_t out;
	int m, d, min;

	(void)state;
	for (size_t i = 0; i < N(bad_local); i++) {
		if (calendar_parse_local(bad_local[i], &t, &err) != ERR_USAGE)
			fail_msg("'%s' accepted as a local time", bad_local[i]);
		assert_non_null(strstr(err.msg, bad_local[i]));
	}
	for (size_t i = 0; i < N(bad_send); i++)
		if (calendar_parse_send(bad_send[i], &m, &d, &min, &err) != ERR_USAGE)
			fail_msg("'%s' accepted as a send day", bad_send[i]);
	assert_int_equal(calendar_parse_local("2025-02-25 10:00", &t, &err), 0);
	assert_int_equal(calendar_to_utc("Mars/Olympus", &t, &out, &err), ERR_USAGE);
	assert_non_null(strstr(err.msg, "Mars/Olympus"));
	assert_int_equal(calendar_to_utc("../etc/passwd", &t, &out, &err), ERR_USAGE);
}

static void test_parse_send(void **state)
{
	static const struct {
		const char *in;
		int month, day, minute;
	} cases[] = {
		{"02-25T10:00", 2, 25, 600}, {"02-29", 2, 29, 0},
		{"12-31 23:59", 12, 31, 1439}, {"01-01T00:00", 1, 1, 0},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct error err = ERROR_INIT;
		int m = 0, d = 0, min = -1;

		if (calendar_parse_send(cases[i].in, &m, &d, &min, &err) != 0)
			fail_msg("%s: %s", cases[i].in, err.msg);
		assert_int_equal(m, cases[i].month);
		assert_int_equal(d, cases[i].day);
		assert_int_equal(min, cases[i].minute);
	}
}

/* Send times of a series over several years, 29 February included. */
static void test_send_time_by_year(void **state)
{
	static const struct {
		const char *zone;
		int year, month, day, minute;
		const char *want; /* local, as calendar_format writes it */
	} cases[] = {
		{"Asia/Baku", 2024, 2, 25, 600, "2024-02-25 10:00 +04"},
		{"Asia/Baku", 2025, 2, 25, 600, "2025-02-25 10:00 +04"},
		{"Asia/Baku", 2026, 2, 25, 600, "2026-02-25 10:00 +04"},
		{"Asia/Baku", 2023, 2, 29, 600, "2023-02-28 10:00 +04"},
		{"Asia/Baku", 2024, 2, 29, 600, "2024-02-29 10:00 +04"},
		{"Asia/Baku", 2100, 2, 29, 600, "2100-02-28 10:00 +04"},
		{"Europe/Paris", 2024, 3, 31, 150, "2024-03-31 03:30 CEST"},
		{"Europe/Paris", 2025, 3, 31, 150, "2025-03-31 02:30 CEST"},
		{"Europe/Paris", 2024, 1, 15, 540, "2024-01-15 09:00 CET"},
		{"Europe/Paris", 2024, 7, 15, 540, "2024-07-15 09:00 CEST"},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct error err = ERROR_INIT;
		char buf[CALENDAR_FORMAT_SIZE];
		int64_t t;

		if (calendar_send_time(cases[i].zone, cases[i].year, cases[i].month,
				       cases[i].day, cases[i].minute, &t, &err))
			fail_msg("%s %d: %s", cases[i].zone, cases[i].year, err.msg);
		calendar_format(cases[i].zone, t, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("%s %d-%02d-%02d: got '%s', want '%s'",
				 cases[i].zone, cases[i].year, cases[i].month,
				 cases[i].day, buf, cases[i].want);
	}
}

static void test_anniversary(void **state)
{
	static const struct {
		const char *event;
		int year;
		const char *date;
		int ordinal;
		const char *suffixed;
	} cases[] = {
		{"1992-02-26", 2025, "2025-02-26", 33, "33rd"},
		{"1992-02-26", 2026, "2026-02-26", 34, "34th"},
		{"1992-02-29", 2025, "2025-02-28", 33, "33rd"},
		{"1992-02-29", 2028, "2028-02-29", 36, "36th"},
		{"2000-01-01", 2001, "2001-01-01", 1, "1st"},
		{"2000-01-01", 2002, "2002-01-01", 2, "2nd"},
		{"2000-01-01", 2011, "2011-01-01", 11, "11th"},
		{"2000-01-01", 2012, "2012-01-01", 12, "12th"},
		{"2000-01-01", 2013, "2013-01-01", 13, "13th"},
		{"2000-01-01", 2021, "2021-01-01", 21, "21st"},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct error err = ERROR_INIT;
		char date[16], suffixed[16];
		int ordinal = -1;

		assert_int_equal(calendar_anniversary(cases[i].event, cases[i].year,
						      date, sizeof(date), &ordinal,
						      &err), 0);
		assert_str(date, cases[i].date);
		assert_int_equal(ordinal, cases[i].ordinal);
		anniversary_ordinal(ordinal, suffixed, sizeof(suffixed));
		assert_str(suffixed, cases[i].suffixed);
	}
}

/* Conversions never touch the process-wide TZ (threads read it). */
static void test_tz_untouched(void **state)
{
	struct calendar_time t;
	int64_t out;

	(void)state;
	setenv("TZ", "America/New_York", 1);
	assert_int_equal(calendar_parse_local("2025-02-25 10:00", &t, NULL), 0);
	assert_int_equal(calendar_to_utc("Asia/Baku", &t, &out, NULL), 0);
	assert_str(getenv("TZ"), "America/New_York");
	unsetenv("TZ");
	assert_int_equal(calendar_to_utc("Asia/Baku", &t, &out, NULL), 0);
	assert_null(getenv("TZ"));
}

/* The wall time of utc in the zone TZ names, read fresh by the C
 * library: the reference the held zones are compared with. */
static void libc_local(const char *zone, int64_t utc, struct tm *tm)
{
	time_t t = (time_t)utc;

	(void)zone; /* TZ set by the caller, for this check only */
	localtime_r(&t, tm);
}

/*
 * Held zones (see calendar_local) give what a fresh lookup gives, every
 * half hour across both DST changes of 2024 and at instants years
 * apart, for more zones than are held (the rest opened per call), each
 * read twice: the first call opens the zone, the second finds it held.
 */
static void test_held_zones(void **state)
{
	static const char *const zones[] = {
		"Europe/Paris", "America/New_York", "Australia/Sydney",
		"Asia/Baku", "Europe/Dublin", "Asia/Kolkata",
		"America/St_Johns", "Pacific/Chatham", "Africa/Casablanca",
		"Asia/Tehran", "UTC", "Europe/London", "America/Santiago",
		"Pacific/Apia", "Asia/Kathmandu", "Europe/Moscow",
		"America/Los_Angeles", "Africa/Cairo", "Europe/Istanbul",
		"Asia/Tokyo",
	};
	static const int64_t spans[][2] = {
		{1710979200, 1712275200}, /* 2024-03-21 .. 04-05 */
		{1727740800, 1731196800}, /* 2024-10-01 .. 11-10 */
	};
	static const int64_t instants[] = {
		0, 86399, 951782400, 1234567890, 1772107200, 2145916800,
	};
	(void)state;
	static_assert(N(zones) > CALENDAR_ZONES_HELD, "more zones than held");
	for (size_t z = 0; z < N(zones); z++) {
		setenv("TZ", zones[z], 1);
		tzset();
		for (int round = 0; round < 2; round++) {
			size_t n = 0;

			for (size_t s = 0; s < N(spans); s++) {
				for (int64_t t = spans[s][0]; t < spans[s][1];
				     t += 3600, n++) {
					struct error err = ERROR_INIT;
					struct calendar_time got, got2;
					struct tm want;

					memset(&got, 0, sizeof(got));
					memset(&got2, 0, sizeof(got2));
					assert_int_equal(calendar_local(zones[z], t,
									&got, &err), 0);
					assert_int_equal(calendar_from_utc(zones[z], t,
									   &got2, &err), 0);
					libc_local(zones[z], t, &want);
					if (got.utc_offset != want.tm_gmtoff ||
					    got.year != want.tm_year + 1900 ||
					    got.month != want.tm_mon + 1 ||
					    got.day != want.tm_mday ||
					    got.hour != want.tm_hour ||
					    got.minute != want.tm_min ||
					    got.weekday != (want.tm_wday + 6) % 7 ||
					    strcmp(got.abbrev, want.tm_zone) != 0 ||
					    memcmp(&got, &got2, sizeof(got)) != 0)
						fail_msg("%s at %lld (round %d): got "
							 "%04d-%02d-%02d %02d:%02d %s "
							 "%+ld wd %d, want %04d-%02d-%02d "
							 "%02d:%02d %s %+ld wd %d",
							 zones[z], (long long)t, round,
							 got.year, got.month, got.day,
							 got.hour, got.minute, got.abbrev,
							 got.utc_offset, got.weekday,
							 want.tm_year + 1900,
							 want.tm_mon + 1, want.tm_mday,
							 want.tm_hour, want.tm_min,
							 want.tm_zone, (long)want.tm_gmtoff,
							 (want.tm_wday + 6) % 7);
				}
			}
			for (size_t i = 0; i < N(instants); i++) {
				struct calendar_time got;
				struct tm want;

				assert_int_equal(calendar_local(zones[z], instants[i],
								&got, NULL), 0);
				libc_local(zones[z], instants[i], &want);
				if (got.utc_offset != want.tm_gmtoff ||
				    got.day != want.tm_mday ||
				    got.hour != want.tm_hour)
					fail_msg("%s at %lld: got offset %ld "
						 "day %d hour %d, want %ld %d %d",
						 zones[z], (long long)instants[i],
						 got.utc_offset, got.day, got.hour,
						 (long)want.tm_gmtoff, want.tm_mday,
						 want.tm_hour);
			}
			assert_true(n > 500);
		}
		unsetenv("TZ");
		tzset();
	}
}

/* The renderer's reading of a zone: "" and NULL are UTC; a name GLib
 * does not know is refused, held or not, and the checked conversions
 * stay as strict as before the zones were held. */
static void test_local_zone_names(void **state)
{
	struct calendar_time t;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(calendar_local(NULL, 1717243200, &t, &err), 0);
	assert_int_equal(t.hour, 12);
	assert_int_equal(calendar_local("", 1717243200, &t, &err), 0);
	assert_string_equal(t.abbrev, "UTC");
	for (int i = 0; i < 2; i++) {
		assert_int_not_equal(calendar_local("No/Such_Zone", 0, &t,
						    &err), 0);
		assert_non_null(strstr(err.msg, "unknown time zone 'No/Such_Zone'"));
		/* GLib reads "+02:00"; the checked paths never did */
		assert_int_equal(calendar_local("+02:00", 0, &t, &err), 0);
		assert_int_equal(t.utc_offset, 7200);
		assert_int_not_equal(calendar_from_utc("+02:00", 0, &t, &err), 0);
		assert_non_null(strstr(err.msg, "unknown time zone '+02:00'"));
		assert_int_not_equal(calendar_from_utc("../zoneinfo/UTC", 0,
						       &t, &err), 0);
	}
	assert_int_not_equal(calendar_local("UTC", 253402300800LL, &t, &err), 0);
	assert_non_null(strstr(err.msg, "out of range"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_utc),
		cmocka_unit_test(test_from_utc_and_format),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_parse_send),
		cmocka_unit_test(test_send_time_by_year),
		cmocka_unit_test(test_anniversary),
		cmocka_unit_test(test_tz_untouched),
		cmocka_unit_test(test_held_zones),
		cmocka_unit_test(test_local_zone_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
