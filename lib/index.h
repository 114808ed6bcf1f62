/*
 * index.h: the workspace's run index, ws/<ws>/index/runs.jsonl.
 *
 * run_save appends the whole record at each state change, so the file
 * holds every state of every run; readers fold it to the latest record of
 * each run: its line of the highest "rev" (run_update), and of lines of
 * the same "rev", or none (records of older stores), the last. The order
 * of the lines is not relied on: a compaction of an Azure index that rolled
 * over may move a run's older line after its newer ones. When it has grown
 * well past its runs, a reader compacts it: the latest lines, in file
 * order, written to a new object that replaces the old one whole.
 *
 * The index is built on the store's primitives only, so it works alike
 * on every backend: a line is one store_append; a compaction reads the
 * index with its version (store_get_ver) and puts the compacted file with
 * store_put_log_if, which keeps it appendable (an Azure index stays an
 * append blob) and fails when an append came in meanwhile (store.h: an
 * append racing a conditional put changes the version compared, or lands
 * in the new object), and then reads it again and retries.
 */
#ifndef XT_INDEX_H
#define XT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Compact when lines >= 2 x runs and lines - runs >= INDEX_SLACK. */
#define INDEX_SLACK 1000

/* One line of an index or of any JSON lines: where it lies in a buffer. */
struct index_line {
	size_t off, len;
	long lineno;
	int64_t rev;		/* its "rev" (run_rev_value), 0 when none */
};

/* Append a record's line (ending in '\n') to ws's index. 0 or a STORE_E* code. */
int index_append(struct store *st, const char *ws, const char *line, size_t len);
/*
 * How many lines index_append has appended in this process, to any index:
 * a reader that holds a copy of an index tells from it whether calls it
 * made since (a poll that settled runs) wrote to one.
 */
unsigned long index_appended(void);

/*
 * The status that ws's index gives run (its line of the highest "rev", as
 * index_fold picks), into status (len bytes; "" when no line names it).
 * The index is read backwards from its end until a line of run with a
 * "rev" of at least rev is met (rev: the run's record's, the highest there
 * is), so a run whose record is in the index lately costs a little of it;
 * one whose record is not, or not yet, all of it. 0 or a STORE_E* code.
 */
int index_last_status(struct store *st, const char *ws, const char *run, int64_t rev,
    char *status, size_t len);

/*
 * Fold the JSON lines in buf (len bytes): *out gets the line of the latest
 * record of each run (by "ws" and "run"; the highest "rev", the last of
 * equal ones), in file order, *n of them (caller
 * frees *out); *nlines counts the non-blank lines. A line that is not a
 * JSON object, or has no "run", is an error: -1 with err set to
 * "name:LINE: what". 0 on success.
 */
int index_fold(const char *buf, size_t len, const char *name, struct index_line **out,
    size_t *n, size_t *nlines, char *err, size_t errlen);

/* True when an index of nlines lines for nruns runs should be compacted. */
int index_grown(size_t nlines, size_t nruns);

/* Compactions tried in a row while appends keep coming in. */
#define INDEX_TRIES 8

/*
 * Compact ws's index now: 1 when it was rewritten, 0 when there was
 * nothing to do (no index) or appends came in each of INDEX_TRIES times
 * (the index is left as it was, for another time), -1 with err set. A
 * last line without its newline is kept, last. No appended line is lost.
 */
int index_compact(struct store *st, const char *ws, char *err, size_t errlen);

#endif
