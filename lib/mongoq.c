/* mongoq.c: see mongoq.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "json.h"
#include "mongoq.h"
#include "report.h"
#include "util.h"
#include "banned.h"

/* A string of the record's own whenever present (never an array, an object, a number). */
static int
own_scalar(const char *f)
{
	static const char *const own[] = { "ws", "run", "job", "exp", "status", NULL };
	int i;

	for (i = 0; own[i]; i++)
		if (!strcmp(f, own[i]))
			return 1;
	return 0;
}

/* Can the server take f as a path: no empty part, none starting with '$', no map's key with a dot? */
static int
path_ok(const char *f)
{
	const char *p = f, *dot = strchr(f, '.');

	/* a map's key with a dot (metrics.accuracy.2.0) would be a nested path to the server */
	if (dot && expr_is_map(f, (size_t)(dot - f)) && strchr(dot + 1, '.'))
		return 0;
	for (;;) {
		dot = strchr(p, '.');
		if (p == dot || !*p || *p == '$')
			return 0;
		if (!dot)
			return 1;
		p = dot + 1;
	}
}

/* {field: v} */
static cJSON *
is(const char *field, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, field, v);
	return o;
}

/* {field: {op: v}} */
static cJSON *
op(const char *field, const char *name, cJSON *v)
{
	cJSON *in = cJSON_CreateObject();

	cJSON_AddItemToObject(in, name, v);
	return is(field, in);
}

/*
 * {how: [a, b]} for how "$and" or "$or", where NULL means "matches all":
 * an $and drops it, an $or becomes it. A side that is itself an $and or
 * $or of the same kind is spliced in.
 */
static cJSON *
join(const char *how, cJSON *a, cJSON *b)
{
	cJSON *o, *list, *side[2] = { a, b };
	int i;

	if (!a || !b) {
		if (!strcmp(how, "$and"))
			return a ? a : b;
		cJSON_Delete(a);
		cJSON_Delete(b);
		return NULL;
	}
	o = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(o, how);
	for (i = 0; i < 2; i++) {
		cJSON *same = cJSON_GetObjectItemCaseSensitive(side[i], how);

		if (same && cJSON_GetArraySize(side[i]) == 1) {
			while (same->child)
				cJSON_AddItemToArray(list, cJSON_DetachItemViaPointer(same, same->child));
			cJSON_Delete(side[i]);
		} else {
			cJSON_AddItemToArray(list, side[i]);
		}
	}
	return o;
}

/*
 * Does the server's dialect (PCRE) read the POSIX extended expression re
 * as POSIX does, on ASCII text? Literals, '.', anchors, groups,
 * alternation, * + ? after an atom, and bracket lists without backslashes,
 * classes ([:alpha:]) or a leading ']'.
 */
static int
re_portable(const char *re)
{
	const unsigned char *p = (const unsigned char *)re;
	int atom = 0;	/* a quantifier may follow */

	for (; *p; p++) {
		if (*p >= 0x80 || *p == '\\' || *p == '{' || *p == '}')
			return 0;
		if (*p == '*' || *p == '+' || *p == '?') {
			if (!atom)
				return 0;
			atom = 0;
		} else if (*p == '(' || *p == '|' || *p == '^' || *p == '$') {
			atom = 0;
		} else if (*p == '[') {
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				return 0;
			for (; *p && *p != ']'; p++)
				if (*p >= 0x80 || *p == '\\' || (*p == '[' && strchr(":=.", p[1])))
					return 0;
			if (!*p)
				return 0;
			atom = 1;
		} else {
			atom = 1;
		}
	}
	return 1;
}

/* field is an array: one with a first element, or the empty one */
static cJSON *
array(const char *field)
{
	char *first = xasprintf("%s.0", field);
	cJSON *a = op(first, "$exists", cJSON_CreateTrue());

	free(first);
	return join("$or", a, is(field, cJSON_CreateArray()));
}

/*
 * field ~ re, widened: what the server's match may miss. A value that is
 * not a string (xt matches its JSON text), an array (the server looks
 * inside), a string with bytes beyond ASCII (one character to the
 * server, several to POSIX) or long enough to be cut (4096 bytes are
 * at least 1024 characters).
 */
