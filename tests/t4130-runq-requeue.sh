#!/bin/sh
# xt-runq requeue RUN|JOB...: cancelled and failed runs go back to the
# queue (as Slurm's scontrol requeue); completed and running ones are
# refused.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/flaky.sh <<'EOS'
echo "attempt $XT_ATTEMPT"
[ -e "$FIXED" ] || exit 3
EOS
export FIXED="$T/fixed"
xt-submit -C code -- sh flaky.sh >/dev/null
t_run xt-runq -q
t_status 1 "run1 fails: xt-runq exits 1"
t_ok "run1 failed" [ "$(rec run1 status)" = failed ]
touch "$FIXED"
t_run xt-runq requeue run1
t_status 0 "requeue a failed run"
echo "xt-runq: run1 requeued" >want
t_ok "says so" cmp -s want "$T/err"
t_ok "it is queued" [ "$(rec run1 status)" = queued ]
t_ok "its end is gone" [ -z "$(rec run1 ended)$(rec run1 exit_code)" ]
t_ok "it has a queue entry" grep -q '"run":"run1"' "$XT_HOME"/spool/queue/*
events run1 >ev
t_ok "a requeued event is logged" grep -qx requeued ev
t_run xt-runq -q
t_status 0 "xt-runq runs it again"
t_ok "it completes" [ "$(rec run1 status)" = completed ]
t_ok "as attempt 2: attempts go on counting" [ "$(rec run1 attempt)" = 2 ]
t_run xt-get -c run1/output.txt
t_ok "its console has both attempts" grep -qx "attempt 2" "$T/out"

t_run xt-runq requeue run1
t_status 1 "a completed run is refused"
t_err_has "run 'run1' is completed: only cancelled or failed runs can be requeued" "with a clear message"
t_ok "it stays completed" [ "$(rec run1 status)" = completed ]

# a running run is refused; a cancelled one goes back
echo 'exec sleep 1000' >code/long.sh
xt-submit -C code -- sh long.sh >/dev/null
xt-runq -q >/dev/null 2>&1 &
runq=$!
t_ok "run2 runs" wait_status run2 running
t_run xt-runq requeue run2
t_status 1 "a running run is refused"
t_err_has "run 'run2' is running: only cancelled or failed runs can be requeued" "says why"
xt-runq kill -g 0 run2
wait $runq
t_ok "run2 is cancelled" [ "$(rec run2 status)" = cancelled ]
t_run xt-runq requeue job2
t_status 0 "requeue a job"
t_ok "its cancelled run is queued" [ "$(rec run2 status)" = queued ]
t_run xt-runq requeue run2
t_status 0 "requeue a queued run again: nothing to do"
t_ok "one queue entry" [ "$(grep -l '"run":"run2"' "$XT_HOME"/spool/queue/* | wc -l)" -eq 1 ]
t_run xt-runq kill run2
t_ok "cancelled again" [ "$(rec run2 status)" = cancelled ]

# retries start again after a requeue: retries 1, so attempts 1 2, requeue, 3 4
rm "$FIXED"
xt-submit -C code --retries 1 -- sh flaky.sh >/dev/null
t_run xt-runq -q
t_ok "run3 fails twice" [ "$(rec run3 status)/$(rec run3 attempt)" = failed/2 ]
t_run xt-runq requeue run3
t_run xt-runq -q
t_ok "after a requeue it gets its retry again" [ "$(rec run3 status)/$(rec run3 attempt)" = failed/4 ]

# a parent that ended waits for its requeued child, and ends again after it
printf '{"i":1}\n{"i":2}\n' >hp
xt-submit -C code --hp hp -- sh flaky.sh >/dev/null
t_run xt-runq -q
t_ok "run4's children fail, and the parent" \
    [ "$(rec run4.1 status)$(rec run4.2 status)$(rec run4 status)" = failedfailedfailed ]
touch "$FIXED"
t_run xt-runq requeue run4.2
t_status 0 "requeue one child"
t_ok "the parent waits again" [ "$(rec run4 status)" = queued ]
t_run xt-runq -q
t_ok "the child completes" [ "$(rec run4.2 status)" = completed ]
t_ok "the parent ends again, failed (run4.1 failed)" [ "$(rec run4 status)" = failed ]
t_run xt-runq requeue run4
t_status 0 "requeue a parent: its failed children"
t_ok "run4.1 is queued, run4.2 stays completed" \
    [ "$(rec run4.1 status)$(rec run4.2 status)" = queuedcompleted ]
t_run xt-runq -q
t_ok "now the parent completes" [ "$(rec run4 status)" = completed ]
t_run xt-runq requeue nosuch
t_status 2 "a name that is no run or job"
t_err_has "'nosuch' is not a run or job name" "is refused"
xt-submit -- sh -c 'exit 3' >out
bad=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' out)
xt-runq -q
t_run xt-runq requeue "$bad" nosuch
t_status 2 "a bad name after a good one is refused"
t_ok "before the good one is requeued" [ "$(rec "$bad" status)" = failed ]
t_done
