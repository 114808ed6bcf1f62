/* report.c: see report.h. */
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "expr.h"
#include "guess.h"
#include "json.h"
#include "name.h"
#include "report.h"
#include "banned.h"

static const char *statuses[] = { "queued", "running", "completed", "failed", "cancelled", "pruned" };
#define NSTATUS 6

/* XT's run statuses (xt list runs --status) that are ours under another name */
static const struct {
	const char *xt, *ours;
} xt_statuses[] = {
	{ "created", "queued" }, { "allocating", "queued" }, { "spawning", "running" },
	{ "error", "failed" }, { "aborted", "cancelled" },
};

/* Our status of s (n bytes, any case), one of ours or XT's name of it; NULL if neither. */
static const char *
status_of(const char *s, size_t n)
{
	size_t k;

	for (k = 0; k < NSTATUS; k++)
		if (strlen(statuses[k]) == n && !strncasecmp(s, statuses[k], n))
			return statuses[k];
	for (k = 0; k < sizeof(xt_statuses) / sizeof(xt_statuses[0]); k++)
		if (strlen(xt_statuses[k].xt) == n && !strncasecmp(s, xt_statuses[k].xt, n))
			return xt_statuses[k].ours;
	return NULL;
}

static const struct {
	const char *name;
	int agg;
} aggs[] = {
	{ "count", AGG_COUNT }, { "mean", AGG_MEAN }, { "avg", AGG_MEAN }, { "min", AGG_MIN },
	{ "max", AGG_MAX }, { "std", AGG_STD }, { "sum", AGG_SUM }, { "first", AGG_FIRST },
};

void
report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
	jfields_init(&r->f);
	jfields_init(&r->seen_names);
	expr_maps(&r->f);
	expr_maps(&r->seen_names);
	hmap_init(&r->gmap);
	sbuf_init(&r->gkey, (size_t)16 << 20);
	r->maxwidth = 30;
	r->precision = 3;
	r->out = OUT_TABLE;
}

static void
row_free(struct report_row *row)
{
	if (!row)
		return;
	free(row->line);
	free(row->v);
	free(row);
}

void
report_release(struct report *r)
{
	size_t i, j;

	for (i = 0; i < r->nwhere; i++)
		expr_free(r->where[i]);
	free(r->where);
	strv_free(r->names, r->nnames);
	strv_free(r->exps, r->nexps);
	strv_free(r->jobs, r->njobs);
	strv_free(r->statuses, r->nstatuses);
	strv_free(r->tags, r->ntags);
	free(r->id_tags);
	free(r->keys);
	for (i = 0; i < r->ncols; i++) {
		free(r->cols[i].name);
		free(r->cols[i].field);
		free(r->cols[i].header);
		free(r->cols[i].fmt);
	}
	free(r->cols);
	free(r->group_name);
	free(r->metric);
	free(r->scratch);
	free(r->seen);
	for (i = 0; i < r->nrows; i++)
		row_free(r->rows[i]);
	free(r->rows);
	for (i = 0; i < r->ngroups; i++) {
		free(r->groups[i].key);
		for (j = 0; j < r->groups[i].nacc; j++)
			free(r->groups[i].acc[j].first);
		free(r->groups[i].acc);
	}
	free(r->groups);
	hmap_release(&r->gmap);
	sbuf_release(&r->gkey);
	jfields_release(&r->f);
	free(r->uses);
	free(r->present);
	jfields_release(&r->seen_names);
	free(r->seen_v);
}

/* At a quote ("'`) of a quoted name: where it closes (or the end); else s. */
static const char *
skip_quoted(const char *s)
{
	char q = *s;

	if (!q || !strchr("\"'`", q))
		return s;
	for (s++; *s && *s != q; s++)
		if (*s == '\\' && s[1])
			s++;
	return s;
}

/* The first of chars in s outside a quoted name (metrics."a,b"), or NULL. */
static char *
unquoted_chr(char *s, const char *chars)
{
	for (; *s; s++) {
		s = (char *)skip_quoted(s);
		if (!*s)
			break;
		if (strchr(chars, *s))
			return s;
	}
	return NULL;
}

/* Split spec at commas into a fresh vector (a comma right after ':' belongs to a format). */
static char **
split(const char *spec, size_t *n)
{
	char **v = NULL;
	const char *p = spec;
	int depth = 0;

	*n = 0;
	for (;;) {
		const char *q = p;

		while (*q && (*q != ',' || depth > 0 || (q > p && q[-1] == ':'))) {
			if (!*(q = skip_quoted(q)))
				break;
			depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
			q++;
		}
		v = xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = xstrndup(p, (size_t)(q - p));
		if (!*q)
			return v;
		p = q + 1;
	}
}

/*
 * The dotted path of the field name s as --where reads it (quoted parts
 * unquoted), "prefix.*" kept when wild; NULL with r->err naming opt.
 */
static char *
field_path(struct report *r, const char *opt, const char *s, int wild)
{
	char why[300], *path, *pre = NULL;
	size_t n = strlen(s);

	if (wild && n >= 2 && !strcmp(s + n - 2, ".*")) {
		if (n == 2)
			return xstrdup(s);
		pre = xstrndup(s, n - 2);
		s = pre;
	}
	if (!(path = expr_field(s, why, sizeof(why)))) {
		snprintf(r->err, sizeof(r->err), "%s: '%s': %s", opt, s, why);
	} else if (pre) {
		char *p = xasprintf("%s.*", path);

		free(path);
		path = p;
	}
	free(pre);
	return path;
}

static void
add_col(struct report *r, const char *name, const char *field, const char *header,
    const char *fmt, int agg)
{
	struct report_col *c;
	size_t n = field ? strlen(field) : 0;

	r->cols = xrealloc(r->cols, (r->ncols + 1) * sizeof(*r->cols));
	c = &r->cols[r->ncols++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->field = field ? xstrdup(field) : NULL;
	c->header = header ? xstrdup(header) : NULL;
	c->fmt = fmt ? xstrdup(fmt) : NULL;
	c->agg = agg;
	c->wild = n >= 2 && !strcmp(field + n - 2, ".*");
	if (c->wild)
		c->field[n - 1] = '\0';	/* "hparams.*" -> "hparams." */
}

int
report_add_columns(struct report *r, const char *spec)
{
	size_t n, i, k;
	char **v = split(spec, &n);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		char *item = v[i], *fmt = NULL, *hdr = NULL, *name, *field, *open, *path = NULL;
		int agg = AGG_NONE;

		if ((fmt = unquoted_chr(item, ":")))
			*fmt++ = '\0';
		if ((hdr = unquoted_chr(item, "=")))
			*hdr++ = '\0';
		name = item;
		field = name;
		if ((open = strchr(name, '('))) {
			size_t l = strlen(name);

			for (k = 0; k < sizeof(aggs) / sizeof(aggs[0]); k++)
				if ((size_t)(open - name) == strlen(aggs[k].name) &&
				    !strncmp(name, aggs[k].name, (size_t)(open - name)))
					agg = aggs[k].agg;
			if (agg == AGG_NONE || name[l - 1] != ')') {
				snprintf(r->err, sizeof(r->err), "-c: '%s': expected FUNC(FIELD), "
				    "FUNC one of count, mean, min, max, std, sum, first", name);
				rc = -1;
				break;
			}
			field = xstrndup(open + 1, l - (size_t)(open - name) - 2);
		} else if (!strcmp(name, "count")) {
			agg = AGG_COUNT;
			field = NULL;
		}
		if (field && !(path = field_path(r, "-c", field, 1)))
			rc = -1;
		else
			add_col(r, name, path, hdr && *hdr ? hdr : NULL, fmt && *fmt ? fmt : NULL, agg);
		free(path);
		if (field != name)
			free(field);
	}
	strv_free(v, n);
	return rc;
}

