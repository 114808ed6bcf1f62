#!/bin/sh
# b-runq: dispatch of 1,000 no-op runs through xt-submit + xt-runq -j 2,
# against GNU parallel (parallel -j2 true) and task spooler (tsp -S 2).
# Goal: at least 10x faster than GNU parallel per run. For scale, it also
# times xargs -P 2 starting the same 1,000 /bin/true: no records, no queue,
# only the fork, exec and wait that every dispatcher pays.
#   bench/b-runq.sh BINDIR        (BENCH_NRUNS, default 1000)
set -u
export LC_ALL=C TZ=UTC
bin=$(cd "$1" && pwd)
export PATH="$bin:$PATH"
OUT=$(mkdir -p "$(dirname "$0")/out" && cd "$(dirname "$0")/out" && pwd)
N=${BENCH_NRUNS:-1000}
W=$(mktemp -d "${TMPDIR:-/tmp}/xt-bench-runq.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
export XT_HOME="$W/home" XT_STORE="$W/store"
unset XT_WORKSPACE XT_EXPERIMENT XT_CONFIG
mkdir -p "$W/code" "$XT_HOME"
echo x >"$W/code/x"

now() { date +%s%N; }
ms() { echo "$1 $2" | awk '{ printf "%.1f", ($2 - $1) / 1e6 }'; }

# xt: submit and drain, both counted
t0=$(now)
xt-submit -C "$W/code" --runs "$N" -- true >/dev/null
t1=$(now)
xt-runq -j 2
t2=$(now)
ok=$(grep -c '"status":"completed"' "$XT_STORE/ws/ws1/index/runs.jsonl")
xt_ms=$(ms "$t0" "$t2")
sub_ms=$(ms "$t0" "$t1")

t0=$(now)
seq "$N" | xargs -P 2 -n 1 true
t1=$(now)
floor_ms=$(ms "$t0" "$t1")

t0=$(now)
seq "$N" | parallel -j2 true {} >/dev/null
t1=$(now)
par_ms=$(ms "$t0" "$t1")

tsp_ms=""
if command -v tsp >/dev/null 2>&1; then
	export TS_SOCKET="$W/tsp.socket" TS_SAVELIST="$W/tsp.list" TMPDIR="$W"
	tsp -S 2 >/dev/null
	t0=$(now)
	i=0
	while [ $i -lt "$N" ]; do tsp true >/dev/null; i=$((i + 1)); done
	tsp -w >/dev/null 2>&1
	while [ "$(tsp -l | grep -c -E 'running|queued')" -gt 0 ]; do sleep 0.05; done
	t1=$(now)
	tsp_ms=$(ms "$t0" "$t1")
	tsp -K >/dev/null 2>&1
fi

awk -v n="$N" -v ok="$ok" -v x="$xt_ms" -v s="$sub_ms" -v p="$par_ms" -v t="$tsp_ms" \
    -v f="$floor_ms" 'BEGIN {
	printf "%-34s %10s %12s\n", "dispatch of " n " no-op runs, -j 2", "total ms", "ms per run"
	printf "%-34s %10.0f %12.3f   (%d completed; submit alone %.3f ms a run)\n", "xt-submit + xt-runq", x, x / n, ok, s / n
	printf "%-34s %10.0f %12.3f\n", "GNU parallel -j2 true", p, p / n
	if (t != "") printf "%-34s %10.0f %12.3f\n", "task spooler (tsp -S 2)", t, t / n
	printf "%-34s %10.0f %12.3f   (fork+exec+wait alone, for scale)\n", "xargs -P 2 true", f, f / n
	printf "ratio parallel/xt per run: %.2fx (goal >= 10x)\n", p / x
	if (t != "") printf "ratio tsp/xt per run:      %.2fx\n", t / x
	printf "ratio xargs/xt per run:    %.2fx (the most any dispatcher could reach here: parallel/xargs = %.1fx)\n", f / x, p / f
}'
printf '{"runs":%s,"completed":%s,"xt_ms":%s,"submit_ms":%s,"parallel_ms":%s,"tsp_ms":%s,"xargs_ms":%s}\n' \
    "$N" "$ok" "$xt_ms" "$sub_ms" "$par_ms" "${tsp_ms:-null}" "$floor_ms" >"$OUT/results-runq.json"
