/*
 * Tests of message: compose, then parse the output back with GMime and
 * check that every header decodes to the UTF-8 that went in, the MIME
 * structure, the attachment's bytes, CRLF line ends and line lengths.
 */
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/locale_format.h"
#include "chancery/message.h"
#include "chancery/mime.h"
#include "chancery/xalloc.h"
#include "testutil.h"

#define OMBUDSMAN_AZ "Azərbaycan Respublikasının İnsan Hüquqları üzrə " \
		     "Müvəkkili (Ombudsman)"

struct fixture {
	struct conf cfg;
	struct registry_body body;
	struct registry_contact contact;
	struct render_context ctx;
};

static void fixture_init(struct fixture *f, const char *body_name,
			 const char *contact_name, const char *email)
{
	memset(f, 0, sizeof(*f));
	conf_init(&f->cfg);
	free(f->cfg.sender.name);
	free(f->cfg.sender.address);
	free(f->cfg.sender.reply_to);
	f->cfg.sender.name = xstrdup("Müvəkkil Aparatı");
	f->cfg.sender.address = xstrdup("statements@ombudsman.example.az");
	f->cfg.sender.reply_to = xstrdup("office@ombudsman.example.az");
	f->body.id = 1;
	f->body.acronym = xstrdup("OMB");
	f->body.name = xstrdup(body_name);
	f->body.kind = xstrdup("nhri");
	f->contact.id = 1;
	f->contact.body_id = 1;
	f->contact.email = xstrdup(email);
	f->contact.name = xstrdup(contact_name);
	f->contact.role = xstrdup("Head of the international department");
	f->ctx.cfg = &f->cfg;
	f->ctx.body = &f->body;
	f->ctx.contact = &f->contact;
	f->ctx.campaign_name = "khojaly-33";
	f->ctx.send_at = 1740522600; /* 2025-02-25T22:30:00Z */
	f->ctx.tz = "Asia/Baku";     /* ... already 26 February there */
	f->ctx.event_date = "1992-02-26";
	f->ctx.message_id = "c1.d1.42@ombudsman.example.az";
	f->ctx.envid = "c1.d1";
}

static void fixture_release(struct fixture *f)
{
	conf_release(&f->cfg);
	/* freed here rather than with registry_*_release, so that this
	 * test needs nothing of the registry but its structs */
	free(f->body.acronym);
	free(f->body.name);
	free(f->body.kind);
	free(f->contact.email);
	free(f->contact.name);
	free(f->contact.role);
}

static GMimeMessage *parse_back(const struct sbuf *raw)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(raw->buf, raw->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(s);
	assert_non_null(m);
	return m;
}

/* Every line ends in CRLF, none is longer than 998 octets, a header
 * line with an encoded-word is at most 76 (RFC 2047 2), and the header
 * block is 7-bit. */
static void assert_wire_form(const struct sbuf *raw)
{
	size_t line = 0, start = 0;
	const char *end_of_headers = strstr(raw->buf, "\r\n\r\n");

	assert_non_null(end_of_headers);
	for (size_t i = 0; i < raw->len; i++) {
		if (raw->buf[i] == '\n') {
			assert_true(i > 0 && raw->buf[i - 1] == '\r');
			if (raw->buf + i < end_of_headers) {
				char *l = xstrndup(raw->buf + start,
						   i - 1 - start);

				if (strstr(l, "=?") && strlen(l) > 76)
					fail_msg("header line of %zu: %s",
						 strlen(l), l);
				free(l);
			}
			line = 0;
			start = i + 1;
			continue;
		}
		assert_true(++line <= 999);
		if (raw->buf + i < end_of_headers)
			assert_true((unsigned char)raw->buf[i] < 0x80);
	}
}

static char *part_text(GMimeObject *obj)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *b;
	char *s;

	g_mime_data_wrapper_write_to_stream(w, mem);
	b = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = xmalloc(b->len + 1); /* attachments may hold NUL bytes */
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	g_object_unref(mem);
	/* text parts come back with the wire's CRLF: compare in LF */
	if (!g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
					 "application", "*")) {
		char *w = s;

		for (char *r = s; *r; r++)
			if (!(r[0] == '\r' && r[1] == '\n'))
				*w++ = *r;
		*w = '\0';
	}
	return s;
}

static const char *mailbox_name(InternetAddressList *l)
{
	return internet_address_get_name(internet_address_list_get_address(l, 0));
}

