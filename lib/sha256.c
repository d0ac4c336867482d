#include <pthread.h>
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

static EVP_MD *fetched;

static void fetch_md(void)
{
	fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/*
 * The digest fetched from the provider once per process: EVP_sha256()
 * makes every EVP_DigestInit_ex look the implementation up again (under
 * the provider store's lock). Measured on a 300-byte ledger row: a
 * one-shot hash 1.13 -> 0.46 us, a reused digest 0.65 -> 0.32 us.
 */
static const EVP_MD *sha256_md(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, fetch_md);
	return fetched ? fetched : EVP_sha256();
}

struct sha256 *sha256_new(void)
{
	struct sha256 *h = xmalloc(sizeof(*h));

	h->ctx = EVP_MD_CTX_new();
	must(h->ctx != NULL);
	must(EVP_DigestInit_ex(h->ctx, sha256_md(), NULL));
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
	must(EVP_DigestInit_ex(h->ctx, sha256_md(), NULL));
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
