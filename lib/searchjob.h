/*
 * searchjob.h: dynamic search jobs and early stopping in xt-submit and
 * xt-runq, as XT's controller did.
 *
 * A job submitted with --search ALGO --space FILE holds "search": {"algo",
 * "space" (the YAML text), "space_file", "metric" (not needed by grid and
 * random), "goal", "seed"} and runs
 * with no hparams. When an executor starts such a run it asks the search
 * (search.h) for one configuration, with the job's other runs as the
 * history, and claims it as slot k: the store object
 * ws/<ws>/jobs/<job>/search/<k>.json, made by create-if-absent. Slots are
 * dense: an asker reads slots 0.. until one is missing, proposes knowing
 * all of them (those not ended are pending), and creates that one; when
 * another asker got there first it reads again. So any number of xt-runq
 * processes, on any machines sharing the store, never take the same point
 * from the same history. A run started again (retry, crash) keeps its slot.
 *
 * A job submitted with --prune POLICY holds "prune": {"policy", "metric",
 * "goal", and XT's parameters}. While a run of it runs, its executor reads
 * what the logs of the job's runs gained (at most once a second) and asks
 * prune.h whether this run should stop; if so it logs a "pruned" event and the
 * executor stops the run (SIGTERM) with the status pruned.
 */
#ifndef XT_SEARCHJOB_H
#define XT_SEARCHJOB_H

#include <cjson/cJSON.h>

#include "prune.h"
#include "store.h"

/*
 * xt-submit's options: --search, --space, --prune, and --search-opt
 * NAME=VALUE (metric, goal, seed, startup, delay-evaluation,
 * evaluation-interval, slack-factor, slack-amount, truncation-percentage,
 * min-resource, reduction-factor, min-runs). Dies (2) on a bad one.
 */
void searchjob_option(const char *name, const char *value);
/* The most runs a job can have (xt-submit --runs) */
#define SEARCHJOB_RUNS_MAX 100000L
/*
 * When search or prune options were given, check them all and add
 * "search" and "prune" to the job record. has_hp: --hp was given too,
 * which --search excludes. nruns: the --runs given, or -1. A metric is
 * needed for --prune and for searches that learn from results (not grid
 * or random). Returns the number of runs to make: nruns (1 when not
 * given), or for --search grid without --runs one per point of the grid.
 * Dies (2) naming the option on any error, and when nruns is more than
 * the grid's points, or than the configurations of a finite space that
 * random, tpe or gp search (they never repeat one; dgd does).
 */
long searchjob_submit(cJSON *job, int has_hp, long nruns);
/* The hparams the job's search sweeps, an array of names (caller frees), or NULL when none. */
cJSON *searchjob_names(const cJSON *job);
/*
 * True when job (NULL: none) searches a space that samples hparam name on
 * a log scale ($loguniform, $qloguniform, $lognormal, $qlognormal), so a
 * plot against it wants a log axis.
 */
int searchjob_log_scale(const cJSON *job, const char *name);

/*
 * Give rec (a run of job) hparams from the job's search when it was given
 * none (run_given_hparams): they become its "given_hparams", are merged
 * into its "hparams", and its "cmd" gets them too. 0 when done or nothing
 * to do; -1 with a message printed when no configuration could be had.
 */
int searchjob_assign(struct store *st, const char *ws, const cJSON *job, cJSON *rec);
/*
 * True when job's search learns from its runs' results (tpe, gp, dgd), so
 * that the point a run gets depends on which runs before it have ended:
 * an executor then frees its place in xt-runq -j only once its run's end
 * is recorded, and xt-runq -j 1 proposes each point knowing every result
 * before it, as a sequential search does (the same seed, the same points).
 */
int searchjob_learns(const cJSON *job);
/*
 * What an executor keeps between its prune checks: the job's runs' series
 * so far, and for each run's log the bytes taken (whole lines only, so a
 * line still being written waits for the next check). A check reads only
 * what the logs gained since; a log that is shorter than what was taken,
 * or whose last taken bytes differ, was replaced, and its run is read
 * again from the start. The series are those a read of the whole logs
 * would give.
 */
struct searchjob_log {
	char *run, *path;
	int idx;		/* the run's index in the prune's runs */
	int64_t off;		/* bytes taken */
	char tail[256];		/* the last ntail bytes taken */
	size_t ntail;
};

struct searchjob_pruner {
	struct prune p;
	char *metric;
	struct searchjob_log *log;
	int nlog;
	int state;		/* 0: not set up yet; 1: set up; -1: the job has no usable policy */
	double last;		/* time_mono() of the last check */
	struct sbuf sb;
};

void searchjob_pruner_init(struct searchjob_pruner *w);
void searchjob_pruner_release(struct searchjob_pruner *w);
/*
 * Take what the logs of job's runs gained since the last call (the first
 * call reads them whole and sets w up for job, which must stay the same
 * job). Then w->p holds every run of the job, in the job's order, with its
 * series. 0, or -1 when the job has no usable prune policy.
 */
int searchjob_pruner_read(struct searchjob_pruner *w, struct store *st, const char *ws,
    const cJSON *job);
/*
 * Should run, of job, stop now under the job's prune policy? Checks at
 * most once a second, with w (searchjob_pruner_init it before the first
 * call). 1: stop it (its "pruned" event is logged); 0: go on.
 */
int searchjob_prune(struct store *st, const char *ws, const cJSON *job, const char *run,
    struct searchjob_pruner *w);
/* True when the next searchjob_prune with w checks (reads the job's logs from the store). */
int searchjob_prune_due(const struct searchjob_pruner *w);

#endif
