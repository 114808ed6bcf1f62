#!/bin/sh
# b-runq: dispatch of N no-op runs (true) with 2 at once, per run:
#   xt        xt-submit --runs N, then xt-runq -j 2: durable (every run has
#             its record, its log and its index lines in the store, and the
#             queue is on disk), checked after each round
#   tsp       task spooler, tsp -S 2: N `tsp true`, then wait for the last
#   parallel  GNU parallel -j2 true
#   xargs     xargs -P 2 true: no records, no queue, only the fork, exec and
#             wait that every dispatcher pays (the floor, for scale)
# ROUNDS rounds, interleaved (the order turns each round, so that a machine
# that gets busier or quieter favours no side); each side's median over the
# rounds counts. Goal: xt ahead of tsp per run (tsp/xt > 1). The rounds'
# files are removed at the end, not after each round: on ext4 without a
# journal, a burst of deletions slows every file made in the next minutes
# (the inode allocator skips inodes deleted less than 60 s ago, 360 s while
# their table block is dirty), which would charge a side for the clean-up
# of the round before it.
# A peer that is missing fails the benchmark. Prints a table and writes
# bench/out/results-runq.json.
#   bench/b-runq.sh BINDIR   (BENCH_NRUNS: N, default 1000; BENCH_ROUNDS: 5)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 1 ] && [ -x "$1/xt-runq" ] || bench_usage "b-runq.sh BINDIR (a folder holding xt-runq)"
bench_init b-runq "$1"
export TZ=UTC
N=${BENCH_NRUNS:-1000}
R=${BENCH_ROUNDS:-5}
case $N$R in *[!0-9]*) fail "BENCH_NRUNS and BENCH_ROUNDS must be whole numbers" ;; esac
[ "$N" -gt 0 ] && [ "$R" -gt 0 ] || fail "BENCH_NRUNS and BENCH_ROUNDS must be > 0"

command -v tsp >/dev/null || fail "'tsp' (task spooler) is missing: scripts/deps.sh bench installs it"
command -v parallel >/dev/null || fail "'parallel' is missing: scripts/deps.sh bench installs GNU parallel"
parallel --version 2>/dev/null | grep -q 'GNU parallel' ||
    fail "'$(command -v parallel)' is not GNU parallel (moreutils' has the same name)"
command -v xargs >/dev/null || fail "'xargs' is missing"

mkdir -p "$tmp/code" "$here/out"
echo x >"$tmp/code/x"
unset XT_WORKSPACE XT_EXPERIMENT XT_CONFIG

now() { date +%s%N; }

# Each side: one round (in a subshell), its wall ns on stdout; fails when
# the runs did not all run.
side_xt() {
	d=$tmp/xt.$1
	mkdir -p "$d/home"
	t0=$(now)
	XT_HOME="$d/home" XT_STORE="$d/store" "$bin/xt-submit" -C "$tmp/code" --runs "$N" -- true \
	    >/dev/null || fail "xt-submit failed"
	XT_HOME="$d/home" XT_STORE="$d/store" "$bin/xt-runq" -j 2 >/dev/null 2>"$d/err" ||
	    fail "xt-runq failed: $(head -c 300 "$d/err")"
	t1=$(now)
	# durable: every run completed, as its record and the index say
	n=$(cat "$d"/store/ws/ws1/runs/run1.*/run.json | grep -c '"status":"completed"')
	[ "$n" -eq "$N" ] || fail "xt: $n of $N runs completed"
	n=$(grep -c '"status":"completed"' "$d/store/ws/ws1/index/runs.jsonl")
	[ "$n" -eq $((N + 1)) ] || fail "xt: the index has $n runs completed, not $((N + 1))"
	echo $((t1 - t0))
}

