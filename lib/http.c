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
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	void (*easy_reset)(CURL *);
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
#define CU(f) cu.f
#else
static void
load(void)
{
}
#define CU(f) curl_##f
#endif

static void
init_once(void)
{
	static int done;

	if (done)
		return;
	load();
	if (CU(global_init)(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("cannot initialise libcurl");
	done = 1;
}

const struct http_curl *
http_curl(void)
{
	static struct http_curl c;

	init_once();
	if (!c.easy_init) {
		c.easy_init = CU(easy_init);
		c.easy_setopt = CU(easy_setopt);
		c.easy_perform = CU(easy_perform);
		c.easy_getinfo = CU(easy_getinfo);
		c.easy_cleanup = CU(easy_cleanup);
		c.easy_strerror = CU(easy_strerror);
		c.slist_append = CU(slist_append);
		c.slist_free_all = CU(slist_free_all);
		c.easy_reset = CU(easy_reset);
	}
	return &c;
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
