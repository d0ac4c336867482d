/*
 * registry: bodies, aliases and contacts. Every change that affects who
 * receives a statement appends a ledger event inside the same
 * transaction, so the audit and the registry can never disagree.
 *
 * It is one file above 1,000 lines because bodies, aliases and contacts
 * share its prepared statements and checks, and a merge moves rows of all
 * three inside one transaction with them.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/address.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/list.h"
#include "chancery/locale_names.h"
#include "chancery/names.h"
#include "chancery/registry.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

enum {
	ST_BODY_INSERT,
	ST_BODY_BY_ID,
	ST_BODY_BY_ACRONYM,
	ST_BODY_BY_NAME,
	ST_BODY_BY_ALIAS,
	ST_BODY_UPDATE,
	ST_BODY_REMOVE,
	ST_BODY_EACH,
	ST_ALIAS_INSERT,
	ST_ALIAS_EACH,
	ST_CONTACT_INSERT,
	ST_CONTACT_BY_ID,
	ST_CONTACT_BY_EMAIL,
	ST_CONTACT_BY_EMAIL_ANY,
	ST_CONTACT_SET_STATUS,
	ST_CONTACT_REMOVED_BY_EMAIL,
	ST_CONTACT_REMOVE,
	ST_CONTACT_REMOVE_OF_BODY,
	ST_CONTACT_EACH,
	ST_CONTACT_EACH_ALL,
	ST_CONTACT_UPDATE,
	ST_CONTACT_COUNT_EMAIL,
	ST_CONTACT_MOVE,
	ST_BODY_MERGED,
	ST_ALIAS_EACH_SOURCE,
	ST_SEARCH,
	ST_BODY_SET_LANGUAGE,
	ST__COUNT
};

#define BODY_COLUMNS \
	"id, acronym, name, kind, country, notes, created_at, " \
	"coalesce(removed_at, 0), coalesce(merged_into, 0), language"
#define CONTACT_COLUMNS \
	"id, body_id, email, name, role, language, status, status_reason, " \
	"notes"

static const char *const registry_sql[ST__COUNT] = {
	[ST_BODY_INSERT] = "INSERT INTO bodies (acronym, name, kind, country, "
			   "notes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_BODY_BY_ID] = "SELECT " BODY_COLUMNS " FROM bodies WHERE id = ?1",
	[ST_BODY_BY_ACRONYM] = "SELECT " BODY_COLUMNS " FROM bodies WHERE "
			       "acronym = ?1 COLLATE NOCASE AND "
			       "removed_at IS NULL",
	[ST_BODY_BY_NAME] = "SELECT " BODY_COLUMNS " FROM bodies WHERE "
			    "name = ?1 COLLATE NOCASE AND removed_at IS NULL",
	[ST_BODY_BY_ALIAS] = "SELECT DISTINCT b.id, b.acronym, b.name FROM "
			     "aliases a JOIN bodies b ON b.id = a.body_id "
			     "WHERE a.norm = ?1 AND b.removed_at IS NULL "
			     "ORDER BY b.id",
	[ST_BODY_UPDATE] = "UPDATE bodies SET acronym = ?2, name = ?3, "
			   "kind = ?4, country = ?5, notes = ?6 WHERE id = ?1",
	[ST_BODY_REMOVE] = "UPDATE bodies SET removed_at = ?2 WHERE id = ?1 "
			   "AND removed_at IS NULL",
	[ST_BODY_EACH] = "SELECT " BODY_COLUMNS " FROM bodies WHERE "
			 "removed_at IS NULL AND (?1 IS NULL OR kind = ?1) "
			 "ORDER BY acronym IS NULL, acronym COLLATE NOCASE, "
			 "name COLLATE NOCASE",
	[ST_ALIAS_INSERT] = "INSERT OR IGNORE INTO aliases (body_id, alias, "
			    "norm, source, created_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_ALIAS_EACH] = "SELECT alias FROM aliases WHERE body_id = ?1 "
			  "ORDER BY id",
	[ST_CONTACT_INSERT] = "INSERT INTO contacts (body_id, email, name, "
			      "role, language, created_at, updated_at) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
	[ST_CONTACT_BY_ID] = "SELECT " CONTACT_COLUMNS " FROM contacts "
			     "WHERE id = ?1",
	[ST_CONTACT_BY_EMAIL] = "SELECT " CONTACT_COLUMNS " FROM contacts "
				"WHERE body_id = ?1 AND email = ?2 COLLATE "
				"NOCASE AND removed_at IS NULL",
	[ST_CONTACT_BY_EMAIL_ANY] = "SELECT " CONTACT_COLUMNS " FROM contacts "
				    "WHERE email = ?1 COLLATE NOCASE AND "
				    "removed_at IS NULL ORDER BY id",
	[ST_CONTACT_SET_STATUS] = "UPDATE contacts SET status = ?2, "
				  "status_reason = ?3, updated_at = ?4 "
				  "WHERE id = ?1",
	[ST_CONTACT_REMOVED_BY_EMAIL] = "SELECT " CONTACT_COLUMNS " FROM "
					"contacts WHERE body_id = ?1 AND "
					"email = ?2 COLLATE NOCASE AND "
					"removed_at IS NOT NULL "
					"ORDER BY removed_at DESC, id DESC "
					"LIMIT 1",
	[ST_CONTACT_REMOVE] = "UPDATE contacts SET removed_at = ?2, "
			      "updated_at = ?2 WHERE id = ?1 AND "
			      "removed_at IS NULL",
	[ST_CONTACT_REMOVE_OF_BODY] = "UPDATE contacts SET removed_at = ?2, "
				      "updated_at = ?2 WHERE body_id = ?1 AND "
				      "removed_at IS NULL",
	[ST_CONTACT_EACH] = "SELECT " CONTACT_COLUMNS " FROM contacts WHERE "
			    "body_id = ?1 AND removed_at IS NULL ORDER BY id",
	[ST_CONTACT_EACH_ALL] = "SELECT c.id, c.body_id, c.email, c.name, "
				"c.role, c.language, c.status, "
				"c.status_reason, c.notes FROM contacts c "
				"JOIN bodies b "
				"ON b.id = c.body_id WHERE c.removed_at IS "
				"NULL AND b.removed_at IS NULL "
				"ORDER BY b.acronym IS NULL, b.acronym COLLATE "
				"NOCASE, b.name COLLATE NOCASE, c.id",
	[ST_CONTACT_UPDATE] = "UPDATE contacts SET email = ?2, name = ?3, "
			      "role = ?4, language = ?5, notes = ?6, "
			      "updated_at = ?7 WHERE id = ?1",
	[ST_CONTACT_COUNT_EMAIL] = "SELECT count(*) FROM contacts WHERE "
				   "email = ?1 COLLATE NOCASE AND "
				   "removed_at IS NULL",
	[ST_CONTACT_MOVE] = "UPDATE contacts SET body_id = ?2, "
			    "updated_at = ?3 WHERE id = ?1",
	[ST_BODY_MERGED] = "UPDATE bodies SET removed_at = ?2, "
			   "merged_into = ?3 WHERE id = ?1 AND "
			   "removed_at IS NULL",
	[ST_BODY_SET_LANGUAGE] = "UPDATE bodies SET language = ?2 WHERE id = ?1",
	[ST_ALIAS_EACH_SOURCE] = "SELECT alias, source FROM aliases WHERE "
				 "body_id = ?1 ORDER BY id",
	/* kind, field, body id, acronym, name, contact id, text */
	[ST_SEARCH] =
		"SELECT 'body', 'acronym', id, acronym, name, 0, acronym "
		"FROM bodies WHERE removed_at IS NULL AND acronym IS NOT NULL "
		"UNION ALL SELECT 'body', 'name', id, acronym, name, 0, name "
		"FROM bodies WHERE removed_at IS NULL "
		"UNION ALL SELECT 'alias', 'alias', b.id, b.acronym, b.name, 0, "
		"a.alias FROM aliases a JOIN bodies b ON b.id = a.body_id "
		"WHERE b.removed_at IS NULL AND a.alias <> b.name COLLATE "
		"NOCASE AND a.alias <> coalesce(b.acronym, '') COLLATE NOCASE "
		"UNION ALL SELECT 'contact', f.field, b.id, b.acronym, b.name, "
		"c.id, CASE f.field WHEN 'email' THEN c.email WHEN 'name' "
		"THEN c.name ELSE c.role END FROM contacts c "
		"JOIN bodies b ON b.id = c.body_id "
		"JOIN (SELECT 'email' AS field UNION ALL SELECT 'name' "
		"UNION ALL SELECT 'role') f "
		"WHERE c.removed_at IS NULL AND b.removed_at IS NULL",
};

