/*
 * queue.h: the durable local run queue (the spool) under $XT_HOME/spool.
 *
 *   queue/<ms>.<pid>.<seq>.json   runs waiting, oldest name first
 *   running/<same name>           runs claimed by an executor
 *   running/<same name>.end       runs whose command has ended, being recorded
 *   running/<same name>.pid       the executor's pid (for kill), where the
 *                                 file system has no user xattrs; else the
 *                                 entry's xattr user.xt.pid holds it
 *   lock                          taken while counting and claiming
 *   gpus/<id>.lock                held (flock) by the executor of a run
 *                                 that has GPU <id> (gpu.h)
 *
 * An entry holds {"store":URL,"ws":WS,"run":RUN,"job":JOB}. A claim locks
 * the entry with flock(2) and renames it from queue/ to running/: only one
 * claimer can win the rename. The executor keeps the lock until the run
 * has ended and the entry is removed, so an unlocked entry in running/
 * is an orphan: its executor died. Only the .json entries of running/ count
 * toward a claim's limit: an .end entry's command is gone. An entry of a
 * run that asks for GPUs has "gpus":K.
 */
#ifndef XT_QUEUE_H
#define XT_QUEUE_H

#include <sys/types.h>

#include <cjson/cJSON.h>

#include "gpu.h"

struct queue {
	char *dir, *qdir, *rdir, *lockpath;
	unsigned seq;
	char **waiting;		/* queue/ names from the last look, oldest first */
	size_t nwaiting, next;	/* how many, and the next one to try */
	int batch;		/* between queue_batch_begin and queue_commit */
	char **pend;		/* batch: written entries (temporary names) to rename */
	size_t npend, cappend;
	const struct gpu_pool *gpus;	/* queue_use_gpus: the pool, or NULL */
	char *gdir;			/* its locks' folder */
};

struct queue_entry {
	char *name;		/* file name in queue/ or running/ (.json or .json.end) */
	cJSON *data;		/* its content */
	int fd;			/* the locked file, or -1 */
	int *gpu_fd, ngpu;	/* the locks of the GPUs it holds */
	char *gpus;		/* their ids, "0,2", or NULL when it holds none */
};

/* Open (creating) the spool at $XT_HOME/spool, or at dir when not NULL. Dies on failure. */
void queue_open(struct queue *q, const char *dir);
/* Close the queue; the entries of a batch not committed are removed. */
void queue_close(struct queue *q);

/*
 * Claims hand out the GPUs of pool (not copied; NULL: none): an entry
 * with "gpus":K is claimed only with K of them, free, and holds them
 * (queue_entry's gpus) until queue_ending or queue_entry_release; other
 * entries may be claimed before it meanwhile. An entry that asks for more
 * than the pool has is claimed without any. Without a pool, "gpus" is
 * not looked at.
 */
void queue_use_gpus(struct queue *q, const struct gpu_pool *pool);

/* The queue entry of run (of job, NULL for none) in ws of the store url, from its record rec. Caller frees. */
cJSON *queue_entry_of(const char *url, const char *ws, const char *run, const char *job,
    const cJSON *rec);

/* Add an entry (data is not consumed). Returns 0 or -1 with errno. */
int queue_add(struct queue *q, const cJSON *data);
/*
 * Batches of adds: between queue_batch_begin and queue_commit, queue_add
 * writes its entries under hidden names; queue_commit flushes the spool's
 * disk once (syncfs), unless synced says the caller has flushed it since
 * the entries were written, and then renames them all into the queue, so
 * each entry appears whole, after its content is on disk. queue_commit
 * ends the batch; 0 or -1 with errno (the entries not renamed are removed).
 */
void queue_batch_begin(struct queue *q);
int queue_commit(struct queue *q, int synced);
/*
 * Remove the hidden entries (of a batch not committed, or of an add cut
 * short) whose writer is gone (its pid, in the name, names no process): a
 * submitter, or a recovery, killed before it made them visible. A pid in
 * use again keeps them. Returns how many were removed.
 */
int queue_drop_hidden(struct queue *q);
/* The file system (st_dev) of the spool, for callers that flush it themselves. */
dev_t queue_dev(const struct queue *q);
/*
 * Claim the oldest waiting entry if fewer than max entries are running
 * (locked) now, and if match is not NULL only an entry whose "ws" and
 * "run" are those of match. Returns 1 with *e filled (its fd holds the
 * lock), 0 when nothing can be claimed now, -1 on error.
 */
int queue_claim(struct queue *q, int max, const cJSON *match, struct queue_entry *e);
/* Entries now running (locked). */
int queue_nrunning(struct queue *q);
/* Entries waiting. */
int queue_nwaiting(struct queue *q);
/*
 * Orphans: entries in running/ whose lock is free. Each is returned locked,
 * one per call: 1 with *e, 0 when there are none left.
 */
int queue_orphan(struct queue *q, struct queue_entry *e);
/*
 * The claimed entry's command has ended and its run is being recorded:
 * rename it to running/<name>.end, so that it no longer counts toward the
 * limit of queue_claim, and let its GPUs go. It stays locked, and an orphan
 * if its executor dies.
 */
int queue_ending(struct queue *q, struct queue_entry *e);
/* Put a claimed entry back at the end of the queue (it stays locked until released). */
int queue_requeue(struct queue *q, struct queue_entry *e);
/* Remove a claimed entry from running/ (and its pid file). */
int queue_done(struct queue *q, struct queue_entry *e);
/* Close the entry's lock (and its GPUs') and free it. */
void queue_entry_release(struct queue_entry *e);
/*
 * Hand a claimed entry to another process over the unix socket sock (a
 * SOCK_SEQPACKET one): its name, its content and its locked file go
 * along, so the lock is held as long as the receiver keeps it, whatever
 * the sender does. e is left as it is (the caller releases it). 0, or -1
 * with errno.
 */
int queue_entry_send(int sock, const struct queue_entry *e);
/*
 * Take an entry that queue_entry_send handed over: 1 with *e (release it),
 * 0 when the other end is closed, -1 with errno (EINTR: try again).
 */
int queue_entry_recv(int sock, struct queue_entry *e);
/*
 * A number that names a running entry (name, in running/, with or without
 * ".end"), never 0: what a kill of its run says it is for (runexec.h).
 */
unsigned queue_token(const char *name);
/* Record the executor's pid for a running entry. */
int queue_set_pid(struct queue *q, const struct queue_entry *e, long pid);

/* Where the run ws/run is: QUEUE_NONE, QUEUE_WAITING or QUEUE_RUNNING (an entry in running/, .end too). */
enum { QUEUE_NONE, QUEUE_WAITING, QUEUE_RUNNING };
int queue_find(struct queue *q, const char *ws, const char *run);

/*
 * Call fn for every entry, waiting and running (.end entries too): state is
 * "queued" or "running", pid 0 if unknown.
 */
int queue_each(struct queue *q, int (*fn)(const char *state, const cJSON *data, long pid,
    const char *name, void *arg), void *arg);

#endif
