/* space.c: see space.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "name.h"
#include "space.h"
#include "util.h"
#include "banned.h"

#define SPACE_MAX_FILE ((size_t)1 << 20)
#define SPACE_MAX_ARGS 4096
#define RANDINT_DEFAULT 65535

static const struct {
	const char *name;
	enum hp_kind kind;
	int nargs;		/* numbers wanted (-1: $choice, $linspace, $randint) */
	const char *args;	/* for messages */
} dists[] = {
	{ "choice", HP_CHOICE, -1, "(value, ...)" },
	{ "linspace", HP_CHOICE, -1, "(low, high, count)" },
	{ "randint", HP_RANDINT, -1, "([low,] high)" },
	{ "uniform", HP_UNIFORM, 2, "(low, high)" },
	{ "quniform", HP_QUNIFORM, 3, "(low, high, q)" },
	{ "loguniform", HP_LOGUNIFORM, 2, "(low, high)" },
	{ "qloguniform", HP_QLOGUNIFORM, 3, "(low, high, q)" },
	{ "normal", HP_NORMAL, 2, "(mu, sigma)" },
	{ "qnormal", HP_QNORMAL, 3, "(mu, sigma, q)" },
	{ "lognormal", HP_LOGNORMAL, 2, "(mu, sigma)" },
	{ "qlognormal", HP_QLOGNORMAL, 3, "(mu, sigma, q)" },
};

static cJSON *
must(cJSON *v)
{
	if (!v)
		die("out of memory");
	return v;
}

void
space_init(struct space *sp)
{
	sp->hp = NULL;
	sp->n = 0;
}

void
space_release(struct space *sp)
{
	for (int i = 0; i < sp->n; i++) {
		free(sp->hp[i].name);
		free(sp->hp[i].where);
		cJSON_Delete(sp->hp[i].values);
	}
	free(sp->hp);
	space_init(sp);
}

/* A fresh copy of s[0..n) without blanks at either end. Caller frees. */
static char *
trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/*
 * One list element or $choice argument: a number, true, false, null, a
 * quoted string, or else the text itself as a string. Caller frees.
 */
static cJSON *
scalar(const char *t)
{
	size_t n = strlen(t);
	double d;

	if (n >= 2 && (t[0] == '"' || t[0] == '\'') && t[n - 1] == t[0])
	{
		char *in = xstrndup(t + 1, n - 2);
		cJSON *v = must(cJSON_CreateString(in));

		free(in);
		return v;
	}
	if (parse_double(t, &d) == 0 && isfinite(d) && !isalpha((unsigned char)t[0]))
		return must(cJSON_CreateNumber(d));
	if (!strcmp(t, "true") || !strcmp(t, "false"))
		return must(cJSON_CreateBool(t[0] == 't'));
	if (!strcmp(t, "null"))
		return must(cJSON_CreateNull());
	return must(cJSON_CreateString(t));
}

/*
 * Split s (without its brackets) at the commas outside quotes and
 * parentheses into trimmed parts, so that "$linspace(.1, .9, 5)" stays
 * one. Returns the count, or -1 for an empty part or too many.
 * Caller frees parts[i].
 */
static int
split(const char *s, char **parts, int max)
{
	int n = 0, depth = 0;
	char quote = 0;
	const char *start = s, *p;

	if (!*s || strspn(s, " \t") == strlen(s))
		return 0;
	for (p = s;; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (!*p)
				break;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
			continue;
		}
		depth += *p == '(' ? 1 : *p == ')' && depth > 0 ? -1 : 0;
		if ((*p != ',' || depth > 0) && *p)
			continue;
		if (n == max)
			break;
		parts[n] = trim(start, (size_t)(p - start));
		if (!*parts[n]) {
			free(parts[n]);
			break;
		}
		n++;
		if (!*p)
			return n;
		start = p + 1;
	}
	while (n)
		free(parts[--n]);
	return -1;
}

