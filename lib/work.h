/*
 * work.h: the run folders of this machine, $XT_HOME/work/WS/RUN, and
 * their clean-up.
 *
 * A run's folder holds its code (a copy of its job's snapshot), its
 * output/ and its log.jsonl while it runs. At the run's final end (not
 * before a retry) it is removed once its outputs are captured, when the
 * run completed or was pruned and every output was captured; otherwise
 * (failed, cancelled, an output not captured) it is kept for the
 * configured time, marked by an empty file WORK_ENDED in it whose mtime is
 * the end. Kept folders older than that are removed at xt-runq start, at
 * a run end that keeps its folder, and at other run ends at most every
 * WORK_SWEEP_EVERY seconds (work_sweep).
 *
 * Configuration (lib/config.h): "work-keep-failed", a duration ("0", "90s",
 * "30m", "24h", "7d"; default 24h), and "cache-max-size", the bound of the
 * blob cache ("0" for no cache, "512M", "10G"; K, M, G, T are powers of
 * 1024; default 10G).
 */
#ifndef XT_WORK_H
#define XT_WORK_H

#include <stddef.h>
#include <stdint.h>

/* The end mark of a kept folder, in the folder. */
#define WORK_ENDED ".xt-ended"
/*
 * WSDIR/WORK_SPARE0 .. WORK_SPARE7 (at most WORK_SPARES): the folders of
 * runs that completed, emptied but for an empty output/, which the next
 * runs' folders are made from (a rename, cheaper than making folders on
 * a file system such as ext4). Enough of them for the runs whose end is
 * being recorded while the next ones start: with four, one run in ten of
 * a drain of short runs, 2 at once, found none and made its folder anew,
 * and as many removed theirs. Nothing in them is kept: code/ is made
 * afresh for each run, and so is log.jsonl unless no process has it open
 * (then it is emptied instead; a file made and one freed cost ext4
 * without a journal more than that), so that a process a run left behind,
 * holding them, cannot reach a later run's. The run that leaves a spare
 * makes them, empty, once its own are removed: so the next run finds them
 * made, and starts sooner.
 */
#define WORK_SPARE ".xt-spare."
#define WORK_SPARES 8
/* In $XT_HOME/work: its mtime is the last sweep at a run's end. */
#define WORK_SWEPT ".xt-swept"
#define WORK_SWEEP_EVERY 60

/*
 * On a spare whose code/ was made ready for a later run: the tag of whose
 * code it is (struct work_prep), the extended attribute WORK_CODE_XATTR of
 * the spare's folder; where the file system has no user extended
 * attributes, the file WORK_CODE in it, one line. An attribute costs the
 * file system no file to make and remove for every run.
 */
#define WORK_CODE_XATTR "user.xt.code"
#define WORK_CODE ".xt-code"

/*
 * How work_end readies a spare for a later run: fill restores the code of
 * the job tag names into codedir, an empty folder new to every run (0, or
 * -1 when it could not: the spare then has an empty code/). A later run
 * whose work_make names the same tag finds its code there.
 */
struct work_prep {
	const char *tag;
	int (*fill)(void *arg, const char *codedir);
	void *arg;
};

struct work_config {
	int64_t keep_failed_ms;	/* work-keep-failed */
	int64_t cache_max;	/* cache-max-size, bytes; 0: no cache */
};

/*
 * Read the two keys. 0, or -1 with err set to "ORIGIN: KEY: what is
 * wrong" (ORIGIN as config_origin gives it, e.g. "./xt.yaml:3:19").
 */
int work_config(struct work_config *wc, char *err, size_t errlen);
/* "24h" (units s, m, h, d; "0" alone) into ms. 0, or -1. */
int work_parse_duration(const char *s, int64_t *ms);
/* "10G" (bytes, or units K, M, G, T) into bytes. 0, or -1. */
int work_parse_size(const char *s, int64_t *bytes);

/*
 * A run is about to use its folder dir again (a retry, a requeue): take
 * back a kept folder, so that no sweep removes it from now on. Waits for
 * a sweep that is removing it at this moment (the folder is then gone).
 */
void work_begin(const char *dir);
/*
 * Make the folder dir of a run starting for the first time (it does not
 * exist), with an empty output/ in it: from a spare (one readied with the
 * code of tag first, when tag is not NULL), else new. 2 when it came from
 * a spare with tag's code in code/ (and a new, empty log.jsonl), 1 from
 * another spare (with an empty code/ and log.jsonl, neither ever a run's),
 * 0 when new, or -1 with errno.
 */
int work_make(const char *dir, const char *tag);
/*
 * The run of folder dir has ended for good with status: remove the folder
 * (or keep it as a spare, readied by prep when not NULL), or keep it (see
 * above; keep forces it), then work_sweep when it kept the folder or when
 * the last such sweep is WORK_SWEEP_EVERY ago. dir NULL: only the sweep.
 */
void work_end(const char *dir, const char *status, int keep, const struct work_prep *prep);
/*
 * The run run of workspace ws, whose executor on this machine died, has
 * been failed: keep its folder (if any) as a failed run's, then
 * work_sweep.
 */
void work_end_lost(const char *ws, const char *run);
/* Remove the kept folders under $XT_HOME/work whose time is up. */
void work_sweep(void);
/*
 * An executor starts: check the two keys (die with status 2 naming where
 * one is bad), then work_sweep.
 */
void work_start(void);
/*
 * Remove the tree at path, also where the run made folders read-only. A
 * link is removed, never followed. 0, or -1 with errno (ENOENT is fine).
 */
int work_rm(const char *path);

#endif
