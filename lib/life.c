/* life.c: see life.h. */
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "json.h"
#include "life.h"
#include "run.h"
#include "banned.h"

int
life_open(struct life *l, struct store *st, const char *ws, const char *run)
{
	const char *job;
	int rc;

	memset(l, 0, sizeof(*l));
	l->st = st;
	l->ws = xstrdup(ws);
	l->run = xstrdup(run);
	if (!(l->rec = run_load_ver(st, ws, run, &rc, l->ver)))
		return rc;
	/*
	 * A deferred record (run.h), read from its plan, has no version: it is
	 * made now, so that its first events come before all an opener logs
	 */
	if (!l->ver[0]) {
		cJSON_Delete(l->rec);
		l->rec = NULL;
		if ((rc = run_make(st, ws, run)) < 0 ||
		    !(l->rec = run_load_ver(st, ws, run, &rc, l->ver)))
			return rc;
	}
	l->base = cJSON_Duplicate(l->rec, 1);
	if ((job = json_str(l->rec, "job")))
		l->job = run_job_get(st, ws, job);
	return 0;
}

void
life_release(struct life *l)
{
	cJSON_Delete(l->rec);
	cJSON_Delete(l->base);
	run_job_put(l->job);
	free(l->ws);
	free(l->run);
	memset(l, 0, sizeof(*l));
}

struct merge {
	const cJSON *base, *mine;
};

static int
merge_fn(cJSON *rec, void *arg)
{
	struct merge *m = arg;

	run_merge(rec, m->base, m->mine);
	return 0;
}

/*
 * Put mine's changes since base into the stored record: the saved record,
 * or NULL. ver: base's version, when it is the record as read ("": not).
 */
static cJSON *
save_merged(struct store *st, const char *ws, const char *run, const cJSON *base,
    const cJSON *mine, int flags, const char *ver, int *rc)
{
	struct merge m = { base, mine };
	cJSON *out = NULL;

	*rc = run_update_from(st, ws, run, flags, merge_fn, &m, &out, base, ver);
	return out;
}

int
life_save(struct life *l, int flags)
{
	cJSON *out;
	int rc;

	if (!(out = save_merged(l->st, l->ws, l->run, l->base, l->rec, flags, l->ver, &rc)))
		return rc;
	/* what was saved is others' changes merged: its version is not known here */
	l->ver[0] = '\0';
	cJSON_Delete(l->base);
	cJSON_Delete(l->rec);
	l->base = out;
	l->rec = cJSON_Duplicate(out, 1);
	return 0;
}

void
life_set_code(cJSON *o, const char *key, int code)
{
	if (code >= 0)
		json_set_num(o, key, code);
	else
		json_set(o, key, cJSON_CreateNull());
}

static void
del(cJSON *o, const char *key)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
}

void
life_begin(struct life *l, const char *node)
{
	char t[32];
	cJSON *rec;

	rec = l->rec;
	json_set_str(rec, "status", "running");
	time_iso(time_now_ms(), t, sizeof(t));
	json_set_str(rec, "started", t);
	json_set_str(rec, "node", node);
	/* a record from before "given_hparams", starting: nothing is logged yet */
	if (json_num(rec, "attempt", 0) == 0 &&
	    !cJSON_GetObjectItemCaseSensitive(rec, "given_hparams") &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "hparams")))
		json_set(rec, "given_hparams",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "hparams"), 1));
	json_set_num(rec, "attempt", json_num(rec, "attempt", 0) + 1);
	del(rec, "ended");
	del(rec, "duration");
	del(rec, "exit_code");
	del(rec, "error");
	del(rec, "pid");
	del(rec, "unstarted");
}

int
life_start(struct life *l, long pid, int how)
{
	cJSON *d = cJSON_CreateObject();
	int rc = 0, erc;

	if (pid > 0)
		json_set_num(l->rec, "pid", (double)pid);
	json_set_num(d, "attempt", json_num(l->rec, "attempt", 1));
	run_start_parent(l->st, l->ws, l->rec);
	if (how == LIFE_SAVE)
		rc = life_save(l, RUN_INDEX);
	erc = run_event(l->st, l->ws, l->run, "started", -1, d);
	return rc < 0 ? rc : erc;
}

