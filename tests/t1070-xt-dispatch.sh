#!/bin/sh
# xt dispatches to xt-TOOL; xt help lists the tools.
. "$(dirname "$0")/lib.sh"

echo hi >f
t_run xt put f :f
t_status 0 "xt put runs xt-put"
t_ok "with its output" grep -q '"action":"uploaded"' "$T/out"
t_run xt get -c :f
printf 'hi\n' >want
t_out_is want "xt get runs xt-get"
t_run xt help
t_status 0 "xt help"
t_ok "lists put and get" grep -q '^  put ' "$T/out"
t_ok "lists report" grep -q '^  report ' "$T/out"
t_run xt nosuchtool
t_status 127 "an unknown tool exits 127"
t_err_has "no command 'nosuchtool'" "and says so"
t_run xt
t_status 2 "no command is a usage error"
t_run xt get --bogus
t_status 2 "the tool's own status is passed on"
t_done
