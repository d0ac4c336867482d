/* protocol: running names and salutations per language (see the header). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "chancery/clock.h"
#include "chancery/locale_names.h"
#include "chancery/protocol.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

enum {
	ST_RUNNING,
	ST_SALUTATION,
	ST_DEFAULTS,
	ST_RUNNING_PUT,
	ST_RUNNING_DEL,
	ST_SALUTATION_PUT,
	ST_SALUTATION_DEL,
	ST_DEFAULT_PUT,
	ST_DEFAULT_DEL,
	ST_DEFAULTS_ALL,
	ST_BODY_LIVE,
	ST_CONTACT_LIVE,
	ST__COUNT
};

/* An upsert that changes nothing when the text is the same, so that
 * db_changes says whether anything changed. */
static const char *const sql[ST__COUNT] = {
	[ST_RUNNING] = "SELECT body_id, lang, running_name FROM "
		       "body_running_names WHERE body_id = ?1 ORDER BY lang",
	[ST_SALUTATION] = "SELECT contact_id, lang, salutation FROM "
			  "contact_salutations WHERE contact_id = ?1 "
			  "ORDER BY lang",
	[ST_DEFAULTS] = "SELECT kind, lang, salutation FROM protocol_defaults "
			"WHERE kind = ?1 ORDER BY lang",
	[ST_RUNNING_PUT] = "INSERT INTO body_running_names (body_id, lang, "
			   "running_name, updated_at) VALUES (?1, ?2, ?3, ?4) "
			   "ON CONFLICT (body_id, lang) DO UPDATE SET "
			   "running_name = ?3, updated_at = ?4 "
			   "WHERE running_name IS NOT ?3",
	[ST_RUNNING_DEL] = "DELETE FROM body_running_names WHERE body_id = ?1 "
			   "AND lang = ?2",
	[ST_SALUTATION_PUT] = "INSERT INTO contact_salutations (contact_id, "
			      "lang, salutation, updated_at) VALUES (?1, ?2, "
			      "?3, ?4) ON CONFLICT (contact_id, lang) DO "
			      "UPDATE SET salutation = ?3, updated_at = ?4 "
			      "WHERE salutation IS NOT ?3",
	[ST_SALUTATION_DEL] = "DELETE FROM contact_salutations WHERE "
			      "contact_id = ?1 AND lang = ?2",
	[ST_DEFAULT_PUT] = "INSERT INTO protocol_defaults (kind, lang, "
			   "salutation, updated_at) VALUES (?1, ?2, ?3, ?4) "
			   "ON CONFLICT (kind, lang) DO UPDATE SET "
			   "salutation = ?3, updated_at = ?4 "
			   "WHERE salutation IS NOT ?3",
	[ST_DEFAULT_DEL] = "DELETE FROM protocol_defaults WHERE kind = ?1 "
			   "AND lang = ?2",
	[ST_DEFAULTS_ALL] = "SELECT kind, lang, salutation FROM "
			    "protocol_defaults ORDER BY kind, lang",
	[ST_BODY_LIVE] = "SELECT 1 FROM bodies WHERE id = ?1 AND "
			 "removed_at IS NULL",
	[ST_CONTACT_LIVE] = "SELECT 1 FROM contacts WHERE id = ?1 AND "
			    "removed_at IS NULL",
};

static const struct db_statements protocol_statements = {
	"protocol", sql, ST__COUNT
};

/* ---- neutral greetings ---- */

static const struct {
	const char *lang, *text;
} neutral[] = {
	{"en", "Dear Sir or Madam"},
	{"fr", "Madame, Monsieur"},
	{"ru", "Уважаемые дамы и господа"},
	{"ar", "السيدات والسادة المحترمون"},
	{"es", "Estimados señores"},
	{"zh", "尊敬的先生/女士"},
	{"az", "Hörmətli xanımlar və cənablar"},
	{"tr", "Sayın Yetkili"},
	{"de", "Sehr geehrte Damen und Herren"},
};

/* The length of a tag's primary subtag ("fr" of "fr-CH"). */
static size_t primary_len(const char *tag)
{
	return strcspn(tag, "-_");
}

static bool same_primary(const char *a, const char *b)
{
	size_t n = primary_len(a);

	return n == primary_len(b) && strncasecmp(a, b, n) == 0;
}

