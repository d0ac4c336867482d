#include <stdlib.h>
#include <string.h>

#include "chancery/json.h"
#include "chancery/sbuf.h"
#include "chancery/table.h"
#include "chancery/utf8.h"
#include "testutil.h"

static const char *colour_state(const char *header, const char *text,
				void *arg)
{
	(void)arg;
	if (strcmp(header, "state") != 0)
		return NULL;
	return strcmp(text, "sent") == 0 ? "32" : "31";
}

/* Removes every ESC [ ... m sequence. */
static void strip_sgr(char *s)
{
	char *out = s;

	for (char *p = s; *p; p++) {
		if (*p == '\033') {
			while (*p && *p != 'm')
				p++;
			continue;
		}
		*out++ = *p;
	}
	*out = '\0';
}

static struct table *sample(void)
{
	static const char *const headers[] = {"body", "state", "reply"};
	struct table *t = table_new(3, headers);
	static const char *const rows[][3] = {
		{"UNSG", "sent", "250 2.0.0 queued as 4FzQ"},
		{"Défenseur des droits", "failed", "550 5.1.1 no such user"},
		{"OSCE", NULL, "multi\nline"},
	};

	for (size_t i = 0; i < 3; i++) {
		table_row(t);
		for (size_t c = 0; c < 3; c++)
			table_text(t, rows[i][c]);
	}
	return t;
}

static void test_text_is_aligned_by_visible_width(void **state)
{
	struct table *t = sample();
	struct sbuf out = SBUF_INIT;

	(void)state;
	table_format_text(t, &out);
	assert_str(out.buf,
		   "BODY                  STATE   REPLY\n"
		   "UNSG                  sent    250 2.0.0 queued as 4FzQ\n"
		   "Défenseur des droits  failed  550 5.1.1 no such user\n"
		   "OSCE                  -       multi line\n");
	sbuf_release(&out);
	table_free(t);
}

/* Issue 15: an escape sequence in a name was played on the terminal. It
 * is shown escaped; valid UTF-8 text is left as it is. */
static void test_escape_for_terminal(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"Défenseur des droits", "Défenseur des droits"},
		{"Evil\033[2JBody", "Evil\\x1b[2JBody"},
		{"bell\a del\x7f", "bell\\x07 del\\x7f"},
		{"line\nbreak\ttab", "line\\x0abreak\\x09tab"},
		{"c1 \xc2\x9b" "2J", "c1 \\u009b2J"},
		{"bad \xff\xc3(", "bad \\xff\\xc3("},
		{"世界 👍", "世界 👍"},
		{"gnp\xe2\x80\xae.exe", "gnp\\u202e.exe"},
		{"a\xe2\x80\xaa" "b\xe2\x81\xa6" "c\xe2\x81\xa9",
		 "a\\u202ab\\u2066c\\u2069"},
		{"مكتب", "مكتب"},
		{"", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = utf8_escaped(cases[i].in);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got,
				 cases[i].want);
		free(got);
	}
	assert_null(utf8_escaped(NULL));
}

static void test_text_cells_are_escaped(void **state)
{
	static const char *const headers[] = {"name", "kind"};
	struct table *t = table_new(2, headers);
	struct sbuf out = SBUF_INIT;

	(void)state;
	table_row(t);
	table_text(t, "Evil\033[31mBody");
	table_text(t, "ngo");
	table_row(t);
	table_text(t, "Défenseur");
	table_text(t, "ombudsman");
	table_format_text(t, &out);
	assert_str(out.buf, "NAME              KIND\n"
			    "Evil\\x1b[31mBody  ngo\n"
			    "Défenseur         ombudsman\n");
	sbuf_release(&out);
	table_free(t);
}

/* Colour only adds escape sequences: without them the text is the same. */
static void test_styled_text_only_adds_colour(void **state)
{
	struct table *t = sample();
	struct sbuf plain = SBUF_INIT, styled = SBUF_INIT;

	(void)state;
	table_format_text(t, &plain);
	table_format_text_styled(t, &styled, colour_state, NULL);
	assert_non_null(strstr(styled.buf, "\033[32msent\033[0m"));
	assert_non_null(strstr(styled.buf, "\033[31mfailed\033[0m"));
	assert_non_null(strstr(styled.buf, "\033[1mBODY\033[0m"));
	strip_sgr(styled.buf);
	assert_str(styled.buf, plain.buf);
	sbuf_release(&plain);
	sbuf_release(&styled);
	table_free(t);
}

static void test_csv_and_json(void **state)
{
	struct table *t = sample();
	struct sbuf out = SBUF_INIT;
	struct json js;

	(void)state;
	table_format_csv(t, &out);
	assert_str(out.buf, "body,state,reply\r\n"
			    "UNSG,sent,250 2.0.0 queued as 4FzQ\r\n"
			    "Défenseur des droits,failed,550 5.1.1 no such user\r\n"
			    "OSCE,,\"multi\nline\"\r\n");
	sbuf_reset(&out);
	json_init(&js, &out, false);
	table_format_json(t, &js);
	assert_non_null(strstr(out.buf, "{\"body\":\"OSCE\",\"state\":null,"
					"\"reply\":\"multi\\nline\"}"));
	sbuf_release(&out);
	table_free(t);
}

/* A relay's diagnostic is text from outside: in CSV it must not reach a
 * spreadsheet as a formula; the JSON form carries it as it came. */
static void test_csv_neutralises_formulas(void **state)
{
	static const char *const cols[] = {"body", "reply"};
	static const struct {
		const char *cell, *csv;
	} cases[] = {
		{"=HYPERLINK(\"http://x\",\"y\")",
		 "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"+1 555", "'+1 555"},
		{"-1", "'-1"},
		{"'=x", "''=x"},
		{"550 5.1.1 no such user", "550 5.1.1 no such user"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct table *t = table_new(2, cols);
		struct sbuf out = SBUF_INIT, want = SBUF_INIT;

		table_row(t);
		table_text(t, "UNSG");
		table_text(t, cases[i].cell);
		table_format_csv(t, &out);
		sbuf_addf(&want, "body,reply\r\nUNSG,%s\r\n", cases[i].csv);
		if (strcmp(out.buf, want.buf))
			fail_msg("case %zu: got [%s], want [%s]", i, out.buf,
				 want.buf);
		sbuf_release(&out);
		sbuf_release(&want);
		table_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_is_aligned_by_visible_width),
		cmocka_unit_test(test_styled_text_only_adds_colour),
		cmocka_unit_test(test_csv_and_json),
		cmocka_unit_test(test_csv_neutralises_formulas),
		cmocka_unit_test(test_escape_for_terminal),
		cmocka_unit_test(test_text_cells_are_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
