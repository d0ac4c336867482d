/*
 * inbox: everything that comes back to the office, from any source
 * (standard input as an MTA pipe alias gives it, a Maildir, an IMAP
 * mailbox). Every message is kept (inbound_messages, with its raw bytes
 * and their SHA-256) and read as what it is: a delivery report (applied
 * through bounce.h), a disposition notification, an automatic answer, a
 * person's reply, a complaint, or unreadable (quarantined with the
 * reason). Only a failing database is an error: a message chancery
 * cannot read is still kept, so an MTA never bounces or drops it.
 */
#ifndef CHANCERY_INBOX_H
#define CHANCERY_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/bounce.h"
#include "chancery/conf.h"
#include "chancery/db.h"
#include "chancery/error.h"

enum inbox_source {
	INBOX_STDIN,
	INBOX_MAILDIR,
	INBOX_IMAP,
};

/* One message as its source gave it. */
struct inbox_message {
	enum inbox_source source;
	const char *origin;      /* file name, "URL;UID=n", or NULL */
	const char *envelope_to; /* the address it was delivered to, when the
				    source knows it (VERP), or NULL */
	const char *raw;
	size_t len;
};

struct inbox_result {
	int64_t inbound_id;      /* the inbound_messages row */
	bool duplicate;          /* the same bytes were read before */
	const char *kind;        /* "report", "mdn", ... (static) */
	struct bounce_result bounce; /* counts, when a report */
};

/*
 * Keeps and reads one message (see above), in one transaction. Non-zero
 * only when the database fails; then nothing is changed.
 */
int inbox_take(struct db *db, const struct conf *cfg,
	       const struct inbox_message *m, struct inbox_result *res,
	       bounce_note_fn note, void *arg, struct error *err);

#endif
