/* Unit tests of the --where language (lib/expr.c) and the record scanner (lib/jscan.c). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "expr.h"
#include "jscan.h"

static const char *rec =
    "{\"run\":\"run7.2\",\"status\":\"completed\",\"hparams\":{\"lr\":0.01,\"opt\":\"adam\","
    "\"layers\":[1,2],\"nest\":{\"d\":3}},\"metrics\":{\"acc\":0.93,\"test-acc\":0.9,"
    "\"loss\":1e-1},\"tags\":{\"top5\":true,\"note\":null},\"name\":\"a\\\"b\\u00e9\","
    "\"num_str\":\"10\",\"n\":10,\"nan\":\"NaN\",\"inf\":\"Infinity\",\"ninf\":-Infinity,"
    "\"bare\":NaN}";

/*
 * Evaluate src against record: 1, 0, or -1 when it does not parse. With
 * maps, the record's maps are told (expr_maps) as a report tells them:
 * metrics.a.b is then the metric "a.b".
 */
static int
eval_with(const char *src, const char *record, int maps)
{
	struct jfields f;
	struct jv *v = NULL;
	size_t cap = 0, pos;
	char err[256];
	struct expr *e = expr_parse(src, err, sizeof(err));
	int r;

	if (!e) {
		printf("# %s: %s\n", src, err);
		return -1;
	}
	jfields_init(&f);
	if (maps)
		expr_maps(&f);
	expr_bind(e, &f);
	if (jscan(&f, record, strlen(record), &v, &cap, &pos) < 0) {
		printf("# record does not scan at %zu\n", pos);
		r = -2;
	} else {
		r = expr_eval(e, v, f.n);
	}
	expr_free(e);
	free(v);
	jfields_release(&f);
	return r;
}

static int
eval_on(const char *src, const char *record)
{
	return eval_with(src, record, 0);
}

static int
eval_maps(const char *src, const char *record)
{
	return eval_with(src, record, 1);
}

static int
eval(const char *src)
{
	return eval_on(src, rec);
}

/* "{\"a\":\"<n times c><tail>\"}" (caller frees). */
static char *
long_rec(size_t n, char c, const char *tail)
{
	char *r = malloc(n + strlen(tail) + 16);

	strcpy(r, "{\"a\":\"");
	memset(r + 6, c, n);
	strcpy(r + 6 + n, tail);
	strcat(r, "\"}");
	return r;
}

/* "a ~ '<pattern>'" with pattern n times c (caller frees). */
static char *
long_re(size_t n, char c)
{
	char *r = malloc(n + 8);

	strcpy(r, "a ~ '");
	memset(r + 5, c, n);
	strcpy(r + 5 + n, "'");
	return r;
}

/* 1 when src fails to parse with a message that contains want. */
static int
bad(const char *src, const char *want)
{
	char err[256];
	struct expr *e = expr_parse(src, err, sizeof(err));

	if (e) {
		expr_free(e);
		printf("# '%s' parsed\n", src);
		return 0;
	}
	if (!strstr(err, want)) {
		printf("# '%s': got '%s', want '%s'\n", src, err, want);
		return 0;
	}
	return 1;
}

/* Scan line for one field; its text in out (or "<none>"). 0, or -1 on bad syntax. */
static int
field(const char *line, const char *path, char *out, size_t outlen)
{
	struct jfields f;
	struct jv *v = NULL;
	size_t cap = 0, pos, id;
	struct sbuf sb;
	int rc;

	jfields_init(&f);
	id = jfields_add(&f, path);
	sbuf_init(&sb, 4096);
	rc = jscan(&f, line, strlen(line), &v, &cap, &pos);
	if (rc == 0 && v[id].type == JV_NONE)
		snprintf(out, outlen, "<none>");
	else if (rc == 0 && jv_text(&v[id], &sb) == 0)
		snprintf(out, outlen, "%s", sb.buf);
	sbuf_release(&sb);
	free(v);
	jfields_release(&f);
	return rc;
}

static int
field_is(const char *line, const char *path, const char *want)
{
	char got[256] = "";

	if (field(line, path, got, sizeof(got)) < 0 || strcmp(got, want)) {
		printf("# %s in %s: got '%s', want '%s'\n", path, line, got, want);
		return 0;
	}
	return 1;
}

