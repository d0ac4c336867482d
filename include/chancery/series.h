/*
 * series: a yearly anniversary dispatch. Each year it yields one campaign,
 * named "<series>-<year>", bound to the latest version of the series'
 * template, with event_date set so the template can fill anniversary.*.
 *
 * The year's campaign is created lead_days before its send time
 * (calendar_send_time: month/day/minute local time in the series' zone;
 * 29 February falls on 28 February in common years), as a draft to
 * review or, with auto_schedule, scheduled directly. Creation happens in
 * the window [send − lead days, send + 1 day): a year whose send time
 * passed more than a day ago without a campaign (series added or paused
 * meanwhile, daemon down) is skipped, because a late anniversary statement
 * is worse than none; `campaign create` can still make one by hand. A
 * year whose send time was before the series existed is never created.
 */
#ifndef CHANCERY_SERIES_H
#define CHANCERY_SERIES_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"

#define SERIES_MAX_LEAD_DAYS 300

enum series_state { SERIES_ACTIVE, SERIES_PAUSED, SERIES_REMOVED };
const char *series_state_name(enum series_state s);

/* A series as stored; strings owned (series_info_release). */
struct series_info {
	int64_t id;
	char *name;
	char *event_date; /* YYYY-MM-DD */
	int send_month, send_day, send_minute;
	char *tz;
	char *template_name;
	int64_t list_id;
	char *list_name;
	int lead_days;
	bool auto_schedule;
	char *sender; /* NULL: the configured sender */
	char *language; /* its campaigns' language (BCP 47), or NULL */
	enum series_state state;
	int64_t created_at, updated_at;
};
void series_info_release(struct series_info *s);

struct series_new {
	const char *name;
	const char *event_date; /* YYYY-MM-DD */
	const char *send;       /* MM-DD or MM-DDTHH:MM */
	const char *tz;
	const char *template_name;
	const char *list_name;
	int lead_days;
	bool auto_schedule;
	const char *sender; /* or NULL */
	const char *language; /* or NULL; canonical BCP 47 */
};

/*
 * Adds an active series after checking every field (dates, zone, template
 * and list exist, sender address), appending series.created. Errors name
 * the field.
 */
int series_add(struct db *db, const struct series_new *s, int64_t *id_out,
	       struct error *err);
/* A series that is not removed, by name; ERR_NOTFOUND otherwise. */
int series_find(struct db *db, const char *name, struct series_info *out,
		struct error *err);
/* Every series not removed, by name; a non-zero return stops. */
int series_each(struct db *db,
		int (*fn)(const struct series_info *s, void *arg), void *arg,
		struct error *err);

int series_pause(struct db *db, int64_t id, struct error *err);
int series_resume(struct db *db, int64_t id, struct error *err);
/* Marks the series removed (its campaigns stay); no more campaigns. */
int series_remove(struct db *db, int64_t id, struct error *err);

/*
 * What series_edit changes: NULL (or lead_days < 0) keeps a field. send
 * is "MM-DD" or "MM-DDTHH:MM" (without a time the series keeps its own),
 * at is "HH:MM" (a time without a day; not with a send that has one).
 */
struct series_edit {
	const char *template_name;
	const char *list_name;
	const char *send;
	const char *at;
	const char *tz;
	int lead_days;
	const char *language; /* its campaigns' language, canonical BCP 47
				 (campaign_language_check); "" removes it */
};

/* What became of the coming year's campaign (see series_edit). */
enum series_draft_outcome {
	SERIES_DRAFT_NONE,      /* not made yet: it will use the new settings */
	SERIES_DRAFT_UPDATED,   /* a draft, changed to match */
	SERIES_DRAFT_SAME,      /* a draft the edit does not change */
	SERIES_DRAFT_KEPT,      /* not a draft (approved, scheduled, ...):
				   left alone, `campaign edit` changes it */
	SERIES_DRAFT_PASSED,    /* a draft whose new send time has passed
				   already: left alone */
};

struct series_edit_result {
	char *changes;  /* "template stmt → stmt2, list a → b", owned */
	char *campaign; /* the coming year's campaign, or NULL; owned */
	enum series_draft_outcome outcome;
	char *campaign_state; /* its state, owned (NULL when none) */
	int template_version; /* the version the draft now uses, or 0 */
};
void series_edit_result_release(struct series_edit_result *r);

/*
 * Changes a series (not removed) after checking every field, appending
 * series.edited {"series", "<field>_from"/"<field>_to" for each change,
 * "campaign", "campaign_updated"}. The coming year's campaign (the first
 * one of this year or the next whose send time is still ahead) is updated
 * in the same transaction when it is still a draft: it takes the latest
 * version of the (new) template, the list, and the send time the new
 * settings give for its year (campaign_redraft, campaign.edited); an
 * approved or scheduled one is never touched. Nothing to change is
 * ERR_USAGE; any error changes nothing.
 */
int series_edit(struct db *db, int64_t id, const struct series_edit *e,
		int64_t now, struct series_edit_result *res,
		struct error *err);

/* The send instant of the series in year, and when its campaign is due. */
int series_send_time(const struct series_info *s, int year, int64_t *send_at,
		     int64_t *create_at, struct error *err);

/*
 * Creates the campaigns that are due at now (see above); idempotent:
 * a year's campaign exists at most once (UNIQUE(series_id, series_year)).
 * *created gets how many were made. For the daemon.
 */
int series_create_due(struct db *db, const struct conf *cfg, int64_t now,
		      int *created, struct error *err);
/* The next instant after now at which series_create_due will have work:
 * 0 with *when set, 1 when no series is active. For the daemon's sleep. */
int series_next_due(struct db *db, int64_t now, int64_t *when,
		    struct error *err);

/*
 * One pass of the daemon's scheduler at now: creates the series campaigns
 * that are due, starts the scheduled campaigns whose time has come (with
 * their deliveries) and moves finished ones to done. next_at gets the
 * next instant at which a pass will have work (a series campaign to
 * create or a campaign to start), 0 when none is known: the daemon sleeps
 * until then, or until the database changes. A failing series or
 * campaign does not hold up the others; the first error is returned after
 * the whole pass.
 */
struct series_tick {
	int created, started, finished;
	int64_t next_at;
};
int series_tick(struct db *db, const struct conf *cfg, int64_t now,
		struct series_tick *out, struct error *err);

#endif
