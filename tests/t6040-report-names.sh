#!/bin/sh
# xt-report as XT's users write: --status with XT's names of a status,
# runs in run order, parent runs hidden (--parents shows them, a parent's
# name selects its children), jobs in job order.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/svg.sh"

cat >runs.jsonl <<'J'
{"run":"run10","job":"job10","status":"completed","metrics":{"acc":0.4}}
{"run":"run2","job":"job2","status":"failed","metrics":{"acc":0.9}}
{"run":"run7","job":"job7","status":"running","children":3}
{"run":"run7.10","job":"job7","parent":"run7","status":"queued","hparams":{"lr":0.1}}
{"run":"run7.2","job":"job7","parent":"run7","status":"cancelled","hparams":{"lr":0.2},"metrics":{"acc":0.7}}
{"run":"run7.1","job":"job7","parent":"run7","status":"completed","hparams":{"lr":0.3},"metrics":{"acc":0.8}}
J

# --status with XT's names
for s in error:run2 ERROR:run2 aborted:run7.2 created:run7.10 allocating:run7.10 \
    Completed:run7.1,run10; do
	t_run xt-report - --status "${s%%:*}" -c run --csv <runs.jsonl
	printf 'run\n%s\n' "${s#*:}" | tr , '\n' >want
	t_status 0 "--status ${s%%:*}: exit 0"
	t_out_is want "--status ${s%%:*} is ${s#*:}"
done
t_run xt-report - --status unknown <runs.jsonl
t_status 2 "--status unknown: exit 2"
t_err_has "xt-report: --status: unknown status 'unknown'" "named"

# rows DESC RUNS ARGS...: the runs (a comma list) that xt-report - ARGS reports of $in
in=runs.jsonl
rows() {
	desc=$1
	want=$2
	shift 2
	t_run xt-report - -c run --csv "$@" <"$in"
	printf 'run\n%s\n' "$want" | tr , '\n' >want
	t_status 0 "$desc: exit 0"
	t_out_is want "$desc: $want"
	t_err_empty "$desc: nothing on stderr"
}

# runs in run order, parents hidden; jobs in job order
rows "run order, no parent" run2,run7.1,run7.2,run7.10,run10
rows "--parents" run2,run7,run7.1,run7.2,run7.10,run10 --parents
rows "a parent's name" run7.1,run7.2,run7.10 run7
rows "a parent's name, --parents" run7,run7.1,run7.2,run7.10 run7 --parents
rows "--first without --sort" run2,run7.1 --first 2
rows "--last without --sort" run7.10,run10 --last 2
rows "ties on --sort in run order" run2,run7.1,run7.2,run10,run7.10 --sort -metrics.acc
t_run xt-report - --available --status failed <runs.jsonl
printf '%s\n' job metrics.acc run status >want
t_out_is want "--available: the fields of the selected records"
t_run xt-report - --available <runs.jsonl
t_ok "--available: not those of a parent" test "$(grep -c children "$T/out")" = 0
t_run xt-report jobs - <runs.jsonl
t_status 0 "jobs report: exit 0"
cut -d' ' -f1 "$T/out" >"$T/jobs"
printf 'job\njob2\njob7\njob10\n' >want
t_ok "jobs in job order" cmp -s want "$T/jobs"

# names as trainers write them, in --where, -c, --sort and --group alike
cat >names.jsonl <<'J'
{"run":"run1","metrics":{"train/loss":0.5,"val loss":1,"eval-acc":0.7}}
{"run":"run2","metrics":{"train/loss":0.25,"val loss":3,"eval-acc":0.9}}
{"run":"run3","metrics":{"train/loss":0.75,"val loss":3}}
J
t_run xt-report - --csv -c 'run,metrics.train/loss,metrics."val loss"=VL:.1f,metrics.`eval-acc`' \
    --sort '-metrics.`val loss`,-metrics.train/loss' \
    --where 'metrics.`val loss` > 0 AND metrics.train/loss >= 0.2 And not metrics."eval-acc" = 1' <names.jsonl
