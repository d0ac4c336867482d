/*
 * The relay's state and the daemon's row (relay.h): two one-row tables
 * the daemon writes and `chancery status` reads.
 */
#include <stdio.h>
#include <string.h>

#include "chancery/ledger.h"
#include "chancery/log.h"
#include "chancery/queue.h"
#include "chancery/relay.h"

enum {
	ST_GET,
	ST_PUT,
	ST_CHECKED,
	ST_RETRY_NOW,
	ST_DAEMON_START,
	ST_DAEMON_BEAT,
	ST__COUNT
};

static const char *const relay_sql[ST__COUNT] = {
	[ST_GET] = "SELECT state, since, last_error, failures, retry_at, "
		   "checked_at FROM relay_state WHERE id = 1",
	[ST_PUT] = "INSERT OR REPLACE INTO relay_state (id, state, since, "
		   "last_error, failures, retry_at, checked_at) "
		   "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_CHECKED] = "UPDATE relay_state SET checked_at = ?1 WHERE id = 1",
	[ST_RETRY_NOW] = "UPDATE relay_state SET retry_at = ?1 "
			 "WHERE id = 1 AND state = 'down' AND retry_at > ?1",
	[ST_DAEMON_START] =
		"INSERT OR REPLACE INTO daemon_state (id, pid, host, version, "
		"started_at, heartbeat_at) VALUES (1, ?1, ?2, ?3, ?4, ?4)",
	[ST_DAEMON_BEAT] = "UPDATE daemon_state SET heartbeat_at = ?2 "
			   "WHERE id = 1 AND pid = ?1",
};

static const struct db_statements relay_statements = {"relay", relay_sql,
						      ST__COUNT};

int relay_status_get(struct db *db, struct relay_status *out,
		     struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &relay_statements, ST_GET, &st, err);

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	rc = db_step(db, st, err);
	if (rc <= 0)
		return rc;
	out->known = true;
	out->down = strcmp(db_column_text(st, 0), "down") == 0;
	out->since = sqlite3_column_int64(st, 1);
	snprintf(out->last_error, sizeof(out->last_error), "%s",
		 db_column_text(st, 2));
	out->failures = sqlite3_column_int(st, 3);
	out->retry_at = sqlite3_column_int64(st, 4);
	out->checked_at = sqlite3_column_int64(st, 5);
	sqlite3_reset(st);
	return 0;
}

int64_t relay_backoff_ms(const struct conf_relay *c, int failures)
{
	int64_t ms = c->retry_first_ms;

	for (int i = 1; i < failures && ms < c->retry_max_ms; i++)
		ms *= 2;
	return ms < c->retry_max_ms ? ms : c->retry_max_ms;
}

static int put(struct db *db, const struct relay_status *s,
	       struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &relay_statements, ST_PUT, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, s->down ? "down" : "ok");
	sqlite3_bind_int64(st, 2, s->since);
	db_bind_text(st, 3, s->last_error[0] ? s->last_error : NULL);
	sqlite3_bind_int(st, 4, s->failures);
	if (s->retry_at)
		sqlite3_bind_int64(st, 5, s->retry_at);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, s->checked_at);
	return db_step_done(db, st, err);
}

/* "host:port", or the outbox, as the events name the relay. */
static void relay_name(const struct conf *cfg, char *out, size_t size)
{
	if (cfg->transport == TRANSPORT_SMTP)
		snprintf(out, size, "%s:%d", cfg->smtp.host, cfg->smtp.port);
	else
		snprintf(out, size, "%s", cfg->outbox ? cfg->outbox : "-");
}

int relay_mark_down(struct db *db, const struct conf *cfg, int64_t now,
		    const struct transport_result *r,
		    struct relay_status *out, bool *began, struct error *err)
{
	struct relay_status s;
	struct ledger_entry e;
	char name[300];
	int rc = db_begin(db, err);

	*began = false;
	if (rc)
		return rc;
	rc = relay_status_get(db, &s, err);
	if (rc)
		goto out;
	if (!s.down) {
		*began = true;
		s.down = true;
		s.since = now;
		s.failures = 0;
	}
	s.failures++;
	s.checked_at = now;
	s.retry_at = now + relay_backoff_ms(&cfg->relay, s.failures) / 1000;
	snprintf(s.last_error, sizeof(s.last_error), "%s", r->text);
	rc = put(db, &s, err);
	if (!rc && *began) {
		relay_name(cfg, name, sizeof(name));
		ledger_entry_init(&e, LEDGER_RELAY_DOWN, 0, 0, 0, 0);
		ledger_entry_str(&e, "relay", name);
		ledger_entry_str(&e, "reason", r->text);
		ledger_entry_int(&e, "code", r->code);
		ledger_entry_str(&e, "phase", transport_phase_name(r->phase));
		ledger_entry_int(&e, "retry_at", s.retry_at);
		rc = ledger_entry_append(db, &e, NULL, err);
		ledger_entry_release(&e);
	}
out:
	if (rc) {
		db_rollback(db);
		return rc;
	}
	rc = db_commit(db, err);
	if (!rc && out)
		*out = s;
	return rc;
}

int relay_mark_up(struct db *db, const struct conf *cfg, int64_t now,
		  bool *ended, struct error *err)
{
	struct relay_status s;
	struct ledger_entry e;
	char name[300];
	int extended = 0;
	sqlite3_stmt *st;
	int rc = db_begin(db, err);

	*ended = false;
	if (rc)
		return rc;
	rc = relay_status_get(db, &s, err);
	if (rc)
		goto out;
	if (s.known && !s.down) {
		rc = db_prepare(db, &relay_statements, ST_CHECKED, &st, err);
		if (!rc) {
			sqlite3_bind_int64(st, 1, now);
			rc = db_step_done(db, st, err);
		}
		goto out;
	}
	if (s.down) {
		*ended = true;
		rc = queue_relay_outage_end(db, now - s.since,
					    2 * (cfg->queue.lifetime_ms / 1000),
					    &extended, err);
		if (rc)
			goto out;
		relay_name(cfg, name, sizeof(name));
		ledger_entry_init(&e, LEDGER_RELAY_UP, 0, 0, 0, 0);
		ledger_entry_str(&e, "relay", name);
		ledger_entry_int(&e, "down_since", s.since);
		ledger_entry_int(&e, "outage_seconds", now - s.since);
		ledger_entry_int(&e, "failures", s.failures);
		ledger_entry_str(&e, "reason", s.last_error);
		ledger_entry_int(&e, "lifetimes_extended", extended);
		rc = ledger_entry_append(db, &e, NULL, err);
		ledger_entry_release(&e);
		if (rc)
			goto out;
	}
	/* The last error stays for status to show what the outage was. */
	s.down = false;
	s.since = now;
	s.failures = 0;
	s.retry_at = 0;
	s.checked_at = now;
	rc = put(db, &s, err);
out:
	if (rc) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

int relay_retry_now(struct db *db, int64_t now, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &relay_statements, ST_RETRY_NOW, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	return db_step_done(db, st, err);
}

int relay_daemon_started(struct db *db, long pid, const char *host,
			 const char *version, int64_t now, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &relay_statements, ST_DAEMON_START, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, pid);
	db_bind_text(st, 2, host);
	db_bind_text(st, 3, version);
	sqlite3_bind_int64(st, 4, now);
	return db_step_done(db, st, err);
}

int relay_daemon_beat(struct db *db, long pid, int64_t now,
		      struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &relay_statements, ST_DAEMON_BEAT, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_int64(st, 2, now);
	return db_step_done(db, st, err);
}
