#!/bin/sh
# A private Slurm cluster on this machine (one node, or SLURM_NODES), for
# the tests of the slurm target: munged, slurmctld and slurmd of Debian's
# slurm-wlm 22.05 (scripts/deps.sh check installs them), without systemd.
# Its config, state, spool, logs, sockets and PID files are all in DIR,
# it listens on free ports (slurmctld's, one a slurmd), and the system's
# /etc/slurm, /etc/munge and /run/munge are never used. Each DIR is one
# cluster: two DIRs give two clusters.
#
#   scripts/slurm-up.sh start DIR   start it; prints the client's
#                                   environment (see env) once the node
#                                   is idle. A DIR used before keeps its
#                                   saved state (job ids go on)
#   scripts/slurm-up.sh stop DIR    cancel its jobs, stop its daemons by the
#                                   PIDs in DIR/run, then kill the slurmstepd
#                                   of its jobs that are left (a slurmd that
#                                   died leaves them running) with their
#                                   processes; exit 1 if any is still there
#   scripts/slurm-up.sh status DIR  exit 0 when its three daemons run
#   scripts/slurm-up.sh env DIR     print SLURM_CONF=DIR/slurm.conf, the one
#                                   variable a client (sbatch, squeue,
#                                   scontrol, scancel, srun, sacct -c) needs:
#                                   the munge socket is in that file too
#
# Layout: DIR/slurm.conf; DIR/munge (the key, the socket); DIR/state
# (slurmctld's saved state); DIR/spool (slurmd's, with the sockets of the
# job steps); DIR/log (NAME.log, each daemon's log, slurmd's with its
# slurmstepd's lines; NAME.out, the stderr of slurmctld and slurmd: a copy
# of their log, and what they say before it is open; jobcomp.txt, a line
# a finished job, which sacct -c reads: there is no slurmdbd, so plain
# sacct says accounting is disabled); DIR/run (the daemons' PIDs).
#
# SLURM_CPUS (default 8) is how many CPUs the node claims, whatever the
# machine has: a job of one CPU each, so up to that many run at once.
# SLURM_NODES (default 1) is how many nodes: 1 is "localhost"; more are
# n1, n2, ... on this machine, a slurmd each on its own port (Debian's
# build runs several), with the files of each named after it
# (DIR/run/slurmd-n1.pid, DIR/log/slurmd-n1.log, DIR/spool/n1).
# SLURM_EXTRA_CONF, lines appended to slurm.conf (a key given twice takes
# the later value), e.g. MaxArraySize=101 (default 1001).
# SLURM_DBD=1 adds accounting, so that sacct works: a private MariaDB
# (mariadbd, its data in DIR/db, on a free port of 127.0.0.1 and the
# socket DIR/run/mysqld.sock) and slurmdbd (DIR/slurmdbd.conf, mode 600),
# started before slurmctld and stopped after it (scripts/deps.sh check
# installs mariadb-server and slurmdbd). Without it, plain sacct says
# accounting is disabled.
#
# A daemon is known by its PID file and its command line, which names
# DIR's files (a PID reused by another program is not it); a slurmstepd by
# its program and the file it logs to, DIR's slurmd log. Nothing is ever
# stopped by name. As root the daemons run as root and run
# any user's jobs; as another user they run as that user, and only that
# user's jobs can run (slurmd cannot switch users).
set -eu

[ $# -eq 2 ] || { echo "usage: $0 start|stop|status|env DIR" >&2; exit 2; }
cmd=$1
dir=$2
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac	# the config wants absolute paths
[ ! -d "$dir" ] || dir=$(cd "$dir" && pwd -P)
conf=$dir/slurm.conf
. "$(dirname "$0")/svc.sh"
umask 022

say() { echo "slurm-up: $*" >&2; }

sbin=/usr/sbin
export SLURM_CONF="$conf"

# alive PID NAME: PID runs program NAME (slurmd for slurmd-n1) with DIR's
# files on its command line (slurmdbd, which takes no file, with DIR's
# SLURM_CONF in its environment). A zombie (stopped, not yet reaped by
# init, which here takes a second or two) has an empty command line: it
# is not alive.
alive() {
	_c=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	case $2:$_c in
	slurmdbd:"$sbin/slurmdbd "*)
		tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep -qx "SLURM_CONF=$conf" ;;
	*:"$sbin/${2%%-*} "*"$dir/"*) return 0 ;;
	*) return 1 ;;
	esac
}

