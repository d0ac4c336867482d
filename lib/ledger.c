#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/ledger.h"
#include "chancery/progress.h"
#include "db_impl.h"

static const char *const kind_names[LEDGER_KIND_COUNT] = {
	[LEDGER_CAMPAIGN_CREATED] = "campaign.created",
	[LEDGER_CAMPAIGN_SCHEDULED] = "campaign.scheduled",
	[LEDGER_CAMPAIGN_STARTED] = "campaign.started",
	[LEDGER_CAMPAIGN_PAUSED] = "campaign.paused",
	[LEDGER_CAMPAIGN_RESUMED] = "campaign.resumed",
	[LEDGER_CAMPAIGN_CANCELLED] = "campaign.cancelled",
	[LEDGER_CAMPAIGN_DONE] = "campaign.done",
	[LEDGER_CAMPAIGN_REFRESHED] = "campaign.refreshed",
	[LEDGER_TEMPLATE_ADDED] = "template.added",
	[LEDGER_TEMPLATE_USED] = "template.used",
	[LEDGER_SERIES_CREATED] = "series.created",
	[LEDGER_SERIES_PAUSED] = "series.paused",
	[LEDGER_SERIES_RESUMED] = "series.resumed",
	[LEDGER_SERIES_REMOVED] = "series.removed",
	[LEDGER_SERIES_SKIPPED] = "series.skipped",
	[LEDGER_DELIVERY_QUEUED] = "delivery.queued",
	[LEDGER_DELIVERY_SKIPPED] = "delivery.skipped",
	[LEDGER_DELIVERY_ATTEMPTED] = "delivery.attempted",
	[LEDGER_DELIVERY_SENT] = "delivery.sent",
	[LEDGER_DELIVERY_DEFERRED] = "delivery.deferred",
	[LEDGER_DELIVERY_FAILED] = "delivery.failed",
	[LEDGER_DELIVERY_EXPIRED] = "delivery.expired",
	[LEDGER_DELIVERY_RECOVERED] = "delivery.recovered",
	[LEDGER_DELIVERY_CANCELLED] = "delivery.cancelled",
	[LEDGER_DELIVERY_BOUNCED] = "delivery.bounced",
	[LEDGER_DELIVERY_DELAYED] = "delivery.delayed",
	[LEDGER_DELIVERY_DELIVERED] = "delivery.delivered",
	[LEDGER_BODY_ADDED] = "body.added",
	[LEDGER_BODY_CHANGED] = "body.changed",
	[LEDGER_BODY_REMOVED] = "body.removed",
	[LEDGER_ALIAS_ADDED] = "alias.added",
	[LEDGER_CONTACT_ADDED] = "contact.added",
	[LEDGER_CONTACT_DISABLED] = "contact.disabled",
	[LEDGER_CONTACT_ENABLED] = "contact.enabled",
	[LEDGER_CONTACT_BOUNCING] = "contact.bouncing",
	[LEDGER_CONTACT_REMOVED] = "contact.removed",
	[LEDGER_LIST_CHANGED] = "list.changed",
	[LEDGER_BOUNCE_QUARANTINED] = "bounce.quarantined",
	[LEDGER_CAMPAIGN_APPROVED] = "campaign.approved",
	[LEDGER_CAMPAIGN_REJECTED] = "campaign.rejected",
	[LEDGER_CAMPAIGN_APPROVAL_VOID] = "campaign.approval_void",
	[LEDGER_CAMPAIGN_EDITED] = "campaign.edited",
	[LEDGER_CAMPAIGN_REMINDED] = "campaign.reminded",
	[LEDGER_CAMPAIGN_MISSED] = "campaign.missed",
	[LEDGER_CAMPAIGN_TESTED] = "campaign.tested",
	[LEDGER_NOTIFY_SENT] = "notify.sent",
	[LEDGER_NOTIFY_FAILED] = "notify.failed",
	[LEDGER_BODY_MERGED] = "body.merged",
	[LEDGER_CONTACT_CHANGED] = "contact.changed",
	[LEDGER_SERIES_EDITED] = "series.edited",
	[LEDGER_PHRASE_TAUGHT] = "phrase.taught",
	[LEDGER_PHRASE_UNTAUGHT] = "phrase.untaught",
	[LEDGER_DELIVERY_ACKNOWLEDGED] = "delivery.acknowledged",
	[LEDGER_DELIVERY_AUTO_REPLIED] = "delivery.auto_replied",
	[LEDGER_DELIVERY_REPLIED] = "delivery.replied",
	[LEDGER_INBOUND_QUARANTINED] = "inbound.quarantined",
	[LEDGER_RELAY_DOWN] = "relay.down",
	[LEDGER_RELAY_UP] = "relay.up",
	[LEDGER_RELAY_BLOCKED] = "relay.blocked",
	[LEDGER_USER_ADDED] = "user.added",
	[LEDGER_USER_CHANGED] = "user.changed",
	[LEDGER_BOUNCE_DISMISSED] = "bounce.dismissed",
};

