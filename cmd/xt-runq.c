/*
 * xt-runq: the run queue and run executor of one machine. Drain the local
 * queue with at most N runs at once; run one run now; list the queue;
 * stop runs; put ended runs back. Runs whose executor died are found and
 * requeued or failed. What it does goes to stderr, a line a run.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "gpu.h"
#include "job.h"
#include "json.h"
#include "life.h"
#include "mongoidx.h"
#include "name.h"
#include "queue.h"
#include "run.h"
#include "runexec.h"
#include "target.h"
#include "tool.h"
#include "work.h"
#include "banned.h"

static struct runexec_opts ropts;
static char node[256];
static int quiet;

/* An executor's exit status says how its run went (the drain counts them). */
enum {
	EX_NONE = 0,		/* nothing recorded (the run had ended already) */
	EX_ERROR = 1,		/* the executor failed */
	EX_COMPLETED = 10, EX_FAILED, EX_CANCELLED, EX_PRUNED, EX_RETRY, EX_NOTSTARTED, EX_MAX
};
static const char *const ex_name[EX_MAX] = {
	[EX_ERROR] = "executor errors", [EX_COMPLETED] = "completed", [EX_FAILED] = "failed",
	[EX_CANCELLED] = "cancelled", [EX_PRUNED] = "pruned", [EX_RETRY] = "retried",
	[EX_NOTSTARTED] = "not started",
};
static int last_ex = EX_NONE;	/* an executor's: how its run went */
/* the GPUs of this machine (gpus_loaded: the target's pool was read) */
static struct gpu_pool gpus;
static int gpus_loaded;
static volatile sig_atomic_t stop_sig;

static const char usage_text[] =
    "usage: xt-runq [-j N] [-f]            drain the local queue (-f: keep waiting)\n"
    "       xt-runq exec RUN               run one run now, in the foreground\n"
    "       xt-runq exec --job J --task N  the same for the Nth run of job J (from 1)\n"
    "       xt-runq ls [--kick]            the queue as JSON lines\n"
    "       xt-runq kill RUN|JOB...        stop runs and mark them cancelled\n"
    "       xt-runq requeue RUN|JOB...     put cancelled or failed runs back in the queue\n"
    "       xt-runq add [--kick]           queue the entries of stdin (JSON lines)\n"
    "       xt-runq id                     the id of the store, as this machine sees it\n"
    "options: -s STORE  -w WORKSPACE  -t TARGET  -g SECONDS (kill grace)  -q (quiet)\n"
    "         --single (drain unless another --single does)  --kick (start one if needed)\n";

/* The target's max-runs from the configuration (default 1). */
static int
max_runs(const char *target)
{
	char err[1024];
	int v;

	if (target_config_max_runs(target, &v, err, sizeof(err)) < 0)
		die_status(EXIT_USAGE, "%s", err);
	return v;
}

/* Read the GPU pool of target; die (2) when it is misconfigured. */
static void
load_gpus(const char *target)
{
	char err[1024];

	if (gpu_pool_load(&gpus, target, err, sizeof(err)) < 0)
		die_status(EXIT_USAGE, "%s", err);
	gpus_loaded = 1;
}

/*
 * The GPUs of a run that asks for k and holds held (NULL: none): with a
 * pool, a run that holds none sees none (CUDA_VISIBLE_DEVICES=""), so
 * that it cannot use another's; one that asks for more than the pool
 * has fails. Without a pool, and in a scheduler's task, nothing is set.
 */
static void
set_gpus(double k, const char *held)
{
	ropts.gpus = gpus_loaded && gpus.n ? held ? held : "" : NULL;
	ropts.gpus_short = gpus_loaded && k > 0 && !held;
}

/* A claimed entry after its executor's result: back in the queue, or gone. */
static void
settle_entry(struct queue *q, struct queue_entry *e, enum runexec_result r)
{
	if (r == RUNEXEC_RETRY || r == RUNEXEC_NOTSTARTED)
		queue_requeue(q, e);
	else
		queue_done(q, e);
}

static struct store *
store_of(const cJSON *entry, struct store *def)
{
	const char *url = json_str(entry, "store");
	char err[1024];
	struct store *st;

	if (!url || !strcmp(url, store_url(def)))
		return def;
	if (!(st = store_open(url, err, sizeof(err))))
		warnx("%s", err);
	return st;
}

/* What an executor tells xt-runq, on the socket pair of the drain. */
enum { MSG_ENDED, MSG_DONE };
struct msg {
	pid_t pid;
	int what;	/* MSG_ENDED: the run's command has ended; MSG_DONE: the run is settled */
	int ex;		/* MSG_DONE: how it went (EX_*) */
};

struct ending {
	struct queue *q;
	struct queue_entry *e;
	int wake;		/* tells xt-runq that a slot is free, or -1 */
};

