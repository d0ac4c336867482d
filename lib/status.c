/*
 * status: one read of the whole state, for `chancery status` (see
 * status.h). Every query is a count or a short list over an index; the
 * ledger's size is its head id when ids are dense, but counted, since a
 * status must not assume what verify is there to prove.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chancery/clock.h"
#include "chancery/json.h"
#include "chancery/status.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

const char *const status_queue_states[STATUS_NQUEUE] = {
	"pending", "sending", "deferred", "sent",    "delivered",
	"bounced", "failed",  "expired",  "skipped", "cancelled",
};

const char *const status_inbox_sources[STATUS_NSOURCES] = {
	"stdin", "maildir", "imap",
};

enum {
	ST_DAEMON,
	ST_RELAY,
	ST_DUE,
	ST_MISSED,
	ST_QUEUE,
	ST_QUARANTINE,
	ST_UNREADABLE,
	ST_INBOX_LAST,
	ST_LEDGER_ROWS,
	ST_LEDGER_HEAD,
	ST_VERIFY_LAST,
	ST_VERIFY_PUT,
	ST__COUNT
};

#define CAMPAIGN_COLUMNS \
	"SELECT c.id, c.name, c.state, c.send_at, (SELECT count(*) FROM " \
	"campaign_approvals a WHERE a.campaign_id = c.id), c.tz "          \
	"FROM campaigns c "

static const char *const sql[ST__COUNT] = {
	[ST_DAEMON] = "SELECT pid, host, version, started_at, heartbeat_at "
		      "FROM daemon_state WHERE id = 1",
	[ST_RELAY] = "SELECT state, since, last_error, failures, "
		     "coalesce(retry_at, 0), checked_at FROM relay_state "
		     "WHERE id = 1",
	[ST_DUE] = CAMPAIGN_COLUMNS "WHERE c.state IN ('draft', 'approved', "
		   "'scheduled', 'running', 'paused') AND c.send_at < ?1 "
		   "ORDER BY c.send_at, c.id",
	[ST_MISSED] = CAMPAIGN_COLUMNS "WHERE c.state = 'missed' "
		      "ORDER BY c.send_at DESC, c.id DESC LIMIT 50",
	[ST_QUEUE] = "SELECT state, count(*) FROM deliveries GROUP BY state",
	[ST_QUARANTINE] = "SELECT count(*) FROM bounce_quarantine "
			  "WHERE confirmed_at IS NULL",
	[ST_UNREADABLE] = "SELECT count(*) FROM inbound_messages "
			  "WHERE kind = 'unreadable'",
	[ST_INBOX_LAST] = "SELECT coalesce(max(received_at), 0) FROM "
			  "inbound_messages WHERE source = ?1",
	[ST_LEDGER_ROWS] = "SELECT count(*) FROM events",
	[ST_LEDGER_HEAD] = "SELECT id, ts, hash FROM events "
			   "ORDER BY id DESC LIMIT 1",
	[ST_VERIFY_LAST] = "SELECT at, actor, ok, rows, head_id, head_hash, "
			   "anchor, problem, message FROM audit_verifications "
			   "ORDER BY id DESC LIMIT 1",
	[ST_VERIFY_PUT] = "INSERT INTO audit_verifications (at, actor, ok, "
			  "rows, head_id, head_hash, anchor, problem, message) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
};

static const struct db_statements status_statements = {"status", sql,
						       ST__COUNT};

const char *status_daemon_state_name(enum status_daemon_state s)
{
	switch (s) {
	case STATUS_DAEMON_RUNNING: return "running";
	case STATUS_DAEMON_STOPPED: return "stopped";
	case STATUS_DAEMON_ELSEWHERE: return "elsewhere";
	default: return "never";
	}
}

/* Whether /proc names pid's program chanceryd (an argument's last name,
 * so `valgrind .../chanceryd` counts): 1 yes, 0 no, -1 /proc cannot
 * tell (not Linux, hidden). */
static int pid_is_chanceryd(int64_t pid)
{
	char path[64], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%lld/cmdline", (long long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (!n)
		return -1; /* a kernel thread, or a zombie: no command line */
	buf[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
		const char *slash = strrchr(buf + i, '/');
		const char *name = slash ? slash + 1 : buf + i;

		if (strcmp(name, "chanceryd") == 0)
			return 1;
	}
	return 0;
}

/* Whether pid is the daemon, alive on this host: EPERM is a live process
 * of another user (the daemon's account), ESRCH none. A pid reused after
 * a crash or a reboot (pid 1 is always alive) is not the daemon: where
 * /proc can tell, the process must be chanceryd. */
