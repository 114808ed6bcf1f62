/* prune.c: see prune.h. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "prune.h"
#include "run.h"
#include "stats.h"
#include "util.h"
#include "banned.h"

static const char *const policies[] = { "median", "bandit", "truncation", "asha", NULL };

int
prune_policy_parse(const char *name)
{
	for (int i = 0; policies[i]; i++)
		if (!strcmp(name, policies[i]))
			return i;
	return -1;
}

void
prune_opts_default(struct prune_opts *o, enum prune_policy policy, const char *metric)
{
	memset(o, 0, sizeof(*o));
	o->policy = policy;
	o->metric = metric;
	o->maximize = 1;
	o->delay = 10;
	o->interval = 1;
	o->truncation = 5;
	o->min_resource = 1;
	o->reduction = 3;
	o->min_runs = 3;
}

void
prune_init(struct prune *p, const struct prune_opts *o)
{
	memset(p, 0, sizeof(*p));
	p->o = *o;
	hmap_init(&p->byname);
}

void
prune_release(struct prune *p)
{
	for (int i = 0; i < p->nrun; i++) {
		free(p->run[i].name);
		free(p->run[i].v);
		free(p->run[i].step);
		free(p->run[i].t);
	}
	free(p->run);
	hmap_release(&p->byname);
	memset(p, 0, sizeof(*p));
}

int
prune_run_add(struct prune *p, const char *name)
{
	size_t len = strlen(name), *i;
	struct prune_run *r;
	int isnew;

	i = hmap_put(&p->byname, name, len, (size_t)p->nrun, &isnew);
	if (!isnew)
		return (int)*i;
	if (p->nrun == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->run = xrealloc(p->run, (size_t)p->cap * sizeof(*p->run));
	}
	r = &p->run[p->nrun];
	memset(r, 0, sizeof(*r));
	r->name = xstrndup(name, len);
	return p->nrun++;
}

void
prune_run_reset(struct prune *p, int i)
{
	p->run[i].n = 0;
	p->run[i].ended = 0;
	p->run[i].judged = 0;
}

static struct prune_run *
find(struct prune *p, const char *name)
{
	int i = prune_run_add(p, name);	/* before reading p->run, which it may move */

	return &p->run[i];
}

int
prune_add(struct prune *p, const cJSON *line, char *err, size_t errlen)
{
	const char *run = json_str(line, "run"), *event = json_str(line, "event");
	const char *status = json_str(line, "status"), *time = json_str(line, "time");
	const cJSON *data, *v;
	struct prune_run *r;
	int64_t t;

	if (!run || !*run) {
		snprintf(err, errlen, "expected \"run\" (the run's name)");
		return -1;
	}
	if (!event) {
		if (status && run_status_final(status))
			find(p, run)->ended = 1;
		return 0;
	}
	if (!strcmp(event, "ended") || !strcmp(event, "pruned") || !strcmp(event, "cancelled")) {
		find(p, run)->ended = 1;
		return 0;
	}
	if (strcmp(event, "metrics"))
		return 0;
	data = cJSON_GetObjectItemCaseSensitive(line, "data");
	v = cJSON_GetObjectItemCaseSensitive(data, p->o.metric);
	if (!cJSON_IsObject(data)) {
		snprintf(err, errlen, "run '%s': a metrics event needs \"data\" (an object)", run);
		return -1;
	}
	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
		snprintf(err, errlen, "run '%s': metric '%s' is not a finite number", run, p->o.metric);
		return -1;
	}
	r = find(p, run);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = xrealloc(r->v, (size_t)r->cap * sizeof(*r->v));
		r->step = xrealloc(r->step, (size_t)r->cap * sizeof(*r->step));
		r->t = xrealloc(r->t, (size_t)r->cap * sizeof(*r->t));
	}
	/* the moment (asha's only): the line's time, never before the run's value before it */
	if (p->o.policy != PRUNE_ASHA || !time || time_parse_iso(time, &t) < 0 ||
	    (r->n > 0 && t < r->t[r->n - 1]))
		t = r->n > 0 ? r->t[r->n - 1] : INT64_MIN;
	r->t[r->n] = t;
	r->v[r->n] = v->valuedouble;
	r->step[r->n] = (long)json_num(line, "step", -1);
	r->n++;
	return 0;
}

