/*
 * The delivery state machine (queue.h). One module although it passes a
 * thousand lines: it is the one writer of the deliveries table, and each
 * transition (claim, check, record, unclaim, cancel, report, recover) is
 * a statement and an event that must agree with the others on what each
 * state means.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/queue.h"
#include "chancery/log.h"
#include "chancery/streak.h"
#include "chancery/xalloc.h"

enum {
	ST_CLAIM,
	ST_CLAIM_IDS,
	ST_RECORD,
	ST_UNCLAIM,
	ST_LEASES_OUT,
	ST_RECOVER,
	ST_DEPTH,
	ST_DUE_COUNT,
	ST_NEXT_DUE,
	ST_CHECK,
	ST_CAMPAIGN_STATE,
	ST_CANCELLABLE,
	ST_CANCEL,
	ST_BOUNCED,
	ST_DELIVERED,
	ST_ADD,
	ST_LAST_ID,
	ST_ADD_FROZEN,
	ST_ADDED,
	ST_RECORD_RELAY,
	ST_OUTAGE_EXTEND,
	ST_OUTAGE_OVERDUE,
	ST_OUTAGE_EXPIRE,
	ST_ADD_FROZEN_MISSING,
	ST_HAS_ANY,
	ST_WITHDRAWABLE,
	ST_WITHDRAW,
	ST_REDUE,
	ST_DUE_PROBE,
	ST__COUNT
};

/*
 * A pending delivery is due from its next_attempt_at (NULL: at once): a
 * scheduled campaign's deliveries, queued days before, wait under their
 * send time, so the claim's walk of deliveries_due never reaches them
 * (walking past a large scheduled campaign's rows on every claim would
 * cost a scan of them per batch).
 *
 * "deliveries d CROSS JOIN campaigns c" makes SQLite drive the claim from
 * the deliveries_due index (state, next_attempt_at) rather than from the
 * running campaigns: otherwise every claim would walk all the deliveries
 * of a large campaign, sent ones included, and a campaign of a million
 * rows would cost quadratic time.
 *
 * The claim is one UPDATE for the whole batch. Each run of a statement
 * that sets deliveries.state opens an in-memory index of the ten strings
 * of the schema's CHECK (state IN (...)), and RETURNING opens an
 * in-memory table: with one statement per delivery the claim cost 176k
 * instructions a delivery, with one per batch 104k (callgrind).
 */