static bool pid_alive(int64_t pid)
{
	if (pid <= 0 || pid > INT32_MAX)
		return false;
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return false;
	return pid_is_chanceryd(pid) != 0;
}

static bool same_host(const char *host)
{
	char self[256] = "";

	if (gethostname(self, sizeof(self) - 1) != 0)
		return false;
	return host && strcmp(host, self) == 0;
}

static int load_daemon(struct db *db, struct status *st, struct error *err)
{
	sqlite3_stmt *s;
	int rc = db_prepare(db, &status_statements, ST_DAEMON, &s, err);

	if (rc || (rc = db_step(db, s, err)) <= 0)
		return rc;
	st->daemon.pid = sqlite3_column_int64(s, 0);
	st->daemon.host = db_column_strdup(s, 1);
	st->daemon.version = db_column_strdup(s, 2);
	st->daemon.started_at = sqlite3_column_int64(s, 3);
	st->daemon.heartbeat_at = sqlite3_column_int64(s, 4);
	sqlite3_reset(s);
	if (!same_host(st->daemon.host))
		st->daemon.state = STATUS_DAEMON_ELSEWHERE;
	else if (pid_alive(st->daemon.pid))
		st->daemon.state = STATUS_DAEMON_RUNNING;
	else
		st->daemon.state = STATUS_DAEMON_STOPPED;
	return 0;
}

static int load_relay(struct db *db, struct status *st, struct error *err)
{
	sqlite3_stmt *s;
	int rc = db_prepare(db, &status_statements, ST_RELAY, &s, err);

	if (rc || (rc = db_step(db, s, err)) <= 0)
		return rc;
	st->relay.known = true;
	st->relay.state = db_column_strdup(s, 0);
	st->relay.since = sqlite3_column_int64(s, 1);
	st->relay.last_error = db_column_strdup(s, 2);
	st->relay.failures = sqlite3_column_int64(s, 3);
	st->relay.retry_at = sqlite3_column_int64(s, 4);
	st->relay.checked_at = sqlite3_column_int64(s, 5);
	sqlite3_reset(s);
	return 0;
}

struct campaigns {
	struct status_campaign *v;
	size_t n, alloc;
};

static int campaign_row(sqlite3_stmt *s, void *arg)
{
	struct campaigns *c = arg;
	struct status_campaign *sc;

	xgrow(&c->v, sizeof(*c->v), c->n + 1, &c->alloc);
	sc = &c->v[c->n++];
	sc->id = sqlite3_column_int64(s, 0);
	sc->name = db_column_strdup(s, 1);
	sc->state = db_column_strdup(s, 2);
	sc->send_at = sqlite3_column_int64(s, 3);
	sc->approvals = sqlite3_column_int(s, 4);
	sc->tz = db_column_strdup(s, 5);
	return 0;
}

static int load_campaigns(struct db *db, int index, int64_t before,
			  struct status_campaign **out, size_t *n,
			  struct error *err)
{
	struct campaigns c = {0};
	sqlite3_stmt *s;
	int rc = db_prepare(db, &status_statements, index, &s, err);

	if (rc)
		return rc;
	if (index == ST_DUE)
		sqlite3_bind_int64(s, 1, before);
	rc = db_each_row(db, s, campaign_row, &c, err);
	*out = c.v;
	*n = c.n;
	return rc;
}

static int queue_row(sqlite3_stmt *s, void *arg)
{
	struct status *st = arg;
	const char *state = db_column_text(s, 0);

	for (int i = 0; i < STATUS_NQUEUE; i++)
		if (strcmp(state, status_queue_states[i]) == 0)
			st->queue[i] = sqlite3_column_int64(s, 1);
	return 0;
}

static int count(struct db *db, int index, int64_t *out, struct error *err)
{
	sqlite3_stmt *s;
	int rc = db_prepare(db, &status_statements, index, &s, err);

	if (rc || (rc = db_step(db, s, err)) < 0)
		return rc;
	*out = rc ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return 0;
}

/* The newest message of each source: a lookup at the end of the index
 * on (source, received_at), not a scan of the kept messages. */
