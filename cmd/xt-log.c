/*
 * xt-log: write a run's events (metrics, hparams, tags, any event) and
 * read them back. Inside a run the lines go to $XT_LOG, which xt-runq
 * forwards into the store; outside, -r RUN appends them to the run's log in
 * the store and folds them into its record. show and out print a run's
 * event log and console, and follow them (-f) until the run ends; given a
 * job or a parent run, those of all its runs, each line after "RUN: ".
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "json.h"
#include "name.h"
#include "run.h"
#include "tool.h"
#include "xtlog.h"
#include "banned.h"

#define CHUNK ((int64_t)1 << 20)
#define STEP_MAX ((int64_t)1 << 53)
#define MAX_BAD 20		/* bad input lines reported one by one */
#define POLL_NS 150000000L	/* between polls of a followed run */

static const char usage_text[] =
    "usage: xt-log [-r RUN] metric [--step N] NAME=NUMBER...\n"
    "       xt-log [-r RUN] hparam NAME=VALUE...\n"
    "       xt-log [-r RUN] tag NAME[=VALUE]...\n"
    "       xt-log [-r RUN] event EVENT [NAME=VALUE...]\n"
    "       xt-log [-r RUN] - | raw         JSON lines from standard input\n"
    "       xt-log show RUN|JOB [-e EVENT]... [-f]\n"
    "       xt-log out RUN|JOB [-f]\n"
    "options: -s STORE  -w WORKSPACE  -f (follow until the run, or every run of the job, ends)\n"
    "Inside a run events go to $XT_LOG; elsewhere -r RUN names the run.\n";

static void
check_name(const char *what, const char *s)
{
	char why[256];

	if (name_check(s, why, sizeof(why)) < 0)
		die_status(EXIT_USAGE, "%s '%s' %s", what, s, why);
}

/* A new line {"time","event",["step"]} for the batch; the caller adds "data". */
static cJSON *
line_new(cJSON *batch, const char *event, int64_t step)
{
	cJSON *o = cJSON_CreateObject();
	char t[32];

	time_iso(time_now_ms(), t, sizeof(t));
	json_set_str(o, "time", t);
	json_set_str(o, "event", event);
	if (step >= 0)
		json_set_num(o, "step", (double)step);
	cJSON_AddItemToArray(batch, o);
	return o;
}

/*
 * A metric's value: a number, or NaN, inf, -inf, Infinity, -Infinity (in
 * any case, as C and Python print them) as the strings "NaN", "Infinity",
 * "-Infinity" that stand for them in a log. v is consumed.
 */
static cJSON *
metric_value(cJSON *v, const char *name, const char *text)
{
	double d;

	if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
		return v;
	cJSON_Delete(v);
	if (parse_double(text, &d) < 0 || isfinite(d))
		die_status(EXIT_USAGE, "metric '%s': '%s' is not a number", name, text);
	return cJSON_CreateString(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
}

/* The data of NAME=VALUE operands: numbers only for metrics, NAME alone for tags. */
static cJSON *
assigns(char **argv, int argc, const char *kind)
{
	cJSON *data = cJSON_CreateObject(), *v;
	char *name;
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(kind, "tags") && !strchr(argv[i], '=')) {
			check_name("tag", argv[i]);
			json_set(data, argv[i], cJSON_CreateTrue());
			continue;
		}
		if (!(v = json_parse_assign(argv[i], &name)))
			die_status(EXIT_USAGE, "expected NAME=VALUE, not '%s'", argv[i]);
		if (!strcmp(kind, "tags"))
			check_name("tag", name);
		if (!strcmp(kind, "metrics"))
			v = metric_value(v, name, strchr(argv[i], '=') + 1);
		json_set(data, name, v);
		free(name);
	}
	return data;
}

/* Read standard input whole; every line must pass run_check_line. */
static void
read_stdin(cJSON *batch)
{
	struct jsonl_reader r;
	char err[512];
	long bad = 0;
	cJSON *o;
	int rc;

	jsonl_init(&r, stdin, "<stdin>", XTLOG_LINE_MAX);
	while ((rc = jsonl_getline(&r)) != 0) {
		if (rc < 0) {
			warnx("%s", r.err);
			bad++;
			break;
		}
		if (r.line.buf[strspn(r.line.buf, " \t")] == '\0')
			continue;
		if ((o = run_check_line(r.line.buf, r.line.len, err, sizeof(err)))) {
			cJSON_AddItemToArray(batch, o);
		} else if (++bad <= MAX_BAD) {
			warnx("<stdin>:%ld: %s", r.lineno, err);
		}
	}
	jsonl_release(&r);
	if (bad > MAX_BAD)
		warnx("<stdin>: %ld more bad lines", bad - MAX_BAD);
	if (bad)
		die("nothing appended: %ld bad line%s", bad, bad == 1 ? "" : "s");
}

