/* chart.c: see chart.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart.h"
#include "config.h"
#include "expr.h"
#include "json.h"
#include "plot.h"
#include "run.h"
#include "searchjob.h"
#include "tool.h"
#include "banned.h"

/* One drawn line before layout: a run's metric, or a scatter cloud. */
struct line {
	char *panel;		/* the key of its panel */
	char *title;		/* its panel's title when not the key (NULL) */
	char *label;
	const char *metric;	/* co->metrics[i] */
	double *x, *y;
	size_t n, cap;
};

struct lines {
	struct line *v;
	size_t n;
};

void
chart_opts_init(struct chart_opts *co)
{
	memset(co, 0, sizeof(*co));
	co->agg = -1;
	co->band = PLOT_BAND_STD;
	co->xlog = -1;
	co->color = -1;
}

void
chart_opts_release(struct chart_opts *co)
{
	size_t i;

	for (i = 0; i < co->nmetrics; i++)
		free(co->metrics[i]);
	free(co->metrics);
	free(co->out);
	free(co->break_on);
	free(co->legend);
	free(co->vs);
	free(co->title);
}

void
chart_add_metric(struct chart_opts *co, const char *name)
{
	co->metrics = xrealloc(co->metrics, (co->nmetrics + 1) * sizeof(*co->metrics));
	co->metrics[co->nmetrics++] = xstrdup(strncmp(name, "metrics.", 8) ? name : name + 8);
}

static int
bad(struct chart_opts *co, const char *opt, const char *arg, const char *want)
{
	snprintf(co->err, sizeof(co->err), "%s: expected %s, not '%s'", opt, want, arg);
	return -1;
}

/* "AxB", the x one of seps, A in [amin, amax], B in [bmin, bmax]: 0, or -1 (*a, *b untouched). */
static int
dims(const char *arg, const char *seps, int64_t amin, int64_t amax, int64_t bmin, int64_t bmax,
    int *a, int *b)
{
	size_t n = strcspn(arg, seps);
	char *first;
	int64_t x, y;
	int rc;

	if (!arg[n])
		return -1;
	first = xstrndup(arg, n);
	rc = parse_i64(first, amin, amax, &x) < 0 || parse_i64(arg + n + 1, bmin, bmax, &y) < 0 ? -1 : 0;
	free(first);
	if (rc == 0) {
		*a = (int)x;
		*b = (int)y;
	}
	return rc;
}

int
chart_opt(struct chart_opts *co, int c, const char *arg)
{
	switch (c) {
	case 'o': free(co->out); co->out = xstrdup(arg); return 0;
	case 't': co->term = 1; return 0;
	case 1:
		if (strcmp(arg, "step") && strcmp(arg, "time"))
			return bad(co, "--x", arg, "step or time");
		co->xtime = !strcmp(arg, "time");
		return 0;
	case 2:
		if (parse_double(arg, &co->smooth) < 0 || !(co->smooth >= 0 && co->smooth < 1))
			return bad(co, "--smooth", arg, "a number in [0, 1)");
		return 0;
	case 3:
		if (!strcmp(arg, "none"))
			co->agg = -1;
		else if (!strcmp(arg, "mean") || !strcmp(arg, "median"))
			co->agg = !strcmp(arg, "mean") ? PLOT_MEAN : PLOT_MEDIAN;
		else
			return bad(co, "--agg", arg, "mean, median or none");
		return 0;
	case 4:
		if (!strcmp(arg, "std"))
			co->band = PLOT_BAND_STD;
		else if (!strcmp(arg, "minmax"))
			co->band = PLOT_BAND_MINMAX;
		else if (!strcmp(arg, "sem"))
			co->band = PLOT_BAND_SEM;
		else if (!strcmp(arg, "none"))
			co->band = PLOT_BAND_NONE;
		else
			return bad(co, "--band", arg, "std, minmax, sem or none");
		return 0;
	case 5: free(co->break_on); co->break_on = xstrdup(arg); return 0;
	case 6:
		if (dims(arg, "xX", 1, 50, 1, 50, &co->rows, &co->cols) < 0)
			return bad(co, "--layout", arg, "ROWSxCOLS, e.g. 2x3");
		return 0;
	case 7: free(co->legend); co->legend = xstrdup(arg); return 0;
	case 8: free(co->vs); co->vs = xstrdup(arg); return 0;
	case 9: free(co->title); co->title = xstrdup(arg); return 0;
	case 10:
		if (dims(arg, "x", 10, 20000, 5, 20000, &co->width, &co->height) < 0)
			return bad(co, "--size", arg, "WIDTHxHEIGHT");
		return 0;
	case 11: co->ascii = 1; return 0;
	case 12: co->color = 1; return 0;
	case 17: co->xlog = 1; return 0;
	case 18: co->ylog = 1; return 0;
	case 19: co->color = 0; return 0;
	case 20: co->xlog = 0; return 0;
	default: return -1;
	}
}

