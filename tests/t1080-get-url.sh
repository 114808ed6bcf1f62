#!/bin/sh
# xt-get downloads http(s):// URLs: to a file, atomically, or to standard
# output; the CA comes from --ca-file or the environment; an unrelated CA,
# a 404 and a URL without a file name fail.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/https.sh"

unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
t_ok "make a test CA and a server certificate" make_certs
mkdir -p www/sub
printf 'hello\n' >www/sub/hello.txt
t_ok "the TLS server starts" start_https "$T/www" srv.pem srv.key
url=https://localhost:$port/sub/hello.txt

t_run xt-get --ca-file ca.pem "$url"
t_status 0 "download to the URL's last segment"
t_ok "the file is whole" cmp -s www/sub/hello.txt hello.txt
printf '{"url":"%s","file":"hello.txt","size":6,"sha256":"%s","action":"downloaded","status":200,' \
    "$url" "$(sha256sum hello.txt | cut -d' ' -f1)" >want
t_ok "one JSON line names url, file, size, hash and status" \
    test "$(wc -l <"$T/out")" -eq 1 -a "$(head -c "$(wc -c <want)" "$T/out")" = "$(cat want)"
t_err_empty "nothing on stderr"

mkdir d
t_run env SSL_CERT_FILE=ca.pem sh -c 'umask 022; exec xt-get "$1" d' sh "$url"
t_status 0 "SSL_CERT_FILE is used; into a folder"
t_ok "as d/hello.txt" cmp -s www/sub/hello.txt d/hello.txt
t_ok "with a new file's mode under the umask (0644 under 022), not 0600" \
    test "$(stat -c %a d/hello.txt)" = 644

t_run env CURL_CA_BUNDLE=ca.pem xt-get -c "$url" "$url"
t_status 0 "-c two URLs"
t_ok "both bodies on stdout" test "$(cat "$T/out")" = "$(printf 'hello\nhello')"

t_run env XT_CA_FILE=bad.pem CURL_CA_BUNDLE=ca.pem xt-get -v "$url" refused.txt
t_status 1 "XT_CA_FILE wins over CURL_CA_BUNDLE: the unrelated CA is refused"
t_err_has "CA certificates bad.pem (ca-file, env XT_CA_FILE)" "-v says where the CA came from"
t_ok "no file is left" test -z "$(ls | grep refused)"

t_run xt-get --ca-file ca.pem "https://localhost:$port/sub/none.txt" none.txt
t_status 1 "a 404 fails"
t_err_has "404" "naming the status"
t_ok "and leaves no file" test -z "$(ls | grep none.txt)"

t_run xt-get --ca-file missing.pem "$url" x.txt
t_status 1 "a CA file that cannot be read fails"
t_err_has "cannot read CA file 'missing.pem' (from ca-file, option)" "naming it"

t_run xt-get --ca-file ca.pem "https://localhost:$port/"
t_status 2 "a URL without a file name needs FILE"
t_err_has "no file name in the URL" "and says so"
t_run xt-get -c "$url" run1/x
t_status 2 "-c does not mix URLs and store paths"
t_run xt-get --ca-file ca.pem "https://localhost:1/x.txt" x.txt
t_status 1 "a refused connection fails"
t_done
