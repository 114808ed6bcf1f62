#!/bin/sh
# xt-put -a appends standard input; 8 writers at once never interleave.
. "$(dirname "$0")/lib.sh"

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

# 8 processes x 10,000 lines, each line appended atomically
awk 'BEGIN { for (p = 0; p < 8; p++) for (i = 0; i < 10000; i++) print "writer " p " line " i " ........................................" > ("w" p) }'
p=0
pids=""
while [ $p -lt 8 ]; do
	# one xt-put per line so that writers really race
	( while IFS= read -r l; do printf '%s\n' "$l" | xt-put -a @logs/race.txt >/dev/null || exit 1; done <"w$p" ) &
	pids="$pids $!"
	p=$((p + 1))
	[ $p -eq 2 ] && break
done
# six more writers using large multi-line appends
while [ $p -lt 8 ]; do
	xt-put -a @logs/race.txt <"w$p" >/dev/null &
	pids="$pids $!"
	p=$((p + 1))
done
fails=0
for pid in $pids; do wait "$pid" || fails=$((fails + 1)); done
t_ok "all writers succeed" [ $fails -eq 0 ]
t_run xt-get -c @logs/race.txt
t_status 0 "read the raced object"
cat w0 w1 w2 w3 w4 w5 w6 w7 | sort >want
sort "$T/out" >got
t_ok "80,000 whole lines, none lost, none interleaved" cmp -s want got
t_ok "exactly 80,000 lines" [ "$(wc -l <"$T/out")" -eq 80000 ]
t_done
