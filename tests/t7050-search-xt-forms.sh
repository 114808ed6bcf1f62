#!/bin/sh
# xt-search and the forms XT writes (issue 16): a list whose one value is a
# $distribution ("[$linspace(.1,.9,5)]"), on the command line and in YAML;
# grid -n N as XT's max-runs; quoted YAML strings as the man page says.
. "$(dirname "$0")/lib.sh"

cat >want <<'EOF'
{"lr":0.1}
{"lr":0.3}
{"lr":0.5}
{"lr":0.7}
{"lr":0.9}
EOF
t_run xt-search grid 'lr=[$linspace(.1,.9,5)]'
t_status 0 "[\$linspace(...)] as an operand"
t_out_is want "the 5 values, not the pieces of the text between commas"
t_err_empty "nothing on stderr"

printf 'hyperparameter-distributions:\n  lr: [$linspace(.1, .9, 5)]\n' >flow.yaml
t_run xt-search grid -f flow.yaml
t_status 0 "[\$linspace(...)] in YAML, which splits a flow list at its commas"
t_out_is want "the same 5 values"

printf 'hyperparameter-distributions:\n  lr:\n    - $linspace(.1, .9, 5)\n' >block.yaml
t_run xt-search grid -f block.yaml
t_status 0 "a YAML block list of one \$linspace"
t_out_is want "the same 5 values"

t_run xt-search random -n 20 --seed 3 'seed=[$randint(4)]'
t_status 0 "[\$randint(4)] as XT writes --seed=[\$randint()]"
t_ok "whole numbers from 0 to 3" test "$(grep -c '^{"seed":[0-3]}$' "$T/out")" -eq 20

t_run xt-search grid 'lr=[0.5, $linspace(.1,.9,5)]'
t_status 2 "a \$distribution beside other values"
t_err_has "argument 'lr=[0.5, \$linspace(.1,.9,5)]': hparam 'lr': bad spec '[0.5, \$linspace(.1,.9,5)]': '\$linspace(.1,.9,5)' must be alone in '[...]', or be quoted to be a string" \
    "names the operand and the value"
printf 'hyperparameter-distributions:\n  lr:\n    - 0.5\n    - $linspace(.1, .9, 5)\n' >two.yaml
t_run xt-search grid -f two.yaml
t_status 2 "the same in a YAML block list"
t_err_has "two.yaml:4: hparam 'lr': '\$linspace(.1, .9, 5)' must be alone in the list" "names FILE:LINE"

t_run xt-search grid 'lr=[0.5, "$linspace(.1,.9,5)"]'
t_status 0 "a quoted \$ value is a string"
printf '{"lr":0.5}\n{"lr":"$linspace(.1,.9,5)"}\n' >want2
t_out_is want2 "two values, the second a string"

t_run xt-search grid --seed 5 'a=$linspace(1,12,12)' 'b=[x,y,z]' 'c=[1,2,3,4,5,6,7,8,9,10]' 'u=$uniform(0,1)'
t_status 0 "a grid of 360 points"
head -n 10 "$T/out" >first10
t_run xt-search grid -n 10 --seed 5 'a=$linspace(1,12,12)' 'b=[x,y,z]' 'c=[1,2,3,4,5,6,7,8,9,10]' 'u=$uniform(0,1)'
t_status 0 "grid -n 10"
t_out_is first10 "the first 10 points in grid order, sampled values included"
t_err_has "xt-search: the grid has 360 points; -n 10 takes the first 10" "says it is capped"
t_run xt-search grid -n 6 'a=[1,2]' 'b=[x,y,z]'
t_status 0 "grid -n the grid's size"
t_ok "all 6 points" test "$(wc -l <"$T/out")" -eq 6
t_err_empty "nothing capped, nothing said"
t_run xt-search grid -n 50 'a=[1,2]'
t_ok "-n above the grid's size: the grid once" test "$(wc -l <"$T/out")" -eq 2
t_run xt-search grid -n -1 'a=[1,2]'
t_status 2 "grid -n -1"
t_err_has "option '-n': '-1' is not a whole number" "names the option"

cat >quoted.yaml <<'EOF'
hyperparameter-distributions:
  opt: "adam"
  n: "10"
  flag: 'true'
  pair: '[1, 2]'
  lr: "$linspace(0, 1, 3)"
  home: ["$HOME"]
EOF
cat >want <<'EOF'
{"opt":"adam","n":"10","flag":"true","pair":"[1, 2]","lr":0,"home":"$HOME"}
{"opt":"adam","n":"10","flag":"true","pair":"[1, 2]","lr":0.5,"home":"$HOME"}
{"opt":"adam","n":"10","flag":"true","pair":"[1, 2]","lr":1,"home":"$HOME"}
EOF
t_run xt-search grid -f quoted.yaml
t_status 0 "quoted YAML strings"
t_out_is want "fixed strings, even \"10\", 'true' and '[1, 2]'; a quoted \$linspace a distribution"
t_ok "xt-search(1) says so: a quoted string is fixed unless it starts with \$" \
    grep -q '^unless it starts with$' "$XT_BIN/../../man/xt-search.1"
printf 'hyperparameter-distributions:\n  home: "$HOME"\n' >home.yaml
t_run xt-search grid -f home.yaml
t_status 2 "a quoted string that starts with \$ is read as a distribution, as XT reads it"
t_err_has "home.yaml:2: hparam 'home': bad spec '\$HOME': unknown distribution '\$HOME'" "names FILE:LINE"

t_done