# pid_of NAME: print the PID of daemon NAME of this cluster, or fail
pid_of() {
	[ -s "$dir/run/$1.pid" ] || return 1
	_p=$(cat "$dir/run/$1.pid")
	alive "$_p" "$1" && echo "$_p"
}

# halt NAME...: SIGTERM to each daemon that runs, SIGKILL to those still
# there after 5 s
halt() {
	_ps=""
	for _n; do
		if _p=$(pid_of "$_n"); then
			kill "$_p" 2>/dev/null || :
			_ps="$_ps $_n:$_p"
		fi
	done
	_i=0
	while [ $_i -lt 50 ]; do
		_left=""
		for _np in $_ps; do
			alive "${_np#*:}" "${_np%:*}" && _left="$_left $_np"
		done
		[ -z "$_left" ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	for _np in $_left; do
		say "${_np%:*} (pid ${_np#*:}) ignored SIGTERM for 5 s: SIGKILL"
		kill -9 "${_np#*:}" 2>/dev/null || :
	done
	for _n; do rm -f "$dir/run/$_n.pid"; done
}

# the slurmstepd processes of this cluster's jobs: they write to its
# slurmds' logs (their environment is no help: their process title
# overwrites it)
stepds() {
	_exe=$(readlink -f "$sbin/slurmstepd")
	for _e in $(find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$_exe" 2>/dev/null); do
		_p=${_e#/proc/}
		_p=${_p%/exe}
		[ -z "$(find "/proc/$_p/fd" -lname "$dir/log/slurmd*.log" 2>/dev/null)" ] ||
		    echo "$_p"
	done
}

# descendants PID: the processes below PID, a job's
descendants() {
	ps -eo pid=,ppid= | awk -v r="$1" '{ up[$1] = $2 }
	    END { for (c in up) { x = c; while ((x in up) && x != r && x > 1) x = up[x]
	        if (x == r && c != r) print c } }'
}

stop() {
	if pid_of slurmctld >/dev/null; then
		# jobs first, while slurmd can still end them properly (%F:
		# an array's id stands for all its tasks)
		_j=$(squeue -h -o %F 2>/dev/null | sort -u) || :
		[ -z "$_j" ] || scancel $_j 2>/dev/null || :
		_i=0
		while slurmd_up && [ $_i -lt 100 ] &&
		    { [ -n "$(squeue -h -o %i 2>/dev/null)" ] || [ -n "$(stepds)" ]; }; do
			sleep 0.1
			_i=$((_i + 1))
		done
	fi
	halt $slurmds slurmctld
	halt slurmdbd
	halt mariadbd munged
	# a job's slurmstepd outlives a slurmd that was killed
	for _p in $(stepds); do
		_k=$(descendants "$_p")
		say "slurmstepd $_p outlived slurmd: killing it and its processes ($(echo $_k))"
		kill -STOP "$_p" 2>/dev/null || :
		[ -z "$_k" ] || kill -9 $_k 2>/dev/null || :
		kill -9 "$_p" 2>/dev/null || :
	done
	_i=0
	while [ -n "$(stepds)" ] && [ $_i -lt 20 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_left=""
	for _n in $slurmds slurmctld slurmdbd mariadbd munged; do
		pid_of "$_n" >/dev/null && _left="$_left $_n"
	done
	[ -z "$(stepds)" ] || _left="$_left slurmstepd"
	[ -z "$_left" ] || { say "still running:$_left"; return 1; }
}

# slurmd_up: one of the slurmds runs
slurmd_up() {
	for _n in $slurmds; do
		pid_of "$_n" >/dev/null && return 0
	done
	return 1
}

# running: every daemon runs
running() {
	pid_of munged >/dev/null && pid_of slurmctld >/dev/null || return 1
	for _n in $slurmds; do
		pid_of "$_n" >/dev/null || return 1
	done
	if grep -q '^AccountingStorageType=accounting_storage/slurmdbd' "$conf" 2>/dev/null; then
		pid_of mariadbd >/dev/null && pid_of slurmdbd >/dev/null || return 1
	fi
}

# use_nodes N: the names of N nodes and of their slurmds
use_nodes() {
	nodes=$1
	if [ "$nodes" -eq 1 ]; then
		names=localhost
		slurmds=slurmd
	else
		names=$(seq -f 'n%g' 1 "$nodes" | tr '\n' ' ')
		slurmds=$(seq -f 'slurmd-n%g' 1 "$nodes" | tr '\n' ' ')
	fi
}
# a cluster started before has the nodes its slurm.conf names
want=${SLURM_NODES:-1}
case $want in '' | *[!0-9]* | 0*) say "SLURM_NODES must be a number from 1: '$want'"; exit 2 ;; esac
if [ -s "$conf" ]; then
	use_nodes "$(grep -c '^NodeName=' "$conf")"
else
	use_nodes "$want"
fi

case $cmd in
stop) [ -d "$dir" ] || exit 0; stop; exit ;;
status) running; exit ;;
env)
	[ -s "$conf" ] || { say "no cluster was started in $dir"; exit 1; }
	echo "SLURM_CONF=$conf"
	exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop|status|env DIR" >&2; exit 2 ;;
