/*
 * rng.h: xt's own pseudo-random numbers, so that a search with a given
 * seed proposes the same points on every machine and libc.
 *
 * The generator is xoshiro256** (Blackman and Vigna), seeded by running
 * splitmix64 from the 64-bit seed. Only integer arithmetic decides the
 * stream; doubles are made from its top 53 bits.
 */
#ifndef XT_RNG_H
#define XT_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Seed the generator; every seed (0 included) gives a good state. */
void rng_seed(struct rng *r, uint64_t seed);
/* The next 64 random bits. */
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_uniform(struct rng *r);
/* Uniform integer in [0, n); n > 0. Unbiased (rejection). */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Standard normal (Box-Muller, one draw per call). */
double rng_normal(struct rng *r);

#endif
