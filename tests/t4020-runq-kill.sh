#!/bin/sh
# xt-runq kill stops running runs (TERM, then KILL after the grace period)
# and cancels waiting ones.
. "$(dirname "$0")/lib.sh"

mkdir code
echo 'echo started; exec sleep 1000' >code/long.sh
echo 'trap "echo ignoring TERM" TERM; echo started; while :; do sleep 0.1; done' >code/stubborn.sh
xt-submit -C code -- sh long.sh >/dev/null
xt-submit -C code -- sh stubborn.sh >/dev/null
xt-submit -C code -- sh long.sh >/dev/null
xt-runq -j 2 -g 0.5 >/dev/null 2>&1 &
runq=$!
t_ok "run1 starts" wait_status run1 running
t_ok "run2 starts" wait_status run2 running
t_run xt-runq ls
t_ok "ls shows two running with their executor's pid" [ "$(grep -c '"state":"running","pid":' "$T/out")" -eq 2 ]
t_ok "and one queued" grep -q '"run":"run3".*"state":"queued"' "$T/out"
t_run xt-runq kill run3
t_status 0 "kill a queued run"
t_ok "it is cancelled without running" test "$(rec run3 status)" = cancelled -a -z "$(rec run3 started)"
t_run xt-runq kill run1 job2
t_status 0 "kill a run and a job"
t_ok "run1 is cancelled" wait_status run1 cancelled
t_ok "run2, which ignores TERM, is killed after the grace period" wait_status run2 cancelled
wait $runq
t_ok "xt-runq ends when nothing is left" [ $? -eq 0 ]
t_ok "run1 ended by SIGTERM" [ "$(rec run1 exit_code)" = 143 ]
t_ok "run2 ended by SIGKILL" [ "$(rec run2 exit_code)" = 137 ]
t_run xt-get -c run2/output.txt
t_ok "run2 saw the TERM first" grep -q "ignoring TERM" "$T/out"
events run1 >ev
t_ok "a cancelled event is logged" grep -qx cancelled ev
t_run xt-runq kill run1
t_status 1 "killing a run that is not in the queue"
t_err_has "'run1': no such run or job in the local queue" "says so"

# kill -g: the grace period goes along with the signal
xt-submit -C code -- sh stubborn.sh >/dev/null
xt-runq >/dev/null 2>&1 &
runq=$!
t_ok "run4 starts under an xt-runq with the default grace of 10 s" wait_status run4 running
t_run xt-runq exec run4
t_status 1 "exec refuses a run that is running already"
t_err_has "run 'run4' is running already" "and says so"
t_run xt-runq kill -g 0.2 run4
t_status 0 "kill -g 0.2"
t_ok "the run is killed after 0.2 s, not 10 s" wait_status run4 cancelled
wait $runq
t_ok "by SIGKILL" [ "$(rec run4 exit_code)" = 137 ]
t_run xt-runq exec run4
t_status 1 "exec of a run that has ended"
t_err_has "run 'run4' has ended already (cancelled)" "says so"

# a parent whose children are all cancelled while queued is cancelled too
printf '{"a":1}\n{"a":2}\n' >hp
xt-submit -C code --hp hp -- sh long.sh >/dev/null
t_run xt-runq kill run5
t_status 0 "kill a parent run's waiting children"
t_ok "the children are cancelled" [ "$(rec run5.1 status)$(rec run5.2 status)" = cancelledcancelled ]
t_ok "and so is the parent" [ "$(rec run5 status)" = cancelled ]
t_done
