/*
 * life.h: a run's life cycle, recorded in one place.
 *
 *   queued -> running -> completed | failed | cancelled | pruned
 *     ^         |
 *     +-retry---+     a failed attempt while the job's retries last
 *     ^
 *     +-requeue------  cancelled | failed, by hand (xt-runq requeue)
 *
 * Every path that records a run goes through these calls: xt-runq's
 * executor (life_begin, life_start, life_end), xt-runq kill of a waiting
 * run (life_cancel), xt-runq requeue (life_requeue), the recovery of a run
 * whose executor or node died (life_lost), and a poller of a remote target
 * can make the same calls, so a run is recorded the same way whoever runs
 * it. Retry-or-fail is decided in life_end only.
 *
 * A writer holds a run as a struct life: its own copy of the record (rec),
 * which it changes freely, and the record as it last read or saved it
 * (base). life_save puts only the writer's changes since base into the
 * stored record (run_update, run_merge), so what others wrote meanwhile
 * (tags and hparams from xt-log -r) stays, and no status goes back.
 *
 * Attempts: "attempt" counts the starts of a run (1 for the first). A
 * failed attempt is retried while attempt - "retry_base" <= the job's
 * "retries"; a requeue sets "retry_base" to the attempts so far, so the
 * run gets its retries again and its attempts go on counting.
 */
#ifndef XT_LIFE_H
#define XT_LIFE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "store.h"

struct life {
	struct store *st;
	char *ws, *run;
	cJSON *rec;		/* the writer's copy: change it, then life_save */
	cJSON *base;		/* the record as last read or saved */
	char ver[STORE_VER_MAX];	/* base's version when it was read, else "" */
	const cJSON *job;	/* the run's job record (run_job_get), or NULL */
};

/* What life_end did. */
enum { LIFE_ENDED = 0, LIFE_RETRY = 1 };

/*
 * Load ws/run's record (and its job's) into l; a run whose record is
 * deferred (run.h) gets it stored first, as the opener is to change it.
 * 0, or a STORE_E* code with the store's error set (STORE_ENOENT: no such
 * run); l is to be released either way.
 */
int life_open(struct life *l, struct store *st, const char *ws, const char *run);
/* Free l. */
void life_release(struct life *l);

/*
 * Save what l->rec changed since l->base (run_update with the flags
 * RUN_INDEX, RUN_RETRY, RUN_REQUEUE). Then rec and base are the record as
 * saved, others' changes included. 0 or a STORE_E* code with the store's
 * error set (l unchanged).
 */
int life_save(struct life *l, int flags);

/* Set key of o to the exit code (shell form), or to null when code < 0 (there was none). */
void life_set_code(cJSON *o, const char *key, int code);

/*
 * A new attempt begins (l->rec only, nothing saved): status running,
 * "started" now, "node", "attempt" one more; the end of an earlier attempt
 * ("ended", "duration", "exit_code", "error", "pid") goes.
 */
void life_begin(struct life *l, const char *node);
/* How life_start saves the record */
enum { LIFE_SAVE, LIFE_NOSAVE };
/*
 * The attempt's command runs (pid, when > 0, is its process group): save
 * the record (how: LIFE_SAVE now, LIFE_NOSAVE not at all: the end's save
 * is the first the store sees of the attempt), log "started" with the
 * attempt, and start the parent when this is its first child to start. 0
 * or a STORE_E* code.
 */
int life_start(struct life *l, long pid, int how);

/*
 * The attempt ended at t1 (ms; started at t0, 0: unknown) with status
 * (completed, failed, cancelled, pruned; requeued: by its scheduler,
 * which runs it again, so queued as a retry its retries do not count),
 * exit code (shell form; -1:
 * none), error (the record's "error", NULL: none) and reason (said in the
 * event, NULL: none). Retry-or-fail: a failed attempt with retries left
 * goes back to queued, logged as "retry" (LIFE_RETRY: the caller queues it
 * again); anything else ends: the record gets its end and is saved, "ended"
 * is logged and the parent learns of it (LIFE_ENDED). A negative STORE_E*
 * code when a step failed (the others are still done).
 */
int life_end(struct life *l, const char *status, int code, const char *error,
    const char *reason, int64_t t0, int64_t t1);

/*
 * A run whose executor, process or node died, as found by a recovery or a
 * poller (why: "its executor died", "its node died"): the one call that
 * records an attempt lost and applies the retry-or-fail rule (life_end's,
 * by the job's "retries" and the run's "retry_base"), for every target. A
 * run that is queued needs nothing but its queue entry (1). One that was
 * running is failed as "lost: why" or retried, with a "retry" event that
 * gives why as its reason: 1 when it goes back to the queue (the caller
 * queues it again on its target), 0 when it ended. One that had ended already gets what its end lacked (its index
 * line, its "ended" event, its count in its parent), once: 0. A negative
 * STORE_E* code on error.
 */
int life_lost(struct store *st, const char *ws, const char *run, const char *why);

/*
 * A queued run whose task its target lost before the run started (a Slurm
 * task that ended without starting it): counted in the record's
 * "unstarted", which life_begin clears. Under max losses: 1, the caller
 * sends it again. The max-th: the run fails, "lost: why, N times before
 * the run started", without a retry (its retries are for attempts, and it
 * made none): 0, as when it is no longer queued. A negative STORE_E* code
 * on error.
 */
int life_unstarted(struct store *st, const char *ws, const char *run, const char *why,
    int max);

/*
 * A queued run that its target refused for good (Slurm refuses its job's
 * options): failed, "refused: why", without a retry. 0 when done, 1 when
 * the run was not queued (left alone), or a STORE_E* code.
 */
int life_refused(struct store *st, const char *ws, const char *run, const char *why);

/*
 * Cancel a run that is waiting (its queue entry is the caller's): status
 * cancelled, "cancelled" (with reason) and "ended" logged, the parent
 * told. 0 when done, 1 when the run was not queued (left alone), or a
 * STORE_E* code.
 */
int life_cancel(struct store *st, const char *ws, const char *run, const char *reason);

/*
 * Put a cancelled or failed run back in the queue (the caller adds its
 * queue entry): status queued, its end removed, "retry_base" set (see
 * above), "requeued" logged; a parent that had ended goes back to queued
 * and waits for the run again. 0 when done; 1 when the run is queued
 * already (its entry may be missing: the caller adds it if so);
 * STORE_EINVAL with a message for a run that is running or completed or
 * pruned; another STORE_E* code on error.
 */
int life_requeue(struct store *st, const char *ws, const char *run);

#endif
