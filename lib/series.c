#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chancery/utf8.h"
#include "chancery/address.h"
#include "chancery/calendar.h"
#include "chancery/campaign.h"
#include "chancery/campaign_start.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/list.h"
#include "chancery/log.h"
#include "chancery/series.h"
#include "chancery/template.h"
#include "chancery/xalloc.h"

/* How late a year's campaign may still be created after its send time. */
#define SERIES_GRACE_SECONDS 86400

static const char *const state_names[] = {
	[SERIES_ACTIVE] = "active",
	[SERIES_PAUSED] = "paused",
	[SERIES_REMOVED] = "removed",
};

enum {
	ST_INSERT,
	ST_BY_NAME,
	ST_BY_ID,
	ST_ALL,
	ST_SET_STATE,
	ST_NAME_USED,
	ST_TOUCH,
	ST_UPDATE,
	ST__COUNT
};

#define SERIES_COLUMNS                                                        \
	"SELECT id, name, event_date, send_month, send_day, send_minute, tz, " \
	"template_name, list_id, lead_days, auto_schedule, sender, state, "    \
	"created_at, updated_at, language FROM series "

static const char *const series_sql[ST__COUNT] = {
	[ST_INSERT] = "INSERT INTO series (name, event_date, send_month, "
		      "send_day, send_minute, tz, template_name, list_id, "
		      "lead_days, auto_schedule, sender, state, created_at, "
		      "updated_at, language) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		      "?7, ?8, ?9, ?10, ?11, 'active', ?12, ?12, ?13)",
	[ST_BY_NAME] = (SERIES_COLUMNS
			"WHERE name = ?1 AND state <> 'removed'"),
	[ST_BY_ID] = (SERIES_COLUMNS "WHERE id = ?1 AND state <> 'removed'"),
	[ST_ALL] = (SERIES_COLUMNS "WHERE state <> 'removed' ORDER BY name"),
	[ST_NAME_USED] = "SELECT count(*) FROM series WHERE name = ?1",
	[ST_SET_STATE] = "UPDATE series SET state = ?3, updated_at = ?4 "
			 "WHERE id = ?1 AND state = ?2",
	[ST_TOUCH] = "UPDATE series SET updated_at = ?2 WHERE id = ?1",
	[ST_UPDATE] = "UPDATE series SET template_name = ?2, list_id = ?3, "
		      "send_month = ?4, send_day = ?5, send_minute = ?6, tz = ?7, "
		      "lead_days = ?8, updated_at = ?9, language = ?10 "
		      "WHERE id = ?1 AND state <> 'removed'",
};

static const struct db_statements series_statements = {"series", series_sql,
						       ST__COUNT};

const char *series_state_name(enum series_state s)
{
	if ((int)s < 0 || s > SERIES_REMOVED)
		return "?";
	return state_names[s];
}

void series_info_release(struct series_info *s)
{
	free(s->name);
	free(s->event_date);
	free(s->tz);
	free(s->template_name);
	free(s->list_name);
	free(s->sender);
	free(s->language);
	memset(s, 0, sizeof(*s));
}

static void read_info(sqlite3_stmt *st, struct series_info *s)
{
	const char *state;

	memset(s, 0, sizeof(*s));
	s->id = sqlite3_column_int64(st, 0);
	s->name = db_column_strdup(st, 1);
	s->event_date = db_column_strdup(st, 2);
	s->send_month = sqlite3_column_int(st, 3);
	s->send_day = sqlite3_column_int(st, 4);
	s->send_minute = sqlite3_column_int(st, 5);
	s->tz = db_column_strdup(st, 6);
	s->template_name = db_column_strdup(st, 7);
	s->list_id = sqlite3_column_int64(st, 8);
	s->lead_days = sqlite3_column_int(st, 9);
	s->auto_schedule = sqlite3_column_int(st, 10) != 0;
	s->sender = db_column_strdup(st, 11);
	s->language = db_column_strdup(st, 15);
	state = db_column_text(st, 12);
	s->state = strcmp(state, "paused") == 0	   ? SERIES_PAUSED
		   : strcmp(state, "removed") == 0 ? SERIES_REMOVED
						   : SERIES_ACTIVE;
	s->created_at = sqlite3_column_int64(st, 13);
	s->updated_at = sqlite3_column_int64(st, 14);
}

