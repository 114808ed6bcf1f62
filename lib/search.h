/*
 * search.h: ask/tell hyperparameter search over a space (space.h).
 *
 * The state of a search is rebuilt from its history: run records as JSON
 * lines ({"run", "status", "hparams", "metrics"}, as in xt-report --json
 * and the store's index). A run that is completed or pruned and has the
 * metric is an observation; a run that is not final yet (queued, running)
 * is pending: it counts as tried, and the model sees it as a bad result
 * (a constant liar), so that parallel askers spread out. Failed and
 * cancelled runs only count as tried. Records without hparams (parents,
 * dynamic runs not started yet) are skipped.
 *
 * Algorithms: random, grid (in space_grid_point order), tpe (multivariate
 * Parzen estimators), gp (Gaussian process, Matern 5/2, expected
 * improvement), dgd (XT's distributed grid descent, stepping through each
 * list's distinct values in sorted order, hparam_settings). The Bayesian ones
 * sample at random until "startup" observations exist.
 */
#ifndef XT_SEARCH_H
#define XT_SEARCH_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "rng.h"
#include "space.h"

enum search_algo { SEARCH_RANDOM, SEARCH_GRID, SEARCH_TPE, SEARCH_GP, SEARCH_DGD };

struct search_point {
	double *x;		/* internal coordinates, one per hparam */
	double loss;		/* the metric, negated when the goal is max */
	int pending;
};

struct search {
	const struct space *sp;
	const char *metric;
	int maximize;
	int startup;		/* random proposals before the model (default 10) */
	struct rng rng;
	struct search_point *pt;	/* observations and pending points */
	int npt, cap;
	int ndone;		/* observations (not pending) */
	char **tried;		/* keys of every configuration tried or proposed */
	int ntried, tcap;
};

/* Start a search of sp (not owned) for metric (not owned). */
void search_init(struct search *s, const struct space *sp, const char *metric, int maximize,
    uint64_t seed);
void search_release(struct search *s);

/*
 * Read run records from fp (name for messages). Bad lines are errors:
 * -1 with err "NAME:LINE: what". A run whose hparams lie outside the space
 * is counted as tried and otherwise skipped, with a warning on stderr.
 * Returns the number of records used.
 */
int search_read(struct search *s, FILE *fp, const char *name, char *err, size_t errlen);
/* Add one record (as search_read does for each line). 1 used, 0 skipped, -1 bad (err). */
int search_add(struct search *s, const cJSON *rec, char *err, size_t errlen);

/*
 * Propose up to k configurations, each a new object {"name": value} in
 * the space's order, appended to out. Each one proposed counts as pending
 * for the next. Fewer than k when a finite space is used up (dgd repeats
 * points by design). -1 with err when the algorithm cannot search this
 * space (dgd needs discrete hparams). Returns the number proposed.
 */
int search_next(struct search *s, enum search_algo algo, int k, cJSON *out, char *err,
    size_t errlen);

/*
 * TPE's kernel widths in one numeric dimension, after Optuna's univariate
 * rule: of the n centres c (the prior's included), each gets the wider of
 * the gaps to its neighbours in sorted order, the outermost ones their one
 * inner gap, clipped to [range / min(100, max(n + 1, clip)), range]; one
 * centre alone gets range. clip <= n + 1 is Optuna's rule. Writes n widths
 * to w (which may be c).
 */
void search_tpe_widths(const double *c, int n, int clip, double range, double *w);

/*
 * The observations a Gaussian process fits when there are many: of n
 * points sorted best first, the best cap / 2 and a random sample (drawn
 * with r) of cap - cap / 2 of the others; all n when n <= cap. Writes the
 * chosen positions to idx (room for cap), ascending, and returns how many.
 */
int search_subset(int n, int cap, struct rng *r, int *idx);

/* Parse an algorithm's name; -1 when unknown. */
int search_algo_parse(const char *name);

#endif