static const char *const queue_sql[ST__COUNT] = {
	[ST_CLAIM] =
		"UPDATE deliveries SET state = 'sending', "
		"attempts = attempts + 1, lease_until = ?3, lease_owner = ?4, "
		"expires_at = coalesce(expires_at, created_at + ?5), "
		"next_attempt_at = NULL, updated_at = ?1 "
		"WHERE id IN ("
		"SELECT d.id FROM deliveries d CROSS JOIN campaigns c "
		"ON c.id = d.campaign_id "
		"WHERE d.state = 'pending' AND d.next_attempt_at IS NULL "
		"AND c.state = 'running' "
		"UNION ALL "
		"SELECT d.id FROM deliveries d CROSS JOIN campaigns c "
		"ON c.id = d.campaign_id "
		"WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 "
		"AND c.state = 'running' "
		"UNION ALL "
		"SELECT d.id FROM deliveries d CROSS JOIN campaigns c "
		"ON c.id = d.campaign_id "
		"WHERE d.state = 'deferred' AND d.next_attempt_at <= ?6 "
		"AND c.state = 'running' "
		"LIMIT ?2) "
		"RETURNING id, campaign_id, contact_id, body_id, email, envid, "
		"message_id, attempts, expires_at, "
		/* ST_CHECK's columns for the claimed row (queue_check), so
		 * that no statement per delivery asks them again: the
		 * campaign is running, this statement has just seen it; the
		 * contact's look-up, one for three columns, is read by
		 * claim_verdict */
		"(SELECT (k.removed_at IS NOT NULL) || k.status || ' ' || "
		"coalesce(k.status_reason, '') FROM contacts k "
		"WHERE k.id = deliveries.contact_id), "
		"(SELECT b.removed_at IS NOT NULL AND b.merged_into IS NULL "
		"FROM bodies b WHERE b.id = deliveries.body_id)",
	/* Campaign start gives every queued delivery its ids; this is for
	 * rows made otherwise. Apart from the claim, whose SET would
	 * rewrite both index entries of every row even when they stay. */
	[ST_CLAIM_IDS] =
		"UPDATE deliveries SET envid = coalesce(envid, 'chancery-' || id "
		"|| '-' || lower(hex(randomblob(8)))), "
		"message_id = coalesce(message_id, 'chancery.' || campaign_id || "
		"'.' || id || '.' || lower(hex(randomblob(8))) || '@' || ?2) "
		"WHERE id = ?1 RETURNING envid, message_id",
	[ST_RECORD] =
		"UPDATE deliveries SET state = ?4, reply_code = ?5, "
		"reply_enhanced = ?6, reply_text = ?7, "
		"queue_id = coalesce(?8, queue_id), sent_at = ?9, "
		"next_attempt_at = ?10, reason = ?11, lease_until = NULL, "
		"updated_at = ?12, language = coalesce(?13, language), "
		"sha256 = coalesce(?14, sha256) "
		"WHERE id = ?1 AND lease_owner = ?2 AND attempts = ?3 "
		"AND state IN ('sending', 'pending')",
	[ST_UNCLAIM] =
		"UPDATE deliveries SET state = ?5, attempts = attempts - 1, "
		"lease_until = NULL, next_attempt_at = NULL, "
		"reason = coalesce(?6, reason), updated_at = ?4 "
		"WHERE id = ?1 AND lease_owner = ?2 AND attempts = ?3 "
		"AND state = 'sending'",
	[ST_LEASES_OUT] =
		"SELECT id, campaign_id, body_id, contact_id, lease_owner, "
		"lease_until, attempts, (SELECT state FROM campaigns c "
		"WHERE c.id = campaign_id) FROM deliveries "
		"WHERE state = 'sending' AND lease_until < ?1",
	[ST_RECOVER] =
		"UPDATE deliveries SET state = ?3, lease_until = NULL, "
		"reason = coalesce(?4, reason), updated_at = ?2 "
		"WHERE id = ?1 AND state = 'sending'",
	[ST_DEPTH] =
		"SELECT state, count(*) FROM deliveries "
		"WHERE state IN ('pending', 'sending', 'deferred') GROUP BY state",
	[ST_DUE_COUNT] =
		"SELECT (SELECT count(*) FROM deliveries d CROSS JOIN campaigns c "
		"ON c.id = d.campaign_id WHERE d.state = 'pending' "
		"AND d.next_attempt_at IS NULL AND c.state = 'running') + "
		"(SELECT count(*) FROM deliveries d CROSS JOIN campaigns c "
		"ON c.id = d.campaign_id WHERE d.state = 'pending' "
		"AND d.next_attempt_at <= ?1 AND c.state = 'running') + "
		"(SELECT count(*) FROM deliveries d CROSS JOIN campaigns c "
		"ON c.id = d.campaign_id WHERE d.state = 'deferred' "
		"AND d.next_attempt_at <= ?1 AND c.state = 'running')",
	[ST_NEXT_DUE] =
		"SELECT min(t) FROM ("
		"SELECT min(d.next_attempt_at) AS t FROM deliveries d "
		"CROSS JOIN campaigns c ON c.id = d.campaign_id "
		"WHERE d.state = 'deferred' AND d.next_attempt_at > ?1 "
		"AND c.state = 'running' "
		"UNION ALL "
		"SELECT min(lease_until) FROM deliveries WHERE state = 'sending')",
	/* Three primary-key look-ups: cheap enough to ask before every
	 * relay session, which is what makes a decision hold at once. A
	 * body merged into another (body merge) is not "removed" for the
	 * deliveries queued to it: its contacts moved and are still live,
	 * and the ones that did not move were removed themselves. */
	[ST_CHECK] =
		"SELECT (SELECT state FROM campaigns WHERE id = ?1), "
		"k.status, k.status_reason, k.removed_at IS NOT NULL, "
		"(SELECT removed_at IS NOT NULL AND merged_into IS NULL "
		"FROM bodies WHERE id = ?3) "
		"FROM contacts k WHERE k.id = ?2",
	[ST_CAMPAIGN_STATE] = "SELECT state FROM campaigns WHERE id = ?1",
	[ST_CANCELLABLE] =
		"SELECT id, contact_id, body_id, state FROM deliveries "
		"WHERE campaign_id = ?1 AND state IN ('pending', 'deferred') "
		"ORDER BY id",
	[ST_CANCEL] =
		"UPDATE deliveries SET state = 'cancelled', "
		"next_attempt_at = NULL, reason = 'campaign cancelled', "
		"updated_at = ?2 WHERE id = ?1 AND state IN ('pending', "
		"'deferred')",
	[ST_BOUNCED] = "UPDATE deliveries SET state = 'bounced', reason = ?2, "
		       "updated_at = ?3, bounce_class = ?4 WHERE id = ?1 "
		       "AND state IN ('sent', 'delivered')",
	/* ?2 (the reason) is not used: a delivered message keeps none. */
	[ST_DELIVERED] = "UPDATE deliveries SET state = 'delivered', "
			 "updated_at = ?3 WHERE id = ?1 AND state = 'sent'",
	[ST_ADD] =
		"INSERT OR IGNORE INTO deliveries (id, campaign_id, contact_id, "
		"body_id, email, state, next_attempt_at, expires_at, reason, "
		"created_at, updated_at, message_id, envid) VALUES (?10, ?1, ?2, "
		"?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?11, ?12)",
	/* The ledger's ids count too: a delivery withdrawn before its
	 * campaign started (queue_withdraw_campaign) is deleted, and its
	 * id must never name another delivery. Both are index look-ups. */
	[ST_LAST_ID] = "SELECT max(coalesce((SELECT max(id) FROM deliveries), "
		       "0), coalesce((SELECT max(delivery_id) FROM events "
		       "WHERE delivery_id IS NOT NULL), 0))",
	/* The recipient set an approval froze, queued in one statement
	 * for a campaign that has no delivery yet: ids ?2 + position (the
	 * frozen positions count up from 1 in list order, so the ids are
	 * new and the rows go in in rowid order), each Message-ID and
	 * ENVID with its own 64 random bits. No window function, no sort
	 * and no look-up per row: row_number() OVER made SQLite copy the
	 * whole set into a temporary table first. random() draws from the
	 * same generator as randomblob() (sqlite3_randomness, seeded by
	 * the OS); printf('%016x') formats it in one call where
	 * lower(hex(randomblob(8))) and four concatenations took five. */
#define ADD_FROZEN_SQL                                                        \
	"INSERT INTO deliveries (id, campaign_id, contact_id, body_id, "     \
	"email, state, next_attempt_at, expires_at, reason, created_at, "    \
	"updated_at, message_id, envid) "                                    \
	"SELECT ?2 + r.position, ?1, r.contact_id, r.body_id, r.email, "     \
	"CASE WHEN r.skip_reason IS NULL THEN 'pending' ELSE 'skipped' "     \
	"END, CASE WHEN r.skip_reason IS NULL THEN ?3 END, "                 \
	"CASE WHEN r.skip_reason IS NULL THEN ?4 END, r.skip_reason, "       \
	"?3, ?3, CASE WHEN r.skip_reason IS NULL THEN "                      \
	"printf('%d.%d.%016x@%s', ?1, ?2 + r.position, random(), ?5) END, "  \
	"CASE WHEN r.skip_reason IS NULL THEN "                              \
	"printf('chancery-%d-%016x', ?2 + r.position, random()) END "        \
	"FROM campaign_recipients r WHERE r.campaign_id = ?1 "
	[ST_ADD_FROZEN] = ADD_FROZEN_SQL,
	/* The same for a campaign that has some: pairs queued are left. */
	[ST_ADD_FROZEN_MISSING] =
		ADD_FROZEN_SQL "AND NOT EXISTS (SELECT 1 FROM deliveries d "
		"WHERE d.campaign_id = ?1 AND d.contact_id = r.contact_id)",
	/* The rows just added are the ones past ?2 (the caller holds the
	 * write transaction): a rowid range, no sort ("+campaign_id" keeps
	 * SQLite off the (campaign, contact) index and its temp B-tree). */
	[ST_ADDED] = "SELECT id, body_id, contact_id, email, message_id, reason "
		     "FROM deliveries WHERE id > ?2 AND +campaign_id = ?1 "
		     "ORDER BY id",
	/* A relay-level fault: deferred, the attempt taken back. */
	[ST_RECORD_RELAY] =
		"UPDATE deliveries SET state = 'deferred', "
		"attempts = attempts - 1, reply_code = ?4, reply_enhanced = ?5, "
		"reply_text = ?6, next_attempt_at = ?7, reason = ?8, "
		"lease_until = NULL, updated_at = ?7 "
		"WHERE id = ?1 AND lease_owner = ?2 AND attempts = ?3 "
		"AND state IN ('sending', 'pending')",
	/* The lifetime an outage did not spend, given back: up to the
	 * ceiling, never less than the row had. */
	[ST_OUTAGE_EXTEND] =
		"UPDATE deliveries SET expires_at = max(expires_at, "
		"min(expires_at + ?1, created_at + ?2)) "
		"WHERE state IN ('pending', 'deferred', 'sending') "
		"AND expires_at IS NOT NULL",
	[ST_OUTAGE_OVERDUE] =
		"SELECT id, campaign_id, body_id, contact_id, email, state "
		"FROM deliveries WHERE state IN ('pending', 'deferred') "
		"AND expires_at IS NOT NULL AND created_at + ?1 <= ?2 "
		"ORDER BY id LIMIT 1000",
	[ST_OUTAGE_EXPIRE] =
		"UPDATE deliveries SET state = 'expired', next_attempt_at = NULL, "
		"reason = ?3, updated_at = ?2 WHERE id = ?1 "
		"AND state IN ('pending', 'deferred')",
	[ST_HAS_ANY] = "SELECT EXISTS (SELECT 1 FROM deliveries "
		       "WHERE campaign_id = ?1)",
	/* In (campaign, contact) index order: no sort of the set. */
	[ST_WITHDRAWABLE] =
		"SELECT id, contact_id, body_id, state, attempts "
		"FROM deliveries WHERE campaign_id = ?1",
	[ST_WITHDRAW] = "DELETE FROM deliveries WHERE campaign_id = ?1 "
			"AND attempts = 0 AND state IN ('pending', 'skipped')",
	/* A campaign started after the time its deliveries were queued
	 * for: their lifetime counts from the start. created_at and
	 * expires_at are in no index. */
	[ST_REDUE] = "UPDATE deliveries SET created_at = ?2, "
		     "next_attempt_at = ?2, expires_at = ?3 "
		     "WHERE campaign_id = ?1 AND state = 'pending' "
		     "AND attempts = 0",
	/* "+state": by the campaign's rows, not every pending row. */
	[ST_DUE_PROBE] = "SELECT created_at, coalesce(expires_at, 0) "
			 "FROM deliveries WHERE campaign_id = ?1 "
			 "AND +state = 'pending' AND attempts = 0 LIMIT 1",
};

