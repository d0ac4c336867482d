/*
 * campaign: one dispatch of one template version to one list at one time,
 * and the deliveries it materialises when it starts (campaign_start.h);
 * its messages are rendered by campaign_render.h.
 *
 * States: draft → scheduled → running → done, plus paused and cancelled.
 *
 *   schedule  draft → scheduled (after checking everything that could
 *             fail later; refused with the list of problems)
 *   pause     scheduled | running → paused
 *   resume    paused → scheduled (never started) | running (started)
 *   cancel    draft | scheduled | running | paused → cancelled; pending
 *             and deferred deliveries become cancelled
 *   start     scheduled → running, at send_at (campaign_start_due in
 *             campaign_start.h)
 *   finish    running → done when no delivery is left to send
 *   miss      draft | approved → missed, by the daemon once the send time
 *             has passed (watch.h); a missed campaign is not finished:
 *             it stays in the record as missed, can be cancelled, and is
 *             meant to be moved to a new send time by an edit
 *
 * Any other transition is ERR_DATA naming the campaign and its state.
 * Every change appends ledger events in the same transaction.
 *
 * The queue must only claim deliveries of running campaigns (a paused
 * campaign keeps its pending deliveries).
 */
#ifndef CHANCERY_CAMPAIGN_H
#define CHANCERY_CAMPAIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/sbuf.h"

enum campaign_state {
	CAMPAIGN_DRAFT,
	CAMPAIGN_SCHEDULED,
	CAMPAIGN_RUNNING,
	CAMPAIGN_PAUSED,
	CAMPAIGN_DONE,
	CAMPAIGN_CANCELLED,
	CAMPAIGN_APPROVED, /* signed off, recipients frozen (db/0007) */
	CAMPAIGN_MISSED,   /* its send time passed before it was scheduled */
};
const char *campaign_state_name(enum campaign_state s);
int campaign_state_parse(const char *name, enum campaign_state *out);

/* A campaign as stored, with the names it refers to; owned strings. */
struct campaign_info {
	int64_t id;
	char *name;
	int64_t template_id;
	char *template_name;
	int template_version;
	char *template_sha256;
	int64_t list_id;
	char *list_name;
	int64_t series_id; /* 0 when not from a series */
	int series_year;
	int64_t send_at;
	char *tz;
	char *sender;     /* NULL: the configured sender */
	char *event_date; /* NULL unless an anniversary campaign */
	enum campaign_state state;
	int64_t created_at, updated_at, started_at, finished_at; /* 0: not yet */
};
void campaign_info_release(struct campaign_info *c);

/* What campaign_create needs; template_version 0 means the latest. */
struct campaign_new {
	const char *name;
	const char *template_name;
	int template_version;
	const char *list_name;
	int64_t send_at;
	const char *tz;
	const char *sender;     /* or NULL */
	const char *event_date; /* or NULL */
	int64_t series_id;      /* or 0 */
	int series_year;
};

/*
 * Creates a draft bound to one template version and one list, appending
 * campaign.created (template name, version, sha256). Errors: empty or
 * taken name, unknown template or list (ERR_NOTFOUND), unknown zone, bad
 * sender address (ERR_USAGE/ERR_DATA).
 */
int campaign_create(struct db *db, const struct campaign_new *c,
		    int64_t *id_out, struct error *err);

int campaign_find(struct db *db, const char *name, struct campaign_info *out,
		  struct error *err);
int campaign_get(struct db *db, int64_t id, struct campaign_info *out,
		 struct error *err);
/* The campaign a series made for year; ERR_NOTFOUND when none. */
int campaign_find_series(struct db *db, int64_t series_id, int year,
			 struct campaign_info *out, struct error *err);
/* Every campaign, newest send time first; a non-zero return stops. */
int campaign_each(struct db *db,
		  int (*fn)(const struct campaign_info *c, void *arg),
		  void *arg, struct error *err);

/*
 * Checks that the campaign can go out (list not empty, every active
 * contact's address valid, the template renders for each, sender valid)
 * and moves draft → scheduled. On problems nothing changes, ERR_DATA is
 * returned and problems gets one line each.
 */
int campaign_schedule(struct db *db, const struct conf *cfg, int64_t id,
		      struct sbuf *problems, struct error *err);
/* The same checks without a change: 0 or ERR_DATA with problems filled. */
int campaign_check(struct db *db, const struct conf *cfg, int64_t id,
		   struct sbuf *problems, struct error *err);
int campaign_pause(struct db *db, int64_t id, struct error *err);
int campaign_resume(struct db *db, int64_t id, struct error *err);
/* Cancels; *cancelled (may be NULL) gets the deliveries cancelled. */
int campaign_cancel(struct db *db, int64_t id, int *cancelled,
		    struct error *err);

/* Deliveries of a campaign per state (indexed like the schema's list). */
enum { CAMPAIGN_DELIVERY_STATES = 10 };
extern const char *const campaign_delivery_states[CAMPAIGN_DELIVERY_STATES];
struct campaign_counts {
	int by_state[CAMPAIGN_DELIVERY_STATES];
	int total;
};
int campaign_counts(struct db *db, int64_t id, struct campaign_counts *out,
		    struct error *err);

/*
 * Marks a draft or approved campaign whose send time has passed as
 * missed, appending campaign.missed {"campaign", "state": the state it
 * was in, "send_at"} in the same transaction. ERR_DATA when it is in any
 * other state (a scheduled campaign is never missed: it starts late).
 */
int campaign_mark_missed(struct db *db, int64_t id, struct error *err);

/*
 * The fields of a draft that its series may change (series edit): NULL or
 * 0 keeps a field. The draft takes the latest version of template_name.
 * Only a draft is changed (compare-and-set on its state); anything else is
 * ERR_DATA. Appends campaign.edited {"campaign", "by": "series", then
 * "<field>_from"/"<field>_to" for what changed}; *changed (may be NULL)
 * tells whether anything did. Runs inside the caller's transaction when
 * there is one.
 */
struct campaign_redraft {
	const char *template_name;
	const char *list_name;
	int64_t send_at;
	const char *tz;
};
int campaign_redraft(struct db *db, int64_t id,
		     const struct campaign_redraft *r, bool *changed,
		     struct error *err);

/* Moves running campaigns with nothing pending, sending or deferred to
 * done; *finished gets how many. */
int campaign_finish_done(struct db *db, int64_t now, int *finished,
			 struct error *err);
/* The earliest send_at of a scheduled campaign: 0 with *when set, or 1
 * when there is none. For the daemon's sleep. */
int campaign_next_due(struct db *db, int64_t *when, struct error *err);

#endif
