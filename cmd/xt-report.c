/*
 * xt-report: query runs and jobs. Reads the workspace's run index (folded
 * to the latest record of each run) or run records on standard input
 * ("-"), selects, filters, sorts, shapes and groups them, and writes a
 * table, JSON lines, CSV, TSV or Markdown. "jobs" reports per job, "show"
 * tells one run's story, "plot" draws metrics from the runs' logs.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart.h"
#include "config.h"
#include "json.h"
#include "index.h"
#include "mongoidx.h"
#include "mongoq.h"
#include "report.h"
#include "run.h"
#include "show.h"
#include "target.h"
#include "tool.h"
#include "banned.h"

#define CHUNK ((size_t)1 << 20)

static const char usage_text[] =
    "usage: xt-report [RUN...|-] [selection] [shaping] [output]\n"
    "       xt-report jobs [JOB...] [selection] [--metric NAME] [--goal max|min] [output]\n"
    "       xt-report show RUN [-n LINES] [--json]\n"
    "       xt-report plot METRIC... [RUN...|-] [selection] [plot options]\n"
    "RUN: run7, run5-run9, 'run7.*', lists with commas; - reads run records from stdin\n"
    "selection: -w WS  -e EXP  -j JOB  --status S  --tag NAME[=VALUE]  --where EXPR\n"
    "shaping:   --sort [-]COL  --first N  --last N  -c COL[=Header][:format],...\n"
    "           --group COL  --available  --parents\n"
    "output:    --json  --csv  --tsv  --md  --max-width N  --precision N\n"
    "plot:      -o FILE.svg | --term  --x step|time  --smooth F  --agg mean|median\n"
    "           --band std|minmax|sem|none  --break-on run|COL  --layout RxC\n"
    "           --legend TEMPLATE  --vs COL (scatter)  --xlog|--no-xlog  --ylog\n"
    "           --title T  --size WxH  --ascii  --color|--no-color\n"
    "other:     -s STORE  --compact (compact the index first)  --no-poll (not Slurm's status)\n"
    "index:     --index URL|store  --index-status  --index-flush  --reindex\n";

static void
opt_ok(struct report *r, int rc)
{
	if (rc < 0)
		die_status(EXIT_USAGE, "%s", r->err);
}

/* Records taken together (report_lines), with their line numbers. */
struct batch {
	const char **line;
	size_t *len, n, cap;
	long *lineno;
};

static void
batch_add(struct batch *b, const char *line, size_t len, long lineno)
{
	if (b->n == b->cap) {
		b->cap = b->cap * 2 + 1024;
		b->line = xrealloc(b->line, b->cap * sizeof(*b->line));
		b->len = xrealloc(b->len, b->cap * sizeof(*b->len));
		b->lineno = xrealloc(b->lineno, b->cap * sizeof(*b->lineno));
	}
	b->line[b->n] = line;
	b->len[b->n] = len;
	b->lineno[b->n++] = lineno;
}

/* Feed the batch to the report and empty it; die naming the line of a bad record in name. */
static void
batch_feed(struct report *r, struct batch *b, const char *name)
{
	size_t bad;

	if (b->n && report_lines(r, b->line, b->len, b->n, &bad) < 0)
		die("%s:%ld:%s", name, b->lineno[bad], r->err + strlen("column "));
	b->n = 0;
}

static void
batch_release(struct batch *b)
{
	free(b->line);
	free(b->len);
	free(b->lineno);
}

