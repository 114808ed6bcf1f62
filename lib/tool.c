/* tool.c: see tool.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "name.h"
#include "tool.h"
#include "version.h"
#include "banned.h"

void
tool_init(int argc, char **argv)
{
	char err[1024];

	util_setprog(argv[0]);
	version_option(argc, argv);
	if (config_load(err, sizeof(err)) < 0)
		die("%s", err);
}

void
tool_usage_error(const char *text, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	tool_usage(text);
}

void
tool_usage(const char *text)
{
	fputs(text, stderr);
	exit(EXIT_USAGE);
}

void
tool_help(const char *text)
{
	fputs(text, stdout);
	stdout_close();
	exit(EXIT_OK);
}

struct store *
tool_store(void)
{
	char err[1024];
	char *url = config_store();
	struct store *st = store_open(url, err, sizeof(err));

	if (!st)
		die("%s", err);
	free(url);
	return st;
}

struct target *
tool_target(const char *name)
{
	struct target *t;
	char err[1024];
	int rc = target_open(name, &t, err, sizeof(err));

	if (rc < 0)
		die_status(rc == TARGET_EUSAGE ? EXIT_USAGE : EXIT_FAIL, "%s", err);
	return t;
}

const char *
tool_workspace(void)
{
	const char *ws = config_workspace();
	char why[256];

	if (name_check(ws, why, sizeof(why)) < 0)
		die_status(EXIT_USAGE, "workspace '%s' %s", ws, why);
	return ws;
}

char *
tool_name(struct store *st, const char *ws, const char *arg)
{
	size_t len = strcspn(arg, "/");
	int job = len == 8 && !strncmp(arg, "$lastjob", 8);
	char *dir;
	long n;

	if (!job && (len != 8 || strncmp(arg, "$lastrun", 8) != 0))
		return xstrdup(arg);
	dir = xasprintf("ws/%s/%s", ws, job ? "jobs" : "runs");
	n = name_last(st, dir, job ? "job" : "run");
	free(dir);
	if (n < 0)
		die("%.8s: %s", arg, store_error(st));
	if (n == 0)
		die("%.8s: workspace '%s' has no %s", arg, ws, job ? "jobs" : "runs");
	return xasprintf("%s%ld%s", job ? "job" : "run", n, arg + len);
}

void
progress_init(struct progress *p, const char *what, int64_t total)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->total = total;
	p->start = time_mono();
}

static void
human(double v, char *buf, size_t len)
{
	const char *unit[] = { "B", "kB", "MB", "GB", "TB" };
	int i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

static void
show(struct progress *p, int64_t done)
{
	double now = time_mono(), el = now - p->start;
	char a[32], b[32], r[32];

	if (!p->what || el < 0.5 || now - p->last < 0.2 || !stderr_isatty())
		return;
	p->last = now;
	p->shown = 1;
	human((double)done, a, sizeof(a));
	human(done / el, r, sizeof(r));
	if (p->total > 0) {
		human((double)p->total, b, sizeof(b));
		fprintf(stderr, "\r%s: %s %s / %s %3d%% %s/s  ", util_prog(), p->what, a, b,
		    (int)(100.0 * done / p->total), r);
	} else {
		fprintf(stderr, "\r%s: %s %s %s/s  ", util_prog(), p->what, a, r);
	}
}

void
progress_cb(int64_t done, int64_t total, void *arg)
{
	struct progress *p = arg;

	show(p, p->done_before + done);
}

void
progress_add(struct progress *p, int64_t bytes)
{
	p->done_before += bytes;
	show(p, p->done_before);
}

void
progress_end(struct progress *p)
{
	if (p->shown)
		fprintf(stderr, "\r\033[K");
	p->shown = 0;
}
