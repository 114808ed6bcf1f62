#!/bin/sh
# The target seam on the local target: xt-submit, --wait, xt-runq ls and
# kill go through it as before; a target of a type this xt has no backend
# for is refused, naming the target and its type, with nothing stored.
. "$(dirname "$0")/lib.sh"

mkdir code
echo 'exec sleep 1000' >code/long.sh
echo 'c=${1#--c=}; exit "${c:-0}"' >code/code.sh
cat >code/lost.sh <<'EOS'
rm -f "$XT_HOME"/spool/running/*
kill -9 $PPID
sleep 5
EOS
echo 'rm "${XT_STORE#file://}/ws/$XT_WS/runs/$XT_RUN/run.json"' >code/gone.sh
url="file://$XT_STORE"

# submit through the target: the runs are in the local queue
xt-submit -C code -- sh long.sh >/dev/null
printf '{"a":1}\n{"a":2}\n' >hp
xt-submit -C code --hp hp -- sh long.sh >/dev/null
for r in run1:job1 run2.1:job2 run2.2:job2; do
	echo "{\"store\":\"$url\",\"ws\":\"ws1\",\"run\":\"${r%:*}\",\"job\":\"${r#*:}\",\"state\":\"queued\"}"
done >expect
t_run xt-runq ls
t_status 0 "ls lists the local queue"
t_out_is expect "the three runs, queued, oldest first"
t_run xt-runq -t local ls
t_status 0 "ls -t local"
t_out_is expect "the same"
t_run xt-runq -t nosuch ls
t_status 2 "ls of an unknown target"
t_err_has "xt-runq: unknown target 'nosuch' (not under 'targets' in the configuration)" "names it"

# an ssh target whose one box does not answer, a slurm target (no
# backend in this build), a type that is none: refused (1), nothing stored
dead=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >xt.yaml <<EOS
targets:
  lab: {type: ssh, hosts: [me@127.0.0.1:$dead], max-runs: 1, ssh-config: none}
  hpc: {type: slurm, partition: gpu}
  odd: {type: cloud}
EOS
ls -R "$XT_STORE" "$XT_HOME/spool" >before
t_run xt-submit -t lab -C code -- true
t_status 1 "submit to an ssh target whose box is down"
t_err_has "xt-submit: target 'lab': no box can take runs: me@127.0.0.1:$dead: cannot connect" "names the target and the box"
t_run xt-submit -t hpc -C code -- true
t_status 1 "submit to a slurm target whose cluster cannot be reached"
t_err_has "xt-submit: target 'hpc': scontrol show config: " "says so, in Slurm's words"
t_run xt-submit -t odd -C code -- true
t_status 1 "submit to a target of an unknown type"
t_err_has "xt-submit: target 'odd' is of type 'cloud': no such type (local, ssh, slurm)" "says so"
ls -R "$XT_STORE" "$XT_HOME/spool" >after
t_ok "nothing was stored or queued" cmp -s before after
t_run xt-runq -t lab ls
t_status 1 "ls of an ssh target whose box is down"
t_err_has "xt-runq: target 'lab': box me@127.0.0.1:$dead: me@127.0.0.1:$dead: cannot connect" "says so"
t_run xt-runq -t lab kill run1
t_status 1 "kill on an ssh target whose box is down"
t_err_has "'run1': no such run or job in target 'lab'" "says so"
t_ok "and kills nothing" [ "$(rec run1 status)" = queued ]
rm xt.yaml

# kill through the target: every name is tried, those that match nothing said
t_run xt-runq kill job2 run9 job7
t_status 1 "kill a job and two names that match nothing"
t_err_has "xt-runq: 'run9': no such run or job in the local queue" "says the first"
t_err_has "xt-runq: 'job7': no such run or job in the local queue" "and the second"
t_ok "the job's runs are cancelled" [ "$(rec run2.1 status)$(rec run2.2 status)" = cancelledcancelled ]
t_run xt-runq kill run1
t_status 0 "kill the last one"
t_ok "it is cancelled" [ "$(rec run1 status)" = cancelled ]
: >empty
t_run xt-runq ls
t_out_is empty "the queue is empty"

# --wait through the target: the worst exit status of the job's runs
printf '{"c":0}\n{"c":3}\n' >hp2
t_run xt-submit --wait -C code --hp hp2 -- sh code.sh
t_status 3 "--wait exits with the worst exit code"
t_ok "it printed the two runs" [ "$(grep -c '"run":"run3\.[12]"' "$T/out")" -eq 2 ]
t_ok "run3.1 completed, run3.2 failed" [ "$(rec run3.1 status)$(rec run3.2 status)" = completedfailed ]
t_run xt-submit --wait -C code -- sh code.sh
t_status 0 "--wait of a run that completes"
# a run gone from the queue without an end: --wait says so and counts it 1
t_run xt-submit --wait -C code -- sh lost.sh
t_status 1 "--wait of a run that is lost"
t_err_has "xt-submit: run 'run5' is queued but no longer in the local queue" "says so"
# a run whose record is gone by its end: how it ended is not known, and
# --wait does not take that for a success
t_run xt-submit --wait -C code -- sh gone.sh
t_status 1 "--wait of a run whose record is gone at its end"
t_err_has "xt-submit: run 'run6' ended, but its record cannot be read" "says so"
t_err_has "xt-runq: run run6: cannot record its end" "as xt-runq did, which ran it"
t_err_has "xt-runq: 0 runs: 1 executor errors" "counting it an error, not a completion"
t_ok "no line says it completed" test "$(grep -c 'run6 completed' "$T/err")" -eq 0
t_done