static int load_inbox_last(struct db *db, struct status *st,
			   struct error *err)
{
	for (int i = 0; i < STATUS_NSOURCES; i++) {
		sqlite3_stmt *s;
		int rc = db_prepare(db, &status_statements, ST_INBOX_LAST, &s,
				    err);

		if (rc)
			return rc;
		db_bind_text(s, 1, status_inbox_sources[i]);
		if ((rc = db_step(db, s, err)) < 0)
			return rc;
		st->inbox_last[i] = rc ? sqlite3_column_int64(s, 0) : 0;
		sqlite3_reset(s);
	}
	return 0;
}

static int load_ledger(struct db *db, struct status *st, struct error *err)
{
	sqlite3_stmt *s;
	int rc = count(db, ST_LEDGER_ROWS, &st->ledger.rows, err);

	if (!rc)
		rc = db_prepare(db, &status_statements, ST_LEDGER_HEAD, &s, err);
	if (rc || (rc = db_step(db, s, err)) <= 0)
		return rc;
	st->ledger.head_id = sqlite3_column_int64(s, 0);
	st->ledger.head_ts = sqlite3_column_int64(s, 1);
	snprintf(st->ledger.head_hash, sizeof(st->ledger.head_hash), "%s",
		 db_column_text(s, 2));
	sqlite3_reset(s);
	return 0;
}

static int load_verify(struct db *db, struct status *st, struct error *err)
{
	sqlite3_stmt *s;
	int rc = db_prepare(db, &status_statements, ST_VERIFY_LAST, &s, err);

	if (rc || (rc = db_step(db, s, err)) <= 0)
		return rc;
	st->verify.known = true;
	st->verify.at = sqlite3_column_int64(s, 0);
	st->verify.actor = db_column_strdup(s, 1);
	st->verify.ok = sqlite3_column_int(s, 2) != 0;
	st->verify.rows = sqlite3_column_int64(s, 3);
	st->verify.head_id = sqlite3_column_int64(s, 4);
	snprintf(st->verify.head_hash, sizeof(st->verify.head_hash), "%s",
		 db_column_text(s, 5));
	st->verify.anchor = db_column_strdup(s, 6);
	st->verify.problem = db_column_strdup(s, 7);
	st->verify.message = db_column_strdup(s, 8);
	sqlite3_reset(s);
	return 0;
}

int status_load(struct db *db, int64_t now, int days, int approvals_needed,
		struct status *st, struct error *err)
{
	int rc;

	memset(st, 0, sizeof(*st));
	st->now = now;
	st->days = days < 0 ? 0 : days;
	st->approvals_needed = approvals_needed;
	rc = load_daemon(db, st, err);
	if (!rc)
		rc = load_relay(db, st, err);
	if (!rc)
		rc = load_campaigns(db, ST_DUE, now + (int64_t)st->days * 86400,
				    &st->due, &st->ndue, err);
	if (!rc)
		rc = load_campaigns(db, ST_MISSED, 0, &st->missed, &st->nmissed,
				    err);
	if (!rc) {
		sqlite3_stmt *s;

		rc = db_prepare(db, &status_statements, ST_QUEUE, &s, err);
		if (!rc)
			rc = db_each_row(db, s, queue_row, st, err);
	}
	if (!rc)
		rc = count(db, ST_QUARANTINE, &st->quarantined_reports, err);
	if (!rc)
		rc = count(db, ST_UNREADABLE, &st->unreadable_messages, err);
	if (!rc)
		rc = load_inbox_last(db, st, err);
	if (!rc)
		rc = load_ledger(db, st, err);
	if (!rc)
		rc = load_verify(db, st, err);
	return rc;
}

static void campaigns_free(struct status_campaign *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].state);
		free(v[i].tz);
	}
	free(v);
}

void status_release(struct status *st)
{
	free(st->daemon.host);
	free(st->daemon.version);
	free(st->relay.state);
	free(st->relay.last_error);
	campaigns_free(st->due, st->ndue);
	campaigns_free(st->missed, st->nmissed);
	free(st->verify.actor);
	free(st->verify.anchor);
	free(st->verify.problem);
	free(st->verify.message);
	memset(st, 0, sizeof(*st));
}

/* "2026-12-03 09:00 UTC"-like text of clock_format_utc. */
static const char *when(int64_t t, char *buf, unsigned size)
{
	clock_format_utc(t, buf, size);
	return buf;
}

