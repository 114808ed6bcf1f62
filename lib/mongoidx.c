/* mongoidx.c: see mongoidx.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "mongodl.h"
#include "mongoidx.h"
#include "sha256.h"
#include "util.h"
#include "banned.h"

struct mongoidx {
	mongoc_client_t *client;
	mongoc_collection_t *runs, *jobs;
	char *name;		/* the URI without its password, for messages */
	char *db;
};

const char *
mongoidx_url(void)
{
	const char *u = config_str("index", NULL);

	if (!u || !*u || !strcmp(u, "store"))
		return NULL;
	return u;
}

/* $XT_HOME/outbox/<hash of the public URI>, or NULL (no home). Caller frees. */
static char *
outbox_dir(const char *url)
{
	char *home = xt_home_maybe(), *pub, *dir, hex[SHA256_HEX];

	if (!home)
		return NULL;
	pub = url_public(url);
	sha256_buf(pub, strlen(pub), hex);
	hex[16] = '\0';
	dir = xasprintf("%s/outbox/%s", home, hex);
	free(pub);
	free(home);
	return dir;
}

/* Open dir/pending.jsonl for appending, share-locked against a rotation. -1 on failure. */
static int
pending_open(const char *dir)
{
	char *path = path_join(dir, "pending.jsonl");
	struct stat a, b;
	int fd = -1, tries;

	for (tries = 0; tries < 100; tries++) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 && errno == ENOENT && mkdir_p(dir) == 0)
			continue;
		if (fd < 0)
			break;
		/* a rotation renames the file under an exclusive lock: still ours? */
		if (flock(fd, LOCK_SH) == 0 && fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			break;
		close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

void
mongoidx_outbox(const char *lines, size_t len)
{
	static int warned;
	const char *url = mongoidx_url();
	char *dir;
	int fd, ok;

	if (!url || !len)
		return;
	if (!(dir = outbox_dir(url))) {
		if (!warned++)
			warnx("index: no XT_HOME or HOME for the outbox; the index is behind the store (xt-report --reindex)");
		return;
	}
	fd = pending_open(dir);
	ok = fd >= 0 && write_all(fd, lines, len) == 0 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	if (!ok && !warned++)
		warnx("index: cannot write the outbox %s:", dir);
	free(dir);
}

/* err = "index NAME: message" */
static void
fail(char *err, size_t errlen, const char *name, const char *msg)
{
	char *m = redact(msg);

	snprintf(err, errlen, "index %s: %s", name, m);
	free(m);
}

/*
 * Create on "runs" an index named xt_FIELD for each of fields (n), its
 * key {first: 1, FIELD: 1}, or {FIELD: 1} when first is NULL. 0, or -1
 * with err set.
 */
static int
make_indexes(struct mongoidx *m, const char *const *fields, size_t n, const char *first,
    char *err, size_t errlen)
{
	bson_t cmd, list, reply;
	bson_error_t e;
	size_t i;
	int ok;

	bson_init(&cmd);
	BSON_APPEND_UTF8(&cmd, "createIndexes", "runs");
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &list);
	for (i = 0; i < n; i++) {
		bson_t ix, key;
		char num[24], *name = xasprintf("xt_%s", fields[i]);

		snprintf(num, sizeof(num), "%zu", i);
		BSON_APPEND_DOCUMENT_BEGIN(&list, num, &ix);
		BSON_APPEND_DOCUMENT_BEGIN(&ix, "key", &key);
		if (first)
			BSON_APPEND_INT32(&key, first, 1);
		BSON_APPEND_INT32(&key, fields[i], 1);
		bson_append_document_end(&ix, &key);
		BSON_APPEND_UTF8(&ix, "name", name);
		bson_append_document_end(&list, &ix);
		free(name);
	}
	bson_append_array_end(&cmd, &list);
	ok = mongoc_collection_write_command_with_opts(m->runs, &cmd, NULL, &reply, &e);
	bson_destroy(&cmd);
	bson_destroy(&reply);
	if (!ok)
		fail(err, errlen, m->name, e.message);
	return ok ? 0 : -1;
}

