/* expr.c: see expr.h. A recursive descent parser over a tokenizer that reads on demand. */
#include <ctype.h>
#include <regex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr.h"
#include "banned.h"

/*
 * The regular expressions' bounds (see expr.h): the libc's matcher
 * backtracks on back-references, takes time in the square of the text on
 * some patterns, and expands {m,n} into copies.
 */
#define RE_MAX_PATTERN 256	/* bytes of a pattern */
#define RE_MAX_SIZE 1000	/* its atoms, {m,n}, *, + and ? expanded */
#define RE_MAX_TEXT 4096	/* bytes of a value matched */

enum { T_END, T_LP, T_RP, T_WORD, T_NUM, T_STR, T_OP, T_AND, T_OR, T_NOT, T_BAD };

struct expr {
	int kind;
	struct expr *a, *b;
	char *field;		/* EXPR_HAS, EXPR_CMP */
	size_t id;
	size_t alt[2];		/* a bare name: the ids of metrics.NAME and hparams.NAME */
	int bare;
	int op, lit;		/* EXPR_CMP */
	double num;
	char *str;
	size_t slen;
	regex_t re;
	int has_re;
};

struct parser {
	const char *src, *p;
	int tok, op;
	const char *tstart;	/* where the current token starts */
	char *text;		/* T_WORD, T_STR: its text (owned until taken) */
	size_t tlen;
	double num;
	char *err;
	size_t errlen;
	int failed;
};

static void
fail(struct parser *ps, const char *at, const char *fmt, const char *arg)
{
	char what[256];

	if (ps->failed)
		return;
	ps->failed = 1;
	snprintf(what, sizeof(what), fmt, arg);
	snprintf(ps->err, ps->errlen, "column %ld: %s", (long)(at - ps->src) + 1, what);
}

/*
 * A regular expression's size with its repetitions expanded (saturating
 * at RE_MAX_SIZE + 1), from *s up to an unmatched ')' or the end; *backref
 * set when it has one (\1 to \9 outside a bracket expression). Syntax
 * errors are left to regcomp.
 */
static long re_alt(const char **s, int *backref);

static long
re_atom(const char **s, int *backref)
{
	const char *p = *s;
	long n = 1;

	if (*p == '(') {
		p++;
		*s = p;
		n += re_alt(s, backref);
		p = *s;
		if (*p == ')')
			p++;
	} else if (*p == '[') {
		p++;
		if (*p == '^')
			p++;
		if (*p == ']')
			p++;
		while (*p && *p != ']') {
			if (*p == '[' && p[1] && strchr(":.=", p[1])) {
				char close = p[1];

				for (p += 2; *p && !(*p == close && p[1] == ']'); p++)
					;
				if (*p)
					p++;
			}
			if (*p)
				p++;
		}
		if (*p)
			p++;
	} else if (*p == '\\') {
		if (p[1] >= '1' && p[1] <= '9')
			*backref = 1;
		p += p[1] ? 2 : 1;
	} else {
		p++;
	}
	*s = p;
	return n;
}

static long
re_branch(const char **s, int *backref)
{
	long total = 0;

	while (**s && **s != '|' && **s != ')') {
		long n = re_atom(s, backref);

		while (**s && strchr("*+?{", **s)) {
			long m = 2;

			if (**s == '{') {
				char *end;
				long lo = strtol(*s + 1, &end, 10), hi = lo;

				if (!isdigit((unsigned char)(*s)[1]))
					break;
				if (*end == ',')
					hi = isdigit((unsigned char)end[1]) ? strtol(end + 1, &end, 10) :
					    (end++, lo + 1);
				if (*end != '}')
					break;
				*s = end;
				m = hi > lo ? hi : lo;
				m = m > 0 ? m : 1;
			}
			(*s)++;
			n = n > RE_MAX_SIZE / m ? RE_MAX_SIZE + 1 : n * m;
		}
		total = total + n > RE_MAX_SIZE ? RE_MAX_SIZE + 1 : total + n;
	}
	return total;
}

static long
re_alt(const char **s, int *backref)
{
	long total = re_branch(s, backref);

	while (**s == '|') {
		(*s)++;
		total += re_branch(s, backref);
		total = total > RE_MAX_SIZE ? RE_MAX_SIZE + 1 : total;
	}
	return total;
}

