/* Unit tests of run records and event lines (lib/run.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "life.h"
#include "run.h"
#include "util.h"

static char err[512];

/* run_check_line on a C string; 1 when accepted (the line is freed). */
static int
accepts(const char *s)
{
	cJSON *o = run_check_line(s, strlen(s), err, sizeof(err));

	cJSON_Delete(o);
	return o != NULL;
}

static int
rejects(const char *s, const char *why)
{
	cJSON *o = run_check_line(s, strlen(s), err, sizeof(err));

	cJSON_Delete(o);
	return o == NULL && strstr(err, why) != NULL;
}

/* The line compact, with its time replaced by "T". Caller frees. */
static char *
masked(const cJSON *o)
{
	cJSON *c = cJSON_Duplicate(o, 1);
	char *s;

	if (cJSON_HasObjectItem(c, "time"))
		json_set_str(c, "time", "T");
	s = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return s;
}

static int
same(const cJSON *o, const char *want)
{
	char *s = masked(o);
	int ok = s && !strcmp(s, want);

	if (!ok)
		printf("# got  %s\n# want %s\n", s ? s : "(null)", want);
	free(s);
	return ok;
}

static void
fold(cJSON *rec, const char *line)
{
	cJSON *o = run_check_line(line, strlen(line), err, sizeof(err));

	CHECK(o != NULL);
	run_fold(rec, o);
	cJSON_Delete(o);
}

static void
test_check_line(void)
{
	const char *s = "{\"event\":\"metrics\",\"step\":3,\"data\":{\"acc\":0.5}}";
	cJSON *o;
	int64_t ms;

	CHECK(accepts("{\"event\":\"started\"}"));
	CHECK(accepts("{\"event\":\"x.y_z-1\",\"data\":{}}"));
	CHECK(accepts("  {\"event\":\"e\",\"step\":0}  "));
	CHECK(accepts("{\"event\":\"e\",\"step\":9007199254740992}"));
	CHECK(accepts("{\"event\":\"e\",\"step\":1e3}"));
	CHECK(rejects("", "malformed JSON"));
	CHECK(rejects("{\"event\":", "malformed JSON"));
	CHECK(rejects("event", "malformed JSON"));
	CHECK(rejects("{\"event\":\"a\"} junk", "junk after"));
	CHECK(rejects("{\"event\":\"a\"}{\"event\":\"b\"}", "junk after"));
	CHECK(rejects("[1,2]", "expected a JSON object"));
	CHECK(rejects("\"event\"", "expected a JSON object"));
	CHECK(rejects("{}", "expected a string \"event\""));
	CHECK(rejects("{\"event\":5}", "expected a string \"event\""));
	CHECK(rejects("{\"event\":\"\"}", "is empty"));
	CHECK(rejects("{\"event\":\"a b\"}", "event name 'a b' contains ' '"));
	CHECK(rejects("{\"event\":\"-a\"}", "starts with '-'"));
	CHECK(rejects("{\"event\":\"a/b\"}", "contains '/'"));
	CHECK(rejects("{\"event\":\"e\",\"data\":5}", "\"data\" must be an object"));
	CHECK(rejects("{\"event\":\"e\",\"data\":[1]}", "\"data\" must be an object"));
	CHECK(rejects("{\"event\":\"e\",\"data\":null}", "\"data\" must be an object"));
	CHECK(rejects("{\"event\":\"e\",\"step\":-1}", "\"step\" must be a whole number"));
	CHECK(rejects("{\"event\":\"e\",\"step\":1.5}", "\"step\" must be a whole number"));
	CHECK(rejects("{\"event\":\"e\",\"step\":\"3\"}", "\"step\" must be a whole number"));
	CHECK(rejects("{\"event\":\"e\",\"step\":1e300}", "\"step\" must be a whole number"));

	/* the length is honoured: what follows it is not part of the line */
	o = run_check_line("{\"event\":\"a\"}XYZ", 13, err, sizeof(err));
	CHECK(o != NULL);
	cJSON_Delete(o);

	/* time is added first, and the rest keeps its order */
	o = run_check_line(s, strlen(s), err, sizeof(err));
	CHECK(o != NULL && o->child && !strcmp(o->child->string, "time"));
	CHECK(o && time_parse_iso(json_str(o, "time"), &ms) == 0 &&
	    llabs(ms - time_now_ms()) < 60000);
	CHECK(o && same(o, "{\"time\":\"T\",\"event\":\"metrics\",\"step\":3,\"data\":{\"acc\":0.5}}"));
	cJSON_Delete(o);

	/* a time that is there is kept */
	s = "{\"event\":\"e\",\"time\":\"2020-01-02T03:04:05.678Z\"}";
	o = run_check_line(s, strlen(s), err, sizeof(err));
	CHECK(o && !strcmp(json_str(o, "time"), "2020-01-02T03:04:05.678Z"));
	CHECK(o && o->child && !strcmp(o->child->string, "event"));
	cJSON_Delete(o);
}

