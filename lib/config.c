/*
 * config.c: see config.h.
 *
 * Each file is read with libyaml's event API into a cJSON tree, plus two
 * side tables keyed by dotted path for the scalars under mappings: the text
 * as written ("raw", so "0.5" stays "0.5") and where it was written
 * ("where", "FILE:LINE:COL"). The built-in defaults are a layer of the same
 * shape, so the merged tree is defaults <- user's file <- ./xt.yaml and no
 * lookup has to special-case them.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "config.h"
#include "util.h"
#include "banned.h"

#define CONFIG_MAX_FILE ((size_t)1 << 20)
#define CONFIG_MAX_DEPTH 64
#define CONFIG_MAX_PATH 4096

struct layer {
	cJSON *tree;	/* the file as JSON, always a mapping */
	cJSON *raw;	/* dotted path -> scalar as written */
	cJSON *where;	/* dotted path -> "FILE:LINE:COL" or "default" */
};

/* From the lowest: built-in defaults, the user's file, ./xt.yaml. */
enum { L_DEFAULT, L_USER, L_LOCAL, NLAYER };

static struct layer layers[NLAYER];
static cJSON *merged;	/* the layers merged; NULL until first needed */
static cJSON *opts;	/* config_set: key -> value */
static cJSON *envs;	/* env values handed out: "env XT_X" -> value */

struct parse {
	yaml_parser_t yp;
	const char *file;
	const char *origin;	/* fixed origin ("default") instead of positions */
	struct layer *l;
	struct sbuf path;	/* dotted path of the node being built */
	char *cred;		/* where the first credential is, "FILE:LINE:COL: ... ('key')"; NULL if none */
	char *err;
	size_t errlen;
};

static cJSON *node(struct parse *p, yaml_event_t *ev, int depth, int record);

/* cJSON reports allocation failure with NULL; xt treats it as fatal everywhere. */
static cJSON *
must(cJSON *v)
{
	if (!v)
		die("out of memory");
	return v;
}

static int
fail(struct parse *p, const yaml_mark_t *m, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%zu:%zu: %s", p->file, m->line + 1,
	    m->column + 1, what);
	return -1;
}

/* The next event, or -1 with libyaml's own words for what is wrong. */
static int
next(struct parse *p, yaml_event_t *ev)
{
	yaml_parser_t *yp = &p->yp;

	if (yaml_parser_parse(yp, ev))
		return 0;
	if (yp->error == YAML_MEMORY_ERROR)
		die("out of memory");
	/* A reader error (bad UTF-8) has an offset but no line. */
	if (yp->error == YAML_READER_ERROR)
		snprintf(p->err, p->errlen, "%s: %s at byte %zu", p->file,
		    yp->problem ? yp->problem : "cannot read", yp->problem_offset);
	else
		fail(p, &yp->problem_mark, "%s", yp->problem ? yp->problem : "bad YAML");
	return -1;
}

static int
oneof(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

/*
 * A number of the YAML core schema: decimal integers and floats, 0x and 0o
 * integers. Checked by hand first because strtod also takes "inf", "nan",
 * hex floats and leading blanks, which YAML reads as strings.
 */
static int
number(const char *s, double *v)
{
	const char *p = s;
	int digits = 0, base;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		for (p = s + 2; *p; p++)
			if (base == 16 ? !isxdigit((unsigned char)*p) : (*p < '0' || *p > '7'))
				return 0;
		if (p == s + 2)
			return 0;
		*v = (double)strtoull(s + 2, NULL, base);
		return 1;
	}
	if (*p == '-' || *p == '+')
		p++;
	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		if (*++p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return !*p && parse_double(s, v) == 0 && isfinite(*v);
}

static int
is_null(const yaml_event_t *ev)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };

	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag &&
	    oneof((const char *)ev->data.scalar.value, nulls);
}

/*
 * Type a scalar. Only plain, untagged scalars get a type: quoted and block
 * scalars are strings, as the user asked. yes/no/on/off stay strings (YAML
 * 1.2 core), so "country: no" means Norway.
 */