/* A legend's number format: printf's flags, width and precision, then e, f or g (either case). */
static int
number_format(const char *f)
{
	size_t n = strspn(f, "-+ #0"), w = strspn(f + n, "0123456789"), pr = 0;

	n += w;
	if (f[n] == '.') {
		pr = strspn(f + n + 1, "0123456789");
		if (!pr)
			return 0;
		n += 1 + pr;
	}
	return w <= 2 && pr <= 2 && f[n] && strchr("eEfFgG", f[n]) && !f[n + 1];
}

/*
 * The next {FIELD[:FORMAT]} of a template at or after *p: its field and
 * format (NULL when none), both for the caller to free, and *p moved past
 * it. 0 when there is none; -1 with co->err on an unclosed brace or a bad
 * format.
 */
static int
template_next(struct chart_opts *co, const char *t, const char **p, char **field, char **fmt)
{
	const char *b = strchr(*p, '{'), *q, *colon = NULL;
	char why[300], *name;

	if (!b)
		return 0;
	/* a quoted part of the name (metrics."a:b") may hold ':' and '}' */
	for (q = b + 1; *q && *q != '}'; q++) {
		if (*q == '"' || *q == '\'' || *q == '`') {
			char c = *q;

			while (q[1] && q[1] != c)
				q++;
			q += !!q[1];
		} else if (*q == ':' && !colon) {
			colon = q;
		}
	}
	if (!*q) {
		snprintf(co->err, sizeof(co->err), "--legend: column %ld: '{' is never closed",
		    (long)(b - t) + 1);
		return -1;
	}
	name = xstrndup(b + 1, (size_t)((colon ? colon : q) - b - 1));
	*field = expr_field(name, why, sizeof(why));
	if (!*field) {
		snprintf(co->err, sizeof(co->err), "--legend: {%s}: %s", name, why);
		free(name);
		return -1;
	}
	free(name);
	*fmt = colon ? xstrndup(colon + 1, (size_t)(q - colon - 1)) : NULL;
	*p = q + 1;
	if (*fmt && !number_format(*fmt)) {
		snprintf(co->err, sizeof(co->err), "--legend: {%s:%s}: a number format is printf's "
		    "e, f or g with a width and precision of 2 digits at most, like .2e", *field, *fmt);
		free(*field);
		free(*fmt);
		return -1;
	}
	return 1;
}

/* Name each field of a template to the report (report_add_name); -1 on a bad template (co->err). */
static int
template_fields(struct chart_opts *co, struct report *r, const char *t)
{
	const char *p = t;
	char *f, *fmt;
	int rc;

	while ((rc = template_next(co, t, &p, &f, &fmt)) > 0) {
		report_add_name(r, "--legend", f);
		free(f);
		free(fmt);
	}
	return rc;
}

/* The row's value of field, or NULL when it has none. */
static const struct jv *
row_value(const struct report *r, const struct report_row *row, const char *field)
{
	long id = jfields_find(&r->f, field, strlen(field));

	if (id < 0 || (size_t)id >= row->nv || row->v[id].type == JV_NONE)
		return NULL;
	return &row->v[id];
}

/* A --legend field that no row has: -1 with co->err naming it, with a guess. */
static int
template_check(struct chart_opts *co, const struct report *r)
{
	const char *p = co->legend;
	char *f, *fmt;
	size_t k;
	int rc = 0;

	while (!rc && template_next(co, co->legend, &p, &f, &fmt) > 0) {
		for (k = 0; k < r->nrows && !row_value(r, r->rows[k], f); k++)
			;
		if (k == r->nrows && r->nrows) {
			snprintf(co->err, sizeof(co->err), "--legend: no selected run has a field '%s'", f);
			report_guess(r, f, co->err, sizeof(co->err));
			rc = -1;
		}
		free(f);
		free(fmt);
	}
	return rc;
}