/* Feed every line of fp to the report; die naming the line of a bad one. */
static void
read_stream(struct report *r, FILE *fp, const char *name)
{
	struct sbuf sb;
	struct batch b = { 0 };
	size_t start = 0;
	long lineno = 0;

	sbuf_init(&sb, JSONL_MAX_LINE + CHUNK);
	for (;;) {
		char *nl;
		size_t got;

		if (sb.cap - sb.len < CHUNK) {
			/* keep the unfinished line, drop what was read */
			memmove(sb.buf, sb.buf + start, sb.len - start);
			sb.len -= start;
			start = 0;
			if (sb.len > JSONL_MAX_LINE)
				die("%s:%ld: line longer than %zu bytes", name, lineno + 1, JSONL_MAX_LINE);
			if (sb.cap - sb.len < CHUNK) {
				sb.buf = xrealloc(sb.buf, sb.len + CHUNK + 1);
				sb.cap = sb.len + CHUNK;
			}
		}
		got = fread(sb.buf + sb.len, 1, CHUNK, fp);
		sb.len += got;
		sb.buf[sb.len] = '\0';
		while ((nl = memchr(sb.buf + start, '\n', sb.len - start)) || (got == 0 && start < sb.len)) {
			size_t len = nl ? (size_t)(nl - sb.buf) - start : sb.len - start;
			const char *line = sb.buf + start;

			lineno++;
			start += len + (nl != NULL);
			if (len && line[len - 1] == '\r')
				len--;
			if (strspn(line, " \t") >= len)
				continue;
			batch_add(&b, line, len, lineno);
		}
		/* the lines read so far, before the buffer moves */
		batch_feed(r, &b, name);
		if (got == 0)
			break;
	}
	if (ferror(fp))
		die("cannot read %s:", name);
	batch_release(&b);
	sbuf_release(&sb);
}

/* Read the index at path into sb (initialized here) and fold it (index_fold); die on an error. */
static struct index_line *
fold_index(struct store *st, const char *path, struct sbuf *sb, size_t *n, size_t *nl)
{
	struct index_line *l = NULL;
	char err[1024];
	int rc;

	sbuf_init(sb, (size_t)8 << 30);
	rc = store_get(st, path, 0, -1, sb);
	if (rc < 0 && rc != STORE_ENOENT)
		die("%s", store_error(st));
	if (index_fold(sb->buf, sb->len, path, &l, n, nl, err, sizeof(err)) < 0)
		die("%s", err);
	return l;
}

static void
poll_warn(const char *target, const char *msg, void *arg)
{
	(void)arg;
	warnx("target '%s': its runs are shown as last recorded: %s", target, msg);
}

/*
 * Feed the workspace's folded index; compact it when it has grown (or
 * when asked). With poll, the runs of Slurm targets in it are polled
 * first, so that one Slurm lost is shown as it ended although no xt-runq
 * ls looked; it is read again only when the poll recorded some.
 */
static int compact_failed;	/* a --compact asked for did not succeed */

static void
read_index(struct report *r, struct store *st, const char *ws, int compact, int poll)
{
	char *path = run_index_path(ws), err[1024];
	size_t n = 0, nl = 0, i;
	struct batch b = { 0 };
	struct sbuf sb;
	struct index_line *l = fold_index(st, path, &sb, &n, &nl);

	if (poll && target_settle(st, ws, sb.buf, l, n, poll_warn, NULL) > 0) {
		free(l);
		sbuf_release(&sb);
		l = fold_index(st, path, &sb, &n, &nl);
	}
	/* the report itself is still right; a --compact that failed fails the tool */
	if ((compact || index_grown(nl, n)) && index_compact(st, ws, err, sizeof(err)) < 0) {
		warnx("%s", err);
		compact_failed = compact;
	}
	for (i = 0; i < n; i++)
		batch_add(&b, sb.buf + l[i].off, l[i].len, l[i].lineno);
	batch_feed(r, &b, path);	/* report_lines takes them a window at a time */
	batch_release(&b);
	free(l);
	sbuf_release(&sb);
	free(path);
}

#define INDEX_TIMEOUT_MS 3000

struct feed {
	struct report *r;
	long fed;
	int cut;	/* stop once no later record can be kept */
};

static int
feed_doc(const char *line, size_t len, void *arg)
{
	struct feed *f = arg;

	f->fed++;
	if (report_line(f->r, line, len) < 0)
		die("index %s: a document that is not a record: %s", mongoidx_url(), f->r->err);
	return f->cut && report_past(f->r);
}

