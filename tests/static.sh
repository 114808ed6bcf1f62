# tests/static.sh: sourced by the t9* tests of the static build (after
# lib.sh, with $tdir the tests folder). An empty root holding only the static tools, a temporary
# folder and what a test adds, and a way to run a command inside it with
# a clean environment (no CA variables of the calling shell).
#
#   mkroot                  make $R: /bin (the tools), /tmp, /etc/hosts
#   in_root [VAR=VAL]... CMD...   run CMD in $R, as t_run does
# and the local HTTPS server of tests/https.sh.

R=$T/root

mkroot() {
	mkdir -p "$R/bin" "$R/tmp/home" "$R/etc"
	cp "$XT_BIN"/* "$R/bin/"
	printf '127.0.0.1 localhost xt-node.test\n::1 localhost\n' >"$R/etc/hosts"
}

in_root() {
	_enter="$(command -v chroot) $R"
	[ "$(id -u)" -eq 0 ] || _enter="$(command -v unshare) -r $_enter"
	_n=0
	for _a; do
		case $_a in *=*) _n=$((_n + 1)) ;; *) break ;; esac
	done
	_i=0
	for _a; do	# VAR=VAL... chroot ROOT CMD...
		shift
		[ $_i -eq $_n ] && set -- "$@" $_enter
		set -- "$@" "$_a"
		_i=$((_i + 1))
	done
	env -i PATH=/bin HOME=/tmp/home XT_HOME=/tmp/home XT_STORE=/tmp/store \
	    LC_ALL=C TZ=UTC "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

. "$tdir/https.sh"

# probe_cc NAME PC...: compile tests/static/NAME.c into ./NAME, static
# with musl, against the cached libraries of the static build (as the
# tools are linked), naming their pkg-config modules; sets $sp, their
# prefix
probe_cc() {
	_src=$tdir/static/$1.c _out=$T/$1
	shift
	sp=$(cat "$XT_BIN/../prefix" 2>/dev/null)
	[ -n "$sp" ] && [ -f "$sp/.done" ] || return 1
	_pc="env PKG_CONFIG_LIBDIR=$sp/lib/pkgconfig PKG_CONFIG_PATH= pkg-config --static"
	# shellcheck disable=SC2046
	musl-gcc -static -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra \
	    $($_pc --cflags "$@") "$_src" -o "$_out" $($_pc --libs "$@") \
	    >"$T/cc.log" 2>&1 || { sed 's/^/# cc: /' "$T/cc.log" | head -n 20; return 1; }
	[ ! -s "$T/cc.log" ] || { sed 's/^/# cc warning: /' "$T/cc.log"; return 1; }
}
