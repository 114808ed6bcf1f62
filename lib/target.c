/* target.c: the target's front: the configuration, the table of types, dispatch to a backend. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "index.h"
#include "json.h"
#include "name.h"
#include "run.h"
#include "target_int.h"
#include "banned.h"

/*
 * The types of target: the backend that runs it, or why this build has
 * none.
 */
static const struct ttype {
	const char *type;
	const struct target_ops *ops;
	const char *absent;
} types[] = {
	{ "local", &target_local_ops, NULL },
	{ "ssh", &target_ssh_ops, NULL },
	{ "slurm", &target_slurm_ops, NULL },
};

int
target_fail(struct target *t, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return code;
}

const char *
target_conf_str(const struct target *t, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->conf, key);
	char k[300];

	if (cJSON_IsString(v))
		return v->valuestring;
	if (!cJSON_IsNumber(v))
		return NULL;
	/* a number as it was written (poll-interval: 5) */
	snprintf(k, sizeof(k), "targets.%s.%s", t->name, key);
	return config_str(k, NULL);
}

void
target_conf_where(const struct target *t, const char *key, char *buf, size_t len)
{
	char k[300];
	const char *o;

	snprintf(k, sizeof(k), "targets.%s.%s", t->name, key);
	o = config_origin(k);
	if (!o || !strcmp(o, "default")) {
		/* not set: where the target is (its type) */
		char tk[300];

		snprintf(tk, sizeof(tk), "targets.%s.type", t->name);
		o = config_origin(tk);
		if (!o || !strcmp(o, "default"))
			o = k;
	}
	snprintf(buf, len, "%s", o);
}

int
target_config_max_runs(const char *name, int *v, char *err, size_t errlen)
{
	char key[300];
	const char *mr;
	int64_t n;

	snprintf(key, sizeof(key), "targets.%s.max-runs", name);
	mr = config_str(key, "1");
	if (parse_i64(mr, 1, 100000, &n) < 0) {
		snprintf(err, errlen, "%s: max-runs '%s' is not a whole number >= 1",
		    config_origin(key) ? config_origin(key) : key, mr);
		return TARGET_EUSAGE;
	}
	*v = (int)n;
	return 0;
}

int
target_open(const char *name, struct target **tp, char *err, size_t errlen)
{
	char key[300], why[256];
	const char *type;
	struct target *t;
	size_t i;
	int rc, mr;

	*tp = NULL;
	if (name_check(name, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "target name '%s' %s", name, why);
		return TARGET_EUSAGE;
	}
	snprintf(key, sizeof(key), "targets.%s.type", name);
	if (!(type = config_str(key, NULL))) {
		snprintf(err, errlen, "unknown target '%s' (not under 'targets' in the configuration)",
		    name);
		return TARGET_EUSAGE;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]) && strcmp(types[i].type, type); i++)
		;
	if (i == sizeof(types) / sizeof(types[0]) || !types[i].ops) {
		snprintf(err, errlen, "target '%s' is of type '%s': %s", name, type,
		    i < sizeof(types) / sizeof(types[0]) ? types[i].absent :
		    "no such type (local, ssh, slurm)");
		return TARGET_EFAIL;
	}
	if ((rc = target_config_max_runs(name, &mr, err, errlen)) < 0)
		return rc;
	t = xcalloc(1, sizeof(*t));
	t->ops = types[i].ops;
	t->name = xstrdup(name);
	t->type = xstrdup(type);
	t->max_runs = mr;
	snprintf(key, sizeof(key), "targets.%s", name);
	t->conf = config_node(key);
	t->where = xasprintf("target '%s'", name);
	if (t->ops->open && (rc = t->ops->open(t, err, errlen)) < 0) {
		target_close(t);
		return rc;
	}
	*tp = t;
	return 0;
}

void
target_close(struct target *t)
{
	if (!t)
		return;
	if (t->ops->close)
		t->ops->close(t);
	free(t->name);
	free(t->type);
	free(t->where);
	free(t);
}

const char *
target_name(const struct target *t)
{
	return t->name;
}

