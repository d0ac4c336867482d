/*
 * addressee_trigger: the words that open an addressee passage, for
 * addressee.c's paragraph finder.
 *
 * Passive ("has been sent to", "was circulated among", "is being shared
 * with", "has been brought to the attention of"), and active with what
 * was sent between the verb and "to" ("The Ministry has sent the note
 * verbale to", "The Ombudsman forwarded copies of the appeal to"), or
 * none ("The Ombudsman appealed to"), and the labels of a letter's copies
 * ("cc:", "Distribution:"). A bare participle ("a letter addressed to
 * the Secretary-General") is no trigger.
 */
#ifndef CHANCERY_ADDRESSEE_TRIGGER_H
#define CHANCERY_ADDRESSEE_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>

/* The length of the trigger that starts at s[p] (cleaned text: white
 * space is single characters), 0 when none. */
size_t addressee_trigger_at(const char *s, size_t p);

/* Whether the line s[0..n) starts with a label ("cc:"), whose names may
 * follow one a line. */
bool addressee_trigger_label(const char *s, size_t n);

/* Whether the text after a trigger, s[from, to), can name an addressee:
 * a capitalised word (or a letter outside ASCII) or a plural of bodies
 * ("ombudsmen", "embassies"). "Convoys were sent to the region" names
 * no one; an empty span does not say (the caller reports it). */
bool addressee_names_someone(const char *s, size_t from, size_t to);

#endif
