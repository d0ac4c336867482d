/*
 * bounce_report: what one delivery report says, read from its bytes.
 *
 * Parsing only: no database. Applying a report to the deliveries it
 * names is bounce.c's (bounce.h). This file reads the MIME structure,
 * RFC 3464 fields and the identifiers; bounce_text.c the plain-text
 * formats; bounce_class.c the classification.
 */
#include <ctype.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce_report_impl.h"
#include "mime_read.h"
#include "chancery/bounce_report.h"
#include "chancery/mime.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"

static const char *const format_names[] = {
	[BOUNCE_FORMAT_DSN] = "dsn",
	[BOUNCE_FORMAT_POSTFIX] = "postfix",
	[BOUNCE_FORMAT_EXIM] = "exim",
	[BOUNCE_FORMAT_EXCHANGE] = "exchange",
	[BOUNCE_FORMAT_QMAIL] = "qmail",
	[BOUNCE_FORMAT_YAHOO] = "yahoo",
	[BOUNCE_FORMAT_GMAIL] = "gmail",
	[BOUNCE_FORMAT_GOOGLE_GROUPS] = "google_groups",
	[BOUNCE_FORMAT_SENDMAIL] = "sendmail",
	[BOUNCE_FORMAT_DRAGONFLY] = "dragonfly",
	[BOUNCE_FORMAT_AMAZON_SES] = "amazon_ses",
	[BOUNCE_FORMAT_AMAZON_WORKMAIL] = "amazon_workmail",
	[BOUNCE_FORMAT_NOTES] = "notes",
	[BOUNCE_FORMAT_IMAIL] = "imail",
	[BOUNCE_FORMAT_X_FAILED_RECIPIENTS] = "x_failed_recipients",
	[BOUNCE_FORMAT_OPENSMTPD] = "opensmtpd",
	[BOUNCE_FORMAT_DOMINO] = "domino",
	[BOUNCE_FORMAT_GMX] = "gmx",
	[BOUNCE_FORMAT_ZOHO] = "zoho",
	[BOUNCE_FORMAT_MAILFOUNDRY] = "mailfoundry",
	[BOUNCE_FORMAT_MAILRU] = "mailru",
	[BOUNCE_FORMAT_BIGLOBE] = "biglobe",
	[BOUNCE_FORMAT_ACTIVEHUNTER] = "activehunter",
	[BOUNCE_FORMAT_AUTO_DSN] = "auto_dsn_text",
	[BOUNCE_FORMAT_MFILTER] = "mfilter",
	[BOUNCE_FORMAT_ONEANDONE] = "1and1",
	[BOUNCE_FORMAT_KDDI] = "kddi",
	[BOUNCE_FORMAT_MAILMARSHAL] = "mailmarshal",
	[BOUNCE_FORMAT_SMAIL] = "smail",
	[BOUNCE_FORMAT_MESSAGING_SERVER] = "messaging_server",
	[BOUNCE_FORMAT_YANDEX] = "yandex",
	[BOUNCE_FORMAT_EZWEB] = "ezweb",
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

char *bounce_report_squeeze(const char *s, size_t len)
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
	return c > ' ' && c != 0x7f && !strchr("<>()[],;:\"'", c);
}

static bool is_domain_char(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80;
}

/* An address type ("rfc822", "rfc/822", "utf-8", "x400") before a ';'. */
static size_t type_prefix(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '/' ||
			   s[i] == '-' || s[i] == '_'))
		i++;
	return i > 0 && i < len && s[i] == ';' ? i + 1 : 0;
}

