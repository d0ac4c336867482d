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
 * empty. aliases are "|"-separated; the rows of one body add up.
 *
 * What an import does, as a plan it returns item by item:
 * - A body of the file is an existing live body when its acronym is that
 *   body's, else when its name is, else when its name or acronym is one
 *   of that body's aliases (compared normalised, names.h). Two candidate
 *   bodies, or two bodies of the file on one body of the registry, are a
 *   conflict: the whole import is refused.
 * - New bodies, aliases and contacts are added.
 * - An empty cell keeps what is there. A differing acronym, name, kind,
 *   country or notes of a body, or name, role or language of a contact,
 *   is kept and listed: the registry's values were curated. With
 *   update they are applied.
 * - A contact's status only moves toward less sending (active →
 *   bouncing → disabled → suppressed); a move back, and a removed
 *   contact the file names, are kept and listed unless reactivate
 *   (which goes through registry_contact_set_status, as "contact
 *   enable" does, or adds the removed contact anew).
 * Nothing is ever removed by an import.
 */
#ifndef CHANCERY_IMPORT_H
#define CHANCERY_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "chancery/csv.h"
#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/registry.h"
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
	int unchanged; /* bodies and contacts that matched with nothing to do */
	int kept;      /* values of the file not applied (see the options) */
	int conflicts;
};

struct import_options {
	const char *source; /* alias source recorded: "csv", "seed" */
	bool dry_run;       /* plan everything, then roll it all back */
	bool update;        /* a differing field: the file's value wins */
	bool reactivate;    /* status may move toward more sending; removed
			     * contacts the file names are added back */
	FILE *progress_out; /* a progress line goes here on a terminal */
};

enum import_action {
	IMPORT_UNCHANGED, /* only counted, never an item */
	IMPORT_ADDED,
	IMPORT_CHANGED,
	IMPORT_KEPT,
	IMPORT_CONFLICT,
};

/* One line of the plan. Strings owned by the plan; the const ones are
 * static. NULL from/to: the field is (or would be) empty. */
struct import_item {
	enum import_action action;
	unsigned line;      /* the line of the file */
	const char *object; /* "body", "alias" or "contact" */
	char *body;         /* the body's acronym, else its name */
	char *contact;      /* the contact's address (contact items) */
	const char *field;  /* changed or kept field; NULL: the object */
	char *from, *to;    /* the registry's value, the file's */
	const char *option; /* KEPT: the option that would apply it */
	char *detail;       /* CONFLICT: why */
};

struct import_plan {
	struct import_item *items;
	size_t count, alloc;
	struct import_stats stats;
	bool applied; /* committed (not a dry run, no error) */
};

void import_plan_release(struct import_plan *plan);

/*
 * Validates every row of text (named name in messages); then, in one
 * transaction, works out the plan and applies it, and commits unless
 * opt->dry_run (the plan of a dry run is exactly what the real run
 * would do). Each bad row adds one line "NAME:LINE: column: problem" to
 * problems (when not NULL), and the return is ERR_DATA with err saying
 * how many rows are bad. A conflict is an item of the plan and ERR_DATA
 * naming its line. Nothing is changed on any error.
 */
int import_csv_plan(struct db *db, const char *name, const char *text,
		    size_t len, const struct import_options *opt,
		    struct import_plan *plan, struct sbuf *problems,
		    struct error *err);

/* import_csv_plan with the default options (source "csv" when NULL),
 * keeping only the counts. */
int import_csv(struct db *db, const char *name, const char *text, size_t len,
	       const char *source, struct sbuf *problems,
	       struct import_stats *stats, struct error *err);

/*
 * What an import does to a contact's status: IMPORT_UNCHANGED (the same),
 * IMPORT_CHANGED (applied) or IMPORT_KEPT (it would send more; only with
 * reactivate).
 */
enum import_action import_status_move(enum registry_contact_status from,
				      enum registry_contact_status to,
				      bool reactivate);

/* One item as a line of text (no newline), terminal escapes shown as
 * text: "line 4: body OHCHR: changed name 'a' → 'b'". */
void import_item_format(const struct import_item *it, struct sbuf *out);
/* The items and the counts as a JSON object (snake_case keys). */
struct json;
void import_plan_json(const struct import_plan *plan, const char *name,
		      struct json *js);

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
