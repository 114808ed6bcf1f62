/*
 * report.h: the query engine of xt-report. Records (JSON lines) go in one
 * at a time; the engine selects them, keeps what the output needs (every
 * record, or only the top N when --first/--last bound it, or only running
 * aggregates when grouping), and writes a table, CSV, TSV, Markdown or
 * JSON lines at the end. Only the fields that the selection, the filter,
 * the sort and the columns use are read from each record (lib/jscan.h).
 *
 * Usage: report_init, the report_set_* / report_add_* calls, report_begin,
 * report_line for each record, report_write, report_release. The set and
 * add calls return 0, or -1 with a message in r->err naming the option.
 *
 * Rows come in the order of the sort keys, then in run order (run2 before
 * run10, run7.2 before run7.10); groups in the order of their values.
 * Parent runs (records with "children") are left out unless r->parents,
 * and a parent's name among the run names selects its children.
 */
#ifndef XT_REPORT_H
#define XT_REPORT_H

#include <stdio.h>

#include "hmap.h"
#include "jscan.h"

enum { OUT_TABLE, OUT_JSON, OUT_CSV, OUT_TSV, OUT_MD };
enum { AGG_NONE, AGG_COUNT, AGG_MEAN, AGG_MIN, AGG_MAX, AGG_STD, AGG_SUM, AGG_FIRST, AGG_BEST };

struct report_col {
	char *name;		/* as given: a field path, or "count", or "mean(metrics.acc)" */
	char *field;		/* the field path read (NULL for count) */
	char *header;
	char *fmt;		/* the format after ':', or NULL */
	size_t id;
	int agg;		/* group reports */
	int wild;		/* "prefix.*": expanded when the report is written */
};

struct report_key {
	size_t id;
	int desc;
};

struct report_row {
	char *line;		/* the record, owned */
	size_t len;
	struct jv *v;		/* values, pointing into line */
	size_t nv;
	long seq;
};

/* An accumulator of one field in one group. */
struct report_acc {
	long n;
	double mean, m2, min, max, sum;
	char *first;
};

struct report_group {
	char *key;		/* the group value's text; NULL: the field is missing */
	int keytype;		/* JV_* */
	double keynum;
	long count;
	long status[6];		/* jobs report: runs by status */
	struct report_acc *acc;	/* by field id */
	size_t nacc;
};

struct report {
	struct jfields f;
	char err[512];

	/* selection */
	struct expr **where;
	size_t nwhere;
	char **names;		/* run names, ranges (run5-run9), globs (run7.*) */
	size_t nnames;
	char **exps, **jobs, **statuses, **tags;
	size_t nexps, njobs, nstatuses, ntags;
	int parents;		/* --parents: keep parent runs (records with "children") */
	int no_parents;		/* skip records with "children" (set by report_begin unless parents) */
	size_t id_run, id_exp, id_job, id_status, id_children;
	size_t *id_tags;

	/* shaping */
	struct report_key *keys;
	size_t nkeys;
	long first, last;	/* 0: no bound */
	struct report_col *cols;
	size_t ncols;
	int group;		/* a group report: group_id names the field */
	size_t group_id;
	char *group_name;
	int jobs_report;	/* the jobs report (a group by job) */
	char *metric;		/* jobs report: the primary metric, or NULL */
	int goal_min;
	int available;		/* --available: list the fields the records have */
	unsigned char *seen;	/* by field id, for --available */
	size_t nseen;

	/* the fields named by --where, -c, --sort, --group, --metric, --legend (report_check) */
	struct report_use {
		const char *opt;
		size_t id;
		size_t alt[2];	/* a bare name in --where: metrics.NAME, hparams.NAME */
		int bare;
		int quiet;	/* report_add_name's: its caller tells of it */
	} *uses;
	size_t nuses;
	unsigned char *present;	/* by field id: in a record selected before --where */
	size_t npresent;
	long based;		/* records selected before --where */
	int where_done;		/* the records came filtered by --where (a database's query):
				 * its fields' absence proves nothing */
	struct jfields seen_names;	/* every field of those records, while one named is missing */
	struct jv *seen_v;
	size_t seen_cap;

