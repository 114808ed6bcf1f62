#!/bin/sh
# A real torch.distributed job on the local target: a run of 4 processes
# (--procs-per-node 4) joins one gloo process group from the environment
# that xt-runq gives each rank, all-reduces its rank, and rank 0 logs the
# sum as the run's metric. Skipped only when torch cannot be imported
# (Debian's python3-torch, for /usr/bin/python3: scripts/deps.sh check).
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/torch.sh"

torch_python
if [ -z "$py" ]; then
	echo "1..0 # SKIP torch with gloo cannot be imported (apt-get install python3-torch)"
	exit 0
fi

mkdir code
torch_allreduce code/allreduce.py
t_run xt-submit -C code --procs-per-node 4 -- "$py" allreduce.py
t_status 0 "submit a run of 4 ranks"
t_run xt-runq
t_status 0 "it runs"
t_ok "and completes" test "$(rec run1 status)" = completed
t_ok "the all-reduced sum of the ranks 0..3 is 6" test "$(rec run1 metrics.sum)" = 6
t_ok "logged by rank 0, of a world of 4" \
    test "$(rec run1 metrics.rank) $(rec run1 metrics.world)" = "0 4"
t_run xt-get -c run1/output.txt
sort "$T/out" >got
printf '%s\n' '0: rank 0 of 4 sum 6' '1: rank 1 of 4 sum 6' '2: rank 2 of 4 sum 6' \
    '3: rank 3 of 4 sum 6' >want
t_ok "each rank saw the sum, its line labelled" cmp -s want got
t_done
