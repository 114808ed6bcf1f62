/* queue.c: see queue.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "json.h"
#include "queue.h"
#include "banned.h"

void
queue_open(struct queue *q, const char *dir)
{
	char *home = NULL;

	if (!dir) {
		home = xt_home();
		q->dir = path_join(home, "spool");
		free(home);
	} else {
		q->dir = xstrdup(dir);
	}
	q->qdir = path_join(q->dir, "queue");
	q->rdir = path_join(q->dir, "running");
	q->lockpath = path_join(q->dir, "lock");
	q->seq = 0;
	if (mkdir_p(q->qdir) < 0 || mkdir_p(q->rdir) < 0)
		die("cannot create the run queue in '%s':", q->dir);
}

void
queue_close(struct queue *q)
{
	free(q->dir);
	free(q->qdir);
	free(q->rdir);
	free(q->lockpath);
}

int
queue_add(struct queue *q, const cJSON *data)
{
	char *name = xasprintf("%013lld.%08ld.%06u.json", (long long)time_now_ms(), (long)getpid(),
	    q->seq++);
	char *tmp = xasprintf("%s/.%s", q->qdir, name), *dst = path_join(q->qdir, name);
	size_t len;
	char *line = json_line(data, &len);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), ret = -1;

	if (fd >= 0) {
		if (write_all(fd, line, len) == 0 && fsync(fd) == 0 && close(fd) == 0)
			ret = rename(tmp, dst);
		else
			close(fd);
		if (ret < 0)
			unlink(tmp);
	}
	free(line);
	free(tmp);
	free(dst);
	free(name);
	return ret;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of a spool folder. Caller frees each and the array. */
static char **
names(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		if (*n == cap)
			v = xrealloc(v, (cap = cap * 2 + 32) * sizeof(*v));
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmpstr);
	return v;
}

static void
free_names(char **v, size_t n)
{
	while (n--)
		free(v[n]);
	free(v);
}

static cJSON *
read_entry(int fd)
{
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return cJSON_Parse(buf);
}

/* 1 if the entry file is locked by someone (a live executor). */
static int
locked(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return 0;
	ret = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return ret;
}

int
queue_nrunning(struct queue *q)
{
	size_t n, i;
	char **v = names(q->rdir, &n);
	int count = 0;

	for (i = 0; i < n; i++) {
		char *p = path_join(q->rdir, v[i]);

		count += locked(p);
		free(p);
	}
	free_names(v, n);
	return count;
}

int
queue_nwaiting(struct queue *q)
{
	size_t n;
	char **v = names(q->qdir, &n);

	free_names(v, n);
	return (int)n;
}

static int
same_run(const cJSON *a, const cJSON *b)
{
	const char *wa = json_str(a, "ws"), *wb = json_str(b, "ws");
	const char *ra = json_str(a, "run"), *rb = json_str(b, "run");

	return wa && wb && ra && rb && !strcmp(wa, wb) && !strcmp(ra, rb);
}

int
queue_claim(struct queue *q, int max, const cJSON *match, struct queue_entry *e)
{
	int lk = open(q->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644), ret = 0;
	size_t n, i;
	char **v;

	if (lk < 0 || flock(lk, LOCK_EX) < 0) {
		if (lk >= 0)
			close(lk);
		return -1;
	}
	if (max > 0 && queue_nrunning(q) >= max) {
		close(lk);
		return 0;
	}
	v = names(q->qdir, &n);
	for (i = 0; i < n && !ret; i++) {
		char *src = path_join(q->qdir, v[i]), *dst = path_join(q->rdir, v[i]);
		int fd = open(src, O_RDONLY | O_CLOEXEC);
		cJSON *data;

		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && (data = read_entry(fd))) {
			if ((!match || same_run(match, data)) && rename(src, dst) == 0) {
				e->name = xstrdup(v[i]);
				e->data = data;
				e->fd = fd;
				fd = -1;
				ret = 1;
			} else {
				cJSON_Delete(data);
			}
		}
		if (fd >= 0)
			close(fd);
		free(src);
		free(dst);
	}
	free_names(v, n);
	close(lk);
	return ret;
}

