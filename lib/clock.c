#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chancery/clock.h"

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static bool fake_set;
static bool fake_env_read;
static int64_t fake_now;

static void read_fake_env(void)
{
	const char *env;
	int64_t t;

	if (fake_env_read)
		return;
	fake_env_read = true;
	env = getenv("CHANCERY_FAKE_NOW");
	if (!env || !*env)
		return;
	if (clock_parse_utc(env, &t) == 0 || sscanf(env, "%lld", (long long *)&t) == 1) {
		fake_now = t;
		fake_set = true;
	}
}

int64_t clock_now(void)
{
	int64_t now;

	pthread_mutex_lock(&fake_lock);
	read_fake_env();
	now = fake_set ? fake_now : (int64_t)time(NULL);
	pthread_mutex_unlock(&fake_lock);
	return now;
}

int64_t clock_elapsed_ms(void)
{
	struct timespec ts;
	int64_t base = 0;

	pthread_mutex_lock(&fake_lock);
	read_fake_env();
	if (fake_set)
		base = fake_now * 1000;
	pthread_mutex_unlock(&fake_lock);
	if (base)
		return base;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	int e = pthread_condattr_init(&attr);

	if (e)
		return e;
	e = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!e)
		e = pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
	return e;
}

struct timespec clock_deadline(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

void clock_set_fake(int64_t now)
{
	pthread_mutex_lock(&fake_lock);
	fake_env_read = true;
	fake_set = true;
	fake_now = now;
	pthread_mutex_unlock(&fake_lock);
}

void clock_advance(int64_t seconds)
{
	pthread_mutex_lock(&fake_lock);
	fake_now += seconds;
	pthread_mutex_unlock(&fake_lock);
}

void clock_clear_fake(void)
{
	pthread_mutex_lock(&fake_lock);
	fake_env_read = true;
	fake_set = false;
	pthread_mutex_unlock(&fake_lock);
}

int clock_parse_utc(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

void clock_format_utc(int64_t t, char *buf, unsigned size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool clock_zone_valid(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	FILE *f;
	char magic[4];
	bool ok;

	if (!zone || !*zone || zone[0] == '/' || strstr(zone, "..") ||
	    strlen(zone) > 255)
		return false;
	snprintf(path, sizeof(path), "%s/%s",
		 dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	f = fopen(path, "rb");
	if (!f)
		return false;
	ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(f);
	return ok;
}
