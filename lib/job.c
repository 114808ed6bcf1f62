/* job.c: see job.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "guess.h"
#include "hmap.h"
#include "index.h"
#include "job.h"
#include "json.h"
#include "name.h"
#include "queue.h"
#include "run.h"
#include "target.h"
#include "banned.h"

/* Records per index append, and per journal line on the progress */
#define JOB_CHUNK 1000
/* A journal longer than this is not one xt-submit wrote */
#define JOURNAL_MAX ((size_t)16 << 20)
/* A hidden journal (being set up) this old is one whose submitter died */
#define JOURNAL_STALE_MS 60000

struct journal {
	char *path, *id;
	int fd;
};

/* What a journal says (job.h). */
struct jstate {
	char *url, *ws, *id, *node;
	long pid;
	long job, run;		/* the last names tried, 0: none */
	long indexed, logged;	/* the progress after the commit, -1: none noted */
};

static char *
journal_dir(void)
{
	char *home = xt_home(), *dir = path_join(home, "submit");

	free(home);
	return dir;
}

/* This machine's name, made safe for a file name. */
static void
node_name(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0 || !buf[0])
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
}

static cJSON *
submitter(const char *node, long pid, const char *id)
{
	cJSON *o = cJSON_CreateObject();

	json_set_str(o, "node", node);
	json_set_num(o, "pid", (double)pid);
	json_set_str(o, "id", id);
	return o;
}

/* True when obj was written by the submit of journal id. */
static int
ours(const cJSON *obj, const char *id)
{
	const char *s = json_str(cJSON_GetObjectItemCaseSensitive(obj, "submitter"), "id");

	return s && !strcmp(s, id);
}

/* Append one line to j; sync: make it durable first. 0 or -1 with errno. */
static int
journal_line(struct journal *j, const cJSON *o, int sync)
{
	size_t len;
	char *line = json_line(o, &len);
	int rc = write_all(j->fd, line, len);

	free(line);
	return rc < 0 || (sync && fdatasync(j->fd) < 0) ? -1 : 0;
}

static int
journal_note(struct journal *j, const char *key, long v, int sync)
{
	cJSON *o = cJSON_CreateObject();
	int rc;

	json_set_num(o, key, (double)v);
	rc = journal_line(j, o, sync);
	cJSON_Delete(o);
	return rc;
}

/*
 * Start the journal of a submit into ws of the store url, locked: set up
 * under a hidden name, then renamed, so that it is seen whole. 0 or -1
 * with errno.
 */
static int
journal_open(struct journal *j, const char *url, const char *ws, const cJSON *who)
{
	char *dir = journal_dir(), *tmp;
	cJSON *h = cJSON_CreateObject();
	int rc = -1, e;

	j->path = xasprintf("%s/%s.jsonl", dir, json_str(who, "id"));
	j->id = xstrdup(json_str(who, "id"));
	tmp = xasprintf("%s/.%s.jsonl", dir, j->id);
	json_set_str(h, "store", url);
	json_set_str(h, "ws", ws);
	json_set(h, "submitter", cJSON_Duplicate(who, 1));
	if (mkdir_p(dir) == 0 && (j->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
	    O_CLOEXEC, 0600)) >= 0) {
		if (flock(j->fd, LOCK_EX) == 0 && journal_line(j, h, 0) == 0 && rename(tmp, j->path) == 0)
			rc = 0;
		if (rc < 0) {
			e = errno;
			unlink(tmp);
			close(j->fd);
			errno = e;
		}
	}
	e = errno;
	cJSON_Delete(h);
	free(tmp);
	free(dir);
	if (rc < 0) {
		free(j->path);
		free(j->id);
	}
	errno = e;
	return rc;
}

/* Close j, releasing its lock; remove: the submit is settled, so drop the journal first. */
static void
journal_end(struct journal *j, int remove)
{
	if (remove)
		unlink(j->path);
	close(j->fd);
	free(j->path);
	free(j->id);
}

static void
jstate_release(struct jstate *s)
{
	free(s->url);
	free(s->ws);
	free(s->id);
	free(s->node);
}

/* Read the journal at path into s: 0, or -1 when it has no header (message in err). */
static int
jstate_read(const char *path, struct jstate *s, char *err, size_t errlen)
{
	struct sbuf sb;
	char *line, *nl;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->indexed = s->logged = -1;
	sbuf_init(&sb, JOURNAL_MAX);
	if (file_read(path, &sb) < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		sbuf_release(&sb);
		return -1;
	}
	/* a line cut short by a kill is the last one, and is left out */
	for (line = sb.buf; (nl = strchr(line, '\n')); line = nl + 1) {
		cJSON *o, *who;

		*nl = '\0';
		if (!(o = cJSON_Parse(line)))
			break;
		if (line == sb.buf) {
			who = cJSON_GetObjectItemCaseSensitive(o, "submitter");
			if (json_str(o, "store") && json_str(o, "ws") && json_str(who, "id") &&
			    json_str(who, "node")) {
				s->url = xstrdup(json_str(o, "store"));
				s->ws = xstrdup(json_str(o, "ws"));
				s->id = xstrdup(json_str(who, "id"));
				s->node = xstrdup(json_str(who, "node"));
				s->pid = (long)json_num(who, "pid", 0);
				rc = 0;
			}
		} else {
			s->job = (long)json_num(o, "job", (double)s->job);
			s->run = (long)json_num(o, "run", (double)s->run);
			s->indexed = (long)json_num(o, "indexed", (double)s->indexed);
			s->logged = (long)json_num(o, "logged", (double)s->logged);
		}
		cJSON_Delete(o);
		if (rc < 0)
			break;
	}
	if (rc < 0)
		snprintf(err, errlen, "'%s' is not the journal of a submit", path);
	sbuf_release(&sb);
	return rc;
}

