/*
 * user's internals for its unit tests only: the Argon2id cost.
 *
 * Production hashes with t=3 passes over m=64 MiB, one lane (about 0.33 s
 * a hash on this project's 2-core build machine). A unit test that logs
 * in dozens of times may lower the cost with user_hash_cost_set before
 * its first hash; nothing outside tests/unit calls it, no configuration
 * key or environment variable reaches it, and a hash made at any cost
 * still verifies later (the encoded form carries its parameters).
 */
#ifndef CHANCERY_USER_IMPL_H
#define CHANCERY_USER_IMPL_H

#include <stdint.h>

#define USER_HASH_T_COST 3
#define USER_HASH_M_KIB 65536
#define USER_HASH_LANES 1

void user_hash_cost_set(uint32_t t_cost, uint32_t m_kib);

#endif
