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
t_ok "its entry is gone" [ -d "$spool/running" ] && [ -z "$(ls -A "$spool/running")" ]

# 1. the end was recorded, the entry was not removed
plant 0000000000001.00000001.000000 run1 job1
t_run xt-runq ls
t_ok "ls shows an .end entry as running" grep -q '"run":"run1".*"state":"running"' "$T/out"
t_run xt-runq
t_status 0 "xt-runq settles it"
t_ok "the entry is gone" [ -d "$spool/running" ] && [ -z "$(ls -A "$spool/running")" ]
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
t_ok "the spool is empty" [ -d "$spool/running" ] && [ -d "$spool/queue" ] &&
    [ -z "$(ls -A "$spool/running")$(ls -A "$spool/queue")" ]

# 4. its record was put with its end, but its executor died before the
# index, the log and the parent knew: each learns it once
printf '{"i":1}\n{"i":2}\n' >hp
xt-submit -C code --hp hp -- sh run.sh >/dev/null
t_run xt-runq exec run4.1
t_status 0 "run4.1 runs"
name=$(ls "$spool/queue")
mv "$spool/queue/$name" "$spool/running/$name.end"
python3 - "$XT_STORE/ws/ws1/runs/run4.2/run.json" <<'EOP'
import json, sys
r = json.load(open(sys.argv[1]))
r.update(status="completed", attempt=1, started=r["created"], ended=r["created"], exit_code=0)
open(sys.argv[1], "w").write(json.dumps(r) + "\n")
EOP
# idx RUN STATUS: lines of the index giving RUN that STATUS
idx() {
	grep -c "\"run\":\"$1\",.*\"status\":\"$2\"\|\"status\":\"$2\".*\"run\":\"$1\"," \
	    "$XT_STORE/ws/ws1/index/runs.jsonl"
}
t_run xt-runq
t_status 0 "xt-runq settles a run whose end was half recorded"
t_ok "the index has its end" [ "$(idx run4.2 completed)" -eq 1 ]
t_ok "its log ends with its end" [ "$(events run4.2 | tail -n 1)" = ended ]
t_ok "its parent ended" [ "$(rec run4 status)" = completed ]
plant "${name%.json}" run4.2 job4
t_run xt-runq
t_status 0 "a second recovery of the same run"
t_ok "adds no index line" [ "$(idx run4.2 completed)" -eq 1 ]
t_ok "no second ended event" [ "$(events run4.2 | grep -c '^ended$')" -eq 1 ]
t_ok "and does not end the parent again" [ "$(idx run4 completed)" -eq 1 ]
t_done
