#!/bin/sh
# b-mongo: the MongoDB run index (issue 15): xt's bulk upserts against one
# upsert per record through libmongoc, and xt-report's query pushed down
# to the database against fetching every record.
#   bench/b-mongo.sh BINDIR
#
# The project's MongoDB wire-protocol test server (scripts/mongo-up.sh:
# CongoDB behind TLS and SCRAM-SHA-256, a test CA of tests/https.sh),
# started in the temporary folder and stopped by its PID at the end.
# N run records of one workspace (awk, deterministic: 3 learning rates,
# every 9th run failed, metrics.acc taking 1000 values, each N/1000
# times). Side by side in one run:
#  1. upserts, each round into a fresh database:
#       xt   xt-report --reindex of a store whose ws1 index holds the N
#            records: folded, then bulk operations of 1000 replace-ones
#            by {ws, run} with upsert
#       one  build/helper/mongo-one (tests/helper/mongo-one.c): the same
#            lines, one replace_one by {ws, run} with upsert per record,
#            one round trip each, after making the index {ws, run}
#     Both databases must then hold the same documents (mongo-dump);
#     they are dropped before the next round. Goal: xt at least 20x the
#     records/s of one at a time.
#  2. with the N records in one database (reindexed once, before the
#     rounds, its time shown), xt-report -c run,metrics.acc --where
#     'status = completed' --sort -metrics.acc --first 10 by default
#     (the filter and projection done by the database) against
#     XT_INDEX_PUSHDOWN=none (every record of the workspace fetched, xt
#     filters and sorts), and =sort (the sort cut short by the database
#     too) for information. The outputs must be identical, and the
#     store's index's. Goal: the pushdown ahead (none/pushdown > 1).
# The test server is not mongod: CongoDB runs each query by filtering
# every document of the collection in JavaScript, with no index, so the
# sort's cut (two more queries, each a whole scan, and a sort) costs it
# more than it saves; scripts/mongo/server.mjs looks xt's upsert keys up
# in a map, where CongoDB scanned the collection for each.
# ROUNDS rounds of each, interleaved (the order turns each round); the
# median counts. A missing peer (mongo-one, mongo-dump: make builds
# them) or server (node, npm, openssl) fails the benchmark. Table on
# stdout, JSON in bench/out/results-mongo.json.
#
# Environment: BENCH_NRUNS (N, 100000), BENCH_ROUNDS (3),
# BENCH_QUERY_ROUNDS (the queries' rounds, 5); XDG_CACHE_HOME as for
# scripts/mongo-up.sh (its npm install).
set -u
export LC_ALL=C TZ=UTC
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

[ $# -eq 1 ] && [ -x "$1/xt-report" ] && [ -x "$1/xt-put" ] ||
    bench_usage "bench/b-mongo.sh BINDIR   (BINDIR holds xt-report and xt-put)"
bench_init b-mongo "$1"
OUT=$(mkdir -p "$here/out" && cd "$here/out" && pwd)
N=${BENCH_NRUNS:-100000}
R=${BENCH_ROUNDS:-3}
Q=${BENCH_QUERY_ROUNDS:-5}
case $N$R$Q in *[!0-9]*) fail "BENCH_NRUNS, BENCH_ROUNDS and BENCH_QUERY_ROUNDS must be whole numbers" ;; esac
[ "$N" -gt 0 ] && [ "$R" -gt 0 ] && [ "$Q" -gt 0 ] ||
    fail "BENCH_NRUNS, BENCH_ROUNDS and BENCH_QUERY_ROUNDS must be > 0"
JSON=$OUT/results-mongo.json
ROWS=$tmp/rows.json
: >"$ROWS"
ROW_NAME_W=30
ROW_PEER_W=18

one=$(cd "$bin/.." && pwd)/helper/mongo-one
dump=$(cd "$bin/.." && pwd)/helper/mongo-dump
[ -x "$one" ] || fail "the peer '$one' is missing: make builds it (tests/helper/mongo-one.c)"
[ -x "$dump" ] || fail "'$dump' is missing: make builds it (tests/helper/mongo-dump.c)"
command -v node >/dev/null && command -v npm >/dev/null ||
    fail "node and npm are needed (the test server): scripts/deps.sh static installs them"
