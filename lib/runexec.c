/* runexec.c: see runexec.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include "index.h"
#include "json.h"
#include "logpump.h"
#include "run.h"
#include "runexec.h"
#include "searchjob.h"
#include "tree.h"
#include "work.h"
#include "banned.h"

#define OUT_CHUNK ((size_t)256 << 10)

extern char **environ;

struct rx {
	struct store *st;
	const char *ws, *run, *node;
	cJSON *rec, *job;
	char *dir, *code, *outdir, *logpath;
	struct sbuf out;
	struct logpump lp;
	int outfd, logfd;
	double last_flush, last_save;
	int dirty;
	/* the start record, saved by a thread while the command runs */
	pthread_t saver;
	int saving, save_rc;
	struct store *st2;
	char *startline, err[1024];
	size_t startlen;
	int keep_work;	/* keep the folder at the end: an output was not captured */
};

static volatile sig_atomic_t cancel_req;
static volatile sig_atomic_t cancel_grace_ms = -1;

/* SIGTERM: stop the run. xt-runq kill -g sends the grace period along (sigqueue). */
static void
on_term(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si && si->si_code == SI_QUEUE && si->si_value.sival_int >= 0)
		cancel_grace_ms = si->si_value.sival_int;
	cancel_req = 1;
}

/* Wait for the start record's thread, if one is saving it. */
static void
save_wait(struct rx *x)
{
	if (!x->saving)
		return;
	pthread_join(x->saver, NULL);
	x->saving = 0;
	if (x->save_rc < 0)
		warnx("run %s: cannot save its record: %s", x->run, x->err);
	store_close(x->st2);
	x->st2 = NULL;
	free(x->startline);
	x->startline = NULL;
}

static void
save(struct rx *x, int index)
{
	int rc;

	/* one record at a time, the newest last */
	save_wait(x);
	rc = index ? run_save(x->st, x->rec) : run_save_quiet(x->st, x->rec);
	if (rc < 0)
		warnx("run %s: cannot save its record: %s", x->run, store_error(x->st));
	x->dirty = 0;
	x->last_save = time_mono();
}

/* The start record's thread: put run.json (durably), then append it to the index. */
static void *
save_start(void *arg)
{
	struct rx *x = arg;

	x->save_rc = run_save_line(x->st2, x->ws, x->run, x->startline, x->startlen);
	if (x->save_rc < 0)
		snprintf(x->err, sizeof(x->err), "%s", store_error(x->st2));
	return NULL;
}

/*
 * Save the start record while the command runs: a short run must not wait
 * for the disk twice. The thread has a store handle of its own; every later
 * save waits for it. Where no thread can be made, the record is saved here.
 */
