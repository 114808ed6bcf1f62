#!/bin/sh
# xt-log out and show take a job (jobN) or a parent run (runN): every run of
# the job, in run order, each line after its run's name; with -f they follow
# the runs as they start and stop by themselves when every run has ended.
. "$(dirname "$0")/lib.sh"

bg=""
kill_bg() { for p in $bg; do kill "$p" 2>/dev/null; done; }
t_cleanup_hooks="kill_bg"

# prefixed FILE RUN...: each run's FILE (output.txt, log.jsonl), each line after "RUN: "
prefixed() {
	f=$1
	shift
	for r in "$@"; do
		sed "s/^/$r: /" "$XT_STORE/ws/ws1/runs/$r/$f"
	done
}

mkdir code
# each run prints a line, logs a metric, waits until the test lets it go, then does it again
cat >code/train.sh <<'EOF2'
echo "epoch 1 of $XT_RUN"
xt-log metric --step 1 acc=0.5
while [ ! -e "$GO" ]; do sleep 0.02; done
echo "epoch 2 of $XT_RUN"
xt-log metric --step 2 acc=0.6
EOF2
printf '{"i":1}\n{"i":2}\n{"i":3}\n' >hp
export GO="$T/go"
xt-submit -C code --hp hp -- sh train.sh >/dev/null
t_ok "a job of three runs: job1, run1.1 to run1.3" \
    test -e "$XT_STORE/ws/ws1/runs/run1.3/run.json" -a -e "$XT_STORE/ws/ws1/jobs/job1/job.json"

t_run xt-log out job1
t_status 0 "out of a job none of whose runs has started"
: >empty
t_out_is empty "prints nothing"
t_err_empty "and says nothing"

# the output files are made first (see grows in tests/lib.sh)
: >fout
: >sout
xt-log out -f job1 >>fout 2>ferr &
fpid=$!
xt-log show -f -e metrics run1 >>sout 2>serr &
spid=$!
bg="$fpid $spid"
xt-runq -j 3 >runq.out 2>runq.err &
runq=$!
bg="$bg $runq"
t_ok "out -f job1 prints each run's first line as the runs start" grows fout 3
t_ok "show -f -e metrics run1 (the parent) their first metrics" grows sout 3
t_ok "run1.1's line, after its name" grep -qx 'run1.1: epoch 1 of run1.1' fout
t_ok "run1.3's" grep -qx 'run1.3: epoch 1 of run1.3' fout
t_ok "run1.2's metrics line, after its name" \
    grep -q '^run1.2: {"time":"[^"]*","event":"metrics","step":1,"data":{"acc":0.5}}$' sout
t_ok "the followers go on while the runs run" kill -0 "$fpid"
touch "$GO"
wait "$runq"
t_ok "xt-runq drained the job" [ $? -eq 0 ]
settle "$fpid"
t_ok "out -f exits 0 by itself once every run has ended" [ "$rc" -eq 0 ]
settle "$spid"
t_ok "show -f too" [ "$rc" -eq 0 ]
bg=""
prefixed output.txt run1.1 run1.2 run1.3 >want
sort -s -t: -k1,1 fout >got
t_ok "out -f printed every line of every run, in order within each run" cmp -s want got
t_ok "and said nothing" [ ! -s ferr ]
prefixed log.jsonl run1.1 run1.2 run1.3 | grep '"event":"metrics"' >want
sort -s -t: -k1,1 sout >got
t_ok "show -f -e metrics printed every metrics line of every run" cmp -s want got
t_ok "two each" [ "$(grep -c '"event":"metrics"' sout)" -eq 6 ]

t_run xt-log out job1
t_status 0 "out of an ended job"
prefixed output.txt run1.1 run1.2 run1.3 >want
t_out_is want "prints each run's console in run order, each line after its name"
t_run xt-log show run1
t_status 0 "show of a parent run"
prefixed log.jsonl run1.1 run1.2 run1.3 >want
t_out_is want "prints its children's logs"
t_run xt-log out -f run1
t_status 0 "out -f of an ended parent"
prefixed output.txt run1.1 run1.2 run1.3 >want
t_out_is want "prints the consoles and stops"
t_run xt-log out run1.2
t_status 0 "out of one run"
t_out_is "$XT_STORE/ws/ws1/runs/run1.2/output.txt" "prints its console as it is, with no name"

# a console whose last line has no newline: the line is ended in the prefixed form
printf 'no newline' >tail
xt-put -a run1.3/output.txt <tail >/dev/null
t_run xt-log out job1
t_status 0 "a last line without a newline"
prefixed output.txt run1.1 run1.2 >want
sed 's/^/run1.3: /' "$XT_STORE/ws/ws1/runs/run1.3/output.txt" >>want
echo >>want
t_out_is want "gets one"

t_run xt-log out job9
t_status 1 "out of a job that does not exist"
t_err_has "xt-log: no job 'job9' in workspace 'ws1'" "says so"
t_run xt-log show -f job9
t_status 1 "follow it: fails at once"
t_err_has "no job 'job9'" "says so"
t_done
