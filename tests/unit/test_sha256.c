/*
 * Tests of sha256: FIPS 180-4's example vectors, incremental updates,
 * reuse after a digest, and agreement with OpenSSL's EVP interface (the
 * one chancery stopped using) on inputs of every length up to 300.
 */
#include <openssl/evp.h>
#include <string.h>

#include "chancery/sha256.h"
#include "chancery/xalloc.h"
#include "testutil.h"

static void test_vectors(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
		     "7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
			"f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
		 "19db06c1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hex[SHA256_HEX_SIZE];

		sha256_hex(cases[i].in, strlen(cases[i].in), hex);
		assert_str(hex, cases[i].want);
	}
}

/* A million "a" fed in uneven pieces, then the digest reused. */
static void test_incremental_and_reuse(void **state)
{
	struct sha256 *h = sha256_new();
	char block[997], hex[SHA256_HEX_SIZE];
	size_t left = 1000000;

	(void)state;
	memset(block, 'a', sizeof(block));
	while (left) {
		size_t n = left < sizeof(block) ? left : sizeof(block);

		sha256_update(h, block, n);
		left -= n;
	}
	sha256_final_hex(h, hex);
	assert_str(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e0"
			"46d39ccc7112cd0");
	sha256_update(h, "abc", 3); /* reset by the final */
	sha256_final_hex(h, hex);
	assert_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
			"10ff61f20015ad");
	sha256_free(h);
	sha256_free(NULL);
}

static void test_agrees_with_evp(void **state)
{
	unsigned char data[300];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(data); len++) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		char want[SHA256_HEX_SIZE], got[SHA256_HEX_SIZE];

		assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(),
					    NULL), 1);
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(want + 2 * i, 3, "%02x", md[i]);
		sha256_hex(data, len, got);
		if (strcmp(got, want) != 0)
			fail_msg("length %zu: %s, EVP says %s", len, got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_incremental_and_reuse),
		cmocka_unit_test(test_agrees_with_evp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
