/*
 * watch: the daemon's look-out for campaigns that would otherwise pass
 * unnoticed. Called once per round (before campaigns are started):
 *
 * - a draft or approved campaign (not scheduled) whose send time is within
 *   campaign.remind gets a reminder: a warning in the log and a
 *   campaign.reminded event {"campaign", "due_in_days", "state",
 *   "send_at"}, once at campaign.remind (due_in_days: the setting in whole
 *   days, 7 by default) and once more at one day; a campaign that comes
 *   within a day before its first reminder gets only the second. Each is
 *   given once per (campaign, threshold, send time), recorded in
 *   campaign_reminders: running again at the same time adds nothing, and
 *   a campaign moved to a new send time is reminded again.
 * - a draft or approved campaign whose send time has passed becomes
 *   missed (campaign_mark_missed: campaign.missed, a warning in the log).
 *   A missed campaign is not done: it stays missed in every report until
 *   someone cancels it or edits it to a new send time.
 * - a scheduled campaign whose send time passed more than WATCH_LATE_SECONDS
 *   ago (the daemon was down) is about to start late: logged at warning
 *   with how late. It still sends.
 *
 * The round's cost is one query on the campaigns_due index (state,
 * send_at) that finds nothing on most rounds, plus one primary-key look-up
 * per campaign inside the reminder window.
 */
#ifndef CHANCERY_WATCH_H
#define CHANCERY_WATCH_H

#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"

/* A scheduled campaign starting later than this after its send time is
 * logged as late: a running daemon starts it within about a second. */
#define WATCH_LATE_SECONDS 60

struct watch_report {
	int reminded; /* campaign.reminded events appended */
	int missed;   /* campaigns marked missed */
	int late;     /* scheduled campaigns found starting late */
};

/*
 * One look at now (Unix seconds). A failing campaign does not hold up the
 * others: the first error is returned after the whole pass, and what was
 * done is in *report (zeroed first).
 */
int watch_campaigns(struct db *db, const struct conf *cfg, int64_t now,
		    struct watch_report *report, struct error *err);

#endif
