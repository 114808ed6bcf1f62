#!/bin/sh
# The slurm target on the private cluster of scripts/slurm-up.sh: bad
# settings refused at submit (a bad partition by sbatch --test-only, with
# nothing stored; a pass kept for the same options, and what happens when
# the cluster refuses them later, or cannot be reached); xt-runq ls on a
# status snapshot older than the runs' sends and ends; a sweep of 20 runs with max-runs 4 in one sbatch, all
# completed with their metrics, never more than 4 at once by their
# records, Slurm's own output in the job's folder; the scheduler asked
# once a poll interval however many processes look; xt-runq ls and kill
# of a running and a waiting run; a task cancelled by hand, one whose
# executor is killed (retried by the policy), one stopped by its time
# limit (failed as TIMEOUT, then retried); a job of 2,500 runs cut into 3
# arrays at MaxArraySize 1001, each after the one before; a run lost while
# only xt-report looks (it polls; where squeue fails it says so and reports
# the records); a task Slurm requeues (a preemption: run again, not counted
# as a retry); a task that ends before its run starts (sent three times,
# then the run fails); a run of 3 ranks and a torch.distributed all-reduce of 4
# (runs of several nodes: t8220); a sweep with the store on Azurite; a
# big job's deferred records (its plan; each run's own made by its first
# change), and submits killed at any point; a controller at MaxJobCount
# (a busy Slurm, not a refusal).
R=$(cd "$(dirname "$0")/.." && pwd)
tdir=$R/tests
. "$tdir/lib.sh"
. "$tdir/slurm.sh"
. "$tdir/torch.sh"
slurm_need
SLURM_CPUS=8 slurm_start slurm
mkdir work
# every call of a Slurm command, logged: "TIME COMMAND ARGS"
slurm_wrap sbatch squeue sacct scancel scontrol
calls() { grep -c " $1 " "$T/calls" 2>/dev/null || echo 0; }
cd work || exit 1
# started RUN: wait until RUN's command has written its executor's PID and
# the store has its start (an executor killed or a task cancelled before
# it saved the start, as under load its command may be quicker, leaves the
# run queued: sent again as its first attempt, or cancelled before it began)
started() {
	_i=0
	while [ $_i -lt 300 ] && { [ ! -s "$1.pid" ] || [ "$(rec "$1" status)" != running ]; }; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
cat >xt.yaml <<EOF
targets:
  hpc: {type: slurm, max-runs: 4, poll-interval: 1, time: "00:10:00"}
  two: {type: slurm, max-runs: 2, poll-interval: 2}
  short: {type: slurm, max-runs: 2, poll-interval: 1, time: "00:01:00"}
  held: {type: slurm, max-runs: 4, sbatch-args: [--hold]}
  nopart: {type: slurm, partition: nosuch}
  badpoll: {type: slurm, poll-interval: soon}
  badrequeue: {type: slurm, requeue: sometimes}
  badargs: {type: slurm, sbatch-args: "--array=1-3 --quiet"}
  nobin: {type: slurm, poll-interval: 1, binaries: $T/nosuch}
EOF
# the runs write their executor's PID here (the environment reaches them
# through sbatch --export=ALL)
export PIDDIR="$T/work"
cat >train.py <<'EOF'
import json, os, sys, time
a = int(os.environ.get("XT_ATTEMPT", "1"))
mode = sys.argv[1] if len(sys.argv) > 1 else "quick"
with open(os.environ["XT_LOG"], "a") as f:
    f.write(json.dumps({"event": "metrics", "data": {"acc": 0.5,
        "task": int(os.environ.get("SLURM_ARRAY_TASK_ID", "0"))}}) + "\n")
open(os.environ["PIDDIR"] + "/" + os.environ["XT_RUN"] + ".pid", "w").write(str(os.getppid()))
if mode == "sleep" or (mode == "first-sleeps" and a == 1):
    # 300 s, or until its executor is gone (the command of a killed
    # executor would otherwise hold its Slurm task, completing, for that long)
    parent = os.getppid()
    for _ in range(1500):
        if os.getppid() != parent:
            sys.exit(1)
        time.sleep(0.2)
time.sleep(0.5)
EOF

# the time limit first, in the background: Slurm checks limits about
# every 30 s, so it takes a minute or two; the other cases run meanwhile
xt-submit -t short --retries 1 -- python3 train.py first-sleeps >short.out 2>short.err
shortrun=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' short.out)

t_run xt-submit -t badpoll -- python3 train.py
t_status 2 "a bad poll-interval is a usage error"
t_err_has "xt.yaml:" "naming the configuration's line"
t_run xt-submit -t badrequeue -- python3 train.py
t_status 2 "a requeue neither true nor false is a usage error"
t_err_has "requeue 'sometimes': expected true or false" "saying what it takes"
t_run xt-submit -t badargs -- python3 train.py
t_status 2 "--array in sbatch-args is refused: xt sets it"
t_run xt-submit -t nopart -- python3 train.py
t_status 1 "a partition the cluster does not have fails the submit"
t_err_has "sbatch --test-only refused" "saying sbatch refused it"
t_err_has "artition" "in Slurm's words"
t_ok "and nothing of the job is stored" test ! -e "$XT_STORE/ws/ws1/jobs/job2"
# a run of more processes than a node has CPUs: sbatch itself would take
# it, to wait for ever (PartitionConfig)
t_run xt-submit -t hpc --procs-per-node 64 -- python3 train.py
t_status 1 "a run of more CPUs than a node has fails the submit"
t_err_has "sbatch --test-only refused the job: allocation failure: Requested node configuration is not available" "in Slurm's words"
t_ok "and stores nothing" test ! -e "$XT_STORE/ws/ws1/jobs/job2"

# a pass of sbatch --test-only holds for the same options: the second
# submit asks Slurm once. When the cluster then refuses them (their
# partition is gone), the submit tries them again and fails its runs in
# Slurm's words; the next submit is checked first, and nothing is stored
checks() { grep -c ' sbatch --test-only' "$T/calls"; }
sends() { grep ' sbatch ' "$T/calls" | grep -vc -- --test-only; }
scontrol create PartitionName=p2 Nodes=ALL
echo '  moved: {type: slurm, partition: p2, max-runs: 2, poll-interval: 1}' >>xt.yaml
c0=$(checks)
t_run xt-submit -t moved --wait -- python3 train.py
t_status 0 "a run on a partition made with scontrol completes"
t_ok "its options were tried with sbatch --test-only" test $(($(checks) - c0)) -eq 1
s0=$(sends)
t_run xt-submit -t moved --runs 2 --wait -- python3 train.py
t_status 0 "a second job on it completes"
t_ok "without trying the options again: one sbatch" test "$(($(checks) - c0)) $(($(sends) - s0))" = "1 1"
scontrol delete PartitionName=p2
t_run xt-submit -t moved --runs 2 -- python3 train.py
t_status 1 "a submit whose kept pass Slurm refuses now fails"
t_err_has "nvalid partition" "in Slurm's words"
t_err_has "refuses them now: 2 of the job's 2 runs failed" "saying its runs failed"
t_ok "its options were tried again" test $(($(checks) - c0)) -eq 2
job=$(ls "$XT_STORE/ws/ws1/jobs" | sort -t b -k 2 -n | tail -n 1)
run=$(sed -n 's/.*"parent_run":"\(run[0-9]*\)".*/\1/p' "$XT_STORE/ws/ws1/jobs/$job/job.json")
t_ok "both runs are failed" test "$(rec "$run.1" status) $(rec "$run.2" status)" = "failed failed"
err=$(rec "$run.2" error)
t_ok "refused, in Slurm's words" sh -c 'case $1 in "refused: Slurm refused its job: "*"nvalid partition"*) ;; *) exit 1 ;; esac' - "$err"
t_ok "and the job is settled: its parent failed" test "$(rec "$run" status)" = failed
njobs=$(ls "$XT_STORE/ws/ws1/jobs" | wc -l)
t_run xt-submit -t moved -- python3 train.py
t_status 1 "the next submit to it fails"
t_err_has "sbatch --test-only refused" "checked first again"
t_ok "and stores nothing" test "$(ls "$XT_STORE/ws/ws1/jobs" | wc -l)" -eq "$njobs"

# a time over the partition's MaxTime: sbatch --test-only lets it by, and
# sbatch takes the job, to leave it pending for ever (PartitionTimeLimit),
# where the cluster does not enforce it (EnforcePartLimits=NO, the default)
scontrol create PartitionName=capped Nodes=ALL MaxTime=5
cat >>xt.yaml <<'EOF2'
  capped: {type: slurm, partition: capped, time: "00:10:00", poll-interval: 1}
  capped5: {type: slurm, partition: capped, time: "5", poll-interval: 1}
  cappedargs: {type: slurm, poll-interval: 1, sbatch-args: ["--partition=capped", "-t0-0:5:01"]}
  cappedlist: {type: slurm, poll-interval: 1, sbatch-args: [-p, "capped,debug", --time, "7"]}
EOF2
sbatch --test-only -p capped --time=10 --wrap true >/dev/null 2>&1
t_ok "(sbatch --test-only itself takes the time: the case is real)" [ $? -eq 0 ]
t_run xt-submit -t capped -- python3 train.py
t_status 1 "a time over the partition's MaxTime fails the submit"
t_err_has "target 'capped': a time limit of 00:10:00 is over the MaxTime of partition 'capped' (00:05:00)" \
    "naming the limit, the partition and its MaxTime"
t_err_has "Slurm would take the job and leave it pending for ever (PartitionTimeLimit)" \
    "and why: Slurm's reason it would wait for"
t_ok "and stores nothing" test "$(ls "$XT_STORE/ws/ws1/jobs" | wc -l)" -eq "$njobs"
t_run xt-submit -t cappedargs -- python3 train.py
t_status 1 "the same in sbatch-args (5 minutes and a second: over)"
t_err_has "a time limit of 0-0:5:01 is over the MaxTime of partition 'capped'" "naming the time as given"
t_run timeout 300 xt-submit -t capped5 --wait -- python3 train.py
t_status 0 "a time within the MaxTime: the run completes"
t_run timeout 300 xt-submit -t cappedlist --wait -- python3 train.py
t_status 0 "over one partition's MaxTime of a list whose other has none: the run completes there"
njobs=$(ls "$XT_STORE/ws/ws1/jobs" | wc -l)

# the sweep: 20 runs, 4 at once, one array
before=$(grep " sbatch " "$T/calls" | grep -vc -- --test-only)
q0=$(calls squeue)
t0=$(date +%s)
t_run xt-submit -t hpc --runs 20 --wait -- python3 train.py
t_status 0 "a sweep of 20 runs on Slurm completes (--wait)"
[ "$rc" -eq 0 ] || sed "s/^/#   /" "$T/err" | head -n 5
secs=$(( $(date +%s) - t0 + 1 ))
t_ok "saying on stderr each run it sees running, with its node" \
    test "$(grep -c '^xt-submit: run[0-9]*\.[0-9]* running on localhost$' "$T/err")" -ge 1
t_ok "each run's end" \
    test "$(grep -c '^xt-submit: run[0-9]*\.[0-9]* completed after [0-9.]*s$' "$T/err")" -eq 20
t_ok "and a summary last" test "$(tail -n 1 "$T/err")" = "xt-submit: 20 runs: 20 completed"
job=$(sed -n '1s/.*"job":"\(job[0-9]*\)".*/\1/p' "$T/out")
after=$(grep " sbatch " "$T/calls" | grep -vc -- --test-only)
t_ok "in one sbatch call" test $((after - before)) -eq 1
t_ok "one array recorded" test "$(wc -l <"$XT_STORE/ws/ws1/jobs/$job/slurm.jsonl")" -eq 1
xt-report --where "job==\"$job\" and status==\"completed\" and metrics.acc==0.5" --json >rep 2>&1
t_ok "all 20 completed with their metrics" test "$(grep -c '"run":"run[0-9]*\.' rep)" -eq 20
python3 - "$XT_STORE/ws/ws1/runs" "$job" >overlap <<'EOF'
import json, os, sys, datetime
ev = []
for d in os.listdir(sys.argv[1]):
    if "." not in d: continue
    r = json.load(open(os.path.join(sys.argv[1], d, "run.json")))
    if r["job"] != sys.argv[2]: continue
    t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    ev += [(t(r["started"]), 1), (t(r["ended"]), -1)]
n = m = 0
for _, d in sorted(ev, key=lambda e: (e[0], e[1])):
    n += d; m = max(m, n)
print(m)
EOF
t_ok "never more than 4 at once, by the runs' records ($(cat overlap))" test "$(cat overlap)" -le 4 -a "$(cat overlap)" -ge 2
t_ok "Slurm's own output is in the job's folder" test -s "$XT_STORE/ws/ws1/jobs/$job/slurm-$(sed -n 's/.*"array":\([0-9]*\).*/\1/p' "$XT_STORE/ws/ws1/jobs/$job/slurm.jsonl")_1.out"
t_ok "and none in the current folder" test -z "$(ls | grep '^slurm-')"
# deferred until they started, each run's log still begins as it was
# made: runs of 0.5 s, and runs quicker than the executor's first save
runlogs() {
python3 - "$XT_STORE/ws/ws1/runs" "$1" <<'EOF'
import json, os, sys
bad = 0
for d in os.listdir(sys.argv[1]):
    if "." not in d: continue
    r = json.load(open(os.path.join(sys.argv[1], d, "run.json")))
    if r["job"] != sys.argv[2]: continue
    ev = [json.loads(l)["event"] for l in open(os.path.join(sys.argv[1], d, "log.jsonl"))]
    bad += ev[:3] != ["created", "queued", "started"] or ev[-1] != "ended"
print(bad)
EOF
}
runlogs "$job" >order
t_ok "each run's log: created, queued, started first, ended last ($(cat order) not)" test "$(cat order)" = 0
t_run xt-submit -t hpc --runs 3 --wait -- true
t_status 0 "3 quick runs complete"
runlogs "$(sed -n '1s/.*"job":"\(job[0-9]*\)".*/\1/p' "$T/out")" >order
t_ok "so do their logs ($(cat order) not)" test "$(cat order)" = 0
n=$(($(calls squeue) - q0))
t_ok "the waits asked squeue at most once a second ($n calls in ${secs}s)" test "$n" -le $((secs + 2))

# four processes look at once for 8 s, with poll-interval 2: squeue at most 6 times
t_run xt-submit -t two --runs 4 -- python3 train.py sleep
job=$(sed -n '1s/.*"job":"\(job[0-9]*\)".*/\1/p' "$T/out")
sleep 1
: >"$T/calls.before"
cp "$T/calls" "$T/calls.before"
looker() { end=$(($(date +%s) + 8)); while [ "$(date +%s)" -lt $end ]; do xt-runq ls -t two >/dev/null 2>&1; done; }
looker & l1=$!
looker & l2=$!
looker & l3=$!
looker & l4=$!
wait $l1 $l2 $l3 $l4
n=$(( $(calls squeue) - $(grep -c ' squeue ' "$T/calls.before") ))
t_ok "4 processes polling for 8 s asked squeue $n times (at most 6)" test "$n" -ge 1 -a "$n" -le 6
t_run xt-runq ls -t two
t_ok "xt-runq ls shows 2 running and 2 waiting" test "$(grep -c '"state":"running"' "$T/out")" -eq 2 -a "$(grep -c '"state":"queued"' "$T/out")" -eq 2
t_ok "each with its Slurm task" test "$(grep -c '"slurm":"[0-9]*_[0-9]"' "$T/out")" -eq 4
t_ok "the running ones with their node" \
    test "$(grep '"state":"running"' "$T/out" | grep -c '"node":"localhost"')" -eq 2
t_ok "the waiting ones with Slurm's reason (squeue's: the array's limit of 2 at once)" \
    test "$(grep '"state":"queued"' "$T/out" | grep -c '"reason":"JobArrayTaskLimit"')" -eq 2
run=$(grep '"state":"running"' "$T/out" | head -n 1 | sed 's/.*"run":"\([^"]*\)".*/\1/')
t_run xt-runq kill -t two "$job"
t_status 0 "xt-runq kill of the job"
i=0
while [ $i -lt 300 ] && [ "$(xt-report --where "job==\"$job\" and status==\"cancelled\"" --json 2>/dev/null | grep -c '"run":"run[0-9]*\.')" -lt 4 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "its 4 runs are cancelled, running and waiting" test $i -lt 300
t_ok "the running one by its executor, saying why" grep -q '"cancelled".*killed with xt-runq kill' "$XT_STORE/ws/ws1/runs/$run/log.jsonl"

# a task cancelled by hand while it runs
t_run xt-submit -t hpc -- python3 train.py sleep
run=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' "$T/out")
started "$run"
arr=$(sed -n 's/.*"array":\([0-9]*\).*/\1/p' "$XT_STORE/ws/ws1/jobs/$(sed -n '1s/.*"job":"\(job[0-9]*\)".*/\1/p' "$T/out")/slurm.jsonl")
scancel "${arr}_1"
t_ok "a run whose task is cancelled by hand ends cancelled" wait_status "$run" cancelled
t_ok "saying Slurm cancelled it" grep -q '"cancelled".*was cancelled (scancel)' "$XT_STORE/ws/ws1/runs/$run/log.jsonl"

# a task whose executor is killed: lost, retried, then completed
t_run xt-submit -t hpc --retries 1 -- python3 train.py first-sleeps
run=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' "$T/out")
started "$run"
kill -9 "$(cat "$run.pid")"
i=0
while [ $i -lt 600 ] && [ "$(rec "$run" status)" != completed ]; do
	xt-runq ls -t hpc >/dev/null 2>&1	# a poller finds it lost
	sleep 0.2
	i=$((i + 1))
done
t_ok "a task whose executor was killed is retried and completes" test "$(rec "$run" status)" = completed
t_ok "on its second attempt" test "$(rec "$run" attempt)" = 2
t_ok "the retry says how its task ended" sh -c "xt-get -c '$run/log.jsonl' | grep '\"retry\"' | grep -q 'Slurm task ended FAILED'"
if [ "$(rec "$run" status)" != completed ]; then
	# what the cluster and the store say of it, for the log of a failed check
	rjob=$(rec "$run" job)
	echo "# run $run: status $(rec "$run" status), attempt $(rec "$run" attempt), job $rjob"
	xt-get -c "$run/log.jsonl" 2>&1 | cut -c 1-160 | sed 's/^/#   log: /'
	sed 's/^/#   slurm.jsonl: /' "$XT_STORE/ws/ws1/jobs/$rjob/slurm.jsonl"
	for a in $(sed -n 's/.*"array":\([0-9]*\).*/\1/p' "$XT_STORE/ws/ws1/jobs/$rjob/slurm.jsonl"); do
		squeue -h -r -t all -j "$a" -o '%i %T %r %N' 2>&1 | sed 's/^/#   squeue: /'
		grep "JobId=$a\b\|ArrayJobId=$a\b" "$S/log/jobcomp.txt" | cut -c 1-200 | sed 's/^/#   jobcomp: /'
	done
	grep ' sbatch ' "$T/calls" | tail -n 2 | cut -c 1-200 | sed 's/^/#   call: /'
fi

# a run Slurm loses while no xt-runq looks: xt-report polls, finds it, shows it failed
t_run xt-submit -t hpc -- python3 train.py sleep
run=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' "$T/out")
started "$run"
# where squeue fails (a laptop that reads the store), with no cached status: said, and shown as recorded
mkdir nosq
printf '#!/bin/sh\necho "squeue: error: Unable to contact slurm controller" >&2\nexit 1\n' >nosq/squeue
chmod +x nosq/squeue
t_run env XT_HOME="$T/home2" PATH="$T/work/nosq:$PATH" xt-report "$run" -c status --csv
t_status 0 "xt-report where Slurm cannot be asked still reports"
t_ok "the run as recorded" test "$(tail -n 1 "$T/out")" = running
t_err_has "xt-report: target 'hpc': its runs are shown as last recorded: " "and says why"
t_run env XT_HOME="$T/home2" PATH="$T/work/nosq:$PATH" xt-report "$run" -c status --csv --no-poll
t_ok "--no-poll: no question, no warning" test ! -s "$T/err"
kill -9 "$(cat "$run.pid")"
i=0
while [ $i -lt 300 ] && [ "$(xt-report "$run" -c status --csv 2>/dev/null | tail -n 1)" != failed ]; do
	sleep 0.2
	i=$((i + 1))
done
t_ok "xt-report alone finds the run Slurm lost, failed" test "$(xt-report "$run" -c status --csv | tail -n 1)" = failed
t_ok "as its record says" test "$(rec "$run" status)" = failed
t_run xt-report "$run" -c status --csv
t_ok "targets with no runs to poll are not opened: no word of those set wrong" test ! -s "$T/err"
t_ok "saying how its task ended" sh -c "xt-get -c '$run/log.jsonl' | grep '\"failed\"' | grep -q 'Slurm task ended'"

# a task Slurm requeues (as a preemption does): its run is queued again, a
# retry its retries (none) do not count, and Slurm's second start runs it
t_ok "sbatch is asked to requeue preempted tasks" sh -c "grep ' sbatch --parsable' '$T/calls' | tail -n 1 | grep -q -- ' --requeue'"
t_run xt-submit -t hpc -- python3 train.py first-sleeps
requeued=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' "$T/out")
started "$requeued"
arr=$(sed -n 's/.*"array":\([0-9]*\).*/\1/p' "$XT_STORE/ws/ws1/jobs/$(rec "$requeued" job)/slurm.jsonl")
scontrol requeue "${arr}_1"
t_ok "a run whose task Slurm requeued is queued again" wait_status "$requeued" queued
t_ok "as a retry that says why" sh -c "xt-get -c '$requeued/log.jsonl' | grep '\"retry\"' | grep -q 'Slurm requeued its job ${arr}_1'"
# Slurm holds a requeued task two minutes (its begin time): now, here.
# A start so forced may come while the old step still ends on the node and
# fail to launch: then, as for any task gone while its run waits, a poller
# sends it again
i=0
while [ $i -lt 240 ] && [ "$(rec "$requeued" status)" != completed ]; do
	scontrol update JobId="${arr}_1" StartTime=now >/dev/null 2>&1
	xt-runq ls -t hpc >/dev/null 2>&1
	sleep 0.5
	i=$((i + 1))
done
t_ok "it completes when Slurm starts its task again" test "$(rec "$requeued" status)" = completed
t_ok "as its second attempt" test "$(rec "$requeued" attempt)" = 2
if [ "$(rec "$requeued" status)" != completed ]; then
	echo "# run $requeued: status $(rec "$requeued" status), attempt $(rec "$requeued" attempt)"
	xt-get -c "$requeued/log.jsonl" 2>&1 | cut -c 1-200 | sed 's/^/#   log: /'
	squeue -h -r -t all -j "$arr" -o '%i %T %r %S' 2>&1 | sed 's/^/#   squeue: /'
	scontrol -o show job "${arr}_1" 2>&1 | grep -o 'JobState=[^ ]*\|Restarts=[^ ]*\|BeginTime=[^ ]*\|ExitCode=[^ ]*' | sed 's/^/#   scontrol: /'
	tail -n 5 "$XT_STORE/ws/ws1/jobs/$(rec "$requeued" job)/"*.out 2>/dev/null | sed 's/^/#   out: /'
fi

# a task that ends before its run starts (its script finds no xt-runq on
# the node) is sent again, three sends in all; then its run fails, saying so
before=$(grep " sbatch " "$T/calls" | grep -vc -- --test-only)
t_run xt-submit -t nobin -- python3 train.py
t_status 0 "a job whose nodes cannot start its runs is queued"
unstarted=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' "$T/out")
i=0
while [ $i -lt 200 ] && [ "$(rec "$unstarted" status)" = queued ]; do
	xt-runq ls -t nobin >/dev/null 2>&1
	sleep 0.3
	i=$((i + 1))
done
t_ok "its run fails after its task ended unstarted three times" test "$(rec "$unstarted" status)" = failed
n=$(($(grep " sbatch " "$T/calls" | grep -vc -- --test-only) - before))
t_ok "sent three times, not once a poll ($n)" test "$n" -eq 3
t_ok "its error says why" sh -c "xt-get -c '$unstarted/run.json' | grep -q '\"error\":\"lost: its Slurm task ended FAILED, 3 times before the run started\"'"
t_ok "as its end does" sh -c "xt-get -c '$unstarted/log.jsonl' | grep '\"ended\"' | grep -q 'before the run started'"
xt-runq ls -t nobin >/dev/null 2>&1
n=$(($(grep " sbatch " "$T/calls" | grep -vc -- --test-only) - before))
t_ok "and a later poll sends nothing more" test "$n" -eq 3

# 2,500 runs, MaxArraySize 1001: three arrays, each after the one before
before=$(grep " sbatch " "$T/calls" | grep -vc -- --test-only)
t_run xt-submit -t held --runs 2500 -- python3 train.py
t_status 0 "a job of 2,500 runs is submitted"
job=$(sed -n '1s/.*"job":"\(job[0-9]*\)".*/\1/p' "$T/out")
after=$(grep " sbatch " "$T/calls" | grep -vc -- --test-only)
t_ok "in 3 sbatch calls" test $((after - before)) -eq 3
sed 's/"array":[0-9]*,//; s/,"at":[0-9]*//' "$XT_STORE/ws/ws1/jobs/$job/slurm.jsonl" >got
cat >want <<'EOF'
{"offset":0,"tasks":"1-1000"}
{"offset":1000,"tasks":"1-1000"}
{"offset":2000,"tasks":"1-500"}
EOF
t_ok "of 1,000, 1,000 and 500 tasks" cmp -s want got
set -- $(sed -n 's/.*"array":\([0-9]*\).*/\1/p' "$XT_STORE/ws/ws1/jobs/$job/slurm.jsonl")
t_ok "the second after the first, the third after the second" sh -c \
    "grep ' sbatch ' '$T/calls' | grep -q 'dependency=afterany:$1' && grep ' sbatch ' '$T/calls' | grep -q 'dependency=afterany:$2'"
t_ok "task 2,500 runs the job's last run" sh -c "squeue -h -r -j $3 -o '%K' | grep -qx 500"
# its records are deferred: the parent and one plan, no folder a run, until a run changes
parent=$(sed -n '1s/.*"parent":"\(run[0-9]*\)".*/\1/p' "$T/out")
t_ok "the submit printed its 2,500 runs" test "$(grep -c "\"parent\":\"$parent\"" "$T/out")" -eq 2500
t_ok "no run of it has a folder yet" test "$(ls "$XT_STORE/ws/ws1/runs" | grep -c "^$parent\.")" -eq 0
t_ok "its parent's record is stored, marked deferred" sh -c "grep -q '\"deferred\":true' '$XT_STORE/ws/ws1/runs/$parent/run.json'"
t_ok "its plan holds the 2,500 records in order" sh -c \
    "sed -n 's/.*\"run\":\"\\([^\"]*\\)\".*/\\1/p' '$XT_STORE/ws/ws1/jobs/$job/plan.jsonl' >plan.names &&
    grep '\"parent\":\"$parent\"' '$T/out' | sed -n 's/.*\"run\":\"\\([^\"]*\\)\".*/\\1/p' | cmp -s - plan.names"