static const char *mailbox_addr(InternetAddressList *l)
{
	return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
		internet_address_list_get_address(l, 0)));
}

static int64_t add_template(struct test_db *t, const char *text)
{
	struct template_info info;
	struct error err = ERROR_INIT;
	char *path = test_write_file(t->dir, "m.tmpl", text);
	bool unchanged;
	int64_t id;

	if (template_add(t->db, "m", path, &info, &unchanged, &err))
		fail_msg("template_add: %s", err.msg);
	id = info.id;
	template_info_release(&info);
	free(path);
	return id;
}

static void test_full_message_round_trip(void **state)
{
	static const unsigned char pdf[] = "%PDF-1.4\n\x00\x01\x02\xff\xfe"
					   "binary tail\r\n";
	struct test_db t;
	struct fixture f;
	struct error err = ERROR_INIT;
	struct sbuf raw = SBUF_INIT;
	GMimeMessage *m;
	GMimeObject *top, *alt, *att;
	char *text, *html, *bytes;
	FILE *fp;

	(void)state;
	mime_init();
	clock_set_fake(1740522600);
	test_db_open(&t);
	fixture_init(&f, OMBUDSMAN_AZ, OMBUDSMAN_AZ, "sabina@ombudsman.example.az");
	f.ctx.campaign_name = "Khojaly <33> & \"more\"";
	{
		char *p = xasprintf("%s/Bəyanat 33.pdf", t.dir);

		fp = fopen(p, "wb");
		assert_non_null(fp);
		fwrite(pdf, 1, sizeof(pdf) - 1, fp);
		fclose(fp);
		free(p);
	}
	int64_t id = add_template(&t,
		"Subject: Xocalı soyqırımının {{anniversary.ordinal}} "
		"ildönümü — {{body.name}}\n"
		"Attach: Bəyanat 33.pdf\n"
		"\n"
		"Hörmətli {{contact.name}},\n"
		"{{anniversary.years}} years since {{event.date}}; sent "
		"{{campaign.date}}.\n"
		TEMPLATE_HTML_SEPARATOR "\n"
		"<p>Hörmətli {{contact.name}} & {{campaign.name}}</p>\n");
	assert_int_equal(message_render(t.db, id, &f.ctx, &raw, &err), 0);
	assert_wire_form(&raw);
	m = parse_back(&raw);

	assert_str(g_mime_message_get_subject(m),
		   "Xocalı soyqırımının 33rd ildönümü — " OMBUDSMAN_AZ);
	assert_null(strstr(raw.buf, "Xocalı")); /* encoded on the wire */
	assert_str(mailbox_name(g_mime_message_get_to(m)), OMBUDSMAN_AZ);
	assert_str(mailbox_addr(g_mime_message_get_to(m)),
		   "sabina@ombudsman.example.az");
	assert_str(mailbox_name(g_mime_message_get_from(m)), "Müvəkkil Aparatı");
	assert_str(mailbox_addr(g_mime_message_get_from(m)),
		   "statements@ombudsman.example.az");
	assert_str(mailbox_addr(g_mime_message_get_reply_to(m)),
		   "office@ombudsman.example.az");
	assert_str(g_mime_message_get_message_id(m),
		   "c1.d1.42@ombudsman.example.az");
	assert_str(g_mime_object_get_header(GMIME_OBJECT(m), "MIME-Version"),
		   "1.0");
	assert_str(g_mime_object_get_header(GMIME_OBJECT(m),
					    "X-Chancery-Delivery"), "c1.d1");
	assert_non_null(g_mime_message_get_date(m));

	top = g_mime_message_get_mime_part(m);
	assert_true(g_mime_content_type_is_type(
		g_mime_object_get_content_type(top), "multipart", "mixed"));
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(top)), 2);
	alt = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
	assert_true(g_mime_content_type_is_type(
		g_mime_object_get_content_type(alt), "multipart",
		"alternative"));
	text = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(alt), 0));
	html = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(alt), 1));
	assert_str(text, "Hörmətli " OMBUDSMAN_AZ ",\n33 years since 26 "
			 "February 1992; sent 26 February 2025.\n");
	/* the author's HTML stays, the variables are escaped */
	assert_str(html, "<p>Hörmətli " OMBUDSMAN_AZ " & Khojaly &lt;33&gt; "
			 "&amp; &quot;more&quot;</p>\n");
	assert_int_equal(g_mime_part_get_content_encoding(GMIME_PART(
				 g_mime_multipart_get_part(GMIME_MULTIPART(alt),
							   0))),
			 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	att = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
	assert_true(g_mime_content_type_is_type(
		g_mime_object_get_content_type(att), "application", "pdf"));
	assert_str(g_mime_part_get_filename(GMIME_PART(att)), "Bəyanat 33.pdf");
	assert_int_equal(g_mime_part_get_content_encoding(GMIME_PART(att)),
			 GMIME_CONTENT_ENCODING_BASE64);
	bytes = part_text(att);
	assert_memory_equal(bytes, pdf, sizeof(pdf) - 1);

	free(text);
	free(html);
	free(bytes);
	g_object_unref(m);
	sbuf_release(&raw);
	fixture_release(&f);
	test_db_close(&t);
	clock_clear_fake();
}

