#!/bin/sh
# Runs that start at the same moment share the machine's blob cache: each
# must see its code whole, never a cache file that another run is still
# writing. Eight runs of one job start at once, each checking a 40 MB file
# and a script of its code snapshot; done three times with a fresh cache.
. "$(dirname "$0")/lib.sh"

mkdir code
head -c 40000000 /dev/urandom >code/data.bin
want=$(sha256sum code/data.bin | cut -d' ' -f1)
cat >code/check.sh <<EOF
got=\$(sha256sum data.bin | cut -d' ' -f1)
[ "\$got" = "$want" ] || { echo "data.bin is not whole: \$(wc -c <data.bin) bytes"; exit 3; }
echo "code whole"
EOF
for round in 1 2 3; do
	rm -rf "$XT_HOME/cache/blobs"
	xt-submit -C code --runs 8 -- sh check.sh >subs
	t_run xt-runq -j 8
	t_status 0 "round $round: eight runs at once"
	bad=0
	for run in $(sed 's/.*"run":"\([^"]*\)".*/\1/' subs); do
		case $run in *.*) ;; *) continue ;; esac
		if [ "$(rec "$run" status)" != completed ] ||
		    [ "$(xt-get -c "$run/output.txt")" != "code whole" ]; then
			bad=$((bad + 1))
			echo "# $run: $(rec "$run" status): $(xt-get -c "$run/output.txt" 2>&1 | head -n 1)"
		fi
	done
	t_ok "round $round: every run saw its code whole" [ "$bad" -eq 0 ]
	t_ok "round $round: the cache holds only whole blobs, no temporaries" \
	    test -d "$XT_HOME/cache/blobs" -a -z "$(find "$XT_HOME/cache/blobs" -type f -name '*.tmp.*')"
done
t_done
