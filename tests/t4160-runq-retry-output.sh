#!/bin/sh
# A retry is attempt N+1 of the same run: XT_ATTEMPT says which, and
# $XT_OUTPUT_DIR holds what the attempts before it left (a checkpoint).
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/resume.sh <<'EOS'
echo "attempt $XT_ATTEMPT"
if [ -e "$XT_OUTPUT_DIR/ckpt" ]; then
	echo "resuming from $(cat "$XT_OUTPUT_DIR/ckpt")"
	exit 0
fi
echo "epoch 5" >"$XT_OUTPUT_DIR/ckpt"
exit 1
EOS
xt-submit -C code --retries 2 -- sh resume.sh >/dev/null
t_run xt-runq -q
t_status 0 "the run completes on its retry"
t_ok "on attempt 2" [ "$(rec run1 status)/$(rec run1 attempt)" = completed/2 ]
t_run xt-get -c run1/output.txt
sed 's/, on .* at .*/, on NODE at TIME/' "$T/out" >got
cat >want <<'EOS'
attempt 1
xt-runq: attempt 2 of run1, on NODE at TIME
attempt 2
resuming from epoch 5
EOS
t_ok "attempt 2 found attempt 1's checkpoint; the console marks where it starts" cmp -s want got
t_run xt-get -c run1/output/ckpt
echo "epoch 5" >want
t_out_is want "the checkpoint is captured"
xt-get -c run1/log.jsonl >log
t_ok "each started event carries its attempt" \
    [ "$(grep -c '"event":"started","data":{"attempt":1}' log)" -eq 1 -a \
      "$(grep -c '"event":"started","data":{"attempt":2}' log)" -eq 1 ]

# a first attempt starts with an empty output folder
xt-submit -C code -- sh resume.sh >/dev/null
mkdir -p "$XT_HOME/work/ws1/run2/output"
echo "stale" >"$XT_HOME/work/ws1/run2/output/ckpt"
t_run xt-runq -q
t_status 1 "a first attempt finds no stale checkpoint"
t_ok "and fails" [ "$(rec run2 status)" = failed ]
t_done