/* The list's name, asked of the list module. */
static int read_list_name(struct db *db, struct series_info *s,
			  struct error *err)
{
	struct list_info l;
	int rc = list_get(db, s->list_id, &l, err);

	if (rc)
		return rc;
	s->list_name = xstrdup(l.name);
	list_info_release(&l);
	return 0;
}

static int fetch_one(struct db *db, sqlite3_stmt *st, struct series_info *out,
		     const char *what, struct error *err)
{
	int rc = db_step(db, st, err);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no series %s", what);
	read_info(st, out);
	sqlite3_reset(st);
	rc = read_list_name(db, out, err);
	if (rc)
		series_info_release(out);
	return rc;
}

int series_find(struct db *db, const char *name, struct series_info *out,
		struct error *err)
{
	sqlite3_stmt *st;
	char what[256];
	int rc = db_prepare(db, &series_statements, ST_BY_NAME, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	snprintf(what, sizeof(what), "named '%s'", name);
	return fetch_one(db, st, out, what, err);
}

static int series_get_live(struct db *db, int64_t id, struct series_info *out,
			   struct error *err)
{
	sqlite3_stmt *st;
	char what[64];
	int rc = db_prepare(db, &series_statements, ST_BY_ID, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	snprintf(what, sizeof(what), "#%lld", (long long)id);
	return fetch_one(db, st, out, what, err);
}

int series_each(struct db *db,
		int (*fn)(const struct series_info *s, void *arg), void *arg,
		struct error *err)
{
	struct series_info *all = NULL;
	size_t n = 0, alloc = 0;
	sqlite3_stmt *st;
	int rc = db_prepare(db, &series_statements, ST_ALL, &st, err);

	/* Read everything first: fn may run queries of its own. */
	while (!rc && (rc = db_step(db, st, err)) == 1) {
		xgrow(&all, sizeof(*all), n + 1, &alloc);
		read_info(st, &all[n++]);
		rc = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!rc)
			rc = read_list_name(db, &all[i], err);
		if (!rc)
			rc = fn(&all[i], arg);
		series_info_release(&all[i]);
	}
	free(all);
	return rc;
}

static int series_event(struct db *db, enum ledger_kind kind,
			const char *name, const char *detail_key,
			const char *detail, struct error *err)
{
	struct ledger_entry e;
	int rc;

	ledger_entry_init(&e, kind, 0, 0, 0, 0);
	ledger_entry_str(&e, "series", name);
	if (detail_key)
		ledger_entry_str(&e, detail_key, detail);
	rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	return rc;
}

/* A removed series keeps its name: its campaigns and the ledger name it. */
static int name_used(struct db *db, const char *name, struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &series_statements, ST_NAME_USED, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(db, st, err);
	if (rc < 0)
		return rc;
	rc = sqlite3_column_int(st, 0) > 0;
	sqlite3_reset(st);
	if (rc)
		return error_set(err, ERR_DATA, "series name '%s' belongs to a "
						"removed series; choose another",
				 name);
	return 0;
}

/* Checks the fields of a new series and parses its send day. */
static int check_new(struct db *db, const struct series_new *s, int *month,
		     int *day, int *minute, int *version, struct error *err)
{
	struct template_info t;
	struct series_info old;
	struct error ignore = ERROR_INIT;
	int y, m, d, rc;

	if (!s->name || !*s->name || strlen(s->name) > 180)
		return error_set(err, ERR_USAGE, "a series needs a name of 1 to "
						 "180 bytes");
	if (utf8_check_text("series name", s->name, err))
		return ERR_USAGE;
	if (series_find(db, s->name, &old, &ignore) == 0) {
		series_info_release(&old);
		return error_set(err, ERR_DATA, "series '%s' already exists",
				 s->name);
	}
	rc = name_used(db, s->name, err);
	if (rc)
		return rc;
	rc = calendar_parse_date(s->event_date, &y, &m, &d, err);
	if (!rc)
		rc = calendar_parse_send(s->send, month, day, minute, err);
	if (rc)
		return rc;
	if (!clock_zone_valid(s->tz))
		return error_set(err, ERR_USAGE, "unknown time zone '%s'",
				 s->tz ? s->tz : "");
	if (s->lead_days < 0 || s->lead_days > SERIES_MAX_LEAD_DAYS)
		return error_set(err, ERR_USAGE, "lead days %d out of range "
						 "(0 to %d)", s->lead_days,
				 SERIES_MAX_LEAD_DAYS);
	if (s->sender && address_check(s->sender, err) != 0)
		return error_prefix(err, "sender");
	rc = template_find(db, s->template_name, 0, &t, err);
	if (!rc) {
		*version = t.version;
		template_info_release(&t);
	}
	return rc;
}

int series_add(struct db *db, const struct series_new *s, int64_t *id_out,
	       struct error *err)
{
	struct list_info list = {0};
	sqlite3_stmt *st;
	struct ledger_entry e;
	int month, day, minute, version = 0;
	int rc = check_new(db, s, &month, &day, &minute, &version, err);

