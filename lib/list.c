/*
 * list: named addressee lists and their expansion to bodies and contacts.
 * Expansion is one recursive query, so a list of lists of rules costs one
 * statement, and each body comes out once, at its first position.
 */
#include <stdlib.h>
#include <string.h>

#include "chancery/clock.h"
#include "chancery/ledger.h"
#include "chancery/list.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

enum {
	ST_CREATE,
	ST_BY_NAME,
	ST_BY_ID,
	ST_EACH,
	ST_USED_BY_CAMPAIGN,
	ST_USED_BY_SERIES,
	ST_MEMBER_OF,
	ST_USED_BY_PHRASE,
	ST_DELETE,
	ST_NEXT_POSITION,
	ST_ADD_BODY,
	ST_ADD_LIST,
	ST_REMOVE_BODY,
	ST_REMOVE_LIST,
	ST_ADD_RULE,
	ST_CONTAINS,
	ST_TOUCH,
	ST_BODIES,
	ST_CONTACTS,
	ST_COUNT_CONTACTS,
	ST_LISTS_OF_BODY,
	ST_MOVE_BODY,
	ST_MEMBERS,
	ST_RULES,
	ST__COUNT
};

/*
 * The lists reachable from ?1 through member lists, each with a sort path
 * made of member positions; the depth bound stops a cycle that slipped in
 * by hand-editing the file.
 */
#define SUBLISTS \
	"WITH RECURSIVE sub(list_id, path, depth) AS (" \
	" SELECT ?1, '', 0" \
	" UNION ALL" \
	" SELECT m.member_list_id, sub.path || printf('%08d.', m.position)," \
	"  sub.depth + 1 FROM list_members m JOIN sub" \
	"  ON m.list_id = sub.list_id" \
	"  WHERE m.member_list_id IS NOT NULL AND sub.depth < 32) "

/* Live bodies of the list, each once, in list order: static members by
 * position, then the bodies of rules by acronym or name. */
#define EXPANDED \
	SUBLISTS ", expanded(body_id, ord) AS (" \
	" SELECT m.body_id, sub.path || printf('%08d', m.position)" \
	"  FROM sub JOIN list_members m ON m.list_id = sub.list_id" \
	"  WHERE m.body_id IS NOT NULL" \
	" UNION ALL" \
	" SELECT b.id, sub.path || '~' || lower(coalesce(b.acronym, b.name))" \
	"  FROM sub JOIN list_rules r ON r.list_id = sub.list_id" \
	"  JOIN bodies b ON b.kind = r.kind AND (r.country IS NULL OR" \
	"   b.country = r.country COLLATE NOCASE)), " \
	"ordered(body_id, ord) AS (SELECT x.body_id, min(x.ord) FROM" \
	" expanded x JOIN bodies b ON b.id = x.body_id" \
	" WHERE b.removed_at IS NULL GROUP BY x.body_id) "