side_tsp() {
	d=$tmp/tsp.$1
	mkdir -p "$d"
	# a private server, its outputs in $d
	export TS_SOCKET="$d/socket" TS_SAVELIST="$d/list" TMPDIR="$d"
	tsp -S 2 >/dev/null || fail "tsp -S 2 failed"
	t0=$(now)
	i=0
	while [ $i -lt "$N" ]; do
		tsp true >/dev/null || fail "tsp true failed"
		i=$((i + 1))
	done
	tsp -w >/dev/null 2>&1
	while tsp -l | grep -q -E 'running|queued'; do sleep 0.01; done
	t1=$(now)
	n=$(tsp -l | grep -c 'finished')
	tsp -K >/dev/null 2>&1
	[ "$n" -eq "$N" ] || fail "tsp: $n of $N jobs finished"
	echo $((t1 - t0))
}

side_parallel() {
	t0=$(now)
	seq "$N" | parallel -j2 true {} >/dev/null || fail "GNU parallel failed"
	t1=$(now)
	echo $((t1 - t0))
}

side_xargs() {
	t0=$(now)
	seq "$N" | xargs -P 2 -n 1 true || fail "xargs failed"
	t1=$(now)
	echo $((t1 - t0))
}

sides="xt tsp parallel xargs"
: >"$tmp/times"
r=1
while [ "$r" -le "$R" ]; do
	# turn the order: round 1 xt tsp parallel xargs, round 2 tsp parallel xargs xt, ...
	order=$(echo $sides | awk -v k="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + k - 1) % NF + 1) }')
	for s in $order; do
		ns=$(side_$s "$r") || exit 1
		echo "$s $r $ns" >>"$tmp/times"
	done
	r=$((r + 1))
done

awk -v n="$N" -v rounds="$R" -v out="$here/out/results-runq.json" '
function median(s,    k, i, j, t, a) {
	k = 0
	for (i = 1; i <= cnt[s]; i++) a[++k] = v[s, i]
	for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ v[$1, ++cnt[$1]] = $3 / 1e6 / n }
END {
	split("xt tsp parallel xargs", s, " ")
	name["xt"] = "xt-submit + xt-runq -j 2 (durable)"
	name["tsp"] = "task spooler (tsp -S 2)"
	name["parallel"] = "GNU parallel -j2"
	name["xargs"] = "xargs -P 2 (the floor)"
	printf "dispatch of %d no-op runs, 2 at once: ms per run, %d rounds interleaved\n", n, rounds
	printf "%-36s %8s   %s\n", "", "median", "each round"
	for (i = 1; i <= 4; i++) {
		m[s[i]] = median(s[i])
		line = ""
		for (j = 1; j <= cnt[s[i]]; j++) line = line sprintf(" %.3f", v[s[i], j])
		printf "%-36s %8.3f  %s\n", name[s[i]], m[s[i]], line
	}
	printf "ratio tsp/xt per run:      %.2fx  goal > 1 (xt ahead of tsp): %s\n", m["tsp"] / m["xt"],
	    (m["tsp"] > m["xt"] ? "met" : "NOT met")
	printf "ratio parallel/xt per run: %.2fx\n", m["parallel"] / m["xt"]
	printf "ratio xargs/xt per run:    %.2fx  (the most any dispatcher could reach here)\n", m["xargs"] / m["xt"]
	# (the parentheses keep awk from reading a ">" as a redirection)
	printf("{\"bench\":\"runq\",\"runs\":%d,\"rounds\":%d,\"unit\":\"ms per run\",\"median\":{", n, rounds) >out
	for (i = 1; i <= 4; i++) printf("%s\"%s\":%.4f", (i > 1 ? "," : ""), s[i], m[s[i]]) >out
	printf("},\"rounds_ms\":{") >out
	for (i = 1; i <= 4; i++) {
		printf("%s\"%s\":[", (i > 1 ? "," : ""), s[i]) >out
		for (j = 1; j <= cnt[s[i]]; j++) printf("%s%.4f", (j > 1 ? "," : ""), v[s[i], j]) >out
		printf("]") >out
	}
	printf("},\"tsp_over_xt\":%.4f,\"goal_met\":%s}\n", m["tsp"] / m["xt"], (m["tsp"] > m["xt"] ? "true" : "false")) >out
}' "$tmp/times" || fail "cannot summarise"
