#!/bin/sh
# --retries runs a failed run again; --max-minutes stops a run that is too
# long; a run that never started has a null exit_code.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/flaky.sh <<EOS
n=\$(cat "$T/count" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$T/count"
[ \$n -ge 1 ] || { echo "attempt \$((n + 1)) fails"; exit 5; }
echo "attempt \$((n + 1)) works"
EOS
xt-submit -C code --retries 2 -- sh flaky.sh >/dev/null
t_run xt-runq
t_ok "a run that fails once completes on its retry" [ "$(rec run1 status)" = completed ]
t_ok "on attempt 2" [ "$(rec run1 attempt)" = 2 ]
events run1 >ev
t_ok "a retry event is logged" grep -qx retry ev
t_ok "ended once" [ "$(grep -cx ended ev)" -eq 1 ]
t_run xt-get -c run1/output.txt
printf 'attempt 1 fails\nxt-runq: attempt 2 of run1, on NODE at TIME\nattempt 2 works\n' >want
sed 's/, on .* at .*/, on NODE at TIME/' "$T/out" >got
t_ok "the console holds both attempts, the second one marked" cmp -s want got

xt-submit -C code --retries 1 -- sh -c 'exit 4' >/dev/null
t_run xt-runq
t_ok "a run that always fails is failed" [ "$(rec run2 status)" = failed ]
t_ok "after 1 + 1 attempts" [ "$(rec run2 attempt)" = 2 ]
t_ok "with its exit code" [ "$(rec run2 exit_code)" = 4 ]

xt-submit -C code --max-minutes 0.01 -- sh -c 'echo begin; exec sleep 100' >/dev/null
t_run xt-runq -g 0.2
t_ok "a run over its time limit fails" [ "$(rec run3 status)" = failed ]
t_ok "the record says why" [ "$(rec run3 error)" = "time limit" ]
t_run xt-get -c run3/output.txt
t_ok "and so does its console" grep -q "time limit of 0.01 minutes reached" "$T/out"
xt-submit -C code --max-minutes 0.01 --retries 1 -- sh -c 'exec sleep 100' >/dev/null
t_run xt-runq -g 0.2
t_ok "a timed-out run is retried by its policy" [ "$(rec run4 attempt)" = 2 ]

# a run whose code cannot be restored never starts: there is no exit
# status, and its record and its events say null, as a recovery does
mkdir code5
echo 'echo never' >code5/run5.sh
xt-submit -C code5 --retries 1 -- sh run5.sh >/dev/null
sha=$(sha256sum code5/run5.sh | cut -c1-64)
rm "$XT_STORE/blobs/sha256/$(echo "$sha" | cut -c1-2)/$(echo "$sha" | cut -c3-)"
t_run xt-runq
t_ok "a run that cannot be prepared fails" [ "$(rec run5 status)" = failed ]
t_ok "after 1 + 1 attempts" [ "$(rec run5 attempt)" = 2 ]
# codes RUN: the exit_code of the record, then of each retry and ended event
codes() {
	xt-get -c "$1/run.json" >rec.json && xt-get -c "$1/log.jsonl" >log.jsonl &&
	    python3 - <<'EOP'
import json
out = [json.dumps(json.load(open("rec.json")).get("exit_code", "absent"))]
for l in open("log.jsonl"):
    e = json.loads(l)
    if e["event"] in ("retry", "ended"):
        out.append(e["event"] + " " + json.dumps(e["data"].get("exit_code", "absent")))
print(" ".join(out))
EOP
}
t_ok "its exit_code is null in the record, the retry and the end" \
    [ "$(codes run5)" = "null retry null ended null" ]
t_done
