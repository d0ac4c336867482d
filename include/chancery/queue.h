/*
 * queue: the delivery state machine over the deliveries table, and the
 * one module that changes a delivery's state.
 *
 *   pending ──claim──▶ sending ──2xx──▶ sent
 *      ▲                  │ 4xx, timeout, connection lost
 *      └──── deferred ◀───┘ (backoff until the lifetime ends → expired)
 *   sending ──5xx──▶ failed
 *   sending, lease run out ──▶ pending (recovered)
 *   sending, not yet sent ──unclaim──▶ pending (paused, daemon stopping),
 *                                      skipped (contact or body withdrawn),
 *                                      cancelled (campaign cancelled)
 *   pending, deferred ──campaign cancelled──▶ cancelled
 *
 * The office's decisions hold at the moment mail leaves: a claim never
 * hands out a delivery whose contact is no longer active or whose contact
 * or body was removed (it becomes skipped, with the reason), and the
 * sender asks queue_check again just before each relay session, so a
 * pause, a cancel or a suppression made after the claim still stops the
 * message. A result that arrives for a cancelled campaign is recorded as
 * what it was (sent, failed); one that would be retried becomes cancelled,
 * so a cancelled campaign never keeps a row that waits.
 *
 * Every transition changes one row and appends exactly one ledger event
 * (delivery.attempted, .sent, .deferred, .expired, .failed, .recovered,
 * .skipped, .cancelled) in the same transaction (a claim moves its whole
 * batch with one UPDATE). Each function commits its own work when no
 * transaction is open; a committer may instead wrap many calls in one
 * transaction (the group commit of the dispatch module), and must then
 * roll the whole transaction back when one of them fails.
 *
 * The campaign module decides which rows a campaign gets and moves
 * campaigns; the bounce module decides what a delivery report means. The
 * queue reads campaigns.state, contacts.status and the removal marks of
 * contacts and bodies, and never writes them.
 */
#ifndef CHANCERY_QUEUE_H
#define CHANCERY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/transport.h"

/* One claimed delivery, as the sender needs it. Strings owned by the item. */
struct queue_item {
	int64_t delivery_id;
	int64_t campaign_id;
	int64_t contact_id;
	int64_t body_id;
	char *email;
	char *envid;       /* DSN ENVID, stable across attempts */
	char *message_id;  /* without <>, stable across attempts */
	int attempts;      /* counting the one this claim starts */
	int64_t expires_at;
	int64_t lease_until;
	/* Set by the sender once the message is rendered, recorded with a
	 * sent result (deliveries.language, .sha256, delivery.sent): the
	 * variant's language and the SHA-256 (hex) of the bytes sent; ""
	 * when unknown. */
	char lang[36];
	char sha256[65];
};

/* A growable array of claimed items. */
struct queue_batch {
	struct queue_item *items;
	size_t n;
	size_t alloc;
};

void queue_batch_init(struct queue_batch *b);
/* Frees the items' strings and empties the batch (it stays usable). */
void queue_batch_clear(struct queue_batch *b);
void queue_batch_release(struct queue_batch *b);
/* Frees one item's strings (for items copied out of a batch). */
void queue_item_release(struct queue_item *it);

/*
 * Claims at most max deliveries that are due (pending, or deferred with
 * next_attempt_at <= due_by; pass now for "due now") of running
 * campaigns: each becomes sending
 * with lease_until = now + q->lease_ms and lease_owner = owner, attempts
 * grows by one, expires_at is set on the first claim (created_at +
 * q->lifetime_ms) and envid/message_id are given if the row has none
 * (message ids end in "@domain", domain taken from sender_address). One
 * delivery.attempted event each. A claimed delivery whose contact or body
 * may no longer be sent to (queue_check says QUEUE_SKIP) becomes skipped
 * in the same transaction instead, with a delivery.skipped event, and is
 * not handed out. The items are appended to out; *skipped (may be NULL)
 * gets the number skipped.
 */
int queue_claim(struct db *db, const struct conf_queue *q,
		const char *sender_address, const char *owner, int64_t now,
		int64_t due_by, int max, struct queue_batch *out, int *skipped,
		struct error *err);

/* What queue_record did with a result. */
enum queue_outcome {
	QUEUE_STALE,    /* the row was no longer ours: nothing changed */
	QUEUE_SENT,
	QUEUE_DEFERRED,
	QUEUE_EXPIRED,
	QUEUE_FAILED,
	QUEUE_CANCELLED, /* the campaign was cancelled: never to be retried */
	QUEUE_SKIPPED,   /* withdrawn before sending: contact or body */
	QUEUE_HELD,      /* withdrawn before sending: back to pending */
};

/* "stale", "sent", "deferred", "expired", "failed", "cancelled",
 * "skipped", "held". */
const char *queue_outcome_name(enum queue_outcome o);

