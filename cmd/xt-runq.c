/*
 * xt-runq: the run queue and run executor of one machine. Drain the local
 * queue with at most N runs at once; run one run now; list the queue;
 * stop runs. Runs whose executor died are found and requeued or failed.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "job.h"
#include "json.h"
#include "name.h"
#include "queue.h"
#include "run.h"
#include "runexec.h"
#include "tool.h"
#include "work.h"
#include "banned.h"

static struct runexec_opts ropts;
static char node[256];

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: xt-runq [-j N] [-f]            drain the local queue (-f: keep waiting)\n"
	    "       xt-runq exec RUN               run one run now, in the foreground\n"
	    "       xt-runq ls                     the queue as JSON lines\n"
	    "       xt-runq kill RUN|JOB...        stop runs and mark them cancelled\n"
	    "options: -s STORE  -w WORKSPACE  -t TARGET  -g SECONDS (kill grace)\n");
	exit(status);
}

/* The target's max-runs from the configuration (default 1). */
static int
max_runs(const char *target)
{
	char key[300];
	const char *mr;
	int64_t v;

	snprintf(key, sizeof(key), "targets.%s.max-runs", target);
	mr = config_str(key, "1");
	if (parse_i64(mr, 1, 100000, &v) < 0)
		die_status(EXIT_USAGE, "%s: max-runs '%s' is not a whole number >= 1",
		    config_origin(key) ? config_origin(key) : key, mr);
	return (int)v;
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
	pid_t self = getpid();

	if (queue_ending(d->q, d->e) == 0 && d->wake >= 0)
		send(d->wake, &self, sizeof(self), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Executor child: run the claimed entry, then settle its queue entry. */
static void
execute(struct queue *q, struct queue_entry *e, struct store *def, int wake)
{
	struct store *st = store_of(e->data, def);
	const char *ws = json_str(e->data, "ws"), *run = json_str(e->data, "run");
	struct ending d = { q, e, wake };
	int code;
	enum runexec_result r;

	queue_set_pid(q, e, (long)getpid());
	if (!st || !ws || !run)
		_exit(1);
	ropts.ended = on_ended;
	ropts.arg = &d;
	r = runexec(st, ws, run, &ropts, &code);
	if (r == RUNEXEC_RETRY)
		queue_requeue(q, e);
	else if (r == RUNEXEC_ENDED)
		queue_done(q, e);
	/* on RUNEXEC_ERROR the entry stays: the next xt-runq sees an orphan and settles it */
	_exit(r == RUNEXEC_ERROR ? 1 : 0);
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

/* The executors of this xt-runq, and whether their command still runs. */
struct kids {
	pid_t *pid;
	char *running;
	int n, cap, nrunning;
};

/* The command of executor pid has ended (it said so, or it exited): its slot is free. */
static void
kid_ended(struct kids *k, pid_t pid, int exited)
{
	int i;

	for (i = 0; i < k->n && k->pid[i] != pid; i++)
		;
	if (i == k->n)
		return;
	if (k->running[i]) {
		k->running[i] = 0;
		k->nrunning--;
	}
	if (exited) {
		k->pid[i] = k->pid[--k->n];
		k->running[i] = k->running[k->n];
	}
}

/* The pids of the executors whose command has ended. */
static void
take_messages(struct kids *k, int fd)
{
	pid_t pid;

	while (recv(fd, &pid, sizeof(pid), 0) == (ssize_t)sizeof(pid))
		kid_ended(k, pid, 0);
}

/* A SIGCHLD only interrupts the wait for it */
static void
on_chld(int sig)
{
	(void)sig;
}

static int
drain(struct store *st, int jobs, int follow)
{
	struct queue q;
	struct kids k = { NULL, NULL, 0, 0, 0 };
	int sv[2];
	sigset_t set, waitmask;
	struct sigaction sa;

	queue_open(&q, NULL);
	tzset();	/* once, not in every executor */
	/* executors send their pid on sv[1] when their command has ended */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		die("cannot make a socket pair:");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &waitmask);
	sigdelset(&waitmask, SIGCHLD);
	recover(&q, st);
	for (;;) {
		struct queue_entry e;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		struct pollfd pfd = { sv[0], POLLIN, 0 };
		pid_t pid;
		int claimed = 0;

		/* take the messages, then reap: a slot freed by a command that
		 * ended is filled at once */
		take_messages(&k, sv[0]);
		while (k.n > 0 && (pid = waitpid(-1, NULL, WNOHANG)) > 0) {
			/* its message, if any, was sent before it exited: take it
			 * now, before its pid can be another executor's */
			take_messages(&k, sv[0]);
			kid_ended(&k, pid, 1);
		}
		/* queue_claim counts every command running on this spool and so
		 * keeps -j; ours are known here, so a claim that must fail is not
		 * even tried */
		while (k.nrunning < jobs && queue_claim(&q, jobs, NULL, &e) == 1) {
			fflush(stdout);
			pid = fork();
			if (pid == 0) {
				close(sv[0]);
				sigprocmask(SIG_UNBLOCK, &set, NULL);
				signal(SIGCHLD, SIG_DFL);
				execute(&q, &e, st, sv[1]);
			}
			if (pid < 0) {
				warnx("cannot fork:");
			} else {
				if (k.n == k.cap) {
					k.cap = k.cap * 2 + 16;
					k.pid = xrealloc(k.pid, (size_t)k.cap * sizeof(*k.pid));
					k.running = xrealloc(k.running, (size_t)k.cap);
				}
				k.pid[k.n] = pid;
				k.running[k.n++] = 1;
				k.nrunning++;
			}
			queue_entry_release(&e);
			claimed++;
		}
		if (!claimed && k.n == 0 && !follow && queue_nwaiting(&q) == 0) {
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
		if (follow || k.n == 0)
			recover(&q, st);
	}
	free(k.pid);
	free(k.running);
	close(sv[0]);
	close(sv[1]);
	queue_close(&q);
	return 0;
}

static int
do_exec(struct store *st, const char *ws, const char *run)
{
	struct queue q;
	struct queue_entry e;
	cJSON *m = cJSON_CreateObject(), *rec;
	int code, have, rc;
	enum runexec_result r;

	if (!(rec = run_load(st, ws, run, &rc)))
		die("%s", store_error(st));
	if (run_status_final(json_str(rec, "status")))
		die("run '%s' has ended already (%s)", run, json_str(rec, "status"));
	cJSON_Delete(rec);
	json_set_str(m, "ws", ws);
	json_set_str(m, "run", run);
	queue_open(&q, NULL);
	/* a queued run is taken out of the queue so that nobody else starts it */
	have = queue_claim(&q, 0, m, &e) == 1;
	cJSON_Delete(m);
	if (have) {
		queue_set_pid(&q, &e, (long)getpid());
	} else {
		if (queue_find(&q, ws, run) == QUEUE_RUNNING)
			die("run '%s' is running already (see xt-runq ls)", run);
	}
	r = runexec(st, ws, run, &ropts, &code);
	if (have) {
		if (r == RUNEXEC_RETRY)
			queue_requeue(&q, &e);
		else
			queue_done(&q, &e);
		queue_entry_release(&e);
	}
	queue_close(&q);
	if (r == RUNEXEC_ERROR)
		return 1;
	return code < 0 ? 1 : code;
}

static int
print_entry(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	cJSON *o = cJSON_Duplicate(data, 1);

	json_set_str(o, "state", state);
	if (pid > 0)
		json_set_num(o, "pid", (double)pid);
	json_print_line(stdout, o);
	cJSON_Delete(o);
	return 0;
}

struct killarg {
	int grace_ms;		/* -1: the executor's own */
	const char *ws;
	char **targets;
	int n;
	int *found;
	cJSON *queued;		/* names of matching waiting runs */
};

/* A run matches a target that names it, its job, or its parent run. */
static int
matches(const struct killarg *k, const cJSON *data)
{
	const char *run = json_str(data, "run"), *job = json_str(data, "job");
	const char *ws = json_str(data, "ws");
	int i, hit = 0;

	if (!ws || !run || strcmp(ws, k->ws))
		return 0;
	for (i = 0; i < k->n; i++) {
		size_t l = strlen(k->targets[i]);

		if (!strcmp(run, k->targets[i]) || (job && !strcmp(job, k->targets[i])) ||
		    (!strncmp(run, k->targets[i], l) && run[l] == '.')) {
			k->found[i] = 1;
			hit = 1;
		}
	}
	return hit;
}

static int
kill_each(const char *state, const cJSON *data, long pid, const char *name, void *arg)
{
	struct killarg *k = arg;

	if (!matches(k, data))
		return 0;
	if (!strcmp(state, "running") && pid > 0) {
		union sigval v;

		v.sival_int = k->grace_ms;
		sigqueue((pid_t)pid, SIGTERM, v);
	}
	else if (!strcmp(state, "queued"))
		cJSON_AddItemToArray(k->queued, cJSON_CreateString(json_str(data, "run")));
	return 0;
}

static void
cancel_queued(struct store *st, const char *ws, const char *run)
{
	cJSON *rec = run_load(st, ws, run, NULL);

	if (!rec)
		return;
	run_event(st, ws, run, "cancelled", -1, NULL);
	if (run_end(st, rec, "cancelled", NULL) < 0)
		warnx("run %s: %s", run, store_error(st));
	cJSON_Delete(rec);
}

static int
do_kill(struct store *st, const char *ws, char **targets, int n, double grace)
{
	struct queue q;
	struct killarg k = { grace < 0 ? -1 : (int)(grace * 1000), ws, targets, n,
	    xcalloc((size_t)n, sizeof(int)), cJSON_CreateArray() };
	const cJSON *it;
	int i, ret = 0;

	queue_open(&q, NULL);
	queue_each(&q, kill_each, &k);
	/* waiting runs are taken out of the queue (if nobody started them meanwhile) */
	cJSON_ArrayForEach(it, k.queued) {
		cJSON *m = cJSON_CreateObject();
		struct queue_entry e;

		json_set_str(m, "ws", ws);
		json_set_str(m, "run", it->valuestring);
		if (queue_claim(&q, 0, m, &e) == 1) {
			cancel_queued(st, ws, it->valuestring);
			queue_done(&q, &e);
			queue_entry_release(&e);
		}
		cJSON_Delete(m);
	}
	for (i = 0; i < n; i++)
		if (!k.found[i]) {
			warnx("'%s': no such run or job in the local queue", targets[i]);
			ret = 1;
		}
	cJSON_Delete(k.queued);
	free(k.found);
	queue_close(&q);
	return ret;
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
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c, jobs = 0, follow = 0, ret = 0, grace_given = 0;
	const char *target = NULL, *cmd;
	struct store *st;
	tool_init(argv[0]);
	ropts.grace = 10;
	while ((c = getopt_long(argc, argv, "j:fs:w:t:g:h", longopts, NULL)) != -1) {
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
		case 'h': usage(0); break;
		default: usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	cmd = argc ? argv[0] : "";
	if (gethostname(node, sizeof(node)) < 0)
		snprintf(node, sizeof(node), "localhost");
	ropts.node = node;
	if (!target)
		target = config_str("target", "local");
	if (!strcmp(cmd, "exec") && argc == 2) {
		long a, b;
		const char *ws = tool_workspace();

		if (!name_parse_run(argv[1], &a, &b))
			die_status(EXIT_USAGE, "'%s' is not a run name (runN or runN.K)", argv[1]);
		st = tool_store();
		ret = do_exec(st, ws, argv[1]);
	} else if (!strcmp(cmd, "ls") && argc == 1) {
		struct queue q;

		queue_open(&q, NULL);
		queue_each(&q, print_entry, NULL);
		queue_close(&q);
		st = NULL;
	} else if (!strcmp(cmd, "kill") && argc >= 2) {
		const char *ws = tool_workspace();

		st = tool_store();
		ret = do_kill(st, ws, argv + 1, argc - 1, grace_given ? ropts.grace : -1);
	} else if (argc == 0) {
		if (!jobs)
			jobs = max_runs(target);
		st = tool_store();
		work_start();
		ret = drain(st, jobs, follow);
	} else {
		usage(EXIT_USAGE);
	}
	store_close(st);
	config_release();
	stdout_close();
	return ret;
}
