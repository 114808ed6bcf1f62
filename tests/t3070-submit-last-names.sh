#!/bin/sh
# '$lastjob' and '$lastrun', as XT's symbols: the newest job and run of the
# workspace (the highest jobN and runN), taken wherever a job or run name
# is: xt-get, xt-log show/out, xt-report show, xt-runq kill/requeue,
# xt-submit --rerun. A job of several runs' newest run is its parent.
. "$(dirname "$0")/lib.sh"

t_run xt-get -c '$lastrun/run.json'
t_status 1 "no run yet"
t_err_has "\$lastrun: workspace 'ws1' has no runs" "says so"
t_run xt-log show '$lastjob'
t_status 1 "no job yet"
t_err_has "\$lastjob: workspace 'ws1' has no jobs" "says so"

mkdir code
echo 'echo "args $*"' >code/job.sh
xt-submit -C code --wait -- sh job.sh one >/dev/null 2>&1
xt-submit -C code --wait -- sh job.sh two >/dev/null 2>&1
xt-get -c job2/job.json >want
t_run xt-get -c '$lastjob/job.json'
t_status 0 "xt-get '\$lastjob/...'"
t_out_is want "is job2's"
printf 'args two\n' >want
t_run xt-get -c '$lastrun/output.txt'
t_out_is want "xt-get '\$lastrun/...' is run2's"
xt-log out run2 >want
t_run xt-log out '$lastrun'
t_status 0 "xt-log out '\$lastrun'"
t_out_is want "is run2's console"
xt-log show job2 >want
t_run xt-log show '$lastjob'
t_out_is want "xt-log show '\$lastjob' is job2's"
xt-report show run2 >want
t_run xt-report show '$lastrun'
t_status 0 "xt-report show '\$lastrun'"
t_out_is want "is run2's"
t_run xt-submit --rerun '$lastrun' --wait
t_status 0 "xt-submit --rerun '\$lastrun'"
t_ok "reruns run2" grep -q '"rerun_of":"run2"' "$XT_STORE/ws/ws1/jobs/job3/job.json"

xt-submit -C code -n 2 -- sh job.sh many >/dev/null 2>&1
t_run xt-report show '$lastrun'
t_status 0 "a job of several runs"
t_ok "its newest run is the parent, run4" grep -q '^run  *run4 ' "$T/out"
t_run xt-submit --rerun '$lastrun'
t_status 1 "which cannot be rerun, as a parent cannot"
t_err_has "'run4' is a parent run" "says which"
t_run xt-runq kill '$lastjob'
t_status 0 "xt-runq kill '\$lastjob'"
t_ok "cancels job4's runs" [ "$(rec run4.1 status)" = cancelled ] && [ "$(rec run4.2 status)" = cancelled ]
t_run xt-runq requeue '$lastrun'
t_status 0 "xt-runq requeue '\$lastrun'"
t_ok "requeues the parent's children" [ "$(rec run4.1 status)" = queued ]

echo nine >f9
echo ten >f10
xt-put f9 :ws/other/runs/run9/f >/dev/null
xt-put f10 :ws/other/runs/run10/f >/dev/null
printf 'ten\n' >want
t_run xt-get -w other -c '$lastrun/f'
t_out_is want "the highest number, not the last in name order"
t_done
