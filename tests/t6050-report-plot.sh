#!/bin/sh
# xt-report plot: log axes (--xlog, --ylog, and by default against an
# hparam a job's space samples log-uniformly), --x time from each run's
# start, y labels, short legend numbers and legend formats, a template's
# unknown field, the title of smoothed curves, and terminal colours when
# stdout is a colour terminal.
tdir=$(cd "$(dirname "$0")" && pwd)
D=$tdir/data/t6020
. "$tdir/lib.sh"
. "$tdir/svg.sh"

# tty_run CMD...: CMD with a terminal as its stdout and stderr (both in $T/out)
tty_run() {
	python3 -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        b = os.read(fd, 65536)
    except OSError:
        break
    if not b:
        break
    out += b
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))' "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
esc=$(printf '\033')

mkdir code
cp "$D/train.sh" code/
printf '{"lr":0.012345678901234567,"opt":"sgd"}\n{"lr":0.001,"opt":"adam"}\n{"lr":0.1,"opt":"adam"}\n' >hp.jsonl
xt-submit -e sweep -C code --hp hp.jsonl -- sh train.sh >/dev/null &&
xt-runq 2>/dev/null
t_ok "a sweep of 3 runs (and their parent)" test "$(xt-report --parents -c status --csv | grep -c completed)" -eq 4

# log axes
t_run xt-report plot acc --vs hparams.lr -o lin.svg
t_status 0 "a scatter against lr, of a sweep with no space"
t_ok "has a linear x axis" test "$(svg_ticks lin.svg x)" = "0.00 0.01 0.02 0.03 0.04 0.05 0.06 0.07 0.08 0.09 0.10"
t_run xt-report plot acc --vs hparams.lr --xlog -o xlog.svg
t_status 0 "--xlog"
t_ok "ticks the x axis at 1, 2 and 5 times powers of ten" test "$(svg_ticks xlog.svg x)" = "0.001 0.002 0.005 0.01 0.02 0.05 0.1"
t_run xt-report plot loss --ylog --sort run -o ylog.svg
t_status 0 "--ylog"
t_ok "and the y axis" test "$(svg_ticks ylog.svg y)" = "0.1 0.2 0.5 1"
t_ok "and draws each run" test "$(grep -c 'class="line"' ylog.svg)" -eq 3
t_run xt-report plot loss --ylog --xlog --term --ascii --size 60x16
t_status 0 "log axes on the terminal"
t_ok "its y ticks are 1, 2 and 5 times powers of ten" test "$(grep -c '^ *0\.1+\|^ *0\.2+\|^ *0\.5+\|^ *1+' "$T/out")" -eq 4
cat >space.yaml <<'EOS'
hyperparameter-distributions:
  lr: $loguniform(0.0001, 0.1)
  opt: [sgd, adam]
EOS
xt-submit -w ws2 -e search -C code --search random --space space.yaml --runs 4 -- sh train.sh >/dev/null &&
xt-runq -w ws2 2>/dev/null
t_run xt-report plot acc -w ws2 --vs hparams.lr -o space.svg
t_status 0 "a scatter against lr of a search that samples it log-uniformly"
t_ok "has a log x axis by default" test "$(svg_ticks space.svg x)" = "0.0002 0.0005 0.001 0.002 0.005 0.01 0.02"
t_run xt-report plot acc -w ws2 --vs hparams.lr --no-xlog -o space.svg
t_status 0 "--no-xlog"
t_ok "draws it linear" test "$(svg_ticks space.svg x)" = "0.000 0.002 0.004 0.006 0.008 0.010 0.012 0.014"
t_run xt-report plot acc -w ws2 --vs hparams.lr -o space.svg --sort run - <"$XT_STORE/ws/ws2/index/runs.jsonl"
t_status 0 "the same runs read from stdin"
t_ok "read their job from the store: a log x axis too" test "$(svg_ticks space.svg x)" = "0.0002 0.0005 0.001 0.002 0.005 0.01 0.02"

# --x time: from the run's "started" event, not its creation
log=$XT_STORE/ws/ws1/runs/run1.1/log.jsonl
sed 's/"time":"[^"]*"/"time":"2026-01-01T00:00:00.000Z"/; /"event":"started"/s/"time":"[^"]*"/"time":"2026-01-01T00:01:40.000Z"/' "$log" >log.tmp
awk '/"event":"metrics"/ { n++; sub(/"time":"[^"]*"/, sprintf("\"time\":\"2026-01-01T00:01:%02d.000Z\"", 40 + n)) } { print }' log.tmp >"$log"
t_run xt-report plot acc run1.1 --x time -o time.svg
t_status 0 "--x time"
t_ok "counts from the run's start: 1 to 8 s, 100 s after it was created" test "$(svg_ticks time.svg x)" = "1 2 3 4 5 6 7 8"

