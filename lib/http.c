/*
 * http.c: downloads with libcurl, see http.h.
 */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#ifdef XT_CURL_DLOPEN
#include <dlfcn.h>
#endif

#include "http.h"
#include "util.h"
#include "banned.h"

struct sink_ctx {
	http_sink_fn fn;
	void *arg;
	int64_t bytes;
	int stopped;
};

int
http_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink_ctx *c = arg;

	if (c->fn(data, n, c->arg) != 0) {
		c->stopped = 1;
		return 0;
	}
	c->bytes += (int64_t)n;
	return n;
}

/*
 * The dynamic build loads libcurl only when a URL is fetched
 * (XT_CURL_DLOPEN): linked in, its 30 libraries would cost every start of
 * xt-get several milliseconds of the loader's time. The static build calls
 * it directly.
 */
#ifdef XT_CURL_DLOPEN
/* in the order of load()'s names: curl_global_init, then the table's */
static struct {
	CURLcode (*global_init)(long);
	struct http_curl f;
} cu;

static void
load(void)
{
	static const char *const names[] = { "curl_global_init", "curl_easy_init",
		"curl_easy_setopt", "curl_easy_perform", "curl_easy_getinfo",
		"curl_easy_cleanup", "curl_easy_strerror", "curl_slist_append",
		"curl_slist_free_all", "curl_easy_reset" };
	void *fn[sizeof(names) / sizeof(names[0])];
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	size_t i;

	if (!h)
		die("cannot load libcurl (Debian's package libcurl4): %s", dlerror());
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!(fn[i] = dlsym(h, names[i])))
			die("libcurl.so.4 has no %s", names[i]);
	memcpy(&cu, fn, sizeof(cu));
}
#define GLOBAL_INIT cu.global_init
#define TABLE cu.f
#else
static const struct http_curl table = { curl_easy_init, curl_easy_setopt, curl_easy_perform,
	curl_easy_getinfo, curl_easy_cleanup, curl_easy_strerror, curl_slist_append,
	curl_slist_free_all, curl_easy_reset };

static void
load(void)
{
}
#define GLOBAL_INIT curl_global_init
#define TABLE table
#endif
#define CU(f) TABLE.f

static void
init_once(void)
{
	static int done;

	if (done)
		return;
	load();
	if (GLOBAL_INIT(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("cannot initialise libcurl");
	done = 1;
}

const struct http_curl *
http_curl(void)
{
	init_once();
	return &TABLE;
}

int
http_get(const char *url, http_sink_fn sink, void *arg, struct http_result *res,
    char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "", caerr[512];
	struct sink_ctx c = { sink, arg, 0, 0 };
	struct curl_blob blob;
	curl_off_t us = 0;
	CURL *h;
	CURLcode rc;

	memset(res, 0, sizeof(*res));
	if (!http_is_url(url)) {
		snprintf(err, errlen, "'%s': not an http:// or https:// URL", url);
		return -1;
	}
	if (ca_find(&res->ca, caerr, sizeof(caerr)) < 0) {
		snprintf(err, errlen, "%s: %s", url, caerr);
		return -1;
	}
	init_once();
	if (!(h = CU(easy_init)()))
		die("cannot make a libcurl handle");
	CU(easy_setopt)(h, CURLOPT_URL, url);
	CU(easy_setopt)(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CU(easy_setopt)(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	CU(easy_setopt)(h, CURLOPT_FOLLOWLOCATION, 1L);
	CU(easy_setopt)(h, CURLOPT_MAXREDIRS, 10L);
	CU(easy_setopt)(h, CURLOPT_FAILONERROR, 1L);
	CU(easy_setopt)(h, CURLOPT_NOSIGNAL, 1L);
	CU(easy_setopt)(h, CURLOPT_CONNECTTIMEOUT, 30L);
	CU(easy_setopt)(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	CU(easy_setopt)(h, CURLOPT_LOW_SPEED_TIME, 60L);
	CU(easy_setopt)(h, CURLOPT_USERAGENT, "xt/" "1");
	CU(easy_setopt)(h, CURLOPT_ERRORBUFFER, cerr);
	CU(easy_setopt)(h, CURLOPT_WRITEFUNCTION, on_body);
	CU(easy_setopt)(h, CURLOPT_WRITEDATA, &c);
	if (res->ca.path) {
		CU(easy_setopt)(h, CURLOPT_CAINFO, res->ca.path);
	} else {
		blob.data = (void *)res->ca.blob;
		blob.len = res->ca.len;
		blob.flags = CURL_BLOB_NOCOPY;
		CU(easy_setopt)(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	rc = CU(easy_perform)(h);
	CU(easy_getinfo)(h, CURLINFO_RESPONSE_CODE, &res->status);
	if (CU(easy_getinfo)(h, CURLINFO_APPCONNECT_TIME_T, &us) == CURLE_OK)
		res->tls_ms = (double)us / 1000.0;
	if (CU(easy_getinfo)(h, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		res->total_ms = (double)us / 1000.0;
	res->bytes = c.bytes;
	CU(easy_cleanup)(h);
	if (rc == CURLE_OK)
		return 0;
	if (c.stopped)
		snprintf(err, errlen, "%s: transfer stopped", url);
	else
		snprintf(err, errlen, "%s: %s%s%s", url, CU(easy_strerror)(rc),
		    *cerr ? ": " : "", cerr);
	return -1;
}
