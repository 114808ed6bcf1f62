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