static void
test_fold(void)
{
	cJSON *rec = cJSON_Parse("{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"running\"}");

	fold(rec, "{\"event\":\"hparams\",\"data\":{\"lr\":0.1,\"opt\":\"sgd\"}}");
	fold(rec, "{\"event\":\"hparams\",\"data\":{\"lr\":0.01,\"bs\":[32,64]}}");
	CHECK(same(rec, "{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"running\","
	    "\"hparams\":{\"lr\":0.01,\"opt\":\"sgd\",\"bs\":[32,64]}}"));

	fold(rec, "{\"event\":\"metrics\",\"step\":1,\"data\":{\"acc\":0.5,\"loss\":2}}");
	fold(rec, "{\"event\":\"metrics\",\"step\":2,\"data\":{\"acc\":0.75}}");
	CHECK(json_num(cJSON_GetObjectItem(rec, "metrics"), "acc", -1) == 0.75);
	CHECK(json_num(cJSON_GetObjectItem(rec, "metrics"), "loss", -1) == 2);
	CHECK(json_num(rec, "step", -1) == 2);
	/* metrics without a step keep the last step */
	fold(rec, "{\"event\":\"metrics\",\"data\":{\"loss\":1.5}}");
	CHECK(json_num(rec, "step", -1) == 2);
	CHECK(json_num(cJSON_GetObjectItem(rec, "metrics"), "loss", -1) == 1.5);
	fold(rec, "{\"event\":\"metrics\",\"step\":10,\"data\":{\"acc\":0.9}}");
	CHECK(json_num(rec, "step", -1) == 10);

	fold(rec, "{\"event\":\"tags\",\"data\":{\"top5\":true}}");
	fold(rec, "{\"event\":\"tags\",\"data\":{\"note\":\"x\",\"top5\":false}}");
	/* other events, and events without data, change nothing */
	fold(rec, "{\"event\":\"checkpoint\",\"data\":{\"acc\":0}}");
	fold(rec, "{\"event\":\"metrics\",\"step\":99}");
	CHECK(same(rec, "{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"running\","
	    "\"hparams\":{\"lr\":0.01,\"opt\":\"sgd\",\"bs\":[32,64]},"
	    "\"metrics\":{\"acc\":0.9,\"loss\":1.5},\"step\":10,"
	    "\"tags\":{\"top5\":false,\"note\":\"x\"}}"));
	cJSON_Delete(rec);

	/* logged hparams leave the given ones alone; old records give "hparams" */
	rec = cJSON_Parse("{\"hparams\":{\"lr\":0.1},\"given_hparams\":{\"lr\":0.1}}");
	fold(rec, "{\"event\":\"hparams\",\"data\":{\"epochs\":10,\"lr\":0.2}}");
	CHECK(same(rec, "{\"hparams\":{\"lr\":0.2,\"epochs\":10},"
	    "\"given_hparams\":{\"lr\":0.1}}"));
	CHECK(run_given_hparams(rec) == cJSON_GetObjectItem(rec, "given_hparams"));
	cJSON_DeleteItemFromObject(rec, "given_hparams");
	CHECK(run_given_hparams(rec) == cJSON_GetObjectItem(rec, "hparams"));
	cJSON_DeleteItemFromObject(rec, "hparams");
	CHECK(run_given_hparams(rec) == NULL);
	cJSON_Delete(rec);

	/* a record whose metrics is not an object gets one */
	rec = cJSON_Parse("{\"metrics\":5}");
	fold(rec, "{\"event\":\"metrics\",\"data\":{\"a\":1}}");
	CHECK(same(rec, "{\"metrics\":{\"a\":1}}"));
	cJSON_Delete(rec);

	CHECK(run_status_final("completed") && run_status_final("failed") &&
	    run_status_final("cancelled") && run_status_final("pruned"));
	CHECK(!run_status_final("running") && !run_status_final("queued") &&
	    !run_status_final(NULL) && !run_status_final(""));
}

