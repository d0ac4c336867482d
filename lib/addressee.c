/*
 * addressee: reading the closing addressee paragraph of a statement.
 *
 * The paragraph is prose written a little differently every year, often
 * copied from PDFs or web pages, so the parser works in passes that each
 * repair one thing: clean the text (page breaks, hyphenation, white
 * space), find the last sentence that starts with a trigger ("has been
 * sent to"), split it at commas and "as well as" (keeping parentheses
 * whole), glue back names that themselves contain commas (guided by their
 * acronym, or by the registry), split coordinations at "and" and expand
 * the ones that share a word ("International and European Ombudsman
 * Institutes"), then strip qualifiers and resolve back-references.
 *
 * It is one module above 1,000 lines because the passes are one pipeline
 * over one text that share their string helpers (segments, acronyms,
 * capitals); it needs no database. What a line of the text is
 * (addressee_lines.c), which words open a passage (addressee_trigger.c)
 * and which words in a list name no one (addressee_clause.c) are tables
 * and questions of their own, asked from here. Resolving the addressees
 * against the registry is addressee_plan.c.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chancery/addressee.h"
#include "chancery/addressee_clause.h"
#include "chancery/addressee_lines.h"
#include "chancery/addressee_trigger.h"
#include "chancery/utf8.h"
#include "chancery/xalloc.h"

void addressee_list_release(struct addressee_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		free(l->items[i].written);
		free(l->items[i].acronym);
		free(l->items[i].phrase);
		free(l->items[i].group_kind);
		free(l->items[i].group_country);
		free(l->items[i].warning);
		free(l->items[i].ref_name);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int addressee_check_text(const char *text, size_t len, struct error *err)
{
	size_t bad = 0, i;

	for (i = 0; i < len && isspace((unsigned char)text[i]); i++)
		;
	if (i == len)
		return error_set(err, ERR_DATA, "the text is empty");
	if (memchr(text, '\0', len))
		return error_set(err, ERR_DATA,
				 "not a text file (it contains NUL bytes)");
	if (!utf8_valid(text, len, &bad))
		return error_set(err, ERR_DATA,
				 "invalid UTF-8 at byte %zu", bad);
	return 0;
}

/* ---- cleaning ---------------------------------------------------------- */

/* The ASCII letters of a ligature from a PDF (U+FB00..U+FB06: "ﬁ"),
 * NULL when c is none. */
static const char *ligature(const char *c, size_t left)
{
	static const char *const lig[] = {"ff", "fi", "fl", "ffi", "ffl",
					  "st", "st"};

	if (left < 3 || (unsigned char)c[0] != 0xef ||
	    (unsigned char)c[1] != 0xac || (unsigned char)c[2] > 0x86)
		return NULL;
	return lig[(unsigned char)c[2] - 0x80];
}

/* A soft hyphen at a line end, for collapse to join the word without a
 * hyphen ("Co\u00ad\noperation" is "Cooperation"). */
#define SOFT_HYPHEN '\x1f'

/* Whether only white space is left of the line s[j..end). */
static bool rest_blank(const char *s, size_t j, size_t end)
{
	while (j < end && isspace((unsigned char)s[j]))
		j++;
	return j == end;
}

/* One line into out: no-break spaces as spaces, soft hyphens dropped
 * (one at the line end as a hyphen, for collapse to join the word),
 * ligatures spelt out, page breaks as '\r', and a list marker after
 * ':' or ';' ("to: 1. UNSG; 2. UNICEF") as a separator. */
static void clean_line(const char *t, size_t j, size_t end, struct sbuf *out)
{
	for (; j < end; j++) {
		unsigned char c = (unsigned char)t[j];
		const char *lig = ligature(t + j, end - j);

		if (c == 0xc2 && j + 1 < end &&
		    (unsigned char)t[j + 1] == 0xa0) {
			sbuf_addch(out, ' ');
			j++;
		} else if (c == 0xc2 && j + 1 < end &&
			   (unsigned char)t[j + 1] == 0xad) {
			if (rest_blank(t, j + 2, end))
				sbuf_addch(out, SOFT_HYPHEN);
			j++;
		} else if (lig) {
			sbuf_addstr(out, lig);
			j += 2;
		} else if (c == '\r' && j + 1 == end) {
			continue; /* CRLF: one line end, not two */
		} else if (c == '\f' || c == '\r' || c == '\v') {
			/* a break, but not a line of the file: line
			 * numbers count '\n' */
			sbuf_addch(out, '\r');
		} else if ((c == ':' || c == ';') &&
			   addressee_bullet_len(t + j + 1, end - j - 1)) {
			sbuf_addstr(out, c == ':' ? ": ;" : ";");
			j += addressee_bullet_len(t + j + 1, end - j - 1);
		} else {
			sbuf_addch(out, (int)c);
		}
	}
}

/* Drops page debris, marks list items (a bullet, or one name a line
 * after a line ending in ':') with a separator, and breaks the paragraph
 * before a signature or a date line. */
static void clean_lines(const char *text, size_t len, struct sbuf *out)
{
	size_t i = 0, items = 0;
	bool lead = false; /* the line before ended in ':' */

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len, j;

		if (lead && addressee_lines_are_items(text, len, i, &j))
			items = j;
		if (!addressee_line_debris(text + i, end - i)) {
			j = i + addressee_bullet_len(text + i, end - i);
			if (j > i || i < items)
				sbuf_addstr(out, "; ");
			else if (addressee_line_after_list(text + i, end - i))
				sbuf_addch(out, '\v'); /* a hard break */
			clean_line(text, j, end, out);
			lead = end > i && !rest_blank(text, i, end);
			for (j = end; lead && j > i &&
				      isspace((unsigned char)text[j - 1]);
			     j--)
				;
			lead = lead && (text[j - 1] == ':' ||
					addressee_trigger_label(text + i,
								end - i));
		}
		sbuf_addch(out, '\n');
		i = end + 1;
	}
}

/* Where the lines of the original text start in the collapsed text:
 * (offset, line) at every run of white space that crossed a line end,
 * so a passage can be reported as lines of the file. */
struct line_map {
	struct line_mark {
		size_t off, line;
	} *v;
	size_t n, alloc;
	size_t line; /* the current line (1-based) while collapsing */
};

static void line_mark(struct line_map *m, size_t off)
{
	if (!m)
		return;
	xgrow(&m->v, sizeof(*m->v), m->n + 1, &m->alloc);
	m->v[m->n].off = off;
	m->v[m->n].line = m->line;
	m->n++;
}

/* The line of the original text the collapsed offset off comes from. */
static size_t line_of(const struct line_map *m, size_t off)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) { /* the last mark at or before off */
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].off <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? m->v[lo - 1].line : 1;
}

/* Whether the word before the hyphen at s[i] is a prefix that keeps its
 * hyphen ("co-\nchairs", "non-\ngovernmental"). */
static bool hyphen_prefix(const char *s, size_t i)
{
	static const char *const pre[] = {"co", "non", "self", "ex", "vice",
					   "anti", "cross"};

	for (size_t k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
		size_t n = strlen(pre[k]);

		if (i >= n && strncasecmp(s + i - n, pre[k], n) == 0 &&
		    (i == n || !isalpha((unsigned char)s[i - n - 1])))
			return true;
	}
	return false;
}

/*
 * Collapses white space: a run holding a blank line becomes "\n" (kept,
 * because a sentence without a full stop ends at one), any other run one
 * space. A hyphen at a line end joins the word: dropped before a
 * lower-case letter ("Ombuds-\nman"), kept before a capital
 * ("Secretary-\nGeneral") and after a prefix ("co-\nchairs"). '\r' (a
 * page or carriage break from clean_lines) breaks a line but is no line
 * of the file; map, when not NULL, records where the file's lines went.
 */
static void collapse(const char *s, struct sbuf *out, struct line_map *map)
{
	size_t i = 0, n = strlen(s), lines = 0;

	if (map)
		map->line = 1;
	while (i < n) {
		if (isspace((unsigned char)s[i])) {
			int newlines = 0;
			bool hard = false;

			lines = 0;
			while (i < n && isspace((unsigned char)s[i])) {
				newlines += s[i] == '\n' || s[i] == '\r';
				hard |= s[i] == '\v';
				lines += s[i++] == '\n';
			}
			if (out->len && i < n)
				sbuf_addch(out, hard ? '\v'
						     : newlines >= 2 ? '\n' : ' ');
			if (map && lines) {
				map->line += lines;
				line_mark(map, out->len);
			}
			continue;
		}
		if ((s[i] == '-' || s[i] == SOFT_HYPHEN) && i > 0 &&
		    isalpha((unsigned char)s[i - 1])) {
			size_t j = i + 1;
			bool nl = false;

			lines = 0;
			while (j < n && isspace((unsigned char)s[j])) {
				nl |= s[j] == '\n' || s[j] == '\r';
				lines += s[j++] == '\n';
			}
			if (nl && j < n && isalpha((unsigned char)s[j])) {
				if (s[i] == '-' && (!islower((unsigned char)s[j]) ||
						    hyphen_prefix(s, i)))
					sbuf_addch(out, '-');
				i = j;
				if (map && lines) {
					map->line += lines;
					line_mark(map, out->len);
				}
				continue;
			}
		}
		if (s[i] == SOFT_HYPHEN) /* joins nothing: invisible */
			i++;
		else
			sbuf_addch(out, s[i++]);
	}
}

size_t addressee_word_among(const char *s, size_t i, const char *const *list,
			    size_t n, bool fold)
{
	if (i > 0 && isalnum((unsigned char)s[i - 1]))
		return 0;
	for (size_t k = 0; k < n; k++) {
		size_t len = strlen(list[k]);

		if ((fold ? strncasecmp(s + i, list[k], len)
			  : strncmp(s + i, list[k], len)) == 0 &&
		    !isalnum((unsigned char)s[i + len]))
			return len;
	}
	return 0;
}

