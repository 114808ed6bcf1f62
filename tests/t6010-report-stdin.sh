#!/bin/sh
# xt-report over run records on standard input: the table, CSV, TSV,
# Markdown and JSON lines against expected files; selection by names,
# ranges, globs, status, experiment, job and tag; --where; sort, first,
# last, columns and formats; groups; the jobs report; --available; and the
# errors: a malformed line (its number, exit 1), a bad expression (its
# column, exit 2), bad options.
D=$(cd "$(dirname "$0")" && pwd)/data/t6010
. "$(dirname "$0")/lib.sh"

cp "$D/runs.jsonl" runs.jsonl
# report NAME ARGS...: xt-report - ARGS < runs.jsonl, checked against $D/NAME
report() {
	name=$1
	shift
	xt-report - "$@" <runs.jsonl >"$T/out" 2>"$T/err"
	rc=$?
	t_status 0 "$name: exit 0"
	t_out_is "$D/$name" "$name: output"
	t_err_empty "$name: nothing on stderr"
}

report table.txt
report sorted.csv --sort -metrics.acc,run --csv -c 'run,hparams.lr=LR,hparams.opt,metrics.acc=Acc:.2f,created:$do'
report top.jsonl --where 'metrics.acc >= 0.8 or tags.top5' --sort run --json --first 2
report last.tsv --tsv -c run,hparams.opt --sort -created --last 2
report group.txt --group hparams.opt -c 'count,mean(metrics.acc),std(metrics.acc),min(metrics.loss),max(metrics.loss)'
report group.jsonl --group exp -c 'count,mean(metrics.acc)=acc' --json --sort -acc
report table.md --md -c 'run,hparams.opt=Optimizer,note'
report width.txt -c 'run,note,hparams.lr,metrics.loss:,.1f' --max-width 12 --precision 2 --status completed,cancelled
report names.txt 'run3.*,run1-run2' run10 -c run,status
report select.txt -e mnist -j job2 --tag top5 -c run,exp,job
report where.txt --where 'hparams.opt ~ "^(sgd|a)" and not hparams.lr = 0.1 or status = cancelled' -c run
report types.txt --where 'hparams.lr = "0.01"' -c run,hparams.lr
report available.txt --available

# names that are not words: quoted, and with '/'
printf '%s\n' '{"run":"r1","metrics":{"val loss":0.5,"train/loss":1,"a b":{"c d":3}}}' \
    '{"run":"r2","metrics":{"val loss":2}}' >q.jsonl
t_run xt-report - -c run --where 'metrics."val loss" < 1 and metrics.train/loss' <q.jsonl
printf 'run\nr1\n' >want
t_out_is want "a quoted name and one with '/' in --where"
t_run xt-report - -c run --where "metrics.'a b' or metrics.\"val loss\" = 2" <q.jsonl
printf 'run\nr1\nr2\n' >want
t_out_is want "quoted names, either quote; an object among the metrics is one value"
t_run xt-report - -c run --where "metrics.'a b'.\"c d\" = 3" <q.jsonl
printf 'run\n' >want
t_out_is want "... not searched: a metric's name is one key (metrics.a b.c d)"
t_run xt-report - --where 'status."a.b" = 1' <q.jsonl
t_status 2 "a quoted name with '.' in it, not a map's key: exit 2"
t_err_has "column 8: a quoted name holds a '.' only as a key of" "named, with its column"

xt-report jobs - --metric loss --goal min <runs.jsonl >"$T/out" 2>"$T/err"
rc=$?
t_status 0 "jobs report"
t_out_is "$D/jobs.txt" "jobs report: runs by status, best loss, parents not counted"

: >empty
t_run xt-report - --where 'metrics.acc > 2' </dev/null
t_status 0 "no records: success"

# errors
printf '{"run":"run1"}\n\n{"run":"run2",\n{"run":"run3"}\n' >bad.jsonl
xt-report - <bad.jsonl >"$T/out" 2>"$T/err"
rc=$?
t_status 1 "a malformed line: exit 1"
t_err_has "xt-report: <stdin>:3:15: not a JSON object" "the message names the line and column"
t_out_is empty "and nothing is printed"
t_run xt-report - --where 'metrics.acc > 0.9 and (hparams.opt = adam'
t_status 2 "a bad expression: exit 2"
t_err_has "xt-report: --where: column 23: '(' is never closed" "the message names the column"
t_run xt-report - --where 'metrics.acc >> 1'
t_err_has "column 14: expected a value after '>'" "a doubled operator"
xt-report - --status failed -c run <runs.jsonl >failed.txt
t_run xt-report - --status error -c run <runs.jsonl
t_out_is failed.txt "--status error, XT's name, is failed"
t_ok "... which is not empty" grep -q run2 failed.txt
t_run xt-report - --status done
t_status 2 "an unknown status: exit 2"
t_err_has "unknown status 'done'" "named"
t_run xt-report - --first 0
t_status 2 "--first 0: exit 2"
t_run xt-report - -c 'avg(x'
t_status 2 "a bad column: exit 2"
t_err_has "expected FUNC(FIELD)" "named"
xt-report - --group exp --sort -nope <runs.jsonl >"$T/out" 2>"$T/err"
rc=$?
t_status 2 "a group sort by a column the report lacks: exit 2"
t_err_has "--sort: no column 'nope'" "named"
t_run xt-report - --json --csv
t_status 2 "two output formats: exit 2"
t_run xt-report 'run/1'
t_status 2 "a bad run name: exit 2"
t_run xt-report plot acc - --layout 2x0
t_status 2 "--layout 2x0: exit 2"
t_err_has "xt-report: --layout: expected ROWSxCOLS, e.g. 2x3, not '2x0'" "named"
t_run xt-report plot acc - --size 640
t_status 2 "--size without a height: exit 2"
t_err_has "--size: expected WIDTHxHEIGHT, not '640'" "named"
t_run xt-report plot acc - --smooth 1
t_status 2 "--smooth 1: exit 2"
t_err_has "--smooth: expected a number in [0, 1), not '1'" "named"
t_done
