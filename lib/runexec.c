/* runexec.c: see runexec.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blob.h"
#include "json.h"
#include "life.h"
#include "logpump.h"
#include "run.h"
#include "runexec.h"
#include "searchjob.h"
#include "tree.h"
#include "work.h"
#include "banned.h"

#define OUT_CHUNK ((size_t)256 << 10)

extern char **environ;

#define INDEX_EVERY 3.0	/* seconds between index lines of a running run's metrics */
#define START_DEFER 0.1	/* seconds a command runs before its start is recorded */
/* the most bytes of code a run's end copies into a spare folder for a later run */
#define READY_MAX ((int64_t)64 << 20)
/*
 * Seconds between appends of a running run's console and of its log to the
 * store: what came meanwhile goes in one request (a remote store costs a
 * round trip each), however many lines, up to OUT_CHUNK and LOGPUMP_CHUNK.
 */
#define FLUSH_EVERY 0.25

struct rx {
	struct store *st;
	const char *ws, *run, *node;
	const struct runexec_opts *o;
	struct life l;		/* the record (l.rec) and the job (l.job) */
	cJSON *rec, *job;	/* l.rec and l.job, as they are now (sync_rec) */
	char *dir, *code, *outdir, *logpath;
	char *man, *tag;	/* the job's code manifest; whose code it is (work_prep) */
	struct sbuf out;
	struct logpump lp;
	int keep_work;	/* keep the folder at the end: an output was not captured */
	int outfd, logfd;
	double last_flush, last_save, last_index, last_log;
	int dirty, unindexed;	/* unindexed: saved progress the index lacks */
	/* the attempt */
	int64_t t0, t1;
	pid_t pid;
	int wst, killed, timed_out, pruned, open_out;
	int start_due;		/* the start is not recorded yet (START_DEFER) */
	double deadline, kill_at, max_min, start_at;
	struct searchjob_pruner pr;
};

static volatile sig_atomic_t cancel_req;
static volatile sig_atomic_t cancel_grace_ms = -1;
static const char *volatile cancel_why;

/*
 * SIGTERM, SIGINT: stop the run. xt-runq kill sends the grace period along
 * (sigqueue, -1: the executor's own); xt-runq passes on a signal it got as
 * RUNEXEC_SIG_STOP - signal number.
 */
static void
on_term(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* the signal that xt-runq got, passed on, says the same as when it comes here too */
	if (si && si->si_code == SI_QUEUE && si->si_value.sival_int <= RUNEXEC_SIG_STOP)
		sig = RUNEXEC_SIG_STOP - si->si_value.sival_int;
	else if (si && si->si_code == SI_QUEUE && sig == SIGTERM && !cancel_why)
		cancel_why = "killed with xt-runq kill";
	if (!cancel_why)
		cancel_why = sig == SIGINT ? "interrupted (SIGINT)" : "interrupted (SIGTERM)";
	if (si && si->si_code == SI_QUEUE && si->si_value.sival_int >= 0)
		cancel_grace_ms = si->si_value.sival_int;
	cancel_req = 1;
}

/* l.rec may be another object after any life_* call. */
static void
sync_rec(struct rx *x)
{
	x->rec = x->l.rec;
	x->job = x->l.job;
}

/* Record the start of the command (saved unless how is LIFE_NOSAVE), once. */
static void
record_start(struct rx *x, int how)
{
	if (!x->start_due)
		return;
	x->start_due = 0;
	life_start(&x->l, x->pid, how);
	sync_rec(x);
}

/*
 * Save the record's progress (index: a state change). Metrics that changed
 * reach the index too, at most every INDEX_EVERY seconds, so that reports
 * show a running run's latest values.
 */
static void
save(struct rx *x, int index)
{
	double now = time_mono();

	record_start(x, LIFE_NOSAVE);
	if (!index && now - x->last_index >= INDEX_EVERY)
		index = 1;
	if (life_save(&x->l, index ? RUN_INDEX : 0) < 0)
		warnx("run %s: cannot save its record: %s", x->run, store_error(x->st));
	sync_rec(x);
	x->dirty = 0;
	x->unindexed = !index;
	x->last_save = now;
	if (index)
		x->last_index = now;
}

static void
event(struct rx *x, const char *ev, cJSON *data)
{
	if (run_event(x->st, x->ws, x->run, ev, -1, data) < 0)
		warnx("run %s: cannot log '%s': %s", x->run, ev, store_error(x->st));
}

