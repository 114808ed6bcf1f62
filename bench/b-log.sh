#!/bin/sh
# b-log: how fast metric lines go into $XT_LOG, each against a peer timed in
# the same run on the same machine, so that a slower xt and a slower machine
# can be told apart:
#   C API    N xtlog_metric() calls, from a tiny program on libxt.a, against
#            N raw write(2) calls of the very same lines to the same file
#            (the limit: what any logger pays for one line a write)
#   xt-log   M `xt-log metric` processes, one line each, against M runs of
#            /bin/true (the start-up of any program) and M `echo LINE >>`
#            of the same line (the cheapest append a shell script has)
# ROUNDS rounds, each side in turn; each side's median counts. Prints a
# table with the ratios and writes bench/out/results-log.json.
#   bench/b-log.sh BINDIR   (BENCH_LOG_LINES: N, default 1000000;
#                            BENCH_LOG_CALLS: M, default 1000; BENCH_ROUNDS: 3)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 1 ] && [ -x "$1/xt-log" ] || bench_usage "b-log.sh BINDIR (a folder holding xt-log)"
bench_init b-log "$1"
api_n=${BENCH_LOG_LINES:-1000000}
cli_n=${BENCH_LOG_CALLS:-1000}
rounds=${BENCH_ROUNDS:-3}
case $api_n$cli_n$rounds in *[!0-9]*) fail "BENCH_LOG_LINES, BENCH_LOG_CALLS and BENCH_ROUNDS must be whole numbers" ;; esac
[ "$api_n" -gt 0 ] && [ "$cli_n" -gt 0 ] && [ "$rounds" -gt 0 ] || fail "the counts must be > 0"
[ -x /bin/true ] || fail "no /bin/true, the start-up peer"

[ -f "$lib" ] || fail "no '$lib': build first"
cat >"$tmp/b.c" <<'EOF'
/*
 * b api N: log N metric lines with the C API to $XT_LOG.
 * b raw FILE: write the lines of FILE to $XT_LOG (truncated first), one
 * write(2) each, as the C API opens it (O_APPEND).
 * Each prints the lines per second of its loop alone.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xtlog.h"

static double
secs(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
api(long n)
{
	double a, b;
	long i;

	if (n <= 0 || xtlog_open() < 0) {
		perror("b-log: xtlog_open");
		return 1;
	}
	a = secs();
	for (i = 0; i < n; i++) {
		/* values as a training loop logs them: full-precision doubles */
		if (xtlog_metric("loss", 2.0 * exp(-1e-5 * (double)i), i) < 0) {
			perror("b-log: xtlog_metric");
			return 1;
		}
	}
	b = secs();
	printf("%.0f\n", (double)n / (b - a));
	return 0;
}

static int
raw(const char *file)
{
	FILE *fp = fopen(file, "r");
	const char *log = getenv("XT_LOG");
	char *buf, *p, *end, *nl;
	long size, n = 0;
	double a, b;
	int fd;

	if (!fp || fseek(fp, 0, SEEK_END) < 0 || (size = ftell(fp)) <= 0 ||
	    fseek(fp, 0, SEEK_SET) < 0 || !(buf = malloc((size_t)size)) ||
	    fread(buf, 1, (size_t)size, fp) != (size_t)size) {
		perror("b-log: cannot read the lines");
		return 1;
	}
	fclose(fp);
	if (!log || (fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		perror("b-log: cannot open $XT_LOG");
		return 1;
	}
	end = buf + size;
	a = secs();
	for (p = buf; p < end; p = nl + 1, n++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || write(fd, p, (size_t)(nl - p + 1)) != nl - p + 1) {
			perror("b-log: write");
			return 1;
		}
	}
	b = secs();
	close(fd);
	printf("%.0f\n", (double)n / (b - a));
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "api"))
		return api(strtol(argv[2], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "raw"))
		return raw(argv[2]);
	fprintf(stderr, "usage: b api N | b raw FILE\n");
	return 2;
}
EOF
bench_cc "$tmp/b" "$tmp/b.c" "$lib" || fail "cannot build the C API benchmark"

now() { date +%s%N; }
lines() { wc -l <"$1" | tr -d ' '; }

# one round of each C side: lines/s
c_api() {
	rm -f "$tmp/api.log"
	v=$(XT_LOG="$tmp/api.log" "$tmp/b" api "$api_n") || fail "the C API run failed"
	[ "$(lines "$tmp/api.log")" -eq "$api_n" ] || fail "the C API wrote $(lines "$tmp/api.log") lines, not $api_n"
	# the raw side writes these very lines
	mv "$tmp/api.log" "$tmp/lines"
	echo "$v"
}
c_raw() {
	v=$(XT_LOG="$tmp/raw.log" "$tmp/b" raw "$tmp/lines") || fail "the raw write(2) run failed"
	cmp -s "$tmp/lines" "$tmp/raw.log" || fail "the raw write(2) run did not write the same lines"
	rm -f "$tmp/raw.log"
	echo "$v"
}

