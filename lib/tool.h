/*
 * tool.h: what every xt-* tool does first: its name in messages, the
 * configuration, the store. Failures here are fatal (exit 1) with the
 * message of the layer that failed.
 */
#ifndef XT_TOOL_H
#define XT_TOOL_H

#include "store.h"
#include "target.h"

/*
 * Set the program name from argv[0], answer --version as the first
 * argument (version_option), and load the configuration; die on a bad
 * config file.
 */
void tool_init(int argc, char **argv);
/*
 * A usage error: on stderr, "PROG: " and the message (what was wrong, one
 * line), then the tool's usage text; exit 2. tool_usage prints the text
 * alone, for getopt's errors, which getopt has told already.
 */
void tool_usage_error(const char *text, const char *fmt, ...) PRINTF(2, 3) NORETURN;
void tool_usage(const char *text) NORETURN;
/* --help: the tool's usage text on standard output; exit 0. */
void tool_help(const char *text) NORETURN;
/* Open the configured store (config "store"); die when it cannot be opened. */
struct store *tool_store(void);
/*
 * Open target name (target_open); die when it cannot be: status 2 for a
 * name that is not a configured target, 1 for a type without a backend.
 */
struct target *tool_target(const char *name);
/* The configured workspace, checked as a name; die (status 2) when it is not one. */
const char *tool_workspace(void);

/*
 * An operand that names a run or a job, or a path that starts with one,
 * with XT's symbols expanded: "$lastjob" and "$lastrun", as the whole of
 * arg or before its first '/', become the newest job and the newest run of
 * workspace ws in st: the highest jobN and runN there (name_last). A
 * parent run is the newest run of a job of several runs, not its last
 * child, as XT's $lastrun is the run its last submit made. Anything else
 * is copied. Caller frees. Dies (1) when the workspace has no job or run,
 * or the store cannot be listed.
 */
char *tool_name(struct store *st, const char *ws, const char *arg);

/* Transfer progress on stderr, shown only when stderr is a terminal and
 * the transfer has gone on for more than half a second. */
struct progress {
	const char *what;
	int64_t done_before;	/* bytes of earlier objects */
	int64_t total;		/* bytes of all objects, or -1 */
	double start, last;
	int shown;
};
/* what NULL: never show anything (the tools' -q). */
void progress_init(struct progress *p, const char *what, int64_t total);
/* A store_progress_fn: arg is the struct progress. */
void progress_cb(int64_t done, int64_t total, void *arg);
/* Count an object's bytes as done (call after each object). */
void progress_add(struct progress *p, int64_t bytes);
/* Erase the progress line, if one was shown. */
void progress_end(struct progress *p);

#endif