/* Delete path; a missing one is fine. 0 or -1 with the store's error. */
static int
del(struct store *st, const char *path)
{
	int rc = store_delete(st, path);

	return rc == 0 || rc == STORE_ENOENT ? 0 : -1;
}

/*
 * Delete path, and the folders it leaves empty even when it is missing
 * (a writer killed between making the folder and the object leaves an
 * empty one): a mark path.clear is then made and deleted, which takes the
 * folders with it. Not path itself: killed between the two, that would
 * leave an empty object where a record is read (an empty job.json, taken
 * for another submit's job, stayed for good). 0 or -1 with the store's
 * error.
 */
static int
clear(struct store *st, const char *path)
{
	char *mark;
	int rc = store_delete(st, path);

	if (rc != STORE_ENOENT)
		return rc == 0 ? 0 : -1;
	mark = xasprintf("%s.clear", path);
	rc = store_create(st, mark, "", 0);
	if (rc == 0 || rc == STORE_EXIST)	/* one left by a clear cut short */
		rc = store_delete(st, mark);
	free(mark);
	return rc == 0 || rc == STORE_ENOENT ? 0 : -1;
}

/* The object at path parsed: 1, 0 when there is none, -1 on error (*o NULL when not JSON). */
static int
get_json(struct store *st, const char *path, cJSON **o)
{
	struct sbuf sb;
	int rc;

	*o = NULL;
	sbuf_init(&sb, (size_t)64 << 20);
	rc = store_get(st, path, 0, -1, &sb);
	if (rc == 0)
		*o = cJSON_ParseWithLength(sb.buf, sb.len);
	sbuf_release(&sb);
	return rc == 0 ? 1 : rc == STORE_ENOENT ? 0 : -1;
}

static int
add_child(const struct store_entry *e, void *arg)
{
	if (e->is_dir)
		cJSON_AddItemToArray(arg, cJSON_CreateString(e->path));
	return 0;
}

/*
 * Before the commit: remove what the submit of s stored of job jname
 * (run records, placeholders, the code manifest, job.json last). 0 or -1
 * with the store's error.
 */
static int
roll_back(struct store *st, const struct jstate *s, const char *jname)
{
	char *p;
	int rc = 0;

	if (s->run > 0) {
		char *rname = xasprintf("run%ld", s->run);
		cJSON *rec, *kids = cJSON_CreateArray();
		const cJSON *k;
		int got;

		p = run_path(s->ws, rname, "run.json");
		got = get_json(st, p, &rec);
		/* the run is ours when it is our placeholder or names our job */
		if (got < 0) {
			rc = -1;
		} else if (got == 0) {
			rc = clear(st, p);
		} else if (rec && (ours(rec, s->id) || (json_str(rec, "job") &&
		    !strcmp(json_str(rec, "job"), jname)))) {
			char *prefix = xasprintf("ws/%s/runs/%s.", s->ws, rname);

			got = store_list(st, prefix, 0, add_child, kids);
			if (got < 0 && got != STORE_ENOENT)
				rc = -1;
			cJSON_ArrayForEach(k, kids) {
				char *c = xasprintf("%srun.json", k->valuestring);

				if (clear(st, c) < 0)
					rc = -1;
				free(c);
			}
			if (rc == 0 && del(st, p) < 0)
				rc = -1;
			free(prefix);
		}
		cJSON_Delete(rec);
		cJSON_Delete(kids);
		free(rname);
		free(p);
	}
	p = run_plan_path(s->ws, jname);
	if (rc == 0 && del(st, p) < 0)
		rc = -1;
	free(p);
	p = xasprintf("ws/%s/jobs/%s/code.jsonl", s->ws, jname);
	if (rc == 0 && del(st, p) < 0)
		rc = -1;
	free(p);
	p = xasprintf("ws/%s/jobs/%s/job.json", s->ws, jname);
	if (rc == 0 && del(st, p) < 0)
		rc = -1;
	free(p);
	return rc;
}

/* The queue entry of run (of job, in ws of the store url; rec its record). 0 or -1 with errno. */
static int
enqueue(struct queue *q, const char *url, const char *ws, const char *run, const char *job,
    const cJSON *rec)
{
	cJSON *e = queue_entry_of(url, ws, run, job, rec);
	int rc;

	rc = queue_add(q, e);
	cJSON_Delete(e);
	return rc;
}

/* The "created" and "queued" events of a new run. 0 or a STORE_E* code. */
static int
log_new(struct store *st, const char *ws, const char *run)
{
	char *p = run_path(ws, run, "log.jsonl"), *l;
	size_t n;
	int rc;

	l = run_new_events(time_now_ms(), &n);
	rc = store_append(st, p, l, n);
	free(l);
	free(p);
	return rc;
}

struct spool_arg {
	const char *url, *ws;
	struct hmap *m;
};

static int
spool_one(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	struct spool_arg *a = arg;
	const char *url = json_str(data, "store"), *ws = json_str(data, "ws");
	const char *run = json_str(data, "run");
	int isnew;

	if (url && ws && run && !strcmp(url, a->url) && !strcmp(ws, a->ws))
		hmap_put(a->m, run, strlen(run), 0, &isnew);
	return 0;
}

/* The runs of ws in the store url that the spool holds, waiting or running, into m. */
static void
spool_runs(struct queue *q, const char *url, const char *ws, struct hmap *m)
{
	struct spool_arg a = { url, ws, m };

	hmap_release(m);
	hmap_init(m);
	queue_each(q, spool_one, &a);
}

/* Queued and never started: a run that no executor has taken. */
static int
fresh(const cJSON *rec)
{
	return rec && json_str(rec, "status") && !strcmp(json_str(rec, "status"), "queued") &&
	    json_num(rec, "attempt", 0) == 0;
}

