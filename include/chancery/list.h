/*
 * list: named addressee lists. A static list names its members (bodies,
 * or other lists, expanded recursively; cycles are refused when added); a
 * rule list takes every live body of a kind, optionally of one country
 * ("diplomatic missions of foreign countries in Azerbaijan").
 */
#ifndef CHANCERY_LIST_H
#define CHANCERY_LIST_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/registry.h"

enum list_kind { LIST_STATIC, LIST_RULE };

struct list_info {
	int64_t id;
	char *name;
	enum list_kind kind;
	char *description; /* NULL when none */
};
void list_info_release(struct list_info *l);

int list_create(struct db *db, const char *name, enum list_kind kind,
		const char *description, int64_t *id_out, struct error *err);
/* ERR_NOTFOUND naming the list when there is none of that name. */
int list_find(struct db *db, const char *name, struct list_info *out,
	      struct error *err);
int list_get(struct db *db, int64_t id, struct list_info *out,
	     struct error *err);
/* Deletes a list no campaign or series uses (else ERR_DATA naming it). */
int list_delete(struct db *db, int64_t id, struct error *err);
int list_each(struct db *db, int (*fn)(const struct list_info *l, void *arg),
	      void *arg, struct error *err);

/* Whether list inner is outer or is reached from it through member
 * lists (whose change therefore changes outer's content). */
int list_reaches(struct db *db, int64_t outer, int64_t inner, bool *yes,
		 struct error *err);

/* Static lists: members in order; adding one already there is a no-op. */
int list_add_body(struct db *db, int64_t list_id, int64_t body_id,
		  struct error *err);
/* Refuses a member list that contains list_id (directly or not). */
int list_add_list(struct db *db, int64_t list_id, int64_t member_list_id,
		  struct error *err);
int list_remove_body(struct db *db, int64_t list_id, int64_t body_id,
		     struct error *err);
int list_remove_list(struct db *db, int64_t list_id, int64_t member_list_id,
		     struct error *err);

/*
 * Moves body from's static list entries to body to, each at the position
 * it had; where to is already a member, from's entry goes (no duplicate).
 * fn(list name, already, arg) is told of each list, in name order. For a
 * merge (registry_body_merge), inside its transaction; no ledger event.
 */
int list_move_body(struct db *db, int64_t from, int64_t to,
		   int (*fn)(const char *list, bool already, void *arg),
		   void *arg, struct error *err);

/* Rule lists: every live body of kind (and of country when not NULL). */
int list_add_rule(struct db *db, int64_t list_id, const char *kind,
		  const char *country, struct error *err);

/*
 * The live bodies of a list, expanded through member lists and rules, each
 * once, in list order: fn is called for each; a non-zero return stops.
 */
int list_each_body(struct db *db, int64_t list_id, registry_body_fn fn,
		   void *arg, struct error *err);
/* Every live contact of every body of the list (any status). */
int list_each_contact(struct db *db, int64_t list_id, registry_contact_fn fn,
		      void *arg, struct error *err);
/* One entry of a list as it is written, not expanded: a body or a
 * member list of a static list (by position), or a rule. Strings valid
 * during the call only. */
struct list_member {
	int position;             /* static members: 1, 2, ... */
	int64_t body_id;          /* a body member, else 0 */
	const char *body_acronym; /* NULL when none */
	const char *body_name;
	bool body_removed;        /* removed since: not in the expansion */
	int64_t list_id;          /* a member list, else 0 */
	const char *list_name;
	const char *rule_kind;    /* a rule, else NULL */
	const char *rule_country; /* the rule's country, or NULL for any */
};
/* The members of a list in order, then its rules (the structure the
 * console shows beside the expansion); a non-zero return from fn stops
 * the walk and is returned. */
int list_each_member(struct db *db, int64_t list_id,
		     int (*fn)(const struct list_member *m, void *arg),
		     void *arg, struct error *err);
/* How many bodies and contacts (any status) the list expands to. */
int list_count(struct db *db, int64_t list_id, int *bodies, int *contacts,
	       struct error *err);

#endif
