#!/bin/sh
# b-azure: xt-put and xt-get on az:// (Azurite) against Microsoft's client
# library and against curl (issue 12).
#   bench/b-azure.sh BINDIR
#
# The issue-2 tree (bench/b-putget.sh: many small files of 4-16 KB and a
# few large ones; smaller by default here, Azurite keeps it in memory),
# side by side in one run on one Azurite:
#  1. many small files, up and down: xt (-P default) against the SDK
#     (@azure/storage-blob's uploadFile/downloadToFile, its defaults, file
#     after file) and curl (one PUT or GET per file, one connection);
#     goal: 2x the SDK's throughput
#  2. the large files, up and down: goal: at least the SDK's throughput
#  3. xt-put -u of the unchanged tree against a fresh put: goal >= 10x
#  4. start-up of xt-get -l on az:// against the folder store's plus one
#     round trip (curl's time of one GET): goal: within 2x, for the release
#     tools of make static (build-static/bin, which must exist); BINDIR's
#     are shown beside them
# A peer that cannot run (node, npm, the library, curl, Azurite) fails the
# benchmark. Table on stdout, JSON in bench/out/results-azure.json.
#
# Environment: BENCH_AZURE_ENDPOINT (or XT_TEST_AZURE_ENDPOINT) uses a
# running Azurite, else one is started (scripts/azurite-up.sh) and stopped
# by its PID. BENCH_RUNS (1), BENCH_FILES (2000), BENCH_BIG (2),
# BENCH_BIG_MB (64), BENCH_STARTUP_RUNS (20).
set -u
export LC_ALL=C TZ=UTC
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

