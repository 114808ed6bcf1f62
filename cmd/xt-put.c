/*
 * xt-put: write into the store. Upload files and folder trees, append
 * standard input to an object, delete objects. One JSON line per object on
 * stdout. All operands are checked before anything is written, so a bad
 * operand changes nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hashcache.h"
#include "hmap.h"
#include "json.h"
#include "name.h"
#include "tool.h"
#include "tree.h"
#include "xfer.h"
#include "banned.h"

static const char usage_text[] =
    "usage: xt-put [-ru] [-x PATTERN]... [-X] SOURCE... DEST\n"
    "       xt-put -a DEST            append standard input to DEST\n"
    "       xt-put -d [-r] PATH...    delete objects (-r: everything under PATH)\n"
    "-r: a folder SOURCE goes to DEST/NAME when DEST is a folder (as cp -r), else to DEST\n"
    "options: -s STORE  -w WORKSPACE  -q (no progress)  -P N (connections at once)\n"
    "DEST and PATH take short forms: runN/..., jobN/..., @share/..., :literal\n";


/* One JSON line of output: what happened to an object. */
static cJSON *
line(const char *path, int64_t size, const char *sha, const char *action)
{
	cJSON *o = cJSON_CreateObject();

	json_set_str(o, "path", path);
	json_set_num(o, "size", (double)size);
	if (sha && *sha)
		json_set_str(o, "sha256", sha);
	json_set_str(o, "action", action);
	return o;
}

static void
report(const char *path, int64_t size, const char *sha, const char *action)
{
	cJSON *o = line(path, size, sha, action);

	json_print_line(stdout, o);
	cJSON_Delete(o);
}

static char *
resolve(const char *addr, int allow_root)
{
	char err[1024];
	char *p = name_resolve(addr, tool_workspace(), allow_root, err, sizeof(err));

	if (!p)
		die_status(EXIT_USAGE, "%s", err);
	return p;
}

/*
 * Append standard input as it comes: after each read, the whole lines read
 * so far go in one atomic append (a pipe from a running program is shipped
 * line by line); a last line without a newline goes at the end.
 */
static int
do_append(struct store *st, const char *dest)
{
	char *path = resolve(dest, 0);
	struct sbuf chunk;
	char buf[65536];
	ssize_t n;
	size_t total = 0;
	int ret = 0, first = 1;

	sbuf_init(&chunk, (size_t)4 << 20);
	for (;;) {
		size_t cut;
		char *nl;

		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			warnx("error reading standard input:");
			ret = 1;
			break;
		}
		if (n > 0 && sbuf_add(&chunk, buf, (size_t)n) < 0) {
			warnx("a line of standard input is longer than %zu bytes", chunk.max);
			ret = 1;
			break;
		}
		nl = chunk.len ? memrchr(chunk.buf, '\n', chunk.len) : NULL;
		cut = n == 0 ? chunk.len : nl ? (size_t)(nl - chunk.buf) + 1 : 0;
		/* an empty input still makes the object */
		if ((cut || (n == 0 && first)) && store_append(st, path, chunk.buf, cut) < 0) {
			warnx("%s", store_error(st));
			ret = 1;
			break;
		}
		first = 0;
		total += cut;
		memmove(chunk.buf, chunk.buf + cut, chunk.len - cut);
		chunk.len -= cut;
		if (n == 0)
			break;
	}
	if (!ret)
		report(path, (int64_t)total, NULL, "appended");
	sbuf_release(&chunk);
	free(path);
	return ret;
}

static int
collect(const struct store_entry *e, void *arg)
{
	tree_add_entry(arg, e->path, e->size);
	return 0;
}