bool addressee_word_at(const char *s, size_t i, const char *w)
{
	return addressee_word_among(s, i, &w, 1, true) != 0;
}

/* ---- finding the paragraph --------------------------------------------- */

/* Whether the word before the dot at s[i] is one of list (n words). */
static bool dot_after(const char *s, size_t i, const char *const *list,
		      size_t n)
{
	for (size_t k = 0; k < n; k++) {
		size_t w = strlen(list[k]);

		if (i >= w && strncasecmp(s + i - w, list[k], w) == 0 &&
		    (i == w || !isalpha((unsigned char)s[i - w - 1])))
			return true;
	}
	return false;
}

/* A full stop that ends a sentence: followed by white space or the end,
 * and not the dot of an initial ("U.N.", "H.E."), of a title ("Mr.",
 * "Dr."), or of "etc." with the sentence going on in lower case. */
static bool sentence_end(const char *s, size_t i)
{
	static const char *const titles[] = {
		"Mr", "Mrs", "Ms", "Dr", "Prof", "Amb", "Mme", "Messrs",
		"St", "No", "Nos", "Art", "para", "Jr", "Sr", "vs", "cf",
	};
	static const char *const soft[] = {"etc", "e.g", "i.e", "incl"};
	size_t k = i + 1;

	if (s[i] != '.')
		return false;
	if (s[i + 1] && !isspace((unsigned char)s[i + 1]))
		return false;
	if (i >= 1 && isupper((unsigned char)s[i - 1]) &&
	    (i == 1 || s[i - 2] == '.' || isspace((unsigned char)s[i - 2])))
		return false;
	if (dot_after(s, i, titles, sizeof(titles) / sizeof(titles[0])))
		return false;
	while (s[k] == ' ')
		k++;
	return !(dot_after(s, i, soft, sizeof(soft) / sizeof(soft[0])) &&
		 (islower((unsigned char)s[k]) || s[k] == ';' ||
		  s[k] == ','));
}

static bool ends_with_word(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && strncasecmp(s + len - n, w, n) == 0 &&
	       (len == n || !isalnum((unsigned char)s[len - n - 1]));
}

/* A blank line ends an unpunctuated sentence unless the text before it
 * plainly continues (a comma, "and", "of", ...). */
static bool continues(const char *s, size_t len)
{
	static const char *const words[] = {"and", "or", "of", "the", "to",
					    "for", "in", "as well as",
					    "including"};

	while (len && s[len - 1] == ' ')
		len--;
	if (!len || s[len - 1] == ',' || s[len - 1] == ';' ||
	    s[len - 1] == '(' || s[len - 1] == '-')
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (ends_with_word(s, len, words[i]))
			return true;
	return false;
}

/* Removes what stands before the first addressee: a colon, a list
 * separator, "the following (international) organisations:", a class
 * the names after the colon make precise ("international bodies:"). */
static void strip_lead_in(struct sbuf *t)
{
	const char *colon = memchr(t->buf, ':', t->len < 120 ? t->len : 120);
	const char *follow = strstr(t->buf, "following");
	size_t cut = 0;

	if (colon && (colon == t->buf || (follow && follow < colon)))
		cut = (size_t)(colon - t->buf) + 1;
	/* "the international organisations: UN, OSCE" */
	if (colon && !cut && !memchr(t->buf, ',', (size_t)(colon - t->buf))) {
		char *head = xstrndup(t->buf, (size_t)(colon - t->buf));

		if (addressee_clause_general(head))
			cut = (size_t)(colon - t->buf) + 1;
		free(head);
	}
	while (cut < t->len && (t->buf[cut] == ' ' || t->buf[cut] == ';'))
		cut++;
	if (cut) {
		memmove(t->buf, t->buf + cut, t->len - cut + 1);
		t->len -= cut;
	}
}

/* Where the sentence that starts at start ends: its full stop, a
 * signature or date line after it (clean_lines marks it '\v'), a blank
 * line before a new sentence ("The ...", "In ..."), else a blank line
 * after which it plainly does not continue, else the end of the text.
 * There is no length limit (a cut would drop addressees without a
 * word): the input is bounded, and find_sentence scans each byte once. */
static size_t sentence_after(const char *s, size_t start)
{
	static const char *const openers[] = {
		"The", "This", "These", "It", "We", "I", "He", "She", "They",
		"Our", "In", "At", "On", "According", "Besides", "Also",
		"Furthermore", "Moreover", "Copies", "Today", "Earlier",
	};
	size_t end, blank = 0;

	for (end = start; s[end]; end++) {
		if (s[end] == '\v') /* a signature or date line follows */
			return blank ? blank : end;
		/* a paragraph without a full stop, then a new sentence */
		for (size_t k = 0; s[end] == '\n' && !blank &&
				   k < sizeof(openers) / sizeof(openers[0]);
		     k++)
			if (strncmp(s + end + 1, openers[k],
				    strlen(openers[k])) == 0 &&
			    s[end + 1 + strlen(openers[k])] == ' ' &&
			    !continues(s + start, end - start))
				return end;
		if (sentence_end(s, end)) {
			size_t k = end + 1;

			/* "• UNSG.\n• OSCE.": the next item of a list */
			while (s[k] == ' ')
				k++;
			if (s[k] != ';')
				return end;
		}
		if (s[end] == '\n' && !blank && !continues(s + start, end - start))
			blank = end;
	}
	return blank ? blank : end;
}

/* How many addressees a sentence seems to list: its separators. */
static int separators(const char *s, size_t start, size_t end)
{
	int n = 0;

	for (size_t i = start; i < end; i++)
		n += s[i] == ',' || s[i] == ';' || addressee_word_at(s, i, "and");
	return n;
}

/* The sentences of one addressee passage, in order. */
struct passage {
	struct span {
		size_t start, end; /* after the trigger .. the full stop */
	} *v;
	size_t n, alloc;
	int score; /* addressees it seems to list */
	bool bare; /* its first span has no trigger (find_passage_at) */
};

/* Words that make a sentence with a trigger continue the passage before
 * it: "Besides, the appeal was also sent to", "Copies were sent to". */
static bool continuation_marker(const char *s, size_t from, size_t to)
{
	static const char *const words[] = {
		"also", "besides", "copies", "copy", "in addition",
		"additionally", "further", "furthermore", "moreover",
		"likewise", "as well",
	};
	for (size_t i = from; i < to; i++)
		if (addressee_word_among(s, i, words,
					 sizeof(words) / sizeof(words[0]), true))
			return true;
	return false;
}

static void find_passage(const char *s, struct passage *best, bool first);

/* Whether a trigger starts anywhere in s[from, to). */
static bool trigger_within(const char *s, size_t from, size_t to)
{
	for (size_t p = from; p < to; p++)
		if (addressee_trigger_at(s, p))
			return true;
	return false;
}

/*
 * find_passage for a text that starts where a person pointed
 * (--paragraph, --from): the first passage, not the one that lists the
 * most. When its first paragraph has no trigger, the text pointed at is
 * the list itself, up to the end of its sentence ("UN Secretary-General,
 * the OSCE and UNICEF."); continuations after it still join.
 */
static void find_passage_at(const char *s, struct passage *best)
{
	const char *nl = strchr(s, '\n');
	size_t para = nl ? (size_t)(nl - s) : strlen(s);

	if (!trigger_within(s, 0, para)) {
		size_t e = sentence_after(s, 0);

		xgrow(&best->v, sizeof(*best->v), 1, &best->alloc);
		best->v[0].start = 0;
		best->v[0].end = e;
		best->n = 1;
		best->score = separators(s, 0, e) + 1;
		best->bare = true;
	}
	find_passage(s, best, true);
}

/*
 * The addressee passage: the sentences after a trigger, each joined to
 * the passage before it when it follows it directly and says it
 * continues it ("also", "besides", "copies", ...); of the passages, the
 * one that lists the most (the latest on a tie), so a stray "was sent to"
 * in page debris does not win over the paragraph. best->n is 0 when there
 * is none. Each byte is looked at a bounded number of times. With first,
 * the first passage is taken, continuing the one best already holds
 * (find_passage_at).
 */
static void find_passage(const char *s, struct passage *best, bool first)
{
	struct passage cur = *best;
	size_t n = strlen(s), scanned = 0, sent = 0;

	memset(best, 0, sizeof(*best));
	if (cur.n)
		scanned = cur.v[cur.n - 1].end;
	for (size_t p = 0; p < n; p++) {
		size_t len, b, e, k;
		bool joins;

		if (p > 0 && (s[p - 1] == '\n' || s[p - 1] == '\v' ||
			      sentence_end(s, p - 1)))
			sent = p;
		if (p < scanned || !(len = addressee_trigger_at(s, p)))
			continue;
		b = p + len;
		e = sentence_after(s, b);
		if (!addressee_names_someone(s, b, e)) {
			/* "convoys were sent to the region": a trigger
			 * later in the span would name no one either */
			scanned = e;
			continue;
		}
		joins = cur.n && sent > cur.v[cur.n - 1].end &&
			continuation_marker(s, sent, p + len);
		for (k = cur.n ? cur.v[cur.n - 1].end + 1 : 0; joins && k < sent;
		     k++)
			joins = isspace((unsigned char)s[k]);
		if (!joins && first && cur.n)
			goto done; /* the passage pointed at ended */
		if (!joins) {
			if (cur.n && cur.score >= best->score) {
				free(best->v);
				*best = cur;
			} else {
				free(cur.v);
			}
			memset(&cur, 0, sizeof(cur));
		}
		xgrow(&cur.v, sizeof(*cur.v), cur.n + 1, &cur.alloc);
		cur.v[cur.n].start = b;
		cur.v[cur.n].end = e;
		cur.n++;
		cur.score += separators(s, b, e) + 1;
		scanned = e;
	}
done:
	if (cur.n && cur.score >= best->score) {
		free(best->v);
		*best = cur;
	} else {
		free(cur.v);
	}
}

