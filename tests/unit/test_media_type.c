/*
 * media_type: lookups in a table in the mime.types format, written here
 * (the system's /etc/mime.types is used by the template tests end to
 * end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/media_type.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char table_text[] =
	"# comment line\n"
	"\n"
	"application/pdf\t\t\t\t\tpdf\n"
	"application/pkcs7-signature\t\tp7s\n"
	"text/plain\t\t\t\t\ttxt text   # trailing comment\n"
	"application/x-first\t\t\tdup\n"
	"application/x-second\t\t\tdup other\n"
	"no-slash-not-a-type\t\t\tbad\n"
	"image/jpeg\t\t\t\t\tjpeg jpg jpe\r\n";

static void test_lookup(void **state)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{"statement.pdf", "application/pdf"},
		{"STATEMENT.PDF", "application/pdf"},
		{"statement.pdf.p7s", "application/pkcs7-signature"},
		{"notes.txt", "text/plain"},
		{"notes.text", "text/plain"},
		{"photo.jpg", "image/jpeg"}, /* a CRLF line */
		{"photo.jpe", "image/jpeg"},
		{"x.dup", "application/x-first"},
		{"x.other", "application/x-second"},
		{"x.bad", MEDIA_TYPE_DEFAULT},
		{"x.comment", MEDIA_TYPE_DEFAULT},
		{"README", MEDIA_TYPE_DEFAULT},
		{"trailing.", MEDIA_TYPE_DEFAULT},
		{"dir.pdf/file", MEDIA_TYPE_DEFAULT},
		{"archive.unknown", MEDIA_TYPE_DEFAULT},
	};
	char *dir = test_tmpdir(), *path = test_write_file(dir, "mime.types",
							    table_text);
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(media_type_load(path, &err), 0);
	for (size_t i = 0; i < N(cases); i++) {
		const char *got = media_type_of(cases[i].name);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", cases[i].name, got,
				 cases[i].want);
	}
	free(path);
	test_rmtree(dir);
}

static void test_missing_table(void **state)
{
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(media_type_load("/nonexistent/mime.types", &err),
			 ERR_NOINPUT);
	assert_non_null(strstr(err.msg, "/nonexistent/mime.types: cannot "
				       "read the media types"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_missing_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
