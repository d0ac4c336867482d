#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/clock.h"
#include "chancery/progress.h"
#include "testutil.h"

/* The fake clock in seconds; progress_init reads it as its start. */
#define T0 1000000
#define START ((int64_t)T0 * 1000)

static void test_format(void **state)
{
	static const struct {
		const char *label;
		uint64_t count, total;
		int64_t elapsed_ms;
		const char *want;
	} cases[] = {
		{"import", 0, 100, 0, "import: 0/100  -/s  ETA --:--"},
		{"import", 50, 100, 10000, "import: 50/100  5.0/s  ETA 00:10"},
		{"import", 1200, 10000, 60000, "import: 1200/10000  20/s  ETA 07:20"},
		{"verify", 12345, 0, 5000, "verify: 12345  2469/s"},
		{"send", 100, 100, 2000, "send: 100/100  50/s  ETA 00:00"},
		{"send", 1, 10000, 1000, "send: 1/10000  1.0/s  ETA 2:46:39"},
		{"send", 0, 10, 5000, "send: 0/10  0.0/s  ETA --:--"},
		{"send", 1, 100000000, 100000, "send: 1/100000000  0.0/s  ETA --:--"},
		{"", 3, 0, 50, ": 3  -/s"},
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = progress_format(buf, sizeof(buf), cases[i].label,
					   cases[i].count, cases[i].total,
					   cases[i].elapsed_ms);

		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, buf,
				 cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	/* A buffer too short still ends in a NUL and reports what it holds. */
	assert_int_equal(progress_format(buf, 8, "import", 50, 100, 10000), 7);
	assert_str(buf, "import:");
}

/* Runs updates at the given times (ms after the start) into a memory
 * stream and returns what was written; caller frees. */
static char *run(enum progress_mode mode, const int64_t *times,
		 size_t ntimes, int64_t release_at)
{
	struct progress p;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	progress_init(&p, f, "import", 10, mode);
	for (size_t i = 0; i < ntimes; i++)
		progress_update_at(&p, i + 1, START + times[i]);
	progress_release_at(&p, START + release_at);
	progress_release_at(&p, START + release_at + 500);
	fclose(f);
	return text;
}

static void test_draws_throttled_and_ends_line(void **state)
{
	static const int64_t times[] = {0, 50, 100, 150, 199, 250, 1000};
	char *out;

	(void)state;
	out = run(PROGRESS_ALWAYS, times, 7, 2000);
	/* Drawn at 100 ms (3 done), 250 ms (6), 1000 ms (7), then the final
	 * state at release; nothing before the first interval. */
	assert_str(out, "\rimport: 3/10  30/s  ETA 00:00"
			"\rimport: 6/10  24/s  ETA 00:00"
			"\rimport: 7/10  7.0/s  ETA 00:00"
			"\rimport: 7/10  3.5/s  ETA 00:01\n");
	free(out);
}

static void test_quick_operation_leaves_nothing(void **state)
{
	static const int64_t times[] = {0, 10, 20, 99};
	char *out;

	(void)state;
	out = run(PROGRESS_ALWAYS, times, 4, 99);
	assert_str(out, "");
	free(out);
}

static void test_not_a_terminal_is_silent(void **state)
{
	static const int64_t times[] = {0, 100, 200, 300, 5000};
	char *out;

	(void)state;
	out = run(PROGRESS_AUTO, times, 5, 6000);
	assert_str(out, "");
	free(out);
	out = run(PROGRESS_NEVER, times, 5, 6000);
	assert_str(out, "");
	free(out);
}

static void test_at_most_ten_redraws_a_second(void **state)
{
	struct progress p;
	char *text = NULL;
	size_t len = 0, draws = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	progress_init(&p, f, "verify", 0, PROGRESS_ALWAYS);
	/* 100000 updates over three seconds: one every 30 microseconds. */
	for (int64_t i = 0; i < 100000; i++)
		progress_update_at(&p, (uint64_t)i, START + i * 3 / 100);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		draws += text[i] == '\r';
	if (draws < 25 || draws > 30)
		fail_msg("got %zu redraws in 3 s, want 25..30", draws);
	free(text);
}

static void test_shorter_line_blanks_the_rest(void **state)
{
	struct progress p;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	progress_init(&p, f, "x", 0, PROGRESS_ALWAYS);
	progress_update_at(&p, 123456, START + 100);  /* "x: 123456  1234560/s" */
	progress_update_at(&p, 123456, START + 200000); /* "x: 123456  617/s" */
	fclose(f);
	assert_str(text, "\rx: 123456  1234560/s"
			 "\rx: 123456  617/s    ");
	free(text);
}

/* AUTO mode draws on a real terminal: a pseudo-terminal's slave side. */
static void test_pty_is_a_terminal(void **state)
{
	struct progress p;
	int master = -1, slave = -1;
	char buf[256];
	ssize_t n;
	FILE *f;

	(void)state;
	if (openpty(&master, &slave, NULL, NULL, NULL) != 0)
		skip();
	f = fdopen(slave, "w");
	assert_non_null(f);
	progress_init(&p, f, "campaign", 4, PROGRESS_AUTO);
	assert_true(progress_enabled(&p));
	progress_update_at(&p, 2, START + 1000);
	progress_release_at(&p, START + 2000);
	fclose(f);
	/* The two redraws may arrive in separate reads; read until the
	 * closed slave side gives EOF (EIO on Linux). */
	size_t got = 0;
	while (got < sizeof(buf) - 1 &&
	       (n = read(master, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	assert_true(got > 0);
	buf[got] = '\0';
	/* The terminal turns "\n" into "\r\n". */
	assert_non_null(strstr(buf, "\rcampaign: 2/4  2.0/s  ETA 00:01"));
	assert_non_null(strstr(buf, "\rcampaign: 2/4  1.0/s  ETA 00:02\r\n"));
	close(master);
}

static int setup(void **state)
{
	(void)state;
	clock_set_fake(T0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clock_clear_fake();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_draws_throttled_and_ends_line),
		cmocka_unit_test(test_quick_operation_leaves_nothing),
		cmocka_unit_test(test_not_a_terminal_is_silent),
		cmocka_unit_test(test_at_most_ten_redraws_a_second),
		cmocka_unit_test(test_shorter_line_blanks_the_rest),
		cmocka_unit_test(test_pty_is_a_terminal),
	};
	return cmocka_run_group_tests_name("progress", tests, setup, teardown);
}
