#!/bin/sh
# xt-submit checks the command before it stores anything: its program is
# found (on PATH, in the snapshot, or an absolute path), the script of a
# known interpreter is in the snapshot (with "did you mean" for a close
# name), and no swept hparam is given on the command too. Legitimate
# commands pass.
. "$(dirname "$0")/lib.sh"

mkdir -p code/src/pkg
echo 'print(1)' >code/train.py
echo 'print(2)' >code/src/pkg/__main__.py
printf '#!/bin/sh\necho hi\n' >code/run.sh
chmod +x code/run.sh
echo 'echo plain' >code/plain.sh
echo '{"epochs":3,"lr":0.1}' >hp.jsonl
printf 'hyperparameter-distributions:\n  lr: [0.1, 0.01]\n' >space.yaml
# interpreters that may not be installed here: stand-ins on PATH
mkdir bin
for p in Rscript julia node perl; do printf '#!/bin/sh\n' >bin/$p; chmod +x bin/$p; done
PATH="$T/bin:$PATH"

# refuse CMD... STATUS MESSAGE: the submit fails with STATUS and MESSAGE, storing nothing
refuse() {
	msg=$1
	shift
	t_run xt-submit -C code "$@"
	t_status 2 "refused: $*"
	t_err_has "$msg" "  and says: $msg"
	t_ok "  nothing is printed" test ! -s "$T/out"
}

refuse "xt-submit: script 'trian.py' of 'python3' is not in the code folder 'code'; did you mean 'train.py'?" \
    -- python3 trian.py
refuse "xt-submit: program 'nosuchprog' is not on PATH" -- nosuchprog --flag
refuse "program 'pyhton3' is not on PATH; did you mean 'python3'?" -- pyhton3 train.py
refuse "program 'run.sh' is not on PATH; did you mean './run.sh'?" -- run.sh
refuse "program './rn.sh' is not in the code folder 'code'; did you mean './run.sh'?" -- ./rn.sh
refuse "program './plain.sh' is not executable in the code folder 'code'" -- ./plain.sh
refuse "program '/no/such/prog' does not exist" -- /no/such/prog
refuse "script '/no/such/train.py' of 'python3' does not exist" -- python3 /no/such/train.py
refuse "script 'src/pkg/__main.py' of 'python3' is not in the code folder 'code'; did you mean 'src/pkg/__main__.py'?" \
    -- python3 -u -W ignore src/pkg/__main.py
refuse "script '__main__.py' of 'python3' is not in the code folder 'code'; did you mean 'src/pkg/__main__.py'?" \
    -- python3 __main__.py
refuse "script 'plan.sh' of 'bash' is not in the code folder 'code'; did you mean 'plain.sh'?" \
    -- bash --norc -o pipefail plan.sh
refuse "script 'x.R' of 'Rscript' is not in the code folder 'code'" -- Rscript --vanilla x.R
refuse "script 'trainn.jl' of 'julia' is not in the code folder 'code'" -- julia -t 4 --project=. trainn.jl
refuse "script 'src/x.js' of 'node' is not in the code folder 'code'" -- node --require ts-node src/x.js
refuse "script 'run.pl' of 'perl' is not in the code folder 'code'; did you mean 'run.sh'?" -- perl -w -Ilib run.pl
t_ok "nothing was stored" test ! -e "$XT_STORE/ws/ws1/jobs"

# accept CMD...: a dry run of it passes the checks
accept() {
	t_run xt-submit -C code --dry-run "$@"
	t_status 0 "accepted: $*"
}
accept -- python3 train.py --epochs 3
accept -- python3 -u -W ignore ./train.py
accept -- python3 -c 'print(1)' not-a-file.py
accept -- python3 -m http.server
accept -- python3 -m pkg.main x.py
accept -- python3 src/pkg
accept -- python3 - x.py
accept -- sh -c 'echo hi' missing.sh
accept -- sh -x plain.sh
accept -- sh plain
accept -- bash -- run.sh
accept -- ./run.sh
accept -- "$(command -v sh)" "$T/hp.jsonl"
accept -- perl -e 'print 1' nope.pl
accept -- node -e 1 nope.js
accept -- julia -e 'println(1)' nope.jl
accept -- Rscript -e 1 nope.R
accept -- true
t_run xt-submit -C code --no-check -- nosuchprog
t_status 0 "--no-check lets a missing program through"

# a swept hparam given on the command too
t_run xt-submit -C code --hp hp.jsonl -- python3 train.py --epochs 30
t_status 2 "--hp and --epochs 30 on the command"
t_err_has "xt-submit: --hp 'hp.jsonl': hparam 'epochs' is swept and also given on the command ('--epochs 30'): give it in one place" "names both"
t_ok "nothing is printed" test ! -s "$T/out"
t_run xt-submit -C code --hp hp.jsonl -- python3 train.py --lr=0.5
t_status 2 "--hp and --lr=0.5 on the command"
t_err_has "hparam 'lr' is swept and also given on the command ('--lr=0.5')" "names both"
t_run xt-submit -C code --hp hp.jsonl --hp-prefix - -- python3 train.py -lr 0.5
t_status 2 "the job's prefix is the one that counts"
t_err_has "hparam 'lr' is swept and also given on the command ('-lr 0.5')" "names both"
t_run xt-submit -C code --search random --space space.yaml -- python3 train.py --lr 0.5
t_status 2 "--space and --lr on the command"
t_err_has "xt-submit: --space 'space.yaml': hparam 'lr' is swept and also given on the command ('--lr 0.5')" "names both"
t_ok "nothing was stored but the job of --no-check" test -e "$XT_STORE/ws/ws1/jobs/job1" -a ! -e "$XT_STORE/ws/ws1/jobs/job2"
t_run xt-submit -C code --hp hp.jsonl --hp-prefix '' --dry-run -- python3 train.py --epochs 30
t_status 0 "with an empty prefix no hparam is passed as an argument: no conflict"
t_run xt-submit -C code --hp hp.jsonl --dry-run -- python3 train.py --epochs-max 30 --lrate=1
t_status 0 "a longer name is another option"
t_run xt-submit -C code --hp hp.jsonl --dry-run -- python3 train.py epochs 30
t_status 0 "a bare word is not an option"
t_done
