/*
 * Unit tests of search spaces: the generator's stream, each distribution's
 * range and shape by statistics over many samples, grid size and order,
 * reproducibility by seed, bad specs, XT's list of one distribution, and
 * DGD's order of a list's settings.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "space.h"
#include "util.h"

#define N 40000

struct stats {
	double min, max, mean, sd, lmean, lsd;	/* lmean, lsd: of log(value) */
	int whole;				/* every value a whole number */
	int multiple;				/* every value a multiple of q */
};

/* Sample hparam "x" of spec n times. */
static void
sample(const char *spec, double q, struct stats *st)
{
	struct space sp;
	struct rng r;
	char err[512];
	double s = 0, s2 = 0, l = 0, l2 = 0;

	space_init(&sp);
	if (space_add(&sp, "x", spec, "test", err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		memset(st, 0, sizeof(*st));
		return;
	}
	rng_seed(&r, 7);
	st->min = INFINITY, st->max = -INFINITY, st->whole = st->multiple = 1;
	for (int i = 0; i < N; i++) {
		cJSON *o = space_sample(&sp, &r);
		double v = cJSON_GetObjectItem(o, "x")->valuedouble;

		st->min = fmin(st->min, v), st->max = fmax(st->max, v);
		s += v, s2 += v * v;
		if (v > 0)
			l += log(v), l2 += log(v) * log(v);
		st->whole &= v == floor(v);
		if (q > 0)
			st->multiple &= fabs(v / q - round(v / q)) < 1e-9;
		cJSON_Delete(o);
	}
	st->mean = s / N, st->sd = sqrt(s2 / N - st->mean * st->mean);
	st->lmean = l / N, st->lsd = sqrt(fmax(l2 / N - st->lmean * st->lmean, 0));
	space_release(&sp);
}

/* Share of the samples of spec equal to the JSON value want. */
static double
share(const char *spec, const char *want)
{
	struct space sp;
	struct rng r;
	char err[512];
	cJSON *w = cJSON_Parse(want);
	int hit = 0;

	space_init(&sp);
	if (space_add(&sp, "x", spec, "test", err, sizeof(err)) < 0)
		printf("# %s\n", err);
	rng_seed(&r, 11);
	for (int i = 0; i < N && sp.n; i++) {
		cJSON *o = space_sample(&sp, &r);

		hit += cJSON_Compare(cJSON_GetObjectItem(o, "x"), w, 1);
		cJSON_Delete(o);
	}
	cJSON_Delete(w);
	space_release(&sp);
	return (double)hit / N;
}

static int
near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

/* Does spec fail with a message holding want? */
static int
bad_spec(const char *spec, const char *want)
{
	struct space sp;
	char err[512] = "";
	int ok;

	space_init(&sp);
	ok = space_add(&sp, "x", spec, "here", err, sizeof(err)) < 0 && strstr(err, want) &&
	    strstr(err, spec);
	if (!ok)
		printf("# spec '%s' gave '%s'\n", spec, err);
	space_release(&sp);
	return ok;
}

static char *
grid_line(const struct space *sp, uint64_t i)
{
	struct rng r;
	cJSON *o;
	char *s;

	rng_seed(&r, 1);
	o = space_grid_point(sp, i, &r);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* Does loading a file of text fail with an error that says want? */
static int
load_fails(const char *path, const char *text, const char *want)
{
	struct space sp;
	char err[512] = "";
	FILE *fp = fopen(path, "w");
	int ok;

	if (!fp)
		return 0;
	fputs(text, fp);
	fclose(fp);
	space_init(&sp);
	ok = space_load(&sp, path, err, sizeof(err)) < 0 && strstr(err, want);
	if (!ok)
		printf("# '%s' gave '%s'\n", text, err);
	space_release(&sp);
	return ok;
}

int
main(void)
{
	struct stats st;
	struct rng a, b;
	struct space sp;
	char err[512], path[] = "/tmp/u-space.XXXXXX", *s;
	int same = 1, fd, order[9];
	FILE *fp;

	/* The stream is xoshiro256** seeded by splitmix64: the same on every machine. */
	rng_seed(&a, 0);
	CHECK(rng_next(&a) == 0x99ec5f36cb75f2b4ULL);
	CHECK(rng_next(&a) == 0xbf6e1f784956452aULL);
	rng_seed(&a, 42);
	CHECK(rng_next(&a) == 0x15780b2e0c2ec716ULL);
	rng_seed(&a, 5), rng_seed(&b, 5);
	for (int i = 0; i < 1000; i++)
		same &= rng_uniform(&a) == rng_uniform(&b);
	CHECK(same);
	rng_seed(&b, 6);
	CHECK(rng_next(&a) != rng_next(&b));

	sample("$uniform(2, 5)", 0, &st);
	CHECK(st.min >= 2 && st.max <= 5 && st.min < 2.01 && st.max > 4.99);
	CHECK(near(st.mean, 3.5, 0.02) && near(st.sd, 3 / sqrt(12), 0.01));
	sample("$loguniform(1e-4, 1e-1)", 0, &st);
	CHECK(st.min >= 1e-4 && st.max <= 0.1);
	CHECK(near(st.lmean, (log(1e-4) + log(0.1)) / 2, 0.03));
	CHECK(near(st.lsd, (log(0.1) - log(1e-4)) / sqrt(12), 0.02));
	sample("$normal(3, 2)", 0, &st);
	CHECK(near(st.mean, 3, 0.03) && near(st.sd, 2, 0.03));
	CHECK(st.min < 3 - 6 && st.max > 3 + 6);
	sample("$lognormal(0, 0.5)", 0, &st);
	CHECK(st.min > 0 && near(st.lmean, 0, 0.01) && near(st.lsd, 0.5, 0.01));
	sample("$quniform(0, 10, 2.5)", 2.5, &st);
	CHECK(st.multiple && st.min == 0 && st.max == 10 && near(st.mean, 5, 0.05));
	/* The ends get half a step each, the middle values a whole one. */
	CHECK(near(share("$quniform(0, 10, 2.5)", "0"), 0.125, 0.01));
	CHECK(near(share("$quniform(0, 10, 2.5)", "5"), 0.25, 0.01));
	sample("$qloguniform(1, 100, 1)", 1, &st);
	CHECK(st.whole && st.min >= 1 && st.max <= 100);
	CHECK(near(st.lmean, log(100) / 2, 0.05));
	sample("$qnormal(10, 3, 1)", 1, &st);
	CHECK(st.whole && near(st.mean, 10, 0.05) && near(st.sd, sqrt(9 + 1.0 / 12), 0.05));
	sample("$qlognormal(1, 0.3, 0.5)", 0.5, &st);
	CHECK(st.multiple && st.min >= 0 && near(st.mean, exp(1 + 0.045), 0.05));
	sample("$randint(1, 4)", 0, &st);
	CHECK(st.whole && st.min == 1 && st.max == 3);
	CHECK(near(share("$randint(1, 4)", "1"), 1.0 / 3, 0.01));
	CHECK(near(share("$randint(1, 4)", "3"), 1.0 / 3, 0.01));
	sample("$randint(10)", 0, &st);
	CHECK(st.whole && st.min == 0 && st.max == 9 && near(st.mean, 4.5, 0.05));
	sample("$randint()", 0, &st);
	CHECK(st.whole && st.min >= 0 && st.max <= 65534 && near(st.mean, 65534 / 2.0, 300));
	CHECK(near(share("$choice(adam, sgd)", "\"adam\""), 0.5, 0.01));
	CHECK(near(share("$choice(adam, 'sgd, fast')", "\"sgd, fast\""), 0.5, 0.01));
	CHECK(near(share("[32, 64, 128]", "64"), 1.0 / 3, 0.01));
	CHECK(near(share("[true, false]", "true"), 0.5, 0.01));
	CHECK(share("$linspace(0, 1, 5)", "0.25") > 0.18);
	CHECK(near(share("$linspace(0, 1, 5)", "1"), 0.2, 0.01));
	CHECK(share("10", "10") == 1 && share("adam", "\"adam\"") == 1);

	/* Grid: the last hparam fastest; continuous ones sampled. */
	space_init(&sp);
	CHECK(space_add_arg(&sp, "a=[1,2,3]", err, sizeof(err)) == 0);
	CHECK(space_add_arg(&sp, "b=$choice(x, y)", err, sizeof(err)) == 0);
	CHECK(space_add_arg(&sp, "c=7", err, sizeof(err)) == 0);
	CHECK(space_grid_size(&sp) == 6);
	s = grid_line(&sp, 0), CHECK(!strcmp(s, "{\"a\":1,\"b\":\"x\",\"c\":7}")), free(s);
	s = grid_line(&sp, 1), CHECK(!strcmp(s, "{\"a\":1,\"b\":\"y\",\"c\":7}")), free(s);
	s = grid_line(&sp, 2), CHECK(!strcmp(s, "{\"a\":2,\"b\":\"x\",\"c\":7}")), free(s);
	s = grid_line(&sp, 5), CHECK(!strcmp(s, "{\"a\":3,\"b\":\"y\",\"c\":7}")), free(s);
	CHECK(space_add_arg(&sp, "d=$linspace(0,1,4)", err, sizeof(err)) == 0);
	CHECK(space_add_arg(&sp, "e=$uniform(0,1)", err, sizeof(err)) == 0);
	CHECK(space_grid_size(&sp) == 24);
	CHECK(space_size(&sp) == UINT64_MAX);	/* e takes a continuum */
	space_release(&sp);

	/* Distinct configurations of a finite space: choices, $randint, bounded q-distributions. */
	space_init(&sp);
	CHECK(space_add_arg(&sp, "a=[1,2,3]", err, sizeof(err)) == 0);
	CHECK(space_add_arg(&sp, "c=7", err, sizeof(err)) == 0);
	CHECK(space_size(&sp) == 3);
	CHECK(space_add_arg(&sp, "r=$randint(2, 6)", err, sizeof(err)) == 0);
	CHECK(space_size(&sp) == 12 && space_grid_size(&sp) == 3);
	CHECK(space_add_arg(&sp, "q=$quniform(0, 1, 0.25)", err, sizeof(err)) == 0);
	CHECK(space_size(&sp) == 60);
	CHECK(space_add_arg(&sp, "n=$qnormal(0, 1, 1)", err, sizeof(err)) == 0);
	CHECK(space_size(&sp) == UINT64_MAX);
	space_release(&sp);
	space_init(&sp);
	CHECK(space_add_arg(&sp, "a=[1,2,3]", err, sizeof(err)) == 0);
	CHECK(space_add_arg(&sp, "a=[4]", err, sizeof(err)) < 0 && strstr(err, "given twice"));
	/* DGD's settings: sorted, each value once, at its first place in the list. */
	CHECK(space_add_arg(&sp, "s=[0.3, b, 0.1, true, null, 0.3, a, 3e-1, b]", err,
	    sizeof(err)) == 0);
	CHECK(hparam_settings(&sp.hp[1], order) == 6);
	CHECK(order[0] == 4 && order[1] == 3 && order[2] == 2 && order[3] == 0 && order[4] == 6 &&
	    order[5] == 1);
	CHECK(space_add_arg(&sp, "bad/name=1", err, sizeof(err)) < 0 && strstr(err, "bad/name"));
	CHECK(space_add_arg(&sp, "noequals", err, sizeof(err)) < 0 && strstr(err, "NAME=SPEC"));
	space_release(&sp);

	CHECK(bad_spec("$uniform(1)", "takes 2 numbers"));
	CHECK(bad_spec("$uniform(2, 1)", "low must be below high"));
	CHECK(bad_spec("$loguniform(0, 1)", "0 < low < high"));
	CHECK(bad_spec("$normal(0, -1)", "sigma must be above 0"));
	CHECK(bad_spec("$quniform(0, 1, 0)", "q must be above 0"));
	CHECK(bad_spec("$randint(1.5, 3)", "whole numbers"));
	CHECK(bad_spec("$randint(3, 3)", "low < high"));
	CHECK(bad_spec("$linspace(0, 1, 0)", "count '0'"));
	CHECK(bad_spec("$gauss(0, 1)", "unknown distribution '$gauss'"));
	CHECK(bad_spec("$uniform(0, x)", "'x' is not a number"));
	CHECK(bad_spec("$uniform(0, 1", "expected $uniform(low, high)"));
	CHECK(bad_spec("[1, 2", "must end with ']'"));
	CHECK(bad_spec("[]", "empty"));
	CHECK(bad_spec("[1,,2]", "an empty value"));
	CHECK(bad_spec("$choice()", "empty"));
	CHECK(bad_spec("[1, $linspace(0, 1, 3)]", "'$linspace(0, 1, 3)' must be alone in '[...]'"));
	CHECK(bad_spec("[$linspace(0, 1)]", "$linspace takes 3 numbers"));

	/* XT's "[$linspace(a, b, n)]": a list whose one value is a distribution is that distribution. */
	space_init(&sp);
	CHECK(space_add_arg(&sp, "l=[$linspace(.1, .9, 5)]", err, sizeof(err)) == 0);
	CHECK(sp.n == 1 && sp.hp[0].kind == HP_CHOICE && sp.hp[0].nvalues == 5);
	CHECK(sp.n == 1 && cJSON_GetArrayItem(sp.hp[0].values, 2)->valuedouble == 0.5);
	CHECK(space_add_arg(&sp, "r=[ $randint() ]", err, sizeof(err)) == 0);
	CHECK(sp.n == 2 && sp.hp[1].kind == HP_RANDINT && sp.hp[1].b == 65535);
	CHECK(space_add_arg(&sp, "q=['$linspace(1, 2, 3)', \"$x\"]", err, sizeof(err)) == 0);
	CHECK(sp.n == 3 && sp.hp[2].nvalues == 2 &&
	    !strcmp(cJSON_GetArrayItem(sp.hp[2].values, 0)->valuestring, "$linspace(1, 2, 3)"));
	space_release(&sp);

	/* YAML: XT's hp-config, and its errors with FILE:LINE. */
	fd = mkstemp(path);
	fp = fdopen(fd, "w");
	fputs("# sweep\nhyperparameter-distributions:\n  lr: $loguniform(1e-4, 1e-1)\n"
	    "  bs: [32, 64, 128]\n  opt:\n    - adam\n    - 'sgd'\n  epochs: 200\n"
	    "  tag: '0.5'\nother: 1\n", fp);
	fclose(fp);
	space_init(&sp);
	CHECK(space_load(&sp, path, err, sizeof(err)) == 0);
	CHECK(sp.n == 5 && sp.hp[0].kind == HP_LOGUNIFORM && sp.hp[1].nvalues == 3);
	CHECK(sp.n == 5 && sp.hp[2].kind == HP_CHOICE && sp.hp[3].kind == HP_FIXED);
	CHECK(sp.n == 5 && cJSON_IsString(cJSON_GetArrayItem(sp.hp[4].values, 0)));
	CHECK(space_grid_size(&sp) == 6);
	space_release(&sp);
	CHECK(load_fails(path, "hyperparameter-distributions:\n  lr: [1, 2]\n\n  m: $uniform(1, 0)\n",
	    ":4: hparam 'm': bad spec '$uniform(1, 0)'"));
	/* The same in YAML, which splits a flow list at its commas. */
	fp = fopen(path, "w");
	fputs("hyperparameter-distributions:\n  l: [$linspace(.1, .9, 5)]\n  m:\n"
	    "    - $linspace(1, 2, 3)\n  s: [\"$linspace(1, 2, 3)\", 1]\n", fp);
	fclose(fp);
	space_init(&sp);
	CHECK(space_load(&sp, path, err, sizeof(err)) == 0);
	CHECK(sp.n == 3 && sp.hp[0].nvalues == 5 && sp.hp[1].nvalues == 3 && sp.hp[2].nvalues == 2);
	space_release(&sp);
	CHECK(load_fails(path, "hyperparameter-distributions:\n  m:\n    - 1\n    - $linspace(1, 2, 3)\n",
	    ":4: hparam 'm': '$linspace(1, 2, 3)' must be alone in the list"));
	CHECK(load_fails(path, "hyperparameter-distributions:\n  lr: {a: 1}\n", ":2: hparam 'lr'"));
	CHECK(load_fails(path, "hparams:\n  lr: 1\n", "no 'hyperparameter-distributions:'"));
	unlink(path);
	space_init(&sp);
	CHECK(space_load(&sp, path, err, sizeof(err)) < 0 && strstr(err, "cannot read"));
	space_release(&sp);
	return check_done();
}