static void test_text_only_french(void **state)
{
	struct test_db t;
	struct fixture f;
	struct error err = ERROR_INIT;
	struct sbuf raw = SBUF_INIT;
	GMimeMessage *m;
	GMimeObject *top;
	char *text;

	(void)state;
	mime_init();
	test_db_open(&t);
	fixture_init(&f, "Défenseur des droits", "Claire Hédon",
		     "claire@defenseurdesdroits.example.fr");
	f.ctx.event_date = NULL;
	int64_t id = add_template(&t,
		"Subject: Déclaration à l'attention du {{body.name}}\n"
		"From: Ombudsman <ombudsman@example.az>\n\n"
		"Madame {{contact.name}} ({{contact.role}}),\n");
	assert_int_equal(message_render(t.db, id, &f.ctx, &raw, &err), 0);
	assert_wire_form(&raw);
	m = parse_back(&raw);
	assert_str(g_mime_message_get_subject(m),
		   "Déclaration à l'attention du Défenseur des droits");
	assert_str(mailbox_name(g_mime_message_get_from(m)), "Ombudsman");
	assert_str(mailbox_name(g_mime_message_get_to(m)), "Claire Hédon");
	top = g_mime_message_get_mime_part(m);
	assert_true(g_mime_content_type_is_type(
		g_mime_object_get_content_type(top), "text", "plain"));
	assert_str(g_mime_object_get_content_type_parameter(top, "charset"),
		   "utf-8");
	text = part_text(top);
	assert_str(text, "Madame Claire Hédon (Head of the international "
			 "department),\n");
	free(text);
	g_object_unref(m);
	sbuf_release(&raw);
	fixture_release(&f);
	test_db_close(&t);
}

/* Header injection: a line break from any source is refused, naming it. */
static void test_header_injection(void **state)
{
	static const struct {
		const char *body_name, *contact_name, *override, *want;
	} cases[] = {
		{"Office\r\nBcc: spy@example.org", "X", NULL,
		 "variable 'body.name' holds a line break, refused in the "
		 "Subject header"},
		{"Office", "Evil\nBcc: spy@example.org", NULL,
		 "variable 'contact.name' holds a line break"},
		{"Office", "X", "A <a@example.org>\r\nBcc: b@example.org",
		 "'sender override' holds a line break"},
	};
	struct test_db t;

	(void)state;
	mime_init();
	test_db_open(&t);
	int64_t id = add_template(&t, "Subject: To {{body.name}}\n\nHi\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct error err = ERROR_INIT;
		struct sbuf raw = SBUF_INIT;
		int rc;

		fixture_init(&f, cases[i].body_name, cases[i].contact_name,
			     "x@example.org");
		f.ctx.sender_override = cases[i].override;
		rc = message_render(t.db, id, &f.ctx, &raw, &err);
		if (rc != ERR_DATA || !strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc,
				 err.msg, cases[i].want);
		assert_int_equal(raw.len, 0);
		sbuf_release(&raw);
		fixture_release(&f);
	}
	test_db_close(&t);
	clock_clear_fake();
}

