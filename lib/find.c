/*
 * find: accent- and case-insensitive search of the registry with ICU's
 * string search at primary collation strength (see find.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/ucol.h>
#include <unicode/usearch.h>
#include <unicode/ustring.h>

#include "chancery/address.h"
#include "chancery/find.h"
#include "chancery/registry.h"
#include "chancery/xalloc.h"

static const char *const rank_names[] = {
	[FIND_EXACT_ACRONYM] = "exact_acronym",
	[FIND_EXACT] = "exact",
	[FIND_PREFIX] = "prefix",
	[FIND_SUBSTRING] = "substring",
};

const char *find_rank_name(enum find_rank rank)
{
	if ((unsigned)rank > FIND_SUBSTRING)
		return "?";
	return rank_names[rank];
}

/* A match and the key it sorts by. */
struct entry {
	struct find_match m;
	uint8_t *name_key; /* the body name's collation key */
};

struct search {
	UCollator *coll;
	UStringSearch *us;
	UChar *pattern;
	int32_t plen;
	UChar *buf; /* the candidate text */
	int32_t cap;
	struct entry *v;
	size_t n, alloc;
	struct error *err;
};

/* s as UTF-16 in a buffer that grows; -1 when s is not UTF-8. */
static int32_t to_u16(const char *s, UChar **buf, int32_t *cap)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t len = 0;

	u_strFromUTF8(*buf, *cap, &len, s, -1, &st);
	if (st == U_BUFFER_OVERFLOW_ERROR ||
	    st == U_STRING_NOT_TERMINATED_WARNING) {
		*cap = len + 1;
		*buf = xrealloc(*buf, (size_t)*cap * sizeof(UChar));
		st = U_ZERO_ERROR;
		u_strFromUTF8(*buf, *cap, &len, s, -1, &st);
	}
	return U_FAILURE(st) ? -1 : len;
}

static bool word_start(const UChar *t, int32_t pos)
{
	UChar32 c;

	if (pos == 0)
		return true;
	U16_PREV(t, 0, pos, c);
	return !u_isalnum(c);
}

/* The best rank of any match of the pattern in t, or -1 for none. */
static int best_rank(struct search *s, const struct registry_text *t,
		     int32_t tlen)
{
	UErrorCode st = U_ZERO_ERROR;
	int best = -1;
	int32_t pos;

	if (ucol_strcoll(s->coll, s->pattern, s->plen, s->buf, tlen) ==
	    UCOL_EQUAL)
		return strcmp(t->field, "acronym") == 0 ? FIND_EXACT_ACRONYM
							: FIND_EXACT;
	usearch_setText(s->us, s->buf, tlen, &st);
	if (U_FAILURE(st))
		return -1;
	for (pos = usearch_first(s->us, &st);
	     U_SUCCESS(st) && pos != USEARCH_DONE;
	     pos = usearch_next(s->us, &st)) {
		int rank = word_start(s->buf, pos) ? FIND_PREFIX
						   : FIND_SUBSTRING;

		if (best < 0 || rank < best)
			best = rank;
		if (best == FIND_PREFIX)
			break;
	}
	return best;
}

static uint8_t *sort_key(const UCollator *coll, const char *name)
{
	UChar *u = NULL;
	int32_t cap = 0, len = to_u16(name ? name : "", &u, &cap), n;
	uint8_t *key;

	if (len < 0)
		len = 0;
	n = ucol_getSortKey(coll, u, len, NULL, 0);
	key = xmalloc((size_t)n + 1);
	ucol_getSortKey(coll, u, len, key, n + 1);
	free(u);
	return key;
}

static int consider(const struct registry_text *t, void *arg)
{
	struct search *s = arg;
	struct entry *e;
	int32_t tlen = to_u16(t->text, &s->buf, &s->cap);
	int rank;

	if (tlen <= 0 || (rank = best_rank(s, t, tlen)) < 0)
		return 0;
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 16;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	e = &s->v[s->n++];
	e->m = (struct find_match){
		.rank = (enum find_rank)rank,
		.kind = xstrdup(t->kind),
		.field = xstrdup(t->field),
		.body_id = t->body_id,
		.body = xstrdup(t->body_acronym ? t->body_acronym
						: t->body_name),
		.body_name = xstrdup(t->body_name),
		.contact_id = t->contact_id,
		.text = xstrdup(t->text),
	};
	e->name_key = sort_key(s->coll, t->body_name);
	return 0;
}