static void
now_iso(char *t, size_t len)
{
	time_iso(time_now_ms(), t, len);
}

/* Console: append what was read to the store in chunks. */
static void
flush_out(struct rx *x)
{
	char *p;

	if (!x->out.len)
		return;
	p = run_path(x->ws, x->run, "output.txt");
	if (store_append(x->st, p, x->out.buf, x->out.len) < 0)
		warnx("run %s: cannot save its console: %s", x->run, store_error(x->st));
	free(p);
	sbuf_reset(&x->out);
	x->last_flush = time_mono();
}

/* A line of xt's own in the run's console. */
static void note_out(struct rx *x, const char *fmt, ...) PRINTF(2, 3);

static void
note_out(struct rx *x, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sbuf_add(&x->out, line, strlen(line));
}

/*
 * $XT_LOG: forward whole new lines into the store's log, folding them into
 * the record. They are appended every FLUSH_EVERY seconds, and now when
 * final (the run has ended), when due (a check is due that reads the log
 * from the store), or before the record is saved (it never runs ahead of
 * its log).
 */
static void
pump_log(struct rx *x, int final, int due)
{
	char buf[65536];
	ssize_t n;
	double now;
	int rc, save_now;

	while ((n = read(x->logfd, buf, sizeof(buf))) > 0) {
		/* the "started" event before the first line the run logs */
		record_start(x, LIFE_SAVE);
		x->dirty |= logpump_feed(&x->lp, x->rec, buf, (size_t)n) > 0;
	}
	if (final)
		x->dirty |= logpump_end(&x->lp, x->rec) > 0;
	now = time_mono();
	/* the final pump is followed by the end record */
	save_now = x->dirty && !final && now - x->last_save > 1.0;
	if (final || due || save_now || now - x->last_log >= FLUSH_EVERY) {
		x->last_log = now;
		/* once when it starts failing, and at the end, when lines are lost */
		if ((rc = logpump_flush(&x->lp)) == -1 || (final && rc < 0))
			warnx("run %s: cannot save its log: %s", x->run, x->lp.err);
	}
	if (save_now)
		save(x, 0);
}

/* argv of the run: the job's command, then --name=value per given hparam. Caller frees. */
static char **
make_argv(struct rx *x)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(x->job, "argv"), *it;
	const cJSON *hp = run_given_hparams(x->rec);
	const char *prefix = json_str(x->job, "hp_prefix");
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(cmd) + (size_t)cJSON_GetArraySize(hp) + 1;
	char **argv = xcalloc(cap, sizeof(*argv));

	cJSON_ArrayForEach(it, cmd)
		if (cJSON_IsString(it))
			argv[n++] = xstrdup(it->valuestring);
	if (!prefix)
		prefix = "--";
	if (*prefix && cJSON_IsObject(hp))
		cJSON_ArrayForEach(it, hp)
			argv[n++] = run_hp_arg(prefix, it);
	argv[n] = NULL;
	return argv;
}

/* The run's environment: ours minus any XT_* of an outer run, plus its own. Caller frees. */
static char **
make_env(struct rx *x)
{
	size_t n = 0, i;
	char **env, *hp;
	const cJSON *hpj = run_given_hparams(x->rec);

	for (i = 0; environ[i]; i++)
		n++;
	env = xcalloc(n + 16, sizeof(*env));
	n = 0;
	for (i = 0; environ[i]; i++)
		if (strncmp(environ[i], "XT_", 3) != 0 || !strncmp(environ[i], "XT_HOME=", 8))
			env[n++] = xstrdup(environ[i]);
	hp = hpj ? cJSON_PrintUnformatted(hpj) : xstrdup("{}");
	env[n++] = xasprintf("XT_STORE=%s", store_url(x->st));
	env[n++] = xasprintf("XT_WS=%s", x->ws);
	env[n++] = xasprintf("XT_EXP=%s", json_str(x->rec, "exp") ? json_str(x->rec, "exp") : "");
	env[n++] = xasprintf("XT_JOB=%s", json_str(x->rec, "job") ? json_str(x->rec, "job") : "");
	env[n++] = xasprintf("XT_RUN=%s", x->run);
	env[n++] = xasprintf("XT_NODE=%s", x->node);
	env[n++] = xasprintf("XT_RUN_DIR=%s", x->code);
	env[n++] = xasprintf("XT_OUTPUT_DIR=%s", x->outdir);
	env[n++] = xasprintf("XT_LOG=%s", x->logpath);
	env[n++] = xasprintf("XT_HPARAMS=%s", hp);
	env[n++] = xasprintf("XT_ATTEMPT=%d", (int)json_num(x->rec, "attempt", 1));
	env[n] = NULL;
	free(hp);
	return env;
}