/*
 * The delay before retry number `attempts` (1 = the first retry after the
 * first failed attempt): first * factor^(attempts-1), capped at max_ms.
 */
int64_t queue_backoff_ms(const struct conf_queue *q, int attempts);

/*
 * Records the transport's result for a claimed item. Applies only while
 * the row is still this owner's (sending, or pending after a recovery that
 * no one has re-claimed yet): recording twice, or after another daemon
 * took the row over, changes nothing and gives QUEUE_STALE. sent keeps the
 * relay's reply and queue id; a tempfail becomes deferred (next attempt
 * after queue_backoff_ms) or expired when that would pass expires_at, or
 * cancelled when the campaign was cancelled meanwhile; a permfail becomes
 * failed with the reply as the reason, and a 5xx counts toward the
 * contact's bouncing streak (streak.h, cfg->bounce_threshold).
 * cfg->queue gives the retry schedule.
 */
int queue_record(struct db *db, const struct conf *cfg,
		 const struct queue_item *item, const char *owner,
		 const struct transport_result *r, int64_t now,
		 enum queue_outcome *outcome, struct error *err);

/*
 * Relay outages (relay.h). A result with relay_fault set (AUTH or TLS
 * refused, no connection, 421 at the banner: the relay's fault, not the
 * recipient's) is recorded by queue_record as deferred, due at once,
 * with the attempt its claim counted taken back (a delivery.deferred
 * event with "attempt_charged": "no"): the daemon claims nothing while
 * the relay is down, so no attempt is spent on it.
 *
 * Lifetime: when the relay works again, queue_relay_outage_end extends
 * expires_at of every waiting delivery by the outage's length, so the
 * outage does not spend it either; but never past created_at +
 * ceiling_s (the daemon passes twice queue.lifetime). A delivery that
 * reaches that ceiling while the relay is still down is expired by
 * queue_expire_outage with reason (e.g. "expired: the relay was down
 * since ...: 535 5.7.8 ..."), one delivery.expired event each.
 * *extended / *expired (may be NULL) get the counts.
 */
int queue_relay_outage_end(struct db *db, int64_t outage_s,
			   int64_t ceiling_s, int *extended, struct error *err);
int queue_expire_outage(struct db *db, int64_t now, int64_t ceiling_s,
			const char *reason, int *expired, struct error *err);

/* Whether a claimed delivery may still be sent, and if not, why. */
enum queue_verdict {
	QUEUE_GO,     /* send it */
	QUEUE_HOLD,   /* its campaign is paused (or otherwise not running) */
	QUEUE_CANCEL, /* its campaign was cancelled */
	QUEUE_SKIP,   /* its contact is not active, or contact or body removed */
};

struct queue_check {
	enum queue_verdict verdict;
	char reason[192]; /* for QUEUE_SKIP: "contact suppressed: at its
			   * own request"; else a short phrase */
};

/*
 * Reads, on any connection (a worker's read-only one included), whether
 * item may still be sent: its campaign running, its contact active and
 * not removed, its body not removed.
 */
int queue_check(struct db *db, const struct queue_item *item,
		struct queue_check *out, struct error *err);

/*
 * Hands a claimed item that was never tried back, with the attempt it
 * counted taken back: QUEUE_GO or QUEUE_HOLD (and why == NULL, a daemon
 * stopping with messages not yet sent) → pending with a delivery.recovered
 * event; QUEUE_SKIP → skipped with why->reason and a delivery.skipped
 * event; QUEUE_CANCEL → cancelled with a delivery.cancelled event. A
 * delivery whose campaign is cancelled by the time this runs becomes
 * cancelled whatever why says. *outcome (may be NULL) gets QUEUE_HELD,
 * QUEUE_SKIPPED, QUEUE_CANCELLED, or QUEUE_STALE when the row was no
 * longer this owner's.
 */
int queue_unclaim(struct db *db, const struct queue_item *item,
		  const char *owner, const struct queue_check *why,
		  int64_t now, enum queue_outcome *outcome, struct error *err);

/*
 * Cancels every delivery of a campaign that waits (pending, deferred),
 * with a delivery.cancelled event each; *cancelled (may be NULL) gets the
 * count. Deliveries being sent are left to their result (queue_record,
 * queue_unclaim, queue_recover cancel them unless they were sent). Called
 * by the campaign module inside its own transaction.
 */
int queue_cancel_campaign(struct db *db, int64_t campaign_id, int64_t now,
			  int *cancelled, struct error *err);

/* A delivery a campaign queues (pending) or records as skipped. */
struct queue_new {
	int64_t id;        /* the id it gets: queue_last_id + 1, counted up */
	int64_t campaign_id, contact_id, body_id;
	const char *email;
	const char *skip_reason; /* NULL: pending, due now */
	int64_t expires_at;      /* pending: 0 for none */
	const char *message_id;  /* pending: without <> */
	const char *envid;       /* pending: with its random token */
	const char *event_data;  /* the delivery.queued / .skipped event's */
};

