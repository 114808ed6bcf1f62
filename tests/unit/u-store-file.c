/*
 * Unit tests of the folder backend's own behaviour (lib/store_file.c):
 * links, FIFOs, the openat2 fallback, the hash kept in an extended
 * attribute, what a folder that is not a store gets, flock between appends
 * and conditional puts. The contract that every backend keeps is
 * u-store.c's.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

static int
count(const struct store_entry *e, void *arg)
{
	struct sbuf *sb = arg;

	sbuf_addf(sb, "%s%s|", e->path, e->is_dir ? "(d)" : "");
	return 0;
}

/* The number of entries in folder path, or -1. */
static int
nentries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* True when path holds exactly text. */
static int
holds(const char *path, const char *text)
{
	struct sbuf sb;
	int ok;

	sbuf_init(&sb, 1 << 20);
	ok = file_read(path, &sb) == 0 && !strcmp(sb.buf, text);
	sbuf_release(&sb);
	return ok;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	CHECK(fp && fputs(text, fp) >= 0 && fclose(fp) == 0);
}

/* The entries of a listing, as "path|path|". */
static char *
listing(struct store *st, const char *prefix, int recursive, int *rc)
{
	struct sbuf ls;

	sbuf_init(&ls, 1 << 20);
	*rc = store_list(st, prefix, recursive, count, &ls);
	return sbuf_detach(&ls, NULL);
}

static int
is_link_err(struct store *st, int rc, const char *link)
{
	char *want = xasprintf("'%s' is a symbolic link", link);
	int ok = rc == STORE_ELINK && strstr(store_error(st), want) != NULL;

	if (!ok)
		printf("# rc %d: %s\n", rc, store_error(st));
	free(want);
	return ok;
}

/*
 * Links inside the store, to a file and to a folder outside it, and a
 * dangling one: every primitive refuses them, and nothing outside is read,
 * written, made or removed.
 */
