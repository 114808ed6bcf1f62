#!/bin/sh
# Run every unit test and shell test against each build folder given
# (build, build-san, build-static), and end with one line: N passed, N failed.
#   tests/run.sh BUILD... [-- PATTERN]   PATTERN picks tests by name (e.g. t10)
cd "$(dirname "$0")/.." || exit 2
builds=""
pat=""
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; pat=${1:-}; break ;;
	*) builds="$builds $1" ;;
	esac
	shift
done
[ -n "$builds" ] || builds=build
[ -n "$pat" ] || pat=${T:-}
# The slowest tests of services (ssh and Slurm: the library, the cluster's
# script and the targets, whose cases wait for sshd and for the
# scheduler's time limits; Azurite's restarts, its fault
# proxy and its store test, whose time is Azurite's own, about the same in
# both builds) run once when both builds are tested, in build-san, which
# also checks their memory (make check: about 10 minutes less);
# tests/run.sh build alone (make test) runs them there.
once="t1200 t1210 t1240 t8010 t8100 t8200 t8210 t8220 t8230 t8240"
case " $builds " in *" build-san "*) ;; *) once="" ;; esac
# Of those, the ones that mostly wait on services of their own (sshd, a
# Slurm cluster, each started by the test itself) run in build-san in a
# second lane, one after the other, beside the build pass (about 5 minutes
# less); the build-san pass waits for that lane before it starts. Not
# beside the build-san pass: there, Azurite's restart test (t1240) ran
# four times slower beside them and failed.
lane="t8010 t8100 t8200 t8210 t8220 t8230 t8240"
case " $builds " in *" build "*) ;; *) lane="" ;; esac
case " $builds " in *" build-san "*) ;; *) lane="" ;; esac
passed=0
failed=0
# lane_kill: no more tests start in the second lane (the one running ends by itself)
lane_kill() { [ -n "${lane_pid:-}" ] && kill "$lane_pid" 2>/dev/null; }
logdir=$(mktemp -d "${TMPDIR:-/tmp}/xt-run.XXXXXX")

# One Azurite for each build's pass, stopped by its PID at the end of it,
# shared by that pass's tests (the Azure tests start their own when this
# one could not start: they say why). It keeps its data in memory, and
# tests do not delete their containers (deleting big ones made it spin
# for minutes); so it is started again between two tests once it holds
# more than AZURITE_MAX_KB (an Azurite of 1.2 GB, mid-pass, stopped
# answering for minutes and failed t1250).
# The unit tests get it too: u-store runs its contract on a folder store
# and on az://, u-store-azure its own cases (XT_TEST_STORES,
# XT_TEST_AZURE_STORE and the connection string, set for the units only).
AZURITE_MAX_KB=409600
azurite_stop() { [ -n "${XT_TEST_AZURE_ENDPOINT:-}" ] && scripts/azurite-up.sh stop "$logdir/azurite" >/dev/null 2>&1; }
# azurite_trim: start the pass's Azurite again when it holds more than
# AZURITE_MAX_KB, or has died
azurite_trim() {
	[ -n "${own_azurite:-}" ] && [ -n "${XT_TEST_AZURE_ENDPOINT:-}" ] || return 0
	_kb=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' \
	    "/proc/$(cat "$logdir/azurite/azurite.pid" 2>/dev/null)/status" 2>/dev/null)
	[ -n "$_kb" ] && [ "$_kb" -le "$AZURITE_MAX_KB" ] && return 0
	azurite_stop
	unset XT_TEST_AZURE_ENDPOINT
	azurite_start || echo "# SKIP Azurite did not start again; the az:// cases after it are skipped"
}
# start it, its endpoint in XT_TEST_AZURE_ENDPOINT; false (why in azurite.err) if it did not
azurite_start() {
	ep=$(scripts/azurite-up.sh start "$logdir/azurite" 2>"$logdir/azurite.err") || return 1
	export XT_TEST_AZURE_ENDPOINT="$ep"
}
case " $pat " in "  " | *t1* | *u-store*) ;; *) XT_TEST_AZURE_ENDPOINT=skip ;; esac
if [ "${XT_TEST_AZURE_ENDPOINT:-}" = skip ]; then
	unset XT_TEST_AZURE_ENDPOINT