char *bounce_report_address(const char *s, size_t len, bool need_dot)
{
	size_t a = 0, b = len, at = 0, nat = 0;
	char *res;

	while (a < b && isspace((unsigned char)s[a]))
		a++;
	a += type_prefix(s + a, b - a);
	while (a < b && isspace((unsigned char)s[a]))
		a++;
	while (b > a && isspace((unsigned char)s[b - 1]))
		b--;
	if (a < b && s[a] == '<') {
		const char *close = memchr(s + a, '>', b - a);

		if (!close)
			return NULL;
		b = (size_t)(close - s);
		a++;
	}
	while (b > a && s[b - 1] == '.')
		b--;
	if (a >= b || s[a] == '|' || s[a] == '/')
		return NULL;
	for (size_t i = a; i < b; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || strchr("<>(),;:\\\"[]", c))
			return NULL;
		if (c == '@') {
			at = i;
			nat++;
		}
	}
	if (nat != 1 || at == a || at + 1 >= b)
		return NULL;
	for (size_t i = at + 1; i < b; i++)
		if (!is_domain_char((unsigned char)s[i]))
			return NULL;
	if (s[at + 1] == '.' || s[at + 1] == '-' ||
	    (need_dot && !memchr(s + at + 1, '.', b - at - 1)))
		return NULL;
	res = xstrndup(s + a, b - a);
	for (char *p = res + (at - a) + 1; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return res;
}

char *bounce_report_find_address(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		size_t a = i, b = i + 1;
		char *res;

		if (s[i] != '@')
			continue;
		while (a > 0 && is_addr_char((unsigned char)s[a - 1]))
			a--;
		while (b < len && is_addr_char((unsigned char)s[b]))
			b++;
		if ((res = bounce_report_address(s + a, b - a, true)))
			return res;
		i = b - 1;
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

/* The first enhanced status code in text, or NULL. */
static char *enhanced_status(const char *text)
{
	for (const char *p = text; p && *p; p++) {
		size_t n = status_at(text, p);

		if (n)
			return xstrndup(p, n);
	}
	return NULL;
}

/* The class digit of the first basic SMTP reply code (4xx, 5xx) in text,
 * or 0: three digits standing alone, not part of an address, a time or a
 * version. */
static int basic_code(const char *text)
{
	for (const char *p = text; p && *p; p++) {
		if (!strchr("45", *p) || digits(p, 3) != 3)
			continue;
		if (p > text && (isalnum((unsigned char)p[-1]) ||
				 strchr(".:-@", p[-1])))
			continue;
		if (p[3] && !strchr(" -;,:)\t", p[3]))
			continue;
		return *p;
	}
	return 0;
}

static bool generic_status(const char *s)
{
	return s && strcmp(s + 1, ".0.0") == 0;
}

/* The status of a recipient: the code in its Status field (comments
 * dropped), else the one its diagnostic carries ("550 5.1.1" → 5.1.1,
 * a bare "550" → 5.0.0); a generic x.0.0 gives way to a specific code of
 * the same class in the diagnostic. NULL when neither says. */
static char *normal_status(const char *field, const char *diag)
{
	char *st = enhanced_status(field);
	char *d = enhanced_status(diag);
	int basic;

	if (!st && d) {
		st = d;
		d = NULL;
	} else if (st && d && generic_status(st) && !generic_status(d) &&
		   st[0] == d[0]) {
		free(st);
		st = d;
		d = NULL;
	}
	free(d);
	if (!st && (basic = basic_code(diag)))
		st = xasprintf("%c.0.0", basic);
	return st;
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

const char *bounce_report_line(const char *p, size_t *len)
{
	const char *nl = strchr(p, '\n');

	*len = nl ? (size_t)(nl - p) : strlen(p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return nl ? nl + 1 : NULL;
}

bool bounce_report_blank(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)p[i]))
			return false;
	return true;
}

const char *bounce_report_phrase(const char *text, const char *phrase)
{
	size_t n = strlen(phrase);

	for (const char *p = text; p && *p;) {
		size_t len;
		const char *next = bounce_report_line(p, &len);
		size_t i = 0;

		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (len - i >= n && strncasecmp(p + i, phrase, n) == 0)
			return p + i;
		p = next;
	}
	return NULL;
}

/* ---- recipients -------------------------------------------------------- */

/* How far back bounce_report_add looks for a repeat: the formats that
 * name a recipient twice do so in adjacent lines, and a bounded look
 * keeps a report of many recipients linear. */
#define REPEAT_WINDOW 4

