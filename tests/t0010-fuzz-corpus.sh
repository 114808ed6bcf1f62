#!/bin/sh
# The regression run of the fuzz targets: each parser's target (built by
# make all and make san into BUILD/fuzz, see tests/fuzz/fuzz.h) goes once
# over every input of its corpus, tests/fuzz/corpus/NOUN, and neither
# crashes nor leaks nor says anything (in build-san the sanitizers watch).
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"

fuzz=$(cd "$XT_BIN/.." && pwd)/fuzz
for noun in expr jsonl space config name; do
	f=f-$noun
	corpus=$src/tests/fuzz/corpus/$noun
	n=$(find "$corpus" -type f ! -name '.*' | wc -l)
	t_ok "$f has a corpus" test "$n" -gt 0
	t_run "$fuzz/$f" "$corpus"
	t_status 0 "$f runs over its corpus"
	echo "$n inputs" >want
	t_out_is want "$f ran each of its $n inputs"
	t_err_empty "$f said nothing on stderr"
done
t_done