int
report_add_sort(struct report *r, const char *spec)
{
	size_t n, i;
	char **v = split(spec, &n);
	int rc = 0;

	for (i = 0; i < n; i++) {
		const char *k = v[i];
		char why[300], *path;
		int desc = *k == '-';

		k += desc || *k == '+';
		if (!*k) {
			snprintf(r->err, sizeof(r->err), "--sort: empty key in '%s'", spec);
			rc = -1;
			break;
		}
		/* a field as --where names it, or a group report's column (-mean(metrics.acc)) */
		path = expr_field(k, why, sizeof(why));
		r->keys = xrealloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
		r->keys[r->nkeys].id = jfields_add(&r->f, path ? path : k);
		r->keys[r->nkeys++].desc = desc;
		free(path);
	}
	strv_free(v, n);
	return rc;
}

int
report_add_where(struct report *r, const char *src)
{
	char why[400];
	struct expr *e = expr_parse(src, why, sizeof(why));

	if (!e) {
		snprintf(r->err, sizeof(r->err), "--where: %s\n  %s", why, src);
		return -1;
	}
	r->where = xrealloc(r->where, (r->nwhere + 1) * sizeof(*r->where));
	r->where[r->nwhere++] = e;
	return 0;
}

static int
names_add(char ***v, size_t *nv, const char *spec)
{
	size_t n, i;
	char **s = split(spec, &n);

	*v = xrealloc(*v, (*nv + n) * sizeof(**v));
	for (i = 0; i < n; i++)
		(*v)[(*nv)++] = s[i];
	free(s);
	return 0;
}

int
report_add_names(struct report *r, const char *spec)
{
	size_t before = r->nnames, i;

	names_add(&r->names, &r->nnames, spec);
	for (i = before; i < r->nnames; i++) {
		if (!*r->names[i] || strspn(r->names[i], "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-*?[]!") != strlen(r->names[i])) {
			snprintf(r->err, sizeof(r->err), "'%s' is not a run name, range or pattern",
			    r->names[i]);
			return -1;
		}
	}
	return 0;
}

int
report_add_select(struct report *r, const char *what, const char *spec)
{
	size_t before, i;

	if (!strcmp(what, "exp"))
		return names_add(&r->exps, &r->nexps, spec);
	if (!strcmp(what, "job"))
		return names_add(&r->jobs, &r->njobs, spec);
	if (!strcmp(what, "tag"))
		return names_add(&r->tags, &r->ntags, spec);
	before = r->nstatuses;
	names_add(&r->statuses, &r->nstatuses, spec);
	for (i = before; i < r->nstatuses; i++) {
		const char *ours = status_of(r->statuses[i], strlen(r->statuses[i]));

		if (!ours) {
			snprintf(r->err, sizeof(r->err), "--status: unknown status '%s' (queued, "
			    "running, completed, failed, cancelled, pruned; XT's created, allocating, "
			    "spawning, error, aborted)", r->statuses[i]);
			return -1;
		}
		free(r->statuses[i]);
		r->statuses[i] = xstrdup(ours);
	}
	return 0;
}

int
report_set_group(struct report *r, const char *field)
{
	char *path = field_path(r, "--group", field, 0);

	if (!path)
		return -1;
	free(r->group_name);
	r->group_name = path;
	r->group = 1;
	return 0;
}

void
report_set_jobs(struct report *r, const char *metric, int goal_min)
{
	report_set_group(r, "job");
	r->jobs_report = 1;
	r->no_parents = 1;
	r->metric = metric ? xasprintf("metrics.%s", metric) : NULL;
	r->goal_min = goal_min;
}

static struct report_use *
use(struct report *r, const char *opt, size_t id)
{
	size_t i;

	for (i = 0; i < r->nuses; i++)
		if (r->uses[i].id == id && !strcmp(r->uses[i].opt, opt))
			return &r->uses[i];
	r->uses = xrealloc(r->uses, (r->nuses + 1) * sizeof(*r->uses));
	memset(&r->uses[r->nuses], 0, sizeof(*r->uses));
	r->uses[r->nuses].opt = opt;
	r->uses[r->nuses].id = id;
	return &r->uses[r->nuses++];
}

/* The id of prefix.name, bound already (expr_bind) */
static size_t
alt_id(struct report *r, const char *prefix, const char *name)
{
	char *p = xasprintf("%s.%s", prefix, name);
	size_t id = jfields_add(&r->f, p);

	free(p);
	return id;
}

static void
use_where(struct report *r, const struct expr *e)
{
	struct expr_view v;

	expr_view(e, &v);
	if (v.kind == EXPR_HAS || v.kind == EXPR_CMP) {
		struct report_use *u = use(r, "--where", jfields_add(&r->f, v.field));

		if (expr_is_bare(v.field)) {	/* as expr.h reads a bare name */
			u->bare = 1;
			u->alt[0] = alt_id(r, "metrics", v.field);
			u->alt[1] = alt_id(r, "hparams", v.field);
		}
		return;
	}
	use_where(r, v.a);
	if (v.b)
		use_where(r, v.b);
}

/* Note which named fields the record (selected before --where) has; collect its names while one is missing. */
static void
note_fields(struct report *r, const char *line, size_t len)
{
	size_t i, pos;
	int missing = 0;

	r->based++;
	if (r->npresent < r->f.n) {
		r->present = xrealloc(r->present, r->f.n);
		memset(r->present + r->npresent, 0, r->f.n - r->npresent);
		r->npresent = r->f.n;
	}
	for (i = 0; i < r->nuses; i++) {
		const struct report_use *u = &r->uses[i];
		int k;

		r->present[u->id] |= r->scratch[u->id].type != JV_NONE;
		for (k = 0; u->bare && k < 2; k++)
			r->present[u->alt[k]] |= r->scratch[u->alt[k]].type != JV_NONE;
		missing |= !r->present[u->id] &&
		    !(u->bare && (r->present[u->alt[0]] || r->present[u->alt[1]]));
	}
	if (missing)	/* the line scanned once already */
		jscan(&r->seen_names, line, len, &r->seen_v, &r->seen_cap, &pos);
}

/* Warn of each comparison of status with a value that is no status. */
static void
check_status(const struct expr *e, char ***warn, size_t *nwarn)
{
	struct expr_view v;

	expr_view(e, &v);
	if (v.kind == EXPR_CMP && !strcmp(v.field, "status") && v.lit == EXPR_STR &&
	    v.op != EXPR_RE && v.op != EXPR_NRE && !status_of(v.str, v.slen)) {
		char msg[400], *val = xstrndup(v.str, v.slen);
		struct guess g;
		size_t k;

		snprintf(msg, sizeof(msg), "--where: no run has status '%s'", val);
		guess_init(&g, val);
		for (k = 0; k < NSTATUS; k++)
			guess_try(&g, statuses[k], statuses[k]);
		guess_end(&g, msg, sizeof(msg));
		free(val);
		*warn = xrealloc(*warn, (*nwarn + 1) * sizeof(**warn));
		(*warn)[(*nwarn)++] = xstrdup(msg);
		return;
	}
	if (v.kind == EXPR_OR || v.kind == EXPR_AND || v.kind == EXPR_NOT) {
		check_status(v.a, warn, nwarn);
		if (v.b)
			check_status(v.b, warn, nwarn);
	}
}

static int
was_present(const struct report *r, size_t id)
{
	return id < r->npresent && r->present[id];
}

/*
 * Append "; did you mean 'X'?" to msg for path, a field that no selected
 * record has, when one of the records' names is close. A bare name is
 * guessed among the metrics' and hparams' names too; for bare (as --where
 * reads it) X is that name, else its whole path.
 */