/* Is the pattern within the bounds? 0, or -1 with why. */
static int
re_check(const char *pat, size_t len, char *why, size_t whylen)
{
	const char *s = pat;
	long size = 0;
	int backref = 0;

	if (len > RE_MAX_PATTERN || strlen(pat) != len) {
		snprintf(why, whylen, len > RE_MAX_PATTERN ?
		    "a regular expression longer than %d bytes" :
		    "a regular expression with a NUL byte", RE_MAX_PATTERN);
		return -1;
	}
	while (*s) {	/* an unmatched ')' is an ordinary character */
		size += re_alt(&s, &backref);
		if (*s)
			s++, size++;
	}
	if (backref) {
		snprintf(why, whylen, "%s", "a back-reference (\\1 to \\9) in a regular expression "
		    "(not supported: its matching can take exponential time)");
		return -1;
	}
	if (size > RE_MAX_SIZE) {
		snprintf(why, whylen, "a regular expression too large once its repetitions are "
		    "expanded (over %d parts)", RE_MAX_SIZE);
		return -1;
	}
	return 0;
}

static int
wordc(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

static const char *
tokname(const struct parser *ps)
{
	static char buf[40];
	size_t n = (size_t)(ps->p - ps->tstart);

	if (ps->tok == T_END)
		return "the end";
	if (n > 30)
		n = 30;
	snprintf(buf, sizeof(buf), "'%.*s'", (int)n, ps->tstart);
	return buf;
}

/*
 * A field name from s whose next segment, at s + ps->tlen, is quoted
 * (metrics."val loss"): its segments, unquoted, into ps->text; where it
 * ends, or NULL (T_BAD, the error set).
 */
static const char *
quoted_name(struct parser *ps, const char *s)
{
	const char *p = s + ps->tlen;
	struct sbuf sb;
	/* below a map the rest is one key, whose dots are its own */
	int map = expr_is_map(s, strcspn(s, ".")) && strcspn(s, ".") + 1 == ps->tlen;

	sbuf_init(&sb, (size_t)1 << 20);
	sbuf_add(&sb, s, ps->tlen);
	while (*p == '"' || *p == '\'' || *p == '`') {
		const char *open = p;
		char q = *p++;

		while (*p && *p != q) {
			if (*p == '\\' && p[1])
				p++;
			if (*p == '.' && !map) {
				fail(ps, open, "%s", "a quoted name holds a '.' only as a key of "
				    "metrics, hparams, given_hparams or tags (metrics.\"acc.top1\")");
				goto bad;
			}
			sbuf_addc(&sb, *p++);
		}
		if (!*p) {
			fail(ps, open, "%s", "unclosed name");
			goto bad;
		}
		if (p == open + 1) {
			fail(ps, open, "%s", "an empty name");
			goto bad;
		}
		p++;
		/* more: .word or ."quoted" */
		while (*p == '.') {
			sbuf_addc(&sb, *p++);
			if (*p == '"' || *p == '\'' || *p == '`')
				break;
			while (wordc((unsigned char)*p) || *p == '/')
				sbuf_addc(&sb, *p++);
		}
	}
	ps->tlen = sb.len;
	ps->text = sbuf_detach(&sb, NULL);
	return p;
bad:
	sbuf_release(&sb);
	ps->tok = T_BAD;
	ps->p = s + strlen(s);
	return NULL;
}

/* Read the next token into ps. */
static void
next(struct parser *ps)
{
	const char *p = ps->p;
	char *end;

	free(ps->text);
	ps->text = NULL;
	while (isspace((unsigned char)*p))
		p++;
	ps->tstart = p;
	if (!*p) {
		ps->tok = T_END;
	} else if (*p == '(' || *p == ')') {
		ps->tok = *p == '(' ? T_LP : T_RP;
		p++;
	} else if (*p == '"' || *p == '\'') {
		char q = *p++;
		struct sbuf sb;

		sbuf_init(&sb, (size_t)1 << 20);
		while (*p && *p != q) {
			if (*p == '\\' && p[1])
				p++;
			sbuf_addc(&sb, *p++);
		}
		if (!*p) {
			fail(ps, ps->tstart, "%s", "unclosed string");
			sbuf_release(&sb);
			ps->tok = T_BAD;
			ps->p = p;
			return;
		}
		p++;
		ps->tlen = sb.len;
		ps->text = sbuf_detach(&sb, NULL);
		ps->tok = T_STR;
	} else if (!strncmp(p, "&&", 2) || !strncmp(p, "||", 2)) {
		ps->tok = *p == '&' ? T_AND : T_OR;
		p += 2;
	} else if (strchr("=!<>~", *p)) {
		static const struct { const char *s; int op; } ops[] = {
			{ "==", EXPR_EQ }, { "!=", EXPR_NE }, { "<>", EXPR_NE }, { "<=", EXPR_LE },
			{ ">=", EXPR_GE }, { "!~", EXPR_NRE }, { "=~", EXPR_RE }, { "=", EXPR_EQ },
			{ "<", EXPR_LT }, { ">", EXPR_GT }, { "~", EXPR_RE },
		};
		size_t i;

		ps->tok = T_NOT;	/* a lone '!' */
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			size_t n = strlen(ops[i].s);

			if (!strncmp(p, ops[i].s, n)) {
				ps->tok = T_OP;
				ps->op = ops[i].op;
				p += n;
				break;
			}
		}
		if (ps->tok == T_NOT)
			p++;
	} else if (isdigit((unsigned char)*p) || ((*p == '-' || *p == '+' || *p == '.') &&
	    isdigit((unsigned char)p[*p != '.' && p[1] == '.' ? 2 : 1]))) {
		ps->num = strtod(p, &end);
		if (end == p || wordc((unsigned char)*end) || *end == ':') {
			/* 2026-11-21, 1x: a bare word that starts with a digit */
			end = (char *)p;
			while (wordc((unsigned char)*end) || *end == ':')
				end++;
			ps->text = xstrndup(p, (size_t)(end - p));
			ps->tlen = (size_t)(end - p);
			ps->tok = T_WORD;
		} else {
			ps->tok = T_NUM;
		}
		p = end;
	} else if (isalpha((unsigned char)*p) || *p == '_') {
		const char *s = p;

		while (wordc((unsigned char)*p) || *p == '/')
			p++;
		ps->tlen = (size_t)(p - s);
		if (ps->tlen == 3 && !strncasecmp(s, "and", 3))
			ps->tok = T_AND;
		else if (ps->tlen == 2 && !strncasecmp(s, "or", 2))
			ps->tok = T_OR;
		else if (ps->tlen == 3 && !strncasecmp(s, "not", 3))
			ps->tok = T_NOT;
		else if (p[-1] == '.' && (*p == '"' || *p == '\'' || *p == '`')) {
			ps->tok = T_WORD;
			if (!(p = quoted_name(ps, s)))
				return;
		} else {
			ps->tok = T_WORD;
			ps->text = xstrndup(s, ps->tlen);
		}
	} else {
		ps->tok = T_BAD;
		p++;
	}
	ps->p = p;
}

