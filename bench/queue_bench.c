/*
 * queue_bench: what the database costs the queue, without a relay.
 *
 * Seeds N deliveries (default 10000) of one running campaign in a fresh
 * database file (with their Message-IDs and ENVIDs, as campaign start
 * gives them), then drains them through dispatch_run with a link that
 * accepts every message at once and a trivial render, so the only work
 * left is claiming and recording: once with group commit (the daemon's
 * mode) and once with one transaction per result. Prints deliveries per
 * second (each one claim + one record, two ledger events) for both, and
 * the SQL statements run per delivery (sqlite3_trace_v2; with
 * QUEUE_BENCH_SQL=1 in the environment, each distinct statement and how
 * often it ran, to stderr).
 *
 *   build/bench/queue_bench [N] [DIR] [group|each]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_seed.h"
#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/dispatch.h"
#include "chancery/log.h"
#include "chancery/xalloc.h"

static int null_state;

static void *null_open(void *arg, int worker, struct error *err)
{
	(void)arg;
	(void)worker;
	(void)err;
	return &null_state;
}

static int null_send(void *link, struct transport_message *msgs, size_t n,
		     struct error *err)
{
	(void)link;
	(void)err;
	for (size_t i = 0; i < n; i++) {
		memset(&msgs[i].result, 0, sizeof(msgs[i].result));
		msgs[i].result.outcome = TRANSPORT_SENT;
		msgs[i].result.code = 250;
		strcpy(msgs[i].result.enhanced, "2.0.0");
		strcpy(msgs[i].result.text, "Ok: queued");
	}
	return 0;
}

static void null_close(void *link) { (void)link; }

static const struct dispatch_link_ops null_link = {null_open, null_send,
						   null_close};

static int tiny_render(void *arg, struct db *db, const struct queue_item *it,
		       struct sbuf *out, struct error *err)
{
	(void)arg;
	(void)db;
	(void)err;
	sbuf_addf(out, "To: <%s>\r\nMessage-ID: <%s>\r\n\r\nstatement\r\n",
		  it->email, it->message_id);
	return 0;
}

static int seed(struct db *db, int n, struct error *err)
{
	static const char *const setup =
		"INSERT INTO bodies (id, name, kind, created_at) "
		"VALUES (1, 'United Nations', 'un-organ', 0);"
		"INSERT INTO lists (id, name, kind, created_at, updated_at) "
		"VALUES (1, 'all', 'static', 0, 0);"
		"INSERT INTO templates (id, name, version, source, sha256, "
		"created_at) VALUES (1, 't', 1, 'x', 'h', 0);"
		"INSERT INTO campaigns (id, name, template_id, list_id, send_at, "
		"tz, state, created_at, updated_at) "
		"VALUES (1, 'bench', 1, 1, 0, 'UTC', 'running', 0, 0);"
		"WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i "
		"WHERE n < ?1) "
		"INSERT INTO contacts (id, body_id, email, created_at, updated_at) "
		"SELECT n, 1, 'c' || n || '@example.org', 0, 0 FROM i;"
		"INSERT INTO deliveries (campaign_id, contact_id, body_id, email, "
		"state, created_at, updated_at) "
		"SELECT 1, id, 1, email, 'pending', strftime('%s'), 0 FROM contacts;"
		/* As campaign start leaves them: ids given when queued. */
		"UPDATE deliveries SET envid = 'chancery-' || id, "
		"message_id = '1.' || id || '.' || lower(hex(randomblob(8))) || "
		"'@example.org';";

	return bench_seed(db, setup, n, err);
}

/* Statements run, by text (the first QUEUE_BENCH_DISTINCT kinds). */
#define QUEUE_BENCH_DISTINCT 64
static struct {
	long total;
	const char *sql[QUEUE_BENCH_DISTINCT];
	long count[QUEUE_BENCH_DISTINCT];
} traced;

