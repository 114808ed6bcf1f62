/*
 * http.h: downloads over HTTP and HTTPS with libcurl. HTTPS trusts the CA
 * certificates ca_find() finds (ca.h); the static build's libcurl does TLS
 * with BearSSL (TLS 1.0 to 1.2).
 */
#ifndef XT_HTTP_H
#define XT_HTTP_H

#include <stdint.h>

#include "ca.h"

/* True when s starts with http:// or https://. */
int http_is_url(const char *s);

/* Called with each piece of the body as it comes; nonzero stops the transfer. */
typedef int (*http_sink_fn)(const void *data, size_t len, void *arg);

struct http_result {
	long status;		/* the HTTP status of the last response */
	int64_t bytes;		/* body bytes given to the sink */
	double tls_ms;		/* from the start until the TLS handshake ended (0 for http) */
	double total_ms;	/* the whole transfer */
	struct ca_source ca;	/* the CA certificates used */
};

/*
 * GET url (redirects followed, at most 10, http and https only) and give
 * the body to sink. A status of 400 or more is a failure. Returns 0, or -1
 * with err set ("https://host/x: SSL peer certificate ...: details").
 * Aborts a transfer that stalls (under 1 byte/s) for 60 seconds.
 */
int http_get(const char *url, http_sink_fn sink, void *arg, struct http_result *res,
    char *err, size_t errlen);

#endif