static void
guess_field(const struct report *r, const char *path, int bare, char *msg, size_t len)
{
	struct guess g;
	size_t k;
	int any = expr_is_bare(path);

	guess_init(&g, path);
	for (k = 0; k < r->seen_names.n; k++) {
		const char *c = r->seen_names.path[k];

		guess_try(&g, c, c);
		if (any && (!strncmp(c, "metrics.", 8) || !strncmp(c, "hparams.", 8)))
			guess_try(&g, c + 8, bare ? c + 8 : c);
	}
	guess_end(&g, msg, len);
}

void
report_add_name(struct report *r, const char *opt, const char *path)
{
	use(r, opt, jfields_add(&r->f, path))->quiet = 1;
}

void
report_guess(const struct report *r, const char *path, char *msg, size_t len)
{
	guess_field(r, path, 0, msg, len);
}

int
report_check(struct report *r, char ***warn, size_t *nwarn)
{
	size_t i;

	*warn = NULL;
	*nwarn = 0;
	for (i = 0; i < r->nuses; i++) {
		const struct report_use *u = &r->uses[i];

		if (u->bare && !was_present(r, u->id) && was_present(r, u->alt[0]) &&
		    was_present(r, u->alt[1])) {
			snprintf(r->err, sizeof(r->err), "--where: '%s' is both %s and %s in "
			    "the selected runs; name one", r->f.path[u->id], r->f.path[u->alt[0]],
			    r->f.path[u->alt[1]]);
			return -1;
		}
	}
	for (i = 0; i < r->nwhere; i++)
		check_status(r->where[i], warn, nwarn);
	if (!r->based)
		return 0;
	for (i = 0; i < r->nuses; i++) {
		const struct report_use *u = &r->uses[i];
		const char *path = r->f.path[u->id];
		char msg[600];

		if (u->quiet || was_present(r, u->id) || (u->bare && (was_present(r, u->alt[0]) ||
		    was_present(r, u->alt[1]))) || (r->where_done && !strcmp(u->opt, "--where")))
			continue;
		snprintf(msg, sizeof(msg), "%s: no selected run has '%s'", r->uses[i].opt, path);
		/* --where reads a bare name bare, the others want the whole path */
		guess_field(r, path, u->bare, msg, sizeof(msg));
		*warn = xrealloc(*warn, (*nwarn + 1) * sizeof(**warn));
		(*warn)[(*nwarn)++] = xstrdup(msg);
	}
	return 0;
}

void
report_begin(struct report *r)
{
	size_t i;

	if (!r->parents)
		r->no_parents = 1;
	if (r->ncols == 0 && !r->jobs_report)
		report_add_columns(r, r->group ? "count,mean(metrics.*)" : "run,job,status,hparams.*,metrics.*");
	for (i = 0; i < r->nwhere; i++)
		expr_bind(r->where[i], &r->f);
	r->id_run = jfields_add(&r->f, "run");
	r->id_exp = jfields_add(&r->f, "exp");
	r->id_job = jfields_add(&r->f, "job");
	r->id_status = jfields_add(&r->f, "status");
	r->id_children = jfields_add(&r->f, "children");
	r->id_tags = xcalloc(r->ntags + 1, sizeof(*r->id_tags));
	for (i = 0; i < r->ntags; i++) {
		char *eq = strchr(r->tags[i], '='), *p;

		p = xasprintf("tags.%.*s", eq ? (int)(eq - r->tags[i]) : (int)strlen(r->tags[i]),
		    r->tags[i]);
		r->id_tags[i] = jfields_add(&r->f, p);
		free(p);
	}
	for (i = 0; i < r->ncols; i++) {
		if (r->cols[i].wild)
			jfields_add_wild(&r->f, r->cols[i].field);
		else if (r->cols[i].field)
			r->cols[i].id = jfields_add(&r->f, r->cols[i].field);
	}
	if (r->group)
		r->group_id = jfields_add(&r->f, r->group_name);
	if (r->metric)
		jfields_add(&r->f, r->metric);
	if (r->jobs_report) {
		jfields_add(&r->f, "exp");
		jfields_add(&r->f, "target");
	}
	if (r->available)
		jfields_add_wild(&r->f, "");
	for (i = 0; i < r->nwhere; i++)
		use_where(r, r->where[i]);
	for (i = 0; i < r->ncols; i++)
		if (r->cols[i].field && !r->cols[i].wild)
			use(r, "-c", r->cols[i].id);
	for (i = 0; i < r->nkeys && !r->group; i++)	/* a group's keys name its columns */
		use(r, "--sort", r->keys[i].id);
	if (r->group && !r->jobs_report)
		use(r, "--group", r->group_id);
	if (r->metric)
		use(r, "--metric", (size_t)jfields_find(&r->f, r->metric, strlen(r->metric)));
	jfields_add_wild(&r->seen_names, "");
}

/* The value as a NUL-terminated name in buf (names are short and unescaped), or NULL. */
static const char *
vname(const struct jv *v, char *buf, size_t len)
{
	if (v->type != JV_STR || v->len >= len)
		return NULL;
	if (v->esc)
		jv_unescape(v, buf);
	else {
		memcpy(buf, v->s, v->len);
		buf[v->len] = '\0';
	}
	return buf;
}

