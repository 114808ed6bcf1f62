#!/bin/sh
# Runs over several nodes on the slurm target, on a private cluster of two
# nodes on this machine (scripts/slurm-up.sh, SLURM_NODES=2): more nodes
# than the partition has refused at submit; a run of 2 nodes x 2 ranks in
# one sbatch of --nodes 2 --ntasks-per-node 2, each rank with torchrun's
# variables (its node's from SLURM, MASTER_ADDR the first node's address),
# every rank's console in the run's, labelled with its rank, rank 0's
# metrics the run's; a rank of the second node that fails fails the run
# and stops the first node's ranks, and one of the first node's stops the
# second's; xt-runq kill of such a run, and a scancel of its task by
# hand, cancel it and stop every rank; its time limit fails it as
# TIMEOUT; a torch.distributed all-reduce across the two nodes, whose
# ranks meet on a free port when the one their job's id gives is taken.
R=$(cd "$(dirname "$0")/.." && pwd)
tdir=$R/tests
. "$tdir/lib.sh"
. "$tdir/slurm.sh"
. "$tdir/torch.sh"
slurm_need
SLURM_NODES=2 SLURM_CPUS=4 slurm_start slurm
mkdir work
# every sbatch, logged: "TIME sbatch ARGS"
slurm_wrap sbatch
cd work || exit 1
cat >xt.yaml <<EOF
targets:
  hpc: {type: slurm, max-runs: 2, poll-interval: 1, time: "00:10:00"}
  short: {type: slurm, max-runs: 2, poll-interval: 1, time: "00:01:00"}
EOF
# the ranks write their environment and PID here (sbatch --export=ALL)
export PIDDIR="$T/work"
# rank.sh [fail-R]: say where it is, log a metric of its own, and end;
# with fail-R, rank R exits 7 after a second and the others wait
cat >rank.sh <<'EOF'
#!/bin/sh
echo "$RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $NODE_RANK $XT_RANK $SLURMD_NODENAME" \
    >"$PIDDIR/$XT_RUN.env.$RANK"
echo "$MASTER_ADDR $MASTER_PORT" >"$PIDDIR/$XT_RUN.master.$RANK"
echo "hello from rank $RANK"
echo '{"event": "metrics", "data": {"acc": '"$((RANK + 1))"'}}' >>"$XT_LOG"
case ${1:-} in
fail-*)
	if [ "$RANK" = "${1#fail-}" ]; then
		sleep 1
		echo "rank $RANK fails"
		exit 7
	fi
	echo $$ >"$PIDDIR/$XT_RUN.pid.$RANK"
	exec sleep 120 ;;
