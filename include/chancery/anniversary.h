/*
 * anniversary: the few facts about anniversaries a statement states: the
 * ordinal ("33rd"), how many years have passed, and a date written as a
 * person writes it ("26 February 2025").
 */
#ifndef CHANCERY_ANNIVERSARY_H
#define CHANCERY_ANNIVERSARY_H

#include <stdbool.h>
#include <stddef.h>

/* (In a message's language, through ICU: locale_format_ordinal and
 * locale_format_date, which write English exactly as these do.) */

/* Writes n with its English ordinal suffix: 1st 2nd 3rd 4th 11th 12th
 * 13th 21st 101st 111th 112th. Negative n is written with a minus sign. */
void anniversary_ordinal(int n, char *buf, size_t size);

/* The anniversary a year brings: year - event_year (0 in the event's own
 * year, negative before it). */
int anniversary_years(int event_year, int year);

/* True when y-m-d is a real calendar date (Gregorian, years 1..9999). */
bool anniversary_date_valid(int y, int m, int d);

/* Parses exactly "YYYY-MM-DD" into a real date; 0, or -1 when it is not. */
int anniversary_parse_date(const char *s, int *y, int *m, int *d);

/* Writes "26 February 2025" (day without a leading zero, English month). */
void anniversary_format_date(int y, int m, int d, char *buf, size_t size);

#endif
