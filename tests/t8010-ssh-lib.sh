#!/bin/sh
# lib/ssh.c against a real OpenSSH server on loopback (scripts/sshd-up.sh),
# through its test driver tests/helper/ssh-cli: commands (stdout, stderr,
# status, stdin, a signal, a dropped connection), host keys (unknown,
# changed, accept-new, hashed entries, the method preference), logins
# (a wrong key, a wrong passphrase), SFTP, detached starts and staging.
# As root the login is a test user made for this test (its home starts
# empty, /bin/sh), else the user running it. A second server on another
# port is the box that goes down.
R=$(cd "$(dirname "$0")/.." && pwd)
tdir=$R/tests
. "$tdir/lib.sh"
sshd_login=xt8010
. "$tdir/sshd.sh"
stop_sshd() { "$up" stop "$T/a"; "$up" stop "$T/b"; }
t_cleanup_hooks="$t_cleanup_hooks stop_sshd"
if ! SSHD_HOST_ECDSA=1 "$up" start "$T/a" >port 2>why; then
	echo "# SKIP sshd cannot start: $(tail -n 3 why | tr '\n' ' ')"
	t_done
	exit
fi
port=$(cat port)
user=$(cat "$T/a/user")
H=$user@127.0.0.1:$port
A=$T/a
echo "# INFO sshd on 127.0.0.1:$port, login $user"
ssh_() { t_run "$cli" -F none -i "$A/id_ed25519" -k "$A/known_hosts" "$H" "$@"; }
fp() { ssh-keygen -lf "$1" | cut -d' ' -f2; }

# commands
ssh_ exec 'echo out; echo err >&2; exit 3'
t_status 3 "a command's exit status comes back"
echo out >want
t_out_is want "with its stdout"
printf 'err\n' >want
t_ok "and its stderr" cmp -s want "$T/err"

ssh_ exec 'kill -9 $$'
t_status 255 "a command killed by a signal is a failure"
t_err_has "ssh-cli: $H: 'kill -9 \$\$' was killed by signal KILL" "that names the signal"

head -c 2000000 /dev/urandom >in2m
t_run "$cli" -F none -i "$A/id_ed25519" -k "$A/known_hosts" "$H" exec-in 'tee /dev/stderr' <in2m
t_status 0 "2 MB on stdin, copied to stdout and stderr at once, do not stall"
t_out_is in2m "stdout has them all"
t_ok "stderr too" cmp -s in2m "$T/err"

# the command kills its sshd session process, then stays (stopped by its PID below)
ssh_ exec 'echo $$ >drop.pid; kill -9 $PPID; exec sleep 60'
t_status 255 "a connection dropped mid-command is an error, not a hang"
t_err_has "ssh-cli: $H: connection lost while running 'echo \$\$ >drop.pid; kill -9 \$PPID; exec sleep 60'" "saying so"
ssh_ exec 'kill $(cat drop.pid)'
t_status 0 "the command left on the box is stopped by its PID"

# host keys
edfp=$(fp "$A/host_ed25519.pub")
t_run "$cli" -F none -i "$A/id_ed25519" -k "$T/none" "$H" connect
t_status 255 "an unknown host key is refused"
t_err_has "ssh-cli: Host key verification failed for [127.0.0.1]:$port: the host key is unknown (ED25519 $edfp), not in $T/none" \
    "as OpenSSH words it, with the fingerprint ssh-keygen -l prints"
t_ok "and known_hosts is not made" test ! -e "$T/none"

ssh-keygen -q -t ed25519 -N '' -C other -f other_host
awk -v h="[127.0.0.1]:$port" '{ print h, $1, $2 }' other_host.pub >changed
cp changed changed.orig
t_run "$cli" -F none -i "$A/id_ed25519" -k changed "$H" connect
t_status 255 "a changed host key is refused"
t_err_has "ssh-cli: Host key verification failed for [127.0.0.1]:$port: the host key changed (ED25519 $edfp); changed has another" \
    "with the new key's fingerprint"
t_run "$cli" -a -F none -i "$A/id_ed25519" -k changed "$H" connect
t_status 255 "accept-new refuses a changed key too"
t_ok "and leaves known_hosts as it was" cmp -s changed changed.orig

t_run "$cli" -a -F none -i "$A/id_ed25519" -k "$T/kh/new" "$H" connect
t_status 0 "accept-new takes an unknown host's key"
t_ok "and records it in known_hosts" grep -qx "\[127.0.0.1\]:$port ssh-ed25519 $(cut -d' ' -f2 "$A/host_ed25519.pub")" "$T/kh/new"
t_run "$cli" -F none -i "$A/id_ed25519" -k "$T/kh/new" "$H" connect
t_status 0 "a second connect without accept-new passes"
t_ok "and records nothing more" test "$(grep -c . "$T/kh/new")" -eq 1