static const struct db_statements queue_statements = {"queue", queue_sql,
						      ST__COUNT};

static const char *const outcome_names[] = {
	[QUEUE_STALE] = "stale",
	[QUEUE_SENT] = "sent",
	[QUEUE_DEFERRED] = "deferred",
	[QUEUE_EXPIRED] = "expired",
	[QUEUE_FAILED] = "failed",
	[QUEUE_CANCELLED] = "cancelled",
	[QUEUE_SKIPPED] = "skipped",
	[QUEUE_HELD] = "held",
};

const char *queue_outcome_name(enum queue_outcome o)
{
	if ((int)o < 0 || o > QUEUE_HELD)
		return "?";
	return outcome_names[o];
}

void queue_batch_init(struct queue_batch *b)
{
	b->items = NULL;
	b->n = 0;
	b->alloc = 0;
}

void queue_item_release(struct queue_item *it)
{
	free(it->email);
	free(it->envid);
	free(it->message_id);
	it->email = it->envid = it->message_id = NULL;
}

void queue_batch_clear(struct queue_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		queue_item_release(&b->items[i]);
	b->n = 0;
}

void queue_batch_release(struct queue_batch *b)
{
	queue_batch_clear(b);
	free(b->items);
	queue_batch_init(b);
}

int64_t queue_backoff_ms(const struct conf_queue *q, int attempts)
{
	double delay = (double)q->retry_first_ms;

	/* Multiplying step by step stops at the cap, so a large attempt
	 * count never overflows. */
	for (int i = 1; i < attempts && delay < (double)q->retry_max_ms; i++)
		delay *= q->retry_factor;
	if (delay > (double)q->retry_max_ms)
		delay = (double)q->retry_max_ms;
	return (int64_t)llround(delay);
}

/* The domain of the sender address, for Message-IDs. */
static const char *address_domain(const char *address)
{
	const char *at = address ? strrchr(address, '@') : NULL;

	return at && at[1] ? at + 1 : "localhost";
}

static void attempted_data(struct ledger_entry *e, const struct queue_item *it,
			   const char *owner)
{
	ledger_entry_int(e, "attempt", it->attempts);
	ledger_entry_str(e, "to", it->email);
	ledger_entry_str(e, "owner", owner);
	ledger_entry_int(e, "lease_until", it->lease_until);
}

/* Gives a claimed item that has none its ENVID and Message-ID. */
static int claim_ids(struct db *db, const char *domain, struct queue_item *it,
		     struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_CLAIM_IDS, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, it->delivery_id);
	db_bind_text(st, 2, domain);
	rc = db_step(db, st, err);
	if (rc == 1) {
		free(it->envid);
		free(it->message_id);
		it->envid = db_column_strdup(st, 0);
		it->message_id = db_column_strdup(st, 1);
		sqlite3_reset(st);
		rc = 0;
	} else if (rc == 0) {
		rc = error_set(err, ERR_SOFTWARE, "delivery %lld vanished "
				    "while claimed", (long long)it->delivery_id);
	}
	return rc;
}

static void verdict_of(const char *campaign, const char *status,
		       const char *why, bool contact_removed,
		       bool body_removed, struct queue_check *out);

/*
 * What queue_check would say of a row ST_CLAIM returns: column 9 holds
 * the contact's removed flag, status and reason as "0active " (NULL when
 * there is no such contact; a status is one word), column 10 whether
 * its body is removed.
 */
static void claim_verdict(sqlite3_stmt *st, struct queue_check *out)
{
	const char *k = db_column_text(st, 9);
	char status[32];
	const char *why = k[0] ? strchr(k + 1, ' ') : NULL;

	if (sqlite3_column_type(st, 9) == SQLITE_NULL || !why ||
	    (size_t)(why - k - 1) >= sizeof(status)) {
		memset(out, 0, sizeof(*out));
		out->verdict = QUEUE_SKIP;
		snprintf(out->reason, sizeof(out->reason), "%s",
			 "contact no longer exists");
		return;
	}
	memcpy(status, k + 1, (size_t)(why - k - 1));
	status[why - k - 1] = '\0';
	verdict_of("running", status, why + 1, k[0] == '1',
		   sqlite3_column_int(st, 10), out);
}

/* Moves up to max due deliveries to sending, appending them to out, and
 * to checks (from 0, one per item appended) what queue_check would say
 * of each in this transaction. */
static int claim_rows(struct db *db, const struct conf_queue *q,
		      const char *domain, const char *owner, int64_t now,
		      int64_t due_by, int max, struct queue_batch *out,
		      struct queue_check **checks, size_t *achecks,
		      struct error *err)
{
	struct queue_item *it;
	size_t first = out->n;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_CLAIM, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, max);
	sqlite3_bind_int64(st, 3, now + q->lease_ms / 1000);
	db_bind_text(st, 4, owner);
	sqlite3_bind_int64(st, 5, q->lifetime_ms / 1000);
	sqlite3_bind_int64(st, 6, due_by);
	while ((rc = db_step(db, st, err)) == 1) {
		xgrow(&out->items, sizeof(*out->items), out->n + 1, &out->alloc);
		it = &out->items[out->n++];
		*it = (struct queue_item){
			.delivery_id = sqlite3_column_int64(st, 0),
			.campaign_id = sqlite3_column_int64(st, 1),
			.contact_id = sqlite3_column_int64(st, 2),
			.body_id = sqlite3_column_int64(st, 3),
			.email = db_column_strdup(st, 4),
			.envid = db_column_strdup(st, 5),
			.message_id = db_column_strdup(st, 6),
			.attempts = sqlite3_column_int(st, 7),
			.expires_at = sqlite3_column_int64(st, 8),
			.lease_until = now + q->lease_ms / 1000,
		};
		xgrow(checks, sizeof(**checks), out->n - first, achecks);
		claim_verdict(st, &(*checks)[out->n - first - 1]);
	}
	for (size_t i = first; !rc && i < out->n; i++)
		if (!out->items[i].envid || !out->items[i].message_id)
			rc = claim_ids(db, domain, &out->items[i], err);
	return rc;
}

