#!/bin/sh
# xt-report from the MongoDB index gives the same rows as from the store's
# index: every report of the report tests (t6010, t6030: selections,
# --where, sorts, first and last, groups, the jobs report), and filters
# where the database and xt could disagree (values in arrays, strings xt
# reads as numbers, regular expressions beyond what both read alike,
# bytes beyond ASCII, long values, negations, quoted names). The
# database does the selecting it can (lib/mongoq.c); a report whose
# database does not answer reads the store's index, and says so.
mcache=${XDG_CACHE_HOME:-$HOME/.cache}
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/mongo.sh"
mongo_need

t_ok "the server answers (TLS, SCRAM-SHA-256)" mongo_shared
idx=$XT_STORE/ws/ws1/index/runs.jsonl
echo made | xt-put -a @share/made	# the store, made
mkdir -p "$(dirname "$idx")"
# the records of t6010, of t6030 (NaN and the infinities, in ws1, as nanN),
# and of the cases below
cp "$tdir/data/t6010/runs.jsonl" "$idx"
long=$(awk 'BEGIN { while (i++ < 5000) printf "x" }')
cat >>"$idx" <<REC
{"ws":"ws1","run":"nan1","job":"job20","hparams":{"lr":0.1},"metrics":{"loss":0.5}}
{"ws":"ws1","run":"nan2","job":"job20","hparams":{"lr":0.2},"metrics":{"loss":"NaN"}}
{"ws":"ws1","run":"nan3","job":"job20","hparams":{"lr":0.3},"metrics":{"loss":"Infinity"}}
{"ws":"ws1","run":"nan4","job":"job20","hparams":{"lr":0.4},"metrics":{"loss":"-Infinity"}}
{"ws":"ws1","run":"nan5","job":"job20","hparams":{"lr":0.5},"metrics":{}}
{"ws":"ws1","run":"nan6","job":"job20","hparams":{"lr":0.6},"metrics":{"loss":2}}
{"ws":"ws1","run":"arr1","job":"job21","hparams":{"layers":[64,128],"opt":["sgd"]},"metrics":{"val loss":0.3,"train/loss":1}}
{"ws":"ws1","run":"arr2","job":"job21","hparams":{"layers":64,"opt":"sgd"},"metrics":{"val loss":3}}
{"ws":"ws1","run":"arr3","job":"job21","hparams":{"layers":[{"n":64}],"opt":{"name":"sgd"}}}
{"ws":"ws1","run":"uni1","job":"job22","note":"é","hparams":{"opt":"é1"}}
{"ws":"ws1","run":"uni2","job":"job22","note":"ab","hparams":{"opt":"ab1"}}
{"ws":"ws1","run":"long1","job":"job22","note":"${long}end"}
{"ws":"ws1","run":"num1","job":"job22","note":12,"hparams":{"opt":true}}
REC
# ws2: 400 runs for sorts cut short by the database: metrics.acc with many
# ties, integers and fractions, missing, null, true, strings, the strings
# xt reads as numbers, arrays, objects, and numbers past 1e308
mkdir -p "$XT_STORE/ws/ws2/index"
awk 'BEGIN {
	for (i = 1; i <= 400; i++) {
		k = i % 23
		if (k == 0) acc = ""
		else if (k == 1) acc = ",\"acc\":null"
		else if (k == 2) acc = ",\"acc\":true"
		else if (k == 3) acc = ",\"acc\":\"high\""
		else if (k == 4) acc = ",\"acc\":\"NaN\""
		else if (k == 5) acc = ",\"acc\":\"Infinity\""
		else if (k == 6) acc = ",\"acc\":\"-Infinity\""
		else if (k == 7) acc = ",\"acc\":[0.5,0.9]"
		else if (k == 8) acc = ",\"acc\":{\"top\":1}"
		else if (k == 9) acc = ",\"acc\":1.5e308"
		else if (k == 10) acc = ",\"acc\":" (i % 3)
		else acc = ",\"acc\":" (i % 17) / 10
		printf "{\"ws\":\"ws2\",\"run\":\"run%d\",\"job\":\"job%d\",\"status\":\"%s\",\"hparams\":{\"lr\":%s},\"metrics\":{\"loss\":%d%s}}\n",
		    i, i % 4, i % 5 ? "completed" : "failed", (i % 7) / 7, i % 11, acc
	}
}' >"$XT_STORE/ws/ws2/index/runs.jsonl"
export XT_INDEX="$murl" XT_INDEX_PASSWORD="$mpass"
t_run xt-report --reindex
t_status 0 "--reindex puts the store's records into the database"
t_ok "all 421" grep -q "^reindex: 421 runs of 2 workspaces" "$T/out"

