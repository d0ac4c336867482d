/*
 * inbox: every message that comes back is kept, then read as a report, a
 * response or nothing chancery understands (see inbox.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <stddef.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "chancery/bounce_report.h"
#include "chancery/clock.h"
#include "chancery/inbox.h"
#include "chancery/ledger.h"
#include "chancery/mime.h"
#include "chancery/response.h"
#include "chancery/sbuf.h"
#include "chancery/sha256.h"
#include "chancery/xalloc.h"

enum {
	ST_SEEN,
	ST_INSERT,
	ST_MATCHED,
	ST_BY_ENVID,
	ST_LIST,
	ST__COUNT
};

static const char *const inbox_sql[ST__COUNT] = {
	[ST_SEEN] = "SELECT id, kind, format, delivery_id, coalesce(reason, "
		    "'') FROM inbound_messages WHERE sha256 = ?1",
	[ST_INSERT] = "INSERT INTO inbound_messages (sha256, message_id, "
		      "source, origin, envelope_to, kind, format, sender, "
		      "subject, reason, received_at, raw) VALUES (?1, ?2, ?3, "
		      "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_MATCHED] = "UPDATE inbound_messages SET delivery_id = ?2, "
		       "reason = ?3 WHERE id = ?1",
	/* The delivery a tokened ENVID names, for a response's refs. */
	[ST_BY_ENVID] = "SELECT id, message_id FROM deliveries WHERE envid = "
			"?1 ORDER BY id DESC LIMIT 1",
	[ST_LIST] = "SELECT id, received_at, source, origin, envelope_to, "
		    "kind, format, sender, subject, delivery_id, reason "
		    "FROM inbound_messages WHERE ?1 IS NULL OR kind = ?1 "
		    "ORDER BY id",
};

static const struct db_statements inbox_statements = {"inbox", inbox_sql,
						      ST__COUNT};

static const char *const source_names[] = {"stdin", "maildir", "imap"};

const char *inbox_source_name(enum inbox_source s)
{
	return (unsigned)s < 3 ? source_names[s] : "stdin";
}

/* ---- the message's own headers ------------------------------------------ */

/* What is read from the top-level header block, all owned. */
struct heads {
	char *message_id, *sender, *subject;
	char *envelope[8];  /* Delivered-To, X-Original-To, Envelope-To,
			       then To: addresses, in that order */
	size_t nenvelope;
	size_t ndelivered;  /* of them from the delivery headers (not To:) */
};

static void heads_release(struct heads *h)
{
	free(h->message_id);
	free(h->sender);
	free(h->subject);
	for (size_t i = 0; i < h->nenvelope; i++)
		free(h->envelope[i]);
	memset(h, 0, sizeof(*h));
}

/* The address in a header value: inside the last <...>, else the value
 * trimmed; NULL when empty. Caller frees. */
static char *value_address(const char *v)
{
	const char *lt = strrchr(v, '<'), *gt;
	size_t a = 0, b;

	if (lt && (gt = strchr(lt, '>')))
		return gt > lt + 1 ? xstrndup(lt + 1, (size_t)(gt - lt - 1))
				   : NULL;
	b = strlen(v);
	while (a < b && isspace((unsigned char)v[a]))
		a++;
	while (b > a && (isspace((unsigned char)v[b - 1]) || v[b - 1] == ','))
		b--;
	if (b == a || memchr(v + a, ' ', b - a))
		return NULL;
	return xstrndup(v + a, b - a);
}

/* The name's rank among the envelope headers, or -1. */
static int envelope_rank(const char *name, size_t n)
{
	static const char *const names[] = {"Delivered-To", "X-Original-To",
					    "Envelope-To", "To"};

	for (int i = 0; i < 4; i++)
		if (strlen(names[i]) == n && strncasecmp(name, names[i], n) == 0)
			return i;
	return -1;
}

/* Stores one unfolded header. ranked[] collects envelope addresses per
 * rank so that they come out in the order of trust. */
