/* runexec.c: see runexec.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

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
/* the most processes of one run on one node, and the longest line a rank's console holds back */
#define RANKS_MAX 1024
#define RANK_LINE ((size_t)128 << 10)
/* the torchrun variables, XT_RANK and the terminating NULL that launch_node adds */
#define RANK_VARS 9

/* One process of the run (a rank; a run of one process has rank 0 only). */
struct rank {
	pid_t pid;
	int fd, done, wst;	/* its console's pipe (-1 once closed); exited; its wait status */
	struct sbuf part;	/* several ranks: the start of a line of its console not ended yet */
};

struct rx {
	struct store *st;
	const char *ws, *run, *node;
	const struct runexec_opts *o;
	struct life l;		/* the record (l.rec) and the job (l.job) */
	cJSON *rec;		/* l.rec, as it is now (sync_rec) */
	const cJSON *job;	/* l.job */
	char *dir, *code, *outdir, *logpath;
	char *man, *tag;	/* the job's code manifest; whose code it is (work_prep) */
	struct sbuf out;
	struct logpump lp;
	int keep_work;	/* keep the folder at the end: an output was not captured */
	int logfd;
	double last_flush, last_save, last_index, last_log;
	int dirty, unindexed;	/* unindexed: saved progress the index lacks */
	/* the attempt */
	int64_t t0, t1;
	pid_t pid;		/* rank 0's: the process group of every rank */
	struct rank *rk;	/* nproc ranks */
	struct pollfd *pfd;	/* their consoles, fd -1 once closed */
	int nproc, nopen, ndone;
	int failed_rank;	/* 1 + the rank (of x->rk) whose failure stopped the others, or 0 */
	/* a run over several nodes (runexec_opts): this node's rank, and their number (1: one node) */
	int node_rank, nnodes;
	/* node 0's: another node's failure (far_error[0] '\0': none), its rank (or -1), its status */
	char far_error[256];
	int far_rank, far_code;
	int killed, timed_out, pruned;
	int start_due;		/* the start is not recorded yet (START_DEFER) */
	double deadline, kill_at, max_min, start_at;
	struct searchjob_pruner pr;
};

static volatile sig_atomic_t cancel_req;
static volatile sig_atomic_t cancel_grace_ms = -1;
static const char *volatile cancel_why;
static volatile sig_atomic_t cancel_plain;	/* by a plain signal: no xt-runq value with it */
static volatile unsigned cancel_token;	/* the run's (runexec_opts.token) */
static volatile sig_atomic_t between_runs;	/* after a run, before the next */

/* A pointer wide enough for a value and a token: the token in its upper 32 bits. */
#if UINTPTR_MAX > 0xffffffffu
#define SIGVAL_TOKEN 1
#else
#define SIGVAL_TOKEN 0
#endif

union sigval
runexec_sigval(int v, unsigned token)
{
	union sigval sv;

	memset(&sv, 0, sizeof(sv));
#if SIGVAL_TOKEN
	sv.sival_ptr = (void *)(((uintptr_t)token << 32) | (uint32_t)v);
#else
	(void)token;
	sv.sival_int = v;
#endif
	return sv;
}

/* The value and the token of runexec_sigval. */
static int
sigval_split(union sigval sv, unsigned *token)
{
#if SIGVAL_TOKEN
	uintptr_t u = (uintptr_t)sv.sival_ptr;

	*token = (unsigned)(u >> 32);
	return (int)(uint32_t)u;
#else
	*token = 0;
	return sv.sival_int;
#endif
}

/*
 * SIGTERM, SIGINT: stop the run. xt-runq kill sends the grace period along
 * (sigqueue, -1: the executor's own); xt-runq passes on a signal it got as
 * RUNEXEC_SIG_STOP - signal number. A kill of another queue entry's run
 * (one this process ran before) is not for this one.
 */
