#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chancery/bounce.h"
#include "chancery/clock.h"
#include "chancery/dispatch.h"
#include "chancery/log.h"
#include "chancery/sha256.h"
#include "chancery/xalloc.h"

/* One claimed delivery on its way: rendered, sent, then recorded; or,
 * when queue_check says it may no longer go, withdrawn unsent. */
struct job {
	struct queue_item item;
	struct sbuf data;
	struct transport_message msg;
	struct queue_check check;
	char *verp;  /* the envelope sender under bounce.address, or NULL */
	struct job *next;
};

/* A FIFO of jobs. */
struct jobq {
	struct job *head, *tail;
	size_t n;
};

/* Token bucket: capacity is one second's worth of the rate (at least 1). */
struct bucket {
	bool on;
	double tokens, capacity, per_ms;
	int64_t last_ms;
};

struct dispatch {
	const struct dispatch_params *p;
	pthread_mutex_t lock;
	pthread_cond_t work_cv;  /* todo grew, or quit */
	pthread_cond_t done_cv;  /* done grew, or todo ran low */
	struct jobq todo, done;
	struct bucket bucket;
	bool quit;
	bool fatal;              /* a transport cannot work */
	struct error fatal_err;
	bool relay_down;         /* a relay-level fault: stop claiming */
	struct transport_result relay_fault;
	int workers;
};

struct worker {
	struct dispatch *d;
	void *link;
	struct db *reader;   /* read-only connection for rendering */
	void *render_state;  /* render_open's, or render_arg */
	double msg_ms;       /* a message's share of a session, smoothed;
			      * 0 until the first session */
	int index;
	pthread_t thread;
	bool started;
};

/*
 * How long one relay session may take, by the worker's own measure. The
 * office's decisions (pause, cancel, suppress) are checked before each
 * session, and libESMTP cannot stop a session between two of its
 * messages: a session's length is how late a decision can come. Against
 * a relay that answers DATA in a second, sessions shrink to one message;
 * against a fast one they stay a worker's share of a batch.
 */
#define SESSION_TARGET_MS 1000.0

static void jobq_push(struct jobq *q, struct job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->n++;
}

static struct job *jobq_pop(struct jobq *q)
{
	struct job *j = q->head;

	if (!j)
		return NULL;
	q->head = j->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	j->next = NULL;
	return j;
}

/* Moves every job of from to the end of to. */
static void jobq_splice(struct jobq *to, struct jobq *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	to->n += from->n;
	*from = (struct jobq){NULL, NULL, 0};
}

static void job_free(struct job *j)
{
	queue_item_release(&j->item);
	sbuf_release(&j->data);
	free(j->verp);
	free(j);
}

static void jobq_free(struct jobq *q)
{
	struct job *j;

	while ((j = jobq_pop(q)))
		job_free(j);
}

static void bucket_init(struct bucket *b, int rate_per_minute)
{
	b->on = rate_per_minute > 0;
	b->per_ms = rate_per_minute / 60000.0;
	b->capacity = rate_per_minute / 60.0 < 1 ? 1 : rate_per_minute / 60.0;
	b->tokens = b->capacity;
	b->last_ms = clock_mono_ms();
}

/*
 * Takes up to want tokens, waiting (without the lock) until there is at
 * least one or the run is told to quit; returns how many it took (0 only
 * on quit). Called with d->lock held.
 */
static size_t bucket_take(struct dispatch *d, size_t want)
{
	struct bucket *b = &d->bucket;

	if (!b->on)
		return want;
	for (;;) {
		int64_t now = clock_mono_ms();
		double wait;

		b->tokens += (double)(now - b->last_ms) * b->per_ms;
		if (b->tokens > b->capacity)
			b->tokens = b->capacity;
		b->last_ms = now;
		if (b->tokens >= 1) {
			size_t got = (size_t)b->tokens < want ? (size_t)b->tokens
							       : want;
			b->tokens -= (double)got;
			return got;
		}
		if (d->quit || d->todo.n == 0)
			return 0;
		wait = (1 - b->tokens) / b->per_ms;
		if (wait > 100)
			wait = 100; /* look at quit at least every 100 ms */
		{
			struct timespec ts = clock_deadline((int64_t)wait + 1);

			pthread_cond_timedwait(&d->work_cv, &d->lock, &ts);
		}
	}
}