static int PRINTF(5, 6)
bad(char *err, size_t errlen, const struct hparam *h, const char *spec, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: hparam '%s': bad spec '%s': %s", h->where, h->name, spec, why);
	return -1;
}

/* Fill h's numbers from parts for the distribution d. 0 or -1 with err. */
static int
numbers(struct hparam *h, int d, char **parts, int n, const char *spec, char *err, size_t errlen)
{
	double v[3] = { 0, 0, 0 };

	for (int i = 0; i < n && i < 3; i++)
		if (parse_double(parts[i], &v[i]) < 0 || !isfinite(v[i]))
			return bad(err, errlen, h, spec, "'%s' is not a number", parts[i]);
	h->kind = dists[d].kind;
	if (h->kind == HP_RANDINT) {
		if (n > 2)
			return bad(err, errlen, h, spec, "$randint takes ([low,] high)");
		h->a = n == 2 ? v[0] : 0;
		h->b = n == 0 ? RANDINT_DEFAULT : n == 1 ? v[0] : v[1];
		if (h->a != floor(h->a) || h->b != floor(h->b) || fabs(h->a) > 1e15 ||
		    fabs(h->b) > 1e15)
			return bad(err, errlen, h, spec, "$randint takes whole numbers");
		if (h->a >= h->b)
			return bad(err, errlen, h, spec, "$randint needs low < high (high is left out)");
		return 0;
	}
	if (n != dists[d].nargs)
		return bad(err, errlen, h, spec, "$%s takes %d numbers %s", dists[d].name,
		    dists[d].nargs, dists[d].args);
	h->a = v[0], h->b = v[1], h->q = v[2];
	switch (h->kind) {
	case HP_UNIFORM: case HP_QUNIFORM:
		if (h->a >= h->b)
			return bad(err, errlen, h, spec, "low must be below high");
		break;
	case HP_LOGUNIFORM: case HP_QLOGUNIFORM:
		if (h->a <= 0 || h->a >= h->b)
			return bad(err, errlen, h, spec, "needs 0 < low < high");
		break;
	default:
		if (h->b <= 0)
			return bad(err, errlen, h, spec, "sigma must be above 0");
	}
	if (n == 3 && h->q <= 0)
		return bad(err, errlen, h, spec, "q must be above 0");
	return 0;
}

/* $linspace(a, b, n): a choice of n values. */
static int
linspace(struct hparam *h, char **parts, int n, const char *spec, char *err, size_t errlen)
{
	double a, b;
	int64_t k;

	if (n != 3)
		return bad(err, errlen, h, spec, "$linspace takes 3 numbers (low, high, count)");
	if (parse_double(parts[0], &a) < 0 || !isfinite(a))
		return bad(err, errlen, h, spec, "'%s' is not a number", parts[0]);
	if (parse_double(parts[1], &b) < 0 || !isfinite(b))
		return bad(err, errlen, h, spec, "'%s' is not a number", parts[1]);
	if (parse_i64(parts[2], 1, 100000, &k) < 0)
		return bad(err, errlen, h, spec, "count '%s' is not a whole number from 1 to 100000",
		    parts[2]);
	h->kind = HP_CHOICE;
	h->values = must(cJSON_CreateArray());
	for (int64_t i = 0; i < k; i++) {
		double x = k == 1 ? a : i == k - 1 ? b : a + (b - a) * (double)i / (double)(k - 1);

		cJSON_AddItemToArray(h->values, must(cJSON_CreateNumber(x)));
	}
	return 0;
}

/* Is the list value t a $distribution (not a quoted string that starts with '$')? */
static int
is_dist(const char *t)
{
	return t[0] == '$' && strchr(t, '(');
}

