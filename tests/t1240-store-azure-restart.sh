#!/bin/sh
# Azurite killed (SIGKILL) in the middle of an upload of many blocks and
# started again on the same data: the object is the old one or the new
# one, whole, never a part, and xt-put says so (exit 0) or fails with a
# clear message (exit 1). An Azurite of its own, data on disk
# (scripts/azurite-up.sh start DIR LOCATION), so that a restart keeps what
# was stored.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$R/tests/lib.sh"
unset XT_TEST_AZURE_ENDPOINT
az_location=$T/azdata
. "$R/tests/azurite.sh"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
export XT_STORE=az://$acct/t1240-$$
cont=t1240-$$
# 1 MiB blocks: a 100 MB file is 96 Put Block requests, then Put Block List
export XT_AZURE_BLOCK=1048576

head -c 100000000 /dev/urandom >big
echo old >old

# restart [kill]: stop Azurite (by its PID; with kill, SIGKILL and no
# warning) and start it again on its data folder, at the same endpoint
restart() {
	_p=$(cat "$T/azurite/azurite.pid")
	if [ "${1:-}" = kill ]; then
		kill -9 "$_p"
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 1000 ]; do sleep 0.01; _i=$((_i + 1)); done
	else
		"$R/scripts/azurite-up.sh" stop "$T/azurite"
	fi
	kill -0 "$_p" 2>/dev/null && return 1
	"$R/scripts/azurite-up.sh" start "$T/azurite" "$az_location" >"$T/ep2" 2>"$T/start.err" &&
	    [ "$(cat "$T/ep2")" = "$ep" ] && apid=$(cat "$T/azurite/azurite.pid")
}

# the put of big, its Azurite killed once its first blocks are stored
# and started again; xt-put's status in $st, its stderr in put.err. A put
# that was not caught mid-upload (done before the first look) is tried
# again, up to 3 times, after the object it replaced is put back: FILE, or
# none (removed); $caught is 0 once one was.   put_killed FILE|none
put_killed() {
	for _try in 1 2 3; do
		xt-put -q big :m/big >put.out 2>put.err &
		pid=$!
		az_rest GET "$cont/m/big?comp=blocklist&blocklisttype=uncommitted" \
		    "<UncommittedBlocks><Block>" >/dev/null
		caught=$?
		if [ $caught -ne 0 ]; then
			wait $pid
			echo "# INFO a put not caught mid-upload (try $_try)"
			# it put the new object whole: the one before it is put back
			# (or removed), so that the next try starts where this one did
			if [ "$1" = none ]; then
				env -u XT_AZURE_RETRIES xt-put -q -d :m/big 2>/dev/null
			else
				env -u XT_AZURE_RETRIES xt-put -q "$1" :m/big
			fi
			continue
		fi
		restart kill
		restarted=$?
		wait $pid
		st=$?
		return
	done
	restarted=1
	st=2
}

# is_old_or_new OLD: the object is OLD (xt-put failed, saying why in one
# line: Azurite not back before the retries ran out, or back without the
# blocks not yet committed) or the new one whole (xt-put succeeded)
is_old_or_new() {
	t_run xt-get -c :m/big
	case $st in
	0) cmp -s big "$T/out" && echo "# INFO xt-put retried until Azurite was back: the new object" ;;
	1) cmp -s "$1" "$T/out" && [ "$(wc -l <put.err)" -eq 1 ] &&
	    grep -q "^xt-put: " put.err && echo "# INFO xt-put failed: $(cat put.err)" ;;
	*) false ;;
	esac && return 0
	echo "# xt-put exited $st, saying: $(cat put.err)"
	echo "# xt-get exited $rc: $(wc -c <"$T/out") bytes, saying: $(cat "$T/err")"
	return 1
}

t_run xt-put old :m/big
t_status 0 "put the old object"
# a stop by SIGTERM, for Azurite to write what it keeps on disk
t_ok "Azurite stopped and started again on its data" restart
t_run xt-get -c :m/big
t_out_is old "... still has the old object"

# no retries: the put fails as Azurite goes, and the old object stays
XT_AZURE_RETRIES=0 put_killed old
t_ok "Azurite killed mid-upload (blocks stored, none committed)" [ $caught -eq 0 ]
t_ok "... and started again at the same endpoint" [ $restarted -eq 0 ]
t_ok "xt-put fails" [ $st -eq 1 ]
t_run xt-get -c :m/big
t_status 0 "the object is readable"
t_out_is old "it is the old object, whole"
if [ "$(wc -l <put.err)" -eq 1 ] && grep -q "^xt-put: cannot reach $ep for 'm/big': " put.err; then
	t_pass "xt-put said it could not reach Azurite, in one line"
else
	t_fail "xt-put said it could not reach Azurite, in one line"
	sed 's/^/#   /' put.err
fi

# with retries: Azurite is back before they run out, or not
put_killed old
t_ok "killed mid-upload again, with retries" test $caught -eq 0 -a $restarted -eq 0
t_ok "the object is the old one, or the new one whole" is_old_or_new old

# no old object: none, or the new one whole
t_run xt-put -d :m/big
t_status 0 "delete the object"
t_ok "Azurite stopped and started again (it keeps the delete)" restart
XT_AZURE_RETRIES=0 put_killed none
t_ok "killed mid-upload, no old object" test $caught -eq 0 -a $restarted -eq 0 -a $st -eq 1
t_run xt-get -c :m/big
t_status 1 "there is no object, not a part"
[ $rc -eq 0 ] && echo "# the object: $(head -c 40 "$T/out" | od -c | head -n 2)"
t_err_has "xt-get: cannot get 'm/big': no such object" "... and xt-get says so"

t_run xt-put -q big :m/big
t_status 0 "a put after the restarts succeeds"
t_run xt-get -c :m/big
t_ok "... whole" cmp -s big "$T/out"
t_run xt-get -l -r
t_status 0 "list the store"
t_ok "only the store marker and the object" [ "$(grep -c '"path":"xt-store.json"\|"path":"m/big"' "$T/out")" -eq 2 ] && [ "$(wc -l <"$T/out")" -eq 2 ]
t_done
