#!/bin/sh
# A private OpenSSH server on loopback, for the tests of the static
# build's libssh2: its own ed25519 host key, config, log and PID file in
# DIR, public key login only, for the user running this script. Neither
# /etc/ssh nor port 22 is used; the system's sshd is never started.
#
#   scripts/sshd-up.sh start DIR   start it; prints the port when it listens
#   scripts/sshd-up.sh stop DIR    stop it by the PID in DIR/sshd.pid
#   scripts/sshd-up.sh status DIR  exit 0 when it runs
#
# DIR/authorized_keys holds the keys that may log in (made empty when
# missing); DIR/known_hosts the host key as a client checks it, for
# "[127.0.0.1]:PORT". The port is SSHD_PORT, or a free one the kernel
# picks. As root, sshd needs /run/sshd for its privilege separation: it is
# made when missing (the only thing touched outside DIR). As another user,
# sshd runs as that user and can log in only that user.
set -eu

sshd=/usr/sbin/sshd	# an absolute path: sshd re-executes itself
[ $# -eq 2 ] || { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
cmd=$1
dir=$2
pidf=$dir/sshd.pid
. "$(dirname "$0")/svc.sh"

say() { echo "sshd-up: $*" >&2; }

freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case $cmd in
stop) svc_stop; exit 0 ;;
status) svc_pid >/dev/null; exit ;;
start) ;;
*) echo "usage: $0 start|stop|status DIR" >&2; exit 2 ;;
esac

[ -x "$sshd" ] || { say "$sshd is missing: scripts/deps.sh static installs openssh-server"; exit 1; }
if p=$(svc_pid); then
	say "already running (pid $p)"
	cat "$dir/port"
	exit 0
fi
user=$(id -un)
mkdir -p "$dir"
chmod 711 "$dir"	# sshd reads authorized_keys as the user logging in
[ -f "$dir/host_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C xt-test-host -f "$dir/host_ed25519"
[ -f "$dir/authorized_keys" ] || : >"$dir/authorized_keys"
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
	mkdir -p /run/sshd
	chmod 755 /run/sshd
fi

tries=0
while :; do
	port=${SSHD_PORT:-$(freeport)}
	cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519
PidFile none
AuthorizedKeysFile $dir/authorized_keys
# DIR is under /tmp (mode 1777), which StrictModes refuses
StrictModes no
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
PermitRootLogin prohibit-password
AllowUsers $user
UsePAM no
PrintMotd no
PrintLastLog no
UseDNS no
X11Forwarding no
LogLevel VERBOSE
EOF
	"$sshd" -t -f "$dir/sshd_config"
	# -D keeps sshd in the foreground, so the recorded PID is the listener's
	svc_start "$dir/sshd.log" "$sshd" -D -e -f "$dir/sshd_config"
	if svc_wait 100 grep -q "^Server listening on 127.0.0.1 port $port" "$dir/sshd.log"; then
		echo "$port" >"$dir/port"
		awk -v h="[127.0.0.1]:$port" '{ print h, $1, $2 }' \
		    "$dir/host_ed25519.pub" >"$dir/known_hosts"
		echo "$port"
		exit 0
	fi
	svc_stop
	tries=$((tries + 1))
	# another program may have taken the free port first: pick another
	if [ -z "${SSHD_PORT:-}" ] && [ $tries -lt 3 ] &&
	    grep -q 'Address already in use' "$dir/sshd.log"; then
		continue
	fi
	say "sshd did not start; its log:"
	cat "$dir/sshd.log" >&2
	exit 1
done
