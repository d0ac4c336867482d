/*
 * ledger: the append-only audit trail of everything that happened to a
 * campaign, a delivery or an addressee.
 *
 * Every row holds the SHA-256 of its canonical serialisation, and that
 * serialisation includes the hash of the row before it (a hash chain), so
 * an edit anywhere shows from that row on. The canonical form of a row is
 * the concatenation of these fields, each written as a netstring
 * ("<decimal length>:<bytes>,"):
 *
 *   id, ts, kind, campaign_id, delivery_id, body_id, contact_id, data,
 *   prev_hash [, actor]
 *
 * where numbers are decimal, a missing id is the empty string, data is the
 * JSON text as stored and prev_hash is 64 hex digits (64 zeros for the
 * first row). actor, the person a change is attributed to (db_set_actor),
 * is a tenth field present only when the row has one: rows written by
 * the daemon, and every row written before actors existed, hash as they
 * always did, and setting or clearing a row's actor breaks its hash. Appending must happen inside the transaction that makes the
 * change it records; ledger_append opens its own when there is none.
 *
 * Verification (ledger_verify) walks the events table in id order and
 * recomputes every row's hash (ledger_row_hash) and its link to the row
 * before it. What it can prove, and what it cannot:
 *
 * - a row whose content was edited in place (data, kind, ids, time) no
 *   longer matches its stored hash: a "hash mismatch" on that row;
 * - a row edited and then given a recomputed hash breaks the link of the
 *   row after it; so does a row deleted from the middle or inserted: a
 *   "prev mismatch" on the first row after the change (ids are dense, so a
 *   gap also names the missing ids);
 * - rows cut from the END (tail truncation) leave a shorter chain that is
 *   still perfectly consistent, and a whole chain rewritten by someone who
 *   knows the algorithm is consistent too: there is no secret in it. That
 *   is what anchors are for: `audit anchor` prints the head hash for a
 *   person to record outside the database (a signed e-mail, a ticket).
 *   `verify --anchor HASH` then requires that a row still carries that
 *   hash and that the chain up to it is intact, which proves nothing at or
 *   before the anchored row changed or disappeared.
 */
#ifndef CHANCERY_LEDGER_H
#define CHANCERY_LEDGER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/json.h"
#include "chancery/sha256.h"
#include "chancery/sbuf.h"

