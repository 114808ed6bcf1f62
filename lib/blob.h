/*
 * blob.h: content-addressed blobs and the manifests that name them.
 *
 * A blob is a file's bytes stored once under blobs/sha256/ab/cdef... (the
 * hash's first two hex digits, then the other 62), immutable and shared by
 * every job. A manifest is a JSON-lines object, one line per file:
 *   {"path":"src/train.py","mode":420,"size":1234,"sha256":"..."}
 * sorted by path. Job code snapshots (code.jsonl) are manifests.
 */
#ifndef XT_BLOB_H
#define XT_BLOB_H

#include <stdint.h>

#include "hashcache.h"
#include "store.h"
#include "tree.h"

/* The store path of a blob. Caller frees. */
char *blob_path(const char *sha256);
/*
 * Store a local file as a blob, unless the store has it already. sha256
 * receives its hash. hc may be NULL. Returns 0, 1 when the blob was new
 * (uploaded), or a negative STORE_E* code (store_error says why).
 */
int blob_put_file(struct store *st, struct hashcache *hc, const char *local, char sha256[65]);
/*
 * Store the files of t as blobs and write their manifest to the store path
 * mpath (atomically, after every blob is in). *uploaded, when not NULL,
 * counts the blobs that were new. 0 or a STORE_E* code.
 */
int blob_put_tree(struct store *st, struct hashcache *hc, const struct tree *t, const char *mpath,
    long *uploaded);
/*
 * Restore the manifest mpath into the local folder dir (created), each
 * file with its manifest mode (permission bits; no set-id bits) and the
 * bytes its hash names, verified. When cache is not NULL, blobs are kept in
 * that local folder and copied from there (in the kernel; a reflink where
 * the file system can), so the restored files are the caller's own:
 * writing to one changes neither the cache nor another restore. The first
 * blob a process copies into the cache removes the temporary files that
 * copiers killed midway left there. 0 or a STORE_E* code.
 */
int blob_get_tree(struct store *st, const char *mpath, const char *dir, const char *cache);
/* Told of each file blob_extract restored: its manifest path, the local file, size, hash. */
typedef void (*blob_file_fn)(const char *path, const char *file, int64_t size,
    const char *sha256, void *arg);
/*
 * blob_get_tree without a cache, into dir as it is (files there that the
 * manifest names are replaced, others stay), calling fn (when not NULL)
 * after each file it restored: a job's code given back to a user
 * (xt-get jobN/code). 0 or a STORE_E* code.
 */
int blob_extract(struct store *st, const char *mpath, const char *dir, blob_file_fn fn, void *arg);
/*
 * Restore a run's code: dir (removed first if it exists, unless fresh: an
 * empty folder just made for this restore; max >= 0: STORE_EINVAL, with
 * part of it restored, when the files take more than max bytes) from the manifest
 * mpath through the machine's cache $XT_HOME/cache/blobs, bounded by the
 * configured "cache-max-size" (lib/work.h; 0: no cache). When a blob was
 * added, the cache is trimmed back under the bound. 0 or a STORE_E* code
 * (a bad cache-max-size is one, naming where it was set).
 */
int blob_restore_tree(struct store *st, const char *mpath, const char *dir, int fresh,
    int64_t max);
/*
 * Remove the least recently used blobs of the cache folder until the blobs
 * left take at most max bytes. Used is the time a restore last copied a
 * blob (its atime). Copiers hold the blob open while copying, so removing
 * one never breaks a restore; temporaries of fills under way are neither
 * counted nor removed. Returns the bytes removed.
 */
int64_t blob_cache_trim(const char *cache, int64_t max);

#endif