static const char *const list_sql[ST__COUNT] = {
	[ST_CREATE] = "INSERT INTO lists (name, kind, description, created_at, "
		      "updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
	[ST_BY_NAME] = "SELECT id, name, kind, description FROM lists "
		       "WHERE name = ?1",
	[ST_BY_ID] = "SELECT id, name, kind, description FROM lists "
		     "WHERE id = ?1",
	[ST_EACH] = "SELECT id, name, kind, description FROM lists "
		    "ORDER BY name",
	[ST_USED_BY_CAMPAIGN] = "SELECT name FROM campaigns WHERE list_id = ?1 "
				"LIMIT 1",
	[ST_USED_BY_SERIES] = "SELECT name FROM series WHERE list_id = ?1 "
			      "LIMIT 1",
	[ST_MEMBER_OF] = "SELECT l.name FROM list_members m JOIN lists l ON "
			 "l.id = m.list_id WHERE m.member_list_id = ?1 LIMIT 1",
	[ST_USED_BY_PHRASE] = "SELECT phrase FROM phrase_rules WHERE "
			      "list_id = ?1 LIMIT 1",
	[ST_DELETE] = "DELETE FROM lists WHERE id = ?1",
	[ST_NEXT_POSITION] = "SELECT coalesce(max(position), 0) + 1 FROM "
			     "list_members WHERE list_id = ?1",
	[ST_ADD_BODY] = "INSERT OR IGNORE INTO list_members (list_id, "
			"position, body_id) VALUES (?1, ?2, ?3)",
	[ST_ADD_LIST] = "INSERT OR IGNORE INTO list_members (list_id, "
			"position, member_list_id) VALUES (?1, ?2, ?3)",
	[ST_REMOVE_BODY] = "DELETE FROM list_members WHERE list_id = ?1 AND "
			   "body_id = ?2",
	[ST_REMOVE_LIST] = "DELETE FROM list_members WHERE list_id = ?1 AND "
			   "member_list_id = ?2",
	[ST_ADD_RULE] = "INSERT OR IGNORE INTO list_rules (list_id, kind, "
			"country) VALUES (?1, ?2, ?3)",
	[ST_CONTAINS] = SUBLISTS "SELECT 1 FROM sub WHERE list_id = ?2 LIMIT 1",
	[ST_TOUCH] = "UPDATE lists SET updated_at = ?2 WHERE id = ?1",
	[ST_BODIES] = EXPANDED
	"SELECT b.id, b.acronym, b.name, b.kind, b.country, b.notes, "
	"b.created_at, 0 FROM ordered o JOIN bodies b ON b.id = o.body_id "
	"ORDER BY o.ord",
	[ST_CONTACTS] = EXPANDED
	"SELECT c.id, c.body_id, c.email, c.name, c.role, c.language, "
	"c.status, c.status_reason FROM ordered o JOIN contacts c ON "
	"c.body_id = o.body_id WHERE c.removed_at IS NULL ORDER BY o.ord, c.id",
	[ST_COUNT_CONTACTS] = EXPANDED
	"SELECT (SELECT count(*) FROM ordered), (SELECT count(*) FROM ordered "
	"o JOIN contacts c ON c.body_id = o.body_id WHERE c.removed_at IS "
	"NULL)",
	/* list id, list name, whether ?2 is already a member */
	[ST_LISTS_OF_BODY] = "SELECT l.id, l.name, EXISTS (SELECT 1 FROM "
			     "list_members k WHERE k.list_id = l.id AND "
			     "k.body_id = ?2) FROM list_members m JOIN lists l "
			     "ON l.id = m.list_id WHERE m.body_id = ?1 "
			     "ORDER BY l.name",
	[ST_MOVE_BODY] = "UPDATE list_members SET body_id = ?3 WHERE "
			 "list_id = ?1 AND body_id = ?2",
	[ST_MEMBERS] = "SELECT m.position, m.body_id, b.acronym, b.name, "
		       "b.removed_at IS NOT NULL, m.member_list_id, l.name "
		       "FROM list_members m LEFT JOIN bodies b ON b.id = "
		       "m.body_id LEFT JOIN lists l ON l.id = "
		       "m.member_list_id WHERE m.list_id = ?1 "
		       "ORDER BY m.position",
	[ST_RULES] = "SELECT kind, country FROM list_rules WHERE list_id = ?1 "
		     "ORDER BY kind, country",
};

static const struct db_statements list_statements = {"list", list_sql,
						     ST__COUNT};

static int prepare(struct db *db, int index, sqlite3_stmt **st,
		   struct error *err)
{
	return db_prepare(db, &list_statements, index, st, err);
}

static const char *kind_name(enum list_kind kind)
{
	return kind == LIST_RULE ? "rule" : "static";
}

void list_info_release(struct list_info *l)
{
	if (!l)
		return;
	free(l->name);
	free(l->description);
	memset(l, 0, sizeof(*l));
}

static void read_info(sqlite3_stmt *st, struct list_info *l)
{
	l->id = sqlite3_column_int64(st, 0);
	l->name = db_column_strdup(st, 1);
	l->kind = strcmp(db_column_text(st, 2), "rule") == 0 ? LIST_RULE
							    : LIST_STATIC;
	l->description = db_column_strdup(st, 3);
}