t_run xt-get -c "$parent.1234/run.json"
t_status 0 "xt-get prints a deferred run's record"
t_ok "as submitted: queued, its name, its job" sh -c \
    "grep -q '\"status\":\"queued\"' '$T/out' && grep -q '\"run\":\"$parent.1234\"' '$T/out' && grep -q '\"job\":\"$job\"' '$T/out'"
t_ok "the same line as the index's" sh -c "grep -F -x -f '$T/out' '$XT_STORE/ws/ws1/index/runs.jsonl' >/dev/null"
t_run xt-get -c "$parent.2501/run.json"
t_status 1 "a run beyond the plan is not there"
t_ok "in the store's words" grep -q "$parent.2501/run.json': No such file" "$T/err"
t_run xt-runq -t held ls
t_ok "xt-runq ls lists a deferred run queued" sh -c "grep '\"run\":\"$parent.77\"' '$T/out' | grep -q '\"state\":\"queued\"'"
t_run xt-log -r "$parent.8" tag later
t_status 0 "a tag on a deferred run"
t_ok "makes its record, tagged" sh -c "grep -q '\"tags\":{\"later\":true}' '$XT_STORE/ws/ws1/runs/$parent.8/run.json' && grep -q '\"status\":\"queued\"' '$XT_STORE/ws/ws1/runs/$parent.8/run.json'"
t_ok "its log: created and queued, at its creation, before the tag" sh -c \
    "sed -n 's/.*\"event\":\"\\([a-z]*\\)\".*/\\1/p' '$XT_STORE/ws/ws1/runs/$parent.8/log.jsonl' | tr '\\n' ' ' | grep -qx 'created queued tags '"