int
mongoidx_field_index(struct mongoidx *m, const char *field, char *err, size_t errlen)
{
	static char **made;
	static size_t nmade;
	size_t i;

	for (i = 0; i < nmade; i++)
		if (!strcmp(made[i], field))
			return 0;
	if (make_indexes(m, &field, 1, "ws", err, errlen) < 0)
		return -1;
	made = xrealloc(made, (nmade + 1) * sizeof(*made));
	made[nmade++] = xstrdup(field);
	return 0;
}

static int
create_indexes(struct mongoidx *m, char *err, size_t errlen)
{
	static const char *const keys[] = { "ws", "run", "status", "job", "exp" };

	return make_indexes(m, keys, sizeof(keys) / sizeof(keys[0]), NULL, err, errlen);
}

struct mongoidx *
mongoidx_open(const char *url, int timeout_ms, char *err, size_t errlen)
{
	const char *pw = getenv("XT_INDEX_PASSWORD"), *db;
	struct mongoidx *m;
	mongoc_uri_t *uri;
	bson_error_t e;
	bson_t *ping, reply;
	int ok;

	m = xcalloc(1, sizeof(*m));
	m->name = url_public(url);
	if (mongodl_load(err, errlen) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		fail(err, errlen, m->name, why);
		mongoidx_close(m);
		return NULL;
	}
	if (!(uri = mongoc_uri_new_with_error(url, &e))) {
		fail(err, errlen, m->name, e.message);
		mongoidx_close(m);
		return NULL;
	}
	if (pw && *pw && !mongoc_uri_get_password(uri))	/* the URI's own wins */
		mongoc_uri_set_password(uri, pw);
	if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, timeout_ms);
	if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeout_ms);
	db = mongoc_uri_get_database(uri);
	m->db = xstrdup(db && *db ? db : "xt");
	db = m->db;
	m->client = mongoc_client_new_from_uri_with_error(uri, &e);
	if (!m->client) {
		fail(err, errlen, m->name, e.message);
		mongoc_uri_destroy(uri);
		mongoidx_close(m);
		return NULL;
	}
	mongoc_client_set_error_api(m->client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(m->client, "xt");
	m->runs = mongoc_client_get_collection(m->client, db, "runs");
	m->jobs = mongoc_client_get_collection(m->client, db, "jobs");
	mongoc_uri_destroy(uri);
	/* a ping on the index's database: the server answers and takes the login */
	ping = BCON_NEW("ping", BCON_INT32(1));
	ok = mongoc_client_command_simple(m->client, db, ping, NULL, &reply, &e);
	bson_destroy(ping);
	bson_destroy(&reply);
	if (!ok) {
		fail(err, errlen, m->name, e.message);
		mongoidx_close(m);
		return NULL;
	}
	if (create_indexes(m, err, errlen) < 0) {
		mongoidx_close(m);
		return NULL;
	}
	return m;
}

void
mongoidx_close(struct mongoidx *m)
{
	if (!m)
		return;
	if (m->runs)
		mongoc_collection_destroy(m->runs);
	if (m->jobs)
		mongoc_collection_destroy(m->jobs);
	if (m->client)
		mongoc_client_destroy(m->client);
	free(m->name);
	free(m->db);
	free(m);
}

/* Queue line's upsert into the bulk of its collection; 0 when it names no run or job. */
static int
queue_line(struct mongoidx *m, const char *line, size_t len, mongoc_bulk_operation_t **bulk)
{
	bson_t *doc, sel, set, opts;
	bson_iter_t it;
	bson_error_t e;
	const char *key, *ws = "";
	int k, ret = 0;

	if (!(doc = bson_new_from_json((const uint8_t *)line, (ssize_t)len, &e)))
		return 0;
	if (bson_iter_init_find(&it, doc, "ws") && BSON_ITER_HOLDS_UTF8(&it))
		ws = bson_iter_utf8(&it, NULL);
	if (bson_iter_init_find(&it, doc, "run") && BSON_ITER_HOLDS_UTF8(&it))
		key = "run", k = 0;
	else if (bson_iter_init_find(&it, doc, "job") && BSON_ITER_HOLDS_UTF8(&it))
		key = "job", k = 1;
	else
		goto out;
	bson_init(&sel);
	BSON_APPEND_UTF8(&sel, "ws", ws);
	BSON_APPEND_UTF8(&sel, key, bson_iter_utf8(&it, NULL));
	/* the whole record replaces the document: a field the run no longer has
	 * (its pid once ended) goes, as in the store's index */
	bson_init(&set);
	bson_copy_to_excluding_noinit(doc, &set, "_id", NULL);
	bson_init(&opts);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	if (!bulk[k])
		bulk[k] = mongoc_collection_create_bulk_operation_with_opts(k ? m->jobs : m->runs, NULL);
	ret = mongoc_bulk_operation_replace_one_with_opts(bulk[k], &sel, &set, &opts, &e) ? 1 : -1;
	bson_destroy(&opts);
	bson_destroy(&set);
	bson_destroy(&sel);
out:
	bson_destroy(doc);
	return ret;
}