static cJSON *
scalar(const yaml_event_t *ev, const char **raw)
{
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	const char *s = (const char *)ev->data.scalar.value;
	double v;

	*raw = s;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
		return must(cJSON_CreateString(s));
	if (is_null(ev))
		return must(cJSON_CreateNull());
	if (oneof(s, trues) || oneof(s, falses)) {
		*raw = oneof(s, trues) ? "true" : "false";
		return must(cJSON_CreateBool(**raw == 't'));
	}
	if (number(s, &v))
		return must(cJSON_CreateNumber(v));
	return must(cJSON_CreateString(s));
}

static void
record_scalar(struct parse *p, const char *raw, const yaml_mark_t *m)
{
	char *at = p->origin ? xstrdup(p->origin) :
	    xasprintf("%s:%zu:%zu", p->file, m->line + 1, m->column + 1);

	cJSON_AddItemToObject(p->l->raw, p->path.buf, must(cJSON_CreateString(raw)));
	cJSON_AddItemToObject(p->l->where, p->path.buf, must(cJSON_CreateString(at)));
	free(at);
}

static cJSON *
sequence(struct parse *p, int depth)
{
	cJSON *a = must(cJSON_CreateArray()), *v;
	yaml_event_t ev;

	for (;;) {
		if (next(p, &ev) < 0)
			break;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return a;
		}
		/* Items of lists have no dotted key, so they are not recorded. */
		if (!(v = node(p, &ev, depth + 1, 0)))
			break;
		cJSON_AddItemToArray(a, v);
	}
	cJSON_Delete(a);
	return NULL;
}

static cJSON *
mapping(struct parse *p, int depth, int record)
{
	cJSON *o = must(cJSON_CreateObject()), *v = NULL;
	yaml_event_t kev, vev;
	size_t len = p->path.len;
	const char *key;

	for (;;) {
		if (next(p, &kev) < 0)
			break;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			return o;
		}
		key = kev.type == YAML_SCALAR_EVENT ? (const char *)kev.data.scalar.value : "";
		if (kev.type != YAML_SCALAR_EVENT)
			fail(p, &kev.start_mark, "a key must be a scalar");
		else if (cJSON_GetObjectItemCaseSensitive(o, key))
			fail(p, &kev.start_mark, "duplicate key '%s'", key);
		else if ((len && sbuf_addc(&p->path, '.') < 0) || sbuf_adds(&p->path, key) < 0)
			fail(p, &kev.start_mark, "key path too long");
		else {
			/* a secret's key at any depth, in any case (secret_name) */
			if (!p->cred && secret_name(key, strlen(key)))
				p->cred = xasprintf("%s:%zu:%zu: holds a credential ('%s')", p->file,
				    kev.start_mark.line + 1, kev.start_mark.column + 1, p->path.buf);
			if (next(p, &vev) == 0)
				v = node(p, &vev, depth + 1, record);
		}
		p->path.len = len;
		p->path.buf[len] = '\0';
		if (v)
			cJSON_AddItemToObject(o, key, v);
		yaml_event_delete(&kev);
		if (!v)
			break;
		v = NULL;
	}
	cJSON_Delete(o);
	return NULL;
}

/* Build the value that starts with ev, which is consumed. NULL with p->err set on error. */
static cJSON *
node(struct parse *p, yaml_event_t *ev, int depth, int record)
{
	yaml_mark_t m = ev->start_mark;
	const char *raw;
	cJSON *v = NULL;

	/* Our recursion, unlike libyaml's parser, uses the C stack. */
	if (depth > CONFIG_MAX_DEPTH)
		fail(p, &m, "nested more than %d deep", CONFIG_MAX_DEPTH);
	else if (ev->type == YAML_SCALAR_EVENT) {
		v = scalar(ev, &raw);
		/* a value holding a secret under any key: a SAS URL, a connection string */
		if (!p->cred && secret_in(raw))
			p->cred = xasprintf("%s:%zu:%zu: holds a credential (in the value of '%s')",
			    p->file, m.line + 1, m.column + 1, p->path.len ? p->path.buf : "a list");
		if (record)
			record_scalar(p, raw, &m);
	} else if (ev->type == YAML_SEQUENCE_START_EVENT)
		v = sequence(p, depth);
	else if (ev->type == YAML_MAPPING_START_EVENT)
		v = mapping(p, depth, record);
	else if (ev->type == YAML_ALIAS_EVENT)
		fail(p, &m, "anchors and aliases are not supported");
	else
		fail(p, &m, "unexpected YAML");
	yaml_event_delete(ev);
	return v;
}