static void test_bad_inputs(void **state)
{
	static const struct {
		const char *email, *tz, *event, *from, *want;
	} cases[] = {
		{"not an address", "UTC", NULL, NULL, "contact.email"},
		{"x@example.org", "Mars/Olympus", NULL, NULL,
		 "unknown time zone 'Mars/Olympus'"},
		{"x@example.org", "UTC", "1992-02-30", NULL,
		 "event date '1992-02-30'"},
		{"x@example.org", "UTC", NULL, "a@example.org, b@example.org",
		 "is not one address"},
	};
	struct test_db t;

	(void)state;
	mime_init();
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct error err = ERROR_INIT;
		struct sbuf raw = SBUF_INIT;
		char *src = xasprintf("Subject: s\n%s%s%s\nHi\n",
				      cases[i].from ? "From: " : "",
				      cases[i].from ? cases[i].from : "",
				      cases[i].from ? "\n" : "");
		int64_t id = add_template(&t, src);
		int rc;

		fixture_init(&f, "Office", "X", cases[i].email);
		f.ctx.tz = cases[i].tz;
		f.ctx.event_date = cases[i].event;
		rc = message_render(t.db, id, &f.ctx, &raw, &err);
		if (rc == 0 || !strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc,
				 err.msg, cases[i].want);
		free(src);
		sbuf_release(&raw);
		fixture_release(&f);
	}
	test_db_close(&t);
}

/* A read receipt is asked of the From address, whichever gives it (the
 * campaign's override, the template, the configuration), as a bare
 * address in its ASCII form; without ctx.receipt there is no request. An
 * override that would smuggle a second header is refused before. */
static void test_receipt_request(void **state)
{
	static const struct {
		bool receipt;
		const char *template_from, *override, *want; /* want NULL: none */
	} cases[] = {
		{false, NULL, NULL, NULL},
		{true, NULL, NULL, "statements@ombudsman.example.az"},
		{true, "Aparat <aparat@ombudsman.example.az>", NULL,
		 "aparat@ombudsman.example.az"},
		{true, NULL, "\"Press, Office\" <press@müvəkkil.example.az>",
		 "press@xn--mvkkil-3ya70z.example.az"},
		{false, "Aparat <aparat@ombudsman.example.az>", NULL, NULL},
	};
	struct test_db t;

	(void)state;
	mime_init();
	test_db_open(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct error err = ERROR_INIT;
		struct sbuf raw = SBUF_INIT;
		char *src = xasprintf("Subject: s\n%s%s%s\nHi\n",
				      cases[i].template_from ? "From: " : "",
				      cases[i].template_from
					      ? cases[i].template_from
					      : "",
				      cases[i].template_from ? "\n" : "");
		int64_t id = add_template(&t, src);
		const char *got;
		GMimeMessage *m;

		fixture_init(&f, "Office", "X", "x@example.org");
		f.ctx.receipt = cases[i].receipt;
		f.ctx.sender_override = cases[i].override;
		if (message_render(t.db, id, &f.ctx, &raw, &err))
			fail_msg("case %zu: %s", i, err.msg);
		assert_wire_form(&raw);
		m = parse_back(&raw);
		got = g_mime_object_get_header(GMIME_OBJECT(m),
					       "Disposition-Notification-To");
		if (!cases[i].want && got)
			fail_msg("case %zu: unasked receipt '%s'", i, got);
		if (cases[i].want && (!got || strcmp(got, cases[i].want)))
			fail_msg("case %zu: Disposition-Notification-To '%s', "
				 "want '%s'", i, got ? got : "(none)",
				 cases[i].want);
		/* exactly one header line, right after the Message-ID block */
		if (cases[i].want) {
			char *line = xasprintf("\r\nDisposition-Notification-To: "
					       "%s\r\n", cases[i].want);

			assert_non_null(strstr(raw.buf, line));
			assert_null(strstr(strstr(raw.buf, line) + strlen(line),
					   "Disposition-Notification-To"));
			free(line);
		}
		g_object_unref(m);
		free(src);
		sbuf_release(&raw);
		fixture_release(&f);
	}
	test_db_close(&t);
}

/* A long paragraph and a long subject still give short lines. */
static void test_long_lines(void **state)
{
	struct test_db t;
	struct fixture f;
	struct error err = ERROR_INIT;
	struct sbuf raw = SBUF_INIT, src = SBUF_INIT;
	GMimeMessage *m;
	char *text;

	(void)state;
	mime_init();
	test_db_open(&t);
	sbuf_addstr(&src, "Subject: ");
	for (int i = 0; i < 40; i++)
		sbuf_addstr(&src, "{{body.name}} ");
	sbuf_addstr(&src, "\n\n");
	for (int i = 0; i < 300; i++)
		sbuf_addstr(&src, "Müvəkkil ");
	sbuf_addstr(&src, "\n");
	int64_t id = add_template(&t, src.buf);
	fixture_init(&f, OMBUDSMAN_AZ, "X", "x@example.org");
	assert_int_equal(message_render(t.db, id, &f.ctx, &raw, &err), 0);
	assert_wire_form(&raw);
	m = parse_back(&raw);
	assert_int_equal(strlen(g_mime_message_get_subject(m)),
			 40 * (strlen(OMBUDSMAN_AZ) + 1) - 1);
	text = part_text(g_mime_message_get_mime_part(m));
	assert_int_equal(strlen(text), 300 * strlen("Müvəkkil ") + 1);
	free(text);
	g_object_unref(m);
	sbuf_release(&raw);
	sbuf_release(&src);
	fixture_release(&f);
	test_db_close(&t);
}

