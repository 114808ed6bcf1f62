#!/bin/sh
# The Azure store (az://) on Azurite, strict (no --loose, no
# --skipApiVersionCheck): the store's primitives (unit/u-store-azure),
# xt-put/xt-get round trips, 8 appenders, and the messages of a wrong key,
# a bad, expired or too narrow SAS and an unreachable endpoint, none with a
# secret in it. Uses the Azurite at $XT_TEST_AZURE_ENDPOINT when the suite
# started one (scripts/azurite-up.sh start DIR prints it), else starts its
# own and stops it by its PID.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"
cs="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
export AZURE_STORAGE_CONNECTION_STRING="$cs"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
n=$$
S=az://$acct/t1200-$n
export XT_STORE=$S

# an account SAS of the emulator's key: PERMISSIONS EXPIRY [SIG-OVERRIDE]
sas() {
	python3 - "$key" "$1" "$2" "${3:-}" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
key, sp, se, bad = sys.argv[1:5]
sv = "2023-11-03"
sts = "\n".join(["devstoreaccount1", sp, "b", "sco", "", se, "", "", sv, ""]) + "\n"
sig = bad or base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
q = [("sv", sv), ("ss", "b"), ("srt", "sco"), ("sp", sp), ("se", se), ("sig", sig)]
print("&".join(k + "=" + urllib.parse.quote(v, safe="") for k, v in q))
PY
}
# no_secret WHAT: neither the key nor a SAS signature in the last output
no_secret() {
	if grep -qF -e "$key" -e "sig=" -e "$sig" "$T/out" "$T/err"; then
		t_fail "$1: no secret in the output"
	else
		t_pass "$1: no secret in the output"
	fi
}

# the primitives
XT_TEST_AZURE_STORE=$S-u t_run "$XT_BIN/../unit/u-store-azure"
t_status 0 "the store's primitives on Azurite (unit/u-store-azure)"
grep -E '^(not ok|#)' "$T/out" | head -n 20 | sed 's/^/#   /'
t_ok "... all its cases pass" [ "$(grep -c '^ok ' "$T/out")" -ge 100 ]

# a tree of odd names, with a file of many blocks (XT_AZURE_BLOCK: 1 MiB)
mkdir -p 'tree/sub dir/deeper' tree/e
printf 'plus\n' >'tree/sub dir/na+me ä.txt'
printf 'pct\n' >'tree/sub dir/deeper/100% & #x?y=z'
: >tree/e/empty
head -c 5000000 /dev/urandom >tree/big.bin
XT_AZURE_BLOCK=1048576 t_run xt-put -q tree :tree
t_status 0 "xt-put of a tree of odd names and a 5 MB file in 1 MiB blocks"
t_run xt-get -l -r :tree/
t_status 0 "xt-get -l -r lists it"
cat >want <<'W'
tree/big.bin 5000000
tree/e/empty 0
tree/sub dir/deeper/100% & #x?y=z 4
tree/sub dir/na+me ä.txt 5
W
python3 -c 'import json,sys
for l in open(sys.argv[1]): r=json.loads(l); print(r["path"], r["size"])' "$T/out" >got
t_ok "... in the store's order, with sizes" cmp -s want got
t_run xt-get -q :tree back
t_status 0 "xt-get of the tree"
t_ok "... gives it back whole" diff -r tree back
t_run xt-get -c ':tree/sub dir/deeper/100% & #x?y=z'
printf 'pct\n' >want
t_out_is want "xt-get -c of a name with % & # ? ="

# 8 appenders x 1,000 lines through xt-put -a, line by line, in segments
# of 500 appends (XT_AZURE_APPEND_BLOCKS): 15 rollovers or more
awk 'BEGIN { for (p = 0; p < 8; p++) for (i = 0; i < 1000; i++) print "writer " p " line " i " ........................................" > ("w" p) }'
p=0
pids=""
while [ $p -lt 8 ]; do
	sh -c 'awk "{ print; fflush() }" "w$1" | XT_AZURE_APPEND_BLOCKS=500 xt-put -a :logs/race.txt >/dev/null; echo $? >"st$1"' sh $p &
	pids="$pids $!"
	p=$((p + 1))
