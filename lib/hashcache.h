/*
 * hashcache.h: content hashes of local files, remembered by their stat
 * data (device, inode, size, mtime and ctime in ns), as git's index does,
 * so that an unchanged file is not read again. The cache is one file,
 * $XT_HOME/cache/hashes, rewritten atomically by hashcache_save.
 *
 * A file modified in the last two seconds is hashed but not remembered:
 * its mtime could still change within the same clock tick.
 */
#ifndef XT_HASHCACHE_H
#define XT_HASHCACHE_H

#include <stddef.h>

struct hashcache;

/* Load the cache (a missing or unreadable one starts empty). Caller frees with hashcache_free. */
struct hashcache *hashcache_load(void);
/* Save it if it changed; 0, or -1 (not fatal: the cache is only a cache). */
int hashcache_save(struct hashcache *hc);
void hashcache_free(struct hashcache *hc);
/*
 * The sha256 of the file at path (hex into out): from the cache when its
 * stat data match, else by reading the file. 0, or -1 with errno.
 * hc may be NULL (no cache).
 */
int hashcache_file(struct hashcache *hc, const char *path, char out[65]);

#endif
