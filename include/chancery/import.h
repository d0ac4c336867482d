/*
 * import: the registry as CSV, in and out, and the seed registry.
 *
 * The format (RFC 4180 or a spreadsheet's dialect: ';' or tab, a BOM,
 * CRLF or LF; header row required, UTF-8; every cell and dialect is in
 * chancery(1), CSV FORMAT):
 *
 *   acronym,name,kind,country,notes,aliases,email,contact_name,role,
 *   language,status
 *
 * One row per contact; a body with several contacts spans several rows
 * that repeat its acronym, name, kind, country and notes (they must
 * agree). A body with no contact has one row with the contact columns
 * empty. aliases are "|"-separated; the rows of one body add up. A body
 * is the same body as an existing one when its acronym matches (or, with
 * no acronym, its name): re-importing a file changes nothing, importing a
 * changed file updates kind, name, country and notes, adds the aliases
 * and contacts it names and sets contact status. Nothing is ever removed
 * by an import, and an empty country or notes leaves the stored one.
 */
#ifndef CHANCERY_IMPORT_H
#define CHANCERY_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#include "chancery/csv.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/sbuf.h"

/* The header row, as written by export and required by import. */
extern const char import_csv_header[];

struct import_stats {
	int rows;
	int bodies_added;
	int bodies_changed;
	int aliases_added;
	int contacts_added;
	int contacts_changed;
	int lists_created;
};

/*
 * Validates every row of text (named name in messages) and only then
 * applies them all in one transaction. Each bad row adds one line
 * "NAME:LINE: column: problem" to problems (when not NULL), and the
 * return is ERR_DATA with err saying how many rows are bad; nothing is
 * changed then. source is the alias source recorded ("csv", "seed").
 */
int import_csv(struct db *db, const char *name, const char *text, size_t len,
	       const char *source, struct sbuf *problems,
	       struct import_stats *stats, struct error *err);

/* The same, drawing a progress line on progress_out when it is a
 * terminal (NULL: never). */
int import_csv_progress(struct db *db, const char *name, const char *text,
			size_t len, const char *source, struct sbuf *problems,
			struct import_stats *stats, FILE *progress_out,
			struct error *err);

/* Appends the whole live registry in the format above to out (RFC 4180:
 * commas, CRLF, no byte-order mark). Every cell goes through the csv
 * writer, so a formula-like one gets a "'" in front that import takes
 * off again (csv.h). */
int import_export_csv(struct db *db, struct sbuf *out, struct error *err);
/* The same in another dialect, e.g. a byte-order mark and ';' for a
 * spreadsheet where the decimal separator is a comma. */
int import_export_csv_dialect(struct db *db, const struct csv_dialect *d,
			      struct sbuf *out, struct error *err);

/*
 * Loads the seed registry compiled in from db/seed_registry.csv and
 * creates the group rule lists the statements name (diplomatic missions,
 * diaspora organisations, ombudsmen, NHRIs), in one transaction. The
 * seed carries no contacts: no real address is shipped, and placeholder
 * ones would be sent to.
 */
int import_seed(struct db *db, struct import_stats *stats, struct error *err);

#endif
