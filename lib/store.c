/* store.c: the store's front: URL parsing, path checks, dispatch to a backend. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "name.h"
#include "store_int.h"
#include "banned.h"

int
store_fail(struct store *st, int code, const char *fmt, ...)
{
	va_list ap;
	char raw[sizeof(st->err)];

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* a message may be kept (in a run's log): never with a secret in it */
	redact_into(raw, st->err, sizeof(st->err));
	return code;
}

/* True when url has a scheme; so has a relative path whose first part holds a ':'. */
static int
has_scheme(const char *url)
{
	size_t n = strcspn(url, ":/");

	return strstr(url, "://") || (url[n] == ':' && url[0] != '.');
}

/*
 * The folder that url names when it is a folder store's (a path, or
 * file:///path), absolute: caller frees. NULL when url has another scheme
 * or is malformed; err, when not NULL, then says why.
 */
static char *
folder_of(const char *url, char *err, size_t errlen)
{
	char cwd[4096];

	if (!strncmp(url, "file://", 7)) {
		if (url[7] == '/')
			return xstrdup(url + 7);
		if (err)
			snprintf(err, errlen,
			    "malformed store URL '%s': expected file:///absolute/path", url);
		return NULL;
	}
	if (has_scheme(url))
		return NULL;
	if (url[0] == '/')
		return xstrdup(url);
	if (!getcwd(cwd, sizeof(cwd))) {
		if (err)
			snprintf(err, errlen, "cannot get the current directory: %s", strerror(errno));
		return NULL;
	}
	return path_join(cwd, url);
}

/* A folder store: a path, or file:///path. */
static struct store *
open_folder(const char *url, char *err, size_t errlen)
{
	char *root = folder_of(url, err, errlen);
	struct store *st;

	if (!root)
		return NULL;
	st = store_file_open(root, err, errlen);
	free(root);
	return st;
}

/*
 * The schemes of a store URL: the backend that opens it, or why this
 * build has none. A URL without a scheme is a folder's path.
 */
static const struct scheme {
	const char *name;
	struct store *(*open)(const char *url, char *err, size_t errlen);
	const char *absent;
} schemes[] = {
	{ "file", open_folder, NULL },
	{ "az", store_azure_open, NULL },
};

int
store_gone(const char *url)
{
	struct stat sb;
	char *root = url && *url ? folder_of(url, NULL, 0) : NULL;
	int gone = root && stat(root, &sb) < 0 && errno == ENOENT;

	free(root);
	return gone;
}

int
store_appends_after_put(const struct store *st)
{
	return !st->ops->put_ends_appends;
}

int
store_lists_sums(const struct store *st)
{
	return st->ops->list_sums;
}

int
store_creds_text(struct store *st, struct sbuf *out)
{
	return st->ops->creds ? st->ops->creds(st, out) : 0;
}

int
store_can_replace_log(const struct store *st)
{
	return st->ops->put_log_if || (st->ops->put_if && !st->ops->put_ends_appends);
}

int
store_dev(struct store *st, dev_t *dev)
{
	return st->ops->dev ? st->ops->dev(st, dev) : -1;
}

static struct store *
open_url(const char *url, char *err, size_t errlen)
{
	size_t n, i;

	if (!url || !*url) {
		snprintf(err, errlen, "empty store URL");
		return NULL;
	}
	if (!has_scheme(url))
		return open_folder(url, err, errlen);
	n = strcspn(url, ":");
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) != n || strncmp(url, schemes[i].name, n) ||
		    strncmp(url + n, "://", 3))
			continue;
		if (schemes[i].open)
			return schemes[i].open(url, err, errlen);
		snprintf(err, errlen, "store URL '%s': %s", url, schemes[i].absent);
		return NULL;
	}
	snprintf(err, errlen, "malformed store URL '%s': unknown scheme '%.*s'", url, (int)n, url);
	return NULL;
}

struct store *
store_open(const char *url, char *err, size_t errlen)
{
	struct store *st = open_url(url, err, errlen);

	/* the URL xt keeps and passes on has no credential (store_url) */
	if (st && secret_in(st->url)) {
		char *pub = url_public(st->url);

		if (st->ops->dev) {
			/* a folder's path is its name: without the part, another folder */
			snprintf(err, errlen, "store '%s': its path reads as holding a credential, "
			    "which xt would not keep: rename the folder", st->url);
			store_close(st);
			st = NULL;
		} else {
			free(st->url);
			st->url = pub;
			pub = NULL;
		}
		free(pub);
	}
	if (!st && errlen) {
		/* the message may be kept (a job journal's, a run's log): no secret in it */
		char *r = redact(err);

		snprintf(err, errlen, "%s", r);
		free(r);
	}
	return st;
}