/* "5 min ago", "in 2 h": how far t is from now, roughly. */
static void add_ago(struct sbuf *out, int64_t now, int64_t t)
{
	int64_t d = now - t, a = d < 0 ? -d : d;
	const char *unit = "s";

	if (a >= 2 * 86400) {
		a /= 86400;
		unit = " days";
	} else if (a >= 7200) {
		a /= 3600;
		unit = " h";
	} else if (a >= 120) {
		a /= 60;
		unit = " min";
	} else {
		unit = " s";
	}
	if (d < 0)
		sbuf_addf(out, "in %lld%s", (long long)a, unit);
	else
		sbuf_addf(out, "%lld%s ago", (long long)a, unit);
}

static void text_daemon(const struct status *st, struct sbuf *out)
{
	char a[32], b[32];
	/* the row is the database's, which anyone with write access can
	 * fill: shown escaped */
	char *host = utf8_escaped(st->daemon.host ? st->daemon.host : "");
	char *version = utf8_escaped(st->daemon.version ? st->daemon.version
							: "");

	sbuf_addf(out, "daemon:      ");
	switch (st->daemon.state) {
	case STATUS_DAEMON_NEVER:
		sbuf_addf(out, "not running (never ran against this "
			       "database)\n");
		free(host);
		free(version);
		return;
	case STATUS_DAEMON_RUNNING:
		sbuf_addf(out, "running, pid %lld, since %s, version %s; last "
			  "heartbeat ", (long long)st->daemon.pid,
			  when(st->daemon.started_at, a, sizeof(a)), version);
		break;
	case STATUS_DAEMON_STOPPED:
		sbuf_addf(out, "not running; last seen %s (pid %lld, version "
			  "%s, started %s), ",
			  when(st->daemon.heartbeat_at, a, sizeof(a)),
			  (long long)st->daemon.pid, version,
			  when(st->daemon.started_at, b, sizeof(b)));
		break;
	case STATUS_DAEMON_ELSEWHERE:
		sbuf_addf(out, "on host %s (not checkable from here), pid %lld, "
			  "since %s, version %s; last heartbeat ",
			  host, (long long)st->daemon.pid,
			  when(st->daemon.started_at, a, sizeof(a)), version);
		break;
	}
	add_ago(out, st->now, st->daemon.heartbeat_at);
	sbuf_addf(out, "\n");
	free(host);
	free(version);
}

static void text_relay(const struct status *st, struct sbuf *out)
{
	char a[32], b[32];

	sbuf_addf(out, "relay:       ");
	if (!st->relay.known) {
		sbuf_addf(out, "unknown (the daemon has not tried it yet)\n");
		return;
	}
	sbuf_addf(out, "%s since %s", st->relay.state,
		  when(st->relay.since, a, sizeof(a)));
	if (strcmp(st->relay.state, "ok") != 0) {
		sbuf_addf(out, ", %lld failures", (long long)st->relay.failures);
		if (st->relay.retry_at)
			sbuf_addf(out, ", next try %s",
				  when(st->relay.retry_at, b, sizeof(b)));
	}
	sbuf_addf(out, "; checked ");
	add_ago(out, st->now, st->relay.checked_at);
	if (st->relay.last_error)
		sbuf_addf(out, "\n             last error: %s",
			  st->relay.last_error);
	sbuf_addf(out, "\n");
}

static void text_campaigns(const struct status *st, struct sbuf *out)
{
	char a[32];

	sbuf_addf(out, "due:         %zu campaign%s in the next %d days%s\n",
		  st->ndue, st->ndue == 1 ? "" : "s", st->days,
		  st->ndue ? ":" : "");
	for (size_t i = 0; i < st->ndue; i++) {
		const struct status_campaign *c = &st->due[i];

		sbuf_addf(out, "  %-24s %s  %-9s", c->name,
			  when(c->send_at, a, sizeof(a)), c->state);
		if (st->approvals_needed > 0)
			sbuf_addf(out, "  approvals %d/%d", c->approvals,
				  st->approvals_needed);
		if (c->send_at < st->now && strcmp(c->state, "running") != 0)
			sbuf_addf(out, "  (send time passed)");
		sbuf_addf(out, "\n");
	}
	sbuf_addf(out, "missed:      %zu campaign%s%s\n", st->nmissed,
		  st->nmissed == 1 ? "" : "s", st->nmissed ? ":" : "");
	for (size_t i = 0; i < st->nmissed; i++)
		sbuf_addf(out, "  %-24s %s\n", st->missed[i].name,
			  when(st->missed[i].send_at, a, sizeof(a)));
}

