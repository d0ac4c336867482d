/*
 * audit: who received which statement, read back from the deliveries and
 * the ledger: a campaign's report, a body's year by year, and the matrix
 * of bodies by campaign, as text, CSV, JSON or HTML (audit_html.c writes
 * the pages).
 *
 * It is one file above 1,000 lines because the three reports share their
 * readers (deliveries, events, bodies not reached, approvals) and their
 * totals.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chancery/audit.h"
#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"
#include "audit_impl.h"

/* The year a statement went out: the UTC year of the campaign's send time,
 * so "received in 2024" means the same thing in every report. */
#define YEAR_SQL "CAST(strftime('%Y', c.send_at, 'unixepoch') AS INTEGER)"
#define ISO(x) "strftime('%Y-%m-%dT%H:%M:%SZ', " x ", 'unixepoch')"

/*
 * What came back for delivery d (delivery_responses, and complaints kept
 * in inbound_messages): when it was first acknowledged (an MDN of any
 * disposition), the best disposition (displayed if any MDN says so, else
 * the first one's), and when it was first answered automatically,
 * replied to, complained about.
 */
#define FIRST_RESPONSE(d, kind)                                           \
	"(SELECT " ISO("min(r.responded_at)") " FROM delivery_responses r " \
	"WHERE r.delivery_id = " d " AND r.kind = '" kind "')"
#define RESPONSE_COLUMNS(d)                                               \
	FIRST_RESPONSE(d, "acknowledged") " AS acknowledged_at, "          \
	"(SELECT r.disposition FROM delivery_responses r "                 \
	"WHERE r.delivery_id = " d " AND r.kind = 'acknowledged' "         \
	"ORDER BY r.disposition = 'displayed' DESC, r.responded_at, r.id " \
	"LIMIT 1) AS disposition, "                                        \
	FIRST_RESPONSE(d, "auto_replied") " AS auto_replied_at, "          \
	FIRST_RESPONSE(d, "replied") " AS replied_at, "                    \
	"(SELECT " ISO("min(i.received_at)") " FROM inbound_messages i "    \
	"WHERE i.delivery_id = " d " AND i.kind = 'complaint') "           \
	"AS complained_at"
#define RESPONSE_NAMES                                                    \
	"acknowledged_at, disposition, auto_replied_at, replied_at, "     \
	"complained_at"
#define RESPONSE_NULLS "NULL, NULL, NULL, NULL, NULL"

/* Every response of the deliveries a WHERE clause on d, c picks, oldest
 * first: (body, campaign, kind, disposition, sender, at, delivery id,
 * email). */
#define RESPONSES_WHERE(where)                                            \
	"SELECT who, campaign, kind, disposition, sender, at, delivery_id, " \
	"email FROM (SELECT coalesce(b.acronym, b.name) AS who, "          \
	"c.name AS campaign, r.kind AS kind, r.disposition AS disposition, " \
	"r.sender AS sender, r.responded_at AS at, d.id AS delivery_id, "  \
	"d.email AS email, r.inbound_id AS inbound "                      \
	"FROM delivery_responses r JOIN deliveries d ON d.id = r.delivery_id " \
	"JOIN campaigns c ON c.id = d.campaign_id "                        \
	"JOIN bodies b ON b.id = d.body_id WHERE " where " "               \
	"UNION ALL SELECT coalesce(b.acronym, b.name), c.name, 'complaint', " \
	"NULL, i.sender, i.received_at, d.id, d.email, i.id "              \
	"FROM inbound_messages i JOIN deliveries d ON d.id = i.delivery_id " \
	"JOIN campaigns c ON c.id = d.campaign_id "                        \
	"JOIN bodies b ON b.id = d.body_id "                               \
	"WHERE i.kind = 'complaint' AND " where ") "                       \
	"ORDER BY at, delivery_id, inbound"

enum {
	ST_CAMPAIGN,
	ST_CAMPAIGN_DELIVERIES,
	ST_CAMPAIGN_EVENTS,
	ST_CAMPAIGN_SIGNOFF,
	ST_BODY,
	ST_BODY_DELIVERIES,
	ST_BODY_EVENTS,
	ST_MATRIX_CAMPAIGNS,
	ST_MATRIX_BODIES,
	ST_MATRIX_COUNTS,
	ST_MATRIX_DELIVERIES,
	ST_MATRIX_UNREACHED,
	ST_CAMPAIGN_RESPONSES,
	ST_BODY_RESPONSES,
	ST_MATRIX_RESPONSES,
	ST__COUNT
};

/* The matrix's language filter (?2: NULL for every language): the
 * language a delivery was sent in. Bodies not reached have none. */
#define LANG_SQL "(?2 IS NULL OR d.language = ?2 COLLATE NOCASE)"

