# tests/mongo.sh: sourced by the tests of the MongoDB index, after lib.sh.
# A MongoDB wire-protocol server of scripts/mongo-up.sh (TLS with a test
# CA, SCRAM-SHA-256 for one user), stopped by its PID at the end.
#
#   mongo_start [PORT]   start it in $T/mongo (on PORT when given); sets
#                        mport, muser, mpass, and murl (the URI of the
#                        test's own database, without the password); false
#                        (why in $T/mongo.err) when it did not start
#   mongo_shared         use the server of tests/run.sh's pass when there
#                        is one (XT_TEST_MONGO_DIR: its port, user,
#                        password and CA), else mongo_start
#   mongo_stop           stop it by its PID
#   mongo_dump COLL      the collection's documents, sorted, in $T/out
# The test sets tdir (its folder) and mcache=${XDG_CACHE_HOME:-$HOME/.cache} before lib.sh (the
# install is kept there). A test with no node says "# SKIP" and ends (mongo_need).
msrc=$(dirname "$tdir")/scripts
. "$tdir/https.sh"

mongo_need() {
	command -v node >/dev/null && return 0
	echo "# SKIP no node here (scripts/deps.sh static installs it)"
	t_done
	exit
}

mongo_start() {
	[ -f "$T/ca.pem" ] || (cd "$T" && make_certs) || return 1
	muser=xt-user mpass="pw-$$-s3cret"
	mport=$(env XDG_CACHE_HOME="$mcache" MONGO_CERT="$T/srv.pem" MONGO_KEY="$T/srv.key" MONGO_USER=$muser \
	    MONGO_PASSWORD=$mpass ${1:+MONGO_PORT=$1} "$msrc/mongo-up.sh" start "$T/mongo" \
	    2>"$T/mongo.err") || return 1
	murl="mongodb://$muser@localhost:$mport/t$$?authSource=admin&tls=true&tlsCAFile=$T/ca.pem"
	case " $t_cleanup_hooks " in *" mongo_stop "*) ;; *) t_cleanup_hooks="$t_cleanup_hooks mongo_stop" ;; esac
}

mongo_shared() {
	d=${XT_TEST_MONGO_DIR:-}
	[ -n "$d" ] && [ -s "$d/port" ] || { mongo_start; return; }
	mport=$(cat "$d/port") muser=$(cat "$d/user") mpass=$(cat "$d/password")
	cp "$d/ca.pem" "$d/bad.pem" "$T/" || return 1
	echo "# INFO the server of tests/run.sh's pass, port $mport"
	murl="mongodb://$muser@localhost:$mport/t$$?authSource=admin&tls=true&tlsCAFile=$T/ca.pem"
}

mongo_stop() { "$msrc/mongo-up.sh" stop "$T/mongo"; }

# the helper links libmongoc, which without MONGOC_DISABLE_SHM leaves /dev/shm/mongoc-PID
mongo_dump() {
	t_run env XT_INDEX_PASSWORD="$mpass" MONGOC_DISABLE_SHM=1 "$XT_BIN/../helper/mongo-dump" "$murl" "$1"
}
