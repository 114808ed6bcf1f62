/*
 * xt-get: read from the store. Download an object or a folder tree,
 * verifying content hashes the store knows; list a prefix as JSON lines;
 * cat objects to standard output. Also downloads http:// and https:// URLs.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "config.h"
#include "http.h"
#include "json.h"
#include "name.h"
#include "run.h"
#include "sha256.h"
#include "tool.h"
#include "tree.h"
#include "xfer.h"
#include "banned.h"

#define CAT_CHUNK ((int64_t)1 << 20)

static int quiet, verbose, par;

static const char usage_text[] =
    "usage: xt-get [-qr] SOURCE [DEST]     download an object or a folder (-r: into\n"
    "                                      DEST/NAME when DEST is a folder, as cp -r)\n"
    "       xt-get -l [-r] [PREFIX]        list as JSON lines (-r: recursive)\n"
    "       xt-get -c PATH...              write objects to standard output\n"
    "       xt-get [-v] URL [FILE]         download an http(s):// URL (-c: to stdout)\n"
    "options: -s STORE  -w WORKSPACE  --ca-file FILE  -P N (connections at once)\n"
    "SOURCE, PREFIX and PATH take short forms: runN/..., jobN/..., @share/..., :literal,\n"
    "'$lastrun', '$lastjob'; SOURCE takes wildcards ('run7.*/model.pkl') and jobN/code\n";

/* addr as a store path, after '$lastrun' and '$lastjob' (tool_name). Caller frees. */
static char *
resolve(struct store *st, const char *addr, int allow_root)
{
	char err[1024], *a = tool_name(st, tool_workspace(), addr);
	char *p = name_resolve(a, tool_workspace(), allow_root, err, sizeof(err));

	free(a);
	if (!p)
		die_status(EXIT_USAGE, "%s", err);
	return p;
}

static int
print_entry(const struct store_entry *e, void *arg)
{
	cJSON *o = cJSON_CreateObject();
	char t[32];

	json_set_str(o, "path", e->path);
	if (e->is_dir) {
		json_set(o, "dir", cJSON_CreateTrue());
	} else {
		json_set_num(o, "size", (double)e->size);
		time_iso(e->mtime_ms, t, sizeof(t));
		json_set_str(o, "modified", t);
	}
	json_print_line(stdout, o);
	cJSON_Delete(o);
	return 0;
}

/* print_entry, counting in *arg */
static int
count_entry(const struct store_entry *e, void *arg)
{
	++*(long *)arg;
	return print_entry(e, NULL);
}

static int
do_list(struct store *st, const char *addr, int recursive)
{
	char *p = addr ? resolve(st, addr, 1) : xstrdup("");
	char *pre = *p ? xasprintf("%s/", p) : xstrdup("");
	struct store_stat sst;
	long listed = 0;
	int rc, ret = 0;

	/* a folder lists as its entries (first: one request on az://), an object as itself */
	if ((rc = store_list(st, pre, recursive, count_entry, &listed)) < 0 && rc != STORE_ENOENT) {
		warnx("cannot list '%s': %s", addr ? addr : "", store_error(st));
		ret = 1;
	} else if (!listed && *p) {
		if ((rc = store_stat(st, p, &sst)) == 0) {
			struct store_entry e = { p, sst.size, sst.mtime_ms, 0, "" };

			print_entry(&e, NULL);
		} else if (rc != STORE_ENOENT) {
			warnx("%s", store_error(st));
			ret = 1;
		}
	}
	free(pre);
	free(p);
	return ret;
}

/*
 * The record of a run whose job deferred it (run.h), when p is such a
 * run's ws/WS/runs/RUN/run.json, which is not stored yet: as its plan
 * holds it, into sb. 0, or a STORE_E* code (STORE_ENOENT: no such run).
 */
