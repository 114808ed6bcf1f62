#!/bin/sh
# -r: xt-put -r DIR DEST and xt-get -r SRC DIR as cp -r: the tree goes to
# DEST/NAME when DEST is a folder already (or there are several sources),
# else to DEST itself. Without -r, a folder's files go under DEST as before.
. "$(dirname "$0")/lib.sh"

mkdir -p src/sub
echo a >src/a.txt
echo b >src/sub/b.txt
# objects FOLDER: the objects under shares/FOLDER, relative, sorted
objects() { (cd "$XT_STORE/shares/$1" && find . -type f | sort) >"$T/got"; }
files() { (cd "$1" && find . -type f | sort) >"$T/got"; }

t_run xt-put -r src @d/x
t_status 0 "put -r to a new folder"
t_err_empty "quietly"
objects d/x
printf './a.txt\n./sub/b.txt\n' >want
t_ok "the tree is the new folder, as cp -r makes it" cmp -s want got
t_run xt-put -r src @d/x
t_status 0 "put -r to a folder that exists"
objects d/x
printf './a.txt\n./src/a.txt\n./src/sub/b.txt\n./sub/b.txt\n' >want
t_ok "the tree goes under its name, as cp -r puts it" cmp -s want got
t_run xt-put src @d/y
t_run xt-put src @d/y
objects d/y
printf './a.txt\n./sub/b.txt\n' >want
t_ok "without -r a folder's files go under DEST every time, as before" cmp -s want got
t_run xt-put -r src/ src @d/two
t_status 0 "put -r of several folders"
objects d/two
printf './src/a.txt\n./src/sub/b.txt\n' >want
t_ok "each goes under its name (a trailing / changes nothing, as in cp)" cmp -s want got
t_run xt-put -r src/a.txt @d/file.txt
t_status 0 "put -r of a file"
t_ok "a file goes where it goes without -r" [ -f "$XT_STORE/shares/d/file.txt" ]
t_run xt-put -r src @d/file.txt
t_status 1 "put -r of a folder onto an object"
t_err_has "cannot put folder 'src' over the object 'shares/d/file.txt'" "is refused, named"
t_err_has "nothing was put" "and nothing is put"

t_run xt-get -r @d/x new
t_status 0 "get -r to a new folder"
files new
printf './a.txt\n./src/a.txt\n./src/sub/b.txt\n./sub/b.txt\n' >want
t_ok "the folder's files are the new folder" cmp -s want got
mkdir have
t_run xt-get -r @d/x have
t_status 0 "get -r to a folder that exists"
files have
printf './x/a.txt\n./x/src/a.txt\n./x/src/sub/b.txt\n./x/sub/b.txt\n' >want
t_ok "the folder goes under its name, as scp -r puts it" cmp -s want got
mkdir plain
t_run xt-get @d/y plain
files plain
printf './a.txt\n./sub/b.txt\n' >want
t_ok "without -r the files go into DEST, as before" cmp -s want got
t_run xt-get -r @d/file.txt have
t_status 0 "get -r of an object"
t_ok "goes into the folder, as without -r" [ -f have/file.txt ]
t_done
