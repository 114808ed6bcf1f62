/*
 * expr.h: the filter language of xt-report --where.
 *
 *   expr   := or
 *   or     := and { "or" and }
 *   and    := not { "and" not }
 *   not    := "not" not | "(" expr ")" | FIELD [ OP VALUE ]
 *   OP     := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "~" | "!~"
 *   VALUE  := NUMBER | "string" | 'string' | true | false | null | WORD
 *
 * FIELD is a dotted path into the record (status, hparams.lr,
 * metrics.test-acc, metrics.train/loss). Its first segment is a member of
 * the record; below one of the record's maps of names (metrics, hparams,
 * given_hparams, tags) the rest is one key, dots and all:
 * metrics.accuracy.2.0 is the metric "accuracy.2.0". A segment after a dot
 * may be quoted, "...", '...' or `...` (MLflow's), to hold any other
 * character (metrics."val loss", metrics.`val loss`), a '.' only in a
 * map's key (metrics."accuracy.2.0"). A bare name, one without a dot or
 * whose first segment is none of those maps (val_acc, eval.loss,
 * accuracy.2.0), is the record's own field when it has one (a dotted one
 * steps into its objects), else metrics.NAME, else hparams.NAME, NAME
 * whole, dots and all, as XT's --filter reads it (val_acc > 0.9); a report
 * says when both of the last are in its records (report_check). A FIELD
 * alone is true when the record has it. Keywords are case-insensitive;
 * "&&", "||" and "!" are accepted for and, or, not. Numbers compare as
 * numbers, strings as strings (bytes); a value of another type is never
 * equal, and never less or greater. A missing field makes every comparison
 * false. "~" matches a POSIX extended regular expression against the
 * field's text (anywhere in it; anchor with ^ and $). A bare WORD as VALUE
 * is a string.
 *
 * A regular expression is refused when it is longer than 256 bytes, has
 * more than 1000 parts once its repetitions are expanded ({m,n} counts its
 * atom n times, *, + and ? twice), or has a back-reference (\1 to \9,
 * exponential in a backtracking matcher); a value is matched on its first
 * 4096 bytes (cut before a UTF-8 character), as the libc's matcher takes
 * time in the square of the text on some patterns.
 */
#ifndef XT_EXPR_H
#define XT_EXPR_H

#include <stddef.h>

#include "jscan.h"

struct expr;

/*
 * Parse src. Returns the tree (free with expr_free), or NULL with err set
 * to "column N: what", N counting bytes of src from 1.
 */
struct expr *expr_parse(const char *src, char *err, size_t errlen);
void expr_free(struct expr *e);

/*
 * Parse src, the whole of it, as a FIELD (-c, --sort, --group take the
 * names --where does). Returns its dotted path, quotes taken off (caller
 * frees), or NULL with err set to "column N: what".
 */
char *expr_field(const char *src, char *err, size_t errlen);

/*
 * Is the record's member name (len bytes) one of its maps of names,
 * metrics, hparams, given_hparams or tags, whose keys FIELD takes whole?
 */
int expr_is_map(const char *name, size_t len);
/*
 * Is field (a dotted path as expr_field gives it) a bare name, one
 * without a dot or whose first segment is none of the maps, that --where
 * reads as the record's own field, else metrics.FIELD, else hparams.FIELD?
 */
int expr_is_bare(const char *field);
/* Tell f each of the record's maps (jfields_add_map), before it scans. */
void expr_maps(struct jfields *f);

/* Register each field the expression reads with f, so that jscan reads them. */
void expr_bind(struct expr *e, struct jfields *f);

/* The parts of a parsed expression, for a translator into another query language (lib/mongoq.c). */
enum { EXPR_OR, EXPR_AND, EXPR_NOT, EXPR_HAS, EXPR_CMP };
enum { EXPR_EQ, EXPR_NE, EXPR_LT, EXPR_LE, EXPR_GT, EXPR_GE, EXPR_RE, EXPR_NRE };
enum { EXPR_NUM, EXPR_STR, EXPR_BOOL, EXPR_NULL };
struct expr_view {
	int kind;			/* EXPR_OR .. EXPR_CMP */
	const struct expr *a, *b;	/* or, and: both; not: a */
	const char *field;		/* has, cmp: the dotted path */
	int op, lit;			/* cmp: EXPR_EQ .., EXPR_NUM .. */
	double num;			/* a number; a bool as 1 or 0 */
	const char *str;		/* a string, or the regular expression */
	size_t slen;
};
void expr_view(const struct expr *e, struct expr_view *v);

/* Evaluate against a record's values, v[id] as jscan set them (n entries). 1 or 0. */
int expr_eval(const struct expr *e, const struct jv *v, size_t n);

#endif