/*
 * The batch as JSON lines (caller frees). A line made from the command
 * line's bytes that are not UTF-8 is made valid (U+FFFD), in the text and
 * in the batch, which is folded into the record.
 */
static char *
batch_text(cJSON *batch, size_t *len)
{
	struct sbuf sb;
	cJSON *o, *fixed;
	size_t n, cn;
	char *s, *clean;

	sbuf_init(&sb, SBUF_MAX_DEFAULT);
	cJSON_ArrayForEach(o, batch) {
		s = json_line(o, &n);
		if (xtlog_clean(s, n, &clean, &cn) < 0)
			die("out of memory");
		if (clean) {
			free(s);
			s = clean;
			n = cn;
			if (!(fixed = cJSON_ParseWithLength(s, n)))
				die("out of memory");
			cJSON_ReplaceItemViaPointer(batch, o, fixed);
			o = fixed;
		}
		if (n - 1 > XTLOG_LINE_MAX)
			die("line of %zu bytes is over the limit of 1 MiB: nothing appended", n - 1);
		if (sbuf_add(&sb, s, n) < 0)
			die("input larger than %zu bytes: nothing appended", sb.max);
		free(s);
	}
	return sbuf_detach(&sb, len);
}

static int
fold_batch(cJSON *rec, void *arg)
{
	const cJSON *o;

	cJSON_ArrayForEach(o, (const cJSON *)arg)
		run_fold(rec, o);
	return 0;
}

/* Append to the run's log in the store, then fold the lines into its record. */
static void
to_store(const char *run, const cJSON *batch, const char *text, size_t len)
{
	struct store *st = tool_store();
	const char *ws = tool_workspace(), *ev;
	const cJSON *o;
	char *p;
	int fold = 0, index = 0;

	/* a deferred record is made first: its first events come before these */
	if (run_make(st, ws, run) < 0)
		die("%s", store_error(st));
	p = run_path(ws, run, "log.jsonl");
	if (store_append(st, p, text, len) < 0)
		die("%s", store_error(st));
	free(p);
	cJSON_ArrayForEach(o, batch) {
		ev = json_str(o, "event");
		fold |= !strcmp(ev, "metrics");
		index |= !strcmp(ev, "hparams") || !strcmp(ev, "tags");
	}
	/* folded into the record as it is then, whoever else writes it */
	if ((fold || index) && run_update(st, ws, run, index ? RUN_INDEX : 0, fold_batch,
	    (void *)batch, NULL) < 0)
		die("%s", store_error(st));
	store_close(st);
}

static int
do_write(const char *cmd, char **argv, int argc, const char *run, int64_t step)
{
	cJSON *batch = cJSON_CreateArray();
	const char *xl = getenv("XT_LOG");
	size_t len;
	char *text;

	if (!run && (!xl || !*xl))
		die_status(EXIT_USAGE, "no run to log to: use -r RUN, or run inside xt-runq "
		    "(which sets XT_LOG)");
	if (run)
		check_name("run", run);
	if (!strcmp(cmd, "-") || !strcmp(cmd, "raw")) {
		if (argc)
			tool_usage_error(usage_text, "'%s' reads standard input: no operands", cmd);
		read_stdin(batch);
	} else if (!strcmp(cmd, "event")) {
		if (argc < 1)
			tool_usage_error(usage_text, "event: missing EVENT");
		check_name("event", argv[0]);
		/* an event named like a built-in one ("metrics") obeys its rules */
		json_set(line_new(batch, argv[0], -1), "data", assigns(argv + 1, argc - 1, argv[0]));
	} else {
		const char *ev = !strcmp(cmd, "metric") ? "metrics" : !strcmp(cmd, "hparam")
		    ? "hparams" : "tags";

		if (argc < 1)
			tool_usage_error(usage_text, "%s: missing NAME=VALUE", cmd);
		json_set(line_new(batch, ev, step), "data", assigns(argv, argc, ev));
	}
	text = batch_text(batch, &len);
	if (len && run)
		to_store(run, batch, text, len);
	else if (len && xtlog_write(text, len) < 0)
		die("cannot append to '%s':", xl);
	xtlog_close();
	free(text);
	cJSON_Delete(batch);
	return 0;
}

