#!/bin/sh
# xt-search grid and random: the grid in its documented order (last hparam
# fastest), XT's hp-config YAML and command-line specs, reproducible random
# samples by seed, and bad specs named with their text and place.
. "$(dirname "$0")/lib.sh"

t_run xt-search grid 'lr=[0.1,0.01,0.001]' 'bs=[32,64]' opt=adam
t_status 0 "grid of two lists and a fixed value"
cat >want <<'EOF'
{"lr":0.1,"bs":32,"opt":"adam"}
{"lr":0.1,"bs":64,"opt":"adam"}
{"lr":0.01,"bs":32,"opt":"adam"}
{"lr":0.01,"bs":64,"opt":"adam"}
{"lr":0.001,"bs":32,"opt":"adam"}
{"lr":0.001,"bs":64,"opt":"adam"}
EOF
t_out_is want "the Cartesian product, the last hparam fastest"
t_err_empty "grid says nothing"

cat >space.yaml <<'EOF'
# an XT hp-config file
hyperparameter-distributions:
  lr: $linspace(0, 1, 3)
  opt: $choice(adam, sgd)
  epochs: 200
  seed: $randint(5)
EOF
t_run xt-search grid --seed 4 -f space.yaml
t_status 0 "grid from XT's YAML"
t_ok "3 x 2 points" test "$(wc -l <"$T/out")" -eq 6
cut -d, -f1-3 "$T/out" >got
cat >want <<'EOF'
{"lr":0,"opt":"adam","epochs":200
{"lr":0,"opt":"sgd","epochs":200
{"lr":0.5,"opt":"adam","epochs":200
{"lr":0.5,"opt":"sgd","epochs":200
{"lr":1,"opt":"adam","epochs":200
{"lr":1,"opt":"sgd","epochs":200
EOF
t_ok "linspace and choice in order, the fixed value kept" cmp -s want got
t_ok "\$randint is sampled at each point, in range" \
    test "$(grep -c '"seed":[0-4]}$' "$T/out")" -eq 6

t_run xt-search random -n 5 --seed 9 -f space.yaml 'lr=$loguniform(1e-4,1e-1)'
t_status 2 "an hparam in the file and on the command line"
t_err_has "hparam 'lr' given twice (first at space.yaml:3)" "names both places"

t_run xt-search random -n 50 --seed 9 'lr=$loguniform(1e-4,1e-1)' 'bs=[32,64]' 'm=$uniform(0.5,0.99)'
t_status 0 "random -n 50"
cp "$T/out" first
t_ok "50 lines" test "$(wc -l <first)" -eq 50
t_run xt-search random -n 50 --seed 9 'lr=$loguniform(1e-4,1e-1)' 'bs=[32,64]' 'm=$uniform(0.5,0.99)'
t_out_is first "the same seed gives the same samples"
t_run xt-search random -n 50 --seed 10 'lr=$loguniform(1e-4,1e-1)' 'bs=[32,64]' 'm=$uniform(0.5,0.99)'
t_ok "another seed gives others" test "$(cat first)" != "$(cat "$T/out")"
python3 -c '
import json, sys
for l in open("first"):
    o = json.loads(l)
    assert 1e-4 <= o["lr"] <= 0.1 and o["bs"] in (32, 64) and 0.5 <= o["m"] <= 0.99, l
' 2>err.py
t_ok "every sample in its range" test ! -s err.py
t_run xt-search random -n 0 'x=[1]'
t_status 0 "random -n 0 is an empty result"

t_run xt-search grid 'lr=$uniform(0.1)'
t_status 2 "a bad spec is a usage error"
t_err_has "argument 'lr=\$uniform(0.1)': hparam 'lr': bad spec '\$uniform(0.1)': \$uniform takes 2 numbers (low, high)" "the message names the spec"
t_run xt-search grid 'lr=$lognormal(0, 0)'
t_err_has "sigma must be above 0" "sigma checked"
t_run xt-search grid 'x=[a,b'
t_err_has "a list must end with ']'" "an open list"
printf 'hyperparameter-distributions:\n  lr: [1, 2]\n  # note\n  m: $qloguniform(1, 10)\n' >bad.yaml
t_run xt-search grid -f bad.yaml
t_status 2 "a bad spec in YAML"
t_err_has "bad.yaml:4: hparam 'm': bad spec '\$qloguniform(1, 10)': \$qloguniform takes 3 numbers (low, high, q)" "names FILE:LINE and the text"
printf 'hyperparameter-distributions:\n  lr: [1, 2\n' >bad.yaml
t_run xt-search grid -f bad.yaml
t_err_has "bad.yaml:3:1:" "bad YAML names the place"
t_run xt-search grid -f missing.yaml
t_status 2 "a missing file"
t_err_has "cannot read 'missing.yaml'" "says which"
t_run xt-search random 'x=[1]'
t_status 2 "random without -n"
t_run xt-search random -n x 'x=[1]'
t_status 2 "-n that is not a number"
t_err_has "option '-n': 'x' is not a whole number" "named"
t_run xt-search random -n 2 --seed -1 'x=[1]'
t_status 2 "a negative seed"
t_err_has "option '--seed': '-1' is not a whole number" "named"
t_run xt-search grid 'x=[]'
t_status 2 "an empty list"
t_err_has "hparam 'x': bad spec '[]': the list of values is empty" "named"
t_run xt-search grid 'x=$uniform(1,0)'
t_err_has "bad spec '\$uniform(1,0)': low must be below high" "low above high"
t_run xt-search grid '=[1]'
t_status 2 "an hparam without a name"
t_err_has "argument '=[1]': expected NAME=SPEC" "named"
t_run xt-search grid
t_status 2 "no space"
t_run xt-search shuffle 'x=[1]'
t_status 2 "an unknown command"
t_run xt-search --help
t_status 0 "--help"
t_ok "--help prints the usage" grep -q 'usage: xt-search grid' "$T/out"
t_done
