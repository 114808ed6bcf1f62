/* run.c: see run.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "index.h"
#include "json.h"
#include "name.h"
#include "run.h"
#include "xtlog.h"
#include "banned.h"

char *
run_path(const char *ws, const char *run, const char *file)
{
	return xasprintf("ws/%s/runs/%s/%s", ws, run, file);
}

char *
run_index_path(const char *ws)
{
	return xasprintf("ws/%s/index/runs.jsonl", ws);
}

char *
run_plan_path(const char *ws, const char *job)
{
	return xasprintf("ws/%s/jobs/%s/plan.jsonl", ws, job);
}

/*
 * The plan read last: its store and path, its bytes and where each line
 * starts. A plan is put once, whole, by its submit, and never changed, so
 * the process keeps it rather than read it again for each run of its job.
 */
static struct {
	char *key;		/* store URL, '\n', path */
	struct sbuf text;
	size_t *line, n;
	/* the parent looked up last (store URL, ws, name) and its job when deferred, else "" */
	char *parent, *job;
} plancache;

/* Line k (from 1) of the plan at path, parsed, or NULL (none). rc: a STORE_E* code on error. */
static cJSON *
plan_line(struct store *st, const char *path, long k, int *rc)
{
	char *key = xasprintf("%s\n%s", store_url(st), path);
	const char *b, *nl;
	size_t n;

	*rc = 0;
	if (!plancache.key || strcmp(plancache.key, key)) {
		free(plancache.key);
		plancache.key = NULL;
		free(plancache.line);
		plancache.line = NULL;
		plancache.n = 0;
		sbuf_release(&plancache.text);
		sbuf_init(&plancache.text, (size_t)1 << 30);
		if ((*rc = store_get(st, path, 0, -1, &plancache.text)) < 0) {
			free(key);
			return NULL;
		}
		n = 0;
		for (b = plancache.text.buf; (size_t)(b - plancache.text.buf) < plancache.text.len; b++)
			n += *b == '\n';
		plancache.line = xcalloc(n + 1, sizeof(*plancache.line));
		for (b = plancache.text.buf; b < plancache.text.buf + plancache.text.len; b = nl + 1) {
			if (!(nl = memchr(b, '\n', plancache.text.buf + plancache.text.len - b)))
				break;
			plancache.line[plancache.n++] = (size_t)(b - plancache.text.buf);
		}
		plancache.key = key;
	} else {
		free(key);
	}
	if (k < 1 || (size_t)k > plancache.n)
		return NULL;
	b = plancache.text.buf + plancache.line[k - 1];
	nl = memchr(b, '\n', plancache.text.buf + plancache.text.len - b);
	return cJSON_ParseWithLength(b, (size_t)(nl - b));
}

/*
 * The record of run, a child "P.K" whose job deferred its record, as its
 * job's plan holds it (line K of the plan of P's job), or NULL: rc
 * STORE_ENOENT when there is none (the run does not exist), another
 * STORE_E* code on error.
 */
static cJSON *
planned(struct store *st, const char *ws, const char *run, int *rc)
{
	const char *dot = strrchr(run, '.');
	char *pname, *path, *end;
	cJSON *prec, *rec;
	long k;

	*rc = STORE_ENOENT;
	if (!dot || dot == run || dot[1] < '1' || dot[1] > '9')
		return NULL;
	k = strtol(dot + 1, &end, 10);
	if (*end)
		return NULL;
	/* a parent's job, and whether it deferred its children, never change: kept */
	pname = xasprintf("%s\n%s\n%.*s", store_url(st), ws, (int)(dot - run), run);
	if (!plancache.parent || strcmp(plancache.parent, pname)) {
		char *n = xstrndup(run, (size_t)(dot - run));

		prec = run_load_ver(st, ws, n, rc, NULL);
		free(n);
		if (!prec) {
			free(pname);
			return NULL;
		}
		free(plancache.parent);
		free(plancache.job);
		plancache.parent = pname;
		pname = NULL;
		plancache.job = xstrdup(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(prec,
		    "deferred")) && json_str(prec, "job") ? json_str(prec, "job") : "");
		cJSON_Delete(prec);
	}
	free(pname);
	*rc = STORE_ENOENT;
	if (!*plancache.job)
		return NULL;
	path = run_plan_path(ws, plancache.job);
	if (!(rec = plan_line(st, path, k, rc)) && *rc == 0)
		*rc = STORE_ENOENT;
	free(path);
	/* a line of another run, or of another job: none */
	if (rec && (!json_str(rec, "run") || strcmp(json_str(rec, "run"), run) ||
	    !json_str(rec, "job") || strcmp(json_str(rec, "job"), plancache.job))) {
		cJSON_Delete(rec);
		rec = NULL;
		*rc = STORE_ENOENT;
	}
	return rec;
}

