/*
 * calendar: wall-clock times in named time zones, and the yearly send
 * times of anniversary series.
 *
 * Conversions use the system's time-zone database (TZDIR or
 * /usr/share/zoneinfo, checked with clock_zone_valid) through GLib's
 * GTimeZone, which reads the TZif files itself: no process-wide TZ is
 * switched, so the daemon's threads may convert at the same time.
 *
 * Local times that do not map to exactly one instant are resolved the
 * same way every time:
 *  - a local time inside a gap (clocks jump forward, e.g. 02:30 on the
 *    last Sunday of March in Europe/Paris) moves forward by the length of
 *    the gap (02:30 becomes 03:30 CEST): it is read with the offset in
 *    force before the change;
 *  - an ambiguous local time (clocks go back, 02:30 on the last Sunday of
 *    October in Europe/Paris happens twice) takes the first occurrence
 *    (02:30 CEST, 00:30 UTC).
 *
 * 29 February: an anniversary or send date of 29 February falls on
 * 28 February in common years (the day stays in February, so a statement
 * dated "on the anniversary" is never sent in March).
 */
#ifndef CHANCERY_CALENDAR_H
#define CHANCERY_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/error.h"

/* A wall-clock time; offset and abbreviation are filled by conversions. */
struct calendar_time {
	int year, month, day; /* month 1-12, day 1-31 */
	int hour, minute, second;
	int weekday;      /* 0 Monday .. 6 Sunday */
	long utc_offset;  /* seconds east of UTC */
	char abbrev[16];  /* "CET", "+04", ... */
};

bool calendar_leap_year(int year);
/* Days in month (1-12) of year; 0 for a month out of range. */
int calendar_days_in_month(int year, int month);

/* "YYYY-MM-DD": 0, or ERR_USAGE naming the text and what is wrong. */
int calendar_parse_date(const char *s, int *year, int *month, int *day,
			struct error *err);
/* "YYYY-MM-DD HH:MM" (a 'T' is accepted for the space). */
int calendar_parse_local(const char *s, struct calendar_time *out,
			 struct error *err);
/*
 * A series send day "MM-DD" or "MM-DDTHH:MM" (a space may stand for the
 * T); without a time the send time is 00:00. Any day that exists in a
 * leap year is accepted (02-29 included). *minute is minutes after
 * midnight.
 */
int calendar_parse_send(const char *s, int *month, int *day, int *minute,
			struct error *err);

/*
 * The instant (UTC seconds) of local time t in zone, resolving gaps and
 * overlaps as described above. ERR_USAGE for an unknown zone.
 */
int calendar_to_utc(const char *zone, const struct calendar_time *t,
		    int64_t *out, struct error *err);
/* The wall-clock time of instant utc in zone (with offset, abbrev). */
int calendar_from_utc(const char *zone, int64_t utc, struct calendar_time *out,
		      struct error *err);
/*
 * The wall-clock time of instant utc in zone as a message reads its
 * campaign's zone: NULL or "" is UTC, and any name GLib's
 * g_time_zone_new_identifier knows is taken. ERR_DATA "unknown time
 * zone" otherwise, or for an instant outside years 1-9999.
 *
 * Every conversion here keeps the first CALENDAR_ZONES_HELD zones it
 * opens for the process's life (GLib drops a zone nobody references and
 * re-reads its file next time, 2.3 million instructions), so a campaign
 * in any zone converts as cheaply as one in UTC. Thread-safe.
 */
#define CALENDAR_ZONES_HELD 16
int calendar_local(const char *zone, int64_t utc, struct calendar_time *out,
		   struct error *err);
/*
 * Writes "YYYY-MM-DD HH:MM ABBR" for instant utc in zone into buf (at
 * least CALENDAR_FORMAT_SIZE bytes); an unknown zone writes UTC.
 */
#define CALENDAR_FORMAT_SIZE 48
void calendar_format(const char *zone, int64_t utc, char *buf, size_t size);

/*
 * The send instant of a series in year: month/day at minute (after
 * midnight) local time in zone, 29 February moved to 28 February in
 * common years.
 */
int calendar_send_time(const char *zone, int year, int month, int day,
		       int minute, int64_t *out, struct error *err);

/*
 * The anniversary of event_date ("YYYY-MM-DD") in year, as "YYYY-MM-DD"
 * (29 February → 28 February in common years) into buf (>= 11 bytes), and
 * its ordinal (year − event year; 0 or less before the first one).
 */
int calendar_anniversary(const char *event_date, int year, char *buf,
			 size_t size, int *ordinal, struct error *err);

#endif