# one round of each command side: ms a call
cli_xtlog() {
	rm -f "$tmp/cli.log"
	t0=$(now)
	i=0
	while [ $i -lt "$cli_n" ]; do
		XT_LOG="$tmp/cli.log" "$bin/xt-log" metric --step $i loss=0.5 acc=0.75 || fail "xt-log failed"
		i=$((i + 1))
	done
	t1=$(now)
	[ "$(lines "$tmp/cli.log")" -eq "$cli_n" ] || fail "xt-log wrote $(lines "$tmp/cli.log") lines, not $cli_n"
	awk -v ns=$((t1 - t0)) -v n="$cli_n" 'BEGIN { printf "%.4f\n", ns / 1e6 / n }'
}
cli_true() {
	t0=$(now)
	i=0
	while [ $i -lt "$cli_n" ]; do
		/bin/true || fail "/bin/true failed"
		i=$((i + 1))
	done
	t1=$(now)
	awk -v ns=$((t1 - t0)) -v n="$cli_n" 'BEGIN { printf "%.4f\n", ns / 1e6 / n }'
}
cli_echo() {
	[ -s "$tmp/cli.log" ] || fail "no xt-log line to append with echo"
	line=$(head -n 1 "$tmp/cli.log")
	rm -f "$tmp/echo.log"
	t0=$(now)
	i=0
	while [ $i -lt "$cli_n" ]; do
		echo "$line" >>"$tmp/echo.log" || fail "echo >> failed"
		i=$((i + 1))
	done
	t1=$(now)
	[ "$(lines "$tmp/echo.log")" -eq "$cli_n" ] || fail "echo wrote $(lines "$tmp/echo.log") lines"
	awk -v ns=$((t1 - t0)) -v n="$cli_n" 'BEGIN { printf "%.4f\n", ns / 1e6 / n }'
}

: >"$tmp/times"
r=1
while [ "$r" -le "$rounds" ]; do
	# the order turns each round (c_api first: it makes the raw side's lines)
	v=$(c_api) || exit 1
	echo "api $v" >>"$tmp/times"
	v=$(c_raw) || exit 1
	echo "raw $v" >>"$tmp/times"
	if [ $((r % 2)) -eq 1 ]; then order="cli_xtlog cli_true cli_echo"; else order="cli_true cli_xtlog cli_echo"; fi
	for s in $order; do
		v=$($s) || exit 1
		echo "${s#cli_} $v" >>"$tmp/times"
	done
	r=$((r + 1))
done

mkdir -p "$here/out"
awk -v an="$api_n" -v cn="$cli_n" -v rounds="$rounds" -v out="$here/out/results-log.json" '
function median(s,    k, i, j, t, a) {
	k = 0
	for (i = 1; i <= cnt[s]; i++) a[++k] = v[s, i]
	for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ v[$1, ++cnt[$1]] = $2 }
END {
	api = median("api"); raw = median("raw"); x = median("xtlog"); t = median("true"); e = median("echo")
	printf "metric lines into $XT_LOG, each side against its peer in the same run (median of %d rounds)\n", rounds
	printf "%-44s %14s\n", "C API, " an " lines", "lines/s"
	printf "  %-42s %14.0f\n", "xtlog_metric()", api
	printf "  %-42s %14.0f\n", "raw write(2) of the same lines (the limit)", raw
	printf "  %-42s %13.0f%%\n", "xt reaches of the limit", 100 * api / raw
	printf "%-44s %14s\n", "commands, " cn " calls", "ms a call"
	printf "  %-42s %14.3f\n", "xt-log metric", x
	printf "  %-42s %14.3f\n", "/bin/true (start-up)", t
	printf "  %-42s %14.3f\n", "echo LINE >> (a shell append)", e
	printf "  %-42s %13.2fx\n", "xt-log / /bin/true", x / t
	printf "  %-42s %13.3f\n", "xt-log - /bin/true (ms of its own work)", x - t
	printf "  %-42s %13.0fx\n", "xt-log / echo >>", x / e
	printf("{\"bench\":\"log\",\"rounds\":%d,\"results\":[\n", rounds) >out
	printf("{\"name\":\"capi_lines_per_s\",\"value\":%.0f,\"unit\":\"lines/s\",\"n\":%d,\"better\":\"higher\"},\n", api, an) >out
	printf("{\"name\":\"raw_write_lines_per_s\",\"value\":%.0f,\"unit\":\"lines/s\",\"n\":%d,\"better\":\"higher\"},\n", raw, an) >out
	printf("{\"name\":\"capi_over_raw\",\"value\":%.4f,\"better\":\"higher\"},\n", api / raw) >out
	printf("{\"name\":\"xtlog_cli_ms_per_call\",\"value\":%.4f,\"unit\":\"ms\",\"n\":%d,\"better\":\"lower\"},\n", x, cn) >out
	printf("{\"name\":\"true_ms_per_call\",\"value\":%.4f,\"unit\":\"ms\",\"n\":%d},\n", t, cn) >out
	printf("{\"name\":\"echo_append_ms_per_call\",\"value\":%.4f,\"unit\":\"ms\",\"n\":%d},\n", e, cn) >out
	printf("{\"name\":\"xtlog_over_true\",\"value\":%.4f,\"better\":\"lower\"},\n", x / t) >out
	printf("{\"name\":\"xtlog_over_echo\",\"value\":%.4f,\"better\":\"lower\"}\n]}\n", x / e) >out
}' "$tmp/times" || fail "cannot summarise"