/*
 * A run whose record was lost while it was submitted: failed with the
 * reason, in its record, the index and its log, and counted in its parent.
 */
static int
lost_run(struct store *st, cJSON *rec)
{
	cJSON *d = cJSON_CreateObject();
	char t[32];
	int rc, erc;

	json_set_str(rec, "status", "failed");
	json_set_str(rec, "error", "its record was lost while it was submitted");
	time_iso(time_now_ms(), t, sizeof(t));
	json_set_str(rec, "ended", t);
	rc = run_save(st, rec);
	json_set_str(d, "status", "failed");
	erc = run_event(st, json_str(rec, "ws"), json_str(rec, "run"), "ended", -1, d);
	run_settle_parent(st, json_str(rec, "ws"), rec);
	return rc < 0 ? rc : erc;
}

/*
 * The fresh runs of rec (n records) handed again to job's target, which
 * is not this machine's spool. How many were handed, or -1 with err.
 */
static int
hand_over(struct store *st, const cJSON *job, cJSON **rec, int n, char *err, size_t errlen)
{
	const char *tname = json_str(job, "target");
	cJSON *runs = cJSON_CreateArray();
	struct target *t;
	int i, k;

	for (i = 0; i < n; i++)
		if (fresh(rec[i]))
			cJSON_AddItemReferenceToArray(runs, rec[i]);
	if ((k = cJSON_GetArraySize(runs)) == 0) {
		cJSON_Delete(runs);
		return 0;
	}
	if (target_open(tname, &t, err, errlen) < 0) {
		cJSON_Delete(runs);
		return -1;
	}
	if (target_submit(t, st, job, runs) < 0) {
		snprintf(err, errlen, "%s", target_error(t));
		k = -1;
	}
	target_close(t);
	cJSON_Delete(runs);
	return k;
}

/*
 * After the commit: finish the submit of s, whose job record is job.
 * Returns how many runs it queued, or -1 with a message in err.
 */
static int
roll_forward(struct store *st, const struct jstate *s, const cJSON *job, char *err, size_t errlen)
{
	const char *jname = json_str(job, "job"), *parent = json_str(job, "parent_run");
	cJSON *names = cJSON_CreateArray(), **rec;
	const cJSON *it;
	struct sbuf idx;
	struct queue q;
	struct hmap m;
	int n, i, rc, queued = 0, ret = -1, deferred;

	if (parent)
		cJSON_AddItemToArray(names, cJSON_CreateString(parent));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(job, "runs"))
		if (cJSON_IsString(it))
			cJSON_AddItemToArray(names, cJSON_CreateString(it->valuestring));
	n = cJSON_GetArraySize(names);
	rec = xcalloc((size_t)n + 1, sizeof(*rec));
	sbuf_init(&idx, (size_t)1 << 30);
	hmap_init(&m);
	queue_open(&q, NULL);
	for (i = 0, it = names->child; it; it = it->next, i++) {
		if ((rec[i] = run_load(st, s->ws, it->valuestring, &rc)))
			continue;
		if (rc != STORE_ENOENT) {
			snprintf(err, errlen, "%s", store_error(st));
			goto out;
		}
		/* every record is stored before the commit; one missing was lost since */
		rec[i] = cJSON_CreateObject();
		json_set_str(rec[i], "ws", s->ws);
		json_set_str(rec[i], "exp", json_str(job, "exp") ? json_str(job, "exp") : "");
		json_set_str(rec[i], "job", jname);
		json_set_str(rec[i], "run", it->valuestring);
		if (parent && i > 0)
			json_set_str(rec[i], "parent", parent);
		if (lost_run(st, rec[i]) < 0) {
			snprintf(err, errlen, "%s", store_error(st));
			goto out;
		}
	}
	/* the index: records noted as indexed are; others not yet taken by an executor */
	for (i = s->indexed > 0 ? (int)s->indexed : 0; i < n; i++) {
		char *line;
		size_t len;

		if (!fresh(rec[i]))
			continue;
		line = json_line(rec[i], &len);
		if (sbuf_add(&idx, line, len) < 0) {
			free(line);
			snprintf(err, errlen, "job %s: its index lines are too long", jname);
			goto out;
		}
		free(line);
		if (idx.len > ((size_t)1 << 20)) {
			if (index_append(st, s->ws, idx.buf, idx.len) < 0) {
				snprintf(err, errlen, "%s", store_error(st));
				goto out;
			}
			sbuf_reset(&idx);
		}
	}
	if (idx.len && index_append(st, s->ws, idx.buf, idx.len) < 0) {
		snprintf(err, errlen, "%s", store_error(st));
		goto out;
	}
	/* the events of runs (not the parent) that have no log yet; a deferred run's come later */
	deferred = parent && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec[0], "deferred"));
	for (i = deferred ? n : s->logged > 0 ? (int)s->logged : 0; i < n; i++) {
		struct store_stat sst;
		char *p;

		if ((parent && i == 0) || !fresh(rec[i]))
			continue;
		p = run_path(s->ws, json_str(rec[i], "run"), "log.jsonl");
		rc = store_stat(st, p, &sst);
		free(p);
		if (rc == STORE_ENOENT)
			rc = log_new(st, s->ws, json_str(rec[i], "run"));
		if (rc < 0) {
			snprintf(err, errlen, "%s", store_error(st));
			goto out;
		}
	}
	/* a target of its own (ssh): the fresh runs are handed to it again; it keeps none twice */
	if (!target_spools_here(json_str(job, "target"))) {
		ret = hand_over(st, job, rec + (parent ? 1 : 0), n - (parent ? 1 : 0), err, errlen);
		goto out;
	}
	/*
	 * A queue entry for each fresh run that has none. The spool is read
	 * twice, the records again in between: an entry moving from queue/ to
	 * running/ while the spool is read can be missed once, but then its
	 * run has started by the second read, or is no longer fresh.
	 */
	spool_runs(&q, s->url, s->ws, &m);
	for (i = parent ? 1 : 0, it = parent ? names->child->next : names->child; it;
	    it = it->next, i++) {
		const char *name = it->valuestring;

		if (!fresh(rec[i]) || hmap_get(&m, name, strlen(name)))
			continue;
		cJSON_Delete(rec[i]);
		rec[i] = run_load(st, s->ws, name, &rc);
		if (!rec[i] && rc != STORE_ENOENT) {
			snprintf(err, errlen, "%s", store_error(st));
			goto out;
		}
		if (fresh(rec[i]))
			json_set_num(rec[i], "requeue", 1);
	}
	spool_runs(&q, s->url, s->ws, &m);
	queue_batch_begin(&q);
	for (i = parent ? 1 : 0, it = parent ? names->child->next : names->child; it;
	    it = it->next, i++) {
		const char *name = it->valuestring;

		if (!rec[i] || !json_num(rec[i], "requeue", 0) || hmap_get(&m, name, strlen(name)))
			continue;
		if (enqueue(&q, s->url, s->ws, name, jname, rec[i]) < 0) {
			snprintf(err, errlen, "cannot queue run '%s': %s", name, strerror(errno));
			goto out;
		}
		queued++;
	}
	if (queue_commit(&q, 0) < 0) {
		snprintf(err, errlen, "cannot queue the runs of job %s: %s", jname, strerror(errno));
		goto out;
	}
	ret = queued;
