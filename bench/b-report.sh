#!/bin/sh
# b-report: xt-report's queries against jq and Miller (mlr) on the same
# file of 1,000,000 run records (about 130 MB of JSON lines), in one run:
#   filter + sort + top 10   --where ... --sort -metrics.acc --first 10
#   group-by mean            --group hparams.opt -c 'mean(metrics.acc)'
# goals: each query < 1 s and >= 10x faster than jq; peak memory of the
# group-by < 100 MB; a 10,000-run report from a store's index < 100 ms.
# Prints a table and writes bench/out/results-report.json.
#   bench/b-report.sh BINDIR   (B_REPORT_N=records to use fewer)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 1 ] && [ -x "$1/xt-report" ] || bench_usage "b-report.sh BINDIR (a folder holding xt-report)"
bench_init b-report "$1"
n=${B_REPORT_N:-1000000}
for t in jq mlr /usr/bin/time; do
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
gen "$n" 1 >"$tmp/runs.jsonl" || fail "cannot write the records"
mb=$(awk -v b="$(wc -c <"$tmp/runs.jsonl")" 'BEGIN { printf "%.0f", b / 1e6 }')

# secs CMD...: wall seconds of the best of 3 (jq, mlr: 1 run), stdout to $tmp/last
secs() {
	reps=$1
	shift
	best=""
	i=0
	while [ $i -lt "$reps" ]; do
		t0=$(date +%s%N)
		"$@" <"$tmp/runs.jsonl" >"$tmp/last" 2>"$tmp/err" || fail "'$*' failed: $(head -c 300 "$tmp/err")"
		t1=$(date +%s%N)
		s=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }')
		best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (a == "" || b < a) ? b : a }')
		i=$((i + 1))
	done
	echo "$best"
}

where='metrics.acc > 0.5 and hparams.opt = "adam"'
x1=$(secs 3 "$bin/xt-report" - --where "$where" --sort -metrics.acc --first 10 -c run,metrics.acc --csv)
# the same 10 runs from each tool (acc has 6 decimals: ties are rare, and kept in input order)
sed 1d "$tmp/last" >"$tmp/x1"
j1=$(secs 1 jq -r -n '[inputs | select(.metrics.acc > 0.5 and .hparams.opt == "adam")] |
    sort_by(-.metrics.acc) | .[:10][] | "\(.run),\(.metrics.acc)"')
cp "$tmp/last" "$tmp/j1"
m1=$(secs 1 mlr --ijsonl --ocsv flatten then filter '${metrics.acc} > 0.5 && ${hparams.opt} == "adam"' \
    then sort -nr metrics.acc then head -n 10 then cut -o -f run,metrics.acc)
sed 1d "$tmp/last" >"$tmp/m1"
for f in x1 j1 m1; do cut -d, -f1 "$tmp/$f" >"$tmp/$f.runs"; done
cmp -s "$tmp/x1.runs" "$tmp/j1.runs" || fail "top 10: xt-report and jq disagree"
cmp -s "$tmp/x1.runs" "$tmp/m1.runs" || fail "top 10: xt-report and mlr disagree"

x2=$(secs 3 "$bin/xt-report" - --group hparams.opt -c 'count,mean(metrics.acc)' --csv --precision 6)
cp "$tmp/last" "$tmp/x2"
j2=$(secs 1 jq -r -n 'reduce inputs as $r ({}; .[$r.hparams.opt] |= {n: (.n + 1), s: (.s + $r.metrics.acc)}) |
    to_entries[] | "\(.key) \(.value.n)"')
m2=$(secs 1 mlr --ijsonl --ocsv flatten then stats1 -a count,mean -f metrics.acc -g hparams.opt)
sed 1d "$tmp/x2" | cut -d, -f1,2 | sort >"$tmp/x2c"
sed 1d "$tmp/last" | cut -d, -f1,2 | sort >"$tmp/m2c"
cmp -s "$tmp/x2c" "$tmp/m2c" || fail "group-by: xt-report and mlr disagree on the counts"

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
    -v rss="$rss" -v ix="$best" 'BEGIN {
	printf "%d records, %s MB of JSON lines\n", n, mb
	printf "%-28s %9s %9s %9s %9s %9s %s\n", "query (seconds)", "xt-report", "jq", "mlr", "jq/xt", "mlr/xt", "goal"
	printf "%-28s %9.3f %9.3f %9.3f %9.1f %9.1f %s\n", "filter+sort+top 10", x1, j1, m1, j1 / x1, m1 / x1, "< 1 s, >= 10x jq"
	printf "%-28s %9.3f %9.3f %9.3f %9.1f %9.1f %s\n", "group-by mean", x2, j2, m2, j2 / x2, m2 / x2, "< 1 s, >= 10x jq"
	printf "%-28s %9.1f MB %29s\n", "group-by peak memory", rss, "goal < 100 MB"
	printf "%-28s %9.1f ms %29s\n", "10,000-run index report", ix, "goal < 100 ms"
}'
mkdir -p "$here/out"
cat >"$here/out/results-report.json" <<EOF
{"bench":"report","records":$n,"mb":$mb,"results":[
{"name":"top10_xt_s","value":$x1,"unit":"s","goal":1,"better":"lower"},
{"name":"top10_jq_s","value":$j1,"unit":"s"},
{"name":"top10_mlr_s","value":$m1,"unit":"s"},
{"name":"groupby_xt_s","value":$x2,"unit":"s","goal":1,"better":"lower"},
{"name":"groupby_jq_s","value":$j2,"unit":"s"},
{"name":"groupby_mlr_s","value":$m2,"unit":"s"},
{"name":"groupby_peak_mb","value":$rss,"unit":"MB","goal":100,"better":"lower"},
{"name":"index_10k_ms","value":$best,"unit":"ms","goal":100,"better":"lower"}
]}
EOF