int
chart_prepare(struct chart_opts *co, struct report *r)
{
	size_t i;

	if (co->nmetrics == 0) {
		snprintf(co->err, sizeof(co->err), "plot: name a metric to draw (xt-report plot acc ...)");
		return -1;
	}
	if (!co->out == !co->term) {
		snprintf(co->err, sizeof(co->err), "plot: give -o FILE.svg or --term (one of them)");
		return -1;
	}
	if (co->vs && co->agg >= 0) {
		snprintf(co->err, sizeof(co->err), "plot: --vs draws points: --agg does not apply");
		return -1;
	}
	if (co->vs && co->xtime) {
		snprintf(co->err, sizeof(co->err), "plot: --vs draws against its column: --x does not apply");
		return -1;
	}
	r->no_parents = 1;	/* a parent run has no curve of its own */
	jfields_add(&r->f, "ws");
	jfields_add(&r->f, "run");
	for (i = 0; i < co->nmetrics; i++) {
		char *m = xasprintf("metrics.%s", co->metrics[i]);

		jfields_add(&r->f, m);
		free(m);
	}
	if (co->break_on && strcmp(co->break_on, "run"))
		jfields_add(&r->f, co->break_on);
	if (co->vs) {
		jfields_add(&r->f, co->vs);
		jfields_add(&r->f, "job");
	}
	if (!r->ncols)
		report_add_columns(r, "run");
	return co->legend ? template_fields(co, r, co->legend) : 0;
}

/*
 * The row's value of field as text ("" when missing); a finite number in
 * fmt (number_format), as recorded when fmt is "", or without one (NULL)
 * short: whole, or "%.3g". Caller frees.
 */
static char *
value_text(const struct report *r, const struct report_row *row, const char *field, const char *fmt)
{
	const struct jv *v = row_value(r, row, field);
	struct sbuf sb;

	sbuf_init(&sb, (size_t)1 << 20);
	if (v && v->type == JV_NUM && isfinite(v->num) && !(fmt && !*fmt)) {
		char spec[16], num[512];

		if (!fmt && v->num == rint(v->num) && fabs(v->num) < 1e15)
			fmt = ".0f";
		snprintf(spec, sizeof(spec), "%%%s", fmt ? fmt : ".3g");
		snprintf(num, sizeof(num), spec, v->num);
		sbuf_adds(&sb, num);
	} else if (v) {
		jv_text(v, &sb);
	}
	return sbuf_detach(&sb, NULL);
}

char *
chart_legend(const struct report *r, const struct report_row *row, const char *tmpl)
{
	struct chart_opts co;	/* for template_next's message, which chart_prepare gave already */
	struct sbuf sb;
	const char *p = tmpl, *b;
	char *f, *fmt, *v;

	sbuf_init(&sb, (size_t)1 << 20);
	for (;;) {
		const char *start = p;

		if (!(b = strchr(p, '{')) || template_next(&co, tmpl, &p, &f, &fmt) <= 0)
			break;
		sbuf_add(&sb, start, (size_t)(b - start));
		v = value_text(r, row, f, fmt);
		sbuf_adds(&sb, v);
		free(v);
		free(f);
		free(fmt);
	}
	sbuf_adds(&sb, p);
	return sbuf_detach(&sb, NULL);
}

static struct line *
line_new(struct lines *ls, char *panel, char *label)
{
	struct line *l;

	ls->v = xrealloc(ls->v, (ls->n + 1) * sizeof(*ls->v));
	l = &ls->v[ls->n++];
	memset(l, 0, sizeof(*l));
	l->panel = panel;
	l->label = label;
	return l;
}

static void
point(struct line *l, double x, double y)
{
	/* NaN and the infinities are not drawn */
	if (!isfinite(x) || !isfinite(y))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap * 2 + 64;
		l->x = xrealloc(l->x, l->cap * sizeof(*l->x));
		l->y = xrealloc(l->y, l->cap * sizeof(*l->y));
	}
	l->x[l->n] = x;
	l->y[l->n++] = y;
}

/* Sort a line's points by x (stable), when they are not already. */
static void
sort_points(struct line *l)
{
	size_t i, j;

	for (i = 1; i < l->n; i++) {
		double x = l->x[i], y = l->y[i];

		for (j = i; j > 0 && l->x[j - 1] > x; j--) {
			l->x[j] = l->x[j - 1];
			l->y[j] = l->y[j - 1];
		}
		l->x[j] = x;
		l->y[j] = y;
	}
}