static int
do_delete(struct store *st, char **argv, int argc, int recursive)
{
	struct tree t;
	int i, ret = 0;
	size_t j;
	char **paths = xcalloc((size_t)argc, sizeof(*paths));

	tree_init(&t);
	for (i = 0; i < argc; i++)
		paths[i] = resolve(argv[i], 0);
	for (i = 0; i < argc; i++) {
		struct store_stat sst;
		char *pre;
		size_t before = t.n;
		int rc = store_stat(st, paths[i], &sst);

		if (rc == 0) {
			tree_add_entry(&t, paths[i], sst.size);
			continue;
		}
		if (rc != STORE_ENOENT) {
			warnx("%s", store_error(st));
			ret = 1;
			continue;
		}
		if (recursive) {
			pre = xasprintf("%s/", paths[i]);
			if (store_list(st, pre, 1, collect, &t) < 0) {
				warnx("cannot list '%s': %s", paths[i], store_error(st));
				ret = 1;
			}
			free(pre);
			if (t.n > before)
				continue;
		}
		warnx("cannot delete '%s': no such object%s", argv[i], recursive ? " or folder" : "");
		ret = 1;
	}
	if (ret)
		die("nothing was deleted");
	for (j = 0; j < t.n; j++) {
		if (store_delete(st, t.files[j].rel) < 0) {
			warnx("%s", store_error(st));
			ret = 1;
			continue;
		}
		report(t.files[j].rel, t.files[j].size, NULL, "deleted");
	}
	for (i = 0; i < argc; i++)
		free(paths[i]);
	free(paths);
	tree_release(&t);
	return ret;
}

static int
stop_listing(const struct store_entry *e, void *arg)
{
	return 1;
}

/*
 * Where -r puts the folder src: as cp -r does, under base/NAME (NAME the
 * folder's last path component) when base is a folder of the store
 * already or there are several sources, else at base itself. Caller frees;
 * NULL after a warning when base is an object.
 */
static char *
tree_dest(struct store *st, const char *src, const char *base, int nsrc)
{
	char *name = xstrdup(src), *slash, *pre, *out;
	struct store_stat sst;
	int rc = 0;

	while (strlen(name) > 1 && name[strlen(name) - 1] == '/')
		name[strlen(name) - 1] = '\0';
	slash = strrchr(name, '/');
	if (*base && store_stat(st, base, &sst) == 0) {
		warnx("cannot put folder '%s' over the object '%s'", src, base);
		free(name);
		return NULL;
	}
	if (nsrc == 1 && *base) {
		pre = xasprintf("%s/", base);
		rc = store_list(st, pre, 0, stop_listing, NULL);
		free(pre);
	}
	slash = slash ? slash + 1 : name;
	/* '.', '..' and '/' have no name to add: their files go in as they are */
	if ((nsrc > 1 || rc == 1 || !*base) && strcmp(slash, ".") && strcmp(slash, "..") &&
	    strcmp(slash, "/"))
		out = path_join(base, slash);
	else
		out = xstrdup(base);
	free(name);
	return out;
}

/*
 * Plan the uploads: t gets every file, rel set to its store path. st is
 * the store for -r (which asks whether dest is a folder there), else NULL.
 * 0, or 1 after warnings.
 */
static int
plan(struct tree *t, char **srcs, int nsrc, const char *dest, struct store *st)
{
	char *base = resolve(dest, 1), *under;
	int dir_dest = nsrc > 1 || dest[strlen(dest) - 1] == '/' || !*base;
	int i, ret = 0;

	for (i = 0; i < nsrc; i++) {
		struct stat sb;
		char *rel;

		if (!strcmp(srcs[i], "-")) {
			warnx("'-': use xt-put -a to append standard input, or give a file");
			ret = 1;
			continue;
		}
		if (stat(srcs[i], &sb) < 0) {
			warnx("cannot stat '%s':", srcs[i]);
			ret = 1;
		} else if (S_ISDIR(sb.st_mode)) {
			under = st ? tree_dest(st, srcs[i], base, nsrc) : xstrdup(base);
			if (!under || tree_scan(t, srcs[i], under) < 0)
				ret = 1;
			free(under);
		} else {
			const char *name = strrchr(srcs[i], '/');

			name = name ? name + 1 : srcs[i];
			rel = dir_dest ? path_join(base, name) : xstrdup(base);
			if (tree_add(t, srcs[i], rel) < 0) {
				warnx("cannot read '%s':", srcs[i]);
				ret = 1;
			}
			free(rel);
		}
	}
	free(base);
	return ret;
}