/* A choice of the values parts[0..n). */
static int
choice(struct hparam *h, char **parts, int n, const char *spec, char *err, size_t errlen)
{
	if (n <= 0)
		return bad(err, errlen, h, spec, n < 0 ? "an empty value in the list" :
		    "the list of values is empty");
	for (int i = 0; i < n; i++)
		if (is_dist(parts[i]))
			return bad(err, errlen, h, spec, "'%s' must be alone in '[...]', or be quoted "
			    "to be a string", parts[i]);
	h->kind = HP_CHOICE;
	h->values = must(cJSON_CreateArray());
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(h->values, scalar(parts[i]));
	return 0;
}

/* Parse text into h (name and where already set). 0 or -1 with err, which quotes spec. */
static int
parse_spec(struct hparam *h, const char *text, const char *spec, char *err, size_t errlen)
{
	char *t = trim(text, strlen(text)), *parts[SPACE_MAX_ARGS];
	size_t len = strlen(t);
	int n = 0, ret = -1, d;

	if (!len) {
		ret = bad(err, errlen, h, spec, "empty");
	} else if (t[0] == '[') {
		if (t[len - 1] != ']') {
			ret = bad(err, errlen, h, spec, "a list must end with ']'");
		} else {
			t[len - 1] = '\0';
			n = split(t + 1, parts, SPACE_MAX_ARGS);
			/* XT's "[$linspace(a, b, n)]", "[$randint()]": the list is its one distribution. */
			if (n == 1 && is_dist(parts[0]))
				ret = parse_spec(h, parts[0], spec, err, errlen);
			else
				ret = choice(h, parts, n, spec, err, errlen);
		}
	} else if (t[0] == '$') {
		char *open = strchr(t, '(');
		size_t nl = open ? (size_t)(open - t - 1) : len - 1;

		for (d = 0; d < (int)(sizeof(dists) / sizeof(dists[0])); d++)
			if (strlen(dists[d].name) == nl && !strncmp(t + 1, dists[d].name, nl))
				break;
		if (d == (int)(sizeof(dists) / sizeof(dists[0])))
			ret = bad(err, errlen, h, spec, "unknown distribution '$%.*s'", (int)nl, t + 1);
		else if (!open || t[len - 1] != ')')
			ret = bad(err, errlen, h, spec, "expected $%s%s", dists[d].name, dists[d].args);
		else {
			t[len - 1] = '\0';
			n = split(open + 1, parts, SPACE_MAX_ARGS);
			if (n < 0)
				ret = bad(err, errlen, h, spec, "an empty argument");
			else if (!strcmp(dists[d].name, "choice"))
				ret = choice(h, parts, n, spec, err, errlen);
			else if (!strcmp(dists[d].name, "linspace"))
				ret = linspace(h, parts, n, spec, err, errlen);
			else
				ret = numbers(h, d, parts, n, spec, err, errlen);
		}
	} else {
		h->kind = HP_FIXED;
		h->values = must(cJSON_CreateArray());
		cJSON_AddItemToArray(h->values, scalar(t));
		ret = 0;
	}
	while (n > 0)
		free(parts[--n]);
	free(t);
	if (ret == 0)
		h->nvalues = cJSON_GetArraySize(h->values);
	return ret;
}

