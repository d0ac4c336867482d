/* mime: MIME encodings written directly, and GMime's one-time set-up. */
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "chancery/mime.h"
#include "chancery/utf8.h"

#define FOLD_AT 78     /* RFC 5322 2.1.1: SHOULD */
#define ENCODED_AT 76  /* RFC 2047 2: a line holding an encoded-word */
#define QP_LINE 76     /* RFC 2045 6.7 (5) */
#define B64_LINE 76    /* RFC 2045 6.8 */

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_gmime(void)
{
	g_mime_init();
}

void mime_init(void)
{
	pthread_once(&once, init_gmime);
}

static const char hex_digits[] = "0123456789ABCDEF";

static void add_hex(struct sbuf *out, int prefix, unsigned char c)
{
	char h[3] = {(char)prefix, hex_digits[c >> 4], hex_digits[c & 15]};

	sbuf_add(out, h, 3);
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Characters on the current (last) line of out. */
static size_t line_col(const struct sbuf *out)
{
	size_t i = out->len;

	while (i > 0 && out->buf[i - 1] != '\n')
		i--;
	return out->len - i;
}

/*
 * Appends text, folding (CRLF before a space) where the line would pass
 * FOLD_AT. Folds only before a space followed by a word, so no line is
 * white space alone; a word longer than a line stays whole.
 */
static void fold_text(struct sbuf *out, const char *text)
{
	size_t col = line_col(out);
	const char *p = text;

	while (*p) {
		const char *end = p + 1;
		size_t len;

		while (*end && *end != ' ')
			end++;
		len = (size_t)(end - p);
		if (*p == ' ' && len > 1 && col + len > FOLD_AT && col > 1) {
			sbuf_add(out, "\r\n", 2);
			col = 0;
		}
		sbuf_add(out, p, len);
		col += len;
		p = end;
	}
}

/* Length of the UTF-8 sequence starting at s, never past its end. */
static size_t utf8_seq_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;

	for (size_t i = 1; i < n; i++)
		if (!s[i])
			return i;
	return n;
}

/* A character RFC 2047 5(3) lets stand for itself in a phrase's word. */
static bool q_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!*+-/ ", c));
}

/*
 * RFC 2047 "Q" encoded-words in UTF-8, one per line, using only what a
 * phrase allows, so the result serves Subject and display names alike. A
 * word never splits a UTF-8 sequence; every line stays within
 * ENCODED_AT.
 *
 * Why not base64 words: GMime 3.2's decoder merges adjacent padded base64
 * words and garbles them ("üzrə Müvəkkili" vanished from the Ombudsman's
 * name), and so may other readers that merge adjacent words.
 */
static void encode_words(struct sbuf *out, const char *s)
{
	static const char prefix[] = "=?UTF-8?Q?";
	const size_t overhead = sizeof(prefix) - 1 + 2;
	size_t word = 0;
	size_t room = ENCODED_AT - line_col(out) - overhead;

	sbuf_addstr(out, prefix);
	while (*s) {
		size_t n = utf8_seq_len(s);
		bool literal = n == 1 && q_literal((unsigned char)*s);
		size_t need = literal ? 1 : 3 * n;

		if (word + need > room && word > 0) {
			sbuf_addstr(out, "?=\r\n ");
			sbuf_addstr(out, prefix);
			word = 0;
			room = ENCODED_AT - 1 - overhead;
		}
		for (size_t i = 0; i < n; i++) {
			if (literal)
				sbuf_addch(out, *s == ' ' ? '_' : *s);
			else
				add_hex(out, '=', (unsigned char)s[i]);
		}
		word += need;
		s += n;
	}
	sbuf_addstr(out, "?=");
}

/* Text a reader could not take literally in a header: not ASCII, a
 * control character, or what looks like an encoded-word. */
static bool needs_encoding(const char *s)
{
	return !is_ascii(s) || utf8_has_control(s) || strstr(s, "=?");
}

void mime_header_text(struct sbuf *out, const char *name, const char *value)
{
	sbuf_addstr(out, name);
	sbuf_addstr(out, ": ");
	if (!needs_encoding(value))
		fold_text(out, value);
	else
		encode_words(out, value);
	sbuf_add(out, "\r\n", 2);
}

/* RFC 5322 atext, plus the space between a phrase's words. */
static bool phrase_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr(" !#$%&'*+-/=?^_`{|}~", c));
}

