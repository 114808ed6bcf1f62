# tests/https.sh: sourced by tests that download over HTTPS (after lib.sh).
#
#   make_certs               in the current folder: a test CA (ca.pem), a
#                            server certificate for localhost, xt-node.test
#                            and 127.0.0.1 (srv.pem, srv.key), and an
#                            unrelated CA (bad.pem)
#   start_https DIR CERT KEY   serve DIR over TLS on 127.0.0.1, on a port the
#                            kernel picks; sets $port and $srv (its PID),
#                            and stops it by that PID when the test ends

make_certs() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
	    -days 2 -subj /CN=xt-test-ca 2>/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout bad.key -out bad.pem \
	    -days 2 -subj /CN=xt-other-ca 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr \
	    -subj /CN=localhost 2>/dev/null &&
	printf 'subjectAltName=DNS:localhost,DNS:xt-node.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >ext.cnf &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	    -out srv.pem -days 2 -extfile ext.cnf 2>/dev/null
}

stop_https() {
	[ -n "${srv:-}" ] && kill "$srv" 2>/dev/null
	srv=
}

# Python's http.server wrapped in TLS, on a port the kernel picks
start_https() {
	rm -f "$T/port"
	python3 - "$1" "$2" "$3" "$T/port" <<'PY' >"$T/https.log" 2>&1 &
import functools, http.server, os, ssl, sys
root, cert, key, portfile = sys.argv[1:]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
with open(portfile + ".new", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(portfile + ".new", portfile)
s.serve_forever()
PY
	srv=$!
	t_cleanup_hooks="$t_cleanup_hooks stop_https"
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 500 ] && kill -0 "$srv" 2>/dev/null; do
		sleep 0.02
		i=$((i + 1))
	done
	port=$(cat "$T/port" 2>/dev/null)
	[ -n "$port" ]
}