/* Add h to sp, or fail on a bad or duplicate name; spec NULL: values already set. */
static int
add(struct space *sp, const char *name, const char *spec, cJSON *values, const char *where,
    char *err, size_t errlen)
{
	struct hparam h = { 0 };
	char why[128];

	if (name_check(name, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: hparam name '%s' %s", where, name, why);
		cJSON_Delete(values);
		return -1;
	}
	for (int i = 0; i < sp->n; i++)
		if (!strcmp(sp->hp[i].name, name)) {
			snprintf(err, errlen, "%s: hparam '%s' given twice (first at %s)", where, name,
			    sp->hp[i].where);
			cJSON_Delete(values);
			return -1;
		}
	h.name = xstrdup(name);
	h.where = xstrdup(where);
	if (values) {
		h.kind = HP_CHOICE;
		h.values = values;
		h.nvalues = cJSON_GetArraySize(values);
	} else if (parse_spec(&h, spec, spec, err, errlen) < 0) {
		free(h.name);
		free(h.where);
		cJSON_Delete(h.values);
		return -1;
	}
	sp->hp = xrealloc(sp->hp, (size_t)(sp->n + 1) * sizeof(*sp->hp));
	sp->hp[sp->n++] = h;
	return 0;
}

int
space_add(struct space *sp, const char *name, const char *spec, const char *where, char *err,
    size_t errlen)
{
	return add(sp, name, spec, NULL, where, err, errlen);
}

int
space_add_arg(struct space *sp, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char *name, *where;
	int ret;

	if (!eq || eq == arg) {
		snprintf(err, errlen, "argument '%s': expected NAME=SPEC", arg);
		return -1;
	}
	name = xstrndup(arg, (size_t)(eq - arg));
	where = xasprintf("argument '%s'", arg);
	ret = add(sp, name, eq + 1, NULL, where, err, errlen);
	free(name);
	free(where);
	return ret;
}

/* The first plain item of the sequence node v that is a $distribution, or NULL. */
static yaml_node_t *
dist_item(yaml_document_t *doc, yaml_node_t *v)
{
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	    it++) {
		yaml_node_t *e = yaml_document_get_node(doc, *it);

		if (e->type == YAML_SCALAR_NODE && e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    is_dist((const char *)e->data.scalar.value))
			return e;
	}
	return NULL;
}

/* The hparams of the mapping node m of doc, parsed from src. */
static int
load_map(struct space *sp, yaml_document_t *doc, yaml_node_t *m, const char *src,
    const char *path, char *err, size_t errlen)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value), *d;
		char where[4200];
		int ret;

		snprintf(where, sizeof(where), "%s:%zu", path, k->start_mark.line + 1);
		if (k->type != YAML_SCALAR_NODE) {
			snprintf(err, errlen, "%s: an hparam name must be a plain name", where);
			return -1;
		}
		snprintf(where, sizeof(where), "%s:%zu", path, v->start_mark.line + 1);
		if (v->type == YAML_SCALAR_NODE) {
			const char *text = (const char *)v->data.scalar.value;
			cJSON *one = NULL;

			/* A quoted YAML string is a string, unless it is a $distribution. */
			if (v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE && text[0] != '$') {
				one = must(cJSON_CreateArray());
				cJSON_AddItemToArray(one, must(cJSON_CreateString(text)));
			}
			ret = add(sp, (const char *)k->data.scalar.value, text, one, where, err, errlen);
			if (ret == 0 && one)
				sp->hp[sp->n - 1].kind = HP_FIXED;
		} else if (v->type == YAML_SEQUENCE_NODE && (d = dist_item(doc, v)) != NULL) {
			/*
			 * XT's "[$linspace(a, b, n)]": YAML split it at its commas, so the
			 * spec is the list's own text; or one "- $dist" item.
			 */
			char *spec = v->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE ?
			    xstrndup(src + v->start_mark.index, v->end_mark.index - v->start_mark.index) :
			    xstrdup((const char *)d->data.scalar.value);

			if (v->data.sequence.style != YAML_FLOW_SEQUENCE_STYLE &&
			    v->data.sequence.items.top - v->data.sequence.items.start > 1) {
				snprintf(err, errlen, "%s:%zu: hparam '%s': '%s' must be alone in the list, "
				    "or be quoted to be a string", path, d->start_mark.line + 1,
				    k->data.scalar.value, spec);
				ret = -1;
			} else {
				ret = add(sp, (const char *)k->data.scalar.value, spec, NULL, where, err,
				    errlen);
			}
			free(spec);
		} else if (v->type == YAML_SEQUENCE_NODE) {
			cJSON *vals = must(cJSON_CreateArray());

			for (yaml_node_item_t *it = v->data.sequence.items.start;
			    it < v->data.sequence.items.top; it++) {
				yaml_node_t *e = yaml_document_get_node(doc, *it);
				const char *text;

				if (e->type != YAML_SCALAR_NODE) {
					snprintf(err, errlen, "%s:%zu: hparam '%s': a list value must be a scalar",
					    path, e->start_mark.line + 1, k->data.scalar.value);
					cJSON_Delete(vals);
					return -1;
				}
				text = (const char *)e->data.scalar.value;
				cJSON_AddItemToArray(vals, e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ?
				    scalar(text) : must(cJSON_CreateString(text)));
			}
			if (cJSON_GetArraySize(vals) == 0) {
				snprintf(err, errlen, "%s: hparam '%s': bad spec '[]': the list of values is empty",
				    where, k->data.scalar.value);
				cJSON_Delete(vals);
				return -1;
			}
			ret = add(sp, (const char *)k->data.scalar.value, NULL, vals, where, err, errlen);
		} else {
			snprintf(err, errlen, "%s: hparam '%s': expected a value, a list or a $distribution",
			    where, k->data.scalar.value);
			return -1;
		}
		if (ret < 0)
			return -1;
	}
	return 0;
}