static int
set_step(cJSON *rec, void *arg)
{
	(void)arg;
	json_set_num(rec, "step", 3);
	return 0;
}

static void
test_store(const char *root)
{
	struct store *st = store_open(root, err, sizeof(err));
	cJSON *rec, *back, *line;
	struct sbuf sb;
	char *p;
	int rc;

	CHECK(st != NULL);
	if (!st)
		return;
	sbuf_init(&sb, 1 << 20);
	CHECK(!strcmp(p = run_path("ws1", "run7.2", "log.jsonl"), "ws/ws1/runs/run7.2/log.jsonl"));
	free(p);
	CHECK(!strcmp(p = run_index_path("ws1"), "ws/ws1/index/runs.jsonl"));
	free(p);

	CHECK(run_load(st, "ws1", "run1", &rc) == NULL && rc == STORE_ENOENT &&
	    !strcmp(store_error(st), "no run 'run1' in workspace 'ws1'"));
	rec = cJSON_Parse("{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"queued\"}");
	CHECK(run_save(st, rec) == 0);
	CHECK(store_get(st, "ws/ws1/runs/run1/run.json", 0, -1, &sb) == 0 &&
	    !strcmp(sb.buf, "{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"queued\"}\n"));
	json_set_str(rec, "status", "running");
	CHECK(run_save(st, rec) == 0);
	CHECK(run_update(st, "ws1", "run1", 0, set_step, NULL, NULL) == 0);
	CHECK(store_get(st, "ws/ws1/index/runs.jsonl", 0, -1, &sb) == 0 &&
	    !strcmp(sb.buf, "{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"queued\"}\n"
	    "{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"running\"}\n"));
	back = run_load(st, "ws1", "run1", &rc);
	CHECK(back && rc == 0 && same(back,
	    "{\"ws\":\"ws1\",\"run\":\"run1\",\"status\":\"running\",\"step\":3,\"rev\":1}"));
	cJSON_Delete(back);
	cJSON_Delete(rec);

	rec = cJSON_Parse("{\"run\":\"run2\"}");
	CHECK(run_save(st, rec) == STORE_EINVAL);
	cJSON_Delete(rec);
	CHECK(store_put(st, "ws/ws1/runs/run3/run.json", "[1]", 3) == 0);
	CHECK(run_load(st, "ws1", "run3", &rc) == NULL && rc == STORE_ECORRUPT);

	/* run_event: {"time","event",["step"],["data"]} lines, appended */
	CHECK(run_event(st, "ws1", "run1", "started", -1, NULL) == 0);
	CHECK(run_event(st, "ws1", "run1", "metrics", 5,
	    cJSON_Parse("{\"acc\":0.5}")) == 0);
	CHECK(store_get(st, "ws/ws1/runs/run1/log.jsonl", 0, -1, &sb) == 0);
	p = strchr(sb.buf, '\n');
	CHECK(p != NULL && p[1] && strchr(p + 1, '\n') && strchr(p + 1, '\n')[1] == '\0');
	if (p) {
		line = run_check_line(sb.buf, (size_t)(p - sb.buf), err, sizeof(err));
		CHECK(line && same(line, "{\"time\":\"T\",\"event\":\"started\"}"));
		CHECK(line && line->child && !strcmp(line->child->string, "time"));
		cJSON_Delete(line);
		line = run_check_line(p + 1, strlen(p + 1), err, sizeof(err));
		CHECK(line && same(line,
		    "{\"time\":\"T\",\"event\":\"metrics\",\"step\":5,\"data\":{\"acc\":0.5}}"));
		cJSON_Delete(line);
	}
	sbuf_release(&sb);
	store_close(st);
}

/* Lines of ws1's index naming run with status. */
static int
index_count(struct store *st, const char *run, const char *status)
{
	struct sbuf sb;
	char *want = xasprintf("\"run\":\"%s\",", run), *st_want = xasprintf("\"status\":\"%s\"", status);
	char *l, *nl;
	int n = 0;

	sbuf_init(&sb, (size_t)1 << 24);
	if (store_get(st, "ws/ws1/index/runs.jsonl", 0, -1, &sb) == 0)
		for (l = sb.buf; (nl = strchr(l, '\n')); l = nl + 1) {
			*nl = '\0';
			if (strstr(l, want) && strstr(l, st_want))
				n++;
		}
	sbuf_release(&sb);
	free(want);
	free(st_want);
	return n;
}

