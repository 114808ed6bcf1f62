#!/bin/sh
# The libraries of the static build, as built in the cache: a probe
# linked like the tools (musl, -static) checks that libssh2 has ed25519
# keys and curve25519 (OpenSSL), that libmongoc has TLS and SCRAM (a real
# TLS handshake with the local test server: accepted with the test CA,
# refused with another), and that libcurl does TLS with BearSSL.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"
. "$tdir/https.sh"

sp=$(cat "$XT_BIN/../prefix" 2>/dev/null)
t_ok "the static build names its libraries' prefix" test -n "$sp" -a -f "$sp/.done"
echo "# INFO libraries: $(grep -v '^musl\|^cmake\|^gcc' "$sp/VERSIONS" | cut -d' ' -f1 | tr '\n' ' ')"
pc="env PKG_CONFIG_LIBDIR=$sp/lib/pkgconfig PKG_CONFIG_PATH= pkg-config --static"
cat >probe.c <<'C'
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include <libssh2.h>
#include <mongoc/mongoc.h>
#include <openssl/opensslv.h>

int
main(int argc, char **argv)
{
	const char **algs;
	int i, n;
	LIBSSH2_SESSION *s;
	mongoc_client_t *c;
	bson_error_t e;
	bson_t *cmd, reply;

	if (argc > 1) {	/* a mongoc TLS handshake with argv[1], CA file argv[2] */
		char uri[512];

		snprintf(uri, sizeof(uri), "mongodb://u:p@%s/?tls=true&tlsCAFile=%s"
		    "&authMechanism=SCRAM-SHA-256&serverSelectionTimeoutMS=2000"
		    "&connectTimeoutMS=2000", argv[1], argv[2]);
		mongoc_init();
		if (!(c = mongoc_client_new(uri)))
			return 3;
		cmd = BCON_NEW("ping", BCON_INT32(1));
		n = mongoc_client_command_simple(c, "admin", cmd, NULL, &reply, &e);
		printf("mongoc: %s\n", n ? "ok" : e.message);
		return 0;
	}
	printf("curl: %s\n", curl_version());
	printf("openssl: %s\n", OPENSSL_VERSION_TEXT);
	printf("mongoc: %s crypto=%d ssl-openssl=%d\n", mongoc_get_version(),
	    MONGOC_ENABLE_CRYPTO, MONGOC_ENABLE_SSL_OPENSSL);
	libssh2_init(0);
	s = libssh2_session_init();
	printf("libssh2: %s hostkeys:", libssh2_version(0));
	n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_HOSTKEY, &algs);
	for (i = 0; i < n; i++)
		printf(" %s", algs[i]);
	libssh2_free(s, algs);
	printf(" kex:");
	n = libssh2_session_supported_algs(s, LIBSSH2_METHOD_KEX, &algs);
	for (i = 0; i < n; i++)
		printf(" %s", algs[i]);
	printf("\n");
	return 0;
}
C
t_run sh -c "musl-gcc -static -O2 \$($pc --cflags libcurl libssh2 libmongoc-static-1.0) probe.c -o probe \$($pc --libs libcurl libssh2 libmongoc-static-1.0)"
t_status 0 "a probe links statically against the cached libraries"
t_run readelf -d probe
t_ok "and is static" grep -q 'There is no dynamic section' "$T/out"
t_run ./probe
t_status 0 "the probe runs"
sed 's/^/# INFO /' "$T/out"
t_ok "libcurl 7.88.1 does TLS with BearSSL" grep -q '^curl: libcurl/7.88.1 BearSSL' "$T/out"
t_ok "libssh2 has ed25519 host keys" grep -q '^libssh2: .* hostkeys:.* ssh-ed25519' "$T/out"
t_ok "and curve25519 key exchange" grep -q '^libssh2: .* kex:.* curve25519-sha256' "$T/out"
t_ok "libmongoc has crypto (SCRAM) and TLS by OpenSSL" grep -q '^mongoc: 1\.23\.1 crypto=1 ssl-openssl=1' "$T/out"
t_ok "OpenSSL 3.0" grep -q '^openssl: OpenSSL 3\.0\.' "$T/out"

# libmongoc's TLS against the local TLS server (it speaks HTTP, so the
# handshake is all that can succeed)
unset CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR
t_ok "make a test CA and a server certificate" make_certs
mkdir www
t_ok "the TLS server starts" start_https "$T/www" srv.pem srv.key
t_run ./probe "localhost:$port" "$T/bad.pem"
t_ok "libmongoc refuses the server with an unrelated CA" grep -qi 'certificate verify failed\|TLS handshake failed' "$T/out"
t_run ./probe "localhost:$port" "$T/ca.pem"
t_ok "and gets past the TLS handshake with the test CA" \
    test "$rc" -eq 0 -a "$(grep -ci 'certificate\|TLS handshake' "$T/out")" -eq 0
sed 's/^/# INFO with the test CA: /' "$T/out"
t_done