[ $# -eq 1 ] && [ -x "$1/xt-put" ] && [ -x "$1/xt-get" ] ||
    bench_usage "bench/b-azure.sh BINDIR   (BINDIR holds xt-put and xt-get)"
bench_init b-azure "$1"
OUT=$(mkdir -p "$here/out" && cd "$here/out" && pwd)
RUNS=${BENCH_RUNS:-1}
NFILES=${BENCH_FILES:-2000}
NBIG=${BENCH_BIG:-2}
BIGMB=${BENCH_BIG_MB:-64}
SRUNS=${BENCH_STARTUP_RUNS:-20}
# the newest release that speaks an API version the Azurite of scripts/azurite-up.sh
# (3.35.0, strict) knows: 2025-11-05 (12.30.0 speaks 2026-02-06)
SDKV=12.29.1
SDK=${XDG_CACHE_HOME:-$HOME/.cache}/xt-bench/storage-blob-$SDKV
JSON=$OUT/results-azure.json
ROWS=$tmp/rows.json
: >"$ROWS"
acct=devstoreaccount1
# the emulator's published key (Azurite's documentation), not a secret
key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==

command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are needed (the SDK's peer)"
command -v curl >/dev/null || fail "curl is needed (a peer)"
command -v python3 >/dev/null || fail "python3 is needed (the SAS of curl's peer)"

# the SDK, installed once into a cache folder as scripts/azurite-up.sh installs Azurite
if [ ! -f "$SDK/.done" ]; then
	echo "installing @azure/storage-blob@$SDKV into $SDK" >&2
	rm -rf "$SDK" && mkdir -p "$SDK" || fail "cannot create '$SDK'"
	echo '{"name":"xt-bench-sdk","private":true}' >"$SDK/package.json"
	(cd "$SDK" && npm install --no-audit --no-fund --loglevel=error --cache "$SDK/.npm" \
	    "@azure/storage-blob@$SDKV" >&2) || fail "cannot install @azure/storage-blob@$SDKV with npm"
	rm -rf "$SDK/.npm"
	: >"$SDK/.done"
fi
export NODE_PATH="$SDK/node_modules"

ep=${BENCH_AZURE_ENDPOINT:-${XT_TEST_AZURE_ENDPOINT:-}}
if [ -z "$ep" ]; then
	ep=$("$root/scripts/azurite-up.sh" start "$tmp/azurite") || fail "cannot start Azurite"
	trap '"$root/scripts/azurite-up.sh" stop "$tmp/azurite"; rm -rf "$tmp"' EXIT
	# a Ctrl-C or a kill exits through the EXIT trap, which stops the servers
	trap 'exit 130' INT
	trap 'exit 143' TERM
fi
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN XT_AZURE_BLOCK XT_WORKSPACE XT_EXPERIMENT
export XT_HOME="$tmp/home" XT_CONFIG="$tmp/home/config.yaml"
mkdir -p "$XT_HOME"
# an account SAS of the emulator's key, for curl
sas=$(python3 - "$key" <<'PY'
import base64, hashlib, hmac, sys, urllib.parse
key = sys.argv[1]
sv, sp, se = "2023-11-03", "rwdlac", "2099-01-01T00:00:00Z"
sts = "\n".join(["devstoreaccount1", sp, "b", "sco", "", se, "", "", sv, ""]) + "\n"
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
q = [("sv", sv), ("ss", "b"), ("srt", "sco"), ("sp", sp), ("se", se), ("sig", sig)]
print("&".join(k + "=" + urllib.parse.quote(v, safe="") for k, v in q))
PY
) || fail "cannot make a SAS"
run=b$$
cont_url() { echo "$ep/$1?restype=container&$sas"; }
# drop CONTAINER: delete it (Azurite keeps everything in memory)
drop() { curl -s -o /dev/null -X DELETE -H "x-ms-version: 2023-11-03" "$(cont_url "$1")"; }
mkcont() {
	code=$(curl -s -o "$tmp/curl.err" -w '%{http_code}' -X PUT -H "x-ms-version: 2023-11-03" \
	    -H "Content-Length: 0" "$(cont_url "$1")") || fail "curl cannot reach '$ep'"
	[ "$code" = 201 ] || [ "$code" = 409 ] || fail "cannot make container '$1' (HTTP $code): $(head -c 300 "$tmp/curl.err")"
}

# the table: bench/lib.sh row and header, with wider peer names
ROW_NAME_W=34
ROW_PEER_W=16
# timed CMD...: elapsed ns in $ns; dies when CMD fails
timed() {
	t0=$(date +%s%N)
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null || fail "'$*' failed: $(head -c 300 "$tmp/err")"
	t1=$(date +%s%N)
	ns=$((t1 - t0))
}
count_tree() {
	find "$1" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%.0f %.0f\n", n, b }'
}

# ---- the tree (b-putget.sh's generator, its seed) --------------------------
TREE=$tmp/tree
perl "$here/gentree.pl" "$TREE" "$NFILES" "$NBIG" "$BIGMB" || fail "cannot generate the tree"
# the hash cache ignores files modified in the last 2 s
sleep 3
read -r SFILES SBYTES <<EOF2
$(count_tree "$TREE/small")
EOF2
read -r BFILES BBYTES <<EOF2
$(count_tree "$TREE/big")
EOF2

# same DIR PART: DIR holds what the tree's PART does
same() {
	cmp_a=$(count_tree "$1")
	cmp_b=$(count_tree "$TREE/$2")
	[ "$cmp_a" = "$cmp_b" ] || fail "'$1' has $cmp_a (files bytes), the tree's $2 $cmp_b"
}
# curl_cfg up|down CONTAINER PART DIR: a curl config, one transfer per file
curl_cfg() {
	if [ "$1" = up ]; then
		(cd "$TREE/$3" && find . -type f | sed 's|^\./||' | sort) | while read -r f; do
			printf 'upload-file = "%s/%s"\nurl = "%s/%s/%s/%s?%s"\n' "$TREE/$3" "$f" "$ep" "$2" "$3" "$f" "$sas"
		done
	else
		(cd "$TREE/$3" && find . -type f | sed 's|^\./||' | sort) | while read -r f; do
			printf 'output = "%s/%s"\nurl = "%s/%s/%s/%s?%s"\n' "$4" "$f" "$ep" "$2" "$3" "$f" "$sas"
		done
	fi
}

# one part (small or big), every peer, up and down; times into PART_TOOL_up/down lists
measure() {
	part=$1
	i=0
	while [ $i -lt "$RUNS" ]; do
		c=$run-$part-$i
		mkcont "$c-curl"
		curl_cfg up "$c-curl" "$part" >"$tmp/up.cfg"
		timed curl -s -f --create-dirs -H "x-ms-blob-type: BlockBlob" -H "x-ms-version: 2023-11-03" -K "$tmp/up.cfg"
		eval "${part}_curl_up=\"\${${part}_curl_up:-} $ns\""
		curl_cfg down "$c-curl" "$part" "$tmp/down" >"$tmp/down.cfg"
		timed curl -s -f --create-dirs -H "x-ms-version: 2023-11-03" -K "$tmp/down.cfg"
		eval "${part}_curl_down=\"\${${part}_curl_down:-} $ns\""
		same "$tmp/down" "$part"
		rm -rf "$tmp/down"
		drop "$c-curl"

		timed node "$here/azure-sdk.js" up "$c-sdk" "$TREE/$part" "$part"
		eval "${part}_sdk_up=\"\${${part}_sdk_up:-} $ns\""
		timed node "$here/azure-sdk.js" down "$c-sdk" "$part" "$tmp/down"
		eval "${part}_sdk_down=\"\${${part}_sdk_down:-} $ns\""
		same "$tmp/down" "$part"
		rm -rf "$tmp/down"
		drop "$c-sdk"

		timed "$bin/xt-put" -q -s "az://$acct/$c-xt" "$TREE/$part" ":$part"
		eval "${part}_xt_up=\"\${${part}_xt_up:-} $ns\""
		timed "$bin/xt-get" -q -s "az://$acct/$c-xt" ":$part" "$tmp/down"
		eval "${part}_xt_down=\"\${${part}_xt_down:-} $ns\""
		same "$tmp/down" "$part"
		rm -rf "$tmp/down"
		drop "$c-xt"
		i=$((i + 1))
	done
}
mbs() { calc "$1 / 1e6 / ($2 / 1e9)"; }
measure small
measure big

echo "xt-put/xt-get on az:// (Azurite) against @azure/storage-blob $SDKV and curl (issue 12)   $(date '+%Y-%m-%d %H:%M') UTC, $(uname -n), $(nproc) cpus"
echo "tree: $SFILES small files ($(calc "$SBYTES / 1e6") MB), $BFILES large ($(calc "$BBYTES / 1e6") MB); median of $RUNS runs; Azurite at $ep"
echo "xt: its default -P $(grep -o 'XFER_REMOTE_DEFAULT [0-9]*' "$root/lib/xfer.h" | cut -d' ' -f2); SDK: file after file, its default parallelism per file; curl: one connection, one request per file"
for part in small big; do
	eval "bytes=\$$(echo "$part" | tr sb SB | cut -c1)BYTES"
	header "$part files (MB/s)"
	for dir in up down; do
		eval "x=\$(echo \"\$${part}_xt_$dir\" | median); s=\$(echo \"\$${part}_sdk_$dir\" | median); c=\$(echo \"\$${part}_curl_$dir\" | median)"
		if [ "$part" = small ]; then goal=2; else goal=1; fi
		verb=xt-put
		[ "$dir" = down ] && verb=xt-get
		row "$part" "$verb $part" "$(mbs "$bytes" "$x")" MB/s "storage-blob" "$(mbs "$bytes" "$s")" \
		    "$(calc "$s / $x")" ">=" "$goal" "ratio: xt MB/s over the SDK's"
		row "$part" "$verb $part" "$(mbs "$bytes" "$x")" MB/s "curl" "$(mbs "$bytes" "$c")" \
		    "$(calc "$c / $x")" "" "" "one connection, in a row"
	done
done

# ---- xt-put -u of the unchanged tree ----------------------------------------
c=$run-u
timed "$bin/xt-put" -q -s "az://$acct/$c" "$TREE" :tree
fresh_ns=$ns
timed "$bin/xt-put" -u -q -s "az://$acct/$c" "$TREE" :tree
upd_t=""
i=0
while [ $i -lt "$RUNS" ]; do
	timed "$bin/xt-put" -u -q -s "az://$acct/$c" "$TREE" :tree
	n=$(grep -c '"action":"skipped"' "$tmp/out")
	[ "$n" -eq $((SFILES + BFILES)) ] || fail "xt-put -u skipped $n of $((SFILES + BFILES)) files of the unchanged tree"
	upd_t="$upd_t $ns"
	i=$((i + 1))
done
upd=$(echo "$upd_t" | median)
header "update of the unchanged tree (s)"
row update "xt-put -u TREE" "$(calc "$upd / 1e9")" s "fresh xt-put" "$(calc "$fresh_ns / 1e9")" \
    "$(calc "$fresh_ns / $upd")" ">=" 10 "ratio: times faster"

# ---- start-up of xt-get -l ---------------------------------------------------
"$bin/xt-put" -q -s "$tmp/store" "$TREE/small/d00/e0/f00000.dat" :x >/dev/null || fail "cannot make a folder store"
loop_ms() {	# CMD...: mean ms of SRUNS runs
	j=0
	t0=$(date +%s%N)
	while [ $j -lt "$SRUNS" ]; do
		"$@" >/dev/null 2>"$tmp/err" </dev/null || fail "'$*' failed: $(head -c 300 "$tmp/err")"
		j=$((j + 1))
	done
	t1=$(date +%s%N)
	calc "($t1 - $t0) / $SRUNS / 1e6"
}
az_ms=$(loop_ms "$bin/xt-get" -l -s "az://$acct/$c" nonexistent-prefix)
fs_ms=$(loop_ms "$bin/xt-get" -l -s "$tmp/store" nonexistent-prefix)
rtt_t=""
j=0
while [ $j -lt "$SRUNS" ]; do
	t=$(curl -s -o /dev/null -w '%{time_total}' "$ep/$c/xt-store.json?$sas") || fail "curl cannot GET xt-store.json"
	rtt_t="$rtt_t $(calc "$t * 1e6")"
	j=$((j + 1))
done
rtt_ms=$(calc "$(echo "$rtt_t" | median) / 1e3")
base=$(calc "$fs_ms + $rtt_ms")
header "start-up of xt-get -l (ms per run)"
# The goal is judged on the release build (make static, what make dist and
# the ssh target ship), which links its own libcurl; the dynamic build of
# BINDIR loads Debian's libcurl and its ~30 libraries on first use of an
# az:// store, and is shown beside it
sbin=$root/build-static/bin
[ -x "$sbin/xt-get" ] || fail "no $sbin/xt-get: make static builds the release tools (make bench does)"
"$sbin/xt-get" -l -s "az://$acct/$c" nonexistent-prefix >/dev/null 2>"$tmp/err" ||
    fail "$sbin/xt-get cannot list az://: $(head -c 300 "$tmp/err")"
saz_ms=$(loop_ms "$sbin/xt-get" -l -s "az://$acct/$c" nonexistent-prefix)
sfs_ms=$(loop_ms "$sbin/xt-get" -l -s "$tmp/store" nonexistent-prefix)
sbase=$(calc "$sfs_ms + $rtt_ms")
row startup "xt-get -l on az:// (make static)" "$saz_ms" ms "folder + 1 RTT" "$sbase" \
    "$(calc "$saz_ms / $sbase")" "<=" 2 "folder $sfs_ms ms, RTT $rtt_ms ms (curl, median)"
row startup "xt-get -l on az:// ($(basename "$(dirname "$bin")")/bin)" "$az_ms" ms "folder + 1 RTT" "$base" \
    "$(calc "$az_ms / $base")" "" "" "dynamic: loads libcurl; folder $fs_ms ms"
drop "$c"

{
	printf '{"bench":"azure","issue":12,"date":"%s","host":"%s","cpus":%s,"bin":"%s","sdk":"@azure/storage-blob@%s",\n' \
	    "$(date '+%Y-%m-%dT%H:%M:%SZ')" "$(uname -n)" "$(nproc)" "$bin" "$SDKV"
	printf ' "tree":{"small_files":%s,"small_bytes":%s,"big_files":%s,"big_bytes":%s},"runs":%s,\n' \
	    "$SFILES" "$SBYTES" "$BFILES" "$BBYTES" "$RUNS"
} >"$tmp/json.head" || fail "cannot write '$tmp/json.head'"
json_write "$JSON" "$tmp/json.head"
echo
echo "ratio: MB/s xt over the peer's; update: times faster; start-up: xt over the folder store plus a round trip (lower is better)"
echo "JSON: $JSON"