/* Feed what filter (freed here) matches, in the order of sort (freed; NULL: as first indexed). */
static int
feed_part(struct mongoidx *m, cJSON *filter, cJSON *sort, const cJSON *proj, struct feed *fd,
    char *err, size_t errlen)
{
	cJSON *opts = cJSON_CreateObject();
	char *fs, *os;
	int rc;

	if (!sort) {
		sort = cJSON_CreateObject();
		cJSON_AddNumberToObject(sort, "_id", 1);
	}
	cJSON_AddItemToObject(opts, "sort", sort);
	if (proj) {
		cJSON_AddItemToObject(opts, "projection", cJSON_Duplicate(proj, 1));
	} else {
		cJSON *p = cJSON_AddObjectToObject(opts, "projection");

		cJSON_AddNumberToObject(p, "_id", 0);
	}
	fs = cJSON_PrintUnformatted(filter);
	os = cJSON_PrintUnformatted(opts);
	rc = mongoidx_find(m, fs, os, feed_doc, fd, err, errlen);
	free(fs);
	free(os);
	cJSON_Delete(filter);
	cJSON_Delete(opts);
	return rc < 0 ? -1 : 0;
}

/*
 * Feed the records of the workspace from the MongoDB index: the database
 * selects by the report's filter as far as it translates and sends only
 * the fields the report reads; the report engine does the rest.
 * XT_INDEX_PUSHDOWN=sort has the database cut a --sort --first or --last
 * report short too (mongoq.h: two queries and a sort, which pay on a
 * server with indexes, not on the tests' server, which scans the whole
 * collection for each); =none fetches every record of the workspace.
 * 0, or -1 (warned) when the database does not answer: the store's index
 * is read instead.
 */
static int
read_mongo(struct report *r)
{
	const char *how = getenv("XT_INDEX_PUSHDOWN"), *key = NULL;
	struct feed fd = { r, 0, 0 };
	char err[1024];
	struct mongoidx *m;
	cJSON *f, *proj = NULL;
	size_t sent;
	int rc, desc = 0;

	/* this machine's changes first; if they cannot go, the database is behind */
	if (mongoidx_flush(INDEX_TIMEOUT_MS, &sent, err, sizeof(err)) < 0 ||
	    !(m = mongoidx_open(mongoidx_url(), INDEX_TIMEOUT_MS, err, sizeof(err)))) {
		warnx("%s (the outbox keeps the changes; this report reads the store's index)", err);
		return -1;
	}
	if (how && !strcmp(how, "none")) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "ws", tool_workspace());
	} else {
		const char *ix[4];
		size_t nix, i;

		f = mongoq_filter(r, tool_workspace());
		r->where_done = r->nwhere > 0;
		proj = mongoq_projection(r);
		if (how && !strcmp(how, "sort"))
			key = mongoq_sort_key(r, &desc);
		/* the sort key's only when the database sorts; without them it all
		 * works, and a login that may only read cannot make them */
		nix = mongoq_index_fields(r, key != NULL, ix, 4);
		for (i = 0; i < nix; i++)
			mongoidx_field_index(m, ix[i], err, sizeof(err));
	}
	if (key) {
		rc = feed_part(m, mongoq_part(f, key, MONGOQ_OTHERS), NULL, proj, &fd, err,
		    sizeof(err));
		fd.cut = 1;
		if (rc == 0)
			rc = feed_part(m, mongoq_part(f, key, MONGOQ_NUMBERS),
			    mongoq_part_sort(key, r->last ? !desc : desc), proj, &fd, err, sizeof(err));
		fd.cut = 0;
		cJSON_Delete(f);
	} else {
		rc = feed_part(m, f, NULL, proj, &fd, err, sizeof(err));
	}
	cJSON_Delete(proj);
	mongoidx_close(m);
	if (rc < 0) {
		if (fd.fed)	/* a report of part of them would mislead */
			die("%s", err);
		warnx("%s (this report reads the store's index)", err);
		r->where_done = 0;
		return -1;
	}
	return 0;
}

/*
 * The records to report: stdin when "-" is among the names, else the
 * index, after the runs of Slurm targets were polled (unless no_poll).
 */
