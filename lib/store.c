/* store.c: the store's front: URL parsing, path checks, dispatch to a backend. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "name.h"
#include "store.h"
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

struct store *
store_open(const char *url, char *err, size_t errlen)
{
	char *root;
	struct store *st;

	if (!url || !*url) {
		snprintf(err, errlen, "empty store URL");
		return NULL;
	}
	if (strncmp(url, "file://", 7) == 0) {
		if (url[7] != '/') {
			snprintf(err, errlen, "malformed store URL '%s': expected file:///absolute/path", url);
			return NULL;
		}
		return store_file_open(url + 7, err, errlen);
	}
	if (strstr(url, "://") || (url[strcspn(url, ":/")] == ':' && url[0] != '.')) {
		size_t n = strcspn(url, ":");

		if (strncmp(url, "az://", 5) == 0)
			return store_azure_open(url, err, errlen);
		else
			snprintf(err, errlen, "malformed store URL '%s': unknown scheme '%.*s'", url,
			    (int)n, url);
		return NULL;
	}
	if (url[0] == '/')
		return store_file_open(url, err, errlen);
	{
		char cwd[4096];

		if (!getcwd(cwd, sizeof(cwd))) {
			snprintf(err, errlen, "cannot get the current directory: %s", strerror(errno));
			return NULL;
		}
		root = path_join(cwd, url);
	}
	st = store_file_open(root, err, errlen);
	free(root);
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

int
store_list(struct store *st, const char *prefix, int recursive, store_list_fn fn, void *arg)
{
	/* "" and "a/b/" are folders; "a/b/x" is a name prefix; both are checked without the tail */
	if (*prefix) {
		char *p = xstrdup(prefix);
		size_t n = strlen(p);
		int rc;

		if (p[n - 1] == '/')
			p[n - 1] = '\0';
		rc = check(st, p, 0);
		free(p);
		if (rc)
			return STORE_EINVAL;
	}
	return st->ops->list(st, prefix, recursive, fn, arg);
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
