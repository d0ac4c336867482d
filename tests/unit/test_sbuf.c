#include <stdlib.h>
#include <string.h>

#include "chancery/sbuf.h"
#include "chancery/xalloc.h"
#include "testutil.h"

static void test_init_is_empty_and_terminated(void **state)
{
	struct sbuf sb = SBUF_INIT;

	(void)state;
	assert_non_null(sb.buf);
	assert_int_equal(sb.len, 0);
	assert_str(sb.buf, "");
	sbuf_release(&sb);
}

static void test_add_and_format(void **state)
{
	static const struct {
		const char *parts[4];
		const char *want;
	} cases[] = {
		{{"a", "b", "c", NULL}, "abc"},
		{{"", "", NULL, NULL}, ""},
		{{"Müvəkkil", " ", "UNSG", NULL}, "Müvəkkil UNSG"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = SBUF_INIT;

		for (int j = 0; cases[i].parts[j]; j++)
			sbuf_addstr(&sb, cases[i].parts[j]);
		assert_str(sb.buf, cases[i].want);
		assert_int_equal(sb.len, strlen(cases[i].want));
		sbuf_release(&sb);
	}
}

static void test_grows_past_many_appends(void **state)
{
	struct sbuf sb = SBUF_INIT;

	(void)state;
	for (int i = 0; i < 10000; i++)
		sbuf_addf(&sb, "%04d,", i % 10000);
	assert_int_equal(sb.len, 50000);
	assert_int_equal(sb.buf[sb.len], '\0');
	assert_memory_equal(sb.buf + 49995, "9999,", 5);
	sbuf_release(&sb);
}

static void test_trim_and_detach(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"  a b  ", "a b"}, {"\t\n x\r\n", "x"}, {"   ", ""}, {"", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf sb = SBUF_INIT;
		char *s;
		size_t len;

		sbuf_addstr(&sb, cases[i].in);
		sbuf_trim(&sb);
		s = sbuf_detach(&sb, &len);
		assert_str(s, cases[i].want);
		assert_int_equal(len, strlen(cases[i].want));
		assert_int_equal(sb.len, 0);
		assert_str(sb.buf, "");
		free(s);
	}
}

static void test_read_file_limits(void **state)
{
	struct error err = ERROR_INIT;
	struct sbuf sb = SBUF_INIT;
	char *dir = test_tmpdir();
	char *path = test_write_file(dir, "f.txt", "0123456789");
	char *missing = xasprintf("%s/none", dir);

	(void)state;
	assert_int_equal(sbuf_read_file(&sb, path, 100, &err), 0);
	assert_str(sb.buf, "0123456789");
	sbuf_reset(&sb);
	assert_int_equal(sbuf_read_file(&sb, path, 5, &err), ERR_DATA);
	assert_non_null(strstr(err.msg, "larger than the limit"));
	assert_int_equal(sb.len, 0);
	assert_int_equal(sbuf_read_file(&sb, missing, 5, &err), ERR_NOINPUT);
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(sbuf_read_file(&sb, dir, 5, &err), ERR_NOINPUT);
	assert_non_null(strstr(err.msg, "is a directory"));
	sbuf_release(&sb);
	free(path);
	free(missing);
	test_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty_and_terminated),
		cmocka_unit_test(test_add_and_format),
		cmocka_unit_test(test_grows_past_many_appends),
		cmocka_unit_test(test_trim_and_detach),
		cmocka_unit_test(test_read_file_limits),
	};
	return cmocka_run_group_tests_name("sbuf", tests, NULL, NULL);
}
