/*
 * addressee_rule: phrases a person taught import-statement ("registry
 * teach PHRASE BODY|LIST"). A rule says that a phrase, compared in the
 * normalised form of names.h, names one body or one list (a group alias:
 * "the ombudsmen of the OIC member states" → a list of them). The
 * resolver (addressee_plan) consults the rules before any match it makes
 * itself, so a correction taught once holds for every later statement.
 *
 * Teaching and unteaching append phrase.taught / phrase.untaught ledger
 * events (the actor is the connection's) in the transaction that changes
 * the rule. The table is phrase_rules (migration 0014).
 */
#ifndef CHANCERY_ADDRESSEE_RULE_H
#define CHANCERY_ADDRESSEE_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"

/* A stored rule; strings owned by the struct. */
struct addressee_rule {
	int64_t id;
	char *phrase; /* as taught */
	char *norm;   /* names_normalise(phrase) */
	int64_t body_id; /* the body, or 0 */
	int64_t list_id; /* the list, or 0 */
	char *target;    /* "ACR - name" of the body, or the list's name */
	int64_t created_at;
};

void addressee_rule_release(struct addressee_rule *r);

/*
 * Stores the rule phrase → target, replacing the one the phrase had.
 * target is a body (acronym, name, alias or "#ID") or, when no body has
 * that name, a list by name; "list:NAME" names the list outright. Errors
 * (nothing changed): a phrase with no words (ERR_USAGE); no body or list
 * of that name, a removed body (ERR_NOTFOUND); a name that several
 * bodies share (ERR_DATA). out (may be NULL) gets the rule as stored.
 */
int addressee_rule_teach(struct db *db, const char *phrase, const char *target,
			 struct addressee_rule *out, struct error *err);

/* Removes the rule of phrase (normalised); ERR_NOTFOUND naming it when
 * there is none. */
int addressee_rule_unteach(struct db *db, const char *phrase,
			   struct error *err);

/* Calls fn for every rule, ordered by phrase; fn's non-zero return stops
 * the walk and is returned. */
typedef int (*addressee_rule_fn)(const struct addressee_rule *r, void *arg);
int addressee_rule_each(struct db *db, addressee_rule_fn fn, void *arg,
			struct error *err);

/*
 * Every rule in memory, sorted by norm, for the resolver: a statement of
 * thousands of addressees asks once per addressee and once per candidate
 * name, so a lookup is a binary search, not a query.
 */
struct addressee_rules {
	struct addressee_rule *v;
	size_t n, alloc;
};

int addressee_rules_load(struct db *db, struct addressee_rules *rules,
			 struct error *err);
/* The rule whose norm equals names_normalise(phrase), or NULL. */
const struct addressee_rule *
addressee_rules_find(const struct addressee_rules *rules, const char *phrase);
void addressee_rules_release(struct addressee_rules *rules);

#endif