created=$(sed -n 's/.*"created":"\([^"]*\)".*/\1/p' "$XT_STORE/ws/ws1/runs/$parent.8/run.json")
t_ok "at the time the run was created ($created)" test "$(grep -c "\"time\":\"$created\"" "$XT_STORE/ws/ws1/runs/$parent.8/log.jsonl")" -eq 2
t_run xt-runq -t held kill "$parent.9"
t_status 0 "xt-runq kill of a deferred run"
t_ok "its record is made, cancelled" sh -c "grep -q '\"status\":\"cancelled\"' '$XT_STORE/ws/ws1/runs/$parent.9/run.json'"
t_ok "its log: created, queued, then the kill" sh -c \
    "sed -n 's/.*\"event\":\"\\([a-z]*\\)\".*/\\1/p' '$XT_STORE/ws/ws1/runs/$parent.9/log.jsonl' | head -n 3 | tr '\\n' ' ' | grep -qx 'created queued kill '"
t_ok "its task left Slurm's queue" sh -c "! squeue -h -r -j $1 -o '%K' | grep -qx 9"
t_ok "the other runs are still deferred" test "$(ls "$XT_STORE/ws/ws1/runs" | grep -c "^$parent\.")" -eq 2
scancel "$1" "$2" "$3"

# SIGKILL of Slurm submits (workspace wsk) at seeded times up to a whole
# submit's, then the recovery of the next xt-runq: every job is whole
# (its records, its plan, its index lines) or gone
now_us() { echo $(($(date +%s%N) / 1000)); }
t0=$(now_us)
xt-submit -w wsk -t held --runs 30 -- python3 train.py >/dev/null 2>&1
whole=$(($(now_us) - t0))
seed=8210
i=0
while [ $i -lt 12 ]; do
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	d=$(((seed / 16) % (whole + 1)))
	t_kill_after "$d" xt-submit -w wsk -t held --runs $((1 + seed % 30)) -- python3 train.py
	i=$((i + 1))