/* A display name as a phrase: as it is when every character may stand
 * in one, else a quoted-string; never something a reader would decode. */
static void add_phrase(struct sbuf *out, const char *name)
{
	bool plain = strstr(name, "=?") == NULL && name[0] != ' ';

	for (const char *p = name; plain && *p; p++)
		plain = phrase_char((unsigned char)*p) &&
			!(p[0] == ' ' && (p[1] == ' ' || p[1] == '\0'));
	if (plain) {
		sbuf_addstr(out, name);
		return;
	}
	sbuf_addch(out, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			sbuf_addch(out, '\\');
		sbuf_addch(out, *p);
	}
	sbuf_addch(out, '"');
}

void mime_header_mailbox(struct sbuf *out, const char *name,
			 const char *display, const char *addr)
{
	struct sbuf text = SBUF_INIT;

	sbuf_addstr(out, name);
	sbuf_addstr(out, ": ");
	if (display && *display && needs_encoding(display)) {
		encode_words(out, display);
		sbuf_addstr(out, line_col(out) + strlen(addr) + 3 > ENCODED_AT
					 ? "\r\n <" : " <");
		sbuf_addstr(out, addr);
		sbuf_addstr(out, ">\r\n");
		return;
	}
	if (display && *display) {
		add_phrase(&text, display);
		sbuf_addf(&text, " <%s>", addr);
	} else {
		sbuf_addstr(&text, addr);
	}
	fold_text(out, text.buf);
	sbuf_add(out, "\r\n", 2);
	sbuf_release(&text);
}

/* RFC 2045 token: no tspecials, no space or control. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7F ||
		    strchr("()<>@,;:\\\"/[]?=", *s))
			return false;
	return true;
}

/* RFC 2231 attribute-char: what may stand unencoded in an extended value. */
static bool attribute_char(unsigned char c)
{
	return c > ' ' && c < 0x7F && !strchr("*'%()<>@,;:\\\"/[]?=", c);
}

/* "; piece", on a new line when it would not fit on this one. */
static void add_param_piece(struct sbuf *out, const char *piece)
{
	sbuf_addch(out, ';');
	if (line_col(out) + 1 + strlen(piece) > FOLD_AT)
		sbuf_add(out, "\r\n", 2);
	sbuf_addch(out, ' ');
	sbuf_addstr(out, piece);
}

/* RFC 2231: attr*=utf-8''value, or attr*0*=utf-8''...; attr*1*=... */
static void add_extended_param(struct sbuf *out, const char *attr,
			       const char *value)
{
	enum { SEGMENT = 60 };
	struct sbuf enc = SBUF_INIT, piece = SBUF_INIT;
	size_t at = 0;

	for (const char *p = value; *p; p++) {
		if (attribute_char((unsigned char)*p))
			sbuf_addch(&enc, *p);
		else
			add_hex(&enc, '%', (unsigned char)*p);
	}
	if (strlen(attr) + enc.len + 9 <= SEGMENT + 9) {
		sbuf_addf(&piece, "%s*=utf-8''%s", attr, enc.buf);
		add_param_piece(out, piece.buf);
		goto out;
	}
	for (int i = 0; at < enc.len; i++) {
		size_t len = enc.len - at < SEGMENT ? enc.len - at : SEGMENT;

		/* never split a %XX triplet */
		if (at + len < enc.len && len >= 2 && enc.buf[at + len - 1] == '%')
			len -= 1;
		else if (at + len < enc.len && len >= 2 &&
			 enc.buf[at + len - 2] == '%')
			len -= 2;
		sbuf_reset(&piece);
		sbuf_addf(&piece, "%s*%d*=%s%.*s", attr, i, i ? "" : "utf-8''",
			  (int)len, enc.buf + at);
		add_param_piece(out, piece.buf);
		at += len;
	}
out:
	sbuf_release(&enc);
	sbuf_release(&piece);
}

void mime_param(struct sbuf *out, const char *attr, const char *value)
{
	struct sbuf piece = SBUF_INIT;

	if (!is_ascii(value)) {
		add_extended_param(out, attr, value);
		return;
	}
	sbuf_addstr(&piece, attr);
	sbuf_addch(&piece, '=');
	if (is_token(value)) {
		sbuf_addstr(&piece, value);
	} else {
		sbuf_addch(&piece, '"');
		for (const char *p = value; *p; p++) {
			if (*p == '"' || *p == '\\')
				sbuf_addch(&piece, '\\');
			sbuf_addch(&piece, *p);
		}
		sbuf_addch(&piece, '"');
	}
	add_param_piece(out, piece.buf);
	sbuf_release(&piece);
}