/* Writes prefix and msg into a fixed buffer, cutting what does not fit. */
static void set_text(char *dst, size_t size, const char *prefix,
		     const char *msg)
{
	size_t used = strlen(prefix) < size - 1 ? strlen(prefix) : size - 1;
	size_t len = strlen(msg);

	memcpy(dst, prefix, used);
	if (len > size - 1 - used)
		len = size - 1 - used;
	memcpy(dst + used, msg, len);
	dst[used + len] = '\0';
}

/* Records a transport failure for every message of a chunk. */
static void fail_chunk(struct transport_message *msgs, size_t n,
		       const struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		memset(&msgs[i].result, 0, sizeof(msgs[i].result));
		msgs[i].result.outcome = TRANSPORT_TEMPFAIL;
		set_text(msgs[i].result.text, sizeof(msgs[i].result.text),
			 "transport: ", err->msg);
	}
}

/*
 * How many jobs a worker takes at once: its share of a batch, no more
 * than one connection carries. A chunk is one relay session (libESMTP
 * cannot keep a session open between calls), so it must not shrink to a
 * few messages, each paying a connect and a greeting; and all of it is
 * rendered and held, with libESMTP's 4 KB a message, until the session
 * ends, so it must not grow with the queue either: memory would grow
 * with it and sending would not get faster.
 */
static size_t chunk_size(const struct dispatch *d, const struct worker *w)
{
	size_t workers = (size_t)d->workers;
	size_t share = ((size_t)d->p->cfg->queue.batch_size + workers - 1) /
		       workers;
	size_t cap = (size_t)d->p->cfg->queue.messages_per_connection;

	/* The first session of a worker is one message: it measures the
	 * relay before a long session could outlast a decision. */
	if (w->msg_ms <= 0)
		cap = 1;
	else if (SESSION_TARGET_MS / w->msg_ms < (double)cap)
		cap = (size_t)(SESSION_TARGET_MS / w->msg_ms);
	if (share > d->todo.n)
		share = d->todo.n;
	if (share < 1)
		share = 1;
	if (cap < 1)
		cap = 1;
	return share < cap ? share : cap;
}

/* Folds a session's time per message into the worker's estimate. */
static void measure_session(struct worker *w, int64_t elapsed_ms, size_t n)
{
	double per = (double)(elapsed_ms > 0 ? elapsed_ms : 0) / (double)n;

	if (per < 0.01)
		per = 0.01;
	w->msg_ms = w->msg_ms <= 0 ? per : (w->msg_ms + per) / 2;
}

static void job_local_result(struct job *j, const struct error *e);

/*
 * Asks the queue whether the job may still go (its campaign running, its
 * contact and body not withdrawn), just before its session: true when it
 * may. A job that may not goes back to the writer unsent, to be
 * withdrawn. A failed look-up sends nothing either: the writer then hands
 * the job back to pending.
 */
static bool still_wanted(struct worker *w, struct job *j)
{
	struct error e = ERROR_INIT;

	if (queue_check(w->reader, &j->item, &j->check, &e) == 0)
		return j->check.verdict == QUEUE_GO;
	log_error("delivery=%lld: cannot check before sending: %s",
		  (long long)j->item.delivery_id, e.msg);
	j->check.verdict = QUEUE_HOLD;
	snprintf(j->check.reason, sizeof(j->check.reason), "check failed");
	return false;
}

/*
 * Renders the jobs of a chunk with the worker's own read-only connection:
 * those that rendered go to ready, the others get their result at once.
 * One read transaction for the chunk: outside one, each of the renderer's
 * statements would take and drop the file locks itself.
 */
static void render_chunk(struct worker *w, struct jobq *chunk,
			 struct jobq *ready, struct jobq *failed)
{
	const struct dispatch_params *p = w->d->p;
	bool in_txn = db_exec(w->reader, "BEGIN", NULL) == 0;
	struct job *j;

	while ((j = jobq_pop(chunk))) {
		struct error e = ERROR_INIT;

		if (!still_wanted(w, j)) {
			jobq_push(failed, j);
			continue;
		}
		sbuf_grow(&j->data, 4096); /* a statement's size: no reallocs */
		if (p->render(w->render_state, w->reader, &j->item, &j->data,
			      &e)) {
			job_local_result(j, &e);
			jobq_push(failed, j);
			continue;
		}
		j->msg.data = j->data.buf;
		j->msg.size = j->data.len;
		/* what goes out, for the audit: a few us against a session */
		sha256_hex(j->data.buf, j->data.len, j->item.sha256);
		if (p->render_lang) {
			const char *lang = p->render_lang(w->render_state);

			snprintf(j->item.lang, sizeof(j->item.lang), "%s",
				 lang ? lang : "");
		}
		jobq_push(ready, j);
	}
	if (in_txn)
		db_exec(w->reader, "COMMIT", NULL);
}

