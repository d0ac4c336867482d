/*
 * locale_names: countries and languages as a person writes them, read
 * into the codes the registry stores.
 *
 * Everything comes from ICU's data (its ISO 3166 and ISO 639 lists and
 * their English display names, with the short and variant forms CLDR
 * gives, such as "UK" or "Ivory Coast"); names are compared at primary
 * strength, ignoring case, accents, spaces and punctuation ("cote
 * d'ivoire" is "Côte d’Ivoire"). The tables are built once, on first use,
 * and only read afterwards, so the functions are safe from any thread.
 */
#ifndef CHANCERY_LOCALE_NAMES_H
#define CHANCERY_LOCALE_NAMES_H

#include <stdbool.h>

/*
 * An ISO 3166-1 alpha-2 code in any case ("fr"), an alpha-3 code ("FRA")
 * or an English name ("France", "United Kingdom", "UK") of a country ICU
 * lists: true with the alpha-2 code, upper case, in code. False for
 * anything else.
 */
bool locale_country_parse(const char *text, char code[3]);

/*
 * text as a well-formed BCP 47 tag (every byte of it parsed; not ICU's
 * "fr_FR") with a language subtag: the tag in ICU's canonical form
 * ("FR-ch" -> "fr-CH"), which the caller frees, and that language subtag
 * in lang (lang_size bytes); NULL for anything else. Whether ICU knows
 * the language is not asked here.
 */
char *locale_tag_canonical(const char *text, char *lang, size_t lang_size);

/*
 * A well-formed BCP 47 tag whose language ICU knows ("fr", "FR-ch",
 * "az-Latn") or the English name of a language ("French", "Azerbaijani",
 * "Azeri"): the tag in ICU's canonical form ("fr", "fr-CH", "az-Latn"),
 * which the caller frees. NULL for anything else.
 */
char *locale_language_parse(const char *text);

/*
 * The separator a spreadsheet in ICU's default locale (from LC_ALL,
 * LC_MESSAGES or LANG) expects in a CSV file: ';' where the decimal
 * separator is a comma (de, fr, ru, az, ...), ',' elsewhere. Excel
 * takes the list separator from the regional settings, and those put
 * ';' exactly where the decimal comma would clash with ','.
 */
char locale_list_separator(void);

#endif