/*
 * Give run, whose job deferred its record, its own record, as its plan
 * holds it, with its "created" and "queued" events (at the time it was
 * created) when this call makes it. 1 when the record is there now (made
 * here or by another meanwhile), 0 when no plan holds the run, or a
 * STORE_E* code.
 */
static int
materialize(struct store *st, const char *ws, const char *run)
{
	cJSON *rec;
	char *line, *p;
	size_t len;
	int64_t ms;
	int rc;

	if (!(rec = planned(st, ws, run, &rc)))
		return rc == STORE_ENOENT ? 0 : rc;
	line = json_line(rec, &len);
	p = run_path(ws, run, "run.json");
	rc = store_create(st, p, line, len);
	free(line);
	free(p);
	if (rc == 0) {
		if (!json_str(rec, "created") || time_parse_iso(json_str(rec, "created"), &ms) < 0)
			ms = time_now_ms();
		line = run_new_events(ms, &len);
		p = run_path(ws, run, "log.jsonl");
		/* the record is made: an event lost here leaves a log without them, nothing worse */
		store_append(st, p, line, len);
		free(p);
		free(line);
	}
	cJSON_Delete(rec);
	return rc == 0 || rc == STORE_EXIST ? 1 : rc;
}

int
run_make(struct store *st, const char *ws, const char *run)
{
	char *p = run_path(ws, run, "run.json");
	struct store_stat sst;
	int rc = store_stat(st, p, &sst);

	free(p);
	if (rc == STORE_ENOENT && (rc = materialize(st, ws, run)) >= 0)
		rc = rc ? 0 : store_fail(st, STORE_ENOENT, "no run '%s' in workspace '%s'", run, ws);
	return rc;
}

cJSON *
run_load(struct store *st, const char *ws, const char *run, int *rcp)
{
	return run_load_ver(st, ws, run, rcp, NULL);
}

cJSON *
run_load_ver(struct store *st, const char *ws, const char *run, int *rcp, char ver[STORE_VER_MAX])
{
	char *p = run_path(ws, run, "run.json");
	struct sbuf sb;
	cJSON *rec = NULL;
	int rc;

	sbuf_init(&sb, (size_t)16 << 20);
	rc = ver ? store_get_ver(st, p, &sb, ver) : store_get(st, p, 0, -1, &sb);
	if (rc == STORE_OK) {
		rec = cJSON_ParseWithLength(sb.buf, sb.len);
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			rec = NULL;
			rc = store_fail(st, STORE_ECORRUPT, "'%s' is not a JSON object", p);
		}
	} else if (rc == STORE_ENOENT && (rec = planned(st, ws, run, &rc))) {
		/* a run whose job deferred its record: the plan's, never stored yet */
		if (ver)
			ver[0] = '\0';
	} else if (rc == STORE_ENOENT) {
		store_fail(st, rc, "no run '%s' in workspace '%s'", run, ws);
	}
	if (rcp)
		*rcp = rc;
	sbuf_release(&sb);
	free(p);
	return rec;
}

cJSON *
run_job_load(struct store *st, const char *ws, const char *job)
{
	char *p = xasprintf("ws/%s/jobs/%s/job.json", ws, job);
	struct sbuf sb;
	cJSON *j = NULL;

	sbuf_init(&sb, (size_t)16 << 20);
	if (store_get(st, p, 0, -1, &sb) == 0)
		j = cJSON_ParseWithLength(sb.buf, sb.len);
	sbuf_release(&sb);
	free(p);
	return j;
}

