/* jscan.c: see jscan.h. */
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "banned.h"

#define MAX_DEPTH 64
#define MAX_PATH 1024

/* A node of the paths' tree: one segment ("metrics", "acc"), its field if one ends here. */
struct jnode {
	const char *seg;
	size_t len;
	long id;		/* the field ending here, or -1 */
	long child, next;	/* first child, next sibling; -1: none */
};

void
jfields_init(struct jfields *f)
{
	memset(f, 0, sizeof(*f));
}

void
jfields_release(struct jfields *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->path[i]);
	for (i = 0; i < f->nwild; i++)
		free(f->wild[i]);
	for (i = 0; i < f->nmap; i++)
		free(f->map[i]);
	free(f->path);
	free(f->wild);
	free(f->map);
	free(f->trie);
	memset(f, 0, sizeof(*f));
}

long
jfields_find(const struct jfields *f, const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strncmp(f->path[i], path, len) && f->path[i][len] == '\0')
			return (long)i;
	return -1;
}

size_t
jfields_add(struct jfields *f, const char *path)
{
	long id = jfields_find(f, path, strlen(path));

	if (id >= 0)
		return (size_t)id;
	if (f->n == f->cap) {
		f->cap = f->cap * 2 + 8;
		f->path = xrealloc(f->path, f->cap * sizeof(*f->path));
	}
	f->path[f->n] = xstrdup(path);
	return f->n++;
}

void
jfields_add_wild(struct jfields *f, const char *prefix)
{
	size_t i;

	for (i = 0; i < f->nwild; i++)
		if (!strcmp(f->wild[i], prefix))
			return;
	if (f->nwild == f->capwild) {
		f->capwild = f->capwild * 2 + 4;
		f->wild = xrealloc(f->wild, f->capwild * sizeof(*f->wild));
	}
	f->wild[f->nwild++] = xstrdup(prefix);
}

void
jfields_add_map(struct jfields *f, const char *path)
{
	f->map = xrealloc(f->map, (f->nmap + 1) * sizeof(*f->map));
	f->map[f->nmap++] = xstrdup(path);
	free(f->trie);	/* built again, with the map's keys whole */
	f->trie = NULL;
	f->ntrie = 0;
}

/* Is the object at path (len bytes) a map? */
static int
is_map(const struct jfields *f, const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < f->nmap; i++)
		if (!strncmp(f->map[i], path, len) && f->map[i][len] == '\0')
			return 1;
	return 0;
}

static long
trie_node(struct jfields *f, const char *seg, size_t len, long id)
{
	if (f->ntrie % 64 == 0)
		f->trie = xrealloc(f->trie, (f->ntrie + 64) * sizeof(*f->trie));
	f->trie[f->ntrie].seg = seg;
	f->trie[f->ntrie].len = len;
	f->trie[f->ntrie].id = id;
	f->trie[f->ntrie].child = f->trie[f->ntrie].next = -1;
	return (long)f->ntrie++;
}

/* Build the tree of the wanted paths (node 0 is the root) when the paths changed. */
static void
trie_build(struct jfields *f)
{
	size_t i;

	if (f->trie && f->trie_for == f->n)
		return;
	f->ntrie = 0;
	trie_node(f, "", 0, -1);
	for (i = 0; i < f->n; i++) {
		const char *p = f->path[i];
		long at = 0;
		int whole = 0;

		for (;;) {
			/* below a map, the rest is one key */
			size_t len = whole ? strlen(p) : strcspn(p, ".");
			long c;

			for (c = f->trie[at].child; c >= 0; c = f->trie[c].next)
				if (f->trie[c].len == len && !memcmp(f->trie[c].seg, p, len))
					break;
			if (c < 0) {
				c = trie_node(f, p, len, -1);
				f->trie[c].next = f->trie[at].child;
				f->trie[at].child = c;
			}
			at = c;
			if (!p[len]) {
				f->trie[at].id = (long)i;
				break;
			}
			whole = is_map(f, f->path[i], (size_t)(p + len - f->path[i]));
			p += len + 1;
		}
	}
	f->trie_for = f->n;
}

