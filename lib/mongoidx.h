/*
 * mongoidx.h: the optional shared copy of the run index in MongoDB.
 *
 * Configured by the key "index" (XT_INDEX, xt-report --index): a
 * mongodb:// or mongodb+srv:// URI as libmongoc takes it (TLS and its CA
 * file, user and authSource in it); "store" or nothing means no copy. The
 * password is the URI's (a config file holding it must be its owner's
 * only: config.h), else XT_INDEX_PASSWORD. No message prints it (redact).
 *
 * The store's index stays the source of truth. index_append hands each of
 * its lines to mongoidx_outbox, which appends them, whole lines with
 * O_APPEND and fsync, to the outbox $XT_HOME/outbox/<hash of the URI
 * without its password>/pending.jsonl and never talks to the database. A
 * sender (mongoidx_flush) turns pending.jsonl into a segment
 * seg-<ms>.jsonl and upserts the segments' lines, oldest first, in bulk
 * operations of up to MONGOIDX_BATCH lines, then removes each segment
 * that was acknowledged whole. A crash between the two resends a segment:
 * harmless, as every write is an upsert by key.
 *
 * Documents: a line with "run" goes to the collection "runs", filter
 * {ws, run}; one with "job" and no "run" to "jobs", filter {ws, job}. The
 * line replaces the document whole, an upsert (the server makes the _id,
 * an ObjectId), so a document is the run's latest record, as in the store. The database is the URI's, else "xt". Indexes on ws, run,
 * status, job and exp are created on first use in a process.
 */
#ifndef XT_MONGOIDX_H
#define XT_MONGOIDX_H

#include <stddef.h>
#include <stdint.h>

/* Lines sent in one bulk operation. */
#define MONGOIDX_BATCH 1000

/* The configured index URI, or NULL when none (unset, "", "store"). */
const char *mongoidx_url(void);

/*
 * Append len bytes of whole index lines to the configured index's outbox;
 * nothing without one. Never fails its caller: a failure (no XT_HOME, a
 * full disk) is warned once per process, and the store's index still has
 * the lines (xt-report --reindex sends them).
 */
void mongoidx_outbox(const char *lines, size_t len);

/* A connection to the index's database. */
struct mongoidx;

/*
 * Connect to url (a URI without a password takes XT_INDEX_PASSWORD) and check
 * that the server answers and takes the login: NULL with err set to
 * "index URI-WITHOUT-PASSWORD: why" when not. A URI without its own sets
 * serverSelectionTimeoutMS and connectTimeoutMS to timeout_ms.
 */
struct mongoidx *mongoidx_open(const char *url, int timeout_ms, char *err, size_t errlen);
void mongoidx_close(struct mongoidx *m);

/*
 * Upsert the JSON lines of buf (len bytes) in bulk operations of up to
 * MONGOIDX_BATCH lines, in order; *n (when not NULL) gets the lines sent.
 * A line that is not a JSON object, or has neither "run" nor "job", is
 * skipped. 0, or -1 with err set (what was sent before stays sent).
 */
int mongoidx_upsert(struct mongoidx *m, const char *buf, size_t len, size_t *n, char *err,
    size_t errlen);

/*
 * Call fn with each document of "runs" that filter (a JSON object in
 * MongoDB's query language) matches, as the JSON line of its record (no
 * _id), until fn returns non-zero. opts (JSON, may be NULL) are the
 * find's: "projection", "sort" (by default the order the runs were first
 * stored, {"_id": 1}). 0, fn's non-zero return, or -1 with err set.
 */
typedef int (*mongoidx_fn)(const char *line, size_t len, void *arg);
int mongoidx_find(struct mongoidx *m, const char *filter, const char *opts, mongoidx_fn fn,
    void *arg, char *err, size_t errlen);

/*
 * An index of "runs" on ws and field, for reports that filter or sort by
 * field (mongoq_index_fields); asked of the server once in a process,
 * which keeps one it has. 0, or -1 with err set.
 */
int mongoidx_field_index(struct mongoidx *m, const char *field, char *err, size_t errlen);

/* The documents of "runs" and "jobs": 0, or -1 with err set. */
int mongoidx_count(struct mongoidx *m, int64_t *runs, int64_t *jobs, char *err, size_t errlen);

/*
 * Send the outbox of the configured index: 0 when it is empty now (or
 * another process is sending it), -1 with err set when the database did
 * not take it (the outbox is left as it is). *sent gets the lines sent.
 */
int mongoidx_flush(int timeout_ms, size_t *sent, char *err, size_t errlen);

/* What waits in the outbox of the configured index. */
struct mongoidx_backlog {
	size_t lines, segments;
	int64_t oldest_ms;	/* the time of its oldest line (its latest "created", "started", "ended" or "time"), or 0 */
};
/* 0, or -1 with err set (no index configured, no XT_HOME). */
int mongoidx_backlog(struct mongoidx_backlog *b, char *err, size_t errlen);

/*
 * A sender in a background thread for a long-lived process (the
 * executor): it flushes the outbox every interval_ms, warning once per
 * process when the database does not answer. Nothing without a
 * configured index. stop ends it, after one last flush.
 */
void mongoidx_sender_start(int interval_ms);
void mongoidx_sender_stop(void);

#endif
