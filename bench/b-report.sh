#!/bin/sh
# b-report: xt-report's queries against jq and Miller (mlr) on the same
# file of 1,000,000 run records (about 130 MB of JSON lines), in one run:
#   filter + sort + top 10   --where ... --sort -metrics.acc --first 10
#   group-by mean            --group hparams.opt -c 'mean(metrics.acc)'
# and the same two on 300,000 small records, the shape MLflow users have
# (a run, a status, 2 hparams and 2 metrics with 17 digits: about 190
# bytes each), against jq and against grep -c adam over the same file (a
# bare scan of its bytes).
# goals: each query < 1 s and >= 10x faster than jq; on the small records
# filter + sort + top 10 within 3x of grep; peak memory of the group-by
# < 100 MB; a 10,000-run index report < 100 ms. Times are the median of
# B_REPORT_REPS runs (5; jq and mlr: 3 and 1, they are slow).
# Prints a table and writes bench/out/results-report.json.
#   bench/b-report.sh BINDIR   (B_REPORT_N=records to use fewer)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 1 ] && [ -x "$1/xt-report" ] || bench_usage "b-report.sh BINDIR (a folder holding xt-report)"
bench_init b-report "$1"
n=${B_REPORT_N:-1000000}
ns=$((n * 3 / 10))
reps=${B_REPORT_REPS:-5}
for t in jq mlr grep /usr/bin/time; do
	command -v "$t" >/dev/null || fail "'$t' is missing (scripts/deps.sh bench installs it)"
done

# records as xt writes them, with a sweep's spread of hparams and metrics
gen() { # N FIRST-RUN
	awk -v n="$1" -v first="$2" 'BEGIN {
		srand(7)
		split("adam sgd rmsprop adagrad", opt, " ")
		split("completed completed completed failed running", st, " ")
		for (i = 0; i < n; i++) {
			r = first + i
			printf "{\"ws\":\"ws1\",\"exp\":\"e%d\",\"job\":\"job%d\",\"run\":\"run%d\",\"status\":\"%s\",", r % 7, int(r / 10), r, st[1 + r % 5]
			printf "\"hparams\":{\"lr\":%.4g,\"opt\":\"%s\"},", 10 ^ (-1 - 3 * rand()), opt[1 + int(rand() * 4)]
			printf "\"metrics\":{\"acc\":%.6f,\"loss\":%.4f}}\n", rand(), 2 * rand()
		}
	}'
}
# small records, as MLflow users' runs: floats as Python writes them, 17 digits
gen_small() { # N
	awk -v n="$1" 'BEGIN {
		srand(11)
		split("adam sgd rmsprop adagrad", opt, " ")
		split("completed completed completed failed running", st, " ")
		for (i = 1; i <= n; i++) {
			printf "{\"run\":\"run%d\",\"status\":\"%s\",", i, st[1 + i % 5]
			printf "\"hparams\":{\"learning_rate\":%.17g,\"optimizer\":\"%s\"},", 10 ^ (-1 - 3 * rand()), opt[1 + int(rand() * 4)]
			printf "\"metrics\":{\"val_accuracy\":%.17g,\"train_loss\":%.17g}}\n", rand(), 2 * rand()
		}
	}'
}
gen "$n" 1 >"$tmp/runs.jsonl" || fail "cannot write the records"
gen_small "$ns" >"$tmp/small.jsonl" || fail "cannot write the small records"
mb=$(awk -v b="$(wc -c <"$tmp/runs.jsonl")" 'BEGIN { printf "%.0f", b / 1e6 }')
mbs=$(awk -v b="$(wc -c <"$tmp/small.jsonl")" 'BEGIN { printf "%.0f", b / 1e6 }')
in=$tmp/runs.jsonl

# secs REPS CMD...: the median of REPS runs' wall seconds, stdin $in,
# stdout to $tmp/last (a file: GNU grep stops at its first match when its
# stdout is /dev/null)
secs() {
	r=$1
	shift
	all=""
	i=0
	while [ $i -lt "$r" ]; do
		t0=$(date +%s%N)
		"$@" <"$in" >"$tmp/last" 2>"$tmp/err" || fail "'$*' failed: $(head -c 300 "$tmp/err")"
		t1=$(date +%s%N)
		all="$all $(((t1 - t0) / 1000))"
		i=$((i + 1))
	done
	calc "$(echo "$all" | median) / 1e6"
}

