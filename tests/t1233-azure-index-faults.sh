#!/bin/sh
# The run index compacted on az:// through a fault proxy: between xt and
# Azurite, one request in 8 is answered 503 before it reaches Azurite, and
# of the rest one in 8 is done but its answer lost (as in t1210). Writers
# append while the index is compacted again and again (Copy Blob of a new
# append blob, If-Match): no line is lost or there twice, the last
# compaction leaves one line a run, no temporary blob is left. Azurite as
# in t1200.
R=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$R/tests/azurite.sh"

# the proxy: python3's HTTP server, forwarding each request as it came
cat >proxy.py <<'PY'
import http.client, http.server, os, random, sys, threading, urllib.parse
up = urllib.parse.urlsplit(sys.argv[1])
busy, drop = int(sys.argv[3]), int(sys.argv[4])
rnd, lock = random.Random(1233), threading.Lock()
count = {"requests": 0, "busy": 0, "lost": 0}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        with lock:
            count["requests"] += 1
            fault = "busy" if rnd.randrange(busy) == 0 else "lost" if rnd.randrange(drop) == 0 else ""
            if fault: count[fault] += 1
            with open(sys.argv[2] + ".count", "w") as f: f.write("%(requests)d %(busy)d %(lost)d\n" % count)
        if fault == "busy":
            self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers(); return
        c = http.client.HTTPConnection(up.hostname, up.port)
        c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items(): c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse(); data = r.read(); c.close()
        if fault == "lost":
            self.close_connection = True; return
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "content-length", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", r.getheader("Content-Length") or "0" if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(data)
    do_GET = do_PUT = do_HEAD = do_DELETE = handle_any
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[2] + ".tmp", "w") as f: f.write(str(s.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
s.serve_forever()
PY
python3 proxy.py "$ep" "$T/pport" 8 8 </dev/null >proxy.log 2>&1 &
ppid=$!
stop_proxy() { kill "$ppid" 2>/dev/null; wait "$ppid" 2>/dev/null; true; }
t_cleanup_hooks="stop_proxy ${t_cleanup_hooks:-}"
i=0
while [ ! -s "$T/pport" ] && [ $i -lt 200 ] && kill -0 "$ppid" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
t_ok "the fault proxy starts" [ -s "$T/pport" ]
pep="http://127.0.0.1:$(cat "$T/pport")/$acct"
export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$acct;AccountKey=$key;BlobEndpoint=$pep"
unset AZURE_STORAGE_KEY AZURE_STORAGE_SAS_TOKEN
export XT_STORE=az://$acct/t1233-$$
idx=ws/ws1/index/runs.jsonl

# an index of 10 runs and 1,210 lines
awk 'BEGIN {
	for (i = 0; i < 120; i++) for (r = 1; r <= 10; r++)
		printf "{\"ws\":\"ws1\",\"run\":\"old%d\",\"status\":\"running\",\"step\":%d}\n", r, i
	for (r = 1; r <= 10; r++)
		printf "{\"ws\":\"ws1\",\"run\":\"old%d\",\"status\":\"completed\",\"step\":%d}\n", r, 120 + r
}' >grown
tail -n 10 grown >latest
t_run xt-put -a ":$idx" <grown
t_status 0 "an index of 1,210 lines for 10 runs, appended through the faults"
t_run xt-report --compact -c run
t_status 0 "xt-report --compact through the faults"
t_err_empty "... without a word"
t_run xt-get -c ":$idx"
t_status 0 "read the index"
t_out_is latest "it was compacted, once: the latest line of each run"

# 3 writers append 150 lines each, of runs of their own, and a fourth 150
# states of one run, while the index is compacted again and again
awk 'BEGIN { for (w = 0; w < 3; w++) for (i = 0; i < 150; i++)
	printf "{\"ws\":\"ws1\",\"run\":\"w%dx%d\",\"status\":\"queued\"}\n", w, i > ("w" w)
	for (i = 0; i < 150; i++) printf "{\"ws\":\"ws1\",\"run\":\"dup\",\"seq\":%d}\n", i > "w3" }'
pids=""
for w in 0 1 2 3; do
	sh -c 'awk "{ print; fflush() } NR % 10 == 0 { system(\"sleep 0.02\") }" "w$1" |
	    xt-put -a ":$2" >/dev/null 2>"err$1"; echo $? >"st$1"' sh $w "$idx" &
	pids="$pids $!"
done
n=0
while :; do
	running=0
	for p in $pids; do kill -0 "$p" 2>/dev/null && running=1; done
	xt-report --compact -c run >/dev/null 2>"cerr$n" || echo "xt-report --compact: $?" >>"cerr$n"
	n=$((n + 1))
	[ $running -eq 1 ] || break
done
for p in $pids; do wait "$p"; done
echo "# INFO $n compactions asked while the writers appended"
t_ok "the writers all succeed" [ "$(cat st0 st1 st2 st3)" = "$(printf '0\n0\n0\n0')" ]
cat err0 err1 err2 err3 | head -n 5 | sed 's/^/#   /'
t_ok "the compactions all succeed, without a word" [ -z "$(cat cerr*)" ]
cat cerr* | head -n 5 | sed 's/^/#   /'
# then 12 rounds of 20 more states of that run, each followed by a compaction
k=1
: >rounds.err
while [ $k -le 12 ]; do
	awk -v k=$k 'BEGIN { for (i = 0; i < 20; i++)
		printf "{\"ws\":\"ws1\",\"run\":\"dup\",\"seq\":%d}\n", 1000 * k + i }' >more
	xt-put -a ":$idx" <more >/dev/null 2>>rounds.err || echo "round $k: xt-put -a failed" >>rounds.err
	xt-report --compact -c run >/dev/null 2>>rounds.err || echo "round $k: xt-report failed" >>rounds.err
	k=$((k + 1))
done
t_ok "12 rounds of appends and compactions, without a word" [ ! -s rounds.err ]
head -n 5 rounds.err | sed 's/^/#   /'
t_run xt-get -c ":$idx"
t_status 0 "read the index"
{ cat latest w0 w1 w2; tail -n 1 more; } | sort >want
sort "$T/out" >got
t_ok "every line is there once, and of the run of many states only its last" cmp -s want got
diff want got | head -n 5 | sed 's/^/#   /'
t_run xt-get -l -r :.tmp/
t_ok "no temporary blob is left behind" [ ! -s "$T/out" ]
read -r nreq nbusy nlost <"$T/pport.count"
echo "# INFO the proxy: $nreq requests, $nbusy answered 503, $nlost answers lost"
t_ok "the proxy made faults" [ "$nbusy" -gt 5 ] && [ "$nlost" -gt 5 ]
t_done
