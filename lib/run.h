/*
 * run.h: run records and run event logs in the store.
 *
 *   ws/<ws>/runs/<run>/run.json     the record, latest state (put whole)
 *   ws/<ws>/runs/<run>/log.jsonl    events, append-only
 *   ws/<ws>/runs/<run>/output.txt   console, append-only
 *   ws/<ws>/index/runs.jsonl        the whole record, appended at each state change
 *
 * A log line: {"time":"2026-11-21T18:00:01.234Z","event":"metrics","step":10,
 * "data":{"acc":0.9}}; "step" only on metrics that have one.
 */
#ifndef XT_RUN_H
#define XT_RUN_H

#include <cjson/cJSON.h>

#include "store.h"

/* Store path of a run's file ("run.json", "log.jsonl", ...). Caller frees. */
char *run_path(const char *ws, const char *run, const char *file);
/* Store path of the workspace's run index. Caller frees. */
char *run_index_path(const char *ws);

/* The run's record, or NULL with the store's error set (STORE_ENOENT: no such run). Caller frees. */
cJSON *run_load(struct store *st, const char *ws, const char *run, int *rc);
/* The record of a job (ws/<ws>/jobs/<job>/job.json), or NULL. Caller frees. */
cJSON *run_job_load(struct store *st, const char *ws, const char *job);

/*
 * Save a record: put run.json, then append it to the index. rec must have
 * "ws" and "run". 0 or a STORE_E* code.
 */
int run_save(struct store *st, const cJSON *rec);
/* Put run.json only (for progress that is not a state change: metrics). */
int run_save_quiet(struct store *st, const cJSON *rec);
/* run_save of a record already made into its line (json_line, '\n' included). */
int run_save_line(struct store *st, const char *ws, const char *run, const char *line, size_t len);

/*
 * Record the end of a run: rec gets status (and "ended", now, unless it
 * has one) and is saved (run_save), "ended" is logged with data (consumed;
 * NULL: an empty object) holding "status" too, and the run is counted in
 * its parent (run_settle_parent). Each step is done even when one before
 * failed. 0 or the first STORE_E* code, with the store's error set.
 */
int run_end(struct store *st, cJSON *rec, const char *status, cJSON *data);

/*
 * Append an event to the run's log: {"time","event",["step"],"data"}.
 * data is consumed (NULL: no data); step < 0: none. 0 or a STORE_E* code.
 */
int run_event(struct store *st, const char *ws, const char *run, const char *event, long step,
    cJSON *data);

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

#endif
