#!/bin/sh
# b-log: how fast metric lines go into $XT_LOG.
#   C API     1,000,000 xtlog_metric() calls, one write(2) each, from a tiny
#             program built against libxt.a; goal > 1,000,000 lines/s
#   xt-log    1,000 `xt-log metric` processes, one line each; goal < 2 ms a call
# Prints a table and writes bench/out/results-log.json.
#   bench/b-log.sh BINDIR
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 1 ] && [ -x "$1/xt-log" ] || bench_usage "b-log.sh BINDIR (a folder holding xt-log)"
bench_init b-log "$1"
api_n=1000000
cli_n=1000

[ -f "$lib" ] || fail "no '$lib': build first"
cat >"$tmp/b.c" <<'EOF'
/* Log N metric lines with the C API; print lines per second. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "xtlog.h"

int
main(int argc, char **argv)
{
	long i, n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	struct timespec a, b;
	double s;

	if (n <= 0 || xtlog_open() < 0) {
		perror("b-log: xtlog_open");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		/* values as a training loop logs them: full-precision doubles */
		if (xtlog_metric("loss", 2.0 * exp(-1e-5 * (double)i), i) < 0) {
			perror("b-log: xtlog_metric");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%.0f\n", (double)n / s);
	return 0;
}
EOF
bench_cc "$tmp/b" "$tmp/b.c" "$lib" || fail "cannot build the C API benchmark"

api=$(XT_LOG="$tmp/api.log" "$tmp/b" "$api_n") || fail "the C API run failed"
lines=$(wc -l <"$tmp/api.log")
[ "$lines" -eq "$api_n" ] || fail "the C API wrote $lines lines, not $api_n"
rm -f "$tmp/api.log"

# xt-log per call: what a shell script pays for each metric it logs
export XT_LOG="$tmp/cli.log"
t0=$(date +%s%N)
i=0
while [ $i -lt $cli_n ]; do
	"$bin/xt-log" metric --step $i loss=0.5 acc=0.75 || fail "xt-log failed"
	i=$((i + 1))
done
t1=$(date +%s%N)
lines=$(wc -l <"$tmp/cli.log")
[ "$lines" -eq "$cli_n" ] || fail "xt-log wrote $lines lines, not $cli_n"
ms=$(awk -v ns=$((t1 - t0)) -v n=$cli_n 'BEGIN { printf "%.3f", ns / 1e6 / n }')

awk -v api="$api" -v ms="$ms" -v an="$api_n" -v cn="$cli_n" 'BEGIN {
	printf "%-34s %14s %12s %8s\n", "measure", "value", "goal", "ratio"
	printf "%-34s %14.0f %12s %8.2f\n", "C API lines/s (" an " lines)", api, "> 1000000", api / 1e6
	printf "%-34s %14.3f %12s %8.2f\n", "xt-log metric ms/call (" cn " calls)", ms, "< 2", 2 / ms
	print "(ratio = how many times better than the goal; >= 1 meets it)"
}'
mkdir -p "$here/out"
cat >"$here/out/results-log.json" <<EOF
{"bench":"log","results":[
{"name":"capi_lines_per_s","value":$api,"unit":"lines/s","goal":1000000,"better":"higher","n":$api_n},
{"name":"xtlog_cli_ms_per_call","value":$ms,"unit":"ms","goal":2,"better":"lower","n":$cli_n}
]}
EOF