/* Records a change of list_id's membership: {"list": name, "action":
 * action, k1: v1, k2: v2} (k1 or k2 NULL: fewer fields). */
static int list_event(struct db *db, int64_t list_id, int64_t body_id,
		      const char *action, const char *k1, const char *v1,
		      const char *k2, const char *v2, struct error *err)
{
	struct list_info l = {0};
	struct ledger_event ev = {.kind = LEDGER_LIST_CHANGED,
				  .body_id = body_id};
	sqlite3_stmt *st;
	int rc;

	if ((rc = list_get(db, list_id, &l, err)))
		return rc;
	rc = ledger_append_fields(db, &ev, err, "list", l.name, "action",
				  action, k1, v1, k2, v2, NULL);
	if (rc == 0 && (rc = prepare(db, ST_TOUCH, &st, err)) == 0) {
		sqlite3_bind_int64(st, 1, list_id);
		sqlite3_bind_int64(st, 2, clock_now());
		rc = db_step_done(db, st, err);
	}
	list_info_release(&l);
	return rc;
}

static int check_list_name(const char *name, struct error *err)
{
	int rc;

	if (!name || !*name)
		return error_set(err, ERR_DATA, "list name is empty");
	if ((rc = utf8_check_text("list name", name, err)))
		return rc;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return error_set(err, ERR_DATA,
					 "list name '%s' holds a space or a "
					 "control character",
					 name);
	return 0;
}

int list_create(struct db *db, const char *name, enum list_kind kind,
		const char *description, int64_t *id_out, struct error *err)
{
	struct list_info old = {0};
	sqlite3_stmt *st;
	int64_t id;
	int rc;

	if ((rc = check_list_name(name, err)))
		return rc;
	if ((rc = db_begin(db, err)))
		return rc;
	rc = list_find(db, name, &old, err);
	if (rc == 0) {
		rc = error_set(err, ERR_DATA, "list '%s' already exists",
			       name);
		goto out;
	}
	if (rc != ERR_NOTFOUND || (rc = prepare(db, ST_CREATE, &st, err)))
		goto out;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, kind_name(kind));
	db_bind_text(st, 3, description && *description ? description : NULL);
	sqlite3_bind_int64(st, 4, clock_now());
	if ((rc = db_step_done(db, st, err)))
		goto out;
	id = db_last_id(db);
	if ((rc = list_event(db, id, 0, "created", "kind", kind_name(kind),
			     NULL, NULL, err)) ||
	    (rc = db_commit(db, err)))
		goto out;
	if (id_out)
		*id_out = id;
out:
	if (rc)
		db_rollback(db);
	list_info_release(&old);
	return rc;
}

static int info_by(struct db *db, int index, const char *name, int64_t id,
		   struct list_info *out, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = prepare(db, index, &st, err)))
		return rc;
	if (name)
		db_bind_text(st, 1, name);
	else
		sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc == 1)
		read_info(st, out);
	sqlite3_reset(st);
	if (rc == 0)
		return name ? error_set(err, ERR_NOTFOUND, "no list '%s'", name)
			    : error_set(err, ERR_NOTFOUND, "no list #%lld",
					(long long)id);
	return rc < 0 ? rc : 0;
}

int list_find(struct db *db, const char *name, struct list_info *out,
	      struct error *err)
{
	return info_by(db, ST_BY_NAME, name ? name : "", 0, out, err);
}

int list_get(struct db *db, int64_t id, struct list_info *out,
	     struct error *err)
{
	return info_by(db, ST_BY_ID, NULL, id, out, err);
}

/* list_each's callback and its argument, for each_row. */
struct each {
	int (*fn)(const struct list_info *l, void *arg);
	void *arg;
};

static int each_row(sqlite3_stmt *st, void *arg)
{
	const struct each *e = arg;
	struct list_info l = {0};
	int rc;

	read_info(st, &l);
	rc = e->fn(&l, e->arg);
	list_info_release(&l);
	return rc;
}

