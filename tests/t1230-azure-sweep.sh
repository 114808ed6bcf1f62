#!/bin/sh
# A researcher's sweep with the store on Azurite (az://), end to end, and
# the same sweep on a folder store: a grid submitted from xt-search, a
# script that logs its hparams and metrics with xt-log from the shell,
# xt-runq -j 2 draining it, xt-log show and out of a run and of the job,
# xt-report as a table and as JSON, a plot to SVG (and to PNG through
# rsvg-convert when it is here), and a dynamic TPE job whose trials two
# xt-runq processes claim with create-if-absent. Both stores give the same
# runs with the same values. Azurite as in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
AZ=az://$acct/t1230-$$

mkdir code
cat >code/train.sh <<'EOS'
# train.sh --lr=X --bs=Y: logs its hparams, 5 steps of acc and loss, a tag
for a; do case $a in --lr=*) lr=${a#--lr=} ;; --bs=*) bs=${a#--bs=} ;; esac; done
xt-log hparam arch=mlp "lr=$lr" "bs=$bs" || exit 1
s=1
while [ $s -le 5 ]; do
	acc=$(awk -v s=$s -v lr="$lr" -v bs="$bs" 'BEGIN { printf "%.4f", 1 - 0.5 / (1 + s * lr * 640 / bs) }')
	xt-log metric --step $s "acc=$acc" "loss=$(awk -v a="$acc" 'BEGIN { printf "%.4f", 1 - a }')" || exit 1
	echo "step $s acc $acc"
	s=$((s + 1))
done
xt-log tag done || exit 1
echo "trained lr=$lr bs=$bs"
EOS
cat >space.yaml <<'EOF'
hyperparameter-distributions:
  lr: $loguniform(0.001, 0.1)
  bs: [32, 64]
EOF
t_run xt-search grid lr='[0.1,0.01,0.001]' bs='[32,64]'
t_status 0 "xt-search grid: a grid of 6 points"
cp "$T/out" hp.jsonl

# mask: out of JSON lines, times, durations and "rev" (how many times the
# record was put, which goes with how often the run's executor merged its
# log: more often in a slower build)
mask() {
	sed -E 's/"(time|created|started|ended)":"[^"]*"/"\1":"T"/g; s/"duration":[0-9.e-]+/"duration":D/g
	    s/"rev":[0-9]+/"rev":N/g' "$@"
}


# sweep NAME STORE: the whole sweep on STORE, its outputs in NAME/ (its own XT_HOME)
sweep() {
	w=$1
	mkdir -p "$w/home"
	export XT_STORE="$2" XT_HOME="$T/$w/home" HOME="$T/$w/home"

	t_run xt-submit -C code -e sweep --hp hp.jsonl -- sh train.sh
	t_status 0 "$w: xt-submit of the grid"
	mask "$T/out" >"$w/submit"
	t_ok "$w: ... 6 runs" [ "$(wc -l <"$T/out")" -eq 6 ]
	# a researcher follows the job's console while it runs
	xt-log out -f job1 >"$w/follow" 2>"$w/follow.err" &
	fpid=$!
	t_run xt-runq -j 2
	t_status 0 "$w: xt-runq -j 2 drains it"
	t_err_has "6 runs: 6 completed" "$w: ... every run completed"
	settle "$fpid"
	t_ok "$w: xt-log out -f job1 stops by itself once every run has ended" [ "$rc" -eq 0 ]

	t_run xt-log show run1.3
	t_status 0 "$w: xt-log show of a run"
	mask "$T/out" >"$w/show"
	t_run xt-log out run1.3
	t_status 0 "$w: xt-log out of a run"
	cp "$T/out" "$w/out"
	t_run xt-log show -e metrics job1
	t_status 0 "$w: xt-log show -e metrics of the job"
	mask "$T/out" >"$w/showjob"
	t_run xt-log out job1
	t_status 0 "$w: xt-log out of the job"
	cp "$T/out" "$w/outjob"
	sort -s -t: -k1,1 "$w/follow" >"$w/follow.sorted"
	t_ok "$w: ... it printed every line of every run, in order within each run" \
	    cmp -s "$w/outjob" "$w/follow.sorted"
	t_ok "$w: ... and said nothing" [ ! -s "$w/follow.err" ]

	t_run xt-report --parents -c run,status,hparams.lr,hparams.bs,hparams.arch,metrics.acc,metrics.loss,step,tags --sort run
	t_status 0 "$w: xt-report, a table"
	cp "$T/out" "$w/table"
	t_run xt-report --parents --json --sort run
	t_status 0 "$w: xt-report --json"
	mask "$T/out" >"$w/json"
	t_run xt-report plot acc loss -o "$w/plot.svg" --legend '{run} lr={hparams.lr} bs={hparams.bs}' \
	    --sort run --title "sweep on $w"
	t_status 0 "$w: xt-report plot to SVG"

	# a dynamic TPE job, run by one executor at a time: each trial learns
	# from the ones before, so the same seed gives the same trials anywhere
	t_run xt-submit -C code -e tpe --search tpe --space space.yaml --search-opt metric=acc \
	    --search-opt seed=7 --search-opt startup=3 --runs 8 -- sh train.sh
	t_status 0 "$w: xt-submit of a dynamic TPE job of 8 runs"
	t_run xt-runq -j 1
	t_status 0 "$w: xt-runq -j 1 drains it"
	t_run xt-report -j job2 -c run,status,hparams.lr,hparams.bs,metrics.acc --sort run --precision 6
	t_status 0 "$w: xt-report of the TPE job"
	cp "$T/out" "$w/tpe"
	t_run xt-get -c ws/ws1/jobs/job2/search/7.json
	t_status 0 "$w: its last trial's claim"
	mask "$T/out" >"$w/claim7"

	# the same job with two xt-runq processes at once: claims race
	t_run xt-submit -C code -e tpe2 --search tpe --space space.yaml --search-opt metric=acc \
	    --search-opt seed=11 --runs 10 -- sh train.sh
	t_status 0 "$w: xt-submit of a dynamic TPE job of 10 runs"
	xt-runq -j 2 >"$w/q1.out" 2>&1 &
	p1=$!
	xt-runq -j 2 >"$w/q2.out" 2>&1 &
	p2=$!
	wait $p1
	s1=$?
	wait $p2
	s2=$?
	t_ok "$w: two xt-runq -j 2 at once drain it" [ $s1 -eq 0 ] && [ $s2 -eq 0 ]
	t_run xt-report -j job3 --json
	t_status 0 "$w: xt-report --json of that job"
	cp "$T/out" "$w/tpe2.json"
	k=0
	: >"$w/claims"
	while [ $k -lt 10 ]; do
		xt-get -c "ws/ws1/jobs/job3/search/$k.json" >>"$w/claims" || break
		k=$((k + 1))
	done
	t_ok "$w: 10 trials claimed" [ "$k" -eq 10 ]
	t_run xt-get -c ws/ws1/jobs/job3/search/10.json
	t_status 1 "$w: ... and no 11th"
	t_ok "$w: each run claimed one trial, each trial its run's hparams" python3 - "$w/claims" "$w/tpe2.json" <<'PY'
import json, sys
claims = [json.loads(l) for l in open(sys.argv[1])]
runs = {r["run"]: r for r in map(json.loads, open(sys.argv[2])) if "parent" in r}
who = sorted(c["run"] for c in claims)
ok = who == sorted(runs) and len(runs) == 10
ok = ok and all(runs[c["run"]]["status"] == "completed" and
                runs[c["run"]]["given_hparams"] == c["hparams"] for c in claims)
ok = ok and len({json.dumps(c["hparams"], sort_keys=True) for c in claims}) == 10
sys.exit(0 if ok else 1)
PY
}

sweep folder "$T/store"
sweep az "$AZ"

for f in submit show out showjob outjob table json tpe claim7; do
	if cmp -s folder/$f az/$f; then t_pass "az:// and the folder give the same $f"; else
		t_fail "az:// and the folder give the same $f"
		diff folder/$f az/$f | head -n 6 | sed 's/^/#   /'
	fi
done
cat >want <<'EOF'
run     status     hparams.lr  hparams.bs  hparams.arch  metrics.acc  metrics.loss  step  tags
run1    completed                                                                         {}
run1.1  completed       0.100          32  mlp                 0.955         0.045     5  {"done":true}
run1.2  completed       0.100          64  mlp                 0.917         0.083     5  {"done":true}
run1.3  completed       0.010          32  mlp                 0.750         0.250     5  {"done":true}
run1.4  completed       0.010          64  mlp                 0.667         0.333     5  {"done":true}
run1.5  completed       0.001          32  mlp                 0.545         0.455     5  {"done":true}
run1.6  completed       0.001          64  mlp                 0.524         0.476     5  {"done":true}
EOF
t_ok "the table holds each run's hparams, last metrics and tag" cmp -s want az/table
cat >want <<'EOF'
step 1 acc 0.5833
step 2 acc 0.6429
step 3 acc 0.6875
step 4 acc 0.7222
step 5 acc 0.7500
trained lr=0.01 bs=32
EOF
t_ok "a run's console, whole" cmp -s want az/out
t_ok "the job's console: 36 lines, each after its run" \
    [ "$(grep -c '^run1\.[1-6]: ' az/outjob)" -eq 36 ]
t_ok "the job's metrics: 30 events" [ "$(grep -c '"event":"metrics"' az/showjob)" -eq 30 ]

# the SVG: the same drawing from both stores, one line per run in each panel
sed 's/sweep on folder/sweep on az/' folder/plot.svg >folder.svg
t_ok "the same SVG from both stores" cmp -s folder.svg az/plot.svg
t_ok "the SVG parses, with one path per run in each panel" python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse("az/plot.svg").getroot()
panels = [g for g in root.iter() if g.get("class") == "panel"]
n = [len([p for p in g.iter() if p.tag.split("}")[-1] == "path" and p.get("class") == "line"]) for g in panels]
sys.exit(0 if n == [6, 6] else 1)'
if command -v rsvg-convert >/dev/null; then
	t_run rsvg-convert -o plot.png az/plot.svg
	t_status 0 "rsvg-convert draws the SVG"
	t_ok "... as a PNG" python3 -c '
import sys
b = open("plot.png", "rb").read()
sys.exit(0 if b[:8] == b"\x89PNG\r\n\x1a\n" and len(b) > 5000 else 1)'
	[ -n "${XT_KEEP_PNG:-}" ] && cp plot.png "$XT_KEEP_PNG"
else
	echo "# SKIP rsvg-convert is not here: the SVG is not drawn"
fi
t_done
