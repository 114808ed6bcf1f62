/*
 * Unit tests of the C logging API (lib/xtlog.c): line format, numbers,
 * escaping, errors, and many writers (processes and threads) on one file.
 *
 *   u-xtlog                    run the tests
 *   u-xtlog write N TAG        append N lines {"event":"metrics","step":i,
 *                              "data":{"p":TAG}} to $XT_LOG, one call each
 *                              (for tests/t5020-log-concurrent.sh)
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "logpump.h"
#include "store.h"
#include "util.h"
#include "xtlog.h"

#define PROCS 8
#define PER_PROC 10000
#define THREADS 4
#define PER_THREAD 5000

static char logpath[512];

/* Start the log file afresh and point XT_LOG at it. */
static void
fresh(void)
{
	xtlog_close();
	unlink(logpath);
	setenv("XT_LOG", logpath, 1);
}

/* The log's lines into sb. */
static void
slurp(struct sbuf *sb)
{
	sbuf_reset(sb);
	if (file_read(logpath, sb) < 0)
		sbuf_reset(sb);
}

/* The log's only line, with the time replaced by "T", is want. */
static int
line_is(const char *want)
{
	struct sbuf sb;
	char *p;
	int ok;

	sbuf_init(&sb, 1 << 20);
	slurp(&sb);
	p = strstr(sb.buf, "\"time\":\"");
	ok = p == sb.buf + 1 && sb.len > 34 && p[32] == '"' && p[31] == 'Z' &&
	    sb.buf[sb.len - 1] == '\n' && memchr(sb.buf, '\n', sb.len) == sb.buf + sb.len - 1;
	if (ok) {
		memmove(p + 8, "T", 1);
		memmove(p + 9, p + 32, strlen(p + 32) + 1);
		sb.len = strlen(sb.buf);
		ok = !strcmp(sb.buf, want);
	}
	if (!ok)
		printf("# got  %s# want %s", sb.buf, want);
	sbuf_release(&sb);
	fresh();
	return ok;
}

