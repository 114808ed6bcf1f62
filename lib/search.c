/*
 * search.c: see search.h.
 *
 * Both Bayesian methods work on a normalised copy of the internal
 * coordinates: a bounded hparam maps [lo, hi] to [0, 1], an unbounded one
 * (the normal distributions) to (x - mu) / sigma, a choice keeps its index.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "run.h"
#include "search.h"
#include "util.h"
#include "banned.h"

#define TPE_CANDIDATES 24
#define TPE_PRIOR_WEIGHT 1.0
#define TPE_FLAT_WEIGHTS 25
#define TPE_NARROW 0.2
#define TPE_NARROW_SHARE 0.8
#define TPE_CLIP_POWER 5.0
#define GP_MAX_POINTS 100
#define GP_PENDING 16
#define GP_FIT 40
#define GP_RANDOM 64
#define GP_LOCAL 64
#define GP_REFINE 32
#define RANDOM_TRIES 1000
#define UNBOUNDED_RANGE 1.0

static const char *const algos[] = { "random", "grid", "tpe", "gp", "dgd", NULL };

int
search_algo_parse(const char *name)
{
	for (int i = 0; algos[i]; i++)
		if (!strcmp(name, algos[i]))
			return i;
	return -1;
}

void
search_init(struct search *s, const struct space *sp, const char *metric, int maximize,
    uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->sp = sp;
	s->metric = metric;
	s->maximize = maximize;
	s->startup = 10;
	rng_seed(&s->rng, seed);
}

void
search_release(struct search *s)
{
	for (int i = 0; i < s->npt; i++)
		free(s->pt[i].x);
	for (int i = 0; i < s->ntried; i++)
		free(s->tried[i]);
	free(s->pt);
	free(s->tried);
	memset(s, 0, sizeof(*s));
}

static double *
xdup(const struct search *s, const double *x)
{
	double *c = xmalloc((size_t)(s->sp->n ? s->sp->n : 1) * sizeof(*c));

	memcpy(c, x, (size_t)s->sp->n * sizeof(*c));
	return c;
}

static void
add_tried(struct search *s, const double *x)
{
	if (s->ntried == s->tcap) {
		s->tcap = s->tcap ? 2 * s->tcap : 64;
		s->tried = xrealloc(s->tried, (size_t)s->tcap * sizeof(*s->tried));
	}
	s->tried[s->ntried++] = (char *)xdup(s, x);
}

static void
add_point(struct search *s, const double *x, double loss, int pending)
{
	if (s->npt == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->pt = xrealloc(s->pt, (size_t)s->cap * sizeof(*s->pt));
	}
	s->pt[s->npt].x = xdup(s, x);
	s->pt[s->npt].loss = loss;
	s->pt[s->npt].pending = pending;
	s->npt++;
	if (!pending)
		s->ndone++;
}

/* The value hparam k takes at x, as a number to compare configurations by. */
static double
canon(const struct hparam *h, double x)
{
	cJSON *v;
	double d;

	if (h->kind == HP_FIXED)
		return 0;
	if (h->kind == HP_CHOICE || h->kind == HP_RANDINT)
		return round(x);
	if (h->q <= 0)
		return x;
	v = hparam_value(h, x);
	d = v->valuedouble;
	cJSON_Delete(v);
	return d;
}

/* Has a configuration equal to x (on the choices only, when choices_only) been tried? */
static int
was_tried(const struct search *s, const double *x, int choices_only)
{
	for (int i = 0; i < s->ntried; i++) {
		const double *t = (const double *)s->tried[i];
		int k;

		for (k = 0; k < s->sp->n; k++) {
			const struct hparam *h = &s->sp->hp[k];

			if (choices_only && h->kind != HP_CHOICE)
				continue;
			if (canon(h, t[k]) != canon(h, x[k]))
				break;
		}
		if (k == s->sp->n)
			return 1;
	}
	return 0;
}

int
search_add(struct search *s, const cJSON *rec, char *err, size_t errlen)
{
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(rec, "hparams");
	const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(rec, "metrics");
	const char *run = json_str(rec, "run"), *status = json_str(rec, "status");
	const cJSON *m;
	double *x;
	int k;

	if (!run) {
		snprintf(err, errlen, "expected \"run\" (a string)");
		return -1;
	}
	if (!status) {
		snprintf(err, errlen, "run '%s': expected \"status\" (a string)", run);
		return -1;
	}
	if (hp && !cJSON_IsObject(hp) && !cJSON_IsNull(hp)) {
		snprintf(err, errlen, "run '%s': \"hparams\" must be an object", run);
		return -1;
	}
	if (metrics && !cJSON_IsObject(metrics) && !cJSON_IsNull(metrics)) {
		snprintf(err, errlen, "run '%s': \"metrics\" must be an object", run);
		return -1;
	}
	if (!cJSON_IsObject(hp) || !hp->child)
		return 0;
	x = xcalloc((size_t)s->sp->n + 1, sizeof(*x));
	for (k = 0; k < s->sp->n; k++) {
		const struct hparam *h = &s->sp->hp[k];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(hp, h->name);

		if (!v || hparam_encode(h, v, &x[k]) < 0) {
			char *text = v ? cJSON_PrintUnformatted(v) : NULL;

			snprintf(err, errlen, "run '%s': hparam '%s' %s%s%s; the run is skipped", run,
			    h->name, v ? "value " : "is missing", v ? text : "",
			    v ? " is outside the space" : "");
			free(text);
			free(x);
			return 0;
		}
	}
	add_tried(s, x);
	m = cJSON_GetObjectItemCaseSensitive(metrics, s->metric);
	if (!run_status_final(status))
		add_point(s, x, 0, 1);
	else if ((!strcmp(status, "completed") || !strcmp(status, "pruned")) && cJSON_IsNumber(m) &&
	    isfinite(m->valuedouble))
		add_point(s, x, s->maximize ? -m->valuedouble : m->valuedouble, 0);
	free(x);
	return 1;
}