/*
 * run_job_get's cache: the bytes of the job record it read last and their
 * parse, and whether that is lent out now.
 */
static struct {
	char *text;
	size_t len;
	cJSON *job;
	int lent;
} jobcache;

const cJSON *
run_job_get(struct store *st, const char *ws, const char *job)
{
	char *p = xasprintf("ws/%s/jobs/%s/job.json", ws, job);
	struct sbuf sb;
	cJSON *j = NULL;

	sbuf_init(&sb, (size_t)16 << 20);
	if (store_get(st, p, 0, -1, &sb) < 0) {
		/* none */
	} else if (!jobcache.lent && jobcache.job && sb.len == jobcache.len &&
	    !memcmp(sb.buf, jobcache.text, sb.len)) {
		j = jobcache.job;
		jobcache.lent = 1;
	} else if ((j = cJSON_ParseWithLength(sb.buf, sb.len)) && !jobcache.lent) {
		cJSON_Delete(jobcache.job);
		free(jobcache.text);
		jobcache.text = sbuf_detach(&sb, &jobcache.len);
		jobcache.job = j;
		jobcache.lent = 1;
	}
	sbuf_release(&sb);
	free(p);
	return j;
}

void
run_job_put(const cJSON *job)
{
	if (job && job == jobcache.job)
		jobcache.lent = 0;
	else
		cJSON_Delete((cJSON *)job);
}

/* Put a new record's run.json; with index, append its line to the index too. */
static int
save_new(struct store *st, const cJSON *rec, int index)
{
	const char *ws = json_str(rec, "ws"), *run = json_str(rec, "run");
	char *line, *p;
	size_t len;
	int rc;

	if (!ws || !run)
		return store_fail(st, STORE_EINVAL, "a run record needs \"ws\" and \"run\"");
	line = json_line(rec, &len);
	p = run_path(ws, run, "run.json");
	rc = store_put(st, p, line, len);
	if (rc == 0 && index)
		rc = index_append(st, ws, line, len);	/* safe against a compaction */
	free(p);
	free(line);
	return rc;
}

int
run_save(struct store *st, const cJSON *rec)
{
	return save_new(st, rec, 1);
}

int
run_put_new(struct store *st, const cJSON *rec)
{
	return save_new(st, rec, 0);
}

int
run_status_move_ok(const char *from, const char *to, int flags)
{
	if (!from || !to || !strcmp(from, to))
		return 1;
	if (run_status_final(from))
		return (flags & RUN_REQUEUE) && !strcmp(to, "queued");
	if (!strcmp(from, "running") && !strcmp(to, "queued"))
		return (flags & RUN_RETRY) != 0;
	return 1;
}

int64_t
run_rev_value(double v)
{
	return v >= 1 && v <= (double)RUN_REV_MAX ? (int64_t)v : 0;
}

int64_t
run_rev(const cJSON *rec)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(rec, "rev");

	return cJSON_IsNumber(r) ? run_rev_value(r->valuedouble) : 0;
}

#define UPDATE_TRIES 1000

int
run_update(struct store *st, const char *ws, const char *run, int flags,
    int (*fn)(cJSON *rec, void *arg), void *arg, cJSON **out)
{
	return run_update_from(st, ws, run, flags, fn, arg, out, NULL, "");
}

