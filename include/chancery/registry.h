/*
 * registry: the addressee bodies, the other names statements give them
 * (aliases), and their e-mail contacts.
 *
 * A body is found by acronym, by name, or by any alias, compared in the
 * normalised form of names.h. Removal is soft (removed_at), because the
 * ledger and old campaigns keep naming removed bodies. Every change that
 * affects who receives a statement appends a ledger event in the same
 * transaction.
 */
#ifndef CHANCERY_REGISTRY_H
#define CHANCERY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"

/* A body as stored; strings owned by the struct (registry_body_release). */
struct registry_body {
	int64_t id;
	char *acronym; /* NULL when the body has none */
	char *name;
	char *kind;
	char *country; /* NULL when none */
	char *notes;   /* NULL when none */
	int64_t created_at;
	int64_t removed_at; /* 0 while live */
	int64_t merged_into; /* the body it was merged into, or 0 */
	char *language; /* BCP 47: its contacts' fallback language, or NULL */
};

void registry_body_release(struct registry_body *b);

/* The body kinds the schema accepts, NULL-terminated. */
extern const char *const registry_kinds[];
bool registry_kind_valid(const char *kind);
/* Two capital letters, as ISO 3166-1 alpha-2 codes are written. */
bool registry_country_valid(const char *country);

/*
 * Adds a live body; its name and acronym become aliases too. Errors: empty
 * name, unknown kind, acronym or name already used by a live body
 * (ERR_DATA, naming it). *id_out gets the new id.
 */
int registry_body_add(struct db *db, const char *acronym, const char *name,
		      const char *kind, const char *country, const char *notes,
		      int64_t *id_out, struct error *err);

/*
 * Finds a live body by id ("#12"), acronym, exact name or alias
 * (normalised). 0 with *out filled; ERR_NOTFOUND naming the key; ERR_DATA
 * when an alias names more than one body (listing them).
 */
int registry_body_find(struct db *db, const char *key,
		       struct registry_body *out, struct error *err);
/* The body of that id, live or removed. */
int registry_body_get(struct db *db, int64_t id, struct registry_body *out,
		      struct error *err);

/* Changes fields; a NULL argument leaves that field as it is. */
int registry_body_update(struct db *db, int64_t id, const char *acronym,
			 const char *name, const char *kind,
			 const char *country, const char *notes,
			 struct error *err);
/* Sets the body's language (a canonical BCP 47 tag, or NULL to clear it),
 * recording body.changed. */
int registry_body_set_language(struct db *db, int64_t id, const char *lang,
			       struct error *err);
/* Soft-removes the body and its contacts. */
int registry_body_remove(struct db *db, int64_t id, struct error *err);

/* Calls fn for every live body (ordered by acronym then name); a non-zero
 * return from fn stops the walk and is returned. */
typedef int (*registry_body_fn)(const struct registry_body *b, void *arg);
int registry_body_each(struct db *db, const char *kind_filter,
		       registry_body_fn fn, void *arg, struct error *err);

/* Adds an alias (source: "manual", "statement", "seed", ...); adding one
 * the body already has (same normal form) is not an error. */
int registry_alias_add(struct db *db, int64_t body_id, const char *alias,
		       const char *source, struct error *err);
/* Calls fn(alias, arg) for each alias of a body. */
int registry_alias_each(struct db *db, int64_t body_id,
			int (*fn)(const char *alias, void *arg), void *arg,
			struct error *err);

/*
 * Bodies whose alias normalises to the same form as name: fills ids (up to
 * max) and returns how many matched (may exceed max), or a negative error.
 */
int registry_match_name(struct db *db, const char *name, int64_t *ids,
			int max, struct error *err);

enum registry_contact_status {
	CONTACT_ACTIVE,
	CONTACT_DISABLED,
	CONTACT_BOUNCING,
	CONTACT_SUPPRESSED,
};
const char *registry_contact_status_name(enum registry_contact_status s);
int registry_contact_status_parse(const char *name,
				  enum registry_contact_status *out);

struct registry_contact {
	int64_t id;
	int64_t body_id;
	char *email;
	char *name;     /* NULL when none */
	char *role;     /* NULL when none */
	char *language; /* NULL when none */
	enum registry_contact_status status;
	char *status_reason; /* NULL when none */
	char *notes;         /* NULL when none; may hold line breaks */
};
void registry_contact_release(struct registry_contact *c);

/* Adds an active contact after address_check, storing the address in its
 * canonical form (address_canonical); duplicates are ERR_DATA. */
int registry_contact_add(struct db *db, int64_t body_id, const char *email,
			 const char *name, const char *role,
			 const char *language, int64_t *id_out,
			 struct error *err);
/* Finds a live contact by e-mail (optionally within one body; 0 = any),
 * either spelling of an IDN domain. */
int registry_contact_find(struct db *db, int64_t body_id, const char *email,
			  struct registry_contact *out, struct error *err);
/* The contact of that body and e-mail removed last (ERR_NOTFOUND when
 * none was), for callers that must not bring one back unasked. */
