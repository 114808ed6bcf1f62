#!/bin/sh
# --parent-script runs once on the machine before the job's runs.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/setup.sh <<EOS
echo setup >>"$T/setup-count"
echo "setting up"
EOS
echo '[ -f "'"$T"'/setup-count" ] && echo "saw setup"' >code/run.sh
printf '{"a":1}\n{"a":2}\n{"a":3}\n' >hp
xt-submit -C code --hp hp --parent-script setup.sh -- sh run.sh >/dev/null
t_run xt-runq -j 2
t_status 0 "a job of 3 runs with a parent script"
t_ok "the parent script ran once" [ "$(wc -l <"$T/setup-count")" -eq 1 ]
t_ok "every run completed after it" [ "$(rec run1.1 status)$(rec run1.2 status)$(rec run1.3 status)" = completedcompletedcompleted ]
t_run xt-get -c run1.2/output.txt
echo "saw setup" >want
t_out_is want "runs see what it did"
t_run xt-get -c "job1/parent-$(hostname).txt"
echo "setting up" >want
t_out_is want "its console is stored with the job"

echo 'echo broken; exit 9' >code/setup.sh
xt-submit -C code --parent-script setup.sh -- sh run.sh >/dev/null
t_run xt-runq
t_ok "when the parent script fails, the run fails" [ "$(rec run2 status)" = failed ]
t_ok "and says why" [ "$(rec run2 error)" = "the parent script failed" ]
t_done