struct scan {
	struct jfields *f;
	const char *p, *end;
	struct jv **v;
	size_t *cap;
	char path[MAX_PATH + 2];
	size_t plen;
	int depth;
	int inmap;		/* the value at hand is a map's member: not searched */
	int fast;		/* no wildcards: match keys on the tree, build no paths */
};

static void
grow(struct scan *s)
{
	size_t i;

	if (*s->cap >= s->f->n)
		return;
	i = *s->cap;
	*s->cap = s->f->n * 2 + 8;
	*s->v = xrealloc(*s->v, *s->cap * sizeof(**s->v));
	for (; i < *s->cap; i++)
		(*s->v)[i].type = JV_NONE;
}

static void
ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* The bytes a string holds as they are: all but '"', '\\' and the control characters. */
static const unsigned char plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* A string at s->p (the opening quote): its text span and whether it has escapes. */
static int
string(struct scan *s, const char **text, size_t *len, int *esc)
{
	const char *q = s->p + 1;

	*esc = 0;
	for (;;) {
		while (q < s->end && plain[(unsigned char)*q])
			q++;
		if (q >= s->end || (unsigned char)*q < 0x20) {
			s->p = q;
			return -1;
		}
		if (*q == '"')
			break;
		*esc = 1;
		if (++q >= s->end || !strchr("\"\\/bfnrtu", *q)) {
			s->p = q;
			return -1;
		}
		if (*q == 'u') {
			/* four hex digits, as JSON wants: jv_unescape may then read them */
			const char *h = q + 1;

			while (h < s->end && h - q <= 4 && isxdigit((unsigned char)*h))
				h++;
			if (h - q <= 4) {
				s->p = h;
				return -1;
			}
			q = h - 1;
		}
		q++;
	}
	*text = s->p + 1;
	*len = (size_t)(q - s->p - 1);
	s->p = q + 1;
	return 0;
}

/*
 * The number from p to end, valid JSON with at most 19 digits and no
 * exponent, without strtod, when its digits as an integer are at most
 * 2^53 and it has at most 22 after the point: that integer and the power
 * of ten dividing it are then exact doubles, and one IEEE division rounds
 * their quotient correctly, as strtod does (where doubles are computed as
 * doubles, FLT_EVAL_METHOD 0, as on x86-64 and arm64; elsewhere number()
 * leaves it to strtod). 1 and *out, or 0: strtod's turn. strtod's cost
 * showed in reports of many records.
 *
 * Where long double is x87's (a 64-bit significand), the 17 to 19 digits
 * that Python and NumPy write (0.30978089073197024) are read too: the
 * integer (below 10^19 < 2^64) and 10^k (k <= 27: 5^27 < 2^64) are exact
 * long doubles, and their quotient q, rounded once to 64 bits, rounds to
 * the double nearest the true quotient unless q is exactly halfway
 * between two doubles (its 11 bits below a double's are 10000000000): a
 * midpoint nearer the true quotient than q would be a 64-bit value
 * between them, and none is. A halfway q is left to strtod.
 */
static int
exact(const char *p, const char *end, double *out)
{
	static const double tens[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t m = 0;
	int neg = *p == '-', frac = 0, point = 0;

	for (p += neg; p < end; p++) {
		if (*p == '.') {
			point = 1;
			continue;
		}
		m = m * 10 + (uint64_t)(*p - '0');
		frac += point;
	}
	if (m <= (uint64_t)1 << 53 && frac <= 22) {
		*out = (double)m / tens[frac];
	} else {
#if (defined(__x86_64__) || defined(__i386__)) && LDBL_MANT_DIG == 64
		static const long double ltens[] = { 1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L,
		    1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L,
		    1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L };
		long double q;
		uint64_t sig;

		if (frac > 27)
			return 0;
		q = (long double)m / ltens[frac];
		memcpy(&sig, &q, sizeof(sig));	/* the significand, x87's first 8 bytes */
		if ((sig & 0x7ff) == 0x400)
			return 0;
		*out = (double)q;
#else
		return 0;
#endif
	}
	if (neg)
		*out = -*out;
	return 1;
}

static int
number(struct scan *s, double *out)
{
	const char *q = s->p, *d;
	char buf[64];
	long digits;
	int expo = 0;

	if (q < s->end && *q == '-')
		q++;
	d = q;
	while (q < s->end && *q >= '0' && *q <= '9')
		q++;
	if (q == d || (*d == '0' && q - d > 1))
		return -1;
	digits = q - d;
	if (q < s->end && *q == '.') {
		d = ++q;
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
		if (q == d)
			return -1;
		digits += q - d;
	}
	if (q < s->end && (*q == 'e' || *q == 'E')) {
		expo = 1;
		q++;
		if (q < s->end && (*q == '+' || *q == '-'))
			q++;
		d = q;
		while (q < s->end && *q >= '0' && *q <= '9')
			q++;
		if (q == d)
			return -1;
	}
	if (out && (expo || digits > 19 || FLT_EVAL_METHOD != 0 || !exact(s->p, q, out))) {
		size_t n = (size_t)(q - s->p);

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, s->p, n);
		buf[n] = '\0';
		*out = strtod(buf, NULL);
	}
	s->p = q;
	return 0;
}

