#!/bin/sh
# NaN and the infinities in reports: shown as NaN, inf and -inf, NaN sorted
# last either way, compared as IEEE 754 does (NaN is equal to nothing and
# neither below nor above anything); NaN is left out of aggregates; plots
# leave them out.
. "$(dirname "$0")/lib.sh"

# as xt stores them ("NaN", "Infinity", "-Infinity"), and bare, as Python writes them
cat >recs <<'EOF'
{"run":"run1","job":"job1","hparams":{"lr":0.1},"metrics":{"loss":0.5}}
{"run":"run2","job":"job1","hparams":{"lr":0.2},"metrics":{"loss":"NaN"}}
{"run":"run3","job":"job1","hparams":{"lr":0.3},"metrics":{"loss":"Infinity"}}
{"run":"run4","job":"job1","hparams":{"lr":0.4},"metrics":{"loss":"-Infinity"}}
{"run":"run5","job":"job1","hparams":{"lr":0.5},"metrics":{}}
{"run":"run6","job":"job1","hparams":{"lr":0.6},"metrics":{"loss":2}}
{"run":"run7","job":"job1","hparams":{"lr":0.7},"metrics":{"loss":NaN}}
EOF

t_run xt-report - -c run,metrics.loss <recs
t_status 0 "a table"
cat >want <<'EOF'
run   metrics.loss
run1         0.500
run2           NaN
run3           inf
run4          -inf
run5
run6             2
run7           NaN
EOF
t_out_is want "NaN, inf and -inf shown as such"

t_run xt-report - -c run,metrics.loss --sort metrics.loss <recs
cat >want <<'EOF'
run   metrics.loss
run4          -inf
run1         0.500
run6             2
run3           inf
run2           NaN
run7           NaN
run5
EOF
t_out_is want "sorted up: -inf first, inf after the numbers, then NaN, then missing"
t_run xt-report - -c run,metrics.loss --sort -metrics.loss <recs
cat >want <<'EOF'
run   metrics.loss
run3           inf
run6             2
run1         0.500
run4          -inf
run2           NaN
run7           NaN
run5
EOF
t_out_is want "sorted down: NaN still last but for missing"

t_run xt-report - -c run --where 'metrics.loss < 1' <recs
printf 'run\nrun1\nrun4\n' >want
t_out_is want "loss < 1 leaves NaN out"
t_run xt-report - -c run --where 'metrics.loss >= 1' <recs
printf 'run\nrun3\nrun6\n' >want
t_out_is want "loss >= 1 leaves NaN out too, takes inf"
t_run xt-report - -c run --where 'metrics.loss == 0.5' <recs
printf 'run\nrun1\n' >want
t_out_is want "NaN is not equal to 0.5"
t_run xt-report - -c run --where 'metrics.loss != 0.5' <recs
printf 'run\nrun2\nrun3\nrun4\nrun6\nrun7\n' >want
t_out_is want "NaN is unequal to 0.5"

t_run xt-report - -c run --where 'metrics.loss ~ "^NaN$"' <recs
printf 'run\nrun2\nrun7\n' >want
t_out_is want "a regular expression finds the NaN runs"

t_run xt-report - -c run,metrics.loss --csv <recs
cat >want <<'EOF'
run,metrics.loss
run1,0.5
run2,NaN
run3,inf
run4,-inf
run5,
run6,2
run7,NaN
EOF
t_out_is want "CSV: NaN, inf, -inf"

grep 'run[126]"' recs >three
t_run xt-report - --group job -c 'count,mean(metrics.loss),min(metrics.loss),max(metrics.loss)' <three
t_status 0 "a group of 0.5, NaN and 2"
cat >want <<'EOF'
job   count  mean(metrics.loss)  min(metrics.loss)  max(metrics.loss)
job1      3               1.250              0.500                  2
EOF
t_out_is want "NaN is left out of mean, min and max"

# plots: a scatter leaves them out
grep -v 'NaN\|Inf' recs >finite
t_run xt-report plot loss --vs hparams.lr - --term --size 40x10 <finite
cp "$T/out" want
t_run xt-report plot loss --vs hparams.lr - --term --size 40x10 <recs
t_status 0 "a scatter of runs with NaN and inf"
t_out_is want "the same as without them"

# a run's series: the points at NaN and inf steps are left out
mkdir code
cat >code/nan.sh <<'EOS'
printf '%s\n' '{"event":"metrics","step":0,"data":{"loss":3}}' \
    '{"event":"metrics","step":1,"data":{"loss":NaN}}' \
    '{"event":"metrics","step":2,"data":{"loss":2}}' \
    '{"event":"metrics","step":3,"data":{"loss":Infinity}}' \
    '{"event":"metrics","step":4,"data":{"loss":1}}' >>"$XT_LOG"
EOS
cat >code/finite.sh <<'EOS'
printf '%s\n' '{"event":"metrics","step":0,"data":{"loss":3}}' \
    '{"event":"metrics","step":2,"data":{"loss":2}}' \
    '{"event":"metrics","step":4,"data":{"loss":1}}' >>"$XT_LOG"
EOS
xt-submit -w ws1 -C code -- sh nan.sh >/dev/null
xt-submit -w ws2 -C code -- sh finite.sh >/dev/null
xt-runq -w ws1 2>/dev/null
xt-runq -w ws2 2>/dev/null
t_run xt-report plot loss -w ws2 --term --size 40x10
cp "$T/out" want
t_run xt-report plot loss -w ws1 --term --size 40x10
t_status 0 "a run's series with NaN and inf"
t_out_is want "drawn as its finite points"
# show RUN names a run's last values as the tables do
cat >code/last.sh <<'EOS'
printf '%s\n' '{"event":"metrics","data":{"a":Infinity,"b":-Infinity,"c":NaN,"d":1}}' >>"$XT_LOG"
EOS
xt-submit -w ws3 -C code -- sh last.sh >/dev/null
xt-runq -w ws3 2>/dev/null
t_run xt-report show -w ws3 run1
t_status 0 "show a run whose last values are inf, -inf and NaN"
t_ok "as inf, -inf and NaN" grep -qx 'metrics    a=inf b=-inf c=NaN d=1' "$T/out"

t_done