command -v openssl >/dev/null || fail "openssl is needed (the test CA)"
mongov=$(pkg-config --modversion libmongoc-1.0 2>/dev/null || echo unknown)

# ---- the server ---------------------------------------------------------------
up=$root/scripts/mongo-up.sh
tdir=$root/tests
. "$tdir/https.sh"
mkdir -p "$tmp/ca"
(cd "$tmp/ca" && make_certs) || fail "cannot make the test CA (openssl)"
# stop the server by its PID; a failure shows the end of its log (a
# server that died says why there)
cleanup() {
	rc=$?
	if [ "$rc" -ne 0 ] && [ -s "$tmp/mongo/mongo.log" ]; then
		echo "b-mongo: the end of the server's log:" >&2
		tail -n 5 "$tmp/mongo/mongo.log" >&2
	fi
	"$up" stop "$tmp/mongo" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
user=xt-bench
pass=pw-$$-bench
port=$(env XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}" MONGO_CERT="$tmp/ca/srv.pem" \
    MONGO_KEY="$tmp/ca/srv.key" MONGO_USER=$user MONGO_PASSWORD=$pass "$up" start "$tmp/mongo" \
    2>"$tmp/why") || fail "the MongoDB test server does not start: $(tail -n 3 "$tmp/why" | tr '\n' ' ')"
# url DB: the index's URI with the database DB
url() { echo "mongodb://$user@localhost:$port/$1?authSource=admin&tls=true&tlsCAFile=$tmp/ca/ca.pem"; }
export XT_INDEX_PASSWORD=$pass
unset XT_INDEX XT_INDEX_PUSHDOWN XT_WORKSPACE XT_EXPERIMENT XT_CONFIG XDG_CONFIG_HOME

# ---- the store and its records ------------------------------------------------------
export XT_HOME="$tmp/home" HOME="$tmp/home" XT_STORE="$tmp/store"
mkdir -p "$XT_HOME"
echo x | "$bin/xt-put" -a @share/x >/dev/null 2>"$tmp/err" || fail "cannot make the store: $(head -c 300 "$tmp/err")"
awk -v n="$N" 'BEGIN {
	split("0.1 0.01 0.001", lr, " ")
	for (i = 1; i <= n; i++)
		printf "{\"ws\":\"ws1\",\"run\":\"run%d\",\"job\":\"job%d\",\"status\":\"%s\",\"hparams\":{\"lr\":%s},\"metrics\":{\"acc\":%.3f,\"loss\":%.2f}}\n",
		    i, int((i - 1) / 100) + 1, i % 9 ? "completed" : "failed", lr[1 + i % 3], (i * 7919 % 1000) / 1000, (i % 89) / 40
}' >"$tmp/runs.jsonl" || fail "cannot write '$tmp/runs.jsonl'"
mkdir -p "$XT_STORE/ws/ws1/index"
cp "$tmp/runs.jsonl" "$XT_STORE/ws/ws1/index/runs.jsonl" || fail "cannot write the store's index"

now() { date +%s%N; }
# timed WHAT CMD...: elapsed ns in $ns, stdout in $tmp/out; dies when CMD fails
timed() {
	what=$1
	shift
	t0=$(now)
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null || fail "$what failed (exit $?): $(head -c 500 "$tmp/err")"
	t1=$(now)
	ns=$((t1 - t0))
}
# reindex DB: xt-report --reindex into the database DB; ns in $ns
reindex() {
	timed "xt-report --reindex" env XT_INDEX="$(url "$1")" "$bin/xt-report" --reindex
	grep -q "^reindex: $N runs of 1 workspaces upserted" "$tmp/out" ||
	    fail "xt-report --reindex said: $(head -c 300 "$tmp/out")"
}
# peer DB: mongo-one into the database DB; ns in $ns
peer() {
	t0=$(now)
	"$one" "$(url "$1")" <"$tmp/runs.jsonl" >"$tmp/out" 2>"$tmp/err" ||
	    fail "mongo-one failed (exit $?): $(head -c 500 "$tmp/err")"
	t1=$(now)
	ns=$((t1 - t0))
	grep -q "^$N upserted" "$tmp/out" || fail "mongo-one said: $(head -c 300 "$tmp/out")"
}
# dumped DB FILE: the documents of the database DB's "runs", sorted, into FILE
dumped() {
	"$dump" "$(url "$1")" runs >"$2" 2>"$tmp/err" || fail "mongo-dump of '$1' failed: $(head -c 300 "$2" "$tmp/err")"
	n=$(wc -l <"$2")
	[ "$n" -eq "$N" ] || fail "database '$1' holds $n runs, not $N"
}
drop() { "$one" -d "$(url "$1")" 2>"$tmp/err" || fail "cannot drop database '$1': $(head -c 300 "$tmp/err")"; }

