#!/bin/sh
# A run's code is its job's snapshot, whatever an earlier run did to its
# own copy: run 1 rewrites a read-write file and, after chmod u+w, a
# read-only one (the tests run as root, who may write anyway); the runs
# after it, of the same job and of another with the same files, still see
# the original bytes, and the blob cache is unchanged. Each file has the
# mode of its manifest: an executable script runs, a 0644 file is the
# run's to write, a 0444 file is read-only.
. "$(dirname "$0")/lib.sh"

mkdir code
echo original >code/data.txt
echo "ro original" >code/ro.txt
printf '#!/bin/sh\nstat -c "%%a %%n" data.txt ro.txt show.sh rewrite.sh\ncat data.txt ro.txt\n' >code/show.sh
# the same sizes: a cached file of another size would be fetched again
cat >code/rewrite.sh <<'EOS'
cat data.txt ro.txt
echo modified >data.txt
chmod u+w ro.txt && echo "ro modified" >ro.txt
cat data.txt ro.txt
EOS
chmod 0644 code/data.txt code/rewrite.sh
chmod 0444 code/ro.txt
chmod 0755 code/show.sh
ro_sha=$(sha256sum code/ro.txt | cut -c1-64)
data_sha=$(sha256sum code/data.txt | cut -c1-64)

xt-submit -C code --runs 2 -- sh rewrite.sh >/dev/null
t_run xt-runq
t_status 0 "two runs that rewrite their code"
printf 'original\nro original\nmodified\nro modified\n' >want
t_run xt-get -c run1.1/output.txt
t_out_is want "run 1 changed its own copy"
t_run xt-get -c run1.2/output.txt
t_out_is want "run 2 of the same job started from the original and changed its own"

xt-submit -C code -- ./show.sh >/dev/null
t_run xt-runq
t_status 0 "a run of another job"
printf '644 data.txt\n444 ro.txt\n755 show.sh\n644 rewrite.sh\noriginal\nro original\n' >want
t_run xt-get -c run2/output.txt
t_out_is want "runs its executable script and sees the original bytes, each file with its mode"

cache=$XT_HOME/cache/blobs
t_ok "the cached blob of the read-write file is unchanged" \
    [ "$(sha256sum "$cache/$(echo "$data_sha" | cut -c1-2)/$(echo "$data_sha" | cut -c3-)" | cut -c1-64)" = "$data_sha" ]
t_ok "the cached blob of the read-only file is unchanged" \
    [ "$(sha256sum "$cache/$(echo "$ro_sha" | cut -c1-2)/$(echo "$ro_sha" | cut -c3-)" | cut -c1-64)" = "$ro_sha" ]

# a run's code is its own, not a link into the cache
xt-submit -C code -- sh -c 'stat -c %h data.txt' >/dev/null
t_run xt-runq
echo 1 >want
t_run xt-get -c run3/output.txt
t_out_is want "a code file has one link: the run's own copy"

# a run that writes into the cache itself, keeping each file's size, does
# not change what the next run gets: a cached file that was written to is
# fetched again
cat >code/evil.sh <<'EOS'
for f in "$XT_HOME"/cache/blobs/*/*; do chmod u+w "$f"; echo tampered >"$f"; done
EOS
xt-submit -C code -- sh evil.sh >/dev/null
xt-runq >/dev/null 2>&1
xt-submit -C code -- ./show.sh >/dev/null
t_run xt-runq
printf '644 data.txt\n444 ro.txt\n755 show.sh\n644 rewrite.sh\noriginal\nro original\n' >want
t_run xt-get -c run5/output.txt
t_out_is want "a cache whose files a run overwrote is fetched again"

# a retry restores the code again: what attempt 1 did to it is gone
cat >code/retry.sh <<EOS
cat data.txt
echo modified >data.txt
[ -e "$T/second" ] && exit 0
touch "$T/second"
exit 1
EOS
xt-submit -C code --retries 1 -- sh retry.sh >/dev/null
t_run xt-runq
printf 'original\nxt-runq: attempt 2 of run6, on NODE at TIME\noriginal\n' >want
t_run xt-get -c run6/output.txt
sed 's/, on .* at .*/, on NODE at TIME/' "$T/out" >got
t_ok "attempt 2 sees the original code" cmp -s want got
t_done
