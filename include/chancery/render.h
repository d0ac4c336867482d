/*
 * render: what one statement looks like for one addressee. The inputs a
 * template sees, gathered by whoever asks for a rendering (the campaign
 * for a delivery, "template render" for a preview).
 *
 * Contract between template/message (who render) and campaign/queue (who
 * ask): the variables of the template language are filled from this
 * struct exactly as listed in the template module's header.
 */
#ifndef CHANCERY_RENDER_H
#define CHANCERY_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/conf.h"
#include "chancery/registry.h"

struct protocol_forms; /* protocol.h */

struct render_context {
	const struct conf *cfg;              /* sender.* */
	const struct registry_body *body;    /* body.* */
	const struct registry_contact *contact; /* contact.* */
	const char *campaign_name;           /* campaign.name */
	int64_t send_at;                     /* campaign.date (UTC seconds) */
	const char *tz;                      /* zone the dates are written in */
	const char *event_date;              /* "YYYY-MM-DD" or NULL: anniversary.*, event.date */
	const char *sender_override;         /* campaign --sender, or NULL */
	const char *message_id;              /* Message-ID to use (no <>) */
	const char *envid;                   /* for an X-Chancery-Delivery header */
	bool receipt;                        /* ask for a read receipt
						(Disposition-Notification-To) */
	const char *lang;                    /* the variant's language (BCP 47,
						e.g. "fr"), NULL for the
						template's default */
	/* locale (issue 21): body.running_name, contact.salutation; NULL
	 * renders the body's name and the neutral greeting */
	const struct protocol_forms *protocol;
};

#endif