static int
deferred(struct store *st, const char *p, struct sbuf *sb)
{
	const char *r = strncmp(p, "ws/", 3) ? NULL : strstr(p + 3, "/runs/"), *e;
	char *ws, *run, *line;
	size_t len;
	cJSON *rec;
	int rc = STORE_ENOENT;

	if (!r || r == p + 3 || !(e = strchr(r + 6, '/')) || strcmp(e, "/run.json") ||
	    memchr(p + 3, '/', (size_t)(r - p - 3)))
		return rc;
	ws = xstrndup(p + 3, (size_t)(r - p - 3));
	run = xstrndup(r + 6, (size_t)(e - r - 6));
	if ((rec = run_load(st, ws, run, &rc))) {
		line = json_line(rec, &len);
		sbuf_reset(sb);
		rc = sbuf_add(sb, line, len) < 0 ? STORE_ERR : 0;
		free(line);
		cJSON_Delete(rec);
	}
	free(ws);
	free(run);
	return rc;
}

static int
do_cat(struct store *st, char **paths, int n)
{
	struct sbuf sb;
	int i, ret = 0;

	sbuf_init(&sb, (size_t)CAT_CHUNK);
	for (i = 0; i < n; i++) {
		char *p = resolve(st, paths[i], 0);
		int64_t off = 0;

		for (;;) {
			int rc = store_get(st, p, off, CAT_CHUNK, &sb);

			/* not deferred either: the store's own message again */
			if (rc == STORE_ENOENT && off == 0 && (rc = deferred(st, p, &sb)) < 0)
				rc = store_get(st, p, off, CAT_CHUNK, &sb);
			if (rc < 0) {
				warnx("%s", store_error(st));
				ret = 1;
				break;
			}
			if (fwrite(sb.buf, 1, sb.len, stdout) != sb.len)
				die("error writing to standard output:");
			off += (int64_t)sb.len;
			if ((int64_t)sb.len < CAT_CHUNK)
				break;
		}
		free(p);
	}
	sbuf_release(&sb);
	return ret;
}

static void
report(const char *path, const char *file, int64_t size, const char *sha, const char *action)
{
	cJSON *o = cJSON_CreateObject();

	json_set_str(o, "path", path);
	json_set_str(o, "file", file);
	json_set_num(o, "size", (double)size);
	json_set_str(o, "sha256", sha);
	json_set_str(o, "action", action);
	json_print_line(stdout, o);
	cJSON_Delete(o);
}

static int
fetch(struct store *st, const char *path, const char *file, int64_t size, struct progress *pg)
{
	static char *made;	/* the last folder made: a tree's files come folder by folder */
	char sha[65], *dir = xstrdup(file), *slash = strrchr(dir, '/');

	if (slash && slash != dir) {
		*slash = '\0';
		if (!made || strcmp(made, dir) != 0) {
			if (mkdir_p(dir) < 0) {
				warnx("cannot create folder '%s':", dir);
				free(dir);
				return 1;
			}
			free(made);
			made = xstrdup(dir);
		}
	}
	free(dir);
	if (store_get_file(st, path, file, sha, quiet ? NULL : progress_cb, pg) < 0) {
		progress_end(pg);
		warnx("%s", store_error(st));
		return 1;
	}
	progress_add(pg, size);
	report(path, file, size, sha, "downloaded");
	return 0;
}

static int
collect(const struct store_entry *e, void *arg)
{
	tree_add_entry(arg, e->path, e->size);
	return 0;
}

