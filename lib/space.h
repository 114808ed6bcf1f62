/*
 * space.h: hyperparameter search spaces, as XT wrote them.
 *
 * A space is an ordered list of hparams, each a name and a spec:
 *
 *   fixed value        10, adam, true            always that value
 *   [v1, v2, ...]      a list: a choice of its values
 *   $choice(v1, ...)   the same
 *   $linspace(a,b,n)   a choice of n values evenly spaced from a to b
 *   $randint([lo,]hi)  an integer in [lo, hi) (lo 0; no arguments: hi 65535)
 *   $uniform(lo,hi)    uniform in [lo, hi]
 *   $loguniform(lo,hi) log-uniform in [lo, hi], 0 < lo < hi
 *   $normal(mu,sigma)  normal
 *   $lognormal(mu,sigma)  exp(normal(mu, sigma))
 *   $quniform(lo,hi,q), $qloguniform(lo,hi,q), $qnormal(mu,sigma,q),
 *   $qlognormal(mu,sigma,q)   the same rounded to a multiple of q
 *
 * List values and $choice arguments are numbers, true, false, null, quoted
 * strings, or plain strings. Spaces come from XT's hp-config YAML (the
 * mapping under "hyperparameter-distributions:", other top-level keys are
 * ignored) or from "name=spec" arguments.
 *
 * The search algorithms work in an hparam's internal coordinate x: the
 * index of a choice, the value of $randint and the linear distributions,
 * and the log of the value of the log distributions.
 */
#ifndef XT_SPACE_H
#define XT_SPACE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "rng.h"

enum hp_kind {
	HP_FIXED, HP_CHOICE, HP_RANDINT, HP_UNIFORM, HP_QUNIFORM, HP_LOGUNIFORM,
	HP_QLOGUNIFORM, HP_NORMAL, HP_QNORMAL, HP_LOGNORMAL, HP_QLOGNORMAL
};

struct hparam {
	char *name;
	enum hp_kind kind;
	double a, b, q;		/* low and high, or mu and sigma; q */
	cJSON *values;		/* HP_CHOICE: its values; HP_FIXED: the one value (an array) */
	int nvalues;
	char *where;		/* "FILE:LINE" or "argument 'SPEC'", for messages */
};

struct space {
	struct hparam *hp;
	int n;
};

/*
 * How a search sees one hparam in internal coordinates: ncat > 0 for a
 * choice of ncat values (x is the index); otherwise numeric, in [lo, hi]
 * when bounded, else with the prior normal(mu, sigma). integer: x is
 * rounded. fixed: nothing to search.
 */
struct hp_dim {
	int fixed, ncat, bounded, integer;
	double lo, hi, mu, sigma;
};

void space_init(struct space *sp);
void space_release(struct space *sp);

/*
 * Add one hparam from its spec text. where names the place for messages.
 * 0, or -1 with err "WHERE: hparam 'NAME': bad spec 'TEXT': why" (or a
 * bad or duplicate name).
 */
int space_add(struct space *sp, const char *name, const char *spec, const char *where,
    char *err, size_t errlen);
/* Add "name=spec" (a command-line operand). 0 or -1 with err. */
int space_add_arg(struct space *sp, const char *arg, char *err, size_t errlen);
/*
 * Add the hparams of an hp-config YAML file. 0, or -1 with err naming
 * FILE:LINE (bad YAML, no "hyperparameter-distributions:" mapping, a bad
 * spec, a value that is neither a scalar nor a list of scalars).
 */
int space_load(struct space *sp, const char *path, char *err, size_t errlen);
/* The same from len bytes of text; path names it in messages. */
int space_load_text(struct space *sp, const char *path, const char *text, size_t len, char *err,
    size_t errlen);

/* The search view of h. */
void hparam_dim(const struct hparam *h, struct hp_dim *d);
/* A random internal coordinate from h's distribution. */
double hparam_sample(const struct hparam *h, struct rng *r);
/* The value at internal coordinate x (clamped and rounded as h needs). Caller frees. */
cJSON *hparam_value(const struct hparam *h, double x);
/* The internal coordinate of value v: 0, or -1 when v is not in h's space. */
int hparam_encode(const struct hparam *h, const cJSON *v, double *x);

/*
 * The settings of a choice h, as DGD steps through them: its distinct
 * values in ascending order (null, false, true, the numbers, then the
 * strings in byte order). Writes to order (room for h->nvalues) the list
 * index of each one's first occurrence, the index hparam_encode gives it,
 * and returns how many there are.
 */
int hparam_settings(const struct hparam *h, int *order);

/* A random configuration: {"name": value, ...} in the space's order. Caller frees. */
cJSON *space_sample(const struct space *sp, struct rng *r);
/*
 * The grid: the Cartesian product of the choices (lists, $choice,
 * $linspace) and fixed values, the last hparam varying fastest. Other
 * distributions are sampled with r at each point, as XT did.
 * space_grid_size saturates at UINT64_MAX.
 */
uint64_t space_grid_size(const struct space *sp);
/*
 * How many distinct configurations the space holds when that is finite:
 * the product of the number of values of each hparam (a choice's, a
 * $randint's, the multiples of q of a bounded $quniform or $qloguniform).
 * UINT64_MAX when an hparam takes a continuum or unbounded values, or the
 * product does not fit.
 */
uint64_t space_size(const struct space *sp);
/* Point i (0-based) of the grid. Caller frees. */
cJSON *space_grid_point(const struct space *sp, uint64_t i, struct rng *r);

#endif
