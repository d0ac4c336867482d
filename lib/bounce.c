#include <ctype.h>
#include <stdarg.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/ledger.h"
#include "chancery/log.h"
#include "chancery/mime.h"
#include "chancery/queue.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/streak.h"
#include "chancery/xalloc.h"

#define ENVID_PREFIX "chancery-"

static const char *const format_names[] = {
	[BOUNCE_FORMAT_DSN] = "dsn",
	[BOUNCE_FORMAT_POSTFIX] = "postfix",
	[BOUNCE_FORMAT_EXIM] = "exim",
	[BOUNCE_FORMAT_EXCHANGE] = "exchange",
};

static const char *const action_names[] = {
	[BOUNCE_FAILED] = "failed",
	[BOUNCE_DELAYED] = "delayed",
	[BOUNCE_DELIVERED] = "delivered",
	[BOUNCE_RELAYED] = "relayed",
	[BOUNCE_EXPANDED] = "expanded",
};

const char *bounce_format_name(enum bounce_format f)
{
	if ((unsigned)f >= sizeof(format_names) / sizeof(format_names[0]))
		return NULL;
	return format_names[f];
}

const char *bounce_action_name(enum bounce_action a)
{
	if ((unsigned)a >= sizeof(action_names) / sizeof(action_names[0]))
		return NULL;
	return action_names[a];
}

int bounce_action_parse(const char *name, enum bounce_action *out)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]);
	     i++) {
		if (strcasecmp(name, action_names[i]) == 0) {
			*out = (enum bounce_action)i;
			return 0;
		}
	}
	return -1;
}

/* Reads a positive decimal number at *p, advancing it; 0 when none. */
static int64_t read_id(const char **p)
{
	int64_t id = 0;

	if (**p == '0')
		return 0;
	for (; isdigit((unsigned char)**p); (*p)++) {
		if (id > (INT64_MAX - 9) / 10)
			return 0;
		id = id * 10 + (**p - '0');
	}
	return id;
}

#define ENVID_TOKEN_LEN 16

/*
 * "chancery-<delivery>-<16 lower-case hex>" as chancery writes it (*token
 * true), or "chancery-<delivery>", the form without a token that earlier
 * versions wrote (*token false); 0 when neither.
 */
static int64_t envid_parse(const char *envid, bool *token)
{
	const char *p;
	int64_t id;
	size_t n = 0;

	*token = false;
	if (!envid || strncmp(envid, ENVID_PREFIX, strlen(ENVID_PREFIX)) != 0)
		return 0;
	p = envid + strlen(ENVID_PREFIX);
	id = read_id(&p);
	if (id && !*p)
		return id;
	if (!id || *p++ != '-')
		return 0;
	while (p[n] && strchr("0123456789abcdef", p[n]))
		n++;
	if (n != ENVID_TOKEN_LEN || p[n])
		return 0;
	*token = true;
	return id;
}

int64_t bounce_envid_delivery(const char *envid, bool *token)
{
	bool t;
	int64_t id = envid_parse(envid, &t);

	if (token)
		*token = t;
	return id;
}

static void recipient_release(struct bounce_recipient *r)
{
	free(r->final_recipient);
	free(r->original_recipient);
	free(r->status);
	free(r->diagnostic);
}

void bounce_report_free(struct bounce_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrecipients; i++)
		recipient_release(&r->recipients[i]);
	free(r->recipients);
	free(r->message_id);
	free(r->envid);
	free(r->original_message_id);
	free(r->delivery_header);
	free(r);
}

/* ---- small text helpers ------------------------------------------------ */

/* s with white space collapsed to single spaces and trimmed (caller frees);
 * NULL when nothing is left. Folded header values and wrapped diagnostic
 * lines become one line this way; other control characters become '?',
 * because what a remote server wrote ends up on a terminal. */
static char *squeeze(const char *s, size_t len)
{
	struct sbuf sb = SBUF_INIT;
	bool space = false;

	for (size_t i = 0; i < len && s[i]; i++) {
		if (isspace((unsigned char)s[i])) {
			space = sb.len > 0;
			continue;
		}
		if (space)
			sbuf_addch(&sb, ' ');
		space = false;
		sbuf_addch(&sb, iscntrl((unsigned char)s[i]) ? '?' : s[i]);
	}
	if (!sb.len) {
		sbuf_release(&sb);
		return NULL;
	}
	return sbuf_detach(&sb, NULL);
}

static bool is_addr_char(int c)
{
	return c > ' ' && c < 0x7f && !strchr("<>()[],;:\"'", c);
}

/* The first token of s[0..len) that looks like an address (local@domain),
 * without brackets; NULL when none. */
static char *find_address(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		size_t a = i, b = i + 1;

		if (s[i] != '@')
			continue;
		while (a > 0 && is_addr_char((unsigned char)s[a - 1]))
			a--;
		while (b < len && is_addr_char((unsigned char)s[b]))
			b++;
		while (b > i + 1 && s[b - 1] == '.')
			b--;
		if (a < i && b > i + 1 && memchr(s + i + 1, '.', b - i - 1))
			return xstrndup(s + a, b - a);
	}
	return NULL;
}

/* The length of the digits at p (at most max), 0 when none or more. */
static size_t digits(const char *p, size_t max)
{
	size_t n = 0;

	while (isdigit((unsigned char)p[n]))
		n++;
	return n <= max ? n : 0;
}

/* The length of an RFC 3463 status code ("5.1.10") at p, or 0. */
static size_t status_at(const char *text, const char *p)
{
	size_t a, b;

	if (!*p || !strchr("245", *p) || p[1] != '.' ||
	    (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
		return 0;
	a = digits(p + 2, 3);
	if (!a || p[2 + a] != '.')
		return 0;
	b = digits(p + 3 + a, 3);
	if (!b || isalnum((unsigned char)p[3 + a + b]) ||
	    (p[3 + a + b] == '.' && isdigit((unsigned char)p[4 + a + b])))
		return 0;
	return 3 + a + b;
}

/* The enhanced status code (RFC 3463) in text, else the class of a basic
 * SMTP reply code in it ("550" → "5.0.0"); NULL when neither. */
static char *find_status(const char *text)
{
	for (const char *p = text; *p; p++) {
		size_t n = status_at(text, p);

		if (n)
			return xstrndup(p, n);
	}
	for (const char *p = text; *p; p++) {
		if (strchr("45", *p) && digits(p, 3) == 3 &&
		    (p == text || !isalnum((unsigned char)p[-1])))
			return xasprintf("%c.0.0", *p);
	}
	return NULL;
}

/* RFC 3461 xtext: "+2B" is '+'. Invalid escapes are kept as written. */
static char *xtext_decode(const char *s)
{
	struct sbuf sb = SBUF_INIT;

	for (; *s; s++) {
		if (*s == '+' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			char hex[3] = {s[1], s[2], 0};

			sbuf_addch(&sb, (int)strtol(hex, NULL, 16));
			s += 2;
		} else {
			sbuf_addch(&sb, *s);
		}
	}
	return sbuf_detach(&sb, NULL);
}

/* The line starting at p: *len gets its length without the newline; the
 * return value is the start of the next line (or NULL at the end). */
static const char *next_line(const char *p, size_t *len)
{
	const char *nl = strchr(p, '\n');

	*len = nl ? (size_t)(nl - p) : strlen(p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return nl ? nl + 1 : NULL;
}

static bool blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)p[i]))
			return false;
	return true;
}

