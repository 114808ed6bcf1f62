#!/bin/sh
# The run index, appended to and compacted through the store's calls
# (append, and a conditional put), follows no link out of the store
# either: a link planted as the workspace's index folder or index file is
# refused, and the files outside stay as they were.
. "$(dirname "$0")/lib.sh"

mkdir code ext
echo 'print("hi")' >code/train.py
echo keep >ext/runs.jsonl
cp ext/runs.jsonl keep.orig
t_run xt-submit -C code -- python3 train.py
t_status 0 "a first job makes the index"
mv "$XT_STORE/ws/ws1/index" index.away
ln -s "$T/ext" "$XT_STORE/ws/ws1/index"

t_run xt-submit -C code -- python3 train.py
t_status 1 "a submit whose index is a link to a folder outside fails"
t_err_has "'ws/ws1/index' is a symbolic link" "naming the link"
t_ok "the file outside is unchanged" cmp -s keep.orig ext/runs.jsonl
t_ok "and nothing is added beside it" test "$(ls ext)" = runs.jsonl

t_run xt-report --compact
t_status 1 "a compaction through the link fails"
t_err_has "'ws/ws1/index' is a symbolic link" "naming it"
t_ok "the file outside is unchanged" cmp -s keep.orig ext/runs.jsonl

rm "$XT_STORE/ws/ws1/index"
mv index.away "$XT_STORE/ws/ws1/index"
mv "$XT_STORE/ws/ws1/index/runs.jsonl" runs.away
ln -s "$T/ext/runs.jsonl" "$XT_STORE/ws/ws1/index/runs.jsonl"
t_run xt-submit -C code -- python3 train.py
t_status 1 "a submit whose index file is a link fails"
t_err_has "'ws/ws1/index/runs.jsonl' is a symbolic link" "naming it"
t_run xt-report --compact
t_status 1 "and so does a compaction"
t_ok "the file outside is unchanged" cmp -s keep.orig ext/runs.jsonl
t_ok "the link is still a link" test -L "$XT_STORE/ws/ws1/index/runs.jsonl"
t_done