/* The command has ended: its entry stops counting toward -j, and xt-runq may start the next. */
static void
on_ended(void *arg)
{
	struct ending *d = arg;
	struct msg m = { getpid(), MSG_ENDED, 0 };

	if (queue_ending(d->q, d->e) == 0 && d->wake >= 0)
		send(d->wake, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* The job's primary metric (its search's or prune's), else the record's first, or NULL. */
static const cJSON *
primary_metric(const cJSON *rec, const cJSON *job, const char **name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "metrics");
	const char *want = json_str(cJSON_GetObjectItemCaseSensitive(job, "search"), "metric");

	if (!want)
		want = json_str(cJSON_GetObjectItemCaseSensitive(job, "prune"), "metric");
	if (want) {
		*name = want;
		return cJSON_GetObjectItemCaseSensitive(m, want);
	}
	if (cJSON_IsObject(m) && m->child) {
		*name = m->child->string;
		return m->child;
	}
	return NULL;
}

/* One line to stderr per start, end and retry of a run (unless -q). */
static void
on_progress(void *arg, const char *what, const cJSON *rec, const cJSON *job, double secs)
{
	const char *run = json_str(rec, "run"), *status = json_str(rec, "status"), *mname = NULL;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(rec, "exit_code"), *mv;
	int attempt = (int)json_num(rec, "attempt", 1);
	char extra[64] = "", metric[160] = "";

	(void)arg;
	/* an end that could not be recorded (said already): the executor's error */
	if (!strcmp(what, "unrecorded")) {
		last_ex = EX_ERROR;
		return;
	}
	if (!strcmp(what, "retry"))
		last_ex = EX_RETRY;
	else if (!strcmp(what, "ended") && status)
		last_ex = !strcmp(status, "completed") ? EX_COMPLETED : !strcmp(status, "failed") ?
		    EX_FAILED : !strcmp(status, "pruned") ? EX_PRUNED : EX_CANCELLED;
	if (quiet)
		return;
	if (!strcmp(what, "started")) {
		if (attempt > 1)
			snprintf(extra, sizeof(extra), " (attempt %d)", attempt);
		fprintf(stderr, "xt-runq: %s started%s\n", run, extra);
		return;
	}
	if (cJSON_IsNumber(code) && code->valuedouble != 0)
		snprintf(extra, sizeof(extra), " (exit %d)", (int)code->valuedouble);
	if ((mv = primary_metric(rec, job, &mname))) {
		char *v = cJSON_IsString(mv) ? NULL : cJSON_PrintUnformatted(mv);

		snprintf(metric, sizeof(metric), ", %s=%s", mname, v ? v : mv->valuestring);
		free(v);
	}
	if (!strcmp(what, "retry"))
		fprintf(stderr, "xt-runq: %s failed%s after %.1fs%s: queued again for attempt %d\n",
		    run, extra, secs, metric, attempt + 1);
	else
		fprintf(stderr, "xt-runq: %s %s%s after %.1fs%s\n", run, status ? status : "ended",
		    extra, secs, metric);
}

/* Run the claimed entry, then settle it: how its run went (EX_*). */
static int
execute(struct queue *q, struct queue_entry *e, struct store *def, int wake)
{
	struct store *st = store_of(e->data, def);
	const char *ws = json_str(e->data, "ws"), *run = json_str(e->data, "run");
	struct ending d = { q, e, wake };
	int code;
	enum runexec_result r;
	char *held;

	queue_set_pid(q, e, (long)getpid());
	if (!st || !ws || !run) {
		if (st && st != def)
			store_close(st);
		return EX_ERROR;
	}
	last_ex = EX_NONE;
	/* a copy: queue_ending lets the GPUs go */
	held = e->gpus ? xstrdup(e->gpus) : NULL;
	set_gpus(json_num(e->data, "gpus", 0), held);
	ropts.ended = on_ended;
	ropts.arg = &d;
	ropts.token = queue_token(e->name);
	r = runexec(st, ws, run, &ropts, &code);
	free(held);
	/* on RUNEXEC_ERROR the entry stays: an xt-runq sees an orphan and settles it */
	if (r != RUNEXEC_ERROR)
		settle_entry(q, e, r);
	if (st != def)
		store_close(st);
	fflush(stderr);
	return r == RUNEXEC_ERROR ? EX_ERROR : r == RUNEXEC_NOTSTARTED ? EX_NOTSTARTED : last_ex;
}

/*
 * An executor: a child of xt-runq that runs the entry it was made for,
 * then each entry xt-runq hands it on chan, one at a time, saying on wake
 * when each command has ended and when each run is settled. One process
 * for many runs: a fork a run would cost more than the run's own command.
 * It exits when xt-runq closes chan or is gone, or after an error (its
 * entry, unlocked, is then an orphan for xt-runq to settle).
 */
static void NORETURN
executor(struct queue *q, struct queue_entry *e, struct store *def, int wake, int chan)
{
	struct msg m = { getpid(), MSG_DONE, 0 };
	ssize_t n;
	int rc;

	for (;;) {
		m.ex = execute(q, e, def, wake);
		queue_entry_release(e);
		if (m.ex == EX_ERROR)
			_exit(EX_ERROR);
		/* waits while xt-runq, stopped, takes none: the message must not be lost */
		while ((n = send(wake, &m, sizeof(m), MSG_NOSIGNAL)) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)sizeof(m))
			_exit(m.ex);
		while ((rc = queue_entry_recv(chan, e)) < 0 && errno == EINTR)
			;
		if (rc <= 0)
			_exit(EX_NONE);
	}
}

static void
recover(struct queue *q, struct store *def)
{
	struct queue_entry e;

	job_recover_all();	/* the runs of a submit cut short are queued first */
	while (queue_orphan(q, &e) == 1) {
		struct store *st = store_of(e.data, def);
		const char *ws = json_str(e.data, "ws"), *run = json_str(e.data, "run");
		int r = st && ws && run ? runexec_recover(st, ws, run, node) : 0;

		if (r == 1)
			queue_requeue(q, &e);
		else if (r == 0)
			queue_done(q, &e);
		else
			warnx("cannot settle run '%s': %s", run ? run : "?", st ? store_error(st) : "");
		if (st && st != def)
			store_close(st);
		queue_entry_release(&e);
	}
}

/* The executors of this xt-runq, and what each does. */
enum { K_IDLE, K_RUNNING, K_ENDING };	/* waits; its run's command runs; it records the end */
struct kid {
	pid_t pid;
	int chan;	/* our end of its channel (the entries we hand it), or -1 */
	int state;
};
struct kids {
	struct kid *k;
	int n, cap;
	int nrunning;	/* K_RUNNING: they count toward -j */
	int nbusy;	/* K_RUNNING and K_ENDING: they hold an entry */
};

