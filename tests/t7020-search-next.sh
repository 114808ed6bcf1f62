#!/bin/sh
# xt-search next: ask/tell over run records on standard input. Tried and
# pending points are never proposed again, a seed replays, the metric and
# goal come from options or xt.yaml, bad history lines name their line.
. "$(dirname "$0")/lib.sh"

cat >hist <<'EOF'
{"run":"run1.1","status":"completed","hparams":{"lr":0.1,"bs":32},"metrics":{"acc":0.5}}
{"run":"run1.2","status":"completed","hparams":{"lr":0.1,"bs":64},"metrics":{"acc":0.7}}
{"run":"run1.3","status":"running","hparams":{"lr":0.01,"bs":32}}
{"run":"run1.4","status":"failed","hparams":{"lr":0.01,"bs":64}}
{"run":"run1","status":"running"}
EOF
t_run xt-search next --algo grid -n 5 --metric acc 'lr=[0.1,0.01,0.001]' 'bs=[32,64]' <hist
t_status 0 "grid next after four tried points"
cat >want <<'EOF'
{"lr":0.001,"bs":32}
{"lr":0.001,"bs":64}
EOF
t_out_is want "only the untried points, in grid order"
t_err_has "the space is used up: 2 of 5 proposed" "says the space is used up"

for algo in random tpe gp; do
	t_run xt-search next --algo $algo -n 2 --seed 3 --metric acc 'lr=[0.1,0.01,0.001]' 'bs=[32,64]' <hist
	t_ok "$algo proposes the two untried points" \
	    test "$(sort "$T/out" | tr -d '\n')" = '{"lr":0.001,"bs":32}{"lr":0.001,"bs":64}'
done

t_run xt-search next --algo tpe -n 4 --seed 7 --metric acc 'lr=$loguniform(1e-4,1e-1)' 'bs=[32,64]' <hist
t_status 0 "tpe on a continuous space"
cp "$T/out" first
t_ok "4 distinct proposals" test "$(sort -u first | wc -l)" -eq 4
t_run xt-search next --algo tpe -n 4 --seed 7 --metric acc 'lr=$loguniform(1e-4,1e-1)' 'bs=[32,64]' <hist
t_out_is first "the same history and seed replay the same proposals"

printf 'search:\n  metric: acc\n  goal: min\n' >xt.yaml
t_run xt-search next --algo dgd -n 3 --seed 1 'lr=[0.1,0.01,0.001]' 'bs=[32,64]' <hist
t_status 0 "metric and goal from xt.yaml"
t_ok "dgd with goal min stays next to the best (0.1, 32)" \
    test "$(grep -c -e '"lr":0.1,"bs":32' -e '"lr":0.01,"bs":32' -e '"lr":0.1,"bs":64' "$T/out")" -eq 3
rm xt.yaml

t_run xt-search next --algo dgd --metric acc 'lr=$uniform(0,1)' </dev/null
t_status 2 "dgd on a continuous hparam"
t_err_has "hparam 'lr': dgd needs lists" "says which hparam"
t_run xt-search next --algo bayes --metric acc 'x=[1]' </dev/null
t_status 2 "an unknown algorithm"
t_err_has "unknown algorithm 'bayes'" "names it"
t_run xt-search next --algo tpe 'x=[1]' </dev/null
t_status 2 "no metric"
t_err_has "no metric" "asks for one"
t_run xt-search next --algo tpe --metric acc --goal up 'x=[1]' </dev/null
t_status 2 "a bad goal"

printf '{"run":"run1","status":"completed","hparams":{"x":1},"metrics":{"acc":1}}\n\n{"run":"run2","status":"completed"\n' >bad
t_run xt-search next --algo tpe --metric acc 'x=[1,2]' <bad
t_status 1 "a history line that is not JSON"
t_err_has "<stdin>:3:" "names the line"
printf '{"run":"run1","hparams":{"x":1}}\n' >bad
t_run xt-search next --algo tpe --metric acc 'x=[1,2]' <bad
t_status 1 "a record without status"
t_err_has "<stdin>:1: run 'run1': expected \"status\" (a string)" "says what is missing"
printf '{"run":"run1","status":"completed","hparams":{"x":5},"metrics":{"acc":1}}\n' >bad
t_run xt-search next --algo grid --metric acc 'x=[1,2]' <bad
t_status 0 "a run outside the space is skipped"
t_err_has "<stdin>:1: run 'run1': hparam 'x' value 5 is outside the space" "with a warning"
t_done
