#!/bin/sh
# The ssh target against two real OpenSSH servers on loopback
# (scripts/sshd-up.sh), two boxes on two ports: as root both log in as
# one test user made for this test, whose home starts empty and who has
# no xt on its PATH (else the user running it); each box keeps its own
# spool (remote-dir ~/.xt-%p). The store is a folder both sides see (made
# with umask 000, so the box's user may write where the submitter made
# folders), then Azurite. A sweep of 8 runs with max-runs 2 a box, the
# tools staged once; --wait; xt-log out -f of a remote run; kill of a
# remote job; a box's xt-runq killed with -9 mid-job, restarted by
# xt-runq ls; a box that is down, then both; host keys unknown and
# changed, a wrong key, a wrong passphrase; a store the box does not
# reach; a submit whose hand-over failed, finished by the next look.
R=$(cd "$(dirname "$0")/.." && pwd)
tdir=$R/tests
. "$tdir/lib.sh"

sshd_login=xt8100
. "$tdir/sshd.sh"
stop_sshd() { "$up" stop "$T/a"; "$up" stop "$T/b"; }
t_cleanup_hooks="$t_cleanup_hooks stop_sshd"
if ! "$up" start "$T/a" >pa 2>why; then
	echo "# SKIP sshd cannot start: $(tail -n 3 why | tr '\n' ' ')"
	t_done
	exit
fi
# box b: the same login, a's keys
mkdir -p "$T/b"
chmod 711 "$T/b"
cp "$T/a/authorized_keys" "$T/b/authorized_keys"
if ! "$up" start "$T/b" >pb 2>why; then
	echo "not ok - the second sshd does not start: $(tail -n 3 why | tr '\n' ' ')"
	exit 1
fi
user=$(cat "$T/a/user")
pa=$(cat pa)
pb=$(cat pb)
A=$user@127.0.0.1:$pa
B=$user@127.0.0.1:$pb
cat "$T/a/known_hosts" "$T/b/known_hosts" >kh
echo "# INFO boxes $A and $B"
box() { "$cli" -F none -i "$T/a/id_ed25519" -k kh "$1" exec "$2"; }

umask 000
# targets.NAME, with the settings of the arguments (YAML lines) after the common ones
sanenv=""
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	eval "val=\${$v:-}"
	[ -n "$val" ] && sanenv="$sanenv $v: \"$val\","
done
conf() {
	name=$1
	shift
	{
		echo "  $name:"
		echo "    type: ssh"
		echo "    max-runs: 2"
		echo "    ssh-config: none"
		echo "    remote-dir: ~/.xt-%p"
		echo "    env: {$sanenv}"
		for l; do echo "    $l"; done
	} >>xt.yaml
}
echo "targets:" >xt.yaml
conf lab "hosts: [$A, $B]" "identity-file: $T/a/id_ed25519" "known-hosts: $T/kh"
conf one "hosts: [$A]" "identity-file: $T/a/id_ed25519" "known-hosts: $T/kh"
conf dead "hosts: [$B, $user@127.0.0.1:$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')]" "identity-file: $T/a/id_ed25519" "known-hosts: $T/kh"
conf unknown "hosts: [$A]" "identity-file: $T/a/id_ed25519" "known-hosts: $T/none"
conf changed "hosts: [$A]" "identity-file: $T/a/id_ed25519" "known-hosts: $T/changed"
conf acceptnew "hosts: [$A]" "identity-file: $T/a/id_ed25519" "known-hosts: $T/kh-acc" \
    "accept-new-hosts: yes"
conf stranger "hosts: [$A]" "identity-file: $T/other_id" "known-hosts: $T/kh"
conf locked "hosts: [$A]" "identity-file: $T/a/id_ed25519_pw" "known-hosts: $T/kh"
conf bad "hosts: [$A, 'a@']" "identity-file: $T/a/id_ed25519"

