/*
 * store_azure.c: the Azure Blob backend, az://ACCOUNT/CONTAINER[/PREFIX],
 * over the Blob REST API (x-ms-version AZ_VERSION) with libcurl, requests
 * signed with Shared Key (HMAC-SHA256 of BearSSL) or carrying a SAS.
 *
 * Objects are blobs named PREFIX/PATH in the container:
 *   put, put_if, create   Put Blob (If-Match, If-None-Match: *) up to
 *                         put_max bytes; above it Put Block of block bytes
 *                         each, then Put Block List (with the same
 *                         conditions), so a reader sees the old blob or
 *                         the new one
 *   append                Append Block on an Append Blob, at the position
 *                         read (x-ms-blob-condition-appendpos): an append
 *                         that raced another, or was already done, is
 *                         never written at another place
 *   get, get_file, stat   Get Blob (x-ms-range), Get Blob Properties; the
 *                         content's SHA-256 is metadata "sha256"
 *   list                  List Blobs (prefix, delimiter '/', markers),
 *                         sorted here into the store's order
 *   put_log_if            a new Append Blob under .tmp/, then Copy Blob
 *                         over the object (If-Match), so it stays one
 *                         that takes appends (az_put_log_if)
 * An appended object past 50,000 appends goes on in a chain of segments
 * (see seg_name). A chain that another replaced (a put, or put_log_if:
 * the index's compaction) is deleted by the new chain's first rollover
 * only once SEG_GRACE_MS (15 minutes, XT_AZURE_SEG_GRACE for the tests)
 * passed since any of its segments last changed: a reader that began on
 * the old chain, or a compaction moving its last lines (segs_move), still
 * finds every segment of it; one still there goes with a later rollover,
 * or with the object's delete. Lines that an appender put in the old
 * chain while a compaction replaced it are moved to the new object after
 * the copy, and until that is done the new object names them in its
 * metadata "xtmove", so its readers read them and the next compaction
 * finishes the move should this one die (segs_move): no line is lost at
 * any point. An object that never rolled over never names a move, and
 * one whose move is done names it no more (move_done): their readers pay
 * no request more for it.
 * A request is sent again after a transient failure (az_do); a write
 * whose first try may have been done is checked against what the blob
 * holds (landed). Credentials: see store_azure_open. Secrets never reach
 * a message: only our own words, and store_fail redacts anyway.
 */
#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bearssl.h>

#include "http.h"
#include "name.h"
#include "sha256.h"
#include "store.h"
#include "store_int.h"
#include "util.h"
#include "banned.h"

#define AZ_VERSION "2023-11-03"
#define PUT_MAX ((int64_t)32 << 20)	/* one Put Blob up to this */
#define BLOCK ((int64_t)8 << 20)	/* Put Block size above it */
#define APPEND_MAX ((size_t)4 << 20)	/* one Append Block */
#define APPEND_TRIES 10000	/* an append that other appenders keep beating */
#define APPEND_BLOCKS 50000	/* Azure's most blocks in one Append Blob */
#define SEG_DIR ".tmp/seg/"	/* the continuation blobs of an appended object */
#define CHAIN_MAX 24		/* room for a chain's name */
#define MOVE_MAX (CHAIN_MAX + 12)	/* room for a move's CHAIN-K (segs_move) */
#define SEG_GRACE_MS ((int64_t)15 * 60 * 1000)	/* a superseded chain's life (segs_delete) */
#define ERRBODY_MAX 8192

struct az {
	char *account, *container;
	char *prefix;		/* "" or "p/q/": added to every object's path */
	char *endpoint;		/* scheme://host[:port][/path], no '/' at the end */
	const char *base_path;	/* the path part of endpoint: "" or "/devstoreaccount1" */
	unsigned char key[128];
	size_t keylen;		/* 0: no account key */
	char *sas;		/* the SAS query (no '?'), or NULL */
	char sas_perm[32];	/* its sp= */
	int64_t sas_expiry;	/* its se= in ms, or 0 */
	int64_t put_max, block;
	int retries;		/* more tries of a request after a transient failure */
	int64_t budget_ms;	/* the longest run of transient failures (XT_AZURE_RETRY_TIME) */
	int64_t wait_ms;	/* the wait before the first retry, doubled after (XT_AZURE_RETRY_WAIT) */
	int64_t busy_since;	/* when the present run of them began, or 0 */
	int conn_open;		/* the last request left a connection to use again */
	const struct http_curl *cu;
	CURL *h;
	pid_t pid;		/* the process that made h */
	CURL *h_parent;		/* a forked child's parent's handle: never used, never closed */
	struct ca_source ca;
	int https;
	char *app_path;		/* the last append's path, its segment and chain, */
	unsigned app_seg;	/* and the segment's size after it (-1: to read) */
	char app_chain[CHAIN_MAX];
	char app_etag0[STORE_VER_MAX];	/* the ETag of its first segment, sealed */
	int64_t app_pos;
	int64_t app_blocks;	/* blocks of a segment before the next (XT_AZURE_APPEND_BLOCKS) */
	int64_t seg_grace_ms;	/* how long a superseded chain stays (XT_AZURE_SEG_GRACE) */
	struct store **clone;	/* handles of the parts of a big transfer (parts_run) */
	int nclone;
};

struct kv {
	const char *k, *v;
};

/* One request and what came back. */
struct req {
	const char *verb;
	const char *path;	/* store path (the prefix is added), NULL for the container */
	struct kv q[6];		/* query parameters, not encoded, names lower case */
	int nq;
	struct kv h[6];		/* x-ms-* headers but date and version, names lower case */
	int nh;
	const char *if_match, *if_none_match;
	const void *body;
	size_t len;
	/* where a 2xx body goes: out, or the file outfd (hashed into hash) */
	struct sbuf *out;
	int outfd;
	struct sha256 *hash;
	store_progress_fn progress;
	void *parg;
	int64_t got;
	int sink_failed;	/* out full or a write to outfd failed (errno kept) */
	int sink_errno;
	/* the response */
	long status;
	char etag[STORE_VER_MAX], sha[65], code[64], blobtype[32];
	char copy[16];		/* x-ms-copy-status */
	char chain[CHAIN_MAX];	/* metadata "xtchain" of an appended object */
	char move[MOVE_MAX];	/* metadata "xtmove": CHAIN-K of a move not known done */
	int sealed;		/* x-ms-blob-sealed: true */
	int64_t blocks;		/* x-ms-blob-committed-block-count, or -1 */
	int64_t clen, total, mtime_ms;
	long retry_after;	/* Retry-After in seconds, or -1 */
	struct sbuf err;
	size_t upos;
	CURLcode curl_rc;	/* of the last try */
	int retried;		/* sent more than once: a first one may have been done */
	int tries;		/* how many times it was sent (az_do) */
	int64_t spent_ms;	/* from the first failure of the run it gave up in */
	int out_of_time;	/* gave up as the retry budget ran out */
};

/* RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT" to ms; 0 when malformed. */
static int64_t
http_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	char mon[4];
	const char *m;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%*3s, %d %3s %d %d:%d:%d", &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
	    &tm.tm_min, &tm.tm_sec) != 6 || strlen(mon) != 3 || !(m = strstr(months, mon)))
		return 0;
	tm.tm_mon = (int)(m - months) / 3;
	tm.tm_year -= 1900;
	return (int64_t)timegm(&tm) * 1000;
}

/* ISO 8601 "2026-12-05T20:00:00Z" (seconds' fraction ignored) to ms; 0 when malformed. */
static int64_t
iso_date(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	return (int64_t)timegm(&tm) * 1000;
}

/* Percent-encode s into sb: all but unreserved characters, and '/' when keep_slash. */
static void
pct(struct sbuf *sb, const char *s, int keep_slash)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    (c == '/' && keep_slash))
			sbuf_addc(sb, (char)c);
		else
			sbuf_addf(sb, "%%%02X", c);
	}
}

/* Decode %XX (and '+' as a space, as in a query) of n bytes at s. Caller frees. */
static char *
unpct(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
			char hx[3] = { s[i + 1], s[i + 2], '\0' };

			*o++ = (char)strtol(hx, NULL, 16);
			i += 2;
		} else {
			*o++ = s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The value of parameter name in the query q (decoded, caller frees), or NULL. */
static char *
query_get(const char *q, const char *name)
{
	size_t nl = strlen(name);

	while (*q) {
		size_t n = strcspn(q, "&");

		if (n > nl && !strncmp(q, name, nl) && q[nl] == '=')
			return unpct(q + nl + 1, n - nl - 1);
		q += n;
		if (*q)
			q++;
	}
	return NULL;
}

static int
cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

/*
 * Split move, CHAIN-K (metadata "xtmove", see segs_move), into chain
 * (CHAIN_MAX) and *k when they are not NULL: 0, or -1 when malformed.
 */
static int
move_split(const char *move, char *chain, unsigned *k)
{
	size_t cl = strspn(move, "0123456789abcdef"), dl;
	unsigned long n;

	if (cl == 0 || cl >= CHAIN_MAX || move[cl] != '-')
		return -1;
	dl = strspn(move + cl + 1, "0123456789");
	if (dl == 0 || dl > 9 || move[cl + 1 + dl])
		return -1;
	n = strtoul(move + cl + 1, NULL, 10);
	if (chain)
		snprintf(chain, CHAIN_MAX, "%.*s", (int)cl, move);
	if (k)
		*k = (unsigned)n;
	return 0;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n, k, v;
	char name[64], val[256];

	(void)size;
	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', len);

		/* a new response (after a 100 Continue): forget the last one's */
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->etag[0] = r->sha[0] = r->code[0] = r->blobtype[0] = r->copy[0] = r->chain[0] =
		    r->move[0] = '\0';
		r->clen = r->total = r->retry_after = r->blocks = -1;
		r->sealed = 0;
		r->mtime_ms = 0;
		return len;
	}
	k = 0;
	while (k < len && data[k] != ':')
		k++;
	if (k == len || k >= sizeof(name))
		return len;
	memcpy(name, data, k);
	name[k] = '\0';
	v = k + 1;
	while (v < len && (data[v] == ' ' || data[v] == '\t'))
		v++;
	n = len - v;
	while (n > 0 && (data[v + n - 1] == '\r' || data[v + n - 1] == '\n' ||
	    data[v + n - 1] == ' '))
		n--;
	if (n >= sizeof(val))
		return len;
	memcpy(val, data + v, n);
	val[n] = '\0';
	if (!strcasecmp(name, "etag") && n < sizeof(r->etag))
		memcpy(r->etag, val, n + 1);
	else if (!strcasecmp(name, "x-ms-meta-sha256") && sha256_valid(val))
		memcpy(r->sha, val, 65);
	else if (!strcasecmp(name, "x-ms-error-code") && n < sizeof(r->code))
		memcpy(r->code, val, n + 1);
	else if (!strcasecmp(name, "x-ms-blob-type") && n < sizeof(r->blobtype))
		memcpy(r->blobtype, val, n + 1);
	else if (!strcasecmp(name, "x-ms-copy-status") && n < sizeof(r->copy))
		memcpy(r->copy, val, n + 1);
	else if (!strcasecmp(name, "x-ms-meta-xtchain") && n < sizeof(r->chain) &&
	    n == strspn(val, "0123456789abcdef"))
		memcpy(r->chain, val, n + 1);
	else if (!strcasecmp(name, "x-ms-meta-xtmove") && n < sizeof(r->move) &&
	    move_split(val, NULL, NULL) == 0)
		memcpy(r->move, val, n + 1);
	else if (!strcasecmp(name, "x-ms-blob-sealed"))
		r->sealed = !strcasecmp(val, "true");
	else if (!strcasecmp(name, "x-ms-blob-committed-block-count"))
		r->blocks = strtoll(val, NULL, 10);
	else if (!strcasecmp(name, "content-length"))
		r->clen = strtoll(val, NULL, 10);
	else if (!strcasecmp(name, "content-range") && strchr(val, '/'))
		r->total = strtoll(strchr(val, '/') + 1, NULL, 10);
	else if (!strcasecmp(name, "last-modified"))
		r->mtime_ms = http_date(val);
	else if (!strcasecmp(name, "retry-after") && isdigit((unsigned char)val[0]))
		r->retry_after = strtol(val, NULL, 10);
	return len;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct req *r = arg;

	(void)size;
	if (r->status < 200 || r->status > 299) {
		if (r->err.len + n <= ERRBODY_MAX)
			sbuf_add(&r->err, data, n);
		return n;
	}
	if (r->outfd >= 0) {
		if (write_all(r->outfd, data, n) < 0) {
			r->sink_failed = 1;
			r->sink_errno = errno;
			return 0;
		}
	} else if (r->out && sbuf_add(r->out, data, n) < 0) {
		r->sink_failed = 1;
		r->sink_errno = EFBIG;
		return 0;
	}
	if (r->hash)
		sha256_update(r->hash, data, n);
	r->got += (int64_t)n;
	if (r->progress)
		r->progress(r->got, r->total >= 0 ? r->total : r->clen, r->parg);
	return n;
}

static size_t
on_read(char *data, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t left = r->len - r->upos;

	n *= size;
	if (n > left)
		n = left;
	memcpy(data, (const char *)r->body + r->upos, n);
	r->upos += n;
	return n;
}

/* curl rewinds a body to send it again (on a connection found closed) */
static int
on_seek(void *arg, curl_off_t off, int origin)
{
	struct req *r = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > r->len)
		return CURL_SEEKFUNC_FAIL;
	r->upos = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/*
 * Text of the XML element tag (first one) between s and end into out,
 * entities decoded; 0 or -1. Nothing past end is read: a listing asks
 * this of each blob's part of the answer, tags a blob may lack included.
 */