# ---- the query's database, reindexed once (it warms the server up) ---------------
qdb=q$$
reindex "$qdb"
once_ns=$ns

# ---- 1. upserts: ROUNDS rounds, interleaved --------------------------------------------
side_xt() { reindex "x$$r$1"; }
side_one() { peer "o$$r$1"; }
: >"$tmp/times"
r=1
while [ "$r" -le "$R" ]; do
	order="xt one"
	[ $((r % 2)) -eq 0 ] && order="one xt"
	for s in $order; do
		"side_$s" "$r"
		echo "$s $r $ns" >>"$tmp/times"
	done
	dumped "x$$r$r" "$tmp/dump.xt"
	dumped "o$$r$r" "$tmp/dump.one"
	cmp -s "$tmp/dump.xt" "$tmp/dump.one" ||
	    fail "round $r: xt's and mongo-one's databases differ: $(diff "$tmp/dump.xt" "$tmp/dump.one" | head -n 4 | tr '\n' ' ')"
	drop "x$$r$r"
	drop "o$$r$r"
	r=$((r + 1))
done

# ---- 2. the query: QUERY_ROUNDS rounds, interleaved --------------------------------------
# report INDEX HOW: the report from INDEX (a URI, or "store"),
# XT_INDEX_PUSHDOWN=HOW ("" the default)
qargs="-c run,metrics.acc --where 'status = completed' --sort -metrics.acc --first 10"
report() {
	XT_INDEX=$1 XT_INDEX_PUSHDOWN=$2 "$bin/xt-report" -c run,metrics.acc --where 'status = completed' \
	    --sort -metrics.acc --first 10
}
# query HOW: the report from the query's database; ns in $ns, the report in
# $tmp/q.HOW (q.pushdown for the default)
query() {
	timed "xt-report (XT_INDEX_PUSHDOWN=$1)" report "$(url "$qdb")" "$1"
	grep -q 'store' "$tmp/err" && fail "xt-report (XT_INDEX_PUSHDOWN=$1) read the store's index: $(head -c 300 "$tmp/err")"
	mv "$tmp/out" "$tmp/q.${1:-pushdown}"
}
timed "xt-report --index store" report store ""
mv "$tmp/out" "$tmp/q.store"
[ "$(wc -l <"$tmp/q.store")" -eq 11 ] || fail "the store's report is not 10 rows: $(head -c 300 "$tmp/q.store")"
: >"$tmp/qtimes"
r=1
while [ "$r" -le "$Q" ]; do
	order=$(echo "pushdown sort none" | awk -v k="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + k - 1) % NF + 1) }')
	for s in $order; do
		how=$s
		[ "$s" = pushdown ] && how=""
		query "$how"
		cmp -s "$tmp/q.$s" "$tmp/q.store" ||
		    fail "XT_INDEX_PUSHDOWN=$how: the report is not the store's index's: $(diff "$tmp/q.store" "$tmp/q.$s" | head -n 4 | tr '\n' ' ')"
		echo "$s $r $ns" >>"$tmp/qtimes"
	done
	r=$((r + 1))
done

# ---- the table ---------------------------------------------------------------------
med() { awk -v s="$2" '$1 == s { print $3 }' "$1" | median; }
each() { awk -v s="$2" -v d="$3" '$1 == s { printf " %.3f", $3 / d }' "$1"; }
xt_ns=$(med "$tmp/times" xt)
one_ns=$(med "$tmp/times" one)
xt_rps=$(calc "$N / ($xt_ns / 1e9)")
one_rps=$(calc "$N / ($one_ns / 1e9)")
pd_ms=$(calc "$(med "$tmp/qtimes" pushdown) / 1e6")
fi_ms=$(calc "$(med "$tmp/qtimes" sort) / 1e6")
no_ms=$(calc "$(med "$tmp/qtimes" none) / 1e6")

echo "the MongoDB run index against one upsert at a time and a fetch of every record (issue 15)   $(date '+%Y-%m-%d %H:%M') UTC, $(uname -n), $(nproc) cpus"
echo "server: scripts/mongo-up.sh (CongoDB of @push.rocks/smartmongo 2.2.0, TLS, SCRAM-SHA-256) on port $port; libmongoc $mongov"
echo "$N run records of one workspace; upserts: median of $R rounds, queries: of $Q, interleaved; each round a fresh database"
echo "reindexed once for the queries, not in the table: $(calc "$once_ns / 1e9") s"
echo "each round, s: xt$(each "$tmp/times" xt 1e9); mongo-one$(each "$tmp/times" one 1e9)"
echo "each round, ms: pushdown$(each "$tmp/qtimes" pushdown 1e6); sort$(each "$tmp/qtimes" sort 1e6); none$(each "$tmp/qtimes" none 1e6)"
header "$N upserts (records/s)"
row upsert "xt-report --reindex" "$xt_rps" rec/s "mongo-one" "$one_rps" "$(calc "$xt_rps / $one_rps")" ">=" 20 \
    "ratio: xt's records/s over one replace_one a record"
header "report from the index (ms)"
row query "xt-report ... --first 10" "$pd_ms" ms "PUSHDOWN=none" "$no_ms" "$(calc "$no_ms / $pd_ms")" ">=" 1 \
    "ratio: fetch-all's time over the pushdown's"
row query "xt-report ... --first 10" "$pd_ms" ms "PUSHDOWN=sort" "$fi_ms" "$(calc "$fi_ms / $pd_ms")" "" "" \
    "the sort cut short by the database too"

{
	printf '{"bench":"mongo","issue":15,"date":"%s","host":"%s","cpus":%s,"bin":"%s","libmongoc":"%s",\n' \
	    "$(date '+%Y-%m-%dT%H:%M:%SZ')" "$(uname -n)" "$(nproc)" "$bin" "$mongov"
	printf ' "server":"CongoDB (@push.rocks/smartmongo 2.2.0), scripts/mongo-up.sh","records":%s,"rounds":%s,"query_rounds":%s,\n' \
	    "$N" "$R" "$Q"
	printf ' "query":"xt-report %s","reindex_once_s":%s,\n' "$(echo "$qargs" | sed 's/"/\\"/g')" "$(calc "$once_ns / 1e9")"
	printf ' "rounds_s":{"xt":[%s],"one":[%s]},\n' \
	    "$(each "$tmp/times" xt 1e9 | sed 's/^ //; s/ /,/g')" "$(each "$tmp/times" one 1e9 | sed 's/^ //; s/ /,/g')"
	printf ' "rounds_ms":{"pushdown":[%s],"sort":[%s],"none":[%s]},\n' \
	    "$(each "$tmp/qtimes" pushdown 1e6 | sed 's/^ //; s/ /,/g')" "$(each "$tmp/qtimes" sort 1e6 | sed 's/^ //; s/ /,/g')" \
	    "$(each "$tmp/qtimes" none 1e6 | sed 's/^ //; s/ /,/g')"
} >"$tmp/json.head" || fail "cannot write '$tmp/json.head'"
json_write "$JSON" "$tmp/json.head"
echo
echo "ratio: upserts, xt's records/s over mongo-one's (higher: batching ahead); report, the fetch-all's time over the pushdown's (higher: pushdown ahead)"
echo "JSON: $JSON"
