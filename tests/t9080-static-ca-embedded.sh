#!/bin/sh
# The last step of lib/ca.c's order, the bundle embedded at build time,
# accepts a server. The shipped binaries embed Debian's bundle of public
# CAs, and no local server can have a certificate from one of those; so
# xt-get is built again here exactly as make static builds it (its
# objects, flags and libraries), with CA_BUNDLE naming the test CA, and
# downloads from the local TLS server in an empty root that has no CA
# file at all. The shipped xt-get, whose bundle lacks the test CA, is
# refused there, and a system bundle in the root comes before the
# embedded one.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/static.sh"

src=$(dirname "$tdir")
sb=$(dirname "$XT_BIN")
sp=$(cat "$sb/prefix" 2>/dev/null)
t_ok "make a test CA and a server certificate" make_certs

# the static build's objects, all but ca.o, which embeds the bundle
mkdir -p b
cp -rp "$sb/obj" b/
cp -p "$sb/version" b/	# the version stamp that version.o is built from
rm -f b/obj/ca.o
t_run make -C "$src" --no-print-directory static-bins SP="$sp" SO="$T/b" \
    CA_BUNDLE="$T/ca.pem" TOOLS=xt-get
t_status 0 "xt-get builds with the test CA as its embedded bundle"
t_ok "and only ca.o was compiled again" test "$(grep -c '^musl-gcc .* -c ' "$T/out")" -eq 1
line=$(sed -n 2p ca.pem)
t_ok "the binary holds the test CA" grep -qaF "$line" b/bin/xt-get
t_ok "the shipped one does not" test "$(grep -caF "$line" "$XT_BIN/xt-get")" -eq 0
n=$(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)
t_ok "the shipped one holds Debian's $n certificates" \
    test "$(grep -caF 'BEGIN CERTIFICATE' "$XT_BIN/xt-get")" -eq "$n"

mkroot
cp b/bin/xt-get "$R/bin/xt-get-test"
mkdir -p www
printf 'embedded\n' >www/x.txt
t_ok "the TLS server starts" start_https "$T/www" srv.pem srv.key
url=https://localhost:$port/x.txt
t_ok "the root has no CA file" test -z "$(find "$R" -name '*.pem' -o -name '*.crt')"

in_root xt-get-test -v "$url" /tmp/x.txt
t_status 0 "with no CA file, the embedded test CA accepts the server"
t_err_has "CA certificates built in (embedded)" "-v names the embedded bundle"
t_ok "and the file is downloaded" cmp -s www/x.txt "$R/tmp/x.txt"
rm -f "$R/tmp/x.txt"

in_root xt-get -v "$url" /tmp/x.txt
t_status 1 "the shipped xt-get, with Debian's bundle, refuses the same server"
t_err_has "CA certificates built in (embedded)" "with its embedded bundle"

mkdir -p "$R/etc/ssl"
cp bad.pem "$R/etc/ssl/cert.pem"
in_root xt-get-test -v "$url" /tmp/x.txt
t_status 1 "a system bundle comes before the embedded one"
t_err_has "CA certificates /etc/ssl/cert.pem (system)" "-v names it"
t_ok "and nothing is written" test ! -e "$R/tmp/x.txt"
t_done