# libssh2 1.10 picks ECDSA first: a file that knows only the ed25519 key must pass
grep ssh-ed25519 "$A/known_hosts" >ed_only
t_run "$cli" -F none -i "$A/id_ed25519" -k ed_only "$H" connect
t_status 0 "a known ed25519 key is found though the server has ECDSA too"
grep ecdsa "$A/known_hosts" >ec_only
t_run "$cli" -F none -i "$A/id_ed25519" -k ec_only "$H" connect
t_status 0 "and a known ECDSA key"
cp "$A/known_hosts" hashed
ssh-keygen -q -H -f hashed >/dev/null 2>&1
t_ok "ssh-keygen hashed the names" grep -q '^|1|' hashed
t_run "$cli" -F none -i "$A/id_ed25519" -k hashed "$H" connect
t_status 0 "hashed known_hosts entries are checked"
printf '@cert-authority *.example ssh-ed25519 AAAA\nbad line\n%s\n' "$(cat ed_only)" >messy
t_run "$cli" -F none -i "$A/id_ed25519" -k messy "$H" connect
t_status 0 "lines libssh2 cannot read do not hide the others"

# logins
mkdir -p home/.ssh
ssh-keygen -q -t ed25519 -N '' -C nobody -f home/.ssh/id_ed25519
t_run "$cli" -F none -k "$A/known_hosts" "$H" connect
t_status 255 "a key the server does not know is refused"
t_err_has "ssh-cli: $H: permission denied (publickey): tried key ~/.ssh/id_ed25519" "naming the keys tried"

XT_SSH_PASSPHRASE=NotTheSecret7 t_run "$cli" -F none -i "$A/id_ed25519_pw" -k "$A/known_hosts" "$H" connect
t_status 255 "a wrong passphrase is refused"
t_err_has "ssh-cli: $H: cannot decrypt key $A/id_ed25519_pw: wrong passphrase" "saying so"
t_ok "without the passphrase in the message" sh -c '! grep -q NotTheSecret7 "$1"' - "$T/err"
t_run "$cli" -F none -i "$A/id_ed25519_pw" -k "$A/known_hosts" "$H" connect
t_status 255 "an encrypted key without XT_SSH_PASSPHRASE is refused"
t_err_has "cannot decrypt key $A/id_ed25519_pw: it has a passphrase and XT_SSH_PASSPHRASE is not set" "saying why"
XT_SSH_PASSPHRASE=testpass t_run "$cli" -F none -i "$A/id_ed25519_pw" -k "$A/known_hosts" "$H" connect
t_status 0 "the right passphrase logs in"

# the agent, first
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
stop_agent() { [ -n "${SSH_AGENT_PID:-}" ] && kill "$SSH_AGENT_PID"; }
t_cleanup_hooks="$t_cleanup_hooks stop_agent"
ssh-add -q other_host 2>/dev/null
t_run "$cli" -F none -k "$A/known_hosts" "$H" connect
t_status 255 "an agent without the key, and a key file the server does not know"
t_err_has "ssh-cli: $H: permission denied (publickey): tried agent, key ~/.ssh/id_ed25519" "are both named"
ssh-add -q "$A/id_ed25519" 2>/dev/null
t_run "$cli" -F none -k "$A/known_hosts" "$H" connect
t_status 0 "the agent's key logs in"
kill "$SSH_AGENT_PID"
unset SSH_AUTH_SOCK SSH_AGENT_PID

# the host through ~/.ssh/config
cat >home/.ssh/config <<EOF
Host box
    HostName 127.0.0.1
    Port $port
    User $user
    IdentityFile $A/id_ed25519
    UserKnownHostsFile $A/known_hosts
EOF
t_run "$cli" box exec 'echo $USER'
t_status 0 "a host alias resolves through ~/.ssh/config"
echo "$user" >want
t_out_is want "to its user, port and key"

# SFTP
ssh_ mkdir '~/d1/d2/d3'
t_status 0 "mkdir -p"
ssh_ stat '~/d1/d2/d3'
t_status 0 "stat"
echo "size 4096 mode 0755 dir" >want
t_out_is want "of a folder"
ssh_ stat nope
t_status 255 "stat of a missing file fails"
t_err_has "ssh-cli: $H: cannot stat 'nope': No such file or directory" "naming it"
printf 'one\n' >f1
ssh_ put f1 d1/f
ssh_ put in2m d1/f
t_status 0 "put over an existing file"
ssh_ read d1/f
t_out_is in2m "reads back the new bytes"
ssh_ exec 'ls -A d1'
printf 'd2\nf\n' >want
t_out_is want "and leaves no temporary file"

