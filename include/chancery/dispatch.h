/*
 * dispatch: the sending engine around the queue's state machine.
 *
 * One thread (the caller of dispatch_run) owns the database connection
 * that writes: it claims deliveries, records results and commits. A pool
 * of worker threads (queue.workers) renders and sends: each has its own
 * connection to the relay (a transport instance) and its own read-only
 * database connection for the renderer, and never writes. Rendering in
 * the workers keeps the writing thread to the state changes alone: with
 * the campaign's renderer in that thread it was the bottleneck (about
 * 150 us of its CPU per message, against about 50 us for the database).
 *
 * Results are committed in groups: the results gathered so far are
 * recorded in one transaction (together with the next claim when one is
 * due) at least every queue.commit_interval, and always before
 * dispatch_run returns. A crash therefore loses at most the results of
 * messages in flight, whose rows are still "sending" and come back through
 * lease recovery: the duplicates a crash can cause are bounded by the
 * number of claimed deliveries, at most 2 * queue.batch_size.
 *
 * A token bucket shared by the workers holds the sending rate to
 * queue.rate_per_minute (0: no limit); the cap of messages per connection
 * is the transport's. Rate and commit timers run on the real monotonic
 * clock, never on the fake clock of clock.h: they pace real work.
 */
#ifndef CHANCERY_DISPATCH_H
#define CHANCERY_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/queue.h"
#include "chancery/sbuf.h"
#include "chancery/transport.h"

/*
 * How a worker sends: one link is one worker's connection. The daemon
 * wraps transport_new/transport_send/transport_free; tests and the
 * benchmark use their own. open is called in the dispatching thread,
 * send and close in the worker that owns the link.
 */
struct dispatch_link_ops {
	void *(*open)(void *arg, int worker, struct error *err);
	/* Like transport_send: 0 when every message has a result. */
	int (*send)(void *link, struct transport_message *msgs, size_t n,
		    struct error *err);
	void (*close)(void *link);
};

/*
 * Writes the complete message (CRLF lines) of a claimed delivery into out.
 * Called in a worker thread with that worker's read-only connection (each
 * worker has its own), inside a read transaction: it must only read, and
 * must be safe to run in several threads on distinct connections. An
 * error of code ERR_TEMPFAIL makes the delivery wait for a retry; any
 * other makes it fail with the message as the reason.
 */
typedef int (*dispatch_render_fn)(void *arg, struct db *db,
				  const struct queue_item *item,
				  struct sbuf *out, struct error *err);

struct dispatch_params {
	struct db *db;
	const struct conf *cfg;      /* queue.*, sender.address */
	const char *owner;           /* lease owner: names this process */
	const struct dispatch_link_ops *link;
	void *link_arg;
	dispatch_render_fn render;
	void *render_arg;
	/*
	 * Optional per-worker render state (both or neither): render_open is
	 * called in each worker's thread before its first render, and what it
	 * returns replaces render_arg as the first argument of render in that
	 * worker; render_close frees it when the worker ends. Lets a renderer
	 * keep caches without locks, since one worker renders at a time.
	 * render_open cannot fail (it aborts on memory exhaustion, as
	 * xalloc does).
	 */
	void *(*render_open)(void *render_arg, int worker);
	void (*render_close)(void *state);
	/* Optional: the language of the message render last wrote, given
	 * the same first argument (NULL: unknown); recorded with a sent
	 * delivery along with the SHA-256 of the bytes. */
	const char *(*render_lang)(void *state);
	/* Polled often; true makes the run stop claiming, hand back what
	 * was not sent yet, finish what is in flight, commit and return. */
	bool (*interrupted)(void *arg);
	void *interrupt_arg;
	/* One transaction per result instead of group commit (benchmark). */
	bool commit_each;
	/* When not 0, a deferred delivery is claimed only if it was due by
	 * then (chanceryd --once: what was due when it started). */
	int64_t due_by;
};

struct dispatch_stats {
	int64_t claimed;
	int64_t sent, deferred, expired, failed, stale;
	int64_t skipped;    /* withdrawn: contact or body no longer wanted */
	int64_t cancelled;  /* withdrawn or retried after a cancel */
	int64_t held;       /* withdrawn: campaign paused */
	int64_t released;   /* handed back unsent at an interruption */
	int64_t commits;    /* transactions that recorded results */
	int64_t max_group;  /* most results in one transaction */
	bool interrupted;
	/*
	 * A relay-level fault (transport.h) ended the run: the run stopped
	 * claiming, handed back what was not sent yet, and relay_fault is
	 * the first such result (its text, code and phase). The deliveries
	 * it met were deferred without an attempt charged (queue.h).
	 */
	bool relay_down;
	struct transport_result relay_fault;
};

/*
 * Sends everything that is due now: claims batches until none is left,
 * and returns once every claimed delivery has its result committed (or,
 * when interrupted, has been handed back). stats (may be NULL) gets the
 * counts, added to what it holds; a relay-level fault stops the run
 * without an error (stats->relay_down). Errors: a link that cannot be opened, a
 * transport that cannot work, or the database.
 */
int dispatch_run(const struct dispatch_params *p, struct dispatch_stats *stats,
		 struct error *err);

#endif
