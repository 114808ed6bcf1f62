/* Unit tests of early stopping: each policy's decisions on constructed series. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "prune.h"
#include "util.h"

/*
 * Feed runs given as "name:v1,v2,...;name:..." (a trailing '!' on a name
 * marks the run ended) to a prune with opts; return the runs to stop as
 * "a,b" (static buffer).
 */
static const char *
decide(const struct prune_opts *o, const char *series)
{
	static char out[256];
	struct prune p;
	char *copy = xstrdup(series), *save = NULL, *run;
	cJSON *dec;
	const cJSON *d;

	prune_init(&p, o);
	for (run = strtok_r(copy, ";", &save); run; run = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(run, ':'), *vs, *s2 = NULL, *v, err[128];
		int ended = colon && colon > run && colon[-1] == '!';

		*colon = '\0';
		if (ended)
			colon[-1] = '\0';
		vs = colon + 1;
		for (v = strtok_r(vs, ",", &s2); v; v = strtok_r(NULL, ",", &s2)) {
			char *txt = xasprintf("{\"run\":\"%s\",\"event\":\"metrics\",\"data\":{\"acc\":%s}}",
			    run, v);
			cJSON *line = cJSON_Parse(txt);

			prune_add(&p, line, err, sizeof(err));
			cJSON_Delete(line);
			free(txt);
		}
		if (ended) {
			char *txt = xasprintf("{\"run\":\"%s\",\"event\":\"ended\"}", run);
			cJSON *line = cJSON_Parse(txt);

			prune_add(&p, line, err, sizeof(err));
			cJSON_Delete(line);
			free(txt);
		}
	}
	dec = prune_decide(&p);
	out[0] = '\0';
	cJSON_ArrayForEach(d, dec)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? "," : "",
		    json_str(d, "run"));
	cJSON_Delete(dec);
	prune_release(&p);
	free(copy);
	return out;
}

/* Add run's value v at second t (-1: no time): 1, or 0 when refused. */
static int
add(struct prune *p, const char *run, int t, double v)
{
	char *txt, err[128], when[64] = "";
	cJSON *line;
	int ok;

	if (t >= 0)
		snprintf(when, sizeof(when), "\"time\":\"2026-01-01T00:00:%02d.000Z\",", t);
	txt = xasprintf("{\"run\":\"%s\",%s\"event\":\"metrics\",\"data\":{\"acc\":%g}}",
	    run, when, v);
	line = cJSON_Parse(txt);
	ok = prune_add(p, line, err, sizeof(err)) == 0;
	cJSON_Delete(line);
	free(txt);
	return ok;
}

/*
 * Feed lines given as "run@second:value;..." (second '-': no time), one
 * value each, in that order; return the runs to stop as "run@eval,..."
 * (static buffer).
 */
static const char *
timed(const struct prune_opts *o, const char *lines)
{
	static char out[256];
	struct prune p;
	char *copy = xstrdup(lines), *save = NULL, *l;
	cJSON *dec;
	const cJSON *d;

	prune_init(&p, o);
	for (l = strtok_r(copy, ";", &save); l; l = strtok_r(NULL, ";", &save)) {
		char *at = strchr(l, '@'), *colon = strchr(l, ':');

		*at = *colon = '\0';
		add(&p, l, at[1] == '-' ? -1 : atoi(at + 1), atof(colon + 1));
	}
	dec = prune_decide(&p);
	out[0] = '\0';
	cJSON_ArrayForEach(d, dec)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s@%g", out[0] ? "," : "",
		    json_str(d, "run"), json_num(d, "eval", 0));
	cJSON_Delete(dec);
	prune_release(&p);
	free(copy);
	return out;
}

static int
is(const char *got, const char *want)
{
	if (strcmp(got, want))
		printf("# got '%s', want '%s'\n", got, want);
	return !strcmp(got, want);
}

