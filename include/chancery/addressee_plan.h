/*
 * addressee_plan: the addressees of a statement (parsed by the addressee
 * module) resolved against the registry, and the plan carried out.
 *
 * Resolving reads the registry; applying writes it, in one transaction.
 * A group addressee resolves to its rule list, "group/<kind>[/<country>]"
 * (addressee_group_list_name), which applying creates when missing.
 */
#ifndef CHANCERY_ADDRESSEE_PLAN_H
#define CHANCERY_ADDRESSEE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "chancery/addressee.h"
#include "chancery/db.h"
#include "chancery/error.h"

/*
 * Finds or (when create) creates the rule list of a group. *list_id gets
 * its id, or 0 when it does not exist and create is false.
 */
int addressee_plan_group_list(struct db *db, const char *kind,
			      const char *country, bool create,
			      int64_t *list_id, struct error *err);

enum addressee_resolution {
	ADDRESSEE_BODY,      /* one registry body */
	ADDRESSEE_GROUP,     /* a group rule list (existing or not) */
	ADDRESSEE_AMBIGUOUS, /* several bodies match */
	ADDRESSEE_NEW,       /* no body matches: --apply adds one */
};

const char *addressee_plan_resolution_name(enum addressee_resolution r);

/*
 * How far a row can be trusted. high: an exact acronym, a recorded name
 * or alias, a taught phrase, a group named by its head noun. medium: the
 * same words in another order or spelling, a back-reference, a group
 * whose membership the registry cannot narrow, a new body from a proper
 * name. low: several bodies match, or a new body from a phrase that is
 * no name (a guess: applied only with --accept).
 */
enum addressee_confidence {
	ADDRESSEE_HIGH,
	ADDRESSEE_MEDIUM,
	ADDRESSEE_LOW,
};

const char *addressee_plan_confidence_name(enum addressee_confidence c);

struct addressee_match {
	enum addressee_resolution res;
	int64_t body_id;   /* BODY */
	char *target;      /* BODY: "ACR - name"; GROUP: list name;
			      NEW: guessed kind; AMBIGUOUS: the candidates */
	char *evidence;    /* why: "exact acronym", "alias", "word-order
			      match", "taught", "back-reference to CoE",
			      "office-holder of UNSC", "group: every
			      ombudsman", "new body; kind from ...",
			      "guess: ..." (owned) */
	enum addressee_confidence confidence;
	int64_t list_id;   /* GROUP: 0 while the list does not exist */
	char *role;        /* "President" when the statement named the
			      holder of an office of the body; else NULL.
			      The addressee's phrase is then the body's. */
	bool guess;        /* rests on a guess (a NEW body from a phrase that
			      is no name): confidence low, applied only when
			      accepted */
	bool accepted;     /* set by the caller (--accept N) */
	bool taught;       /* resolved by a phrase rule: applying records no
			      alias (the rule is the record, and unteach
			      undoes it) */
};

struct addressee_plan {
	struct addressee_list list;
	struct addressee_match *matches; /* one per list item */
};

void addressee_plan_release(struct addressee_plan *p);

/*
 * Parses text and resolves every addressee against the registry; nothing
 * is written. plan must be zeroed by the caller. The phrases taught
 * (addressee_rule.h) come first, then acronyms, names and aliases, the
 * same words in another order, back-references and office-holders; what
 * is left is a new body with a proposed kind.
 */
int addressee_plan_build(struct db *db, const char *text, size_t len,
			 struct addressee_plan *plan, struct error *err);

/* The same over the passage that starts at byte start of text (see
 * addressee_parse_at). */
int addressee_plan_build_at(struct db *db, const char *text, size_t len,
			    size_t start, struct addressee_plan *plan,
			    struct error *err);

struct addressee_apply_stats {
	int bodies_added;
	int aliases_added;
	int lists_created;
	int members_removed;
	int guesses_skipped; /* guessed rows not accepted: left out */
};

/*
 * Carries a plan out in one transaction: adds NEW bodies (kind from
 * addressee_guess_kind), records the names written as aliases (source
 * "statement"; not for rows a phrase rule resolved), creates missing
 * group lists, and when list_name is not NULL creates or refreshes that
 * static list so that its members are
 * exactly the addressees, in order (bodies, and group lists for group
 * addressees; other members are removed). A guessed row (match.guess)
 * is left out unless match.accepted. Refuses a plan with an
 * ambiguous addressee (ERR_DATA naming it) and changes nothing then.
 * Applying the same plan again changes nothing.
 */
int addressee_plan_apply(struct db *db, struct addressee_plan *plan,
			 const char *list_name,
			 struct addressee_apply_stats *stats,
			 struct error *err);

#endif
