#!/bin/sh
# Trees and big files over several connections at once (-P) on az://,
# through the tests' proxy (tests/azproxy.py) between xt and Azurite that counts the
# requests in flight at once, and fails on demand the requests that match
# a pattern (rules file: REGEX PASS: after PASS matching requests, each
# further one is answered 503). A tree of 500 small files goes up and down
# with -P 8 and -P 1 to the same content; a 40 MB file goes up in blocks
# and down in ranges at once; a failure in one worker fails the command,
# names the file, and leaves the old object or none.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"

# the tests' proxy (tests/azproxy.py): rules=1 fails on demand the requests
# that match a pattern ($T/pport.port.rules), max=1 counts the most requests
# at once ($T/pport.port.max)
use_proxy() {
	az_proxy pport rules=1 max=1 || return 1
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep_pport"
}
t_ok "the proxy starts" use_proxy
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN XT_AZURE_BLOCK
S=az://$acct/t1250-$$
# reset_max: forget the most requests at once seen so far
reset_max() { stop_pport; rm -f "$T/pport.port" "$T/pport.port.max"; use_proxy || t_fail "the proxy starts again"; }
# most requests at once: all, Put Block, ranged Get Blob
at_once() { read -r mall mblock mrange <"$T/pport.port.max"; }

# 500 small files in 10 folders, up with -P 8 and with -P 1
i=0
while [ $i -lt 500 ]; do
	mkdir -p "tree/d$((i % 10))"
	echo "file $i of the tree" >"tree/d$((i % 10))/f$i.txt"
	i=$((i + 1))
done
t_run xt-put -q -P 8 -s "$S-p8" tree :tree
t_status 0 "xt-put -P 8 of a tree of 500 small files"
t_err_empty "... says nothing on stderr"
cp "$T/out" put8
at_once
t_ok "... with several requests at once (at most $mall)" [ "$mall" -ge 2 ]
reset_max
t_run xt-put -q -P 1 -s "$S-p1" tree :tree
t_status 0 "xt-put -P 1 of it"
t_out_is put8 "... the same lines as -P 8, in the tree's order"
at_once
t_ok "... one request at a time" [ "$mall" -eq 1 ]
t_ok "... 500 lines" [ "$(grep -c '"action":"uploaded"' put8)" -eq 500 ]
python3 -c 'import json,sys
for l in open(sys.argv[1]): r=json.loads(l); print(r["path"], r["size"])' put8 >want
t_run xt-get -l -r -s "$S-p1" :tree/
python3 -c 'import json,sys
for l in open(sys.argv[1]): r=json.loads(l); print(r["path"], r["size"])' "$T/out" >got
t_ok "the -P 1 store lists the same objects" cmp -s want got
t_run xt-get -l -r -s "$S-p8" :tree/
python3 -c 'import json,sys
for l in open(sys.argv[1]): r=json.loads(l); print(r["path"], r["size"])' "$T/out" >got
t_ok "... and so does the -P 8 store" cmp -s want got

reset_max
t_run xt-get -q -P 8 -s "$S-p1" :tree back8
t_status 0 "xt-get -P 8 of the tree"
t_err_empty "... says nothing on stderr"
cp "$T/out" get8
at_once
t_ok "... with several requests at once (at most $mall)" [ "$mall" -ge 2 ]
t_ok "... gives it back whole" diff -r tree back8
t_run xt-get -q -P 1 -s "$S-p8" :tree back1
t_status 0 "xt-get -P 1 of the other store's tree"
t_ok "... gives it back whole" diff -r tree back1
sed 's/"file":"back8/"file":"back1/' get8 >want
t_out_is want "... the same lines as -P 8, in the store's order"

# a 40 MB file in 1 MiB blocks: up in blocks and down in ranges at once
export XT_AZURE_BLOCK=1048576
head -c 40000000 /dev/urandom >big.bin
head -c 3000000 /dev/urandom >old.bin
reset_max
t_run xt-put -q -P 8 -s "$S-p8" big.bin :big.bin
t_status 0 "xt-put -P 8 of a 40 MB file in 1 MiB blocks"
sha=$(sha256sum big.bin | cut -d' ' -f1)
printf '{"path":"big.bin","size":40000000,"sha256":"%s","action":"uploaded"}\n' "$sha" >want
t_out_is want "... one line, with its hash"
at_once
t_ok "... several blocks at once (at most $mblock)" [ "$mblock" -ge 2 ]
reset_max
t_run xt-get -q -P 8 -s "$S-p8" :big.bin big.back
t_status 0 "xt-get -P 8 of it"
at_once
t_ok "... several ranges at once (at most $mrange)" [ "$mrange" -ge 2 ]
t_ok "... whole" cmp -s big.bin big.back
printf '{"path":"big.bin","file":"big.back","size":40000000,"sha256":"%s","action":"downloaded"}\n' "$sha" >want
t_out_is want "... one line, with its hash"
t_run xt-get -q -P 1 -s "$S-p8" :big.bin big.back1
t_status 0 "xt-get -P 1 of it"
t_ok "... whole" cmp -s big.bin big.back1

