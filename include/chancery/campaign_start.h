/*
 * campaign_start: the deliveries a campaign materialises into the queue
 * when it becomes scheduled (campaign_schedule, campaign_approve; due at
 * send_at, claimed once it runs) and when it is refreshed, each with its
 * own random Message-ID and ENVID; and the start itself (scheduled →
 * running at send_at, see campaign.h), which then queues nothing.
 */
#ifndef CHANCERY_CAMPAIGN_START_H
#define CHANCERY_CAMPAIGN_START_H

#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"

/*
 * Starts every scheduled campaign whose send_at <= now: locks its template
 * version and moves it to running, in one transaction per campaign. Its
 * deliveries were queued at schedule: a start more than a minute late, or
 * under another queue.lifetime, gives them the start as their due time
 * (queue_redue_campaign); a campaign scheduled by an earlier version,
 * with none, has them materialised now. *started gets how many started.
 */
int campaign_start_due(struct db *db, const struct conf *cfg, int64_t now,
		       int *started, struct error *err);
/*
 * Adds deliveries for contacts of the list that have none yet (bodies or
 * contacts added since the start) to a running or paused campaign.
 * Materialisation is INSERT OR IGNORE on (campaign, contact): running it
 * twice never duplicates. *added gets the new rows.
 */
int campaign_refresh(struct db *db, const struct conf *cfg, int64_t id,
		     int *added, struct error *err);

#endif