static void
test_links(const char *dir, const char *root, struct store *st)
{
	char *out = path_join(dir, "outside"), *outf = path_join(dir, "outside/f");
	char *lk = path_join(root, "lk"), *lf = path_join(root, "lk/f"), *ld = path_join(root, "lk/d");
	char *dang = path_join(root, "lk/dang"), *fifo = path_join(root, "lk/fifo");
	char *local = path_join(dir, "links.out"), *src = path_join(dir, "links.src");
	char *tmp = path_join(root, ".tmp"), *tmpaway = path_join(dir, "tmp.away"), *ls;
	char hex[65], errb[512];
	struct store_stat sst;
	struct store *st2;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb, 1 << 20);
	CHECK(mkdir_p(out) == 0 && mkdir_p(lk) == 0);
	write_file(outf, "secret");
	write_file(src, "new");
	CHECK(symlink(outf, lf) == 0 && symlink(out, ld) == 0);
	CHECK(symlink("/nonexistent-xt/x", dang) == 0 && mkfifo(fifo, 0666) == 0);
	CHECK(store_put(st, "lk/obj", "o", 1) == 0);

	/* get, a range, get_file, stat */
	CHECK(is_link_err(st, store_get(st, "lk/f", 0, -1, &sb), "lk/f") && sb.len == 0);
	CHECK(strstr(store_error(st), "cannot open 'lk/f'") != NULL);
	CHECK(is_link_err(st, store_get(st, "lk/f", 1, 3, &sb), "lk/f") && sb.len == 0);
	CHECK(is_link_err(st, store_get(st, "lk/d/f", 0, -1, &sb), "lk/d") && sb.len == 0);
	CHECK(is_link_err(st, store_get_file(st, "lk/f", local, hex, NULL, NULL), "lk/f"));
	CHECK(is_link_err(st, store_get_file(st, "lk/d/f", local, hex, NULL, NULL), "lk/d"));
	CHECK(access(local, F_OK) < 0);
	CHECK(is_link_err(st, store_stat(st, "lk/f", &sst), "lk/f"));
	CHECK(is_link_err(st, store_stat(st, "lk/d/f", &sst), "lk/d"));
	CHECK(is_link_err(st, store_stat(st, "lk/dang", &sst), "lk/dang"));
	/* a FIFO is not an object, and reading it does not block */
	CHECK(store_get(st, "lk/fifo", 0, -1, &sb) == STORE_EINVAL);
	CHECK(store_append(st, "lk/fifo", "x", 1) == STORE_EINVAL);

	/* put, put_file, create, append: over a link, through one, or new through one */
	CHECK(is_link_err(st, store_put(st, "lk/f", "x", 1), "lk/f"));
	CHECK(is_link_err(st, store_put(st, "lk/d/f", "x", 1), "lk/d"));
	CHECK(is_link_err(st, store_put(st, "lk/d/new", "x", 1), "lk/d"));
	CHECK(is_link_err(st, store_put(st, "lk/dang", "x", 1), "lk/dang"));
	CHECK(is_link_err(st, store_put(st, "lk/dang/x", "x", 1), "lk/dang"));
	CHECK(is_link_err(st, store_put_file(st, "lk/f", src, hex, NULL, NULL), "lk/f"));
	CHECK(is_link_err(st, store_put_file(st, "lk/d/sub/new", src, hex, NULL, NULL), "lk/d"));
	CHECK(is_link_err(st, store_create(st, "lk/f", "x", 1), "lk/f"));
	CHECK(is_link_err(st, store_create(st, "lk/d/new", "x", 1), "lk/d"));
	CHECK(is_link_err(st, store_create(st, "lk/dang", "x", 1), "lk/dang"));
	CHECK(is_link_err(st, store_append(st, "lk/f", "x", 1), "lk/f"));
	CHECK(is_link_err(st, store_append(st, "lk/d/f", "x", 1), "lk/d"));
	CHECK(is_link_err(st, store_append(st, "lk/d/new", "x", 1), "lk/d"));
	CHECK(is_link_err(st, store_append(st, "lk/dang", "x", 1), "lk/dang"));
	/* in a batch the put is refused at the commit */
	store_batch_begin(st);
	CHECK(store_put(st, "lk/d/batch", "x", 1) == 0);
	CHECK(is_link_err(st, store_commit(st), "lk/d"));

	/* an append that makes its folders, as the run index's first line does */
	CHECK(store_append(st, "lk/i/idx", "l\n", 2) == 0);
	CHECK(store_get(st, "lk/i/idx", 0, -1, &sb) == 0 && sb.len == 2);
	CHECK(store_delete(st, "lk/i/idx") == 0);

	/* delete: neither the link nor its target */
	CHECK(is_link_err(st, store_delete(st, "lk/f"), "lk/f"));
	CHECK(is_link_err(st, store_delete(st, "lk/d/f"), "lk/d"));
	CHECK(is_link_err(st, store_delete(st, "lk/dang"), "lk/dang"));

	/* list: links are not shown, nor gone through */
	ls = listing(st, "lk/", 1, &rc);
	CHECK(rc == 0 && !strcmp(ls, "lk/obj|"));
	free(ls);
	ls = listing(st, "lk/", 0, &rc);
	CHECK(rc == 0 && !strcmp(ls, "lk/obj|"));
	free(ls);
	ls = listing(st, "", 1, &rc);
	CHECK(rc == 0 && !strstr(ls, "lk/f") && !strstr(ls, "lk/d"));
	free(ls);
	ls = listing(st, "lk/d/", 1, &rc);
	CHECK(is_link_err(st, rc, "lk/d") && !*ls);
	free(ls);
	ls = listing(st, "lk/d/x", 0, &rc);
	CHECK(is_link_err(st, rc, "lk/d") && !*ls);
	free(ls);

	/* the links are still there, and outside is as it was */
	CHECK(holds(outf, "secret"));
	CHECK(access(lf, F_OK) == 0 && access(ld, F_OK) == 0);
	ls = xasprintf("%s/new", out);
	CHECK(access(ls, F_OK) < 0);
	free(ls);
	ls = xasprintf("%s/batch", out);
	CHECK(access(ls, F_OK) < 0);
	free(ls);
	CHECK(access("/nonexistent-xt", F_OK) < 0);

	/* the store's own .tmp made a link to a folder outside: no write goes there */
	CHECK(rename(tmp, tmpaway) == 0 && symlink(out, tmp) == 0);
	st2 = store_open(root, errb, sizeof(errb));
	CHECK(st2 != NULL);
	if (st2) {
		CHECK(is_link_err(st2, store_put(st2, "t/x", "x", 1), ".tmp"));
		CHECK(is_link_err(st2, store_create(st2, "t/y", "x", 1), ".tmp"));
		store_close(st2);
	}
	CHECK(unlink(tmp) == 0 && rename(tmpaway, tmp) == 0);
	ls = listing(st, "", 1, &rc);
	CHECK(rc == 0 && !strstr(ls, "t/"));
	free(ls);
	CHECK(holds(outf, "secret") && nentries(out) == 1);

	CHECK(unlink(lf) == 0 && unlink(ld) == 0 && unlink(dang) == 0 && unlink(fifo) == 0);
	CHECK(store_delete(st, "lk/obj") == 0);
	sbuf_release(&sb);
	free(out);
	free(outf);
	free(lk);
	free(lf);
	free(ld);
	free(dang);
	free(fifo);
	free(local);
	free(src);
	free(tmp);
	free(tmpaway);
}