/* Execute and free the bulks; 0 or -1 with err set. */
static int
run_bulks(struct mongoidx *m, mongoc_bulk_operation_t **bulk, char *err, size_t errlen)
{
	bson_error_t e;
	bson_t reply;
	int k, ret = 0;

	for (k = 0; k < 2; k++) {
		if (!bulk[k])
			continue;
		if (!ret) {
			if (!mongoc_bulk_operation_execute(bulk[k], &reply, &e)) {
				fail(err, errlen, m->name, e.message);
				ret = -1;
			}
			bson_destroy(&reply);	/* always initialized */
		}
		mongoc_bulk_operation_destroy(bulk[k]);
		bulk[k] = NULL;
	}
	return ret;
}

int
mongoidx_upsert(struct mongoidx *m, const char *buf, size_t len, size_t *n, char *err,
    size_t errlen)
{
	mongoc_bulk_operation_t *bulk[2] = { NULL, NULL };
	size_t off = 0, queued = 0, sent = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
		int q = queue_line(m, buf + off, l, bulk);

		off += l + (nl != NULL);
		if (q < 0) {
			run_bulks(m, bulk, err, errlen);
			snprintf(err, errlen, "index %s: cannot queue an upsert", m->name);
			return -1;
		}
		queued += (size_t)q;
		if (queued == MONGOIDX_BATCH || (off >= len && queued)) {
			if (run_bulks(m, bulk, err, errlen) < 0)
				return -1;
			sent += queued;
			if (n)
				*n = sent;
			queued = 0;
		}
	}
	if (n)
		*n = sent;
	return 0;
}

/* The BSON document or array at it as JSON; the types a record has (others are left out). */
static cJSON *
from_bson(bson_iter_t *it, int array)
{
	cJSON *o = array ? cJSON_CreateArray() : cJSON_CreateObject(), *v;
	bson_iter_t sub;

	while (bson_iter_next(it)) {
		switch (bson_iter_type(it)) {
		case BSON_TYPE_DOUBLE: v = cJSON_CreateNumber(bson_iter_double(it)); break;
		case BSON_TYPE_INT32: v = cJSON_CreateNumber(bson_iter_int32(it)); break;
		case BSON_TYPE_INT64: v = cJSON_CreateNumber((double)bson_iter_int64(it)); break;
		case BSON_TYPE_UTF8: v = cJSON_CreateString(bson_iter_utf8(it, NULL)); break;
		case BSON_TYPE_BOOL: v = cJSON_CreateBool(bson_iter_bool(it)); break;
		case BSON_TYPE_NULL: v = cJSON_CreateNull(); break;
		case BSON_TYPE_DOCUMENT:
		case BSON_TYPE_ARRAY:
			if (!bson_iter_recurse(it, &sub))
				continue;
			v = from_bson(&sub, bson_iter_type(it) == BSON_TYPE_ARRAY);
			break;
		default:
			continue;
		}
		if (array)
			cJSON_AddItemToArray(o, v);
		else
			cJSON_AddItemToObject(o, bson_iter_key(it), v);
	}
	return o;
}

