#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "chancery/clock.h"
#include "testutil.h"

/* The fake clock stands still; clock_mono_ms must not: pacing and
 * deadlines wait on it. */
static void test_mono_ignores_fake_clock(void **state)
{
	struct timespec nap = {0, 20 * 1000000};
	int64_t fake_before, fake_after, real_before, real_after;

	(void)state;
	clock_set_fake(1000000);
	fake_before = clock_elapsed_ms();
	real_before = clock_mono_ms();
	nanosleep(&nap, NULL);
	fake_after = clock_elapsed_ms();
	real_after = clock_mono_ms();
	clock_clear_fake();
	if (fake_after != fake_before)
		fail_msg("clock_elapsed_ms moved under a fake clock: %lld -> "
			 "%lld", (long long)fake_before, (long long)fake_after);
	if (real_after - real_before < 20)
		fail_msg("clock_mono_ms moved %lld ms over a 20 ms sleep, "
			 "wanted at least 20",
			 (long long)(real_after - real_before));
}

/* clock_deadline carries milliseconds into seconds. */
static void test_deadline_normalised(void **state)
{
	static const int64_t cases[] = {0, 1, 999, 1000, 1001, 2500, 59999};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct timespec now, d;
		int64_t now_ms, d_ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		d = clock_deadline(cases[i]);
		if (d.tv_nsec < 0 || d.tv_nsec >= 1000000000)
			fail_msg("deadline(%lld): tv_nsec %ld out of range",
				 (long long)cases[i], d.tv_nsec);
		now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
		d_ms = (int64_t)d.tv_sec * 1000 + d.tv_nsec / 1000000;
		if (d_ms - now_ms < cases[i] || d_ms - now_ms > cases[i] + 50)
			fail_msg("deadline(%lld) is %lld ms ahead, wanted %lld",
				 (long long)cases[i], (long long)(d_ms - now_ms),
				 (long long)cases[i]);
	}
}

/*
 * A condition variable from clock_cond_init waits until a clock_deadline,
 * neither less (a deadline read on the wrong clock is long past, since
 * the monotonic clock counts from boot) nor much more.
 */
static void test_cond_waits_until_deadline(void **state)
{
	static const int64_t waits[] = {30, 120};
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;

	(void)state;
	assert_int_equal(clock_cond_init(&cv), 0);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		struct timespec ts = clock_deadline(waits[i]);
		int64_t start = clock_mono_ms(), took;
		int rc = 0;

		while (rc != ETIMEDOUT) {
			rc = pthread_cond_timedwait(&cv, &lock, &ts);
			if (rc != 0 && rc != ETIMEDOUT)
				fail_msg("timedwait: %d", rc);
		}
		took = clock_mono_ms() - start;
		if (took < waits[i] - 1 || took > waits[i] + 2000)
			fail_msg("waited %lld ms for a %lld ms deadline",
				 (long long)took, (long long)waits[i]);
	}
	pthread_mutex_unlock(&lock);
	pthread_cond_destroy(&cv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mono_ignores_fake_clock),
		cmocka_unit_test(test_deadline_normalised),
		cmocka_unit_test(test_cond_waits_until_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
