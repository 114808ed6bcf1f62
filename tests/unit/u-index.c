/* Unit tests of the run index (lib/index.c): fold, and compaction while writers append. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "index.h"
#include "jscan.h"
#include "run.h"
#include "store_int.h"
#include "util.h"

#define WRITERS 6
#define LINES 1500

/* The folded lines of buf joined with '|'. Caller frees. */
static char *
folded(const char *buf, char *err, size_t errlen)
{
	struct index_line *l = NULL;
	size_t n, nl, i;
	struct sbuf sb;

	if (index_fold(buf, strlen(buf), "idx", &l, &n, &nl, err, errlen) < 0)
		return NULL;
	sbuf_init(&sb, 1 << 20);
	for (i = 0; i < n; i++)
		sbuf_addf(&sb, "%ld:%.*s|", l[i].lineno, (int)l[i].len, buf + l[i].off);
	sbuf_addf(&sb, "%zu", nl);
	free(l);
	return sbuf_detach(&sb, NULL);
}

static int
fold_is(const char *buf, const char *want)
{
	char err[256];
	char *got = folded(buf, err, sizeof(err));
	int ok = got && !strcmp(got, want);

	if (!ok)
		printf("# got  %s\n# want %s\n", got ? got : err, want);
	free(got);
	return ok;
}

static int
fold_fails(const char *buf, const char *want)
{
	char err[256];
	char *got = folded(buf, err, sizeof(err));

	free(got);
	if (got || !strstr(err, want)) {
		printf("# got '%s', want '%s'\n", got ? "success" : err, want);
		return 0;
	}
	return 1;
}

/* index_last_status of run (rev) is want. */
static int
status_is(struct store *st, const char *ws, const char *run, int64_t rev, const char *want)
{
	char stat[32];
	int rc = index_last_status(st, ws, run, rev, stat, sizeof(stat));

	if (rc != 0 || strcmp(stat, want))
		printf("# %s %s: %d '%s', want '%s'\n", ws, run, rc, rc ? "" : stat, want);
	return rc == 0 && !strcmp(stat, want);
}

/* 3,000 runs of ws2 (run10 .. run12999) of 140 bytes a line or so, into sb. */
static void
pad_runs(struct sbuf *sb)
{
	int i;

	for (i = 0; i < 3000; i++)
		sbuf_addf(sb, "{\"ws\":\"ws2\",\"run\":\"run1%d\",\"status\":\"completed\","
		    "\"pad\":\"%0100d\"}\n", i, 0);
}

static void
writer(const char *root, int w)
{
	char err[256], line[128];
	struct store *st = store_open(root, err, sizeof(err));
	int i, n;

	if (!st)
		_exit(3);
	for (i = 0; i < LINES; i++) {
		n = snprintf(line, sizeof(line), "{\"ws\":\"ws1\",\"run\":\"run%d\",\"seq\":%d}\n", w, i);
		if (index_append(st, "ws1", line, (size_t)n) < 0)
			_exit(4);
	}
	store_close(st);
	_exit(0);
}

/* Every writer's runs in the index: its lines in order, the last one there. */
static int
check_index(const char *file, int *compacted_seen)
{
	struct sbuf sb;
	int last[WRITERS], top[WRITERS], w, ok = 1;
	char *p;

	for (w = 0; w < WRITERS; w++)
		last[w] = top[w] = -1;
	sbuf_init(&sb, (size_t)64 << 20);
	if (file_read(file, &sb) < 0)
		return 0;
	for (p = sb.buf; *p; p = strchr(p, '\n') + 1) {
		int seq;

		if (sscanf(p, "{\"ws\":\"ws1\",\"run\":\"run%d\",\"seq\":%d}", &w, &seq) != 2 ||
		    w < 0 || w >= WRITERS) {
			printf("# bad line: %.60s\n", p);
			ok = 0;
			break;
		}
		if (seq <= last[w]) {
			printf("# run%d: seq %d after %d\n", w, seq, last[w]);
			ok = 0;
		}
		if (seq != last[w] + 1)
			*compacted_seen = 1;
		last[w] = seq;
		top[w] = seq > top[w] ? seq : top[w];
	}
	for (w = 0; w < WRITERS; w++)
		if (top[w] != LINES - 1) {
			printf("# run%d: last seq %d, want %d\n", w, top[w], LINES - 1);
			ok = 0;
		}
	sbuf_release(&sb);
	return ok;
}

/*
 * A backend of the test's own over a folder store: the primitives as the
 * folder's, but after each of the next `appends` versioned reads, a line
 * is appended to the index, as a writer would between a compaction's read
 * and its conditional put. It is no folder store, so the index knows it
 * by its primitives only.
 */
