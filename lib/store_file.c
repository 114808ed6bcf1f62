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
 * writer that was killed leaves its temporary file behind); at most once
 * every SWEEP_GAP_MS, noted by the mtime of <root>/.tmp/.swept, so that
 * short-lived writers (an executor a run) do not each read the folder.
 *
 * Nothing outside the root is ever touched. The root is opened once (a
 * link in the root's own path is the user's choice and is followed); every
 * path under it is resolved from that fd without following a symbolic
 * link: openat2() with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS opens a
 * folder in one call where the kernel has it (Linux 5.6), and otherwise,
 * or when that call fails (to make what is missing and to say which part
 * is a link), a walk opens each folder from the one before with
 * O_NOFOLLOW | O_DIRECTORY. The last part is then opened, linked, renamed
 * or removed relative to its folder with O_NOFOLLOW or
 * AT_SYMLINK_NOFOLLOW. A link anywhere in a path is STORE_ELINK; a listing
 * neither shows links nor goes through them.
 *
 * An object's version is the sha256 of its content. A conditional put
 * writes its temporary file, then, holding a lock in <root>/.tmp (one of
 * LOCKS, chosen by the path's hash), compares the object's version with the
 * one it was given and renames only if they match.
 *
 * Appends and conditional puts of one object meet in flock(2) on the
 * object's file: an append holds a shared lock while it writes, a
 * conditional put an exclusive one while it compares and renames, so no
 * append lands in a file that a conditional put has read and is replacing
 * (the version alone cannot tell: the append may come after the compare).
 * Whoever waited for the lock and finds that the path now names another
 * file (the put's) lets go and opens that one. A plain put takes no lock:
 * an append racing it may land in the file it replaces.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "name.h"
#include "openat2.h"
#include "sha256.h"
#include "store_int.h"
#include "xtlog.h"
#include "banned.h"

#define TMPDIR ".tmp"
#define XATTR "user.xt.sha256"
#define CHUNK (1 << 20)
#define TMP_STALE_MS ((int64_t)3600 * 1000)
#define SWEEP_GAP_MS ((int64_t)600 * 1000)
#define SWEPT ".swept"
#define LOCKS 64		/* lock files for conditional puts */

struct fstore {
	char *root;
	char *tmp;		/* <root>/.tmp, for messages */
	int rootfd;		/* the root folder (O_PATH): every path is resolved from it */
	int tmpfd;		/* <root>/.tmp, opened when first needed; -1 before */
	int no_openat2;		/* the kernel has no openat2: walk folder by folder */
	unsigned long seq;
	char host[256];		/* this machine's name, in temporary names */
	int cleaned;		/* stale temporaries looked for */
	/* batch mode: temporaries (names in .tmp) waiting for one syncfs, and their store paths */
	char **pend_tmp, **pend_dst;
	size_t npend, cappend;
	char *buf;		/* CHUNK bytes for copies, made once */
};

static struct fstore *
priv(struct store *st)
{
	return st->priv;
}

/* Close a folder fd from dir_open (the root's own fd stays open). */
static void
dir_close(struct store *st, int fd)
{
	if (fd >= 0 && fd != priv(st)->rootfd)
		close(fd);
}

/*
 * The message and code for errno e, met when name in folder dirfd was
 * opened (or made, renamed, removed) for op on the store path path, of
 * which name is the part that ends upto bytes in: STORE_ELINK when name
 * is a symbolic link, STORE_ENOENT when something is missing (or, with
 * !write, a folder in the path is a file), STORE_EINVAL when a write
 * meets a file where a folder should be or a folder where a file should
 * be, else STORE_ERR.
 */
static int
path_fail(struct store *st, int dirfd, const char *name, int e, const char *op, const char *path,
    size_t upto, int write)
{
	struct stat sb;

	if (e != ENOENT && fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
		return store_fail(st, STORE_ELINK,
		    "cannot %s '%s': '%.*s' is a symbolic link (the store follows no links)", op, path,
		    (int)upto, path);
	if (e == ENOENT || (e == ENOTDIR && !write))
		return store_fail(st, STORE_ENOENT, "cannot %s '%s': %s", op, path, strerror(e));
	return store_fail(st, e == ENOTDIR || e == EISDIR ? STORE_EINVAL : STORE_ERR,
	    "cannot %s '%s': %s", op, path, strerror(e));
}

/*
 * Open the folder path[0..n) of the store (n == 0: the root) with flags
 * (O_PATH, or O_RDONLY to read it), never through a symbolic link; with
 * create, the folders that are missing are made. Returns the fd (close it
 * with dir_close), or a STORE_E* code with the message "cannot OP 'path':
 * ...".
 */
static int
dir_open(struct store *st, const char *op, const char *path, size_t n, int flags, int create)
{
	struct fstore *fs = priv(st);
	char *rel, *part, *slash;
	int fd, nfd, tries, rc = 0;

	if (n == 0) {
		if (flags == O_PATH)
			return fs->rootfd;
		if ((fd = openat(fs->rootfd, ".", flags | O_DIRECTORY | O_CLOEXEC)) < 0)
			return store_fail(st, STORE_ERR, "cannot %s '%s': %s", op, path, strerror(errno));
		return fd;
	}
	rel = xstrndup(path, n);
#ifdef SYS_openat2
	if (!fs->no_openat2) {
		struct xt_open_how how = { (uint64_t)(flags | O_DIRECTORY | O_CLOEXEC), 0,
		    XT_RESOLVE_BENEATH | XT_RESOLVE_NO_SYMLINKS | XT_RESOLVE_NO_MAGICLINKS };

		fd = (int)syscall(SYS_openat2, fs->rootfd, rel, &how, sizeof(how));
		if (fd >= 0) {
			free(rel);
			return fd;
		}
		/* an old kernel, or a sandbox that forbids the call */
		if (errno == ENOSYS || errno == EPERM || errno == E2BIG)
			fs->no_openat2 = 1;
		/* otherwise the walk makes what is missing and says what is wrong */
	}
#endif
	fd = fs->rootfd;
	for (part = rel; rc == 0; part = slash + 1) {
		int last = !(slash = strchr(part, '/'));

		if (!last)
			*slash = '\0';
		for (tries = 0; ; tries++) {
			nfd = openat(fd, part, (last ? flags : O_PATH) | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (nfd >= 0 || errno != ENOENT || !create || tries == 3)
				break;
			if (mkdirat(fd, part, 0777) < 0 && errno != EEXIST)
				break;
		}
		if (nfd < 0)
			rc = path_fail(st, fd, part, errno, op, path, (size_t)(part - rel) + strlen(part),
			    create);
		dir_close(st, fd);
		fd = nfd;
		if (last)
			break;
	}
	free(rel);
	return rc ? rc : fd;
}

/* Open the folder of path (see dir_open, O_PATH); *leaf gets the last part of path. */
static int
parent_open(struct store *st, const char *op, const char *path, int create, const char **leaf)
{
	const char *slash = strrchr(path, '/');

	*leaf = slash ? slash + 1 : path;
	return dir_open(st, op, path, slash ? (size_t)(slash - path) : 0, O_PATH, create);
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

/*
 * Remove the stale temporary files of writers that died, unless a sweep
 * began less than SWEEP_GAP_MS ago (.tmp/.swept, made or touched first).
 */
static void
tmp_sweep_due(struct fstore *fs)
{
	struct stat sb;
	int fd;

	if (fstatat(fs->tmpfd, SWEPT, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
	    time_now_ms() - ((int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000) <
	    SWEEP_GAP_MS)
		return;
	fd = openat(fs->tmpfd, SWEPT, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd >= 0) {
		futimens(fd, NULL);
		close(fd);
	}
	tmp_sweep_at(fs->tmpfd, tmp_orphan, fs->host, TMP_STALE_MS);
}

/* Open <root>/.tmp (made when missing) into fs->tmpfd: 0, or a STORE_E* code. */
static int
tmp_dir(struct store *st)
{
	struct fstore *fs = priv(st);
	int fd, tries;

	if (fs->tmpfd >= 0)
		return 0;
	for (tries = 0; ; tries++) {
		fd = openat(fs->rootfd, TMPDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || tries == 3)
			break;
		if (mkdirat(fs->rootfd, TMPDIR, 0777) < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0)
		return path_fail(st, fs->rootfd, TMPDIR, errno, "write to", TMPDIR, strlen(TMPDIR), 1);
	fs->tmpfd = fd;
	if (!fs->cleaned) {
		fs->cleaned = 1;
		tmp_sweep_due(fs);
	}
	return 0;
}

/* A fresh temporary file in <root>/.tmp; returns the fd and its name there (caller frees). */
static int
tmp_open(struct store *st, char **tmpname)
{
	struct fstore *fs = priv(st);
	int fd, tries, rc;

	for (tries = 0; tries < 100; tries++) {
		if ((rc = tmp_dir(st)) < 0)
			return rc;
		*tmpname = xasprintf("%s.%ld.%lu.%lx", fs->host, (long)getpid(), fs->seq++,
		    (unsigned long)random());
		fd = openat(fs->tmpfd, *tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0666);
		if (fd >= 0)
			return fd;
		free(*tmpname);
		*tmpname = NULL;
		if (errno == ENOENT) {
			/* .tmp was removed since it was opened: open it again */
			close(fs->tmpfd);
			fs->tmpfd = -1;
			continue;
		}
		if (errno != EEXIST)
			return store_fail(st, STORE_ERR, "cannot create a temporary file in '%s': %s",
			    fs->tmp, strerror(errno));
	}
	return store_fail(st, STORE_ERR, "cannot create a temporary file in '%s'", fs->tmp);
}

static void
tmp_unlink(struct store *st, const char *tmpname)
{
	unlinkat(priv(st)->tmpfd, tmpname, 0);
}

/*
 * The value of XATTR: XATTR_V1, the 32 bytes of the hash, then the size,
 * seconds and nanoseconds of the file it belongs to, little-endian (64,
 * 64 and 32 bits): 53 bytes, which ext4 keeps inside a 256-byte inode
 * (a value over 60 bytes takes a block of its own, written and freed with
 * every record). Stores written before hold the text
 * "HEX SIZE SECONDS.NANOSECONDS", still read.
 */
#define XATTR_V1 1
#define XATTR_LEN 53

/* a hex digit's value (sha256_valid digits: 0-9, a-f) */
static int
unhex(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void
le_put(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The value that says hex belongs to a file of stat sb (hex NULL: all but the hash). */
static void
xattr_val(unsigned char val[XATTR_LEN], const char *hex, const struct stat *sb)
{
	val[0] = XATTR_V1;
	for (int i = 0; hex && i < 32; i++)
		val[1 + i] = (unsigned char)(unhex(hex[2 * i]) << 4 | unhex(hex[2 * i + 1]));
	le_put(val + 33, (uint64_t)sb->st_size, 8);
	le_put(val + 41, (uint64_t)sb->st_mtim.tv_sec, 8);
	le_put(val + 49, (uint64_t)sb->st_mtim.tv_nsec, 4);
}

static void
xattr_set(int fd, const char *hex)
{
	unsigned char val[XATTR_LEN];
	struct stat sb;

	if (!hex || !sha256_valid(hex) || fstat(fd, &sb) < 0)
		return;
	xattr_val(val, hex, &sb);
	/* Not every file system has user xattrs; the hash is then computed on demand. */
	(void)fsetxattr(fd, XATTR, val, sizeof(val), 0);
}

/* The hash kept with the file open as fd (stat sb) into hex, "" when none holds: 0 or -1. */
static int
xattr_get(int fd, const struct stat *sb, char hex[65])
{
	unsigned char val[128], want[XATTR_LEN];
	char text[64];
	ssize_t n = fd >= 0 ? fgetxattr(fd, XATTR, val, sizeof(val) - 1) : -1;

	hex[0] = '\0';
	if (n == XATTR_LEN && val[0] == XATTR_V1) {
		static const char digits[] = "0123456789abcdef";

		xattr_val(want, NULL, sb);
		if (memcmp(val + 33, want + 33, XATTR_LEN - 33) != 0)
			return -1;
		for (int i = 0; i < 32; i++) {
			hex[2 * i] = digits[val[1 + i] >> 4];
			hex[2 * i + 1] = digits[val[1 + i] & 15];
		}
		hex[64] = '\0';
		return 0;
	}
	if (n < 66)
		return -1;
	val[n] = '\0';
	snprintf(text, sizeof(text), " %lld %lld.%09ld", (long long)sb->st_size,
	    (long long)sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec);
	if (strcmp((char *)val + 64, text) != 0)
		return -1;
	memcpy(hex, val, 64);
	hex[64] = '\0';
	return sha256_valid(hex) ? 0 : (hex[0] = '\0', -1);
}

/*
 * Rename the temporary file tmpname to the store path path, making its
 * folders (again, if a delete removed them meanwhile). An existing link
 * there is refused, not replaced.
 */
static int
place(struct store *st, const char *tmpname, const char *path)
{
	struct fstore *fs = priv(st);
	const char *leaf;
	struct stat sb;
	int tries, pfd, e, rc;

	for (tries = 0; ; tries++) {
		if ((pfd = parent_open(st, "put", path, 1, &leaf)) < 0)
			return pfd;
		if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
			e = ELOOP;
		else
			e = renameat(fs->tmpfd, tmpname, pfd, leaf) == 0 ? 0 : errno;
		if (e != ENOENT || tries == 9)
			break;
		dir_close(st, pfd);
	}
	rc = e ? path_fail(st, pfd, leaf, e, "put", path, strlen(path), 1) : 0;
	dir_close(st, pfd);
	return rc;
}

static int
finish_tmp(struct store *st, int fd, const char *tmpname, const char *hex)
{
	xattr_set(fd, hex);
	/* in a batch, one syncfs at the commit stands for every fdatasync */
	if ((!st->batch && fdatasync(fd) < 0) || close(fd) < 0) {
		int e = errno;

		tmp_unlink(st, tmpname);
		return store_fail(st, STORE_ERR, "cannot write a temporary file: %s", strerror(e));
	}
	return 0;
}

/*
 * Write buf (len bytes, for path) to a fresh temporary file, its hash kept
 * with it and flushed (unless in a batch and !sync): 0 with *tmp, its name
 * in .tmp (caller frees), and hex, or a STORE_E* code with nothing left.
 */
static int
tmp_write(struct store *st, const char *path, const void *buf, size_t len, int sync, char **tmp,
    char hex[65])
{
	int fd, rc, batch = st->batch;

	if ((fd = tmp_open(st, tmp)) < 0)
		return fd;
	if (write_all(fd, buf, len) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		tmp_unlink(st, *tmp);
		free(*tmp);
		*tmp = NULL;
		return rc;
	}
	sha256_buf(buf, len, hex);
	if (sync)
		st->batch = 0;
	rc = finish_tmp(st, fd, *tmp, hex);
	st->batch = batch;
	if (rc < 0) {
		free(*tmp);
		*tmp = NULL;
	}
	return rc;
}

/* Rename tmpname to path now, or at the batch's commit. Consumes tmpname. */
static int
place_or_defer(struct store *st, char *tmpname, const char *path)
{
	struct fstore *fs = priv(st);
	int rc = 0;

	if (st->batch) {
		if (fs->npend == fs->cappend) {
			fs->cappend = fs->cappend * 2 + 64;
			fs->pend_tmp = xrealloc(fs->pend_tmp, fs->cappend * sizeof(char *));
			fs->pend_dst = xrealloc(fs->pend_dst, fs->cappend * sizeof(char *));
		}
		fs->pend_tmp[fs->npend] = tmpname;
		fs->pend_dst[fs->npend++] = xstrdup(path);
		return 0;
	}
	if ((rc = place(st, tmpname, path)) < 0)
		tmp_unlink(st, tmpname);
	free(tmpname);
	return rc;
}

static int
f_commit(struct store *st)
{
	struct fstore *fs = priv(st);
	size_t i;
	int rc = 0;

	if (!fs->npend)
		return 0;
	if (syncfs(fs->tmpfd) < 0)
		rc = store_fail(st, STORE_ERR, "cannot sync the store: %s", strerror(errno));
	for (i = 0; i < fs->npend; i++) {
		if (rc == 0)
			rc = place(st, fs->pend_tmp[i], fs->pend_dst[i]);
		if (rc < 0)
			tmp_unlink(st, fs->pend_tmp[i]);
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
	int rc = tmp_write(st, path, buf, len, 0, &tmp, hex);

	return rc < 0 ? rc : place_or_defer(st, tmp, path);
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
		tmp_unlink(st, tmp);
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
	struct fstore *fs = priv(st);
	const char *leaf;
	char *tmp, hex[65];
	int pfd, rc, tries, e;

	if ((rc = tmp_write(st, path, buf, len, 0, &tmp, hex)) < 0)
		return rc;
	/* linkat makes the name only if nothing (not even a link) has it, and follows no link */
	for (tries = 0; ; tries++) {
		if ((pfd = parent_open(st, "create", path, 1, &leaf)) < 0) {
			rc = pfd;
			break;
		}
		e = linkat(fs->tmpfd, tmp, pfd, leaf, 0) == 0 ? 0 : errno;
		if (e != ENOENT || tries == 9) {
			struct stat sb;

			if (e == 0)
				rc = STORE_OK;
			else if (e == EEXIST && fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    !S_ISLNK(sb.st_mode))
				rc = store_fail(st, STORE_EXIST, "'%s' exists already", path);
			else
				rc = path_fail(st, pfd, leaf, e, "create", path, strlen(path), 1);
			dir_close(st, pfd);
			break;
		}
		dir_close(st, pfd);
	}
	tmp_unlink(st, tmp);
	free(tmp);
	return rc;
}

/*
 * Open the object path for op with flags (O_NOFOLLOW and O_NONBLOCK added:
 * a link is refused, a FIFO does not block) and check that it is a regular
 * file; sb gets its stat. With create, its folders are made. With lock
 * (LOCK_SH or LOCK_EX), the file is flocked, and then is the file the
 * path names: one that a conditional put replaced while the lock was
 * awaited is let go for the new one. Returns the fd or a STORE_E* code.
 */
static int
obj_open_lock(struct store *st, const char *op, const char *path, int flags, int create,
    int lock, struct stat *sb)
{
	const char *leaf;
	struct stat now;
	int pfd, fd, tries, rc;

	for (tries = 0; ; tries++) {
		if ((pfd = parent_open(st, op, path, create, &leaf)) < 0)
			return pfd;
		/* read and write where it may: on NFS a flock is a byte-range lock, and a shared
		 * one needs the file open for reading, an exclusive one for writing */
		fd = -1;
		if (lock && (flags & O_ACCMODE) != O_RDWR)
			fd = openat(pfd, leaf, (flags & ~O_ACCMODE) | O_RDWR | O_NOFOLLOW | O_NONBLOCK |
			    O_CLOEXEC, 0666);
		if (fd < 0 && (!lock || (flags & O_ACCMODE) == O_RDWR || errno == EACCES ||
		    errno == EROFS || errno == EISDIR))
			fd = openat(pfd, leaf, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0666);
		/* with create, ENOENT means a delete removed the folder meanwhile */
		if (fd < 0 && errno == ENOENT && create && tries < 9) {
			dir_close(st, pfd);
			continue;
		}
		if (fd < 0) {
			/* ENXIO: a FIFO with no reader, or a device */
			rc = errno == ENXIO ? store_fail(st, STORE_EINVAL,
			    "cannot %s '%s': Not a regular file", op, path) :
			    path_fail(st, pfd, leaf, errno, op, path, strlen(path), create);
			dir_close(st, pfd);
			return rc;
		}
		rc = 0;
		if (fstat(fd, sb) < 0)
			rc = store_fail(st, STORE_ERR, "cannot %s '%s': %s", op, path, strerror(errno));
		else if (!S_ISREG(sb->st_mode))
			rc = store_fail(st, S_ISDIR(sb->st_mode) && !create ? STORE_ENOENT : STORE_EINVAL,
			    "cannot %s '%s': %s", op, path,
			    S_ISDIR(sb->st_mode) ? "Is a folder" : "Not a regular file");
		else if (lock)
			while (flock(fd, lock) < 0 && rc == 0)
				if (errno != EINTR)
					rc = store_fail(st, STORE_ERR, "cannot lock '%s': %s", path,
					    strerror(errno));
		if (rc == 0 && lock && (fstatat(pfd, leaf, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now.st_ino != sb->st_ino || now.st_dev != sb->st_dev)) {
			/* replaced (or removed) while we waited: open what the path names now */
			close(fd);
			dir_close(st, pfd);
			continue;
		}
		/* what was written while we waited */
		if (rc == 0 && lock && fstat(fd, sb) < 0)
			rc = store_fail(st, STORE_ERR, "cannot %s '%s': %s", op, path, strerror(errno));
		dir_close(st, pfd);
		if (rc < 0) {
			close(fd);
			return rc;
		}
		return fd;
	}
}

static int
obj_open(struct store *st, const char *op, const char *path, int flags, int create,
    struct stat *sb)
{
	return obj_open_lock(st, op, path, flags, create, 0, sb);
}

static int
f_append(struct store *st, const char *path, const void *buf, size_t len)
{
	struct stat sb;
	/* shared: a conditional put (a compaction) waits for the appends in flight, and an
	 * append that waited for it goes to the new file */
	int fd = obj_open_lock(st, "append to", path, O_WRONLY | O_APPEND | O_CREAT, 1, LOCK_SH,
	    &sb);
	int rc = STORE_OK;

	if (fd < 0)
		return fd;
	/* One write: O_APPEND writes to a regular file are not interleaved; one cut short is taken back. */
	if (xtlog_append(fd, buf, len) < 0)
		rc = store_fail(st, STORE_ERR, "cannot append to '%s': %s", path, strerror(errno));
	close(fd);
	return rc;
}

static int
f_get(struct store *st, const char *path, int64_t off, int64_t len, struct sbuf *out)
{
	struct stat sb;
	char buf[65536];
	int fd = obj_open(st, "open", path, O_RDONLY, 0, &sb);
	int64_t left;

	if (fd < 0)
		return fd;
	left = len < 0 ? INT64_MAX : len;
	while (left > 0) {
		size_t want = left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf);
		ssize_t n = pread(fd, buf, want, off);

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
		/* a regular file reads short only at its end: no read more to find it */
		if ((size_t)n < want)
			break;
	}
	close(fd);
	return 0;
}

static int
f_get_file(struct store *st, const char *path, const char *local, char sha256[65],
    store_progress_fn progress, void *arg)
{
	struct stat sb;
	char known[65], hex[65], *tmp = NULL;
	const char *written;
	int src = obj_open(st, "open", path, O_RDONLY, 0, &sb), dst, rc;

	if (src < 0)
		return src;
	xattr_get(src, &sb, known);
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
	const char *leaf;
	struct stat sb;
	int pfd = parent_open(st, "stat", path, 0, &leaf), fd = -1, rc = 0;

	if (pfd < 0)
		return pfd;
	if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		rc = path_fail(st, pfd, leaf, errno, "stat", path, strlen(path), 0);
	else if (S_ISLNK(sb.st_mode))
		rc = path_fail(st, pfd, leaf, ELOOP, "stat", path, strlen(path), 0);
	else if (!S_ISREG(sb.st_mode))
		rc = store_fail(st, S_ISDIR(sb.st_mode) ? STORE_ENOENT : STORE_EINVAL,
		    "cannot stat '%s': %s", path, S_ISDIR(sb.st_mode) ? "Is a folder" :
		    "Not a regular file");
	/* the hash is read from the file itself; a file xt cannot read has a size, no hash */
	else if ((fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) >= 0 &&
	    (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)))
		rc = store_fail(st, STORE_ERR, "cannot stat '%s': it changed meanwhile", path);
	dir_close(st, pfd);
	if (rc == 0) {
		sst->size = sb.st_size;
		sst->mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
		xattr_get(fd, &sb, sst->sha256);
		/* the version is the content hash: known here only when kept */
		memcpy(sst->ver, sst->sha256, sizeof(sst->sha256));
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * List the folder open as dfd (consumed), store path rel ("" for the
 * root), whose entries start with match, in the order of readdir (store.c
 * sorts). Recursion descends into sub-folders fully; links are neither
 * listed nor followed.
 */
static int
walk(struct store *st, int dfd, const char *rel, const char *match, int recursive,
    store_list_fn fn, void *arg)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i, mlen = strlen(match);
	int rc = 0;

	if (!d) {
		rc = store_fail(st, STORE_ERR, "cannot list '%s': %s", rel, strerror(errno));
		close(dfd);
		return rc;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!*rel && !strcasecmp(de->d_name, TMPDIR))
			continue;
		if (strncmp(de->d_name, match, mlen) != 0)
			continue;
		if (n == cap)
			names = xrealloc(names, (cap = cap * 2 + 64) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	for (i = 0; i < n; i++) {
		char *p = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		struct stat sb;
		struct store_entry e = { 0 };

		if (rc == 0 && fstatat(dirfd(d), names[i], &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(sb.st_mode) && recursive) {
				int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				    O_CLOEXEC);

				/* gone meanwhile, or replaced by a link: not listed */
				if (sub >= 0)
					rc = walk(st, sub, p, "", 1, fn, arg);
				else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
					rc = store_fail(st, STORE_ERR, "cannot list '%s': %s", p,
					    strerror(errno));
			} else if (S_ISDIR(sb.st_mode)) {
				char *dp = xasprintf("%s/", p);

				e.path = dp;
				e.size = 0;
				e.mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
				e.is_dir = 1;
				rc = fn(&e, arg);
				free(dp);
			} else if (S_ISREG(sb.st_mode)) {
				e.path = p;
				e.size = sb.st_size;
				e.mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
				e.is_dir = 0;
				rc = fn(&e, arg);
			}
		}
		free(p);
		free(names[i]);
	}
	closedir(d);
	free(names);
	return rc;
}

static int
f_list(struct store *st, const char *prefix, int recursive, store_list_fn fn, void *arg)
{
	const char *slash = strrchr(prefix, '/');
	size_t n = slash ? (size_t)(slash - prefix) : 0;
	char *rel = xstrndup(prefix, n);
	int fd = dir_open(st, "list", prefix, n, O_RDONLY, 0), rc;

	/* a folder that is not there lists nothing */
	if (fd == STORE_ENOENT)
		rc = 0;
	else if (fd < 0)
		rc = fd;
	else
		rc = walk(st, fd, rel, slash ? slash + 1 : prefix, recursive, fn, arg);
	free(rel);
	return rc;
}

/* Folders are implied by objects: remove the folders of path left empty, deepest first. */
static void
prune_empty(struct store *st, const char *path)
{
	size_t n = strlen(path), p;

	for (;;) {
		char *name;
		int pfd, ok;

		/* path[0..n) becomes the next folder up, path[p..n) its name */
		while (n > 0 && path[n - 1] != '/')
			n--;
		if (n-- == 0)
			return;
		for (p = n; p > 0 && path[p - 1] != '/'; p--)
			;
		if ((pfd = dir_open(st, "delete", path, p ? p - 1 : 0, O_PATH, 0)) < 0)
			return;
		name = xstrndup(path + p, n - p);
		ok = unlinkat(pfd, name, AT_REMOVEDIR) == 0;
		free(name);
		dir_close(st, pfd);
		if (!ok)
			return;
	}
}

static int
f_del(struct store *st, const char *path)
{
	const char *leaf;
	struct stat sb;
	int pfd = parent_open(st, "delete", path, 0, &leaf), rc = 0;

	if (pfd < 0)
		return pfd;
	/* unlinkat would remove a link itself, never its target; the store refuses links all the same */
	if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		rc = path_fail(st, pfd, leaf, errno, "delete", path, strlen(path), 0);
	else if (S_ISLNK(sb.st_mode))
		rc = path_fail(st, pfd, leaf, ELOOP, "delete", path, strlen(path), 0);
	else if (S_ISDIR(sb.st_mode))
		rc = store_fail(st, STORE_ENOENT, "cannot delete '%s': Is a folder", path);
	else if (unlinkat(pfd, leaf, 0) < 0)
		rc = path_fail(st, pfd, leaf, errno, "delete", path, strlen(path), 0);
	dir_close(st, pfd);
	if (rc == 0)
		prune_empty(st, path);
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
	if (fs->tmpfd >= 0)
		close(fs->tmpfd);
	if (fs->rootfd >= 0)
		close(fs->rootfd);
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

/*
 * The version of the object now, with an exclusive lock on it that keeps
 * appends out until *held (its fd) is closed: 0, or a STORE_E* code.
 */
static int
version_now(struct store *st, const char *path, char hex[65], int *held)
{
	struct stat sb;
	struct sha256 h;
	int fd = obj_open_lock(st, "open", path, O_RDONLY, 0, LOCK_EX, &sb), rc = 0;

	if (fd < 0)
		return fd;
	if (xattr_get(fd, &sb, hex) < 0) {
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
	if (rc < 0)
		close(fd);
	else
		*held = fd;
	return rc;
}

/* The lock of path's conditional puts, taken: its fd, or a STORE_E* code. */
static int
lock_path(struct store *st, const char *path)
{
	struct fstore *fs = priv(st);
	char hex[65], name[16];
	int fd, rc;

	if ((rc = tmp_dir(st)) < 0)
		return rc;
	sha256_buf(path, strlen(path), hex);
	snprintf(name, sizeof(name), "lock.%.2s", hex);
	fd = openat(fs->tmpfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
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
	char *tmp, hex[65], now[65];
	int lk, held = -1, rc;

	/* the slow part, the write and its flush, outside the locks */
	if ((rc = tmp_write(st, path, buf, len, 1, &tmp, hex)) < 0)
		return rc;
	if ((lk = lock_path(st, path)) < 0) {
		tmp_unlink(st, tmp);
		free(tmp);
		return lk;
	}
	if ((rc = version_now(st, path, now, &held)) == 0 && strcmp(now, ver) != 0)
		rc = store_fail(st, STORE_ECONFLICT, "'%s' changed since it was read", path);
	if (rc == 0)
		rc = place(st, tmp, path);
	/* appenders that waited for the object's lock go on to the new file */
	if (held >= 0)
		close(held);
	close(lk);
	if (rc < 0)
		tmp_unlink(st, tmp);
	free(tmp);
	return rc;
}

static int
f_dev(struct store *st, dev_t *dev)
{
	struct stat sb;

	if (fstat(priv(st)->rootfd, &sb) < 0)
		return -1;
	*dev = sb.st_dev;
	return 0;
}

static const struct store_ops file_ops = {
	"file", f_close, f_put, f_put_file, f_create, f_append, f_get, f_get_file, f_stat,
	f_list, f_del, f_commit, f_get_ver, f_put_if, f_dev, 0, NULL, 0, NULL,
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
	int rc;

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
	fs->tmpfd = -1;
	fs->rootfd = -1;
	/* for the tests: the walk that stands in for openat2 on older kernels */
	fs->no_openat2 = getenv("XT_TEST_NO_OPENAT2") != NULL;
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
	/* a link in the root's own path is followed: the user named it */
	if ((fs->rootfd = open(fs->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open store '%s': %s", fs->root, strerror(errno));
		goto fail;
	}
	if ((rc = f_get(st, "xt-store.json", 0, -1, &meta)) < 0) {
		DIR *d;
		struct dirent *de;
		int empty = 1;

		if (rc != STORE_ENOENT) {
			snprintf(err, errlen, "store '%s': %s", fs->root, st->err);
			goto fail;
		}
		if ((d = opendir(fs->root))) {
			while ((de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
				    strcmp(de->d_name, TMPDIR))
					empty = 0;
			closedir(d);
		}
		/* what made it not empty may be the marker that another process,
		 * making the same new store, has just put */
		if (!empty && (sbuf_reset(&meta), f_get(st, "xt-store.json", 0, -1, &meta)) == 0) {
			rc = 0;
		} else if (!empty) {
			snprintf(err, errlen, "'%s' is not empty and not an xt store (no xt-store.json)",
			    fs->root);
			goto fail;
		} else if (f_create(st, "xt-store.json", marker, sizeof(marker) - 1) < 0 &&
		    strstr(st->err, "exists") == NULL) {
			snprintf(err, errlen, "cannot create store '%s': %s", fs->root, st->err);
			goto fail;
		}
	}
	if (rc == 0 && (!meta.buf || !strstr(meta.buf, "\"format\":1"))) {
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