mkdir code
cat >code/train.sh <<'EOS'
# train.sh LR [SECS]: notes its start and end in the trace (a line each,
# with its box's XT_HOME), logs a metric with the box's xt-log
echo "start $XT_RUN $XT_HOME" >>"$TRACE"
sleep "${2:-0.5}"
xt-log metric "acc=${1#--lr=}" || exit 1
echo "trained $1 on $(id -un)"
echo "end $XT_RUN $XT_HOME" >>"$TRACE"
EOS
cat >code/slow.sh <<'EOS'
echo "start $XT_RUN $XT_HOME" >>"$TRACE"
i=0
while [ $i -lt 5 ]; do echo "line $i"; i=$((i + 1)); sleep 0.3; done
sleep "${1:-0}"
echo "end $XT_RUN $XT_HOME" >>"$TRACE"
EOS
export TRACE=$T/trace
: >"$TRACE"
# the run's environment gets TRACE from the box's env
sed -i "s|env: {|env: {TRACE: \"$TRACE\",|" xt.yaml
hp=$T/hp.yaml
for v in 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8; do echo "{\"lr\": $v}"; done >"$hp"

# of xt-report --json's runs in out, into sum: "CHILDREN COMPLETED WITH-ACC"
sweep_sum() {
	python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
kids = [r for r in rs if "." in r["run"]]
print(len(kids), sum(r["status"] == "completed" for r in kids),
    sum("acc" in r.get("metrics", {}) for r in kids))' out >sum
}

# ---- a box with nothing installed
t_run box "$A" 'command -v xt-runq && exit 0; ls -A; exit 1'
t_status 1 "the box has no xt on its PATH"
t_ok "and its home starts empty" test ! -s "$T/out"

# ---- the sweep
t_run xt-submit -t lab --hp "$hp" -C code --wait -- sh train.sh
t_status 0 "a sweep of 8 runs on two boxes, --wait: all completed"
t_ok "each box had the tools staged" test "$(grep -c 'tools staged into' err)" -eq 2
t_err_has "xt: lab: $A: 8 tools staged into ~/.xt-$pa/bin" "said once a box"
t_ok "each run's end said on stderr" \
    test "$(grep -c '^xt-submit: run[0-9]*\.[0-9]* completed after [0-9.]*s$' "$T/err")" -eq 8
t_ok "and a summary last" test "$(tail -n 1 "$T/err")" = "xt-submit: 8 runs: 8 completed"
t_run xt-report -c run,status,acc --json
sweep_sum
t_ok "8 runs, completed, each with its metric in the store" test "$(cat sum)" = "8 8 8"
awk '{ b = $3; n[b] += ($1 == "start") ? 1 : -1; if (n[b] > m[b]) m[b] = n[b]; s[b] += ($1 == "start") }
    END { for (b in m) print b, s[b], m[b] }' "$TRACE" | sort >conc
cat conc | sed 's/^/# INFO box, runs, most at once: /'
t_ok "the runs went to both boxes, 4 each" sh -c 'test "$(cut -d" " -f2 conc | tr "\n" " ")" = "4 4 "'
t_ok "never more than 2 at once on a box" sh -c '! awk "\$3 > 2" conc | grep -q .'
t_ok "the box's runs ran as its login" grep -q "on $user" "$T/store/ws/ws1/runs/run1.1/output.txt"

: >"$TRACE"
t_run xt-submit -t lab -n 2 -C code --wait -- sh train.sh 0.9
t_status 0 "a second submit"
t_ok "copies no tool" sh -c '! grep -q "staged" err'

# the static build's test (t9100) runs the sweeps only
if [ -z "${T8100_SWEEPS_ONLY:-}" ]; then
# ---- xt-runq ls and xt-log out -f of a remote run
t_run xt-submit -t one -C code -- sh slow.sh
t_status 0 "a run on one box"
xt-log out -f run3 >follow 2>ferr &
fpid=$!
settle $fpid
t_ok "xt-log out -f follows the remote run's console to its end" test "$rc" -eq 0
printf 'line 0\nline 1\nline 2\nline 3\nline 4\n' >want
t_ok "every line, through the store" cmp -s want follow