/*
 * The end of l as status, its record's other fields set: the record, the
 * "ended" event (attempt and reason when there is a reason), the parent's
 * count. LIFE_ENDED or a negative STORE_E* code.
 */
static int
end_record(struct life *l, const char *status, int code, const char *reason, int64_t t0,
    int64_t t1)
{
	cJSON *d = cJSON_CreateObject();
	int rc, erc;

	json_set_str(d, "status", status);	/* first in the event, as in every "ended" */
	life_set_code(d, "exit_code", code);
	if (t0)
		json_set_num(d, "duration", (t1 - t0) / 1000.0);
	if (reason) {
		json_set_num(d, "attempt", json_num(l->rec, "attempt", 1));
		json_set_str(d, "reason", reason);
	}
	json_set_str(l->rec, "status", status);
	rc = life_save(l, RUN_INDEX);
	erc = run_event(l->st, l->ws, l->run, "ended", -1, d);
	/* the parent counts what was saved */
	run_settle_parent(l->st, l->ws, l->rec);
	return rc < 0 ? rc : erc < 0 ? erc : LIFE_ENDED;
}

int
life_end(struct life *l, const char *status, int code, const char *error,
    const char *reason, int64_t t0, int64_t t1)
{
	cJSON *rec, *d;
	int attempt, retries, base, rc, erc;
	char t[32];

	rec = l->rec;
	attempt = (int)json_num(rec, "attempt", 1);
	base = (int)json_num(rec, "retry_base", 0);
	retries = (int)json_num(l->job, "retries", 0);
	if (!t1)
		t1 = time_now_ms();
	time_iso(t1, t, sizeof(t));
	json_set_str(rec, "ended", t);
	if (t0)
		json_set_num(rec, "duration", (t1 - t0) / 1000.0);
	life_set_code(rec, "exit_code", code);
	if (error)
		json_set_str(rec, "error", error);
	del(rec, "pid");
	/* requeued by its scheduler (a preemption), which runs it again: queued,
	 * as a retry that its retries do not count */
	if (!strcmp(status, "requeued")) {
		json_set_num(rec, "retry_base", ++base);
		status = "failed";
	}
	if (!strcmp(status, "failed") && attempt - base <= retries) {
		d = cJSON_CreateObject();
		json_set_num(d, "attempt", attempt);
		life_set_code(d, "exit_code", code);
		if (reason)
			json_set_str(d, "reason", reason);
		/* what failed the attempt, when more than its exit code says */
		if (error && !reason)
			json_set_str(d, "error", error);
		json_set_str(rec, "status", "queued");
		del(rec, "ended");
		del(rec, "duration");
		erc = run_event(l->st, l->ws, l->run, "retry", -1, d);
		rc = life_save(l, RUN_INDEX | RUN_RETRY);
		return rc < 0 ? rc : erc < 0 ? erc : LIFE_RETRY;
	}
	return end_record(l, status, code, reason, t0, t1);
}

/* 1 when the last line of the run's log is its "ended" event. */
static int
log_ended(struct store *st, const char *ws, const char *run)
{
	char *p = run_path(ws, run, "log.jsonl");
	struct store_stat sst;
	struct sbuf sb;
	int ended = 0;

	sbuf_init(&sb, 1 << 16);
	if (store_stat(st, p, &sst) == 0 && store_get(st, p, sst.size > 4096 ? sst.size - 4096 : 0,
	    4096, &sb) == 0 && sb.len > 1) {
		const char *end = sb.buf + sb.len - 1, *l = end;
		cJSON *o;

		while (l > sb.buf && l[-1] != '\n')
			l--;
		o = cJSON_ParseWithLength(l, (size_t)(end - l));
		ended = json_str(o, "event") && !strcmp(json_str(o, "event"), "ended");
		cJSON_Delete(o);
	}
	sbuf_release(&sb);
	free(p);
	return ended;
}

/*
 * A run whose record has its end but whose recorder died before it was
 * all recorded: append the record to the index if its latest line there
 * is not the end, log "ended", and count it in its parent (each of these
 * once, however often it is recovered).
 */