static const char *const audit_sql[ST__COUNT] = {
	[ST_CAMPAIGN] =
		"SELECT c.name, c.state, " ISO("c.send_at") ", t.name, "
		"t.version, t.sha256, l.name, " ISO("c.started_at") ", "
		ISO("c.finished_at") " FROM campaigns c "
		"JOIN templates t ON t.id = c.template_id "
		"LEFT JOIN lists l ON l.id = c.list_id WHERE c.name = ?1",
	/* Deliveries, and a row "not reached" (with the reason) for each
	 * body the campaign could not reach, in one order. */
	[ST_CAMPAIGN_DELIVERIES] =
		"SELECT body, body_name, kind, email, contact, state, sent_at, "
		"reply_code, reply_enhanced, reply_text, queue_id, reason, "
		"attempts, delivery_id, " RESPONSE_NAMES ", language, sha256 "
		"FROM ("
		"SELECT b.acronym AS body, b.name AS body_name, b.kind AS kind, "
		"d.email AS email, co.name AS contact, d.state AS state, "
		ISO("d.sent_at") " AS sent_at, d.reply_code AS reply_code, "
		"d.reply_enhanced AS reply_enhanced, d.reply_text AS reply_text, "
		"d.queue_id AS queue_id, d.reason AS reason, "
		"d.attempts AS attempts, d.id AS delivery_id, "
		RESPONSE_COLUMNS("d.id") ", d.language AS language, "
		"d.sha256 AS sha256, b.id AS bid "
		"FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id "
		"JOIN bodies b ON b.id = d.body_id "
		"LEFT JOIN contacts co ON co.id = d.contact_id "
		"WHERE c.name = ?1 "
		"UNION ALL SELECT b.acronym, b.name, b.kind, NULL, NULL, "
		"'" AUDIT_NOT_REACHED "', NULL, NULL, NULL, NULL, NULL, u.reason, "
		"NULL, NULL, " RESPONSE_NULLS ", NULL, NULL, b.id "
		"FROM campaign_unreached u "
		"JOIN campaigns c ON c.id = u.campaign_id "
		"JOIN bodies b ON b.id = u.body_id WHERE c.name = ?1) "
		"ORDER BY coalesce(body, body_name) COLLATE NOCASE, bid, "
		"email COLLATE NOCASE, delivery_id",
	[ST_CAMPAIGN_EVENTS] =
		"SELECT e.id, e.delivery_id, " ISO("e.ts") ", e.kind, e.data "
		"FROM events e WHERE e.campaign_id = "
		"(SELECT id FROM campaigns WHERE name = ?1) "
		"AND e.delivery_id IS NOT NULL ORDER BY e.delivery_id, e.id",
	/* Approvals, rejections and voided approvals, from the ledger: the
	 * approval rows themselves go when an approval is voided. */
	[ST_CAMPAIGN_SIGNOFF] =
		"SELECT e.kind, e.actor, " ISO("e.ts") ", "
		"json_extract(e.data, '$.template'), "
		"json_extract(e.data, '$.version'), "
		"json_extract(e.data, '$.sha256'), "
		"json_extract(e.data, '$.recipients'), "
		"json_extract(e.data, '$.recipients_sha256'), "
		"json_extract(e.data, '$.unreached'), "
		"json_extract(e.data, '$.reason') FROM events e "
		"WHERE e.campaign_id = (SELECT id FROM campaigns WHERE name = ?1) "
		"AND e.kind IN ('campaign.approved', 'campaign.rejected', "
		"'campaign.approval_void') ORDER BY e.id",
	[ST_BODY] = "SELECT id, acronym, name, kind, country, "
		    ISO("removed_at") " FROM bodies "
		    "WHERE acronym = ?1 COLLATE NOCASE OR name = ?1 COLLATE NOCASE "
		    "ORDER BY acronym = ?1 COLLATE NOCASE DESC, "
		    "removed_at IS NOT NULL, id DESC LIMIT 1",
	[ST_BODY_DELIVERIES] =
		"SELECT year, campaign, template, send_at, email, state, "
		"sent_at, reply_code, reply_enhanced, reply_text, queue_id, "
		"reason, delivery_id, " RESPONSE_NAMES ", language, sha256 "
		"FROM ("
		"SELECT " YEAR_SQL " AS year, c.name AS campaign, "
		"t.name || ' v' || t.version AS template, "
		ISO("c.send_at") " AS send_at, d.email AS email, "
		"d.state AS state, " ISO("d.sent_at") " AS sent_at, "
		"d.reply_code AS reply_code, d.reply_enhanced AS reply_enhanced, "
		"d.reply_text AS reply_text, d.queue_id AS queue_id, "
		"d.reason AS reason, d.id AS delivery_id, "
		RESPONSE_COLUMNS("d.id") ", d.language AS language, "
		"d.sha256 AS sha256, c.send_at AS cs, "
		"c.id AS cid FROM deliveries d "
		"JOIN campaigns c ON c.id = d.campaign_id "
		"JOIN templates t ON t.id = c.template_id "
		"WHERE d.body_id = ?1 "
		"UNION ALL SELECT " YEAR_SQL ", c.name, "
		"t.name || ' v' || t.version, " ISO("c.send_at") ", NULL, "
		"'" AUDIT_NOT_REACHED "', NULL, NULL, NULL, NULL, NULL, u.reason, "
		"NULL, " RESPONSE_NULLS ", NULL, NULL, c.send_at, c.id "
		"FROM campaign_unreached u "
		"JOIN campaigns c ON c.id = u.campaign_id "
		"JOIN templates t ON t.id = c.template_id "
		"WHERE u.body_id = ?1) "
		"ORDER BY cs, cid, email COLLATE NOCASE, delivery_id",
	[ST_BODY_EVENTS] =
		"SELECT id, delivery_id, " ISO("ts") ", kind, data FROM events "
		"WHERE body_id = ?1 AND delivery_id IS NOT NULL "
		"ORDER BY delivery_id, id",
	[ST_MATRIX_CAMPAIGNS] =
		"SELECT c.id, c.name, " ISO("c.send_at") ", c.state, " YEAR_SQL
		" FROM campaigns c WHERE " YEAR_SQL " >= ?1 "
		"ORDER BY c.send_at, c.id",
	[ST_MATRIX_BODIES] =
		"SELECT id, acronym, name, kind, country FROM bodies "
		"WHERE id IN (SELECT d.body_id FROM deliveries d "
		"JOIN campaigns c ON c.id = d.campaign_id WHERE " YEAR_SQL
		" >= ?1 AND " LANG_SQL ") OR id IN (SELECT u.body_id FROM "
		"campaign_unreached u JOIN campaigns c ON c.id = u.campaign_id "
		"WHERE " YEAR_SQL " >= ?1 AND ?2 IS NULL) ORDER BY coalesce(acronym, name) COLLATE NOCASE, id",
	[ST_MATRIX_COUNTS] =
		"SELECT d.campaign_id, d.body_id, d.state, count(*) "
		"FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id "
		"WHERE " YEAR_SQL " >= ?1 AND " LANG_SQL " "
		"GROUP BY d.campaign_id, d.body_id, d.state",
	[ST_MATRIX_DELIVERIES] =
		"SELECT d.campaign_id, d.body_id, d.state, d.email, "
		ISO("d.sent_at") ", d.reply_code, d.reply_enhanced, "
		"d.reply_text, d.queue_id, d.reason, d.id FROM deliveries d "
		"JOIN campaigns c ON c.id = d.campaign_id WHERE " YEAR_SQL
		" >= ?1 AND " LANG_SQL " ORDER BY d.body_id, d.campaign_id, "
		"d.email COLLATE NOCASE, d.id",

	[ST_MATRIX_UNREACHED] =
		"SELECT u.campaign_id, u.body_id, u.reason "
		"FROM campaign_unreached u JOIN campaigns c "
		"ON c.id = u.campaign_id WHERE " YEAR_SQL " >= ?1 AND ?2 IS NULL",
	[ST_CAMPAIGN_RESPONSES] = RESPONSES_WHERE("c.name = ?1"),
	[ST_BODY_RESPONSES] = RESPONSES_WHERE("d.body_id = ?1"),
	/* (campaign, body, kind) of every response in the matrix */
	[ST_MATRIX_RESPONSES] =
		"SELECT DISTINCT d.campaign_id, d.body_id, r.kind "
		"FROM delivery_responses r JOIN deliveries d "
		"ON d.id = r.delivery_id JOIN campaigns c "
		"ON c.id = d.campaign_id WHERE " YEAR_SQL " >= ?1 AND " LANG_SQL
		" UNION SELECT d.campaign_id, d.body_id, 'complaint' "
		"FROM inbound_messages i JOIN deliveries d "
		"ON d.id = i.delivery_id JOIN campaigns c "
		"ON c.id = d.campaign_id WHERE i.kind = 'complaint' AND "
		YEAR_SQL " >= ?1 AND " LANG_SQL,
};

static const struct db_statements audit_statements = {"audit", audit_sql,
						      ST__COUNT};

/* ------------------------------------------------------------------ */
/* States and formats                                                  */

/* Best first. In-flight states rank above failures: they may still
 * succeed; a skipped or cancelled delivery never tried at all. */
static const char *const states_best_first[] = {
	"delivered", "sent", "sending", "deferred", "pending", "bounced",
	"failed", "expired", "cancelled", "skipped",
};
#define NSTATES (sizeof(states_best_first) / sizeof(states_best_first[0]))
_Static_assert(NSTATES == AUDIT_NSTATES, "AUDIT_NSTATES is the state count");

int audit_state_rank(const char *state)
{
	for (size_t i = 0; state && i < NSTATES; i++)
		if (strcmp(states_best_first[i], state) == 0)
			return (int)(NSTATES - i);
	return 0;
}

const char *audit_state_by_rank(int rank)
{
	if (rank < 1 || rank > (int)NSTATES)
		return NULL;
	return states_best_first[NSTATES - (size_t)rank];
}

int audit_format_parse(const char *name, enum audit_format *out,
		       struct error *err)
{
	static const char *const names[] = {"table", "csv", "json", "html"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i], name) == 0) {
			*out = (enum audit_format)i;
			return 0;
		}
	}
	return error_set(err, ERR_USAGE, "unknown format '%s' (table, csv, "
			 "json or html)", name);
}