/* One delivery.attempted event for each claimed item from first on. */
static int claim_events(struct db *db, const struct queue_batch *b,
			size_t first, const char *owner, struct error *err)
{
	struct ledger_entry e;
	int rc = 0;

	ledger_entry_init(&e, LEDGER_DELIVERY_ATTEMPTED, 0, 0, 0, 0);
	for (size_t i = first; !rc && i < b->n; i++) {
		const struct queue_item *it = &b->items[i];

		ledger_entry_reset(&e, LEDGER_DELIVERY_ATTEMPTED,
				   it->campaign_id, it->delivery_id,
				   it->body_id, it->contact_id);
		attempted_data(&e, it, owner);
		rc = ledger_entry_append(db, &e, NULL, err);
	}
	ledger_entry_release(&e);
	return rc;
}

/*
 * Takes out of the batch, from first on, every item whose contact or body
 * may no longer be sent to: each becomes skipped in the open transaction.
 * The claim's WHERE cannot look at contacts and bodies without walking
 * every due row of the campaign; its RETURNING asks, per claimed row,
 * the three primary-key look-ups queue_check would (checks[i - first]).
 */
static int claim_withdrawn(struct db *db, struct queue_batch *b, size_t first,
			   const struct queue_check *checks, const char *owner,
			   int64_t now, int *skipped, struct error *err)
{
	size_t kept = first;
	int rc = 0;

	for (size_t i = first; i < b->n; i++) {
		struct queue_item *it = &b->items[i];
		const struct queue_check *chk = &checks[i - first];

		if (!rc && chk->verdict == QUEUE_SKIP) {
			rc = queue_unclaim(db, it, owner, chk, now, NULL, err);
			(*skipped)++;
			queue_item_release(it);
			continue;
		}
		b->items[kept++] = *it;
	}
	b->n = kept;
	return rc;
}

int queue_claim(struct db *db, const struct conf_queue *q,
		const char *sender_address, const char *owner, int64_t now,
		int64_t due_by, int max, struct queue_batch *out, int *skipped,
		struct error *err)
{
	size_t first = out->n, achecks = 0;
	struct queue_check *checks = NULL;
	int n_skipped = 0;
	int rc;

	if (skipped)
		*skipped = 0;
	if (max <= 0)
		return 0;
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = claim_rows(db, q, address_domain(sender_address), owner, now,
			due_by, max, out, &checks, &achecks, err);
	if (!rc)
		rc = claim_withdrawn(db, out, first, checks, owner, now,
				     &n_skipped, err);
	free(checks);
	if (!rc)
		rc = claim_events(db, out, first, owner, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (rc) {
		/* Nothing was claimed: drop what this call appended. */
		for (size_t i = first; i < out->n; i++)
			queue_item_release(&out->items[i]);
		out->n = first;
		return rc;
	}
	if (skipped)
		*skipped = n_skipped;
	return 0;
}

/* The state of a campaign into buf ("" when there is no such campaign). */
static int campaign_state(struct db *db, int64_t campaign_id, char *buf,
			  size_t size, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_CAMPAIGN_STATE, &st,
			    err);

	buf[0] = '\0';
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, campaign_id);
	rc = db_step(db, st, err);
	if (rc == 1) {
		snprintf(buf, size, "%s", db_column_text(st, 0));
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

static bool is_cancelled(const char *campaign_state)
{
	return !campaign_state[0] || strcmp(campaign_state, "cancelled") == 0;
}

static void verdict(struct queue_check *out, enum queue_verdict v,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void verdict(struct queue_check *out, enum queue_verdict v,
		    const char *fmt, ...)
{
	va_list ap;

	out->verdict = v;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* The verdict from a campaign's state, a contact's status, why, whether
 * it is removed, whether its body is. */
static void verdict_of(const char *campaign, const char *status,
		       const char *why, bool contact_removed,
		       bool body_removed, struct queue_check *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = QUEUE_GO;
	if (is_cancelled(campaign))
		verdict(out, QUEUE_CANCEL, "campaign cancelled");
	else if (strcmp(campaign, "running") != 0)
		verdict(out, QUEUE_HOLD, "campaign %s", campaign);
	else if (body_removed)
		verdict(out, QUEUE_SKIP, "body removed");
	else if (contact_removed)
		verdict(out, QUEUE_SKIP, "contact removed");
	else if (strcmp(status, "active") != 0 && why[0])
		verdict(out, QUEUE_SKIP, "contact %s: %s", status, why);
	else if (strcmp(status, "active") != 0)
		verdict(out, QUEUE_SKIP, "contact %s", status);
}

/* The verdict of one ST_CHECK row: campaign, status, why, contact
 * removed, body removed. */
static void verdict_of_row(sqlite3_stmt *st, struct queue_check *out)
{
	verdict_of(db_column_text(st, 0), db_column_text(st, 1),
		   db_column_text(st, 2), sqlite3_column_int(st, 3),
		   sqlite3_column_int(st, 4), out);
}

int queue_check(struct db *db, const struct queue_item *item,
		struct queue_check *out, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_CHECK, &st, err);

	memset(out, 0, sizeof(*out));
	out->verdict = QUEUE_GO;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, item->campaign_id);
	sqlite3_bind_int64(st, 2, item->contact_id);
	sqlite3_bind_int64(st, 3, item->body_id);
	rc = db_step(db, st, err);
	if (rc == 1) {
		verdict_of_row(st, out);
		sqlite3_reset(st);
		rc = 0;
	} else if (rc == 0) {
		verdict(out, QUEUE_SKIP, "contact no longer exists");
	}
	return rc;
}

/* The new state, event and timestamps a result leads to. */
struct transition {
	enum queue_outcome outcome;
	const char *state;
	enum ledger_kind kind;
	int64_t sent_at;         /* 0: NULL */
	int64_t next_attempt_at; /* 0: NULL */
};

static struct transition decide(const struct conf_queue *q,
				const struct queue_item *item,
				const struct transport_result *r, int64_t now)
{
	int64_t delay_ms, next;

	switch (r->outcome) {
	case TRANSPORT_SENT:
		return (struct transition){QUEUE_SENT, "sent",
					   LEDGER_DELIVERY_SENT, now, 0};
	case TRANSPORT_PERMFAIL:
		return (struct transition){QUEUE_FAILED, "failed",
					   LEDGER_DELIVERY_FAILED, 0, 0};
	case TRANSPORT_TEMPFAIL:
	default:
		break;
	}
	delay_ms = queue_backoff_ms(q, item->attempts);
	next = now + (delay_ms + 999) / 1000;
	if (item->expires_at && next > item->expires_at)
		return (struct transition){QUEUE_EXPIRED, "expired",
					   LEDGER_DELIVERY_EXPIRED, 0, 0};
	return (struct transition){QUEUE_DEFERRED, "deferred",
				   LEDGER_DELIVERY_DEFERRED, 0, next};
}

/* The event recording the relay's answer to one attempt. */
static int result_event(struct db *db, const struct queue_item *item,
			const struct transport_result *r,
			const struct transition *t, struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, t->kind, item->campaign_id, item->delivery_id,
			  item->body_id, item->contact_id);
	ledger_entry_int(&e, "attempt", item->attempts);
	ledger_entry_str(&e, "to", item->email);
	ledger_entry_int(&e, "code", r->code);
	ledger_entry_str(&e, "enhanced", r->enhanced);
	ledger_entry_str(&e, "text", r->text);
	if (r->queue_id[0])
		ledger_entry_str(&e, "queue_id", r->queue_id);
	if (t->outcome == QUEUE_SENT) {
		ledger_entry_str(&e, "message_id", item->message_id);
		if (item->lang[0])
			ledger_entry_str(&e, "lang", item->lang);
		if (item->sha256[0])
			ledger_entry_str(&e, "sha256", item->sha256);
	}
	if (t->next_attempt_at)
		ledger_entry_int(&e, "next_attempt_at", t->next_attempt_at);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

static void bind_int_or_null(sqlite3_stmt *st, int index, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, index, v);
	else
		sqlite3_bind_null(st, index);
}