# detached start
ssh_ spawn '~/sp.log' 'echo started; exec sleep 300'
t_status 0 "spawn starts a command"
pid=$(cat "$T/out")
ssh_ exec "ps -o sid= -p $pid; kill -0 $pid && echo alive"
printf '%s\nalive\n' "$pid" >want
sed 's/^ *//' "$T/out" >got
t_ok "that outlived the session, in a session of its own" cmp -s want got
ssh_ exec "cat sp.log; kill $pid"
echo started >want
t_out_is want "its output went to the log"

# staging
head -c 3000000 /dev/urandom >xt-a
printf 'b\n' >xt-b
ssh_ stage '~/.xt/bin' "$T/xt-a" "$T/xt-b"
t_status 0 "the first staging"
echo "copied 2" >want
t_out_is want "copies both files"
ssh_ exec 'cd .xt/bin && sha256sum xt-a xt-b && stat -c %a xt-a xt-b'
{ sha256sum xt-a xt-b; printf '755\n755\n'; } >want
t_out_is want "whole, mode 0755"
ssh_ stage '~/.xt/bin' "$T/xt-a" "$T/xt-b"
echo "copied 0" >want
t_out_is want "a second staging copies nothing"
printf 'b2\n' >xt-b
ssh_ stage '~/.xt/bin' "$T/xt-a" "$T/xt-b"
echo "copied 1" >want
t_out_is want "a changed file is copied again"
ssh_ exec 'cd .xt/bin && sha256sum xt-b'
sha256sum xt-b >want
t_out_is want "with its new bytes"

head -c 8000000 /dev/urandom >xt-a
head -c 5000000 /dev/urandom >xt-b
"$cli" -F none -i "$A/id_ed25519" -k "$A/known_hosts" "$H" stage '~/.xt/bin' "$T/xt-a" "$T/xt-b" >s1 2>&1 &
p1=$!
"$cli" -F none -i "$A/id_ed25519" -k "$A/known_hosts" "$H" stage '~/.xt/bin' "$T/xt-a" "$T/xt-b" >s2 2>&1 &
p2=$!
settle $p1
r1=$rc
settle $p2
t_ok "two stagings at once both succeed" test "$r1" -eq 0 -a "$rc" -eq 0
ssh_ exec 'cd .xt/bin && sha256sum xt-a xt-b && ls -A'
{ sha256sum xt-a xt-b; printf 'xt-a\nxt-b\n'; } >want
t_out_is want "and leave whole files, no temporary ones"

ssh_ exec 'cd .xt/bin && touch -d "2 hours ago" .xt-a.xt-tmp-1-0 && touch .xt-b.xt-tmp-2-0'
ssh_ stage '~/.xt/bin' "$T/xt-a" "$T/xt-b"
ssh_ exec 'ls -A .xt/bin'
printf '.xt-b.xt-tmp-2-0\nxt-a\nxt-b\n' >want
t_out_is want "a staging removes the temporary files left an hour ago, not newer ones"

ssh_ stage '~/.xt/bin' "$T/missing"
t_status 255 "a local file that is missing"
t_err_has "ssh-cli: $H: cannot read '$T/missing': No such file or directory" "is named"

# a second server, then down
if SSHD_USER=$user "$up" start "$T/b" >portb 2>why; then
	pb=$(cat portb)
	t_ok "a second server runs on another port" test "$pb" != "$port"
	t_run "$cli" -F none -i "$T/b/id_ed25519" -k "$T/b/known_hosts" "$user@127.0.0.1:$pb" connect
	t_status 0 "and takes its own key"
	"$up" stop "$T/b"
	t_run "$cli" -F none -i "$T/b/id_ed25519" -k "$T/b/known_hosts" "$user@127.0.0.1:$pb" connect
	t_status 255 "a box that is down"
	t_err_has "ssh-cli: $user@127.0.0.1:$pb: cannot connect: Connection refused" "gives a clear error"
else
	t_fail "a second server starts ($(tail -n 1 why))"
fi
t_run "$cli" -F none -t 500 -k "$A/known_hosts" "$user@192.0.2.1:22" connect
t_status 255 "a box that does not answer"
t_err_has "ssh-cli: $user@192.0.2.1:22: cannot connect: " "fails at the connect timeout"

t_run "$up" stop "$A"
t_ok "sshd stops by its PID" test "$rc" -eq 0 -a ! -e "$A/sshd.pid"
t_done
