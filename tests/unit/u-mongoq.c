/*
 * u-mongoq: a report's selection and --where as a MongoDB filter, without
 * a database: what is sent, what is widened, and what is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "mongoq.h"
#include "report.h"
#include "util.h"

/* 1: the reports leave parent runs out, as without --parents */
static int no_parents;

/* The filter of a report with --where w (may be NULL) and the run names n (may be NULL). */
static char *
filter(const char *w, const char *n)
{
	struct report r;
	cJSON *f;
	char *s;

	report_init(&r);
	r.parents = !no_parents;
	if (w && report_add_where(&r, w) < 0)
		return xstrdup(r.err);
	if (n && report_add_names(&r, n) < 0)
		return xstrdup(r.err);
	report_begin(&r);
	f = mongoq_filter(&r, "ws1");
	s = cJSON_PrintUnformatted(f);
	cJSON_Delete(f);
	report_release(&r);
	return s;
}

static int
is(const char *w, const char *n, const char *want)
{
	char *got = filter(w, n);
	int ok = !strcmp(got, want);

	if (!ok)
		printf("# %s | %s\n#  got  %s\n#  want %s\n", w ? w : "", n ? n : "", got, want);
	free(got);
	return ok;
}

/* The fields to index of --where w and --sort k, as "a b c" */
static int
fields(const char *w, const char *k, const char *want)
{
	struct report r;
	const char *f[4];
	size_t n, i;
	struct sbuf sb;
	int ok;

	report_init(&r);
	report_add_where(&r, w);
	report_add_sort(&r, k);
	report_begin(&r);
	n = mongoq_index_fields(&r, 1, f, 4);
	sbuf_init(&sb, 1 << 16);
	for (i = 0; i < n; i++)
		sbuf_addf(&sb, "%s%s", i ? " " : "", f[i]);
	sbuf_addc(&sb, '\0');
	if (!(ok = !strcmp(sb.buf, want)))
		printf("# fields of %s: %s, not %s\n", w, sb.buf, want);
	sbuf_release(&sb);
	report_release(&r);
	return ok;
}

#define WS "{\"ws\":\"ws1\"}"
#define AND(x) "{\"$and\":[{\"ws\":\"ws1\"}," x "]}"
/* note, a bare name: the record's own, metrics.note or hparams.note (expr.h) */
#define NOTE_ANY "{\"$or\":[{\"note\":{\"$exists\":true}},{\"metrics.note\":{\"$exists\":true}}," \
	"{\"hparams.note\":{\"$exists\":true}}]}"

