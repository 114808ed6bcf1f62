#!/bin/sh
# Ctrl-C (SIGINT to xt-runq's process group) or SIGTERM to xt-runq alone:
# the runs in flight end cancelled, with an event saying they were
# interrupted; waiting runs stay queued; xt-runq says so and exits 130/143.
. "$(dirname "$0")/lib.sh"

mkdir code
echo 'echo started; exec sleep 1000' >code/long.sh
xt-submit -C code -- sh long.sh >/dev/null
xt-submit -C code -- sh long.sh >/dev/null
xt-submit -C code -- sh long.sh >/dev/null
# its own session, so its process group is a terminal's would be
setsid xt-runq -j 2 -g 1 >runq.out 2>runq.err &
runq=$!
t_ok "run1 runs" wait_status run1 running
t_ok "run2 runs" wait_status run2 running
kill -INT -$runq
wait $runq
t_ok "Ctrl-C: xt-runq exits 130" [ $? -eq 130 ]
t_ok "run1 is cancelled" [ "$(rec run1 status)" = cancelled ]
t_ok "run2 is cancelled" [ "$(rec run2 status)" = cancelled ]
t_ok "run3 is still queued" [ "$(rec run3 status)" = queued ]
t_ok "with its queue entry" [ "$(ls "$XT_HOME/spool/queue" | wc -l)" -eq 1 ]
t_ok "nothing is left running" [ -z "$(ls -A "$XT_HOME/spool/running")" ]
xt-get -c run1/log.jsonl >log1
t_ok "the run's event says it was interrupted" \
    grep -q '"event":"cancelled","data":{"reason":"interrupted (SIGINT)"}' log1
t_ok "it ended once, cancelled" [ "$(grep -c '"event":"ended","data":{"status":"cancelled"' log1)" -eq 1 ]
t_ok "it was not retried or lost" [ "$(grep -c '"retry"\|lost' log1)" -eq 0 ]
t_ok "xt-runq says it cancels them" grep -qx "xt-runq: SIGINT: cancelling 2 runs" runq.err
t_ok "what became of them" grep -qx "xt-runq: SIGINT: 2 runs: 2 cancelled" runq.err
t_ok "and what is left" grep -qx "xt-runq: 1 run left queued" runq.err
[ "$t_failed" -eq 0 ] || sed 's/^/#   xt-runq: /' runq.err

# SIGTERM to xt-runq alone: it passes it on
xt-runq -g 1 >runq.out 2>runq.err &
runq=$!
t_ok "run3 runs" wait_status run3 running
kill -TERM $runq
wait $runq
t_ok "SIGTERM: xt-runq exits 143" [ $? -eq 143 ]
t_ok "run3 is cancelled" [ "$(rec run3 status)" = cancelled ]
xt-get -c run3/log.jsonl >log3
t_ok "as interrupted" grep -q '"reason":"interrupted (SIGTERM)"' log3
t_ok "xt-runq says so" grep -qx "xt-runq: SIGTERM: 1 run: 1 cancelled" runq.err
t_ok "the spool is empty" [ -z "$(ls -A "$XT_HOME/spool/running")$(ls -A "$XT_HOME/spool/queue")" ]

# a foreground run: Ctrl-C cancels it and exits as the run did
xt-submit -C code -- sh long.sh >/dev/null
setsid xt-runq -q exec run4 >exec.out 2>exec.err &
runq=$!
t_ok "run4 runs in the foreground" wait_status run4 running
kill -INT -$runq
wait $runq
t_ok "its status is the run's (SIGTERM)" [ $? -eq 143 ]
t_ok "run4 is cancelled" [ "$(rec run4 status)" = cancelled ]
t_done
