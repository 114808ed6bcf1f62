#!/bin/sh
# The run index compacted on az:// through a fault proxy: between xt and
# Azurite, one request in 8 is answered 503 before it reaches Azurite, and
# of the rest one in 8 is done but its answer lost (as in t1210). Writers
# append while the index is compacted again and again (Copy Blob of a new
# append blob, If-Match): no line is lost or there twice, the last
# compaction leaves one line a run, no temporary blob is left; the same
# while the index rolls over into segments. Azurite as in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"

# the proxy (tests/azproxy.py): 1 in 8 answered 503, 1 in 8 answers lost
t_ok "the fault proxy starts" az_proxy pport busy=8 drop=8 seed=1233
pep=$pep_pport
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
export XT_STORE=az://$acct/t1233-$$
idx=ws/ws1/index/runs.jsonl

# an index of 10 runs and 1,210 lines
awk 'BEGIN {
	for (i = 0; i < 120; i++) for (r = 1; r <= 10; r++)
		printf "{\"ws\":\"ws1\",\"run\":\"old%d\",\"status\":\"running\",\"step\":%d}\n", r, i
	for (r = 1; r <= 10; r++)
		printf "{\"ws\":\"ws1\",\"run\":\"old%d\",\"status\":\"completed\",\"step\":%d}\n", r, 120 + r
}' >grown
tail -n 10 grown >latest
t_run xt-put -a ":$idx" <grown
t_status 0 "an index of 1,210 lines for 10 runs, appended through the faults"
t_run xt-report --compact -c run
t_status 0 "xt-report --compact through the faults"
t_err_empty "... without a word"
t_run xt-get -c ":$idx"
t_status 0 "read the index"
t_out_is latest "it was compacted, once: the latest line of each run"

# 3 writers append 150 lines each, of runs of their own, and a fourth 150
# states of one run, while the index is compacted again and again
index_race 4 150 "$idx"
# then 12 rounds of 20 more states of that run, each followed by a compaction
k=1
: >rounds.err
while [ $k -le 12 ]; do
	awk -v k=$k 'BEGIN { for (i = 0; i < 20; i++)
		printf "{\"ws\":\"ws1\",\"run\":\"dup\",\"seq\":%d}\n", 1000 * k + i }' >more
	xt-put -a ":$idx" <more >/dev/null 2>>rounds.err || echo "round $k: xt-put -a failed" >>rounds.err
	xt-report --compact -c run >/dev/null 2>>rounds.err || echo "round $k: xt-report failed" >>rounds.err
	k=$((k + 1))
done
t_ok "12 rounds of appends and compactions, without a word" [ ! -s rounds.err ]
head -n 5 rounds.err | sed 's/^/#   /'
t_run xt-get -c ":$idx"
t_status 0 "read the index"
{ cat latest w0 w1 w2; tail -n 1 more; } | sort >want
sort "$T/out" >got
t_ok "every line is there once, and of the run of many states only its last" cmp -s want got
diff want got | head -n 5 | sed 's/^/#   /'

# the index rolls over into segments (10 appends a segment) while 3 writers
# save 20 states of 10 runs each, with their "rev", and it is compacted
# again and again: every run ends at its last state, and the index compacts
export XT_AZURE_APPEND_BLOCKS=10
rev_race 3 20 "$idx" r
unset XT_AZURE_APPEND_BLOCKS
rev_done "$idx" r 491
read -r nreq nbusy nlost _ <"$T/pport.port.count"
echo "# INFO the proxy: $nreq requests, $nbusy answered 503, $nlost answers lost"
t_ok "the proxy made faults" [ "$nbusy" -gt 5 ] && [ "$nlost" -gt 5 ]
t_done
