/* queue.c: see queue.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "json.h"
#include "queue.h"
#include "banned.h"

#define PID_XATTR "user.xt.pid"

/* Which entries names() lists. */
enum { QN_JSON = 1, QN_END = 2 };

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
	q->waiting = NULL;
	q->nwaiting = q->next = 0;
	q->batch = 0;
	q->pend = NULL;
	q->npend = q->cappend = 0;
	q->gpus = NULL;
	q->gdir = path_join(q->dir, "gpus");
	if (mkdir_p(q->qdir) < 0 || mkdir_p(q->rdir) < 0)
		die("cannot create the run queue in '%s':", q->dir);
}

static void free_names(char **v, size_t n);

void
queue_close(struct queue *q)
{
	size_t i;

	/* an uncommitted batch is dropped */
	for (i = 0; i < q->npend; i++) {
		char *tmp = xasprintf("%s/.%s", q->qdir, q->pend[i]);

		unlink(tmp);
		free(tmp);
		free(q->pend[i]);
	}
	free(q->pend);
	free_names(q->waiting, q->nwaiting);
	free(q->dir);
	free(q->qdir);
	free(q->rdir);
	free(q->lockpath);
	free(q->gdir);
}

void
queue_use_gpus(struct queue *q, const struct gpu_pool *pool)
{
	q->gpus = pool;
}

cJSON *
queue_entry_of(const char *url, const char *ws, const char *run, const char *job,
    const cJSON *rec)
{
	cJSON *e = cJSON_CreateObject();
	double k = json_num(rec, "gpus", 0);

	json_set_str(e, "store", url);
	json_set_str(e, "ws", ws);
	json_set_str(e, "run", run);
	if (job)
		json_set_str(e, "job", job);
	if (k > 0)
		json_set_num(e, "gpus", k);
	return e;
}

/* Fill e with a locked entry (consumes data and fd), holding no GPU yet. */
static void
entry_set(struct queue_entry *e, const char *name, cJSON *data, int fd)
{
	e->name = xstrdup(name);
	e->data = data;
	e->fd = fd;
	e->gpu_fd = NULL;
	e->ngpu = 0;
	e->gpus = NULL;
}

/* Let the entry's GPUs go. */
static void
entry_gpus_free(struct queue_entry *e)
{
	while (e->ngpu > 0)
		close(e->gpu_fd[--e->ngpu]);
	free(e->gpu_fd);
	free(e->gpus);
	e->gpu_fd = NULL;
	e->gpus = NULL;
}

/*
 * Take the GPUs that e asks for from q's pool: 0 when it has them (or
 * asks for none, or for more than the pool has), -1 when not enough are
 * free now.
 */
static int
entry_gpus(struct queue *q, struct queue_entry *e)
{
	double k = json_num(e->data, "gpus", 0);

	if (!q->gpus || !(k > 0) || k > (double)q->gpus->n)
		return 0;
	e->gpu_fd = xcalloc((size_t)k, sizeof(*e->gpu_fd));
	if (gpu_take(q->gpus, q->gdir, (int)k, e->gpu_fd, &e->gpus) != 1) {
		free(e->gpu_fd);
		e->gpu_fd = NULL;
		return -1;
	}
	e->ngpu = (int)k;
	return 0;
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
		/* in a batch, one syncfs at the commit stands for every fsync */
		if (write_all(fd, line, len) == 0 && (q->batch || fsync(fd) == 0) && close(fd) == 0) {
			if (q->batch) {
				if (q->npend == q->cappend)
					q->pend = xrealloc(q->pend, (q->cappend = q->cappend * 2 + 64) *
					    sizeof(*q->pend));
				q->pend[q->npend++] = name;
				name = NULL;
				ret = 0;
			} else {
				ret = rename(tmp, dst);
			}
		} else {
			close(fd);
		}
		if (ret < 0)
			unlink(tmp);
	}
	free(line);
	free(tmp);
	free(dst);
	free(name);
	return ret;
}

