/*
 * streak: when a contact stops being sent to because its mail keeps
 * failing. A contact whose deliveries failed permanently (refused by the
 * relay with a 5xx, or bounced) in `bounce.threshold` consecutive
 * campaigns becomes "bouncing", and claims skip it from then on; a person
 * re-enables it. The queue asks after each permanent refusal, the bounce
 * module after each bounce, so the rule lives in one place.
 *
 * Owns bounce_marks (when a contact was marked, so that re-enabling it
 * starts a fresh streak); contacts.status is changed through the registry.
 */
#ifndef CHANCERY_STREAK_H
#define CHANCERY_STREAK_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"

/*
 * Checks the streak of permanent failures of one contact and marks it
 * bouncing when the last `threshold` campaigns sent to it all failed:
 * refused by the relay, or bounced for a class in count_mask (1u <<
 * enum bounce_class, conf bounce.count_classes; a bounce recorded before
 * classes were kept counts). A bounce of another class is no failure of
 * the address: it does not fill the streak. Only an active contact
 * changes: a disabled or suppressed one was decided by a person. *marked
 * tells whether it did.
 */
int streak_check(struct db *db, int64_t contact_id, int threshold,
		 unsigned count_mask, bool *marked, struct error *err);

#endif
