/*
 * store_file.c: the folder backend.
 *
 * Objects are files under the root. A put writes a temporary file in
 * <root>/.tmp, fsyncs it and renames it into place, so readers see the old
 * file or the new one. Create-if-absent links a complete temporary file to
 * its name (link fails if the name exists). Append is one write() to a file
 * opened with O_APPEND. The content hash of every object written by xt is
 * kept in the extended attribute user.xt.sha256 together with the size and
 * mtime it belongs to, so that a file changed behind xt's back is not
 * trusted. Temporary files are never listed; they are named
 * <host>.<pid>.<seq>.<random>, and the first write of a handle removes the
 * ones older than TMP_STALE_MS whose writer, on this host, is gone (a
 * writer that was killed leaves its temporary file behind).
 *
 * An object's version is the sha256 of its content. A conditional put
 * writes its temporary file, then, holding a lock in <root>/.tmp (one of
 * LOCKS, chosen by the path's hash), compares the object's version with the
 * one it was given and renames only if they match.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sha256.h"
#include "store.h"
#include "banned.h"

#define TMPDIR ".tmp"
#define XATTR "user.xt.sha256"
#define CHUNK (1 << 20)
#define TMP_STALE_MS ((int64_t)3600 * 1000)
#define LOCKS 64		/* lock files for conditional puts */

struct fstore {
	char *root;
	char *tmp;
	unsigned long seq;
	char host[256];		/* this machine's name, in temporary names */
	int cleaned;		/* stale temporaries looked for */
	/* batch mode: written temporaries waiting for one syncfs and their renames */
	char **pend_tmp, **pend_dst;
	size_t npend, cappend;
	char *buf;		/* CHUNK bytes for copies, made once */
};

static struct fstore *
priv(struct store *st)
{
	return st->priv;
}

static char *
full(struct store *st, const char *path)
{
	return path_join(priv(st)->root, path);
}

/*
 * True when the temporary file name was made on this host (arg) by a
 * process that is gone. A pid reused since is taken for the writer: its
 * file stays.
 */
static int
tmp_orphan(const char *name, const void *arg)
{
	const char *host = arg, *end = name + strlen(name), *dot[3];
	int k;

	for (k = 0; k < 3; k++) {
		while (end > name && end[-1] != '.')
			end--;
		if (end == name)
			return 0;
		dot[k] = --end;
	}
	/* dot[2] ends the host, dot[1] the pid */
	if ((size_t)(dot[2] - name) != strlen(host) || strncmp(name, host, strlen(host)))
		return 0;
	return pid_gone(dot[2] + 1, (size_t)(dot[1] - dot[2] - 1));
}

/* A fresh temporary file in <root>/.tmp; returns the fd and its path (caller frees). */
static int
tmp_open(struct store *st, char **tmppath)
{
	struct fstore *fs = priv(st);
	int fd, tries;

	/* the stale temporary files of writers that died, once a handle */
	if (!fs->cleaned) {
		fs->cleaned = 1;
		tmp_sweep(fs->tmp, tmp_orphan, fs->host, TMP_STALE_MS);
	}
	for (tries = 0; tries < 100; tries++) {
		*tmppath = xasprintf("%s/%s.%ld.%lu.%lx", fs->tmp, fs->host, (long)getpid(), fs->seq++,
		    (unsigned long)random());
		fd = open(*tmppath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0)
			return fd;
		free(*tmppath);
		*tmppath = NULL;
		if (errno == ENOENT && mkdir_p(fs->tmp) == 0)
			continue;
		if (errno != EEXIST)
			return store_fail(st, STORE_ERR, "cannot create a temporary file in '%s': %s",
			    fs->tmp, strerror(errno));
	}
	return store_fail(st, STORE_ERR, "cannot create a temporary file in '%s'", fs->tmp);
}

