#!/bin/sh
# scripts/slurm-up.sh, the private single-node Slurm cluster of the slurm
# target's tests: it starts in $T with the node idle; sbatch --wait of a
# job whose output lands where asked; an array of 6 with %2, never more
# than 2 tasks at once by their own clocks; scancel of a running job;
# sacct -c lists the jobs; a stop with a job running leaves nothing of
# the cluster (daemons, slurmstepd, the job) by the PIDs recorded; a start
# again keeps the saved state; a stop after slurmd was killed with a job
# running finds that job's slurmstepd and ends it with the job.
R=$(cd "$(dirname "$0")/.." && pwd)
tdir=$R/tests
. "$tdir/lib.sh"
# (the cluster's own defaults, and no job's environment, of a suite run
# inside a Slurm job, leaking into sbatch)
. "$tdir/slurm.sh"
slurm_need
mkdir slurm work outs pids
S=$(cd slurm && pwd -P)
stop_slurm() { "$up" stop "$S"; }
t_cleanup_hooks="$t_cleanup_hooks stop_slurm"
t0=$(date +%s%N)
if ! "$up" start "$S" >env 2>why; then
	why=$(grep -m 1 '^slurm-up: ' why)
	echo "# SKIP Slurm cannot start: ${why#slurm-up: }"
	grep -v -x -F -e "$why" why | head -n 20 | sed 's/^/#   /'
	t_done
	exit
fi
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
echo "# INFO started in $(ms "$t0") ms"
echo "SLURM_CONF=$S/slurm.conf" >want
t_ok "start prints the client's environment" cmp -s want env
t_run "$up" env "$S"
t_out_is want "so does env"
export SLURM_CONF="$S/slurm.conf"
t_run "$up" status "$S"
t_status 0 "status: it runs"

# note PID: record the command line PID runs now; gone PID: it runs it no
# more (a zombie not yet reaped has none)
cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline"; }
note() { for p; do cmdline "$p" >"pids/$p"; done; }
gone() {
	for p; do
		[ -s "pids/$p" ] || return 1
		[ "$(cmdline "$p")" != "$(cat "pids/$p")" ] || return 1
	done
}
daemons() { cat "$S/run/munged.pid" "$S/run/slurmctld.pid" "$S/run/slurmd.pid"; }
first=$(daemons)
note $first
set -- $first
t_ok "the three daemons run, their PIDs in DIR/run" test -s "pids/$1" -a -s "pids/$2" -a -s "pids/$3"
# running FILE: wait until a job's script has written FILE
running() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ]
}

t_run sinfo -h -N -o '%N %P %T %c'
echo "localhost debug* idle 8" >want
t_out_is want "sinfo: the node is idle, with the 8 CPUs it claims"

cat >one.sh <<'EOF'
#!/bin/sh
echo "one ran in $PWD"
EOF
t_run timeout 120 sbatch --wait -J one -D "$T/work" -o "$T/outs/one-%j.out" one.sh
t_status 0 "sbatch --wait of a job"
echo "Submitted batch job 1" >want
t_out_is want "says its job id"
echo "one ran in $T/work" >want
t_ok "its output is in the file asked for" cmp -s want outs/one-1.out
t_ok "in the folder asked for, and nowhere else" test -z "$(ls work)"