esac

for p in munged slurmctld slurmd slurmstepd; do
	[ -x "$sbin/$p" ] || { say "$sbin/$p is missing: scripts/deps.sh check installs the Slurm packages"; exit 1; }
done
for p in sinfo squeue scancel; do
	command -v $p >/dev/null || { say "$p is missing: scripts/deps.sh check installs slurm-client"; exit 1; }
done
cpus=${SLURM_CPUS:-8}
case $cpus in '' | *[!0-9]* | 0*) say "SLURM_CPUS must be a number from 1: '$cpus'"; exit 2 ;; esac
dbd=${SLURM_DBD:-0}
case $dbd in 0 | 1) ;; *) say "SLURM_DBD must be 0 or 1: '$dbd'"; exit 2 ;; esac
if [ "$dbd" = 1 ]; then
	for p in mariadbd slurmdbd; do
		[ -x "$sbin/$p" ] || { say "$sbin/$p is missing: scripts/deps.sh check installs mariadb-server and slurmdbd"; exit 1; }
	done
fi
if running; then
	say "already running (slurmctld pid $(pid_of slurmctld))"
	echo "SLURM_CONF=$conf"
	exit 0
fi
# slurmd and slurmstepd make a Unix socket for each job step in the spool,
# DIR/spool/localhost_JOBID.STEPID, which must fit in 108 bytes with a
# 10-digit step number: with a longer path the launch fails, the job is
# held, and "sbatch --wait" waits for ever
short() {
	[ ${#dir} -le 60 ] && return 0
	say "'$dir' is ${#dir} characters, more than 60: the sockets of the job steps in its spool would not fit in a Unix socket's 108 bytes; use a shorter DIR"
	exit 1
}
short
if [ ! -d "$dir" ]; then
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd -P)
	conf=$dir/slurm.conf
	export SLURM_CONF="$conf"
	short
fi
# a cluster half up (a daemon died, or a start that failed): stop what is left
stop >/dev/null 2>&1 || :
use_nodes "$want"

mem=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
user=$(id -un)

# munged: socket folder 755 and key 400, or it refuses them
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
chmod 755 "$dir" "$dir/munge"
if [ ! -s "$dir/munge/munge.key" ]; then
	dd if=/dev/urandom of="$dir/munge/munge.key" bs=128 count=1 2>/dev/null
fi
chmod 400 "$dir/munge/munge.key"

# freeports N: N free TCP ports of 127.0.0.1
freeports() {
	python3 -c 'import socket, sys
s = [socket.socket() for i in range(int(sys.argv[1]))]
for a in s: a.bind(("127.0.0.1", 0))
print(" ".join(str(a.getsockname()[1]) for a in s))' "$1"
}

# the log files whose ends explain a start that failed
tails() {
	for f in "$@"; do
		[ -s "$f" ] || continue
		say "the end of $f:"
		tail -n 15 "$f" >&2
	done
}

# idle: every node answers, idle (or busy with a job from before a restart)
idle() {
	for _n in $names; do
		_s=$(sinfo -h -N -n "$_n" -o %T 2>/dev/null) || return 1
		case $_s in
		idle | mixed | allocated) ;;
		# a node left drained by a job that could not be killed, before a stop
		*drain*) scontrol update NodeName="$_n" State=RESUME >/dev/null 2>&1 || :
			return 1 ;;
		*) return 1 ;;
		esac
	done
}

