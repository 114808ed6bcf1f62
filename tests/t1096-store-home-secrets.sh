#!/bin/sh
# Smaller hardening: with neither HOME nor XT_HOME the default store is
# refused (never /tmp/.xt), while a given store still works; a config file
# holding a credential anywhere must be private; no message shows a SAS
# signature, an account key or a URL's password.
. "$(dirname "$0")/lib.sh"

: >empty
echo x >f

t_run env -u HOME -u XT_HOME -u XT_STORE xt-get -l
t_status 1 "no HOME, no XT_HOME, no store: refused"
t_out_is empty "listing nothing"
t_err_has "no store: set XT_STORE (or store in xt.yaml), or XT_HOME for the default store" \
    "saying what to set"
t_err_has "neither XT_HOME nor HOME is set" "and why"

t_run env -u HOME -u XT_HOME -u XT_STORE xt-put f :a
t_status 1 "xt-put is refused the same way"
t_err_has "neither XT_HOME nor HOME is set" "saying why"

# a run's environment: the store is given (XT_STORE), no home needed
t_run env -u HOME -u XT_HOME xt-put f :a
t_status 0 "with XT_STORE and no home, xt-put works"
t_run env -u HOME -u XT_HOME xt-get -c a
t_status 0 "and xt-get"
t_out_is f "reading what was put"
t_run env -u HOME -u XT_HOME xt-put -u f :a
t_status 1 "xt-put -u needs xt's hash cache, in XT_HOME"
t_err_has "neither XT_HOME nor HOME is set: set XT_HOME" "and says so"

# credentials at any depth, in any case, make a readable config file an error
printf 'targets:\n  remote:\n    opts: [{Api_Token: abc}]\n' >xt.yaml
chmod 644 xt.yaml
t_run xt-get -l
t_status 1 "a token deep in a readable xt.yaml"
t_err_has "./xt.yaml:3:13: holds a credential ('targets.remote.opts.Api_Token') but can be read by others; chmod 600 ./xt.yaml" \
    "is refused, naming where it is and saying what to do"
chmod 600 xt.yaml
t_run xt-get -c a
t_status 0 "the same file, private, is fine"

printf "store: 'az://acct/cont?sv=2020&sig=S3CR3Tsig'\n" >xt.yaml
chmod 644 xt.yaml
t_run env -u XT_STORE xt-get -l
t_status 1 "a SAS in a value of a readable xt.yaml"
t_err_has "./xt.yaml:1:8: holds a credential (in the value of 'store')" "is refused too"
t_ok "without showing it" sh -c '! grep -q S3CR3T "$1"' sh "$T/err"
chmod 600 xt.yaml
t_run env -u XT_STORE xt-get -l
t_status 1 "an Azure store URL with a SAS"
t_err_has "store URL 'az://acct/cont?sv=2020&sig=REDACTED'" "names the URL"
t_ok "without its signature" sh -c '! grep -q S3CR3T "$1"' sh "$T/err"
rm xt.yaml

t_run xt-get -s 'nosuch://u:PaSsWoRd@h/x;AccountKey=K3Y==' -l
t_status 1 "a bad store URL with a password and a key"
t_err_has "malformed store URL 'nosuch://u:REDACTED@h/x;AccountKey=REDACTED'" "names it"
t_ok "without either" sh -c '! grep -q "PaSsWoRd\|K3Y" "$1"' sh "$T/err"

t_run xt-get -c 'http://127.0.0.1:1/f.txt?sv=2020&sig=S3CR3Tsig'
t_status 1 "a download that fails"
t_err_has "http://127.0.0.1:1/f.txt?sv=2020&sig=REDACTED" "names the URL"
t_ok "without its signature" sh -c '! grep -q S3CR3T "$1"' sh "$T/err"
t_done
