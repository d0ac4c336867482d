/*
 * audit: proving the ledger intact, and answering "which bodies received
 * which statement" from the records.
 *
 * Verification walks the events table in id order and recomputes every
 * row's hash (ledger_row_hash) and its link to the row before it. What it
 * can prove, and what it cannot:
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
 *
 * Reports are read-only joins over bodies, contacts, campaigns, templates,
 * deliveries and events, written as an aligned table, CSV, JSON or one
 * self-contained HTML file (audit_html.c).
 */
#ifndef CHANCERY_AUDIT_H
#define CHANCERY_AUDIT_H

#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/sbuf.h"
#include "chancery/sha256.h"
#include "chancery/table.h"

enum audit_problem {
	AUDIT_OK,
	AUDIT_HASH_MISMATCH,  /* the row's content changed */
	AUDIT_PREV_MISMATCH,  /* a row before it was removed, inserted or rehashed */
	AUDIT_ANCHOR_MISSING, /* no row carries the anchored hash */
};

struct audit_verify_result {
	int64_t rows;                      /* rows checked and found intact */
	int64_t head_id;                   /* the newest row (0: empty ledger) */
	int64_t head_ts;
	char head_hash[SHA256_HEX_SIZE];   /* genesis hash for an empty ledger */
	int64_t anchor_id;                 /* the anchored row, when found */
	enum audit_problem problem;
	int64_t bad_id;                    /* the first broken row */
};

/*
 * Walks the whole chain. Returns 0 when intact (and, with anchor, when a
 * row carries that hash), else ERR_DATA with a message naming the first
 * broken row and what is wrong, and res->problem/bad_id set. anchor may be
 * NULL; a malformed one is ERR_USAGE.
 */
int audit_verify(struct db *db, const char *anchor,
		 struct audit_verify_result *res, struct error *err);
/* The same, updating progress (if not NULL) as rows are checked. */
struct progress;
int audit_verify_progress(struct db *db, const char *anchor,
			  struct progress *progress,
			  struct audit_verify_result *res, struct error *err);

/* The head of the chain, to record elsewhere. */
struct audit_anchor {
	int64_t id;
	int64_t ts;
	char hash[SHA256_HEX_SIZE];
	int64_t rows; /* rows verified before anchoring */
};

/*
 * Verifies the chain and returns its head; a broken chain is ERR_DATA
 * (anchoring it would bless the damage), an empty one ERR_NOTFOUND.
 */
int audit_anchor(struct db *db, struct audit_anchor *out, struct error *err);

enum audit_format {
	AUDIT_FORMAT_TABLE,
	AUDIT_FORMAT_CSV,
	AUDIT_FORMAT_JSON,
	AUDIT_FORMAT_HTML,
};

/* "table", "csv", "json", "html"; 0 or ERR_USAGE naming the value. */
int audit_format_parse(const char *name, enum audit_format *out,
		       struct error *err);

/*
 * The delivery states, best first: the order in which a state proves more
 * that a body received the statement. The matrix cell of a body and a
 * campaign is the best state among its contacts' deliveries.
 */
#define AUDIT_NSTATES 10
int audit_state_rank(const char *state); /* 1..AUDIT_NSTATES, best highest; 0 unknown */
const char *audit_state_by_rank(int rank);

/*
 * Reports. Each appends the whole output in format fmt to out. An unknown
 * campaign or body is ERR_NOTFOUND; since_year 0 means every year.
 */
int audit_report_campaign(struct db *db, const char *name,
			  enum audit_format fmt, struct sbuf *out,
			  struct error *err);
int audit_report_body(struct db *db, const char *acronym,
		      enum audit_format fmt, struct sbuf *out,
		      struct error *err);
int audit_report_matrix(struct db *db, int since_year, enum audit_format fmt,
			struct sbuf *out, struct error *err);

/* ---- used by audit.c and audit_html.c only ---- */

/* One ledger event of a delivery, for the HTML details. */
struct audit_event {
	int64_t id, delivery_id;
	char *ts;   /* ISO 8601, UTC */
	char *kind;
	char *data; /* JSON text */
};

struct audit_events {
	struct audit_event *v;
	size_t n, alloc;
};

/* The events of [first, first+count) sorted by delivery id, for one id. */
size_t audit_events_find(const struct audit_events *evs, int64_t delivery_id,
			 size_t *first);

#define AUDIT_MATRIX_DETAIL_MAX 50000

struct audit_matrix {
	size_t ncampaigns, nbodies;
	struct audit_matrix_campaign {
		int64_t id;
		char *name, *send_at, *state;
		int year;
	} *campaigns;
	struct audit_matrix_body {
		int64_t id;
		char *acronym, *name, *kind, *country;
	} *bodies;
	int *best;         /* nbodies * ncampaigns state ranks, 0 = not sent */
	unsigned *counts;  /* per cell, AUDIT_NSTATES counts indexed rank - 1 */
	size_t total;      /* deliveries in the matrix */
	/* Every delivery, for the HTML details; NULL when there are more
	 * than AUDIT_MATRIX_DETAIL_MAX (the page would be too big to open:
	 * `audit campaign --format html` has them campaign by campaign). */
	struct table *deliveries;
	size_t *delivery_cell;    /* per delivery row: its index in best */
};

/*
 * HTML pages: one self-contained document each (inline CSS and script, no
 * network resources), every text escaped. rows is the report's table
 * (columns as audit_report_* builds them).
 */
void audit_html_deliveries(const char *title, const char *subtitle,
			   const struct table *rows,
			   const struct audit_events *events, struct sbuf *out);
void audit_html_matrix(const char *title, const struct audit_matrix *m,
		       struct sbuf *out);
/* Appends s with & < > " ' escaped for HTML text and attributes. */
void audit_html_escape(struct sbuf *out, const char *s);

#endif