static int
is_dir(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

struct down {
	const struct tree *t;
	char **file;
	char (*sha)[65];
	int *made;		/* its folder was made, or could not be */
};

/* One object of the tree into its file, on the worker's store ws (see xfer.h). */
static int
down_run(struct xfer *x, struct xfer_worker *w, struct store *ws, size_t i)
{
	struct down *d = x->arg;
	int rc;

	if (d->made[i] < 0)
		return XFER_FAILED;
	xfer_unlock(w);
	rc = store_get_file(ws, d->t->files[i].rel, d->file[i], d->sha[i], quiet ? NULL :
	    xfer_progress, w);
	xfer_lock(w);
	if (rc < 0) {
		x->err[i] = xstrdup(store_error(ws));
		return XFER_FAILED;
	}
	return XFER_DONE;
}

static void
down_done(struct xfer *x, size_t i, const char *err)
{
	struct down *d = x->arg;

	if (err) {
		progress_end(x->pg);
		if (*err)
			warnx("%s", err);
		return;
	}
	report(d->t->files[i].rel, d->file[i], d->t->files[i].size, d->sha[i], "downloaded");
}

/*
 * Download the objects of t (store paths, skip bytes of each cut) under
 * the folder dest, over the connections of -P: the folders first, in
 * order, then the files.
 */
static int
download(struct store *st, const struct tree *t, size_t skip, const char *dest,
    struct progress *pg)
{
	struct down d;
	struct xfer x;
	int64_t *size = xcalloc(t->n ? t->n : 1, sizeof(*size));
	char *made = NULL;
	size_t i;
	int ret = 0;

	d.t = t;
	d.file = xcalloc(t->n ? t->n : 1, sizeof(*d.file));
	d.sha = xcalloc(t->n ? t->n : 1, sizeof(*d.sha));
	d.made = xcalloc(t->n ? t->n : 1, sizeof(*d.made));
	for (i = 0; i < t->n; i++) {
		char *dir, *slash;

		size[i] = t->files[i].size;
		d.file[i] = path_join(dest, t->files[i].rel + skip);
		dir = xstrdup(d.file[i]);
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (!made || strcmp(made, dir) != 0) {
				free(made);
				made = xstrdup(dir);
				if (mkdir_p(dir) < 0) {
					warnx("cannot create folder '%s':", dir);
					d.made[i] = -1;
					ret = 1;
				}
			} else if (i > 0) {
				d.made[i] = d.made[i - 1];
			}
		}
		free(dir);
	}
	free(made);
	memset(&x, 0, sizeof(x));
	x.st = st;
	x.workers = par;
	x.n = t->n;
	x.size = size;
	x.pg = pg;
	x.run = down_run;
	x.done = down_done;
	x.arg = &d;
	ret |= xfer_run(&x);
	for (i = 0; i < t->n; i++)
		free(d.file[i]);
	free(d.file);
	free(d.sha);
	free(d.made);
	free(size);
	return ret;
}

/*
 * The objects under the store folder p into the local folder dest. 0, 1
 * after warnings (src names p in them), or -1 when p holds no object.
 */
static int
get_folder(struct store *st, const char *p, const char *src, const char *dest)
{
	char *pre = *p ? xasprintf("%s/", p) : xstrdup("");
	struct progress pg;
	struct tree t;
	int64_t total = 0;
	size_t i;
	int ret = 0, rc;

	tree_init(&t);
	if ((rc = store_list(st, pre, 1, collect, &t)) < 0 && rc != STORE_ENOENT) {
		warnx("cannot list '%s': %s", src, store_error(st));
		ret = 1;
	} else if (t.n == 0) {
		ret = -1;
	} else {
		for (i = 0; i < t.n; i++)
			total += t.files[i].size;
		progress_init(&pg, quiet ? NULL : "get", total);
		ret = download(st, &t, strlen(pre), dest, &pg);
		progress_end(&pg);
	}
	tree_release(&t);
	free(pre);
	return ret;
}

/* blob_extract's fn: arg is the store path the code is asked as (jobN/code's). */
static void
extracted(const char *path, const char *file, int64_t size, const char *sha, void *arg)
{
	char *p = path_join(arg, path);

	report(p, file, size, sha, "extracted");
	free(p);
}

/*
 * p as ws/<ws>/jobs/jobN/code, where the store holds no such folder: the
 * job's code snapshot (jobs/jobN/code.jsonl) restored as files into dest,
 * from its blobs, as a run's code is. 0, 1 after a warning, or -1 when p
 * is no job's code or the job has no snapshot.
 */