/* How a character goes out in quoted-printable: 1 as itself, 3 as =XX. */
static size_t qp_width(const char *p, const char *end)
{
	unsigned char c = (unsigned char)*p;

	if (c == ' ' || c == '\t') {
		/* white space before a line end must be encoded (6.7 (3)) */
		const char *n = p + 1;

		return n == end || *n == '\n' || (*n == '\r' && n + 1 < end &&
						   n[1] == '\n') ? 3 : 1;
	}
	return c >= 33 && c <= 126 && c != '=' ? 1 : 3;
}

/* Where a quoted-printable encoding stands: the next octet to read,
 * the next to write, the column written so far. */
struct qp_state {
	const char *p;
	char *w;
	size_t col;
};

/* Encodes from s->p up to limit (reading past it only for a CRLF that
 * straddles it, or to look ahead at what follows white space: end is the
 * text's end). */
static void qp_run(struct qp_state *s, const char *limit, const char *end)
{
	const char *p = s->p;
	char *w = s->w;
	size_t col = s->col;

	for (; p < limit; p++) {
		size_t width;

		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			p += *p == '\r';
			*w++ = '\r';
			*w++ = '\n';
			col = 0;
			continue;
		}
		width = qp_width(p, end);
		/* room for the "=" of a soft break after it */
		if (col + width > QP_LINE - 1) {
			memcpy(w, "=\r\n", 3);
			w += 3;
			col = 0;
		}
		if (width == 1) {
			*w++ = *p;
		} else {
			*w++ = '=';
			*w++ = hex_digits[(unsigned char)*p >> 4];
			*w++ = hex_digits[(unsigned char)*p & 15];
		}
		col += width;
	}
	s->p = p;
	s->w = w;
	s->col = col;
}

/* The worst case, every octet =XX and a soft break per 25 of them:
 * then the encoder writes straight into the buffer. */
static size_t qp_worst(size_t len)
{
	return len * 3 + (len / 25 + 2) * 3;
}

/* The final soft break of a text that does not end in a line break. */
static void qp_finish(struct qp_state *s, struct sbuf *out)
{
	if (s->col > 0) {
		memcpy(s->w, "=\r\n", 3);
		s->w += 3;
	}
	sbuf_setlen(out, (size_t)(s->w - out->buf));
}

void mime_qp_encode(const char *text, size_t len, struct sbuf *out)
{
	struct qp_state s = {text, NULL, 0};

	sbuf_grow(out, qp_worst(len));
	s.w = out->buf + out->len;
	qp_run(&s, text + len, text + len);
	qp_finish(&s, out);
}

/*
 * The encodings of a template's literal texts. An encoding depends only
 * on what a line holds: after a line break the column is 0 and nothing
 * before it matters, and the look-ahead (white space before a line end,
 * a CR before LF) never passes the next LF. So the whole lines inside a
 * literal (after its first LF, up to and including its last) encode the
 * same in every message, whatever the variables around them hold, and
 * are encoded once; the rest of the literal and the variables are
 * encoded per message.
 */
struct qp_entry {
	const char *key;  /* the literal's stable address; NULL: free slot */
	size_t len;       /* the literal's length */
	size_t mid_at;    /* its whole lines: text[mid_at..mid_at+mid_len) */
	size_t mid_len;   /* 0: no whole line */
	char *raw;        /* a copy of those lines, checked before use */
	struct sbuf enc;  /* their encoding */
};

struct mime_qp_cache {
	struct qp_entry *slots;
	size_t nslots, used;
};

struct mime_qp_cache *mime_qp_cache_new(void)
{
	struct mime_qp_cache *c = calloc(1, sizeof(*c));

	if (!c)
		abort();
	return c;
}

void mime_qp_cache_free(struct mime_qp_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslots; i++) {
		free(c->slots[i].raw);
		sbuf_release(&c->slots[i].enc);
	}
	free(c->slots);
	free(c);
}

static size_t qp_slot(const struct mime_qp_cache *c, const char *key,
		      size_t len)
{
	uintptr_t h = ((uintptr_t)key >> 3) * 0x9E3779B97F4A7C15ULL ^ len;
	size_t i = (size_t)h & (c->nslots - 1);

	while (c->slots[i].key &&
	       (c->slots[i].key != key || c->slots[i].len != len))
		i = (i + 1) & (c->nslots - 1);
	return i;
}

