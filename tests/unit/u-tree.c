/*
 * Unit tests of the run-side file helpers: tree_scan_beneath and
 * tree_open_beneath (no link out of a run's output, even one put in place
 * after the scan), work_parse_duration and work_parse_size, work_rm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "tree.h"
#include "util.h"
#include "work.h"

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		die("cannot create '%s':", path);
	fputs(text, fp);
	fclose(fp);
}

static int
readable(const char *root, const char *target, const char *want)
{
	char buf[64];
	ssize_t n;
	int fd = tree_open_beneath(root, target);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return !strcmp(buf, want);
}

int
main(void)
{
	char top[] = "/tmp/u-tree.XXXXXX", *root, *out, *p, *q;
	struct tree t;
	int64_t v;

	if (!mkdtemp(top))
		die("mkdtemp:");
	root = path_join(top, "output");
	out = path_join(top, "outside");
	mkdir(root, 0755);
	mkdir(out, 0755);
	p = path_join(out, "secret");
	put(p, "secret");
	free(p);
	p = path_join(root, "a");
	put(p, "a");
	free(p);
	p = path_join(root, "d");
	mkdir(p, 0755);
	free(p);
	p = path_join(root, "d/f");
	put(p, "f");
	free(p);
	p = path_join(root, "in");
	CHECK(symlink("d/f", p) == 0);
	free(p);
	p = path_join(root, "out");
	q = path_join(out, "secret");
	CHECK(symlink(q, p) == 0);
	free(p);
	free(q);

	tree_init(&t);
	CHECK(tree_scan_beneath(&t, root) == 0);
	CHECK(t.n == 3);
	CHECK(t.n == 3 && !strcmp(t.files[0].rel, "a") && !strcmp(t.files[0].target, "a"));
	CHECK(t.n == 3 && !strcmp(t.files[1].rel, "d/f") && !strcmp(t.files[1].target, "d/f"));
	CHECK(t.n == 3 && !strcmp(t.files[2].rel, "in") && !strcmp(t.files[2].target, "d/f"));
	CHECK(t.nrefused == 1 && !strcmp(t.refused[0].rel, "out") &&
	    strstr(t.refused[0].why, "outside"));
	tree_release(&t);

	CHECK(readable(root, "a", "a"));
	CHECK(readable(root, "d/f", "f"));
	/* a link put in the way since the scan is not followed */
	p = path_join(root, "d");
	CHECK(work_rm(p) == 0);
	CHECK(symlink(out, p) == 0);
	free(p);
	p = path_join(out, "f");
	put(p, "outside");
	free(p);
	CHECK(!readable(root, "d/f", "outside"));
	CHECK(tree_open_beneath(root, "d/f") < 0 && (errno == ELOOP || errno == EXDEV));
	p = path_join(root, "a");
	unlink(p);
	q = path_join(out, "secret");
	CHECK(symlink(q, p) == 0);
	free(p);
	free(q);
	CHECK(tree_open_beneath(root, "a") < 0 && errno == ELOOP);
	CHECK(tree_open_beneath(root, "../outside/secret") < 0);

	CHECK(work_parse_duration("24h", &v) == 0 && v == 86400000);
	CHECK(work_parse_duration("90s", &v) == 0 && v == 90000);
	CHECK(work_parse_duration("7d", &v) == 0 && v == 604800000);
	CHECK(work_parse_duration("0", &v) == 0 && v == 0);
	CHECK(work_parse_duration("5", &v) < 0);
	CHECK(work_parse_duration("", &v) < 0);
	CHECK(work_parse_duration("1hh", &v) < 0);
	CHECK(work_parse_duration("-1h", &v) < 0);
	CHECK(work_parse_duration("9999999999999999999d", &v) < 0);
	CHECK(work_parse_duration("999999999999999d", &v) < 0);
	CHECK(work_parse_size("10G", &v) == 0 && v == (int64_t)10 << 30);
	CHECK(work_parse_size("512k", &v) == 0 && v == 512 << 10);
	CHECK(work_parse_size("1234", &v) == 0 && v == 1234);
	CHECK(work_parse_size("1.5G", &v) < 0);
	CHECK(work_parse_size("G", &v) < 0);
	CHECK(work_parse_size("9000000000T", &v) < 0);

	/* work_rm removes read-only folders and never follows a link */
	p = path_join(root, "ro");
	mkdir(p, 0755);
	q = path_join(p, "x");
	put(q, "x");
	free(q);
	q = path_join(p, "link");
	CHECK(symlink(out, q) == 0);
	free(q);
	chmod(p, 0);
	free(p);
	CHECK(work_rm(root) == 0);
	CHECK(access(root, F_OK) < 0 && errno == ENOENT);
	p = path_join(out, "secret");
	CHECK(access(p, F_OK) == 0);
	free(p);
	CHECK(work_rm(root) == 0);

	/* the sweep removes a kept folder whose time is up, unless its run took it back */
	p = path_join(top, "home");
	setenv("XT_HOME", p, 1);
	free(p);
	p = path_join(top, "home/work/ws1/run1");
	CHECK(mkdir_p(p) == 0);
	q = path_join(p, WORK_ENDED);
	put(q, "");
	{
		struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
		int fd;

		CHECK(utimensat(AT_FDCWD, q, old, 0) == 0);
		/* a sweep while the run's executor holds the mark (work_begin) leaves it */
		fd = open(q, O_RDONLY);
		CHECK(flock(fd, LOCK_EX) == 0);
		work_sweep();
		CHECK(access(p, F_OK) == 0);
		close(fd);
		work_begin(p);
		CHECK(access(q, F_OK) < 0);
		work_sweep();
		CHECK(access(p, F_OK) == 0);
		put(q, "");
		CHECK(utimensat(AT_FDCWD, q, old, 0) == 0);
		work_sweep();
		CHECK(access(p, F_OK) < 0 && errno == ENOENT);
	}
	free(p);
	free(q);
	CHECK(work_rm(top) == 0);
	free(root);
	free(out);
	return check_done();
}
