/*
 * jscan.h: a lean scanner of one-line JSON records, for reports over many
 * records. It reads only the fields asked for, names nested members by
 * dotted paths ("parent_script.exit_code"), checks the line's syntax as it
 * goes, and allocates nothing per value: strings point into the line.
 *
 * An object added as a map (jfields_add_map) holds names of their own,
 * which may have dots: a path below it is the map's path, a dot and one
 * key, whole ("metrics.accuracy.2.0" is the key "accuracy.2.0" of the
 * map "metrics"), and its members' values are not searched for members.
 */
#ifndef XT_JSCAN_H
#define XT_JSCAN_H

#include <stddef.h>

#include "util.h"

enum { JV_NONE, JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_RAW };

/*
 * One value of a record. JV_NONE: the field is missing. The strings "NaN",
 * "Infinity" and "-Infinity" (how xt stores what JSON cannot hold, see
 * xt(7)) and the bare words NaN, Infinity and -Infinity (as Python writes
 * them) are JV_NUM with those values; s then holds the word.
 */
struct jv {
	int type;
	int esc;		/* JV_STR: s holds backslash escapes (see jv_unescape) */
	double num;		/* JV_NUM; JV_BOOL: 0 or 1 */
	const char *s;		/* JV_STR: the text inside the quotes; others: the JSON text */
	size_t len;
};

/*
 * The fields wanted, each known by its id (its index in path[]). A
 * wildcard prefix ("hparams." from "hparams.*", or "" for every field)
 * adds each field found under it as the scan meets it.
 */
struct jfields {
	char **path;
	size_t n, cap;
	char **wild;
	size_t nwild, capwild;
	char **map;		/* the paths of the maps (jfields_add_map) */
	size_t nmap;
	struct jnode *trie;	/* the paths as a tree of segments, built by jscan */
	size_t ntrie, trie_for;
};

void jfields_init(struct jfields *f);
void jfields_release(struct jfields *f);
/* The id of path, added when new. */
size_t jfields_add(struct jfields *f, const char *path);
/* Add a wildcard: every field whose path starts with prefix. */
void jfields_add_wild(struct jfields *f, const char *prefix);
/* Take the object at path as a map: its keys are whole names (see above). Before jscan. */
void jfields_add_map(struct jfields *f, const char *path);
/* The id of path, or -1 when it is not wanted (yet). */
long jfields_find(const struct jfields *f, const char *path, size_t len);

/*
 * Scan one JSON object (line, len bytes; need not be NUL-terminated) and
 * set (*v)[id] for each wanted field: the others are JV_NONE. *v (of *cap
 * entries) is grown to f->n, which wildcards may raise. An object or array
 * that is wanted is JV_RAW; it is also searched for wanted members.
 * Returns 0, or -1 with *errpos the offset where the syntax went wrong.
 */
int jscan(struct jfields *f, const char *line, size_t len, struct jv **v, size_t *cap,
    size_t *errpos);

/*
 * Write a JV_STR's text, escapes decoded, to out (at least v->len + 1
 * bytes), NUL-terminated. Returns its length.
 */
size_t jv_unescape(const struct jv *v, char *out);

/*
 * Append v as text to sb: a string decoded, a number or raw JSON as in the
 * record (but NaN, inf and -inf for those), true/false, null as "null";
 * nothing for JV_NONE. 0 or -1 (sb full).
 */
int jv_text(const struct jv *v, struct sbuf *sb);

/*
 * Compare two values for sorting: missing last, then null, booleans,
 * numbers (NaN after every other number), strings, raw.
 */
int jv_cmp(const struct jv *a, const struct jv *b);

#endif
