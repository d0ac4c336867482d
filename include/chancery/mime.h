/*
 * mime: the MIME encodings a statement needs, written directly (RFC 2045,
 * 2046, 2047, 2231, 5322), and the process-wide GMime set-up for the
 * modules that parse (bounces, addresses).
 *
 * Every writer appends to an sbuf and ends its lines in CRLF. Header
 * writers take values that are free of CR and LF (the caller checks: see
 * message.h) and fold at spaces so that a line stays within 78
 * characters where the words allow it; a line holding an encoded-word
 * stays within 76 (RFC 2047 2).
 */
#ifndef CHANCERY_MIME_H
#define CHANCERY_MIME_H

#include <stdbool.h>
#include <stddef.h>

#include "chancery/sbuf.h"

/* GMime's initialisation, once for the process (it is not thread-safe). */
void mime_init(void);

/* "Name: value" for unstructured text (Subject, Organization): folded
 * when ASCII, RFC 2047 Q encoded-words in UTF-8 otherwise. */
void mime_header_text(struct sbuf *out, const char *name, const char *value);

/* "Name: display <addr>", or "Name: addr" without a display name. The
 * display name is quoted when it holds specials, encoded when not ASCII;
 * addr must already be ASCII (IDN domains in their A-label form). */
void mime_header_mailbox(struct sbuf *out, const char *name,
			 const char *display, const char *addr);

/* A parameter of the structured header out ends with, "; attr=value":
 * quoted when needed, RFC 2231 (UTF-8, percent-encoded, in continuations
 * when long) when not ASCII. */
void mime_param(struct sbuf *out, const char *attr, const char *value);

/* Quoted-printable of text (LF or CRLF line ends; a line break becomes
 * CRLF, anything else is encoded so that no line exceeds 76 octets).
 * The result always ends in CRLF: a text without a final line break ends
 * in a soft one, which decoders drop. */
void mime_qp_encode(const char *text, size_t len, struct sbuf *out);

/*
 * What a template's literal texts encode to, kept for as long as the
 * template is loaded (a campaign's whole run), so that the fixed text is
 * encoded once per campaign and not once per message. One thread at a
 * time, as the template it belongs to.
 */
struct mime_qp_cache;
struct mime_qp_cache *mime_qp_cache_new(void);
void mime_qp_cache_free(struct mime_qp_cache *c); /* NULL is fine */

/* A literal of the template at text[at..at+len): key[0..len), key being
 * an address that holds those bytes for as long as the cache lives. */
struct mime_literal {
	size_t at, len;
	const char *key;
};

/*
 * The same octets as mime_qp_encode(text, len, out), with the whole
 * lines inside each literal (lit in increasing order of at, not
 * overlapping) taken from cache, encoded there on first use. A literal
 * whose lines are not at its place in text (checked) is encoded as the
 * rest is.
 */
void mime_qp_encode_literals(const char *text, size_t len,
			     const struct mime_literal *lit, size_t nlit,
			     struct mime_qp_cache *cache, struct sbuf *out);

/* Base64 in lines of 76 characters, each ending in CRLF. */
void mime_base64_encode(const unsigned char *data, size_t len,
			struct sbuf *out);

/*
 * A multipart boundary: "=_" then tag then random characters. "=_" can
 * occur neither in quoted-printable (where "=" is followed by two hex
 * digits or a line end) nor in base64, the only encodings chancery
 * writes, so a boundary never collides with the content it delimits; the
 * tag keeps nested boundaries apart. out needs MIME_BOUNDARY_SIZE.
 */
#define MIME_BOUNDARY_SIZE 48
void mime_boundary(const char *tag, char out[MIME_BOUNDARY_SIZE]);

#endif
