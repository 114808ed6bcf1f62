#!/bin/sh
# GPUs on the local target: a run of --gpus K gets K GPUs of the pool
# (targets.local.gpus) in CUDA_VISIBLE_DEVICES, never one that another run
# holds, across several xt-runq draining one spool; it waits while they
# are taken, and others that fit go first; a holder killed with -9 lets
# them go; asking for more than the pool is refused at submit.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/g.sh <<'EOS'
echo "start $(date +%s.%N) ${CUDA_VISIBLE_DEVICES-unset}"
sleep "${1:-0.4}"
echo "end $(date +%s.%N)"
EOS
# the command itself: it dies with its executor (PR_SET_PDEATHSIG), leaving nothing
cat >code/hold.sh <<'EOS'
echo "start 0 ${CUDA_VISIBLE_DEVICES-unset}"
exec sleep 1000
EOS

t_run xt-submit -C code --gpus 1 -- sh g.sh
t_status 2 "--gpus on a machine without GPUs or a pool"
t_err_has "xt-submit: --gpus 1: target 'local' has no GPUs (none found on this machine, and no targets.local.gpus)" "is refused, saying why"

printf 'targets:\n  local:\n    gpus: [0, 1, 2]\n' >xt.yaml
t_run xt-submit -C code --gpus 4 -- sh g.sh
t_status 2 "--gpus 4 with a pool of 3"
t_err_has "xt-submit: --gpus 4: target 'local' has only 3 GPUs" "is refused, saying why"
t_ok "and nothing is stored" [ ! -d "$XT_STORE/ws" ]

i=0
while [ $i -lt 8 ]; do
	xt-submit -C code --gpus 2 -- sh g.sh >/dev/null
	i=$((i + 1))
done
t_ok "the run records say gpus 2" test "$(rec run1 gpus)" = 2
xt-runq -j 3 >/dev/null 2>&1 &
a=$!
xt-runq -j 3 >/dev/null 2>&1 &
b=$!
settle $a
ra=$rc
settle $b
t_ok "two xt-runq -j 3 drain 8 runs of 2 GPUs each" [ $ra -eq 0 -a $rc -eq 0 ]
k=0
for r in 1 2 3 4 5 6 7 8; do
	[ "$(rec run$r status)" = completed ] && k=$((k + 1))
	xt-get -c run$r/output.txt | sed "s/^/run$r /" >>lines
done
t_ok "every run completed" [ $k -eq 8 ]
t_run python3 -c '
import itertools
runs = {}
for l in open("lines"):
    w = l.split()
    r = runs.setdefault(w[0], {})
    if w[1] == "start":
        r["start"], r["gpus"] = float(w[2]), w[3].split(",")
    else:
        r["end"] = float(w[2])
bad = []
for (a, x), (b, y) in itertools.combinations(sorted(runs.items()), 2):
    if set(x["gpus"]) & set(y["gpus"]) and x["start"] < y["end"] and y["start"] < x["end"]:
        bad.append("%s %s share %s" % (a, b, set(x["gpus"]) & set(y["gpus"])))
for a, x in runs.items():
    if len(set(x["gpus"])) != 2 or not set(x["gpus"]) <= {"0", "1", "2"}:
        bad.append("%s got %s" % (a, x["gpus"]))
print(len(runs), *bad)'
t_ok "each got 2 GPUs of the pool, and no GPU was held by two runs at once" grep -qx 8 "$T/out"

# a run that waits for GPUs stays queued; one that needs none goes first
xt-submit -C code --gpus 2 -- sh g.sh 1 >/dev/null
xt-submit -C code --gpus 2 -- sh g.sh 0.2 >/dev/null
xt-submit -C code -- sh g.sh 0.2 >/dev/null
t_run xt-runq -j 3
t_status 0 "drain runs 9 (2 GPUs), 10 (2 GPUs) and 11 (none)"
st() { xt-get -c "$1/output.txt" | sed -n "s/^$2 \([^ ]*\).*/\1/p"; }
t_ok "run 11 started before run 9 ended" python3 -c "import sys; sys.exit(not $(st run11 start) < $(st run9 end))"
t_ok "run 10 waited for run 9's GPUs" python3 -c "import sys; sys.exit(not $(st run10 start) >= $(st run9 end))"
t_run xt-get -c run11/output.txt
t_ok "a run without --gpus sees none when there is a pool" grep -q '^start [0-9.]* $' "$T/out"

# an executor killed with -9 lets its GPUs go
xt-submit -C code --gpus 3 -- sh hold.sh >/dev/null
xt-submit -C code --gpus 3 -- sh g.sh 0.1 >/dev/null
xt-runq >/dev/null 2>&1 &
runq=$!
t_ok "run 12, holding the whole pool, starts" wait_status run12 running
t_run xt-runq ls
pid=$(sed -n 's/.*"run":"run12".*"pid":\([0-9]*\).*/\1/p' "$T/out")
t_ok "its executor has a pid" [ -n "$pid" ]
kill -9 "$pid"
settle $runq
t_ok "run 13 gets the GPUs after all" test "$(rec run13 status)" = completed
t_run xt-get -c run13/output.txt
t_ok "all three" grep -q '^start [0-9.]* 0,1,2$' "$T/out"

# without a pool the variable is left as it was
rm xt.yaml
xt-submit -C code -- sh g.sh 0 >/dev/null
CUDA_VISIBLE_DEVICES=5 xt-runq >/dev/null 2>&1
t_run xt-get -c run14/output.txt
t_ok "without a pool CUDA_VISIBLE_DEVICES is left alone" grep -q '^start [0-9.]* 5$' "$T/out"
printf 'targets:\n  local:\n    gpus: [0, "a b"]\n' >xt.yaml
t_run xt-runq
t_status 2 "a bad GPU id in the pool"
t_err_has "GPU 'a b' is not a number or a name" "is refused, saying why"
t_done