n=0
# same ARGS...: the report from the database is the report from the store
same() {
	n=$((n + 1))
	xt-report --index store "$@" >"store.$n" 2>"store.$n.all"
	src=$?
	# the database sends only what --where may select: whether a field of
	# it is in no run is said of the store's index only
	grep -v "^xt-report: --where: no selected run has" "store.$n.all" >"store.$n.err"
	xt-report "$@" >"mongo.$n" 2>"mongo.$n.err"
	mrc=$?
	if [ $src -eq $mrc ] && cmp -s "store.$n" "mongo.$n" && cmp -s "store.$n.err" "mongo.$n.err" &&
	    [ -s "store.$n" ]; then
		t_ok "same rows: $*" true
	else
		t_ok "same rows: $* (exit $src and $mrc; store.$n, mongo.$n)" false
		diff "store.$n" "mongo.$n" | head -n 10 | sed 's/^/#   /'
		head -n 3 "mongo.$n.err" | sed 's/^/#   /'
	fi
}

# the reports of t6010, as its test runs them
same
same --sort -metrics.acc,run --csv -c 'run,hparams.lr=LR,hparams.opt,metrics.acc=Acc:.2f,created:$do'
same --where 'metrics.acc >= 0.8 or tags.top5' --sort run --json --first 2
same --tsv -c run,hparams.opt --sort -created --last 2
same --group hparams.opt -c 'count,mean(metrics.acc),std(metrics.acc),min(metrics.loss),max(metrics.loss)'
same --group exp -c 'count,mean(metrics.acc)=acc' --json --sort -acc
same --md -c 'run,hparams.opt=Optimizer,note'
same -c 'run,note,hparams.lr,metrics.loss:,.1f' --max-width 12 --precision 2 --status completed,cancelled
same 'run3.*,run1-run2' run10 -c run,status
same 'run3.*,run1' 'nan[2-4]' 'arr?' -c run,status
same run3,run1 -c run,status
# bare names: the record's own field, else the metric, else the hparam
same --where 'acc >= 0.8 and opt = adam' -c run,status
same --where 'not loss or lr < 0.01' -c run
same run3 --parents -c run,status
same --parents --first 3 -c run
same -e mnist -j job2 --tag top5 -c run,exp,job
same --tag top5=true -c run
same --where 'hparams.opt ~ "^(sgd|a)" and not hparams.lr = 0.1 or status = cancelled' -c run
same --where 'hparams.lr = "0.01"' -c run,hparams.lr
same --available
same jobs --metric loss --goal min
same jobs job1 job2 --metric acc
same --where 'metrics.acc > 2'
# t6030's, NaN and the infinities stored as strings
for w in 'metrics.loss < 1' 'metrics.loss >= 1' 'metrics.loss == 0.5' 'metrics.loss != 0.5' \
    'metrics.loss ~ "^NaN$"' 'not metrics.loss < 1' 'metrics.loss > 1e300' 'metrics.loss <= -1e300'; do
	same -c run,metrics.loss --where "$w" --sort metrics.loss