int
run_update_from(struct store *st, const char *ws, const char *run, int flags,
    int (*fn)(cJSON *rec, void *arg), void *arg, cJSON **out, const cJSON *known,
    const char *known_ver)
{
	char *p = run_path(ws, run, "run.json"), ver[STORE_VER_MAX], *line;
	struct sbuf sb;
	cJSON *rec = NULL;
	size_t len;
	int64_t rev;
	int rc = STORE_ECONFLICT, tries, made = 0;

	sbuf_init(&sb, (size_t)16 << 20);
	for (tries = 0; tries < UPDATE_TRIES && rc == STORE_ECONFLICT; tries++) {
		char from[32];
		int as_known = tries == 0 && known && *known_ver;

		cJSON_Delete(rec);
		rec = NULL;
		if (as_known) {
			/* as the caller read it: the put finds out if it is still so */
			snprintf(ver, sizeof(ver), "%s", known_ver);
			rec = cJSON_Duplicate(known, 1);
		} else if ((rc = store_get_ver(st, p, &sb, ver)) < 0) {
			/* a run whose job deferred its record gets it, then is read again */
			if (rc == STORE_ENOENT && !made && (rc = materialize(st, ws, run)) > 0) {
				made = 1;
				rc = STORE_ECONFLICT;
				continue;
			}
			if (rc == STORE_ENOENT || rc == 0)
				rc = store_fail(st, STORE_ENOENT, "no run '%s' in workspace '%s'", run,
				    ws);
			break;
		} else {
			rec = cJSON_ParseWithLength(sb.buf, sb.len);
		}
		if (!cJSON_IsObject(rec)) {
			rc = store_fail(st, STORE_ECORRUPT, "'%s' is not a JSON object", p);
			break;
		}
		snprintf(from, sizeof(from), "%s", json_str(rec, "status") ? json_str(rec, "status")
		    : "");
		rev = run_rev(rec);
		rc = fn(rec, arg);
		/* only a put is decided on the caller's copy: anything else on the record as it is */
		if (as_known && (rc != 0 || !run_status_move_ok(from, json_str(rec, "status"), flags))) {
			rc = STORE_ECONFLICT;
			continue;
		}
		if (rc != 0)
			break;
		if (!run_status_move_ok(from, json_str(rec, "status"), flags)) {
			rc = store_fail(st, STORE_ECONFLICT, "run '%s' is %s: it cannot become %s", run,
			    from, json_str(rec, "status"));
			break;
		}
		/* one more than the record read: the put_if below makes it the only one */
		json_set_num(rec, "rev", (double)(rev + 1));
		line = json_line(rec, &len);
		rc = store_put_if(st, p, line, len, ver);
		if (rc == 0 && (flags & RUN_INDEX))
			rc = index_append(st, ws, line, len);
		free(line);
	}
	if (rc > 0)
		rc = 0;
	if (out && rc == 0)
		*out = rec;
	else
		cJSON_Delete(rec);
	if (out && rc < 0)
		*out = NULL;
	sbuf_release(&sb);
	free(p);
	return rc;
}

/* Are a and b the same value? */
static int
same(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return a == b;
	return cJSON_Compare(a, b, 1);
}

void
run_merge(cJSON *theirs, const cJSON *base, const cJSON *mine)
{
	const cJSON *it;

	/* what mine set or changed */
	cJSON_ArrayForEach(it, mine) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(base, it->string);
		cJSON *t = cJSON_GetObjectItemCaseSensitive(theirs, it->string);

		if (same(b, it))
			continue;
		if (cJSON_IsObject(it) && cJSON_IsObject(b) && cJSON_IsObject(t))
			run_merge(t, b, it);
		else
			json_set(theirs, it->string, cJSON_Duplicate(it, 1));
	}
	/* what mine removed */
	cJSON_ArrayForEach(it, base)
		if (!cJSON_GetObjectItemCaseSensitive(mine, it->string))
			cJSON_DeleteItemFromObjectCaseSensitive(theirs, it->string);
}

/* run_event_line at ms */
static char *
event_line_at(int64_t ms, const char *event, long step, cJSON *data, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	char t[32], *line;

	time_iso(ms, t, sizeof(t));
	json_set_str(o, "time", t);
	json_set_str(o, "event", event);
	if (step >= 0)
		json_set_num(o, "step", (double)step);
	if (data)
		json_set(o, "data", data);
	line = json_line(o, len);
	cJSON_Delete(o);
	return line;
}

char *
run_event_line(const char *event, long step, cJSON *data, size_t *len)
{
	return event_line_at(time_now_ms(), event, step, data, len);
}

char *
run_new_events(int64_t ms, size_t *len)
{
	size_t n1, n2;
	char *l1 = event_line_at(ms, "created", -1, NULL, &n1);
	char *l2 = event_line_at(ms, "queued", -1, NULL, &n2);

	l1 = xrealloc(l1, n1 + n2 + 1);
	memcpy(l1 + n1, l2, n2 + 1);
	free(l2);
	*len = n1 + n2;
	return l1;
}

