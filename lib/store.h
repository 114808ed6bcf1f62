/*
 * store.h: the experiment store. The only way tools touch a store.
 *
 * A store is named by a URL: a folder path or file:///abs/path (the folder
 * backend, store_file.c), or az://ACCOUNT/CONTAINER (Azure Blob Storage).
 * Paths inside a store are relative, '/'-separated, and validated by
 * name_path_check() before any backend sees them.
 *
 * Every function returns 0 on success or a negative STORE_E* code, and
 * leaves a message for humans in store_error() (it never prints). No call
 * touches anything outside the store: in a folder store a symbolic link
 * is never followed, read, written or removed; a path that is or goes
 * through one is STORE_ELINK, and a listing leaves links out. The store's
 * own files (store_path_reserved) are not objects. The primitives and
 * their guarantees:
 *
 *   put       readers see the old object or the new one, never a part
 *   create    create-if-absent: exactly one of many racing creators wins
 *   append    one call's bytes land together, never interleaved with another's
 *   get       whole or a byte range; stat; list a prefix; delete
 *   put_if    put only if the object is still the version read (store_get_ver):
 *             of many racing read-change-put cycles, none loses another's change;
 *             an append racing it either changed the version it compares (a
 *             conflict) or lands in the new object: never in the one replaced
 *   list      in the order store_list documents, whatever the backend's
 *
 * Every backend keeps these with its own means (the folder backend: rename,
 * link, O_APPEND and flock, see store_file.c; Azure, to come: ETags with
 * If-Match and If-None-Match, append blobs); the modules above build on
 * them only.
 */
#ifndef XT_STORE_H
#define XT_STORE_H

#include <stdint.h>
#include <sys/types.h>

#include "util.h"

enum {
	STORE_OK = 0,
	STORE_ERR = -1,		/* I/O or protocol error */
	STORE_ENOENT = -2,	/* no such object */
	STORE_EXIST = -3,	/* create: the object exists already */
	STORE_EINVAL = -4,	/* bad path or URL */
	STORE_ECORRUPT = -5,	/* content does not match its hash */
	STORE_ECONFLICT = -6,	/* put_if: the object changed since it was read */
	STORE_ELINK = -10	/* the path is, or goes through, a symbolic link */
};

/* Room for an object's version (store_get_ver), '\0' included. */
#define STORE_VER_MAX 128

struct store;

struct store_stat {
	int64_t size;
	int64_t mtime_ms;
	char sha256[65];	/* the content hash when the store knows it, else "" */
	/*
	 * The object's version as store_get_ver gives it, when the store
	 * knows it without reading the content (Azure: the ETag, always;
	 * folder: the content hash when kept, not for an object appended to
	 * since its last put), else "".
	 */
	char ver[STORE_VER_MAX];
};

struct store_entry {
	const char *path;	/* full store path of the object, or of a folder ending in '/' */
	int64_t size;
	int64_t mtime_ms;
	int is_dir;		/* a common prefix (only when not recursive) */
	char sha256[65];	/* store_list_sums: the content hash when the store tells it, else "" */
};

/* Called for each listed entry; a non-zero return stops the listing and is returned. */
typedef int (*store_list_fn)(const struct store_entry *e, void *arg);
/* Progress of a transfer: bytes done so far of total (-1 if unknown). */
typedef void (*store_progress_fn)(int64_t done, int64_t total, void *arg);

/*
 * Open the store named by url (see config_store() for the default). A folder
 * store is created when missing, with xt-store.json. Returns NULL and
 * writes a message into err (at least 256 bytes) on failure: a malformed
 * URL, an unreachable store, a store of an unknown format.
 */
struct store *store_open(const char *url, char *err, size_t errlen);
void store_close(struct store *st);
/*
 * The canonical URL of the store (file:///abs/path or az://acct/cont),
 * never with a credential in it (url_public): the one form of the store's
 * name that xt copies into queue entries, records, journals, messages and
 * a run's XT_STORE. The credential comes from the environment or the
 * configuration, never from a kept URL.
 */
const char *store_url(const struct store *st);
/*
 * True when url names a folder store whose folder is gone, so that
 * opening it would make a new, empty store (a job journal's store that
 * was removed since). Nothing is opened; false for every other URL.
 */
int store_gone(const char *url);
/*
 * The device of a folder store's disk, for a module that flushes another
 * folder with it when both are on one disk (xt-submit's queue spool): 0
 * with *dev, or -1 when st has no local disk.
 */
int store_dev(struct store *st, dev_t *dev);
/*
 * True when an object that is appended to can be replaced whole by
 * store_put_log_if and appended to again: every backend here (the folder
 * store with put_if; Azure with a copy of an append blob).
 */
int store_can_replace_log(const struct store *st);
/*
 * True when an object put whole (store_put, store_put_if) can be appended
 * to afterwards: the folder store; not Azure, where it is a block blob.
 */
int store_appends_after_put(const struct store *st);
/*
 * The message of the last failure, no secret in it (see redact in
 * util.h). Valid until the next call on st.
 */
const char *store_error(const struct store *st);

/* Put an object whole from memory. */
int store_put(struct store *st, const char *path, const void *buf, size_t len);
/*
 * Put an object from a local file, streaming. When sha256 is not NULL it
 * receives the content hash, which the store also keeps with the object.
 */
int store_put_file(struct store *st, const char *path, const char *local,
    char sha256[65], store_progress_fn progress, void *arg);
