#!/bin/sh
# xt-report over the store: the index folded to the latest record of each
# run, its compaction (automatic when it has grown, and --compact) keeping
# every run, xt-report show, and a terminal plot and an SVG of a real sweep.
D=$(cd "$(dirname "$0")" && pwd)/data/t6020
. "$(dirname "$0")/lib.sh"

mkdir code
cp "$D/train.sh" code/
printf '{"lr":0.1,"opt":"sgd"}\n{"lr":0.01,"opt":"adam"}\n{"lr":0.001,"opt":"adam"}\n{"lr":0.01,"opt":"sgd"}\n' >hp.jsonl
t_run xt-submit -e sweep -C code --hp hp.jsonl -- sh train.sh
t_status 0 "a sweep of 4 runs"
t_run xt-runq -j 2
t_status 0 "run it"
idx=$XT_STORE/ws/ws1/index/runs.jsonl

t_run xt-report --parents -c run,status,hparams.lr,hparams.opt,metrics.acc --sort run
t_status 0 "a report from the index"
t_out_is "$D/runs.txt" "the latest record of each run"
t_ok "the index holds every state change" test "$(wc -l <"$idx")" -gt 5

t_run xt-report jobs --metric acc
t_out_is "$D/jobs.txt" "the jobs report"

t_run xt-report --where 'hparams.opt = sgd' --sort -metrics.acc --json -c run
t_status 0 "JSON lines of the index"
t_ok "two records, whole" test "$(grep -c '"status":"completed"' "$T/out")" -eq 2

# show: the record's story, times masked
t_run xt-report show run1.2 -n 3
t_status 0 "show a run"
sed 's/20[0-9][0-9]-[0-9-]*T[0-9:.]*Z/TIME/; s/^duration .*/duration D/; s/ on [^ ]*$/ on NODE/' "$T/out" >shown
t_ok "show: its story" cmp -s "$D/show.txt" shown
diff "$D/show.txt" shown | head -5 | sed 's/^/#   /'
t_run xt-report show run99
t_status 1 "show a missing run: exit 1"
t_err_has "no run 'run99' in workspace 'ws1'" "named"

# a terminal plot (golden) and an SVG that an XML parser reads, one path per run
t_run xt-report plot acc --term --ascii --size 64x22 --legend '{run} lr={hparams.lr}' --sort run
t_status 0 "a terminal plot"
t_out_is "$D/plot.txt" "the terminal plot"
t_run xt-report plot acc loss -o plot.svg --smooth 0.5 --legend '{run}'
t_status 0 "an SVG plot of two metrics"
t_ok "the SVG parses, with one path per run in each panel" python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse("plot.svg").getroot()
panels = [g for g in root.iter() if g.get("class") == "panel"]
n = [len([p for p in g.iter() if p.tag.split("}")[-1] == "path" and p.get("class") == "line"]) for g in panels]
sys.exit(0 if root.tag.split("}")[-1] == "svg" and n == [4, 4] else 1)'
t_run xt-report plot acc -o agg.svg --agg mean --band minmax --break-on hparams.opt --layout 1x2
t_status 0 "aggregated per panel, broken on an hparam"
# svg_count FILE: per panel "LINES/BANDS" (paths of class line, groups of class band)
svg_count() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
panels = [g for g in root.iter() if g.get("class") == "panel"]
cls = lambda g, c: len([e for e in g.iter() if e.get("class") == c])
print(" ".join("%d/%d" % (cls(g, "line"), cls(g, "band")) for g in panels))' "$1"
}
# svg_legend FILE: the legends' texts, joined by "|"
svg_legend() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
print("|".join(t.text or "" for g in root.iter() if g.get("class") == "legend" for t in g.iter() if t.tag.endswith("text")))' "$1"
}
t_ok "one mean line and one band in each panel" test "$(svg_count agg.svg)" = "1/1 1/1"
t_ok "each of its 2 runs" test "$(svg_legend agg.svg)" = "mean (2 runs)|mean (2 runs)"
t_run xt-report plot acc -o agg1.svg --agg median
t_status 0 "one group of all runs"
t_ok "one median line and its band" test "$(svg_count agg1.svg)" = "1/1"
t_ok "of the 4 runs" test "$(svg_legend agg1.svg)" = "median (4 runs)"
t_run xt-report plot acc -o agg2.svg --agg mean --band none --legend '{hparams.opt}' --sort run
t_status 0 "a group per legend"
t_ok "two mean lines, no band" test "$(svg_count agg2.svg)" = "2/0"
t_ok "one a value of the legend" test "$(svg_legend agg2.svg)" = "mean sgd (2 runs)|mean adam (2 runs)"
t_run xt-report plot acc --vs hparams.lr -o scatter.svg
t_status 0 "a scatter of acc against lr"
# a metric whose name begins with "run" is a metric, not a run address
xt-log -r run1.1 metric --step 1 runtime=3 && xt-log -r run1.1 metric --step 2 runtime=5
t_run xt-report plot runtime run1.1 --term --ascii
t_status 0 "plot a metric named runtime of run1.1"
t_ok "it is drawn, for run1.1 only" test "$(grep -c 'run1\.' "$T/out")" -eq 1
t_run xt-report plot nope --term
t_status 1 "a metric no run has: exit 1"
t_err_has "no points of nope" "said"
t_run xt-report plot acc
t_status 2 "plot without -o or --term: exit 2"
: >empty
for bad in "--size 0x0" "--size 100000x100000" "--smooth 2" "--agg mode" "--layout 0x1"; do
	# shellcheck disable=SC2086
	t_run xt-report plot acc --term $bad
	t_status 2 "plot $bad: exit 2"
	t_out_is empty "nothing drawn for $bad"
	t_err_has "xt-report: ${bad%% *}: expected" "the error names the option for $bad"
done
t_run xt-report plot acc -o nodir/plot.svg
t_status 1 "an SVG that cannot be written: exit 1"
t_err_has "nodir/plot.svg" "named"
t_ok "and no folder is made for it" test ! -e nodir
# a write that fails half way (the file-size limit, as a full disk would):
# no torn SVG is left behind
t_run sh -c 'trap "" XFSZ; ulimit -f 1 && exec xt-report plot acc -o torn.svg'
t_status 1 "an SVG whose write fails half way: exit 1"
t_err_has "cannot write 'torn.svg'" "named"
t_ok "and no file is left" test ! -e torn.svg

# the index grows past its runs: the next report compacts it, and says the same
i=0
while [ $i -lt 1200 ]; do
	sed -n 1p "$idx"
	i=$((i + 1))
done >extra
cat extra >>"$idx"
tail -n 8 "$idx" >tail8
head -n -1208 "$idx" >/dev/null
cp "$idx" before
t_run xt-report --parents -c run,status,hparams.lr,hparams.opt,metrics.acc --sort run
t_status 0 "a report of the grown index"
# (an old line after newer ones, as a compaction of an Azure index that
# rolled over may move one: the fold goes by "rev", not by order)
t_out_is "$D/runs.txt" "the old first record came back last: its run still shows its latest state"
lines=$(wc -l <"$idx")
t_ok "the index was compacted to one line a run ($lines)" test "$lines" -eq 5
t_run xt-report --parents -c run,status,hparams.lr,hparams.opt,metrics.acc --sort run
t_out_is "$D/runs.txt" "and reads the same afterwards"
t_run xt-report --compact -c run
t_status 0 "--compact on a compact index"
t_done