static void
test_format(void)
{
	const char *names[] = { "acc", "loss", "lr" };
	double vals[] = { 0.93, 0.25, 1e-4 };
	char big[XTLOG_LINE_MAX + 10];
	const char *s;
	struct sbuf sb;
	int64_t ms;
	cJSON *o;

	xtlog_close();
	unsetenv("XT_LOG");
	errno = 0;
	CHECK(xtlog_metric("acc", 1, 1) == -1 && errno == ENOENT);
	CHECK(xtlog_open() == -1 && errno == ENOENT);
	setenv("XT_LOG", "", 1);
	xtlog_close();
	CHECK(xtlog_event("x", NULL) == -1 && errno == ENOENT);
	setenv("XT_LOG", "/nonexistent-dir/log", 1);
	xtlog_close();
	CHECK(xtlog_metric("acc", 1, 1) == -1 && errno == ENOENT);

	fresh();
	CHECK(xtlog_open() >= 0 && xtlog_open() == xtlog_open());
	CHECK(xtlog_metric("acc", 0.5, 10) == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":10,\"data\":{\"acc\":0.5}}\n"));
	CHECK(xtlog_metric("acc", 0.5, -1) == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"metrics\",\"data\":{\"acc\":0.5}}\n"));
	CHECK(xtlog_metrics(0, 3, names, vals) == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,"
	    "\"data\":{\"acc\":0.93,\"loss\":0.25,\"lr\":0.0001}}\n"));
	CHECK(xtlog_hparam_num("lr", 0.01) == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"hparams\",\"data\":{\"lr\":0.01}}\n"));
	CHECK(xtlog_hparam_str("opt", "adam") == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"hparams\",\"data\":{\"opt\":\"adam\"}}\n"));
	CHECK(xtlog_tag("top5", NULL) == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"tags\",\"data\":{\"top5\":true}}\n"));
	CHECK(xtlog_tag("note", "a \"b\"") == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"tags\",\"data\":{\"note\":\"a \\\"b\\\"\"}}\n"));
	CHECK(xtlog_event("checkpoint", "{\n  \"path\": \"/x\",\n  \"n\": [1, 2]\n}\n") == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"checkpoint\",\"data\":{\"path\":\"/x\",\"n\":[1,2]}}\n"));
	CHECK(xtlog_event("done", NULL) == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"done\"}\n"));

	/* names and strings are escaped */
	CHECK(xtlog_hparam_str("a\"b\\c\n", "t\tab\x01\x1f") == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"hparams\","
	    "\"data\":{\"a\\\"b\\\\c\\n\":\"t\\tab\\u0001\\u001f\"}}\n"));

	/* the shortest number that reads back; a string for what JSON cannot hold */
	CHECK(xtlog_metric("v", 1, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":1}}\n"));
	CHECK(xtlog_metric("v", -2.5, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":-2.5}}\n"));
	CHECK(xtlog_metric("v", 0.1, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":0.1}}\n"));
	CHECK(xtlog_metric("v", -0.0, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":0}}\n"));
	CHECK(xtlog_metric("v", 1e-7, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":1e-7}}\n"));
	CHECK(xtlog_metric("v", 1e300, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":1e+300}}\n"));
	CHECK(xtlog_metric("v", 1.0 / 3, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":0.3333333333333333}}\n"));
	CHECK(xtlog_metric("v", 9007199254740993.0, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":9007199254740992}}\n"));
	CHECK(xtlog_metric("v", NAN, 0) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":0,\"data\":{\"v\":\"NaN\"}}\n"));
	CHECK(xtlog_metric("v", -INFINITY, 123456789012L) == 0 && line_is("{\"time\":\"T\",\"event\":\"metrics\",\"step\":123456789012,\"data\":{\"v\":\"-Infinity\"}}\n"));

	/* bad arguments write nothing */
	CHECK(xtlog_metric("", 1, 0) == -1 && errno == EINVAL);
	CHECK(xtlog_metric(NULL, 1, 0) == -1 && errno == EINVAL);
	CHECK(xtlog_metrics(0, 0, names, vals) == -1 && errno == EINVAL);
	CHECK(xtlog_hparam_str("x", NULL) == -1 && errno == EINVAL);
	CHECK(xtlog_tag("bad tag", NULL) == -1 && errno == EINVAL);
	CHECK(xtlog_event("bad/event", NULL) == -1 && errno == EINVAL);
	CHECK(xtlog_event("", NULL) == -1 && errno == EINVAL);
	CHECK(xtlog_event("e", "[1,2]") == -1 && errno == EINVAL);
	CHECK(xtlog_event("e", "{\"a\":") == -1 && errno == EINVAL);
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(xtlog_metric(big, 1, 0) == -1 && errno == EMSGSIZE);
	sbuf_init(&sb, 1 << 20);
	slurp(&sb);
	CHECK(sb.len == 0);

	/* a line longer than the stack buffer goes through the heap, whole */
	big[5000] = '\0';
	CHECK(xtlog_hparam_str("long", big) == 0);
	slurp(&sb);
	o = cJSON_ParseWithLength(sb.buf, sb.len);
	CHECK(o && strlen(json_str(cJSON_GetObjectItem(o, "data"), "long")) == 5000);
	CHECK(o && time_parse_iso(json_str(o, "time"), &ms) == 0 &&
	    llabs(ms - time_now_ms()) < 60000);
	cJSON_Delete(o);
	sbuf_release(&sb);
	fresh();

	/* raw lines go in as they are */
	s = "{\"event\":\"a\"}\n{\"event\":\"b\"}\n";
	CHECK(xtlog_write(s, strlen(s)) == 0 && xtlog_write("", 0) == 0);
	sbuf_init(&sb, 1 << 20);
	slurp(&sb);
	CHECK(!strcmp(sb.buf, "{\"event\":\"a\"}\n{\"event\":\"b\"}\n"));
	sbuf_release(&sb);
	fresh();
}


/* xtlog_clean(text) is want (NULL: unchanged). */
static int
clean_is(const char *text, const char *want)
{
	static char junk[] = "junk";
	char *out = junk;	/* as a caller's uninitialized pointer: set either way */
	size_t n = 0;
	int rc = xtlog_clean(text, strlen(text), &out, &n);
	int ok = want ? rc == 1 && n == strlen(want) && !strcmp(out, want) : rc == 0 && !out;

	if (!ok)
		printf("# clean '%s': got %d '%s', want '%s'\n", text, rc, out ? out : "",
		    want ? want : "(unchanged)");
	if (out != junk)
		free(out);
	return ok;
}