static int trace_stmt(unsigned type, void *arg, void *p, void *x)
{
	const char *sql = x;

	(void)type;
	(void)arg;
	(void)p;
	if (sql && strncmp(sql, "--", 2) == 0)
		return 0; /* a trigger's own line, not a statement */
	traced.total++;
	for (int i = 0; arg && i < QUEUE_BENCH_DISTINCT && sql; i++) {
		if (!traced.sql[i])
			traced.sql[i] = xstrdup(sql);
		if (strcmp(traced.sql[i], sql) == 0) {
			traced.count[i]++;
			break;
		}
	}
	return 0;
}

static void trace_report(const char *what, int n)
{
	printf("%s: %.2f SQL statements per delivery\n", what,
	       (double)traced.total / n);
	for (int i = 0; getenv("QUEUE_BENCH_SQL") && i < QUEUE_BENCH_DISTINCT &&
			traced.sql[i]; i++)
		fprintf(stderr, "%8ld  %.110s\n", traced.count[i], traced.sql[i]);
	for (int i = 0; i < QUEUE_BENCH_DISTINCT; i++)
		free((char *)traced.sql[i]);
	memset(&traced, 0, sizeof(traced));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread: the one that owns the database. */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One drain of n fresh deliveries; returns deliveries per second. */
static int run(const char *dir, int n, bool commit_each, struct conf *cfg,
	       double *rate, double *cpu_us, struct dispatch_stats *st,
	       struct error *err)
{
	char *path = xasprintf("%s/bench-%s.db", dir,
			       commit_each ? "each" : "group");
	struct db *db = NULL;
	double start, cpu;
	int rc;

	unlink(path);
	rc = db_open(path, DB_CREATE, 5000, &db, err);
	if (!rc)
		rc = seed(db, n, err);
	if (!rc) {
		struct dispatch_params p = {
			.db = db, .cfg = cfg, .owner = "bench",
			.link = &null_link, .render = tiny_render,
			.commit_each = commit_each,
		};

		memset(&traced, 0, sizeof(traced));
		sqlite3_trace_v2(db_handle(db), SQLITE_TRACE_STMT, trace_stmt,
				 getenv("QUEUE_BENCH_SQL") ? &traced : NULL);
		start = now_s();
		cpu = cpu_s();
		rc = dispatch_run(&p, st, err);
		*rate = n / (now_s() - start);
		*cpu_us = (cpu_s() - cpu) * 1e6 / n;
	}
	if (!rc)
		trace_report(commit_each ? "one commit per result" :
			     "group commit", n);
	if (!rc && st->sent != n)
		rc = error_set(err, ERR_SOFTWARE, "sent %lld of %d",
			       (long long)st->sent, n);
	db_close(db);
	unlink(path);
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	struct dispatch_stats group = {0}, each = {0};
	struct error err = ERROR_INIT;
	double group_rate = 0, each_rate = 0, group_cpu = 0, each_cpu = 0;
	struct conf cfg;
	int rc;

	log_open("queue_bench", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	conf_init(&cfg);
	const char *only = argc > 3 ? argv[3] : "";

	rc = strcmp(only, "each") == 0
		     ? 0
		     : run(dir, n, false, &cfg, &group_rate, &group_cpu, &group, &err);
	if (!rc && strcmp(only, "group") != 0)
		rc = run(dir, n, true, &cfg, &each_rate, &each_cpu, &each, &err);
	if (rc) {
		fprintf(stderr, "queue_bench: %s\n", err.msg);
		conf_release(&cfg);
		return 1;
	}
	printf("deliveries: %d (each: claim + record, 2 ledger events), "
	       "synchronous=FULL, WAL, %d workers, batch %d, commit every "
	       "%lld ms\n",
	       n, cfg.queue.workers, cfg.queue.batch_size,
	       (long long)cfg.queue.commit_interval_ms);
	printf("group commit:          %8.0f deliveries/s, %5.1f us CPU each "
	       "in the database thread (%lld commits, up to %lld results "
	       "each)\n",
	       group_rate, group_cpu, (long long)group.commits,
	       (long long)group.max_group);
	printf("one commit per result: %8.0f deliveries/s, %5.1f us CPU each "
	       "in the database thread (%lld commits)\n",
	       each_rate, each_cpu, (long long)each.commits);
	printf("ratio: %.1fx\n", group_rate / each_rate);
	conf_release(&cfg);
	return 0;
}