/* ---- GMime plumbing ---------------------------------------------------- */

/* The decoded content of a leaf part, NUL-terminated, in sb. */
static void part_content(GMimePart *part, struct sbuf *sb)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem;
	GByteArray *bytes;

	if (!w)
		return;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	sbuf_add(sb, bytes->data, bytes->len);
	g_object_unref(mem);
}

/* Parses text as a header block (a message with no body); NULL when GMime
 * finds nothing. */
static GMimeMessage *parse_headers(const char *text, size_t len)
{
	struct sbuf sb = SBUF_INIT;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	sbuf_add(&sb, text, len);
	sbuf_addstr(&sb, "\n\n");
	stream = g_mime_stream_mem_new_with_buffer(sb.buf, sb.len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	sbuf_release(&sb);
	return msg;
}

static const char *header_value(GMimeObject *obj, const char *name)
{
	return g_mime_object_get_header(obj, name);
}

/* A header value squeezed onto one line (caller frees), or NULL. */
static char *header_dup(GMimeObject *obj, const char *name)
{
	const char *v = header_value(obj, name);

	return v ? squeeze(v, strlen(v)) : NULL;
}

static char *message_id_dup(const char *v)
{
	char *id = v ? g_mime_utils_decode_message_id(v) : NULL;
	char *res = id && *id ? xstrdup(id) : NULL;

	g_free(id);
	return res;
}

/* What a walk over the report's MIME tree finds. */
struct found {
	GMimePart *status_part;   /* message/delivery-status */
	GMimeObject *original;    /* headers of the returned message */
	GMimeMessage *owned;      /* parsed text/rfc822-headers, to unref */
	struct sbuf text;         /* every text/plain outside the original */
};

static bool is_type(GMimeObject *o, const char *type, const char *sub)
{
	return g_mime_content_type_is_type(g_mime_object_get_content_type(o),
					   type, sub);
}

static void note_original_headers(struct found *f, GMimePart *part)
{
	struct sbuf sb = SBUF_INIT;

	part_content(part, &sb);
	f->owned = parse_headers(sb.buf, sb.len);
	if (f->owned)
		f->original = GMIME_OBJECT(f->owned);
	sbuf_release(&sb);
}

static void walk(GMimeObject *o, struct found *f)
{
	if (GMIME_IS_MULTIPART(o)) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));

		for (int i = 0; i < n; i++)
			walk(g_mime_multipart_get_part(GMIME_MULTIPART(o), i), f);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m =
			g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));

		if (m && !f->original)
			f->original = GMIME_OBJECT(m);
	} else if (!GMIME_IS_PART(o)) {
		return;
	} else if (is_type(o, "message", "delivery-status") ||
		   is_type(o, "message", "global-delivery-status")) {
		if (!f->status_part)
			f->status_part = GMIME_PART(o);
	} else if (is_type(o, "text", "rfc822-headers") ||
		   is_type(o, "message", "global-headers")) {
		if (!f->original)
			note_original_headers(f, GMIME_PART(o));
	} else if (is_type(o, "text", "plain")) {
		part_content(GMIME_PART(o), &f->text);
		sbuf_addch(&f->text, '\n');
	}
}

/* ---- RFC 3464 ---------------------------------------------------------- */

/* "rfc822; a@b" → "a@b" (brackets removed); other address types are kept
 * whole. NULL for NULL or empty. */
static char *dsn_address(const char *v)
{
	const char *semi;
	char *s, *res;
	size_t len;

	if (!v)
		return NULL;
	semi = strchr(v, ';');
	if (semi && (size_t)(semi - v) == 6 && strncasecmp(v, "rfc822", 6) == 0)
		v = semi + 1;
	s = squeeze(v, strlen(v));
	if (!s)
		return NULL;
	len = strlen(s);
	if (s[0] == '<' && s[len - 1] == '>' && len > 2) {
		res = xstrndup(s + 1, len - 2);
		free(s);
		return res;
	}
	return s;
}

static void add_recipient(struct bounce_report *r,
			  const struct bounce_recipient *rc)
{
	r->recipients = xrealloc(r->recipients,
				 (r->nrecipients + 1) * sizeof(*r->recipients));
	r->recipients[r->nrecipients++] = *rc;
}

/* One per-recipient field group; a group with neither Action nor a
 * recipient is skipped (some MTAs add empty or vendor groups). */
static int dsn_recipient(struct bounce_report *r, GMimeObject *g,
			 struct error *err)
{
	struct bounce_recipient rc = {0};
	const char *action = header_value(g, "Action");
	char *a;

	if (!action && !header_value(g, "Final-Recipient"))
		return 0;
	if (!action)
		return error_set(err, ERR_DATA,
				 "delivery-status recipient group without an "
				 "Action field");
	a = squeeze(action, strlen(action));
	/* RFC 3464 allows comments after the action: "failed (bad mailbox)" */
	if (a && strchr(a, ' '))
		*strchr(a, ' ') = '\0';
	if (!a || bounce_action_parse(a, &rc.action) != 0) {
		error_set(err, ERR_DATA,
			  "delivery-status has an unknown Action '%s'",
			  a ? a : "");
		free(a);
		return ERR_DATA;
	}
	free(a);
	rc.final_recipient = dsn_address(header_value(g, "Final-Recipient"));
	rc.original_recipient =
		dsn_address(header_value(g, "Original-Recipient"));
	rc.status = header_dup(g, "Status");
	rc.diagnostic = header_dup(g, "Diagnostic-Code");
	add_recipient(r, &rc);
	return 0;
}

static void dsn_per_message(struct bounce_report *r, GMimeObject *g)
{
	char *envid = header_dup(g, "Original-Envelope-Id");

	r->envid = envid ? xtext_decode(envid) : NULL;
	free(envid);
}