/*
 * The id of the newest delivery (0 when none). A campaign start reads it
 * once inside its write transaction and gives queue_add the ids that
 * follow, so Message-ID and ENVID, which name the id, go in with the
 * INSERT.
 */
int queue_last_id(struct db *db, int64_t *id, struct error *err);

/*
 * Queues d unless its (campaign, contact) pair exists (*added false, no
 * event), with its delivery.queued or delivery.skipped event. The caller
 * holds the write transaction.
 */
int queue_add(struct db *db, const struct queue_new *d, int64_t now,
	      bool *added, struct error *err);

/*
 * Queues the recipient set an approval froze for campaign_id
 * (campaign_recipients) in one INSERT ... SELECT: pending rows due at now
 * (created_at, next_attempt_at; expires_at, 0 for none) with their
 * Message-ID in domain and ENVID,
 * skipped rows with the reason frozen with them; pairs already queued are
 * left alone. Appends each new row's delivery.queued or delivery.skipped
 * event; *added gets how many. The caller holds the write transaction.
 */
int queue_add_frozen(struct db *db, int64_t campaign_id, int64_t now,
		     int64_t expires_at, const char *domain, int *added,
		     struct error *err);

/* Whether campaign_id has any delivery (*yes), in one index look-up. */
int queue_campaign_has(struct db *db, int64_t campaign_id, bool *yes,
		       struct error *err);

/*
 * Deliveries are queued when their campaign is scheduled, due at its send
 * time (created_at, next_attempt_at: the send time; expires_at: the send
 * time + queue.lifetime), and claimed only once it runs. At the start,
 * this reads one waiting delivery: when the start is more than late_s
 * after the time they were queued for (a campaign paused past its time, a
 * daemon that was down), or the lifetime in force (lifetime_s, 0 for
 * none) is not the one they were given, one UPDATE over columns in no
 * index gives every pending, never tried delivery the right due time and
 * expires_at. Otherwise, the usual case, it changes nothing. *changed
 * gets the rows.
 */
int queue_redue_campaign(struct db *db, int64_t campaign_id, int64_t start,
			 int64_t late_s, int64_t lifetime_s, int *changed,
			 struct error *err);

/*
 * Takes back every delivery of a campaign that has not started (rejected,
 * or its approval voided: back to draft, to be queued again if it is
 * scheduled again): each pending one gets a delivery.cancelled event
 * ("from": "pending", the reason, "withdrawn": "yes"), a skipped one
 * keeps its delivery.skipped, and the rows are deleted, so the (campaign,
 * contact) pairs are free for the next schedule; their ids are never
 * given again (queue_last_id reads the ledger's). ERR_SOFTWARE and
 * nothing changed when a delivery was ever tried. *withdrawn gets the
 * pending ones, *removed every row deleted. Nests in the caller's
 * transaction.
 */
int queue_withdraw_campaign(struct db *db, int64_t campaign_id,
			    const char *reason, int *withdrawn, int *removed,
			    struct error *err);

/* What a delivery report (a DSN, a bounce) says became of a message the
 * relay took; the bounce module decides, the queue moves the row. */
struct queue_report {
	int64_t delivery_id, campaign_id, body_id, contact_id;
	bool bounced;       /* else delivered */
	const char *reason; /* bounced: why, kept in the row */
	const char *klass;  /* bounced: its class (bounce_report.h), or NULL */
	const char *data;   /* the event's JSON: the report's evidence */
};

/*
 * sent or delivered → bounced, or sent → delivered, with one
 * delivery.bounced or delivery.delivered event carrying r->data, in one
 * transaction (nested in the caller's). ERR_SOFTWARE and nothing changed
 * when the row is no longer in a state the report fits.
 */
int queue_apply_report(struct db *db, const struct queue_report *r,
		       struct error *err);

/*
 * Returns every sending delivery whose lease ended before `before` to
 * pending, with a delivery.recovered event each (to cancelled, with a
 * delivery.cancelled event, when its campaign was cancelled). A daemon holding the
 * database's daemon lock passes INT64_MAX at start-up: any sending row
 * then belongs to a dead daemon. *recovered gets the count (may be NULL).
 */
int queue_recover(struct db *db, int64_t before, int *recovered,
		  struct error *err);

/* How much work there is. */
struct queue_depth {
	int64_t pending;     /* of any campaign */
	int64_t sending;
	int64_t deferred;
	int64_t due;         /* claimable now: running campaigns, due */
};

int queue_depth(struct db *db, int64_t now, struct queue_depth *out,
		struct error *err);

/*
 * The earliest time after now at which something becomes due: a deferred
 * delivery of a running campaign, or a lease that runs out. 0 when none.
 */
int queue_next_due(struct db *db, int64_t now, int64_t *when,
		   struct error *err);

#endif