static int kind_order(const char *kind)
{
	return strcmp(kind, "body") == 0 ? 0 : strcmp(kind, "alias") == 0 ? 1
									  : 2;
}

/* A body's acronym before its name; a contact's email, name, role. */
static int field_order(const char *field)
{
	static const char *const order[] = {"acronym", "name", "alias",
					    "email", "role"};

	for (int i = 0; i < 5; i++)
		if (strcmp(field, order[i]) == 0)
			return i;
	return 5;
}

static int compare(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c;

	if (a->m.rank != b->m.rank)
		return a->m.rank < b->m.rank ? -1 : 1;
	if ((c = strcmp((const char *)a->name_key, (const char *)b->name_key)))
		return c;
	if (a->m.body_id != b->m.body_id)
		return a->m.body_id < b->m.body_id ? -1 : 1;
	if ((c = kind_order(a->m.kind) - kind_order(b->m.kind)))
		return c;
	if (a->m.contact_id != b->m.contact_id)
		return a->m.contact_id < b->m.contact_id ? -1 : 1;
	if ((c = field_order(a->m.field) - field_order(b->m.field)))
		return c;
	return strcmp(a->m.text, b->m.text);
}

static void match_release(struct find_match *m)
{
	free(m->kind);
	free(m->field);
	free(m->body);
	free(m->body_name);
	free(m->text);
}

void find_result_release(struct find_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		match_release(&r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static bool has_alnum(const UChar *u, int32_t len)
{
	for (int32_t i = 0; i < len;) {
		UChar32 c;

		U16_NEXT(u, i, len, c);
		if (u_isalnum(c))
			return true;
	}
	return false;
}

int find_search(struct db *db, const char *text, size_t limit,
		struct find_result *out, struct error *err)
{
	struct search s = {.err = err};
	UErrorCode st = U_ZERO_ERROR;
	char *canon = NULL;
	int32_t pcap = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (text && address_canonical(text, &canon, NULL) == 0)
		text = canon;
	s.plen = text ? to_u16(text, &s.pattern, &pcap) : -1;
	if (s.plen < 0 || !has_alnum(s.pattern, s.plen)) {
		rc = error_set(err, ERR_USAGE,
			       "nothing to search for in '%s' (give letters "
			       "or digits)", text ? text : "");
		goto out;
	}
	s.coll = ucol_open("", &st);
	if (U_SUCCESS(st))
		ucol_setStrength(s.coll, UCOL_PRIMARY);
	/* Spaces and punctuation ignorable: "secretary general" finds
	 * "Secretary-General". */
	if (U_SUCCESS(st))
		ucol_setAttribute(s.coll, UCOL_ALTERNATE_HANDLING, UCOL_SHIFTED,
				  &st);
	if (U_SUCCESS(st))
		s.us = usearch_openFromCollator(s.pattern, s.plen, s.pattern,
						s.plen, s.coll, NULL, &st);
	if (U_FAILURE(st)) {
		rc = error_set(err, ERR_SOFTWARE, "ICU search: %s",
			       u_errorName(st));
		goto out;
	}
	if ((rc = registry_search_each(db, consider, &s, err)))
		goto out;
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), compare);
	out->n = limit && s.n > limit ? limit : s.n;
	out->v = xmalloc((out->n ? out->n : 1) * sizeof(*out->v));
	for (size_t i = 0; i < s.n; i++) {
		if (i < out->n)
			out->v[i] = s.v[i].m;
		else
			match_release(&s.v[i].m);
	}
out:
	if (rc) {
		for (size_t i = 0; i < s.n; i++)
			match_release(&s.v[i].m);
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i].name_key);
	free(s.v);
	if (s.us)
		usearch_close(s.us);
	if (s.coll)
		ucol_close(s.coll);
	free(s.pattern);
	free(s.buf);
	free(canon);
	return rc;
}
