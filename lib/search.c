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
#define GP_MAX_POINTS 256
#define GP_RANDOM 1000
#define GP_LOCAL 400
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
 * A Parzen estimator over the normalised coordinates: one component per
 * point plus the prior, each a product of per-dimension kernels (a
 * truncated normal for numbers, a smoothed indicator for choices).
 */
struct parzen {
	int n;			/* components; the last is the prior */
	double *mu;		/* n x D->n */
	double *logz;		/* n x D->n: log of each truncated kernel's mass */
	double *sigma;		/* per dimension */
	double *inv;		/* n x D->n: 1 / each kernel's sigma */
	double *base;		/* n: log weight and normalising terms of each component */
	double *lp;		/* n: scratch */
	double logw;		/* log of each component's weight (all equal) */
};

static void
parzen_build(struct parzen *P, const struct dims *D, struct search_point **pts, int n)
{
	int nd = D->n;
	double bw = 0.2 * pow(n > 1 ? n : 1, -1.0 / (nd + 4));
	double minbw = 1.0 / (n + 1 < 100 ? n + 1 : 100);
	size_t cells = (size_t)(n + 1) * nd + 1;

	P->n = n + 1;
	P->mu = xcalloc(cells, sizeof(double));
	P->logz = xcalloc(cells, sizeof(double));
	P->inv = xcalloc(cells, sizeof(double));
	P->sigma = xcalloc((size_t)nd + 1, sizeof(double));
	P->base = xcalloc((size_t)P->n, sizeof(double));
	P->lp = xcalloc((size_t)P->n, sizeof(double));
	P->logw = -log(n + TPE_PRIOR_WEIGHT);
	for (int i = 0; i < P->n; i++)
		P->base[i] = P->logw;
	for (int j = 0; j < nd; j++) {
		const struct hp_dim *d = &D->d[j];
		double range = d->bounded ? 1 : UNBOUNDED_RANGE;

		P->sigma[j] = range * (bw < minbw ? minbw : bw);
		for (int i = 0; i < P->n; i++) {
			double m = i < n ? to_unit(d, pts[i]->x[D->hp[j]]) : d->bounded ? 0.5 : 0;
			double sg = i < n ? P->sigma[j] : range;

			/* Optuna's univariate rule: the wider gap to a neighbour (the
			 * prior's centre and the ends count), clipped. */
			if (i < n && !d->ncat) {
				double lo = d->bounded ? 0 : -range, hi = d->bounded ? 1 : range;
				double left = m - lo, right = hi - m, c = d->bounded ? 0.5 : 0;

				for (int k = 0; k < n; k++) {
					double o = to_unit(d, pts[k]->x[D->hp[j]]);

					if (k != i && o < m && m - o < left)
						left = m - o;
					if (k != i && o >= m && o - m < right && (o > m || k > i))
						right = o - m;
				}
				if (c < m && m - c < left)
					left = m - c;
				if (c >= m && c - m < right)
					right = c - m;
				sg = fmin(fmax(fmax(left, right), range * minbw), range);
			}

			P->mu[i * nd + j] = m;
			P->inv[i * nd + j] = 1 / sg;
			if (d->ncat) {
				/* A prior component spreads evenly; the others as Optuna smooths. */
				if (i == n)
					P->base[i] -= log(d->ncat);
				continue;
			}
			if (d->bounded)
				P->logz[i * nd + j] = log(fmax(phi_cdf((1 - m) / sg) - phi_cdf(-m / sg),
				    1e-300));
			P->base[i] += -log(sg) - 0.5 * log(2 * M_PI) - P->logz[i * nd + j];
		}
	}
}

static void
parzen_release(struct parzen *P)
{
	free(P->mu);
	free(P->logz);
	free(P->inv);
	free(P->sigma);
	free(P->base);
	free(P->lp);
}