static struct kid *
kid_of(struct kids *k, pid_t pid)
{
	int i;

	for (i = 0; i < k->n; i++)
		if (k->k[i].pid == pid)
			return &k->k[i];
	return NULL;
}

static void
kid_state(struct kids *k, struct kid *c, int state)
{
	k->nrunning += (state == K_RUNNING) - (c->state == K_RUNNING);
	k->nbusy += (state != K_IDLE) - (c->state != K_IDLE);
	c->state = state;
}

/* Take what the executors said: commands that ended (a slot is free), runs settled (counted). */
static void
take_messages(struct kids *k, int fd, int *n)
{
	struct msg m;
	struct kid *c;

	while (recv(fd, &m, sizeof(m), 0) == (ssize_t)sizeof(m)) {
		if (!(c = kid_of(k, m.pid)))
			continue;
		if (m.what == MSG_ENDED && c->state == K_RUNNING) {
			kid_state(k, c, K_ENDING);
		} else if (m.what == MSG_DONE && c->state != K_IDLE) {
			kid_state(k, c, K_IDLE);
			n[m.ex > 0 && m.ex < EX_MAX && ex_name[m.ex] ? m.ex : EX_ERROR]++;
		}
	}
}

/* Executor pid exited with status wst: a run it held is counted by how it exited. */
static void
kid_exited(struct kids *k, pid_t pid, int wst, int *n)
{
	struct kid *c = kid_of(k, pid);
	int ex;

	if (!c)
		return;
	if (c->state != K_IDLE) {
		ex = WIFEXITED(wst) ? WEXITSTATUS(wst) : EX_ERROR;
		n[ex > 0 && ex < EX_MAX && ex_name[ex] ? ex : EX_ERROR]++;
	}
	kid_state(k, c, K_IDLE);
	if (c->chan >= 0)
		close(c->chan);
	*c = k->k[--k->n];
}

/* Close the channels of the executors (of the idle ones only unless all): they exit. */
static void
close_channels(struct kids *k, int all)
{
	int i;

	for (i = 0; i < k->n; i++)
		if (k->k[i].chan >= 0 && (all || k->k[i].state == K_IDLE)) {
			close(k->k[i].chan);
			k->k[i].chan = -1;
		}
}

/* A SIGCHLD only interrupts the wait for it */
static void
on_chld(int sig)
{
	(void)sig;
}

/* SIGINT, SIGTERM: stop claiming, cancel the runs in flight, say so and exit. */
static void
on_stop(int sig)
{
	if (!stop_sig)
		stop_sig = sig;
}

/* The summary: "5 runs: 3 completed, 1 failed, 1 pruned, 2 retried". */
static void
summary(const int *n, const char *prefix)
{
	int i, sep = ':', runs = n[EX_COMPLETED] + n[EX_FAILED] + n[EX_CANCELLED] + n[EX_PRUNED];

	if (quiet)
		return;
	fprintf(stderr, "%s%d run%s", prefix, runs, runs == 1 ? "" : "s");
	for (i = EX_COMPLETED; i <= EX_MAX; i++) {
		int j = i < EX_MAX ? i : EX_ERROR;	/* the errors last */

		if (n[j] && ex_name[j]) {
			fprintf(stderr, "%c %d %s", sep, n[j], ex_name[j]);
			sep = ',';
		}
	}
	fputc('\n', stderr);
}

/*
 * SIGCHLD, SIGINT and SIGTERM are taken only while waiting (waitmask);
 * an executor takes its own.
 */
static void
catch_signals(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, waitmask);
	sigdelset(waitmask, SIGCHLD);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);
}

/* Hand the claimed entry to an executor that waits: 0, or -1 when none could take it. */
static int
hand_over(struct kids *k, struct queue_entry *e)
{
	int i;

	for (i = 0; i < k->n; i++) {
		struct kid *c = &k->k[i];

		if (c->state != K_IDLE || c->chan < 0)
			continue;
		if (queue_entry_send(c->chan, e) == 0) {
			kid_state(k, c, K_RUNNING);
			return 0;
		}
		/* it is gone, or going: reaped when it exits */
		close(c->chan);
		c->chan = -1;
	}
	return -1;
}

/* Make an executor for the claimed entry: 0, or -1. */
static int
fork_executor(struct kids *k, struct queue *q, struct queue_entry *e, struct store *st,
    const int *sv)
{
	sigset_t chld;
	int ch[2], i;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ch) < 0) {
		warnx("cannot make a socket pair:");
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		/* only xt-runq may hold the other executors' channels, so that
		 * they see its end */
		for (i = 0; i < k->n; i++)
			if (k->k[i].chan >= 0)
				close(k->k[i].chan);
		close(ch[0]);
		close(sv[0]);
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		signal(SIGCHLD, SIG_DFL);
		executor(q, e, st, sv[1], ch[1]);
	}
	close(ch[1]);
	if (pid < 0) {
		warnx("cannot fork:");
		close(ch[0]);
		return -1;
	}
	if (k->n == k->cap) {
		k->cap = k->cap * 2 + 16;
		k->k = xrealloc(k->k, (size_t)k->cap * sizeof(*k->k));
	}
	k->k[k->n].pid = pid;
	k->k[k->n].chan = ch[0];
	k->k[k->n].state = K_IDLE;
	kid_state(k, &k->k[k->n++], K_RUNNING);
	return 0;
}

