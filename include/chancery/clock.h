/*
 * clock: the current time, for everything that records or schedules.
 *
 * Tests move time without sleeping: clock_set_fake() in unit tests, or the
 * environment variable CHANCERY_FAKE_NOW (Unix seconds, or
 * "YYYY-MM-DDTHH:MM:SSZ") for the built binaries. With a fake time set the
 * clock stands still unless advanced with clock_advance().
 */
#ifndef CHANCERY_CLOCK_H
#define CHANCERY_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* Unix seconds, UTC. */
int64_t clock_now(void);
/* Milliseconds, for rates and timeouts (monotonic unless faked: with a
 * fake time set it follows the fake clock). */
int64_t clock_elapsed_ms(void);

/*
 * Real time for pacing and waiting: milliseconds of CLOCK_MONOTONIC,
 * never faked, since a fake clock stands still and a wait on it would
 * never end. Unaffected by changes of the wall clock.
 */
int64_t clock_mono_ms(void);
/*
 * Initialises a condition variable whose timed waits are measured on
 * CLOCK_MONOTONIC, so that a deadline does not move when the wall clock
 * jumps (NTP, an operator). Returns 0 or an errno value.
 */
int clock_cond_init(pthread_cond_t *cv);
/* The absolute CLOCK_MONOTONIC time ms milliseconds from now: the
 * deadline for pthread_cond_timedwait on a clock_cond_init variable. */
struct timespec clock_deadline(int64_t ms);

void clock_set_fake(int64_t now);
void clock_advance(int64_t seconds);
void clock_clear_fake(void);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC) into Unix seconds; 0 or -1. */
int clock_parse_utc(const char *s, int64_t *out);
/* Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (buf of at least 21). */
void clock_format_utc(int64_t t, char *buf, unsigned size);

/*
 * True when zone names a time zone of the system's database (TZDIR or
 * /usr/share/zoneinfo), e.g. "Asia/Baku" or "UTC". Names with ".." or a
 * leading "/" are refused.
 */
#include <stdbool.h>
bool clock_zone_valid(const char *zone);

#endif