void bounce_report_add(struct bounce_report *r, enum bounce_action action,
		       char *addr, const char *status, const char *diag,
		       size_t diag_len)
{
	struct bounce_recipient rc = {0};
	size_t from = r->nrecipients > REPEAT_WINDOW
			      ? r->nrecipients - REPEAT_WINDOW
			      : 0;

	rc.action = action;
	rc.final_recipient = addr;
	rc.diagnostic = diag ? bounce_report_squeeze(diag, diag_len) : NULL;
	rc.status = normal_status(status, rc.diagnostic);
	rc.klass = bounce_classify(rc.status, rc.diagnostic, rc.action);
	for (size_t i = from; addr && i < r->nrecipients; i++) {
		struct bounce_recipient *o = &r->recipients[i];

		if (!o->final_recipient ||
		    strcasecmp(o->final_recipient, addr) != 0)
			continue;
		if (!o->diagnostic && rc.diagnostic) {
			free(o->status);
			o->diagnostic = rc.diagnostic;
			o->status = rc.status;
			o->klass = rc.klass;
			rc.diagnostic = rc.status = NULL;
		}
		bounce_recipient_release(&rc);
		return;
	}
	r->recipients = xrealloc(r->recipients,
				 (r->nrecipients + 1) * sizeof(*r->recipients));
	r->recipients[r->nrecipients++] = rc;
}

/* ---- GMime plumbing ---------------------------------------------------- */

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

	return v ? bounce_report_squeeze(v, strlen(v)) : NULL;
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
	GMimeObject *originals[8]; /* headers of returned messages, in order */
	int noriginals;
	GMimeMessage *owned[8];   /* parsed rfc822-headers parts, to unref */
	int nowned;
	struct sbuf text;         /* every text/plain outside the originals */
};

static bool is_type(GMimeObject *o, const char *type, const char *sub)
{
	return g_mime_content_type_is_type(g_mime_object_get_content_type(o),
					   type, sub);
}

static void note_original(struct found *f, GMimeObject *o)
{
	if (o && f->noriginals < (int)(sizeof(f->originals) /
				       sizeof(f->originals[0])))
		f->originals[f->noriginals++] = o;
}

static void note_original_headers(struct found *f, GMimePart *part)
{
	struct sbuf sb = SBUF_INIT;
	GMimeMessage *m;

	if (f->nowned >= (int)(sizeof(f->owned) / sizeof(f->owned[0])))
		return;
	mime_read_part_content(part, &sb);
	m = parse_headers(sb.buf, sb.len);
	if (m) {
		f->owned[f->nowned++] = m;
		note_original(f, GMIME_OBJECT(m));
	}
	sbuf_release(&sb);
}

/* Depth bounds the walk: a report nests a few levels, a hostile message
 * could nest thousands. */
#define WALK_DEPTH 16

/* A text part's content into sb, in UTF-8 when it declares another
 * charset (Notes and the Japanese carriers write ISO-2022-JP, old
 * Exchange ISO-8859-1 or windows-1252, Russian systems KOI8-R), so the
 * phrases the readers look for match whatever the charset; as written
 * otherwise, or when GMime cannot convert it. */
static void read_text_utf8(GMimePart *part, struct sbuf *sb)
{
	const char *charset =
		g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
							 "charset");
	char *text;

	if (!charset || !GMIME_IS_TEXT_PART(part) ||
	    strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0) {
		mime_read_part_content(part, sb);
		return;
	}
	text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	if (!text) {
		mime_read_part_content(part, sb);
		return;
	}
	sbuf_addstr(sb, text);
	g_free(text);
}

