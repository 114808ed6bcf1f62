/*
 * ca.c: the CA certificates for HTTPS, see ca.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca.h"
#include "config.h"
#include "banned.h"

const char *const CA_SYSTEM_PATHS[] = {
	"/etc/ssl/certs/ca-certificates.crt",			/* Debian, Ubuntu */
	"/etc/pki/tls/certs/ca-bundle.crt",			/* RHEL, Fedora */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",	/* RHEL 7 and later */
	"/etc/ssl/ca-bundle.pem",				/* SUSE */
	"/etc/ssl/cert.pem",					/* Alpine */
	NULL
};

/*
 * XT_CA_EMBED names a PEM file at build time (the static build sets it);
 * its bytes are assembled into the binary with .incbin.
 */
#ifdef XT_CA_EMBED
extern const char xt_ca_embedded[], xt_ca_embedded_end[];
__asm__(".pushsection .rodata.xt_ca_embedded,\"a\"\n"
    ".globl xt_ca_embedded\n"
    ".hidden xt_ca_embedded\n"
    "xt_ca_embedded:\n"
    ".incbin \"" XT_CA_EMBED "\"\n"
    ".globl xt_ca_embedded_end\n"
    ".hidden xt_ca_embedded_end\n"
    "xt_ca_embedded_end:\n"
    ".byte 0\n"
    ".popsection\n");
#endif

static int
readable(const char *path, const char *origin, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "cannot read CA file '%s' (from %s): %s", path, origin,
	    strerror(errno));
	return -1;
}

int
ca_find(struct ca_source *ca, char *err, size_t errlen)
{
	static const char *const vars[] = { "CURL_CA_BUNDLE", "SSL_CERT_FILE", NULL };
	static char origin[64];
	const char *p;
	int i;

	memset(ca, 0, sizeof(*ca));
	if ((p = config_str("ca-file", NULL)) && *p) {
		snprintf(origin, sizeof(origin), "ca-file, %s", config_origin("ca-file"));
		ca->path = p;
		ca->origin = origin;
		return readable(p, origin, err, errlen);
	}
	for (i = 0; vars[i]; i++) {
		if ((p = getenv(vars[i])) && *p) {
			snprintf(origin, sizeof(origin), "env %s", vars[i]);
			ca->path = p;
			ca->origin = origin;
			return readable(p, origin, err, errlen);
		}
	}
	for (i = 0; CA_SYSTEM_PATHS[i]; i++) {
		if (access(CA_SYSTEM_PATHS[i], R_OK) == 0) {
			ca->path = CA_SYSTEM_PATHS[i];
			ca->origin = "system";
			return 0;
		}
	}
#ifdef XT_CA_EMBED
	ca->blob = xt_ca_embedded;
	ca->len = (size_t)(xt_ca_embedded_end - xt_ca_embedded);
	ca->origin = "embedded";
	return 0;
#else
	snprintf(err, errlen, "no CA certificates found: set ca-file (XT_CA_FILE), "
	    "CURL_CA_BUNDLE or SSL_CERT_FILE");
	return -1;
#endif
}
