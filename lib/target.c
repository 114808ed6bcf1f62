/* target.c: the target's front: the configuration, the table of types, dispatch to a backend. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "name.h"
#include "target_int.h"
#include "banned.h"

/*
 * The types of target: the backend that runs it, or why this build has
 * none. The Slurm target plugs in here.
 */
static const struct ttype {
	const char *type;
	const struct target_ops *ops;
	const char *absent;
} types[] = {
	{ "local", &target_local_ops, NULL },
	{ "ssh", &target_ssh_ops, NULL },
	{ "slurm", NULL, "this xt has no slurm target yet" },
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