static void
xattr_set(int fd, const char *hex)
{
	struct stat sb;
	char val[128];

	if (!hex || fstat(fd, &sb) < 0)
		return;
	snprintf(val, sizeof(val), "%s %lld %lld.%09ld", hex, (long long)sb.st_size,
	    (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	/* Not every file system has user xattrs; the hash is then computed on demand. */
	(void)fsetxattr(fd, XATTR, val, strlen(val), 0);
}

static int
xattr_get(const char *p, const struct stat *sb, char hex[65])
{
	char val[128], want[64];
	ssize_t n = getxattr(p, XATTR, val, sizeof(val) - 1);

	hex[0] = '\0';
	if (n < 66)
		return -1;
	val[n] = '\0';
	snprintf(want, sizeof(want), " %lld %lld.%09ld", (long long)sb->st_size,
	    (long long)sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec);
	if (strcmp(val + 64, want) != 0)
		return -1;
	memcpy(hex, val, 64);
	hex[64] = '\0';
	return sha256_valid(hex) ? 0 : (hex[0] = '\0', -1);
}

/* Rename tmp into place, making the parents (again, if a delete removed them meanwhile). */
static int
place(struct store *st, const char *tmp, const char *dst)
{
	int tries;

	for (tries = 0; tries < 10; tries++) {
		char *dir, *slash;

		if (rename(tmp, dst) == 0)
			return 0;
		if (errno != ENOENT)
			break;
		dir = xstrdup(dst);
		slash = strrchr(dir, '/');
		*slash = '\0';
		if (mkdir_p(dir) < 0) {
			free(dir);
			break;
		}
		free(dir);
	}
	return store_fail(st, errno == EISDIR || errno == ENOTDIR ? STORE_EINVAL : STORE_ERR,
	    "cannot put '%s': %s", dst + strlen(priv(st)->root) + 1, strerror(errno));
}

static int
finish_tmp(struct store *st, int fd, char *tmp, const char *hex)
{
	xattr_set(fd, hex);
	/* in a batch, one syncfs at the commit stands for every fdatasync */
	if ((!st->batch && fdatasync(fd) < 0) || close(fd) < 0) {
		int e = errno;

		unlink(tmp);
		return store_fail(st, STORE_ERR, "cannot write a temporary file: %s", strerror(e));
	}
	return 0;
}

/* Rename tmp to dst now, or at the batch's commit. Consumes tmp. */
static int
place_or_defer(struct store *st, char *tmp, const char *path)
{
	struct fstore *fs = priv(st);
	char *dst = full(st, path);
	int rc = 0;

	if (st->batch) {
		if (fs->npend == fs->cappend) {
			fs->cappend = fs->cappend * 2 + 64;
			fs->pend_tmp = xrealloc(fs->pend_tmp, fs->cappend * sizeof(char *));
			fs->pend_dst = xrealloc(fs->pend_dst, fs->cappend * sizeof(char *));
		}
		fs->pend_tmp[fs->npend] = tmp;
		fs->pend_dst[fs->npend++] = dst;
		return 0;
	}
	if ((rc = place(st, tmp, dst)) < 0)
		unlink(tmp);
	free(dst);
	free(tmp);
	return rc;
}

static int
f_commit(struct store *st)
{
	struct fstore *fs = priv(st);
	size_t i;
	int rc = 0, fd;

	if (!fs->npend)
		return 0;
	fd = open(fs->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0)
		rc = store_fail(st, STORE_ERR, "cannot sync the store: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	for (i = 0; i < fs->npend; i++) {
		if (rc == 0 && place(st, fs->pend_tmp[i], fs->pend_dst[i]) < 0)
			rc = STORE_ERR;
		if (rc < 0)
			unlink(fs->pend_tmp[i]);
		free(fs->pend_tmp[i]);
		free(fs->pend_dst[i]);
	}
	fs->npend = 0;
	return rc;
}

static int
f_put(struct store *st, const char *path, const void *buf, size_t len)
{
	char *tmp, hex[65];
	int fd, rc;

	if ((fd = tmp_open(st, &tmp)) < 0)
		return fd;
	if (write_all(fd, buf, len) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	sha256_buf(buf, len, hex);
	if ((rc = finish_tmp(st, fd, tmp, hex)) < 0) {
		free(tmp);
		return rc;
	}
	return place_or_defer(st, tmp, path);
}

/* Copy src to dst while hashing, through buf (CHUNK bytes); 0 or -1 with errno. */
static int
copy_hash(char *buf, int src, int dst, char hex[65], int64_t total, store_progress_fn progress,
    void *arg)
{
	struct sha256 h;
	int64_t done = 0;
	ssize_t n;

	sha256_init(&h);
	while ((n = read(src, buf, CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		sha256_update(&h, buf, (size_t)n);
		if (write_all(dst, buf, (size_t)n) < 0)
			return -1;
		done += n;
		if (progress)
			progress(done, total, arg);
	}
	sha256_hex(&h, hex);
	return 0;
}

static char *
copybuf(struct store *st)
{
	struct fstore *fs = priv(st);

	if (!fs->buf)
		fs->buf = xmalloc(CHUNK);
	return fs->buf;
}

static int
f_put_file(struct store *st, const char *path, const char *local, char sha256[65],
    store_progress_fn progress, void *arg)
{
	char *tmp, hex[65];
	struct stat sb;
	int src, fd, rc;

	errno = 0;
	if ((src = open(local, O_RDONLY | O_CLOEXEC)) < 0)
		return store_fail(st, STORE_ENOENT, "cannot open '%s': %s", local, strerror(errno));
	if (fstat(src, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		rc = store_fail(st, STORE_ERR, "cannot read '%s': %s", local,
		    errno ? strerror(errno) : "Not a regular file");
		close(src);
		return rc;
	}
	if ((fd = tmp_open(st, &tmp)) < 0) {
		close(src);
		return fd;
	}
	if (copy_hash(copybuf(st), src, fd, hex, sb.st_size, progress, arg) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot copy '%s' to '%s': %s", local, path,
		    strerror(errno));
		close(src);
		close(fd);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	close(src);
	if ((rc = finish_tmp(st, fd, tmp, hex)) < 0) {
		free(tmp);
		return rc;
	}
	if ((rc = place_or_defer(st, tmp, path)) == 0 && sha256)
		memcpy(sha256, hex, 65);
	return rc;
}

static int
f_create(struct store *st, const char *path, const void *buf, size_t len)
{
	char *tmp, *dst, hex[65];
	int fd, rc, tries;

	if ((fd = tmp_open(st, &tmp)) < 0)
		return fd;
	if (write_all(fd, buf, len) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	sha256_buf(buf, len, hex);
	if ((rc = finish_tmp(st, fd, tmp, hex)) < 0) {
		free(tmp);
		return rc;
	}
	dst = full(st, path);
	rc = STORE_ERR;
	for (tries = 0; tries < 10; tries++) {
		if (link(tmp, dst) == 0) {
			rc = STORE_OK;
			break;
		}
		if (errno == EEXIST) {
			rc = store_fail(st, STORE_EXIST, "'%s' exists already", path);
			break;
		}
		if (errno == ENOENT) {
			char *dir = xstrdup(dst);

			*strrchr(dir, '/') = '\0';
			if (mkdir_p(dir) == 0) {
				free(dir);
				continue;
			}
			free(dir);
		}
		rc = store_fail(st, STORE_ERR, "cannot create '%s': %s", path, strerror(errno));
		break;
	}
	unlink(tmp);
	free(tmp);
	free(dst);
	return rc;
}

static int
f_append(struct store *st, const char *path, const void *buf, size_t len)
{
	char *dst = full(st, path);
	int fd, rc = STORE_OK;

	fd = open(dst, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0 && errno == ENOENT) {
		char *dir = xstrdup(dst);

		*strrchr(dir, '/') = '\0';
		if (mkdir_p(dir) == 0)
			fd = open(dst, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
		free(dir);
	}
	if (fd < 0) {
		rc = store_fail(st, STORE_ERR, "cannot append to '%s': %s", path, strerror(errno));
		free(dst);
		return rc;
	}
	/* One write: O_APPEND writes to a regular file are not interleaved. */
	if (write_all(fd, buf, len) < 0)
		rc = store_fail(st, STORE_ERR, "cannot append to '%s': %s", path, strerror(errno));
	close(fd);
	free(dst);
	return rc;
}

static int
open_obj(struct store *st, const char *path, struct stat *sb)
{
	char *p = full(st, path);
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	free(p);
	if (fd < 0)
		return store_fail(st, errno == ENOENT || errno == ENOTDIR ? STORE_ENOENT : STORE_ERR,
		    "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, sb) < 0) {
		close(fd);
		return store_fail(st, STORE_ERR, "cannot stat '%s': %s", path, strerror(errno));
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		return store_fail(st, STORE_ENOENT, "cannot open '%s': %s", path,
		    S_ISDIR(sb->st_mode) ? "Is a folder" : "Not a regular file");
	}
	return fd;
}

static int
f_get(struct store *st, const char *path, int64_t off, int64_t len, struct sbuf *out)
{
	struct stat sb;
	char buf[65536];
	int fd = open_obj(st, path, &sb);
	int64_t left;

	if (fd < 0)
		return fd;
	left = len < 0 ? INT64_MAX : len;
	while (left > 0) {
		ssize_t n = pread(fd, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return store_fail(st, STORE_ERR, "cannot read '%s': %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		if (sbuf_add(out, buf, (size_t)n) < 0) {
			close(fd);
			return store_fail(st, STORE_ERR, "'%s' is larger than %zu bytes", path, out->max);
		}
		off += n;
		left -= n;
	}
	close(fd);
	return 0;
}

static int
f_get_file(struct store *st, const char *path, const char *local, char sha256[65],
    store_progress_fn progress, void *arg)
{
	struct stat sb;
	char known[65], hex[65], *tmp = NULL, *obj;
	const char *written;
	int src = open_obj(st, path, &sb), dst, rc;

	if (src < 0)
		return src;
	obj = full(st, path);
	xattr_get(obj, &sb, known);
	free(obj);
	/* A new file is written in place (and removed if it goes wrong); an
	 * existing one is replaced whole, through a temporary file (tmp). */
	dst = open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (dst < 0 && errno == EEXIST) {
		tmp = xasprintf("%s.xt-tmp.%ld", local, (long)getpid());
		dst = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	}
	if (dst < 0) {
		rc = store_fail(st, STORE_ERR, "cannot create '%s': %s", local, strerror(errno));
		goto out;
	}
	written = tmp ? tmp : local;
	/* dst is closed either way; a failed copy keeps its errno when close succeeds */
	rc = copy_hash(copybuf(st), src, dst, hex, sb.st_size, progress, arg);
	if (close(dst) < 0 || rc < 0) {
		rc = store_fail(st, STORE_ERR, "cannot copy '%s' to '%s': %s", path, local,
		    strerror(errno));
		unlink(written);
		goto out;
	}
	if (known[0] && strcmp(known, hex) != 0) {
		rc = store_fail(st, STORE_ECORRUPT, "'%s': content does not match its sha256 %s",
		    path, known);
		unlink(written);
		goto out;
	}
	if (tmp && rename(tmp, local) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot rename to '%s': %s", local, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (sha256)
		memcpy(sha256, hex, 65);
out:
	close(src);
	free(tmp);
	return rc;
}

static int
f_stat(struct store *st, const char *path, struct store_stat *sst)
{
	char *p = full(st, path);
	struct stat sb;
	int e = 0;

	if (stat(p, &sb) < 0)
		e = errno;
	else if (!S_ISREG(sb.st_mode))
		e = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
	if (e) {

		free(p);
		return store_fail(st, e == ENOENT || e == ENOTDIR || e == EISDIR ? STORE_ENOENT
		    : STORE_ERR, "cannot stat '%s': %s", path, strerror(e));
	}
	sst->size = sb.st_size;
	sst->mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
	xattr_get(p, &sb, sst->sha256);
	free(p);
	return 0;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * List folder rel (store path, "" for the root) whose entries start with
 * match. Recursion descends into sub-folders fully.
 */
static int
walk(struct store *st, const char *rel, const char *match, int recursive, store_list_fn fn,
    void *arg)
{
	char *dir = *rel ? full(st, rel) : xstrdup(priv(st)->root);
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i, mlen = strlen(match);
	int rc = 0;

	if (!d) {
		int e = errno;

		free(dir);
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		return store_fail(st, STORE_ERR, "cannot list '%s': %s", rel, strerror(e));
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!*rel && !strcmp(de->d_name, TMPDIR))
			continue;
		if (strncmp(de->d_name, match, mlen) != 0)
			continue;
		if (n == cap)
			names = xrealloc(names, (cap = cap * 2 + 64) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmpstr);
	for (i = 0; i < n; i++) {
		char *p = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		char *fp = path_join(dir, names[i]);
		struct stat sb;
		struct store_entry e;

		if (rc == 0 && lstat(fp, &sb) == 0) {
			if (S_ISDIR(sb.st_mode)) {
				if (recursive) {
					rc = walk(st, p, "", 1, fn, arg);
				} else {
					char *dp = xasprintf("%s/", p);

					e.path = dp;
					e.size = 0;
					e.mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 +
					    sb.st_mtim.tv_nsec / 1000000;
					e.is_dir = 1;
					rc = fn(&e, arg);
					free(dp);
				}
			} else if (S_ISREG(sb.st_mode)) {
				e.path = p;
				e.size = sb.st_size;
				e.mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
				e.is_dir = 0;
				rc = fn(&e, arg);
			}
		}
		free(p);
		free(fp);
		free(names[i]);
	}
	free(names);
	free(dir);
	return rc;
}

static int
f_list(struct store *st, const char *prefix, int recursive, store_list_fn fn, void *arg)
{
	const char *slash = strrchr(prefix, '/');
	char *rel = slash ? xstrndup(prefix, (size_t)(slash - prefix)) : xstrdup("");
	int rc = walk(st, rel, slash ? slash + 1 : prefix, recursive, fn, arg);

	free(rel);
	return rc;
}

static int
f_del(struct store *st, const char *path)
{
	char *p = full(st, path), *slash;
	struct stat sb;
	int rc = 0;

	if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		rc = store_fail(st, STORE_ENOENT, "cannot delete '%s': Is a folder", path);
	} else if (unlink(p) < 0) {
		rc = store_fail(st, errno == ENOENT || errno == ENOTDIR ? STORE_ENOENT : STORE_ERR,
		    "cannot delete '%s': %s", path, strerror(errno));
	} else {
		/* Folders are implied by objects: drop the ones left empty. */
		size_t rootlen = strlen(priv(st)->root);

		while ((slash = strrchr(p, '/')) && (size_t)(slash - p) > rootlen) {
			*slash = '\0';
			if (rmdir(p) < 0)
				break;
		}
	}
	free(p);
	return rc;
}

static void
f_close(struct store *st)
{
	struct fstore *fs = priv(st);

	st->batch = 0;
	f_commit(st);
	free(fs->pend_tmp);
	free(fs->pend_dst);
	free(fs->buf);
	free(fs->root);
	free(fs->tmp);
	free(fs);
}

static int
f_get_ver(struct store *st, const char *path, struct sbuf *out, char *ver)
{
	int rc = f_get(st, path, 0, -1, out);

	if (rc == 0)
		sha256_buf(out->buf, out->len, ver);
	return rc;
}

/* The version of the object now: 0, or a STORE_E* code. */
static int
version_now(struct store *st, const char *path, char hex[65])
{
	struct stat sb;
	struct sha256 h;
	char *p;
	int fd = open_obj(st, path, &sb), rc = 0;

	if (fd < 0)
		return fd;
	p = full(st, path);
	if (xattr_get(p, &sb, hex) < 0) {
		char *buf = copybuf(st);
		ssize_t n;

		sha256_init(&h);
		while ((n = read(fd, buf, CHUNK)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = store_fail(st, STORE_ERR, "cannot read '%s': %s", path,
				    strerror(errno));
				break;
			}
			sha256_update(&h, buf, (size_t)n);
		}
		sha256_hex(&h, hex);
	}
	free(p);
	close(fd);
	return rc;
}

/* The lock of path's conditional puts, taken: its fd, or a STORE_E* code. */
static int
lock_path(struct store *st, const char *path)
{
	char hex[65], *lp;
	int fd;

	sha256_buf(path, strlen(path), hex);
	lp = xasprintf("%s/lock.%.2s", priv(st)->tmp, hex);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0 && errno == ENOENT && mkdir_p(priv(st)->tmp) == 0)
		fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	free(lp);
	if (fd < 0)
		return store_fail(st, STORE_ERR, "cannot lock '%s': %s", path, strerror(errno));
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return store_fail(st, STORE_ERR, "cannot lock '%s': %s", path,
			    strerror(errno));
		}
	return fd;
}

static int
f_put_if(struct store *st, const char *path, const void *buf, size_t len, const char *ver)
{
	char *tmp, *dst, hex[65], now[65];
	int fd, lk, rc, batch = st->batch;

	/* the slow part, the write and its flush, outside the lock */
	if ((fd = tmp_open(st, &tmp)) < 0)
		return fd;
	if (write_all(fd, buf, len) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return rc;
	}
	sha256_buf(buf, len, hex);
	st->batch = 0;
	rc = finish_tmp(st, fd, tmp, hex);
	st->batch = batch;
	if (rc < 0) {
		free(tmp);
		return rc;
	}
	if ((lk = lock_path(st, path)) < 0) {
		unlink(tmp);
		free(tmp);
		return lk;
	}
	if ((rc = version_now(st, path, now)) == 0 && strcmp(now, ver) != 0)
		rc = store_fail(st, STORE_ECONFLICT, "'%s' changed since it was read", path);
	if (rc == 0) {
		dst = full(st, path);
		rc = place(st, tmp, dst);
		free(dst);
	}
	close(lk);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static const struct store_ops file_ops = {
	"file", f_close, f_put, f_put_file, f_create, f_append, f_get, f_get_file, f_stat,
	f_list, f_del, f_commit, f_get_ver, f_put_if,
};

struct store *
store_file_open(const char *root, char *err, size_t errlen)
{
	struct store *st;
	struct fstore *fs;
	struct stat sb;
	struct sbuf meta;
	static const char marker[] = "{\"format\":1}\n";
	char *mp;
	size_t n;

	if (root[0] != '/') {
		snprintf(err, errlen, "store path '%s' is not absolute", root);
		return NULL;
	}
	if (stat(root, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "store '%s' is not a folder", root);
		return NULL;
	}
	if (mkdir_p(root) < 0) {
		snprintf(err, errlen, "cannot create store '%s': %s", root, strerror(errno));
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	fs = xcalloc(1, sizeof(*fs));
	fs->root = xstrdup(root);
	n = strlen(fs->root);
	while (n > 1 && fs->root[n - 1] == '/')
		fs->root[--n] = '\0';
	fs->tmp = path_join(fs->root, TMPDIR);
	fs->seq = 0;
	if (gethostname(fs->host, sizeof(fs->host)) < 0 || !fs->host[0] ||
	    strchr(fs->host, '/'))
		snprintf(fs->host, sizeof(fs->host), "localhost");
	fs->host[sizeof(fs->host) - 1] = '\0';
	srandom((unsigned)(getpid() ^ time_now_ms()));
	st->ops = &file_ops;
	st->priv = fs;
	st->url = xasprintf("file://%s", fs->root);

	mp = path_join(fs->root, "xt-store.json");
	sbuf_init(&meta, 4096);
	if (file_read(mp, &meta) < 0) {
		DIR *d;
		struct dirent *de;
		int empty = 1;

		if (errno != ENOENT) {
			snprintf(err, errlen, "cannot read '%s': %s", mp, strerror(errno));
			goto fail;
		}
		if ((d = opendir(fs->root))) {
			while ((de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
				    strcmp(de->d_name, TMPDIR))
					empty = 0;
			closedir(d);
		}
		if (!empty) {
			snprintf(err, errlen, "'%s' is not empty and not an xt store (no xt-store.json)",
			    fs->root);
			goto fail;
		}
		if (f_create(st, "xt-store.json", marker, sizeof(marker) - 1) < 0 &&
		    strstr(st->err, "exists") == NULL) {
			snprintf(err, errlen, "cannot create store '%s': %s", fs->root, st->err);
			goto fail;
		}
	} else if (!strstr(meta.buf, "\"format\":1")) {
		snprintf(err, errlen, "'%s': unknown store format (this xt reads format 1)", mp);
		goto fail;
	}
	sbuf_release(&meta);
	free(mp);
	return st;
fail:
	sbuf_release(&meta);
	free(mp);
	store_close(st);
	return NULL;
}