/* An IDN domain goes out as punycode, so the header stays 7-bit; a
 * non-ASCII organisation is encoded too. */
static void test_idn_and_organization(void **state)
{
	static const char *const names[] = {"Ombudsman", "Müvəkkil", NULL};
	struct test_db t;

	(void)state;
	mime_init();
	test_db_open(&t);
	int64_t id = add_template(&t, "Subject: s\n\nx\n");
	for (int i = 0; i < 3; i++) {
		struct fixture f;
		struct error err = ERROR_INIT;
		struct sbuf raw = SBUF_INIT;
		GMimeMessage *m;

		fixture_init(&f, "Office", names[i], "info@bürgerbeauftragte.example");
		f.cfg.sender.organization = xstrdup("Müvəkkil Aparatı");
		assert_int_equal(message_render(t.db, id, &f.ctx, &raw, &err), 0);
		assert_wire_form(&raw);
		assert_non_null(strstr(raw.buf, "xn--"));
		m = parse_back(&raw);
		assert_str(g_mime_object_get_header(GMIME_OBJECT(m),
						    "Organization"),
			   "Müvəkkil Aparatı");
		if (names[i])
			assert_str(mailbox_name(g_mime_message_get_to(m)),
				   names[i]);
		g_object_unref(m);
		sbuf_release(&raw);
		fixture_release(&f);
	}
	test_db_close(&t);
}

/* Content-Language: the variant's tag, else language.default; a tag
 * that could break the header is refused, naming it. */
static void test_content_language(void **state)
{
	static const struct {
		const char *lang, *default_lang; /* "" default: none set */
		const char *want;                /* NULL: no header */
		int rc;
	} cases[] = {
		{"fr", "en", "fr", 0},
		{"ar", "en", "ar", 0},
		{"pt-BR", "en", "pt-BR", 0},
		{NULL, "en", "en", 0},      /* the default variant */
		{NULL, "az", "az", 0},
		{"", "de", "de", 0},
		{NULL, "", NULL, 0},        /* nothing known: no header */
		{"fr\r\nBcc: x@example.org", "en", NULL, ERR_DATA},
		{"fr en", "en", NULL, ERR_DATA},
	};
	struct test_db t;

	(void)state;
	mime_init();
	test_db_open(&t);
	int64_t id = add_template(&t, "Subject: s\n\nx\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct error err = ERROR_INIT;
		struct sbuf raw = SBUF_INIT;
		GMimeMessage *m;
		int rc;

		fixture_init(&f, "Office", "Ada", "ada@example.org");
		free(f.cfg.language.default_lang);
		f.cfg.language.default_lang = xstrdup(cases[i].default_lang);
		f.ctx.lang = cases[i].lang;
		rc = message_render(t.db, id, &f.ctx, &raw, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s), want %d", i, rc, err.msg,
				 cases[i].rc);
		if (rc) {
			if (!strstr(err.msg, "is not a BCP 47 tag") ||
			    raw.len != 0)
				fail_msg("case %zu: '%s', %zu bytes left", i,
					 err.msg, raw.len);
		} else {
			const char *got;

			assert_wire_form(&raw);
			m = parse_back(&raw);
			/* GMime files Content-* under the top part */
			got = g_mime_object_get_header(
				g_mime_message_get_mime_part(m),
				"Content-Language");
			if (cases[i].want ? !got || strcmp(got, cases[i].want)
					  : got != NULL)
				fail_msg("case %zu: Content-Language '%s', want "
					 "'%s'", i, got ? got : "(none)",
					 cases[i].want ? cases[i].want
						       : "(none)");
			g_object_unref(m);
		}
		sbuf_release(&raw);
		fixture_release(&f);
	}
	test_db_close(&t);
}