int
prune_read(struct prune *p, FILE *fp, const char *name, char *err, size_t errlen)
{
	struct jsonl_reader r;
	cJSON *line;
	int rc;

	jsonl_init(&r, fp, name, 0);
	while ((rc = jsonl_next(&r, &line, 1)) == 1) {
		char why[256];
		int bad = prune_add(p, line, why, sizeof(why));

		cJSON_Delete(line);
		if (bad < 0) {
			snprintf(err, errlen, "%s:%ld: %s", name, r.lineno, why);
			jsonl_release(&r);
			return -1;
		}
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", r.err);
	jsonl_release(&r);
	return rc < 0 ? -1 : 0;
}

/* Is a worse than b for the goal? */
static int
worse(const struct prune_opts *o, double a, double b)
{
	return o->maximize ? a < b : a > b;
}

/* The last check point run r has reached (1-based evaluation), or 0 (not asha). */
static long
checkpoint(const struct prune_opts *o, const struct prune_run *r)
{
	long d = o->delay > 1 ? o->delay : 1;

	if (r->n < d)
		return 0;
	return d + (r->n - d) / o->interval * o->interval;
}

/*
 * The reason to stop run i at evaluation c, into why; 0 when it goes on.
 * asha: fail[j] is the rung run j failed (0: none), and a run that failed
 * a rung before c does not count at c.
 */
static int
judge(const struct prune *p, int i, long c, const long *fail, char *why, size_t len)
{
	const struct prune_opts *o = &p->o;
	const struct prune_run *r = &p->run[i];
	double v = r->v[c - 1], *vals = xmalloc((size_t)p->nrun * sizeof(double));
	int n = 0, better = 0, stop = 0;

	for (int j = 0; j < p->nrun; j++) {
		const struct prune_run *q = &p->run[j];

		if (q->n < c)
			continue;
		/* asha: only the runs that had reached the rung at r's moment */
		if (o->policy == PRUNE_ASHA && j != i &&
		    (q->t[c - 1] > r->t[c - 1] || (fail[j] && fail[j] < c)))
			continue;
		if (o->policy == PRUNE_MEDIAN) {
			double sum = 0;

			for (long k = 0; k < c; k++)
				sum += q->v[k];
			vals[n++] = sum / (double)c;
		} else {
			vals[n++] = q->v[c - 1];
			better += worse(o, v, q->v[c - 1]);
		}
	}
	switch (o->policy) {
	case PRUNE_MEDIAN: {
		double best = r->v[0], med;

		for (long k = 1; k < c; k++)
			if (worse(o, best, r->v[k]))
				best = r->v[k];
		if (n < o->min_runs)
			break;
		med = stats_median(vals, (size_t)n);
		if ((stop = worse(o, best, med)))
			snprintf(why, len, "best %g is worse than the median %g of %d runs", best, med, n);
		break;
	}
	case PRUNE_BANDIT: {
		double best = vals[0], limit;

		for (int j = 1; j < n; j++)
			if (worse(o, best, vals[j]))
				best = vals[j];
		if (o->slack_factor > 0)
			limit = o->maximize ? best / (1 + o->slack_factor) : best * (1 + o->slack_factor);
		else
			limit = o->maximize ? best - o->slack_amount : best + o->slack_amount;
		if ((stop = worse(o, v, limit)))
			snprintf(why, len, "%g is outside the slack of the best %g (limit %g)", v, best,
			    limit);
		break;
	}
	case PRUNE_TRUNCATION: {
		long cut = (long)floor(n * o->truncation / 100);

		if (n < o->min_runs)
			break;
		if ((stop = cut > 0 && better >= n - cut))
			snprintf(why, len, "among the worst %g%% (%ld of %d runs)", o->truncation, cut, n);
		break;
	}
	case PRUNE_ASHA: {
		long keep = (long)floor(n / o->reduction);

		keep = keep < 1 ? 1 : keep;
		if ((stop = n >= 2 && better >= keep))
			snprintf(why, len, "not in the best %ld of %d runs at rung %ld", keep, n, c);
		break;
	}
	}
	free(vals);
	return stop;
}

/*
 * The evaluation of asha's rung after the one at evaluation c (0 for the
 * first): ceil(min_resource * reduction^i), the first past c.
 */
static long
next_rung(const struct prune_opts *o, long c)
{
	double rung = o->min_resource > 1 ? (double)o->min_resource : 1;

	while (ceil(rung) <= (double)c)
		rung *= o->reduction > 1 ? o->reduction : 3;
	return rung < 9e15 ? (long)ceil(rung) : LONG_MAX;
}

/*
 * asha: the rung each run fails first (0: none), rung by rung, each
 * judgement against the runs that reached the rung before and had failed
 * no rung before it. NULL for the other policies. Caller frees.
 */
static long *
asha_fails(const struct prune *p)
{
	long *fail, most = 0;
	char why[256];

	if (p->o.policy != PRUNE_ASHA)
		return NULL;
	fail = xcalloc((size_t)p->nrun + 1, sizeof(*fail));
	for (int i = 0; i < p->nrun; i++)
		most = p->run[i].n > most ? p->run[i].n : most;
	for (long c = next_rung(&p->o, 0); c <= most; c = next_rung(&p->o, c))
		for (int i = 0; i < p->nrun; i++)
			if (!fail[i] && p->run[i].n >= c && judge(p, i, c, fail, why, sizeof(why)))
				fail[i] = c;
	return fail;
}

/*
 * Run i's element of prune_decide's array, or NULL when it goes on; asha
 * judges the rungs after *passed only, and moves *passed to the last one
 * the run passed. fail: asha_fails(p).
 */
static cJSON *
decide(const struct prune *p, int i, const long *fail, long *passed)
{
	const struct prune_run *r = &p->run[i];
	long c = 0;
	char why[256];
	cJSON *d;

	if (r->ended)
		return NULL;
	if (p->o.policy != PRUNE_ASHA) {
		if ((c = checkpoint(&p->o, r)) <= 0 || !judge(p, i, c, fail, why, sizeof(why)))
			return NULL;
	} else {
		for (c = next_rung(&p->o, *passed); c <= r->n; c = next_rung(&p->o, c)) {
			if (judge(p, i, c, fail, why, sizeof(why)))
				break;
			*passed = c;
		}
		if (c > r->n)
			return NULL;
	}
	if (!(d = cJSON_CreateObject()))
		die("out of memory");
	json_set_str(d, "run", r->name);
	json_set_str(d, "policy", policies[p->o.policy]);
	json_set_num(d, "eval", (double)c);
	if (r->step[c - 1] >= 0)
		json_set_num(d, "step", (double)r->step[c - 1]);
	json_set_num(d, "value", r->v[c - 1]);
	json_set_str(d, "reason", why);
	return d;
}

cJSON *
prune_decide(const struct prune *p)
{
	cJSON *out = cJSON_CreateArray(), *d;

	if (!out)
		die("out of memory");
	long *fail = asha_fails(p);

	for (int i = 0; i < p->nrun; i++) {
		long passed = 0;

		if ((d = decide(p, i, fail, &passed)))
			cJSON_AddItemToArray(out, d);
	}
	free(fail);
	return out;
}

cJSON *
prune_decide_run(const struct prune *p, const char *name)
{
	const size_t *i = hmap_get(&p->byname, name, strlen(name));
	long passed = 0, *fail;
	cJSON *d;

	if (!i)
		return NULL;
	fail = asha_fails(p);
	d = decide(p, (int)*i, fail, &passed);
	free(fail);
	return d;
}

cJSON *
prune_check_run(struct prune *p, const char *name)
{
	const size_t *i = hmap_get(&p->byname, name, strlen(name));
	long *fail;
	cJSON *d;

	if (!i)
		return NULL;
	fail = asha_fails(p);
	d = decide(p, (int)*i, fail, &p->run[*i].judged);
	free(fail);
	return d;
}