struct wrap {
	struct store *in;
	int appends, seq;
};

#define IN(st) (((struct wrap *)(st)->priv)->in)
#define PASS(st, call) pass((st), (call))

static int
pass(struct store *st, int rc)
{
	if (rc < 0)
		snprintf(st->err, sizeof(st->err), "%s", store_error(IN(st)));
	return rc;
}

static void
w_close(struct store *st)
{
	store_close(IN(st));
	free(st->priv);
}

static int
w_put(struct store *st, const char *p, const void *b, size_t n)
{
	return PASS(st, store_put(IN(st), p, b, n));
}

static int
w_put_file(struct store *st, const char *p, const char *l, char *h, store_progress_fn f, void *a)
{
	return PASS(st, store_put_file(IN(st), p, l, h, f, a));
}

static int
w_create(struct store *st, const char *p, const void *b, size_t n)
{
	return PASS(st, store_create(IN(st), p, b, n));
}

static int
w_append(struct store *st, const char *p, const void *b, size_t n)
{
	return PASS(st, store_append(IN(st), p, b, n));
}

static int
w_get(struct store *st, const char *p, int64_t off, int64_t len, struct sbuf *out)
{
	return PASS(st, store_get(IN(st), p, off, len, out));
}

static int
w_get_file(struct store *st, const char *p, const char *l, char *h, store_progress_fn f, void *a)
{
	return PASS(st, store_get_file(IN(st), p, l, h, f, a));
}

static int
w_stat(struct store *st, const char *p, struct store_stat *sst)
{
	return PASS(st, store_stat(IN(st), p, sst));
}

static int
w_list(struct store *st, const char *p, int r, store_list_fn fn, void *arg)
{
	return PASS(st, store_list(IN(st), p, r, fn, arg));
}

static int
w_del(struct store *st, const char *p)
{
	return PASS(st, store_delete(IN(st), p));
}

static int
w_commit(struct store *st)
{
	return PASS(st, store_commit(IN(st)));
}

static int
w_get_ver(struct store *st, const char *p, struct sbuf *out, char *ver)
{
	struct wrap *w = st->priv;
	int rc = PASS(st, store_get_ver(w->in, p, out, ver));

	if (rc == 0 && w->appends > 0) {
		char line[128];
		int n = snprintf(line, sizeof(line), "{\"ws\":\"ws5\",\"run\":\"late%d\"}\n", w->seq++);

		w->appends--;
		CHECK(store_append(w->in, p, line, (size_t)n) == 0);
	}
	return rc;
}

static int
w_put_if(struct store *st, const char *p, const void *b, size_t n, const char *ver)
{
	return PASS(st, store_put_if(IN(st), p, b, n, ver));
}

static const struct store_ops wrap_ops = {
	"wrap", w_close, w_put, w_put_file, w_create, w_append, w_get, w_get_file, w_stat,
	w_list, w_del, w_commit, w_get_ver, w_put_if, NULL, 0, NULL, 0, NULL,
};

static struct store *
wrap_open(const char *root)
{
	char err[256];
	struct store *st = xcalloc(1, sizeof(*st));
	struct wrap *w = xcalloc(1, sizeof(*w));

	w->in = store_open(root, err, sizeof(err));
	CHECK(w->in != NULL);
	st->ops = &wrap_ops;
	st->url = xstrdup("wrap://test");
	st->priv = w;
	return st;
}

/* The index of ws5 in the store under root. Caller frees. */
static char *
index_text(const char *root)
{
	char *file = path_join(root, "ws/ws5/index/runs.jsonl");
	struct sbuf sb;

	sbuf_init(&sb, 1 << 20);
	CHECK(file_read(file, &sb) == 0);
	free(file);
	return sbuf_detach(&sb, NULL);
}

/*
 * Compaction on a backend known by its primitives only: appends that come
 * in between its read and its put make it read again; none is lost.
 */
#define RUN1 "{\"ws\":\"ws5\",\"run\":\"run1\"}\n"
#define LATE0 "{\"ws\":\"ws5\",\"run\":\"late0\"}\n"
#define CUT "{\"ws\":\"ws5\",\"ru"