static void bind_text_or_null(sqlite3_stmt *st, int index, const char *s)
{
	db_bind_text(st, index, s && *s ? s : NULL);
}

static int update_row(struct db *db, const struct queue_item *item,
		      const char *owner, const struct transport_result *r,
		      const struct transition *t, int64_t now,
		      struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_RECORD, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, item->delivery_id);
	db_bind_text(st, 2, owner);
	sqlite3_bind_int(st, 3, item->attempts);
	db_bind_text(st, 4, t->state);
	bind_int_or_null(st, 5, r->code);
	bind_text_or_null(st, 6, r->enhanced);
	bind_text_or_null(st, 7, r->text);
	bind_text_or_null(st, 8, r->queue_id);
	bind_int_or_null(st, 9, t->sent_at);
	bind_int_or_null(st, 10, t->next_attempt_at);
	bind_text_or_null(st, 11, t->outcome == QUEUE_SENT	  ? NULL
				  : t->outcome == QUEUE_CANCELLED ? "campaign cancelled"
								  : r->text);
	sqlite3_bind_int64(st, 12, now);
	/* what went out: only a sent message's */
	if (t->outcome == QUEUE_SENT) {
		bind_text_or_null(st, 13, item->lang);
		bind_text_or_null(st, 14, item->sha256);
	}
	return db_step_done(db, st, err);
}

/*
 * A relay's 5xx is a permanent failure like a bounce: it counts toward
 * the contact's streak (streak.h), in the transaction that records it.
 */
static int count_refusal(struct db *db, const struct conf *cfg,
			 const struct queue_item *item, struct error *err)
{
	bool marked = false;
	int rc = streak_check(db, item->contact_id, cfg->bounce_threshold,
			      cfg->bounce.count_mask, &marked, err);

	if (!rc && marked)
		log_warn("contact=%lld marked bouncing after %d campaigns "
			 "refused in a row", (long long)item->contact_id,
			 cfg->bounce_threshold);
	return rc;
}

/*
 * A relay-level fault (transport.h): the delivery is deferred, due at
 * once (the daemon claims nothing while the relay is down), and the
 * attempt it counted is taken back; its event says the attempt was not
 * charged. Its lifetime is not checked here: relay_mark_up gives back
 * what the outage took (queue_relay_outage_end).
 */
static int record_relay_fault(struct db *db, const struct queue_item *item,
			      const char *owner,
			      const struct transport_result *r, int64_t now,
			      struct error *err)
{
	struct ledger_entry e;
	sqlite3_stmt *st;
	char reason[sizeof(r->text) + 64];
	int rc = db_prepare(db, &queue_statements, ST_RECORD_RELAY, &st, err);

	if (rc)
		return rc;
	snprintf(reason, sizeof(reason), "relay down (%s): %s",
		 transport_phase_name(r->phase), r->text);
	sqlite3_bind_int64(st, 1, item->delivery_id);
	db_bind_text(st, 2, owner);
	sqlite3_bind_int(st, 3, item->attempts);
	bind_int_or_null(st, 4, r->code);
	bind_text_or_null(st, 5, r->enhanced);
	bind_text_or_null(st, 6, r->text);
	sqlite3_bind_int64(st, 7, now);
	db_bind_text(st, 8, reason);
	rc = db_step_done(db, st, err);
	if (rc || db_changes(db) == 0)
		return rc ? rc : 1;
	ledger_entry_init(&e, LEDGER_DELIVERY_DEFERRED, item->campaign_id,
			  item->delivery_id, item->body_id, item->contact_id);
	ledger_entry_int(&e, "attempt", item->attempts);
	ledger_entry_str(&e, "to", item->email);
	ledger_entry_int(&e, "code", r->code);
	ledger_entry_str(&e, "enhanced", r->enhanced);
	ledger_entry_str(&e, "text", r->text);
	ledger_entry_str(&e, "relay_fault", transport_phase_name(r->phase));
	ledger_entry_str(&e, "attempt_charged", "no");
	ledger_entry_int(&e, "next_attempt_at", now);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

int queue_record(struct db *db, const struct conf *cfg,
		 const struct queue_item *item, const char *owner,
		 const struct transport_result *r, int64_t now,
		 enum queue_outcome *outcome, struct error *err)
{
	struct transition t = decide(&cfg->queue, item, r, now);
	bool relay = r->outcome == TRANSPORT_TEMPFAIL && r->relay_fault;
	char cstate[16];
	bool own;
	int rc;

	if (relay)
		t = (struct transition){QUEUE_DEFERRED, "deferred",
					LEDGER_DELIVERY_DEFERRED, 0, now};

	*outcome = QUEUE_STALE;
	/* Inside a caller's transaction (the group commit) no savepoint of
	 * our own: a failure there rolls the whole group back anyway, and
	 * each savepoint costs a copy of every page it touches. */
	rc = db_begin_if_none(db, &own, err);
	if (rc)
		return rc;
	/* What was sent or refused is recorded as it was; what would wait
	 * for a retry waits for nothing once the campaign is cancelled. */
	if (t.outcome == QUEUE_DEFERRED || t.outcome == QUEUE_EXPIRED) {
		rc = campaign_state(db, item->campaign_id, cstate,
				    sizeof(cstate), err);
		if (rc)
			goto out;
		if (is_cancelled(cstate))
			t = (struct transition){QUEUE_CANCELLED, "cancelled",
						LEDGER_DELIVERY_CANCELLED, 0, 0};
	}
	if (relay && t.outcome == QUEUE_DEFERRED) {
		rc = record_relay_fault(db, item, owner, r, now, err);
		if (rc == 1)
			rc = 0; /* no longer ours: stale */
		else if (!rc)
			*outcome = QUEUE_DEFERRED;
		goto out;
	}
	rc = update_row(db, item, owner, r, &t, now, err);
	if (rc || db_changes(db) == 0)
		goto out;
	rc = result_event(db, item, r, &t, err);
	if (!rc && t.outcome == QUEUE_FAILED && r->code >= 500)
		rc = count_refusal(db, cfg, item, err);
	if (!rc)
		*outcome = t.outcome;
out:
	/* A failed commit undid the change too: nothing was recorded. */
	rc = db_end_if_own(db, own, rc, err);
	if (rc)
		*outcome = QUEUE_STALE;
	return rc;
}

int queue_relay_outage_end(struct db *db, int64_t outage_s,
			   int64_t ceiling_s, int *extended, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_OUTAGE_EXTEND, &st, err);

