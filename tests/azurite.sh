# Sourced by the Azure tests after lib.sh: sets acct, key and ep (the
# endpoint of the suite's Azurite, $XT_TEST_AZURE_ENDPOINT, or of one
# started here and stopped by its PID at the end, its PID in $apid), or
# skips the whole test when Azurite cannot run here, saying why. With
# az_optional set (tests/stores.sh), a test that also has other cases is
# not skipped: ep stays empty and $az_why says why. With az_location set,
# an Azurite started here keeps its data in that folder (a test that
# restarts it, t1240).
#
#   az_rest VERB PATH [TEXT]  one REST request to Azurite (PATH:
#                      CONTAINER/BLOB?QUERY, percent-encoded) under an account
#                      SAS of the emulator's key: prints the HTTP status, then
#                      the body. With TEXT, the request is made again (for up
#                      to 60 s) until the body has TEXT; exit 1 if never
# R: the top of the tree (set by the test before lib.sh)
acct=devstoreaccount1
# the emulator's published key (Azurite's documentation), not a secret
key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
ep=${XT_TEST_AZURE_ENDPOINT:-}
apid=""
az_why=""
# the suite's Azurite, in memory, can stop answering for many minutes
# after a pass's big containers are deleted (it spins at 100% CPU): a test
# that finds it so starts its own, and says so
az_alive() {
	python3 -c 'import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "?comp=list", timeout=10)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)' "$1"
}
if [ -n "$ep" ] && ! az_alive "$ep"; then
	echo "# INFO the suite's Azurite ($ep) does not answer in 10 s: this test starts its own"
	ep=""
fi
if [ -z "$ep" ]; then
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		az_why="node and npm are needed to run Azurite"
	elif ! "$R/scripts/azurite-up.sh" install >/dev/null 2>"$T/install.err"; then
		az_why="Azurite cannot be installed here (npm): $(tail -n 1 "$T/install.err")"
	fi
	if [ -n "$az_why" ] && [ -z "${az_optional:-}" ]; then
		echo "1..0 # SKIP $az_why"
		exit 0
	fi
fi
if [ -z "$ep" ] && [ -z "$az_why" ]; then
	stop_azurite() { "$R/scripts/azurite-up.sh" stop "$T/azurite"; }
	t_cleanup_hooks="stop_azurite ${t_cleanup_hooks:-}"
	t_run "$R/scripts/azurite-up.sh" start "$T/azurite" ${az_location:+"$az_location"}
	t_status 0 "scripts/azurite-up.sh starts Azurite"
	ep=$(cat "$T/out")
	apid=$(cat "$T/azurite/azurite.pid")
	t_ok "it runs, its PID in azurite.pid" kill -0 "$apid"
fi
# the suite's Azurite keeps what every test gives it, in memory: the
# containers a test made stay (deleting big ones made it spin for
# minutes), and tests/run.sh starts it again once it holds too much

az_rest() {
	python3 - "$key" "$ep" "$1" "$2" "${3:-}" <<'PY'
import base64, hashlib, hmac, sys, time, urllib.error, urllib.parse, urllib.request
key, ep, verb, path, until = sys.argv[1:6]
deadline = time.time() + 60
sv, sp, se = "2023-11-03", "rwdlac", "2099-01-01T00:00:00Z"
sts = "\n".join(["devstoreaccount1", sp, "b", "sco", "", se, "", "", sv, ""]) + "\n"
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
q = [("sv", sv), ("ss", "b"), ("srt", "sco"), ("sp", sp), ("se", se), ("sig", sig)]
sas = "&".join(k + "=" + urllib.parse.quote(v, safe="") for k, v in q)
url = ep + "/" + path + ("&" if "?" in path else "?") + sas
for i in range(100000 if until else 1):
    if i and time.time() > deadline:
        break
    try:
        r = urllib.request.urlopen(urllib.request.Request(url, method=verb), timeout=60)
        code, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        code, body = e.code, e.read()
    except OSError as e:
        code, body = 0, str(e).encode()
    body = body.decode("utf-8", "replace")
    if until in body:
        break
print(code)
sys.stdout.write(body)
sys.exit(0 if until in body else 1)
PY
}

# az_proxy NAME [busy=N drop=N full=N seed=N log=1]: tests/azproxy.py between
# xt and $ep (see it for the options), stopped by its PID at the end; its
# endpoint in $pep_NAME, its counts in $T/NAME.port.count, its requests
# (log=1) in $T/NAME.port.log. True once it listens.
az_proxy() {
	az_pn=$1
	shift
	python3 "$R/tests/azproxy.py" "$ep" "$T/$az_pn.port" "$@" </dev/null >"$T/$az_pn.proxy.log" 2>&1 &
	eval "pid_$az_pn=\$!"
	eval "stop_$az_pn() { kill \$pid_$az_pn 2>/dev/null; wait \$pid_$az_pn 2>/dev/null; true; }"
	t_cleanup_hooks="stop_$az_pn ${t_cleanup_hooks:-}"
	az_i=0
	while [ ! -s "$T/$az_pn.port" ] && [ $az_i -lt 200 ] && eval "kill -0 \$pid_$az_pn" 2>/dev/null; do
		sleep 0.05
		az_i=$((az_i + 1))
	done
	[ -s "$T/$az_pn.port" ] || return 1
	eval "pep_$az_pn=http://127.0.0.1:\$(cat "$T/$az_pn.port")/$acct"
}