static void
test_retry(const char *root)
{
	struct store *st = wrap_open(root);
	struct wrap *w = st->priv;
	char err[256], *got;
	int i;

	for (i = 0; i < 3; i++)
		CHECK(index_append(st, "ws5", RUN1, strlen(RUN1)) == 0);
	/* three appends come in, one after each of three reads: the fourth try wins */
	w->appends = 3;
	CHECK(index_compact(st, "ws5", err, sizeof(err)) == 1);
	CHECK(w->appends == 0);
	got = index_text(root);
	CHECK(!strcmp(got, "{\"ws\":\"ws5\",\"run\":\"run1\"}\n{\"ws\":\"ws5\",\"run\":\"late0\"}\n"
	    "{\"ws\":\"ws5\",\"run\":\"late1\"}\n{\"ws\":\"ws5\",\"run\":\"late2\"}\n"));
	free(got);

	/* appends at every try: the index is left as it was, with every line */
	CHECK(index_append(st, "ws5", RUN1, strlen(RUN1)) == 0);
	w->appends = INDEX_TRIES;
	CHECK(index_compact(st, "ws5", err, sizeof(err)) == 0);
	got = index_text(root);
	CHECK(strstr(got, "late2\"}\n{\"ws\":\"ws5\",\"run\":\"run1\"}\n{\"ws\":\"ws5\",\"run\":\"late3\"}\n"));
	CHECK(strstr(got, "\"late10\"}\n") != NULL && strstr(got, "\"late11\"") == NULL);
	free(got);

	/* a last line cut short (an append in flight) is kept, last */
	CHECK(store_append(st, "ws/ws5/index/runs.jsonl", CUT, strlen(CUT)) == 0);
	CHECK(index_compact(st, "ws5", err, sizeof(err)) == 1);
	got = index_text(root);
	CHECK(!strncmp(got, LATE0, strlen(LATE0)));
	CHECK(strlen(got) > strlen(CUT) && !strcmp(got + strlen(got) - strlen(CUT), CUT));
	free(got);
	store_close(st);
}