/* Does the scanner read the number text as strtod does, to the bit? */
static int
num_is_strtod(const char *text)
{
	struct jfields f;
	struct jv *v = NULL;
	size_t cap = 0, pos;
	char line[128];
	double want = strtod(text, NULL);
	int ok;

	snprintf(line, sizeof(line), "{\"a\":%s}", text);
	jfields_init(&f);
	jfields_add(&f, "a");
	ok = jscan(&f, line, strlen(line), &v, &cap, &pos) == 0 && v[0].type == JV_NUM &&
	    !memcmp(&v[0].num, &want, sizeof(want));
	if (!ok)
		printf("# %s: not read as strtod reads it\n", text);
	free(v);
	jfields_release(&f);
	return ok;
}

/*
 * Scan line with metrics a map (expr_maps), path wanted, and with wild a
 * wildcard for every field too: is path's text want?
 */
static int
map_is(const char *line, const char *path, int wild, const char *want)
{
	struct jfields f;
	struct jv *v = NULL;
	size_t cap = 0, pos;
	struct sbuf sb;
	long id;
	int ok;

	jfields_init(&f);
	expr_maps(&f);
	jfields_add(&f, path);
	if (wild)
		jfields_add_wild(&f, "");
	sbuf_init(&sb, 4096);
	ok = jscan(&f, line, strlen(line), &v, &cap, &pos) == 0 &&
	    (id = jfields_find(&f, path, strlen(path))) >= 0;
	if (ok && v[id].type == JV_NONE)
		sbuf_adds(&sb, "<none>");
	else if (ok)
		jv_text(&v[id], &sb);
	ok = ok && !strcmp(sb.buf, want);
	if (!ok)
		printf("# %s (wild %d) in %s: got '%s', want '%s'\n", path, wild, line, sb.buf, want);
	sbuf_release(&sb);
	free(v);
	jfields_release(&f);
	return ok;
}

