/* name.c: see name.h. */
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "store.h"
#include "util.h"
#include "banned.h"

#define NAME_MAX_LEN 128
#define PATH_MAX_LEN 1024

int
name_check(const char *name, char *err, size_t errlen)
{
	size_t i, n = strlen(name);

	if (n == 0) {
		snprintf(err, errlen, "is empty");
		return -1;
	}
	if (n > NAME_MAX_LEN) {
		snprintf(err, errlen, "is longer than %d characters", NAME_MAX_LEN);
		return -1;
	}
	if (name[0] == '.' || name[0] == '-') {
		snprintf(err, errlen, "starts with '%c'", name[0]);
		return -1;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-')
			continue;
		if (c < 0x20 || c == 0x7f)
			snprintf(err, errlen, "contains a control character");
		else if (c >= 0x80)
			snprintf(err, errlen, "contains a non-ASCII character (allowed: letters, digits, '._-')");
		else
			snprintf(err, errlen, "contains '%c' (allowed: letters, digits, '._-')", c);
		return -1;
	}
	return 0;
}

int
name_path_check(const char *path, char *err, size_t errlen)
{
	const char *p = path, *part;
	size_t n = strlen(path);

	if (n == 0) {
		snprintf(err, errlen, "is empty");
		return -1;
	}
	if (n > PATH_MAX_LEN) {
		snprintf(err, errlen, "is longer than %d bytes", PATH_MAX_LEN);
		return -1;
	}
	if (path[0] == '/') {
		snprintf(err, errlen, "is absolute");
		return -1;
	}
	for (p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "contains a control character");
			return -1;
		}
	for (part = path; ; ) {
		size_t len = strcspn(part, "/");

		if (len == 0) {
			snprintf(err, errlen, "has an empty part ('//' or a trailing '/')");
			return -1;
		}
		if (len == 2 && part[0] == '.' && part[1] == '.') {
			snprintf(err, errlen, "contains '..'");
			return -1;
		}
		if (len == 1 && part[0] == '.') {
			snprintf(err, errlen, "contains '.' as a part");
			return -1;
		}
		if (part[len] == '\0')
			break;
		part += len + 1;
	}
	return 0;
}

static int
parse_num(const char **s, long *out)
{
	const char *p = *s;
	long v = 0;

	if (*p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 100000000000L)
			return 0;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	*s = p;
	return 1;
}

int
name_parse_run(const char *s, long *n, long *k)
{
	if (strncmp(s, "run", 3) != 0)
		return 0;
	s += 3;
	if (!parse_num(&s, n))
		return 0;
	*k = 0;
	if (*s == '.') {
		s++;
		if (!parse_num(&s, k))
			return 0;
	}
	return *s == '\0';
}

int
name_parse_job(const char *s, long *n)
{
	if (strncmp(s, "job", 3) != 0)
		return 0;
	s += 3;
	return parse_num(&s, n) && *s == '\0';
}

