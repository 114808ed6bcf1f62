#!/bin/sh
# xt-submit stores and queues many runs in chunks of 1,000: every run of a
# job of 1,001 has its record, its index line, its two events and one queue
# entry, and nothing is left half-made in the store or the spool.
. "$(dirname "$0")/lib.sh"
# no_dot DIR: DIR exists and holds no entry whose name starts with a dot
no_dot() { [ -d "$1" ] && [ -z "$(find "$1" -mindepth 1 -maxdepth 1 -name '.*')" ]; }
# empty_dir DIR: DIR exists and is empty
# .swept: when the stale temporaries were last looked for (not one)
empty_dir() { [ -d "$1" ] && [ -z "$(find "$1" -mindepth 1 -maxdepth 1 ! -name .swept)" ]; }


mkdir code
echo 'echo hi' >code/run.sh
t_run xt-submit -C code --runs 1001 -- sh run.sh
t_status 0 "submit 1,001 runs"
t_ok "one line per run" [ "$(wc -l <"$T/out")" -eq 1001 ]
t_run python3 - "$XT_STORE/ws/ws1" <<'EOP'
import json, os, sys
d = sys.argv[1]
bad = []
for k in range(1, 1002):
    r = "run1.%d" % k
    rec = json.load(open("%s/runs/%s/run.json" % (d, r)))
    if rec["run"] != r or rec["status"] != "queued" or rec["parent"] != "run1":
        bad.append("%s: record %s" % (r, rec))
    ev = [json.loads(l)["event"] for l in open("%s/runs/%s/log.jsonl" % (d, r))]
    if ev != ["created", "queued"]:
        bad.append("%s: events %s" % (r, ev))
idx = [json.loads(l) for l in open("%s/index/runs.jsonl" % d)]
runs = sorted(x["run"] for x in idx)
want = sorted(["run1"] + ["run1.%d" % k for k in range(1, 1002)])
if runs != want:
    bad.append("index: %d lines, want %d, one per run" % (len(runs), len(want)))
print("\n".join(bad[:5]) or "ok")
EOP
echo ok >want
t_out_is want "every run has its record, its two events and one index line"
t_run xt-runq ls
t_status 0 "list the queue"
t_ok "every run is queued once" [ "$(sed -n 's/.*"run":"\(run1\.[0-9]*\)".*"state":"queued".*/\1/p' "$T/out" | sort -u | wc -l)" -eq 1001 ]
t_ok "and nothing else" [ "$(wc -l <"$T/out")" -eq 1001 ]
t_ok "no temporary entry is left in the spool" no_dot "$XT_HOME/spool/queue"
t_ok "no temporary object is left in the store" empty_dir "$XT_STORE/.tmp"

# a run record that cannot be put (a folder is in its way) fails the
# submit, and no run of that job is queued
mkdir -p "$XT_STORE/ws/ws1/runs/run2.2/run.json"
t_run xt-submit -C code --runs 3 -- sh run.sh
t_status 1 "a record that cannot be put fails the submit"
t_err_has "cannot store the runs" "and says so"
t_run xt-runq ls
t_status 0 "list the queue again"
t_ok "the first job's runs are still queued" [ "$(wc -l <"$T/out")" -eq 1001 ]
t_ok "none of its runs is queued" [ "$(grep -c '"run":"run2' "$T/out")" -eq 0 ]
t_ok "no temporary entry is left in the spool" no_dot "$XT_HOME/spool/queue"
t_ok "no temporary object is left in the store" empty_dir "$XT_STORE/.tmp"
t_ok "nothing of the job is left: no job record" test -d "$XT_STORE/ws/ws1/jobs/job1" -a ! -e "$XT_STORE/ws/ws1/jobs/job2"
t_ok "no run record" test -d "$XT_STORE/ws/ws1/runs/run1" -a ! -e "$XT_STORE/ws/ws1/runs/run2" -a ! -e "$XT_STORE/ws/ws1/runs/run2.1"
t_ok "no journal of the submit" test -d "$XT_HOME/submit" -a -z "$(ls -A "$XT_HOME/submit")"
t_done
