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

# Two compactions stopped in a wait of 3 to 6 s before a request is sent
# again, while an appender goes on, through a proxy of rules:
t_ok "a proxy of rules starts" az_proxy rp rules=1 unmatch=1 key="$key" log=1
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep_rp"
# appends TAG N: N appends of runs TAG1 .. TAGN, each its own
appends() {
	: >"$1.err"
	k=1
	while [ $k -le "$2" ]; do
		echo "{\"ws\":\"ws1\",\"run\":\"$1$k\",\"rev\":1}" | xt-put -a ":$idx" >/dev/null ||
		    echo "$1$k" >>"$1.err"
		k=$((k + 1))
	done
	[ ! -s "$1.err" ]
}
# stall N RULE WHAT [lost]: a compaction in the background ($cpid, its
# stderr in compact.err) whose request matching RULE is answered 503 (the
# Nth of the proxy), or with lost done and its answer lost (the Nth so);
# once it was, the rule is taken away
stall() {
	f=2
	[ "${4:-}" = lost ] && f=3
	echo "$2 0 ${4:-}" >"$T/rp.port.rules"
	XT_AZURE_RETRY_WAIT=6000 xt-report --compact -c run >/dev/null 2>compact.err &
	cpid=$!
	n=0
	while [ "$(cut -d' ' -f$f "$T/rp.port.count" 2>/dev/null)" != "$1" ] && [ $n -lt 600 ] &&
	    kill -0 $cpid 2>/dev/null; do
		sleep 0.05
		n=$((n + 1))
	done
	: >"$T/rp.port.rules"
	t_ok "the compaction's $3 was ${4:-answered 503}" \
	    [ "$(cut -d' ' -f$f "$T/rp.port.count")" = "$1" ]
}
# seal_and_go RUN: meanwhile an appender of the run RUN, to which 3
# appends fill a segment, seals the index of 3 and goes on in a second
seal_and_go() {
	echo "{\"ws\":\"ws1\",\"run\":\"$1\",\"rev\":1}" >"$1"
	export XT_AZURE_APPEND_BLOCKS=3
	t_run xt-put -a ":$idx" <"$1"
	unset XT_AZURE_APPEND_BLOCKS
	t_status 0 "meanwhile an appender seals the index, 3 appends being full to it, and goes on"
}
# compacted TAG RUNS: the compaction ended well and lost no line: the
# index has the runs RUNS (TAG1TAG2...), one line each
compacted() {
	settle $cpid
	t_ok "the compaction succeeds, without a word" \
	    sh -c '[ "$1" -eq 0 ] && [ ! -s "$2" ]' sh "$rc" compact.err
	sed 's/^/#   /' compact.err
	t_run xt-get -c ":$idx"
	t_ok "no line is lost" [ "$(grep -o "\"$1[0-9]\"" "$T/out" | sort | tr -d '\n"')" = "$2" ]
	t_ok "... and the index was compacted: one line a run" \
	    [ "$(grep -c . "$T/out")" -eq $((${#2} / 2)) ]
}

# A compaction seals the last segment it read before it replaces the
# index: a seal answered 503, and in the wait before it is sent again an
# append fills that segment, whose appender seals it. The seal sent again
# meets a sealed segment that is no longer as read (412): a conflict, read
# again, never "sealed, so as read" (which lost the line appended)
export XT_STORE=az://$acct/t1233s-$$
export XT_AZURE_APPEND_BLOCKS=3
t_ok "5 appends: the index is its first segment (3 appends, sealed) and 2 appends of a second" \
    appends s 5
stall 1 'PUT [^ ]*-1[?]comp=seal' "seal of the second segment"
echo '{"ws":"ws1","run":"s6","rev":1}' >s6
t_run xt-put -a ":$idx" <s6
t_status 0 "meanwhile an append fills the second segment (its appender seals it)"
unset XT_AZURE_APPEND_BLOCKS
compacted s s1s2s3s4s5s6

# Azure keeps a blob's ETag when it is sealed (Azurite gives it a new
# one, which the proxy takes back: it sends the copy without its
# If-Match). A compaction reads an index of one segment, not full of
# appends by the count of the next appender, which seals it, unchanged,
# and goes on in a second segment before the compaction's copy: the
# copy succeeds, and the line of the second segment is moved over
export XT_STORE=az://$acct/t1233u-$$
t_ok "3 appends: an index of one segment" appends u 3
stall 2 'PUT [^ ?]*/runs[.]jsonl range=' "copy over the index"
echo 'PUT [^ ?]*/runs[.]jsonl$' >"$T/rp.port.unmatch"
seal_and_go u4
compacted u u1u2u3u4
: >"$T/rp.port.unmatch"

# A compaction of an index already compacted (its fold is its content)
# whose copy is answered 503, and in the wait an appender seals the index
# (full to it) and goes on in a second segment: the copy sent again meets
# 412, and the index, though it begins with the very lines of the copy, is
# not the copy (it is not of the copy's chain): a conflict, read again.
# (Taken for the copy, the index's own second segment was "moved" into it,
# which made a third, moved in turn, and so on without end.)
export XT_STORE=az://$acct/t1233c-$$
t_ok "3 appends of 3 runs: an index of one segment, compacted as it is" appends c 3
stall 3 'PUT [^ ?]*/runs[.]jsonl range=' "copy over the index"
seal_and_go c4
compacted c c1c2c3c4

# A seal whose answer was lost, sent again, meets 412 (Azurite gave the
# sealed segment a new ETag); sealed at the size read, the segment is as
# read: the compaction goes on, at its first try (one copy made)
export XT_STORE=az://$acct/t1233l-$$
export XT_AZURE_APPEND_BLOCKS=3
t_ok "5 appends: the index is its first segment (3 appends, sealed) and 2 appends of a second" \
    appends l 5
unset XT_AZURE_APPEND_BLOCKS
: >"$T/rp.port.log"
stall 1 'PUT [^ ]*-1[?]comp=seal' "seal of the second segment" lost
compacted l l1l2l3l4l5
t_ok "... at its first try: the seal sent again found the segment sealed at the size read" \
    [ "$(grep -c '^PUT [^ ]*/[.]tmp/log-[0-9a-f]* 201$' "$T/rp.port.log")" -eq 1 ]

# a --compact that cannot replace the index (every copy over it answered
# 503): the report is still written, from the index as it was, and the
# tool fails, saying why; the index is whole
export XT_STORE=az://$acct/t1233u-$$
echo 'PUT [^ ?]*/runs[.]jsonl range= 0' >"$T/rp.port.rules"
t_run env XT_AZURE_RETRY_TIME=1 XT_AZURE_RETRY_WAIT=50 xt-report --compact -c run --sort run --tsv
: >"$T/rp.port.rules"
t_status 1 "xt-report --compact that cannot replace the index fails"
t_err_has "cannot rewrite 'ws/ws1/index/runs.jsonl'" "... saying so"
t_ok "... after the report" [ "$(tr '\n' ' ' <"$T/out")" = "run u1 u2 u3 u4 " ]
t_run xt-get -c ":$idx"
t_ok "the index is whole" \
    [ "$(grep -o '"u[0-9]"' "$T/out" | sort | tr -d '\n"')" = u1u2u3u4 ]
t_done
