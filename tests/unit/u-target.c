/*
 * u-target.c: unit tests of the target seam (lib/target.c, the local
 * target), of the retry-or-fail of a lost run (life_lost) and of where a
 * Slurm executor of a run over several nodes is (target_slurm_place), in a
 * temporary directory with its own $XT_HOME, store and ./xt.yaml.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "json.h"
#include "life.h"
#include "queue.h"
#include "run.h"
#include "target.h"
#include "util.h"
#include "banned.h"

static char dir[] = "/tmp/u-target.XXXXXX";
static char err[1024];

static int
has(const char *s, const char *want)
{
	if (s && strstr(s, want))
		return 1;
	printf("# got '%s', want '%s' in it\n", s ? s : "(null)", want);
	return 0;
}

/* target_open of name: its code, the message in err. */
static int
open_rc(const char *name)
{
	struct target *t;
	int rc;

	err[0] = '\0';
	rc = target_open(name, &t, err, sizeof(err));
	target_close(t);
	return rc;
}

static void
test_open(void)
{
	struct target *t;

	CHECK(target_open("local", &t, err, sizeof(err)) == 0);
	CHECK(has(target_type(t), "local"));
	CHECK(target_max_runs(t) == 3);
	CHECK(has(target_where(t), "the local queue"));
	CHECK(cJSON_IsObject(target_config(t)));
	target_close(t);
	CHECK(open_rc("nosuch") == TARGET_EUSAGE);
	CHECK(has(err, "unknown target 'nosuch' (not under 'targets' in the configuration)"));
	CHECK(open_rc("a/b") == TARGET_EUSAGE);
	CHECK(has(err, "target name 'a/b'"));
	CHECK(open_rc("lab") == 0);
	CHECK(open_rc("nohosts") == TARGET_EUSAGE);
	CHECK(has(err, "./xt.yaml:4:19: target 'nohosts' of type ssh needs hosts"));
	CHECK(open_rc("badhost") == TARGET_EUSAGE);
	CHECK(has(err, "host 'x@': bad host name"));
	CHECK(open_rc("badenv") == TARGET_EUSAGE);
	CHECK(has(err, "env '1X': expected NAME: VALUE"));
	CHECK(open_rc("badacc") == TARGET_EUSAGE);
	CHECK(has(err, "accept-new-hosts 'maybe': expected yes or no"));
	CHECK(target_spools_here("local") && target_spools_here("big") && !target_spools_here("lab"));
	CHECK(target_spools_here("notconfigured"));
	CHECK(open_rc("hpc") == 0);
	CHECK(open_rc("hpcpoll") == TARGET_EUSAGE);
	CHECK(has(err, "poll-interval 'soon': expected seconds from 1 to 86400"));
	/* sbatch's options that xt sets, or that leave the cluster xt looks at */
	CHECK(open_rc("hpcm") == TARGET_EUSAGE);
	CHECK(has(err, "xt.yaml:12:36:") && has(err, "sbatch-args: '-M' would send the job to "
	    "another cluster"));
	CHECK(open_rc("hpcc") == TARGET_EUSAGE);
	CHECK(has(err, "'--clusters=other' would send the job to another cluster"));
	CHECK(open_rc("hpcarr") == TARGET_EUSAGE);
	CHECK(has(err, "sbatch-args: '--arr=1-3' is xt's to set"));
	CHECK(open_rc("hpcjob") == TARGET_EUSAGE);
	CHECK(has(err, "sbatch-args: '--job=x' is xt's to set"));
	CHECK(open_rc("hpcwrap") == TARGET_EUSAGE);
	CHECK(has(err, "sbatch-args: '--wrap=true' is xt's to set"));
	CHECK(open_rc("hpctest") == TARGET_EUSAGE);
	CHECK(has(err, "sbatch-args: '--test-only' is xt's to set"));
	CHECK(open_rc("hpcok") == 0);
	CHECK(open_rc("odd") == TARGET_EFAIL);
	CHECK(has(err, "target 'odd' is of type 'cloud': no such type"));
	CHECK(open_rc("big") == TARGET_EUSAGE);
	CHECK(has(err, "./xt.yaml:9:32: max-runs '0' is not a whole number >= 1"));
}