static int
get_code(struct store *st, const char *p, const char *dest)
{
	char *jobs = xasprintf("ws/%s/jobs/", tool_workspace()), *job, *man;
	const char *rest = p, *slash;
	struct store_stat sst;
	long n;
	int rc;

	if (strncmp(p, jobs, strlen(jobs)) != 0) {
		free(jobs);
		return -1;
	}
	rest = p + strlen(jobs);
	free(jobs);
	if (!(slash = strchr(rest, '/')) || strcmp(slash, "/code") != 0)
		return -1;
	job = xstrndup(rest, (size_t)(slash - rest));
	n = name_parse_job(job, &n);
	free(job);
	man = xasprintf("%s.jsonl", p);
	if (!n || store_stat(st, man, &sst) == STORE_ENOENT) {
		free(man);
		return -1;
	}
	if ((rc = blob_extract(st, man, dest, extracted, (void *)p)) < 0)
		warnx("%s", store_error(st));
	free(man);
	return rc < 0;
}

/*
 * Where a folder of the store goes: dest; with -r, as cp -r does, dest/NAME
 * when dest is a local folder already; NAME when there is no dest.
 * Caller frees.
 */
static char *
folder_dest(const char *dest, const char *name, int recursive)
{
	if (!dest)
		return xstrdup(name);
	if (recursive && is_dir(dest) && strcmp(name, "."))
		return path_join(dest, name);
	return xstrdup(dest);
}

/* The store path p (an object, a folder, or a job's code) into to. 0, 1, or -1: nothing there. */
static int
get_any(struct store *st, const char *p, const char *src, const char *to)
{
	struct store_stat sst;
	struct progress pg;
	int ret;

	if ((ret = *p ? store_stat(st, p, &sst) : STORE_ENOENT) == 0) {
		progress_init(&pg, quiet ? NULL : "get", sst.size);
		ret = fetch(st, p, to, sst.size, &pg);
		progress_end(&pg);
		return ret;
	}
	if (ret != STORE_ENOENT) {
		warnx("%s", store_error(st));
		return 1;
	}
	if ((ret = get_folder(st, p, src, to)) < 0)
		ret = get_code(st, p, to);
	return ret;
}

/* The candidates of c that the pattern part seg matches, into next (dirs only, unless last). */
struct globbing {
	const char *seg;
	size_t skip;		/* the listed folder's "path/" */
	int last;
	struct tree *next;
};

static int
glob_entry(const struct store_entry *e, void *arg)
{
	struct globbing *g = arg;
	char *name = xstrdup(e->path + g->skip);
	size_t len = strlen(name);

	if (len && name[len - 1] == '/')
		name[--len] = '\0';
	if ((e->is_dir || g->last) && fnmatch(g->seg, name, FNM_PERIOD) == 0) {
		char *full = xstrndup(e->path, g->skip + len);

		tree_add_entry(g->next, full, e->size);
		free(full);
	}
	free(name);
	return 0;
}

/*
 * Download what the pattern src matches ('*', '?' and '[...]' in a path
 * part, matched part by part against the store's listings, as fnmatch(3)
 * with FNM_PERIOD): each match into dest/<its path from the folder that
 * holds the first part with a wildcard>.
 */