/* A partial or section cannot smuggle a line break into a header. */
static void test_partial_line_break_in_subject(void **state)
{
	struct test_db t;
	struct fixture f;
	struct error err = ERROR_INIT;
	struct sbuf raw = SBUF_INIT;

	(void)state;
	mime_init();
	test_db_open(&t);
	free(test_write_file(t.dir, "two.partial", "a\nBcc: b@example.org"));
	int64_t id = add_template(&t, "Subject: {{> two}}\n\nx\n");
	fixture_init(&f, "Office", "X", "x@example.org");
	assert_int_equal(message_render(t.db, id, &f.ctx, &raw, &err),
			 ERR_DATA);
	assert_non_null(strstr(err.msg, "the Subject header would hold a "
				       "line break"));
	assert_int_equal(raw.len, 0);
	sbuf_release(&raw);
	fixture_release(&f);
	test_db_close(&t);
}

/* An Arabic variant (issue 21): the HTML part marked right to left, the
 * ordinal and dates in Arabic digits, headers in RFC 2047 and the
 * attachment's Arabic file name in RFC 2231, all parsed back. */
static void test_arabic_rtl_round_trip(void **state)
{
	static const struct {
		const char *lang, *html, *want_html;
	} cases[] = {
		{"ar", "<p>{{anniversary.ordinal}} {{event.date}}</p>\n",
		 "<div dir=\"rtl\" lang=\"ar\">\n<p>٣٣. ٢٦ فبراير ١٩٩٢</p>\n"
		 "</div>\n"},
		{"ar", "<html><body>{{anniversary.ordinal}}</body></html>\n",
		 "<html dir=\"rtl\" lang=\"ar\"><body>٣٣.</body></html>\n"},
		{"ar", "<HTML lang=\"ar-EG\">x</HTML>\n",
		 "<HTML dir=\"rtl\" lang=\"ar-EG\">x</HTML>\n"},
		{"ar", "<html dir=\"ltr\" lang=\"en\">x</html>\n",
		 "<html dir=\"ltr\" lang=\"en\">x</html>\n"},
		{"he", "<p>x</p>\n", "<div dir=\"rtl\" lang=\"he\">\n<p>x</p>\n"
		 "</div>\n"},
		{"fr", "<p>{{anniversary.ordinal}} {{event.date}}</p>\n",
		 "<p>33e 26 février 1992</p>\n"},
		{NULL, "<p>{{anniversary.ordinal}}</p>\n", "<p>33rd</p>\n"},
	};
	struct test_db t;
	struct error err = ERROR_INIT;

	(void)state;
	mime_init();
	clock_set_fake(1740522600);
	test_db_open(&t);
	{
		char *p = xasprintf("%s/بيان.pdf", t.dir);
		FILE *fp = fopen(p, "wb");

		assert_non_null(fp);
		fputs("%PDF-1.4\n", fp);
		fclose(fp);
		free(p);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct sbuf raw = SBUF_INIT, src = SBUF_INIT;
		GMimeMessage *m;
		GMimeObject *top, *alt, *att;
		char *text, *html;
		int64_t id;

		fixture_init(&f, "اللجنة العربية الدائمة لحقوق الإنسان",
			     "السيد الرئيس", "chair@example.org");
		f.ctx.lang = cases[i].lang;
		sbuf_addf(&src, "Subject: الذكرى {{anniversary.ordinal}} — "
			  "{{body.name}}\nAttach: بيان.pdf\n\n"
			  "{{contact.salutation}}،\n{{event.date}}\n"
			  TEMPLATE_HTML_SEPARATOR "\n%s", cases[i].html);
		id = add_template(&t, src.buf);
		assert_int_equal(message_render(t.db, id, &f.ctx, &raw, &err),
				 0);
		assert_wire_form(&raw);
		assert_null(strstr(raw.buf, "الذكرى")); /* encoded */
		m = parse_back(&raw);
		top = g_mime_message_get_mime_part(m);
		alt = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
		att = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
		text = part_text(g_mime_multipart_get_part(
			GMIME_MULTIPART(alt), 0));
		html = part_text(g_mime_multipart_get_part(
			GMIME_MULTIPART(alt), 1));
		if (strcmp(html, cases[i].want_html) != 0)
			fail_msg("case %zu: html '%s', want '%s'", i, html,
				 cases[i].want_html);
		assert_str(g_mime_part_get_filename(GMIME_PART(att)),
			   "بيان.pdf");
		assert_str(mailbox_name(g_mime_message_get_to(m)),
			   "السيد الرئيس");
		if (cases[i].lang && strcmp(cases[i].lang, "ar") == 0) {
			assert_str(g_mime_message_get_subject(m),
				   "الذكرى ٣٣. — اللجنة العربية الدائمة لحقوق "
				   "الإنسان");
			/* no salutation, an nhri: the neutral one */
			assert_str(text, "السيدات والسادة المحترمون،\n"
					 "٢٦ فبراير ١٩٩٢\n");
		}
		free(text);
		free(html);
		g_object_unref(m);
		sbuf_release(&raw);
		sbuf_release(&src);
		fixture_release(&f);
	}
	test_db_close(&t);
}

