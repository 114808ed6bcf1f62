#!/bin/sh
# SIGKILL of xt-submit at any point, then a drain: every job is either not
# there at all or whole, and every run of it runs. Forty submits of one to
# thirty runs (a parent and children for more than one), some with hparam
# sets, each killed after a delay from a seeded sequence between 0 and the
# time a whole submit of its size takes; then xt-runq drains the queue and
# the whole store is checked: no job or run left "allocating", no child
# named by a parent but missing, every run.json in the index, every run of
# every job ended (completed, or failed with its reason), nothing queued,
# no hidden (never committed) queue entry left in the spool.
. "$(dirname "$0")/lib.sh"

mkdir code
i=0
while [ $i -lt 20 ]; do echo "file $i" >code/f$i.txt; i=$((i + 1)); done
echo 'echo hi' >code/run.sh
printf '{"lr":0.1}\n{"lr":0.2}\n{"lr":0.3}\n' >hp3

now_us() { echo $(($(date +%s%N) / 1000)); }
# submit SIZE: one submit, in place of the shell (so that $! is its pid);
# SIZE "h" is three hparam sets
submit() {
	if [ "$1" = h ]; then
		exec xt-submit -C code --hp hp3 -- sh run.sh
	else
		exec xt-submit -C code -n "$1" -- sh run.sh
	fi
}

# how long a whole submit of each size takes here (microseconds)
sizes="1 2 h 8 60"
for s in $sizes; do
	t0=$(now_us)
	(submit "$s") >/dev/null 2>"$T/err"
	eval "dur_$s=$(($(now_us) - t0))"
done
t_ok "whole submits work" [ ! -s "$T/err" ]

seed=3050
i=0
while [ $i -lt 40 ]; do
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	set -- $sizes
	shift $((seed % 5))
	s=$1
	eval "d=\$dur_$s"
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	d=$(((seed / 16) % (d + 1)))
	t_kill_after "$d" submit "$s"
	i=$((i + 1))
done

t_run xt-runq -j 2
t_status 0 "a drain after the killed submits"
t_run xt-runq ls
t_status 0 "list the queue"
t_ok "the queue is empty" [ ! -s "$T/out" ]
t_ok "the spool is there" [ -d "$XT_HOME/spool/queue" ]
t_run ls -A "$XT_HOME/spool/queue"
t_status 0 "list the spool's queue, hidden entries too"
: >want
t_out_is want "no hidden entry is left in it"

t_run python3 - "$XT_STORE/ws/ws1" <<'EOP'
import json, os, sys
d = sys.argv[1]
bad = []
def load(p):
    try:
        return json.load(open(p))
    except Exception as e:
        bad.append("%s: %s" % (p[len(d) + 1:], e))
        return None
indexed = set()
if os.path.exists(d + "/index/runs.jsonl"):
    for l in open(d + "/index/runs.jsonl"):
        indexed.add(json.loads(l)["run"])
ended = lambda r: r["status"] == "completed" or (r["status"] == "failed" and r.get("error"))
jobs = sorted(os.listdir(d + "/jobs")) if os.path.isdir(d + "/jobs") else []
owner = {}
for j in jobs:
    job = load("%s/jobs/%s/job.json" % (d, j))
    if job is None:
        continue
    if "status" in job or "runs" not in job:
        bad.append("%s is left %s" % (j, job.get("status", "without runs")))
        continue
    names = job["runs"] + ([job["parent_run"]] if "parent_run" in job else [])
    for r in names:
        owner[r] = j
        p = "%s/runs/%s/run.json" % (d, r)
        if not os.path.exists(p):
            bad.append("%s names %s, which is missing" % (j, r))
            continue
        rec = load(p)
        if rec and not ended(rec):
            bad.append("%s of %s is %s" % (r, j, rec["status"]))
runs = sorted(os.listdir(d + "/runs")) if os.path.isdir(d + "/runs") else []
for r in runs:
    p = "%s/runs/%s/run.json" % (d, r)
    if not os.path.exists(p):
        bad.append("runs/%s has no run.json" % r)
        continue
    rec = load(p)
    if rec is None:
        continue
    if r not in indexed:
        bad.append("%s (%s) is not in the index" % (r, rec["status"]))
    if r not in owner:
        bad.append("%s (%s) belongs to no whole job" % (r, rec["status"]))
    if "parent" in rec and rec["parent"] not in owner:
        bad.append("%s has a missing parent %s" % (r, rec["parent"]))
    for k in range(1, rec.get("children", 0) + 1):
        if not os.path.exists("%s/runs/%s.%d/run.json" % (d, r, k)):
            bad.append("%s names its child %s.%d, which is missing" % (r, r, k))
for r in sorted(indexed - set(runs)):
    bad.append("the index names %s, which is missing" % r)
print("\n".join(bad[:20]) or "ok")
EOP
echo ok >want
t_out_is want "every job is whole or absent, and every run of it ended"
t_run python3 -c 'import os,sys; print(len(os.listdir(sys.argv[1])) >= 5)' "$XT_STORE/ws/ws1/jobs"
echo True >want
t_out_is want "whole jobs were made"