const char *
target_type(const struct target *t)
{
	return t->type;
}

int
target_max_runs(const struct target *t)
{
	return t->max_runs;
}

const cJSON *
target_config(const struct target *t)
{
	return t->conf;
}

const char *
target_where(const struct target *t)
{
	return t->where;
}

const char *
target_error(const struct target *t)
{
	return t->err;
}

int
target_prepare(struct target *t, struct store *st, cJSON *runs)
{
	return t->ops->prepare ? t->ops->prepare(t, st, runs) : 0;
}

int
target_submit(struct target *t, struct store *st, const cJSON *job, const cJSON *runs)
{
	return t->ops->submit(t, st, job, runs);
}

int
target_defers_records(const struct target *t)
{
	return t && t->ops->defers_records;
}

int
target_spools_here(const char *name)
{
	char key[300];
	const char *type;

	if (!name)
		return 1;
	snprintf(key, sizeof(key), "targets.%s.type", name);
	type = config_str(key, NULL);
	return !type || !strcmp(type, "local");
}

int
target_match(const cJSON *data, const char *ws, char *const *names, size_t n, int *found)
{
	const char *run = json_str(data, "run"), *job = json_str(data, "job");
	const char *dws = json_str(data, "ws");
	size_t i;
	int hit = 0;

	if (!dws || !run || strcmp(dws, ws))
		return 0;
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (!strcmp(run, names[i]) || (job && !strcmp(job, names[i])) ||
		    (!strncmp(run, names[i], l) && run[l] == '.')) {
			found[i] = 1;
			hit = 1;
		}
	}
	return hit;
}

int
target_cancel(struct target *t, struct store *st, const char *ws, char *const *names, size_t n,
    int grace_ms, int *found)
{
	memset(found, 0, n * sizeof(*found));
	return t->ops->cancel(t, st, ws, names, n, grace_ms, found);
}

int
target_poll(struct target *t, struct store *st, const char *ws, struct target_status *runs,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		runs[i].state = TARGET_LOST;
		runs[i].node[0] = runs[i].status[0] = '\0';
		runs[i].pid = 0;
	}
	return t->ops->poll(t, st, ws, runs, n);
}

int
target_drain(struct target *t)
{
	return t->ops->drain ? t->ops->drain(t) : 0;
}

int
target_list(struct target *t, struct store *st, const char *ws, target_list_fn fn, void *arg)
{
	if (!t->ops->list)
		return target_fail(t, TARGET_EFAIL, "%s cannot list its runs", t->where);
	return t->ops->list(t, st, ws, fn, arg);
}

/*
 * The folded run index of ws in st: 1 with *sb (to release) and *lines
 * (to free), n of them; 0 when there is none; -1 with the message in err.
 */
