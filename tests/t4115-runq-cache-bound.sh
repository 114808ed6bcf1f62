#!/bin/sh
# The blob cache, $XT_HOME/cache/blobs, is bounded by cache-max-size: past
# it, the blobs least recently used go first. Evicting never breaks a run:
# not one that is running (its code is its own copy), not one that is
# restoring its code while others evict the blobs it needs.
. "$(dirname "$0")/lib.sh"

C=$XT_HOME/cache/blobs
cached() {	# cached FILE: true when the blob of FILE is in the cache
	s=$(sha256sum "$1" | cut -c1-64)
	[ -f "$C/$(echo "$s" | cut -c1-2)/$(echo "$s" | cut -c3-)" ]
}
uncached() { ! cached "$1"; }
mkdir a b c d
head -c 30000 /dev/urandom >a/a.bin
head -c 30000 /dev/urandom >b/b.bin
head -c 30000 /dev/urandom >c/c.bin
head -c 50000 /dev/urandom >d/d.bin
for j in a b c d; do echo "wc -c <$j.bin" >$j/run.sh; done
export XT_CACHE_MAX_SIZE=100K

xt-submit -C a -- sh run.sh >/dev/null
xt-submit -C b -- sh run.sh >/dev/null
xt-submit -C c -- sh run.sh >/dev/null
t_run xt-runq
t_status 0 "a, b and c ran"
t_ok "a is cached (90K of 100K)" cached a/a.bin
t_ok "b too" cached b/b.bin
t_ok "c too" cached c/c.bin
xt-submit -C a -- sh run.sh >/dev/null
t_run xt-runq
t_ok "a is used again" [ "$(xt-get -c run4/output.txt)" = 30000 ]
xt-submit -C d -- sh run.sh >/dev/null
t_run xt-runq
t_ok "d ran" [ "$(xt-get -c run5/output.txt)" = 50000 ]
t_ok "d is cached" cached d/d.bin
t_ok "the least recently used, b, is evicted" uncached b/b.bin
t_ok "and then c" uncached c/c.bin
t_ok "a, filled first but used since, stays" cached a/a.bin
t_ok "the cache holds at most 100K" [ "$(cat "$C"/*/* | wc -c)" -le 102400 ]

# a running run whose cache goes keeps its code
echo 'rm -rf "$XT_HOME/cache"; sleep 0.1; wc -c <a.bin' >a/run.sh
xt-submit -C a -- sh run.sh >/dev/null
t_run xt-runq
t_ok "a run that empties the cache still reads its whole code" [ "$(xt-get -c run6/output.txt)" = 30000 ]

# eight runs restore at once a code of 4 x 40K with a cache of 100K: each
# evicts blobs that the others are about to copy
mkdir e
for i in 1 2 3 4; do head -c 40000 /dev/urandom >e/f$i.bin; done
(cd e && sha256sum f*.bin) >e/sums
echo 'sha256sum -c --quiet sums && echo whole' >e/run.sh
xt-submit -C e --runs 8 -- sh run.sh >subs
t_run xt-runq -j 8
t_status 0 "eight runs of a code bigger than the cache, at once"
bad=0
for i in 1 2 3 4 5 6 7 8; do
	[ "$(rec run7.$i status)" = completed ] && [ "$(xt-get -c run7.$i/output.txt)" = whole ] ||
	    bad=$((bad + 1))
done
t_ok "each restored its code whole" [ "$bad" -eq 0 ]
t_ok "the cache is back under 100K" [ "$(cat "$C"/*/* | wc -c)" -le 102400 ]

# cache-max-size: 0 is no cache
rm -rf "$XT_HOME/cache"
xt-submit -C b -- sh run.sh >/dev/null
t_run env XT_CACHE_MAX_SIZE=0 xt-runq
t_ok "with no cache a run gets its code" [ "$(xt-get -c run8/output.txt)" = 30000 ]
t_ok "and nothing is cached" [ -z "$(find "$XT_HOME/cache" -type f 2>/dev/null)" ]

xt-submit -C a -- sh run.sh >/dev/null
t_run env XT_CACHE_MAX_SIZE=lots xt-runq
t_status 2 "a bad cache-max-size is a usage error"
echo "xt-runq: env XT_CACHE_MAX_SIZE: cache-max-size: 'lots' is not a size such as 10G" >want
t_ok "naming the variable and the value" cmp -s want "$T/err"
t_done
