#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "chancery/calendar.h"
#include "chancery/clock.h"

bool calendar_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int calendar_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && calendar_leap_year(year))
		return 29;
	return days[month - 1];
}

/* Reads exactly n digits at *p into *out and advances *p. */
static bool take_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

static bool take_char(const char **p, const char *accepted)
{
	if (!**p || !strchr(accepted, **p))
		return false;
	(*p)++;
	return true;
}

int calendar_parse_date(const char *s, int *year, int *month, int *day,
			struct error *err)
{
	const char *p = s ? s : "";
	int y, m, d;

	if (!take_digits(&p, 4, &y) || !take_char(&p, "-") ||
	    !take_digits(&p, 2, &m) || !take_char(&p, "-") ||
	    !take_digits(&p, 2, &d) || *p)
		return error_set(err, ERR_USAGE,
				 "bad date '%s': expected YYYY-MM-DD", s ? s : "");
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > calendar_days_in_month(y, m))
		return error_set(err, ERR_USAGE, "bad date '%s': no such day", s);
	*year = y;
	*month = m;
	*day = d;
	return 0;
}

static int parse_hhmm(const char **p, const char *s, int *hour, int *minute,
		      struct error *err)
{
	if (!take_digits(p, 2, hour) || !take_char(p, ":") ||
	    !take_digits(p, 2, minute) || **p)
		return error_set(err, ERR_USAGE,
				 "bad time in '%s': expected HH:MM", s);
	if (*hour > 23 || *minute > 59)
		return error_set(err, ERR_USAGE,
				 "bad time in '%s': hour 00-23, minute 00-59", s);
	return 0;
}

int calendar_parse_local(const char *s, struct calendar_time *out,
			 struct error *err)
{
	char date[11];
	const char *p;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s || strlen(s) < 11 || (s[10] != ' ' && s[10] != 'T'))
		return error_set(err, ERR_USAGE,
				 "bad date '%s': expected \"YYYY-MM-DD HH:MM\"",
				 s ? s : "");
	memcpy(date, s, 10);
	date[10] = '\0';
	rc = calendar_parse_date(date, &out->year, &out->month, &out->day, err);
	if (rc)
		return error_set(err, rc, "bad date '%s': expected a real day as "
					  "\"YYYY-MM-DD HH:MM\"", s);
	p = s + 11;
	return parse_hhmm(&p, s, &out->hour, &out->minute, err);
}

int calendar_parse_send(const char *s, int *month, int *day, int *minute,
			struct error *err)
{
	const char *p = s ? s : "";
	int m, d, hour = 0, min = 0, rc;

	if (!take_digits(&p, 2, &m) || !take_char(&p, "-") ||
	    !take_digits(&p, 2, &d))
		return error_set(err, ERR_USAGE, "bad send day '%s': expected "
						 "MM-DD or MM-DDTHH:MM", s ? s : "");
	if (m < 1 || m > 12 || d < 1 || d > calendar_days_in_month(2000, m))
		return error_set(err, ERR_USAGE, "bad send day '%s': no such day", s);
	if (*p) {
		if (!take_char(&p, "T "))
			return error_set(err, ERR_USAGE,
					 "bad send day '%s': expected MM-DD or "
					 "MM-DDTHH:MM", s);
		rc = parse_hhmm(&p, s, &hour, &min, err);
		if (rc)
			return rc;
	}
	*month = m;
	*day = d;
	*minute = hour * 60 + min;
	return 0;
}

/* The UTC offset in force at instant t in tz. */
static long offset_at(GTimeZone *tz, int64_t t)
{
	int interval = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, t);

	return interval < 0 ? 0 : g_time_zone_get_offset(tz, interval);
}

