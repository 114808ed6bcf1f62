#!/bin/sh
# Bad input to xt-submit: a clear error, and the store and queue as they were.
. "$(dirname "$0")/lib.sh"

mkdir code
echo x >code/a
xt-submit -C code -- true >/dev/null
snapshot() { (cd "$XT_HOME" && find . -path ./cache -prune -o -type f -print | sort | xargs sha256sum) >"$1"; }
snapshot before

printf '{"lr":0.1}\n{"lr":\n' >bad.jsonl
t_run xt-submit -C code --hp bad.jsonl -- true
t_status 1 "malformed hparam JSON"
t_err_has "bad.jsonl:2:" "names the file and line"
printf '{"lr":0.1}\n[1,2]\n' | t_run xt-submit -C code --hp - -- true
t_status 1 "an hparam line that is not an object"
t_err_has "<stdin>:2: expected a JSON object" "names stdin and the line"
printf '{"a b":1}\n' >badname.jsonl
t_run xt-submit -C code --hp badname.jsonl -- true
t_status 1 "an hparam name that is not allowed"
t_err_has "hparam name 'a b'" "names it"
t_run xt-submit -C code -t nosuch -- true
t_status 2 "an unknown target"
t_err_has "unknown target 'nosuch'" "names the target"
t_run xt-submit -C code
t_status 2 "a missing command"
t_err_has "missing command" "says so"
t_run xt-submit -C nodir -- true
t_status 1 "a missing code folder"
t_err_has "code folder 'nodir'" "names the folder"
t_run xt-submit -C code/a -- true
t_status 1 "a code folder that is a file"
t_err_has "code folder 'code/a': not a folder" "says so"
t_run xt-submit -C code --hp - -- true </dev/null
t_status 1 "no hparam sets on stdin"
t_err_has "<stdin>: no hparam sets" "names stdin"
t_run xt-submit -C code -w 'a/b' -- true
t_status 2 "a workspace name that is not allowed"
t_err_has "workspace 'a/b' contains '/'" "says why"
t_run xt-submit -C code -e 'my exp' -- true
t_status 2 "an experiment name that is not allowed"
t_run xt-submit --rerun run99
t_status 1 "a rerun of a run that does not exist"
t_err_has "no run 'run99'" "names the run"
t_run xt-submit --rerun 'x/y'
t_status 2 "a rerun of something that is not a run name"
t_run xt-submit -C code --parent-script nothere.sh -- true
t_status 1 "a parent script missing from the code"
t_run xt-submit -C code --max-minutes -1 -- true
t_status 2 "a negative time limit"
t_run xt-submit -C code --retries x -- true
t_status 2 "retries that are not a number"
t_run xt-submit --bogus
t_status 2 "an unknown option"
snapshot after
t_ok "the store and the queue are as they were" cmp -s before after
t_done
