#include <stdlib.h>
#include <openssl/evp.h>

#include "chancery/sha256.h"
#include "chancery/xalloc.h"

struct sha256 {
	EVP_MD_CTX *ctx;
};

static void must(int ok)
{
	if (!ok)
		abort(); /* only fails on allocation failure */
}

struct sha256 *sha256_new(void)
{
	struct sha256 *h = xmalloc(sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	must(h->ctx != NULL);
	must(EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL));
	return h;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	must(EVP_DigestUpdate(h->ctx, data, len));
}

void sha256_final_hex(struct sha256 *h, char out[SHA256_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	must(EVP_DigestFinal_ex(h->ctx, md, &mdlen));
	for (unsigned i = 0; i < mdlen && i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0xf];
	}
	out[64] = '\0';
	must(EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL));
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE])
{
	struct sha256 *h = sha256_new();

	sha256_update(h, data, len);
	sha256_final_hex(h, out);
	sha256_free(h);
}
