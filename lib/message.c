/* message: MIME composition of one statement for one addressee. */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/address.h"
#include "chancery/clock.h"
#include "chancery/message.h"
#include "chancery/mime.h"
#include "chancery/xalloc.h"

#define MESSAGE_LINE_MAX 998 /* RFC 5322 2.1.1 */

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/*
 * RFC 2047 "Q" encoded-words in UTF-8, folded one word a line, using only
 * the characters RFC 2047 5(3) allows in a phrase, so the result serves
 * both Subject and display names. A word never splits a UTF-8 sequence,
 * and no line holding a word exceeds 76 characters (RFC 2047 2): the
 * first word shares its line with "Name: ", so gets first_room.
 *
 * Why not GMime's own encoder: it writes base64 words with "=" padding
 * next to each other, which GMime's own decoder (3.2) then merges and
 * garbles ("üzrə Müvəkkili" vanished from the Ombudsman's name), and so
 * may other readers that merge adjacent words.
 */
static void encode_words(const char *s, size_t first_room, struct sbuf *out)
{
	static const char prefix[] = "=?UTF-8?Q?";
	const size_t overhead = sizeof(prefix) - 1 + 2;
	size_t word = 0; /* payload length of the current word */
	size_t room = first_room - overhead; /* payload that fits this line */

	sbuf_addstr(out, prefix);
	while (*s) {
		size_t n = 1, need;
		unsigned char c = (unsigned char)*s;

		if (c >= 0xF0)
			n = 4;
		else if (c >= 0xE0)
			n = 3;
		else if (c >= 0xC0)
			n = 2;
		for (size_t i = 1; i < n; i++)
			if (!s[i])
				n = i;
		need = (c < 0x80 && (g_ascii_isalnum(c) || strchr("!*+-/ ", c)))
			       ? 1 : 3 * n;
		if (word + need > room) {
			sbuf_addstr(out, "?=\n ");
			sbuf_addstr(out, prefix);
			word = 0;
			room = 75 - overhead; /* " " + 75 = 76 */
		}
		for (size_t i = 0; i < n; i++) {
			c = (unsigned char)s[i];
			if (need == 1)
				sbuf_addch(out, c == ' ' ? '_' : c);
			else
				sbuf_addf(out, "=%02X", c);
		}
		word += need;
		s += n;
	}
	sbuf_addstr(out, "?=");
}

/* Replaces GMime's encoding of a header by ours when it is not ASCII:
 * text (unstructured), or a display name followed by <addr>. */
static void raw_header(GMimeMessage *msg, const char *name, const char *text,
		       const char *addr)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	GMimeHeader *h = g_mime_header_list_get_header(hl, name);
	struct sbuf raw = SBUF_INIT;

	if (!h || !text || !*text || is_ascii(text))
		return;
	sbuf_addch(&raw, ' ');
	/* "Name: " takes the start of the first line */
	encode_words(text, 76 - strlen(name) - 2, &raw);
	if (addr) {
		char *ascii = address_ascii(addr);

		sbuf_addf(&raw, "\n <%s>", ascii ? ascii : addr);
		free(ascii);
	}
	sbuf_addch(&raw, '\n');
	g_mime_header_set_raw_value(h, raw.buf);
	sbuf_release(&raw);
}

/* The mailbox of a list with one address, for raw_header. */
static void raw_mailbox_header(GMimeMessage *msg, const char *name,
			       InternetAddressList *list)
{
	InternetAddress *ia;

	if (internet_address_list_length(list) != 1)
		return;
	ia = internet_address_list_get_address(list, 0);
	raw_header(msg, name, internet_address_get_name(ia),
		   internet_address_mailbox_get_addr(
			   INTERNET_ADDRESS_MAILBOX(ia)));
}