/*
 * "UNESCO; it was also forwarded to the OIC": a clause inside the list
 * that repeats a trigger is a separator, not an addressee. A clause of a
 * few words before the trigger, after a ";" or ",", is cut with it.
 */
static void cut_inner_triggers(struct sbuf *part)
{
	struct sbuf out = SBUF_INIT;
	size_t clause = 0, words = 0, done = 0;

	for (size_t p = 0; p < part->len; p++) {
		const char *s = part->buf;

		if (s[p] == ';' || s[p] == ',') {
			clause = p;
			words = 0;
			continue;
		}
		if (s[p] == ' ')
			words++;
		if (!clause || words > 6 || (p && s[p - 1] != ' '))
			continue;
		size_t len = addressee_trigger_at(s, p);

		if (!len)
			continue;
		sbuf_add(&out, s + done, clause - done);
		sbuf_addstr(&out, ";");
		done = p + len;
		p = done - 1;
		clause = 0;
	}
	if (!done) {
		sbuf_release(&out);
		return;
	}
	sbuf_add(&out, part->buf + done, part->len - done);
	sbuf_release(part);
	*part = out;
}

/* "Addressees: UNSG, ..." pointed at without a trigger: the label before
 * a colon near the start, when no comma stands before it. */
static void strip_label(struct sbuf *t)
{
	const char *colon = memchr(t->buf, ':', t->len < 60 ? t->len : 60);
	size_t cut;

	if (!colon || memchr(t->buf, ',', (size_t)(colon - t->buf)))
		return;
	cut = (size_t)(colon - t->buf) + 1;
	while (cut < t->len && (t->buf[cut] == ' ' || t->buf[cut] == ';'))
		cut++;
	memmove(t->buf, t->buf + cut, t->len - cut + 1);
	t->len -= cut;
}

/* addressee_find_paragraph; with anchored, the passage text starts */
static int find_paragraph(const char *text, size_t len, bool anchored,
			  struct sbuf *list_text,
			  struct addressee_passage *where, struct error *err)
{
	struct sbuf lines = SBUF_INIT, clean = SBUF_INIT, part = SBUF_INIT;
	struct line_map map = {0};
	struct passage ps = {0};
	int rc = 0;

	clean_lines(text, len, &lines);
	collapse(lines.buf, &clean, &map);
	if (anchored)
		find_passage_at(clean.buf, &ps);
	else
		find_passage(clean.buf, &ps, false);
	if (!ps.n) {
		rc = error_set(err, ERR_DATA,
			       "no addressee paragraph (no sentence such as "
			       "'The statement has been sent to ...' or "
			       "'... is addressed to ...')");
		goto out;
	}
	for (size_t k = 0; k < ps.n; k++) {
		sbuf_reset(&part);
		/* inside a span a full stop only ends a list item */
		for (size_t i = ps.v[k].start; i < ps.v[k].end; i++)
			sbuf_addch(&part, clean.buf[i] == '\n' ||
						  sentence_end(clean.buf, i)
					  ? ' '
					  : clean.buf[i]);
		sbuf_trim(&part);
		strip_lead_in(&part);
		if (k == 0 && ps.bare)
			strip_label(&part);
		cut_inner_triggers(&part);
		if (!part.len)
			continue;
		if (list_text->len)
			sbuf_addstr(list_text, "; ");
		sbuf_addstr(list_text, part.buf);
	}
	if (where) {
		where->first_line = line_of(&map, ps.v[0].start);
		where->last_line = line_of(&map, ps.v[ps.n - 1].end);
		where->sentences = ps.n;
	}
	if (!list_text->len)
		rc = error_set(err, ERR_DATA,
			       "the addressee paragraph names no addressee");
out:
	free(ps.v);
	free(map.v);
	sbuf_release(&part);
	sbuf_release(&lines);
	sbuf_release(&clean);
	return rc;
}

int addressee_find_paragraph(const char *text, size_t len,
			     struct sbuf *list_text,
			     struct addressee_passage *where,
			     struct error *err)
{
	return find_paragraph(text, len, false, list_text, where, err);
}

/* Whether s[0..n) is a line of white space only. */
static bool blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

int addressee_locate_paragraph(const char *text, size_t len, size_t n,
			       size_t *start, struct error *err)
{
	size_t i = 0, count = 0;
	bool in_para = false;

	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (blank_line(text + i, end - i)) {
			in_para = false;
		} else if (!in_para) {
			in_para = true;
			if (++count == n) {
				*start = i;
				return 0;
			}
		}
		i = end + 1;
	}
	return error_set(err, ERR_USAGE,
			 "--paragraph %zu is out of range: the text has %zu "
			 "paragraph%s", n, count, count == 1 ? "" : "s");
}

/* The length of the match of needle at text[i], white space in either
 * matching any run of white space, or 0. */
static size_t match_loose(const char *text, size_t len, size_t i,
			  const char *needle)
{
	size_t j = i;

	for (const char *p = needle; *p;) {
		if (isspace((unsigned char)*p)) {
			while (*p && isspace((unsigned char)*p))
				p++;
			if (j >= len || !isspace((unsigned char)text[j]))
				return 0;
			while (j < len && isspace((unsigned char)text[j]))
				j++;
			continue;
		}
		if (j >= len || text[j] != *p)
			return 0;
		j++;
		p++;
	}
	return j - i;
}

int addressee_locate_text(const char *text, size_t len, const char *needle,
			  size_t *start, struct error *err)
{
	const char *n = needle;

	while (*n && isspace((unsigned char)*n))
		n++;
	if (!*n)
		return error_set(err, ERR_USAGE, "--from wants some text");
	for (size_t i = 0; i < len; i++) {
		if (text[i] != *n)
			continue;
		if (match_loose(text, len, i, n)) {
			*start = i;
			return 0;
		}
	}
	return error_set(err, ERR_DATA, "--from '%s' does not occur in the "
			 "text", needle);
}

/* ---- small string helpers ---------------------------------------------- */

/* The pieces a paragraph is cut into, as many as it has: a statement
 * may name thousands of addressees, and none is dropped. */
struct segs {
	char **s;
	size_t n;
	size_t alloc;
};

static void segs_push(struct segs *g, const char *s, size_t len)
{
	struct sbuf b = SBUF_INIT;

	sbuf_add(&b, s, len);
	sbuf_trim(&b);
	if (b.len) {
		xgrow(&g->s, sizeof(*g->s), g->n + 1, &g->alloc);
		g->s[g->n++] = sbuf_detach(&b, NULL);
	}
	sbuf_release(&b);
}

static void segs_release(struct segs *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->s[i]);
	free(g->s);
	memset(g, 0, sizeof(*g));
}

/* Removes a leading word or phrase (case-insensitive); true if it did. */
bool addressee_strip_prefix(char **s, const char *w)
{
	size_t n = strlen(w);
	char *t;

	if (strncasecmp(*s, w, n) != 0 || (*s)[n] != ' ')
		return false;
	t = xstrdup(*s + n + 1);
	free(*s);
	*s = t;
	return true;
}

static size_t count_words(const char *s)
{
	size_t n = 0;

	for (size_t i = 0; s[i]; i++)
		if (!isspace((unsigned char)s[i]) &&
		    (i == 0 || isspace((unsigned char)s[i - 1])))
			n++;
	return n;
}

/* Whether at least half the letters of s[0..n) are capitals. */
static bool mostly_capitals(const char *s, size_t n)
{
	size_t caps = 0, letters = 0;

	for (size_t i = 0; i < n && s[i] != ' '; i++) {
		letters += isalpha((unsigned char)s[i]) != 0;
		caps += isupper((unsigned char)s[i]) != 0;
	}
	return caps * 2 >= letters;
}

/* An acronym as written in parentheses: 2..24 characters, at least two
 * capitals ("UNSG", "CoE", "NHRIs", "OIC-IPHRC", "OSCE/ODIHR"), or words
 * that each are one ("OSCE PA"). */
bool addressee_acronym_like(const char *s, size_t n)
{
	const char *sp = memchr(s, ' ', n);
	int caps = 0;

	if (n < 2 || n > 24)
		return false;
	if (sp) /* "OSCE PA": each word an acronym, mostly capitals */
		return sp > s && mostly_capitals(s, (size_t)(sp - s)) &&
		       addressee_acronym_like(s, (size_t)(sp - s)) &&
		       addressee_acronym_like(sp + 1, n - (size_t)(sp - s) - 1) &&
		       mostly_capitals(sp + 1, n - (size_t)(sp - s) - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isupper(c))
			caps++;
		else if (!isalnum(c) && c != '-' && c != '&' && c != '.' &&
			 c != '/')
			return false;
	}
	return caps >= 2;
}

/* The trailing "(ACR)" of s: its offset and the acronym, or false. */
static bool trailing_acronym(const char *s, size_t *open, char **acr)
{
	size_t n = strlen(s);
	const char *o;

	while (n && s[n - 1] == ' ')
		n--;
	if (!n || s[n - 1] != ')')
		return false;
	for (o = s + n - 1; o > s && *o != '('; o--)
		;
	if (*o != '(' ||
	    !addressee_acronym_like(o + 1, (size_t)(s + n - 1 - o - 1)))
		return false;
	if (open)
		*open = (size_t)(o - s);
	if (acr)
		*acr = xstrndup(o + 1, (size_t)(s + n - 1 - o - 1));
	return true;
}

static bool initials_skip(const char *w, size_t n)
{
	static const char *const skip[] = {"and", "of", "the", "for", "on",
					   "in", "to", "&", "de", "des", "du"};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strlen(skip[i]) == n && strncasecmp(w, skip[i], n) == 0)
			return true;
	return false;
}

