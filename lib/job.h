/*
 * job.h: making a job and its runs in the store (job_create), so that a
 * submitter killed at any point leaves either nothing of the job or the
 * whole job with every run of it queued; and the recovery of the submits
 * whose submitter died (job_recover_all).
 *
 * A submit keeps a journal, $XT_HOME/submit/<node>.<ms>.<pid>.jsonl, that
 * it holds locked (flock) for as long as it lives: a journal whose lock is
 * free is one whose submitter died, which needs no pid check and holds on
 * a shared $XT_HOME too. Its first line says where the job goes and who
 * makes it ({"store","ws","submitter":{"node","pid","id"}}); then, made
 * durable before the store is touched, one line before each name tried
 * ({"job":N}, {"run":N}), and lines on the progress after the commit
 * ({"indexed":K}, {"logged":K}: the first K records of the job, the parent
 * first, are in the index, have their events).
 *
 * The writes, in order:
 *   1. ws/<ws>/jobs/jobN/job.json: a placeholder {"status":"allocating",
 *      "submitter":...} (create-if-absent: this allocates the name)
 *   2. jobs/jobN/code.jsonl, the code snapshot (blobs first)
 *   3. runs/runM/run.json: a placeholder, allocating the run name
 *   4. the run records: the parent runM (for several runs), the runs, and
 *      their queue entries under hidden names; one flush of the disk
 *   5. jobs/jobN/job.json whole, with "runs" and "submitter": the commit
 *   6. the records' index lines, the runs' "created" and "queued" events,
 *      the queue entries made visible
 *   7. the journal removed
 * Before the commit nothing of the job is in the index or the queue;
 * after it, everything is in the store and only steps 6 and 7 remain.
 * Recovery, of a journal whose submitter died: before the commit it
 * removes what was stored (job.json last, so that a recovery cut short can
 * be done again; blobs stay, as they may be shared); after it, it
 * finishes the submit: each record not indexed is indexed, each run
 * without events gets them, each run still queued and never started that
 * is in no queue entry gets one. A run record that is missing is recorded
 * as failed, with the reason.
 */
#ifndef XT_JOB_H
#define XT_JOB_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "store.h"
#include "target.h"
#include "tree.h"

/*
 * Make a job and its runs in st and queue the runs in the local queue
 * ($XT_HOME/spool). job is the job's record, with "ws" and "argv"; runs
 * an array of run records (each "queued", with "ws", "cmd", "hparams",
 * ...), one per run. The code is the files of tree, or, when manifest is
 * not NULL, a copy of that code manifest (a store path). On success job
 * gets "job", "runs", "submitter" and for several runs "parent_run"; each
 * run gets "run", "job" and "parent". 0, or -1 with a message in err:
 * when nothing of the job could be left in the store, it was removed;
 * else the message says that the job was stored and the next recovery
 * queues its runs. lines, when not NULL, gets the runs' records as JSON
 * lines (as the index got them), made before the runs go to the target:
 * a submitter prints them without more work once a scheduler has them,
 * when their tasks may already be taking the machine's CPUs.
 */
int job_create(struct store *st, cJSON *job, cJSON *runs, const struct tree *tree,
    const char *manifest, struct target *t, struct sbuf *lines, char *err, size_t errlen);

/*
 * Settle every submit of $XT_HOME/submit whose submitter died (see
 * above). Journals still held by their submitter are left alone, as are
 * those another caller is settling. The journal of a folder store that
 * no longer exists is dropped. The hidden queue entries of submitters (and
 * recoveries) that died before they made them visible are removed
 * (queue_drop_hidden). Says on stderr what it did for each job,
 * and warns about each journal it could not settle (left for the next
 * call; one that failed is tried again a minute later, so that a caller
 * may call this often). Returns how many journals it settled.
 */
int job_recover_all(void);

/*
 * Check a job's command for the local target before anything is stored.
 * Its program (argv[0]) must be found: a name on $PATH, an absolute path
 * to an executable file, or a relative path to an executable file of the
 * code snapshot code, taken from the folder codedir (a path with a '/',
 * as "./run.sh"). For a known
 * interpreter (python, python3, pythonX.Y, pypy3, bash, sh, dash, zsh,
 * ksh, Rscript, julia, node, perl), its script: the first argument after
 * the interpreter's options, when there is one (not after -c, -m, -e and
 * the like) and it looks like a file path (it has a '/' or ends in an
 * extension), must be in the snapshot (a file, or a folder as python
 * runs) or, absolute, exist. 0, or -1 with a message in err that ends
 * with "; did you mean 'NAME'?" when a close name exists (by edit
 * distance: files of the snapshot, and for a program names on $PATH).
 */
int job_check_command(const cJSON *argv, const struct tree *code, const char *codedir, char *err,
    size_t errlen);

/*
 * Check that no swept hparam is also given on the command: with a
 * non-empty prefix P, each hparam NAME of names (an array of strings) is
 * passed as PNAME=VALUE, so an argument PNAME or PNAME=... of argv would
 * give it twice. 0, or -1 with a message in err naming the hparam and
 * the argument.
 */
int job_check_hparams(const cJSON *argv, const char *prefix, const cJSON *names, char *err,
    size_t errlen);

#endif
