/*
 * name.h: names and store paths, checked before they touch a path or a URL.
 *
 * A name (workspace, experiment, job, run, share, tag key) is 1 to 128
 * letters, digits and "._-", not starting with '.' or '-'.
 * A store path is relative, '/'-separated, each part non-empty and not "."
 * or "..", with no control characters and at most 1024 bytes. Any other
 * byte (spaces, UTF-8, a leading '-') is allowed in a store path.
 */
#ifndef XT_NAME_H
#define XT_NAME_H

#include <stddef.h>

struct store;

/* 0 if ok; else -1 with a reason in err ("contains '/'"). */
int name_check(const char *name, char *err, size_t errlen);
int name_path_check(const char *path, char *err, size_t errlen);

/* Parse "runN" / "runN.K" / "jobN": 1 and the numbers, or 0 if not such a name. */
int name_parse_run(const char *s, long *n, long *k);
int name_parse_job(const char *s, long *n);

/*
 * Resolve a user's short address to a store path (caller frees):
 *   runN[.K][/rest]   ws/<ws>/runs/runN[.K][/rest]
 *   jobN[/rest]       ws/<ws>/jobs/jobN[/rest]
 *   @share[/rest]     shares/<share>[/rest]
 *   :path             path, taken literally
 *   anything else     itself, a store path
 * The result is checked with name_path_check(); NULL with err set when bad.
 * An empty address resolves to "" (the store's root) when allow_root is set.
 */
char *name_resolve(const char *addr, const char *ws, int allow_root, char *err, size_t errlen);

/*
 * name_resolve for a pattern of xt-get's wildcards: a first part that
 * starts with "run" or "job" and holds a wildcard ('*', '?' or '[', as
 * "run7.*") resolves as a run's or a job's name does (ws/<ws>/runs/...);
 * anything else as name_resolve does (no root). Caller frees; NULL with
 * err set when bad.
 */
char *name_resolve_pattern(const char *addr, const char *ws, char *err, size_t errlen);

/*
 * The highest N among the folders "<prefix>N" of dir, as name_alloc counts
 * them (e.g. prefix "run", dir "ws/ws1/runs": "run7" but not "run7.2"):
 * the newest name allocated there. 0 when there is none; -1 with the
 * store's error.
 */
long name_last(struct store *st, const char *dir, const char *prefix);

/*
 * Allocate the next free name "<prefix>N" among the folders of dir (e.g.
 * prefix "job", dir "ws/ws1/jobs") by creating dir/<name>/<marker> with
 * content buf, through create-if-absent: of many racing allocators each
 * gets a distinct name. Returns the number N, or -1 with the store's error.
 */
long name_alloc(struct store *st, const char *dir, const char *prefix, const char *marker,
    const void *buf, size_t len);
/*
 * name_alloc, calling before(N, arg) before it tries to create each name,
 * so that a journal can say which name may have been made when the
 * allocator dies. A non-zero return from before stops it: -1, with the
 * store's error set.
 */
long name_alloc_hook(struct store *st, const char *dir, const char *prefix, const char *marker,
    const void *buf, size_t len, int (*before)(long n, void *arg), void *arg);

#endif
