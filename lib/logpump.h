/*
 * logpump.h: the lines a run writes to $XT_LOG, on their way into its log.
 *
 * xt-runq reads a run's $XT_LOG as it grows and hands each read to
 * logpump_feed(), which cuts it into lines, checks each (run_check_line),
 * folds it into the run's record (run_fold) and queues it for the store's
 * log.jsonl; logpump_flush() appends what is queued. No line is lost
 * without a word:
 *
 *   - a line that does not parse, or is not an event, is logged as an
 *     "invalid" event: {"error":"...","line":"its first 200 bytes"};
 *   - a line longer than XTLOG_LINE_MAX is not kept in memory: its bytes
 *     are dropped as they come and an "invalid" event takes its place,
 *     {"error":"line of N bytes is over the limit of 1 MiB","bytes":N,
 *     "line":"..."}; the lines after it are read as usual;
 *   - a blank line (what xtlog_append leaves of a line the disk cut short)
 *     is skipped;
 *   - a torn line, the start of a line without its newline (a writer that
 *     does not take back a short write) run into a whole line, is an
 *     "invalid" event ("torn line: ...") followed by that whole line;
 *   - lines that the store refuses to take are kept and tried again at the
 *     next flush, up to LOGPUMP_KEEP bytes; past that they are dropped, and
 *     the next append that works starts with an "error" event saying how
 *     many lines and bytes were lost and why.
 */
#ifndef XT_LOGPUMP_H
#define XT_LOGPUMP_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "store.h"

#define LOGPUMP_CHUNK ((size_t)1 << 20)	/* appended once this much is queued */
#define LOGPUMP_KEEP ((size_t)8 << 20)	/* kept for a retry when the store fails */
#define LOGPUMP_HEAD 200		/* bytes of a bad line shown in its event */

struct logpump {
	struct store *st;		/* not owned */
	char *path;			/* the store's log.jsonl */
	struct sbuf part;		/* the start of a line not ended yet */
	int64_t skip;			/* > 0: bytes so far of a line over the limit */
	char head[LOGPUMP_HEAD];	/* its first bytes */
	size_t headlen;
	struct sbuf batch;		/* checked lines, not appended yet */
	long lost_lines;		/* dropped after failed appends */
	int64_t lost_bytes;
	char lost_why[512];
	char err[512];			/* why the last flush failed */
	int failing;			/* appends failed since the last that worked */
	size_t flush_at;		/* append when the batch grows past this */
};

/* Start a pump into the log of run in workspace ws of st. */
void logpump_init(struct logpump *lp, struct store *st, const char *ws, const char *run);
/* Free what it holds; what is still queued is not appended. */
void logpump_release(struct logpump *lp);

/*
 * Take n bytes read from $XT_LOG: each line they end is checked, folded
 * into rec and queued; the start of an unfinished line is kept for the next
 * call. Appends (logpump_flush) once LOGPUMP_CHUNK bytes are queued.
 * Returns the number of lines taken (0: rec is as it was).
 */
long logpump_feed(struct logpump *lp, cJSON *rec, const char *buf, size_t n);

/* The run has ended: a last line without its newline is taken as a line. Returns as logpump_feed. */
long logpump_end(struct logpump *lp, cJSON *rec);

/*
 * Append the queued lines to the log. 0, or with lp->err set -1 when the
 * store fails after it worked (say it once), -2 when it fails again. The
 * lines stay queued for the next call (see above for the bound).
 */
int logpump_flush(struct logpump *lp);

#endif
