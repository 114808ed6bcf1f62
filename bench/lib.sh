# bench/lib.sh: sourced by the benchmarks bench/b-*.sh, with $here set to
# their folder.
#
#   bench_usage TEXT          print "usage: TEXT" on stderr and exit 2
#   bench_init NAME BINDIR    set $bin (BINDIR, absolute), $root (the source
#                             tree), $lib (the libxt.a built next to BINDIR)
#                             and $tmp, a temporary folder removed at exit
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

fail() {
	echo "$bench_name: $*" >&2
	exit 1
}
