/*
 * notice: short e-mail notifications to the people responsible for the
 * campaigns (the configuration's notify.to), about what the ledger
 * records: a campaign that needs approval (campaign.created of a draft
 * when approvals are required), approved, rejected, its approval void,
 * reminded (due soon and not ready), missed, and done (with its counts
 * and the ledger's anchor).
 *
 * The notifier reads the ledger after its cursor (db/0011_notice.sql),
 * sends one plain text/plain UTF-8 message per event and address through
 * the configured transport, and records each as notify.sent (the event
 * it is about, to, subject) or notify.failed (and the reason); the
 * cursor moves in the same transaction. A failure that may pass (4xx,
 * relay unreachable) is tried again later, NOTICE_ATTEMPTS times in all;
 * a refusal (5xx) is not. Nothing from an event's data reaches a header
 * with a control character in it.
 *
 * A notification is sent at least once: a crash between the relay's
 * answer and the commit sends it again. It never holds up sending: the
 * daemon calls notice_run after each round's sending and only logs what
 * it returns.
 *
 * With no address configured nothing is sent and the cursor follows the
 * ledger's head, so that configuring one later does not announce the
 * past.
 */
#ifndef CHANCERY_NOTICE_H
#define CHANCERY_NOTICE_H

#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"

/* Attempts per notification and address, the first one included. */
#define NOTICE_ATTEMPTS 3
/* Events dealt with per notice_run at most: the rest wait for the next. */
#define NOTICE_BATCH 50

struct notice_stats {
	int events;  /* ledger events announced (or given up) */
	int sent;    /* messages accepted */
	int failed;  /* messages not accepted (retried or given up) */
};

/*
 * Announces the events after the cursor and retries what is due at now.
 * Returns 0, or an error (database, transport configuration) with the
 * cursor where it was; st (may be NULL) gets what was done.
 */
int notice_run(struct db *db, const struct conf *cfg, int64_t now,
	       struct notice_stats *st, struct error *err);

#endif