/* The field groups of a delivery-status body: the first is per message,
 * the others per recipient. */
static int dsn_parse_status(struct bounce_report *r, GMimePart *part,
			    struct error *err)
{
	struct sbuf body = SBUF_INIT;
	const char *p, *start = NULL, *end = NULL;
	int group = 0, rc = 0;

	part_content(part, &body);
	for (p = body.buf; p && !rc;) {
		size_t len;
		const char *line = p;
		const char *next = next_line(p, &len);
		bool is_blank = blank(line, len);

		if (!is_blank && !start)
			start = line;
		if (!is_blank)
			end = line + len;
		if ((is_blank || !next) && start) {
			GMimeMessage *g = parse_headers(start, (size_t)(end - start));

			if (g && group == 0)
				dsn_per_message(r, GMIME_OBJECT(g));
			/* dsn_recipient skips a group without recipient
			 * fields, so a DSN that forgot its per-message
			 * group still yields its recipient */
			if (g)
				rc = dsn_recipient(r, GMIME_OBJECT(g), err);
			if (g)
				g_object_unref(g);
			group++;
			start = NULL;
		}
		p = next;
	}
	sbuf_release(&body);
	if (!rc && r->nrecipients == 0)
		rc = error_set(err, ERR_DATA,
			       "delivery-status part names no recipient "
			       "(no Final-Recipient/Action group)");
	return rc;
}

/* ---- non-standard bounces --------------------------------------------- */

/* A text bounce's recipient: address and diagnostic lines. */
static void text_recipient(struct bounce_report *r, enum bounce_action action,
			   char *addr, const char *diag, size_t diag_len)
{
	struct bounce_recipient rc = {0};

	rc.action = action;
	rc.final_recipient = addr;
	rc.diagnostic = squeeze(diag, diag_len);
	rc.status = rc.diagnostic ? find_status(rc.diagnostic) : NULL;
	add_recipient(r, &rc);
}

/* Postfix: "<addr>: reason" or "<addr> (expanded from <alias>): reason",
 * the reason continued on indented lines. */
static void postfix_recipients(struct bounce_report *r, const char *text,
			       enum bounce_action action)
{
	for (const char *p = text; p;) {
		size_t len;
		const char *next = next_line(p, &len);
		const char *close = memchr(p, '>', len);
		const char *colon = close ? memmem(close, len - (size_t)(close - p),
						   ": ", 2)
					  : NULL;
		struct sbuf diag = SBUF_INIT;
		char *addr;

		if (p[0] != '<' || !colon ||
		    !(addr = find_address(p, (size_t)(close - p)))) {
			p = next;
			continue;
		}
		sbuf_add(&diag, colon + 2, len - (size_t)(colon + 2 - p));
		for (p = next; p && (*p == ' ' || *p == '\t'); p = next) {
			next = next_line(p, &len);
			sbuf_addch(&diag, ' ');
			sbuf_add(&diag, p, len);
		}
		text_recipient(r, action, addr, diag.buf, diag.len);
		sbuf_release(&diag);
	}
}

static int indent_of(const char *p, size_t len)
{
	int n = 0;

	while ((size_t)n < len && (p[n] == ' ' || p[n] == '\t'))
		n += 1;
	return n;
}

/* Exim: after "The following address(es) failed:", each address on a line
 * indented by two, its details indented deeper, until an unindented line. */
static void exim_recipients(struct bounce_report *r, const char *text,
			    enum bounce_action action, const char *marker)
{
	const char *p = strstr(text, marker);
	char *addr = NULL;
	struct sbuf diag = SBUF_INIT;

	if (p)
		p = next_line(p, &(size_t){0});
	for (; p;) {
		size_t len;
		const char *line = p;
		int ind;

		p = next_line(line, &len);
		if (blank(line, len))
			continue;
		ind = indent_of(line, len);
		if (ind == 0)
			break;
		if (ind <= 2 || !addr) {
			if (addr)
				text_recipient(r, action, addr, diag.buf, diag.len);
			addr = find_address(line, len);
			sbuf_reset(&diag);
			continue;
		}
		sbuf_addch(&diag, ' ');
		sbuf_add(&diag, line, len);
	}
	if (addr)
		text_recipient(r, action, addr, diag.buf, diag.len);
	sbuf_release(&diag);
}

/* Exchange 2010 and later: in "Diagnostic information for administrators"
 * a recipient line is followed by "#550 5.1.1 RESOLVER... ##". Older
 * versions list "addr on <date>" lines with the reason indented below;
 * for those the first address after the heading is taken. */
static void exchange_recipients(struct bounce_report *r, const char *text)
{
	const char *p = strstr(text, "Diagnostic information for administrators");
	const char *prev = NULL;
	size_t prev_len = 0;

	for (p = p ? next_line(p, &(size_t){0}) : NULL; p;) {
		size_t len;
		const char *line = p;

		p = next_line(line, &len);
		if (blank(line, len))
			continue;
		if (line[0] == '#' && prev) {
			size_t dlen = len - 1;
			char *addr = find_address(prev, prev_len);

			while (dlen && (line[dlen] == '#' || line[dlen] == ' '))
				dlen--;
			if (addr)
				text_recipient(r, BOUNCE_FAILED, addr, line + 1, dlen);
		}
		prev = line;
		prev_len = len;
	}
	if (r->nrecipients)
		return;
	p = strstr(text, "recipients or groups:");
	if (!p)
		p = strstr(text, "could not be reached:");
	for (p = p ? next_line(p, &(size_t){0}) : NULL; p;) {
		size_t len;
		const char *line = p;
		char *addr;

		p = next_line(line, &len);
		addr = find_address(line, len);
		if (addr) {
			text_recipient(r, BOUNCE_FAILED, addr, NULL, 0);
			return;
		}
	}
}

/* Which non-standard bounce msg is, and whether it reports a delay;
 * -1 when it is none that chancery knows. */
static int text_format(GMimeMessage *msg, const char *text,
		       enum bounce_action *action)
{
	const char *subject = g_mime_message_get_subject(msg);
	GMimeObject *o = GMIME_OBJECT(msg);