/* NaN and Infinity as Python writes them; stray bytes, \u0000 and lone surrogates. */
static void
test_clean(void)
{
	char nul[] = "{\"a\":\"x\0y\"}";
	char *out = NULL;
	size_t n;
	cJSON *o;

	CHECK(clean_is("{\"a\":1,\"b\":[true,null]}", NULL));
	CHECK(clean_is("{\"a\":\"NaN Infinity -Infinity\"}", NULL));
	CHECK(clean_is("{\"a\":NaN,\"b\":Infinity,\"c\":-Infinity,\"d\":[NaN]}",
	    "{\"a\":\"NaN\",\"b\":\"Infinity\",\"c\":\"-Infinity\",\"d\":[\"NaN\"]}"));
	CHECK(clean_is("{\"a\": NaN}", "{\"a\": \"NaN\"}"));
	CHECK(clean_is("{\"a\":NaNx}", NULL));	/* not a word of its own: left to the parser */
	CHECK(clean_is("{\"a\":\"\\\"NaN\"}", NULL));
	CHECK(clean_is("{\"a\":\"x\xffy\xc3\"}", "{\"a\":\"x\xef\xbf\xbdy\xef\xbf\xbd\"}"));
	CHECK(clean_is("{\"\xe9t\xe9\":1}", "{\"\xef\xbf\xbdt\xef\xbf\xbd\":1}"));
	CHECK(clean_is("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", NULL));
	CHECK(clean_is("{\"a\":\"\xed\xa0\x80\xc0\xaf\"}",
	    "{\"a\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}"));
	CHECK(clean_is("{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\ufffdy\"}"));
	CHECK(clean_is("{\"a\":\"\\ud83d\\ude00\\u00e9\"}", NULL));
	CHECK(clean_is("{\"a\":\"\\ud83d-\\ude00\"}", "{\"a\":\"\\ufffd-\\ufffd\"}"));
	CHECK(xtlog_clean(nul, sizeof(nul) - 1, &out, &n) == 1 && n == 13 &&
	    !memcmp(out, "{\"a\":\"x\xef\xbf\xbdy\"}", 13));
	free(out);

	/* through the API: NaN in an event's data, stray bytes in names and values */
	fresh();
	CHECK(xtlog_event("ev", "{\"loss\": NaN, \"best\": -Infinity, \"n\": 2}") == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"ev\",\"data\":{\"loss\":\"NaN\",\"best\":\"-Infinity\",\"n\":2}}\n"));
	CHECK(xtlog_hparam_str("n\xff", "a\xc3z") == 0);
	CHECK(line_is("{\"time\":\"T\",\"event\":\"hparams\",\"data\":{\"n\xef\xbf\xbd\":\"a\xef\xbf\xbdz\"}}\n"));
	CHECK(xtlog_event("ev", "{\"s\":\"\\u0000\"}") == 0);
	o = NULL;
	CHECK(line_is("{\"time\":\"T\",\"event\":\"ev\",\"data\":{\"s\":\"\xef\xbf\xbd\"}}\n"));
	cJSON_Delete(o);
}

/* The limit: a line of XTLOG_LINE_MAX bytes (newline not counted) goes, one more does not. */
static void
test_limit(void)
{
	/* {"time":"...","event":"hparams","data":{"s":"..."}} around the value */
	size_t frame = strlen("{\"time\":\"2026-11-21T18:00:01.234Z\",\"event\":\"hparams\","
	    "\"data\":{\"s\":\"\"}}");
	char *v = xmalloc(XTLOG_LINE_MAX + 1);
	struct sbuf sb;

	fresh();
	memset(v, 'v', XTLOG_LINE_MAX);
	v[XTLOG_LINE_MAX - frame] = '\0';
	CHECK(xtlog_hparam_str("s", v) == 0);
	sbuf_init(&sb, 4 << 20);
	slurp(&sb);
	CHECK(sb.len == XTLOG_LINE_MAX + 1);
	fresh();
	v[XTLOG_LINE_MAX - frame] = 'v';
	v[XTLOG_LINE_MAX - frame + 1] = '\0';
	CHECK(xtlog_hparam_str("s", v) == -1 && errno == EMSGSIZE);
	slurp(&sb);
	CHECK(sb.len == 0);
	sbuf_release(&sb);
	free(v);
	fresh();
}