void
queue_batch_begin(struct queue *q)
{
	q->batch = 1;
}

dev_t
queue_dev(const struct queue *q)
{
	struct stat sb;

	return stat(q->qdir, &sb) == 0 ? sb.st_dev : 0;
}

int
queue_commit(struct queue *q, int synced)
{
	size_t i;
	int ret = 0, fd = -1, e = 0;

	q->batch = 0;
	if (!q->npend)
		return 0;
	if (!synced && ((fd = open(q->qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    syncfs(fd) < 0)) {
		e = errno;
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < q->npend; i++) {
		char *tmp = xasprintf("%s/.%s", q->qdir, q->pend[i]);
		char *dst = path_join(q->qdir, q->pend[i]);

		if (ret == 0 && rename(tmp, dst) < 0) {
			e = errno;
			ret = -1;
		}
		if (ret < 0)
			unlink(tmp);
		free(tmp);
		free(dst);
		free(q->pend[i]);
	}
	q->npend = 0;
	errno = e;
	return ret;
}

int
queue_drop_hidden(struct queue *q)
{
	struct dirent *de;
	DIR *d = opendir(q->qdir);
	int n = 0;

	if (!d)
		return 0;
	/* ".TIME.PID.SEQ.json", as queue_add names them */
	while ((de = readdir(d))) {
		const char *nm = de->d_name, *pid = nm + 15;
		size_t l = strlen(nm), k = strspn(pid, "0123456789");

		if (nm[0] == '.' && l > 20 && strspn(nm + 1, "0123456789") == 13 && nm[14] == '.' &&
		    k > 0 && pid[k] == '.' && !strcmp(nm + l - 5, ".json") && pid_gone(pid, k) &&
		    unlinkat(dirfd(d), nm, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
has_suffix(const char *s, size_t l, const char *suf)
{
	size_t k = strlen(suf);

	return l > k && !strcmp(s + l - k, suf);
}

/* Sorted entry names of a spool folder (QN_* in want). Caller frees each and the array. */
static char **
names(const char *dir, size_t *n, int want)
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

		if (de->d_name[0] == '.' || !((want & QN_JSON && has_suffix(de->d_name, l, ".json")) ||
		    (want & QN_END && has_suffix(de->d_name, l, ".json.end"))))
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
	char **v = names(q->rdir, &n, QN_JSON);
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
	char **v = names(q->qdir, &n, QN_JSON);

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

/* Lock and take queue/name into running/: 1 with *e, else 0. */
static int
take(struct queue *q, const char *name, const cJSON *match, struct queue_entry *e)
{
	char *src = path_join(q->qdir, name), *dst = path_join(q->rdir, name);
	int fd = open(src, O_RDONLY | O_CLOEXEC), ret = 0;
	cJSON *data;

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && (data = read_entry(fd))) {
		entry_set(e, name, data, fd);
		/* one that waits for GPUs stays, and the next one may go first */
		if ((!match || same_run(match, data)) && entry_gpus(q, e) == 0 &&
		    rename(src, dst) == 0) {
			fd = -1;
			ret = 1;
		} else {
			e->fd = -1;
			queue_entry_release(e);
		}
	}
	if (fd >= 0)
		close(fd);
	free(src);
	free(dst);
	return ret;
}

int
queue_claim(struct queue *q, int max, const cJSON *match, struct queue_entry *e)
{
	int lk = open(q->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644), ret = 0, look;
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
	if (match) {
		/* one run: a fresh look, leaving the remembered order alone */
		v = names(q->qdir, &n, QN_JSON);
		for (i = 0; i < n && !ret; i++)
			ret = take(q, v[i], match, e);
		free_names(v, n);
		close(lk);
		return ret;
	}
	/* the oldest first, from the names seen at the last look of the folder;
	 * a name that another claimer took is skipped, and when they are all
	 * used up the folder is looked at again (once a call) */
	for (look = 0; !ret && look < 2; look++) {
		if (q->next >= q->nwaiting) {
			free_names(q->waiting, q->nwaiting);
			q->waiting = names(q->qdir, &q->nwaiting, QN_JSON);
			q->next = 0;
			look = 1;
		}
		while (!ret && q->next < q->nwaiting)
			ret = take(q, q->waiting[q->next++], NULL, e);
	}
	close(lk);
	return ret;
}

int
queue_orphan(struct queue *q, struct queue_entry *e)
{
	size_t n, i;
	char **v = names(q->rdir, &n, QN_JSON | QN_END);
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		char *p = path_join(q->rdir, v[i]);
		int fd = open(p, O_RDONLY | O_CLOEXEC);

		/* still there under this name once locked: not renamed or removed meanwhile */
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && access(p, F_OK) == 0) {
			cJSON *data = read_entry(fd);

			entry_set(e, v[i], data ? data : cJSON_CreateObject(), fd);
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

/* The pid file of a running entry (its name without ".end"). Caller frees. */
static char *
pid_path(struct queue *q, const char *name)
{
	size_t l = strlen(name);

	if (has_suffix(name, l, ".end"))
		l -= 4;
	return xasprintf("%s/%.*s.pid", q->rdir, (int)l, name);
}

int
queue_ending(struct queue *q, struct queue_entry *e)
{
	char *src = path_join(q->rdir, e->name), *name = xasprintf("%s.end", e->name);
	char *dst = path_join(q->rdir, name);
	int ret = rename(src, dst);

	if (ret == 0) {
		free(e->name);
		e->name = name;
		name = NULL;
	}
	entry_gpus_free(e);
	free(src);
	free(dst);
	free(name);
	return ret;
}

int
queue_done(struct queue *q, struct queue_entry *e)
{
	char *p = path_join(q->rdir, e->name), *pid = pid_path(q, e->name);
	int ret;

	unlink(pid);
	ret = unlink(p);
	free(p);
	free(pid);
	return ret;
}

int
queue_requeue(struct queue *q, struct queue_entry *e)
{
	int ret = queue_add(q, e->data);

	return ret == 0 ? queue_done(q, e) : ret;
}

void
queue_entry_release(struct queue_entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	entry_gpus_free(e);
	cJSON_Delete(e->data);
	free(e->name);
	e->fd = -1;
	e->data = NULL;
	e->name = NULL;
}

/* The most bytes of an entry handed over: its name, a NUL, its content. */
#define HANDOVER_MAX 16384

/* Room for the one file descriptor of a handover. */
/* The fds of a handover: the entry's lock, then the locks of its GPUs. */
#define HANDOVER_FDS 65
union handover_fd {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int) * HANDOVER_FDS)];
};

int
queue_entry_send(int sock, const struct queue_entry *e)
{
	const char *g = e->gpus ? e->gpus : "";
	size_t nl = strlen(e->name) + 1, gl = strlen(g) + 1, len;
	char *line, *buf;
	union handover_fd c;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	ssize_t n;

	if (1 + e->ngpu > HANDOVER_FDS) {
		errno = EMSGSIZE;
		return -1;
	}
	line = json_line(e->data, &len);
	if (nl + gl + len > HANDOVER_MAX) {
		free(line);
		errno = EMSGSIZE;
		return -1;
	}
	/* name, GPU ids ("" for none), content */
	buf = xmalloc(nl + gl + len);
	memcpy(buf, e->name, nl);
	memcpy(buf + nl, g, gl);
	memcpy(buf + nl + gl, line, len);
	free(line);
	memset(&mh, 0, sizeof(mh));
	memset(&c, 0, sizeof(c));
	iov.iov_base = buf;
	iov.iov_len = nl + gl + len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = c.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)(1 + e->ngpu));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)(1 + e->ngpu));
	memcpy(CMSG_DATA(cm), &e->fd, sizeof(int));
	if (e->ngpu)
		memcpy(CMSG_DATA(cm) + sizeof(int), e->gpu_fd, sizeof(int) * (size_t)e->ngpu);
	while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	free(buf);
	return n == (ssize_t)iov.iov_len ? 0 : -1;
}