int list_each(struct db *db, int (*fn)(const struct list_info *l, void *arg),
	      void *arg, struct error *err)
{
	struct each e = {fn, arg};
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_EACH, &st, err)))
		return rc;
	return db_each_row(db, st, each_row, &e, err);
}

/* The name of the first row of a one-column query on id, or NULL. */
static int first_name(struct db *db, int index, int64_t id, char **out,
		      struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = prepare(db, index, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_step(db, st, err);
	if (rc == 1)
		*out = db_column_strdup(st, 0);
	sqlite3_reset(st);
	return rc < 0 ? rc : 0;
}

static int check_unused(struct db *db, const struct list_info *l,
			struct error *err)
{
	static const struct {
		int index;
		const char *what;
	} users[] = {
		{ST_USED_BY_CAMPAIGN, "campaign"},
		{ST_USED_BY_SERIES, "series"},
		{ST_MEMBER_OF, "list"},
		/* a taught phrase is a person's decision: unteach it first */
		{ST_USED_BY_PHRASE, "the taught phrase"},
	};
	char *user = NULL;
	int rc = 0;

	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]) && !rc; i++) {
		if ((rc = first_name(db, users[i].index, l->id, &user, err)))
			break;
		if (user)
			rc = error_set(err, ERR_DATA,
				       "list '%s' is used by %s '%s'", l->name,
				       users[i].what, user);
		free(user);
	}
	return rc;
}

