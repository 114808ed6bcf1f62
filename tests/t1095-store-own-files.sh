#!/bin/sh
# The store's own files are not objects: xt-store.json can be read but not
# written, appended to or deleted; nothing under .tmp can be reached at all.
# Six processes making the same new store at once all open it (one saw the
# marker another had just put as a stranger's file, 3 times in 240).
. "$(dirname "$0")/lib.sh"

echo x >f
xt-put f :a >/dev/null
cp "$XT_STORE/xt-store.json" marker.orig
mkdir -p src/.tmp
echo t >src/.tmp/t
echo ok >src/ok
: >empty

marker_kept() { cmp -s marker.orig "$XT_STORE/xt-store.json"; }

t_run xt-put f :xt-store.json
t_status 1 "xt-put over xt-store.json fails"
t_err_has "store path 'xt-store.json' is the store's own file: it cannot be written or deleted" "and says why"
t_ok "xt-store.json is unchanged" marker_kept

t_run xt-put f :XT-STORE.JSON
t_status 1 "in any case"

t_run xt-put -a xt-store.json <f
t_status 1 "xt-put -a to xt-store.json fails"
t_err_has "is the store's own file" "and says why"
t_ok "xt-store.json is unchanged" marker_kept

t_run xt-put -d xt-store.json
t_status 1 "xt-put -d of xt-store.json fails"
t_err_has "is the store's own file" "and says why"
t_ok "xt-store.json is still there" marker_kept

t_run xt-get -c xt-store.json
t_status 0 "xt-store.json can be read"
t_out_is marker.orig "whole"

t_run xt-put f :.tmp/x
t_status 1 "xt-put into .tmp fails"
t_err_has "store path '.tmp/x' is in the store's own folder of temporary files" "and says why"
t_ok "and writes nothing there" test ! -e "$XT_STORE/.tmp/x"

t_run xt-put src :
t_status 1 "a tree holding .tmp, put at the root, fails"
t_err_has "store path '.tmp/t' is in the store's own folder" "naming the file"
t_err_has "nothing was put" "before anything is written"
t_ok "not even its other files" test ! -e "$XT_STORE/ok"

t_run xt-put src :sub
t_status 0 "the same tree deeper down is fine"

echo tmp >"$XT_STORE/.tmp/planted"
t_run xt-get -c .tmp/planted
t_status 1 "xt-get -c of a file in .tmp fails"
t_out_is empty "printing nothing"
t_err_has "is in the store's own folder" "and says why"
t_run xt-get -l .tmp
t_status 1 "xt-get -l .tmp fails"
t_out_is empty "listing nothing"
t_run xt-put -a .tmp/planted <f
t_status 1 "xt-put -a into .tmp fails"
t_run xt-put -d .tmp/planted
t_status 1 "xt-put -d in .tmp fails"
t_run xt-put -d -r .tmp
t_status 1 "xt-put -d -r .tmp fails"
t_ok "the file in .tmp is untouched" test "$(cat "$XT_STORE/.tmp/planted")" = tmp
bad=0
for r in $(seq 1 60); do
	for k in 1 2 3 4 5 6; do XT_STORE="$T/race$r" xt-get -l / >/dev/null 2>"race.$r.$k" & done
	wait
	for k in 1 2 3 4 5 6; do [ -s "race.$r.$k" ] && bad=$((bad + 1)); done
done
t_ok "six processes making one new store at once, 60 times: none fails ($bad did)" test "$bad" -eq 0
t_done