static int
end_again(struct store *st, const char *ws, const char *run, const cJSON *rec)
{
	char last[32];
	int rc = 0;

	if (!log_ended(st, ws, run)) {
		cJSON *d = cJSON_CreateObject();
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(rec, "exit_code");

		if ((rc = index_last_status(st, ws, run, run_rev(rec), last, sizeof(last))) == 0 &&
		    !run_status_final(last)) {
			size_t len;
			char *line = json_line(rec, &len);

			rc = index_append(st, ws, line, len);
			free(line);
		}
		json_set_str(d, "status", json_str(rec, "status"));
		json_set(d, "exit_code", code ? cJSON_Duplicate(code, 1) : cJSON_CreateNull());
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec, "duration")))
			json_set_num(d, "duration", json_num(rec, "duration", 0));
		if (rc == 0)
			rc = run_event(st, ws, run, "ended", -1, d);
		else
			cJSON_Delete(d);
	}
	if (rc == 0)
		run_settle_parent(st, ws, rec);
	return rc;
}

int
life_lost(struct store *st, const char *ws, const char *run, const char *why)
{
	struct life l;
	const char *status;
	char *error;
	int rc;

	if ((rc = life_open(&l, st, ws, run)) < 0) {
		life_release(&l);
		return rc;
	}
	status = json_str(l.rec, "status");
	if (run_status_final(status)) {
		rc = end_again(st, ws, run, l.rec);
	} else if (status && !strcmp(status, "queued")) {
		rc = 1;
	} else {
		error = xasprintf("lost: %s", why);
		rc = life_end(&l, "failed", -1, error, why, 0, 0);
		free(error);
	}
	life_release(&l);
	return rc;
}

/* A queued run failed without an attempt: error "KIND: reason", no retry. 0 or a STORE_E* code. */
static int
fail_queued(struct life *l, const char *kind, const char *reason)
{
	char t[32], *error = xasprintf("%s: %s", kind, reason);
	int64_t now = time_now_ms();
	int rc;

	time_iso(now, t, sizeof(t));
	json_set_str(l->rec, "ended", t);
	json_set_str(l->rec, "error", error);
	life_set_code(l->rec, "exit_code", -1);
	rc = end_record(l, "failed", -1, reason, 0, now);
	free(error);
	return rc < 0 ? rc : 0;
}

int
life_unstarted(struct store *st, const char *ws, const char *run, const char *why, int max)
{
	struct life l;
	const char *status;
	int rc, n;

	if ((rc = life_open(&l, st, ws, run)) < 0) {
		life_release(&l);
		return rc;
	}
	status = json_str(l.rec, "status");
	n = (int)json_num(l.rec, "unstarted", 0) + 1;
	if (!status || strcmp(status, "queued") != 0) {
		rc = 0;		/* started or ended since: nothing to send */
	} else if (n < max) {
		json_set_num(l.rec, "unstarted", n);
		rc = life_save(&l, 0);
		rc = rc < 0 ? rc : 1;
	} else {
		char *reason = xasprintf("%s, %d times before the run started", why, n);

		json_set_num(l.rec, "unstarted", n);
		rc = fail_queued(&l, "lost", reason);
		free(reason);
	}
	life_release(&l);
	return rc;
}

int
life_refused(struct store *st, const char *ws, const char *run, const char *why)
{
	struct life l;
	const char *status;
	int rc;

	if ((rc = life_open(&l, st, ws, run)) < 0) {
		life_release(&l);
		return rc;
	}
	status = json_str(l.rec, "status");
	rc = status && !strcmp(status, "queued") ? fail_queued(&l, "refused", why) : 1;
	life_release(&l);
	return rc;
}

struct cancel {
	const char *ended;
	int did;
};

static int
cancel_fn(cJSON *rec, void *arg)
{
	struct cancel *c = arg;
	const char *s = json_str(rec, "status");

	c->did = 0;
	if (!s || strcmp(s, "queued") != 0)
		return 1;
	c->did = 1;
	json_set_str(rec, "status", "cancelled");
	json_set_str(rec, "ended", c->ended);
	return 0;
}