out:
	for (i = 0; i < n; i++)
		cJSON_Delete(rec[i]);
	free(rec);
	queue_close(&q);
	hmap_release(&m);
	sbuf_release(&idx);
	cJSON_Delete(names);
	return ret;
}

/*
 * Settle the submit of s: roll it back or forward (job.h). 0 when settled
 * (the journal can go), -1 with a message in err. self: the caller is the
 * submitter itself, which says nothing more.
 */
static int
settle(const struct jstate *s, int self, char *err, size_t errlen)
{
	struct store *st;
	char *jname, *p;
	cJSON *job;
	int got, rc = 0;

	if (s->job <= 0)
		return 0;
	/* a folder store that is gone took the job with it: not made again by opening it */
	if (store_gone(s->url))
		return 0;
	if (!(st = store_open(s->url, err, errlen)))
		return -1;
	jname = xasprintf("job%ld", s->job);
	p = xasprintf("ws/%s/jobs/%s/job.json", s->ws, jname);
	got = get_json(st, p, &job);
	if (got < 0) {
		snprintf(err, errlen, "%s", store_error(st));
		rc = -1;
	} else if (got == 0) {
		/* killed making it: no job, but maybe its folder */
		if ((rc = clear(st, p)) < 0)
			snprintf(err, errlen, "%s", store_error(st));
	} else if (!job || !ours(job, s->id)) {
		/* the name it tried last was taken by another: nothing of it is stored */
	} else if (json_str(job, "status")) {
		if ((rc = roll_back(st, s, jname)) < 0)
			snprintf(err, errlen, "%s", store_error(st));
		else if (!self)
			warnx("%s: removed what xt-submit (pid %ld on %s) had stored of it when it "
			    "died", jname, s->pid, s->node);
	} else {
		int n = roll_forward(st, s, job, err, errlen);

		if (n < 0)
			rc = -1;
		else if (!self)
			warnx("%s: finished what xt-submit (pid %ld on %s) left when it died: %d "
			    "run%s queued", jname, s->pid, s->node, n, n == 1 ? "" : "s");
	}
	cJSON_Delete(job);
	free(p);
	free(jname);
	store_close(st);
	return rc;
}

struct hook {
	struct journal *j;
	const char *key;
};

static int
before_try(long n, void *arg)
{
	struct hook *h = arg;

	return journal_note(h->j, h->key, n, 1);
}

/* The parent of the runs: a copy of the first as submitted, holding no command of its own. */
static cJSON *
parent_record(const cJSON *job, const cJSON *first, const char *name, int nr)
{
	cJSON *p = cJSON_Duplicate(first, 1);
	const cJSON *it;
	struct sbuf sb;

	sbuf_init(&sb, (size_t)1 << 20);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(job, "argv"))
		if (cJSON_IsString(it))
			sbuf_addf(&sb, "%s%s", sb.len ? " " : "", it->valuestring);
	json_set_str(p, "run", name);
	json_set_num(p, "children", nr);
	json_set(p, "hparams", cJSON_CreateObject());
	json_set(p, "given_hparams", cJSON_CreateObject());
	json_set_str(p, "cmd", sb.buf);
	cJSON_DeleteItemFromObjectCaseSensitive(p, "attempt");
	cJSON_DeleteItemFromObjectCaseSensitive(p, "parent");
	sbuf_release(&sb);
	return p;
}

/*
 * Put the records (parent first), and write their queue entries hidden;
 * with defer (a parent marked "deferred"), the children's records go into
 * the job's plan, one object (run.h).
 */