# listens PORT: a socket listens on PORT (of any address)
listens() {
	grep -q ": [0-9A-F]*:$(printf %04X "$1") [0-9A-F]*:0000 0A " /proc/net/tcp /proc/net/tcp6
}

# accounting: MariaDB (its data made on first use) with the database and
# login slurmdbd uses, slurmdbd, and this cluster known to it; false when
# one of them failed (their logs in DIR/log)
accounting() {
	sock=$dir/run/mysqld.sock
	if ! pid_of mariadbd >/dev/null; then
		if [ ! -d "$dir/db/mysql" ]; then
			rm -rf "$dir/db"
			mariadb-install-db --no-defaults --datadir="$dir/db" --user="$user" \
			    --auth-root-authentication-method=socket --skip-test-db \
			    >"$dir/log/mariadb-install.log" 2>&1 || return 1
		fi
		pidf=$dir/run/mariadbd.pid
		# it writes its own PID file too, the same PID (svc_start's exec)
		svc_start "$dir/log/mariadb.out" "$sbin/mariadbd" --no-defaults --datadir="$dir/db" \
		    --user="$user" --socket="$sock" --port="$dbport" --bind-address=127.0.0.1 \
		    --pid-file="$dir/run/mariadbd.pid" --log-error="$dir/log/mariadb.err" \
		    --skip-name-resolve --innodb-buffer-pool-size=16M --innodb-log-file-size=8M
		svc_wait 300 mariadb --no-defaults -S "$sock" -u "$user" -e 'SELECT 1' \
		    >/dev/null 2>&1 || return 1
	fi
	[ -s "$dir/run/db.pass" ] ||
	    (umask 077 && od -An -tx1 -N12 /dev/urandom | tr -d ' \n' >"$dir/run/db.pass")
	mariadb --no-defaults -S "$sock" -u "$user" -e "
	    CREATE DATABASE IF NOT EXISTS slurm_acct_db;
	    CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$(cat "$dir/run/db.pass")';
	    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" \
	    >>"$dir/log/mariadb.out" 2>&1 || return 1
	# slurmdbd reads slurmdbd.conf beside $SLURM_CONF, which must be
	# its user's and mode 600
	(umask 077 && cat >"$dir/slurmdbd.conf" <<EOF
# written by scripts/slurm-up.sh
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
DbdHost=localhost
DbdPort=$dbdport
SlurmUser=$user
LogFile=$dir/log/slurmdbd.log
PidFile=$dir/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$dbport
StorageUser=slurm
StoragePass=$(cat "$dir/run/db.pass")
StorageLoc=slurm_acct_db
EOF
	)
	if ! pid_of slurmdbd >/dev/null; then
		pidf=$dir/run/slurmdbd.pid
		svc_start "$dir/log/slurmdbd.out" "$sbin/slurmdbd" -D
		svc_wait 300 listens "$dbdport" || return 1
	fi
	# this cluster, known to slurmdbd (which may take a moment to answer
	# once it listens)
	_i=0
	until sacctmgr -n -P show cluster format=cluster 2>>"$dir/log/slurmdbd.out" |
	    grep -qx xttest; do
		[ $_i -lt 50 ] || return 1
		sacctmgr -i add cluster xttest >>"$dir/log/slurmdbd.out" 2>&1 || sleep 0.1
		_i=$((_i + 1))
	done
}

cd "$dir"	# the daemons' folder: not the caller's, which may go
tries=0
while :; do
	set -- $(freeports $((nodes + 3)))
	ctlport=$1
	dbdport=$2
	dbport=$3
	shift 3
	if [ "$dbd" = 1 ]; then
		acct="# accounting: slurmdbd on $dbdport, its MariaDB on $dbport
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$dbdport
# slurmctld reaches slurmdbd through this cluster's munged (AuthInfo is
# not used for it)
AccountingStoragePass=$dir/munge/munge.socket"
	else
		acct="AccountingStorageType=accounting_storage/none"
	fi
	if [ "$nodes" -eq 1 ]; then
		nodeconf="SlurmdPort=$1
