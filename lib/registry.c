/*
 * registry: bodies, aliases and contacts. Every change that affects who
 * receives a statement appends a ledger event inside the same
 * transaction, so the audit and the registry can never disagree.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/address.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
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
	ST_CONTACT_UPDATE,
	ST_CONTACT_REMOVED_BY_EMAIL,
	ST_CONTACT_REMOVE,
	ST_CONTACT_REMOVE_OF_BODY,
	ST_CONTACT_EACH,
	ST_CONTACT_EACH_ALL,
	ST__COUNT
};

#define BODY_COLUMNS \
	"id, acronym, name, kind, country, notes, created_at, " \
	"coalesce(removed_at, 0)"
#define CONTACT_COLUMNS \
	"id, body_id, email, name, role, language, status, status_reason"

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
	[ST_CONTACT_UPDATE] = "UPDATE contacts SET name = ?2, role = ?3, "
			      "language = ?4, updated_at = ?5 WHERE id = ?1",
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
				"c.status_reason FROM contacts c JOIN bodies b "
				"ON b.id = c.body_id WHERE c.removed_at IS "
				"NULL AND b.removed_at IS NULL "
				"ORDER BY b.acronym IS NULL, b.acronym COLLATE "
				"NOCASE, b.name COLLATE NOCASE, c.id",
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
	if (acronym && strpbrk(acronym, " \t\r\n#"))
		return error_set(err, ERR_DATA,
				 "acronym '%s' holds a space or '#'", acronym);
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
	if ((rc = check_body_fields(name, kind, acronym, country, err)))
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

int registry_alias_add(struct db *db, int64_t body_id, const char *alias,
		       const char *source, struct error *err)
{
	char *norm;
	sqlite3_stmt *st;
	int rc;

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
	/* The name and acronym are recorded by body.added itself. */
	if (db_changes(db) > 0 && source && strcmp(source, "name") != 0 &&
	    strcmp(source, "acronym") != 0)
		rc = registry_event(db, LEDGER_ALIAS_ADDED, body_id, 0, err,
				    "alias", alias, "source", source, NULL);
out:
	free(norm);
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
	int64_t id = 0;
	int rc;

	if ((rc = address_check(email, err)) ||
	    (rc = check_contact_text("name", name, err)) ||
	    (rc = check_contact_text("role", role, err)) ||
	    (rc = check_contact_text("language", language, err)))
		return rc;
	if ((rc = db_begin(db, err)))
		return rc;
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

int registry_contact_find(struct db *db, int64_t body_id, const char *email,
			  struct registry_contact *out, struct error *err)
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

int registry_contact_update(struct db *db, int64_t id, const char *name,
			    const char *role, const char *language,
			    struct error *err)
{
	struct registry_contact c = {0};
	sqlite3_stmt *st;
	int rc;

	if ((rc = check_contact_text("name", name, err)) ||
	    (rc = check_contact_text("role", role, err)) ||
	    (rc = check_contact_text("language", language, err)))
		return rc;
	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = registry_contact_get(db, id, &c, err)) ||
	    (rc = prepare(db, ST_CONTACT_UPDATE, &st, err)))
		goto out;
	name = name ? nonempty(name) : c.name;
	role = role ? nonempty(role) : c.role;
	language = language ? nonempty(language) : c.language;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, name);
	db_bind_text(st, 3, role);
	db_bind_text(st, 4, language);
	sqlite3_bind_int64(st, 5, clock_now());
	if ((rc = db_step_done(db, st, err)) ||
	    (rc = registry_event(db, LEDGER_CONTACT_CHANGED, c.body_id, id,
				 err, "email", c.email, "name", name, "role",
				 role, "language", language, NULL)))
		goto out;
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