static void
layer_free(struct layer *l)
{
	cJSON_Delete(l->tree);
	cJSON_Delete(l->raw);
	cJSON_Delete(l->where);
	memset(l, 0, sizeof(*l));
}

/*
 * Parse len bytes of YAML into l. Empty input is an empty mapping. *cred
 * gets where the first credential is, "FILE:LINE:COL: holds a credential
 * ('KEY')", or NULL (caller frees). 0, or -1 with err set.
 */
static int
parse(struct layer *l, const char *file, const char *origin, const char *text,
    size_t len, char **cred, char *err, size_t errlen)
{
	struct parse p = { .file = file, .origin = origin, .l = l, .err = err, .errlen = errlen };
	yaml_event_t ev;
	int ndoc = 0, bad = 0, ret = -1;

	if (!yaml_parser_initialize(&p.yp))
		die("out of memory");
	yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
	sbuf_init(&p.path, CONFIG_MAX_PATH);
	l->raw = must(cJSON_CreateObject());
	l->where = must(cJSON_CreateObject());
	/* Nested nodes are consumed by node(): only the top level shows here. */
	while (ret < 0 && !bad && next(&p, &ev) == 0) {
		if (ev.type == YAML_MAPPING_START_EVENT) {
			bad = !(l->tree = node(&p, &ev, 0, 1));
			continue;
		}
		if (ev.type == YAML_STREAM_END_EVENT)
			ret = 0;
		else if (ev.type == YAML_DOCUMENT_START_EVENT && ndoc++)
			bad = fail(&p, &ev.start_mark, "more than one YAML document");
		else if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_ALIAS_EVENT ||
		    (ev.type == YAML_SCALAR_EVENT && !is_null(&ev)))
			bad = fail(&p, &ev.start_mark, "the top level must be a mapping");
		yaml_event_delete(&ev);
	}
	/* No document, or "---" alone, is an empty mapping. */
	if (ret == 0 && !l->tree)
		l->tree = must(cJSON_CreateObject());
	if (ret < 0)
		layer_free(l);
	*cred = p.cred;
	sbuf_release(&p.path);
	yaml_parser_delete(&p.yp);
	return ret;
}

