/*
 * protocol: how a statement names a body in running text and greets a
 * contact, per language (migration 0018).
 *
 * - A body's running name ("the United Nations Security Council",
 *   "UNESCO", "le Conseil de sécurité des Nations Unies"): the template
 *   variable body.running_name. Without one in the language, the body's
 *   name as registered.
 * - A contact's salutation ("Your Excellency", "Dear Madam High
 *   Commissioner"): contact.salutation. Without one in the language it
 *   falls back, visibly (protocol_salutation says so and why), to the
 *   office's default for the body's kind in that language, else to a
 *   neutral greeting in that language ("Dear Sir or Madam", "Madame,
 *   Monsieur", ...). Never to a name: an office is not a person.
 * - Defaults by body kind, which the office changes with
 *   `chancery registry protocol`. Migration 0018 seeds: embassy and
 *   foreign-mission "Your Excellency" (en), "Excellence" (fr),
 *   "Ваше Превосходительство" (ru), "صاحب السعادة" (ar); ombudsman
 *   "Dear Ombudsman" (en); nhri "Dear Chairperson" (en).
 *
 * A language matches exactly (compared without case), else by its
 * primary subtag both ways ("fr-CH" finds "fr"; "fr" finds "fr-CH" when
 * it is the only French one). NULL or "" is English ("en").
 */
#ifndef CHANCERY_PROTOCOL_H
#define CHANCERY_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chancery/db.h"
#include "chancery/error.h"
#include "chancery/registry.h"

/* The longest running name or salutation stored, in bytes. */
#define PROTOCOL_TEXT_MAX 200

struct protocol_text {
	char *lang;
	char *text;
};

/* What one delivery may need, loaded once per delivery for every
 * language (the variant is chosen later). Owned (protocol_forms_release). */
struct protocol_forms {
	struct protocol_text *running;    /* the body's running names */
	size_t nrunning;
	struct protocol_text *salutation; /* the contact's salutations */
	size_t nsalutation;
	struct protocol_text *defaults;   /* the defaults of the body's kind */
	size_t ndefaults;
};

/* Loads the forms of a body (its kind's defaults too) and a contact
 * (contact_id 0: none). */
int protocol_forms_load(struct db *db, const struct registry_body *body,
			int64_t contact_id, struct protocol_forms *out,
			struct error *err);
void protocol_forms_release(struct protocol_forms *p);

/* The body's name for running text in lang; body->name without one
 * (p may be NULL). Points into p or body. */
const char *protocol_running_name(const struct protocol_forms *p,
				  const struct registry_body *body,
				  const char *lang);

/* A salutation and whether it fell back (the contact has none in the
 * language) and why, as the plan shows it:
 *   "no salutation in fr: the default for embassy"
 *   "no salutation in fr and no default for ngo: neutral" */
struct protocol_salutation {
	const char *text; /* points into the forms or a static string */
	bool fell_back;
	char reason[160];
};
void protocol_salutation(const struct protocol_forms *p,
			 const struct registry_body *body,
			 const struct registry_contact *contact,
			 const char *lang, struct protocol_salutation *out);

/* The neutral greeting of a language ("Dear Sir or Madam" for English
 * and for a language without one here). */
const char *protocol_neutral_salutation(const char *lang);

/*
 * Sets (text "" or NULL: removes) a body's running name, a contact's
 * salutation, or a kind's default in lang ("en" when NULL). lang must be
 * a language tag ICU knows; text one line of at most PROTOCOL_TEXT_MAX
 * bytes. ERR_DATA naming what was wrong; ERR_NOTFOUND for an unknown
 * body or contact id. (Not recorded in the ledger: a greeting changes
 * no one's receiving.) *changed (may be NULL) says whether anything changed.
 */
int protocol_running_name_set(struct db *db, int64_t body_id,
			      const char *lang, const char *text,
			      bool *changed, struct error *err);
int protocol_salutation_set(struct db *db, int64_t contact_id,
			    const char *lang, const char *text,
			    bool *changed, struct error *err);
int protocol_default_set(struct db *db, const char *kind, const char *lang,
			 const char *text, bool *changed, struct error *err);

/* Calls fn for each row: a body's running names (body_id), a contact's
 * salutations (contact_id), or every kind default (kind NULL: all). */
typedef int (*protocol_fn)(const char *key, const char *lang,
			   const char *text, void *arg);
int protocol_running_name_each(struct db *db, int64_t body_id,
			       protocol_fn fn, void *arg, struct error *err);
int protocol_salutation_each(struct db *db, int64_t contact_id,
			     protocol_fn fn, void *arg, struct error *err);
int protocol_default_each(struct db *db, const char *kind, protocol_fn fn,
			  void *arg, struct error *err);

#endif
