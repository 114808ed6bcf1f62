#!/bin/sh
# b-slurm: N no-op runs (true) on the private Slurm cluster of
# scripts/slurm-up.sh (its own, started here and stopped at the end),
# side by side:
#   xt      xt-submit -t hpc --runs N (the slurm target, max-runs C),
#           durable: the job, its runs' records (a Slurm job's children
#           in its plan until they start, man/xt.7) and their index lines
#           in the store; done when the index says every run and their
#           parent completed (xt-runq ls settles what ended, once a second). All rounds submit from one
#           XT_HOME, as a user does: its first submit (round 0, shown, not
#           counted in the medians) asks scontrol for MaxArraySize and
#           sbatch --test-only for the options, which that home then keeps
#           for an hour; the rounds after ask sbatch alone
#   loop    one `sbatch --wrap true` a run, what naive scripts do
#   array   one hand-written `sbatch --array=1-N%C` of `true`
# For each: the submit's time, the scheduler calls (sbatch, squeue, sacct,
# scontrol, scancel, counted through wrappers on PATH) and the time until
# every run has ended (the loop and the array are polled with squeue once a
# second, as xt's poll-interval is here). ROUNDS rounds, interleaved;
# medians count. Goals: xt's submit within 2x of the hand-written array,
# and at least 20x faster than the loop. A peer that is missing (the Slurm
# daemons) fails the benchmark. Prints a table and writes
# bench/out/results-slurm.json.
#   bench/b-slurm.sh BINDIR   (BENCH_NRUNS: N, default 200; BENCH_ROUNDS: 3)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 1 ] && [ -x "$1/xt-submit" ] || bench_usage "b-slurm.sh BINDIR (a folder holding xt-submit)"
bench_init b-slurm "$1"
export TZ=UTC
N=${BENCH_NRUNS:-200}
R=${BENCH_ROUNDS:-3}
C=16
case $N$R in *[!0-9]*) fail "BENCH_NRUNS and BENCH_ROUNDS must be whole numbers" ;; esac
[ "$N" -gt 0 ] && [ "$R" -gt 0 ] || fail "BENCH_NRUNS and BENCH_ROUNDS must be > 0"
for p in munged slurmctld slurmd; do
	[ -x /usr/sbin/$p ] || fail "no /usr/sbin/$p: scripts/deps.sh check installs the Slurm packages"
done
unset $(env | sed -n 's/^\(SLURM_[A-Z_]*\)=.*/\1/p')
unset XT_WORKSPACE XT_EXPERIMENT XT_CONFIG

up=$root/scripts/slurm-up.sh
mkdir -p "$tmp/slurm" "$tmp/wrap" "$tmp/code" "$here/out"
S=$(cd "$tmp/slurm" && pwd -P)
trap '"$up" stop "$S" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
# a Ctrl-C or a kill exits through the EXIT trap, which stops the servers
trap 'exit 130' INT
trap 'exit 143' TERM
SLURM_CPUS=$C "$up" start "$S" >/dev/null 2>"$tmp/up.err" ||
    fail "the Slurm cluster did not start: $(grep -m 1 'slurm-up:' "$tmp/up.err")"
export SLURM_CONF="$S/slurm.conf"
for c in sbatch squeue sacct scancel scontrol; do
	printf '#!/bin/sh\necho %s >>"$BENCH_CALLS"\nexec /usr/bin/%s "$@"\n' "$c" "$c" >"$tmp/wrap/$c"
	chmod +x "$tmp/wrap/$c"
done
export PATH="$tmp/wrap:$PATH"
echo x >"$tmp/code/x"
printf '#!/bin/sh\ntrue\n' >"$tmp/true.sh"

now() { date +%s%N; }
# wait_gone NAME: until squeue shows no job named NAME, polling once a second
wait_gone() {
	while [ -n "$(squeue -h -n "$1" -o %i)" ]; do sleep 1; done
}

# Each side: one round; prints "SUBMIT_NS DONE_NS CALLS" (calls: the
# scheduler commands it ran, the waits' squeue included)
side_xt() {
	d=$tmp/xt.$1
	mkdir -p "$tmp/xthome" "$d/work"
	printf 'targets:\n  hpc: {type: slurm, max-runs: %d, poll-interval: 1}\n' "$C" >"$d/work/xt.yaml"
	export BENCH_CALLS="$d/calls"
	: >"$BENCH_CALLS"
	cd "$d/work" || fail "no $d/work"
	t0=$(now)
	XT_HOME="$tmp/xthome" XT_STORE="$d/store" "$bin/xt-submit" -t hpc -C "$tmp/code" --runs "$N" \
	    -- true >/dev/null 2>"$d/err" || fail "xt-submit failed: $(head -c 300 "$d/err")"
	t1=$(now)
	# the index has a line a state change: the parent completes after its runs
	while [ "$(grep -c '"status":"completed"' "$d/store/ws/ws1/index/runs.jsonl")" -le "$N" ]; do
		XT_HOME="$tmp/xthome" XT_STORE="$d/store" "$bin/xt-runq" -t hpc ls >/dev/null 2>&1
		n=$(grep -c '"status":"\(failed\|cancelled\)"' "$d/store/ws/ws1/index/runs.jsonl")
		[ "$n" -eq 0 ] || fail "xt: $n runs failed or were cancelled"
		sleep 1
	done
	t2=$(now)
	cd "$tmp" || exit 1
	n=$(grep -c '"status":"completed"' "$d/store/ws/ws1/index/runs.jsonl")
	[ "$n" -ge $((N + 1)) ] || fail "xt: the index has $n runs completed, not $((N + 1))"
	echo "$((t1 - t0)) $((t2 - t0)) $(wc -l <"$BENCH_CALLS")"
}