static int
wanted(const char *line, size_t len, char **events, int nev, const char *path, long lineno)
{
	cJSON *o;
	const char *ev;
	int i, yes = 0;

	if (!nev)
		return 1;
	if (!(o = cJSON_ParseWithLength(line, len)) || !(ev = json_str(o, "event"))) {
		warnx("%s:%ld: not an event line", path, lineno);
		cJSON_Delete(o);
		return 0;
	}
	for (i = 0; i < nev && !yes; i++)
		yes = !strcmp(ev, events[i]);
	cJSON_Delete(o);
	return yes;
}

struct reader {
	struct store *st;
	char *path;
	const char *prefix;	/* "NAME: " before each line (a job's run), or NULL */
	int lines;		/* print whole lines only, filtered (the log, or a prefixed console) */
	int console;		/* the console, not the log */
	char **events;
	int nev;
	int64_t off;		/* what was read so far */
	long lineno;
	struct sbuf pend;	/* read, not yet printed: the start of a line */
};

/* Print the whole lines of pend (at the end, also a last unfinished one). */
static void
print_lines(struct reader *rd, int end)
{
	char *s = rd->pend.buf, *e = s + rd->pend.len, *nl;

	while (s < e && ((nl = memchr(s, '\n', (size_t)(e - s))) || end)) {
		size_t n = nl ? (size_t)(nl - s) : (size_t)(e - s);

		rd->lineno++;
		/* a log line of blanks is what a full disk left of a cut append (xt.7) */
		if (!rd->console && n == strspn(s, " \t\r")) {
			s += n + (nl != NULL);
			continue;
		}
		if (wanted(s, n, rd->events, rd->nev, rd->path, rd->lineno) &&
		    ((rd->prefix && fputs(rd->prefix, stdout) == EOF) ||
		    fwrite(s, 1, n, stdout) != n || putchar('\n') == EOF))
			die("error writing to standard output:");
		s += n + (nl != NULL);
	}
	memmove(rd->pend.buf, s, (size_t)(e - s));
	rd->pend.len = (size_t)(e - s);
}

/* Print what the object holds past the last read. Missing means empty. 0 or -1. */
static int
drain(struct reader *rd, struct sbuf *sb)
{
	int rc;

	do {
		rc = store_get(rd->st, rd->path, rd->off, CHUNK, sb);
		if (rc == STORE_ENOENT)
			return 0;
		if (rc < 0) {
			warnx("%s", store_error(rd->st));
			return -1;
		}
		rd->off += (int64_t)sb->len;
		if (!rd->lines) {
			if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len)
				die("error writing to standard output:");
			continue;
		}
		/* a console line too long to hold is cut where the buffer is full */
		if (rd->console && rd->pend.len + sb->len > rd->pend.max)
			print_lines(rd, 1);
		if (sbuf_add(&rd->pend, sb->buf, sb->len) < 0)
			die("'%s': a line longer than %zu bytes", rd->path, JSONL_MAX_LINE);
		print_lines(rd, 0);
	} while ((int64_t)sb->len == CHUNK);
	return 0;
}

static void
reader_init(struct reader *rd, struct store *st, const char *ws, const char *cmd,
    const char *run, const char *prefix, char **events, int nev)
{
	memset(rd, 0, sizeof(*rd));
	rd->st = st;
	rd->console = strcmp(cmd, "show") != 0;
	rd->lines = !rd->console || prefix;
	rd->path = run_path(ws, run, rd->console ? "output.txt" : "log.jsonl");
	rd->prefix = prefix;
	rd->events = events;
	rd->nev = nev;
	sbuf_init(&rd->pend, JSONL_MAX_LINE + CHUNK);
}

static void
reader_release(struct reader *rd)
{
	sbuf_release(&rd->pend);
	free(rd->path);
}

