/*
 * intake: the daemon reads the IMAP mailbox (inbox.imap_url) every
 * inbox.interval, each message through inbox_take as `chancery bounce
 * --imap` does. A failed poll is logged and tried again at the next
 * interval; a poll takes at most INTAKE_BATCH messages, so the sending
 * loop waits for no more than that (and libcurl's timeouts, and a signal
 * ends the wait).
 */
#include <string.h>

#include "chancery/clock.h"
#include "chancery/imap.h"
#include "chancery/inbox.h"
#include "chancery/log.h"
#include "daemon.h"

#define INTAKE_BATCH 100

struct intake_take {
	struct db *db;
	const struct conf *cfg;
};

static int take(const struct imap_message *m, void *arg, struct error *err)
{
	struct intake_take *t = arg;
	struct inbox_message in = {INBOX_IMAP, m->origin, NULL, m->raw, m->len};
	struct inbox_result res;
	int rc = inbox_take(t->db, t->cfg, &in, &res, NULL, NULL, err);

	if (rc) {
		error_prefix(err, "%s", m->origin);
		return rc;
	}
	log_info("inbox: origin=%s kind=%s duplicate=%d bounced=%d "
		 "delivered=%d delayed=%d quarantined=%d",
		 m->origin, res.kind ? res.kind : "?", res.duplicate,
		 res.bounce.bounced, res.bounce.delivered, res.bounce.delayed,
		 res.bounce.quarantined);
	return 0;
}

static void skipped(const char *origin, const struct error *why, void *arg)
{
	(void)origin; /* why names it */
	(void)arg;
	log_warn("inbox: %s", why->msg);
}

void intake_poll(struct intake *in, const struct conf *cfg, struct db *db)
{
	struct intake_take t = {db, cfg};
	struct error err = ERROR_INIT;
	struct imap_stats st;
	struct imap_params p;
	int64_t now = clock_mono_ms();
	int rc;

	if (!cfg->imap.url || !cfg->imap.interval_ms ||
	    (in->polled && now < in->next_ms))
		return;
	imap_params_from_conf(&p, cfg);
	p.max_messages = INTAKE_BATCH;
	p.take = take;
	p.skipped = skipped;
	p.interrupted = signals_interrupted;
	p.arg = &t;
	rc = imap_fetch_unread(&p, &st, &err);
	in->polled = true;
	in->next_ms = clock_mono_ms() + cfg->imap.interval_ms;
	if (rc == ERR_TEMPFAIL && signals_interrupted(NULL)) {
		/* a reload (or the stop) came: the poll is done after it */
		log_info("inbox: poll interrupted by a signal; %zu taken",
			 st.taken);
		in->next_ms = now;
		return;
	}
	if (rc) {
		log_error("inbox: %s; trying again in %lld s", err.msg,
			  (long long)(cfg->imap.interval_ms / 1000));
		return;
	}
	log_info("inbox: polled %s unread=%zu taken=%zu skipped=%zu",
		 cfg->imap.url, st.unread, st.taken, st.skipped);
	/* more than a batch waiting: the next round takes the next batch */
	if (st.taken + st.skipped >= INTAKE_BATCH)
		in->next_ms = now;
}
