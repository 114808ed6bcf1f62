#!/bin/sh
# An executor runs one run after another (one process for many runs, not
# one a run), and a kill is for the run it names: one that comes for a run
# its executor has finished is ignored by the run the executor went on to.
. "$(dirname "$0")/lib.sh"

sig=$XT_BIN/../helper/runq-signal
mkdir code
echo 'echo $PPID' >code/quick.sh
echo 'echo $PPID; exec sleep 1000' >code/long.sh

# each run's command prints its parent, the executor
i=0
while [ $i -lt 12 ]; do echo "{\"i\":$i}" >>hp; i=$((i + 1)); done
xt-submit -C code --hp hp -- sh quick.sh >/dev/null
t_run xt-runq -q -j 2
t_status 0 "12 quick runs, 2 at once"
t_ok "all completed" [ "$(cat "$XT_STORE"/ws/ws1/runs/run1.*/run.json | grep -c '"status":"completed"')" -eq 12 ]
cat "$XT_STORE"/ws/ws1/runs/run1.*/output.txt | sort -u >ppids
t_ok "by fewer executors than runs" [ "$(wc -l <ppids)" -ge 1 ] && [ "$(wc -l <ppids)" -lt 12 ]
t_ok "that have all exited" sh -c 'for p in $(cat ppids); do kill -0 $p 2>/dev/null && exit 1; done; exit 0'

# run2 ends, and its executor goes on to run3
xt-submit -C code -- sh quick.sh >/dev/null
xt-submit -C code -- sh long.sh >/dev/null
entry2=$(grep -l '"run":"run2"' "$XT_HOME"/spool/queue/*.json)
entry2=${entry2##*/}
xt-runq -j 1 -g 0.2 >runq.out 2>runq.err &
runq=$!
t_ok "run3 runs" wait_status run3 running
t_run xt-runq ls
pid=$(sed -n 's/.*"run":"run3".*"pid":\([0-9]*\).*/\1/p' "$T/out")
t_ok "its executor ran run2 too" [ -n "$pid" ] && [ "$(xt-get -c run2/output.txt)" = "$pid" ]
t_run "$sig" "$pid" "$entry2" 0
t_status 0 "a kill for run2, which has ended, to the executor"
sleep 0.5
t_ok "run3 goes on" [ "$(rec run3 status)" = running ]
t_ok "its executor too" kill -0 "$pid"
t_run xt-runq kill run3
t_status 0 "a kill for run3"
t_ok "stops it" wait_status run3 cancelled
settle $runq
t_ok "xt-runq ends when nothing is left" [ "$rc" -eq 0 ]
t_ok "run2 completed" [ "$(rec run2 status)" = completed ]
t_ok "run3 cancelled by xt-runq kill" [ "$(rec run3 exit_code)" = 143 ] &&
    xt-get -c run3/log.jsonl | grep -q '"reason":"killed with xt-runq kill"'
t_done
