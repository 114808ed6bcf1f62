#!/bin/sh
# An entry whose command has ended is running/NAME.end until its end is
# recorded. When its executor died on the way, xt-runq settles it as an
# orphan like any other: a run that has ended stays ended, one whose record
# never said it started runs again, one that was running is failed (or
# retried) by its policy.
. "$(dirname "$0")/lib.sh"

mkdir code
echo 'echo "ran $XT_RUN"' >code/run.sh
url="file://$XT_STORE"
spool="$XT_HOME/spool"
# plant NAME RUN JOB: an unlocked .end entry, as a dead executor leaves it
plant() {
	printf '{"store":"%s","ws":"ws1","run":"%s","job":"%s"}\n' "$url" "$2" "$3" \
	    >"$spool/running/$1.json.end"
}

xt-submit -C code -- sh run.sh >/dev/null
t_run xt-runq
t_status 0 "run1 runs"
t_ok "and completes" [ "$(rec run1 status)" = completed ]
t_ok "its entry is gone" [ -z "$(ls -A "$spool/running")" ]

# 1. the end was recorded, the entry was not removed
plant 0000000000001.00000001.000000 run1 job1
t_run xt-runq ls
t_ok "ls shows an .end entry as running" grep -q '"run":"run1".*"state":"running"' "$T/out"
t_run xt-runq
t_status 0 "xt-runq settles it"
t_ok "the entry is gone" [ -z "$(ls -A "$spool/running")" ]
t_ok "the run is still completed" [ "$(rec run1 status)" = completed ]
t_ok "and ended once" [ "$(events run1 | grep -c '^ended$')" -eq 1 ]

# 2. taken, but its start record never saved: it runs again
xt-submit -C code -- sh run.sh >/dev/null
name=$(ls "$spool/queue")
mv "$spool/queue/$name" "$spool/running/$name.end"
t_run xt-runq
t_status 0 "xt-runq settles a run whose record says queued"
t_ok "it ran and completed" [ "$(rec run2 status)" = completed ]
t_ok "as attempt 1" [ "$(rec run2 attempt)" = 1 ]
t_run xt-get -c run2/output.txt
echo "ran run2" >want
t_out_is want "its console is whole"

# 3. it was running: with no retries left it fails as lost
xt-submit -C code -- sh run.sh >/dev/null
name=$(ls "$spool/queue")
mv "$spool/queue/$name" "$spool/running/$name.end"
python3 - "$XT_STORE/ws/ws1/runs/run3/run.json" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))
r.update(status="running", attempt=1, started=r["created"], node="elsewhere")
open(sys.argv[1], "w").write(json.dumps(r) + "\n")
EOP
t_run xt-runq
t_status 0 "xt-runq settles a run that was running"
t_ok "it failed" [ "$(rec run3 status)" = failed ]
t_ok "as lost" [ "$(rec run3 error)" = "lost: its executor died" ]
t_ok "the spool is empty" [ -z "$(ls -A "$spool/running")$(ls -A "$spool/queue")" ]
t_done