# the same, step by step, on journals made by hand in another workspace
W=$XT_STORE/ws/ws2
S=$XT_HOME/submit
# journal ID JOB RUN: a journal of a submit by pid 4242 on host n that tried JOB and RUN
journal() {
	printf '{"store":"file://%s","ws":"ws2","submitter":{"node":"n","pid":4242,"id":"%s"}}\n{"job":%s}\n{"run":%s}\n' \
	    "$XT_STORE" "$1" "$2" "$3" >"$S/$1.jsonl"
}

# after the commit: its runs lost their queue entries; they are queued again
t_run xt-submit -w ws2 -C code -n 2 -- sh run.sh
t_status 0 "a job of two runs"
rm -f "$XT_HOME"/spool/queue/*.json
id=$(sed -n 's/.*"submitter":{[^}]*"id":"\([^"]*\)".*/\1/p' "$W/jobs/job1/job.json")
journal "$id" 1 1
t_run xt-runq -w ws2 -j 2
t_status 0 "xt-runq finishes a submit cut short after its commit"
t_err_has "job1: finished what xt-submit (pid 4242 on n) left when it died: 2 runs queued" "and says so"
completed() { for r; do grep -q '"status":"completed"' "$W/runs/$r/run.json" || return 1; done; }
t_ok "and its runs ran" completed run1.1 run1.2
t_ok "its journal is gone" test -d "$S" -a ! -e "$S/$id.jsonl"

# before the commit: the placeholder, the parent and a child are removed
mkdir -p "$W/jobs/job2" "$W/runs/run2" "$W/runs/run2.1" "$W/runs/run2.2"
echo '{"status":"allocating","submitter":{"node":"n","pid":4242,"id":"x2"}}' >"$W/jobs/job2/job.json"
echo '{"ws":"ws2","run":"run2","job":"job2","status":"queued","children":2}' >"$W/runs/run2/run.json"
echo '{"ws":"ws2","run":"run2.1","job":"job2","status":"queued"}' >"$W/runs/run2.1/run.json"
journal x2 2 2
# a locked journal is one whose submitter lives: left alone
mkdir -p "$W/jobs/job3"
echo '{"status":"allocating","submitter":{"node":"n","pid":4242,"id":"x3"}}' >"$W/jobs/job3/job.json"
journal x3 3 0
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1])
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(3600)' "$S/x3.jsonl" "$T/locked" &
locker=$!
i=0
while [ ! -e "$T/locked" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
t_run xt-submit -w ws2 -C code -- sh run.sh
t_status 0 "xt-submit removes a submit cut short before its commit"
t_err_has "job2: removed what xt-submit (pid 4242 on n) had stored of it when it died" "and says so"
t_ok "nothing of it is left" test ! -e "$W/runs/run2.1" -a ! -e "$W/runs/run2.2" -a ! -e "$S/x2.jsonl"
t_ok "the run's name was taken again" grep -q '"job":"job4","runs":\["run2"\]' "$W/jobs/job4/job.json"
t_ok "the job's is free" test -d "$W/jobs/job1" -a ! -e "$W/jobs/job2"
t_ok "the submit whose journal is locked is left alone" grep -q allocating "$W/jobs/job3/job.json"
t_ok "and its journal" test -e "$S/x3.jsonl"
kill $locker
wait $locker 2>/dev/null
t_run xt-runq -w ws2
t_status 0 "once its submitter is gone"
t_err_has "job3: removed what" "it is removed"
t_ok "whole" test ! -e "$W/jobs/job3" -a ! -e "$S/x3.jsonl"

# the journal of a job in a folder store that was removed since is dropped
printf '{"store":"file://%s/gone","ws":"ws2","submitter":{"node":"n","pid":4242,"id":"x4"}}\n{"job":1}\n' \
    "$T" >"$S/x4.jsonl"
t_run xt-runq -w ws2
t_status 0 "a submit into a store that is gone"
t_ok "is dropped, and the store is not made again" test ! -e "$S/x4.jsonl" -a ! -e "$T/gone"

# hidden queue entries (a batch not committed) whose writer is gone are
# removed by the next recovery; those of a live process stay
sh -c 'exit 0' &
dead=$!
wait $dead
Q=$XT_HOME/spool/queue
gone1=$Q/.1796496709066.$(printf %08d "$dead").000000.json
gone2=$Q/.1796496709066.$(printf %08d "$dead").000001.json
live=$Q/.1796496709066.$(printf %08d $$).000000.json
for f in "$gone1" "$gone2" "$live"; do printf '{"ws":"ws2","run":"run9"}\n' >"$f"; done
t_run xt-runq -w ws2
t_status 0 "a drain with hidden entries in the spool"
t_ok "the dead writer's hidden entries are gone" test ! -e "$gone1" -a ! -e "$gone2"
t_ok "a live writer's is left" test -e "$live"
rm -f "$live"
t_done
