/* blob.c: see blob.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "json.h"
#include "name.h"
#include "sha256.h"
#include "banned.h"

char *
blob_path(const char *sha256)
{
	return xasprintf("blobs/sha256/%.2s/%s", sha256, sha256 + 2);
}

int
blob_put_file(struct store *st, struct hashcache *hc, const char *local, char sha256[65])
{
	struct store_stat sst;
	char got[65], *bp;
	int rc;

	if (hashcache_file(hc, local, sha256) < 0)
		return store_fail(st, STORE_ENOENT, "cannot read '%s': %s", local, strerror(errno));
	bp = blob_path(sha256);
	rc = store_stat(st, bp, &sst);
	if (rc == STORE_OK) {
		free(bp);
		return 0;
	}
	if (rc != STORE_ENOENT) {
		free(bp);
		return rc;
	}
	rc = store_put_file(st, bp, local, got, NULL, NULL);
	if (rc == STORE_OK && strcmp(got, sha256) != 0) {
		/* the file changed between hashing and copying: never keep a blob under a wrong name */
		store_delete(st, bp);
		rc = store_fail(st, STORE_ECORRUPT, "'%s' changed while it was being stored", local);
	}
	free(bp);
	return rc < 0 ? rc : 1;
}

int
blob_put_tree(struct store *st, struct hashcache *hc, const struct tree *t, const char *mpath,
    long *uploaded)
{
	struct sbuf man;
	size_t i;
	int rc = 0;

	if (uploaded)
		*uploaded = 0;
	sbuf_init(&man, (size_t)1 << 30);
	for (i = 0; i < t->n; i++) {
		const struct tree_file *f = &t->files[i];
		char sha[65];
		cJSON *o;
		char *line;
		size_t len;

		if ((rc = blob_put_file(st, hc, f->full, sha)) < 0)
			break;
		if (rc == 1 && uploaded)
			(*uploaded)++;
		o = cJSON_CreateObject();
		json_set_str(o, "path", f->rel);
		json_set_num(o, "mode", f->mode & 07777);
		json_set_num(o, "size", (double)f->size);
		json_set_str(o, "sha256", sha);
		line = json_line(o, &len);
		cJSON_Delete(o);
		if (sbuf_add(&man, line, len) < 0) {
			free(line);
			rc = store_fail(st, STORE_ERR, "manifest of more than 1 GB");
			break;
		}
		free(line);
		rc = 0;
	}
	if (rc == 0)
		rc = store_put(st, mpath, man.buf, man.len);
	sbuf_release(&man);
	return rc;
}

/* Make the parents of path. */
static int
parents(const char *path)
{
	char *d = xstrdup(path), *s = strrchr(d, '/');
	int rc = 0;

	if (s) {
		*s = '\0';
		rc = mkdir_p(d);
	}
	free(d);
	return rc;
}

/*
 * Fill the local cache with blob sha (read-only: it is shared by links).
 * Other executors fill the same cache at the same time, and a name in the
 * cache must only ever hold a whole, checked blob: the blob is written to a
 * temporary name of this process, checked, and then linked to its name
 * (whoever links first wins; the content is the same).
 */
static int
cache_fill(struct store *st, const char *sha, const char *bp, const char *cp)
{
	char got[65], *tmp;
	int rc;

	if (access(cp, F_OK) == 0)
		return 0;
	if (parents(cp) < 0)
		return store_fail(st, STORE_ERR, "cannot create '%s': %s", cp, strerror(errno));
	tmp = xasprintf("%s.tmp.%ld", cp, (long)getpid());
	unlink(tmp);
	if ((rc = store_get_file(st, bp, tmp, got, NULL, NULL)) < 0)
		goto out;
	if (strcmp(got, sha) != 0)
		rc = store_fail(st, STORE_ECORRUPT, "blob %s does not match its hash", sha);
	else if (chmod(tmp, 0555) < 0 || (link(tmp, cp) < 0 && errno != EEXIST))
		rc = store_fail(st, STORE_ERR, "cannot add '%s' to the cache: %s", cp,
		    strerror(errno));
out:
	unlink(tmp);
	free(tmp);
	return rc;
}

static int
get_one(struct store *st, const char *sha, const char *dst, const char *cache)
{
	char *bp = blob_path(sha), got[65];
	int rc;

	if (cache) {
		char *cp = xasprintf("%s/%.2s/%s", cache, sha, sha + 2);

		rc = cache_fill(st, sha, bp, cp);
		if (rc == 0) {
			unlink(dst);
			if (link(cp, dst) < 0)
				rc = 1;
		}
		free(cp);
		if (rc <= 0) {
			free(bp);
			return rc;
		}
	}
	rc = store_get_file(st, bp, dst, got, NULL, NULL);
	if (rc == 0 && strcmp(got, sha) != 0) {
		unlink(dst);
		rc = store_fail(st, STORE_ECORRUPT, "blob %s does not match its hash", sha);
	}
	free(bp);
	return rc;
}

int
blob_get_tree(struct store *st, const char *mpath, const char *dir, const char *cache)
{
	struct sbuf man;
	char *line, *nl, why[256];
	long lineno = 0;
	int rc;

	sbuf_init(&man, (size_t)1 << 30);
	if ((rc = store_get(st, mpath, 0, -1, &man)) < 0) {
		sbuf_release(&man);
		return rc;
	}
	if (mkdir_p(dir) < 0) {
		sbuf_release(&man);
		return store_fail(st, STORE_ERR, "cannot create '%s': %s", dir, strerror(errno));
	}
	for (line = man.buf; rc == 0 && (nl = strchr(line, '\n')); line = nl + 1) {
		cJSON *o;
		const char *path, *sha;
		char *dst;

		*nl = '\0';
		lineno++;
		o = cJSON_Parse(line);
		path = json_str(o, "path");
		sha = json_str(o, "sha256");
		if (!path || !sha || !sha256_valid(sha) || name_path_check(path, why, sizeof(why)) < 0) {
			cJSON_Delete(o);
			rc = store_fail(st, STORE_ECORRUPT, "%s:%ld: bad manifest line", mpath, lineno);
			break;
		}
		dst = path_join(dir, path);
		if (parents(dst) < 0)
			rc = store_fail(st, STORE_ERR, "cannot create the folder of '%s': %s", dst,
			    strerror(errno));
		else
			rc = get_one(st, sha, dst, cache);
		if (rc == 0 && !cache)
			chmod(dst, (mode_t)json_num(o, "mode", 0644) & 0777);
		free(dst);
		cJSON_Delete(o);
	}
	sbuf_release(&man);
	return rc;
}