static int
in_list(char **list, size_t n, const struct jv *v)
{
	char buf[300];
	const char *s = vname(v, buf, sizeof(buf));
	size_t i;

	if (!s)
		return 0;
	for (i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

/* Does run name s match item: a name, a glob, or a range runA[.i]-runB[.j] (children within)? */
static int
name_match(const char *item, const char *s)
{
	const char *dash;
	long n, k, a, ak, b, bk;
	char lo[160];

	if (strpbrk(item, "*?["))
		return fnmatch(item, s, 0) == 0;
	/* a parent's name takes its children */
	if (!strchr(item, '.') && !strncmp(item, s, strlen(item)) && s[strlen(item)] == '.')
		return 1;
	if ((dash = strchr(item, '-')) && (size_t)(dash - item) < sizeof(lo)) {
		snprintf(lo, sizeof(lo), "%.*s", (int)(dash - item), item);
		if (name_parse_run(lo, &a, &ak) && name_parse_run(dash + 1, &b, &bk) &&
		    name_parse_run(s, &n, &k)) {
			if (!strchr(dash + 1, '.'))
				bk = -1;	/* runB: up to its last child */
			return (n > a || (n == a && k >= ak)) &&
			    (n < b || (n == b && (bk < 0 || k <= bk)));
		}
	}
	return !strcmp(item, s);
}

static int
selected(struct report *r, const struct jv *v)
{
	size_t i;

	if (r->no_parents && v[r->id_children].type != JV_NONE)
		return 0;
	if (r->nexps && !in_list(r->exps, r->nexps, &v[r->id_exp]))
		return 0;
	if (r->njobs && !in_list(r->jobs, r->njobs, &v[r->id_job]))
		return 0;
	if (r->nstatuses && !in_list(r->statuses, r->nstatuses, &v[r->id_status]))
		return 0;
	for (i = 0; i < r->ntags; i++) {
		const struct jv *t = &v[r->id_tags[i]];
		const char *eq = strchr(r->tags[i], '=');

		if (t->type == JV_NONE || t->type == JV_NULL || (t->type == JV_BOOL && !t->num))
			return 0;
		if (eq) {
			struct sbuf sb;
			int same;

			sbuf_init(&sb, 1 << 20);
			jv_text(t, &sb);
			same = !strcmp(sb.buf, eq + 1);
			sbuf_release(&sb);
			if (!same)
				return 0;
		}
	}
	if (r->nnames) {
		char buf[300];
		const char *s = vname(&v[r->id_run], buf, sizeof(buf));

		if (!s)
			return 0;
		for (i = 0; i < r->nnames; i++)
			if (name_match(r->names[i], s))
				break;
		if (i == r->nnames)
			return 0;
	}
	return 1;
}

/* Strings in natural order: runs of digits compare as numbers (run9 < run10). */
static int
natcmp(const struct jv *a, const struct jv *b)
{
	const char *p, *q, *pe, *qe;

	if (a->type != JV_STR || b->type != JV_STR || a->esc || b->esc)
		return jv_cmp(a, b);
	p = a->s, pe = a->s + a->len, q = b->s, qe = b->s + b->len;
	while (p < pe && q < qe) {
		if (isdigit((unsigned char)*p) && isdigit((unsigned char)*q)) {
			const char *ps = p, *qs = q;
			size_t lp, lq;
			int c;

			while (ps < pe && *ps == '0')
				ps++;
			while (qs < qe && *qs == '0')
				qs++;
			for (p = ps; p < pe && isdigit((unsigned char)*p); p++)
				;
			for (q = qs; q < qe && isdigit((unsigned char)*q); q++)
				;
			lp = (size_t)(p - ps), lq = (size_t)(q - qs);
			if (lp != lq)
				return lp < lq ? -1 : 1;
			if ((c = memcmp(ps, qs, lp)))
				return c < 0 ? -1 : 1;
			continue;
		}
		if (*p != *q)
			return (unsigned char)*p < (unsigned char)*q ? -1 : 1;
		p++, q++;
	}
	return p < pe ? 1 : q < qe ? -1 : 0;
}

/* Sort order of one key; a missing value sorts last either way. */
static int
keycmp(const struct jv *a, const struct jv *b, int desc)
{
	int c;

	if (a->type == JV_NONE || b->type == JV_NONE)
		return (a->type == JV_NONE) - (b->type == JV_NONE);
	/* NaN last either way too, before missing */
	if ((a->type == JV_NUM && isnan(a->num)) || (b->type == JV_NUM && isnan(b->num)))
		return (a->type == JV_NUM && isnan(a->num)) - (b->type == JV_NUM && isnan(b->num));
	c = natcmp(a, b);
	return desc ? -c : c;
}

static const struct jv none = { JV_NONE, 0, 0, NULL, 0 };

static const struct jv *
rv(const struct report_row *row, size_t id)
{
	return id < row->nv ? &row->v[id] : &none;
}

static int
rowcmp(const struct report *r, const struct report_row *a, const struct report_row *b)
{
	size_t i;
	int c;

	for (i = 0; i < r->nkeys; i++)
		if ((c = keycmp(rv(a, r->keys[i].id), rv(b, r->keys[i].id), r->keys[i].desc)))
			return c;
	/* then in run order, which does not hang on the order records come in */
	if ((c = keycmp(rv(a, r->id_run), rv(b, r->id_run), 0)))
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Heap order: the root is the row to drop first (the last for --first, the first for --last). */
static int
heapworse(const struct report *r, const struct report_row *a, const struct report_row *b)
{
	int c = rowcmp(r, a, b);

	return r->first ? c > 0 : c < 0;
}

static void
sift_down(struct report *r, size_t i)
{
	size_t n = r->nrows;

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct report_row *t;

		if (l < n && heapworse(r, r->rows[l], r->rows[m]))
			m = l;
		if (l + 1 < n && heapworse(r, r->rows[l + 1], r->rows[m]))
			m = l + 1;
		if (m == i)
			return;
		t = r->rows[i];
		r->rows[i] = r->rows[m];
		r->rows[m] = t;
		i = m;
	}
}

static void
sift_up(struct report *r, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		struct report_row *t;

		if (!heapworse(r, r->rows[i], r->rows[p]))
			return;
		t = r->rows[i];
		r->rows[i] = r->rows[p];
		r->rows[p] = t;
		i = p;
	}
}

static struct report_row *
row_copy(struct report *r, const char *line, size_t len)
{
	struct report_row *row = xmalloc(sizeof(*row));
	size_t i;

	row->line = xmalloc(len + 1);
	memcpy(row->line, line, len);
	row->line[len] = '\0';
	row->len = len;
	row->nv = r->f.n;
	row->v = xmalloc((row->nv ? row->nv : 1) * sizeof(*row->v));
	memcpy(row->v, r->scratch, row->nv * sizeof(*row->v));
	for (i = 0; i < row->nv; i++)
		if (row->v[i].type == JV_NONE)
			row->v[i].s = NULL;
		else if (row->v[i].s)
			row->v[i].s = row->line + (row->v[i].s - line);
	row->seq = r->seq;
	return row;
}

static void
keep(struct report *r, const char *line, size_t len)
{
	long bound = r->first ? r->first : r->last;
	struct report_row probe;

	if (!bound) {
		if (r->nrows == r->caprows) {
			r->caprows = r->caprows * 2 + 256;
			r->rows = xrealloc(r->rows, r->caprows * sizeof(*r->rows));
		}
		r->rows[r->nrows++] = row_copy(r, line, len);
		return;
	}
	if (r->nrows < (size_t)bound) {
		if (r->nrows == r->caprows) {
			r->caprows = r->caprows * 2 + 16;
			r->rows = xrealloc(r->rows, r->caprows * sizeof(*r->rows));
		}
		r->rows[r->nrows] = row_copy(r, line, len);
		sift_up(r, r->nrows++);
		return;
	}
	/* full: replace the root when this row beats it */
	probe.v = r->scratch;
	probe.nv = r->f.n;
	probe.seq = r->seq;
	if (!heapworse(r, r->rows[0], &probe))
		return;
	row_free(r->rows[0]);
	r->rows[0] = row_copy(r, line, len);
	sift_down(r, 0);
}

static struct report_group *
group_of(struct report *r, const struct jv *k)
{
	struct sbuf *sb = &r->gkey;
	size_t *slot;
	int isnew;
	struct report_group *g;

	sbuf_reset(sb);
	sbuf_addc(sb, (char)('0' + k->type));
	if (k->type == JV_NUM)
		sbuf_addf(sb, "%.17g", k->num);
	else
		jv_text(k, sb);
	slot = hmap_put(&r->gmap, sb->buf, sb->len, r->ngroups, &isnew);
	if (isnew) {
		if (r->ngroups == r->capgroups) {
			r->capgroups = r->capgroups * 2 + 16;
			r->groups = xrealloc(r->groups, r->capgroups * sizeof(*r->groups));
		}
		g = &r->groups[r->ngroups++];
		memset(g, 0, sizeof(*g));
		g->keytype = k->type;
		g->keynum = k->num;
		g->key = k->type == JV_NONE ? NULL : xstrdup(sb->buf + 1);
	}
	g = &r->groups[*slot];
	return g;
}

static void
accumulate(struct report *r, const struct jv *v)
{
	struct report_group *g = group_of(r, &v[r->group_id]);
	size_t i;

	g->count++;
	if (g->nacc < r->f.n) {
		g->acc = xrealloc(g->acc, r->f.n * sizeof(*g->acc));
		memset(g->acc + g->nacc, 0, (r->f.n - g->nacc) * sizeof(*g->acc));
		g->nacc = r->f.n;
	}
	if (r->jobs_report) {
		for (i = 0; i < NSTATUS; i++)
			if (v[r->id_status].type == JV_STR && v[r->id_status].len == strlen(statuses[i]) &&
			    !memcmp(v[r->id_status].s, statuses[i], v[r->id_status].len))
				g->status[i]++;
	}
	for (i = 0; i < r->f.n; i++) {
		struct report_acc *a = &g->acc[i];
		double d;

		if (v[i].type == JV_STR && !a->first && r->jobs_report) {
			char *s = xmalloc(v[i].len + 1);

			jv_unescape(&v[i], s);
			a->first = s;
		}
		/* NaN is no value to count, sum or compare */
		if (v[i].type != JV_NUM || isnan(v[i].num))
			continue;
		/* Welford's running mean and variance */
		d = v[i].num - a->mean;
		a->n++;
		a->mean += d / (double)a->n;
		a->m2 += d * (v[i].num - a->mean);
		a->sum += v[i].num;
		if (a->n == 1 || v[i].num < a->min)
			a->min = v[i].num;
		if (a->n == 1 || v[i].num > a->max)
			a->max = v[i].num;
	}
}

/* Whether the record of values v passes every --where. */
static int
passes(const struct report *r, const struct jv *v)
{
	size_t i;

	for (i = 0; i < r->nwhere; i++)
		if (!expr_eval(r->where[i], v, r->f.n))
			return 0;
	return 1;
}

/*
 * The rest of report_line, for a record scanned into r->scratch, which
 * the selection options take (sel) and --where passes (pass).
 */
static int
scanned_as(struct report *r, const char *line, size_t len, int sel, int pass)
{
	size_t i;

	r->seq++;
	if (!sel)
		return 0;
	note_fields(r, line, len);
	if (!pass)
		return 0;
	if (r->available) {
		if (r->nseen < r->f.n) {
			r->seen = xrealloc(r->seen, r->f.n);
			memset(r->seen + r->nseen, 0, r->f.n - r->nseen);
			r->nseen = r->f.n;
		}
		for (i = 0; i < r->f.n; i++)
			r->seen[i] |= r->scratch[i].type != JV_NONE;
		return 1;
	}
	r->matched++;
	if (r->group)
		accumulate(r, r->scratch);
	else
		keep(r, line, len);
	return 1;
}

int
report_line(struct report *r, const char *line, size_t len)
{
	size_t pos;
	int sel;

	if (jscan(&r->f, line, len, &r->scratch, &r->scratchcap, &pos) < 0) {
		snprintf(r->err, sizeof(r->err), "column %zu: not a JSON object", pos + 1);
		return -1;
	}
	sel = selected(r, r->scratch);
	return scanned_as(r, line, len, sel, sel && passes(r, r->scratch));
}

/* A share of a batch's lines, scanned and judged by one thread. */
struct scan_share {
	struct report *r;	/* read only: its fields, selection and --where */
	const char *const *line;
	const size_t *len;
	size_t from, to, stride;
	struct jv *v;		/* stride values a line, for the whole batch */
	size_t *pos;		/* where a line that is not an object went wrong, else -1 */
	unsigned char *take;	/* 0 not selected, 1 selected, 2 and passes --where */
};

static void *
scan_share(void *arg)
{
	struct scan_share *sh = arg;
	size_t i;

	for (i = sh->from; i < sh->to; i++) {
		struct jv *v = sh->v + i * sh->stride;
		size_t cap = sh->stride;

		/* cap holds every field: jscan neither grows v nor touches f (no wildcards) */
		if (jscan(&sh->r->f, sh->line[i], sh->len[i], &v, &cap, &sh->pos[i]) < 0)
			continue;
		sh->pos[i] = (size_t)-1;
		sh->take[i] = selected(sh->r, v) ? 1 + passes(sh->r, v) : 0;
	}
	return NULL;
}

/* Threads that scan a batch: one a CPU, up to 4. */
static int
scan_threads(void)
{
	static int n;

	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c < 1 ? 1 : c > 4 ? 4 : (int)c;
	}
	return n;
}