int
queue_entry_recv(int sock, struct queue_entry *e)
{
	char *buf = xmalloc(HANDOVER_MAX);
	int fds[HANDOVER_FDS], nfd = 0, i;
	union handover_fd c;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	ssize_t n;
	size_t nl, gl;

	memset(&mh, 0, sizeof(mh));
	memset(&c, 0, sizeof(c));
	iov.iov_base = buf;
	iov.iov_len = HANDOVER_MAX;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = c.buf;
	mh.msg_controllen = sizeof(c.buf);
	if ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) <= 0) {
		free(buf);
		return n == 0 ? 0 : -1;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && !nfd &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)nfd);
		}
	if (!nfd || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !memchr(buf, '\0', (size_t)n) ||
	    (nl = strlen(buf) + 1) >= (size_t)n || !memchr(buf + nl, '\0', (size_t)n - nl) ||
	    (gl = strlen(buf + nl) + 1) + nl >= (size_t)n ||
	    !(e->data = cJSON_ParseWithLength(buf + nl + gl, (size_t)n - nl - gl))) {
		for (i = 0; i < nfd; i++)
			close(fds[i]);
		free(buf);
		errno = EPROTO;
		return -1;
	}
	e->name = xstrdup(buf);
	e->fd = fds[0];
	e->ngpu = nfd - 1;
	e->gpu_fd = NULL;
	if (e->ngpu) {
		e->gpu_fd = xcalloc((size_t)e->ngpu, sizeof(int));
		memcpy(e->gpu_fd, fds + 1, sizeof(int) * (size_t)e->ngpu);
	}
	e->gpus = buf[nl] ? xstrdup(buf + nl) : NULL;
	free(buf);
	return 1;
}