int registry_contact_find_removed(struct db *db, int64_t body_id,
				  const char *email,
				  struct registry_contact *out,
				  struct error *err);
int registry_contact_get(struct db *db, int64_t id,
			 struct registry_contact *out, struct error *err);
/* Sets the status with a reason, appending the matching ledger event. */
int registry_contact_set_status(struct db *db, int64_t id,
				enum registry_contact_status status,
				const char *reason, struct error *err);
int registry_contact_remove(struct db *db, int64_t id, struct error *err);

/* The new values of a contact edit: NULL keeps a field, "" clears an
 * optional one (email cannot be cleared). */
struct registry_contact_edit {
	const char *email;
	const char *name;
	const char *role;
	const char *language;
	const char *notes;
};

/*
 * Changes a live contact in place: the row (and so its id, deliveries and
 * history) stays. The address is checked and made canonical as by
 * registry_contact_add and may not be one another live contact of the same
 * body has (ERR_DATA). Appends one contact.changed event whose data holds
 * {"contact": the address before, "field": {"from": old, "to": new}, ...}
 * for each changed field; *changed
 * gets how many fields changed (0: nothing changed, nothing recorded).
 */
int registry_contact_update(struct db *db, int64_t id,
			    const struct registry_contact_edit *edit,
			    int *changed, struct error *err);

/*
 * Finds the one live contact with that address; when body_id is 0 and
 * more than one body has it, ERR_DATA naming how many (use a body).
 */
int registry_contact_find_one(struct db *db, int64_t body_id,
			      const char *email, struct registry_contact *out,
			      struct error *err);

/* Texts collected by a merge: owned by the struct. */
struct registry_strings {
	char **v;
	size_t n;
};

/* What a merge moved (or, on a dry run, would move). */
struct registry_merge {
	struct registry_strings aliases;        /* new aliases of KEEP */
	struct registry_strings contacts;       /* moved to KEEP */
	struct registry_strings contacts_kept;  /* KEEP already had them */
	struct registry_strings status_kept;    /* "email: status" taken over */
	struct registry_strings lists;          /* memberships moved */
	struct registry_strings lists_already;  /* KEEP was already a member */
};
void registry_merge_release(struct registry_merge *m);

/*
 * Merges body drop into body keep: drop's aliases, its name and acronym
 * become aliases of keep; its live contacts move to keep (same rows), but
 * one whose address keep already has is not duplicated: it is removed with
 * drop, and when it was sending less (disabled, bouncing, suppressed) keep's
 * contact takes that status, so no decision is undone; drop's static list
 * entries become keep's at the same position (or go, where keep is already
 * a member). drop is then marked removed and merged_into keep, never
 * deleted: past deliveries and events still name it. One body.merged event
 * records both ids and what moved. With dry_run everything is rolled back
 * and *out says what would have moved. Refused (ERR_DATA): a body into
 * itself, a removed body.
 */
int registry_body_merge(struct db *db, int64_t keep, int64_t drop,
			bool dry_run, struct registry_merge *out,
			struct error *err);

/* One text the registry can be searched by (registry_search_each). */
struct registry_text {
	const char *kind;  /* "body", "alias" or "contact" */
	const char *field; /* acronym, name, alias, email, role */
	int64_t body_id;
	const char *body_acronym; /* NULL when none */
	const char *body_name;
	int64_t contact_id; /* 0 for body and alias texts */
	const char *text;
};

/* Calls fn for each searchable text of live bodies: acronyms, names,
 * aliases (except those equal to the body's name or acronym) and live
 * contacts' emails, names and roles. */
int registry_search_each(struct db *db,
			 int (*fn)(const struct registry_text *t, void *arg),
			 void *arg, struct error *err);
/* Every live contact of a body (body_id 0: of every live body). */
typedef int (*registry_contact_fn)(const struct registry_contact *c,
				   void *arg);
int registry_contact_each(struct db *db, int64_t body_id,
			  registry_contact_fn fn, void *arg,
			  struct error *err);


/*
 * Fill a struct from the current row of a query whose columns are, in
 * order: id, acronym, name, kind, country, notes, created_at, removed_at
 * [, merged_into] (bodies) or id, body_id, email, name, role, language,
 * status, status_reason [, notes] (contacts); the bracketed column is read
 * when the query has it. For modules whose queries return bodies or
 * contacts (lists, reports), so that the row shape is read in one place.
 */
void registry_body_from_row(sqlite3_stmt *st, struct registry_body *b);
void registry_contact_from_row(sqlite3_stmt *st, struct registry_contact *c);

/* Steps a prepared, bound query of that row shape and calls fn for each
 * row; a non-zero return from fn stops (the statement is reset) and is
 * returned. */
int registry_body_rows(struct db *db, sqlite3_stmt *st, registry_body_fn fn,
		       void *arg, struct error *err);
int registry_contact_rows(struct db *db, sqlite3_stmt *st,
			  registry_contact_fn fn, void *arg, struct error *err);

#endif
