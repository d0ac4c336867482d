/*
 * addressee: the closing addressee paragraph of a statement ("The
 * statement has been sent to the UN Secretary-General (UNSG), ... and
 * diaspora organizations of Azerbaijan."), turned into addressees, and
 * those resolved against the registry.
 *
 * Parsing is a pure function of the text (plus an optional "is this a
 * known name?" callback that lets the registry keep names such as
 * "Organization for Security and Cooperation in Europe" whole when they
 * are written without an acronym). Resolving reads the registry;
 * applying writes it, in one transaction.
 *
 * Group addressees ("diplomatic missions of foreign countries in
 * Azerbaijan") name a class of bodies, not one body: they resolve to a
 * rule list named "group/<kind>[/<country>]" whose rule is that kind and
 * country. Country codes are ISO 3166 alpha-2 ("AZ"); a body's country is
 * the state it belongs to (for embassies: the sending state).
 */
#ifndef CHANCERY_ADDRESSEE_H
#define CHANCERY_ADDRESSEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/sbuf.h"

struct addressee {
	char *written;  /* as written (white space and hyphenation repaired) */
	char *acronym;  /* from "(ACR)" after the name; NULL when none */
	char *phrase;   /* qualifiers ("the heads of") and acronym removed,
			   back-reference replaced: what is matched */
	int ref;        /* index of the addressee "this Organization" names,
			   -1 when none */
	bool group;     /* a class of bodies, not one body */
	char *group_kind;    /* for a group: the body kind */
	char *group_country; /* for a group: ISO code, NULL for any */
	char *warning;  /* what the plan should say about it, or NULL
			   ("the member states of X": membership unknown) */
};

/* Where the addressee passage was read: lines of the file (1-based,
 * inclusive) and how many sentences it joined. */
struct addressee_passage {
	size_t first_line, last_line;
	size_t sentences;
};

struct addressee_list {
	struct addressee_passage passage;
	struct addressee *items;
	size_t count;
	size_t alloc;
};

void addressee_list_release(struct addressee_list *l);

/* Answers whether name is a known body name (used to avoid splitting a
 * name at "and" or at commas); arg is the caller's. */
typedef bool (*addressee_known_fn)(const char *name, void *arg);

/*
 * Checks that text is a statement one can read: not empty, no NUL bytes
 * (a binary file), valid UTF-8. ERR_DATA naming the problem.
 */
int addressee_check_text(const char *text, size_t len, struct error *err);

/*
 * Finds the closing addressee passage: a sentence introduced by "has been
 * sent to", "is addressed to", "was (also) forwarded to", ... with the
 * sentences and paragraphs that directly follow it and continue it
 * ("Besides, it was also sent to", "Copies were sent to", the items of a
 * bulleted list); of such passages, the one that lists the most (the
 * latest on a tie). Puts the text after each trigger into list_text,
 * joined by "; ", with page breaks, list bullets, hyphenation across
 * lines and white space repaired, lead-ins ("the following
 * organizations:") and full stops removed; where (may be NULL) gets the
 * lines read. ERR_DATA when the text has none.
 */
int addressee_find_paragraph(const char *text, size_t len,
			     struct sbuf *list_text,
			     struct addressee_passage *where,
			     struct error *err);

/*
 * The whole parse: check, find the paragraph, split it into addressees
 * (appended to out, which the caller initialised to {0}). known may be
 * NULL. ERR_DATA when there is no paragraph or it names no one.
 */
int addressee_parse(const char *text, size_t len, addressee_known_fn known,
		    void *arg, struct addressee_list *out, struct error *err);

/*
 * Whether phrase names a class of bodies; if so *kind gets a static kind
 * name and *country a new ISO code or NULL (caller frees).
 */
bool addressee_group_classify(const char *phrase, const char **kind,
			      char **country);

/* The rule list name of a group: "group/embassy/AZ" (caller frees). */
char *addressee_group_list_name(const char *kind, const char *country);

/*
 * Finds or (when create) creates the rule list of a group. *list_id gets
 * its id, or 0 when it does not exist and create is false.
 */
int addressee_group_list(struct db *db, const char *kind, const char *country,
			 bool create, int64_t *list_id, struct error *err);

/* The kind a new body named phrase most likely has (static string). */
const char *addressee_guess_kind(const char *phrase);

enum addressee_resolution {
	ADDRESSEE_BODY,      /* one registry body */
	ADDRESSEE_GROUP,     /* a group rule list (existing or not) */
	ADDRESSEE_AMBIGUOUS, /* several bodies match */
	ADDRESSEE_NEW,       /* no body matches: --apply adds one */
};

const char *addressee_resolution_name(enum addressee_resolution r);

struct addressee_match {
	enum addressee_resolution res;
	int64_t body_id;   /* BODY */
	char *target;      /* BODY: "ACR - name"; GROUP: list name;
			      NEW: guessed kind; AMBIGUOUS: the candidates */
	const char *evidence; /* "acronym", "alias", "words", "back-reference",
				 "group", "" (static) */
	int64_t list_id;   /* GROUP: 0 while the list does not exist */
	char *role;        /* "President" when the statement named the
			      holder of an office of the body; else NULL.
			      The addressee's phrase is then the body's. */
	bool guess;        /* rests on a guess (a NEW body from a phrase that
			      is no name): applied only when accepted */
	bool accepted;     /* set by the caller (--accept N) */
};

struct addressee_plan {
	struct addressee_list list;
	struct addressee_match *matches; /* one per list item */
};

void addressee_plan_release(struct addressee_plan *p);

/*
 * Parses text and resolves every addressee against the registry; nothing
 * is written. plan must be zeroed by the caller.
 */
int addressee_plan_build(struct db *db, const char *text, size_t len,
			 struct addressee_plan *plan, struct error *err);

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
 * "statement"), creates missing group lists, and when list_name is not
 * NULL creates or refreshes that static list so that its members are
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