	if (extended)
		*extended = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, outage_s > 0 ? outage_s : 0);
	sqlite3_bind_int64(st, 2, ceiling_s);
	rc = db_step_done(db, st, err);
	if (!rc && extended)
		*extended = db_changes(db);
	return rc;
}

struct overdue {
	int64_t id, campaign_id, body_id, contact_id;
	char *email;
	char state[16];
};

int queue_expire_outage(struct db *db, int64_t now, int64_t ceiling_s,
			const char *reason, int *expired, struct error *err)
{
	struct overdue *v = NULL;
	size_t n = 0, alloc = 0;
	struct ledger_entry e;
	sqlite3_stmt *st;
	bool own;
	int rc = db_begin_if_none(db, &own, err);

	if (expired)
		*expired = 0;
	if (rc)
		return rc;
	ledger_entry_init(&e, LEDGER_DELIVERY_EXPIRED, 0, 0, 0, 0);
	rc = db_prepare(db, &queue_statements, ST_OUTAGE_OVERDUE, &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, ceiling_s);
	sqlite3_bind_int64(st, 2, now);
	while ((rc = db_step(db, st, err)) == 1) {
		xgrow(&v, sizeof(*v), n + 1, &alloc);
		v[n] = (struct overdue){sqlite3_column_int64(st, 0),
					sqlite3_column_int64(st, 1),
					sqlite3_column_int64(st, 2),
					sqlite3_column_int64(st, 3),
					db_column_strdup(st, 4), ""};
		snprintf(v[n++].state, sizeof(v[0].state), "%s",
			 db_column_text(st, 5));
	}
	for (size_t i = 0; !rc && i < n; i++) {
		rc = db_prepare(db, &queue_statements, ST_OUTAGE_EXPIRE, &st,
				err);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, v[i].id);
		sqlite3_bind_int64(st, 2, now);
		db_bind_text(st, 3, reason);
		rc = db_step_done(db, st, err);
		if (rc || db_changes(db) == 0)
			continue;
		ledger_entry_reset(&e, LEDGER_DELIVERY_EXPIRED, v[i].campaign_id,
				   v[i].id, v[i].body_id, v[i].contact_id);
		ledger_entry_str(&e, "from", v[i].state);
		ledger_entry_str(&e, "to", v[i].email);
		ledger_entry_str(&e, "reason", reason);
		rc = ledger_entry_append(db, &e, NULL, err);
		if (!rc && expired)
			(*expired)++;
	}
out:
	rc = db_end_if_own(db, own, rc, err);
	for (size_t i = 0; i < n; i++)
		free(v[i].email);
	free(v);
	ledger_entry_release(&e);
	return rc;
}

/* Where queue_unclaim sends an item, and what it writes down. */
struct unclaim {
	const char *state;
	const char *reason; /* NULL: the row keeps its own */
	enum ledger_kind kind;
	enum queue_outcome outcome;
};

static struct unclaim unclaim_target(const struct queue_check *why,
				     const char *campaign_state)
{
	if (is_cancelled(campaign_state) ||
	    (why && why->verdict == QUEUE_CANCEL))
		return (struct unclaim){"cancelled", "campaign cancelled",
					LEDGER_DELIVERY_CANCELLED,
					QUEUE_CANCELLED};
	if (why && why->verdict == QUEUE_SKIP)
		return (struct unclaim){"skipped", why->reason,
					LEDGER_DELIVERY_SKIPPED, QUEUE_SKIPPED};
	return (struct unclaim){"pending", NULL, LEDGER_DELIVERY_RECOVERED,
				QUEUE_HELD};
}

/* The event of an item given back unsent. */
static int unclaim_event(struct db *db, const struct queue_item *item,
			 const char *owner, const struct queue_check *why,
			 const struct unclaim *u, struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, u->kind, item->campaign_id, item->delivery_id,
			  item->body_id, item->contact_id);
	if (u->outcome == QUEUE_HELD) {
		ledger_entry_str(&e, "reason", why && why->reason[0]
						       ? why->reason
						       : "released");
		ledger_entry_str(&e, "owner", owner);
	} else {
		ledger_entry_str(&e, "from", "sending");
		ledger_entry_str(&e, "to", item->email);
		ledger_entry_str(&e, "reason", u->reason);
	}
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

int queue_unclaim(struct db *db, const struct queue_item *item,
		  const char *owner, const struct queue_check *why,
		  int64_t now, enum queue_outcome *outcome, struct error *err)
{
	struct unclaim u;
	char cstate[16];
	sqlite3_stmt *st;
	bool own;
	int rc = db_begin_if_none(db, &own, err);

	if (outcome)
		*outcome = QUEUE_STALE;
	if (rc)
		return rc;
	rc = campaign_state(db, item->campaign_id, cstate, sizeof(cstate), err);
	if (!rc)
		rc = db_prepare(db, &queue_statements, ST_UNCLAIM, &st, err);
	if (rc)
		goto out;
	u = unclaim_target(why, cstate);
	sqlite3_bind_int64(st, 1, item->delivery_id);
	db_bind_text(st, 2, owner);
	sqlite3_bind_int(st, 3, item->attempts);
	sqlite3_bind_int64(st, 4, now);
	db_bind_text(st, 5, u.state);
	db_bind_text(st, 6, u.reason);
	rc = db_step_done(db, st, err);
	if (rc || db_changes(db) == 0)
		goto out;
	rc = unclaim_event(db, item, owner, why, &u, err);
	if (!rc && outcome)
		*outcome = u.outcome;
out:
	rc = db_end_if_own(db, own, rc, err);
	if (rc && outcome)
		*outcome = QUEUE_STALE;
	return rc;
}

/* A waiting delivery of a campaign being cancelled. */
struct waiting {
	int64_t id, contact_id, body_id;
	char state[16];
};

static int load_waiting(struct db *db, int64_t campaign_id,
			struct waiting **out, size_t *n, struct error *err)
{
	size_t alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_CANCELLABLE, &st, err);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, campaign_id);
	while ((rc = db_step(db, st, err)) == 1) {
		struct waiting *w;

		xgrow(out, sizeof(**out), *n + 1, &alloc);
		w = &(*out)[(*n)++];
		w->id = sqlite3_column_int64(st, 0);
		w->contact_id = sqlite3_column_int64(st, 1);
		w->body_id = sqlite3_column_int64(st, 2);
		snprintf(w->state, sizeof(w->state), "%s", db_column_text(st, 3));
	}
	return rc;
}

static int cancel_waiting(struct db *db, int64_t campaign_id,
			  const struct waiting *w, int64_t now,
			  struct ledger_entry *e, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_CANCEL, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, w->id);
	sqlite3_bind_int64(st, 2, now);
	rc = db_step_done(db, st, err);
	if (rc || db_changes(db) == 0)
		return rc;
	ledger_entry_reset(e, LEDGER_DELIVERY_CANCELLED, campaign_id, w->id,
			   w->body_id, w->contact_id);
	ledger_entry_str(e, "from", w->state);
	return ledger_entry_append(db, e, NULL, err);
}