static void walk(GMimeObject *o, struct found *f, bool inside, int depth)
{
	if (depth > WALK_DEPTH)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		const char *prologue =
			g_mime_multipart_get_prologue(GMIME_MULTIPART(o));

		/* a multipart whose boundary never comes (old Sendmail wrote
		 * its whole report so): the text is all in the prologue */
		if (n == 0 && prologue && !inside) {
			sbuf_addstr(&f->text, prologue);
			sbuf_addch(&f->text, '\n');
		}
		for (int i = 0; i < n; i++)
			walk(g_mime_multipart_get_part(GMIME_MULTIPART(o), i), f,
			     inside, depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *m =
			g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		GMimeObject *body = m ? g_mime_message_get_mime_part(m) : NULL;

		if (m)
			note_original(f, GMIME_OBJECT(m));
		if (body)
			walk(body, f, true, depth + 1);
	} else if (!GMIME_IS_PART(o)) {
		return;
	} else if (is_type(o, "text", "rfc822-headers") ||
		   is_type(o, "message", "rfc822-headers") ||
		   is_type(o, "message", "global-headers")) {
		note_original_headers(f, GMIME_PART(o));
	} else if (inside) {
		return;
	} else if (is_type(o, "message", "delivery-status") ||
		   is_type(o, "message", "global-delivery-status")) {
		if (!f->status_part)
			f->status_part = GMIME_PART(o);
	} else if (is_type(o, "text", "plain")) {
		read_text_utf8(GMIME_PART(o), &f->text);
		sbuf_addch(&f->text, '\n');
	}
}

/* ---- RFC 3464 ---------------------------------------------------------- */

/* One field group of a delivery-status body, as written (unfolded). */
struct dsn_group {
	struct sbuf final, original, action, status, diag;
	bool has_final, has_original, has_action, has_status, has_diag;
};

/* The action a value names, with the non-standard words MTAs write;
 * -1 for none. "expired" is a failure whose class is expired;
 * "deliverable" (a verification answer) is read as delivered. */
static int dsn_action(const char *v, bool *expired)
{
	static const struct {
		const char *word;
		enum bounce_action action;
	} words[] = {
		{"failed", BOUNCE_FAILED},     {"failure", BOUNCE_FAILED},
		{"fail", BOUNCE_FAILED},       {"bounced", BOUNCE_FAILED},
		{"bounce", BOUNCE_FAILED},     {"permanent", BOUNCE_FAILED},
		{"rejected", BOUNCE_FAILED},   {"undeliverable", BOUNCE_FAILED},
		{"expired", BOUNCE_FAILED},    {"delayed", BOUNCE_DELAYED},
		{"delay", BOUNCE_DELAYED},     {"deferred", BOUNCE_DELAYED},
		{"transient", BOUNCE_DELAYED}, {"queued", BOUNCE_DELAYED},
		{"delivered", BOUNCE_DELIVERED},
		{"deliverable", BOUNCE_DELIVERED},
		{"delivery", BOUNCE_DELIVERED}, {"sent", BOUNCE_DELIVERED},
		{"relayed", BOUNCE_RELAYED},   {"relay", BOUNCE_RELAYED},
		{"expanded", BOUNCE_EXPANDED}, {"expand", BOUNCE_EXPANDED},
	};
	size_t n = 0;

	while (isspace((unsigned char)*v))
		v++;
	while (v[n] && isalpha((unsigned char)v[n]))
		n++;
	for (size_t i = 0; n && i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].word) == n &&
		    strncasecmp(v, words[i].word, n) == 0) {
			*expired = strcmp(words[i].word, "expired") == 0;
			return (int)words[i].action;
		}
	return -1;
}

/* The action of a group whose Action is missing or unknown, from its
 * status class (2 delivered, 4 delayed, else failed). */
static enum bounce_action action_from_status(const char *status)
{
	if (status && status[0] == '2')
		return BOUNCE_DELIVERED;
	if (status && status[0] == '4')
		return BOUNCE_DELAYED;
	return BOUNCE_FAILED;
}

static void dsn_group_reset(struct dsn_group *g)
{
	sbuf_reset(&g->final);
	sbuf_reset(&g->original);
	sbuf_reset(&g->action);
	sbuf_reset(&g->status);
	sbuf_reset(&g->diag);
	g->has_final = g->has_original = g->has_action = false;
	g->has_status = g->has_diag = false;
}

static void dsn_group_release(struct dsn_group *g)
{
	sbuf_release(&g->final);
	sbuf_release(&g->original);
	sbuf_release(&g->action);
	sbuf_release(&g->status);
	sbuf_release(&g->diag);
}

/* Turns a finished group into a recipient; a group with neither action
 * nor recipient (per-message fields, vendor extensions) adds none. */
