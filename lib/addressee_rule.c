/*
 * addressee_rule: the phrase rules a person taught import-statement, in
 * the phrase_rules table this module owns.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/addressee_rule.h"
#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/list.h"
#include "chancery/names.h"
#include "chancery/registry.h"
#include "chancery/xalloc.h"

enum {
	ST_UPSERT,
	ST_BY_NORM,
	ST_DELETE,
	ST_EACH,
	ST_LIVE_BY_NORM,
	ST__COUNT
};

/* A rule with the label of what it names: "ACR - name" or the list. */
#define RULE_COLUMNS \
	"r.id, r.phrase, r.norm, coalesce(r.body_id, 0), " \
	"coalesce(r.list_id, 0), CASE WHEN r.body_id IS NOT NULL THEN " \
	"coalesce(b.acronym || ' - ', '') || b.name || CASE WHEN " \
	"b.removed_at IS NOT NULL THEN ' (removed)' ELSE '' END " \
	"ELSE l.name END, r.created_at FROM phrase_rules r " \
	"LEFT JOIN bodies b ON b.id = r.body_id " \
	"LEFT JOIN lists l ON l.id = r.list_id "

static const char *const rule_sql[ST__COUNT] = {
	[ST_UPSERT] = "INSERT INTO phrase_rules (phrase, norm, body_id, "
		      "list_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
		      "ON CONFLICT (norm) DO UPDATE SET phrase = "
		      "excluded.phrase, body_id = excluded.body_id, list_id = "
		      "excluded.list_id, created_at = excluded.created_at",
	[ST_BY_NORM] = "SELECT " RULE_COLUMNS "WHERE r.norm = ?1",
	[ST_DELETE] = "DELETE FROM phrase_rules WHERE norm = ?1",
	[ST_EACH] = "SELECT " RULE_COLUMNS
		    "ORDER BY r.phrase COLLATE NOCASE, r.id",
	/* what the resolver may use: rules of live bodies, by norm (the
	 * binary order addressee_rules_find searches in) */
	[ST_LIVE_BY_NORM] = "SELECT " RULE_COLUMNS
			    "WHERE r.body_id IS NULL OR b.removed_at IS NULL "
			    "ORDER BY r.norm",
};

static const struct db_statements rule_statements = {
	"addressee_rule", rule_sql, ST__COUNT};

static int prepare(struct db *db, int index, sqlite3_stmt **st,
		   struct error *err)
{
	return db_prepare(db, &rule_statements, index, st, err);
}

void addressee_rule_release(struct addressee_rule *r)
{
	if (!r)
		return;
	free(r->phrase);
	free(r->norm);
	free(r->target);
	memset(r, 0, sizeof(*r));
}

static void rule_from_row(sqlite3_stmt *st, struct addressee_rule *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->phrase = db_column_strdup(st, 1);
	r->norm = db_column_strdup(st, 2);
	r->body_id = sqlite3_column_int64(st, 3);
	r->list_id = sqlite3_column_int64(st, 4);
	r->target = xstrdup(db_column_text(st, 5));
	r->created_at = sqlite3_column_int64(st, 6);
}

/* The rule of a norm: 1 with *out filled, 0 when none, or an error. */
static int rule_by_norm(struct db *db, const char *norm,
			struct addressee_rule *out, struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, ST_BY_NORM, &st, err);

	if (rc)
		return rc;
	db_bind_text(st, 1, norm);
	rc = db_step(db, st, err);
	if (rc == 1)
		rule_from_row(st, out);
	sqlite3_reset(st);
	return rc;
}

/* What target names: a body (*body_id) or a list (*list_id, *label). */
static int resolve_target(struct db *db, const char *target, int64_t *body_id,
			  int64_t *list_id, char **label, struct error *err)
{
	struct registry_body b = {0};
	struct list_info li = {0};
	const char *list_name = target;
	int rc;

	*body_id = *list_id = 0;
	*label = NULL;
	if (strncmp(target, "list:", 5) == 0) {
		list_name = target + 5;
	} else {
		rc = registry_body_find(db, target, &b, err);
		if (rc == 0) {
			*body_id = b.id;
			*label = b.acronym ? xasprintf("%s - %s", b.acronym,
						       b.name)
					   : xstrdup(b.name);
			registry_body_release(&b);
			return 0;
		}
		/* "#12" of a removed body, or a name several bodies share */
		if (rc != ERR_NOTFOUND || target[0] == '#')
			return rc;
		error_clear(err);
	}
	rc = list_find(db, list_name, &li, err);
	if (rc == ERR_NOTFOUND)
		return error_set(err, ERR_NOTFOUND, "no body or list '%s'",
				 target);
	if (rc)
		return rc;
	*list_id = li.id;
	*label = xstrdup(li.name);
	list_info_release(&li);
	return 0;
}

int addressee_rule_teach(struct db *db, const char *phrase, const char *target,
			 struct addressee_rule *out, struct error *err)
{
	struct addressee_rule old = {0};
	struct ledger_event ev = {.kind = LEDGER_PHRASE_TAUGHT};
	char *norm = names_normalise(phrase ? phrase : "");
	char *label = NULL;
	int64_t body_id, list_id;
	sqlite3_stmt *st;
	int rc, had;