static struct expr *
node(int kind)
{
	struct expr *e = xcalloc(1, sizeof(*e));

	e->kind = kind;
	return e;
}

static struct expr *parse_or(struct parser *ps);
static struct expr *parse_and(struct parser *ps);

static int
literal(struct parser *ps, struct expr *e, const char *opat)
{
	if (ps->tok == T_NUM) {
		e->lit = EXPR_NUM;
		e->num = ps->num;
	} else if (ps->tok == T_STR || ps->tok == T_WORD) {
		e->lit = EXPR_STR;
		if (ps->tok == T_WORD && ps->tlen == 4 && !strcasecmp(ps->text, "true")) {
			e->lit = EXPR_BOOL;
			e->num = 1;
		} else if (ps->tok == T_WORD && ps->tlen == 5 && !strcasecmp(ps->text, "false")) {
			e->lit = EXPR_BOOL;
		} else if (ps->tok == T_WORD && ps->tlen == 4 && !strcasecmp(ps->text, "null")) {
			e->lit = EXPR_NULL;
		} else {
			e->str = ps->text;
			e->slen = ps->tlen;
			ps->text = NULL;
		}
	} else {
		char op[8];

		snprintf(op, sizeof(op), "%.*s", (int)(ps->tstart - opat), opat);
		while (strlen(op) && isspace((unsigned char)op[strlen(op) - 1]))
			op[strlen(op) - 1] = '\0';
		fail(ps, ps->tstart, "expected a value after '%s'", op);
		return -1;
	}
	if (e->op == EXPR_RE || e->op == EXPR_NRE) {
		char why[200];
		int rc;

		if (e->lit != EXPR_STR) {
			fail(ps, ps->tstart, "%s", "'~' needs a string (a regular expression)");
			return -1;
		}
		if (re_check(e->str, e->slen, why, sizeof(why)) < 0) {
			fail(ps, ps->tstart, "%s", why);
			return -1;
		}
		rc = regcomp(&e->re, e->str, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, &e->re, why, sizeof(why));
			fail(ps, ps->tstart, "bad regular expression: %s", why);
			return -1;
		}
		e->has_re = 1;
	} else if ((e->lit == EXPR_BOOL || e->lit == EXPR_NULL) && e->op != EXPR_EQ && e->op != EXPR_NE) {
		fail(ps, ps->tstart, "%s", "true, false and null compare only with = and !=");
		return -1;
	}
	next(ps);
	return 0;
}

