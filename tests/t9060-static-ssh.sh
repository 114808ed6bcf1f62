#!/bin/sh
# libssh2 of the static build (on OpenSSL) logs in for real: a private
# sshd on loopback (scripts/sshd-up.sh) with an ed25519 host key, and a
# static probe (tests/static/ssh-probe.c), run in the empty root, that
# checks the host key, logs in with an ed25519 user key (publickey only),
# runs a command and reads its output and status. A key the server does
# not know, and a host key other than the known one, are refused.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/static.sh"

up=$(dirname "$tdir")/scripts/sshd-up.sh
if [ ! -x /usr/sbin/sshd ]; then
	echo "# SKIP no /usr/sbin/sshd here (scripts/deps.sh static installs openssh-server)"
	t_done
	exit
fi
t_ok "the probe links statically against the cached libssh2" probe_cc ssh-probe libssh2
t_run readelf -d ssh-probe
t_ok "and is static" grep -q 'There is no dynamic section' "$T/out"

stop_sshd() { "$up" stop "$T/sshd"; }
t_cleanup_hooks="$t_cleanup_hooks stop_sshd"
t_run "$up" start "$T/sshd"
t_status 0 "sshd starts on a loopback port"
port=$(cat "$T/sshd/port" 2>/dev/null)
echo "# INFO sshd $(/usr/sbin/sshd -V 2>&1 | head -n 1) on 127.0.0.1:$port"
t_ok "with an ed25519 host key only" test "$(grep -c . "$T/sshd/known_hosts")" -eq 1 \
    -a "$(cut -d' ' -f2 "$T/sshd/known_hosts")" = ssh-ed25519

mkroot
cp ssh-probe "$R/bin/"
ssh-keygen -q -t ed25519 -N '' -C xt-test-user -f "$R/tmp/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C xt-test-other -f "$R/tmp/id_other"
cat "$R/tmp/id_ed25519.pub" >"$T/sshd/authorized_keys"
cp "$T/sshd/known_hosts" "$R/tmp/known_hosts"
user=$(id -un)
probe() { in_root ssh-probe 127.0.0.1 "$port" "$user" "/tmp/$1" /tmp/known_hosts "$2"; }

probe id_ed25519 'echo ok'
t_status 0 "the ed25519 user key logs in and runs a command"
cat >want <<EOF
hostkey: ssh-ed25519
methods: publickey
auth: publickey ok
out: ok
exit: 0
EOF
t_out_is want "the host key is known, only publickey is offered, 'ok' is read back"
sed 's/^/# INFO /' "$T/out"
t_ok "the server logged the ed25519 login" \
    grep -q "Accepted publickey for $user from 127.0.0.1 .* ED25519 " "$T/sshd/sshd.log"

probe id_ed25519 'printf "a b\nc\n"; echo err >&2; exit 3'
t_status 0 "a command that fails"
printf 'hostkey: ssh-ed25519\nmethods: publickey\nauth: publickey ok\nout: a b\nout: c\nexit: 3\n' >want
t_out_is want "has its output (stdout only) and its status 3 read back"

probe id_other 'echo ok'
t_status 1 "a key not in authorized_keys is refused"
t_ok "at the publickey step, and no command runs" \
    test "$(grep -c '^auth: publickey refused' "$T/out")" -eq 1 -a "$(grep -c '^out:' "$T/out")" -eq 0

ssh-keygen -q -t ed25519 -N '' -f other_host
awk -v h="[127.0.0.1]:$port" '{ print h, $1, $2 }' other_host.pub >"$R/tmp/known_hosts"
probe id_ed25519 'echo ok'
t_status 1 "a server whose host key is not the known one is refused"
printf 'hostkey: ssh-ed25519\nhostkey: mismatch\n' >want
t_out_is want "before any login"

t_run "$up" stop "$T/sshd"
t_ok "sshd stops by its PID" test "$rc" -eq 0 -a ! -e "$T/sshd/sshd.pid"
t_done