/*
 * The zones held for the process's life. GLib keeps a zone in its own
 * cache only while something holds a reference, and building one reads
 * and parses the TZif file: 2.3 million instructions, four times what
 * the rest of a statement costs. A campaign renders thousands of
 * messages in one zone, a process sees a few zones; the first
 * CALENDAR_ZONES_HELD are kept (with whether clock_zone_valid accepted
 * the name, so that the checked paths stay as strict as before), any
 * further one is opened and closed per call as before.
 */
static struct {
	char name[64];
	GTimeZone *tz;
	bool valid;
} held[CALENDAR_ZONES_HELD];
static size_t nheld;
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

/* A held zone's new reference, or NULL when zone is not held (yet). */
static GTimeZone *held_find(const char *zone, bool *valid)
{
	GTimeZone *tz = NULL;

	pthread_mutex_lock(&held_lock);
	for (size_t i = 0; i < nheld; i++) {
		if (strcmp(held[i].name, zone) == 0) {
			tz = g_time_zone_ref(held[i].tz);
			*valid = held[i].valid;
			break;
		}
	}
	pthread_mutex_unlock(&held_lock);
	return tz;
}

/*
 * A new reference to zone as g_time_zone_new_identifier reads it, NULL
 * when GLib knows no such zone; *valid tells whether clock_zone_valid
 * accepts the name. Thread-safe: GLib's zones are immutable and their
 * reference counts atomic.
 */
static GTimeZone *zone_get(const char *zone, bool *valid)
{
	GTimeZone *tz = held_find(zone, valid);

	if (tz)
		return tz;
	*valid = clock_zone_valid(zone);
	tz = g_time_zone_new_identifier(zone);
	if (!tz || strlen(zone) >= sizeof(held[0].name))
		return tz;
	pthread_mutex_lock(&held_lock);
	for (size_t i = 0; i < nheld; i++)
		if (strcmp(held[i].name, zone) == 0)
			goto out; /* another thread held it meanwhile */
	if (nheld < CALENDAR_ZONES_HELD) {
		snprintf(held[nheld].name, sizeof(held[nheld].name), "%s", zone);
		held[nheld].tz = g_time_zone_ref(tz);
		held[nheld].valid = *valid;
		nheld++;
	}
out:
	pthread_mutex_unlock(&held_lock);
	return tz;
}

/* The zone, after the same validity check as everywhere else; caller
 * unrefs. GLib's zones are immutable and thread-safe, unlike TZ. */
static int zone_open(const char *zone, GTimeZone **out, struct error *err)
{
	bool valid = false;

	*out = zone ? held_find(zone, &valid) : NULL;
	/* checked before GLib sees the name, as before the zones were held */
	if (!*out && clock_zone_valid(zone))
		*out = zone_get(zone, &valid);
	if (!valid) {
		if (*out)
			g_time_zone_unref(*out);
		*out = NULL;
		return error_set(err, ERR_USAGE,
				 "unknown time zone '%s' (expected a name such "
				 "as Europe/Paris or UTC)", zone ? zone : "");
	}
	return 0;
}

/* The wall time t read as if it were UTC: seconds since the epoch. */
static int64_t wall_seconds(const struct calendar_time *t)
{
	struct tm tm = {0};

	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->month - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->minute;
	tm.tm_sec = t->second;
	return (int64_t)timegm(&tm);
}

/*
 * A wall time w maps to w − offset for whichever offset is in force at
 * that instant. Offsets a day before and a day after w cover any single
 * transition near it: a candidate that reproduces w is a solution; two
 * solutions mean an overlap (take the earlier), none a gap (use the
 * offset from before the change, which moves the time forward).
 */
static int64_t resolve_wall(GTimeZone *tz, int64_t w)
{
	long before = offset_at(tz, w - 86400), after = offset_at(tz, w + 86400);
	int64_t a = w - before, b = w - after;
	bool a_ok = a + offset_at(tz, a) == w, b_ok = b + offset_at(tz, b) == w;

	if (a_ok && b_ok)
		return a < b ? a : b;
	if (a_ok)
		return a;
	if (b_ok)
		return b;
	return a;
}