static void
read_records(struct report *r, int from_stdin, int compact, int no_poll)
{
	struct store *st;

	if (from_stdin) {
		read_stream(r, stdin, "<stdin>");
		return;
	}
	st = tool_store();
	if (!mongoidx_url()) {
		read_index(r, st, tool_workspace(), compact, !no_poll);
	} else {
		/* the runs to poll are in the store's index, which is read for them alone */
		if (!no_poll)
			target_settle(st, tool_workspace(), NULL, NULL, 0, poll_warn, NULL);
		if (read_mongo(r) != 0)
			read_index(r, st, tool_workspace(), compact, 0);
	}
	store_close(st);
}

/* --index-flush: send the outbox; 1 when the database did not take it. */
static int
index_flush(void)
{
	char err[1024];
	size_t sent;

	if (!mongoidx_url())
		die_status(EXIT_USAGE, "no index is configured (index:, XT_INDEX, --index)");
	if (mongoidx_flush(INDEX_TIMEOUT_MS, &sent, err, sizeof(err)) < 0) {
		warnx("%s (%zu records sent; the rest wait in the outbox)", err, sent);
		return 1;
	}
	if (!sent) {	/* nothing to send: still say whether the database answers */
		struct mongoidx *m = mongoidx_open(mongoidx_url(), INDEX_TIMEOUT_MS, err, sizeof(err));

		if (!m) {
			warnx("%s", err);
			return 1;
		}
		mongoidx_close(m);
	}
	printf("index: %zu records sent, outbox empty\n", sent);
	return 0;
}

/* --index-status: the outbox's backlog and the database's state; 1 when it does not answer. */
static int
index_status(void)
{
	struct mongoidx_backlog b;
	struct mongoidx *m;
	char err[1024], *pub;
	int64_t runs, jobs;

	if (mongoidx_backlog(&b, err, sizeof(err)) < 0)
		die_status(EXIT_USAGE, "%s", err);
	pub = url_public(mongoidx_url());
	printf("index: %s\n", pub);
	free(pub);
	printf("outbox: %zu records in %zu segments", b.lines, b.segments);
	if (b.oldest_ms)
		printf(", oldest %llds old", (long long)((time_now_ms() - b.oldest_ms) / 1000));
	printf("\n");
	if (!(m = mongoidx_open(mongoidx_url(), INDEX_TIMEOUT_MS, err, sizeof(err))) ||
	    mongoidx_count(m, &runs, &jobs, err, sizeof(err)) < 0) {
		mongoidx_close(m);
		printf("database: not answering\n");
		warnx("%s", err);
		return 1;
	}
	mongoidx_close(m);
	printf("database: answering, %lld runs, %lld jobs\n", (long long)runs, (long long)jobs);
	return 0;
}

struct wslist {
	char **v;
	size_t n;
};

static int
add_ws(const struct store_entry *e, void *arg)
{
	struct wslist *l = arg;
	size_t len = strlen(e->path);

	if (e->is_dir && len > 4) {
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = xstrndup(e->path + 3, len - 4);	/* "ws/NAME/" */
	}
	return 0;
}

