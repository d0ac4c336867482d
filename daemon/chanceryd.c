/*
 * chanceryd: the queue daemon. Creates the campaigns of series that fall
 * due, starts scheduled campaigns, sends their deliveries through the
 * dispatch engine, finishes campaigns with nothing left, and sleeps until
 * the next thing is due or a signal comes. See chanceryd(8).
 */
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <syslog.h> /* _PATH_LOG */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "chancery/campaign.h"
#include "chancery/campaign_start.h"
#include "chancery/clock.h"
#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/dispatch.h"
#include "chancery/imap.h"
#include "chancery/log.h"
#include "chancery/mime.h"
#include "chancery/notice.h"
#include "chancery/queue.h"
#include "chancery/series.h"
#include "chancery/transport.h"
#include "chancery/watch.h"
#include "chancery/xalloc.h"
#include "daemon.h"

/* The longest sleep: a campaign scheduled (or resumed) by the command
 * line while we sleep is noticed within this time. A round that finds
 * nothing due costs a few indexed queries, so a second is cheap. */
#define POLL_MAX_MS 1000
/* The shortest sleep between rounds that found nothing to send. */
#define MIN_SLEEP_MS 1000
/* After a failed round (relay misconfigured, database locked). */
#define RETRY_AFTER_ERROR_MS 15000

struct daemon {
	const char *config_path;
	const char *db_override;
	bool once, foreground;
	int64_t once_due_by; /* --once: what was due when it started */
	struct conf cfg;
	char *db_path;
	struct db *db;
	struct daemon_lock lock;
	char owner[160];
	struct intake intake;
	struct relay_watch relay; /* relay outages, heartbeat (relay_watch.c) */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: chanceryd [--config FILE] [--db FILE] [--once] "
		   "[--foreground]\n"
		   "       chanceryd --help | --version\n\n"
		   "  --config FILE  configuration (default: $CHANCERY_CONFIG "
		   "or %s)\n"
		   "  --db FILE      database (default: database.path)\n"
		   "  --once         send what is due now, then exit\n"
		   "  --foreground   do not detach; log to standard error\n",
		conf_system_path());
}

/* 0 to go on, or the exit status to leave with (-1: exit 0). */
static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"once", no_argument, NULL, 'o'},
		{"foreground", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:d:ofhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d->config_path = optarg; break;
		case 'd': d->db_override = optarg; break;
		case 'o': d->once = true; break;
		case 'f': d->foreground = true; break;
		case 'h': usage(stdout); return -1;
		case 'V': printf("chanceryd %s\n", CHANCERY_VERSION); return -1;
		case ':':
			fprintf(stderr, "chanceryd: option '%s' needs a value\n",
				argv[optind - 1]);
			return EX_USAGE;
		default:
			fprintf(stderr, "chanceryd: unknown option '%s'\n",
				argv[optind - 1]);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "chanceryd: unexpected argument '%s'\n",
			argv[optind]);
		return EX_USAGE;
	}
	/* --once is a command run to its end: never detached. */
	if (d->once)
		d->foreground = true;
	return 0;
}

static int load_config(struct daemon *d, struct error *err)
{
	conf_init(&d->cfg);
	if (!d->config_path)
		d->config_path = conf_default_path();
	if (d->config_path && conf_load(&d->cfg, d->config_path, err))
		return err->code;
	/* Refused now rather than in every round, for ever. */
	if (transport_check_config(&d->cfg, err) ||
	    imap_check_config(&d->cfg, err))
		return err->code;
	d->db_path = xstrdup(d->db_override ? d->db_override : d->cfg.database);
	return 0;
}

/*
 * Detached, stderr leads nowhere: a configured stderr target becomes
 * syslog, and the terminal (still ours) is told so in one line. Where no
 * syslog socket takes the lines (a container, a minimal host), a daemon
 * that would log into nothing refuses to start instead.
 */