static const struct db_statements registry_statements = {
	"registry", registry_sql, ST__COUNT};

const char *const registry_kinds[] = {
	"un-organ",  "un-agency", "regional-org",    "ombudsman-assoc",
	"nhri",      "ombudsman", "embassy",         "foreign-mission",
	"diaspora-org", "ngo",    "other",           NULL,
};

static const char *const status_names[] = {
	[CONTACT_ACTIVE] = "active",
	[CONTACT_DISABLED] = "disabled",
	[CONTACT_BOUNCING] = "bouncing",
	[CONTACT_SUPPRESSED] = "suppressed",
};

bool registry_country_valid(const char *country)
{
	return country && strlen(country) == 2 &&
	       isupper((unsigned char)country[0]) &&
	       isupper((unsigned char)country[1]);
}

bool registry_kind_valid(const char *kind)
{
	for (const char *const *k = registry_kinds; kind && *k; k++)
		if (strcmp(*k, kind) == 0)
			return true;
	return false;
}

const char *registry_contact_status_name(enum registry_contact_status s)
{
	if ((unsigned)s > CONTACT_SUPPRESSED)
		return "?";
	return status_names[s];
}

int registry_contact_status_parse(const char *name,
				  enum registry_contact_status *out)
{
	for (unsigned i = 0; i <= CONTACT_SUPPRESSED; i++) {
		if (name && strcmp(name, status_names[i]) == 0) {
			*out = (enum registry_contact_status)i;
			return 0;
		}
	}
	return -1;
}

void registry_body_release(struct registry_body *b)
{
	if (!b)
		return;
	free(b->acronym);
	free(b->name);
	free(b->kind);
	free(b->country);
	free(b->notes);
	free(b->language);
	memset(b, 0, sizeof(*b));
}

void registry_contact_release(struct registry_contact *c)
{
	if (!c)
		return;
	free(c->email);
	free(c->name);
	free(c->role);
	free(c->language);
	free(c->status_reason);
	free(c->notes);
	memset(c, 0, sizeof(*c));
}

static int prepare(struct db *db, int index, sqlite3_stmt **st,
		   struct error *err)
{
	return db_prepare(db, &registry_statements, index, st, err);
}

/* An empty string means "none" on the command line and in CSV files. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

void registry_body_from_row(sqlite3_stmt *st, struct registry_body *b)
{
	b->id = sqlite3_column_int64(st, 0);
	b->acronym = db_column_strdup(st, 1);
	b->name = db_column_strdup(st, 2);
	b->kind = db_column_strdup(st, 3);
	b->country = db_column_strdup(st, 4);
	b->notes = db_column_strdup(st, 5);
	b->created_at = sqlite3_column_int64(st, 6);
	b->removed_at = sqlite3_column_int64(st, 7);
	b->merged_into = sqlite3_column_count(st) > 8
				 ? sqlite3_column_int64(st, 8) : 0;
	b->language = sqlite3_column_count(st) > 9
			      ? db_column_strdup(st, 9) : NULL;
}

void registry_contact_from_row(sqlite3_stmt *st,
			       struct registry_contact *c)
{
	c->id = sqlite3_column_int64(st, 0);
	c->body_id = sqlite3_column_int64(st, 1);
	c->email = db_column_strdup(st, 2);
	c->name = db_column_strdup(st, 3);
	c->role = db_column_strdup(st, 4);
	c->language = db_column_strdup(st, 5);
	if (registry_contact_status_parse(db_column_text(st, 6), &c->status))
		c->status = CONTACT_DISABLED;
	c->status_reason = db_column_strdup(st, 7);
	c->notes = sqlite3_column_count(st) > 8 ? db_column_strdup(st, 8)
						: NULL;
}

/* Appends one registry event whose data is {"k1": v1, ...} (NULL-ended
 * key/value pairs; a NULL value is written as null). */