static int
xml_text(const char *s, const char *end, const char *tag, struct sbuf *out)
{
	char open[64], close[64];
	const char *p, *q = NULL;
	size_t ol, cl;

	snprintf(open, sizeof(open), "<%s", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	ol = strlen(open);
	cl = strlen(close);
	sbuf_reset(out);
	for (p = s; p < end && (p = memmem(p, (size_t)(end - p), open, ol)); p += ol)
		if (p + ol < end && (p[ol] == '>' || p[ol] == ' '))
			break;
	if (!p || p >= end || !(p = memchr(p, '>', (size_t)(end - p))) ||
	    !(q = memmem(p + 1, (size_t)(end - p - 1), close, cl)))
		return -1;
	p++;
	while (p < q) {
		static const struct kv ents[] = { { "&amp;", "&" }, { "&lt;", "<" },
			{ "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" } };
		size_t i;

		if (*p == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
				if (!strncmp(p, ents[i].k, strlen(ents[i].k)))
					break;
			if (i < sizeof(ents) / sizeof(ents[0])) {
				sbuf_adds(out, ents[i].v);
				p += strlen(ents[i].k);
				continue;
			}
			if (p[1] == '#') {
				long c = p[2] == 'x' ? strtol(p + 3, NULL, 16) : strtol(p + 2, NULL, 10);
				const char *sc = strchr(p, ';');

				if (sc && sc < q && c > 0 && c < 128) {
					sbuf_addc(out, (char)c);
					p = sc + 1;
					continue;
				}
			}
		}
		sbuf_addc(out, *p++);
	}
	return 0;
}

/*
 * In a child forked from the process that opened the store, the handle's
 * connections are the parent's sockets too: two processes reading one
 * answer get each other's bytes. The child makes its own, and draws other
 * random names than the parent (before any request: a put_log_if's).
 */
static void
az_own(struct az *a)
{
	if (a->pid != getpid()) {
		a->h_parent = a->h;
		if (!(a->h = a->cu->easy_init()))
			die("cannot make a libcurl handle");
		a->pid = getpid();
		a->conn_open = 0;
		srandom((unsigned)(getpid() ^ time_now_ms()));
	}
}

/* Sign r (Shared Key) or add the SAS, and run it once. 0 with r->status, or STORE_ERR. */
static int
az_once(struct store *st, struct req *r)
{
	struct az *a = st->priv;
	const struct http_curl *cu = a->cu;
	struct sbuf url, path, sts, tmp;
	struct curl_slist *hl = NULL;
	struct kv hs[8], qs[6];
	char date[64], cerr[CURL_ERROR_SIZE] = "", clen[32], *line;
	struct tm tm;
	time_t now = time(NULL);
	CURLcode rc;
	int i, nh;

	az_own(a);
	r->status = 0;
	r->clen = r->total = r->retry_after = r->blocks = -1;
	r->code[0] = r->chain[0] = '\0';
	r->sealed = 0;
	r->upos = 0;
	r->got = 0;
	r->sink_failed = 0;
	sbuf_reset(&r->err);
	sbuf_init(&url, 1 << 16);
	sbuf_init(&path, 1 << 16);
	sbuf_init(&sts, 1 << 16);
	sbuf_init(&tmp, 1 << 16);

	/* the path as sent, which Shared Key signs as it is (still encoded) */
	sbuf_adds(&path, a->base_path);
	sbuf_addc(&path, '/');
	sbuf_adds(&path, a->container);
	if (r->path) {
		sbuf_addc(&path, '/');
		sbuf_adds(&tmp, a->prefix);
		sbuf_adds(&tmp, r->path);
		pct(&path, tmp.buf, 1);
	}
	sbuf_adds(&url, a->endpoint);
	sbuf_add(&url, path.buf + strlen(a->base_path), path.len - strlen(a->base_path));
	memcpy(qs, r->q, sizeof(qs));
	qsort(qs, (size_t)r->nq, sizeof(qs[0]), cmp_kv);
	for (i = 0; i < r->nq; i++) {
		sbuf_addc(&url, i ? '&' : '?');
		sbuf_adds(&url, qs[i].k);
		sbuf_addc(&url, '=');
		pct(&url, qs[i].v, 0);
	}
	if (a->sas && !a->keylen) {
		sbuf_addc(&url, r->nq ? '&' : '?');
		sbuf_adds(&url, a->sas);
	}

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	memcpy(hs, r->h, sizeof(r->h));
	nh = r->nh;
	hs[nh].k = "x-ms-date";
	hs[nh++].v = date;
	hs[nh].k = "x-ms-version";
	hs[nh++].v = AZ_VERSION;
	qsort(hs, (size_t)nh, sizeof(hs[0]), cmp_kv);
	for (i = 0; i < nh; i++) {
		line = xasprintf("%s: %s", hs[i].k, hs[i].v);
		hl = cu->slist_append(hl, line);
		free(line);
	}
	if (r->if_match) {
		line = xasprintf("If-Match: %s", r->if_match);
		hl = cu->slist_append(hl, line);
		free(line);
	}
	if (r->if_none_match) {
		line = xasprintf("If-None-Match: %s", r->if_none_match);
		hl = cu->slist_append(hl, line);
		free(line);
	}
	/* nothing unsigned: no Content-Type of curl's, no Expect: 100-continue */
	hl = cu->slist_append(hl, "Content-Type:");
	hl = cu->slist_append(hl, "Expect:");
	hl = cu->slist_append(hl, "Accept:");

	if (a->keylen) {
		br_hmac_key_context kc;
		br_hmac_context hc;
		unsigned char mac[32];
		char b64[BASE64_LEN(32)];
		int put = !strcmp(r->verb, "PUT");

		/* Content-Length is empty when 0 */
		snprintf(clen, sizeof(clen), "%zu", r->len);
		sbuf_addf(&sts, "%s\n\n\n%s\n\n\n\n\n%s\n%s\n\n\n", r->verb,
		    put && r->len ? clen : "", r->if_match ? r->if_match : "",
		    r->if_none_match ? r->if_none_match : "");
		for (i = 0; i < nh; i++)
			sbuf_addf(&sts, "%s:%s\n", hs[i].k, hs[i].v);
		sbuf_addf(&sts, "/%s%s", a->account, path.buf);
		for (i = 0; i < r->nq; i++)
			sbuf_addf(&sts, "\n%s:%s", qs[i].k, qs[i].v);
		br_hmac_key_init(&kc, &br_sha256_vtable, a->key, a->keylen);
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, sts.buf, sts.len);
		br_hmac_out(&hc, mac);
		base64_encode(mac, sizeof(mac), b64);
		line = xasprintf("Authorization: SharedKey %s:%s", a->account, b64);
		hl = cu->slist_append(hl, line);
		free(line);
	}

	cu->easy_reset(a->h);
	cu->easy_setopt(a->h, CURLOPT_URL, url.buf);
	cu->easy_setopt(a->h, CURLOPT_PROTOCOLS_STR, "http,https");
	cu->easy_setopt(a->h, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(a->h, CURLOPT_CONNECTTIMEOUT, 30L);
	cu->easy_setopt(a->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	cu->easy_setopt(a->h, CURLOPT_LOW_SPEED_TIME, 60L);
	cu->easy_setopt(a->h, CURLOPT_USERAGENT, "xt/1");
	cu->easy_setopt(a->h, CURLOPT_ERRORBUFFER, cerr);
	cu->easy_setopt(a->h, CURLOPT_HTTPHEADER, hl);
	cu->easy_setopt(a->h, CURLOPT_HEADERFUNCTION, on_header);
	cu->easy_setopt(a->h, CURLOPT_HEADERDATA, r);
	cu->easy_setopt(a->h, CURLOPT_WRITEFUNCTION, on_body);
	cu->easy_setopt(a->h, CURLOPT_WRITEDATA, r);
	if (a->https) {
		if (a->ca.path) {
			cu->easy_setopt(a->h, CURLOPT_CAINFO, a->ca.path);
		} else {
			struct curl_blob blob = { (void *)a->ca.blob, a->ca.len, CURL_BLOB_COPY };

			cu->easy_setopt(a->h, CURLOPT_CAINFO_BLOB, &blob);
		}
	}
	if (!strcmp(r->verb, "HEAD")) {
		cu->easy_setopt(a->h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->verb, "PUT")) {
		cu->easy_setopt(a->h, CURLOPT_UPLOAD, 1L);
		cu->easy_setopt(a->h, CURLOPT_READFUNCTION, on_read);
		cu->easy_setopt(a->h, CURLOPT_READDATA, r);
		cu->easy_setopt(a->h, CURLOPT_SEEKFUNCTION, on_seek);
		cu->easy_setopt(a->h, CURLOPT_SEEKDATA, r);
		cu->easy_setopt(a->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
	} else if (strcmp(r->verb, "GET")) {
		cu->easy_setopt(a->h, CURLOPT_CUSTOMREQUEST, r->verb);
	}
	rc = r->curl_rc = cu->easy_perform(a->h);
	cu->slist_free_all(hl);
	{
		long nconn = 0;

		/*
		 * curl itself sends a request again when the connection it meant
		 * to use again closes before an answer: then it had to connect
		 * anew although one was open, and the first send may have been done
		 */
		if (cu->easy_getinfo(a->h, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK &&
		    nconn > 0 && a->conn_open)
			r->retried = 1;
		a->conn_open = rc == CURLE_OK;
	}
	sbuf_release(&path);
	sbuf_release(&sts);
	sbuf_release(&tmp);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->sink_failed)) {
		/* the URL without its query: a SAS is never in a message */
		url.buf[strcspn(url.buf, "?")] = '\0';
		if (r->path)
			store_fail(st, STORE_ERR, "cannot reach %s for '%s': %s", a->endpoint,
			    r->path, *cerr ? cerr : cu->easy_strerror(rc));
		else
			store_fail(st, STORE_ERR, "cannot reach %s: %s", a->endpoint,
			    *cerr ? cerr : cu->easy_strerror(rc));
		sbuf_release(&url);
		return STORE_ERR;
	}
	sbuf_release(&url);
	if (!r->code[0] && r->err.len) {
		sbuf_init(&tmp, 256);
		if (xml_text(r->err.buf, r->err.buf + r->err.len, "Code", &tmp) == 0 &&
		    tmp.len < sizeof(r->code))
			memcpy(r->code, tmp.buf, tmp.len + 1);
		sbuf_release(&tmp);
	}
	return 0;
}

static void req_h(struct req *r, const char *k, const char *v);

/*
 * For the message of a request given up after transient failures: " (N
 * tries in S s; the retry budget of B s ran out)", or "" after one try.
 */
static void
tries_note(struct store *st, const struct req *r, char *note, size_t n)
{
	struct az *a = st->priv;

	if (r->tries <= 1 && !r->out_of_time) {
		note[0] = '\0';
		return;
	}
	snprintf(note, n, " (%d %s in %.1f s%s", r->tries, r->tries > 1 ? "tries" : "try",
	    (double)r->spent_ms / 1000,
	    r->out_of_time ? "; the retry budget" : ")");
	if (r->out_of_time)
		snprintf(note + strlen(note), n - strlen(note), " of %lld s, "
		    "XT_AZURE_RETRY_TIME, ran out)", (long long)(a->budget_ms / 1000));
}

/* Whether a failure may pass: the server was busy, or the connection failed. */
static int
transient(const struct req *r, int rc)
{
	if (rc < 0)
		return r->curl_rc == CURLE_COULDNT_CONNECT || r->curl_rc == CURLE_SEND_ERROR ||
		    r->curl_rc == CURLE_RECV_ERROR || r->curl_rc == CURLE_GOT_NOTHING ||
		    r->curl_rc == CURLE_PARTIAL_FILE || r->curl_rc == CURLE_OPERATION_TIMEDOUT;
	return r->status == 408 || r->status == 429 || r->status == 500 || r->status == 502 ||
	    r->status == 503 || r->status == 504;
}

/*
 * Run r, again after a transient failure (a->retries more times at most),
 * waiting a random time below a bound that doubles from 100 ms up to
 * 12.8 s, or what Retry-After asks (up to 30 s). The retry budget: once
 * the store has given nothing but transient failures for a->budget_ms
 * (counted from the first of a run, over the requests of one operation
 * or several, a success ending the run), a request is not sent again, and
 * r->out_of_time says so. What a try gave the sink is dropped before the
 * next. A request sent twice has r->retried set: its first may have been
 * done, which the caller sorts out. r->tries and r->spent_ms are for the
 * message (tries_note).
 */
static int
az_do(struct store *st, struct req *r)
{
	struct az *a = st->priv;
	size_t out0 = r->out ? r->out->len : 0;
	int tries, rc;

	r->retried = 0;
	r->out_of_time = 0;
	for (tries = 0; ; tries++) {
		int64_t now;
		long ms;

		rc = az_once(st, r);
		now = time_now_ms();
		if (!transient(r, rc)) {
			a->busy_since = 0;
			break;
		}
		if (!a->busy_since)
			a->busy_since = now;
		r->spent_ms = now - a->busy_since;
		if (tries >= a->retries)
			break;
		ms = a->wait_ms << (tries < 7 ? tries : 7);
		ms = ms / 2 + random() % (ms / 2 + 1);
		if (r->retry_after >= 0)
			ms = (r->retry_after < 30 ? r->retry_after : 30) * 1000L;
		if (r->spent_ms + ms > a->budget_ms) {
			r->out_of_time = 1;
			break;
		}
		if (r->out) {
			r->out->len = out0;
			r->out->buf[out0] = '\0';
		}
		if (r->outfd >= 0 && r->got > 0) {
			if (ftruncate(r->outfd, 0) < 0 || lseek(r->outfd, 0, SEEK_SET) < 0)
				break;
			if (r->hash)
				sha256_init(r->hash);
		}
		usleep((useconds_t)ms * 1000);
		r->retried = 1;
	}
	r->tries = tries + 1;
	if (transient(r, rc))
		/* given up: the next operation has its own budget */
		a->busy_since = 0;
	if (rc < 0 && transient(r, rc)) {
		char keep[sizeof(st->err)], note[160];

		memcpy(keep, st->err, sizeof(keep));
		tries_note(st, r, note, sizeof(note));
		store_fail(st, rc, "%s%s", keep, note);
	}
	return rc;
}

/* Whether the len bytes at off of path are buf: a retried write that was done. */
static int
landed(struct store *st, const char *path, int64_t off, const void *buf, size_t len)
{
	struct sbuf got;
	struct req r;
	char range[64];
	int same;

	snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)off,
	    (long long)(off + (int64_t)len - 1));
	memset(&r, 0, sizeof(r));
	r.verb = "GET";
	r.path = path;
	r.outfd = -1;
	sbuf_init(&r.err, ERRBODY_MAX + 1);
	sbuf_init(&got, len + 1);
	if (len)
		req_h(&r, "x-ms-range", range);
	r.out = &got;
	same = az_do(st, &r) == 0 && (r.status == 200 || r.status == 206) && got.len == len &&
	    !memcmp(got.buf, buf, len);
	sbuf_release(&got);
	sbuf_release(&r.err);
	return same;
}

static void
req_init(struct req *r, const char *verb, const char *path)
{
	memset(r, 0, sizeof(*r));
	r->verb = verb;
	r->path = path;
	r->outfd = -1;
	sbuf_init(&r->err, ERRBODY_MAX + 1);
}

static void
req_q(struct req *r, const char *k, const char *v)
{
	r->q[r->nq].k = k;
	r->q[r->nq++].v = v;
}

static void
req_h(struct req *r, const char *k, const char *v)
{
	r->h[r->nh].k = k;
	r->h[r->nh++].v = v;
}

/*
 * The message and code of a request that got status r->status: "cannot
 * WHAT 'PATH': why". A 403 says which credential was refused and how.
 */
static void mark_forget(struct store *st);

static int
az_fail(struct store *st, struct req *r, const char *what, const char *path)
{
	struct az *a = st->priv;
	const char *p = path ? path : "";
	const char *c = r->code;
	struct sbuf msg;
	char note[160];
	int rc;

	if (r->status == 404 && strcmp(c, "ContainerNotFound") && path)
		return store_fail(st, STORE_ENOENT, "cannot %s '%s': no such object", what, p);
	if (r->status == 404) {
		mark_forget(st);	/* the next open makes it */
		return store_fail(st, STORE_ERR, "cannot %s '%s': container '%s' of account '%s' "
		    "does not exist", what, p, a->container, a->account);
	}
	if (r->status == 409 && !strcmp(c, "BlobAlreadyExists"))
		return store_fail(st, STORE_EXIST, "cannot create '%s': it exists already", p);
	if (r->status == 412)
		return store_fail(st, STORE_ECONFLICT, "cannot %s '%s': it changed meanwhile",
		    what, p);
	if (r->status == 403) {
		if (a->keylen)
			return store_fail(st, STORE_ERR, "cannot %s '%s': the account key of '%s' "
			    "was refused (%s): check AccountKey or AZURE_STORAGE_KEY", what, p,
			    a->account, *c ? c : "403 Forbidden");
		if (a->sas_expiry && a->sas_expiry <= time_now_ms()) {
			char iso[32];

			time_iso(a->sas_expiry, iso, sizeof(iso));
			return store_fail(st, STORE_ERR, "cannot %s '%s': the SAS token expired "
			    "at %s", what, p, iso);
		}
		if (!strncmp(c, "Authorization", 13) && strcmp(c, "AuthorizationFailure"))
			return store_fail(st, STORE_ERR, "cannot %s '%s': the SAS token does not "
			    "allow it (%s; its permissions sp=%s)", what, p, c,
			    *a->sas_perm ? a->sas_perm : "none");
		return store_fail(st, STORE_ERR, "cannot %s '%s': the SAS token was refused (%s): "
		    "check its signature, start and expiry", what, p, *c ? c : "403 Forbidden");
	}
	/* the server's own words, first line */
	sbuf_init(&msg, 1024);
	if (r->err.len)
		xml_text(r->err.buf, r->err.buf + r->err.len, "Message", &msg);
	if (msg.len)
		msg.buf[strcspn(msg.buf, "\r\n")] = '\0';
	tries_note(st, r, note, sizeof(note));
	rc = store_fail(st, STORE_ERR, "cannot %s '%s': HTTP %ld%s%s%s%s%s", what, p, r->status,
	    *c ? " " : "", c, msg.len ? ": " : "", msg.len ? msg.buf : "", note);
	sbuf_release(&msg);
	return rc;
}

