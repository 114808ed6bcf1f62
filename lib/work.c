/* work.c: see work.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "work.h"
#include "banned.h"

/* A folder tree deeper than this is not removed below that depth. */
#define RM_MAX_DEPTH 256

/* A number followed by one of units (each with its factor in mult), or "0". */
static int
parse_unit(const char *s, const char *units, const int64_t *mult, int unit_needed, int64_t *out)
{
	char num[32];
	const char *u;
	size_t n = strspn(s, "0123456789");
	int64_t v, m = 1;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_i64(num, 0, INT64_MAX, &v) < 0)
		return -1;
	if (s[n] == '\0') {
		if (unit_needed && v != 0)
			return -1;
	} else {
		if (s[n + 1] != '\0' || !(u = strchr(units, s[n])))
			return -1;
		m = mult[u - units];
	}
	if (v > INT64_MAX / m)
		return -1;
	*out = v * m;
	return 0;
}

int
work_parse_duration(const char *s, int64_t *ms)
{
	static const int64_t mult[] = { 1000, 60000, 3600000, 86400000 };

	return parse_unit(s, "smhd", mult, 1, ms);
}

int
work_parse_size(const char *s, int64_t *bytes)
{
	static const int64_t mult[] = { 1 << 10, 1 << 20, 1 << 30, (int64_t)1 << 40,
	    1 << 10, 1 << 20, 1 << 30, (int64_t)1 << 40 };

	return parse_unit(s, "KMGTkmgt", mult, 0, bytes);
}

int
work_config(struct work_config *wc, char *err, size_t errlen)
{
	const char *k = config_str("work-keep-failed", "24h");
	const char *c = config_str("cache-max-size", "10G");

	if (work_parse_duration(k, &wc->keep_failed_ms) < 0) {
		snprintf(err, errlen, "%s: work-keep-failed: '%s' is not a duration such as 24h",
		    config_origin("work-keep-failed"), k);
		return -1;
	}
	if (work_parse_size(c, &wc->cache_max) < 0) {
		snprintf(err, errlen, "%s: cache-max-size: '%s' is not a size such as 10G",
		    config_origin("cache-max-size"), c);
		return -1;
	}
	return 0;
}

/* Remove name in dirfd, a file or a whole folder tree. */
static int
rm_at(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd, ret = 0;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM && errno != EACCES)
		return -1;
	if (depth >= RM_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	/* a folder, perhaps one the run made read-only (root ignores that) */
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 0700) != 0700)
		fchmod(fd, 0700);
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_at(fd, de->d_name, depth + 1) < 0)
			ret = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = -1;
	return ret;
}

int
work_rm(const char *path)
{
	return rm_at(AT_FDCWD, path, 0);
}

/* "WSDIR/.xt-spare.I" for the folder WSDIR/RUN. Caller frees. */
static char *
spare_path(const char *dir, int i)
{
	const char *slash = strrchr(dir, '/');

	return slash ? xasprintf("%.*s/%s%d", (int)(slash - dir), dir, WORK_SPARE, i) :
	    xasprintf("%s%d", WORK_SPARE, i);
}

/* The umask, read once: xt never changes it, and reading it takes two system calls. */
static mode_t
mask(void)
{
	static mode_t m = (mode_t)-1;

	if (m == (mode_t)-1) {
		m = umask(0);
		umask(m);
	}
	return m;
}

/* A folder of ours as mkdir makes it: not a link, its mode the default. */
static int
plain_dir(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == geteuid() &&
	    (sb.st_mode & 07777) == (0777 & ~mask());
}

/* Remove what is in the folder fd, but the entries keep and keep2 (NULL: none). */
static int
empty_at(int fd, const char *keep, const char *keep2)
{
	int lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;
	struct dirent *de;
	DIR *d;

	if (lfd < 0 || !(d = fdopendir(lfd))) {
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    (!keep || strcmp(de->d_name, keep)) && (!keep2 || strcmp(de->d_name, keep2)) &&
		    rm_at(fd, de->d_name, 1) < 0)
			ret = -1;
	closedir(d);
	return ret;
}

