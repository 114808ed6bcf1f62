#!/bin/sh
# make demo: the main job on the embedded default (a folder store).
#   1. a put/get round trip of a real tree (this project's own sources);
#   2. a small real hyperparameter sweep: six hparam sets as JSON lines,
#      two runs at a time, each training an MLP on scikit-learn's digits;
#   3. each run's final metrics;
#   4. a report of the sweep and a plot of its training curves.
# Everything goes to a fresh XT_HOME under $DEMO_DIR (default /tmp/xt-demo).
set -eu
bin=$(cd "${1:-build/bin}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
# Debian's python3 has python3-sklearn (scripts/deps.sh demo)
export PATH="$bin:/usr/bin:$PATH"
DEMO_DIR=${DEMO_DIR:-/tmp/xt-demo}
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
export XT_HOME="$DEMO_DIR/home"
unset XT_STORE XT_WORKSPACE XT_EXPERIMENT XT_CONFIG
cd "$DEMO_DIR"

echo "== 1. put and get a real tree (lib/ of xt) into the store at $XT_HOME/store"
xt put -q "$top/lib" @src/lib >put.jsonl
xt get -q @src/lib back >get.jsonl
echo "put $(wc -l <put.jsonl) files, got $(wc -l <get.jsonl) back"
diff -r "$top/lib" back && echo "identical, byte for byte"
xt put -u -q "$top/lib" @src/lib >update.jsonl
echo "put -u again: $(grep -c '"skipped"' update.jsonl) skipped, $(grep -c '"uploaded"' update.jsonl) uploaded"

echo
echo "== 2. a sweep: 6 hparam sets, 2 runs at a time"
mkdir code
cp "$top/demo/train.py" code/
xt search grid 'lr=[0.01,0.003,0.001]' 'hidden=[16,64]' >hparams.jsonl
xt submit -e digits -C code --hp hparams.jsonl -- python3 train.py >runs.jsonl
echo "submitted $(wc -l <runs.jsonl) runs"
xt runq -j 2
echo
echo "== 3. final metrics of each run"
for run in $(sed 's/.*"run":"\([^"]*\)".*/\1/' runs.jsonl); do
	xt get -c "$run/run.json" |
	    python3 -c 'import json,sys; r=json.load(sys.stdin); print("%-8s %-10s lr=%-6s hidden=%-3s acc=%s loss=%s" % (r["run"], r["status"], r["hparams"]["lr"], r["hparams"]["hidden"], r.get("metrics",{}).get("acc"), r.get("metrics",{}).get("loss")))'
done
echo
echo "the last lines of $(sed -n '1s/.*"run":"\([^"]*\)".*/\1/p' runs.jsonl)'s console:"
xt get -c "$(sed -n '1s/.*"run":"\([^"]*\)".*/\1/p' runs.jsonl)/output.txt" | tail -n 3

echo
echo "== 4. a report of the sweep, best first, and its training curves"
xt report -e digits -c 'run,status,hparams.lr=lr,hparams.hidden=hidden,metrics.acc=acc,metrics.loss=loss' \
    --where 'status = completed and metrics.acc' --sort -metrics.acc
echo
xt report --group hparams.hidden -c 'count,mean(metrics.acc),max(metrics.acc)' -e digits --where metrics.acc
echo
xt report plot acc -e digits --term --legend '{run} lr={hparams.lr} h={hparams.hidden}' --size 78x24
xt report plot acc loss -e digits --smooth 0.3 --legend 'lr={hparams.lr} h={hparams.hidden}' -o sweep.svg
echo "the same curves, and the loss, as SVG: $DEMO_DIR/sweep.svg"