static int
ok(const struct req *r)
{
	return r->status >= 200 && r->status <= 299;
}

static void clones_free(struct az *a);

static void
az_close(struct store *st)
{
	struct az *a = st->priv;

	if (!a)
		return;
	clones_free(a);
	if (a->h)
		a->cu->easy_cleanup(a->h);
	free(a->account);
	free(a->container);
	free(a->prefix);
	free(a->endpoint);
	free(a->sas);
	free(a->app_path);
	memset(a->key, 0, sizeof(a->key));
	free(a);
}

/* A random block ID prefix: every block of one upload has an ID of the same length. */
static void
block_id(char *out, unsigned tag, unsigned n)
{
	char raw[32];

	snprintf(raw, sizeof(raw), "xt%08x-%06u", tag, n);
	base64_encode(raw, strlen(raw), out);
}

/* Put Block List of the blocks tag 0..n-1, with the conditions and the hash. */
static int
put_block_list(struct store *st, const char *path, unsigned tag, unsigned n, const char *hex,
    const char *if_match, const char *if_none_match)
{
	struct sbuf xml;
	struct req r;
	char id[64];
	unsigned i;
	int rc = 0;

	sbuf_init(&xml, SIZE_MAX);
	sbuf_adds(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (i = 0; i < n; i++) {
		block_id(id, tag, i);
		sbuf_addf(&xml, "<Latest>%s</Latest>", id);
	}
	sbuf_adds(&xml, "</BlockList>");
	req_init(&r, "PUT", path);
	req_q(&r, "comp", "blocklist");
	req_h(&r, "x-ms-meta-sha256", hex);
	r.if_match = if_match;
	r.if_none_match = if_none_match;
	r.body = xml.buf;
	r.len = xml.len;
	if ((rc = az_do(st, &r)) == 0 && !ok(&r))
		rc = az_fail(st, &r, if_none_match ? "create" : "put", path);
	sbuf_release(&r.err);
	sbuf_release(&xml);
	return rc;
}

static int
put_block(struct store *st, const char *path, unsigned tag, unsigned n, const void *buf,
    size_t len)
{
	struct req r;
	char id[64];
	int rc;

	block_id(id, tag, n);
	req_init(&r, "PUT", path);
	req_q(&r, "comp", "block");
	req_q(&r, "blockid", id);
	r.body = buf;
	r.len = len;
	if ((rc = az_do(st, &r)) == 0 && !ok(&r))
		rc = az_fail(st, &r, "put", path);
	sbuf_release(&r.err);
	return rc;
}

/*
 * The parts of one big transfer, over several connections at once: Put
 * Block of each block (then one Put Block List makes them the blob), or
 * Get Blob of each range (If-Match the ETag of the first: all of one
 * version). Each helper thread has a handle of its own (a clone of st:
 * its own libcurl handle, the rest shared, read only); the thread that
 * called works too, on st. Helpers in the whole process are at most
 * st->parallel - 1 at a time, so that a tree's workers, each on a big
 * file, do not multiply the connections.
 */
struct parts {
	struct store *st;
	const char *path;
	int fd;			/* put: read from; get: written at each part's offset */
	int put;
	unsigned tag;		/* put: the blocks' ID tag; part k is block first + k */
	unsigned first;
	int64_t start, end, block;	/* parts of block bytes from start to end */
	size_t nparts, next;
	const char *etag;	/* get: the version to read */
	struct sha256 *hash;	/* put: the file's content from 0 to end, hashed by the caller's thread */
	int64_t done;		/* bytes of parts done (and before start) */
	int rc;			/* the first failure, its message in msg */
	char msg[sizeof(((struct store *)0)->err)];
	store_progress_fn progress;
	void *parg;
	pthread_mutex_t mu;
};

struct helper {
	struct parts *p;
	struct store *st;
	pthread_t th;
};

static pthread_mutex_t helpers_mu = PTHREAD_MUTEX_INITIALIZER;
static int helpers_busy;

/* A handle sharing st's settings and credential, with a connection of its own. */
static struct store *
clone_new(struct store *st)
{
	struct az *a = st->priv, *c = xmalloc(sizeof(*c));
	struct store *cs = xcalloc(1, sizeof(*cs));

	*c = *a;
	if (!(c->h = a->cu->easy_init()))
		die("cannot make a libcurl handle");
	c->pid = getpid();
	c->conn_open = 0;
	c->h_parent = NULL;
	c->app_path = NULL;
	c->clone = NULL;
	c->nclone = 0;
	cs->ops = st->ops;
	cs->url = st->url;
	cs->priv = c;
	return cs;
}

static void
clones_free(struct az *a)
{
	int i;

	for (i = 0; i < a->nclone; i++) {
		struct az *c = a->clone[i]->priv;

		/* a forked child's clone handle is its parent's: left alone as a->h is */
		if (c->pid == getpid())
			a->cu->easy_cleanup(c->h);
		free(c);
		free(a->clone[i]);
	}
	free(a->clone);
	a->clone = NULL;
	a->nclone = 0;
}

static int get_into(struct store *st, struct req *r, const char *path, int64_t off, int64_t len);

static int
pwrite_all(int fd, const char *buf, size_t len, int64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* One part on cs (mem: a block's room for a put): 0 or a STORE_E* code with cs's message. */
static int
part_do(struct parts *p, struct store *cs, size_t k, char *mem, struct sbuf *buf)
{
	int64_t off = p->start + (int64_t)k * p->block;
	size_t len = (size_t)(p->end - off < p->block ? p->end - off : p->block);
	struct req r;
	int rc;

	if (p->put) {
		size_t got = 0;
		ssize_t n = 1;

		while (got < len && (n = pread(p->fd, mem + got, len - got,
		    (off_t)off + (off_t)got)) > 0)
			got += (size_t)n;
		if (n < 0)
			return store_fail(cs, STORE_ERR, "cannot read the file of '%s': %s", p->path,
			    strerror(errno));
		if (got < len)
			return store_fail(cs, STORE_ERR, "cannot put '%s': its file changed while "
			    "being put", p->path);
		return put_block(cs, p->path, p->tag, p->first + (unsigned)k, mem, len);
	}
	sbuf_reset(buf);
	req_init(&r, "GET", p->path);
	r.out = buf;
	r.if_match = p->etag;
	rc = get_into(cs, &r, p->path, off, (int64_t)len);
	sbuf_release(&r.err);
	if (rc == 0 && buf->len != len)
		rc = store_fail(cs, STORE_ERR, "cannot get '%s': %zu of %zu bytes came at %lld",
		    p->path, buf->len, len, (long long)off);
	if (rc == 0 && pwrite_all(p->fd, buf->buf, len, off) < 0)
		rc = store_fail(cs, STORE_ERR, "cannot write the file of '%s': %s", p->path,
		    strerror(errno));
	return rc;
}

/* Take parts until none is left or one failed. */
static void
parts_work(struct parts *p, struct store *cs)
{
	struct sbuf buf;
	char *mem = p->put ? xmalloc((size_t)p->block) : NULL;

	sbuf_init(&buf, (size_t)p->block + 1);
	for (;;) {
		size_t k;
		int rc;

		pthread_mutex_lock(&p->mu);
		if (p->rc < 0 || p->next >= p->nparts) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		k = p->next++;
		pthread_mutex_unlock(&p->mu);
		rc = part_do(p, cs, k, mem, &buf);
		pthread_mutex_lock(&p->mu);
		if (rc < 0 && p->rc == 0) {
			p->rc = rc;
			memcpy(p->msg, cs->err, sizeof(p->msg));
		} else if (rc == 0) {
			int64_t off = p->start + (int64_t)k * p->block;

			p->done += p->end - off < p->block ? p->end - off : p->block;
			if (p->progress)
				p->progress(p->done, p->end, p->parg);
		}
		pthread_mutex_unlock(&p->mu);
	}
	free(mem);
	sbuf_release(&buf);
}

static void *
helper_main(void *arg)
{
	struct helper *h = arg;

	parts_work(h->p, h->st);
	return NULL;
}

/* Do p's parts over up to st->parallel connections: 0, or the first failure (st's message). */
static int
parts_run(struct parts *p)
{
	struct store *st = p->st;
	struct az *a = st->priv;
	struct helper hs[64];
	int want = st->parallel - 1, n = 0, i;

	p->nparts = (size_t)((p->end - p->start + p->block - 1) / p->block);
	p->next = 0;
	p->rc = 0;
	p->done = p->start;
	pthread_mutex_init(&p->mu, NULL);
	if ((size_t)want > p->nparts - 1)
		want = (int)p->nparts - 1;
	if (want > (int)(sizeof(hs) / sizeof(hs[0])))
		want = (int)(sizeof(hs) / sizeof(hs[0]));
	pthread_mutex_lock(&helpers_mu);
	if (want > st->parallel - 1 - helpers_busy)
		want = st->parallel - 1 - helpers_busy;
	if (want < 0)
		want = 0;
	helpers_busy += want;
	pthread_mutex_unlock(&helpers_mu);
	for (i = 0; i < want; i++) {
		if (i >= a->nclone) {
			a->clone = xrealloc(a->clone, (size_t)(i + 1) * sizeof(*a->clone));
			a->clone[a->nclone++] = clone_new(st);
		}
		hs[n].p = p;
		hs[n].st = a->clone[i];
		if (pthread_create(&hs[n].th, NULL, helper_main, &hs[n]) != 0)
			break;
		n++;
	}
	if (p->hash) {
		/* while the helpers put the first blocks */
		char *mem = xmalloc((size_t)1 << 20);
		int64_t off = 0;
		ssize_t k = 1;

		while (off < p->end && (k = pread(p->fd, mem, (size_t)(p->end - off < (1 << 20) ?
		    p->end - off : (1 << 20)), (off_t)off)) > 0) {
			sha256_update(p->hash, mem, (size_t)k);
			off += k;
		}
		free(mem);
		pthread_mutex_lock(&p->mu);
		if (off < p->end && p->rc == 0) {
			p->rc = store_fail(st, STORE_ERR, k < 0 ? "cannot read the file of '%s': %s" :
			    "cannot put '%s': its file changed while being put%s", p->path,
			    k < 0 ? strerror(errno) : "");
			memcpy(p->msg, st->err, sizeof(p->msg));
		}
		pthread_mutex_unlock(&p->mu);
	}
	parts_work(p, st);
	for (i = 0; i < n; i++)
		pthread_join(hs[i].th, NULL);
	pthread_mutex_lock(&helpers_mu);
	helpers_busy -= want;
	pthread_mutex_unlock(&helpers_mu);
	pthread_mutex_destroy(&p->mu);
	if (p->rc < 0)
		return store_fail(st, p->rc, "%s", p->msg);
	return 0;
}

/* Forget where the last append to path was: the object is another one now. */
static void
app_forget(struct az *a, const char *path)
{
	if (a->app_path && !strcmp(a->app_path, path)) {
		free(a->app_path);
		a->app_path = NULL;
	}
}

/* Put from memory: one Put Blob, or blocks then a list; the conditions apply to the whole. */
static int
put_mem(struct store *st, const char *path, const void *buf, size_t len, const char *if_match,
    const char *if_none_match)
{
	struct az *a = st->priv;
	char hex[65];
	struct req r;
	int rc;

	/* an object put whole is appended to no more, or anew after a delete */
	app_forget(a, path);
	sha256_buf(buf, len, hex);
	if ((int64_t)len > a->put_max) {
		unsigned tag = (unsigned)random(), n = 0;
		size_t off;

		for (off = 0; off < len; off += (size_t)a->block, n++)
			if ((rc = put_block(st, path, tag, n, (const char *)buf + off,
			    len - off < (size_t)a->block ? len - off : (size_t)a->block)) < 0)
				return rc;
		return put_block_list(st, path, tag, n, hex, if_match, if_none_match);
	}
	req_init(&r, "PUT", path);
	req_h(&r, "x-ms-blob-type", "BlockBlob");
	req_h(&r, "x-ms-meta-sha256", hex);
	r.if_match = if_match;
	r.if_none_match = if_none_match;
	r.body = buf;
	r.len = len;
	if ((rc = az_do(st, &r)) == 0 && !ok(&r)) {
		/* a condition that failed on a second try: maybe the first was done */
		if (r.retried && (r.status == 409 || r.status == 412) &&
		    landed(st, path, 0, buf, len))
			rc = 0;
		else
			rc = az_fail(st, &r, if_none_match ? "create" : "put", path);
	}
	sbuf_release(&r.err);
	return rc;
}

static int
az_put(struct store *st, const char *path, const void *buf, size_t len)
{
	return put_mem(st, path, buf, len, NULL, NULL);
}

static int
az_create(struct store *st, const char *path, const void *buf, size_t len)
{
	return put_mem(st, path, buf, len, NULL, "*");
}

static int az_stat(struct store *st, const char *path, struct store_stat *sst);

static char *seg_name(const char *path, const char *chain, unsigned k);

/*
 * A version split (see seg_name): the first segment's ETag; for an object
 * of segments (ETAG0/CHAIN-K.SIZEK/ETAGK) also its chain, its last segment
 * K, that one's size and its ETag (pointing into the version).
 */
struct segver {
	char etag0[STORE_VER_MAX];
	char chain[CHAIN_MAX];
	unsigned k;		/* the last segment read */
	int64_t size;		/* its size as read (K > 0), else -1 */
	int segs;		/* a version of segments (0: of an object never sealed) */
	int move;		/* read with a move not known done ('+' before it, segs_move) */
	const char *etagk;
};

static int move_finish(struct store *st, const char *path, const struct segver *sv);

/* Split ver, a version of path, into sv: 0, or STORE_EINVAL when it is malformed. */
static int
seg_ver_split(struct store *st, const char *path, const char *ver, struct segver *sv)
{
	const char *sl, *seg, *dash = NULL;
	unsigned long k = 0;
	char *end = NULL;

	memset(sv, 0, sizeof(*sv));
	sv->size = -1;
	if (ver[0] == '+') {
		sv->move = 1;
		ver++;
	}
	sl = strchr(ver, '/');
	snprintf(sv->etag0, sizeof(sv->etag0), "%.*s",
	    (int)(sl ? (size_t)(sl - ver) : strlen(ver)), ver);
	if (!sl)
		return 0;
	seg = sl + 1;
	if ((sv->etagk = strchr(seg, '/')) && (dash = memchr(seg, '-', (size_t)(sv->etagk - seg))))
		k = strtoul(dash + 1, &end, 10);
	if (k > 0 && end && *end == '.' && isdigit((unsigned char)end[1]))
		sv->size = strtoll(end + 1, &end, 10);
	if (!dash || dash == seg || (size_t)(dash - seg) >= CHAIN_MAX || k > 1000000000 ||
	    end != sv->etagk || (k > 0 && sv->size < 0))
		return store_fail(st, STORE_EINVAL, "cannot put '%s': malformed version '%s'",
		    path, ver);
	snprintf(sv->chain, sizeof(sv->chain), "%.*s", (int)(dash - seg), seg);
	sv->k = (unsigned)k;
	sv->segs = 1;
	sv->etagk++;
	return 0;
}

/*
 * For put_if of an object of segments (sv): seal its last segment if it is
 * still as read, so no append lands in it any more, and see that no next
 * one was made. 0, or STORE_ECONFLICT. An appender may still make a next
 * segment between this and the put (it saw the first segment unchanged):
 * put_if loses its lines with the chain, put_log_if moves them (segs_move).
 */
static int
seg_put_if_check(struct store *st, const char *path, const struct segver *sv)
{
	char *name = seg_name(path, sv->chain, sv->k), *next = seg_name(path, sv->chain, sv->k + 1);
	struct req r;
	int rc;

	/* a first segment in a version of segments was sealed when read: its
	 * ETag, compared by the put (If-Match), says whether it still is */
	if (sv->k == 0) {
		rc = 0;
		goto next;
	}
	req_init(&r, "PUT", name);
	req_q(&r, "comp", "seal");
	r.if_match = sv->etagk;
	if ((rc = az_do(st, &r)) == 0 && !ok(&r)) {
		/*
		 * a 412 on a second try: the first may have sealed it (Azurite
		 * gives a sealed blob a new ETag; Azure keeps it), or an append
		 * came in between, which its appender may have sealed, the
		 * segment being full: sealed is not enough, only sealed at the
		 * size read says that it is still as read
		 */
		int as_read = 0;

		if (r.retried && r.status == 412) {
			struct req h;

			req_init(&h, "HEAD", name);
			as_read = az_do(st, &h) == 0 && ok(&h) && h.sealed && h.clen == sv->size;
			sbuf_release(&h.err);
		}
		if (!as_read)
			rc = store_fail(st, STORE_ECONFLICT, "cannot put '%s': it changed meanwhile",
			    path);
	}
	sbuf_release(&r.err);
next:
	if (rc == 0) {
		req_init(&r, "HEAD", next);
		if ((rc = az_do(st, &r)) == 0 && r.status != 404)
			rc = store_fail(st, STORE_ECONFLICT, "cannot put '%s': it changed meanwhile",
			    path);
		sbuf_release(&r.err);
	}
	free(name);
	free(next);
	return rc;
}

/* After a conditional put of path that failed (rc): STORE_ENOENT when path is gone, else rc. */
static int
put_if_gone(struct store *st, const char *path, int rc)
{
	struct store_stat sst;
	char keep[sizeof(st->err)];

	if (rc != STORE_ECONFLICT)
		return rc;
	memcpy(keep, st->err, sizeof(keep));
	if (az_stat(st, path, &sst) == STORE_ENOENT)
		return store_fail(st, STORE_ENOENT, "cannot put '%s': it is gone", path);
	memcpy(st->err, keep, sizeof(keep));
	return rc;
}

static int
az_put_if(struct store *st, const char *path, const void *buf, size_t len, const char *ver)
{
	struct segver sv;
	int rc;

	if ((rc = seg_ver_split(st, path, ver, &sv)) < 0 ||
	    (sv.move && (rc = move_finish(st, path, &sv)) < 0) ||
	    (sv.segs && (rc = seg_put_if_check(st, path, &sv)) < 0))
		return rc;
	return put_if_gone(st, path, put_mem(st, path, buf, len, sv.etag0, NULL));
}

/* Same size and modification time: the file did not change. */
static int
same_file(const struct stat *x, const struct stat *y)
{
	return x->st_size == y->st_size && x->st_mtim.tv_sec == y->st_mtim.tv_sec &&
	    x->st_mtim.tv_nsec == y->st_mtim.tv_nsec;
}

/*
 * Put a file: one Put Blob up to put_max bytes; above it, its blocks over
 * st->parallel connections (parts_run), then Put Block List. A big file
 * that changes while it is put is refused, its old blob left as it was.
 */
static int
az_put_file(struct store *st, const char *path, const char *local, char *sha, store_progress_fn
    progress, void *arg)
{
	struct az *a = st->priv;
	struct sha256 h;
	struct stat sb, sb2;
	char hex[65];
	int fd, rc = 0;

	if ((fd = open(local, O_RDONLY | O_CLOEXEC)) < 0)
		return store_fail(st, STORE_ERR, "cannot open '%s': %s", local, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return store_fail(st, STORE_ERR, "cannot put '%s': not a regular file", local);
	}
	sha256_init(&h);
	if (sb.st_size <= a->put_max) {
		/* small: one Put Blob (a file that grew meanwhile is cut where it was) */
		unsigned char *buf = xmalloc((size_t)(sb.st_size ? sb.st_size : 1));
		size_t want = (size_t)sb.st_size, got = 0;
		ssize_t k = 1;

		while (got < want && (k = read(fd, buf + got, want - got)) > 0)
			got += (size_t)k;
		if (k < 0)
			rc = store_fail(st, STORE_ERR, "cannot read '%s': %s", local, strerror(errno));
		else
			rc = put_mem(st, path, buf, got, NULL, NULL);
		sha256_update(&h, buf, got);
		free(buf);
		sha256_hex(&h, hex);
		sb.st_size = (off_t)got;
	} else {
		struct parts p;

		memset(&p, 0, sizeof(p));
		p.st = st;
		p.path = path;
		p.fd = fd;
		p.put = 1;
		p.tag = (unsigned)random();
		p.end = sb.st_size;
		p.block = a->block;
		p.hash = &h;
		p.progress = progress;
		p.parg = arg;
		rc = parts_run(&p);
		if (rc == 0 && (fstat(fd, &sb2) < 0 || !same_file(&sb, &sb2)))
			rc = store_fail(st, STORE_ERR, "cannot put '%s': '%s' changed while being put",
			    path, local);
		sha256_hex(&h, hex);
		if (rc == 0)
			rc = put_block_list(st, path, p.tag, (unsigned)p.nparts, hex, NULL, NULL);
	}
	close(fd);
	if (rc == 0) {
		if (progress)
			progress(sb.st_size, sb.st_size, arg);
		if (sha)
			memcpy(sha, hex, 65);
	}
	return rc;
}

/*
 * Appended objects and Azure's limit of 50,000 appends to one Append Blob.
 * An appended object is a chain of segments: the blob PATH itself, then
 * SEG_DIR PATH/CHAIN-1, CHAIN-2, ... CHAIN is a random name made with the
 * object's first segment and kept in every segment's metadata "xtchain",
 * so that segments left over by an object since replaced or deleted are
 * never read as a part of a new one. A segment that is full (it holds
 * app_blocks blocks, or Azure answered BlockCountExceedsLimit) is sealed
 * (Append Blob Seal) before the next is made, and a sealed blob never
 * changes again. So:
 *   - the object's bytes are its segments' in order, up to the first one
 *     that is not sealed, or missing (its appender is making it): readers
 *     (get, get_ver, get_file, stat, list) join them, and see one object;
 *   - an append lands at an appendpos of one segment, as before: one that
 *     meets a seal (409 BlobIsSealed) or the limit goes on to the next
 *     segment, and one sent again after a lost answer is looked for, at the
 *     position it was sent to, in the segment it was sent to (landed), so
 *     it is never done twice and never lost;
 *   - the segments are under .tmp, the store's own (store_path_reserved):
 *     no path reaches them, listings leave them out, delete removes them;
 *     a put over an appended object makes PATH a block blob, never sealed,
 *     so its old segments are no longer read by a reader that starts
 *     after it: they go with the first rollover of a later chain of that
 *     path that comes after their grace (segs_delete), or its delete.
 * The version of an object of more than one segment is
 * ETAG0/CHAIN-K.SIZEK/ETAGK: the first segment's ETag, the last one's size
 * and ETag (a seal sent again finds it sealed, by whom it may not say: at
 * the size read, it is as read). That of an object of one segment (sealed,
 * its next one not yet made, or not sealed: Azure keeps an ETag through a
 * seal, so an appender may seal it and go on unseen by If-Match) is
 * ETAG0/CHAIN-0/ETAG0, so that a put_if or put_log_if of it sees that no
 * segment 1 was made and put_log_if moves the lines of one made after.
 * put_if and put_log_if of such a version seal segment K as read, see no
 * K+1, and replace PATH If-Match ETAG0; put_log_if then moves over the
 * lines of any K+1, K+2, ... an appender made meanwhile (segs_move).
 * A version read of an object whose move may not be done has a '+' before
 * it (ver_moving), so that put_if and put_log_if of it finish the move
 * first (move_finish).
 */
static char *
seg_name(const char *path, const char *chain, unsigned k)
{
	return k ? xasprintf(SEG_DIR "%s/%s-%u", path, chain, k) : xstrdup(path);
}

/* Whether r's answer is of a sealed segment of chain, which another follows. */
static int
seg_continues(const struct req *r, const char *chain)
{
	return r->sealed && chain[0] && !strcmp(r->chain, chain) &&
	    !strcmp(r->blobtype, "AppendBlob");
}

/*
 * Whether r's answer is of the first segment of an appended object (it
 * has a chain), not sealed: its version is ETAG0/CHAIN-0/ETAG0 too, not
 * its ETag alone. Azure keeps a blob's ETag when it is sealed, so a put
 * If-Match that ETag still succeeds after an appender sealed it as full
 * and went on in CHAIN-1: put_log_if then moves that segment's lines over
 * (segs_move), as for an object read with its first segment sealed.
 */
static int
appended_unsealed(const struct req *r)
{
	return !r->sealed && r->chain[0] && !strcmp(r->blobtype, "AppendBlob");
}

/*
 * The version ETAG0/CHAIN-K.SIZE/ETAGK (K > 0) or ETAG0/CHAIN-0/ETAG0 into
 * ver (STORE_VER_MAX): 0, or -1 when too long.
 */
static int
seg_ver(char *ver, const char *etag0, const char *chain, unsigned k, int64_t size,
    const char *etag)
{
	char v[2 * STORE_VER_MAX + CHAIN_MAX + 40];

	if (k > 0)
		snprintf(v, sizeof(v), "%s/%s-%u.%lld/%s", etag0, chain, k, (long long)size, etag);
	else
		snprintf(v, sizeof(v), "%s/%s-0/%s", etag0, chain, etag);
	if (strlen(v) >= STORE_VER_MAX)
		return -1;
	memcpy(ver, v, strlen(v) + 1);
	return 0;
}

/* The name of the mark that segment name's lines were moved (segs_move); caller frees. */
static char *
seg_mark(const char *name)
{
	return xasprintf("%s.moved", name);
}

/*
 * The lines of a move (CHAIN-K, see segs_move) not marked moved yet: those
 * of the segments K+1, K+2, ... of the chain CHAIN, up to the first that
 * is missing or not sealed, that come after the object's own bytes (which
 * end at base). Their size is added to *size and the count of segments
 * marked moved to *moved; with out, the bytes off.. (len < 0: to the end)
 * of the object that are theirs are added to it. 0 or an error.
 */
static int
segs_pending(struct store *st, const char *path, const char *move, int64_t base, int64_t off,
    int64_t len, struct sbuf *out, int64_t *size, int *moved)
{
	char chain[CHAIN_MAX];
	struct sbuf buf;
	unsigned k;
	int rc = 0, sealed = 1;

	if (move_split(move, chain, &k) < 0)
		return 0;
	sbuf_init(&buf, out ? out->max : 1);
	while (rc == 0 && sealed) {
		char *name = seg_name(path, chain, ++k), *mark;
		struct req r;
		int64_t n;

		req_init(&r, out ? "GET" : "HEAD", name);
		sbuf_reset(&buf);
		r.out = out ? &buf : NULL;
		rc = az_do(st, &r);
		if (rc == 0 && r.status == 404 && strcmp(r.code, "ContainerNotFound")) {
			sbuf_release(&r.err);
			free(name);
			break;
		}
		if (rc == 0 && !ok(&r))
			rc = az_fail(st, &r, "get", path);
		else if (rc == 0 && r.sink_failed)
			rc = store_fail(st, STORE_ERR, "cannot get '%s': %s", path,
			    strerror(r.sink_errno));
		n = out ? (int64_t)buf.len : r.clen;
		sealed = r.sealed;
		sbuf_release(&r.err);
		if (rc == 0) {
			mark = seg_mark(name);
			req_init(&r, "HEAD", mark);
			if ((rc = az_do(st, &r)) == 0 && ok(&r)) {
				(*moved)++;
				n = -1;
			} else if (rc == 0 && r.status != 404) {
				rc = az_fail(st, &r, "get", path);
			}
			sbuf_release(&r.err);
			free(mark);
		}
		if (rc == 0 && n > 0) {
			int64_t from = off > base ? off - base : 0, to = len < 0 ? n : off + len - base;

			if (to > n)
				to = n;
			if (out && from < to && sbuf_add(out, buf.buf + from, (size_t)(to - from)) < 0)
				rc = store_fail(st, STORE_ERR, "cannot get '%s': %s", path,
				    strerror(EFBIG));
			base += n;
			*size += n;
		}
		free(name);
	}
	sbuf_release(&buf);
	return rc;
}

/* ver with '+' before it: read with a move not known done (segs_move). 0, or -1 when too long. */
static int
ver_moving(char *ver)
{
	size_t n = strlen(ver);

	if (n + 2 > STORE_VER_MAX)
		return -1;
	memmove(ver + 1, ver, n + 1);
	ver[0] = '+';
	return 0;
}

static int
az_stat(struct store *st, const char *path, struct store_stat *sst)
{
	char chain[CHAIN_MAX] = "", etag0[STORE_VER_MAX] = "", move[MOVE_MAX] = "";
	char *name = xstrdup(path);
	unsigned k;
	int rc = 0, moved = 0;

	for (k = 0; ; k++) {
		struct req r;
		int cont;

		req_init(&r, "HEAD", name);
		if ((rc = az_do(st, &r)) == 0 && !ok(&r)) {
			if (k > 0 && r.status == 404 && strcmp(r.code, "ContainerNotFound")) {
				/* a full segment whose next one is being made: the end */
				sbuf_release(&r.err);
				if (k == 1 && seg_ver(sst->ver, etag0, chain, 0, 0, etag0) < 0)
					rc = store_fail(st, STORE_ERR, "cannot stat '%s': its ETags "
					    "are too long", path);
				break;
			}
			rc = az_fail(st, &r, "stat", path);
		}
		if (rc == 0 && !r.etag[0])
			rc = store_fail(st, STORE_ERR, "cannot stat '%s': the answer has no ETag",
			    path);
		if (rc < 0) {
			sbuf_release(&r.err);
			break;
		}
		if (k == 0) {
			snprintf(chain, sizeof(chain), "%s", r.chain);
			snprintf(etag0, sizeof(etag0), "%s", r.etag);
			snprintf(move, sizeof(move), "%s", r.move);
			sst->size = 0;
			memcpy(sst->sha256, r.sha, sizeof(r.sha));
			/* the version store_get_ver gives and store_put_if compares (If-Match) */
			memcpy(sst->ver, r.etag, sizeof(r.etag));
		} else if (seg_ver(sst->ver, etag0, chain, k, r.clen, r.etag) < 0) {
			rc = store_fail(st, STORE_ERR, "cannot stat '%s': its ETags are too long",
			    path);
			sbuf_release(&r.err);
			break;
		}
		sst->size += r.clen;
		sst->mtime_ms = r.mtime_ms;
		cont = seg_continues(&r, chain);
		if (k == 0 && appended_unsealed(&r) &&
		    seg_ver(sst->ver, etag0, chain, 0, 0, etag0) < 0)
			rc = store_fail(st, STORE_ERR, "cannot stat '%s': its ETags are too long",
			    path);
		sbuf_release(&r.err);
		if (!cont || rc < 0)
			break;
		free(name);
		name = seg_name(path, chain, k + 1);
	}
	free(name);
	if (rc == 0 && move[0] && ((rc = segs_pending(st, path, move, sst->size, 0, -1, NULL,
	    &sst->size, &moved)) < 0 || ver_moving(sst->ver) < 0))
		rc = rc < 0 ? rc : store_fail(st, STORE_ERR, "cannot stat '%s': its ETags are too "
		    "long", path);
	return rc;
}

/*
 * Create an empty Append Blob name, segment of chain, unless one exists:
 * 0 or an error (not STORE_EXIST); *made when this call made it, or one of
 * chain's appenders did (a create whose answer was lost, sent again, meets
 * 409: the segment has our chain, so it is ours), and then *made_ms (when
 * not NULL) its Last-Modified, the server's time, or 0.
 */
static int
append_create(struct store *st, const char *name, const char *path, const char *chain,
    int *made, int64_t *made_ms)
{
	struct req r;
	int rc;

	req_init(&r, "PUT", name);
	req_h(&r, "x-ms-blob-type", "AppendBlob");
	req_h(&r, "x-ms-meta-xtchain", chain);
	r.if_none_match = "*";
	if ((rc = az_do(st, &r)) == 0 && !ok(&r) && !(r.status == 409 &&
	    !strcmp(r.code, "BlobAlreadyExists")))
		rc = az_fail(st, &r, "append to", path);
	*made = rc == 0 && ok(&r);
	if (rc == 0 && !*made) {
		sbuf_release(&r.err);
		req_init(&r, "HEAD", name);
		*made = az_do(st, &r) == 0 && ok(&r) && chain[0] && !strcmp(r.chain, chain);
	}
	if (made_ms)
		*made_ms = *made ? r.mtime_ms : 0;
	sbuf_release(&r.err);
	return rc;
}

/* Seal the segment name of path: no append lands in it after this. */
static int
seg_seal(struct store *st, const char *name, const char *path)
{
	struct req r;
	int rc;

	req_init(&r, "PUT", name);
	req_q(&r, "comp", "seal");
	if ((rc = az_do(st, &r)) == 0 && !ok(&r) && !(r.status == 409 &&
	    !strcmp(r.code, "BlobIsSealed")))
		rc = az_fail(st, &r, "seal a full segment of", path);
	sbuf_release(&r.err);
	return rc;
}

static int list_raw(struct store *st, const char *prefix, int recursive, int own,
    store_list_fn fn, void *arg);

struct names {
	char **v;
	int64_t *mtime;		/* each one's Last-Modified */
	size_t n;
};

static int
gather_blob(const struct store_entry *e, void *arg)
{
	struct names *nm = arg;

	if (!e->is_dir) {
		nm->v = xrealloc(nm->v, (nm->n + 1) * sizeof(*nm->v));
		nm->mtime = xrealloc(nm->mtime, (nm->n + 1) * sizeof(*nm->mtime));
		nm->mtime[nm->n] = e->mtime_ms;
		nm->v[nm->n++] = xstrdup(e->path);
	}
	return 0;
}

/* The length of the chain's name in a segment's name s (CHAIN-K): up to its last '-'. */
static size_t
chain_len(const char *s)
{
	const char *d = strrchr(s, '-');

	return d ? (size_t)(d - s) : strlen(s);
}

/*
 * Delete the segments of path's chains but keep's (NULL: all): best
 * effort, as nothing reads them (see seg_name); st's message is kept.
 * With before > 0, only those of a chain whose every segment was last
 * changed before it (server time, ms): a chain that a reader may still be
 * reading, or a compaction moving (segs_move), stays for now.
 */
static void
segs_delete(struct store *st, const char *path, const char *keep, int64_t before)
{
	struct names nm = { NULL, NULL, 0 };
	char *dir = xasprintf(SEG_DIR "%s/", path), keep_err[sizeof(st->err)];
	size_t i, j, dl = strlen(dir), kl = keep ? strlen(keep) : 0;

	memcpy(keep_err, st->err, sizeof(keep_err));
	if (list_raw(st, dir, 0, 1, gather_blob, &nm) == 0)
		for (i = 0; i < nm.n; i++) {
			const char *c = nm.v[i] + dl;
			size_t cl = chain_len(c);
			int young = 0;
			struct req r;

			if (keep && cl == kl && !strncmp(c, keep, kl))
				continue;
			for (j = 0; before > 0 && j < nm.n && !young; j++)
				young = chain_len(nm.v[j] + dl) == cl && !strncmp(nm.v[j] + dl, c, cl) &&
				    nm.mtime[j] >= before;
			if (young)
				continue;
			req_init(&r, "DELETE", nm.v[i]);
			az_do(st, &r);
			sbuf_release(&r.err);
		}
	for (i = 0; i < nm.n; i++)
		free(nm.v[i]);
	free(nm.v);
	free(nm.mtime);
	free(dir);
	memcpy(st->err, keep_err, sizeof(keep_err));
}

static int
az_append(struct store *st, const char *path, const void *buf, size_t len)
{
	struct az *a = st->priv;
	char chain[CHAIN_MAX] = "", etag0[STORE_VER_MAX] = "", *name;
	int64_t pos = -1;
	unsigned seg = 0;
	int tries, rc = 0, next = 0;

	if (len > APPEND_MAX)
		return store_fail(st, STORE_EINVAL, "cannot append %zu bytes to '%s' at once: "
		    "Azure takes at most %zu bytes (4 MiB) in one append", len, path, APPEND_MAX);
	if (a->app_path && !strcmp(a->app_path, path)) {
		pos = a->app_pos;
		seg = a->app_seg;
		memcpy(chain, a->app_chain, sizeof(chain));
		memcpy(etag0, a->app_etag0, sizeof(etag0));
	}
	free(a->app_path);
	a->app_path = NULL;
	name = seg_name(path, chain, seg);
	for (tries = 0; tries < APPEND_TRIES; tries++) {
		struct req r;
		char at[32];

		if (pos < 0) {
			req_init(&r, "HEAD", name);
			rc = az_do(st, &r);
			if (rc == 0 && r.status == 404 && strcmp(r.code, "ContainerNotFound")) {
				int64_t made_ms = 0;
				int made = 0;

				sbuf_release(&r.err);
				if (seg > 0 && !next) {
					/* a segment known before is gone: the object was deleted */
					seg = 0;
					chain[0] = etag0[0] = '\0';
					free(name);
					name = xstrdup(path);
					continue;
				}
				if (seg == 0)
					snprintf(chain, sizeof(chain), "%08lx%08lx",
					    (unsigned long)random(), (unsigned long)random());
				if ((rc = append_create(st, name, path, chain, &made, &made_ms)) < 0)
					break;
				/*
				 * the first rollover of a chain takes away older chains'
				 * segments once their grace is over (a reader may be in
				 * one); with no grace, all of them
				 */
				if (made && seg == 1 && (!a->seg_grace_ms || made_ms > a->seg_grace_ms))
					segs_delete(st, path, chain,
					    a->seg_grace_ms ? made_ms - a->seg_grace_ms : 0);
				continue;
			}
			if (rc == 0 && !ok(&r))
				rc = az_fail(st, &r, "append to", path);
			else if (rc == 0 && strcmp(r.blobtype, "AppendBlob"))
				rc = store_fail(st, STORE_ERR, "cannot append to '%s': it was put "
				    "whole (a %s), not appended to", path, r.blobtype);
			if (rc == 0 && seg == 0)
				snprintf(chain, sizeof(chain), "%s", r.chain);
			if (rc == 0 && (r.sealed || r.blocks >= a->app_blocks)) {
				/* full: sealed (by us, if no one did yet), then the next segment */
				if (!chain[0] || (seg > 0 && strcmp(r.chain, chain)))
					rc = store_fail(st, STORE_ERR, "cannot append to '%s': it is "
					    "full (%lld appends) and was not made by this xt, which "
					    "goes on in a next segment", path, (long long)r.blocks);
				else if (!r.sealed)
					rc = seg_seal(st, name, path);
				sbuf_release(&r.err);
				if (rc < 0)
					break;
				free(name);
				name = seg_name(path, chain, ++seg);
				next = 1;
				continue;
			}
			next = 0;
			pos = r.clen;
			sbuf_release(&r.err);
			if (rc < 0)
				break;
		}
		if (len == 0)
			break;
		if (seg > 0) {
			/*
			 * past the first segment, see that it is still the sealed first
			 * one of this chain: a put since made the object a block blob, and
			 * an append to the old chain would be lost
			 */
			req_init(&r, "HEAD", path);
			r.if_match = etag0[0] ? etag0 : NULL;
			rc = az_do(st, &r);
			if (rc == 0 && ok(&r) && seg_continues(&r, chain)) {
				snprintf(etag0, sizeof(etag0), "%s", r.etag);
			} else if (rc == 0 && (ok(&r) || r.status == 412 || (r.status == 404 &&
			    strcmp(r.code, "ContainerNotFound")))) {
				sbuf_release(&r.err);
				seg = 0;
				pos = -1;
				chain[0] = etag0[0] = '\0';
				free(name);
				name = xstrdup(path);
				continue;
			} else if (rc == 0) {
				rc = az_fail(st, &r, "append to", path);
			}
			sbuf_release(&r.err);
			if (rc < 0)
				break;
		}
		snprintf(at, sizeof(at), "%lld", (long long)pos);
		req_init(&r, "PUT", name);
		req_q(&r, "comp", "appendblock");
		req_h(&r, "x-ms-blob-condition-appendpos", at);
		r.body = buf;
		r.len = len;
		rc = az_do(st, &r);
		if (rc == 0 && r.retried && (r.status == 412 || r.status == 409) &&
		    landed(st, name, pos, buf, len)) {
			/*
			 * the first try was done, its answer lost (and the segment
			 * maybe sealed since): the bytes are there once. Its block
			 * count was lost too: the next append reads it (HEAD), so a
			 * segment this filled is sealed then, not appended past
			 */
			sbuf_release(&r.err);
			pos = -1;
			break;
		}
		if (rc == 0 && r.status == 409 && !strcmp(r.code, "BlockCountExceedsLimit")) {
			/* full, whatever the count we were told: sealed, then as below */
			sbuf_release(&r.err);
			if (!chain[0]) {
				rc = store_fail(st, STORE_ERR, "cannot append to '%s': it is full and "
				    "was not made by this xt, which goes on in a next segment", path);
				break;
			}
			if ((rc = seg_seal(st, name, path)) < 0)
				break;
			pos = -1;
			continue;
		}
		if (rc == 0 && r.status == 409 && !strcmp(r.code, "BlobIsSealed")) {
			/* full: its HEAD says so, and where to go on */
			sbuf_release(&r.err);
			pos = -1;
			continue;
		}
		if (rc == 0 && (r.status == 412 || (r.status == 404 &&
		    strcmp(r.code, "ContainerNotFound")))) {
			/*
			 * another appender was first (or the blob went): read its size
			 * again, after a random wait that grows, so that many appenders
			 * do not keep meeting
			 */
			sbuf_release(&r.err);
			pos = -1;
			usleep((useconds_t)(random() % (1000L << (tries < 7 ? tries : 7))));
			continue;
		}
		if (rc == 0 && !ok(&r))
			rc = az_fail(st, &r, "append to", path);
		sbuf_release(&r.err);
		if (rc < 0)
			break;
		pos += (int64_t)len;
		/* the block that filled the segment: seal it now, the next append goes on */
		if (r.blocks >= a->app_blocks && chain[0]) {
			if (seg_seal(st, name, path) == 0)
				pos = -1;
		}
		break;
	}
	free(name);
	if (rc < 0)
		return rc;
	if (tries == APPEND_TRIES)
		return store_fail(st, STORE_ERR, "cannot append to '%s': other appenders always "
		    "came first (%d tries)", path, APPEND_TRIES);
	a->app_path = xstrdup(path);
	a->app_seg = seg;
	memcpy(a->app_chain, chain, sizeof(chain));
	memcpy(a->app_etag0, etag0, sizeof(etag0));
	a->app_pos = pos;
	return 0;
}

/* GET path (a range when off > 0 or len >= 0) into r's sink; 416 is an empty answer. */
static int
get_into(struct store *st, struct req *r, const char *path, int64_t off, int64_t len)
{
	char range[64];
	int rc;

	if (off > 0 || len >= 0) {
		if (len >= 0)
			snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)off,
			    (long long)(off + len - 1));
		else
			snprintf(range, sizeof(range), "bytes=%lld-", (long long)off);
		req_h(r, "x-ms-range", range);
	}
	if ((rc = az_do(st, r)) < 0)
		return rc;
	if (r->status == 416)
		return 0;
	if (r->sink_failed)
		return store_fail(st, STORE_ERR, "cannot get '%s': %s", path,
		    strerror(r->sink_errno));
	return ok(r) ? 0 : az_fail(st, r, "get", path);
}

/*
 * GET the bytes off.. (len < 0: to the end) of the blob that r names into
 * r->out, and its size in *size. A range is asked from off - 1 and its
 * first byte dropped, so that a read at the end (xt-log -f) still gets an
 * answer that tells the size and the seal, as a 416 does not; a read past
 * the end asks with HEAD.
 */
static int
seg_get(struct store *st, struct req *r, const char *path, int64_t off, int64_t len,
    int64_t *size)
{
	size_t out0 = r->out->len, max0 = r->out->max;
	int skip = off > 0, rc;

	/* room for the byte asked before off, dropped below */
	if (skip && r->out->max < SIZE_MAX)
		r->out->max++;
	rc = get_into(st, r, path, off - skip, len < 0 ? -1 : len + skip);
	r->out->max = max0;
	if (rc < 0)
		return rc;
	if (r->status == 416) {
		struct req h;

		req_init(&h, "HEAD", r->path);
		if ((rc = az_do(st, &h)) == 0 && !ok(&h))
			rc = az_fail(st, &h, "get", path);
		r->sealed = h.sealed;
		memcpy(r->chain, h.chain, sizeof(h.chain));
		memcpy(r->move, h.move, sizeof(h.move));
		memcpy(r->blobtype, h.blobtype, sizeof(h.blobtype));
		memcpy(r->etag, h.etag, sizeof(h.etag));
		*size = h.clen;
		sbuf_release(&h.err);
		return rc;
	}
	*size = r->total >= 0 ? r->total : r->clen;
	if (skip && r->out->len > out0) {
		memmove(r->out->buf + out0, r->out->buf + out0 + 1, r->out->len - out0 - 1);
		r->out->buf[--r->out->len] = '\0';
	}
	return 0;
}

/*
 * One read of len bytes from off (len < 0: to the end) of the object path,
 * joining its segments, into out; its version into ver when not NULL. A
 * first segment that names a move (metadata "xtmove") has the lines not
 * yet moved added after its own (segs_pending): the move into move, the
 * count of its segments marked moved into *moved.
 */
static int
obj_get_once(struct store *st, const char *path, int64_t off, int64_t len, struct sbuf *out,
    char *ver, char *move, int *moved)
{
	char chain[CHAIN_MAX] = "", etag0[STORE_VER_MAX] = "", *name = xstrdup(path);
	int64_t base = 0, size = 0;
	unsigned k;
	int rc = 0;

	move[0] = '\0';
	*moved = 0;
	for (k = 0; ; k++) {
		struct req r;
		int64_t o = off > base ? off - base : 0, n = -1;
		int cont;

		size = 0;
		if (len >= 0 && (n = off + len - (base + o)) <= 0)
			break;
		req_init(&r, "GET", name);
		r.out = out;
		rc = seg_get(st, &r, path, o, n, &size);
		if (rc == STORE_ENOENT && k > 0) {
			/* a full segment whose next one is being made: the end */
			sbuf_release(&r.err);
			rc = 0;
			if (k == 1 && ver && seg_ver(ver, etag0, chain, 0, 0, etag0) < 0)
				rc = store_fail(st, STORE_ERR, "cannot get '%s': its ETags are "
				    "too long", path);
			break;
		}
		if (rc == 0 && ver && !r.etag[0])
			rc = store_fail(st, STORE_ERR, "cannot get '%s': the answer has no ETag",
			    path);
		if (rc < 0) {
			sbuf_release(&r.err);
			break;
		}
		if (k == 0) {
			snprintf(chain, sizeof(chain), "%s", r.chain);
			snprintf(etag0, sizeof(etag0), "%s", r.etag);
			snprintf(move, MOVE_MAX, "%s", r.move);
			if (ver)
				memcpy(ver, r.etag, sizeof(r.etag));
		} else if (ver && seg_ver(ver, etag0, chain, k, size, r.etag) < 0) {
			rc = store_fail(st, STORE_ERR, "cannot get '%s': its ETags are too long",
			    path);
			sbuf_release(&r.err);
			break;
		}
		cont = seg_continues(&r, chain);
		if (k == 0 && ver && appended_unsealed(&r) &&
		    seg_ver(ver, etag0, chain, 0, 0, etag0) < 0)
			rc = store_fail(st, STORE_ERR, "cannot get '%s': its ETags are too long",
			    path);
		sbuf_release(&r.err);
		base += size;
		if (!cont || rc < 0)
			break;
		free(name);
		name = seg_name(path, chain, k + 1);
	}
	free(name);
	if (rc == 0 && move[0] && (len < 0 || base < off + len)) {
		int64_t more = 0;

		rc = segs_pending(st, path, move, base, off, len, out, &more, moved);
	}
	if (rc == 0 && move[0] && ver && ver_moving(ver) < 0)
		rc = store_fail(st, STORE_ERR, "cannot get '%s': its ETags are too long", path);
	return rc;
}

/*
 * Get len bytes from off (len < 0: to the end) of the object path into
 * out (empty), its version into ver when not NULL. A segment of a move
 * marked moved is left out as its lines are in the object; one marked
 * since this read began may have had them added after the part already
 * read, so the read starts again until no new mark comes between.
 */
static int
obj_get(struct store *st, const char *path, int64_t off, int64_t len, struct sbuf *out,
    char *ver)
{
	char move[MOVE_MAX], seen[MOVE_MAX] = "";
	int rc, tries, moved, known = 0;

	for (tries = 0; tries < 10; tries++) {
		if ((rc = obj_get_once(st, path, off, len, out, ver, move, &moved)) < 0 ||
		    moved == 0 || (moved <= known && !strcmp(move, seen)))
			return rc;
		known = moved;
		memcpy(seen, move, sizeof(seen));
		sbuf_reset(out);
	}
	return store_fail(st, STORE_ERR, "cannot get '%s': lines kept being moved into it while "
	    "it was read (%d tries)", path, tries);
}

static int
az_get(struct store *st, const char *path, int64_t off, int64_t len, struct sbuf *out)
{
	int rc;

	if (len == 0) {
		struct store_stat sst;

		return az_stat(st, path, &sst);
	}
	if ((rc = obj_get(st, path, off, len, out, NULL)) < 0)
		sbuf_reset(out);
	return rc;
}

static int
az_get_ver(struct store *st, const char *path, struct sbuf *out, char *ver)
{
	int rc;

	if ((rc = obj_get(st, path, 0, -1, out, ver)) < 0)
		sbuf_reset(out);
	return rc;
}

/*
 * After the first segment of path (r0, its bytes in fd and h), the others:
 * in ranges of a->block through memory, so that a try sent again restarts
 * its range, not the file.
 */
static int
segs_to_fd(struct store *st, const char *path, const struct req *r0, int fd, struct sha256 *h)
{
	struct az *a = st->priv;
	struct sbuf buf;
	char chain[CHAIN_MAX];
	unsigned k;
	int rc = 0, cont = 1;

	if (!seg_continues(r0, r0->chain))
		return 0;
	memcpy(chain, r0->chain, sizeof(chain));
	sbuf_init(&buf, SIZE_MAX);
	for (k = 1; cont && rc == 0; k++) {
		char *name = seg_name(path, chain, k);
		int64_t off = 0, size = 0;

		do {
			struct req r;

			req_init(&r, "GET", name);
			sbuf_reset(&buf);
			r.out = &buf;
			rc = seg_get(st, &r, path, off, a->block, &size);
			if (rc == STORE_ENOENT) {
				rc = 0;
				cont = 0;
			} else if (rc == 0 && write_all(fd, buf.buf, buf.len) < 0) {
				rc = store_fail(st, STORE_ERR, "cannot get '%s': %s", path,
				    strerror(errno));
			} else if (rc == 0) {
				sha256_update(h, buf.buf, buf.len);
				off += (int64_t)buf.len;
				cont = seg_continues(&r, chain);
			}
			sbuf_release(&r.err);
		} while (rc == 0 && buf.len && off < size);
		free(name);
	}
	sbuf_release(&buf);
	return rc;
}

/*
 * Get a blob into a file: one Get Blob, or with st->parallel > 1 its
 * first block and then the rest in parts over that many connections,
 * each written at its place (If-Match: all parts of one version).
 */
static int
az_get_file(struct store *st, const char *path, const char *local, char *sha, store_progress_fn
    progress, void *arg)
{
	struct az *a = st->priv;
	struct sha256 h;
	struct req r;
	char hex[65], *tmp = NULL;
	const char *written;
	int fd, rc, ranged = st->parallel > 1, hashed = 0, moving = 0;

	/* as the folder store: a new file in place, an existing one through a temporary */
	fd = open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		tmp = xasprintf("%s.xt-tmp.%ld", local, (long)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	}
	if (fd < 0) {
		rc = store_fail(st, STORE_ERR, "cannot create '%s': %s", local, strerror(errno));
		free(tmp);
		return rc;
	}
	written = tmp ? tmp : local;
	sha256_init(&h);
	req_init(&r, "GET", path);
	r.outfd = fd;
	r.hash = &h;
	r.progress = progress;
	r.parg = arg;
	/* in parallel: the first block, which tells the size, then the rest in parts */
	rc = get_into(st, &r, path, 0, ranged ? a->block : -1);
	if (rc == 0 && ranged && r.status == 416) {
		/* an empty blob has no byte 0: ask for the whole */
		sbuf_release(&r.err);
		req_init(&r, "GET", path);
		r.outfd = fd;
		r.hash = &h;
		r.progress = progress;
		r.parg = arg;
		rc = get_into(st, &r, path, 0, -1);
	}
	if (rc == 0 && r.clen >= 0 && r.got != r.clen)
		rc = store_fail(st, STORE_ERR, "cannot get '%s': %lld of %lld bytes came", path,
		    (long long)r.got, (long long)r.clen);
	/*
	 * An object a compaction is moving lines into (metadata "xtmove"):
	 * read whole as obj_get reads it, again while segments are marked
	 * moved during the read, and written over what came
	 */
	if (rc == 0 && r.status != 416 && !r.sink_failed && r.move[0]) {
		struct sbuf all;

		moving = 1;
		sbuf_init(&all, SIZE_MAX);
		if ((rc = obj_get(st, path, 0, -1, &all, NULL)) == 0 &&
		    (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0 ||
		    write_all(fd, all.buf, all.len) < 0))
			rc = store_fail(st, STORE_ERR, "cannot write '%s': %s", local,
			    strerror(errno));
		sha256_init(&h);
		sha256_update(&h, all.buf, all.len);
		sbuf_release(&all);
	}
	if (rc == 0 && !moving && ranged && r.status == 206 && r.total > r.got) {
		struct parts p;

		memset(&p, 0, sizeof(p));
		p.st = st;
		p.path = path;
		p.fd = fd;
		p.start = r.got;
		p.end = r.total;
		p.block = a->block;
		p.etag = r.etag;
		p.progress = progress;
		p.parg = arg;
		if (!r.etag[0])
			rc = store_fail(st, STORE_ERR, "cannot get '%s': the answer has no ETag", path);
		else
			rc = parts_run(&p);
		hashed = 1;
	}
	/* an appended object that rolled over: its other segments after the first */
	if (rc == 0 && !moving && r.status != 416 && !r.sink_failed &&
	    seg_continues(&r, r.chain)) {
		if (hashed && lseek(fd, 0, SEEK_END) < 0)
			rc = store_fail(st, STORE_ERR, "cannot write '%s': %s", local,
			    strerror(errno));
		else
			rc = segs_to_fd(st, path, &r, fd, &h);
	}
	if (rc == 0 && hashed && sha256_file(written, hex, NULL) < 0)
		rc = store_fail(st, STORE_ERR, "cannot read '%s' again: %s", written,
		    strerror(errno));
	if (close(fd) < 0 && rc == 0)
		rc = store_fail(st, STORE_ERR, "cannot write '%s': %s", local, strerror(errno));
	if (!hashed)
		sha256_hex(&h, hex);
	if (rc == 0 && r.sha[0] && strcmp(r.sha, hex))
		rc = store_fail(st, STORE_ECORRUPT, "'%s': content does not match its sha256 %s",
		    path, r.sha);
	if (rc == 0 && tmp && rename(tmp, local) < 0)
		rc = store_fail(st, STORE_ERR, "cannot rename to '%s': %s", local, strerror(errno));
	if (rc < 0)
		unlink(written);
	else if (sha)
		memcpy(sha, hex, 65);
	sbuf_release(&r.err);
	free(tmp);
	return rc;
}

static int
az_del(struct store *st, const char *path)
{
	struct az *a = st->priv;
	struct req r;
	int rc;

	app_forget(a, path);
	req_init(&r, "DELETE", path);
	/* a 404 on a second try: the first one deleted it */
	if ((rc = az_do(st, &r)) == 0 && !ok(&r) && !(r.retried && r.status == 404))
		rc = az_fail(st, &r, "delete", path);
	sbuf_release(&r.err);
	/* then the segments of an appended object, which nothing reads now */
	if (rc == 0)
		segs_delete(st, path, NULL, 0);
	return rc;
}

struct ent {
	char *path;
	int64_t size, mtime_ms;
	int is_dir;
	int whole;	/* its size is not the blob's: the first segment of an appended
			 * object that goes on, or an object a move adds lines to */
	char sha256[65];	/* metadata "sha256" of a blob put whole */
};

/*
 * List Blobs under prefix; own: the store's own blobs too (SEG_DIR),
 * else an appended object of many segments is listed with its whole size.
 */
static int
list_raw(struct store *st, const char *prefix, int recursive, int own, store_list_fn fn,
    void *arg)
{
	struct az *a = st->priv;
	struct sbuf body, name, val, marker, full;
	struct ent *ents = NULL;
	size_t n = 0, cap = 0, i, pl = strlen(a->prefix);
	int rc = 0;

	sbuf_init(&body, SBUF_MAX_DEFAULT);
	sbuf_init(&name, 1 << 16);
	sbuf_init(&val, 1 << 16);
	sbuf_init(&marker, 1 << 16);
	sbuf_init(&full, 1 << 16);
	sbuf_adds(&full, a->prefix);
	sbuf_adds(&full, prefix);
	do {
		struct req r;
		const char *p, *end;

		req_init(&r, "GET", NULL);
		req_q(&r, "restype", "container");
		req_q(&r, "comp", "list");
		/* metadata: the sums, and "xtmove" of an object a move is not done with */
		req_q(&r, "include", "metadata");
		if (full.len)
			req_q(&r, "prefix", full.buf);
		if (!recursive)
			req_q(&r, "delimiter", "/");
		if (marker.len)
			req_q(&r, "marker", marker.buf);
		sbuf_reset(&body);
		r.out = &body;
		if ((rc = az_do(st, &r)) == 0 && !ok(&r))
			rc = az_fail(st, &r, "list", prefix);
		else if (rc == 0 && r.sink_failed)
			rc = store_fail(st, STORE_ERR, "cannot list '%s': the answer is too long",
			    prefix);
		sbuf_release(&r.err);
		if (rc < 0)
			goto out;
		end = body.buf + body.len;
		for (p = body.buf; (p = strstr(p, "<Blob")) && p < end; ) {
			const char *s = p, *e, *m;
			int dir = !strncmp(p, "<BlobPrefix>", 12);

			if (strncmp(p, "<Blob>", 6) && !dir) {
				p += 5;
				continue;
			}
			e = strstr(p, dir ? "</BlobPrefix>" : "</Blob>");
			if (!e || xml_text(s, e, "Name", &name) < 0) {
				rc = store_fail(st, STORE_ERR, "cannot list '%s': a malformed answer",
				    prefix);
				goto out;
			}
			p = e;
			if (name.len < pl || strncmp(name.buf, a->prefix, pl) || name.len == pl)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				ents = xrealloc(ents, cap * sizeof(*ents));
			}
			if (!own && strcspn(name.buf + pl, "/") == 4 &&
			    !strncasecmp(name.buf + pl, ".tmp", 4))
				continue;
			ents[n].path = xstrdup(name.buf + pl);
			ents[n].is_dir = dir;
			ents[n].size = 0;
			ents[n].mtime_ms = 0;
			ents[n].whole = !dir && xml_text(s, e, "Sealed", &val) == 0 &&
			    !strcmp(val.buf, "true");
			if (!dir && xml_text(s, e, "Content-Length", &val) == 0)
				ents[n].size = strtoll(val.buf, NULL, 10);
			if (!dir && xml_text(s, e, "Last-Modified", &val) == 0)
				ents[n].mtime_ms = http_date(val.buf);
			ents[n].sha256[0] = '\0';
			if (!dir && (m = memmem(s, (size_t)(e - s), "<Metadata>", 10))) {
				if (st->sums && xml_text(m, e, "sha256", &val) == 0 &&
				    sha256_valid(val.buf))
					memcpy(ents[n].sha256, val.buf, 65);
				/* lines of a move not done yet come after its own */
				if (xml_text(m, e, "xtmove", &val) == 0 && val.len)
					ents[n].whole = 1;
			}
			n++;
		}
		if (xml_text(body.buf, end, "NextMarker", &marker) < 0)
			sbuf_reset(&marker);
	} while (marker.len);
	/* in the service's order: store.c puts it in the store's */
	for (i = 0; i < n && rc == 0; i++) {
		struct store_entry e = { ents[i].path, ents[i].size, ents[i].mtime_ms,
			ents[i].is_dir, "" };
		struct store_stat sst;

		memcpy(e.sha256, ents[i].sha256, sizeof(e.sha256));

		if (ents[i].whole && !own) {
			if ((rc = az_stat(st, ents[i].path, &sst)) == STORE_ENOENT) {
				rc = 0;
				continue;
			}
			if (rc < 0)
				break;
			e.size = sst.size;
			e.mtime_ms = sst.mtime_ms;
		}
		rc = fn(&e, arg);
	}
out:
	for (i = 0; i < n; i++)
		free(ents[i].path);
	free(ents);
	sbuf_release(&body);
	sbuf_release(&name);
	sbuf_release(&val);
	sbuf_release(&marker);
	sbuf_release(&full);
	return rc;
}

