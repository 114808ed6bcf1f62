#!/bin/sh
# --rerun passes the hparams the original run was given, not the ones it
# logged; a record from before "given_hparams" is rerun with its "hparams".
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/job.sh <<'EOS'
echo "args $*"
echo "env $XT_HPARAMS"
echo '{"event":"hparams","data":{"epochs":10}}' >>"$XT_LOG"
EOS
printf '{"k":5}\n' >hp
xt-submit -C code --hp hp --wait -- sh job.sh >/dev/null
t_ok "the original logged an hparam" [ "$(rec run1 hparams)" = '{"k": 5, "epochs": 10}' ]
t_run xt-submit --rerun run1 --wait
t_status 0 "rerun it"
t_ok "the rerun is given the original's given hparams" [ "$(rec run2 given_hparams)" = '{"k": 5}' ]
t_ok "and its command is the original's" [ "$(rec run2 cmd)" = "sh job.sh --k=5" ]
t_run xt-get -c run2/output.txt
printf 'args --k=5\nenv {"k":5}\n' >want
t_out_is want "it runs with them only"

python3 - "$XT_STORE/ws/ws1/runs/run1/run.json" <<'EOS'
import json, sys
r = json.load(open(sys.argv[1]))
r.pop("given_hparams", None)
r["hparams"] = {"k": 7}
json.dump(r, open(sys.argv[1], "w"))
EOS
t_run xt-submit --rerun run1 --wait
t_status 0 "rerun an old-style record"
t_run xt-get -c run3/output.txt
printf 'args --k=7\nenv {"k":7}\n' >want
t_out_is want "it runs with the record's hparams"
t_done