static void
save_started(struct rx *x)
{
	sigset_t all, old;
	char err[256];

	x->last_save = time_mono();
	x->dirty = 0;
	if (!(x->st2 = store_open(store_url(x->st), err, sizeof(err)))) {
		save(x, 1);
		return;
	}
	x->startline = json_line(x->rec, &x->startlen);
	/* signals are for the main thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	x->saving = pthread_create(&x->saver, NULL, save_start, x) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!x->saving) {
		store_close(x->st2);
		x->st2 = NULL;
		free(x->startline);
		x->startline = NULL;
		save(x, 1);
	}
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

/* $XT_LOG: forward whole new lines into the store's log, folding them into the record. */
static void
pump_log(struct rx *x, int final)
{
	char buf[65536];
	ssize_t n;
	int rc;

	while ((n = read(x->logfd, buf, sizeof(buf))) > 0)
		x->dirty |= logpump_feed(&x->lp, x->rec, buf, (size_t)n) > 0;
	if (final)
		x->dirty |= logpump_end(&x->lp, x->rec) > 0;
	/* once when it starts failing, and at the end, when lines are lost */
	if ((rc = logpump_flush(&x->lp)) == -1 || (final && rc < 0))
		warnx("run %s: cannot save its log: %s", x->run, x->lp.err);
	/* the final pump is followed by the end record */
	if (x->dirty && !final && time_mono() - x->last_save > 1.0)
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

/* Set key to the exit status code, or to null when there was no exit (code < 0). */
static void
set_code(cJSON *o, const char *key, int code)
{
	if (code >= 0)
		json_set_num(o, key, code);
	else
		json_set(o, key, cJSON_CreateNull());
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
			set_code(d, "exit_code", status);
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
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Remove a folder tree (what is left of an earlier attempt). */
static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Record the end (or the retry) of the run. */
static enum runexec_result
finish(struct rx *x, const char *status, int code, const char *error, int64_t t0, int64_t t1)
{
	int attempt = (int)json_num(x->rec, "attempt", 1);
	int retries = (int)json_num(x->job, "retries", 0);
	cJSON *d = cJSON_CreateObject();
	char t[32];

	time_iso(t1, t, sizeof(t));
	json_set_str(x->rec, "ended", t);
	json_set_num(x->rec, "duration", (t1 - t0) / 1000.0);
	set_code(x->rec, "exit_code", code);
	if (error)
		json_set_str(x->rec, "error", error);
	cJSON_DeleteItemFromObjectCaseSensitive(x->rec, "pid");
	if (!strcmp(status, "failed") && attempt <= retries) {
		json_set_num(d, "attempt", attempt);
		set_code(d, "exit_code", code);
		event(x, "retry", d);
		json_set_str(x->rec, "status", "queued");
		cJSON_DeleteItemFromObjectCaseSensitive(x->rec, "ended");
		cJSON_DeleteItemFromObjectCaseSensitive(x->rec, "duration");
		save(x, 1);
		return RUNEXEC_RETRY;
	}
	json_set_str(d, "status", status);	/* first in the event, as in every "ended" */
	set_code(d, "exit_code", code);
	json_set_num(d, "duration", (t1 - t0) / 1000.0);
	save_wait(x);
	if (run_end(x->st, x->rec, status, d) < 0)
		warnx("run %s: cannot record its end: %s", x->run, store_error(x->st));
	return RUNEXEC_ENDED;
}

static int
prepare(struct rx *x)
{
	char *home = xt_home();
	char *man = xasprintf("ws/%s/jobs/%s/code.jsonl", x->ws, json_str(x->rec, "job"));
	int fd, rc = 0;

	x->dir = xasprintf("%s/work/%s/%s", home, x->ws, x->run);
	x->code = path_join(x->dir, "code");
	x->outdir = path_join(x->dir, "output");
	x->logpath = path_join(x->dir, "log.jsonl");
	work_begin(x->dir);
	rm_rf(x->dir);
	if (mkdir_p(x->code) < 0 || mkdir_p(x->outdir) < 0) {
		warnx("cannot create '%s':", x->dir);
		rc = -1;
	} else if (blob_restore_tree(x->st, man, x->code) < 0) {
		warnx("run %s: cannot restore its code: %s", x->run, store_error(x->st));
		rc = -1;
	} else if ((fd = open(x->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    close(fd) < 0 || (x->logfd = open(x->logpath, O_RDONLY | O_CLOEXEC)) < 0) {
		warnx("cannot create '%s':", x->logpath);
		rc = -1;
	}
	free(home);
	free(man);
	return rc;
}

static void
rx_release(struct rx *x)
{
	save_wait(x);
	cJSON_Delete(x->rec);
	cJSON_Delete(x->job);
	free(x->dir);
	free(x->code);
	free(x->outdir);
	free(x->logpath);
	sbuf_release(&x->out);
	logpump_release(&x->lp);
	if (x->logfd >= 0)
		close(x->logfd);
}

enum runexec_result
runexec(struct store *st, const char *ws, const char *run, const struct runexec_opts *o,
    int *exit_code)
{
	struct rx x;
	struct sigaction sa, old;
	char t[32], **argv = NULL, **env = NULL, buf[65536];
	const char *script, *status = "completed", *error = NULL;
	double max_min, deadline = 0, kill_at = 0;
	int64_t t0 = time_now_ms(), t1;
	int rc, wst = 0, code = -1, killed = 0, timed_out = 0, open_out = 1, pruned = 0;
	useconds_t quiet_us = 100;
	enum runexec_result res;
	struct searchjob_pruner pr;
	pid_t pid;

	memset(&x, 0, sizeof(x));
	x.st = st;
	x.ws = ws;
	x.run = run;
	x.node = o->node;
	x.logfd = -1;
	*exit_code = -1;
	sbuf_init(&x.out, OUT_CHUNK * 4);
	logpump_init(&x.lp, st, ws, run);
	if (!(x.rec = run_load(st, ws, run, &rc))) {
		warnx("%s", store_error(st));
		rx_release(&x);
		return RUNEXEC_ERROR;
	}
	if (run_status_final(json_str(x.rec, "status"))) {
		rx_release(&x);
		return RUNEXEC_ENDED;
	}
	if (!json_str(x.rec, "job") || !(x.job = run_job_load(st, ws, json_str(x.rec, "job")))) {
		warnx("run %s: its job record is missing", run);
		rx_release(&x);
		return RUNEXEC_ERROR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_term;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTERM, &sa, &old);
	cancel_req = 0;
	searchjob_pruner_init(&pr);

	json_set_str(x.rec, "status", "running");
	now_iso(t, sizeof(t));
	json_set_str(x.rec, "started", t);
	json_set_str(x.rec, "node", o->node);
	/* a record from before "given_hparams", starting: nothing is logged yet */
	if (json_num(x.rec, "attempt", 0) == 0 &&
	    !cJSON_GetObjectItemCaseSensitive(x.rec, "given_hparams") &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(x.rec, "hparams")))
		json_set(x.rec, "given_hparams",
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x.rec, "hparams"), 1));
	json_set_num(x.rec, "attempt", json_num(x.rec, "attempt", 0) + 1);
	cJSON_DeleteItemFromObjectCaseSensitive(x.rec, "ended");
	cJSON_DeleteItemFromObjectCaseSensitive(x.rec, "exit_code");
	cJSON_DeleteItemFromObjectCaseSensitive(x.rec, "error");
	if (prepare(&x) < 0) {
		res = finish(&x, "failed", -1, "the executor could not prepare the run", t0, time_now_ms());
		goto out;
	}
	if ((script = json_str(x.job, "parent_script")) && (rc = parent_script(&x, script)) != 0) {
		note_out(&x, "xt-runq: the parent script '%s' failed\n", script);
		flush_out(&x);
		res = finish(&x, "failed", rc < 0 ? -1 : rc, "the parent script failed", t0, time_now_ms());
		goto out;
	}
	if (searchjob_assign(st, ws, x.job, x.rec) < 0) {
		res = finish(&x, "failed", -1, "the job's search proposed no hparams", t0,
		    time_now_ms());
		goto out;
	}
	/* before the command starts, so that the parent cannot have ended */
	run_start_parent(st, ws, x.rec);
	argv = make_argv(&x);
	env = make_env(&x);
	t0 = time_now_ms();
	if ((pid = spawn(argv, env, x.code, &x.outfd)) < 0) {
		warnx("run %s: cannot start it:", run);
		res = finish(&x, "failed", -1, "the executor could not start it", t0, time_now_ms());
		goto out;
	}
	json_set_num(x.rec, "pid", pid);
	save_started(&x);
	event(&x, "started", NULL);
	max_min = json_num(x.job, "max_minutes", 0);
	if (max_min > 0)
		deadline = time_mono() + max_min * 60;
	x.last_flush = time_mono();

	for (;;) {
		struct pollfd pfd = { x.outfd, POLLIN, 0 };
		double now;

		if (open_out) {
			int pr = poll(&pfd, 1, 100);

			if (pr > 0) {
				ssize_t n = read(x.outfd, buf, sizeof(buf));

				if (n > 0) {
					if (sbuf_add(&x.out, buf, (size_t)n) < 0) {
						flush_out(&x);
						sbuf_add(&x.out, buf, (size_t)n);
					}
				} else if (n == 0 || errno != EINTR) {
					open_out = 0;
				}
			}
		} else {
			/* the console closed: the run is ending (soon reaped) or went quiet */
			usleep(quiet_us);
			if (quiet_us < 20000)
				quiet_us *= 2;
		}
		/* the run has ended: take what is left of its console, without waiting for
		 * anything it left behind that still holds the pipe. It is not reaped yet
		 * (WNOWAIT), so its process group cannot be reused before we kill it. */
		if (exited(pid)) {
			ssize_t n;

			fcntl(x.outfd, F_SETFL, O_NONBLOCK);
			while (open_out && (n = read(x.outfd, buf, sizeof(buf))) > 0)
				if (sbuf_add(&x.out, buf, (size_t)n) < 0) {
					flush_out(&x);
					sbuf_add(&x.out, buf, (size_t)n);
				}
			break;
		}
		now = time_mono();
		if (x.out.len >= OUT_CHUNK || (x.out.len && now - x.last_flush > 0.25))
			flush_out(&x);
		pump_log(&x, 0);
		if (!killed && searchjob_prune(st, ws, x.job, run, &pr)) {
			killed = pruned = 1;
			kill(-pid, SIGTERM);
			kill_at = now + o->grace;
		}
		if (cancel_req && !killed) {
			killed = 1;
			kill(-pid, SIGTERM);
			kill_at = now + (cancel_grace_ms >= 0 ? cancel_grace_ms / 1000.0 : o->grace);
		}
		if (deadline && now > deadline && !killed) {
			killed = timed_out = 1;
			note_out(&x, "\nxt-runq: time limit of %g minutes reached: stopping the run\n",
			    max_min);
			kill(-pid, SIGTERM);
			kill_at = now + o->grace;
		}
		if (killed && kill_at && now > kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
		}
	}
	/* the command is gone; anything it started in its group goes too, and
	 * only then is it reaped */
	kill(-pid, SIGKILL);
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	t1 = time_now_ms();
	if (o->ended)
		o->ended(o->arg);
	close(x.outfd);
	flush_out(&x);
	pump_log(&x, 1);
	code = shell_status(wst);
	*exit_code = code;
	capture(&x);
	if (timed_out) {
		status = "failed";
		error = "time limit";
	} else if (pruned) {
		status = "pruned";
	} else if (killed) {
		status = "cancelled";
	} else if (code != 0) {
		status = "failed";
	}
	if (!strcmp(status, "cancelled"))
		event(&x, "cancelled", NULL);
	res = finish(&x, status, code, error, t0, t1);
out:
	if (res == RUNEXEC_ENDED)
		work_end(x.dir, json_str(x.rec, "status"), x.keep_work);
	sigaction(SIGTERM, &old, NULL);
	searchjob_pruner_release(&pr);
	free_vec(argv);
	free_vec(env);
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

/* 1 when the last line of the run's log is its "ended" event. */
static int
log_ended(struct store *st, const char *ws, const char *run)
{
	char *p = run_path(ws, run, "log.jsonl");
	struct store_stat sst;
	struct sbuf sb;
	int ended = 0;

	sbuf_init(&sb, 1 << 16);
	if (store_stat(st, p, &sst) == 0 && store_get(st, p, sst.size > 4096 ? sst.size - 4096 : 0,
	    4096, &sb) == 0 && sb.len > 1) {
		const char *end = sb.buf + sb.len - 1, *l = end;
		cJSON *o;

		while (l > sb.buf && l[-1] != '\n')
			l--;
		o = cJSON_ParseWithLength(l, (size_t)(end - l));
		ended = json_str(o, "event") && !strcmp(json_str(o, "event"), "ended");
		cJSON_Delete(o);
	}
	sbuf_release(&sb);
	free(p);
	return ended;
}

/*
 * A run whose record has its end but whose executor died before it was
 * all recorded: append the record to the index if its latest line there
 * is not the end, log "ended", and count it in its parent (each of these
 * once, however often it is recovered).
 */
static int
end_again(struct store *st, const char *ws, const char *run, const cJSON *rec)
{
	char last[32];
	int rc = 0;

	if (!log_ended(st, ws, run)) {
		cJSON *d = cJSON_CreateObject();
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(rec, "exit_code");

		if ((rc = index_last_status(st, ws, run, last, sizeof(last))) == 0 &&
		    !run_status_final(last)) {
			size_t len;
			char *line = json_line(rec, &len);

			rc = index_append(st, ws, line, len);
			free(line);
		}
		json_set_str(d, "status", json_str(rec, "status"));
		json_set(d, "exit_code", code ? cJSON_Duplicate(code, 1) : cJSON_CreateNull());
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec, "duration")))
			json_set_num(d, "duration", json_num(rec, "duration", 0));
		if (rc == 0)
			rc = run_event(st, ws, run, "ended", -1, d);
		else
			cJSON_Delete(d);
	}
	if (rc == 0)
		run_settle_parent(st, ws, rec);
	return rc;
}

