/*
 * addressee_plan: a statement's addressees resolved against the registry
 * (the plan import-statement shows) and, with --apply, written to it.
 *
 * The text is parsed by the addressee module; this one reads the
 * registry to say which body, group rule list or new body each addressee
 * is, and writes bodies, aliases and lists in one transaction.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/addressee_plan.h"
#include "chancery/addressee_rule.h"
#include "chancery/list.h"
#include "chancery/names.h"
#include "chancery/registry.h"
#include "chancery/xalloc.h"

/* ---- resolving ---------------------------------------------------------- */

int addressee_plan_group_list(struct db *db, const char *kind,
			      const char *country, bool create,
			      int64_t *list_id, struct error *err)
{
	struct list_info li = {0};
	char *name = addressee_group_list_name(kind, country);
	char *desc = NULL;
	int rc;

	*list_id = 0;
	rc = list_find(db, name, &li, err);
	if (rc == 0) {
		*list_id = li.id;
		list_info_release(&li);
		goto out;
	}
	if (rc != ERR_NOTFOUND || !create)
		goto out_notfound;
	error_clear(err);
	desc = country ? xasprintf("every body of kind %s and country %s "
				   "(group addressee)", kind, country)
		       : xasprintf("every body of kind %s (group addressee)",
				   kind);
	rc = list_create(db, name, LIST_RULE, desc, list_id, err);
	if (rc == 0)
		rc = list_add_rule(db, *list_id, kind, country, err);
	goto out;
out_notfound:
	if (rc == ERR_NOTFOUND) {
		error_clear(err);
		rc = 0;
	}
out:
	free(name);
	free(desc);
	return rc;
}

const char *addressee_plan_resolution_name(enum addressee_resolution r)
{
	switch (r) {
	case ADDRESSEE_BODY:
		return "body";
	case ADDRESSEE_GROUP:
		return "group";
	case ADDRESSEE_AMBIGUOUS:
		return "ambiguous";
	case ADDRESSEE_NEW:
		return "NEW";
	}
	return "?";
}

const char *addressee_plan_confidence_name(enum addressee_confidence c)
{
	switch (c) {
	case ADDRESSEE_HIGH:
		return "high";
	case ADDRESSEE_MEDIUM:
		return "medium";
	case ADDRESSEE_LOW:
		return "low";
	}
	return "?";
}

void addressee_plan_release(struct addressee_plan *p)
{
	if (p->matches)
		for (size_t i = 0; i < p->list.count; i++) {
			free(p->matches[i].target);
			free(p->matches[i].role);
			free(p->matches[i].evidence);
		}
	free(p->matches);
	addressee_list_release(&p->list);
	memset(p, 0, sizeof(*p));
}

/* Every alias of every live body in word-key form, for matching names
 * that say the same words in another order or number, sorted by key (a
 * statement of thousands of addressees asks several times for each), and
 * the phrases taught. */
struct key_index {
	struct key_entry {
		char *key;
		int64_t body_id;
	} *e;
	size_t n, alloc;
	struct db *db;
	int64_t current;
	struct addressee_rules rules;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->body_id > y->body_id) - (x->body_id < y->body_id);
}

static int index_alias(const char *alias, void *arg)
{
	struct key_index *ix = arg;

	xgrow(&ix->e, sizeof(*ix->e), ix->n + 1, &ix->alloc);
	ix->e[ix->n].key = names_word_key(alias);
	ix->e[ix->n].body_id = ix->current;
	ix->n++;
	return 0;
}

struct id_vec {
	int64_t *v;
	size_t n, alloc;
};

static int collect_body(const struct registry_body *b, void *arg)
{
	struct id_vec *ids = arg;

	xgrow(&ids->v, sizeof(*ids->v), ids->n + 1, &ids->alloc);
	ids->v[ids->n++] = b->id;
	return 0;
}