int
run_event(struct store *st, const char *ws, const char *run, const char *event, long step,
    cJSON *data)
{
	size_t len;
	char *line = run_event_line(event, step, data, &len), *p = run_path(ws, run, "log.jsonl");
	int rc = store_append(st, p, line, len);

	free(p);
	free(line);
	return rc;
}

cJSON *
run_check_line(const char *text, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *o, *step, *data;
	const char *ev;
	char why[256], t[32], *clean = NULL;
	size_t n;

	/* NaN and Infinity (as Python writes them), stray bytes: made valid JSON */
	if (xtlog_clean(text, len, &clean, &n) < 0)
		die("out of memory");
	if (clean) {
		text = clean;
		len = n;
	}
	o = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!o) {
		snprintf(err, errlen, "malformed JSON");
		free(clean);
		return NULL;
	}
	/* one value per line: "{...} junk" and "{...}{...}" are not lines */
	while (end && end < text + len && strchr(" \t\r\n", *end) && *end)
		end++;
	if (end && end < text + len) {
		snprintf(err, errlen, "junk after the JSON value");
		goto bad;
	}
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "expected a JSON object");
		goto bad;
	}
	ev = json_str(o, "event");
	if (!ev) {
		snprintf(err, errlen, "expected a string \"event\"");
		goto bad;
	}
	if (name_check(ev, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "event name '%s' %s", ev, why);
		goto bad;
	}
	data = cJSON_GetObjectItemCaseSensitive(o, "data");
	if (data && !cJSON_IsObject(data)) {
		snprintf(err, errlen, "\"data\" must be an object");
		goto bad;
	}
	step = cJSON_GetObjectItemCaseSensitive(o, "step");
	/* compare with floor(): a cast of a huge double to an integer is undefined */
	if (step && (!cJSON_IsNumber(step) || step->valuedouble < 0 ||
	    step->valuedouble > 9007199254740992.0 ||
	    step->valuedouble != floor(step->valuedouble))) {
		snprintf(err, errlen, "\"step\" must be a whole number >= 0");
		goto bad;
	}
	if (!cJSON_GetObjectItemCaseSensitive(o, "time")) {
		/* time goes first, as in every line xt writes */
		cJSON *no = cJSON_CreateObject(), *it;

		time_iso(time_now_ms(), t, sizeof(t));
		json_set_str(no, "time", t);
		while ((it = o->child)) {
			cJSON_DetachItemViaPointer(o, it);
			cJSON_AddItemToObject(no, it->string, it);
		}
		cJSON_Delete(o);
		o = no;
	}
	free(clean);
	return o;
bad:
	free(clean);
	cJSON_Delete(o);
	return NULL;
}

static void
merge(cJSON *rec, const char *key, const cJSON *data)
{
	cJSON *dst = cJSON_GetObjectItemCaseSensitive(rec, key);
	const cJSON *it;

	if (!cJSON_IsObject(dst)) {
		dst = cJSON_CreateObject();
		json_set(rec, key, dst);
	}
	cJSON_ArrayForEach(it, data)
		json_set(dst, it->string, cJSON_Duplicate(it, 1));
}

void
run_fold(cJSON *rec, const cJSON *line)
{
	const char *ev = json_str(line, "event");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(line, "data");
	const cJSON *step = cJSON_GetObjectItemCaseSensitive(line, "step");

	if (!ev || !cJSON_IsObject(data))
		return;
	if (!strcmp(ev, "hparams")) {
		merge(rec, "hparams", data);
	} else if (!strcmp(ev, "metrics")) {
		merge(rec, "metrics", data);
		if (cJSON_IsNumber(step))
			json_set_num(rec, "step", step->valuedouble);
	} else if (!strcmp(ev, "tags")) {
		merge(rec, "tags", data);
	}
}

const cJSON *
run_given_hparams(const cJSON *rec)
{
	const cJSON *hp = cJSON_GetObjectItemCaseSensitive(rec, "given_hparams");

	return hp ? hp : cJSON_GetObjectItemCaseSensitive(rec, "hparams");
}