int list_delete(struct db *db, int64_t id, struct error *err)
{
	struct list_info l = {0};
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = list_get(db, id, &l, err)) ||
	    (rc = check_unused(db, &l, err)) ||
	    (rc = list_event(db, id, 0, "deleted", NULL, NULL, NULL, NULL,
			     err)) ||
	    (rc = prepare(db, ST_DELETE, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = db_step_done(db, st, err)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	list_info_release(&l);
	return rc;
}

static int require_kind(struct db *db, int64_t list_id, enum list_kind kind,
			struct error *err)
{
	struct list_info l = {0};
	int rc;

	if ((rc = list_get(db, list_id, &l, err)))
		return rc;
	if (l.kind != kind)
		rc = error_set(err, ERR_DATA, "list '%s' is a %s list",
			       l.name, kind_name(l.kind));
	list_info_release(&l);
	return rc;
}

static int add_member(struct db *db, int index, int64_t list_id,
		      int64_t member, bool *added, struct error *err)
{
	sqlite3_stmt *st;
	int64_t position;
	int rc;

	if ((rc = prepare(db, ST_NEXT_POSITION, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, list_id);
	if ((rc = db_step(db, st, err)) != 1)
		return rc < 0 ? rc : error_set(err, ERR_SOFTWARE, "no position");
	position = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if ((rc = prepare(db, index, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, position);
	sqlite3_bind_int64(st, 3, member);
	if ((rc = db_step_done(db, st, err)))
		return rc;
	*added = db_changes(db) > 0;
	return 0;
}

int list_add_body(struct db *db, int64_t list_id, int64_t body_id,
		  struct error *err)
{
	struct registry_body b = {0};
	bool added = false;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = require_kind(db, list_id, LIST_STATIC, err)) ||
	    (rc = registry_body_get(db, body_id, &b, err)))
		goto out;
	if (b.removed_at) {
		rc = error_set(err, ERR_DATA, "body '%s' was removed", b.name);
		goto out;
	}
	if ((rc = add_member(db, ST_ADD_BODY, list_id, body_id, &added, err)))
		goto out;
	if (added && (rc = list_event(db, list_id, body_id, "body-added",
				      "body", b.name, NULL, NULL, err)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	registry_body_release(&b);
	return rc;
}

/* Whether list `inner` is reachable from list `outer`, or is it. */
static int list_contains(struct db *db, int64_t outer, int64_t inner,
			 bool *yes, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_CONTAINS, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, outer);
	sqlite3_bind_int64(st, 2, inner);
	rc = db_step(db, st, err);
	sqlite3_reset(st);
	*yes = rc == 1;
	return rc < 0 ? rc : 0;
}

int list_reaches(struct db *db, int64_t outer, int64_t inner, bool *yes,
		 struct error *err)
{
	return list_contains(db, outer, inner, yes, err);
}

int list_add_list(struct db *db, int64_t list_id, int64_t member_list_id,
		  struct error *err)
{
	struct list_info l = {0}, m = {0};
	bool cycle = false, added = false;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = require_kind(db, list_id, LIST_STATIC, err)) ||
	    (rc = list_get(db, list_id, &l, err)) ||
	    (rc = list_get(db, member_list_id, &m, err)) ||
	    (rc = list_contains(db, member_list_id, list_id, &cycle, err)))
		goto out;
	if (cycle) {
		rc = error_set(err, ERR_DATA,
			       "list '%s' already contains '%s': adding it "
			       "would make a cycle",
			       m.name, l.name);
		goto out;
	}
	if ((rc = add_member(db, ST_ADD_LIST, list_id, member_list_id, &added,
			     err)))
		goto out;
	if (added && (rc = list_event(db, list_id, 0, "list-added", "member",
				      m.name, NULL, NULL, err)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	list_info_release(&l);
	list_info_release(&m);
	return rc;
}

static int remove_member(struct db *db, int index, int64_t list_id,
			 int64_t member, const char *action,
			 const char *member_name, int64_t body_id,
			 struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = prepare(db, index, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, list_id);
	sqlite3_bind_int64(st, 2, member);
	if ((rc = db_step_done(db, st, err)))
		goto out;
	if (db_changes(db) == 0) {
		rc = error_set(err, ERR_NOTFOUND, "'%s' is not a member",
			       member_name);
		goto out;
	}
	if ((rc = list_event(db, list_id, body_id, action, "member",
			     member_name, NULL, NULL, err)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	return rc;
}

int list_remove_body(struct db *db, int64_t list_id, int64_t body_id,
		     struct error *err)
{
	struct registry_body b = {0};
	int rc;

	if ((rc = registry_body_get(db, body_id, &b, err)))
		return rc;
	rc = remove_member(db, ST_REMOVE_BODY, list_id, body_id,
			   "body-removed", b.name, body_id, err);
	registry_body_release(&b);
	return rc;
}

int list_remove_list(struct db *db, int64_t list_id, int64_t member_list_id,
		     struct error *err)
{
	struct list_info m = {0};
	int rc;

	if ((rc = list_get(db, member_list_id, &m, err)))
		return rc;
	rc = remove_member(db, ST_REMOVE_LIST, list_id, member_list_id,
			   "list-removed", m.name, 0, err);
	list_info_release(&m);
	return rc;
}

int list_add_rule(struct db *db, int64_t list_id, const char *kind,
		  const char *country, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (!registry_kind_valid(kind))
		return error_set(err, ERR_DATA, "unknown body kind '%s'",
				 kind ? kind : "");
	if (country && !*country)
		country = NULL;
	if ((rc = db_begin(db, err)))
		return rc;
	if ((rc = require_kind(db, list_id, LIST_RULE, err)) ||
	    (rc = prepare(db, ST_ADD_RULE, &st, err)))
		goto out;
	sqlite3_bind_int64(st, 1, list_id);
	db_bind_text(st, 2, kind);
	db_bind_text(st, 3, country);
	if ((rc = db_step_done(db, st, err)))
		goto out;
	if (db_changes(db) > 0 &&
	    (rc = list_event(db, list_id, 0, "rule-added", "kind", kind,
			     "country", country, err)))
		goto out;
	rc = db_commit(db, err);
out:
	if (rc)
		db_rollback(db);
	return rc;
}

int list_each_body(struct db *db, int64_t list_id, registry_body_fn fn,
		   void *arg, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_BODIES, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, list_id);
	return registry_body_rows(db, st, fn, arg, err);
}

int list_each_contact(struct db *db, int64_t list_id, registry_contact_fn fn,
		      void *arg, struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_CONTACTS, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, list_id);
	return registry_contact_rows(db, st, fn, arg, err);
}

int list_count(struct db *db, int64_t list_id, int *bodies, int *contacts,
	       struct error *err)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_COUNT_CONTACTS, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, list_id);
	rc = db_step(db, st, err);
	if (rc == 1) {
		*bodies = sqlite3_column_int(st, 0);
		*contacts = sqlite3_column_int(st, 1);
		rc = 0;
	} else if (rc == 0) {
		rc = error_set(err, ERR_SOFTWARE, "list count returned no row");
	}
	sqlite3_reset(st);
	return rc;
}

struct moves {
	int64_t *ids;
	char **names;
	bool *already;
	size_t n;
};

static int collect_move(sqlite3_stmt *st, void *arg)
{
	struct moves *m = arg;

	m->ids = xrealloc(m->ids, (m->n + 1) * sizeof(*m->ids));
	m->names = xrealloc(m->names, (m->n + 1) * sizeof(*m->names));
	m->already = xrealloc(m->already, (m->n + 1) * sizeof(*m->already));
	m->ids[m->n] = sqlite3_column_int64(st, 0);
	m->names[m->n] = db_column_strdup(st, 1);
	m->already[m->n] = sqlite3_column_int(st, 2) != 0;
	m->n++;
	return 0;
}

int list_move_body(struct db *db, int64_t from, int64_t to,
		   int (*fn)(const char *list, bool already, void *arg),
		   void *arg, struct error *err)
{
	struct moves m = {0};
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_LISTS_OF_BODY, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	if ((rc = db_each_row(db, st, collect_move, &m, err)))
		goto out;
	for (size_t i = 0; i < m.n && !rc; i++) {
		rc = prepare(db, m.already[i] ? ST_REMOVE_BODY : ST_MOVE_BODY,
			     &st, err);
		if (rc)
			break;
		sqlite3_bind_int64(st, 1, m.ids[i]);
		sqlite3_bind_int64(st, 2, from);
		if (!m.already[i])
			sqlite3_bind_int64(st, 3, to);
		if (!(rc = db_step_done(db, st, err)))
			rc = fn(m.names[i], m.already[i], arg);
	}
out:
	for (size_t i = 0; i < m.n; i++)
		free(m.names[i]);
	free(m.names);
	free(m.ids);
	free(m.already);
	return rc;
}

/* What list_each_member hands each row to. */
struct member_walk {
	int (*fn)(const struct list_member *m, void *arg);
	void *arg;
	bool rules;
};

static int member_row(sqlite3_stmt *st, void *arg)
{
	struct member_walk *w = arg;
	struct list_member m = {0};

	if (w->rules) {
		m.rule_kind = db_column_text(st, 0);
		m.rule_country = sqlite3_column_type(st, 1) == SQLITE_NULL
					 ? NULL
					 : db_column_text(st, 1);
		return w->fn(&m, w->arg);
	}
	m.position = sqlite3_column_int(st, 0);
	m.body_id = sqlite3_column_int64(st, 1);
	if (m.body_id) {
		m.body_acronym = sqlite3_column_type(st, 2) == SQLITE_NULL
					 ? NULL
					 : db_column_text(st, 2);
		m.body_name = db_column_text(st, 3);
		m.body_removed = sqlite3_column_int(st, 4) != 0;
	}
	m.list_id = sqlite3_column_int64(st, 5);
	if (m.list_id)
		m.list_name = db_column_text(st, 6);
	return w->fn(&m, w->arg);
}

int list_each_member(struct db *db, int64_t list_id,
		     int (*fn)(const struct list_member *m, void *arg),
		     void *arg, struct error *err)
{
	struct member_walk w = {fn, arg, false};
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(db, ST_MEMBERS, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, list_id);
	if ((rc = db_each_row(db, st, member_row, &w, err)))
		return rc;
	if ((rc = prepare(db, ST_RULES, &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, list_id);
	w.rules = true;
	return db_each_row(db, st, member_row, &w, err);
}