/* --reindex: upsert the latest record of every run of every workspace. */
static int
reindex(void)
{
	struct store *st;
	struct mongoidx *m;
	struct wslist l = { 0 };
	char err[1024];
	size_t i, j, total = 0;
	int rc, ret = 0;

	if (!mongoidx_url())
		die_status(EXIT_USAGE, "no index is configured (index:, XT_INDEX, --index)");
	if (!(m = mongoidx_open(mongoidx_url(), INDEX_TIMEOUT_MS, err, sizeof(err))))
		die("%s", err);
	st = tool_store();
	if ((rc = store_list(st, "ws/", 0, add_ws, &l)) < 0 && rc != STORE_ENOENT)
		die("%s", store_error(st));
	for (i = 0; i < l.n && !ret; i++) {
		char *path = run_index_path(l.v[i]);
		size_t n = 0, nl = 0, sent;
		struct sbuf sb, folded;
		struct index_line *lines = fold_index(st, path, &sb, &n, &nl);

		sbuf_init(&folded, (size_t)8 << 30);
		for (j = 0; j < n; j++) {
			sbuf_add(&folded, sb.buf + lines[j].off, lines[j].len);
			sbuf_addc(&folded, '\n');
		}
		if (mongoidx_upsert(m, folded.buf, folded.len, &sent, err, sizeof(err)) < 0) {
			warnx("%s (rerun --reindex: what was sent is upserted again, harmlessly)", err);
			ret = 1;
		}
		total += sent;
		if (stderr_isatty())
			fprintf(stderr, "\rreindex: %zu of %zu workspaces, %zu runs", i + 1, l.n, total);
		free(lines);
		sbuf_release(&folded);
		sbuf_release(&sb);
		free(path);
	}
	if (stderr_isatty())
		fputc('\n', stderr);
	if (!ret)
		printf("reindex: %zu runs of %zu workspaces upserted\n", total, l.n);
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	store_close(st);
	mongoidx_close(m);
	return ret;
}

/* Say which fields the report names that no selected run has; die on an ambiguous name. */
static void
warn_fields(struct report *r)
{
	char **warn;
	size_t n, i;

	if (report_check(r, &warn, &n) < 0)
		die_status(EXIT_USAGE, "%s", r->err);
	for (i = 0; i < n; i++)
		warnx("%s", warn[i]);
	strv_free(warn, n);
}

/*
 * True for an operand that names runs rather than a metric: "runN...",
 * "WS/runN...", "$lastrun", "$lastjob"; a metric may have a '/'
 * (train/loss, as Hugging Face and TensorBoard name them).
 */
static int
is_run_operand(const char *s)
{
	const char *b = strrchr(s, '/');

	b = b ? b + 1 : s;

	return (!strncmp(b, "run", 3) && isdigit((unsigned char)b[3])) ||
	    !strncmp(s, "$lastrun", 8) || !strncmp(s, "$lastjob", 8);
}

/*
 * A name as given, or $lastrun and $lastjob (and "$lastrun/...") as the
 * workspace's last run and job, read from the store (*st, opened once).
 */
static char *
last_name(struct store **st, const char *arg)
{
	if (strncmp(arg, "$last", 5))
		return xstrdup(arg);
	if (!*st)
		*st = tool_store();
	return tool_name(*st, tool_workspace(), arg);
}

/*
 * Selection operand a (runs, jobN, patterns; jobs: jobs) into r; "WS/"
 * before it names the workspace, which must be the one reported.
 */