	if (!rc)
		rc = list_find(db, s->list_name, &list, err);
	if (!rc)
		rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &series_statements, ST_INSERT, &st, err);
	if (!rc) {
		db_bind_text(st, 1, s->name);
		db_bind_text(st, 2, s->event_date);
		sqlite3_bind_int(st, 3, month);
		sqlite3_bind_int(st, 4, day);
		sqlite3_bind_int(st, 5, minute);
		db_bind_text(st, 6, s->tz);
		db_bind_text(st, 7, s->template_name);
		sqlite3_bind_int64(st, 8, list.id);
		sqlite3_bind_int(st, 9, s->lead_days);
		sqlite3_bind_int(st, 10, s->auto_schedule ? 1 : 0);
		db_bind_text(st, 11, s->sender);
		sqlite3_bind_int64(st, 12, clock_now());
		db_bind_text(st, 13, s->language);
		rc = db_step_done(db, st, err);
	}
	if (!rc && id_out)
		*id_out = db_last_id(db);
	/* Each year's campaign takes the template's latest version when it
	 * is made, not this one: the event says both. */
	ledger_entry_init(&e, LEDGER_SERIES_CREATED, 0, 0, 0, 0);
	ledger_entry_str(&e, "series", s->name);
	ledger_entry_str(&e, "template", s->template_name);
	ledger_entry_int(&e, "template_version_now", version);
	ledger_entry_str(&e, "template_rule", "latest at creation");
	if (!rc)
		rc = ledger_entry_append(db, &e, NULL, err);
	ledger_entry_release(&e);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	list_info_release(&list);
	return rc;
}

/* Moves a series from one of the states in `from` (a mask) to `to`. */
static int change_state(struct db *db, int64_t id, unsigned from,
			enum series_state to, enum ledger_kind kind,
			const char *verb, struct error *err)
{
	struct series_info s = {0};
	sqlite3_stmt *st;
	int rc;

	/* Removed series are not found, which is what every verb wants. */
	rc = series_get_live(db, id, &s, err);
	if (rc)
		return rc;
	if (!(from & (1u << s.state))) {
		rc = error_set(err, ERR_DATA, "series '%s' is %s: cannot %s it",
			       s.name, series_state_name(s.state), verb);
		goto out;
	}
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &series_statements, ST_SET_STATE, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		db_bind_text(st, 2, series_state_name(s.state));
		db_bind_text(st, 3, series_state_name(to));
		sqlite3_bind_int64(st, 4, clock_now());
		rc = db_step_done(db, st, err);
	}
	if (!rc && db_changes(db) != 1)
		rc = error_set(err, ERR_TEMPFAIL, "series '%s' changed meanwhile; "
						  "try again", s.name);
	if (!rc)
		rc = series_event(db, kind, s.name, "from",
				  series_state_name(s.state), err);
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
out:
	series_info_release(&s);
	return rc;
}