/* Claim runs and hand them to executors while slots are free: how many were claimed. */
static int
start_executors(struct queue *q, struct kids *k, int jobs, struct store *st, const int *sv)
{
	struct queue_entry e;
	int claimed = 0;

	/* queue_claim counts every command running on this spool and so
	 * keeps -j; ours are known here, so a claim that must fail is not
	 * even tried */
	while (k->nrunning < jobs && queue_claim(q, jobs, NULL, &e) == 1) {
		/* an entry no executor took goes back to the queue when released */
		if (hand_over(k, &e) < 0 && fork_executor(k, q, &e, st, sv) < 0)
			queue_requeue(q, &e);
		queue_entry_release(&e);
		claimed++;
	}
	return claimed;
}

/*
 * A SIGINT or SIGTERM that came while xt-runq was busy outside its wait
 * (blocked, so pending): taken now, before a run that ended by the same
 * Ctrl-C frees a slot that another run would be claimed for.
 */
static void
take_pending_stop(void)
{
	struct timespec now = { 0, 0 };
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if ((sig = sigtimedwait(&set, NULL, &now)) > 0)
		on_stop(sig);
}

/* Take a stop that is pending; how many runs were in flight when the first came (0: none came). */
static int
stop_seen(const struct kids *k, int inflight)
{
	if (!stop_sig)
		take_pending_stop();
	return stop_sig && !inflight ? k->nbusy : inflight;
}

/* Pass the signal xt-runq got on to the executors of runs (inflight when it came): they cancel them. */
static void
stop_executors(const struct kids *k, int inflight)
{
	int i;

	/* a Ctrl-C reached them too; a SIGTERM to xt-runq alone did not */
	for (i = 0; i < k->n; i++)
		if (k->k[i].state != K_IDLE)
			sigqueue(k->k[i].pid, SIGTERM, runexec_sigval(RUNEXEC_SIG_STOP - stop_sig, 0));
	if (!quiet && inflight)
		fprintf(stderr, "xt-runq: %s: cancelling %d run%s\n", stop_sig == SIGINT ? "SIGINT" :
		    "SIGTERM", inflight, inflight == 1 ? "" : "s");
}

/* Say how the runs went; the exit status. */
static int
report(struct queue *q, const int *n, int stopped)
{
	char pre[128];
	int waiting;

	if (stopped) {
		waiting = queue_nwaiting(q);
		snprintf(pre, sizeof(pre), "xt-runq: %s: ", stop_sig == SIGINT ? "SIGINT" : "SIGTERM");
		summary(n, pre);
		if (!quiet)
			fprintf(stderr, "xt-runq: %d run%s left queued\n", waiting,
			    waiting == 1 ? "" : "s");
		return 128 + stop_sig;
	}
	if (n[EX_COMPLETED] + n[EX_FAILED] + n[EX_CANCELLED] + n[EX_PRUNED] + n[EX_ERROR])
		summary(n, "xt-runq: ");
	return n[EX_FAILED] || n[EX_ERROR] ? 1 : 0;
}

/*
 * With a MongoDB index configured, a sender of the outbox beside the
 * drain: a process of its own (not a thread: executors are forked from
 * the drain, and not a child: the drain reaps every child as an
 * executor) that flushes every second and once more when the drain's
 * end closes the pipe. Returns the pipe's end to close, or -1.
 */
static int
sender_start(void)
{
	int p[2], st;
	pid_t pid;

	if (!mongoidx_url() || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		char c;

		int fd;

		if (fork() != 0)
			_exit(0);
		/* nothing of the drain's kept open (its queue's and store's files) */
		for (fd = 3; fd < 4096; fd++)
			if (fd != p[0])
				close(fd);
		signal(SIGINT, SIG_IGN);
		mongoidx_sender_start(1000);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		mongoidx_sender_stop();
		_exit(0);
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return p[1];
}

static int
drain(struct store *st, int jobs, int follow)
{
	struct queue q;
	struct kids k = { NULL, 0, 0, 0, 0 };
	int sv[2], n[EX_MAX] = { 0 }, stopping = 0, inflight = 0, wst, ret, sender;
	sigset_t waitmask;
	pid_t pid;

	sender = sender_start();
	queue_open(&q, NULL);
	queue_use_gpus(&q, &gpus);
	tzset();	/* once, not in every executor */
	/* executors say on sv[1] when a command has ended and when a run is settled */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		die("cannot make a socket pair:");
	catch_signals(&waitmask);
	recover(&q, st);
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		struct pollfd pfd = { sv[0], POLLIN, 0 };
		int claimed = 0;

		/* the runs in flight when a stop came are those it cancels: counted
		 * before the messages of runs it ended are taken */
		inflight = stop_seen(&k, inflight);
		/* take the messages, then reap: a slot freed by a command that
		 * ended is filled at once */
		take_messages(&k, sv[0], n);
		while (k.n > 0 && (pid = waitpid(-1, &wst, WNOHANG)) > 0) {
			/* its messages, if any, were sent before it exited: take them
			 * now, before its pid can be another executor's */
			take_messages(&k, sv[0], n);
			kid_exited(&k, pid, wst, n);
		}
		/* and one that came meanwhile, before anything is claimed */
		inflight = stop_seen(&k, inflight);
		if (stop_sig && !stopping) {
			stop_executors(&k, inflight);
			close_channels(&k, 1);
			stopping = 1;
		}
		if (stopping && k.n == 0)
			break;
		if (!stopping)
			claimed = start_executors(&q, &k, jobs, st, sv);
		if (!stopping && !claimed && k.nbusy == 0 && !follow && queue_nwaiting(&q) == 0) {
			/* an executor of ours that died leaves an orphan: settle it first */
			recover(&q, st);
			if (queue_nwaiting(&q) == 0)
				break;
			continue;
		}
		/* wake when a command of ours ends or an executor exits (every ended
		 * child is reaped above, so merged SIGCHLDs lose nothing), or poll for
		 * new runs, runs of other xt-runq that end, and orphans */
		ppoll(&pfd, 1, &ts, &waitmask);
		if (!stopping && (follow || k.nbusy == 0))
			recover(&q, st);
	}
	/* the executors that wait see their channel close, and exit */
	close_channels(&k, 1);
	while (k.n > 0 && (pid = waitpid(-1, &wst, 0)) != 0) {
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		take_messages(&k, sv[0], n);
		kid_exited(&k, pid, wst, n);
	}
	ret = report(&q, n, stopping);
	free(k.k);
	close(sv[0]);
	close(sv[1]);
	if (sender >= 0)
		close(sender);	/* its last flush is its own */
	queue_close(&q);
	return ret;
}

