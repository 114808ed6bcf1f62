#!/bin/sh
# xt-get jobN/code DIR: the job's code snapshot (code.jsonl and its blobs)
# given back as files, with their modes, as XT's extract.
. "$(dirname "$0")/lib.sh"

mkdir -p code/lib
echo 'print("hi")' >code/train.py
echo 'x = 1' >code/lib/u.py
printf '#!/bin/sh\necho run\n' >code/run.sh
chmod 755 code/run.sh
xt-submit -C code --no-check -- sh run.sh >/dev/null 2>&1
t_run xt-get job1/code back
t_status 0 "a job's code"
t_err_empty "quietly"
t_ok "the files come back" diff -r code back
t_ok "with their modes" [ -x back/run.sh ] && [ ! -x back/train.py ]
t_ok "one line a file, extracted" [ "$(grep -c '"action":"extracted"' "$T/out")" -eq 3 ]
t_ok "named as jobN/code's files" grep -q '"path":"ws/ws1/jobs/job1/code/lib/u.py","file":"back/lib/u.py"' "$T/out"
mkdir into
t_run xt-get -r job1/code into
t_status 0 "-r into a folder that exists"
t_ok "goes under code/, as cp -r" diff -r code into/code
t_run xt-get 'job*/code' g
t_status 0 "a wildcard that matches a job's code"
t_ok "gives it back too" diff -r code g/job1/code
t_run xt-get job9/code x
t_status 1 "a job that does not exist"
t_err_has "'job9/code': no such object or folder in the store" "says so"
t_done