static int index_build(struct db *db, struct key_index *ix, struct error *err)
{
	struct id_vec ids = {0};
	int rc;

	ix->db = db;
	rc = registry_body_each(db, NULL, collect_body, &ids, err);
	for (size_t i = 0; rc == 0 && i < ids.n; i++) {
		ix->current = ids.v[i];
		rc = registry_alias_each(db, ids.v[i], index_alias, ix, err);
	}
	free(ids.v);
	if (ix->n)
		qsort(ix->e, ix->n, sizeof(*ix->e), key_cmp);
	if (rc == 0)
		rc = addressee_rules_load(db, &ix->rules, err);
	return rc;
}

static void index_release(struct key_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->e[i].key);
	free(ix->e);
	addressee_rules_release(&ix->rules);
	memset(ix, 0, sizeof(*ix));
}

/* Distinct bodies whose word key equals that of name (up to max). */
static int index_match(const struct key_index *ix, const char *name,
		       int64_t *ids, int max)
{
	char *key = names_word_key(name);
	size_t lo = 0, hi = ix->n;
	int64_t last = 0;
	int n = 0;

	while (lo < hi) { /* the first entry not below key */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->e[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* equal keys are sorted by body: each body once */
	for (size_t i = lo; *key && i < ix->n &&
			    strcmp(ix->e[i].key, key) == 0; i++) {
		if (n && ix->e[i].body_id == last)
			continue;
		last = ix->e[i].body_id;
		if (n < max)
			ids[n] = last;
		n++;
	}
	free(key);
	return n;
}

static char *cooperation_variant(const char *name);

static bool known_name(const char *name, void *arg)
{
	const struct key_index *ix = arg;
	struct error err = ERROR_INIT;
	int64_t ids[2];
	char *s = xstrdup(name), *alt;
	bool hit;

	while (addressee_strip_prefix(&s, "and") ||
	       addressee_strip_prefix(&s, "the"))
		;
	hit = addressee_rules_find(&ix->rules, s) != NULL ||
	      registry_match_name(ix->db, s, ids, 2, &err) == 1 ||
	      index_match(ix, s, ids, 2) == 1;
	if (!hit && (alt = cooperation_variant(s)) != NULL) {
		hit = registry_match_name(ix->db, alt, ids, 2, &err) == 1 ||
		      index_match(ix, alt, ids, 2) == 1;
		free(alt);
	}
	free(s);
	return hit;
}

static char *body_label(const struct registry_body *b)
{
	return b->acronym ? xasprintf("%s - %s", b->acronym, b->name)
			  : xstrdup(b->name);
}

/* Sets the row's evidence (replacing any) and confidence. */
static void set_evidence(struct addressee_match *m,
			 enum addressee_confidence c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_evidence(struct addressee_match *m,
			 enum addressee_confidence c, const char *fmt, ...)
{
	struct sbuf b = SBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(m->evidence);
	m->evidence = sbuf_detach(&b, NULL);
	m->confidence = c;
}

/* Fills m for a body found by id. */
static int match_body(struct db *db, int64_t id, enum addressee_confidence c,
		      const char *evidence, struct addressee_match *m,
		      struct error *err)
{
	struct registry_body b = {0};
	int rc = registry_body_get(db, id, &b, err);

	if (rc)
		return rc;
	m->res = ADDRESSEE_BODY;
	m->body_id = id;
	free(m->target);
	m->target = body_label(&b);
	set_evidence(m, c, "%s", evidence);
	registry_body_release(&b);
	return 0;
}

static int match_ambiguous(struct db *db, const int64_t *ids, int n,
			   struct addressee_match *m, struct error *err)
{
	struct sbuf t = SBUF_INIT;

	for (int i = 0; i < n && i < 8; i++) {
		struct registry_body b = {0};
		int rc = registry_body_get(db, ids[i], &b, err);

		if (rc) {
			sbuf_release(&t);
			return rc;
		}
		if (t.len)
			sbuf_addstr(&t, " | ");
		sbuf_addstr(&t, b.acronym ? b.acronym : b.name);
		registry_body_release(&b);
	}
	m->res = ADDRESSEE_AMBIGUOUS;
	free(m->target);
	m->target = sbuf_detach(&t, NULL);
	set_evidence(m, ADDRESSEE_LOW, "%d bodies have this name", n);
	return 0;
}

/* By name: alias or normalised name (high, or as the caller says), then
 * the same words in another order or number (medium). */
static int match_name(struct db *db, const struct key_index *ix,
		      const char *name, const char *evidence,
		      struct addressee_match *m, struct error *err)
{
	int64_t ids[8];
	int n = registry_match_name(db, name, ids, 8, err);

	if (n < 0)
		return n;
	if (n == 1)
		return match_body(db, ids[0],
				  evidence ? ADDRESSEE_MEDIUM : ADDRESSEE_HIGH,
				  evidence ? evidence : "alias", m, err);
	if (n > 1)
		return match_ambiguous(db, ids, n, m, err);
	n = index_match(ix, name, ids, 8);
	if (n == 1)
		return match_body(db, ids[0], ADDRESSEE_MEDIUM,
				  evidence ? evidence : "word-order match", m,
				  err);
	if (n > 1)
		return match_ambiguous(db, ids, n, m, err);
	return 0;
}

/* The same name with "Cooperation" written "Co-operation" or the other
 * way round (the normalised forms differ by a word); NULL when it has
 * neither. Caller frees. */
static char *cooperation_variant(const char *name)
{
	static const char *const pairs[][2] = {
		{"Co-operation", "Cooperation"}, {"co-operation", "cooperation"},
		{"Cooperation", "Co-operation"}, {"cooperation", "co-operation"},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *at = strstr(name, pairs[i][0]);

		if (at)
			return xasprintf("%.*s%s%s", (int)(at - name), name,
					 pairs[i][1], at + strlen(pairs[i][0]));
	}
	return NULL;
}

/* match_name, then with the other spelling of "cooperation". */
static int match_name_variants(struct db *db, const struct key_index *ix,
			       const char *name, const char *evidence,
			       struct addressee_match *m, struct error *err)
{
	int rc = match_name(db, ix, name, evidence, m, err);
	char *alt;

	if (rc || m->target || !(alt = cooperation_variant(name)))
		return rc;
	rc = match_name(db, ix, alt, evidence ? evidence : "spelling variant",
			m, err);
	free(alt);
	return rc;
}

static int resolve_group(struct db *db, const struct addressee *a,
			 struct addressee_match *m, struct error *err)
{
	int rc = addressee_plan_group_list(db, a->group_kind,
					   a->group_country, false,
					   &m->list_id, err);

	if (rc)
		return rc;
	m->res = ADDRESSEE_GROUP;
	if (a->warning)
		set_evidence(m, ADDRESSEE_MEDIUM,
			     "group: every %s (membership unknown)",
			     a->group_kind);
	else if (a->group_country)
		set_evidence(m, ADDRESSEE_HIGH, "group: every %s of %s",
			     a->group_kind, a->group_country);
	else
		set_evidence(m, ADDRESSEE_HIGH, "group: every %s",
			     a->group_kind);
	m->target = addressee_group_list_name(a->group_kind, a->group_country);
	if (!m->list_id) {
		char *t = xasprintf("%s (NEW list)", m->target);

		free(m->target);
		m->target = t;
	}
	return 0;
}

/* A phrase taught with `registry teach`: the phrase, the written form,
 * then the acronym. *hit when one applies (m filled); a warning about
 * the phrase ("membership unknown") is answered by the rule and goes. */
static int resolve_taught(struct db *db, const struct key_index *ix,
			  struct addressee *a, struct addressee_match *m,
			  bool *hit, struct error *err)
{
	const char *tries[] = {a->phrase, a->written, a->acronym};
	const struct addressee_rule *r = NULL;

	*hit = false;
	for (size_t k = 0; !r && k < sizeof(tries) / sizeof(tries[0]); k++)
		r = tries[k] ? addressee_rules_find(&ix->rules, tries[k])
			     : NULL;
	if (!r)
		return 0;
	*hit = true;
	m->taught = true;
	free(a->warning);
	a->warning = NULL;
	if (r->body_id)
		return match_body(db, r->body_id, ADDRESSEE_HIGH, "taught", m,
				  err);
	m->res = ADDRESSEE_GROUP;
	m->list_id = r->list_id;
	m->target = xstrdup(r->target);
	set_evidence(m, ADDRESSEE_HIGH, "taught");
	return 0;
}

/* What a row's back-reference names, as the plan shows it: the acronym of
 * the body it refers to when that is the organisation put in, else the
 * organisation's name. */
static char *backref_label(const struct addressee_plan *p,
			   const struct addressee *a)
{
	const struct addressee_match *r = &p->matches[a->ref];

	if (r->res == ADDRESSEE_BODY && r->target &&
	    strcmp(p->list.items[a->ref].phrase, a->ref_name) == 0)
		return xstrndup(r->target, strcspn(r->target, " "));
	return xstrdup(a->ref_name);
}

/*
 * The organs statements name without "UN" ("the Human Rights Council",
 * "the Security Council"): when the phrase alone matches nothing, the
 * UN's organ of that name, with medium confidence. Only these names:
 * "the Council" or "the Assembly" of another organisation stay NEW.
 */
static int implied_un(struct db *db, const struct key_index *ix,
		      const struct addressee *a, struct addressee_match *m,
		      struct error *err)
{
	static const char *const organs[] = {
		"Security Council", "General Assembly", "Human Rights Council",
		"Economic and Social Council", "Secretary-General",
		"Secretary General", "High Commissioner for Human Rights",
		"High Commissioner for Refugees",
	};
	const char *ph = a->phrase;
	char *alt;
	int rc;

	if (strncasecmp(ph, "the ", 4) == 0)
		ph += 4;
	for (size_t i = 0; i < sizeof(organs) / sizeof(organs[0]); i++) {
		if (strcasecmp(ph, organs[i]) != 0)
			continue;
		alt = xasprintf("UN %s", ph);
		rc = match_name(db, ix, alt, "UN implied", m, err);
		free(alt);
		if (rc == 0 && m->res == ADDRESSEE_BODY)
			set_evidence(m, ADDRESSEE_MEDIUM, "UN implied: the "
				     "%s", ph);
		return rc;
	}
	return 0;
}

static int resolve_one(struct db *db, const struct key_index *ix,
		       struct addressee_plan *p, size_t i, struct error *err)
{
	struct addressee *a = &p->list.items[i];
	struct addressee_match *m = &p->matches[i];
	struct registry_body b = {0};
	const char *acr = a->acronym, *kind, *cue, *why;
	bool taught;
	int rc;

	rc = resolve_taught(db, ix, a, m, &taught, err);
	if (rc || taught)
		return rc;
	if (a->group)
		return resolve_group(db, a, m, err);
	if (!acr && addressee_acronym_like(a->phrase, strlen(a->phrase)))
		acr = a->phrase;
	/* "OSCE/ODIHR": the whole, else the office after the slash */
	for (int k = 0; acr && k < 2; k++) {
		const char *try = k == 0 ? acr : strrchr(acr, '/');

		if (!try)
			break;
		rc = registry_body_find(db, try + (k == 1), &b, err);
		if (rc == 0) {
			char *ev = k == 0 ? xstrdup("exact acronym")
					  : xasprintf("acronym %s of %s",
						      try + 1, acr);

			rc = match_body(db, b.id, ADDRESSEE_HIGH, ev, m, err);
			free(ev);
			registry_body_release(&b);
			return rc;
		}
		if (rc != ERR_NOTFOUND && rc != ERR_DATA)
			return rc;
		error_clear(err);
	}
	rc = match_name_variants(db, ix, a->phrase, NULL, m, err);
	if (rc)
		return rc;
	/* "... of this Organization": the referenced body's own name */
	if (!m->target && a->ref >= 0 &&
	    p->matches[a->ref].res == ADDRESSEE_BODY) {
		const char *prev = p->list.items[a->ref].phrase;
		const char *at = strstr(a->phrase, prev);

		if (at && registry_body_get(db, p->matches[a->ref].body_id, &b,
					    err) == 0) {
			size_t head = (size_t)(at - a->phrase);
			/* "its Office for ..." is "Office for ... of OSCE",
			 * which the registry may know as "OSCE Office for
			 * ..." */
			bool tail = head > 4 && !at[strlen(prev)] &&
				    strncmp(at - 4, " of ", 4) == 0;
			char *alts[3] = {
				xasprintf("%.*s%s%s", (int)head, a->phrase,
					  b.name, at + strlen(prev)),
				tail && b.acronym
					? xasprintf("%s %.*s", b.acronym,
						    (int)head - 4, a->phrase)
					: NULL,
				tail ? xasprintf("%s %.*s", b.name,
						 (int)head - 4, a->phrase)
				     : NULL,
			};

			registry_body_release(&b);
			for (size_t k = 0; rc == 0 && !m->target && k < 3; k++)
				if (alts[k])
					rc = match_name(db, ix, alts[k],
							"back-reference", m,
							err);
			for (size_t k = 0; k < 3; k++)
				free(alts[k]);
			if (rc)
				return rc;
		}
	}
	if (m->target && a->ref >= 0 && a->ref_name &&
	    m->res == ADDRESSEE_BODY) {
		char *label = backref_label(p, a);

		set_evidence(m, ADDRESSEE_MEDIUM, "back-reference to %s",
			     label);
		free(label);
	}
	if (m->target)
		return 0;
	/* "the Human Rights Council" of a UN statement: the UN's */
	if ((rc = implied_un(db, ix, a, m, err)) != 0)
		return rc;
	if (m->target)
		return 0;
	/* "the President of the UN Security Council": the body, the office
	 * kept as the role; "the Permanent Representative of Georgia" is
	 * Georgia's mission, named whole */
	if (addressee_role_len(a->phrase) && !m->role &&
	    !addressee_country_len(a->phrase + addressee_role_len(a->phrase))) {
		size_t r = addressee_role_len(a->phrase);
		const char *rest = a->phrase + r;
		char *role = xstrndup(a->phrase, r - 4); /* without " of " */

		if (strncasecmp(rest, "the ", 4) == 0)
			rest += 4;
		rest = xstrdup(rest);
		m->role = role;
		free(a->phrase);
		a->phrase = (char *)rest;
		rc = resolve_one(db, ix, p, i, err);
		if (rc || m->res != ADDRESSEE_BODY)
			return rc;
		set_evidence(m, m->confidence, "office-holder of %.*s",
			     (int)strcspn(m->target, " "), m->target);
		return 0;
	}
	m->res = ADDRESSEE_NEW;
	kind = addressee_propose_kind(a->phrase, &cue, &why);
	m->target = xstrdup(kind);
	/* "justice", "reparation": a lower-case fragment is no name */
	if (!addressee_capitalised(a->phrase) &&
	    !addressee_acronym_like(a->phrase, strlen(a->phrase))) {
		m->guess = true;
		set_evidence(m, ADDRESSEE_LOW,
			     "guess: new body from words that are no name "
			     "(--accept to add it)");
	} else if (addressee_country_len(a->phrase) == strlen(a->phrase)) {
		/* "... in Azerbaijan and Armenia": a country is no body */
		m->guess = true;
		set_evidence(m, ADDRESSEE_LOW,
			     "guess: new body named as a country (--accept to "
			     "add it)");
	} else if (cue) {
		set_evidence(m, ADDRESSEE_MEDIUM,
			     "new body; kind %s proposed from '%s' (%s)", kind,
			     cue, why);
	} else {
		set_evidence(m, ADDRESSEE_MEDIUM,
			     "new body; kind other (%s)", why);
	}
	return 0;
}

static int plan_build(struct db *db, const char *text, size_t len,
		      size_t start, bool anchored,
		      struct addressee_plan *plan, struct error *err)
{
	struct key_index ix = {0};
	int rc;

	rc = index_build(db, &ix, err);
	if (rc)
		goto out;
	rc = anchored ? addressee_parse_at(text, len, start, known_name, &ix,
					   &plan->list, err)
		      : addressee_parse(text, len, known_name, &ix,
					&plan->list, err);
	if (rc)
		goto out;
	plan->matches = xcalloc(plan->list.count, sizeof(*plan->matches));
	for (size_t i = 0; rc == 0 && i < plan->list.count; i++)
		rc = resolve_one(db, &ix, plan, i, err);
out:
	index_release(&ix);
	return rc;
}

int addressee_plan_build(struct db *db, const char *text, size_t len,
			 struct addressee_plan *plan, struct error *err)
{
	return plan_build(db, text, len, 0, false, plan, err);
}

int addressee_plan_build_at(struct db *db, const char *text, size_t len,
			    size_t start, struct addressee_plan *plan,
			    struct error *err)
{
	return plan_build(db, text, len, start, true, plan, err);
}

/* ---- applying ------------------------------------------------------------ */

/* Records name as an alias of body unless it already matches it. */
static int note_alias(struct db *db, int64_t body_id, const char *name,
		      struct addressee_apply_stats *st, struct error *err)
{
	int64_t ids[16];
	int n;

	if (!name || !*name)
		return 0;
	n = registry_match_name(db, name, ids, 16, err);
	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 16; i++)
		if (ids[i] == body_id)
			return 0;
	st->aliases_added++;
	return registry_alias_add(db, body_id, name, "statement", err);
}

static int apply_one(struct db *db, const struct addressee *a,
		     struct addressee_match *m, int64_t list_id,
		     struct addressee_apply_stats *st, struct error *err)
{
	int rc = 0;

	if (m->res == ADDRESSEE_GROUP) {
		if (!m->list_id) {
			rc = addressee_plan_group_list(db, a->group_kind,
						       a->group_country, true,
						       &m->list_id, err);
			st->lists_created += rc == 0;
		}
		if (rc == 0 && list_id)
			rc = list_add_list(db, list_id, m->list_id, err);
		return rc;
	}
	if (m->res == ADDRESSEE_NEW) {
		int64_t ids[2];
		int n = registry_match_name(db, a->phrase, ids, 2, err);

		if (n < 0)
			return n;
		if (n == 1) { /* named twice in one statement */
			m->body_id = ids[0];
		} else {
			rc = registry_body_add(db, a->acronym, a->phrase,
					       m->target, NULL,
					       "added from a statement",
					       &m->body_id, err);
			if (rc)
				return rc;
			st->bodies_added++;
		}
		m->res = ADDRESSEE_BODY;
	}
	if (!m->taught)
		rc = note_alias(db, m->body_id, a->phrase, st, err);
	if (rc == 0 && !m->taught)
		rc = note_alias(db, m->body_id, a->acronym, st, err);
	if (rc == 0 && list_id)
		rc = list_add_body(db, list_id, m->body_id, err);
	return rc;
}

static int target_list(struct db *db, const char *name, int64_t *id,
		       struct addressee_apply_stats *st, struct error *err)
{
	struct list_info li = {0};
	int rc;

	*id = 0;
	if (!name)
		return 0;
	rc = list_find(db, name, &li, err);
	if (rc == 0) {
		*id = li.id;
		rc = li.kind == LIST_STATIC
			     ? 0
			     : error_set(err, ERR_DATA,
					 "list '%s' is a rule list; addressees "
					 "go to a static list", name);
		list_info_release(&li);
		return rc;
	}
	if (rc != ERR_NOTFOUND)
		return rc;
	error_clear(err);
	st->lists_created++;
	return list_create(db, name, LIST_STATIC,
			   "addressees of a statement", id, err);
}

struct id_set {
	int64_t *v;
	size_t n, alloc;
};

static void id_add(struct id_set *s, int64_t id)
{
	xgrow(&s->v, sizeof(*s->v), s->n + 1, &s->alloc);
	s->v[s->n++] = id;
}

static bool id_has(const struct id_set *s, int64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return true;
	return false;
}

static int collect_list_body(const struct registry_body *b, void *arg)
{
	id_add(arg, b->id);
	return 0;
}

static int collect_list(const struct list_info *l, void *arg)
{
	id_add(arg, l->id);
	return 0;
}

/* Removes a member that is not wanted; not being a direct member (a body
 * that only comes through a group list) is no error. */
static int drop_member(struct db *db, int64_t list_id, int64_t id,
		       bool is_list, struct addressee_apply_stats *st,
		       struct error *err)
{
	int rc = is_list ? list_remove_list(db, list_id, id, err)
			 : list_remove_body(db, list_id, id, err);

	if (rc == ERR_NOTFOUND) {
		error_clear(err);
		return 0;
	}
	st->members_removed += rc == 0;
	return rc;
}

/*
 * Leaves in the list only the statement's addressees: bodies reached
 * through the list (direct members among them) and every other list are
 * tried for removal. The list API names no direct members, so this asks
 * for each candidate; lists are few and this runs once per import.
 */
static int refresh_list(struct db *db, int64_t list_id,
			const struct addressee_plan *plan,
			struct addressee_apply_stats *st, struct error *err)
{
	struct id_set want_b = {0}, want_l = {0}, have_b = {0}, lists = {0};
	int rc;

	for (size_t i = 0; i < plan->list.count; i++) {
		if (plan->matches[i].res == ADDRESSEE_GROUP)
			id_add(&want_l, plan->matches[i].list_id);
		else
			id_add(&want_b, plan->matches[i].body_id);
	}
	rc = list_each_body(db, list_id, collect_list_body, &have_b, err);
	if (rc == 0)
		rc = list_each(db, collect_list, &lists, err);
	for (size_t i = 0; rc == 0 && i < have_b.n; i++)
		if (!id_has(&want_b, have_b.v[i]))
			rc = drop_member(db, list_id, have_b.v[i], false, st,
					 err);
	for (size_t i = 0; rc == 0 && i < lists.n; i++)
		if (lists.v[i] != list_id && !id_has(&want_l, lists.v[i]))
			rc = drop_member(db, list_id, lists.v[i], true, st, err);
	free(want_b.v);
	free(want_l.v);
	free(have_b.v);
	free(lists.v);
	return rc;
}

int addressee_plan_apply(struct db *db, struct addressee_plan *plan,
			 const char *list_name,
			 struct addressee_apply_stats *stats,
			 struct error *err)
{
	struct addressee_apply_stats st = {0};
	int64_t list_id = 0;
	int rc;

	for (size_t i = 0; i < plan->list.count; i++)
		if (plan->matches[i].res == ADDRESSEE_AMBIGUOUS)
			return error_set(err, ERR_DATA,
					 "addressee '%s' is ambiguous (%s); "
					 "record an alias for the right body "
					 "first", plan->list.items[i].written,
					 plan->matches[i].target);
	rc = db_begin(db, err);
	if (rc)
		return rc;
	rc = target_list(db, list_name, &list_id, &st, err);
	for (size_t i = 0; rc == 0 && i < plan->list.count; i++) {
		if (plan->matches[i].guess && !plan->matches[i].accepted) {
			st.guesses_skipped++;
			continue;
		}
		rc = apply_one(db, &plan->list.items[i], &plan->matches[i],
			       list_id, &st, err);
		if (rc)
			error_prefix(err, "addressee '%s'",
				     plan->list.items[i].written);
	}
	if (rc == 0 && list_id)
		rc = refresh_list(db, list_id, plan, &st, err);
	if (rc == 0)
		rc = db_commit(db, err);
	if (rc)
		db_rollback(db);
	else if (stats)
		*stats = st;
	return rc;
}