/* A run record of ws1 with status (and job job1), stored whole. */
static void
put_run(struct store *st, const char *run, const char *status)
{
	cJSON *r = cJSON_CreateObject();

	json_set_str(r, "ws", "ws1");
	json_set_str(r, "run", run);
	json_set_str(r, "job", "job1");
	json_set_str(r, "status", status);
	json_set_num(r, "attempt", strcmp(status, "queued") ? 1 : 0);
	if (!strcmp(status, "running"))
		json_set_str(r, "node", "box1");
	CHECK(run_save(st, r) == 0);
	cJSON_Delete(r);
}

static void
add_entry(struct queue *q, struct store *st, const char *run)
{
	cJSON *e = cJSON_CreateObject();

	json_set_str(e, "store", store_url(st));
	json_set_str(e, "ws", "ws1");
	json_set_str(e, "run", run);
	json_set_str(e, "job", "job1");
	CHECK(queue_add(q, e) == 0);
	cJSON_Delete(e);
}

static int
count_fn(const char *state, const cJSON *entry, long pid, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_local(struct store *st)
{
	struct target *t;
	struct target_status s[5] = { { .run = "run1" }, { .run = "run2" }, { .run = "run3" },
	    { .run = "run4" }, { .run = "run5" } };
	struct queue q;
	struct queue_entry e;
	cJSON *m = cJSON_CreateObject(), *rec;
	char *names[2] = { "run1", "job9" };
	int found[2], n = 0;

	put_run(st, "run1", "queued");
	put_run(st, "run2", "running");
	put_run(st, "run3", "completed");
	put_run(st, "run4", "running");
	queue_open(&q, NULL);
	add_entry(&q, st, "run1");
	add_entry(&q, st, "run2");
	json_set_str(m, "ws", "ws1");
	json_set_str(m, "run", "run2");
	CHECK(queue_claim(&q, 0, m, &e) == 1);
	queue_set_pid(&q, &e, 4242);
	cJSON_Delete(m);

	CHECK(target_open("local", &t, err, sizeof(err)) == 0);
	CHECK(target_poll(t, st, "ws1", s, 5) == 0);
	CHECK(s[0].state == TARGET_QUEUED);
	CHECK(s[1].state == TARGET_RUNNING && s[1].pid == 4242 && s[1].node[0]);
	CHECK(s[2].state == TARGET_ENDED && !strcmp(s[2].status, "completed"));
	/* gone without an end: lost, with the record's status; no record at all too */
	CHECK(s[3].state == TARGET_LOST && !strcmp(s[3].status, "running"));
	CHECK(s[4].state == TARGET_LOST && !s[4].status[0]);
	CHECK(target_list(t, NULL, NULL, count_fn, &n) == 0 && n == 2);

	/* cancel a waiting run; a name that matches nothing is not found */
	CHECK(target_cancel(t, st, "ws1", names, 2, -1, found) == 0);
	CHECK(found[0] == 1 && found[1] == 0);
	rec = run_load(st, "ws1", "run1", NULL);
	CHECK(rec && !strcmp(json_str(rec, "status"), "cancelled"));
	cJSON_Delete(rec);
	CHECK(queue_find(&q, "ws1", "run1") == QUEUE_NONE);
	queue_done(&q, &e);
	queue_entry_release(&e);
	queue_close(&q);
	target_close(t);
}

/* The log of run of ws1 into sb (made here), as a string. */
static void
run_log(struct store *st, const char *run, struct sbuf *sb)
{
	char *log = run_path("ws1", run, "log.jsonl");

	sbuf_init(sb, 1 << 20);
	CHECK(store_get(st, log, 0, -1, sb) == 0);
	CHECK(sbuf_addc(sb, '\0') == 0);
	free(log);
}

/* Job job of ws1, with retries, and its run, queued. */
static void
queued_run(struct store *st, const char *job, int retries, const char *run)
{
	char path[64], *text;
	cJSON *rec;

	snprintf(path, sizeof(path), "ws/ws1/jobs/%s/job.json", job);
	text = xasprintf("{\"job\":\"%s\",\"retries\":%d}\n", job, retries);
	CHECK(store_put(st, path, text, strlen(text)) == 0);
	free(text);
	rec = cJSON_CreateObject();
	json_set_str(rec, "ws", "ws1");
	json_set_str(rec, "run", run);
	json_set_str(rec, "job", job);
	json_set_str(rec, "status", "queued");
	json_set_num(rec, "attempt", 0);
	CHECK(run_save(st, rec) == 0);
	cJSON_Delete(rec);
}

/* A lost run is retried while its job's retries last, then failed, with the reason. */
static void
test_retry_or_fail(struct store *st)
{
	struct life l;
	cJSON *rec;
	struct sbuf sb;

	queued_run(st, "job2", 1, "run6");

	/* queued: nothing to record, it goes back to its queue */
	CHECK(life_lost(st, "ws1", "run6", "its node died") == 1);
	/* attempt 1 runs on box1, whose node dies: retried */
	CHECK(life_open(&l, st, "ws1", "run6") == 0);
	life_begin(&l, "box1");
	CHECK(life_start(&l, 0, LIFE_SAVE) == 0);
	life_release(&l);
	CHECK(life_lost(st, "ws1", "run6", "its node died") == 1);
	rec = run_load(st, "ws1", "run6", NULL);
	CHECK(rec && !strcmp(json_str(rec, "status"), "queued") && json_num(rec, "attempt", 0) == 1);
	cJSON_Delete(rec);
	/* attempt 2 dies too: no retries left, failed */
	CHECK(life_open(&l, st, "ws1", "run6") == 0);
	life_begin(&l, "box1");
	CHECK(life_start(&l, 0, LIFE_SAVE) == 0);
	life_release(&l);
	CHECK(life_lost(st, "ws1", "run6", "its node died") == 0);
	rec = run_load(st, "ws1", "run6", NULL);
	CHECK(rec && !strcmp(json_str(rec, "status"), "failed") && json_num(rec, "attempt", 0) == 2);
	CHECK(rec && has(json_str(rec, "error"), "lost: its node died"));
	cJSON_Delete(rec);
	/* the log says why, at the retry and at the end */
	run_log(st, "run6", &sb);
	CHECK(has(sb.buf, "\"event\":\"retry\",\"data\":{\"attempt\":1,\"exit_code\":null,"
	    "\"reason\":\"its node died\"}"));
	CHECK(has(sb.buf, "\"event\":\"ended\",\"data\":{\"status\":\"failed\",\"exit_code\":null,"
	    "\"attempt\":2,\"reason\":\"its node died\"}"));
	sbuf_release(&sb);
	/* once failed, lost again changes nothing */
	CHECK(life_lost(st, "ws1", "run6", "its node died") == 0);
}

/*
 * A queued run whose task ends before it starts: sent again while its
 * losses are under max, counted anew after a start, then failed without
 * a retry (the job's retries are for attempts), saying why.
 */
static void
test_unstarted(struct store *st)
{
	struct life l;
	cJSON *rec;
	struct sbuf sb;

	queued_run(st, "job3", 5, "run7");

	CHECK(life_unstarted(st, "ws1", "run7", "its task ended FAILED", 3) == 1);
	CHECK(life_unstarted(st, "ws1", "run7", "its task ended FAILED", 3) == 1);
	rec = run_load(st, "ws1", "run7", NULL);
	CHECK(rec && json_num(rec, "unstarted", 0) == 2 && !strcmp(json_str(rec, "status"),
	    "queued"));
	cJSON_Delete(rec);
	/* it starts, and its node dies: retried, its losses before a start counted anew */
	CHECK(life_open(&l, st, "ws1", "run7") == 0);
	life_begin(&l, "node1");
	CHECK(life_start(&l, 0, LIFE_SAVE) == 0);
	life_release(&l);
	rec = run_load(st, "ws1", "run7", NULL);
	CHECK(rec && !cJSON_GetObjectItemCaseSensitive(rec, "unstarted"));
	cJSON_Delete(rec);
	CHECK(life_unstarted(st, "ws1", "run7", "its task ended FAILED", 3) == 0);
	CHECK(life_lost(st, "ws1", "run7", "its node died") == 1);
	CHECK(life_unstarted(st, "ws1", "run7", "its task ended FAILED", 3) == 1);
	CHECK(life_unstarted(st, "ws1", "run7", "its task ended FAILED", 3) == 1);
	CHECK(life_unstarted(st, "ws1", "run7", "its task ended FAILED", 3) == 0);
	rec = run_load(st, "ws1", "run7", NULL);
	CHECK(rec && !strcmp(json_str(rec, "status"), "failed") &&
	    json_num(rec, "attempt", 0) == 1 && json_num(rec, "unstarted", 0) == 3);
	CHECK(rec && !strcmp(json_str(rec, "error"),
	    "lost: its task ended FAILED, 3 times before the run started"));
	cJSON_Delete(rec);
	run_log(st, "run7", &sb);
	CHECK(has(sb.buf, "\"event\":\"ended\",\"data\":{\"status\":\"failed\","
	    "\"exit_code\":null,\"attempt\":1,\"reason\":\"its task ended FAILED, "
	    "3 times before the run started\"}"));
	sbuf_release(&sb);
	/* ended: nothing more */
	CHECK(life_unstarted(st, "ws1", "run7", "its task ended FAILED", 3) == 0);
}

/* target_slurm_place: where an executor of a run over several nodes is, from its environment. */
static void
test_place(void)
{
	int k = -1, n = -1, port = -1;
	const char *addr = NULL;

	unsetenv("XT_MASTER_ADDR");
	CHECK(target_slurm_place(&k, &n, &addr, &port, err, sizeof(err)) == 0 && k == -1 &&
	    !addr);
	setenv("XT_MASTER_ADDR", "node07", 1);
	setenv("XT_MASTER_PORT", "21234", 1);
	setenv("SLURM_NNODES", "4", 1);
	setenv("SLURM_NODEID", "3", 1);
	CHECK(target_slurm_place(&k, &n, &addr, &port, err, sizeof(err)) == 1 && k == 3 &&
	    n == 4 && port == 21234 && addr && !strcmp(addr, "node07"));
	setenv("SLURM_NODEID", "4", 1);
	CHECK(target_slurm_place(&k, &n, &addr, &port, err, sizeof(err)) == -1 &&
	    has(err, "SLURM_NODEID is '4', not a number from 0 to 3"));
	setenv("SLURM_NODEID", "0", 1);
	unsetenv("XT_MASTER_PORT");
	CHECK(target_slurm_place(&k, &n, &addr, &port, err, sizeof(err)) == -1 &&
	    has(err, "XT_MASTER_PORT is unset"));
	setenv("XT_MASTER_PORT", "65536", 1);
	CHECK(target_slurm_place(&k, &n, &addr, &port, err, sizeof(err)) == -1 &&
	    has(err, "XT_MASTER_PORT is '65536'"));
	setenv("XT_MASTER_ADDR", "", 1);
	CHECK(target_slurm_place(&k, &n, &addr, &port, err, sizeof(err)) == -1 &&
	    has(err, "XT_MASTER_ADDR is empty"));
	unsetenv("XT_MASTER_ADDR");
	unsetenv("XT_MASTER_PORT");
	unsetenv("SLURM_NNODES");
	unsetenv("SLURM_NODEID");
}

/*
 * target_slurm_stopped: why Slurm stopped a run, from scontrol (a stand-in
 * on PATH that shows the task in state, with its restarts, run time and
 * time limit; state NULL: scontrol fails). True when it returns rc with
 * status and why (either NULL: not checked).
 */
static int
stopped_is(struct store *st, const char *state, int restarts, const char *runtime,
    const char *limit, int rc, const char *status, const char *why)
{
	int fd = open("bin/scontrol", O_WRONLY | O_CREAT | O_TRUNC, 0700), got;
	const char *s = "";
	char *sh, w[256] = "";

	if (!state)
		sh = xasprintf("#!/bin/sh\necho 'slurm_load_jobs error' >&2\nexit 1\n");
	else
		sh = xasprintf("#!/bin/sh\necho 'JobId=41 ArrayJobId=40 ArrayTaskId=2 JobName=job2 "
		    "JobState=%s Reason=None Restarts=%d RunTime=%s TimeLimit=%s'\n", state, restarts,
		    runtime, limit);
	if (fd < 0 || write_all(fd, sh, strlen(sh)) < 0)
		die("cannot write bin/scontrol:");
	close(fd);
	free(sh);
	got = target_slurm_stopped(st, "ws1", "run6", &s, w, sizeof(w));
	return got == rc && (!status || !strcmp(s, status)) && (!why || !strcmp(w, why));
}

static void
test_stopped(struct store *st)
{
	const char *old = getenv("PATH");
	char *path = xasprintf("%s/bin:%s", dir, old ? old : "/usr/bin:/bin"), *keep = xstrdup(old ? old : "");

	mkdir("bin", 0700);
	setenv("PATH", path, 1);
	setenv("SLURM_JOB_ID", "41", 1);
	setenv("SLURM_ARRAY_JOB_ID", "40", 1);
	setenv("SLURM_ARRAY_TASK_ID", "2", 1);
	setenv("SLURM_RESTART_COUNT", "0", 1);
	CHECK(stopped_is(st, "CANCELLED", 0, "00:00:03", "00:10:00", 0, "cancelled",
	    "its Slurm job 40_2 was cancelled (scancel)"));
	/* a scancel's signals reach the ranks while the job shows COMPLETING */
	CHECK(stopped_is(st, "COMPLETING", 0, "00:00:03", "00:10:00", 0, "cancelled", NULL));
	/* still running: not Slurm's stop yet */
	CHECK(stopped_is(st, "RUNNING", 0, "00:00:03", "00:10:00", 1, "cancelled", NULL));
	CHECK(stopped_is(st, "COMPLETING", 0, "00:01:00", "00:01:00", 0, "failed",
	    "Slurm stopped its job 40_2: TIMEOUT (its time limit)"));
	CHECK(stopped_is(st, "RUNNING", 1, "00:00:03", "00:10:00", 0, "requeued", NULL));
	CHECK(stopped_is(st, "NODE_FAIL", 0, "00:00:03", "00:10:00", 0, "failed",
	    "Slurm stopped its job 40_2: NODE_FAIL"));
	CHECK(stopped_is(st, NULL, 0, "", "", -1, NULL, NULL));
	unsetenv("SLURM_JOB_ID");
	CHECK(stopped_is(st, "CANCELLED", 0, "00:00:03", "00:10:00", -1, NULL, NULL));
	unsetenv("SLURM_ARRAY_JOB_ID");
	unsetenv("SLURM_ARRAY_TASK_ID");
	unsetenv("SLURM_RESTART_COUNT");
	setenv("PATH", keep, 1);
	free(keep);
	free(path);
}

int
main(void)
{
	struct store *st;
	char *s;
	int fd;
	static const char yaml[] =
	    "targets:\n"
	    "  local: {type: local, max-runs: 3}\n"
	    "  lab: {type: ssh, hosts: [gpu1]}\n"
	    "  nohosts: {type: ssh}\n"
	    "  badhost: {type: ssh, hosts: [gpu1, 'x@'], ssh-config: none}\n"
	    "  badenv: {type: ssh, hosts: [gpu1], env: {1X: a}}\n"
	    "  badacc: {type: ssh, hosts: [gpu1], accept-new-hosts: maybe}\n"
	    "  hpc: {type: slurm}\n"
	    "  big: {type: local, max-runs: 0}\n"
	    "  odd: {type: cloud}\n"
	    "  hpcpoll: {type: slurm, poll-interval: soon}\n"
	    "  hpcm: {type: slurm, sbatch-args: \"--mail-type=FAIL -M other\"}\n"
	    "  hpcc: {type: slurm, sbatch-args: [--clusters=other]}\n"
	    "  hpcarr: {type: slurm, sbatch-args: [--arr=1-3]}\n"
	    "  hpcjob: {type: slurm, sbatch-args: [--job=x]}\n"
	    "  hpcwrap: {type: slurm, sbatch-args: [--wrap=true]}\n"
	    "  hpctest: {type: slurm, sbatch-args: [--test-only]}\n"
	    "  hpcok: {type: slurm, sbatch-args: [--mail-type=FAIL, -A, p1, --cluster-constraint=x, "
	    "--comments-are-not-an-option]}\n";

	if (!mkdtemp(dir) || chdir(dir) < 0)
		die("cannot make a temporary directory:");
	mkdir("home", 0700);
	s = xasprintf("%s/home", dir);
	setenv("HOME", s, 1);
	setenv("XT_HOME", s, 1);
	free(s);
	s = xasprintf("%s/user.yaml", dir);
	setenv("XT_CONFIG", s, 1);
	free(s);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XT_TARGET");
	unsetenv("XT_TARGETS_LOCAL_MAX_RUNS");
	if ((fd = open("xt.yaml", O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write_all(fd, yaml, strlen(yaml)) < 0)
		die("cannot write xt.yaml:");
	close(fd);
	if (config_load(err, sizeof(err)) < 0)
		die("%s", err);
	s = xasprintf("%s/store", dir);
	if (!(st = store_open(s, err, sizeof(err))))
		die("%s", err);
	free(s);

	test_open();
	test_local(st);
	test_retry_or_fail(st);
	test_unstarted(st);
	test_place();
	test_stopped(st);

	store_close(st);
	config_release();
	s = xasprintf("rm -rf '%s'", dir);
	if (system(s) != 0)
		printf("# cannot remove %s\n", dir);
	free(s);
	return check_done();
}
