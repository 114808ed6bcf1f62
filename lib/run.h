/*
 * run.h: run records and run event logs in the store.
 *
 *   ws/<ws>/runs/<run>/run.json     the record, latest state (put whole)
 *   ws/<ws>/runs/<run>/log.jsonl    events, append-only
 *   ws/<ws>/runs/<run>/output.txt   console, append-only
 *   ws/<ws>/index/runs.jsonl        the whole record, appended at each state change
 *   ws/<ws>/jobs/<job>/plan.jsonl   a job's plan: its runs' first records, one a line
 *
 * Deferred records: a job of many runs sent to a scheduler (Slurm) stores
 * its children's first records in its plan, in order (line K: child
 * P.K), and marks its parent P "deferred": true, rather than a folder and
 * a record a run at submit. A child's own run.json (and the "created" and
 * "queued" events of its log) is made, from its plan's line, by the first
 * run_update of it: its start, a cancel, a tag. run_load reads the plan's
 * line for a child that has no run.json yet, so every reader through
 * run_load and writer through run_update sees a child as if it had been
 * stored at submit.
 *
 * A log line: {"time":"2026-11-21T18:00:01.234Z","event":"metrics","step":10,
 * "data":{"acc":0.9}}; "step" only on metrics that have one.
 */
#ifndef XT_RUN_H
#define XT_RUN_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "store.h"

/* Store path of a run's file ("run.json", "log.jsonl", ...). Caller frees. */
char *run_path(const char *ws, const char *run, const char *file);
/* Store path of a job's plan (plan.jsonl, see above). Caller frees. */
char *run_plan_path(const char *ws, const char *job);
/* Store path of the workspace's run index. Caller frees. */
char *run_index_path(const char *ws);

/*
 * Make sure run's record is stored: a run whose job deferred it gets it
 * now, with its first events, so that what is logged next comes after
 * them. 0, STORE_ENOENT (no such run) or another STORE_E* code, with the
 * store's error set.
 */
int run_make(struct store *st, const char *ws, const char *run);
/* The run's record, or NULL with the store's error set (STORE_ENOENT: no such run). Caller frees. */
cJSON *run_load(struct store *st, const char *ws, const char *run, int *rc);
/* run_load, and the version of the record read into ver (store_get_ver). */
cJSON *run_load_ver(struct store *st, const char *ws, const char *run, int *rc,
    char ver[STORE_VER_MAX]);
/* The record of a job (ws/<ws>/jobs/<job>/job.json), or NULL. Caller frees. */
cJSON *run_job_load(struct store *st, const char *ws, const char *job);
/*
 * The record of a job, as run_job_load reads it, but not parsed again when
 * its bytes are those it had at the last run_job_get of the process: a
 * job's record lists all its runs, so parsing it for each of a big job's
 * runs would cost each run more the more runs the job has. The record
 * belongs to the process's cache: do not change it, and give it back with
 * run_job_put (once, NULL is fine). NULL when there is none.
 */
const cJSON *run_job_get(struct store *st, const char *ws, const char *job);
void run_job_put(const cJSON *job);

/*
 * Save a new record: put run.json, then append it to the index. rec must
 * have "ws" and "run". 0 or a STORE_E* code. Only for a record nobody else
 * can know yet (xt-submit making a run); a record that exists is changed
 * with run_update.
 */
int run_save(struct store *st, const cJSON *rec);
/* run_save without the index line (the caller indexes it later). */
int run_put_new(struct store *st, const cJSON *rec);

/* Flags of run_update. */
enum {
	RUN_INDEX = 1,		/* a state change: append the new record to the index */
	RUN_RETRY = 2,		/* the run's own retry: running may go back to queued */
	RUN_REQUEUE = 4		/* an explicit requeue: a final status may go back to queued */
};

/*
 * Change a run's record, the one way every writer of an existing record
 * takes: read run.json with its version, call fn(rec, arg) to change rec,
 * and put it back only if nobody put it meanwhile; if somebody did, read
 * it again and call fn again (fn applies its change to what it is given,
 * so no one's change is lost). fn returns 0 to save, 1 to leave the record
 * as it is (nothing is written), or a negative STORE_E* code to give up
 * (returned).
 *
 * A status only moves forward: queued -> running -> a final status, or
 * queued -> a final status. A final status never changes, except back to
 * queued with RUN_REQUEUE; running goes back to queued only with
 * RUN_RETRY. A change that breaks this is not saved: STORE_ECONFLICT with
 * a message saying so.
 *
 * Each save sets the record's "rev" to one more than the record read had
 * (a record without one counts as 0), so a run's revisions only grow and
 * no two saves of it share one: readers of the index keep each run's line
 * of the highest "rev", whatever the order of the lines (index_fold).
 *
 * *out, when out is not NULL, receives the record as saved, or as found
 * when fn left it (caller frees; NULL on error). 0 or a STORE_E* code.
 */
