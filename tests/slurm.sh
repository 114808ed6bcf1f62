# tests/slurm.sh: sourced by the tests of Slurm, after lib.sh, with tdir
# set (the tests' folder). A private cluster of scripts/slurm-up.sh, in a
# folder of $T, stopped by its PIDs at the end; no environment of a Slurm
# job that runs the suite leaks into the test.
#
#   slurm_need           say "# SKIP" and end the test when the Slurm
#                        daemons are not installed
#   slurm_start DIR      start the cluster in DIR (made; $S, absolute) with
#                        the environment SLURM_* given before the call, and
#                        export SLURM_CONF; "# SKIP" and the end of the test
#                        when it cannot start (why in $T/slurm.why)
#   slurm_wrap CMD...    log each call of these Slurm commands to $T/calls
up=$(dirname "$tdir")/scripts/slurm-up.sh
unset $(env | sed -n 's/^\(SLURM_[A-Z_]*\)=.*/\1/p')

slurm_need() {
	for _p in munged slurmctld slurmd; do
		[ -x /usr/sbin/$_p ] && continue
		echo "# SKIP no /usr/sbin/$_p here (scripts/deps.sh check installs the Slurm packages)"
		t_done
		exit
	done
}

# slurm_wrap CMD...: each Slurm command CMD, from here on, through a
# wrapper in $T/wrap that logs its call to $T/calls ("TIME CMD ARGS")
slurm_wrap() {
	mkdir -p "$T/wrap"
	for _c; do
		printf '#!/bin/sh\necho "$(date +%%s.%%N) %s $*" >>%s/calls\nexec /usr/bin/%s "$@"\n' \
		    "$_c" "$T" "$_c" >"$T/wrap/$_c"
		chmod +x "$T/wrap/$_c"
	done
	case :$PATH: in *":$T/wrap:"*) ;; *) export PATH="$T/wrap:$PATH" ;; esac
}

slurm_stop() { "$up" stop "$S" >/dev/null 2>&1; }

slurm_start() {
	mkdir -p "$1"
	S=$(cd "$1" && pwd -P)
	t_cleanup_hooks="$t_cleanup_hooks slurm_stop"
	if ! "$up" start "$S" >"$T/slurm.env" 2>"$T/slurm.why"; then
		_why=$(grep -m 1 '^slurm-up: ' "$T/slurm.why")
		echo "# SKIP Slurm cannot start: ${_why#slurm-up: }"
		grep -v -x -F -e "$_why" "$T/slurm.why" | head -n 20 | sed 's/^/#   /'
		t_done
		exit
	fi
	export SLURM_CONF="$S/slurm.conf"
}
