#!/bin/sh
# xt-log writes events: metric, hparam, tag, event and raw lines from
# standard input, into a run in the store (-r) or into $XT_LOG; the record
# keeps the last value of each metric and the last step; bad input changes
# nothing.
. "$(dirname "$0")/lib.sh"

run=$XT_STORE/ws/ws1/runs/run1
iso='"time":"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]Z"'
given=2020-01-02T03:04:05.678Z
# FILE with each well-formed time replaced by "T" (but the one the test gives), into $T/out
masked() { sed "/$given/!s/$iso/\"time\":\"T\"/" "$1" >"$T/out"; }

printf '{"ws":"ws1","run":"run1","status":"running","cmd":"python train.py"}\n' >rec.json
t_run xt-put rec.json :ws/ws1/runs/run1/run.json
t_status 0 "a run record made by hand"

t_run xt-log -r run1 metric --step 1 acc=0.5 loss=1.25
t_status 0 "metric with a step"
: >empty
t_out_is empty "writing prints nothing"
t_err_empty "and says nothing"
t_run xt-log -r run1 metric --step 2 acc=0.75
t_status 0 "a second metric"
t_run xt-log metric acc=0.8 -r run1
t_status 0 "a metric without a step, options after the command"
t_run xt-log -r run1 hparam lr=0.01 opt=adam 'layers=[1,2]' flag=true 'name="x y"'
t_status 0 "hparams of every type"
t_run xt-log -r run1 tag top5 note=hello
t_status 0 "tags, bare and with a value"
t_run xt-log -r run1 event checkpoint path=/x/y n=3
t_status 0 "a user event"
t_run xt-log -r run1 event started
t_status 0 "an event without data"

cat >want <<'EOF'
{"time":"T","event":"metrics","step":1,"data":{"acc":0.5,"loss":1.25}}
{"time":"T","event":"metrics","step":2,"data":{"acc":0.75}}
{"time":"T","event":"metrics","data":{"acc":0.8}}
{"time":"T","event":"hparams","data":{"lr":0.01,"opt":"adam","layers":[1,2],"flag":true,"name":"x y"}}
{"time":"T","event":"tags","data":{"top5":true,"note":"hello"}}
{"time":"T","event":"checkpoint","data":{"path":"/x/y","n":3}}
{"time":"T","event":"started","data":{}}
EOF
masked "$run/log.jsonl"
t_out_is want "log.jsonl holds one line per call, with a time"

cat >want <<'EOF'
{"ws":"ws1","run":"run1","status":"running","cmd":"python train.py","metrics":{"acc":0.8,"loss":1.25},"step":2,"rev":5,"hparams":{"lr":0.01,"opt":"adam","layers":[1,2],"flag":true,"name":"x y"},"tags":{"top5":true,"note":"hello"}}
EOF
t_run cat "$run/run.json"
t_out_is want "the record has the last metrics, the last step, hparams and tags"
t_ok "hparams and tags went to the index, metrics did not" \
    [ "$(wc -l <"$XT_STORE/ws/ws1/index/runs.jsonl")" -eq 2 ]
t_run tail -n 1 "$XT_STORE/ws/ws1/index/runs.jsonl"
t_out_is want "the index's last line is the record"

# raw lines from standard input
cat >in <<'EOF'
{"event":"metrics","step":3,"data":{"acc":0.85,"f1":0.5}}

{"time":"2020-01-02T03:04:05.678Z","event":"note","data":{"text":"kept time"}}
  {"event":"metrics","step":4,"data":{"acc":0.9}}
EOF
t_run xt-log -r run1 - <in
t_status 0 "raw lines from standard input"
t_err_empty "quietly"
t_run tail -n 3 "$run/log.jsonl"
sed "/$given/!s/$iso/\"time\":\"T\"/" "$T/out" >got
cat >want <<'EOF'
{"time":"T","event":"metrics","step":3,"data":{"acc":0.85,"f1":0.5}}
{"time":"2020-01-02T03:04:05.678Z","event":"note","data":{"text":"kept time"}}
{"time":"T","event":"metrics","step":4,"data":{"acc":0.9}}
EOF
t_ok "normalised: time first where missing, kept where given, blank lines dropped" cmp -s want got
t_ok "the record folds them: step 4, acc 0.9, f1 0.5" \
    grep -q '"metrics":{"acc":0.9,"loss":1.25,"f1":0.5},"step":4,' "$run/run.json"