const char *protocol_neutral_salutation(const char *lang)
{
	const char *l = lang && *lang ? lang : "en";

	for (size_t i = 0; i < sizeof(neutral) / sizeof(neutral[0]); i++)
		if (same_primary(l, neutral[i].lang))
			return neutral[i].text;
	return neutral[0].text;
}

/* ---- lookups ---- */

/* The text for lang: exact, else the same primary subtag; NULL. */
static const char *pick(const struct protocol_text *v, size_t n,
			const char *lang)
{
	const char *l = lang && *lang ? lang : "en";

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v[i].lang, l) == 0)
			return v[i].text;
	for (size_t i = 0; i < n; i++)
		if (same_primary(v[i].lang, l))
			return v[i].text;
	return NULL;
}

const char *protocol_running_name(const struct protocol_forms *p,
				  const struct registry_body *body,
				  const char *lang)
{
	const char *s = p ? pick(p->running, p->nrunning, lang) : NULL;

	return s ? s : body ? body->name : NULL;
}

void protocol_salutation(const struct protocol_forms *p,
			 const struct registry_body *body,
			 const struct registry_contact *contact,
			 const char *lang, struct protocol_salutation *out)
{
	const char *l = lang && *lang ? lang : "en";
	const char *kind = body && body->kind ? body->kind : "other";
	const char *s = NULL;

	(void)contact;
	memset(out, 0, sizeof(*out));
	if (p && (s = pick(p->salutation, p->nsalutation, l))) {
		out->text = s;
		return;
	}
	out->fell_back = true;
	if (p && (s = pick(p->defaults, p->ndefaults, l))) {
		out->text = s;
		snprintf(out->reason, sizeof(out->reason), "no salutation in "
			 "%s: the default for %s", l, kind);
		return;
	}
	out->text = protocol_neutral_salutation(l);
	snprintf(out->reason, sizeof(out->reason), "no salutation in %s and "
		 "no default for %s: neutral", l, kind);
}

/* ---- loading ---- */

struct text_vec {
	struct protocol_text **v;
	size_t *n;
};

static int text_row(sqlite3_stmt *st, void *arg)
{
	struct text_vec *tv = arg;

	*tv->v = xrealloc(*tv->v, (*tv->n + 1) * sizeof(**tv->v));
	(*tv->v)[*tv->n] = (struct protocol_text){db_column_strdup(st, 1),
						  db_column_strdup(st, 2)};
	(*tv->n)++;
	return 0;
}

static int load_rows(struct db *db, int index, int64_t id, const char *key,
		     struct protocol_text **v, size_t *n, struct error *err)
{
	struct text_vec tv = {v, n};
	sqlite3_stmt *st;
	int rc = db_prepare(db, &protocol_statements, index, &st, err);

	if (rc)
		return rc;
	if (key)
		db_bind_text(st, 1, key);
	else
		sqlite3_bind_int64(st, 1, id);
	return db_each_row(db, st, text_row, &tv, err);
}

int protocol_forms_load(struct db *db, const struct registry_body *body,
			int64_t contact_id, struct protocol_forms *out,
			struct error *err)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (body)
		rc = load_rows(db, ST_RUNNING, body->id, NULL, &out->running,
			       &out->nrunning, err);
	if (!rc && body && body->kind)
		rc = load_rows(db, ST_DEFAULTS, 0, body->kind, &out->defaults,
			       &out->ndefaults, err);
	if (!rc && contact_id)
		rc = load_rows(db, ST_SALUTATION, contact_id, NULL,
			       &out->salutation, &out->nsalutation, err);
	if (rc)
		protocol_forms_release(out);
	return rc;
}

static void texts_free(struct protocol_text *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].lang);
		free(v[i].text);
	}
	free(v);
}

void protocol_forms_release(struct protocol_forms *p)
{
	if (!p)
		return;
	texts_free(p->running, p->nrunning);
	texts_free(p->salutation, p->nsalutation);
	texts_free(p->defaults, p->ndefaults);
	memset(p, 0, sizeof(*p));
}

/* ---- changes ---- */