static cJSON *
record(const char *run, const char *parent, const char *status, int children)
{
	cJSON *r = cJSON_CreateObject();

	json_set_str(r, "ws", "ws1");
	json_set_str(r, "run", run);
	if (parent)
		json_set_str(r, "parent", parent);
	json_set_str(r, "status", status);
	if (children)
		json_set_num(r, "children", children);
	return r;
}

/* Save a running parent of n children. */
static void
save_parent(struct store *st, const char *run, int n)
{
	cJSON *p = record(run, NULL, "running", n);

	run_save(st, p);
	cJSON_Delete(p);
}

/* A parent ends once, when each of its children has ended once. */
static void
test_settle(const char *root)
{
	struct store *st = store_open(root, err, sizeof(err));
	cJSON *c[8], *stale;
	char name[64];
	int i, round, ok;

	CHECK(st != NULL);
	if (!st)
		return;
	/* two children that end together both count the last one, and both
	 * read the parent as running: it must end once */
	save_parent(st, "run1", 2);
	c[0] = record("run1.1", "run1", "completed", 0);
	c[1] = record("run1.2", "run1", "failed", 0);
	run_settle_parent(st, "ws1", c[0]);
	stale = run_load(st, "ws1", "run1", NULL);
	CHECK(stale && !strcmp(json_str(stale, "status"), "running"));
	run_settle_parent(st, "ws1", c[1]);
	CHECK(index_count(st, "run1", "failed") == 1);
	/* the other child's view: the parent as it read it before */
	if (stale) {
		char *l = json_line(stale, NULL);

		store_put(st, "ws/ws1/runs/run1/run.json", l, strlen(l));
		free(l);
	}
	run_settle_parent(st, "ws1", c[1]);
	CHECK(index_count(st, "run1", "failed") == 1);
	cJSON_Delete(stale);
	cJSON_Delete(c[0]);
	cJSON_Delete(c[1]);

	/* a recovery may count a child again: it is still one child */
	save_parent(st, "run30", 3);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "run30.%d", i + 1);
		c[i] = record(name, "run30", "completed", 0);
	}
	run_settle_parent(st, "ws1", c[0]);
	run_settle_parent(st, "ws1", c[0]);
	run_settle_parent(st, "ws1", c[1]);
	CHECK(index_count(st, "run30", "completed") == 0);
	run_settle_parent(st, "ws1", c[2]);
	CHECK(index_count(st, "run30", "completed") == 1);
	for (i = 0; i < 3; i++)
		cJSON_Delete(c[i]);

	/* the child that made the marker died before the parent was saved: a
	 * settle of another child leaves it (its ender may be alive), a settle
	 * of that child again (its recovery) ends it, once */
	save_parent(st, "run40", 2);
	c[0] = record("run40.1", "run40", "completed", 0);
	c[1] = record("run40.2", "run40", "completed", 0);
	run_settle_parent(st, "ws1", c[0]);
	{
		static const char m[] = "{\"status\":\"completed\",\"ended\":\"2026-11-21T18:00:00.000Z\","
		    "\"child\":\"run40.2\"}\n";
		char *line = xasprintf("%-63s\n", "run40.2 completed");

		CHECK(store_append(st, "ws/ws1/runs/run40/ended.txt", line, strlen(line)) == 0);
		CHECK(store_create(st, "ws/ws1/runs/run40/settled", m, sizeof(m) - 1) == 0);
		free(line);
	}
	run_settle_parent(st, "ws1", c[0]);
	CHECK(index_count(st, "run40", "completed") == 0);
	run_settle_parent(st, "ws1", c[1]);
	CHECK(index_count(st, "run40", "completed") == 1);
	stale = run_load(st, "ws1", "run40", NULL);
	CHECK(stale && !strcmp(json_str(stale, "status"), "completed") &&
	    !strcmp(json_str(stale, "ended"), "2026-11-21T18:00:00.000Z"));
	cJSON_Delete(stale);
	run_settle_parent(st, "ws1", c[1]);
	run_settle_parent(st, "ws1", c[0]);
	CHECK(index_count(st, "run40", "completed") == 1);
	cJSON_Delete(c[0]);
	cJSON_Delete(c[1]);

	/* 8 children ending at once, in 8 processes, 20 times */
	ok = 1;
	for (round = 0; round < 20; round++) {
		char pn[32];

		snprintf(pn, sizeof(pn), "run%d", round + 2);
		save_parent(st, pn, 8);
		for (i = 0; i < 8; i++) {
			snprintf(name, sizeof(name), "%s.%d", pn, i + 1);
			c[i] = record(name, pn, "completed", 0);
		}
		for (i = 0; i < 8; i++)
			if (fork() == 0) {
				struct store *s2 = store_open(root, err, sizeof(err));

				run_settle_parent(s2, "ws1", c[i]);
				store_close(s2);
				_exit(0);
			}
		for (i = 0; i < 8; i++) {
			wait(NULL);
			cJSON_Delete(c[i]);
		}
		if (index_count(st, pn, "completed") != 1) {
			printf("# %s: ended %d times\n", pn, index_count(st, pn, "completed"));
			ok = 0;
		}
	}
	CHECK(ok);
	store_close(st);
}

