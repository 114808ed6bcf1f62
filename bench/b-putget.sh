#!/bin/sh
# b-putget: xt-put and xt-get against their Unix peers (issue 2).
#   bench/b-putget.sh BINDIR
#
#  1. start-up of every tool in BINDIR against /bin/true (goal: within 2x)
#  2. put and get of a 1 GB tree against cp -r (goal: >= 0.90 of cp's MB/s)
#  3. put -u of the unchanged tree against the first put (goal: >= 10x faster)
#
# The page cache is left warm on both sides: each command runs once as a
# warm-up, then BENCH_RUNS times; the median counts. Dirty pages are
# flushed between runs, outside the timing, so that no run pays for the
# previous one's writes. Table on stdout, JSON in bench/out/results-putget.json,
# hyperfine's own export in bench/out/startup-putget.json.
#
# Environment: BENCH_KEEP=1 keeps the generated tree (bench/out/tree) for
# the next run. For quick trials: BENCH_RUNS (3), BENCH_STARTUP_RUNS (300),
# BENCH_FILES (20000 files of 4-16 KB), BENCH_BIG (4), BENCH_BIG_MB (200).
set -u
export LC_ALL=C TZ=UTC

if [ $# -ne 1 ] || [ ! -x "$1/xt-put" ] || [ ! -x "$1/xt-get" ]; then
	echo "usage: bench/b-putget.sh BINDIR   (BINDIR holds xt-put and xt-get)" >&2
	exit 2
fi
SRCBIN=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "$(dirname "$0")/out" && cd "$(dirname "$0")/out" && pwd)
RUNS=${BENCH_RUNS:-3}
SRUNS=${BENCH_STARTUP_RUNS:-300}
NFILES=${BENCH_FILES:-20000}
NBIG=${BENCH_BIG:-4}
BIGMB=${BENCH_BIG_MB:-200}
TREE=$OUT/tree
SPEC="files=$NFILES size=4096-16384 big=$NBIG x ${BIGMB}MiB seed=2"
W=$OUT/putget
JSON=$OUT/results-putget.json
ROWS=$W/rows.json

bench_name=b-putget
die() {
	echo "b-putget: $*" >&2
	exit 1
}

cleanup() {
	rm -rf "$W"
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$TREE" "$OUT/tree.spec"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$W"
mkdir -p "$W/home" || die "cannot create '$W'"
export XT_HOME="$W/home" HOME="$W/home" XT_CONFIG="$W/home/config.yaml"
export XT_STORE="$W/store"
unset XT_WORKSPACE XT_EXPERIMENT
cd "$W" || exit 1
: >"$ROWS"
# A private copy of the tools, so that a rebuild meanwhile does not disturb the runs.
mkdir -p "$W/bin"
for t in "$SRCBIN"/xt "$SRCBIN"/xt-*; do
	if [ -f "$t" ] && [ -x "$t" ]; then
		cp "$t" "$W/bin/" || die "cannot copy '$t'"
	fi
done
BIN=$W/bin

. "$here/lib.sh"	# calc, median, row, header

# ---- 1. start-up ----------------------------------------------------------

# Commands that do a small real job; tools without one here are timed on --help.
mkdir -p "$W/small"
echo tiny >"$W/small/tiny"
touch -d '2020-01-01' "$W/small/tiny"
"$BIN/xt-put" -q "$W/small/tiny" :bench/tiny >/dev/null || die "cannot put into the small store"
"$BIN/xt-put" -u -q "$W/small/tiny" :bench/tiny >/dev/null || die "cannot put -u into the small store"
cmd_for() {
	case $1 in
	xt) echo "--help" ;;
	xt-put) echo "-u -q '$W/small/tiny' :bench/tiny" ;;
	xt-get) echo "-l nonexistent-prefix" ;;
	*) echo "--help" ;;
	esac
}
names="true"
cmds="/bin/true"
for t in "$BIN"/xt "$BIN"/xt-*; do
	if [ ! -f "$t" ] || [ ! -x "$t" ]; then
		continue
	fi
	n=$(basename "$t")
	a=$(cmd_for "$n")
	# a real job must succeed; --help may exit 2 and is still a start-up
	eval "'$t' $a" >"$W/out" 2>"$W/err" </dev/null
	rc=$?
	case $a in --help) ;; *) [ $rc -eq 0 ] || die "'$n $a' failed ($rc): $(head -c 300 "$W/err")" ;; esac
	case $n in xt-put) grep -q '"skipped"' "$W/out" || die "'$n $a' did not skip the cached file" ;; esac
	names="$names $n"
	cmds="$cmds
