/* run.c: see run.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "name.h"
#include "run.h"
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

cJSON *
run_load(struct store *st, const char *ws, const char *run, int *rcp)
{
	char *p = run_path(ws, run, "run.json");
	struct sbuf sb;
	cJSON *rec = NULL;
	int rc;

	sbuf_init(&sb, (size_t)16 << 20);
	rc = store_get(st, p, 0, -1, &sb);
	if (rc == STORE_OK) {
		rec = cJSON_ParseWithLength(sb.buf, sb.len);
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			rec = NULL;
			rc = store_fail(st, STORE_ECORRUPT, "'%s' is not a JSON object", p);
		}
	} else if (rc == STORE_ENOENT) {
		store_fail(st, rc, "no run '%s' in workspace '%s'", run, ws);
	}
	if (rcp)
		*rcp = rc;
	sbuf_release(&sb);
	free(p);
	return rec;
}

static int
save(struct store *st, const cJSON *rec, int index)
{
	const char *ws = json_str(rec, "ws"), *run = json_str(rec, "run");
	char *p, *line;
	size_t len;
	int rc;

	if (!ws || !run)
		return store_fail(st, STORE_EINVAL, "a run record needs \"ws\" and \"run\"");
	p = run_path(ws, run, "run.json");
	line = json_line(rec, &len);
	rc = store_put(st, p, line, len);
	free(p);
	if (rc == 0 && index) {
		p = run_index_path(ws);
		rc = store_append(st, p, line, len);
		free(p);
	}
	free(line);
	return rc;
}

int
run_save(struct store *st, const cJSON *rec)
{
	return save(st, rec, 1);
}

int
run_save_quiet(struct store *st, const cJSON *rec)
{
	return save(st, rec, 0);
}

int
run_event(struct store *st, const char *ws, const char *run, const char *event, long step,
    cJSON *data)
{
	cJSON *o = cJSON_CreateObject();
	char t[32], *p, *line;
	size_t len;
	int rc;

	time_iso(time_now_ms(), t, sizeof(t));
	json_set_str(o, "time", t);
	json_set_str(o, "event", event);
	if (step >= 0)
		json_set_num(o, "step", (double)step);
	if (data)
		json_set(o, "data", data);
	line = json_line(o, &len);
	cJSON_Delete(o);
	p = run_path(ws, run, "log.jsonl");
	rc = store_append(st, p, line, len);
	free(p);
	free(line);
	return rc;
}

cJSON *
run_check_line(const char *text, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(text, len, &end, 0), *step, *data;
	const char *ev;
	char why[256], t[32];

	if (!o) {
		snprintf(err, errlen, "malformed JSON");
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
		cJSON *n = cJSON_CreateObject(), *it;

		time_iso(time_now_ms(), t, sizeof(t));
		json_set_str(n, "time", t);
		while ((it = o->child)) {
			cJSON_DetachItemViaPointer(o, it);
			cJSON_AddItemToObject(n, it->string, it);
		}
		cJSON_Delete(o);
		o = n;
	}
	return o;
bad:
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

int
run_status_final(const char *s)
{
	return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled") ||
	    !strcmp(s, "pruned"));
}

void
run_settle_parent(struct store *st, const char *ws, const char *parent)
{
	cJSON *prec, *c;
	int k, n, done = 1, failed = 0, cancelled = 0;
	char t[32];

	if (!parent || !(prec = run_load(st, ws, parent, NULL)))
		return;
	n = (int)json_num(prec, "children", 0);
	for (k = 1; k <= n && done; k++) {
		char *name = xasprintf("%s.%d", parent, k);
		const char *s;

		c = run_load(st, ws, name, NULL);
		s = c ? json_str(c, "status") : NULL;
		if (!run_status_final(s))
			done = 0;
		else if (!strcmp(s, "failed"))
			failed++;
		else if (!strcmp(s, "cancelled"))
			cancelled++;
		cJSON_Delete(c);
		free(name);
	}
	if (done && n > 0 && !run_status_final(json_str(prec, "status"))) {
		json_set_str(prec, "status", failed ? "failed" : cancelled == n ? "cancelled" : "completed");
		time_iso(time_now_ms(), t, sizeof(t));
		json_set_str(prec, "ended", t);
		run_save(st, prec);
	}
	cJSON_Delete(prec);
}