void (*store_azure_put_log_hook)(int stage, void *arg);
void *store_azure_put_log_arg;

/* The test's hook at stage (store_int.h), when it has one. */
static void
put_log_hook(int stage)
{
	if (store_azure_put_log_hook)
		store_azure_put_log_hook(stage, store_azure_put_log_arg);
}

/* Whether path's first segment is of chain (a HEAD). */
static int
has_chain(struct store *st, const char *path, const char *chain)
{
	struct req r;
	int same;

	req_init(&r, "HEAD", path);
	same = az_do(st, &r) == 0 && ok(&r) && !strcmp(r.chain, chain);
	sbuf_release(&r.err);
	return same;
}

/*
 * The move of a put_log_if that replaced an object of segments: the
 * segments past K (the last read) of the old chain CHAIN that an appender
 * made in the moment between seg_put_if_check and the copy (it still saw
 * the old first segment in place) are each sealed, so that nothing more
 * lands in them, their bytes appended to the new object, whole lines at a
 * time, and then marked moved (an empty blob, seg_mark). An appender that
 * meets one sealed makes the next, finds the first segment changed (it
 * checks before every append past the first) and starts again on the new
 * object; so one made after this looked is never written to. The moved
 * lines land after lines appended to the new object meanwhile: the
 * index's readers go by the records' "rev", not by order (index.h).
 *
 * The copy names the move, CHAIN-K, in the new object's metadata
 * "xtmove", so a move cut short (the process died) loses nothing: a
 * reader of the object adds the lines of the segments not marked moved
 * (segs_pending), and a put_if or put_log_if of a version read so (with a
 * '+' before it) first does the rest of the move (move_finish). A segment
 * whose lines were appended but which was not marked yet is moved again:
 * its lines come twice, which the index's fold by "rev" takes. The
 * metadata is taken away once the move is done (move_done), so a reader
 * of an object replaced so pays nothing more. The old chain stays for
 * segs_delete's grace, so no one deletes a segment before it is moved.
 * 0 or an error; *moved (when not NULL) counts the segments moved here.
 */
