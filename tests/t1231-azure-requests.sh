#!/bin/sh
# What the tools above the store cost in requests on az://, counted by a
# proxy of the test's own between xt and Azurite: a run that prints 2,000
# lines to its console and logs 2,000 metrics has both appended in
# batches (at most one append a quarter of a second each, and one before
# each save of the record), not one request a line; xt-report reads the
# index with one request. Azurite as in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"

# the proxy (tests/azproxy.py): each request forwarded, then one line
# "METHOD PATH STATUS" in $T/pport.port.log (the test empties it between steps)
t_ok "the counting proxy starts" az_proxy pport log=1
pep=$pep_pport
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
export XT_STORE=az://$acct/t1231-$$
reqs=$T/pport.port.log
# count PATTERN: requests of the last step whose line has PATTERN
count() { grep -c -e "$1" "$reqs"; }

# a run that prints a line and logs a metric 2,000 times, a little at a time
mkdir code
cat >code/chatty.sh <<'EOS'
i=1
while [ $i -le 2000 ]; do
	echo "line $i of the console"
	echo "{\"event\":\"metrics\",\"step\":$i,\"data\":{\"loss\":$i}}" >>"$XT_LOG"
	[ $((i % 4)) -eq 0 ] && sleep 0.004
	i=$((i + 1))
done
EOS
t_run xt-submit -C code -- sh chatty.sh
t_status 0 "submit a run that prints 2,000 lines and logs 2,000 metrics"
: >"$reqs"
t_run xt-runq -j 1
t_status 0 "xt-runq runs it"
cp "$reqs" run.reqs
logs=$(grep -c 'runs/run1/log.jsonl?comp=appendblock' run.reqs)
outs=$(grep -c 'runs/run1/output.txt?comp=appendblock' run.reqs)
all=$(grep -c -e 'runs/run1/log.jsonl' -e 'runs/run1/output.txt' run.reqs)
d=$(rec run1 duration)
echo "# INFO a run of ${d}s, 2,000 lines of each: $logs appends of its log, $outs of its console, $all requests on both"
# at most one append each FLUSH_EVERY (0.25 s) and one before each save of
# the record (each second), and the first and the last
most=$(awk -v d="$d" 'BEGIN { printf "%d", d * 5 + 4 }')
t_ok "its log: at most $most appends, not one a line ($logs)" [ "$logs" -le "$most" ]
t_ok "its console: at most $most appends ($outs)" [ "$outs" -le "$most" ]
t_ok "both: far fewer requests than lines ($all)" [ "$all" -le 200 ]
awk 'BEGIN { for (i = 1; i <= 2000; i++) print "line " i " of the console" }' >want
t_run xt-log out run1
t_out_is want "the console is whole, in order"
t_run xt-log show -e metrics run1
t_status 0 "xt-log show -e metrics"
t_ok "the log has the 2,000 metrics, in order" python3 -c '
import json, sys
steps = [json.loads(l)["step"] for l in open(sys.argv[1])]
sys.exit(0 if steps == list(range(1, 2001)) else 1)' "$T/out"

# xt-report: the index, with one request (the store's marker, read by the
# submit a moment ago, is remembered)
: >"$reqs"
t_run xt-report -c run,status
t_status 0 "xt-report"
printf 'run   status\nrun1  completed\n' >want
t_out_is want "... reports the run"
cp "$reqs" report.reqs
sed 's/^/#   /' report.reqs
t_ok "xt-report reads the index with one request" [ "$(grep -c 'index/runs' report.reqs)" -eq 1 ]
t_ok "... a GET of it whole" grep -q "^GET /$acct/t1231-$$/ws/ws1/index/runs.jsonl 200$" report.reqs
t_ok "... and makes no other request" [ "$(grep -c . report.reqs)" -eq 1 ]
t_done
