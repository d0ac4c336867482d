/*
 * audit: answering "which bodies received which statement" from the
 * records. (Proving the ledger intact is ledger_verify's: ledger.h.)
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
#include "chancery/table.h"

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