/* One chunk on its way through the transport: which of its jobs have
 * already been handed to the writer (on_final). */
struct chunk_send {
	struct dispatch *d;
	struct transport_message *msgs;
	struct job **jobs;
	bool *handed;
};

/* A message's result is the job's; its text is no longer needed. */
static void job_take_result(struct job *j, const struct transport_message *m)
{
	j->msg.result = m->result;
	sbuf_release(&j->data);
	j->msg.data = NULL;
	j->msg.size = 0;
}

/*
 * The transport has a message's final result: the job goes to the writer
 * now, not when the session ends, so what a crash can send twice is what
 * was sent since the last commit, not a whole chunk. The writer is not
 * woken for each result (it wakes for its commit deadline); only when a
 * batch is waiting.
 */
static void on_final(struct transport_message *m, void *arg)
{
	struct chunk_send *cs = arg;
	struct dispatch *d = cs->d;
	size_t i = (size_t)(m - cs->msgs);

	job_take_result(cs->jobs[i], m);
	cs->handed[i] = true;
	pthread_mutex_lock(&d->lock);
	jobq_push(&d->done, cs->jobs[i]);
	if (d->done.n >= (size_t)d->p->cfg->queue.batch_size)
		pthread_cond_signal(&d->done_cv);
	pthread_mutex_unlock(&d->lock);
}

/* Sends the rendered jobs; those the transport did not hand over early
 * go back into ready with their results. */
static int send_ready(struct worker *w, struct jobq *ready, struct error *err)
{
	struct chunk_send cs = {.d = w->d};
	size_t n = ready->n, i = 0;
	struct job *j;
	int rc;

	cs.msgs = xcalloc(n, sizeof(*cs.msgs));
	cs.jobs = xcalloc(n, sizeof(*cs.jobs));
	cs.handed = xcalloc(n, sizeof(*cs.handed));
	while ((j = jobq_pop(ready))) {
		cs.jobs[i] = j;
		cs.msgs[i] = j->msg;
		cs.msgs[i].on_final = on_final;
		cs.msgs[i++].on_final_arg = &cs;
	}
	rc = w->d->p->link->send(w->link, cs.msgs, n, err);
	if (rc)
		log_error("transport: %s", err->msg);
	for (i = 0; i < n; i++) {
		if (cs.handed[i])
			continue;
		if (rc)
			fail_chunk(&cs.msgs[i], 1, err);
		job_take_result(cs.jobs[i], &cs.msgs[i]);
		jobq_push(ready, cs.jobs[i]);
	}
	free(cs.msgs);
	free(cs.jobs);
	free(cs.handed);
	return rc;
}

static void send_chunk(struct worker *w, struct jobq *chunk)
{
	struct dispatch *d = w->d;
	struct jobq ready = {NULL, NULL, 0}, failed = {NULL, NULL, 0};
	struct error err = ERROR_INIT;
	int rc = 0;

	render_chunk(w, chunk, &ready, &failed);
	if (ready.n) {
		size_t n = ready.n;
		int64_t started = clock_mono_ms();

		rc = send_ready(w, &ready, &err);
		measure_session(w, clock_mono_ms() - started, n);
	}
	pthread_mutex_lock(&d->lock);
	if (rc && !d->fatal) {
		d->fatal = true;
		d->fatal_err = err;
	}
	for (struct job *j = ready.head; j && !d->relay_down; j = j->next) {
		if (j->msg.result.outcome == TRANSPORT_TEMPFAIL &&
		    j->msg.result.relay_fault) {
			d->relay_down = true;
			d->relay_fault = j->msg.result;
		}
	}
	jobq_splice(&d->done, &ready);
	jobq_splice(&d->done, &failed);
	pthread_cond_signal(&d->done_cv);
	pthread_mutex_unlock(&d->lock);
}

/* The worker's own render state, made in its thread (see dispatch.h). */
static void render_state_open(struct worker *w)
{
	const struct dispatch_params *p = w->d->p;

	w->render_state = p->render_open ? p->render_open(p->render_arg,
							  w->index)
					 : p->render_arg;
}