/* The upper-case initials of a name: one per word, all letters of an
 * all-capitals word ("UN Educational ..." → "UNE..."). */
static void initials(const char *s, size_t len, struct sbuf *out)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i, caps = 0, alpha = 0;

		while (j < len && s[j] != ' ' && s[j] != ',' && s[j] != '-')
			j++;
		for (size_t k = i; k < j; k++) {
			alpha += isalpha((unsigned char)s[k]) != 0;
			caps += isupper((unsigned char)s[k]) != 0;
		}
		if (alpha && !initials_skip(s + i, j - i)) {
			if (caps == alpha && alpha >= 2) {
				for (size_t k = i; k < j; k++)
					if (isalpha((unsigned char)s[k]))
						sbuf_addch(out, s[k]);
			} else {
				for (size_t k = i; k < j; k++)
					if (isalpha((unsigned char)s[k])) {
						sbuf_addch(out,
							   toupper((unsigned char)s[k]));
						break;
					}
			}
		}
		i = j + 1;
	}
}

static void letters_upper(const char *s, struct sbuf *out)
{
	for (; *s; s++)
		if (isalpha((unsigned char)*s))
			sbuf_addch(out, toupper((unsigned char)*s));
}

/* ---- splitting ----------------------------------------------------------- */

/* Whether a piece of the list starts a clause that is no addressee:
 * "urging them to ...", "calling for ...", "in order to ...", "for the
 * right to truth". */
static bool clause_start(const char *s, size_t n)
{
	static const char *const words[] = {
		"in order", "so that", "which", "who", "for", "regarding",
		"concerning", "about", "asking", "requesting", "with a",
	};
	size_t w;

	while (n && *s == ' ')
		s++, n--;
	if (strncmp(s, "and ", 4) == 0)
		s += 4, n -= 4;
	for (w = 0; w < n && s[w] != ' '; w++)
		;
	if (!n || !islower((unsigned char)*s))
		return false;
	if (w > 4 && strncmp(s + w - 3, "ing", 3) == 0 &&
	    !addressee_word_at(s, 0, "including"))
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) <= n && addressee_word_at(s, 0, words[i]))
			return true;
	return false;
}

/* Where the parenthesis opened at s[open] closes when it holds a list
 * (a comma) after a general plural s[start..open), else 0. */
static size_t list_in_parens(const char *s, size_t start, size_t open)
{
	const char *c = strchr(s + open, ')');
	const char *in = strchr(s + open + 1, '(');
	char *head;
	bool general;

	if (!c || (in && in < c) ||
	    !memchr(s + open, ',', (size_t)(c - s - open)))
		return 0;
	head = xstrndup(s + start, open - start);
	general = addressee_clause_general(head);
	free(head);
	return general ? (size_t)(c - s) : 0;
}

/* Drops the last piece of g when it names a class in general terms that
 * a specifier makes precise, unless it is a group of bodies. */
static void drop_general(struct segs *g)
{
	const char *kind;
	char *country = NULL;

	if (!g->n || !addressee_clause_general(g->s[g->n - 1]) ||
	    addressee_group_classify(g->s[g->n - 1], &kind, &country)) {
		free(country);
		return;
	}
	free(g->s[--g->n]);
}

/* What split_top does inside a piece at s[i]: a finite verb makes the
 * piece a sentence (*skip, subject too), a clause ends the name before
 * it (*skip), a specifier separates and drops the general plural before
 * it (true: the caller goes on after it). */
static bool split_inside(const char *s, size_t i, struct segs *g,
			 size_t *start, bool *skip)
{
	size_t n;

	if (addressee_clause_finite(s, i)) {
		*skip = true;
		*start = i;
	} else if (i > *start && addressee_clause_at(s, i)) {
		/* "... and the OSCE with a request to ..." */
		segs_push(g, s + *start, i - *start);
		*skip = true;
		*start = i;
	} else if ((n = addressee_clause_specifier(s, i)) != 0) {
		/* "international organisations, including the UN" */
		segs_push(g, s + *start, i - *start);
		drop_general(g);
		*start = i + n;
		return true;
	}
	return false;
}

/* Splits at commas, semicolons and "as well as" outside parentheses (and
 * before "including", "in particular", ...: see drop_general); a
 * clause that is no addressee, at the start of a piece or inside it, is
 * left out up to the next semicolon. */
static void split_top(const char *s, struct segs *g)
{
	size_t start = 0, i, close = SIZE_MAX;
	int depth = 0;
	bool skip = false;

	for (i = 0; s[i]; i++) {
		if (s[i] == '(' && !depth && !skip && (close = list_in_parens(
				     s, start, i))) {
			/* "international organisations (the UN, OSCE)" */
			segs_push(g, s + start, i - start);
			drop_general(g);
			start = i + 1;
			continue;
		}
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth)
			depth--;
		if (depth)
			continue;
		if (i == close) {
			segs_push(g, s + start, i - start);
			start = i + 1;
			continue;
		}
		if (!skip && split_inside(s, i, g, &start, &skip))
			continue;
		if (s[i] == ',' || s[i] == ';' || addressee_word_at(s, i, "as well as")) {
			skip |= clause_start(s + start, i - start);
			if (!skip)
				segs_push(g, s + start, i - start);
			skip &= s[i] != ';' && !addressee_clause_resumes(s + i);
			start = i + (s[i] == ',' || s[i] == ';'
					     ? 1
					     : strlen("as well as"));
		}
	}
	if (!skip && !clause_start(s + start, i - start))
		segs_push(g, s + start, i - start);
}

/* Joins g->s[a..b] into one segment, separated by sep. */
static void segs_merge(struct segs *g, size_t a, size_t b, const char *sep)
{
	struct sbuf m = SBUF_INIT;

	for (size_t k = a; k <= b; k++) {
		if (k > a)
			sbuf_addstr(&m, sep);
		sbuf_addstr(&m, g->s[k]);
		free(g->s[k]);
	}
	g->s[a] = sbuf_detach(&m, NULL);
	memmove(g->s + a + 1, g->s + b + 1, (g->n - b - 1) * sizeof(char *));
	g->n -= b - a;
}

/*
 * "UN Educational, Scientific, and Cultural Organization (UNESCO)": a
 * segment whose acronym is longer than its own initials takes in the
 * segments before it while their initials continue the acronym.
 */
static void merge_by_acronym(struct segs *g, const char *sep)
{
	for (size_t i = 0; i < g->n; i++) {
		struct sbuf want = SBUF_INIT, got = SBUF_INIT;
		size_t open;
		char *acr = NULL;

		if (!trailing_acronym(g->s[i], &open, &acr))
			continue;
		letters_upper(acr, &want);
		for (size_t k = i + 1; k-- > 0 && i - k <= 6;) {
			sbuf_reset(&got);
			for (size_t m = k; m <= i; m++)
				initials(g->s[m],
					 m == i ? open : strlen(g->s[m]), &got);
			if (strcmp(got.buf, want.buf) == 0) {
				if (k < i)
					segs_merge(g, k, i, sep);
				i = k;
				break;
			}
			if (got.len >= want.len ||
			    strcmp(want.buf + want.len - got.len, got.buf) != 0)
				break;
		}
		free(acr);
		sbuf_release(&want);
		sbuf_release(&got);
	}
}

/* A name written with commas but no acronym: the longest run of segments
 * the registry knows as one name is taken whole. */
static void merge_known(struct segs *g, addressee_known_fn known, void *arg)
{
	if (!known)
		return;
	for (size_t i = 0; i < g->n; i++) {
		for (size_t j = g->n - 1 < i + 4 ? g->n - 1 : i + 4; j > i;
		     j--) {
			struct sbuf m = SBUF_INIT;
			bool hit;

			for (size_t k = i; k <= j; k++) {
				if (k > i)
					sbuf_addstr(&m, ", ");
				sbuf_addstr(&m, g->s[k]);
			}
			hit = known(m.buf, arg);
			sbuf_release(&m);
			if (hit) {
				segs_merge(g, i, j, ", ");
				break;
			}
		}
	}
}

/* An adjective that can share the noun after "and": "International
 * (and European) Ombudsman Institutes". */
static bool adjective_like(const char *w)
{
	static const char *const ends[] = {"al", "an", "ic", "ish", "ese",
					   "ern", "ean", "ian"};
	size_t n = strlen(w);
	bool caps = true;

	for (size_t i = 0; i < n; i++)
		caps &= !islower((unsigned char)w[i]);
	if (caps || strchr(w, '('))
		return false;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		size_t e = strlen(ends[i]);

		if (n > e + 2 && strcasecmp(w + n - e, ends[i]) == 0)
			return true;
	}
	return false;
}

/* Offset of the first " of " / " in " / " abroad" outside parentheses. */
static const char *modifier_start(const char *s)
{
	int depth = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth)
			depth--;
		else if (!depth && i > 0 && s[i - 1] == ' ' &&
			 (addressee_word_at(s, i, "of") || addressee_word_at(s, i, "in") ||
			  addressee_word_at(s, i, "abroad")))
			return s + i - 1;
	}
	return NULL;
}

/* A plural noun that can share a modifier: "ombudspersons (and national
 * human rights institutions) of different countries". */
static bool plural_head(const char *s)
{
	size_t n = strlen(s);

	return count_words(s) <= 3 && !modifier_start(s) && n > 3 &&
	       (s[n - 1] == 's' || ends_with_word(s, n, "ombudsmen") ||
		(n > 3 && strcmp(s + n - 3, "men") == 0));
}

static const char *const qualifiers[] = {
	"the heads of", "the head of", "heads of", "head of",
	"the leadership of", "leadership of", "the leaders of", "leaders of",
	"the chairpersons of", "the chairs of", "the secretariat of",
	"the secretariats of",
};