	if (!subject)
		subject = "";
	*action = BOUNCE_FAILED;
	if (header_value(o, "X-MS-Exchange-Message-Is-Ndr") ||
	    strncasecmp(subject, "Undeliverable:", 14) == 0 ||
	    strstr(text, "Delivery has failed to these recipients"))
		return BOUNCE_FORMAT_EXCHANGE;
	if (strstr(text, "This message was created automatically by mail "
			 "delivery software") ||
	    strncasecmp(subject, "Mail delivery failed", 20) == 0) {
		if (strstr(text, "address(es) have not yet been delivered:"))
			*action = BOUNCE_DELAYED;
		return BOUNCE_FORMAT_EXIM;
	}
	if (strstr(text, "This is the mail system at host") ||
	    strstr(text, "This is the Postfix program at host") ||
	    strcasecmp(subject, "Undelivered Mail Returned to Sender") == 0 ||
	    strncasecmp(subject, "Delayed Mail", 12) == 0) {
		if (strncasecmp(subject, "Delayed Mail", 12) == 0)
			*action = BOUNCE_DELAYED;
		return BOUNCE_FORMAT_POSTFIX;
	}
	return -1;
}

/* A line of text starting with name (case-insensitive), at column 0. */
static const char *find_header_line(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p; p = next_line(p, &(size_t){0}))
		if (strncasecmp(p, name, n) == 0)
			return p;
	return NULL;
}

/* The header block a text bounce quotes: the paragraph around its
 * Message-ID (or X-Chancery-Delivery) line, parsed by GMime. */
static GMimeMessage *quoted_headers(const char *text)
{
	const char *hit = find_header_line(text, "Message-ID:");
	const char *start, *end;

	if (!hit)
		hit = find_header_line(text, "X-Chancery-Delivery:");
	if (!hit)
		return NULL;
	for (start = hit; start > text;) {
		const char *q = start - 1; /* the newline ending the line above */
		const char *b = q;

		while (b > text && b[-1] != '\n')
			b--;
		if (blank(b, (size_t)(q - b)))
			break;
		start = b;
	}
	for (end = hit; *end;) {
		size_t len;
		const char *next = next_line(end, &len);

		if (blank(end, len) || !next) {
			end += len;
			break;
		}
		end = next;
	}
	return parse_headers(start, (size_t)(end - start));
}

static void take_original(struct bounce_report *r, GMimeObject *orig)
{
	const char *mid = header_value(orig, "Message-ID");

	r->original_message_id = message_id_dup(mid);
	r->delivery_header = header_dup(orig, "X-Chancery-Delivery");
}

static int parse_text_bounce(struct bounce_report *r, GMimeMessage *msg,
			     const char *text, struct error *err)
{
	enum bounce_action action;
	int fmt = text_format(msg, text, &action);
	const char *subject = g_mime_message_get_subject(msg);

	if (fmt < 0)
		return error_set(err, ERR_DATA,
				 "not a delivery report: no message/"
				 "delivery-status part and no Postfix, Exim or "
				 "Exchange bounce text (Subject: %.80s)",
				 subject ? subject : "(none)");
	r->format = (enum bounce_format)fmt;
	if (fmt == BOUNCE_FORMAT_POSTFIX)
		postfix_recipients(r, text, action);
	else if (fmt == BOUNCE_FORMAT_EXIM)
		exim_recipients(r, text, action,
				action == BOUNCE_DELAYED
					? "address(es) have not yet been delivered:"
					: "address(es) failed:");
	else
		exchange_recipients(r, text);
	return 0;
}

/* A text bounce that named no recipient still identifies the delivery
 * when the original message came back: one message, one recipient. */
static int ensure_recipient(struct bounce_report *r, struct error *err)
{
	struct bounce_recipient rc = {0};

	if (r->nrecipients)
		return 0;
	if (!r->original_message_id && !r->delivery_header)
		return error_set(err, ERR_DATA,
				 "%s bounce names neither a recipient nor the "
				 "original Message-ID",
				 bounce_format_name(r->format));
	rc.action = BOUNCE_FAILED;
	add_recipient(r, &rc);
	return 0;
}

static GMimeMessage *parse_message(const char *data, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

/* Checks that the top level says what a DSN says about itself. */
static int check_report_type(GMimeMessage *msg, const struct found *f,
			     struct error *err)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	const char *type;

	if (!top || !is_type(top, "multipart", "report"))
		return 0;
	type = g_mime_object_get_content_type_parameter(top, "report-type");
	if (type && strcasecmp(type, "delivery-status") != 0 &&
	    strcasecmp(type, "global-delivery-status") != 0)
		return error_set(err, ERR_DATA,
				 "a multipart/report of type '%.40s' is not a "
				 "delivery report",
				 type);
	if (!f->status_part)
		return error_set(err, ERR_DATA,
				 "multipart/report without a "
				 "message/delivery-status part");
	return 0;
}

static int parse_body(struct bounce_report *r, GMimeMessage *msg,
		      struct error *err)
{
	struct found f = {.text = SBUF_INIT};
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeMessage *quoted = NULL;
	int rc;

	if (top)
		walk(top, &f);
	rc = check_report_type(msg, &f, err);
	if (!rc && f.status_part) {
		r->format = BOUNCE_FORMAT_DSN;
		rc = dsn_parse_status(r, f.status_part, err);
	} else if (!rc) {
		rc = parse_text_bounce(r, msg, f.text.buf, err);
	}
	if (!rc && !f.original && (quoted = quoted_headers(f.text.buf)))
		f.original = GMIME_OBJECT(quoted);
	if (!rc && f.original)
		take_original(r, f.original);
	if (!rc)
		rc = ensure_recipient(r, err);
	if (quoted)
		g_object_unref(quoted);
	if (f.owned)
		g_object_unref(f.owned);
	sbuf_release(&f.text);
	return rc;
}

int bounce_parse(const char *data, size_t len, struct bounce_report **out,
		 struct error *err)
{
	struct bounce_report *r = NULL;
	GMimeMessage *msg = NULL;
	int rc = 0;