int
space_load_text(struct space *sp, const char *path, const char *text, size_t len, char *err,
    size_t errlen)
{
	yaml_parser_t yp;
	yaml_document_t doc;
	yaml_node_t *root, *m = NULL;
	int ret = -1;

	if (!yaml_parser_initialize(&yp))
		die("out of memory");
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", path, yp.problem_mark.line + 1,
		    yp.problem_mark.column + 1, yp.problem ? yp.problem : "bad YAML");
		yaml_parser_delete(&yp);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		    p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);

			if (k->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k->data.scalar.value, "hyperparameter-distributions"))
				m = yaml_document_get_node(&doc, p->value);
		}
	if (!m)
		snprintf(err, errlen, "%s:%zu: no 'hyperparameter-distributions:' mapping", path,
		    root ? root->start_mark.line + 1 : 1);
	else if (m->type != YAML_MAPPING_NODE)
		snprintf(err, errlen, "%s:%zu: 'hyperparameter-distributions:' must be a mapping", path,
		    m->start_mark.line + 1);
	else
		ret = load_map(sp, &doc, m, text, path, err, errlen);
	yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	return ret;
}

int
space_load(struct space *sp, const char *path, char *err, size_t errlen)
{
	struct sbuf sb;
	int ret;

	sbuf_init(&sb, SPACE_MAX_FILE);
	if (file_read(path, &sb) < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		sbuf_release(&sb);
		return -1;
	}
	ret = space_load_text(sp, path, sb.buf, sb.len, err, errlen);
	sbuf_release(&sb);
	return ret;
}

void
hparam_dim(const struct hparam *h, struct hp_dim *d)
{
	memset(d, 0, sizeof(*d));
	switch (h->kind) {
	case HP_FIXED:
		d->fixed = 1;
		break;
	case HP_CHOICE:
		d->ncat = h->nvalues;
		d->fixed = h->nvalues == 1;
		break;
	case HP_RANDINT:
		/* Half a unit either side, so each integer gets the same width. */
		d->bounded = d->integer = 1;
		d->lo = h->a - 0.5, d->hi = h->b - 0.5;
		break;
	case HP_UNIFORM: case HP_QUNIFORM:
		d->bounded = 1;
		d->lo = h->a, d->hi = h->b;
		break;
	case HP_LOGUNIFORM: case HP_QLOGUNIFORM:
		d->bounded = 1;
		d->lo = log(h->a), d->hi = log(h->b);
		break;
	default:
		d->mu = h->a, d->sigma = h->b;
	}
}

