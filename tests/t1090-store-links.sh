#!/bin/sh
# The folder store never reaches outside its root: a symbolic link inside
# the store, to a file or to a folder outside, is refused by xt-get -c,
# xt-get, xt-get -l, xt-put, xt-put -a and xt-put -d [-r], with a message
# naming the link, and the files outside stay as they were.
. "$(dirname "$0")/lib.sh"

echo keep >f
xt-put f :x/obj >/dev/null
mkdir -p ext/dir
echo secret >ext/secret.txt
echo inside >ext/dir/f
cp ext/secret.txt secret.orig
cp ext/dir/f f.orig
ln -s "$T/ext/secret.txt" "$XT_STORE/lnf"
ln -s "$T/ext/dir" "$XT_STORE/lnd"
# links deeper down, relative, next to an object
ln -s ../../ext/dir "$XT_STORE/x/lnd"
ln -s ../../ext/secret.txt "$XT_STORE/x/lnf"
echo new >new
: >empty

# outside: the outside files unchanged, nothing new outside
outside() {
	cmp -s secret.orig ext/secret.txt && cmp -s f.orig ext/dir/f &&
	    [ "$(ls ext/dir)" = f ] && [ "$(ls ext)" = "dir
secret.txt" ]
}

t_run xt-get -c lnf
t_status 1 "xt-get -c of a link to a file fails"
t_out_is empty "and prints nothing of it"
t_err_has "cannot open 'lnf': 'lnf' is a symbolic link" "naming the link"

t_run xt-get -c lnd/f
t_status 1 "xt-get -c through a link to a folder fails"
t_out_is empty "and prints nothing of it"
t_err_has "'lnd' is a symbolic link" "naming the link"

t_run xt-get -c x/lnd/f
t_status 1 "xt-get -c through a deeper link fails"
t_out_is empty "and prints nothing"
t_err_has "'x/lnd' is a symbolic link" "naming the link"

t_run xt-get lnf got.txt
t_status 1 "xt-get of a link fails"
t_err_has "'lnf' is a symbolic link" "naming it"
t_ok "and writes no file" test ! -e got.txt

t_run xt-get lnd gotdir
t_status 1 "xt-get of a link to a folder fails"
t_err_has "'lnd' is a symbolic link" "naming it"
t_ok "and downloads nothing" test ! -e gotdir

t_run xt-get -l lnd
t_status 1 "xt-get -l of a link to a folder fails"
t_out_is empty "and lists nothing from outside"
t_err_has "'lnd' is a symbolic link" "naming it"

t_run xt-get -l -r
t_status 0 "a listing of the store"
printf '%s\n' '{"path":"x/obj","size":5}' '{"path":"xt-store.json","size":13}' >want
sed 's/,"modified":"[^"]*"//' "$T/out" >"$T/out.x" && mv "$T/out.x" "$T/out"
t_out_is want "neither shows links nor goes through them"

t_run xt-get -l x
t_status 0 "a listing of a folder holding a link"
printf '%s\n' '{"path":"x/obj","size":5}' >want
sed 's/,"modified":"[^"]*"//' "$T/out" >"$T/out.x" && mv "$T/out.x" "$T/out"
t_out_is want "leaves the link out"

t_run xt-put new :lnf
t_status 1 "xt-put over a link to a file fails"
t_err_has "'lnf' is a symbolic link" "naming it"
t_ok "the link is still there" test -L "$XT_STORE/lnf"
t_ok "the file outside is unchanged" outside

t_run xt-put new :lnd/f
t_status 1 "xt-put through a link to a folder fails"
t_err_has "'lnd' is a symbolic link" "naming it"
t_run xt-put new :lnd/made
t_status 1 "xt-put of a new object through a link fails"
t_run xt-put ext/dir :x/lnd/
t_status 1 "xt-put of a tree through a deeper link fails"
t_err_has "'x/lnd' is a symbolic link" "naming it"
t_ok "the files outside are unchanged, none added" outside

t_run xt-put -a lnf <new
t_status 1 "xt-put -a to a link to a file fails"
t_err_has "'lnf' is a symbolic link" "naming it"
t_run xt-put -a lnd/f <new
t_status 1 "xt-put -a through a link to a folder fails"
t_err_has "'lnd' is a symbolic link" "naming it"
t_run xt-put -a lnd/made <new
t_status 1 "xt-put -a of a new object through a link fails"
t_ok "the files outside are unchanged, none added" outside

t_run xt-put -d lnf
t_status 1 "xt-put -d of a link fails"
t_err_has "'lnf' is a symbolic link" "naming it"
t_ok "the link stays" test -L "$XT_STORE/lnf"
t_run xt-put -d lnd/f
t_status 1 "xt-put -d through a link fails"
t_err_has "'lnd' is a symbolic link" "naming it"
t_run xt-put -d -r lnd
t_status 1 "xt-put -d -r of a link to a folder fails"
t_err_has "'lnd' is a symbolic link" "naming it"
t_ok "the link stays" test -L "$XT_STORE/lnd"
t_ok "the files outside are all there" outside

t_run xt-put -d -r x
t_status 0 "xt-put -d -r of a folder holding a link"
echo '{"path":"x/obj","size":5,"action":"deleted"}' >want
t_out_is want "deletes the objects"
t_ok "leaves the links (not objects) in place" test -L "$XT_STORE/x/lnd" -a -L "$XT_STORE/x/lnf"
t_ok "and everything outside" outside
t_done
