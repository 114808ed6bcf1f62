#!/bin/sh
# The slurm target with Slurm's accounting, on a private cluster with
# slurmdbd and MariaDB (scripts/slurm-up.sh, SLURM_DBD=1): runs whose
# tasks ended without their runs' ends, on a controller that has since
# forgotten them (as squeue does after MinJobAge; here the controller is
# restarted without its job state), are recorded with the state sacct
# gives, one sacct for them all, and not asked of again; with slurmdbd
# down, such a run is settled all the same, as gone from squeue. The
# cluster holds jobs to their QOS's limits (AccountingStorageEnforce), and
# a time over the MaxWall of the QOS a target names fails at submit.
R=$(cd "$(dirname "$0")/.." && pwd)
tdir=$R/tests
. "$tdir/lib.sh"
. "$tdir/slurm.sh"
slurm_need
enforce=AccountingStorageEnforce=associations,limits,qos
SLURM_DBD=1 SLURM_CPUS=4 SLURM_EXTRA_CONF=$enforce slurm_start slurm
mkdir work
# every call of a Slurm command, logged: "TIME COMMAND ARGS"
slurm_wrap sbatch squeue sacct scancel scontrol
cd work || exit 1
cat >xt.yaml <<EOF
targets:
  hpc: {type: slurm, max-runs: 4, poll-interval: 1}
  other: {type: slurm, max-runs: 4, poll-interval: 1}
  short: {type: slurm, qos: short, time: "00:10:00", poll-interval: 1}
  short5: {type: slurm, qos: short, time: "5", poll-interval: 1}
  shortargs: {type: slurm, poll-interval: 1, sbatch-args: [-q, short, -t, "0-0:5:01"]}
  shortnotime: {type: slurm, qos: short, poll-interval: 1}
  deny: {type: slurm, qos: deny, time: "10", poll-interval: 1}