/* The encoded body of the n-th quoted-printable part of raw (0 first),
 * up to the boundary line after it. */
static char *qp_part(const struct sbuf *raw, int n)
{
	static const char mark[] = "Content-Transfer-Encoding: "
				   "quoted-printable\r\n\r\n";
	const char *p = raw->buf, *end;

	for (int i = 0; i <= n; i++) {
		p = strstr(p, mark);
		assert_non_null(p);
		p += strlen(mark);
	}
	end = strstr(p, "\r\n--=_");
	return end ? xstrndup(p, (size_t)(end - p)) : xstrdup(p);
}

/*
 * The literal lines encoded once per loaded template give the octets
 * encoding the whole text per message gives: templates whose fixed text
 * has long lines (soft breaks, variables joining it mid-line), non-ASCII,
 * lines starting with '.' or '=', trailing spaces and tabs, CRLF, a
 * variable holding line breaks, HTML moved by dir="rtl"; one template
 * composed for several addressees in turn (the cache filled by the first,
 * used by the rest), each part compared with mime_qp_encode of the
 * rendered text.
 */
static void test_literals_encoded_once(void **state)
{
	static const char *const templates[] = {
		"Subject: s\n\nDear {{contact.name}},\n\n"
		"A fixed line that is long enough to need a soft break, as it "
		"runs past seventy-six characters without a break.\n"
		".a line starting with a dot\n"
		"=a line starting with an equals sign\n"
		"trailing spaces   \n"
		"trailing tab\t\n"
		"Müvəkkil — non-ASCII in the fixed text, long enough to fold "
		"across the 76-character line too.\n"
		"{{contact.name}} joins a long fixed text in the middle of a line "
		"that goes on and on past the limit, {{body.name}}, again.\n"
		"last line without a break",
		"Subject: s\n\n{{contact.role}}\r\nCRLF lines\r\n  \r\n"
		"= \r\n.\r\n{{body.name}}   \r\n\r\nend\r\n",
		"Subject: s\n\nx{{contact.role}}\n\n"
		"a line\n \n\t\n{{#contact.name}}in a section\nagain\n"
		"{{/contact.name}}\nafter\n" TEMPLATE_HTML_SEPARATOR "\n"
		"<p>{{contact.role}}</p>\n<p>fixed ü</p>\n<p>fixed  </p>\n"
		"<p>{{body.name}}</p>\n",
		"Subject: s\n\n" TEMPLATE_HTML_SEPARATOR "\n"
		"<html><body>\n<p>fixed</p>\n<p>{{contact.name}}</p>\n"
		"<p>more fixed</p>\n</body></html>\n",
	};
	static const char *const names[] = {
		"Ann", "", ("Jean-Baptiste de La Tour d'Auvergne-Lauraguais "
			    "Montmorency, Duke"), "Ayşə  ", "two\nlines\n",
		"=3D. ",
	};
	static const char *const langs[] = {NULL, "ar"};
	struct error err = ERROR_INIT;

	(void)state;
	mime_init();
	clock_set_fake(1740522600);
	for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++) {
		for (size_t l = 0; l < 2; l++) {
			struct template *t = NULL;

			if (template_parse(templates[i], &t, &err))
				fail_msg("template %zu: %s", i, err.msg);
			for (size_t n = 0; n < sizeof(names) / sizeof(names[0]);
			     n++) {
				struct fixture f;
				struct template_output o;
				struct sbuf raw = SBUF_INIT, want = SBUF_INIT;
				char *got;

				fixture_init(&f, "Office of the Ombudsman ",
					     strchr(names[n], '\n') ? "Two Lines" :
					     names[n], "x@example.org");
				free(f.contact.role);
				f.contact.role = xstrdup(names[n]);
				f.ctx.lang = langs[l];
				template_output_init(&o);
				assert_int_equal(template_render(t, &f.ctx, &o, &err),
						 0);
				if (o.has_html)
					locale_format_html_dir(langs[l], &o.html);
				if (message_compose(t, &f.ctx, &raw, &err))
					fail_msg("template %zu, %zu: %s", i, n,
						 err.msg);
				for (int part = 0; part < 1 + o.has_html; part++) {
					const struct sbuf *text =
						part ? &o.html : &o.text;

					sbuf_reset(&want);
					mime_qp_encode(text->buf, text->len, &want);
					got = qp_part(&raw, part);
					if (strcmp(got, want.buf) != 0)
						fail_msg("template %zu, name %zu, "
							 "lang %s, part %d:\n"
							 "got  '%s'\nwant '%s'", i,
							 n, langs[l] ? langs[l] :
							 "-", part, got, want.buf);
					free(got);
				}
				template_output_release(&o);
				sbuf_release(&raw);
				sbuf_release(&want);
				fixture_release(&f);
			}
			assert_non_null(t->qp_cache);
			template_free(t);
		}
	}
}

