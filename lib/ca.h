/*
 * ca.h: where HTTPS finds the certificates of the authorities it trusts.
 *
 * libcurl reads no environment variables, and a static binary carries no
 * CA path that means anything on the machine it is copied to, so xt looks
 * itself. First found wins:
 *   1. the configured file, key "ca-file" (XT_CA_FILE, xt.yaml, ...);
 *   2. $CURL_CA_BUNDLE, then $SSL_CERT_FILE;
 *   3. the bundles of the distributions (CA_SYSTEM_PATHS below);
 *   4. the bundle embedded at build time (the static build embeds one).
 * A file named by 1 or 2 must be readable: it is an error, not a reason
 * to look further. An empty variable counts as unset.
 */
#ifndef XT_CA_H
#define XT_CA_H

#include <stddef.h>

/* Debian/Ubuntu, RHEL/Fedora (two layouts), SUSE, Alpine; NULL-terminated. */
extern const char *const CA_SYSTEM_PATHS[];

struct ca_source {
	const char *path;	/* the file, or NULL for the embedded bundle */
	const void *blob;	/* the embedded bundle (PEM), when path is NULL */
	size_t len;
	const char *origin;	/* "ca-file, option", "env CURL_CA_BUNDLE", "system", "embedded" */
};

/*
 * Find the CA certificates as above. Returns 0 and fills ca (its strings
 * are static or the configuration's, valid until config_release), or -1
 * with err set: a configured file that cannot be read, or none found.
 */
int ca_find(struct ca_source *ca, char *err, size_t errlen);

#endif
