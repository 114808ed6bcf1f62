#!/bin/sh
# make demo: the main job on the embedded default (a folder store).
#   1. a put/get round trip of a real tree (this project's own lib/);
#   2. a small real hyperparameter sweep: six hparam sets as JSON lines,
#      two runs at a time, each training an MLP on scikit-learn's digits;
#   3. a report of the sweep, and plots of its training curves;
#   4. how to explore the store it made.
# Each command is shown, after "$ ", before its output. Everything goes to a
# fresh folder (mktemp -d, or DEMO_DIR when set: it must not exist yet or be
# empty), which the demo names at its start and at its end, and leaves.
#   scripts/demo.sh [BINDIR]   (default build/bin)
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
# Debian's python3 has python3-sklearn (scripts/deps.sh demo)
export PATH="$bin:/usr/bin:$PATH"
if [ -n "${DEMO_DIR:-}" ]; then
	mkdir -p "$DEMO_DIR"
	[ -z "$(ls -A "$DEMO_DIR")" ] || { echo "demo.sh: DEMO_DIR '$DEMO_DIR' is not empty" >&2; exit 2; }
	dir=$(cd "$DEMO_DIR" && pwd)
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/xt-demo.XXXXXX")
fi
export XT_HOME="$dir/home"
unset XT_STORE XT_WORKSPACE XT_EXPERIMENT XT_CONFIG
cd "$dir"

# x 'COMMAND': show it, then run it (through the shell: pipes and
# redirections as written). The demo stops at the first that fails.
x() {
	printf '$ %s\n' "$1"
	eval "$1"
}
say() {
	printf '\n== %s\n' "$*"
}

echo "xt demo in $dir (XT_HOME=$XT_HOME; the tools from $bin)"

say "1. put a real tree (xt's lib/) into the store, get it back, put it again"
x "xt put -q '$top/lib' @src/lib >put.jsonl"
x "xt get -q @src/lib back >get.jsonl"
x "wc -l <put.jsonl; wc -l <get.jsonl"
x "diff -r '$top/lib' back && echo identical, byte for byte"
x "xt put -u -q '$top/lib' @src/lib >update.jsonl"
x "grep -c '\"skipped\"' update.jsonl"

say "2. a sweep: 6 hparam sets, 2 runs at a time"
x "mkdir code && cp '$top/demo/train.py' code/"
x "xt search grid 'lr=[0.01,0.003,0.001]' 'hidden=[16,64]' >hparams.jsonl"
x "cat hparams.jsonl"
x "xt submit -e digits -C code --hp hparams.jsonl -- python3 train.py >runs.jsonl"
x "xt runq -j 2"

say "3. the sweep: one run's console, the runs best first, by hidden size, the curves"
x "xt get -c run1.1/output.txt | tail -n 3"
x "xt report -e digits -c 'run,status,hparams.lr=lr,hparams.hidden=hidden,metrics.acc=acc,metrics.loss=loss' --where metrics.acc --sort -metrics.acc"
x "xt report -e digits --where metrics.acc --group hparams.hidden -c 'count,mean(metrics.acc),max(metrics.acc)'"
x "xt report plot acc -e digits --term --legend '{run} lr={hparams.lr} h={hparams.hidden}' --size 78x24"
x "xt report plot acc loss -e digits --smooth 0.3 --legend 'lr={hparams.lr} h={hparams.hidden}' -o sweep.svg"

say "4. explore"
cat <<EOF
The store this demo made is in $XT_HOME/store. To explore it:

    export PATH="$bin:\$PATH" XT_HOME="$XT_HOME"
    xt-report -e digits                    # the runs, their hparams and metrics
    xt-report show run1.1                  # one run's story
    xt-log show run1.1 -e metrics          # its metric series
    xt-get -l run1.1                       # its files
    xt-report plot acc -e digits --term    # the curves again

The curves and the loss as SVG: $dir/sweep.svg
Nothing else was written outside $dir; remove it when done.
EOF
