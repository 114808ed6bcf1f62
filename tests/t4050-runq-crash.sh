#!/bin/sh
# SIGKILL of xt-runq during a job of 50 short runs, then a restart: every
# run ends exactly once, with its whole log. The same when the executors
# die too (their runs are retried by policy). Two xt-runq on one spool
# never start the same run.
. "$(dirname "$0")/lib.sh"

mkdir code
echo 'echo "{\"event\":\"metrics\",\"step\":1,\"data\":{\"x\":1}}" >>"$XT_LOG"; sleep 0.05; echo done' >code/short.sh
i=0
: >hp
while [ $i -lt 50 ]; do echo "{\"i\":$i}" >>hp; i=$((i + 1)); done

count_ended() {
	n=$(grep -c '"status":"completed"' "$XT_STORE/ws/ws1/index/runs.jsonl" 2>/dev/null)
	echo "${n:-0}"
}
# wait_ended N: poll (bounded by a count) until N runs have completed
wait_ended() {
	i=0
	while [ $i -lt 6000 ] && [ "$(count_ended)" -lt "$1" ]; do sleep 0.01; i=$((i + 1)); done
	[ "$(count_ended)" -ge "$1" ]
}
# check_all PARENT N: every child ended exactly once as completed, with its whole log
check_all() {
	python3 - "$XT_STORE/ws/ws1/runs" "$1" "$2" <<'EOP'
import json, sys
d, parent, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
bad = 0
for k in range(1, n + 1):
    r = "%s.%d" % (parent, k)
    rec = json.load(open("%s/%s/run.json" % (d, r)))
    ev = [json.loads(l)["event"] for l in open("%s/%s/log.jsonl" % (d, r))]
    out = open("%s/%s/output.txt" % (d, r)).read()
    why = []
    if rec["status"] != "completed": why.append("status " + rec["status"])
    if ev.count("ended") != 1: why.append("ended %d times" % ev.count("ended"))
    if "metrics" not in ev: why.append("no metrics")
    if ev[-1] != "ended": why.append("log does not end with ended")
    if not out.endswith("done\n"): why.append("console incomplete")
    if why:
        bad = 1
        print("# %s: %s" % (r, ", ".join(why)))
sys.exit(bad)
EOP
}

xt-submit -C code --hp hp -- sh short.sh >/dev/null
xt-runq -j 2 >/dev/null 2>&1 &
runq=$!
t_ok "some runs complete" wait_ended 10
kill -9 $runq
wait $runq 2>/dev/null
t_run xt-runq -j 2
t_status 0 "a restarted xt-runq drains the rest"
t_ok "every run ended once as completed, with its whole log" check_all run1 50
t_ok "each ran once" [ "$(grep '"run":"run1\.' "$XT_STORE/ws/ws1/index/runs.jsonl" | grep -c '"status":"running"')" -eq 50 ]
t_ok "and the parent started once" [ "$(grep '"run":"run1",' "$XT_STORE/ws/ws1/index/runs.jsonl" | grep -c '"status":"running"')" -eq 1 ]

# kill xt-runq and its executors: the runs die with their executors and are retried
xt-submit -C code --retries 1 --hp hp -- sh short.sh >/dev/null
xt-runq -j 2 >/dev/null 2>&1 &
runq=$!
base=$(count_ended)
t_ok "some runs of job 2 complete" wait_ended $((base + 5))
# stop xt-runq first: an executor that exits meanwhile stays a zombie, so
# no pid listed can be reused by another process; kill only its children
kill -STOP $runq
t_run xt-runq ls
t_status 0 "ls while xt-runq is stopped"
pids=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$T/out")
kids=""
for p in $pids; do
	[ "$(cut -d' ' -f4 "/proc/$p/stat" 2>/dev/null)" = "$runq" ] && kids="$kids $p"
done
kill -9 $runq $kids
wait $runq 2>/dev/null
t_run xt-runq -j 2
t_status 0 "a restart after executors died"
t_ok "every run of job 2 ended once as completed" check_all run2 50

# two xt-runq on one spool
xt-submit -C code --hp hp -- sh short.sh >/dev/null
xt-runq -j 2 >/dev/null 2>&1 &
a=$!
xt-runq -j 2 >/dev/null 2>&1 &
b=$!
wait $a
wait $b
t_ok "two xt-runq drained job 3" check_all run3 50
t_ok "no run was started twice" [ "$(cat "$XT_STORE"/ws/ws1/runs/run3.*/run.json | grep -c '"attempt":1,')" -eq 50 ]
parents_once() {
	for p in run1 run2 run3; do
		[ "$(grep "\"run\":\"$p\"," "$XT_STORE/ws/ws1/index/runs.jsonl" |
		    grep -c '"status":"completed"')" -eq 1 ] || { echo "# $p did not end once"; return 1; }
	done
}
t_ok "each job's parent completed once" parents_once
t_done
