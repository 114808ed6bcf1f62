#!/bin/sh
# -P on a folder store: workers, each with its own handle and batch, give
# the same output and the same store as one; -u skips what is there.
. "$(dirname "$0")/lib.sh"

i=0
while [ $i -lt 200 ]; do
	mkdir -p "tree/d$((i % 7))"
	echo "file $i" >"tree/d$((i % 7))/f$i.txt"
	i=$((i + 1))
done
t_run xt-put -q -P 1 -s "$T/s1" tree :tree
t_status 0 "xt-put -P 1 of 200 files into a folder store"
cp "$T/out" put1
t_run xt-put -q -P 8 -s "$T/s8" tree :tree
t_status 0 "xt-put -P 8 of them into another"
t_err_empty "... says nothing on stderr"
t_out_is put1 "... the same lines, in the tree's order"
t_ok "... the same objects" diff -r "$T/s1/tree" "$T/s8/tree"
t_ok "... the tree's" diff -r tree "$T/s8/tree"
t_run xt-get -q -P 8 -s "$T/s8" :tree back
t_status 0 "xt-get -P 8 of the tree"
t_ok "... whole" diff -r tree back
t_run xt-put -q -u -P 8 -s "$T/s8" tree :tree
t_status 0 "xt-put -u -P 8 of the unchanged tree"
t_ok "... skips every file" [ "$(grep -c '"action":"skipped"' "$T/out")" -eq 200 ]
t_done
