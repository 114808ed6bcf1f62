/* show.c: see show.h. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "name.h"
#include "run.h"
#include "show.h"
#include "banned.h"

#define TAIL_BYTES ((int64_t)64 << 10)

/* "name=value ..." of an object's members (strings bare, others as JSON). */
static void
members(FILE *fp, const char *label, const cJSON *obj)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj) || !obj->child)
		return;
	fprintf(fp, "%-10s", label);
	cJSON_ArrayForEach(it, obj) {
		char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
		const char *s = v ? v : it->valuestring;

		/* a metric's infinities as the tables show them (NaN is NaN in both) */
		if (!v && !strcmp(label, "metrics") && !strcmp(s, "Infinity"))
			s = "inf";
		else if (!v && !strcmp(label, "metrics") && !strcmp(s, "-Infinity"))
			s = "-inf";
		fprintf(fp, " %s=%s", it->string, s);
		free(v);
	}
	putc('\n', fp);
}

static void
line(FILE *fp, const char *label, const char *value)
{
	if (value)
		fprintf(fp, "%-10s %s\n", label, value);
}

static void
files(FILE *fp, struct store *st, const char *ws, const char *run)
{
	char *p = run_path(ws, run, "files.jsonl");
	struct sbuf sb;
	char *s, *nl;
	int n = 0;

	sbuf_init(&sb, (size_t)16 << 20);
	if (store_get(st, p, 0, -1, &sb) == 0) {
		for (s = sb.buf; *s; s = nl + 1) {
			cJSON *f;

			if (!(nl = strchr(s, '\n')))
				nl = s + strlen(s) - 1;
			if ((f = cJSON_ParseWithLength(s, (size_t)(nl - s + 1))) && json_str(f, "path")) {
				fprintf(fp, "%-10s %s (%.0f bytes)\n", n++ ? "" : "files",
				    json_str(f, "path"), json_num(f, "size", 0));
			}
			cJSON_Delete(f);
		}
	}
	sbuf_release(&sb);
	free(p);
}

static void
console(FILE *fp, struct store *st, const char *ws, const char *run, long lines)
{
	char *p = run_path(ws, run, "output.txt"), *s;
	struct store_stat sst;
	struct sbuf sb;
	int64_t off;
	long n = 0;

	sbuf_init(&sb, (size_t)TAIL_BYTES + 1);
	if (lines > 0 && store_stat(st, p, &sst) == 0 && sst.size > 0) {
		off = sst.size > TAIL_BYTES ? sst.size - TAIL_BYTES : 0;
		if (store_get(st, p, off, TAIL_BYTES, &sb) == 0 && sb.len) {
			if (sb.buf[sb.len - 1] == '\n')
				sb.buf[--sb.len] = '\0';
			for (s = sb.buf + sb.len; s > sb.buf; s--)
				if (s[-1] == '\n' && ++n == lines)
					break;
			fprintf(fp, "console   (last %ld lines of %lld bytes)\n", lines, (long long)sst.size);
			while (*s) {
				size_t l = strcspn(s, "\n");

				fprintf(fp, "  %.*s\n", (int)l, s);
				s += l + (s[l] == '\n');
			}
		}
	}
	sbuf_release(&sb);
	free(p);
}

int
show_run(struct store *st, const char *ws, const char *run, long lines, int json, FILE *fp)
{
	char why[256], buf[512];
	cJSON *rec;
	int rc;

	if (name_check(run, why, sizeof(why)) < 0) {
		warnx("run '%s' %s", run, why);
		return 1;
	}
	if (!(rec = run_load(st, ws, run, &rc))) {
		warnx("%s", store_error(st));
		return 1;
	}
	if (json) {
		json_print_line(fp, rec);
		cJSON_Delete(rec);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s (job %s, experiment %s, workspace %s)", run,
	    json_str(rec, "job") ? json_str(rec, "job") : "?",
	    json_str(rec, "exp") ? json_str(rec, "exp") : "?", ws);
	line(fp, "run", buf);
	line(fp, "parent", json_str(rec, "parent"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec, "exit_code")))
		snprintf(buf, sizeof(buf), "%s (exit code %.0f)", json_str(rec, "status"),
		    json_num(rec, "exit_code", 0));
	else
		snprintf(buf, sizeof(buf), "%s", json_str(rec, "status") ? json_str(rec, "status") : "?");
	line(fp, "status", buf);
	line(fp, "command", json_str(rec, "cmd"));
	if (json_str(rec, "target")) {
		snprintf(buf, sizeof(buf), "%s%s%s", json_str(rec, "target"),
		    json_str(rec, "node") ? " on " : "", json_str(rec, "node") ? json_str(rec, "node") : "");
		line(fp, "target", buf);
	}
	line(fp, "created", json_str(rec, "created"));
	line(fp, "started", json_str(rec, "started"));
	line(fp, "ended", json_str(rec, "ended"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec, "duration"))) {
		snprintf(buf, sizeof(buf), "%.1f s", json_num(rec, "duration", 0));
		line(fp, "duration", buf);
	}
	members(fp, "hparams", cJSON_GetObjectItemCaseSensitive(rec, "hparams"));
	members(fp, "metrics", cJSON_GetObjectItemCaseSensitive(rec, "metrics"));
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec, "step"))) {
		snprintf(buf, sizeof(buf), "%.0f", json_num(rec, "step", 0));
		line(fp, "step", buf);
	}
	members(fp, "tags", cJSON_GetObjectItemCaseSensitive(rec, "tags"));
	files(fp, st, ws, run);
	console(fp, st, ws, run, lines);
	cJSON_Delete(rec);
	return 0;
}
