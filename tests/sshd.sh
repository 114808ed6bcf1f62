# Sourced by the ssh tests after lib.sh, with R the top of the tree and
# sshd_login a name for the test's login: sets up (scripts/sshd-up.sh)
# and cli (the test driver tests/helper/ssh-cli; the static build has no
# helpers, so the everyday build's), or skips the whole test when sshd
# is not here. As root the login is a test user, sshd_login-PID, that
# the first server started makes (its home starts empty, /bin/sh) and
# its stop removes; else the user running the test.
up=$R/scripts/sshd-up.sh
cli=$XT_BIN/../helper/ssh-cli
[ -x "$cli" ] || cli=$R/build/helper/ssh-cli
[ -x "$cli" ] || { echo "not ok - no $cli (make all builds it)"; exit 1; }
if [ ! -x /usr/sbin/sshd ]; then
	echo "# SKIP no /usr/sbin/sshd here: sshd cannot start"
	t_done
	exit
fi
unset SSH_AUTH_SOCK XT_SSH_PASSPHRASE
# sshd reads DIR/authorized_keys as the user logging in
chmod 711 "$T"
if [ "$(id -u)" -eq 0 ]; then
	export SSHD_USER=$sshd_login-$$ SSHD_CREATE_USER=1
fi
