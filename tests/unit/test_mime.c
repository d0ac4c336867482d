/*
 * Tests of mime's encoders: exact output for the cases that matter, and
 * what GMime's decoders make of it for the rest (an independent reader).
 */
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/mime.h"
#include "chancery/xalloc.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every line of s ends in CRLF and holds at most max octets. */
static void assert_lines(const char *s, size_t max)
{
	size_t col = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '\n') {
			assert_true(p > s && p[-1] == '\r');
			col = 0;
		} else if (*p != '\r' && ++col > max) {
			fail_msg("line longer than %zu in:\n%s", max, s);
		}
	}
}

static char *qp_decode(const char *s)
{
	size_t len = strlen(s);
	char *out = xmalloc(len + 1);
	int state = 0;
	guint32 save = 0;
	size_t n = g_mime_encoding_quoted_decode_step((const unsigned char *)s,
						      len, (unsigned char *)out,
						      &state, &save);

	out[n] = '\0';
	return out;
}

static void test_qp(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"", ""},
		{"plain\n", "plain\r\n"},
		{"no final break", "no final break=\r\n"},
		{"a = b\n", "a =3D b\r\n"},
		{"trailing space \nand tab\t\n", "trailing space=20\r\nand tab=09\r\n"},
		{"crlf\r\nin\r\n", "crlf\r\nin\r\n"},
		{"lone\rcr\n", "lone=0Dcr\r\n"},
		{"Müvəkkil\n", "M=C3=BCv=C9=99kkil\r\n"},
		{".\n", ".\r\n"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct sbuf out = SBUF_INIT;

		mime_qp_encode(cases[i].in, strlen(cases[i].in), &out);
		if (strcmp(out.buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out.buf,
				 cases[i].want);
		sbuf_release(&out);
	}
}

/* Long lines, encodings at every column, trailing blanks: lines stay
 * within 76 and GMime decodes back the input (in CRLF). */
static void test_qp_round_trip(void **state)
{
	static const char *const pieces[] = {"a", " ", "=", "ə", "\t", "xyz",
					     "ü ", "\n", "  \n"};
	(void)state;
	mime_init();
	for (unsigned seed = 1; seed <= 200; seed++) {
		struct sbuf in = SBUF_INIT, crlf = SBUF_INIT, out = SBUF_INIT;
		unsigned r = seed;
		char *back;

		for (int i = 0; i < 400; i++) {
			r = r * 1103515245u + 12345u;
			sbuf_addstr(&in, pieces[(r >> 16) % N(pieces)]);
		}
		for (size_t i = 0; i < in.len; i++) {
			if (in.buf[i] == '\n')
				sbuf_addch(&crlf, '\r');
			sbuf_addch(&crlf, in.buf[i]);
		}
		mime_qp_encode(in.buf, in.len, &out);
		assert_lines(out.buf, 76);
		back = qp_decode(out.buf);
		if (strcmp(back, crlf.buf) != 0)
			fail_msg("seed %u: round trip differs", seed);
		free(back);
		sbuf_release(&in);
		sbuf_release(&crlf);
		sbuf_release(&out);
	}
}

static void test_base64(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		/* RFC 4648 10 */
		{"", ""},
		{"f", "Zg==\r\n"},
		{"fo", "Zm8=\r\n"},
		{"foo", "Zm9v\r\n"},
		{"foob", "Zm9vYg==\r\n"},
		{"fooba", "Zm9vYmE=\r\n"},
		{"foobar", "Zm9vYmFy\r\n"},
	};
	unsigned char big[1000];
	struct sbuf out = SBUF_INIT;
	gsize n;
	guchar *back;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		sbuf_reset(&out);
		mime_base64_encode((const unsigned char *)cases[i].in,
				   strlen(cases[i].in), &out);
		if (strcmp(out.buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out.buf,
				 cases[i].want);
	}
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	sbuf_reset(&out);
	mime_base64_encode(big, sizeof(big), &out);
	assert_lines(out.buf, 76);
	back = g_base64_decode(out.buf, &n);
	assert_int_equal(n, sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	g_free(back);
	sbuf_release(&out);
}