/* report_lines for a window of at most WINDOW lines. */
static long
window(struct report *r, const char *const *line, const size_t *len, size_t n, size_t *bad)
{
	struct scan_share sh[4];
	pthread_attr_t attr;
	pthread_t tid[4];
	struct jv *v, *own;
	unsigned char *take;
	size_t i, stride, *pos;
	long sel = 0;
	int k, nt = scan_threads(), rc = 0, started[4] = { 0 }, hasattr;

	/*
	 * the first line alone: it binds the fields' tree (jscan builds it
	 * once), and a batch too small to share, or fields with wildcards
	 * (which grow as lines are read), are taken one line at a time
	 */
	for (i = 0; i < n && (i == 0 || nt < 2 || n < 64 || r->f.nwild); i++) {
		if ((rc = report_line(r, line[i], len[i])) < 0) {
			*bad = i;
			return -1;
		}
		sel += rc;
	}
	if (i == n)
		return sel;
	stride = r->f.n ? r->f.n : 1;
	v = xmalloc(n * stride * sizeof(*v));
	pos = xmalloc(n * sizeof(*pos));
	take = xmalloc(n);
	for (k = 0; k < nt; k++) {
		sh[k].r = r;
		sh[k].take = take;
		sh[k].line = line;
		sh[k].len = len;
		sh[k].from = i + (n - i) * (size_t)k / (size_t)nt;
		sh[k].to = i + (n - i) * (size_t)(k + 1) / (size_t)nt;
		sh[k].stride = stride;
		sh[k].v = v;
		sh[k].pos = pos;
	}
	/* a stack as a main thread's, not musl's 128 KiB (regexec, deep records) */
	hasattr = pthread_attr_init(&attr) == 0;
	if (hasattr)
		pthread_attr_setstacksize(&attr, (size_t)8 << 20);
	for (k = 1; k < nt; k++)
		started[k] = pthread_create(&tid[k], hasattr ? &attr : NULL, scan_share, &sh[k]) == 0;
	if (hasattr)
		pthread_attr_destroy(&attr);
	scan_share(&sh[0]);
	for (k = 1; k < nt; k++) {
		if (started[k])
			pthread_join(tid[k], NULL);
		else
			scan_share(&sh[k]);	/* no thread: this one does it */
	}
	/* the rest in order, as report_line would, each from its scan */
	own = r->scratch;
	for (; i < n; i++) {
		if (pos[i] != (size_t)-1) {
			snprintf(r->err, sizeof(r->err), "column %zu: not a JSON object", pos[i] + 1);
			*bad = i;
			sel = -1;
			break;
		}
		r->scratch = v + i * stride;
		sel += scanned_as(r, line[i], len[i], take[i] > 0, take[i] > 1);
	}
	/* the last line's values stay where report_past looks (own holds
	 * every field: the first line grew it) */
	if (sel >= 0)
		memcpy(own, r->scratch, stride * sizeof(*own));
	r->scratch = own;
	free(v);
	free(pos);
	free(take);
	return sel;
}

/* Lines scanned at once: their values (a field of each, 32 bytes) stay in bounds. */
#define WINDOW 8192

long
report_lines(struct report *r, const char *const *line, const size_t *len, size_t n, size_t *bad)
{
	size_t at, k;
	long sel = 0, got;

	for (at = 0; at < n; at += k) {
		k = n - at < WINDOW ? n - at : WINDOW;
		if ((got = window(r, line + at, len + at, k, bad)) < 0) {
			*bad += at;
			return -1;
		}
		sel += got;
	}
	return sel;
}

int
report_past(const struct report *r)
{
	long bound = r->first ? r->first : r->last;
	const struct jv *fed, *root;
	int c;

	if (!bound || !r->nkeys || r->group || r->nrows < (size_t)bound)
		return 0;
	fed = r->keys[0].id < r->f.n ? &r->scratch[r->keys[0].id] : &none;
	root = rv(r->rows[0], r->keys[0].id);	/* the kept row to drop first */
	c = keycmp(fed, root, r->keys[0].desc);
	return r->first ? c > 0 : c < 0;
}

