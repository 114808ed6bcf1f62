/*
 * xfer.h: a tree's files moved over several store connections at once.
 *
 * xfer_run hands jobs 0..n-1 (one a file, in the caller's order) to up
 * to `workers` threads. Worker 0 uses the caller's store handle; each
 * other one opens its own (store_open of store_url), so that each has
 * its own connection; a worker whose store cannot be opened does nothing
 * and the others do its share. Jobs start in order; their results come
 * back in order too: x->done is called for job i only after it was
 * called for every job before i, in the calling thread, so the output of
 * a parallel transfer is the same as a sequential one's.
 *
 * In batch mode (x->batch) every worker writes between store_batch_begin
 * and store_commit, and commits after XFER_BATCH_FILES objects or
 * XFER_BATCH_BYTES bytes of its own and at its end: a job whose run
 * returned XFER_PENDING is done only when its worker's commit is.
 *
 * Callbacks run with xfer's lock held, so they may share state with
 * each other (a hash cache, the progress line) without their own lock,
 * but x->run must call xfer_unlock around its store calls, which are
 * the slow part and run in parallel.
 */
#ifndef XT_XFER_H
#define XT_XFER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tool.h"

#define XFER_BATCH_FILES 1000
#define XFER_BATCH_BYTES ((int64_t)256 << 20)
/* Connections of a tree transfer when the user gives none (-P): Azure CLI's like */
#define XFER_REMOTE_DEFAULT 8
#define XFER_MAX 64

enum { XFER_DONE = 0, XFER_PENDING = 1, XFER_FAILED = -1 };

struct xfer_worker;

struct xfer {
	struct store *st;	/* the caller's handle: worker 0's */
	int workers;		/* 1 .. XFER_MAX */
	int batch;
	size_t n;
	const int64_t *size;	/* bytes of each job, for the progress line and batches */
	struct progress *pg;	/* or NULL */
	/*
	 * Do job i on ws, called with the lock held: XFER_DONE, XFER_PENDING
	 * (batch mode: visible at the worker's commit) or XFER_FAILED with
	 * the message in x->err[i] (caller's xstrdup; xfer frees it).
	 */
	int (*run)(struct xfer *x, struct xfer_worker *w, struct store *ws, size_t i);
	/* Job i is over: err NULL when it succeeded, else its message ("" if told already). */
	void (*done)(struct xfer *x, size_t i, const char *err);
	void *arg;
	/* private */
	char **err;
	unsigned char *state;
	size_t next, reported;
	void *lk;
};

/* Run the jobs. 0 when every one succeeded, else 1. */
int xfer_run(struct xfer *x);
/* In x->run: let the other workers go on during a store call, then take the lock back. */
void xfer_unlock(struct xfer_worker *w);
void xfer_lock(struct xfer_worker *w);
/* A store_progress_fn for x->run's transfer: arg is the worker. */
void xfer_progress(int64_t done, int64_t total, void *arg);
/* The value of option -P (--parallel): 1 .. XFER_MAX, else die with status 2. */
int xfer_parse(const char *val);
/*
 * The connections of a tree transfer on st: given when not 0 (-P N),
 * else XFER_REMOTE_DEFAULT for a store reached over a network and 1 for
 * a folder store. Tells the store (store_parallel) too, for big objects.
 */
int xfer_workers(struct store *st, int given);

#endif