/* ---- edit ---- */

static int year_of(int64_t t);

void series_edit_result_release(struct series_edit_result *r)
{
	free(r->changes);
	free(r->campaign);
	free(r->campaign_state);
	memset(r, 0, sizeof(*r));
}

/* The series as it will be after e, checked; list_id set from the list. */
static int apply_edit(struct db *db, const struct series_edit *e,
		      struct series_info *to, struct error *err)
{
	struct template_info t;
	struct list_info l;
	int month, day, minute, rc;

	if (e->template_name) {
		rc = template_find(db, e->template_name, 0, &t, err);
		if (rc)
			return rc;
		template_info_release(&t);
		free(to->template_name);
		to->template_name = xstrdup(e->template_name);
	}
	if (e->list_name) {
		rc = list_find(db, e->list_name, &l, err);
		if (rc)
			return rc;
		to->list_id = l.id;
		free(to->list_name);
		to->list_name = xstrdup(l.name);
		list_info_release(&l);
	}
	if (e->send) {
		bool has_time = strpbrk(e->send, "T ") != NULL;

		if (has_time && e->at)
			return error_set(err, ERR_USAGE, "--send '%s' has a time "
					 "already: give the time with --send or "
					 "with --at, not both", e->send);
		rc = calendar_parse_send(e->send, &month, &day, &minute, err);
		if (rc)
			return rc;
		to->send_month = month;
		to->send_day = day;
		if (has_time)
			to->send_minute = minute;
	}
	if (e->at) {
		char buf[32];

		struct error ignore = ERROR_INIT;

		snprintf(buf, sizeof(buf), "01-01T%.8s", e->at);
		if (strlen(e->at) != 5 ||
		    calendar_parse_send(buf, &month, &day, &minute, &ignore))
			return error_set(err, ERR_USAGE, "bad --at '%s' (HH:MM)",
					 e->at);
		to->send_minute = minute;
	}
	if (e->tz) {
		if (!clock_zone_valid(e->tz))
			return error_set(err, ERR_USAGE, "unknown time zone '%s'",
					 e->tz);
		free(to->tz);
		to->tz = xstrdup(e->tz);
	}
	if (e->lead_days >= 0) {
		if (e->lead_days > SERIES_MAX_LEAD_DAYS)
			return error_set(err, ERR_USAGE, "lead days %d out of "
					 "range (0 to %d)", e->lead_days,
					 SERIES_MAX_LEAD_DAYS);
		to->lead_days = e->lead_days;
	}
	if (e->language) {
		if (*e->language &&
		    (rc = campaign_language_check(e->language, err)))
			return rc;
		free(to->language);
		to->language = *e->language ? xstrdup(e->language) : NULL;
	}
	return 0;
}

/* Notes one changed field in the event and the summary. */
static void note(struct ledger_entry *ev, struct sbuf *sum, const char *key,
		 const char *from, const char *to)
{
	char k[48];

	if (strcmp(from, to) == 0)
		return;
	snprintf(k, sizeof(k), "%s_from", key);
	ledger_entry_str(ev, k, from);
	snprintf(k, sizeof(k), "%s_to", key);
	ledger_entry_str(ev, k, to);
	sbuf_addf(sum, "%s%s %s -> %s", sum->len ? ", " : "", key, from, to);
}

static void send_text(const struct series_info *s, char *buf, size_t size)
{
	snprintf(buf, size, "%02d-%02dT%02d:%02d", s->send_month, s->send_day,
		 s->send_minute / 60, s->send_minute % 60);
}