esac
EOF
chmod +x rank.sh
runof() { sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' "$T/out"; }
# gone RUN R...: the sleeping ranks R of RUN, which all wrote their PID,
# have exited (within 10 s)
gone() {
	_r=$1
	shift
	for _k; do
		[ -s "$_r.pid.$_k" ] || return 1
	done
	_i=0
	while [ $_i -lt 100 ]; do
		_left=""
		for _k; do
			kill -0 "$(cat "$_r.pid.$_k")" 2>/dev/null && _left=1
		done
		[ -z "$_left" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# the time limit first, in the background: Slurm checks limits about
# every 30 s, so it takes a minute or two; the other cases run meanwhile
xt-submit -t short --nodes 2 -- ./rank.sh fail-9 >short.out 2>short.err
shortrun=$(sed -n '1s/.*"run":"\(run[0-9]*\)".*/\1/p' short.out)

t_run xt-submit -t hpc --nodes 3 -- ./rank.sh
t_status 1 "a run over 3 nodes of a partition of 2 fails the submit"
t_err_has "sbatch --test-only refused" "saying sbatch refused it"
# more nodes than the partition's MaxNodes: refused by sbatch --test-only
# (a time over its MaxTime is let by: xt checks that itself, t8210)
scontrol create PartitionName=one Nodes=ALL MaxNodes=1
echo '  one: {type: slurm, partition: one, poll-interval: 1}' >>xt.yaml
t_run xt-submit -t one --nodes 2 -- ./rank.sh
t_status 1 "a run of more nodes than the partition's MaxNodes fails the submit"
t_err_has "sbatch --test-only refused the job: allocation failure: Requested node configuration is not available" \
    "in Slurm's words"
t_ok "and stores nothing" test ! -e "$XT_STORE/ws/ws1/jobs/job2"
scontrol delete PartitionName=one

# 2 nodes x 2 ranks
t_run timeout 120 xt-submit -t hpc --nodes 2 --procs-per-node 2 --wait -- ./rank.sh
t_status 0 "a run of 2 nodes x 2 ranks completes"
run=$(runof)
t_ok "in one sbatch of 2 nodes, 2 tasks a node" sh -c \
    "grep ' sbatch --parsable' '$T/calls' | tail -n 1 | grep -q -- '--nodes=2 --ntasks-per-node=2'"
cat >want <<'EOF'
0 0 4 2 0 0 n1
1 1 4 2 0 1 n1
2 0 4 2 1 2 n2
3 1 4 2 1 3 n2
EOF
cat "$run".env.* >got 2>/dev/null
t_ok "each rank with torchrun's variables, on its node" cmp -s want got
t_ok "one MASTER_ADDR, the first node's address, and one port for all" \
    test "$(sort -u "$run".master.* | wc -l) $(cut -d ' ' -f 1 "$run.master.0")" = "1 localhost"
t_ok "its status the run's record has" test "$(rec "$run" status)" = completed
t_ok "rank 0's metrics are the run's" test "$(rec "$run" metrics.acc)" = 1
grep 'hello' "$XT_STORE/ws/ws1/runs/$run/output.txt" | sort >got
cat >want <<'EOF'
0: hello from rank 0
1: hello from rank 1
2: hello from rank 2
3: hello from rank 3
EOF
t_ok "every rank's console in the run's, labelled with its rank" cmp -s want got
t_ok "the second node said how its ranks ended" \
    grep -q '"attempt":1,"exit_code":0}' "$XT_STORE/ws/ws1/runs/$run/node-1.json"

# a rank of the second node fails: the run fails, the first node's ranks are stopped
t_run timeout 120 xt-submit -t hpc --nodes 2 --procs-per-node 2 --wait -- ./rank.sh fail-3
t_status 7 "a run whose rank 3 (second node) fails, fails with its status"
run=$(runof)
t_ok "failed, saying which rank and how" \
    test "$(rec "$run" status): $(rec "$run" error) ($(rec "$run" exit_code))" = "failed: rank 3 exited with 7 (7)"
t_ok "the other ranks, of both nodes, are stopped" gone "$run" 0 1 2
t_ok "rank 3's console says it" grep -qx '3: rank 3 fails' "$XT_STORE/ws/ws1/runs/$run/output.txt"

# a rank of the first node fails: the second node's ranks are stopped
t_run timeout 120 xt-submit -t hpc --nodes 2 --procs-per-node 2 --wait -- ./rank.sh fail-1
t_status 7 "a run whose rank 1 (first node) fails, fails with its status"
run=$(runof)
t_ok "failed, saying which rank" \
    test "$(rec "$run" status): $(rec "$run" error)" = "failed: rank 1 exited with 7"
t_ok "the other ranks, of both nodes, are stopped" gone "$run" 0 2 3

# ranks_run RUN: wait until RUN's 4 ranks wrote their PIDs and it runs; false after 30 s
ranks_run() {
	_i=0
	while [ $_i -lt 300 ] && { [ "$(ls "$1".pid.* 2>/dev/null | wc -l)" -lt 4 ] ||
	    [ "$(rec "$1" status)" != running ]; }; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ $_i -lt 300 ]
}

# xt-runq kill of a running run over 2 nodes: cancelled, every rank stopped
xt-submit -t hpc --nodes 2 --procs-per-node 2 -- ./rank.sh fail-9 >"$T/out" 2>"$T/err"
run=$(runof)
t_ok "its 4 ranks run" ranks_run "$run"
t_run xt-runq kill -t hpc "$run"
t_status 0 "xt-runq kill of it"
t_ok "it ends cancelled" wait_status "$run" cancelled
t_ok "saying by whom" grep -q '"cancelled".*killed with xt-runq kill' \
    "$XT_STORE/ws/ws1/runs/$run/log.jsonl"
t_ok "every rank, of both nodes, is stopped" gone "$run" 0 1 2 3

# its task cancelled by hand: cancelled, saying so, every rank stopped
xt-submit -t hpc --nodes 2 --procs-per-node 2 -- ./rank.sh fail-9 >"$T/out" 2>"$T/err"
run=$(runof)
job=$(sed -n '1s/.*"job":"\(job[0-9]*\)".*/\1/p' "$T/out")
ranks_run "$run"
arr=$(sed -n 's/.*"array":\([0-9]*\).*/\1/p' "$XT_STORE/ws/ws1/jobs/$job/slurm.jsonl")
scancel "${arr}_1"
t_ok "a run over 2 nodes whose task is cancelled by hand ends cancelled" wait_status "$run" cancelled
t_ok "saying Slurm cancelled it" grep -q '"cancelled".*was cancelled (scancel)' \
    "$XT_STORE/ws/ws1/runs/$run/log.jsonl"
t_ok "every rank, of both nodes, is stopped" gone "$run" 0 1 2 3

# a real torch.distributed all-reduce of 2 x 2 gloo ranks
torch_python
if [ -z "$py" ]; then
	echo "# SKIP torch with gloo cannot be imported (apt-get install python3-torch): no all-reduce over 2 nodes"
else
	torch_allreduce allreduce.py
	# the port the next job's id gives (and the two after it) taken on the
	# first node: the ranks meet on one that is free
	jid=$(/usr/bin/sbatch --parsable --output=/dev/null --wrap true | cut -d ';' -f 1)
	python3 -c '
import socket, sys, time
held = []
for j in range(int(sys.argv[1]) + 1, int(sys.argv[1]) + 4):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", 20000 + j % 20000))
        s.listen()
    except OSError:
        pass
    held.append(s)
open(sys.argv[2], "w").write("held\n")
time.sleep(300)
' "$jid" "$T/held" &
	holder=$!
	i=0
	while [ $i -lt 100 ] && [ ! -s "$T/held" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	t_run timeout 180 xt-submit -t hpc --nodes 2 --procs-per-node 2 --wait -- "$py" allreduce.py
	t_status 0 "a torch.distributed run of 2 nodes x 2 ranks completes, its job id's port taken"
	kill "$holder"
	run=$(runof)
	t_ok "its all-reduced sum of the ranks 0..3 is 6, in a world of 4" \
	    test "$(rec "$run" metrics.sum) $(rec "$run" metrics.world)" = "6 4"
fi

# the time limit (a minute, checked every 30 s or so: bounded here by 4 minutes)
i=0
while [ $i -lt 1200 ] && [ "$(rec "$shortrun" status)" = running ]; do
	sleep 0.2
	i=$((i + 1))
done
run=$shortrun
case "$(rec "$run" status): $(rec "$run" error)" in
"failed: Slurm stopped its job "[0-9]*": TIMEOUT (its time limit)") timeout_ok=1 ;;
*) timeout_ok=0 ;;
esac
t_ok "a run over 2 nodes stopped by its time limit fails as Slurm's TIMEOUT" test $timeout_ok = 1
t_ok "its ranks, of both nodes, are stopped" gone "$run" 0 1
t_done
