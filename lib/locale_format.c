/*
 * locale_format: ordinals and dates through ICU, cached (see the header).
 *
 * One cache entry per language holds its ICU locale, its ordinal and
 * spellout formatters (RuleBasedNumberFormat), its date formatter, the
 * names of the rule sets it offers, and the strings last made for one
 * anniversary and two dates: a campaign renders every message for the
 * same anniversary, so after the first message a render only copies
 * strings. Everything is under one mutex: a formatter whose default rule
 * set is switched is not safe to share between threads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicode/ucal.h>
#include <unicode/udat.h>
#include <unicode/udatpg.h>
#include <unicode/uloc.h>
#include <unicode/unum.h>
#include <unicode/ustring.h>

#include "chancery/anniversary.h"
#include "chancery/locale_format.h"
#include "chancery/mustache.h"
#include "chancery/protocol.h"
#include "chancery/xalloc.h"

#define CACHE_MAX 16     /* languages kept; the cache is emptied past it */
#define TAG_MAX 64       /* longest language tag looked at */
#define TEXT_MAX 256     /* longest ordinal or date written */

const char *const locale_format_forms[] = {
	"",
	"masculine", "feminine", "neuter", "plural",
	"masculine_genitive", "feminine_genitive", "neuter_genitive",
	"plural_genitive",
	"masculine_dative", "feminine_dative", "neuter_dative",
	"plural_dative",
	"masculine_accusative", "feminine_accusative", "neuter_accusative",
	"plural_accusative",
	"masculine_locative", "feminine_locative", "neuter_locative",
	"plural_locative",
	"masculine_ablative", "feminine_ablative", "neuter_ablative",
	"plural_ablative",
	NULL,
};
#define NFORMS 25

const char *const locale_format_variables[] = {
	LOCALE_FORMAT_VARIABLES,
	NULL,
};

/* The variable names of the forms, without "anniversary.", made once. */
struct form_names {
	char digits[NFORMS][48];
	char spelled[NFORMS][48];
};

struct memo_date {
	int y, m, d;
	char text[TEXT_MAX];
};

struct entry {
	char tag[TAG_MAX];             /* as asked for ("" for English) */
	char html_tag[TAG_MAX];        /* BCP 47 again, for lang="" */
	char icu[ULOC_FULLNAME_CAPACITY];
	bool rtl;
	UNumberFormat *ordinal, *spellout; /* NULL when ICU has none */
	UDateFormat *date;
	char *ordinal_sets, *spellout_sets; /* ";%a;%b;" */
	bool have_years;
	int years;
	char forms[2][NFORMS][TEXT_MAX];   /* [spelled][form] */
	struct memo_date dates[2];         /* event, campaign */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *cache[CACHE_MAX];
static size_t ncache;

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	if (e->ordinal)
		unum_close(e->ordinal);
	if (e->spellout)
		unum_close(e->spellout);
	if (e->date)
		udat_close(e->date);
	free(e->ordinal_sets);
	free(e->spellout_sets);
	free(e);
}

void locale_format_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < ncache; i++)
		entry_free(cache[i]);
	ncache = 0;
	pthread_mutex_unlock(&cache_lock);
}

static void to_utf8(const UChar *u, int32_t len, char *buf, size_t size)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t n = 0;

	u_strToUTF8(buf, (int32_t)size, &n, u, len, &st);
	if (U_FAILURE(st) || n >= (int32_t)size)
		buf[0] = '\0';
}

/* ";%a;%b;" from ICU's "%a;%b;" list, so that ";NAME;" finds one. */
static char *rule_sets(UNumberFormat *f)
{
	UChar u[8192];
	char s[16384];
	UErrorCode st = U_ZERO_ERROR;
	int32_t len;

	if (!f)
		return xstrdup(";");
	len = unum_getTextAttribute(f, UNUM_PUBLIC_RULESETS, u,
				    (int32_t)(sizeof(u) / sizeof(u[0])), &st);
	if (U_FAILURE(st) || len <= 0)
		return xstrdup(";");
	s[0] = ';';
	to_utf8(u, len, s + 1, sizeof(s) - 1);
	return xstrdup(s);
}

