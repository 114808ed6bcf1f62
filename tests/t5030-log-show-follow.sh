#!/bin/sh
# xt-log show prints a run's event log (filtered with -e), xt-log out its
# console; with -f both follow the run as it grows and stop by themselves
# when its record says it has ended.
. "$(dirname "$0")/lib.sh"

iso='"time":"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]Z"'
bg=""
kill_bg() { [ -z "$bg" ] || kill "$bg" 2>/dev/null; }
t_cleanup_hooks="kill_bg"

# record RUN STATUS: put the run's record by hand, as xt-runq would
record() {
	printf '{"ws":"ws1","run":"%s","status":"%s"}\n' "$1" "$2" >rec.json
	xt-put rec.json ":ws/ws1/runs/$1/run.json" >/dev/null
}

# settle_bg PID: settle (tests/lib.sh) at most 100 polls, then forget the background process
settle_bg() {
	settle "$1" 100
	bg=""
}

record run1 running
xt-log -r run1 metric --step 1 acc=0.5 >/dev/null
xt-log -r run1 hparam lr=0.1 >/dev/null
xt-log -r run1 metric --step 2 acc=0.6 >/dev/null
xt-log -r run1 tag best >/dev/null
xt-log -r run1 event checkpoint at=2 >/dev/null
log=$XT_STORE/ws/ws1/runs/run1/log.jsonl
t_ok "five events were logged" [ "$(wc -l <"$log")" -eq 5 ]

t_run xt-log show run1
t_status 0 "show"
t_out_is "$log" "prints the log as it is"
t_err_empty "quietly"

t_run xt-log show run1 -e metrics
t_status 0 "show -e metrics"
sed "s/$iso/\"time\":\"T\"/" "$T/out" >got
cat >want <<'EOF'
{"time":"T","event":"metrics","step":1,"data":{"acc":0.5}}
{"time":"T","event":"metrics","step":2,"data":{"acc":0.6}}
EOF
t_ok "prints the metrics only" cmp -s want got

t_run xt-log show -e tags -e hparams run1
t_status 0 "show with two -e"
sed "s/$iso/\"time\":\"T\"/" "$T/out" >got
cat >want <<'EOF'
{"time":"T","event":"hparams","data":{"lr":0.1}}
{"time":"T","event":"tags","data":{"best":true}}
EOF
t_ok "prints both kinds, in log order" cmp -s want got

t_run xt-log show -e nothing run1
t_status 0 "an event nobody logged"
: >empty
t_out_is empty "prints nothing"

t_run xt-log -r run1 show
t_status 0 "-r names the run for show too"
t_out_is "$log" "the same log"

t_run xt-log show run9
t_status 1 "show a run that does not exist"
t_err_has "xt-log: no run 'run9' in workspace 'ws1'" "says so"
t_run xt-log show -f run9
t_status 1 "follow one: fails at once"
t_run xt-log show 'run 1'
t_status 2 "a bad run name"
t_run xt-log show -e 'a b' run1
t_status 2 "a bad event name for -e"
t_run xt-log out -e metrics run1
t_status 2 "-e is for show"
t_run xt-log show
t_status 2 "show needs a run"

record run2 running
t_run xt-log show run2
t_status 0 "a run that has logged nothing yet"
t_out_is empty "has an empty log"
t_run xt-log out run1
t_status 0 "a run that has printed nothing yet"
t_out_is empty "has an empty console"

printf 'epoch 1\nepoch 2\nno newline' >console
t_run xt-put -a run1/output.txt <console
t_status 0 "output.txt appended (as xt-runq does)"
t_run xt-log out run1
t_status 0 "out"
t_out_is console "prints the console byte for byte"

# follow the log of a running run
# the output file is made first (see grows in tests/lib.sh)
: >fout
xt-log show -f run2 >>fout 2>ferr &
bg=$!
t_run xt-log -r run2 metric --step 1 loss=3
t_ok "the follower prints a line soon after it is logged" grows fout 1 100
t_run xt-log -r run2 metric --step 2 loss=2
t_run xt-log -r run2 event note text=hi
t_ok "and the next ones" grows fout 3 100
# half a line, straight into the store: only whole lines are printed
printf '{"event":"half' >half
xt-put -a run2/log.jsonl <half >/dev/null
sleep 0.5
no_half() { [ "$(wc -l <fout)" -eq 3 ] && ! grep -q half fout; }
t_ok "half a line is not printed" no_half
printf '","data":{}}\n' >half
xt-put -a run2/log.jsonl <half >/dev/null
t_ok "the whole line is" grows fout 4 100
t_run xt-log -r run2 metric --step 3 loss=1
record run2 completed
settle_bg "$bg"
t_ok "the follower exits 0 by itself when the run has completed" [ "$rc" -eq 0 ]
t_ok "having printed the whole log" cmp -s "$XT_STORE/ws/ws1/runs/run2/log.jsonl" fout
t_ok "and said nothing" [ ! -s ferr ]

# follow with a filter; the run fails
record run3 running
xt-log show -f -e metrics run3 >fout 2>ferr &
bg=$!
xt-log -r run3 metric --step 1 a=1 >/dev/null
xt-log -r run3 tag t >/dev/null
xt-log -r run3 metric --step 2 a=2 >/dev/null
record run3 failed
settle_bg "$bg"
t_ok "a filtered follower exits 0 when the run has failed" [ "$rc" -eq 0 ]
sed "s/$iso/\"time\":\"T\"/" fout >got
cat >want <<'EOF'
{"time":"T","event":"metrics","step":1,"data":{"a":1}}
{"time":"T","event":"metrics","step":2,"data":{"a":2}}
EOF
t_ok "with the metrics only" cmp -s want got

# follow the console
record run4 queued
: >fout
xt-log out -f run4 >>fout 2>ferr &
bg=$!
sleep 0.3
record run4 running
printf 'line 1\n' >c1
xt-put -a run4/output.txt <c1 >/dev/null
t_ok "out -f prints the console as it grows" grows fout 1 100
printf 'line 2\npartial' >c2
xt-put -a run4/output.txt <c2 >/dev/null
record run4 cancelled
settle_bg "$bg"
t_ok "out -f exits 0 when the run is cancelled" [ "$rc" -eq 0 ]
cat c1 c2 >want
t_ok "having printed everything" cmp -s want fout

# a run that has ended already: -f returns at once
t_run xt-log show -f run2
t_status 0 "follow an ended run"
t_out_is "$XT_STORE/ws/ws1/runs/run2/log.jsonl" "prints its log and stops"

# a line of blanks (what a full disk leaves of a cut append) is no event line
cp "$XT_STORE/ws/ws1/runs/run2/log.jsonl" want
printf '      \n' | xt-put -a run2/log.jsonl >/dev/null
t_run xt-log show -e started run2
t_status 0 "show -e over a log with a line of blanks"
grep '"event":"started"' want >want.started
t_out_is want.started "prints the events asked for"
t_err_empty "and warns of no line"
t_run xt-log show run2
t_out_is want "show leaves the blank line out"

t_done