bool addressee_capitalised(const char *w)
{
	return isupper((unsigned char)*w) || (unsigned char)*w >= 0x80;
}

/*
 * Whether "left and right" is one name: left is a name still open (its
 * words capitalised around a "for"/"of"/"on": "Organization for
 * Security", "International Federation of Red Cross") and right a short
 * capitalised tail without a preposition of its own ("Cooperation in
 * Europe", "Red Crescent Societies", "Human Rights (OSCE/ODIHR)"), and
 * not both halves known names on their own. A right half that starts
 * with an article or an acronym, or names a class, starts a new
 * addressee.
 */
static bool and_inside_name(const char *left, const char *right,
			    addressee_known_fn known, void *arg)
{
	static const char *const preps[] = {" for ", " of ", " on "};
	const char *l = left, *last;
	bool open = false, again = true;
	size_t fw = strcspn(right, " ");

	/* a name is not that long: this also keeps a list of thousands of
	 * "and" linear */
	if (strnlen(left, 161) > 160 || strnlen(right, 161) > 160)
		return false;
	while (again) { /* "the leadership of the Organisation for ..." */
		again = false;
		for (size_t k = 0; k < sizeof(qualifiers) / sizeof(qualifiers[0]);
		     k++) {
			size_t n = strlen(qualifiers[k]);

			if (strncasecmp(l, qualifiers[k], n) == 0 && l[n] == ' ') {
				l += n + 1;
				again = true;
			}
		}
		for (size_t k = 0; k < 4; k++) {
			static const char *const art[] = {"the ", "to ", "and ",
							  "its "};
			size_t n = strlen(art[k]);

			if (strncasecmp(l, art[k], n) == 0) {
				l += n;
				again = true;
			}
		}
	}
	last = strrchr(l, ' ');

	if (!addressee_capitalised(l) || !last ||
	    !addressee_capitalised(last + 1) ||
	    !addressee_capitalised(right) || addressee_acronym_like(right, fw) ||
	    strncasecmp(right, "the ", 4) == 0 || count_words(right) > 5)
		return false;
	for (const char *p = l; (p = strchr(p, ' ')) != NULL; p++)
		for (size_t k = 0; k < sizeof(preps) / sizeof(preps[0]); k++)
			open |= strncmp(p, preps[k], strlen(preps[k])) == 0 &&
				addressee_capitalised(p + strlen(preps[k]));
	if (!open || strstr(right, " of ") || strstr(right, " for ") ||
	    strstr(right, " to "))
		return false;
	return !(known && known(left, arg) && known(right, arg));
}

/*
 * Whether the acronym closing seg (its "(" at open) is the last "and"
 * part's only, not the whole segment's: "UNESCO and the World Health
 * Organization (WHO)" is two bodies, "Association of Ombudsman and
 * National Human Rights Institutions of Turkic States (TURKOMB)" one.
 * It is when the part after the last "and" starts with an article, the
 * part before is an acronym alone, or the part's initials spell it.
 */
static bool acronym_of_last_part(const char *seg, size_t open)
{
	struct sbuf want = SBUF_INIT, got = SBUF_INIT;
	size_t and = 0, lw;
	const char *left = seg, *right;
	bool mine;

	for (size_t i = 1; i < open; i++)
		if (addressee_word_at(seg, i, "and") && seg[i - 1] == ' ')
			and = i;
	if (!and)
		return false;
	right = seg + and + 4;
	if (strncasecmp(left, "the ", 4) == 0)
		left += 4;
	lw = (size_t)(seg + and - 1 - left);
	letters_upper(seg + open + 1, &want);
	initials(right, (size_t)(seg + open - right), &got);
	mine = strncasecmp(right, "the ", 4) == 0 ||
	       (seg + and - 1 > left && addressee_acronym_like(left, lw)) ||
	       (got.len >= want.len && want.len >= 2 &&
		strcmp(got.buf + got.len - want.len, want.buf) == 0);
	sbuf_release(&want);
	sbuf_release(&got);
	return mine;
}

/*
 * Splits one segment at "and" (outside parentheses) and expands shared
 * words. A segment kept whole: one ending in its own acronym with no
 * parenthesis before ("Association of Ombudsman and National Human
 * Rights Institutions of Turkic States (TURKOMB)") unless that acronym
 * is the last part's (acronym_of_last_part), or a known name.
 */
static void split_and(char *seg, addressee_known_fn known, void *arg,
		      struct segs *out)
{
	struct segs parts = {0};
	size_t open, start = 0, i;
	int depth = 0;

	if ((trailing_acronym(seg, &open, NULL) && !memchr(seg, ')', open) &&
	     !acronym_of_last_part(seg, open)) ||
	    (known && known(seg, arg))) {
		segs_push(out, seg, strlen(seg));
		return;
	}
	for (i = 0; seg[i]; i++) {
		if (seg[i] == '(')
			depth++;
		else if (seg[i] == ')' && depth)
			depth--;
		else if (!depth && i > 0 && addressee_word_at(seg, i, "and")) {
			segs_push(&parts, seg + start, i - start);
			start = i + 3;
		}
	}
	segs_push(&parts, seg + start, i - start);
	/* "African Ombudsman and Mediators Association (AOMA)" */
	merge_by_acronym(&parts, " and ");
	/* "Organization for Security and Cooperation in Europe" */
	for (size_t k = 0; k + 1 < parts.n;)
		if (and_inside_name(parts.s[k], parts.s[k + 1], known, arg))
			segs_merge(&parts, k, k + 1, " and ");
		else
			k++;
	for (size_t k = 0; k + 1 < parts.n; k++) {
		char *left = parts.s[k], *right = parts.s[k + 1];
		const char *sp = strchr(right, ' '), *mod;
		/* "the International and European Ombudsman Institutes": the
		 * article does not make "International" a name of its own. */
		const char *core = strncasecmp(left, "the ", 4) == 0 ? left + 4
								     : left;

		if (count_words(core) == 1 && adjective_like(core) && sp &&
		    count_words(right) >= 2 && !strchr(core, '-') &&
		    strncasecmp(right, "the ", 4) != 0) {
			parts.s[k] = xasprintf("%s%s", left, sp);
			free(left);
		} else if (plural_head(left) && (mod = modifier_start(right))) {
			parts.s[k] = xasprintf("%s%s", left, mod);
			free(left);
		}
	}
	for (size_t k = 0; k < parts.n; k++)
		segs_push(out, parts.s[k], strlen(parts.s[k]));
	segs_release(&parts);
}

/* ---- one addressee ------------------------------------------------------ */


static const char *const backrefs[] = {
	"this organization", "this organisation", "this institution",
	"this body", "this organ", "that organization", "that organisation",
	"the said organization", "the said organisation", "this association",
};

/* "the ODIHR (Office for Democratic Institutions and Human Rights)": an
 * acronym, then its expansion in parentheses; name gets the expansion
 * and *acronym the acronym. */
static bool expansion_after_acronym(const char *w, struct sbuf *name,
				    char **acronym)
{
	size_t n = strlen(w), a;

	if (strncasecmp(w, "the ", 4) == 0)
		w += 4, n -= 4;
	a = strcspn(w, " ");
	if (!addressee_acronym_like(w, a) || strncmp(w + a, " (", 2) != 0 ||
	    w[n - 1] != ')' || memchr(w + a + 2, '(', n - a - 3) ||
	    count_words(w + a + 2) < 2 ||
	    addressee_acronym_like(w + a + 2, n - a - 3))
		return false;
	sbuf_add(name, w + a + 2, n - a - 3);
	*acronym = xstrndup(w, a);
	return true;
}

/* "Volksanwaltschaft \u2013 Austrian Ombudsman Board": a name, a dash
 * set apart by spaces and the name again in other words; the first is
 * matched. */
static void cut_apposition(struct sbuf *p)
{
	static const char *const dashes[] = {" \xe2\x80\x93 ", " \xe2\x80\x94 ",
					     " - "};

	for (size_t k = 0; k < sizeof(dashes) / sizeof(dashes[0]); k++) {
		const char *d = strstr(p->buf, dashes[k]);

		if (d && d > p->buf && addressee_capitalised(d + strlen(dashes[k])))
			sbuf_setlen(p, (size_t)(d - p->buf));
	}
}

/* The phrase matched for an addressee: acronym and parentheses removed,
 * qualifiers and a leading "the" stripped. */
static char *make_phrase(const char *written, char **acronym)
{
	struct sbuf p = SBUF_INIT, w = SBUF_INIT;
	size_t open;
	char *s;
	bool again = true;

	*acronym = NULL;
	if (expansion_after_acronym(written, &p, acronym))
		; /* "the OHCHR (Office of the High Commissioner ...)" */
	else if (trailing_acronym(written, &open, acronym))
		sbuf_add(&p, written, open);
	else
		sbuf_addstr(&p, written);
	cut_apposition(&p);
	/* any other parentheses: "(NHRIs)" in the middle is an acronym of
	 * part of the phrase; other content stays as words */
	for (size_t i = 0; i < p.len; i++) {
		if (p.buf[i] == '(') {
			const char *c = strchr(p.buf + i, ')');
			size_t n = c ? (size_t)(c - p.buf - i - 1) : 0;

			if (c && addressee_acronym_like(p.buf + i + 1, n)) {
				if (!*acronym)
					*acronym = xstrndup(p.buf + i + 1, n);
				i += n + 1;
				continue;
			}
			/* "Defensor del Pueblo (Spain)": of Spain */
			if (c && n && addressee_country_len(p.buf + i + 1) == n)
				sbuf_addstr(&w, " of ");
			continue;
		}
		if (p.buf[i] != ')')
			sbuf_addch(&w, p.buf[i]);
	}
	sbuf_reset(&p);
	collapse(w.buf, &p, NULL);
	sbuf_trim(&p);
	s = sbuf_detach(&p, NULL);
	while (again) {
		again = addressee_strip_prefix(&s, "and") ||
			addressee_strip_prefix(&s, "also") ||
			addressee_strip_prefix(&s, "to");
		for (size_t i = 0; i < sizeof(qualifiers) / sizeof(qualifiers[0]);
		     i++)
			again |= addressee_strip_prefix(&s, qualifiers[i]);
	}
	addressee_strip_prefix(&s, "the");
	sbuf_release(&p);
	sbuf_release(&w);
	return s;
}

