#!/bin/sh
# xt-submit makes a job and its runs, snapshots the code, and queues them.
. "$(dirname "$0")/lib.sh"

mkdir -p code/pkg code/.git code/__pycache__
echo 'print("hi")' >code/train.py
echo 'x = 1' >code/pkg/util.py
echo ref >code/.git/HEAD
echo pyc >code/__pycache__/m.pyc

t_run xt-submit -C code -e exp7 --tag best --tag lr=0.1 -d "first try" -- python3 train.py --epochs 3
t_status 0 "submit one run"
t_ok "one JSON line" [ "$(wc -l <"$T/out")" -eq 1 ]
t_ok "it names run1 of job1" grep -q '"run":"run1","job":"job1"' "$T/out"
t_ok "with the command" grep -q '"cmd":"python3 train.py --epochs 3"' "$T/out"
t_ok "status queued" [ "$(rec run1 status)" = queued ]
t_ok "the experiment is recorded" [ "$(rec run1 exp)" = exp7 ]
t_ok "the tags are recorded" [ "$(rec run1 tags)" = '{"best": true, "lr": 0.1}' ]
t_run xt-get -c job1/code.jsonl
t_status 0 "the job has a code manifest"
t_ok "two files, .git and __pycache__ omitted" [ "$(wc -l <"$T/out")" -eq 2 ]
sha=$(sha256sum code/train.py | cut -d' ' -f1)
t_ok "files are stored by content" test -f "$XT_STORE/blobs/sha256/$(echo "$sha" | cut -c1-2)/$(echo "$sha" | cut -c3-)"
t_ok "the job record has the description" grep -q '"description":"first try"' "$XT_STORE/ws/ws1/jobs/job1/job.json"
t_run xt-runq ls
t_ok "the run waits in the local queue" grep -q '"run":"run1".*"state":"queued"' "$T/out"

# unchanged files are stored once for all jobs
nblobs=$(find "$XT_STORE/blobs" -type f | wc -l)
t_run xt-submit -C code -- python3 train.py
t_ok "a second job adds no blob" [ "$(find "$XT_STORE/blobs" -type f | wc -l)" -eq "$nblobs" ]
t_ok "and gets job2 and run2" grep -q '"run":"run2","job":"job2"' "$T/out"

# one run per hparam line; --runs repeats
printf '{"lr":0.1,"opt":"adam"}\n\n{"lr":0.01,"opt":"sgd"}\n' >hp.jsonl
t_run xt-submit -C code --hp hp.jsonl -- python3 train.py
t_status 0 "submit two hparam sets"
t_ok "two runs printed" [ "$(wc -l <"$T/out")" -eq 2 ]
t_ok "children of parent run3" grep -q '"run":"run3.2","job":"job3","parent":"run3"' "$T/out"
t_ok "hparams are passed as --name=value" grep -q '"cmd":"python3 train.py --lr=0.01 --opt=sgd"' "$T/out"
t_ok "the parent record counts its children" [ "$(rec run3 children)" = 2 ]
printf '#!/bin/sh\n' >code/t
chmod +x code/t
t_run xt-submit -C code --runs 3 --hp-prefix '' --hp hp.jsonl -- ./t
t_ok "--runs 3 per set: 6 runs" [ "$(wc -l <"$T/out")" -eq 6 ]
t_ok "--hp-prefix '' passes no arguments" grep -q '"cmd":"./t"' "$T/out"
t_run xt-submit -C code --hp - -- python3 train.py <hp.jsonl
t_ok "--hp - reads standard input" [ "$(wc -l <"$T/out")" -eq 2 ]

# --dry-run stores nothing
before=$(find "$XT_STORE" -type f | wc -l)
t_run xt-submit -C code --dry-run --hp hp.jsonl -- python3 train.py
t_status 0 "--dry-run"
t_ok "prints the planned runs" [ "$(wc -l <"$T/out")" -eq 2 ]
t_ok "stores nothing" [ "$(find "$XT_STORE" -type f | wc -l)" -eq "$before" ]
t_done