/*
 * A write that the disk cuts short leaves no part of its line: here the
 * file size limit (RLIMIT_FSIZE) cuts it, as a full disk would. In a child,
 * so that the limit ends with it.
 */
static void
test_full(void)
{
	pid_t pid;
	int st;

	fresh();
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 4096, RLIM_INFINITY };
		char big[3000];
		int fails = 0, fd;

		signal(SIGXFSZ, SIG_IGN);
		memset(big, 'b', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		fails += xtlog_hparam_str("one", big) != 0;
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(3);
		/* the second line crosses 4096 bytes: cut short, taken back */
		errno = 0;
		fails += !(xtlog_hparam_str("two", big) == -1 && errno == EFBIG);
		/* the raw protocol too, on a descriptor of one's own */
		rl.rlim_cur = 4096 + 2000;
		setrlimit(RLIMIT_FSIZE, &rl);
		fd = open(logpath, O_WRONLY | O_APPEND);
		fails += !(xtlog_append(fd, big, sizeof(big)) == -1 && errno == EFBIG);
		close(fd);
		rl.rlim_cur = RLIM_INFINITY;
		setrlimit(RLIMIT_FSIZE, &rl);
		fails += xtlog_metric("three", 3, 3) != 0;
		_exit(fails);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	{
		struct sbuf sb;
		char *p, *nl;
		int lines = 0, blank = 0, bad = 0;

		sbuf_init(&sb, 1 << 20);
		slurp(&sb);
		for (p = sb.buf; (nl = memchr(p, '\n', sb.len - (size_t)(p - sb.buf))); p = nl + 1) {
			cJSON *o;

			if (strspn(p, " ") == (size_t)(nl - p)) {
				blank++;
				continue;
			}
			o = cJSON_ParseWithLength(p, (size_t)(nl - p));
			lines++;
			bad += !o;
			cJSON_Delete(o);
		}
		/* what the cut writes left is one blank line each, never a torn one */
		CHECK(lines == 2 && bad == 0 && blank == 2 && p == sb.buf + sb.len);
		CHECK(strstr(sb.buf, "\"one\"") && strstr(sb.buf, "\"three\"") &&
		    !strstr(sb.buf, "\"two\""));
		if (!(lines == 2 && bad == 0 && blank == 2))
			printf("# %d lines, %d bad, %d blank\n", lines, bad, blank);
		sbuf_release(&sb);
	}
	fresh();
}


static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The events of the log at path, one letter each (m metrics, i invalid, e error, other: o) into out. */
static void
pump_events(const char *path, struct sbuf *out, long *steps, long *lost)
{
	struct sbuf sb;
	char *p, *nl;

	sbuf_init(&sb, (size_t)64 << 20);
	sbuf_reset(out);
	*steps = 0;
	*lost = 0;
	if (file_read(path, &sb) == 0) {
		for (p = sb.buf; (nl = memchr(p, '\n', sb.len - (size_t)(p - sb.buf))); p = nl + 1) {
			cJSON *o = cJSON_ParseWithLength(p, (size_t)(nl - p));
			const char *ev = json_str(o, "event");

			if (!ev)
				sbuf_addc(out, '?');
			else if (!strcmp(ev, "metrics"))
				(*steps)++;
			else if (!strcmp(ev, "error"))
				*lost += (long)json_num(cJSON_GetObjectItemCaseSensitive(o, "data"), "lines", 0);
			if (ev && strcmp(ev, "metrics"))
				sbuf_addc(out, ev[0]);
			cJSON_Delete(o);
		}
	}
	sbuf_release(&sb);
}

/*
 * The pump of xt-runq: lines cut anywhere between reads, a line over the
 * limit spread over many reads, blank lines, an unended last line; lines
 * kept while the store fails, and counted in an "error" event when too
 * many had to be dropped.
 */
