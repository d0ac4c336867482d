/*
 * response: what an addressee did with a statement, read from a message
 * that came back and is not a delivery report: a disposition
 * notification (RFC 8098 MDN), an automatic answer (RFC 3834
 * Auto-Submitted and the out-of-office conventions of mail systems), a
 * person's reply (In-Reply-To/References naming a statement), or a
 * complaint (RFC 5965 feedback report).
 *
 * response_parse only reads the message; response_apply records it
 * against the delivery it names, inside the caller's transaction.
 */
#ifndef CHANCERY_RESPONSE_H
#define CHANCERY_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"

enum response_kind {
	RESPONSE_NONE,        /* none of the below */
	RESPONSE_MDN,
	RESPONSE_AUTO_REPLY,
	RESPONSE_REPLY,
	RESPONSE_COMPLAINT,
};

struct response {
	enum response_kind kind;
	char *disposition;  /* MDN: "displayed", "deleted", "processed/error"
			       (the type, then its modifiers, lower case);
			       a complaint: its Feedback-Type ("abuse");
			       else NULL */
	char *sender;       /* the responder's address, or NULL */
	int64_t date;       /* its Date: (UTC seconds), 0 when none */
	char **refs;        /* Message-IDs it names (Original-Message-ID,
			       In-Reply-To, References, the Message-ID of
			       a quoted original), without <>, each once,
			       the most direct first: Original-Message-ID,
			       In-Reply-To, References newest first, then
			       the quoted original's */
	size_t nrefs;
	/* added by the responses work */
	char *mode;         /* MDN: "manual-action/MDN-sent-manually", ... */
	char *subject;      /* decoded (RFC 2047), one line, or NULL */
	const char *why;    /* static: what made it this kind ("Auto-Submitted:
			       auto-replied", "subject 'Automatic reply:'",
			       "In-Reply-To", "a delivery report", ...) */
};

/* "mdn", "auto_reply", "reply", "complaint" (inbound_messages.kind), or
 * NULL for RESPONSE_NONE. */
const char *response_kind_name(enum response_kind kind);

/* Reads data[0..len) into *out (kind RESPONSE_NONE when it is none of
 * them). Non-zero only when the bytes are not a message at all. */
int response_parse(const char *data, size_t len, struct response *out,
		   struct error *err);
void response_release(struct response *r);

/*
 * Records r, read from inbound message inbound_id, against the delivery
 * whose Message-ID it names (a delivery_responses row and its ledger
 * event); *delivery_id is 0 when it names none. To be called inside the
 * caller's transaction.
 *
 * Only a whole Message-ID equal to a delivery's counts (chancery's carry
 * 64 random bits: see campaign_start.c); the sender's address never
 * does, as anyone can write it. The first of r->refs that names a
 * delivery wins. What each kind records:
 *
 *   MDN        delivery_responses 'acknowledged' with the disposition,
 *              event delivery.acknowledged. Every disposition counts as
 *              an acknowledgement of receipt by the addressee's system;
 *              only "displayed" says a person saw it, and the audit
 *              shows the disposition beside the date ("deleted" =
 *              removed, maybe unread; "dispatched" = forwarded, printed
 *              or otherwise sent on unread; "processed" = handled by
 *              the addressee's system without being shown).
 *   auto-reply 'auto_replied', event delivery.auto_replied.
 *   reply      'replied', event delivery.replied.
 *   complaint  no delivery_responses row (the addressee did not answer
 *              the statement: their provider reports that it was
 *              marked as unwanted); inbound_messages.delivery_id links
 *              it, and an event delivery.replied with "response":
 *              "complaint" and the Feedback-Type puts it on the record.
 *              The audit shows it as a complaint, never as a reply.
 *   none       nothing.
 *
 * inbound_messages.delivery_id is set to the delivery. Applying the same
 * message again changes nothing (UNIQUE (delivery_id, inbound_id)).
 */
int response_apply(struct db *db, int64_t inbound_id,
		   const struct response *r, int64_t *delivery_id,
		   struct error *err);

#endif
