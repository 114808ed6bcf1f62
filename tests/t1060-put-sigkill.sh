#!/bin/sh
# xt-put killed with SIGKILL in the middle of a 200 MB upload leaves the old
# object or none, never a part, and no temporary file visible to xt-get -l.
# On a folder store and on az:// (tests/stores.sh); on az:// the upload is
# caught while its blocks are uploaded and not yet committed.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$R/tests/lib.sh"
. "$R/tests/stores.sh"

head -c 200000000 /dev/urandom >big
echo old >old

# whether the upload is under way: a temporary file with data, or blocks not
# committed; bounded by a count, not a clock
under_way() {
	case $store in
	file)
		i=0
		while [ $i -lt 100000 ]; do
			[ -n "$(find "$XT_STORE/.tmp" -type f -size +1M 2>/dev/null | head -n 1)" ] && return 0
			i=$((i + 1))
		done
		return 1 ;;
	az)
		az_rest GET "$az_cont/m/big?comp=blocklist&blocklisttype=uncommitted" \
		    "<UncommittedBlocks><Block>" >/dev/null ;;
	esac
}

# start an upload, kill it once under way
kill_midway() {
	xt-put -q big :m/big >/dev/null 2>&1 &
	pid=$!
	under_way
	s=$?
	kill -9 $pid
	wait $pid 2>/dev/null
	[ $s -eq 0 ]
}

pass() {
xt-put old :m/big >/dev/null

t_ok "xt-put was caught mid-upload" kill_midway
t_run xt-get -c :m/big
t_status 0 "the object is readable"
t_out_is old "it is the old object, whole"
t_run xt-get -l -r
t_ok "no temporary file is listed" test "$(grep -c '"path":"xt-store.json"\|"path":"m/big"' "$T/out")" -eq 2
t_ok "only the store marker and the object" [ "$(wc -l <"$T/out")" -eq 2 ]

xt-put -d :m/big >/dev/null
t_ok "killed again with no old object" kill_midway
t_run xt-get -c :m/big
t_status 1 "there is no object, not a part"
t_run xt-put -q big :m/big
t_status 0 "a later put succeeds"
t_run xt-get -c :m/big
t_ok "and the object is whole" cmp -s big "$T/out"
}

t_stores pass

# stale temporary files: the first write of a store removes the ones of
# writers gone for over an hour, and only those, unless a sweep began less
# than 10 minutes ago (.tmp/.swept)
host=$(uname -n)
tmpd="$XT_STORE/.tmp"
left=$(ls "$tmpd" | grep -m 1 "^$host\.[0-9]*\.")
t_ok "a killed writer left its temporary file, named with host and pid" [ -n "$left" ]
# its pid could be reused by now: give it one no process can have (> 2^22)
gone="$host.4194305.${left#"$host".*.}"
mv "$tmpd/$left" "$tmpd/$gone"
echo x >"$tmpd/$host.4194305.0.1"
echo x >"$tmpd/$host.$$.0.2"
echo x >"$tmpd/otherhost.4194305.0.3"
touch -d '2 hours ago' "$tmpd/$gone" "$tmpd/$host.$$.0.2" "$tmpd/otherhost.4194305.0.3"
t_run xt-put old :m/old0
t_status 0 "a write"
t_ok "a sweep less than 10 minutes ago: the next write looks for none" [ -e "$tmpd/$gone" ]
touch -d '11 minutes ago' "$tmpd/.swept"
t_run xt-get -c :m/big
t_ok "a read removes nothing" [ -e "$tmpd/$gone" ]
t_run xt-put old :m/old
t_status 0 "a write"
t_ok "removes the old file of a dead writer" [ ! -e "$tmpd/$gone" ]
t_ok "keeps a fresh one" [ -e "$tmpd/$host.4194305.0.1" ]
t_ok "keeps an old one of a live writer" [ -e "$tmpd/$host.$$.0.2" ]
t_ok "keeps an old one of another machine" [ -e "$tmpd/otherhost.4194305.0.3" ]
t_ok "notes when it swept" [ -n "$(find "$tmpd/.swept" -mmin -1)" ]
t_done