int
search_read(struct search *s, FILE *fp, const char *name, char *err, size_t errlen)
{
	struct jsonl_reader r;
	cJSON *rec;
	int rc, used = 0;

	jsonl_init(&r, fp, name, 0);
	while ((rc = jsonl_next(&r, &rec, 1)) == 1) {
		char why[512] = "";
		int u = search_add(s, rec, why, sizeof(why));

		cJSON_Delete(rec);
		if (u < 0) {
			snprintf(err, errlen, "%s:%ld: %s", name, r.lineno, why);
			jsonl_release(&r);
			return -1;
		}
		if (u == 0 && why[0])
			warnx("%s:%ld: %s", name, r.lineno, why);
		used += u;
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", r.err);
	jsonl_release(&r);
	return rc < 0 ? -1 : used;
}

/* The configuration at x as an object, counted as tried and pending. */
static cJSON *
propose(struct search *s, const double *x)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		die("out of memory");
	for (int k = 0; k < s->sp->n; k++)
		cJSON_AddItemToObject(o, s->sp->hp[k].name, hparam_value(&s->sp->hp[k], x[k]));
	add_tried(s, x);
	add_point(s, x, 0, 1);
	return o;
}

/* An untried random point into x: 0, or -1 when none was found. */
static int
random_point(struct search *s, double *x)
{
	for (int t = 0; t < RANDOM_TRIES; t++) {
		for (int k = 0; k < s->sp->n; k++)
			x[k] = hparam_sample(&s->sp->hp[k], &s->rng);
		if (!was_tried(s, x, 0))
			return 0;
	}
	return -1;
}

/* ---- normalised coordinates ---- */

struct dims {
	int n;			/* hparams searched (not fixed) */
	int *hp;		/* their indexes in the space */
	struct hp_dim *d;
};

static void
dims_init(struct dims *D, const struct space *sp)
{
	D->n = 0;
	D->hp = xcalloc((size_t)sp->n + 1, sizeof(*D->hp));
	D->d = xcalloc((size_t)sp->n + 1, sizeof(*D->d));
	for (int k = 0; k < sp->n; k++) {
		hparam_dim(&sp->hp[k], &D->d[D->n]);
		if (!D->d[D->n].fixed)
			D->hp[D->n++] = k;
	}
}

static void
dims_release(struct dims *D)
{
	free(D->hp);
	free(D->d);
}

static double
to_unit(const struct hp_dim *d, double x)
{
	if (d->ncat)
		return round(x);
	if (d->bounded)
		return (x - d->lo) / (d->hi - d->lo);
	return (x - d->mu) / d->sigma;
}

static double
from_unit(const struct hp_dim *d, double u)
{
	if (d->ncat)
		return round(u);
	if (d->bounded)
		return d->lo + u * (d->hi - d->lo);
	return d->mu + u * d->sigma;
}

static double
phi_cdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

/* ---- TPE ---- */

/*
 * A Parzen estimator over the normalised coordinates: one weighted
 * component per point plus the prior, each a product of per-dimension
 * kernels (a truncated normal for numbers, a smoothed indicator for
 * choices). Each component's kernel in each dimension is kept whole
 * (log weight, centre, 1 / width, log normaliser), so that both the joint
 * density and each dimension's marginal are sums over components.
 */
struct parzen {
	int n, nd;		/* components (the last is the prior); dimensions */
	double *lw;		/* n: log of each component's share of the weight */
	double *cw;		/* n: cumulative weights, for drawing a component */
	double *mu, *inv, *lnorm;	/* n x nd: centre, 1 / width, log normaliser */
	double *lp;		/* n: scratch */
};

struct gap {
	double m;
	int i;
};

static int
gap_before(const struct gap *p, const struct gap *q)
{
	return p->m < q->m || (p->m == q->m && p->i < q->i);
}

