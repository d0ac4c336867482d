#include <stdlib.h>
#include <string.h>

#include "chancery/csv.h"
#include "chancery/sbuf.h"
#include "testutil.h"

static void test_read(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* records joined: fields by '|', records by '/' with line */
	} cases[] = {
		{"a,b,c\n", "1:a|b|c/"},
		{"\xef\xbb\xbf" "a,b\r\n1,2\r\n", "1:a|b/2:1|2/"},
		{"\"x, y\",\"say \"\"hi\"\"\"\n", "1:x, y|say \"hi\"/"},
		{"\"two\nlines\",z\nnext,1\n", "1:two\nlines|z/3:next|1/"},
		{"a,,c\n\n\nd\n", "1:a||c/4:d/"},
		{"no newline at end", "1:no newline at end/"},
		{"Müvəkkil,Défenseur\n", "1:Müvəkkil|Défenseur/"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct csv_reader rd;
		struct csv_record rec = {0};
		struct sbuf got = SBUF_INIT;
		struct error err = ERROR_INIT;
		int rc;

		csv_reader_init(&rd, "t.csv", cases[i].text,
				strlen(cases[i].text));
		while ((rc = csv_read(&rd, &rec, &err)) == 1) {
			sbuf_addf(&got, "%u:", rec.line);
			for (size_t f = 0; f < rec.count; f++)
				sbuf_addf(&got, "%s%s", f ? "|" : "",
					  rec.fields[f]);
			sbuf_addch(&got, '/');
		}
		assert_int_equal(rc, 0);
		assert_str(got.buf, cases[i].want);
		csv_record_release(&rec);
		sbuf_release(&got);
	}
}

static void test_errors_name_the_line(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"a,b\n\"open\n", "t.csv:2"},
		{"a,b\nx\"y,z\n", "t.csv:2"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct csv_reader rd;
		struct csv_record rec = {0};
		struct error err = ERROR_INIT;
		int rc;

		csv_reader_init(&rd, "t.csv", cases[i].text,
				strlen(cases[i].text));
		while ((rc = csv_read(&rd, &rec, &err)) == 1)
			;
		assert_int_equal(rc, ERR_DATA);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg,
				 cases[i].want);
		csv_record_release(&rec);
	}
}

static void test_write_round_trip(void **state)
{
	static const char *const fields[] = {"plain", "with, comma",
					     "with \"quote\"", "two\nlines", ""};
	struct sbuf out = SBUF_INIT;
	struct csv_reader rd;
	struct csv_record rec = {0};
	struct error err = ERROR_INIT;

	(void)state;
	csv_add_record(&out, fields, 5);
	csv_reader_init(&rd, "rt", out.buf, out.len);
	assert_int_equal(csv_read(&rd, &rec, &err), 1);
	assert_int_equal(rec.count, 5);
	for (size_t i = 0; i < 5; i++)
		assert_str(rec.fields[i], fields[i]);
	csv_record_release(&rec);
	sbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_write_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
