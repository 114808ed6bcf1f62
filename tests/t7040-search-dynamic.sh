#!/bin/sh
# Dynamic search jobs: xt-submit --search makes runs that get their
# hparams when they start; two xt-runq processes on the same job never take
# the same point; a job with a prune policy has its losing runs stopped
# (SIGTERM, status pruned) while they run.
. "$(dirname "$0")/lib.sh"

mkdir code
cat >code/train.sh <<'EOS'
# --x=N: acc is N/4 at every step; a better run logs faster
x=${1#--x=}
steps=${STEPS:-1}
i=1
while [ $i -le "$steps" ]; do
	echo "{\"event\":\"metrics\",\"step\":$i,\"data\":{\"acc\":$(awk "BEGIN{print $x/4}")}}" >>"$XT_LOG"
	[ "$steps" -gt 1 ] && sleep "$(awk "BEGIN{print 0.06*(5-$x)}")"
	i=$((i + 1))
done
echo "done x=$x"
EOS
cat >space.yaml <<'EOF'
hyperparameter-distributions:
  x: [1, 2, 3, 4, 5, 6, 7, 8]
EOF

t_run xt-submit -C code -e dyn --search grid --space space.yaml --search-opt metric=acc --runs 8 -- sh train.sh
t_status 0 "submit a dynamic grid job of 8 runs"
t_ok "its runs have no hparams yet" test "$(rec run1.3 hparams)" = "{}"
xt-runq -j 3 >q1.out 2>&1 &
p1=$!
xt-runq -j 3 >q2.out 2>&1 &
p2=$!
wait $p1
s1=$?
wait $p2
s2=$?
t_ok "two xt-runq processes drain the job" test $s1 -eq 0 -a $s2 -eq 0
k=1
: >xs
while [ $k -le 8 ]; do
	[ "$(rec run1.$k status)" = completed ] || break
	rec run1.$k hparams.x >>xs
	k=$((k + 1))
done
t_ok "every run completed" test $k -eq 9
t_ok "each took its own point of the grid" test "$(sort -n xs | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 "
t_ok "the run's command has its hparam" test "$(rec run1.2 cmd)" = "sh train.sh --x=$(rec run1.2 hparams.x)"
t_ok "the console shows the run got it" grep -q "done x=$(rec run1.5 hparams.x)" \
    "$XT_STORE/ws/ws1/runs/run1.5/output.txt"
t_ok "one claim per run in the job's search slots" \
    test "$(ls "$XT_STORE/ws/ws1/jobs/job1/search" | wc -l)" -eq 8

# Early stopping: bandit with slack 0.3 against the best (x=4, acc 1): x=1 and
# x=2 are stopped, x=3 (0.75) is within the slack.
printf 'hyperparameter-distributions:\n  x: [1, 2, 3, 4]\n' >space4.yaml
export STEPS=40
t_run xt-submit -C code -e dyn --search grid --space space4.yaml --prune bandit \
    --search-opt metric=acc --search-opt slack-amount=0.3 --search-opt delay-evaluation=2 \
    --runs 4 -- sh train.sh
t_status 0 "submit a dynamic job with a bandit policy"
t_run xt-runq -j 4
t_status 0 "xt-runq runs it"
: >st
for k in 1 2 3 4; do echo "$(rec run2.$k hparams.x) $(rec run2.$k status)" >>st; done
sort -n st >got
cat >want <<'EOF'
1 pruned
2 pruned
3 completed
4 completed
EOF
t_ok "the losing runs were pruned, the others completed" cmp -s want got
[ -s got ] && sed 's/^/# /' got
p=$(for k in 1 2 3 4; do [ "$(rec run2.$k hparams.x)" = 1 ] && echo run2.$k; done)
t_ok "the pruned run's log has the pruned event" test "$(events "$p" | grep -c '^pruned$')" -eq 1
n=$(events "$p" | grep -c '^metrics$')
t_ok "and it was stopped before its 40 steps ($n)" test "$n" -ge 1 -a "$n" -lt 40
t_ok "the parent completed" test "$(rec run2 status)" = completed
unset STEPS

t_run xt-submit -C code --search tpe --search-opt metric=acc -- sh train.sh
t_status 2 "--search without --space"
t_err_has "--search ALGO and --space FILE go together" "says so"
echo '{"x":1}' >hp
t_run xt-submit -C code --search tpe --space space.yaml --hp hp --search-opt metric=acc -- sh train.sh
t_status 2 "--search with --hp"
t_run xt-submit -C code --search tpe --space space.yaml -- sh train.sh
t_status 2 "no metric"
t_err_has "needs a metric" "asks for one"
printf 'hyperparameter-distributions:\n  x: $uniform(1)\n' >bad.yaml
t_run xt-submit -C code --search tpe --space bad.yaml --search-opt metric=acc -- sh train.sh
t_status 2 "a bad space file"
t_err_has "bad.yaml:2: hparam 'x': bad spec '\$uniform(1)'" "names FILE:LINE"
t_run xt-submit -C code --prune sometimes --search-opt metric=acc -- sh train.sh
t_status 2 "an unknown policy"
t_run xt-submit -C code --prune median --search-opt metric=acc --search-opt delay=3 -- sh train.sh
t_status 2 "an unknown search option"
t_err_has "unknown name 'delay'" "names it"
for bad in min-resource=0 min-runs=0 truncation-percentage=101 evaluation-interval=0 \
    reduction-factor=1; do
	t_run xt-submit -C code --prune asha --search-opt metric=acc --search-opt "$bad" -- sh train.sh
	t_status 2 "--search-opt $bad"
	t_err_has "${bad%%=*} must be" "says which limit"
done
for bad in min-resource=2.5 delay-evaluation=1.5 seed=0.5; do
	t_run xt-submit -C code --prune asha --search-opt metric=acc --search-opt "$bad" -- sh train.sh
	t_status 2 "--search-opt $bad"
	t_err_has "${bad%%=*} '${bad#*=}' is not a whole number" "says it must be whole"
done
t_ok "nothing more was stored" test ! -e "$XT_STORE/ws/ws1/jobs/job3"

# grid and random need no metric; a grid without --runs has a run per
# point; --runs past the grid or a finite space is refused at once
printf 'hyperparameter-distributions:\n  x: [1, 2, 3]\n  y: $uniform(0, 1)\n' >space3.yaml
printf 'hyperparameter-distributions:\n  x: [1, 2]\n  z: $randint(0, 2)\n' >space22.yaml
t_run xt-submit -C code --search bogus --space space3.yaml -- sh train.sh
t_status 2 "an unknown algorithm"
t_err_has "xt-submit: option '--search': unknown algorithm 'bogus'" "is named, before any metric is asked for"
t_run xt-submit -C code --space space3.yaml -- sh train.sh
t_status 2 "--space without --search"
t_err_has "xt-submit: --search ALGO and --space FILE go together" "says so"
t_run xt-submit -C code --search grid --space space3.yaml --runs 4 -- sh train.sh
t_status 2 "--runs past the grid's points"
t_err_has "xt-submit: --runs 4: the grid of 'space3.yaml' has only 3 points" "says how many it has"
t_run xt-submit -C code --search random --space space22.yaml --runs 5 -- sh train.sh
t_status 2 "--runs past a finite space's configurations"
t_err_has "xt-submit: --runs 5: the space 'space22.yaml' has only 4 configurations" "says how many it has"
t_run xt-submit -C code --search tpe --space space22.yaml --runs 5 -- sh train.sh
t_status 2 "the same for tpe"
t_run xt-submit -C code --search random --space space3.yaml --runs 5 --dry-run -- sh train.sh
t_status 0 "a space with a continuum has no end"
t_ok "nothing more was stored" test ! -e "$XT_STORE/ws/ws1/jobs/job3"
t_run xt-submit -C code --search grid --space space3.yaml -- sh train.sh
t_status 0 "a grid job without --runs and without a metric"
t_ok "has one run per point" test "$(wc -l <"$T/out")" -eq 3
t_run xt-submit -C code --search random --space space22.yaml --runs 4 -- sh train.sh
t_status 0 "a random job as large as its space, without a metric"
t_run xt-runq -j 2
t_status 0 "they run"
# xs PARENT N: the sorted x of its N children, each completed
xs() {
	k=1
	while [ $k -le "$2" ]; do
		[ "$(rec "$1.$k" status)" = completed ] || { echo "$1.$k: $(rec "$1.$k" status)"; return; }
		echo "$(rec "$1.$k" hparams.x) $(rec "$1.$k" hparams.z)"
		k=$((k + 1))
	done | sort | tr '\n' ' '
}
t_ok "the grid's runs took each point once" test "$(xs run3 3)" = "1  2  3  "
t_ok "the random runs each configuration once" test "$(xs run4 4)" = "1 0 1 1 2 0 2 1 "
t_done