static int check_log(const struct daemon *d, struct error *err)
{
	bool stderr_target = d->cfg.log_target == LOG_TARGET_STDERR;

	if (d->foreground && stderr_target)
		return 0;
	if (access(_PATH_LOG, W_OK) != 0)
		return error_set(err, ERR_CONFIG,
				 "log.target is \"%s\"%s, but no syslog "
				 "listens on %s: the log would be lost; run "
				 "chanceryd --foreground under systemd or a "
				 "supervisor, or start a syslog daemon",
				 stderr_target ? "stderr" : "syslog",
				 stderr_target ? " and chanceryd detaches" : "",
				 _PATH_LOG);
	if (stderr_target)
		fprintf(stderr, "chanceryd: detached, standard error leads "
			"nowhere: logging to syslog (facility mail) instead "
			"of log.target \"stderr\"\n");
	return 0;
}

/* Detached, stderr leads nowhere: a configured stderr target becomes
 * syslog (check_log said so). */
static void open_log(const struct daemon *d)
{
	enum log_target target = d->cfg.log_target;

	if (!d->foreground)
		target = LOG_TARGET_SYSLOG;
	log_open("chanceryd", target, d->cfg.log_level);
}

static void make_owner(struct daemon *d)
{
	char host[64] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(d->owner, sizeof(d->owner), "chanceryd@%s/%ld/%lld", host,
		 (long)getpid(), (long long)clock_now());
}

/* The daemon's own settings for its connection. */
static int tune_db(struct db *db, struct error *err)
{
	/*
	 * The daemon writes at the tails of the deliveries and events trees
	 * and reads little else: measured, 512 KiB of page cache sends as
	 * fast as SQLite's default 2 MiB (what misses comes from the OS's
	 * cache) and lowers the peak by a megabyte.
	 */
	int rc = db_exec(db, "PRAGMA cache_size = -512", err);

	/* Starting a campaign is one transaction, so the WAL grows to hold
	 * it (580 MB for a million contacts) and SQLite keeps the file at
	 * that size for reuse: have it cut back once checkpointed. */
	if (!rc)
		rc = db_exec(db, "PRAGMA journal_size_limit = 67108864", err);
	return rc;
}

static int start(struct daemon *d, struct error *err)
{
	int recovered = 0, rc;

	if (!d->foreground && (rc = detach_start(err)) != 0)
		return rc;
	/* Before the lock file, which would otherwise be left next to a
	 * database that is not there. */
	rc = db_check_file(d->db_path, 0, err);
	if (!rc)
		rc = lock_acquire(&d->lock, d->db_path, err);
	if (!rc)
		rc = lock_write_pid(&d->lock,
				    d->foreground ? NULL : d->cfg.pid_file, err);
	if (!rc)
		rc = db_open(d->db_path, 0, (int)d->cfg.busy_timeout_ms, &d->db,
			     err);
	if (!rc)
		rc = tune_db(d->db, err);
	if (rc)
		return rc;
	make_owner(d);
	/* We hold the daemon lock: whatever is still sending was claimed by
	 * a daemon that died, whatever its lease says. */
	rc = queue_recover(d->db, INT64_MAX, &recovered, err);
	if (!rc)
		rc = relay_watch_start(&d->relay, d->db, err);
	if (rc)
		return rc;
	log_info("started: database=%s transport=%s workers=%d owner=%s "
		 "recovered=%d",
		 d->db_path, conf_transport_name(d->cfg.transport),
		 d->cfg.queue.workers, d->owner, recovered);
	return 0;
}

/* What one round did. */
struct round {
	int created, started, finished;
	struct dispatch_stats st;
};

static void report_status(struct daemon *d)
{
	struct error err = ERROR_INIT;
	struct queue_depth depth;

	if (queue_depth(d->db, clock_now(), &depth, &err) == 0)
		notify_status("%lld due, %lld pending, %lld deferred, %lld in "
			      "flight",
			      (long long)depth.due, (long long)depth.pending,
			      (long long)depth.deferred,
			      (long long)depth.sending);
}

/* Campaign bookkeeping before sending: series, reminders and missed
 * campaigns, starts, lapsed leases. */