/*
 * The run's log.jsonl in the folder fd, emptied for the next run if
 * nobody can reach what it held: a plain file of ours with no other link,
 * which no process has open (a write lease is granted only then; a process
 * a run left behind holding it keeps it from being used again). 1 when it
 * was emptied, else 0 (the caller makes a new one). Making a file and
 * freeing one costs more on some file systems (ext4 without a journal
 * skips inodes freed in the last minutes) than this.
 */
static int
log_reuse(int fd)
{
	int lfd = openat(fd, "log.jsonl", O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), ok = 0;
	struct stat sb;

	if (lfd < 0)
		return 0;
	if (fstat(lfd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_nlink == 1 &&
	    sb.st_uid == geteuid() && fcntl(lfd, F_SETLEASE, F_WRLCK) == 0) {
		ok = ftruncate(lfd, 0) == 0 && fchmod(lfd, 0644) == 0;
		fcntl(lfd, F_SETLEASE, F_UNLCK);
	}
	close(lfd);
	return ok;
}

/* Make a new, empty code/ and, unless kept_log, log.jsonl in the emptied folder fd. 0 or -1. */
static int
fresh_at(int fd, int kept_log)
{
	int lfd;

	if (mkdirat(fd, "code", 0777) < 0)
		return -1;
	if (kept_log)
		return 0;
	if ((lfd = openat(fd, "log.jsonl", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	close(lfd);
	return 0;
}

/* Tag the folder fd with tag: its attribute, else its file. 0 or -1. */
static int
tag_set(int fd, const char *tag)
{
	size_t n = strlen(tag);
	int tfd, ret;

	if (fsetxattr(fd, WORK_CODE_XATTR, tag, n, 0) == 0)
		return 0;
	if (errno != ENOTSUP && errno != EOPNOTSUPP)
		return -1;
	if ((tfd = openat(fd, WORK_CODE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644)) < 0)
		return -1;
	ret = write(tfd, tag, n) == (ssize_t)n && write(tfd, "\n", 1) == 1 ? 0 : -1;
	close(tfd);
	if (ret < 0)
		unlinkat(fd, WORK_CODE, 0);
	return ret;
}

/* Ready the emptied folder dir (fd) with prep's code and its tag; else leave code/ empty. */
static void
ready(int fd, const char *dir, const struct work_prep *prep)
{
	char *code = path_join(dir, "code");
	int cfd;

	if (strchr(prep->tag, '\n') || prep->fill(prep->arg, code) < 0 || tag_set(fd, prep->tag) < 0) {
		/* what a fill left: it was never a run's, so the folder stays */
		if ((cfd = openat(fd, "code", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			empty_at(cfd, NULL, NULL);
			close(cfd);
		}
	}
	free(code);
}

/*
 * Keep the folder of a run that completed, emptied but for an empty
 * output/, with a new code/ (readied by prep, when not NULL) and
 * log.jsonl, as a spare for the folder of a later run (WORK_SPARE). 0, or
 * -1 when it is not kept (the caller removes it).
 */
static int
recycle(const char *dir, const struct work_prep *prep)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), ofd = -1, i, ret = -1;
	int kept_log = 0;

	if (fd >= 0 && plain_dir(fd) &&
	    (ofd = openat(fd, "output", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
	    plain_dir(ofd) && empty_at(ofd, NULL, NULL) == 0 &&
	    empty_at(fd, "output", (kept_log = log_reuse(fd)) ? "log.jsonl" : NULL) == 0 &&
	    fresh_at(fd, kept_log) == 0) {
		if (prep)
			ready(fd, dir, prep);
		for (i = 0; i < WORK_SPARES && ret < 0; i++) {
			char *sp = spare_path(dir, i);

			if (rename(dir, sp) == 0)
				ret = 0;
			free(sp);
		}
	}
	if (ofd >= 0)
		close(ofd);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* How a folder is tagged: not, by its attribute, by its file. */
enum { TAG_NONE, TAG_XATTR, TAG_FILE };

/* The tag of the folder dir into buf (len bytes): TAG_*. */
static int
tag_get(const char *dir, char *buf, size_t len)
{
	char *p;
	ssize_t n = getxattr(dir, WORK_CODE_XATTR, buf, len - 1);
	int fd;

	if (n >= 0) {
		buf[n] = '\0';
		return TAG_XATTR;
	}
	/* the file also where attributes work: a spare an older xt left */
	p = path_join(dir, WORK_CODE);
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(p);
	n = fd >= 0 ? read(fd, buf, len - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0 || buf[n - 1] != '\n') {
		buf[0] = '\0';
		return fd >= 0 ? TAG_FILE : TAG_NONE;
	}
	buf[n - 1] = '\0';
	return TAG_FILE;
}

/* Is the folder dir tagged with tag? */
static int
tag_is(const char *dir, const char *tag)
{
	char buf[1024];

	return tag_get(dir, buf, sizeof(buf)) != TAG_NONE && !strcmp(buf, tag);
}

/*
 * dir was spare i: 2 when its code/ holds tag's code, else 1, with
 * another's code gone (that code/ was never a run's, so it stays).
 */
static int
taken(const char *dir, const char *tag)
{
	char buf[1024], *t, *code;
	int how = tag_get(dir, buf, sizeof(buf)), ready = how != TAG_NONE && tag &&
	    !strcmp(buf, tag), fd;

	if (how == TAG_XATTR) {
		removexattr(dir, WORK_CODE_XATTR);
	} else if (how == TAG_FILE) {
		t = path_join(dir, WORK_CODE);
		unlink(t);
		free(t);
	}
	if (how != TAG_NONE && !ready) {
		code = path_join(dir, "code");
		if ((fd = open(code, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			empty_at(fd, NULL, NULL);
			close(fd);
		}
		free(code);
	}
	return ready ? 2 : 1;
}

int
work_make(const char *dir, const char *tag)
{
	char *out = path_join(dir, "output");
	int i, pass, ret = -1;

	/* first a spare readied with tag's code, then any */
	for (pass = tag ? 0 : 1; pass < 2 && ret < 0; pass++)
		for (i = 0; i < WORK_SPARES && ret < 0; i++) {
			char *sp = spare_path(dir, i);

			if ((pass == 1 || tag_is(sp, tag)) && rename(sp, dir) == 0)
				ret = taken(dir, tag);
			free(sp);
		}
	if (ret < 0 && mkdir_p(dir) == 0 && (mkdir(out, 0777) == 0 || errno == EEXIST))
		ret = 0;
	free(out);
	return ret;
}

/*
 * Remove the kept folder name of wsdir if its time is up. Its end mark is
 * locked from before the check until the folder is renamed away, and
 * work_begin takes the mark back under the same lock, so a run that starts
 * again never loses its folder to a sweep.
 */
static void
sweep_one(const char *wsdir, const char *name, int64_t keep_ms, int64_t now)
{
	char *mark = xasprintf("%s/%s/%s", wsdir, name, WORK_ENDED);
	struct stat sb;
	int fd;

	fd = open(mark, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	free(mark);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_nlink > 0 &&
	    now - ((int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000) >= keep_ms) {
		char *run = path_join(wsdir, name);
		char *gone = xasprintf("%s/.gone.%ld.%s", wsdir, (long)getpid(), name);

		if (rename(run, gone) == 0) {
			close(fd);
			fd = -1;
			work_rm(gone);
		}
		free(run);
		free(gone);
	}
	if (fd >= 0)
		close(fd);
}

/* A folder ".gone.PID.RUN" that a sweeper killed midway left. */
static int
gone_orphan(const char *name)
{
	const char *p = name + 6, *dot;

	if (strncmp(name, ".gone.", 6) != 0 || !(dot = strchr(p, '.')))
		return 0;
	return pid_gone(p, (size_t)(dot - p));
}

static void
sweep_ws(const char *wsdir, int64_t keep_ms, int64_t now)
{
	struct dirent *de;
	DIR *d = opendir(wsdir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *p;

		if (de->d_name[0] != '.') {
			if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
				sweep_one(wsdir, de->d_name, keep_ms, now);
		} else if (gone_orphan(de->d_name)) {
			p = path_join(wsdir, de->d_name);
			work_rm(p);
			free(p);
		}
	}
	closedir(d);
}

void
work_sweep(void)
{
	struct work_config wc;
	struct dirent *de;
	char err[512], *home, *top;
	int64_t now = time_now_ms();
	DIR *d;

	if (work_config(&wc, err, sizeof(err)) < 0) {
		warnx("%s", err);
		return;
	}
	home = xt_home();
	top = path_join(home, "work");
	free(home);
	if ((d = opendir(top))) {
		while ((de = readdir(d))) {
			char *ws;

			if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
				continue;
			ws = path_join(top, de->d_name);
			sweep_ws(ws, wc.keep_failed_ms, now);
			free(ws);
		}
		closedir(d);
	}
	free(top);
}

void
work_begin(const char *dir)
{
	char *mark = path_join(dir, WORK_ENDED);
	int fd = open(mark, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
		unlink(mark);
		close(fd);
	}
	free(mark);
}

/*
 * Whether a run end should sweep: when it kept its folder, or when the
 * last sweep at a run's end is WORK_SWEEP_EVERY ago (the mtime of
 * $XT_HOME/work/WORK_SWEPT, touched here). One stat a run instead of a
 * walk of every workspace's folder.
 */
static int
sweep_due(int kept)
{
	char *home = xt_home(), *p = xasprintf("%s/work/%s", home, WORK_SWEPT);
	struct stat sb;
	int64_t now = time_now_ms(), due = 1;
	int fd;

	if (!kept && stat(p, &sb) == 0 && now - ((int64_t)sb.st_mtim.tv_sec * 1000 +
	    sb.st_mtim.tv_nsec / 1000000) < WORK_SWEEP_EVERY * 1000)
		due = 0;
	if (due && (fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) >= 0) {
		futimens(fd, NULL);
		close(fd);
	}
	free(p);
	free(home);
	return (int)due;
}

void
work_end(const char *dir, const char *status, int keep, const struct work_prep *prep)
{
	int kept = !dir;

	if (dir && access(dir, F_OK) == 0) {
		int done = status && (!strcmp(status, "completed") || !strcmp(status, "pruned"));

		if (done && !keep) {
			if (recycle(dir, prep) < 0 && work_rm(dir) < 0)
				warnx("cannot remove '%s':", dir);
		} else {
			/* kept; the sweep below removes it at once when the time is 0 */
			kept = 1;
			char *mark = path_join(dir, WORK_ENDED);
			int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

			if (fd < 0 || futimens(fd, NULL) < 0)
				warnx("cannot mark '%s' for its removal later:", dir);
			if (fd >= 0)
				close(fd);
			free(mark);
		}
	}
	if (sweep_due(kept))
		work_sweep();
}

void
work_start(void)
{
	struct work_config wc;
	char err[512];

	if (work_config(&wc, err, sizeof(err)) < 0)
		die_status(EXIT_USAGE, "%s", err);
	work_sweep();
}

void
work_end_lost(const char *ws, const char *run)
{
	char *home = xt_home(), *dir = xasprintf("%s/work/%s/%s", home, ws, run);

	work_end(dir, "failed", 1, NULL);
	free(dir);
	free(home);
}