int queue_cancel_campaign(struct db *db, int64_t campaign_id, int64_t now,
			  int *cancelled, struct error *err)
{
	struct ledger_entry e;
	struct waiting *ws = NULL;
	size_t n = 0;
	int rc = db_begin(db, err);

	if (cancelled)
		*cancelled = 0;
	if (rc)
		return rc;
	ledger_entry_init(&e, LEDGER_DELIVERY_CANCELLED, campaign_id, 0, 0, 0);
	rc = load_waiting(db, campaign_id, &ws, &n, err);
	for (size_t i = 0; !rc && i < n; i++)
		rc = cancel_waiting(db, campaign_id, &ws[i], now, &e, err);
	if (rc)
		db_rollback(db);
	else
		rc = db_commit(db, err);
	if (!rc && cancelled)
		*cancelled = (int)n;
	free(ws);
	ledger_entry_release(&e);
	return rc;
}

int queue_last_id(struct db *db, int64_t *id, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_LAST_ID, &st, err);

	*id = 0;
	if (rc)
		return rc;
	rc = db_step(db, st, err);
	if (rc == 1) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

int queue_add(struct db *db, const struct queue_new *d, int64_t now,
	      bool *added, struct error *err)
{
	struct ledger_event ev = {
		d->skip_reason ? LEDGER_DELIVERY_SKIPPED : LEDGER_DELIVERY_QUEUED,
		d->campaign_id, d->id, d->body_id, d->contact_id,
		d->event_data};
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_ADD, &st, err);

	*added = false;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, d->campaign_id);
	sqlite3_bind_int64(st, 2, d->contact_id);
	sqlite3_bind_int64(st, 3, d->body_id);
	db_bind_text(st, 4, d->email);
	db_bind_text(st, 5, d->skip_reason ? "skipped" : "pending");
	if (!d->skip_reason)
		sqlite3_bind_int64(st, 6, now);
	if (!d->skip_reason && d->expires_at)
		sqlite3_bind_int64(st, 7, d->expires_at);
	db_bind_text(st, 8, d->skip_reason);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, d->id);
	db_bind_text(st, 11, d->message_id);
	db_bind_text(st, 12, d->envid);
	rc = db_step_done(db, st, err);
	if (rc || db_changes(db) == 0)
		return rc;
	*added = true;
	return ledger_append(db, &ev, NULL, err);
}

/* The delivery.queued or .skipped event of each row queue_add_frozen
 * added, with the data campaign_start gives the ones it adds. */
static int frozen_events(struct db *db, int64_t campaign_id, int64_t after,
			 int *added, struct error *err)
{
	struct ledger_entry e;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_ADDED, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, campaign_id);
	sqlite3_bind_int64(st, 2, after);
	ledger_entry_init(&e, LEDGER_DELIVERY_QUEUED, campaign_id, 0, 0, 0);
	while ((rc = db_step(db, st, err)) == 1) {
		const char *reason = sqlite3_column_type(st, 5) == SQLITE_NULL
					     ? NULL
					     : db_column_text(st, 5);

		ledger_entry_reset(&e, reason ? LEDGER_DELIVERY_SKIPPED
					      : LEDGER_DELIVERY_QUEUED,
				   campaign_id, sqlite3_column_int64(st, 0),
				   sqlite3_column_int64(st, 1),
				   sqlite3_column_int64(st, 2));
		ledger_entry_str(&e, "email", db_column_text(st, 3));
		if (!reason)
			ledger_entry_str(&e, "message_id", db_column_text(st, 4));
		else
			ledger_entry_str(&e, "reason", reason);
		if ((rc = ledger_entry_append(db, &e, NULL, err))) {
			sqlite3_reset(st);
			break;
		}
		(*added)++;
	}
	ledger_entry_release(&e);
	return rc;
}

/* Whether campaign_id has any delivery (one index look-up). */
static int has_any(struct db *db, int64_t campaign_id, bool *yes,
		   struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_HAS_ANY, &st, err);

	*yes = false;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, campaign_id);
	rc = db_step(db, st, err);
	if (rc == 1) {
		*yes = sqlite3_column_int(st, 0) != 0;
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

int queue_campaign_has(struct db *db, int64_t campaign_id, bool *yes,
		       struct error *err)
{
	return has_any(db, campaign_id, yes, err);
}

int queue_add_frozen(struct db *db, int64_t campaign_id, int64_t now,
		     int64_t expires_at, const char *domain, int *added,
		     struct error *err)
{
	int64_t last = 0;
	sqlite3_stmt *st;
	bool some = false;
	int rc = queue_last_id(db, &last, err);

	*added = 0;
	if (!rc)
		rc = has_any(db, campaign_id, &some, err);
	if (!rc)
		rc = db_prepare(db, &queue_statements,
				some ? ST_ADD_FROZEN_MISSING : ST_ADD_FROZEN,
				&st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, campaign_id);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_int64(st, 3, now);
	if (expires_at)
		sqlite3_bind_int64(st, 4, expires_at);
	db_bind_text(st, 5, domain);
	if ((rc = db_step_done(db, st, err)))
		return rc;
	return frozen_events(db, campaign_id, last, added, err);
}

int queue_redue_campaign(struct db *db, int64_t campaign_id, int64_t start,
			 int64_t late_s, int64_t lifetime_s, int *changed,
			 struct error *err)
{
	int64_t created = 0, expires = 0, due, want;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_DUE_PROBE, &st, err);

	*changed = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, campaign_id);
	rc = db_step(db, st, err);
	if (rc != 1)
		return rc; /* 0: nothing waits */
	created = sqlite3_column_int64(st, 0);
	expires = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	/* late, or queued for after the start (another clock): due now */
	due = start > created + late_s || start < created ? start : created;
	want = lifetime_s > 0 ? due + lifetime_s : 0;
	if (due == created && expires == want)
		return 0;
	if ((rc = db_prepare(db, &queue_statements, ST_REDUE, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, campaign_id);
	sqlite3_bind_int64(st, 2, due);
	if (want)
		sqlite3_bind_int64(st, 3, want);
	rc = db_step_done(db, st, err);
	if (!rc)
		*changed = db_changes(db);
	return rc;
}

/* One withdrawn delivery's event: pending ones get delivery.cancelled
 * with the reason; a skipped one keeps its delivery.skipped. */
static int withdrawn_event(struct db *db, int64_t campaign_id,
			   sqlite3_stmt *st, const char *reason,
			   struct ledger_entry *e, int *pending,
			   struct error *err)
{
	const char *state = db_column_text(st, 3);

	if (sqlite3_column_int(st, 4) != 0 ||
	    (strcmp(state, "pending") != 0 && strcmp(state, "skipped") != 0))
		return error_set(err, ERR_SOFTWARE, "delivery %lld is %s after "
				 "%d attempt(s): a campaign that sent cannot "
				 "take its deliveries back",
				 (long long)sqlite3_column_int64(st, 0), state,
				 sqlite3_column_int(st, 4));
	if (strcmp(state, "pending") != 0)
		return 0;
	ledger_entry_reset(e, LEDGER_DELIVERY_CANCELLED, campaign_id,
			   sqlite3_column_int64(st, 0),
			   sqlite3_column_int64(st, 2),
			   sqlite3_column_int64(st, 1));
	ledger_entry_str(e, "from", "pending");
	ledger_entry_str(e, "reason", reason);
	ledger_entry_str(e, "withdrawn", "yes");
	(*pending)++;
	return ledger_entry_append(db, e, NULL, err);
}

int queue_withdraw_campaign(struct db *db, int64_t campaign_id,
			    const char *reason, int *withdrawn, int *removed,
			    struct error *err)
{
	struct ledger_entry e;
	sqlite3_stmt *st;
	int pending = 0, rc = db_begin(db, err);

	*withdrawn = *removed = 0;
	if (rc)
		return rc;
	ledger_entry_init(&e, LEDGER_DELIVERY_CANCELLED, campaign_id, 0, 0, 0);
	rc = db_prepare(db, &queue_statements, ST_WITHDRAWABLE, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, campaign_id);
		while ((rc = db_step(db, st, err)) == 1) {
			rc = withdrawn_event(db, campaign_id, st, reason, &e,
					     &pending, err);
			if (rc) {
				sqlite3_reset(st);
				break;
			}
		}
	}
	if (!rc)
		rc = db_prepare(db, &queue_statements, ST_WITHDRAW, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, campaign_id);
		rc = db_step_done(db, st, err);
	}
	if (!rc)
		*removed = db_changes(db);
	if (rc)
		db_rollback(db);
	else
		rc = db_commit(db, err);
	if (!rc)
		*withdrawn = pending;
	else
		*removed = 0;
	ledger_entry_release(&e);
	return rc;
}