static void heads_take(struct heads *h, const char *name, size_t n,
		       const char *value, char *ranked[4][4],
		       size_t nranked[4])
{
	int rank = envelope_rank(name, n);

	if (n == 10 && strncasecmp(name, "Message-ID", n) == 0 &&
	    !h->message_id)
		h->message_id = value_address(value);
	else if (n == 4 && strncasecmp(name, "From", n) == 0 && !h->sender)
		h->sender = value_address(value);
	else if (n == 7 && strncasecmp(name, "Subject", n) == 0 &&
		 !h->subject) {
		/* at most INBOX_FIELD_MAX decoded (see longest_field) */
		char *cut = xstrndup(value, INBOX_FIELD_MAX);
		char *d = g_mime_utils_header_decode_text(NULL, cut);

		h->subject = xstrdup(d ? d : cut);
		g_free(d);
		free(cut);
	} else if (rank >= 0 && nranked[rank] < 4) {
		char *a = value_address(value);

		if (a)
			ranked[rank][nranked[rank]++] = a;
	}
}

/* Reads the header block of raw (up to the first empty line). */
static void heads_read(const char *raw, size_t len, struct heads *h)
{
	char *ranked[4][4];
	size_t nranked[4] = {0}, i = 0;
	struct sbuf value = SBUF_INIT;

	memset(h, 0, sizeof(*h));
	while (i < len && raw[i] != '\n' && !(raw[i] == '\r' && i + 1 < len &&
					      raw[i + 1] == '\n')) {
		const char *line = raw + i, *colon;
		size_t name_len;

		/* a field: name, colon, value with its continuation lines */
		colon = memchr(line, ':', len - i);
		if (!colon || memchr(line, '\n', (size_t)(colon - line)))
			break;
		name_len = (size_t)(colon - line);
		i = (size_t)(colon - raw) + 1;
		while (i < len && (raw[i] == ' ' || raw[i] == '\t'))
			i++;
		sbuf_reset(&value);
		for (;;) {
			const char *nl = memchr(raw + i, '\n', len - i);
			size_t end = nl ? (size_t)(nl - raw) : len;
			size_t stop = end > i && raw[end - 1] == '\r' ? end - 1
								      : end;

			sbuf_add(&value, raw + i, stop - i);
			i = nl ? end + 1 : len;
			if (i >= len || (raw[i] != ' ' && raw[i] != '\t'))
				break;
		}
		heads_take(h, line, name_len, value.buf, ranked, nranked);
	}
	for (int r = 0; r < 4; r++)
		for (size_t k = 0; k < nranked[r]; k++) {
			if (h->nenvelope < 8) {
				h->envelope[h->nenvelope++] = ranked[r][k];
				h->ndelivered += r < 3;
			} else {
				free(ranked[r][k]);
			}
		}
	sbuf_release(&value);
}

/* ---- chancery's identifiers anywhere in the text ------------------------ */

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* The length of a tokened ENVID at p ("chancery-<id>-<16 hex>", not part
 * of a longer word), or 0. */
static size_t envid_at(const char *p, const char *end)
{
	const char *q = p + 9;
	size_t hex = 0;

	if (end - p < 9 + 1 + 1 + 16 || memcmp(p, "chancery-", 9) != 0)
		return 0;
	if (*q < '1' || *q > '9')
		return 0;
	while (q < end && isdigit((unsigned char)*q))
		q++;
	if (q >= end || *q++ != '-')
		return 0;
	while (q + hex < end && is_hex(q[hex]))
		hex++;
	if (hex != 16 || (q + hex < end && isalnum((unsigned char)q[hex])))
		return 0;
	return (size_t)(q + hex - p);
}

/* The first tokened ENVID in raw (caller frees), or NULL. */
static char *find_envid(const char *raw, size_t len)
{
	const char *end = raw + len, *p = raw;

	while ((p = memmem(p, (size_t)(end - p), "chancery-", 9))) {
		size_t n = envid_at(p, end);

		if (n)
			return xstrndup(p, n);
		p += 9;
	}
	return NULL;
}