/* Sort g by centre, ties by index: a bottom-up merge sort (qsort's calls cost more here). */
static void
gap_sort(struct gap *g, int n)
{
	struct gap *tmp = xmalloc((size_t)(n + 1) * sizeof(*tmp)), *a = g, *b = tmp, *t;

	for (int w = 1; w < n; w *= 2) {
		for (int lo = 0; lo < n; lo += 2 * w) {
			int mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			int i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				b[k++] = gap_before(&a[j], &a[i]) ? a[j++] : a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		t = a, a = b, b = t;
	}
	if (a != g)
		memcpy(g, a, (size_t)n * sizeof(*g));
	free(tmp);
}

void
search_tpe_widths(const double *c, int n, int clip, double range, double *w)
{
	struct gap *g = xmalloc((size_t)(n + 1) * sizeof(*g));
	double lo;

	clip = clip > n + 1 ? clip : n + 1;
	lo = range / (clip < 100 ? clip : 100);

	for (int k = 0; k < n; k++)
		g[k].m = c[k], g[k].i = k;
	gap_sort(g, n);
	for (int k = 0; k < n; k++) {
		double left = k > 0 ? g[k].m - g[k - 1].m : 0;
		double right = k < n - 1 ? g[k + 1].m - g[k].m : 0;

		w[g[k].i] = n == 1 ? range : fmin(fmax(fmax(left, right), lo), range);
	}
	free(g);
}

/*
 * Build P over the n points pts with weights w (and the prior); clip is
 * search_tpe_widths's floor on the narrowest kernel's share of a range.
 */
static void
parzen_build(struct parzen *P, const struct dims *D, struct search_point **pts, const double *w,
    int n, int clip)
{
	int nd = D->n;
	size_t cells = (size_t)(n + 1) * nd + 1;
	double *sg = xmalloc((size_t)(n + 1) * sizeof(*sg)), total = TPE_PRIOR_WEIGHT, acc = 0;

	P->n = n + 1, P->nd = nd;
	P->mu = xcalloc(cells, sizeof(double));
	P->inv = xcalloc(cells, sizeof(double));
	P->lnorm = xcalloc(cells, sizeof(double));
	P->lw = xcalloc((size_t)P->n, sizeof(double));
	P->cw = xcalloc((size_t)P->n, sizeof(double));
	P->lp = xcalloc((size_t)P->n, sizeof(double));
	for (int i = 0; i < n; i++)
		total += w[i];
	for (int i = 0; i < P->n; i++) {
		double wi = i < n ? w[i] : TPE_PRIOR_WEIGHT;

		P->lw[i] = log(wi / total);
		acc += wi;
		P->cw[i] = acc / total;
	}
	for (int j = 0; j < nd; j++) {
		const struct hp_dim *d = &D->d[j];
		double range = d->bounded ? 1 : UNBOUNDED_RANGE;

		for (int i = 0; i < P->n; i++)
			P->mu[i * nd + j] = i < n ? to_unit(d, pts[i]->x[D->hp[j]]) : d->bounded ? 0.5 : 0;
		if (d->ncat) {
			for (int i = 0; i < P->n; i++)
				P->lnorm[i * nd + j] = i < n ? -log(1 + TPE_PRIOR_WEIGHT) : -log(d->ncat);
			continue;
		}
		/* The prior's centre counts as a neighbour; its own width is the range. */
		for (int i = 0; i < P->n; i++)
			sg[i] = P->mu[i * nd + j];
		search_tpe_widths(sg, P->n, clip, range, sg);
		sg[n] = range;
		for (int i = 0; i < P->n; i++) {
			double m = P->mu[i * nd + j], s = sg[i], z = 0;

			/* The mass inside [0, 1]; 1 to double precision when 9 widths in. */
			if (d->bounded && (m < 9 * s || 1 - m < 9 * s))
				z = log(fmax(phi_cdf((1 - m) / s) - phi_cdf(-m / s), 1e-300));
			P->inv[i * nd + j] = 1 / s;
			P->lnorm[i * nd + j] = -log(s) - 0.5 * log(2 * M_PI) - z;
		}
	}
	free(sg);
}

static void
parzen_release(struct parzen *P)
{
	free(P->mu);
	free(P->inv);
	free(P->lnorm);
	free(P->lw);
	free(P->cw);
	free(P->lp);
}

/* log of component i's kernel in dimension j at u. */
static double
parzen_kernel(const struct parzen *P, const struct dims *D, int i, int j, double u)
{
	size_t c = (size_t)i * P->nd + j;

	if (D->d[j].ncat) {
		if (i == P->n - 1)
			return P->lnorm[c];
		return log((u == P->mu[c]) + TPE_PRIOR_WEIGHT / D->d[j].ncat) + P->lnorm[c];
	}
	return P->lnorm[c] - 0.5 * (u - P->mu[c]) * (u - P->mu[c]) * P->inv[c] * P->inv[c];
}

/* log density of P at the normalised point u. */
static double
parzen_logpdf(const struct parzen *P, const struct dims *D, const double *u)
{
	double best = -DBL_MAX, sum = 0;

	for (int i = 0; i < P->n; i++) {
		double l = P->lw[i];

		for (int k = 0; k < P->nd; k++)
			l += parzen_kernel(P, D, i, k, u[k]);
		P->lp[i] = l;
		best = l > best ? l : best;
	}
	for (int i = 0; i < P->n; i++)
		sum += exp(P->lp[i] - best);
	return best + log(sum);
}

/* Draw a component of P by weight. */
static int
parzen_pick(const struct parzen *P, struct rng *r)
{
	double v = rng_uniform(r);
	int lo = 0, hi = P->n - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (P->cw[mid] > v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Draw dimension j of component i of P. */
static double
parzen_draw(const struct parzen *P, const struct dims *D, int i, int j, struct rng *r)
{
	const struct hp_dim *d = &D->d[j];
	double m = P->mu[(size_t)i * P->nd + j], sg = 1 / P->inv[(size_t)i * P->nd + j], v = m;

	/* Most draws from a point's kernel come from one TPE_NARROW as wide. */
	if (i < P->n - 1 && rng_uniform(r) < TPE_NARROW_SHARE)
		sg *= TPE_NARROW;

	if (d->ncat) {
		double pick = rng_uniform(r) * (1 + TPE_PRIOR_WEIGHT);

		return i == P->n - 1 || pick >= 1 ? (double)rng_below(r, (uint64_t)d->ncat) : m;
	}
	for (int t = 0; t < 100; t++) {
		v = m + sg * rng_normal(r);
		if (!d->bounded || (v >= 0 && v <= 1))
			break;
	}
	return d->bounded ? fmin(fmax(v, 0), 1) : v;
}

/* By loss, ties in history order (so that the order does not depend on qsort). */
static int
cmp_loss(const void *a, const void *b)
{
	const struct search_point *p = *(struct search_point *const *)a;
	const struct search_point *q = *(struct search_point *const *)b;

	if (p->loss != q->loss)
		return p->loss < q->loss ? -1 : 1;
	return p < q ? -1 : p > q;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* History order (points are kept in the order they were read). */
static int
cmp_age(const void *a, const void *b)
{
	const struct search_point *p = *(struct search_point *const *)a;
	const struct search_point *q = *(struct search_point *const *)b;

	return p < q ? -1 : p > q;
}

/* The normalised point u as internal coordinates x (fixed hparams at 0). */
static void
unit_to_x(const struct dims *D, const double *u, double *x, int n)
{
	memset(x, 0, (size_t)n * sizeof(*x));
	for (int j = 0; j < D->n; j++)
		x[D->hp[j]] = from_unit(&D->d[j], u[j]);
}

/*
 * The highest-scoring of n candidates (rows of cand, sp->n + 1 doubles
 * each) not tried yet, into x: 0, or -1 when all were tried. Spends score.
 */
static int
best_untried(const struct search *s, double *score, const double *cand, int n, double *x)
{
	for (int t = 0; t < n; t++) {
		int bi = -1;

		for (int c = 0; c < n; c++)
			if (score[c] > -DBL_MAX && (bi < 0 || score[c] > score[bi]))
				bi = c;
		if (bi < 0)
			break;
		memcpy(x, cand + (size_t)bi * (s->sp->n + 1), (size_t)s->sp->n * sizeof(double));
		if (!was_tried(s, x, 0))
			return 0;
		score[bi] = -DBL_MAX;
	}
	return -1;
}

/*
 * Optuna's weights for n points in history order: equal up to 25, then
 * the older ones less, rising linearly from 1/n to 1 (the newest 25 at 1).
 */
static void
tpe_weights(double *w, int n)
{
	int ramp = n - TPE_FLAT_WEIGHTS;

	for (int i = 0; i < n; i++)
		w[i] = i >= ramp ? 1 :
		    ramp == 1 ? 1.0 / n : 1.0 / n + (1 - 1.0 / n) * i / (ramp - 1);
}

static int
tpe_point(struct search *s, const struct dims *D, double *x)
{
	struct search_point **done = xmalloc((size_t)s->npt * sizeof(*done));
	struct search_point **bad = xmalloc((size_t)s->npt * sizeof(*bad));
	int nd = 0, nb = 0, ngood, found, nc = TPE_CANDIDATES, clip;
	double *w = xmalloc((size_t)(s->npt + 1) * sizeof(*w));
	double *cand = xcalloc((size_t)nc * (D->n + 1), sizeof(double));
	double *score = xcalloc((size_t)nc, sizeof(double));
	double *cx = xmalloc((size_t)nc * (s->sp->n + 1) * sizeof(double));
	struct parzen good, worse;

	for (int i = 0; i < s->npt; i++)
		if (s->pt[i].pending)
			bad[nb++] = &s->pt[i];
		else
			done[nd++] = &s->pt[i];
	qsort(done, (size_t)nd, sizeof(*done), cmp_loss);
	/* Optuna's split: the best 10%, at most 25. */
	ngood = (nd + 9) / 10;
	ngood = ngood > 25 ? 25 : ngood < 1 ? 1 : ngood;
	for (int i = ngood; i < nd; i++)
		bad[nb++] = done[i];
	qsort(done, (size_t)ngood, sizeof(*done), cmp_age);
	qsort(bad, (size_t)nb, sizeof(*bad), cmp_age);
	/*
	 * The narrowest kernel shrinks with all the points seen, not only with
	 * an estimator's own few: range / N^(5 / (d + 4)), the form of the
	 * rate at which a d-dimensional kernel density's best width shrinks.
	 * In few dimensions the good estimator then resolves the optimum's
	 * neighbourhood; in many it stays as wide as Optuna's rule makes it.
	 */
	clip = (int)pow(s->npt, TPE_CLIP_POWER / (D->n + 4));
	tpe_weights(w, ngood);
	parzen_build(&good, D, done, w, ngood, clip);
	tpe_weights(w, nb);
	parzen_build(&worse, D, bad, w, nb, clip);
	/*
	 * Candidates from the good estimator, ranked by l(x) / g(x). Each
	 * dimension draws its own component, so that a candidate can combine
	 * good points' coordinates; the ranking is joint.
	 */
	for (int c = 0; c < nc; c++) {
		double *cu = cand + (size_t)c * (D->n + 1);

		for (int j = 0; j < D->n; j++)
			cu[j] = parzen_draw(&good, D, parzen_pick(&good, &s->rng), j, &s->rng);
		score[c] = parzen_logpdf(&good, D, cu) - parzen_logpdf(&worse, D, cu);
	}
	for (int c = 0; c < nc; c++)
		unit_to_x(D, cand + (size_t)c * (D->n + 1), cx + (size_t)c * (s->sp->n + 1), s->sp->n);
	found = best_untried(s, score, cx, nc, x);
	parzen_release(&good);
	parzen_release(&worse);
	free(done);
	free(bad);
	free(w);
	free(cand);
	free(score);
	free(cx);
	return found < 0 ? random_point(s, x) : 0;
}

/* ---- Gaussian process ---- */

/*
 * The GP sees at most GP_MAX_POINTS observations (search_subset: the best
 * half and a random sample of the rest, so that the model knows both where
 * the good region is and what the rest of the space looks like), and
 * chooses its lengthscales and noise on at most GP_FIT of them. Targets are
 * ranks over all observations mapped through the normal quantiles.
 */
struct gp {
	int n, p;
	double *X, *y;		/* n x p features, n targets */
	double *d2;		/* n x n x p, lower triangle: squared feature differences */
	double *K;		/* n x n, lower triangle: the kernel without the noise */
	double *L, *alpha;	/* Cholesky factor of K + noise, (K + noise)^-1 y */
	double *il2, noise;	/* 1 / lengthscale^2 per feature; noise variance */
};

/* Features of internal point x into f (numbers in [0, 1]-ish, choices one-hot). */
static int
features(const struct dims *D, const double *x, double *f)
{
	int p = 0;

	for (int j = 0; j < D->n; j++) {
		const struct hp_dim *d = &D->d[j];
		double u = to_unit(d, x[D->hp[j]]);

		if (d->ncat) {
			for (int c = 0; c < d->ncat; c++)
				f[p++] = (c == (int)u) ? 1 : 0;
		} else {
			f[p++] = d->bounded ? u : u / 4 + 0.5;
		}
	}
	return p;
}

static int
nfeatures(const struct dims *D)
{
	int p = 0;

	for (int j = 0; j < D->n; j++)
		p += D->d[j].ncat ? D->d[j].ncat : 1;
	return p;
}

static void
gp_init(struct gp *g, int n, int p)
{
	g->n = n, g->p = p;
	g->X = xcalloc((size_t)n * p + 1, sizeof(double));
	g->y = xcalloc((size_t)n + 1, sizeof(double));
	g->d2 = xcalloc((size_t)n * n * p + 1, sizeof(double));
	g->K = xcalloc((size_t)n * n + 1, sizeof(double));
	g->L = xcalloc((size_t)n * n + 1, sizeof(double));
	g->alpha = xcalloc((size_t)n + 1, sizeof(double));
	g->il2 = xcalloc((size_t)p + 1, sizeof(double));
}

static void
gp_release(struct gp *g)
{
	free(g->X);
	free(g->y);
	free(g->d2);
	free(g->K);
	free(g->L);
	free(g->alpha);
	free(g->il2);
}

/* Matern 5/2 of the squared scaled distance r2. */
static double
matern52(double r2)
{
	double r = sqrt(5 * r2);

	return (1 + r + r * r / 3) * exp(-r);
}

/* The squared differences of every pair of rows of X (after X is set). */
static void
gp_pairs(struct gp *g)
{
	for (int i = 0; i < g->n; i++)
		for (int j = 0; j < i; j++)
			for (int f = 0; f < g->p; f++) {
				double t = g->X[(size_t)i * g->p + f] - g->X[(size_t)j * g->p + f];

				g->d2[((size_t)i * g->n + j) * g->p + f] = t * t;
			}
}

/* The kernel matrix for the current lengthscales. */
static void
gp_kernel(struct gp *g)
{
	for (int i = 0; i < g->n; i++) {
		for (int j = 0; j < i; j++) {
			const double *d = g->d2 + ((size_t)i * g->n + j) * g->p;
			double r2 = 0;

			for (int f = 0; f < g->p; f++)
				r2 += d[f] * g->il2[f];
			g->K[(size_t)i * g->n + j] = matern52(r2);
		}
		g->K[(size_t)i * g->n + i] = 1;
	}
}

/* In-place lower Cholesky factor of the n x n matrix A; -1 when not positive definite. */
static int
cholesky(double *A, int n)
{
	for (int j = 0; j < n; j++) {
		double d = A[j * n + j];

		for (int k = 0; k < j; k++)
			d -= A[j * n + k] * A[j * n + k];
		if (d <= 0)
			return -1;
		d = sqrt(d);
		A[j * n + j] = d;
		for (int i = j + 1; i < n; i++) {
			double v = A[i * n + j];

			for (int k = 0; k < j; k++)
				v -= A[i * n + k] * A[j * n + k];
			A[i * n + j] = v / d;
		}
	}
	return 0;
}

/* Solve L v = b (forward) into v. */
static void
lsolve(const double *L, int n, const double *b, double *v)
{
	for (int i = 0; i < n; i++) {
		double t = b[i];

		for (int k = 0; k < i; k++)
			t -= L[i * n + k] * v[k];
		v[i] = t / L[i * n + i];
	}
}

/* Solve L^T v = b (backward) into v. */
static void
ltsolve(const double *L, int n, const double *b, double *v)
{
	for (int i = n - 1; i >= 0; i--) {
		double t = b[i];

		for (int k = i + 1; k < n; k++)
			t -= L[k * n + i] * v[k];
		v[i] = t / L[i * n + i];
	}
}

/* Factor K + noise; return the log marginal likelihood (-inf when it fails). */
static double
gp_factor(struct gp *g)
{
	int n = g->n;
	double *tmp = xmalloc((size_t)(n + 1) * sizeof(double)), lml = 0;

	for (int i = 0; i < n; i++)
		for (int j = 0; j <= i; j++)
			g->L[i * n + j] = g->K[i * n + j] + (i == j ? g->noise + 1e-8 : 0);
	if (cholesky(g->L, n) < 0) {
		free(tmp);
		return -INFINITY;
	}
	lsolve(g->L, n, g->y, tmp);
	ltsolve(g->L, n, tmp, g->alpha);
	for (int i = 0; i < n; i++)
		lml += -0.5 * g->y[i] * g->alpha[i] - log(g->L[i * n + i]);
	free(tmp);
	return lml;
}

/*
 * Choose the lengthscales and noise of g by marginal likelihood: a grid of
 * one shared lengthscale by noise levels (the noise only changes the
 * diagonal, so one kernel per lengthscale), then one round of per-feature
 * lengthscales (ARD), a factor of 2 at a time. Leaves g->il2 and g->noise.
 */
static void
gp_fit(struct gp *g)
{
	static const double lss[] = { 0.1, 0.2, 0.35, 0.6, 1.0 };
	static const double noises[] = { 1e-6, 1e-3, 1e-2, 3e-2, 1e-1, 0.3 };
	double best = -INFINITY, bls = 0.35;

	g->noise = 1e-3;
	for (size_t a = 0; a < sizeof(lss) / sizeof(lss[0]); a++) {
		for (int f = 0; f < g->p; f++)
			g->il2[f] = 1 / (lss[a] * lss[a]);
		gp_kernel(g);
		for (size_t b = 0; b < sizeof(noises) / sizeof(noises[0]); b++) {
			double l, keep = g->noise;

			g->noise = noises[b];
			l = gp_factor(g);
			if (l > best)
				best = l, bls = lss[a];
			else
				g->noise = keep;
		}
	}
	for (int f = 0; f < g->p; f++)
		g->il2[f] = 1 / (bls * bls);
	for (int f = 0; f < g->p && g->p > 1; f++)
		for (int dir = 0; dir < 2; dir++) {
			double old = g->il2[f], ls = fmin(fmax(sqrt(1 / old) * (dir ? 2 : 0.5), 0.03), 20), l;

			g->il2[f] = 1 / (ls * ls);
			gp_kernel(g);
			if ((l = gp_factor(g)) > best)
				best = l;
			else
				g->il2[f] = old;
		}
}

/*
 * Posterior mean at features x into *mu, and the kernel vector into work
 * (2n doubles); then, when sd, the standard deviation (the costly part).
 */
static void
gp_predict(const struct gp *g, const double *x, double *work, double *mu, double *sd)
{
	double m = 0, v = 1;

	for (int i = 0; i < g->n; i++) {
		const double *xi = g->X + (size_t)i * g->p;
		double r2 = 0;

		for (int f = 0; f < g->p; f++)
			r2 += (x[f] - xi[f]) * (x[f] - xi[f]) * g->il2[f];
		work[i] = matern52(r2);
		m += work[i] * g->alpha[i];
	}
	*mu = m;
	if (!sd)
		return;
	lsolve(g->L, g->n, work, work + g->n);
	for (int i = 0; i < g->n; i++)
		v -= work[g->n + i] * work[g->n + i];
	*sd = sqrt(fmax(v, 1e-12));
}

static double
expected_improvement(double best, double mu, double sd)
{
	double z = (best - mu) / sd;

	return (best - mu) * phi_cdf(z) + sd * exp(-0.5 * z * z) / sqrt(2 * M_PI);
}

/* z with phi_cdf(z) = p, by bisection (p in (0, 1)). */
static double
phi_inv(double p)
{
	double lo = -9, hi = 9;

	for (int i = 0; i < 40; i++) {
		double mid = (lo + hi) / 2;

		if (phi_cdf(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

int
search_subset(int n, int cap, struct rng *r, int *idx)
{
	int nbest = cap / 2, *rest;

	if (n <= cap) {
		for (int i = 0; i < n; i++)
			idx[i] = i;
		return n;
	}
	for (int i = 0; i < nbest; i++)
		idx[i] = i;
	/* A partial Fisher-Yates shuffle of the others. */
	rest = xmalloc((size_t)(n - nbest) * sizeof(*rest));
	for (int i = 0; i < n - nbest; i++)
		rest[i] = nbest + i;
	for (int i = 0; i < cap - nbest; i++) {
		int j = i + (int)rng_below(r, (uint64_t)(n - nbest - i)), t = rest[i];

		rest[i] = rest[j], rest[j] = t;
	}
	qsort(rest, (size_t)(cap - nbest), sizeof(*rest), cmp_int);
	memcpy(idx + nbest, rest, (size_t)(cap - nbest) * sizeof(*rest));
	free(rest);
	return cap;
}

/*
 * The targets of the n points sorted best first (loss ascending): the
 * normal quantile of each one's mid-rank, ties sharing one.
 */
static void
rank_targets(struct search_point **sorted, int n, double *t)
{
	for (int i = 0; i < n;) {
		int j = i;

		while (j < n && sorted[j]->loss == sorted[i]->loss)
			j++;
		for (int k = i; k < j; k++)
			t[k] = (i + (j - i) / 2.0) / n;
		i = j;
	}
}

/* Move x a little: numbers by a normal step of scale, choices at random with chance scale. */
static void
perturb(struct search *s, const struct dims *D, double *x, double scale)
{
	for (int j = 0; j < D->n; j++) {
		const struct hp_dim *d = &D->d[j];
		double *v = &x[D->hp[j]];

		if (d->ncat) {
			if (rng_uniform(&s->rng) < scale)
				*v = (double)rng_below(&s->rng, (uint64_t)d->ncat);
		} else if (d->bounded) {
			/* Reflected at the bounds: clamping would pile candidates on them. */
			double t = *v + scale * (d->hi - d->lo) * rng_normal(&s->rng);

			t = t > d->hi ? 2 * d->hi - t : t;
			t = t < d->lo ? 2 * d->lo - t : t;
			*v = fmin(fmax(t, d->lo), d->hi);
		} else {
			*v += scale * d->sigma * rng_normal(&s->rng);
		}
	}
}

/* Huang et al.'s augmented EI: EI times 1 - sqrt(noise / (sd^2 + noise)). */
static double
augmented_ei(double best, double mu, double sd, double noise)
{
	return expected_improvement(best, mu, sd) * (1 - sqrt(noise / (sd * sd + noise)));
}

/*
 * The augmented expected improvement over ybest at the internal point xc
 * (the factor discounts a point whose value the noise hides more than the
 * model knows it, such as one next to many results), or -DBL_MAX when it
 * cannot beat floor: it grows with the posterior sd, so the mean and a
 * cheap upper bound of the sd can rule a point out.
 */
static double
gp_score(const struct gp *g, const struct dims *D, const double *xc, double ybest, double floor,
    double *work)
{
	double mu, sd, kmax = 0, *f = work + 2 * g->n;

	features(D, xc, f);
	gp_predict(g, f, work, &mu, NULL);
	/* k K^-1 k >= k_i^2 / K_ii for each i, which bounds the variance from above. */
	for (int i = 0; i < g->n; i++)
		kmax = fmax(kmax, work[i] * work[i]);
	sd = sqrt(fmax(1 - kmax / (1 + g->noise + 1e-8), 1e-12));
	if (augmented_ei(ybest, mu, sd, g->noise) <= floor)
		return -DBL_MAX;
	gp_predict(g, f, work, &mu, &sd);
	return augmented_ei(ybest, mu, sd, g->noise);
}

static int
gp_point(struct search *s, const struct dims *D, double *x)
{
	struct search_point **done = xmalloc((size_t)s->npt * sizeof(*done));
	int nd = 0, npend = 0, n, p = nfeatures(D), m, ncand, found, row = s->sp->n + 1;
	int *idx = xmalloc((GP_MAX_POINTS + GP_PENDING) * sizeof(*idx));
	double *rank, ybest = DBL_MAX, top = -DBL_MAX, *work, *ei, *cx;
	struct gp g, fit;

	for (int i = 0; i < s->npt; i++)
		if (!s->pt[i].pending)
			done[nd++] = &s->pt[i];
	qsort(done, (size_t)nd, sizeof(*done), cmp_loss);
	rank = xmalloc((size_t)(nd + 1) * sizeof(*rank));
	rank_targets(done, nd, rank);
	n = search_subset(nd, GP_MAX_POINTS, &s->rng, idx);
	/* The latest pending points, as bad as the worst result (the constant liar). */
	for (int i = s->npt - 1; i >= 0 && npend < GP_PENDING; i--)
		if (s->pt[i].pending)
			npend++;
	gp_init(&g, n + npend, p);
	for (int i = 0; i < n; i++) {
		features(D, done[idx[i]]->x, g.X + (size_t)i * p);
		g.y[i] = phi_inv(rank[idx[i]]);
	}
	for (int i = s->npt - 1, k = n; k < n + npend; i--)
		if (s->pt[i].pending) {
			features(D, s->pt[i].x, g.X + (size_t)k * p);
			g.y[k++] = phi_inv(rank[nd - 1]);
		}
	/* Lengthscales and noise from an even spread (by rank) of the points. */
	m = g.n < GP_FIT ? g.n : GP_FIT;
	gp_init(&fit, m, p);
	for (int i = 0; i < m; i++) {
		int k = (int)((long)i * g.n / m);

		memcpy(fit.X + (size_t)i * p, g.X + (size_t)k * p, (size_t)p * sizeof(double));
		fit.y[i] = g.y[k];
	}
	gp_pairs(&fit);
	gp_fit(&fit);
	memcpy(g.il2, fit.il2, (size_t)p * sizeof(double));
	g.noise = fit.noise;
	gp_release(&fit);
	gp_pairs(&g);
	gp_kernel(&g);
	if (gp_factor(&g) == -INFINITY) {
		g.noise = 1e-2;
		gp_factor(&g);
	}
	/*
	 * The incumbent is the best posterior mean at a result, (K (K +
	 * noise)^-1 y)_i = y_i - noise alpha_i, not the best result: under
	 * noise that one is partly luck, and improving on it asks too much.
	 */
	for (int i = 0; i < n; i++)
		ybest = fmin(ybest, g.y[i] - (g.noise + 1e-8) * g.alpha[i]);

	/* Candidates: random ones, steps around the best points, then a local search from the best. */
	ncand = GP_RANDOM + GP_LOCAL + GP_REFINE;
	work = xmalloc((size_t)(2 * g.n + p + 1) * sizeof(double));
	ei = xmalloc((size_t)ncand * sizeof(double));
	cx = xmalloc((size_t)ncand * row * sizeof(double));
	for (int c = 0; c < GP_RANDOM + GP_LOCAL; c++) {
		double *xc = cx + (size_t)c * row;

		if (c < GP_RANDOM) {
			for (int k = 0; k < s->sp->n; k++)
				xc[k] = hparam_sample(&s->sp->hp[k], &s->rng);
		} else {
			int t = (c - GP_RANDOM) % 5;

			memcpy(xc, done[t < nd ? t : 0]->x, (size_t)s->sp->n * sizeof(double));
			perturb(s, D, xc, (c - GP_RANDOM) < GP_LOCAL / 2 ? 0.1 : 0.02);
		}
		ei[c] = gp_score(&g, D, xc, ybest, top, work);
		top = fmax(top, ei[c]);
	}
	for (int c = GP_RANDOM + GP_LOCAL, from = 0; c < ncand; c++) {
		double *xc = cx + (size_t)c * row;

		for (int k = 0; k < c; k++)
			if (ei[k] > ei[from])
				from = k;
		memcpy(xc, cx + (size_t)from * row, (size_t)s->sp->n * sizeof(double));
		perturb(s, D, xc, 0.05 * pow(0.1, (double)(c - GP_RANDOM - GP_LOCAL) / GP_REFINE));
		ei[c] = gp_score(&g, D, xc, ybest, top, work);
		top = fmax(top, ei[c]);
	}
	found = best_untried(s, ei, cx, ncand, x);
	gp_release(&g);
	free(done);
	free(idx);
	free(rank);
	free(work);
	free(ei);
	free(cx);
	return found < 0 ? random_point(s, x) : 0;
}

/* ---- DGD ---- */

/* Do x and y name the same setting of every hparam? */
static int
same_setting(const struct search *s, const double *x, const double *y)
{
	for (int k = 0; k < s->sp->n; k++)
		if (canon(&s->sp->hp[k], x[k]) != canon(&s->sp->hp[k], y[k]))
			return 0;
	return 1;
}

/*
 * DGD's view of one searched hparam: for a choice, its settings in
 * ascending order (hparam_settings) and each list index's place among
 * them; for a $randint, order is NULL and the settings are its integers.
 */
struct dgd_dim {
	int *order, *place, n;
};

static struct dgd_dim *
dgd_dims(const struct search *s, const struct dims *D)
{
	struct dgd_dim *g = xcalloc((size_t)D->n + 1, sizeof(*g));

	for (int j = 0; j < D->n; j++) {
		const struct hparam *h = &s->sp->hp[D->hp[j]];

		if (h->kind != HP_CHOICE)
			continue;
		g[j].order = xcalloc((size_t)h->nvalues, sizeof(int));
		g[j].place = xcalloc((size_t)h->nvalues, sizeof(int));
		g[j].n = hparam_settings(h, g[j].order);
		/* A repeated value's place is that of its first occurrence. */
		for (int p = 0; p < g[j].n; p++)
			g[j].place[g[j].order[p]] = p;
		for (int i = 0; i < h->nvalues; i++) {
			double x;

			hparam_encode(h, cJSON_GetArrayItem(h->values, i), &x);
			g[j].place[i] = g[j].place[(int)x];
		}
	}
	return g;
}

static void
dgd_dims_free(struct dgd_dim *g, int n)
{
	for (int j = 0; j < n; j++) {
		free(g[j].order);
		free(g[j].place);
	}
	free(g);
}

/* Setting v of dimension j moved dir steps, in *to: 0, or -1 when that is off the end. */
static int
dgd_step(const struct dims *D, const struct dgd_dim *g, int j, double v, int dir, double *to)
{
	if (g[j].order) {
		int p = g[j].place[(int)round(v)] + dir;

		if (p < 0 || p >= g[j].n)
			return -1;
		*to = g[j].order[p];
		return 0;
	}
	v = round(v) + dir;
	if (v < D->d[j].lo + 0.5 || v > D->d[j].hi - 0.5)
		return -1;
	*to = v;
	return 0;
}

static int
dgd_point(struct search *s, const struct dims *D, const struct dgd_dim *g, double *x)
{
	double bestmean = DBL_MAX, *best = NULL, *nb;
	int nn = 0, maxc = 0, total = 0, *count;

	if (s->ndone == 0) {
		/* Each hparam uniform over its settings, however often a list repeats one. */
		for (int k = 0; k < s->sp->n; k++)
			x[k] = hparam_sample(&s->sp->hp[k], &s->rng);
		for (int j = 0; j < D->n; j++)
			if (g[j].order)
				x[D->hp[j]] = g[j].order[rng_below(&s->rng, (uint64_t)g[j].n)];
		return 0;
	}
	/* The best setting by the mean of its results. */
	for (int i = 0; i < s->npt; i++) {
		double sum = 0;
		int c = 0;

		if (s->pt[i].pending)
			continue;
		for (int j = 0; j < s->npt; j++)
			if (!s->pt[j].pending && same_setting(s, s->pt[i].x, s->pt[j].x))
				sum += s->pt[j].loss, c++;
		if (sum / c < bestmean)
			bestmean = sum / c, best = s->pt[i].x;
	}
	/* Its neighbourhood: itself, and each hparam one setting up or down. */
	nb = xmalloc((size_t)(2 * D->n + 1) * (s->sp->n + 1) * sizeof(double));
	count = xcalloc((size_t)(2 * D->n + 1), sizeof(int));
	memcpy(nb, best, (size_t)s->sp->n * sizeof(double));
	nn = 1;
	for (int j = 0; j < D->n; j++)
		for (int dir = -1; dir <= 1; dir += 2) {
			double v;

			if (dgd_step(D, g, j, best[D->hp[j]], dir, &v) < 0)
				continue;
			memcpy(nb + (size_t)nn * (s->sp->n + 1), best, (size_t)s->sp->n * sizeof(double));
			nb[(size_t)nn * (s->sp->n + 1) + D->hp[j]] = v;
			nn++;
		}
	for (int a = 0; a < nn; a++) {
		for (int i = 0; i < s->npt; i++)
			count[a] += same_setting(s, nb + (size_t)a * (s->sp->n + 1), s->pt[i].x);
		maxc = count[a] > maxc ? count[a] : maxc;
	}
	/* XT's rule: a neighbour's chance grows as it has fewer runs than the most-run one. */
	for (int a = 0; a < nn; a++)
		total += maxc + 1 - count[a];
	{
		int pick = (int)rng_below(&s->rng, (uint64_t)total), a = 0;

		while (pick >= maxc + 1 - count[a])
			pick -= maxc + 1 - count[a++];
		memcpy(x, nb + (size_t)a * (s->sp->n + 1), (size_t)s->sp->n * sizeof(double));
	}
	free(nb);
	free(count);
	return 0;
}

int
search_next(struct search *s, enum search_algo algo, int k, cJSON *out, char *err, size_t errlen)
{
	struct dims D;
	double *x = xcalloc((size_t)s->sp->n + 1, sizeof(double));
	uint64_t gi = 0, gsize = space_grid_size(s->sp);
	struct dgd_dim *g = NULL;
	int made = 0;

	dims_init(&D, s->sp);
	if (algo == SEARCH_DGD)
		for (int j = 0; j < D.n; j++) {
			const struct hparam *h = &s->sp->hp[D.hp[j]];

			if (h->kind != HP_CHOICE && h->kind != HP_RANDINT) {
				snprintf(err, errlen, "%s: hparam '%s': dgd needs lists, $choice, $linspace "
				    "or $randint", h->where, h->name);
				made = -1;
			}
		}
	if (algo == SEARCH_DGD && made == 0)
		g = dgd_dims(s, &D);
	while (made >= 0 && made < k) {
		int rc;

		if (algo == SEARCH_GRID) {
			cJSON *pt = NULL;

			/* The first grid points whose choices were not tried. */
			for (; gi < gsize; gi++) {
				pt = space_grid_point(s->sp, gi, &s->rng);
				for (int j = 0; j < s->sp->n; j++)
					hparam_encode(&s->sp->hp[j],
					    cJSON_GetObjectItemCaseSensitive(pt, s->sp->hp[j].name), &x[j]);
				if (!was_tried(s, x, 1))
					break;
				cJSON_Delete(pt);
				pt = NULL;
			}
			if (!pt)
				break;
			cJSON_Delete(pt);
			rc = 0;
		} else if (algo == SEARCH_DGD) {
			rc = dgd_point(s, &D, g, x);
		} else if (algo == SEARCH_RANDOM || s->ndone < s->startup || D.n == 0) {
			rc = random_point(s, x);
		} else if (algo == SEARCH_TPE) {
			rc = tpe_point(s, &D, x);
		} else {
			rc = gp_point(s, &D, x);
		}
		if (rc < 0)
			break;
		cJSON_AddItemToArray(out, propose(s, x));
		made++;
	}
	if (g)
		dgd_dims_free(g, D.n);
	dims_release(&D);
	free(x);
	return made;
}