static const char *const mark_texts[AUDIT_NMARKS] = {
	"+ack", "+auto", "+replied", "+complaint",
};
static const char *const mark_names[AUDIT_NMARKS] = {
	"acknowledged", "auto_replied", "replied", "complained",
};

const char *audit_mark_text(int i)
{
	return i >= 0 && i < AUDIT_NMARKS ? mark_texts[i] : NULL;
}

const char *audit_mark_name(int i)
{
	return i >= 0 && i < AUDIT_NMARKS ? mark_names[i] : NULL;
}

int audit_response_parse(const char *name, enum audit_response *out,
			 struct error *err)
{
	static const char *const names[] = {
		[AUDIT_RESPONSE_ACKNOWLEDGED] = "acknowledged",
		[AUDIT_RESPONSE_AUTO_REPLIED] = "auto_replied",
		[AUDIT_RESPONSE_REPLIED] = "replied",
		[AUDIT_RESPONSE_COMPLAINED] = "complained",
		[AUDIT_RESPONSE_ANY] = "any",
		[AUDIT_RESPONSE_NONE] = "none",
	};

	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i], name) == 0) {
			*out = (enum audit_response)i;
			return 0;
		}
	}
	return error_set(err, ERR_USAGE, "unknown response '%s' (acknowledged, "
			 "auto_replied, replied, complained, any or none)",
			 name);
}

/* ------------------------------------------------------------------ */
/* Query helpers                                                       */

/* Appends every row st yields to t, typed as SQLite gives them. */
static int fill_table(struct db *db, sqlite3_stmt *st, struct table *t,
		      struct error *err)
{
	int rc, ncols = sqlite3_column_count(st);

	while ((rc = db_step(db, st, err)) == 1) {
		table_row(t);
		for (int i = 0; i < ncols; i++) {
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL:
				table_null(t);
				break;
			case SQLITE_INTEGER:
				table_int(t, sqlite3_column_int64(st, i));
				break;
			default:
				table_text(t, db_column_text(st, i));
			}
		}
	}
	return rc;
}

static void events_release(struct audit_events *evs)
{
	for (size_t i = 0; i < evs->n; i++) {
		free(evs->v[i].ts);
		free(evs->v[i].kind);
		free(evs->v[i].data);
	}
	free(evs->v);
	memset(evs, 0, sizeof(*evs));
}

/* Reads (id, delivery_id, ts, kind, data) rows sorted by delivery id. */
static int read_events(struct db *db, sqlite3_stmt *st,
		       struct audit_events *evs, struct error *err)
{
	int rc;

	while ((rc = db_step(db, st, err)) == 1) {
		struct audit_event *e;

		xgrow(&evs->v, sizeof(*evs->v), evs->n + 1, &evs->alloc);
		e = &evs->v[evs->n++];
		e->id = sqlite3_column_int64(st, 0);
		e->delivery_id = sqlite3_column_int64(st, 1);
		e->ts = xstrdup(db_column_text(st, 2));
		e->kind = xstrdup(db_column_text(st, 3));
		e->data = xstrdup(db_column_text(st, 4));
	}
	return rc;
}

size_t audit_events_find(const struct audit_events *evs, int64_t delivery_id,
			 size_t *first)
{
	size_t lo = 0, hi = evs->n, n = 0;

	while (lo < hi) { /* the first event with delivery_id >= the one */
		size_t mid = lo + (hi - lo) / 2;

		if (evs->v[mid].delivery_id < delivery_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + n < evs->n && evs->v[lo + n].delivery_id == delivery_id)
		n++;
	return n;
}

static size_t column_of(const struct table *t, const char *name)
{
	for (size_t i = 0; i < table_columns(t); i++)
		if (strcmp(table_header(t, i), name) == 0)
			return i;
	abort(); /* a report asked for a column it does not build */
}

/* Rows of the "state" column equal to state. */
static size_t count_state(const struct table *t, size_t col, const char *state)
{
	size_t n = 0;

	for (size_t r = 0; r < table_rows(t); r++)
		n += strcmp(table_cell(t, r, col), state) == 0;
	return n;
}

/* The response columns of the campaign and body reports, and the word
 * their totals use. */
static const struct {
	const char *column, *word;
} response_totals[] = {
	{"acknowledged_at", "acknowledged"},
	{"auto_replied_at", "auto_replied"},
	{"replied_at", "replied"},
	{"complained_at", "complained"},
};
#define NRESPONSE_TOTALS (sizeof(response_totals) / sizeof(response_totals[0]))

/* Rows of column col that are not NULL. */
static size_t count_set(const struct table *t, size_t col)
{
	size_t n = 0;

	for (size_t r = 0; r < table_rows(t); r++)
		n += table_cell(t, r, col) != NULL;
	return n;
}

/* "; responses: 2 acknowledged, 1 replied": deliveries with at least one
 * of each; nothing when none came back. */
static void add_response_totals_text(const struct table *t, struct sbuf *out)
{
	const char *sep = "; responses:";

	for (size_t i = 0; i < NRESPONSE_TOTALS; i++) {
		size_t n = count_set(t, column_of(t, response_totals[i].column));

		if (n) {
			sbuf_addf(out, "%s %zu %s", sep, n, response_totals[i].word);
			sep = ",";
		}
	}
}

/* Counts of each state in the "state" column, best first; then the
 * bodies not reached, by reason. */
static void add_totals_text(const struct table *t, struct sbuf *out)
{
	size_t col = column_of(t, "state"), rcol = column_of(t, "reason");
	size_t unreached = count_state(t, col, AUDIT_NOT_REACHED);
	const char *sep = "";

	sbuf_addf(out, "%zu deliveries", table_rows(t) - unreached);
	for (size_t s = 0; s < NSTATES; s++) {
		size_t n = count_state(t, col, states_best_first[s]);

		if (n) {
			sbuf_addf(out, "%s %zu %s", *sep ? sep : ":", n,
				  states_best_first[s]);
			sep = ",";
		}
	}
	if (unreached) {
		static const char *const reasons[] = {
			"no contact", "all suppressed", "all bouncing",
			"all disabled", "none sendable",
		};

		sbuf_addf(out, "; %zu bod%s not reached", unreached,
			  unreached == 1 ? "y" : "ies");
		sep = ":";
		for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]);
		     i++) {
			size_t n = 0;

			for (size_t r = 0; r < table_rows(t); r++)
				n += strcmp(table_cell(t, r, col),
					    AUDIT_NOT_REACHED) == 0 &&
				     strcmp(table_cell(t, r, rcol), reasons[i]) == 0;
			if (n) {
				sbuf_addf(out, "%s %zu %s", sep, n, reasons[i]);
				sep = ",";
			}
		}
	}
	add_response_totals_text(t, out);
	sbuf_addch(out, '\n');
}

static void add_totals_json(const struct table *t, struct json *js)
{
	size_t col = column_of(t, "state");
	size_t unreached = count_state(t, col, AUDIT_NOT_REACHED);

	json_key(js, "totals");
	json_object_begin(js);
	json_kv_int(js, "deliveries", (long long)(table_rows(t) - unreached));
	for (size_t s = 0; s < NSTATES; s++) {
		long long n = (long long)count_state(t, col,
						     states_best_first[s]);

		if (n)
			json_kv_int(js, states_best_first[s], n);
	}
	if (unreached)
		json_kv_int(js, "not_reached", (long long)unreached);
	for (size_t i = 0; i < NRESPONSE_TOTALS; i++) {
		size_t n = count_set(t, column_of(t, response_totals[i].column));

		if (n)
			json_kv_int(js, response_totals[i].word, (long long)n);
	}
	json_object_end(js);
}

