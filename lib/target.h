/*
 * target.h: where runs run. A target is a named entry of the configuration,
 * targets.NAME, with a "type" that picks its backend from a table in
 * target.c (as store.c picks a store backend by scheme): "local" (the
 * spool of this machine, drained by xt-runq: target_local.c) is built in;
 * "ssh" and "slurm" plug into the same table. Tools (xt-submit, xt-runq
 * ls|kill, xt-submit --wait) go through these calls whatever the type.
 *
 * The contract every backend keeps:
 *   - open: read its settings from the target's configuration node (kept
 *     in the target for it) and check them; no connection is needed yet.
 *     Never blocks for long.
 *   - prepare (optional): before job_create stores anything, get ready to
 *     take the runs (ssh: connect to each box, stage the tools there, check
 *     that the box reaches the store) and place each run: a backend may set
 *     fields of the run records (ssh: "box"), which job_create stores. A
 *     part of the target that cannot take runs (a box that is down) is
 *     passed over with a warning on stderr; when no part is left it fails,
 *     and nothing is stored. May block (connections, copies).
 *   - submit: the runs (records, all of one job, that job_create has
 *     stored, each "queued") are handed to the target, so that each is
 *     started once. The local target's runs are in its spool already
 *     (job_create put them there in its commit); another target's are
 *     handed over by job_create after its commit, and again by the
 *     recovery of a submit cut short, so a submit of a run the target holds
 *     already, or has started, does nothing. Runs the target refuses for
 *     good are recorded failed (life_refused), with TARGET_EREFUSED; on
 *     another error they stay queued, to be handed over again. May block.
 *   - cancel: runs named by run, parent run (its children) or job are
 *     stopped: a running one is told to stop and records its own end
 *     (cancelled); a waiting one is taken out and recorded cancelled
 *     (life_cancel). Returns without waiting for the running ones to end.
 *   - poll: where each of a set of runs is now: queued, running (with its
 *     node and pid when known), ended (gone from the target with its end
 *     recorded) or lost (gone from the target without an end record: its
 *     executor or node died). A poll reads the target first and the
 *     records of the runs it no longer holds after, so that a run that
 *     ends meanwhile is never reported lost. A poller that finds a run
 *     lost records it with life_lost (life.h), which fails or retries it
 *     by its job's retry policy, and queues it again when that says so.
 *     Poll may block for one round trip; it never waits for runs.
 *   - drain (optional): work the target's queue in the foreground until it
 *     is empty, for xt-submit --wait (local: xt-runq). NULL for a target
 *     whose runs progress by themselves.
 *   - list: call fn for every run the target holds (ls).
 *   - close: free everything; no run is affected.
 * Every call returns 0 or a negative TARGET_E* code with a message in
 * target_error(t) (open: in err), never a print; cancel may warn about a
 * single run it could not record and go on.
 */
#ifndef XT_TARGET_H
#define XT_TARGET_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "store.h"

/*
 * Error codes: a usage error (bad name, not configured: exit 2) or another
 * failure (exit 1); EREFUSED (submit): the target refused the runs for
 * good, and they are recorded failed, not left to be sent again.
 */
enum { TARGET_EFAIL = -1, TARGET_EUSAGE = -2, TARGET_EREFUSED = -3 };

/* Where a polled run is. */
enum target_state { TARGET_QUEUED, TARGET_RUNNING, TARGET_ENDED, TARGET_LOST };

struct target;

/* One run of a poll: run is the caller's; the rest is filled by target_poll. */
struct target_status {
	const char *run;		/* in: the run's name (not owned) */
	const char *job;		/* in, may be NULL: its job, as the caller knows it
					 * (a backend may then place the run without
					 * reading its record) */
	enum target_state state;	/* out */
	char node[256];			/* out, running: the node it runs on ("" when unknown) */
	long pid;			/* out, running: its executor's pid (0 when unknown) */
	char status[32];		/* out, ended and lost: the record's status ("" when none) */
};

/*
 * Open target name: its type from targets.NAME.type, its max-runs from
 * targets.NAME.max-runs (default 1), and the whole node targets.NAME for
 * the backend. 0 with *tp set (target_close it), or TARGET_EUSAGE (a
 * name that is not a name, a target not under "targets", a bad max-runs)
 * or TARGET_EFAIL (a type this build has no backend for, naming the
 * target and its type; a backend's own refusal) with the message in err.
 */
int target_open(const char *name, struct target **tp, char *err, size_t errlen);
/*
 * The max-runs of target name (targets.NAME.max-runs, default 1), whether
 * or not the target is configured, into *v. 0, or TARGET_EUSAGE with a
 * message naming where the value came from.
 */
int target_config_max_runs(const char *name, int *v, char *err, size_t errlen);
/* Free t (NULL is fine). */
void target_close(struct target *t);

/* The target's name, type, max-runs, and configuration node (not owned by the caller). */
const char *target_name(const struct target *t);
const char *target_type(const struct target *t);
int target_max_runs(const struct target *t);
const cJSON *target_config(const struct target *t);
/* Where the target keeps its runs, for messages: "the local queue", "target 'lab'". */
const char *target_where(const struct target *t);
/* The message of the last failed call. */
const char *target_error(const struct target *t);

