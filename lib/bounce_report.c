/*
 * bounce_report: what one delivery report says, read from its bytes.
 *
 * Parsing only: no database. Applying a report to the deliveries it
 * names is bounce.c's (bounce.h).
 */
#include <ctype.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce_report.h"
#include "chancery/mime.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"

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

static const char *const class_names[] = {
	[BOUNCE_CLASS_UNKNOWN] = "unknown",
	[BOUNCE_CLASS_ADDRESS] = "address",
	[BOUNCE_CLASS_MAILBOX] = "mailbox",
	[BOUNCE_CLASS_POLICY] = "policy",
	[BOUNCE_CLASS_MESSAGE] = "message",
	[BOUNCE_CLASS_EXPIRED] = "expired",
	[BOUNCE_CLASS_TEMPORARY] = "temporary",
};

const char *bounce_class_name(enum bounce_class c)
{
	if ((unsigned)c >= BOUNCE_CLASS_COUNT)
		return NULL;
	return class_names[c];
}

int bounce_class_parse(const char *name, enum bounce_class *out)
{
	for (int i = 0; name && i < BOUNCE_CLASS_COUNT; i++) {
		if (strcmp(name, class_names[i]) == 0) {
			*out = (enum bounce_class)i;
			return 0;
		}
	}
	return -1;
}

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

int bounce_format_parse(const char *name, enum bounce_format *out)
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

void bounce_recipient_release(struct bounce_recipient *r)
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
		bounce_recipient_release(&r->recipients[i]);
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

int bounce_report_parse(const char *data, size_t len,
			struct bounce_report **out, struct error *err)
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
