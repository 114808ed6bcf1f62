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
 * Restore the manifest mpath into the local folder dir (created), with
 * each file's mode. Each blob is verified against its hash. When cache is
 * not NULL, blobs are kept in that local folder and linked from there
 * (hard links), so many run folders share one copy; the first blob a
 * process copies into the cache removes the temporary files that copiers
 * killed midway left there. 0 or a STORE_E* code.
 */
int blob_get_tree(struct store *st, const char *mpath, const char *dir, const char *cache);

#endif