static int
do_glob(struct store *st, const char *src, const char *dest)
{
	char err[1024], *pat, *part, *save = NULL;
	struct tree cur, next;
	size_t i, skip = (size_t)-1;
	long matched = 0;
	int ret = 0;

	if (!(pat = name_resolve_pattern(src, tool_workspace(), err, sizeof(err))))
		die_status(EXIT_USAGE, "%s", err);
	tree_init(&cur);
	tree_add_entry(&cur, "", 0);
	for (part = strtok_r(pat, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		int last = !save || !*save;

		tree_init(&next);
		for (i = 0; i < cur.n; i++) {
			const char *c = cur.files[i].rel;
			char *pre = *c ? xasprintf("%s/", c) : xstrdup("");
			struct globbing g = { part, strlen(pre), last, &next };

			if (!strpbrk(part, "*?[")) {
				free(pre);
				pre = *c ? path_join(c, part) : xstrdup(part);
				tree_add_entry(&next, pre, 0);
			} else {
				int rc = store_list(st, pre, 0, glob_entry, &g);

				if (skip == (size_t)-1)
					skip = g.skip;
				if (rc < 0 && rc != STORE_ENOENT) {
					warnx("cannot list '%s': %s", *c ? c : ":", store_error(st));
					ret = 1;
				}
			}
			free(pre);
		}
		tree_release(&cur);
		cur = next;
	}
	for (i = 0; i < cur.n; i++) {
		char *to = path_join(dest ? dest : ".", cur.files[i].rel + skip);
		int rc = get_any(st, cur.files[i].rel, cur.files[i].rel, to);

		matched += rc >= 0;
		ret |= rc > 0;
		free(to);
	}
	if (!matched) {
		warnx("no match for '%s' in the store", src);
		ret = 1;
	}
	tree_release(&cur);
	free(pat);
	return ret;
}

static int
do_get(struct store *st, const char *src, const char *dest, int recursive)
{
	char *a = tool_name(st, tool_workspace(), src), *p, *base, *to;
	struct store_stat sst;
	int ret;

	if (a[0] != ':' && strpbrk(a, "*?[")) {
		ret = do_glob(st, a, dest);
		free(a);
		return ret;
	}
	p = resolve(st, a, 1);
	free(a);
	base = strrchr(p, '/') ? xstrdup(strrchr(p, '/') + 1) : xstrdup(*p ? p : ".");
	ret = *p ? store_stat(st, p, &sst) : STORE_ENOENT;
	if (ret == 0)
		to = !dest ? xstrdup(base) : is_dir(dest) || dest[strlen(dest) - 1] == '/' ?
		    path_join(dest, base) : xstrdup(dest);
	else
		to = folder_dest(dest, base, recursive);
	if ((ret = get_any(st, p, src, to)) < 0) {
		warnx("'%s': no such object or folder in the store", src);
		ret = 1;
	}
	free(to);
	free(base);
	free(p);
	return ret;
}

struct url_out {
	FILE *fp;
	struct sha256 h;
};

static int
url_write(const void *data, size_t len, void *arg)
{
	struct url_out *o = arg;

	sha256_update(&o->h, data, len);
	return fwrite(data, 1, len, o->fp) == len ? 0 : -1;
}

/* FILE for a URL: dest, or dest/NAME when dest is a folder, or NAME, where
 * NAME is the last segment of the URL's path; NULL when there is none. */
static char *
url_file(const char *url, const char *dest)
{
	const char *path = strchr(strstr(url, "://") + 3, '/');
	size_t n = path ? strcspn(path, "?#") : 0;
	char *seg = NULL, *file;

	if (n > 1) {
		char *p = xstrndup(path, n), *slash = strrchr(p, '/');

		if (slash[1])
			seg = xstrdup(slash + 1);
		free(p);
	}
	if (dest && !is_dir(dest) && dest[strlen(dest) - 1] != '/')
		file = xstrdup(dest);
	else if (!seg)
		file = NULL;
	else
		file = dest ? path_join(dest, seg) : xstrdup(seg);
	free(seg);
	return file;
}

static void
url_note(const char *url, const struct http_result *r, int ok)
{
	if (!verbose)
		return;
	warnx("%s: CA certificates %s (%s)", url, r->ca.path ? r->ca.path : "built in",
	    r->ca.origin ? r->ca.origin : "none");
	if (ok)
		warnx("%s: status %ld, %lld bytes, TLS handshake done at %.1f ms, all in %.1f ms",
		    url, r->status, (long long)r->bytes, r->tls_ms, r->total_ms);
}

/* Download url to file (NULL: standard output). A file appears whole, by
 * rename, or not at all. */
static int
do_url(const char *url, const char *file)
{
	struct url_out o = { stdout, { 0 } };
	struct http_result r;
	char err[1024], sha[SHA256_HEX], *tmp = NULL;
	int fd, ok;

	sha256_init(&o.h);
	if (file) {
		tmp = xasprintf("%s.xt-XXXXXX", file);
		mode_t mask = umask(0);

		umask(mask);
		/* mkstemp makes the file 0600; a download gets a new file's usual mode */
		if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0666 & ~mask) < 0 ||
		    !(o.fp = fdopen(fd, "w"))) {
			warnx("cannot create '%s':", tmp);
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			free(tmp);
			return 1;
		}
	}
	ok = http_get(url, url_write, &o, &r, err, sizeof(err)) == 0;
	url_note(url, &r, ok);
	if (!ok)
		warnx("%s", err);
	if (file) {
		if (fclose(o.fp) != 0 && ok) {
			warnx("cannot write '%s':", file);
			ok = 0;
		}
		if (ok && rename(tmp, file) < 0) {
			warnx("cannot rename '%s' to '%s':", tmp, file);
			ok = 0;
		}
		if (!ok)
			unlink(tmp);
		free(tmp);
	} else if (!ok && ferror(stdout)) {
		die("error writing to standard output:");
	}
	if (ok && file) {
		cJSON *j = cJSON_CreateObject();
		char *shown = redact(url);

		sha256_hex(&o.h, sha);
		json_set_str(j, "url", shown);
		free(shown);
		json_set_str(j, "file", file);
		json_set_num(j, "size", (double)r.bytes);
		json_set_str(j, "sha256", sha);
		json_set_str(j, "action", "downloaded");
		json_set_num(j, "status", (double)r.status);
		json_set_num(j, "tls_ms", r.tls_ms);
		json_set_num(j, "ms", r.total_ms);
		json_print_line(stdout, j);
		cJSON_Delete(j);
	}
	return !ok;
}