/* Refuses a value bound for a header when it holds a line break. */
static int header_safe(const char *value, const char *variable,
		       struct error *err)
{
	if (value && strpbrk(value, "\r\n"))
		return error_set(err, ERR_DATA, "variable '%s' holds a line "
				 "break, refused in a header", variable);
	return 0;
}

/* A mailbox from a rendered "Name <addr>" or "addr"; what names it. */
static int parse_mailbox(const char *text, const char *what,
			 InternetAddressMailbox **out, struct error *err)
{
	InternetAddressList *list = internet_address_list_parse(NULL, text);
	InternetAddress *ia;
	int rc = 0;

	*out = NULL;
	if (!list || internet_address_list_length(list) != 1 ||
	    !INTERNET_ADDRESS_IS_MAILBOX(
		    ia = internet_address_list_get_address(list, 0))) {
		rc = error_set(err, ERR_DATA, "%s '%s' is not one address",
			       what, text);
		goto out;
	}
	rc = address_check(internet_address_mailbox_get_addr(
				   INTERNET_ADDRESS_MAILBOX(ia)), err);
	if (rc) {
		error_prefix(err, "%s", what);
		goto out;
	}
	*out = g_object_ref(INTERNET_ADDRESS_MAILBOX(ia));
out:
	if (list)
		g_object_unref(list);
	return rc;
}

static int add_mailbox(InternetAddressList *list, const char *name,
		       const char *addr, const char *name_var,
		       const char *addr_var, struct error *err)
{
	InternetAddress *ia;
	int rc;

	if ((rc = header_safe(name, name_var, err)) ||
	    (rc = header_safe(addr, addr_var, err)))
		return rc;
	if (!addr || !*addr)
		return error_set(err, ERR_DATA, "variable '%s' is empty: "
				 "no address", addr_var);
	rc = address_check(addr, err);
	if (rc)
		return error_prefix(err, "%s", addr_var);
	ia = internet_address_mailbox_new(name && *name ? name : NULL, addr);
	internet_address_list_add(list, ia);
	g_object_unref(ia);
	return 0;
}

/* From: the campaign's override, the template's From:, the configuration. */
static int set_from(GMimeMessage *msg, const struct template_output *o,
		    const struct render_context *ctx, struct error *err)
{
	InternetAddressList *from = g_mime_message_get_from(msg);
	InternetAddressMailbox *mb = NULL;
	int rc;

	if (ctx->sender_override || o->has_from) {
		const char *text = ctx->sender_override ? ctx->sender_override :
							  o->from.buf;
		const char *what = ctx->sender_override ? "sender override" :
							  "From: header";

		if ((rc = header_safe(text, what, err)))
			return rc;
		rc = parse_mailbox(text, what, &mb, err);
		if (rc)
			return rc;
		internet_address_list_add(from, INTERNET_ADDRESS(mb));
		g_object_unref(mb);
		return 0;
	}
	if (!ctx->cfg)
		return error_set(err, ERR_CONFIG, "no sender configured");
	return add_mailbox(from, ctx->cfg->sender.name,
			   ctx->cfg->sender.address, "sender.name",
			   "sender.address", err);
}

static int set_reply_to(GMimeMessage *msg, const struct template_output *o,
			const struct render_context *ctx, struct error *err)
{
	InternetAddressList *rt = g_mime_message_get_reply_to(msg);
	InternetAddressMailbox *mb = NULL;
	const char *text = o->has_reply_to ? o->reply_to.buf :
			   ctx->cfg ? ctx->cfg->sender.reply_to : NULL;
	const char *what = o->has_reply_to ? "Reply-To: header" :
					     "sender.reply_to";
	int rc;

	if (!text || !*text)
		return 0;
	if ((rc = header_safe(text, what, err)))
		return rc;
	rc = parse_mailbox(text, what, &mb, err);
	if (rc)
		return rc;
	internet_address_list_add(rt, INTERNET_ADDRESS(mb));
	g_object_unref(mb);
	return 0;
}

