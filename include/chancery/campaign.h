/*
 * campaign: one dispatch of one template version to one list at one time,
 * and the deliveries it materialises when it starts (campaign_start.h);
 * its messages are rendered by campaign_render.h.
 *
 * States: draft → approved → scheduled → running → done, plus paused,
 * cancelled and missed.
 *
 *   approve   draft → approved once campaign.approvals distinct people
 *             approved (campaign_approve below): each approval freezes
 *             the recipient set and records what it binds
 *   schedule  approved → scheduled; with campaign.approvals = 0 also
 *             draft → scheduled, approving it on the way (after checking
 *             everything that could fail later; refused with the list of
 *             problems)
 *   reject    draft | approved | scheduled, paused (not started) → draft,
 *             approvals cleared
 *   edit      draft | approved → draft (an approval is voided); paused
 *             and not started: --at only, → draft
 *   missed    set by the daemon when the send time passed unapproved
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
#include "chancery/sha256.h"

enum campaign_state {
	CAMPAIGN_DRAFT,
	CAMPAIGN_SCHEDULED,
	CAMPAIGN_RUNNING,
	CAMPAIGN_PAUSED,
	CAMPAIGN_DONE,
	CAMPAIGN_CANCELLED,
	CAMPAIGN_APPROVED, /* signed off, recipients frozen, not scheduled */
	CAMPAIGN_MISSED,   /* the send time passed before it was scheduled */
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
	char *created_by; /* the actor of campaign.created, or NULL */
	char *edited_by;  /* the actor of the last campaign.edited, or NULL */
	char *language;   /* its default language (BCP 47), or NULL:
			     campaign.language */
	bool receipt;     /* its messages ask for a read receipt (RFC 8098
			     Disposition-Notification-To: the From address) */
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
	const char *language;   /* or NULL; BCP 47 (canonicalised) */
	int64_t series_id;      /* or 0 */
	int series_year;
	bool receipt;           /* ask for a read receipt */
	bool refuse_past;       /* a send time that has passed is ERR_DATA
				   "send time ... has passed; use --now ..."
				   (the command line; a series catches up) */
};

/*
 * Creates a draft bound to one template version and one list, appending
 * campaign.created (template name, version, sha256). Errors: empty or
 * taken name, unknown template or list (ERR_NOTFOUND), unknown zone, bad
 * sender address (ERR_USAGE/ERR_DATA). The name of a cancelled or missed
 * campaign can be reused: that campaign is renamed NAME~cancelled-<id>
 * (or ~missed-<id>) in the same transaction, with a campaign.edited event
 * saying so; *renamed (may be NULL) gets the new name, or NULL (caller
 * frees).
 */
int campaign_create(struct db *db, const struct campaign_new *c,
		    int64_t *id_out, struct error *err);
int campaign_create_renaming(struct db *db, const struct campaign_new *c,
			     int64_t *id_out, char **renamed,
			     struct error *err);

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

/*
 * What an approval froze: the recipient set and the bodies it cannot
 * reach. warnings gets one line per body not reached, "NAME: reason"
 * (reason as in campaign_unreached). campaign_plan_init before use,
 * campaign_plan_release after.
 */
struct campaign_plan {
	int bodies;     /* bodies of the list */
	int recipients; /* contacts that will be sent to */
	int skipped;    /* contacts of the list that will not (their status) */
	int unreached;  /* bodies with no contact that will be sent to */
	char recipients_sha256[SHA256_HEX_SIZE];
	int approvals;  /* distinct approvals now recorded */
	int required;   /* campaign.approvals, at least 1 */
	bool by_schedule; /* campaign.approvals = 0: schedule approved it */
	bool voided_earlier; /* the set changed since an earlier approval,
				which was cleared */
	int queued;     /* deliveries the schedule queued (0: not scheduled
			   by this call) */
	struct sbuf warnings;
	/* Which language each sendable contact gets (template.h, "Which
	 * variant"), one line per language sent: "fr\t3\tCoE, OIC" (the
	 * language, the contacts, the bodies); and one line per contact
	 * with a language but no variant in it: "EMAIL\tBODY\tWANTED\tSENT\t
	 * WHY" (WHY: "fallback chain", "body's language", "campaign's
	 * language" or "default variant"). Both empty when the template
	 * has no variants. */
	struct sbuf languages;
	struct sbuf fallbacks;
	/* One line per sendable contact greeted with a fallback (no
	 * salutation of its own in the variant's language; protocol.h),
	 * only when the contact's variant uses contact.salutation:
	 * "EMAIL\tBODY\tSALUTATION\tREASON" (REASON protocol_salutation's:
	 * "no salutation in fr: the default for embassy"). */
	struct sbuf salutations;
};
void campaign_plan_init(struct campaign_plan *p);
void campaign_plan_release(struct campaign_plan *p);

/*
 * schedule with the plan: approved → scheduled, or with approvals = 0
 * draft → scheduled approving it (freezing the set). A draft where
 * approvals are required is ERR_DATA "campaign 'X' needs N approval(s):
 * chancery campaign approve X". plan may be NULL; it is filled with the
 * frozen set (read back for an approved campaign).
 */
int campaign_schedule_plan(struct db *db, const struct conf *cfg, int64_t id,
			   struct campaign_plan *plan, struct sbuf *problems,
			   struct error *err);

