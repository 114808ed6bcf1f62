#!/bin/sh
# xt-put -u on az:// asks the store once for what it has (one List Blobs,
# the content hashes from the blobs' metadata) instead of a request per
# file, and still puts exactly what changed: a changed file, a new one, one
# deleted from the store meanwhile, one of the same size but other bytes.
# Requests counted by the tests' proxy (tests/azproxy.py). Azurite as in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"

t_ok "the counting proxy starts" az_proxy pport log=1 rules=1
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep_pport"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
export XT_STORE=az://$acct/t1252-$$
reqs=$T/pport.port.log
count() { grep -c -e "$1" "$reqs"; }

i=0
while [ $i -lt 200 ]; do
	mkdir -p "tree/d$((i % 4))"
	echo "file $i" >"tree/d$((i % 4))/f$i.txt"
	i=$((i + 1))
done
t_run xt-put -q tree :data/tree
t_status 0 "put a tree of 200 files"
t_ok "... 200 uploaded" [ "$(grep -c '"action":"uploaded"' "$T/out")" -eq 200 ]
# a neighbour folder the listing must not mistake for the tree's
t_run xt-put -q tree :data/tree2
t_status 0 "put it again beside it"

: >"$reqs"
t_run xt-put -q -u tree :data/tree
t_status 0 "xt-put -u of the unchanged tree"
t_err_empty "... says nothing on stderr"
t_ok "... skips all 200" [ "$(grep -c '"action":"skipped"' "$T/out")" -eq 200 ]
t_ok "... with one listing of its folder, no other request ($(count .) requests)" \
    test "$(count 'comp=list')" -eq 1 -a "$(count .)" -eq 1
t_ok "... which asks for the metadata" [ "$(count 'include=metadata')" -eq 1 ]

echo "changed" >tree/d1/f1.txt
echo "file 8" | tr 8 9 >tree/d0/f8.txt	# the same size, other bytes
echo "new" >tree/d2/new.txt
t_run xt-put -q -d :data/tree/d3/f3.txt
t_status 0 "delete one object from the store"
: >"$reqs"
t_run xt-put -q -u tree :data/tree
t_status 0 "xt-put -u after three changes in the tree and one in the store"
grep -v '"action":"skipped"' "$T/out" | sed 's/"sha256":"[0-9a-f]*",//' >got
cat >want <<'W'
{"path":"data/tree/d0/f8.txt","size":7,"action":"uploaded"}
{"path":"data/tree/d1/f1.txt","size":8,"action":"uploaded"}
{"path":"data/tree/d2/new.txt","size":4,"action":"uploaded"}
{"path":"data/tree/d3/f3.txt","size":7,"action":"uploaded"}
W
t_ok "... puts those four, no other" cmp -s want got
diff want got | sed 's/^/#   /'
t_ok "... and skips the 197 others" [ "$(grep -c '"action":"skipped"' "$T/out")" -eq 197 ]
t_ok "... one listing and four puts" \
    test "$(count 'comp=list')" -eq 1 -a "$(count '^PUT ')" -eq 4 -a "$(count .)" -eq 5
t_run xt-get -q data/tree back
t_status 0 "get the tree back"
t_ok "... it is the tree" diff -r tree back

# the store's marker, read by the first open, is not asked again for a while
: >"$reqs"
t_run xt-get -l :data/tree/d0
t_status 0 "xt-get -l of a folder"
t_ok "... one request, the listing: the marker is remembered" \
    test "$(count 'comp=list')" -eq 1 -a "$(count .)" -eq 1
: >"$reqs"
XT_HOME=$T/home2 t_run xt-get -l :data/tree/d0
t_ok "... from another XT_HOME: the marker is read first" \
    test "$(count '^GET .*/xt-store.json')" -eq 1 -a "$(count .)" -eq 2
: >"$reqs"
t_run xt-get -l :data/tree/d0/f0.txt
t_ok "xt-get -l of a file: the listing of it as a folder, then its stat" \
    test "$(count 'comp=list')" -eq 1 -a "$(count '^HEAD ')" -eq 1 -a "$(count .)" -eq 2
t_ok "... lists it" grep -q '"path":"data/tree/d0/f0.txt"' "$T/out"
# a container deleted meanwhile: the first write says so, the next makes it again
mkdir -p drop && echo x >drop/x
t_run xt-put -q -s "az://$acct/t1252-drop-$$" drop :x
t_status 0 "a store of its own"
t_ok "its container goes" az_rest DELETE "t1252-drop-$$?restype=container"
t_run xt-put -q -s "az://$acct/t1252-drop-$$" drop :x
t_status 1 "a put into it while the marker is remembered fails"
t_err_has "container 't1252-drop-$$' of account '$acct' does not exist" "saying the container is gone"
t_run xt-put -q -s "az://$acct/t1252-drop-$$" drop :x
t_status 0 "the next put makes the store again"
t_ok "... marker and all" az_rest GET "t1252-drop-$$/xt-store.json" '"format":1'
az_rest DELETE "t1252-drop-$$?restype=container" >/dev/null

# a small tree (under 8 files): a stat each, no listing
mkdir small
echo one >small/a.txt
t_run xt-put -q small :data/small
: >"$reqs"
t_run xt-put -q -u small :data/small
t_status 0 "xt-put -u of one unchanged file"
t_ok "... asks for it alone, no listing" test "$(count 'comp=list')" -eq 0 -a "$(count '^HEAD ')" -eq 1

# a listing that fails (503, no retries): the stats tell it all again
echo "comp=list 0" >"$T/pport.port.rules"
: >"$reqs"
XT_AZURE_RETRIES=0 t_run xt-put -q -u tree :data/tree
t_status 0 "xt-put -u when the listing fails"
t_err_empty "... says nothing on stderr"
t_ok "... skips all 201 unchanged files" [ "$(grep -c '"action":"skipped"' "$T/out")" -eq 201 ]
t_ok "... asking for each ($(count '^HEAD ') requests)" [ "$(count '^HEAD ')" -eq 201 ]
: >"$T/pport.port.rules"

# into a store that has none of the tree: the listing is empty
t_run xt-put -q -u -s "az://$acct/t1252-none-$$" tree :data/tree
t_status 0 "xt-put -u into a store without the tree"
t_ok "... uploads all 201" [ "$(grep -c '"action":"uploaded"' "$T/out")" -eq 201 ]
t_done
