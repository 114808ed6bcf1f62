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