double
hparam_sample(const struct hparam *h, struct rng *r)
{
	switch (h->kind) {
	case HP_FIXED:
		return 0;
	case HP_CHOICE:
		return (double)rng_below(r, (uint64_t)h->nvalues);
	case HP_RANDINT:
		return h->a + (double)rng_below(r, (uint64_t)(h->b - h->a));
	case HP_UNIFORM: case HP_QUNIFORM:
		return h->a + (h->b - h->a) * rng_uniform(r);
	case HP_LOGUNIFORM: case HP_QLOGUNIFORM:
		return log(h->a) + (log(h->b) - log(h->a)) * rng_uniform(r);
	default:
		return h->a + h->b * rng_normal(r);
	}
}

static double
quantize(double v, double q)
{
	return round(v / q) * q;
}

cJSON *
hparam_value(const struct hparam *h, double x)
{
	double v;

	switch (h->kind) {
	case HP_FIXED:
		return must(cJSON_Duplicate(cJSON_GetArrayItem(h->values, 0), 1));
	case HP_CHOICE: {
		double i = round(x);

		i = i < 0 ? 0 : i > h->nvalues - 1 ? h->nvalues - 1 : i;
		return must(cJSON_Duplicate(cJSON_GetArrayItem(h->values, (int)i), 1));
	}
	case HP_RANDINT:
		v = round(x);
		v = v < h->a ? h->a : v > h->b - 1 ? h->b - 1 : v;
		break;
	case HP_UNIFORM: case HP_QUNIFORM:
		v = x < h->a ? h->a : x > h->b ? h->b : x;
		break;
	case HP_LOGUNIFORM: case HP_QLOGUNIFORM:
		v = exp(x);
		v = v < h->a ? h->a : v > h->b ? h->b : v;
		break;
	case HP_NORMAL: case HP_QNORMAL:
		v = x;
		break;
	default:
		v = exp(x);
	}
	if (h->q > 0)
		v = quantize(v, h->q);
	/* -0 would print as "-0". */
	return must(cJSON_CreateNumber(v == 0 ? 0 : v));
}

/* Equal values: numbers by value, everything else by cJSON's comparison. */
static int
same(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return cJSON_Compare(a, b, 1);
}

int
hparam_encode(const struct hparam *h, const cJSON *v, double *x)
{
	double d;

	if (h->kind == HP_FIXED || h->kind == HP_CHOICE) {
		const cJSON *it;
		int i = 0;

		/* a walk of the list: cJSON_GetArrayItem(i) would walk it again each time */
		cJSON_ArrayForEach(it, h->values) {
			if (same(it, v)) {
				*x = i;
				return 0;
			}
			i++;
		}
		return -1;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
		return -1;
	d = v->valuedouble;
	switch (h->kind) {
	case HP_RANDINT:
		if (d != floor(d) || d < h->a || d >= h->b)
			return -1;
		break;
	case HP_UNIFORM: case HP_QUNIFORM:
		/* A quantized value may lie half a step outside the range. */
		if (d < h->a - h->q || d > h->b + h->q)
			return -1;
		break;
	case HP_LOGUNIFORM: case HP_QLOGUNIFORM:
		if (d < 0 || d > h->b + h->q || (h->kind == HP_LOGUNIFORM && d < h->a))
			return -1;
		d = log(d < h->a ? h->a : d);
		break;
	case HP_LOGNORMAL: case HP_QLOGNORMAL:
		if (d < 0)
			return -1;
		/* A quantized 0 sits far down the prior. */
		d = d > 0 ? log(d) : h->a - 4 * h->b;
		break;
	default:
		break;
	}
	*x = d;
	return 0;
}

struct setting {
	const cJSON *v;
	int i;
};

/* A value's place among the kinds: null, false, true, numbers, strings, the rest. */
static int
kind_rank(const cJSON *v)
{
	return cJSON_IsNull(v) ? 0 : cJSON_IsFalse(v) ? 1 : cJSON_IsTrue(v) ? 2 :
	    cJSON_IsNumber(v) ? 3 : cJSON_IsString(v) ? 4 : 5;
}

/* By value, equal values by their place in the list. */
static int
setting_cmp(const void *pa, const void *pb)
{
	const struct setting *a = pa, *b = pb;
	int ra = kind_rank(a->v), rb = kind_rank(b->v), c = 0;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 3)
		c = a->v->valuedouble < b->v->valuedouble ? -1 : a->v->valuedouble >
		    b->v->valuedouble;
	else if (ra == 4)
		c = strcmp(a->v->valuestring, b->v->valuestring);
	return c ? c : (a->i > b->i) - (a->i < b->i);
}

