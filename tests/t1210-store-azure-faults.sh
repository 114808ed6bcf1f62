#!/bin/sh
# The Azure store through a fault proxy: between xt and Azurite, one
# request in 8 is answered 503 before it reaches Azurite, and of the rest
# one in 8 is done but its answer lost (the connection closed). Every put,
# create, append and get is done exactly once or fails with a clear error:
# no line appended twice, none lost, nothing partial. Azurite as in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"

# the proxy (tests/azproxy.py): 1 in 8 answered 503, 1 in 8 answers lost
t_ok "the fault proxy starts" az_proxy pport busy=8 drop=8 seed=1210
pep=$pep_pport
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep"
S=az://$acct/t1210-$$
export XT_STORE=$S
# a try fails one time in 4 or so (a 503 or a lost answer): with some
# 20,000 requests, 7 tries in a row would fail now and then
export XT_AZURE_RETRIES=20
# and their waits from 5 ms, not 100: the test is of what is done, not of
# how long it waits, and some 4,000 retries at 100 ms took minutes
export XT_AZURE_RETRY_WAIT=5

# the primitives, the create race and 8 appenders in the unit test
XT_TEST_AZURE_FAULTS=1 XT_TEST_AZURE_QUICK=1 XT_TEST_AZURE_LINES=100 XT_TEST_AZURE_STORE=$S-u \
    t_run "$XT_BIN/../unit/u-store-azure"
t_status 0 "the store's primitives through the faults (unit/u-store-azure)"
grep -E '^(not ok|# [0-9c])' "$T/out" | head -n 10 | sed 's/^/#   /'

# 8 appenders x 300 lines through xt-put -a
awk 'BEGIN { for (p = 0; p < 8; p++) for (i = 0; i < 300; i++) print "writer " p " line " i " ........................................" > ("w" p) }'
p=0
pids=""
while [ $p -lt 8 ]; do
	sh -c 'awk "{ print; fflush() }" "w$1" | xt-put -a :logs/race.txt >/dev/null 2>"err$1"; echo $? >"st$1"' sh $p &
	pids="$pids $!"
	p=$((p + 1))
done
for pid in $pids; do wait "$pid"; done
t_ok "8 appenders all succeed" [ "$(cat st0 st1 st2 st3 st4 st5 st6 st7)" = "$(printf '0\n0\n0\n0\n0\n0\n0\n0')" ]
cat err0 err1 err2 err3 err4 err5 err6 err7 | head -n 5 | sed 's/^/#   /'
t_run xt-get -c :logs/race.txt
t_status 0 "read the appended object"
cat w0 w1 w2 w3 w4 w5 w6 w7 | sort >want
sort "$T/out" >got
t_ok "2,400 whole lines, none lost, none twice" cmp -s want got

# a tree of blocks and small files, up and down
mkdir -p tree/a tree/b
i=0
while [ $i -lt 30 ]; do echo "file $i" >"tree/a/f$i"; i=$((i + 1)); done
head -c 3000000 /dev/urandom >tree/b/big
XT_AZURE_BLOCK=262144 t_run xt-put -q tree :tree
t_status 0 "xt-put of a tree (31 files, one of 12 blocks)"
t_run xt-get -q :tree back
t_status 0 "xt-get of it"
t_ok "... whole" diff -r tree back
t_run xt-put -d -r :tree
t_status 0 "xt-put -d -r of it"
t_run xt-get -l -r :tree/
t_status 0 "... then it lists"
t_ok "... nothing" [ ! -s "$T/out" ]

read -r nreq nbusy nlost _ <"$T/pport.port.count"
echo "# INFO the proxy: $nreq requests, $nbusy answered 503, $nlost answers lost"
t_ok "the proxy made faults" [ "$nbusy" -gt 10 ] && [ "$nlost" -gt 10 ]


# Azure's limit of 50,000 blocks an Append Blob: the proxy answers
# BlockCountExceedsLimit to every 7th append under full/ (with its 503s
# and lost answers), and each time the object goes on in a next segment
t_ok "proxy full starts" az_proxy full busy=8 drop=8 full=7 seed=1210
AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep_full"
export AZURE_STORAGE_CONNECTION_STRING
: >want
i=0
while [ $i -lt 60 ]; do
	echo "line $i of the full log" >>want
	echo "line $i of the full log" | xt-put -a :full/log >/dev/null 2>>full.err || echo "append $i: $?" >>full.err
	i=$((i + 1))
done
t_ok "60 appends, each meeting the faults or the limit, all succeed" [ ! -s full.err ]
head -n 5 full.err | sed 's/^/#   /'
t_run xt-get -c :full/log
t_status 0 "the object of many segments reads"
t_out_is want "... as its 60 lines in order, none lost, none twice"
read -r _ _ _ nfull _ <"$T/full.port.count"
echo "# INFO $nfull appends met the block limit"
t_ok "... across rollovers" [ "$nfull" -ge 5 ]
t_run xt-get -l -s "$S/.tmp" -r :seg/full/log/
t_status 0 "the store's own folder lists"
echo "# INFO $(wc -l <"$T/out") segments after the first"
t_ok "... more than one segment" [ "$(wc -l <"$T/out")" -ge 2 ]
t_run xt-put -d :full/log
t_status 0 "the object is deleted"
t_run xt-get -l -s "$S/.tmp" -r :seg/full/
t_status 0 "the store's own folder lists again"
t_ok "... no segment left" [ ! -s "$T/out" ]

# the retry budget: a store that answers only 503
t_ok "proxy busy starts" az_proxy busy busy=1 seed=1210
AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep_busy"
XT_AZURE_RETRIES=100 XT_AZURE_RETRY_TIME=2 t_run xt-get -l
t_status 1 "a store that is always busy: the tool gives up"
t_err_has "xt-get: store '$S': cannot get 'xt-store.json': HTTP 503 (" "... naming the last answer"
t_err_has "s; the retry budget of 2 s, XT_AZURE_RETRY_TIME, ran out)" "... and the budget that ran out"
t_ok "... after more than one try" grep -qE "\(([2-9]|[1-9][0-9]+) tries in [0-9.]+ s;" "$T/err"
XT_AZURE_RETRIES=2 XT_AZURE_RETRY_TIME=100 t_run xt-get -l
t_status 1 "... or after XT_AZURE_RETRIES more tries"
t_err_has "cannot get 'xt-store.json': HTTP 503 (3 tries in " "... saying how many"
XT_AZURE_RETRY_TIME=0 t_run xt-get -l
t_status 1 "a budget of 0: no second try"
t_err_has "cannot get 'xt-store.json': HTTP 503 (1 try in 0.0 s; the retry budget of 0 s, XT_AZURE_RETRY_TIME, ran out)" \
    "... says so"
XT_AZURE_RETRY_TIME=soon t_run xt-get -l
t_status 1 "a budget that is not a number"
t_err_has "XT_AZURE_RETRY_TIME 'soon': expected seconds from 0 to 86400" "... is refused"
XT_AZURE_RETRY_WAIT=0 t_run xt-get -l
t_status 1 "a first wait of 0"
t_err_has "XT_AZURE_RETRY_WAIT '0': expected milliseconds from 1 to 10000" "... is refused"
t_done