static int
literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return -1;
	s->p += n;
	return 0;
}

/* Is the text (len bytes) "NaN", "Infinity" or "-Infinity"? Then *num is that. */
static int
nonfinite(const char *t, size_t len, double *num)
{
	if (len == 3 && !memcmp(t, "NaN", 3))
		*num = NAN;
	else if (len == 8 && !memcmp(t, "Infinity", 8))
		*num = INFINITY;
	else if (len == 9 && !memcmp(t, "-Infinity", 9))
		*num = -INFINITY;
	else
		return 0;
	return 1;
}

/* Is some wanted field below the object at s->path? */
static int
descend(const struct scan *s)
{
	const struct jfields *f = s->f;
	size_t i, n = s->plen;

	for (i = 0; i < f->n; i++)
		if (!strncmp(f->path[i], s->path, n) && f->path[i][n] == '.')
			return 1;
	for (i = 0; i < f->nwild; i++) {
		size_t w = strlen(f->wild[i]);

		/* the wildcard lies below this object, or this object below it */
		if (w > n ? !memcmp(f->wild[i], s->path, n) && f->wild[i][n] == '.'
		    : !memcmp(f->wild[i], s->path, w))
			return 1;
	}
	return 0;
}

/* The id of the leaf at s->path: wanted, or under a wildcard (then added), or -1. */
static long
leaf(struct scan *s)
{
	long id = jfields_find(s->f, s->path, s->plen);
	size_t i;

	if (id >= 0 || s->f->nwild == 0)
		return id;
	for (i = 0; i < s->f->nwild; i++) {
		if (!strncmp(s->f->wild[i], s->path, strlen(s->f->wild[i]))) {
			id = (long)jfields_add(s->f, s->path);
			grow(s);
			return id;
		}
	}
	return -1;
}

static int value(struct scan *s, int active, long node);

/* Step into the object or array at s->p: 1 when a member follows, 0 when it is empty (and passed), -1. */
static int
enter(struct scan *s, char close)
{
	if (++s->depth > MAX_DEPTH)
		return -1;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	return 1;
}

/* After a member: 1 at a ',' (passed), 0 at the close (passed: the object or array ends), -1. */
static int
after(struct scan *s, char close)
{
	ws(s);
	if (s->p < s->end && *s->p == ',') {
		s->p++;
		ws(s);
		return 1;
	}
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	return -1;
}

static int
object(struct scan *s, int active, long node)
{
	size_t base = s->plen;
	const char *key;
	size_t klen;
	int esc, rc, map = active && !s->fast && is_map(s->f, s->path, base);