	*out = NULL;
	if (len == 0 || blank(data, len))
		return error_set(err, ERR_DATA, "empty input: no message to read");
	if (len > BOUNCE_MAX_SIZE)
		return error_set(err, ERR_DATA,
				 "report of %zu bytes is larger than the limit "
				 "of %u", len, BOUNCE_MAX_SIZE);
	if (memchr(data, '\0', len))
		return error_set(err, ERR_DATA,
				 "not a mail message: it holds NUL bytes");
	mime_init();
	msg = parse_message(data, len);
	if (!msg || g_mime_header_list_get_count(
			    g_mime_object_get_header_list(GMIME_OBJECT(msg))) == 0) {
		rc = error_set(err, ERR_DATA,
			       "not a mail message: no header fields found");
		goto out;
	}
	r = xcalloc(1, sizeof(*r));
	sha256_hex(data, len, r->sha256);
	r->message_id = message_id_dup(header_value(GMIME_OBJECT(msg),
						     "Message-ID"));
	rc = parse_body(r, msg, err);
out:
	if (msg)
		g_object_unref(msg);
	if (rc) {
		bounce_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- processing -------------------------------------------------------- */

enum {
	ST_REPORT_SEEN,
	ST_REPORT_INSERT,
	ST_DELIVERY_BY_ID,
	ST_DELIVERY_BY_ENVID,
	ST_DELIVERY_BY_MESSAGE_ID,
	ST_DELIVERY_BY_RECIPIENT,
	ST_QUARANTINE_NEXT_ID,
	ST_QUARANTINE_INSERT,
	ST_QUARANTINE_GET,
	ST_QUARANTINE_CONFIRM,
	ST_QUARANTINE_LIST,
	ST__COUNT
};

#define DELIVERY_COLUMNS \
	"SELECT d.id, d.campaign_id, d.contact_id, d.body_id, d.state, " \
	"d.email FROM deliveries d "

static const char *const bounce_sql[ST__COUNT] = {
	[ST_REPORT_SEEN] = "SELECT id FROM bounce_reports WHERE sha256 = ?1 "
			   "OR (?2 IS NOT NULL AND message_id = ?2) "
			   "ORDER BY id LIMIT 1",
	[ST_REPORT_INSERT] = "INSERT INTO bounce_reports (sha256, message_id, "
			     "format, envid, original_message_id, recipients, "
			     "received_at, raw) "
			     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_DELIVERY_BY_ID] = DELIVERY_COLUMNS "WHERE d.id = ?1",
	[ST_DELIVERY_BY_ENVID] = DELIVERY_COLUMNS
		"WHERE d.envid = ?1 ORDER BY d.id DESC LIMIT 1",
	[ST_DELIVERY_BY_MESSAGE_ID] = DELIVERY_COLUMNS
		"WHERE d.message_id = ?1 ORDER BY d.id DESC LIMIT 1",
	[ST_DELIVERY_BY_RECIPIENT] = DELIVERY_COLUMNS
		"WHERE d.email = ?1 COLLATE NOCASE AND d.state = 'sent' "
		"ORDER BY d.sent_at DESC, d.id DESC LIMIT 1",
	/* The id the next row gets (the caller holds the write
	 * transaction), so that its reason can name it. */
	[ST_QUARANTINE_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 "
				  "FROM bounce_quarantine",
	[ST_QUARANTINE_INSERT] = "INSERT INTO bounce_quarantine (report_id, "
				 "delivery_id, recipient, action, status, "
				 "diagnostic, reason, created_at, id) "
				 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_QUARANTINE_GET] = "SELECT q.report_id, q.delivery_id, q.recipient, "
			      "q.action, q.status, q.diagnostic, "
			      "q.confirmed_by, r.format, r.sha256 "
			      "FROM bounce_quarantine q "
			      "JOIN bounce_reports r ON r.id = q.report_id "
			      "WHERE q.id = ?1",
	[ST_QUARANTINE_CONFIRM] = "UPDATE bounce_quarantine SET "
				  "confirmed_at = ?2, confirmed_by = ?3 "
				  "WHERE id = ?1 AND confirmed_at IS NULL",
	[ST_QUARANTINE_LIST] = "SELECT q.id, q.report_id, q.created_at, "
			       "r.format, q.recipient, q.action, q.status, "
			       "r.envid, r.original_message_id, q.diagnostic, "
			       "q.reason, q.delivery_id, q.confirmed_at, "
			       "q.confirmed_by FROM bounce_quarantine q "
			       "JOIN bounce_reports r ON r.id = q.report_id "
			       "ORDER BY q.id",
};

static const struct db_statements bounce_statements = {"bounce", bounce_sql,
						       ST__COUNT};

/* The delivery a recipient was matched to. */
struct match {
	int64_t id, campaign_id, contact_id, body_id;
	char state[16];
	const char *by;   /* "envid", "message-id", "token-less envid",
			     "recipient", "hand" */
	bool trusted;     /* by an identifier only chancery and the mail's
			     path saw: it may change the delivery */
	const char *wrong_envid; /* a report's tokened ENVID that is no
				    delivery's, for the reason */
};

/* Runs a delivery lookup; 1 and *m filled when a row came back. */
static int lookup(struct db *db, int index, int64_t id, const char *text,
		  struct match *m, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, index, &st, err);

	if (rc)
		return rc;
	if (text)
		db_bind_text(st, 1, text);
	else
		sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc != 1)
		return rc;
	m->id = sqlite3_column_int64(st, 0);
	m->campaign_id = sqlite3_column_int64(st, 1);
	m->contact_id = sqlite3_column_int64(st, 2);
	m->body_id = sqlite3_column_int64(st, 3);
	snprintf(m->state, sizeof(m->state), "%s", db_column_text(st, 4));
	sqlite3_reset(st);
	return 1;
}

/*
 * Matching in the order of trust. Only a report carrying the delivery's
 * whole ENVID with its random token (as Original-Envelope-Id or in the
 * returned X-Chancery-Delivery), or its whole original Message-ID, is
 * trusted: nobody but the relays on the way and the recipient saw those.
 * Anyone can write a report naming an address or "chancery-12", so the
 * delivery a token-less ENVID names, or the recipient's most recent one
 * awaiting news, is only a suspect (m->trusted false): the report is
 * quarantined for a person to confirm (bounce_confirm).
 */
static int match_delivery(struct db *db, const struct bounce_report *r,
			  const struct bounce_recipient *rc, struct match *m,
			  struct error *err)
{
	const char *envids[] = {r->envid, r->delivery_header};
	const char *addrs[] = {rc->original_recipient ? rc->original_recipient
						      : rc->final_recipient,
			       rc->original_recipient ? rc->final_recipient
						      : NULL};
	bool token;
	int found = 0;

	for (size_t i = 0; i < 2 && !found; i++) {
		if (!envid_parse(envids[i], &token) || !token)
			continue;
		found = lookup(db, ST_DELIVERY_BY_ENVID, 0, envids[i], m, err);
		if (found == 1)
			m->by = "envid";
		else if (!found && !m->wrong_envid)
			m->wrong_envid = envids[i];
	}
	if (!found && r->original_message_id &&
	    (found = lookup(db, ST_DELIVERY_BY_MESSAGE_ID, 0,
			    r->original_message_id, m, err)) == 1)
		m->by = "message-id";
	m->trusted = found == 1;
	for (size_t i = 0; i < 2 && !found; i++) {
		int64_t id = envid_parse(envids[i], &token);

		if (id && !token &&
		    (found = lookup(db, ST_DELIVERY_BY_ID, id, NULL, m, err)) == 1)
			m->by = "token-less envid";
	}
	for (size_t i = 0; i < 2 && !found; i++)
		if (addrs[i] && (found = lookup(db, ST_DELIVERY_BY_RECIPIENT, 0,
						addrs[i], m, err)) == 1)
			m->by = "recipient";
	return found;
}

