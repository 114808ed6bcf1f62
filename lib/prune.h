/*
 * prune.h: early stopping: which runs to stop, from their metric series.
 *
 * Input: JSON lines, each with "run" (its name). A line with "event":
 * "metrics" adds the value of the metric in its "data" (lines without
 * that metric are skipped); a line with "event" "ended", "pruned" or
 * "cancelled", or a run record with a final "status", marks the run
 * ended: it is still compared with, but never stopped. Other lines are
 * ignored. A run's lines come in the order they were logged.
 *
 * A run's k-th value of the metric is its evaluation k; for asha, the run
 * reaches it at the moment of its line: the line's "time" (ISO 8601 UTC,
 * to the millisecond), or, when it has none (or an earlier one), the
 * moment of the run's value before it (the start of time for its first).
 *
 * median, bandit and truncation judge a run at the last check point it has
 * reached: evaluation D = max(delay, 1), then every interval evaluations
 * after (D, D + interval, ...), against every run's value at that
 * evaluation. asha judges a run at each rung it has reached (evaluations
 * ceil(min_resource * reduction^i)), in order, against the runs that had
 * reached that rung at the moment it did (the same moment included) and
 * had failed no rung before, and stops it at the first rung it fails: a
 * later arrival never changes a run's judgement at a rung, and the values
 * a run logs after the rung it failed count nowhere. The policies:
 *
 *   median      stop when the run's best value so far is worse than the
 *               median of the running averages of the runs at that
 *               evaluation (needs min_runs runs there)
 *   bandit      stop when the value is worse than the best value there by
 *               more than the slack: best/(1+slack_factor) when the factor
 *               is set, else best - slack_amount (for max; mirrored for min)
 *   truncation  stop when the run is among the worst truncation% of the
 *               runs there (rounded down; needs min_runs runs)
 *   asha        at a rung reached by n runs (this one and those before
 *               it, n >= 2), go on when among the best
 *               max(1, floor(n/reduction)), else stop
 *
 * Ties never stop a run.
 */
#ifndef XT_PRUNE_H
#define XT_PRUNE_H

#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "hmap.h"

enum prune_policy { PRUNE_MEDIAN, PRUNE_BANDIT, PRUNE_TRUNCATION, PRUNE_ASHA };

struct prune_opts {
	enum prune_policy policy;
	const char *metric;	/* not owned */
	int maximize;
	long delay, interval;	/* delay-evaluation (default 10), evaluation-interval (1) */
	double slack_factor, slack_amount;	/* bandit (0, 0) */
	double truncation;	/* truncation-percentage (5) */
	long min_resource;	/* asha: first rung, in evaluations (1) */
	double reduction;	/* asha: reduction factor (3) */
	long min_runs;		/* median, truncation: runs needed to judge (3) */
};

struct prune_run {
	char *name;
	double *v;		/* the values, in order */
	long *step;		/* their steps, -1 when not given */
	int64_t *t;		/* their moments, ms (see above; asha only, else 0) */
	long judged;		/* asha: the last rung passed, by prune_check_run */
	int n, cap, ended;
};

struct prune {
	struct prune_opts o;
	struct prune_run *run;
	int nrun, cap;
	struct hmap byname;	/* run name -> its index in run */
};

/* Set o to XT's defaults for policy and metric. */
void prune_opts_default(struct prune_opts *o, enum prune_policy policy, const char *metric);
/* Parse a policy's name; -1 when unknown. */
int prune_policy_parse(const char *name);

void prune_init(struct prune *p, const struct prune_opts *o);
void prune_release(struct prune *p);
/* Take one line (see above): 0, or -1 with err when it has no "run". */
int prune_add(struct prune *p, const cJSON *line, char *err, size_t errlen);
/*
 * The index in p->run of the run named name, added with no values when
 * new. Runs added first keep their places: prune_decide lists runs in the
 * order they were added, whether by this or by prune_add.
 */
int prune_run_add(struct prune *p, const char *name);
/*
 * Forget the values of run i, that it ended and the rungs it passed (its
 * log was replaced); it keeps its place.
 */
void prune_run_reset(struct prune *p, int i);
/* Take every line of fp: 0, or -1 with err "NAME:LINE: what". */
int prune_read(struct prune *p, FILE *fp, const char *name, char *err, size_t errlen);
/*
 * The runs to stop, in the order they first appeared: an array of
 * {"run", "policy", "eval", "step" (when known), "value", "reason"}.
 * Caller frees.
 */
cJSON *prune_decide(const struct prune *p);
/*
 * The element of prune_decide's array for the run named name, or NULL
 * when it goes on (or is unknown). Judges that run only. Caller frees.
 */
cJSON *prune_decide_run(const struct prune *p, const char *name);
/*
 * prune_decide_run for a judge that checks a run again and again while
 * its series grows (an executor): for asha, a rung the run passed in an
 * earlier call is not judged again, even if lines that arrive later (a
 * log written late) would change that judgement. The same as
 * prune_decide_run when no line arrives out of its moment's order.
 */
cJSON *prune_check_run(struct prune *p, const char *name);

#endif
