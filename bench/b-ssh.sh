#!/bin/sh
# b-ssh: short runs on two boxes over SSH, xt's ssh target against GNU
# parallel's --sshlogin (issue 13).
#   bench/b-ssh.sh BINDIR
#
# Two private OpenSSH servers on loopback (scripts/sshd-up.sh), two boxes
# on two ports; as root both log in as one test user made for the
# benchmark (removed at the end), whose home starts empty (else as the
# user running it). Side by side in one run, 2 runs at once a box:
#   xt        xt-submit -t lab -n N --wait -- true: N runs spread over the
#             two boxes, submitted and waited for; the store a folder both
#             sides write
#   parallel  seq N | parallel -S 2/boxa,2/boxb -j 2 -N0 true: the same
#             boxes, key and known_hosts, its defaults (one ssh per job)
#   parallel -M  the same with ssh's ControlMaster (--controlmaster), for
#             information
# Each side warms up once, not timed: xt's first submit stages its tools
# into each box (remote-dir), which later submits do not redo. Then ROUNDS
# rounds, interleaved (the order turns each round); the median counts.
# Time per run: the wall time of the whole command over N. Connections: the
# TCP connections each box's sshd accepted during the timed command
# ("Connection from" in its log, LogLevel VERBOSE), the busier box's, the
# most of the rounds. Goals: xt ahead of parallel per run (parallel/xt
# >= 1), one connection per box per submit.
# A peer that is missing (GNU parallel, ssh, sshd) fails the benchmark.
# Table on stdout, JSON in bench/out/results-ssh.json.
#
# Environment: BENCH_NRUNS (N, 200), BENCH_ROUNDS (3).
set -u
export LC_ALL=C TZ=UTC
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

[ $# -eq 1 ] && [ -x "$1/xt-submit" ] ||
    bench_usage "bench/b-ssh.sh BINDIR   (BINDIR holds xt-submit)"
bench_init b-ssh "$1"
OUT=$(mkdir -p "$here/out" && cd "$here/out" && pwd)
N=${BENCH_NRUNS:-200}
R=${BENCH_ROUNDS:-3}
case $N$R in *[!0-9]*) fail "BENCH_NRUNS and BENCH_ROUNDS must be whole numbers" ;; esac
[ "$N" -gt 0 ] && [ "$R" -gt 0 ] || fail "BENCH_NRUNS and BENCH_ROUNDS must be > 0"
JSON=$OUT/results-ssh.json
ROWS=$tmp/rows.json
: >"$ROWS"
ROW_PEER_W=16

command -v parallel >/dev/null || fail "'parallel' is missing: scripts/deps.sh bench installs GNU parallel"
parallel --version 2>/dev/null | grep -q 'GNU parallel' ||
    fail "'$(command -v parallel)' is not GNU parallel (moreutils' has the same name)"
command -v ssh >/dev/null || fail "'ssh' (the OpenSSH client, parallel's means) is missing"
[ -x /usr/sbin/sshd ] || fail "/usr/sbin/sshd is missing: scripts/deps.sh static installs openssh-server"
command -v python3 >/dev/null || fail "python3 is missing (scripts/sshd-up.sh picks free ports with it)"
parver=$(parallel --version 2>/dev/null | head -n 1)

# ---- the two boxes -----------------------------------------------------------
up=$root/scripts/sshd-up.sh
unset SSH_AUTH_SOCK XT_SSH_PASSPHRASE SSHD_PORT XT_WORKSPACE XT_EXPERIMENT XDG_CONFIG_HOME
# the boxes' user reads authorized_keys under $tmp, and writes the store
chmod 711 "$tmp"
if [ "$(id -u)" -eq 0 ]; then
	export SSHD_USER=xtbssh-$$
	create=1
	# shellcheck disable=SC2088 # the box expands it, in its user's home
	rdir='~/.xt-%p'
else
	unset SSHD_USER
	create=""
	# not in the user's own home: the ports differ each time
	rdir=$tmp/box-%p
fi
# b first: a's stop removes the user it made
trap '"$up" stop "$tmp/b" >/dev/null 2>&1; "$up" stop "$tmp/a" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
SSHD_CREATE_USER=$create "$up" start "$tmp/a" >"$tmp/pa" 2>"$tmp/why" ||
    fail "sshd (box a) does not start: $(tail -n 3 "$tmp/why" | tr '\n' ' ')"
# box b: the same login, a's keys
mkdir -p "$tmp/b"
chmod 711 "$tmp/b"
cp "$tmp/a/authorized_keys" "$tmp/b/authorized_keys"
"$up" start "$tmp/b" >"$tmp/pb" 2>"$tmp/why" ||
    fail "sshd (box b) does not start: $(tail -n 3 "$tmp/why" | tr '\n' ' ')"