done
t_run xt-runq -w wsk -t held ls
t_status 0 "xt-runq after the killed submits"
t_run python3 - "$XT_STORE/ws/wsk" <<'EOP'
import json, os, sys
d = sys.argv[1]
bad, owner = [], {}
indexed = set()
for l in open(d + "/index/runs.jsonl"):
    indexed.add(json.loads(l)["run"])
def load(p):
    try:
        return json.load(open(p))
    except Exception as e:
        bad.append("%s: %s" % (p[len(d) + 1:], e))
for j in sorted(os.listdir(d + "/jobs")):
    job = load("%s/jobs/%s/job.json" % (d, j))
    if job is None or "status" in job or "runs" not in job:
        bad.append("%s is not whole" % j)
        continue
    plan = "%s/jobs/%s/plan.jsonl" % (d, j)
    if "parent_run" in job:
        p = load("%s/runs/%s/run.json" % (d, job["parent_run"]))
        if not p or p.get("deferred") is not True:
            bad.append("%s: parent %s is not marked deferred" % (j, job["parent_run"]))
        lines = [json.loads(l) for l in open(plan)] if os.path.exists(plan) else []
        if [r["run"] for r in lines] != job["runs"]:
            bad.append("%s: its plan does not hold its runs" % j)
        owner[job["parent_run"]] = j
    elif not os.path.exists("%s/runs/%s/run.json" % (d, job["runs"][0])):
        bad.append("%s: its run has no record" % j)
    elif os.path.exists(plan):
        bad.append("%s: a plan for one run" % j)
    for r in job["runs"]:
        owner[r] = j
        if r not in indexed:
            bad.append("%s of %s is not in the index" % (r, j))