/*
 * The lock the folder backend's appends and conditional puts meet in
 * (store_file.c): while path's file is locked (lock) by another holder,
 * the child's call waits for it. True once the child is waiting
 * (/proc/locks shows a flock of its blocked) or has exited (its status in
 * *status).
 */
static int
waits_or_ends(pid_t pid, int *status)
{
	char line[256];
	FILE *fp;
	int blocked;

	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		blocked = 0;
		if ((fp = fopen("/proc/locks", "r"))) {
			while (fgets(line, sizeof(line), fp)) {
				const char *b = strstr(line, "-> FLOCK");
				int who;

				/* "-> FLOCK  ADVISORY  WRITE PID ...": this child's */
				blocked |= b && sscanf(b + 8, "%*s %*s %d", &who) == 1 && who == pid;
			}
			fclose(fp);
		}
		if (blocked)
			return 1;
		usleep(1000);
	}
}

static void
test_flock(const char *root, struct store *st)
{
	char *file = path_join(root, "fl/idx"), ver[STORE_VER_MAX], err[512];
	struct sbuf sb;
	pid_t pid;
	int fd, status, waited;

	sbuf_init(&sb, 1 << 20);
	/* an append in flight (its shared lock held) and a conditional put of the same
	 * version: the put waits for it, then sees the line and conflicts */
	CHECK(store_put(st, "fl/idx", "a\n", 2) == 0);
	CHECK(store_get_ver(st, "fl/idx", &sb, ver) == 0);
	fd = open(file, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && flock(fd, LOCK_SH) == 0);
	if ((pid = fork()) == 0) {
		/* the lock is the open file's: the child's copy of fd would hold it too */
		struct store *s2 = close(fd) == 0 ? store_open(root, err, sizeof(err)) : NULL;

		_exit(s2 && store_put_if(s2, "fl/idx", "c\n", 2, ver) == STORE_ECONFLICT ? 0 : 3);
	}
	waited = waits_or_ends(pid, &status);
	CHECK(waited);
	CHECK(write(fd, "b\n", 2) == 2 && close(fd) == 0);
	if (waited)
		CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(holds(file, "a\nb\n"));

	/* an append that waits for a conditional put (its exclusive lock) which then
	 * replaces the file: the line goes to the new file */
	fd = open(file, O_RDONLY);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	if ((pid = fork()) == 0) {
		/* the lock is the open file's: the child's copy of fd would hold it too */
		struct store *s2 = close(fd) == 0 ? store_open(root, err, sizeof(err)) : NULL;

		_exit(s2 && store_append(s2, "fl/idx", "d\n", 2) == 0 ? 0 : 3);
	}
	waited = waits_or_ends(pid, &status);
	CHECK(waited);
	CHECK(store_put(st, "fl/idx", "new\n", 4) == 0);
	CHECK(close(fd) == 0);
	if (waited)
		CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(holds(file, "new\nd\n"));
	CHECK(store_delete(st, "fl/idx") == 0);
	sbuf_release(&sb);
	free(file);
}

