/*
 * The daemon's look-out for campaigns due and not scheduled, missed, or
 * starting late (see watch.h). Reads campaigns, writes
 * campaign_reminders; the state change to missed is the campaign
 * module's (campaign_mark_missed).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/campaign.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/log.h"
#include "chancery/watch.h"
#include "chancery/xalloc.h"

#define DAY_SECONDS 86400

enum {
	ST_CANDIDATES,
	ST_REMINDED,
	ST_RECORD,
	ST__COUNT
};

static const char *const watch_sql[ST__COUNT] = {
	/* Two ranges of the campaigns_due index (state, send_at): what is
	 * unscheduled within the reminder window, and what is scheduled and
	 * overdue. Empty on most rounds. */
	[ST_CANDIDATES] = "SELECT id, name, state, send_at FROM campaigns "
			  "WHERE (state IN ('draft', 'approved') "
			  "AND send_at <= ?1) "
			  "OR (state = 'scheduled' AND send_at <= ?2) "
			  "ORDER BY send_at, id",
	[ST_REMINDED] = "SELECT 1 FROM campaign_reminders WHERE "
			"campaign_id = ?1 AND due_in_days = ?2 AND send_at = ?3",
	[ST_RECORD] = "INSERT INTO campaign_reminders (campaign_id, "
		      "due_in_days, send_at, created_at) VALUES (?1, ?2, ?3, ?4)",
};

static const struct db_statements watch_statements = {"watch", watch_sql,
						      ST__COUNT};

struct candidate {
	int64_t id;
	char *name;
	char *state;
	int64_t send_at;
};

/* "6 days 23 h", "5 h 12 min", "40 s": how far a time is, for a person. */
static void format_span(int64_t s, char *buf, size_t size)
{
	if (s < 0)
		s = -s;
	if (s >= DAY_SECONDS)
		snprintf(buf, size, "%lld day%s %lld h",
			 (long long)(s / DAY_SECONDS),
			 s / DAY_SECONDS == 1 ? "" : "s",
			 (long long)(s % DAY_SECONDS / 3600));
	else if (s >= 3600)
		snprintf(buf, size, "%lld h %lld min", (long long)(s / 3600),
			 (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, size, "%lld min %lld s", (long long)(s / 60),
			 (long long)(s % 60));
	else
		snprintf(buf, size, "%lld s", (long long)s);
}

static int load_candidates(struct db *db, int64_t horizon, int64_t late,
			   struct candidate **out, size_t *n, struct error *err)
{
	size_t alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &watch_statements, ST_CANDIDATES, &st, err);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, horizon);
	sqlite3_bind_int64(st, 2, late);
	while ((rc = db_step(db, st, err)) == 1) {
		struct candidate *c;

		xgrow(out, sizeof(**out), *n + 1, &alloc);
		c = &(*out)[(*n)++];
		c->id = sqlite3_column_int64(st, 0);
		c->name = db_column_strdup(st, 1);
		c->state = db_column_strdup(st, 2);
		c->send_at = sqlite3_column_int64(st, 3);
	}
	return rc;
}

/* 1 when the reminder was given already, 0 when not, or an error. */
static int reminded_before(struct db *db, const struct candidate *c, int days,
			   struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &watch_statements, ST_REMINDED, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_int(st, 2, days);
	sqlite3_bind_int64(st, 3, c->send_at);
	rc = db_step(db, st, err);
	sqlite3_reset(st);
	return rc;
}

/* The reminder's row and its event, in one transaction. */
static int remind(struct db *db, const struct candidate *c, int days,
		  int64_t now, struct error *err)
{
	struct ledger_entry e;
	char when[24], left[48];
	sqlite3_stmt *st;
	int rc;

	clock_format_utc(c->send_at, when, sizeof(when));
	ledger_entry_init(&e, LEDGER_CAMPAIGN_REMINDED, c->id, 0, 0, 0);
	ledger_entry_str(&e, "campaign", c->name);
	ledger_entry_int(&e, "due_in_days", days);
	ledger_entry_str(&e, "state", c->state);
	ledger_entry_str(&e, "send_at", when);
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &watch_statements, ST_RECORD, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, c->id);
		sqlite3_bind_int(st, 2, days);
		sqlite3_bind_int64(st, 3, c->send_at);
		sqlite3_bind_int64(st, 4, now);
		rc = db_step_done(db, st, err);
	}
	if (!rc)
		rc = ledger_entry_append(db, &e, NULL, err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc) {
		format_span(c->send_at - now, left, sizeof(left));
		log_warn("campaign=%s state=%s send_at=%s due_in=\"%s\": due "
			 "and not scheduled; reminder recorded "
			 "(campaign.reminded due_in_days=%d)",
			 c->name, c->state, when, left, days);
	}
out:
	ledger_entry_release(&e);
	return rc;
}

/*
 * The reminder a campaign due in `left` seconds is owed: the one-day
 * reminder inside a day, else the campaign.remind one; 0 when none (the
 * setting is 0, or the time is outside it).
 */
static int owed_days(int64_t remind_s, int64_t left)
{
	if (remind_s <= 0 || left > remind_s)
		return 0;
	if (remind_s > DAY_SECONDS && left <= DAY_SECONDS)
		return 1;
	return (int)((remind_s + DAY_SECONDS - 1) / DAY_SECONDS);
}

static int watch_one(struct db *db, const struct candidate *c,
		     int64_t remind_s, int64_t now, struct watch_report *r,
		     struct error *err)
{
	char when[24], late[48];
	int days, rc;

	clock_format_utc(c->send_at, when, sizeof(when));
	if (strcmp(c->state, "scheduled") == 0) {
		format_span(now - c->send_at, late, sizeof(late));
		log_warn("campaign=%s send_at=%s late=\"%s\": starting late, "
			 "its send time passed while the daemon was not "
			 "running", c->name, when, late);
		r->late++;
		return 0;
	}
	if (c->send_at <= now) {
		rc = campaign_mark_missed(db, c->id, err);
		if (rc)
			return rc;
		r->missed++;
		log_warn("campaign=%s state=missed send_at=%s: its send time "
			 "passed while it was %s (never scheduled); recorded as "
			 "campaign.missed. Cancel it, or edit it to a new send "
			 "time", c->name, when, c->state);
		return 0;
	}
	days = owed_days(remind_s, c->send_at - now);
	if (!days)
		return 0;
	rc = reminded_before(db, c, days, err);
	if (rc)
		return rc < 0 ? rc : 0;
	rc = remind(db, c, days, now, err);
	if (!rc)
		r->reminded++;
	return rc;
}

int watch_campaigns(struct db *db, const struct conf *cfg, int64_t now,
		    struct watch_report *report, struct error *err)
{
	int64_t remind_s = cfg->campaign.remind_ms / 1000;
	struct candidate *v = NULL;
	size_t n = 0;
	int first = 0;
	int rc = load_candidates(db, now + remind_s, now - WATCH_LATE_SECONDS,
				 &v, &n, err);

	memset(report, 0, sizeof(*report));
	for (size_t i = 0; !rc && i < n; i++) {
		struct error one = ERROR_INIT;
		int r = watch_one(db, &v[i], remind_s, now, report, &one);

		if (r) {
			error_prefix(&one, "campaign '%s'", v[i].name);
			log_warn("%s", one.msg);
			if (!first) {
				first = r;
				error_set(err, r, "%s", one.msg);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].state);
	}
	free(v);
	return rc ? rc : first;
}
