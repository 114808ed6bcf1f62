/*
 * stats.h: small statistics the library shares, so that a median means
 * the same thing in a plot and in a prune decision.
 */
#ifndef XT_STATS_H
#define XT_STATS_H

#include <stddef.h>

/*
 * The median of the n values of v (n >= 1): the middle one, or the mean of
 * the two middle ones when n is even. Sorts v in place, ascending, which
 * callers may use (the minimum is v[0], the maximum v[n - 1]). The values
 * must not be NaN.
 */
double stats_median(double *v, size_t n);

#endif