void
store_close(struct store *st)
{
	if (!st)
		return;
	st->ops->close(st);
	free(st->url);
	free(st);
}

const char *
store_url(const struct store *st)
{
	return st->url;
}

const char *
store_error(const struct store *st)
{
	return st->err;
}

const char *
store_path_reserved(const char *path, int write)
{
	/* ignoring case: on a file system that does, "XT-STORE.JSON" is the same file */
	if (strcspn(path, "/") == 4 && !strncasecmp(path, ".tmp", 4))
		return "is in the store's own folder of temporary files";
	if (write && !strcasecmp(path, "xt-store.json"))
		return "is the store's own file: it cannot be written or deleted";
	return NULL;
}

/* A path that a read (write == 0) or a write may use: 0, or STORE_EINVAL with the message. */
static int
check(struct store *st, const char *path, int write)
{
	char why[256];
	const char *own;

	if (name_path_check(path, why, sizeof(why)) < 0)
		return store_fail(st, STORE_EINVAL, "store path '%s' %s", path, why);
	if ((own = store_path_reserved(path, write)))
		return store_fail(st, STORE_EINVAL, "store path '%s' %s", path, own);
	return 0;
}

int
store_put(struct store *st, const char *path, const void *buf, size_t len)
{
	return check(st, path, 1) ? STORE_EINVAL : st->ops->put(st, path, buf, len);
}

int
store_put_file(struct store *st, const char *path, const char *local, char sha256[65],
    store_progress_fn progress, void *arg)
{
	return check(st, path, 1) ? STORE_EINVAL
	    : st->ops->put_file(st, path, local, sha256, progress, arg);
}

int
store_create(struct store *st, const char *path, const void *buf, size_t len)
{
	return check(st, path, 1) ? STORE_EINVAL : st->ops->create(st, path, buf, len);
}

int
store_append(struct store *st, const char *path, const void *buf, size_t len)
{
	return check(st, path, 1) ? STORE_EINVAL : st->ops->append(st, path, buf, len);
}

int
store_get(struct store *st, const char *path, int64_t off, int64_t len, struct sbuf *out)
{
	sbuf_reset(out);
	if (off < 0)
		return store_fail(st, STORE_EINVAL, "negative offset %lld", (long long)off);
	return check(st, path, 0) ? STORE_EINVAL : st->ops->get(st, path, off, len, out);
}

int
store_get_file(struct store *st, const char *path, const char *local, char sha256[65],
    store_progress_fn progress, void *arg)
{
	return check(st, path, 0) ? STORE_EINVAL
	    : st->ops->get_file(st, path, local, sha256, progress, arg);
}

int
store_stat(struct store *st, const char *path, struct store_stat *sst)
{
	memset(sst, 0, sizeof(*sst));
	return check(st, path, 0) ? STORE_EINVAL : st->ops->stat(st, path, sst);
}

int
store_get_ver(struct store *st, const char *path, struct sbuf *out, char ver[STORE_VER_MAX])
{
	sbuf_reset(out);
	ver[0] = '\0';
	if (check(st, path, 0))
		return STORE_EINVAL;
	if (!st->ops->get_ver)
		return store_fail(st, STORE_ERR, "this store cannot version '%s'", path);
	return st->ops->get_ver(st, path, out, ver);
}

int
store_put_if(struct store *st, const char *path, const void *buf, size_t len, const char *ver)
{
	if (check(st, path, 1))
		return STORE_EINVAL;
	if (!st->ops->put_if)
		return store_fail(st, STORE_ERR, "this store cannot put '%s' conditionally", path);
	return st->ops->put_if(st, path, buf, len, ver);
}

/*
 * The marker's "id": added to a store made before ids, by a conditional put
 * of the marker as read (the only write of xt-store.json after its
 * creation), so two processes asking at once agree on one id.
 */
