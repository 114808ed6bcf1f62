/*
 * f-expr.c: the --where language (lib/expr.c) and the record scanner under
 * it. The input's first line is the expression; the lines after it, when
 * any, are records it is evaluated against (else a fixed record).
 */
#include "fuzz.h"
#include "expr.h"
#include "jscan.h"
#include "banned.h"

static const char fixed[] =
    "{\"run\":\"run7.2\",\"status\":\"completed\",\"hparams\":{\"lr\":0.01,\"opt\":\"adam\","
    "\"layers\":[1,2]},\"metrics\":{\"acc\":0.93,\"test-acc\":0.9},\"tags\":{\"top5\":true,"
    "\"note\":null},\"name\":\"a\\\"b\\u00e9\",\"n\":10}";

static void
eval(const struct expr *e, struct jfields *f, const char *line, size_t len, struct jv **v,
    size_t *cap)
{
	size_t pos;
	int r;

	if (jscan(f, line, len, v, cap, &pos) < 0) {
		FUZZ_ASSERT(pos <= len);
		return;
	}
	r = expr_eval(e, *v, f->n);
	FUZZ_ASSERT(r == 0 || r == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *nl = strchr(s, '\n'), *line, *end;
	char err[256];
	struct expr *e;
	struct jfields f;
	struct jv *v = NULL;
	size_t cap = 0;

	if (nl)
		*nl = '\0';
	err[0] = '\0';
	if (!(e = expr_parse(s, err, sizeof(err)))) {
		FUZZ_ASSERT(err[0] != '\0');
		free(s);
		return 0;
	}
	jfields_init(&f);
	expr_bind(e, &f);
	eval(e, &f, fixed, sizeof(fixed) - 1, &v, &cap);
	for (line = nl ? nl + 1 : NULL; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		eval(e, &f, line, end ? (size_t)(end - line) : strlen(line), &v, &cap);
	}
	expr_free(e);
	free(v);
	jfields_release(&f);
	free(s);
	return 0;
}
