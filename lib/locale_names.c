/*
 * locale_names: country and language names through ICU (see the header).
 *
 * A name is matched by its collation sort key at primary strength with
 * punctuation and spaces shifted away: two names are the same when their
 * keys are equal, so each lookup is one key and a scan of byte strings.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicode/ucol.h>
#include <unicode/unum.h>
#include <unicode/uloc.h>
#include <unicode/ures.h>
#include <unicode/ustring.h>

#include "chancery/locale_names.h"
#include "chancery/xalloc.h"

/* Longer input is no name ICU gives, and is not looked at. */
#define NAME_MAX_BYTES 200

struct name_key {
	const char *code; /* ICU's static string */
	char *key;        /* NUL-terminated sort key, owned */
};

struct name_table {
	struct name_key *v;
	size_t n, alloc;
};

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;
static UCollator *collator; /* NULL when ICU could not open one */
static struct name_table countries, languages;

/* The sort key of a UTF-8 string; NULL when it cannot be made. */
static char *sort_key_utf8(const char *s, int32_t len)
{
	UChar u[NAME_MAX_BYTES + 1];
	UErrorCode st = U_ZERO_ERROR;
	int32_t ulen = 0, need;
	char *key;

	u_strFromUTF8(u, NAME_MAX_BYTES + 1, &ulen, s, len, &st);
	if (U_FAILURE(st) || ulen > NAME_MAX_BYTES)
		return NULL;
	need = ucol_getSortKey(collator, u, ulen, NULL, 0);
	if (need <= 0)
		return NULL;
	key = xmalloc((size_t)need);
	ucol_getSortKey(collator, u, ulen, (uint8_t *)key, need);
	return key;
}

static char *sort_key_uchar(const UChar *u, int32_t ulen)
{
	int32_t need = ucol_getSortKey(collator, u, ulen, NULL, 0);
	char *key;

	if (need <= 0)
		return NULL;
	key = xmalloc((size_t)need);
	ucol_getSortKey(collator, u, ulen, (uint8_t *)key, need);
	return key;
}

static void table_add(struct name_table *t, const char *code, const UChar *u,
		      int32_t ulen)
{
	char *key = sort_key_uchar(u, ulen);

	if (!key)
		return;
	xgrow(&t->v, sizeof(*t->v), t->n + 1, &t->alloc);
	t->v[t->n].code = code;
	t->v[t->n].key = key;
	t->n++;
}

/* A display name, and the part before " (" of one such as "Myanmar
 * (Burma)", so that the plain form matches too. */
static void table_add_name(struct name_table *t, const char *code,
			   const UChar *u, int32_t ulen)
{
	table_add(t, code, u, ulen);
	for (int32_t i = 1; i + 1 < ulen; i++)
		if (u[i] == ' ' && u[i + 1] == '(') {
			table_add(t, code, u, i);
			break;
		}
}

/* The code in list that equals code, as ICU's static string; NULL when
 * the list lacks it. */
static const char *listed(const char *const *list, const char *code)
{
	for (; *list; list++)
		if (strcmp(*list, code) == 0)
			return *list;
	return NULL;
}

/* CLDR's other English forms of the names (table "Countries%short",
 * "Countries%variant", "Languages%short"), for codes in list. */
static void add_alternates(struct name_table *t, const char *tree,
			   const char *table, const char *const *list)
{
	UErrorCode st = U_ZERO_ERROR;
	UResourceBundle *b = ures_open(tree, "en", &st);
	UResourceBundle *alt = U_SUCCESS(st) ?
		ures_getByKey(b, table, NULL, &st) : NULL;

	while (alt && U_SUCCESS(st) && ures_hasNext(alt)) {
		const char *code = NULL, *known;
		int32_t ulen = 0;
		const UChar *u = ures_getNextString(alt, &ulen, &code, &st);

		if (U_SUCCESS(st) && code && (known = listed(list, code)))
			table_add_name(t, known, u, ulen);
	}
	ures_close(alt);
	ures_close(b);
}

