#!/bin/sh
# Azurite (Microsoft's Azure Storage emulator, blob service only) on a
# free loopback port, for the tests of the Azure store. Strict: neither
# --loose nor --skipApiVersionCheck, so xt must speak the REST API as
# Azure documents it.
#
#   scripts/azurite-up.sh install       install into AZURITE_HOME when
#                                       missing; print AZURITE_HOME
#   scripts/azurite-up.sh start DIR [LOCATION]
#                                       start it (installing first), data
#                                       in memory; prints the endpoint
#                                       http://127.0.0.1:PORT/devstoreaccount1
#                                       once it answers. With LOCATION, the
#                                       data is in that folder (--location),
#                                       kept across restarts, and a start
#                                       in a DIR used before listens on its
#                                       last port when that port is free
#                                       (an Azurite killed and started
#                                       again keeps its endpoint)
#   scripts/azurite-up.sh stop DIR      stop it by the PID in DIR/azurite.pid
#   scripts/azurite-up.sh status DIR    exit 0 when it runs
#
# With AZURITE_CERT and AZURITE_KEY (PEM files of a certificate for
# localhost and its key) it serves HTTPS (--cert, --key), and the endpoint
# is https://localhost:PORT/devstoreaccount1 (a name, for TLS clients that
# check names only).
#
# DIR gets the PID, the port, the endpoint and the log. AZURITE_HOME
# defaults to ${XDG_CACHE_HOME:-~/.cache}/xt-azurite/azurite-VERSION (npm
# install, about a minute the first time). Clients use the emulator's
# published account devstoreaccount1 and its key (Azurite's README; see
# tests/t1200-store-azure.sh), through a connection string whose
# BlobEndpoint is the endpoint printed.
set -eu

version=3.35.0
home=${AZURITE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/xt-azurite/azurite-$version}

say() { echo "azurite-up: $*" >&2; }
usage() { echo "usage: $0 install | start DIR [LOCATION] | stop|status DIR" >&2; exit 2; }

install() {
	if [ -x "$home/node_modules/.bin/azurite-blob" ] && [ -f "$home/.done" ]; then
		return 0
	fi
	command -v node >/dev/null && command -v npm >/dev/null ||
	    { say "node and npm are needed: scripts/deps.sh static"; return 1; }
	say "installing azurite@$version into $home (about a minute)"
	rm -rf "$home"
	mkdir -p "$home"
	echo '{"name":"xt-azurite","private":true}' >"$home/package.json"
	(cd "$home" && npm install --no-audit --no-fund --loglevel=error \
	    --cache "$home/.npm" "azurite@$version" >&2)
	rm -rf "$home/.npm"
	: >"$home/.done"
}

# a port nobody listens on now (Azurite then fails to listen if one takes it)
free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# whether nobody listens on port $1 now
port_free() {
	node -e 'const s=require("net").createServer();s.on("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close())' "$1"
}

# any HTTP answer (403 to an unsigned request) means it is up (over TLS:
# whatever its certificate)
answers() {
	node -e 'const u=process.argv[1];require(u.startsWith("https:")?"https":"http").get(u,{rejectUnauthorized:false},r=>process.exit(0)).on("error",()=>process.exit(1))' \
	    "$1/devstoreaccount1?comp=list"
}

case ${1:-} in
install) [ $# -eq 1 ] || usage; install; echo "$home"; exit 0 ;;
start) [ $# -eq 2 ] || [ $# -eq 3 ] || usage ;;
stop | status) [ $# -eq 2 ] || usage ;;
*) usage ;;
esac
dir=$2
loc=${3:-}
pidf=$dir/azurite.pid
. "$(dirname "$0")/svc.sh"
case $1 in
stop) svc_stop; exit 0 ;;
status) svc_pid >/dev/null; exit ;;
esac

if p=$(svc_pid); then
	say "already running (pid $p)"
	cat "$dir/endpoint"
	exit 0
fi
install
mkdir -p "$dir"
port=""
if [ -n "$loc" ]; then
	mkdir -p "$loc"
	loc=$(cd "$loc" && pwd)
	set -- --location "$loc"
	[ -s "$dir/port" ] && port=$(cat "$dir/port") && port_free "$port" || port=""
else
	set -- --inMemoryPersistence
fi
scheme=http host=127.0.0.1
if [ -n "${AZURITE_CERT:-}" ] || [ -n "${AZURITE_KEY:-}" ]; then
	[ -r "${AZURITE_CERT:-}" ] && [ -r "${AZURITE_KEY:-}" ] ||
	    { say "AZURITE_CERT and AZURITE_KEY must both name readable PEM files"; exit 1; }
	set -- "$@" --cert "$(cd "$(dirname "$AZURITE_CERT")" && pwd)/$(basename "$AZURITE_CERT")" \
	    --key "$(cd "$(dirname "$AZURITE_KEY")" && pwd)/$(basename "$AZURITE_KEY")"
	scheme=https host=localhost
fi
rm -f "$dir/port" "$dir/endpoint"
[ -n "$port" ] || port=$(free_port)
svc_start "$dir/azurite.log" "$home/node_modules/.bin/azurite-blob" \
    --blobHost 127.0.0.1 --blobPort "$port" "$@" \
    --disableTelemetry --silent
if svc_wait 300 answers "$scheme://127.0.0.1:$port"; then
	echo "$port" >"$dir/port"
	echo "$scheme://$host:$port/devstoreaccount1" >"$dir/endpoint"
	cat "$dir/endpoint"
	exit 0
fi
svc_stop
say "Azurite did not start; its log:"
cat "$dir/azurite.log" >&2
exit 1
