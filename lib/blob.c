/* blob.c: see blob.h. */
#include <dirent.h>
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

/* A cache temporary of a writer that is gone is removed once it is this old. */
#define CACHE_TMP_STALE_MS ((int64_t)3600 * 1000)

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
 * True when name is a temporary of cache_fill ("<name>.tmp.<pid>.<seq>")
 * whose writer is gone. The cache is on this machine, so the pid says; a
 * pid reused since is taken for the writer: its file stays.
 */
static int
cache_tmp_orphan(const char *name, const void *arg)
{
	const char *t = strstr(name, ".tmp."), *dot;

	(void)arg;
	if (!t)
		return 0;
	t += 5;
	dot = strchr(t, '.');
	if (!dot || !dot[1] || strspn(dot + 1, "0123456789") != strlen(dot + 1))
		return 0;
	return pid_gone(t, (size_t)(dot - t));
}

/*
 * Remove the temporaries that fillers killed mid-copy left in the cache
 * (cache/ab/<rest>.tmp.PID.N): those whose writer is gone and that have
 * not been written for CACHE_TMP_STALE_MS. Once a process, when its first
 * fill starts.
 */
static void
cache_clean(const char *cache)
{
	static pid_t cleaned;
	struct dirent *te;
	DIR *top;

	if (cleaned == getpid())
		return;
	cleaned = getpid();
	if (!(top = opendir(cache)))
		return;
	while ((te = readdir(top))) {
		char *sub;

		if (strlen(te->d_name) != 2 || strspn(te->d_name, "0123456789abcdef") != 2)
			continue;
		sub = path_join(cache, te->d_name);
		tmp_sweep(sub, cache_tmp_orphan, NULL, CACHE_TMP_STALE_MS);
		free(sub);
	}
	closedir(top);
}

/*
 * Fill the local cache with blob sha (read-only: it is shared by links).
 * Other executors link from the cache at any moment, so a blob appears
 * there only whole and verified: it is written under a name of its own,
 * then renamed into place. A cached file of the wrong size (size >= 0),
 * which no fill of ours leaves, is replaced. A filler killed mid-copy
 * leaves its temporary: the first fill of a process removes those.
 */
static int
cache_fill(struct store *st, const char *cache, const char *sha, const char *bp, const char *cp,
    int64_t size)
{
	static unsigned long seq;
	struct stat sb;
	char got[65], *tmp;
	int rc;

	if (stat(cp, &sb) == 0 && (size < 0 || sb.st_size == size))
		return 0;
	cache_clean(cache);
	if (parents(cp) < 0)
		return store_fail(st, STORE_ERR, "cannot create '%s': %s", cp, strerror(errno));
	tmp = xasprintf("%s.tmp.%ld.%lu", cp, (long)getpid(), seq++);
	if ((rc = store_get_file(st, bp, tmp, got, NULL, NULL)) < 0) {
		unlink(tmp);
	} else if (strcmp(got, sha) != 0) {
		unlink(tmp);
		rc = store_fail(st, STORE_ECORRUPT, "blob %s does not match its hash", sha);
	} else if (chmod(tmp, 0555) < 0 || rename(tmp, cp) < 0) {
		rc = store_fail(st, STORE_ERR, "cannot cache blob %s in '%s': %s", sha, cp,
		    strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

static int
get_one(struct store *st, const char *sha, int64_t size, const char *dst, const char *cache)
{
	char *bp = blob_path(sha), got[65];
	int rc;

	if (cache) {
		char *cp = xasprintf("%s/%.2s/%s", cache, sha, sha + 2);

		rc = cache_fill(st, cache, sha, bp, cp, size);
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
		double size;

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
		size = json_num(o, "size", -1);
		if (parents(dst) < 0)
			rc = store_fail(st, STORE_ERR, "cannot create the folder of '%s': %s", dst,
			    strerror(errno));
		else
			rc = get_one(st, sha, size >= 0 && size < 9e18 ? (int64_t)size : -1, dst,
			    cache);
		if (rc == 0 && !cache)
			chmod(dst, (mode_t)json_num(o, "mode", 0644) & 0777);
		free(dst);
		cJSON_Delete(o);
	}
	sbuf_release(&man);
	return rc;
}
