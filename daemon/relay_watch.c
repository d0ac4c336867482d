/*
 * The daemon's side of relay outages (relay.h) and its heartbeat: kept
 * apart from the main loop, which calls in at four points (start,
 * before sending, after sending, reload).
 *
 * A relay-level fault in a round (dispatch_stats.relay_down) marks the
 * relay down: logged at error, one relay.down event, and the
 * notification of it tried at once through notice.c. Since the relay is
 * the way out for notifications too, that try usually fails: it is
 * recorded as notify.failed and retried by notice.c's schedule, the
 * relay.up notification tells of the whole outage once the relay works,
 * and meanwhile the error log and `chancery status` (relay_state) carry
 * it. While the relay is down no delivery is claimed (so none spends an
 * attempt) and other notifications wait; at retry_at a probe
 * (transport_probe, cut off at DATA) decides whether it is back.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chancery/clock.h"
#include "chancery/log.h"
#include "chancery/queue.h"
#include "chancery/relay.h"
#include "daemon.h"

/* The heartbeat is written at most this often. */
#define BEAT_MS 5000
/* An ok relay's checked_at moves at most this often. */
#define CHECKED_EVERY_S 60

static void utc(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int relay_watch_start(struct relay_watch *w, struct db *db, struct error *err)
{
	struct relay_status s;
	char host[64] = "localhost";
	int rc;

	memset(w, 0, sizeof(*w));
	w->pid = (long)getpid();
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	rc = relay_daemon_started(db, w->pid, host, CHANCERY_VERSION,
				  clock_now(), err);
	if (!rc)
		rc = relay_status_get(db, &s, err);
	if (rc)
		return rc;
	w->last_beat_ms = clock_mono_ms();
	w->down = s.down;
	w->since = s.since;
	w->retry_at = clock_now(); /* a relay left down: probed at once */
	snprintf(w->last_error, sizeof(w->last_error), "%s", s.last_error);
	if (w->down)
		log_warn("relay: down since the last run (%s); probing it",
			 w->last_error);
	return 0;
}

void relay_watch_beat(struct relay_watch *w, struct db *db)
{
	struct error err = ERROR_INIT;
	int64_t now = clock_mono_ms();

	if (now - w->last_beat_ms < BEAT_MS)
		return;
	w->last_beat_ms = now;
	if (relay_daemon_beat(db, w->pid, clock_now(), &err))
		log_warn("heartbeat: %s", err.msg);
}

/* While down and before the next probe: deliveries whose lifetime even
 * the outage's extension cannot cover expire, saying why. */
static void expire_overdue(struct relay_watch *w, struct db *db,
			   const struct conf *cfg, int64_t now)
{
	struct error err = ERROR_INIT;
	char since[40], reason[700];
	int expired = 0;

	utc(w->since, since, sizeof(since));
	snprintf(reason, sizeof(reason),
		 "expired: the relay was down since %s: %s", since,
		 w->last_error);
	if (queue_expire_outage(db, now, 2 * (cfg->queue.lifetime_ms / 1000),
				reason, &expired, &err))
		log_warn("relay: %s", err.msg);
	else if (expired)
		log_error("relay: %d deliveries expired while the relay was "
			  "down: %s", expired, reason);
}

static void went_down(struct relay_watch *w, struct db *db,
		      const struct conf *cfg, const struct transport_result *r)
{
	struct error err = ERROR_INIT;
	struct relay_status s;
	bool began = false;
	int64_t now = clock_now();

	if (relay_mark_down(db, cfg, now, r, &s, &began, &err)) {
		log_error("relay: cannot record its fault: %s", err.msg);
		s.since = w->down ? w->since : now;
		s.retry_at = now + relay_backoff_ms(&cfg->relay, 1) / 1000;
		s.failures = 0;
	}
	w->down = true;
	w->since = s.since;
	w->retry_at = s.retry_at;
	w->notify_now = began;
	snprintf(w->last_error, sizeof(w->last_error), "%s", r->text);
	if (began)
		log_error("relay down (%s): %s; sending stopped: deliveries "
			  "wait without spending attempts or lifetime; next "
			  "try in %lld s", transport_phase_name(r->phase),
			  r->text, (long long)(s.retry_at - now));
	else
		log_error("relay still down (%s, %d failures in a row): %s; "
			  "next try in %lld s", transport_phase_name(r->phase),
			  s.failures, r->text, (long long)(s.retry_at - now));
}

static void came_up(struct relay_watch *w, struct db *db,
		    const struct conf *cfg, int64_t now)
{
	struct error err = ERROR_INIT;
	bool ended = false;

	if (relay_mark_up(db, cfg, now, &ended, &err)) {
		log_error("relay: cannot record that it works: %s", err.msg);
		return;
	}
	w->checked_at = now;
	if (w->down || ended)
		log_info("relay up again after %lld s down; sending resumes",
			 (long long)(now - w->since));
	w->down = false;
}

bool relay_watch_may_send(struct relay_watch *w, struct db *db,
			  const struct conf *cfg)
{
	struct transport_result res;
	struct error err = ERROR_INIT;
	int64_t now = clock_now();

	w->notify_now = false;
	if (!w->down)
		return true;
	if (now < w->retry_at) {
		expire_overdue(w, db, cfg, now);
		return false;
	}
	if (transport_probe(cfg, NULL, NULL, NULL, &res, &err)) {
		memset(&res, 0, sizeof(res));
		res.outcome = TRANSPORT_TEMPFAIL;
		snprintf(res.text, sizeof(res.text), "%.500s", err.msg);
		res.relay_fault = true;
		res.phase = TRANSPORT_PHASE_CONNECT;
	}
	if (res.outcome == TRANSPORT_TEMPFAIL && res.relay_fault) {
		went_down(w, db, cfg, &res);
		expire_overdue(w, db, cfg, now);
		return false;
	}
	came_up(w, db, cfg, now);
	return true;
}

void relay_watch_after(struct relay_watch *w, struct db *db,
		       const struct conf *cfg, const struct dispatch_stats *st)
{
	int64_t now = clock_now();

	if (st->relay_down)
		went_down(w, db, cfg, &st->relay_fault);
	else if (st->sent > 0 && now - w->checked_at >= CHECKED_EVERY_S)
		came_up(w, db, cfg, now);
}

bool relay_watch_notices(const struct relay_watch *w)
{
	return !w->down || w->notify_now;
}

void relay_watch_reload(struct relay_watch *w, struct db *db)
{
	struct error err = ERROR_INIT;

	if (!w->down)
		return;
	w->retry_at = clock_now();
	if (relay_retry_now(db, w->retry_at, &err))
		log_warn("relay: %s", err.msg);
	log_info("reload: the relay is tried again now");
}
