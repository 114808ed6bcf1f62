# tests/lib.sh: sourced by every shell test. TAP output, a private temp
# folder, a private XT_HOME and store, and helpers that run a tool without
# a pipe so its status is never hidden.
#
#   t_run CMD...        run CMD; stdout in $T/out, stderr in $T/err, status in $rc
#   t_ok DESC CMD...    a test case: ok when CMD succeeds
#   t_status N DESC     ok when the last t_run exited with N
#   t_out_is FILE DESC  ok when the last stdout equals FILE
#   t_err_has TEXT DESC ok when the last stderr contains TEXT
#   t_done              print the plan; exit 1 if a case failed
# $t_tag, when set, starts every case's description (tests/stores.sh)
set -u
export LC_ALL=C TZ=UTC
: "${XT_BIN:?XT_BIN must name the folder of the built tools}"
XT_BIN=$(cd "$XT_BIN" && pwd)
export PATH="$XT_BIN:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/xt-test.XXXXXX") || exit 1
t_cleanup_hooks=""
t_cleanup() {
	for h in $t_cleanup_hooks; do "$h" || true; done
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap t_cleanup EXIT
# a test stopped by a signal (a suite interrupted, a CI's time limit)
# still stops its servers and removes its folder: the EXIT trap runs
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
export XT_HOME="$T/home" HOME="$T/home"
export XT_STORE="$T/store"
unset XT_WORKSPACE XT_EXPERIMENT XT_CONFIG
mkdir -p "$XT_HOME"
cd "$T" || exit 1
t_n=0
t_failed=0
rc=0

t_pass() {
	t_n=$((t_n + 1))
	echo "ok $t_n - ${t_tag:-}$1"
}

t_fail() {
	t_n=$((t_n + 1))
	t_failed=$((t_failed + 1))
	echo "not ok $t_n - ${t_tag:-}$1"
	if [ -f "$T/err" ]; then sed 's/^/#   stderr: /' "$T/err" | head -n 5; fi
}

# t_kill_after US CMD...: CMD (its output dropped) in the background,
# SIGKILLed after US microseconds if it still runs, then waited for
t_kill_after() {
	_us=$1
	shift
	"$@" >/dev/null 2>&1 &
	_pid=$!
	sleep "$(printf '%d.%06d' $((_us / 1000000)) $((_us % 1000000)))"
	kill -KILL $_pid 2>/dev/null
	wait $_pid 2>/dev/null
}

t_run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

t_ok() {
	desc=$1
	shift
	if "$@"; then t_pass "$desc"; else t_fail "$desc"; fi
}

t_status() {
	if [ "$rc" -eq "$1" ]; then t_pass "$2"; else
		t_fail "$2 (exit $rc, want $1)"
	fi
}

t_out_is() {
	if cmp -s "$1" "$T/out"; then t_pass "$2"; else
		t_fail "$2"
		diff "$1" "$T/out" | head -n 10 | sed 's/^/#   /'
	fi
}

t_err_has() {
	if grep -qF -- "$1" "$T/err"; then t_pass "$2"; else
		t_fail "$2 (stderr lacks '$1')"
	fi
}

t_err_empty() {
	if [ ! -s "$T/err" ]; then t_pass "$1"; else t_fail "$1 (stderr not empty)"; fi
}

t_done() {
	echo "1..$t_n"
	[ "$t_failed" -eq 0 ]
}

# xt-specific helpers for run tests.
# rec RUN FIELD: a field of a run's record (python3 reads the JSON)
rec() {
	xt-get -c "$1/run.json" 2>/dev/null | python3 -c 'import json,sys
r=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    r = r.get(k) if isinstance(r, dict) else None
print("" if r is None else (json.dumps(r) if isinstance(r,(dict,list)) else r))' "$2"
}
# settle PID [POLLS]: wait for PID to exit (a guard against a hang: at
# most POLLS polls of 0.1 s, 600 unless given, then it is killed); $rc is
# its status, 124 if it did not
settle() {
	n=0
	while kill -0 "$1" 2>/dev/null && [ $n -lt "${2:-600}" ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill "$1"
		wait "$1"
		rc=124
	else
		wait "$1"
		rc=$?
	fi
}
# grows FILE N [POLLS]: wait until FILE has N lines (at most POLLS polls of
# 0.1 s, 600 unless given); true if it did. A file not there yet has none:
# a follower started with `cmd >FILE &` opens FILE in its own time, so
# start it as `: >FILE; cmd >>FILE &` (a FILE left from before is then
# never taken for its output).
grows() {
	n=0
	while [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -lt "$2" ] && [ $n -lt "${3:-600}" ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]
}
# wait_status RUN STATUS: poll (bounded by a count) until the run's status
# is STATUS. A poll reads the record with xt-get alone, and asks rec (which
# starts Python) only when the record holds STATUS somewhere: 3,000 polls
# of rec took 20 minutes under load when a status never came.
wait_status() {
	i=0
	while [ $i -lt 3000 ]; do
		case $(xt-get -c "$1/run.json" 2>/dev/null) in
		*"\"status\":\"$2\""*) [ "$(rec "$1" status)" = "$2" ] && return 0 ;;
		esac
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}
# events RUN: the run's event names, one per line
events() {
	xt-get -c "$1/log.jsonl" | python3 -c 'import json,sys
for l in sys.stdin: print(json.loads(l)["event"])'
}