where='metrics.acc > 0.5 and hparams.opt = "adam"'
x1=$(secs "$reps" "$bin/xt-report" - --where "$where" --sort -metrics.acc --first 10 -c run,metrics.acc --csv)
# the same 10 runs from each tool (acc has 6 decimals: ties are rare, and kept in input order)
sed 1d "$tmp/last" >"$tmp/x1"
j1=$(secs 3 jq -r -n '[inputs | select(.metrics.acc > 0.5 and .hparams.opt == "adam")] |
    sort_by(-.metrics.acc) | .[:10][] | "\(.run),\(.metrics.acc)"')
cp "$tmp/last" "$tmp/j1"
m1=$(secs 1 mlr --ijsonl --ocsv flatten then filter '${metrics.acc} > 0.5 && ${hparams.opt} == "adam"' \
    then sort -nr metrics.acc then head -n 10 then cut -o -f run,metrics.acc)
sed 1d "$tmp/last" >"$tmp/m1"
for f in x1 j1 m1; do cut -d, -f1 "$tmp/$f" >"$tmp/$f.runs"; done
cmp -s "$tmp/x1.runs" "$tmp/j1.runs" || fail "top 10: xt-report and jq disagree"
cmp -s "$tmp/x1.runs" "$tmp/m1.runs" || fail "top 10: xt-report and mlr disagree"

x2=$(secs "$reps" "$bin/xt-report" - --group hparams.opt -c 'count,mean(metrics.acc)' --csv --precision 6)
cp "$tmp/last" "$tmp/x2"
j2=$(secs 3 jq -r -n 'reduce inputs as $r ({}; .[$r.hparams.opt] |= {n: (.n + 1), s: (.s + $r.metrics.acc)}) |
    to_entries[] | "\(.key) \(.value.n)"')
m2=$(secs 1 mlr --ijsonl --ocsv flatten then stats1 -a count,mean -f metrics.acc -g hparams.opt)
sed 1d "$tmp/x2" | cut -d, -f1,2 | sort >"$tmp/x2c"
sed 1d "$tmp/last" | cut -d, -f1,2 | sort >"$tmp/m2c"
cmp -s "$tmp/x2c" "$tmp/m2c" || fail "group-by: xt-report and mlr disagree on the counts"

# the small records: the same two queries, and grep -c adam
in=$tmp/small.jsonl
where='metrics.val_accuracy > 0.5 and hparams.optimizer = "adam"'
s1=$(secs "$reps" "$bin/xt-report" - --where "$where" --sort -metrics.val_accuracy --first 10 \
    -c run,metrics.val_accuracy --csv)
sed 1d "$tmp/last" | cut -d, -f1 >"$tmp/s1.runs"
sj1=$(secs 3 jq -r -n '[inputs | select(.metrics.val_accuracy > 0.5 and .hparams.optimizer == "adam")] |
    sort_by(-.metrics.val_accuracy) | .[:10][] | .run')
cmp -s "$tmp/s1.runs" "$tmp/last" || fail "small records, top 10: xt-report and jq disagree"
sg=$(secs "$reps" grep -c adam)
[ "$(cat "$tmp/last")" -gt 0 ] || fail "grep -c adam found no line"
s2=$(secs "$reps" "$bin/xt-report" - --group hparams.optimizer -c 'count,mean(metrics.val_accuracy)' --csv)
sed 1d "$tmp/last" | cut -d, -f1,2 | sort >"$tmp/s2c"
sj2=$(secs 3 jq -r -n 'reduce inputs as $r ({}; .[$r.hparams.optimizer] |= {n: (.n + 1)}) |
    to_entries[] | "\(.key),\(.value.n)"')
sort "$tmp/last" >"$tmp/sj2c"
cmp -s "$tmp/s2c" "$tmp/sj2c" || fail "small records, group-by: xt-report and jq disagree on the counts"
in=$tmp/runs.jsonl

/usr/bin/time -f %M -o "$tmp/rss" "$bin/xt-report" - --group hparams.opt -c 'mean(metrics.acc)' \
    <"$tmp/runs.jsonl" >/dev/null || fail "group-by under /usr/bin/time failed"
rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$tmp/rss")

# 10,000 runs in a store's index, three states each (queued, running, ended),
# compacted by the first report; then the best of 5 reports of all of them
st="$tmp/store"
mkdir -p "$st/ws/ws1/index"
echo '{"format":1}' >"$st/xt-store.json"
gen 10000 1 | awk '{ q = $0; sub(/"status":"[a-z]*"/, "\"status\":\"queued\"", q); r = q
	sub(/"queued"/, "\"running\"", r); print q; print r; print }' >"$st/ws/ws1/index/runs.jsonl"
"$bin/xt-report" -s "$st" -c run >/dev/null || fail "the index report failed"
[ "$(wc -l <"$st/ws/ws1/index/runs.jsonl")" -eq 10000 ] || fail "the index was not compacted"
best=""
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	"$bin/xt-report" -s "$st" --sort -metrics.acc >"$tmp/ix" || fail "the index report failed"
	t1=$(date +%s%N)
	best=$(awk -v a="$best" -v d=$((t1 - t0)) 'BEGIN { s = d / 1e6; print (a == "" || s < a) ? s : a }')
done
[ "$(wc -l <"$tmp/ix")" -eq 10001 ] || fail "the index report has $(wc -l <"$tmp/ix") lines"

awk -v n="$n" -v mb="$mb" -v x1="$x1" -v j1="$j1" -v m1="$m1" -v x2="$x2" -v j2="$j2" -v m2="$m2" \
    -v ns="$ns" -v mbs="$mbs" -v s1="$s1" -v sj1="$sj1" -v sg="$sg" -v s2="$s2" -v sj2="$sj2" \
    -v rss="$rss" -v ix="$best" -v reps="$reps" 'BEGIN {
	printf "%d records, %s MB of JSON lines; xt-report the median of %d runs\n", n, mb, reps
	printf "%-28s %9s %9s %9s %9s %9s %s\n", "query (seconds)", "xt-report", "jq", "mlr", "jq/xt", "mlr/xt", "goal"
	printf "%-28s %9.3f %9.3f %9.3f %9.1f %9.1f %s\n", "filter+sort+top 10", x1, j1, m1, j1 / x1, m1 / x1, "< 1 s, >= 10x jq"
	printf "%-28s %9.3f %9.3f %9.3f %9.1f %9.1f %s\n", "group-by mean", x2, j2, m2, j2 / x2, m2 / x2, "< 1 s, >= 10x jq"
	printf "%-28s %9.1f MB %29s\n", "group-by peak memory", rss, "goal < 100 MB"
	printf "%-28s %9.1f ms %29s\n", "10,000-run index report", ix, "goal < 100 ms"
	printf "\n%d small records, %s MB of JSON lines\n", ns, mbs
	printf "%-28s %9s %9s %9s %9s %9s %s\n", "query (seconds)", "xt-report", "jq", "grep", "jq/xt", "xt/grep", "goal"
	printf "%-28s %9.3f %9.3f %9.3f %9.1f %9.2f %s\n", "filter+sort+top 10", s1, sj1, sg, sj1 / s1, s1 / sg, ">= 10x jq, <= 3x grep"
	printf "%-28s %9.3f %9.3f %9s %9.1f %9s %s\n", "group-by mean", s2, sj2, "", sj2 / s2, "", ">= 10x jq"
}'
mkdir -p "$here/out"
cat >"$here/out/results-report.json" <<EOF
{"bench":"report","records":$n,"mb":$mb,"small_records":$ns,"small_mb":$mbs,"reps":$reps,"results":[
{"name":"top10_xt_s","value":$x1,"unit":"s","goal":1,"better":"lower"},
{"name":"top10_jq_s","value":$j1,"unit":"s"},
{"name":"top10_mlr_s","value":$m1,"unit":"s"},
{"name":"groupby_xt_s","value":$x2,"unit":"s","goal":1,"better":"lower"},
{"name":"groupby_jq_s","value":$j2,"unit":"s"},
{"name":"groupby_mlr_s","value":$m2,"unit":"s"},
{"name":"groupby_peak_mb","value":$rss,"unit":"MB","goal":100,"better":"lower"},
{"name":"index_10k_ms","value":$best,"unit":"ms","goal":100,"better":"lower"},
{"name":"small_top10_xt_s","value":$s1,"unit":"s","goal":1,"better":"lower"},
{"name":"small_top10_jq_s","value":$sj1,"unit":"s"},
{"name":"small_grep_s","value":$sg,"unit":"s"},
{"name":"small_top10_jq_ratio","value":$(calc "$sj1 / $s1"),"unit":"x","goal":10,"better":"higher"},
{"name":"small_top10_grep_ratio","value":$(calc "$s1 / $sg"),"unit":"x","goal":3,"better":"lower"},
{"name":"small_groupby_xt_s","value":$s2,"unit":"s","goal":1,"better":"lower"},
{"name":"small_groupby_jq_s","value":$sj2,"unit":"s"},
{"name":"small_groupby_jq_ratio","value":$(calc "$sj2 / $s2"),"unit":"x","goal":10,"better":"higher"}
]}
EOF
