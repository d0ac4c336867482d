/*
 * sha256: SHA-256 digests through OpenSSL's libcrypto, as lower-case hex.
 */
#ifndef CHANCERY_SHA256_H
#define CHANCERY_SHA256_H

#include <stddef.h>

#define SHA256_HEX_SIZE 65 /* 64 hex digits and a NUL */

struct sha256;

/* An incremental digest; sha256_free accepts NULL. */
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes the hex digest and resets h for reuse. */
void sha256_final_hex(struct sha256 *h, char out[SHA256_HEX_SIZE]);
void sha256_free(struct sha256 *h);

/* One-shot digest of data. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_SIZE]);

#endif
