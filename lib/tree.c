/* tree.c: see tree.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "openat2.h"
#include "tree.h"
#include "util.h"
#include "banned.h"

void
tree_init(struct tree *t)
{
	memset(t, 0, sizeof(*t));
}

void
tree_release(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->files[i].rel);
		free(t->files[i].full);
		free(t->files[i].target);
	}
	free(t->files);
	for (i = 0; i < t->nrefused; i++)
		free(t->refused[i].rel);
	free(t->refused);
	for (i = 0; i < t->nomit; i++)
		free(t->omit[i]);
	free(t->omit);
	tree_init(t);
}

void
tree_omit(struct tree *t, const char *pattern)
{
	t->omit = xrealloc(t->omit, (t->nomit + 1) * sizeof(*t->omit));
	t->omit[t->nomit++] = xstrdup(pattern);
}

int
tree_omitted(const struct tree *t, const char *rel)
{
	const char *base = strrchr(rel, '/');
	size_t i;

	base = base ? base + 1 : rel;
	for (i = 0; i < t->nomit; i++)
		if (fnmatch(t->omit[i], base, 0) == 0 || fnmatch(t->omit[i], rel, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

static struct tree_file *
grow(struct tree *t)
{
	struct tree_file *f;

	if (t->n == t->cap)
		t->files = xrealloc(t->files, (t->cap = t->cap * 2 + 64) * sizeof(*t->files));
	f = &t->files[t->n++];
	memset(f, 0, sizeof(*f));
	return f;
}

void
tree_add_entry(struct tree *t, const char *rel, int64_t size)
{
	struct tree_file *f = grow(t);

	f->rel = xstrdup(rel);
	f->size = size;
}

static void
push(struct tree *t, const char *full, const char *rel, const struct stat *sb)
{
	struct tree_file *f = grow(t);

	f->rel = xstrdup(rel);
	f->full = xstrdup(full);
	f->size = sb->st_size;
	f->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	f->mode = sb->st_mode;
}

int
tree_add(struct tree *t, const char *full, const char *rel)
{
	struct stat sb;

	if (stat(full, &sb) < 0)
		return -1;
	if (!S_ISREG(sb.st_mode)) {
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	push(t, full, rel, &sb);
	return 0;
}

static int
cmprel(const void *a, const void *b)
{
	return strcmp(((const struct tree_file *)a)->rel, ((const struct tree_file *)b)->rel);
}

static void
push_as(struct tree *t, const char *full, const char *prefix, const char *rel,
    const struct stat *sb)
{
	char *r = path_join(prefix, rel);

	push(t, full, r, sb);
	free(r);
}

static void
refuse(struct tree *t, const char *rel, const char *why)
{
	t->refused = xrealloc(t->refused, (t->nrefused + 1) * sizeof(*t->refused));
	t->refused[t->nrefused].rel = xstrdup(rel);
	t->refused[t->nrefused++].why = why;
}

/*
 * The root of a tree_scan_beneath, resolved when a link needs it: most
 * trees have none, and a path's resolution reads every folder on the way.
 */
struct beneath {
	const char *root;
	char *real;
};

/* Beneath: the link full, named rel, in the tree b. */
static void
link_beneath(struct tree *t, const char *full, const char *rel, struct beneath *b)
{
	char *res = realpath(full, NULL);
	const char *realroot = b->real ? b->real : (b->real = realpath(b->root, NULL));
	size_t len = realroot ? strlen(realroot) : 0;
	struct stat tb;

	if (!res || !realroot || stat(res, &tb) < 0)
		refuse(t, rel, "a dangling link, not followed");
	else if (strncmp(res, realroot, len) != 0 || res[len] != '/')
		refuse(t, rel, "a link to outside the folder, not followed");
	else if (S_ISDIR(tb.st_mode))
		refuse(t, rel, "a link to a folder, not followed");
	else if (!S_ISREG(tb.st_mode))
		refuse(t, rel, "a link to a special file, not followed");
	else {
		push(t, full, rel, &tb);
		t->files[t->n - 1].target = xstrdup(res + len + 1);
	}
	free(res);
}

/*
 * Walk dir, whose path under the tree's root is rel; files are named
 * prefix/rel/... realroot: the root of a tree_scan_beneath, else NULL.
 */
static int
scan(struct tree *t, const char *dir, const char *rel, const char *prefix, struct beneath *realroot)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		warnx("cannot open folder '%s':", dir);
		return -1;
	}
	while ((de = readdir(d))) {
		char *full, *r;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		full = path_join(dir, de->d_name);
		if (tree_omitted(t, r)) {
			/* omitted */
		} else if (lstat(full, &sb) < 0) {
			warnx("cannot stat '%s':", full);
			ret = -1;
		} else if (S_ISDIR(sb.st_mode)) {
			if (scan(t, full, r, prefix, realroot) < 0)
				ret = -1;
		} else if (S_ISLNK(sb.st_mode) && realroot) {
			link_beneath(t, full, r, realroot);
		} else if (S_ISLNK(sb.st_mode)) {
			struct stat tb;

			if (stat(full, &tb) < 0) {
				warnx("'%s': dangling link", full);
				ret = -1;
			} else if (S_ISREG(tb.st_mode)) {
				push_as(t, full, prefix, r, &tb);
			} else if (S_ISDIR(tb.st_mode)) {
				warnx("'%s': not following a link to a folder", full);
			} else {
				warnx("'%s': not a regular file", full);
				ret = -1;
			}
		} else if (S_ISREG(sb.st_mode)) {
			push_as(t, full, prefix, r, &sb);
			if (realroot)
				t->files[t->n - 1].target = xstrdup(r);
		} else {
			warnx("'%s': not a regular file", full);
			ret = -1;
		}
		free(full);
		free(r);
	}
	closedir(d);
	return ret;
}

int
tree_scan(struct tree *t, const char *root, const char *prefix)
{
	size_t first = t->n;
	int ret = scan(t, root, "", prefix, NULL);

	if (t->n > first)
		qsort(t->files + first, t->n - first, sizeof(*t->files), cmprel);
	return ret;
}

int
tree_scan_beneath(struct tree *t, const char *root)
{
	size_t first = t->n;
	struct beneath b = { root, NULL };
	int ret;

	ret = scan(t, root, "", "", &b);
	free(b.real);
	if (t->n > first)
		qsort(t->files + first, t->n - first, sizeof(*t->files), cmprel);
	return ret;
}

int
tree_open_beneath(const char *root, const char *target)
{
	int dfd, fd, e;

	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
#ifdef SYS_openat2
	{
		struct xt_open_how how;

		memset(&how, 0, sizeof(how));
		how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
		how.resolve = XT_RESOLVE_BENEATH | XT_RESOLVE_NO_SYMLINKS | XT_RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, dfd, target, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS) {
			e = errno;
			close(dfd);
			errno = e;
			return fd;
		}
	}
#endif
	/* no openat2 (Linux before 5.6): the last part at least is no link */
	fd = openat(dfd, target, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	e = errno;
	close(dfd);
	errno = e;
	return fd;
}
