#!/bin/sh
# --rerun: a new job with the original run's code bytes, command and hparams;
# --wait drains the local queue and exits with the worst status.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/job.sh <<'EOS'
echo "version 1 $*"
exit 3
EOS
printf '{"k":5}\n' >hp
t_run xt-submit -C code --hp hp --wait -- sh job.sh
t_status 3 "--wait exits with the run's status"
t_ok "the run failed" [ "$(rec run1 status)" = failed ]
t_ok "with exit code 3" [ "$(rec run1 exit_code)" = 3 ]
echo 'echo "version 2"' >code/job.sh
t_run xt-submit --rerun run1 --wait
t_status 3 "the rerun runs the old code"
t_run xt-get -c run2/output.txt
printf 'version 1 --k=5\n' >want
t_out_is want "with the same bytes, command and hparams"
t_ok "the rerun's job remembers the original" grep -q '"rerun_of":"run1"' "$XT_STORE/ws/ws1/jobs/job2/job.json"
t_ok "the rerun's code manifest is the original's" cmp -s "$XT_STORE/ws/ws1/jobs/job1/code.jsonl" "$XT_STORE/ws/ws1/jobs/job2/code.jsonl"
t_run xt-submit -C code --wait -- sh job.sh
t_status 0 "a run that succeeds: --wait exits 0"
t_done