static cJSON *
regex(const char *field, const char *re)
{
	cJSON *m = op(field, "$regex", cJSON_CreateString(re)), *wide;

	cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(m, field), "$options", "s");
	wide = join("$or", m, op(field, "$regex", cJSON_CreateString("[^\\x00-\\x7F]")));
	wide = join("$or", wide, op(field, "$regex", cJSON_CreateString("^[\\s\\S]{1024}")));
	wide = join("$or", wide, array(field));
	/* not a string: no string fails this (libbson's JSON reads a "$type" key as its own) */
	return join("$or", wide, op(field, "$not", is("$regex", cJSON_CreateString("^[\\s\\S]*$"))));
}

static cJSON *literal(const struct expr_view *v);

/* A comparison, its record's side on the left: a filter that takes at least what it takes. */
static cJSON *
cmp(const struct expr_view *v)
{
	static const char *const ops[] = { "$eq", "$ne", "$lt", "$lte", "$gt", "$gte" };
	const char *f = v->field;
	cJSON *c;

	switch (v->op) {
	case EXPR_RE:
		if (re_portable(v->str))
			return join("$and", op(f, "$exists", cJSON_CreateTrue()), regex(f, v->str));
		/* fall through */
	case EXPR_NRE:
		return op(f, "$exists", cJSON_CreateTrue());
	case EXPR_NE:
		if (own_scalar(f) && v->lit == EXPR_STR)
			return join("$and", op(f, "$exists", cJSON_CreateTrue()),
			    op(f, "$ne", cJSON_CreateString(v->str)));
		return op(f, "$exists", cJSON_CreateTrue());
	case EXPR_EQ:
		if (v->lit == EXPR_NUM && !isfinite(v->num))
			return op(f, "$exists", cJSON_CreateTrue());
		return is(f, literal(v));
	default:
		if (v->lit == EXPR_STR)
			return op(f, ops[v->op], literal(v));
		if (v->lit != EXPR_NUM || !isfinite(v->num))
			return op(f, "$exists", cJSON_CreateTrue());
		/* xt reads "-Infinity" and "Infinity" as numbers */
		c = op(f, ops[v->op], literal(v));
		return join("$or", c, is(f, cJSON_CreateString(v->op == EXPR_LT || v->op == EXPR_LE ?
		    "-Infinity" : "Infinity")));
	}
}

static cJSON *
literal(const struct expr_view *v)
{
	switch (v->lit) {
	case EXPR_NUM: return cJSON_CreateNumber(v->num);
	case EXPR_BOOL: return cJSON_CreateBool(v->num != 0);
	case EXPR_NULL: return cJSON_CreateNull();
	default: return cJSON_CreateString(v->str);
	}
}

/* The negation of a comparison or presence, where it is sure; else NULL (all). */
static cJSON *
negated(const struct expr_view *v)
{
	if (v->kind == EXPR_HAS)
		return strchr(v->field, '.') ? NULL : op(v->field, "$exists", cJSON_CreateFalse());
	if (!own_scalar(v->field) || v->lit != EXPR_STR)
		return NULL;
	if (v->op == EXPR_EQ)
		return op(v->field, "$ne", cJSON_CreateString(v->str));
	if (v->op == EXPR_NE)
		return is(v->field, cJSON_CreateString(v->str));
	return NULL;
}

/* A comparison or a presence, as where() takes it. */
static cJSON *
leaf(const struct expr_view *v, int neg)
{
	if (!path_ok(v->field))
		return NULL;
	if (neg)
		return negated(v);
	return v->kind == EXPR_HAS ? op(v->field, "$exists", cJSON_CreateTrue()) : cmp(v);
}

/* e as a filter that takes at least what e takes (of its negation when neg); NULL: all. */
static cJSON *
where(const struct expr *e, int neg)
{
	struct expr_view v;

	expr_view(e, &v);
	switch (v.kind) {
	case EXPR_OR:
		return join(neg ? "$and" : "$or", where(v.a, neg), where(v.b, neg));
	case EXPR_AND:
		return join(neg ? "$or" : "$and", where(v.a, neg), where(v.b, neg));
	case EXPR_NOT:
		return where(v.a, !neg);
	default:
		if (expr_is_bare(v.field) && !own_scalar(v.field)) {
			/*
			 * a bare name: the record's own field, or metrics.NAME or
			 * hparams.NAME (expr.h); those of one with dots (eval.loss)
			 * are not paths to the server (path_ok), so it is left to xt
			 */
			cJSON *any = leaf(&v, neg);
			int k;

			for (k = 0; k < 2; k++) {
				struct expr_view w = v;
				char *p = xasprintf("%s.%s", k ? "hparams" : "metrics", v.field);

				w.field = p;
				any = join("$or", any, leaf(&w, neg));
				free(p);
			}
			return any;
		}
		return leaf(&v, neg);
	}
}

