#!/bin/sh
# xt-runq drains the queue with at most -j N runs at once (checked from the
# recorded start and end times), gives each run its environment, and
# captures its console and output files.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/run.sh <<'EOS'
echo "args: $*"
echo "env: $XT_WS $XT_EXP $XT_JOB $XT_RUN $XT_NODE $XT_HPARAMS"
[ "$PWD" = "$XT_RUN_DIR" ] && echo "cwd ok"
[ -f run.sh ] && echo "code ok"
echo "to stderr" >&2
echo "result $XT_RUN" >"$XT_OUTPUT_DIR/result.txt"
mkdir -p "$XT_OUTPUT_DIR/sub" && echo deep >"$XT_OUTPUT_DIR/sub/x"
echo '{"event":"metrics","step":1,"data":{"acc":0.5}}' >>"$XT_LOG"
echo '{"event":"metrics","step":2,"data":{"acc":0.75,"loss":1}}' >>"$XT_LOG"
sleep 0.3
EOS
i=0
: >hp
while [ $i -lt 8 ]; do echo "{\"i\":$i,\"name\":\"n$i\"}" >>hp; i=$((i + 1)); done
xt-submit -C code -e e1 --hp hp -- sh run.sh >/dev/null
t_run xt-runq -j 3
t_status 0 "drain 8 runs with -j 3"
: >empty
t_run xt-runq ls
t_status 0 "ls after the drain"
t_out_is empty "the queue is empty"
for k in 1 2 3 4 5 6 7 8; do
	[ "$(rec run1.$k status)" = completed ] || break
done
t_ok "every run completed" test "$k" = 8 -a "$(rec run1.8 status)" = completed
# the most runs at once, from the records' start and end times
cat "$XT_STORE"/ws/ws1/runs/run1.*/run.json >recs
t_run python3 -c '
import json, sys
ev = []
for l in open("recs"):
    r = json.loads(l)
    ev.append((r["started"], 1)); ev.append((r["ended"], -1))
ev.sort(key=lambda e: (e[0], e[1]))
n = m = 0
for t, d in ev:
    n += d; m = max(m, n)
print(m)'
t_ok "never more than 3 at once" [ "$(cat "$T/out")" -le 3 ]
t_ok "and more than one at once" [ "$(cat "$T/out")" -ge 2 ]

t_run xt-get -c run1.3/output.txt
cat >want <<EOW
args: --i=2 --name=n2
env: ws1 e1 job1 run1.3 $(hostname) {"i":2,"name":"n2"}
cwd ok
code ok
to stderr
EOW
t_out_is want "stdout and stderr are captured, with the run's environment"
t_run xt-get -c run1.3/output/result.txt
echo "result run1.3" >want
t_out_is want "files left in XT_OUTPUT_DIR are captured"
t_run xt-get -c run1.3/output/sub/x
t_status 0 "with their folders"
t_run xt-get -c run1.3/files.jsonl
t_ok "files.jsonl lists them" test "$rc" -eq 0 -a "$(wc -l <"$T/out")" -eq 2
t_ok "metrics hold the last value of each" [ "$(rec run1.3 metrics)" = '{"acc": 0.75, "loss": 1}' ]
t_ok "step is the last step" [ "$(rec run1.3 step)" = 2 ]
t_ok "exit code and duration are recorded" test "$(rec run1.3 exit_code)" = 0 -a -n "$(rec run1.3 duration)"
events run1.3 >ev
printf 'created\nqueued\nstarted\nmetrics\nmetrics\nended\n' >want
t_ok "events: created queued started ... ended" cmp -s want ev
t_ok "the parent completes with its children" [ "$(rec run1 status)" = completed ]
t_ok "the index has every state change" [ "$(grep -c '"run":"run1.3"' "$XT_STORE/ws/ws1/index/runs.jsonl")" -eq 3 ]

# xt-runq exec runs one run now and passes its status on
xt-submit -C code -- sh -c 'exit 7' >/dev/null
t_run xt-runq exec run2
t_status 7 "exec runs one run and exits with its status"
t_run xt-runq ls
t_status 0 "ls after exec"
t_out_is empty "it is not left in the queue"
xt-submit -C code --no-check -- no-such-command >/dev/null
t_run xt-runq exec run3
t_status 127 "a command that is not found exits 127"
t_run xt-get -c run3/output.txt
t_ok "and says so in the console" grep -q "cannot run 'no-such-command'" "$T/out"
t_run xt-runq exec run99
t_status 1 "exec of a run that does not exist"
t_err_has "no run 'run99'" "names it"
# -f keeps waiting for new runs
xt-runq -f >/dev/null 2>&1 &
follower=$!
xt-submit -C code -- sh -c 'echo late' >/dev/null
t_ok "a follower runs a run submitted after it started" wait_status run4 completed
t_ok "and is still waiting" kill -0 $follower
kill $follower
wait $follower 2>/dev/null
t_run xt-runq -j 0
t_status 2 "-j 0 is a usage error"
t_run xt-runq bogus
t_status 2 "an unknown subcommand"
t_done
