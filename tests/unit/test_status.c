/*
 * status: what status_load reads from rows inserted with plain SQL (the
 * daemon's and the relay's rows as chanceryd writes them), the daemon's
 * liveness by pid and host, the window of due campaigns, and the record
 * of a verification (written on a writable database, not on a read-only
 * one).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/status.h"
#include "chancery/xalloc.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1735689600LL /* 2025-01-01T00:00:00Z */
#define DAY 86400LL

static const char fixture_sql[] =
	"INSERT INTO bodies (id, acronym, name, kind, country, created_at) VALUES"
	" (1, 'UNSG', 'UN Secretary-General', 'un-organ', NULL, 0);"
	"INSERT INTO contacts (id, body_id, email, name, created_at, updated_at)"
	" VALUES (1, 1, 'sg@un.org', NULL, 0, 0);"
	"INSERT INTO lists (id, name, kind, created_at, updated_at)"
	" VALUES (1, 'all', 'static', 0, 0);"
	"INSERT INTO templates (id, name, version, source, sha256, created_at)"
	" VALUES (1, 't', 1, 'text', 'ab12', 0);"
	"INSERT INTO campaigns (id, name, template_id, list_id, send_at, tz,"
	" state, created_at, updated_at) VALUES"
	" (1, 'past-done', 1, 1, 1000, 'UTC', 'done', 0, 0),"
	" (2, 'in-2-days', 1, 1, 1735862400, 'UTC', 'draft', 0, 0),"
	" (3, 'in-1-day', 1, 1, 1735776000, 'UTC', 'scheduled', 0, 0),"
	" (4, 'in-20-days', 1, 1, 1737417600, 'UTC', 'approved', 0, 0),"
	" (5, 'missed-old', 1, 1, 1000, 'UTC', 'missed', 0, 0),"
	" (6, 'missed-new', 1, 1, 2000, 'UTC', 'missed', 0, 0),"
	" (7, 'cancelled-soon', 1, 1, 1735776000, 'UTC', 'cancelled', 0, 0);"
	"INSERT INTO campaign_approvals (campaign_id, actor, at, template_id,"
	" template_sha256, send_at, recipients_sha256, recipients, unreached)"
	" VALUES (4, 'alice', 0, 1, 'ab12', 1737417600, 'x', 1, 0);"
	"INSERT INTO deliveries (id, campaign_id, contact_id, body_id, email,"
	" state, created_at, updated_at) VALUES"
	" (1, 1, 1, 1, 'sg@un.org', 'sent', 0, 0),"
	" (2, 2, 1, 1, 'sg@un.org', 'sent', 0, 0),"
	" (3, 3, 1, 1, 'sg@un.org', 'deferred', 0, 0),"
	" (4, 4, 1, 1, 'sg@un.org', 'pending', 0, 0);"
	"INSERT INTO relay_state VALUES (1, 'down', 100, 'TLS refused', 3, 400,"
	" 300);";

struct fx {
	struct test_db t;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	clock_set_fake(NOW);
	test_db_open(&f->t);
	test_exec(f->t.db, fixture_sql);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	test_db_close(&f->t);
	clock_clear_fake();
	free(f);
	return 0;
}

static void load(struct fx *f, int days, struct status *st)
{
	struct error err = ERROR_INIT;
	int rc = status_load(f->t.db, NOW, days, 1, st, &err);

	if (rc)
		fail_msg("status_load: %d %s", rc, err.msg);
}

/* A pid that lived and is gone. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

/* A live process whose command line names chanceryd (sleep started as
 * "chanceryd"), as /proc shows the daemon; waits until it has exec'd. */
