/*
 * sha256: through libcrypto's low-level SHA256_* functions, not EVP.
 *
 * Why: EVP's first use loads OpenSSL 3's provider machinery, measured at
 * 2 MiB of resident memory (libcrypto 1.6 -> 3.5 MiB) in a daemon whose
 * only other use of OpenSSL is TLS, which a relay on loopback may not
 * need. The low-level functions are deprecated in 3.0 but present in
 * every 3.x, compute the same digest (test_sha256 checks them against
 * FIPS 180-4's vectors and against EVP), and skip EVP's dispatch.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>

#include "chancery/sha256.h"
#include "chancery/xalloc.h"

struct sha256 {
	SHA256_CTX ctx;
};

struct sha256 *sha256_new(void)
{
	struct sha256 *h = xmalloc(sizeof(*h));

	SHA256_Init(&h->ctx);
	return h;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	SHA256_Update(&h->ctx, data, len);
}

static void to_hex(const unsigned char md[SHA256_DIGEST_LENGTH],
		   char out[SHA256_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[64] = '\0';
}

void sha256_final_hex(struct sha256 *h, char out[SHA256_HEX_SIZE])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256_Final(md, &h->ctx);
	to_hex(md, out);
	SHA256_Init(&h->ctx);
}

void sha256_free(struct sha256 *h)
{
	free(h);
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE])
{
	struct sha256 h;

	SHA256_Init(&h.ctx);
	SHA256_Update(&h.ctx, data, len);
	sha256_final_hex(&h, out);
}