/* Every source must be readable and every destination a valid store path. */
static int
verify(const struct tree *t)
{
	const char *own;
	char why[256];
	size_t i;
	int ret = 0;

	for (i = 0; i < t->n; i++) {
		if (access(t->files[i].full, R_OK) < 0) {
			warnx("cannot read '%s':", t->files[i].full);
			ret = 1;
		}
		if (name_path_check(t->files[i].rel, why, sizeof(why)) < 0) {
			warnx("'%s': store path '%s' %s", t->files[i].full, t->files[i].rel, why);
			ret = 1;
		} else if ((own = store_path_reserved(t->files[i].rel, 1))) {
			warnx("'%s': store path '%s' %s", t->files[i].full, t->files[i].rel, own);
			ret = 1;
		}
	}
	return ret;
}

/*
 * The tree's objects as one listing of the store told them (xt-put -u on a
 * store whose listing has hashes): one request for 5,000 objects instead
 * of a stat for each.
 */
struct known {
	struct hmap map;	/* store path -> index into e */
	struct known_obj {
		int64_t size;
		char sha256[65];
	} *e;
	size_t n, cap, limit;
	int whole;		/* listed whole: an object not in map is not in the store */
};

static int
know(const struct store_entry *e, void *arg)
{
	struct known *k = arg;
	int isnew;

	if (e->is_dir)
		return 0;
	if (k->n == k->limit)
		return 1;	/* far more objects than the tree's: a stat each is cheaper */
	if (k->n == k->cap)
		k->e = xrealloc(k->e, (k->cap = k->cap * 2 + 256) * sizeof(*k->e));
	k->e[k->n].size = e->size;
	memcpy(k->e[k->n].sha256, e->sha256, sizeof(e->sha256));
	hmap_put(&k->map, e->path, strlen(e->path), k->n, &isnew);
	k->n++;
	return 0;
}

/* List the folder all of t's objects are in, when the store's listing tells hashes. */
static void
known_list(struct known *k, struct store *st, const struct tree *t)
{
	size_t i, pl;
	char *pre;

	memset(k, 0, sizeof(*k));
	hmap_init(&k->map);
	if (!store_lists_sums(st) || t->n < 8)
		return;
	/* the longest folder prefix the paths share */
	pl = strlen(t->files[0].rel);
	for (i = 1; i < t->n; i++) {
		size_t j = 0;

		while (j < pl && t->files[i].rel[j] == t->files[0].rel[j])
			j++;
		pl = j;
	}
	while (pl > 0 && t->files[0].rel[pl - 1] != '/')
		pl--;
	k->limit = 2 * t->n + 5000;
	pre = xstrndup(t->files[0].rel, pl);
	/* a failed or stopped listing is no harm: the stats tell it all again */
	k->whole = store_list_sums(st, pre, 1, know, k) == 0;
	free(pre);
}

static void
known_free(struct known *k)
{
	hmap_release(&k->map);
	free(k->e);
}

struct up {
	const struct tree *t;
	struct hashcache *hc;
	int update;
	char (*sha)[65];
	const char **action;
	struct known known;
};

/* One file of the tree, on the worker's store ws (see xfer.h: called locked). */
static int
up_run(struct xfer *x, struct xfer_worker *w, struct store *ws, size_t i)
{
	struct up *u = x->arg;
	const struct tree_file *f = &u->t->files[i];
	int rc;

	xfer_unlock(w);
	if (u->update) {
		struct store_stat sst;
		size_t *at;

		if (!u->known.whole) {
			rc = store_stat(ws, f->rel, &sst);
		} else if ((at = hmap_get(&u->known.map, f->rel, strlen(f->rel)))) {
			rc = 0;
			sst.size = u->known.e[*at].size;
			memcpy(sst.sha256, u->known.e[*at].sha256, sizeof(sst.sha256));
		} else {
			rc = STORE_ENOENT;
		}
		xfer_lock(w);
		if (rc == 0 && sst.size == f->size && sst.sha256[0] &&
		    hashcache_file(u->hc, f->full, u->sha[i]) == 0 && !strcmp(u->sha[i], sst.sha256)) {
			u->action[i] = "skipped";
			return XFER_DONE;
		}
		xfer_unlock(w);
	}
	rc = store_put_file(ws, f->rel, f->full, u->sha[i], xfer_progress, w);
	xfer_lock(w);
	if (rc < 0) {
		x->err[i] = xstrdup(store_error(ws));
		return XFER_FAILED;
	}
	u->action[i] = "uploaded";
	return XFER_PENDING;
}