/* The ICU locale for a tag: "" and "en" are en_GB, the office's English. */
static void icu_locale(const char *tag, char *out, size_t size)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t parsed = 0;

	out[0] = '\0';
	if (*tag)
		uloc_forLanguageTag(tag, out, (int32_t)size, &parsed, &st);
	if (U_FAILURE(st) || !*out || strcmp(out, "en") == 0)
		snprintf(out, size, "en_GB");
}

/* Gregorian before 1582 too, as anniversary_date_valid counts days
 * (ICU's calendar would switch to the Julian one). */
static void proleptic(UDateFormat *f, const char *locale, UErrorCode *st)
{
	UCalendar *cal = ucal_open(u"UTC", -1, locale, UCAL_GREGORIAN, st);

	if (U_FAILURE(*st))
		return;
	ucal_setGregorianChange(cal, -8.64e15, st);
	if (!U_FAILURE(*st))
		udat_setCalendar(f, cal);
	ucal_close(cal);
}

static int entry_open(const char *tag, struct entry **out, struct error *err)
{
	struct entry *e = xcalloc(1, sizeof(*e));
	char dl[ULOC_FULLNAME_CAPACITY + 32];
	UChar pattern[128];
	UDateTimePatternGenerator *gen = NULL;
	UErrorCode st = U_ZERO_ERROR;
	int rc = 0;

	snprintf(e->tag, sizeof(e->tag), "%s", tag);
	icu_locale(tag, e->icu, sizeof(e->icu));
	uloc_toLanguageTag(e->icu, e->html_tag, sizeof(e->html_tag), 0, &st);
	if (U_FAILURE(st) || strcmp(e->icu, "en_GB") == 0)
		snprintf(e->html_tag, sizeof(e->html_tag), "%s",
			 *tag ? tag : "en");
	e->rtl = uloc_isRightToLeft(e->icu);
	st = U_ZERO_ERROR;
	e->ordinal = unum_open(UNUM_ORDINAL, NULL, 0, e->icu, NULL, &st);
	if (U_FAILURE(st))
		e->ordinal = NULL;

	st = U_ZERO_ERROR;
	e->spellout = unum_open(UNUM_SPELLOUT, NULL, 0, e->icu, NULL, &st);
	if (U_FAILURE(st))
		e->spellout = NULL;
	e->ordinal_sets = rule_sets(e->ordinal);
	e->spellout_sets = rule_sets(e->spellout);

	/* the Gregorian calendar whatever the locale's own (fa, th) */
	snprintf(dl, sizeof(dl), "%s", e->icu);
	st = U_ZERO_ERROR;
	uloc_setKeywordValue("calendar", "gregorian", dl, (int32_t)sizeof(dl),
			     &st);
	st = U_ZERO_ERROR;
	gen = udatpg_open(dl, &st);
	if (!U_FAILURE(st))
		udatpg_getBestPattern(gen, u"dMMMMy", -1, pattern,
				      (int32_t)(sizeof(pattern) /
						sizeof(pattern[0])), &st);
	if (!U_FAILURE(st))
		e->date = udat_open(UDAT_PATTERN, UDAT_PATTERN, dl, u"UTC", -1,
				    pattern, -1, &st);
	if (!U_FAILURE(st))
		proleptic(e->date, dl, &st);
	if (U_FAILURE(st) || !e->ordinal || !e->date) {
		rc = error_set(err, ERR_DATA, "ICU cannot write ordinals and "
			       "dates in language '%s' (%s)", tag,
			       u_errorName(st));
		entry_free(e);
		e = NULL;
	}
	if (gen)
		udatpg_close(gen);
	*out = e;
	return rc;
}

/* The entry of tag, opened on first use. Called with cache_lock held. */
static int entry_get(const char *lang, struct entry **out, struct error *err)
{
	const char *tag = lang ? lang : "";
	int rc;

	if (strlen(tag) >= TAG_MAX)
		return error_set(err, ERR_DATA, "language tag '%.20s...' is "
				 "too long", tag);
	for (size_t i = 0; i < ncache; i++)
		if (strcasecmp(cache[i]->tag, tag) == 0) {
			*out = cache[i];
			return 0;
		}
	if ((rc = entry_open(tag, out, err)))
		return rc;
	if (ncache == CACHE_MAX) {
		for (size_t i = 0; i < ncache; i++)
			entry_free(cache[i]);
		ncache = 0;
	}
	cache[ncache++] = *out;
	return 0;
}

