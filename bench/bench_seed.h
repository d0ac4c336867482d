/*
 * bench_seed: the benchmarks' seed scripts. Runs every statement of a
 * multi-statement SQL script in one transaction, binding ?1 to n where a
 * statement has a parameter (a row count for a recursive CTE): the
 * benchmarks build their databases in SQL, not through the library
 * calls they measure.
 */
#ifndef CHANCERY_BENCH_SEED_H
#define CHANCERY_BENCH_SEED_H

#include "chancery/db.h"
#include "chancery/error.h"

int bench_seed(struct db *db, const char *script, int n, struct error *err);

#endif