/* {field: {$in: [list]}}, or NULL for an empty list */
static cJSON *
in_list(const char *field, char *const *list, size_t n)
{
	cJSON *a;
	size_t i;

	if (!n)
		return NULL;
	a = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(list[i]));
	return op(field, "$in", a);
}

/* A run-name glob (fnmatch, no flags) as an anchored regular expression. */
static char *
glob_re(const char *g)
{
	struct sbuf sb;

	sbuf_init(&sb, (size_t)1 << 16);
	sbuf_addc(&sb, '^');
	for (; *g; g++) {
		if (*g == '*') {
			sbuf_adds(&sb, ".*");
		} else if (*g == '?') {
			sbuf_addc(&sb, '.');
		} else if (*g == '[') {
			const char *q = g + 1, *end;

			q += *q == '!';
			q += *q == ']';	/* a ']' first is itself */
			end = strchr(q, ']');

			if (!end) {	/* fnmatch: a lone '[' is itself */
				sbuf_adds(&sb, "\\[");
				continue;
			}
			sbuf_addc(&sb, '[');
			g++;
			if (*g == '!')
				sbuf_addc(&sb, '^'), g++;
			for (; g < end; g++) {
				if (*g == '\\' || *g == '[' || *g == ']' || *g == '^')
					sbuf_addc(&sb, '\\');
				sbuf_addc(&sb, *g);
			}
			sbuf_addc(&sb, ']');
		} else {
			if (!((*g >= 'a' && *g <= 'z') || (*g >= 'A' && *g <= 'Z') || (*g >= '0' && *g <= '9')))
				sbuf_addc(&sb, '\\');
			sbuf_addc(&sb, *g);
		}
	}
	sbuf_addc(&sb, '$');
	return sbuf_detach(&sb, NULL);
}

/* The run names, globs and ranges; NULL (all) when a range is among them. */
static cJSON *
names(const struct report *r)
{
	cJSON *any = NULL, *plain = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < r->nnames; i++) {
		const char *s = r->names[i];

		if (strpbrk(s, "*?[")) {
			char *re = glob_re(s);

			any = any ? join("$or", any, op("run", "$regex", cJSON_CreateString(re))) :
			    op("run", "$regex", cJSON_CreateString(re));
			free(re);
		} else if (strchr(s, '-')) {	/* a range, or a name that only looks like one */
			cJSON_Delete(any);
			cJSON_Delete(plain);
			return NULL;
		} else {
			cJSON_AddItemToArray(plain, cJSON_CreateString(s));
			if (!strchr(s, '.')) {	/* a parent's name takes its children */
				char *g = xasprintf("%s.*", s), *re = glob_re(g);

				cJSON *kids = op("run", "$regex", cJSON_CreateString(re));

				any = any ? join("$or", any, kids) : kids;
				free(re);
				free(g);
			}
		}
	}
	if (cJSON_GetArraySize(plain) == 0) {
		cJSON_Delete(plain);
		return any;
	}
	plain = op("run", "$in", plain);
	return any ? join("$or", any, plain) : plain;
}

cJSON *
mongoq_filter(const struct report *r, const char *ws)
{
	cJSON *f = is("ws", cJSON_CreateString(ws));
	size_t i;

	if (r->no_parents)
		f = join("$and", f, op("children", "$exists", cJSON_CreateFalse()));
	f = join("$and", f, in_list("exp", r->exps, r->nexps));
	f = join("$and", f, in_list("job", r->jobs, r->njobs));
	f = join("$and", f, in_list("status", r->statuses, r->nstatuses));
	for (i = 0; i < r->ntags; i++) {
		char *eq = strchr(r->tags[i], '='), *p;

		p = xasprintf("tags.%.*s", eq ? (int)(eq - r->tags[i]) : (int)strlen(r->tags[i]),
		    r->tags[i]);
		if (path_ok(p))
			f = join("$and", f, op(p, "$exists", cJSON_CreateTrue()));
		free(p);
	}
	if (r->nnames)
		f = join("$and", f, names(r));
	for (i = 0; i < r->nwhere; i++)
		f = join("$and", f, where(r->where[i], 0));
	return f;
}