static bool has_set(const char *sets, const char *name)
{
	char key[128];

	snprintf(key, sizeof(key), ";%s;", name);
	return strstr(sets, key) != NULL;
}

/* The rule set for form: "%digits-ordinal-feminine-genitive", else the
 * gender's, else the plain one, else the masculine; "" when none. */
static void pick_set(const char *sets, bool spelled, const char *form,
		     char *out, size_t size)
{
	const char *base = spelled ? "%spellout-ordinal" : "%digits-ordinal";
	char gender[32] = "";
	char name[96];
	const char *us;

	snprintf(name, sizeof(name), "%s%s%s", base, *form ? "-" : "", form);
	for (char *p = name; *p; p++)
		if (*p == '_')
			*p = '-';
	if (has_set(sets, name))
		goto found;
	us = strchr(form, '_');
	if (us) {
		snprintf(gender, sizeof(gender), "%.*s", (int)(us - form),
			 form);
		snprintf(name, sizeof(name), "%s-%s", base, gender);
		if (has_set(sets, name))
			goto found;
	}
	snprintf(name, sizeof(name), "%s", base);
	if (has_set(sets, name))
		goto found;
	snprintf(name, sizeof(name), "%s-masculine", base);
	if (has_set(sets, name))
		goto found;
	name[0] = '\0';
found:
	snprintf(out, size, "%s", name);
}

static int format_ordinal(struct entry *e, int n, const char *form,
			  bool spelled, char *buf, size_t size,
			  struct error *err)
{
	UNumberFormat *f = spelled ? e->spellout : e->ordinal;
	char set[96];
	UChar uset[96], u[TEXT_MAX];
	UErrorCode st = U_ZERO_ERROR;
	int32_t len;