/* Whether s[0..n) is a Message-ID of chancery's form:
 * [chancery.]<campaign>.<delivery>.<16 hex>@domain. */
static bool chancery_mid(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	size_t hex = 0;

	if (n > 9 && memcmp(p, "chancery.", 9) == 0)
		p += 9;
	for (int part = 0; part < 2; part++) {
		const char *d = p;

		while (p < end && isdigit((unsigned char)*p))
			p++;
		if (p == d || p >= end || *p++ != '.')
			return false;
	}
	while (p + hex < end && is_hex(p[hex]))
		hex++;
	return hex == 16 && p + hex < end && p[hex] == '@' && p + hex + 1 < end;
}

/* A character of a Message-ID of chancery's form (digits, hex, dots,
 * the domain's). */
static bool mid_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '@' ||
	       c == '_';
}

/* The first <Message-ID> of chancery's form in raw (without <>, caller
 * frees), or NULL. Each candidate is walked only over the characters such
 * an id may hold, so no byte is looked at twice. */
static char *find_message_id(const char *raw, size_t len)
{
	const char *end = raw + len, *p = raw;

	while ((p = memchr(p, '<', (size_t)(end - p)))) {
		const char *q = ++p;

		while (q < end && q - p < 256 && mid_char(*q))
			q++;
		if (q < end && *q == '>' && chancery_mid(p, (size_t)(q - p)))
			return xstrndup(p, (size_t)(q - p));
		p = q;
	}
	return NULL;
}

/* What identifies the message as chancery's, all owned. */
struct ids {
	char *envelope_to; /* what is stored as the envelope recipient */
	char *verp_envid;
	char *text_envid;
	char *text_message_id;
};

static void ids_release(struct ids *d)
{
	free(d->envelope_to);
	free(d->verp_envid);
	free(d->text_envid);
	free(d->text_message_id);
}

/* The source's envelope recipient first, then the headers' (heads_read's
 * order): the first that is a VERP address names the delivery. */
static void identify(const struct conf *cfg, const struct inbox_message *m,
		     const struct heads *h, struct ids *d)
{
	const char *base = cfg->bounce.address;

	memset(d, 0, sizeof(*d));
	if (m->envelope_to && *m->envelope_to) {
		d->envelope_to = xstrdup(m->envelope_to);
		d->verp_envid = bounce_verp_envid(base, m->envelope_to);
	}
	for (size_t i = 0; i < h->nenvelope && !d->verp_envid; i++) {
		d->verp_envid = bounce_verp_envid(base, h->envelope[i]);
		if (d->verp_envid) {
			free(d->envelope_to);
			d->envelope_to = xstrdup(h->envelope[i]);
		}
	}
	/* Otherwise the address it came to, when a delivery header says
	 * it (To: is only what the writer said). */
	if (!d->envelope_to && h->ndelivered)
		d->envelope_to = xstrdup(h->envelope[0]);
	d->text_envid = find_envid(m->raw, m->len);
	d->text_message_id = find_message_id(m->raw, m->len);
}

/* ---- storing -------------------------------------------------------------- */

const char *inbox_kind(const char *name)
{
	static const char *const kinds[] = {"report", "mdn", "auto_reply",
					    "reply", "complaint", "unreadable"};

	for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(name, kinds[i]) == 0)
			return kinds[i];
	return NULL;
}

/* The earlier row of the same bytes into res; 1 when there is one. */
static int seen(struct db *db, const char *sha, struct inbox_result *res,
		struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &inbox_statements, ST_SEEN, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, sha);
	rc = db_step(db, st, err);
	if (rc != 1)
		return rc;
	res->inbound_id = sqlite3_column_int64(st, 0);
	res->kind = inbox_kind(db_column_text(st, 1));
	if (!res->kind)
		res->kind = "unreadable";
	snprintf(res->format, sizeof(res->format), "%s", db_column_text(st, 2));
	res->delivery_id = sqlite3_column_int64(st, 3);
	snprintf(res->reason, sizeof(res->reason), "%s", db_column_text(st, 4));
	sqlite3_reset(st);
	return 1;
}

