#!/bin/sh
# The executor's blob cache ($XT_HOME/cache/blobs) is shared by every run:
# a run must never see a cached file that is not whole. A cached file of
# the wrong size (a copy cut short) is fetched again, and many runs of one
# job that start together all see their whole code. The temporaries of
# fillers that died are removed.
. "$(dirname "$0")/lib.sh"

mkdir code
# the script fails unless it runs to its last line
printf 'x=1\n%s\necho "whole $XT_RUN"\n' "$(head -c 3000 /dev/zero | tr '\0' '#')" >code/run.sh
xt-submit -C code -- sh run.sh >/dev/null
sha=$(sha256sum code/run.sh | cut -c1-64)
cache="$XT_HOME/cache/blobs/$(echo "$sha" | cut -c1-2)/$(echo "$sha" | cut -c3-)"

# a copy cut short, as a filler that died (or has not finished) leaves it
mkdir -p "$(dirname "$cache")"
head -c 100 code/run.sh >"$cache"
t_run xt-runq
t_status 0 "the run ran"
t_run xt-get -c run1/output.txt
echo "whole run1" >want
t_out_is want "it ran its whole code, not the cut copy"
t_ok "the cache holds the whole blob" cmp -s code/run.sh "$cache"
t_ok "no temporary file is left in the cache" [ "$(ls -A "$(dirname "$cache")")" = "$(basename "$cache")" ]

# a cache entry of the right size (and mtime) is used as it is (no fetch per run)
ino=$(stat -c %i "$cache")
xt-submit -C code -- sh run.sh >/dev/null
t_run xt-runq
t_ok "a whole cached blob is used, not fetched again" [ "$(stat -c %i "$cache")" = "$ino" ]

# 16 runs starting together from an empty cache: each sees the whole script
rm -rf "$XT_HOME/cache"
i=0
: >hp
while [ $i -lt 16 ]; do echo "{\"i\":$i}" >>hp; i=$((i + 1)); done
xt-submit -C code --hp hp -- sh run.sh >/dev/null
t_run xt-runq -j 16
t_status 0 "16 runs at once"
t_ok "all 16 completed" [ "$(cat "$XT_STORE"/ws/ws1/runs/run3.*/run.json | grep -c '"status":"completed"')" -eq 16 ]
t_ok "each printed its last line" [ "$(cat "$XT_STORE"/ws/ws1/runs/run3.*/output.txt | grep -c '^whole run3\.')" -eq 16 ]

# temporaries that fillers killed mid-copy left behind: a fill removes
# those whose writer is gone (a pid no process can have, > 2^22) and that
# have not been written for an hour, and only those
d="$XT_HOME/cache/blobs/00"
mkdir -p "$d"
name=$(printf '%062d' 0)
echo x >"$d/$name.tmp.4194305.0"
echo x >"$d/$name.tmp.$$.1"
echo x >"$d/$name.tmp.4194305.2"
touch -d '2 hours ago' "$d/$name.tmp.4194305.0" "$d/$name.tmp.$$.1"
echo 'echo new' >>code/run.sh
xt-submit -C code -- sh run.sh >/dev/null
t_run xt-runq
t_status 0 "a run whose code is not cached"
t_ok "removes the old temporary of a dead writer" [ ! -e "$d/$name.tmp.4194305.0" ]
t_ok "keeps an old one of a live writer" [ -e "$d/$name.tmp.$$.1" ]
t_ok "keeps a fresh one" [ -e "$d/$name.tmp.4194305.2" ]
t_done