/* Does line fail with err holding want? */
static int
bad_line(const char *text, const char *want)
{
	struct prune_opts o;
	struct prune p;
	char err[256] = "";
	cJSON *line = cJSON_Parse(text);
	int ok;

	prune_opts_default(&o, PRUNE_MEDIAN, "acc");
	prune_init(&p, &o);
	ok = prune_add(&p, line, err, sizeof(err)) < 0 && strstr(err, want);
	if (!ok)
		printf("# '%s' gave '%s'\n", text, err);
	cJSON_Delete(line);
	prune_release(&p);
	return ok;
}

int
main(void)
{
	struct prune_opts o;
	struct prune p;
	char err[256];
	FILE *fp;
	cJSON *dec;
	const char *lines =
	    "{\"run\":\"a\",\"event\":\"metrics\",\"step\":10,\"data\":{\"acc\":0.9,\"loss\":1}}\n"
	    "{\"run\":\"a\",\"event\":\"hparams\",\"data\":{\"lr\":1}}\n"
	    "{\"run\":\"b\",\"event\":\"metrics\",\"data\":{\"loss\":2}}\n"
	    "{\"run\":\"b\",\"event\":\"metrics\",\"step\":10,\"data\":{\"acc\":0.1}}\n"
	    "{\"run\":\"c\",\"status\":\"completed\"}\n"
	    "{\"run\":\"c\",\"event\":\"metrics\",\"step\":10,\"data\":{\"acc\":0.05}}\n";

	/* median: best so far against the median of running averages. */
	prune_opts_default(&o, PRUNE_MEDIAN, "acc");
	o.delay = 2;
	CHECK(is(decide(&o, "a:1,2,3;b:2,3,4;c:0.1,0.2,0.3"), "c"));
	CHECK(is(decide(&o, "a:1,2,3;c:0.1,0.2,0.3"), ""));		/* fewer than min_runs */
	CHECK(is(decide(&o, "a:1,2,3;b:2,3,4;c!:0.1,0.2,0.3"), ""));	/* ended: never stopped */
	CHECK(is(decide(&o, "a:1;b:2;c:0.1"), ""));			/* before the delay */
	o.maximize = 0;
	CHECK(is(decide(&o, "a:1,2,3;b:3,4,5;c:0.1,0.2,0.3"), "b"));
	/* The last check point reached decides: eval 2 with interval 2, eval 3 with 1. */
	prune_opts_default(&o, PRUNE_MEDIAN, "acc");
	o.delay = 2, o.interval = 2;
	CHECK(is(decide(&o, "a:5,5,0;b:4,4,9;c:0,0,9"), "c"));
	o.interval = 1;
	CHECK(is(decide(&o, "a:5,5,0;b:4,4,9;c:0,0,9"), ""));
	o.delay = 1, o.interval = 2;
	CHECK(is(decide(&o, "a:5,5,0;b:4,4,9;c:0,0,9"), ""));	/* eval 3 again */

	/* bandit: a slack factor or amount from the best value at that evaluation. */
	prune_opts_default(&o, PRUNE_BANDIT, "acc");
	o.delay = 1, o.slack_factor = 0.1;
	CHECK(is(decide(&o, "a:0.5,0.9;b:0.5,0.85;c:0.5,0.7"), "c"));
	o.slack_factor = 0, o.slack_amount = 0.1;
	CHECK(is(decide(&o, "a:0.5,0.9;b:0.5,0.85;c:0.5,0.7"), "c"));
	o.slack_amount = 0.01;
	CHECK(is(decide(&o, "a:0.5,0.9;b:0.5,0.85;c:0.5,0.7"), "b,c"));
	o.slack_amount = 0.25;
	CHECK(is(decide(&o, "a:0.5,0.9;b:0.5,0.85;c:0.5,0.7"), ""));
	o.maximize = 0, o.slack_amount = 0, o.slack_factor = 0.1;
	CHECK(is(decide(&o, "a:1,0.5;b:1,0.54;c:1,0.6"), "c"));
	/* A run ahead of the others is compared at its own evaluation only. */
	o.maximize = 1;
	CHECK(is(decide(&o, "a:0.5,0.9;b:0.5,0.85,0.1"), ""));

	/* truncation: the worst percentage, rounded down. */
	prune_opts_default(&o, PRUNE_TRUNCATION, "acc");
	o.delay = 1, o.truncation = 20;
	CHECK(is(decide(&o, "a:1;b:2;c:3;d:4;e:5"), "a"));
	o.truncation = 40;
	CHECK(is(decide(&o, "a:1;b:2;c:3;d:4;e:5"), "a,b"));
	o.truncation = 10;
	CHECK(is(decide(&o, "a:1;b:2;c:3;d:4;e:5"), ""));
	o.truncation = 40;
	CHECK(is(decide(&o, "a:3;b:3;c:3;d:4;e:5"), ""));	/* ties stay */
	o.maximize = 0, o.truncation = 20;
	CHECK(is(decide(&o, "a:1;b:2;c:3;d:4;e:5"), "e"));

	/*
	 * asha: rungs at min_resource * reduction^k, keep the best 1/reduction.
	 * Lines without a time reach each rung at the same moment: each run is
	 * compared with all at the rung, and stopped at the first it fails (d
	 * at rung 1, not judged alone at rung 4).
	 */
	prune_opts_default(&o, PRUNE_ASHA, "acc");
	o.min_resource = 1, o.reduction = 2;
	CHECK(is(decide(&o, "a:0.9,0.95;b:0.5,0.6;c:0.8;d:0.1,0.2,0.3,0.4"), "b,d"));
	o.reduction = 4;
	CHECK(is(decide(&o, "a:0.9,0.95;b:0.5,0.6;c:0.8;d:0.1,0.2,0.3,0.4"), "b,c,d"));
	o.min_resource = 2, o.reduction = 2;
	CHECK(is(decide(&o, "a:0.9;b:0.5;c:0.8"), ""));	/* no rung reached */
	CHECK(is(decide(&o, "a:0.9,0.9;b:0.5,0.5;c:0.8"), "b"));

	/*
	 * asha in time: a run is judged at a rung against the runs that reached
	 * it before (or at the same moment), never again when others arrive.
	 */
	prune_opts_default(&o, PRUNE_ASHA, "acc");
	o.min_resource = 1, o.reduction = 2;
	/* a reaches rung 1 alone and goes on; b, better, comes later: a still goes on */
	CHECK(is(timed(&o, "a@1:0.5;b@2:0.9"), ""));
	/* c comes third and is worse than the best 1 of 3: stopped */
	CHECK(is(timed(&o, "a@1:0.5;b@2:0.9;c@3:0.1"), "c@1"));
	/* the same moment counts as before: a and b compared */
	CHECK(is(timed(&o, "a@1:0.5;b@1:0.9"), "a@1"));
	/* moments, not the order of the lines */
	CHECK(is(timed(&o, "b@2:0.9;a@1:0.5"), ""));
	/* rung 2: a passed rung 1 alone, then fails at rung 2 against b */
	CHECK(is(timed(&o, "a@1:0.5;b@2:0.9;b@3:0.9;a@4:0.4"), "a@2"));
	/* a line without a time is at its run's moment before it */
	CHECK(is(timed(&o, "a@5:0.9;b@1:0.5;b@3:0.9;a@-:0.4"), "a@2"));

	/* prune_check_run: a rung passed is not judged again */
	prune_init(&p, &o);
	CHECK(add(&p, "a", 5, 0.5) && prune_check_run(&p, "a") == NULL && p.run[0].judged == 1);
	/* b's line was written late, with an earlier moment: the history says stop */
	CHECK(add(&p, "b", 1, 0.9) && (dec = prune_decide_run(&p, "a")) != NULL);
	cJSON_Delete(dec);
	CHECK(prune_check_run(&p, "a") == NULL && p.run[0].judged == 1);
	/* rung 2 is judged, once; b has not reached it */
	CHECK(add(&p, "a", 6, 0.1) && prune_check_run(&p, "a") == NULL && p.run[0].judged == 2);
	/* a replaced log is judged afresh */
	prune_run_reset(&p, 0);
	CHECK(p.run[0].judged == 0 && add(&p, "a", 5, 0.5));
	dec = prune_check_run(&p, "a");
	CHECK(dec && json_num(dec, "eval", 0) == 1 && p.run[0].judged == 0);
	cJSON_Delete(dec);
	prune_release(&p);

	/* Lines: other events and other metrics skipped, a final record ends a run. */
	prune_opts_default(&o, PRUNE_BANDIT, "acc");
	o.delay = 1;
	prune_init(&p, &o);
	fp = fmemopen((void *)lines, strlen(lines), "r");
	CHECK(prune_read(&p, fp, "in", err, sizeof(err)) == 0);
	fclose(fp);
	CHECK(p.nrun == 3 && p.run[1].n == 1 && p.run[2].ended);
	dec = prune_decide(&p);
	CHECK(cJSON_GetArraySize(dec) == 1 && !strcmp(json_str(dec->child, "run"), "b") &&
	    json_num(dec->child, "step", 0) == 10 && json_num(dec->child, "eval", 0) == 1);
	cJSON_Delete(dec);
	prune_release(&p);

	/* Many runs, named apart: each line lands on its own run. */
	prune_opts_default(&o, PRUNE_MEDIAN, "acc");
	o.delay = 2;
	prune_init(&p, &o);
	for (int i = 0; i < 3000; i++)
		for (int k = 0; k <= i % 3; k++) {
			char *txt = xasprintf("{\"run\":\"r%d\",\"event\":\"metrics\",\"step\":%d,"
			    "\"data\":{\"acc\":%d}}", i, k, i);
			cJSON *line = cJSON_Parse(txt);

			prune_add(&p, line, err, sizeof(err));
			cJSON_Delete(line);
			free(txt);
		}
	{
		int ok = p.nrun == 3000;

		for (int i = 0; ok && i < 3000; i++)
			ok = p.run[i].n == i % 3 + 1 && p.run[i].v[i % 3] == i &&
			    prune_run_add(&p, p.run[i].name) == i;
		CHECK(ok);
	}
	/* one run's decision is its element of the whole array */
	dec = prune_decide(&p);
	{
		cJSON *one = prune_decide_run(&p, "r2"), *none = prune_decide_run(&p, "r2999");
		const cJSON *d = dec->child;
		char *a, *b;

		while (d && strcmp(json_str(d, "run"), "r2"))
			d = d->next;
		a = cJSON_PrintUnformatted(one);
		b = cJSON_PrintUnformatted(d);
		CHECK(one && d && !strcmp(a, b) && !none && !prune_decide_run(&p, "nosuch"));
		cJSON_free(a);
		cJSON_free(b);
		cJSON_Delete(one);
	}
	cJSON_Delete(dec);
	/* a run added by name keeps its place; reset forgets its values and end */
	CHECK(prune_run_add(&p, "new") == 3000 && p.nrun == 3001 && p.run[3000].n == 0);
	p.run[5].ended = 1;
	prune_run_reset(&p, 5);
	CHECK(p.run[5].n == 0 && !p.run[5].ended && prune_run_add(&p, "r5") == 5);
	prune_release(&p);

	CHECK(bad_line("{\"event\":\"metrics\",\"data\":{\"acc\":1}}", "expected \"run\""));
	CHECK(bad_line("{\"run\":\"a\",\"event\":\"metrics\",\"data\":5}", "needs \"data\""));
	CHECK(bad_line("{\"run\":\"a\",\"event\":\"metrics\",\"data\":{\"acc\":\"x\"}}",
	    "metric 'acc' is not a finite number"));
	prune_init(&p, &o);
	fp = fmemopen("{\"run\":\"a\"}\n\n{\"run\":1}\n", 23, "r");
	CHECK(prune_read(&p, fp, "in", err, sizeof(err)) < 0 && strstr(err, "in:3: expected \"run\""));
	fclose(fp);
	prune_release(&p);
	return check_done();
}
