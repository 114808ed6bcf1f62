#!/bin/sh
# Files captured from $XT_OUTPUT_DIR: a link is captured as its target
# only when the target is a file inside $XT_OUTPUT_DIR. A link to a file
# or a folder outside it is not followed, and the run's console says so.
. "$(dirname "$0")/lib.sh"

mkdir code outside
echo "root:x:0:0:secret" >outside/passwd
echo "outside file" >outside/other
cat >code/run.sh <<EOS
cd "\$XT_OUTPUT_DIR"
echo weights >ckpt.txt
mkdir sub
echo inner >sub/f.txt
ln -s ckpt.txt best.txt
ln -s "\$XT_OUTPUT_DIR/sub/f.txt" abs.txt
ln -s "$T/outside/passwd" passwd
ln -s "$T/outside" dir
ln -s ../../../../../../../../../../etc/hostname up
ln -s sub subdir
ln -s nowhere dangling
echo done
EOS
xt-submit -C code -- sh run.sh >/dev/null
t_run xt-runq
t_status 0 "a run that leaves links in its output"
cat >want <<EOF
xt-runq: run run1: not capturing 'output/dangling': a dangling link, not followed
xt-runq: run run1: not capturing 'output/dir': a link to outside the folder, not followed
xt-runq: run run1: not capturing 'output/passwd': a link to outside the folder, not followed
xt-runq: run run1: not capturing 'output/subdir': a link to a folder, not followed
xt-runq: run run1: not capturing 'output/up': a link to outside the folder, not followed
EOF
grep "not capturing" "$T/err" | sort >got
t_ok "xt-runq names each link it did not follow" cmp -s want got
t_ok "the run completed" [ "$(rec run1 status)" = completed ]
t_run xt-get -c run1/output.txt
{ echo done; sed 's/^xt-runq: run run1: /xt-runq: /' want; } >want2
sort "$T/out" >got
sort want2 >want
t_ok "and so does its console" cmp -s want got

xt-get -c run1/files.jsonl >files
sed 's/.*"path":"\([^"]*\)".*/\1/' files >got
printf 'output/abs.txt\noutput/best.txt\noutput/ckpt.txt\noutput/sub/f.txt\n' >want
t_ok "captured: the files and the links to files inside" cmp -s want got
t_run xt-get -c run1/output/best.txt
echo weights >want
t_out_is want "a relative link inside is captured as its target"
t_run xt-get -c run1/output/abs.txt
echo inner >want
t_out_is want "an absolute link inside too"
t_run xt-get -c run1/output/passwd
t_status 1 "the file outside is not in the store"
t_err_has "output/passwd" "xt-get says so"
t_ok "nor the folder outside" [ ! -e "$XT_STORE/ws/ws1/runs/run1/output/dir" ]
t_ok "nothing of either anywhere in the store" [ -z "$(grep -rl 'secret\|outside file' "$XT_STORE")" ]
t_done