/* The lock that one --single drain of this $XT_HOME holds: its fd, or -1 when another holds it. */
static int
single_lock(void)
{
	char *home = xt_home(), *dir = path_join(home, "spool"), *p = path_join(dir, "drain.lock");
	int fd;

	mkdir_p(dir);
	if ((fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		die("cannot open '%s':", p);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		fd = -1;
	}
	free(p);
	free(dir);
	free(home);
	return fd;
}

/*
 * Drain as the one --single drain of this spool, or return at once when
 * another is. Before it ends it lets the lock go and looks at the queue
 * again: an entry added meanwhile by one who found the lock held is then
 * seen, and drained by this one or by the one who has the lock now.
 */
static int
drain_single(struct store *st, int jobs)
{
	int fd = single_lock(), ret = 0, rc, n;
	struct queue q;

	while (fd >= 0) {
		rc = drain(st, jobs, 0);
		ret = rc > ret ? rc : ret;
		close(fd);
		if (stop_sig)
			break;
		queue_open(&q, NULL);
		n = queue_nwaiting(&q);
		queue_close(&q);
		fd = n > 0 ? single_lock() : -1;
	}
	return ret;
}

static int
count_running(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	(void)data;
	(void)pid;
	(void)name;
	*(int *)arg += !strcmp(state, "running");
	return 0;
}

/*
 * Start a --single drain of jobs slots, detached (its own session, its
 * output appended to $XT_HOME/runq.log), when the queue has work (entries
 * waiting, or running ones whose executor died) and no --single drain
 * holds the lock. The ssh target does this on a box after each add and
 * each look.
 */
static void
kick(int jobs)
{
	char self[4096], nj[32], *home, *log;
	const char *url = config_str("store", NULL);
	struct queue q;
	int fd, entries = 0, need;
	ssize_t n;
	pid_t pid;

	queue_open(&q, NULL);
	queue_each(&q, count_running, &entries);
	need = queue_nwaiting(&q) > 0 || entries > queue_nrunning(&q);
	queue_close(&q);
	if (!need || (fd = single_lock()) < 0)
		return;
	close(fd);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		die("cannot find this program (/proc/self/exe):");
	self[n] = '\0';
	snprintf(nj, sizeof(nj), "%d", jobs);
	home = xt_home();
	log = path_join(home, "runq.log");
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		setsid();
		if (fork() == 0) {
			int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
			int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

			if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
				_exit(127);
			for (fd = 3; fd < 1024; fd++)
				close(fd);
			if (url)
				execl(self, "xt-runq", "--single", "-j", nj, "-s", url, (char *)NULL);
			else
				execl(self, "xt-runq", "--single", "-j", nj, (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	if (pid < 0)
		die("cannot fork:");
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(log);
	free(home);
}

/*
 * Queue the entries of stdin (JSON lines {"store","ws","run","job"}, as
 * the ssh target sends them): each whose run is queued in its record and
 * that the spool does not hold yet, so that sending them twice queues
 * each once. Prints {"added":N,"held":N,"passed":N}.
 */
static int
do_add(struct store *def)
{
	struct queue q;
	struct sbuf line;
	int added = 0, held = 0, passed = 0, lineno = 0, ret = 0, c;
	cJSON *out;

	sbuf_init(&line, (size_t)1 << 20);
	queue_open(&q, NULL);
	queue_batch_begin(&q);
	do {
		cJSON *e, *rec;
		struct store *st;
		const char *ws, *run;
		int rc;

		sbuf_reset(&line);
		while ((c = getchar()) != EOF && c != '\n')
			if (sbuf_addc(&line, (char)c) < 0)
				die("stdin:%d: line longer than 1 MiB", lineno + 1);
		if (!line.len)
			continue;
		lineno++;
		if (!(e = cJSON_ParseWithLength(line.buf, line.len)) || !(ws = json_str(e, "ws")) ||
		    !(run = json_str(e, "run")))
			die_status(EXIT_USAGE, "stdin:%d: expected {\"store\",\"ws\",\"run\",\"job\"}",
			    lineno);
		if (queue_find(&q, ws, run) != QUEUE_NONE) {
			held++;
		} else if (!(st = store_of(e, def))) {
			ret = 1;
		} else {
			rec = run_load(st, ws, run, &rc);
			if (!rec && rc != STORE_ENOENT) {
				warnx("%s", store_error(st));
				ret = 1;
			} else if (!rec || !json_str(rec, "status") ||
			    strcmp(json_str(rec, "status"), "queued") || run_moved(rec)) {
				passed++;
			} else {
				/* as its record says, whatever the line says */
				cJSON_DeleteItemFromObjectCaseSensitive(e, "gpus");
				if (json_num(rec, "gpus", 0) > 0)
					json_set_num(e, "gpus", json_num(rec, "gpus", 0));
				if (queue_add(&q, e) < 0)
					die("run %s: cannot queue it:", run);
				added++;
			}
			cJSON_Delete(rec);
			if (st != def)
				store_close(st);
		}
		cJSON_Delete(e);
	} while (c != EOF);
	if (queue_commit(&q, 0) < 0)
		die("cannot queue the runs:");
	queue_close(&q);
	sbuf_release(&line);
	out = cJSON_CreateObject();
	json_set_num(out, "added", added);
	json_set_num(out, "held", held);
	json_set_num(out, "passed", passed);
	json_print_line(stdout, out);
	cJSON_Delete(out);
	return ret;
}

/* Print the id of the store (-s) as this machine sees it; a folder that is not here is refused. */
static void
do_id(void)
{
	const char *url = config_str("store", NULL);
	struct store *st;
	char id[33];

	if (url && store_gone(url))
		die("store '%s' is not on this machine", url);
	st = tool_store();
	if (store_id(st, id) < 0)
		die("%s", store_error(st));
	printf("%s\n", id);
	store_close(st);
}

static int
do_exec(struct store *st, const char *ws, const char *run)
{
	struct queue q;
	struct queue_entry e;
	cJSON *m = cJSON_CreateObject(), *rec;
	int code, have, rc;
	double k;
	enum runexec_result r;

	if (!(rec = run_load(st, ws, run, &rc)))
		die("%s", store_error(st));
	if (run_status_final(json_str(rec, "status")))
		die("run '%s' has ended already (%s)", run, json_str(rec, "status"));
	k = json_num(rec, "gpus", 0);
	cJSON_Delete(rec);
	json_set_str(m, "ws", ws);
	json_set_str(m, "run", run);
	queue_open(&q, NULL);
	if (gpus_loaded)
		queue_use_gpus(&q, &gpus);
	/* a queued run is taken out of the queue so that nobody else starts it */
	have = queue_claim(&q, 0, m, &e) == 1;
	cJSON_Delete(m);
	if (have) {
		queue_set_pid(&q, &e, (long)getpid());
		ropts.token = queue_token(e.name);
	} else {
		rc = queue_find(&q, ws, run);
		if (rc == QUEUE_RUNNING)
			die("run '%s' is running already (see xt-runq ls)", run);
		if (rc == QUEUE_WAITING && gpus_loaded && k > 0)
			die("run '%s' waits for %g GPUs: not enough are free", run, k);
	}
	set_gpus(k, have ? e.gpus : NULL);
	r = runexec(st, ws, run, &ropts, &code);
	if (have) {
		settle_entry(&q, &e, r);
		queue_entry_release(&e);
	}
	queue_close(&q);
	if (r == RUNEXEC_ERROR)
		return 1;
	if (r == RUNEXEC_NOTSTARTED)
		return 128 + SIGINT;
	return code < 0 ? 1 : code;
}

/*
 * The name of the nth run (from 1) of job in ws, from its job record, as
 * a scheduler's array task gives it. Caller frees; dies when there is no
 * such job or task.
 */
static char *
task_run(struct store *st, const char *ws, const char *job, long n)
{
	cJSON *rec = run_job_load(st, ws, job);
	const cJSON *runs = cJSON_GetObjectItemCaseSensitive(rec, "runs");
	const cJSON *r = cJSON_GetArrayItem(runs, (int)n - 1);
	char *name;

	if (!rec)
		die("no job '%s' in workspace '%s'", job, ws);
	if (!cJSON_IsString(r))
		die("job '%s' has %d run%s: no task %ld", job, cJSON_GetArraySize(runs),
		    cJSON_GetArraySize(runs) == 1 ? "" : "s", n);
	name = xstrdup(r->valuestring);
	cJSON_Delete(rec);
	return name;
}

static int
print_entry(const char *state, const cJSON *data, long pid, void *arg)
{
	cJSON *o = cJSON_Duplicate(data, 1);

	json_set_str(o, "state", state);
	if (pid > 0)
		json_set_num(o, "pid", (double)pid);
	json_print_line(stdout, o);
	cJSON_Delete(o);
	return 0;
}

static int
do_ls(struct target *t, struct store *st, const char *ws)
{
	if (target_list(t, st, ws, print_entry, NULL) < 0) {
		warnx("%s", target_error(t));
		return 1;
	}
	return 0;
}

/* Stop the runs that names (runs, parent runs, jobs) match, through the target. */
static int
do_kill(struct target *t, struct store *st, const char *ws, char **names, int n, double grace)
{
	int *found = xcalloc((size_t)n, sizeof(int)), i, ret = 0;

	if (target_cancel(t, st, ws, names, (size_t)n, grace < 0 ? -1 : (int)(grace * 1000),
	    found) < 0) {
		warnx("%s", target_error(t));
		free(found);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (!found[i]) {
			warnx("'%s': no such run or job in %s", names[i], target_where(t));
			ret = 1;
		}
	free(found);
	return ret;
}

/*
 * The requeued runs of a target that does not spool here (ssh, slurm),
 * one group a target and job: handed to the target together at the end.
 */
struct handoff {
	struct handoff_group {
		char *target, *job;
		cJSON *runs;
	} *g;
	size_t n;
};

static void
handoff_add(struct handoff *h, const char *target, const char *job, cJSON *rec)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (!strcmp(h->g[i].target, target) && !strcmp(h->g[i].job, job))
			break;
	if (i == h->n) {
		h->g = xrealloc(h->g, (h->n + 1) * sizeof(*h->g));
		h->g[i].target = xstrdup(target);
		h->g[i].job = xstrdup(job);
		h->g[i].runs = cJSON_CreateArray();
		h->n++;
	}
	cJSON_AddItemToArray(h->g[i].runs, rec);
}

/*
 * Hand each group to its target (a Slurm target sends them as new tasks,
 * an ssh target places them on its boxes). 0, or 1 when one could not be:
 * its runs stay queued, for the target's next poll or a requeue again.
 */
static int
handoff_send(struct handoff *h, struct store *st, const char *ws)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < h->n; i++) {
		struct handoff_group *g = &h->g[i];
		struct target *t = NULL;
		cJSON *job = run_job_load(st, ws, g->job);
		char err[1024];

		if (!job) {
			warnx("runs of job %s are queued, not sent: no job '%s' in workspace '%s'",
			    g->job, g->job, ws);
			ret = 1;
		} else if (target_open(g->target, &t, err, sizeof(err)) < 0) {
			warnx("runs of job %s are queued, not sent: %s", g->job, err);
			ret = 1;
		} else if (target_submit(t, st, job, g->runs) < 0) {
			warnx("runs of job %s are queued, not sent: %s", g->job, target_error(t));
			ret = 1;
		}
		target_close(t);
		cJSON_Delete(job);
		cJSON_Delete(g->runs);
		free(g->target);
		free(g->job);
	}
	free(h->g);
	return ret;
}

/*
 * Requeue one run: its record, then its queue entry, or for a run of a
 * target that does not spool here, a place among the runs handed to that
 * target. named: the user named it (else it is one of a job's or a
 * parent's runs, and one that cannot be requeued is passed over). 0, or 1
 * when it could not be.
 */
static int
requeue_one(struct queue *q, struct store *st, const char *ws, const char *run, int named,
    struct handoff *h)
{
	cJSON *rec, *e;
	const char *tn, *jn;
	int rc = life_requeue(st, ws, run), was_queued = rc == 1;

	if (rc == STORE_EINVAL && !named)
		return 0;
	if (rc < 0) {
		warnx("%s", store_error(st));
		return 1;
	}
	if (!(rec = run_load(st, ws, run, NULL))) {
		warnx("%s", store_error(st));
		return 1;
	}
	tn = json_str(rec, "target");
	if (tn && !target_spools_here(tn)) {
		/* queued already: its target has it, or sends it at its next poll */
		if (was_queued) {
			cJSON_Delete(rec);
			return 0;
		}
		if (!(jn = json_str(rec, "job"))) {
			warnx("run %s has no job: it cannot be sent to target '%s'", run, tn);
			cJSON_Delete(rec);
			return 1;
		}
		if (!quiet)
			fprintf(stderr, "xt-runq: %s requeued (target %s)\n", run, tn);
		handoff_add(h, tn, jn, rec);
		return 0;
	}
	/* queued already: only an entry that is missing is added */
	if (was_queued && queue_find(q, ws, run) != QUEUE_NONE) {
		cJSON_Delete(rec);
		return 0;
	}
	e = queue_entry_of(store_url(st), ws, run, json_str(rec, "job"), rec);
	rc = queue_add(q, e);
	if (rc < 0)
		warnx("run %s: cannot queue it:", run);
	else if (!quiet)
		fprintf(stderr, "xt-runq: %s requeued\n", run);
	cJSON_Delete(e);
	cJSON_Delete(rec);
	return rc < 0;
}

/* The names operands, '$lastrun' and '$lastjob' expanded (tool_name); free with strv_free. */
static char **
names_expand(struct store *st, const char *ws, char **argv, int n)
{
	char **v = xcalloc((size_t)n, sizeof(*v));
	int i;

	for (i = 0; i < n; i++)
		v[i] = tool_name(st, ws, argv[i]);
	return v;
}

/* Requeue a run, the children of a parent run, or the runs of a job. */
static int
do_requeue(struct store *st, const char *ws, char **targets, int n)
{
	struct queue q;
	struct handoff h = { NULL, 0 };
	int i, ret = 0;
	long a, b;

	/* every name first: a bad one requeues nothing */
	for (i = 0; i < n; i++)
		if (!name_parse_job(targets[i], &a) && !name_parse_run(targets[i], &a, &b))
			die_status(EXIT_USAGE, "'%s' is not a run or job name", targets[i]);
	queue_open(&q, NULL);
	for (i = 0; i < n; i++) {
		cJSON *rec, *job;
		const cJSON *it;
		long c, kids;

		if (name_parse_job(targets[i], &a)) {
			if (!(job = run_job_load(st, ws, targets[i]))) {
				warnx("no job '%s' in workspace '%s'", targets[i], ws);
				ret = 1;
				continue;
			}
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(job, "runs"))
				if (cJSON_IsString(it))
					ret |= requeue_one(&q, st, ws, it->valuestring, 0, &h);
			cJSON_Delete(job);
		} else if (name_parse_run(targets[i], &a, &b)) {
			if (!(rec = run_load(st, ws, targets[i], NULL))) {
				warnx("%s", store_error(st));
				ret = 1;
				continue;
			}
			kids = (long)json_num(rec, "children", 0);
			cJSON_Delete(rec);
			if (kids <= 0) {
				ret |= requeue_one(&q, st, ws, targets[i], 1, &h);
				continue;
			}
			for (c = 1; c <= kids; c++) {
				char *child = xasprintf("%s.%ld", targets[i], c);

				ret |= requeue_one(&q, st, ws, child, 0, &h);
				free(child);
			}
		}
	}
	queue_close(&q);
	return ret | handoff_send(&h, st, ws);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, 0, 'j' },
		{ "follow", no_argument, 0, 'f' },
		{ "store", required_argument, 0, 's' },
		{ "workspace", required_argument, 0, 'w' },
		{ "target", required_argument, 0, 't' },
		{ "grace", required_argument, 0, 'g' },
		{ "quiet", no_argument, 0, 'q' },
		{ "job", required_argument, 0, 'J' },
		{ "task", required_argument, 0, 'N' },
		{ "single", no_argument, 0, 'S' },
		{ "kick", no_argument, 0, 'K' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c, jobs = 0, follow = 0, ret = 0, grace_given = 0, single = 0, kicks = 0;
	long task_a;
	const char *target = NULL, *cmd, *job = NULL;
	long task = 0;
	struct store *st;
	tool_init(argc, argv);
	ropts.grace = 10;
	while ((c = getopt_long(argc, argv, "j:fs:w:t:g:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': jobs = (int)opt_i64("-j", optarg, 1, 100000); break;
		case 'f': follow = 1; break;
		case 's': config_set("store", optarg); break;
		case 'w': config_set("workspace", optarg); break;
		case 't': target = optarg; break;
		case 'g':
			if (parse_double(optarg, &ropts.grace) < 0 || ropts.grace < 0)
				die_status(EXIT_USAGE, "option '-g': '%s' is not a number of seconds", optarg);
			grace_given = 1;
			break;
		case 'q': quiet = 1; break;
		case 'J':
			if (!name_parse_job(optarg, &task_a))
				die_status(EXIT_USAGE, "option '--job': '%s' is not a job name (jobN)",
				    optarg);
			job = optarg;
			break;
		case 'N': task = (long)opt_i64("--task", optarg, 1, INT_MAX); break;
		case 'S': single = 1; break;
		case 'K': kicks = 1; break;
		case 'h': tool_help(usage_text);
		default: tool_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	cmd = argc ? argv[0] : "";
	if ((job || task) && (strcmp(cmd, "exec") || argc != 1 || !job || !task)) {
		tool_usage_error(usage_text, "--job and --task go together, with exec and no run");
	}
	if (kicks && strcmp(cmd, "ls") && strcmp(cmd, "add")) {
		tool_usage_error(usage_text, "--kick goes with ls or add");
	}
	if (single && (argc || follow)) {
		tool_usage_error(usage_text, "--single is a drain's, without -f");
	}
	if (gethostname(node, sizeof(node)) < 0)
		snprintf(node, sizeof(node), "localhost");
	ropts.node = node;
	ropts.progress = on_progress;
	if (!target)
		target = config_str("target", "local");
	if (!strcmp(cmd, "exec") && (argc == 2 || job)) {
		long a, b;
		const char *ws = tool_workspace();
		char *run;

		if (!job && !name_parse_run(argv[1], &a, &b))
			die_status(EXIT_USAGE, "'%s' is not a run name (runN or runN.K)", argv[1]);
		st = tool_store();
		run = job ? task_run(st, ws, job, task) : xstrdup(argv[1]);
		/* in a Slurm job, a SIGTERM may be its time limit or a preemption */
		if (getenv("SLURM_JOB_ID")) {
			char err[256];

			ropts.stopped = target_slurm_stopped;
			/* a run over several nodes: srun started one executor a node */
			if (target_slurm_place(&ropts.node_rank, &ropts.nnodes, &ropts.addr,
			    &ropts.port, err, sizeof(err)) < 0)
				die("run %s over several nodes: %s", run, err);
		}
		/* a bad work-keep-failed or cache-max-size is said now, not as a run that
		 * could not be prepared */
		work_start();
		/* a scheduler's task gets its GPUs from the scheduler */
		if (!job)
			load_gpus(target);
		ret = do_exec(st, ws, run);
		free(run);
	} else if (!strcmp(cmd, "ls") && argc == 1) {
		struct target *t = tool_target(target);

		/* a remote target settles the runs of the workspace it lost */
		st = target_spools_here(target) ? NULL : tool_store();
		/* a submit cut short hands its runs over first */
		job_recover_all();
		ret = do_ls(t, st, st ? tool_workspace() : NULL);
		target_close(t);
		if (kicks)
			kick(jobs ? jobs : max_runs(target));
	} else if (!strcmp(cmd, "add") && argc == 1) {
		st = tool_store();
		ret = do_add(st);
		if (kicks)
			kick(jobs ? jobs : max_runs(target));
	} else if (!strcmp(cmd, "id") && argc == 1) {
		st = NULL;
		do_id();
	} else if (!strcmp(cmd, "kill") && argc >= 2) {
		const char *ws = tool_workspace();
		struct target *t = tool_target(target);

		char **names;

		st = tool_store();
		names = names_expand(st, ws, argv + 1, argc - 1);
		ret = do_kill(t, st, ws, names, argc - 1, grace_given ? ropts.grace : -1);
		strv_free(names, (size_t)argc - 1);
		target_close(t);
	} else if (!strcmp(cmd, "requeue") && argc >= 2) {
		const char *ws = tool_workspace();

		char **names;

		st = tool_store();
		names = names_expand(st, ws, argv + 1, argc - 1);
		ret = do_requeue(st, ws, names, argc - 1);
		strv_free(names, (size_t)argc - 1);
	} else if (argc == 0) {
		if (!jobs)
			jobs = max_runs(target);
		st = tool_store();
		work_start();
		load_gpus(target);
		ret = single ? drain_single(st, jobs) : drain(st, jobs, follow);
	} else if (strcmp(cmd, "exec") && strcmp(cmd, "ls") && strcmp(cmd, "add") &&
	    strcmp(cmd, "id") && strcmp(cmd, "kill") && strcmp(cmd, "requeue")) {
		tool_usage_error(usage_text, "unknown command '%s'", cmd);
	} else {
		tool_usage_error(usage_text, "%s: %s", cmd, !strcmp(cmd, "kill") ||
		    !strcmp(cmd, "requeue") ? "missing RUN or JOB" : !strcmp(cmd, "exec") ?
		    "one RUN, or --job and --task" : "takes no operands");
	}
	store_close(st);
	gpu_pool_release(&gpus);
	config_release();
	stdout_close();
	return ret;
}
