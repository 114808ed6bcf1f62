/*
 * json.h: JSON lines in and out, on top of cJSON.
 *
 * A reader returns one parsed value per non-blank line. Lines longer than
 * the reader's limit, and lines that do not parse, are errors that name the
 * input and the line: "<stdin>:17: expected a JSON object".
 */
#ifndef XT_JSON_H
#define XT_JSON_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "util.h"

#define JSONL_MAX_LINE ((size_t)16 << 20)

struct jsonl_reader {
	FILE *fp;
	const char *name;	/* shown in messages, e.g. "<stdin>" */
	long lineno;		/* line number of the value last returned */
	struct sbuf line;
	char err[512];		/* the last error, "name:line: what" */
};

/* Read from fp (not owned) with lines at most max bytes (0: JSONL_MAX_LINE). */
void jsonl_init(struct jsonl_reader *r, FILE *fp, const char *name, size_t max);
void jsonl_release(struct jsonl_reader *r);
/*
 * Read the next value. Returns 1 and sets *out (caller frees with
 * cJSON_Delete), 0 at the end of input, or -1 with r->err set. When
 * want_object is set, a value that is not an object is an error.
 */
int jsonl_next(struct jsonl_reader *r, cJSON **out, int want_object);
/*
 * Read the next raw line (without its newline) into r->line. Returns 1, 0 at
 * the end, or -1 with r->err set (line too long, read error).
 */
int jsonl_getline(struct jsonl_reader *r);

/* Print v compactly on one line to fp, followed by '\n'. Returns 0 or -1. */
int json_print_line(FILE *fp, const cJSON *v);
/* v compactly, as a fresh string with a trailing '\n'. Caller frees. */
char *json_line(const cJSON *v, size_t *len);

/* Accessors: NULL or def when the member is missing or of another type. */
const char *json_str(const cJSON *obj, const char *key);
double json_num(const cJSON *obj, const char *key, double def);

/*
 * Set obj[key] (replacing it) to a string / number / value. The value is
 * consumed. Keys are case-sensitive: "acc" does not replace "ACC".
 */
void json_set_str(cJSON *obj, const char *key, const char *s);
void json_set_num(cJSON *obj, const char *key, double n);
void json_set(cJSON *obj, const char *key, cJSON *v);

/* Parse "name=value": value as JSON if it parses as a number, true, false,
 * null, a string in quotes, a list or an object; otherwise as a plain
 * string. Returns a new item (caller frees) and sets *name (caller frees),
 * or NULL when arg has no '=' or an empty name. */
cJSON *json_parse_assign(const char *arg, char **name);

#endif