static void text_ledger(const struct status *st, struct sbuf *out)
{
	char a[32];

	sbuf_addf(out, "ledger:      %lld rows", (long long)st->ledger.rows);
	if (st->ledger.head_id)
		sbuf_addf(out, "; head row %lld %s",
			  (long long)st->ledger.head_id, st->ledger.head_hash);
	sbuf_addf(out, "\nverified:    ");
	if (!st->verify.known) {
		sbuf_addf(out, "never ('chancery audit verify')\n");
		return;
	}
	sbuf_addf(out, "%s %s by %s, %lld rows",
		  st->verify.ok ? "ok" : "BROKEN",
		  when(st->verify.at, a, sizeof(a)),
		  st->verify.actor ? st->verify.actor : "(system)",
		  (long long)st->verify.rows);
	if (st->verify.ok && st->ledger.head_id > st->verify.head_id)
		sbuf_addf(out, "; %lld rows appended since",
			  (long long)(st->ledger.head_id - st->verify.head_id));
	if (!st->verify.ok && st->verify.message)
		sbuf_addf(out, ": %s", st->verify.message);
	sbuf_addf(out, "\n");
}

/* When each source last brought a message, those that ever did. */
static void text_inbox(const struct status *st, struct sbuf *out)
{
	bool any = false;
	char a[32];

	sbuf_addf(out, "inbox:       ");
	for (int i = 0; i < STATUS_NSOURCES; i++) {
		if (!st->inbox_last[i])
			continue;
		sbuf_addf(out, "%s%s last %s (", any ? ", " : "",
			  status_inbox_sources[i],
			  when(st->inbox_last[i], a, sizeof(a)));
		add_ago(out, st->now, st->inbox_last[i]);
		sbuf_addf(out, ")");
		any = true;
	}
	sbuf_addf(out, "%s\n", any ? "" : "nothing received");
	if (st->unreadable_messages)
		sbuf_addf(out, "             %lld unreadable message%s for a "
			  "person to read ('chancery inbox list --kind "
			  "unreadable')\n", (long long)st->unreadable_messages,
			  st->unreadable_messages == 1 ? "" : "s");
}

void status_format_text(const struct status *st, struct sbuf *out)
{
	bool first = true;

	text_daemon(st, out);
	text_relay(st, out);
	text_campaigns(st, out);
	sbuf_addf(out, "queue:       ");
	for (int i = 0; i < STATUS_NQUEUE; i++) {
		if (!st->queue[i])
			continue;
		sbuf_addf(out, "%s%s %lld", first ? "" : ", ",
			  status_queue_states[i], (long long)st->queue[i]);
		first = false;
	}
	sbuf_addf(out, "%s\n", first ? "empty" : "");
	sbuf_addf(out, "quarantine:  %lld report%s waiting ('chancery bounce "
		  "list'), %lld unreadable message%s\n",
		  (long long)st->quarantined_reports,
		  st->quarantined_reports == 1 ? "" : "s",
		  (long long)st->unreadable_messages,
		  st->unreadable_messages == 1 ? "" : "s");
	text_inbox(st, out);
	text_ledger(st, out);
}

/* A time as UTC text, or null for 0. */
static void kv_time(struct json *js, const char *key, int64_t t)
{
	char a[32];

	json_key(js, key);
	if (t)
		json_string(js, when(t, a, sizeof(a)));
	else
		json_null(js);
}

static void json_campaigns(struct json *js, const char *key,
			   const struct status_campaign *v, size_t n)
{
	json_key(js, key);
	json_array_begin(js);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(js);
		json_kv_int(js, "id", v[i].id);
		json_kv_string(js, "name", v[i].name);
		json_kv_string(js, "state", v[i].state);
		kv_time(js, "send_at", v[i].send_at);
		json_kv_string(js, "tz", v[i].tz);
		json_kv_int(js, "approvals", v[i].approvals);
		json_object_end(js);
	}
	json_array_end(js);
}

static void json_daemon(const struct status *st, struct json *js)
{
	json_key(js, "daemon");
	json_object_begin(js);
	json_kv_string(js, "state", status_daemon_state_name(st->daemon.state));
	json_kv_bool(js, "running", st->daemon.state == STATUS_DAEMON_RUNNING);
	json_key(js, "pid");
	if (st->daemon.state == STATUS_DAEMON_NEVER)
		json_null(js);
	else
		json_int(js, st->daemon.pid);
	json_kv_string(js, "host", st->daemon.host);
	json_kv_string(js, "version", st->daemon.version);
	kv_time(js, "started_at", st->daemon.started_at);
	kv_time(js, "heartbeat_at", st->daemon.heartbeat_at);
	json_object_end(js);
}