static const struct report *sort_ctx;

static int
qrow(const void *a, const void *b)
{
	return rowcmp(sort_ctx, *(struct report_row *const *)a, *(struct report_row *const *)b);
}

void
report_finish(struct report *r)
{
	sort_ctx = r;
	if (r->nrows)
		qsort(r->rows, r->nrows, sizeof(*r->rows), qrow);
}

/* Thousands separators into the integer digits of the number text in sb from start. */
static void
commas(struct sbuf *sb, size_t start)
{
	char *s = xstrdup(sb->buf + start), *p = s;
	size_t digits, i;

	sb->len = start;
	sb->buf[start] = '\0';
	if (*p == '-')
		sbuf_addc(sb, *p++);
	digits = strspn(p, "0123456789");
	for (i = 0; i < digits; i++) {
		if (i && (digits - i) % 3 == 0)
			sbuf_addc(sb, ',');
		sbuf_addc(sb, p[i]);
	}
	sbuf_adds(sb, p + digits);
	free(s);
}

static void
format_num(const struct report *r, double x, const char *fmt, struct sbuf *sb)
{
	size_t start = sb->len;
	int prec = -1, comma = 0;
	char type = 0;

	if (!isfinite(x)) {
		sbuf_adds(sb, isnan(x) ? "NaN" : x > 0 ? "inf" : "-inf");
		return;
	}
	if (fmt) {
		const char *p = fmt;

		if (*p == ',')
			comma = 1, p++;
		if (*p == '.' && isdigit((unsigned char)p[1])) {
			prec = (int)strtol(p + 1, (char **)&p, 10);
			if (prec > 17)
				prec = 17;
		}
		if (*p && strchr("fegd%", *p))
			type = *p;
	}
	if (type == '%') {
		sbuf_addf(sb, "%.*f%%", prec < 0 ? 1 : prec, x * 100);
	} else if (type == 'e' || type == 'g') {
		sbuf_addf(sb, type == 'e' ? "%.*e" : "%.*g", prec < 0 ? 6 : prec, x);
	} else if (type == 'd' || (type != 'f' && x == floor(x) && fabs(x) < 1e15)) {
		sbuf_addf(sb, "%.0f", x);
	} else {
		int p = prec < 0 ? r->precision : prec;

		if (type != 'f' && x != 0 && (fabs(x) < pow(10, -p) || fabs(x) >= 1e15))
			sbuf_addf(sb, "%.*g", p > 0 ? p : 1, x);
		else
			sbuf_addf(sb, "%.*f", p, x);
	}
	if (comma)
		commas(sb, start);
}

void
report_format(const struct report *r, const struct jv *v, const char *fmt, struct sbuf *sb)
{
	if (fmt && !strcmp(fmt, "$bz") && (v->type == JV_NONE || (v->type == JV_NUM && v->num == 0)))
		return;
	if (fmt && (!strcmp(fmt, "$do") || !strcmp(fmt, "$to")) && v->type == JV_STR) {
		size_t start = sb->len;
		char *t;

		jv_text(v, sb);
		if ((t = strchr(sb->buf + start, 'T'))) {
			if (fmt[1] == 'd') {
				*t = '\0';
			} else {
				char *rest = xstrndup(t + 1, strcspn(t + 1, ".Z+"));

				sb->buf[start] = '\0';
				sb->len = start;
				sbuf_adds(sb, rest);
				free(rest);
				return;
			}
			sb->len = strlen(sb->buf);
		}
		return;
	}
	if (v->type == JV_NUM)
		format_num(r, v->num, fmt && strcmp(fmt, "$bz") ? fmt : NULL, sb);
	else
		jv_text(v, sb);
}

/* The table being written: headers and cells (values that own their text). */
struct table {
	size_t ncols, nrows;
	char **head;
	const char **fmt;
	struct jv *cell;	/* nrows x ncols */
};

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		free(t->head[i]);
	for (i = 0; i < t->ncols * t->nrows; i++)
		free((char *)t->cell[i].s);
	free(t->head);
	free(t->fmt);
	free(t->cell);
}

/* An owned copy of v (its text decoded). */
static struct jv
cell_of(const struct jv *v)
{
	struct jv c = *v;
	struct sbuf sb;

	if (v->type == JV_NONE) {
		c.s = NULL;
		return c;
	}
	sbuf_init(&sb, (size_t)64 << 20);
	jv_text(v, &sb);
	c.esc = 0;
	c.len = sb.len;
	c.s = sbuf_detach(&sb, NULL);
	return c;
}

static struct jv
cell_num(double x)
{
	struct jv c = { JV_NUM, 0, x, NULL, 0 };

	return c;
}

static struct jv
cell_str(const char *s)
{
	struct jv c = { JV_STR, 0, 0, NULL, 0 };

	if (!s) {
		c.type = JV_NONE;
		return c;
	}
	c.s = xstrdup(s);
	c.len = strlen(s);
	return c;
}

static int
field_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The columns with wildcards expanded (fields under them that some row has, sorted). */
static struct report_col *
expand(struct report *r, size_t *n)
{
	struct report_col *out = NULL;
	size_t i, j, k, no = 0;

	for (i = 0; i < r->ncols; i++) {
		char **found = NULL;
		size_t nf = 0, plen;

		if (!r->cols[i].wild) {
			out = xrealloc(out, (no + 1) * sizeof(*out));
			out[no++] = r->cols[i];
			continue;
		}
		plen = strlen(r->cols[i].field);
		for (j = 0; j < r->f.n; j++) {
			int has = 0;

			if (strncmp(r->f.path[j], r->cols[i].field, plen))
				continue;
			for (k = 0; k < r->nrows && !has; k++)
				has = rv(r->rows[k], j)->type != JV_NONE;
			for (k = 0; k < r->ngroups && !has; k++)
				has = j < r->groups[k].nacc && r->groups[k].acc[j].n > 0;
			if (has) {
				found = xrealloc(found, (nf + 1) * sizeof(*found));
				found[nf++] = r->f.path[j];
			}
		}
		if (nf)
			qsort(found, nf, sizeof(*found), field_cmp);
		for (j = 0; j < nf; j++) {
			struct report_col c = r->cols[i];

			c.wild = 0;
			c.field = found[j];
			c.id = (size_t)jfields_find(&r->f, found[j], strlen(found[j]));
			c.name = NULL;	/* named after the field */
			out = xrealloc(out, (no + 1) * sizeof(*out));
			out[no++] = c;
		}
		free(found);
	}
	*n = no;
	return out;
}

static char *
col_title(const struct report_col *c, int group)
{
	static const char *fn[] = { "", "count", "mean", "min", "max", "std", "sum", "first", "best" };

	if (c->header)
		return xstrdup(c->header);
	if (c->name)
		return xstrdup(c->name);
	if (group && c->agg != AGG_NONE)
		return xasprintf("%s(%s)", fn[c->agg], c->field);
	return xstrdup(c->field);
}

static struct jv
agg_cell(const struct report_group *g, const struct report_col *c)
{
	const struct report_acc *a;
	static const struct report_acc zero;

	if (c->agg == AGG_COUNT)
		return cell_num((double)g->count);
	a = c->id < g->nacc ? &g->acc[c->id] : &zero;
	if (c->agg == AGG_FIRST)
		return cell_str(a->first);
	if (a->n == 0)
		return cell_str(NULL);
	switch (c->agg) {
	case AGG_MIN: return cell_num(a->min);
	case AGG_MAX: return cell_num(a->max);
	case AGG_SUM: return cell_num(a->sum);
	case AGG_STD: return a->n > 1 ? cell_num(sqrt(a->m2 / (double)(a->n - 1))) : cell_str(NULL);
	default: return cell_num(a->mean);
	}
}

