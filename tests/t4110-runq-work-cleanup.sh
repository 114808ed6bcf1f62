#!/bin/sh
# A run's folder, $XT_HOME/work/WS/RUN, goes once its outputs are captured:
# at once when it completed, after work-keep-failed when it failed; never
# between the attempts of a run that is retried. Kept folders whose time
# is up go at a later run's end or xt-runq's start. A completed run's
# folder may become a spare (emptied) that a later run's is made from.
. "$(dirname "$0")/lib.sh"

W=$XT_HOME/work/ws1
mkdir code
echo 'echo out >"$XT_OUTPUT_DIR/o.txt"; exit ${1:-0}' >code/run.sh

xt-submit -C code -- sh run.sh 0 >/dev/null
t_run xt-runq
t_status 0 "a run that completes"
t_ok "its output is captured" [ "$(xt-get -c run1/output/o.txt)" = out ]
t_ok "its folder is gone" [ ! -e "$W/run1" ]

xt-submit -C code -- sh run.sh 3 >/dev/null
t_run xt-runq
t_ok "a failed run's output is captured" [ "$(xt-get -c run2/output/o.txt)" = out ]
t_ok "its folder is kept" test -f "$W/run2/output/o.txt" -a -f "$W/run2/code/run.sh"
t_ok "marked with its end" [ -f "$W/run2/.xt-ended" ]

# a retried run keeps its folder between attempts: attempt 1 runs alone
cat >code/retry.sh <<EOS
[ -e "$T/again" ] && exit 0
touch "$T/again"; exit 1
EOS
xt-submit -C code --retries 1 -- sh retry.sh >/dev/null
t_run xt-runq exec run3
t_ok "attempt 1 failed and the run is queued again" [ "$(rec run3 status)" = queued ]
t_ok "its folder is still there, unmarked" test -d "$W/run3" -a ! -e "$W/run3/.xt-ended"
t_run xt-runq
t_ok "attempt 2 completes" [ "$(rec run3 status)" = completed ]
t_ok "and then the folder goes" [ ! -e "$W/run3" ]

# the time is up for run2: the next run's end removes it, not a young one
xt-submit -C code -- sh run.sh 4 >/dev/null
xt-runq >/dev/null 2>&1
t_ok "run4 failed and is kept" [ -d "$W/run4" ]
touch -d '25 hours ago' "$W/run2/.xt-ended"
xt-submit -C code -- sh run.sh 0 >/dev/null
t_run xt-runq
t_ok "a kept folder older than 24h goes at a run's end" [ ! -e "$W/run2" ]
t_ok "a young one stays" [ -d "$W/run4" ]

# work-keep-failed, from the environment or the configuration
touch -d '2 hours ago' "$W/run4/.xt-ended"
t_run env XT_WORK_KEEP_FAILED=1h xt-runq
t_status 0 "xt-runq with nothing to run"
t_ok "sweeps at its start: 2 hours is past work-keep-failed: 1h" [ ! -e "$W/run4" ]
xt-submit -C code -- sh run.sh 5 >/dev/null
t_run env XT_WORK_KEEP_FAILED=0 xt-runq
t_ok "work-keep-failed: 0 keeps no failed folder" [ ! -e "$W/run6" ]
t_ok "after capturing its output" [ "$(xt-get -c run6/output/o.txt)" = out ]
echo 'work-keep-failed: 30m' >xt.yaml
mkdir -p "$W/run99/output"
touch -d '40 minutes ago' "$W/run99/.xt-ended"
mkdir -p "$W/run98/output"
t_run xt-runq
t_ok "./xt.yaml sets it" [ ! -e "$W/run99" ]
t_ok "a folder with no end mark (a run under way) is never swept" [ -d "$W/run98" ]
rm xt.yaml

# a folder the run made read-only goes all the same
echo 'mkdir -p "$XT_OUTPUT_DIR/ro/sub"; echo x >"$XT_OUTPUT_DIR/ro/sub/f"; chmod 0 "$XT_OUTPUT_DIR/ro/sub"; chmod 0555 "$XT_OUTPUT_DIR/ro" .' >code/ro.sh
xt-submit -C code -- sh ro.sh >/dev/null
t_run xt-runq
t_ok "a completed run whose folders are read-only" [ "$(rec run7 status)" = completed ]
t_ok "is removed" [ ! -e "$W/run7" ]

# a run whose executor died is failed by the next xt-runq: its folder is
# kept as a failed run's. xt-runq is stopped first, so that no pid of an
# executor that ends meanwhile can be reused; only its children are killed
xt-submit -C code -- sleep 100 >/dev/null
xt-runq >/dev/null 2>&1 &
runq=$!
t_ok "run8 starts" wait_status run8 running
kill -STOP $runq
kids=""
for p in $(xt-runq ls | sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); do
	[ "$(cut -d' ' -f4 "/proc/$p/stat" 2>/dev/null)" = "$runq" ] && kids="$kids $p"
