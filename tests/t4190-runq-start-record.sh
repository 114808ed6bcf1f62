#!/bin/sh
# The start of a run is recorded once its command has run 0.1 s (or as it
# logs its first line): a command that ends sooner has one record write,
# its end, with the whole attempt in it; the log still says "started"
# first. A longer one is seen running, in its record and in the index.
. "$(dirname "$0")/lib.sh"

# index_statuses RUN: the statuses of RUN's index lines, in order
index_statuses() {
	python3 - "$XT_STORE/ws/ws1/index/runs.jsonl" "$1" <<'EOP'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("run") == sys.argv[2]:
        print(o["status"])
EOP
}

mkdir code
cat >code/train.sh <<'EOS'
case $1 in
quick) ;;
logs) xt-log metric --step 1 acc=0.5 ;;
long) while [ ! -e "$GO" ]; do sleep 0.05; done ;;
esac
EOS
export GO="$T/go"
xt-submit -C code -- sh train.sh quick >/dev/null
t_run xt-runq -q
t_status 0 "a quick run"
t_run index_statuses run1
printf 'queued\ncompleted\n' >want
t_out_is want "its index has its end, no running line: one record write"
t_ok "its record has the attempt" [ "$(rec run1 status) $(rec run1 attempt) $(rec run1 exit_code)" = "completed 1 0" ]
t_ok "with its start and end times" [ -n "$(rec run1 started)" ] && [ -n "$(rec run1 ended)" ]
t_ok "and no pid left" [ -z "$(rec run1 pid)" ]
t_run events run1
printf 'created\nqueued\nstarted\nended\n' >want
t_out_is want "its log says started, then ended"

xt-submit -C code -- sh train.sh logs >/dev/null
t_run xt-runq -q
t_status 0 "a run that logs a value at once"
t_run events run2
printf 'created\nqueued\nstarted\nmetrics\nended\n' >want
t_out_is want "its log says started before the value"
t_run index_statuses run2
printf 'queued\nrunning\ncompleted\n' >want
t_out_is want "and its start is recorded as it logs"

xt-submit -C code -- sh train.sh long >/dev/null
xt-runq -q >/dev/null 2>&1 &
runq=$!
t_ok "a longer run is seen running" wait_status run3 running
t_run index_statuses run3
printf 'queued\nrunning\n' >want
t_out_is want "in the index too"
t_ok "with its pid" [ -n "$(rec run3 pid)" ]
touch "$GO"
wait $runq
t_ok "it completes" [ "$(rec run3 status)" = completed ]
t_done