/* The entry of the literal key[0..len), made on first use. */
static struct qp_entry *qp_entry(struct mime_qp_cache *c, const char *key,
				 size_t len)
{
	struct qp_entry *e;
	const char *first, *last;

	if (c->used * 2 >= c->nslots) {
		struct mime_qp_cache grown = {0};

		grown.nslots = c->nslots ? c->nslots * 2 : 64;
		grown.slots = calloc(grown.nslots, sizeof(*grown.slots));
		if (!grown.slots)
			abort();
		for (size_t i = 0; i < c->nslots; i++)
			if (c->slots[i].key)
				grown.slots[qp_slot(&grown, c->slots[i].key,
						    c->slots[i].len)] = c->slots[i];
		free(c->slots);
		c->slots = grown.slots;
		c->nslots = grown.nslots;
	}
	e = &c->slots[qp_slot(c, key, len)];
	if (e->key)
		return e;
	e->key = key;
	e->len = len;
	sbuf_init(&e->enc, 0);
	first = memchr(key, '\n', len);
	last = first ? memrchr(key, '\n', len) : NULL;
	if (first && last > first) {
		e->mid_at = (size_t)(first + 1 - key);
		e->mid_len = (size_t)(last + 1 - key) - e->mid_at;
		e->raw = malloc(e->mid_len);
		if (!e->raw)
			abort();
		memcpy(e->raw, key + e->mid_at, e->mid_len);
		mime_qp_encode(e->raw, e->mid_len, &e->enc);
	}
	c->used++;
	return e;
}

void mime_qp_encode_literals(const char *text, size_t len,
			     const struct mime_literal *lit, size_t nlit,
			     struct mime_qp_cache *cache, struct sbuf *out)
{
	const char *end = text + len;
	struct qp_state s = {text, NULL, 0};

	sbuf_grow(out, qp_worst(len));
	s.w = out->buf + out->len;
	for (size_t i = 0; i < nlit && cache; i++) {
		const struct qp_entry *e;
		const char *mid;

		if (lit[i].at > len || lit[i].len > len - lit[i].at)
			break;
		e = qp_entry(cache, lit[i].key, lit[i].len);
		mid = text + lit[i].at + e->mid_at;
		if (!e->mid_len || mid < s.p || mid[-1] != '\n' ||
		    memcmp(mid, e->raw, e->mid_len) != 0)
			continue;
		/* up to the literal's first whole line, which starts at
		 * column 0 (a CRLF straddling the mark ends exactly on it) */
		qp_run(&s, mid, end);
		if (s.p != mid || s.col != 0)
			continue;
		memcpy(s.w, e->enc.buf, e->enc.len);
		s.w += e->enc.len;
		s.p = mid + e->mid_len;
	}
	qp_run(&s, end, end);
	qp_finish(&s, out);
}

void mime_base64_encode(const unsigned char *data, size_t len,
			struct sbuf *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		"0123456789+/";
	size_t col = 0;

	sbuf_grow(out, (len + 2) / 3 * 4 + (len / 57 + 1) * 2);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;
		char q[4];

		if (n > 1)
			v |= (uint32_t)data[i + 1] << 8;
		if (n > 2)
			v |= data[i + 2];
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
		q[3] = n > 2 ? alphabet[v & 63] : '=';
		sbuf_add(out, q, 4);
		col += 4;
		if (col == B64_LINE) {
			sbuf_add(out, "\r\n", 2);
			col = 0;
		}
	}
	if (col > 0)
		sbuf_add(out, "\r\n", 2);
}

/* xorshift64*, seeded once per thread: boundaries need to differ, not to
 * be secret (their uniqueness comes from "=_", see mime.h). */
static uint64_t next_random(void)
{
	static _Thread_local uint64_t state;

	if (!state) {
		if (getrandom(&state, sizeof(state), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(state))
			state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
		state |= 1;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1DULL;
}

void mime_boundary(const char *tag, char out[MIME_BOUNDARY_SIZE])
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = (size_t)snprintf(out, MIME_BOUNDARY_SIZE - 25, "=_%s-", tag);
	uint64_t r = 0;

	for (size_t i = 0; i < 24; i++) {
		if (i % 10 == 0)
			r = next_random();
		out[n++] = chars[r % 62];
		r /= 62;
	}
	out[n] = '\0';
}
