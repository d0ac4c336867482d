/*
 * names: the normalised form of a body's name, used to match the many
 * ways statements write the same body ("UN Secretary General",
 * "Secretary-General of the United Nations").
 *
 * Normalisation folds case and Latin diacritics, turns punctuation into
 * spaces, drops articles, and maps spelling variants to one form
 * ("Organisation"/"Organization", "Ombudsmen"/"Ombudsperson" →
 * "ombudsman", "United Nations" → "un"). Two names match when their
 * normalised forms are equal. The stored norm of an alias is derived
 * data: changing these rules means recomputing it.
 */
#ifndef CHANCERY_NAMES_H
#define CHANCERY_NAMES_H

/* The normalised form of name (caller frees); "" for a name of no words. */
char *names_normalise(const char *name);

/*
 * The words of the normalised form, each made singular ("states" →
 * "state"), sorted and without repeats: names that say the same words in
 * another order ("Asian Association of Ombudsmen", "Asian Ombudsman
 * Association") share it. Caller frees.
 */
char *names_word_key(const char *name);

#endif