/* The domain of the From address, for a generated Message-ID. */
static char *from_domain(GMimeMessage *msg)
{
	InternetAddressList *from = g_mime_message_get_from(msg);
	InternetAddress *ia = internet_address_list_get_address(from, 0);
	const char *addr = internet_address_mailbox_get_addr(
		INTERNET_ADDRESS_MAILBOX(ia));
	const char *at = strrchr(addr, '@');

	return xstrdup(at ? at + 1 : "localhost");
}

static int set_ids(GMimeMessage *msg, const struct render_context *ctx,
		   struct error *err)
{
	GTimeZone *tz = g_time_zone_new_identifier(ctx->tz && *ctx->tz ?
							   ctx->tz : "UTC");
	GDateTime *utc, *local;
	int rc;

	if ((rc = header_safe(ctx->message_id, "message_id", err)) ||
	    (rc = header_safe(ctx->envid, "envid", err)))
		goto out;
	if (!tz) {
		rc = error_set(err, ERR_DATA, "unknown time zone '%s'",
			       ctx->tz);
		goto out;
	}
	utc = g_date_time_new_from_unix_utc(clock_now());
	local = g_date_time_to_timezone(utc, tz);
	g_mime_message_set_date(msg, local);
	g_date_time_unref(local);
	g_date_time_unref(utc);
	if (ctx->message_id && *ctx->message_id) {
		g_mime_message_set_message_id(msg, ctx->message_id);
	} else {
		char *domain = from_domain(msg);
		char *id = g_mime_utils_generate_message_id(domain);

		g_mime_message_set_message_id(msg, id);
		g_free(id);
		free(domain);
	}
	if (ctx->envid)
		g_mime_object_set_header(GMIME_OBJECT(msg),
					 "X-Chancery-Delivery", ctx->envid,
					 NULL);
	if (ctx->cfg && ctx->cfg->sender.organization &&
	    *ctx->cfg->sender.organization) {
		rc = header_safe(ctx->cfg->sender.organization,
				 "sender.organization", err);
		if (!rc)
			g_mime_object_set_header(GMIME_OBJECT(msg),
						 "Organization",
						 ctx->cfg->sender.organization,
						 "utf-8");
	}
out:
	if (tz)
		g_time_zone_unref(tz);
	return rc;
}

/* A text part holding text as UTF-8. (g_mime_text_part_set_text would
 * pick the "best" charset and convert French to ISO-8859-1; statements
 * go out in one charset.) */
