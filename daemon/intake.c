/*
 * intake: every inbox.interval the daemon reads the IMAP mailbox
 * (inbox.imap_url) and the Maildir (inbox.maildir), whichever are set,
 * each message through inbox_take as `chancery inbox --imap` and
 * `--maildir` do. A failed poll is logged at error and tried again at
 * the next interval; a poll takes at most INTAKE_BATCH messages from
 * each source, so the sending loop waits for no more than that (and
 * libcurl's timeouts, and a signal ends the wait). Each poll logs one
 * line with what came back by kind; a message chancery cannot read is
 * logged at warning with its inbound id and the reason, for a person to
 * look at (`chancery inbox list --kind unreadable`).
 */
#include <stdio.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/imap.h"
#include "chancery/inbox.h"
#include "chancery/log.h"
#include "daemon.h"

#define INTAKE_BATCH 100

/* A message taken, logged as the CLI prints it, and a warning when a
 * person must read it. */
static void log_taken(const char *origin, const struct inbox_result *res)
{
	log_info("inbox: origin=%s kind=%s duplicate=%d bounced=%d "
		 "delivered=%d delayed=%d quarantined=%d",
		 origin, res->kind ? res->kind : "?", res->duplicate,
		 res->bounce.bounced, res->bounce.delivered,
		 res->bounce.delayed, res->bounce.quarantined);
	if (res->kind && strcmp(res->kind, "unreadable") == 0 &&
	    !res->duplicate)
		log_warn("inbox: unreadable message kept as inbound #%lld "
			 "(%s): %s; see 'chancery inbox list --kind "
			 "unreadable'", (long long)res->inbound_id, origin,
			 res->reason[0] ? res->reason : "no reason given");
}

/* The poll's line: what came back, by kind. */
static void log_polled(const char *what, const char *where, size_t waiting,
		       size_t taken, size_t skipped,
		       const struct inbox_counts *c)
{
	struct sbuf line = SBUF_INIT;

	inbox_counts_format(c, &line);
	log_info("inbox: polled %s %s %s=%zu taken=%zu skipped=%zu %s", what,
		 where, strcmp(what, "imap") == 0 ? "unread" : "new", waiting,
		 taken, skipped, line.buf);
	sbuf_release(&line);
}

/* ---- IMAP ---------------------------------------------------------------- */

struct intake_take {
	struct db *db;
	const struct conf *cfg;
	struct inbox_counts counts;
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
	inbox_counts_add(&t->counts, &res);
	log_taken(m->origin, &res);
	return 0;
}

static void skipped(const char *origin, const struct error *why, void *arg)
{
	(void)origin; /* why names it */
	(void)arg;
	log_warn("inbox: %s", why->msg);
}

/* Reads the mailbox; true when more messages wait than a poll takes. */
static bool poll_imap(const struct conf *cfg, struct db *db,
		      const char *interval, bool *interrupted)
{
	struct intake_take t = {db, cfg, {0}};
	struct error err = ERROR_INIT;
	struct imap_stats st = {0};
	struct imap_params p;
	int rc;

	imap_params_from_conf(&p, cfg);
	p.max_messages = INTAKE_BATCH;
	p.take = take;
	p.skipped = skipped;
	p.interrupted = signals_interrupted;
	p.arg = &t;
	rc = imap_fetch_unread(&p, &st, &err);
	if (rc == ERR_TEMPFAIL && signals_interrupted(NULL)) {
		/* a reload (or the stop) came: the poll is done after it */
		log_info("inbox: poll interrupted by a signal; %zu taken",
			 st.taken);
		*interrupted = true;
		return false;
	}
	if (rc) {
		log_error("inbox: %s; trying again in %s", err.msg, interval);
		return false;
	}
	log_polled("imap", cfg->imap.url, st.unread, st.taken, st.skipped,
		   &t.counts);
	return st.taken + st.skipped >= INTAKE_BATCH;
}

/* ---- Maildir ------------------------------------------------------------- */

static void maildir_taken(const char *name, const char *path,
			  const struct inbox_result *res, const char *notes,
			  void *arg)
{
	(void)path;
	(void)notes;
	(void)arg;
	log_taken(name, res);
}

static void maildir_failed(const struct error *why, void *arg)
{
	(void)arg;
	log_warn("inbox: %s", why->msg);
}

/* Reads the Maildir; true when more messages wait than a poll takes. */
static bool poll_maildir(const struct conf *cfg, struct db *db,
			 const char *interval, bool *interrupted)
{
	struct inbox_maildir p = {
		.dir = cfg->imap.maildir,
		.max_messages = INTAKE_BATCH,
		.taken = maildir_taken,
		.failed = maildir_failed,
		.interrupted = signals_interrupted,
	};
	struct inbox_maildir_stats st = {0};
	struct error err = ERROR_INIT;
	int rc = inbox_read_maildir(db, cfg, &p, &st, &err);

	if (rc) {
		log_error("inbox: %s; trying again in %s", err.msg, interval);
		return false;
	}
	if (signals_interrupted(NULL) && st.moved + st.failed < st.listed &&
	    st.moved + st.failed < INTAKE_BATCH) {
		log_info("inbox: poll interrupted by a signal; %zu taken",
			 st.moved);
		*interrupted = true;
		return false;
	}
	log_polled("maildir", cfg->imap.maildir, st.listed, st.moved,
		   st.failed, &st.counts);
	return st.listed > INTAKE_BATCH;
}

void intake_poll(struct intake *in, const struct conf *cfg, struct db *db)
{
	int64_t now = clock_mono_ms();
	bool more = false, interrupted = false;
	char interval[32];

	if ((!cfg->imap.url && !cfg->imap.maildir) || !cfg->imap.interval_ms ||
	    (in->polled && now < in->next_ms))
		return;
	snprintf(interval, sizeof(interval), "%lld s",
		 (long long)(cfg->imap.interval_ms / 1000));
	if (cfg->imap.url)
		more |= poll_imap(cfg, db, interval, &interrupted);
	if (cfg->imap.maildir && !interrupted)
		more |= poll_maildir(cfg, db, interval, &interrupted);
	in->polled = true;
	in->next_ms = clock_mono_ms() + cfg->imap.interval_ms;
	/* a signal came (the poll is done after it), or more than a batch
	 * waiting: the next round takes the next batch */
	if (interrupted || more)
		in->next_ms = now;
}