/* The coming year's campaign (send time ahead of now), if any. */
static int coming_campaign(struct db *db, const struct series_info *s,
			   int64_t now, struct campaign_info *c, int *year)
{
	struct error ignore = ERROR_INIT;
	int y0 = year_of(now);

	for (int y = y0; y <= y0 + 1; y++) {
		if (campaign_find_series(db, s->id, y, c, &ignore) != 0)
			continue;
		if (c->send_at > now) {
			*year = y;
			return 0;
		}
		campaign_info_release(c);
	}
	return 1;
}

/* Brings the coming year's draft in line with the edited series to. */
static int update_draft(struct db *db, const struct series_info *to,
			const struct series_edit *e, int64_t now,
			struct series_edit_result *res, struct error *err)
{
	struct campaign_info c, after;
	struct campaign_redraft r = {0};
	int64_t send_at;
	bool changed = false;
	int year, rc;

	if (coming_campaign(db, to, now, &c, &year) != 0)
		return 0;
	res->campaign = xstrdup(c.name);
	res->campaign_state = xstrdup(campaign_state_name(c.state));
	if (c.state != CAMPAIGN_DRAFT) {
		res->outcome = SERIES_DRAFT_KEPT;
		goto out;
	}
	rc = series_send_time(to, year, &send_at, NULL, err);
	if (rc)
		goto fail;
	if (send_at <= now) {
		res->outcome = SERIES_DRAFT_PASSED;
		goto out;
	}
	r.template_name = e->template_name;
	r.list_name = e->list_name;
	r.send_at = send_at;
	r.tz = to->tz;
	r.language = e->language;
	rc = campaign_redraft(db, c.id, &r, &changed, err);
	if (rc)
		goto fail;
	res->outcome = changed ? SERIES_DRAFT_UPDATED : SERIES_DRAFT_SAME;
	if (campaign_get(db, c.id, &after, err) == 0) {
		res->template_version = after.template_version;
		campaign_info_release(&after);
	}
out:
	campaign_info_release(&c);
	return 0;
fail:
	campaign_info_release(&c);
	return rc;
}

int series_edit(struct db *db, int64_t id, const struct series_edit *e,
		int64_t now, struct series_edit_result *res,
		struct error *err)
{
	struct series_info from = {0}, to = {0};
	struct ledger_entry ev;
	struct sbuf sum = SBUF_INIT;
	char a[32], b[32];
	sqlite3_stmt *st;
	int rc;

	memset(res, 0, sizeof(*res));
	ledger_entry_init(&ev, LEDGER_SERIES_EDITED, 0, 0, 0, 0);
	if (!e->template_name && !e->list_name && !e->send && !e->at &&
	    !e->tz && e->lead_days < 0 && !e->language)
		return error_set(err, ERR_USAGE, "nothing to change: give "
				 "--template, --list, --send, --at, --tz, "
				 "--lead-days or --lang");
	rc = series_get_live(db, id, &from, err);
	if (!rc)
		rc = series_get_live(db, id, &to, err);
	if (!rc)
		rc = apply_edit(db, e, &to, err);
	if (rc)
		goto out;
	ledger_entry_str(&ev, "series", from.name);
	note(&ev, &sum, "template", from.template_name, to.template_name);
	note(&ev, &sum, "list", from.list_name, to.list_name);
	send_text(&from, a, sizeof(a));
	send_text(&to, b, sizeof(b));
	note(&ev, &sum, "send", a, b);
	note(&ev, &sum, "tz", from.tz, to.tz);
	snprintf(a, sizeof(a), "%d", from.lead_days);
	snprintf(b, sizeof(b), "%d", to.lead_days);
	note(&ev, &sum, "lead_days", a, b);
	/* null for none in the event, "none" in the summary */
	if ((from.language == NULL) != (to.language == NULL) ||
	    (from.language && strcmp(from.language, to.language) != 0)) {
		ledger_entry_str(&ev, "language_from", from.language);
		ledger_entry_str(&ev, "language_to", to.language);
		sbuf_addf(&sum, "%slanguage %s -> %s", sum.len ? ", " : "",
			  from.language ? from.language : "none",
			  to.language ? to.language : "none");
	}
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = db_prepare(db, &series_statements, ST_UPDATE, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		db_bind_text(st, 2, to.template_name);
		sqlite3_bind_int64(st, 3, to.list_id);
		sqlite3_bind_int(st, 4, to.send_month);
		sqlite3_bind_int(st, 5, to.send_day);
		sqlite3_bind_int(st, 6, to.send_minute);
		db_bind_text(st, 7, to.tz);
		sqlite3_bind_int(st, 8, to.lead_days);
		sqlite3_bind_int64(st, 9, clock_now());
		db_bind_text(st, 10, to.language);
		rc = db_step_done(db, st, err);
	}
	if (!rc && db_changes(db) != 1)
		rc = error_set(err, ERR_TEMPFAIL, "series '%s' changed meanwhile; "
						  "try again", from.name);
	if (!rc)
		rc = update_draft(db, &to, e, now, res, err);
	if (!rc) {
		ledger_entry_str(&ev, "campaign", res->campaign);
		ledger_entry_int(&ev, "campaign_updated",
				 res->outcome == SERIES_DRAFT_UPDATED);
		rc = ledger_entry_append(db, &ev, NULL, err);
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc) {
		res->changes = sbuf_detach(&sum, NULL);
		log_info("series=%s edited: %s; campaign=%s %s", from.name,
			 res->changes[0] ? res->changes : "no change",
			 res->campaign ? res->campaign : "(none yet)",
			 res->outcome == SERIES_DRAFT_UPDATED ? "updated"
							      : "unchanged");
	} else {
		series_edit_result_release(res);
	}
out:
	sbuf_release(&sum);
	ledger_entry_release(&ev);
	series_info_release(&from);
	series_info_release(&to);
	return rc;
}