int
hparam_settings(const struct hparam *h, int *order)
{
	struct setting *st = xcalloc((size_t)h->nvalues + 1, sizeof(*st));
	const cJSON *it;
	int n = 0, k = 0;

	cJSON_ArrayForEach(it, h->values) {
		st[n].v = it;
		st[n].i = n;
		n++;
	}
	qsort(st, (size_t)n, sizeof(*st), setting_cmp);
	/* Each run of equal values starts with its first occurrence. */
	for (int i = 0; i < n; i++)
		if (i == 0 || !same(st[i - 1].v, st[i].v))
			order[k++] = st[i].i;
	free(st);
	return k;
}

cJSON *
space_sample(const struct space *sp, struct rng *r)
{
	cJSON *o = must(cJSON_CreateObject());

	for (int i = 0; i < sp->n; i++)
		cJSON_AddItemToObject(o, sp->hp[i].name, hparam_value(&sp->hp[i],
		    hparam_sample(&sp->hp[i], r)));
	return o;
}

uint64_t
space_grid_size(const struct space *sp)
{
	uint64_t n = 1;

	for (int i = 0; i < sp->n; i++) {
		uint64_t k = sp->hp[i].kind == HP_CHOICE ? (uint64_t)sp->hp[i].nvalues : 1;

		if (n > UINT64_MAX / k)
			return UINT64_MAX;
		n *= k;
	}
	return n;
}

uint64_t
space_size(const struct space *sp)
{
	uint64_t n = 1;

	for (int i = 0; i < sp->n; i++) {
		const struct hparam *h = &sp->hp[i];
		double k;

		switch (h->kind) {
		case HP_FIXED:
			k = 1;
			break;
		case HP_CHOICE:
			k = h->nvalues;
			break;
		case HP_RANDINT:
			k = h->b - h->a;
			break;
		case HP_QUNIFORM: case HP_QLOGUNIFORM:
			/* the multiples of q that values in [a, b] round to */
			k = round(h->b / h->q) - round(h->a / h->q) + 1;
			break;
		default:
			return UINT64_MAX;
		}
		if (!(k >= 1) || k >= 1e18 || n > UINT64_MAX / (uint64_t)k)
			return UINT64_MAX;
		n *= (uint64_t)k;
	}
	return n;
}

cJSON *
space_grid_point(const struct space *sp, uint64_t i, struct rng *r)
{
	cJSON *o = must(cJSON_CreateObject());
	double *x = xcalloc((size_t)sp->n + 1, sizeof(*x));

	/* Digits from the last hparam (fastest) to the first. */
	for (int k = sp->n - 1; k >= 0; k--)
		if (sp->hp[k].kind == HP_CHOICE) {
			x[k] = (double)(i % (uint64_t)sp->hp[k].nvalues);
			i /= (uint64_t)sp->hp[k].nvalues;
		}
	/* Then sample the rest in the space's order, so a seed gives one grid. */
	for (int k = 0; k < sp->n; k++) {
		const struct hparam *h = &sp->hp[k];

		if (h->kind != HP_CHOICE)
			x[k] = hparam_sample(h, r);
		cJSON_AddItemToObject(o, h->name, hparam_value(h, x[k]));
	}
	free(x);
	return o;
}