EOF
export PIDDIR="$T/work"
# the run writes its executor's PID, then waits for its end
cat >wait.sh <<'EOF'
#!/bin/sh
echo "$PPID" >"$PIDDIR/$XT_RUN.pid"
exec sleep 300
EOF
chmod +x wait.sh
# running RUN: RUN's command wrote its executor's PID and the store has its start
running() {
	_i=0
	while [ $_i -lt 300 ] && { [ ! -s "$1.pid" ] || [ "$(rec "$1" status)" != running ]; }; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(rec "$1" status)" = running ]
}
# ended ARRAY N: sacct has the N tasks of ARRAY, ended (within 60 s)
ended() {
	_i=0
	while [ $_i -lt 300 ]; do
		[ "$(/usr/bin/sacct -n -P -X -j "$1" -o State 2>/dev/null |
		    grep -cv 'RUNNING\|PENDING')" -eq "$2" ] && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}
arrayof() { sed -n 's/.*"array":\([0-9]*\).*/\1/p' "$XT_STORE/ws/ws1/jobs/$1/slurm.jsonl" | tail -n 1; }
runsof() { sed -n 's/.*"run":"\(run[0-9.]*\)".*/\1/p' "$T/out" | tr '\n' ' '; }

t_ok "sacct answers on this cluster" /usr/bin/sacct -n -X -o JobID

# QOS limits: short holds a job to 5 minutes and takes one over it, to
# leave it pending for ever; deny refuses one over it
me=$(id -un)
sacctmgr -i add user "$me" account=root >/dev/null 2>&1
t_ok "the QOS short is made" sacctmgr -i add qos short MaxWall=5
t_ok "the QOS deny is made" sacctmgr -i add qos deny MaxWall=5 Flags=DenyOnLimit
t_ok "the user may take both" sacctmgr -i modify user "$me" set qos+=short,deny
# sacctmgr tells slurmctld; wait until sbatch sees both
i=0
until sbatch --test-only -q short -t 5 --wrap true >/dev/null 2>&1 &&
    sbatch --test-only -q deny -t 5 --wrap true >/dev/null 2>&1 || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "sbatch --test-only passes a time over the MaxWall of short (so xt checks it)" \
    sbatch --test-only -q short -t 10 --wrap true
nj=$(/usr/bin/squeue -h -t all -o %i | wc -l)
t_run xt-submit -t short -- ./wait.sh
t_status 1 "a time over the MaxWall of the QOS named fails at submit"
t_err_has "target 'short': a time limit of 00:10:00 is over the MaxWall of QOS 'short' (00:05:00)" \
    "and says so"
t_err_has "(QOSMaxWallDurationPerJobLimit)" "with the reason Slurm would wait on"
t_ok "and nothing is stored" test ! -e "$XT_STORE/ws/ws1/runs"
t_run xt-submit -t shortargs -- ./wait.sh
t_status 1 "the QOS and the time in sbatch-args: 5:01 is over 5 minutes"
t_err_has "a time limit of 0-0:5:01 is over the MaxWall of QOS 'short'" "and says so"
t_ok "nothing was given to Slurm" test "$(/usr/bin/squeue -h -t all -o %i | wc -l)" -eq "$nj"
t_run xt-submit -t deny -- ./wait.sh
t_status 1 "a QOS that denies a job over its limit: Slurm's test refuses it"
t_err_has "sbatch --test-only refused the job" "and says so"
t_err_has "QOSMaxWallDurationPerJobLimit" "in Slurm's words"
t_run xt-submit -t short5 -- true
t_status 0 "a time within the MaxWall is submitted"
t_run xt-submit -t shortnotime -- true
t_status 0 "and no time at all (Slurm takes the QOS's MaxWall)"
t_ok "both are given to Slurm" test -n "$(arrayof job1)" -a -n "$(arrayof job2)"

# two runs on hpc, one on other, whose executors are killed: their tasks
# end FAILED, and nothing is recorded
t_run xt-submit -t hpc --runs 2 -- ./wait.sh
t_status 0 "a job of 2 runs is submitted"
set -- $(runsof)
r1=$1
r2=$2
t_run xt-submit -t other -- ./wait.sh
set -- $(runsof)
r3=$1
t_ok "its first run runs" running "$r1"
t_ok "its second run runs" running "$r2"
t_ok "the other job's run runs" running "$r3"
kill -9 "$(cat "$r1.pid")" "$(cat "$r2.pid")" "$(cat "$r3.pid")"
t_ok "sacct has both tasks of the first job, ended" ended "$(arrayof "$(rec "$r1" job)")" 2
t_ok "and the other job's" ended "$(arrayof "$(rec "$r3" job)")" 1
# the controller forgets them: restarted without its job state (new ids
# from 1000, so that none is taken again)
"$up" stop "$S" >/dev/null 2>&1
rm -f "$S"/state/job_state*
# (its QOS limits no longer held: the cases that follow need none)
t_ok "the cluster starts again without its jobs" sh -c 'SLURM_DBD=1 SLURM_CPUS=4 \
    SLURM_EXTRA_CONF=FirstJobId=1000 "$1" start "$2" >/dev/null' - "$up" "$S"
t_ok "squeue has forgotten them" test -z "$(/usr/bin/squeue -h -t all -o %i)"

before=$(grep -c ' sacct ' "$T/calls")
t_run xt-runq ls -t hpc
t_status 0 "xt-runq ls polls them"
t_ok "one sacct for both" test "$(($(grep -c ' sacct ' "$T/calls") - before))" -eq 1
for r in $r1 $r2; do
	t_ok "$r: failed with the state sacct gives" test "$(rec "$r" status): $(rec "$r" error)" = \
	    "failed: lost: its Slurm task ended FAILED"
done
t_run xt-runq ls -t hpc
t_ok "a later poll asks sacct nothing" test "$(($(grep -c ' sacct ' "$T/calls") - before))" -eq 1

# slurmdbd down: sacct fails, and the run is settled all the same
kill "$(cat "$S/run/slurmdbd.pid")"
t_run xt-runq ls -t other
t_status 0 "xt-runq ls polls the other run, sacct failing"
t_ok "it is failed as gone from squeue" test "$(rec "$r3" status): $(rec "$r3" error)" = \
    "failed: lost: its Slurm task ended and is gone from squeue"
t_done