char *
run_hp_arg(const char *prefix, const cJSON *item)
{
	char *v = cJSON_IsString(item) ? xstrdup(item->valuestring) : cJSON_PrintUnformatted(item);
	char *arg = xasprintf("%s%s=%s", prefix, item->string, v);

	free(v);
	return arg;
}

int
run_status_final(const char *s)
{
	return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled") ||
	    !strcmp(s, "pruned"));
}

struct pstart {
	const char *started;
	int did;
};

/* A queued parent becomes running (with the child's start time). */
static int
pstart_fn(cJSON *prec, void *arg)
{
	struct pstart *a = arg;
	const char *s = json_str(prec, "status");

	a->did = 0;
	if (!s || strcmp(s, "queued") != 0)
		return 1;
	json_set_str(prec, "status", "running");
	json_set_str(prec, "started", a->started);
	a->did = 1;
	return 0;
}

void
run_start_parent(struct store *st, const char *ws, const cJSON *child)
{
	const char *parent = json_str(child, "parent"), *run = json_str(child, "run");
	struct pstart a = { json_str(child, "started"), 0 };
	struct store_stat sst;
	char *mark, t[32];

	if (!parent || !run)
		return;
	if (!a.started) {
		time_iso(time_now_ms(), t, sizeof(t));
		a.started = t;
	}
	mark = run_path(ws, parent, "started");
	/* a stat first: every child but the first finds the marker */
	if (store_stat(st, mark, &sst) == STORE_ENOENT &&
	    store_create(st, mark, run, strlen(run)) == 0 &&
	    run_update(st, ws, parent, RUN_INDEX, pstart_fn, &a, NULL) == 0 && a.did)
		run_event(st, ws, parent, "started", -1, NULL);
	free(mark);
}

#define ENDED_LINE 64

/*
 * Tally ended.txt (len bytes of ENDED_LINE-wide lines): each child counts
 * once however often it was written (a recovery may write a line again),
 * by its last line; a child whose last line is "requeued" has not ended.
 * Returns the children that have ended, with the failed and cancelled ones.
 */
static int64_t
tally_ended(const char *buf, size_t len, int64_t *failed, int64_t *cancelled)
{
	struct hmap seen;
	int64_t k, n = 0;
	size_t i;

	hmap_init(&seen);
	*failed = *cancelled = 0;
	for (k = 0; (size_t)(k + 1) * ENDED_LINE <= len; k++) {
		const char *l = buf + k * ENDED_LINE, *sp = memchr(l, ' ', ENDED_LINE);
		size_t code = 1;
		int isnew;

		if (!sp)
			continue;
		if (!strncmp(sp + 1, "failed ", 7))
			code = 2;
		else if (!strncmp(sp + 1, "cancelled ", 10))
			code = 3;
		else if (!strncmp(sp + 1, "requeued ", 9))
			code = 0;
		*hmap_put(&seen, l, (size_t)(sp - l), code, &isnew) = code;
	}
	for (i = 0; i < seen.cap; i++) {
		if (!seen.slot[i].key || !seen.slot[i].val)
			continue;
		n++;
		*failed += seen.slot[i].val == 2;
		*cancelled += seen.slot[i].val == 3;
	}
	hmap_release(&seen);
	return n;
}

struct pend {
	const char *status, *ended;
};

/* The parent's end, unless it has one. */
static int
pend_fn(cJSON *prec, void *arg)
{
	struct pend *a = arg;

	if (!run_status_final(json_str(prec, "status"))) {
		json_set_str(prec, "status", a->status);
		json_set_str(prec, "ended", a->ended);
	}
	return 0;
}

/*
 * A settle of child found the parent's marker settled made, or the parent
 * ended. When the marker names this child, its settle made it before and
 * was cut short (its executor died before the parent's record was saved,
 * or before it was in the index): finish the parent's end with the status
 * and time of the marker. Only the recovery of that child does this, one
 * at a time (its queue entry is locked), and not when the index has the
 * end (rev: the parent's record's), so the parent ends once; any other
 * child leaves the parent alone.
 */