int
main(void)
{
	char dir[] = "/tmp/u-store-file.XXXXXX", err[512], hex[65], *root;
	struct store *st;
	struct store_stat sst;
	struct sbuf sb, ls;
	dev_t dev;
	struct stat rsb;
	int rc;

	CHECK(mkdtemp(dir) != NULL);
	root = path_join(dir, "s");
	CHECK(store_open("file://rel/x", err, sizeof(err)) == NULL && strstr(err, "malformed"));
	st = store_open(root, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return check_done();
	CHECK(strncmp(store_url(st), "file:///", 8) == 0);
	CHECK(store_dev(st, &dev) == 0 && stat(root, &rsb) == 0 && rsb.st_dev == dev);

	sbuf_init(&sb, 1 << 20);
	sbuf_init(&ls, 1 << 20);
	/* the whole store's listing: no temporary files, the store's own xt-store.json */
	CHECK(store_put(st, "a/b/c.txt", "x", 1) == 0 && store_append(st, "l/log.jsonl", "{}\n", 3) == 0);
	CHECK(store_create(st, "c/one", "1", 1) == 0);
	{
		char *tmp = path_join(root, ".tmp");

		mkdir_p(tmp);
		free(tmp);
	}
	CHECK(store_list(st, "", 0, count, &ls) == 0);
	CHECK(!strcmp(ls.buf, "a/(d)|c/(d)|l/(d)|xt-store.json|"));
	sbuf_reset(&ls);
	CHECK(store_list(st, "", 1, count, &ls) == 0);
	CHECK(!strcmp(ls.buf, "a/b/c.txt|c/one|l/log.jsonl|xt-store.json|"));
	/* the version stat knows: the kept hash, not for an object appended to */
	CHECK(store_stat(st, "c/one", &sst) == 0 && !strcmp(sst.ver, sst.sha256) && sst.ver[0]);
	CHECK(store_stat(st, "l/log.jsonl", &sst) == 0 && !sst.ver[0]);

	/* get_file verifies the hash the store knows */
	{
		char *obj = path_join(root, "v/x"), *local = path_join(dir, "x.out");
		FILE *fp;

		CHECK(store_put(st, "v/x", "abc", 3) == 0);
		CHECK(store_get_file(st, "v/x", local, hex, NULL, NULL) == 0);
		sha256_buf("abc", 3, err);
		CHECK(!strcmp(hex, err));
		/* tamper in place (same size): the kept hash no longer matches the mtime, so it is not trusted */
		fp = fopen(obj, "r+");
		fputs("abd", fp);
		fclose(fp);
		CHECK(store_stat(st, "v/x", &sst) == 0 && sst.sha256[0] == '\0');
		free(obj);
		free(local);
	}

	/* a stored hash that does not match the bytes: the download is refused */
	{
		char *obj = path_join(root, "v/y"), *local = path_join(dir, "y.out"), val[160];
		ssize_t n;

		CHECK(store_put(st, "v/y", "xyz", 3) == 0);
		n = getxattr(obj, "user.xt.sha256", val, sizeof(val) - 1);
		/* binary, 53 bytes: small enough for ext4 to keep inside the inode (60) */
		CHECK(n == 53 && val[0] == 1);
		if (n == 53) {
			struct stat fst;
			char old[160];

			/* the text that stores written before hold is still read */
			CHECK(stat(obj, &fst) == 0);
			snprintf(old, sizeof(old), "%s %lld %lld.%09ld",
			    "ae3bd8dd14ef9a0df2e4b6fa9fa2dc8d8ccd7a1cb0bbca7cb4b9a0e3b1ff5b1d"
			    , (long long)fst.st_size, (long long)fst.st_mtim.tv_sec, fst.st_mtim.tv_nsec);
			CHECK(setxattr(obj, "user.xt.sha256", old, strlen(old), 0) == 0);
			CHECK(store_stat(st, "v/y", &sst) == 0 && !strcmp(sst.sha256,
			    "ae3bd8dd14ef9a0df2e4b6fa9fa2dc8d8ccd7a1cb0bbca7cb4b9a0e3b1ff5b1d"));
			memset(val + 1, 0, 32);
			CHECK(setxattr(obj, "user.xt.sha256", val, (size_t)n, 0) == 0);
			CHECK(store_get_file(st, "v/y", local, hex, NULL, NULL) == STORE_ECORRUPT);
			CHECK(strstr(store_error(st), "does not match") != NULL);
			CHECK(access(local, F_OK) < 0);
			/* over an existing file: it stays as it was, and no temporary is left beside it */
			{
				char *tmp = xasprintf("%s.xt-tmp.%ld", local, (long)getpid());
				FILE *fp = fopen(local, "w");

				CHECK(fp && fputs("old", fp) >= 0 && fclose(fp) == 0);
				CHECK(store_get_file(st, "v/y", local, hex, NULL, NULL) == STORE_ECORRUPT);
				sbuf_reset(&sb);
				CHECK(file_read(local, &sb) == 0 && !strcmp(sb.buf, "old"));
				CHECK(access(tmp, F_OK) < 0);
				free(tmp);
			}
		}
		free(obj);
		free(local);
	}

	test_flock(root, st);
	test_links(dir, root, st);
	/* the same where the kernel has no openat2: folder by folder */
	setenv("XT_TEST_NO_OPENAT2", "1", 1);
	{
		struct store *walk = store_open(root, err, sizeof(err));

		CHECK(walk != NULL);
		if (walk) {
			test_links(dir, root, walk);
			CHECK(store_put(walk, "w/a/b/c", "x", 1) == 0 && store_delete(walk, "w/a/b/c") == 0);
			store_close(walk);
		}
	}
	unsetenv("XT_TEST_NO_OPENAT2");

	rc = store_open(dir, err, sizeof(err)) == NULL;
	CHECK(rc && strstr(err, "not an xt store"));
	/* a folder whose path reads as holding a credential: its URL could not be kept */
	{
		char *bad = xasprintf("%s/a?sv=1&sig=S3CR3T", dir);

		CHECK(store_open(bad, err, sizeof(err)) == NULL);
		CHECK(strstr(err, "reads as holding a credential") && !strstr(err, "S3CR3T"));
		free(bad);
	}
	sbuf_release(&sb);
	sbuf_release(&ls);
	store_close(st);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			CHECK(!"cleanup");
		free(cmd);
	}
	free(root);
	return check_done();
}