int run_update(struct store *st, const char *ws, const char *run, int flags,
    int (*fn)(cJSON *rec, void *arg), void *arg, cJSON **out);
/*
 * run_update whose first try takes known, the record as the caller read it
 * at version ver (run_load_ver), instead of reading it again: the put fails
 * if anybody put the record since, and the next tries read it as
 * run_update does. known is not consumed; ver "" means unknown (run_update).
 */
int run_update_from(struct store *st, const char *ws, const char *run, int flags,
    int (*fn)(cJSON *rec, void *arg), void *arg, cJSON **out, const cJSON *known,
    const char *ver);

/*
 * Three-way merge of a run record: apply to theirs (changed in place) what
 * mine changed since base. A member that mine added, changed or removed
 * is set or removed in theirs; the members of objects ("hparams",
 * "metrics", "tags", ...) one by one, so that a tag another writer added
 * stays. What mine did not change keeps theirs' value.
 */
void run_merge(cJSON *theirs, const cJSON *base, const cJSON *mine);

/* The largest "rev": every whole number up to it is exact in a JSON number (a double). */
#define RUN_REV_MAX ((int64_t)1 << 53)
/* rec's "rev": a whole number from 1 to RUN_REV_MAX, else 0 (none, as in a new record). */
int64_t run_rev(const cJSON *rec);
/* The same of a "rev" that is the number v. */
int64_t run_rev_value(double v);

/*
 * May a record go from status from to status to (flags of run_update)?
 * 1 yes, 0 no.
 */
int run_status_move_ok(const char *from, const char *to, int flags);


/*
 * Append an event to the run's log: {"time","event",["step"],"data"}.
 * data is consumed (NULL: no data); step < 0: none. 0 or a STORE_E* code.
 */
int run_event(struct store *st, const char *ws, const char *run, const char *event, long step,
    cJSON *data);

/*
 * The "created" and "queued" lines of a new run's log, both at ms (caller
 * frees; *len their length).
 */
char *run_new_events(int64_t ms, size_t *len);

/* One log line for run_event, '\n' included (caller frees); data is consumed. */
char *run_event_line(const char *event, long step, cJSON *data, size_t *len);

/*
 * Check one log line written by a user or a run and return it normalised
 * (caller frees): it must be a JSON object with a string "event" (a name:
 * letters, digits, "._-"); "data", when present, an object; "step", when
 * present, a whole number >= 0; "time" is added when missing. Returns NULL
 * with a reason in err.
 */
cJSON *run_check_line(const char *text, size_t len, char *err, size_t errlen);

/*
 * The hparams that rec's run was given (by xt-submit or by its job's
 * search), which its command gets as arguments and XT_HPARAMS: its
 * "given_hparams", or for a record written before that member existed its
 * "hparams". "hparams" also holds what the run logged. NULL when it has
 * neither. The result belongs to rec.
 */
const cJSON *run_given_hparams(const cJSON *rec);

/*
 * Fold an event into a record: "hparams" data merge into rec.hparams,
 * "metrics" data set rec.metrics (the last value of each) and rec.step,
 * "tags" data merge into rec.tags. Other events leave rec as it is.
 */
void run_fold(cJSON *rec, const cJSON *line);

/*
 * Call when a child run starts (rec is its record, with "started"): the
 * first child of a parent to start makes the parent "running", with the
 * child's start time, and logs "started" in the parent's log. Only the
 * child that creates the parent's marker "started" does, so it happens
 * once. A record without "parent", or a parent no longer queued, is left
 * alone.
 */
void run_start_parent(struct store *st, const char *ws, const cJSON *rec);

/*
 * Call once when a child run has reached its final status (rec is its
 * record, already saved): counts it in its parent's ended.txt, one line of
 * 64 bytes per child, so that the count is one stat. When every child has
 * ended, end the parent: failed if any child failed, cancelled if all were
 * cancelled, else completed. The child that creates the parent's marker
 * "settled" ({"status","ended","child"}) ends it; called again for that
 * child (a recovery), it finishes an end that was cut short: the parent's
 * record saved and in the index, once. A record without "parent" is left
 * alone.
 */
void run_settle_parent(struct store *st, const char *ws, const cJSON *rec);

/*
 * The argument that passes one hparam to a run: prefix, the name, '=' and
 * the value (a string as it is, anything else as compact JSON):
 * "--lr=0.01", "--opt=adam", "--layers=[1,2]". Caller frees.
 */
char *run_hp_arg(const char *prefix, const cJSON *item);

/* True for the end states: completed, failed, cancelled, pruned. */
int run_status_final(const char *status);
/*
 * True when this process is an ssh target's box (XT_BOX, its name as the
 * target calls it) and the record was placed on another box ("box"):
 * the run was moved away from this one, which then neither runs nor
 * settles it.
 */
int run_moved(const cJSON *rec);

#endif