	if ((rc = enter(s, '}')) <= 0)
		return rc;
	for (;;) {
		if (s->p >= s->end || *s->p != '"' || string(s, &key, &klen, &esc) < 0)
			return -1;
		ws(s);
		if (s->p >= s->end || *s->p != ':')
			return -1;
		s->p++;
		ws(s);
		if (active && s->fast) {
			long sub;

			for (sub = s->f->trie[node].child; sub >= 0; sub = s->f->trie[sub].next)
				if (s->f->trie[sub].len == klen && (!klen || s->f->trie[sub].seg[0] == key[0]) &&
				    !memcmp(s->f->trie[sub].seg, key, klen))
					break;
			rc = value(s, sub >= 0, sub);
		} else {
			if (active) {
				size_t dot = base ? 1 : 0;

				if (base + dot + klen > MAX_PATH)
					return -1;
				if (dot)
					s->path[base] = '.';
				memcpy(s->path + base + dot, key, klen);
				s->plen = base + dot + klen;
				s->path[s->plen] = '\0';
			}
			s->inmap = map;
			rc = value(s, active, -1);
		}
		if (rc < 0)
			return -1;
		s->plen = base;
		if ((rc = after(s, '}')) <= 0)
			return rc;
	}
}

static int
array(struct scan *s)
{
	int rc;

	if ((rc = enter(s, ']')) <= 0)
		return rc;
	do {
		if (value(s, 0, -1) < 0)
			return -1;
	} while ((rc = after(s, ']')) > 0);
	return rc;
}

/* A value at s->p; when active, s->path names it and it is recorded if wanted. */
static int
value(struct scan *s, int active, long node)
{
	const char *start = s->p;
	struct jv v = { JV_NONE, 0, 0, NULL, 0 };
	long id = -1;
	int rc;

	if (s->p >= s->end)
		return -1;
	if (active && s->fast)
		id = s->f->trie[node].id;
	else if (active && (*s->p != '{' || s->inmap))	/* a map's member is a leaf */
		id = leaf(s);
	switch (*s->p) {
	case '{':
		if (active && s->fast)
			rc = object(s, s->f->trie[node].child >= 0, node);
		else {
			if (active && !s->inmap)
				id = jfields_find(s->f, s->path, s->plen);
			rc = object(s, active && !s->inmap && descend(s), -1);
		}
		v.type = JV_RAW;
		break;
	case '[':
		rc = array(s);
		v.type = JV_RAW;
		break;
	case '"':
		rc = string(s, &v.s, &v.len, &v.esc);
		v.type = JV_STR;
		start = NULL;
		/* the strings that stand for the numbers JSON cannot hold (xt(7)) */
		if (rc == 0 && !v.esc && nonfinite(v.s, v.len, &v.num))
			v.type = JV_NUM;
		break;
	case 'N':
	case 'I':
		/* bare, as Python's json.dumps writes them */
		rc = literal(s, *s->p == 'N' ? "NaN" : "Infinity");
		v.type = JV_NUM;
		v.num = *start == 'N' ? NAN : INFINITY;
		break;
	case 't':
		rc = literal(s, "true");
		v.type = JV_BOOL;
		v.num = 1;
		break;
	case 'f':
		rc = literal(s, "false");
		v.type = JV_BOOL;
		break;
	case 'n':
		rc = literal(s, "null");
		v.type = JV_NULL;
		break;
	default:
		if (s->end - s->p > 1 && s->p[0] == '-' && s->p[1] == 'I') {
			rc = literal(s, "-Infinity");
			v.num = -INFINITY;
		} else {
			rc = number(s, id >= 0 ? &v.num : NULL);
		}
		v.type = JV_NUM;
		break;
	}
	if (rc < 0)
		return -1;
	if (id >= 0) {
		/*
		 * member by member: the copy of the whole struct read v back in
		 * wider loads than its members were written with, a stall that
		 * cost a report of many records a tenth of its time
		 */
		struct jv *o = &(*s->v)[id];

		o->type = v.type;
		o->esc = v.esc;
		o->num = v.num;
		o->s = start ? start : v.s;
		o->len = start ? (size_t)(s->p - start) : v.len;
	}
	return 0;
}

int
jscan(struct jfields *f, const char *line, size_t len, struct jv **v, size_t *cap,
    size_t *errpos)
{
	struct scan s;
	size_t i;

	s.f = f;
	s.p = line;
	s.end = line + len;
	s.v = v;
	s.cap = cap;
	s.plen = 0;
	s.path[0] = '\0';
	s.depth = 0;
	s.inmap = 0;
	s.fast = f->nwild == 0;
	if (s.fast)
		trie_build(f);
	grow(&s);
	for (i = 0; i < f->n; i++)
		(*v)[i].type = JV_NONE;
	ws(&s);
	if (s.p >= s.end || *s.p != '{' || object(&s, 1, 0) < 0)
		goto bad;
	ws(&s);
	if (s.p != s.end)
		goto bad;
	return 0;
bad:
	*errpos = (size_t)(s.p - line);
	return -1;
}