static void
test_pump(const char *dir)
{
	char url[600], path[700], err[256], line[128];
	struct logpump lp;
	struct store *st;
	struct sbuf ev, big;
	cJSON *rec = cJSON_CreateObject();
	long steps, lost, i, n;
	size_t k;

	snprintf(url, sizeof(url), "%s/store", dir);
	snprintf(path, sizeof(path), "%s/ws/ws1/runs/run1/log.jsonl", url);
	CHECK((st = store_open(url, err, sizeof(err))) != NULL);
	if (!st)
		return;
	sbuf_init(&ev, 1 << 20);
	sbuf_init(&big, (size_t)8 << 20);
	logpump_init(&lp, st, "ws1", "run1");
	/* one byte at a time, then a line over the limit in pieces of 1000 */
	{
		const char *a = "{\"event\":\"metrics\",\"step\":1,\"data\":{\"a\":1}}\n  \n{\"event\":\"x\"}\n";

		n = 0;
		for (k = 0; a[k]; k++)
			n += logpump_feed(&lp, rec, a + k, 1);
		CHECK(n == 2);
	}
	sbuf_adds(&big, "{\"event\":\"big\",\"data\":{\"s\":\"");
	while (big.len < 3000000)
		sbuf_addc(&big, 'x');
	sbuf_adds(&big, "\"}}\n{\"event\":\"metrics\",\"step\":2,\"data\":{\"a\":2}}\n{\"event\":\"last\"}");
	n = 0;
	for (k = 0; k < big.len; k += 1000)
		n += logpump_feed(&lp, rec, big.buf + k, big.len - k < 1000 ? big.len - k : 1000);
	CHECK(n == 2);
	CHECK(logpump_end(&lp, rec) == 1 && logpump_end(&lp, rec) == 0);
	CHECK(logpump_flush(&lp) == 0);
	CHECK(json_num(rec, "step", -1) == 2);
	pump_events(path, &ev, &steps, &lost);
	CHECK(steps == 2 && !strcmp(ev.buf, "xil"));

	/* the store fails (log.jsonl is a folder): lines wait, then go */
	unlink(path);
	CHECK(mkdir(path, 0777) == 0);
	for (i = 0; i < 1000; i++) {
		n = snprintf(line, sizeof(line), "{\"event\":\"metrics\",\"step\":%ld,\"data\":{\"a\":1}}\n", i);
		logpump_feed(&lp, rec, line, (size_t)n);
	}
	CHECK(logpump_flush(&lp) == -1 && strstr(lp.err, "log.jsonl"));
	CHECK(logpump_flush(&lp) == -2);
	CHECK(rmdir(path) == 0);
	CHECK(logpump_flush(&lp) == 0);
	pump_events(path, &ev, &steps, &lost);
	CHECK(steps == 1000 && lost == 0 && ev.len == 0);

	/* past LOGPUMP_KEEP while it fails: dropped, and said so */
	unlink(path);
	CHECK(mkdir(path, 0777) == 0);
	for (i = 0; i < 200000; i++) {
		n = snprintf(line, sizeof(line), "{\"event\":\"metrics\",\"step\":%ld,\"data\":{\"a\":1}}\n", i);
		logpump_feed(&lp, rec, line, (size_t)n);
	}
	CHECK(rmdir(path) == 0);
	CHECK(logpump_flush(&lp) == 0);
	pump_events(path, &ev, &steps, &lost);
	CHECK(!strcmp(ev.buf, "e") && lost > 0 && steps + lost == 200000);
	if (steps + lost != 200000)
		printf("# %ld kept, %ld lost\n", steps, lost);
	CHECK(json_num(rec, "step", -1) == 199999);

	logpump_release(&lp);
	store_close(st);
	nftw(url, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	sbuf_release(&ev);
	sbuf_release(&big);
	cJSON_Delete(rec);
}

/* Random doubles of every magnitude come back exactly from their JSON. */
static void
test_roundtrip(void)
{
	struct sbuf sb;
	unsigned long long x = 88172645463325252ULL;
	double want[3000];
	int i, bad = 0, n = 0;
	char *s, *nl;

	for (i = 0; i < 3000; i++) {
		union { unsigned long long u; double d; } v;

		/* xorshift64: bit patterns, then some decimal-looking values */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v.u = x;
		if (i % 3 == 1)
			v.d = (double)(x % 100000) / 1000;
		else if (i % 3 == 2)
			v.d = (double)(x % 1000000007) * 1e-9;
		if (!isfinite(v.d))
			v.d = 1.5;
		want[i] = v.d;
		if (xtlog_metric("v", v.d, i) < 0)
			bad++;
	}
	CHECK(bad == 0);
	sbuf_init(&sb, 16 << 20);
	slurp(&sb);
	for (s = sb.buf; (nl = strchr(s, '\n')); s = nl + 1, n++) {
		cJSON *o = cJSON_ParseWithLength(s, (size_t)(nl - s));
		double got = json_num(cJSON_GetObjectItem(o, "data"), "v", NAN);

		if (n >= 3000 || memcmp(&got, &want[n], sizeof(got)) != 0) {
			if (bad++ < 3)
				printf("# line %d: %.*s (want %.17g)\n", n, (int)(nl - s), s,
				    n < 3000 ? want[n] : 0.0);
		}
		cJSON_Delete(o);
	}
	CHECK(n == 3000 && bad == 0);
	sbuf_release(&sb);
	fresh();
}

/* Significant digits of a number's text: "0.00120" 3, "1.5e-7" 2. */
static int
sig_digits(const char *s)
{
	int n = 0, lead = 1;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (lead && *s == '0')
			continue;
		lead = 0;
		n++;
	}
	return n;
}