int
store_id(struct store *st, char id[33])
{
	struct sbuf sb;
	char ver[STORE_VER_MAX];
	int rc, tries;

	sbuf_init(&sb, 1 << 16);
	for (tries = 0; tries < 10; tries++) {
		cJSON *m, *v;
		char *txt;
		unsigned char r[16];
		size_t i;

		if ((rc = store_get_ver(st, "xt-store.json", &sb, ver)) < 0)
			break;
		if (!(m = cJSON_ParseWithLength(sb.buf, sb.len)) || !cJSON_IsObject(m)) {
			cJSON_Delete(m);
			rc = store_fail(st, STORE_ECORRUPT, "xt-store.json: not a JSON object");
			break;
		}
		v = cJSON_GetObjectItemCaseSensitive(m, "id");
		if (cJSON_IsString(v) && strlen(v->valuestring) == 32 &&
		    strspn(v->valuestring, "0123456789abcdef") == 32) {
			memcpy(id, v->valuestring, 33);
			cJSON_Delete(m);
			break;
		}
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			cJSON_Delete(m);
			rc = store_fail(st, STORE_ERR, "cannot make a store id: %s", strerror(errno));
			break;
		}
		for (i = 0; i < sizeof(r); i++)
			snprintf(id + 2 * i, 3, "%02x", r[i]);
		cJSON_DeleteItemFromObjectCaseSensitive(m, "id");
		json_set_str(m, "id", id);
		txt = cJSON_PrintUnformatted(m);
		cJSON_Delete(m);
		/* the marker is not writable through store_put_if: the backend's own */
		rc = st->ops->put_if ? st->ops->put_if(st, "xt-store.json", txt, strlen(txt), ver) :
		    store_fail(st, STORE_ERR, "this store cannot give itself an id");
		cJSON_free(txt);
		if (rc != STORE_ECONFLICT)
			break;
	}
	if (rc == STORE_ECONFLICT)
		rc = store_fail(st, STORE_ECONFLICT, "cannot give the store an id: xt-store.json "
		    "keeps changing");
	sbuf_release(&sb);
	return rc;
}

int
store_put_log_if(struct store *st, const char *path, const void *buf, size_t len,
    const char *ver)
{
	if (check(st, path, 1))
		return STORE_EINVAL;
	if (st->ops->put_log_if)
		return st->ops->put_log_if(st, path, buf, len, ver);
	if (!store_can_replace_log(st))
		return store_fail(st, STORE_ERR, "this store cannot replace '%s' and append to it "
		    "again", path);
	return st->ops->put_if(st, path, buf, len, ver);
}

/* A listing, gathered to be sorted. */
struct listing {
	struct store_entry *e;
	size_t n, cap;
};

static int
gather(const struct store_entry *e, void *arg)
{
	struct listing *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap * 2 + 256;
		l->e = xrealloc(l->e, l->cap * sizeof(*l->e));
	}
	l->e[l->n] = *e;
	l->e[l->n++].path = xstrdup(e->path);
	return 0;
}

/*
 * The documented order: by name, byte by byte, within each folder, so a
 * '/' (the end of a folder's name) sorts before any byte a name holds and
 * 'a/x' comes before 'a.txt'.
 */
static int
entry_cmp(const void *pa, const void *pb)
{
	const unsigned char *a = (const unsigned char *)((const struct store_entry *)pa)->path;
	const unsigned char *b = (const unsigned char *)((const struct store_entry *)pb)->path;
	unsigned ka, kb;

	while (*a && *a == *b)
		a++, b++;
	ka = *a == '/' ? 1 : *a ? *a + 1u : 0;
	kb = *b == '/' ? 1 : *b ? *b + 1u : 0;
	return ka < kb ? -1 : ka > kb;
}

int
store_list(struct store *st, const char *prefix, int recursive, store_list_fn fn, void *arg)
{
	struct listing l = { NULL, 0, 0 };
	size_t i;
	int rc;

	/* "" and "a/b/" are folders; "a/b/x" is a name prefix; both are checked without the tail */
	if (*prefix) {
		char *p = xstrdup(prefix);
		size_t n = strlen(p);

		if (p[n - 1] == '/')
			p[n - 1] = '\0';
		rc = check(st, p, 0);
		free(p);
		if (rc)
			return STORE_EINVAL;
	}
	/* a backend lists in its own order (Azure: flat, by whole name); the order is kept here */
	rc = st->ops->list(st, prefix, recursive, gather, &l);
	if (rc == 0 && l.n)
		qsort(l.e, l.n, sizeof(*l.e), entry_cmp);
	for (i = 0; i < l.n; i++) {
		if (rc == 0)
			rc = fn(&l.e[i], arg);
		free((char *)l.e[i].path);
	}
	free(l.e);
	return rc;
}

int
store_list_sums(struct store *st, const char *prefix, int recursive, store_list_fn fn, void *arg)
{
	int rc;

	st->sums = 1;
	rc = store_list(st, prefix, recursive, fn, arg);
	st->sums = 0;
	return rc;
}

int
store_delete(struct store *st, const char *path)
{
	return check(st, path, 1) ? STORE_EINVAL : st->ops->del(st, path);
}

void
store_batch_begin(struct store *st)
{
	st->batch = 1;
}

int
store_commit(struct store *st)
{
	st->batch = 0;
	return st->ops->commit ? st->ops->commit(st) : 0;
}

void
store_parallel(struct store *st, int n)
{
	st->parallel = n > 1 ? n : 1;
}