static int
do_read(const char *cmd, const char *run, char **events, int nev, int follow)
{
	struct timespec pause = { 0, POLL_NS };
	struct reader rd;
	struct sbuf sb;
	const char *ws = tool_workspace();
	cJSON *rec;
	int rc, final, ret = 0;

	reader_init(&rd, tool_store(), ws, cmd, run, NULL, events, nev);
	sbuf_init(&sb, CHUNK);
	for (;;) {
		/* the status first: what was written before the run ended is then read below */
		if (!(rec = run_load(rd.st, ws, run, &rc))) {
			warnx("%s", store_error(rd.st));
			ret = 1;
			break;
		}
		final = run_status_final(json_str(rec, "status"));
		cJSON_Delete(rec);
		if (drain(&rd, &sb) < 0) {
			ret = 1;
			break;
		}
		if (!follow || final)
			break;
		if (fflush(stdout) != 0)
			die("error writing to standard output:");
		nanosleep(&pause, NULL);
	}
	print_lines(&rd, 1);
	sbuf_release(&sb);
	store_close(rd.st);
	reader_release(&rd);
	return ret;
}

/* One run of a followed job. */
struct jrun {
	char *name, *prefix;
	struct reader rd;
	int ended;
};

struct job {
	struct jrun *run;
	int n;
	int known;		/* the runs are known (a job being allocated has none yet) */
};

static void
job_add(struct job *j, struct store *st, const char *ws, const char *cmd, const char *run,
    char **events, int nev)
{
	struct jrun *r;

	j->run = xrealloc(j->run, (size_t)(j->n + 1) * sizeof(*j->run));
	r = &j->run[j->n++];
	r->name = xstrdup(run);
	r->prefix = xasprintf("%s: ", run);
	r->ended = 0;
	reader_init(&r->rd, st, ws, cmd, run, r->prefix, events, nev);
}

/*
 * Learn the runs of the job or parent run name, once they are known: a
 * job's "runs", a parent's children name.1 ... name.K. 1 when name is one
 * of those (the runs may not be known yet), 0 when it is a plain run, -1
 * after a message when there is no such job or run. The runs' readers use
 * st.
 */
static int
job_runs(struct store *st, const char *ws, const char *cmd, const char *name, char **events,
    int nev, struct job *j)
{
	const cJSON *it;
	cJSON *rec;
	long n, k, kk;
	int rc;

	if (name_parse_job(name, &n)) {
		if (!(rec = run_job_load(st, ws, name))) {
			warnx("no job '%s' in workspace '%s'", name, ws);
			return -1;
		}
		if (cJSON_IsArray(it = cJSON_GetObjectItemCaseSensitive(rec, "runs"))) {
			j->known = 1;
			cJSON_ArrayForEach(it, it)
				if (cJSON_IsString(it) && name_check(it->valuestring, NULL, 0) == 0)
					job_add(j, st, ws, cmd, it->valuestring, events, nev);
		}
		cJSON_Delete(rec);
		return 1;
	}
	if (!(rec = run_load(st, ws, name, &rc))) {
		warnx("%s", store_error(st));
		return -1;
	}
	if ((n = (long)json_num(rec, "children", 0)) <= 0 || !name_parse_run(name, &k, &kk) ||
	    kk != 0) {
		cJSON_Delete(rec);
		return 0;
	}
	j->known = 1;
	for (long i = 1; i <= n; i++) {
		char *child = xasprintf("%s.%ld", name, i);

		job_add(j, st, ws, cmd, child, events, nev);
		free(child);
	}
	cJSON_Delete(rec);
	return 1;
}

/*
 * show or out of every run of the job (or parent run) name, in run order,
 * each line after "RUN: "; with follow, poll them all until every run of
 * the job has ended.
 */
