/*
 * Starting campaigns: materialising a campaign's deliveries into the
 * queue, each with its Message-ID and ENVID, when it is scheduled and
 * when it is refreshed; and the start at send_at, which only moves the
 * state. The rest of the lifecycle is in campaign.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sys/random.h>

#include "chancery/address.h"
#include "chancery/campaign.h"
#include "chancery/campaign_start.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/log.h"
#include "chancery/queue.h"
#include "chancery/registry.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"
#include "campaign_impl.h"

/* ---- ledger helpers ---- */

/* The audit's proof of which text went out: the version and its hash. */
static int template_used_event(struct db *db, const struct campaign_info *c,
			       struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, LEDGER_TEMPLATE_USED, c->id, 0, 0, 0);
	ledger_entry_str(&e, "campaign", c->name);
	ledger_entry_str(&e, "template", c->template_name);
	ledger_entry_int(&e, "version", c->template_version);
	ledger_entry_str(&e, "sha256", c->template_sha256);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

/* ---- materialisation ---- */

/*
 * Random bytes for Message-IDs and ENVIDs, drawn from the kernel a block
 * at a time: one draw per contact and printf per byte were a tenth of
 * campaign start. (Not OpenSSL's RAND_bytes: its DRBG loads OpenSSL's provider
 * machinery, 2 MiB of the daemon's memory, for bytes that only need to
 * be unpredictable.)
 */
struct random_pool {
	unsigned char bytes[512];
	size_t pos; /* the next unused byte; sizeof(bytes) when used up */
};

#define RANDOM_POOL_INIT {.pos = sizeof(((struct random_pool *)0)->bytes)}

/* 16 random hex digits and a NUL into buf. */
static int random_hex(struct random_pool *pool, char buf[17],
		      struct error *err)
{
	static const char digits[] = "0123456789abcdef";

	if (pool->pos + 8 > sizeof(pool->bytes)) {
		if (getrandom(pool->bytes, sizeof(pool->bytes), 0) !=
		    (ssize_t)sizeof(pool->bytes))
			return error_set(err, ERR_SOFTWARE, "no random bytes "
					 "for a Message-ID or ENVID");
		pool->pos = 0;
	}
	for (int i = 0; i < 8; i++) {
		unsigned char b = pool->bytes[pool->pos++];

		buf[2 * i] = digits[b >> 4];
		buf[2 * i + 1] = digits[b & 0xf];
	}
	buf[16] = '\0';
	return 0;
}

/*
 * A queued delivery's Message-ID (no angle brackets; caller frees) and
 * ENVID, "chancery-<delivery id>-<16 random hex>" (at most 45 characters,
 * all xtext-safe, within RFC 3461's 100). A report changes a delivery
 * only when it carries one of the two whole (see bounce.h), so each has
 * its own 64 random bits: neither is derived from the other, as
 * ST_CLAIM_IDS in the queue gives either alone to a row lacking it.
 */
static int make_ids(const struct conf *cfg, const struct campaign_info *c,
		    int64_t delivery_id, struct random_pool *pool,
		    char **message_id, char envid[64], struct error *err)
{
	char rnd[17], token[17];
	int rc = random_hex(pool, rnd, err);

	if (!rc)
		rc = random_hex(pool, token, err);
	if (rc)
		return rc;
	*message_id = xasprintf("%lld.%lld.%s@%s", (long long)c->id,
				(long long)delivery_id, rnd,
				campaign_message_domain(cfg, c));
	snprintf(envid, 64, "chancery-%lld-%s", (long long)delivery_id, token);
	return 0;
}

char *campaign_skip_reason(const struct member *m)
{
	struct error e = ERROR_INIT;

	if (m->status != CONTACT_ACTIVE)
		return m->status_reason
			       ? xasprintf("contact %s: %s",
					   registry_contact_status_name(m->status),
					   m->status_reason)
			       : xasprintf("contact %s",
					   registry_contact_status_name(m->status));
	if (address_check(m->email, &e) != 0)
		return xasprintf("invalid address: %s", e.msg);
	return NULL;
}

/* The data of a delivery's delivery.queued or delivery.skipped event. */
static void delivery_data(struct ledger_entry *e, const struct member *m,
			  const char *message_id, const char *reason)
{
	ledger_entry_str(e, "email", m->email);
	if (message_id)
		ledger_entry_str(e, "message_id", message_id);
	if (reason)
		ledger_entry_str(e, "reason", reason);
}