struct ctx {
	struct db *db;
	const struct bounce_report *r;
	int64_t report_id;
	int threshold;
	struct bounce_result *res;
	bounce_note_fn note;
	void *arg;
	const char *confirmed_by; /* bounce_confirm: who */
	int64_t quarantine_id;    /* bounce_confirm: which row */
};

/* The ledger's data for a report event. */
static char *event_data(const struct ctx *c, const struct bounce_recipient *rc,
			const char *by, const char *reason)
{
	const struct bounce_report *r = c->r;
	struct sbuf out = SBUF_INIT;
	struct json js;

	json_init(&js, &out, false);
	json_object_begin(&js);
	json_kv_string(&js, "action", bounce_action_name(rc->action));
	json_kv_string(&js, "recipient", rc->final_recipient);
	if (rc->original_recipient)
		json_kv_string(&js, "original_recipient", rc->original_recipient);
	json_kv_string(&js, "status", rc->status);
	json_kv_string(&js, "diagnostic", rc->diagnostic);
	json_kv_string(&js, "format", bounce_format_name(r->format));
	json_kv_int(&js, "report", c->report_id);
	json_kv_string(&js, "report_sha256", r->sha256);
	if (by)
		json_kv_string(&js, "matched_by", by);
	if (reason)
		json_kv_string(&js, "reason", reason);
	if (c->confirmed_by) {
		json_kv_int(&js, "quarantine", c->quarantine_id);
		json_kv_string(&js, "confirmed_by", c->confirmed_by);
	}
	json_object_end(&js);
	return sbuf_detach(&out, NULL);
}

/* What is written as the delivery's reason when it bounced. */
static char *bounce_reason(const struct bounce_recipient *rc)
{
	if (rc->diagnostic && rc->status && !strstr(rc->diagnostic, rc->status))
		return xasprintf("%s (status %s)", rc->diagnostic, rc->status);
	if (rc->diagnostic)
		return xstrdup(rc->diagnostic);
	return xasprintf("bounced: status %s", rc->status ? rc->status
							  : "not given");
}

static void note(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct ctx *c, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	if (!c->note)
		return;
	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	c->note(sb.buf, c->arg);
	sbuf_release(&sb);
}

/*
 * A quarantine row and its bounce.quarantined event. m is the delivery
 * the recipient matched, or NULL; when it is only a suspect, the reason
 * says how to confirm it.
 */
static int quarantine(struct ctx *c, const struct bounce_recipient *rc,
		      const struct match *m, const char *why,
		      struct error *err)
{
	struct ledger_event ev = {.kind = LEDGER_BOUNCE_QUARANTINED,
				  .delivery_id = m ? m->id : 0};
	sqlite3_stmt *st;
	char *data = NULL, *reason = NULL;
	int64_t qid = 0;
	int rc2 = db_prepare(c->db, &bounce_statements, ST_QUARANTINE_NEXT_ID,
			     &st, err);

	if (rc2)
		return rc2;
	rc2 = db_step(c->db, st, err);
	if (rc2 != 1)
		return rc2 ? rc2 : error_set(err, ERR_SOFTWARE, "no next "
					     "quarantine id");
	qid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	reason = m && !m->trusted
			 ? xasprintf("%s; confirm with 'chancery bounce "
				     "confirm %lld'", why, (long long)qid)
			 : xstrdup(why);
	rc2 = db_prepare(c->db, &bounce_statements, ST_QUARANTINE_INSERT, &st,
			 err);
	if (rc2)
		goto out;
	sqlite3_bind_int64(st, 1, c->report_id);
	db_bind_id(st, 2, m ? m->id : 0);
	db_bind_text(st, 3, rc->final_recipient);
	db_bind_text(st, 4, bounce_action_name(rc->action));
	db_bind_text(st, 5, rc->status);
	db_bind_text(st, 6, rc->diagnostic);
	db_bind_text(st, 7, reason);
	sqlite3_bind_int64(st, 8, clock_now());
	sqlite3_bind_int64(st, 9, qid);
	rc2 = db_step_done(c->db, st, err);
	if (rc2)
		goto out;
	data = event_data(c, rc, m ? m->by : NULL, reason);
	ev.data = data;
	rc2 = ledger_append(c->db, &ev, NULL, err);
	if (!rc2) {
		c->res->quarantined++;
		note(c, "quarantined #%lld: %s %s: %s",
		     (long long)qid,
		     bounce_action_name(rc->action),
		     rc->final_recipient ? rc->final_recipient : "(no recipient)",
		     reason);
	}
out:
	free(data);
	free(reason);
	return rc2;
}

/* Why a recipient matched only by what anyone could write is not applied
 * to the delivery it names. */
static char *suspect_reason(const struct match *m)
{
	const char *how = strcmp(m->by, "recipient") == 0
				  ? "matched by recipient only"
				  : "matched by a token-less ENVID only";

	if (m->wrong_envid)
		return xasprintf("%s: the report's ENVID %s is no delivery's "
				 "(wrong token), delivery %lld not changed",
				 how, m->wrong_envid, (long long)m->id);
	return xasprintf("%s: no chancery token in the report, delivery %lld "
			 "not changed",
			 how, (long long)m->id);
}

/* Why recipients no delivery matched are quarantined. */
static char *unmatched_reason(const struct bounce_report *r,
			      const struct bounce_recipient *rc)
{
	return xasprintf("no delivery matches (envid %s, message-id %s, "
			 "recipient %s)",
			 r->envid ? r->envid
				  : r->delivery_header ? r->delivery_header
						       : "none",
			 r->original_message_id ? r->original_message_id
						: "none",
			 rc->final_recipient ? rc->final_recipient : "none");
}

static int append_delivery_event(struct ctx *c, enum ledger_kind kind,
				 const struct bounce_recipient *rc,
				 const struct match *m, struct error *err)
{
	struct ledger_event ev = {.kind = kind,
				  .campaign_id = m->campaign_id,
				  .delivery_id = m->id,
				  .body_id = m->body_id,
				  .contact_id = m->contact_id};
	char *data = event_data(c, rc, m->by, NULL);
	int rc2;

	ev.data = data;
	rc2 = ledger_append(c->db, &ev, NULL, err);
	free(data);
	return rc2;
}

