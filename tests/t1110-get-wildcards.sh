#!/bin/sh
# xt-get PATTERN [DIR]: '*', '?' and '[...]' matched part by part against
# the store's listings (fnmatch, FNM_PERIOD); each match goes to
# DIR/<its path from the folder of the first wildcard>; no match is an
# error naming the pattern.
. "$(dirname "$0")/lib.sh"

for r in run7.1 run7.2 run7.10 run8; do
	mkdir -p "l/$r/output"
	echo "$r" >"l/$r/output/model.pkl"
	echo log >"l/$r/output/log.txt"
	xt-put "l/$r" "$r" >/dev/null
done
echo hidden >h
xt-put h @d/.hidden >/dev/null
xt-put h @d/seen >/dev/null
files() { (cd "$1" && find . -type f | sort) >"$T/got"; }

t_run xt-get 'run7.*/output/model.pkl' dl
t_status 0 "a wildcard in a run's name"
t_err_empty "quietly"
files dl
printf './run7.1/output/model.pkl\n./run7.10/output/model.pkl\n./run7.2/output/model.pkl\n' >want
t_ok "each match at DIR/<its path>" cmp -s want got
t_ok "with its bytes" [ "$(cat dl/run7.10/output/model.pkl)" = run7.10 ]
t_ok "one line a file" [ "$(grep -c '"action":"downloaded"' "$T/out")" -eq 3 ]
t_run xt-get 'run7.?' q
t_status 0 "'?' and a folder match"
files q
printf './run7.1/output/log.txt\n./run7.1/output/model.pkl\n./run7.2/output/log.txt\n./run7.2/output/model.pkl\n' >want
t_ok "a matched folder comes whole; '?' is one character" cmp -s want got
t_run xt-get 'run8/output/[lx]*' b
t_status 0 "'[...]' in a later part"
files b
printf './log.txt\n' >want
t_ok "paths start at the folder of the first wildcard" cmp -s want got
t_run xt-get '@d/*' s
files s
printf './seen\n' >want
t_ok "'*' does not match a leading '.', as in the shell" cmp -s want got
t_run xt-get 'run9.*/model.pkl' none
t_status 1 "no match"
t_err_has "no match for 'run9.*/model.pkl' in the store" "names the pattern"
t_ok "and makes nothing" [ ! -e none ]
t_run xt-get 'run7.*/output/nothing' none
t_status 1 "a literal part that no match has"
t_done
