/*
 * status: the whole state of an installation at a glance, read from the
 * database: the daemon that last ran against it (and whether it is still
 * alive), the relay as the daemon last found it, the campaigns due soon
 * and the missed ones, the queue per delivery state, what waits in
 * quarantine and when each inbox source last brought a message, the ledger's size and head, and the last verification.
 * Read-only: status_load writes nothing, so it works on a read-only
 * database; status_record_verify is the one writer (audit verify's).
 * For `chancery status` and, later, the web console.
 */
#ifndef CHANCERY_STATUS_H
#define CHANCERY_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/ledger.h"
#include "chancery/sbuf.h"
#include "chancery/sha256.h"

enum status_daemon_state {
	STATUS_DAEMON_NEVER,     /* no daemon ever ran against the database */
	STATUS_DAEMON_RUNNING,   /* its pid is alive on this host and, where
				    /proc tells, is chanceryd's */
	STATUS_DAEMON_STOPPED,   /* its pid is gone on this host */
	STATUS_DAEMON_ELSEWHERE, /* it ran on another host: not checkable */
};

/* "never", "running", "stopped", "elsewhere". */
const char *status_daemon_state_name(enum status_daemon_state s);

/* A campaign due soon, or a missed one. */
struct status_campaign {
	int64_t id;
	char *name;
	char *state;     /* campaigns.state */
	int64_t send_at;
	int approvals;   /* approvals given */
	char *tz;        /* the zone its send time is written in */
};

/* The delivery states, in the order status lists them. */
#define STATUS_NQUEUE 10
extern const char *const status_queue_states[STATUS_NQUEUE];

/* The inbox's sources (inbox.h), in the order status lists them. */
#define STATUS_NSOURCES 3
extern const char *const status_inbox_sources[STATUS_NSOURCES];

struct status {
	int64_t now;
	int days;           /* the window of "due" */
	int approvals_needed; /* campaign.approvals, as the caller gave it */

	struct {
		enum status_daemon_state state;
		int64_t pid;
		char *host, *version;     /* NULL when never */
		int64_t started_at, heartbeat_at;
	} daemon;

	struct {
		bool known;         /* the daemon has recorded a state */
		char *state;        /* "ok" or "down" */
		int64_t since, failures, retry_at, checked_at; /* retry_at 0: none */
		char *last_error;   /* NULL when none */
	} relay;

	struct status_campaign *due;    /* send_at before now + days, not
					 * done, cancelled or missed; by time */
	size_t ndue;
	struct status_campaign *missed; /* newest first */
	size_t nmissed;

	int64_t queue[STATUS_NQUEUE];   /* deliveries per status_queue_states */

	int64_t quarantined_reports;    /* bounce_quarantine not confirmed */
	int64_t unreadable_messages;    /* inbound_messages of kind unreadable */
	/* the newest message kept from each source (status_inbox_sources):
	 * its received_at, 0 when none */
	int64_t inbox_last[STATUS_NSOURCES];

	struct {
		int64_t rows, head_id, head_ts; /* head_id 0: empty */
		char head_hash[SHA256_HEX_SIZE]; /* "" when empty */
	} ledger;

	struct {
		bool known;          /* a verification was recorded */
		int64_t at, rows, head_id;
		bool ok;
		char *actor, *anchor, *problem, *message; /* may be NULL */
		char head_hash[SHA256_HEX_SIZE];
	} verify;
};

/* The widest window of "due" a caller offers (`status --days`, the
 * console's overview): ten years. */
#define STATUS_DAYS_MAX 3660

/*
 * Reads everything into st (released with status_release, also after an
 * error). now is the time "due" counts from; days the window (>= 0);
 * approvals_needed is shown beside each due campaign's approvals.
 * The daemon's pid is checked with kill(pid, 0) when its host is this
 * host. Writes nothing.
 */
int status_load(struct db *db, int64_t now, int days, int approvals_needed,
		struct status *st, struct error *err);
void status_release(struct status *st);

/* The status as text for a terminal, or as one JSON object (snake_case
 * keys, times as UTC text, counts as numbers). Appended to out. */
void status_format_text(const struct status *st, struct sbuf *out);
void status_format_json(const struct status *st, struct sbuf *out);

/*
 * Records one run of audit verify: rc its result (0 intact), res what it
 * found, anchor the --anchor or NULL, message the error's text when rc is
 * not 0. On a read-only database nothing is written and 0 is returned:
 * a verification must work on an archive.
 */
int status_record_verify(struct db *db, int64_t now,
			 const struct ledger_verify_result *res,
			 const char *anchor, int rc, const char *message,
			 struct error *err);

#endif