int calendar_to_utc(const char *zone, const struct calendar_time *t,
		    int64_t *out, struct error *err)
{
	GTimeZone *tz;
	int rc = zone_open(zone, &tz, err);

	if (rc)
		return rc;
	*out = resolve_wall(tz, wall_seconds(t));
	g_time_zone_unref(tz);
	return 0;
}

/* The wall-clock time of utc in the open zone tz. */
static void from_utc(GTimeZone *tz, int64_t utc, struct calendar_time *out)
{
	struct tm tm;
	time_t wall;
	int interval;

	interval = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, utc);
	out->utc_offset = interval < 0 ? 0 : g_time_zone_get_offset(tz, interval);
	snprintf(out->abbrev, sizeof(out->abbrev), "%s",
		 interval < 0 ? "" : g_time_zone_get_abbreviation(tz, interval));
	wall = (time_t)(utc + out->utc_offset);
	gmtime_r(&wall, &tm);
	out->year = tm.tm_year + 1900;
	out->month = tm.tm_mon + 1;
	out->day = tm.tm_mday;
	out->hour = tm.tm_hour;
	out->minute = tm.tm_min;
	out->second = tm.tm_sec;
	out->weekday = (tm.tm_wday + 6) % 7;
}

int calendar_from_utc(const char *zone, int64_t utc, struct calendar_time *out,
		      struct error *err)
{
	GTimeZone *tz;
	int rc = zone_open(zone, &tz, err);

	if (rc)
		return rc;
	from_utc(tz, utc, out);
	g_time_zone_unref(tz);
	return 0;
}

int calendar_local(const char *zone, int64_t utc, struct calendar_time *out,
		   struct error *err)
{
	bool valid;
	GTimeZone *tz = zone_get(zone && *zone ? zone : "UTC", &valid);

	if (!tz)
		return error_set(err, ERR_DATA, "unknown time zone '%s'",
				 zone ? zone : "");
	/* GDateTime's range, which the renderer used before */
	if (utc < -62135596800LL || utc > 253402300799LL - 86400) {
		g_time_zone_unref(tz);
		return error_set(err, ERR_DATA, "time %lld is out of range",
				 (long long)utc);
	}
	from_utc(tz, utc, out);
	g_time_zone_unref(tz);
	return 0;
}

void calendar_format(const char *zone, int64_t utc, char *buf, size_t size)
{
	struct calendar_time t;

	if (calendar_from_utc(zone, utc, &t, NULL) != 0)
		calendar_from_utc("UTC", utc, &t, NULL);
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d %s", t.year, t.month,
		 t.day, t.hour, t.minute, t.abbrev);
}

int calendar_send_time(const char *zone, int year, int month, int day,
		       int minute, int64_t *out, struct error *err)
{
	struct calendar_time t = {0};

	if (month < 1 || month > 12 || day < 1 ||
	    day > calendar_days_in_month(2000, month) || minute < 0 ||
	    minute >= 24 * 60)
		return error_set(err, ERR_USAGE, "bad send day %02d-%02d %d",
				 month, day, minute);
	t.year = year;
	t.month = month;
	/* 29 February in a common year: the last day of February. */
	t.day = day > calendar_days_in_month(year, month)
			? calendar_days_in_month(year, month) : day;
	t.hour = minute / 60;
	t.minute = minute % 60;
	return calendar_to_utc(zone, &t, out, err);
}

int calendar_anniversary(const char *event_date, int year, char *buf,
			 size_t size, int *ordinal, struct error *err)
{
	int y, m, d, rc = calendar_parse_date(event_date, &y, &m, &d, err);

	if (rc)
		return rc;
	if (d > calendar_days_in_month(year, m))
		d = calendar_days_in_month(year, m);
	if (buf)
		snprintf(buf, size, "%04d-%02d-%02d", year, m, d);
	if (ordinal)
		*ordinal = year - y;
	return 0;
}