/* The panel (its key, and its title when not the key: else NULL) and label of a run's line for metric m. */
static void
names(const struct chart_opts *co, const struct report *r, const struct report_row *row,
    const char *run, const char *m, char **panel, char **title, char **label)
{
	char *who = co->legend ? chart_legend(r, row, co->legend) :
	    xstrdup(co->agg >= 0 ? "" : run);

	*title = NULL;
	if (!co->break_on) {
		*panel = xstrdup(m);
		*label = who;
	} else if (!strcmp(co->break_on, "run")) {
		*panel = xstrdup(run);
		*label = xstrdup(m);
		free(who);
	} else {
		/* values apart to their last digit are panels apart, shown short */
		char *v = value_text(r, row, co->break_on, ""), *sv = value_text(r, row, co->break_on, NULL);

		*panel = xasprintf("%s=%s", co->break_on, v);
		*title = strcmp(v, sv) ? xasprintf("%s=%s", co->break_on, sv) : NULL;
		free(sv);
		/* the metric first: a legend cut short still tells the metrics apart */
		*label = co->nmetrics > 1 ? xasprintf("%s%s%s", m, *who ? " " : "", who) : xstrdup(who);
		free(who);
		free(v);
	}
}

/* Read a run's log and add one line per metric. */
static int
run_lines(struct chart_opts *co, struct report *r, struct store *st, const struct report_row *row,
    struct lines *ls)
{
	char *ws = value_text(r, row, "ws", NULL), *run = value_text(r, row, "run", NULL), *p;
	size_t *mine = xcalloc(co->nmetrics, sizeof(*mine));	/* indices: ls->v moves as it grows */
	struct sbuf sb;
	const char *s, *nl;
	int64_t t0 = -1, started = -1;
	size_t i, j, k = 0;
	int rc = 0;

	sbuf_init(&sb, (size_t)1 << 30);
	p = run_path(*ws ? ws : tool_workspace(), run, "log.jsonl");
	if (store_get(st, p, 0, -1, &sb) < 0) {
		if (!strstr(store_error(st), "No such") && !strstr(store_error(st), "no such"))
			warnx("%s", store_error(st));
		goto out;
	}
	for (i = 0; i < co->nmetrics; i++) {
		char *panel, *title, *label;
		struct line *l;

		names(co, r, row, run, co->metrics[i], &panel, &title, &label);
		l = line_new(ls, panel, label);
		l->title = title;
		l->metric = co->metrics[i];
		mine[i] = ls->n - 1;
	}
	for (s = sb.buf; *s; s = nl + (*nl == '\n')) {
		cJSON *o, *data, *v;
		const char *t;
		int64_t ms = 0;

		nl = s + strcspn(s, "\n");
		o = cJSON_ParseWithLength(s, (size_t)(nl - s));
		if (!o)
			continue;
		if ((t = json_str(o, "time")) && time_parse_iso(t, &ms) == 0 && t0 < 0)
			t0 = ms;
		t = json_str(o, "event") ? json_str(o, "event") : "";
		if (!strcmp(t, "started") && started < 0)
			started = ms;
		data = cJSON_GetObjectItemCaseSensitive(o, "data");
		if (!strcmp(t, "metrics") && cJSON_IsObject(data)) {
			/* --x time: milliseconds here, from the run's start once it is known */
			double x = co->xtime ? (double)ms : json_num(o, "step", (double)k);

			for (i = 0; i < co->nmetrics; i++)
				if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(data, co->metrics[i])))
					point(&ls->v[mine[i]], x, v->valuedouble);
			k++;
		}
		cJSON_Delete(o);
	}
	for (i = 0; i < co->nmetrics; i++) {
		struct line *l = &ls->v[mine[i]];

		/* the time in its queue is not the run's: from its first "started" */
		for (j = 0; co->xtime && j < l->n; j++)
			l->x[j] = (l->x[j] - (double)(started >= 0 ? started : t0)) / 1000.0;
		sort_points(l);
		plot_smooth(ls->v[mine[i]].y, ls->v[mine[i]].n, co->smooth);
	}
out:
	free(mine);
	free(p);
	free(ws);
	free(run);
	sbuf_release(&sb);
	return rc;
}