cJSON *
mongoq_projection(const struct report *r)
{
	char *const *list[2] = { r->f.path, r->f.wild };
	size_t n[2] = { r->f.n, r->f.nwild }, i, k;
	cJSON *p;

	if (r->available || (r->out == OUT_JSON && !r->group))
		return NULL;
	/*
	 * Whole top-level fields: a server's projection of a path through an
	 * array is not always the record's (one gave {"n": [null, null]} for
	 * [64, 128] under "layers.n").
	 */
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "_id", 0);
	for (k = 0; k < 2; k++)
		for (i = 0; i < n[k]; i++) {
			const char *path = list[k][i], *dot = strchr(path, '.');
			char *top = xstrndup(path, dot ? (size_t)(dot - path) : strlen(path));

			if (!path_ok(top)) {
				free(top);
				cJSON_Delete(p);
				return NULL;
			}
			if (!cJSON_GetObjectItemCaseSensitive(p, top))
				cJSON_AddNumberToObject(p, top, 1);
			free(top);
		}
	return p;
}

const char *
mongoq_sort_key(const struct report *r, int *desc)
{
	const char *k;

	if (!r->nkeys || !(r->first || r->last) || r->group || r->jobs_report || r->available)
		return NULL;
	k = r->f.path[r->keys[0].id];
	if (!path_ok(k))
		return NULL;
	*desc = r->keys[0].desc;
	return k;
}

/* key is a number, not in an array */
static cJSON *
numeric(const char *key)
{
	char *first = xasprintf("%s.0", key);
	/* 1e308, not DBL_MAX, which prints rounded up, out of range */
	cJSON *f = join("$and", op(key, "$gte", cJSON_CreateNumber(-1e308)),
	    op(key, "$lte", cJSON_CreateNumber(1e308)));

	f = join("$and", f, op(first, "$exists", cJSON_CreateFalse()));
	free(first);
	return f;
}

cJSON *
mongoq_part(const cJSON *filter, const char *key, int part)
{
	cJSON *f = cJSON_Duplicate(filter, 1), *nor;

	if (part == MONGOQ_NUMBERS)
		return join("$and", f, numeric(key));
	nor = cJSON_CreateArray();
	cJSON_AddItemToArray(nor, numeric(key));
	return join("$and", f, is("$nor", nor));
}

cJSON *
mongoq_part_sort(const char *key, int desc)
{
	cJSON *s = cJSON_CreateObject();

	cJSON_AddNumberToObject(s, key, desc ? -1 : 1);
	cJSON_AddNumberToObject(s, "_id", 1);
	return s;
}

static void
add_field(const char *f, const char **out, size_t *n, size_t max)
{
	size_t i;

	if (*n == max || own_scalar(f) || !path_ok(f))
		return;
	for (i = 0; i < *n; i++)
		if (!strcmp(out[i], f))
			return;
	out[(*n)++] = f;
}

/* The fields e compares as they are (not under a not) */
static void
where_fields(const struct expr *e, const char **out, size_t *n, size_t max)
{
	struct expr_view v;

	expr_view(e, &v);
	if (v.kind == EXPR_OR || v.kind == EXPR_AND) {
		where_fields(v.a, out, n, max);
		where_fields(v.b, out, n, max);
	} else if (v.kind == EXPR_CMP && v.op != EXPR_NE && v.op != EXPR_RE && v.op != EXPR_NRE) {
		add_field(v.field, out, n, max);
	}
}

size_t
mongoq_index_fields(const struct report *r, int sort, const char **out, size_t max)
{
	size_t n = 0, i;

	for (i = 0; i < r->nwhere; i++)
		where_fields(r->where[i], out, &n, max);
	if (sort && r->nkeys && !r->group)
		add_field(r->f.path[r->keys[0].id], out, &n, max);
	return n;
}
