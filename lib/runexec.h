/*
 * runexec.h: run one run on this machine, start to end (xt-runq's executor).
 *
 * The run gets a folder $XT_HOME/work/<ws>/<run>/ with code/ (the job's code
 * snapshot, hard-linked from the blob cache $XT_HOME/cache/blobs), output/
 * and log.jsonl (its $XT_LOG). The executor starts the command there in a
 * process group of its own, with the environment of xt.7; copies its
 * console into the store's output.txt as it goes; forwards the lines the
 * run appends to $XT_LOG into the store's log.jsonl and folds them into the
 * record; enforces the job's time limit; on SIGTERM stops the run (TERM,
 * then KILL after the grace period) and marks it cancelled; at the end
 * captures output/ into the store, records the end, and retries a failed
 * run while the job's retry budget lasts.
 */
#ifndef XT_RUNEXEC_H
#define XT_RUNEXEC_H

#include <signal.h>

#include <cjson/cJSON.h>

#include "store.h"

enum runexec_result {
	RUNEXEC_ENDED,		/* the run reached a final status */
	RUNEXEC_RETRY,		/* it failed and goes back to the queue */
	RUNEXEC_ERROR,		/* the executor could not do its job (message printed) */
	RUNEXEC_NOTSTARTED	/* interrupted before its command started: still queued */
};

/*
 * The sigqueue value with which xt-runq passes on a signal sig it got to
 * its executors: RUNEXEC_SIG_STOP - sig (xt-runq kill sends the grace
 * period in ms, >= 0, or -1).
 */
#define RUNEXEC_SIG_STOP (-1000)

/*
 * The value to send with SIGTERM (sigqueue) to the executor of a run: v as
 * above, and token, the queue_token of the run's queue entry (0: whatever
 * run the executor runs). An executor runs one run after another, so a
 * SIGTERM that names another entry's token came for a run it has finished,
 * and is ignored. Where a pointer has 32 bits there is no room for the
 * token, and every SIGTERM counts.
 */
union sigval runexec_sigval(int v, unsigned token);

struct runexec_opts {
	double grace;		/* seconds between TERM and KILL (default 10) */
	const char *node;	/* this machine's name */
	/*
	 * When not NULL, called once the run's command has ended (and what is
	 * left of its process group is killed) and its end time is taken,
	 * before its end is recorded: from then on it no longer counts as
	 * running. Not called for a run of a search that learns from results
	 * (searchjob_learns): it counts as running until its executor exits,
	 * its end recorded.
	 */
	void (*ended)(void *arg);
	/*
	 * When not NULL, called as the run goes: what is "started" (its start
	 * is recorded), "retry" (the attempt failed and the run is queued
	 * again), "ended" (rec has its final status) or "unrecorded" (the
	 * attempt ended but its end could not be stored, which was said on
	 * stderr); secs is how long the attempt ran. rec and job are the
	 * run's and its job's records.
	 */
	void (*progress)(void *arg, const char *what, const cJSON *rec, const cJSON *job,
	    double secs);
	void *arg;
	/*
	 * The queue_token of the run's queue entry: a SIGTERM sent with another
	 * token (runexec_sigval) is not for this run. 0: every SIGTERM is.
	 */
	unsigned token;
	/*
	 * The run's CUDA_VISIBLE_DEVICES: the ids of the GPUs it holds ("0,2"),
	 * "" for none, or NULL to leave the variable as it is (this machine
	 * has no pool, or a scheduler gave the GPUs). With gpus_short the run
	 * asks for more GPUs than this machine's pool has, and fails.
	 */
	const char *gpus;
	int gpus_short;
	/*
	 * A run stopped by a plain SIGTERM or SIGINT (not xt-runq's) may have
	 * been stopped by its scheduler: asked why, this may set *status
	 * ("cancelled"; "failed": the retry policy applies; "requeued": the
	 * scheduler runs it again, so it is queued as a retry that its
	 * retries do not count) and why (len
	 * bytes: the reason, or the error of a failed run) and return 0, or 1
	 * when the scheduler still shows the job running (taken as a stop
	 * on its way); -1 leaves it cancelled, "interrupted (SIGTERM)". Also
	 * asked when the command or a rank was killed by a signal that the
	 * executor did not get (a scheduler signals every process of a job,
	 * in no set order): only a 0 makes that a stop. NULL: not asked.
	 */
	int (*stopped)(struct store *st, const char *ws, const char *run, const char **status,
	    char *why, size_t len);
	/*
	 * A run over several nodes (its "nodes" > 1) as a scheduler placed
	 * it: nnodes executors, one a node, this one of node node_rank; the
	 * ranks meet at addr:port (on node 0). nnodes 0: not placed, and such
	 * a run fails. Node 0's executor records the run (its start, rank 0's
	 * metrics, its end, its outputs). Every other one runs its node's
	 * ranks and adds their consoles to the run's, each line after its
	 * global rank, and at the end leaves how they ended in the run's
	 * folder (node-K.json: "attempt", "exit_code", and "rank" when a rank
	 * failed); node 0's waits for those before it records the end, which
	 * is failed when a rank of any node failed. An executor that ends
	 * with a failure must get the others stopped (srun's
	 * --kill-on-bad-exit): a SIGTERM stops this one's ranks.
	 */
	int node_rank, nnodes;
	const char *addr;
	int port;
};

/*
 * Run ws/run from the store. SIGTERM and SIGINT are caught (and unblocked)
 * from the call on, and one that came before the command started leaves the
 * run queued (RUNEXEC_NOTSTARTED). A process may run several runs, one
 * after another: one that came during an earlier call is forgotten, and
 * one that came between calls counts for the next unless it named a run
 * (runexec_sigval). *exit_code receives the run's exit status in
 * the shell's form (126, 127, 128+signal) or -1 when it never ran.
 */
enum runexec_result runexec(struct store *st, const char *ws, const char *run,
    const struct runexec_opts *o, int *exit_code);

/*
 * Settle a run whose executor died (an orphan of the queue): kill what is
 * left of its process group, then life_lost: 1 when it goes back to the
 * queue (it was queued, or its retries allow), 0 when it has ended. -1 on
 * error. /proc is read (and the process group killed) only for a run
 * whose record's "node" is node: a pid of another node says nothing
 * here. That the executor died is known from the entry's free lock in
 * this machine's spool, whatever node the record names; a run of a remote
 * target is never in this spool, and is left to its target's poll.
 */
int runexec_recover(struct store *st, const char *ws, const char *run, const char *node);

#endif