/*
 * Queues one delivery unless the pair exists; *added is bumped if new.
 * The row gets id *next_id, the one SQLite would choose (the caller holds
 * the write transaction), so its Message-ID and ENVID, which name the id,
 * go in with the INSERT: given by a second UPDATE they rewrote the row
 * and both their index entries for every contact. event is the walk's
 * one entry, reset here for this delivery's event.
 */
static int materialise_one(struct db *db, const struct conf *cfg,
			   const struct campaign_info *c, const struct member *m,
			   int64_t now, int64_t *next_id, struct random_pool *pool,
			   struct ledger_entry *event, int *added,
			   struct error *err)
{
	char *reason = campaign_skip_reason(m), *message_id = NULL;
	char envid[64];
	bool inserted = false;
	int rc = reason ? 0 : make_ids(cfg, c, *next_id, pool, &message_id,
				       envid, err);
	struct queue_new d = {
		.id = *next_id, .campaign_id = c->id,
		.contact_id = m->contact_id, .body_id = m->body_id,
		.email = m->email, .skip_reason = reason,
		.message_id = message_id, .envid = reason ? NULL : envid,
	};

	if (rc)
		goto out;
	if (!reason && cfg && cfg->queue.lifetime_ms > 0)
		d.expires_at = now + cfg->queue.lifetime_ms / 1000;
	ledger_entry_reset(event, reason ? LEDGER_DELIVERY_SKIPPED
					 : LEDGER_DELIVERY_QUEUED,
			   c->id, d.id, m->body_id, m->contact_id);
	delivery_data(event, m, message_id, reason);
	d.event_data = ledger_entry_data(event);
	rc = queue_add(db, &d, now, &inserted, err);
	if (!rc && inserted) {
		(*next_id)++;
		(*added)++;
	}
out:
	free(reason);
	free(message_id);
	return rc;
}

/* One delivery per (campaign, contact) of the list; the caller holds the
 * transaction. */
/* The state of one materialisation, for its walk over the members. */
struct materialising {
	struct db *db;
	const struct conf *cfg;
	const struct campaign_info *c;
	int64_t now, next_id;
	struct random_pool pool;
	struct ledger_entry event; /* reset for each delivery */
	int *added;
	struct error *err;
};

static int materialise_member(const struct member *m, void *arg)
{
	struct materialising *ms = arg;

	return materialise_one(ms->db, ms->cfg, ms->c, m, ms->now,
			       &ms->next_id, &ms->pool, &ms->event, ms->added,
			       ms->err);
}

static int materialise(struct db *db, const struct conf *cfg,
		       const struct campaign_info *c, int64_t now, int *added,
		       struct error *err)
{
	struct materialising ms = {.db = db, .cfg = cfg, .c = c, .now = now,
				   .pool = RANDOM_POOL_INIT, .added = added,
				   .err = err};
	int rc;

	*added = 0;
	ledger_entry_init(&ms.event, LEDGER_DELIVERY_QUEUED, c->id, 0, 0, 0);
	rc = queue_last_id(db, &ms.next_id, err);
	ms.next_id++;
	if (!rc)
		rc = campaign_members_each(db, c->list_id, materialise_member,
					   &ms, err);
	ledger_entry_release(&ms.event);
	return rc;
}

/* When deliveries due at `due` stop being retried: 0 for never. */
static int64_t lifetime_end(const struct conf *cfg, int64_t due)
{
	return cfg && cfg->queue.lifetime_ms > 0
		       ? due + cfg->queue.lifetime_ms / 1000
		       : 0;
}

/* Queues c's deliveries due at `due`: the set its approval froze, or
 * the list walked for a campaign without one. */
static int queue_all(struct db *db, const struct conf *cfg,
		     const struct campaign_info *c, int64_t due, int *added,
		     struct error *err)
{
	int64_t frozen = 0;
	int rc = campaign_frozen_count(db, c->id, &frozen, err);

	*added = 0;
	if (!rc && frozen > 0)
		rc = queue_add_frozen(db, c->id, due, lifetime_end(cfg, due),
				      campaign_message_domain(cfg, c), added,
				      err);
	else if (!rc)
		rc = materialise(db, cfg, c, due, added, err);
	return rc;
}