static void dsn_flush(struct bounce_report *r, struct dsn_group *g)
{
	char *final, *orig;
	bool expired = false;
	int action = -1;
	size_t before = r->nrecipients;

	final = bounce_report_address(g->final.buf, g->final.len, false);
	orig = bounce_report_address(g->original.buf, g->original.len, false);
	/* no recipient fields (per-message fields, vendor groups), or none
	 * that is an address (a pipe, a file, a local name): nothing that
	 * could be matched to a delivery */
	if (!final && !orig) {
		dsn_group_reset(g);
		return;
	}
	if (g->has_action)
		action = dsn_action(g->action.buf, &expired);
	if (!final && orig)
		final = xstrdup(orig);
	bounce_report_add(r, BOUNCE_FAILED, final,
			  g->has_status ? g->status.buf : NULL,
			  g->has_diag ? g->diag.buf : NULL, g->diag.len);
	if (r->nrecipients > before) {
		struct bounce_recipient *rc = &r->recipients[before];

		rc->original_recipient = orig;
		orig = NULL;
		rc->action = action >= 0 ? (enum bounce_action)action
					 : action_from_status(rc->status);
		rc->klass = expired ? BOUNCE_CLASS_EXPIRED
				    : bounce_classify(rc->status, rc->diagnostic,
						      rc->action);
	}
	free(orig);
	dsn_group_reset(g);
}

/* Field names the parser reads, and where their values go. */
enum dsn_field {
	F_NONE, F_ENVID, F_REPORTING_MTA, F_FINAL, F_ORIGINAL, F_ACTION,
	F_STATUS, F_DIAG
};

static enum dsn_field field_of(const char *line, size_t len, size_t *vstart)
{
	static const struct {
		const char *name;
		enum dsn_field f;
	} fields[] = {
		{"original-envelope-id", F_ENVID},
		{"reporting-mta", F_REPORTING_MTA},
		{"final-recipient", F_FINAL},
		{"original-recipient", F_ORIGINAL},
		{"action", F_ACTION},
		{"status", F_STATUS},
		{"diagnostic-code", F_DIAG},
	};
	const char *colon = memchr(line, ':', len);
	size_t n = colon ? (size_t)(colon - line) : 0;

	while (n && line[n - 1] == ' ')
		n--;
	for (size_t i = 0; colon && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == n &&
		    strncasecmp(line, fields[i].name, n) == 0) {
			*vstart = (size_t)(colon - line) + 1;
			return fields[i].f;
		}
	return F_NONE;
}

/* What the per-message fields said. */
struct dsn_message {
	struct sbuf envid, reporting_mta;
};

/* The target of a field's value in g or m, starting a new group when a
 * recipient field repeats without a blank line between the groups. */
static struct sbuf *dsn_target(struct bounce_report *r, struct dsn_group *g,
			       struct dsn_message *m, enum dsn_field f)
{
	switch (f) {
	case F_ENVID:
		return m->envid.len ? NULL : &m->envid;
	case F_REPORTING_MTA:
		return m->reporting_mta.len ? NULL : &m->reporting_mta;
	case F_FINAL:
		if (g->has_final ||
		    (g->has_original && (g->has_action || g->has_status)))
			dsn_flush(r, g);
		g->has_final = true;
		return &g->final;
	case F_ORIGINAL:
		if (g->has_original ||
		    (g->has_final && (g->has_action || g->has_status)))
			dsn_flush(r, g);
		g->has_original = true;
		return &g->original;
	case F_ACTION:
		g->has_action = true;
		return g->action.len ? NULL : &g->action;
	case F_STATUS:
		g->has_status = true;
		return g->status.len ? NULL : &g->status;
	case F_DIAG:
		g->has_diag = true;
		return g->diag.len ? NULL : &g->diag;
	case F_NONE:
		break;
	}
	return NULL;
}

/* Reads the field groups of a delivery-status body (or of the text that
 * holds one); returns the number of recipients it added. Lines that are
 * no field end nothing: a text/plain part may hold other prose. */
