#!/bin/sh
# train.sh --lr=X --opt=Y: logs acc and loss for 8 steps, deterministic
lr=${1#--lr=}
for s in 1 2 3 4 5 6 7 8; do
	awk -v s="$s" -v lr="$lr" 'BEGIN { printf "{\"event\":\"metrics\",\"step\":%d,\"data\":{\"acc\":%.4f,\"loss\":%.4f}}\n", s, 1 - 0.5 / (1 + s * lr * 10), 1 / (1 + s * lr * 10) }' >>"$XT_LOG"
done
i=1
while [ $i -le 30 ]; do echo "epoch line $i"; i=$((i + 1)); done
echo "trained with lr $lr"