printf '%s\n' 'run,metrics.train/loss,VL,metrics.`eval-acc`' run3,0.75,3.0, run2,0.25,3.0,0.9 run1,0.5,1.0,0.7 >want
t_status 0 "quoted names and '/' in -c, --sort and --where: exit 0"
t_out_is want "... the rows"
t_err_empty "... nothing on stderr"
t_run xt-report - --csv --group 'metrics.`val loss`' -c 'count,mean(metrics.train/loss)' <names.jsonl
printf '%s\n' 'metrics.val loss,count,mean(metrics.train/loss)' 1,1,0.5 3,2,0.5 >want
t_status 0 "--group by a quoted name: exit 0"
t_out_is want "... the groups"
printf '%s\n' '{"run":"run1","metrics":{"a,b":1,"c:d":2}}' >punct.jsonl
t_run xt-report - --csv -c 'run,metrics."a,b"=X:.1f,metrics.`c:d`' <punct.jsonl
printf '%s\n' 'run,X,metrics.`c:d`' run1,1.0,2 >want
t_status 0 "a ',' and a ':' in quoted names in -c: exit 0"
t_out_is want "... the names' own"
t_run xt-report - -c 'metrics.val loss' <names.jsonl
t_status 2 "-c with a space unquoted: exit 2"
t_err_has "xt-report: -c: 'metrics.val loss': column 12: expected a field name" "named, with its column"
t_run xt-report - --group 'metrics.`val loss' <names.jsonl
t_status 2 "--group with an unclosed quote: exit 2"
t_err_has "xt-report: --group: 'metrics.\`val loss': column 9: unclosed name" "named, with its column"

# no silent empty answer: a field no selected run has is named, with a guess
warns() {
	desc=$1
	want=$2
	shift 2
	t_run xt-report - "$@" <runs.jsonl
	t_status 0 "$desc: exit 0"
	t_err_has "$want" "$desc: warned"
}
warns "--where, a field" "xt-report: --where: no selected run has 'metric.acc'; did you mean 'metrics.acc'?" \
    --where 'metric.acc > 0.5'
warns "--where, a status" "xt-report: --where: no run has status 'complete'; did you mean 'completed'?" \
    --where 'status = complete'
warns "-c" "xt-report: -c: no selected run has 'hparams.rl'; did you mean 'hparams.lr'?" -c run,hparams.rl
warns "--sort" "xt-report: --sort: no selected run has 'metrics.ac'; did you mean 'metrics.acc'?" \
    --sort metrics.ac
warns "--group" "xt-report: --group: no selected run has 'jobs'; did you mean 'job'?" --group jobs
warns "no guess when none is close" "xt-report: -c: no selected run has 'hparams.momentum'" \
    -c hparams.momentum
t_ok "... and no 'did you mean'" test "$(grep -c 'did you mean' "$T/err")" = 0
t_run xt-report - --where 'hparams.lr > 0.2 and status = completed' -c run <runs.jsonl
t_err_empty "a field that some selected run has: no warning"
t_run xt-report - --status failed -c hparams.lr <runs.jsonl
t_err_has "-c: no selected run has 'hparams.lr'" "judged on the selected runs (--status)"
t_run xt-report - --where 'metric.acc > 0.5' </dev/null
t_err_empty "no records: no warning"

# bare names as XT's --filter takes them
cat >bare.jsonl <<'J'
{"run":"run1","status":"completed","hparams":{"lr":0.1,"opt":"sgd"},"metrics":{"val_acc":0.95,"lr":0.01}}
{"run":"run2","status":"completed","hparams":{"lr":0.2,"opt":"adam"},"metrics":{"val_acc":0.5}}
{"run":"run3","status":"failed","hparams":{"lr":0.3,"opt":"adam"}}
J
in=bare.jsonl
rows "a metric" run1 --where 'val_acc > 0.9'
rows "an hparam" run2,run3 --where 'opt = adam'
rows "the record's own field first" run3 --where 'status = failed AND NOT val_acc'
rows "one of two, but only one in the selected runs" run3 --where 'lr > 0.25' run3
t_run xt-report - --where 'lr > 0.15' -c run <bare.jsonl
t_status 2 "a bare name that is a metric and an hparam: exit 2"
t_err_has "xt-report: --where: 'lr' is both metrics.lr and hparams.lr in the selected runs; name one" \
    "named, both"
t_out_is /dev/null "... and no report"
t_run xt-report - --where 'val_ac > 0.9' -c run <bare.jsonl
t_err_has "xt-report: --where: no selected run has 'val_ac'; did you mean 'val_acc'?" \
    "a bare name no run has: a bare guess"
t_run xt-report - --where 'opt = adam' -c run,opt <bare.jsonl
t_status 0 "a bare name in -c: exit 0"
t_err_has "xt-report: -c: no selected run has 'opt'; did you mean 'hparams.opt'?" \
    "-c wants the whole path, and says which"
