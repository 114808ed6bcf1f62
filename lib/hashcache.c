/* hashcache.c: see hashcache.h. Format: one line per file,
 * "dev ino size mtime_ns ctime_ns sha256 path\n". */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hashcache.h"
#include "sha256.h"
#include "util.h"
#include "banned.h"

struct hc_entry {
	char *path;
	unsigned long long dev, ino, size, mtime, ctime;
	char sha[65];
	struct hc_entry *next;
};

struct hashcache {
	struct hc_entry **tab;
	size_t nbuckets, n;
	int dirty;
	char *file;
};

#define HC_MAX_FILE ((size_t)256 << 20)

static size_t
hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct hc_entry *
find(struct hashcache *hc, const char *path)
{
	struct hc_entry *e;

	for (e = hc->tab[hash(path) % hc->nbuckets]; e; e = e->next)
		if (!strcmp(e->path, path))
			return e;
	return NULL;
}

static struct hc_entry *
insert(struct hashcache *hc, const char *path)
{
	struct hc_entry *e = find(hc, path);
	size_t b;

	if (e)
		return e;
	if (hc->n >= hc->nbuckets) {
		size_t nb = hc->nbuckets * 2, i;
		struct hc_entry **tab = xcalloc(nb, sizeof(*tab));

		for (i = 0; i < hc->nbuckets; i++)
			while ((e = hc->tab[i])) {
				hc->tab[i] = e->next;
				e->next = tab[hash(e->path) % nb];
				tab[hash(e->path) % nb] = e;
			}
		free(hc->tab);
		hc->tab = tab;
		hc->nbuckets = nb;
	}
	e = xcalloc(1, sizeof(*e));
	e->path = xstrdup(path);
	b = hash(path) % hc->nbuckets;
	e->next = hc->tab[b];
	hc->tab[b] = e;
	hc->n++;
	return e;
}

struct hashcache *
hashcache_load(void)
{
	struct hashcache *hc = xcalloc(1, sizeof(*hc));
	char *home = xt_home();
	struct sbuf sb;
	char *line, *nl;

	hc->nbuckets = 1024;
	hc->tab = xcalloc(hc->nbuckets, sizeof(*hc->tab));
	hc->file = xasprintf("%s/cache/hashes", home);
	free(home);
	sbuf_init(&sb, HC_MAX_FILE);
	if (file_read(hc->file, &sb) < 0) {
		sbuf_release(&sb);
		return hc;
	}
	for (line = sb.buf; (nl = strchr(line, '\n')); line = nl + 1) {
		unsigned long long v[5];
		char sha[65];
		int off = 0;
		struct hc_entry *e;

		*nl = '\0';
		if (sscanf(line, "%llu %llu %llu %llu %llu %64s %n", &v[0], &v[1], &v[2], &v[3],
		    &v[4], sha, &off) != 6 || !off || !sha256_valid(sha))
			continue;
		e = insert(hc, line + off);
		e->dev = v[0];
		e->ino = v[1];
		e->size = v[2];
		e->mtime = v[3];
		e->ctime = v[4];
		memcpy(e->sha, sha, 65);
	}
	sbuf_release(&sb);
	return hc;
}

int
hashcache_save(struct hashcache *hc)
{
	char *tmp, *dir;
	FILE *fp;
	size_t i;
	int ok;

	if (!hc || !hc->dirty)
		return 0;
	dir = xstrdup(hc->file);
	*strrchr(dir, '/') = '\0';
	mkdir_p(dir);
	free(dir);
	tmp = xasprintf("%s.%ld", hc->file, (long)getpid());
	if (!(fp = fopen(tmp, "w"))) {
		free(tmp);
		return -1;
	}
	for (i = 0; i < hc->nbuckets; i++) {
		struct hc_entry *e;

		for (e = hc->tab[i]; e; e = e->next)
			fprintf(fp, "%llu %llu %llu %llu %llu %s %s\n", e->dev, e->ino, e->size,
			    e->mtime, e->ctime, e->sha, e->path);
	}
	ok = fflush(fp) == 0 && !ferror(fp);
	if (fclose(fp) != 0)
		ok = 0;
	if (!ok || rename(tmp, hc->file) < 0) {
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	hc->dirty = 0;
	return 0;
}

void
hashcache_free(struct hashcache *hc)
{
	size_t i;

	if (!hc)
		return;
	for (i = 0; i < hc->nbuckets; i++) {
		struct hc_entry *e, *next;

		for (e = hc->tab[i]; e; e = next) {
			next = e->next;
			free(e->path);
			free(e);
		}
	}
	free(hc->tab);
	free(hc->file);
	free(hc);
}

int
hashcache_file(struct hashcache *hc, const char *path, char out[65])
{
	struct stat sb;
	char abs[PATH_MAX];
	struct hc_entry *e;
	unsigned long long mt, ct;

	if (stat(path, &sb) < 0)
		return -1;
	if (!hc)
		return sha256_file(path, out, NULL);
	/* the key is the path made absolute, not resolved: realpath would cost a
	 * stat per component of every file */
	if (path[0] == '/') {
		snprintf(abs, sizeof(abs), "%s", path);
	} else {
		static char cwd[PATH_MAX];

		if (!cwd[0] && !getcwd(cwd, sizeof(cwd)))
			return sha256_file(path, out, NULL);
		if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= sizeof(abs))
			return sha256_file(path, out, NULL);
	}
	mt = (unsigned long long)sb.st_mtim.tv_sec * 1000000000ULL + sb.st_mtim.tv_nsec;
	ct = (unsigned long long)sb.st_ctim.tv_sec * 1000000000ULL + sb.st_ctim.tv_nsec;
	e = find(hc, abs);
	if (e && e->dev == sb.st_dev && e->ino == sb.st_ino && e->size == (unsigned long long)sb.st_size &&
	    e->mtime == mt && e->ctime == ct) {
		memcpy(out, e->sha, 65);
		return 0;
	}
	if (sha256_file(path, out, NULL) < 0)
		return -1;
	if ((time_now_ms() - (int64_t)(mt / 1000000)) < 2000)
		return 0;
	e = insert(hc, abs);
	e->dev = sb.st_dev;
	e->ino = sb.st_ino;
	e->size = sb.st_size;
	e->mtime = mt;
	e->ctime = ct;
	memcpy(e->sha, out, 65);
	hc->dirty = 1;
	return 0;
}