# labels
t_run xt-report plot acc loss --sort run -o two.svg
t_status 0 "two metrics"
t_ok "each panel's y axis is labelled with its metric" test "$(svg_text two.svg ylabel)" = "acc|loss"
t_ok "its legend is the runs" test "$(svg_text two.svg legend)" = "run1.1|run1.2|run1.3|run1.1|run1.2|run1.3"
t_run xt-report plot acc --legend 'lr={hparams.lr}' --sort run -o short.svg
t_status 0 "a legend of lr"
t_ok "shows short numbers" test "$(svg_text short.svg legend)" = "lr=0.0123|lr=0.001|lr=0.1"
t_run xt-report plot acc --legend '{run} {hparams.lr:.2e} {hparams.opt:.1f}' --sort run -o fmt.svg
t_status 0 "a legend with number formats"
t_ok "formats numbers and leaves text" test "$(svg_text fmt.svg legend)" = "run1.1 1.23e-02 sgd|run1.2 1.00e-03 adam|run1.3 1.00e-01 adam"
# a legend too wide for the right of a small figure goes under the plot, whole
t_run xt-report plot acc loss --legend '{run} lr={hparams.lr} opt={hparams.opt} (first)' --size 700x300 --sort run -o under.svg
t_status 0 "a long legend in a small figure"
t_ok "its labels are whole" test "$(svg_text under.svg legend | cut -d'|' -f1-3)" = "run1.1 lr=0.0123 opt=sgd (first)|run1.2 lr=0.001 opt=adam (first)|run1.3 lr=0.1 opt=adam (first)"
t_ok "under the plot" test "$(legend_place under.svg)" = under
t_ok "a short one stays at the right" test "$(legend_place short.svg)" = right
t_run xt-report plot acc --break-on hparams.lr --sort run -o brk.svg
t_status 0 "broken on lr"
t_ok "the panels' titles show short numbers" test "$(svg_text brk.svg title)" = "hparams.lr=0.0123|hparams.lr=0.001|hparams.lr=0.1"
printf '{"lr":0.012341,"opt":"sgd"}\n{"lr":0.012349,"opt":"sgd"}\n{"lr":0.5,"opt":"sgd"}\n' >near.jsonl
xt-submit -w ws3 -C code --hp near.jsonl -- sh train.sh >/dev/null &&
xt-runq -w ws3 2>/dev/null
t_run xt-report plot acc -w ws3 --break-on hparams.lr --sort run -o near.svg
t_status 0 "broken on lrs the same to 3 digits"
t_ok "they are panels apart, titled with their whole values" test "$(svg_text near.svg title)" = "hparams.lr=0.012341|hparams.lr=0.012349|hparams.lr=0.5"
t_run xt-report plot acc --legend '{run} {hparams.lrr}' -o bad.svg
t_status 2 "a legend of a field no run has: exit 2"
t_err_has "xt-report: --legend: no selected run has a field 'hparams.lrr'" "names the field"
t_ok "and draws nothing" test ! -e bad.svg
t_run xt-report plot acc --legend '{hparams.lr:.2x}' -o bad.svg
t_status 2 "a bad number format: exit 2"
t_err_has "xt-report: --legend: {hparams.lr:.2x}: a number format is" "names it"
t_run xt-report plot acc --smooth 0.6 -o smooth.svg
t_status 0 "smoothed"
t_ok "the title says so" test "$(svg_text smooth.svg figure-title)" = "acc (smoothed 0.6)"
t_run xt-report plot acc --smooth 0.6 --title 'the sweep' -o smooth.svg
t_ok "after a title given" test "$(svg_text smooth.svg figure-title)" = "the sweep (smoothed 0.6)"
t_run xt-report plot acc --vs hparams.lr --x time -o bad.svg
t_status 2 "--vs with --x time: exit 2"

# terminal colours: on a colour terminal only
t_run xt-report plot acc --term
t_ok "not on a pipe" test "$(grep -c "$esc" "$T/out")" -eq 0
TERM=xterm tty_run xt-report plot acc --term
t_status 0 "on a terminal"
t_ok "in colour" grep -q "$esc\\[3[0-9]m" "$T/out"
TERM=xterm NO_COLOR=1 tty_run xt-report plot acc --term
t_ok "not with NO_COLOR" test "$(grep -c "$esc" "$T/out")" -eq 0
TERM=dumb tty_run xt-report plot acc --term
t_ok "not on a dumb terminal" test "$(grep -c "$esc" "$T/out")" -eq 0
TERM=xterm NO_COLOR=1 tty_run xt-report plot acc --term --color
t_ok "--color wins over NO_COLOR" grep -q "$esc\\[3[0-9]m" "$T/out"
TERM=xterm tty_run xt-report plot acc --term --no-color
t_status 0 "--no-color"
t_ok "draws without colour" test "$(grep -c "$esc" "$T/out")" -eq 0
t_done