int
life_cancel(struct store *st, const char *ws, const char *run, const char *reason)
{
	char t[32];
	struct cancel c = { t, 0 };
	cJSON *rec = NULL, *d;
	int rc;

	time_iso(time_now_ms(), t, sizeof(t));
	if ((rc = run_update(st, ws, run, RUN_INDEX, cancel_fn, &c, &rec)) < 0)
		return rc;
	if (!c.did) {
		cJSON_Delete(rec);
		return 1;
	}
	d = cJSON_CreateObject();
	if (reason)
		json_set_str(d, "reason", reason);
	rc = run_event(st, ws, run, "cancelled", -1, d);
	d = cJSON_CreateObject();
	json_set_str(d, "status", "cancelled");
	if (run_event(st, ws, run, "ended", -1, d) < 0 && rc == 0)
		rc = STORE_ERR;
	run_settle_parent(st, ws, rec);
	cJSON_Delete(rec);
	return rc;
}

struct requeue {
	struct store *st;
	const char *run;
	char from[32];
	int already;
};

static int
requeue_fn(cJSON *rec, void *arg)
{
	struct requeue *r = arg;
	const char *s = json_str(rec, "status");

	snprintf(r->from, sizeof(r->from), "%s", s ? s : "");
	r->already = s && !strcmp(s, "queued");
	if (r->already)
		return 1;
	if (!s || (strcmp(s, "cancelled") && strcmp(s, "failed")))
		return store_fail(r->st, STORE_EINVAL, "run '%s' is %s: only cancelled or failed "
		    "runs can be requeued", r->run, s ? s : "without a status");
	json_set_str(rec, "status", "queued");
	json_set_num(rec, "retry_base", json_num(rec, "attempt", 0));
	del(rec, "ended");
	del(rec, "duration");
	del(rec, "exit_code");
	del(rec, "error");
	del(rec, "pid");
	return 0;
}

/* The parent of a requeued run waits for it again. */
static int
parent_requeue_fn(cJSON *rec, void *arg)
{
	int *did = arg;

	*did = run_status_final(json_str(rec, "status"));
	if (!*did)
		return 1;
	json_set_str(rec, "status", "queued");
	del(rec, "ended");
	del(rec, "started");
	return 0;
}

/* Tell run's parent (if it has one) that run waits again. */
static void
requeue_parent(struct store *st, const char *ws, const char *run, const cJSON *rec)
{
	const char *parent = json_str(rec, "parent");
	char line[65], *p;
	int did = 0;

	if (!parent)
		return;
	/* ended.txt: the child's last line says it has not ended */
	snprintf(line, sizeof(line), "%-63s", run);
	memcpy(line + strlen(run), " requeued", 9);
	line[63] = '\n';
	p = run_path(ws, parent, "ended.txt");
	store_append(st, p, line, 64);
	free(p);
	if (run_update(st, ws, parent, RUN_INDEX | RUN_REQUEUE, parent_requeue_fn, &did,
	    NULL) == 0 && did) {
		cJSON *d = cJSON_CreateObject();

		/* it ends again when its children have, and starts with the first of them */
		p = run_path(ws, parent, "settled");
		store_delete(st, p);
		free(p);
		p = run_path(ws, parent, "started");
		store_delete(st, p);
		free(p);
		json_set_str(d, "child", run);
		run_event(st, ws, parent, "requeued", -1, d);
	}
}

int
life_requeue(struct store *st, const char *ws, const char *run)
{
	struct requeue r = { st, run, "", 0 };
	cJSON *rec = NULL, *d;
	int rc;

	if ((rc = run_update(st, ws, run, RUN_INDEX | RUN_REQUEUE, requeue_fn, &r, &rec)) < 0)
		return rc;
	if (r.already) {
		cJSON_Delete(rec);
		return 1;
	}
	d = cJSON_CreateObject();
	json_set_str(d, "from", r.from);
	json_set_num(d, "attempt", json_num(rec, "attempt", 0));
	rc = run_event(st, ws, run, "requeued", -1, d);
	requeue_parent(st, ws, run, rec);
	cJSON_Delete(rec);
	return rc;
}