/* --vs: one point per run and metric. */
static void
scatter_lines(struct chart_opts *co, struct report *r, struct lines *ls)
{
	size_t i, k;

	for (i = 0; i < co->nmetrics; i++) {
		char *m = xasprintf("metrics.%s", co->metrics[i]);
		long idm = jfields_find(&r->f, m, strlen(m)), idx = jfields_find(&r->f, co->vs,
		    strlen(co->vs));
		struct line *l = line_new(ls, xstrdup(co->metrics[i]), xstrdup(co->metrics[i]));

		l->metric = co->metrics[i];
		for (k = 0; k < r->nrows; k++) {
			const struct report_row *row = r->rows[k];

			if ((size_t)idm < row->nv && (size_t)idx < row->nv &&
			    row->v[idm].type == JV_NUM && row->v[idx].type == JV_NUM)
				point(l, row->v[idx].num, row->v[idm].num);
		}
		sort_points(l);
		free(m);
	}
}

/*
 * --vs hparams.NAME: true when the job of a selected run samples NAME on a
 * log scale (searchjob_log_scale). The jobs are read from the store when
 * it opens (runs read from stdin may have none).
 */
static int
vs_log_scale(const struct chart_opts *co, const struct report *r)
{
	char err[1024], *url, *last = NULL;
	struct store *st;
	size_t k;
	int log = 0;

	if (strncmp(co->vs, "hparams.", 8) || !r->nrows)
		return 0;
	url = config_store();
	st = store_open(url, err, sizeof(err));
	free(url);
	for (k = 0; st && k < r->nrows && !log; k++) {
		char *ws = value_text(r, r->rows[k], "ws", NULL), *job = value_text(r, r->rows[k], "job", NULL);
		const cJSON *j;

		if (*job && (!last || strcmp(last, job))) {
			j = run_job_get(st, *ws ? ws : tool_workspace(), job);
			log = searchjob_log_scale(j, co->vs + 8);
			run_job_put(j);
		}
		free(last);
		last = job;
		free(ws);
	}
	free(last);
	store_close(st);
	return log;
}

/* The y label of a panel: its one metric's name, or "value" for several. */
static const char *
panel_ylabel(const struct lines *ls, const char *panel)
{
	const char *m = NULL;
	size_t i;

	for (i = 0; i < ls->n; i++) {
		if (strcmp(ls->v[i].panel, panel) || !ls->v[i].metric)
			continue;
		if (m && strcmp(m, ls->v[i].metric))
			return "value";
		m = ls->v[i].metric;
	}
	return m ? m : "value";
}

static void
lines_free(struct lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++) {
		free(ls->v[i].panel);
		free(ls->v[i].title);
		free(ls->v[i].label);
		free(ls->v[i].x);
		free(ls->v[i].y);
	}
	free(ls->v);
}