/* life_end: the record, its "ended" event and the parent's count. */
static void
test_end(const char *root)
{
	struct store *st = store_open(root, err, sizeof(err));
	struct life l;
	cJSON *c, *got;
	struct sbuf sb;

	CHECK(st != NULL);
	if (!st)
		return;
	save_parent(st, "run40", 1);
	c = record("run40.1", "run40", "running", 0);
	json_set_str(c, "job", "job1");
	CHECK(run_save(st, c) == 0);
	cJSON_Delete(c);
	CHECK(life_open(&l, st, "ws1", "run40.1") == 0);
	CHECK(life_end(&l, "failed", 3, NULL, NULL, 0, 1795284000000) == LIFE_ENDED);
	life_release(&l);
	got = run_load(st, "ws1", "run40.1", NULL);
	CHECK(got && !strcmp(json_str(got, "status"), "failed") &&
	    !strcmp(json_str(got, "ended"), "2026-11-21T18:00:00.000Z") &&
	    json_num(got, "exit_code", 0) == 3);
	cJSON_Delete(got);
	CHECK(index_count(st, "run40.1", "failed") == 1);
	/* the only child has ended: so has its parent */
	CHECK(index_count(st, "run40", "failed") == 1);
	sbuf_init(&sb, 1 << 16);
	CHECK(store_get(st, "ws/ws1/runs/run40.1/log.jsonl", 0, -1, &sb) == 0 &&
	    strstr(sb.buf, "\"event\":\"ended\",\"data\":{\"status\":\"failed\",\"exit_code\":3}"));
	sbuf_release(&sb);

	/* a waiting run is cancelled; one that is not waiting is left alone */
	c = record("run41", NULL, "queued", 0);
	CHECK(run_save(st, c) == 0);
	cJSON_Delete(c);
	CHECK(life_cancel(st, "ws1", "run41", "why") == 0);
	CHECK(life_cancel(st, "ws1", "run41", "why") == 1);
	got = run_load(st, "ws1", "run41", NULL);
	CHECK(got && !strcmp(json_str(got, "status"), "cancelled") && json_str(got, "ended"));
	cJSON_Delete(got);
	sbuf_init(&sb, 1 << 16);
	CHECK(store_get(st, "ws/ws1/runs/run41/log.jsonl", 0, -1, &sb) == 0 &&
	    strstr(sb.buf, "\"event\":\"cancelled\",\"data\":{\"reason\":\"why\"}") &&
	    strstr(sb.buf, "\"data\":{\"status\":\"cancelled\"}"));
	sbuf_release(&sb);
	store_close(st);
}

/* The name of the second run of a job's record, or "". */
static const char *
second_run(const cJSON *job)
{
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(job, "runs"), 1);

	return cJSON_IsString(r) ? r->valuestring : "";
}