static int prepare_round(struct daemon *d, struct round *r, struct error *err)
{
	struct watch_report w;
	int64_t now = clock_now();
	int rc;

	rc = series_create_due(d->db, &d->cfg, now, &r->created, err);
	/* After the series (a draft made now may be due soon), before the
	 * starts (a late start is logged before it happens). */
	if (!rc)
		rc = watch_campaigns(d->db, &d->cfg, now, &w, err);
	if (!rc)
		rc = campaign_start_due(d->db, &d->cfg, now, &r->started, err);
	if (!rc)
		rc = queue_recover(d->db, now, NULL, err);
	if (!rc && (r->created || r->started))
		log_info("campaigns: created=%d started=%d", r->created,
			 r->started);
	return rc;
}

/* Notifications of what the round (or the command line) recorded: after
 * the sending, and never its end: a failure is logged and the
 * notifications wait for the next round (notice.h). */
static void run_notices(struct daemon *d)
{
	struct error err = ERROR_INIT;

	if (notice_run(d->db, &d->cfg, clock_now(), NULL, &err))
		log_warn("notice: %s; trying again next round", err.msg);
}

/* Polled by the dispatch between its commits: the heartbeat goes on
 * during a long send. */
static bool round_interrupted(void *arg)
{
	struct daemon *d = arg;

	relay_watch_beat(&d->relay, d->db);
	return signals_interrupted(NULL);
}

static int run_round(struct daemon *d, struct round *r, struct error *err)
{
	struct dispatch_params p = {
		.db = d->db,
		.cfg = &d->cfg,
		.owner = d->owner,
		.link = &glue_transport_link,
		.link_arg = &d->cfg,
		.render = glue_render,
		.render_arg = &d->cfg,
		.render_open = glue_render_open,
		.render_close = glue_render_close,
		.render_lang = glue_render_lang,
		.interrupted = round_interrupted,
		.interrupt_arg = d,
		.due_by = d->once_due_by,
	};
	int rc = prepare_round(d, r, err);

	/* Nothing is claimed while the relay is down (relay_watch.c). */
	if (!rc && relay_watch_may_send(&d->relay, d->db, &d->cfg)) {
		rc = dispatch_run(&p, &r->st, err);
		relay_watch_after(&d->relay, d->db, &d->cfg, &r->st);
	}
	/* Finish what is done even after a failed dispatch. */
	if (rc != 0 && rc != ERR_TEMPFAIL) {
		struct error ignored = ERROR_INIT;

		campaign_finish_done(d->db, clock_now(), &r->finished, &ignored);
	} else if (!rc) {
		rc = campaign_finish_done(d->db, clock_now(), &r->finished, err);
	}
	if (relay_watch_notices(&d->relay))
		run_notices(d);
	if (r->st.claimed || r->st.skipped || r->finished)
		log_info("round: claimed=%lld sent=%lld deferred=%lld "
			 "failed=%lld expired=%lld skipped=%lld cancelled=%lld "
			 "held=%lld released=%lld commits=%lld campaigns_done=%d",
			 (long long)r->st.claimed, (long long)r->st.sent,
			 (long long)r->st.deferred, (long long)r->st.failed,
			 (long long)r->st.expired, (long long)r->st.skipped,
			 (long long)r->st.cancelled, (long long)r->st.held,
			 (long long)r->st.released, (long long)r->st.commits,
			 r->finished);
	report_status(d);
	return rc;
}

/* Milliseconds until something is due (series, campaign, retry, lease). */
static int sleep_ms(struct daemon *d)
{
	struct error err = ERROR_INIT;
	int64_t now = clock_now(), next = 0, t;
	int64_t ms;

	if (queue_next_due(d->db, now, &t, &err) == 0 && t)
		next = t;
	if (campaign_next_due(d->db, &t, &err) == 0 && (!next || t < next))
		next = t;
	if (series_next_due(d->db, now, &t, &err) == 0 && (!next || t < next))
		next = t;
	if (!next)
		return POLL_MAX_MS;
	ms = (next - now) * 1000;
	/* Due already, yet the round just run did not take it (a campaign
	 * that cannot start, say): look again later, not in a busy loop. */
	if (ms <= 0)
		ms = MIN_SLEEP_MS;
	return ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms;
}

/*
 * SIGHUP: reads the configuration again and takes it only when it loads
 * and the transport could use it (transport_check_config, as at start
 * and in `chancery config check`); otherwise the running one stays.
 */
