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

/* Whether the list item seg (trimmed) names no one: "etc.", "and so
 * on", "others", "other international organisations" (not a group of
 * bodies: the caller asks that first). */
bool addressee_clause_vague(const char *seg);

#endif