'$t' $a"
done
# the dispatcher's cost on top of the tool it runs
if [ -x "$BIN/xt" ]; then
	names="$names xt_get"
	cmds="$cmds
'$BIN/xt' get -l nonexistent-prefix"
fi

startup_ms() {	# fills $W/means: name<TAB>mean ms, one line per command
	if command -v hyperfine >/dev/null 2>&1; then
		set --
		i=0
		for n in $names; do
			i=$((i + 1))
			c=$(echo "$cmds" | sed -n "${i}p")
			set -- "$@" -n "$n" "$c"
		done
		hyperfine -N -i --style basic --warmup 20 --runs "$SRUNS" \
		    --export-json "$OUT/startup-putget.json" --export-csv "$W/startup.csv" \
		    "$@" >"$W/hyperfine.log" 2>&1 || die "hyperfine failed: $(tail -n 3 "$W/hyperfine.log")"
		tail -n +2 "$W/startup.csv" | awk -F, '{ printf "%s\t%.6f\n", $1, $2 * 1000 }' >"$W/means"
		STARTUP_HOW="hyperfine -N, $SRUNS runs after 20 warm-ups, mean"
	else
		: >"$W/means"
		i=0
		for n in $names; do
			i=$((i + 1))
			c=$(echo "$cmds" | sed -n "${i}p")
			j=0
			t0=$(date +%s%N)
			while [ $j -lt "$SRUNS" ]; do
				eval "$c" >/dev/null 2>&1 </dev/null
				j=$((j + 1))
			done
			t1=$(date +%s%N)
			printf '%s\t%s\n' "$n" "$(calc "($t1 - $t0) / $SRUNS / 1e6")" >>"$W/means"
		done
		STARTUP_HOW="shell loop of $SRUNS runs timed with date, mean (no hyperfine)"
	fi
}
startup_ms

echo "xt put/get against cp and /bin/true (issue 2)   $(date '+%Y-%m-%d %H:%M') UTC, $(uname -n), $(nproc) cpus"
echo "start-up: $STARTUP_HOW"
header "start-up (ms per run)"
tms=$(awk -F'\t' '$1 == "true" { print $2 }' "$W/means")
i=0
for n in $names; do
	i=$((i + 1))
	[ "$n" = true ] && continue
	ms=$(awk -F'\t' -v n="$n" '$1 == n { print $2 }' "$W/means")
	c=$(echo "$cmds" | sed -n "${i}p" | sed "s|'$BIN/||; s|'||g; s|$W/||g")
	case $n in
	xt_get) row startup "xt get -l (dispatch)" "$ms" ms /bin/true "$tms" "$(calc "$ms / $tms")" "" "" \
	    "xt exec()s xt-get: two start-ups" ;;
	*) row startup "$c" "$ms" ms /bin/true "$tms" "$(calc "$ms / $tms")" "<=" 2 "" ;;
	esac
done

# ---- 2. the tree ----------------------------------------------------------