static int
do_urls(char **urls, int n, int cat)
{
	int i, ret = 0;

	if (!cat) {
		char *file = url_file(urls[0], n > 1 ? urls[1] : NULL);

		if (!file)
			die_status(EXIT_USAGE, "%s: no file name in the URL: give FILE", urls[0]);
		ret = do_url(urls[0], file);
		free(file);
		return ret;
	}
	for (i = 0; i < n; i++) {
		if (!http_is_url(urls[i]))
			die_status(EXIT_USAGE, "'%s': not an http:// or https:// URL", urls[i]);
		ret |= do_url(urls[i], NULL);
	}
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "list", no_argument, 0, 'l' },
		{ "recursive", no_argument, 0, 'r' },
		{ "cat", no_argument, 0, 'c' },
		{ "store", required_argument, 0, 's' },
		{ "workspace", required_argument, 0, 'w' },
		{ "quiet", no_argument, 0, 'q' },
		{ "verbose", no_argument, 0, 'v' },
		{ "ca-file", required_argument, 0, 'C' },
		{ "parallel", required_argument, 0, 'P' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c, list = 0, cat = 0, recursive = 0, ret;
	struct store *st;

	tool_init(argc, argv);
	while ((c = getopt_long(argc, argv, "lrcs:w:qvP:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': list = 1; break;
		case 'r': recursive = 1; break;
		case 'c': cat = 1; break;
		case 's': config_set("store", optarg); break;
		case 'w': config_set("workspace", optarg); break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'C': config_set("ca-file", optarg); break;
		case 'P': par = xfer_parse(optarg); break;
		case 'h': tool_help(usage_text);
		default: tool_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (list && cat)
		tool_usage_error(usage_text, "-l and -c exclude each other");
	if (list && argc > 1)
		tool_usage_error(usage_text, "-l takes one PREFIX at most");
	if (cat && argc < 1)
		tool_usage_error(usage_text, "-c: missing PATH");
	if (cat && recursive)
		tool_usage_error(usage_text, "-r goes with -l or a SOURCE, not -c");
	if (!list && !cat && argc < 1)
		tool_usage_error(usage_text, "missing SOURCE");
	if (!list && !cat && argc > 2)
		tool_usage_error(usage_text, "one SOURCE and one DEST at most: a wildcard "
		    "the shell expanded? quote it");
	if (!list && http_is_url(argv[0])) {
		ret = do_urls(argv, argc, cat);
		config_release();
		stdout_close();
		return ret;
	}
	tool_workspace();
	st = tool_store();
	par = xfer_workers(st, par);
	if (list)
		ret = do_list(st, argc ? argv[0] : NULL, recursive);
	else if (cat)
		ret = do_cat(st, argv, argc);
	else
		ret = do_get(st, argv[0], argc > 1 ? argv[1] : NULL, recursive);
	store_close(st);
	config_release();
	stdout_close();
	return ret;
}