static pid_t live_chanceryd(void)
{
	pid_t pid = fork();
	char path[64], buf[64] = "";

	if (pid == 0) {
		execl("/bin/sleep", "chanceryd", "30", (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	for (int i = 0; i < 500 && strcmp(buf, "chanceryd") != 0; i++) {
		FILE *fp = fopen(path, "r");

		if (fp) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, fp);

			buf[n] = '\0';
			fclose(fp);
		}
		if (strcmp(buf, "chanceryd") != 0)
			usleep(10000);
	}
	return pid;
}

static void test_daemon(void **state)
{
	struct fx *f = *state;
	char host[256] = "", sql[512];
	pid_t daemon = live_chanceryd();
	struct {
		const char *what;
		long long pid;
		const char *host; /* NULL: this host */
		enum status_daemon_state want;
	} cases[] = {
		{"no row", 0, NULL, STATUS_DAEMON_NEVER},
		{"a live chanceryd here", daemon, NULL, STATUS_DAEMON_RUNNING},
		/* a pid reused after a crash or a reboot: alive, not ours */
		{"our own pid here (not chanceryd)", getpid(), NULL,
		 STATUS_DAEMON_STOPPED},
		{"pid 1 (init, not chanceryd)", 1, NULL, STATUS_DAEMON_STOPPED},
		{"a reaped pid here", dead_pid(), NULL, STATUS_DAEMON_STOPPED},
		{"a live pid elsewhere", getpid(), "elsewhere.invalid",
		 STATUS_DAEMON_ELSEWHERE},
	};

	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < N(cases); i++) {
		struct status st;

		test_exec(f->t.db, "DELETE FROM daemon_state");
		if (cases[i].pid) {
			snprintf(sql, sizeof(sql),
				 "INSERT INTO daemon_state VALUES (1, %lld, '%s', "
				 "'1.2.3', 10, 20)",
				 cases[i].pid,
				 cases[i].host ? cases[i].host : host);
			test_exec(f->t.db, sql);
		}
		load(f, 14, &st);
		if (st.daemon.state != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what,
				 status_daemon_state_name(st.daemon.state),
				 status_daemon_state_name(cases[i].want));
		if (cases[i].pid) {
			assert_int_equal(st.daemon.pid, cases[i].pid);
			assert_str(st.daemon.version, "1.2.3");
			assert_int_equal(st.daemon.started_at, 10);
			assert_int_equal(st.daemon.heartbeat_at, 20);
		}
		status_release(&st);
	}
	kill(daemon, SIGKILL);
	waitpid(daemon, NULL, 0);
}

