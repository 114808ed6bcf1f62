/*
 * target_local.c: the local target, the spool of this machine
 * ($XT_HOME/spool, queue.h) drained by xt-runq.
 *
 * Submit: job_create has put the runs into the spool, in the same commit
 * as the job (job.h), so nothing is left to do. Cancel: a running run's
 * executor gets SIGTERM with the grace period; a waiting one is claimed
 * and recorded cancelled. Poll: the spool, then the records of the runs
 * it does not hold. Drain: xt-runq -t NAME in the foreground.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hmap.h"
#include "json.h"
#include "life.h"
#include "queue.h"
#include "run.h"
#include "runexec.h"
#include "target_int.h"
#include "banned.h"

static int
local_open(struct target *t, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	free(t->where);
	t->where = xstrdup("the local queue");
	return 0;
}

static int
local_submit(struct target *t, struct store *st, const cJSON *job, const cJSON *runs)
{
	(void)t;
	(void)st;
	(void)job;
	(void)runs;
	return 0;
}

struct killarg {
	int grace_ms;		/* -1: the executor's own */
	const char *ws;
	char *const *names;
	size_t n;
	int *found;
	cJSON *queued;		/* names of matching waiting runs */
};

static int
kill_each(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	struct killarg *k = arg;

	if (!target_match(data, k->ws, k->names, k->n, k->found))
		return 0;
	if (!strcmp(state, "running") && pid > 0) {
		/* the entry's token: its executor may have gone on to another run since */
		sigqueue((pid_t)pid, SIGTERM, runexec_sigval(k->grace_ms, queue_token(name)));
	} else if (!strcmp(state, "queued")) {
		cJSON_AddItemToArray(k->queued, cJSON_CreateString(json_str(data, "run")));
	}
	return 0;
}

static int
local_cancel(struct target *t, struct store *st, const char *ws, char *const *names, size_t n,
    int grace_ms, int *found)
{
	struct queue q;
	struct killarg k = { grace_ms, ws, names, n, found, cJSON_CreateArray() };
	const cJSON *it;

	(void)t;
	queue_open(&q, NULL);
	queue_each(&q, kill_each, &k);
	/* waiting runs are taken out of the queue (if nobody started them meanwhile) */
	cJSON_ArrayForEach(it, k.queued) {
		cJSON *m = cJSON_CreateObject();
		struct queue_entry e;

		json_set_str(m, "ws", ws);
		json_set_str(m, "run", it->valuestring);
		if (queue_claim(&q, 0, m, &e) == 1) {
			if (life_cancel(st, ws, it->valuestring, "killed with xt-runq kill") < 0)
				warnx("run %s: %s", it->valuestring, store_error(st));
			queue_done(&q, &e);
			queue_entry_release(&e);
		}
		cJSON_Delete(m);
	}
	cJSON_Delete(k.queued);
	queue_close(&q);
	return 0;
}

struct pollarg {
	const char *url, *ws;
	struct hmap m;		/* run name -> its index in runs */
	struct target_status *runs;
};

static int
poll_one(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	struct pollarg *a = arg;
	const char *url = json_str(data, "store"), *ws = json_str(data, "ws");
	const char *run = json_str(data, "run");
	size_t *i;

	(void)name;
	if (!ws || !run || strcmp(ws, a->ws) || (url && strcmp(url, a->url)) ||
	    !(i = hmap_get(&a->m, run, strlen(run))))
		return 0;
	if (!strcmp(state, "running")) {
		a->runs[*i].state = TARGET_RUNNING;
		a->runs[*i].pid = pid;
		if (gethostname(a->runs[*i].node, sizeof(a->runs[*i].node)) < 0)
			a->runs[*i].node[0] = '\0';
		a->runs[*i].node[sizeof(a->runs[*i].node) - 1] = '\0';
	} else if (a->runs[*i].state != TARGET_RUNNING) {
		a->runs[*i].state = TARGET_QUEUED;
	}
	return 0;
}

/* A run the spool did not hold: ended, or lost. 0 or a TARGET_E* code. */
static int
settle_gone(struct target *t, struct store *st, const char *ws, struct target_status *s)
{
	struct queue q;
	int rc, again;
	cJSON *rec;

	for (again = 0; again < 2; again++) {
		if (!(rec = run_load(st, ws, s->run, &rc)) && rc != STORE_ENOENT)
			return target_fail(t, TARGET_EFAIL, "%s", store_error(st));
		snprintf(s->status, sizeof(s->status), "%s", rec && json_str(rec, "status") ?
		    json_str(rec, "status") : "");
		s->state = rec && run_status_final(s->status) ? TARGET_ENDED : TARGET_LOST;
		cJSON_Delete(rec);
		if (s->state == TARGET_ENDED || again)
			break;
		/* an entry moving from queue/ to running/ may have been missed: look again */
		queue_open(&q, NULL);
		rc = queue_find(&q, ws, s->run);
		queue_close(&q);
		if (rc != QUEUE_NONE) {
			s->state = rc == QUEUE_RUNNING ? TARGET_RUNNING : TARGET_QUEUED;
			s->status[0] = '\0';
			break;
		}
	}
	return 0;
}

static int
local_poll(struct target *t, struct store *st, const char *ws, struct target_status *runs,
    size_t n)
{
	struct pollarg a = { store_url(st), ws, { 0 }, runs };
	struct queue q;
	size_t i;
	int isnew, rc = 0;

	hmap_init(&a.m);
	for (i = 0; i < n; i++)
		*hmap_put(&a.m, runs[i].run, strlen(runs[i].run), i, &isnew) = i;
	queue_open(&q, NULL);
	queue_each(&q, poll_one, &a);
	queue_close(&q);
	hmap_release(&a.m);
	for (i = 0; i < n && rc == 0; i++)
		if (runs[i].state == TARGET_LOST)
			rc = settle_gone(t, st, ws, &runs[i]);
	return rc;
}

static int
local_drain(struct target *t)
{
	char *self = self_dir(), *runq = self ? xasprintf("%s/xt-runq", self) : xstrdup("xt-runq");
	pid_t pid;
	int status, code, rc = 0;

	free(self);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(2, 1);
		execlp(runq, "xt-runq", "-t", t->name, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		free(runq);
		return target_fail(t, TARGET_EFAIL, "cannot fork: %s", strerror(errno));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	/* 1: a run failed, which the runs' records tell */
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		rc = target_fail(t, TARGET_EFAIL, "'%s' failed (status %d): the runs stay queued",
		    runq, code);
	free(runq);
	return rc;
}

struct listarg {
	target_list_fn fn;
	void *arg;
};

static int
list_one(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	struct listarg *a = arg;

	(void)name;
	return a->fn(state, data, pid, a->arg);
}

static int
local_list(struct target *t, struct store *st, const char *ws, target_list_fn fn, void *arg)
{
	struct listarg a = { fn, arg };
	struct queue q;
	int rc;

	(void)t;
	(void)st;
	(void)ws;
	queue_open(&q, NULL);
	rc = queue_each(&q, list_one, &a);
	queue_close(&q);
	return rc;
}

const struct target_ops target_local_ops = {
	"local", local_open, NULL, NULL, local_submit, local_cancel, local_poll, local_drain,
	local_list, 0, 0,
};
