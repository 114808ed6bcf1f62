#!/bin/sh
# The Azure store's credentials file, $XT_HOME/azure: NAME=VALUE lines of
# AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY and
# AZURE_STORAGE_SAS_TOKEN, each taken when the environment does not set
# it; refused, as ssh refuses a key, when others can read it or it is not
# its user's; malformed lines named by file and line; no message with a
# secret in it. Azurite as in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"
unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
export XT_HOME="$T/home"
mkdir -p "$XT_HOME"
f="$XT_HOME/azure"
S=az://$acct/t1220-$$
export XT_STORE=$S
wrong=$(printf 'not the key of this account' | base64 -w0)
# no_secret WHAT: neither key in the last output
no_secret() {
	if grep -qF -e "$key" -e "$wrong" "$T/out" "$T/err"; then
		t_fail "$1: no secret in the output"
	else
		t_pass "$1: no secret in the output"
	fi
}

# the whole connection string in the file
cat >"$f" <<C
# the emulator's account
AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep

C
chmod 600 "$f"
echo hello >hello
t_run xt-put hello :hello
t_status 0 "a connection string from \$XT_HOME/azure (mode 0600): a put"
t_run xt-get -c :hello
t_out_is hello "... and a get"

# others may not read it
chmod 644 "$f"
t_run xt-get -c :hello
t_status 1 "a credentials file others can read (0644) is refused"
t_err_has "xt-get: store '$S': '$f' holds Azure credentials but others can read it (mode 0644): chmod 600 '$f'" \
    "... naming the file and its mode"
no_secret "0644"
chmod 640 "$f"
t_run xt-get -c :hello
t_status 1 "... so is one its group can read (0640)"
t_err_has "(mode 0640): chmod 600" "... saying so"
chmod 604 "$f"
t_run xt-get -c :hello
t_status 1 "... and one others can read but not its group (0604)"
chmod 620 "$f"
t_run xt-get -c :hello
t_status 1 "... and one its group can write (0620)"
t_err_has "(mode 0620)" "... saying so"
chmod 400 "$f"
t_run xt-get -c :hello
t_status 0 "a file only its owner can read (0400) is taken"

# the environment wins, variable by variable
printf 'AZURE_STORAGE_CONNECTION_STRING=AccountName=%s;AccountKey=%s;BlobEndpoint=%s\n' "$acct" "$wrong" "$ep" >"$f.new"
chmod 600 "$f.new"
mv "$f.new" "$f"
t_run xt-get -c :hello
t_status 1 "a wrong key in the file"
t_err_has "the account key of 'devstoreaccount1' was refused (AuthorizationFailure)" "... is refused"
no_secret "wrong key in the file"
AZURE_STORAGE_CONNECTION_STRING="AccountName=$acct;AccountKey=$key;BlobEndpoint=$ep" t_run xt-get -c :hello
t_status 0 "... while the environment's connection string wins over it"
t_out_is hello "... reading the object"
printf 'AZURE_STORAGE_KEY=%s\n' "$key" >"$f"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep" t_run xt-get -c :hello
t_status 0 "the endpoint from the environment, the key from the file"
t_out_is hello "... reading the object"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep" AZURE_STORAGE_KEY=$wrong t_run xt-get -c :hello
t_status 1 "a wrong AZURE_STORAGE_KEY in the environment wins over the file's right one"
t_err_has "check AccountKey or AZURE_STORAGE_KEY" "... and is refused"
no_secret "environment's wrong key"

# malformed files
printf '# comment\nAZURE_STORAGE_KEY %s\n' "$key" >"$f"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep" t_run xt-get -c :hello
t_status 1 "a line without '='"
t_err_has "xt-get: store '$S': $f:2: expected NAME=VALUE" "... is named by file and line"
no_secret "line without ="
printf '\nAZURE_STORAGE_ACCOUNT_KEY=%s\n' "$key" >"$f"
AZURE_STORAGE_CONNECTION_STRING="BlobEndpoint=$ep" t_run xt-get -c :hello
t_status 1 "an unknown name"
t_err_has "$f:2: unknown name 'AZURE_STORAGE_ACCOUNT_KEY': expected AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN" \
    "... is named, not its value"
no_secret "unknown name"
rm "$f"
mkdir "$f"
t_run xt-get -c :hello
t_status 1 "a folder where the file goes"
t_err_has "'$f' is not a regular file" "... is refused"
rmdir "$f"
t_run xt-get -c :hello
t_status 1 "no file and no variable"
t_err_has "no credential for account 'devstoreaccount1': set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN, in the environment or in \$XT_HOME/azure" \
    "... says where a credential goes"
t_done