/* log density of P at the normalised point u. */
static double
parzen_logpdf(const struct parzen *P, const struct dims *D, const double *u)
{
	int nd = D->n;
	double best = -DBL_MAX, sum = 0;

	for (int i = 0; i < P->n; i++) {
		double l = P->base[i];
		const double *mu = P->mu + (size_t)i * nd, *inv = P->inv + (size_t)i * nd;

		for (int j = 0; j < nd; j++) {
			const struct hp_dim *d = &D->d[j];

			if (d->ncat) {
				if (i < P->n - 1)
					l += log(((u[j] == mu[j]) + TPE_PRIOR_WEIGHT / d->ncat) /
					    (1 + TPE_PRIOR_WEIGHT));
			} else {
				double z = (u[j] - mu[j]) * inv[j];

				l -= 0.5 * z * z;
			}
		}
		P->lp[i] = l;
		if (l > best)
			best = l;
	}
	for (int i = 0; i < P->n; i++)
		sum += exp(P->lp[i] - best);
	return best + log(sum);
}

/* Draw a normalised point from P into u. */
static void
parzen_sample(const struct parzen *P, const struct dims *D, struct rng *r, double *u)
{
	int i = (int)rng_below(r, (uint64_t)P->n), nd = D->n;
	int prior = i == P->n - 1;

	for (int j = 0; j < nd; j++) {
		const struct hp_dim *d = &D->d[j];
		double m = P->mu[i * nd + j];

		if (d->ncat) {
			double pick = rng_uniform(r) * (1 + TPE_PRIOR_WEIGHT);

			u[j] = prior || pick >= 1 ? (double)rng_below(r, (uint64_t)d->ncat) : m;
		} else {
			double sg = 1 / P->inv[i * nd + j], v = m;

			for (int t = 0; t < 100; t++) {
				v = m + sg * rng_normal(r);
				if (!d->bounded || (v >= 0 && v <= 1))
					break;
			}
			u[j] = d->bounded ? fmin(fmax(v, 0), 1) : v;
		}
	}
}

