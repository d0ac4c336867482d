/* anniversary: ordinals, elapsed years and dates as people write them. */
#include <stdio.h>
#include <string.h>

#include "chancery/anniversary.h"

static const char *const month_names[12] = {
	"January", "February", "March",     "April",   "May",      "June",
	"July",    "August",   "September", "October", "November", "December",
};

void anniversary_ordinal(int n, char *buf, size_t size)
{
	/* 11, 12 and 13 (and 111, 212, ...) take "th" whatever their last
	 * digit says. */
	long a = n < 0 ? -(long)n : n;
	const char *suffix = "th";

	if (a % 100 < 11 || a % 100 > 13) {
		switch (a % 10) {
		case 1: suffix = "st"; break;
		case 2: suffix = "nd"; break;
		case 3: suffix = "rd"; break;
		default: break;
		}
	}
	snprintf(buf, size, "%d%s", n, suffix);
}

int anniversary_years(int event_year, int year)
{
	return year - event_year;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool anniversary_date_valid(int y, int m, int d)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= days[m - 1] + (m == 2 && leap(y));
}

int anniversary_parse_date(const char *s, int *y, int *m, int *d)
{
	int n = 0;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	if (sscanf(s, "%4d-%2d-%2d%n", y, m, d, &n) != 3 || n != 10)
		return -1;
	return anniversary_date_valid(*y, *m, *d) ? 0 : -1;
}

void anniversary_format_date(int y, int m, int d, char *buf, size_t size)
{
	if (m < 1 || m > 12) {
		snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
		return;
	}
	snprintf(buf, size, "%d %s %d", d, month_names[m - 1], y);
}