enum {
	ST_HEAD,
	ST_INSERT,
	ST_WALK,
	ST_BODY_HISTORY,
	ST_CONTACT_HISTORY,
	ST_READABLE,
	ST__COUNT
};

static const char *const ledger_sql[ST__COUNT] = {
	[ST_HEAD] = "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
	[ST_INSERT] = "INSERT INTO events (id, ts, kind, campaign_id, "
		      "delivery_id, body_id, contact_id, data, prev_hash, hash, actor) "
		      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_WALK] = "SELECT id, ts, kind, campaign_id, delivery_id, body_id, "
		    "contact_id, data, prev_hash, hash, actor "
		    "FROM events ORDER BY id",
	[ST_BODY_HISTORY] = "SELECT id, ts, kind, campaign_id, delivery_id, "
			    "body_id, contact_id, data, actor FROM events "
			    "WHERE (body_id = ?1 OR (body_id = ?2 AND kind = "
			    "'body.merged' AND json_extract(data, '$.drop_id') "
			    "= ?1)) AND (?3 OR delivery_id IS NULL) "
			    "ORDER BY id",
	[ST_CONTACT_HISTORY] = "SELECT id, ts, kind, campaign_id, "
			       "delivery_id, body_id, contact_id, data, actor "
			       "FROM events WHERE contact_id = ?1 AND "
			       "(?2 OR delivery_id IS NULL) ORDER BY id",
	/* key, type, scalar text, from, to, is a from/to pair, array text */
	[ST_READABLE] =
		"SELECT o.key, o.type, o.atom, "
		"CASE WHEN o.type = 'object' THEN json_extract(o.value, "
		"'$.from') END, CASE WHEN o.type = 'object' THEN "
		"json_extract(o.value, '$.to') END, CASE WHEN o.type = "
		"'object' THEN json_type(o.value, '$.from') IS NOT NULL AND "
		"json_type(o.value, '$.to') IS NOT NULL ELSE 0 END, "
		"CASE WHEN o.type = 'array' THEN (SELECT group_concat("
		"coalesce(j.atom, j.value), ', ') FROM json_each(o.value) j) "
		"WHEN o.type = 'object' THEN o.value END "
		"FROM json_each(?1) o WHERE json_type(?1) = 'object'",
};

static const struct db_statements ledger_statements = {"ledger", ledger_sql,
						       ST__COUNT};