# an appended object that rolled over (2 appends a segment): its first
# segment in ranges at once, then the others
for k in 1 2 3; do
	head -c 1125000 /dev/urandom | base64 -w 99 >"app$k.bin"
	XT_AZURE_APPEND_BLOCKS=2 xt-put -q -a -s "$S-p8" :app.bin <"app$k.bin" >/dev/null ||
		t_fail "cannot append app$k.bin"
done
cat app1.bin app2.bin app3.bin >app.want
t_run xt-get -q -P 8 -s "$S-p8" :app.bin app.back
t_status 0 "xt-get -P 8 of an appended object of two segments"
t_ok "... whole: all three appends" cmp -s app.want app.back
sha=$(sha256sum app.want | cut -d' ' -f1)
printf '{"path":"app.bin","file":"app.back","size":%s,"sha256":"%s","action":"downloaded"}\n' "$(wc -c <app.want)" "$sha" >want
t_out_is want "... one line, with the hash of the whole"

# a failing worker: one file of the tree, then one block of a big file, then a range
export XT_AZURE_RETRIES=0
echo "a file that fails" >tree/d3/bad.txt
echo "PUT /$acct/t1250-$$-p8/tree/d3/bad.txt 0" >"$T/pport.port.rules"
t_run xt-put -q -P 8 -s "$S-p8" tree :tree
t_status 1 "xt-put -P 8 where the put of one file fails"
t_err_has "xt-put: cannot put 'tree/d3/bad.txt': HTTP 503" "... names the file"
t_ok "... reports the 500 others" [ "$(grep -c '"action":"uploaded"' "$T/out")" -eq 500 ]
t_run xt-get -c -s "$S-p8" :tree/d3/bad.txt
t_status 1 "... and leaves no object"
t_err_has "cannot get 'tree/d3/bad.txt': no such object" "... (none to get)"

t_run xt-put -q -P 8 -s "$S-p8" old.bin :big.bin
t_status 0 "put a small object at big.bin"
t_run xt-put -q -P 8 -s "$S-p8" big.bin :fresh.bin
t_status 0 "put the big file at fresh.bin too"
echo "comp=block 5" >"$T/pport.port.rules"
t_run xt-put -q -P 8 -s "$S-p8" big.bin :big.bin
t_status 1 "xt-put -P 8 of a big file where the 6th block fails"
t_err_has "xt-put: cannot put 'big.bin': HTTP 503" "... names the file"
t_ok "... says it once" [ "$(grep -c . "$T/err")" -eq 1 ]
: >"$T/pport.port.rules"
t_run xt-get -q -s "$S-p8" :big.bin big.old
t_status 0 "... the old object is still there"
t_ok "... whole" cmp -s old.bin big.old
echo "comp=block 5" >"$T/pport.port.rules"
t_run xt-put -q -P 8 -s "$S-p8" big.bin :big2.bin
t_status 1 "xt-put -P 8 of a new big file where the 6th block fails"
: >"$T/pport.port.rules"
t_run xt-get -c -s "$S-p8" :big2.bin
t_status 1 "... leaves no object"
t_err_has "cannot get 'big2.bin': no such object" "... (none to get)"

echo "GET /$acct/t1250-$$-p8/fresh.bin range=bytes=2[0-9]{7}- 0" >"$T/pport.port.rules"
t_run xt-get -q -P 8 -s "$S-p8" :fresh.bin fresh.back
t_status 1 "xt-get -P 8 of a big file where a range fails"
t_err_has "xt-get: cannot get 'fresh.bin': HTTP 503" "... names the object"
t_ok "... leaves no file" [ ! -e fresh.back ]
: >"$T/pport.port.rules"

# the option
t_run xt-put -P 0 tree :x
t_status 2 "xt-put -P 0 is a usage error"
t_err_has "xt-put: -P '0': expected a number of connections from 1 to 64" "... saying what is expected"
t_run xt-get -P x :x
t_status 2 "xt-get -P x too"
t_err_has "xt-get: -P 'x': expected a number of connections from 1 to 64" "... saying what is expected"
t_done