static int registry_event(struct db *db, enum ledger_kind kind,
			  int64_t body_id, int64_t contact_id,
			  struct error *err, ...)
{
	struct ledger_event ev = {.kind = kind, .body_id = body_id,
				  .contact_id = contact_id};
	va_list ap;
	int rc;

	va_start(ap, err);
	rc = ledger_append_vfields(db, &ev, err, ap);
	va_end(ap);
	return rc;
}

/*
 * Notes are free text: any UTF-8, line breaks (LF) and tabs included, but
 * no other control character: they would act on a terminal, and a CR
 * would not come back unchanged through a CSV round trip.
 */
static int check_notes(const char *what, const char *notes,
		       struct error *err)
{
	if (!notes)
		return 0;
	if (!utf8_valid(notes, strlen(notes), NULL))
		return error_set(err, ERR_DATA, "%s are not valid UTF-8", what);
	if (utf8_has_control_in_lines(notes))
		return error_set(err, ERR_DATA, "%s hold a control character "
				 "(only line breaks (LF) and tabs are kept)",
				 what);
	return 0;
}

/*
 * A contact's language as ICU writes its tag ("fr", "fr-CH"), from a tag
 * in any case or an English name ("French"); *out NULL when none given,
 * "" when it is to be cleared. Caller frees *out.
 */
static int contact_language(const char *given, char **out,
			    struct error *err)
{
	*out = NULL;
	if (!given)
		return 0;
	if (!*given) {
		*out = xstrdup("");
		return 0;
	}
	*out = locale_language_parse(given);
	if (!*out)
		return error_set(err, ERR_DATA, "contact language '%s' is not "
				 "a language (a BCP 47 tag like 'fr' or an "
				 "English name like 'French')", given);
	return 0;
}

static int check_body_fields(const char *name, const char *kind,
			     const char *acronym, const char *country,
			     struct error *err)
{
	int rc;

	if (!name || !*name)
		return error_set(err, ERR_DATA, "body name is empty");
	/* The name goes into Subject: and To: headers through templates. */
	if ((rc = utf8_check_text("body name", name, err)) ||
	    (rc = utf8_check_text("acronym", acronym, err)))
		return rc;
	if (!registry_kind_valid(kind))
		return error_set(err, ERR_DATA,
				 "unknown body kind '%s' (one of: un-organ, "
				 "un-agency, regional-org, ombudsman-assoc, "
				 "nhri, ombudsman, embassy, foreign-mission, "
				 "diaspora-org, ngo, other)",
				 kind ? kind : "");
	if (country && *country && !registry_country_valid(country))
		return error_set(err, ERR_DATA,
				 "country '%s' is not an ISO 3166 two-letter "
				 "code (such as AZ or FR)",
				 country);
	if (acronym && strpbrk(acronym, " \t\r\n#|"))
		return error_set(err, ERR_DATA,
				 "acronym '%s' holds a space, '#' or '|'",
				 acronym);
	/* '|' separates a body's aliases in the CSV form of the registry */
	if (strchr(name, '|'))
		return error_set(err, ERR_DATA, "body name '%s' holds '|' "
				 "(it separates aliases in the CSV form)",
				 name);
	return 0;
}

/* Refuses an acronym or name a live body other than self already has. */
static int check_unique(struct db *db, int64_t self, const char *acronym,
			const char *name, struct error *err)
{
	struct registry_body other = {0};
	sqlite3_stmt *st;
	int rc;

	if (acronym) {
		if ((rc = prepare(db, ST_BODY_BY_ACRONYM, &st, err)))
			return rc;
		db_bind_text(st, 1, acronym);
		rc = db_step(db, st, err);
		if (rc == 1 && sqlite3_column_int64(st, 0) != self) {
			registry_body_from_row(st, &other);
			sqlite3_reset(st);
			rc = error_set(err, ERR_DATA,
				       "acronym '%s' is already used by '%s'",
				       acronym, other.name);
			registry_body_release(&other);
			return rc;
		}
		sqlite3_reset(st);
		if (rc < 0)
			return rc;
	}
	if ((rc = prepare(db, ST_BODY_BY_NAME, &st, err)))
		return rc;
	db_bind_text(st, 1, name);
	rc = db_step(db, st, err);
	if (rc == 1 && sqlite3_column_int64(st, 0) != self)
		rc = error_set(err, ERR_DATA,
			       "a body named '%s' already exists (#%lld)", name,
			       (long long)sqlite3_column_int64(st, 0));
	else if (rc == 1)
		rc = 0;
	sqlite3_reset(st);
	return rc;
}

static int insert_body(struct db *db, const char *acronym, const char *name,
		       const char *kind, const char *country,
		       const char *notes, int64_t *id, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_BODY_INSERT, &st, err)))
		return rc;
	db_bind_text(st, 1, acronym);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, kind);
	db_bind_text(st, 4, country);
	db_bind_text(st, 5, notes);
	sqlite3_bind_int64(st, 6, clock_now());
	if ((rc = db_step_done(db, st, err)))
		return rc;
	*id = db_last_id(db);
	return 0;
}

int registry_body_add(struct db *db, const char *acronym, const char *name,
		      const char *kind, const char *country, const char *notes,
		      int64_t *id_out, struct error *err)
{
	int64_t id = 0;
	int rc;

	acronym = nonempty(acronym);
	if ((rc = check_body_fields(name, kind, acronym, country, err)) ||
	    (rc = check_notes("body notes", notes, err)))
		return rc;
	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = check_unique(db, 0, acronym, name, err)) ||
	    (rc = insert_body(db, acronym, name, kind, nonempty(country),
			      nonempty(notes), &id, err)) ||
	    (rc = registry_alias_add(db, id, name, "name", err)) ||
	    (acronym &&
	     (rc = registry_alias_add(db, id, acronym, "acronym", err))) ||
	    (rc = registry_event(db, LEDGER_BODY_ADDED, id, 0, err, "acronym",
				 acronym, "name", name, "kind", kind, NULL)) ||
	    (rc = db_commit(db, err))) {
		db_rollback(db);
		return rc;
	}
	if (id_out)
		*id_out = id;
	return 0;
}

