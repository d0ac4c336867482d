/*
 * addressee: the closing addressee paragraph of a statement ("The
 * statement has been sent to the UN Secretary-General (UNSG), ... and
 * diaspora organizations of Azerbaijan."), turned into addressees.
 *
 * Parsing is a pure function of the text (plus an optional "is this a
 * known name?" callback that lets the registry keep names such as
 * "Organization for Security and Cooperation in Europe" whole when they
 * are written without an acronym). Resolving the addressees against the
 * registry is addressee_plan.h.
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

#include "chancery/error.h"
#include "chancery/sbuf.h"

struct addressee {
	char *written;  /* as written (white space and hyphenation repaired) */
	char *acronym;  /* from "(ACR)" after the name; NULL when none */
	char *phrase;   /* qualifiers ("the heads of") and acronym removed,
			   back-reference replaced: what is matched */
	int ref;        /* index of the addressee "this Organization" names,
			   -1 when none */
	char *ref_name; /* the organisation put in for the back-reference
			   ("Council of Europe", "United Nations"), or NULL */
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
 * The same over the passage a person pointed at: the text from byte
 * start on (lines are still counted from the top of text), and of its
 * passages the first, not the one that lists the most. When the first
 * paragraph from start has no trigger, the text there is the list
 * itself ("Addressees: UNSG, the OSCE ..."), up to the end of its
 * sentence, with any continuations after it.
 */
int addressee_parse_at(const char *text, size_t len, size_t start,
		       addressee_known_fn known, void *arg,
		       struct addressee_list *out, struct error *err);

/*
 * Where the passage a person points at starts. addressee_locate_paragraph:
 * the nth paragraph (1-based; paragraphs are runs of non-blank lines),
 * ERR_USAGE saying how many there are when n is out of range.
 * addressee_locate_text: the first occurrence of needle, white space in
 * it matching any run of white space (a line break in the file); ERR_DATA
 * when it does not occur, ERR_USAGE when it is empty.
 */
int addressee_locate_paragraph(const char *text, size_t len, size_t n,
			       size_t *start, struct error *err);
int addressee_locate_text(const char *text, size_t len, const char *needle,
			  size_t *start, struct error *err);

/*
 * Whether phrase names a class of bodies; if so *kind gets a static kind
 * name and *country a new ISO code or NULL (caller frees).
 */
bool addressee_group_classify(const char *phrase, const char **kind,
			      char **country);

/* The rule list name of a group: "group/embassy/AZ" (caller frees). */
char *addressee_group_list_name(const char *kind, const char *country);

/*
 * The kind a new body named phrase most likely has (a registry kind code,
 * static), from a table of cues in its name: "Public Defender of X" and
 * "Commissioner for Human Rights of X" are national ombudsmen, an
 * "Association/Network/Forum/Institute of ombudsmen or NHRIs" is an
 * ombudsman-assoc, a "National Human Rights Commission" an nhri, ...
 * cue and why (either may be NULL) get the words that decided and the
 * reason, for the plan to show; "other" when no cue fits.
 */
const char *addressee_propose_kind(const char *phrase, const char **cue,
				   const char **why);
/* addressee_propose_kind without the reasons. */
const char *addressee_guess_kind(const char *phrase);

/*
 * Questions about a phrase that the parser asks and addressee_plan asks
 * again of the parsed addressees.
 *
 * addressee_strip_prefix removes a leading word or phrase w from *s
 * (case-insensitive; *s is replaced by a new string, the old one freed)
 * and says whether it did. addressee_acronym_like: s[0..n) is an acronym
 * as written in parentheses (2..24 characters, at least two capitals:
 * "UNSG", "CoE", "OSCE/ODIHR"; or words that each are one: "OSCE PA"). addressee_role_len: the length
 * of the office that starts phrase ("President of "), 0 when none.
 * addressee_capitalised: w starts with a capital (or a non-ASCII letter).
 */
bool addressee_strip_prefix(char **s, const char *w);
/* The length of the country name phrase starts with ("Georgia", "the
 * Republic of Armenia", "Azerbaijani"), 0 when none: a country is no
 * addressee, and "the Permanent Representative of Georgia" holds no
 * office of a body named "Georgia ...". */
size_t addressee_country_len(const char *phrase);
bool addressee_acronym_like(const char *s, size_t n);
size_t addressee_role_len(const char *phrase);
bool addressee_capitalised(const char *w);

/*
 * The passes' one test of a word in the text: the length of the first
 * word or phrase of list (n of them) that starts at s[i] on word
 * boundaries, 0 when none. fold: case ignored; without it case counts (a
 * clause opens with a lower-case word, a name with a capital).
 * addressee_word_at: the one word w, case ignored.
 */
size_t addressee_word_among(const char *s, size_t i, const char *const *list,
			    size_t n, bool fold);
bool addressee_word_at(const char *s, size_t i, const char *w);

#endif