static int
cmp_loss(const void *a, const void *b)
{
	const struct search_point *p = *(struct search_point *const *)a;
	const struct search_point *q = *(struct search_point *const *)b;

	return p->loss < q->loss ? -1 : p->loss > q->loss;
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

static int
tpe_point(struct search *s, const struct dims *D, double *x)
{
	struct search_point **done = xmalloc((size_t)s->npt * sizeof(*done));
	struct search_point **bad = xmalloc((size_t)s->npt * sizeof(*bad));
	int nd = 0, nb = 0, ngood, found = -1;
	double *u = xcalloc((size_t)D->n + 1, sizeof(double));
	double *cand = xcalloc((size_t)TPE_CANDIDATES * (D->n + 1), sizeof(double));
	double *score = xcalloc(TPE_CANDIDATES, sizeof(double)), *cx;
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
	parzen_build(&good, D, done, ngood);
	parzen_build(&worse, D, bad, nb);
	for (int c = 0; c < TPE_CANDIDATES; c++) {
		double *cu = cand + (size_t)c * (D->n + 1);

		parzen_sample(&good, D, &s->rng, cu);
		score[c] = parzen_logpdf(&good, D, cu) - parzen_logpdf(&worse, D, cu);
	}
	cx = xmalloc((size_t)TPE_CANDIDATES * (s->sp->n + 1) * sizeof(double));
	for (int c = 0; c < TPE_CANDIDATES; c++)
		unit_to_x(D, cand + (size_t)c * (D->n + 1), cx + (size_t)c * (s->sp->n + 1), s->sp->n);
	found = best_untried(s, score, cx, TPE_CANDIDATES, x);
	free(cx);
	parzen_release(&good);
	parzen_release(&worse);
	free(done);
	free(bad);
	free(u);
	free(cand);
	free(score);
	return found < 0 ? random_point(s, x) : 0;
}

/* ---- Gaussian process ---- */

struct gp {
	int n, p;
	double *X, *y;		/* n x p features, n targets */
	double *L, *alpha;	/* Cholesky factor of K + noise, K^-1 y */
	double *ls, noise;	/* lengthscale per feature, noise variance */
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

static double
matern52(const double *a, const double *b, const double *ls, int p)
{
	double r2 = 0, r;

	for (int i = 0; i < p; i++) {
		double t = (a[i] - b[i]) / ls[i];

		r2 += t * t;
	}
	r = sqrt(5 * r2);
	return (1 + r + r * r / 3) * exp(-r);
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

/* Factor the kernel matrix; return the log marginal likelihood (-inf when it fails). */
static double
gp_factor(struct gp *g)
{
	int n = g->n;
	double *tmp = xmalloc((size_t)n * sizeof(double)), lml = 0;

	for (int i = 0; i < n; i++)
		for (int j = 0; j <= i; j++) {
			double k = matern52(g->X + (size_t)i * g->p, g->X + (size_t)j * g->p, g->ls, g->p);

			g->L[i * n + j] = k + (i == j ? g->noise + 1e-8 : 0);
		}
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

/* Choose the lengthscales and noise by marginal likelihood, and factor with them. */
static void
gp_fit(struct gp *g)
{
	static const double lss[] = { 0.1, 0.2, 0.35, 0.6, 1.0 };
	static const double noises[] = { 1e-6, 1e-3, 1e-2, 1e-1 };
	double best = -INFINITY, bls = 0.35, bnoise = 1e-3, *ls0 = xmalloc((size_t)g->p * sizeof(double));

	for (size_t a = 0; a < sizeof(lss) / sizeof(lss[0]); a++)
		for (size_t b = 0; b < sizeof(noises) / sizeof(noises[0]); b++) {
			double l;

			for (int i = 0; i < g->p; i++)
				g->ls[i] = lss[a];
			g->noise = noises[b];
			l = gp_factor(g);
			if (l > best)
				best = l, bls = lss[a], bnoise = noises[b];
		}
	for (int i = 0; i < g->p; i++)
		g->ls[i] = ls0[i] = bls;
	g->noise = bnoise;
	/* Then one lengthscale per feature, a factor of 2 at a time (ARD). */
	for (int round = 0; round < 2 && g->p > 1; round++)
		for (int i = 0; i < g->p; i++)
			for (int dir = 0; dir < 2; dir++) {
				double old = g->ls[i], l;

				g->ls[i] = fmin(fmax(old * (dir ? 2 : 0.5), 0.03), 20);
				l = gp_factor(g);
				if (l > best)
					best = l, ls0[i] = g->ls[i];
				else
					g->ls[i] = old;
			}
	memcpy(g->ls, ls0, (size_t)g->p * sizeof(double));
	free(ls0);
	gp_factor(g);
}

/* Posterior mean and standard deviation at features f; work holds 2n doubles. */
static void
gp_predict(const struct gp *g, const double *f, double *work, double *mu, double *sd)
{
	double m = 0, v = 1;

	for (int i = 0; i < g->n; i++) {
		work[i] = matern52(f, g->X + (size_t)i * g->p, g->ls, g->p);
		m += work[i] * g->alpha[i];
	}
	lsolve(g->L, g->n, work, work + g->n);
	for (int i = 0; i < g->n; i++)
		v -= work[g->n + i] * work[g->n + i];
	*mu = m;
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

	for (int i = 0; i < 60; i++) {
		double mid = (lo + hi) / 2;

		if (phi_cdf(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/*
 * Targets for the GP: ranks mapped through the normal quantiles (a
 * copula), so that a few very bad results do not flatten the rest.
 */
static void
gp_targets(double *y, const double *loss, int n)
{
	for (int i = 0; i < n; i++) {
		double below = 0, same = 0;

		for (int j = 0; j < n; j++)
			below += loss[j] < loss[i], same += loss[j] == loss[i];
		y[i] = phi_inv((below + same / 2) / n);
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
			*v = fmin(fmax(*v + scale * (d->hi - d->lo) * rng_normal(&s->rng), d->lo), d->hi);
		} else {
			*v += scale * d->sigma * rng_normal(&s->rng);
		}
	}
}

static int
gp_point(struct search *s, const struct dims *D, double *x)
{
	struct search_point **use = xmalloc((size_t)s->npt * sizeof(*use)), **done;
	int n = 0, nd = 0, p = nfeatures(D), ncand = GP_RANDOM + GP_LOCAL, found = -1;
	double worst = -DBL_MAX, bestloss = DBL_MAX, ybest = DBL_MAX, *loss, *work, *ei, *cx;
	struct gp g = { 0 };

	done = xmalloc((size_t)s->npt * sizeof(*done));
	for (int i = 0; i < s->npt; i++)
		if (!s->pt[i].pending) {
			done[nd++] = &s->pt[i];
			worst = fmax(worst, s->pt[i].loss);
			bestloss = fmin(bestloss, s->pt[i].loss);
		}
	/* Past the cap: the best half and the latest others. */
	if (nd > GP_MAX_POINTS) {
		struct search_point **sorted = xmalloc((size_t)nd * sizeof(*sorted));
		double cut;

		memcpy(sorted, done, (size_t)nd * sizeof(*sorted));
		qsort(sorted, (size_t)nd, sizeof(*sorted), cmp_loss);
		cut = sorted[GP_MAX_POINTS / 2 - 1]->loss;
		free(sorted);
		for (int i = 0; i < nd && n < GP_MAX_POINTS / 2; i++)
			if (done[i]->loss <= cut)
				use[n++] = done[i];
		for (int i = nd - 1; i >= 0 && n < GP_MAX_POINTS; i--)
			if (done[i]->loss > cut)
				use[n++] = done[i];
	} else {
		memcpy(use, done, (size_t)nd * sizeof(*use));
		n = nd;
	}
	for (int i = 0; i < s->npt && n < GP_MAX_POINTS + 64; i++)
		if (s->pt[i].pending)
			use[n++] = &s->pt[i];
	g.n = n, g.p = p;
	g.X = xmalloc((size_t)n * p * sizeof(double));
	g.y = xmalloc((size_t)n * sizeof(double));
	g.L = xmalloc((size_t)n * n * sizeof(double));
	g.alpha = xmalloc((size_t)n * sizeof(double));
	g.ls = xmalloc((size_t)p * sizeof(double));
	loss = xmalloc((size_t)n * sizeof(double));
	for (int i = 0; i < n; i++) {
		features(D, use[i]->x, g.X + (size_t)i * p);
		/* The constant liar: a pending point looks as bad as the worst result. */
		loss[i] = use[i]->pending ? worst : use[i]->loss;
	}
	gp_targets(g.y, loss, n);
	for (int i = 0; i < n; i++)
		if (!use[i]->pending)
			ybest = fmin(ybest, g.y[i]);
	gp_fit(&g);

	work = xmalloc((size_t)(2 * n + p + 1) * sizeof(double));
	ei = xmalloc((size_t)ncand * sizeof(double));
	cx = xmalloc((size_t)ncand * (s->sp->n + 1) * sizeof(double));
	{
		/* Candidates: random ones, then steps around the best points. */
		struct search_point **top = xmalloc((size_t)nd * sizeof(*top));

		memcpy(top, done, (size_t)nd * sizeof(*top));
		qsort(top, (size_t)nd, sizeof(*top), cmp_loss);
		for (int c = 0; c < ncand; c++) {
			double *xc = cx + (size_t)c * (s->sp->n + 1), mu, sd;

			if (c < GP_RANDOM) {
				for (int k = 0; k < s->sp->n; k++)
					xc[k] = hparam_sample(&s->sp->hp[k], &s->rng);
			} else {
				int t = (c - GP_RANDOM) % 5;

				memcpy(xc, top[t < nd ? t : 0]->x, (size_t)s->sp->n * sizeof(double));
				perturb(s, D, xc, (c - GP_RANDOM) < GP_LOCAL / 2 ? 0.1 : 0.02);
			}
			features(D, xc, work + 2 * n);
			gp_predict(&g, work + 2 * n, work, &mu, &sd);
			ei[c] = expected_improvement(ybest, mu, sd);
		}
		free(top);
	}
	found = best_untried(s, ei, cx, ncand, x);
	free(use);
	free(done);
	free(loss);
	free(work);
	free(ei);
	free(cx);
	free(g.X);
	free(g.y);
	free(g.L);
	free(g.alpha);
	free(g.ls);
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

static int
dgd_point(struct search *s, const struct dims *D, double *x)
{
	double bestmean = DBL_MAX, *best = NULL, *nb;
	int nn = 0, maxc = 0, total = 0, *count;

	if (s->ndone == 0) {
		for (int k = 0; k < s->sp->n; k++)
			x[k] = hparam_sample(&s->sp->hp[k], &s->rng);
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
			const struct hp_dim *d = &D->d[j];
			double v = round(best[D->hp[j]]) + dir;
			double lo = d->ncat ? 0 : d->lo + 0.5, hi = d->ncat ? d->ncat - 1 : d->hi - 0.5;

			if (v < lo || v > hi)
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
			rc = dgd_point(s, &D, x);
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
	dims_release(&D);
	free(x);
	return made;
}
