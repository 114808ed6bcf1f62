/*
 * Unit tests of ask/tell search: the history's bad lines, pending runs,
 * proposals never repeated, the Bayesian methods against random search on
 * a known function, replay by seed, DGD's neighbourhood, TPE's kernel
 * widths, the GP's subset of a long history, and the GP under noise.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "search.h"
#include "util.h"

static void
space_of(struct space *sp, const char *a, const char *b)
{
	char err[256];

	space_init(sp);
	if (space_add_arg(sp, a, err, sizeof(err)) < 0 ||
	    (b && space_add_arg(sp, b, err, sizeof(err)) < 0))
		printf("# %s\n", err);
}

/* Read text as history: the search_read result, err filled. */
static int
read_text(struct search *s, const char *text, char *err, size_t len)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc = search_read(s, fp, "h", err, len);

	fclose(fp);
	return rc;
}

/* f(x, y) = (x - 0.3)^2 + (y - 0.7)^2 on [0, 1]^2 */
static double
bowl(const cJSON *o)
{
	double x = cJSON_GetObjectItem(o, "x")->valuedouble, y = cJSON_GetObjectItem(o, "y")->valuedouble;

	return (x - 0.3) * (x - 0.3) + (y - 0.7) * (y - 0.7);
}

/* Best f after n ask/tell rounds of algo with seed; each round a fresh search fed the history. */
static double
optimise(enum search_algo algo, uint64_t seed, int n)
{
	struct space sp;
	struct search s;
	char err[256];
	double best = INFINITY;
	cJSON *hist = cJSON_CreateArray();

	space_of(&sp, "x=$uniform(0,1)", "y=$uniform(0,1)");
	for (int i = 0; i < n; i++) {
		cJSON *out = cJSON_CreateArray(), *rec = cJSON_CreateObject();
		cJSON *m = cJSON_CreateObject(), *pt;
		char name[32];

		search_init(&s, &sp, "f", 0, seed * 1000 + (uint64_t)i);
		for (cJSON *r = hist->child; r; r = r->next)
			search_add(&s, r, err, sizeof(err));
		search_next(&s, algo, 1, out, err, sizeof(err));
		search_release(&s);
		pt = cJSON_DetachItemFromArray(out, 0);
		cJSON_Delete(out);
		best = fmin(best, bowl(pt));
		snprintf(name, sizeof(name), "run%d", i + 1);
		cJSON_AddStringToObject(rec, "run", name);
		cJSON_AddStringToObject(rec, "status", "completed");
		cJSON_AddNumberToObject(m, "f", bowl(pt));
		cJSON_AddItemToObject(rec, "hparams", pt);
		cJSON_AddItemToObject(rec, "metrics", m);
		cJSON_AddItemToArray(hist, rec);
	}
	cJSON_Delete(hist);
	space_release(&sp);
	return best;
}

static char *
next_line(const struct space *sp, const char *hist, enum search_algo algo, int k, uint64_t seed,
    int *made)
{
	struct search s;
	char err[256];
	cJSON *out = cJSON_CreateArray();
	char *txt;

	search_init(&s, sp, "acc", 1, seed);
	read_text(&s, hist, err, sizeof(err));
	*made = search_next(&s, algo, k, out, err, sizeof(err));
	if (*made < 0)
		printf("# %s\n", err);
	txt = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	search_release(&s);
	return txt;
}

/* A history of n completed runs of the bowl at random points (seeded), and pending ones. */
static char *
bowl_history(int n, int pending, uint64_t seed)
{
	struct sbuf b;
	struct rng r;

	sbuf_init(&b, SBUF_MAX_DEFAULT);
	rng_seed(&r, seed);
	for (int i = 0; i < n + pending; i++) {
		double x = rng_uniform(&r), y = rng_uniform(&r);

		sbuf_addf(&b, "{\"run\":\"run%d\",\"status\":\"%s\",\"hparams\":{\"x\":%.17g,"
		    "\"y\":%.17g},\"metrics\":{\"f\":%.17g}}\n", i + 1, i < n ? "completed" : "running",
		    x, y, (x - 0.3) * (x - 0.3) + (y - 0.7) * (y - 0.7));
	}
	return sbuf_detach(&b, NULL);
}

