/*
 * chanceryd's own pieces, around the core library: signals, the database
 * lock and pid file, systemd notification, and the glue that hands the
 * dispatch engine the real transport and the campaign's renderer.
 */
#ifndef CHANCERYD_DAEMON_H
#define CHANCERYD_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/dispatch.h"
#include "chancery/error.h"

/* --- signals.c: handlers only set flags and write to a self-pipe. ---- */
struct signal_flags {
	volatile sig_atomic_t stop;   /* SIGTERM, SIGINT */
	volatile sig_atomic_t reload; /* SIGHUP */
};
extern struct signal_flags signal_flags;

/* Installs the handlers (and ignores SIGPIPE: libESMTP asks for it). */
int signals_init(struct error *err);
/* Waits up to timeout_ms (-1: forever) for a signal; drains the pipe. */
void signals_wait(int timeout_ms);
/* True when the current dispatch round should stop: stop or reload. */
bool signals_interrupted(void *arg);

/* --- lock.c: one daemon per database; the pid file; detaching. ----- */
struct daemon_lock {
	int fd;
	char *path;
	char *pid_file; /* written by us, removed at exit; NULL if none */
};

/*
 * Takes the lock "<database>.lock" (flock, held until exit): a second
 * daemon on the same database gets ERR_TEMPFAIL naming the pid holding it.
 */
int lock_acquire(struct daemon_lock *l, const char *db_path, struct error *err);
/* Writes our pid into the lock file and, when path is set, the pid file. */
int lock_write_pid(struct daemon_lock *l, const char *pid_file,
		   struct error *err);
void lock_release(struct daemon_lock *l);

/*
 * Detaches: forks, the parent waits until the child reports readiness
 * (detach_ready) or failure, and exits with the child's status then.
 * Returns in the child only.
 */
int detach_start(struct error *err);
/* Tells the waiting parent: status 0 = running, else the exit status. */
void detach_ready(int status);

/* --- notify.c: sd_notify when built with libsystemd. ---------------- */
void notify_ready(void);
void notify_stopping(void);
void notify_reloading(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --- glue.c: the real transport and renderer for the dispatch engine. */
extern const struct dispatch_link_ops glue_transport_link;
/* link_arg and render_arg: the const struct conf *. glue_render needs
 * the per-worker state of glue_render_open (freed by glue_render_close). */
void *glue_render_open(void *arg, int worker);
void glue_render_close(void *state);
/* The language of the message glue_render last wrote in that worker. */
const char *glue_render_lang(void *state);
int glue_render(void *state, struct db *db, const struct queue_item *item,
		struct sbuf *out, struct error *err);

/* --- intake.c: the IMAP mailbox and the Maildir, read every
 * inbox.interval. ---------------------------------------------------- */
struct intake {
	bool polled;     /* once at least */
	int64_t next_ms; /* clock_mono_ms of the next poll */
};
/* Reads inbox.imap_url and inbox.maildir, those set, when the interval
 * has passed; logs what it took by kind, or the error (tried again next
 * interval). */
void intake_poll(struct intake *in, const struct conf *cfg, struct db *db);

/* --- relay_watch.c: relay outages (relay.h) and the heartbeat. ------ */
struct relay_watch {
	long pid;
	bool down;
	bool notify_now;          /* the outage began this round */
	int64_t since, retry_at;  /* down: since when, next probe */
	int64_t checked_at;       /* ok: last written */
	int64_t last_beat_ms;
	char last_error[512];
};
/* Writes daemon_state (pid, host, version, start) and reads the relay's
 * state: a relay left down is probed at the first round. */
int relay_watch_start(struct relay_watch *w, struct db *db, struct error *err);
/* The heartbeat, written at most every few seconds. */
void relay_watch_beat(struct relay_watch *w, struct db *db);
/* Before a round's sending: false while the relay is down (a probe at
 * retry_at may find it back). */
bool relay_watch_may_send(struct relay_watch *w, struct db *db,
			  const struct conf *cfg);
/* After it: a relay-level fault marks the relay down. */
void relay_watch_after(struct relay_watch *w, struct db *db,
		       const struct conf *cfg, const struct dispatch_stats *st);
/* Whether notifications go out this round: not while the relay is down,
 * except the round its outage began (relay.down is tried once). */
bool relay_watch_notices(const struct relay_watch *w);
/* SIGHUP: the settings may be fixed; probe at once. */
void relay_watch_reload(struct relay_watch *w, struct db *db);

#endif
