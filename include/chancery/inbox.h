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
#include "chancery/sbuf.h"

enum inbox_source {
	INBOX_STDIN,
	INBOX_MAILDIR,
	INBOX_IMAP,
};

/* Messages larger than this are kept but not read (unreadable). */
#define INBOX_READ_MAX BOUNCE_MAX_SIZE
/* Messages with a header field (its continuation lines included, in any
 * part) longer than this are kept but not read (unreadable): GMime's
 * cost for one grows with its words, not its bytes. */
#define INBOX_FIELD_MAX (256u * 1024)
/* Messages with more lines that may be MIME boundaries than this are
 * kept but not read: GMime builds an object for every part. */
#define INBOX_PARTS_MAX 10000u
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

/* The kind of that name ("report", "mdn", "auto_reply", "reply",
 * "complaint", "unreadable"), as a static string; NULL for none. */
const char *inbox_kind(const char *name);

/*
 * Keeps and reads one message (see above), in one transaction. Non-zero
 * only when the database fails; then nothing is changed.
 */
int inbox_take(struct db *db, const struct conf *cfg,
	       const struct inbox_message *m, struct inbox_result *res,
	       bounce_note_fn note, void *arg, struct error *err);

/* What a run over several messages kept, by kind. */
struct inbox_counts {
	size_t report, mdn, auto_reply, reply, complaint, unreadable;
	size_t duplicate;   /* of the above, read before (nothing changed) */
};
void inbox_counts_add(struct inbox_counts *c, const struct inbox_result *res);
/* Appends "report=1 mdn=0 auto_reply=0 reply=0 complaint=0 unreadable=0
 * duplicate=0" to out. */
void inbox_counts_format(const struct inbox_counts *c, struct sbuf *out);

/*
 * Reading a Maildir: every message in dir/new, oldest name first, each
 * kept through inbox_take and moved to dir/cur (":2,S" added) once the
 * transaction holding it is committed; messages are kept in batches
 * (one commit for many). A crash between the commit and the move only
 * means the next run finds duplicates.
 */
struct inbox_maildir {
	const char *dir;
	const char *envelope_to;  /* for every message, or NULL */
	size_t max_messages;      /* at most this many per call; 0: all */
	/* A message kept in the open batch: name under new/, its path, what
	 * it was read as and what bounce.h noted ("" when nothing). */
	void (*taken)(const char *name, const char *path,
		      const struct inbox_result *res, const char *notes,
		      void *arg);
	/* The open batch ended: committed (ok), or rolled back and its
	 * messages left in new/; called before the moves. May be NULL. */
	void (*batch_done)(bool ok, void *arg);
	/* A message that could not be read or moved: it stays in new/ and
	 * the others go on. May be NULL. */
	void (*failed)(const struct error *why, void *arg);
	/* Polled between messages: true ends the call after committing what
	 * was taken. May be NULL. */
	bool (*interrupted)(void *arg);
	void *arg;
};

struct inbox_maildir_stats {
	size_t listed;    /* names found in new/ */
	size_t moved;     /* kept and moved to cur/ */
	size_t failed;    /* could not be read or moved */
	struct inbox_counts counts;  /* of the messages committed */
};

/*
 * Reads the Maildir as above. Non-zero when dir is not a Maildir
 * (ERR_NOINPUT) or the database fails: the open batch is then rolled
 * back, its messages stay in new/, and the run stops (the next message
 * would fail the same way). A message that cannot be read is told to
 * p->failed and is no error. db must have no transaction open.
 */
int inbox_read_maildir(struct db *db, const struct conf *cfg,
		       const struct inbox_maildir *p,
		       struct inbox_maildir_stats *st, struct error *err);

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