/*
 * Get ready for the runs (records, not yet stored) of a job into st, and
 * place them (see above). 0 or a TARGET_E* code.
 */
int target_prepare(struct target *t, struct store *st, cJSON *runs);

/*
 * Hand the runs (an array of their stored records) of one job (job: its
 * stored record, with "job" and "ws") in store st to the target. 0 or a
 * TARGET_E* code.
 */
int target_submit(struct target *t, struct store *st, const cJSON *job, const cJSON *runs);

/*
 * Whether a job of several runs sent to t stores its children's records
 * in its plan, each made when the run first changes (run.h: deferred
 * records): a scheduler's target, whose submit should cost no file a run.
 */
int target_defers_records(const struct target *t);

/*
 * Whether the runs of target name go into this machine's spool (its type
 * is local; a target not configured is taken as local, as "local" is).
 */
int target_spools_here(const char *name);

/*
 * Whether the queue entry data (its "ws", "run", "job") is matched by one
 * of the n names (a run, its parent run, its job) in workspace ws; sets
 * found[i] for each name that matches.
 */
int target_match(const cJSON *data, const char *ws, char *const *names, size_t n, int *found);

/*
 * Cancel what names (runs, parent runs, jobs of workspace ws in st)
 * match. grace_ms: the kill grace period passed to a running run's
 * executor, -1 for its own. found[i] is set to 1 for each name that
 * matched a run the target holds (the caller says which did not). 0 or a
 * TARGET_E* code.
 */
int target_cancel(struct target *t, struct store *st, const char *ws, char *const *names,
    size_t n, int grace_ms, int *found);

/*
 * Where each of the n runs of ws in st is (see above): fills runs[i]'s
 * out fields. 0 or a TARGET_E* code.
 */
int target_poll(struct target *t, struct store *st, const char *ws, struct target_status *runs,
    size_t n);

/*
 * Work the target's queue here until it is empty (blocks; see above);
 * 0 at once for a target without a drain. 0 or a TARGET_E* code.
 */
int target_drain(struct target *t);

/*
 * Call fn for each run the target holds: state "queued" or "running",
 * entry the run's {"store","ws","run","job"} (ssh: and "box"), pid its
 * executor's or 0. Stops at fn's first non-zero return, which it
 * returns; else 0 or a TARGET_E* code. With st and ws (may be NULL), a
 * target that can lose runs (ssh: a box that does not answer) settles
 * the runs of ws that it has lost, as a poll would.
 */
typedef int (*target_list_fn)(const char *state, const cJSON *entry, long pid, void *arg);
int target_list(struct target *t, struct store *st, const char *ws, target_list_fn fn,
    void *arg);

/*
 * For readers of the store (xt-report) that no poller may have served:
 * the runs of ws in st on the targets whose poll is cheap (slurm: a
 * status cache shared by every xt process, one scheduler call a poll
 * interval) are polled, so that those a target lost (a node that failed,
 * a task cancelled by hand) are recorded, as xt-runq ls would. The runs
 * are found in ws's index folded (index_fold): buf and its n lines, the
 * caller's copy, or with buf NULL the index read here, and only when such
 * a target is configured (without one, nothing is read or asked).
 * warn(name, message, arg) is called for each target that could not be
 * asked (no squeue here); the others are still polled. Returns how many
 * records the polls wrote to the index: when not 0, a copy read before is
 * behind by those.
 */
struct index_line;
typedef void (*target_warn_fn)(const char *target, const char *msg, void *arg);
size_t target_settle(struct store *st, const char *ws, const char *buf,
    const struct index_line *lines, size_t n, target_warn_fn warn, void *arg);

/*
 * For runexec_opts.stopped, in a run that a Slurm job runs ($SLURM_JOB_ID):
 * why it was stopped. A "kill" event in its log since it started: by
 * xt-runq kill (cancelled). Else by Slurm, from the job as scontrol shows
 * it: its time limit run out (failed, TIMEOUT: the retry policy applies),
 * another end state (failed: PREEMPTED, NODE_FAIL, ...), or a scancel
 * (cancelled; the job shows CANCELLED, or COMPLETING while its processes
 * end). 0; 1 when the job still shows running or waiting (taken as a
 * scancel on its way: cancelled); -1 when it cannot be told.
 */
int target_slurm_stopped(struct store *st, const char *ws, const char *run,
    const char **status, char *why, size_t len);

/*
 * For runexec_opts' node_rank, nnodes, addr and port: where this executor
 * is in a run over several nodes, when srun started it, one a node, from
 * the batch script of the slurm target. That script sets XT_MASTER_ADDR
 * and XT_MASTER_PORT (the first node's address, a port from the job's
 * id that is free there); srun sets SLURM_NODEID and SLURM_NNODES. 1 when set; 0 when there
 * is no XT_MASTER_ADDR (no such executor; nothing set); -1 with a message
 * in err (len bytes) when a variable is missing or out of range.
 */
int target_slurm_place(int *node_rank, int *nnodes, const char **addr, int *port, char *err,
    size_t len);

#endif