# Kilobytes free where the outputs go; the tree, a store and one copy must fit.
need_kb=$(( (NFILES * 10 + NBIG * BIGMB * 1024) * 3 + 102400 ))
if [ ! -f "$OUT/tree.spec" ] || [ "$(cat "$OUT/tree.spec")" != "$SPEC" ]; then
	rm -rf "$TREE" "$OUT/tree.spec"
	free_kb=$(df -Pk "$OUT" | awk 'NR == 2 { print $4 }')
	[ "$free_kb" -gt "$need_kb" ] || die "need $((need_kb / 1024)) MB free in '$OUT', have $((free_kb / 1024))"
	echo "generating the tree in '$TREE' ($SPEC)" >&2
	perl "$here/gentree.pl" "$TREE" "$NFILES" "$NBIG" "$BIGMB" || die "cannot generate the tree"
	echo "$SPEC" >"$OUT/tree.spec"
	sync
	# the hash cache ignores files modified in the last 2 s
	sleep 3
else
	free_kb=$(df -Pk "$OUT" | awk 'NR == 2 { print $4 }')
	need_kb=$((need_kb * 2 / 3))
	[ "$free_kb" -gt "$need_kb" ] || die "need $((need_kb / 1024)) MB free in '$OUT', have $((free_kb / 1024))"
fi
# count_tree DIR: "FILES BYTES" of the regular files under DIR
count_tree() {
	find "$1" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%.0f %.0f\n", n, b }'
}
read -r FILES BYTES <<EOF
$(count_tree "$TREE")
EOF
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
[ "$FILES" -eq $((NFILES + NBIG)) ] || die "the tree in '$TREE' has $FILES files, not $((NFILES + NBIG))"

# timed CMD...: run CMD once, its stdout in $W/out; elapsed ns in $ns. Dies when it fails.
timed() {
	t0=$(date +%s%N)
	"$@" >"$W/out" 2>"$W/err" </dev/null || die "'$*' failed: $(head -c 300 "$W/err")"
	t1=$(date +%s%N)
	ns=$((t1 - t0))
}

# fresh PATH...: remove earlier outputs and flush dirty pages, outside any timing.
fresh() {
	rm -rf "$@"
	sync
}

cp_sync() {
	cp -r "$1" "$2" && sync
}

# same_tree DIR: DIR holds as many files and bytes as the tree
same_tree() {
	s=$(count_tree "$1")
	[ "$s" = "$FILES $BYTES" ] || die "'$1' has $s (files bytes), the tree $FILES $BYTES"
}

echo
echo "tree: $FILES files, $MB MB ($SPEC); page cache warm; median of $RUNS runs after a warm-up"
put_t=""
cp_t=""
cps_t=""
i=0
while [ $i -le "$RUNS" ]; do
	# run 0 is the warm-up
	fresh "$XT_STORE"
	timed "$BIN/xt-put" -q "$TREE" :bench/tree
	[ $i -gt 0 ] && put_t="$put_t $ns"
	fresh "$W/cp"
	timed cp -r "$TREE" "$W/cp"
	[ $i -gt 0 ] && cp_t="$cp_t $ns"
	fresh "$W/cp"
	timed cp_sync "$TREE" "$W/cp"
	[ $i -gt 0 ] && cps_t="$cps_t $ns"
	rm -rf "$W/cp"
	i=$((i + 1))
done
same_tree "$XT_STORE/bench/tree"

get_t=""
cpg_t=""
i=0
while [ $i -le "$RUNS" ]; do
	fresh "$W/get"
	timed "$BIN/xt-get" -q :bench/tree "$W/get"
	[ $i -gt 0 ] && get_t="$get_t $ns"
	[ $i -eq "$RUNS" ] && same_tree "$W/get"
	fresh "$W/get"
	timed cp -r "$XT_STORE/bench/tree" "$W/get"
	[ $i -gt 0 ] && cpg_t="$cpg_t $ns"
	i=$((i + 1))
done
fresh "$W/get"