static void
add_operand(struct report *r, struct store **st, const char *cmd, const char *a)
{
	const char *slash = strchr(a, '/'), *ws;
	char *name;

	if (slash && strncmp(a, "$last", 5)) {
		ws = tool_workspace();
		if (slash == a || !slash[1])
			die_status(EXIT_USAGE, "'%s': expected WS/NAME, a workspace and a name in it", a);
		if (strlen(ws) != (size_t)(slash - a) || strncmp(a, ws, strlen(ws)))
			die_status(EXIT_USAGE, "'%s': a name in workspace '%.*s', not in '%s' (-w %.*s)",
			    a, (int)(slash - a), a, ws, (int)(slash - a), a);
		a = slash + 1;
	}
	name = last_name(st, a);

	if (!strcmp(cmd, "jobs") || (!strncmp(a, "$lastjob", 8) && !a[8]))
		opt_ok(r, report_add_select(r, "job", name));
	else
		opt_ok(r, report_add_names(r, name));
	free(name);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "store", required_argument, 0, 's' },
		{ "workspace", required_argument, 0, 'w' },
		{ "exp", required_argument, 0, 'e' },
		{ "experiment", required_argument, 0, 'e' },
		{ "job", required_argument, 0, 'j' },
		{ "status", required_argument, 0, 'S' },
		{ "tag", required_argument, 0, 'T' },
		{ "where", required_argument, 0, 'W' },
		{ "sort", required_argument, 0, 'O' },
		{ "first", required_argument, 0, 'F' },
		{ "last", required_argument, 0, 'L' },
		{ "columns", required_argument, 0, 'c' },
		{ "group", required_argument, 0, 'G' },
		{ "available", no_argument, 0, 'A' },
		{ "parents", no_argument, 0, 'R' },
		{ "json", no_argument, 0, 'J' },
		{ "csv", no_argument, 0, 'C' },
		{ "tsv", no_argument, 0, 'V' },
		{ "md", no_argument, 0, 'M' },
		{ "max-width", required_argument, 0, 'X' },
		{ "precision", required_argument, 0, 'P' },
		{ "metric", required_argument, 0, 'm' },
		{ "goal", required_argument, 0, 'g' },
		{ "compact", no_argument, 0, 'K' },
		{ "lines", required_argument, 0, 'n' },
		{ "output", required_argument, 0, 'o' },
		{ "term", no_argument, 0, 't' },
		{ "x", required_argument, 0, 1 },
		{ "smooth", required_argument, 0, 2 },
		{ "agg", required_argument, 0, 3 },
		{ "band", required_argument, 0, 4 },
		{ "break-on", required_argument, 0, 5 },
		{ "layout", required_argument, 0, 6 },
		{ "legend", required_argument, 0, 7 },
		{ "vs", required_argument, 0, 8 },
		{ "title", required_argument, 0, 9 },
		{ "size", required_argument, 0, 10 },
		{ "ascii", no_argument, 0, 11 },
		{ "color", no_argument, 0, 12 },
		{ "no-color", no_argument, 0, 19 },
		{ "xlog", no_argument, 0, 17 },
		{ "no-xlog", no_argument, 0, 20 },
		{ "ylog", no_argument, 0, 18 },
		{ "index", required_argument, 0, 13 },
		{ "index-status", no_argument, 0, 14 },
		{ "index-flush", no_argument, 0, 15 },
		{ "reindex", no_argument, 0, 16 },
		{ "no-poll", no_argument, 0, 21 },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct report r;
	struct chart_opts co;
	struct store *lst = NULL;	/* where $lastrun and $lastjob are read */
	const char *cmd = "runs", *metric = NULL, *goal = NULL, **jobopts;
	int c, i, from_stdin = 0, compact = 0, ret = 0, out_set = 0, index_op = 0, no_poll = 0;
	int njobopts = 0;
	long lines = 10;

	tool_init(argc, argv);
	report_init(&r);
	chart_opts_init(&co);
	jobopts = xcalloc((size_t)argc + 1, sizeof(*jobopts));
	while ((c = getopt_long(argc, argv, "s:w:e:j:c:n:o:th", longopts, NULL)) != -1) {
		switch (c) {
		case 's': config_set("store", optarg); break;
		case 'w': config_set("workspace", optarg); break;
		case 'e': opt_ok(&r, report_add_select(&r, "exp", optarg)); break;
		case 'j': jobopts[njobopts++] = optarg; break;	/* $lastjob wants the store */
		case 'S': opt_ok(&r, report_add_select(&r, "status", optarg)); break;
		case 'T': opt_ok(&r, report_add_select(&r, "tag", optarg)); break;
		case 'W': opt_ok(&r, report_add_where(&r, optarg)); break;
		case 'O': opt_ok(&r, report_add_sort(&r, optarg)); break;
		case 'F': r.first = opt_i64("--first", optarg, 1, INT32_MAX); r.last = 0; break;
		case 'L': r.last = opt_i64("--last", optarg, 1, INT32_MAX); r.first = 0; break;
		case 'c': opt_ok(&r, report_add_columns(&r, optarg)); break;
		case 'G': opt_ok(&r, report_set_group(&r, optarg)); break;
		case 'A': r.available = 1; break;
		case 'R': r.parents = 1; break;
		case 'J': r.out = OUT_JSON; out_set++; break;
		case 'C': r.out = OUT_CSV; out_set++; break;
		case 'V': r.out = OUT_TSV; out_set++; break;
		case 'M': r.out = OUT_MD; out_set++; break;
		case 'X': r.maxwidth = (int)opt_i64("--max-width", optarg, 4, 100000); break;
		case 'P': r.precision = (int)opt_i64("--precision", optarg, 0, 17); break;
		case 'm': metric = optarg; break;
		case 'g': goal = optarg; break;
		case 'K': compact = 1; break;
		case 21: no_poll = 1; break;
		case 'n': lines = opt_i64("-n", optarg, 0, 1000000); break;
		case 13: config_set("index", optarg); break;
		case 14: case 15: case 16:
			if (index_op && index_op != c)
				die_status(EXIT_USAGE, "--index-status, --index-flush and --reindex exclude each other");
			index_op = c;
			break;
		case 'h':
			fputs(usage_text, stdout);
			free(jobopts);
			report_release(&r);
			chart_opts_release(&co);
			config_release();
			stdout_close();
			return 0;
		default:
			if (chart_opt(&co, c, optarg) < 0) {
				if (*co.err)	/* a bad value, named */
					die_status(EXIT_USAGE, "%s", co.err);
				tool_usage(usage_text);
			}
		}
	}
	if (out_set > 1)
		die_status(EXIT_USAGE, "--json, --csv, --tsv and --md exclude each other");
	argc -= optind;
	argv += optind;
	if (index_op) {
		if (argc)
			tool_usage_error(usage_text, "--index-status, --index-flush and --reindex "
			    "take no operands");
		ret = index_op == 14 ? index_status() : index_op == 15 ? index_flush() : reindex();
		goto out;
	}
	if (argc && (!strcmp(argv[0], "jobs") || !strcmp(argv[0], "show") ||
	    !strcmp(argv[0], "plot") || !strcmp(argv[0], "runs"))) {
		cmd = *argv++;
		argc--;
	}
	if (!strcmp(cmd, "show")) {
		if (argc != 1)
			tool_usage_error(usage_text, "show: %s", argc ? "one RUN only" : "missing RUN");
		struct store *st = tool_store();

		char *name = tool_name(st, tool_workspace(), argv[0]);

		ret = show_run(st, tool_workspace(), name, lines, r.out == OUT_JSON, stdout);
		free(name);
		store_close(st);
		goto out;
	}
	if (!strcmp(cmd, "plot")) {
		/* metrics, up to the first run address ("run7", "run5-run9", "ws/run3.*") or "-" */
		for (; argc && !is_run_operand(argv[0]) && strcmp(argv[0], "-"); argc--)
			chart_add_metric(&co, *argv++);
	}
	for (i = 0; i < njobopts; i++)
		add_operand(&r, &lst, "jobs", jobopts[i]);
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-"))
			from_stdin = 1;
		else
			add_operand(&r, &lst, cmd, argv[i]);
	}
	store_close(lst);
	if (!strcmp(cmd, "jobs")) {
		if (r.group || r.ncols)
			die_status(EXIT_USAGE, "jobs: --group and -c do not apply");
		if (goal && strcmp(goal, "max") && strcmp(goal, "min"))
			die_status(EXIT_USAGE, "--goal: expected max or min, not '%s'", goal);
		if (!metric)
			metric = config_str("search.metric", NULL);
		if (!goal)
			goal = config_str("search.goal", "max");
		report_set_jobs(&r, metric, !strcmp(goal, "min"));
	}
	if (!strcmp(cmd, "plot") && chart_prepare(&co, &r) < 0)
		die_status(EXIT_USAGE, "%s", co.err);
	report_begin(&r);
	read_records(&r, from_stdin, compact, no_poll);
	warn_fields(&r);
	if (!strcmp(cmd, "plot")) {
		ret = chart_run(&co, &r, stdout);
		goto out;
	}
	if ((ret = report_write(&r, stdout)) == -2)
		die_status(EXIT_USAGE, "%s", r.err);
	ret = ret < 0 ? 1 : 0;
out:
	if (compact_failed && ret == 0)
		ret = 1;
	free(jobopts);
	report_release(&r);
	chart_opts_release(&co);
	config_release();
	stdout_close();
	return ret;
}