static int insert(struct db *db, const struct inbox_message *m,
		  const char *sha, const struct heads *h, const struct ids *d,
		  struct inbox_result *res, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &inbox_statements, ST_INSERT, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, sha);
	db_bind_text(st, 2, h->message_id);
	db_bind_text(st, 3, inbox_source_name(m->source));
	db_bind_text(st, 4, m->origin);
	db_bind_text(st, 5, d->envelope_to);
	db_bind_text(st, 6, res->kind);
	db_bind_text(st, 7, res->format[0] ? res->format : NULL);
	db_bind_text(st, 8, h->sender);
	db_bind_text(st, 9, h->subject);
	db_bind_text(st, 10, res->reason[0] ? res->reason : NULL);
	sqlite3_bind_int64(st, 11, clock_now());
	sqlite3_bind_blob64(st, 12, m->raw, m->len, SQLITE_STATIC);
	rc = db_step_done(db, st, err);
	res->inbound_id = db_last_id(db);
	return rc;
}

static int set_matched(struct db *db, const struct inbox_result *res,
		       struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &inbox_statements, ST_MATCHED, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, res->inbound_id);
	db_bind_id(st, 2, res->delivery_id);
	db_bind_text(st, 3, res->reason[0] ? res->reason : NULL);
	return db_step_done(db, st, err);
}

/* The inbound.quarantined event of an unreadable message. */
static int quarantined(struct db *db, const struct inbox_message *m,
		       const char *sha, const struct ids *d,
		       const struct inbox_result *res, struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, LEDGER_INBOUND_QUARANTINED, 0, 0, 0, 0);
	ledger_entry_int(&e, "inbound", res->inbound_id);
	ledger_entry_str(&e, "sha256", sha);
	ledger_entry_str(&e, "source", inbox_source_name(m->source));
	if (m->origin)
		ledger_entry_str(&e, "origin", m->origin);
	if (d->envelope_to)
		ledger_entry_str(&e, "envelope_to", d->envelope_to);
	ledger_entry_str(&e, "reason", res->reason);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

/* ---- reading ---------------------------------------------------------------- */

/* The Message-ID of the delivery a tokened ENVID names, added to r's
 * refs first (a VERP envelope or a token is surer than any header the
 * responder wrote). */
static int add_ref(struct db *db, const char *envid, struct response *r,
		   struct error *err)
{
	sqlite3_stmt *st;
	char *mid;
	int rc;

	if (!envid)
		return 0;
	rc = db_prepare(db, &inbox_statements, ST_BY_ENVID, &st, err);
	if (rc)
		return rc;
	db_bind_text(st, 1, envid);
	rc = db_step(db, st, err);
	if (rc != 1)
		return rc;
	mid = db_column_strdup(st, 1);
	sqlite3_reset(st);
	if (!mid)
		return 0;
	for (size_t i = 0; i < r->nrefs; i++)
		if (strcmp(r->refs[i], mid) == 0) {
			free(mid);
			return 0;
		}
	r->refs = xrealloc(r->refs, (r->nrefs + 1) * sizeof(*r->refs));
	memmove(r->refs + 1, r->refs, r->nrefs * sizeof(*r->refs));
	r->refs[0] = mid;
	r->nrefs++;
	return 0;
}