# the array: each task notes its start and end, a second apart
cat >arr.sh <<'EOF'
#!/bin/sh
s=$(date +%s.%N)
sleep 1
echo "$SLURM_ARRAY_TASK_ID $s $(date +%s.%N)" >"times.$SLURM_ARRAY_TASK_ID"
EOF
t0=$(date +%s%N)
t_run sbatch --parsable -J arr --array=1-6%2 -o /dev/null arr.sh
t_status 0 "sbatch of an array of 6, 2 at a time"
id=$(cat "$T/out")
# squeue, polled: sbatch --wait polls every 2 s or more
i=0
while [ -n "$(squeue -h -j "$id" 2>&1)" ] && [ $i -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "it ends" test -z "$(squeue -h -j "$id" 2>&1)"
echo "# INFO the array took $(ms "$t0") ms"
cat times.* >times
cut -d' ' -f1 times | sort >got
seq 6 >want
t_ok "all 6 tasks ran" cmp -s want got
# the most tasks running at once: +1 at each start, -1 at each end
awk '{ print $2, 1; print $3, -1 }' times | sort -k1,1n -k2,2n |
    awk '{ n += $2; if (n > m) m = n } END { print m }' >most
echo "# INFO most tasks at once: $(cat most)"
t_ok "never more than 2 at once" test "$(cat most)" -le 2
t_ok "and 2 did run at once" test "$(cat most)" -eq 2

cat >long.sh <<'EOF'
#!/bin/sh
echo "$$ $PPID" >"$1"
exec sleep 300
EOF
t_run sbatch --parsable -J long -o /dev/null long.sh long.pids
t_status 0 "sbatch of a long job"
id=$(cat "$T/out")
t_ok "it runs" running long.pids
note $(cat long.pids)
t_run scancel "$id"
t_status 0 "scancel of the running job"
t_err_empty "says nothing"
i=0
while ! gone $(cat long.pids) && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "ends its script and its slurmstepd" gone $(cat long.pids)
# (COMPLETING until slurmd has told slurmctld, a moment after)
i=0
while t_run scontrol show job "$id" && ! grep -q 'JobState=CANCELLED ' "$T/out" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "scontrol: the job is CANCELLED" grep -q 'JobState=CANCELLED ' "$T/out"
grep -q 'JobState=CANCELLED ' "$T/out" || grep -o 'JobState=[^ ]*' "$T/out" | sed 's/^/# /'


# sacct -c reads the file of finished jobs (a line a job, array tasks under
# their own job ids); it warns about the array fields it does not know
t_run sacct -c -n -P -o JobName,State
t_status 0 "sacct -c"
sort "$T/out" >got
printf 'arr|COMPLETED\narr|COMPLETED\narr|COMPLETED\narr|COMPLETED\narr|COMPLETED\narr|COMPLETED\nlong|CANCELLED\none|COMPLETED\n' >want
t_ok "lists the jobs with their states" cmp -s want got
t_run sacct
t_status 1 "plain sacct fails: there is no slurmdbd"
t_err_has "Slurm accounting storage is disabled" "saying so"

# a stop with a job running
t_run sbatch -J left -o /dev/null long.sh left.pids
t_ok "a job that is left running" running left.pids
note $(cat left.pids)
t0=$(date +%s%N)
t_run "$up" stop "$S"
t_status 0 "stop"
echo "# INFO stopped in $(ms "$t0") ms"
t_ok "no daemon of it is left" gone $first
t_ok "nor the job left, nor its slurmstepd" gone $(cat left.pids)
t_ok "nor their PID files" test -z "$(ls "$S/run")"
t_run "$up" status "$S"
t_status 1 "status: it does not run"

# again, from its saved state
t_run "$up" start "$S"
t_status 0 "a start again in the same folder"
second=$(daemons)
note $second
t_run sbatch -J again -o /dev/null long.sh again.pids
echo "Submitted batch job 10" >want
t_out_is want "keeps its state: job ids go on"
t_ok "the job runs" running again.pids
note $(cat again.pids)
kill -9 "$(cat "$S/run/slurmd.pid")"
t_run "$up" stop "$S"
t_status 0 "a stop after slurmd was killed with a job running"
t_err_has "slurmstepd $(cut -d' ' -f2 again.pids) outlived slurmd: killing it and its processes" "finds the job's slurmstepd"
t_ok "which is gone, with the job" gone $(cat again.pids)
t_ok "as are the daemons" gone $second
t_run "$up" stop "$S"
t_status 0 "a stop of a cluster that is down does nothing"
t_done
