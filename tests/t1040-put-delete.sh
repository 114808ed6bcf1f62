#!/bin/sh
# xt-put -d deletes objects, -r a whole folder; missing ones are errors.
. "$(dirname "$0")/lib.sh"

mkdir -p src/d
echo 1 >src/a
echo 22 >src/d/b
xt-put src :t >/dev/null
t_run xt-put -d t/a
t_status 0 "delete one object"
echo '{"path":"t/a","size":2,"action":"deleted"}' >want
t_out_is want "it is reported"
t_run xt-get -c t/a
t_status 1 "it is gone"
t_err_has "cannot open 't/a'" "reading it names it"
t_run xt-put -d t/nothing
t_status 1 "deleting a missing object fails"
t_err_has "cannot delete 't/nothing'" "and says which"
t_run xt-put -d t
t_status 1 "a folder needs -r"
t_run xt-put -d -r t
t_status 0 "-r deletes a folder"
echo '{"path":"t/d/b","size":3,"action":"deleted"}' >want
t_out_is want "each object is reported"
t_run xt-get -l
printf '{"path":"xt-store.json","size":13,"modified":"X"}\n' >want
sed 's/"modified":"[^"]*"/"modified":"X"/' "$T/out" >got
t_ok "no empty folders are left" cmp -s want got
t_done
