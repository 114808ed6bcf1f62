#!/bin/sh
# Bad input: a clear message, exit 1 (2 for usage), and the store unchanged.
. "$(dirname "$0")/lib.sh"

mkdir src
echo keep >src/keep
xt-put src :t >/dev/null
snapshot() { (cd "$XT_STORE" && find . -path ./.tmp -prune -o -type f -print | sort | xargs sha256sum) >"$1"; }
snapshot before

t_run xt-put "$T/missing" :t/x
t_status 1 "a missing file"
t_err_has "cannot stat '$T/missing'" "names the file"

echo secret >src/locked
if [ "$(id -u)" -eq 0 ]; then
	# root reads anything: run as nobody, with the store open to nobody
	chmod -R a+rwX "$T"
	chmod 000 src/locked
	t_run setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/home" xt-put src :t
else
	chmod 000 src/locked
	t_run xt-put src :t
fi
t_status 1 "an unreadable file in a tree"
t_err_has "cannot read 'src/locked': Permission denied" "names the unreadable file"
t_err_has "nothing was put" "says nothing was put"
rm -f src/locked

t_run xt-put src/keep ../x
t_status 2 "a store path with .."
t_err_has "contains '..'" "says why"
t_run xt-put src/keep /etc/x
t_status 2 "an absolute store path"
t_err_has "is absolute" "says why"
t_run xt-get -c :a/../b
t_status 2 "xt-get refuses .. too"

t_run xt-put -s 'nosuch://x' src/keep :x
t_status 1 "a malformed store URL"
t_err_has "malformed store URL 'nosuch://x'" "names the URL"
t_run xt-put -s 'file://relative' src/keep :x
t_status 1 "a file URL that is not absolute"

printf 'store: %s\n- item\n' "$XT_STORE" >xt.yaml
t_run xt-put src/keep :x
t_status 1 "a malformed ./xt.yaml"
t_err_has "xt.yaml:2:1: did not find expected key" "the message gives file:line:column"
printf 'store: %s\nstore: other\n' "$XT_STORE" >xt.yaml
t_run xt-get -l
t_status 1 "a duplicate key in ./xt.yaml"
t_err_has "xt.yaml:2:1: duplicate key 'store'" "names the key and its place"
rm xt.yaml

t_run xt-put --bogus src/keep :x
t_status 2 "an unknown option"
t_err_has "usage: xt-put" "prints the usage"
t_run xt-get --bogus
t_status 2 "an unknown option to xt-get"
t_run xt-put src/keep
t_status 2 "a missing destination"
t_run xt-put -w 'bad/ws' src/keep run1/x
t_status 2 "a bad workspace name"
t_err_has "workspace 'bad/ws'" "names the workspace"

t_run xt-get nothing/here
t_status 1 "getting a missing object"
t_err_has "'nothing/here': no such object or folder" "says so"

snapshot after
t_ok "the store is exactly as it was" cmp -s before after
t_done