mbs() {	# MB/s of the tree in $1 ns
	calc "$BYTES / 1e6 / ($1 / 1e9)"
}
put_m=$(echo "$put_t" | median)
cp_m=$(echo "$cp_t" | median)
cps_m=$(echo "$cps_t" | median)
get_m=$(echo "$get_t" | median)
cpg_m=$(echo "$cpg_t" | median)
header "throughput (MB/s, $MB MB)"
row put "xt-put TREE (durable)" "$(mbs "$put_m")" MB/s "cp -r" "$(mbs "$cp_m")" \
    "$(calc "$cp_m / $put_m")" ">=" 0.90 "cp leaves the data dirty in memory"
row put "xt-put TREE (durable)" "$(mbs "$put_m")" MB/s "cp -r; sync" "$(mbs "$cps_m")" \
    "$(calc "$cps_m / $put_m")" ">=" 0.90 "apples to apples: both durable"
row get "xt-get TREE (sha256 checked)" "$(mbs "$get_m")" MB/s "cp -r" "$(mbs "$cpg_m")" \
    "$(calc "$cpg_m / $get_m")" ">=" 0.90 "apples to apples: neither syncs"

# ---- 3. put -u of the unchanged tree ---------------------------------------

fresh "$XT_HOME/cache"
# the warm-up fills the hash cache; it is shown, but the goal is the cached run
timed "$BIN/xt-put" -u -q "$TREE" :bench/tree
cold_ns=$ns
upd_t=""
i=0
while [ $i -lt "$RUNS" ]; do
	sync
	timed "$BIN/xt-put" -u -q "$TREE" :bench/tree
	n=$(grep -c '"action":"skipped"' "$W/out")
	[ "$n" -eq "$FILES" ] || die "xt-put -u skipped $n of $FILES files of the unchanged tree"
	upd_t="$upd_t $ns"
	i=$((i + 1))
done
upd_m=$(echo "$upd_t" | median)
header "update of the unchanged tree (s)"
row update "xt-put -u TREE (hash cache)" "$(calc "$upd_m / 1e9")" s "fresh xt-put" "$(calc "$put_m / 1e9")" \
    "$(calc "$put_m / $upd_m")" ">=" 10 "ratio: times faster"
row update "xt-put -u TREE (empty cache)" "$(calc "$cold_ns / 1e9")" s "fresh xt-put" "$(calc "$put_m / 1e9")" \
    "$(calc "$put_m / $cold_ns")" "" "" "first -u after a plain put hashes all"

# ---- the JSON copy ---------------------------------------------------------

ns_list() {
	echo "$1" | sed 's/^ *//; s/ /,/g'
}
{
	printf '{"bench":"putget","issue":2,"date":"%s","host":"%s","cpus":%s,"bin":"%s",\n' \
	    "$(date '+%Y-%m-%dT%H:%M:%SZ')" "$(uname -n)" "$(nproc)" "$SRCBIN"
	printf ' "startup_method":"%s",\n' "$STARTUP_HOW"
	printf ' "tree":{"spec":"%s","files":%s,"bytes":%s},"runs":%s,\n' "$SPEC" "$FILES" "$BYTES" "$RUNS"
	printf ' "times_ns":{"xt_put":[%s],"cp":[%s],"cp_sync":[%s],"xt_get":[%s],"cp_get":[%s],"xt_put_u":[%s],"xt_put_u_cold":[%s]},\n' \
	    "$(ns_list "$put_t")" "$(ns_list "$cp_t")" "$(ns_list "$cps_t")" "$(ns_list "$get_t")" \
	    "$(ns_list "$cpg_t")" "$(ns_list "$upd_t")" "$cold_ns"
} >"$W/json.head" || die "cannot write '$W/json.head'"
json_write "$JSON" "$W/json.head"
if command -v jq >/dev/null 2>&1; then
	jq -e . "$JSON" >/dev/null || die "'$JSON' is not valid JSON"
fi
echo
echo "ratio: start-up xt/true (lower is better); MB/s xt/peer; update: times faster than a fresh put"
echo "JSON: $JSON"
