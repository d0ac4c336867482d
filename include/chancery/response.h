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
	char *disposition;  /* MDN: "displayed", "deleted", ...; or NULL */
	char *sender;       /* the responder's address, or NULL */
	int64_t date;       /* its Date: (UTC seconds), 0 when none */
	char **refs;        /* Message-IDs it names (Original-Message-ID,
			       In-Reply-To, References), without <> */
	size_t nrefs;
};

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
 */
int response_apply(struct db *db, int64_t inbound_id,
		   const struct response *r, int64_t *delivery_id,
		   struct error *err);

#endif