# names with a dot: below metrics, hparams, given_hparams and tags the rest
# of a name is one key, bare or quoted
cat >dots.jsonl <<'J'
{"run":"run1","hparams":{"opt.name":"adam"},"metrics":{"accuracy.2.0":0.5,"eval.loss":1.5,"eval":{"loss":9}}}
{"run":"run2","hparams":{"opt.name":"sgd"},"metrics":{"accuracy.2.0":0.75,"eval.loss":0.5}}
{"run":"run3","hparams":{"opt.name":"sgd"},"metrics":{"accuracy.2.0":0.25,"eval.loss":2.5}}
J
in=dots.jsonl
rows "--where, a bare name with dots" run1,run2 --where 'metrics.accuracy.2.0 > 0.4'
rows "--where, quoted" run2 --where 'metrics."accuracy.2.0" > 0.6 and hparams.`opt.name` = sgd'
rows "--where, the key, not a nested object" run1,run3 --where 'metrics.eval.loss > 1'
rows "--sort" run2,run1,run3 --sort '-metrics.`accuracy.2.0`'
t_run xt-report - --csv -c 'run,metrics.accuracy.2.0,metrics."eval.loss"=L,hparams.`opt.name`' \
    --sort metrics.eval.loss <dots.jsonl
printf '%s\n' 'run,metrics.accuracy.2.0,L,hparams.`opt.name`' run2,0.75,0.5,sgd run1,0.5,1.5,adam \
    run3,0.25,2.5,sgd >want
t_status 0 "-c with dots in names: exit 0"
t_out_is want "... the columns, headed as named"
t_err_empty "... nothing on stderr"
t_run xt-report - --group 'hparams."opt.name"' -c 'count,mean(metrics.accuracy.2.0)' <dots.jsonl
printf '%s\n' 'hparams.opt.name  count  mean(metrics.accuracy.2.0)' \
    'adam                  1                       0.500' \
    'sgd                   2                       0.500' >want
t_status 0 "--group by a name with dots: exit 0"
t_out_is want "... the groups, headed with the name"
t_run xt-report - -c 'run,metrics.*' --sort run <dots.jsonl
printf '%s\n' 'run   metrics.accuracy.2.0  metrics.eval  metrics.eval.loss' \
    'run1                 0.500  {"loss":9}                1.500' \
    'run2                 0.750                            0.500' \
    'run3                 0.250                            2.500' >want
t_status 0 "metrics.*: exit 0"
t_out_is want "... a column for each key, dots and all"
t_run xt-report - -c 'run.`a.b`' <dots.jsonl
t_status 2 "a quoted name with a dot outside a map: exit 2"
t_err_has "xt-report: -c: 'run.\`a.b\`': column 5: a quoted name holds a '.' only as a key of" "named"

# a bare name with dots, its first part none of metrics, hparams,
# given_hparams, tags: the record's own (nested) field, else the metric,
# else the hparam of that whole name, as a bare name without one
rows "--where, a bare metric with dots" run1,run3 --where 'eval.loss > 1'
rows "... with digits" run1,run2 --where 'accuracy.2.0 >= 0.5'
rows "... a bare hparam with dots" run2,run3 --where 'opt.name = sgd'
rows "... and alone: the run has it" run1,run2,run3 --where 'opt.name'
cat >own.jsonl <<'J'
{"run":"run1","eval":{"loss":0.5},"metrics":{"eval.loss":5}}
{"run":"run2","metrics":{"eval.loss":5}}
{"run":"run3","eval":{"loss":7}}
J
in=own.jsonl
rows "the record's own nested field first" run2,run3 --where 'eval.loss > 1'
rows "... and below it" run1 --where 'eval.loss < 1'
printf '%s\n' '{"run":"run1","metrics":{"eval.loss":1}}' '{"run":"run2","hparams":{"eval.loss":2}}' \
    >both.jsonl
t_run xt-report - --where 'eval.loss > 0' -c run <both.jsonl
t_status 2 "a bare name with dots that is a metric and an hparam: exit 2"
t_err_has "xt-report: --where: 'eval.loss' is both metrics.eval.loss and hparams.eval.loss in the selected runs; name one" \
    "named, both"
t_out_is /dev/null "... and no report"
in=dots.jsonl
t_run xt-report - --where 'eval.los > 1' -c run <dots.jsonl
t_status 0 "a bare name with dots no run has: exit 0"
t_err_has "xt-report: --where: no selected run has 'eval.los'; did you mean 'eval.loss'?" \
    "warned, with a bare guess"