static int
segs_move(struct store *st, const char *path, const char *chain, unsigned k, int *moved)
{
	struct az *a = st->priv;
	struct sbuf buf;
	int rc = 0;

	if (moved)
		*moved = 0;
	sbuf_init(&buf, SIZE_MAX);
	while (rc == 0) {
		char *name = seg_name(path, chain, ++k), *mark = seg_mark(name);
		struct req r;
		size_t off, n;
		int marked;

		/*
		 * one not there is the end: an appender that makes it after this
		 * (after the copy) finds the object replaced before it appends;
		 * a HEAD first, as Azurite answers a seal under a SAS 500
		 */
		req_init(&r, "HEAD", name);
		rc = az_do(st, &r);
		if (rc == 0 && r.status == 404 && strcmp(r.code, "ContainerNotFound")) {
			sbuf_release(&r.err);
			free(mark);
			free(name);
			break;
		}
		if (rc == 0 && !ok(&r))
			rc = az_fail(st, &r, "put", path);
		sbuf_release(&r.err);
		if (rc == 0) {
			req_init(&r, "PUT", name);
			req_q(&r, "comp", "seal");
			if ((rc = az_do(st, &r)) == 0 && !ok(&r) &&
			    !(r.status == 409 && !strcmp(r.code, "BlobIsSealed")))
				rc = az_fail(st, &r, "put", path);
			sbuf_release(&r.err);
		}
		if (rc == 0) {
			req_init(&r, "HEAD", mark);
			if ((rc = az_do(st, &r)) == 0 && !ok(&r) && r.status != 404)
				rc = az_fail(st, &r, "put", path);
			marked = rc == 0 && ok(&r);
			sbuf_release(&r.err);
			if (marked) {
				free(mark);
				free(name);
				continue;
			}
		}
		sbuf_reset(&buf);
		if (rc == 0) {
			req_init(&r, "GET", name);
			r.out = &buf;
			rc = get_into(st, &r, path, 0, -1);
			sbuf_release(&r.err);
		}
		for (off = 0; rc == 0 && off < buf.len; off += n) {
			n = buf.len - off;
			if (n > APPEND_MAX) {
				const char *nl = memrchr(buf.buf + off, '\n', APPEND_MAX);

				n = nl ? (size_t)(nl - (buf.buf + off)) + 1 : APPEND_MAX;
			}
			rc = az_append(st, path, buf.buf + off, n);
			/* never into the chain moved: each move would make a next segment to move */
			if (rc == 0 && !strcmp(a->app_chain, chain))
				rc = store_fail(st, STORE_ERR, "cannot move the lines of '%s' into it: "
				    "it is still the object whose segments they are", path);
		}
		if (rc == 0) {
			put_log_hook(2);
			req_init(&r, "PUT", mark);
			req_h(&r, "x-ms-blob-type", "BlockBlob");
			r.if_none_match = "*";
			if ((rc = az_do(st, &r)) == 0 && !ok(&r) && r.status != 409)
				rc = az_fail(st, &r, "put", path);
			sbuf_release(&r.err);
		}
		if (rc == 0 && moved)
			(*moved)++;
		free(mark);
		free(name);
	}
	sbuf_release(&buf);
	return rc;
}

