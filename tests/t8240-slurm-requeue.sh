#!/bin/sh
# xt-runq requeue of runs of a Slurm target, on a private cluster
# (scripts/slurm-up.sh): the cancelled runs of a job go back to Slurm, in
# one sbatch, and run there as their next attempt; none of them gets an
# entry in this machine's spool (where a local xt-runq would have run
# them too); a run queued already is not sent again.
R=$(cd "$(dirname "$0")/.." && pwd)
tdir=$R/tests
. "$tdir/lib.sh"
. "$tdir/slurm.sh"
slurm_need
SLURM_CPUS=4 slurm_start slurm
mkdir work
slurm_wrap sbatch
cd work || exit 1
cat >xt.yaml <<EOF
targets:
  hpc: {type: slurm, max-runs: 4, poll-interval: 1}
  held: {type: slurm, max-runs: 4, poll-interval: 1, sbatch-args: [--hold]}
EOF
# the first attempt waits to be stopped; the next one ends at once
cat >flaky.sh <<'EOF'
#!/bin/sh
[ "${XT_ATTEMPT:-1}" = 1 ] && exec sleep 300
echo "attempt $XT_ATTEMPT"
EOF
chmod +x flaky.sh
sbatches() { grep -c ' sbatch .*--array' "$T/calls" | sed 's/^$/0/'; }
# tasks JOB: how many tasks of the Slurm job named JOB squeue shows
tasks() { /usr/bin/squeue -h -r -n "$1" -o %i | grep -c .; }
# all_running RUN...: each run's record says running (within 60 s)
all_running() {
	_i=0
	while [ $_i -lt 600 ]; do
		_n=0
		for _r; do [ "$(rec "$_r" status)" = running ] && _n=$((_n + 1)); done
		[ $_n -eq $# ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

t_run xt-submit -t hpc --runs 3 -- ./flaky.sh
t_status 0 "a job of 3 runs goes to Slurm"
t_ok "its runs start" all_running run1.1 run1.2 run1.3
t_run xt-runq -t hpc kill job1
t_status 0 "xt-runq kill stops them"
for r in run1.1 run1.2 run1.3; do
	wait_status "$r" cancelled
done
t_ok "and they are cancelled" test "$(rec run1.3 status)" = cancelled
before=$(sbatches)

t_run xt-runq -t hpc requeue job1
t_status 0 "xt-runq requeue takes the job's runs back"
t_err_has "xt-runq: run1.2 requeued (target hpc)" "saying where each goes"
t_run xt-runq ls
t_status 0 "the local spool can be listed"
t_ok "and holds none of them (a local xt-runq would run them)" test ! -s "$T/out"
t_ok "they are sent to Slurm in one sbatch" test "$(sbatches)" -eq $((before + 1))
for r in run1.1 run1.2 run1.3; do
	wait_status "$r" completed
done
t_ok "they run there to the end" test "$(rec run1.1 status)$(rec run1.2 status)$(rec run1.3 status)" = \
    completedcompletedcompleted
t_ok "as their second attempt" test "$(rec run1.2 attempt)" = 2
t_ok "whose output is kept" grep -q "attempt 2" "$XT_STORE/ws/ws1/runs/run1.2/output.txt"

# a run requeued twice, the second time while it waits in Slurm: its
# target sends every task held, so that nothing can start it in between
t_run xt-submit -t held -- ./flaky.sh
t_status 0 "a job of one run"
/usr/bin/scontrol release jobname=job2
t_ok "its run starts" all_running run2
t_run xt-runq -t held kill run2
wait_status run2 cancelled
t_ok "is cancelled" test "$(rec run2 status)" = cancelled
before=$(sbatches)
t_run xt-runq -t held requeue run2
t_status 0 "then requeued"
t_ok "Slurm holds its task" sh -c '/usr/bin/squeue -h -r -n job2 -o %r | grep -q JobHeld'
t_run xt-runq -t held requeue run2
t_status 0 "and requeued again while it waits"
t_ok "is sent once" test "$(sbatches)" -eq $((before + 1))
t_ok "and Slurm holds one task of it" test "$(tasks job2)" -eq 1
t_ok "which is released" /usr/bin/scontrol release jobname=job2
wait_status run2 completed
t_ok "which completes" test "$(rec run2 status)" = completed

t_run xt-runq -t hpc requeue run2
t_status 1 "a completed run cannot be requeued"
t_err_has "run 'run2' is completed: only cancelled or failed runs can be requeued" "saying why"
t_done
