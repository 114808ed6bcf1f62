# scripts/svc.sh: sourced by the scripts of the test services
# (sshd-up.sh, mongo-up.sh), which set $pidf, the file of the server's PID.
#
#   svc_pid      print the PID of the running server, or fail
#   svc_stop     stop it by that PID: TERM, then KILL after 5 s
#   svc_start FILE CMD...   run CMD in its own session with stdin from
#                /dev/null and its output in FILE, its PID in $pidf
#   svc_wait N CMD...       wait until CMD succeeds (see below)

svc_pid() {
	[ -s "$pidf" ] && _p=$(cat "$pidf") && kill -0 "$_p" 2>/dev/null && echo "$_p"
}

svc_stop() {
	if _p=$(svc_pid); then
		kill "$_p"
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -0 "$_p" 2>/dev/null && kill -9 "$_p"
	fi
	rm -f "$pidf"
}

svc_start() {
	_log=$1
	shift
	rm -f "$pidf"
	# the inner shell writes its PID, then becomes CMD: the PID is CMD's
	setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidf" "$@" </dev/null >"$_log" 2>&1 &
}

# svc_wait N CMD...: poll CMD every 0.1 s, N times at most; fail when the
# server has exited or CMD never succeeded
svc_wait() {
	_n=$1
	shift
	_i=0
	while [ $_i -lt "$_n" ]; do
		"$@" && return 0
		[ -s "$pidf" ] && ! kill -0 "$(cat "$pidf")" 2>/dev/null && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