/*
 * After a move (CHAIN-K) into path, whose chain is now chain, is done:
 * take its metadata away, if path is still the object it was copied to
 * (the metadata is set If-Match the ETag just read; an append in between
 * makes it read again, a few times). One that stays costs the object's
 * readers a request or two, and a read again when the move marked a
 * segment, until the object is replaced. Best effort; st's message is
 * kept.
 */
static void
move_done(struct store *st, const char *path, const char *chain, const char *move)
{
	char keep[sizeof(st->err)], etag[STORE_VER_MAX];
	int tries, again = 1;

	memcpy(keep, st->err, sizeof(keep));
	for (tries = 0; tries < 5 && again; tries++) {
		struct req r;

		req_init(&r, "HEAD", path);
		again = az_do(st, &r) == 0 && ok(&r) && !strcmp(r.chain, chain) &&
		    !strcmp(r.move, move);
		memcpy(etag, r.etag, sizeof(etag));
		sbuf_release(&r.err);
		if (!again)
			break;
		req_init(&r, "PUT", path);
		req_q(&r, "comp", "metadata");
		req_h(&r, "x-ms-meta-xtchain", chain);
		r.if_match = etag;
		again = az_do(st, &r) == 0 && r.status == 412;
		sbuf_release(&r.err);
	}
	memcpy(st->err, keep, sizeof(keep));
}