static void render_state_close(struct worker *w)
{
	const struct dispatch_params *p = w->d->p;

	if (p->render_open && p->render_close)
		p->render_close(w->render_state);
	w->render_state = NULL;
}

/*
 * Whether the claimed work waiting for a worker is down to less than a
 * batch: then the writer claims more, so that no worker waits for a
 * claim to commit (counting the sent-but-unrecorded too would claim too
 * late and leave workers idle). What waits here has not been sent, so a
 * deeper queue adds no copies after a crash: only sent-but-unrecorded
 * messages can be sent twice.
 */
static bool todo_low(const struct dispatch *d)
{
	return d->todo.n < (size_t)d->p->cfg->queue.batch_size;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct dispatch *d = w->d;

	render_state_open(w);
	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct jobq chunk = {NULL, NULL, 0};
		size_t want;

		while (!d->todo.n && !d->quit)
			pthread_cond_wait(&d->work_cv, &d->lock);
		/* quit comes when nothing is left to send, or after an
		 * error: then what waits stays claimed for recovery. */
		if (d->quit)
			break;
		want = bucket_take(d, chunk_size(d, w));
		if (want > d->todo.n) {
			/* Others took the jobs meanwhile: give tokens back. */
			d->bucket.tokens += (double)(want - d->todo.n);
			want = d->todo.n;
		}
		while (want-- > 0)
			jobq_push(&chunk, jobq_pop(&d->todo));
		if (!chunk.n)
			continue;
		if (todo_low(d))
			pthread_cond_signal(&d->done_cv); /* time to claim */
		pthread_mutex_unlock(&d->lock);
		send_chunk(w, &chunk);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	render_state_close(w);
	return NULL;
}

/* The state of one dispatching round, owned by the calling thread. */
struct run {
	struct dispatch *d;
	struct dispatch_stats st;
	struct jobq results;     /* sent, not yet recorded */
	int64_t first_result_ms; /* when the oldest of them arrived */
	size_t inflight;         /* claimed, not yet recorded */
	bool exhausted;          /* the last claim found less than it asked */
	bool stopping;
};

/* Whether this run still claims: neither stopping nor out of work. */
static bool can_claim(const struct run *r)
{
	return !r->stopping && !r->exhausted;
}

static void log_outcome(const struct job *j, enum queue_outcome o)
{
	const struct transport_result *r = &j->msg.result;

	if (j->check.verdict != QUEUE_GO) {
		/* Withdrawn before its session: nothing went to the relay. */
		log_msg(LOG_LEVEL_INFO,
			"delivery=%lld campaign=%lld to=%s outcome=%s "
			"attempt=%d reason=\"%s\"",
			(long long)j->item.delivery_id,
			(long long)j->item.campaign_id, j->item.email,
			queue_outcome_name(o), j->item.attempts,
			j->check.reason);
		return;
	}
	log_msg(o == QUEUE_FAILED || o == QUEUE_EXPIRED ? LOG_LEVEL_WARN
							 : LOG_LEVEL_INFO,
		"delivery=%lld campaign=%lld to=%s outcome=%s attempt=%d "
		"code=%d enhanced=%s queue_id=%s message_id=%s reply=\"%s\"",
		(long long)j->item.delivery_id, (long long)j->item.campaign_id,
		j->item.email, queue_outcome_name(o), j->item.attempts, r->code,
		r->enhanced[0] ? r->enhanced : "-",
		r->queue_id[0] ? r->queue_id : "-", j->item.message_id, r->text);
}

static void count(struct dispatch_stats *st, enum queue_outcome o)
{
	switch (o) {
	case QUEUE_SENT: st->sent++; break;
	case QUEUE_DEFERRED: st->deferred++; break;
	case QUEUE_EXPIRED: st->expired++; break;
	case QUEUE_FAILED: st->failed++; break;
	case QUEUE_STALE: st->stale++; break;
	case QUEUE_CANCELLED: st->cancelled++; break;
	case QUEUE_SKIPPED: st->skipped++; break;
	case QUEUE_HELD: st->held++; break;
	}
}

/* Records up to max results (all when max is 0) inside the open
 * transaction; their outcomes go into outs. */
static int record_results(struct run *r, struct jobq *taken,
			  enum queue_outcome **outs, size_t max,
			  struct error *err)
{
	const struct dispatch_params *p = r->d->p;
	int64_t now = clock_now();
	size_t n = 0;
	int rc = 0;