static void test_due_window(void **state)
{
	struct fx *f = *state;
	struct {
		int days;
		const char *want; /* names, by send time */
	} cases[] = {
		{0, ""},
		{1, ""}, /* in-1-day is at NOW + 1 day exactly: not before */
		{2, "in-1-day,"},
		{14, "in-1-day,in-2-days,"},
		{30, "in-1-day,in-2-days,in-20-days,"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct sbuf got = SBUF_INIT;
		struct status st;

		load(f, cases[i].days, &st);
		for (size_t j = 0; j < st.ndue; j++)
			sbuf_addf(&got, "%s,", st.due[j].name);
		if (strcmp(got.buf, cases[i].want) != 0)
			fail_msg("days %d: got '%s', want '%s'", cases[i].days,
				 got.buf, cases[i].want);
		sbuf_release(&got);
		status_release(&st);
	}
}

static void test_counts(void **state)
{
	struct fx *f = *state;
	struct status st;
	struct sbuf text = SBUF_INIT, json = SBUF_INIT;

	test_exec(f->t.db,
		  "INSERT INTO inbound_messages (sha256, source, kind, "
		  "received_at, raw) VALUES ('a', 'stdin', 'unreadable', 0, "
		  "x'00'), ('b', 'stdin', 'report', 0, x'00'), "
		  "('c', 'maildir', 'report', 1735689300, x'00'), "
		  "('d', 'maildir', 'mdn', 1735689540, x'00'), "
		  "('e', 'maildir', 'reply', 1735689000, x'00');");
	load(f, 30, &st);
	assert_int_equal(st.queue[0], 1); /* pending */
	assert_str(status_queue_states[2], "deferred");
	assert_int_equal(st.queue[2], 1);
	assert_str(status_queue_states[3], "sent");
	assert_int_equal(st.queue[3], 2);
	assert_int_equal(st.unreadable_messages, 1);
	assert_int_equal(st.quarantined_reports, 0);
	/* the newest of each source; none from IMAP */
	assert_str(status_inbox_sources[1], "maildir");
	assert_int_equal(st.inbox_last[0], 0);
	assert_int_equal(st.inbox_last[1], NOW - 60);
	assert_int_equal(st.inbox_last[2], 0);
	assert_int_equal(st.nmissed, 2);
	assert_str(st.missed[0].name, "missed-new");
	assert_str(st.missed[1].name, "missed-old");
	assert_int_equal(st.due[2].approvals, 1);
	assert_true(st.relay.known);
	assert_str(st.relay.state, "down");
	assert_str(st.relay.last_error, "TLS refused");
	assert_int_equal(st.relay.failures, 3);
	assert_int_equal(st.ledger.rows, 0);
	assert_false(st.verify.known);

	status_format_text(&st, &text);
	status_format_json(&st, &json);
	assert_non_null(strstr(text.buf, "queue:       pending 1, deferred 1, "
				       "sent 2\n"));
	assert_non_null(strstr(text.buf, "in-20-days"));
	assert_non_null(strstr(text.buf, "approvals 1/1"));
	assert_non_null(strstr(text.buf, "last error: TLS refused"));
	assert_non_null(strstr(json.buf, "\"unreadable_messages\": 1"));
	assert_non_null(strstr(text.buf, "inbox:       maildir last "
				       "2024-12-31T23:59:00Z (60 s ago)\n"));
	assert_non_null(strstr(text.buf, "1 unreadable message for a person "
				       "to read ('chancery inbox list --kind "
				       "unreadable')"));
	assert_non_null(strstr(json.buf, "\"maildir\": "
				       "\"2024-12-31T23:59:00Z\""));
	assert_non_null(strstr(json.buf, "\"imap\": null"));
	assert_non_null(strstr(json.buf, "\"last_verification\": null"));
	sbuf_release(&text);
	sbuf_release(&json);
	status_release(&st);
}

static void test_record_verify(void **state)
{
	struct fx *f = *state;
	struct ledger_event ev = {.kind = LEDGER_CAMPAIGN_CREATED,
				  .campaign_id = 1};
	struct ledger_verify_result res;
	struct error err = ERROR_INIT;
	struct status st;
	struct db *ro = NULL;

	assert_int_equal(ledger_append(f->t.db, &ev, NULL, &err), 0);
	assert_int_equal(ledger_append(f->t.db, &ev, NULL, &err), 0);
	assert_int_equal(ledger_verify(f->t.db, NULL, &res, &err), 0);
	db_set_actor(f->t.db, "alice");
	assert_int_equal(status_record_verify(f->t.db, NOW, &res, NULL, 0,
					      NULL, &err), 0);
	assert_int_equal(ledger_append(f->t.db, &ev, NULL, &err), 0);
	load(f, 14, &st);
	assert_true(st.verify.known);
	assert_true(st.verify.ok);
	assert_str(st.verify.actor, "alice");
	assert_int_equal(st.verify.rows, 2);
	assert_int_equal(st.verify.head_id, 2);
	assert_str(st.verify.head_hash, res.head_hash);
	assert_int_equal(st.ledger.rows, 3);
	assert_int_equal(st.ledger.head_id, 3);
	status_release(&st);

	/* Read-only: nothing written, no error. */
	assert_int_equal(db_open(f->t.path, DB_READONLY, 0, &ro, &err), 0);
	assert_int_equal(status_record_verify(ro, NOW, &res, NULL, 0, NULL,
					      &err), 0);
	db_close(ro);
	assert_int_equal(test_query_int(f->t.db, "SELECT count(*) FROM "
					"audit_verifications"), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_daemon),
		T(test_due_window),
		T(test_counts),
		T(test_record_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