done
kill -9 $runq $kids
wait $runq 2>/dev/null
t_run xt-runq
t_ok "the next xt-runq fails the lost run" [ "$(rec run8 error)" = "lost: its executor died" ]
t_ok "and keeps its folder, marked" test -d "$W/run8/code" -a -f "$W/run8/.xt-ended"

# code_tag DIR: the tag of whose code a spare's code/ holds: its attribute
# user.xt.code, else (a file system without user attributes) its file .xt-code
code_tag() {
	python3 - "$1" <<'EOP'
import os, sys
try:
    print(os.getxattr(sys.argv[1], "user.xt.code").decode())
except OSError:
    try:
        sys.stdout.write(open(sys.argv[1] + "/.xt-code").read())
    except OSError:
        sys.exit(1)
EOP
}

# a completed run's folder is kept as a spare, emptied, for a later run's:
# what the earlier run left there (outputs, files, modes) is gone, and its
# code/ and log.jsonl are new ones, made as it was left, code/ holding its
# job's code again (for the job's next run), named in its tag
cat >code/spare.sh <<'EOS'
ls -A "$XT_OUTPUT_DIR" ..
echo out >"$XT_OUTPUT_DIR/o.txt"; echo left >../left.txt; mkdir ../d; touch ../d/f
echo '{"event":"metrics","data":{"x":1}}' >>"$XT_LOG"
EOS
xt-submit -w ws2 -C code -n 3 -- sh spare.sh >/dev/null
t_run xt-runq -w ws2 -j 1
t_status 0 "three runs, one after the other"
t_ok "their folders are gone" test ! -e "$XT_HOME/work/ws2/run1.1" -a ! -e "$XT_HOME/work/ws2/run1.3"
t_ok "kept as spares" test -d "$XT_HOME/work/ws2/.xt-spare.0/output"
t_run ls -A "$XT_HOME/work/ws2/.xt-spare.0" "$XT_HOME/work/ws2/.xt-spare.0/output"
if [ -e "$XT_HOME/work/ws2/.xt-spare.0/.xt-code" ]; then tagfile='.xt-code\n'; else tagfile=; fi
printf "%s:\n${tagfile}code\nlog.jsonl\noutput\n\n%s:\n" "$XT_HOME/work/ws2/.xt-spare.0" "$XT_HOME/work/ws2/.xt-spare.0/output" >want
t_out_is want "holding an empty output/, a code/ and a log.jsonl (and the tag's file where there are no attributes)"
t_ok "log.jsonl empty" [ ! -s "$XT_HOME/work/ws2/.xt-spare.0/log.jsonl" ]
t_ok "code/ the job's snapshot again" diff -r code "$XT_HOME/work/ws2/.xt-spare.0/code"
code_tag "$XT_HOME/work/ws2/.xt-spare.0" >tag
t_ok "its tag names the store, workspace and job" grep -q "^file://$XT_STORE ws2 job[0-9]* " tag
# a process that a run left behind (out of its group), in its code/ and
# holding its log open, reaches nothing of the next run's, whose folder is
# that spare
cat >code/leave.sh <<'EOS'
if [ "$1" = leave ]; then
	setsid sh -c 'exec 3>>"$XT_LOG"
	touch "$GATES/out"
	n=0; while [ ! -e "$GATES/r2" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
	echo intruder >intruder.txt
	echo "{\"event\":\"metrics\",\"data\":{\"intruder\":1}}" >&3
	touch "$GATES/done"' </dev/null >/dev/null 2>&1 &
	echo $! >"$GATES/pid"
	# out of the run's process group before the run ends (and it is killed)
	n=0; while [ ! -e "$GATES/out" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
else
	touch "$GATES/r2"
	n=0; while [ ! -e "$GATES/done" ] && [ $n -lt 3000 ]; do sleep 0.02; n=$((n + 1)); done
	ls -A
fi
EOS
export GATES="$T/gates"
mkdir "$GATES"
cp -r code code2
echo two >code2/only2.txt
ls -A code2 >code.list
xt-submit -w ws3 -C code -- sh leave.sh leave >/dev/null
t_run xt-runq -w ws3
t_status 0 "a run leaves a process behind"
t_ok "its folder is a spare" test -d "$XT_HOME/work/ws3/.xt-spare.0/code"
xt-submit -w ws3 -C code2 -- sh leave.sh >/dev/null
t_run xt-runq -w ws3
t_status 0 "the next run runs in the spare"
t_ok "the process went on meanwhile" [ -e "$GATES/done" ]
t_run xt-get -w ws3 -c run2/output.txt
t_out_is code.list "the next run's code/ holds its own job's snapshot alone"
t_run xt-log -w ws3 show run2
t_ok "and its log has none of the process's lines" [ "$(grep -c intruder "$T/out")" -eq 0 ]
kill "$(cat "$GATES/pid")" 2>/dev/null
code_tag "$XT_HOME/work/ws3/.xt-spare.0" >tag
t_ok "the spare now holds run2's job's code" grep -q " ws3 job2 " tag
t_ok "its snapshot" diff -r code2 "$XT_HOME/work/ws3/.xt-spare.0/code"
# a run that made another link to its log: the next run's log is a new file
# (a spare's log.jsonl is emptied for the next run only when nothing else
# can reach it)
mkdir links
cat >code/link.sh <<'EOS'
[ -e "$LINKS/l" ] || ln "$XT_LOG" "$LINKS/l"
echo "{\"event\":\"metrics\",\"data\":{\"run\":\"$XT_RUN\"}}" >>"$XT_LOG"
EOS
export LINKS="$T/links"
xt-submit -w ws6 -C code -n 2 -- sh link.sh >/dev/null
t_run xt-runq -w ws6 -j 1
t_status 0 "two runs, the first links its log"
t_ok "the link has the first run's line alone" [ "$(cat links/l)" = '{"event":"metrics","data":{"run":"run1.1"}}' ]
t_ok "the second logged into its own" grep -q '"metrics":{"run":"run1.2"}' "$XT_STORE/ws/ws6/runs/run1.2/run.json"
# a big snapshot (over 64 MiB) is not copied ahead for a run that may not come
mkdir big
truncate -s 65M big/big.bin
echo 'true' >big/run.sh
xt-submit -w ws4 -C big -- sh run.sh >/dev/null
t_run xt-runq -w ws4
t_status 0 "a run with 65 MiB of code"
t_ok "leaves a spare" test -d "$XT_HOME/work/ws4/.xt-spare.0"
t_ok "with an empty code/ and no tag" [ -z "$(ls -A "$XT_HOME/work/ws4/.xt-spare.0/code")" ] &&
    ! code_tag "$XT_HOME/work/ws4/.xt-spare.0" >/dev/null
printf '%s:\ncode\nlog.jsonl\noutput\n\n%s:\n' .. "$XT_HOME/work/ws2/run1.3/output" >want
t_run xt-get -w ws2 -c run1.3/output.txt
t_out_is want "a later run's folder has nothing of an earlier run's"
# a spare an older xt left, tagged by its file: its code is another job's,
# and a run takes the spare without it
rm -rf "$XT_HOME/work/ws5"
mkdir -p "$XT_HOME/work/ws5/.xt-spare.0/code" "$XT_HOME/work/ws5/.xt-spare.0/output"
: >"$XT_HOME/work/ws5/.xt-spare.0/log.jsonl"
echo stale >"$XT_HOME/work/ws5/.xt-spare.0/code/stale.txt"
echo "file://$XT_STORE ws5 job9 vm.1.1" >"$XT_HOME/work/ws5/.xt-spare.0/.xt-code"
echo 'ls -A' >code5.sh
mkdir code5
mv code5.sh code5/run.sh
xt-submit -w ws5 -C code5 -- sh run.sh >/dev/null
t_run xt-runq -w ws5
t_status 0 "a run in a spare tagged by a file"
printf 'run.sh\n' >want
t_run xt-get -w ws5 -c run1/output.txt
t_out_is want "has its own job's code alone"

# a bad value is refused before anything runs, naming where it was set
xt-submit -C code -- sh run.sh 0 >/dev/null
t_run env XT_WORK_KEEP_FAILED=soon xt-runq
t_status 2 "a bad work-keep-failed is a usage error"
echo "xt-runq: env XT_WORK_KEEP_FAILED: work-keep-failed: 'soon' is not a duration such as 24h" >want
t_ok "naming the variable and the value" cmp -s want "$T/err"
t_ok "and nothing ran" [ "$(rec run9 status)" = queued ]
# xt-runq exec checks them too, before it runs anything
t_run env XT_WORK_KEEP_FAILED=soon xt-runq exec run9
t_status 2 "exec: a bad work-keep-failed is a usage error"
echo "xt-runq: env XT_WORK_KEEP_FAILED: work-keep-failed: 'soon' is not a duration such as 24h" >want
t_out_is /dev/null "exec: nothing on stdout"
t_ok "exec: naming the variable and the value" cmp -s want "$T/err"
t_ok "exec: and the run did not run" [ "$(rec run9 status)" = queued ]
t_run env XT_CACHE_MAX_SIZE=lots xt-runq exec run9
t_status 2 "exec: a bad cache-max-size is a usage error"
echo "xt-runq: env XT_CACHE_MAX_SIZE: cache-max-size: 'lots' is not a size such as 10G" >want
t_ok "exec: naming the variable and the value" cmp -s want "$T/err"
t_ok "exec: and the run did not run" [ "$(rec run9 status)" = queued ]
printf 'x: 1\nwork-keep-failed: 3 days\n' >xt.yaml
t_run xt-runq
t_status 2 "in ./xt.yaml too"
echo "xt-runq: ./xt.yaml:2:19: work-keep-failed: '3 days' is not a duration such as 24h" >want
t_ok "naming its line and column" cmp -s want "$T/err"
t_done
