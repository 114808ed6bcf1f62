#!/bin/sh
# Keys are case-sensitive: metrics, hparams and tags named "acc" and "ACC"
# are two values, in the log line, in the record and in a report's columns.
. "$(dirname "$0")/lib.sh"

run=$XT_STORE/ws/ws1/runs/run1
printf '{"ws":"ws1","run":"run1","status":"running"}\n' >rec.json
xt-put rec.json :ws/ws1/runs/run1/run.json >/dev/null

t_run xt-log -r run1 metric --step 1 acc=0.5 ACC=0.75 Acc=0.25
t_status 0 "three metrics that differ only in case"
t_ok "the log line holds all three" \
    grep -q '"data":{"acc":0.5,"ACC":0.75,"Acc":0.25}' "$run/log.jsonl"
t_ok "the record holds all three" \
    grep -q '"metrics":{"acc":0.5,"ACC":0.75,"Acc":0.25}' "$run/run.json"

printf '%s\n' '{"event":"metrics","step":2,"data":{"ACC":0.8}}' \
    '{"event":"hparams","data":{"lr":0.1,"LR":0.2}}' \
    '{"event":"tags","data":{"x":"a","X":"b"}}' >in
t_run xt-log -r run1 - <in
t_status 0 "raw lines with keys in two cases"
t_ok "a later ACC changes ACC only" \
    grep -q '"metrics":{"acc":0.5,"ACC":0.8,"Acc":0.25}' "$run/run.json"
t_ok "hparams lr and LR both kept" grep -q '"hparams":{"lr":0.1,"LR":0.2}' "$run/run.json"
t_ok "tags x and X both kept" grep -q '"tags":{"x":"a","X":"b"}' "$run/run.json"

# a run logging through $XT_LOG: folded by xt-runq
mkdir code
cat >code/m.sh <<'EOS'
echo '{"event":"metrics","step":1,"data":{"acc":0.1,"ACC":0.9}}' >>"$XT_LOG"
EOS
xt-submit -C code -- sh m.sh >/dev/null
t_run xt-runq
t_status 0 "a run logging acc and ACC"
t_ok "its record keeps both" test "$(rec run2 metrics)" = '{"acc": 0.1, "ACC": 0.9}'

t_run xt-report -c run,metrics.acc,metrics.ACC run2
t_status 0 "a report with columns acc and ACC"
cat >want <<'EOF'
run   metrics.acc  metrics.ACC
run2        0.100        0.900
EOF
t_out_is want "each column shows its own value"
t_done