unsigned
queue_token(const char *name)
{
	size_t l = strlen(name);
	uint32_t h;

	if (has_suffix(name, l, ".end"))
		l -= 4;
	h = fnv1a(name, l);
	return h ? h : 1;
}

int
queue_set_pid(struct queue *q, const struct queue_entry *e, long pid)
{
	char buf[32], *p;
	int fd, ret = -1;

	snprintf(buf, sizeof(buf), "%ld\n", pid);
	/* an xattr of the entry: no file to make and remove for each run */
	if (e->fd >= 0 && fsetxattr(e->fd, PID_XATTR, buf, strlen(buf), 0) == 0)
		return 0;
	p = pid_path(q, e->name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ret = write_all(fd, buf, strlen(buf));
		close(fd);
	}
	free(p);
	return ret;
}

/* The executor's pid of the running entry at path (name in running/), 0 if unknown. */
static long
read_pid(struct queue *q, const char *path, const char *name)
{
	char buf[64];
	ssize_t n = getxattr(path, PID_XATTR, buf, sizeof(buf) - 1);
	int64_t v = 0;

	if (n <= 0) {
		char *pp = pid_path(q, name);
		int fd = open(pp, O_RDONLY | O_CLOEXEC);

		n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		free(pp);
	}
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (parse_i64(buf, 1, 1L << 30, &v) < 0)
		v = 0;
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
		char **v = names(dirs[k], &n, k == 0 ? QN_JSON | QN_END : QN_JSON);

		for (i = 0; i < n && !ret; i++) {
			char *p = path_join(dirs[k], v[i]);
			int fd = open(p, O_RDONLY | O_CLOEXEC);
			cJSON *data = fd >= 0 ? read_entry(fd) : NULL;

			if (fd >= 0)
				close(fd);
			if (data)
				ret = fn(state[k], data, k == 0 ? read_pid(q, p, v[i]) : 0, v[i], arg);
			cJSON_Delete(data);
			free(p);
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
