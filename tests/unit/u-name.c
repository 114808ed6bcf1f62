/* Unit tests of names, store paths, short addresses and name allocation. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "name.h"
#include "store.h"
#include "util.h"

#define PROCS 10
#define EACH 100

static int
collect(const struct store_entry *e, void *arg)
{
	long *seen = arg, n;

	if (e->is_dir && sscanf(e->path, "ws/w/jobs/job%ld/", &n) == 1 && n >= 1 && n <= PROCS * EACH)
		seen[n]++;
	else
		seen[0]++;
	return 0;
}

int
main(void)
{
	char err[256], dir[] = "/tmp/u-name.XXXXXX", *p;
	long n, k, seen[PROCS * EACH + 1];
	struct store *st;
	int i, ok;

	CHECK(name_check("ws1", err, sizeof(err)) == 0);
	CHECK(name_check("a.b_c-D9", err, sizeof(err)) == 0);
	CHECK(name_check("", err, sizeof(err)) < 0);
	CHECK(name_check("a/b", err, sizeof(err)) < 0 && strstr(err, "'/'"));
	CHECK(name_check("..", err, sizeof(err)) < 0);
	CHECK(name_check("-x", err, sizeof(err)) < 0);
	CHECK(name_check("a b", err, sizeof(err)) < 0);
	CHECK(name_check("\xc3\xa4", err, sizeof(err)) < 0 && strstr(err, "non-ASCII"));
	CHECK(name_check("a\tb", err, sizeof(err)) < 0 && strstr(err, "control"));

	CHECK(name_path_check("a/b c/\xc3\xa4/-x", err, sizeof(err)) == 0);
	CHECK(name_path_check("a/../b", err, sizeof(err)) < 0 && strstr(err, ".."));
	CHECK(name_path_check("..", err, sizeof(err)) < 0);
	CHECK(name_path_check("/a", err, sizeof(err)) < 0 && strstr(err, "absolute"));
	CHECK(name_path_check("a/", err, sizeof(err)) < 0);
	CHECK(name_path_check("a\x01", err, sizeof(err)) < 0);
	CHECK(name_path_check("a/..b/c..", err, sizeof(err)) == 0);

	CHECK(name_parse_run("run7", &n, &k) && n == 7 && k == 0);
	CHECK(name_parse_run("run7.12", &n, &k) && n == 7 && k == 12);
	CHECK(!name_parse_run("run07", &n, &k));
	CHECK(!name_parse_run("run7.", &n, &k));
	CHECK(!name_parse_run("runx", &n, &k));
	CHECK(name_parse_job("job3", &n) && n == 3);
	CHECK(!name_parse_job("job3x", &n));

	p = name_resolve("run7/output.txt", "ws1", 0, err, sizeof(err));
	CHECK(p && !strcmp(p, "ws/ws1/runs/run7/output.txt"));
	free(p);
	p = name_resolve("run7.2", "ws1", 0, err, sizeof(err));
	CHECK(p && !strcmp(p, "ws/ws1/runs/run7.2"));
	free(p);
	p = name_resolve("job3/code.jsonl", "w", 0, err, sizeof(err));
	CHECK(p && !strcmp(p, "ws/w/jobs/job3/code.jsonl"));
	free(p);
	p = name_resolve("@data/x/y", "w", 0, err, sizeof(err));
	CHECK(p && !strcmp(p, "shares/data/x/y"));
	free(p);
	p = name_resolve(":run7/x", "w", 0, err, sizeof(err));
	CHECK(p && !strcmp(p, "run7/x"));
	free(p);
	p = name_resolve("dir/", "w", 0, err, sizeof(err));
	CHECK(p && !strcmp(p, "dir"));
	free(p);
	CHECK(name_resolve("a/../b", "w", 0, err, sizeof(err)) == NULL && strstr(err, ".."));
	CHECK(name_resolve("@../x", "w", 0, err, sizeof(err)) == NULL);
	CHECK(name_resolve("run1", "bad/ws", 0, err, sizeof(err)) == NULL && strstr(err, "workspace"));
	CHECK(name_resolve("", "w", 0, err, sizeof(err)) == NULL);
	p = name_resolve("", "w", 1, err, sizeof(err));
	CHECK(p && !*p);
	free(p);
	/* patterns: a run's or job's name with a wildcard resolves as the name would */
	p = name_resolve_pattern("run7.*/output/model.pkl", "w", err, sizeof(err));
	CHECK(p && !strcmp(p, "ws/w/runs/run7.*/output/model.pkl"));
	free(p);
	p = name_resolve_pattern("job[12]/code/", "w", err, sizeof(err));
	CHECK(p && !strcmp(p, "ws/w/jobs/job[12]/code"));
	free(p);
	p = name_resolve_pattern("@data/*.csv", "w", err, sizeof(err));
	CHECK(p && !strcmp(p, "shares/data/*.csv"));
	free(p);
	p = name_resolve_pattern("run7/x*", "w", err, sizeof(err));
	CHECK(p && !strcmp(p, "ws/w/runs/run7/x*"));
	free(p);
	CHECK(name_resolve_pattern("run*/../x", "w", err, sizeof(err)) == NULL);
	CHECK(name_resolve_pattern("run*", "bad/ws", err, sizeof(err)) == NULL &&
	    strstr(err, "workspace"));

	/* PROCS processes allocate EACH job names each, at once: all distinct */
	CHECK(mkdtemp(dir) != NULL);
	st = store_open(dir, err, sizeof(err));
	CHECK(st != NULL);
	for (i = 0; i < PROCS; i++)
		if (fork() == 0) {
			struct store *s2 = store_open(dir, err, sizeof(err));
			int j;

			for (j = 0; j < EACH; j++)
				if (name_alloc(s2, "ws/w/jobs", "job", "job.json", "{}\n", 3) < 1)
					_exit(1);
			_exit(0);
		}
	ok = 0;
	for (i = 0; i < PROCS; i++) {
		int status;

		wait(&status);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	CHECK(ok == PROCS);
	memset(seen, 0, sizeof(seen));
	CHECK(store_list(st, "ws/w/jobs/", 0, collect, seen) == 0);
	ok = seen[0] == 0;
	for (i = 1; i <= PROCS * EACH; i++)
		ok &= seen[i] == 1;
	CHECK(ok);
	/* children of a run */
	CHECK(name_alloc(st, "ws/w/runs", "run5.", "run.json", "{}\n", 3) == 1);
	CHECK(name_alloc(st, "ws/w/runs", "run5.", "run.json", "{}\n", 3) == 2);
	CHECK(name_alloc(st, "ws/w/runs", "run", "run.json", "{}\n", 3) == 1);
	/* the newest: the highest number, not a child's, not the last in name order */
	CHECK(name_last(st, "ws/w/runs", "run") == 1);
	CHECK(name_last(st, "ws/w/jobs", "job") == PROCS * EACH);
	CHECK(store_put(st, "ws/w/runs/run10/run.json", "{}\n", 3) == 0);
	CHECK(store_put(st, "ws/w/runs/run9/run.json", "{}\n", 3) == 0);
	CHECK(name_last(st, "ws/w/runs", "run") == 10);
	CHECK(name_last(st, "ws/none/runs", "run") == 0);
	store_close(st);
	p = xasprintf("rm -rf '%s'", dir);
	CHECK(system(p) == 0);
	free(p);
	return check_done();
}