#define MASK(s) (1u << (s))

int series_pause(struct db *db, int64_t id, struct error *err)
{
	return change_state(db, id, MASK(SERIES_ACTIVE), SERIES_PAUSED,
			    LEDGER_SERIES_PAUSED, "pause", err);
}

int series_resume(struct db *db, int64_t id, struct error *err)
{
	return change_state(db, id, MASK(SERIES_PAUSED), SERIES_ACTIVE,
			    LEDGER_SERIES_RESUMED, "resume", err);
}

int series_remove(struct db *db, int64_t id, struct error *err)
{
	return change_state(db, id, MASK(SERIES_ACTIVE) | MASK(SERIES_PAUSED),
			    SERIES_REMOVED, LEDGER_SERIES_REMOVED, "remove", err);
}

int series_send_time(const struct series_info *s, int year, int64_t *send_at,
		     int64_t *create_at, struct error *err)
{
	int rc = calendar_send_time(s->tz, year, s->send_month, s->send_day,
				    s->send_minute, send_at, err);

	if (!rc && create_at)
		*create_at = *send_at - (int64_t)s->lead_days * 86400;
	return rc;
}

static int year_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	return tm.tm_year + 1900;
}

/* Whether the campaign of year is to be created at now (see series.h). */
static bool year_due(const struct series_info *s, int year, int64_t now,
		     int64_t *send_at)
{
	int64_t create_at;

	if (series_send_time(s, year, send_at, &create_at, NULL) != 0)
		return false;
	return now >= create_at && now < *send_at + SERIES_GRACE_SECONDS &&
	       *send_at > s->created_at;
}

/* Schedules a new series campaign; problems leave it a draft, logged. */
static void auto_schedule(struct db *db, const struct conf *cfg,
			  const char *name, int64_t id)
{
	struct sbuf problems = SBUF_INIT;
	struct error err = ERROR_INIT;

	if (campaign_schedule(db, cfg, id, &problems, &err) != 0) {
		sbuf_trim(&problems);
		for (char *p = problems.buf; *p; p++)
			if (*p == '\n')
				*p = ';';
		log_warn("campaign=%s left as draft: %s%s%s", name, err.msg,
			 problems.len ? ": " : "", problems.buf);
	}
	sbuf_release(&problems);
}