# index_race W N IDX: W writers append N lines each to the index IDX (the
# last writer's are all states of one run, "dup"; the others' runs of their
# own; files w0 .. w(W-1)), while xt-report --compact compacts it again and
# again; checks that every writer and every compaction succeeded
index_race() {
	awk -v w="$1" -v n="$2" 'BEGIN {
		for (k = 0; k < w - 1; k++) for (i = 0; i < n; i++)
			printf "{\"ws\":\"ws1\",\"run\":\"w%dx%d\",\"status\":\"queued\"}\n", k, i > ("w" k)
		for (i = 0; i < n; i++) printf "{\"ws\":\"ws1\",\"run\":\"dup\",\"seq\":%d}\n", i > ("w" (w - 1)) }'
	race_files "$1" "$3"
}

# rev_race W S IDX TAG: as index_race, but each of the W writers saves S
# states of 10 runs of its own (TAGwKxJ), round after round, each state's
# line with its "rev" (1 to S; running, then completed with the last) as
# run_update writes them; wantTAG gets what a fold of the index ends with:
# "run status rev" of each, the last state; a pause after every 2 lines,
# so that the compactions meet many rollovers
rev_race() {
	awk -v w="$1" -v s="$2" -v tag="$4" 'BEGIN {
		for (k = 0; k < w; k++) for (r = 1; r <= s; r++) for (j = 0; j < 10; j++)
			printf "{\"ws\":\"ws1\",\"run\":\"%sw%dx%d\",\"rev\":%d,\"status\":\"%s\"}\n",
			    tag, k, j, r, r < s ? "running" : "completed" > ("w" k)
		for (k = 0; k < w; k++) for (j = 0; j < 10; j++)
			printf "%sw%dx%d\tcompleted\t%d\n", tag, k, j, s > ("want" tag) }'
	race_files "$1" "$3" 2
}

# rev_done IDX TAG RUNS: after rev_race, a report of the index IDX has every
# run of the writers at its last state, and RUNS runs in all; compacted,
# it has one line a run; no temporary copy of it is left
rev_done() {
	t_run xt-report -c run,status,rev --sort run --tsv
	t_status 0 "a report of the index that rolled over"
	grep "^$2w" "$T/out" >got
	t_ok "every run of every writer there, at its last state" cmp -s "want$2" got
	diff "want$2" got | head -n 5 | sed 's/^/#   /'
	t_ok "... and every run before them ($3 runs and a header)" \
	    [ "$(grep -c . "$T/out")" -eq $(($3 + 1)) ]
	t_run xt-report --compact -c run
	t_status 0 "xt-report --compact of it"
	t_err_empty "... without a word"
	t_run xt-get -c ":$1"
	t_ok "... compacted, though it rolled over: one line a run" [ "$(grep -c . "$T/out")" -eq "$3" ]
	t_run xt-get -l -r :.tmp/
	t_ok "no copy of the index is left behind (a replaced index's segments stay a while)" \
	    sh -c '! grep -q "log-" "$1"' sh "$T/out"
}

# race_files W IDX [E]: the writers of index_race and rev_race, appending
# the files w0 .. w(W-1) to IDX, E lines (10) then a pause, while xt-report
# --compact compacts it again and again; checks that every writer and
# every compaction succeeded
race_files() {
	ir_pids=""
	ir_w=0
	while [ $ir_w -lt "$1" ]; do
		sh -c 'awk -v e="$3" "{ print; fflush() } NR % e == 0 { system(\"sleep 0.02\") }" "w$1" |
		    xt-put -a ":$2" >/dev/null 2>"err$1"; echo $? >"st$1"' sh $ir_w "$2" "${3:-10}" &
		ir_pids="$ir_pids $!"
		ir_w=$((ir_w + 1))
	done
	ir_n=0
	while :; do
		ir_running=0
		for p in $ir_pids; do kill -0 "$p" 2>/dev/null && ir_running=1; done
		xt-report --compact -c run >/dev/null 2>"cerr$ir_n" || echo "xt-report --compact: $?" >>"cerr$ir_n"
		ir_n=$((ir_n + 1))
		[ $ir_running -eq 1 ] || break
	done
	for p in $ir_pids; do wait "$p"; done
	echo "# INFO $ir_n compactions asked while the writers appended"
	ir_k=$(awk -v w="$1" 'BEGIN { for (k = 0; k < w; k++) print k }')
	t_ok "the writers all succeed" \
	    [ "$(for k in $ir_k; do cat "st$k"; done)" = "$(for k in $ir_k; do echo 0; done)" ]
	for k in $ir_k; do cat "err$k"; done | head -n 5 | sed 's/^/#   /'
	t_ok "the compactions all succeed, without a word" [ -z "$(cat cerr*)" ]
	cat cerr* | head -n 5 | sed 's/^/#   /'
}
