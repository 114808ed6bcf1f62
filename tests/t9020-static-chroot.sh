#!/bin/sh
# The static tools work in an empty root that holds only themselves, a
# temporary folder and /etc/hosts: a folder store round trip, and a run
# submitted, run and logged (and reported, when xt-report is built).
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/static.sh"

mkroot
t_ok "the root holds only bin, etc/hosts and tmp" \
    test "$(cd "$R" && find . -mindepth 1 -not -path './bin/*' | sort | tr '\n' ' ')" = \
    "./bin ./etc ./etc/hosts ./tmp ./tmp/home "

# store round trip
mkdir -p "$R/tmp/data/sub dir"
printf 'one\n' >"$R/tmp/data/a.txt"
printf 'two\n' >"$R/tmp/data/sub dir/b.txt"
head -c 3000000 /dev/urandom >"$R/tmp/data/big.bin"
in_root xt-put /tmp/data @d
t_status 0 "xt-put a tree in the root"
t_ok "three files uploaded" test "$(grep -c '"action":"uploaded"' "$T/out")" -eq 3
in_root xt-get @d /tmp/back
t_status 0 "xt-get it back"
t_ok "the tree comes back byte for byte" diff -r "$R/tmp/data" "$R/tmp/back"
in_root xt-get -l -r @d
t_status 0 "xt-get -l -r lists it"
t_ok "three objects listed" test "$(grep -c '"size"' "$T/out")" -eq 3
in_root xt-get -c @d/data/nothing
t_status 1 "a missing object fails"
t_err_has "nothing" "and names the object"

# submit, run, log: the run's command is xt-log itself, the only program here
mkdir -p "$R/tmp/code"
echo 'x' >"$R/tmp/code/train.txt"
in_root xt-submit -C /tmp/code -e chroot -- xt-log metric --step 1 acc=0.75 loss=0.5
t_status 0 "xt-submit a run"
t_ok "run1 queued" grep -q '"run":"run1"' "$T/out"
in_root xt-runq -j 1
t_status 0 "xt-runq runs it"
in_root xt-get -c run1/run.json
t_status 0 "the record can be read"
t_ok "the run completed" grep -q '"status":"completed"' "$T/out"
t_ok "with its last metrics" grep -q '"acc":0.75' "$T/out"
in_root xt-log show run1 -e metrics
t_status 0 "xt-log show"
t_ok "the metric line is in the log" grep -q '"step":1,"data":{"acc":0.75,"loss":0.5}' "$T/out"
in_root xt-log -r run1 metric --step 2 acc=0.8
t_status 0 "xt-log -r from outside the run"
in_root xt-log show run1 -e metrics
t_ok "two metric lines now" test "$(grep -c '"event":"metrics"' "$T/out")" -eq 2

# a failing command fails its run, and the tools say so
in_root xt-submit -C /tmp/code --no-check -- no-such-program
t_status 0 "submit a run of a missing program"
in_root xt-runq -j 1
in_root xt-get -c run2/run.json
t_ok "that run failed" grep -q '"status":"failed"' "$T/out"

if [ -x "$XT_BIN/xt-report" ]; then
	in_root xt-report show run1
	t_status 0 "xt-report show in the root"
	t_ok "it shows run1's metric" grep -q '0\.75' "$T/out"
fi
t_done