	*outs = xcalloc(r->results.n ? r->results.n : 1, sizeof(**outs));
	while (r->results.head && (!max || n < max)) {
		struct job *j = jobq_pop(&r->results);

		jobq_push(taken, j);
		if (j->check.verdict != QUEUE_GO)
			rc = queue_unclaim(p->db, &j->item, p->owner, &j->check,
					   now, &(*outs)[n], err);
		else
			rc = queue_record(p->db, p->cfg, &j->item, p->owner,
					  &j->msg.result, now, &(*outs)[n],
					  err);
		n++;
		if (rc)
			break;
	}
	return rc;
}

/* A job that ends without being sent (render failed). */
static void job_local_result(struct job *j, const struct error *e)
{
	struct transport_result *res = &j->msg.result;

	memset(res, 0, sizeof(*res));
	res->outcome = e->code == ERR_TEMPFAIL ? TRANSPORT_TEMPFAIL
					       : TRANSPORT_PERMFAIL;
	set_text(res->text, sizeof(res->text), "render: ", e->msg);
}

/*
 * Hands the claimed items to the workers, which render and send them.
 * Called after the claim is committed: a message never leaves before its
 * claim is durable, which is what bounds the copies a crash can cause.
 */
static void hand_over(struct run *r, struct queue_batch *claimed)
{
	const struct dispatch_params *p = r->d->p;
	struct jobq jobs = {NULL, NULL, 0};

	for (size_t i = 0; i < claimed->n; i++) {
		struct job *j = xcalloc(1, sizeof(*j));

		j->item = claimed->items[i];
		/* rendered in the worker, into its own arena, and dropped
		 * once sent: the claimed but unsent hold no message text */
		sbuf_init(&j->data, 0);
		/* VERP: a report comes back to an address naming the
		 * delivery, whatever the report itself says */
		j->verp = bounce_verp_address(p->cfg->bounce.address,
					      j->item.envid);
		j->msg = (struct transport_message){
			.delivery_id = j->item.delivery_id,
			.envelope_from = j->verp ? j->verp
						 : p->cfg->sender.address,
			.recipient = j->item.email,
			.envid = j->item.envid,
		};
		jobq_push(&jobs, j);
	}
	r->inflight += claimed->n;
	r->st.claimed += (int64_t)claimed->n;
	/* The items now belong to the jobs. */
	claimed->n = 0;
	pthread_mutex_lock(&r->d->lock);
	jobq_splice(&r->d->todo, &jobs);
	pthread_cond_broadcast(&r->d->work_cv);
	pthread_mutex_unlock(&r->d->lock);
}

/* Logs and counts what a committed transaction recorded. */
static void committed(struct run *r, struct jobq *taken,
		      const enum queue_outcome *outs)
{
	if (taken->n) {
		r->st.commits++;
		if ((int64_t)taken->n > r->st.max_group)
			r->st.max_group = (int64_t)taken->n;
	}
	log_hold();
	for (size_t i = 0; taken->head; i++) {
		struct job *j = jobq_pop(taken);

		log_outcome(j, outs[i]);
		count(&r->st, outs[i]);
		r->inflight--;
		job_free(j);
	}
	log_flush();
}

/*
 * One transaction: the results gathered so far (or a single one when
 * commit_each) and, when claim is set, the next batch of claims, which
 * are then handed to the workers. Log lines come after the
 * commit, so the log never tells of a state the database does not hold.
 */
static int commit_round(struct run *r, bool claim, struct error *err)
{
	const struct dispatch_params *p = r->d->p;
	const struct conf_queue *q = &p->cfg->queue;
	struct jobq taken = {NULL, NULL, 0};
	enum queue_outcome *outs = NULL;
	struct queue_batch claimed;
	int64_t now = clock_now();
	int skipped = 0;
	int rc = db_begin(p->db, err);

	if (rc)
		return rc;
	queue_batch_init(&claimed);
	rc = record_results(r, &taken, &outs, p->commit_each ? 1 : 0, err);
	if (!rc && claim)
		rc = queue_claim(p->db, q, p->cfg->sender.address, p->owner,
				 now, p->due_by && p->due_by < now ? p->due_by
								   : now,
				 q->batch_size, &claimed, &skipped, err);
	if (!rc)
		rc = db_commit(p->db, err);
	else
		db_rollback(p->db);
	if (rc) {
		/* The run ends with this error. What was recorded here is
		 * undone; those rows stay sending under our lease and come
		 * back through recovery. */
		jobq_splice(&taken, &r->results);
		r->results = taken;
		queue_batch_release(&claimed);
		free(outs);
		return rc;
	}
	committed(r, &taken, outs);
	free(outs);
	r->st.skipped += skipped;
	r->first_result_ms = r->results.n ? clock_mono_ms() : 0;
	/* Rows skipped at the claim were due: more may wait behind them. */
	if (claim && claimed.n + (size_t)skipped < (size_t)q->batch_size)
		r->exhausted = true;
	hand_over(r, &claimed);
	queue_batch_release(&claimed);
	return 0;
}