int
mongoidx_find(struct mongoidx *m, const char *filter, const char *opts_json, mongoidx_fn fn,
    void *arg, char *err, size_t errlen)
{
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t *q, *opts;
	bson_error_t e;
	bson_iter_t it;
	int rc = 0;

	if (!(q = bson_new_from_json((const uint8_t *)filter, -1, &e))) {
		fail(err, errlen, m->name, e.message);
		return -1;
	}
	if (!opts_json)
		opts_json = "{\"projection\": {\"_id\": 0}, \"sort\": {\"_id\": 1}}";
	if (!(opts = bson_new_from_json((const uint8_t *)opts_json, -1, &e))) {
		fail(err, errlen, m->name, e.message);
		bson_destroy(q);
		return -1;
	}
	cur = mongoc_collection_find_with_opts(m->runs, q, opts, NULL);
	while (rc == 0 && mongoc_cursor_next(cur, &doc)) {
		cJSON *o;
		char *line;
		size_t len;

		if (!bson_iter_init(&it, doc))
			continue;
		o = from_bson(&it, 0);
		line = json_line(o, &len);
		rc = fn(line, len && line[len - 1] == '\n' ? len - 1 : len, arg);
		free(line);
		cJSON_Delete(o);
	}
	if (rc == 0 && mongoc_cursor_error(cur, &e)) {
		fail(err, errlen, m->name, e.message);
		rc = -1;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(q);
	return rc;
}

static int
count_in(struct mongoidx *m, mongoc_collection_t *c, int64_t *out, char *err, size_t errlen)
{
	bson_t q = BSON_INITIALIZER;
	bson_error_t e;

	*out = mongoc_collection_count_documents(c, &q, NULL, NULL, NULL, &e);
	bson_destroy(&q);
	if (*out < 0) {
		fail(err, errlen, m->name, e.message);
		return -1;
	}
	return 0;
}

int
mongoidx_count(struct mongoidx *m, int64_t *runs, int64_t *jobs, char *err, size_t errlen)
{
	if (count_in(m, m->runs, runs, err, errlen) < 0)
		return -1;
	return count_in(m, m->jobs, jobs, err, errlen);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The segments of dir (seg-*.jsonl), sorted, oldest first; *n of them. Caller frees. */
static char **
segments(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, "seg-", 4) || l < 10 || strcmp(de->d_name + l - 6, ".jsonl"))
			continue;
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_names);
	return v;
}

static void
free_names(char **v, size_t n)
{
	while (n)
		free(v[--n]);
	free(v);
}

/* pending.jsonl becomes a segment, once no appender holds it. */
static int
rotate(const char *dir)
{
	char *pend = path_join(dir, "pending.jsonl"), *seg = NULL;
	struct stat sb;
	int64_t ms = time_now_ms();
	int fd, ret = 0;

	if (stat(pend, &sb) < 0 || sb.st_size == 0)
		goto out;
	for (;; ms++) {
		free(seg);
		seg = xasprintf("%s/seg-%015lld.jsonl", dir, (long long)ms);
		if (access(seg, F_OK) < 0)
			break;
	}
	if (rename(pend, seg) < 0) {
		ret = -1;
		goto out;
	}
	/* appenders that opened it before the rename finish their lines first */
	if ((fd = open(seg, O_RDONLY | O_CLOEXEC)) >= 0) {
		flock(fd, LOCK_EX);
		close(fd);
	}
out:
	free(pend);
	free(seg);
	return ret;
}

int
mongoidx_flush(int timeout_ms, size_t *sent, char *err, size_t errlen)
{
	const char *url = mongoidx_url();
	struct mongoidx *m = NULL;
	char *dir, *lock, **segs;
	size_t nseg = 0, i, n;
	int lfd, ret = 0;

	*sent = 0;
	if (!url || !(dir = outbox_dir(url)))
		return 0;
	lock = path_join(dir, "lock");
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		/* no outbox yet, or another process sends it */
		if (lfd >= 0)
			close(lfd);
		free(lock);
		free(dir);
		return 0;
	}
	if (rotate(dir) < 0) {
		snprintf(err, errlen, "index: cannot turn %s/pending.jsonl into a segment: %s", dir,
		    strerror(errno));
		ret = -1;
	}
	segs = segments(dir, &nseg);
	for (i = 0; i < nseg && ret == 0; i++) {
		char *path = path_join(dir, segs[i]);
		struct sbuf sb;

		sbuf_init(&sb, (size_t)1 << 31);
		if (file_read(path, &sb) < 0) {
			snprintf(err, errlen, "index: cannot read %s: %s", path, strerror(errno));
			ret = -1;
		} else if (sb.len && !m && !(m = mongoidx_open(url, timeout_ms, err, errlen))) {
			ret = -1;
		} else if (sb.len && mongoidx_upsert(m, sb.buf, sb.len, &n, err, errlen) < 0) {
			ret = -1;
		} else {
			*sent += sb.len ? n : 0;
			unlink(path);	/* acknowledged whole */
		}
		sbuf_release(&sb);
		free(path);
	}
	free_names(segs, nseg);
	mongoidx_close(m);
	close(lfd);
	free(lock);
	free(dir);
	return ret;
}