for r in sorted(os.listdir(d + "/runs")):
    if r not in owner:
        bad.append("runs/%s belongs to no whole job" % r)
for r in sorted(indexed - set(owner)):
    bad.append("the index names %s, of no whole job" % r)
print("\n".join(bad[:20]) or "ok")
EOP
echo ok >want
t_out_is want "every job of the killed submits is whole or gone"
t_ok "some were whole, with plans" test "$(ls "$XT_STORE"/ws/wsk/jobs/*/plan.jsonl | wc -l)" -ge 2
scancel $(squeue -h -o '%i %k' | awk '$2 ~ /^xt:.*:wsk:/ { print $1 }') 2>/dev/null

# runs of several processes: P ranks of one node (several nodes: t8220)
t_run xt-submit -t hpc --procs-per-node 3 --wait -- sh -c 'echo "$RANK $LOCAL_RANK $WORLD_SIZE $MASTER_PORT" >"$PIDDIR/rank.$RANK"'
t_status 0 "a run of 3 processes on Slurm completes"
t_ok "each rank with torchrun's variables" test "$(cat rank.0 rank.1 rank.2 2>/dev/null | awk '{ print $1, $2, $3 }' | sort | tr '\n' ' ')" = "0 0 3 1 1 3 2 2 3 "
t_ok "one port for all" test "$(cat rank.0 rank.1 rank.2 | awk '{ print $4 }' | sort -u | wc -l)" -eq 1
t_ok "the task asked Slurm for a CPU a rank" sh -c "grep ' sbatch --parsable' '$T/calls' | tail -n 1 | grep -q -- --cpus-per-task=3"

