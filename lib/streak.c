#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/bounce_report.h"
#include "chancery/clock.h"
#include "chancery/log.h"
#include "chancery/registry.h"
#include "chancery/sbuf.h"
#include "chancery/streak.h"

enum {
	ST_SINCE,
	ST_STREAK,
	ST_MARK,
	ST__COUNT
};

static const char *const streak_sql[ST__COUNT] = {
	[ST_SINCE] = "SELECT MAX(through_send_at) FROM bounce_marks "
		     "WHERE contact_id = ?1",
	/* The contact's deliveries that reached the relay, newest campaign
	 * first, after the last time it was marked bouncing. */
	[ST_STREAK] = "SELECT d.state, c.name, c.send_at, d.reason, d.email, "
		      "d.bounce_class "
		      "FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id "
		      "WHERE d.contact_id = ?1 AND d.state IN ('sent', "
		      "'delivered', 'bounced', 'failed') "
		      "AND (?2 IS NULL OR c.send_at > ?2) "
		      "ORDER BY c.send_at DESC, d.id DESC LIMIT ?3",
	[ST_MARK] = "INSERT INTO bounce_marks (contact_id, through_send_at, "
		    "reason, created_at) VALUES (?1, ?2, ?3, ?4)",
};

static const struct db_statements streak_statements = {"streak", streak_sql,
						       ST__COUNT};

/* Since when the streak counts (the last mark), *has false when never. */
static int streak_since(struct db *db, int64_t contact_id, int64_t *since,
			bool *has, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &streak_statements, ST_SINCE, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, contact_id);
	rc = db_step(db, st, err);
	*has = false;
	if (rc == 1) {
		*has = sqlite3_column_type(st, 0) != SQLITE_NULL;
		*since = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		rc = 0;
	}
	return rc;
}

/* Whether the newest `threshold` campaigns all failed permanently; the
 * reason names them and the last diagnostic. */
/* Whether a bounce of that class (NULL: recorded before classes were
 * kept) counts against the address. */
static bool class_counts(const char *klass, unsigned mask)
{
	enum bounce_class c;

	if (!klass)
		return true;
	return bounce_class_parse(klass, &c) == 0 && (mask & (1u << c));
}

static int streak_full(struct db *db, int64_t contact_id, int threshold,
		       unsigned mask, struct sbuf *reason, int64_t *newest,
		       struct error *err)
{
	sqlite3_stmt *st;
	int64_t since = 0;
	bool has = false, full = true;
	int n = 0, rc = streak_since(db, contact_id, &since, &has, err);
	char *last = NULL;

	if (!rc)
		rc = db_prepare(db, &streak_statements, ST_STREAK, &st, err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, contact_id);
	if (has)
		sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int(st, 3, threshold);
	sbuf_addf(reason, "permanent failures in %d consecutive campaign%s:",
		  threshold, threshold == 1 ? "" : "s");
	while ((rc = db_step(db, st, err)) == 1) {
		const char *state = db_column_text(st, 0);

		if (strcmp(state, "failed") != 0 &&
		    (strcmp(state, "bounced") != 0 ||
		     !class_counts(sqlite3_column_type(st, 5) == SQLITE_NULL
					   ? NULL
					   : db_column_text(st, 5),
				   mask)))
			full = false;
		if (n == 0) {
			*newest = sqlite3_column_int64(st, 2);
			last = db_column_strdup(st, 3);
		}
		sbuf_addf(reason, "%s %s", n ? "," : "", db_column_text(st, 1));
		n++;
	}
	if (!rc && last)
		sbuf_addf(reason, "; last: %s", last);
	free(last);
	if (rc)
		return rc;
	return full && n == threshold;
}

static int mark(struct db *db, int64_t contact_id, int64_t through,
		const char *reason, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &streak_statements, ST_MARK, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, contact_id);
	sqlite3_bind_int64(st, 2, through);
	db_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, clock_now());
	rc = db_step_done(db, st, err);
	if (!rc)
		rc = registry_contact_set_status(db, contact_id, CONTACT_BOUNCING,
						 reason, err);
	return rc;
}

int streak_check(struct db *db, int64_t contact_id, int threshold,
		 unsigned count_mask, bool *marked, struct error *err)
{
	struct registry_contact contact = {0};
	struct sbuf reason = SBUF_INIT;
	int64_t newest = 0;
	int rc;

	*marked = false;
	if (threshold < 1)
		return error_set(err, ERR_USAGE, "bounce threshold %d is below 1",
				 threshold);
	rc = registry_contact_get(db, contact_id, &contact, err);
	if (rc)
		goto out;
	/* Only active contacts change: a disabled or suppressed one was
	 * decided by a person, and one already bouncing needs nothing. */
	if (contact.status != CONTACT_ACTIVE)
		goto out;
	rc = streak_full(db, contact_id, threshold, count_mask, &reason,
			 &newest, err);
	if (rc == 1) {
		rc = mark(db, contact_id, newest, reason.buf, err);
		*marked = rc == 0;
		if (!rc)
			log_info("contact=%lld email=%s status=bouncing reason=\"%s\"",
				 (long long)contact_id, contact.email, reason.buf);
	}
out:
	registry_contact_release(&contact);
	sbuf_release(&reason);
	return rc;
}
