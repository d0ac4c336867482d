/*
 * locale_format: ordinals and dates in the addressee's language, written
 * by ICU (rule-based number formatting, CLDR date patterns), never by
 * hand-written tables; and the template variables made from them.
 *
 * Languages are BCP 47 tags as contacts and variants carry them ("fr",
 * "ru", "ar-MA"); NULL or "" means English. Plain "en" is written as
 * en_GB (the office's English: "26 February 1992", "34th"); "en-US"
 * gives "February 26, 1992". Dates always use the Gregorian calendar
 * (fa would otherwise get the Persian one).
 *
 * Digits are the locale's own as CLDR (ICU 72) gives them: "ar" writes
 * Arabic-Indic digits ("٣٤.", "٢٦ فبراير ١٩٩٢"), as Arabic texts of the
 * UN do; a tag that asks for Latin digits ("ar-u-nu-latn") or a region
 * that uses them ("ar-MA", "ar-DZ", "ar-TN") gets "34.", "26 فبراير 1992".
 *
 * Grammatical forms: a form is a gender (masculine, feminine, neuter,
 * plural), optionally followed by a case (genitive, dative, accusative,
 * locative, ablative), written "feminine" or "feminine_genitive". ICU's
 * rule sets are named "%digits-ordinal[-GENDER[-CASE]]" and
 * "%spellout-ordinal[-GENDER[-CASE]]"; a form the locale has no rule set
 * for falls back to the gender alone, then to the locale's plain ordinal
 * (then, for spelled ordinals of locales without one, to its masculine):
 * English has no genders, so every form is "34th" / "thirty-fourth".
 * locale_format_rulesets lists what a locale offers. ICU 72 offers, for
 * the digits: en, az, tr, ar: %digits-ordinal only; fr: masculine,
 * feminine and their plurals; ru: every gender in every case above.
 *
 * Formatters are opened once per language and kept in a small
 * process-wide cache (guarded by a mutex); the strings made for one
 * anniversary are kept too, so rendering a campaign's messages formats
 * nothing after the first.
 */
#ifndef CHANCERY_LOCALE_FORMAT_H
#define CHANCERY_LOCALE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "chancery/error.h"
#include "chancery/render.h"
#include "chancery/sbuf.h"

struct tvalue;

/* The forms a template may ask for, "" (the plain ordinal) first,
 * NULL-terminated. */
extern const char *const locale_format_forms[];

/*
 * The template variables this module fills, NULL-terminated:
 * anniversary.ordinal_FORM and anniversary.ordinal_spelled[_FORM] for
 * every FORM above, plus body.running_name and contact.salutation
 * (protocol.h).
 */
extern const char *const locale_format_variables[];

/* The same names written out, for template.c's static list. */
#define LOCALE_FORMAT_FORM_VARS(prefix)                                      \
	prefix "_masculine", prefix "_feminine", prefix "_neuter",           \
	prefix "_plural", prefix "_masculine_genitive",                      \
	prefix "_feminine_genitive", prefix "_neuter_genitive",              \
	prefix "_plural_genitive", prefix "_masculine_dative",               \
	prefix "_feminine_dative", prefix "_neuter_dative",                  \
	prefix "_plural_dative", prefix "_masculine_accusative",             \
	prefix "_feminine_accusative", prefix "_neuter_accusative",          \
	prefix "_plural_accusative", prefix "_masculine_locative",           \
	prefix "_feminine_locative", prefix "_neuter_locative",              \
	prefix "_plural_locative", prefix "_masculine_ablative",             \
	prefix "_feminine_ablative", prefix "_neuter_ablative",              \
	prefix "_plural_ablative"
#define LOCALE_FORMAT_VARIABLES                                              \
	LOCALE_FORMAT_FORM_VARS("anniversary.ordinal"),                      \
	"anniversary.ordinal_spelled",                                       \
	LOCALE_FORMAT_FORM_VARS("anniversary.ordinal_spelled"),              \
	"body.running_name", "contact.salutation"

/*
 * Writes n as an ordinal in lang: digits ("34e") or spelled out
 * ("trente-quatrième"), in form (NULL or "" for the plain one). 0, or
 * ERR_DATA naming the language when ICU knows nothing to write it with.
 */
int locale_format_ordinal(const char *lang, int n, const char *form,
			  bool spelled, char *buf, size_t size,
			  struct error *err);

/* Writes y-m-d as lang writes a date in running text ("26 février 1992",
 * "26 февраля 1992 г."): CLDR's best pattern for the skeleton "dMMMMy". */
int locale_format_date(const char *lang, int y, int m, int d, char *buf,
		       size_t size, struct error *err);

/* Whether lang is written right to left (ar, he, fa, ur, ...). */
bool locale_format_rtl(const char *lang);

/*
 * Marks an HTML part written in a right-to-left language: its <html>
 * start tag gets dir="rtl" and lang="LANG" (each unless it has one
 * already); an HTML part without an <html> tag is wrapped in
 * <div dir="rtl" lang="LANG">. Left-to-right languages, and a tag with
 * anything but letters, digits and '-', leave html as it is.
 */
void locale_format_html_dir(const char *lang, struct sbuf *html);

/* Appends the public rule set names of lang's ordinal (spelled: spellout)
 * formatter, one per line. */
int locale_format_rulesets(const char *lang, bool spelled, struct sbuf *out,
			   struct error *err);

/*
 * The template hook: sets campaign.date (y-m-d, already in ctx->tz),
 * event.date and every anniversary.* (when ctx->event_date; years is
 * the anniversary, year the campaign's), body.running_name and
 * contact.salutation, in ctx->lang.
 */
int locale_format_context(struct tvalue *root,
			  const struct render_context *ctx, int y, int m,
			  int d, struct error *err);

/* Closes every cached formatter (tests; the end of a process). */
void locale_format_cache_clear(void);

#endif
