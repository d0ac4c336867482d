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
 * A body of a campaign's list that the campaign could not reach (no
 * sendable contact: the campaign_unreached table) is a row of the
 * campaign and body reports with this state and the reason in the reason
 * column (no email, no delivery id), and a cell of this text in the
 * matrix (a delivery state of the body wins over it, except skipped).
 * The totals count such bodies apart from the deliveries.
 */
#define AUDIT_NOT_REACHED "not reached"

/*
 * What came back for the deliveries of a cell (response.h): the matrix
 * marks a cell "+ack" (acknowledged: an MDN), "+auto" (an automatic
 * answer), "+replied" (a person's reply), "+complaint" (a feedback
 * report), after its state, and can keep only the bodies (rows) with
 * such a response in some campaign (any: one of them; none: not one).
 */
enum audit_response {
	AUDIT_RESPONSE_ALL, /* no filter */
	AUDIT_RESPONSE_ACKNOWLEDGED,
	AUDIT_RESPONSE_AUTO_REPLIED,
	AUDIT_RESPONSE_REPLIED,
	AUDIT_RESPONSE_COMPLAINED,
	AUDIT_RESPONSE_ANY,
	AUDIT_RESPONSE_NONE,
};

/* "acknowledged", "auto_replied", "replied", "complained", "any",
 * "none"; 0 or ERR_USAGE naming the value. */
int audit_response_parse(const char *name, enum audit_response *out,
			 struct error *err);

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
int audit_report_matrix(struct db *db, int since_year,
			enum audit_response filter, enum audit_format fmt,
			struct sbuf *out, struct error *err);
/* The matrix of the deliveries sent in lang only (deliveries.language,
 * case ignored; NULL: all, as audit_report_matrix): bodies not reached
 * and deliveries in other languages are left out. */
int audit_report_matrix_lang(struct db *db, int since_year, const char *lang,
			     enum audit_response filter, enum audit_format fmt,
			     struct sbuf *out, struct error *err);

#endif
