/*
 * message: one statement for one addressee, written as MIME directly.
 *
 * Why not GMime, which composed the messages at first: building and
 * serialising its object tree was 43% of the daemon's instructions for
 * a 3 KB statement (GObject allocation, header lists, stream filters);
 * the encodings a statement needs are few and small (lib/mime.c), and
 * the unit tests parse every shape back with GMime and the integration
 * tests with Python's email package. GMime still parses what comes in.
 */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "chancery/address.h"
#include "chancery/calendar.h"
#include "chancery/clock.h"
#include "chancery/locale_format.h"
#include "chancery/message.h"
#include "chancery/mime.h"
#include "chancery/xalloc.h"

#define MESSAGE_LINE_MAX 998 /* RFC 5322 2.1.1 */

/* A mailbox for a header: display name (NULL for none), address. */
struct mailbox {
	char *name;
	char *addr;
};

static void mailbox_release(struct mailbox *mb)
{
	free(mb->name);
	free(mb->addr);
	mb->name = mb->addr = NULL;
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
			 struct mailbox *out, struct error *err)
{
	InternetAddressList *list;
	InternetAddress *ia;
	const char *addr;
	int rc;

	if ((rc = header_safe(text, what, err)))
		return rc;
	mime_init();
	list = internet_address_list_parse(NULL, text);
	if (!list || internet_address_list_length(list) != 1 ||
	    !INTERNET_ADDRESS_IS_MAILBOX(
		    ia = internet_address_list_get_address(list, 0))) {
		rc = error_set(err, ERR_DATA, "%s '%s' is not one address",
			       what, text);
		goto out;
	}
	addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	rc = address_check(addr, err);
	if (rc) {
		error_prefix(err, "%s", what);
		goto out;
	}
	out->addr = xstrdup(addr);
	out->name = internet_address_get_name(ia) &&
				    *internet_address_get_name(ia)
			    ? xstrdup(internet_address_get_name(ia))
			    : NULL;
out:
	if (list)
		g_object_unref(list);
	return rc;
}

enum { MEMO_FROM, MEMO_REPLY_TO };

/*
 * parse_mailbox, remembered in t for the last text of each kind: a
 * campaign's sender override (or its template's From: without
 * variables) is the same for every message, and GMime's parse and the
 * address check cost 15,000 instructions a message. The text is
 * compared whole, so what is returned is what parsing it would give.
 */
static int parse_mailbox_memo(struct template *t, int which, const char *text,
			      const char *what, struct mailbox *out,
			      struct error *err)
{
	char **m = t->mailbox_memo[which];
	int rc;

	if (m[0] && strcmp(m[0], text) == 0) {
		out->name = m[1] ? xstrdup(m[1]) : NULL;
		out->addr = xstrdup(m[2]);
		return 0;
	}
	rc = parse_mailbox(text, what, out, err);
	if (rc)
		return rc;
	for (int i = 0; i < 3; i++)
		free(m[i]);
	m[0] = xstrdup(text);
	m[1] = out->name ? xstrdup(out->name) : NULL;
	m[2] = xstrdup(out->addr);
	return 0;
}

/* A mailbox from a name and an address held in separate variables. */
static int make_mailbox(const char *name, const char *addr,
			const char *name_var, const char *addr_var,
			struct mailbox *out, struct error *err)
{
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
	out->name = name && *name ? xstrdup(name) : NULL;
	out->addr = xstrdup(addr);
	return 0;
}

/* From: the campaign's override, the template's From:, the configuration. */
static int from_mailbox(struct template *t, const struct template_output *o,
			const struct render_context *ctx, struct mailbox *out,
			struct error *err)
{
	if (ctx->sender_override)
		return parse_mailbox_memo(t, MEMO_FROM, ctx->sender_override,
					  "sender override", out, err);
	if (o->has_from)
		return parse_mailbox_memo(t, MEMO_FROM, o->from.buf,
					  "From: header", out, err);
	if (!ctx->cfg)
		return error_set(err, ERR_CONFIG, "no sender configured");
	return make_mailbox(ctx->cfg->sender.name, ctx->cfg->sender.address,
			    "sender.name", "sender.address", out, err);
}

/* Reply-To: the template's, else the configuration's; none is fine. */
static int reply_to_mailbox(struct template *t,
			    const struct template_output *o,
			    const struct render_context *ctx,
			    struct mailbox *out, struct error *err)
{
	if (o->has_reply_to && *o->reply_to.buf)
		return parse_mailbox_memo(t, MEMO_REPLY_TO, o->reply_to.buf,
					  "Reply-To: header", out, err);
	if (!o->has_reply_to && ctx->cfg && ctx->cfg->sender.reply_to &&
	    *ctx->cfg->sender.reply_to)
		return parse_mailbox_memo(t, MEMO_REPLY_TO,
					  ctx->cfg->sender.reply_to,
					  "sender.reply_to", out, err);
	return 0;
}