/* TPE's widths: the wider neighbour gap, the ends their inner gap, clipped. */
static void
test_widths(void)
{
	double c[4] = { 0.1, 0.5, 0.2, 0.9 }, w[200], one = 0.4, two[2] = { 0, 5 };
	int ok = 1;

	search_tpe_widths(c, 4, 0, 1, w);
	CHECK(fabs(w[0] - 0.2) < 1e-12 && fabs(w[1] - 0.4) < 1e-12 && fabs(w[2] - 0.3) < 1e-12 &&
	    fabs(w[3] - 0.4) < 1e-12);
	search_tpe_widths(c, 4, 0, 1, c);	/* in place */
	CHECK(fabs(c[0] - 0.2) < 1e-12 && fabs(c[2] - 0.3) < 1e-12);
	search_tpe_widths(&one, 1, 0, 3, &one);
	CHECK(one == 3);
	search_tpe_widths(two, 2, 0, 2, two);
	CHECK(two[0] == 2 && two[1] == 2);
	/* 200 centres 0.001 apart: every width clipped to range / 100. */
	for (int i = 0; i < 200; i++)
		w[i] = (double)((i * 37) % 200) / 1000;
	search_tpe_widths(w, 200, 0, 1, w);
	for (int i = 0; i < 200; i++)
		ok &= fabs(w[i] - 0.01) < 1e-12;
	CHECK(ok);
	/*
	 * Three centres close together: Optuna's floor (range / 4) without a
	 * clip or a smaller one, range / clip above 4, at most range / 100.
	 */
	for (int clip = 0; clip <= 1000; clip += clip < 10 ? 1 : 50) {
		double d[3] = { 0.5, 0.503, 0.51 };
		double want = clip <= 4 ? 0.25 : clip < 100 ? 1.0 / clip : 0.01;

		search_tpe_widths(d, 3, clip, 1, d);
		ok = fabs(d[0] - want) < 1e-12 && fabs(d[1] - fmax(0.007, want)) < 1e-12 &&
		    fabs(d[2] - fmax(0.007, want)) < 1e-12;
		if (!ok)
			fprintf(stderr, "clip %d: %g %g %g, want %g\n", clip, d[0], d[1], d[2], want);
		CHECK(ok);
	}
}

/* The GP's subset: the best half, a seeded sample of the rest, all when few. */
static void
test_subset(void)
{
	int a[100], b[100], c[100], ok = 1, same = 1;
	struct rng r;

	rng_seed(&r, 1);
	CHECK(search_subset(80, 100, &r, a) == 80 && a[0] == 0 && a[79] == 79);
	rng_seed(&r, 7);
	CHECK(search_subset(1000, 100, &r, a) == 100);
	for (int i = 0; i < 100; i++)
		ok &= i < 50 ? a[i] == i : a[i] >= 50 && a[i] < 1000 && a[i] > a[i - 1];
	CHECK(ok);
	/* Spread over the rest, not the next best ones. */
	CHECK(a[99] > 700 && a[50] < 300);
	rng_seed(&r, 7);
	search_subset(1000, 100, &r, b);
	rng_seed(&r, 8);
	search_subset(1000, 100, &r, c);
	for (int i = 0; i < 100; i++)
		same &= a[i] == c[i];
	CHECK(!memcmp(a, b, sizeof(a)) && !same);
}

