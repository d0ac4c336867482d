/*
 * audit_impl: what audit.c (the reports) and audit_html.c (their HTML
 * pages) share, private to lib/. The unit tests include it to check the
 * HTML writer directly.
 */
#ifndef CHANCERY_AUDIT_IMPL_H
#define CHANCERY_AUDIT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/audit.h"
#include "chancery/sbuf.h"
#include "chancery/table.h"

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
	/* per cell: the campaign could not reach the body (its reason, from
	 * the database), or NULL */
	char **unreached;
	unsigned *counts;  /* per cell, AUDIT_NSTATES counts indexed rank - 1 */
	unsigned char *responses; /* per cell, AUDIT_MARK_* bits */
	bool *hidden;      /* per body: left out by the response filter */
	size_t total;      /* deliveries in the matrix */
	/* Every delivery, for the HTML details; NULL when there are more
	 * than AUDIT_MATRIX_DETAIL_MAX (the page would be too big to open:
	 * `audit campaign --format html` has them campaign by campaign). */
	struct table *deliveries;
	size_t *delivery_cell;    /* per delivery row: its index in best */
};

/*
 * HTML pages: one self-contained document each (responses: what came
 * back, one sentence a line as the text report ends, or "" for none) (inline CSS and script, no
 * network resources), every text escaped. rows is the report's table
 * (columns as audit_report_* builds them).
 */
void audit_html_deliveries(const char *title, const char *subtitle,
			   const struct table *rows,
			   const struct audit_events *events,
			   const char *responses, struct sbuf *out);
void audit_html_matrix(const char *title, const struct audit_matrix *m,
		       struct sbuf *out);
/*
 * What a matrix cell shows: the best delivery state, AUDIT_NOT_REACHED
 * when the body was not reachable (and nothing better than skipped was
 * recorded), or NULL for an empty cell.
 */
const char *audit_matrix_cell_text(const struct audit_matrix *m, size_t cell);
/* What came back for a cell's deliveries (audit.h). */
enum {
	AUDIT_MARK_ACKNOWLEDGED = 1,
	AUDIT_MARK_AUTO_REPLIED = 2,
	AUDIT_MARK_REPLIED = 4,
	AUDIT_MARK_COMPLAINED = 8,
};
#define AUDIT_NMARKS 4
/* The marker of bit i (0..AUDIT_NMARKS-1): "+ack", ...; and its
 * response name for filters and JSON: "acknowledged", ... */
const char *audit_mark_text(int i);
const char *audit_mark_name(int i);

/* A campaign column's mark: "cancelled" or "missed", else NULL. */
const char *audit_matrix_campaign_mark(const struct audit_matrix_campaign *c);

/* Appends s with & < > " ' escaped for HTML text and attributes. */
void audit_html_escape(struct sbuf *out, const char *s);

#endif