/* Waits for results until the commit deadline, for at most 100 ms. */
static void wait_results(struct run *r)
{
	struct dispatch *d = r->d;
	int64_t interval = d->p->cfg->queue.commit_interval_ms;
	int64_t wait_ms = 100;
	struct timespec ts;

	if (r->results.n) {
		int64_t left = r->first_result_ms + interval - clock_mono_ms();

		wait_ms = left < 0 ? 0 : left < wait_ms ? left : wait_ms;
	}
	ts = clock_deadline(wait_ms);
	pthread_mutex_lock(&d->lock);
	if (!d->done.n && !(can_claim(r) && todo_low(d)) && wait_ms > 0)
		pthread_cond_timedwait(&d->done_cv, &d->lock, &ts);
	if (d->done.n && !r->results.n)
		r->first_result_ms = clock_mono_ms();
	jobq_splice(&r->results, &d->done);
	pthread_mutex_unlock(&d->lock);
}

/* Hands back the claims no worker has taken yet. */
static int release_unsent(struct run *r, struct error *err)
{
	struct dispatch *d = r->d;
	const struct dispatch_params *p = d->p;
	struct jobq unsent = {NULL, NULL, 0};
	struct job *j;
	int rc;

	pthread_mutex_lock(&d->lock);
	jobq_splice(&unsent, &d->todo);
	pthread_mutex_unlock(&d->lock);
	if (!unsent.n)
		return 0;
	rc = db_begin(p->db, err);
	for (j = unsent.head; !rc && j; j = j->next)
		rc = queue_unclaim(p->db, &j->item, p->owner, NULL, clock_now(),
				   NULL, err);
	if (!rc)
		rc = db_commit(p->db, err);
	else
		db_rollback(p->db);
	/* On failure the rows stay sending and their leases recover them. */
	r->inflight -= unsent.n;
	if (!rc)
		r->st.released += (int64_t)unsent.n;
	jobq_free(&unsent);
	return rc;
}

static bool should_commit(const struct run *r, const struct conf_queue *q)
{
	if (!r->results.n)
		return false;
	return r->d->p->commit_each || r->results.n >= r->inflight ||
	       (int64_t)r->results.n >= q->batch_size ||
	       clock_mono_ms() - r->first_result_ms >= q->commit_interval_ms;
}

static bool claim_wanted(struct dispatch *d)
{
	bool low;

	pthread_mutex_lock(&d->lock);
	low = todo_low(d);
	pthread_mutex_unlock(&d->lock);
	return low;
}

static int run_loop(struct run *r, struct error *err)
{
	struct dispatch *d = r->d;
	const struct dispatch_params *p = d->p;
	const struct conf_queue *q = &p->cfg->queue;
	int rc = 0;

	for (;;) {
		bool fatal, relay_down;

		pthread_mutex_lock(&d->lock);
		fatal = d->fatal;
		relay_down = d->relay_down;
		pthread_mutex_unlock(&d->lock);
		/* The relay is down: what was not sent yet waits, unclaimed,
		 * rather than meet the same fault with an attempt each. */
		if (!r->stopping && (fatal || relay_down ||
				     (p->interrupted &&
				      p->interrupted(p->interrupt_arg)))) {
			r->stopping = true;
			r->st.interrupted = !fatal && !relay_down;
			rc = release_unsent(r, err);
			if (rc)
				break;
		}
		if (can_claim(r) && claim_wanted(d)) {
			rc = commit_round(r, true, err);
			if (rc)
				break;
		} else if (should_commit(r, q)) {
			rc = commit_round(r, false, err);
			if (rc)
				break;
		}
		if (r->inflight == 0 && (r->exhausted || r->stopping))
			break;
		if (r->inflight > r->results.n)
			wait_results(r);
	}
	if (d->relay_down) {
		r->st.relay_down = true;
		r->st.relay_fault = d->relay_fault;
	}
	if (!rc && d->fatal)
		rc = error_set(err, d->fatal_err.code ? d->fatal_err.code
						     : ERR_UNAVAILABLE,
			       "%s", d->fatal_err.msg);
	return rc;
}