/* Create the object only if it does not exist: STORE_EXIST if it does. */
int store_create(struct store *st, const char *path, const void *buf, size_t len);
/* Append buf (typically one or more whole lines) atomically; creates the object. */
int store_append(struct store *st, const char *path, const void *buf, size_t len);
/*
 * Get len bytes from offset off (len < 0: to the end) into out, which is
 * reset first. Reading past the end gives fewer bytes, not an error.
 */
int store_get(struct store *st, const char *path, int64_t off, int64_t len, struct sbuf *out);
/*
 * Get a whole object into a local file, streaming. A file that exists is
 * replaced whole (temporary file then rename); a new one is written in
 * place. When the store knows the hash, the content is verified and a
 * mismatch is STORE_ECORRUPT, leaving an existing local file untouched and
 * no new one. sha256, when not NULL, receives the content hash.
 */
int store_get_file(struct store *st, const char *path, const char *local,
    char sha256[65], store_progress_fn progress, void *arg);
int store_stat(struct store *st, const char *path, struct store_stat *sst);
/*
 * Get a whole object and its version: an opaque string (at most
 * STORE_VER_MAX bytes with its '\0') that changes whenever the object's
 * content does (folder: the content's sha256; Azure: its ETag).
 */
int store_get_ver(struct store *st, const char *path, struct sbuf *out, char ver[STORE_VER_MAX]);
/*
 * Put an object whole, as store_put, but only if it is still at version
 * ver: STORE_ECONFLICT when another put changed it since (read it again,
 * redo the change, try again), STORE_ENOENT when it is gone. Never deferred
 * by a batch.
 */
int store_put_if(struct store *st, const char *path, const void *buf, size_t len,
    const char *ver);
/*
 * Replace a log, an object that is appended to (store_append), whole, as
 * store_put_if does, so that it can still be appended to afterwards: the
 * compaction of a log. Same returns and guarantees as store_put_if; an
 * append racing it changed the version compared (a conflict) or lands in
 * the new object, though not always after the lines appended to the new
 * object meanwhile (Azure, an object of segments: a segment an appender
 * made in between is moved over last). (A store_put would end an Azure
 * object's appends: a put makes a block blob. Azure: the content goes into
 * an append blob under the store's .tmp/, which Copy Blob then puts in
 * place with If-Match.)
 */
int store_put_log_if(struct store *st, const char *path, const void *buf, size_t len,
    const char *ver);
/*
 * List objects under prefix ("" for all; "a/b/" for a folder; "a/b/x" also
 * matches "a/b/xy"). Recursive lists every object; otherwise objects
 * directly under the prefix's folder and one is_dir entry per sub-folder.
 * Entries of one folder come sorted by name, a sub-folder's entries where
 * the sub-folder sorts (so 'a/x' comes before 'a.txt').
 */
int store_list(struct store *st, const char *prefix, int recursive, store_list_fn fn, void *arg);
/*
 * store_list, with each object's content hash in the entries when the
 * store keeps it (store_lists_sums); a listing asked this way may cost
 * more (Azure: the blobs' metadata comes too).
 */
int store_list_sums(struct store *st, const char *prefix, int recursive, store_list_fn fn,
    void *arg);
/*
 * 1 when store_list_sums tells each object's content hash (Azure), so a
 * caller comparing many objects (xt-put -u) lists once instead of a stat
 * for each; 0 when it does not (folder: a stat is as cheap).
 */
int store_lists_sums(const struct store *st);
/*
 * What another machine needs to open st as this one does: the text of
 * its credentials file ($XT_HOME/azure there, to be written only its
 * owner may read), the credentials this process found (environment, then
 * its own file), appended to out; nothing for a folder store. 0, or a
 * STORE_E* code with st's error (never holding a value). The caller wipes
 * out when done.
 */
int store_creds_text(struct store *st, struct sbuf *out);
/*
 * The store's id (32 hex digits, '\0'-ended), kept in xt-store.json: the
 * same for every machine that opens the same store, so a remote target
 * checks that a box reaches the store a submit uses. A store made before
 * ids gets one on the first call. 0 or a STORE_E* code.
 */
int store_id(struct store *st, char id[33]);
/* Delete one object; STORE_ENOENT when it is not there. */
int store_delete(struct store *st, const char *path);

/*
 * Whether path (valid by name_path_check) is one of the store's own, which
 * are not objects: NULL when it is free, else why not ("is the store's
 * own file: ..."), for "store path 'PATH' WHY". Anything under .tmp (the
 * folder store's temporary files) is refused to every call, xt-store.json
 * to writes and deletes (write != 0) but not to reads. Case is ignored.
 * Every call of the API checks this; a tool may check first, to refuse a
 * whole tree before writing any of it.
 */
const char *store_path_reserved(const char *path, int write);

/*
 * Batches, for many puts in a row (a tree): between store_batch_begin and
 * store_commit, store_put and store_put_file write their objects but may
 * make them visible, durably, only at store_commit, which makes all of
 * them visible with one flush of the store's disk instead of one per
 * object. Each object still appears whole or not at all. Reads in the
 * meantime may not see them. store_commit ends the batch; store_close
 * commits what is pending.
 */
void store_batch_begin(struct store *st);
int store_commit(struct store *st);

/*
 * Let one big transfer (put_file, get_file) use up to n connections at
 * once (Azure: blocks and ranges in parallel); 0 or 1: one. A backend
 * without a network ignores it.
 */
void store_parallel(struct store *st, int n);

/*
 * Set st's message (store_error), secrets redacted (redact_into), and
 * return code: for backends, and for a module that fails in the middle
 * of its store calls and reports through the store, as `return
 * store_fail(st, STORE_ERR, ...)`.
 */
int store_fail(struct store *st, int code, const char *fmt, ...) PRINTF(3, 4);

#endif