/* Checks lang and text; *tag gets ICU's form of the tag (caller frees). */
static int check_input(const char *what, const char *lang, const char *text,
		       char **tag, struct error *err)
{
	*tag = locale_language_parse(lang && *lang ? lang : "en");
	if (!*tag)
		return error_set(err, ERR_DATA, "language '%s' is not a "
				 "language tag ICU knows", lang);
	if (!text || !*text)
		return 0;
	if (strlen(text) > PROTOCOL_TEXT_MAX)
		return error_set(err, ERR_DATA, "%s is longer than %d bytes",
				 what, PROTOCOL_TEXT_MAX);
	if (!utf8_valid(text, strlen(text), NULL) || utf8_has_control(text) ||
	    strchr(text, '\t'))
		return error_set(err, ERR_DATA, "%s must be one line of UTF-8 "
				 "text", what);
	return 0;
}

static int exists(struct db *db, int index, int64_t id, const char *what,
		  struct error *err)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &protocol_statements, index, &st, err);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	sqlite3_reset(st);
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no live %s #%lld", what,
				 (long long)id);
	return rc < 0 ? rc : 0;
}

/* Puts or deletes one row keyed by (id or key, lang). */
static int put(struct db *db, int put_index, int del_index, int64_t id,
	       const char *key, const char *what, const char *lang,
	       const char *text, bool *changed, struct error *err)
{
	sqlite3_stmt *st;
	char *tag = NULL;
	bool clear = !text || !*text;
	int rc = check_input(what, lang, text, &tag, err);

	if (!rc)
		rc = db_prepare(db, &protocol_statements,
				clear ? del_index : put_index, &st, err);
	if (rc)
		goto out;
	if (key)
		db_bind_text(st, 1, key);
	else
		sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, tag);
	if (!clear) {
		db_bind_text(st, 3, text);
		sqlite3_bind_int64(st, 4, clock_now());
	}
	rc = db_step_done(db, st, err);
	if (!rc && changed)
		*changed = db_changes(db) > 0;
out:
	free(tag);
	return rc;
}

int protocol_running_name_set(struct db *db, int64_t body_id,
			      const char *lang, const char *text,
			      bool *changed, struct error *err)
{
	int rc = exists(db, ST_BODY_LIVE, body_id, "body", err);

	return rc ? rc : put(db, ST_RUNNING_PUT, ST_RUNNING_DEL, body_id,
			     NULL, "running name", lang, text, changed, err);
}

int protocol_salutation_set(struct db *db, int64_t contact_id,
			    const char *lang, const char *text,
			    bool *changed, struct error *err)
{
	int rc = exists(db, ST_CONTACT_LIVE, contact_id, "contact", err);

	return rc ? rc : put(db, ST_SALUTATION_PUT, ST_SALUTATION_DEL,
			     contact_id, NULL, "salutation", lang, text,
			     changed, err);
}

int protocol_default_set(struct db *db, const char *kind, const char *lang,
			 const char *text, bool *changed, struct error *err)
{
	if (!kind || !registry_kind_valid(kind))
		return error_set(err, ERR_DATA, "unknown body kind '%s'",
				 kind ? kind : "");
	return put(db, ST_DEFAULT_PUT, ST_DEFAULT_DEL, 0, kind, "salutation",
		   lang, text, changed, err);
}

/* ---- listing ---- */

struct each {
	protocol_fn fn;
	void *arg;
};

static int each_row(sqlite3_stmt *st, void *arg)
{
	struct each *e = arg;

	return e->fn(db_column_text(st, 0), db_column_text(st, 1),
		     db_column_text(st, 2), e->arg);
}

static int walk(struct db *db, int index, int64_t id, const char *key,
		protocol_fn fn, void *arg, struct error *err)
{
	struct each e = {fn, arg};
	sqlite3_stmt *st;
	int rc = db_prepare(db, &protocol_statements, index, &st, err);

	if (rc)
		return rc;
	if (key)
		db_bind_text(st, 1, key);
	else if (id)
		sqlite3_bind_int64(st, 1, id);
	return db_each_row(db, st, each_row, &e, err);
}

int protocol_running_name_each(struct db *db, int64_t body_id,
			       protocol_fn fn, void *arg, struct error *err)
{
	return walk(db, ST_RUNNING, body_id, NULL, fn, arg, err);
}

int protocol_salutation_each(struct db *db, int64_t contact_id,
			     protocol_fn fn, void *arg, struct error *err)
{
	return walk(db, ST_SALUTATION, contact_id, NULL, fn, arg, err);
}

int protocol_default_each(struct db *db, const char *kind, protocol_fn fn,
			  void *arg, struct error *err)
{
	return walk(db, kind ? ST_DEFAULTS : ST_DEFAULTS_ALL, 0, kind, fn, arg,
		    err);
}