/* ------------------------------------------------------------------ */
/* Responses: acknowledgements, automatic answers, replies, complaints */

/* What came back, read once for a report: one sentence per response
 * ("UNESCO acknowledged receipt of stmt-2026 on 27 February 2026
 * (displayed), from registry@unesco.org") and the same as a JSON array. */
struct responses {
	struct sbuf text;
	struct sbuf json;
};

static void responses_release(struct responses *r)
{
	sbuf_release(&r->text);
	sbuf_release(&r->json);
}

/* "27 February 2026", in UTC as every report date is. */
static void add_long_date(struct sbuf *out, int64_t t)
{
	static const char *const months[] = {
		"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December",
	};
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm)) {
		sbuf_addstr(out, "an unknown date");
		return;
	}
	sbuf_addf(out, "%d %s %d", tm.tm_mday, months[tm.tm_mon],
		  tm.tm_year + 1900);
}

static void response_sentence(sqlite3_stmt *st, struct sbuf *out)
{
	const char *who = db_column_text(st, 0);
	const char *campaign = db_column_text(st, 1);
	const char *kind = db_column_text(st, 2);
	const char *disp = sqlite3_column_type(st, 3) == SQLITE_NULL
				   ? NULL
				   : db_column_text(st, 3);
	const char *sender = sqlite3_column_type(st, 4) == SQLITE_NULL
				     ? NULL
				     : db_column_text(st, 4);

	sbuf_addf(out, "  %s ", who);
	if (strcmp(kind, "acknowledged") == 0)
		sbuf_addf(out, "acknowledged receipt of %s on ", campaign);
	else if (strcmp(kind, "auto_replied") == 0)
		sbuf_addf(out, "answered %s automatically on ", campaign);
	else if (strcmp(kind, "replied") == 0)
		sbuf_addf(out, "replied to %s on ", campaign);
	else
		sbuf_addf(out, "complained about %s (a feedback report) on ",
			  campaign);
	add_long_date(out, sqlite3_column_int64(st, 5));
	/* the disposition and the sender are the message's words */
	if (disp) {
		sbuf_addstr(out, " (");
		utf8_escape_terminal(out, disp);
		sbuf_addch(out, ')');
	}
	sbuf_addstr(out, ", from ");
	utf8_escape_terminal(out, sender ? sender : "an unknown sender");
	sbuf_addf(out, " (delivery %lld to %s)\n",
		  (long long)sqlite3_column_int64(st, 6), db_column_text(st, 7));
}

static int read_responses(struct db *db, int index, const char *name,
			  int64_t id, struct responses *out, struct error *err)
{
	sqlite3_stmt *st;
	struct json js;
	int rc = db_prepare(db, &audit_statements, index, &st, err);

	if (rc)
		return rc;
	if (name)
		db_bind_text(st, 1, name);
	else
		sqlite3_bind_int64(st, 1, id);
	json_init(&js, &out->json, false);
	json_array_begin(&js);
	while ((rc = db_step(db, st, err)) == 1) {
		char at[32];

		clock_format_utc(sqlite3_column_int64(st, 5), at, sizeof(at));
		response_sentence(st, &out->text);
		json_object_begin(&js);
		json_kv_string(&js, "body", db_column_text(st, 0));
		json_kv_string(&js, "campaign", db_column_text(st, 1));
		json_kv_string(&js, "response", db_column_text(st, 2));
		json_kv_string(&js, "disposition",
			       sqlite3_column_type(st, 3) == SQLITE_NULL
				       ? NULL
				       : db_column_text(st, 3));
		json_kv_string(&js, "sender",
			       sqlite3_column_type(st, 4) == SQLITE_NULL
				       ? NULL
				       : db_column_text(st, 4));
		json_kv_string(&js, "responded_at", at);
		json_kv_int(&js, "delivery_id", sqlite3_column_int64(st, 6));
		json_kv_string(&js, "email", db_column_text(st, 7));
		json_object_end(&js);
	}
	json_array_end(&js);
	return rc;
}

/* The text report's closing section, when anything came back. */
static void add_responses_text(const struct responses *r, struct sbuf *out)
{
	if (r->text.len)
		sbuf_addf(out, "\nresponses:\n%s", r->text.buf);
}

/* ------------------------------------------------------------------ */
/* audit campaign NAME                                                 */

struct campaign_info {
	char *name, *state, *send_at, *template, *sha256, *list, *started,
		*finished;
	struct sbuf signoff;      /* text: one line per approval event */
	struct sbuf signoff_json; /* the same as a JSON array */
};

static void campaign_info_release(struct campaign_info *c)
{
	free(c->name);
	free(c->state);
	free(c->send_at);
	free(c->template);
	free(c->sha256);
	free(c->list);
	free(c->started);
	free(c->finished);
	sbuf_release(&c->signoff);
	sbuf_release(&c->signoff_json);
}

/* One approval event as a line and a JSON object. */
static void signoff_row(sqlite3_stmt *st, struct sbuf *text, struct json *js)
{
	const char *kind = db_column_text(st, 0);
	const char *actor = sqlite3_column_type(st, 1) == SQLITE_NULL
				    ? "the system"
				    : db_column_text(st, 1);

	json_object_begin(js);
	json_kv_string(js, "event", kind);
	json_kv_string(js, "actor", actor);
	json_kv_string(js, "at", db_column_text(st, 2));
	if (strcmp(kind, "campaign.approved") == 0) {
		sbuf_addf(text, "approved by %s at %s: template %s v%lld "
			  "(sha256 %s), %lld recipients (sha256 %s), %lld "
			  "bodies not reached\n", actor, db_column_text(st, 2),
			  db_column_text(st, 3),
			  (long long)sqlite3_column_int64(st, 4),
			  db_column_text(st, 5),
			  (long long)sqlite3_column_int64(st, 6),
			  db_column_text(st, 7),
			  (long long)sqlite3_column_int64(st, 8));
		json_kv_string(js, "template", db_column_text(st, 3));
		json_kv_int(js, "version", sqlite3_column_int64(st, 4));
		json_kv_string(js, "sha256", db_column_text(st, 5));
		json_kv_int(js, "recipients", sqlite3_column_int64(st, 6));
		json_kv_string(js, "recipients_sha256", db_column_text(st, 7));
		json_kv_int(js, "unreached", sqlite3_column_int64(st, 8));
	} else {
		sbuf_addf(text, "%s by %s at %s: %s\n",
			  strcmp(kind, "campaign.rejected") == 0
				  ? "rejected"
				  : "approval voided",
			  actor, db_column_text(st, 2), db_column_text(st, 9));
		json_kv_string(js, "reason", db_column_text(st, 9));
	}
	json_object_end(js);
}

static int read_signoff(struct db *db, const char *name,
			struct campaign_info *c, struct error *err)
{
	sqlite3_stmt *st;
	struct json js;
	int rc = db_prepare(db, &audit_statements, ST_CAMPAIGN_SIGNOFF, &st,
			    err);

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	json_init(&js, &c->signoff_json, false);
	json_array_begin(&js);
	while ((rc = db_step(db, st, err)) == 1)
		signoff_row(st, &c->signoff, &js);
	json_array_end(&js);
	return rc;
}

