#!/bin/sh
# A MongoDB wire-protocol server on loopback, with TLS and a password
# login (SCRAM-SHA-256), for the tests of the static build's libmongoc:
# scripts/mongo/server.mjs around the database of CongoDB, the in-memory
# server inside the npm package @push.rocks/smartmongo 2.2.0 (no mongod
# is downloaded). server.mjs says what it adds to CongoDB and what it
# does not do.
#
#   scripts/mongo-up.sh install       install into MONGO_HOME when missing;
#                                     print MONGO_HOME
#   scripts/mongo-up.sh start DIR     start it (installing first); prints
#                                     the port once it listens
#   scripts/mongo-up.sh stop DIR      stop it by the PID in DIR/mongo.pid
#   scripts/mongo-up.sh status DIR    exit 0 when it runs
#
# start needs MONGO_CERT and MONGO_KEY (PEM files of the server's
# certificate and key), MONGO_USER and MONGO_PASSWORD; MONGO_PORT, when
# set, is the port to listen on (else the kernel picks one). DIR gets the PID,
# the port and the log. MONGO_HOME defaults to
# ${XDG_CACHE_HOME:-~/.cache}/xt-mongo/smartmongo-2.2.0: npm ci of
# scripts/mongo/package-lock.json (what CongoDB imports, versions and
# hashes pinned) and CongoDB's folder of the smartmongo tarball (npm
# pack, its SHA-256 checked). The whole package cannot be installed: it
# asks for versions of its dependencies that the registry does not have.
set -eu

pkg=@push.rocks/smartmongo@2.2.0
tgz=push.rocks-smartmongo-2.2.0.tgz
sum=1f9915eb73859a62183e589a699f58b9fd006c972deb5ce6f61fa945defbc22e
src=$(cd "$(dirname "$0")" && pwd)/mongo
home=${MONGO_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/xt-mongo/smartmongo-2.2.0}

say() { echo "mongo-up: $*" >&2; }
usage() { echo "usage: $0 install | start|stop|status DIR" >&2; exit 2; }

install() {
	if [ -f "$home/.done" ] && cmp -s "$src/package-lock.json" "$home/package-lock.json"; then
		return 0
	fi
	command -v node >/dev/null && command -v npm >/dev/null ||
	    { say "node and npm are needed: scripts/deps.sh static"; return 1; }
	say "installing CongoDB ($pkg) into $home"
	rm -rf "$home"
	mkdir -p "$home/vendor"
	cp "$src/package.json" "$src/package-lock.json" "$home/"
	(cd "$home" && npm ci --no-audit --no-fund --loglevel=error --cache "$home/.npm" >&2)
	(cd "$home/vendor" && npm pack --loglevel=error --cache "$home/.npm" "$pkg" >/dev/null)
	if [ "$(sha256sum "$home/vendor/$tgz" | cut -d' ' -f1)" != "$sum" ]; then
		say "$tgz: SHA-256 is not the pinned one"
		return 1
	fi
	tar -xzf "$home/vendor/$tgz" -C "$home/vendor" package/dist_ts/congodb \
	    package/license package/package.json
	rm -rf "$home/.npm"
	: >"$home/.done"
}

case ${1:-} in
install) [ $# -eq 1 ] || usage; install; echo "$home"; exit 0 ;;
start | stop | status) [ $# -eq 2 ] || usage ;;
*) usage ;;
esac
dir=$2
pidf=$dir/mongo.pid
. "$(dirname "$0")/svc.sh"
case $1 in
stop) svc_stop; exit 0 ;;
status) svc_pid >/dev/null; exit ;;
esac

if p=$(svc_pid); then
	say "already running (pid $p)"
	cat "$dir/port"
	exit 0
fi
for v in MONGO_CERT MONGO_KEY MONGO_USER MONGO_PASSWORD; do
	eval "[ -n \"\${$v:-}\" ]" || { say "$v is not set"; exit 2; }
done
install
mkdir -p "$dir"
rm -f "$dir/port"
export MONGO_CERT MONGO_KEY MONGO_USER MONGO_PASSWORD
svc_start "$dir/mongo.log" node "$src/server.mjs" "$home" "$dir/port"
if svc_wait 200 test -s "$dir/port"; then
	cat "$dir/port"
	exit 0
fi
svc_stop
say "the server did not start; its log:"
cat "$dir/mongo.log" >&2
exit 1
