/*
 * f-jsonl.c: the JSON-lines readers: jsonl_next() (lib/json.c) over the
 * whole input, folding each object into a record as xt-log and xt-runq do
 * (run_check_line() and run_fold() of lib/run.c), and jscan() (lib/jscan.c)
 * over each line, with named fields and a wildcard, each value then
 * printed, decoded and compared.
 */
#include <stdio.h>

#include "fuzz.h"
#include "json.h"
#include "jscan.h"
#include "run.h"
#include "banned.h"

static void
reader(const uint8_t *data, size_t size)
{
	FILE *fp;
	struct jsonl_reader r;
	cJSON *v, *rec, *line;
	char *text, err[256];
	size_t len;
	size_t guard = size + 2;
	int rc;

	if (!size || !(fp = fmemopen((void *)data, size, "r")))
		return;
	rec = cJSON_CreateObject();
	jsonl_init(&r, fp, "<fuzz>", 4096);
	/* each call consumes at least one line: a reader that does not is a bug */
	while ((rc = jsonl_next(&r, &v, 0)) != 0) {
		FUZZ_ASSERT(guard-- > 0);
		if (rc < 0) {
			FUZZ_ASSERT(r.err[0] != '\0');
			continue;
		}
		text = json_line(v, &len);
		FUZZ_ASSERT(len > 0 && text[len - 1] == '\n');
		if ((line = run_check_line(text, len, err, sizeof(err)))) {
			run_fold(rec, line);
			cJSON_Delete(line);
		}
		free(text);
		cJSON_Delete(v);
	}
	jsonl_release(&r);
	fclose(fp);
	cJSON_Delete(rec);
}

static void
scan(const char *line, size_t len)
{
	struct jfields f;
	struct jv *v = NULL;
	size_t cap = 0, pos, i;
	struct sbuf sb;
	char *buf, err[256];
	cJSON *o;

	jfields_init(&f);
	jfields_add(&f, "run");
	jfields_add(&f, "metrics.acc");
	jfields_add(&f, "data");
	jfields_add_wild(&f, "hparams.");
	jfields_add_wild(&f, "data.");
	sbuf_init(&sb, 1 << 20);
	if (jscan(&f, line, len, &v, &cap, &pos) < 0) {
		FUZZ_ASSERT(pos <= len);
	} else {
		for (i = 0; i < f.n; i++) {
			sbuf_reset(&sb);
			jv_text(&v[i], &sb);
			if (v[i].type == JV_STR) {
				buf = malloc(v[i].len + 1);
				FUZZ_ASSERT(buf && jv_unescape(&v[i], buf) <= v[i].len);
				free(buf);
			}
			if (i)
				jv_cmp(&v[i - 1], &v[i]);
			FUZZ_ASSERT(jv_cmp(&v[i], &v[i]) == 0);
		}
	}
	if ((o = run_check_line(line, len, err, sizeof(err))))
		cJSON_Delete(o);
	else
		FUZZ_ASSERT(err[0] != '\0');
	sbuf_release(&sb);
	free(v);
	jfields_release(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	char *line;

	reader(data, size);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		/* a copy of just the line, so that a read past it is caught */
		line = fuzz_str((const uint8_t *)p, (size_t)((nl ? nl : end) - p));
		scan(line, (size_t)((nl ? nl : end) - p));
		free(line);
		p = nl ? nl + 1 : end;
	}
	return 0;
}