static struct expr *
parse_not(struct parser *ps)
{
	struct expr *e;

	if (ps->tok == T_NOT) {
		next(ps);
		e = node(EXPR_NOT);
		e->a = parse_not(ps);
		if (!e->a) {
			expr_free(e);
			return NULL;
		}
		return e;
	}
	if (ps->tok == T_LP) {
		const char *open = ps->tstart;

		next(ps);
		e = parse_or(ps);
		if (!e)
			return NULL;
		if (ps->tok != T_RP) {
			if (ps->tok == T_END)
				fail(ps, open, "%s", "'(' is never closed");
			else
				fail(ps, ps->tstart, "expected ')' or an operator, not %s", tokname(ps));
			expr_free(e);
			return NULL;
		}
		next(ps);
		return e;
	}
	if (ps->tok != T_WORD) {
		if (ps->tok != T_BAD || !ps->failed)
			fail(ps, ps->tstart, "expected a field name, not %s", tokname(ps));
		return NULL;
	}
	e = node(EXPR_HAS);
	e->field = ps->text;
	ps->text = NULL;
	next(ps);
	if (ps->tok == T_OP) {
		const char *opat = ps->tstart;

		e->kind = EXPR_CMP;
		e->op = ps->op;
		next(ps);
		if (literal(ps, e, opat) < 0) {
			expr_free(e);
			return NULL;
		}
	}
	return e;
}

/* A chain of operands joined by tok (T_AND or T_OR), left-associative. */
static struct expr *
parse_chain(struct parser *ps, int tok)
{
	struct expr *(*operand)(struct parser *) = tok == T_OR ? parse_and : parse_not;
	struct expr *e = operand(ps), *n;

	while (e && ps->tok == tok) {
		next(ps);
		n = node(tok == T_OR ? EXPR_OR : EXPR_AND);
		n->a = e;
		n->b = operand(ps);
		e = n;
		if (!n->b) {
			expr_free(e);
			return NULL;
		}
	}
	return e;
}

static struct expr *
parse_and(struct parser *ps)
{
	return parse_chain(ps, T_AND);
}

static struct expr *
parse_or(struct parser *ps)
{
	return parse_chain(ps, T_OR);
}

struct expr *
expr_parse(const char *src, char *err, size_t errlen)
{
	struct parser ps;
	struct expr *e;

	memset(&ps, 0, sizeof(ps));
	ps.src = ps.p = src;
	ps.err = err;
	ps.errlen = errlen;
	next(&ps);
	if (ps.tok == T_END) {
		fail(&ps, ps.tstart, "%s", "empty expression");
		return NULL;
	}
	e = parse_or(&ps);
	if (e && ps.tok != T_END) {
		if (ps.tok == T_RP)
			fail(&ps, ps.tstart, "%s", "')' without '('");
		else if (ps.tok == T_OP)
			fail(&ps, ps.tstart, "%s", "expected 'and', 'or' or the end, not another operator");
		else
			fail(&ps, ps.tstart, "expected 'and', 'or' or the end, not %s", tokname(&ps));
		expr_free(e);
		e = NULL;
	}
	free(ps.text);
	return e;
}

char *
expr_field(const char *src, char *err, size_t errlen)
{
	struct parser ps;
	char *path = NULL;

	memset(&ps, 0, sizeof(ps));
	ps.src = ps.p = src;
	ps.err = err;
	ps.errlen = errlen;
	next(&ps);
	if (ps.tok == T_WORD && ps.tstart == src && !*ps.p) {
		path = ps.text;
		ps.text = NULL;
	} else if (!ps.failed) {
		fail(&ps, ps.tok == T_WORD ? ps.p : ps.tstart, "%s", "expected a field name "
		    "(a dotted path; quote a part with other characters: metrics.\"val loss\")");
	}
	free(ps.text);
	return path;
}

void
expr_free(struct expr *e)
{
	if (!e)
		return;
	expr_free(e->a);
	expr_free(e->b);
	free(e->field);
	free(e->str);
	if (e->has_re)
		regfree(&e->re);
	free(e);
}

static const char *const maps[] = { "metrics", "hparams", "given_hparams", "tags" };

