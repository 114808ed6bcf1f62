#!/bin/sh
# NaN and Infinity as Python's json.dumps writes them, bytes that are not
# UTF-8 and \u0000: accepted from $XT_LOG, xt-log and the C API, the line's
# other values kept, stored as valid JSON ("NaN", "Infinity", "-Infinity";
# U+FFFD).
. "$(dirname "$0")/lib.sh"

# valid FILE: every line is strict JSON in UTF-8 (Python refuses NaN here)
valid() {
	python3 -c '
import json, sys
def no_const(c): raise ValueError("bare " + c)
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    json.loads(line.decode("utf-8"), parse_constant=no_const)' "$1"
}

mkdir code
# the second line is written as bytes: \xff and \xfe are not UTF-8
cat >code/nan.sh <<'EOS'
python3 -c 'import json, os
with open(os.environ["XT_LOG"], "a") as f:
    f.write(json.dumps({"event": "metrics", "step": 1, "data": {"loss": float("nan"), "acc": 0.5, "up": float("inf"), "down": -float("inf")}}) + "\n")'
printf '{"event":"tags","data":{"note":"a\377b\\u0000c","\376":1}}\n' >>"$XT_LOG"
xt-log metric --step 2 loss=nan acc=0.75
EOS
xt-submit -C code -- sh nan.sh >/dev/null
t_run xt-runq
t_status 0 "a run logging NaN and Infinity, and stray bytes"
log=$XT_STORE/ws/ws1/runs/run1/log.jsonl
t_ok "its log is strict JSON in UTF-8" valid "$log"
t_ok "NaN and the infinities are strings, the other values kept" \
    grep -q '"step":1,"data":{"loss":"NaN","acc":0.5,"up":"Infinity","down":"-Infinity"}}' "$log"
t_ok "stray bytes and \\u0000 are U+FFFD" \
    grep -q "\"data\":{\"note\":\"a$(printf '\357\277\275')b$(printf '\357\277\275')c\",\"$(printf '\357\277\275')\":1}" "$log"
t_ok "xt-log metric loss=nan inside the run" grep -q '"step":2,"data":{"loss":"NaN","acc":0.75}}' "$log"
t_ok "no invalid event" test "$(grep -c '"invalid"' "$log")" = 0
t_ok "the record holds them" test "$(rec run1 metrics)" = '{"loss": "NaN", "acc": 0.75, "up": "Infinity", "down": "-Infinity"}'
t_ok "the record is strict JSON in UTF-8" valid "$XT_STORE/ws/ws1/runs/run1/run.json"
t_ok "so is the index" valid "$XT_STORE/ws/ws1/index/runs.jsonl"

# xt-log -r: the words as C and Python print them, in any case
printf '{"ws":"ws1","run":"r9","status":"running"}\n' >rec.json
xt-put rec.json :ws/ws1/runs/r9/run.json >/dev/null
t_run xt-log -r r9 metric a=nan b=NaN c=inf d=-inf e=Infinity f=-Infinity g=INF h=1
t_status 0 "xt-log metric takes nan, inf, -inf, Infinity"
t_ok "stored as the three strings" grep -q '"data":{"a":"NaN","b":"NaN","c":"Infinity","d":"-Infinity","e":"Infinity","f":"-Infinity","g":"Infinity","h":1}' "$XT_STORE/ws/ws1/runs/r9/log.jsonl"
printf '{"event":"metrics","data":{"x":NaN,"y":-Infinity,"z":[NaN,1]}}\n' >in
t_run xt-log -r r9 - <in
t_status 0 "xt-log - takes bare NaN and -Infinity"
t_ok "stored as strings" grep -q '"data":{"x":"NaN","y":"-Infinity","z":\["NaN",1\]}' "$XT_STORE/ws/ws1/runs/r9/log.jsonl"
t_run xt-log -r r9 hparam "$(printf 'name=a\377')" "$(printf 'k\300=1')"
t_status 0 "xt-log hparam with bytes that are not UTF-8"
t_ok "replaced in the log" grep -q "\"data\":{\"name\":\"a$(printf '\357\277\275')\",\"k$(printf '\357\277\275')\":1}" "$XT_STORE/ws/ws1/runs/r9/log.jsonl"
t_ok "and in the record" valid "$XT_STORE/ws/ws1/runs/r9/run.json"
t_ok "the log is strict JSON" valid "$XT_STORE/ws/ws1/runs/r9/log.jsonl"
t_done
