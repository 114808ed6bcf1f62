#!/bin/sh
# The child that creates its parent's marker "settled" ends the parent. If
# its executor dies after the marker and before the parent's record is
# saved (or before it is in the index), the recovery of that child
# finishes the parent's end, once; the recovery of another child leaves
# it alone (its ender may be alive and about to save it).
. "$(dirname "$0")/lib.sh"

mkdir code
# the second child fails: the parent fails
echo 'case "$1" in --i=2) exit 3;; esac; echo ok' >code/run.sh
printf '{"i":1}\n{"i":2}\n' >hp
url="file://$XT_STORE"
spool="$XT_HOME/spool"
runs="$XT_STORE/ws/ws1/runs"
xt-submit -C code --hp hp -- sh run.sh >/dev/null
t_run xt-runq -j 1
t_status 1 "the job runs (a child fails: exit 1)"
t_ok "the parent failed" [ "$(rec run1 status)" = failed ]
# the child that ended it: either, as their ends fall
by=$(sed -n 's/.*"child":"\(run1\.[12]\)".*/\1/p' "$runs/run1/settled")
t_ok "its marker names the child that ended it" [ -n "$by" ]
[ -n "$by" ] || by=run1.2
other=run1.1
[ "$by" = run1.1 ] && other=run1.2
ended=$(rec run1 ended)

# plant RUN: an unlocked .end entry of RUN, as its dead executor leaves it
plant() {
	printf '{"store":"%s","ws":"ws1","run":"%s","job":"job1"}\n' "$url" "$1" \
	    >"$spool/running/0000000000001.00000001.00000$2.json.end"
}
# idx RUN STATUS: lines of the index giving RUN that STATUS (nothing when
# the index is missing, so that no count compares true)
idx() {
	[ -f "$XT_STORE/ws/ws1/index/runs.jsonl" ] || return 1
	grep "\"run\":\"$1\"," "$XT_STORE/ws/ws1/index/runs.jsonl" | grep -c "\"status\":\"$2\""
}
# undo [keep]: the parent's end as a dead ender leaves it: its record still
# running (unless keep) and its end not in the index
undo() {
	python3 - "$runs/run1/run.json" "$XT_STORE/ws/ws1/index/runs.jsonl" "${1:-}" <<'EOP'
import json, sys
rec, idx, keep = sys.argv[1], sys.argv[2], sys.argv[3]
if not keep:
    r = json.load(open(rec))
    r["status"] = "running"
    del r["ended"]
    open(rec, "w").write(json.dumps(r) + "\n")
lines = open(idx).readlines()
keepl = [l for l in lines if not (json.loads(l)["run"] == "run1" and
                                  json.loads(l)["status"] == "failed")]
open(idx, "w").write("".join(keepl))
EOP
}

# 1. the marker is there, the parent's record is not saved
undo
t_ok "the state: the parent is running" [ "$(rec run1 status)" = running ]
plant $other 1
t_run xt-runq
t_status 0 "a recovery of the child that did not end it"
t_ok "leaves the parent alone" [ "$(rec run1 status)" = running ]
plant $by 2
t_run xt-runq
t_status 0 "a recovery of the child that ended it"
t_ok "ends the parent" [ "$(rec run1 status)" = failed ]
t_ok "at the time the marker says" [ "$(rec run1 ended)" = "$ended" ]
t_ok "once in the index" [ "$(idx run1 failed)" -eq 1 ]
t_ok "with its children's count" [ "$(rec run1 children)" = 2 ]
t_ok "each child counted" [ "$(sort -u "$runs/run1/ended.txt" | wc -l)" -eq 2 ]
t_ok "the spool is empty" [ -d "$spool/running" ] && [ -z "$(ls -A "$spool/running")" ]
plant $by 2
t_run xt-runq
t_status 0 "a second recovery"
t_ok "does not end it again" [ "$(idx run1 failed)" -eq 1 ]

# 2. the record was saved, the index line was not
undo keep
t_ok "the state: the index lacks the end" [ "$(idx run1 failed)" -eq 0 ]
plant $by 2
t_run xt-runq
t_status 0 "a recovery"
t_ok "puts the end in the index once" [ "$(idx run1 failed)" -eq 1 ]
t_ok "and the record stays ended" [ "$(rec run1 status)" = failed ]

# 3. two xt-runq recover at the same time: one takes the entry
undo
plant $by 2
xt-runq >a.out 2>&1 &
a=$!
xt-runq >b.out 2>&1 &
b=$!
wait $a
sa=$?
wait $b
sb=$?
t_ok "two xt-runq at once" [ $sa -eq 0 -a $sb -eq 0 ]
t_ok "end the parent" [ "$(rec run1 status)" = failed ]
t_ok "once" [ "$(idx run1 failed)" -eq 1 ]
t_done
