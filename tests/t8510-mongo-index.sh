#!/bin/sh
# The MongoDB index: every state change of a run reaches the database
# through the outbox under $XT_HOME (xt-report --index-flush sends it),
# one document per run keyed by ws and run, with its final status and
# metrics. A database stopped in the middle of a sweep fails and stalls
# no run: the changes wait in the outbox and are sent when it is back.
# --reindex rebuilds the index from the store; the password is never
# printed.
mcache=${XDG_CACHE_HOME:-$HOME/.cache}
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/mongo.sh"
mongo_need

t_ok "the server starts (TLS, SCRAM-SHA-256)" mongo_start
touch shm.stamp
# the dynamic build loads libmongoc only for an index (lib/mongodl.h)
if ldd "$XT_BIN/xt-report" >/dev/null 2>&1; then
	LD_DEBUG=files xt-report -c run >/dev/null 2>ld.out
	t_ok "a tool with no index configured does not load libmongoc" sh -c '! grep -q libmongoc ld.out'
	LD_DEBUG=files XT_INDEX="$murl" XT_INDEX_PASSWORD="$mpass" xt-report --index-status >/dev/null 2>ld.out
	t_ok "one that talks to the index does" grep -q "file=libmongoc-1.0.so.0 .*dynamically loaded" ld.out
fi
export XT_INDEX="$murl" XT_INDEX_PASSWORD="$mpass"

mkdir code
cat >code/train.sh <<'EOS'
echo "{\"event\":\"metrics\",\"step\":1,\"data\":{\"loss\":$1}}" >>"$XT_LOG"
# what an executor's sender does: send the outbox, never failing the run
xt-report --index-flush >/dev/null 2>&1
[ "$1" = 0.2 ] && "$MSRC/mongo-up.sh" stop "$MDIR" >/dev/null
exit 0
EOS
export MSRC="$msrc" MDIR="$T/mongo"
t_run xt-submit -C code --runs 1 -- sh train.sh 0.1
t_status 0 "submit run1"
t_run xt-report --index-flush
t_status 0 "--index-flush"
echo "index: 1 records sent, outbox empty" >want
t_out_is want "sends run1's queued record"
mongo_dump runs
t_ok "run1 is in the database, queued" grep -q '"ws" : "ws1", .*"status" : "queued", .*"run" : "run1"' "$T/out"

for lr in 0.2 0.3 0.4; do xt-submit -C code -- sh train.sh $lr >/dev/null; done
t_run xt-runq
t_status 0 "the sweep runs while the database stops halfway (run2 stops it)"
t_ok "it was stopped" test ! -e "$T/mongo/mongo.pid" -o -z "$(cat "$T/mongo/mongo.pid" 2>/dev/null)" -o "$("$msrc/mongo-up.sh" status "$T/mongo"; echo $?)" = 1
t_run xt-report -c run,status,metrics.loss --index store
cat >want <<'EOS'
run   status     metrics.loss
run1  completed         0.100
run2  completed         0.200
run3  completed         0.300
run4  completed         0.400
EOS
t_out_is want "every run completed (the store's index)"
t_run xt-report --index-status
t_status 1 "--index-status: the database does not answer"
t_ok "the outbox holds the changes since" grep -q '^outbox: [1-9][0-9]* records' "$T/out"
t_ok "says why" grep -q "^xt-report: index mongodb://$muser@localhost:$mport/t$$?.*: No suitable servers found" "$T/err"
t_ok "the password is in no message" sh -c "! grep -q -- '$mpass' '$T/out' '$T/err'"

t_ok "the server starts again, on the same port" mongo_start "$mport"
t_run xt-report --index-flush
t_status 0 "--index-flush once it answers"
t_ok "sends the changes" grep -q '^index: [1-9][0-9]* records sent, outbox empty' "$T/out"
mongo_dump runs
t_ok "run2 to run4 (their changes since the stop) have their final record" \
    test "$(grep -c '"status" : "completed".*"metrics" : { "loss" : 0\.[234]' "$T/out")" -eq 3
t_run xt-report --index-status
t_status 0 "--index-status"
t_ok "an empty outbox" grep -q '^outbox: 0 records in 0 segments$' "$T/out"

# a restarted test server is empty (in memory): --reindex brings back all
t_run xt-report --reindex
t_status 0 "--reindex"
echo "reindex: 4 runs of 1 workspaces upserted" >want
t_out_is want "upserts the latest record of every run"
mongo_dump runs
cp "$T/out" after-reindex
t_ok "all four runs, completed" test "$(grep -c '"status" : "completed"' after-reindex)" -eq 4
t_run xt-report --reindex
t_status 0 "--reindex again"
mongo_dump runs
t_ok "is harmless: the same documents" cmp -s "$T/out" after-reindex

# into an empty database, the same documents as sent one by one
mongo_stop
t_ok "a new empty database" mongo_start "$mport"
t_run xt-report --reindex
t_status 0 "--reindex into it"
mongo_dump runs
t_ok "the same documents" cmp -s "$T/out" after-reindex

# the password in a config file only its owner can read
unset XT_INDEX_PASSWORD
mkdir -p "$HOME/.config/xt"
cfg=$HOME/.config/xt/config.yaml
echo "index: mongodb://$muser:$mpass@localhost:$mport/t$$?authSource=admin&tls=true&tlsCAFile=$T/ca.pem" >"$cfg"
unset XT_INDEX
chmod 644 "$cfg"
t_run xt-report --index-status
t_status 1 "a config file with the password that others can read is refused"
t_err_has "holds a credential (in the value of 'index') but can be read by others" "named"
t_ok "without the password" sh -c "! grep -q -- '$mpass' '$T/out' '$T/err'"
chmod 600 "$cfg"
t_run xt-report --index-status
t_status 0 "the password of the owner's config file logs in"
t_ok "the index without its password" grep -q "^index: mongodb://$muser@localhost:$mport/t$$?" "$T/out"
t_ok "the runs are counted" grep -q '^database: answering, 4 runs, 0 jobs$' "$T/out"
t_ok "no password printed" sh -c "! grep -q -- '$mpass' '$T/out' '$T/err'"
t_ok "no shared-memory file of libmongoc made (MONGOC_DISABLE_SHM)" \
    sh -c '! find /dev/shm -name "mongoc-*" -newer shm.stamp | grep -q .'
t_done
