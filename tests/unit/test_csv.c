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
		/* Excel where the decimal separator is a comma */
		{"\xef\xbb\xbf" "a;b;c\r\n1,5;\"x;y\";z\r\n",
		 "1:a|b|c/2:1,5|x;y|z/"},
		{"a\tb\n1\t2,3\n", "1:a|b/2:1|2,3/"},
		/* the separator the first line holds most of wins */
		{"a;b;c,d\n1;2;3\n", "1:a|b|c,d/2:1|2|3/"},
		/* separators inside quotes do not count */
		{"\"a;b;c\",d\n1,2\n", "1:a;b;c|d/2:1|2/"},
		/* an empty spreadsheet row is a line of separators */
		{"a;b\n;\n1;2\n;;\n", "1:a|b/3:1|2/"},
		/* a line break inside quotes is data, CRLF or LF */
		{"a;b\r\n\"l1\r\nl2\";x\r\n", "1:a|b/2:l1\r\nl2|x/"},
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

static void test_dialect(void **state)
{
	static const struct {
		const char *text;
		char sep;
		bool crlf, bom;
	} cases[] = {
		{"a,b\n", ',', false, false},
		{"a;b\r\n", ';', true, false},
		{"\xef\xbb\xbf" "a;b\r\n", ';', true, true},
		{"a\tb\tc\n", '\t', false, false},
		{"abc", ',', false, false},
		{"", ',', false, false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct csv_reader rd;

		csv_reader_init(&rd, "t.csv", cases[i].text,
				strlen(cases[i].text));
		if (rd.dialect.sep != cases[i].sep ||
		    rd.dialect.crlf != cases[i].crlf ||
		    rd.dialect.bom != cases[i].bom)
			fail_msg("case %zu: got sep %d crlf %d bom %d, want "
				 "%d %d %d", i, rd.dialect.sep, rd.dialect.crlf,
				 rd.dialect.bom, cases[i].sep, cases[i].crlf,
				 cases[i].bom);
	}
}

static void test_header_is(void **state)
{
	static const struct {
		const char *field, *name;
		bool want;
	} cases[] = {
		{"acronym", "acronym", true},
		{"  Acronym ", "acronym", true},
		{"\tCONTACT_NAME", "contact_name", true},
		{"acronyms", "acronym", false},
		{"", "acronym", false},
		{"acro nym", "acronym", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (csv_header_is(cases[i].field, cases[i].name) !=
		    cases[i].want)
			fail_msg("case %zu: '%s' vs '%s': got %d", i,
				 cases[i].field, cases[i].name, !cases[i].want);
}

/* Formula-like cells get a "'" in front (one more when they already
 * start with "'"), and csv_unneutralise gives back the cell exactly. */
static void test_neutralise(void **state)
{
	static const struct {
		const char *cell, *written;
	} cases[] = {
		{"=HYPERLINK(\"http://x\",\"y\")",
		 "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
		{"+994 12 345", "'+994 12 345"},
		{"-5", "'-5"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "\"'\t=1\""},
		{"\r=1", "\"'\r=1\""},
		{"'=1", "''=1"},
		{"''+1", "'''+1"},
		{"'plain", "'plain"},
		{"''", "''"},
		{"'", "'"},
		{"a=b", "a=b"},
		{"plain", "plain"},
		{"", ""},
		{"x;y", "\"x;y\""},
		{"Müvəkkil", "Müvəkkil"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sbuf out = SBUF_INIT;
		struct csv_reader rd;
		struct csv_record rec = {0};
		struct error err = ERROR_INIT;
		const char *one[] = {cases[i].cell, "end"};

		csv_add_field(&out, cases[i].cell);
		if (strcmp(out.buf, cases[i].written))
			fail_msg("case %zu: wrote [%s], want [%s]", i, out.buf,
				 cases[i].written);
		sbuf_reset(&out);
		csv_add_record(&out, one, 2);
		csv_reader_init(&rd, "rt", out.buf, out.len);
		assert_int_equal(csv_read(&rd, &rec, &err), 1);
		assert_int_equal(rec.count, 2);
		csv_unneutralise(rec.fields[0]);
		if (strcmp(rec.fields[0], cases[i].cell))
			fail_msg("case %zu: read back [%s], want [%s]", i,
				 rec.fields[0], cases[i].cell);
		csv_record_release(&rec);
		sbuf_release(&out);
	}
}

/* What a clerk writes by hand is left alone unless it is exactly what
 * the writer makes of a formula-like cell. */
static void test_unneutralise(void **state)
{
	static const struct {
		const char *cell, *want;
	} cases[] = {
		{"'=1", "=1"},  {"''=1", "'=1"}, {"'\t", "\t"},
		{"'x", "'x"},   {"''x", "''x"},  {"'", "'"},
		{"=1", "=1"},   {"", ""},        {"x'=1", "x'=1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = strdup(cases[i].cell);

		csv_unneutralise(c);
		if (strcmp(c, cases[i].want))
			fail_msg("case %zu: [%s] gave [%s], want [%s]", i,
				 cases[i].cell, c, cases[i].want);
		free(c);
	}
}

/* Every dialect reads back what it wrote, and its first line tells. */
static void test_dialect_round_trip(void **state)
{
	static const struct csv_dialect dialects[] = {
		{',', true, false}, {';', true, true}, {'\t', false, false},
		{';', false, false},
	};
	static const char *const fields[] = {
		"a,b", "c;d", "e\tf", "=1+2", "'-x", "two\nlines",
		"say \"hi\"", "", " lead", "Ελληνικά; 中文, عربي",
	};
	const size_t n = sizeof(fields) / sizeof(fields[0]);

	(void)state;
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
		struct sbuf out = SBUF_INIT;
		struct csv_reader rd;
		struct csv_record rec = {0};
		struct error err = ERROR_INIT;

		if (dialects[i].bom)
			sbuf_addstr(&out, "\xef\xbb\xbf");
		csv_add_record_dialect(&out, &dialects[i], fields, n);
		csv_add_record_dialect(&out, &dialects[i], fields, n);
		csv_reader_init(&rd, "rt", out.buf, out.len);
		if (rd.dialect.sep != dialects[i].sep ||
		    rd.dialect.crlf != dialects[i].crlf ||
		    rd.dialect.bom != dialects[i].bom)
			fail_msg("dialect %zu: detected sep %d crlf %d bom %d",
				 i, rd.dialect.sep, rd.dialect.crlf,
				 rd.dialect.bom);
		for (int r = 0; r < 2; r++) {
			assert_int_equal(csv_read(&rd, &rec, &err), 1);
			assert_int_equal(rec.count, n);
			for (size_t f = 0; f < n; f++) {
				csv_unneutralise(rec.fields[f]);
				if (strcmp(rec.fields[f], fields[f]))
					fail_msg("dialect %zu field %zu: [%s], "
						 "want [%s]", i, f,
						 rec.fields[f], fields[f]);
			}
		}
		assert_int_equal(csv_read(&rd, &rec, &err), 0);
		csv_record_release(&rec);
		sbuf_release(&out);
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
		cmocka_unit_test(test_dialect),
		cmocka_unit_test(test_header_is),
		cmocka_unit_test(test_neutralise),
		cmocka_unit_test(test_unneutralise),
		cmocka_unit_test(test_dialect_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