int
main(void)
{
	CHECK(is(NULL, NULL, WS));
	CHECK(is("status = completed", NULL, AND("{\"status\":\"completed\"}")));
	CHECK(is("not status = cancelled", NULL, AND("{\"status\":{\"$ne\":\"cancelled\"}}")));
	CHECK(is("not (status = a or job != j1)", NULL,
	    AND("{\"status\":{\"$ne\":\"a\"}},{\"job\":\"j1\"}")));
	/* a number takes the infinity on its side, which xt reads from a string */
	CHECK(is("metrics.acc >= 0.8 or tags.top5", NULL,
	    AND("{\"$or\":[{\"metrics.acc\":{\"$gte\":0.8}},{\"metrics.acc\":\"Infinity\"},"
	    "{\"tags.top5\":{\"$exists\":true}}]}")));
	CHECK(is("metrics.loss < 1", NULL,
	    AND("{\"$or\":[{\"metrics.loss\":{\"$lt\":1}},{\"metrics.loss\":\"-Infinity\"}]}")));
	/* the server looks inside arrays: no negation of user data */
	CHECK(is("not hparams.lr = 0.1", NULL, WS));
	CHECK(is("hparams.lr != 0.1", NULL, AND("{\"hparams.lr\":{\"$exists\":true}}")));
	/* a bare name may be metrics.NAME or hparams.NAME, whose absence is not sure */
	CHECK(is("not note", NULL, WS));
	/*
	 * one with dots may be the metric or hparam of that whole name
	 * (eval.loss), which the server would read as a path: left to xt
	 */
	CHECK(is("eval.loss > 1", NULL, WS));
	CHECK(is("status = a and accuracy.2.0 = 1", NULL, AND("{\"status\":\"a\"}")));
	CHECK(is("not eval.loss", NULL, WS));
	CHECK(is("not tags.x", NULL, WS));
	/* an or with a part left out is left out whole; an and keeps the rest */
	CHECK(is("status = a or not hparams.x = 1", NULL, WS));
	CHECK(is("status = a and not hparams.x = 1", NULL, AND("{\"status\":\"a\"}")));
	/* quoted names and '/' reach the server as paths; '$' does not */
	CHECK(is("metrics.\"val loss\" = 2 and metrics.train/loss = 1", NULL,
	    AND("{\"metrics.val loss\":2},{\"metrics.train/loss\":1}")));
	CHECK(is("metrics.\"$where\" = 1", NULL, WS));
	/* regular expressions: widened to what the server's match may miss */
	CHECK(is("hparams.opt ~ \"^(sgd|a)\"", NULL,
	    AND("{\"hparams.opt\":{\"$exists\":true}},{\"$or\":[{\"hparams.opt\":{\"$regex\":\"^(sgd|a)\","
	    "\"$options\":\"s\"}},{\"hparams.opt\":{\"$regex\":\"[^\\\\x00-\\\\x7F]\"}},"
	    "{\"hparams.opt\":{\"$regex\":\"^[\\\\s\\\\S]{1024}\"}},{\"hparams.opt.0\":{\"$exists\":true}},"
	    "{\"hparams.opt\":[]},{\"hparams.opt\":{\"$not\":{\"$regex\":\"^[\\\\s\\\\S]*$\"}}}]}")));
	CHECK(is("note ~ \"a\\\\d\"", NULL, AND(NOTE_ANY)));
	CHECK(is("note ~ \"[[:alpha:]]\"", NULL, AND(NOTE_ANY)));
	CHECK(is("note ~ \"[]a]\"", NULL, AND(NOTE_ANY)));
	CHECK(is("note ~ \"a{2}\"", NULL, AND(NOTE_ANY)));
	CHECK(is("note ~ \"a**\"", NULL, AND(NOTE_ANY)));
	CHECK(is("note !~ \"a\"", NULL, AND(NOTE_ANY)));
	/* names and globs; a range is left to xt */
	CHECK(is(NULL, "run3.*,run1.2", AND("{\"$or\":[{\"run\":{\"$regex\":\"^run3\\\\..*$\"}},"
	    "{\"run\":{\"$in\":[\"run1.2\"]}}]}")));
	/* a parent's name takes its children; without --parents, no parent */
	CHECK(is(NULL, "run7", AND("{\"$or\":[{\"run\":{\"$regex\":\"^run7\\\\..*$\"}},"
	    "{\"run\":{\"$in\":[\"run7\"]}}]}")));
	no_parents = 1;
	CHECK(is(NULL, NULL, AND("{\"children\":{\"$exists\":false}}")));
	no_parents = 0;
	CHECK(is(NULL, "run[!2]?,run[]x]", AND("{\"$or\":[{\"run\":{\"$regex\":\"^run[^2].$\"}},"
	    "{\"run\":{\"$regex\":\"^run[\\\\]x]$\"}}]}")));
	CHECK(is(NULL, "run1,run5-run9", WS));
	CHECK(fields("metrics.acc > 0.5 and (hparams.lr = 1 or not hparams.x = 2) and note ~ \"a\" "
	    "and status = completed and metrics.acc < 1 and tags.y != 3", "-metrics.loss",
	    "metrics.acc hparams.lr metrics.loss"));
	CHECK(fields("a = 1 and b = 1 and c = 1 and d = 1 and e = 1", "f", "a b c d"));
	return check_done();
}