static size_t dsn_parse_fields(struct bounce_report *r, const char *text)
{
	struct dsn_group g = {SBUF_INIT, SBUF_INIT, SBUF_INIT, SBUF_INIT,
			      SBUF_INIT};
	struct dsn_message m = {SBUF_INIT, SBUF_INIT};
	struct sbuf *target = NULL;
	size_t before = r->nrecipients;

	for (const char *p = text; p && *p;) {
		size_t len, v = 0;
		const char *line = p;
		enum dsn_field f;

		p = bounce_report_line(line, &len);
		if (bounce_report_blank(line, len)) {
			dsn_flush(r, &g);
			target = NULL;
			continue;
		}
		if ((line[0] == ' ' || line[0] == '\t') && target) {
			sbuf_addch(target, ' ');
			sbuf_add(target, line, len);
			continue;
		}
		f = field_of(line, len, &v);
		target = f == F_NONE ? NULL : dsn_target(r, &g, &m, f);
		if (target)
			sbuf_add(target, line + v, len - v);
	}
	dsn_flush(r, &g);
	if (m.envid.len && !r->envid) {
		char *e = bounce_report_squeeze(m.envid.buf, m.envid.len);

		r->envid = e ? xtext_decode(e) : NULL;
		free(e);
	}
	if (m.reporting_mta.len && strcasestr(m.reporting_mta.buf, "amazonses.com"))
		r->format = BOUNCE_FORMAT_AMAZON_SES;
	sbuf_release(&m.envid);
	sbuf_release(&m.reporting_mta);
	dsn_group_release(&g);
	return r->nrecipients - before;
}

/* Whether a text part holds DSN fields (broken MIME: the MTA put the
 * delivery-status in text/plain): a Final-Recipient line and an Action
 * or Status line, each at the start of a line. */
static bool text_has_dsn_fields(const char *text)
{
	const char *p = text;

	/* the first Final-Recipient at the start of a line decides: what
	 * follows it also follows any later one (one scan, not one each) */
	while ((p = strcasestr(p, "final-recipient:"))) {
		if (p == text || p[-1] == '\n')
			return bounce_report_phrase(p, "action:") ||
			       bounce_report_phrase(p, "status:");
		p++;
	}
	return false;
}

/* ---- identifiers ------------------------------------------------------- */

static void take_original(struct bounce_report *r, GMimeObject *orig)
{
	if (!r->original_message_id)
		r->original_message_id =
			message_id_dup(header_value(orig, "Message-ID"));
	if (!r->delivery_header)
		r->delivery_header = header_dup(orig, "X-Chancery-Delivery");
}

/* The value of a header line that text quotes (indented or not, never
 * after a '>' quote): the rest of the line, or the next one when the
 * value was folded onto it. NULL when text quotes no such header. */
static char *quoted_value(const char *text, const char *name)
{
	const char *hit = bounce_report_phrase(text, name);
	size_t n = strlen(name), len;
	const char *next;

	if (!hit)
		return NULL;
	next = bounce_report_line(hit, &len);
	if (!bounce_report_blank(hit + n, len - n))
		return bounce_report_squeeze(hit + n, len - n);
	if (next && (next[0] == ' ' || next[0] == '\t')) {
		bounce_report_line(next, &len);
		return bounce_report_squeeze(next, len);
	}
	return NULL;
}

static void take_quoted(struct bounce_report *r, const char *text)
{
	if (!r->original_message_id) {
		char *v = quoted_value(text, "Message-ID:");

		r->original_message_id = message_id_dup(v);
		free(v);
	}
	if (!r->delivery_header)
		r->delivery_header = quoted_value(text, "X-Chancery-Delivery:");
}

/* ---- the whole report -------------------------------------------------- */

/* X-Failed-Recipients: a comma-separated list (Exim, Google, others). */
static size_t x_failed_recipients(struct bounce_report *r, GMimeObject *top,
				  enum bounce_action action)
{
	const char *v = header_value(top, "X-Failed-Recipients");
	size_t before = r->nrecipients;

