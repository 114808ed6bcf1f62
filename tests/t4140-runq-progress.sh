#!/bin/sh
# xt-runq says on stderr what it does, a line per start, end and retry (the
# primary metric with the end), and a summary; -q silences it. It exits 1
# when a run it ran failed.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/m.sh <<'EOS'
echo '{"event":"metrics","data":{"loss":0.5,"acc":0.25}}' >>"$XT_LOG"
echo '{"event":"metrics","data":{"acc":0.75}}' >>"$XT_LOG"
EOS
echo 'exit 4' >code/bad.sh
xt-submit -C code -- sh m.sh >/dev/null
xt-submit -C code --search-opt metric=acc --prune median -- sh m.sh >/dev/null
t_run xt-runq
t_status 0 "all runs completed: exit 0"
sed 's/after [0-9.]*s/after Ns/' "$T/err" >got
cat >want <<'EOS'
xt-runq: run1 started
xt-runq: run1 completed after Ns, loss=0.5
xt-runq: run2 started
xt-runq: run2 completed after Ns, acc=0.75
xt-runq: 2 runs: 2 completed
EOS
sort want >want.s
sort got >got.s
t_ok "a line per start and end, the job's metric or the first one" cmp -s want.s got.s
t_ok "a summary last" [ "$(tail -n 1 got)" = "$(tail -n 1 want)" ]
t_out_is /dev/null "nothing on stdout"

xt-submit -C code --retries 1 -- sh bad.sh >/dev/null
xt-submit -C code -- sh m.sh >/dev/null
t_run xt-runq
t_status 1 "a run failed: exit 1"
sed 's/after [0-9.]*s/after Ns/' "$T/err" >got
cat >want <<'EOS'
xt-runq: run3 started
xt-runq: run3 failed (exit 4) after Ns: queued again for attempt 2
xt-runq: run4 started
xt-runq: run4 completed after Ns, loss=0.5
xt-runq: run3 started (attempt 2)
xt-runq: run3 failed (exit 4) after Ns
xt-runq: 2 runs: 1 completed, 1 failed, 1 retried
EOS
# the next run may start before the end of one is recorded: the order varies
sort want >want.s
sort got >got.s
t_ok "the retry and the failure are said" cmp -s want.s got.s
t_ok "the summary last" [ "$(tail -n 1 got)" = "$(tail -n 1 want)" ]

xt-submit -C code -- sh bad.sh >/dev/null
t_run xt-runq -q
t_status 1 "-q: still exit 1"
t_err_empty "and nothing on stderr"
t_run xt-runq
t_status 0 "nothing to run: exit 0"
t_err_empty "and nothing said"
t_done