	/* output */
	int out;
	int maxwidth, precision;

	/* state */
	struct jv *scratch;
	size_t scratchcap;
	long seq;
	long matched;
	struct report_row **rows;
	size_t nrows, caprows;
	struct hmap gmap;
	struct sbuf gkey;	/* group_of's key, made again for each record */
	struct report_group *groups;
	size_t ngroups, capgroups;
};

void report_init(struct report *r);
void report_release(struct report *r);

/* "name[=Header][:format]" items separated by commas; "prefix.*" takes every field under prefix. */
int report_add_columns(struct report *r, const char *spec);
/* "[-]COL" items separated by commas; '-' sorts that key in descending order. */
int report_add_sort(struct report *r, const char *spec);
int report_add_where(struct report *r, const char *expr);
/* Run names: a comma-separated list of names, ranges runA-runB and globs. */
int report_add_names(struct report *r, const char *spec);
/* what: "exp", "job", "status" or "tag"; spec a comma-separated list. */
int report_add_select(struct report *r, const char *what, const char *spec);
int report_set_group(struct report *r, const char *field);
/* The jobs report; metric (may be NULL) the primary metric, goal_min its direction. */
void report_set_jobs(struct report *r, const char *metric, int goal_min);

/* Bind every field; call after the set and add calls, before the first line. */
void report_begin(struct report *r);
/*
 * Take one record (line, len bytes, a JSON object). Returns 1 when it was
 * selected, 0 when not, -1 when it is not a JSON object (r->err gets
 * "column N: what").
 */
int report_line(struct report *r, const char *line, size_t len);
/*
 * Take n records (line[i], len[i] bytes), as n report_line calls in
 * order would, with their scans shared among a thread a CPU (up to 4).
 * Returns how many were selected, or -1 with *bad the first that is not
 * a JSON object (r->err as report_line says it; the records before it
 * are taken).
 */
long report_lines(struct report *r, const char *const *line, const size_t *len, size_t n,
    size_t *bad);
/*
 * 1 when the first N rows of a sort (--first) are kept and the record
 * last given to report_line comes after each of them on the first sort
 * key: no record after it, in that key's order, can be kept. With the
 * last N (--last): before each of them, and no record before it.
 */
int report_past(const struct report *r);
/*
 * After the last line: -1 with r->err naming both when a bare name in
 * --where (expr.h: val_acc, eval.loss) is metrics.NAME in some selected
 * run and hparams.NAME in another, and none has NAME of its own; else 0,
 * and a warning for each field that the report names (--where, -c,
 * --sort, --group) and that no record selected before --where has, and
 * for each --where comparison of status with a value that is no status,
 * with a guess ("did you mean 'metrics.acc'?"; a bare name is guessed
 * among the metrics' and hparams' names too, as --where reads it there,
 * with its whole path elsewhere), as lines in *warn (a vector of *nwarn
 * strings, caller frees with strv_free). Nothing when no record was
 * selected; nothing of --where's fields when r->where_done.
 */
int report_check(struct report *r, char ***warn, size_t *nwarn);

/*
 * Before report_begin: path (a field path, as expr_field gives it) is
 * read for option opt (a string that outlives r), which tells itself when
 * no record has it: report_check says nothing of it, but keeps the
 * records' names for report_guess while no selected record has it.
 */
void report_add_name(struct report *r, const char *opt, const char *path);
/*
 * After report_check: append "; did you mean 'X'?" to msg (len bytes) for
 * path, named with report_add_name, when one of the records' names is
 * close; X is a whole path.
 */
void report_guess(const struct report *r, const char *path, char *msg, size_t len);
/* Write the result to fp. 0, or -1 on a write error. */
int report_write(struct report *r, FILE *fp);

/* The kept rows, in output order (valid after report_finish). */
void report_finish(struct report *r);

/*
 * Format a value as the table shows it: numbers with the precision (whole
 * numbers without decimals), fmt (a column's format, may be NULL) first.
 * Appends to sb.
 */
void report_format(const struct report *r, const struct jv *v, const char *fmt, struct sbuf *sb);

#endif
