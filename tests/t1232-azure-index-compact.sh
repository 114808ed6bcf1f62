#!/bin/sh
# The run index compacted on az://: a grown index is compacted by the next
# xt-report (and by --compact), stays an append blob that runs append to
# afterwards, and no line that writers append during compactions is lost.
# Azurite as in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
export XT_STORE=az://$acct/t1232-$$
idx=ws/ws1/index/runs.jsonl

# an index of 10 runs and 1,210 lines: 120 old states of each, then its latest
awk 'BEGIN {
	for (i = 0; i < 120; i++) for (r = 101; r <= 110; r++)
		printf "{\"ws\":\"ws1\",\"run\":\"run%d\",\"status\":\"running\",\"step\":%d}\n", r, i
	for (r = 101; r <= 110; r++)
		printf "{\"ws\":\"ws1\",\"run\":\"run%d\",\"status\":\"completed\",\"step\":%d}\n", r, r - 80
}' >grown
tail -n 10 grown >latest
t_run xt-put -a ":$idx" <grown
t_status 0 "an index of 1,210 lines for 10 runs, appended"
t_run xt-report -c run,status,step --sort run
t_status 0 "xt-report of the grown index"
cat >want <<'EOF'
run     status     step
run101  completed    21
run102  completed    22
run103  completed    23
run104  completed    24
run105  completed    25
run106  completed    26
run107  completed    27
run108  completed    28
run109  completed    29
run110  completed    30
EOF
t_out_is want "... the latest state of each run"
t_err_empty "... and no warning"
t_run xt-get -c ":$idx"
t_status 0 "read the index"
t_out_is latest "it was compacted: the latest line of each run, in the index's order"

# still an append blob: a run's lines go on after the compacted ones
mkdir code
echo 'echo hi' >code/hi.sh
t_run xt-submit -C code -- sh hi.sh
t_status 0 "submit a run after the compaction"
t_run xt-runq
t_status 0 "... which runs"
t_run xt-get -c ":$idx"
t_ok "the index took its lines (queued, completed: a run this short has no running line)" \
    [ "$(grep '"run":"run1"' "$T/out" | sed 's/.*"status":"\([a-z]*\)".*/\1/' | tr '\n' ' ')" = "queued completed " ]
t_ok "... after the compacted ones" cmp -s latest "$(head -n 10 "$T/out" >head10; echo head10)"
t_run xt-report --compact -c run,status --status completed
t_status 0 "xt-report --compact"
t_ok "... 11 runs" [ "$(grep -c completed "$T/out")" -eq 11 ]
t_run xt-get -c ":$idx"
t_ok "... the index compacted again, one line a run" [ "$(wc -l <"$T/out")" -eq 11 ]

# 4 writers append 250 lines each, of runs of their own, and a fifth 250
# states of one run, while the index is compacted again and again: every
# line is there at the end, and of the fifth's only its last
cp "$T/out" before
index_race 5 250 "$idx"
t_run xt-get -c ":$idx"
t_status 0 "read the index"
{ cat before w0 w1 w2 w3; tail -n 1 w4; } | sort >want
sort "$T/out" >got
t_ok "every line is there once, and the last of the fifth writer's run only" cmp -s want got
diff want got | head -n 5 | sed 's/^/#   /'
t_ok "each writer's lines in its order" python3 - "$T/out" <<'PY'
import json, sys
last = {}
for l in open(sys.argv[1]):
    r = json.loads(l)["run"]
    if r.startswith("w"):
        w, i = map(int, r[1:].split("x"))
        if last.get(w, -1) >= i:
            sys.exit(1)
        last[w] = i
sys.exit(0)
PY

# the same while the index rolls over into segments (10 appends a segment),
# 4 writers saving 40 states of 10 runs each with their "rev", as run_update
# does: a compaction seals the last segment it read, replaces the first, and
# moves over the lines of a segment an appender made in between, after
# newer lines maybe; the fold goes by rev, so every run ends at its last state
export XT_AZURE_APPEND_BLOCKS=10
rev_race 4 40 "$idx" r
unset XT_AZURE_APPEND_BLOCKS
rev_done "$idx" r 1052

# with an account SAS instead of the key, Copy Blob's source carries it
mksas() {
	python3 - "$key" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
key, sp, se, sv = sys.argv[1], "rwdlac", "2099-01-01T00:00:00Z", "2023-11-03"
sts = "\n".join(["devstoreaccount1", sp, "b", "sco", "", se, "", "", sv, ""]) + "\n"
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
q = [("sv", sv), ("ss", "b"), ("srt", "sco"), ("sp", sp), ("se", se), ("sig", sig)]
print("&".join(k + "=" + urllib.parse.quote(v, safe="") for k, v in q))
PY
}
sas=$(mksas)
export AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$sas"
t_run xt-put -a ":$idx" <grown
t_status 0 "with a SAS: the index grown again"
t_run xt-report --compact -c run --status completed
t_status 0 "with a SAS: xt-report --compact"
t_err_empty "... without a word"
t_run xt-get -c ":$idx"
t_ok "... the index compacted: no old state left" [ "$(grep -c '"status":"running"' "$T/out")" -eq 0 ]
t_ok "... every run still there" [ "$(grep -c . "$T/out")" -eq 1052 ]
t_run xt-put -a ":$idx" <latest
t_status 0 "... and appended to afterwards"
t_done
