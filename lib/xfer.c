/* xfer.c: a tree's files over several store connections at once (see xfer.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xfer.h"
#include "banned.h"

enum { QUEUED, RUNNING, PENDING, OK, FAILED };

struct xfer_lock {
	pthread_mutex_t mu;
	pthread_cond_t cond;	/* a job's state changed */
	struct xfer_worker *ws;
};

struct xfer_worker {
	struct xfer *x;
	struct store *st;	/* NULL: could not open one, does nothing */
	int own;		/* st is this worker's, closed at its end */
	int64_t inflight;	/* bytes of the current job done so far */
	size_t *pend;		/* jobs waiting for the commit */
	size_t npend;
	int64_t pend_bytes;
	pthread_t th;
};

static struct xfer_lock *
lk(struct xfer *x)
{
	return x->lk;
}

int
xfer_parse(const char *val)
{
	int64_t v;

	if (parse_i64(val, 1, XFER_MAX, &v) < 0)
		die_status(EXIT_USAGE, "-P '%s': expected a number of connections from 1 to %d",
		    val, XFER_MAX);
	return (int)v;
}

int
xfer_workers(struct store *st, int given)
{
	dev_t dev;
	int n = given ? given : store_dev(st, &dev) == 0 ? 1 : XFER_REMOTE_DEFAULT;

	store_parallel(st, n);
	return n;
}

void
xfer_unlock(struct xfer_worker *w)
{
	pthread_mutex_unlock(&lk(w->x)->mu);
}

void
xfer_lock(struct xfer_worker *w)
{
	pthread_mutex_lock(&lk(w->x)->mu);
}

/* The progress line: bytes of the jobs done plus those of the jobs going on. Locked. */
static void
show(struct xfer *x)
{
	int64_t sum = 0;
	int i;

	if (!x->pg)
		return;
	for (i = 0; i < x->workers; i++)
		sum += lk(x)->ws[i].inflight;
	progress_cb(sum, -1, x->pg);
}

void
xfer_progress(int64_t done, int64_t total, void *arg)
{
	struct xfer_worker *w = arg;

	(void)total;
	xfer_lock(w);
	w->inflight = done;
	show(w->x);
	xfer_unlock(w);
}

/* Job i is over (OK or FAILED). Locked. */
static void
finish(struct xfer *x, size_t i, int state)
{
	x->state[i] = (unsigned char)state;
	pthread_cond_broadcast(&lk(x)->cond);
}

/* Commit w's batch: its pending jobs are done, or all failed with the commit's message. Locked. */
static void
commit(struct xfer_worker *w, int again)
{
	struct xfer *x = w->x;
	size_t j;
	int rc;

	if (!w->npend)
		return;
	xfer_unlock(w);
	rc = store_commit(w->st);
	xfer_lock(w);
	for (j = 0; j < w->npend; j++) {
		if (rc < 0 && j == 0)
			x->err[w->pend[j]] = xstrdup(store_error(w->st));
		else if (rc < 0)
			x->err[w->pend[j]] = xstrdup("");
		finish(x, w->pend[j], rc < 0 ? FAILED : OK);
	}
	w->npend = 0;
	w->pend_bytes = 0;
	if (x->batch && again)
		store_batch_begin(w->st);
}

static void *
work(void *arg)
{
	struct xfer_worker *w = arg;
	struct xfer *x = w->x;

	xfer_lock(w);
	if (!w->st) {
		char err[1024];
		/* the backends' lazy set-up is not for threads at once: one opens at a time */
		static pthread_mutex_t opening = PTHREAD_MUTEX_INITIALIZER;

		xfer_unlock(w);
		pthread_mutex_lock(&opening);
		w->st = store_open(store_url(x->st), err, sizeof(err));
		pthread_mutex_unlock(&opening);
		xfer_lock(w);
		if (!w->st) {
			xfer_unlock(w);
			return NULL;
		}
		w->own = 1;
		store_parallel(w->st, x->workers);
	}
	if (x->batch)
		store_batch_begin(w->st);
	while (x->next < x->n) {
		size_t i = x->next++;
		int rc;

		x->state[i] = RUNNING;
		w->inflight = 0;
		rc = x->run(x, w, w->st, i);
		w->inflight = 0;
		if (x->pg)
			progress_add(x->pg, x->size[i]);
		if (rc == XFER_PENDING && x->batch) {
			x->state[i] = PENDING;
			w->pend[w->npend++] = i;
			w->pend_bytes += x->size[i];
			if (w->npend >= XFER_BATCH_FILES || w->pend_bytes >= XFER_BATCH_BYTES)
				commit(w, 1);
		} else {
			finish(x, i, rc == XFER_FAILED ? FAILED : OK);
		}
	}
	commit(w, 0);
	xfer_unlock(w);
	return NULL;
}

int
xfer_run(struct xfer *x)
{
	struct xfer_lock l;
	struct xfer_worker *ws;
	int i, started = 0, ret = 0;

	if (x->workers < 1)
		x->workers = 1;
	if ((size_t)x->workers > x->n)
		x->workers = x->n ? (int)x->n : 1;
	ws = xcalloc((size_t)x->workers, sizeof(*ws));
	pthread_mutex_init(&l.mu, NULL);
	pthread_cond_init(&l.cond, NULL);
	l.ws = ws;
	x->lk = &l;
	x->err = xcalloc(x->n ? x->n : 1, sizeof(*x->err));
	x->state = xcalloc(x->n ? x->n : 1, 1);
	x->next = x->reported = 0;
	for (i = 0; i < x->workers; i++) {
		ws[i].x = x;
		ws[i].st = i == 0 ? x->st : NULL;
		ws[i].pend = xcalloc(XFER_BATCH_FILES, sizeof(*ws[i].pend));
	}
	pthread_mutex_lock(&l.mu);
	/* worker 0 first, alone for a moment: others start when there is more than one job */
	for (i = 0; i < x->workers; i++) {
		if (pthread_create(&ws[i].th, NULL, work, &ws[i]) != 0) {
			if (i == 0)
				die("cannot start a thread");
			break;
		}
		started++;
	}
	while (x->reported < x->n) {
		size_t j = x->reported;

		if (x->state[j] != OK && x->state[j] != FAILED) {
			pthread_cond_wait(&l.cond, &l.mu);
			continue;
		}
		if (x->state[j] == FAILED)
			ret = 1;
		x->done(x, j, x->state[j] == FAILED ? (x->err[j] ? x->err[j] : "") : NULL);
		free(x->err[j]);
		x->err[j] = NULL;
		x->reported++;
	}
	pthread_mutex_unlock(&l.mu);
	for (i = 0; i < started; i++) {
		pthread_join(ws[i].th, NULL);
		if (ws[i].own)
			store_close(ws[i].st);
		free(ws[i].pend);
	}
	free(ws);
	free(x->err);
	free(x->state);
	x->err = NULL;
	x->state = NULL;
	x->lk = NULL;
	pthread_cond_destroy(&l.cond);
	pthread_mutex_destroy(&l.mu);
	return ret;
}