user=$(cat "$tmp/a/user")
pa=$(cat "$tmp/pa")
pb=$(cat "$tmp/pb")
A=$user@127.0.0.1:$pa
B=$user@127.0.0.1:$pb
key=$tmp/a/id_ed25519
kh=$tmp/known_hosts
cat "$tmp/a/known_hosts" "$tmp/b/known_hosts" >"$kh"

# xt: the target
mkdir -p "$tmp/home" "$tmp/code" "$tmp/w"
echo x >"$tmp/code/x"
cat >"$tmp/xt.yaml" <<EOF
targets:
  lab:
    type: ssh
    max-runs: 2
    ssh-config: none
    remote-dir: $rdir
    hosts: [$A, $B]
    identity-file: $key
    known-hosts: $kh
EOF
export XT_HOME="$tmp/home" HOME="$tmp/home" XT_STORE="$tmp/store" XT_CONFIG="$tmp/xt.yaml"
# parallel: the boxes as ssh names them, the same key and known_hosts
cat >"$tmp/ssh_config" <<EOF
Host boxa
  HostName 127.0.0.1
  Port $pa
Host boxb
  HostName 127.0.0.1
  Port $pb
Host *
  User $user
  IdentityFile $key
  IdentitiesOnly yes
  UserKnownHostsFile $kh
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
EOF
chmod 644 "$tmp/ssh_config"
# parallel -M execs its ControlMaster with the whole --ssh string as the
# program's name ("ssh -F FILE": no such file, and no master): one word
printf '#!/bin/sh\nexec ssh -F "%s" "$@"\n' "$tmp/ssh_config" >"$tmp/ssh-m"
chmod 755 "$tmp/ssh-m"
# from here on the box's user writes where the submitter makes folders
umask 000
cd "$tmp/w" || fail "cannot enter '$tmp/w'"

now() { date +%s%N; }
conns() { grep -c '^Connection from' "$tmp/$1/sshd.log"; }
cmds() { grep -c '^Starting session: command' "$tmp/$1/sshd.log"; }

