#!/bin/sh
# Many writers, one $XT_LOG: 8 `xt-log -` processes with 10,000 lines each
# (one write per process), then 8 processes making 10,000 single-line
# writes each through the C API. Every line must come out whole; a batch
# must come out in one piece.
. "$(dirname "$0")/lib.sh"

procs=8
lines=10000
unit=$XT_BIN/../unit/u-xtlog
export XT_LOG="$T/log"

# check FILE: every line whole, from writers p=0..7 each with steps 0..9999
# in order; prints "ok" or what is wrong
check() {
	awk -v procs=$procs -v lines=$lines '
	!/^\{"time":"[0-9-]+T[0-9:.]+Z","event":"metrics","step":[0-9]+,"data":\{"p":[0-9]+\}\}$/ {
		bad++; next
	}
	{
		split($0, a, /"step":|,"data":\{"p":|\}\}/)
		p = a[3] + 0; s = a[2] + 0
		if (p >= procs || s != next_step[p]) { order++; next }
		next_step[p]++
		# a batch is one write: its lines are never split by another writer
		if (p != last) { runs++; last = p }
	}
	BEGIN { last = -1 }
	END {
		for (p = 0; p < procs; p++) if (next_step[p] != lines) short++
		printf "lines=%d bad=%d order=%d short=%d runs=%d\n", NR, bad, order, short, runs
	}' "$1"
}

# at_once WRITER: start $procs WRITERs at once, the i-th as `WRITER i` with
# its output in out$i and err$i; $failed counts those that failed
at_once() {
	pids=""
	i=0
	while [ $i -lt $procs ]; do
		"$1" $i >"out$i" 2>"err$i" &
		pids="$pids $!"
		i=$((i + 1))
	done
	failed=0
	for p in $pids; do
		wait "$p" || failed=$((failed + 1))
	done
}
log_writer() { xt-log - <"in$1"; }
api_writer() { "$unit" write $lines "$1"; }

i=0
while [ $i -lt $procs ]; do
	awk -v p=$i -v n=$lines 'BEGIN {
		for (s = 0; s < n; s++) printf "{\"event\":\"metrics\",\"step\":%d,\"data\":{\"p\":%d}}\n", s, p
	}' >"in$i"
	i=$((i + 1))
done

at_once log_writer
t_ok "8 xt-log - processes at once all succeed" [ "$failed" -eq 0 ]
t_ok "and say nothing" [ -z "$(cat err0 err1 err2 err3 err4 err5 err6 err7)" ]
t_run check "$T/log"
echo "lines=$((procs * lines)) bad=0 order=0 short=0 runs=$procs" >want
t_out_is want "80,000 whole lines, each batch in one piece"

[ -x "$unit" ] || { t_fail "no $unit: build the unit tests"; t_done; exit 1; }
rm -f "$XT_LOG"
at_once api_writer
t_ok "8 processes of 10,000 xtlog_metric() calls succeed" [ "$failed" -eq 0 ]
t_run check "$T/log"
sed 's/ runs=.*//' "$T/out" >got
echo "lines=$((procs * lines)) bad=0 order=0 short=0" >want
t_ok "80,000 whole lines, each writer's steps in order" cmp -s want got
echo "# the writers took turns $(sed 's/.*runs=//' "$T/out") times"
if ! command -v python3 >/dev/null; then
	echo "# SKIP no python3 to parse the lines"
else
	t_ok "every line parses as JSON" python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    json.loads(line)
    n += 1
sys.exit(n != int(sys.argv[2]))' "$T/log" $((procs * lines))
fi

t_done
