#!/bin/sh
# tests/lib.sh: a test stopped by SIGTERM, SIGINT or SIGHUP runs its
# cleanup hooks (which stop the servers it started) and removes its
# temporary folder, as one that ends does.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$R/tests/lib.sh"

# a test that registers a hook, says where its folder is, and waits
cat >victim.sh <<'S'
. "$1/tests/lib.sh"
mark=$2/hook.$3
hook() { echo ran >"$mark"; }
t_cleanup_hooks="$t_cleanup_hooks hook"
echo "$T" >"$2/dir.$3"
while :; do sleep 0.1; done
S
for sig in TERM INT HUP; do
	# (a background job of a script starts with SIGINT ignored: undone,
	# as for a test in the foreground of a terminal)
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp("sh", ["sh"] + sys.argv[1:])' victim.sh "$R" "$T" "$sig" >/dev/null 2>&1 &
	pid=$!
	i=0
	while [ ! -s "dir.$sig" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	kill -s "$sig" "$pid"
	settle "$pid" 300
	t_ok "SIG$sig: it ends" test "$rc" -ne 124
	t_ok "SIG$sig: its cleanup hook ran" test "$(cat "hook.$sig" 2>/dev/null)" = ran
	t_ok "SIG$sig: its folder is gone" test -s "dir.$sig" -a ! -e "$(cat "dir.$sig")"
done
t_done
