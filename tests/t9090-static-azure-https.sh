#!/bin/sh
# The static xt-put and xt-get reach an Azurite served over HTTPS (its
# --cert and --key, a certificate of the test CA of tests/https.sh) from
# the empty root of tests/static.sh: a tree of odd names and a file of
# many blocks go up and come back whole, an append lands; without the test
# CA, or with another one, they fail with one clear line and no secret.
# An Azurite of its own (scripts/azurite-up.sh with AZURITE_CERT and
# AZURITE_KEY), stopped by its PID.
tdir=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$tdir/.." && pwd)
. "$tdir/lib.sh"
. "$tdir/static.sh"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "1..0 # SKIP node and npm are needed to run Azurite"
	exit 0
fi
if ! "$top/scripts/azurite-up.sh" install >/dev/null 2>install.err; then
	echo "1..0 # SKIP Azurite cannot be installed here (npm): $(tail -n 1 install.err)"
	exit 0
fi
acct=devstoreaccount1
key=$(sed -n 's/^key=//p' "$tdir/azurite.sh")

mkroot
t_ok "make a test CA and a server certificate" make_certs
stop_azurite() { "$top/scripts/azurite-up.sh" stop "$T/azurite"; }
t_cleanup_hooks="$t_cleanup_hooks stop_azurite"
AZURITE_CERT=srv.pem AZURITE_KEY=srv.key t_run "$top/scripts/azurite-up.sh" start "$T/azurite"
t_status 0 "Azurite starts over HTTPS"
ep=$(cat "$T/out")
case $ep in https://localhost:*/devstoreaccount1) t_pass "... at https://localhost:PORT" ;;
*) t_fail "... at https://localhost:PORT, not '$ep'" ;; esac
cp ca.pem bad.pem "$R/tmp/"
cs="DefaultEndpointsProtocol=https;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
S=az://$acct/t9090-$$

# a tree of odd names, and a 3 MB file in 1 MiB blocks
mkdir -p "$R/tmp/tree/sub dir"
printf 'plus\n' >"$R/tmp/tree/sub dir/na+me ä.txt"
printf 'pct\n' >"$R/tmp/tree/100% & #x?y=z"
: >"$R/tmp/tree/empty"
head -c 3000000 /dev/urandom >"$R/tmp/tree/big.bin"

in_root CURL_CA_BUNDLE=/tmp/ca.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    XT_AZURE_BLOCK=1048576 xt-put -q /tmp/tree :tree
t_status 0 "xt-put of a tree to az:// over HTTPS, with the test CA"
t_err_empty "... says nothing on stderr"
in_root CURL_CA_BUNDLE=/tmp/ca.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    xt-get -q :tree /tmp/back
t_status 0 "xt-get of the tree"
t_ok "... gives it back whole" diff -r "$R/tmp/tree" "$R/tmp/back"
in_root SSL_CERT_FILE=/tmp/ca.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    xt-get -c ':tree/100% & #x?y=z'
printf 'pct\n' >want
t_out_is want "xt-get -c of an odd name (the CA from SSL_CERT_FILE)"

printf 'line 1\n' >l1
printf 'line 2\n' >l2
in_root CURL_CA_BUNDLE=/tmp/ca.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    xt-put -a :log.txt <l1
t_status 0 "xt-put -a: an append over HTTPS"
in_root CURL_CA_BUNDLE=/tmp/ca.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    xt-put -a :log.txt <l2
in_root CURL_CA_BUNDLE=/tmp/ca.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    xt-get -c :log.txt
cat l1 l2 >want
t_out_is want "... and another: both lines, in order"

# the certificate must be checked: the built-in CAs and another CA refuse it
in_root AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S xt-get -c :tree/empty
t_status 1 "without the test CA (the CAs built in) the store is refused"
t_err_has "xt-get: store '$S': cannot reach $ep for 'xt-store.json': " "... saying which endpoint"
t_err_has "trust anchor" "... and BearSSL's reason"
t_ok "... in one line" [ "$(wc -l <"$T/err")" -eq 1 ]
t_ok "... without the key" sh -c "! grep -qF '$key' '$T/out' '$T/err'"
in_root CURL_CA_BUNDLE=/tmp/bad.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    xt-put -q /tmp/tree/empty :refused
t_status 1 "with another CA, xt-put is refused"
t_err_has "trust anchor" "... saying why"
in_root CURL_CA_BUNDLE=/tmp/ca.pem AZURE_STORAGE_CONNECTION_STRING="$cs" XT_STORE=$S \
    xt-get -c :refused
t_status 1 "... and nothing was stored"

# the static tools have nothing but the root: no /etc/ssl, no shell
t_ok "the root holds only the tools, /etc/hosts and /tmp" \
    [ "$(cd "$R" && find . -maxdepth 2 ! -path './tmp*' | sort | tr '\n' ' ')" = ". ./bin ./bin/xt ./bin/xt-get ./bin/xt-log ./bin/xt-put ./bin/xt-report ./bin/xt-runq ./bin/xt-search ./bin/xt-submit ./etc ./etc/hosts " ]
t_done
