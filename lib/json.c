/* json.c: see json.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "banned.h"

void
jsonl_init(struct jsonl_reader *r, FILE *fp, const char *name, size_t max)
{
	r->fp = fp;
	r->name = name;
	r->lineno = 0;
	sbuf_init(&r->line, max ? max : JSONL_MAX_LINE);
	r->err[0] = '\0';
}

void
jsonl_release(struct jsonl_reader *r)
{
	sbuf_release(&r->line);
}

int
jsonl_getline(struct jsonl_reader *r)
{
	int c, toolong = 0;
	char chunk[4096];
	size_t n = 0;

	sbuf_reset(&r->line);
	r->lineno++;
	for (;;) {
		c = getc_unlocked(r->fp);
		/* Bytes go to the line a chunk at a time: one sbuf_add each was most of the cost. */
		if (c == EOF || c == '\n' || n == sizeof(chunk)) {
			if (!toolong && n && sbuf_add(&r->line, chunk, n) < 0)
				toolong = 1;
			n = 0;
		}
		if (c == EOF) {
			if (ferror(r->fp)) {
				snprintf(r->err, sizeof(r->err), "%s:%ld: read error: %s",
				    r->name, r->lineno, strerror(errno));
				return -1;
			}
			if (r->line.len == 0 && !toolong)
				return 0;
			break;
		}
		if (c == '\n')
			break;
		chunk[n++] = (char)c;
	}
	if (toolong) {
		snprintf(r->err, sizeof(r->err), "%s:%ld: line longer than %zu bytes",
		    r->name, r->lineno, r->line.max);
		return -1;
	}
	if (r->line.len && r->line.buf[r->line.len - 1] == '\r')
		r->line.buf[--r->line.len] = '\0';
	return 1;
}

static int
blank(const char *s)
{
	return s[strspn(s, " \t\r")] == '\0';
}

int
jsonl_next(struct jsonl_reader *r, cJSON **out, int want_object)
{
	const char *end = NULL;
	cJSON *v;
	int rc;

	do {
		if ((rc = jsonl_getline(r)) <= 0)
			return rc;
	} while (blank(r->line.buf));
	v = cJSON_ParseWithLengthOpts(r->line.buf, r->line.len, &end, 0);
	if (!v) {
		const char *at = cJSON_GetErrorPtr();
		long col = at && at >= r->line.buf && at <= r->line.buf + r->line.len
		    ? (long)(at - r->line.buf) + 1 : 1;

		snprintf(r->err, sizeof(r->err), "%s:%ld:%ld: malformed JSON", r->name,
		    r->lineno, col);
		return -1;
	}
	if (end && !blank(end)) {
		snprintf(r->err, sizeof(r->err), "%s:%ld:%ld: junk after the JSON value",
		    r->name, r->lineno, (long)(end - r->line.buf) + 1);
		cJSON_Delete(v);
		return -1;
	}
	if (want_object && !cJSON_IsObject(v)) {
		snprintf(r->err, sizeof(r->err), "%s:%ld: expected a JSON object", r->name,
		    r->lineno);
		cJSON_Delete(v);
		return -1;
	}
	*out = v;
	return 1;
}

char *
json_line(const cJSON *v, size_t *len)
{
	char *s = cJSON_PrintUnformatted(v);
	size_t n;

	if (!s)
		die("out of memory");
	n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return s;
}

int
json_print_line(FILE *fp, const cJSON *v)
{
	size_t n;
	char *s = json_line(v, &n);
	int ret = fwrite(s, 1, n, fp) == n ? 0 : -1;

	free(s);
	return ret;
}

const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double
json_num(const cJSON *obj, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

void
json_set(cJSON *obj, const char *key, cJSON *v)
{
	if (!v)
		die("out of memory");
	/* keys are case-sensitive: "acc" and "ACC" are two members */
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

void
json_set_str(cJSON *obj, const char *key, const char *s)
{
	json_set(obj, key, cJSON_CreateString(s));
}

void
json_set_num(cJSON *obj, const char *key, double n)
{
	json_set(obj, key, cJSON_CreateNumber(n));
}

cJSON *
json_parse_assign(const char *arg, char **name)
{
	const char *eq = strchr(arg, '=');
	const char *val, *end = NULL;
	cJSON *v;

	if (!eq || eq == arg)
		return NULL;
	val = eq + 1;
	v = cJSON_ParseWithOpts(val, &end, 1);
	if (!v || cJSON_IsRaw(v))
		v = cJSON_CreateString(val);
	if (!v)
		die("out of memory");
	*name = xstrndup(arg, (size_t)(eq - arg));
	return v;
}