# a real torch.distributed all-reduce of 4 gloo ranks in a Slurm task
torch_python
if [ -z "$py" ]; then
	echo "# SKIP torch with gloo cannot be imported (apt-get install python3-torch): no all-reduce on Slurm"
else
	torch_allreduce allreduce.py
	t_run xt-submit -t hpc --procs-per-node 4 --wait -- "$py" allreduce.py
	t_status 0 "a torch.distributed run of 4 ranks completes on Slurm"
	run=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' "$T/out")
	t_ok "its all-reduced sum of the ranks 0..3 is 6, in a world of 4" \
	    test "$(rec "$run" metrics.sum) $(rec "$run" metrics.world)" = "6 4"
fi

t_ok "MaxArraySize asked of scontrol once for every submit (kept an hour)" \
    test "$(grep -c ' scontrol show config' "$T/calls")" -eq 1

# the time limit (a minute, checked every 30 s or so: bounded here by 4 minutes)
i=0
while [ $i -lt 1200 ] && [ "$(rec "$shortrun" status)" != completed ]; do
	xt-runq ls -t short >/dev/null 2>&1
	sleep 0.2
	i=$((i + 1))
done
run=$shortrun
t_ok "the run stopped by its time limit is retried and completes" test "$(rec "$run" status)" = completed
t_ok "its first attempt failed as Slurm's TIMEOUT" sh -c "xt-get -c '$run/log.jsonl' | grep '\"retry\"' | grep -q TIMEOUT"

