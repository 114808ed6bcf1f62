# bench/lib.sh: sourced by the benchmarks bench/b-*.sh, with $here set to
# their folder.
#
#   bench_usage TEXT          print "usage: TEXT" on stderr and exit 2
#   bench_init NAME BINDIR    set $bin (BINDIR, absolute), $root (the source
#                             tree), $lib (the libxt.a built next to BINDIR)
#                             and $tmp, a temporary folder removed at exit
#   bench_cc OUT SRC LIB [CFLAGS...]
#                             build the C program SRC against the library
#                             LIB (a libxt.a) as the build does (config.mk)
#   fail MSG...               print "NAME: MSG" on stderr and exit 1
#   calc EXPR                 EXPR computed by awk (the shell holds integers
#                             and strings only)
#   median                    the median of the numbers on stdin
#   row SECTION NAME XT UNIT PEER PEERVAL RATIO OP GOAL NOTE
#                             one line of the table and one object of the
#                             JSON in $ROWS; OP is ">=" or "<=", "" for
#                             information only; columns ROW_NAME_W (36) and
#                             ROW_PEER_W (12) wide
#   header TITLE              the table's heading line
#   json_write FILE HEAD      the JSON of the run into FILE (atomically):
#                             the file HEAD (an object's opening lines,
#                             each ending with ','), then "rows", the
#                             objects of $ROWS
set -u
export LC_ALL=C

bench_usage() {
	echo "usage: $*" >&2
	exit 2
}

bench_init() {
	bench_name=$1
	bin=$(cd "$2" && pwd)
	root=$(cd "$here/.." && pwd)
	lib=$(cd "$bin/.." && pwd)/libxt.a
	# without it the temporary files would land in /
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$bench_name.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
}

bench_cc() {
	bench_cc_out=$1 bench_cc_src=$2 bench_cc_lib=$3
	shift 3
	cc -std=c11 -O2 -D_GNU_SOURCE "$@" -I"$root/lib" $(pkg-config --cflags libcjson 2>/dev/null) \
	    -o "$bench_cc_out" "$bench_cc_src" "$bench_cc_lib" -lbearssl \
	    $(pkg-config --libs yaml-0.1 libcjson libmongoc-1.0 libssh2 2>/dev/null) \
	    -lm -lpthread -ldl
}

fail() {
	echo "$bench_name: $*" >&2
	exit 1
}

calc() {
	awk "BEGIN { printf \"%.6g\", $1 }"
}

median() {
	tr ' ' '\n' | sed '/^$/d' | sort -n |
	    awk '{ v[NR] = $1 } END { printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

row() {
	met=$(awk -v r="$7" -v op="$8" -v g="$9" 'BEGIN {
		if (op == "") print "-"; else if (op == ">=") print (r >= g ? "yes" : "NO"); else print (r <= g ? "yes" : "NO") }')
	goal="$8 $9"
	[ -n "$8" ] || goal="(info)"
	f=%9.2f
	[ "$4" = s ] || [ "$4" = ms ] && f=%9.3f
	printf "  %-${ROW_NAME_W:-36}s $f %-4s  %-${ROW_PEER_W:-12}s $f %-4s  %7.3f  %-7s %-4s %s\\n" \
	    "$2" "$3" "$4" "$5" "$6" "$4" "$7" "$goal" "$met" "${10}"
	jm=null
	[ "$met" = yes ] && jm=true
	[ "$met" = NO ] && jm=false
	printf '%s{"section":"%s","name":"%s","xt":%s,"unit":"%s","peer":"%s","peer_value":%s,"ratio":%s,"goal":"%s","met":%s,"note":"%s"}\n' \
	    "$([ -s "$ROWS" ] && echo ',')" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$goal" "$jm" "${10}" >>"$ROWS"
}

header() {
	printf "\\n%-$((${ROW_NAME_W:-36} + 2))s %14s  %-${ROW_PEER_W:-12}s %14s  %7s  %-7s %-4s %s\\n" \
	    "$1" "xt" "peer" "" "ratio" "goal" "met" "note"
}

json_write() {
	{
		cat "$2"
		printf ' "rows":[\n'
		cat "$ROWS"
		printf ']}\n'
	} >"$1.tmp" || fail "cannot write '$1.tmp'"
	mv "$1.tmp" "$1" || fail "cannot write '$1'"
}
