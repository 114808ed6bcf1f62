#!/bin/sh
# Every tool: --version prints "NAME VERSION" (the build's, from the file
# VERSION) on stdout and exits 0; --help ends with a newline; a usage
# error says what was wrong in one line before the usage.
top=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"

ver=$(cat "$top/VERSION")
for tool in xt xt-put xt-get xt-submit xt-runq xt-log xt-search xt-report; do
	t_run "$tool" --version
	t_status 0 "$tool --version exits 0"
	t_err_empty "$tool --version says nothing on stderr"
	t_ok "$tool --version prints '$tool $ver' (and the commit, from git)" \
		grep -Eqx "$tool $ver(\+[0-9A-Za-z.-]+)?" "$T/out"
	t_ok "$tool --version is one line" [ "$(wc -l <"$T/out")" -eq 1 ]
	t_run "$tool" --help
	t_status 0 "$tool --help exits 0"
	t_ok "$tool --help ends with a newline" [ "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" = '\n' ]
done
t_run xt get --version
t_status 0 "xt get --version runs xt-get --version"
t_ok "which names itself" grep -Eq '^xt-get ' "$T/out"

# usage_error TOOL MESSAGE ARGS...: exit 2, MESSAGE as stderr's first line, then the usage
usage_error() {
	tool=$1 msg=$2
	shift 2
	t_run "$tool" "$@"
	t_status 2 "$tool $*: a usage error"
	printf '%s: %s\n' "$tool" "$msg" >want
	head -n 1 "$T/err" >got
	t_ok "$tool $*: says '$msg' first" cmp -s want got
	t_ok "$tool $*: then the usage" grep -q "^usage: $tool" "$T/err"
}
echo x >f
usage_error xt-put "missing SOURCE and DEST"
usage_error xt-put "missing DEST" f
usage_error xt-put "-a and -d exclude each other" -a -d f
usage_error xt-put "-r goes with -d or a SOURCE" -a -r f
usage_error xt-get "missing SOURCE"
usage_error xt-get "-l and -c exclude each other" -l -c f
usage_error xt-get "-c: missing PATH" -c
usage_error xt-get "-r goes with -l or a SOURCE, not -c" -r -c f
usage_error xt-get "one SOURCE and one DEST at most: a wildcard the shell expanded? quote it" a b c
usage_error xt-log "missing command"
usage_error xt-log "show: missing RUN or JOB" show
usage_error xt-log "out: -e goes with show" out run1 -e metrics
usage_error xt-log "metric: missing NAME=VALUE" -r run1 metric
usage_error xt-report "show: missing RUN" show
usage_error xt-runq "unknown command 'nosuch'" nosuch
usage_error xt-runq "kill: missing RUN or JOB" kill
usage_error xt-search "missing command (grid, random, next, prune)"
usage_error xt-submit "missing command (after --)"
# an unknown option: getopt's line, then the usage
t_run xt-get --bogus
t_status 2 "an unknown option"
t_ok "getopt names it first" grep -q "^xt-get: unrecognized option '--bogus'" "$T/err"
t_done
