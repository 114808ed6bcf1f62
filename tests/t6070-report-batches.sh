#!/bin/sh
# xt-report over many records (60,000 on standard input, 12,000 in a
# store's index), where their scans are shared among threads in batches:
# the same answers as Python computes from the same records, in input
# order where no sort is asked (a listing, the ties of a sort, --last),
# with a selection, --where and a group; a record that is not JSON deep
# in a batch is named by its line, and no line after it counts.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$R/tests/lib.sh"

python3 - <<'P'
import json, random
random.seed(6070)
with open("runs.jsonl", "w") as f:
    for i in range(1, 60001):
        r = {"run": "run%d" % i, "job": "job%d" % (i % 7), "status": ["completed", "failed", "running"][i % 3],
             "hparams": {"lr": 10 ** -random.uniform(1, 4), "opt": random.choice(["adam", "sgd", "rmsprop"])},
             "metrics": {"acc": round(random.random(), 3), "loss": random.random() * 2}}
        if i % 1000 == 0:
            del r["metrics"]["acc"]
        f.write(json.dumps(r) + "\n")
P

# py EXPR: what Python prints over the records (rs: the list of dicts)
py() {
	python3 -c 'import json, sys
rs = [json.loads(l) for l in open("runs.jsonl")]
acc = lambda r: r["metrics"].get("acc")
sel = lambda r: r["status"] == "completed" and acc(r) is not None and acc(r) > 0.5 and r["hparams"]["opt"] == "adam"
exec(sys.argv[1])' "$1"
}
where='metrics.acc > 0.5 and hparams.opt = "adam"'

py 'print("run"); [print(r["run"]) for r in rs if sel(r)]' >want
t_run xt-report - --status completed --where "$where" -c run --csv <runs.jsonl
t_status 0 "a listing of 60,000 records: exit 0"
t_out_is want "... the selected runs, in input order"
t_ok "... thousands of them" test "$(wc -l <want)" -gt 3000

py 'print("run,metrics.acc"); k = sorted([r for r in rs if sel(r)], key=lambda r: -acc(r))[:25]
[print("%s,%s" % (r["run"], acc(r))) for r in k]' >want
t_run xt-report - --status completed --where "$where" --sort -metrics.acc --first 25 -c run,metrics.acc --csv <runs.jsonl
t_status 0 "a top 25: exit 0"
t_out_is want "... its runs, ties in input order"

py 'print("run"); [print(r["run"]) for r in [r for r in rs if r["job"] == "job3"][-5:]]' >want
t_run xt-report - -j job3 --last 5 -c run --csv <runs.jsonl
t_status 0 "the last 5 of a job: exit 0"
t_out_is want "... the last in input order"

py 'import collections
g = collections.Counter(r["hparams"]["opt"] for r in rs if r["status"] == "failed")
print("hparams.opt,count"); [print("%s,%d" % (k, g[k])) for k in sorted(g)]' >want
t_run xt-report - --status failed --group hparams.opt -c count --sort hparams.opt --csv <runs.jsonl
t_status 0 "a group: exit 0"
t_out_is want "... its counts"

py 'print(sum(1 for r in rs if acc(r) is None))' >want
t_run xt-report - --where 'not metrics.acc' -c run --csv <runs.jsonl
t_ok "records without the field: as many as Python finds" test "$(($(wc -l <"$T/out") - 1))" = "$(cat want)"

# a bad record deep in a batch
sed '45678s/.*/{"run":"bad",/' runs.jsonl >bad.jsonl
t_run xt-report - -c run --csv <bad.jsonl
t_status 1 "a record that is not JSON at line 45,678: exit 1"
t_err_has "xt-report: <stdin>:45678:" "... named by its line"
t_ok "... and nothing reported" test ! -s "$T/out"

# a store's index of 12,000 runs (each recorded queued, then ended)
mkdir -p "$XT_STORE/ws/ws1/index"
echo '{"format":1}' >"$XT_STORE/xt-store.json"
head -n 12000 runs.jsonl | awk '{ q = $0; sub(/"status": "[a-z]*"/, "\"status\": \"queued\"", q); print q; print }' \
    >"$XT_STORE/ws/ws1/index/runs.jsonl"
py 'print("run"); [print(r["run"]) for r in rs[:12000] if sel(r)]' >want
t_run xt-report --status completed --where "$where" -c run --csv
t_status 0 "a report of an index of 12,000 runs: exit 0"
t_out_is want "... its last records, in run order"
t_done