int
main(void)
{
	char dir[] = "/tmp/u-index.XXXXXX", err[256], *root, *file;
	struct store *st;
	pid_t pid[WRITERS];
	int w, status, compactions = 0, compacted_seen = 0, all_ok = 1;

	/* fold: the latest line of each run, in file order; blank lines skipped */
	CHECK(fold_is("{\"run\":\"run1\",\"s\":1}\n{\"run\":\"run2\"}\n\n{\"run\":\"run1\",\"s\":2}\n",
	    "2:{\"run\":\"run2\"}|4:{\"run\":\"run1\",\"s\":2}|3"));
	CHECK(fold_is("{\"ws\":\"a\",\"run\":\"run1\"}\n{\"ws\":\"b\",\"run\":\"run1\"}",
	    "1:{\"ws\":\"a\",\"run\":\"run1\"}|2:{\"ws\":\"b\",\"run\":\"run1\"}|2"));
	CHECK(fold_is("", "0"));
	/* by "rev": an older line moved after a newer one (a compaction of a
	 * rolled-over Azure index) does not take the run back */
	CHECK(fold_is("{\"run\":\"r\",\"rev\":1,\"s\":\"queued\"}\n"
	    "{\"run\":\"r\",\"rev\":3,\"s\":\"completed\"}\n{\"run\":\"q\"}\n"
	    "{\"run\":\"r\",\"rev\":2,\"s\":\"running\"}\n{\"run\":\"r\",\"s\":\"queued\"}\n",
	    "2:{\"run\":\"r\",\"rev\":3,\"s\":\"completed\"}|3:{\"run\":\"q\"}|5"));
	/* equal revs, or none (older stores), or one that is no whole number >= 1: the last */
	CHECK(fold_is("{\"run\":\"r\",\"rev\":2,\"s\":1}\n{\"run\":\"r\",\"rev\":2,\"s\":2}\n"
	    "{\"run\":\"q\",\"s\":1}\n{\"run\":\"q\",\"s\":2}\n"
	    "{\"run\":\"p\",\"rev\":\"9\",\"s\":1}\n{\"run\":\"p\",\"rev\":-4,\"s\":2}\n",
	    "2:{\"run\":\"r\",\"rev\":2,\"s\":2}|4:{\"run\":\"q\",\"s\":2}|"
	    "6:{\"run\":\"p\",\"rev\":-4,\"s\":2}|6"));
	CHECK(fold_fails("{\"run\":\"run1\"}\n{\"run\":\"run2\"\n", "idx:2:14: not a JSON object"));
	CHECK(fold_fails("{\"run\":\"run1\"}\n\n{\"status\":\"x\"}\n", "idx:3: a run record needs \"run\""));
	CHECK(fold_fails("{\"run\":7}\n", "idx:1: a run record needs"));
	CHECK(index_grown(1000 + 10, 10) == 1);
	CHECK(index_grown(999 + 10, 10) == 0);
	CHECK(index_grown(20000, 15000) == 0);

	CHECK(mkdtemp(dir) != NULL);
	root = path_join(dir, "s");
	st = store_open(root, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return check_done();
	file = path_join(root, "ws/ws1/index/runs.jsonl");
	CHECK(index_compact(st, "ws1", err, sizeof(err)) == 0);	/* no index yet */

	/* writers append while the index is compacted again and again */
	for (w = 0; w < WRITERS; w++)
		if ((pid[w] = fork()) == 0)
			writer(root, w);
	for (;;) {
		int done = 1, rc;

		for (w = 0; w < WRITERS; w++)
			if (pid[w] > 0 && waitpid(pid[w], &status, WNOHANG) == pid[w]) {
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
					all_ok = 0;
				pid[w] = 0;
			}
		for (w = 0; w < WRITERS; w++)
			if (pid[w] > 0)
				done = 0;
		rc = index_compact(st, "ws1", err, sizeof(err));
		if (rc < 0) {
			printf("# %s\n", err);
			all_ok = 0;
			break;
		}
		compactions += rc;
		if (done)
			break;
	}
	CHECK(all_ok);
	/* at least the last; one while the writers append may give up (appends kept coming) */
	CHECK(compactions >= 1);
	CHECK(check_index(file, &compacted_seen));
	/* after the last compaction: one line a run, the last of each */
	{
		struct sbuf sb;
		int n = 0;
		char *p;

		sbuf_init(&sb, 1 << 20);
		CHECK(file_read(file, &sb) == 0);
		for (p = sb.buf; (p = strchr(p, '\n')); p++)
			n++;
		CHECK(n == WRITERS);
		CHECK(strstr(sb.buf, "\"seq\":1499}") != NULL);
		sbuf_release(&sb);
	}

	/* a plain run_save goes through the index too */
	{
		cJSON *rec = cJSON_Parse("{\"ws\":\"ws1\",\"run\":\"run9\",\"status\":\"queued\"}");

		CHECK(run_save(st, rec) == 0);
		cJSON_Delete(rec);
		CHECK(index_compact(st, "ws1", err, sizeof(err)) == 1);
	}

	/* the latest status of a run, read backwards in chunks */
	{
		struct sbuf sb;
		sbuf_init(&sb, (size_t)1 << 24);
		sbuf_addf(&sb, "{\"ws\":\"ws2\",\"run\":\"run1\",\"status\":\"queued\"}\n");
		sbuf_addf(&sb, "{\"ws\":\"ws2\",\"run\":\"run1\",\"status\":\"running\"}\n");
		/* a line that only mentions run1, in another field */
		sbuf_addf(&sb, "{\"ws\":\"ws2\",\"run\":\"run3\",\"cmd\":\"\\\"run\\\":\\\"run1\\\"\",\"status\":\"failed\"}\n");
		pad_runs(&sb);
		sbuf_addf(&sb, "{\"ws\":\"ws3\",\"run\":\"run1\",\"status\":\"completed\"}\n");
		CHECK(store_put(st, "ws/ws2/index/runs.jsonl", sb.buf, sb.len) == 0);
		CHECK(sb.len > 3 * 65536);
		CHECK(status_is(st, "ws2", "run1", 0, "running"));
		CHECK(status_is(st, "ws2", "run3", 0, "failed"));
		CHECK(status_is(st, "ws2", "run12999", 0, "completed"));
		CHECK(status_is(st, "ws2", "run7", 0, ""));
		CHECK(status_is(st, "ws4", "run1", 0, ""));

		/* by rev: the run's newer line a chunk and more before an older
		 * one moved to the end; without a rev to reach, the last line */
		sbuf_reset(&sb);
		sbuf_addf(&sb, "{\"ws\":\"ws2\",\"run\":\"run1\",\"rev\":1,\"status\":\"queued\"}\n");
		sbuf_addf(&sb, "{\"ws\":\"ws2\",\"run\":\"run1\",\"rev\":3,\"status\":\"completed\"}\n");
		pad_runs(&sb);
		sbuf_addf(&sb, "{\"ws\":\"ws2\",\"run\":\"run1\",\"rev\":2,\"status\":\"running\"}\n");
		CHECK(store_put(st, "ws/ws2/index/runs.jsonl", sb.buf, sb.len) == 0);
		CHECK(status_is(st, "ws2", "run1", 3, "completed"));
		CHECK(status_is(st, "ws2", "run1", 0, "running"));
		/* a rev the index has not reached: all of it read, its highest given */
		CHECK(status_is(st, "ws2", "run1", 4, "completed"));
		sbuf_release(&sb);
	}
	store_close(st);
	test_retry(root);
	free(file);
	free(root);
	return check_done();
}