done
# arrays, objects, names that are not words
for w in 'hparams.layers = 64' 'not hparams.layers = 64' 'hparams.layers != 64' \
    'hparams.opt = sgd' 'not hparams.opt = sgd' 'hparams.layers.n = 64' 'not hparams.layers.n' \
    'hparams.opt ~ "gd"' 'hparams.opt !~ "gd"' 'not hparams.opt ~ "^s"' 'hparams.opt.name' \
    'metrics."val loss" < 1' 'metrics."val loss" >= 1 or metrics.train/loss' 'not tags.top5' \
    'not note' 'not (status = completed or job = job21)' 'status != completed and not job = job1'; do
	same -c run --where "$w"
done
# regular expressions: what both read alike, and what only xt reads
for w in 'note ~ "^.$"' 'note ~ "^..$"' 'hparams.opt ~ "^[^a]1$"' 'note ~ "end$"' 'note ~ "^x+end$"' 'note ~ "^x+$"' \
    'note ~ "2"' 'hparams.opt ~ "true"' 'hparams.opt ~ "[[:alpha:]]1"' 'note ~ "x{3}e"' \
    'hparams.opt ~ "a\\|b"' 'hparams.opt ~ "\\d"' 'hparams.opt ~ "[[:digit:]]"' 'hparams.opt ~ "(sgd|adam)$"' 'run ~ "^run[0-9]$"'; do
	same -c run --where "$w"
done

# sorts with --first or --last, cut short by the database's sort
# (XT_INDEX_PUSHDOWN=sort): the same rows, ties and all (each run has one
# line in the store's index, so both orders are the order of the lines),
# and the same as without the cut (the default)
export XT_INDEX_PUSHDOWN=sort
for a in '--sort -metrics.acc --first 10' '--sort metrics.acc --first 10' \
    '--sort metrics.acc,run --first 25' '--sort -metrics.acc,-run --first 5 --where hparams.lr>0.5' \
    '--sort -metrics.acc --first 400' '--sort metrics.acc --first 200 --status completed' \
    '--sort -metrics.loss,metrics.acc --first 7' '--sort -metrics.acc --first 3 -j job1' \
    '--sort hparams.lr --first 30 --where metrics.acc<0.5' '--sort metrics.acc --last 10' \
    '--sort -metrics.acc --last 10' '--sort metrics.acc,-run --last 40' '--sort -metrics.acc --last 400' \
    '--sort metrics.acc --last 5 --where hparams.lr>0.3 --status failed'; do
	# shellcheck disable=SC2086 # the arguments split as written
	same -w ws2 -c run,metrics.acc,metrics.loss $a
	# shellcheck disable=SC2086
	XT_INDEX_PUSHDOWN= xt-report -w ws2 -c run,metrics.acc,metrics.loss $a >uncut
	t_ok "and as without the cut: $a" cmp -s uncut "mongo.$n"
done
unset XT_INDEX_PUSHDOWN

mongo_dump runs.indexes
t_ok "an index on the field a report sorted by, made on first use" grep -qx 'xt_metrics.acc' "$T/out"
t_ok "and on one it filtered by" grep -qx 'xt_hparams.lr' "$T/out"
t_ok "none on one only matched or looked for" sh -c '! grep -Eq "xt_(note|tags)" "$1"' - "$T/out"

# the report reads the database: a line only the store's index has is not in it
echo '{"ws":"ws1","run":"only-store","job":"job30","status":"queued"}' >>"$idx"
t_run xt-report -c run -j job30
t_status 0 "a report from the database"
printf 'run\n' >want
t_out_is want "has no run the database was not told of"
t_run xt-report --index store -c run -j job30
printf 'run\nonly-store\n' >want
t_out_is want "which the store's index has"

# a database that does not answer: the store's index, with a warning
port=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
t_run env XT_INDEX="mongodb://$muser@localhost:$port/t$$?authSource=admin&tls=true&tlsCAFile=$T/ca.pem&serverSelectionTimeoutMS=300" \
    xt-report -c run -j job30
t_status 0 "a database that does not answer"
t_out_is want "the report reads the store's index"
t_err_has "this report reads the store's index" "and says so"
t_ok "without the password" sh -c "! grep -q -- '$mpass' '$T/err'"
t_done