/* Writes a mailbox header, the domain in its ASCII (A-label) form. */
static void add_mailbox_header(struct sbuf *out, const char *name,
			       const struct mailbox *mb)
{
	char *ascii = address_ascii(mb->addr);

	mime_header_mailbox(out, name, mb->name, ascii ? ascii : mb->addr);
	free(ascii);
}

/*
 * The Date header's value for now in zone tz, RFC 5322 3.3, in English
 * whatever the locale. Kept per thread for the second it names: a
 * campaign composes thousands of messages a second in one zone.
 */
static int date_value(const char *tz, const char **out, struct error *err)
{
	static const char days[7][4] = {"Mon", "Tue", "Wed", "Thu", "Fri",
					"Sat", "Sun"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May",
					   "Jun", "Jul", "Aug", "Sep", "Oct",
					   "Nov", "Dec"};
	static _Thread_local struct {
		int64_t at;
		char tz[64];
		char text[40];
	} cache;
	int64_t now = clock_now();
	struct calendar_time local;
	long offset;
	int rc;

	if (!tz || !*tz)
		tz = "UTC";
	*out = cache.text;
	if (cache.at == now && strcmp(cache.tz, tz) == 0)
		return 0;
	rc = calendar_local(tz, now, &local, err);
	if (rc)
		return rc;
	offset = local.utc_offset / 60;
	snprintf(cache.text, sizeof(cache.text),
		 "%s, %d %s %d %02d:%02d:%02d %c%02d%02d",
		 days[local.weekday], local.day, months[local.month - 1],
		 local.year, local.hour, local.minute, local.second,
		 offset < 0 ? '-' : '+', (int)(labs(offset) / 60),
		 (int)(labs(offset) % 60));
	cache.at = strlen(tz) < sizeof(cache.tz) ? now : 0;
	snprintf(cache.tz, sizeof(cache.tz), "%s", tz);
	return 0;
}

/* Message-ID, Date and the delivery's own header. */
static int add_id_headers(struct sbuf *out, const struct render_context *ctx,
			  const struct mailbox *from, struct error *err)
{
	const char *date;
	int rc;

	if ((rc = header_safe(ctx->message_id, "message_id", err)) ||
	    (rc = header_safe(ctx->envid, "envid", err)) ||
	    (rc = date_value(ctx->tz, &date, err)))
		return rc;
	sbuf_addf(out, "Date: %s\r\n", date);
	if (ctx->message_id && *ctx->message_id) {
		sbuf_addf(out, "Message-ID: <%s>\r\n", ctx->message_id);
	} else {
		/* a preview's: unique, on the sender's domain */
		const char *at = strrchr(from->addr, '@');
		unsigned long long r = 0;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (unsigned long long)(uintptr_t)&r;
		sbuf_addf(out, "Message-ID: <%lld.%016llx@%s>\r\n",
			  (long long)clock_now(), r, at ? at + 1 : "localhost");
	}
	if (ctx->envid)
		sbuf_addf(out, "X-Chancery-Delivery: %s\r\n", ctx->envid);
	return 0;
}

/* The addressing headers: From, Reply-To, To. */
static int add_address_headers(struct sbuf *out, struct template *t,
			       const struct template_output *o,
			       const struct render_context *ctx,
			       struct mailbox *from, struct error *err)
{
	struct mailbox to = {0}, reply_to = {0};
	int rc = from_mailbox(t, o, ctx, from, err);

	if (!rc && !ctx->contact)
		rc = error_set(err, ERR_USAGE, "no contact to address");
	if (!rc)
		rc = make_mailbox(ctx->contact->name, ctx->contact->email,
				  "contact.name", "contact.email", &to, err);
	if (!rc)
		rc = reply_to_mailbox(t, o, ctx, &reply_to, err);
	if (!rc) {
		add_mailbox_header(out, "From", from);
		if (reply_to.addr)
			add_mailbox_header(out, "Reply-To", &reply_to);
		add_mailbox_header(out, "To", &to);
	}
	mailbox_release(&to);
	mailbox_release(&reply_to);
	return rc;
}

/* The language the statement is written in: the variant's, else the
 * default variant's (language.default); NULL when neither is known. */