/* Read one file into l; a missing file leaves l empty and is fine. */
static int
load_file(struct layer *l, const char *file, char *err, size_t errlen)
{
	struct stat st;
	struct sbuf sb;
	char *cred = NULL;
	int ret;

	if (stat(file, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		snprintf(err, errlen, "cannot read '%s': %s", file, strerror(errno));
		return -1;
	}
	sbuf_init(&sb, CONFIG_MAX_FILE);
	if (file_read(file, &sb) < 0) {
		if (errno == EFBIG)
			snprintf(err, errlen, "%s: bigger than 1 MiB", file);
		else
			snprintf(err, errlen, "cannot read '%s': %s", file, strerror(errno));
		sbuf_release(&sb);
		return -1;
	}
	ret = parse(l, file, NULL, sb.buf, sb.len, &cred, err, errlen);
	sbuf_release(&sb);
	if (ret == 0 && cred && (st.st_mode & (S_IRGRP | S_IROTH))) {
		snprintf(err, errlen, "%s but can be read by others; chmod 600 %s", cred, file);
		layer_free(l);
		ret = -1;
	}
	free(cred);
	return ret;
}

/* The defaults are YAML too, so they get the same types and raw text. */
static void
load_defaults(void)
{
	static const char yaml[] =
	    "workspace: ws1\n"
	    "experiment: exp1\n"
	    "target: local\n"
	    "work-keep-failed: 24h\n"
	    "cache-max-size: 10G\n"
	    "targets:\n"
	    "  local: {type: local, max-runs: 1}\n";
	struct layer *l = &layers[L_DEFAULT];
	char err[256], *home, *store, *cred;

	layer_free(l);
	if (parse(l, "default", "default", yaml, sizeof(yaml) - 1, &cred, err, sizeof(err)) < 0)
		die("built-in configuration: %s", err);
	free(cred);
	/* The store is added by hand: a path might not be valid plain YAML.
	 * Without a home there is no default store (config_store says so). */
	if (!(home = xt_home_maybe()))
		return;
	store = path_join(home, "store");
	cJSON_AddItemToObject(l->tree, "store", must(cJSON_CreateString(store)));
	cJSON_AddItemToObject(l->raw, "store", must(cJSON_CreateString(store)));
	cJSON_AddItemToObject(l->where, "store", must(cJSON_CreateString("default")));
	free(home);
	free(store);
}

/* Merge src over dst: mappings merge key by key, anything else replaces. */
static void
merge(cJSON *dst, const cJSON *src)
{
	const cJSON *c;
	cJSON *d;

	for (c = src->child; c; c = c->next) {
		d = cJSON_GetObjectItemCaseSensitive(dst, c->string);
		if (cJSON_IsObject(d) && cJSON_IsObject(c))
			merge(d, c);
		else if (d)
			cJSON_ReplaceItemInObjectCaseSensitive(dst, c->string, must(cJSON_Duplicate(c, 1)));
		else
			cJSON_AddItemToObject(dst, c->string, must(cJSON_Duplicate(c, 1)));
	}
}

static void
remerge(void)
{
	int i;

	if (!layers[L_DEFAULT].tree)
		load_defaults();
	cJSON_Delete(merged);
	merged = must(cJSON_Duplicate(layers[L_DEFAULT].tree, 1));
	for (i = L_DEFAULT + 1; i < NLAYER; i++)
		if (layers[i].tree)
			merge(merged, layers[i].tree);
}

/* The node at a dotted path through mappings; "" is the tree itself. */
static cJSON *
lookup(cJSON *tree, const char *key)
{
	const char *dot;
	size_t n;

	if (!*key)
		return tree;
	while (tree) {
		dot = strchr(key, '.');
		n = dot ? (size_t)(dot - key) : strlen(key);
		if (!cJSON_IsObject(tree))
			return NULL;
		for (tree = tree->child; tree; tree = tree->next)
			if (strlen(tree->string) == n && !memcmp(tree->string, key, n))
				break;
		if (!dot)
			return tree;
		key = dot + 1;
	}
	return NULL;
}

/*
 * An environment value for key, copied so that it stays valid until
 * config_release even if the environment changes. An empty variable
 * counts as unset.
 */
static cJSON *
env_value(const char *key)
{
	char *name = xasprintf("env XT_%s", key), *p;
	const char *s;
	cJSON *e = NULL;

	for (p = name + 7; *p; p++)
		*p = *p == '.' || *p == '-' ? '_' : toupper((unsigned char)*p);
	if ((s = getenv(name + 4)) && *s) {
		if (!envs)
			envs = must(cJSON_CreateObject());
		for (e = envs->child; e; e = e->next)
			if (!strcmp(e->string, name) && !strcmp(e->valuestring, s))
				break;
		if (!e) {
			e = must(cJSON_CreateString(s));
			cJSON_AddItemToObject(envs, name, e);
		}
	}
	free(name);
	return e;
}

/* The winning value of a scalar key and where it came from; 0 when unset. */
static int
find(const char *key, const char **val, const char **from)
{
	cJSON *o, *r, *w;
	int i;

	if ((o = cJSON_GetObjectItemCaseSensitive(opts, key))) {
		*val = o->valuestring;
		*from = "option";
		return 1;
	}
	if ((o = env_value(key))) {
		*val = o->valuestring;
		*from = o->string;
		return 1;
	}
	if (!merged)
		remerge();
	o = lookup(merged, key);
	if (!o || cJSON_IsObject(o) || cJSON_IsArray(o))
		return 0;
	/*
	 * The merged scalar came from the highest layer that has the key at
	 * all: had a higher one a mapping there, the merge would have no
	 * scalar either.
	 */
	for (i = NLAYER - 1; i >= 0; i--) {
		if (!lookup(layers[i].tree, key))
			continue;
		r = cJSON_GetObjectItemCaseSensitive(layers[i].raw, key);
		w = cJSON_GetObjectItemCaseSensitive(layers[i].where, key);
		if (!r || !w)
			return 0;
		*val = r->valuestring;
		*from = w->valuestring;
		return 1;
	}
	return 0;
}

static char *
user_file(void)
{
	const char *s;

	if ((s = getenv("XT_CONFIG")) && *s)
		return xstrdup(s);
	if ((s = getenv("XDG_CONFIG_HOME")) && *s)
		return path_join(s, "xt/config.yaml");
	if ((s = getenv("HOME")) && *s)
		return path_join(s, ".config/xt/config.yaml");
	return NULL;
}

int
config_load(char *err, size_t errlen)
{
	char *user = user_file();
	int ret = 0;

	if (!err)
		errlen = 0;
	layer_free(&layers[L_USER]);
	layer_free(&layers[L_LOCAL]);
	/* Rebuilt so that a changed XT_HOME moves the default store. */
	load_defaults();
	if (user)
		ret = load_file(&layers[L_USER], user, err, errlen);
	if (ret == 0)
		ret = load_file(&layers[L_LOCAL], "./xt.yaml", err, errlen);
	if (ret < 0) {
		layer_free(&layers[L_USER]);
		layer_free(&layers[L_LOCAL]);
	}
	free(user);
	remerge();
	return ret;
}

void
config_release(void)
{
	int i;

	for (i = 0; i < NLAYER; i++)
		layer_free(&layers[i]);
	cJSON_Delete(merged);
	cJSON_Delete(opts);
	cJSON_Delete(envs);
	merged = opts = envs = NULL;
}

void
config_set(const char *key, const char *value)
{
	cJSON *v = must(cJSON_CreateString(value));

	if (!opts)
		opts = must(cJSON_CreateObject());
	if (cJSON_GetObjectItemCaseSensitive(opts, key))
		cJSON_ReplaceItemInObjectCaseSensitive(opts, key, v);
	else
		cJSON_AddItemToObject(opts, key, v);
}

const char *
config_str(const char *key, const char *def)
{
	const char *val, *from;

	return find(key, &val, &from) ? val : def;
}

const cJSON *
config_node(const char *key)
{
	if (!merged)
		remerge();
	return lookup(merged, key);
}

const char *
config_origin(const char *key)
{
	const char *val, *from;

	return find(key, &val, &from) ? from : NULL;
}

char *
config_store(void)
{
	const char *s = config_str("store", NULL), *home = getenv("HOME");
	char *xh, *r;

	if (!s || !*s) {
		if (!(xh = xt_home_maybe()))
			die("no store: set XT_STORE (or store in xt.yaml), or XT_HOME for the default "
			    "store $XT_HOME/store; neither XT_HOME nor HOME is set");
		r = path_join(xh, "store");
		free(xh);
		return r;
	}
	if (s[0] == '~' && (s[1] == '/' || !s[1]) && home && *home)
		return path_join(home, s + (s[1] ? 2 : 1));
	return xstrdup(s);
}

const char *
config_workspace(void)
{
	return config_str("workspace", "ws1");
}

const char *
config_experiment(void)
{
	return config_str("experiment", "exp1");
}
