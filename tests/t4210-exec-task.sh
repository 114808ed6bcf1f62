#!/bin/sh
# xt-runq exec --job J --task N runs the Nth run of job J (from 1, as a
# scheduler's array task id), read from the job record; no such task, no
# such job and bad options are refused.
. "$(dirname "$0")/lib.sh"

mkdir code
echo 'echo "task of $XT_JOB: $XT_RUN $*"' >code/say.sh
printf '{"i":1}\n{"i":2}\n{"i":3}\n' >hp
xt-submit -C code --hp hp -- sh say.sh >/dev/null
xt-submit -C code -- sh say.sh >/dev/null

t_run xt-runq exec --job job1 --task 2
t_status 0 "exec --job job1 --task 2"
t_err_has "xt-runq: run1.2 started" "starts the job's second run"
t_run xt-get -c run1.2/output.txt
t_ok "which ran with its hparams" grep -qx 'task of job1: run1.2 --i=2' "$T/out"
t_ok "the others wait" [ "$(rec run1.1 status)$(rec run1.3 status)" = queuedqueued ]
t_run xt-runq ls
t_ok "it was taken out of the queue" [ "$(grep -c '"run":"run1\.[13]"' "$T/out")" = 2 -a \
	"$(grep -c '"run1\.2"' "$T/out")" = 0 ]
t_run xt-runq exec --task 1 --job job2
t_status 0 "the one run of a job of one run (the options in any order)"
t_ok "it completed" [ "$(rec run2 status)" = completed ]
t_run xt-runq exec --job job1 --task 2
t_status 1 "a task whose run has ended"
t_err_has "xt-runq: run 'run1.2' has ended already (completed)" "says so"

# refused
t_run xt-runq exec --job job1 --task 4
t_status 1 "task N+1"
t_err_has "xt-runq: job 'job1' has 3 runs: no task 4" "says how many there are"
t_run xt-runq exec --job job2 --task 2
t_status 1 "task 2 of a job of one run"
t_err_has "xt-runq: job 'job2' has 1 run: no task 2" "says so"
t_run xt-runq exec --job job1 --task 0
t_status 2 "task 0"
t_err_has "xt-runq: option '--task': '0' is not a whole number from 1 to" "says so"
t_run xt-runq exec --job job1 --task x
t_status 2 "a task that is not a number"
t_err_has "option '--task': 'x'" "says so"
t_run xt-runq exec --job job9 --task 1
t_status 1 "a job that does not exist"
t_err_has "xt-runq: no job 'job9' in workspace 'ws1'" "says so"
t_run xt-runq exec --job run1 --task 1
t_status 2 "a run given as the job"
t_err_has "xt-runq: option '--job': 'run1' is not a job name (jobN)" "says so"
t_run xt-runq exec --job job1
t_status 2 "--job without --task"
t_err_has "xt-runq: --job and --task go together, with exec and no run" "says so"
t_run xt-runq exec --task 1 run1.1
t_status 2 "--task without --job"
t_err_has "--job and --task go together" "says so"
t_run xt-runq exec --job job1 --task 1 run1.1
t_status 2 "a task and a run"
t_err_has "--job and --task go together" "says so"
t_run xt-runq --job job1 --task 1 ls
t_status 2 "a task with ls"
t_err_has "--job and --task go together" "says so"
t_ok "nothing else ran" [ "$(rec run1.1 status)$(rec run1.3 status)" = queuedqueued ]
t_done
