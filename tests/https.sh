# tests/https.sh: sourced by tests that download over HTTPS (after lib.sh,
# with $tdir the tests folder).
#
#   make_certs               in the current folder: a test CA (ca.pem), a
#                            server certificate for localhost, xt-node.test
#                            and 127.0.0.1 (srv.pem, srv.key), and an
#                            unrelated CA (bad.pem)
#   start_https DIR CERT KEY   serve DIR over TLS on 127.0.0.1, on a port the
#                            kernel picks; sets $port, and stops the server
#                            by its PID (in $pidf, see scripts/svc.sh) when
#                            the test ends

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

. "$tdir/../scripts/svc.sh"

# Python's http.server wrapped in TLS, on a port the kernel picks; started
# and stopped as the test services of scripts/ are, by its PID in $pidf
start_https() {
	pidf=$T/https.pid
	rm -f "$T/port"
	t_cleanup_hooks="$t_cleanup_hooks svc_stop"
	svc_start "$T/https.log" python3 -c '
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
s.serve_forever()' "$1" "$2" "$3" "$T/port"
	svc_wait 100 test -s "$T/port" || return 1
	port=$(cat "$T/port")
}