/* A report: kept, then applied (bounce.h). */
static int take_report(struct db *db, const struct conf *cfg,
		       const struct inbox_message *m, const char *sha,
		       const struct heads *h, const struct ids *d,
		       const struct bounce_report *r, struct inbox_result *res,
		       bounce_note_fn note, void *arg, struct error *err)
{
	struct bounce_params p;
	int rc;

	res->kind = "report";
	snprintf(res->format, sizeof(res->format), "%s",
		 bounce_format_name(r->format));
	rc = insert(db, m, sha, h, d, res, err);
	if (rc)
		return rc;
	bounce_params_init(&p, cfg);
	p.inbound_id = res->inbound_id;
	p.verp_envid = d->verp_envid;
	p.text_envid = d->text_envid;
	p.text_message_id = d->text_message_id;
	rc = bounce_process(db, r, &p, &res->bounce, note, arg, err);
	if (rc)
		return rc;
	res->delivery_id = res->bounce.delivery_id;
	if (res->bounce.duplicate)
		snprintf(res->reason, sizeof(res->reason), "the same report "
			 "as #%lld (its Message-ID): nothing changed",
			 (long long)res->bounce.report_id);
	else if (!res->delivery_id)
		snprintf(res->reason, sizeof(res->reason), "no trusted "
			 "identifier of a delivery: quarantined");
	if (res->delivery_id || res->reason[0])
		rc = set_matched(db, res, err);
	return rc;
}

/* Not a report: a response, or unreadable with why_not_report (without
 * reading it when not readable). */
static int take_other(struct db *db, const struct inbox_message *m,
		      const char *sha, const struct heads *h,
		      const struct ids *d, bool readable,
		      const char *why_not_report, struct inbox_result *res,
		      struct error *err)
{
	struct response r = {0};
	struct error perr = ERROR_INIT;
	int rc = !readable ? -1 : response_parse(m->raw, m->len, &r, &perr);
	const char *kind = rc ? NULL : response_kind_name(r.kind);

	if (!kind) {
		res->kind = "unreadable";
		/* Bounded so that the reason always fits whole lines of
		 * both parts (gcc's -Wformat-truncation at -O0). */
		snprintf(res->reason, sizeof(res->reason), "%.200s%s%.300s",
			 why_not_report, rc && perr.msg[0] ? "; " : "",
			 rc ? perr.msg : "");
		response_release(&r);
		rc = insert(db, m, sha, h, d, res, err);
		if (!rc)
			rc = quarantined(db, m, sha, d, res, err);
		return rc;
	}
	res->kind = kind;
	rc = insert(db, m, sha, h, d, res, err);
	if (!rc)
		rc = add_ref(db, d->text_envid, &r, err);
	if (!rc)
		rc = add_ref(db, d->verp_envid, &r, err);
	if (!rc)
		rc = response_apply(db, res->inbound_id, &r, &res->delivery_id,
				    err);
	if (!rc && !res->delivery_id)
		snprintf(res->reason, sizeof(res->reason),
			 "names no delivery of chancery's");
	if (!rc)
		rc = set_matched(db, res, err);
	response_release(&r);
	return rc;
}

/*
 * The length of the longest header field anywhere in raw (in the
 * message's header and in those of its parts): a line that starts with
 * a field name and a colon, with the lines that continue it (starting
 * with a space or a tab). GMime splits a field into words and decodes
 * each in small allocations: a 10 MB Subject of short words costs it
 * 700 MB and seconds, a To: of a million addresses more, so such a
 * message is kept without being read.
 */
static size_t longest_field(const char *raw, size_t len)
{
	size_t longest = 0, cur = 0, i = 0;
	bool in_field = false;

	while (i < len) {
		const char *nl = memchr(raw + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (raw + i)) + 1 : len - i;
		const char *line = raw + i;

		if (in_field && (line[0] == ' ' || line[0] == '\t')) {
			cur += n;
		} else {
			size_t k = 0;

			while (k < n && line[k] > ' ' && line[k] < 0x7f &&
			       line[k] != ':')
				k++;
			in_field = k > 0 && k < n && line[k] == ':';
			cur = in_field ? n : 0;
		}
		if (cur > longest)
			longest = cur;
		i += n;
	}
	return longest;
}

/*
 * How many lines of raw could be MIME boundaries ("--" then something
 * other than white space; a "-- " signature line is not one). GMime
 * builds an object per part: 2.4 million empty parts in 16 MiB cost it
 * 3.2 GB and a minute, so past INBOX_PARTS_MAX a message is kept
 * without being read.
 */
