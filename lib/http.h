/*
 * http.h: downloads over HTTP and HTTPS with libcurl. HTTPS trusts the CA
 * certificates ca_find() finds (ca.h); the static build's libcurl does TLS
 * with BearSSL (TLS 1.0 to 1.2).
 */
#ifndef XT_HTTP_H
#define XT_HTTP_H

#include <stdint.h>
#include <curl/curl.h>

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

/*
 * libcurl's functions for a module that speaks HTTP itself (the Azure
 * store): loaded on the first call in the dynamic build (dies when
 * libcurl.so.4 cannot be loaded), linked in the static one, and
 * curl_global_init done. Never NULL; the table is static.
 */
struct http_curl {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	void (*easy_reset)(CURL *);
};
const struct http_curl *http_curl(void);

#endif
