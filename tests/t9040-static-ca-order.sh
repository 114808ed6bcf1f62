#!/bin/sh
# Where the static xt-get finds CA certificates, first found wins: ca-file
# (option, then XT_CA_FILE), CURL_CA_BUNDLE, SSL_CERT_FILE, the bundles of
# Debian, RHEL (two), SUSE and Alpine, then the embedded bundle. At each
# step the winner holds the test CA and everything below it an unrelated
# CA, so a download succeeds only when the winner is used.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/static.sh"

mkroot
t_ok "make a test CA and a server certificate" make_certs
mkdir -p www
printf 'ca order\n' >www/x.txt
t_ok "the TLS server starts" start_https "$T/www" srv.pem srv.key
url=https://localhost:$port/x.txt

# get DESC WANT-ORIGIN [VAR=VALUE...] [-- OPTIONS]: download with the
# root as it is now; ok when it succeeds and -v names WANT-ORIGIN
get() {
	desc=$1 want=$2
	shift 2
	in_root "$@" xt-get -v "$url" /tmp/x.txt
	if [ "$rc" -eq 0 ] && grep -qF "$want" "$T/err"; then t_pass "$desc"; else
		t_fail "$desc (exit $rc)"
	fi
	rm -f "$R/tmp/x.txt"
}

# the distributions' paths, lowest first: each new one holds the test CA,
# the ones below it are turned into the unrelated CA
paths="/etc/ssl/cert.pem /etc/ssl/ca-bundle.pem /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/certs/ca-certificates.crt"
for p in $paths; do
	for q in $paths; do
		[ -e "$R$q" ] && cp bad.pem "$R$q"
	done
	mkdir -p "$(dirname "$R$p")"
	cp ca.pem "$R$p"
	get "system bundle $p is used" "CA certificates $p (system)"
done
in_root xt-get "$url" /tmp/x.txt
t_status 0 "the bundle alone, without -v"

cp ca.pem "$R/tmp/ssl.pem"
cp ca.pem "$R/tmp/curl.pem"
cp ca.pem "$R/tmp/xt.pem"
cp ca.pem "$R/tmp/opt.pem"
cp bad.pem "$R/etc/ssl/certs/ca-certificates.crt"
get "SSL_CERT_FILE over the system bundles" "/tmp/ssl.pem (env SSL_CERT_FILE)" SSL_CERT_FILE=/tmp/ssl.pem
cp bad.pem "$R/tmp/ssl.pem"
get "CURL_CA_BUNDLE over SSL_CERT_FILE" "/tmp/curl.pem (env CURL_CA_BUNDLE)" \
    SSL_CERT_FILE=/tmp/ssl.pem CURL_CA_BUNDLE=/tmp/curl.pem
cp bad.pem "$R/tmp/curl.pem"
get "XT_CA_FILE over CURL_CA_BUNDLE" "/tmp/xt.pem (ca-file, env XT_CA_FILE)" \
    SSL_CERT_FILE=/tmp/ssl.pem CURL_CA_BUNDLE=/tmp/curl.pem XT_CA_FILE=/tmp/xt.pem
cp bad.pem "$R/tmp/xt.pem"
in_root SSL_CERT_FILE=/tmp/ssl.pem XT_CA_FILE=/tmp/xt.pem \
    xt-get -v --ca-file /tmp/opt.pem "$url" /tmp/x.txt
t_status 0 "--ca-file over XT_CA_FILE"
t_err_has "/tmp/opt.pem (ca-file, option)" "-v names the option"
printf 'ca-file: /tmp/opt.pem\n' >"$R/tmp/config.yaml"
in_root XT_CONFIG=/tmp/config.yaml SSL_CERT_FILE=/tmp/ssl.pem xt-get -v "$url" /tmp/y.txt
t_status 0 "ca-file in the user's config file over SSL_CERT_FILE"
t_err_has "/tmp/config.yaml:1" "-v names the file and line"

# an empty variable is unset; a set one must be readable
cp ca.pem "$R/etc/ssl/certs/ca-certificates.crt"
get "an empty CURL_CA_BUNDLE counts as unset" "(system)" CURL_CA_BUNDLE=
in_root SSL_CERT_FILE=/tmp/none.pem xt-get "$url" /tmp/x.txt
t_status 1 "an unreadable SSL_CERT_FILE is an error, not skipped"
t_err_has "cannot read CA file '/tmp/none.pem' (from env SSL_CERT_FILE)" "naming the file and where it came from"
in_root xt-get --ca-file /tmp/none.pem "$url" /tmp/x.txt
t_status 1 "so is a missing --ca-file"
t_ok "and nothing is written" test ! -e "$R/tmp/x.txt"

# nothing at all: the embedded bundle, which does not hold the test CA
rm -rf "$R/etc/ssl" "$R/etc/pki"
in_root xt-get -v "$url" /tmp/x.txt
t_status 1 "with no file the embedded bundle is tried"
t_err_has "CA certificates built in (embedded)" "-v says so"
t_done
