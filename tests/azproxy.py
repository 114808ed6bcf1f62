# The tests' proxy between xt and Azurite: python3's HTTP server, forwarding
# each request as it came.
#   python3 tests/azproxy.py UPSTREAM PORTFILE [busy=N] [drop=N] [full=N] [seed=N] [log=1]
# busy=N: about one request in N is answered 503 before it reaches Azurite;
# drop=N: of the rest, about one in N is done but its answer lost (the
# connection closed); full=N: every Nth append to a blob under full/ meets
# Azure's block limit (409 BlockCountExceedsLimit); seed: of the faults.
# Writes its port to PORTFILE once it listens, its counts "requests busy
# lost full" to PORTFILE.count after each request, and with log=1 a line
# "METHOD PATH STATUS" a request to PORTFILE.log (opened for appending: a
# test may empty it between steps). With rules=1, PORTFILE.rules (read at
# each request; a test may change it) holds lines "REGEX PASS": a request
# whose "METHOD PATH range=RANGE" matches REGEX is answered 503 after PASS
# such requests went through since the rules were written ("REGEX PASS
# lost": the one after PASS such requests is done, its answer lost; that
# one alone, as curl sends a request again at once on a connection closed
# without an answer).
# With unmatch=1, PORTFILE.unmatch (read at each request) holds REGEXes:
# a request whose "METHOD PATH" matches one goes to Azurite without its
# If-Match, signed again with key=KEY (the account's Shared Key), as if
# the ETag it compares were still current (Azure keeps a blob's ETag
# through Append Blob Seal; Azurite gives the blob a new one). With max=1,
# PORTFILE.max holds the most requests seen at once: "ALL BLOCKS RANGES"
# (Put Block; a ranged Get Blob not from byte 0); a test starts the proxy
# anew to forget them.
import http.client, http.server, os, random, re, sys, threading, urllib.parse
up = urllib.parse.urlsplit(sys.argv[1])
opt = dict(a.split("=", 1) for a in sys.argv[3:])
busy, drop, full = int(opt.get("busy", 0)), int(opt.get("drop", 0)), int(opt.get("full", 0))
rnd, lock = random.Random(int(opt.get("seed", 1))), threading.Lock()
log = open(sys.argv[2] + ".log", "a", buffering=1) if opt.get("log") == "1" else None
count = {"requests": 0, "busy": 0, "lost": 0, "full": 0, "appends": 0}
last = {"rules": []}
seen, now, most = {}, {"all": 0, "block": 0, "range": 0}, {"all": 0, "block": 0, "range": 0}
def rules():
    """(REGEX, PASS, FAULT) of each line "REGEX PASS [lost]" of the rules."""
    try:
        lines = [l.strip() for l in open(sys.argv[2] + ".rules") if l.strip()]
    except OSError:
        lines = []
    if lines != last["rules"]:
        # rules written anew count their requests from then on
        last["rules"] = lines
        seen.clear()
    out = []
    for l in lines:
        fault = "busy"
        if l.endswith(" lost"):
            l, fault = l[:-5], "lost"
        pat, npass = l.rsplit(" ", 1)
        out.append((pat, npass, fault))
    return out
def unmatched(what):
    try:
        return any(re.search(l.strip(), what) for l in open(sys.argv[2] + ".unmatch") if l.strip())
    except OSError:
        return False
def resign(verb, path, h):
    """The Shared Key Authorization of the request without its If-Match."""
    import base64, hashlib, hmac
    g = lambda k: (h.get(k) or "").strip()
    cl = "" if g("Content-Length") in ("", "0") else g("Content-Length")
    acct = path.split("/")[1]
    u = urllib.parse.urlsplit(path)
    sts = "\n".join([verb, g("Content-Encoding"), g("Content-Language"), cl, g("Content-MD5"),
        g("Content-Type"), g("Date"), g("If-Modified-Since"), "", g("If-None-Match"),
        g("If-Unmodified-Since"), g("Range")]) + "\n"
    sts += "".join("%s:%s\n" % kv for kv in sorted((k.lower(), v.strip())
        for k, v in h.items() if k.lower().startswith("x-ms-")))
    sts += "/" + acct + u.path
    sts += "".join("\n%s:%s" % kv for kv in sorted((k.lower(), v)
        for k, v in urllib.parse.parse_qsl(u.query, keep_blank_values=True)))
    mac = hmac.new(base64.b64decode(opt["key"]), sts.encode(), hashlib.sha256).digest()
    return "SharedKey %s:%s" % (acct, base64.b64encode(mac).decode())
def kinds(h):
    k, rng = ["all"], h.headers.get("x-ms-range") or ""
    if "comp=block&" in h.path or h.path.endswith("comp=block"): k.append("block")
    if h.command == "GET" and rng and not rng.startswith("bytes=0-"): k.append("range")
    return k
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # an answer's headers and body go out in two writes: with Nagle, the
    # body waited for the client's delayed ACK, 40 ms an answer (t1210
    # spent half its time so)
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        ks = kinds(self) if opt.get("max") == "1" else []
        try:
            self.forward(body, ks)
        finally:
            with lock:
                for k in ks: now[k] -= 1
    def forward(self, body, ks):
        with lock:
            count["requests"] += 1
            fault = "busy" if busy and rnd.randrange(busy) == 0 else \
                "lost" if drop and rnd.randrange(drop) == 0 else ""
            if opt.get("rules") == "1":
                what = "%s %s range=%s" % (self.command, self.path, self.headers.get("x-ms-range") or "")
                for pat, npass, how in rules():
                    if re.search(pat, what):
                        seen[pat] = seen.get(pat, 0) + 1
                        if seen[pat] > int(npass) and (how == "busy" or seen[pat] == int(npass) + 1):
                            fault = how
            for k in ks:
                now[k] += 1; most[k] = max(most[k], now[k])
            if ks:
                with open(sys.argv[2] + ".max.tmp", "w") as f: f.write("%(all)d %(block)d %(range)d\n" % most)
                os.rename(sys.argv[2] + ".max.tmp", sys.argv[2] + ".max")
            if full and self.command == "PUT" and "comp=appendblock" in self.path and "/full/" in self.path:
                count["appends"] += 1
                if count["appends"] % full == 0: fault = "full"
            if fault: count[fault] += 1
            with open(sys.argv[2] + ".count", "w") as f: f.write("%(requests)d %(busy)d %(lost)d %(full)d\n" % count)
        if fault == "busy":
            self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers(); return
        if fault == "full":
            self.send_response(409); self.send_header("x-ms-error-code", "BlockCountExceedsLimit")
            self.send_header("Content-Length", "0"); self.end_headers(); return
        c = http.client.HTTPConnection(up.hostname, up.port)
        c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        drop_if = opt.get("unmatch") == "1" and unmatched("%s %s" % (self.command, self.path))
        for k, v in self.headers.items():
            if drop_if and k.lower() == "authorization":
                v = resign(self.command, self.path, self.headers)
            if not (drop_if and k.lower() == "if-match"): c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse(); data = r.read(); c.close()
        if log:
            with lock:
                log.write("%s %s %d\n" % (self.command, urllib.parse.unquote(self.path), r.status))
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