static int
index_read(struct store *st, const char *ws, struct sbuf *sb, struct index_line **lines,
    size_t *n, char *err, size_t errlen)
{
	char *path = run_index_path(ws);
	size_t nl;
	int rc;

	*lines = NULL;
	*n = 0;
	sbuf_init(sb, (size_t)1 << 30);
	rc = store_get(st, path, 0, -1, sb);
	free(path);
	if (rc == STORE_ENOENT) {
		sbuf_release(sb);
		return 0;
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", store_error(st));
	if (rc < 0 || index_fold(sb->buf, sb->len, "the run index", lines, n, &nl, err, errlen) < 0) {
		sbuf_release(sb);
		return -1;
	}
	return 1;
}

/*
 * Into recs (room for n), the records of the n lines of buf of runs on
 * target name, not ended, that want(rec, arg) takes: how many.
 */
static size_t
index_runs(const char *buf, const struct index_line *lines, size_t n, const char *name,
    int (*want)(const cJSON *rec, void *arg), void *arg, cJSON **recs)
{
	char key[300];
	size_t i, k = 0;

	/* the records' own writer puts "target":"NAME" so: other lines are skipped unparsed */
	snprintf(key, sizeof(key), "\"target\":\"%s\"", name);
	for (i = 0; i < n; i++) {
		cJSON *r;

		if (!memmem(buf + lines[i].off, lines[i].len, key, strlen(key)))
			continue;
		r = cJSON_ParseWithLength(buf + lines[i].off, lines[i].len);
		if (r && json_str(r, "run") && json_str(r, "target") &&
		    !strcmp(json_str(r, "target"), name) &&
		    !run_status_final(json_str(r, "status")) && want(r, arg))
			recs[k++] = r;
		else
			cJSON_Delete(r);
	}
	return k;
}

/* Poll the k runs of recs (freed) of ws on t. 0 or a TARGET_E* code. */
static int
poll_recs(struct target *t, struct store *st, const char *ws, cJSON **recs, size_t k)
{
	struct target_status *s = xcalloc(k ? k : 1, sizeof(*s));
	size_t i;
	int rc;

	for (i = 0; i < k; i++) {
		s[i].run = json_str(recs[i], "run");
		s[i].job = json_str(recs[i], "job");
	}
	rc = k ? target_poll(t, st, ws, s, k) : 0;
	for (i = 0; i < k; i++)
		cJSON_Delete(recs[i]);
	free(s);
	return rc;
}

int
target_settle_index(struct target *t, struct store *st, const char *ws,
    int (*want)(const cJSON *rec, void *arg), void *arg)
{
	struct index_line *lines;
	cJSON **recs;
	struct sbuf sb;
	char err[1024];
	size_t n;
	int rc;

	if ((rc = index_read(st, ws, &sb, &lines, &n, err, sizeof(err))) <= 0)
		return rc < 0 ? target_fail(t, TARGET_EFAIL, "%s", err) : 0;
	recs = xcalloc(n ? n : 1, sizeof(*recs));
	rc = poll_recs(t, st, ws, recs, index_runs(sb.buf, lines, n, t->name, want, arg, recs));
	free(recs);
	free(lines);
	sbuf_release(&sb);
	return rc;
}

/* A run, not a parent (its children's ends end it). */
static int
not_parent(const cJSON *rec, void *arg)
{
	(void)arg;
	return !cJSON_GetObjectItemCaseSensitive(rec, "children");
}

/* Whether targets.NAME c is of a type whose poll is cheap. */
static int
cheap(const cJSON *c)
{
	const char *type = json_str(c, "type");
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (type && c->string && types[i].ops && types[i].ops->cheap_poll &&
		    !strcmp(types[i].type, type))
			return 1;
	return 0;
}

size_t
target_settle(struct store *st, const char *ws, const char *buf, const struct index_line *lines,
    size_t n, target_warn_fn warn, void *arg)
{
	unsigned long before = index_appended();
	struct index_line *folded = NULL;
	int mine = !buf;
	const cJSON *c;
	cJSON **recs;
	struct sbuf sb;
	char err[1024];

	/* without such a target the index is not read here (the report reads it) */
	cJSON_ArrayForEach(c, config_node("targets"))
		if (cheap(c))
			break;
	if (!c)
		return 0;
	if (mine) {
		if (index_read(st, ws, &sb, &folded, &n, err, sizeof(err)) <= 0)
			return 0;	/* the report says what is wrong with the index */
		buf = sb.buf;
		lines = folded;
	}
	recs = xcalloc(n ? n : 1, sizeof(*recs));
	cJSON_ArrayForEach(c, config_node("targets")) {
		struct target *t;
		size_t i, k;

		/* a target is opened only when it has runs to poll: one set
		 * wrong is said by the commands that use it, not by every report */
		if (!cheap(c) || !(k = index_runs(buf, lines, n, c->string, not_parent, NULL, recs)))
			continue;
		if (target_open(c->string, &t, err, sizeof(err)) < 0) {
			for (i = 0; i < k; i++)
				cJSON_Delete(recs[i]);
			warn(c->string, err, arg);
			continue;
		}
		if (poll_recs(t, st, ws, recs, k) < 0)
			warn(c->string, target_error(t), arg);
		target_close(t);
	}
	free(recs);
	if (mine) {
		free(folded);
		sbuf_release(&sb);
	}
	return index_appended() - before;
}
