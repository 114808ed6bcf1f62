#!/bin/sh
# libmongoc of the static build (on OpenSSL) logs in with a password over
# TLS for real: scripts/mongo-up.sh serves MongoDB's wire protocol with
# TLS (a certificate of a test CA) and SCRAM-SHA-256 for one user, and a
# static probe (tests/static/mongo-probe.c), run in the empty root,
# inserts a document and reads it back. A wrong password, a wrong CA, a
# name the certificate does not hold, no TLS, and no login are refused.
# The server's database is CongoDB's; TLS and SCRAM are those of
# scripts/mongo/server.mjs, whose own SCRAM steps are checked first
# against the example of RFC 7677.

# the npm install is kept in the user's cache, as the static libraries are
cache=${XDG_CACHE_HOME:-$HOME/.cache}
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/static.sh"

src=$(dirname "$tdir")/scripts
if ! command -v node >/dev/null; then
	echo "# SKIP no node here (scripts/deps.sh static installs it)"
	t_done
	exit
fi
t_run node "$src/mongo/server.mjs" --selftest
t_status 0 "the server's SCRAM-SHA-256 steps give RFC 7677's messages, and refuse a wrong proof"
t_ok "the probe links statically against the cached libmongoc" probe_cc mongo-probe libmongoc-static-1.0
t_run readelf -d mongo-probe
t_ok "and is static" grep -q 'There is no dynamic section' "$T/out"

t_ok "make a test CA and a server certificate" make_certs
user=xt-user pass=pw-$$-ok
stop_mongo() { "$src/mongo-up.sh" stop "$T/mongo"; }
t_cleanup_hooks="$t_cleanup_hooks stop_mongo"
t_run env XDG_CACHE_HOME="$cache" MONGO_CERT="$T/srv.pem" MONGO_KEY="$T/srv.key" \
    MONGO_USER=$user MONGO_PASSWORD=$pass "$src/mongo-up.sh" start "$T/mongo"
t_status 0 "the server starts (TLS, SCRAM-SHA-256, user $user)"
port=$(cat "$T/mongo/port" 2>/dev/null)

mkroot
cp mongo-probe "$R/bin/"
cp ca.pem bad.pem "$R/tmp/"
echo "127.0.0.1 other.test" >>"$R/etc/hosts"
probe() { in_root mongo-probe "mongodb://$1@$2:$port/?$3&serverSelectionTimeoutMS=3000"; }
tls="tls=true&tlsCAFile=/tmp/ca.pem"

probe "$user:$pass" localhost "$tls"
t_status 0 "login with the password over TLS"
echo 'insert: ok' >want
echo 'find: { "name" : "xt-static", "n" : 42 }' >>want
t_out_is want "inserts a document and reads it back"
t_ok "the server checked the SCRAM proof" grep -q "^login ok: $user" "$T/mongo/mongo.log"

probe "$user:wrong-$pass" localhost "$tls"
t_status 1 "a wrong password is refused"
echo 'error: Authentication failed.' >want
t_out_is want "at the login, before any insert"
t_ok "by the server's check of the proof" grep -q '^login refused: wrong proof' "$T/mongo/mongo.log"

probe "$user:$pass" localhost "tls=true&tlsCAFile=/tmp/bad.pem"
t_status 1 "a server signed by another CA is refused"
t_ok "in the TLS handshake" grep -q 'TLS handshake failed: certificate verify failed' "$T/out"

probe "$user:$pass" other.test "$tls"
t_status 1 "a server name the certificate does not hold is refused"
t_ok "in the TLS handshake" grep -q 'TLS handshake failed' "$T/out"

probe "$user:$pass" localhost "tls=false"
t_status 1 "a connection without TLS gets nothing"
t_ok "no insert" test "$(grep -c '^insert' "$T/out")" -eq 0

in_root mongo-probe "mongodb://localhost:$port/?$tls"
t_status 1 "without a login, the server refuses the insert"
echo 'error: command insert requires authentication' >want
t_out_is want "as unauthorized"
sed 's/^/# INFO server: /' "$T/mongo/mongo.log"
t_done