enum ledger_kind {
	LEDGER_CAMPAIGN_CREATED,
	LEDGER_CAMPAIGN_SCHEDULED,
	LEDGER_CAMPAIGN_STARTED,
	LEDGER_CAMPAIGN_PAUSED,
	LEDGER_CAMPAIGN_RESUMED,
	LEDGER_CAMPAIGN_CANCELLED,
	LEDGER_CAMPAIGN_DONE,
	LEDGER_CAMPAIGN_REFRESHED,
	LEDGER_TEMPLATE_ADDED,
	LEDGER_TEMPLATE_USED,
	LEDGER_SERIES_CREATED,
	LEDGER_SERIES_PAUSED,
	LEDGER_SERIES_RESUMED,
	LEDGER_SERIES_REMOVED,
	LEDGER_SERIES_SKIPPED, /* a year's window passed with no campaign */
	LEDGER_DELIVERY_QUEUED,
	LEDGER_DELIVERY_SKIPPED,
	LEDGER_DELIVERY_ATTEMPTED,
	LEDGER_DELIVERY_SENT,
	LEDGER_DELIVERY_DEFERRED,
	LEDGER_DELIVERY_FAILED,
	LEDGER_DELIVERY_EXPIRED,
	LEDGER_DELIVERY_RECOVERED,
	LEDGER_DELIVERY_CANCELLED,
	LEDGER_DELIVERY_BOUNCED,
	LEDGER_DELIVERY_DELAYED,
	LEDGER_DELIVERY_DELIVERED,
	LEDGER_BODY_ADDED,
	LEDGER_BODY_CHANGED,
	LEDGER_BODY_REMOVED,
	LEDGER_ALIAS_ADDED,
	LEDGER_CONTACT_ADDED,
	LEDGER_CONTACT_DISABLED,
	LEDGER_CONTACT_ENABLED,
	LEDGER_CONTACT_BOUNCING,
	LEDGER_CONTACT_REMOVED,
	LEDGER_LIST_CHANGED,
	LEDGER_BOUNCE_QUARANTINED,
	LEDGER_CAMPAIGN_APPROVED,
	LEDGER_CAMPAIGN_REJECTED,
	LEDGER_CAMPAIGN_APPROVAL_VOID, /* a change after approval voided it */
	LEDGER_CAMPAIGN_EDITED,
	LEDGER_CAMPAIGN_REMINDED,      /* due soon and not approved/scheduled */
	LEDGER_CAMPAIGN_MISSED,        /* its send time passed unsent */
	LEDGER_CAMPAIGN_TESTED,        /* a marked test message, no delivery */
	LEDGER_NOTIFY_SENT,
	LEDGER_NOTIFY_FAILED,
	LEDGER_BODY_MERGED,
	LEDGER_CONTACT_CHANGED,
	LEDGER_SERIES_EDITED,          /* template, list or time changed */
	LEDGER_PHRASE_TAUGHT,   /* registry teach: a phrase rule set */
	LEDGER_PHRASE_UNTAUGHT, /* registry unteach */
	LEDGER_DELIVERY_ACKNOWLEDGED, /* an MDN came back for it */
	LEDGER_DELIVERY_AUTO_REPLIED, /* an automatic answer came back */
	LEDGER_DELIVERY_REPLIED,      /* a person answered it */
	LEDGER_INBOUND_QUARANTINED,   /* a message nobody could read or match */
	LEDGER_RELAY_DOWN,      /* a relay-level fault stopped sending */
	LEDGER_RELAY_UP,        /* the relay works again */
	LEDGER_RELAY_BLOCKED,   /* repeated policy blocks from one domain */
	LEDGER_USER_ADDED,      /* a console account was created */
	LEDGER_USER_CHANGED,    /* its role, password or state changed */
	LEDGER_BOUNCE_DISMISSED, /* a quarantined report set aside by hand */
	LEDGER_KIND_COUNT
};

/* "campaign.created", "delivery.sent", ...; NULL when out of range. */
const char *ledger_kind_name(enum ledger_kind kind);
/* The kind of that name; 0 or -1. */
int ledger_kind_parse(const char *name, enum ledger_kind *out);

struct ledger_event {
	enum ledger_kind kind;
	int64_t campaign_id; /* 0 where the event concerns none */
	int64_t delivery_id;
	int64_t body_id;
	int64_t contact_id;
	const char *data; /* a JSON object, or NULL for {} */
};

#define LEDGER_GENESIS_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* Appends one event at the current time; *id_out (if given) gets its id. */
int ledger_append(struct db *db, const struct ledger_event *ev,
		  int64_t *id_out, struct error *err);

/*
 * An event being written: its kind and ids, and its data object built
 * member by member in the order the calls come (the ledger hashes that
 * text, so the order is part of the record). The caller owns the struct:
 * ledger_entry_init, members, ledger_entry_append (or ledger_entry_data
 * for a caller that hands the text on), then ledger_entry_release.
 * ledger_entry_reset starts the next event in the same memory, so a loop
 * writing one event per row allocates only while the text grows (init
 * and reset allocate nothing).
 */
struct ledger_entry {
	struct ledger_event ev; /* ev.data is set when the object is closed */
	struct sbuf data;       /* the JSON text, owned by the entry */
	struct json js;
};

/* ids are 0 where the event concerns none. */
void ledger_entry_init(struct ledger_entry *e, enum ledger_kind kind,
		       int64_t campaign, int64_t delivery, int64_t body,
		       int64_t contact);
/* Forgets the members and starts an event anew, keeping the memory. */
void ledger_entry_reset(struct ledger_entry *e, enum ledger_kind kind,
			int64_t campaign, int64_t delivery, int64_t body,
			int64_t contact);
/* A member "key": "value" (value NULL: null), escaped as JSON. */
void ledger_entry_str(struct ledger_entry *e, const char *key,
		      const char *value);
/* A member "key": decimal value. */
void ledger_entry_int(struct ledger_entry *e, const char *key, int64_t value);
/*
 * Closes the object (no members after this) and returns its text, owned
 * by e and valid until the next reset or the release.
 */