int queue_apply_report(struct db *db, const struct queue_report *r,
		       struct error *err)
{
	struct ledger_event ev = {
		r->bounced ? LEDGER_DELIVERY_BOUNCED : LEDGER_DELIVERY_DELIVERED,
		r->campaign_id, r->delivery_id, r->body_id, r->contact_id,
		r->data};
	sqlite3_stmt *st;
	int rc = db_begin(db, err);

	if (rc)
		return rc;
	rc = db_prepare(db, &queue_statements,
			r->bounced ? ST_BOUNCED : ST_DELIVERED, &st, err);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, r->delivery_id);
	db_bind_text(st, 2, r->bounced ? r->reason : NULL);
	sqlite3_bind_int64(st, 3, clock_now());
	if (r->bounced)
		db_bind_text(st, 4, r->klass);
	rc = db_step_done(db, st, err);
	if (!rc && db_changes(db) != 1)
		rc = error_set(err, ERR_SOFTWARE, "delivery %lld changed state "
				    "under the report",
			       (long long)r->delivery_id);
	if (!rc)
		rc = ledger_append(db, &ev, NULL, err);
out:
	if (rc)
		db_rollback(db);
	else
		rc = db_commit(db, err);
	return rc;
}

/* One lease that ran out, read before the rows are changed. */
struct lapsed {
	int64_t id, campaign_id, body_id, contact_id, lease_until;
	int attempts;
	char *owner;
	bool cancelled; /* its campaign was cancelled meanwhile */
};

static int read_lapsed(struct db *db, int64_t before, struct lapsed **rows,
		       size_t *n, struct error *err)
{
	size_t alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_LEASES_OUT, &st, err);

	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, before);
	while ((rc = db_step(db, st, err)) == 1) {
		xgrow(rows, sizeof(**rows), *n + 1, &alloc);
		(*rows)[(*n)++] = (struct lapsed){
			.id = sqlite3_column_int64(st, 0),
			.campaign_id = sqlite3_column_int64(st, 1),
			.body_id = sqlite3_column_int64(st, 2),
			.contact_id = sqlite3_column_int64(st, 3),
			.owner = db_column_strdup(st, 4),
			.lease_until = sqlite3_column_int64(st, 5),
			.attempts = sqlite3_column_int(st, 6),
			.cancelled = is_cancelled(db_column_text(st, 7)),
		};
	}
	return rc;
}

static int recover_one(struct db *db, const struct lapsed *l, int64_t now,
		       struct ledger_entry *e, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_RECOVER, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, l->id);
	sqlite3_bind_int64(st, 2, now);
	db_bind_text(st, 3, l->cancelled ? "cancelled" : "pending");
	db_bind_text(st, 4, l->cancelled ? "campaign cancelled" : NULL);
	rc = db_step_done(db, st, err);
	if (rc || db_changes(db) == 0)
		return rc;
	ledger_entry_reset(e, l->cancelled ? LEDGER_DELIVERY_CANCELLED
					   : LEDGER_DELIVERY_RECOVERED,
			   l->campaign_id, l->id, l->body_id, l->contact_id);
	if (l->cancelled) {
		/* Not known to have left: the lease ran out before a result. */
		ledger_entry_str(e, "from", "sending");
		ledger_entry_str(e, "reason", "campaign cancelled; lease ran "
					      "out without a result");
	} else {
		ledger_entry_str(e, "reason", "lease");
	}
	ledger_entry_str(e, "owner", l->owner);
	ledger_entry_int(e, "lease_until", l->lease_until);
	ledger_entry_int(e, "attempt", l->attempts);
	return ledger_entry_append(db, e, NULL, err);
}

int queue_recover(struct db *db, int64_t before, int *recovered,
		  struct error *err)
{
	struct ledger_entry e;
	struct lapsed *rows = NULL;
	int64_t now = clock_now();
	size_t n = 0;
	int rc;

	if (recovered)
		*recovered = 0;
	rc = db_begin(db, err);
	if (rc)
		return rc;
	ledger_entry_init(&e, LEDGER_DELIVERY_RECOVERED, 0, 0, 0, 0);
	rc = read_lapsed(db, before, &rows, &n, err);
	for (size_t i = 0; !rc && i < n; i++)
		rc = recover_one(db, &rows[i], now, &e, err);
	if (rc)
		db_rollback(db);
	else
		rc = db_commit(db, err);
	if (!rc && recovered)
		*recovered = (int)n;
	for (size_t i = 0; i < n; i++)
		free(rows[i].owner);
	free(rows);
	ledger_entry_release(&e);
	return rc;
}

int queue_depth(struct db *db, int64_t now, struct queue_depth *out,
		struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_DEPTH, &st, err);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	while ((rc = db_step(db, st, err)) == 1) {
		const char *state = db_column_text(st, 0);
		int64_t count = sqlite3_column_int64(st, 1);

		if (strcmp(state, "pending") == 0)
			out->pending = count;
		else if (strcmp(state, "sending") == 0)
			out->sending = count;
		else if (strcmp(state, "deferred") == 0)
			out->deferred = count;
	}
	if (rc)
		return rc;
	rc = db_prepare(db, &queue_statements, ST_DUE_COUNT, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	rc = db_step(db, st, err);
	if (rc == 1) {
		out->due = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

int queue_next_due(struct db *db, int64_t now, int64_t *when,
		   struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &queue_statements, ST_NEXT_DUE, &st, err);

	*when = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	rc = db_step(db, st, err);
	if (rc == 1) {
		*when = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}