done
for pid in $pids; do wait "$pid"; done
t_ok "8 appenders all succeed" [ "$(cat st0 st1 st2 st3 st4 st5 st6 st7)" = "$(printf '0\n0\n0\n0\n0\n0\n0\n0')" ]
t_run xt-get -c :logs/race.txt
t_status 0 "read the appended object"
cat w0 w1 w2 w3 w4 w5 w6 w7 | sort >want
sort "$T/out" >got
t_ok "8,000 whole lines, none lost, none twice" cmp -s want got
t_run xt-get -l :logs/race.txt
t_status 0 "xt-get -l of it"
t_ok "... gives the size of all its segments" \
    grep -qF "\"path\":\"logs/race.txt\",\"size\":$(cat w0 w1 w2 w3 w4 w5 w6 w7 | wc -c)," "$T/out"
t_run xt-get -l -r :
t_status 0 "xt-get -l -r of the whole store"
t_ok "... shows no segment" sh -c "! grep -q '\.tmp' '$T/out'"

# SAS: a good one works (and makes a container), a narrow one says what it lacks
sig=unset
good=$(sas rwdlac 2099-01-01T00:00:00Z)
sig=$(echo "$good" | sed 's/.*sig=//')
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$good" \
    t_run xt-put -s "$S-sas" tree/e/empty :x
t_status 0 "a SAS in the connection string: a new container, a put"
no_secret "SAS put"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep" AZURE_STORAGE_SAS_TOKEN="?$good" \
    t_run xt-get -s "$S-sas" -c :x
t_status 0 "AZURE_STORAGE_SAS_TOKEN, the endpoint from the connection string"
narrow=$(sas rl 2099-01-01T00:00:00Z)
sig=$(echo "$narrow" | sed 's/.*sig=//')
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$narrow" \
    t_run xt-put -s "$S-sas" tree/e/empty :y
t_status 1 "a SAS without write: the put fails"
t_err_has "xt-put: cannot put 'y': the SAS token does not allow it (AuthorizationPermissionMismatch; its permissions sp=rl)" \
    "... saying the SAS lacks the right"
no_secret "narrow SAS"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$narrow" \
    t_run xt-get -l -s "$S-none"
t_status 1 "a SAS that cannot create a missing container"
t_err_has "container 't1200-$n-none' of account 'devstoreaccount1' does not exist, and the SAS token cannot create it" \
    "... says so"
bad=$(sas rwdlac 2099-01-01T00:00:00Z AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=)
sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$bad" \
    t_run xt-get -l -s "$S-sas"
t_status 1 "a SAS of a wrong signature"
t_err_has "xt-get: store 'az://$acct/t1200-$n-sas': cannot get 'xt-store.json': the SAS token was refused (AuthorizationFailure): check its signature, start and expiry" \
    "... is refused, said in one line"
no_secret "bad SAS"
old=$(sas rl 2020-01-01T00:00:00Z)
sig=$(echo "$old" | sed 's/.*sig=//')
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$old" \
    t_run xt-get -l -s "$S-sas"
t_status 1 "an expired SAS"
t_err_has "xt-get: store 'az://$acct/t1200-$n-sas': the SAS token expired at 2020-01-01T00:00:00.000Z" \
    "... says when it expired"
no_secret "expired SAS"

# a container's SAS (service SAS, sr=c) works on its container only
csas() {
	python3 - "$key" "$1" "$2" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
key, cont, sp = sys.argv[1:4]
sv, se = "2023-11-03", "2099-01-01T00:00:00Z"
sts = "\n".join([sp, "", se, "/blob/devstoreaccount1/" + cont, "", "", "", sv, "c"] + [""] * 7)
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
q = [("sv", sv), ("sr", "c"), ("sp", sp), ("se", se), ("sig", sig)]
print("&".join(k + "=" + urllib.parse.quote(v, safe="") for k, v in q))
PY
}
cont=$(csas "t1200-$n-sas" racwdl)
sig=$(echo "$cont" | sed 's/.*sig=//')
printf 'c1\n' >c1
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$cont" \
    t_run xt-put -s "$S-sas" c1 :c1