	if (!f)
		return error_set(err, ERR_DATA, "ICU has no %s ordinals for "
				 "language '%s'", spelled ? "spelled" :
				 "numeric", e->tag);
	pick_set(spelled ? e->spellout_sets : e->ordinal_sets, spelled,
		 form ? form : "", set, sizeof(set));
	if (*set) {
		u_uastrcpy(uset, set);
		unum_setTextAttribute(f, UNUM_DEFAULT_RULESET, uset, -1, &st);
		st = U_ZERO_ERROR;
	}
	/* a year before the event: ICU writes U+2212, the English table
	 * (and every template so far) an ASCII minus */
	if (n < 0 && size > 1 && n > INT32_MIN) {
		buf[0] = '-';
		return format_ordinal(e, -n, form, spelled, buf + 1, size - 1,
				      err);
	}
	len = unum_format(f, n, u, TEXT_MAX, NULL, &st);
	if (U_FAILURE(st))
		return error_set(err, ERR_DATA, "ICU cannot write %d as an "
				 "ordinal in '%s' (%s)", n, e->tag,
				 u_errorName(st));
	to_utf8(u, len, buf, size);
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(int y, int m, int d)
{
	long long yy = y - (m <= 2);
	long long era = (yy >= 0 ? yy : yy - 399) / 400;
	long long yoe = yy - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int format_date(struct entry *e, int y, int m, int d, char *buf,
		       size_t size, struct error *err)
{
	UChar u[TEXT_MAX];
	UErrorCode st = U_ZERO_ERROR;
	int32_t len;

	if (!anniversary_date_valid(y, m, d))
		return error_set(err, ERR_DATA, "%04d-%02d-%02d is not a date",
				 y, m, d);
	len = udat_format(e->date, (UDate)days_from_civil(y, m, d) *
				   86400000.0 + 43200000.0,
			  u, TEXT_MAX, NULL, &st);
	if (U_FAILURE(st))
		return error_set(err, ERR_DATA, "ICU cannot write a date in "
				 "'%s' (%s)", e->tag, u_errorName(st));
	to_utf8(u, len, buf, size);
	return 0;
}

int locale_format_ordinal(const char *lang, int n, const char *form,
			  bool spelled, char *buf, size_t size,
			  struct error *err)
{
	struct entry *e;
	int rc;

	pthread_mutex_lock(&cache_lock);
	rc = entry_get(lang, &e, err);
	if (!rc)
		rc = format_ordinal(e, n, form, spelled, buf, size, err);
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

int locale_format_date(const char *lang, int y, int m, int d, char *buf,
		       size_t size, struct error *err)
{
	struct entry *e;
	int rc;

	pthread_mutex_lock(&cache_lock);
	rc = entry_get(lang, &e, err);
	if (!rc)
		rc = format_date(e, y, m, d, buf, size, err);
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

bool locale_format_rtl(const char *lang)
{
	char icu[ULOC_FULLNAME_CAPACITY];

	if (!lang || !*lang)
		return false;
	icu_locale(lang, icu, sizeof(icu));
	return uloc_isRightToLeft(icu);
}

int locale_format_rulesets(const char *lang, bool spelled, struct sbuf *out,
			   struct error *err)
{
	struct entry *e;
	int rc;

	pthread_mutex_lock(&cache_lock);
	rc = entry_get(lang, &e, err);
	if (!rc) {
		const char *s = spelled ? e->spellout_sets : e->ordinal_sets;

		for (const char *p = s + 1; *p; p = strchr(p, ';') + 1)
			sbuf_addf(out, "%.*s\n", (int)(strchr(p, ';') - p), p);
	}
	pthread_mutex_unlock(&cache_lock);
	return rc;
}

/* ---- right to left ---- */

static bool tag_safe(const char *tag)
{
	if (!*tag || strlen(tag) >= TAG_MAX)
		return false;
	for (const char *p = tag; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* The <html ...> start tag's offset and end (past '>'), or false. */
static bool find_html_tag(const char *s, size_t *start, size_t *end)
{
	for (const char *p = s; (p = strchr(p, '<')); p++) {
		if (strncasecmp(p + 1, "html", 4) == 0 &&
		    strchr(" \t\r\n>/", p[5]) && p[5]) {
			const char *gt = strchr(p, '>');

			if (!gt)
				return false;
			*start = (size_t)(p - s);
			*end = (size_t)(gt - s) + 1;
			return true;
		}
	}
	return false;
}

static bool has_attr(const char *tag, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 1; i + n < len; i++)
		if (strchr(" \t\r\n", tag[i - 1]) &&
		    strncasecmp(tag + i, name, n) == 0 && tag[i + n] == '=')
			return true;
	return false;
}

void locale_format_html_dir(const char *lang, struct sbuf *html)
{
	const char *tag = lang ? lang : "";
	struct sbuf out = SBUF_INIT;
	char attrs[TAG_MAX + 32];
	size_t start, end;

	if (!locale_format_rtl(lang) || !tag_safe(tag))
		return;
	if (find_html_tag(html->buf, &start, &end)) {
		const char *t = html->buf + start;
		size_t len = end - start;
		bool dir = has_attr(t, len, "dir");
		bool lng = has_attr(t, len, "lang");

		if (dir && lng)
			return;
		snprintf(attrs, sizeof(attrs), "%s%s%s%s",
			 dir ? "" : " dir=\"rtl\"", lng ? "" : " lang=\"",
			 lng ? "" : tag, lng ? "" : "\"");
		sbuf_add(&out, html->buf, start + 5);
		sbuf_addstr(&out, attrs);
		sbuf_add(&out, html->buf + start + 5, html->len - start - 5);
	} else {
		sbuf_addf(&out, "<div dir=\"rtl\" lang=\"%s\">\n", tag);
		sbuf_add(&out, html->buf, html->len);
		sbuf_addstr(&out, "</div>\n");
	}
	sbuf_release(html);
	*html = out;
}

/* ---- the template hook ---- */

static pthread_once_t names_once = PTHREAD_ONCE_INIT;
static struct form_names names;

static void names_init(void)
{
	for (int i = 0; i < NFORMS; i++) {
		const char *f = locale_format_forms[i];

		snprintf(names.digits[i], sizeof(names.digits[i]),
			 "ordinal%s%s", *f ? "_" : "", f);
		snprintf(names.spelled[i], sizeof(names.spelled[i]),
			 "ordinal_spelled%s%s", *f ? "_" : "", f);
	}
}

/* The keys under "anniversary" of every form, made once. */
static const struct form_names *form_names(void)
{
	pthread_once(&names_once, names_init);
	return &names;
}

/* The date y-m-d in e, made once per (slot, date). Lock held. */
static int memo_date(struct entry *e, int slot, int y, int m, int d,
		     const char **out, struct error *err)
{
	struct memo_date *md = &e->dates[slot];
	int rc = 0;

	if (md->y != y || md->m != m || md->d != d || !md->text[0]) {
		md->text[0] = '\0';
		rc = format_date(e, y, m, d, md->text, sizeof(md->text), err);
		if (!rc) {
			md->y = y;
			md->m = m;
			md->d = d;
		}
	}
	*out = md->text;
	return rc;
}

/* Every ordinal form of years in e, made once per years value. */
static int memo_years(struct entry *e, int years, struct error *err)
{
	int rc = 0;

	if (e->have_years && e->years == years)
		return 0;
	e->have_years = false;
	for (int s = 0; s < 2 && !rc; s++)
		for (int i = 0; i < NFORMS && !rc; i++)
			rc = format_ordinal(e, years, locale_format_forms[i],
					    s == 1, e->forms[s][i],
					    sizeof(e->forms[s][i]), err);
	if (!rc) {
		e->have_years = true;
		e->years = years;
	}
	return rc;
}

static int fill_dates(struct tvalue *root, const struct render_context *ctx,
		      struct entry *e, int y, int m, int d,
		      struct error *err)
{
	const struct form_names *fn = form_names();
	struct tvalue *ann;
	const char *text;
	char buf[32];
	int ey, em, ed, years, rc;

	if ((rc = memo_date(e, 1, y, m, d, &text, err)))
		return rc;
	tvalue_set_path(root, "campaign.date", text);
	if (!ctx->event_date)
		return 0;
	if (anniversary_parse_date(ctx->event_date, &ey, &em, &ed))
		return error_set(err, ERR_DATA, "event date '%s' is not a "
				 "date written YYYY-MM-DD", ctx->event_date);
	if ((rc = memo_date(e, 0, ey, em, ed, &text, err)))
		return rc;
	tvalue_set_path(root, "event.date", text);
	years = anniversary_years(ey, y);
	if ((rc = memo_years(e, years, err)))
		return rc;
	/* 50 keys known to be distinct: filled in place rather than by
	 * tvalue_set, which looks for each key among those already set
	 * (mustache.h documents the fields) */
	ann = tvalue_new(TVALUE_OBJECT);
	ann->alloc = 2 * NFORMS + 2;
	ann->keys = xmalloc(ann->alloc * sizeof(*ann->keys));
	ann->items = xmalloc(ann->alloc * sizeof(*ann->items));
	for (int i = 0; i < NFORMS; i++) {
		ann->keys[ann->count] = xstrdup(fn->digits[i]);
		ann->items[ann->count++] = tvalue_new_string(e->forms[0][i]);
		ann->keys[ann->count] = xstrdup(fn->spelled[i]);
		ann->items[ann->count++] = tvalue_new_string(e->forms[1][i]);
	}
	snprintf(buf, sizeof(buf), "%d", years);
	tvalue_set(ann, "years", tvalue_new_string(buf));
	snprintf(buf, sizeof(buf), "%d", y);
	tvalue_set(ann, "year", tvalue_new_string(buf));
	tvalue_set(root, "anniversary", ann);
	return 0;
}

int locale_format_context(struct tvalue *root,
			  const struct render_context *ctx, int y, int m,
			  int d, struct error *err)
{
	struct protocol_salutation sal;
	struct entry *e;
	int rc;

	pthread_mutex_lock(&cache_lock);
	rc = entry_get(ctx->lang, &e, err);
	if (!rc)
		rc = fill_dates(root, ctx, e, y, m, d, err);
	pthread_mutex_unlock(&cache_lock);
	if (rc)
		return rc;
	if (ctx->body)
		tvalue_set_path(root, "body.running_name",
				protocol_running_name(ctx->protocol,
						      ctx->body, ctx->lang));
	protocol_salutation(ctx->protocol, ctx->body, ctx->contact,
			    ctx->lang, &sal);
	tvalue_set_path(root, "contact.salutation", sal.text);
	return 0;
}