/* Add the lines of path to b, and the oldest line's time when b has none yet; 1 when it has lines. */
static int
backlog_file(const char *path, struct mongoidx_backlog *b)
{
	struct sbuf sb;
	size_t i;
	int n;

	sbuf_init(&sb, (size_t)1 << 31);
	if (file_read(path, &sb) == 0) {
		for (i = 0; i < sb.len; i++)
			b->lines += sb.buf[i] == '\n';
		if (!b->oldest_ms && sb.len) {
			const char *nl = memchr(sb.buf, '\n', sb.len);
			cJSON *o = cJSON_ParseWithLength(sb.buf, nl ? (size_t)(nl - sb.buf) : sb.len);
			static const char *const when[] = { "time", "created", "started", "ended", NULL };
			const char *t = NULL, *w;
			int64_t ms;
			int k;

			/* the line's own time: the latest of its times */
			for (k = 0; when[k]; k++)
				if ((w = json_str(o, when[k])) && (!t || strcmp(w, t) > 0))
					t = w;
			if (t && time_parse_iso(t, &ms) == 0)
				b->oldest_ms = ms;
			cJSON_Delete(o);
		}
	}
	n = sb.len > 0;
	sbuf_release(&sb);
	return n;
}

int
mongoidx_backlog(struct mongoidx_backlog *b, char *err, size_t errlen)
{
	const char *url = mongoidx_url();
	char *dir, **segs, *path;
	size_t n, i;

	memset(b, 0, sizeof(*b));
	if (!url) {
		snprintf(err, errlen, "no index is configured (index:, XT_INDEX, --index)");
		return -1;
	}
	if (!(dir = outbox_dir(url))) {
		snprintf(err, errlen, "index: no XT_HOME or HOME for the outbox");
		return -1;
	}
	segs = segments(dir, &n);
	for (i = 0; i < n; i++) {
		path = path_join(dir, segs[i]);
		backlog_file(path, b);
		free(path);
	}
	b->segments = n;
	path = path_join(dir, "pending.jsonl");
	b->segments += (size_t)backlog_file(path, b);
	free(path);
	free_names(segs, n);
	free(dir);
	return 0;
}

static struct {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int on, stop, interval_ms;
} snd = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void
sender_flush(void)
{
	static int warned;
	char err[1024];
	size_t sent;

	if (mongoidx_flush(2000, &sent, err, sizeof(err)) < 0 && !warned++)
		warnx("%s (the outbox keeps the changes; they are sent when it answers)", err);
}

static void *
sender_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&snd.mu);
	while (!snd.stop) {
		pthread_mutex_unlock(&snd.mu);
		sender_flush();
		pthread_mutex_lock(&snd.mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += snd.interval_ms / 1000;
		ts.tv_nsec += (long)(snd.interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		if (!snd.stop)
			pthread_cond_timedwait(&snd.cv, &snd.mu, &ts);
	}
	pthread_mutex_unlock(&snd.mu);
	sender_flush();
	return NULL;
}

void
mongoidx_sender_start(int interval_ms)
{
	if (!mongoidx_url() || snd.on)
		return;
	snd.interval_ms = interval_ms > 0 ? interval_ms : 1000;
	snd.stop = 0;
	if (pthread_create(&snd.th, NULL, sender_main, NULL) == 0)
		snd.on = 1;
}

void
mongoidx_sender_stop(void)
{
	if (!snd.on)
		return;
	pthread_mutex_lock(&snd.mu);
	snd.stop = 1;
	pthread_cond_signal(&snd.cv);
	pthread_mutex_unlock(&snd.mu);
	pthread_join(snd.th, NULL);
	snd.on = 0;
}