int
chart_run(struct chart_opts *co, struct report *r, FILE *fp)
{
	struct lines ls = { NULL, 0 };
	struct plot_panel *panels = NULL;
	struct plot_series *series = NULL, *aggs = NULL;
	char **labels = NULL, *title = NULL;
	const char **keys = NULL;
	char *whole = NULL;
	size_t np = 0, ns = 0, na = 0, i, j, k, total = 0;
	struct plot pl;
	FILE *out = fp;
	int rc = 0, xlog = co->xlog > 0;

	report_finish(r);
	if (co->legend && template_check(co, r) < 0) {
		warnx("%s", co->err);
		return 2;
	}
	if (co->vs) {
		scatter_lines(co, r, &ls);
	} else {
		struct store *st = tool_store();

		for (i = 0; i < r->nrows; i++)
			run_lines(co, r, st, r->rows[i], &ls);
		store_close(st);
	}
	for (i = 0; i < ls.n; i++)
		total += ls.v[i].n;
	if (total == 0) {
		warnx("plot: no points of %s%s in the %zu runs selected", co->metrics[0],
		    co->nmetrics > 1 ? " or the other metrics" : "", r->nrows);
		lines_free(&ls);
		return 1;
	}
	if (co->vs && co->xlog < 0)
		xlog = vs_log_scale(co, r);
	/* panels in order of first appearance; each line's series in its panel */
	series = xcalloc(ls.n + 1, sizeof(*series));
	aggs = xcalloc(ls.n + 1, sizeof(*aggs));
	labels = xcalloc(ls.n + 1, sizeof(*labels));
	panels = xcalloc(ls.n + 1, sizeof(*panels));
	keys = xcalloc(ls.n + 1, sizeof(*keys));
	whole = xcalloc(ls.n + 1, sizeof(*whole));
	for (i = 0; i < ls.n; i++) {
		int seen = 0;

		for (j = 0; j < i && !seen; j++)
			seen = !strcmp(ls.v[j].panel, ls.v[i].panel);
		if (seen)
			continue;
		panels[np].title = ls.v[i].title ? ls.v[i].title : ls.v[i].panel;
		keys[np] = ls.v[i].panel;
		panels[np].xlabel = co->vs ? co->vs : co->xtime ? "time (s)" : "step";
		panels[np].ylabel = panel_ylabel(&ls, ls.v[i].panel);
		panels[np].scatter = co->vs != NULL;
		panels[np].xlog = xlog;
		panels[np].ylog = co->ylog;
		panels[np].s = series + ns;
		for (j = i; j < ls.n; j++) {
			struct line *l = &ls.v[j];

			if (strcmp(l->panel, ls.v[i].panel) || l->n == 0)
				continue;
			if (co->agg < 0) {
				series[ns].label = l->label;
				series[ns].x = l->x;
				series[ns].y = l->y;
				series[ns++].n = l->n;
				continue;
			}
			/* aggregate the lines of this panel that share a label, at the first of them */
			for (k = i; k < j; k++)
				if (!strcmp(ls.v[k].panel, l->panel) && !strcmp(ls.v[k].label, l->label) &&
				    ls.v[k].n)
					break;
			if (k < j)
				continue;
			{
				struct plot_series *grp = xcalloc(ls.n, sizeof(*grp));
				size_t ng = 0, m;

				for (m = j; m < ls.n; m++)
					if (!strcmp(ls.v[m].panel, l->panel) && !strcmp(ls.v[m].label, l->label) &&
					    ls.v[m].n) {
						grp[ng].x = ls.v[m].x;
						grp[ng].y = ls.v[m].y;
						grp[ng++].n = ls.v[m].n;
					}
				if (plot_aggregate(grp, ng, (enum plot_agg)co->agg, (enum plot_band)co->band,
				    &aggs[na]) == 0) {
					labels[na] = xasprintf("%s%s%s (%zu runs)",
					    co->agg == PLOT_MEAN ? "mean" : "median", *l->label ? " " : "",
					    l->label, ng);
					aggs[na].label = labels[na];
					series[ns++] = aggs[na++];
				}
				free(grp);
			}
		}
		panels[np].ns = (size_t)(series + ns - panels[np].s);
		np++;
	}
	/* short titles that two panels share: their whole values instead */
	for (i = 0; i < np; i++)
		for (j = 0; j < np && !whole[i]; j++)
			whole[i] = j != i && !strcmp(panels[i].title, panels[j].title) &&
			    strcmp(keys[i], keys[j]);
	for (i = 0; i < np; i++)
		if (whole[i])
			panels[i].title = keys[i];
	memset(&pl, 0, sizeof(pl));
	if (co->smooth > 0) {
		struct sbuf sb;

		sbuf_init(&sb, (size_t)1 << 20);
		for (i = 0; !co->title && i < co->nmetrics; i++)
			sbuf_addf(&sb, "%s%s", i ? ", " : "", co->metrics[i]);
		title = xasprintf("%s (smoothed %g)", co->title ? co->title : sb.buf, co->smooth);
		sbuf_release(&sb);
	}
	pl.title = title ? title : co->title;
	pl.p = panels;
	pl.np = np;
	pl.rows = co->rows;
	pl.cols = co->cols;
	pl.width = co->width;
	pl.height = co->height;
	pl.ascii = co->ascii;
	pl.color = co->color >= 0 ? co->color : !co->out && color_tty(fileno(fp));
	if (co->out && !(out = fopen(co->out, "w"))) {
		warnx("cannot open '%s':", co->out);
		rc = 1;
	} else {
		rc = (co->out ? plot_svg(out, &pl) : plot_term(out, &pl)) < 0;
		if (co->out && fclose(out) != 0)
			rc = 1;
		if (rc)
			warnx("cannot write '%s':", co->out ? co->out : "standard output");
		if (rc && co->out)
			unlink(co->out);	/* no torn SVG left behind */
	}
	for (i = 0; i < na; i++) {
		free(labels[i]);
		plot_series_free(&aggs[i]);
	}
	free(labels);
	free(title);
	free(aggs);
	free(series);
	free(panels);
	free(keys);
	free(whole);
	lines_free(&ls);
	return rc;
}