static int
put_runs(struct store *st, struct queue *q, const char *ws, const char *jname, const cJSON *parent,
    const cJSON *runs, int defer, char *err, size_t errlen)
{
	const cJSON *r;

	if (parent && run_put_new(st, parent) < 0) {
		snprintf(err, errlen, "cannot store run '%s': %s", json_str(parent, "run"),
		    store_error(st));
		return -1;
	}
	if (defer) {
		struct sbuf plan;
		char *p = run_plan_path(ws, jname);
		int rc = 0;

		sbuf_init(&plan, (size_t)1 << 31);
		cJSON_ArrayForEach(r, runs) {
			size_t len;
			char *line = json_line(r, &len);

			if (rc == 0 && sbuf_add(&plan, line, len) < 0)
				rc = store_fail(st, STORE_ERR, "its records are too long");
			free(line);
		}
		if (rc == 0)
			rc = store_put(st, p, plan.buf, plan.len);
		if (rc < 0)
			snprintf(err, errlen, "cannot store the runs: %s", store_error(st));
		sbuf_release(&plan);
		free(p);
		return rc < 0 ? -1 : 0;
	}
	cJSON_ArrayForEach(r, runs) {
		const char *name = json_str(r, "run");

		if (run_put_new(st, r) < 0) {
			snprintf(err, errlen, "cannot store the runs: %s", store_error(st));
			return -1;
		}
		if (q && enqueue(q, store_url(st), ws, name, jname, r) < 0) {
			snprintf(err, errlen, "cannot queue run '%s': %s", name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * After the commit: index lines, events, and the queue entries made
 * visible (q), or the runs handed to the target t (q NULL). 0, -1, or -2
 * when t refused the runs for good (they are recorded failed).
 */
static int
publish(struct store *st, struct journal *j, struct queue *q, struct target *t,
    const cJSON *job, const cJSON *parent, const cJSON *runs, int synced, int defer,
    struct sbuf *lines, char *err, size_t errlen)
{
	const char *ws = json_str(job, "ws");
	struct sbuf idx;
	const cJSON *r = parent ? parent : runs->child;
	long k = 0;
	int rc = 0;

	sbuf_init(&idx, (size_t)1 << 30);
	while (r && rc == 0) {
		char *line;
		size_t len;

		line = json_line(r, &len);
		if (lines && r != parent && sbuf_add(lines, line, len) < 0) {
			snprintf(err, errlen, "cannot print run '%s': out of memory",
			    json_str(r, "run"));
			rc = -1;
		} else if (sbuf_add(&idx, line, len) < 0) {
			snprintf(err, errlen, "cannot index run '%s': out of memory", json_str(r, "run"));
			rc = -1;
		}
		free(line);
		r = r == parent ? runs->child : r->next;
		if (rc == 0 && (++k % JOB_CHUNK == 0 || !r)) {
			if (index_append(st, ws, idx.buf, idx.len) < 0) {
				snprintf(err, errlen, "cannot append to the run index: %s", store_error(st));
				rc = -1;
			} else {
				journal_note(j, "indexed", k, 0);
			}
			sbuf_reset(&idx);
		}
	}
	sbuf_release(&idx);
	if (rc < 0)
		return -1;
	/*
	 * A run whose events could not be logged stops the notes: a recovery
	 * looks again. A deferred run's are logged when its record is made.
	 */
	k = parent ? 1 : 0;
	for (r = defer ? NULL : runs->child; r; r = r->next) {
		if (log_new(st, ws, json_str(r, "run")) < 0) {
			warnx("run '%s': %s", json_str(r, "run"), store_error(st));
			rc = -1;
		}
		if (rc == 0 && (++k % JOB_CHUNK == 0 || !r->next))
			journal_note(j, "logged", k, 0);
	}
	if (!q) {
		if ((rc = target_submit(t, st, job, runs)) < 0) {
			snprintf(err, errlen, "%s", target_error(t));
			return rc == TARGET_EREFUSED ? -2 : -1;
		}
		return 0;
	}
	if (queue_commit(q, synced) < 0) {
		snprintf(err, errlen, "cannot queue the runs: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
job_create(struct store *st, cJSON *job, cJSON *runs, const struct tree *tree,
    const char *manifest, struct target *t, struct sbuf *lines, char *err, size_t errlen)
{
	int spool = !t || target_spools_here(target_name(t));
	const char *ws = json_str(job, "ws");
	char node[256], *id, *jobsdir = xasprintf("ws/%s/jobs", ws);
	char *runsdir = xasprintf("ws/%s/runs", ws), *jname = NULL, *mpath = NULL, *line = NULL;
	char *pname = NULL;
	cJSON *who, *ph, *parent = NULL, *names = NULL, *r;
	struct journal j;
	struct hook h = { &j, "job" };
	struct queue q;
	dev_t dev;
	size_t len;
	long n;
	int nr = cJSON_GetArraySize(runs), k = 0, committed = 0, qopen = 0, synced, ret = -1, rc;
	int defer = !spool && nr > 1 && target_defers_records(t);

	node_name(node, sizeof(node));
	for (char *c = node; *c; c++)
		if (!(*c == '-' || *c == '_' || *c == '.' || (*c >= '0' && *c <= '9') ||
		    (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
			*c = '_';
	id = xasprintf("%s.%lld.%ld", node, (long long)time_now_ms(), (long)getpid());
	who = submitter(node, (long)getpid(), id);
	free(id);
	if (journal_open(&j, store_url(st), ws, who) < 0) {
		char *dir = journal_dir();

		snprintf(err, errlen, "cannot start the journal of the submit in '%s': %s", dir,
		    strerror(errno));
		free(dir);
		cJSON_Delete(who);
		goto done;
	}
	ph = cJSON_CreateObject();
	json_set_str(ph, "status", "allocating");
	json_set(ph, "submitter", cJSON_Duplicate(who, 1));
	line = json_line(ph, &len);
	cJSON_Delete(ph);
	json_set(job, "submitter", who);

	if ((n = name_alloc_hook(st, jobsdir, "job", "job.json", line, len, before_try, &h)) < 0) {
		snprintf(err, errlen, "cannot make a job: %s", store_error(st));
		goto out;
	}
	jname = xasprintf("job%ld", n);
	mpath = xasprintf("%s/%s/code.jsonl", jobsdir, jname);
	if (manifest) {
		struct sbuf m;

		sbuf_init(&m, (size_t)1 << 30);
		if (store_get(st, manifest, 0, -1, &m) < 0 || store_put(st, mpath, m.buf, m.len) < 0) {
			snprintf(err, errlen, "cannot copy the code snapshot: %s", store_error(st));
			sbuf_release(&m);
			goto out;
		}
		sbuf_release(&m);
	} else if (blob_put_tree(st, NULL, tree, mpath, NULL) < 0) {
		snprintf(err, errlen, "cannot store the code snapshot: %s", store_error(st));
		goto out;
	}
	/* runN for one run; a parent runN and children runN.1..k for several */
	h.key = "run";
	if ((n = name_alloc_hook(st, runsdir, "run", "run.json", line, len, before_try, &h)) < 0) {
		snprintf(err, errlen, "cannot make a run: %s", store_error(st));
		goto out;
	}
	names = cJSON_CreateArray();
	if (nr > 1) {
		pname = xasprintf("run%ld", n);
		parent = parent_record(job, runs->child, pname, nr);
		json_set_str(parent, "job", jname);
		if (defer)
			json_set(parent, "deferred", cJSON_CreateTrue());
	}
	cJSON_ArrayForEach(r, runs) {
		char *name = pname ? xasprintf("%s.%d", pname, ++k) : xasprintf("run%ld", n);

		json_set_str(r, "run", name);
		json_set_str(r, "job", jname);
		if (pname)
			json_set_str(r, "parent", pname);
		cJSON_AddItemToArray(names, cJSON_CreateString(name));
		free(name);
	}
	/*
	 * The records and the hidden queue entries, with one flush of the
	 * disk: on one disk it covers both, and the entries are then renamed
	 * into the queue without another
	 */
	synced = 0;
	if (spool) {
		queue_open(&q, NULL);
		qopen = 1;
		synced = store_dev(st, &dev) == 0 && dev == queue_dev(&q);
		queue_batch_begin(&q);
	}
	store_batch_begin(st);
	if (put_runs(st, spool ? &q : NULL, ws, jname, parent, runs, defer, err, errlen) < 0) {
		store_commit(st);
		goto out;
	}
	if (store_commit(st) < 0) {
		snprintf(err, errlen, "cannot store the runs: %s", store_error(st));
		goto out;
	}
	/* the commit: the job record, whole */
	json_set_str(job, "job", jname);
	json_set(job, "runs", names);
	names = NULL;
	if (pname)
		json_set_str(job, "parent_run", pname);
	free(line);
	line = json_line(job, &len);
	free(mpath);
	mpath = xasprintf("%s/%s/job.json", jobsdir, jname);
	if (store_put(st, mpath, line, len) < 0) {
		snprintf(err, errlen, "cannot store job '%s': %s", jname, store_error(st));
		goto out;
	}
	committed = 1;
	if ((rc = publish(st, &j, spool ? &q : NULL, t, job, parent, runs, synced, defer, lines,
	    err, errlen)) < 0) {
		size_t l = strlen(err);

		if (rc == -2)
			snprintf(err + l, errlen - l, " (job %s is stored, its runs failed)", jname);
		else if (spool)
			snprintf(err + l, errlen - l, " (job %s is stored: the next xt-runq or "
			    "xt-submit queues its runs)", jname);
		else
			snprintf(err + l, errlen - l, " (job %s is stored: the next xt-submit, or "
			    "xt-runq ls -t %s, hands its runs to %s)", jname, target_name(t),
			    target_where(t));
		goto out;
	}
	ret = 0;
out:
	if (qopen)
		queue_close(&q);
	if (ret < 0 && !committed) {
		/* what was stored goes, as a recovery would remove it */
		struct jstate s;
		char e2[1024];

		if (jstate_read(j.path, &s, e2, sizeof(e2)) == 0 && settle(&s, 1, e2, sizeof(e2)) == 0)
			committed = -1;
		jstate_release(&s);
	}
	/* settled, or committed and whole: the journal goes */
	journal_end(&j, ret == 0 || committed < 0);
done:
	cJSON_Delete(parent);
	cJSON_Delete(names);
	free(pname);
	free(line);
	free(mpath);
	free(jname);
	free(jobsdir);
	free(runsdir);
	return ret;
}

/* Remove the hidden journals of submitters that died while setting them up. */
static void
sweep_hidden(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	struct stat sb;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &sb) == 0 &&
	    time_now_ms() - (int64_t)sb.st_mtim.tv_sec * 1000 > JOURNAL_STALE_MS)
		unlink(p);
	if (fd >= 0)
		close(fd);
	free(p);
}

/*
 * The queue entries that a submitter (or a recovery) killed before its
 * commit wrote and never made visible go: nothing else would remove them.
 */
static void
drop_hidden(void)
{
	char *home = xt_home(), *dir = path_join(home, "spool");
	struct stat sb;
	struct queue q;

	/* no spool yet: nothing to drop, and nothing is made */
	if (stat(dir, &sb) == 0) {
		queue_open(&q, NULL);
		queue_drop_hidden(&q);
		queue_close(&q);
	}
	free(dir);
	free(home);
}

/* Journals that could not be settled, and when: tried again after JOURNAL_RETRY_MS */
#define JOURNAL_RETRY_MS 60000
static struct hmap failed;
static int failed_init;

int
job_recover_all(void)
{
	char *dir = journal_dir(), err[1024];
	struct dirent *de;
	int settled = 0;
	int64_t now = time_now_ms();
	DIR *d;

	drop_hidden();
	if (!(d = opendir(dir))) {
		free(dir);
		return 0;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct stat a, b;
		struct jstate s;
		char *p;
		int fd;

		if (l < 7 || strcmp(de->d_name + l - 6, ".jsonl"))
			continue;
		if (de->d_name[0] == '.') {
			sweep_hidden(dir, de->d_name);
			continue;
		}
		if (failed_init) {
			size_t *t = hmap_get(&failed, de->d_name, l);

			if (t && now - (int64_t)*t < JOURNAL_RETRY_MS)
				continue;
		}
		p = path_join(dir, de->d_name);
		/* a free lock: its submitter died; the same file: no other recovery removed it */
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 ||
		    fstat(fd, &a) < 0 || stat(p, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
			if (fd >= 0)
				close(fd);
			free(p);
			continue;
		}
		if (jstate_read(p, &s, err, sizeof(err)) < 0 || settle(&s, 0, err, sizeof(err)) < 0) {
			int isnew;

			/* said once a minute at most, by a caller that keeps calling (xt-runq -f) */
			warnx("cannot settle the interrupted submit '%s': %s", p, err);
			if (!failed_init) {
				hmap_init(&failed);
				failed_init = 1;
			}
			*hmap_put(&failed, de->d_name, l, 0, &isnew) = (size_t)now;
		} else {
			unlink(p);
			settled++;
		}
		jstate_release(&s);
		close(fd);
		free(p);
	}
	closedir(d);
	free(dir);
	return settled;
}

/* ---- checks of the command ---- */

/*
 * Where the relative path p lies in the snapshot: 1 a file (*mode set), 2
 * a folder, 0 not there ("./" parts and a trailing '/' are dropped; ".."
 * leaves the snapshot).
 */
static int
in_code(const struct tree *code, const char *p, mode_t *mode)
{
	struct sbuf sb;
	const char *s = p;
	size_t i, l;
	int where = 0;

	sbuf_init(&sb, (size_t)1 << 16);
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 2 && !strncmp(s, "..", 2)) {
			sbuf_release(&sb);
			return 0;
		}
		if (n && !(n == 1 && *s == '.')) {
			if (sb.len)
				sbuf_addc(&sb, '/');
			sbuf_add(&sb, s, n);
		}
		s += n + (e != NULL);
	}
	l = sb.len;
	for (i = 0; code && l && i < code->n && !where; i++) {
		const char *rel = code->files[i].rel;

		if (!strcmp(rel, sb.buf)) {
			where = 1;
			*mode = code->files[i].mode;
		} else if (!strncmp(rel, sb.buf, l) && rel[l] == '/') {
			where = 2;
		}
	}
	sbuf_release(&sb);
	return where;
}

static int
executable(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* Is name a program on $PATH? Else guess among $PATH's programs and the snapshot's. */
static int
on_path(const char *name, const struct tree *code, struct guess *g)
{
	const char *path = getenv("PATH"), *s;
	size_t i;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (s = path; ; ) {
		const char *e = strchr(s, ':');
		char *dir = e ? xstrndup(s, (size_t)(e - s)) : xstrdup(s), *full;
		int found;

		full = path_join(*dir ? dir : ".", name);
		found = executable(full);
		free(full);
		if (found) {
			free(dir);
			return 1;
		}
		if (g) {
			DIR *d = opendir(*dir ? dir : ".");
			struct dirent *de;

			while (d && (de = readdir(d)))
				if (de->d_name[0] != '.')
					guess_try(g, de->d_name, de->d_name);
			if (d)
				closedir(d);
		}
		free(dir);
		if (!e)
			break;
		s = e + 1;
	}
	for (i = 0; g && code && i < code->n; i++)
		if (code->files[i].mode & 0111) {
			char *shown = xasprintf("./%s", code->files[i].rel);

			guess_try(g, code->files[i].rel, shown);
			free(shown);
		}
	return 0;
}

/* Interpreters: how to find the script among their arguments. */
struct interp {
	const char *names;	/* " name name ... " */
	const char *stop;	/* option letters after which no script comes (-c CMD) */
	const char *value;	/* option letters taking a value, attached or the next argument */
	const char *attached;	/* option letters taking the rest of their argument only */
	const char *lstop;	/* long options after which no script comes */
	const char *lvalue;	/* long options taking the next argument (without '=') */
	int dash_ends;		/* a lone "-" ends the options (else it means stdin) */
};

static const struct interp interps[] = {
	{ " python pypy ", "cm", "WX", "", " --help --version ", " --check-hash-based-pycs ", 0 },
	{ " sh bash dash zsh ksh mksh ash ", "cs", "oO", "", " --help --version ",
	    " --rcfile --init-file ", 1 },
	{ " Rscript ", "e", "", "", " --help --version ", "", 0 },
	{ " julia ", "eE", "tpJCLH", "Og", " --eval --print --help --version ",
	    " --threads --procs --sysimage --cpu-target --load --machine-file --home ", 0 },
	{ " node nodejs ", "ep", "rC", "", " --eval --print --interactive --help --version ",
	    " --require --loader --import --experimental-loader --title --conditions ", 0 },
	{ " perl ", "eE", "", "IMmxlidDF0C", " --help --version ", "", 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0 }
};

/* " word " is in the list of words s (" a b c ") */
static int
listed(const char *s, const char *word, size_t n)
{
	for (const char *p = s; (p = strstr(p, " ")); p++)
		if (!strncmp(p + 1, word, n) && p[1 + n] == ' ')
			return 1;
	return 0;
}

/* The interpreter prog is (python3.11 and pypy3 are python), or NULL. */
static const struct interp *
interp_of(const char *prog)
{
	const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	size_t n = strlen(base);

	/* a version after the name: python3, python3.11, pypy3 */
	while (n > 0 && ((base[n - 1] >= '0' && base[n - 1] <= '9') || base[n - 1] == '.'))
		n--;
	for (const struct interp *in = interps; in->names; in++)
		if (n && listed(in->names, base, n))
			return in;
	return NULL;
}

/* The index in argv (a vector of n) of in's script, or -1 when it has none. */
static int
script_arg(const struct interp *in, const cJSON *argv, int n)
{
	int i = 1;

	for (; i < n; i++) {
		const char *a = cJSON_GetArrayItem(argv, i)->valuestring;
		size_t l = strlen(a);

		if (!strcmp(a, "--"))
			return i + 1 < n ? i + 1 : -1;
		if (!strcmp(a, "-"))
			return in->dash_ends && i + 1 < n ? i + 1 : -1;
		if (a[0] == '-' && a[1] == '-') {
			const char *eq = strchr(a, '=');
			size_t k = eq ? (size_t)(eq - a) : l;

			if (listed(in->lstop, a, k))
				return -1;
			if (!eq && listed(in->lvalue, a, k))
				i++;
			continue;
		}
		if (a[0] == '+' && in->dash_ends) {
			if (strchr("oO", a[l - 1]))
				i++;
			continue;
		}
		if (a[0] != '-')
			return i;
		/* a cluster of letters: -uB, -Wignore, -c CMD */
		for (const char *c = a + 1; *c; c++) {
			if (strchr(in->stop, *c))
				return -1;
			if (strchr(in->attached, *c))
				break;
			if (strchr(in->value, *c)) {
				if (!c[1])
					i++;
				break;
			}
		}
	}
	return -1;
}

/* A file path: it has a '/' or ends in an extension (train.py, data/x). */
static int
looks_like_path(const char *s)
{
	const char *dot = strrchr(s, '.');

	if (strchr(s, '/'))
		return 1;
	if (!dot || dot == s || !dot[1])
		return 0;
	for (dot++; *dot; dot++)
		if (!((*dot >= 'a' && *dot <= 'z') || (*dot >= 'A' && *dot <= 'Z') ||
		    (*dot >= '0' && *dot <= '9')))
			return 0;
	return 1;
}

/*
 * Guess among the snapshot's files (shown after "./" when dot is set); a
 * word without a '/' is also compared with the files' base names, so that
 * "train.py" finds "src/train.py".
 */
static void
guess_code(struct guess *g, const struct tree *code, int dot)
{
	for (size_t i = 0; code && i < code->n; i++) {
		const char *rel = code->files[i].rel, *base = strrchr(rel, '/');
		char *shown = xasprintf("%s%s", dot ? "./" : "", rel);

		guess_try(g, rel, shown);
		if (base && !strchr(g->word, '/'))
			guess_try(g, base + 1, shown);
		free(shown);
	}
}

int
job_check_command(const cJSON *argv, const struct tree *code, const char *codedir, char *err,
    size_t errlen)
{
	int n = cJSON_GetArraySize(argv), k, where;
	const char *prog, *script;
	const struct interp *in;
	struct guess g;
	mode_t mode = 0;

	for (k = 0; k < n; k++)
		if (!cJSON_IsString(cJSON_GetArrayItem(argv, k)))
			return 0;
	if (n == 0)
		return 0;
	prog = cJSON_GetArrayItem(argv, 0)->valuestring;
	guess_init(&g, prog);
	if (prog[0] == '/') {
		if (!executable(prog)) {
			snprintf(err, errlen, "program '%s' %s", prog, access(prog, F_OK) == 0 ?
			    "is not an executable file" : "does not exist");
			return -1;
		}
	} else if (strchr(prog, '/')) {
		if ((where = in_code(code, prog, &mode)) != 1 || !(mode & 0111)) {
			snprintf(err, errlen, "program '%s' %s the code folder '%s'", prog,
			    where == 1 ? "is not executable in" : where == 2 ? "is a folder of" :
			    "is not in", codedir);
			if (where == 0) {
				const char *p = prog;

				while (!strncmp(p, "./", 2))
					p += 2;
				guess_init(&g, p);
				guess_code(&g, code, p != prog);
				guess_end(&g, err, errlen);
			}
			return -1;
		}
	} else if (!on_path(prog, NULL, NULL)) {
		snprintf(err, errlen, "program '%s' is not on PATH", prog);
		on_path(prog, code, &g);
		guess_end(&g, err, errlen);
		return -1;
	}
	if (!(in = interp_of(prog)) || (k = script_arg(in, argv, n)) < 0)
		return 0;
	script = cJSON_GetArrayItem(argv, k)->valuestring;
	if (!looks_like_path(script))
		return 0;
	if (script[0] == '/') {
		if (access(script, F_OK) == 0)
			return 0;
		snprintf(err, errlen, "script '%s' of '%s' does not exist", script, prog);
		return -1;
	}
	if (in_code(code, script, &mode))
		return 0;
	snprintf(err, errlen, "script '%s' of '%s' is not in the code folder '%s'", script, prog,
	    codedir);
	guess_init(&g, script);
	guess_code(&g, code, 0);
	guess_end(&g, err, errlen);
	return -1;
}

int
job_check_hparams(const cJSON *argv, const char *prefix, const cJSON *names, char *err,
    size_t errlen)
{
	size_t pl = prefix ? strlen(prefix) : 0;
	const cJSON *a, *h;

	if (!pl)
		return 0;
	/* argv[0] is the program, not an argument */
	for (a = argv && argv->child ? argv->child->next : NULL; a; a = a->next) {
		const char *s = cJSON_IsString(a) ? a->valuestring : "";

		if (strncmp(s, prefix, pl))
			continue;
		cJSON_ArrayForEach(h, names) {
			size_t hl = cJSON_IsString(h) ? strlen(h->valuestring) : 0;

			if (!hl || strncmp(s + pl, h->valuestring, hl) || (s[pl + hl] &&
			    s[pl + hl] != '='))
				continue;
			snprintf(err, errlen, "hparam '%s' is swept and also given on the command "
			    "('%s%s%s'): give it in one place", h->valuestring, s,
			    !s[pl + hl] && a->next && cJSON_IsString(a->next) ? " " : "",
			    !s[pl + hl] && a->next && cJSON_IsString(a->next) ?
			    a->next->valuestring : "");
			return -1;
		}
	}
	return 0;
}
