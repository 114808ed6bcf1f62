#!/bin/sh
# A run of several processes (--procs-per-node P): each rank gets
# torchrun's environment and XT_RANK; every rank's console is kept,
# labelled "R: "; rank 0's log is the run's; one rank that fails stops
# the others and fails the run, naming it; a cancel stops every rank;
# --nodes N > 1 is refused on the local target.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/env.sh <<'EOS'
echo "vars $WORLD_SIZE $RANK $LOCAL_RANK $LOCAL_WORLD_SIZE $NODE_RANK $MASTER_ADDR $MASTER_PORT $XT_RANK"
echo "{\"event\":\"metrics\",\"data\":{\"rank\":$RANK}}" >>"$XT_LOG"
[ "$RANK" = 0 ] || [ "$XT_LOG" = /dev/null ] || echo "rank $RANK has a log"
printf 'half'
sleep 0.2
echo " of a line from $RANK"
EOS
t_run xt-submit -C code --procs-per-node 4 -- sh env.sh
t_status 0 "submit a run of 4 processes"
t_ok "its record says procs_per_node 4" grep -q '"procs_per_node":4' "$T/out"
t_run xt-runq
t_status 0 "it runs"
t_ok "and completes" test "$(rec run1 status)" = completed
xt-get -c run1/output.txt >out.txt
grep '^[0-9]: vars ' out.txt | sort >vars
t_run python3 -c '
import sys
rows = [l.split() for l in open("vars")]
ok = len(rows) == 4
for label, l in enumerate(rows):
    _, _, ws, r, lr, lws, nr, addr, port, xr = l
    ok &= ws == "4" and lws == "4" and nr == "0" and addr == "127.0.0.1"
    ok &= r == lr == xr == str(label) and label == int(l[0][:-1])
    ok &= 0 < int(port) < 65536 and port == rows[0][8]
print("ok" if ok else "bad")'
t_ok "each rank has world size 4, its own rank 0..3, one address and port" grep -qx ok "$T/out"
t_ok "a line written in two parts is one labelled line" \
    [ "$(grep -c '^[0-3]: half of a line from [0-3]$' out.txt)" -eq 4 ]
t_ok "no rank but 0 logs to a file" [ "$(grep -c 'has a log' out.txt)" -eq 0 ]
t_ok "the run's metrics are rank 0's" test "$(rec run1 metrics.rank)" = 0

# rank 2 fails: the others are stopped (TERM), the run fails and says which
cat >code/fail.sh <<'EOS'
echo $$ >"$XT_RUN_DIR/../pid.$RANK"
if [ "$RANK" = 2 ]; then sleep 0.3; exit 3; fi
trap 'echo "$RANK stopped"; exit 0' TERM
sleep 100 & wait
EOS
xt-submit -C code --procs-per-node 3 -- sh fail.sh >/dev/null
t_run xt-runq -g 5
t_status 1 "a run with a failing rank fails xt-runq"
t_ok "the run failed" test "$(rec run2 status)" = failed
t_ok "with the failed rank's exit code" test "$(rec run2 exit_code)" = 3
t_ok "its error names the rank" test "$(rec run2 error)" = "rank 2 exited with 3"
t_run xt-get -c run2/log.jsonl
t_ok "a rank_failed event names it" \
    grep -q '"event":"rank_failed","data":{"rank":2,"exit_code":3' "$T/out"
t_run xt-get -c run2/output.txt
t_ok "the other ranks got TERM" grep -q '^0: 0 stopped' "$T/out"
t_ok "rank 1 too" grep -q '^1: 1 stopped' "$T/out"
t_ok "the console says why" grep -q 'rank 2 exited with 3: stopping the other ranks' "$T/out"

# a cancel stops every rank, and none is left
cat >code/stay.sh <<'EOS'
echo $$ >"$XT_RUN_DIR/../pid.$RANK"
exec sleep 1000
EOS
xt-submit -C code --procs-per-node 3 -- sh stay.sh >/dev/null
xt-runq -g 0.5 >/dev/null 2>&1 &
runq=$!
w="$XT_HOME/work/ws1/run3"
i=0
while [ $i -lt 300 ] && ! [ -s "$w/pid.0" -a -s "$w/pid.1" -a -s "$w/pid.2" ]; do
	sleep 0.05
	i=$((i + 1))
done
t_ok "three ranks run" [ -s "$w/pid.2" ]
pids="$(cat "$w"/pid.*)"
t_run xt-runq kill run3
t_status 0 "kill the run"
settle $runq
t_ok "xt-runq ends" [ $rc -eq 0 ]
t_ok "the run is cancelled" test "$(rec run3 status)" = cancelled
left=""
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
t_ok "no rank is left" [ -z "$left" ]

# Ctrl-C (SIGINT to xt-runq's group, as a terminal sends it) stops them too
xt-submit -C code --procs-per-node 2 -- sh stay.sh >/dev/null
setsid xt-runq -g 0.5 >/dev/null 2>&1 &
runq=$!
w="$XT_HOME/work/ws1/run4"
i=0
while [ $i -lt 300 ] && ! [ -s "$w/pid.0" -a -s "$w/pid.1" ]; do
	sleep 0.05
	i=$((i + 1))
done
pids="$(cat "$w"/pid.*)"
kill -INT -$runq
settle $runq
t_ok "after SIGINT the run is cancelled" test "$(rec run4 status)" = cancelled
left=""
for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
t_ok "and no rank is left" [ -n "$pids" -a -z "$left" ]

t_run xt-submit -C code --nodes 2 --procs-per-node 2 -- sh env.sh
t_status 2 "--nodes 2 on the local target"
t_err_has "xt-submit: --nodes 2: target 'local' runs on this machine only" "is refused, saying why"
t_ok "and nothing is stored" test -z "$(rec run5 status)"
printf 'procs-per-node: 0\n' >xt.yaml
t_run xt-submit -C code -- sh env.sh
t_status 2 "a bad procs-per-node in xt.yaml"
t_err_has "./xt.yaml:1:17: procs-per-node '0' is not a whole number from 1 to 1024" "names its place"
printf 'procs-per-node: 2\n' >xt.yaml
t_run xt-submit -C code -- sh env.sh
t_status 0 "procs-per-node from xt.yaml"
t_ok "is the job's" grep -q '"procs_per_node":2' "$XT_STORE/ws/ws1/jobs/job5/job.json"
t_ok "and its run's" test "$(rec run5 procs_per_node)" = 2
rm xt.yaml
t_done