printf '{"event":"metrics","step":5,"data":{"acc":0.95}}\n' >in
t_run xt-log -r run1 raw <in
t_status 0 "'raw' is '-'"
t_ok "and folds too" grep -q '"acc":0.95,.*"step":5,' "$run/run.json"

# a bad line anywhere: nothing of the input is appended
cp "$run/log.jsonl" log.before
cp "$run/run.json" rec.before
cat >in <<'EOF'
{"event":"metrics","step":6,"data":{"acc":1}}
{"event":"ok"}
{"event":"metrics","step":7,"data":{"acc":
{"event":"ok2"}
EOF
t_run xt-log -r run1 - <in
t_status 1 "a malformed line 3"
t_err_has "xt-log: <stdin>:3: malformed JSON" "names the line"
t_err_has "nothing appended" "says nothing was appended"
t_ok "the log is unchanged" cmp -s log.before "$run/log.jsonl"
t_ok "the record is unchanged" cmp -s rec.before "$run/run.json"

cat >in <<'EOF'
[1,2]
{"data":{}}
{"event":"a b"}
{"event":"e","data":[1]}
{"event":"e","step":-1}
{"event":"e","step":2.5}
{"event":"e"} {"event":"f"}
{"event":"fine"}
EOF
t_run xt-log -r run1 - <in
t_status 1 "seven bad lines"
t_err_has "<stdin>:1: expected a JSON object" "not an object"
t_err_has "<stdin>:2: expected a string \"event\"" "no event"
t_err_has "<stdin>:3: event name 'a b' contains ' '" "a bad event name"
t_err_has "<stdin>:4: \"data\" must be an object" "data not an object"
t_err_has "<stdin>:5: \"step\" must be a whole number >= 0" "a negative step"
t_err_has "<stdin>:6: \"step\" must be a whole number >= 0" "a fractional step"
t_err_has "<stdin>:7: junk after the JSON value" "two objects on a line"
t_ok "the log is still unchanged" cmp -s log.before "$run/log.jsonl"

# bad command lines: exit 2, nothing written
t_run xt-log -r run1 metric acc=abc
t_status 2 "a metric that is not a number"
t_err_has "xt-log: metric 'acc': 'abc' is not a number" "says which"
t_run xt-log -r run1 metric loss=nan5
t_status 2 "nan5 is not a number (NaN and inf are, see t5060)"
t_run xt-log -r run1 metric loss=1e999
t_status 2 "nor is a number past the largest double"
t_run xt-log -r run1 metric '"acc"'
t_status 2 "a metric without a value"
t_err_has "expected NAME=VALUE, not '\"acc\"'" "says what it expected"
t_run xt-log -r run1 metric
t_status 2 "metric needs an operand"
t_run xt-log -r run1 metric --step -1 acc=1
t_status 2 "a negative step"
t_err_has "option '--step': '-1' is not a whole number" "names the option"
t_run xt-log -r run1 hparam --step 3 lr=1
t_status 2 "--step is for metrics only"
t_run xt-log -r run1 tag 'a b'
t_status 2 "a bad tag name"
t_err_has "tag 'a b' contains ' '" "says why"
t_run xt-log -r run1 event 'a/b' x=1
t_status 2 "a bad event name"
t_err_has "event 'a/b' contains '/'" "says why"
t_run xt-log -r ../run1 metric acc=1
t_status 2 "a bad run name"
t_err_has "run '../run1' starts with '.'" "says why"
t_run xt-log -r run1 -w 'w s' metric acc=1
t_status 2 "a bad workspace name"
t_run xt-log -r run1 --bogus metric acc=1
t_status 2 "an unknown option"
t_err_has "usage: xt-log" "prints the usage"
t_run xt-log -r run1 frobnicate
t_status 2 "an unknown command"
t_err_has "unknown command 'frobnicate'" "names it"
t_run xt-log
t_status 2 "no command"
t_run xt-log -r run1 show run1
t_status 2 "show takes one run, not -r and an operand"
t_ok "nothing of these was written" cmp -s log.before "$run/log.jsonl"

t_run xt-log -r run9 metric acc=1
t_status 1 "a run that does not exist"
t_err_has "xt-log: no run 'run9' in workspace 'ws1'" "says so"
t_ok "and nothing was made for it" [ ! -e "$XT_STORE/ws/ws1/runs/run9" ]
t_run xt-log -r run9 - <in
t_status 1 "from standard input too"

t_run xt-log metric acc=1
t_status 2 "neither -r nor XT_LOG"
t_err_has "use -r RUN, or run inside xt-runq" "says what to do"

t_run xt-log --help
t_status 0 "--help"
t_ok "prints the usage on stdout" grep -q '^usage: xt-log' "$T/out"
t_err_empty "and nothing on stderr"

# another store and workspace
mkdir other
printf '{"ws":"ws2","run":"run3","status":"running"}\n' >rec2.json
t_run xt-put -s "$T/other" -w ws2 rec2.json run3/run.json
t_status 0 "a run in another store and workspace"
t_run xt-log -s "$T/other" -w ws2 -r run3 metric --step 7 x=1
t_status 0 "-s and -w pick them"
t_ok "the line is there" grep -q '"event":"metrics","step":7,"data":{"x":1}' \
    "$T/other/ws/ws2/runs/run3/log.jsonl"
t_ok "and the record folded" grep -q '"metrics":{"x":1},"step":7' \
    "$T/other/ws/ws2/runs/run3/run.json"
t_run env XT_WORKSPACE=ws2 XT_STORE="$T/other" xt-log -r run3 metric --step 8 x=2
t_status 0 "or the environment"
t_ok "the record folded" grep -q '"metrics":{"x":2},"step":8' \
    "$T/other/ws/ws2/runs/run3/run.json"

# inside a run: $XT_LOG
cp "$run/log.jsonl" log.before
export XT_LOG="$T/xtlog"
t_run xt-log metric --step 5 a=1e-3 b=-2
t_status 0 "metric into XT_LOG"
t_run xt-log hparam lr=0.1
t_status 0 "hparam into XT_LOG"
t_run xt-log tag best
t_status 0 "tag into XT_LOG"
t_run xt-log event ended code=0
t_status 0 "event into XT_LOG"
printf '{"event":"metrics","step":6,"data":{"a":2}}\n{"event":"x","time":"2020-01-02T03:04:05.678Z"}\n' >in
t_run xt-log - <in
t_status 0 "raw lines into XT_LOG"
cat >want <<'EOF'
{"time":"T","event":"metrics","step":5,"data":{"a":0.001,"b":-2}}
{"time":"T","event":"hparams","data":{"lr":0.1}}
{"time":"T","event":"tags","data":{"best":true}}
{"time":"T","event":"ended","data":{"code":0}}
{"time":"T","event":"metrics","step":6,"data":{"a":2}}
{"event":"x","time":"2020-01-02T03:04:05.678Z"}
EOF
masked "$XT_LOG"
t_out_is want "the XT_LOG file has the lines"
t_ok "the store was not touched" cmp -s log.before "$run/log.jsonl"
cp "$XT_LOG" xtlog.before
printf '{"event":"ok"}\n{"event":\n' >in
t_run xt-log - <in
t_status 1 "a bad line into XT_LOG"
t_err_has "<stdin>:2: malformed JSON" "is named"
t_ok "and nothing was appended to XT_LOG" cmp -s xtlog.before "$XT_LOG"
t_run xt-log -r run1 metric --step 9 z=1
t_status 0 "-r wins over XT_LOG"
t_ok "the line went to the store" grep -q '"step":9,"data":{"z":1}' "$run/log.jsonl"
t_ok "not to XT_LOG" cmp -s xtlog.before "$XT_LOG"
t_run env XT_LOG="$T/no/such/dir/log" xt-log metric a=1
t_status 1 "an XT_LOG that cannot be opened"
t_err_has "cannot append to '$T/no/such/dir/log': No such file or directory" "says why"
t_run env XT_LOG= xt-log metric a=1
t_status 2 "an empty XT_LOG is no XT_LOG"

t_done