/* Moves the matched delivery as the report says, through the queue,
 * which owns delivery state; the event carries the report's evidence. */
static int report_to_queue(struct ctx *c, const struct bounce_recipient *rc,
			   const struct match *m, bool bounced,
			   const char *reason, struct error *err)
{
	char *data = event_data(c, rc, m->by, NULL);
	struct queue_report qr = {
		.delivery_id = m->id, .campaign_id = m->campaign_id,
		.body_id = m->body_id, .contact_id = m->contact_id,
		.bounced = bounced, .reason = reason, .data = data,
	};
	int ret = queue_apply_report(c->db, &qr, err);

	free(data);
	return ret;
}

static int apply_failed(struct ctx *c, const struct bounce_recipient *rc,
			const struct match *m, struct error *err)
{
	char *reason = bounce_reason(rc);
	bool marked = false;
	int ret = report_to_queue(c, rc, m, true, reason, err);

	if (!ret) {
		c->res->bounced++;
		note(c, "delivery %lld bounced (matched by %s): %s",
		     (long long)m->id, m->by, reason);
		ret = streak_check(c->db, m->contact_id, c->threshold,
					   &marked, err);
	}
	if (!ret && marked) {
		c->res->contacts_bouncing++;
		note(c, "contact %lld is now bouncing", (long long)m->contact_id);
	}
	free(reason);
	return ret;
}

static int apply_delivered(struct ctx *c, const struct bounce_recipient *rc,
			   const struct match *m, struct error *err)
{
	int ret = report_to_queue(c, rc, m, false, NULL, err);

	if (!ret) {
		c->res->delivered++;
		note(c, "delivery %lld delivered (matched by %s)",
		     (long long)m->id, m->by);
	}
	return ret;
}

static int apply_delayed(struct ctx *c, const struct bounce_recipient *rc,
			 const struct match *m, struct error *err)
{
	int ret = append_delivery_event(c, LEDGER_DELIVERY_DELAYED, rc, m, err);

	if (!ret) {
		c->res->delayed++;
		note(c, "delivery %lld delayed (matched by %s): %s",
		     (long long)m->id, m->by,
		     rc->diagnostic ? rc->diagnostic : "(no diagnostic)");
	}
	return ret;
}

static bool state_is(const struct match *m, const char *s)
{
	return strcmp(m->state, s) == 0;
}

/*
 * The changes of the state table of bounce.h: applies what the report
 * says when it fits the delivery's state, else sets *fits false and
 * changes nothing.
 */
static int apply_fitting(struct ctx *c, const struct bounce_recipient *rc,
			 const struct match *m, bool *fits, struct error *err)
{
	bool sent = state_is(m, "sent");

	*fits = true;
	if (rc->action == BOUNCE_FAILED &&
	    (sent || state_is(m, "delivered")))
		return apply_failed(c, rc, m, err);
	if (sent && (rc->action == BOUNCE_DELIVERED ||
		     rc->action == BOUNCE_EXPANDED))
		return apply_delivered(c, rc, m, err);
	if (sent && rc->action == BOUNCE_DELAYED)
		return apply_delayed(c, rc, m, err);
	*fits = false;
	return 0;
}

/* The state table of bounce.h, for one matched recipient. */
static int apply(struct ctx *c, const struct bounce_recipient *rc,
		 const struct match *m, struct error *err)
{
	bool fits;
	char *why;
	int ret = apply_fitting(c, rc, m, &fits, err);

	if (ret || fits)
		return ret;
	if (state_is(m, "sent") || state_is(m, "delivered") ||
	    state_is(m, "bounced")) {
		c->res->unchanged++;
		note(c, "delivery %lld unchanged: %s report, delivery is %s",
		     (long long)m->id, bounce_action_name(rc->action), m->state);
		return 0;
	}
	why = xasprintf("a %s report does not fit delivery %lld in state %s",
			bounce_action_name(rc->action), (long long)m->id,
			m->state);
	ret = quarantine(c, rc, m, why, err);
	free(why);
	return ret;
}

static int process_recipient(struct ctx *c, const struct bounce_recipient *rc,
			     struct error *err)
{
	struct match m = {0};
	char *why;
	int ret = match_delivery(c->db, c->r, rc, &m, err);

	if (ret < 0)
		return ret;
	if (ret == 1 && m.trusted)
		return apply(c, rc, &m, err);
	why = ret == 1 ? suspect_reason(&m) : unmatched_reason(c->r, rc);
	ret = quarantine(c, rc, ret == 1 ? &m : NULL, why, err);
	free(why);
	return ret;
}

/* The earlier record of this report (by hash or own Message-ID), or 0. */
static int find_report(struct db *db, const struct bounce_report *r,
		       int64_t *id, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, ST_REPORT_SEEN, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, r->sha256);
	db_bind_text(st, 2, r->message_id);
	*id = 0;
	rc = db_step(db, st, err);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

static int insert_report(struct db *db, const struct bounce_report *r,
			 const char *raw, size_t len, int64_t *id,
			 struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, ST_REPORT_INSERT, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, r->sha256);
	db_bind_text(st, 2, r->message_id);
	db_bind_text(st, 3, bounce_format_name(r->format));
	db_bind_text(st, 4, r->envid ? r->envid : r->delivery_header);
	db_bind_text(st, 5, r->original_message_id);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->nrecipients);
	sqlite3_bind_int64(st, 7, clock_now());
	sqlite3_bind_blob64(st, 8, raw, len, SQLITE_STATIC);
	rc = db_step_done(db, st, err);
	*id = db_last_id(db);
	return rc;
}

int bounce_process(struct db *db, const struct bounce_report *r,
		   const char *raw, size_t len, int threshold,
		   struct bounce_result *res, bounce_note_fn note_fn, void *arg,
		   struct error *err)
{
	struct ctx c = {db, r, 0, threshold, res, note_fn, arg, NULL, 0};
	int rc;

	memset(res, 0, sizeof(*res));
	if (threshold < 1)
		return error_set(err, ERR_USAGE, "bounce threshold %d is below 1",
				 threshold);
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = find_report(db, r, &res->report_id, err);
	if (!rc && res->report_id) {
		res->duplicate = true;
		note(&c, "report already read as #%lld (sha256 %.12s): "
			 "nothing changed",
		     (long long)res->report_id, r->sha256);
		goto out;
	}
	if (!rc)
		rc = insert_report(db, r, raw, len, &res->report_id, err);
	c.report_id = res->report_id;
	for (size_t i = 0; !rc && i < r->nrecipients; i++)
		rc = process_recipient(&c, &r->recipients[i], err);
out:
	if (rc) {
		db_rollback(db);
		memset(res, 0, sizeof(*res));
		return rc;
	}
	return db_commit(db, err);
}