# xt_submit NRUNS: one submit and wait; wall ns in $ns; checks that the
# runs went to both boxes and completed, as their records say
xt_submit() {
	t0=$(now)
	"$bin/xt-submit" -t lab -n "$1" -C "$tmp/code" --wait -- true >"$tmp/xt.out" 2>"$tmp/xt.err" </dev/null ||
	    fail "xt-submit -t lab -n $1 --wait failed (exit $?): $(head -c 500 "$tmp/xt.err")"
	t1=$(now)
	ns=$((t1 - t0))
	n=$(grep -c '"run":"run' "$tmp/xt.out")
	[ "$n" -eq "$1" ] || fail "xt-submit printed $n runs, not $1"
	na=$(grep -c "\"box\":\"$A\"" "$tmp/xt.out")
	nb=$(grep -c "\"box\":\"$B\"" "$tmp/xt.out")
	[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || fail "the runs did not go to both boxes ($na on a, $nb on b)"
	par=$(sed -n 's/.*"parent":"\(run[0-9]*\)".*/\1/p' "$tmp/xt.out" | head -n 1)
	[ -n "$par" ] || fail "no parent run in xt-submit's output"
	n=$(cat "$XT_STORE/ws/ws1/runs/$par".*/run.json 2>/dev/null | grep -c '"status":"completed"')
	[ "$n" -eq "$1" ] || fail "xt: $n of $1 runs of $par completed"
}

# par_run NJOBS [OPTION]: parallel -S to both boxes; wall ns in $ns
par_run() {
	if [ "${2:-}" = -M ]; then
		set -- "$1" -M --ssh "$tmp/ssh-m"
	else
		set -- "$1" --ssh "ssh -F $tmp/ssh_config"
	fi
	c0=$(($(cmds a) + $(cmds b)))
	n=$1
	shift
	t0=$(now)
	seq "$n" | TMPDIR=$tmp parallel --will-cite -j 2 -N0 "$@" -S 2/boxa,2/boxb true \
	    >"$tmp/par.out" 2>"$tmp/par.err" || fail "parallel -S $* failed (exit $?): $(head -c 500 "$tmp/par.err")"
	t1=$(now)
	ns=$((t1 - t0))
	c=$(($(cmds a) + $(cmds b) - c0))
	# every job a remote command (-M: and the master's)
	[ "$c" -ge "$n" ] || fail "parallel ran $c commands on the boxes, not $n"
}

# ---- warm-up, not timed ----------------------------------------------------------
xt_submit 4
warm_xt=$ns
grep -q 'staged into' "$tmp/xt.err" || fail "the first submit staged no tools: $(head -c 300 "$tmp/xt.err")"
par_run 4
par_run 4 -M

# ---- the rounds ------------------------------------------------------------------
# side_S ROUND: one timed command; "SIDE ROUND NS CONNS_A CONNS_B" into $tmp/times
side_xt() { xt_submit "$N"; }
side_par() { par_run "$N"; }
side_parm() { par_run "$N" -M; }
sides="xt par parm"
: >"$tmp/times"
r=1
while [ "$r" -le "$R" ]; do
	order=$(echo "$sides" | awk -v k="$r" '{ for (i = 0; i < NF; i++) printf "%s ", $((i + k - 1) % NF + 1) }')
	for s in $order; do
		a0=$(conns a)
		b0=$(conns b)
		"side_$s"
		echo "$s $r $ns $(($(conns a) - a0)) $(($(conns b) - b0))" >>"$tmp/times"
	done
	r=$((r + 1))
done

# per run: median ms; connections: the busier box, the most of the rounds
ms() { awk -v s="$1" '$1 == s { print $3 }' "$tmp/times" | median | awk -v n="$N" '{ printf "%.4f", $1 / 1e6 / n }'; }
each() { awk -v s="$1" -v n="$N" '$1 == s { printf " %.2f", $3 / 1e6 / n }' "$tmp/times"; }
conn() { awk -v s="$1" '$1 == s { c = $4 > $5 ? $4 : $5; if (c > m) m = c } END { print m + 0 }' "$tmp/times"; }
conn_ab() { awk -v s="$1" '$1 == s { printf " %d+%d", $4, $5 }' "$tmp/times"; }
xt_ms=$(ms xt)
par_ms=$(ms par)
parm_ms=$(ms parm)
xt_c=$(conn xt)
par_c=$(conn par)
parm_c=$(conn parm)

echo "xt's ssh target against GNU parallel --sshlogin (issue 13)   $(date '+%Y-%m-%d %H:%M') UTC, $(uname -n), $(nproc) cpus"
echo "$N runs of 'true' over 2 boxes on loopback (sshd ports $pa, $pb; login $user), 2 at once a box; median of $R rounds, interleaved"
echo "warm-up, not timed: xt-submit -n 4 staged the tools into both boxes ($(calc "$warm_xt / 1e6") ms); parallel ran 4 jobs, with and without -M"
echo "peer: $parver; ssh -F FILE (the same key and known_hosts as xt), -j 2 -N0 -S 2/boxa,2/boxb"
echo "each round, ms per run: xt$(each xt); parallel$(each par); parallel -M$(each parm)"
echo "each round, connections box a+b: xt$(conn_ab xt); parallel$(conn_ab par); parallel -M$(conn_ab parm)"
name="xt-submit -t lab -n $N --wait"
header "$N short runs on 2 boxes (ms per run)"
row time "$name" "$xt_ms" ms "parallel -S" "$par_ms" "$(calc "$par_ms / $xt_ms")" ">=" 1 \
    "ratio: parallel's time over xt's"
row time "$name" "$xt_ms" ms "parallel -S -M" "$parm_ms" "$(calc "$parm_ms / $xt_ms")" "" "" \
    "ssh ControlMaster (--controlmaster)"
header "connections per box per submit"
row conn "$name" "$xt_c" conn "one a box" 1 "$xt_c" "<=" 1 \
    "ratio: xt's count; sshd's log, busier box, most of $R"
row conn "$name" "$xt_c" conn "parallel -S" "$par_c" "$(calc "$par_c / ($xt_c > 0 ? $xt_c : 1)")" "" "" \
    "one ssh per job"
row conn "$name" "$xt_c" conn "parallel -S -M" "$parm_c" "$(calc "$parm_c / ($xt_c > 0 ? $xt_c : 1)")" "" "" \
    "a master, and jobs started before it"

{
	printf '{"bench":"ssh","issue":13,"date":"%s","host":"%s","cpus":%s,"bin":"%s","peer":"%s",\n' \
	    "$(date '+%Y-%m-%dT%H:%M:%SZ')" "$(uname -n)" "$(nproc)" "$bin" "$parver"
	printf ' "runs":%s,"rounds":%s,"boxes":2,"per_box":2,"warmup_xt_ms":%s,\n' "$N" "$R" "$(calc "$warm_xt / 1e6")"
	printf ' "rounds_ms_per_run":{"xt":[%s],"parallel":[%s],"parallel_M":[%s]},\n' \
	    "$(each xt | sed 's/^ //; s/ /,/g')" "$(each par | sed 's/^ //; s/ /,/g')" "$(each parm | sed 's/^ //; s/ /,/g')"
} >"$tmp/json.head" || fail "cannot write '$tmp/json.head'"
json_write "$JSON" "$tmp/json.head"
echo
echo "ratio: time per run, parallel's over xt's (higher: xt ahead); connections: TCP connections an sshd accepted during one timed command"
echo "JSON: $JSON"