# xt-runq ls on a snapshot a poll-interval old (600 s here): runs sent
# after it was taken are listed queued, and runs that ended after it are
# not listed
echo '  stale: {type: slurm, max-runs: 4, poll-interval: 600}' >>xt.yaml
xt-runq -t stale ls >/dev/null 2>&1
# the runs wait for the file go
t_run xt-submit -t stale --runs 2 -- sh -c 'while [ ! -e "$PIDDIR/go" ]; do sleep 0.2; done'
job=$(sed -n '1s/.*"job":"\(job[0-9]*\)".*/\1/p' "$T/out")
run=$(sed -n '1s/.*"parent":"\(run[0-9]*\)".*/\1/p' "$T/out")
t_run xt-runq -t stale ls
t_ok "runs sent after the snapshot are listed (queued, or running once started)" \
    test "$(grep -c "\"job\":\"$job\".*\"state\":\"\(queued\|running\)\"" "$T/out")" -eq 2
# once both have started, a snapshot taken after (hpc's poll-interval
# is 1 s) holds them running
i=0
while [ $i -lt 300 ] && [ "$(rec "$run.1" status)$(rec "$run.2" status)" != runningrunning ]; do
	sleep 0.2
	i=$((i + 1))
done
sleep 1.1
xt-runq -t hpc ls >/dev/null 2>&1
t_ok "both started" test $i -lt 300
touch "$PIDDIR/go"
i=0
while [ $i -lt 300 ] && [ "$(rec "$run.1" status)$(rec "$run.2" status)" != completedcompleted ]; do
	sleep 0.2
	i=$((i + 1))
