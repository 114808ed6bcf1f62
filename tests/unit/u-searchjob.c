/*
 * Unit tests of the prune checks' incremental log reader: after each
 * change to the logs, what it holds and decides must be what a read of
 * the whole logs gives.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "prune.h"
#include "run.h"
#include "searchjob.h"
#include "store.h"
#include "util.h"

static struct store *st;
static const char *ws = "w";

/* The reference: every log read whole, each line tagged with its run. */
static void
full(const cJSON *job, struct prune *p)
{
	const cJSON *po = cJSON_GetObjectItemCaseSensitive(job, "prune"), *it;
	struct prune_opts o;
	struct sbuf sb;
	char err[256];

	prune_opts_default(&o, prune_policy_parse(json_str(po, "policy")), json_str(po, "metric"));
	o.delay = (long)json_num(po, "delay-evaluation", 10);
	o.min_runs = (long)json_num(po, "min-runs", 3);
	o.slack_amount = json_num(po, "slack-amount", 0);
	o.min_resource = (long)json_num(po, "min-resource", 1);
	o.reduction = json_num(po, "reduction-factor", 3);
	prune_init(p, &o);
	sbuf_init(&sb, (size_t)64 << 20);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(job, "runs")) {
		char *path = run_path(ws, it->valuestring, "log.jsonl"), *line, *nl;

		if (store_get(st, path, 0, -1, &sb) == 0)
			for (line = sb.buf; *line && (nl = strchr(line, '\n')); line = nl + 1) {
				cJSON *l;

				*nl = '\0';
				if ((l = cJSON_Parse(line))) {
					json_set_str(l, "run", it->valuestring);
					prune_add(p, l, err, sizeof(err));
					cJSON_Delete(l);
				}
			}
		free(path);
	}
	sbuf_release(&sb);
}

/* The decisions of p as one line, into buf. */
static const char *
decisions(const struct prune *p, char *buf, size_t len)
{
	cJSON *d = prune_decide(p);
	char *s = cJSON_PrintUnformatted(d);

	snprintf(buf, len, "%s", s);
	cJSON_free(s);
	cJSON_Delete(d);
	return buf;
}

/* Do w's series and decisions equal those of a whole read? */
static int
same(struct searchjob_pruner *w, const cJSON *job)
{
	static char a[8192], b[8192];
	struct prune ref;
	int ok = 1;

	if (searchjob_pruner_read(w, st, ws, job) < 0)
		return 0;
	full(job, &ref);
	for (int i = 0; i < w->p.nrun; i++) {
		const struct prune_run *r = &w->p.run[i], *q = NULL;

		for (int j = 0; j < ref.nrun; j++)
			if (!strcmp(ref.run[j].name, r->name))
				q = &ref.run[j];
		if (!q) {
			ok &= r->n == 0 && !r->ended;
			continue;
		}
		ok &= r->n == q->n && r->ended == q->ended;
		for (int k = 0; ok && k < r->n; k++)
			ok &= r->v[k] == q->v[k] && r->step[k] == q->step[k] && r->t[k] == q->t[k];
	}
	ok &= !strcmp(decisions(&w->p, a, sizeof(a)), decisions(&ref, b, sizeof(b)));
	if (!ok)
		printf("# incremental %s\n# whole       %s\n", a, b);
	prune_release(&ref);
	return ok;
}

static void
append(const char *run, const char *text)
{
	char *path = run_path(ws, run, "log.jsonl");

	store_append(st, path, text, strlen(text));
	free(path);
}

/* Append metric lines acc=v for the values in vals ("0.1,0.2"). */
static void
metrics(const char *run, const char *vals)
{
	char *copy = xstrdup(vals), *save = NULL, *v;
	static int step;

	for (v = strtok_r(copy, ",", &save); v; v = strtok_r(NULL, ",", &save)) {
		char *line = xasprintf("{\"time\":\"t%d\",\"event\":\"metrics\",\"step\":%d,"
		    "\"data\":{\"acc\":%s}}\n", step, step, v);

		append(run, line);
		step++;
		free(line);
	}
	free(copy);
}

static void
put(const char *run, const char *text)
{
	char *path = run_path(ws, run, "log.jsonl");

	store_put(st, path, text, strlen(text));
	free(path);
}

static int
count(const struct prune *p, const char *run)
{
	for (int i = 0; i < p->nrun; i++)
		if (!strcmp(p->run[i].name, run))
			return p->run[i].n;
	return -1;
}