static int start_workers(struct dispatch *d, struct worker *w, int n,
			 struct error *err)
{
	const struct dispatch_params *p = d->p;

	for (int i = 0; i < n; i++) {
		int rc;

		w[i].d = d;
		w[i].index = i;
		rc = db_open(db_path(p->db), DB_READONLY,
			     (int)p->cfg->busy_timeout_ms, &w[i].reader, err);
		/* A worker reads one contact and its body per message, each
		 * once: a page cache only grows with the registry (to 2 MiB
		 * a connection by default) without saving a read. */
		if (!rc)
			rc = db_exec(w[i].reader, "PRAGMA cache_size = -128", err);
		if (rc)
			return error_prefix(err, "worker %d", i);
		w[i].link = p->link->open(p->link_arg, i, err);
		if (!w[i].link)
			return err->code ? err->code
					 : error_set(err, ERR_SOFTWARE,
						     "worker %d: cannot open "
						     "a connection", i);
	}
	for (int i = 0; i < n; i++) {
		int e = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);

		if (e) {
			errno = e;
			return error_set_errno(err, ERR_OS,
					       "cannot start worker thread");
		}
		w[i].started = true;
	}
	return 0;
}

static void stop_workers(struct dispatch *d, struct worker *w, int n)
{
	pthread_mutex_lock(&d->lock);
	d->quit = true;
	pthread_cond_broadcast(&d->work_cv);
	pthread_mutex_unlock(&d->lock);
	for (int i = 0; i < n; i++) {
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
		if (w[i].link)
			d->p->link->close(w[i].link);
		db_close(w[i].reader);
	}
}

static void add_stats(struct dispatch_stats *to, const struct dispatch_stats *s)
{
	to->claimed += s->claimed;
	to->sent += s->sent;
	to->deferred += s->deferred;
	to->expired += s->expired;
	to->failed += s->failed;
	to->stale += s->stale;
	to->cancelled += s->cancelled;
	to->skipped += s->skipped;
	to->held += s->held;
	to->released += s->released;
	to->commits += s->commits;
	if (s->max_group > to->max_group)
		to->max_group = s->max_group;
	to->interrupted = to->interrupted || s->interrupted;
	if (s->relay_down && !to->relay_down) {
		to->relay_down = true;
		to->relay_fault = s->relay_fault;
	}
}

int dispatch_run(const struct dispatch_params *p, struct dispatch_stats *stats,
		 struct error *err)
{
	struct dispatch d = {.p = p, .workers = p->cfg->queue.workers};
	struct run r = {.d = &d};
	struct worker *w;
	int rc;

	/*
	 * A group transaction nests a savepoint per recorded result (queue
	 * and ledger each open one), and SQLite keeps the pages a savepoint
	 * may have to restore in a sub-journal that spills to a temporary
	 * file, written over and over for every result. In memory it costs
	 * a copy, and the sub-journal is dropped at each commit.
	 */
	rc = db_exec(p->db, "PRAGMA temp_store = MEMORY", err);
	if (rc)
		return rc;
	pthread_mutex_init(&d.lock, NULL);
	/* Deadlines are on the monotonic clock (clock_deadline). */
	clock_cond_init(&d.work_cv);
	clock_cond_init(&d.done_cv);
	bucket_init(&d.bucket, p->cfg->queue.rate_per_minute);
	w = xcalloc((size_t)d.workers, sizeof(*w));
	rc = start_workers(&d, w, d.workers, err);
	if (!rc)
		rc = run_loop(&r, err);
	stop_workers(&d, w, d.workers);
	if (rc) {
		/* What stayed claimed keeps its lease and is recovered. */
		jobq_free(&d.todo);
		jobq_free(&d.done);
		jobq_free(&r.results);
	}
	if (stats)
		add_stats(stats, &r.st);
	free(w);
	pthread_cond_destroy(&d.done_cv);
	pthread_cond_destroy(&d.work_cv);
	pthread_mutex_destroy(&d.lock);
	return rc;
}