SlurmdSpoolDir=$dir/spool
SlurmdPidFile=$dir/run/slurmd.pid
SlurmdLogFile=$dir/log/slurmd.log
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN"
	else
		# %n: the node's name, for the slurmd of each node
		nodeconf="SlurmdSpoolDir=$dir/spool/%n
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmdLogFile=$dir/log/slurmd-%n.log"
		for n in $names; do
			mkdir -p "$dir/spool/$n"
			nodeconf="$nodeconf
NodeName=$n NodeHostname=localhost NodeAddr=localhost Port=$1 CPUs=$cpus RealMemory=$mem State=UNKNOWN"
			shift
		done
	fi
	cat >"$conf" <<EOF
# written by scripts/slurm-up.sh: a private cluster on this machine
ClusterName=xttest
SlurmctldHost=localhost
SlurmctldPort=$ctlport
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
# clients and daemons reach this cluster's munged, not /run/munge's
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmctldLogFile=$dir/log/slurmctld.log
# no systemd, no cgroup hierarchy to delegate: jobs are tracked by their
# process tree, and nothing is bound to CPUs
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# jobs share the node a CPU each (the default, select/linear, gives a
# job the whole node)
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# a batch job may start as soon as it is queued: the default waits up to
# 3 s (on 2 CPUs, 100 trivial jobs took 126 s with it, 45 s without)
SchedulerParameters=batch_sched_delay=0
# the node may claim more CPUs and memory than the machine has
SlurmdParameters=config_overrides
# a node that was down (a slurmd killed) is back once its slurmd registers
ReturnToService=2
# a job that ignores SIGTERM is killed 2 s after it (default 30 s)
KillWait=2
# a line a finished job in this file, read by sacct -c
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
$acct
# no mail here (the default, /bin/mail, is missing)
MailProg=/bin/true
$nodeconf
PartitionName=debug Nodes=$(echo $names | tr ' ' ,) Default=YES MaxTime=INFINITE State=UP
${SLURM_EXTRA_CONF:-}
EOF

	pidf=$dir/run/munged.pid
	if ! pid_of munged >/dev/null; then
		rm -f "$dir/munge/munge.socket" "$dir/munge/munge.socket.lock"
		# --force: a folder above DIR may be group-writable (umask 002)
		# -F: in the foreground, so the PID recorded is the daemon's;
		# it logs to stderr then
		svc_start "$dir/log/munged.log" "$sbin/munged" -F --force \
		    --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
		    --pid-file="$pidf" --seed-file="$dir/munge/munged.seed"
		if ! svc_wait 100 test -S "$dir/munge/munge.socket"; then
			say "munged did not start"
			tails "$dir/log/munged.log"
			stop >/dev/null 2>&1 || :
			exit 1
		fi
	fi
	if [ "$dbd" = 1 ] && ! accounting; then
		say "accounting (SLURM_DBD=1) did not start"
		tails "$dir/log/mariadb.err" "$dir/log/mariadb-install.log" "$dir/log/mariadb.out" \
		    "$dir/log/slurmdbd.out"
		stop >/dev/null 2>&1 || :
		exit 1
	fi
	# -D: in the foreground; its log is copied to its stderr (the .out
	# file), which also has what it says before its log is open
	pidf=$dir/run/slurmctld.pid
	svc_start "$dir/log/slurmctld.out" "$sbin/slurmctld" -D -f "$conf"
	for n in $names; do
		d=slurmd
		[ "$nodes" -eq 1 ] || d=slurmd-$n
		pidf=$dir/run/$d.pid
		svc_start "$dir/log/$d.out" "$sbin/slurmd" -D -f "$conf" -N "$n"
	done
	# the node is idle within a second or so; 30 s at most
	i=0
	while ! idle && running && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if idle && running; then
		echo "SLURM_CONF=$conf"
		exit 0
	fi
	tries=$((tries + 1))
	# another program may have taken a free port first: pick others
	if [ $tries -lt 3 ] && grep -qs 'Address already in use' \
	    "$dir/log/slurmctld.out" "$dir/log/slurmd"*.out; then
		halt $slurmds slurmctld slurmdbd mariadbd
		say "a port was taken; trying others"
		continue
	fi
	say "the cluster did not start (node state: '$(sinfo -h -N -o %T 2>/dev/null || :)')"
	tails "$dir/log/slurmctld.out" "$dir/log/slurmctld.log" \
	    "$dir/log/slurmd"*.out "$dir/log/slurmd"*.log
	stop >/dev/null 2>&1 || :
	exit 1
done
