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

#endif