/*
 * Approves a draft as db_actor(db): runs the checks of schedule,
 * materialises the recipient set (campaign_recipients) and the bodies
 * not reached (campaign_unreached), records the approval (template,
 * version, sha256, send time, recipients count and sha256) and appends
 * campaign.approved. When cfg->campaign.approvals distinct approvers are
 * recorded (at least one), the campaign becomes approved; with schedule,
 * scheduled. Refusals (nothing changed): not a draft (ERR_DATA), the
 * same person twice or the four-eyes rule (ERR_NOPERM).
 */
int campaign_approve(struct db *db, const struct conf *cfg, int64_t id,
		     bool schedule, struct campaign_plan *plan,
		     struct sbuf *problems, struct error *err);

/* Reads the frozen set's counts and warnings into plan (no change). */
int campaign_plan_read(struct db *db, int64_t id, struct campaign_plan *plan,
		       struct error *err);

/* One contact of a frozen recipient set, in list order; strings valid
 * during the callback only. */
struct campaign_recipient {
	const char *email;
	const char *body;        /* its acronym, else its name */
	const char *status;      /* "active", "suppressed", "invalid", ... */
	const char *skip_reason; /* why it will not be sent to, or NULL */
};
typedef int (*campaign_recipient_fn)(const struct campaign_recipient *r,
				     void *arg);
/* The frozen set of campaign id (empty before an approval); a non-zero
 * return from fn stops the walk and is returned. */
int campaign_recipients_each(struct db *db, int64_t id,
			     campaign_recipient_fn fn, void *arg,
			     struct error *err);
/*
 * What an approval now would freeze, without approving: the set, the
 * bodies not reached and the languages (plan, as campaign_approve fills
 * it; approvals and voided_earlier left as they are), and each contact
 * of the set to fn (may be NULL). Done by the approval's own code in a
 * transaction that is rolled back: nothing changes. For the console's
 * page before its approve button.
 */
int campaign_plan_preview(struct db *db, const struct conf *cfg, int64_t id,
			  struct campaign_plan *plan,
			  campaign_recipient_fn fn, void *arg,
			  struct error *err);

/* One recorded approval, for status and audit (strings belong to the
 * row being read). */
struct campaign_approval {
	const char *actor; /* NULL: the system */
	int64_t at;
	const char *template_sha256;
	const char *recipients_sha256;
	int recipients, unreached;
};
int campaign_approvals_each(struct db *db, int64_t id,
			    int (*fn)(const struct campaign_approval *a,
				      void *arg),
			    void *arg, struct error *err);

/*
 * reject: records campaign.rejected with the actor and reason; the
 * campaign returns to (or stays) draft, its approvals and frozen set
 * cleared. Applies to a draft, approved, or scheduled/paused campaign
 * not yet started.
 */
int campaign_reject(struct db *db, int64_t id, const char *reason,
		    struct error *err);

/* ERR_USAGE naming lang unless it is a BCP 47 tag written in ICU's
 * canonical form (template_lang_canonical): what a campaign's or a
 * series' language is stored as. */
int campaign_language_check(const char *lang, struct error *err);

/* Fields campaign_edit changes; NULL / 0 leaves one as it is. */
struct campaign_edit {
	const char *template_name; /* with template_version (0: the latest) */
	int template_version;      /* alone: another version of the same */
	const char *list_name;
	int64_t send_at;           /* 0: unchanged */
	const char *tz;
	const char *sender;
	const char *event_date;
	int receipt;               /* 1: ask for a read receipt, -1: stop
				      asking, 0: unchanged */
	const char *language;      /* the campaign's language, a BCP 47 tag
				      in ICU's canonical form ("fr"); ""
				      removes it (campaign.language then
				      applies) */
};

/*
 * Edits a draft or approved campaign (an approved one goes back to draft,
 * its approval voided), or the send time alone of a paused campaign that
 * has not started (back to draft too). campaign.edited carries from/to
 * per field changed; voided (may be NULL) gets "approval of campaign 'X'
 * voided: edited: send time" when an approval was voided. No change at
 * all is ERR_USAGE.
 */
int campaign_edit(struct db *db, int64_t id, const struct campaign_edit *e,
		  struct sbuf *voided, struct error *err);

/* A send time the office gives (create, edit, approve, schedule): 0 when
 * it is still ahead or now is set (--now: a past one sends at once), else
 * ERR_DATA "send time LOCAL has passed; use --now to send at once" with
 * the time in zone. */
int campaign_send_time_check(const char *zone, int64_t send_at, bool now,
			     struct error *err);

/*
 * A list's content changed: every campaign not started whose list is it
 * or contains it and that holds an approval (approved, scheduled, paused,
 * or a draft with some approvals) returns to draft with its approvals
 * cleared and campaign.approval_void appended ("list 'L' changed").
 * voided gets one line per campaign: "approval of campaign 'X' voided:
 * list 'L' changed". Call in the transaction that changed the list.
 */
int campaign_list_changed(struct db *db, int64_t list_id, struct sbuf *voided,
			  struct error *err);

/* The last campaign.rejected of the campaign: 0 with *actor (NULL: the
 * system), *at and *reason set (caller frees), 1 when none. */
int campaign_last_rejection(struct db *db, int64_t id, char **actor,
			    int64_t *at, char **reason, struct error *err);

/* Seconds between the send time and the first message that left (the
 * first sent_at, else the first attempt): 0 with *delay set, 1 when
 * nothing has left yet. */
int campaign_first_delay(struct db *db, int64_t id, double *delay,
			 struct error *err);
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
	const char *language; /* as campaign_edit's: "" removes it */
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