static int create_year(struct db *db, const struct conf *cfg,
		       const struct series_info *s, int year, int64_t send_at,
		       int *created, struct error *err)
{
	struct campaign_info existing;
	struct error ignore = ERROR_INIT;
	struct campaign_new c = {0};
	char *name;
	int64_t id = 0;
	int rc;

	if (campaign_find_series(db, s->id, year, &existing, &ignore) == 0) {
		campaign_info_release(&existing);
		return 0;
	}
	name = xasprintf("%s-%d", s->name, year);
	c = (struct campaign_new){
		.name = name,
		.template_name = s->template_name,
		.template_version = 0,
		.list_name = s->list_name,
		.send_at = send_at,
		.tz = s->tz,
		.sender = s->sender,
		.language = s->language,
		.event_date = s->event_date,
		.series_id = s->id,
		.series_year = year,
	};
	rc = campaign_create(db, &c, &id, err);
	if (!rc) {
		struct campaign_info made;

		(*created)++;
		if (campaign_get(db, id, &made, &ignore) == 0) {
			log_info("series=%s year=%d campaign=%s created as a draft "
				 "with template %s v%d (its latest version now, "
				 "sha256 %.12s)", s->name, year, name,
				 made.template_name, made.template_version,
				 made.template_sha256);
			campaign_info_release(&made);
		}
		if (s->auto_schedule)
			auto_schedule(db, cfg, name, id);
	} else {
		error_prefix(err, "series '%s', %d", s->name, year);
	}
	free(name);
	return rc;
}

struct due_walk {
	struct db *db;
	const struct conf *cfg;
	int64_t now;
	int created;
	int first_rc;
	struct error *err;
};

/*
 * A year whose whole window, from its creation time to a day after its
 * send time, passed with no campaign (the daemon was down all along, or
 * creating it failed every time) is logged and recorded once in the
 * ledger as series.skipped. Recording it sets the series' updated_at, and
 * a year whose window closed before the series last changed (a skip
 * recorded, a pause or resume) is not looked at again: a tick then costs
 * no more than one indexed look-up per year, never a ledger scan. s is
 * the series as read before the pass, so two years missed at once are
 * both recorded.
 */