static int body_by(struct db *db, int index, const char *key, int64_t id,
		   struct registry_body *out, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, index, &st, err)))
		return rc;
	if (key)
		db_bind_text(st, 1, key);
	else
		sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc == 1)
		registry_body_from_row(st, out);
	sqlite3_reset(st);
	return rc;
}

int registry_body_get(struct db *db, int64_t id, struct registry_body *out,
		      struct error *err)
{
	int rc = body_by(db, ST_BODY_BY_ID, NULL, id, out, err);

	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no body #%lld",
				 (long long)id);
	return rc < 0 ? rc : 0;
}

/* "#12" names a body by id. */
static bool parse_id_key(const char *key, int64_t *id)
{
	char *end;

	if (key[0] != '#' || !key[1])
		return false;
	*id = strtoll(key + 1, &end, 10);
	return *end == '\0' && *id > 0;
}

static int find_by_alias(struct db *db, const char *key,
			 struct registry_body *out, struct error *err)
{
	int64_t ids[8];
	int n = registry_match_name(db, key, ids, 8, err);

	if (n < 0)
		return n;
	if (n == 0)
		return error_set(err, ERR_NOTFOUND, "no body '%s'", key);
	if (n == 1)
		return registry_body_get(db, ids[0], out, err);
	return error_set(err, ERR_DATA,
			 "'%s' names %d bodies; use the acronym or #id", key,
			 n);
}

int registry_body_find(struct db *db, const char *key,
		       struct registry_body *out, struct error *err)
{
	int64_t id;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!key || !*key)
		return error_set(err, ERR_USAGE, "empty body name");
	if (parse_id_key(key, &id)) {
		rc = registry_body_get(db, id, out, err);
		if (rc == 0 && out->removed_at) {
			registry_body_release(out);
			return error_set(err, ERR_NOTFOUND,
					 "body %s was removed", key);
		}
		return rc;
	}
	rc = body_by(db, ST_BODY_BY_ACRONYM, key, 0, out, err);
	if (rc == 0)
		rc = body_by(db, ST_BODY_BY_NAME, key, 0, out, err);
	if (rc == 0)
		return find_by_alias(db, key, out, err);
	return rc < 0 ? rc : 0;
}

int registry_match_name(struct db *db, const char *name, int64_t *ids,
			int max, struct error *err)
{
	char *norm = names_normalise(name);
	sqlite3_stmt *st;
	int rc, n = 0;

	if ((rc = prepare(db, ST_BODY_BY_ALIAS, &st, err)))
		goto out;
	db_bind_text(st, 1, norm);
	while ((rc = db_step(db, st, err)) == 1) {
		if (n < max)
			ids[n] = sqlite3_column_int64(st, 0);
		n++;
	}
	if (rc == 0)
		rc = n;
out:
	free(norm);
	return rc;
}

