#!/bin/sh
# b-prune: the CPU time of an executor's prune check on a big job.
#   A job of RUNS runs with a median policy whose logs hold LINES metric
#   lines each; in process (a tiny program on libxt.a) the CPU time of
#     first   the first check of a run (every log read whole)
#     next    a later check, after each log gained one line (median over
#             ROUNDS checks)
#   measured for the build in BINDIR and, when OLDBINDIR is given (a copy
#   of an earlier build folder's bin/ beside its libxt.a), for that one
#   too, with the ratio old / new (keep the old build with, e.g.,
#   cp -r build /tmp/xt-old before the change, then give /tmp/xt-old/bin).
#   Goal: a later check costs what the logs gained, not what they hold.
# Prints a table and writes bench/out/results-prune.json.
#   bench/b-prune.sh BINDIR [OLDBINDIR [RUNS LINES ROUNDS]]
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 1 ] && [ -d "$1" ] ||
    bench_usage "b-prune.sh BINDIR [OLDBINDIR [RUNS LINES ROUNDS]]"
bench_init b-prune "$1"
old=${2:-}
runs=${3:-2000}
lines=${4:-100}
rounds=${5:-5}
[ -f "$lib" ] || fail "no '$lib': build first"
if [ -n "$old" ]; then
	oldlib=$(cd "$old/.." && pwd)/libxt.a
	[ -f "$oldlib" ] || fail "no '$oldlib' beside '$old'"
fi

cat >"$tmp/b.c" <<'EOF'
/*
 * b STORE RUNS LINES ROUNDS: make a job of RUNS runs whose logs hold LINES
 * metric lines, then print the CPU ms of the first prune check of run r1
 * and the median CPU ms of ROUNDS later checks, each after every log
 * gained one line. Built against the old searchjob_prune with -DOLD.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "run.h"
#include "store.h"
#include "util.h"
#ifdef OLD
int searchjob_prune(struct store *st, const char *ws, const cJSON *job, const char *run,
    double *last);
#else
#include "searchjob.h"
#endif

static struct store *st;
static cJSON *job;

static double
cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Append n metric lines from step k0 to run i's log; r1 is the best run. */
static void
grow(int i, int nruns, int k0, int n)
{
	char name[32], *path;
	struct sbuf sb;

	snprintf(name, sizeof(name), "r%d", i);
	path = run_path("w", name, "log.jsonl");
	sbuf_init(&sb, (size_t)1 << 24);
	for (int k = k0; k < k0 + n; k++)
		sbuf_addf(&sb, "{\"time\":\"2025-01-01T00:00:%02d.%03dZ\",\"event\":\"metrics\","
		    "\"step\":%d,\"data\":{\"acc\":%.6f,\"loss\":%.6f}}\n", k % 60, i % 1000, k,
		    0.5 + 0.4 * k / (k + 10.0) - 0.3 * (i - 1) / nruns, 1.0 / (k + 1));
	if (store_append(st, path, sb.buf, sb.len) < 0)
		die("%s", store_error(st));
	sbuf_release(&sb);
	free(path);
}

/* not stats_median: the program also links earlier builds, which lack it */
static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	int nruns = atoi(argv[2]), nlines = atoi(argv[3]), rounds = atoi(argv[4]), stop = 0;
	cJSON *list = cJSON_CreateArray();
	double t0, first, *next = calloc((size_t)rounds, sizeof(double));
	char err[512];
#ifdef OLD
	double last = 0;
#define CHECK() (last = 0, searchjob_prune(st, "w", job, "r1", &last))
#else
	struct searchjob_pruner w;
#define CHECK() (w.last = 0, searchjob_prune(st, "w", job, "r1", &w))
	searchjob_pruner_init(&w);
#endif

	if (!(st = store_open(argv[1], err, sizeof(err))))
		die("%s", err);
	job = cJSON_Parse("{\"job\":\"job1\",\"prune\":{\"policy\":\"median\",\"metric\":\"acc\","
	    "\"goal\":\"max\",\"delay-evaluation\":10,\"evaluation-interval\":1,\"min-runs\":3}}");
	for (int i = 1; i <= nruns; i++) {
		char name[32];

		snprintf(name, sizeof(name), "r%d", i);
		cJSON_AddItemToArray(list, cJSON_CreateString(name));
		grow(i, nruns, 0, nlines);
	}
	cJSON_AddItemToObject(job, "runs", list);
	t0 = cpu_ms();
	stop |= CHECK();
	first = cpu_ms() - t0;
	for (int r = 0; r < rounds; r++) {
		for (int i = 1; i <= nruns; i++)
			grow(i, nruns, nlines + r, 1);
		t0 = cpu_ms();
		stop |= CHECK();
		next[r] = cpu_ms() - t0;
	}
	qsort(next, (size_t)rounds, sizeof(*next), cmp);
	/* r1 is the best run: a check that stops it went wrong */
	printf("%.2f %.2f %d\n", first, next[rounds / 2], stop);
	return 0;
}
EOF

build() { # out lib [cflags]
	bench_cc "$1" "$tmp/b.c" "$2" ${3:-} || fail "cannot build the prune check program"
}
build "$tmp/new" "$lib"
set -- $("$tmp/new" "$tmp/s-new" "$runs" "$lines" "$rounds") || fail "the new check failed"
[ "${3:-1}" -eq 0 ] || fail "the new check stopped the best run"
new_first=$1 new_next=$2
old_first=null old_next=null
if [ -n "$old" ]; then
	build "$tmp/old" "$oldlib" -DOLD
	set -- $("$tmp/old" "$tmp/s-old" "$runs" "$lines" "$rounds") || fail "the old check failed"
	[ "${3:-1}" -eq 0 ] || fail "the old check stopped the best run"
	old_first=$1 old_next=$2
fi

awk -v r="$runs" -v l="$lines" -v n="$rounds" -v nf="$new_first" -v nn="$new_next" \
    -v of="$old_first" -v on="$old_next" 'BEGIN {
	printf "prune check of one run, job of %d runs x %d metric lines (median policy)\n", r, l
	printf "%-40s %12s %12s %8s\n", "CPU ms", "old", "new", "old/new"
	if (of == "null") {
		printf "%-40s %12s %12.2f\n", "first check (logs read whole)", "-", nf
		printf "%-40s %12s %12.2f\n", "later check (+1 line a log; median of " n ")", "-", nn
		print "(give OLDBINDIR, an earlier build, for the comparison)"
	} else {
		printf "%-40s %12.2f %12.2f %8.1f\n", "first check (logs read whole)", of, nf, of / nf
		printf "%-40s %12.2f %12.2f %8.1f\n", "later check (+1 line a log; median of " n ")", on, nn, on / nn
	}
}'
mkdir -p "$here/out"
cat >"$here/out/results-prune.json" <<EOF
{"bench":"prune","runs":$runs,"lines":$lines,"rounds":$rounds,"results":[
{"name":"first_check_cpu_ms","new":$new_first,"old":$old_first,"unit":"ms","better":"lower"},
{"name":"later_check_cpu_ms","new":$new_next,"old":$old_next,"unit":"ms","better":"lower"}
]}
EOF