/*
 * For a put_if or put_log_if of a version of path read with a move not
 * known done (sv->move): the rest of that move (segs_move) when path is
 * still as read. 0 when there was none left, else STORE_ECONFLICT (the
 * object changed since, if only by the lines moved now) or an error.
 */
static int
move_finish(struct store *st, const char *path, const struct segver *sv)
{
	char chain[CHAIN_MAX];
	struct req r;
	unsigned k;
	int rc, moved = 0;

	req_init(&r, "HEAD", path);
	if ((rc = az_do(st, &r)) == 0 && !ok(&r))
		rc = r.status == 404 && strcmp(r.code, "ContainerNotFound") ?
		    store_fail(st, STORE_ENOENT, "cannot put '%s': it is gone", path) :
		    az_fail(st, &r, "put", path);
	if (rc == 0 && strcmp(r.etag, sv->etag0))
		rc = store_fail(st, STORE_ECONFLICT, "cannot put '%s': it changed meanwhile", path);
	if (rc == 0 && move_split(r.move, chain, &k) == 0 &&
	    (rc = segs_move(st, path, chain, k, &moved)) == 0 && moved > 0) {
		/* it changed anyway: the move's metadata can go */
		move_done(st, path, r.chain, r.move);
		rc = store_fail(st, STORE_ECONFLICT, "cannot put '%s': it changed meanwhile "
		    "(the lines of a compaction cut short were moved into it)", path);
	}
	sbuf_release(&r.err);
	return rc;
}

/*
 * put_log_if: the content goes into a new append blob under the store's
 * .tmp/, which Copy Blob puts in place of the log if the log is still at
 * ver (If-Match). A copy of an append blob is an append blob, so the log
 * takes appends again; an append that raced it either changed the ETag
 * compared or meets the new blob's size (appendpos) and is sent again at
 * its end. A copy within one account is done when it is answered
 * ("success"); one still "pending" is waited for (a minute at most).
 * A log of segments (ver ETAG0/CHAIN-K.SIZEK/ETAGK) has its last segment
 * sealed as read first (seg_put_if_check), its first segment replaced
 * (If-Match ETAG0) by a copy whose metadata names the move (CHAIN-K), then
 * the lines of segments appended in between moved over (segs_move) and
 * the metadata taken away (move_done). A version read with a move not
 * known done ('+') has the rest of that move done first (move_finish).
 */
static int
az_put_log_if(struct store *st, const char *path, const void *buf, size_t len, const char *ver)
{
	struct az *a = st->priv;
	struct sbuf src, full;
	char tmp[64], keep[sizeof(st->err)], chain[CHAIN_MAX], move[MOVE_MAX];
	struct segver sv;
	struct req r;
	size_t off, k;
	int rc, tries, made;

	if ((rc = seg_ver_split(st, path, ver, &sv)) < 0 ||
	    (sv.move && (rc = move_finish(st, path, &sv)) < 0))
		return rc;
	snprintf(move, sizeof(move), "%s-%u", sv.chain, sv.k);
	az_own(a);
	snprintf(tmp, sizeof(tmp), ".tmp/log-%08lx%08lx", (unsigned long)random(),
	    (unsigned long)random());
	snprintf(chain, sizeof(chain), "%08lx%08lx", (unsigned long)random(),
	    (unsigned long)random());
	rc = append_create(st, tmp, tmp, chain, &made, NULL);
	for (off = 0; off < len && rc == 0; off += k) {
		k = len - off < APPEND_MAX ? len - off : APPEND_MAX;
		rc = az_append(st, tmp, (const char *)buf + off, k);
	}
	/* an object of segments: its last sealed as read, then its first replaced */
	if (rc == 0 && sv.segs)
		rc = seg_put_if_check(st, path, &sv);
	if (rc < 0)
		goto out;
	if (sv.segs)
		put_log_hook(0);
	sbuf_init(&src, 1 << 16);
	sbuf_init(&full, 1 << 16);
	sbuf_addf(&src, "%s/%s/", a->endpoint, a->container);
	sbuf_adds(&full, a->prefix);
	sbuf_adds(&full, tmp);
	pct(&src, full.buf, 1);
	if (a->sas && !a->keylen)
		sbuf_addf(&src, "?%s", a->sas);
	req_init(&r, "PUT", path);
	req_h(&r, "x-ms-copy-source", src.buf);
	if (sv.segs) {
		/* the metadata given replaces the source's */
		req_h(&r, "x-ms-meta-xtchain", chain);
		req_h(&r, "x-ms-meta-xtmove", move);
	}
	r.if_match = sv.etag0;
	if ((rc = az_do(st, &r)) == 0 && !ok(&r)) {
		/*
		 * a condition that failed on a second try: maybe the first was
		 * done, if the object has the new chain, which no other has (its
		 * content may well be the same: a compaction of one compacted)
		 */
		if (r.retried && r.status == 412 && has_chain(st, path, chain))
			rc = 0;
		else
			rc = az_fail(st, &r, "put", path);
	} else if (rc == 0) {
		for (tries = 0; rc == 0 && !strcmp(r.copy, "pending") && tries < 600; tries++) {
			usleep(100000);
			sbuf_release(&r.err);
			req_init(&r, "HEAD", path);
			if ((rc = az_do(st, &r)) == 0 && !ok(&r))
				rc = az_fail(st, &r, "put", path);
		}
		if (rc == 0 && strcmp(r.copy, "success"))
			rc = store_fail(st, STORE_ERR, "cannot put '%s': its copy from '%s' is %s",
			    path, tmp, r.copy[0] ? r.copy : "without a status");
	}
	sbuf_release(&r.err);
	sbuf_release(&src);
	sbuf_release(&full);
	/* the size this process last appended at is the old blob's */
	app_forget(a, path);
	if (rc == 0 && sv.segs) {
		put_log_hook(1);
		if ((rc = segs_move(st, path, sv.chain, sv.k, NULL)) == 0)
			move_done(st, path, chain, move);
	}
	rc = put_if_gone(st, path, rc);
out:
	app_forget(a, path);
	memcpy(keep, st->err, sizeof(keep));
	az_del(st, tmp);
	memcpy(st->err, keep, sizeof(keep));
	return rc;
}

static int
az_list(struct store *st, const char *prefix, int recursive, store_list_fn fn, void *arg)
{
	return list_raw(st, prefix, recursive, 0, fn, arg);
}

static int
az_commit(struct store *st)
{
	(void)st;
	return 0;
}

static int az_creds_text(struct store *st, struct sbuf *out);

static const struct store_ops az_ops = {
	.scheme = "az",
	.put_ends_appends = 1,
	.list_sums = 1,
	.creds = az_creds_text,
	.close = az_close,
	.put = az_put,
	.put_file = az_put_file,
	.create = az_create,
	.append = az_append,
	.get = az_get,
	.get_file = az_get_file,
	.stat = az_stat,
	.list = az_list,
	.del = az_del,
	.commit = az_commit,
	.get_ver = az_get_ver,
	.put_if = az_put_if,
	.put_log_if = az_put_log_if,
};

/* The value of key (case ignored) in the connection string cs, or NULL. Caller frees. */
static char *
cs_get(const char *cs, const char *key)
{
	size_t kl = strlen(key);

	while (*cs) {
		size_t n = strcspn(cs, ";");

		while (n && (*cs == ' ' || *cs == '\t')) {
			cs++;
			n--;
		}
		if (n > kl && !strncasecmp(cs, key, kl) && cs[kl] == '=')
			return xstrndup(cs + kl + 1, n - kl - 1);
		cs += n;
		if (*cs)
			cs++;
	}
	return NULL;
}

static int
valid_account(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || n > 24)
		return 0;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
valid_container(const char *s, size_t n)
{
	size_t i;

	if (n < 3 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    (s[i] == '-' && s[i + 1] != '-')))
			return 0;
	return 1;
}

static const char *const cred_vars[] = { "AZURE_STORAGE_CONNECTION_STRING",
	"AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN" };
#define NCRED (sizeof(cred_vars) / sizeof(cred_vars[0]))

/*
 * The credentials file $XT_HOME/azure: lines NAME=VALUE of the three
 * variables (cred_vars), '#' comments and blank lines. Only its owner may
 * read it, as ssh wants of a key: a file others can (mode & 077) or of
 * another owner is refused. Fills val[i] (caller frees) for the names it
 * holds; 0 when it is missing too, -1 with st's message (never a value).
 */
static int
creds_file(struct store *st, char *val[NCRED])
{
	char *home = xt_home_maybe(), *file, *line, *nl;
	struct sbuf sb;
	struct stat sb_st;
	int fd, n, rc = -1;

	if (!home)
		return 0;
	file = path_join(home, "azure");
	free(home);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		rc = errno == ENOENT ? 0 : store_fail(st, STORE_EINVAL, "cannot read '%s': %s",
		    file, strerror(errno));
		free(file);
		return rc < 0 ? -1 : 0;
	}
	sbuf_init(&sb, 1 << 16);
	if (fstat(fd, &sb_st) < 0 || !S_ISREG(sb_st.st_mode)) {
		store_fail(st, STORE_EINVAL, "'%s' is not a regular file", file);
	} else if (sb_st.st_uid != geteuid()) {
		store_fail(st, STORE_EINVAL, "'%s' holds Azure credentials but belongs to another "
		    "user (uid %ld): it must be yours", file, (long)sb_st.st_uid);
	} else if (sb_st.st_mode & 077) {
		store_fail(st, STORE_EINVAL, "'%s' holds Azure credentials but others can read "
		    "it (mode %04o): chmod 600 '%s'", file, (unsigned)(sb_st.st_mode & 07777),
		    file);
	} else {
		char chunk[4096];
		ssize_t k;

		while ((k = read(fd, chunk, sizeof(chunk))) > 0 && sbuf_add(&sb, chunk,
		    (size_t)k) == 0)
			;
		memset(chunk, 0, sizeof(chunk));
		if (k != 0)
			store_fail(st, STORE_EINVAL, "cannot read '%s': %s", file, k < 0 ?
			    strerror(errno) : "bigger than 64 KiB");
		else
			rc = 0;
	}
	close(fd);
	for (line = sb.buf, n = 1; rc == 0 && line && *line; line = nl, n++) {
		size_t k, len, i;
		const char *v;

		if ((nl = strchr(line, '\n')))
			*nl++ = '\0';
		len = strlen(line);
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
		    line[len - 1] == '\t'))
			line[--len] = '\0';
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		/* the name, then '=': no part of a value is ever in a message */
		k = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		if (line[k] != '=' || k == 0) {
			rc = store_fail(st, STORE_EINVAL, "%s:%d: expected NAME=VALUE", file, n);
			break;
		}
		for (i = 0; i < NCRED; i++)
			if (strlen(cred_vars[i]) == k && !strncmp(line, cred_vars[i], k))
				break;
		if (i == NCRED) {
			rc = store_fail(st, STORE_EINVAL, "%s:%d: unknown name '%.*s': expected "
			    "AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or "
			    "AZURE_STORAGE_SAS_TOKEN", file, n, (int)k, line);
			break;
		}
		/* the environment's wins */
		v = line + k + 1;
		if (!val[i])
			val[i] = xstrdup(v);
	}
	if (sb.buf)
		memset(sb.buf, 0, sb.cap);
	sbuf_release(&sb);
	free(file);
	return rc;
}