t_run xt-report - --where 'lr.max > 1' -c run <dots.jsonl
t_err_has "xt-report: --where: no selected run has 'lr.max'" "one close to nothing: warned"
t_ok "... with no guess" test "$(grep -c 'did you mean' "$T/err")" = 0
# -c, --sort and --group want the whole path, and say which
warns_dots() {
	desc=$1
	want=$2
	shift 2
	t_run xt-report - -c run "$@" <dots.jsonl
	t_status 0 "$desc: exit 0"
	t_err_has "$want" "$desc: warned, with the whole path"
}
warns_dots "-c, a bare name with dots" \
    "xt-report: -c: no selected run has 'eval.loss'; did you mean 'metrics.eval.loss'?" -c eval.loss
warns_dots "--sort, a bare name with dots" \
    "xt-report: --sort: no selected run has 'opt.name'; did you mean 'hparams.opt.name'?" \
    --sort opt.name
warns_dots "--group, a bare name with dots" \
    "xt-report: --group: no selected run has 'accuracy.2.0'; did you mean 'metrics.accuracy.2.0'?" \
    --group accuracy.2.0

# ... and in a plot: the y axis, the legend
mkdir code
cat >code/train.sh <<'S'
for s in 1 2 3; do
	printf '{"event":"metrics","step":%d,"data":{"accuracy.2.0":0.%d,"train/loss":%d}}\n' \
	    "$s" "$s" "$((4 - s))" >>"$XT_LOG"
done
S
printf '%s\n' '{"opt.name":"adam"}' '{"opt.name":"sgd"}' >hp.jsonl
xt-submit -C code --hp hp.jsonl -- sh train.sh >/dev/null && xt-runq 2>/dev/null
t_run xt-report plot accuracy.2.0 --legend '{hparams."opt.name"}' --sort run -o dots.svg
t_status 0 "plot of a metric with dots, legend of an hparam with one: exit 0"
t_ok "... the y axis names the metric" test "$(svg_text dots.svg ylabel)" = "accuracy.2.0"
t_ok "... the legend its values" test "$(svg_text dots.svg legend)" = "adam|sgd"
t_ok "... one line for each run" test "$(grep -c 'class="line"' dots.svg)" -eq 2
t_run xt-report plot accuracy.2.0 --legend '{opt.name}' -o bare.svg
t_status 2 "a legend of a bare name with dots: exit 2"
t_err_has "xt-report: --legend: no selected run has a field 'opt.name'; did you mean 'hparams.opt.name'?" \
    "named, with the whole path"
t_ok "... and no plot" test ! -e bare.svg
# a metric with a '/' is a metric, not a run's address (ws1/run3 is one)
t_run xt-report plot train/loss accuracy.2.0 --term --ascii --size 40x10
t_status 0 "plot of a metric with a '/' and another: exit 0"
t_ok "... it draws train/loss" grep -q 'train/loss' "$T/out"
t_ok "... and the other" grep -q 'accuracy.2.0' "$T/out"
t_run xt-report plot train/loss ws1/run1.2 --term --ascii --size 40x10
t_status 0 "... of one run named by its address: exit 0"
t_ok "... whose line alone is drawn" sh -c "grep -q 'run1.2' '$T/out' && ! grep -q 'run1.1' '$T/out'"
t_run xt-report plot train/loss ws2/run1.2 --term --ascii --size 40x10
t_status 2 "... of a run named in another workspace: exit 2"
t_err_has "xt-report: 'ws2/run1.2': a name in workspace 'ws2', not in 'ws1' (-w ws2)" "... which says so"
for op in ws1/ /run1; do
	t_run xt-report -c run "$op"
	t_status 2 "'$op', a workspace or a name missing: exit 2"
	t_err_has "xt-report: '$op': expected WS/NAME, a workspace and a name in it" "... which says so"
done
xt-submit -C code -- sh train.sh >/dev/null && xt-runq 2>/dev/null
t_run xt-report plot train/loss '$lastrun' --term --ascii --size 40x10
t_status 0 "... of \$lastrun: exit 0"
t_ok "... the last run's line alone" sh -c "grep -q 'run2' '$T/out' && ! grep -q 'run1' '$T/out'"
printf 'run\nrun2\n' >want
t_run xt-report -j '$lastjob' -c run
t_status 0 "-j \$lastjob: exit 0"
t_out_is want "... its run alone"
t_run xt-report '$lastjob' -c run
t_out_is want "... and as an operand"
t_run xt-report jobs '$lastjob'
t_ok "jobs \$lastjob: the last job alone" sh -c "test \$(grep -c '^job' '$T/out') = 2 && grep -q '^job2 ' '$T/out'"
t_done