/* Digits of the shortest of %.15g, %.16g, %.17g that reads back (cJSON's way). */
static int
ref_digits(double v)
{
	char buf[40];
	int k;

	for (k = 15; k < 17; k++) {
		snprintf(buf, sizeof(buf), "%.*g", k, v);
		if (strtod(buf, NULL) == v)
			return sig_digits(buf);
	}
	snprintf(buf, sizeof(buf), "%.17g", v);
	return sig_digits(buf);
}

/* xtlog_dtoa on v: reads back exactly, as a JSON number. 0, or 1 when wrong. */
static int
dtoa_bad(double v, size_t *longer)
{
	char buf[40], *end;
	const char *pend = NULL;
	cJSON *j;
	double back;
	size_t n = xtlog_dtoa(v, buf);
	int bad;

	back = strtod(buf, &end);
	j = cJSON_ParseWithLengthOpts(buf, n + 1, &pend, 1);
	bad = n != strlen(buf) || *end || memcmp(&back, &v, sizeof(v)) != 0 ||
	    !cJSON_IsNumber(j) || sig_digits(buf) > 17;
	cJSON_Delete(j);
	if (!bad && sig_digits(buf) > ref_digits(v))
		(*longer)++;
	if (bad)
		printf("# dtoa %.17g gave '%s'\n", v, buf);
	return bad;
}

static void
test_dtoa(void)
{
	static const double special[] = { 1, -1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1e-7, 1e21, 1e22,
		1e23, 123456789012345678.0, 9007199254740991.0, 9007199254740993.0, 5e-324,
		-5e-324, 2.2250738585072014e-308, 2.2250738585072009e-308, 1.7976931348623157e308,
		4.9406564584124654e-324, 0.6931471805599453, 3.141592653589793, 1e-5, 1e-6,
		123.456, 100, 1e15, 1e16, 1e17, 0.000123, 0.5, 0.25, 2.5e-5 };
	unsigned long long x = 0x9e3779b97f4a7c15ULL;
	size_t i, longer = 0;
	char buf[40];
	int bad = 0, e;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		bad += dtoa_bad(special[i], &longer);
	for (e = -1074; e <= 1023; e++)
		bad += dtoa_bad(ldexp(1, e), &longer) + dtoa_bad(ldexp(1.5, e - 1), &longer);
	for (e = -323; e <= 308; e++)
		bad += dtoa_bad(strtod((snprintf(buf, sizeof(buf), "1e%d", e), buf), NULL), &longer);
	for (i = 0; i < 200000; i++) {
		union { unsigned long long u; double d; } v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v.u = x;
		if (i % 2)
			v.d = (double)(x % 1000000) / 10000;
		if (isfinite(v.d))
			bad += dtoa_bad(v.d, &longer);
	}
	CHECK(bad == 0);
	/* Grisu2 may give one digit more than the shortest, rarely */
	CHECK(longer < 2000);
	printf("# %zu of ~200,000 not the shortest\n", longer);
	CHECK(xtlog_dtoa(NAN, buf) == 5 && !strcmp(buf, "\"NaN\""));
	CHECK(xtlog_dtoa(INFINITY, buf) == 10 && !strcmp(buf, "\"Infinity\""));
	CHECK(xtlog_dtoa(-INFINITY, buf) == 11 && !strcmp(buf, "\"-Infinity\""));
	CHECK(xtlog_dtoa(-0.0, buf) == 1 && !strcmp(buf, "0"));
	CHECK(xtlog_dtoa(0.1, buf) == 3 && !strcmp(buf, "0.1"));
	CHECK(xtlog_dtoa(-1234.5, buf) == 7 && !strcmp(buf, "-1234.5"));
	CHECK(xtlog_dtoa(1e21, buf) && !strcmp(buf, "1e+21"));
	CHECK(xtlog_dtoa(1e16, buf) && !strcmp(buf, "10000000000000000"));
	CHECK(xtlog_dtoa(1.5e-7, buf) && !strcmp(buf, "1.5e-7"));
	CHECK(xtlog_dtoa(0.000015, buf) && !strcmp(buf, "0.000015"));
	CHECK(xtlog_dtoa(5e-324, buf) && !strcmp(buf, "5e-324"));
	CHECK(xtlog_dtoa(1.7976931348623157e308, buf) && !strcmp(buf, "1.7976931348623157e+308"));
}