static int read_campaign(struct db *db, const char *name,
			 struct campaign_info *c, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &audit_statements, ST_CAMPAIGN, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(db, st, err);
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no campaign named '%s'",
				 name);
	if (rc < 0)
		return rc;
	c->name = db_column_strdup(st, 0);
	c->state = db_column_strdup(st, 1);
	c->send_at = db_column_strdup(st, 2);
	c->template = xasprintf("%s v%lld", db_column_text(st, 3),
				(long long)sqlite3_column_int64(st, 4));
	c->sha256 = db_column_strdup(st, 5);
	c->list = db_column_strdup(st, 6);
	c->started = db_column_strdup(st, 7);
	c->finished = db_column_strdup(st, 8);
	sqlite3_reset(st);
	return read_signoff(db, name, c, err);
}

static const char *const campaign_columns[] = {
	"body", "body_name", "kind", "email", "contact", "state", "sent_at",
	"reply_code", "reply_enhanced", "reply_text", "queue_id", "reason",
	"attempts", "delivery_id", "acknowledged_at", "disposition",
	"auto_replied_at", "replied_at", "complained_at",
	"language", "sha256", /* of what was sent (issue 21) */
};

static void campaign_json(const struct campaign_info *c,
			  const struct table *t, const struct responses *resp,
			  struct sbuf *out)
{
	struct json js;

	json_init(&js, out, true);
	json_object_begin(&js);
	json_key(&js, "campaign");
	json_object_begin(&js);
	json_kv_string(&js, "name", c->name);
	json_kv_string(&js, "state", c->state);
	json_kv_string(&js, "send_at", c->send_at);
	json_kv_string(&js, "started_at", c->started);
	json_kv_string(&js, "finished_at", c->finished);
	json_kv_string(&js, "template", c->template);
	json_kv_string(&js, "template_sha256", c->sha256);
	json_kv_string(&js, "list", c->list);
	json_key(&js, "sign_off");
	json_raw(&js, c->signoff_json.buf);
	json_object_end(&js);
	add_totals_json(t, &js);
	json_key(&js, "deliveries");
	table_format_json(t, &js);
	json_key(&js, "responses");
	json_raw(&js, resp->json.buf);
	json_object_end(&js); /* pretty output ends with a newline */
}

static void campaign_output(const struct campaign_info *c,
			    const struct table *t,
			    const struct audit_events *evs,
			    const struct responses *resp,
			    enum audit_format fmt, struct sbuf *out)
{
	struct sbuf sub = SBUF_INIT;

	switch (fmt) {
	case AUDIT_FORMAT_CSV:
		table_format_csv(t, out);
		break;
	case AUDIT_FORMAT_JSON:
		campaign_json(c, t, resp, out);
		break;
	case AUDIT_FORMAT_HTML:
		sbuf_addf(&sub, "template %s (sha256 %s), list %s, send at %s, "
			  "state %s", c->template, c->sha256,
			  c->list ? c->list : "-", c->send_at, c->state);
		/* who signed it off, as the text report says it, line by line
		 * joined: the page escapes it */
		for (const char *p = c->signoff.buf; *p; p++) {
			if (p == c->signoff.buf)
				sbuf_addstr(&sub, ". ");
			if (*p != '\n')
				sbuf_addch(&sub, *p);
			else if (p[1])
				sbuf_addstr(&sub, "; ");
		}
		audit_html_deliveries(c->name, sub.buf, t, evs, resp->text.buf,
				      out);
		break;
	default:
		sbuf_addf(out, "campaign %s: template %s (sha256 %s), list %s, "
			  "send at %s, state %s\n%s", c->name, c->template,
			  c->sha256, c->list ? c->list : "-", c->send_at,
			  c->state, c->signoff.buf);
		if (strcmp(c->state, "missed") == 0)
			sbuf_addstr(out, "missed: its send time passed before it "
					 "was scheduled; nothing was sent\n");
		sbuf_addch(out, '\n');
		table_format_text(t, out);
		sbuf_addch(out, '\n');
		add_totals_text(t, out);
		add_responses_text(resp, out);
	}
	sbuf_release(&sub);
}

int audit_report_campaign(struct db *db, const char *name,
			  enum audit_format fmt, struct sbuf *out,
			  struct error *err)
{
	struct campaign_info c = {.signoff = SBUF_INIT,
				  .signoff_json = SBUF_INIT};
	struct responses resp = {SBUF_INIT, SBUF_INIT};
	struct audit_events evs = {0};
	struct table *t = table_new(sizeof(campaign_columns) /
					    sizeof(campaign_columns[0]),
				    campaign_columns);
	sqlite3_stmt *st;
	int rc = read_campaign(db, name, &c, err);

	if (rc)
		goto out;
	rc = db_prepare(db, &audit_statements, ST_CAMPAIGN_DELIVERIES, &st, err);
	if (rc)
		goto out;
	db_bind_text(st, 1, name);
	rc = fill_table(db, st, t, err);
	if (!rc)
		rc = read_responses(db, ST_CAMPAIGN_RESPONSES, name, 0, &resp,
				    err);
	if (rc || fmt != AUDIT_FORMAT_HTML)
		goto out;
	rc = db_prepare(db, &audit_statements, ST_CAMPAIGN_EVENTS, &st, err);
	if (rc)
		goto out;
	db_bind_text(st, 1, name);
	rc = read_events(db, st, &evs, err);
out:
	if (!rc)
		campaign_output(&c, t, &evs, &resp, fmt, out);
	responses_release(&resp);
	campaign_info_release(&c);
	events_release(&evs);
	table_free(t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* audit body ACRONYM                                                  */

struct body_info {
	int64_t id;
	char *acronym, *name, *kind, *country, *removed;
};

static void body_info_release(struct body_info *b)
{
	free(b->acronym);
	free(b->name);
	free(b->kind);
	free(b->country);
	free(b->removed);
}

/* A live body of that acronym, else the newest removed one: old audits
 * still resolve after a body leaves the registry. Bodies without an
 * acronym are found by their name. */
static int read_body(struct db *db, const char *acronym, struct body_info *b,
		     struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &audit_statements, ST_BODY, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, acronym);
	rc = db_step(db, st, err);
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no body with acronym or "
				 "name '%s'", acronym);
	if (rc < 0)
		return rc;
	b->id = sqlite3_column_int64(st, 0);
	b->acronym = db_column_strdup(st, 1);
	b->name = db_column_strdup(st, 2);
	b->kind = db_column_strdup(st, 3);
	b->country = db_column_strdup(st, 4);
	b->removed = db_column_strdup(st, 5);
	sqlite3_reset(st);
	return 0;
}

static const char *const body_columns[] = {
	"year", "campaign", "template", "send_at", "email", "state", "sent_at",
	"reply_code", "reply_enhanced", "reply_text", "queue_id", "reason",
	"delivery_id", "acknowledged_at", "disposition", "auto_replied_at",
	"replied_at", "complained_at",
	"language", "sha256", /* of what was sent, as campaign_columns */
};

static void body_heading(const struct body_info *b, struct sbuf *out)
{
	sbuf_addstr(out, b->name);
	if (b->acronym)
		sbuf_addf(out, " (%s)", b->acronym);
	sbuf_addf(out, ", %s", b->kind);
	if (b->country)
		sbuf_addf(out, ", %s", b->country);
	if (b->removed)
		sbuf_addf(out, ", removed from the registry %s", b->removed);
}