static void
free_vec(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/*
 * The child of spawn(), sharing the executor's memory until it execs
 * (vfork): it only makes system calls and writes nothing but its own stack.
 */
static void __attribute__((noinline, noreturn))
spawn_child(char **argv, char **env, const char *dir, int out, int nul, const sigset_t *mask)
{
	struct sigaction sa;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	setpgid(0, 0);
	/* if the executor dies, the run dies with it: it must never run twice */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (nul >= 0)
		dup2(nul, 0);
	dup2(out, 1);
	dup2(out, 2);
	if (chdir(dir) < 0) {
		dprintf(2, "xt-runq: cannot enter '%s': %s\n", dir, strerror(errno));
		_exit(126);
	}
	execvpe(argv[0], argv, env);
	e = errno;
	dprintf(2, "xt-runq: cannot run '%s': %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Start argv in dir with env, its console on a pipe. Returns the pid (its own group). */
static pid_t
spawn(char **argv, char **env, const char *dir, int *outfd)
{
	int p[2], nul;
	pid_t pid;
	sigset_t all, old;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* without a /dev/null (an empty chroot) the command keeps our standard input */
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* no handler of ours may run in the child while it shares our memory */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = vfork();
	if (pid == 0)
		spawn_child(argv, env, dir, p[1], nul, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (nul >= 0)
		close(nul);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	setpgid(pid, pid);
	*outfd = p[0];
	return pid;
}

/* True when pid has exited; it stays a zombie (not reaped) until waitpid. */
static int
exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

static int
shell_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* The parent script: once per job on this machine; later runs reuse its result. */
static int
parent_script(struct rx *x, const char *script)
{
	char *home = xt_home();
	const char *job = json_str(x->rec, "job");
	char *lock = xasprintf("%s/work/%s/%s.parent", home, x->ws, job);
	char *done = xasprintf("%s.status", lock), *dir = xasprintf("%s/work/%s", home, x->ws);
	struct sbuf sb;
	int fd, status = -1;
	int64_t v;

	mkdir_p(dir);
	sbuf_init(&sb, 64);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		warnx("cannot lock '%s':", lock);
	} else if (file_read(done, &sb) == 0 && (sb.len && sb.buf[sb.len - 1] == '\n' ?
	    (sb.buf[--sb.len] = '\0', 1) : 1) && parse_i64(sb.buf, 0, 255, &v) == 0) {
		status = (int)v;
	} else {
		char *argv[] = { "/bin/sh", (char *)script, NULL }, **env = make_env(x);
		char *p = xasprintf("ws/%s/jobs/%s/parent-%s.txt", x->ws, job, x->node), buf[65536];
		int ofd, st;
		pid_t pid = spawn(argv, env, x->code, &ofd);
		ssize_t n;
		FILE *fp;

		if (pid > 0) {
			struct sbuf all;

			sbuf_init(&all, (size_t)64 << 20);
			while ((n = read(ofd, buf, sizeof(buf))) != 0) {
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					break;
				sbuf_add(&all, buf, (size_t)n);
			}
			close(ofd);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			status = shell_status(st);
			store_put(x->st, p, all.buf, all.len);
			sbuf_release(&all);
		}
		if (status >= 0 && (fp = fopen(done, "w"))) {
			fprintf(fp, "%d\n", status);
			fclose(fp);
		}
		{
			cJSON *d = cJSON_CreateObject();

			json_set_str(d, "script", script);
			life_set_code(d, "exit_code", status);
			event(x, "parent_script", d);
		}
		free(p);
		free_vec(env);
	}
	if (fd >= 0)
		close(fd);
	sbuf_release(&sb);
	free(lock);
	free(done);
	free(dir);
	free(home);
	return status;
}

/*
 * Copy output/ into the store and write files.jsonl. A link is captured as
 * its target only inside output/ (tree_scan_beneath); one that is not is
 * named in the console. Sets keep_work when a file could not be captured.
 */
static void
capture(struct rx *x)
{
	struct tree t;
	struct sbuf man;
	size_t i;

	tree_init(&t);
	tree_scan_beneath(&t, x->outdir);
	for (i = 0; i < t.nrefused; i++) {
		warnx("run %s: not capturing 'output/%s': %s", x->run, t.refused[i].rel,
		    t.refused[i].why);
		note_out(x, "xt-runq: not capturing 'output/%s': %s\n", t.refused[i].rel,
		    t.refused[i].why);
	}
	flush_out(x);
	sbuf_init(&man, (size_t)64 << 20);
	for (i = 0; i < t.n; i++) {
		char *rel = xasprintf("output/%s", t.files[i].rel);
		char *p = run_path(x->ws, x->run, rel), sha[65], *src = NULL;
		int fd = tree_open_beneath(x->outdir, t.files[i].target);
		struct stat sb;
		cJSON *o;
		char *line;

		/* the file as opened, so that no link put in its way since the scan is followed */
		if (fd >= 0)
			src = xasprintf("/proc/self/fd/%d", fd);
		if (fd < 0 || fstat(fd, &sb) < 0) {
			warnx("run %s: cannot capture '%s': %s", x->run, t.files[i].rel, strerror(errno));
			x->keep_work = 1;
		} else if (store_put_file(x->st, p, src, sha, NULL, NULL) < 0) {
			warnx("run %s: cannot capture '%s': %s", x->run, t.files[i].rel, store_error(x->st));
			x->keep_work = 1;
		} else {
			o = cJSON_CreateObject();
			json_set_str(o, "path", rel);
			json_set_num(o, "size", (double)sb.st_size);
			json_set_str(o, "sha256", sha);
			line = json_line(o, NULL);
			sbuf_adds(&man, line);
			free(line);
			cJSON_Delete(o);
		}
		if (fd >= 0)
			close(fd);
		free(src);
		free(p);
		free(rel);
	}
	if (t.n) {
		char *p = run_path(x->ws, x->run, "files.jsonl");

		if (store_put(x->st, p, man.buf, man.len) < 0) {
			warnx("run %s: cannot save '%s': %s", x->run, p, store_error(x->st));
			x->keep_work = 1;
		}
		free(p);
	}
	sbuf_release(&man);
	tree_release(&t);
}

static int
prepare(struct rx *x)
{
	char *home = xt_home();
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(x->job, "submitter");
	int rc = 0, spare = 0;

	x->dir = xasprintf("%s/work/%s/%s", home, x->ws, x->run);
	x->code = path_join(x->dir, "code");
	x->outdir = path_join(x->dir, "output");
	x->logpath = path_join(x->dir, "log.jsonl");
	x->man = xasprintf("ws/%s/jobs/%s/code.jsonl", x->ws, json_str(x->rec, "job"));
	/* a job's code never changes, and its submitter's id is new for every job */
	if (json_str(sub, "id"))
		x->tag = xasprintf("%s %s %s %s", store_url(x->st), x->ws, json_str(x->rec, "job"),
		    json_str(sub, "id"));
	work_begin(x->dir);
	/* a retry finds what earlier attempts left in output/ (checkpoints);
	 * code/ and log.jsonl are made afresh (a spare's were, when it was left) */
	if (json_num(x->rec, "attempt", 1) <= 1 && work_rm(x->dir) < 0) {
		warnx("cannot remove '%s':", x->dir);
		rc = -1;
	} else if (json_num(x->rec, "attempt", 1) <= 1 ? (spare = work_make(x->dir, x->tag)) < 0 :
	    mkdir_p(x->dir) < 0 || (mkdir(x->outdir, 0777) < 0 && errno != EEXIST)) {
		warnx("cannot create '%s':", x->dir);
		rc = -1;
	} else if (spare < 2 && blob_restore_tree(x->st, x->man, x->code, spare, -1) < 0) {
		warnx("run %s: cannot restore its code: %s", x->run, store_error(x->st));
		rc = -1;
	} else if (!spare && unlink(x->logpath) < 0 && errno != ENOENT) {
		warnx("cannot remove '%s':", x->logpath);
		rc = -1;
	} else if ((x->logfd = open(x->logpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    (spare ? 0 : O_EXCL), 0644)) < 0) {
		/* read only: the run appends through its own $XT_LOG */
		warnx("cannot create '%s':", x->logpath);
		rc = -1;
	}
	free(home);
	return rc;
}

/* work_prep's fill: the job's code into codedir, unless it is big. */
static int
fill_code(void *arg, const char *codedir)
{
	struct rx *x = arg;

	return blob_restore_tree(x->st, x->man, codedir, 1, READY_MAX) < 0 ? -1 : 0;
}

static void
rx_release(struct rx *x)
{
	life_release(&x->l);
	searchjob_pruner_release(&x->pr);
	free(x->dir);
	free(x->code);
	free(x->outdir);
	free(x->logpath);
	free(x->man);
	free(x->tag);
	sbuf_release(&x->out);
	logpump_release(&x->lp);
	if (x->logfd >= 0)
		close(x->logfd);
}

static void
progress(struct rx *x, const char *what, double secs)
{
	if (x->o->progress)
		x->o->progress(x->o->arg, what, x->rec, x->job, secs);
}

/*
 * Record the end of the attempt (retry-or-fail is life_end's): RUNEXEC_ENDED
 * or RUNEXEC_RETRY.
 */
static enum runexec_result
end_attempt(struct rx *x, const char *status, int code, const char *error, const char *reason)
{
	int r;

	if (!x->t1)
		x->t1 = time_now_ms();
	record_start(x, LIFE_NOSAVE);
	r = life_end(&x->l, status, code, error, reason, x->t0, x->t1);
	sync_rec(x);
	if (r < 0)
		warnx("run %s: cannot record its end: %s", x->run, store_error(x->st));
	progress(x, r == LIFE_RETRY ? "retry" : "ended", (x->t1 - x->t0) / 1000.0);
	return r == LIFE_RETRY ? RUNEXEC_RETRY : RUNEXEC_ENDED;
}

/*
 * Load the run and its job: 0 to run it, else the result to return (a
 * run that has ended already is not run again).
 */
static int
load(struct rx *x, enum runexec_result *res)
{
	int rc = life_open(&x->l, x->st, x->ws, x->run);

	sync_rec(x);
	if (rc < 0) {
		warnx("%s", store_error(x->st));
		*res = RUNEXEC_ERROR;
		return -1;
	}
	if (run_status_final(json_str(x->rec, "status"))) {
		*res = RUNEXEC_ENDED;
		return -1;
	}
	if (run_moved(x->rec)) {
		warnx("run %s was moved to box %s: not run here", x->run, json_str(x->rec, "box"));
		*res = RUNEXEC_ENDED;
		return -1;
	}
	if (!x->job) {
		warnx("run %s: its job record is missing", x->run);
		*res = RUNEXEC_ERROR;
		return -1;
	}
	return 0;
}

/*
 * Start the attempt: its folder, its parent script, its hparams from the
 * job's search, then its command. 0 when it runs; else the result to
 * return (its end is recorded, or it was interrupted before it started).
 */
static int
start(struct rx *x, enum runexec_result *res)
{
	const char *script;
	char **argv, **env, t[32];
	int attempt, rc;

	life_begin(&x->l, x->node);
	sync_rec(x);
	x->t0 = time_now_ms();
	if (prepare(x) < 0) {
		*res = end_attempt(x, "failed", -1, "the executor could not prepare the run", NULL);
		return -1;
	}
	attempt = (int)json_num(x->rec, "attempt", 1);
	if (attempt > 1) {
		now_iso(t, sizeof(t));
		note_out(x, "xt-runq: attempt %d of %s, on %s at %s\n", attempt, x->run, x->node, t);
	}
	if ((script = json_str(x->job, "parent_script")) && (rc = parent_script(x, script)) != 0) {
		note_out(x, "xt-runq: the parent script '%s' failed\n", script);
		flush_out(x);
		*res = end_attempt(x, "failed", rc < 0 ? -1 : rc, "the parent script failed", NULL);
		return -1;
	}
	if (searchjob_assign(x->st, x->ws, x->job, x->rec) < 0) {
		*res = end_attempt(x, "failed", -1, "the job's search proposed no hparams", NULL);
		return -1;
	}
	/* interrupted before its command started: it stays queued, as it was */
	if (cancel_req) {
		*res = RUNEXEC_NOTSTARTED;
		return -1;
	}
	argv = make_argv(x);
	env = make_env(x);
	x->t0 = time_now_ms();
	x->pid = spawn(argv, env, x->code, &x->outfd);
	free_vec(argv);
	free_vec(env);
	if (x->pid < 0) {
		warnx("run %s: cannot start it:", x->run);
		*res = end_attempt(x, "failed", -1, "the executor could not start it", NULL);
		return -1;
	}
	/* the start is recorded once the command has run START_DEFER (or logs
	 * a value first): a command that ends sooner, as many in a sweep of
	 * small runs do, has only its end recorded, one record write instead of
	 * two. An executor that dies before leaves its run queued (run again,
	 * as one that died before its command began). */
	flush_out(x);
	x->start_due = 1;
	x->start_at = time_mono();
	progress(x, "started", 0);
	x->max_min = json_num(x->job, "max_minutes", 0);
	if (x->max_min > 0)
		x->deadline = time_mono() + x->max_min * 60;
	x->last_flush = x->last_index = x->last_log = time_mono();
	x->open_out = 1;
	return 0;
}


/* Take what the command wrote to its console (waiting up to 100 ms when wait). 0 at its end. */
static int
read_out(struct rx *x, int wait)
{
	struct pollfd pfd = { x->outfd, POLLIN, 0 };
	char buf[65536];
	ssize_t n;

	if (wait && poll(&pfd, 1, 100) <= 0)
		return 1;
	n = read(x->outfd, buf, sizeof(buf));
	if (n > 0) {
		if (sbuf_add(&x->out, buf, (size_t)n) < 0) {
			flush_out(x);
			sbuf_add(&x->out, buf, (size_t)n);
		}
		return 1;
	}
	return n < 0 && (errno == EINTR || errno == EAGAIN) && wait;
}

/* Stop the command: TERM to its group now, KILL after grace seconds. */
static void
stop(struct rx *x, double now, double grace)
{
	x->killed = 1;
	kill(-x->pid, SIGTERM);
	x->kill_at = now + grace;
}

/* Watch the command until it exits: its console, its log, its time limit, pruning, a cancel. */
static void
watch(struct rx *x)
{
	useconds_t quiet_us = 100;

	for (;;) {
		double now;

		if (x->open_out) {
			x->open_out = read_out(x, 1);
		} else {
			/* the console closed: the run is ending (soon reaped) or went quiet */
			usleep(quiet_us);
			if (quiet_us < 20000)
				quiet_us *= 2;
		}
		/* the run has ended: take what is left of its console, without waiting for
		 * anything it left behind that still holds the pipe. It is not reaped yet
		 * (WNOWAIT), so its process group cannot be reused before we kill it. */
		if (exited(x->pid)) {
			fcntl(x->outfd, F_SETFL, O_NONBLOCK);
			while (x->open_out && read_out(x, 0))
				;
			break;
		}
		now = time_mono();
		if (x->start_due && now - x->start_at >= START_DEFER)
			record_start(x, LIFE_SAVE);
		if (x->out.len >= OUT_CHUNK || (x->out.len && now - x->last_flush > FLUSH_EVERY))
			flush_out(x);
		pump_log(x, 0, searchjob_prune_due(&x->pr));
		if (x->unindexed && now - x->last_index >= INDEX_EVERY)
			save(x, 1);
		if (!x->killed && searchjob_prune(x->st, x->ws, x->job, x->run, &x->pr)) {
			x->pruned = 1;
			stop(x, now, x->o->grace);
		}
		if (cancel_req && !x->killed)
			stop(x, now, cancel_grace_ms >= 0 ? cancel_grace_ms / 1000.0 : x->o->grace);
		if (x->deadline && now > x->deadline && !x->killed) {
			x->timed_out = 1;
			note_out(x, "\nxt-runq: time limit of %g minutes reached: stopping the run\n",
			    x->max_min);
			stop(x, now, x->o->grace);
		}
		if (x->killed && x->kill_at && now > x->kill_at) {
			kill(-x->pid, SIGKILL);
			x->kill_at = 0;
		}
	}
	/* the command is gone; anything it started in its group goes too, and
	 * only then is it reaped */
	kill(-x->pid, SIGKILL);
	while (waitpid(x->pid, &x->wst, 0) < 0 && errno == EINTR)
		;
	x->t1 = time_now_ms();
}

/* The command has exited: take the rest of its console and log, capture its outputs, record its end. */
static enum runexec_result
end(struct rx *x, int *exit_code)
{
	const char *status = "completed", *error = NULL, *reason = NULL;
	int code;

	/* the next point of a learning search waits for this run's end (searchjob_learns) */
	if (x->o->ended && !searchjob_learns(x->job))
		x->o->ended(x->o->arg);
	close(x->outfd);
	flush_out(x);
	pump_log(x, 1, 1);
	code = shell_status(x->wst);
	*exit_code = code;
	capture(x);
	if (x->timed_out) {
		status = "failed";
		error = "time limit";
	} else if (x->pruned) {
		status = "pruned";
	} else if (x->killed) {
		status = "cancelled";
		reason = cancel_why;
	} else if (code != 0) {
		status = "failed";
	}
	if (!strcmp(status, "cancelled")) {
		cJSON *d = cJSON_CreateObject();

		if (reason)
			json_set_str(d, "reason", reason);
		event(x, "cancelled", d);
	}
	return end_attempt(x, status, code, error, reason);
}

/* SIGTERM and SIGINT cancel the run; one that came before is taken now. */
static void
catch_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_term;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

enum runexec_result
runexec(struct store *st, const char *ws, const char *run, const struct runexec_opts *o,
    int *exit_code)
{
	struct rx x;
	enum runexec_result res;

	memset(&x, 0, sizeof(x));
	x.st = st;
	x.ws = ws;
	x.run = run;
	x.node = o->node;
	x.o = o;
	x.logfd = -1;
	x.outfd = -1;
	*exit_code = -1;
	sbuf_init(&x.out, OUT_CHUNK * 4);
	logpump_init(&x.lp, st, ws, run);
	searchjob_pruner_init(&x.pr);
	catch_signals();
	if (load(&x, &res) == 0 && start(&x, &res) == 0) {
		watch(&x);
		res = end(&x, exit_code);
	}
	if (res == RUNEXEC_ENDED && x.dir) {
		/* its folder, if a spare, gets its job's code: the next run may be of it too */
		struct work_prep prep = { x.tag, fill_code, &x };

		work_end(x.dir, json_str(x.rec, "status"), x.keep_work, x.tag ? &prep : NULL);
	}
	rx_release(&x);
	return res;
}

/*
 * True when pid is a process of this run (its environment names the run,
 * its workspace and its store): a pid reused since, even by a run of the
 * same name in another store, is left alone.
 */
static int
is_run_process(long pid, const char *url, const char *ws, const char *run)
{
	char *p = xasprintf("/proc/%ld/environ", pid);
	char *want[3] = { xasprintf("XT_RUN=%s", run), xasprintf("XT_WS=%s", ws),
	    xasprintf("XT_STORE=%s", url) };
	struct sbuf sb;
	size_t off;
	int k, found = 0;

	sbuf_init(&sb, (size_t)1 << 20);
	if (file_read(p, &sb) == 0)
		for (off = 0; off < sb.len; off += strlen(sb.buf + off) + 1)
			for (k = 0; k < 3; k++)
				if (!strcmp(sb.buf + off, want[k]))
					found |= 1 << k;
	sbuf_release(&sb);
	free(p);
	for (k = 0; k < 3; k++)
		free(want[k]);
	return found == 7;
}

int
runexec_recover(struct store *st, const char *ws, const char *run, const char *node)
{
	int rc, was_final;
	cJSON *rec = run_load(st, ws, run, &rc);
	long pid;

	if (!rec)
		return rc == STORE_ENOENT ? 0 : -1;
	/* the submitting side gave it to another box (this one was lost): not ours to settle */
	if (run_moved(rec)) {
		cJSON_Delete(rec);
		return 0;
	}
	pid = (long)json_num(rec, "pid", 0);
	if (pid > 0 && !run_status_final(json_str(rec, "status")) && json_str(rec, "node") &&
	    !strcmp(json_str(rec, "node"), node) && is_run_process(pid, store_url(st), ws, run))
		kill(-(pid_t)pid, SIGKILL);
	was_final = run_status_final(json_str(rec, "status"));
	cJSON_Delete(rec);
	rc = life_lost(st, ws, run, "its executor died");
	/* failed as lost: its folder is kept as a failed run's */
	if (rc == 0 && !was_final)
		work_end_lost(ws, run);
	return rc < 0 ? -1 : rc;
}
