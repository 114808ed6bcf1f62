#!/bin/sh
# A private OpenSSH server on loopback, for the tests of libssh2 (lib/ssh.c
# and the static build): its own ed25519 host key, config, log and PID
# file in DIR, public key login only. Neither /etc/ssh nor port 22 is
# used; the system's sshd is never started. Each DIR is one server: two
# DIRs give two servers on two ports.
#
#   scripts/sshd-up.sh start DIR   start it; prints the port when it listens
#   scripts/sshd-up.sh stop DIR    stop it by the PID in DIR/sshd.pid (and
#                                  remove the user it created, see below)
#   scripts/sshd-up.sh status DIR  exit 0 when it runs
#   scripts/sshd-up.sh env DIR     print SSH_TEST_* for a client (see below)
#
# DIR/authorized_keys holds the keys that may log in; when missing it is
# made with the two client keys of DIR: id_ed25519 (no passphrase) and
# id_ed25519_pw (passphrase SSHD_KEY_PASSPHRASE, default "testpass"),
# made when missing. DIR/known_hosts holds the host key as a client checks
# it, for "[127.0.0.1]:PORT". The port is SSHD_PORT, or a free one the
# kernel picks. SSHD_HOST_ECDSA=1 adds an ECDSA host key (host_ecdsa,
# in known_hosts too), which libssh2 1.10 prefers to ed25519 unless told.
#
# The login is SSHD_USER, default the user running this script. As root,
# SSHD_CREATE_USER=1 creates SSHD_USER when it does not exist, as a test
# user whose home starts empty, with /bin/sh (no .bashrc to source) and a
# '*' password (locked to passwords, open to keys: with "UsePAM no" a '!'
# would lock keys out too); "stop" removes that user and its home again
# (only the DIR that created it does). sshd reads authorized_keys as the
# user logging in: DIR and every folder above it must let that user
# through (mode 711 is enough; DIR is made so).
#
# As root, sshd needs /run/sshd for its privilege separation: it is made
# when missing. As another user, sshd runs as that user and can log in
# only that user.
set -eu

sshd=/usr/sbin/sshd	# an absolute path: sshd re-executes itself
[ $# -eq 2 ] || { echo "usage: $0 start|stop|status|env DIR" >&2; exit 2; }
cmd=$1
dir=$2
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac	# sshd wants absolute paths
pidf=$dir/sshd.pid
. "$(dirname "$0")/svc.sh"

say() { echo "sshd-up: $*" >&2; }

freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pass=${SSHD_KEY_PASSPHRASE:-testpass}

case $cmd in
stop)
	svc_stop
	if [ -s "$dir/created_user" ]; then
		u=$(cat "$dir/created_user")
		userdel -f -r "$u" 2>/dev/null || userdel -f "$u" 2>/dev/null || :
		rm -f "$dir/created_user"
	fi
	exit 0 ;;
status) svc_pid >/dev/null; exit ;;
env)
	[ -s "$dir/port" ] || { say "not started in $dir"; exit 1; }
	cat <<EOF
SSH_TEST_HOST=127.0.0.1
SSH_TEST_PORT=$(cat "$dir/port")
SSH_TEST_USER=$(cat "$dir/user")
SSH_TEST_KEY=$dir/id_ed25519
SSH_TEST_KEY_PW=$dir/id_ed25519_pw
SSH_TEST_PASSPHRASE=$pass
SSH_TEST_KNOWN_HOSTS=$dir/known_hosts
EOF
	exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop|status|env DIR" >&2; exit 2 ;;
esac

[ -x "$sshd" ] || { say "$sshd is missing: scripts/deps.sh static installs openssh-server"; exit 1; }
if p=$(svc_pid); then
	say "already running (pid $p)"
	cat "$dir/port"
	exit 0
fi
user=${SSHD_USER:-$(id -un)}
mkdir -p "$dir"
chmod 711 "$dir"	# sshd reads authorized_keys as the user logging in
if ! id "$user" >/dev/null 2>&1; then
	if [ "${SSHD_CREATE_USER:-}" != 1 ] || [ "$(id -u)" -ne 0 ]; then
		say "no user '$user' (as root, SSHD_CREATE_USER=1 creates it)"
		exit 1
	fi
	mkdir -p "$dir/skel"	# empty: the home starts empty
	useradd -m -k "$dir/skel" -s /bin/sh -p '*' "$user"
	echo "$user" >"$dir/created_user"
fi
echo "$user" >"$dir/user"
[ -f "$dir/host_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C xt-test-host -f "$dir/host_ed25519"
hostkeys="HostKey $dir/host_ed25519"
if [ "${SSHD_HOST_ECDSA:-}" = 1 ]; then
	[ -f "$dir/host_ecdsa" ] ||
	    ssh-keygen -q -t ecdsa -N '' -C xt-test-host -f "$dir/host_ecdsa"
	hostkeys="$hostkeys
HostKey $dir/host_ecdsa"
fi
[ -f "$dir/id_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C xt-test-user -f "$dir/id_ed25519"
[ -f "$dir/id_ed25519_pw" ] ||
    ssh-keygen -q -t ed25519 -N "$pass" -C xt-test-user-pw -f "$dir/id_ed25519_pw"
[ -f "$dir/authorized_keys" ] ||
    cat "$dir/id_ed25519.pub" "$dir/id_ed25519_pw.pub" >"$dir/authorized_keys"
chmod 644 "$dir/authorized_keys"
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
$hostkeys
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
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
	"$sshd" -t -f "$dir/sshd_config"
	# -D keeps sshd in the foreground, so the recorded PID is the listener's
	svc_start "$dir/sshd.log" "$sshd" -D -e -f "$dir/sshd_config"
	if svc_wait 100 grep -q "^Server listening on 127.0.0.1 port $port" "$dir/sshd.log"; then
		echo "$port" >"$dir/port"
		for k in $(echo "$hostkeys" | cut -d' ' -f2); do
			awk -v h="[127.0.0.1]:$port" '{ print h, $1, $2 }' "$k.pub"
		done >"$dir/known_hosts"
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