t_status 0 "a container SAS: a put"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$cont" \
    t_run xt-put -s "$S-sas" -a :c2 <c1
t_status 0 "... an append"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$cont" \
    t_run xt-get -s "$S-sas" -c :c2
t_out_is c1 "... a get"
no_secret "container SAS"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep;SharedAccessSignature=$cont" \
    t_run xt-get -s "$S" -l
t_status 1 "... on another container"
t_err_has "the SAS token was refused (AuthorizationFailure)" "... is refused"
no_secret "container SAS elsewhere"

# a wrong key, an unreachable endpoint, no credential
sig=unset
wrong=$(printf 'not the key of this account' | base64 -w0)
AZURE_STORAGE_CONNECTION_STRING="AccountName=$acct;AccountKey=$wrong;BlobEndpoint=$ep" \
    t_run xt-get -l
t_status 1 "a wrong account key"
t_err_has "xt-get: store '$S': cannot get 'xt-store.json': the account key of 'devstoreaccount1' was refused (AuthorizationFailure): check AccountKey or AZURE_STORAGE_KEY" \
    "... is said in one line"
t_ok "... and nothing else" [ "$(wc -l <"$T/err")" -eq 1 ]
if grep -qF "$wrong" "$T/out" "$T/err"; then t_fail "... without the key"; else t_pass "... without the key"; fi
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep" AZURE_STORAGE_KEY=$key t_run xt-get -c :x
t_status 1 "AZURE_STORAGE_KEY, the endpoint from the connection string: a missing object"
t_err_has "xt-get: cannot get 'x': no such object" "... is said so"
no_secret "AZURE_STORAGE_KEY"
AZURE_STORAGE_CONNECTION_STRING="AccountName=$acct;AccountKey=$key;BlobEndpoint=http://127.0.0.1:1/$acct" \
    t_run xt-get -l
t_status 1 "an unreachable endpoint"
t_err_has "xt-get: store '$S': cannot reach http://127.0.0.1:1/devstoreaccount1 for 'xt-store.json': " "... names it"
no_secret "unreachable"
AZURE_STORAGE_CONNECTION_STRING="AccountName=other;AccountKey=$key;BlobEndpoint=$ep" t_run xt-get -l
t_status 1 "a connection string of another account"
t_err_has "AZURE_STORAGE_CONNECTION_STRING is for account 'other', not 'devstoreaccount1'" "... says so"
AZURE_STORAGE_CONNECTION_STRING="AccountName=$acct;AccountKey=not*base64;BlobEndpoint=$ep" t_run xt-get -l
t_status 1 "a key that is not base64"
t_err_has "the account key (AccountKey of AZURE_STORAGE_CONNECTION_STRING) is not base64" "... says so"
unset AZURE_STORAGE_CONNECTION_STRING
t_run xt-get -l
t_status 1 "no credential"
t_err_has "no credential for account 'devstoreaccount1': set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN" \
    "... names the variables"
t_run xt-get -l -s az://$acct/No_Such
t_status 1 "a malformed container name"
t_err_has "malformed store URL 'az://devstoreaccount1/No_Such'" "... is said"
export AZURE_STORAGE_CONNECTION_STRING="$cs"

# runs on az://: xt-runq's executors are forked from a process that has
# spoken to the store; each must not read its parent's answers (3 jobs of 20
# runs, 2 at a time: every run completes)
mkdir -p code
echo true >code/t.sh
for i in 1 2 3; do
	XT_STORE=$S-runs$i xt-submit -C code --runs 20 -- sh t.sh >/dev/null
	t_run env XT_STORE=$S-runs$i xt-runq -j 2
	t_status 0 "job $i on az://: xt-runq -j 2"
	t_err_has "20 runs: 20 completed" "... every run completed"
done

if [ -n "${apid:-}" ]; then
	t_run "$R/scripts/azurite-up.sh" stop "$T/azurite"
	t_status 0 "scripts/azurite-up.sh stop"
	t_ok "... stops Azurite by its PID" sh -c "! kill -0 $apid 2>/dev/null"
	t_ok "... and forgets the PID" [ ! -e "$T/azurite/azurite.pid" ]
fi
t_done