# ---- kill a remote job
xt-submit -t lab -n 3 -C code -- sh slow.sh 30 >/dev/null 2>&1
t_run xt-runq -t lab ls
i=0
while [ "$(grep -c '"running"' out)" -lt 3 ] && [ $i -lt 100 ]; do
	sleep 0.1
	t_run xt-runq -t lab ls
	i=$((i + 1))
done
t_ok "xt-runq ls shows the job's runs running on the boxes" test "$(grep -c '"state":"running".*"box"' out)" -ge 1
t_run xt-runq -t lab kill job4
t_status 0 "xt-runq kill JOB of a remote job"
i=0
while [ "$(rec run4.1 status)$(rec run4.2 status)$(rec run4.3 status)" != cancelledcancelledcancelled ] &&
    [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "its runs are cancelled" test "$(rec run4.1 status)$(rec run4.2 status)$(rec run4.3 status)" = cancelledcancelledcancelled
t_run xt-runq -t lab kill run99
t_status 1 "a run no box holds"
t_err_has "'run99': no such run or job in target 'lab'" "is said"
# requeued, a run goes back to a box, not into this machine's spool
t_run xt-runq -t lab requeue run4.2
t_status 0 "xt-runq requeue of a cancelled remote run"
t_err_has "run4.2 requeued (target lab)" "says where it goes"
t_run xt-runq ls
t_ok "this machine's spool holds nothing of it" test ! -s out
t_run xt-runq -t lab ls
i=0
while ! grep -q '"run":"run4.2".*"box"' out && [ $i -lt 100 ]; do
	sleep 0.1
	t_run xt-runq -t lab ls
	i=$((i + 1))
done
t_ok "a box holds it again" grep -q '"run":"run4.2".*"box"' out
t_run xt-runq -t lab kill run4.2
i=0
while [ "$(rec run4.2 status)" != cancelled ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t_ok "and it can be stopped again" test "$(rec run4.2 status)" = cancelled

# ---- the box's xt-runq killed with -9 mid-job
: >"$TRACE"
xt-submit -t one -n 4 --retries 1 -C code -- sh train.sh 0.5 2 >sub.out 2>&1
t_ok "4 runs on one box" grep -q run5.4 sub.out
i=0
while [ "$(grep -c ^start "$TRACE")" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pids=$(pgrep -u "$user" -f 'xt-runq' || true)
t_ok "the box's xt-runq processes are there" test -n "$pids"
kill -9 $pids
sleep 0.2
t_run xt-runq -t one ls
t_status 0 "xt-runq ls after the box's xt-runq died"
i=0
while [ "$(xt-report -c run,status 2>/dev/null | grep -c 'run5\.. .*completed')" -lt 4 ] && [ $i -lt 300 ]; do
	sleep 0.1
	xt-runq -t one ls >/dev/null 2>&1
	i=$((i + 1))
done
t_run xt-report -c run,status
t_ok "every run of the job completed in the end" test "$(grep -c 'run5\.. .*completed' out)" -eq 4
t_ok "none ran to its end twice" sh -c '! grep ^end "$1" | sort | uniq -d | grep -q .' - "$TRACE"
t_ok "the 2 runs cut short started again" test "$(grep ^start "$TRACE" | sort | uniq -d | wc -l)" -eq 2
t_ok "each run ended once in its log" test "$(cat "$T"/store/ws/ws1/runs/run5.?/log.jsonl | grep -c '"ended"')" -eq 4

# ---- a box that dies mid-run: its runs are retried on the other
: >"$TRACE"
xt-submit -t lab -n 4 --retries 1 -C code -- sh train.sh 0.5 3 >/dev/null 2>&1
i=0
while [ "$(grep -c ^start "$TRACE")" -lt 4 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t_ok "4 runs started, 2 on each box" test "$(grep -c "^start .*xt-$pb\$" "$TRACE")" -eq 2
job=$(ls -t "$T/store/ws/ws1/jobs" | head -n 1)
"$up" stop "$T/b"
# box b dies: its sshd is gone, and every process of its login there
for p in $(pgrep -u "$user" || true); do
	grep -qz "^XT_HOME=.*/.xt-$pb\$" "/proc/$p/environ" 2>/dev/null && kill -9 "$p"
done
t_run xt-runq -t lab ls
t_status 0 "xt-runq ls with a box that died"
t_err_has "box $B: $B: cannot connect" "says the box does not answer"
t_err_has "its box $B cannot be reached" "and that its runs are lost"
i=0
while [ "$(xt-report --parents -c job,status 2>/dev/null | grep -c "$job .*completed")" -lt 5 ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_run xt-report --parents -c run,job,status,attempt,box
t_ok "every run of the job completed" test "$(grep -c "$job .*completed" out)" -eq 5
t_ok "the 2 lost ones on the other box, attempt 2" test "$(grep -c "$job .*completed *2 *$A" out)" -eq 2
t_ok "their log says why they were retried" sh -c 'cat "$1"/store/ws/ws1/runs/run*/log.jsonl | grep "\"retry\"" | grep -q "its box $2 cannot be reached"' - "$T" "$B"
SSHD_PORT=$pb "$up" start "$T/b" >/dev/null 2>b.err || cat b.err
t_run xt-runq -t lab ls
t_status 0 "the box comes back"
i=0
while grep -qF "\"box\":\"$B\"" out && [ $i -lt 100 ]; do sleep 0.1; t_run xt-runq -t lab ls; i=$((i + 1)); done
t_ok "and drops the runs that moved away" sh -c '! grep -qF "\"box\":\"$1\"" "$2/out"' - "$B" "$T"
t_ok "without running them again" test "$(grep -c ^start "$TRACE")" -eq 6
t_ok "none ran to its end twice" sh -c '! grep ^end "$1" | sort | uniq -d | grep -q .' - "$TRACE"

# ---- submits killed with SIGKILL at any point: each job is whole, or gone
: >"$TRACE"
# the kills land from the start to past the end of a submit that is not killed
t0=$(date +%s%N)
xt-submit -t lab -n 3 -C code -- sh train.sh 0.2 0.1 >/dev/null 2>&1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# INFO a submit took $ms ms"
ls "$T/store/ws/ws1/jobs" >jobs.before
for k in 0 1 2 3 4 5 6 7 8 9 10 11 12 14; do
	d=$(awk -v m="$ms" -v k="$k" 'BEGIN { printf "%.3f", m * k / 10000 }')
	xt-submit -t lab -n 3 -C code -- sh train.sh 0.2 0.1 >/dev/null 2>&1 &
	kpid=$!
	sleep $d
	kill -9 $kpid 2>/dev/null
	wait $kpid 2>/dev/null
done
t_run xt-runq -t lab ls
t_status 0 "xt-runq ls after 14 submits killed at 0 to 1.4 times a submit's time"
ls "$T/store/ws/ws1/jobs" >jobs.after
new=$(comm -13 jobs.before jobs.after | tr '\n' ' ')
echo "# INFO jobs left by the killed submits: ${new:-none}"
i=0
while [ $i -lt 200 ]; do
	xt-report -c job,status >rep 2>/dev/null
	left=0
	for j in $new; do grep -q "^$j .*completed" rep || left=1; done
	for j in $new; do [ "$(grep -c "^$j " rep)" -eq "$(grep -c "^$j .*completed" rep)" ] || left=1; done
	[ $left -eq 0 ] && break
	sleep 0.1
	xt-runq -t lab ls >/dev/null 2>&1
	i=$((i + 1))
done
t_ok "no job is left allocating" sh -c '! cat "$1"/store/ws/ws1/jobs/*/job.json | grep -q allocating' - "$T"
t_ok "every run of every job stored completed" test "$left" -eq 0
t_ok "each ran to its end once" sh -c '! grep ^end "$1" | sort | uniq -d | grep -q .' - "$TRACE"
xt-report -c job,run,status >rep
t_ok "each stored job has its 3 runs" sh -c 'for j in $2; do [ "$(awk -v j="$j" "\$1 == j && \$2 ~ /\\./" "$1" | wc -l)" -eq 3 ] || exit 1; done' - rep "$new"

# ---- a box that is down, then both
"$up" stop "$T/b"
t_run xt-submit -t lab -n 2 -C code --wait -- sh train.sh 0.1
t_status 0 "with one box down the submit goes on"
t_err_has "target 'lab': box $B skipped: $B: cannot connect" "warning that it is skipped"
t_ok "its runs went to the other" sh -c 'grep -c "\"box\":\"$1\"" out | grep -qx 2' - "$A"
ls "$T/store/ws/ws1/jobs" >jobs.before
t_run xt-submit -t dead -n 2 -C code -- sh train.sh 0.1
t_status 1 "with no box up the submit fails"
t_err_has "target 'dead': no box can take runs; the last said: $user@127.0.0.1:" "saying why"
t_err_has "cannot connect" "which is that it cannot connect"
ls "$T/store/ws/ws1/jobs" >jobs.after
t_ok "before anything is stored" cmp -s jobs.before jobs.after
SSHD_PORT=$pb "$up" start "$T/b" >/dev/null 2>b.err || cat b.err
t_ok "box b is up again" "$up" status "$T/b"

# ---- host keys, keys, passphrases
t_run xt-submit -t unknown -C code -- sh train.sh 0.1
t_status 1 "an unknown host key is refused"
fp=$(ssh-keygen -lf "$T/a/host_ed25519.pub" | cut -d' ' -f2)
t_err_has "Host key verification failed for [127.0.0.1]:$pa: the host key is unknown (ED25519 $fp)" "as OpenSSH words it, with the fingerprint"
ssh-keygen -q -t ed25519 -N '' -C other -f other_host
awk -v h="[127.0.0.1]:$pa" '{ print h, $1, $2 }' other_host.pub >changed
t_run xt-submit -t changed -C code -- sh train.sh 0.1
t_status 1 "a changed host key is refused"
t_err_has "Host key verification failed for [127.0.0.1]:$pa: the host key changed (ED25519 $fp)" "saying so"
t_run xt-submit -t acceptnew -C code --wait -- sh train.sh 0.1
t_status 0 "accept-new-hosts: yes takes a new box's key"
t_ok "and records it" grep -q "^\[127.0.0.1\]:$pa ssh-ed25519" kh-acc
ssh-keygen -q -t ed25519 -N '' -C nobody -f other_id
t_run xt-submit -t stranger -C code -- sh train.sh 0.1
t_status 1 "a key the box does not know is refused"
t_err_has "$A: permission denied (publickey)" "saying so"
XT_SSH_PASSPHRASE=NotTheSecret7 t_run xt-submit -t locked -C code -- sh train.sh 0.1
t_status 1 "a wrong passphrase is refused"
t_err_has "cannot decrypt key $T/a/id_ed25519_pw: wrong passphrase" "saying so"
t_ok "without the passphrase in the message" sh -c '! grep -q NotTheSecret7 "$1"' - "$T/err"
XT_SSH_PASSPHRASE=testpass t_run xt-submit -t locked -C code --wait -- sh train.sh 0.1
t_status 0 "the right passphrase"
t_run xt-submit -t bad -C code -- sh train.sh 0.1
t_status 2 "a bad host name is a usage error"
t_err_has "xt.yaml:" "naming the configuration's line"
t_err_has "host 'a@': bad host name 'a@'" "and the host"

# ---- a store the box does not reach
mkdir -m 700 private
t_run xt-submit -s "$T/private/store" -t one -C code -- sh train.sh 0.1
t_status 1 "a store the box cannot see is refused"
t_err_has "$A: the box does not reach store 'file://$T/private/store'" "saying so"
t_ok "before the job is stored" test ! -e "$T/private/store/ws/ws1/jobs"

# ---- a hand-over that failed is finished by the next look
qdir=$(getent passwd "$user" | cut -d: -f6)/.xt-$pa/spool/queue
chmod 555 "$qdir"
t_run xt-submit -t one -n 2 -C code -- sh train.sh 0.3
t_status 1 "a box that cannot queue the runs fails the submit"
t_err_has "hands its runs to target 'one'" "saying the job is stored and who hands its runs over"
job=$(ls -t "$T/store/ws/ws1/jobs" | head -n 1)
chmod 755 "$qdir"
t_run xt-runq -t one ls
t_status 0 "the next xt-runq ls"
t_err_has "$job: finished what xt-submit" "hands them over"
i=0
while [ "$(xt-report --parents -c job,status 2>/dev/null | grep -c "$job .*completed")" -lt 3 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_ok "and they complete" test "$(xt-report --parents -c job,status | grep -c "$job .*completed")" -eq 3

# ---- a hand-over finished while the box it named is down: the runs go to another
qdirb=$(getent passwd "$user" | cut -d: -f6)/.xt-$pb/spool/queue
chmod 555 "$qdirb"
t_run xt-submit -t lab -n 4 -C code -- sh train.sh 0.1
t_status 1 "box b cannot queue its share of the runs"
job=$(ls -t "$T/store/ws/ws1/jobs" | head -n 1)
chmod 755 "$qdirb"
xt-report -c run,job,box >placed 2>&1
t_ok "2 of them were placed on box b" test "$(grep -c "^run[0-9]*\.[0-9]* *$job *$B" placed)" -eq 2
"$up" stop "$T/b"
t_run xt-submit -t lab -C code --wait -- sh train.sh 0.1
t_status 0 "the next submit, with box b down"
t_err_has "$job: finished what xt-submit" "finishes the hand-over"
i=0
while [ "$(xt-report -c job,status 2>/dev/null | grep -c "$job .*completed")" -lt 4 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_run xt-report -c run,job,status,box
t_ok "all 4 runs completed, on box a, with no xt-runq ls" test "$(grep "$job .*completed *$A" out | grep -c "^run[0-9]*\.")" -eq 4
SSHD_PORT=$pb "$up" start "$T/b" >/dev/null 2>b.err || cat b.err
t_ok "box b is up again" "$up" status "$T/b"

fi

# ---- the same sweep with the store on Azurite
az_optional=1
. "$R/tests/azurite.sh"
if [ -n "$ep" ]; then
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
	unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
	AZ=az://$acct/t8100-$$
	: >"$TRACE"
	t_run xt-submit -s "$AZ" -t lab --hp "$hp" -C code --wait -- sh train.sh
	t_status 0 "the sweep with the store on Azurite"
	t_run xt-report -s "$AZ" -c run,status,acc --json
	sweep_sum
	t_ok "8 runs completed, each with its metric, in the Azure store" test "$(cat sum)" = "8 8 8"
	t_ok "on both boxes" test "$(awk '$1 == "start" { print $3 }' "$TRACE" | sort -u | wc -l)" -eq 2
	t_run box "$A" "stat -c %a ~/.xt-$pa/azure"
	t_ok "the box's credentials file is its login's alone (0600)" test "$(cat out)" = 600
	t_ok "no credential in the box's log" sh -c '! grep -q "$1" "$2"/.xt-*/runq.log' - "$key" "$(getent passwd "$user" | cut -d: -f6)"
else
	echo "# SKIP the Azure sweep: $az_why"
fi
[ -n "${KEEP:-}" ] && { cp -r "$T" /tmp/keep8100; }
t_done