const char *ledger_entry_data(struct ledger_entry *e);
/* Closes the object and appends the event, as ledger_append; e is kept
 * (reset it for the next event, release it at the end). */
int ledger_entry_append(struct db *db, struct ledger_entry *e,
			int64_t *id_out, struct error *err);
/* Frees the text; e may be initialised again. */
void ledger_entry_release(struct ledger_entry *e);

/*
 * Appends ev with its data built from NULL-terminated key/value string
 * pairs: {"key": "value", ...}, a NULL value written as null (ev->data is
 * ignored). For the events whose data is a few named strings.
 */
int ledger_append_fields(struct db *db, const struct ledger_event *ev,
			 struct error *err, ...);
int ledger_append_vfields(struct db *db, const struct ledger_event *ev,
			  struct error *err, va_list pairs);

/* A stored row, as ledger_row_hash reads it. */
struct ledger_row {
	int64_t id;
	int64_t ts;
	const char *kind;
	int64_t campaign_id, delivery_id, body_id, contact_id; /* 0 = none */
	const char *data;
	const char *prev_hash;
	const char *actor; /* NULL: the system, and every row before 0007 */
};

/* Writes the canonical serialisation of row into out (replacing it). */
void ledger_canonical(const struct ledger_row *row, struct sbuf *out);

/* The hash a row must carry; h is a reusable digest (or NULL). */
void ledger_row_hash(const struct ledger_row *row, struct sha256 *h,
		     struct sbuf *scratch, char out[SHA256_HEX_SIZE]);

enum ledger_problem {
	LEDGER_OK,
	LEDGER_HASH_MISMATCH,  /* the row's content changed */
	LEDGER_PREV_MISMATCH,  /* a row before it was removed, inserted or
				  rehashed */
	LEDGER_ANCHOR_MISSING, /* no row carries the anchored hash */
};

struct ledger_verify_result {
	int64_t rows;                      /* rows checked and found intact */
	int64_t head_id;                   /* the newest row (0: empty ledger) */
	int64_t head_ts;
	char head_hash[SHA256_HEX_SIZE];   /* genesis hash for an empty ledger */
	int64_t anchor_id;                 /* the anchored row, when found */
	enum ledger_problem problem;
	int64_t bad_id;                    /* the first broken row */
};

/*
 * Walks the whole chain. Returns 0 when intact (and, with anchor, when a
 * row carries that hash), else ERR_DATA with a message naming the first
 * broken row and what is wrong, and res->problem/bad_id set. anchor may be
 * NULL; a malformed one is ERR_USAGE.
 */
int ledger_verify(struct db *db, const char *anchor,
		  struct ledger_verify_result *res, struct error *err);
/* The same, updating progress (if not NULL) as rows are checked. */
struct progress;
int ledger_verify_progress(struct db *db, const char *anchor,
			   struct progress *progress,
			   struct ledger_verify_result *res,
			   struct error *err);

/*
 * The history of a body or a contact, oldest first: fn is called with
 * each stored row (prev_hash and hash not read). body_id: the events of
 * that body, and when merged_into is not 0 the body.merged event of the
 * body it went into; else contact_id: the events of that contact.
 * Delivery events (which also carry the ids) only with deliveries.
 */
int ledger_history(struct db *db, int64_t body_id, int64_t merged_into,
		   int64_t contact_id, bool deliveries,
		   int (*fn)(const struct ledger_row *row, void *arg),
		   void *arg, struct error *err);

/*
 * Appends the data object of an event to out as a person reads it:
 * "key: value; key: from → to; key: a, b", null as "(none)", empty
 * arrays left out. ERR_DATA when data is not a JSON object.
 */
int ledger_data_readable(struct db *db, const char *data, struct sbuf *out,
			 struct error *err);

/* The head of the chain, to record elsewhere. */
struct ledger_anchor {
	int64_t id;
	int64_t ts;
	char hash[SHA256_HEX_SIZE];
	int64_t rows; /* rows verified before anchoring */
};

/*
 * Verifies the chain and returns its head; a broken chain is ERR_DATA
 * (anchoring it would bless the damage), an empty one ERR_NOTFOUND.
 */
int ledger_anchor(struct db *db, struct ledger_anchor *out, struct error *err);

#endif
