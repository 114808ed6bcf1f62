# tests/stores.sh: sourced by the tool tests that are about the store,
# after lib.sh (with R the top of the tree): their cases run once on a
# folder store and once more on az:// (Azurite, through tests/azurite.sh),
# the same cases, not a copy. When Azurite cannot run here the second
# pass is skipped, and the test says why.
#
#   t_stores FN        run FN on each store: $store is file or az, XT_STORE
#                      names it, and each case's description starts with
#                      "[az] " on the second pass. The az:// pass gets a
#                      container of its own, $azaz_cont, removed at the end.
#   az_rest VERB PATH [TEXT]  one REST request to Azurite (PATH:
#                      CONTAINER/BLOB?QUERY, percent-encoded) under an account
#                      SAS of the emulator's key: prints the HTTP status, then
#                      the body. With TEXT, the request is made again (up to
#                      100,000 times) until the body has TEXT; exit 1 if never
az_optional=1
. "$R/tests/azurite.sh"

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

t_stores() {
	_folder=$XT_STORE
	store=file
	t_tag=""
	"$1"
	if [ -z "$ep" ]; then
		echo "# SKIP the cases on az://: $az_why"
		return 0
	fi
	store=az
	t_tag="[az] "
	az_cont=$(basename "$0" .sh | cut -c1-5)-$$
	XT_STORE=az://$acct/$az_cont
	export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep"
	"$1"
	# Azurite keeps objects in memory: give back what this pass stored
	t_run az_rest DELETE "$az_cont?restype=container"
	t_ok "the pass's container is removed" [ "$(head -n 1 "$T/out")" = 202 ]
	unset AZURE_STORAGE_CONNECTION_STRING
	XT_STORE=$_folder
	store=file
	t_tag=""
}