/* Offices whose holder a statement names instead of the body: "the
 * President of the UN Security Council" is sent to the Council. */
static const char *const roles[] = {
	"president of", "chair of", "chairperson of", "chairman of",
	"chairwoman of", "permanent observer of", "permanent observer to",
	"permanent representative of", "permanent representative to",
	"secretary-general of", "secretary general of", "director of",
	"director-general of", "director general of", "executive director of",
	"executive secretary of", "head of", "speaker of", "registrar of",
	"coordinator of", "commissioner of", "high representative of",
};

/* The length of the role that starts phrase ("President of "), 0 when
 * none. */
size_t addressee_role_len(const char *phrase)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		size_t n = strlen(roles[i]);

		if (strncasecmp(phrase, roles[i], n) == 0 && phrase[n] == ' ')
			return n + 1;
	}
	return 0;
}

/* The organisation a previous addressee names, for a back-reference: the
 * UN for a UN office ("UN Secretary-General"), the body of an office
 * ("President of X" → X), else the addressee itself. Caller frees. */
static char *organisation_of(const char *prev)
{
	size_t r = addressee_role_len(prev);

	if (strncmp(prev, "UN ", 3) == 0 || strncmp(prev, "U.N. ", 5) == 0 ||
	    strncmp(prev, "United Nations ", 15) == 0 ||
	    strstr(prev, " of the United Nations") ||
	    strstr(prev, " of United Nations") || strstr(prev, " of the UN"))
		return xstrdup("United Nations");
	if (r) {
		prev += r;
		if (strncasecmp(prev, "the ", 4) == 0)
			prev += 4;
	}
	return xstrdup(prev);
}

/* Replaces a back-reference ("this Organization", "... of the
 * organization", "its Parliamentary Assembly") by prev, the world
 * organisation by the UN; true if any, and *used gets the name put in. */
static bool replace_backref(char **phrase, const char *prev,
			    const char **used)
{
	static const char *const trailing[] = {
		" the organization", " the organisation", " the Organization",
		" the Organisation",
	};
	static const char *const world[] = {
		"the world organization", "the world organisation",
	};
	size_t len = strlen(*phrase);
	char *t = NULL;

	for (size_t b = 0; !t && b < sizeof(backrefs) / sizeof(backrefs[0]);
	     b++) {
		size_t n = strlen(backrefs[b]);

		for (size_t i = 0; !t && (*phrase)[i]; i++)
			if (addressee_word_at(*phrase, i, backrefs[b]))
				t = xasprintf("%.*s%s%s", (int)i, *phrase, prev,
					      *phrase + i + n);
	}
	*used = prev;
	for (size_t b = 0; !t && b < sizeof(world) / sizeof(world[0]); b++)
		for (size_t i = 0; !t && (*phrase)[i]; i++)
			if (addressee_word_at(*phrase, i, world[b])) {
				t = xasprintf("%.*sUnited Nations%s", (int)i,
					      *phrase, *phrase + i +
							       strlen(world[b]));
				*used = "United Nations";
			}
	for (size_t b = 0; !t && b < sizeof(trailing) / sizeof(trailing[0]);
	     b++) {
		size_t n = strlen(trailing[b]);

		if (len > n && strcmp(*phrase + len - n, trailing[b]) == 0)
			t = xasprintf("%.*s %s", (int)(len - n), *phrase, prev);
	}
	if (!t && strncasecmp(*phrase, "its ", 4) == 0 && len > 4)
		t = xasprintf("%s of %s", *phrase + 4, prev);
	if (!t)
		return false;
	free(*phrase);
	*phrase = t;
	return true;
}

/* Whether the words w occur in s (case-insensitive, on boundaries). */
static bool contains_word(const char *s, const char *w)
{
	for (size_t i = 0; s[i]; i++)
		if (addressee_word_at(s, i, w))
			return true;
	return false;
}

/* Appends the addressee written seg; *single is the index of the last
 * single body named before (SIZE_MAX: none), kept by the caller so that
 * a list of thousands of groups is not walked back for each. */
static void add_item(struct addressee_list *l, const char *seg,
		     size_t *single)
{
	struct addressee *a;
	const char *kind, *used;
	char *country = NULL;

	xgrow(&l->items, sizeof(*l->items), l->count + 1, &l->alloc);
	a = &l->items[l->count];
	memset(a, 0, sizeof(*a));
	a->ref = -1;
	a->written = xstrdup(seg);
	a->phrase = make_phrase(a->written, &a->acronym);
	if (addressee_group_classify(a->phrase, &kind, &country)) {
		a->group = true;
		a->group_kind = xstrdup(kind);
		a->group_country = country;
		if (contains_word(a->phrase, "member states") ||
		    contains_word(a->phrase, "member countries") ||
		    contains_word(a->phrase, "participating states"))
			a->warning = xasprintf(
				"the registry does not know which bodies of "
				"kind %s belong to the member states named: "
				"the group takes all of them", kind);
	}
	/* "this Organization" is the last single body named before */
	if (*single != SIZE_MAX) {
		char *org = organisation_of(l->items[*single].phrase);

		if (replace_backref(&a->phrase, org, &used)) {
			a->ref = (int)*single;
			a->ref_name = xstrdup(used);
		}
		free(org);
	}
	if (!a->group)
		*single = l->count;
	if (!*a->phrase && a->acronym) {
		free(a->phrase);
		a->phrase = xstrdup(a->acronym);
	}
	l->count++;
}

/* "the ICRC and/or the IFRC" is "and"; "[OSCE]" is "(OSCE)"; quotation
 * marks around a name ("the \u201cFriends of the Ombudsman\u201d
 * network") are no part of it. */
static void normalise_list(struct sbuf *t)
{
	static const char *const quotes[] = {
		"\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\x9e", "\xc2\xab",
		"\xc2\xbb", "\"",
	};
	struct sbuf out = SBUF_INIT;

	for (size_t i = 0; i < t->len; i++) {
		size_t q = 0;

		for (size_t k = 0; !q && k < sizeof(quotes) / sizeof(quotes[0]);
		     k++)
			if (strncmp(t->buf + i, quotes[k], strlen(quotes[k])) == 0)
				q = strlen(quotes[k]);
		if (q) {
			i += q - 1;
		} else if (addressee_word_at(t->buf, i, "and/or")) {
			sbuf_addstr(&out, "and");
			i += strlen("and/or") - 1;
		} else {
			sbuf_addch(&out, t->buf[i] == '[' ? '('
					 : t->buf[i] == ']' ? ')'
							    : t->buf[i]);
		}
	}
	sbuf_release(t);
	*t = out;
}

/* An opening parenthesis that never closes ("the OSCE (Vienna, the UNSG
 * and UNICEF") would hold the rest of the list: it becomes a space. */
static void unmatched_parens(struct sbuf *t)
{
	size_t *open = NULL, n = 0, alloc = 0;

	for (size_t i = 0; i < t->len; i++) {
		if (t->buf[i] == '(') {
			xgrow(&open, sizeof(*open), n + 1, &alloc);
			open[n++] = i;
		} else if (t->buf[i] == ')' && n) {
			n--;
		}
	}
	while (n)
		t->buf[open[--n]] = ' ';
	free(open);
}

/* A seat in parentheses is no part of the name: "(Strasbourg)" goes,
 * "(CoE, Strasbourg)" is "(CoE)". */
static void seats_in_parens(struct sbuf *t)
{
	struct sbuf out = SBUF_INIT;
	size_t i = 0;

	while (i < t->len) {
		const char *c = t->buf[i] == '(' ? strchr(t->buf + i, ')') : NULL;
		char *in = c ? xstrndup(t->buf + i + 1, (size_t)(c - t->buf) - i - 1)
			     : NULL;
		char *comma = in ? strrchr(in, ',') : NULL;

		if (in && addressee_clause_seat(in)) {
			i = (size_t)(c - t->buf) + 1;
		} else if (comma && comma[1] == ' ' &&
			   addressee_clause_seat(comma + 2)) {
			sbuf_addf(&out, "(%.*s)", (int)(comma - in), in);
			i = (size_t)(c - t->buf) + 1;
		} else {
			sbuf_addch(&out, t->buf[i++]);
		}
		free(in);
	}
	sbuf_release(t);
	*t = out;
}

/* "etc.", "and other international organisations": no one, unless it
 * names a class of bodies ("other ombudsmen"). */
static bool vague_item(const char *seg)
{
	const char *kind;
	char *country = NULL;
	bool group;

	if (!addressee_clause_vague(seg))
		return false;
	group = addressee_group_classify(seg, &kind, &country);
	free(country);
	return !group;
}

/* Appends the pieces of the list that name someone: not "etc.", a seat
 * after a comma, or a person next to an office ("H.E. Mr. A. Guterres,
 * Secretary-General of the UN"); a person's name written after an
 * office is cut ("the UN Secretary-General Mr. A. Guterres"). */
static void add_items(struct addressee_list *out, struct segs *all)
{
	size_t single = SIZE_MAX;

	for (size_t i = 0; i < all->n; i++) {
		char *seg = all->s[i];
		size_t cut;

		if (vague_item(seg) || (i > 0 && addressee_clause_seat(seg)) ||
		    ((i > 0 || i + 1 < all->n) && addressee_clause_person(seg)))
			continue;
		cut = addressee_clause_person_at(seg);
		if (!cut)
			cut = addressee_clause_name_tail(seg);
		if (cut)
			seg[cut] = '\0';
		add_item(out, seg, &single);
	}
}