side_loop() {
	export BENCH_CALLS="$tmp/loop.$1.calls"
	: >"$BENCH_CALLS"
	t0=$(now)
	i=0
	while [ $i -lt "$N" ]; do
		sbatch -Q -J "loop$1" -o /dev/null --wrap true || fail "sbatch failed"
		i=$((i + 1))
	done
	t1=$(now)
	wait_gone "loop$1"
	t2=$(now)
	echo "$((t1 - t0)) $((t2 - t0)) $(wc -l <"$BENCH_CALLS")"
}

side_array() {
	export BENCH_CALLS="$tmp/array.$1.calls"
	: >"$BENCH_CALLS"
	t0=$(now)
	sbatch -Q -J "array$1" -o /dev/null --array="1-$N%$C" "$tmp/true.sh" || fail "sbatch failed"
	t1=$(now)
	wait_gone "array$1"
	t2=$(now)
	echo "$((t1 - t0)) $((t2 - t0)) $(wc -l <"$BENCH_CALLS")"
}

sides="xt loop array"
: >"$tmp/times"
v=$(side_xt 0) || exit 1
echo "first 0 $v" >>"$tmp/times"
r=1
while [ "$r" -le "$R" ]; do
	order=$(echo $sides | awk -v k="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + k - 1) % NF + 1) }')
	for s in $order; do
		v=$(side_$s "$r") || exit 1
		echo "$s $r $v" >>"$tmp/times"
	done
	r=$((r + 1))
done

awk -v n="$N" -v rounds="$R" -v c="$C" -v out="$here/out/results-slurm.json" '
function median(s, f,    k, i, j, t, a) {
	k = 0
	for (i = 1; i <= cnt[s]; i++) a[++k] = v[s, i, f]
	for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ i = ++cnt[$1]; v[$1, i, 1] = $3 / 1e9; v[$1, i, 2] = $4 / 1e9; v[$1, i, 3] = $5 }
END {
	split("xt loop array", s, " ")
	name["first"] = "xt-submit, first of its home (0)"
	name["xt"] = "xt-submit -t hpc (slurm target)"
	name["loop"] = "one sbatch a run"
	name["array"] = "one sbatch --array (by hand)"
	printf "%d no-op runs on a one-node Slurm cluster (%d CPUs, %%%d), medians of %d rounds\n", n, c, c, rounds
	printf "%-34s %10s %10s %12s\n", "", "submit s", "calls", "all ended s"
	for (i = 1; i <= 3; i++) {
		for (f = 1; f <= 3; f++) m[s[i], f] = median(s[i], f)
		printf "%-34s %10.3f %10d %12.1f\n", name[s[i]], m[s[i], 1], m[s[i], 3], m[s[i], 2]
	}
	printf "%-34s %10.3f %10d %12.1f  (info: not in the medians)\n", name["first"], v["first", 1, 1],
	    v["first", 1, 3], v["first", 1, 2]
	ra = m["xt", 1] / m["array", 1]
	rl = m["loop", 1] / m["xt", 1]
	printf "submit: xt/array %.2fx  goal <= 2: %s\n", ra, (ra <= 2 ? "met" : "NOT met")
	printf "submit: loop/xt  %.1fx  goal >= 20: %s\n", rl, (rl >= 20 ? "met" : "NOT met")
	printf("{\"bench\":\"slurm\",\"runs\":%d,\"rounds\":%d,\"median\":{", n, rounds) >out
	for (i = 1; i <= 3; i++)
		printf("%s\"%s\":{\"submit_s\":%.4f,\"calls\":%d,\"all_ended_s\":%.2f}", (i > 1 ? "," : ""),
		    s[i], m[s[i], 1], m[s[i], 3], m[s[i], 2]) >out
	printf(",\"xt_first\":{\"submit_s\":%.4f,\"calls\":%d,\"all_ended_s\":%.2f}", v["first", 1, 1],
	    v["first", 1, 3], v["first", 1, 2]) >out
	printf("},\"xt_over_array\":%.4f,\"loop_over_xt\":%.4f,\"goals_met\":%s}\n", ra, rl,
	    (ra <= 2 && rl >= 20 ? "true" : "false")) >out
}' "$tmp/times" || fail "cannot summarise"
