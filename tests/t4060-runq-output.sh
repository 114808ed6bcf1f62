#!/bin/sh
# A run printing 100 MB, or binary bytes, is captured whole; 8 runs each
# logging 10,000 metric lines lose none and interleave none.
. "$(dirname "$0")/lib.sh"

mkdir code
head -c 100000000 /dev/urandom >big
printf 'a\000b\377\376\n\001' >bin
echo "cat '$T/big'" >code/big.sh
echo "cat '$T/bin'" >code/bin.sh
xt-submit -C code -- sh big.sh >/dev/null
xt-submit -C code -- sh bin.sh >/dev/null
t_run xt-runq -j 2
t_status 0 "run both"
t_run xt-get -c run1/output.txt
t_ok "100 MB of console captured whole" cmp -s big "$T/out"
t_run xt-get -c run2/output.txt
t_ok "binary bytes captured whole" cmp -s bin "$T/out"

cat >code/metrics.sh <<'EOS'
i=0
while [ $i -lt 10000 ]; do
	echo "{\"event\":\"metrics\",\"step\":$i,\"data\":{\"loss\":$i.5,\"run\":\"$XT_RUN\"}}" >>"$XT_LOG"
	i=$((i + 1))
done
EOS
printf '{"a":1}\n{"a":2}\n{"a":3}\n{"a":4}\n{"a":5}\n{"a":6}\n{"a":7}\n{"a":8}\n' >hp
xt-submit -C code --hp hp -- sh metrics.sh >/dev/null
t_run xt-runq -j 8
t_status 0 "8 runs logging 10,000 metric lines each"
t_run python3 -c '
import json, sys
bad = 0
for k in range(1, 9):
    steps = []
    for line in open(sys.argv[1] + "/ws/ws1/runs/run3.%d/log.jsonl" % k):
        e = json.loads(line)
        if e["event"] == "metrics":
            assert e["data"]["run"] == "run3.%d" % k
            assert e["data"]["loss"] == e["step"] + 0.5
            steps.append(e["step"])
    if steps != list(range(10000)):
        bad += 1
        miss = sorted(set(range(10000)) - set(steps))
        sys.stderr.write("run3.%d: %d steps, %d missing (first %s), %d repeated\n" % (k, len(steps), len(miss), miss[:5], len(steps) - len(set(steps))))
print(bad)' "$XT_STORE"
t_status 0 "every log parses, line by line"
t_ok "every run has all 10,000 lines, in order" [ "$(cat "$T/out")" = 0 ]
t_ok "the record has the last step" [ "$(rec run3.5 step)" = 9999 ]
t_ok "all 8 completed" [ "$(cat "$XT_STORE"/ws/ws1/runs/run3.*/run.json | grep -c '"status":"completed"')" -eq 8 ]
t_done