static int record_missed_year(struct db *db, const struct series_info *s,
			      int year, int64_t now, struct error *err)
{
	struct campaign_info existing;
	struct error ignore = ERROR_INIT;
	struct ledger_entry e;
	char send[24], create[24];
	int64_t send_at, create_at, closed;
	sqlite3_stmt *st;
	int rc;

	if (series_send_time(s, year, &send_at, &create_at, NULL) != 0)
		return 0;
	closed = send_at + SERIES_GRACE_SECONDS;
	if (now < closed || send_at <= s->created_at || s->updated_at >= closed)
		return 0;
	rc = campaign_find_series(db, s->id, year, &existing, &ignore);
	if (rc == 0)
		campaign_info_release(&existing);
	if (rc != ERR_NOTFOUND)
		return rc == 0 ? 0 : error_set(err, rc, "%s", ignore.msg);
	clock_format_utc(send_at, send, sizeof(send));
	clock_format_utc(create_at, create, sizeof(create));
	ledger_entry_init(&e, LEDGER_SERIES_SKIPPED, 0, 0, 0, 0);
	ledger_entry_str(&e, "series", s->name);
	ledger_entry_int(&e, "year", year);
	ledger_entry_str(&e, "create_at", create);
	ledger_entry_str(&e, "send_at", send);
	rc = db_begin(db, err);
	if (rc)
		goto out;
	rc = ledger_entry_append(db, &e, NULL, err);
	if (!rc)
		rc = db_prepare(db, &series_statements, ST_TOUCH, &st, err);
	if (!rc) {
		sqlite3_bind_int64(st, 1, s->id);
		sqlite3_bind_int64(st, 2, now);
		rc = db_step_done(db, st, err);
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
	if (!rc)
		log_warn("series=%s year=%d skipped: no campaign was created "
			 "between %s and a day after its send time %s (was the "
			 "daemon down?); recorded as series.skipped",
			 s->name, year, create, send);
out:
	ledger_entry_release(&e);
	return rc;
}

static int create_due_one(const struct series_info *s, void *arg)
{
	struct due_walk *w = arg;
	struct error one = ERROR_INIT;
	int year = year_of(w->now);

	if (s->state != SERIES_ACTIVE)
		return 0;
	/* The year of now and the next: lead days reach back at most
	 * SERIES_MAX_LEAD_DAYS, less than a year. */
	for (int y = year; y <= year + 1; y++) {
		int64_t send_at;
		int rc;

		if (!year_due(s, y, w->now, &send_at))
			continue;
		rc = create_year(w->db, w->cfg, s, y, send_at, &w->created, &one);
		if (rc) {
			log_warn("%s", one.msg);
			if (!w->first_rc) {
				w->first_rc = rc;
				error_set(w->err, rc, "%s", one.msg);
			}
		}
	}
	/* A window closes at most a day after its send time, so the year
	 * before is still looked at in the first days of January. */
	for (int y = year - 1; y <= year; y++) {
		int rc = record_missed_year(w->db, s, y, w->now, &one);

		if (rc) {
			error_prefix(&one, "series '%s', %d", s->name, y);
			log_warn("%s", one.msg);
			if (!w->first_rc) {
				w->first_rc = rc;
				error_set(w->err, rc, "%s", one.msg);
			}
		}
	}
	return 0;
}

int series_create_due(struct db *db, const struct conf *cfg, int64_t now,
		      int *created, struct error *err)
{
	struct due_walk w = {db, cfg, now, 0, 0, err};
	int rc = series_each(db, create_due_one, &w, err);

	*created = w.created;
	return rc ? rc : w.first_rc;
}

struct next_walk {
	int64_t now;
	int64_t best;
};

static int next_one(const struct series_info *s, void *arg)
{
	struct next_walk *w = arg;
	int year = year_of(w->now);

	if (s->state != SERIES_ACTIVE)
		return 0;
	for (int y = year; y <= year + 2; y++) {
		int64_t send_at, create_at;

		if (series_send_time(s, y, &send_at, &create_at, NULL) != 0)
			continue;
		if (create_at > w->now && (!w->best || create_at < w->best))
			w->best = create_at;
	}
	return 0;
}

int series_next_due(struct db *db, int64_t now, int64_t *when,
		    struct error *err)
{
	struct next_walk w = {now, 0};
	int rc = series_each(db, next_one, &w, err);

	if (rc)
		return rc;
	if (!w.best)
		return 1;
	*when = w.best;
	return 0;
}

/* Keeps the first error of a pass while the pass goes on. */
static void keep_first(int rc, const struct error *one, int *first,
		       struct error *err)
{
	if (!rc)
		return;
	log_warn("%s", one->msg);
	if (!*first) {
		*first = rc;
		error_set(err, rc, "%s", one->msg);
	}
}

int series_tick(struct db *db, const struct conf *cfg, int64_t now,
		struct series_tick *out, struct error *err)
{
	struct error one = ERROR_INIT;
	int64_t when;
	int first = 0, rc;

	memset(out, 0, sizeof(*out));
	rc = series_create_due(db, cfg, now, &out->created, &one);
	keep_first(rc, &one, &first, err);
	rc = campaign_start_due(db, cfg, now, &out->started, &one);
	keep_first(rc, &one, &first, err);
	rc = campaign_finish_done(db, now, &out->finished, &one);
	keep_first(rc, &one, &first, err);
	rc = campaign_next_due(db, &when, &one);
	if (rc == 0)
		out->next_at = when;
	else
		keep_first(rc < 0 ? rc : 0, &one, &first, err);
	rc = series_next_due(db, now, &when, &one);
	if (rc == 0 && (!out->next_at || when < out->next_at))
		out->next_at = when;
	else
		keep_first(rc < 0 ? rc : 0, &one, &first, err);
	return first;
}
