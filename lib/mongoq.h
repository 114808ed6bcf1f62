/*
 * mongoq.h: a report's selection and --where as a MongoDB query filter.
 *
 * The filter is a narrowing, never a verdict: it matches every record the
 * report would select (and maybe more), and the report engine still
 * selects from what the database returns, so a report reads the same
 * from the MongoDB index as from the store's. What has no sure
 * translation is left out of the filter (it matches all) rather than
 * guessed:
 * - the database matches a value inside an array where xt sees an array,
 *   so a negation is pushed down only on the record's own scalar fields
 *   (ws, run, job, exp, status) and on the presence of a top-level field;
 * - xt reads the strings "NaN", "Infinity" and "-Infinity" as numbers,
 *   so a comparison with a number also takes the infinity on its side;
 * - a regular expression is sent only when POSIX and the server's
 *   dialect read it alike (no backslash, braces or character classes),
 *   and values that are not strings, or long enough for xt to cut
 *   (4096 bytes), are taken whatever it says;
 * - run ranges (run5-run9) are not sent; names and globs are.
 */
#ifndef XT_MONGOQ_H
#define XT_MONGOQ_H

#include <cjson/cJSON.h>

struct report;

/* The filter (a JSON object; {} matches all) of r's records in workspace ws. Caller frees. */
cJSON *mongoq_filter(const struct report *r, const char *ws);

/*
 * The fields r reads (lib/jscan.h reads no others) as a projection, or
 * NULL when it needs whole records (JSON lines out, --available).
 * Caller frees.
 */
cJSON *mongoq_projection(const struct report *r);

/*
 * The first sort key when the database's sort can cut r short: r keeps
 * the first or last N rows of a sort (--sort and --first or --last, no
 * group) and the key's path is one the server takes. *desc is 1 for a
 * descending key. NULL otherwise.
 *
 * The records then come in two parts: those whose key is not a number,
 * or not there (xt sorts these apart, and reads "NaN" and the infinities
 * from strings), whole; then those whose key is a number, in the key's
 * order (--last: the reverse), until report_past says no later one can
 * be kept. A tie between the two parts cannot happen, and within each
 * the records come in the order they were first indexed, as without the
 * cut. (One query for the first part, not one for each kind: a server
 * that filters a whole collection for each query, as the tests' does,
 * pays for each.)
 */
const char *mongoq_sort_key(const struct report *r, int *desc);

/*
 * The fields r filters or sorts by that deserve an index of their own
 * (the record's own fields have theirs): those compared with =, <, <=, >
 * or >= where --where takes them as they are, and, with sort (the
 * database sorts), the first sort key; up to max of them into out
 * (pointing into r). Returns how many.
 */
size_t mongoq_index_fields(const struct report *r, int sort, const char **out, size_t max);

/* The parts, in the order they are fed. */
enum { MONGOQ_OTHERS, MONGOQ_NUMBERS };
/* filter narrowed to a part of the records by key. Caller frees. */
cJSON *mongoq_part(const cJSON *filter, const char *key, int part);
/* The sort of the numbers part: {key: 1 or -1, "_id": 1}. Caller frees. */
cJSON *mongoq_part_sort(const char *key, int desc);

#endif
