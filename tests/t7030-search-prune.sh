#!/bin/sh
# xt-search prune: metric events tagged with their run in, the runs to stop
# out (one JSON line each), with XT's policy parameters; bad lines named.
. "$(dirname "$0")/lib.sh"

# Three runs of five evaluations; run3 falls behind after the second.
python3 - >events <<'EOF'
import json
series = {"run1": [0.5, 0.6, 0.7, 0.8, 0.85], "run2": [0.4, 0.55, 0.65, 0.75, 0.8],
          "run3": [0.45, 0.5, 0.3, 0.2, 0.1]}
for step in range(5):
    for run, vs in series.items():
        print(json.dumps({"run": run, "time": "T", "event": "metrics", "step": step * 10,
                          "data": {"acc": vs[step], "loss": 1 - vs[step]}}))
print(json.dumps({"run": "run1", "event": "tags", "data": {"x": 1}}))
EOF

t_run xt-search prune --policy median --metric acc --delay-evaluation 3 events
t_status 0 "median"
cat >want <<'EOF'
{"run":"run3","policy":"median","eval":5,"step":40,"value":0.1,"reason":"best 0.5 is worse than the median 0.63 of 3 runs"}
EOF
t_out_is want "stops run3 at its last evaluation"
t_run xt-search prune --policy median --metric acc --delay-evaluation 6 events
t_status 0 "median before the delay"
: >empty
t_out_is empty "stops nothing"

t_run xt-search prune --policy bandit --metric loss --goal min --slack-amount 0.1 --delay-evaluation 1 <events
t_status 0 "bandit on a loss, from standard input"
cat >want <<'EOF'
{"run":"run3","policy":"bandit","eval":5,"step":40,"value":0.9,"reason":"0.9 is outside the slack of the best 0.15 (limit 0.25)"}
EOF
t_out_is want "stops run3"
t_run xt-search prune --policy bandit --metric acc --slack-factor 0.2 --delay-evaluation 2 --evaluation-interval 2 events
t_status 0 "bandit with an interval: judged at evaluation 4"
cat >want <<'EOF'
{"run":"run3","policy":"bandit","eval":4,"step":30,"value":0.2,"reason":"0.2 is outside the slack of the best 0.8 (limit 0.666667)"}
EOF
t_out_is want "at the last check point"

t_run xt-search prune --policy truncation --metric acc --truncation-percentage 34 --delay-evaluation 1 events
t_status 0 "truncation"
t_ok "stops the worst third: run3" test "$(grep -c '^{"run":"run3","policy":"truncation"' "$T/out")" -eq 1
t_run xt-search prune --policy asha --metric acc --min-resource 1 --reduction-factor 3 events
t_status 0 "asha"
t_ok "keeps the best third at rung 3: run1" \
    test "$(grep -o '"run":"run[0-9]"' "$T/out" | tr -d '\n')" = '"run":"run2""run":"run3"'

# asha in time: run1 reaches rung 1 alone and goes on, run2 (better) comes
# later, run3 (worse than the best of three) last; run3 fails rung 1 and is
# stopped there, though its lines go on to rung 2, where it does not count.
python3 - >timed <<'EOF2'
import json
for t, run, acc in [(1, "run1", 0.5), (2, "run2", 0.9), (3, "run3", 0.1), (4, "run2", 0.95),
                    (5, "run3", 0.99), (6, "run1", 0.6)]:
    print(json.dumps({"run": run, "time": "2026-01-01T00:00:%02d.000Z" % t, "event": "metrics",
                      "data": {"acc": acc}}))
EOF2
t_run xt-search prune --policy asha --metric acc --reduction-factor 2 timed
t_status 0 "asha by the lines' time"
cat >want <<'EOF2'
{"run":"run1","policy":"asha","eval":2,"value":0.6,"reason":"not in the best 1 of 2 runs at rung 2"}
{"run":"run3","policy":"asha","eval":1,"value":0.1,"reason":"not in the best 1 of 3 runs at rung 1"}
EOF2
t_out_is want "run1 is judged at rung 1 alone, not again when run2 comes; run3 at its first rung"

