#!/bin/sh
# The MongoDB index with two submitting machines (two XT_HOMEs) on one
# store and one database: both sets of runs reach it, none lost. A wrong
# password, a certificate of a CA not trusted and a host that does not
# answer each get a clear message without the password, and leave the
# runs and the outbox unharmed.
mcache=${XDG_CACHE_HOME:-$HOME/.cache}
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/mongo.sh"
mongo_need

t_ok "the server answers (TLS, SCRAM-SHA-256)" mongo_shared
export XT_INDEX="$murl" XT_INDEX_PASSWORD="$mpass"
mkdir code
echo 'echo "{\"event\":\"metrics\",\"step\":1,\"data\":{\"acc\":$1}}" >>"$XT_LOG"' >code/train.sh

# two machines: two XT_HOMEs, one store, one database
for m in a b; do
	mkdir -p "$T/home-$m"
	for i in 1 2 3; do
		XT_HOME="$T/home-$m" xt-submit -C code -e "exp-$m" -- sh train.sh 0.$i >/dev/null
	done
	t_run env XT_HOME="$T/home-$m" xt-runq
	t_status 0 "machine $m runs its three runs"
done
# the drain's sender sends each outbox, the last of it once the drain ends
# outbox_empty HOME: true once no line waits there (asked again and again)
outbox_empty() {
	for i in $(seq 300); do
		[ -z "$(cat "$1"/outbox/*/pending.jsonl "$1"/outbox/*/seg-*.jsonl 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}
for m in a b; do
	t_ok "machine $m's drain sent its outbox, without a flush asked" outbox_empty "$T/home-$m"
	t_run env XT_HOME="$T/home-$m" xt-report --index-flush
	t_ok "... nothing left to send" grep -q '^index: 0 records sent, outbox empty' "$T/out"
done
mongo_dump runs
t_ok "the database holds the six runs" test "$(grep -c '"status" : "completed"' "$T/out")" -eq 6
t_ok "three of each machine" test "$(grep -c '"exp" : "exp-a"' "$T/out")" -eq 3 -a "$(grep -c '"exp" : "exp-b"' "$T/out")" -eq 3
t_ok "no run twice" test "$(grep -o '"run" : "run[0-9]*"' "$T/out" | sort -u | wc -l)" -eq 6

# faults: the run goes on; the outbox keeps its record; the message is clear
nopw() { sh -c "! grep -q -- '$mpass' '$T/out' '$T/err'"; }
fault() { # what URL message
	XT_INDEX=$2 xt-submit -C code -e fault -- sh train.sh 0.9 >/dev/null
	t_run env XT_INDEX="$2" xt-runq
	t_status 0 "$1: the run is not harmed"
	t_run env XT_INDEX="$2" xt-report --index-flush
	t_status 1 "$1: --index-flush fails"
	t_err_has "$3" "$1: says why"
	t_ok "$1: names the index without the password" grep -q "^xt-report: index mongodb://$muser@" "$T/err"
	t_ok "$1: no password in any message" nopw
	t_run env XT_INDEX="$2" xt-report --index-status
	t_status 1 "$1: --index-status says it does not answer"
	t_ok "$1: the outbox keeps the run's changes" grep -q '^outbox: 3 records in ' "$T/out"
	t_ok "$1: no password there either" nopw
}
tls="authSource=admin&tls=true"
fault "a wrong password" "mongodb://$muser:wrong-$mpass@localhost:$mport/t$$?$tls&tlsCAFile=$T/ca.pem" \
    "Authentication failed."
unset XT_INDEX_PASSWORD
fault "an untrusted certificate" "mongodb://$muser:$mpass@localhost:$mport/t$$?$tls&tlsCAFile=$T/bad.pem" \
    "TLS handshake failed"
fault "a host that does not answer" "mongodb://$muser:$mpass@localhost:1/t$$?$tls&tlsCAFile=$T/ca.pem" \
    "No suitable servers found"
t_run xt-report -e fault -c run,status --index store
cat >want <<'EOS'
run   status
run7  completed
run8  completed
run9  completed
EOS
t_out_is want "the three runs completed"
t_done