static void
on_term(int sig, siginfo_t *si, void *uc)
{
	int q = si && si->si_code == SI_QUEUE, v = 0;
	unsigned token = 0;

	(void)uc;
	if (q) {
		v = sigval_split(si->si_value, &token);
		/* a kill of a run that has ended, or of another */
		if (token && (between_runs || (cancel_token && token != cancel_token)))
			return;
	}
	/* the signal that xt-runq got, passed on, says the same as when it comes here too */
	if (q && v <= RUNEXEC_SIG_STOP)
		sig = RUNEXEC_SIG_STOP - v;
	else if (q && sig == SIGTERM && !cancel_why)
		cancel_why = "killed with xt-runq kill";
	if (!cancel_why) {
		cancel_why = sig == SIGINT ? "interrupted (SIGINT)" : "interrupted (SIGTERM)";
		cancel_plain = !q;
	}
	if (q && v >= 0)
		cancel_grace_ms = v;
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

/*
 * The run's environment: ours minus any XT_* of an outer run, plus its
 * own, with room for RANK_VARS more at its end. *np (when not NULL) gets
 * how many there are, *logi the index of XT_LOG. Caller frees (free_vec).
 */
static char **
make_env(struct rx *x, size_t *np, size_t *logi)
{
	size_t n = 0, i;
	char **env, *hp;
	const cJSON *hpj = run_given_hparams(x->rec);

	for (i = 0; environ[i]; i++)
		n++;
	env = xcalloc(n + 16 + RANK_VARS, sizeof(*env));
	n = 0;
	for (i = 0; environ[i]; i++)
		if ((strncmp(environ[i], "XT_", 3) != 0 || !strncmp(environ[i], "XT_HOME=", 8)) &&
		    (!x->o->gpus || strncmp(environ[i], "CUDA_VISIBLE_DEVICES=", 21) != 0))
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
	if (logi)
		*logi = n;
	env[n++] = xasprintf("XT_LOG=%s", x->logpath);
	env[n++] = xasprintf("XT_HPARAMS=%s", hp);
	env[n++] = xasprintf("XT_ATTEMPT=%d", (int)json_num(x->rec, "attempt", 1));
	if (x->o->gpus)
		env[n++] = xasprintf("CUDA_VISIBLE_DEVICES=%s", x->o->gpus);
	env[n] = NULL;
	if (np)
		*np = n;
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
spawn_child(char **argv, char **env, const char *dir, pid_t pgid, int out, int nul,
    const sigset_t *mask)
{
	struct sigaction sa;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	setpgid(0, pgid);
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

/*
 * Start argv in dir with env, its console on a pipe. Returns the pid, in
 * process group pgid (0: a group of its own).
 */
static pid_t
spawn(char **argv, char **env, const char *dir, pid_t pgid, int *outfd)
{
	int p[2], nul;
	pid_t pid;
	volatile pid_t group = pgid;	/* read again after vfork, so not in a register */
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
		spawn_child(argv, env, dir, group, p[1], nul, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (nul >= 0)
		close(nul);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	setpgid(pid, group ? group : pid);
	*outfd = p[0];
	return pid;
}

/*
 * True when pid has exited, with its status in the shell's form in *code;
 * it stays a zombie (not reaped) until waitpid.
 */
static int
exited(pid_t pid, int *code)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != pid)
		return 0;
	*code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	return 1;
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
		char *argv[] = { "/bin/sh", (char *)script, NULL }, **env = make_env(x, NULL, NULL);
		char *p = xasprintf("ws/%s/jobs/%s/parent-%s.txt", x->ws, job, x->node), buf[65536];
		int ofd, st;
		pid_t pid = spawn(argv, env, x->code, 0, &ofd);
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

	/* on a machine that is several nodes of a run, each has its own */
	if (x->node_rank)
		x->dir = xasprintf("%s/work/%s/%s-node%d", home, x->ws, x->run, x->node_rank);
	else
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
	int i;

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
	for (i = 0; x->rk && i < x->nproc; i++) {
		if (x->rk[i].fd >= 0)
			close(x->rk[i].fd);
		sbuf_release(&x->rk[i].part);
	}
	free(x->rk);
	free(x->pfd);
}

static void
progress(struct rx *x, const char *what, double secs)
{
	if (x->o->progress)
		x->o->progress(x->o->arg, what, x->rec, x->job, secs);
}

/* The name of node k's node-K.json in the run's folder. Caller frees. */
static char *
node_path(struct rx *x, int k)
{
	char name[32];

	snprintf(name, sizeof(name), "node-%d.json", k);
	return run_path(x->ws, x->run, name);
}

/*
 * Another node than 0 has ended its part of the attempt: how (its ranks'
 * status in the shell's form, the error when one failed or none could
 * start, the global rank that failed or -1) into its node-K.json, for node
 * 0's executor (runexec_opts).
 */
static void
node_done(struct rx *x, int code, const char *error, int rank)
{
	cJSON *d = cJSON_CreateObject();
	char *p = node_path(x, x->node_rank), *line;

	json_set_num(d, "attempt", json_num(x->rec, "attempt", 1));
	life_set_code(d, "exit_code", code);
	if (error)
		json_set_str(d, "error", error);
	if (rank >= 0)
		json_set_num(d, "rank", rank);
	line = json_line(d, NULL);
	if (store_put(x->st, p, line, strlen(line)) < 0)
		warnx("run %s: node %d cannot say how its ranks ended: %s", x->run, x->node_rank,
		    store_error(x->st));
	free(line);
	free(p);
	cJSON_Delete(d);
}

/*
 * Record the end of the attempt (retry-or-fail is life_end's): RUNEXEC_ENDED
 * or RUNEXEC_RETRY. Another node than 0 records nothing: it tells node 0.
 */
static enum runexec_result
end_attempt(struct rx *x, const char *status, int code, const char *error, const char *reason)
{
	int r;

	if (x->node_rank) {
		char why[256];

		snprintf(why, sizeof(why), "node %d: %s", x->node_rank, error ? error : status);
		node_done(x, code, why, -1);
		return RUNEXEC_ENDED;
	}
	if (!x->t1)
		x->t1 = time_now_ms();
	record_start(x, LIFE_NOSAVE);
	r = life_end(&x->l, status, code, error, reason, x->t0, x->t1);
	sync_rec(x);
	if (r < 0) {
		/* how it ended is said here only: not a completion */
		warnx("run %s: cannot record its end: %s", x->run, store_error(x->st));
		progress(x, "unrecorded", (x->t1 - x->t0) / 1000.0);
		return RUNEXEC_ENDED;
	}
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

/* A TCP port of 127.0.0.1 free now, for the ranks' rendezvous; -1 when none could be had. */
static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/*
 * The launcher seam: start the nprocs ranks of node node_rank of nnodes
 * (global ranks node_rank * nprocs + 0 .. nprocs - 1) of the command argv,
 * each with env (nenv entries, room for RANK_VARS more; env[logi] is its
 * XT_LOG) and torchrun's variables naming the rendezvous addr:port, and
 * XT_RANK. With addr NULL (a run of one process that asked for no size)
 * no variable is added. Only rank 0 logs the run's metrics: the others'
 * XT_LOG is /dev/null. Every rank is in the process group of the node's
 * first (x->pid), so that one kill stops them all; x->rk[] gets their
 * pids and consoles. 0, or -1 when one could not be started (those
 * started are left running, for the caller to stop). env is as it was.
 *
 * On Slurm, one executor a node (srun --ntasks-per-node=1 xt-runq exec
 * ..., target_slurm.c) calls it with its runexec_opts' node_rank
 * ($SLURM_NODEID), nnodes ($SLURM_NNODES), addr (the first node's) and a
 * port the batch script picked on the first node (from $SLURM_JOB_ID, the
 * first free one from there) for every node.
 */
static int
launch_node(struct rx *x, char **argv, char **env, size_t nenv, size_t logi, int node_rank,
    int nnodes, int nprocs, const char *addr, int port)
{
	char *log = env[logi], nolog[] = "XT_LOG=/dev/null";
	int i, rc = 0;
	size_t k;

	for (i = 0; i < nprocs && rc == 0; i++) {
		struct rank *r = &x->rk[i];
		int rank = node_rank * nprocs + i;

		k = nenv;
		if (addr) {
			env[k++] = xasprintf("MASTER_ADDR=%s", addr);
			env[k++] = xasprintf("MASTER_PORT=%d", port);
			env[k++] = xasprintf("WORLD_SIZE=%d", nnodes * nprocs);
			env[k++] = xasprintf("RANK=%d", rank);
			env[k++] = xasprintf("LOCAL_RANK=%d", i);
			env[k++] = xasprintf("LOCAL_WORLD_SIZE=%d", nprocs);
			env[k++] = xasprintf("NODE_RANK=%d", node_rank);
			env[k++] = xasprintf("XT_RANK=%d", rank);
		}
		env[k] = NULL;
		env[logi] = rank ? nolog : log;
		r->pid = spawn(argv, env, x->code, i ? x->pid : 0, &r->fd);
		while (k > nenv)
			free(env[--k]);
		env[nenv] = NULL;
		if (r->pid < 0) {
			r->fd = -1;
			rc = -1;
			break;
		}
		if (!i)
			x->pid = r->pid;
		x->pfd[i].fd = r->fd;
		x->pfd[i].events = POLLIN;
		x->nopen++;
	}
	env[logi] = log;
	return rc;
}

/*
 * Start the run's processes: nodes x procs_per_node of them (absent: 1);
 * this executor starts those of one node. 0, or -1 with the message in
 * why (nothing is left running).
 */
static int
launch(struct rx *x, char **argv, char **env, size_t nenv, size_t logi, const char **why)
{
	const cJSON *nn = cJSON_GetObjectItemCaseSensitive(x->rec, "nodes");
	const cJSON *np = cJSON_GetObjectItemCaseSensitive(x->rec, "procs_per_node");
	double nodes = json_num(x->rec, "nodes", 1), procs = json_num(x->rec, "procs_per_node", 1);
	int port = 0, i, rc;
	const char *addr = nn || np ? "127.0.0.1" : NULL;

	if (nodes != 1 && nodes != x->nnodes) {
		*why = "a run of several nodes needs a target that places them";
		return -1;
	}
	if (x->o->gpus_short) {
		*why = "it asks for more GPUs than the pool of this machine has";
		return -1;
	}
	if (!(procs >= 1 && procs <= RANKS_MAX)) {
		*why = "its procs_per_node is out of range";
		return -1;
	}
	x->nproc = (int)procs;
	x->rk = xcalloc((size_t)x->nproc, sizeof(*x->rk));
	x->pfd = xcalloc((size_t)x->nproc, sizeof(*x->pfd));
	for (i = 0; i < x->nproc; i++) {
		x->rk[i].fd = x->pfd[i].fd = -1;
		sbuf_init(&x->rk[i].part, RANK_LINE);
	}
	/* the torchrun variables for a run that gave a size, even 1 x 1; over
	 * several nodes, where the scheduler's placement says */
	if (x->nnodes > 1) {
		addr = x->o->addr;
		port = x->o->port;
	} else if (addr && (port = free_port()) < 0) {
		*why = "the executor found no free port for the ranks";
		return -1;
	}
	rc = launch_node(x, argv, env, nenv, logi, x->node_rank, x->nnodes, x->nproc, addr, port);
	if (rc < 0) {
		*why = "the executor could not start it";
		if (x->pid > 0)
			kill(-x->pid, SIGKILL);
		for (i = 0; i < x->nproc; i++)
			if (x->rk[i].pid > 0)
				while (waitpid(x->rk[i].pid, &x->rk[i].wst, 0) < 0 && errno == EINTR)
					;
	}
	return rc;
}

/*
 * Start the attempt: its folder, its parent script, its hparams from the
 * job's search, then its command. 0 when it runs; else the result to
 * return (its end is recorded, or it was interrupted before it started).
 */
static int
start(struct rx *x, enum runexec_result *res)
{
	const char *script, *why = NULL;
	char **argv, **env, t[32];
	int attempt, rc;
	size_t nenv, logi;

	x->nnodes = 1;
	x->far_rank = -1;
	if (json_num(x->rec, "nodes", 1) > 1 && json_num(x->rec, "nodes", 1) == x->o->nnodes) {
		x->nnodes = x->o->nnodes;
		x->node_rank = x->o->node_rank;
	}
	if (x->node_rank) {
		/* another node's executor records nothing: the attempt is node 0's,
		 * begun (running) or about to be (queued) */
		if (strcmp(json_str(x->rec, "status") ? json_str(x->rec, "status") : "", "running"))
			json_set_num(x->rec, "attempt", json_num(x->rec, "attempt", 0) + 1);
	} else {
		life_begin(&x->l, x->node);
		sync_rec(x);
	}
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
	/* node 0's hparams are the run's (another node's executor has those of
	 * the record it loaded) */
	if (!x->node_rank && searchjob_assign(x->st, x->ws, x->job, x->rec) < 0) {
		*res = end_attempt(x, "failed", -1, "the job's search proposed no hparams", NULL);
		return -1;
	}
	/* interrupted before its command started: it stays queued, as it was */
	if (cancel_req) {
		*res = RUNEXEC_NOTSTARTED;
		return -1;
	}
	argv = make_argv(x);
	env = make_env(x, &nenv, &logi);
	x->t0 = time_now_ms();
	rc = launch(x, argv, env, nenv, logi, &why);
	free_vec(argv);
	free_vec(env);
	if (rc < 0) {
		warnx("run %s: cannot start it: %s", x->run, why);
		*res = end_attempt(x, "failed", -1, why, NULL);
		return -1;
	}
	/* the start is recorded once the command has run START_DEFER (or logs
	 * a value first): a command that ends sooner, as many in a sweep of
	 * small runs do, has only its end recorded, one record write instead of
	 * two. An executor that dies before leaves its run queued (run again,
	 * as one that died before its command began). */
	flush_out(x);
	x->start_due = !x->node_rank;
	x->start_at = time_mono();
	if (!x->node_rank)
		progress(x, "started", 0);
	x->max_min = json_num(x->job, "max_minutes", 0);
	if (x->max_min > 0)
		x->deadline = time_mono() + x->max_min * 60;
	x->last_flush = x->last_index = x->last_log = time_mono();
	return 0;
}


/* Add console bytes to what goes to the store. */
static void
out_add(struct rx *x, const char *buf, size_t n)
{
	if (sbuf_add(&x->out, buf, n) < 0) {
		flush_out(x);
		sbuf_add(&x->out, buf, n);
	}
}

/* Rank r's line so far into the console, after its label (as srun --label's "R: "). */
static void
rank_line(struct rx *x, struct rank *r)
{
	char label[16];

	snprintf(label, sizeof(label), "%d: ", x->node_rank * x->nproc + (int)(r - x->rk));
	out_add(x, label, strlen(label));
	out_add(x, r->part.buf, r->part.len);
	if (!r->part.len || r->part.buf[r->part.len - 1] != '\n')
		out_add(x, "\n", 1);
	sbuf_reset(&r->part);
}

/*
 * What rank r wrote: each line labelled. A line is held back until it
 * ends, or until RANK_LINE bytes of it came (then it is cut there).
 */
static void
rank_out(struct rx *x, struct rank *r, const char *buf, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl ? (size_t)(nl - buf) + 1 : n;

		if (sbuf_add(&r->part, buf, len) < 0) {
			rank_line(x, r);
			sbuf_add(&r->part, buf, len);	/* len <= the read's 64 KiB < RANK_LINE */
		}
		if (nl)
			rank_line(x, r);
		buf += len;
		n -= len;
	}
}

/*
 * Take what rank r wrote to its console (one read). 0 when there is no
 * more: its end, or (final, its pipe not blocking) nothing left now.
 */
static int
read_rank(struct rx *x, struct rank *r, int final)
{
	char buf[65536];
	ssize_t n = read(r->fd, buf, sizeof(buf));

	if (n > 0) {
		if (x->nproc * x->nnodes > 1)
			rank_out(x, r, buf, (size_t)n);
		else
			out_add(x, buf, (size_t)n);
		return 1;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN) && !final)
		return 1;
	x->pfd[r - x->rk].fd = -1;
	x->nopen--;
	return 0;
}

/* Take what the ranks wrote to their consoles, waiting up to 100 ms for some. */
static void
read_out(struct rx *x)
{
	int i;

	if (poll(x->pfd, (nfds_t)x->nproc, 100) <= 0)
		return;
	for (i = 0; i < x->nproc; i++)
		if (x->pfd[i].fd >= 0 && x->pfd[i].revents)
			read_rank(x, &x->rk[i], 0);
}

/* Stop the command: TERM to its group (every rank) now, KILL after grace seconds. */
static void
stop(struct rx *x, double now, double grace)
{
	x->killed = 1;
	kill(-x->pid, SIGTERM);
	x->kill_at = now + grace;
}

/*
 * Note the ranks that have exited (not reaped: their pids, and the group,
 * stay theirs). The first of several to fail, unless they are being stopped
 * already, stops the others. True when every rank has exited.
 */
static int
ranks_exited(struct rx *x)
{
	int i, code;

	for (i = 0; i < x->nproc; i++) {
		struct rank *r = &x->rk[i];

		if (r->done || !exited(r->pid, &code))
			continue;
		r->done = 1;
		x->ndone++;
		/* not when the ranks are being stopped: by us, or (a scheduler
		 * signals every process of a job) with us */
		if (x->nproc * x->nnodes > 1 && code != 0 && !x->killed && !cancel_req) {
			x->failed_rank = i + 1;
			note_out(x, "xt-runq: rank %d %s %d: stopping the other ranks\n",
			    x->node_rank * x->nproc + i,
			    code > 128 ? "was killed by signal" : "exited with",
			    code > 128 ? code - 128 : code);
			stop(x, time_mono(), x->o->grace);
		}
	}
	return x->ndone == x->nproc;
}

/* Watch the command until it exits: its console, its log, its time limit, pruning, a cancel. */
static void
watch(struct rx *x)
{
	useconds_t quiet_us = 100;
	int i;

	for (;;) {
		double now;

		if (x->nopen) {
			read_out(x);
		} else {
			/* the console closed: the run is ending (soon reaped) or went quiet */
			usleep(quiet_us);
			if (quiet_us < 20000)
				quiet_us *= 2;
		}
		/* the run has ended: take what is left of its console, without waiting for
		 * anything it left behind that still holds the pipe. It is not reaped yet
		 * (WNOWAIT), so its process group cannot be reused before we kill it. */
		if (ranks_exited(x)) {
			for (i = 0; i < x->nproc; i++) {
				if (x->pfd[i].fd < 0)
					continue;
				fcntl(x->rk[i].fd, F_SETFL, O_NONBLOCK);
				while (read_rank(x, &x->rk[i], 1))
					;
			}
			break;
		}
		now = time_mono();
		if (x->start_due && now - x->start_at >= START_DEFER)
			record_start(x, LIFE_SAVE);
		if (x->out.len >= OUT_CHUNK || (x->out.len && now - x->last_flush > FLUSH_EVERY))
			flush_out(x);
		/* another node than 0: no log (its ranks' XT_LOG is /dev/null), no
		 * record, node 0's executor prunes */
		if (!x->node_rank)
			pump_log(x, 0, searchjob_prune_due(&x->pr));
		if (x->unindexed && now - x->last_index >= INDEX_EVERY)
			save(x, 1);
		if (!x->killed && !x->node_rank &&
		    searchjob_prune(x->st, x->ws, x->job, x->run, &x->pr)) {
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
	for (i = 0; i < x->nproc; i++)
		while (waitpid(x->rk[i].pid, &x->rk[i].wst, 0) < 0 && errno == EINTR)
			;
	x->t1 = time_now_ms();
}

/*
 * Node 0 of a run over several nodes, its ranks ended: how the other
 * nodes' ended (their node-K.json of this attempt). While the run went
 * well (no rank here failed, nothing stopped it) it waits for every one,
 * polling the store, until the time limit or a cancel (srun's, when
 * another node's failure ended that node's executor); then, or else at
 * once, it takes those that are there. The first failure of another node
 * (a rank that failed, or its ranks could not start) goes into far_*.
 */
static void
wait_nodes(struct rx *x)
{
	char *seen = xcalloc((size_t)x->nnodes, 1);
	int left = x->nnodes - 1, last = 0, k;
	double attempt = json_num(x->rec, "attempt", 1);

	for (;;) {
		if (x->killed || x->failed_rank || cancel_req ||
		    (x->deadline && time_mono() > x->deadline))
			last = 1;
		for (k = 1; k < x->nnodes; k++) {
			char *p;
			struct sbuf sb;
			cJSON *d;

			if (seen[k])
				continue;
			p = node_path(x, k);
			sbuf_init(&sb, 1 << 16);
			if (store_get(x->st, p, 0, -1, &sb) == 0 && sbuf_addc(&sb, '\0') == 0 &&
			    (d = cJSON_Parse(sb.buf)) != NULL) {
				if (json_num(d, "attempt", 0) == attempt) {
					seen[k] = 1;
					left--;
					if (json_str(d, "error") && !x->far_error[0]) {
						snprintf(x->far_error, sizeof(x->far_error), "%s",
						    json_str(d, "error"));
						x->far_rank = (int)json_num(d, "rank", -1);
						x->far_code = (int)json_num(d, "exit_code", -1);
					}
				}
				cJSON_Delete(d);
			}
			sbuf_release(&sb);
			free(p);
		}
		if (!left || last)
			break;
		usleep(200000);
	}
	free(seen);
}

/* The command has exited: take the rest of its console and log, capture its outputs, record its end. */
static enum runexec_result
end(struct rx *x, int *exit_code)
{
	const char *status = "completed", *error = NULL, *reason = NULL;
	char why[256];
	int code, i;

	/* the next point of a learning search waits for this run's end (searchjob_learns) */
	if (x->o->ended && !searchjob_learns(x->job))
		x->o->ended(x->o->arg);
	for (i = 0; i < x->nproc; i++) {
		if (x->rk[i].part.len)
			rank_line(x, &x->rk[i]);
		close(x->rk[i].fd);
		x->rk[i].fd = -1;
	}
	flush_out(x);
	/* the node's status is that of its first rank, or of the rank that failed */
	code = shell_status(x->rk[x->failed_rank ? x->failed_rank - 1 : 0].wst);
	*exit_code = code;
	if (x->node_rank) {
		/* a failure while the ranks were being stopped is not one */
		if (x->failed_rank && !cancel_req) {
			snprintf(why, sizeof(why), "rank %d %s %d", x->node_rank * x->nproc +
			    x->failed_rank - 1, code > 128 ? "was killed by signal" : "exited with",
			    code > 128 ? code - 128 : code);
			node_done(x, code, why, x->node_rank * x->nproc + x->failed_rank - 1);
		} else {
			node_done(x, code, NULL, -1);
		}
		return RUNEXEC_ENDED;
	}
	if (x->nnodes > 1) {
		wait_nodes(x);
		x->t1 = time_now_ms();
	}
	pump_log(x, 1, 1);
	/* a failure here while being stopped is not one; another node's is */
	if (x->far_error[0] && !(x->failed_rank && !cancel_req))
		code = *exit_code = x->far_code;
	capture(x);
	if (x->timed_out) {
		status = "failed";
		error = "time limit";
	} else if (x->pruned) {
		status = "pruned";
	} else if (code > 128 && !cancel_req && (!x->killed || x->failed_rank) &&
	    x->o->stopped && x->o->stopped(x->st, x->ws, x->run, &status, why, sizeof(why)) == 0) {
		/* the command, or a rank here or on another node, was killed by its
		 * scheduler's signal before (or without) ours: the scheduler's stop;
		 * also when that rank's death had us stop the others (killed) */
		if (!strcmp(status, "requeued") || !strcmp(status, "cancelled"))
			reason = why;
		else
			error = why;
	} else if (x->failed_rank && !cancel_req) {
		cJSON *d = cJSON_CreateObject();

		status = "failed";
		snprintf(why, sizeof(why), "rank %d %s %d", x->failed_rank - 1,
		    code > 128 ? "was killed by signal" : "exited with", code > 128 ? code - 128 : code);
		error = why;
		json_set_num(d, "rank", x->failed_rank - 1);
		json_set_num(d, "exit_code", code);
		if (code > 128)
			json_set_num(d, "signal", code - 128);
		json_set_str(d, "error", why);
		event(x, "rank_failed", d);
	} else if (x->far_error[0]) {
		/* another node's rank failed first (its executor then got ours
		 * stopped, by srun), or its ranks could not start */
		status = "failed";
		error = x->far_error;
		if (x->far_rank >= 0) {
			cJSON *d = cJSON_CreateObject();

			json_set_num(d, "rank", x->far_rank);
			life_set_code(d, "exit_code", code);
			if (code > 128)
				json_set_num(d, "signal", code - 128);
			json_set_str(d, "error", error);
			event(x, "rank_failed", d);
		}
	} else if (x->killed || (cancel_req && code != 0)) {
		/* stopped by us, or by the same signal as we were (a scheduler
		 * signals every process of a job) */
		status = "cancelled";
		reason = cancel_why;
		if (cancel_plain && x->o->stopped && x->o->stopped(x->st, x->ws, x->run, &status, why,
		    sizeof(why)) >= 0) {
			if (!strcmp(status, "requeued")) {
				reason = why;	/* life_end queues it again */
			} else if (strcmp(status, "cancelled")) {
				error = why;
				reason = NULL;
			} else {
				reason = why;
			}
		}
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

/*
 * The run is over: a cancel of it that came is forgotten, and until the
 * next run a kill that names a run is not for it. A stop that names none
 * (Ctrl-C, xt-runq's own) still counts for the next.
 */
static void
forget_cancel(void)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);
	between_runs = 1;
	cancel_req = 0;
	cancel_grace_ms = -1;
	cancel_why = NULL;
	cancel_plain = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
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
	*exit_code = -1;
	sbuf_init(&x.out, OUT_CHUNK * 4);
	logpump_init(&x.lp, st, ws, run);
	searchjob_pruner_init(&x.pr);
	cancel_token = o->token;
	between_runs = 0;
	catch_signals();
	if (load(&x, &res) == 0 && start(&x, &res) == 0) {
		watch(&x);
		res = end(&x, exit_code);
	}
	if (res == RUNEXEC_ENDED && x.dir) {
		/* its folder, if a spare, gets its job's code: the next run may be of it too */
		struct work_prep prep = { x.tag, fill_code, &x };

		/* read to its end: closed first, so that only a process the run left
		 * behind can keep its log.jsonl from being a spare's (work.h) */
		if (x.logfd >= 0)
			close(x.logfd);
		x.logfd = -1;
		/* another node than 0: the record is not its to end */
		if (x.node_rank)
			work_end(x.dir, *exit_code == 0 ? "completed" : "failed", x.keep_work, NULL);
		else
			work_end(x.dir, json_str(x.rec, "status"), x.keep_work, x.tag ? &prep : NULL);
	}
	rx_release(&x);
	forget_cancel();
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
