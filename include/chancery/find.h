/*
 * find: search the registry (bodies' acronyms and names, aliases, and
 * contacts' addresses, names and roles) for a text, as office staff type
 * it: without accents or case mattering ("defensoria" finds
 * "Defensoría"). Matching is ICU's collation-based search (usearch) with
 * the root collator at primary strength and with spaces and punctuation
 * ignorable (alternate shifted), so every script's accents, case and
 * width variants fold the way ICU defines, not by a table of our own,
 * and "secretary general" finds "Secretary-General".
 *
 * Matches are ranked: an exact acronym, then an exact name, alias or
 * contact field, then a match at the start of the text or of a word, then
 * any substring; within a rank by the body's name (collated), then body,
 * alias, contact.
 */
#ifndef CHANCERY_FIND_H
#define CHANCERY_FIND_H

#include <stddef.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"

enum find_rank {
	FIND_EXACT_ACRONYM,
	FIND_EXACT,
	FIND_PREFIX, /* at the start of the text or of a word */
	FIND_SUBSTRING,
};

/* "exact_acronym", "exact", "prefix", "substring". */
const char *find_rank_name(enum find_rank rank);

struct find_match {
	enum find_rank rank;
	char *kind;  /* body, alias, contact */
	char *field; /* acronym, name, alias, email, role */
	int64_t body_id;
	char *body; /* the body's acronym, or its name */
	char *body_name;
	int64_t contact_id; /* 0 unless kind is contact */
	char *text;         /* what matched, as stored */
};

/* The matches, best first; owned by the struct. */
struct find_result {
	struct find_match *v;
	size_t n;
};
void find_result_release(struct find_result *r);

/*
 * Searches for text (at least one letter or digit after folding: ERR_USAGE
 * otherwise) and fills *out with at most limit matches (0: all). A text
 * that is an e-mail address is searched in its canonical form too, so
 * the A-label spelling of an IDN finds the stored Unicode one.
 */
int find_search(struct db *db, const char *text, size_t limit,
		struct find_result *out, struct error *err);

#endif