static size_t count_boundaries(const char *raw, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i + 2 < len;) {
		const char *nl;

		if (raw[i] == '-' && raw[i + 1] == '-' &&
		    !isspace((unsigned char)raw[i + 2]))
			n++;
		nl = memchr(raw + i, '\n', len - i);
		if (!nl)
			break;
		i = (size_t)(nl - raw) + 1;
	}
	return n;
}

static int take(struct db *db, const struct conf *cfg,
		const struct inbox_message *m, const char *sha,
		struct inbox_result *res, bounce_note_fn note, void *arg,
		struct error *err)
{
	struct bounce_report *r = NULL;
	struct error perr = ERROR_INIT;
	struct heads h;
	struct ids d;
	size_t field, parts;
	bool readable;
	int rc = 0;

	mime_init();
	heads_read(m->raw, m->len, &h);
	identify(cfg, m, &h, &d);
	if (m->len > INBOX_READ_MAX)
		error_set(&perr, ERR_DATA, "larger than %u bytes: kept, not "
			  "read", (unsigned)INBOX_READ_MAX);
	else if ((field = longest_field(m->raw, m->len)) > INBOX_FIELD_MAX)
		error_set(&perr, ERR_DATA, "a header field of %zu bytes (the "
			  "limit is %u): kept, not read", field,
			  (unsigned)INBOX_FIELD_MAX);
	else if ((parts = count_boundaries(m->raw, m->len)) > INBOX_PARTS_MAX)
		error_set(&perr, ERR_DATA, "%zu MIME boundary lines (the limit "
			  "is %u): kept, not read", parts,
			  (unsigned)INBOX_PARTS_MAX);
	readable = !perr.code;
	if (readable && !bounce_report_parse(m->raw, m->len, &r, &perr))
		rc = take_report(db, cfg, m, sha, &h, &d, r, res, note, arg,
				 err);
	if (!r)
		rc = take_other(db, m, sha, &h, &d, readable, perr.msg, res,
				err);
	bounce_report_free(r);
	ids_release(&d);
	heads_release(&h);
	return rc;
}

int inbox_take(struct db *db, const struct conf *cfg,
	       const struct inbox_message *m, struct inbox_result *res,
	       bounce_note_fn note, void *arg, struct error *err)
{
	char sha[SHA256_HEX_SIZE];
	int rc;

	memset(res, 0, sizeof(*res));
	sha256_hex(m->raw, m->len, sha);
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = seen(db, sha, res, err);
	if (rc == 1) {
		res->duplicate = true;
		rc = 0;
	} else if (!rc) {
		rc = take(db, cfg, m, sha, res, note, arg, err);
	}
	if (rc) {
		db_rollback(db);
		memset(res, 0, sizeof(*res));
		return rc;
	}
	rc = db_commit(db, err);
	if (rc)
		memset(res, 0, sizeof(*res));
	return rc;
}

/* ---- counts ------------------------------------------------------------- */

void inbox_counts_add(struct inbox_counts *c, const struct inbox_result *res)
{
	static const struct {
		const char *kind;
		size_t off;
	} kinds[] = {
		{"report", offsetof(struct inbox_counts, report)},
		{"mdn", offsetof(struct inbox_counts, mdn)},
		{"auto_reply", offsetof(struct inbox_counts, auto_reply)},
		{"reply", offsetof(struct inbox_counts, reply)},
		{"complaint", offsetof(struct inbox_counts, complaint)},
		{"unreadable", offsetof(struct inbox_counts, unreadable)},
	};

	for (size_t i = 0; res->kind && i < sizeof(kinds) / sizeof(kinds[0]);
	     i++)
		if (strcmp(res->kind, kinds[i].kind) == 0)
			(*(size_t *)((char *)c + kinds[i].off))++;
	if (res->duplicate)
		c->duplicate++;
}

void inbox_counts_format(const struct inbox_counts *c, struct sbuf *out)
{
	sbuf_addf(out, "report=%zu mdn=%zu auto_reply=%zu reply=%zu "
		  "complaint=%zu unreadable=%zu duplicate=%zu", c->report,
		  c->mdn, c->auto_reply, c->reply, c->complaint, c->unreadable,
		  c->duplicate);
}