static void body_json(const struct body_info *b, const struct table *t,
		      const struct responses *resp, struct sbuf *out)
{
	struct json js;

	json_init(&js, out, true);
	json_object_begin(&js);
	json_key(&js, "body");
	json_object_begin(&js);
	json_kv_string(&js, "acronym", b->acronym);
	json_kv_string(&js, "name", b->name);
	json_kv_string(&js, "kind", b->kind);
	json_kv_string(&js, "country", b->country);
	json_kv_string(&js, "removed_at", b->removed);
	json_object_end(&js);
	add_totals_json(t, &js);
	json_key(&js, "deliveries");
	table_format_json(t, &js);
	json_key(&js, "responses");
	json_raw(&js, resp->json.buf);
	json_object_end(&js); /* pretty output ends with a newline */
}

static void body_output(const struct body_info *b, const struct table *t,
			const struct audit_events *evs,
			const struct responses *resp, enum audit_format fmt,
			struct sbuf *out)
{
	struct sbuf head = SBUF_INIT;

	body_heading(b, &head);
	switch (fmt) {
	case AUDIT_FORMAT_CSV:
		table_format_csv(t, out);
		break;
	case AUDIT_FORMAT_JSON:
		body_json(b, t, resp, out);
		break;
	case AUDIT_FORMAT_HTML:
		audit_html_deliveries(b->acronym ? b->acronym : b->name,
				      head.buf, t, evs, resp->text.buf, out);
		break;
	default:
		sbuf_addf(out, "%s\n\n", head.buf);
		table_format_text(t, out);
		sbuf_addch(out, '\n');
		add_totals_text(t, out);
		add_responses_text(resp, out);
	}
	sbuf_release(&head);
}

int audit_report_body(struct db *db, const char *acronym,
		      enum audit_format fmt, struct sbuf *out,
		      struct error *err)
{
	struct body_info b = {0};
	struct responses resp = {SBUF_INIT, SBUF_INIT};
	struct audit_events evs = {0};
	struct table *t = table_new(sizeof(body_columns) /
					    sizeof(body_columns[0]),
				    body_columns);
	sqlite3_stmt *st;
	int rc = read_body(db, acronym, &b, err);

	if (rc)
		goto out;
	rc = db_prepare(db, &audit_statements, ST_BODY_DELIVERIES, &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, b.id);
	rc = fill_table(db, st, t, err);
	if (!rc)
		rc = read_responses(db, ST_BODY_RESPONSES, NULL, b.id, &resp,
				    err);
	if (rc || fmt != AUDIT_FORMAT_HTML)
		goto out;
	rc = db_prepare(db, &audit_statements, ST_BODY_EVENTS, &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, b.id);
	rc = read_events(db, st, &evs, err);
out:
	if (!rc)
		body_output(&b, t, &evs, &resp, fmt, out);
	responses_release(&resp);
	body_info_release(&b);
	events_release(&evs);
	table_free(t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* audit matrix                                                        */

static void matrix_release(struct audit_matrix *m)
{
	for (size_t i = 0; i < m->ncampaigns; i++) {
		free(m->campaigns[i].name);
		free(m->campaigns[i].send_at);
		free(m->campaigns[i].state);
	}
	for (size_t i = 0; i < m->nbodies; i++) {
		free(m->bodies[i].acronym);
		free(m->bodies[i].name);
		free(m->bodies[i].kind);
		free(m->bodies[i].country);
	}
	for (size_t i = 0; m->unreached && i < m->nbodies * m->ncampaigns; i++)
		free(m->unreached[i]);
	free(m->unreached);
	free(m->campaigns);
	free(m->bodies);
	free(m->best);
	free(m->counts);
	free(m->responses);
	free(m->hidden);
	free(m->delivery_cell);
	table_free(m->deliveries);
}

static int read_matrix_campaigns(struct db *db, int since,
				 struct audit_matrix *m, struct error *err)
{
	size_t alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &audit_statements, ST_MATRIX_CAMPAIGNS, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, since);
	while ((rc = db_step(db, st, err)) == 1) {
		struct audit_matrix_campaign *c;

		xgrow(&m->campaigns, sizeof(*c), m->ncampaigns + 1, &alloc);
		c = &m->campaigns[m->ncampaigns++];
		c->id = sqlite3_column_int64(st, 0);
		c->name = db_column_strdup(st, 1);
		c->send_at = db_column_strdup(st, 2);
		c->state = db_column_strdup(st, 3);
		c->year = sqlite3_column_int(st, 4);
	}
	return rc;
}

static int read_matrix_bodies(struct db *db, int since, const char *lang,
			      struct audit_matrix *m, struct error *err)
{
	size_t alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &audit_statements, ST_MATRIX_BODIES, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, since);
	db_bind_text(st, 2, lang);
	while ((rc = db_step(db, st, err)) == 1) {
		struct audit_matrix_body *b;

		xgrow(&m->bodies, sizeof(*b), m->nbodies + 1, &alloc);
		b = &m->bodies[m->nbodies++];
		b->id = sqlite3_column_int64(st, 0);
		b->acronym = db_column_strdup(st, 1);
		b->name = db_column_strdup(st, 2);
		b->kind = db_column_strdup(st, 3);
		b->country = db_column_strdup(st, 4);
	}
	return rc;
}

/* An id and the index of its row in the matrix, for bsearch. */
struct slot {
	int64_t id;
	size_t index;
};

static int cmp_slot(const void *a, const void *b)
{
	int64_t x = ((const struct slot *)a)->id;
	int64_t y = ((const struct slot *)b)->id;

	return (x > y) - (x < y);
}

/* Index of the row with id in sorted slots; SIZE_MAX if none. */
static size_t slot_find(const struct slot *slots, size_t n, int64_t id)
{
	struct slot key = {.id = id};
	const struct slot *s = bsearch(&key, slots, n, sizeof(*slots), cmp_slot);

	return s ? s->index : SIZE_MAX;
}

static struct slot *campaign_slots(const struct audit_matrix *m)
{
	struct slot *v = xcalloc(m->ncampaigns + 1, sizeof(*v));

	for (size_t i = 0; i < m->ncampaigns; i++)
		v[i] = (struct slot){m->campaigns[i].id, i};
	qsort(v, m->ncampaigns, sizeof(*v), cmp_slot);
	return v;
}

static struct slot *body_slots(const struct audit_matrix *m)
{
	struct slot *v = xcalloc(m->nbodies + 1, sizeof(*v));

	for (size_t i = 0; i < m->nbodies; i++)
		v[i] = (struct slot){m->bodies[i].id, i};
	qsort(v, m->nbodies, sizeof(*v), cmp_slot);
	return v;
}

/* Bodies and campaigns are listed in display order; these find them by
 * id in sorted copies. */
struct matrix_index {
	struct slot *campaigns, *bodies;
};

/* The cell of (campaign id, body id); SIZE_MAX if outside the matrix,
 * which cannot happen: every query applies the same filter. */
static size_t matrix_cell(const struct audit_matrix *m,
			  const struct matrix_index *ix, int64_t campaign,
			  int64_t body)
{
	size_t c = slot_find(ix->campaigns, m->ncampaigns, campaign);
	size_t b = slot_find(ix->bodies, m->nbodies, body);

	if (b == SIZE_MAX || c == SIZE_MAX)
		return SIZE_MAX;
	return b * m->ncampaigns + c;
}