int
expr_is_map(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (strlen(maps[i]) == len && !memcmp(maps[i], name, len))
			return 1;
	return 0;
}

int
expr_is_bare(const char *field)
{
	size_t n = strcspn(field, ".");

	return !field[n] || !expr_is_map(field, n);
}

void
expr_maps(struct jfields *f)
{
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		jfields_add_map(f, maps[i]);
}

void
expr_bind(struct expr *e, struct jfields *f)
{
	if (!e)
		return;
	if (e->field) {
		e->id = jfields_add(f, e->field);
		if ((e->bare = expr_is_bare(e->field))) {
			char *m = xasprintf("metrics.%s", e->field), *h = xasprintf("hparams.%s", e->field);

			e->alt[0] = jfields_add(f, m);
			e->alt[1] = jfields_add(f, h);
			free(m);
			free(h);
		}
	}
	expr_bind(e->a, f);
	expr_bind(e->b, f);
}

static int
regex_eval(const struct expr *e, const struct jv *x)
{
	char small[256], *buf = small;
	int m;

	if (x->len >= sizeof(small))
		buf = xmalloc(x->len + 1);
	if (x->type == JV_STR && x->esc) {
		jv_unescape(x, buf);
	} else {	/* a string's text, or the JSON text of any other value */
		memcpy(buf, x->s, x->len);
		buf[x->len] = '\0';
	}
	if (strlen(buf) > RE_MAX_TEXT)	/* its first RE_MAX_TEXT bytes, whole UTF-8 characters */
		for (size_t i = RE_MAX_TEXT + 1; i-- > 0;)
			if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				buf[i] = '\0';
				break;
			}
	m = regexec(&e->re, buf, 0, NULL, 0) == 0;
	if (buf != small)
		free(buf);
	return e->op == EXPR_RE ? m : !m;
}

static int
cmp_eval(const struct expr *e, const struct jv *x)
{
	int c;

	if (x->type == JV_NONE)
		return 0;
	if (e->op == EXPR_RE || e->op == EXPR_NRE)
		return regex_eval(e, x);
	if (x->type == JV_NUM && e->lit == EXPR_NUM) {
		/* as IEEE 754: NaN is unordered, equal to nothing */
		if (isnan(x->num) || isnan(e->num))
			return e->op == EXPR_NE;
		c = x->num < e->num ? -1 : x->num > e->num;
	} else if (x->type == JV_STR && e->lit == EXPR_STR) {
		struct jv y = { JV_STR, 0, 0, e->str, e->slen };

		c = jv_cmp(x, &y);
	} else if ((x->type == JV_BOOL && e->lit == EXPR_BOOL) || (x->type == JV_NULL && e->lit == EXPR_NULL)) {
		c = x->num == e->num ? 0 : 1;
	} else {
		return e->op == EXPR_NE;	/* another type: never equal, never ordered */
	}
	switch (e->op) {
	case EXPR_EQ: return c == 0;
	case EXPR_NE: return c != 0;
	case EXPR_LT: return c < 0;
	case EXPR_LE: return c <= 0;
	case EXPR_GT: return c > 0;
	default: return c >= 0;
	}
}

/* The field's value: a bare name's is the record's own, else metrics.NAME's, else hparams.NAME's. */
static const struct jv *
field_value(const struct expr *e, const struct jv *v, size_t n)
{
	static const struct jv none = { JV_NONE, 0, 0, NULL, 0 };
	int i;

	if (e->id < n && v[e->id].type != JV_NONE)
		return &v[e->id];
	for (i = 0; e->bare && i < 2; i++)
		if (e->alt[i] < n && v[e->alt[i]].type != JV_NONE)
			return &v[e->alt[i]];
	return &none;
}

int
expr_eval(const struct expr *e, const struct jv *v, size_t n)
{
	switch (e->kind) {
	case EXPR_OR:
		return expr_eval(e->a, v, n) || expr_eval(e->b, v, n);
	case EXPR_AND:
		return expr_eval(e->a, v, n) && expr_eval(e->b, v, n);
	case EXPR_NOT:
		return !expr_eval(e->a, v, n);
	case EXPR_HAS:
		return field_value(e, v, n)->type != JV_NONE;
	default:
		return cmp_eval(e, field_value(e, v, n));
	}
}

void
expr_view(const struct expr *e, struct expr_view *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = e->kind;
	v->a = e->a;
	v->b = e->b;
	v->field = e->field;
	v->op = e->op;
	v->lit = e->lit;
	v->num = e->num;
	v->str = e->str;
	v->slen = e->slen;
}