static int
group_key_cmp(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;
	struct jv u = { x->keytype, 0, x->keynum, x->key, x->key ? strlen(x->key) : 0 };
	struct jv v = { y->keytype, 0, y->keynum, y->key, y->key ? strlen(y->key) : 0 };

	if (u.type == JV_NONE || v.type == JV_NONE)
		return (u.type == JV_NONE) - (v.type == JV_NONE);
	return natcmp(&u, &v);
}

static void
jobs_table(struct report *r, struct table *t)
{
	static const char *heads[] = { "job", "exp", "target", "status", "runs", "queued",
		"running", "completed", "failed", "cancelled", "pruned" };
	size_t i, k, nc = 11 + (r->metric != NULL), idexp, idtarget, idm = 0;

	idexp = (size_t)jfields_find(&r->f, "exp", 3);
	idtarget = (size_t)jfields_find(&r->f, "target", 6);
	if (r->metric)
		idm = (size_t)jfields_find(&r->f, r->metric, strlen(r->metric));
	t->ncols = nc;
	t->head = xcalloc(nc, sizeof(*t->head));
	t->fmt = xcalloc(nc, sizeof(*t->fmt));
	for (k = 0; k < 11; k++)
		t->head[k] = xstrdup(heads[k]);
	if (r->metric)
		t->head[11] = xasprintf("%s(%s)", r->goal_min ? "min" : "max", r->metric);
	for (k = 5; k < 11; k++)
		t->fmt[k] = "$bz";
	t->nrows = r->ngroups;
	t->cell = xcalloc(nc * t->nrows + 1, sizeof(*t->cell));
	for (i = 0; i < r->ngroups; i++) {
		struct report_group *g = &r->groups[i];
		struct jv *c = t->cell + i * nc;
		const long *s = g->status;
		const char *st = s[1] ? "running" : s[0] ? "queued" : s[3] ? "failed" :
		    s[4] == g->count ? "cancelled" : "completed";

		c[0] = cell_str(g->key);
		c[1] = cell_str(idexp < g->nacc ? g->acc[idexp].first : NULL);
		c[2] = cell_str(idtarget < g->nacc ? g->acc[idtarget].first : NULL);
		c[3] = cell_str(st);
		c[4] = cell_num((double)g->count);
		for (k = 0; k < NSTATUS; k++)
			c[5 + k] = cell_num((double)s[k]);
		if (r->metric) {
			c[11] = cell_str(NULL);
			if (idm < g->nacc && g->acc[idm].n)
				c[11] = cell_num(r->goal_min ? g->acc[idm].min : g->acc[idm].max);
		}
	}
}

static const struct table *cmp_table;
static size_t cmp_nkeys;
static const struct report_key *cmp_keys;

static int
qcells(const void *a, const void *b)
{
	const struct jv *x = a, *y = b;
	size_t i;
	int c;

	for (i = 0; i < cmp_nkeys; i++) {
		size_t k = cmp_keys[i].id;

		if ((c = keycmp(&x[k], &y[k], cmp_keys[i].desc)))
			return c;
	}
	return 0;
}

/* Group reports: sort the table by --sort keys naming its columns, then --first/--last. */
static int
group_shape(struct report *r, struct table *t)
{
	struct report_key *keys = xcalloc(r->nkeys + 1, sizeof(*keys));
	size_t i, k, nc = t->ncols, from = 0, n = t->nrows;

	for (i = 0; i < r->nkeys; i++) {
		const char *name = r->f.path[r->keys[i].id];

		for (k = 0; k < nc && strcmp(t->head[k], name); k++)
			;
		if (k == nc) {
			snprintf(r->err, sizeof(r->err), "--sort: no column '%s' in this report", name);
			free(keys);
			return -1;
		}
		keys[i].id = k;
		keys[i].desc = r->keys[i].desc;
	}
	if (r->nkeys && n > 1) {
		/* rows of nc cells: sort through an index, then permute */
		struct jv *copy = xmalloc(nc * n * sizeof(*copy));
		size_t *idx = xmalloc(n * sizeof(*idx)), j;

		cmp_table = t;
		cmp_nkeys = r->nkeys;
		cmp_keys = keys;
		for (i = 0; i < n; i++)
			idx[i] = i;
		for (i = 1; i < n; i++) {	/* insertion sort: groups are few */
			size_t x = idx[i];

			for (j = i; j > 0 && qcells(t->cell + idx[j - 1] * nc, t->cell + x * nc) > 0; j--)
				idx[j] = idx[j - 1];
			idx[j] = x;
		}
		for (i = 0; i < n; i++)
			memcpy(copy + i * nc, t->cell + idx[i] * nc, nc * sizeof(*copy));
		memcpy(t->cell, copy, nc * n * sizeof(*copy));
		free(copy);
		free(idx);
	}
	free(keys);
	if (r->first && (size_t)r->first < n)
		n = (size_t)r->first;
	else if (r->last && (size_t)r->last < n)
		from = n - (size_t)r->last;
	for (i = 0; i < t->nrows * nc; i++)
		if (i < from * nc || i >= (from + n) * nc)
			free((char *)t->cell[i].s);
	memmove(t->cell, t->cell + from * nc, (n - from) * nc * sizeof(*t->cell));
	t->nrows = n - from;
	return 0;
}

static int
build(struct report *r, struct table *t)
{
	struct report_col *cols;
	size_t nc, i, k;

	memset(t, 0, sizeof(*t));
	if (r->group)
		qsort(r->groups, r->ngroups, sizeof(*r->groups), group_key_cmp);
	if (r->jobs_report) {
		jobs_table(r, t);
		return group_shape(r, t);
	}
	cols = expand(r, &nc);
	t->ncols = nc + (r->group != 0);
	t->head = xcalloc(t->ncols + 1, sizeof(*t->head));
	t->fmt = xcalloc(t->ncols + 1, sizeof(*t->fmt));
	if (r->group)
		t->head[0] = xstrdup(r->group_name);
	for (k = 0; k < nc; k++) {
		struct report_col c = cols[k];

		if (r->group && c.agg == AGG_NONE)
			c.agg = AGG_MEAN;
		t->head[k + (r->group != 0)] = col_title(&c, r->group);
		t->fmt[k + (r->group != 0)] = c.fmt;
	}
	if (r->group) {
		t->nrows = r->ngroups;
		t->cell = xcalloc(t->ncols * t->nrows + 1, sizeof(*t->cell));
		for (i = 0; i < r->ngroups; i++) {
			struct jv *c = t->cell + i * t->ncols;
			const struct report_group *g = &r->groups[i];

			c[0] = g->keytype == JV_NUM ? cell_num(g->keynum) : cell_str(g->key);
			if (g->keytype == JV_BOOL || g->keytype == JV_NULL || g->keytype == JV_RAW)
				c[0].type = g->keytype;
			for (k = 0; k < nc; k++) {
				struct report_col col = cols[k];

				if (col.agg == AGG_NONE)
					col.agg = AGG_MEAN;
				c[k + 1] = agg_cell(g, &col);
			}
		}
		free(cols);
		return group_shape(r, t);
	}
	t->nrows = r->nrows;
	t->cell = xcalloc(t->ncols * t->nrows + 1, sizeof(*t->cell));
	for (i = 0; i < r->nrows; i++)
		for (k = 0; k < nc; k++)
			t->cell[i * nc + k] = cols[k].agg == AGG_COUNT ? cell_num(1) :
			    cell_of(rv(r->rows[i], cols[k].id));
	free(cols);
	return 0;
}

