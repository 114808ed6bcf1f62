#!/bin/sh
# While a run runs, xt-report shows its latest metrics and step: they
# reach the index within seconds, not only at the run's end.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/train.sh <<'EOS'
echo '{"event":"metrics","step":3,"data":{"acc":0.5}}' >>"$XT_LOG"
while [ ! -e "$GO" ]; do sleep 0.05; done
EOS
export GO="$T/go"
xt-submit -C code -- sh train.sh >/dev/null
xt-runq -q >/dev/null 2>&1 &
runq=$!
t_ok "run1 runs" wait_status run1 running
# poll the report (bounded by a count, as wait_status)
i=0
while [ $i -lt 600 ]; do
	xt-report -c run,status,step,metrics.acc >rep 2>&1
	grep -q 0.500 rep && break
	sleep 0.05
	i=$((i + 1))
done
t_run xt-report -c run,status,step,metrics.acc
t_status 0 "xt-report"
cat >want <<'EOS'
run   status   step  metrics.acc
run1  running     3        0.500
EOS
t_out_is want "shows the running run's metric and step"
t_run xt-report jobs --metric acc
t_status 0 "xt-report jobs"
t_ok "shows it too" grep -q '^job1 .* running .* 0\.500$' "$T/out"
touch "$GO"
wait $runq
t_ok "the run completes" [ "$(rec run1 status)" = completed ]
t_done