int
main(void)
{
	char dir[] = "/tmp/u-searchjob.XXXXXX", err[512], *root, *path;
	struct searchjob_pruner w;
	cJSON *job;
	int n;

	CHECK(mkdtemp(dir) != NULL);
	root = path_join(dir, "s");
	if (!(st = store_open(root, err, sizeof(err))))
		return CHECK(0), check_done();
	/* r0 comes first in the job but its log appears last */
	job = cJSON_Parse("{\"job\":\"job1\",\"runs\":[\"r0\",\"r1\",\"r2\",\"r3\",\"r4\"],"
	    "\"prune\":{\"policy\":\"median\",\"metric\":\"acc\",\"goal\":\"max\","
	    "\"delay-evaluation\":2,\"min-runs\":3}}");

	searchjob_pruner_init(&w);
	CHECK(same(&w, job));
	CHECK(w.p.nrun == 5 && w.nlog == 5);

	/* a log that grows between reads */
	append("r1", "{\"event\":\"created\"}\n{\"event\":\"queued\"}\n");
	metrics("r1", "0.5,0.6");
	metrics("r2", "0.1,0.2");
	metrics("r3", "0.7,0.8");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r1") == 2);
	metrics("r1", "0.7");
	metrics("r2", "0.3,0.3");
	metrics("r3", "0.9");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r1") == 3 && count(&w.p, "r2") == 4);
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r1") == 3);

	/* a partial last line is not taken, and is once it is whole */
	append("r1", "{\"event\":\"metrics\",\"step\":9,\"data\":{\"acc\":0.");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r1") == 3);
	append("r1", "05}}\n");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r1") == 4 && w.p.run[1].v[3] == 0.05 && w.p.run[1].step[3] == 9);
	/* cut anywhere, even in the middle of the newline's line */
	append("r3", "{\"event\":\"metrics\",\"data\":{\"acc\":1}}");
	CHECK(same(&w, job));
	append("r3", "\n{\"event\":\"ended\"}\n");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r3") == 4 && w.p.run[3].ended);

	/* a run whose log appears late keeps its place first */
	metrics("r0", "0.01,0.02,0.03");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r0") == 3);
	{
		char buf[4096];

		decisions(&w.p, buf, sizeof(buf));
		CHECK(strstr(buf, "\"run\":\"r0\"") && strstr(buf, "\"run\":\"r2\"") &&
		    strstr(buf, "\"run\":\"r0\"") < strstr(buf, "\"run\":\"r2\""));
	}

	/* a log replaced by a new one: shorter, then longer, then the same length */
	put("r2", "{\"event\":\"metrics\",\"data\":{\"acc\":0.95}}\n");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r2") == 1 && w.p.run[2].v[0] == 0.95);
	metrics("r2", "0.9");
	CHECK(same(&w, job));
	path = run_path(ws, "r2", "log.jsonl");
	{
		struct sbuf sb;
		char *copy;

		sbuf_init(&sb, 1 << 20);
		store_get(st, path, 0, -1, &sb);
		/* the same bytes with the first value changed, then two more lines */
		copy = xstrdup(sb.buf);
		strstr(copy, "0.95")[2] = '0';
		put("r2", copy);
		CHECK(same(&w, job));
		CHECK(count(&w.p, "r2") == 2 && w.p.run[2].v[0] == 0.05);
		metrics("r2", "0.2,0.1");
		CHECK(same(&w, job));
		n = count(&w.p, "r2");
		/* same length, different last bytes */
		store_get(st, path, 0, -1, &sb);
		free(copy);
		copy = xstrdup(sb.buf);
		copy[strlen(copy) - 4] = '9';
		put("r2", copy);
		CHECK(same(&w, job));
		CHECK(count(&w.p, "r2") == n && w.p.run[2].v[n - 1] == 0.9);
		free(copy);
		sbuf_release(&sb);
	}
	/* a log that is gone */
	store_delete(st, path);
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r2") == 0);
	metrics("r2", "0.4,0.4,0.4,0.4,0.4");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r2") == 5);
	free(path);

	/* a NUL byte ends the read, as it did the whole read */
	metrics("r4", "0.3");
	append("r4", "{\"event\":\"metrics\",\"data\":{\"acc\":0.2}}\n");
	CHECK(same(&w, job));
	append("r4", "{\"event\":\"metrics\",\"data\":{\"acc\":");
	{
		char nul[] = "0\0}}\n";

		path = run_path(ws, "r4", "log.jsonl");
		store_append(st, path, nul, sizeof(nul) - 1);
		free(path);
	}
	metrics("r4", "0.6,0.6");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r4") == 2);

	/* a bad line is skipped */
	append("r1", "not json\n\n{\"event\":\"metrics\",\"data\":5}\n");
	metrics("r1", "0.2");
	CHECK(same(&w, job));
	CHECK(count(&w.p, "r1") == 5);
	searchjob_pruner_release(&w);

	/* the same logs read by a fresh reader in one go */
	searchjob_pruner_init(&w);
	CHECK(same(&w, job));
	searchjob_pruner_release(&w);

	/* searchjob_prune stops a losing run and logs why */
	searchjob_pruner_init(&w);
	CHECK(searchjob_prune(st, ws, job, "r1", &w) == 0);
	searchjob_pruner_release(&w);
	searchjob_pruner_init(&w);
	CHECK(searchjob_prune(st, ws, job, "r0", &w) == 1);
	{
		struct sbuf sb;

		sbuf_init(&sb, 1 << 20);
		path = run_path(ws, "r0", "log.jsonl");
		CHECK(store_get(st, path, 0, -1, &sb) == 0 && strstr(sb.buf, "\"event\":\"pruned\"") &&
		    strstr(sb.buf, "\"policy\":\"median\"") && !strstr(sb.buf, "\"run\""));
		free(path);
		sbuf_release(&sb);
	}
	/* checked at most once a second: the pruned event ended r0, but is not seen yet */
	CHECK(searchjob_prune(st, ws, job, "r0", &w) == 0 && !w.p.run[0].ended);
	searchjob_pruner_release(&w);

	/*
	 * asha: a0 reaches rung 1 first and goes on; a1 reaches it later with a
	 * better value: a0 is not judged at rung 1 again, and goes on; a2
	 * comes third, worse than the best of three, and is stopped.
	 */
	{
		cJSON *aj = cJSON_Parse("{\"job\":\"job2\",\"runs\":[\"a0\",\"a1\",\"a2\"],"
		    "\"prune\":{\"policy\":\"asha\",\"metric\":\"acc\",\"min-resource\":1,"
		    "\"reduction-factor\":2}}");
		struct searchjob_pruner w1, w2;

		append("a0", "{\"time\":\"2026-01-01T00:00:01.000Z\",\"event\":\"metrics\","
		    "\"data\":{\"acc\":0.5}}\n");
		searchjob_pruner_init(&w);
		CHECK(searchjob_prune(st, ws, aj, "a0", &w) == 0 && w.p.run[0].judged == 1);
		append("a1", "{\"time\":\"2026-01-01T00:00:02.000Z\",\"event\":\"metrics\","
		    "\"data\":{\"acc\":0.9}}\n");
		w.last = -1e9;
		CHECK(searchjob_prune(st, ws, aj, "a0", &w) == 0);
		searchjob_pruner_init(&w1);
		CHECK(searchjob_prune(st, ws, aj, "a1", &w1) == 0);
		append("a2", "{\"time\":\"2026-01-01T00:00:03.000Z\",\"event\":\"metrics\","
		    "\"data\":{\"acc\":0.1}}\n");
		w.last = w1.last = -1e9;
		CHECK(searchjob_prune(st, ws, aj, "a0", &w) == 0);
		CHECK(searchjob_prune(st, ws, aj, "a1", &w1) == 0);
		searchjob_pruner_init(&w2);
		CHECK(searchjob_prune(st, ws, aj, "a2", &w2) == 1);
		/* and a whole read of the logs agrees: a2 only, at rung 1 */
		CHECK(same(&w2, aj));
		searchjob_pruner_release(&w);
		searchjob_pruner_release(&w1);
		searchjob_pruner_release(&w2);
		cJSON_Delete(aj);
	}

	/* a job without a policy */
	cJSON_DeleteItemFromObjectCaseSensitive(job, "prune");
	searchjob_pruner_init(&w);
	CHECK(searchjob_pruner_read(&w, st, ws, job) == -1);
	CHECK(searchjob_prune(st, ws, job, "r0", &w) == 0);
	searchjob_pruner_release(&w);

	cJSON_Delete(job);
	store_close(st);
	free(root);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		CHECK(system(cmd) == 0);
		free(cmd);
	}
	return check_done();
}
