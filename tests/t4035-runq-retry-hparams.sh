#!/bin/sh
# A retry runs the command it was given: hparams that the run logged itself
# show in its record but are not passed to the next attempt. A record
# written before "given_hparams" existed runs with its "hparams".
. "$(dirname "$0")/lib.sh"

mkdir code
# logs a default of its own, saves its arguments and XT_HPARAMS, fails once
cat >code/flaky.sh <<EOS
n=\$(cat "$T/count" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$T/count"
echo "\$*" >"$T/argv\$((n + 1))"
printf '%s\n' "\$XT_HPARAMS" >"$T/env\$((n + 1))"
echo '{"event":"hparams","data":{"epochs":10}}' >>"\$XT_LOG"
[ \$n -ge 1 ] || exit 5
EOS
printf '{"lr":0.5}\n' >hp
xt-submit -C code --hp hp --retries 1 -- sh flaky.sh >/dev/null
t_run xt-runq
t_status 0 "a run that fails once and logs an hparam"
t_ok "completes on its retry" [ "$(rec run1 status)/$(rec run1 attempt)" = completed/2 ]
t_ok "the first attempt got its hparam" [ "$(cat argv1)" = "--lr=0.5" ]
t_ok "the retry got the same arguments" [ "$(cat argv2)" = "--lr=0.5" ]
t_ok "and the same XT_HPARAMS" [ "$(cat env2)" = '{"lr":0.5}' ]
t_ok "the record's hparams show the logged one" [ "$(rec run1 hparams)" = '{"lr": 0.5, "epochs": 10}' ]
t_ok "its given_hparams do not" [ "$(rec run1 given_hparams)" = '{"lr": 0.5}' ]
t_ok "its command is the given one" [ "$(rec run1 cmd)" = "sh flaky.sh --lr=0.5" ]

# A dynamic search job's run gets its hparams when it starts; its retry
# keeps them and gets no logged ones.
rm -f count
printf 'hyperparameter-distributions:\n  lr: [0.25]\n' >space.yaml
xt-submit -C code --search grid --space space.yaml --search-opt metric=acc --retries 1 \
    -- sh flaky.sh >/dev/null
t_run xt-runq
t_status 0 "a search job's run that fails once"
t_ok "completes on its retry" [ "$(rec run2 status)/$(rec run2 attempt)" = completed/2 ]
t_ok "the retry got the search's hparam only" [ "$(cat argv1)/$(cat argv2)" = "--lr=0.25/--lr=0.25" ]
t_ok "and the same XT_HPARAMS" [ "$(cat env2)" = '{"lr":0.25}' ]
t_ok "its given_hparams are the search's" [ "$(rec run2 given_hparams)" = '{"lr": 0.25}' ]
t_ok "its command is not extended twice" [ "$(rec run2 cmd)" = "sh flaky.sh --lr=0.25" ]

# A queued record from before given_hparams: its hparams are what it was given.
rm -f count
printf '{"lr":0.125}\n' >hp
xt-submit -C code --hp hp -- sh flaky.sh >/dev/null
python3 - "$XT_STORE/ws/ws1/runs/run3/run.json" <<'EOS'
import json, sys
r = json.load(open(sys.argv[1]))
r.pop("given_hparams", None)
json.dump(r, open(sys.argv[1], "w"))
EOS
t_run xt-runq
t_ok "an old-style record runs with its hparams" [ "$(cat argv1)" = "--lr=0.125" ]
t_ok "in XT_HPARAMS too" [ "$(cat env1)" = '{"lr":0.125}' ]
t_ok "and remembers them as given when it starts" [ "$(rec run3 given_hparams)" = '{"lr": 0.125}' ]
t_done