/*
 * The From and Reply-To mailboxes parsed once per text (the template's
 * memo) read as a fresh parse would, whatever order the texts come in:
 * an override, another, the first again, one refused (and its error),
 * a template From: holding a variable; with a configured Reply-To each
 * time.
 */
static void test_mailbox_memo(void **state)
{
	static const struct {
		const char *override; /* NULL: the template's From: */
		const char *name, *addr; /* NULL name: none; NULL addr: refused */
	} cases[] = {
		{"Ombudsman Office <office@ombudsman.example.az>",
		 "Ombudsman Office", "office@ombudsman.example.az"},
		{"Ombudsman Office <office@ombudsman.example.az>",
		 "Ombudsman Office", "office@ombudsman.example.az"},
		{"\"Doe, Jane\" <jane@example.org>", "Doe, Jane",
		 "jane@example.org"},
		{"Ombudsman Office <office@ombudsman.example.az>",
		 "Ombudsman Office", "office@ombudsman.example.az"},
		{"not an address", NULL, NULL},
		{"Müvəkkil <m@example.az>", "Müvəkkil", "m@example.az"},
		{"m@example.az", NULL, "m@example.az"},
		{NULL, "Desk Role", "desk@example.org"},
		{"Müvəkkil <m@example.az>", "Müvəkkil", "m@example.az"},
		{"Müvəkkil <m@example.az>", "Müvəkkil", "m@example.az"},
		{"a@b@example.org", NULL, NULL},
	};
	struct template *t = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	mime_init();
	clock_set_fake(1740522600);
	if (template_parse("Subject: s\nFrom: Desk {{contact.role}} "
			   "<desk@example.org>\n\nbody\n", &t, &err))
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct sbuf raw = SBUF_INIT;
		GMimeMessage *m;
		int rc;

		fixture_init(&f, "Office", "Ann", "ann@example.org");
		free(f.contact.role);
		f.contact.role = xstrdup("Role");
		f.ctx.sender_override = cases[i].override;
		rc = message_compose(t, &f.ctx, &raw, &err);
		if (!cases[i].addr) {
			if (rc == 0 || !strstr(err.msg, "sender override"))
				fail_msg("case %zu: composed, or '%s'", i, err.msg);
			assert_int_equal(raw.len, 0);
		} else {
			if (rc)
				fail_msg("case %zu: %s", i, err.msg);
			m = parse_back(&raw);
			assert_str(mailbox_addr(g_mime_message_get_from(m)),
				   cases[i].addr);
			if (cases[i].name)
				assert_str(mailbox_name(g_mime_message_get_from(m)),
					   cases[i].name);
			else if (mailbox_name(g_mime_message_get_from(m)) &&
				 *mailbox_name(g_mime_message_get_from(m)))
				fail_msg("case %zu: a display name '%s', want "
					 "none", i, mailbox_name(
					 g_mime_message_get_from(m)));
			assert_str(mailbox_addr(g_mime_message_get_reply_to(m)),
				   "office@ombudsman.example.az");
			g_object_unref(m);
		}
		sbuf_release(&raw);
		fixture_release(&f);
	}
	template_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_message_round_trip),
		cmocka_unit_test(test_arabic_rtl_round_trip),
		cmocka_unit_test(test_text_only_french),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_idn_and_organization),
		cmocka_unit_test(test_content_language),
		cmocka_unit_test(test_partial_line_break_in_subject),
		cmocka_unit_test(test_receipt_request),
		cmocka_unit_test(test_literals_encoded_once),
		cmocka_unit_test(test_mailbox_memo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