/* Counts per cell and state, and the best state of each cell, from one
 * aggregate query: the matrix never holds the deliveries themselves. */
static int read_matrix_counts(struct db *db, int since, const char *lang,
			      struct audit_matrix *m,
			      const struct matrix_index *ix, struct error *err)
{
	size_t ncells = m->nbodies * m->ncampaigns;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &audit_statements, ST_MATRIX_COUNTS, &st, err);

	if (rc)
		return rc;
	m->best = xcalloc(ncells + 1, sizeof(*m->best));
	m->counts = xcalloc(ncells * AUDIT_NSTATES + 1, sizeof(*m->counts));
	sqlite3_bind_int(st, 1, since);
	db_bind_text(st, 2, lang);
	while ((rc = db_step(db, st, err)) == 1) {
		size_t cell = matrix_cell(m, ix, sqlite3_column_int64(st, 0),
					  sqlite3_column_int64(st, 1));
		int rank = audit_state_rank(db_column_text(st, 2));
		unsigned n = (unsigned)sqlite3_column_int64(st, 3);

		if (cell == SIZE_MAX || !rank)
			continue;
		m->counts[cell * AUDIT_NSTATES + (size_t)(rank - 1)] += n;
		m->total += n;
		if (rank > m->best[cell])
			m->best[cell] = rank;
	}
	return rc;
}

/* The bodies each campaign could not reach, cell by cell. */
static int read_matrix_unreached(struct db *db, int since, const char *lang,
				 struct audit_matrix *m,
				 const struct matrix_index *ix,
				 struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &audit_statements, ST_MATRIX_UNREACHED, &st,
			    err);

	if (rc)
		return rc;
	m->unreached = xcalloc(m->nbodies * m->ncampaigns + 1,
			       sizeof(*m->unreached));
	sqlite3_bind_int(st, 1, since);
	db_bind_text(st, 2, lang);
	while ((rc = db_step(db, st, err)) == 1) {
		size_t cell = matrix_cell(m, ix, sqlite3_column_int64(st, 0),
					  sqlite3_column_int64(st, 1));

		if (cell != SIZE_MAX && !m->unreached[cell])
			m->unreached[cell] = db_column_strdup(st, 2);
	}
	return rc;
}

/* The responses of each cell, as AUDIT_MARK_* bits. */
static int read_matrix_responses(struct db *db, int since, const char *lang,
				 struct audit_matrix *m,
				 const struct matrix_index *ix,
				 struct error *err)
{
	static const char *const kinds[AUDIT_NMARKS] = {
		"acknowledged", "auto_replied", "replied", "complaint",
	};
	sqlite3_stmt *st;
	int rc = db_prepare(db, &audit_statements, ST_MATRIX_RESPONSES, &st,
			    err);

	if (rc)
		return rc;
	m->responses = xcalloc(m->nbodies * m->ncampaigns + 1,
			       sizeof(*m->responses));
	sqlite3_bind_int(st, 1, since);
	db_bind_text(st, 2, lang);
	while ((rc = db_step(db, st, err)) == 1) {
		size_t cell = matrix_cell(m, ix, sqlite3_column_int64(st, 0),
					  sqlite3_column_int64(st, 1));
		const char *kind = db_column_text(st, 2);

		for (int i = 0; cell != SIZE_MAX && i < AUDIT_NMARKS; i++)
			if (strcmp(kind, kinds[i]) == 0)
				m->responses[cell] |= (unsigned char)(1u << i);
	}
	return rc;
}

/* Marks the bodies the filter leaves out. */
static void filter_matrix(struct audit_matrix *m, enum audit_response f)
{
	static const unsigned char bit[] = {
		[AUDIT_RESPONSE_ACKNOWLEDGED] = AUDIT_MARK_ACKNOWLEDGED,
		[AUDIT_RESPONSE_AUTO_REPLIED] = AUDIT_MARK_AUTO_REPLIED,
		[AUDIT_RESPONSE_REPLIED] = AUDIT_MARK_REPLIED,
		[AUDIT_RESPONSE_COMPLAINED] = AUDIT_MARK_COMPLAINED,
		[AUDIT_RESPONSE_ANY] = 0xff,
		[AUDIT_RESPONSE_NONE] = 0xff,
	};

	m->hidden = xcalloc(m->nbodies + 1, sizeof(*m->hidden));
	for (size_t b = 0; f != AUDIT_RESPONSE_ALL && b < m->nbodies; b++) {
		bool has = false;

		for (size_t c = 0; c < m->ncampaigns; c++)
			has = has || (m->responses[b * m->ncampaigns + c] & bit[f]);
		m->hidden[b] = f == AUDIT_RESPONSE_NONE ? has : !has;
	}
}

const char *audit_matrix_cell_text(const struct audit_matrix *m, size_t cell)
{
	int best = m->best[cell];

	/* skipped (contacts not sendable) says less than why */
	if (m->unreached && m->unreached[cell] &&
	    best <= audit_state_rank("skipped"))
		return AUDIT_NOT_REACHED;
	return audit_state_by_rank(best);
}

const char *audit_matrix_campaign_mark(const struct audit_matrix_campaign *c)
{
	if (c->state && (strcmp(c->state, "cancelled") == 0 ||
			 strcmp(c->state, "missed") == 0))
		return c->state;
	return NULL;
}

static const char *const matrix_delivery_columns[] = {
	"campaign_id", "body_id", "state", "email", "sent_at", "reply_code",
	"reply_enhanced", "reply_text", "queue_id", "reason", "delivery_id",
};

/* Every delivery of the matrix and its cell, for the HTML details. */
static int read_matrix_deliveries(struct db *db, int since,
				  const char *lang, struct audit_matrix *m,
				  const struct matrix_index *ix,
				  struct error *err)
{
	sqlite3_stmt *st;
	size_t n;
	int rc = db_prepare(db, &audit_statements, ST_MATRIX_DELIVERIES, &st,
			    err);

	if (rc)
		return rc;
	m->deliveries = table_new(sizeof(matrix_delivery_columns) /
					  sizeof(matrix_delivery_columns[0]),
				  matrix_delivery_columns);
	sqlite3_bind_int(st, 1, since);
	db_bind_text(st, 2, lang);
	rc = fill_table(db, st, m->deliveries, err);
	n = table_rows(m->deliveries);
	m->delivery_cell = xcalloc(n + 1, sizeof(*m->delivery_cell));
	for (size_t r = 0; !rc && r < n; r++)
		m->delivery_cell[r] = matrix_cell(
			m, ix, atoll(table_cell(m->deliveries, r, 0)),
			atoll(table_cell(m->deliveries, r, 1)));
	return rc;
}

/* details: also read the deliveries, when there are few enough to put
 * in one file (AUDIT_MATRIX_DETAIL_MAX). */
static int read_matrix(struct db *db, int since, const char *lang,
		       bool details, struct audit_matrix *m, struct error *err)
{
	struct matrix_index ix = {NULL, NULL};
	int rc = read_matrix_campaigns(db, since, m, err);

	if (!rc)
		rc = read_matrix_bodies(db, since, lang, m, err);
	if (rc)
		return rc;
	ix.campaigns = campaign_slots(m);
	ix.bodies = body_slots(m);
	rc = read_matrix_counts(db, since, lang, m, &ix, err);
	if (!rc)
		rc = read_matrix_unreached(db, since, lang, m, &ix, err);
	if (!rc)
		rc = read_matrix_responses(db, since, lang, m, &ix, err);
	if (!rc && details && m->total <= AUDIT_MATRIX_DETAIL_MAX)
		rc = read_matrix_deliveries(db, since, lang, m, &ix, err);
	free(ix.campaigns);
	free(ix.bodies);
	return rc;
}

