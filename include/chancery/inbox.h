/*
 * inbox: everything that comes back to the office, from any source
 * (standard input as an MTA pipe alias gives it, a Maildir, an IMAP
 * mailbox). Every message is kept (inbound_messages, with its raw bytes
 * and their SHA-256) and read as what it is: a delivery report (applied
 * through bounce.h), a disposition notification, an automatic answer, a
 * person's reply, a complaint, or unreadable (quarantined with the
 * reason). Only a failing database is an error: a message chancery
 * cannot read is still kept, so an MTA never bounces or drops it.
 *
 * chancery's own identifiers are looked for first, whatever the format:
 * the envelope recipient (the source's, else the Delivered-To,
 * X-Original-To, Envelope-To and To: headers, in that order) as a VERP
 * address under bounce.address naming a delivery's ENVID; a tokened
 * ENVID ("chancery-<id>-<16 hex>", as ENVID, X-Chancery-Delivery or a
 * VERP address) anywhere in the text; a Message-ID of chancery's form
 * anywhere in the text. Only then what the report itself says (bounce.h
 * has the order). A response (MDN, automatic answer, reply, complaint)
 * is matched through the Message-IDs it names, to which the delivery a
 * VERP envelope or token names is added first.
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

/* Messages larger than this are kept but not read (unreadable). */
#define INBOX_READ_MAX BOUNCE_MAX_SIZE
/* Sources read at most this much of one message. */
#define INBOX_MAX_SIZE (64u * 1024 * 1024)

const char *inbox_source_name(enum inbox_source s);

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
	char format[32];         /* a report's format, else "" */
	int64_t delivery_id;     /* the delivery it was matched to, or 0 */
	char reason[512];        /* why unreadable or unmatched, else "" */
	struct bounce_result bounce; /* counts, when a report */
};

/*
 * Keeps and reads one message (see above), in one transaction. Non-zero
 * only when the database fails; then nothing is changed.
 */
int inbox_take(struct db *db, const struct conf *cfg,
	       const struct inbox_message *m, struct inbox_result *res,
	       bounce_note_fn note, void *arg, struct error *err);

/* An inbound_messages row, as `chancery inbox list` shows it. */
struct inbox_row {
	int64_t id;
	int64_t received_at;
	const char *source;
	const char *origin;
	const char *envelope_to;
	const char *kind;
	const char *format;
	const char *sender;
	const char *subject;
	int64_t delivery_id;   /* 0 when none */
	const char *reason;
};
typedef int (*inbox_row_fn)(const struct inbox_row *row, void *arg);
/* Calls fn for each row of that kind (NULL: all), oldest first; strings
 * valid only during the call. A non-zero return from fn stops and is
 * returned. */
int inbox_each(struct db *db, const char *kind, inbox_row_fn fn, void *arg,
	       struct error *err);

#endif