static void reload(struct daemon *d)
{
	struct error err = ERROR_INIT;
	struct conf fresh;

	signal_flags.reload = 0;
	notify_reloading();
	relay_watch_reload(&d->relay, d->db);
	conf_init(&fresh);
	if (!d->config_path) {
		log_info("reload: no configuration file; nothing to read");
	} else if (conf_load(&fresh, d->config_path, &err) ||
		   transport_check_config(&fresh, &err) ||
		   imap_check_config(&fresh, &err)) {
		log_error("reload: %s; keeping the running configuration",
			  err.msg);
	} else {
		if (!d->db_override &&
		    strcmp(d->cfg.database, fresh.database) != 0)
			log_warn("reload: database.path changed to %s; the "
				 "daemon keeps %s until restarted",
				 fresh.database, d->db_path);
		conf_release(&d->cfg);
		d->cfg = fresh;
		memset(&fresh, 0, sizeof(fresh)); /* d->cfg owns it now */
		log_set_level(d->cfg.log_level);
		log_info("reload: configuration read from %s", d->config_path);
	}
	conf_release(&fresh);
	notify_ready();
}

/* The main loop; returns 0 or the error that ended it. */
static int serve(struct daemon *d, struct error *err)
{
	/* --once sends what is due as it starts: a retry that comes due
	 * during its own run waits for the next run, so a stalling relay
	 * cannot keep it going for the whole retry schedule. */
	if (d->once)
		d->once_due_by = clock_now();
	for (;;) {
		struct round r = {0};
		int rc;

		relay_watch_beat(&d->relay, d->db);
		if (signal_flags.reload)
			reload(d);
		if (signal_flags.stop) {
			notify_stopping();
			return 0;
		}
		rc = run_round(d, &r, err);
		/* after the round, whatever it met: a relay down does not
		 * stop the reports coming back */
		if (!d->once)
			intake_poll(&d->intake, &d->cfg, d->db);
		if (rc && d->once)
			return rc;
		if (rc) {
			log_error("%s; trying again in %d s", err->msg,
				  RETRY_AFTER_ERROR_MS / 1000);
			error_clear(err);
			signals_wait(RETRY_AFTER_ERROR_MS);
			continue;
		}
		if (d->once) {
			/* Done when a round found nothing new to do; a relay
			 * that is down then fails the run (EX_UNAVAILABLE),
			 * so that a timer or cron job sees the outage. */
			if (!r.st.claimed && !r.created && !r.started)
				return d->relay.down
					       ? error_set(err, ERR_UNAVAILABLE,
							   "relay down: %s",
							   d->relay.last_error)
					       : 0;
			continue;
		}
		if (!r.st.claimed && !r.st.interrupted)
			signals_wait(sleep_ms(d));
	}
}

int main(int argc, char **argv)
{
	struct daemon d = {.lock = {.fd = -1}};
	struct error err = ERROR_INIT;
	int rc, status;

	setlocale(LC_ALL, "C.UTF-8");
	status = parse_args(&d, argc, argv);
	if (status)
		return status < 0 ? 0 : status;
	rc = load_config(&d, &err);
	if (!rc)
		rc = check_log(&d, &err);
	if (rc) {
		fprintf(stderr, "chanceryd: %s\n", err.msg);
		conf_release(&d.cfg);
		free(d.db_path);
		return error_exit_status(rc);
	}
	open_log(&d);
	mime_init();
	rc = signals_init(&err);
	if (!rc)
		rc = start(&d, &err);
	if (rc) {
		/* The terminal is still ours (a detaching parent waits). */
		fprintf(stderr, "chanceryd: %s\n", err.msg);
		if (d.cfg.log_target == LOG_TARGET_SYSLOG || !d.foreground)
			log_error("%s", err.msg);
		detach_ready(error_exit_status(rc));
		goto out;
	}
	detach_ready(0);
	notify_ready();
	report_status(&d);
	rc = serve(&d, &err);
	notify_stopping();
	if (rc)
		log_error("%s", err.msg);
	log_info("stopped%s", rc ? " after an error" : "");
out:
	db_close(d.db);
	lock_release(&d.lock);
	free(d.db_path);
	conf_release(&d.cfg);
	return error_exit_status(rc);
}
