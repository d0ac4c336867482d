/*
 * addressee_clause: what stands in an addressee list but names no one,
 * for addressee.c's splitter.
 *
 * A clause after the names ("... and the OSCE with a request to take
 * urgent measures", "... the Council of Europe to give a legal
 * assessment", "urging them to ..."), and the words that end a list
 * without naming anyone ("etc.", "and others", "and other international
 * organisations").
 */
#ifndef CHANCERY_ADDRESSEE_CLAUSE_H
#define CHANCERY_ADDRESSEE_CLAUSE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether a clause that is no addressee starts at s[i] (on a word
 * boundary, inside a list item): "with a request", "urging", "calling
 * on", "in order to", "so that", "to" and a verb ("to condemn"). */
bool addressee_clause_at(const char *s, size_t i);

/* Whether the list goes on after a clause at s (a comma or "as well
 * as"): ", and to the OSCE", ", as well as to UNESCO". A clause without
 * such a resumption runs to the next semicolon ("urging them to defend
 * the right to truth, justice and reparation; and to ..."). */
bool addressee_clause_resumes(const char *s);

/* Whether a verb that makes its piece of the list a sentence of its own
 * starts at s[i] ("..., and the Ombudsman also called on the OSCE"): the
 * whole piece is no addressee. */
bool addressee_clause_finite(const char *s, size_t i);

/* Whether the list item seg (trimmed) names no one: "etc.", "and so
 * on", "others", "other international organisations" (not a group of
 * bodies: the caller asks that first), a bare "and". */
bool addressee_clause_vague(const char *seg);

/* The length of a word that says the names after it belong to the class
 * before it ("including", "in particular", "namely", "such as") at
 * s[i], 0 when none. */
size_t addressee_clause_specifier(const char *s, size_t i);

/* Whether item names a class in general terms that the names after a
 * specifier make precise: a plural without an acronym ("international
 * organisations", "the UN treaty bodies"). */
bool addressee_clause_general(const char *item);

/* Whether item is a person ("H.E. Mr. António Guterres", "Ms. Smith"):
 * the office written after it is the addressee. */
bool addressee_clause_person(const char *item);

/* Where a person's name starts inside item ("the UN Secretary-General
 * Mr. António Guterres"), 0 when none. */
size_t addressee_clause_person_at(const char *item);

/* Where a person's name written after an office without an honorific
 * starts in item, less the space ("UN Secretary-General António
 * Guterres", "OSCE Secretary General (SG) Helga Maria Schmid"): two to
 * four name words after a title word; 0 when none. */
size_t addressee_clause_name_tail(const char *item);

/* Whether item is only a seat ("Geneva", "New York") written after a
 * name and a comma. */
bool addressee_clause_seat(const char *item);
#endif
