/*
 * index.h: the workspace's run index, ws/<ws>/index/runs.jsonl.
 *
 * run_save appends the whole record at each state change, so the file
 * holds every state of every run; readers fold it to the latest record of
 * each run (the last line naming it). When it has grown well past its
 * runs, a reader compacts it: the latest lines, in file order, written to
 * a new file that replaces the old one atomically (rename).
 *
 * On a folder store, appenders take a shared flock on the file and the
 * compactor an exclusive one, so no line is appended to the old file once
 * the compactor has read it; an appender that waited for the lock and
 * finds the path now names another file (a compaction replaced it)
 * appends to the new one instead. Other backends append plainly.
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

/*
 * Compact ws's index now: 1 when it was rewritten, 0 when there was
 * nothing to do (no index, or not a folder store), -1 with err set.
 */
int index_compact(struct store *st, const char *ws, char *err, size_t errlen);

#endif
