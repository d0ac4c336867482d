/*
 * relay: the relay's state as chanceryd finds it (relay_state), and the
 * daemon's own row (daemon_state), both read by `chancery status`; only
 * the daemon writes them (db/0016_relay_state.sql).
 *
 * A relay-level fault (transport.h: AUTH or TLS refused, no connection,
 * a 421 banner) makes the relay "down": since when, the last error, how
 * many failures in a row and when it is tried next (relay.retry.first,
 * doubling, at most relay.retry.max). The first fault of an outage
 * appends one relay.down event; the daemon then claims no delivery
 * until a probe of the relay (transport_probe: connect, TLS, AUTH, cut
 * off at DATA) works, which makes it "ok" again with one relay.up event
 * and gives the waiting deliveries back the lifetime the outage took
 * (queue_relay_outage_end, up to twice queue.lifetime from creation).
 */
#ifndef CHANCERY_RELAY_H
#define CHANCERY_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/transport.h"

struct relay_status {
	bool known;          /* a row exists */
	bool down;
	int64_t since;       /* down: when the outage began; ok: when it
			      * last came back (or was first seen) */
	int64_t retry_at;    /* down: the next probe; else 0 */
	int64_t checked_at;
	int failures;        /* faults in a row */
	char last_error[512];
};

int relay_status_get(struct db *db, struct relay_status *out,
		     struct error *err);

/* The delay before probe number failures (1 = after the first fault). */
int64_t relay_backoff_ms(const struct conf_relay *c, int failures);

/*
 * Records a relay-level fault r at now: down (since kept when it was
 * already down), failures + 1, retry_at after the backoff, last_error
 * from r. The first of an outage appends relay.down (relay, reason,
 * code, phase, retry_at) and sets *began. out gets the new state.
 */
int relay_mark_down(struct db *db, const struct conf *cfg, int64_t now,
		    const struct transport_result *r,
		    struct relay_status *out, bool *began, struct error *err);

/*
 * The relay works (a probe or a message went through) at now. When it
 * was down: state ok, one relay.up event (down_since, outage_seconds,
 * reason: the last error), and the waiting deliveries' lifetime
 * extended by the outage (queue.h); *ended set. A relay already ok only
 * has checked_at moved (or its row made).
 */
int relay_mark_up(struct db *db, const struct conf *cfg, int64_t now,
		  bool *ended, struct error *err);

/* Makes the next probe due at now (a reload: the settings may be fixed). */
int relay_retry_now(struct db *db, int64_t now, struct error *err);

/* daemon_state: the row written at start, and the heartbeat after. */
int relay_daemon_started(struct db *db, long pid, const char *host,
			 const char *version, int64_t now, struct error *err);
int relay_daemon_beat(struct db *db, long pid, int64_t now,
		      struct error *err);

#endif