printf '{"run":"run3","event":"ended","data":{"status":"completed"}}\n' >ended
t_run xt-search prune --policy median --metric acc --delay-evaluation 3 events ended
t_out_is empty "an ended run is not stopped"

printf '{"run":"run1","event":"metrics","data":{"acc":1}}\n{"event":"metrics","data":{"acc":1}}\n' >bad
t_run xt-search prune --policy median --metric acc bad
t_status 1 "a line without its run"
t_err_has "bad:2: expected \"run\" (the run's name)" "names the line"
t_run xt-search prune --policy median --metric acc missing
t_status 1 "a missing file"
t_run xt-search prune --policy hyperband --metric acc events
t_status 2 "an unknown policy"
t_err_has "unknown policy 'hyperband'" "names it"
t_run xt-search prune --policy truncation --metric acc --truncation-percentage 120 events
t_status 2 "a percentage over 100"
t_err_has "option '--truncation-percentage'" "names the option"
t_run xt-search prune --metric acc events
t_status 2 "no policy"
# The executor's live checks agree: a job of three runs with asha (rungs at
# 1 and 2 evaluations), drained by xt-runq; the runs reach rung 1 one after
# the other (each waits for the test), with 0.5, 0.9 and 0.1. run1.1 was
# alone there and goes on, though run1.2 (better) came later; run1.3 is not
# the best of the three and is stopped. Both runs' executors check again
# and again while they wait; run1.1 is never judged at rung 1 again.
mkdir code
cat >code/train.sh <<'EOS'
i=${XT_RUN##*.}
while [ ! -e "$GATES/go$i" ]; do sleep 0.02; done
xt-log metric --step 1 acc="$(echo 0.5 0.9 0.1 | cut -d' ' -f"$i")"
touch "$GATES/at$i"
while [ ! -e "$GATES/fin" ]; do sleep 0.02; done
EOS
export GATES="$T/gates"
mkdir "$GATES"
printf '{"i":1}\n{"i":2}\n{"i":3}\n' >hp
t_run xt-submit -C code --hp hp --prune asha --search-opt metric=acc \
    --search-opt reduction-factor=2 -- sh train.sh
t_status 0 "submit a job of three runs with asha"
xt-runq -j 3 >runq.out 2>runq.err &
runq=$!
# gate N: let run1.N log its value, and wait (a bounded count) until it has
# and its executor's pump has put the line in the run's log (what the other
# executors read): xt-log returns before the pump appends
gate() {
	touch "$GATES/go$1"
	n=0
	while { [ ! -e "$GATES/at$1" ] ||
	    ! grep -qs '"metrics"' "$XT_STORE/ws/ws1/runs/run1.$1/log.jsonl"; } &&
	    [ $n -lt 3000 ]; do
		sleep 0.05
		n=$((n + 1))
	done
}
gate 1
gate 2
gate 3
t_ok "run1.3 is stopped" wait_status run1.3 pruned
# both runs left are checked again meanwhile (once a second)
sleep 2.5
t_ok "run1.1 goes on after run1.2 and run1.3 came" [ "$(rec run1.1 status)" = running ]
touch "$GATES/fin"
wait "$runq"
t_ok "run1.1 and run1.2 completed" \
    [ "$(rec run1.1 status) $(rec run1.2 status)" = "completed completed" ]
python3 - "$XT_STORE/ws/ws1/runs" >metrics.jsonl 2>pruned.jsonl <<'EOF2'
import json, sys
for k in (1, 2, 3):
    run = "run1.%d" % k
    for line in open("%s/%s/log.jsonl" % (sys.argv[1], run)):
        o = json.loads(line)
        if o["event"] == "metrics":
            print(json.dumps(dict(run=run, **o)))
        elif o["event"] == "pruned":
            print(json.dumps(dict(run=run, **o["data"]), separators=(",", ":")), file=sys.stderr)
EOF2
t_run xt-search prune --policy asha --metric acc --reduction-factor 2 metrics.jsonl
t_status 0 "xt-search prune over the runs' metrics"
t_out_is pruned.jsonl "stops what the executors stopped, at the same rung, for the same reason"
t_ok "run1.3 only" grep -q '^{"run":"run1.3","policy":"asha","eval":1,' pruned.jsonl
t_done