static void build_tables(void)
{
	const char *const *iso_countries = uloc_getISOCountries();
	const char *const *iso_languages = uloc_getISOLanguages();
	UErrorCode st = U_ZERO_ERROR;

	collator = ucol_open("en", &st);
	if (U_FAILURE(st)) {
		collator = NULL;
		return;
	}
	ucol_setStrength(collator, UCOL_PRIMARY);
	ucol_setAttribute(collator, UCOL_ALTERNATE_HANDLING, UCOL_SHIFTED, &st);
	for (const char *const *c = iso_countries; *c; c++) {
		char loc[8] = "_";
		UChar u[128];
		int32_t n;

		st = U_ZERO_ERROR;
		strncat(loc, *c, 4);
		n = uloc_getDisplayCountry(loc, "en", u, 128, &st);
		if (U_SUCCESS(st) && st != U_USING_DEFAULT_WARNING && n > 0)
			table_add_name(&countries, *c, u, n);
	}
	add_alternates(&countries, U_ICUDATA_NAME "-region",
		       "Countries%short", iso_countries);
	add_alternates(&countries, U_ICUDATA_NAME "-region",
		       "Countries%variant", iso_countries);
	for (const char *const *l = iso_languages; *l; l++) {
		UChar u[128];
		int32_t n;

		st = U_ZERO_ERROR;
		n = uloc_getDisplayLanguage(*l, "en", u, 128, &st);
		if (U_SUCCESS(st) && st != U_USING_DEFAULT_WARNING && n > 0)
			table_add_name(&languages, *l, u, n);
	}
	add_alternates(&languages, U_ICUDATA_NAME "-lang", "Languages%short",
		       iso_languages);
}

/* The code whose name sorts equal to text; of several, the shortest
 * (ISO 639-1 before 639-3), then the first. */
static const char *find_name(const struct name_table *t, const char *text)
{
	const char *best = NULL;
	size_t len = strlen(text);
	char *key;

	pthread_once(&tables_once, build_tables);
	if (!collator || len == 0 || len > NAME_MAX_BYTES)
		return NULL;
	key = sort_key_utf8(text, (int32_t)len);
	if (!key)
		return NULL;
	/* a key of nothing (only spaces and punctuation) names nothing */
	for (size_t i = 0; key[0] && key[0] != 1 && i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0 &&
		    (!best || strlen(t->v[i].code) < strlen(best)))
			best = t->v[i].code;
	free(key);
	return best;
}

bool locale_country_parse(const char *text, char code[3])
{
	const char *const *iso = uloc_getISOCountries();
	size_t len = strlen(text);
	const char *found = NULL;

	if (len == 2 || len == 3) {
		for (const char *const *c = iso; *c && !found; c++) {
			char loc[8] = "_";

			strncat(loc, *c, 4);
			if (len == 2 ? strcasecmp(*c, text) == 0
				     : strcasecmp(uloc_getISO3Country(loc),
						  text) == 0)
				found = *c;
		}
	}
	if (!found)
		found = find_name(&countries, text);
	if (!found)
		return false;
	memcpy(code, found, 2);
	code[2] = '\0';
	return true;
}

char *locale_tag_canonical(const char *text, char *lang, size_t lang_size)
{
	char loc[ULOC_FULLNAME_CAPACITY], tag[ULOC_FULLNAME_CAPACITY];
	UErrorCode st = U_ZERO_ERROR;
	int32_t parsed = 0;

	/* '_' is how ICU writes locales, not a BCP 47 separator */
	if (strchr(text, '_') || strlen(text) >= sizeof(tag))
		return NULL;
	uloc_forLanguageTag(text, loc, sizeof(loc), &parsed, &st);
	if (U_FAILURE(st) || parsed != (int32_t)strlen(text))
		return NULL;
	uloc_getLanguage(loc, lang, (int32_t)lang_size, &st);
	if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING || !lang[0])
		return NULL;
	st = U_ZERO_ERROR;
	uloc_toLanguageTag(loc, tag, sizeof(tag), 1, &st);
	if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
		return NULL;
	return xstrdup(tag);
}

/* text as a BCP 47 tag whose language ICU can name, canonical; NULL when
 * it is not one. */
static char *language_tag(const char *text)
{
	char lang[ULOC_LANG_CAPACITY];
	char *tag = locale_tag_canonical(text, lang, sizeof(lang));
	UChar u[128];
	UErrorCode st = U_ZERO_ERROR;

	if (!tag)
		return NULL;
	uloc_getDisplayLanguage(lang, "en", u, 128, &st);
	if (U_FAILURE(st) || st == U_USING_DEFAULT_WARNING) {
		free(tag);
		return NULL;
	}
	return tag;
}

char *locale_language_parse(const char *text)
{
	char *tag = language_tag(text);
	const char *code;

	if (tag)
		return tag;
	code = find_name(&languages, text);
	return code ? language_tag(code) : NULL;
}

char locale_list_separator(void)
{
	UErrorCode st = U_ZERO_ERROR;
	UNumberFormat *nf = unum_open(UNUM_DECIMAL, NULL, 0, NULL, NULL, &st);
	UChar sym[8];
	int32_t n = 0;

	if (U_SUCCESS(st))
		n = unum_getSymbol(nf, UNUM_DECIMAL_SEPARATOR_SYMBOL, sym, 8,
				   &st);
	unum_close(nf);
	return U_SUCCESS(st) && n == 1 && sym[0] == ',' ? ';' : ',';
}