int campaign_queue_scheduled(struct db *db, const struct conf *cfg,
			     const struct campaign_info *c, int *added,
			     struct error *err)
{
	int64_t now = clock_now();
	int64_t due = c->send_at > now ? c->send_at : now;
	int rc = queue_all(db, cfg, c, due, added, err);

	if (!rc)
		log_debug("campaign=%s queued deliveries=%d due=%lld", c->name,
			 *added, (long long)due);
	return rc;
}

/*
 * A start this much later than the send time gives the deliveries queued
 * at schedule their lifetime from the start (queue_redue_campaign): a
 * campaign paused past its time, or a daemon that was down. Within it
 * (the daemon's usual start, a second or so after send_at) the lifetime
 * counts from the send time, as they were queued, and the start touches
 * no delivery unless queue.lifetime changed since the schedule (the
 * daemon's configuration decides, as when the start queued them).
 */
#define LATE_START_S 60

/* Starts one campaign; 0 with *started 0 when another process did it. */
static int start_one(struct db *db, const struct conf *cfg, int64_t id,
		     int64_t now, int *started, struct error *err)
{
	struct campaign_info c;
	sqlite3_stmt *st;
	bool queued = false;
	int added = 0, redue = 0, rc = campaign_get(db, id, &c, err);

	*started = 0;
	if (rc)
		return rc;
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &campaign_statements, ST_START, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now);
		rc = db_step_done(db, st, err);
	}
	if (rc || db_changes(db) == 0) {
		db_rollback(db);
		goto out;
	}
	rc = template_lock(db, c.template_id, err);
	if (!rc)
		rc = template_used_event(db, &c, err);
	if (!rc)
		rc = campaign_event(db, LEDGER_CAMPAIGN_STARTED, &c, "scheduled",
				    "running", err);
	if (!rc)
		rc = queue_campaign_has(db, c.id, &queued, err);
	/* Deliveries were queued when the campaign was scheduled; one
	 * scheduled by an earlier version, with none, is queued now. */
	if (!rc && !queued)
		rc = queue_all(db, cfg, &c, now, &added, err);
	else if (!rc)
		rc = queue_redue_campaign(db, c.id, now, LATE_START_S,
					  lifetime_end(cfg, 0), &redue, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc && queued) {
		*started = 1;
		log_info("campaign=%s started queued_at=schedule redue=%d",
			 c.name, redue);
	} else if (!rc) {
		*started = 1;
		log_info("campaign=%s started queued_at=start deliveries=%d",
			 c.name, added);
	}
out:
	if (rc)
		error_prefix(err, "starting campaign '%s'", c.name);
	campaign_info_release(&c);
	return rc;
}

int campaign_start_due(struct db *db, const struct conf *cfg, int64_t now,
		       int *started, struct error *err)
{
	struct error one = ERROR_INIT;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc = campaign_load_ids(db, ST_DUE, now, &ids, &n, err);
	int first_rc = 0;

	*started = 0;
	/* One failing campaign must not hold up the others. */
	for (size_t i = 0; !rc && i < n; i++) {
		int s = 0, r = start_one(db, cfg, ids[i], now, &s, &one);

		*started += s;
		if (r && !first_rc) {
			first_rc = r;
			error_set(err, r, "%s", one.msg);
		}
	}
	free(ids);
	return rc ? rc : first_rc;
}

int campaign_refresh(struct db *db, const struct conf *cfg, int64_t id,
		     int *added, struct error *err)
{
	struct campaign_info c;
	struct ledger_entry e;
	int rc = campaign_get(db, id, &c, err);

	*added = 0;
	if (rc)
		return rc;
	if (!c.started_at ||
	    (c.state != CAMPAIGN_RUNNING && c.state != CAMPAIGN_PAUSED)) {
		rc = campaign_illegal(&c, "refresh",
				      "running or paused (started)", err);
		goto out;
	}
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = materialise(db, cfg, &c, clock_now(), added, err);
	if (!rc) {
		ledger_entry_init(&e, LEDGER_CAMPAIGN_REFRESHED, c.id, 0, 0, 0);
		ledger_entry_int(&e, "added", *added);
		rc = ledger_entry_append(db, &e, NULL, err);
		ledger_entry_release(&e);
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	campaign_info_release(&c);
	return rc;
}