/* The matrix as a table: body, name, kind, then one column per campaign. */
static struct table *matrix_table(const struct audit_matrix *m)
{
	size_t ncols = 3 + m->ncampaigns;
	const char **headers = xcalloc(ncols, sizeof(*headers));

	char **marked = xcalloc(m->ncampaigns + 1, sizeof(*marked));
	struct table *t;

	headers[0] = "body";
	headers[1] = "name";
	headers[2] = "kind";
	/* a cancelled or missed campaign's column says so in its heading:
	 * its cells are empty because nothing was sent, not for want of a
	 * record */
	for (size_t c = 0; c < m->ncampaigns; c++) {
		const char *mark = audit_matrix_campaign_mark(&m->campaigns[c]);

		if (mark)
			marked[c] = xasprintf("%s (%s)", m->campaigns[c].name,
					      mark);
		headers[3 + c] = marked[c] ? marked[c] : m->campaigns[c].name;
	}
	t = table_new(ncols, headers);
	for (size_t c = 0; c < m->ncampaigns; c++)
		free(marked[c]);
	free(marked);
	free(headers);
	for (size_t b = 0; b < m->nbodies; b++) {
		if (m->hidden[b])
			continue;
		table_row(t);
		table_text(t, m->bodies[b].acronym);
		table_text(t, m->bodies[b].name);
		table_text(t, m->bodies[b].kind);
		for (size_t c = 0; c < m->ncampaigns; c++) {
			size_t cell = b * m->ncampaigns + c;
			const char *text = audit_matrix_cell_text(m, cell);
			struct sbuf sb = SBUF_INIT;

			if (!text || !m->responses[cell]) {
				table_text(t, text);
				continue;
			}
			sbuf_addstr(&sb, text);
			for (int i = 0; i < AUDIT_NMARKS; i++)
				if (m->responses[cell] & (1u << i))
					sbuf_addf(&sb, " %s", mark_texts[i]);
			table_text(t, sb.buf);
			sbuf_release(&sb);
		}
	}
	return t;
}

/* What the markers mean, under the text and CSV-less table, when any
 * cell shows one. */
static void add_marks_legend(const struct audit_matrix *m, struct sbuf *out)
{
	for (size_t i = 0; i < m->nbodies * m->ncampaigns; i++) {
		if (m->responses[i] && !m->hidden[i / m->ncampaigns]) {
			sbuf_addstr(out, "\n+ack: acknowledged (a read or "
					 "disposition notification); +auto: "
					 "answered automatically; +replied: a "
					 "person replied; +complaint: reported "
					 "as unwanted\n");
			return;
		}
	}
}

/* "responses": {campaign: ["acknowledged", ...]} for a body anything
 * came back from; nothing otherwise. */
static void add_responses_json(const struct audit_matrix *m, size_t b,
			       struct json *js)
{
	bool any = false;

	for (size_t c = 0; c < m->ncampaigns; c++) {
		unsigned bits = m->responses[b * m->ncampaigns + c];

		if (!bits)
			continue;
		if (!any) {
			json_key(js, "responses");
			json_object_begin(js);
			any = true;
		}
		json_key(js, m->campaigns[c].name);
		json_array_begin(js);
		for (int i = 0; i < AUDIT_NMARKS; i++)
			if (bits & (1u << i))
				json_string(js, mark_names[i]);
		json_array_end(js);
	}
	if (any)
		json_object_end(js);
}

/* "not_reached": {campaign: reason}, for a body some campaign could not
 * reach; nothing otherwise. */
static void add_unreached_json(const struct audit_matrix *m, size_t b,
			       struct json *js)
{
	bool any = false;

	for (size_t c = 0; m->unreached && c < m->ncampaigns; c++) {
		const char *why = m->unreached[b * m->ncampaigns + c];

		if (!why)
			continue;
		if (!any) {
			json_key(js, "not_reached");
			json_object_begin(js);
			any = true;
		}
		json_kv_string(js, m->campaigns[c].name, why);
	}
	if (any)
		json_object_end(js);
}

static void matrix_json(const struct audit_matrix *m, struct sbuf *out)
{
	struct json js;

	json_init(&js, out, true);
	json_object_begin(&js);
	json_key(&js, "campaigns");
	json_array_begin(&js);
	for (size_t c = 0; c < m->ncampaigns; c++) {
		json_object_begin(&js);
		json_kv_string(&js, "name", m->campaigns[c].name);
		json_kv_int(&js, "year", m->campaigns[c].year);
		json_kv_string(&js, "send_at", m->campaigns[c].send_at);
		json_kv_string(&js, "state", m->campaigns[c].state);
		json_object_end(&js);
	}
	json_array_end(&js);
	json_key(&js, "bodies");
	json_array_begin(&js);
	for (size_t b = 0; b < m->nbodies; b++) {
		if (m->hidden[b])
			continue;
		json_object_begin(&js);
		json_kv_string(&js, "acronym", m->bodies[b].acronym);
		json_kv_string(&js, "name", m->bodies[b].name);
		json_kv_string(&js, "kind", m->bodies[b].kind);
		json_kv_string(&js, "country", m->bodies[b].country);
		json_key(&js, "cells"); /* campaign name -> best state */
		json_object_begin(&js);
		for (size_t c = 0; c < m->ncampaigns; c++) {
			const char *text =
				audit_matrix_cell_text(m, b * m->ncampaigns + c);

			if (text)
				json_kv_string(&js, m->campaigns[c].name, text);
		}
		json_object_end(&js);
		add_unreached_json(m, b, &js);
		add_responses_json(m, b, &js);
		json_object_end(&js);
	}
	json_array_end(&js);
	json_object_end(&js); /* pretty output ends with a newline */
}

int audit_report_matrix(struct db *db, int since_year,
			enum audit_response filter, enum audit_format fmt,
			struct sbuf *out, struct error *err)
{
	return audit_report_matrix_lang(db, since_year, NULL, filter, fmt, out,
					err);
}

int audit_report_matrix_lang(struct db *db, int since_year, const char *lang,
			     enum audit_response filter, enum audit_format fmt,
			     struct sbuf *out, struct error *err)
{
	struct audit_matrix m = {0};
	struct table *t = NULL;
	char title[128];
	int rc = read_matrix(db, since_year, lang, fmt == AUDIT_FORMAT_HTML,
			     &m, err);

	if (rc)
		goto out;
	filter_matrix(&m, filter);
	if (fmt == AUDIT_FORMAT_JSON) {
		matrix_json(&m, out);
	} else if (fmt == AUDIT_FORMAT_HTML) {
		if (since_year)
			snprintf(title, sizeof(title),
				 "Statements by body since %d", since_year);
		else
			snprintf(title, sizeof(title), "Statements by body");
		if (lang)
			snprintf(title + strlen(title),
				 sizeof(title) - strlen(title), " (sent in %s)",
				 lang);
		audit_html_matrix(title, &m, out);
	} else {
		t = matrix_table(&m);
		if (fmt == AUDIT_FORMAT_CSV) {
			table_format_csv(t, out);
		} else {
			table_format_text(t, out);
			add_marks_legend(&m, out);
		}
	}
out:
	table_free(t);
	matrix_release(&m);
	return rc;
}