char *
name_resolve(const char *addr, const char *ws, int allow_root, char *err, size_t errlen)
{
	size_t head = strcspn(addr, "/");
	char *first = xstrndup(addr, head), *out;
	const char *rest = addr[head] ? addr + head : "";
	char why[256];
	long n, k;

	if (addr[0] == ':') {
		out = xstrdup(addr + 1);
	} else if (addr[0] == '@') {
		if (name_check(first + 1, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "share name '%s' %s", first + 1, why);
			free(first);
			return NULL;
		}
		out = xasprintf("shares/%s%s", first + 1, rest);
	} else if (name_parse_run(first, &n, &k) || name_parse_job(first, &n)) {
		if (name_check(ws, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "workspace '%s' %s", ws, why);
			free(first);
			return NULL;
		}
		out = xasprintf("ws/%s/%s/%s%s", ws, first[0] == 'r' ? "runs" : "jobs", first, rest);
	} else {
		out = xstrdup(addr);
	}
	free(first);
	/* a trailing '/' names a folder; the path check sees it without */
	while (out[0] && out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = '\0';
	if (out[0] == '\0' && allow_root)
		return out;
	if (name_path_check(out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "store path '%s' %s", addr, why);
		free(out);
		return NULL;
	}
	return out;
}

char *
name_resolve_pattern(const char *addr, const char *ws, char *err, size_t errlen)
{
	size_t head = strcspn(addr, "/");
	char why[256], *out;

	if ((strncmp(addr, "run", 3) && strncmp(addr, "job", 3)) ||
	    strcspn(addr, "*?[") >= head)
		return name_resolve(addr, ws, 0, err, errlen);
	if (name_check(ws, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "workspace '%s' %s", ws, why);
		return NULL;
	}
	out = xasprintf("ws/%s/%s/%s", ws, addr[0] == 'r' ? "runs" : "jobs", addr);
	while (out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = '\0';
	if (name_path_check(out, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "store path '%s' %s", addr, why);
		free(out);
		return NULL;
	}
	return out;
}

struct maxarg {
	const char *prefix;
	size_t plen, dlen;
	long max;
};

static int
find_max(const struct store_entry *e, void *arg)
{
	struct maxarg *m = arg;
	const char *base = e->path + m->dlen;
	long v = 0;

	if (!e->is_dir || strncmp(base, m->prefix, m->plen) != 0)
		return 0;
	base += m->plen;
	for (; *base >= '0' && *base <= '9'; base++)
		v = v * 10 + (*base - '0');
	if ((*base == '/' || *base == '\0') && v > m->max)
		m->max = v;
	return 0;
}

/* Set m up for dir/prefix and list lp ("dir/"): the highest N in m->max, 0 for none. */
static int
list_max(struct store *st, const char *lp, const char *prefix, struct maxarg *m)
{
	int rc;

	m->prefix = prefix;
	m->plen = strlen(prefix);
	m->dlen = strlen(lp);
	m->max = 0;
	rc = store_list(st, lp, 0, find_max, m);
	return rc == STORE_ENOENT ? 0 : rc;
}

long
name_last(struct store *st, const char *dir, const char *prefix)
{
	struct maxarg m;
	char *lp = xasprintf("%s/", dir);
	int rc = list_max(st, lp, prefix, &m);

	free(lp);
	return rc < 0 ? -1 : m.max;
}

long
name_alloc(struct store *st, const char *dir, const char *prefix, const char *marker,
    const void *buf, size_t len)
{
	return name_alloc_hook(st, dir, prefix, marker, buf, len, NULL, NULL);
}

long
name_alloc_hook(struct store *st, const char *dir, const char *prefix, const char *marker,
    const void *buf, size_t len, int (*before)(long n, void *arg), void *arg)
{
	struct maxarg m;
	char *lp = xasprintf("%s/", dir);
	int tries = 0, rc;
	long n;

	for (;;) {
		if (list_max(st, lp, prefix, &m) < 0) {
			free(lp);
			return -1;
		}
		/* Contention: step past names others took; list again now and then. */
		for (n = m.max + 1; n <= m.max + 16; n++, tries++) {
			char *p;

			if (before && before(n, arg) != 0) {
				free(lp);
				return store_fail(st, STORE_ERR, "cannot allocate a name under '%s': "
				    "cannot note the try of %s%ld", dir, prefix, n);
			}
			p = xasprintf("%s/%s%ld/%s", dir, prefix, n, marker);
			rc = store_create(st, p, buf, len);
			free(p);
			if (rc == STORE_OK) {
				free(lp);
				return n;
			}
			if (rc != STORE_EXIST) {
				free(lp);
				return -1;
			}
		}
		if (tries > 100000) {
			store_fail(st, STORE_ERR, "cannot allocate a name under '%s'", dir);
			free(lp);
			return -1;
		}
	}
}
