# Sourced by the Azure tests after lib.sh: sets acct, key and ep (the
# endpoint of the suite's Azurite, $XT_TEST_AZURE_ENDPOINT, or of one
# started here and stopped by its PID at the end, its PID in $apid), or
# skips the whole test when Azurite cannot run here, saying why. With
# az_optional set (tests/stores.sh), a test that also has other cases is
# not skipped: ep stays empty and $az_why says why.
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
	t_run "$R/scripts/azurite-up.sh" start "$T/azurite"
	t_status 0 "scripts/azurite-up.sh starts Azurite"
	ep=$(cat "$T/out")
	apid=$(cat "$T/azurite/azurite.pid")
	t_ok "it runs, its PID in azurite.pid" kill -0 "$apid"
fi
