/* blob.c: see blob.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "json.h"
#include "name.h"
#include "sha256.h"
#include "work.h"
#include "banned.h"

/*
 * The mtime every cached blob gets when it is filled (1970-01-01T00:00:01Z).
 * A write to a cached file changes it, so such a file is fetched again;
 * the time of its last use is its atime, set by each restore.
 */
#define CACHE_MTIME 1

/* A cache temporary of a writer that is gone is removed once it is this old. */
#define CACHE_TMP_STALE_MS ((int64_t)3600 * 1000)

char *
blob_path(const char *sha256)
{
	return xasprintf("blobs/sha256/%.2s/%s", sha256, sha256 + 2);
}

int
blob_put_file(struct store *st, struct hashcache *hc, const char *local, char sha256[65])
{
	struct store_stat sst;
	char got[65], *bp;
	int rc;

	if (hashcache_file(hc, local, sha256) < 0)
		return store_fail(st, STORE_ENOENT, "cannot read '%s': %s", local, strerror(errno));
	bp = blob_path(sha256);
	rc = store_stat(st, bp, &sst);
	if (rc == STORE_OK) {
		free(bp);
		return 0;
	}
	if (rc != STORE_ENOENT) {
		free(bp);
		return rc;
	}
	rc = store_put_file(st, bp, local, got, NULL, NULL);
	if (rc == STORE_OK && strcmp(got, sha256) != 0) {
		/* the file changed between hashing and copying: never keep a blob under a wrong name */
		store_delete(st, bp);
		rc = store_fail(st, STORE_ECORRUPT, "'%s' changed while it was being stored", local);
	}
	free(bp);
	return rc < 0 ? rc : 1;
}

int
blob_put_tree(struct store *st, struct hashcache *hc, const struct tree *t, const char *mpath,
    long *uploaded)
{
	struct sbuf man;
	size_t i;
	int rc = 0;

	if (uploaded)
		*uploaded = 0;
	sbuf_init(&man, (size_t)1 << 30);
	for (i = 0; i < t->n; i++) {
		const struct tree_file *f = &t->files[i];
		char sha[65];
		cJSON *o;
		char *line;
		size_t len;

		if ((rc = blob_put_file(st, hc, f->full, sha)) < 0)
			break;
		if (rc == 1 && uploaded)
			(*uploaded)++;
		o = cJSON_CreateObject();
		json_set_str(o, "path", f->rel);
		json_set_num(o, "mode", f->mode & 07777);
		json_set_num(o, "size", (double)f->size);
		json_set_str(o, "sha256", sha);
		line = json_line(o, &len);
		cJSON_Delete(o);
		if (sbuf_add(&man, line, len) < 0) {
			free(line);
			rc = store_fail(st, STORE_ERR, "manifest of more than 1 GB");
			break;
		}
		free(line);
		rc = 0;
	}
	if (rc == 0)
		rc = store_put(st, mpath, man.buf, man.len);
	sbuf_release(&man);
	return rc;
}

/* Make the parents of path. */
static int
parents(const char *path)
{
	char *d = xstrdup(path), *s = strrchr(d, '/');
	int rc = 0;

	if (s) {
		*s = '\0';
		rc = mkdir_p(d);
	}
	free(d);
	return rc;
}

/*
 * True when name is a temporary of cache_fill ("<name>.tmp.<pid>.<seq>")
 * whose writer is gone. The cache is on this machine, so the pid says; a
 * pid reused since is taken for the writer: its file stays.
 */
static int
cache_tmp_orphan(const char *name, const void *arg)
{
	const char *t = strstr(name, ".tmp."), *dot;

	(void)arg;
	if (!t)
		return 0;
	t += 5;
	dot = strchr(t, '.');
	if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
		return 0;
	return pid_gone(t, (size_t)(dot - t));
}

/*
 * Remove the temporaries that fillers killed mid-copy left in the cache
 * (cache/ab/<rest>.tmp.PID.N): those whose writer is gone and that have
 * not been written for CACHE_TMP_STALE_MS. Once a process, when its first
 * fill starts.
 */
static void
cache_clean(const char *cache)
{
	static pid_t cleaned;
	struct dirent *te;
	DIR *top;

	if (cleaned == getpid())
		return;
	cleaned = getpid();
	if (!(top = opendir(cache)))
		return;
	while ((te = readdir(top))) {
		char *sub;

		if (strlen(te->d_name) != 2 || strspn(te->d_name, "0123456789abcdef") != 2)
			continue;
		sub = path_join(cache, te->d_name);
		tmp_sweep(sub, cache_tmp_orphan, NULL, CACHE_TMP_STALE_MS);
		free(sub);
	}
	closedir(top);
}

/*
 * Fill the local cache with blob sha. Other executors copy from the cache
 * at any moment, so a blob appears there only whole and verified: it is
 * written under a name of its own, then renamed into place (over a cached
 * file of the wrong size or mtime, which no fill of ours leaves). A filler
 * killed mid-copy leaves its temporary: the first fill of a process removes
 * those.
 */