static void test_header_text(void **state)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{"Statement", "Subject: Statement\r\n"},
		{"a =?utf-8?q?x?= b", "Subject: =?UTF-8?Q?a_=3D=3Futf-8=3Fq=3Fx=3F=3D_b?=\r\n"},
		{"Müvəkkil", "Subject: =?UTF-8?Q?M=C3=BCv=C9=99kkil?=\r\n"},
		{"one two three four five six seven eight nine ten eleven "
		 "twelve thirteen",
		 "Subject: one two three four five six seven eight nine ten "
		 "eleven twelve\r\n thirteen\r\n"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct sbuf out = SBUF_INIT;

		mime_header_text(&out, "Subject", cases[i].value);
		if (strcmp(out.buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out.buf,
				 cases[i].want);
		sbuf_release(&out);
	}
}

/* What a reader gets back from a header we wrote: unfolded, decoded. */
static void test_header_round_trip(void **state)
{
	static const char *const values[] = {
		"Statement on the 34th anniversary of the Khojaly genocide, "
		"addressed to the Secretary-General of the United Nations",
		"Azərbaycan Respublikasının İnsan Hüquqları üzrə Müvəkkili "
		"(Ombudsman) — 34-cü ildönümü münasibətilə bəyanat",
		"word-without-any-space-that-is-longer-than-a-line-can-hold-"
		"in-a-header-and-must-stay-whole",
		"double  spaces  stay   as  they are",
	};

	(void)state;
	mime_init();
	for (size_t i = 0; i < N(values); i++) {
		struct sbuf out = SBUF_INIT;
		char *unfolded, *decoded;

		mime_header_text(&out, "Subject", values[i]);
		if (i != 2)
			assert_lines(out.buf, 78);
		sbuf_setlen(&out, out.len - 2);
		unfolded = g_mime_utils_header_unfold(out.buf + strlen("Subject: "));
		decoded = g_mime_utils_header_decode_text(NULL, unfolded);
		if (strcmp(decoded, values[i]) != 0)
			fail_msg("case %zu: got '%s'", i, decoded);
		g_free(unfolded);
		g_free(decoded);
		sbuf_release(&out);
	}
}

static void test_mailbox(void **state)
{
	static const struct {
		const char *display, *addr, *want_name;
	} cases[] = {
		{NULL, "a@example.org", NULL},
		{"Claire Hédon", "c@example.fr", "Claire Hédon"},
		{"Commissioner for Human Rights (Ombudsman) of the Republic of "
		 "Azerbaijan", "office@example.az",
		 "Commissioner for Human Rights (Ombudsman) of the Republic of "
		 "Azerbaijan"},
		{"Smith, John \"JJ\" \\ Jr.", "j@example.org",
		 "Smith, John \"JJ\" \\ Jr."},
		{"Azərbaycan Respublikasının İnsan Hüquqları üzrə Müvəkkili "
		 "(Ombudsman)", "ombudsman@example.az",
		 "Azərbaycan Respublikasının İnsan Hüquqları üzrə Müvəkkili "
		 "(Ombudsman)"},
	};

	(void)state;
	mime_init();
	for (size_t i = 0; i < N(cases); i++) {
		struct sbuf out = SBUF_INIT;
		InternetAddressList *list;
		InternetAddress *ia;

		mime_header_mailbox(&out, "To", cases[i].display, cases[i].addr);
		assert_lines(out.buf, 78);
		list = internet_address_list_parse(NULL, out.buf + 4);
		assert_non_null(list);
		assert_int_equal(internet_address_list_length(list), 1);
		ia = internet_address_list_get_address(list, 0);
		assert_str(internet_address_mailbox_get_addr(
				   INTERNET_ADDRESS_MAILBOX(ia)),
			   cases[i].addr);
		if (cases[i].want_name)
			assert_str(internet_address_get_name(ia),
				   cases[i].want_name);
		g_object_unref(list);
		sbuf_release(&out);
	}
}

/* GMime reads the parameter back as the value that went in. */
static void assert_param_reads_back(const char *header, const char *value)
{
	/* header is "X: a; ...": give the parser a type in place of "a" */
	char *unfolded = g_mime_utils_header_unfold(header + strlen("X: a"));
	char *typed = g_strdup_printf("a/b%s", unfolded);
	GMimeContentType *ct = g_mime_content_type_parse(NULL, typed);

	assert_str(g_mime_content_type_get_parameter(ct, "name"), value);
	g_object_unref(ct);
	g_free(typed);
	g_free(unfolded);
}