int
main(void)
{
	char out[64];

	/* NaN and the infinities ("NaN", "Infinity", or bare) compare as IEEE 754 */
	CHECK(eval("nan < 1") == 0 && eval("nan > 1") == 0 && eval("nan == 1") == 0);
	CHECK(eval("nan <= 1") == 0 && eval("nan >= 1") == 0 && eval("nan != 1") == 1);
	CHECK(eval("bare < 1") == 0 && eval("bare >= 1") == 0 && eval("bare != 0") == 1);
	/* bare names: the record's own field, else metrics.NAME, else hparams.NAME */
	CHECK(eval("acc > 0.9") == 1 && eval("acc < 0.9") == 0 && eval("opt = adam") == 1);
	CHECK(eval("lr = 0.01 and loss = 0.1 and not top5") == 1);
	CHECK(eval_on("acc = 1", "{\"acc\":1,\"metrics\":{\"acc\":2}}") == 1);
	CHECK(eval_on("acc = 2", "{\"hparams\":{\"acc\":1},\"metrics\":{\"acc\":2}}") == 1);
	CHECK(eval("nest = 3") == 0 && eval("d") == 0);
	/*
	 * a bare name with dots, its first part no map of names: the record's
	 * own (nested) field, else the metric, else the hparam of that name
	 */
	{
		const char *m = "{\"metrics\":{\"eval.loss\":1.5,\"accuracy.2.0\":0.5},"
		    "\"hparams\":{\"opt.name\":\"adam\",\"eval.loss\":9}}";
		const char *own = "{\"eval\":{\"loss\":0.5},\"metrics\":{\"eval.loss\":5}}";

		CHECK(eval_maps("eval.loss = 1.5", m) == 1 && eval_maps("accuracy.2.0 < 1", m) == 1);
		CHECK(eval_maps("opt.name = adam", m) == 1 && eval_maps("eval.loss", m) == 1);
		CHECK(eval_maps("eval.loss = 9", m) == 0 && eval_maps("eval.los", m) == 0);
		CHECK(eval_maps("eval.loss < 1", own) == 1 && eval_maps("eval.loss = 5", own) == 0);
		/* below a map it is that map's name, never another's */
		CHECK(eval_maps("tags.eval.loss", m) == 0 && eval_maps("hparams.eval.loss = 9", m) == 1);
		CHECK(eval_maps("given_hparams.opt.name", m) == 0);
		CHECK(!expr_is_bare("metrics.a.b") && !expr_is_bare("tags.x") && !expr_is_bare("hparams.x"));
		CHECK(expr_is_bare("lr") && expr_is_bare("eval.loss") && expr_is_bare("metric.acc"));
		CHECK(expr_is_bare("metrics") && expr_is_bare("metricsx.a"));
	}
	/* keywords in any case; MLflow's backquotes */
	CHECK(eval("acc > 0.9 AND NOT opt = sgd Or n = 1") == 1);
	CHECK(eval("metrics.`test-acc` = 0.9 and metrics.`acc` > 0.9") == 1);
	CHECK(eval("not nan < 1") == 1);
	CHECK(eval("inf > 1e308") == 1 && eval("inf == 1") == 0 && eval("inf < 0") == 0);
	CHECK(eval("ninf < -1e308") == 1 && eval("ninf > 0") == 0);
	CHECK(eval("nan == 'NaN'") == 0);	/* a number, not a string */

	/* comparisons and types */
	CHECK(eval("metrics.acc > 0.9") == 1);
	CHECK(eval("metrics.acc > 0.93") == 0);
	CHECK(eval("metrics.acc >= 0.93") == 1);
	CHECK(eval("metrics.acc <= 0.93 and metrics.acc < 1") == 1);
	CHECK(eval("metrics.loss == 0.1") == 1);
	CHECK(eval("metrics.test-acc = 0.9") == 1);
	CHECK(eval("hparams.opt = \"adam\"") == 1);
	CHECK(eval("hparams.opt = 'adam'") == 1);
	CHECK(eval("hparams.opt = adam") == 1);
	CHECK(eval("hparams.opt != adam") == 0);
	CHECK(eval("hparams.opt <> sgd") == 1);
	CHECK(eval("hparams.opt < b") == 1);
	CHECK(eval("status = completed and hparams.lr = 0.01") == 1);
	/* numbers as numbers, strings as strings: "10" is not 10, and "9" > "10" */
	CHECK(eval("num_str = 10") == 0);
	CHECK(eval("num_str != 10") == 1);
	CHECK(eval("num_str = \"10\"") == 1);
	CHECK(eval("num_str < \"9\"") == 1);
	CHECK(eval("n > 9") == 1);
	CHECK(eval("n > \"9\"") == 0);
	CHECK(eval("n < \"9\"") == 0);
	CHECK(eval("tags.top5 = true") == 1);
	CHECK(eval("tags.top5 = false") == 0);
	CHECK(eval("tags.note = null") == 1);
	CHECK(eval("tags.top5 = 1") == 0);
	CHECK(eval("name = 'a\"b\xc3\xa9'") == 1);
	CHECK(eval("hparams.nest.d = 3") == 1);
	/* a missing field: every comparison false, and existence */
	CHECK(eval("metrics.f1 > 0") == 0);
	CHECK(eval("metrics.f1 != 0") == 0);
	CHECK(eval("metrics.f1") == 0);
	CHECK(eval("not metrics.f1") == 1);
	CHECK(eval("metrics.acc") == 1);
	CHECK(eval("tags.note") == 1);
	CHECK(eval("hparams.layers") == 1);
	/* regular expressions */
	CHECK(eval("run ~ '^run7\\.'") == 1);
	CHECK(eval("run ~ '^run8'") == 0);
	CHECK(eval("run !~ '^run8'") == 1);
	CHECK(eval("hparams.lr ~ '^0\\.0'") == 1);
	CHECK(eval("status =~ 'compl'") == 1);
	/* precedence: not > and > or, parentheses */
	CHECK(eval("hparams.opt = sgd and metrics.acc > 0.9 or run = run7.2") == 1);
	CHECK(eval("hparams.opt = sgd and (metrics.acc > 0.9 or run = run7.2)") == 0);
	CHECK(eval("run = run7.2 or metrics.acc > 0.9 and hparams.opt = sgd") == 1);
	CHECK(eval("(run = run7.2 or metrics.acc > 0.9) and hparams.opt = sgd") == 0);
	CHECK(eval("not hparams.opt = sgd and n = 10") == 1);
	CHECK(eval("not (hparams.opt = adam and n = 10)") == 0);
	CHECK(eval("not not n = 10") == 1);
	CHECK(eval("NOT n = 9 AND n = 10") == 1);
	CHECK(eval("!(n = 9) && (n = 10 || n = 11)") == 1);
	CHECK(eval("hparams.lr = 1e-2 and metrics.acc > .5 and n > -1") == 1);
	/* errors name the column */
	CHECK(bad("", "column 1: empty expression"));
	CHECK(bad("metrics.acc >", "column 14: expected a value after '>'"));
	CHECK(bad("metrics.acc > and", "column 15: expected a value after '>'"));
	CHECK(bad("(metrics.acc > 1", "column 1: '(' is never closed"));
	CHECK(bad("metrics.acc > 1)", "column 16: ')' without '('"));
	CHECK(bad("metrics.acc > 1 n = 2", "column 17: expected 'and', 'or' or the end, not 'n'"));
	CHECK(bad("a = 'x", "column 5: unclosed string"));
	CHECK(bad("a and > 3", "column 7: expected a field name, not '>'"));
	CHECK(bad("a ~ '('", "column 5: bad regular expression"));
	CHECK(bad("a ~ 3", "column 5: '~' needs a string"));
	/*
	 * Regular expressions are bounded: the pattern's length, its size
	 * with {m,n} expanded, no back-references (exponential time in a
	 * backtracking matcher); a value is matched on its first 4096 bytes
	 * (glibc's matcher takes 9 s on '(a|aa)*c' against 64 KiB of 'a').
	 */
	{
		char *re = long_re(256, 'a'), *r;

		CHECK(eval(re) == 0);
		free(re);
		re = long_re(257, 'a');
		CHECK(bad(re, "column 5: a regular expression longer than 256 bytes"));
		free(re);
		CHECK(bad("a ~ '(a)\\\\1'", "column 5: a back-reference (\\1 to \\9) in a regular expression"));
		CHECK(bad("a ~ '^(a|a)*\\\\1$'", "back-reference"));
		CHECK(bad("a ~ '((a{1,100}){1,100})'", "column 5: a regular expression too large once"));
		CHECK(bad("a ~ '(((a|b)*){50}){50}'", "too large"));
		CHECK(bad("a ~ '(a{2,}){999}'", "too large"));
		CHECK(bad("a ~ '(a|aa){1,300}b{1,300}c{1,300}d{1,300}'", "too large"));
		CHECK(eval("name ~ '(a|aa){1,100}'") == 1);
		CHECK(eval("name ~ '[\\\\1]'") == 0);	/* in brackets, not a back-reference */
		CHECK(eval("name ~ '^[[:alpha:]]\"b'") == 1);
		CHECK(eval("run ~ '^[[.r.]]un7(x)?[.]'") == 1);
		CHECK(eval("run ~ ')'") == 0);
		/* the first 4096 bytes of a long value */
		r = long_rec(5000, 'a', "X");
		CHECK(eval_on("a ~ '^a'", r) == 1 && eval_on("a ~ 'X'", r) == 0 &&
		    eval_on("a !~ 'X'", r) == 1);
		free(r);
		r = long_rec(4095, 'a', "X");
		CHECK(eval_on("a ~ 'aX$'", r) == 1);
		free(r);
		r = long_rec(4096, 'a', "X");
		CHECK(eval_on("a ~ 'X'", r) == 0 && eval_on("a ~ 'a$'", r) == 1);
		free(r);
		/* cut before a character, never inside one */
		r = long_rec(4095, 'a', "\xc3\xa9");
		CHECK(eval_on("a ~ 'a$'", r) == 1 && eval_on("a ~ '\xc3'", r) == 0);
		free(r);
		r = long_rec(4094, 'a', "\xc3\xa9");
		CHECK(eval_on("a ~ 'a\xc3\xa9$'", r) == 1);
		free(r);
	}
	CHECK(bad("a < true", "column 5: true, false and null compare only with = and !="));
	CHECK(bad("a = 1 = 2", "column 7: expected 'and', 'or' or the end, not another operator"));
	CHECK(bad("3 > a", "column 1: expected a field name, not '3'"));
	CHECK(bad("a = 1 and", "column 10: expected a field name, not the end"));
	CHECK(bad("a = 1 or #", "column 10: expected a field name, not '#'"));

	/* the scanner: dotted paths, raw objects and arrays, escapes, bad syntax */
	CHECK(field_is(rec, "hparams.lr", "0.01"));
	CHECK(field_is(rec, "hparams.layers", "[1,2]"));
	CHECK(field_is(rec, "hparams.nest", "{\"d\":3}"));
	CHECK(field_is(rec, "metrics.loss", "1e-1"));
	CHECK(field_is(rec, "name", "a\"b\xc3\xa9"));
	CHECK(field_is(rec, "tags.note", "null"));
	CHECK(field_is(rec, "metrics.nope", "<none>"));
	CHECK(field_is(" { \"a\" : { \"b\" : \"\\ud83d\\ude00\" } } ", "a.b", "\xf0\x9f\x98\x80"));
	CHECK(field("{\"a\":1", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":1,}", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":01}", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":[1,2}", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":\"x\\q\"}", "a", out, sizeof(out)) < 0);
	/* \u wants four hex digits */
	CHECK(field("{\"a\":\"\\u12\"}", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":\"\\u12zz\"}", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":\"\\u\"}", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":\"x\\u00e", "a", out, sizeof(out)) < 0);
	CHECK(field_is("{\"a\":\"\\u00E9\\u0041\"}", "a", "\xc3\xa9" "A"));
	CHECK(field("{\"a\":tru}", "a", out, sizeof(out)) < 0);
	CHECK(field("[1]", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"a\":1} x", "a", out, sizeof(out)) < 0);
	CHECK(field("{\"b\":{\"c\":[{\"d\":1,}]}}", "a", out, sizeof(out)) < 0);

	/* numbers read without strtod (up to 2^53 as digits, 22 after the point) or with it: the same doubles */
	{
		static const char *nums[] = { "0", "-0", "1", "-1", "0.1", "0.3", "-0.7", "123456",
		    "0.123456", "1.5", "999999999999999", "99999999999999.9", "0.000000000000001",
		    "0.999999999999999", "9007199254740993", "9007199254740992", "-9007199254740991",
		    "0.9007199254740992", "0.1234567890123456", "0.0000000000000000000001",
		    "0.00000000000000000000001", "9999999999999999999", "0.30978089073197024",
		    "1e5", "1.5E-3",
		    "-2.5e+10", "12345678901234567890", "0.1000000000000000055511151231257827",
		    /* 17 to 19 digits (through a long double where it is x87's) */
		    "0.12345678901234567", "1234567890.123456789", "-0.00000000012345678901234567",
		    "0.000000000123456789012345678", "0.0000000001234567890123456789",
		    /* exactly halfway between two doubles: strtod's turn */
		    "4503599627370496.5", "4503599627370497.5", "9007199254740995",
		    "9007199254740997" };
		uint64_t x = 88172645463325252u;

		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			CHECK(num_is_strtod(nums[i]));
		/* 100,000 random ones of 15 to 19 digits, the point anywhere */
		int bad = 0;

		for (int i = 0; i < 100000 && bad < 3; i++) {
			char d[24], num[48];
			int nd, k, ip;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			nd = 15 + (int)(x % 5);
			ip = (int)((x >> 8) % (uint64_t)(nd + 1));
			for (k = 0; k < nd; k++, x = x * 6364136223846793005u + 1442695040888963407u)
				d[k] = (char)('0' + (x >> 33) % 10);
			d[nd] = '\0';
			d[0] = ip > 0 && d[0] == '0' ? '7' : d[0];
			snprintf(num, sizeof(num), "%s%.*s%s%s", i % 2 ? "-" : "", ip, d, ip ? "." : "0.",
			    d + ip);
			if (ip == nd)
				num[strlen(num) - 1] = '\0';	/* "123." is not JSON */
			if (!num_is_strtod(num))
				bad++;
		}
		CHECK(bad == 0);
	}

	/* below a map (metrics) the rest of a path is one key; elsewhere a dot steps into an object */
	for (int w = 0; w < 2; w++) {
		const char *m = "{\"metrics\":{\"a.b\":1,\"a\":{\"b\":2},\"c\":{\"d\":3}},"
		    "\"x\":{\"y.z\":4,\"y\":{\"z\":5}}}";

		CHECK(map_is(m, "metrics.a.b", w, "1"));
		CHECK(map_is(m, "metrics.a", w, "{\"b\":2}"));
		CHECK(map_is(m, "metrics.c.d", w, "<none>"));
		CHECK(map_is(m, "x.y.z", w, "5"));
	}
	return check_done();
}
