#!/bin/sh
# --update skips files whose content hash matches; changed files go up.
. "$(dirname "$0")/lib.sh"

mkdir -p src/d
echo one >src/a
echo two >src/d/b
touch -d '2020-01-01' src/a src/d/b
t_run xt-put src :tree
t_status 0 "first put"
t_run xt-put -u src :tree
t_status 0 "update of an unchanged tree"
t_ok "every file is skipped" [ "$(grep -c '"action":"skipped"' "$T/out")" -eq 2 ]
echo changed >src/a
touch -d '2020-01-02' src/a
t_run xt-put -u src :tree
t_status 0 "update after a change"
t_ok "the changed file is uploaded" grep -q '"path":"tree/a".*"action":"uploaded"' "$T/out"
t_ok "the other is skipped" grep -q '"path":"tree/d/b".*"action":"skipped"' "$T/out"
t_run xt-get -c tree/a
echo changed >want
t_out_is want "the store has the new content"
# same size, same mtime, other content: the cached hash must not be trusted (ctime changes)
echo CHANGED >src/a
touch -d '2020-01-02' src/a
t_run xt-put -u src :tree
t_ok "same size and mtime but new bytes is uploaded" grep -q '"path":"tree/a".*"action":"uploaded"' "$T/out"
t_run xt-get -c tree/a
echo CHANGED >want
t_out_is want "and stored"
# the store side changed behind xt's back
echo XHANGED >"$XT_STORE/tree/a"
t_run xt-put -u src :tree
t_ok "a store object changed outside xt is uploaded again" grep -q '"path":"tree/a".*"action":"uploaded"' "$T/out"
# omit patterns
mkdir -p src/.git src/__pycache__ src/logs
echo x >src/.git/HEAD
echo x >src/__pycache__/m.pyc
echo x >src/logs/l.txt
t_run xt-put -x logs src :tree2
t_status 0 "put with omit patterns"
t_ok ".git, __pycache__ and -x folders are omitted" [ "$(grep -c uploaded "$T/out")" -eq 2 ]
t_run xt-put -X src :tree3
t_ok "-X keeps the default omissions out" grep -q '"path":"tree3/.git/HEAD"' "$T/out"
t_done