/* run_job_get: a job's record read again unchanged is the same parse; lent once at a time. */
static void
test_job_get(const char *root)
{
	struct store *st = store_open(root, err, sizeof(err));
	const char *a = "{\"job\":\"job1\",\"runs\":[\"run1.1\",\"run1.2\"]}\n";
	const char *b = "{\"job\":\"job1\",\"runs\":[\"run1.1\",\"run1.3\"]}\n";
	const cJSON *j1, *j2, *j3;

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK(store_put(st, "ws/ws1/jobs/job1/job.json", a, strlen(a)) == 0);
	CHECK(store_put(st, "ws/ws1/jobs/job2/job.json", b, strlen(b)) == 0);
	j1 = run_job_get(st, "ws1", "job1");
	CHECK(j1 && !strcmp(second_run(j1), "run1.2"));
	/* lent: another get parses its own, given back freed */
	j2 = run_job_get(st, "ws1", "job1");
	CHECK(j2 && j2 != j1 && cJSON_Compare(j1, j2, 1));
	run_job_put(j2);
	run_job_put(j1);
	/* back: the same bytes are the same parse */
	j2 = run_job_get(st, "ws1", "job1");
	CHECK(j2 == j1);
	run_job_put(j2);
	/* other bytes (another job, or a record changed) are parsed */
	j3 = run_job_get(st, "ws1", "job2");
	CHECK(j3 && !strcmp(second_run(j3), "run1.3"));
	run_job_put(j3);
	CHECK(store_put(st, "ws/ws1/jobs/job2/job.json", a, strlen(a)) == 0);
	j3 = run_job_get(st, "ws1", "job2");
	CHECK(j3 && !strcmp(second_run(j3), "run1.2"));
	run_job_put(j3);
	CHECK(run_job_get(st, "ws1", "job9") == NULL);
	run_job_put(NULL);
	store_close(st);
}

struct race {
	struct store *st;
	int calls;
};

/* Start the run; on the first call, another writer puts the record meanwhile. */
static int
race_fn(cJSON *rec, void *arg)
{
	struct race *r = arg;

	if (r->calls++ == 0) {
		static const char other[] = "{\"ws\":\"ws1\",\"run\":\"run50\",\"status\":\"running\","
		    "\"tags\":{\"theirs\":1}}\n";

		store_put(r->st, "ws/ws1/runs/run50/run.json", other, sizeof(other) - 1);
	}
	json_set_str(rec, "status", "running");
	return 0;
}

static int
to_status(cJSON *rec, void *arg)
{
	json_set_str(rec, "status", arg);
	return 0;
}