static const char *statement_language(const struct render_context *ctx)
{
	if (ctx->lang && *ctx->lang)
		return ctx->lang;
	if (ctx->cfg && ctx->cfg->language.default_lang &&
	    *ctx->cfg->language.default_lang)
		return ctx->cfg->language.default_lang;
	return NULL;
}

/* RFC 3282 Content-Language: a reader's client and screen reader pick
 * the spelling and the voice by it. Tags come checked from the
 * configuration and the template variants; anything but letters, digits
 * and hyphens is refused here all the same, since it goes in a header. */
static int add_language_header(struct sbuf *out,
			       const struct render_context *ctx,
			       struct error *err)
{
	const char *lang = statement_language(ctx);

	if (!lang)
		return 0;
	if (strspn(lang, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-") != strlen(lang))
		return error_set(err, ERR_DATA, "language '%s' is not a "
				 "BCP 47 tag, refused in a header", lang);
	sbuf_addf(out, "Content-Language: %s\r\n", lang);
	return 0;
}

static int add_headers(struct sbuf *out, struct template *t,
		       const struct template_output *o,
		       const struct render_context *ctx, struct error *err)
{
	struct mailbox from = {0};
	const char *org = ctx->cfg ? ctx->cfg->sender.organization : NULL;
	int rc = add_address_headers(out, t, o, ctx, &from, err);

	if (!rc && org && *org)
		rc = header_safe(org, "sender.organization", err);
	if (!rc) {
		mime_header_text(out, "Subject", o->subject.buf);
		rc = add_id_headers(out, ctx, &from, err);
	}
	/* A read receipt goes to the From address: it passed address_check
	 * (no CR, LF or space can be in it), and replies and receipts then
	 * land in one mailbox for `chancery inbox` to read. */
	if (!rc && ctx->receipt) {
		char *ascii = address_ascii(from.addr);

		mime_header_mailbox(out, "Disposition-Notification-To", NULL,
				    ascii ? ascii : from.addr);
		free(ascii);
	}
	if (!rc && org && *org)
		mime_header_text(out, "Organization", org);
	if (!rc)
		rc = add_language_header(out, ctx, err);
	if (!rc)
		sbuf_addstr(out, "MIME-Version: 1.0\r\n");
	mailbox_release(&from);
	return rc;
}

/* A text part in UTF-8, quoted-printable: every line short and 7-bit
 * whatever the statement holds. The whole lines of the template's
 * literal texts are encoded once per loaded template (t->qp_cache). */
static void add_text_entity(struct sbuf *out, const char *subtype,
			    const struct sbuf *text,
			    const struct mustache_literals *lit,
			    struct template *t)
{
	struct mime_literal stack[64], *v = stack;

	sbuf_addf(out, "Content-Type: text/%s; charset=utf-8\r\n"
		       "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
		  subtype);
	if (lit->n > sizeof(stack) / sizeof(stack[0]))
		v = xmalloc(lit->n * sizeof(*v));
	for (size_t i = 0; i < lit->n; i++) {
		v[i].at = lit->v[i].at;
		v[i].len = lit->v[i].len;
		v[i].key = lit->v[i].text;
	}
	if (!t->qp_cache)
		t->qp_cache = mime_qp_cache_new();
	mime_qp_encode_literals(text->buf, text->len, v, lit->n, t->qp_cache,
				out);
	if (v != stack)
		free(v);
}

/* Text, or text and HTML as multipart/alternative. */
static void add_content_entity(struct sbuf *out, struct template *t,
			       const struct template_output *o)
{
	char b[MIME_BOUNDARY_SIZE];

	if (!o->has_html) {
		add_text_entity(out, "plain", &o->text, &o->text_literals, t);
		return;
	}
	mime_boundary("alt", b);
	sbuf_addf(out, "Content-Type: multipart/alternative; boundary=\"%s\""
		       "\r\n\r\n--%s\r\n", b, b);
	add_text_entity(out, "plain", &o->text, &o->text_literals, t);
	sbuf_addf(out, "\r\n--%s\r\n", b);
	add_text_entity(out, "html", &o->html, &o->html_literals, t);
	sbuf_addf(out, "\r\n--%s--\r\n", b);
}

/*
 * After locale_format_html_dir inserted grown bytes into html (an
 * attribute, or a <div> before and after): the literals moved by 0, by
 * all of it, or by all but the closing "</div>\n". Each keeps the first
 * of those its bytes are found at; one that no longer stands whole (the
 * insertion fell inside it) is dropped and encoded as the rest is.
 */
static void move_literals(struct mustache_literals *lit,
			  const struct sbuf *html, size_t grown)
{
	const size_t shifts[3] = {0, grown, grown - (grown >= 7 ? 7 : 0)};
	size_t kept = 0;

	for (size_t i = 0; i < lit->n; i++) {
		struct mustache_literal l = lit->v[i];

		for (int k = 0; k < 3; k++) {
			size_t at = l.at + shifts[k];

			if (at <= html->len && l.len <= html->len - at &&
			    memcmp(html->buf + at, l.text, l.len) == 0) {
				l.at = at;
				lit->v[kept++] = l;
				break;
			}
		}
	}
	lit->n = kept;
}

/* An attachment's part, encoded once per loaded template: every message
 * of a campaign carries the same bytes. */
static int attachment_entity(struct template_attachment *a,
			     const struct sbuf **part, struct error *err)
{
	struct sbuf *p = &a->mime_part;
	int rc;

	*part = p;
	if (p->len)
		return 0;
	if ((rc = header_safe(a->filename, "attachment file name", err)) ||
	    (rc = header_safe(a->content_type, "attachment type", err)))
		return rc;
	sbuf_addf(p, "Content-Type: %s", a->content_type);
	mime_param(p, "name", a->filename);
	sbuf_addstr(p, "\r\nContent-Disposition: attachment");
	mime_param(p, "filename", a->filename);
	sbuf_addstr(p, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	mime_base64_encode(a->content, a->size, p);
	return 0;
}

/* Whether the message begun at start would pass max bytes with more
 * appended: checked before appending, never after. */
static bool too_big(const struct sbuf *out, size_t start, size_t more,
		    size_t max)
{
	size_t have = out->len - start;

	return have > max || more > max - have;
}

/* The body: the content, and the attachments around it in a
 * multipart/mixed; at most max bytes from start. */
static int add_body(struct sbuf *out, size_t start, size_t max,
		    struct template *t, const struct template_output *o,
		    struct error *err)
{
	char b[MIME_BOUNDARY_SIZE];

	/* encoded, the text takes at least its own length */
	if (too_big(out, start, o->text.len + o->html.len, max))
		return template_too_big(max, err);
	if (t->nattachments == 0) {
		add_content_entity(out, t, o);
		return 0;
	}
	mime_boundary("mix", b);
	sbuf_addf(out, "Content-Type: multipart/mixed; boundary=\"%s\""
		       "\r\n\r\n--%s\r\n", b, b);
	add_content_entity(out, t, o);
	for (size_t i = 0; i < t->nattachments; i++) {
		const struct sbuf *part;
		int rc;

		if (too_big(out, start, t->attachments[i].size, max))
			return template_too_big(max, err);
		rc = attachment_entity(&t->attachments[i], &part, err);
		if (rc)
			return rc;
		if (too_big(out, start, part->len, max))
			return template_too_big(max, err);
		sbuf_addf(out, "\r\n--%s\r\n", b);
		sbuf_add(out, part->buf, part->len);
	}
	sbuf_addf(out, "\r\n--%s--\r\n", b);
	return 0;
}

/* RFC 5322 2.1.1: no line longer than 998 octets, whatever a template
 * holds (a header word without spaces cannot be folded). */
static int check_line_length(const struct sbuf *out, size_t start,
			     struct error *err)
{
	size_t line = 0;

	for (size_t i = start; i < out->len; i++) {
		if (out->buf[i] == '\n')
			line = 0;
		else if (++line > MESSAGE_LINE_MAX + 1)
			return error_set(err, ERR_DATA, "the message would "
					 "hold a line longer than %d octets",
					 MESSAGE_LINE_MAX);
	}
	return 0;
}

int message_compose(struct template *t, const struct render_context *ctx,
		    struct sbuf *out, struct error *err)
{
	struct template_output o;
	size_t start = out->len, max = template_max_size(ctx->cfg);
	int rc;

	template_output_init(&o);
	rc = template_render(t, ctx, &o, err);
	if (!rc && o.has_html) { /* dir="rtl" for ar, he, fa, ur (issue 21) */
		size_t before = o.html.len;

		locale_format_html_dir(ctx->lang, &o.html);
		if (o.html.len != before)
			move_literals(&o.html_literals, &o.html,
				      o.html.len - before);
	}
	if (!rc)
		rc = add_headers(out, t, &o, ctx, err);
	if (!rc)
		rc = add_body(out, start, max, t, &o, err);
	if (!rc && too_big(out, start, 0, max))
		rc = template_too_big(max, err);
	if (!rc)
		rc = check_line_length(out, start, err);
	if (rc)
		sbuf_setlen(out, start);
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