/* addressee_parse, or addressee_parse_at when anchored. */
static int parse(const char *text, size_t len, size_t start, bool anchored,
		 addressee_known_fn known, void *arg,
		 struct addressee_list *out, struct error *err)
{
	struct sbuf para = SBUF_INIT;
	struct segs top = {0}, all = {0};
	size_t lines_before = 0;
	int rc;

	rc = addressee_check_text(text, len, err);
	if (rc)
		goto out;
	if (start > len) {
		rc = error_set(err, ERR_USAGE, "start %zu is past the end of "
			       "the text", start);
		goto out;
	}
	for (size_t i = 0; i < start; i++)
		lines_before += text[i] == '\n';
	/* a start inside a UTF-8 sequence would make the rest invalid */
	while (start < len && ((unsigned char)text[start] & 0xc0) == 0x80)
		start++;
	rc = find_paragraph(text + start, len - start, anchored, &para,
			    &out->passage, err);
	if (rc)
		goto out;
	out->passage.first_line += lines_before;
	out->passage.last_line += lines_before;
	normalise_list(&para);
	unmatched_parens(&para);
	seats_in_parens(&para);
	split_top(para.buf, &top);
	merge_by_acronym(&top, ", ");
	merge_known(&top, known, arg);
	for (size_t i = 0; i < top.n; i++) {
		char *s = top.s[i];

		while (addressee_strip_prefix(&s, "and") ||
		       addressee_strip_prefix(&s, "also"))
			;
		top.s[i] = s;
		split_and(s, known, arg, &all);
	}
	add_items(out, &all);
	if (!out->count)
		rc = error_set(err, ERR_DATA,
			       "the addressee paragraph names no addressee");
out:
	segs_release(&top);
	segs_release(&all);
	sbuf_release(&para);
	return rc;
}

int addressee_parse(const char *text, size_t len, addressee_known_fn known,
		    void *arg, struct addressee_list *out, struct error *err)
{
	return parse(text, len, 0, false, known, arg, out, err);
}

int addressee_parse_at(const char *text, size_t len, size_t start,
		       addressee_known_fn known, void *arg,
		       struct addressee_list *out, struct error *err)
{
	return parse(text, len, start, true, known, arg, out, err);
}

/* ---- groups and kinds ---------------------------------------------------- */

/* Lower-case words of s, each surrounded by spaces: " foo bar ". */
static char *word_string(const char *s)
{
	struct sbuf b = SBUF_INIT;

	sbuf_addch(&b, ' ');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c >= 0x80)
			sbuf_addch(&b, tolower(c));
		else if (b.buf[b.len - 1] != ' ')
			sbuf_addch(&b, ' ');
	}
	if (b.buf[b.len - 1] != ' ')
		sbuf_addch(&b, ' ');
	return sbuf_detach(&b, NULL);
}

static bool has(const char *words, const char *w)
{
	char pat[64];

	snprintf(pat, sizeof(pat), " %s ", w);
	return strstr(words, pat) != NULL;
}

static bool has_any(const char *words, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has(words, list[i]))
			return true;
	return false;
}

#define HAS_ANY(w, list) has_any((w), (list), sizeof(list) / sizeof(list[0]))

/* Country names and adjectives to ISO 3166 codes: enough for the states
 * statements name as owners of missions and diasporas. */
static const struct {
	const char *word;
	const char *code;
} countries[] = {
	{"azerbaijan", "AZ"}, {"azerbaijani", "AZ"}, {"azerbaijanis", "AZ"},
	{"turkey", "TR"},     {"turkiye", "TR"},     {"t\xc3\xbcrkiye", "TR"},
	{"turkish", "TR"},    {"kazakhstan", "KZ"},  {"kazakh", "KZ"},
	{"uzbekistan", "UZ"}, {"uzbek", "UZ"},       {"kyrgyzstan", "KG"},
	{"kyrgyz", "KG"},     {"turkmenistan", "TM"}, {"tajikistan", "TJ"},
	{"hungary", "HU"},    {"hungarian", "HU"},   {"pakistan", "PK"},
	{"russia", "RU"},     {"russian federation", "RU"},
	{"ukraine", "UA"},    {"ukrainian", "UA"},   {"iran", "IR"},
	{"armenia", "AM"},    {"armenian", "AM"},    {"georgia", "GE"},
	{"georgian", "GE"},   {"moldova", "MD"},     {"moldovan", "MD"},
	{"belarus", "BY"},    {"lithuania", "LT"},   {"lithuanian", "LT"},
	{"latvia", "LV"},     {"latvian", "LV"},     {"estonia", "EE"},
	{"estonian", "EE"},   {"france", "FR"},      {"french", "FR"},
	{"germany", "DE"},    {"german", "DE"},      {"italy", "IT"},
	{"italian", "IT"},    {"spain", "ES"},       {"spanish", "ES"},
	{"espa\xc3\xb1" "a", "ES"}, {"\xc3\xb6sterreich", "AT"},
	{"deutschland", "DE"},
	{"poland", "PL"},     {"polish", "PL"},      {"romania", "RO"},
	{"romanian", "RO"},   {"israel", "IL"},      {"bulgaria", "BG"},
	{"greece", "GR"},     {"serbia", "RS"},      {"croatia", "HR"},
	{"bosnia and herzegovina", "BA"},            {"albania", "AL"},
	{"mongolia", "MN"},   {"afghanistan", "AF"}, {"egypt", "EG"},
	{"morocco", "MA"},    {"jordan", "JO"},      {"qatar", "QA"},
	{"saudi arabia", "SA"}, {"china", "CN"},     {"japan", "JP"},
	{"india", "IN"},      {"indonesia", "ID"},   {"malaysia", "MY"},
	{"canada", "CA"},     {"united kingdom", "GB"}, {"british", "GB"},
	{"united states", "US"}, {"netherlands", "NL"}, {"belgium", "BE"},
	{"austria", "AT"},    {"switzerland", "CH"}, {"sweden", "SE"},
	{"norway", "NO"},     {"finland", "FI"},     {"denmark", "DK"},
};

/* The country named first in words (" a b c "): "the embassies of
 * Georgia in Azerbaijan" are Georgia's. Caller frees; NULL when none. */
static char *country_in(const char *words)
{
	const char *first = NULL, *code = NULL;
	char pat[64];

	for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++) {
		const char *at;

		snprintf(pat, sizeof(pat), " %s ", countries[i].word);
		at = strstr(words, pat);
		if (at && (!first || at < first)) {
			first = at;
			code = countries[i].code;
		}
	}
	return code ? xstrdup(code) : NULL;
}

size_t addressee_country_len(const char *phrase)
{
	static const char *const lead[] = {"the ", "republic of ",
					   "kingdom of ", "state of "};
	const char *p = phrase;

	for (size_t i = 0; i < sizeof(lead) / sizeof(lead[0]); i++)
		if (strncasecmp(p, lead[i], strlen(lead[i])) == 0)
			p += strlen(lead[i]);
	for (size_t i = 0; i < sizeof(countries) / sizeof(countries[0]); i++) {
		size_t n = strlen(countries[i].word);

		if (strncasecmp(p, countries[i].word, n) == 0 &&
		    !isalnum((unsigned char)p[n]))
			return (size_t)(p - phrase) + n;
	}
	return 0;
}

static const char *const mission_plurals[] = {
	"embassies", "missions", "consulates", "representations",
	"consulates general", "diplomatic corps",
};
static const char *const ombudsman_plurals[] = {
	"ombudsmen", "ombudspersons", "ombudsmans", "ombudsperson s",
};
static const char *const collective[] = {
	"association", "associations", "institute", "institution", "network",
	"alliance", "bureau", "forum", "federation", "office", "council",
	"commission", "committee", "secretariat", "global", "union",
};

/* "foreign embassies", "missions of foreign states", "of other countries" */
static bool foreign_owned(const char *w)
{
	static const char *const pats[] = {
		" foreign embassies ", " foreign missions ",
		" foreign diplomatic ", " foreign consulates ", " of foreign ",
		" of other ", " of different ", " of various ",
		" foreign representations ",
	};
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (strstr(w, pats[i]))
			return true;
	return false;
}

/* "of 120 countries", "of different countries", "of the member states":
 * many bodies, not one. */
static bool quantified(const char *w)
{
	static const char *const pats[] = {
		" countries ", " states ", " nations ",
	};
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (strstr(w, pats[i]))
			return true;
	return false;
}

/*
 * The head of a phrase decides whether it names a class: the words before
 * its first "of"/"in"/"abroad" ("ombudsmen" in "ombudsmen of the member
 * states of the Council of Europe", "Association" in "Association of
 * Ombudsmen of ..."). The rest only gives the country.
 */
bool addressee_group_classify(const char *phrase, const char **kind,
			      char **country)
{
	const char *mod = modifier_start(phrase);
	char *head = xstrndup(phrase, mod ? (size_t)(mod - phrase)
					  : strlen(phrase));
	char *h = word_string(head), *w = word_string(phrase);
	size_t hl = strlen(h);
	bool plural = hl > 2 && (h[hl - 2] == 's' || has(h, "diaspora"));
	/* "47 ombudsman institutions": a number makes many */
	bool counted = isdigit((unsigned char)*phrase);
	bool group = true;

	*country = NULL;
	if (has(w, "diaspora") && plural) {
		*kind = "diaspora-org";
		*country = country_in(w);
	} else if (HAS_ANY(h, mission_plurals)) {
		/* "missions accredited in X", "the embassies in Baku": the
		 * foreign missions here, not X's own abroad */
		if (foreign_owned(w) || has(w, "accredited") ||
		    (mod && strncmp(mod, " in ", 4) == 0 && !has(w, "abroad") &&
		     !has(w, "foreign") && !strstr(w, " of "))) {
			*kind = "foreign-mission";
		} else {
			*kind = "embassy";
			*country = country_in(w);
		}
	} else if (HAS_ANY(h, ombudsman_plurals) && !HAS_ANY(h, collective)) {
		*kind = "ombudsman";
	} else if (plural && (has(h, "ombudsman") || has(h, "ombudsperson")) &&
		   (quantified(w) || counted)) {
		/* "ombudsman institutions of 120 countries" */
		*kind = "ombudsman";
	} else if ((strstr(h, " national human rights institutions ") ||
		    has(h, "nhris")) &&
		   !HAS_ANY(h, collective)) {
		*kind = "nhri";
	} else {
		group = false;
	}
	free(w);
	free(h);
	free(head);
	return group;
}

