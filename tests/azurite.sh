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
#                      the body. With TEXT, the request is made again (up to
#                      100,000 times) until the body has TEXT; exit 1 if never
# R: the top of the tree (set by the test before lib.sh)
acct=devstoreaccount1
# the emulator's published key (Azurite's documentation), not a secret
key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
ep=${XT_TEST_AZURE_ENDPOINT:-}
apid=""
az_why=""
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
	t_cleanup_hooks="stop_azurite"
	t_run "$R/scripts/azurite-up.sh" start "$T/azurite" ${az_location:+"$az_location"}
	t_status 0 "scripts/azurite-up.sh starts Azurite"
	ep=$(cat "$T/out")
	apid=$(cat "$T/azurite/azurite.pid")
	t_ok "it runs, its PID in azurite.pid" kill -0 "$apid"
fi

az_rest() {
	python3 - "$key" "$ep" "$1" "$2" "${3:-}" <<'PY'
import base64, hashlib, hmac, sys, urllib.error, urllib.parse, urllib.request
key, ep, verb, path, until = sys.argv[1:6]
sv, sp, se = "2023-11-03", "rwdlac", "2099-01-01T00:00:00Z"
sts = "\n".join(["devstoreaccount1", sp, "b", "sco", "", se, "", "", sv, ""]) + "\n"
sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()).decode()
q = [("sv", sv), ("ss", "b"), ("srt", "sco"), ("sp", sp), ("se", se), ("sig", sig)]
sas = "&".join(k + "=" + urllib.parse.quote(v, safe="") for k, v in q)
url = ep + "/" + path + ("&" if "?" in path else "?") + sas
for i in range(100000 if until else 1):
    try:
        r = urllib.request.urlopen(urllib.request.Request(url, method=verb))
        code, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        code, body = e.code, e.read()
    body = body.decode("utf-8", "replace")
    if until in body:
        break
print(code)
sys.stdout.write(body)
sys.exit(0 if until in body else 1)
PY
}