elif [ -z "${XT_TEST_AZURE_ENDPOINT:-}" ]; then
	if ! command -v node >/dev/null; then
		echo "# SKIP Azurite: node is needed; the az:// cases are skipped" >"$logdir/azurite.why"
	elif azurite_start; then
		own_azurite=1
		trap 'azurite_stop' EXIT
		trap 'lane_kill; azurite_stop; exit 130' INT TERM
	else
		{ echo "# SKIP Azurite did not start; the az:// cases are skipped:"
		  tail -n 5 "$logdir/azurite.err" | sed 's/^/#   /'; } >"$logdir/azurite.why"
	fi
	[ -f "$logdir/azurite.why" ] && cat "$logdir/azurite.why"
fi
# One MongoDB wire-protocol server (scripts/mongo-up.sh: TLS with a test
# CA, SCRAM-SHA-256) for each pass that runs the tests of the MongoDB
# index (t85*), stopped by its PID at the end of it; its port, user,
# password and CA in $XT_TEST_MONGO_DIR (tests/mongo.sh). A test that
# restarts the server starts its own.
mongo_stop() { [ -n "${XT_TEST_MONGO_DIR:-}" ] && scripts/mongo-up.sh stop "$XT_TEST_MONGO_DIR" >/dev/null 2>&1; }
mongo_start() {
	command -v node >/dev/null || return 0	# the tests say SKIP
	d=$logdir/mongo
	mkdir -p "$d" &&
	(cd "$d" && tdir=$OLDPWD/tests && . "$tdir/https.sh" && make_certs) >/dev/null 2>&1 &&
	echo xt-user >"$d/user" && echo "pw-$$-$(date +%s)" >"$d/password" &&
	env MONGO_CERT="$d/srv.pem" MONGO_KEY="$d/srv.key" MONGO_USER=xt-user \
	    MONGO_PASSWORD="$(cat "$d/password")" scripts/mongo-up.sh start "$d" >/dev/null 2>"$logdir/mongo.err" &&
	export XT_TEST_MONGO_DIR="$d" && return 0
	echo "# mongo-up did not start; the tests start their own:"
	tail -n 5 "$logdir/mongo.err" | sed 's/^/#   /'
}
case " $pat " in "  " | *t8*) want_mongo=1 ;; *) want_mongo= ;; esac
if [ -n "$want_mongo" ]; then
	trap 'azurite_stop; mongo_stop' EXIT
	trap 'lane_kill; azurite_stop; mongo_stop; exit 130' INT TERM
fi
# unit_env BUILD: the variables of the unit tests, one a line (a container per build)
unit_env() {
	echo "XT_TEST_STORES=$logdir/u-store-$1${XT_TEST_AZURE_ENDPOINT:+ az://devstoreaccount1/u-store-$$-$1}"
	[ -n "${XT_TEST_AZURE_ENDPOINT:-}" ] || return 0
	# quick: t1200 runs u-store-azure whole (5,003 blobs listed)
	echo "XT_TEST_AZURE_STORE=az://devstoreaccount1/u-store-azure-$$-$1"
	echo "XT_TEST_AZURE_QUICK=1"
	echo "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$(sed -n 's/^key=//p' tests/azurite.sh);BlobEndpoint=$XT_TEST_AZURE_ENDPOINT"
}

run_one() { # name command...
	name=$1
	shift
	log="$logdir/$(echo "$name" | tr '/' '_').log"
	t0=$(date +%s%N)
	"$@" >"$log" 2>&1
	st=$?
	secs=$(( ($(date +%s%N) - t0) / 100000000 ))
	secs="$((secs / 10)).$((secs % 10))s"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$st" -ne 0 ] && [ "$f" -eq 0 ]; then
		# died without saying which case: count the script as one failure
		f=1
		echo "not ok - $name exited $st" >>"$log"
	fi
	if ! grep -q '^1\.\.' "$log" && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name printed no plan" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -eq 0 ]; then
		printf '%-44s %4d ok %17s\n' "$name" "$p" "$secs"
	else
		printf '%-44s %4d ok %3d FAILED %6s\n' "$name" "$p" "$f" "$secs"
		grep -E '^(not ok|#)' "$log" | head -n 40 | sed 's/^/    /'
	fi
	grep -E '^# (SKIP|INFO)' "$log" | sed 's/^/    /'
}