int registry_body_update(struct db *db, int64_t id, const char *acronym,
			 const char *name, const char *kind,
			 const char *country, const char *notes,
			 struct error *err)
{
	struct registry_body b = {0};
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = registry_body_get(db, id, &b, err)))
		goto out;
	acronym = acronym ? nonempty(acronym) : b.acronym;
	name = name ? name : b.name;
	kind = kind ? kind : b.kind;
	country = country ? nonempty(country) : b.country;
	notes = notes ? nonempty(notes) : b.notes;
	if ((rc = check_body_fields(name, kind, acronym, country, err)) ||
	    (rc = check_notes("body notes", notes, err)) ||
	    (rc = check_unique(db, id, acronym, name, err)) ||
	    (rc = prepare(db, ST_BODY_UPDATE, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, acronym);
	db_bind_text(st, 3, name);
	db_bind_text(st, 4, kind);
	db_bind_text(st, 5, country);
	db_bind_text(st, 6, notes);
	if ((rc = db_step_done(db, st, err)) ||
	    (rc = registry_alias_add(db, id, name, "name", err)) ||
	    (acronym &&
	     (rc = registry_alias_add(db, id, acronym, "acronym", err))) ||
	    (rc = registry_event(db, LEDGER_BODY_CHANGED, id, 0, err,
				 "acronym", acronym, "name", name, "kind",
				 kind, "country", country, NULL)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	registry_body_release(&b);
	return rc;
}

int registry_body_set_language(struct db *db, int64_t id, const char *lang,
			       struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = prepare(db, ST_BODY_SET_LANGUAGE, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, lang);
	if ((rc = db_step_done(db, st, err)) ||
	    (rc = registry_event(db, LEDGER_BODY_CHANGED, id, 0, err,
				 "language", lang, NULL)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	return rc;
}

int registry_body_remove(struct db *db, int64_t id, struct error *err)
{
	sqlite3_stmt *st;
	int64_t now = clock_now();
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = prepare(db, ST_BODY_REMOVE, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = db_step_done(db, st, err)))
		goto out;
	if (db_changes(db) == 0) {
		rc = error_set(err, ERR_NOTFOUND, "no live body #%lld",
			       (long long)id);
		goto out;
	}
	if ((rc = prepare(db, ST_CONTACT_REMOVE_OF_BODY, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if ((rc = db_step_done(db, st, err)) ||
	    (rc = registry_event(db, LEDGER_BODY_REMOVED, id, 0, err, NULL)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	return rc;
}

/* The caller's callback and its argument, for the row functions. */
struct body_each {
	registry_body_fn fn;
	void *arg;
};

struct contact_each {
	registry_contact_fn fn;
	void *arg;
};

struct alias_each {
	int (*fn)(const char *alias, void *arg);
	void *arg;
};

static int body_row(sqlite3_stmt *st, void *arg)
{
	const struct body_each *e = arg;
	struct registry_body b = {0};
	int rc;

	registry_body_from_row(st, &b);
	rc = e->fn(&b, e->arg);
	registry_body_release(&b);
	return rc;
}

static int contact_row(sqlite3_stmt *st, void *arg)
{
	const struct contact_each *e = arg;
	struct registry_contact c = {0};
	int rc;

	registry_contact_from_row(st, &c);
	rc = e->fn(&c, e->arg);
	registry_contact_release(&c);
	return rc;
}

static int alias_row(sqlite3_stmt *st, void *arg)
{
	const struct alias_each *e = arg;

	return e->fn(db_column_text(st, 0), e->arg);
}

int registry_body_rows(struct db *db, sqlite3_stmt *st, registry_body_fn fn,
		       void *arg, struct error *err)
{
	struct body_each e = {fn, arg};

	return db_each_row(db, st, body_row, &e, err);
}

int registry_contact_rows(struct db *db, sqlite3_stmt *st,
			  registry_contact_fn fn, void *arg, struct error *err)
{
	struct contact_each e = {fn, arg};

	return db_each_row(db, st, contact_row, &e, err);
}

int registry_body_each(struct db *db, const char *kind_filter,
		       registry_body_fn fn, void *arg, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_BODY_EACH, &st, err)))
		return rc;
	db_bind_text(st, 1, kind_filter);
	return registry_body_rows(db, st, fn, arg, err);
}

/* Inserts an alias unless the body has one of that normal form; *added
 * says whether it did. No ledger event. */
static int insert_alias(struct db *db, int64_t body_id, const char *alias,
			const char *source, bool *added, struct error *err)
{
	char *norm;
	sqlite3_stmt *st;
	int rc;

	*added = false;
	if (!alias || !*alias)
		return error_set(err, ERR_DATA, "empty alias");
	norm = names_normalise(alias);
	if (!*norm) {
		rc = error_set(err, ERR_DATA, "alias '%s' has no letters",
			       alias);
		goto out;
	}
	if ((rc = prepare(db, ST_ALIAS_INSERT, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, body_id);
	db_bind_text(st, 2, alias);
	db_bind_text(st, 3, norm);
	db_bind_text(st, 4, source ? source : "manual");
	sqlite3_bind_int64(st, 5, clock_now());
	if ((rc = db_step_done(db, st, err)))
		goto out;
	*added = db_changes(db) > 0;
out:
	free(norm);
	return rc;
}

int registry_alias_add(struct db *db, int64_t body_id, const char *alias,
		       const char *source, struct error *err)
{
	bool added;
	int rc = insert_alias(db, body_id, alias, source, &added, err);

	/* The name and acronym are recorded by body.added itself. */
	if (!rc && added && source && strcmp(source, "name") != 0 &&
	    strcmp(source, "acronym") != 0)
		rc = registry_event(db, LEDGER_ALIAS_ADDED, body_id, 0, err,
				    "alias", alias, "source", source, NULL);
	return rc;
}

int registry_alias_each(struct db *db, int64_t body_id,
			int (*fn)(const char *alias, void *arg), void *arg,
			struct error *err)
{
	struct alias_each e = {fn, arg};
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_ALIAS_EACH, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, body_id);
	return db_each_row(db, st, alias_row, &e, err);
}

static int insert_contact(struct db *db, int64_t body_id, const char *email,
			  const char *name, const char *role,
			  const char *language, int64_t *id,
			  struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_CONTACT_INSERT, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, body_id);
	db_bind_text(st, 2, email);
	db_bind_text(st, 3, nonempty(name));
	db_bind_text(st, 4, nonempty(role));
	db_bind_text(st, 5, nonempty(language));
	sqlite3_bind_int64(st, 6, clock_now());
	if ((rc = db_step_done(db, st, err)))
		return rc;
	*id = db_last_id(db);
	return 0;
}

/* A display name goes into a To: header. */
static int check_contact_text(const char *what, const char *s,
			      struct error *err)
{
	char label[32];

	snprintf(label, sizeof(label), "contact %s", what);
	return utf8_check_text(label, s, err);
}

int registry_contact_add(struct db *db, int64_t body_id, const char *email,
			 const char *name, const char *role,
			 const char *language, int64_t *id_out,
			 struct error *err)
{
	struct registry_body b = {0};
	struct registry_contact dup = {0};
	char *canon = NULL, *lang = NULL;
	int64_t id = 0;
	int rc;

	if ((rc = address_canonical(email, &canon, err)))
		return rc;
	email = canon;
	if ((rc = check_contact_text("name", name, err)) ||
	    (rc = check_contact_text("role", role, err)) ||
	    (rc = contact_language(language, &lang, err)))
		goto done;
	language = lang;
	if ((rc = db_begin(db, err)))
		goto done;
	if ((rc = registry_body_get(db, body_id, &b, err)))
		goto out;
	if (b.removed_at) {
		rc = error_set(err, ERR_DATA, "body '%s' was removed", b.name);
		goto out;
	}
	rc = registry_contact_find(db, body_id, email, &dup, err);
	if (rc == 0) {
		rc = error_set(err, ERR_DATA, "%s is already a contact of %s",
			       email, b.acronym ? b.acronym : b.name);
		goto out;
	}
	if (rc != ERR_NOTFOUND)
		goto out;
	if ((rc = insert_contact(db, body_id, email, name, role, language,
				 &id, err)) ||
	    (rc = registry_event(db, LEDGER_CONTACT_ADDED, body_id, id, err,
				 "email", email, "name", nonempty(name),
				 "role", nonempty(role), NULL)))
		goto out;
	rc = db_commit(db, err);
	if (rc == 0 && id_out)
		*id_out = id;
out:
	if (rc)
		db_rollback(db);
	registry_body_release(&b);
	registry_contact_release(&dup);
done:
	free(lang);
	free(canon);
	return rc;
}

static int contact_by(struct db *db, sqlite3_stmt *st,
		      struct registry_contact *out, const char *what,
		      struct error *err)
{
	int rc = db_step(db, st, err);

	if (rc == 1)
		registry_contact_from_row(st, out);
	sqlite3_reset(st);
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no contact %s", what);
	return rc < 0 ? rc : 0;
}

static int contact_find_as(struct db *db, int64_t body_id,
			   const char *email, struct registry_contact *out,
			   struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = prepare(db, body_id ? ST_CONTACT_BY_EMAIL : ST_CONTACT_BY_EMAIL_ANY,
		     &st, err);
	if (rc)
		return rc;
	if (body_id) {
		sqlite3_bind_int64(st, 1, body_id);
		db_bind_text(st, 2, email);
	} else {
		db_bind_text(st, 1, email);
	}
	return contact_by(db, st, out, email, err);
}

int registry_contact_find_removed(struct db *db, int64_t body_id,
				  const char *email,
				  struct registry_contact *out,
				  struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prepare(db, ST_CONTACT_REMOVED_BY_EMAIL, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, body_id);
	db_bind_text(st, 2, email);
	return contact_by(db, st, out, email, err);
}

/* Looked up in the canonical form (either spelling of an IDN finds it),
 * then as given (a row stored before addresses were made canonical). */
int registry_contact_find(struct db *db, int64_t body_id, const char *email,
			  struct registry_contact *out, struct error *err)
{
	char *canon = NULL;
	int rc = ERR_NOTFOUND;

	if (email && address_canonical(email, &canon, NULL) == 0 &&
	    strcmp(canon, email) != 0)
		rc = contact_find_as(db, body_id, canon, out, err);
	if (rc == ERR_NOTFOUND)
		rc = contact_find_as(db, body_id, email, out, err);
	free(canon);
	return rc;
}

int registry_contact_get(struct db *db, int64_t id,
			 struct registry_contact *out, struct error *err)
{
	char what[32];
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prepare(db, ST_CONTACT_BY_ID, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	snprintf(what, sizeof(what), "#%lld", (long long)id);
	return contact_by(db, st, out, what, err);
}

static enum ledger_kind status_event(enum registry_contact_status s)
{
	switch (s) {
	case CONTACT_ACTIVE:
		return LEDGER_CONTACT_ENABLED;
	case CONTACT_BOUNCING:
		return LEDGER_CONTACT_BOUNCING;
	default:
		return LEDGER_CONTACT_DISABLED;
	}
}

int registry_contact_set_status(struct db *db, int64_t id,
				enum registry_contact_status status,
				const char *reason, struct error *err)
{
	struct registry_contact c = {0};
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = registry_contact_get(db, id, &c, err)))
		goto out;
	if (c.status == status) /* nothing changes, nothing is recorded */
		goto commit;
	if ((rc = prepare(db, ST_CONTACT_SET_STATUS, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, registry_contact_status_name(status));
	db_bind_text(st, 3, status == CONTACT_ACTIVE ? NULL : nonempty(reason));
	sqlite3_bind_int64(st, 4, clock_now());
	if ((rc = db_step_done(db, st, err)) ||
	    (rc = registry_event(db, status_event(status), c.body_id, id, err,
				 "email", c.email, "status",
				 registry_contact_status_name(status),
				 "reason", nonempty(reason), NULL)))
		goto out;
commit:
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	registry_contact_release(&c);
	return rc;
}

int registry_contact_remove(struct db *db, int64_t id, struct error *err)
{
	struct registry_contact c = {0};
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = registry_contact_get(db, id, &c, err)) ||
	    (rc = prepare(db, ST_CONTACT_REMOVE, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, clock_now());
	if ((rc = db_step_done(db, st, err)))
		goto out;
	if (db_changes(db) == 0) {
		rc = error_set(err, ERR_NOTFOUND, "contact %s was removed",
			       c.email);
		goto out;
	}
	if ((rc = registry_event(db, LEDGER_CONTACT_REMOVED, c.body_id, id,
				 err, "email", c.email, NULL)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	registry_contact_release(&c);
	return rc;
}

int registry_contact_each(struct db *db, int64_t body_id,
			  registry_contact_fn fn, void *arg,
			  struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	rc = prepare(db, body_id ? ST_CONTACT_EACH : ST_CONTACT_EACH_ALL, &st,
		     err);
	if (rc)
		return rc;
	if (body_id)
		sqlite3_bind_int64(st, 1, body_id);
	return registry_contact_rows(db, st, fn, arg, err);
}

int registry_contact_find_one(struct db *db, int64_t body_id,
			      const char *email, struct registry_contact *out,
			      struct error *err)
{
	sqlite3_stmt *st;
	int rc = registry_contact_find(db, body_id, email, out, err);

	if (rc || body_id)
		return rc;
	if ((rc = prepare(db, ST_CONTACT_COUNT_EMAIL, &st, err)))
		goto out;
	db_bind_text(st, 1, out->email);
	rc = db_step(db, st, err);
	if (rc == 1 && sqlite3_column_int64(st, 0) > 1)
		rc = error_set(err, ERR_DATA,
			       "%s is a contact of %lld bodies; name one with "
			       "--body", out->email,
			       (long long)sqlite3_column_int64(st, 0));
	else if (rc == 1)
		rc = 0;
	sqlite3_reset(st);
out:
	if (rc)
		registry_contact_release(out);
	return rc;
}

/* Adds {"field": {"from": old, "to": new}} when the two differ. */
static bool note_change(struct ledger_entry *e, const char *field,
			const char *from, const char *to)
{
	if ((!from && !to) || (from && to && strcmp(from, to) == 0))
		return false;
	json_key(&e->js, field);
	json_object_begin(&e->js);
	json_kv_string(&e->js, "from", from);
	json_kv_string(&e->js, "to", to);
	json_object_end(&e->js);
	return true;
}

int registry_contact_update(struct db *db, int64_t id,
			    const struct registry_contact_edit *edit,
			    int *changed, struct error *err)
{
	struct registry_contact c = {0}, dup = {0};
	struct registry_body b = {0};
	struct ledger_entry e;
	const char *v[5];
	char *canon = NULL, *lang = NULL;
	sqlite3_stmt *st;
	int rc, n = 0;

	*changed = 0;
	ledger_entry_init(&e, LEDGER_CONTACT_CHANGED, 0, 0, 0, id);
	if (edit->email && (rc = address_canonical(edit->email, &canon, err)))
		goto done;
	if ((rc = check_contact_text("name", edit->name, err)) ||
	    (rc = check_contact_text("role", edit->role, err)) ||
	    (rc = contact_language(edit->language, &lang, err)) ||
	    (rc = check_notes("contact notes", edit->notes, err)))
		goto done;
	if ((rc = db_begin(db, err)))
		goto done;
	if ((rc = registry_contact_get(db, id, &c, err)) ||
	    (rc = registry_body_get(db, c.body_id, &b, err)))
		goto out;
	v[0] = canon ? canon : c.email;
	v[1] = edit->name ? nonempty(edit->name) : c.name;
	v[2] = edit->role ? nonempty(edit->role) : c.role;
	v[3] = lang ? nonempty(lang) : c.language;
	v[4] = edit->notes ? nonempty(edit->notes) : c.notes;
	if (canon) {
		rc = registry_contact_find(db, c.body_id, canon, &dup, err);
		if (rc == 0 && dup.id != id) {
			rc = error_set(err, ERR_DATA,
				       "%s is already a contact of %s", canon,
				       b.acronym ? b.acronym : b.name);
			goto out;
		}
		if (rc && rc != ERR_NOTFOUND)
			goto out;
		rc = 0;
	}
	/* The data names the address the contact had ("contact"), then
	 * each change. */
	ledger_entry_str(&e, "contact", c.email);
	n += note_change(&e, "email", c.email, v[0]);
	n += note_change(&e, "name", c.name, v[1]);
	n += note_change(&e, "role", c.role, v[2]);
	n += note_change(&e, "language", c.language, v[3]);
	n += note_change(&e, "notes", c.notes, v[4]);
	if (n == 0) /* nothing changes, nothing is recorded */
		goto commit;
	e.ev.body_id = c.body_id;
	if ((rc = prepare(db, ST_CONTACT_UPDATE, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	for (int i = 0; i < 5; i++)
		db_bind_text(st, i + 2, v[i]);
	sqlite3_bind_int64(st, 7, clock_now());
	if ((rc = db_step_done(db, st, err)) ||
	    (rc = ledger_entry_append(db, &e, NULL, err)))
		goto out;
commit:
	rc = db_commit(db, err);
	if (!rc)
		*changed = n;
out:
	if (rc)
		db_rollback(db);
done:
	ledger_entry_release(&e);
	registry_contact_release(&c);
	registry_contact_release(&dup);
	registry_body_release(&b);
	free(lang);
	free(canon);
	return rc;
}

static void strings_add(struct registry_strings *s, const char *text)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = xstrdup(text);
}

static void strings_release(struct registry_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void registry_merge_release(struct registry_merge *m)
{
	if (!m)
		return;
	strings_release(&m->aliases);
	strings_release(&m->contacts);
	strings_release(&m->contacts_kept);
	strings_release(&m->status_kept);
	strings_release(&m->lists);
	strings_release(&m->lists_already);
}

/* How much a status lets through: a merge keeps the least. */
static int status_openness(enum registry_contact_status s)
{
	switch (s) {
	case CONTACT_ACTIVE:
		return 3;
	case CONTACT_BOUNCING:
		return 2;
	case CONTACT_DISABLED:
		return 1;
	default:
		return 0;
	}
}

struct merge_ctx {
	struct db *db;
	int64_t keep, drop;
	struct registry_merge *m;
	struct registry_strings drop_aliases, drop_sources;
	struct registry_contact *contacts;
	size_t ncontacts;
	struct error *err;
};

static int collect_alias(sqlite3_stmt *st, void *arg)
{
	struct merge_ctx *x = arg;

	strings_add(&x->drop_aliases, db_column_text(st, 0));
	strings_add(&x->drop_sources, db_column_text(st, 1));
	return 0;
}

static int collect_contact(const struct registry_contact *c, void *arg)
{
	struct merge_ctx *x = arg;
	struct registry_contact *copy;

	x->contacts = xrealloc(x->contacts,
			       (x->ncontacts + 1) * sizeof(*x->contacts));
	copy = &x->contacts[x->ncontacts++];
	*copy = (struct registry_contact){
		.id = c->id, .body_id = c->body_id,
		.email = xstrdup(c->email), .status = c->status,
		.status_reason = c->status_reason ? xstrdup(c->status_reason)
						  : NULL,
	};
	return 0;
}

static int merge_aliases(struct merge_ctx *x, const struct registry_body *d)
{
	sqlite3_stmt *st;
	bool added;
	int rc;

	if ((rc = prepare(x->db, ST_ALIAS_EACH_SOURCE, &st, x->err)))
		return rc;
	sqlite3_bind_int64(st, 1, x->drop);
	if ((rc = db_each_row(x->db, st, collect_alias, x, x->err)))
		return rc;
	/* The name and acronym first, whether or not they are aliases. */
	if ((rc = insert_alias(x->db, x->keep, d->name, "merge", &added,
			       x->err)))
		return rc;
	if (added)
		strings_add(&x->m->aliases, d->name);
	if (d->acronym) {
		if ((rc = insert_alias(x->db, x->keep, d->acronym, "merge",
				       &added, x->err)))
			return rc;
		if (added)
			strings_add(&x->m->aliases, d->acronym);
	}
	for (size_t i = 0; i < x->drop_aliases.n; i++) {
		const char *src = x->drop_sources.v[i];

		if (strcmp(src, "name") == 0 || strcmp(src, "acronym") == 0)
			src = "merge";
		/* An alias without letters cannot be added: skip it. */
		char *norm = names_normalise(x->drop_aliases.v[i]);
		bool empty = !*norm;

		free(norm);
		if (empty)
			continue;
		if ((rc = insert_alias(x->db, x->keep, x->drop_aliases.v[i],
				       src, &added, x->err)))
			return rc;
		if (added)
			strings_add(&x->m->aliases, x->drop_aliases.v[i]);
	}
	return 0;
}

static int merge_contacts(struct merge_ctx *x)
{
	int64_t now = clock_now();
	sqlite3_stmt *st;
	int rc;

	if ((rc = registry_contact_each(x->db, x->drop, collect_contact, x,
					x->err)))
		return rc;
	for (size_t i = 0; i < x->ncontacts; i++) {
		struct registry_contact *c = &x->contacts[i], k = {0};

		rc = registry_contact_find(x->db, x->keep, c->email, &k, x->err);
		if (rc == ERR_NOTFOUND) {
			if ((rc = prepare(x->db, ST_CONTACT_MOVE, &st, x->err)))
				return rc;
			sqlite3_bind_int64(st, 1, c->id);
			sqlite3_bind_int64(st, 2, x->keep);
			sqlite3_bind_int64(st, 3, now);
			if ((rc = db_step_done(x->db, st, x->err)))
				return rc;
			strings_add(&x->m->contacts, c->email);
			continue;
		}
		if (rc)
			return rc;
		strings_add(&x->m->contacts_kept, c->email);
		/* The stricter decision stands: suppressed at DROP's
		 * request stays suppressed at KEEP. */
		if (status_openness(c->status) < status_openness(k.status)) {
			char line[512];

			rc = registry_contact_set_status(
				x->db, k.id, c->status,
				c->status_reason ? c->status_reason
						 : "merged body",
				x->err);
			snprintf(line, sizeof(line), "%s: %s", k.email,
				 registry_contact_status_name(c->status));
			strings_add(&x->m->status_kept, line);
		}
		registry_contact_release(&k);
		if (rc)
			return rc;
	}
	return 0;
}

static void entry_strings(struct ledger_entry *e, const char *key,
			  const struct registry_strings *s)
{
	json_key(&e->js, key);
	json_array_begin(&e->js);
	for (size_t i = 0; i < s->n; i++)
		json_string(&e->js, s->v[i]);
	json_array_end(&e->js);
}

static int list_moved(const char *list, bool already, void *arg)
{
	struct merge_ctx *x = arg;

	strings_add(already ? &x->m->lists_already : &x->m->lists, list);
	return 0;
}

int registry_body_merge(struct db *db, int64_t keep, int64_t drop,
			bool dry_run, struct registry_merge *out,
			struct error *err)
{
	struct registry_body k = {0}, d = {0};
	struct merge_ctx x = {.db = db, .keep = keep, .drop = drop, .m = out,
			      .err = err};
	struct ledger_entry e;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	ledger_entry_init(&e, LEDGER_BODY_MERGED, 0, 0, keep, 0);
	if (keep == drop) {
		rc = error_set(err, ERR_DATA,
			       "cannot merge body #%lld into itself",
			       (long long)keep);
		goto done;
	}
	if ((rc = db_begin(db, err)))
		goto done;
	if ((rc = registry_body_get(db, keep, &k, err)) ||
	    (rc = registry_body_get(db, drop, &d, err)))
		goto out;
	if (k.removed_at || d.removed_at) {
		const struct registry_body *r = k.removed_at ? &k : &d;

		rc = error_set(err, ERR_DATA,
			       "body #%lld '%s' was removed; only live bodies "
			       "are merged", (long long)r->id, r->name);
		goto out;
	}
	if ((rc = merge_aliases(&x, &d)) || (rc = merge_contacts(&x)) ||
	    (rc = list_move_body(db, drop, keep, list_moved, &x, err)))
		goto out;
	/* Removed and pointing at KEEP; its contacts left go with it. */
	if ((rc = prepare(db, ST_BODY_MERGED, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, drop);
	sqlite3_bind_int64(st, 2, clock_now());
	sqlite3_bind_int64(st, 3, keep);
	if ((rc = db_step_done(db, st, err)) ||
	    (rc = prepare(db, ST_CONTACT_REMOVE_OF_BODY, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, drop);
	sqlite3_bind_int64(st, 2, clock_now());
	if ((rc = db_step_done(db, st, err)))
		goto out;
	ledger_entry_int(&e, "keep_id", keep);
	ledger_entry_str(&e, "keep", k.name);
	ledger_entry_int(&e, "drop_id", drop);
	ledger_entry_str(&e, "drop", d.name);
	entry_strings(&e, "aliases", &out->aliases);
	entry_strings(&e, "contacts", &out->contacts);
	entry_strings(&e, "contacts_kept", &out->contacts_kept);
	entry_strings(&e, "status_kept", &out->status_kept);
	entry_strings(&e, "lists", &out->lists);
	entry_strings(&e, "lists_already", &out->lists_already);
	if ((rc = ledger_entry_append(db, &e, NULL, err)))
		goto out;
	if (dry_run)
		db_rollback(db);
	else
		rc = db_commit(db, err);
	goto done;
out:
	db_rollback(db);
done:
	if (rc)
		registry_merge_release(out);
	ledger_entry_release(&e);
	strings_release(&x.drop_aliases);
	strings_release(&x.drop_sources);
	for (size_t i = 0; i < x.ncontacts; i++)
		registry_contact_release(&x.contacts[i]);
	free(x.contacts);
	registry_body_release(&k);
	registry_body_release(&d);
	return rc;
}

struct search_each {
	int (*fn)(const struct registry_text *t, void *arg);
	void *arg;
};

static int search_row(sqlite3_stmt *st, void *arg)
{
	const struct search_each *s = arg;
	struct registry_text t = {
		.kind = db_column_text(st, 0),
		.field = db_column_text(st, 1),
		.body_id = sqlite3_column_int64(st, 2),
		.body_acronym = sqlite3_column_type(st, 3) == SQLITE_NULL
					? NULL : db_column_text(st, 3),
		.body_name = db_column_text(st, 4),
		.contact_id = sqlite3_column_int64(st, 5),
		.text = db_column_text(st, 6),
	};

	if (!t.text || !*t.text)
		return 0;
	return s->fn(&t, s->arg);
}

int registry_search_each(struct db *db,
			 int (*fn)(const struct registry_text *t, void *arg),
			 void *arg, struct error *err)
{
	struct search_each s = {fn, arg};
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_SEARCH, &st, err)))
		return rc;
	return db_each_row(db, st, search_row, &s, err);
}