static void json_relay(const struct status *st, struct json *js)
{
	json_key(js, "relay");
	json_object_begin(js);
	json_kv_string(js, "state", st->relay.known ? st->relay.state
						    : "unknown");
	kv_time(js, "since", st->relay.since);
	json_kv_string(js, "last_error", st->relay.last_error);
	json_kv_int(js, "failures", st->relay.failures);
	kv_time(js, "retry_at", st->relay.retry_at);
	kv_time(js, "checked_at", st->relay.checked_at);
	json_object_end(js);
}

static void json_ledger(const struct status *st, struct json *js)
{
	json_key(js, "ledger");
	json_object_begin(js);
	json_kv_int(js, "rows", st->ledger.rows);
	json_kv_int(js, "head_id", st->ledger.head_id);
	kv_time(js, "head_time", st->ledger.head_ts);
	json_kv_string(js, "head_hash", st->ledger.head_id
				       ? st->ledger.head_hash : NULL);
	json_object_end(js);
	json_key(js, "last_verification");
	if (!st->verify.known) {
		json_null(js);
		return;
	}
	json_object_begin(js);
	kv_time(js, "at", st->verify.at);
	json_kv_string(js, "actor", st->verify.actor);
	json_kv_bool(js, "ok", st->verify.ok);
	json_kv_int(js, "rows_verified", st->verify.rows);
	json_kv_int(js, "head_id", st->verify.head_id);
	json_kv_string(js, "head_hash", st->verify.head_hash);
	json_kv_string(js, "anchor", st->verify.anchor);
	json_kv_string(js, "problem", st->verify.problem);
	json_kv_string(js, "message", st->verify.message);
	json_kv_int(js, "rows_since",
		    st->ledger.head_id > st->verify.head_id
			    ? st->ledger.head_id - st->verify.head_id : 0);
	json_object_end(js);
}

void status_format_json(const struct status *st, struct sbuf *out)
{
	struct json js;

	json_init(&js, out, true);
	json_object_begin(&js);
	kv_time(&js, "now", st->now);
	json_daemon(st, &js);
	json_relay(st, &js);
	json_kv_int(&js, "due_days", st->days);
	json_kv_int(&js, "approvals_needed", st->approvals_needed);
	json_campaigns(&js, "due", st->due, st->ndue);
	json_campaigns(&js, "missed", st->missed, st->nmissed);
	json_key(&js, "queue");
	json_object_begin(&js);
	for (int i = 0; i < STATUS_NQUEUE; i++)
		json_kv_int(&js, status_queue_states[i], st->queue[i]);
	json_object_end(&js);
	json_key(&js, "quarantine");
	json_object_begin(&js);
	json_kv_int(&js, "reports", st->quarantined_reports);
	json_kv_int(&js, "unreadable_messages", st->unreadable_messages);
	json_object_end(&js);
	json_key(&js, "inbox_last");
	json_object_begin(&js);
	for (int i = 0; i < STATUS_NSOURCES; i++)
		kv_time(&js, status_inbox_sources[i], st->inbox_last[i]);
	json_object_end(&js);
	json_ledger(st, &js);
	json_object_end(&js);
}

int status_record_verify(struct db *db, int64_t now,
			 const struct ledger_verify_result *res,
			 const char *anchor, int rc, const char *message,
			 struct error *err)
{
	static const char *const problems[] = {
		[LEDGER_HASH_MISMATCH] = "hash-mismatch",
		[LEDGER_PREV_MISMATCH] = "prev-mismatch",
		[LEDGER_ANCHOR_MISSING] = "anchor-missing",
	};
	sqlite3_stmt *s;
	int r;

	if (sqlite3_db_readonly(db_handle(db), "main") != 0)
		return 0;
	r = db_prepare(db, &status_statements, ST_VERIFY_PUT, &s, err);
	if (r)
		return r;
	sqlite3_bind_int64(s, 1, now);
	db_bind_text(s, 2, db_actor(db));
	sqlite3_bind_int(s, 3, rc == 0);
	sqlite3_bind_int64(s, 4, res->rows);
	sqlite3_bind_int64(s, 5, res->head_id);
	db_bind_text(s, 6, res->head_hash);
	db_bind_text(s, 7, anchor);
	if (rc && (size_t)res->problem < sizeof(problems) / sizeof(*problems))
		db_bind_text(s, 8, problems[res->problem]);
	db_bind_text(s, 9, rc ? message : NULL);
	return db_step_done(db, s, err);
}