static void
finish_parent(struct store *st, const char *ws, const char *parent, int64_t rev,
    const char *child)
{
	char *mark = run_path(ws, parent, "settled"), last[32];
	struct sbuf sb;
	cJSON *m = NULL;
	const char *by, *status, *ended;

	sbuf_init(&sb, 4096);
	if (store_get(st, mark, 0, -1, &sb) < 0 || !(m = cJSON_ParseWithLength(sb.buf, sb.len)) ||
	    !(by = json_str(m, "child")) || strcmp(by, child) != 0 ||
	    !run_status_final(status = json_str(m, "status")) || !(ended = json_str(m, "ended")))
		goto out;
	/* the index has its end: it ended */
	if (index_last_status(st, ws, parent, rev, last, sizeof(last)) < 0 || run_status_final(last))
		goto out;
	{
		struct pend a = { status, ended };

		run_update(st, ws, parent, RUN_INDEX, pend_fn, &a, NULL);
	}
out:
	cJSON_Delete(m);
	sbuf_release(&sb);
	free(mark);
}

void
run_settle_parent(struct store *st, const char *ws, const cJSON *child)
{
	const char *parent = json_str(child, "parent"), *run = json_str(child, "run");
	const char *status = json_str(child, "status"), *pstatus;
	char line[ENDED_LINE + 1], t[32], *p, *mark, *body;
	struct store_stat sst;
	struct sbuf sb;
	cJSON *prec, *m;
	int64_t n, failed, cancelled;
	int rc;

	if (!parent || !run || !status)
		return;
	/* one fixed-width line per ended child: the count is the size over the width */
	snprintf(line, ENDED_LINE, "%s %s", run, status);
	memset(line + strlen(line), ' ', ENDED_LINE - 1 - strlen(line));
	line[ENDED_LINE - 1] = '\n';
	line[ENDED_LINE] = '\0';
	p = run_path(ws, parent, "ended.txt");
	if (store_append(st, p, line, ENDED_LINE) < 0 || store_stat(st, p, &sst) < 0 ||
	    !(prec = run_load(st, ws, parent, NULL))) {
		free(p);
		return;
	}
	n = (int64_t)json_num(prec, "children", 0);
	sbuf_init(&sb, (size_t)(n + 16) * ENDED_LINE * 4);
	if (n <= 0 || sst.size / ENDED_LINE < n) {
		/* children still to end */
	} else if (run_status_final(json_str(prec, "status"))) {
		/* a recovery of the child that ended it: the index may lack its end */
		finish_parent(st, ws, parent, run_rev(prec), run);
	} else if (store_get(st, p, 0, -1, &sb) == 0 &&
	    tally_ended(sb.buf, sb.len, &failed, &cancelled) >= n) {
		/*
		 * Children that end together may each count the last one: only the
		 * one that creates the marker ends the parent, so it ends once. The
		 * marker names that child, so that a recovery of it can finish the
		 * parent's end if it was cut short.
		 */
		pstatus = failed ? "failed" : cancelled >= n ? "cancelled" : "completed";
		time_iso(time_now_ms(), t, sizeof(t));
		m = cJSON_CreateObject();
		json_set_str(m, "status", pstatus);
		json_set_str(m, "ended", t);
		json_set_str(m, "child", run);
		body = json_line(m, NULL);
		cJSON_Delete(m);
		mark = run_path(ws, parent, "settled");
		rc = store_create(st, mark, body, strlen(body));
		if (rc == 0) {
			struct pend a = { pstatus, t };

			run_update(st, ws, parent, RUN_INDEX, pend_fn, &a, NULL);
		} else if (rc == STORE_EXIST) {
			finish_parent(st, ws, parent, run_rev(prec), run);
		}
		free(body);
		free(mark);
	}
	sbuf_release(&sb);
	cJSON_Delete(prec);
	free(p);
}

int
run_moved(const cJSON *rec)
{
	const char *me = getenv("XT_BOX"), *box = json_str(rec, "box");

	return me && *me && box && strcmp(me, box) != 0;
}