/*
 * Check the lines of the log: total lines, every one whole and valid,
 * from writers named by "p" (0..writers-1) each with steps 0..per-1 in order.
 */
static int
verify(int writers, int per)
{
	struct sbuf sb;
	long *next = xcalloc((size_t)writers, sizeof(*next));
	long n = 0, bad = 0;
	char *s, *nl;
	int i, ok;

	sbuf_init(&sb, (size_t)1 << 30);
	slurp(&sb);
	for (s = sb.buf; (nl = memchr(s, '\n', (size_t)(sb.buf + sb.len - s))); s = nl + 1) {
		cJSON *o = cJSON_ParseWithLength(s, (size_t)(nl - s));
		double p = json_num(cJSON_GetObjectItem(o, "data"), "p", -1);
		double step = json_num(o, "step", -1);

		n++;
		if (!o || !json_str(o, "time") || p < 0 || p >= writers || step != next[(int)p]) {
			if (bad++ < 3)
				printf("# bad line %ld: %.*s\n", n, (int)(nl - s), s);
		} else {
			next[(int)p]++;
		}
		cJSON_Delete(o);
	}
	ok = bad == 0 && n == (long)writers * per && s == sb.buf + sb.len;
	for (i = 0; i < writers; i++)
		ok = ok && next[i] == per;
	if (!ok)
		printf("# %ld lines, %ld bad, %zu bytes after the last newline\n", n, bad,
		    (size_t)(sb.buf + sb.len - s));
	free(next);
	sbuf_release(&sb);
	return ok;
}

static int
writer(long n, double tag)
{
	long i;

	for (i = 0; i < n; i++)
		if (xtlog_metric("p", tag, i) < 0)
			return 1;
	return 0;
}

static void *
thread_main(void *arg)
{
	return (void *)(long)writer(PER_THREAD, (double)(long)arg);
}

static void
test_many(void)
{
	pthread_t th[THREADS];
	int i, st, failed = 0;
	void *res;
	pid_t pid[PROCS];

	fresh();
	for (i = 0; i < PROCS; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			_exit(writer(PER_PROC, i));
		CHECK(pid[i] > 0);
	}
	for (i = 0; i < PROCS; i++)
		if (pid[i] > 0 && (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0))
			failed++;
	CHECK(failed == 0);
	CHECK(verify(PROCS, PER_PROC));

	/* threads share one descriptor, opened by whichever is first */
	fresh();
	for (i = 0; i < THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, thread_main, (void *)(long)i) == 0);
	for (i = 0; i < THREADS; i++)
		if (pthread_join(th[i], &res) != 0 || res != NULL)
			failed++;
	CHECK(failed == 0);
	CHECK(verify(THREADS, PER_THREAD));
	fresh();
}

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/u-xtlog.XXXXXX";
	int64_t n;
	double tag;

	if (argc == 4 && !strcmp(argv[1], "write")) {
		if (parse_i64(argv[2], 0, 1000000000, &n) < 0 || parse_double(argv[3], &tag) < 0) {
			fprintf(stderr, "usage: u-xtlog write N TAG\n");
			return 2;
		}
		if (writer((long)n, tag) != 0) {
			perror("u-xtlog: xtlog_metric");
			return 1;
		}
		return 0;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	test_dtoa();
	test_format();
	test_clean();
	test_limit();
	test_full();
	test_pump(dir);
	fresh();
	test_roundtrip();
	test_many();
	xtlog_close();
	unlink(logpath);
	rmdir(dir);
	return check_done();
}