/* k proposals of algo from hist (metric f, min) with seed, as text; caller frees. */
static char *
propose_f(const struct space *sp, const char *hist, enum search_algo algo, int k, uint64_t seed,
    int *made, double *fbest)
{
	struct search s;
	char err[256], *txt;
	cJSON *out = cJSON_CreateArray(), *o;

	search_init(&s, sp, "f", 0, seed);
	read_text(&s, hist, err, sizeof(err));
	*made = s.ndone == 400 && s.npt == 403 ? search_next(&s, algo, k, out, err, sizeof(err)) : -1;
	*fbest = INFINITY;
	cJSON_ArrayForEach(o, out)
		*fbest = fmin(*fbest, bowl(o));
	txt = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	search_release(&s);
	return txt;
}

/* A long history (past the GP's subset): reproducible, distinct, and near the bowl's bottom. */
static void
test_long_history(void)
{
	struct space sp;
	char *hist = bowl_history(400, 3, 11), *a, *b;
	int made, made2;
	double fa, fb;

	space_of(&sp, "x=$uniform(0,1)", "y=$uniform(0,1)");
	for (int algo = SEARCH_TPE; algo <= SEARCH_GP; algo++) {
		a = propose_f(&sp, hist, algo, 3, 5, &made, &fa);
		b = propose_f(&sp, hist, algo, 3, 5, &made2, &fb);
		CHECK(made == 3 && made2 == 3 && !strcmp(a, b));
		printf("# %s: best of 3 proposals %g\n", algo == SEARCH_TPE ? "tpe" : "gp", fa);
		/* 400 random points leave about 0.001; a model-guided point does better than 0.01. */
		CHECK(fa < 0.01);
		free(a), free(b);
		b = propose_f(&sp, hist, algo, 3, 6, &made, &fb);
		CHECK(made == 3 && fb < 0.01);
		free(b);
	}
	free(hist);
	space_release(&sp);
}

/*
 * Noise: 59 results of the bowl plus normal noise (sd 0.03), and one lucky
 * result far from the bottom, the best of all. The GP improves on its best
 * posterior mean, so it does not chase the lucky one, seed after seed.
 */
static void
test_lucky_result(void)
{
	struct space sp;
	struct sbuf b;
	struct rng r;
	char *hist, *txt;
	int made, near = 0;

	space_of(&sp, "x=$uniform(0,1)", "y=$uniform(0,1)");
	sbuf_init(&b, SBUF_MAX_DEFAULT);
	rng_seed(&r, 5);
	for (int i = 0; i < 59; i++) {
		double x = rng_uniform(&r), y = rng_uniform(&r);

		sbuf_addf(&b, "{\"run\":\"run%d\",\"status\":\"completed\",\"hparams\":{\"x\":%.17g,"
		    "\"y\":%.17g},\"metrics\":{\"f\":%.17g}}\n", i + 1, x, y,
		    (x - 0.3) * (x - 0.3) + (y - 0.7) * (y - 0.7) + 0.03 * rng_normal(&r));
	}
	sbuf_addf(&b, "{\"run\":\"run60\",\"status\":\"completed\",\"hparams\":{\"x\":0.9,"
	    "\"y\":0.1},\"metrics\":{\"f\":-0.2}}\n");
	hist = sbuf_detach(&b, NULL);
	for (uint64_t seed = 1; seed <= 5; seed++) {
		cJSON *out = cJSON_CreateArray(), *o;
		struct search s;
		char err[256];

		search_init(&s, &sp, "f", 0, seed);
		read_text(&s, hist, err, sizeof(err));
		made = search_next(&s, SEARCH_GP, 3, out, err, sizeof(err));
		CHECK(made == 3);
		cJSON_ArrayForEach(o, out) {
			double x = cJSON_GetObjectItem(o, "x")->valuedouble;
			double y = cJSON_GetObjectItem(o, "y")->valuedouble;

			near += hypot(x - 0.9, y - 0.1) < 0.1;
		}
		txt = cJSON_PrintUnformatted(out);
		printf("# lucky result, gp seed %d: %s\n", (int)seed, txt);
		free(txt);
		cJSON_Delete(out);
		search_release(&s);
	}
	CHECK(near == 0);
	free(hist);
	space_release(&sp);
}

