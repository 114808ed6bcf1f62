#!/bin/sh
# Every writer of a run's record goes through one path (read, change,
# conditional put): what xt-log -r writes into a running run survives its
# end, and writers racing with the executor never move a run back.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/wait.sh <<'EOS'
echo '{"event":"metrics","step":1,"data":{"acc":0.5}}' >>"$XT_LOG"
while [ ! -e "$GO" ]; do sleep 0.05; done
echo '{"event":"tags","data":{"mine":1}}' >>"$XT_LOG"
EOS
export GO="$T/go"
xt-submit -C code -- sh wait.sh >/dev/null
xt-runq -q >runq.out 2>&1 &
runq=$!
t_ok "run1 runs" wait_status run1 running
i=0
while [ "$(rec run1 metrics.acc)" != 0.5 ] && [ $i -lt 3000 ]; do sleep 0.05; i=$((i + 1)); done
t_ok "its executor saved its metric" [ "$(rec run1 metrics.acc)" = 0.5 ]
t_run xt-log -r run1 tag best=yes
t_status 0 "xt-log -r tags the running run"
t_run xt-log -r run1 hparam lr=0.1
t_status 0 "and gives it an hparam"
touch "$GO"
wait $runq
t_ok "xt-runq ends well" [ $? -eq 0 ]
t_ok "the run completed" [ "$(rec run1 status)" = completed ]
t_ok "the tag from xt-log -r survived its end" [ "$(rec run1 tags.best)" = yes ]
t_ok "so did the hparam" [ "$(rec run1 hparams.lr)" = 0.1 ]
t_ok "beside the run's own tag" [ "$(rec run1 tags.mine)" = 1 ]
t_ok "and its metric" [ "$(rec run1 metrics.acc)" = 0.5 ]

# writers in a loop while 12 runs start and end: none goes back
i=1
while [ $i -le 12 ]; do echo "{\"i\":$i}"; i=$((i + 1)); done >hp
echo 'echo "{\"event\":\"metrics\",\"data\":{\"x\":1}}" >>"$XT_LOG"' >code/quick.sh
xt-submit -C code --hp hp -- sh quick.sh >/dev/null
xt-runq -q -j 3 >runq.out 2>&1 &
runq=$!
(
	n=0
	while kill -0 $runq 2>/dev/null; do
		k=$((n % 12 + 1))
		xt-log -r run2.$k tag "t$k=$n" 2>/dev/null
		n=$((n + 1))
	done
	echo $n >writes
) &
writer=$!
wait $runq
t_ok "xt-runq drains the job" [ $? -eq 0 ]
wait $writer
for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
	xt-log -r run2.$k tag "late=1" 2>/dev/null
done
ok=1
for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
	[ "$(rec run2.$k status)" = completed ] || { echo "# run2.$k: $(rec run2.$k status)"; ok=0; }
	[ "$(rec run2.$k tags.late)" = 1 ] || ok=0
	[ "$(rec run2.$k metrics.x)" = 1 ] || ok=0
done
t_ok "every run stays completed, with its metric and the tags written after its end" [ $ok = 1 ]
t_ok "the parent completed" [ "$(rec run2 status)" = completed ]
t_ok "the writers wrote" [ "$(cat writes)" -gt 0 ]
t_done
