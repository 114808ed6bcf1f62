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
#include "report.h"
#include "run.h"
#include "show.h"
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
    "           --group COL  --available\n"
    "output:    --json  --csv  --tsv  --md  --max-width N  --precision N\n"
    "plot:      -o FILE.svg | --term  --x step|time  --smooth F  --agg mean|median\n"
    "           --band std|minmax|sem|none  --break-on run|COL  --layout RxC\n"
    "           --legend TEMPLATE  --vs COL (scatter)  --title T  --size WxH  --ascii\n"
    "other:     -s STORE  --compact (compact the index first)\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

static void
opt_ok(struct report *r, int rc)
{
	if (rc < 0)
		die_status(EXIT_USAGE, "%s", r->err);
}

/* Feed every line of fp to the report; die naming the line of a bad one. */
static void
read_stream(struct report *r, FILE *fp, const char *name)
{
	struct sbuf sb;
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
			if (report_line(r, line, len) < 0)
				die("%s:%ld:%s", name, lineno, r->err + strlen("column "));
		}
		if (got == 0)
			break;
	}
	if (ferror(fp))
		die("cannot read %s:", name);
	sbuf_release(&sb);
}

/* Feed the workspace's folded index; compact it when it has grown (or when asked). */
static void
read_index(struct report *r, struct store *st, const char *ws, int compact)
{
	char *path = run_index_path(ws), err[1024];
	struct index_line *l = NULL;
	size_t n = 0, nl = 0, i;
	struct sbuf sb;
	int rc;

	sbuf_init(&sb, (size_t)8 << 30);
	rc = store_get(st, path, 0, -1, &sb);
	if (rc < 0 && rc != STORE_ENOENT)
		die("%s", store_error(st));
	if (index_fold(sb.buf, sb.len, path, &l, &n, &nl, err, sizeof(err)) < 0)
		die("%s", err);
	if ((compact || index_grown(nl, n)) && index_compact(st, ws, err, sizeof(err)) < 0)
		warnx("%s", err);	/* the report itself is still right */
	for (i = 0; i < n; i++)
		if (report_line(r, sb.buf + l[i].off, l[i].len) < 0)
			die("%s:%ld:%s", path, l[i].lineno, r->err + strlen("column "));
	free(l);
	sbuf_release(&sb);
	free(path);
}

/* The records to report: stdin when "-" is among the names, else the store's index. */
static void
read_records(struct report *r, int from_stdin, int compact)
{
	struct store *st;

	if (from_stdin) {
		read_stream(r, stdin, "<stdin>");
		return;
	}
	st = tool_store();
	read_index(r, st, tool_workspace(), compact);
	store_close(st);
}

/* True for an operand that names runs rather than a metric: "runN...", or one with a '/'. */
static int
is_run_operand(const char *s)
{
	return (!strncmp(s, "run", 3) && isdigit((unsigned char)s[3])) || strchr(s, '/');
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
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct report r;
	struct chart_opts co;
	const char *cmd = "runs", *metric = NULL, *goal = NULL;
	int c, i, from_stdin = 0, compact = 0, ret = 0, out_set = 0;
	long lines = 10;

	tool_init(argv[0]);
	report_init(&r);
	chart_opts_init(&co);
	while ((c = getopt_long(argc, argv, "s:w:e:j:c:n:o:th", longopts, NULL)) != -1) {
		switch (c) {
		case 's': config_set("store", optarg); break;
		case 'w': config_set("workspace", optarg); break;
		case 'e': opt_ok(&r, report_add_select(&r, "exp", optarg)); break;
		case 'j': opt_ok(&r, report_add_select(&r, "job", optarg)); break;
		case 'S': opt_ok(&r, report_add_select(&r, "status", optarg)); break;
		case 'T': opt_ok(&r, report_add_select(&r, "tag", optarg)); break;
		case 'W': opt_ok(&r, report_add_where(&r, optarg)); break;
		case 'O': opt_ok(&r, report_add_sort(&r, optarg)); break;
		case 'F': r.first = opt_i64("--first", optarg, 1, INT32_MAX); r.last = 0; break;
		case 'L': r.last = opt_i64("--last", optarg, 1, INT32_MAX); r.first = 0; break;
		case 'c': opt_ok(&r, report_add_columns(&r, optarg)); break;
		case 'G': opt_ok(&r, report_set_group(&r, optarg)); break;
		case 'A': r.available = 1; break;
		case 'J': r.out = OUT_JSON; out_set++; break;
		case 'C': r.out = OUT_CSV; out_set++; break;
		case 'V': r.out = OUT_TSV; out_set++; break;
		case 'M': r.out = OUT_MD; out_set++; break;
		case 'X': r.maxwidth = (int)opt_i64("--max-width", optarg, 4, 100000); break;
		case 'P': r.precision = (int)opt_i64("--precision", optarg, 0, 17); break;
		case 'm': metric = optarg; break;
		case 'g': goal = optarg; break;
		case 'K': compact = 1; break;
		case 'n': lines = opt_i64("-n", optarg, 0, 1000000); break;
		case 'h':
			fputs(usage_text, stdout);
			report_release(&r);
			chart_opts_release(&co);
			config_release();
			stdout_close();
			return 0;
		default:
			if (chart_opt(&co, c, optarg) < 0) {
				if (*co.err)	/* a bad value, named */
					die_status(EXIT_USAGE, "%s", co.err);
				usage();
			}
		}
	}
	if (out_set > 1)
		die_status(EXIT_USAGE, "--json, --csv, --tsv and --md exclude each other");
	argc -= optind;
	argv += optind;
	if (argc && (!strcmp(argv[0], "jobs") || !strcmp(argv[0], "show") ||
	    !strcmp(argv[0], "plot") || !strcmp(argv[0], "runs"))) {
		cmd = *argv++;
		argc--;
	}
	if (!strcmp(cmd, "show")) {
		if (argc != 1)
			usage();
		struct store *st = tool_store();

		ret = show_run(st, tool_workspace(), argv[0], lines, r.out == OUT_JSON, stdout);
		store_close(st);
		goto out;
	}
	if (!strcmp(cmd, "plot")) {
		/* metrics, up to the first run address ("run7", "run5-run9", "ws/run3.*") or "-" */
		for (; argc && !is_run_operand(argv[0]) && strcmp(argv[0], "-"); argc--)
			chart_add_metric(&co, *argv++);
	}
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-"))
			from_stdin = 1;
		else if (!strcmp(cmd, "jobs"))
			opt_ok(&r, report_add_select(&r, "job", argv[i]));
		else
			opt_ok(&r, report_add_names(&r, argv[i]));
	}
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
	read_records(&r, from_stdin, compact);
	if (!strcmp(cmd, "plot")) {
		ret = chart_run(&co, &r, stdout);
		goto out;
	}
	if ((ret = report_write(&r, stdout)) == -2)
		die_status(EXIT_USAGE, "%s", r.err);
	ret = ret < 0 ? 1 : 0;
out:
	report_release(&r);
	chart_opts_release(&co);
	config_release();
	stdout_close();
	return ret;
}
