/*
 * start_bench: how fast a campaign's deliveries are materialised from the
 * recipient set its approval froze (queue_add_frozen), in a real SQLite
 * file: one delivery row and one ledger event (delivery.queued) each.
 *
 * Seeds N contacts of one body, a list, a template and one campaign with
 * a frozen set of N recipients (a fresh database file in DIR), then times
 * queue_add_frozen in one transaction, commit included. Prints deliveries
 * per second (wall) and the CPU microseconds per delivery of the calling
 * thread. Under callgrind, --toggle-collect=queue_add_frozen gives the
 * instructions of the materialisation alone.
 *
 * Then starts the campaign at its send time (campaign_start_due), as the
 * daemon does once the schedule has queued the deliveries, and prints
 * how long that took: the time before the first message can leave.
 *
 *   build/dev/bench/start_bench [N] [DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench_seed.h"
#include "chancery/campaign_start.h"
#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/log.h"
#include "chancery/queue.h"
#include "chancery/xalloc.h"

/* n contacts, one in 50 suppressed (skipped, with its reason), frozen
 * for campaign 1 as an approval leaves them. */
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
		"VALUES (1, 'bench', 1, 1, 1000, 'UTC', 'scheduled', 0, 0);"
		"WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i "
		"WHERE n < ?1) "
		"INSERT INTO contacts (id, body_id, email, created_at, updated_at) "
		"SELECT n, 1, 'contact.' || n || '@mission.example.org', 0, 0 "
		"FROM i;"
		"INSERT INTO campaign_recipients (campaign_id, position, "
		"contact_id, body_id, email, status, skip_reason) "
		"SELECT 1, id, id, 1, email, CASE WHEN id % 50 = 0 THEN "
		"'suppressed' ELSE 'active' END, CASE WHEN id % 50 = 0 THEN "
		"'contact suppressed' END FROM contacts;";

	return bench_seed(db, setup, n, err);
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char *path = xasprintf("%s/start-bench.db", dir);
	struct error err = ERROR_INIT;
	struct db *db = NULL;
	struct conf cfg;
	double wall = 0, cpu = 0, start_wall = 0;
	int added = 0, started = 0;
	int rc;

	log_open("start_bench", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	conf_init(&cfg); /* queue.lifetime 5d: the 432000 below */
	if (n <= 0) {
		fprintf(stderr, "start_bench: N must be a positive count\n");
		return 64;
	}
	unlink(path);
	rc = db_open(path, DB_CREATE, 5000, &db, &err);
	if (!rc)
		rc = seed(db, n, &err);
	if (!rc) {
		wall = clock_s(CLOCK_MONOTONIC);
		cpu = clock_s(CLOCK_THREAD_CPUTIME_ID);
		rc = db_begin(db, &err);
		if (!rc)
			rc = queue_add_frozen(db, 1, 1000, 1000 + 432000,
					      "example.org", &added, &err);
		if (!rc)
			rc = db_commit(db, &err);
		else
			db_rollback(db);
		wall = clock_s(CLOCK_MONOTONIC) - wall;
		cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu;
	}
	if (!rc && added != n)
		rc = error_set(&err, ERR_SOFTWARE,
			       "materialised %d of %d", added, n);
	if (!rc) {
		start_wall = clock_s(CLOCK_MONOTONIC);
		rc = campaign_start_due(db, &cfg, 1000, &started, &err);
		start_wall = clock_s(CLOCK_MONOTONIC) - start_wall;
	}
	if (!rc && started != 1)
		rc = error_set(&err, ERR_SOFTWARE, "started %d campaigns",
			       started);
	db_close(db);
	unlink(path);
	free(path);
	conf_release(&cfg);
	if (rc) {
		fprintf(stderr, "start_bench: %s\n", err.msg);
		return 1;
	}
	printf("materialised %d deliveries (frozen set, 1 in 50 skipped, "
	       "one ledger event each) in %.3f s: %.0f deliveries/s wall, "
	       "%.2f us CPU each\n",
	       n, wall, n / wall, cpu * 1e6 / n);
	printf("start at the send time, deliveries queued at schedule: "
	       "%.1f ms\n", start_wall * 1e3);
	return 0;
}