/* run_update: a put meanwhile makes it read again; statuses only go forward. */
static void
test_update(const char *root)
{
	struct store *st = store_open(root, err, sizeof(err));
	struct race r = { st, 0 };
	cJSON *c, *got, *base, *mine;

	CHECK(st != NULL);
	if (!st)
		return;
	/* the store's conditional put: only over the version read */
	{
		char v1[STORE_VER_MAX], v2[STORE_VER_MAX];
		struct sbuf sb;

		sbuf_init(&sb, 1 << 16);
		CHECK(store_put(st, "a/x", "one", 3) == 0);
		CHECK(store_get_ver(st, "a/x", &sb, v1) == 0 && sb.len == 3 && v1[0]);
		CHECK(store_put_if(st, "a/x", "two", 3, v1) == 0);
		CHECK(store_get_ver(st, "a/x", &sb, v2) == 0 && !memcmp(sb.buf, "two", 3) &&
		    strcmp(v1, v2) != 0);
		CHECK(store_put_if(st, "a/x", "three", 5, v1) == STORE_ECONFLICT);
		CHECK(!strcmp(store_error(st), "'a/x' changed since it was read"));
		CHECK(store_get(st, "a/x", 0, -1, &sb) == 0 && !memcmp(sb.buf, "two", 3));
		CHECK(store_put_if(st, "a/y", "new", 3, v1) == STORE_ENOENT);
		CHECK(store_get_ver(st, "a/y", &sb, v2) == STORE_ENOENT);
		sbuf_release(&sb);
	}
	c = record("run50", NULL, "queued", 0);
	CHECK(run_save(st, c) == 0);
	cJSON_Delete(c);
	CHECK(run_update(st, "ws1", "run50", 0, race_fn, &r, &got) == 0);
	CHECK(r.calls == 2);
	CHECK(got && !strcmp(json_str(got, "status"), "running"));
	/* each save's "rev" one more than the record read had: 1 after one save */
	CHECK(got && run_rev(got) == 1);
	cJSON_Delete(got);
	CHECK(run_update(st, "ws1", "run50", 0, to_status, "queued", NULL) == STORE_ECONFLICT);
	CHECK(!strcmp(store_error(st), "run 'run50' is running: it cannot become queued"));
	CHECK(run_update(st, "ws1", "run50", RUN_RETRY, to_status, "queued", NULL) == 0);
	CHECK(run_update(st, "ws1", "run50", 0, to_status, "completed", NULL) == 0);
	CHECK(run_update(st, "ws1", "run50", RUN_RETRY, to_status, "running", NULL) ==
	    STORE_ECONFLICT);
	CHECK(run_update(st, "ws1", "run50", 0, to_status, "queued", NULL) == STORE_ECONFLICT);
	CHECK(run_update(st, "ws1", "run50", RUN_REQUEUE, to_status, "queued", NULL) == 0);
	CHECK(run_update(st, "ws1", "run51", 0, to_status, "queued", NULL) == STORE_ENOENT);
	/* three saves since, the refused changes none */
	c = run_load(st, "ws1", "run50", NULL);
	CHECK(c && run_rev(c) == 4);
	cJSON_Delete(c);

	/* run_update_from: the caller's copy, put if nobody put the record since */
	{
		char v[STORE_VER_MAX];
		cJSON *known;

		c = record("run52", NULL, "queued", 0);
		CHECK(run_save(st, c) == 0);
		cJSON_Delete(c);
		known = run_load_ver(st, "ws1", "run52", NULL, v);
		CHECK(known && v[0]);
		CHECK(run_update_from(st, "ws1", "run52", 0, to_status, "running", &got, known, v) == 0);
		CHECK(got && !strcmp(json_str(got, "status"), "running"));
		cJSON_Delete(got);
		/* somebody put it since: read again, their change kept */
		c = run_load(st, "ws1", "run52", NULL);
		json_set_str(c, "mark", "theirs");
		CHECK(run_save(st, c) == 0);
		cJSON_Delete(c);
		CHECK(run_update_from(st, "ws1", "run52", 0, to_status, "completed", &got, known, v) ==
		    0);
		CHECK(got && !strcmp(json_str(got, "status"), "completed") &&
		    json_str(got, "mark") && !strcmp(json_str(got, "mark"), "theirs"));
		cJSON_Delete(got);
		/* a move the copy allows, which the record as it is does not: refused */
		CHECK(run_update_from(st, "ws1", "run52", 0, to_status, "queued", NULL, known, v) ==
		    STORE_ECONFLICT);
		CHECK(!strcmp(store_error(st), "run 'run52' is completed: it cannot become queued"));
		/* "": unknown, as run_update */
		CHECK(run_update_from(st, "ws1", "run52", RUN_REQUEUE, to_status, "queued", &got,
		    known, "") == 0);
		CHECK(got && !strcmp(json_str(got, "status"), "queued") && json_str(got, "mark"));
		cJSON_Delete(got);
		cJSON_Delete(known);
	}

	/* a three-way merge keeps what the other writer changed */
	base = cJSON_Parse("{\"status\":\"running\",\"tags\":{\"a\":1},\"pid\":7,\"step\":1}");
	mine = cJSON_Parse("{\"status\":\"completed\",\"tags\":{\"a\":1,\"b\":2},\"step\":1}");
	c = cJSON_Parse("{\"status\":\"running\",\"tags\":{\"a\":1,\"c\":3},\"pid\":7,"
	    "\"step\":5}");
	run_merge(c, base, mine);
	CHECK(same(c, "{\"status\":\"completed\",\"tags\":{\"a\":1,\"c\":3,\"b\":2},\"step\":5}"));
	cJSON_Delete(base);
	cJSON_Delete(mine);
	cJSON_Delete(c);
	store_close(st);
}

int
main(void)
{
	char dir[] = "/tmp/u-run.XXXXXX", *root, *cmd;

	test_check_line();
	test_fold();
	CHECK(mkdtemp(dir) != NULL);
	root = path_join(dir, "s");
	test_store(root);
	free(root);
	root = path_join(dir, "update");
	test_update(root);
	free(root);
	root = path_join(dir, "settle");
	test_settle(root);
	free(root);
	root = path_join(dir, "end");
	test_end(root);
	free(root);
	root = path_join(dir, "jobget");
	test_job_get(root);
	cmd = xasprintf("rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
	free(cmd);
	free(root);
	return check_done();
}