static int
do_read_job(struct store *st, struct job *j, const char *cmd, const char *name, char **events,
    int nev, int follow)
{
	struct timespec pause = { 0, POLL_NS };
	const char *ws = tool_workspace();
	struct sbuf sb;
	int ret = 0, all;

	sbuf_init(&sb, CHUNK);
	for (;;) {
		if (!j->known && job_runs(st, ws, cmd, name, events, nev, j) < 0) {
			ret = 1;
			break;
		}
		all = j->known;
		for (int i = 0; i < j->n; i++) {
			struct jrun *r = &j->run[i];
			cJSON *rec;
			int rc;

			if (r->ended)
				continue;
			/* the status first, then what was written before it */
			if (!(rec = run_load(st, ws, r->name, &rc)) && rc != STORE_ENOENT) {
				warnx("%s", store_error(st));
				ret = 1;
				goto out;
			}
			r->ended = rec && run_status_final(json_str(rec, "status"));
			cJSON_Delete(rec);
			if (drain(&r->rd, &sb) < 0) {
				ret = 1;
				goto out;
			}
			if (r->ended || !follow)
				print_lines(&r->rd, 1);
			all &= r->ended;
		}
		if (!follow || all)
			break;
		if (fflush(stdout) != 0)
			die("error writing to standard output:");
		nanosleep(&pause, NULL);
	}
out:
	for (int i = 0; i < j->n; i++) {
		print_lines(&j->run[i].rd, 1);
		reader_release(&j->run[i].rd);
		free(j->run[i].name);
		free(j->run[i].prefix);
	}
	free(j->run);
	sbuf_release(&sb);
	return ret;
}

static int
read_cmd(const char *cmd, const char *name, char **events, int nev, int follow)
{
	struct job j = { 0 };
	struct store *st;
	char *nm;
	long n;
	int kind, ret = 0;

	/* '$lastrun' and '$lastjob' need the store; other names are checked first */
	if (name[0] != '$')
		check_name(name_parse_job(name, &n) ? "job" : "run", name);
	st = tool_store();
	nm = tool_name(st, tool_workspace(), name);
	check_name(name_parse_job(nm, &n) ? "job" : "run", nm);
	kind = job_runs(st, tool_workspace(), cmd, nm, events, nev, &j);
	if (kind > 0)
		ret = do_read_job(st, &j, cmd, nm, events, nev, follow);
	store_close(st);
	if (kind == 0)
		ret = do_read(cmd, nm, events, nev, follow);
	free(nm);
	return kind < 0 ? 1 : ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run", required_argument, 0, 'r' },
		{ "store", required_argument, 0, 's' },
		{ "workspace", required_argument, 0, 'w' },
		{ "step", required_argument, 0, 'n' },
		{ "event", required_argument, 0, 'e' },
		{ "follow", no_argument, 0, 'f' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	char **events = xcalloc((size_t)argc, sizeof(*events)), *run = NULL, *cmd;
	int c, nev = 0, follow = 0, ret;
	int64_t step = -1;

	tool_init(argc, argv);
	while ((c = getopt_long(argc, argv, "r:s:w:e:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': run = optarg; break;
		case 's': config_set("store", optarg); break;
		case 'w': config_set("workspace", optarg); break;
		case 'n': step = opt_i64("--step", optarg, 0, STEP_MAX); break;
		case 'e': check_name("event", optarg); events[nev++] = optarg; break;
		case 'f': follow = 1; break;
		case 'h':
			free(events);
			config_release();
			tool_help(usage_text);
		default: tool_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		tool_usage_error(usage_text, "missing command");
	cmd = *argv++;
	argc--;
	if (!strcmp(cmd, "show") || !strcmp(cmd, "out")) {
		if (step >= 0)
			tool_usage_error(usage_text, "--step goes with metric");
		if (nev && cmd[0] == 'o')
			tool_usage_error(usage_text, "out: -e goes with show");
		if (argc > 1 || (argc == 1 && run))
			tool_usage_error(usage_text, "%s: one RUN or JOB, as an operand or -r", cmd);
		if (argc == 0 && !run)
			tool_usage_error(usage_text, "%s: missing RUN or JOB", cmd);
		ret = read_cmd(cmd, argc ? argv[0] : run, events, nev, follow);
	} else if (!strcmp(cmd, "metric") || !strcmp(cmd, "hparam") || !strcmp(cmd, "tag") ||
	    !strcmp(cmd, "event") || !strcmp(cmd, "raw") || !strcmp(cmd, "-")) {
		if (nev || follow)
			tool_usage_error(usage_text, "%s goes with show%s", nev ? "-e" : "-f",
			    nev ? "" : " and out");
		if (step >= 0 && strcmp(cmd, "metric") != 0)
			tool_usage_error(usage_text, "--step goes with metric");
		ret = do_write(cmd, argv, argc, run, step);
	} else {
		die_status(EXIT_USAGE, "unknown command '%s'; 'xt-log --help' lists them", cmd);
	}
	free(events);
	config_release();
	stdout_close();
	return ret;
}
