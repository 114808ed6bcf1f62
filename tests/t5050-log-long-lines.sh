#!/bin/sh
# A run's $XT_LOG lines past the limit of 1 MiB: a line of 2 MB or 17 MB is
# recorded as an "invalid" event saying its size, and every line after it
# arrives; a line of exactly 1 MiB is kept whole; a blank line is skipped.
. "$(dirname "$0")/lib.sh"

mkdir code
# lines.py SIZE...: a metric at step 0, then for each SIZE a line of SIZE
# bytes (newline not counted) followed by a metric, then an unended line
cat >code/lines.py <<'EOS'
import json, os, sys
f = open(os.environ["XT_LOG"], "a")
def put(s):
    f.write(s)
    f.flush()
put('{"event":"metrics","step":0,"data":{"acc":0}}\n')
for i, n in enumerate(sys.argv[1:]):
    head, tail = '{"event":"big","data":{"s":"', '"}}'
    put(head + "x" * (int(n) - len(head) - len(tail)) + tail + "\n")
    put("   \n")
    put('{"event":"metrics","step":%d,"data":{"acc":%d}}\n' % (i + 1, i + 1))
put('{"event":"last","data":{"unended":true}}')
EOS
# summary RUN: one line per event of the run's log: its name, and for a
# big or invalid event its size and error
cat >summary.py <<'EOS'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    d = e.get("data", {})
    if e["event"] == "big":
        print("big", len(line) - 1 - len(e["time"]) - 10)
    elif e["event"] == "invalid":
        print("invalid", d["bytes"], d["error"], d["line"][:30], len(d["line"]))
    elif e["event"] in ("created", "queued", "started", "ended"):
        continue
    else:
        print(e["event"], e.get("step", ""), json.dumps(d))
EOS

xt-submit -C code -- python3 lines.py 2000000 17000000 >/dev/null
t_run xt-runq
t_status 0 "a run writing lines of 2 MB and 17 MB"
t_run python3 summary.py "$XT_STORE/ws/ws1/runs/run1/log.jsonl"
cat >want <<'EOF'
metrics 0 {"acc": 0}
invalid 2000000 line of 2000000 bytes is over the limit of 1 MiB {"event":"big","data":{"s":"xx 200
metrics 1 {"acc": 1}
invalid 17000000 line of 17000000 bytes is over the limit of 1 MiB {"event":"big","data":{"s":"xx 200
metrics 2 {"acc": 2}
last  {"unended": true}
EOF
t_out_is want "each long line is an invalid event with its size; every later line is there"
t_ok "the run completed" test "$(rec run1 status)" = completed
t_ok "the record has the last step" test "$(rec run1 step)" = 2

# at the limit: 1 MiB is kept (with the time xt adds), one byte more is not
xt-submit -C code -- python3 lines.py 1048576 1048577 >/dev/null
t_run xt-runq
t_status 0 "a run writing lines of 1 MiB and 1 MiB + 1"
t_run python3 summary.py "$XT_STORE/ws/ws1/runs/run2/log.jsonl"
cat >want <<'EOF'
metrics 0 {"acc": 0}
big 1048576
metrics 1 {"acc": 1}
invalid 1048577 line of 1048577 bytes is over the limit of 1 MiB {"event":"big","data":{"s":"xx 200
metrics 2 {"acc": 2}
last  {"unended": true}
EOF
t_out_is want "1 MiB is whole, 1 MiB + 1 is an invalid event"

# a writer cut short that left the start of a line without its newline: the
# next line is read whole after an invalid event for the torn start
cat >code/torn.sh <<'EOS'
printf '{"event":"metrics","step":1,"data":{"ac' >>"$XT_LOG"
echo '{"event":"metrics","step":2,"data":{"acc":0.5}}' >>"$XT_LOG"
echo '{"event":"metrics","step":3,"data":{"acc":0.75}}' >>"$XT_LOG"
EOS
xt-submit -C code -- sh torn.sh >/dev/null
t_run xt-runq
t_status 0 "a run that leaves a torn line"
cat >summary.py <<'EOS'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] not in ("created", "queued", "started", "ended"):
        print(e["event"], e.get("step", ""), json.dumps(e.get("data")))
EOS
t_run python3 summary.py "$XT_STORE/ws/ws1/runs/run3/log.jsonl"
cat >want <<'EOF'
invalid  {"error": "torn line: no newline before the next line", "line": "{\"event\":\"metrics\",\"step\":1,\"data\":{\"ac"}
metrics 2 {"acc": 0.5}
metrics 3 {"acc": 0.75}
EOF
t_out_is want "the torn start is an invalid event, the line after it is whole"

# xt-log refuses a line over the limit, from standard input or its operands
printf '{"ws":"ws1","run":"r9","status":"running"}\n' >rec.json
xt-put rec.json :ws/ws1/runs/r9/run.json >/dev/null
python3 -c 'print("{\"event\":\"metrics\",\"step\":1,\"data\":{\"a\":1}}")
print("{\"event\":\"big\",\"data\":{\"s\":\"" + "x" * 1100000 + "\"}}")' >in
t_run xt-log -r r9 - <in
t_status 1 "xt-log - with a line of 1.1 MB: exit 1"
t_err_has "xt-log: <stdin>:2: line longer than 1048576 bytes" "names the line and the limit"
t_ok "nothing appended" test ! -e "$XT_STORE/ws/ws1/runs/r9/log.jsonl"
a=$(python3 -c 'print("x" * 120000)')
t_run xt-log -r r9 event big "a=$a" "b=$a" "c=$a" "d=$a" "e=$a" "f=$a" "g=$a" "h=$a" "i=$a"
t_status 1 "xt-log event with 1.08 MB of operands: exit 1"
t_err_has "xt-log: line of 1080121 bytes is over the limit of 1 MiB: nothing appended" "says so"
t_ok "nothing appended" test ! -e "$XT_STORE/ws/ws1/runs/r9/log.jsonl"
t_done