/* How many of the proposals in the JSON text a hold the fragment f. */
static int
count_of(const char *a, const char *f)
{
	int n = 0;

	for (const char *p = a; (p = strstr(p, f)); p++)
		n++;
	return n;
}

/*
 * DGD as XT: a list's values sorted and without repeats, neighbours one
 * step up or down in that order, and with no results a pick uniform over
 * the distinct values.
 */
static void
test_dgd_order(void)
{
	struct space sp;
	char *a;
	int made;
	const char *hist =
	    "{\"run\":\"run1\",\"status\":\"completed\",\"hparams\":{\"x\":0.1,\"y\":\"a\"},\"metrics\":{\"acc\":0.9}}\n"
	    "{\"run\":\"run2\",\"status\":\"completed\",\"hparams\":{\"x\":0.3,\"y\":\"c\"},\"metrics\":{\"acc\":0.5}}\n";

	/* In list order 0.1's neighbour would be 0.3 and a's c and b; sorted, they are 0.2 and b. */
	space_of(&sp, "x=[0.1, 0.3, 0.2, 0.3]", "y=[c, a, b, a]");
	a = next_line(&sp, hist, SEARCH_DGD, 60, 7, &made);
	CHECK(made == 60 && count_of(a, "\"x\":0.3") == 0 && count_of(a, "\"y\":\"c\"") == 0);
	CHECK(count_of(a, "{\"x\":0.2,\"y\":\"a\"}") > 0 && count_of(a, "{\"x\":0.1,\"y\":\"b\"}") > 0);
	CHECK(count_of(a, "{\"x\":0.2,\"y\":\"b\"}") == 0);
	free(a);
	space_release(&sp);

	/* No results: each distinct value equally likely, however often the list repeats it. */
	space_of(&sp, "x=[1, 1, 1, 2]", NULL);
	a = next_line(&sp, "", SEARCH_DGD, 400, 3, &made);
	printf("# dgd with no results: x 2 in %d of 400\n", count_of(a, "\"x\":2"));
	CHECK(made == 400 && count_of(a, "\"x\":2") > 160 && count_of(a, "\"x\":2") < 240);
	free(a);
	space_release(&sp);
}