/* In the tree's order: a line means the object is in. */
static void
up_done(struct xfer *x, size_t i, const char *err)
{
	struct up *u = x->arg;
	const struct tree_file *f = &u->t->files[i];

	if (err) {
		progress_end(x->pg);
		if (*err)
			warnx("%s", err);
		return;
	}
	report(f->rel, f->size, u->sha[i], u->action[i]);
}

static int
upload(struct store *st, const struct tree *t, int update, int quiet, int par)
{
	struct up u = { t, update ? hashcache_load() : NULL, update, NULL, NULL, { { 0 }, NULL, 0, 0, 0, 0 } };
	struct xfer x;
	struct progress pg;
	int64_t total = 0, *size = xcalloc(t->n ? t->n : 1, sizeof(*size));
	size_t i;
	int ret;

	for (i = 0; i < t->n; i++)
		total += size[i] = t->files[i].size;
	u.sha = xcalloc(t->n ? t->n : 1, sizeof(*u.sha));
	u.action = xcalloc(t->n ? t->n : 1, sizeof(*u.action));
	if (update)
		known_list(&u.known, st, t);
	progress_init(&pg, quiet ? NULL : "put", total);
	memset(&x, 0, sizeof(x));
	x.st = st;
	x.workers = par;
	x.batch = 1;
	x.n = t->n;
	x.size = size;
	x.pg = &pg;
	x.run = up_run;
	x.done = up_done;
	x.arg = &u;
	ret = xfer_run(&x);
	progress_end(&pg);
	if (u.hc) {
		hashcache_save(u.hc);
		hashcache_free(u.hc);
	}
	if (update)
		known_free(&u.known);
	free(u.sha);
	free(u.action);
	free(size);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "append", no_argument, 0, 'a' },
		{ "delete", no_argument, 0, 'd' },
		{ "recursive", no_argument, 0, 'r' },
		{ "update", no_argument, 0, 'u' },
		{ "omit", required_argument, 0, 'x' },
		{ "no-default-omit", no_argument, 0, 'X' },
		{ "store", required_argument, 0, 's' },
		{ "workspace", required_argument, 0, 'w' },
		{ "quiet", no_argument, 0, 'q' },
		{ "parallel", required_argument, 0, 'P' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c, append = 0, del = 0, recursive = 0, update = 0, quiet = 0, defomit = 1, par = 0, ret;
	struct tree t;
	struct store *st;

	tool_init(argc, argv);
	tree_init(&t);
	while ((c = getopt_long(argc, argv, "adruXx:s:w:qP:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': append = 1; break;
		case 'd': del = 1; break;
		case 'r': recursive = 1; break;
		case 'u': update = 1; break;
		case 'x': tree_omit(&t, optarg); break;
		case 'X': defomit = 0; break;
		case 's': config_set("store", optarg); break;
		case 'w': config_set("workspace", optarg); break;
		case 'q': quiet = 1; break;
		case 'P': par = xfer_parse(optarg); break;
		case 'h': tool_help(usage_text);
		default: tool_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (append + del > 1)
		tool_usage_error(usage_text, "-a and -d exclude each other");
	if (append && argc != 1)
		tool_usage_error(usage_text, "-a takes one DEST");
	if (del && argc < 1)
		tool_usage_error(usage_text, "-d: missing PATH");
	if (!append && !del && argc < 2)
		tool_usage_error(usage_text, argc ? "missing DEST" : "missing SOURCE and DEST");
	if (append && recursive)
		tool_usage_error(usage_text, "-r goes with -d or a SOURCE");
	if (defomit) {
		tree_omit(&t, ".git");
		tree_omit(&t, "__pycache__");
	}
	tool_workspace();
	/* -r asks the store whether DEST is a folder; else it is opened after the checks */
	st = recursive && !del ? tool_store() : NULL;
	if (!append && !del && (plan(&t, argv, argc - 1, argv[argc - 1], st) || verify(&t)))
		die("nothing was put");
	if (!st)
		st = tool_store();
	if (append)
		ret = do_append(st, argv[0]);
	else if (del)
		ret = do_delete(st, argv, argc, recursive);
	else
		ret = upload(st, &t, update, quiet, xfer_workers(st, par));
	store_close(st);
	tree_release(&t);
	config_release();
	stdout_close();
	return ret;
}