char *addressee_group_list_name(const char *kind, const char *country)
{
	return country ? xasprintf("group/%s/%s", kind, country)
		       : xasprintf("group/%s", kind);
}

/*
 * A new body's kind from its words: the first row whose cues fit. A row
 * fits when the phrase holds every word of all (if any), one of any and
 * none of none; cues are whole words or runs of words of the lower-cased
 * phrase ("Children's" is "children s"). The order matters: missions
 * before the UN (a "Permanent Mission ... to the United Nations" is an
 * embassy), associations and forums before ombudsmen and NHRIs (a
 * "Network of NHRIs" is an association, not an NHRI), a national
 * ombudsman's titles before the UN and regional organisations (but not
 * the Council of Europe's or the UN's Commissioner for Human Rights).
 */
#define CUES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE_ ((const char *const[]){NULL})

static const char *const un_words[] = {"un", "united nations", "u n", NULL};
static const char *const ombuds_words[] = {
	"ombudsman", "ombudsmen", "ombudsperson", "ombudspersons",
	"ombudsmans", "ombudswoman", "ombuds", "mediator", "mediators",
	"national human rights institutions", "nhris", "nhri",
	"human rights institutions", "human rights commissions",
	"public defenders", "defenders of the people", NULL};
/* adjectives of more than one country: an "International Ombudsman
 * Institution" is an association, "the Ombudsman Institution of X" not */
static const char *const supranational[] = {
	"international", "global", "world", "regional", "european", "asian",
	"african", "ibero american", "iberoamerican", "latin american",
	"mediterranean", "arab", "turkic", "commonwealth", "caribbean",
	"pacific", "australasian", "oic", "francophone", "nordic", "baltic",
	NULL};

static const struct kind_rule {
	const char *kind;
	/* every one of all, one of any, one of also, none of none */
	const char *const *all, *const *any, *const *also, *const *none;
	const char *why;
} kind_rules[] = {
	{"diaspora-org", NONE_, CUES("diaspora"), NONE_, NONE_,
	 "an organisation of a diaspora"},
	{"foreign-mission", CUES("foreign"),
	 CUES("embassy", "embassies", "mission", "missions", "consulate",
	      "consulates", "representation", "representations"), NONE_,
	 NONE_, "a foreign state's mission"},
	{"foreign-mission", CUES("accredited"),
	 CUES("embassies", "missions", "diplomatic corps"), NONE_, NONE_,
	 "the missions accredited here"},
	{"embassy", NONE_,
	 CUES("permanent mission", "permanent representation",
	      "permanent representative", "ambassador", "embassy",
	      "embassies", "consulate", "consulate general", "consulates",
	      "high commission of"), NONE_,
	 NONE_, "a state's diplomatic mission"},
	{"embassy", NONE_, CUES("mission", "representation"), NONE_,
	 CUES("un", "united nations", "osce", "eu", "european union",
	      "assistance", "peacekeeping", "observer", "monitoring",
	      "fact finding"),
	 "a state's diplomatic mission"},
	{"ombudsman-assoc", NONE_,
	 CUES("association", "associations", "network", "networks",
	      "federation", "alliance", "forum", "institute", "institutes",
	      "conference", "union"), ombuds_words,
	 NONE_, "an association, network or forum of ombudsmen or NHRIs"},
	{"ombudsman-assoc", CUES("institution"), supranational, ombuds_words,
	 NONE_,
	 "an ombudsman institution of more than one country"},
	{"ombudsman", NONE_,
	 CUES("ombudsman", "ombudsperson", "ombudswoman", "mediator",
	      "m\xc3\xa9" "diateur", "public defender", "people s defender",
	      "defensor del pueblo", "defensoria del pueblo",
	      "defensor\xc3\xad" "a del pueblo", "defensor do povo",
	      "provedor de justi\xc3\xa7" "a", "provedor de justica",
	      "human rights defender", "people s advocate",
	      "avocatul poporului", "parliamentary commissioner",
	      "commissioner for human rights",
	      "commissioner for fundamental rights", "chancellor of justice",
	      "protector of citizens", "public protector",
	      "volksanwaltschaft", "difensore civico", "raonaitheoir",
	      "d\xc3\xa9" "fenseur des droits", "defenseur des droits",
	      /* "Уполномоченный по правам человека" */
	      "\xd0\xbf\xd0\xbe \xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xb0\xd0\xbc \xd1\x87\xd0\xb5\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xb5\xd0\xba\xd0\xb0",
	      "volksanwalt", "ombudsmann", "b\xc3\xbc" "rgerbeauftragte"),
	 NONE_,
	 CUES("high", "council of europe", "un", "united nations", "osce",
	      "european union", "eu"),
	 "a national ombudsman's title"},
	{"nhri", NONE_,
	 CUES("national human rights", "national commission for human rights",
	      "national commission on human rights",
	      "national council for human rights",
	      "national council on human rights",
	      "institute for human rights", "human rights commission",
	      "equality and human rights", "commission nationale consultative",
	      "droits de l homme"), NONE_,
	 CUES("un", "united nations", "oic", "african", "inter american",
	      "arab", "asean", "permanent", "european", "forum", "network",
	      "alliance"),
	 "a national human rights institution"},
	{"un-organ", NONE_,
	 CUES("committee on the elimination", "committee against torture",
	      "committee on the rights of", "human rights committee",
	      "committee on enforced disappearances",
	      "committee on migrant workers",
	      "committee on economic social and cultural rights",
	      "special rapporteur", "working group on", "subcommittee on "
	      "prevention of torture", "international court of justice"), NONE_,
	 CUES("red cross", "red crescent", "helsinki"),
	 "a UN treaty body, court or special procedure"},
	{"un-organ", NONE_,
	 CUES("president of the general assembly",
	      "president of the security council"), NONE_, NONE_,
	 "an office of a principal organ of the UN"},
	{"un-organ", NONE_, un_words,
	 CUES("secretary", "security council", "general assembly",
	      "human rights council", "economic and social council",
	      "trusteeship", "court", "committee", "rapporteur"),
	 NONE_, "a principal organ of the UN"},
	{"un-agency", NONE_, un_words, NONE_, NONE_,
	 "a UN office, fund or agency"},
	{"un-agency", NONE_,
	 CUES("world health organization", "international labour "
	      "organization", "international labor organization",
	      "world food programme", "international organization for "
	      "migration", "food and agriculture organization"), NONE_,
	 NONE_, "a UN specialised agency"},
	{"ngo", NONE_,
	 CUES("bureau", "foundation", "society", "societies", "red cross",
	      "red crescent", "watch", "amnesty", "ngo", "non governmental",
	      "federation for human rights", "helsinki committee",
	      "crisis group"), NONE_,
	 NONE_, "a non-governmental organisation"},
	{"regional-org", NONE_,
	 CUES("organization", "organisation", "union", "council", "assembly",
	      "parliament", "parliamentary", "commission", "cooperation",
	      "co operation", "league", "community", "conference", "court",
	      "secretariat", "osce", "eu", "oic", "nato", "asean", "cis"),
	 NONE_,
	 NONE_, "an intergovernmental organisation or its organ"},
};

/* Whether the words w (" a b c ") hold the words of cue, in a run. */
static bool has_cue(const char *w, const char *cue)
{
	char pat[96];

	snprintf(pat, sizeof(pat), " %s ", cue);
	return strstr(w, pat) != NULL;
}

/* The first cue of list found in the words w, or NULL. */
static const char *cue_in(const char *w, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (has_cue(w, list[i]))
			return list[i];
	return NULL;
}

const char *addressee_propose_kind(const char *phrase, const char **cue,
				   const char **why)
{
	char *w = word_string(phrase);
	const char *kind = "other";

	if (cue)
		*cue = NULL;
	if (why)
		*why = "no cue of any kind in the name";
	for (size_t i = 0; i < sizeof(kind_rules) / sizeof(kind_rules[0]);
	     i++) {
		const struct kind_rule *r = &kind_rules[i];
		const char *hit = NULL;
		bool ok = true;

		for (size_t k = 0; ok && r->all[k]; k++)
			ok = has_cue(w, r->all[k]);
		if (ok && r->any[0])
			ok = (hit = cue_in(w, r->any)) != NULL;
		if (ok && r->also[0])
			ok = cue_in(w, r->also) != NULL;
		if (ok && r->none[0])
			ok = cue_in(w, r->none) == NULL;
		if (!ok)
			continue;
		kind = r->kind;
		if (cue)
			*cue = hit ? hit : r->all[0];
		if (why)
			*why = r->why;
		break;
	}
	/* "the Parliament of Georgia": one state's institution is no
	 * intergovernmental organisation */
	if (strcmp(kind, "regional-org") == 0) {
		char *country = country_in(w);

		if (country) {
			kind = "other";
			if (why)
				*why = "an institution of one state";
		}
		free(country);
	}
	free(w);
	return kind;
}

const char *addressee_guess_kind(const char *phrase)
{
	return addressee_propose_kind(phrase, NULL, NULL);
}