int
main(void)
{
	struct space sp;
	struct search s;
	char err[512], *a, *b;
	int made, wins_tpe = 0, wins_gp = 0;
	const char *hist =
	    "{\"run\":\"run1\",\"status\":\"completed\",\"hparams\":{\"x\":1,\"y\":\"a\"},\"metrics\":{\"acc\":0.5}}\n"
	    "{\"run\":\"run2\",\"status\":\"completed\",\"hparams\":{\"x\":2,\"y\":\"a\"},\"metrics\":{\"acc\":0.9}}\n"
	    "{\"run\":\"run3\",\"status\":\"running\",\"hparams\":{\"x\":3,\"y\":\"a\"}}\n"
	    "{\"run\":\"run4\",\"status\":\"failed\",\"hparams\":{\"x\":1,\"y\":\"b\"}}\n"
	    "{\"run\":\"run5\",\"status\":\"queued\"}\n";

	/* Bad history lines are named by line. */
	space_of(&sp, "x=[1,2,3]", "y=[a,b]");
	search_init(&s, &sp, "acc", 1, 1);
	CHECK(read_text(&s, "{\"run\":\"r1\",\"status\":\"completed\"}\nnot json\n", err, sizeof(err)) < 0 &&
	    !strncmp(err, "h:2:", 4));
	CHECK(read_text(&s, "\n{\"run\":\"r1\"}\n", err, sizeof(err)) < 0 &&
	    strstr(err, "h:2: run 'r1': expected \"status\""));
	CHECK(read_text(&s, "{\"status\":\"completed\"}\n", err, sizeof(err)) < 0 &&
	    strstr(err, "h:1: expected \"run\""));
	CHECK(read_text(&s, "[1]\n", err, sizeof(err)) < 0 && strstr(err, "h:1:"));
	CHECK(read_text(&s, "{\"run\":\"r\",\"status\":\"completed\",\"hparams\":[1]}\n", err,
	    sizeof(err)) < 0 && strstr(err, "\"hparams\" must be an object"));
	CHECK(read_text(&s, "{\"run\":\"r\",\"status\":\"completed\",\"hparams\":{\"x\":1,\"y\":\"a\"},"
	    "\"metrics\":3}\n", err, sizeof(err)) < 0 && strstr(err, "\"metrics\" must be an object"));
	search_release(&s);

	/* What counts: completed with the metric; running and queued pending; all tried. */
	search_init(&s, &sp, "acc", 1, 1);
	CHECK(read_text(&s, hist, err, sizeof(err)) == 4);
	CHECK(s.ndone == 2 && s.npt == 3 && s.ntried == 4);
	CHECK(s.ndone == 2 && s.pt[1].loss == -0.9);
	/* A value outside the space: skipped (a warning), not an error. */
	CHECK(read_text(&s, "{\"run\":\"r9\",\"status\":\"completed\",\"hparams\":{\"x\":7,\"y\":\"a\"}}\n",
	    err, sizeof(err)) == 0);
	search_release(&s);

	/* Grid: the first untried points in grid order; then the space is used up. */
	a = next_line(&sp, hist, SEARCH_GRID, 5, 1, &made);
	CHECK(made == 2 && !strcmp(a, "[{\"x\":2,\"y\":\"b\"},{\"x\":3,\"y\":\"b\"}]"));
	free(a);
	a = next_line(&sp, hist, SEARCH_RANDOM, 5, 1, &made);
	CHECK(made == 2 && strstr(a, "{\"x\":2,\"y\":\"b\"}") && strstr(a, "{\"x\":3,\"y\":\"b\"}"));
	free(a);
	a = next_line(&sp, hist, SEARCH_TPE, 5, 1, &made);
	CHECK(made == 2 && strstr(a, "{\"x\":2,\"y\":\"b\"}") && strstr(a, "{\"x\":3,\"y\":\"b\"}"));
	free(a);

	/* DGD: the best setting (x 2, a) and its neighbours only; repeats allowed. */
	a = next_line(&sp, hist, SEARCH_DGD, 40, 3, &made);
	CHECK(made == 40 && !strstr(a, "{\"x\":1,\"y\":\"b\"}") && !strstr(a, "{\"x\":3,\"y\":\"b\"}"));
	CHECK(strstr(a, "{\"x\":2,\"y\":\"b\"}") && strstr(a, "{\"x\":1,\"y\":\"a\"}"));
	free(a);
	space_release(&sp);
	test_dgd_order();
	space_of(&sp, "x=$uniform(0,1)", NULL);
	a = next_line(&sp, "", SEARCH_DGD, 1, 3, &made);
	CHECK(made == -1);
	free(a);

	/* Same history, same seed: the same proposals (the state is the history). */
	a = next_line(&sp, hist, SEARCH_TPE, 3, 5, &made);
	b = next_line(&sp, hist, SEARCH_TPE, 3, 5, &made);
	CHECK(!strcmp(a, b));
	free(a), free(b);
	space_release(&sp);

	/* The Bayesian methods beat random search on a bowl, seed by seed. */
	for (uint64_t seed = 1; seed <= 5; seed++) {
		double r = optimise(SEARCH_RANDOM, seed, 40);

		wins_tpe += optimise(SEARCH_TPE, seed, 40) < r;
		wins_gp += optimise(SEARCH_GP, seed, 40) < r;
	}
	printf("# tpe beat random %d of 5, gp %d of 5\n", wins_tpe, wins_gp);
	test_widths();
	test_subset();
	test_long_history();
	test_lucky_result();
	CHECK(wins_tpe >= 4);
	CHECK(wins_gp >= 4);
	return check_done();
}
