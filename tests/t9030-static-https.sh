#!/bin/sh
# HTTPS with the static xt-get (libcurl on BearSSL) in an empty root: a
# local TLS server signed by a test CA is accepted with that CA, refused
# with another or with none; localhost and other names resolve through
# the root's /etc/hosts. Prints the TLS handshake times: curl 7.88's
# BearSSL backend, unpatched, takes about a second per handshake here.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/static.sh"

mkroot
t_ok "make a test CA and a server certificate" make_certs
mkdir -p www/d
printf 'hello over TLS\n' >www/hello.txt
head -c 1000000 /dev/urandom >www/d/data.bin
t_ok "the TLS server starts" start_https "$T/www" srv.pem srv.key
cp ca.pem "$R/tmp/ca.pem"
cp bad.pem "$R/tmp/bad.pem"
url=https://localhost:$port

in_root xt-get --ca-file /tmp/ca.pem "$url/hello.txt" /tmp/hello.txt
t_status 0 "download with the test CA"
t_ok "the file is whole" cmp -s www/hello.txt "$R/tmp/hello.txt"
t_ok "reported as a JSON line with its hash" grep -q "\"url\":\"$url/hello.txt\",\"file\":\"/tmp/hello.txt\",\"size\":15,\"sha256\":\"$(sha256sum www/hello.txt | cut -d' ' -f1)\",\"action\":\"downloaded\",\"status\":200" "$T/out"
t_err_empty "nothing on stderr"

in_root xt-get -c --ca-file /tmp/ca.pem "$url/d/data.bin"
t_status 0 "xt-get -c a 1 MB file"
t_ok "standard output has it byte for byte" cmp -s www/d/data.bin "$T/out"

in_root xt-get --ca-file /tmp/ca.pem "$url/d/data.bin" /tmp/
t_status 0 "download into a folder"
t_ok "named after the URL's last segment" cmp -s www/d/data.bin "$R/tmp/data.bin"

in_root xt-get --ca-file /tmp/bad.pem "$url/hello.txt" /tmp/refused.txt
t_status 1 "an unrelated CA is refused"
t_err_has "trust anchor" "with BearSSL's reason"
t_ok "no file is left" test ! -e "$R/tmp/refused.txt" -a -z "$(ls "$R/tmp" | grep refused)"

in_root xt-get -v "$url/hello.txt" /tmp/refused.txt
t_status 1 "with no CA file the built-in bundle is used, and it does not know the test CA"
t_err_has "CA certificates built in (embedded)" "-v says where the CA certificates came from"
t_err_has "trust anchor" "and the chain is refused"

in_root xt-get --ca-file /tmp/ca.pem "$url/missing.txt" /tmp/missing.txt
t_status 1 "a 404 fails"
t_err_has "404" "and says so"
t_ok "no file is left for it" test ! -e "$R/tmp/missing.txt"

# BearSSL checks names only: an IP address is refused even when the
# certificate lists it (xt.7 says so)
in_root xt-get --ca-file /tmp/ca.pem "https://127.0.0.1:$port/hello.txt" /tmp/ip.txt
t_status 1 "an IP address literal is refused"
t_err_has "host verification of IP address is not supported" "with BearSSL's reason"

# names come from the root's /etc/hosts (musl reads no NSS)
in_root xt-get --ca-file /tmp/ca.pem "https://xt-node.test:$port/hello.txt" /tmp/h2.txt
t_status 0 "a name from /etc/hosts resolves"
printf '127.0.0.1 localhost\n' >"$R/etc/hosts"
in_root xt-get --ca-file /tmp/ca.pem "https://xt-node.test:$port/hello.txt" /tmp/h3.txt
t_status 1 "a name gone from /etc/hosts does not"
t_err_has "resolve" "and the error says it could not be resolved"
in_root xt-get --ca-file /tmp/ca.pem "$url/hello.txt" /tmp/h4.txt
t_status 0 "localhost still does"

in_root xt-get --ca-file /tmp/ca.pem "$url/"
t_status 2 "a URL without a file name needs FILE"
in_root xt-get -c "ftp://localhost/x"
t_status 2 "an ftp:// address is neither a URL nor a store path"

# handshake times: printed, not asserted (a loaded machine varies)
times=
i=0
while [ $i -lt 5 ]; do
	in_root xt-get --ca-file /tmp/ca.pem "$url/hello.txt" /tmp/t.txt
	ms=$(sed -n 's/.*"tls_ms":\([0-9.]*\).*/\1/p' "$T/out")
	times="$times ${ms:-?}"
	i=$((i + 1))
done
t_ok "five timed downloads" test "$(echo $times | wc -w)" -eq 5
echo "# INFO TLS handshake, static xt-get (curl 7.88.1 + BearSSL, patched), ms:$times"
if [ -x "$XT_BIN/../../build/bin/xt-get" ]; then
	env -u CURL_CA_BUNDLE -u SSL_CERT_FILE "$XT_BIN/../../build/bin/xt-get" \
	    --ca-file ca.pem "$url/hello.txt" t.txt >dyn.out 2>&1
	echo "# INFO TLS handshake, dynamic build (system libcurl), ms: $(sed -n 's/.*"tls_ms":\([0-9.]*\).*/\1/p' dyn.out)"
fi
t_done