int
runexec_recover(struct store *st, const char *ws, const char *run, const char *node)
{
	int rc, attempt, retries = 0;
	cJSON *rec = run_load(st, ws, run, &rc), *job, *d;
	const char *status;
	long pid;

	if (!rec)
		return rc == STORE_ENOENT ? 0 : -1;
	status = json_str(rec, "status");
	if (run_status_final(status)) {
		rc = end_again(st, ws, run, rec) < 0 ? -1 : 0;
		cJSON_Delete(rec);
		return rc;
	}
	pid = (long)json_num(rec, "pid", 0);
	if (pid > 0 && json_str(rec, "node") && !strcmp(json_str(rec, "node"), node) &&
	    is_run_process(pid, store_url(st), ws, run))
		kill(-(pid_t)pid, SIGKILL);
	if (status && !strcmp(status, "queued")) {
		cJSON_Delete(rec);
		return 1;
	}
	job = json_str(rec, "job") ? run_job_load(st, ws, json_str(rec, "job")) : NULL;
	retries = (int)json_num(job, "retries", 0);
	attempt = (int)json_num(rec, "attempt", 1);
	cJSON_Delete(job);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "pid");
	d = cJSON_CreateObject();
	json_set_num(d, "attempt", attempt);
	json_set_str(d, "reason", "its executor died");
	if (attempt <= retries) {
		json_set_str(rec, "status", "queued");
		run_event(st, ws, run, "retry", -1, d);
		rc = run_save(st, rec) < 0 ? -1 : 1;
	} else {
		json_set_str(rec, "error", "lost: its executor died");
		set_code(rec, "exit_code", -1);
		rc = run_end(st, rec, "failed", d) < 0 ? -1 : 0;
		work_end_lost(ws, run);
	}
	cJSON_Delete(rec);
	return rc;
}