int
queue_orphan(struct queue *q, struct queue_entry *e)
{
	size_t n, i;
	char **v = names(q->rdir, &n);
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		char *p = path_join(q->rdir, v[i]);
		int fd = open(p, O_RDONLY | O_CLOEXEC);

		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && access(p, F_OK) == 0) {
			e->name = xstrdup(v[i]);
			e->data = read_entry(fd);
			if (!e->data)
				e->data = cJSON_CreateObject();
			e->fd = fd;
			fd = -1;
			ret = 1;
		}
		if (fd >= 0)
			close(fd);
		free(p);
	}
	free_names(v, n);
	return ret;
}

int
queue_requeue(struct queue *q, struct queue_entry *e)
{
	char *src = path_join(q->rdir, e->name), *pid = xasprintf("%s.pid", src);
	int ret = queue_add(q, e->data);

	if (ret == 0) {
		unlink(pid);
		ret = unlink(src);
	}
	free(src);
	free(pid);
	return ret;
}

int
queue_done(struct queue *q, struct queue_entry *e)
{
	char *p = path_join(q->rdir, e->name), *pid = xasprintf("%s.pid", p);
	int ret;

	unlink(pid);
	ret = unlink(p);
	free(p);
	free(pid);
	return ret;
}

void
queue_entry_release(struct queue_entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	cJSON_Delete(e->data);
	free(e->name);
	e->fd = -1;
	e->data = NULL;
	e->name = NULL;
}

int
queue_set_pid(struct queue *q, const struct queue_entry *e, long pid)
{
	char *p = xasprintf("%s/%s.pid", q->rdir, e->name);
	char buf[32];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ret = -1;

	if (fd >= 0) {
		snprintf(buf, sizeof(buf), "%ld\n", pid);
		ret = write_all(fd, buf, strlen(buf));
		close(fd);
	}
	free(p);
	return ret;
}

static long
read_pid(const char *path)
{
	struct sbuf sb;
	int64_t v = 0;

	sbuf_init(&sb, 64);
	if (file_read(path, &sb) == 0) {
		if (sb.len && sb.buf[sb.len - 1] == '\n')
			sb.buf[--sb.len] = '\0';
		if (parse_i64(sb.buf, 1, 1L << 30, &v) < 0)
			v = 0;
	}
	sbuf_release(&sb);
	return (long)v;
}

int
queue_each(struct queue *q, int (*fn)(const char *, const cJSON *, long, const char *, void *),
    void *arg)
{
	const char *dirs[2] = { q->rdir, q->qdir }, *state[2] = { "running", "queued" };
	int k, ret = 0;

	for (k = 0; k < 2 && !ret; k++) {
		size_t n, i;
		char **v = names(dirs[k], &n);

		for (i = 0; i < n && !ret; i++) {
			char *p = path_join(dirs[k], v[i]), *pp = xasprintf("%s.pid", p);
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			cJSON *data = fd >= 0 ? read_entry(fd) : NULL;

			if (fd >= 0)
				close(fd);
			if (data)
				ret = fn(state[k], data, k == 0 ? read_pid(pp) : 0, v[i], arg);
			cJSON_Delete(data);
			free(p);
			free(pp);
		}
		free_names(v, n);
	}
	return ret;
}

struct findarg {
	const char *ws, *run;
	int where;
};

static int
find_one(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	struct findarg *f = arg;
	const char *ws = json_str(data, "ws"), *run = json_str(data, "run");

	if (ws && run && !strcmp(ws, f->ws) && !strcmp(run, f->run))
		f->where = !strcmp(state, "running") ? QUEUE_RUNNING : QUEUE_WAITING;
	return f->where == QUEUE_RUNNING;
}

int
queue_find(struct queue *q, const char *ws, const char *run)
{
	struct findarg f = { ws, run, QUEUE_NONE };

	queue_each(q, find_one, &f);
	return f.where;
}
