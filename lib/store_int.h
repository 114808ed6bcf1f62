/*
 * store_int.h: the store's backend interface, for lib/store*.c (and the
 * store's unit tests) only. Tools and every other module use store.h.
 *
 * store.c checks every path (name_path_check, store_path_reserved) and
 * argument before a backend sees it, resets out-buffers, and puts a
 * listing in the documented order, so a backend implements the raw
 * primitives: each op returns 0 or a STORE_E* code with the message set
 * by store_fail (store.h), and keeps the guarantee that store.h lists for it. A
 * backend's list calls fn for every entry once, in any order, and stops
 * at (and returns) fn's first non-zero return. get_ver and put_if may be
 * NULL (the calls then fail with a message); so may dev.
 */
#ifndef XT_STORE_INT_H
#define XT_STORE_INT_H

#include "store.h"

struct store_ops {
	const char *scheme;
	void (*close)(struct store *);
	int (*put)(struct store *, const char *, const void *, size_t);
	int (*put_file)(struct store *, const char *, const char *, char *, store_progress_fn, void *);
	int (*create)(struct store *, const char *, const void *, size_t);
	int (*append)(struct store *, const char *, const void *, size_t);
	int (*get)(struct store *, const char *, int64_t, int64_t, struct sbuf *);
	int (*get_file)(struct store *, const char *, const char *, char *, store_progress_fn, void *);
	int (*stat)(struct store *, const char *, struct store_stat *);
	int (*list)(struct store *, const char *, int, store_list_fn, void *);
	int (*del)(struct store *, const char *);
	int (*commit)(struct store *);
	int (*get_ver)(struct store *, const char *, struct sbuf *, char *);
	int (*put_if)(struct store *, const char *, const void *, size_t, const char *);
	int (*dev)(struct store *, dev_t *);	/* a folder store's disk; NULL elsewhere */
	/* an object put whole cannot be appended to afterwards (Azure: a block blob) */
	int put_ends_appends;
	/* put_if that keeps an appended object appendable (store_put_log_if); NULL: put_if does */
	int (*put_log_if)(struct store *, const char *, const void *, size_t, const char *);
	/* a listing fills store_entry.sha256 of an object put whole (store_lists_sums) */
	int list_sums;
	/* the credentials file of another machine (store_creds_text); NULL: none needed */
	int (*creds)(struct store *, struct sbuf *);
};

struct store {
	const struct store_ops *ops;
	char *url;		/* set by the backend; store_open makes sure it has no secret */
	char err[1024];
	int batch;		/* between store_batch_begin and store_commit */
	int parallel;		/* store_parallel's n, 0 when not told */
	int sums;		/* in store_list_sums: the hashes are wanted */
	void *priv;
};

/*
 * The folder backend (store_file.c): open the store rooted at the absolute
 * path root, made when missing. NULL with a message in err on failure.
 * The store's URL is file://ROOT.
 */
struct store *store_file_open(const char *root, char *err, size_t errlen);

/*
 * For the tests only: when set, az:// put_log_if of an object of segments
 * calls it with store_azure_put_log_arg between its checks and its copy
 * (stage 0), between the copy and the move of the segments appended in
 * between (stage 1), and in that move between the append of a segment's
 * lines and its mark (stage 2), so that a test can append there as a
 * racing appender would, or end the process as a crash would.
 */
extern void (*store_azure_put_log_hook)(int stage, void *arg);
extern void *store_azure_put_log_arg;
/* The Azure Blob backend (store_azure.c): open az://ACCOUNT/CONTAINER[/PREFIX]. */
struct store *store_azure_open(const char *url, char *err, size_t errlen);

#endif