const char *ledger_kind_name(enum ledger_kind kind)
{
	if ((int)kind < 0 || kind >= LEDGER_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

int ledger_kind_parse(const char *name, enum ledger_kind *out)
{
	for (int i = 0; i < LEDGER_KIND_COUNT; i++) {
		if (strcmp(kind_names[i], name) == 0) {
			*out = (enum ledger_kind)i;
			return 0;
		}
	}
	return -1;
}

/* Decimal digits of v into the end of buf[24]; returns the first.
 * Hand-written because printf was a third of `audit verify`'s time. */
static char *decimal(unsigned long long v, char buf[24])
{
	char *p = buf + 23;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static void add_field(struct sbuf *out, const char *s, size_t len)
{
	char num[24];
	const char *digits = decimal(len, num);

	sbuf_add(out, digits, (size_t)(num + 23 - digits));
	sbuf_addch(out, ':');
	sbuf_add(out, s, len);
	sbuf_addch(out, ',');
}

static void add_netstring(struct sbuf *out, const char *s)
{
	add_field(out, s, strlen(s));
}

/* An id as decimal, or the empty string for none (0). */
static void add_id(struct sbuf *out, int64_t id)
{
	char num[24];
	char *p = num + 23;

	*p = '\0';
	if (id > 0) {
		p = decimal((unsigned long long)id, num);
	} else if (id < 0) { /* never written by ledger_append; kept exact */
		p = decimal(0ULL - (unsigned long long)id, num);
		*--p = '-';
	}
	add_field(out, p, (size_t)(num + 23 - p));
}

void ledger_canonical(const struct ledger_row *row, struct sbuf *out)
{
	sbuf_reset(out);
	add_id(out, row->id);
	add_id(out, row->ts ? row->ts : 0);
	add_netstring(out, row->kind);
	add_id(out, row->campaign_id);
	add_id(out, row->delivery_id);
	add_id(out, row->body_id);
	add_id(out, row->contact_id);
	add_netstring(out, row->data);
	add_netstring(out, row->prev_hash);
	if (row->actor) /* rows from before actors keep their old form */
		add_netstring(out, row->actor);
}

void ledger_row_hash(const struct ledger_row *row, struct sha256 *h,
		     struct sbuf *scratch, char out[SHA256_HEX_SIZE])
{
	struct sbuf local = SBUF_INIT;
	struct sbuf *buf = scratch ? scratch : &local;

	ledger_canonical(row, buf);
	if (h) {
		sha256_update(h, buf->buf, buf->len);
		sha256_final_hex(h, out);
	} else {
		sha256_hex(buf->buf, buf->len, out);
	}
	sbuf_release(&local);
}

/* Reads the id and hash of the newest row (0 and the genesis hash if none). */
static int read_head(struct db *db, int64_t *id, char hash[SHA256_HEX_SIZE],
		     struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &ledger_statements, ST_HEAD, &st, err);

	if (rc)
		return rc;
	*id = 0;
	memcpy(hash, LEDGER_GENESIS_HASH, SHA256_HEX_SIZE);
	rc = db_step(db, st, err);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		snprintf(hash, SHA256_HEX_SIZE, "%s", db_column_text(st, 1));
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

static int insert_row(struct db *db, const struct ledger_row *row,
		      const char *hash, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &ledger_statements, ST_INSERT, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, row->id);
	sqlite3_bind_int64(st, 2, row->ts);
	/* The texts outlive the one step: no copies. */
	db_bind_text_static(st, 3, row->kind);
	db_bind_id(st, 4, row->campaign_id);
	db_bind_id(st, 5, row->delivery_id);
	db_bind_id(st, 6, row->body_id);
	db_bind_id(st, 7, row->contact_id);
	db_bind_text_static(st, 8, row->data);
	db_bind_text_static(st, 9, row->prev_hash);
	db_bind_text_static(st, 10, hash);
	if (row->actor)
		db_bind_text_static(st, 11, row->actor);
	else
		sqlite3_bind_null(st, 11);
	return db_step_done(db, st, err);
}

/*
 * The id and hash of the newest row: remembered from the last append of
 * this write transaction, or read. Inside a group commit every event
 * after the first then skips the head query; nothing else on this
 * connection writes events (the table is append-only through here).
 */
static int chain_head(struct db *db, struct db_ledger_cache *cache,
		      int64_t *id, char hash[SHA256_HEX_SIZE],
		      struct error *err)
{
	if (!cache->head_valid)
		return read_head(db, id, hash, err);
	*id = cache->head_id;
	memcpy(hash, cache->head_hash, SHA256_HEX_SIZE);
	return 0;
}

int ledger_append(struct db *db, const struct ledger_event *ev,
		  int64_t *id_out, struct error *err)
{
	char prev[SHA256_HEX_SIZE], hash[SHA256_HEX_SIZE];
	struct db_ledger_cache *cache;
	struct ledger_row row;
	int64_t head_id;
	bool own;
	int rc;

	if (!ledger_kind_name(ev->kind))
		return error_set(err, ERR_SOFTWARE, "ledger: unknown event kind %d",
				 (int)ev->kind);
	/*
	 * Reading the head and inserting after it must be one transaction.
	 * Inside a caller's, no savepoint of our own: the only write is one
	 * INSERT, atomic by itself, and a savepoint per event (SAVEPOINT and
	 * RELEASE parsed and run, pages copied to the sub-journal) was a
	 * fifth of the daemon's database time.
	 */
	rc = db_begin_if_none(db, &own, err);
	if (rc)
		return rc;
	cache = db_ledger_cache(db);
	rc = chain_head(db, cache, &head_id, prev, err);
	if (rc)
		goto out;
	row = (struct ledger_row){
		.id = head_id + 1,
		.ts = clock_now(),
		.kind = ledger_kind_name(ev->kind),
		.campaign_id = ev->campaign_id,
		.delivery_id = ev->delivery_id,
		.body_id = ev->body_id,
		.contact_id = ev->contact_id,
		.data = ev->data ? ev->data : "{}",
		.prev_hash = prev,
		.actor = db_actor(db),
	};
	if (!cache->digest)
		cache->digest = sha256_new();
	ledger_row_hash(&row, cache->digest, &cache->canonical, hash);
	rc = insert_row(db, &row, hash, err);
	cache->head_valid = rc == 0;
	if (!rc) {
		cache->head_id = row.id;
		memcpy(cache->head_hash, hash, SHA256_HEX_SIZE);
		if (id_out)
			*id_out = row.id;
	}
out:
	return db_end_if_own(db, own, rc, err);
}

/* ------------------------------------------------------------------ */
/* Building an event                                                   */

void ledger_entry_init(struct ledger_entry *e, enum ledger_kind kind,
		       int64_t campaign, int64_t delivery, int64_t body,
		       int64_t contact)
{
	sbuf_init(&e->data, 0);
	ledger_entry_reset(e, kind, campaign, delivery, body, contact);
}

void ledger_entry_reset(struct ledger_entry *e, enum ledger_kind kind,
			int64_t campaign, int64_t delivery, int64_t body,
			int64_t contact)
{
	e->ev = (struct ledger_event){kind, campaign, delivery, body, contact,
				      NULL};
	sbuf_reset(&e->data);
	json_init(&e->js, &e->data, false);
}

/*
 * The object is opened by its first member (or by closing it), not by
 * init: a loop that prepares an entry and then has no row to record
 * allocates nothing.
 */
static void entry_open(struct ledger_entry *e)
{
	if (e->js.depth == 0)
		json_object_begin(&e->js);
}

void ledger_entry_str(struct ledger_entry *e, const char *key,
		      const char *value)
{
	entry_open(e);
	json_kv_string(&e->js, key, value);
}

void ledger_entry_int(struct ledger_entry *e, const char *key, int64_t value)
{
	entry_open(e);
	json_kv_int(&e->js, key, value);
}

const char *ledger_entry_data(struct ledger_entry *e)
{
	if (!e->ev.data) {
		entry_open(e);
		json_object_end(&e->js);
		e->ev.data = e->data.buf;
	}
	return e->ev.data;
}

int ledger_entry_append(struct db *db, struct ledger_entry *e,
			int64_t *id_out, struct error *err)
{
	ledger_entry_data(e);
	return ledger_append(db, &e->ev, id_out, err);
}

void ledger_entry_release(struct ledger_entry *e)
{
	sbuf_release(&e->data);
	e->ev.data = NULL;
}

int ledger_append_vfields(struct db *db, const struct ledger_event *ev,
			  struct error *err, va_list pairs)
{
	struct ledger_entry e;
	const char *key;
	int rc;

	ledger_entry_init(&e, ev->kind, ev->campaign_id, ev->delivery_id,
			  ev->body_id, ev->contact_id);
	while ((key = va_arg(pairs, const char *)) != NULL)
		ledger_entry_str(&e, key, va_arg(pairs, const char *));
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

int ledger_append_fields(struct db *db, const struct ledger_event *ev,
			 struct error *err, ...)
{
	va_list ap;
	int rc;

	va_start(ap, err);
	rc = ledger_append_vfields(db, ev, err, ap);
	va_end(ap);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Verification                                                        */

/* Copies a 64-hex-digit hash in lower case; ERR_USAGE otherwise. */
static int parse_hash(const char *s, char out[SHA256_HEX_SIZE],
		      struct error *err)
{
	size_t i;

	for (i = 0; s[i] && i < SHA256_HEX_SIZE - 1; i++) {
		if (!isxdigit((unsigned char)s[i]))
			break;
		out[i] = (char)tolower((unsigned char)s[i]);
	}
	if (i != SHA256_HEX_SIZE - 1 || s[i])
		return error_set(err, ERR_USAGE,
				 "anchor '%.80s' is not a SHA-256 hash "
				 "(64 hex digits)", s);
	out[i] = '\0';
	return 0;
}

/* The message for a row whose link to its predecessor is broken. */
static int prev_mismatch(int64_t id, int64_t prev_id, struct error *err)
{
	if (id == prev_id + 2)
		return error_set(err, ERR_DATA,
				 "ledger row %lld: prev mismatch: row %lld "
				 "before it is missing (removed)",
				 (long long)id, (long long)id - 1);
	if (id > prev_id + 2)
		return error_set(err, ERR_DATA,
				 "ledger row %lld: prev mismatch: rows "
				 "%lld..%lld before it are missing (removed)",
				 (long long)id, (long long)prev_id + 1,
				 (long long)id - 1);
	if (prev_id == 0)
		return error_set(err, ERR_DATA,
				 "ledger row %lld: prev mismatch: it is the "
				 "first row but does not link to the genesis "
				 "hash: it was rewritten", (long long)id);
	return error_set(err, ERR_DATA,
			 "ledger row %lld: prev mismatch: its prev_hash is not "
			 "the hash of row %lld: a row before it was changed "
			 "and rehashed, removed or inserted",
			 (long long)id, (long long)prev_id);
}

struct walk {
	struct sha256 *sha;
	struct sbuf scratch;
	char prev[SHA256_HEX_SIZE];
	int64_t prev_id;
};

/* Checks the current row of the walk statement; 0 or ERR_DATA. */
static int check_row(struct walk *w, sqlite3_stmt *st,
		     struct ledger_verify_result *res, struct error *err)
{
	char computed[SHA256_HEX_SIZE];
	const char *stored = db_column_text(st, 9);
	struct ledger_row row = {
		.id = sqlite3_column_int64(st, 0),
		.ts = sqlite3_column_int64(st, 1),
		.kind = db_column_text(st, 2),
		.campaign_id = sqlite3_column_int64(st, 3),
		.delivery_id = sqlite3_column_int64(st, 4),
		.body_id = sqlite3_column_int64(st, 5),
		.contact_id = sqlite3_column_int64(st, 6),
		.data = db_column_text(st, 7),
		.prev_hash = db_column_text(st, 8),
		.actor = (const char *)sqlite3_column_text(st, 10),
	};

	ledger_row_hash(&row, w->sha, &w->scratch, computed);
	res->bad_id = row.id;
	if (strcmp(computed, stored) != 0) {
		res->problem = LEDGER_HASH_MISMATCH;
		return error_set(err, ERR_DATA,
				 "ledger row %lld (%s): hash mismatch: the "
				 "row's content changed after it was written "
				 "(stored %.12s..., recomputed %.12s...)",
				 (long long)row.id, row.kind, stored, computed);
	}
	if (strcmp(row.prev_hash, w->prev) != 0 || row.id != w->prev_id + 1) {
		res->problem = LEDGER_PREV_MISMATCH;
		return prev_mismatch(row.id, w->prev_id, err);
	}
	res->bad_id = 0;
	snprintf(w->prev, sizeof(w->prev), "%s", stored);
	w->prev_id = row.id;
	res->rows++;
	res->head_id = row.id;
	res->head_ts = row.ts;
	return 0;
}

/* Adds what the anchor proves to a message about a break after it. */
static void note_anchor(const struct ledger_verify_result *res,
			struct error *err)
{
	char msg[ERROR_MSG_MAX];

	if (!res->anchor_id || !err)
		return;
	snprintf(msg, sizeof(msg), "%.900s; the rows up to the anchored row %lld "
		 "are intact", err->msg, (long long)res->anchor_id);
	memcpy(err->msg, msg, sizeof(msg));
}

int ledger_verify(struct db *db, const char *anchor,
		  struct ledger_verify_result *res, struct error *err)
{
	return ledger_verify_progress(db, anchor, NULL, res, err);
}

int ledger_verify_progress(struct db *db, const char *anchor,
			   struct progress *progress,
			   struct ledger_verify_result *res,
			   struct error *err)
{
	struct walk w = {.scratch = SBUF_INIT, .prev = LEDGER_GENESIS_HASH};
	char want[SHA256_HEX_SIZE] = "";
	sqlite3_stmt *st;
	int rc;

	memset(res, 0, sizeof(*res));
	memcpy(res->head_hash, LEDGER_GENESIS_HASH, SHA256_HEX_SIZE);
	if (anchor && (rc = parse_hash(anchor, want, err)) != 0)
		return rc;
	rc = db_prepare(db, &ledger_statements, ST_WALK, &st, err);
	if (rc)
		return rc;
	w.sha = sha256_new();
	while ((rc = db_step(db, st, err)) == 1) {
		rc = check_row(&w, st, res, err);
		if (rc) {
			sqlite3_reset(st);
			note_anchor(res, err);
			goto out;
		}
		if (anchor && !res->anchor_id && strcmp(w.prev, want) == 0)
			res->anchor_id = w.prev_id;
		if (progress && (res->rows & 1023) == 0)
			progress_update(progress, (uint64_t)res->rows);
	}
	if (rc)
		goto out;
	memcpy(res->head_hash, w.prev, SHA256_HEX_SIZE);
	if (anchor && !res->anchor_id) {
		res->problem = LEDGER_ANCHOR_MISSING;
		rc = error_set(err, ERR_DATA,
			       "anchor %s: no row of the ledger carries this "
			       "hash: the anchored row or rows before it were "
			       "removed or rewritten (the ledger now ends at "
			       "row %lld)", want, (long long)res->head_id);
	}
out:
	sha256_free(w.sha);
	sbuf_release(&w.scratch);
	return rc;
}

int ledger_anchor(struct db *db, struct ledger_anchor *out, struct error *err)
{
	struct ledger_verify_result res;
	int rc = ledger_verify(db, NULL, &res, err);

	memset(out, 0, sizeof(*out));
	if (rc)
		return error_prefix(err, "not anchoring a broken ledger");
	if (!res.head_id)
		return error_set(err, ERR_NOTFOUND,
				 "the ledger is empty: nothing to anchor");
	out->id = res.head_id;
	out->ts = res.head_ts;
	out->rows = res.rows;
	memcpy(out->hash, res.head_hash, SHA256_HEX_SIZE);
	return 0;
}

struct history {
	int (*fn)(const struct ledger_row *row, void *arg);
	void *arg;
};

static int history_row(sqlite3_stmt *st, void *arg)
{
	const struct history *h = arg;
	struct ledger_row row = {
		.id = sqlite3_column_int64(st, 0),
		.ts = sqlite3_column_int64(st, 1),
		.kind = db_column_text(st, 2),
		.campaign_id = sqlite3_column_int64(st, 3),
		.delivery_id = sqlite3_column_int64(st, 4),
		.body_id = sqlite3_column_int64(st, 5),
		.contact_id = sqlite3_column_int64(st, 6),
		.data = db_column_text(st, 7),
		.actor = sqlite3_column_type(st, 8) == SQLITE_NULL
				 ? NULL : db_column_text(st, 8),
	};

	return h->fn(&row, h->arg);
}

int ledger_history(struct db *db, int64_t body_id, int64_t merged_into,
		   int64_t contact_id, bool deliveries,
		   int (*fn)(const struct ledger_row *row, void *arg),
		   void *arg, struct error *err)
{
	struct history h = {fn, arg};
	sqlite3_stmt *st;
	int rc;

	rc = db_prepare(db, &ledger_statements,
			body_id ? ST_BODY_HISTORY : ST_CONTACT_HISTORY, &st, err);
	if (rc)
		return rc;
	if (body_id) {
		sqlite3_bind_int64(st, 1, body_id);
		sqlite3_bind_int64(st, 2, merged_into);
		sqlite3_bind_int(st, 3, deliveries);
	} else {
		sqlite3_bind_int64(st, 1, contact_id);
		sqlite3_bind_int(st, 2, deliveries);
	}
	return db_each_row(db, st, history_row, &h, err);
}

/* A column's text, or "(none)" for SQL NULL (JSON null). */
static const char *or_none(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? "(none)" : db_column_text(st, col);
}

struct readable {
	struct sbuf *out;
	int n;
};

static int readable_row(sqlite3_stmt *st, void *arg)
{
	struct readable *r = arg;
	const char *key = db_column_text(st, 0);
	const char *type = db_column_text(st, 1);

	if (strcmp(type, "array") == 0 &&
	    sqlite3_column_type(st, 6) == SQLITE_NULL)
		return 0; /* an empty list says nothing */
	if (r->n++)
		sbuf_addstr(r->out, "; ");
	sbuf_addf(r->out, "%s: ", key);
	if (sqlite3_column_int(st, 5))
		sbuf_addf(r->out, "%s \u2192 %s", or_none(st, 3),
			  or_none(st, 4));
	else if (strcmp(type, "array") == 0 || strcmp(type, "object") == 0)
		sbuf_addstr(r->out, db_column_text(st, 6));
	else
		sbuf_addstr(r->out, or_none(st, 2));
	return 0;
}

int ledger_data_readable(struct db *db, const char *data, struct sbuf *out,
			 struct error *err)
{
	struct readable r = {out, 0};
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_prepare(db, &ledger_statements, ST_READABLE, &st, err)))
		return rc;
	db_bind_text(st, 1, data ? data : "{}");
	return db_each_row(db, st, readable_row, &r, err);
}