/* ---- confirming by hand ----------------------------------------------- */

static int format_parse(const char *name, enum bounce_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]);
	     i++) {
		if (name && strcmp(name, format_names[i]) == 0) {
			*out = (enum bounce_format)i;
			return 0;
		}
	}
	return -1;
}

/* Reads quarantine row qid into the report, recipient and delivery id it
 * stands for, refusing a row that cannot be confirmed. */
static int quarantine_get(struct db *db, int64_t qid, struct bounce_report *r,
			  struct bounce_recipient *rc, int64_t *report_id,
			  int64_t *delivery_id, struct error *err)
{
	sqlite3_stmt *st;
	int ret = db_prepare(db, &bounce_statements, ST_QUARANTINE_GET, &st,
			     err);
	bool known;

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, qid);
	ret = db_step(db, st, err);
	if (ret == 0)
		return error_set(err, ERR_NOTFOUND, "no quarantined report #%lld",
				 (long long)qid);
	if (ret != 1)
		return ret;
	*report_id = sqlite3_column_int64(st, 0);
	*delivery_id = sqlite3_column_int64(st, 1);
	rc->final_recipient = db_column_strdup(st, 2);
	known = bounce_action_parse(db_column_text(st, 3), &rc->action) == 0 &&
		format_parse(db_column_text(st, 7), &r->format) == 0;
	rc->status = db_column_strdup(st, 4);
	rc->diagnostic = db_column_strdup(st, 5);
	snprintf(r->sha256, sizeof(r->sha256), "%s", db_column_text(st, 8));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL)
		ret = error_set(err, ERR_DATA, "quarantined report #%lld was "
				"already confirmed by %s", (long long)qid,
				db_column_text(st, 6));
	else if (!*delivery_id)
		ret = error_set(err, ERR_DATA, "quarantined report #%lld "
				"matched no delivery: there is nothing to "
				"apply it to", (long long)qid);
	else if (!known)
		ret = error_set(err, ERR_SOFTWARE, "quarantined report #%lld "
				"has an unknown action or format",
				(long long)qid);
	else
		ret = 0;
	sqlite3_reset(st);
	return ret;
}

/* The state table of bounce.h for a confirmed recipient; what does not
 * fit the delivery now is refused rather than quarantined again. */
static int apply_confirmed(struct ctx *c, const struct bounce_recipient *rc,
			   const struct match *m, struct error *err)
{
	bool fits;
	int ret = apply_fitting(c, rc, m, &fits, err);

	if (ret || fits)
		return ret;
	return error_set(err, ERR_DATA,
			 "quarantined report #%lld: a %s report does not fit "
			 "delivery %lld in state %s; nothing changed",
			 (long long)c->quarantine_id,
			 bounce_action_name(rc->action), (long long)m->id,
			 m->state);
}

static int mark_confirmed(struct ctx *c, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(c->db, &bounce_statements, ST_QUARANTINE_CONFIRM,
			    &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->quarantine_id);
	sqlite3_bind_int64(st, 2, clock_now());
	db_bind_text(st, 3, c->confirmed_by);
	rc = db_step_done(c->db, st, err);
	if (!rc && db_changes(c->db) != 1)
		rc = error_set(err, ERR_SOFTWARE, "quarantined report #%lld "
			       "changed under the confirmation",
			       (long long)c->quarantine_id);
	return rc;
}

int bounce_confirm(struct db *db, int64_t quarantine_id, const char *actor,
		   int threshold, struct bounce_result *res,
		   bounce_note_fn note_fn, void *arg, struct error *err)
{
	struct bounce_report r = {0};
	struct bounce_recipient rcp = {0};
	struct ctx c = {db, &r, 0, threshold, res, note_fn, arg, actor,
			quarantine_id};
	struct match m = {.by = "hand", .trusted = true};
	int64_t delivery_id = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if (threshold < 1)
		return error_set(err, ERR_USAGE, "bounce threshold %d is below 1",
				 threshold);
	if (!actor || !*actor)
		return error_set(err, ERR_USAGE, "a confirmation needs the name "
				 "of who confirms");
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = quarantine_get(db, quarantine_id, &r, &rcp, &c.report_id,
			    &delivery_id, err);
	if (!rc) {
		rc = lookup(db, ST_DELIVERY_BY_ID, delivery_id, NULL, &m, err);
		if (rc == 0)
			rc = error_set(err, ERR_SOFTWARE, "delivery %lld of "
				       "quarantined report #%lld is gone",
				       (long long)delivery_id,
				       (long long)quarantine_id);
		else if (rc == 1)
			rc = 0;
	}
	if (!rc)
		rc = apply_confirmed(&c, &rcp, &m, err);
	if (!rc)
		rc = mark_confirmed(&c, err);
	if (rc) {
		db_rollback(db);
		memset(res, 0, sizeof(*res));
	} else {
		res->report_id = c.report_id;
		rc = db_commit(db, err);
	}
	recipient_release(&rcp);
	return rc;
}

/* ---- quarantine listing ------------------------------------------------ */

static const char *column_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? NULL
		       : (const char *)sqlite3_column_text(st, col);
}

int bounce_quarantine_each(struct db *db, bounce_quarantine_fn fn, void *arg,
			   struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &bounce_statements, ST_QUARANTINE_LIST, &st, err);

	if (rc)
		return rc;
	while ((rc = db_step(db, st, err)) == 1) {
		struct bounce_quarantined q = {
			.id = sqlite3_column_int64(st, 0),
			.report_id = sqlite3_column_int64(st, 1),
			.created_at = sqlite3_column_int64(st, 2),
			.format = column_or_null(st, 3),
			.recipient = column_or_null(st, 4),
			.action = column_or_null(st, 5),
			.status = column_or_null(st, 6),
			.envid = column_or_null(st, 7),
			.original_message_id = column_or_null(st, 8),
			.diagnostic = column_or_null(st, 9),
			.reason = column_or_null(st, 10),
			.delivery_id = sqlite3_column_int64(st, 11),
			.confirmed_at = sqlite3_column_int64(st, 12),
			.confirmed_by = column_or_null(st, 13),
		};

		rc = fn(&q, arg);
		if (rc) {
			sqlite3_reset(st);
			return rc;
		}
	}
	return rc;
}