/* Display width of UTF-8 text (code points). */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The cell's text for a table: formatted, one line, cut to max code points with "...". */
static char *
display(const struct report *r, const struct jv *c, const char *fmt, int md)
{
	struct sbuf sb;
	size_t i, n = 0;

	sbuf_init(&sb, (size_t)64 << 20);
	report_format(r, c, fmt, &sb);
	for (i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\n' || sb.buf[i] == '\t' || sb.buf[i] == '\r')
			sb.buf[i] = ' ';
	if (md) {
		struct sbuf esc;

		sbuf_init(&esc, (size_t)128 << 20);
		for (i = 0; i < sb.len; i++) {
			if (sb.buf[i] == '|')
				sbuf_addc(&esc, '\\');
			sbuf_addc(&esc, sb.buf[i]);
		}
		sbuf_release(&sb);
		return sbuf_detach(&esc, NULL);
	}
	if (r->maxwidth > 3 && c->type != JV_NUM && width(sb.buf) > (size_t)r->maxwidth) {
		for (i = 0; i < sb.len; i++) {
			if (((unsigned char)sb.buf[i] & 0xc0) != 0x80 && n++ == (size_t)r->maxwidth - 3)
				break;
		}
		sb.len = i;
		sb.buf[i] = '\0';
		sbuf_adds(&sb, "...");
	}
	return sbuf_detach(&sb, NULL);
}

static void
pad(struct sbuf *sb, size_t n)
{
	while (n--)
		sbuf_addc(sb, ' ');
}

static void
write_table(struct report *r, struct table *t, FILE *fp, int md)
{
	size_t nc = t->ncols, i, k;
	size_t *w = xcalloc(nc + 1, sizeof(*w));
	int *right = xcalloc(nc + 1, sizeof(*right));
	char *isnum = xcalloc(nc * t->nrows + 1, 1);
	char **txt = xcalloc(nc * t->nrows + 1, sizeof(*txt));
	struct sbuf sb;

	for (k = 0; k < nc; k++) {
		w[k] = width(t->head[k]);
		right[k] = t->nrows > 0;
		for (i = 0; i < t->nrows; i++) {
			const struct jv *c = &t->cell[i * nc + k];

			txt[i * nc + k] = display(r, c, t->fmt[k], md);
			isnum[i * nc + k] = c->type == JV_NUM;
			if (width(txt[i * nc + k]) > w[k])
				w[k] = width(txt[i * nc + k]);
			if (c->type != JV_NUM && c->type != JV_NONE)
				right[k] = 0;
		}
		if (md && w[k] < 3)
			w[k] = 3;
	}
	sbuf_init(&sb, (size_t)64 << 20);
	for (i = 0; i <= t->nrows + (md != 0); i++) {
		sbuf_reset(&sb);
		for (k = 0; k < nc; k++) {
			const char *s;
			size_t sw;

			sbuf_adds(&sb, md ? (k ? " | " : "| ") : (k ? "  " : ""));
			if (md && i == 1) {
				for (sw = 0; sw < w[k] - (right[k] != 0); sw++)
					sbuf_addc(&sb, '-');
				if (right[k])
					sbuf_addc(&sb, ':');
			} else {
				size_t cell = (i - 1 - (md && i > 1)) * nc + k;
				int rt = i == 0 ? right[k] : isnum[cell];

				s = i == 0 ? t->head[k] : txt[cell];
				sw = width(s);
				if (rt)
					pad(&sb, w[k] - sw);
				sbuf_adds(&sb, s);
				if (!rt)
					pad(&sb, w[k] - sw);
			}
			if (md && k == nc - 1)
				sbuf_adds(&sb, " |");
		}
		while (sb.len && sb.buf[sb.len - 1] == ' ')
			sb.buf[--sb.len] = '\0';
		fputs(sb.buf, fp);
		putc('\n', fp);
	}
	sbuf_release(&sb);
	for (i = 0; i < nc * t->nrows; i++)
		free(txt[i]);
	free(txt);
	free(isnum);
	free(w);
	free(right);
}

static void
write_sep(struct report *r, struct table *t, FILE *fp, char sep)
{
	size_t i, k;
	struct sbuf sb;

	sbuf_init(&sb, (size_t)64 << 20);
	for (i = 0; i <= t->nrows; i++) {
		for (k = 0; k < t->ncols; k++) {
			const char *s;

			sbuf_reset(&sb);
			if (i == 0)
				sbuf_adds(&sb, t->head[k]);
			else if (t->fmt[k])
				report_format(r, &t->cell[(i - 1) * t->ncols + k], t->fmt[k], &sb);
			else
				jv_text(&t->cell[(i - 1) * t->ncols + k], &sb);
			if (k)
				putc(sep, fp);
			if (sep == ',' && strpbrk(sb.buf, ",\"\r\n")) {
				putc('"', fp);
				for (s = sb.buf; *s; s++) {
					if (*s == '"')
						putc('"', fp);
					putc(*s, fp);
				}
				putc('"', fp);
			} else if (sep == '\t') {
				for (s = sb.buf; *s; s++)
					fputs(*s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" :
					    *s == '\\' ? "\\\\" : (char[2]){ *s, 0 }, fp);
			} else {
				fputs(sb.buf, fp);
			}
		}
		putc('\n', fp);
	}
	sbuf_release(&sb);
}

static void
write_json_cells(struct table *t, FILE *fp)
{
	size_t i, k;

	for (i = 0; i < t->nrows; i++) {
		cJSON *o = cJSON_CreateObject();

		for (k = 0; k < t->ncols; k++) {
			const struct jv *c = &t->cell[i * t->ncols + k];
			cJSON *v;

			switch (c->type) {
			case JV_NONE: continue;
			case JV_NUM:
				/* what JSON cannot hold, as xt stores it */
				v = isfinite(c->num) ? cJSON_CreateNumber(c->num) :
				    cJSON_CreateString(isnan(c->num) ? "NaN" : c->num > 0 ?
				    "Infinity" : "-Infinity");
				break;
			case JV_BOOL: v = cJSON_CreateBool(c->num != 0); break;
			case JV_NULL: v = cJSON_CreateNull(); break;
			case JV_RAW: v = cJSON_ParseWithLength(c->s, c->len); break;
			default: v = cJSON_CreateString(c->s); break;
			}
			if (v)
				cJSON_AddItemToObject(o, t->head[k], v);
		}
		json_print_line(fp, o);
		cJSON_Delete(o);
	}
}

static int
write_available(struct report *r, FILE *fp)
{
	char **names = xmalloc((r->f.n + 1) * sizeof(*names));
	size_t i, n = 0;

	for (i = 0; i < r->nseen; i++)
		if (r->seen[i])
			names[n++] = r->f.path[i];
	qsort(names, n, sizeof(*names), field_cmp);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s\n", names[i]);
	free(names);
	return ferror(fp) ? -1 : 0;
}

int
report_write(struct report *r, FILE *fp)
{
	struct table t;
	size_t i;

	if (r->available)
		return write_available(r, fp);
	report_finish(r);
	if (r->out == OUT_JSON && !r->group) {
		for (i = 0; i < r->nrows; i++) {
			fwrite(r->rows[i]->line, 1, r->rows[i]->len, fp);
			putc('\n', fp);
		}
		return ferror(fp) ? -1 : 0;
	}
	if (build(r, &t) < 0) {
		table_free(&t);
		return -2;
	}
	switch (r->out) {
	case OUT_JSON: write_json_cells(&t, fp); break;
	case OUT_CSV: write_sep(r, &t, fp, ','); break;
	case OUT_TSV: write_sep(r, &t, fp, '\t'); break;
	case OUT_MD: write_table(r, &t, fp, 1); break;
	default: write_table(r, &t, fp, 0); break;
	}
	table_free(&t);
	return ferror(fp) ? -1 : 0;
}