static GMimeObject *text_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(text,
								strlen(text));
	GMimeDataWrapper *wrapper = g_mime_data_wrapper_new_with_stream(
		stream, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(GMIME_PART(part), wrapper);
	g_mime_text_part_set_charset(part, "utf-8");
	/* quoted-printable keeps every line short and 7-bit whatever the
	 * statement holds */
	g_mime_part_set_content_encoding(GMIME_PART(part),
					 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	g_object_unref(wrapper);
	g_object_unref(stream);
	return GMIME_OBJECT(part);
}

static GMimeObject *attachment_part(const struct template_attachment *a)
{
	char *type = xstrdup(a->content_type), *slash = strchr(type, '/');
	GMimePart *part;
	GMimeStream *stream;
	GMimeDataWrapper *wrapper;

	if (slash)
		*slash++ = '\0';
	part = g_mime_part_new_with_type(type, slash ? slash : "octet-stream");
	stream = g_mime_stream_mem_new_with_buffer((const char *)a->content,
						   a->size);
	wrapper = g_mime_data_wrapper_new_with_stream(
		stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, wrapper);
	g_mime_part_set_filename(part, a->filename);
	g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
	g_object_unref(wrapper);
	g_object_unref(stream);
	free(type);
	return GMIME_OBJECT(part);
}

/* The body: text, text+HTML alternative, and the attachments around. */
static GMimeObject *build_body(const struct template *t,
			       const struct template_output *o)
{
	GMimeObject *body = text_part("plain", o->text.buf);

	if (o->has_html) {
		GMimeMultipart *alt =
			g_mime_multipart_new_with_subtype("alternative");
		GMimeObject *html = text_part("html", o->html.buf);

		g_mime_multipart_add(alt, body);
		g_mime_multipart_add(alt, html);
		g_object_unref(body);
		g_object_unref(html);
		body = GMIME_OBJECT(alt);
	}
	if (t->nattachments > 0) {
		GMimeMultipart *mixed =
			g_mime_multipart_new_with_subtype("mixed");

		g_mime_multipart_add(mixed, body);
		g_object_unref(body);
		for (size_t i = 0; i < t->nattachments; i++) {
			GMimeObject *a = attachment_part(&t->attachments[i]);

			g_mime_multipart_add(mixed, a);
			g_object_unref(a);
		}
		body = GMIME_OBJECT(mixed);
	}
	return body;
}

/* Writes msg with CRLF line ends and checks the line length limit. */
static int serialise(GMimeMessage *msg, struct sbuf *out, struct error *err)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;
	size_t start = out->len, line = 0;
	int rc = 0;

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, mem) < 0) {
		rc = error_set(err, ERR_SOFTWARE, "GMime could not write the "
				 "message");
		goto out;
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	sbuf_add(out, bytes->data, bytes->len);
	for (size_t i = start; i < out->len; i++) {
		if (out->buf[i] == '\n')
			line = 0;
		else if (++line > MESSAGE_LINE_MAX + 1) {
			rc = error_set(err, ERR_DATA, "the message would hold "
				       "a line longer than %d octets",
				       MESSAGE_LINE_MAX);
			sbuf_setlen(out, start);
			break;
		}
	}
out:
	g_object_unref(mem);
	g_mime_format_options_free(fo);
	return rc;
}

int message_compose(struct template *t, const struct render_context *ctx,
		    struct sbuf *out, struct error *err)
{
	struct template_output o;
	GMimeMessage *msg = NULL;
	GMimeObject *body;
	int rc;

	mime_init();
	template_output_init(&o);
	rc = template_render(t, ctx, &o, err);
	if (rc)
		goto out;
	msg = g_mime_message_new(TRUE);
	rc = set_from(msg, &o, ctx, err);
	if (rc)
		goto out;
	if (!ctx->contact) {
		rc = error_set(err, ERR_USAGE, "no contact to address");
		goto out;
	}
	rc = add_mailbox(g_mime_message_get_addresses(msg,
						      GMIME_ADDRESS_TYPE_TO),
			 ctx->contact->name, ctx->contact->email,
			 "contact.name", "contact.email", err);
	if (!rc)
		rc = set_reply_to(msg, &o, ctx, err);
	if (!rc)
		rc = set_ids(msg, ctx, err);
	if (rc)
		goto out;
	g_mime_message_set_subject(msg, o.subject.buf, "utf-8");
	body = build_body(t, &o);
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	raw_header(msg, "Subject", o.subject.buf, NULL);
	raw_mailbox_header(msg, "From", g_mime_message_get_from(msg));
	raw_mailbox_header(msg, "To", g_mime_message_get_to(msg));
	raw_mailbox_header(msg, "Reply-To", g_mime_message_get_reply_to(msg));
	if (ctx->cfg)
		raw_header(msg, "Organization", ctx->cfg->sender.organization,
			   NULL);
	rc = serialise(msg, out, err);
out:
	if (msg)
		g_object_unref(msg);
	template_output_release(&o);
	return rc;
}

int message_render(struct db *db, int64_t template_id,
		   const struct render_context *ctx, struct sbuf *out,
		   struct error *err)
{
	struct template *t = NULL;
	int rc;

	rc = template_load(db, template_id, &t, err);
	if (!rc)
		rc = message_compose(t, ctx, out, err);
	template_free(t);
	return rc;
}