static int
cache_fill(struct store *st, const char *cache, const char *sha, const char *bp, const char *cp)
{
	static unsigned long seq;
	const struct timespec ts[2] = { { 0, UTIME_NOW }, { CACHE_MTIME, 0 } };
	char got[65], *tmp;
	int rc;

	cache_clean(cache);
	if (parents(cp) < 0)
		return store_fail(st, STORE_ERR, "cannot create '%s': %s", cp, strerror(errno));
	tmp = xasprintf("%s.tmp.%ld.%lu", cp, (long)getpid(), seq++);
	if ((rc = store_get_file(st, bp, tmp, got, NULL, NULL)) < 0) {
		unlink(tmp);
	} else if (strcmp(got, sha) != 0) {
		unlink(tmp);
		rc = store_fail(st, STORE_ECORRUPT, "blob %s does not match its hash", sha);
	} else if (chmod(tmp, 0444) < 0 || utimensat(AT_FDCWD, tmp, ts, 0) < 0 ||
	    rename(tmp, cp) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot cache blob %s in '%s': %s", sha, cp,
		    strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/*
 * Copy size bytes of the open file src into a new file dst of the given
 * mode: in the kernel (a reflink where the file system shares blocks),
 * else by read and write. 0, or -1 with errno.
 */
static int
copy_to(int src, const char *dst, mode_t mode, int64_t size)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n;
	int fd, ret = 0, e;

	if (unlink(dst) < 0 && errno != ENOENT)
		return -1;
	if ((fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -1;
	while (off < size) {
		n = copy_file_range(src, &off, fd, NULL, (size_t)(size - off), 0);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || off > 0 || (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
		    errno != EOPNOTSUPP && errno != EPERM)) {
			if (n == 0)
				errno = EIO;	/* the source is shorter than it was */
			ret = -1;
		}
		break;
	}
	/* no copy_file_range here (another file system, an old kernel) */
	while (ret == 0 && off < size) {
		n = pread(src, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_all(fd, buf, (size_t)n) < 0) {
			if (n == 0)
				errno = EIO;
			ret = -1;
		}
		off += n;
	}
	if (ret == 0 && fchmod(fd, mode) < 0)
		ret = -1;
	e = errno;
	if (close(fd) < 0 && ret == 0) {
		e = errno;
		ret = -1;
	}
	if (ret < 0)
		unlink(dst);
	errno = e;
	return ret;
}

/*
 * Restore blob sha into the new file dst with mode: copied from the cache
 * (filled first when it lacks the blob; *filled is then set), else straight
 * from the store. The run gets its own copy: nothing it does to it reaches
 * the cache or another run. A cached blob can be evicted at any moment
 * (blob_cache_trim): once opened it is ours, and when it went between the
 * fill and the open it is filled again.
 */
static int
get_one(struct store *st, const char *sha, int64_t size, const char *dst, mode_t mode,
    const char *cache, int *filled)
{
	char *bp = blob_path(sha), got[65];
	int rc, try;

	if (cache) {
		char *cp = xasprintf("%s/%.2s/%s", cache, sha, sha + 2);

		for (try = 0, rc = 1; try < 3 && rc == 1; try++) {
			struct stat sb;
			int fd = open(cp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

			if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    (size < 0 || sb.st_size == size) && sb.st_mtim.tv_sec == CACHE_MTIME &&
			    sb.st_mtim.tv_nsec == 0) {
				/* its time of last use, for blob_cache_trim */
				const struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };

				futimens(fd, ts);
				rc = 0;
				if (copy_to(fd, dst, mode, sb.st_size) < 0)
					rc = store_fail(st, STORE_ERR, "cannot copy blob %s to '%s': %s",
					    sha, dst, strerror(errno));
			} else if (fd >= 0 || errno == ENOENT) {
				if ((rc = cache_fill(st, cache, sha, bp, cp)) == 0)
					rc = 1;
				*filled = 1;
			} else {
				rc = 2;	/* the cache cannot be read: from the store */
			}
			if (fd >= 0)
				close(fd);
		}
		free(cp);
		if (rc <= 0) {
			free(bp);
			return rc;
		}
	}
	unlink(dst);
	rc = store_get_file(st, bp, dst, got, NULL, NULL);
	if (rc == 0 && strcmp(got, sha) != 0) {
		unlink(dst);
		rc = store_fail(st, STORE_ECORRUPT, "blob %s does not match its hash", sha);
	}
	if (rc == 0 && chmod(dst, mode) < 0)
		rc = store_fail(st, STORE_ERR, "cannot set the mode of '%s': %s", dst, strerror(errno));
	free(bp);
	return rc;
}

/*
 * blob_get_tree, setting *filled when a blob was added to the cache; with
 * max >= 0, STORE_EINVAL before a file would take the bytes restored past
 * max.
 */
static int
get_tree(struct store *st, const char *mpath, const char *dir, const char *cache, int *filled,
    int64_t max, blob_file_fn fn, void *arg)
{
	struct sbuf man;
	char *line, *nl, why[256];
	long lineno = 0;
	int64_t total = 0;
	int rc;

	sbuf_init(&man, (size_t)1 << 30);
	if ((rc = store_get(st, mpath, 0, -1, &man)) < 0) {
		sbuf_release(&man);
		return rc;
	}
	if (mkdir_p(dir) < 0) {
		sbuf_release(&man);
		return store_fail(st, STORE_ERR, "cannot create '%s': %s", dir, strerror(errno));
	}
	for (line = man.buf; rc == 0 && (nl = strchr(line, '\n')); line = nl + 1) {
		cJSON *o;
		const char *path, *sha;
		char *dst;
		double size, mode;

		*nl = '\0';
		lineno++;
		o = cJSON_Parse(line);
		path = json_str(o, "path");
		sha = json_str(o, "sha256");
		mode = json_num(o, "mode", 0644);
		if (!path || !sha || !sha256_valid(sha) || name_path_check(path, why, sizeof(why)) < 0 ||
		    !(mode >= 0 && mode <= 07777 && mode == (int)mode)) {
			cJSON_Delete(o);
			rc = store_fail(st, STORE_ECORRUPT, "%s:%ld: bad manifest line", mpath, lineno);
			break;
		}
		dst = path_join(dir, path);
		size = json_num(o, "size", -1);
		total += size > 0 && size < 9e18 ? (int64_t)size : 0;
		if (max >= 0 && total > max)
			rc = store_fail(st, STORE_EINVAL, "'%s' holds more than %lld bytes", mpath,
			    (long long)max);
		else if (parents(dst) < 0)
			rc = store_fail(st, STORE_ERR, "cannot create the folder of '%s': %s", dst,
			    strerror(errno));
		else
			rc = get_one(st, sha, size >= 0 && size < 9e18 ? (int64_t)size : -1, dst,
			    (mode_t)mode & 0777, cache, filled);
		if (rc == 0 && fn)
			fn(path, dst, size >= 0 && size < 9e18 ? (int64_t)size : -1, sha, arg);
		free(dst);
		cJSON_Delete(o);
	}
	sbuf_release(&man);
	return rc;
}

int
blob_get_tree(struct store *st, const char *mpath, const char *dir, const char *cache)
{
	int filled = 0;

	return get_tree(st, mpath, dir, cache, &filled, -1, NULL, NULL);
}

int
blob_extract(struct store *st, const char *mpath, const char *dir, blob_file_fn fn, void *arg)
{
	int filled = 0;

	return get_tree(st, mpath, dir, NULL, &filled, -1, fn, arg);
}

struct cached {
	char *path;
	int64_t size, used;
};

static int
cmpused(const void *a, const void *b)
{
	const struct cached *x = a, *y = b;

	return x->used < y->used ? -1 : x->used > y->used;
}

int64_t
blob_cache_trim(const char *cache, int64_t max)
{
	struct cached *c = NULL;
	size_t n = 0, cap = 0, i;
	int64_t total = 0, freed = 0;
	struct dirent *te, *de;
	DIR *top, *sub;

	if (!(top = opendir(cache)))
		return 0;
	while ((te = readdir(top))) {
		char *subp;

		if (strlen(te->d_name) != 2 || strspn(te->d_name, "0123456789abcdef") != 2)
			continue;
		subp = path_join(cache, te->d_name);
		if ((sub = opendir(subp))) {
			while ((de = readdir(sub))) {
				struct stat sb;
				char *p;

				/* blobs only: a temporary is a fill under way */
				if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
					continue;
				p = path_join(subp, de->d_name);
				if (lstat(p, &sb) < 0 || !S_ISREG(sb.st_mode)) {
					free(p);
					continue;
				}
				if (n == cap)
					c = xrealloc(c, (cap = cap * 2 + 256) * sizeof(*c));
				c[n].path = p;
				c[n].size = sb.st_size;
				c[n].used = (int64_t)sb.st_atim.tv_sec * 1000000000 + sb.st_atim.tv_nsec;
				total += sb.st_size;
				n++;
			}
			closedir(sub);
		}
		free(subp);
	}
	closedir(top);
	if (total > max) {
		qsort(c, n, sizeof(*c), cmpused);
		for (i = 0; i < n && total - freed > max; i++)
			if (unlink(c[i].path) == 0)
				freed += c[i].size;
	}
	for (i = 0; i < n; i++)
		free(c[i].path);
	free(c);
	return freed;
}

int
blob_restore_tree(struct store *st, const char *mpath, const char *dir, int fresh, int64_t max)
{
	struct work_config wc;
	char err[512], *home, *cache;
	int rc, filled = 0;

	if (work_config(&wc, err, sizeof(err)) < 0)
		return store_fail(st, STORE_ERR, "%s", err);
	if (!fresh && work_rm(dir) < 0)
		return store_fail(st, STORE_ERR, "cannot remove '%s': %s", dir, strerror(errno));
	home = xt_home();
	cache = xasprintf("%s/cache/blobs", home);
	rc = get_tree(st, mpath, dir, wc.cache_max > 0 ? cache : NULL, &filled, max, NULL, NULL);
	if (filled || wc.cache_max == 0)
		blob_cache_trim(cache, wc.cache_max);
	free(home);
	free(cache);
	return rc;
}
