/*
 * Fuzzes the MIME writer with its own invariants as the oracle: the input
 * is split at NULs into a header value, a display name, a parameter value
 * and a body. Every header written must be 7-bit, end each line in CRLF,
 * and keep CR and LF out of the values (the callers refuse those, so they
 * are dropped here first); a quoted-printable body must be 7-bit, in
 * lines of at most 76 octets, and decode (with GMime) to the body with
 * CRLF line ends; base64 must decode to the bytes. A violation aborts.
 */
#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chancery/mime.h"
#include "chancery/sbuf.h"
#include "chancery/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-separated field, without CR, LF or NUL (never in a header
 * value: the composer refuses them before the writer runs). */
static char *field(const uint8_t **p, const uint8_t *end)
{
	struct sbuf sb = SBUF_INIT;

	while (*p < end && **p) {
		if (**p != '\r' && **p != '\n')
			sbuf_addch(&sb, **p);
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	return sbuf_detach(&sb, NULL);
}

/* 7-bit, CRLF line ends, lines of at most max octets (0: no limit). */
static void check_lines(const struct sbuf *out, size_t max)
{
	size_t col = 0;

	for (size_t i = 0; i < out->len; i++) {
		unsigned char c = (unsigned char)out->buf[i];

		if (c >= 0x80 || c == 0)
			abort();
		if (c == '\r') {
			if (i + 1 >= out->len || out->buf[i + 1] != '\n')
				abort();
			col = 0;
			i++;
			continue;
		}
		if (c == '\n' || (max && ++col > max))
			abort();
	}
	if (out->len && (out->len < 2 || out->buf[out->len - 1] != '\n'))
		abort();
}

static void check_headers(const char *value, const char *name,
			  const char *param)
{
	struct sbuf out = SBUF_INIT;

	mime_header_text(&out, "Subject", value);
	mime_header_mailbox(&out, "To", name, "someone@example.org");
	sbuf_addstr(&out, "Content-Type: application/pdf");
	mime_param(&out, "name", param);
	sbuf_addstr(&out, "\r\n");
	check_lines(&out, 0);
	sbuf_release(&out);
}

static void check_qp(const uint8_t *body, size_t len)
{
	struct sbuf out = SBUF_INIT, want = SBUF_INIT;
	unsigned char *back = xmalloc(len * 2 + 8);
	int state = 0;
	guint32 save = 0;
	size_t n;

	mime_qp_encode((const char *)body, len, &out);
	check_lines(&out, 76);
	n = g_mime_encoding_quoted_decode_step((const unsigned char *)out.buf,
					       out.len, back, &state, &save);
	for (size_t i = 0; i < len; i++) {
		if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r'))
			sbuf_addch(&want, '\r');
		sbuf_addch(&want, body[i]);
	}
	if (n != want.len || memcmp(back, want.buf, n) != 0)
		abort();
	free(back);
	sbuf_release(&out);
	sbuf_release(&want);
}

static void check_base64(const uint8_t *bytes, size_t len)
{
	struct sbuf out = SBUF_INIT;
	gsize n = 0;
	guchar *back;

	mime_base64_encode(bytes, len, &out);
	check_lines(&out, 76);
	back = g_base64_decode(out.len ? out.buf : "", &n);
	if (n != len || (len && memcmp(back, bytes, len) != 0))
		abort();
	g_free(back);
	sbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *value = field(&p, end), *name = field(&p, end);
	char *param = field(&p, end);

	check_headers(value, name, param);
	check_qp(p, (size_t)(end - p));
	check_base64(data, size);
	free(value);
	free(name);
	free(param);
	return 0;
}