	for (const char *p = v; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *addr = bounce_report_address(p, len, false);

		if (addr)
			bounce_report_add(r, action, addr, NULL, NULL, 0);
		p = comma ? comma + 1 : NULL;
	}
	return r->nrecipients - before;
}

/* A reply, forward or auto-reply is never read as a text bounce, even
 * when it quotes one. */
static bool is_reply_subject(const char *subject)
{
	static const char *const prefixes[] = {
		"re:", "aw:", "sv:", "fw:", "fwd:", "wg:", "tr:",
		"automatic reply:", "auto:", "autoreply:", "out of office",
	};

	while (subject && *subject == ' ')
		subject++;
	for (size_t i = 0; subject && i < sizeof(prefixes) / sizeof(prefixes[0]);
	     i++)
		if (strncasecmp(subject, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* A text bounce that named no recipient still identifies the delivery
 * when the original message came back: one message, one recipient. */
static int ensure_recipient(struct bounce_report *r, enum bounce_action action,
			    struct error *err)
{
	if (r->nrecipients)
		return 0;
	if (!r->original_message_id && !r->delivery_header)
		return error_set(err, ERR_DATA,
				 "%s bounce names neither a recipient nor the "
				 "original Message-ID",
				 bounce_format_name(r->format));
	bounce_report_add(r, action, NULL, NULL, NULL, 0);
	return 0;
}

/* Refuses a multipart/report of another type (an ARF complaint, an MDN). */
static int check_report_type(GMimeMessage *msg, struct error *err)
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
	return 0;
}

static bool header_has(GMimeObject *o, const char *name, const char *what)
{
	const char *v = header_value(o, name);

	return v && strcasestr(v, what);
}

/* The recipients: the delivery-status part, else DSN fields in the text,
 * else a text format, else X-Failed-Recipients. */
/* Whether hay[0..len) holds needle[0..n), case-insensitive. */
static bool memmem_ci(const char *hay, size_t len, const char *needle,
		      size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

/* The rest of the line of text that starts with addr (bare or in <>)
 * and a ':' ("<addr>: 550 user unknown"), as the notice beside a DSN
 * writes it; NULL when no line does. */
static char *text_reason(const char *text, const char *addr)
{
	size_t alen = strlen(addr);

	for (const char *p = text; p && *p;) {
		size_t len, i = 0;
		const char *line = p;
		bool angle;

		p = bounce_report_line(line, &len);
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		angle = i < len && line[i] == '<';
		i += angle;
		if (len - i <= alen + 1 || strncasecmp(line + i, addr, alen) != 0)
			continue;
		i += alen;
		if (angle && line[i++] != '>')
			continue;
		if (i >= len || line[i] != ':')
			continue;
		i++;
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i < len)
			return bounce_report_squeeze(line + i, len - i);
	}
	return NULL;
}

/* A DSN recipient without a Diagnostic-Code takes the reason the notice
 * beside it gives on its own line (au EZweb, others); the status and
 * class are read again with it. */
/* The class the notice's own sentence about addr gives ("Your message
 * wasn't delivered to addr because the address couldn't be found"), read
 * with the recipient's status; unknown when no line names addr. */
static enum bounce_class text_class(const char *text,
				    const struct bounce_recipient *rc)
{
	size_t alen = strlen(rc->final_recipient);

	for (const char *p = text; p && *p;) {
		size_t len;
		const char *line = p;
		char *copy;
		enum bounce_class c;

		p = bounce_report_line(line, &len);
		if (len < alen || !memmem_ci(line, len, rc->final_recipient,
					     alen))
			continue;
		copy = bounce_report_squeeze(line, len);
		c = bounce_classify(rc->status, copy, rc->action);
		free(copy);
		return c;
	}
	return BOUNCE_CLASS_UNKNOWN;
}

static void dsn_text_reasons(struct bounce_report *r, const char *text)
{
	for (size_t i = 0; text && i < r->nrecipients; i++) {
		struct bounce_recipient *rc = &r->recipients[i];
		char *st;

		if (rc->final_recipient && rc->diagnostic &&
		    rc->klass == BOUNCE_CLASS_UNKNOWN)
			rc->klass = text_class(text, rc);
		if (rc->diagnostic || !rc->final_recipient)
			continue;
		rc->diagnostic = text_reason(text, rc->final_recipient);
		if (!rc->diagnostic)
			continue;
		st = normal_status(rc->status, rc->diagnostic);
		free(rc->status);
		rc->status = st;
		rc->klass = bounce_classify(rc->status, rc->diagnostic,
					    rc->action);
	}
}

static int read_recipients(struct bounce_report *r, GMimeMessage *msg,
			   struct found *f, enum bounce_action *action,
			   struct error *err)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	const char *subject = g_mime_message_get_subject(msg);
	bool report = top && is_type(top, "multipart", "report");
	bool text_dsn = !f->status_part && !is_reply_subject(subject) &&
			text_has_dsn_fields(f->text.buf);
	struct sbuf body = SBUF_INIT;

	*action = BOUNCE_FAILED;
	if (f->status_part || text_dsn) {
		r->format = BOUNCE_FORMAT_DSN;
		if (f->status_part)
			mime_read_part_content(f->status_part, &body);
		dsn_parse_fields(r, f->status_part ? body.buf : f->text.buf);
		sbuf_release(&body);
		if (f->status_part)
			dsn_text_reasons(r, f->text.buf);
		if (header_has(o, "X-Mailer", "Amazon WorkMail") ||
		    header_has(o, "X-Original-Mailer", "Amazon WorkMail"))
			r->format = BOUNCE_FORMAT_AMAZON_WORKMAIL;
		else if (header_value(o, "X-SES-Outgoing"))
			r->format = BOUNCE_FORMAT_AMAZON_SES;
		if (!r->nrecipients)
			x_failed_recipients(r, o, BOUNCE_FAILED);
		if (!r->nrecipients)
			return error_set(err, ERR_DATA,
					 "delivery-status part names no "
					 "recipient (no Final-Recipient/Action "
					 "group)");
		return 0;
	}
	if (is_reply_subject(subject))
		return error_set(err, ERR_DATA,
				 "not a delivery report: a reply or "
				 "auto-reply (Subject: %.80s)",
				 subject);
	if (bounce_text_parse(r, msg, f->text.buf, action) == 0) {
		if (!r->nrecipients)
			x_failed_recipients(r, o, *action);
		return 0;
	}
	if (x_failed_recipients(r, o, BOUNCE_FAILED)) {
		r->format = BOUNCE_FORMAT_X_FAILED_RECIPIENTS;
		return 0;
	}
	if (report)
		return error_set(err, ERR_DATA,
				 "multipart/report without a "
				 "message/delivery-status part");
	return error_set(err, ERR_DATA,
			 "not a delivery report: no message/delivery-status "
			 "part and no bounce text chancery knows (Subject: "
			 "%.80s)",
			 subject ? subject : "(none)");
}

static int parse_body(struct bounce_report *r, GMimeMessage *msg,
		      struct error *err)
{
	struct found f = {.text = SBUF_INIT};
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	enum bounce_action action;
	int rc;

	if (top)
		walk(top, &f, false, 0);
	if (!f.text.buf)
		sbuf_addstr(&f.text, "");
	rc = check_report_type(msg, err);
	if (!rc)
		rc = read_recipients(r, msg, &f, &action, err);
	for (int i = 0; !rc && i < f.noriginals; i++)
		take_original(r, f.originals[i]);
	if (!rc)
		take_quoted(r, f.text.buf);
	if (!rc)
		rc = ensure_recipient(r, action, err);
	for (int i = 0; i < f.nowned; i++)
		g_object_unref(f.owned[i]);
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
	if (len == 0 || bounce_report_blank(data, len))
		return error_set(err, ERR_DATA, "empty input: no message to read");
	if (len > BOUNCE_MAX_SIZE)
		return error_set(err, ERR_DATA,
				 "report of %zu bytes is larger than the limit "
				 "of %u", len, BOUNCE_MAX_SIZE);
	if (memchr(data, '\0', len))
		return error_set(err, ERR_DATA,
				 "not a mail message: it holds NUL bytes");
	mime_init();
	msg = mime_read_message(data, len);
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