done
t_ok "they complete" test "$(rec "$run.1" status)$(rec "$run.2" status)" = completedcompleted
t_run xt-runq -t stale ls
t_status 0 "ls on that snapshot once they completed"
t_ok "lists neither: their records say they ended" test "$(grep -c "\"job\":\"$job\"" "$T/out")" -eq 0

# the store on Azurite (az://): the tasks reach it with the credentials of
# the submit's environment (sbatch --export=ALL), whatever XT_STORE says
az_optional=1
. "$R/tests/azurite.sh"
if [ -n "$ep" ]; then
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
	AZ=az://$acct/t8210-$$
	folder=$(ls "$XT_STORE/ws/ws1/jobs" "$XT_STORE/ws/ws1/runs" | wc -l)
	t_run xt-submit -s "$AZ" -t hpc --runs 6 --wait -- python3 train.py
	t_status 0 "a sweep of 6 runs with the store on Azurite completes (--wait)"
	t_ok "each run's end said" test "$(grep -c ' completed after ' "$T/err")" -eq 6
	t_run xt-report -s "$AZ" -c run,status,metrics.acc --csv
	t_status 0 "xt-report of the Azure store"
	t_ok "6 runs completed there, each with its metric" \
	    test "$(grep -c '^run[0-9]*\.[0-9]*,completed,0.5' "$T/out")" -eq 6
	t_ok "nothing of them in the folder store" \
	    test "$(ls "$XT_STORE/ws/ws1/jobs" "$XT_STORE/ws/ws1/runs" | wc -l)" -eq "$folder"
	unset AZURE_STORAGE_CONNECTION_STRING
else
	echo "# SKIP the Azure sweep: $az_why"
fi

# a controller at its MaxJobCount ("Slurm temporarily unable to accept
# job") refuses no options: a job whose check was kept is stored, its runs
# stay queued (its check again, now, is not taken for a refusal either),
# and the next poll sends them (sbatch here says it at once; the real one
# first retries for a minute or two)
mkdir -p "$T/busy"
cat >"$T/busy/sbatch" <<'EOF2'
#!/bin/sh
for a; do [ "$a" = --test-only ] && [ -z "$BUSY_ALL" ] && exec /usr/bin/sbatch "$@"; done
echo "sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying" >&2
echo "sbatch: error: Batch job submission failed: Resource temporarily unavailable" >&2
exit 1
EOF2
chmod +x "$T/busy/sbatch"
t_run env BUSY_ALL=1 PATH="$T/busy:$PATH" xt-submit -t hpc --runs 3 -- python3 train.py
t_status 1 "a submit while Slurm takes no more jobs fails"
t_err_has "Resource temporarily unavailable" "in Slurm's words"
t_err_has "is stored: the next xt-submit, or xt-runq ls -t hpc, hands its runs" "saying the job is kept"
parent=$(sed -n 's/.*"parent_run":"\(run[0-9]*\)".*/\1/p' "$XT_STORE/ws/ws1/jobs/$(ls "$XT_STORE/ws/ws1/jobs" | sort -t b -k 2 -n | tail -n 1)/job.json")
t_ok "its runs stay queued, not failed" test "$(rec "$parent.1" status)$(rec "$parent.3" status)" = queuedqueued
echo '  busy: {type: slurm, max-runs: 2, time: "00:09:00"}' >>xt.yaml
jobs=$(ls "$XT_STORE/ws/ws1/jobs" | wc -l)
t_run env BUSY_ALL=1 PATH="$T/busy:$PATH" xt-submit -t busy -- python3 train.py
t_status 1 "a submit whose check cannot ask Slurm now fails"
t_err_has "sbatch --test-only could not ask Slurm (nothing is stored; try again): sbatch: error: Slurm temporarily unable" \
    "saying so, not that Slurm refused the job"
t_ok "nothing is stored" test "$(ls "$XT_STORE/ws/ws1/jobs" | wc -l)" -eq "$jobs"
i=0
while [ $i -lt 300 ] && [ "$(rec "$parent.3" status)" != completed ]; do
	xt-runq -t hpc ls >/dev/null 2>&1
	sleep 0.2
	i=$((i + 1))
done
t_ok "the next polls send the kept runs, which complete" test "$(rec "$parent.1" status)$(rec "$parent.3" status)" = completedcompleted

# last, slurmctld stopped: a submit whose check is a pass kept from before
# stores its job, and the run stays queued for the next poll to send, not
# failed as refused
kill "$(cat "$S/run/slurmctld.pid")"
t_run xt-submit -t hpc -- python3 train.py
t_status 1 "a submit while slurmctld is down fails"
t_err_has "Unable to contact slurm controller" "in Slurm's words"
t_err_has "is stored: the next xt-submit, or xt-runq ls -t hpc, hands its runs" "saying the job is kept"
job=$(ls "$XT_STORE/ws/ws1/jobs" | sort -t b -k 2 -n | tail -n 1)
run=$(sed -n 's/.*"runs":\["\(run[0-9]*\)"\].*/\1/p' "$XT_STORE/ws/ws1/jobs/$job/job.json")
t_ok "its run stays queued" test -n "$run" -a "$(rec "$run" status)" = queued
t_done