# san_env: the sanitizers' options, for the tests of build-san
san_env() {
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
}

# in_lane TEST: true when TEST (tests/tNNNN-....sh) is one of the lane's
in_lane() {
	_n=$(basename "$1" .sh)
	case " $lane " in *" ${_n%%-*} "*) return 0 ;; esac
	return 1
}

# lane_start: run build-san's lane tests in the background, one after the
# other, their lines into $logdir/lane.out and "PASSED FAILED" into
# $logdir/lane.count; lane_end waits for them, then prints and counts them.
lane_pid=
lane_start() {
	set --
	for _t in tests/t[0-9]*.sh; do
		case $_t in *"$pat"*) in_lane "$_t" && set -- "$@" "$_t" ;; esac
	done
	[ $# -gt 0 ] || return 0
	(
		# their own services only: the pass's Azurite is restarted under them
		unset XT_TEST_AZURE_ENDPOINT XT_TEST_MONGO_DIR
		san_env
		passed=0
		failed=0
		for _t; do
			run_one "build-san/$(basename "$_t" .sh)" env XT_BIN=build-san/bin sh "$_t"
		done >"$logdir/lane.out"
		echo "$passed $failed" >"$logdir/lane.count"
	) &
	lane_pid=$!
}
lane_end() {
	[ -n "$lane_pid" ] || return 0
	wait "$lane_pid"
	lane_pid=
	echo "== build-san, in the second lane (beside build)"
	cat "$logdir/lane.out"
	if read -r _p _f <"$logdir/lane.count"; then
		passed=$((passed + _p))
		failed=$((failed + _f))
	else
		echo "not ok - the second lane ended before its count"
		failed=$((failed + 1))
	fi
	rm -f "$logdir/lane.out" "$logdir/lane.count"
}

pass=0
for b in $builds; do
	[ "$b" = build ] && [ -n "$lane" ] && lane_start
	[ "$b" = build-san ] && lane_end
	echo "== $b"
	pass=$((pass + 1))
	# a fresh Azurite for every pass after the first
	if [ "$pass" -gt 1 ] && [ -n "${own_azurite:-}" ]; then
		azurite_stop
		unset XT_TEST_AZURE_ENDPOINT
		azurite_start ||
		    echo "# SKIP Azurite did not start again; the az:// cases of $b are skipped"
	fi
	if [ -n "$want_mongo" ]; then
		mongo_stop
		unset XT_TEST_MONGO_DIR
		rm -rf "$logdir/mongo"
		mongo_start
	fi
	[ "${b#*san}" != "$b" ] && san_env
	for u in "$b"/unit/u-*; do
		[ -x "$u" ] || continue
		case $u in *"$pat"*) ;; *) continue ;; esac
		azurite_trim
		oifs=$IFS
		IFS='
'
		# shellcheck disable=SC2046
		set -- env $(unit_env "$(echo "$b" | tr -c 'a-z0-9\n' -)") "$u"
		IFS=$oifs
		run_one "$b/$(basename "$u")" "$@"
	done
	for t in tests/t[0-9]*.sh; do
		[ -f "$t" ] || continue
		case $t in *"$pat"*) ;; *) continue ;; esac
		# t9*: the tests of the static build (make static), which runs only those
		case $b:$t in *static:tests/t9*) ;; *static:* | *:tests/t9*) continue ;; esac
		if [ "$b" != build-san ] && [ -n "$once" ]; then
			_n=$(basename "$t" .sh)
			case " $once " in *" ${_n%%-*} "*)
				echo "$b/$_n: run once, in build-san"
				continue ;;
			esac
		fi
		[ "$b" = build-san ] && [ -n "$lane" ] && in_lane "$t" && continue
		azurite_trim
		run_one "$b/$(basename "$t" .sh)" env XT_BIN="$b/bin" sh "$t"
	done
done
lane_end
azurite_stop
unset XT_TEST_AZURE_ENDPOINT
mongo_stop
rm -rf "$logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
