/*
 * Tests of log: the line format, escaping of control characters, levels,
 * and lines held by log_hold reaching stderr only at log_flush, whole.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/log.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

/* stderr goes to a file while a test runs; read_back gives what reached it. */
struct capture {
	char *dir, *path;
	int saved;
};

static void capture_start(struct capture *c)
{
	int fd;

	c->dir = test_tmpdir();
	c->path = xasprintf("%s/stderr", c->dir);
	fflush(stderr);
	c->saved = dup(STDERR_FILENO);
	fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static char *read_back(const struct capture *c)
{
	struct sbuf sb = SBUF_INIT;
	struct error err = ERROR_INIT;

	fflush(stderr);
	assert_int_equal(sbuf_read_file(&sb, c->path, 1 << 20, &err), 0);
	return sbuf_detach(&sb, NULL);
}

static void capture_stop(struct capture *c)
{
	fflush(stderr);
	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	free(c->path);
	test_rmtree(c->dir);
}

static void test_lines(void **state)
{
	static const struct {
		enum log_level level;
		const char *text, *want; /* want NULL: filtered out */
	} cases[] = {
		{LOG_LEVEL_INFO, "sent", "info: sent\n"},
		{LOG_LEVEL_WARN, "reply=\"550 no\r\nBcc: x\"",
		 "warn: reply=\"550 no\\r\\nBcc: x\"\n"},
		{LOG_LEVEL_ERROR, "bell\a", "error: bell\\x07\n"},
		/* what a relay or a registry name may hold: shown, not acted
		 * on by the operator's terminal */
		{LOG_LEVEL_INFO, "to=D\xc3\xa9" "fenseur@example.org",
		 "info: to=D\xc3\xa9" "fenseur@example.org\n"},
		{LOG_LEVEL_WARN, "reply=\"550 \xe2\x80\xae" "gnp.exe\"",
		 "warn: reply=\"550 \\u202egnp.exe\"\n"},
		{LOG_LEVEL_WARN, "csi \xc2\x9b" "31m latin1 \xe9",
		 "warn: csi \\u009b31m latin1 \\xe9\n"},
		{LOG_LEVEL_WARN, "a\r\n\tb", "warn: a\\r\\n\\x09b\n"},
		{LOG_LEVEL_DEBUG, "hidden", NULL},
	};

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_open("t", LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct capture c;
		char *got, *want;

		capture_start(&c);
		log_msg(cases[i].level, "%s", cases[i].text);
		got = read_back(&c);
		want = cases[i].want ? xasprintf("t[%d]: %s", (int)getpid(),
						 cases[i].want)
				     : xstrdup("");
		capture_stop(&c);
		if (strcmp(got, want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got, want);
		free(got);
		free(want);
	}
}

static void test_hold_and_flush(void **state)
{
	struct capture c;
	char *got;

	(void)state;
	log_open("t", LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	capture_start(&c);
	log_hold();
	log_info("one");
	log_info("two");
	got = read_back(&c);
	assert_str(got, ""); /* nothing before the flush */
	free(got);
	log_flush();
	got = read_back(&c);
	assert_non_null(strstr(got, "info: one\n"));
	assert_non_null(strstr(got, "info: two\n"));
	assert_true(strstr(got, "one") < strstr(got, "two"));
	free(got);
	log_info("three"); /* not held any more */
	got = read_back(&c);
	assert_non_null(strstr(got, "info: three\n"));
	free(got);
	capture_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_hold_and_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