	if (!*norm) {
		rc = error_set(err, ERR_USAGE, "the phrase '%s' has no words",
			       phrase ? phrase : "");
		goto out;
	}
	if (!target || !*target) {
		rc = error_set(err, ERR_USAGE, "empty body or list name");
		goto out;
	}
	if ((rc = db_begin(db, err)))
		goto out;
	if ((rc = resolve_target(db, target, &body_id, &list_id, &label, err)))
		goto rollback;
	had = rule_by_norm(db, norm, &old, err);
	if (had < 0) {
		rc = had;
		goto rollback;
	}
	if ((rc = prepare(db, ST_UPSERT, &st, err)))
		goto rollback;
	db_bind_text(st, 1, phrase);
	db_bind_text(st, 2, norm);
	db_bind_id(st, 3, body_id);
	db_bind_id(st, 4, list_id);
	sqlite3_bind_int64(st, 5, clock_now());
	if ((rc = db_step_done(db, st, err)))
		goto rollback;
	ev.body_id = body_id;
	rc = ledger_append_fields(db, &ev, err, "phrase", phrase, "norm", norm,
				  "target", label, "target_kind",
				  body_id ? "body" : "list", "previous",
				  had ? old.target : NULL, NULL);
	if (rc)
		goto rollback;
	if (out && (rc = rule_by_norm(db, norm, out, err)) < 0)
		goto rollback;
	rc = db_commit(db, err);
	goto out;
rollback:
	db_rollback(db);
out:
	addressee_rule_release(&old);
	free(label);
	free(norm);
	return rc < 0 ? rc : 0;
}

int addressee_rule_unteach(struct db *db, const char *phrase,
			   struct error *err)
{
	struct addressee_rule old = {0};
	struct ledger_event ev = {.kind = LEDGER_PHRASE_UNTAUGHT};
	char *norm = names_normalise(phrase ? phrase : "");
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)))
		goto out;
	rc = rule_by_norm(db, norm, &old, err);
	if (rc == 0)
		rc = error_set(err, ERR_NOTFOUND, "no phrase rule '%s'",
			       phrase ? phrase : "");
	if (rc < 0)
		goto rollback;
	if ((rc = prepare(db, ST_DELETE, &st, err)))
		goto rollback;
	db_bind_text(st, 1, norm);
	if ((rc = db_step_done(db, st, err)))
		goto rollback;
	ev.body_id = old.body_id;
	rc = ledger_append_fields(db, &ev, err, "phrase", old.phrase, "norm",
				  norm, "target", old.target, NULL);
	if (rc)
		goto rollback;
	rc = db_commit(db, err);
	goto out;
rollback:
	db_rollback(db);
out:
	addressee_rule_release(&old);
	free(norm);
	return rc;
}

/* Walks the rows of a prepared rule query. */
static int each_row(struct db *db, sqlite3_stmt *st, addressee_rule_fn fn,
		    void *arg, struct error *err)
{
	int rc;

	while ((rc = db_step(db, st, err)) == 1) {
		struct addressee_rule r = {0};

		rule_from_row(st, &r);
		rc = fn(&r, arg);
		addressee_rule_release(&r);
		if (rc) {
			sqlite3_reset(st);
			return rc;
		}
	}
	return rc;
}

int addressee_rule_each(struct db *db, addressee_rule_fn fn, void *arg,
			struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, ST_EACH, &st, err);

	return rc ? rc : each_row(db, st, fn, arg, err);
}

static int keep_rule(const struct addressee_rule *r, void *arg)
{
	struct addressee_rules *rules = arg;
	struct addressee_rule *c;

	xgrow(&rules->v, sizeof(*rules->v), rules->n + 1, &rules->alloc);
	c = &rules->v[rules->n++];
	*c = *r;
	c->phrase = xstrdup(r->phrase);
	c->norm = xstrdup(r->norm);
	c->target = xstrdup(r->target);
	return 0;
}

int addressee_rules_load(struct db *db, struct addressee_rules *rules,
			 struct error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, ST_LIVE_BY_NORM, &st, err);

	return rc ? rc : each_row(db, st, keep_rule, rules, err);
}

const struct addressee_rule *
addressee_rules_find(const struct addressee_rules *rules, const char *phrase)
{
	char *norm;
	size_t lo = 0, hi;
	const struct addressee_rule *hit = NULL;

	if (!rules || !rules->n || !phrase)
		return NULL;
	norm = names_normalise(phrase);
	hi = rules->n;
	while (lo < hi && *norm) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(rules->v[mid].norm, norm);

		if (c == 0) {
			hit = &rules->v[mid];
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	free(norm);
	return hit;
}

void addressee_rules_release(struct addressee_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++)
		addressee_rule_release(&rules->v[i]);
	free(rules->v);
	memset(rules, 0, sizeof(*rules));
}
