#!/bin/sh
# A job's parent run is queued until its first child starts, then running
# until its last child ends, then ended once, whatever the children's
# timing: one index line per state.
. "$(dirname "$0")/lib.sh"

mkdir code
# each run waits until the test lets it go
echo 'while [ ! -e "$GO" ]; do sleep 0.02; done; echo "ran $XT_RUN"' >code/wait.sh
printf '{"i":1}\n{"i":2}\n{"i":3}\n' >hp
export GO="$T/go"
xt-submit -C code --hp hp -- sh wait.sh >/dev/null
t_ok "the parent is queued while no child runs" [ "$(rec run1 status)" = queued ]
xt-runq -j 1 >runq.out 2>runq.err &
runq=$!
t_ok "the first child starts" wait_status run1.1 running
t_ok "the parent is running" [ "$(rec run1 status)" = running ]
t_ok "from its first child's start" [ "$(rec run1 started)" = "$(rec run1.1 started)" ]
t_ok "its log says it started" [ "$(events run1 | grep -c '^started$')" -eq 1 ]
touch "$GO"
wait $runq
t_ok "xt-runq drained the job" [ $? -eq 0 ]
t_ok "every child completed" [ "$(rec run1.3 status)" = completed ]
t_ok "the parent completed" [ "$(rec run1 status)" = completed ]
# idx RUN STATUS: lines of the index giving RUN that STATUS
idx() {
	grep "\"run\":\"$1\"," "$XT_STORE/ws/ws1/index/runs.jsonl" | grep -c "\"status\":\"$2\""
}
t_ok "the index has the parent queued once" [ "$(idx run1 queued)" -eq 1 ]
t_ok "running once" [ "$(idx run1 running)" -eq 1 ]
t_ok "and completed once" [ "$(idx run1 completed)" -eq 1 ]

# 8 children at once, again and again: the parent starts once and ends once
rm -f "$GO"
i=0
: >hp8
while [ $i -lt 8 ]; do echo "{\"i\":$i}" >>hp8; i=$((i + 1)); done
touch "$GO"
k=2
while [ $k -le 6 ]; do
	xt-submit -C code --hp hp8 -- sh wait.sh >/dev/null
	k=$((k + 1))
done
t_run xt-runq -j 8
t_status 0 "5 jobs of 8 runs, 8 at once"
bad=0
k=2
while [ $k -le 6 ]; do
	[ "$(idx run$k running)" -eq 1 ] && [ "$(idx run$k completed)" -eq 1 ] || bad=$((bad + 1))
	k=$((k + 1))
done
t_ok "each parent was running once and completed once" [ $bad -eq 0 ]
t_done