static void counts_sum(struct inbox_counts *to, const struct inbox_counts *c)
{
	to->report += c->report;
	to->mdn += c->mdn;
	to->auto_reply += c->auto_reply;
	to->reply += c->reply;
	to->complaint += c->complaint;
	to->unreadable += c->unreadable;
	to->duplicate += c->duplicate;
}

/* ---- a Maildir ---------------------------------------------------------- */

/* Messages kept in one transaction of a Maildir run (group commit: one
 * disk sync for many messages, as the queue does), and the longest a
 * batch stays open. */
#define MAILDIR_BATCH 200
#define MAILDIR_BATCH_MS 1000

static void failed(const struct inbox_maildir *p, struct inbox_maildir_stats *st,
		   const struct error *why)
{
	st->failed++;
	if (p->failed)
		p->failed(why, p->arg);
}

/* new/NAME → cur/NAME:2,S once the message is in the database. */
static int move_to_cur(const char *dir, const char *name, struct error *err)
{
	char *from = xasprintf("%s/new/%s", dir, name);
	char *to = xasprintf("%s/cur/%s%s", dir, name,
			     strstr(name, ":2,") ? "" : ":2,S");
	int rc = 0;

	if (rename(from, to) != 0)
		rc = error_set_errno(err, ERR_IO, "cannot move %s to %s", from,
				     to);
	free(from);
	free(to);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in DIR/new, sorted (Maildir names start with the time). */
static int list_new(const char *dir, char ***names, size_t *n,
		    struct error *err)
{
	char *path = xasprintf("%s/new", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	size_t alloc = 0;
	struct stat st;
	int rc = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		rc = error_set_errno(err, ERR_NOINPUT,
				     "%s: not a Maildir (no new/)", dir);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		xgrow(names, sizeof(**names), *n + 1, &alloc);
		(*names)[(*n)++] = xstrdup(e->d_name);
	}
	if (d)
		closedir(d);
	free(path);
	path = xasprintf("%s/cur", dir);
	if (!rc && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
		rc = error_set(err, ERR_NOINPUT, "%s: not a Maildir (no cur/)",
			       dir);
	free(path);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return rc;
}

/* A Maildir run's open batch: the messages kept in the open transaction,
 * moved to cur/ only once it is committed. */
struct batch {
	char **names;     /* borrowed from the listing */
	size_t n, alloc;
	struct inbox_counts counts;
	int64_t opened_ms;
	bool open;
};

/* Commits the batch, then moves its messages. */
static int batch_commit(struct db *db, const struct inbox_maildir *p,
			struct batch *b, struct inbox_maildir_stats *st,
			struct error *err)
{
	int rc = b->open ? db_commit(db, err) : 0;

	b->open = false;
	if (p->batch_done && b->n)
		p->batch_done(rc == 0, p->arg);
	if (!rc)
		counts_sum(&st->counts, &b->counts);
	for (size_t i = 0; !rc && i < b->n; i++) {
		struct error merr = ERROR_INIT;

		if (move_to_cur(p->dir, b->names[i], &merr))
			failed(p, st, &merr);
		else
			st->moved++;
	}
	b->n = 0;
	memset(&b->counts, 0, sizeof(b->counts));
	return rc;
}

static void gather_note(const char *line, void *arg)
{
	struct sbuf *notes = arg;

	sbuf_addstr(notes, notes->len ? "; " : "");
	sbuf_addstr(notes, line);
}

/* Keeps one message in the open batch: ERR_NOINPUT when its file cannot
 * be read, another error when the database fails. */
static int maildir_take(struct db *db, const struct conf *cfg,
			const struct inbox_maildir *p, const char *name,
			struct batch *b, struct error *err)
{
	char *path = xasprintf("%s/new/%s", p->dir, name);
	struct sbuf in = SBUF_INIT, notes = SBUF_INIT;
	struct inbox_result res;
	int rc = sbuf_read_file(&in, path, INBOX_MAX_SIZE, err);
	struct inbox_message m = {INBOX_MAILDIR, name, p->envelope_to, in.buf,
				  in.len};

	if (rc) {
		rc = ERR_NOINPUT;
	} else {
		sbuf_addstr(&notes, "");
		rc = inbox_take(db, cfg, &m, &res, gather_note, &notes, err);
		if (rc)
			error_prefix(err, "%s", path);
	}
	if (!rc) {
		inbox_counts_add(&b->counts, &res);
		if (p->taken)
			p->taken(name, path, &res, notes.buf, p->arg);
	}
	sbuf_release(&in);
	sbuf_release(&notes);
	free(path);
	return rc;
}

int inbox_read_maildir(struct db *db, const struct conf *cfg,
		       const struct inbox_maildir *p,
		       struct inbox_maildir_stats *st, struct error *err)
{
	struct batch b = {0};
	char **names = NULL;
	size_t n = 0;
	int rc = list_new(p->dir, &names, &n, err);
	bool bulk = false;

	memset(st, 0, sizeof(*st));
	st->listed = n;
	if (p->max_messages && n > p->max_messages)
		n = p->max_messages;
	/* the savepoint of each message kept in memory, a larger cache */
	if (!rc && n && !(rc = db_bulk_begin(db, err)))
		bulk = true;
	for (size_t i = 0; !rc && i < n; i++) {
		if (p->interrupted && p->interrupted(p->arg))
			break;
		if (!b.open) {
			if ((rc = db_begin(db, err)))
				break;
			b.open = true;
			b.opened_ms = clock_mono_ms();
		}
		rc = maildir_take(db, cfg, p, names[i], &b, err);
		if (rc == ERR_NOINPUT) {
			err->code = ERR_NOINPUT;
			failed(p, st, err);
			error_clear(err);
			rc = 0;
			continue;
		}
		if (rc) {
			db_rollback(db);
			b.open = false;
			if (p->batch_done && b.n)
				p->batch_done(false, p->arg);
			break;
		}
		xgrow(&b.names, sizeof(*b.names), b.n + 1, &b.alloc);
		b.names[b.n++] = names[i];
		if (b.n >= MAILDIR_BATCH ||
		    clock_mono_ms() - b.opened_ms >= MAILDIR_BATCH_MS)
			rc = batch_commit(db, p, &b, st, err);
	}
	if (!rc)
		rc = batch_commit(db, p, &b, st, err);
	if (bulk)
		db_bulk_end(db);
	for (size_t i = 0; i < st->listed; i++)
		free(names[i]);
	free(names);
	free(b.names);
	return rc;
}

/* ---- listing ------------------------------------------------------------------ */

static const char *text_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? NULL
		       : (const char *)sqlite3_column_text(st, col);
}

struct each {
	inbox_row_fn fn;
	void *arg;
};

static int each_row(sqlite3_stmt *st, void *arg)
{
	const struct each *e = arg;
	struct inbox_row row = {
		.id = sqlite3_column_int64(st, 0),
		.received_at = sqlite3_column_int64(st, 1),
		.source = text_or_null(st, 2),
		.origin = text_or_null(st, 3),
		.envelope_to = text_or_null(st, 4),
		.kind = text_or_null(st, 5),
		.format = text_or_null(st, 6),
		.sender = text_or_null(st, 7),
		.subject = text_or_null(st, 8),
		.delivery_id = sqlite3_column_int64(st, 9),
		.reason = text_or_null(st, 10),
	};

	return e->fn(&row, e->arg);
}

int inbox_each(struct db *db, const char *kind, inbox_row_fn fn, void *arg,
	       struct error *err)
{
	struct each e = {fn, arg};
	sqlite3_stmt *st;
	int rc = db_prepare(db, &inbox_statements, ST_LIST, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, kind);
	return db_each_row(db, st, each_row, &e, err);
}