/* The credentials as this process finds them, as lines of a credentials file. */
static int
az_creds_text(struct store *st, struct sbuf *out)
{
	char *val[NCRED] = { NULL, NULL, NULL };
	const char *e;
	size_t i;
	int rc = 0;

	for (i = 0; i < NCRED; i++)
		if ((e = getenv(cred_vars[i])) && *e)
			val[i] = xstrdup(e);
	if ((!val[0] || !val[1] || !val[2]) && creds_file(st, val) < 0)
		rc = STORE_EINVAL;
	for (i = 0; i < NCRED; i++) {
		if (rc == 0 && val[i] && sbuf_addf(out, "%s=%s\n", cred_vars[i], val[i]) < 0)
			rc = store_fail(st, STORE_EINVAL, "the credentials are too long");
		if (val[i]) {
			memset(val[i], 0, strlen(val[i]));
			free(val[i]);
		}
	}
	return rc;
}

/*
 * Fill a's credentials and endpoint from the environment, each variable
 * that is not set there from the credentials file; 0, or -1 with st's
 * message.
 */
static int
az_creds(struct store *st, struct az *a)
{
	char *val[NCRED] = { NULL, NULL, NULL };
	const char *cs, *env_key, *env_sas;
	char *name = NULL, *key = NULL, *sas = NULL, *ep = NULL, *proto = NULL, *suffix = NULL;
	const char *keysrc = "AZURE_STORAGE_KEY", *e;
	size_t i;
	int rc = -1;

	for (i = 0; i < NCRED; i++)
		if ((e = getenv(cred_vars[i])) && *e)
			val[i] = xstrdup(e);
	if ((!val[0] || !val[1] || !val[2]) && creds_file(st, val) < 0)
		goto out;
	cs = val[0];
	env_key = val[1];
	env_sas = val[2];

	if (cs && *cs) {
		name = cs_get(cs, "AccountName");
		key = cs_get(cs, "AccountKey");
		sas = cs_get(cs, "SharedAccessSignature");
		ep = cs_get(cs, "BlobEndpoint");
		proto = cs_get(cs, "DefaultEndpointsProtocol");
		suffix = cs_get(cs, "EndpointSuffix");
		keysrc = "AccountKey of AZURE_STORAGE_CONNECTION_STRING";
		if (name && strcmp(name, a->account)) {
			store_fail(st, STORE_EINVAL, "AZURE_STORAGE_CONNECTION_STRING is for account "
			    "'%s', not '%s'", name, a->account);
			goto out;
		}
	}
	/* a connection string without a credential takes the variables' */
	if (!key && !sas) {
		keysrc = "AZURE_STORAGE_KEY";
		if (env_key && *env_key)
			key = xstrdup(env_key);
		else if (env_sas && *env_sas)
			sas = xstrdup(env_sas);
		else {
			store_fail(st, STORE_EINVAL, "no credential for account '%s': set "
			    "AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY or "
			    "AZURE_STORAGE_SAS_TOKEN, in the environment or in $XT_HOME/azure",
			    a->account);
			goto out;
		}
	}
	if (key) {
		long n = base64_decode(key, strlen(key), a->key, sizeof(a->key));

		if (n <= 0) {
			store_fail(st, STORE_EINVAL, "the account key (%s) is not base64", keysrc);
			goto out;
		}
		a->keylen = (size_t)n;
	} else {
		char *v;

		a->sas = xstrdup(sas + (*sas == '?'));
		if ((v = query_get(a->sas, "sp"))) {
			snprintf(a->sas_perm, sizeof(a->sas_perm), "%s", v);
			free(v);
		}
		if ((v = query_get(a->sas, "se"))) {
			a->sas_expiry = iso_date(v);
			free(v);
		}
		if (!strstr(a->sas, "sig=")) {
			store_fail(st, STORE_EINVAL, "the SAS token has no signature (sig=)");
			goto out;
		}
	}
	if (proto && strcmp(proto, "http") && strcmp(proto, "https")) {
		store_fail(st, STORE_EINVAL, "DefaultEndpointsProtocol '%s' of "
		    "AZURE_STORAGE_CONNECTION_STRING: expected http or https", proto);
		goto out;
	}
	if (ep) {
		size_t n = strlen(ep);

		while (n && ep[n - 1] == '/')
			ep[--n] = '\0';
		if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8)) {
			store_fail(st, STORE_EINVAL, "BlobEndpoint '%s' of "
			    "AZURE_STORAGE_CONNECTION_STRING: expected http:// or https://", ep);
			goto out;
		}
		a->endpoint = ep;
		ep = NULL;
	} else {
		a->endpoint = xasprintf("%s://%s.blob.%s", proto ? proto : "https", a->account,
		    suffix ? suffix : "core.windows.net");
	}
	a->https = !strncmp(a->endpoint, "https://", 8);
	e = a->endpoint + (a->https ? 8 : 7);
	a->base_path = e + strcspn(e, "/");
	rc = 0;
out:
	for (i = 0; i < NCRED; i++)
		if (val[i]) {
			memset(val[i], 0, strlen(val[i]));
			free(val[i]);
		}
	if (key)
		memset(key, 0, strlen(key));
	free(name);
	free(key);
	free(sas);
	free(ep);
	free(proto);
	free(suffix);
	return rc;
}

/* Create the container unless it exists: 0 or a code. */
static int
container_create(struct store *st)
{
	struct az *a = st->priv;
	struct req r;
	int rc;

	req_init(&r, "PUT", NULL);
	req_q(&r, "restype", "container");
	if ((rc = az_do(st, &r)) == 0 && !ok(&r) && !(r.status == 409 &&
	    !strcmp(r.code, "ContainerAlreadyExists"))) {
		if (r.status == 403 && !a->keylen)
			rc = store_fail(st, STORE_ERR, "container '%s' of account '%s' does not "
			    "exist, and the SAS token cannot create it (%s; sp=%s)", a->container,
			    a->account, *r.code ? r.code : "403 Forbidden", a->sas_perm);
		else
			rc = az_fail(st, &r, "create container", a->container);
	}
	sbuf_release(&r.err);
	return rc;
}

/*
 * The marker an open read, remembered for MARK_TTL_MS in
 * $XT_HOME/cache/stores/HASH (HASH: of the store's URL, endpoint,
 * credential and CA source, so another one is checked afresh): the tools that
 * start one after another (a run's xt-log calls, a loop of xt-get) skip
 * that round trip. A container found gone since takes the file away
 * (az_fail), so the next open makes the store again.
 */
#define MARK_TTL_MS (5 * 60 * 1000)

static char *
mark_path(struct store *st)
{
	struct az *a = st->priv;
	char *home = xt_home_maybe(), hex[SHA256_HEX], *p;
	struct sha256 h;

	if (!home)
		return NULL;
	sha256_init(&h);
	sha256_update(&h, st->url, strlen(st->url) + 1);
	sha256_update(&h, a->endpoint, strlen(a->endpoint) + 1);
	sha256_update(&h, a->key, a->keylen);
	if (a->sas)
		sha256_update(&h, a->sas, strlen(a->sas));
	/* and how the server is trusted: another CA is checked afresh too */
	if (a->https) {
		sha256_update(&h, a->ca.origin, strlen(a->ca.origin) + 1);
		if (a->ca.path)
			sha256_update(&h, a->ca.path, strlen(a->ca.path) + 1);
	}
	sha256_hex(&h, hex);
	p = xasprintf("%s/cache/stores/%.32s", home, hex);
	free(home);
	return p;
}

/* Is the marker remembered, and fresh? */
static int
mark_known(struct store *st)
{
	char *p = mark_path(st);
	struct stat sb;
	struct sbuf sb2;
	int known = 0;

	if (p && stat(p, &sb) == 0 && time_now_ms() - ((int64_t)sb.st_mtim.tv_sec * 1000 +
	    sb.st_mtim.tv_nsec / 1000000) < MARK_TTL_MS) {
		sbuf_init(&sb2, 1 << 16);
		known = file_read(p, &sb2) == 0 && sb2.len && strstr(sb2.buf, "\"format\":1") != NULL;
		sbuf_release(&sb2);
	}
	free(p);
	return known;
}

/* Remember the marker text (best effort: a write that fails costs a round trip later). */
static void
mark_keep(struct store *st, const char *text, size_t len)
{
	char *p = mark_path(st), *dir, *tmp;
	int fd;

	if (!p)
		return;
	dir = xstrndup(p, (size_t)(strrchr(p, '/') - p));
	tmp = xasprintf("%s.%ld", p, (long)getpid());
	if (mkdir_p(dir) == 0 && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
		int ok = write_all(fd, text, len) == 0;

		if (close(fd) < 0 || !ok || rename(tmp, p) < 0)
			unlink(tmp);
	}
	free(tmp);
	free(dir);
	free(p);
}

static void
mark_forget(struct store *st)
{
	char *p = mark_path(st);

	if (p)
		unlink(p);
	free(p);
}

/*
 * Open az://ACCOUNT/CONTAINER[/PREFIX]. Credentials, first found: the
 * connection string AZURE_STORAGE_CONNECTION_STRING (AccountName,
 * AccountKey or SharedAccessSignature, BlobEndpoint,
 * DefaultEndpointsProtocol, EndpointSuffix), AZURE_STORAGE_KEY,
 * AZURE_STORAGE_SAS_TOKEN, each one the environment does not set from the
 * credentials file $XT_HOME/azure (creds_file). The store's marker xt-store.json is read, or
 * made (with the container) when missing: one round trip when the store
 * exists, and the credential is proven.
 */
/*
 * The environment's name, a whole number from lo to hi (>= 0), for the
 * tests: it, -1 when it is not set (or empty), or -2 with err set ("NAME
 * 'VALUE': expected UNIT from LO to HI") when it is something else.
 */
static int64_t
env_i64(const char *name, int64_t lo, int64_t hi, const char *unit, char *err, size_t errlen)
{
	const char *s = getenv(name);
	int64_t v;

	if (!s || !*s)
		return -1;
	if (parse_i64(s, lo, hi, &v) < 0) {
		snprintf(err, errlen, "%s '%s': expected %s from %lld to %lld", name, s, unit,
		    (long long)lo, (long long)hi);
		return -2;
	}
	return v;
}

struct store *
store_azure_open(const char *url, char *err, size_t errlen)
{
	static const char marker[] = "{\"format\":1}\n";
	struct store *st = xcalloc(1, sizeof(*st));
	struct az *a = xcalloc(1, sizeof(*a));
	const char *p = url + 5, *e;
	struct sbuf meta;
	int64_t v;
	size_t n;
	int rc;

	st->ops = &az_ops;
	st->priv = a;
	sbuf_init(&meta, 4096);
	if (strchr(url, '?') || strchr(url, '@')) {
		snprintf(err, errlen, "malformed store URL '%s': a credential does not belong in "
		    "it: set AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_KEY or "
		    "AZURE_STORAGE_CONNECTION_STRING", url);
		goto fail;
	}
	n = strcspn(p, "/");
	if (!valid_account(p, n)) {
		snprintf(err, errlen, "malformed store URL '%s': expected az://ACCOUNT/CONTAINER"
		    "[/PREFIX], ACCOUNT of 3 to 24 lower-case letters and digits", url);
		goto fail;
	}
	a->account = xstrndup(p, n);
	p += n + (p[n] == '/');
	n = strcspn(p, "/");
	if (!valid_container(p, n)) {
		snprintf(err, errlen, "malformed store URL '%s': CONTAINER must be 3 to 63 "
		    "lower-case letters, digits and single hyphens inside", url);
		goto fail;
	}
	a->container = xstrndup(p, n);
	p += n + (p[n] == '/');
	e = p + strlen(p);
	while (e > p && e[-1] == '/')
		e--;
	if (e > p) {
		char why[256], *pre = xstrndup(p, (size_t)(e - p));

		if (name_path_check(pre, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "malformed store URL '%s': PREFIX %s", url, why);
			free(pre);
			goto fail;
		}
		a->prefix = xasprintf("%s/", pre);
		free(pre);
	} else {
		a->prefix = xstrdup("");
	}
	st->url = *a->prefix ? xasprintf("az://%s/%s/%.*s", a->account, a->container,
	    (int)strlen(a->prefix) - 1, a->prefix) : xasprintf("az://%s/%s", a->account,
	    a->container);
	if (az_creds(st, a) < 0) {
		snprintf(err, errlen, "store '%s': %s", st->url, st->err);
		goto fail;
	}
	a->put_max = PUT_MAX;
	a->block = BLOCK;
	a->retries = 6;
	a->budget_ms = 60000;
	a->wait_ms = 100;
	a->app_blocks = APPEND_BLOCKS;
	a->seg_grace_ms = SEG_GRACE_MS;
	/*
	 * for the tests: the retries, their time and waits, segments of few appends
	 * (to see them roll over) and a shorter grace of replaced ones, small
	 * blocks (to see many of them)
	 */
	if ((v = env_i64("XT_AZURE_RETRIES", 0, 100, "a number", err, errlen)) >= 0)
		a->retries = (int)v;
	if (v >= -1 && (v = env_i64("XT_AZURE_RETRY_TIME", 0, 86400, "seconds", err,
	    errlen)) >= 0)
		a->budget_ms = v * 1000;
	if (v >= -1 && (v = env_i64("XT_AZURE_RETRY_WAIT", 1, 10000, "milliseconds", err,
	    errlen)) >= 0)
		a->wait_ms = v;
	if (v >= -1 && (v = env_i64("XT_AZURE_APPEND_BLOCKS", 1, APPEND_BLOCKS, "a number",
	    err, errlen)) >= 0)
		a->app_blocks = v;
	if (v >= -1 && (v = env_i64("XT_AZURE_SEG_GRACE", 0, 86400, "seconds", err,
	    errlen)) >= 0)
		a->seg_grace_ms = v * 1000;
	if (v >= -1 && (v = env_i64("XT_AZURE_BLOCK", 1024, (int64_t)100 << 20, "bytes", err,
	    errlen)) >= 0)
		a->put_max = a->block = v;
	if (v < -1)
		goto fail;
	if (a->sas && a->sas_expiry && a->sas_expiry <= time_now_ms()) {
		char iso[32];

		time_iso(a->sas_expiry, iso, sizeof(iso));
		snprintf(err, errlen, "store '%s': the SAS token expired at %s", st->url, iso);
		goto fail;
	}
	if (a->https && ca_find(&a->ca, err, errlen) < 0)
		goto fail;
	a->cu = http_curl();
	if (!(a->h = a->cu->easy_init()))
		die("cannot make a libcurl handle");
	a->pid = getpid();
	srandom((unsigned)(getpid() ^ time_now_ms()));

	if (mark_known(st)) {
		sbuf_release(&meta);
		return st;
	}
	rc = az_get(st, "xt-store.json", 0, -1, &meta);
	if (rc == STORE_ERR && strstr(st->err, "container '")) {
		if ((rc = container_create(st)) == 0)
			rc = STORE_ENOENT;
	}
	if (rc == STORE_ENOENT) {
		rc = az_create(st, "xt-store.json", marker, sizeof(marker) - 1);
		if (rc == STORE_EXIST)
			rc = 0;
	} else if (rc == 0 && !strstr(meta.buf, "\"format\":1")) {
		snprintf(err, errlen, "store '%s': unknown store format (this xt reads format 1)",
		    st->url);
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "store '%s': %s", st->url, st->err);
		goto fail;
	}
	if (meta.len)
		mark_keep(st, meta.buf, meta.len);
	else
		mark_keep(st, marker, sizeof(marker) - 1);
	sbuf_release(&meta);
	return st;
fail:
	/* the URL itself may hold a secret */
	if (errlen) {
		char *r = redact(err);

		snprintf(err, errlen, "%s", r);
		free(r);
	}
	sbuf_release(&meta);
	store_close(st);
	return NULL;
}
