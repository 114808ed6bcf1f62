#!/bin/sh
# Run each fuzz target of BUILD/fuzz (built with libFuzzer by make fuzz) for
# SECONDS, from its corpus in tests/fuzz/corpus/NOUN; new inputs go to
# BUILD/corpus/NOUN, not to the tree. Stops at the first crash, leak or
# undefined behaviour, naming the input that caused it.
#   tests/fuzz/run.sh BUILD SECONDS f-NOUN...
cd "$(dirname "$0")/../.." || exit 2
[ $# -ge 3 ] || { echo "usage: tests/fuzz/run.sh BUILD SECONDS f-NOUN..." >&2; exit 2; }
b=$1
secs=$2
shift 2
# (0 would be no limit at all for libFuzzer)
case $secs in '' | *[!0-9]* | 0) echo "run.sh: FUZZ_TIME '$secs': expected seconds > 0" >&2; exit 2 ;; esac
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
for f in "$@"; do
	noun=${f#f-}
	mkdir -p "$b/corpus/$noun" "$b/crash"
	log=$b/fuzz-$noun.log
	printf '%-10s %4ds ... ' "$f" "$secs"
	if ! "$b/fuzz/$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -max_len=4096 -print_final_stats=1 -artifact_prefix="$b/crash/$f-" \
	    "$b/corpus/$noun" "tests/fuzz/corpus/$noun" >"$log" 2>&1; then
		echo FAILED
		grep -E '^(==[0-9]+==ERROR|SUMMARY|[^ ]*: runtime error|artifact_prefix|Test unit written|.*Base64)' \
		    "$log" | head -n 20 | sed 's/^/    /'
		echo "    the whole log: $log; the input: $b/crash/$f-*"
		exit 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	echo "ok, $runs runs, $cov, corpus $(ls "$b/corpus/$noun" | wc -l) inputs"
done