static void test_param(void **state)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{"statement.pdf", "X: a; name=statement.pdf"},
		{"the statement.pdf", "X: a; name=\"the statement.pdf\""},
		{"say \"hi\".pdf", "X: a; name=\"say \\\"hi\\\".pdf\""},
		{"bəyanat.pdf", "X: a; name*=utf-8''b%C9%99yanat.pdf"},
		/* continuations of at most 60, never splitting a %XX */
		{"Azərbaycan Respublikasının İnsan Hüquqları üzrə Müvəkkili.pdf",
		 "X: a;\r\n name*0*=utf-8''Az%C9%99rbaycan%20Respublikas%C4%B1n%"
		 "C4%B1n%20%C4%B0nsan%20H;\r\n name*1*=%C3%BCquqlar%C4%B1%20%C3"
		 "%BCzr%C9%99%20M%C3%BCv%C9%99kkili.pd;\r\n name*2*=f"},
	};

	(void)state;
	mime_init();
	for (size_t i = 0; i < N(cases); i++) {
		struct sbuf out = SBUF_INIT;

		sbuf_addstr(&out, "X: a");
		mime_param(&out, "name", cases[i].value);
		if (strcmp(out.buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out.buf,
				 cases[i].want);
		assert_lines(out.buf, 78);
		assert_param_reads_back(out.buf, cases[i].value);
		sbuf_release(&out);
	}
}

static void test_boundary(void **state)
{
	char a[MIME_BOUNDARY_SIZE], b[MIME_BOUNDARY_SIZE];

	(void)state;
	mime_boundary("alt", a);
	mime_boundary("alt", b);
	assert_int_equal(strncmp(a, "=_alt-", 6), 0);
	assert_int_equal(strlen(a), 6 + 24);
	assert_true(strcmp(a, b) != 0);
}

/*
 * mime_qp_encode_literals gives mime_qp_encode's octets whatever the
 * literals claim: at their place, shifted, not there at all, straddling a
 * CRLF, overlapping, past the end; each text encoded twice with one
 * cache (first filling it, then reading it).
 */
static void test_qp_literals(void **state)
{
	static const char lit_a[] = "x\nfixed line   \n=2E.\n\ttab\t\ny";
	static const char lit_b[] = "\r\nCRLF line\r\n";
	static const char lit_c[] = "\n\xc3\xbc long line long line long line "
		"long line long line long line long line long\n";
	static const struct {
		const char *text;
		struct mime_literal lit[3];
		size_t nlit;
	} cases[] = {
		{"abcx\nfixed line   \n=2E.\n\ttab\t\nyz", {{3, 28, lit_a}}, 1},
		{"Ax\nfixed line   \n=2E.\n\ttab\t\ny", {{1, 28, lit_a}}, 1},
		{"AAx\nfixed line   \n=2E.\n\ttab\t\ny", {{1, 28, lit_a}}, 1},
		{"no literal here at all\n", {{0, 28, lit_a}}, 1},
		{"v\r\nCRLF line\r\nw", {{1, 13, lit_b}}, 1},
		{"v\r\r\nCRLF line\r\n", {{2, 13, lit_b}}, 1},
		{"a very long personal text before the literal, past the limit "
		 "of a line\n\xc3\xbc long line long line long line long line long "
		 "line long line long line long\n", {{70, 79, lit_c}}, 1},
		{"\n\xc3\xbc long line long line long line long line long line "
		 "long line long line long\n\r\nCRLF line\r\n",
		 {{0, 79, lit_c}, {79, 13, lit_b}}, 2},
		{"\r\nCRLF line\r\n", {{0, 13, lit_b}, {0, 13, lit_b}}, 2},
		{"short", {{3, 13, lit_b}, {100, 13, lit_b}}, 2},
	};
	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct mime_qp_cache *cache = mime_qp_cache_new();

		for (int round = 0; round < 2; round++) {
			struct sbuf want = SBUF_INIT, got = SBUF_INIT;
			size_t len = strlen(cases[i].text);

			sbuf_addstr(&want, "head:");
			sbuf_addstr(&got, "head:");
			mime_qp_encode(cases[i].text, len, &want);
			mime_qp_encode_literals(cases[i].text, len, cases[i].lit,
						cases[i].nlit, cache, &got);
			if (strcmp(got.buf, want.buf) != 0 || got.len != want.len)
				fail_msg("case %zu round %d: got '%s', want '%s'",
					 i, round, got.buf, want.buf);
			sbuf_release(&want);
			sbuf_release(&got);
		}
		mime_qp_cache_free(cache);
	}
	mime_qp_cache_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_qp_round_trip),
		cmocka_unit_test(test_qp_literals),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_header_text),
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_mailbox),
		cmocka_unit_test(test_param),
		cmocka_unit_test(test_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
