#!/bin/sh
# bench/run.sh: run the benchmarks, every bench/b-*.sh in turn, each given
# the folder of the built tools. A new benchmark is a new b-NAME.sh that
# takes that folder as its only argument, prints a table on stdout, writes
# bench/out/results-NAME.json and exits 0, or 1 when it could not measure
# (b-azure.sh: on Azurite, with node, npm and curl as its peers' means;
# b-mongo.sh: on the MongoDB test server of scripts/mongo-up.sh, with node
# and npm, and build/helper/mongo-one as its peer).
#   bench/run.sh BINDIR [NAME...]   (NAME: run only b-NAME.sh)
set -u

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: bench/run.sh BINDIR [NAME...]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$1" && pwd)
shift

if [ $# -eq 0 ]; then
	set -- "$here"/b-*.sh
else
	for n in "$@"; do
		shift
		set -- "$@" "$here/b-$n.sh"
	done
fi

ran=0
failed=0
for b in "$@"; do
	if [ ! -f "$b" ]; then
		echo "run.sh: no benchmark '$b'" >&2
		failed=$((failed + 1))
		continue
	fi
	name=$(basename "$b" .sh)
	echo "== ${name#b-}"
	ran=$((ran + 1))
	if ! sh "$b" "$bin"; then
		echo "run.sh: '$name' failed" >&2
		failed=$((failed + 1))
	fi
	echo
done
echo "$ran benchmarks run, $failed failed"
[ "$failed" -eq 0 ]
