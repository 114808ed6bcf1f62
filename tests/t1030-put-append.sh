#!/bin/sh
# xt-put -a appends standard input; 8 writers at once never interleave.
# On a folder store and on az:// (tests/stores.sh).
R=$(cd "$(dirname "$0")/.." && pwd)
. "$R/tests/lib.sh"
. "$R/tests/stores.sh"

# 8 processes x 10,000 lines, each line appended atomically
awk 'BEGIN { for (p = 0; p < 8; p++) for (i = 0; i < 10000; i++) print "writer " p " line " i " ........................................" > ("w" p) }'

pass() {
printf 'a\nb\n' >in
t_run xt-put -a @logs/x.txt <in
t_status 0 "append to a new object"
echo '{"path":"shares/logs/x.txt","size":4,"action":"appended"}' >want
t_out_is want "one JSON line reports it"
printf 'c\n' >in
t_run xt-put -a @logs/x.txt <in
printf 'a\nb\nc\n' >want
t_run xt-get -c @logs/x.txt
t_out_is want "appends go at the end"
t_run xt-put -a @logs/empty.txt </dev/null
t_status 0 "an empty append"
t_run xt-get -c @logs/empty.txt
t_status 0 "still makes the object"

# each writer is fed line by line through a pipe, so it makes many small appends
p=0
pids=""
while [ $p -lt 8 ]; do
	sh -c 'awk "{ print; fflush() }" "w$1" | xt-put -a @logs/race.txt >/dev/null; echo $? >"st$1"' sh $p &
	pids="$pids $!"
	p=$((p + 1))
done
for pid in $pids; do wait "$pid"; done
t_ok "all writers succeed" [ "$(cat st0 st1 st2 st3 st4 st5 st6 st7)" = "$(printf '0\n0\n0\n0\n0\n0\n0\n0')" ]
t_run xt-get -c @logs/race.txt
t_status 0 "read the raced object"
cat w0 w1 w2 w3 w4 w5 w6 w7 | sort >want
sort "$T/out" >got
t_ok "80,000 whole lines, none lost, none interleaved" cmp -s want got
t_ok "exactly 80,000 lines" [ "$(wc -l <"$T/out")" -eq 80000 ]
}

t_stores pass
t_done