static unsigned
hex4(const char *p)
{
	unsigned u = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		u <<= 4;
		if (c >= '0' && c <= '9')
			u |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			u |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			u |= (unsigned)(c - 'A' + 10);
		else
			return 0xfffd;
	}
	return u;
}

static size_t
utf8(unsigned u, char *o)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | (u >> 6));
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | (u >> 12));
		o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (u >> 18));
	o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

size_t
jv_unescape(const struct jv *v, char *out)
{
	const char *p = v->s, *end = v->s + v->len;
	size_t n = 0;

	while (p < end) {
		unsigned u;

		if (*p != '\\') {
			out[n++] = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'b': out[n++] = '\b'; p++; break;
		case 'f': out[n++] = '\f'; p++; break;
		case 'n': out[n++] = '\n'; p++; break;
		case 'r': out[n++] = '\r'; p++; break;
		case 't': out[n++] = '\t'; p++; break;
		case 'u':
			u = end - p >= 5 ? hex4(p + 1) : 0xfffd;
			p += end - p >= 5 ? 5 : end - p;
			if (u >= 0xd800 && u < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
				unsigned lo = hex4(p + 2);

				if (lo >= 0xdc00 && lo < 0xe000) {
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (u >= 0xd800 && u < 0xe000)
				u = 0xfffd;
			n += utf8(u, out + n);
			break;
		default: out[n++] = *p++; break;
		}
	}
	out[n] = '\0';
	return n;
}

int
jv_text(const struct jv *v, struct sbuf *sb)
{
	switch (v->type) {
	case JV_NONE:
		return 0;
	case JV_STR:
		if (v->esc) {
			char *tmp = xmalloc(v->len + 1);
			size_t n = jv_unescape(v, tmp);
			int rc = sbuf_add(sb, tmp, n);

			free(tmp);
			return rc;
		}
		return sbuf_add(sb, v->s, v->len);
	case JV_NULL:
		return sbuf_adds(sb, "null");
	case JV_BOOL:
		return sbuf_adds(sb, v->num ? "true" : "false");
	case JV_NUM:
		if (isnan(v->num))
			return sbuf_adds(sb, "NaN");
		if (isinf(v->num))
			return sbuf_adds(sb, v->num > 0 ? "inf" : "-inf");
		if (!v->s)
			return sbuf_addf(sb, "%.17g", v->num);
		return sbuf_add(sb, v->s, v->len);
	default:
		return sbuf_add(sb, v->s, v->len);
	}
}

static int
rank(int type)
{
	switch (type) {
	case JV_NULL: return 1;
	case JV_BOOL: return 2;
	case JV_NUM: return 3;
	case JV_STR: return 4;
	case JV_RAW: return 5;
	default: return 6;	/* missing: last */
	}
}

static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

int
jv_cmp(const struct jv *a, const struct jv *b)
{
	int ra = rank(a->type), rb = rank(b->type);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (a->type) {
	case JV_NUM:
		/* NaN after every number */
		if (isnan(a->num) || isnan(b->num))
			return !!isnan(a->num) - !!isnan(b->num);
		return a->num < b->num ? -1 : a->num > b->num;
	case JV_BOOL:
		return a->num < b->num ? -1 : a->num > b->num;
	case JV_STR:
		if (a->esc || b->esc) {
			char *x = xmalloc(a->len + 1), *y = xmalloc(b->len + 1);
			size_t nx = a->esc ? jv_unescape(a, x) : 0, ny = b->esc ? jv_unescape(b, y) : 0;
			int c = bytes_cmp(a->esc ? x : a->s, a->esc ? nx : a->len,
			    b->esc ? y : b->s, b->esc ? ny : b->len);

			free(x);
			free(y);
			return c;
		}
		return bytes_cmp(a->s, a->len, b->s, b->len);
	case JV_RAW:
		return bytes_cmp(a->s, a->len, b->s, b->len);
	default:
		return 0;
	}
}
