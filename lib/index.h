/*
 * index.h: the workspace's run index, ws/<ws>/index/runs.jsonl.
 *
 * run_save appends the whole record at each state change, so the file
 * holds every state of every run; readers fold it to the latest record of
 * each run (the last line naming it). When it has grown well past its
 * runs, a reader compacts it: the latest lines, in file order, written to
 * a new object that replaces the old one whole.
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

#include "store.h"

/* Compact when lines >= 2 x runs and lines - runs >= INDEX_SLACK. */
#define INDEX_SLACK 1000

/* One line of an index or of any JSON lines: where it lies in a buffer. */
struct index_line {
	size_t off, len;
	long lineno;
};

/* Append a record's line (ending in '\n') to ws's index. 0 or a STORE_E* code. */
int index_append(struct store *st, const char *ws, const char *line, size_t len);

/*
 * The status that the latest line of ws's index naming run gives it, into
 * status (len bytes; "" when no line names it). The index is read
 * backwards from its end, so a run that changed state lately costs a
 * little of it. 0 or a STORE_E* code.
 */
int index_last_status(struct store *st, const char *ws, const char *run, char *status,
    size_t len);

/*
 * Fold the JSON lines in buf (len bytes): *out gets the line of the latest
 * record of each run (by "ws" and "run"), in file order, *n of them (caller
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
