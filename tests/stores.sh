# tests/stores.sh: sourced by the tool tests that are about the store,
# after lib.sh (with R the top of the tree): their cases run once on a
# folder store and once more on az:// (Azurite, through tests/azurite.sh),
# the same cases, not a copy. When Azurite cannot run here the second
# pass is skipped, and the test says why.
#
#   t_stores FN        run FN on each store: $store is file or az, XT_STORE
#                      names it, and each case's description starts with
#                      "[az] " on the second pass. The az:// pass gets a
#                      container of its own, $az_cont, removed at the end.
#   (az_rest of tests/azurite.sh speaks to Azurite directly)
az_optional=1
. "$R/tests/azurite.sh"

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
