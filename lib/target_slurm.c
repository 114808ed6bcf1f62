/*
 * target_slurm.c: the slurm target. A job's runs go to the cluster's
 * scheduler as array jobs, each task the run of its index:
 *
 *   sbatch --array=LIST%C --job-name=jobN --comment=xt:STORE:WS:jobN ...
 *       exec BIN/xt-runq -s URL -w WS exec --job jobN --task $((SLURM_ARRAY_TASK_ID + OFF))
 *
 * C is max-runs. An array's indices stay below the cluster's MaxArraySize
 * (scontrol show config), so a bigger job is cut into as few arrays as
 * that allows, task = index + OFF, each array after the one before it
 * (--dependency=afterany), which keeps at most C of the job's runs
 * running at once. Before the job is stored, its options are tried with
 * sbatch --test-only, so a bad partition, account or time fails the
 * submit with Slurm's own words, and nothing is left of it. A pass holds
 * an hour for the same options (kept beside the status cache), so the
 * submits after the first ask Slurm once; if Slurm then refuses the
 * sbatch, the options are tried again, and runs it now refuses fail
 * (life_refused) rather than wait to be sent again.
 *
 * A run over nodes N > 1 (of P ranks each) is a task of --nodes=N
 * --ntasks-per-node=P whose script, on the first node, sets where the
 * ranks meet (XT_MASTER_ADDR, XT_MASTER_PORT) and starts the executor
 * once a node with srun --ntasks-per-node=1 --kill-on-bad-exit in the
 * background; a SIGTERM of the script (xt-runq kill) goes on to the
 * executors (target_slurm_place, runexec_opts).
 *
 * Each sbatch is recorded in the store, one line appended to
 * ws/<ws>/jobs/<job>/slurm.jsonl: {"array":ID,"offset":OFF,"tasks":"LIST",
 * "at":MS}. A task's latest line says which array holds it now (a run
 * retried after its task died is sent again alone, in a new array).
 *
 * Status: one `squeue -r -t all` of the user's jobs, kept in a file under
 * $XT_HOME/cache/slurm ("MS SNAP_FORM" and squeue's lines: a file of
 * another form is taken as stale) shared by every xt process of the user and taken
 * again only when older than poll-interval (default 30 s), under a lock,
 * so that the scheduler is asked once an interval however many runs and
 * processes look; and for tasks squeue no longer shows (it keeps ended
 * jobs for MinJobAge, 300 s by default), one `sacct` of their arrays by
 * the poll that finds them gone, which settles their runs (so they are
 * not asked of again). A task that ended without the run's own end
 * record (killed, its time limit, its node failed, preempted, out of
 * memory, cancelled by hand) is a lost run: life_lost records it with
 * its Slurm state and fails it or queues it again by the job's retry
 * policy, and a run queued again is sent again. A task that a snapshot
 * taken before its sbatch does not show is queued. A task that ended
 * before its run started is sent again, UNSTARTED_MAX times in all; then
 * the run fails (a node that cannot start xt-runq would take every send).
 *
 * Configuration (targets.NAME): partition, time, account, qos, gres,
 * cpus-per-task, mem, constraint (each an sbatch option of that name),
 * sbatch-args (more options: a list, or one string split at blanks),
 * max-runs, poll-interval (seconds), requeue (true, the default:
 * sbatch --requeue, so that a preempted task runs again; false:
 * --no-requeue), binaries (the folder of the xt
 * tools as the nodes see it; default this program's), output (where
 * Slurm writes a task's own output: default the job's folder in a folder
 * store, /dev/null for another store).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "hmap.h"
#include "json.h"
#include "life.h"
#include "run.h"
#include "target_int.h"
#include "banned.h"

/* sbatch options that the configuration may set by their own names */
static const char *const opts[] = { "partition", "time", "account", "qos", "gres",
	"cpus-per-task", "mem", "constraint" };
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* the form of the status cache's lines, after its time on its first line */
#define SNAP_FORM "2"

/* sends of a run's task that may end before the run starts (life_unstarted) */
#define UNSTARTED_MAX 3

/* A task as squeue or sacct last showed it. */
struct stask {
	long array, index;
	char state[32], node[64];
	char reason[64];	/* why it waits (squeue's %r), "" from sacct */
	char comment[200];	/* xt:STORE:WS:JOB */
};

/* What the scheduler said, as of at (ms). */
struct snap {
	int64_t at;
	struct stask *t;
	size_t n;
	struct hmap m;		/* "ARRAY_INDEX" -> t[] */
};

struct slurmpriv {
	char **args;		/* the sbatch options of the configuration */
	size_t nargs;
	char *bindir, *output;
	int64_t interval_ms;
	long maxarray;		/* the cluster's MaxArraySize, 0 until read */
	int cpus_set;		/* cpus-per-task is configured */
	char *cache;		/* the status cache, shared by this user's xt processes */
	int kept;		/* this submit's check was a pass kept from before (test_only) */
};

static struct slurmpriv *
priv(struct target *t)
{
	return t->priv;
}

/*
 * Run argv (found on PATH) with input on its stdin: its stdout into out
 * and its stderr into err (each bounded by its sbuf). Its exit status,
 * 128 + a signal that ended it, 127 when it could not be run, -1 when no
 * process could be made.
 */
static int
run_cmd(char *const argv[], const char *input, struct sbuf *out, struct sbuf *err)
{
	int in[2], o[2], e[2], st;
	size_t ilen = input ? strlen(input) : 0, done = 0;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct pollfd p[3];
	pid_t pid;
	char buf[8192];

	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(o, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (pipe2(e, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		close(o[0]);
		close(o[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	if (pid < 0) {
		close(in[1]);
		close(o[0]);
		close(e[0]);
		return -1;
	}
	p[0].fd = o[0];
	p[1].fd = e[0];
	p[2].fd = in[1];
	p[0].events = p[1].events = POLLIN;
	p[2].events = POLLOUT;
	/* a command that ends without reading all its input is an EPIPE
	 * here, not a SIGPIPE that kills the tool mid-submit; and a write
	 * never blocks while the command waits for us to read its output */
	if (!ilen) {
		close(in[1]);
		p[2].fd = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	sigaction(SIGPIPE, &ign, &old);
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		int i;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].fd >= 0 && p[2].revents) {
			ssize_t n = write(p[2].fd, input + done, ilen - done);

			if (n > 0)
				done += (size_t)n;
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				done = ilen;
			if (done == ilen) {
				close(p[2].fd);
				p[2].fd = -1;
			}
		}
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if ((n = read(p[i].fd, buf, sizeof(buf))) > 0) {
				sbuf_add(i ? err : out, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(p[i].fd);
				p[i].fd = -1;
			}
		}
	}
	if (p[2].fd >= 0)
		close(p[2].fd);
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* What a command said on stderr, on one line, for a message. */
static const char *
said(struct sbuf *err)
{
	size_t i;

	sbuf_addc(err, '\0');
	while (err->len > 1 && (err->buf[err->len - 2] == '\n' || err->buf[err->len - 2] == ' ')) {
		err->buf[err->len - 2] = '\0';
		err->len--;
	}
	for (i = 0; i + 1 < err->len; i++)
		if (err->buf[i] == '\n')
			err->buf[i] = ' ';
	return err->buf && *err->buf ? err->buf : "(nothing on stderr)";
}

static void
add_arg(struct slurmpriv *p, char *a)
{
	p->args = xrealloc(p->args, (p->nargs + 1) * sizeof(*p->args));
	p->args[p->nargs++] = a;
}

/*
 * Whether arg is sbatch's option --lng (as getopt_long takes it, any
 * prefix of at least min letters, with or without "=VALUE") or -c.
 */
static int
is_opt(const char *arg, const char *lng, size_t min, char c)
{
	size_t n;

	if (c && arg[0] == '-' && arg[1] == c)
		return 1;
	if (strncmp(arg, "--", 2))
		return 0;
	n = strcspn(arg += 2, "=");
	return n >= min && n <= strlen(lng) && !strncmp(arg, lng, n);
}

/*
 * The options of sbatch-args that xt sets (the array, the job's name, the
 * comment that ties a task to its run, the batch script and whether it is
 * only tried), or that would send the job to a cluster other than the one
 * squeue, sacct and scancel then ask (one target is one cluster: the one
 * SLURM_CONF names): why it is refused; NULL when none is.
 */
static const char *
xts_opt(const char *arg)
{
	if (is_opt(arg, "array", 2, 'a') || is_opt(arg, "job-name", 3, 'J') ||
	    is_opt(arg, "comment", 3, 0) || is_opt(arg, "wrap", 2, 0) ||
	    is_opt(arg, "test-only", 3, 0))
		return "is xt's to set";
	if (is_opt(arg, "clusters", 8, 'M'))
		return "would send the job to another cluster, which xt would not look at: a "
		    "target is the cluster of its SLURM_CONF";
	return NULL;
}

static int
slurm_open(struct target *t, char *err, size_t errlen)
{
	const cJSON *extra = cJSON_GetObjectItemCaseSensitive(t->conf, "sbatch-args"), *it;
	struct slurmpriv *p = t->priv = xcalloc(1, sizeof(*p));
	const char *v;
	char w[300], *home, *key;
	int64_t secs;
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(t->conf, opts[i]))
			continue;
		if (!(v = target_conf_str(t, opts[i])) || !*v) {
			target_conf_where(t, opts[i], w, sizeof(w));
			snprintf(err, errlen, "%s: %s: expected a value for sbatch --%s", w, opts[i],
			    opts[i]);
			return TARGET_EUSAGE;
		}
		add_arg(p, xasprintf("--%s=%s", opts[i], v));
		p->cpus_set |= !strcmp(opts[i], "cpus-per-task");
	}
	/* a preempted task (or one requeued by hand) is run again by Slurm, as
	 * the run's next attempt (target_slurm_stopped), unless requeue: false */
	v = target_conf_str(t, "requeue");
	if (v && strcmp(v, "true") && strcmp(v, "false")) {
		target_conf_where(t, "requeue", w, sizeof(w));
		snprintf(err, errlen, "%s: requeue '%s': expected true or false", w, v);
		return TARGET_EUSAGE;
	}
	add_arg(p, xstrdup(v && !strcmp(v, "false") ? "--no-requeue" : "--requeue"));
	if (cJSON_IsString(extra)) {
		const char *s = extra->valuestring;

		while (*s) {
			size_t n;

			s += strspn(s, " \t");
			if ((n = strcspn(s, " \t")) > 0)
				add_arg(p, xstrndup(s, n));
			s += n;
		}
	} else if (cJSON_IsArray(extra)) {
		cJSON_ArrayForEach(it, extra) {
			if (!cJSON_IsString(it)) {
				target_conf_where(t, "sbatch-args", w, sizeof(w));
				snprintf(err, errlen, "%s: sbatch-args: expected a list of options", w);
				return TARGET_EUSAGE;
			}
			add_arg(p, xstrdup(it->valuestring));
		}
	} else if (extra) {
		target_conf_where(t, "sbatch-args", w, sizeof(w));
		snprintf(err, errlen, "%s: sbatch-args: expected a list of options", w);
		return TARGET_EUSAGE;
	}
	for (i = 0; i < p->nargs; i++)
		if ((v = xts_opt(p->args[i]))) {
			target_conf_where(t, "sbatch-args", w, sizeof(w));
			snprintf(err, errlen, "%s: sbatch-args: '%s' %s", w, p->args[i], v);
			return TARGET_EUSAGE;
		}
	p->interval_ms = 30000;
	if ((v = target_conf_str(t, "poll-interval"))) {
		if (parse_i64(v, 1, 86400, &secs) < 0) {
			target_conf_where(t, "poll-interval", w, sizeof(w));
			snprintf(err, errlen, "%s: poll-interval '%s': expected seconds from 1 to 86400",
			    w, v);
			return TARGET_EUSAGE;
		}
		p->interval_ms = secs * 1000;
	}
	if ((v = target_conf_str(t, "binaries")))
		p->bindir = xstrdup(v);
	else if (!(p->bindir = self_dir()))
		p->bindir = xstrdup("/usr/local/bin");
	if ((v = target_conf_str(t, "output")))
		p->output = xstrdup(v);
	/* one cache for a cluster (its configuration) and a user */
	if (!(home = xt_home_maybe())) {
		snprintf(err, errlen, "target '%s': no home for its status cache (set XT_HOME)",
		    t->name);
		return TARGET_EFAIL;
	}
	key = xasprintf("%s|%u", getenv("SLURM_CONF") ? getenv("SLURM_CONF") : "",
	    (unsigned)geteuid());
	p->cache = xasprintf("%s/cache/slurm/%08lx", home, (unsigned long)fnv1a(key, strlen(key)));
	free(key);
	free(home);
	return 0;
}

static void
slurm_close(struct target *t)
{
	struct slurmpriv *p = priv(t);
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nargs; i++)
		free(p->args[i]);
	free(p->args);
	free(p->bindir);
	free(p->output);
	free(p->cache);
	free(p);
}

/*
 * The value of key in text, the NUL-ended output of scontrol show config
 * ("Key = VALUE" lines), into buf; "" when it has none. Returns buf.
 */
static const char *
conf_value(const char *text, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	const char *l;

	buf[0] = '\0';
	for (l = text; (l = strstr(l, key)); l += kl) {
		if ((l == text || l[-1] == '\n') && (l[kl] == ' ' || l[kl] == '=')) {
			l += kl + strspn(l + kl, " ");
			if (*l++ != '=')
				break;
			l += strspn(l, " ");
			snprintf(buf, len, "%.*s", (int)strcspn(l, "\n"), l);
			break;
		}
	}
	return buf;
}

/*
 * The cluster's MaxArraySize (scontrol show config), or a TARGET_E* code;
 * kept beside the status cache for an hour, so that a submit does not ask
 * the scheduler for its whole configuration each time.
 */
static long
max_array(struct target *t)
{
	struct slurmpriv *p = priv(t);
	char *argv[] = { "scontrol", "show", "config", NULL }, *kept, num[32];
	struct sbuf out, err;
	struct stat sb;
	int rc, fd;

	if (p->maxarray)
		return p->maxarray;
	kept = xasprintf("%s.maxarray", p->cache);
	if (stat(kept, &sb) == 0 && time_now_ms() / 1000 - sb.st_mtime < 3600 &&
	    (fd = open(kept, O_RDONLY | O_CLOEXEC)) >= 0) {
		ssize_t n = read(fd, num, sizeof(num) - 1);

		close(fd);
		num[n > 0 ? n : 0] = '\0';
		if ((p->maxarray = strtol(num, NULL, 10)) >= 2) {
			free(kept);
			return p->maxarray;
		}
	}
	sbuf_init(&out, 1 << 20);
	sbuf_init(&err, 1 << 16);
	rc = run_cmd(argv, NULL, &out, &err);
	sbuf_addc(&out, '\0');
	if (rc != 0) {
		rc = target_fail(t, TARGET_EFAIL, "target '%s': scontrol show config: %s", t->name,
		    said(&err));
	} else if ((p->maxarray = strtol(conf_value(out.buf, "MaxArraySize", num, sizeof(num)), NULL,
	    10)) < 2) {
		p->maxarray = 1001;	/* Slurm's default */
	}
	if (rc == 0) {
		/* kept or not, the answer holds here */
		snprintf(num, sizeof(num), "%ld\n", p->maxarray);
		(void)file_replace(kept, num, strlen(num), 0600);
	}
	free(kept);
	sbuf_release(&out);
	sbuf_release(&err);
	return rc < 0 ? rc : p->maxarray;
}

/* The key of a task in a snapshot's map. */
static size_t
task_key(char *buf, size_t len, long array, long index)
{
	return (size_t)snprintf(buf, len, "%ld_%ld", array, index);
}

static void
snap_release(struct snap *s)
{
	free(s->t);
	hmap_release(&s->m);
	memset(s, 0, sizeof(*s));
}

/* Read the lines "ARRAY|INDEX|STATE|NODE|REASON|COMMENT" of text into s. */
static void
snap_parse(struct snap *s, const char *text)
{
	const char *l = text, *nl;

	hmap_init(&s->m);
	for (; *l; l = nl + 1) {
		struct stask k = { 0, 0, "", "", "", "" };
		char key[64], *end;
		int isnew;

		if (!(nl = strchr(l, '\n')))
			break;
		k.array = strtol(l, &end, 10);
		if (*end != '|')
			continue;
		k.index = strtol(end + 1, &end, 10);
		if (*end != '|')
			continue;
		l = end + 1;
		snprintf(k.state, sizeof(k.state), "%.*s", (int)strcspn(l, "|\n"), l);
		l += strcspn(l, "|\n");
		if (*l == '|') {
			l++;
			snprintf(k.node, sizeof(k.node), "%.*s", (int)strcspn(l, "|\n"), l);
			l += strcspn(l, "|\n");
		}
		if (*l == '|') {
			l++;
			snprintf(k.reason, sizeof(k.reason), "%.*s", (int)strcspn(l, "|\n"), l);
			l += strcspn(l, "|\n");
		}
		if (*l == '|')
			snprintf(k.comment, sizeof(k.comment), "%.*s", (int)strcspn(l + 1, "\n"), l + 1);
		s->t = xrealloc(s->t, (s->n + 1) * sizeof(*s->t));
		s->t[s->n] = k;
		*hmap_put(&s->m, key, task_key(key, sizeof(key), k.array, k.index), 0, &isnew) = s->n;
		s->n++;
	}
}

/*
 * squeue's lines of the user's xt tasks ("%F|%K|%T|%N|%r|%k": array,
 * index, state, nodes, the reason it waits, comment) into text. 0 or a
 * TARGET_E* code.
 */
static int
squeue(struct target *t, struct sbuf *text)
{
	char user[32], *argv[] = { "squeue", "-h", "-r", "-t", "all", "-u", user, "-o",
		"%F|%K|%T|%N|%r|%k", NULL };
	struct sbuf out, err;
	const char *l, *nl;
	int rc;

	snprintf(user, sizeof(user), "%u", (unsigned)geteuid());
	sbuf_init(&out, (size_t)256 << 20);
	sbuf_init(&err, 1 << 16);
	if ((rc = run_cmd(argv, NULL, &out, &err)) != 0) {
		rc = target_fail(t, TARGET_EFAIL, "target '%s': squeue: %s", t->name, said(&err));
	} else {
		sbuf_addc(&out, '\0');
		for (l = out.buf; l && *l; l = nl + 1) {
			const char *c;
			int bars = 0;

			if (!(nl = strchr(l, '\n')))
				break;
			for (c = l; c < nl && bars < 5; c++)
				bars += *c == '|';
			/* a task of xt's, whose index is a number (not "N/A") */
			if (bars == 5 && nl - c >= 3 && !strncmp(c, "xt:", 3) &&
			    strchr("0123456789", *(strchr(l, '|') + 1)))
				sbuf_add(text, l, (size_t)(nl + 1 - l));
		}
	}
	sbuf_release(&out);
	sbuf_release(&err);
	return rc;
}

/*
 * The scheduler's view, at most poll-interval old: from the shared cache
 * when it is fresh, else from squeue (one process at a time asks; the
 * others wait for its answer). force: asked again now. 0 or a TARGET_E*
 * code.
 */
static int
snapshot(struct target *t, int force, struct snap *s)
{
	struct slurmpriv *p = priv(t);
	char *lock = xasprintf("%s.lock", p->cache), *dir;
	struct sbuf sb;
	int64_t now;
	int lfd = -1, rc = 0;

	memset(s, 0, sizeof(*s));
	sbuf_init(&sb, (size_t)256 << 20);
	dir = xstrdup(p->cache);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir) < 0 || (lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lfd, LOCK_EX) < 0) {
		rc = target_fail(t, TARGET_EFAIL, "target '%s': cannot lock %s: %s", t->name, lock,
		    strerror(errno));
		goto out;
	}
	now = time_now_ms();
	if (!force && file_read(p->cache, &sb) == 0 && sb.len && (sbuf_addc(&sb, '\0'), 1)) {
		char *end;
		int64_t at = strtoll(sb.buf, &end, 10);

		if (!strncmp(end, " " SNAP_FORM "\n", strlen(SNAP_FORM) + 2) && at <= now &&
		    now - at < p->interval_ms) {
			s->at = at;
			snap_parse(s, strchr(sb.buf, '\n') ? strchr(sb.buf, '\n') + 1 : "");
			goto out;
		}
	}
	sbuf_reset(&sb);
	sbuf_addf(&sb, "%lld " SNAP_FORM "\n", (long long)now);
	if ((rc = squeue(t, &sb)) < 0)
		goto out;
	/* kept or not, the answer is good here; only others ask again */
	(void)file_replace(p->cache, sb.buf, sb.len, 0600);
	sbuf_addc(&sb, '\0');
	s->at = now;
	snap_parse(s, strchr(sb.buf, '\n') + 1);
out:
	if (lfd >= 0)
		close(lfd);
	free(dir);
	free(lock);
	sbuf_release(&sb);
	return rc;
}

/* The state of a task in s, or NULL when s does not show it. */
static const struct stask *
snap_task(const struct snap *s, long array, long index)
{
	char key[64];
	size_t *i = hmap_get(&s->m, key, task_key(key, sizeof(key), array, index));

	return i ? &s->t[*i] : NULL;
}

/*
 * What Slurm's accounting says of the tasks of the arrays ids[0..n-1]
 * that squeue no longer shows (it forgets an ended job after MinJobAge):
 * one sacct, its lines as a snapshot's (the first word of each state:
 * "CANCELLED by 1000" is CANCELLED). A cluster without accounting (sacct
 * says it is disabled), or a sacct that fails, gives an empty snapshot:
 * the tasks are then taken as gone without a state.
 */
static void
sacct(const long *ids, size_t n, struct snap *s)
{
	char *argv[] = { "sacct", "-n", "-P", "-X", "-o", "JobID,State,NodeList", "-j", NULL,
		NULL };
	struct sbuf list, out, err, text;
	const char *l, *nl;
	size_t i;

	memset(s, 0, sizeof(*s));
	sbuf_init(&list, 1 << 20);
	for (i = 0; i < n; i++)
		sbuf_addf(&list, "%s%ld", i ? "," : "", ids[i]);
	sbuf_addc(&list, '\0');
	argv[7] = list.buf;
	sbuf_init(&out, (size_t)64 << 20);
	sbuf_init(&err, 1 << 16);
	sbuf_init(&text, (size_t)64 << 20);
	if (run_cmd(argv, NULL, &out, &err) == 0 && sbuf_addc(&out, '\0') == 0) {
		/* "ARRAY_INDEX|STATE[ by UID]|NODES" -> "ARRAY|INDEX|STATE|NODES||" */
		for (l = out.buf; (nl = strchr(l, '\n')); l = nl + 1) {
			char line[512], *state, *nodes, *index;
			size_t len = (size_t)(nl - l);

			if (len >= sizeof(line))
				continue;
			memcpy(line, l, len);
			line[len] = '\0';
			if (!(state = strchr(line, '|')))
				continue;
			*state++ = '\0';
			if ((nodes = strchr(state, '|')))
				*nodes++ = '\0';
			else
				nodes = "";
			if (!(index = strchr(line, '_')))
				continue;	/* not an array task */
			*index++ = '\0';
			state[strcspn(state, " ")] = '\0';
			sbuf_addf(&text, "%s|%s|%s|%s||\n", line, index, state, nodes);
		}
	}
	sbuf_addc(&text, '\0');
	snap_parse(s, text.buf);
	sbuf_release(&text);
	sbuf_release(&err);
	sbuf_release(&out);
	sbuf_release(&list);
}

/* Slurm's states of a task that waits, and of one that runs. */
static int
state_waits(const char *s)
{
	return !strcmp(s, "PENDING") || !strcmp(s, "CONFIGURING") || !strcmp(s, "REQUEUED") ||
	    !strcmp(s, "REQUEUE_HOLD") || !strcmp(s, "REQUEUE_FED") || !strcmp(s, "RESV_DEL_HOLD") ||
	    !strcmp(s, "SUSPENDED") || !strcmp(s, "RESIZING");
}

static int
state_runs(const char *s)
{
	return !strcmp(s, "RUNNING") || !strcmp(s, "COMPLETING") || !strcmp(s, "STAGE_OUT") ||
	    !strcmp(s, "SIGNALING") || !strcmp(s, "STOPPED");
}

/* The tasks of one xt job as its slurm.jsonl places them. */
struct sjob {
	char *name;
	cJSON *rec;		/* the job's record */
	const cJSON *runs;	/* its "runs" */
	struct hmap byrun;	/* run name -> task (from 1) */
	struct where {
		long array, index;
		int64_t at;
	} *w;			/* [task]: the latest sbatch that holds it (array 0: none) */
	size_t ntasks;
};

static void
sjob_release(struct sjob *j)
{
	free(j->name);
	cJSON_Delete(j->rec);
	hmap_release(&j->byrun);
	free(j->w);
	memset(j, 0, sizeof(*j));
}

/* Apply a "tasks" list ("1-5,8") of an array at offset to j. */
static void
sjob_place(struct sjob *j, const char *list, long array, long off, int64_t at)
{
	const char *s = list;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a, i;

		if (end == s)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (i = a; i <= b; i++)
			if (i + off >= 1 && (size_t)(i + off) <= j->ntasks) {
				j->w[i + off].array = array;
				j->w[i + off].index = i;
				j->w[i + off].at = at;
			}
		s = *end == ',' ? end + 1 : end;
	}
}

/* Read job's record and slurm.jsonl into j. 0 or a TARGET_E* code. */
static int
sjob_load(struct target *t, struct store *st, const char *ws, const char *job, struct sjob *j)
{
	char *path = xasprintf("ws/%s/jobs/%s/slurm.jsonl", ws, job);
	const cJSON *it;
	struct sbuf sb;
	size_t i = 0;
	int isnew, rc;

	memset(j, 0, sizeof(*j));
	hmap_init(&j->byrun);
	j->name = xstrdup(job);
	if (!(j->rec = run_job_load(st, ws, job))) {
		free(path);
		return target_fail(t, TARGET_EFAIL, "no record of job '%s' in workspace '%s'", job,
		    ws);
	}
	j->runs = cJSON_GetObjectItemCaseSensitive(j->rec, "runs");
	j->ntasks = (size_t)cJSON_GetArraySize(j->runs);
	j->w = xcalloc(j->ntasks + 1, sizeof(*j->w));
	cJSON_ArrayForEach(it, j->runs)
		if (cJSON_IsString(it))
			*hmap_put(&j->byrun, it->valuestring, strlen(it->valuestring), 0, &isnew) = ++i;
		else
			i++;
	sbuf_init(&sb, (size_t)64 << 20);
	rc = store_get(st, path, 0, -1, &sb);
	if (rc == STORE_OK) {
		const char *l = sb.buf, *nl;

		for (; l < sb.buf + sb.len; l = nl + 1) {
			cJSON *o;

			if (!(nl = memchr(l, '\n', (size_t)(sb.buf + sb.len - l))))
				break;	/* a line cut short is not one */
			if ((o = cJSON_ParseWithLength(l, (size_t)(nl - l))) && json_str(o, "tasks"))
				sjob_place(j, json_str(o, "tasks"), (long)json_num(o, "array", 0),
				    (long)json_num(o, "offset", 0), (int64_t)json_num(o, "at", 0));
			cJSON_Delete(o);
		}
		rc = 0;
	} else if (rc == STORE_ENOENT) {
		rc = 0;
	} else {
		rc = target_fail(t, TARGET_EFAIL, "%s", store_error(st));
	}
	sbuf_release(&sb);
	free(path);
	return rc;
}

/* The task (from 1) of run in j, or 0. */
static size_t
sjob_task(const struct sjob *j, const char *run)
{
	size_t *i = hmap_get(&j->byrun, run, strlen(run));

	return i ? *i : 0;
}

/*
 * Does sent task k of j wait, by s: sent after s was taken, or shown
 * waiting? *tk gets what s shows of it (NULL when nothing).
 */
static int
task_waits(const struct snap *s, const struct sjob *j, size_t k, const struct stask **tk)
{
	*tk = snap_task(s, j->w[k].array, j->w[k].index);
	return j->w[k].at >= s->at || (*tk && state_waits((*tk)->state));
}

/* Quote s for sh, into sb. */
static void
sh_quote(struct sbuf *sb, const char *s)
{
	sbuf_addc(sb, '\'');
	for (; *s; s++)
		if (*s == '\'')
			sbuf_adds(sb, "'\\''");
		else
			sbuf_addc(sb, *s);
	sbuf_addc(sb, '\'');
}

/* The list "1-5,8" of the sorted indices idx[0..n-1]. */
static char *
ranges(const long *idx, size_t n)
{
	struct sbuf sb;
	size_t i = 0;

	sbuf_init(&sb, 1 << 24);
	while (i < n) {
		size_t k = i;

		while (k + 1 < n && idx[k + 1] == idx[k] + 1)
			k++;
		if (sb.len)
			sbuf_addc(&sb, ',');
		if (k == i)
			sbuf_addf(&sb, "%ld", idx[i]);
		else
			sbuf_addf(&sb, "%ld-%ld", idx[i], idx[k]);
		i = k + 1;
	}
	return sb.buf ? sb.buf : xstrdup("");
}

/* Where Slurm writes a task's own output: targets.NAME.output, the job's folder, /dev/null. */
static char *
output_path(struct target *t, struct store *st, const char *ws, const char *job)
{
	const char *url = store_url(st);

	if (priv(t)->output)
		return xstrdup(priv(t)->output);
	if (!strncmp(url, "file://", 7))
		return xasprintf("%s/ws/%s/jobs/%s/slurm-%%A_%%a.out", url + 7, ws, job);
	return xstrdup("/dev/null");
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * A run over nodes nodes: the lines of the batch script (on the first
 * node) that set where the ranks meet, the first node's address (Slurm's
 * NodeAddr) and a port from the job's id, and start the executor that
 * follows with srun, one a node, with the CPUs of the node's ranks
 * (runexec_opts). The executor that ends with a failure gets the others
 * stopped (--kill-on-bad-exit).
 */
static void
srun_lines(struct sbuf *sb, int nodes)
{
	sbuf_adds(sb, "# over several nodes: an executor a node, the ranks meeting on the first\n"
	    "first=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n"
	    "XT_MASTER_ADDR=$(scontrol -o show node \"$first\" | "
	    "sed -n 's/.* NodeAddr=\\([^ ]*\\).*/\\1/p')\n"
	    "export XT_MASTER_ADDR=\"${XT_MASTER_ADDR:-$first}\"\n"
	    "# a port from the job's id that no socket of this node (the first) has\n"
	    "port=$((20000 + SLURM_JOB_ID % 20000))\n"
	    "while [ $port -lt 65535 ] && grep -q \": [0-9A-F]*:$(printf %04X $port) \" "
	    "/proc/net/tcp /proc/net/tcp6 2>/dev/null; do\n"
	    "\tport=$((port + 1))\n"
	    "done\n"
	    "export XT_MASTER_PORT=$port\n");
	sbuf_addf(sb, "srun --ntasks=%d --ntasks-per-node=1 --kill-on-bad-exit=1 "
	    "--cpus-per-task=$((SLURM_NTASKS_PER_NODE * ${SLURM_CPUS_PER_TASK:-1})) \\\n    ", nodes);
}

/*
 * The end of srun_lines' script: srun runs in the background, and a
 * SIGTERM of the batch step (xt-runq kill: scancel --batch) goes to the
 * executors, step 0's tasks, which record the run; srun itself, signalled,
 * would kill them at once.
 */
static void
srun_wait(struct sbuf *sb)
{
	sbuf_adds(sb, " &\n"
	    "pid=$!\n"
	    "trap 'scancel --signal=TERM \"$SLURM_JOB_ID.0\"' TERM\n"
	    "while :; do\n"
	    "\twait $pid\n"
	    "\tst=$?\n"
	    "\tkill -0 $pid 2>/dev/null || exit $st\n"
	    "done\n");
}

/*
 * The options of what a run of rec takes (GPUs, nodes and their ranks,
 * or the CPUs of its ranks on one node), as its sbatch and its check
 * both ask: appended to argv at *a, each also kept in own at *nown (at
 * most 3) for the caller to free.
 */
static void
resource_args(const struct slurmpriv *p, const cJSON *rec, char **argv, size_t *a, char **own,
    size_t *nown)
{
	int gpus = (int)json_num(rec, "gpus", 0), nodes = (int)json_num(rec, "nodes", 1);
	int procs = (int)json_num(rec, "procs_per_node", 1);

	if (gpus > 0)
		argv[(*a)++] = own[(*nown)++] = xasprintf("--gres=gpu:%d", gpus);
	/* more nodes or CPUs than the partition has is said by the check (sbatch
	 * itself takes them, to wait for ever) */
	if (nodes > 1) {
		argv[(*a)++] = own[(*nown)++] = xasprintf("--nodes=%d", nodes);
		argv[(*a)++] = own[(*nown)++] = xasprintf("--ntasks-per-node=%d", procs);
	} else if (procs > 1 && !p->cpus_set) {
		argv[(*a)++] = own[(*nown)++] = xasprintf("--cpus-per-task=%d", procs);
	}
}

/*
 * sbatch one array of job: the tasks idx[0..n-1] (sorted, all within one
 * window of MaxArraySize - 1 from off + 1), after array dep when not 0.
 * The array's id into *id. 0 or a TARGET_E* code.
 */
static int
sbatch(struct target *t, struct store *st, const cJSON *job, const long *idx, size_t n,
    long off, long dep, long *id)
{
	struct slurmpriv *p = priv(t);
	const char *ws = json_str(job, "ws"), *jname = json_str(job, "job");
	char **argv = xcalloc(p->nargs + 16, sizeof(*argv)), sid[33], *line, *list;
	long *rel = xcalloc(n, sizeof(*rel));
	struct sbuf script, out, err;
	char *own[8];
	size_t i, a = 0, nown = 0;
	int rc = 0, nodes = (int)json_num(job, "nodes", 1);

	if (store_id(st, sid) < 0) {
		free(argv);
		free(rel);
		return target_fail(t, TARGET_EFAIL, "%s", store_error(st));
	}
	for (i = 0; i < n; i++)
		rel[i] = idx[i] - off;
	list = ranges(rel, n);
	sbuf_init(&script, 1 << 16);
	sbuf_adds(&script, "#!/bin/sh\n# xt: the runs of ");
	sbuf_adds(&script, jname);
	sbuf_adds(&script, ", one an array task\n");
	if (nodes > 1)
		srun_lines(&script, nodes);
	else
		sbuf_adds(&script, "exec ");
	{
		char *runq = xasprintf("%s/xt-runq", p->bindir);

		sh_quote(&script, runq);
		free(runq);
	}
	sbuf_adds(&script, " -s ");
	sh_quote(&script, store_url(st));
	sbuf_adds(&script, " -w ");
	sh_quote(&script, ws);
	sbuf_addf(&script, " exec --job %s --task $((SLURM_ARRAY_TASK_ID + %ld))", jname, off);
	if (nodes > 1)
		srun_wait(&script);
	else
		sbuf_addc(&script, '\n');
	argv[a++] = "sbatch";
	argv[a++] = "--parsable";
	argv[a++] = own[nown++] = xasprintf("--job-name=%s", jname);
	argv[a++] = own[nown++] = xasprintf("--array=%s%%%d", list, t->max_runs);
	argv[a++] = own[nown++] = xasprintf("--comment=xt:%s:%s:%s", sid, ws, jname);
	{
		char *o = output_path(t, st, ws, jname);

		argv[a++] = own[nown++] = xasprintf("--output=%s", o);
		free(o);
	}
	argv[a++] = "--export=ALL";
	if (dep)
		argv[a++] = own[nown++] = xasprintf("--dependency=afterany:%ld", dep);
	resource_args(p, job, argv, &a, own, &nown);
	for (i = 0; i < p->nargs; i++)
		argv[a++] = p->args[i];
	sbuf_init(&out, 1 << 20);
	sbuf_init(&err, 1 << 20);
	if (rc == 0) {
		char *end;

		rc = run_cmd(argv, script.buf, &out, &err);
		sbuf_addc(&out, '\0');
		*id = rc == 0 ? strtol(out.buf, &end, 10) : 0;
		if (rc != 0 || *id <= 0 || (*end != '\n' && *end != ';' && *end))
			rc = target_fail(t, TARGET_EFAIL, "target '%s': sbatch of job %s: %s", t->name,
			    jname, rc != 0 ? said(&err) : "no job id in its answer");
	}
	if (rc == 0) {
		/* where the tasks are, for the polls; a line lost here leaves the
		 * runs queued and unplaced: the next poll sends them again */
		char *path = xasprintf("ws/%s/jobs/%s/slurm.jsonl", ws, jname);

		line = xasprintf("{\"array\":%ld,\"offset\":%ld,\"tasks\":\"%s\",\"at\":%lld}\n", *id,
		    off, list, (long long)time_now_ms());
		if (store_append(st, path, line, strlen(line)) < 0)
			warnx("target '%s': job %s: Slurm array %ld not recorded: %s", t->name, jname,
			    *id, store_error(st));
		free(line);
		free(path);
	}
	while (nown > 0)
		free(own[--nown]);
	free(argv);
	free(rel);
	free(list);
	sbuf_release(&script);
	sbuf_release(&out);
	sbuf_release(&err);
	return rc;
}

/*
 * Send the tasks of job (n of them, sorted) to Slurm: one array a window
 * of MaxArraySize - 1 tasks, each after the one before. 0 or a TARGET_E*
 * code.
 */
static int
send_tasks(struct target *t, struct store *st, const cJSON *job, long *task, size_t n)
{
	long m = max_array(t), dep = 0, id = 0;
	size_t i = 0;
	int rc = 0;

	if (m < 0)
		return (int)m;
	qsort(task, n, sizeof(*task), cmp_long);
	while (i < n && rc == 0) {
		long w = (task[i] - 1) / (m - 1), off = w * (m - 1);
		size_t k = i;

		while (k < n && (task[k] - 1) / (m - 1) == w)
			k++;
		rc = sbatch(t, st, job, task + i, k - i, off, dep, &id);
		dep = id;
		i = k;
	}
	return rc;
}

/* How long a passed sbatch --test-only holds for the same options, in seconds. */
#define CHECK_KEEP 3600

/*
 * The value of the last of argv's n options --lng or -c (as is_opt takes
 * them: "--lng=V", "--lng V", "-cV", "-c V"), the one sbatch goes by;
 * NULL when there is none.
 */
static const char *
opt_value(char *const *argv, size_t n, const char *lng, size_t min, char c)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *a = argv[i], *eq;

		if (!is_opt(a, lng, min, c))
			continue;
		if (a[1] != '-' && a[2])
			v = a + 2;
		else if (a[1] == '-' && (eq = strchr(a, '=')))
			v = eq + 1;
		else if (i + 1 < n)
			v = argv[++i];
	}
	return v;
}

/*
 * Seconds of a Slurm duration, read up to the first character not of it
 * (so also one within a line of scontrol): "M", "M:S", "H:M:S" and, after
 * "D-", "H", "H:M", "H:M:S" (the forms of sbatch --time, and what
 * scontrol and squeue print); -1 for UNLIMITED, INFINITE and the like.
 */
static long
slurm_secs(const char *s)
{
	long d = -1, v[3] = { 0, 0, 0 }, n = 0;
	char *end;

	if (*s >= '0' && *s <= '9' && (d = strtol(s, &end, 10), *end == '-'))
		s = end + 1;
	else
		d = -1;
	while (n < 3 && *s >= '0' && *s <= '9') {
		v[n++] = strtol(s, &end, 10);
		s = end;
		if (*s != ':')
			break;
		s++;
	}
	if (!n)
		return -1;
	if (d >= 0)
		return d * 86400 + v[0] * 3600 + v[1] * 60 + v[2];
	return n == 3 ? v[0] * 3600 + v[1] * 60 + v[2] : v[0] * 60 + v[1];
}

/* Is word one of the comma-separated list's? */
static int
in_commas(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *s = list; *s; s += strcspn(s, ",") + (s[strcspn(s, ",")] == ',')) {
		if (!strncmp(s, word, n) && (s[n] == ',' || s[n] == '\0'))
			return 1;
	}
	return 0;
}

/* The value of field key ("Key=VALUE ...") of a line of scontrol -o, into buf ("" when none). */
static const char *
sfield(const char *line, size_t len, const char *key, char *buf, size_t blen)
{
	size_t kl = strlen(key), n;
	const char *s = line, *e = line + len;

	buf[0] = '\0';
	while (s < e) {
		n = strcspn(s, " \n");
		if (s + n > e)
			n = (size_t)(e - s);
		if (n > kl && !strncmp(s, key, kl) && s[kl] == '=') {
			snprintf(buf, blen, "%.*s", (int)(n - kl - 1), s + kl + 1);
			break;
		}
		s += n + 1;
	}
	return buf;
}

/*
 * The time limit in argv (n options, as sbatch gets them: the last
 * --time or -t) in whole minutes, a second over rounded up, as Slurm takes
 * it; its text into *tm. 0 when none is given (or it is UNLIMITED).
 */
static long
time_mins(char *const *argv, size_t n, const char **tm)
{
	long secs;

	*tm = opt_value(argv, n, "time", 4, 't');
	secs = *tm ? slurm_secs(*tm) : -1;
	return secs > 0 ? (secs + 59) / 60 : 0;
}

/*
 * The limit of a partition that sbatch --test-only lets by when the
 * cluster does not enforce it (EnforcePartLimits=NO, Slurm's default):
 * sbatch then takes a job over its partition's MaxTime and leaves it
 * pending for ever (PartitionTimeLimit). (Over MaxNodes, the test says
 * "Requested node configuration is not available".) The time in argv (n
 * options, as sbatch gets them) against every partition they name (or the
 * default one): 0 when one of them can run the job, a TARGET_E* code
 * saying why not otherwise.
 */
static int
part_limits(struct target *t, char *const *argv, size_t n)
{
	char *sc[] = { "scontrol", "--all", "--oneliner", "show", "partition", NULL };
	const char *part = opt_value(argv, n, "partition", 4, 'p'), *tm;
	long mins = time_mins(argv, n, &tm);
	char name[128], v[64], why[512] = "";
	struct sbuf out, err;
	const char *l, *e;
	int rc;

	if (mins <= 0)
		return 0;
	sbuf_init(&out, 1 << 20);
	sbuf_init(&err, 1 << 16);
	if ((rc = run_cmd(sc, NULL, &out, &err)) != 0) {
		rc = target_fail(t, TARGET_EFAIL, "target '%s': scontrol show partition: %s",
		    t->name, said(&err));
		goto out;
	}
	if (sbuf_addc(&out, '\0') < 0)	/* sfield's strcspn stops there */
		goto out;		/* over 1 MiB of partitions: not checked */
	for (l = out.buf; l < out.buf + out.len - 1; l = e + 1) {
		size_t len;
		long max;

		if (!(e = memchr(l, '\n', (size_t)(out.buf + out.len - 1 - l))))
			e = out.buf + out.len - 1;
		len = (size_t)(e - l);
		sfield(l, len, "PartitionName", name, sizeof(name));
		if (part ? !in_commas(part, name) : strcmp(sfield(l, len, "Default", v, sizeof(v)), "YES"))
			continue;
		if ((max = slurm_secs(sfield(l, len, "MaxTime", v, sizeof(v)))) < 0 ||
		    mins <= (max + 59) / 60) {
			rc = 0;
			goto out;
		}
		snprintf(why, sizeof(why), "a time limit of %s is over the MaxTime of partition '%s' "
		    "(%s), so Slurm would take the job and leave it pending for ever "
		    "(PartitionTimeLimit)", tm, name, v);
	}
	/* why none of them can; or none is there (--all shows the hidden ones
	 * too), which sbatch has said already, unless it is gone since: then
	 * the sbatch says it */
	rc = why[0] ? target_fail(t, TARGET_EFAIL, "target '%s': %s", t->name, why) : 0;
out:
	sbuf_release(&out);
	sbuf_release(&err);
	return rc;
}

/*
 * The MaxWall of the QOS that argv names (--qos, -q), which sbatch
 * --test-only lets by as it does a partition's MaxTime: a cluster that
 * enforces limits (AccountingStorageEnforce with limits or safe) takes a
 * job over it and leaves it pending for ever
 * (QOSMaxWallDurationPerJobLimit), unless the QOS has the flag
 * DenyOnLimit (then the test refuses the job itself). 0 when the job can
 * run, or the cluster has no accounting to ask (sacctmgr fails); a
 * TARGET_E* code saying why not otherwise. Not looked at: the QOS a job
 * takes when it names none, a partition's QOS, an association's MaxWall.
 */
static int
qos_limits(struct target *t, char *const *argv, size_t n)
{
	char *sa[] = { "sacctmgr", "-n", "-P", "show", "qos", NULL, "format=Name,MaxWall,Flags",
		NULL };
	char *sc[] = { "scontrol", "show", "config", NULL };
	const char *qos = opt_value(argv, n, "qos", 2, 'q'), *tm, *f;
	long mins = time_mins(argv, n, &tm), max;
	char enf[256], mw[64];
	struct sbuf out, err;
	int rc = 0;

	if (mins <= 0 || !qos || !*qos || strchr(qos, '\n'))
		return 0;
	sa[5] = (char *)qos;
	sbuf_init(&out, 1 << 16);
	sbuf_init(&err, 1 << 16);
	/* "NAME|MAXWALL|FLAGS" */
	if (run_cmd(sa, NULL, &out, &err) != 0 || sbuf_addc(&out, '\0') < 0 ||
	    !(f = strchr(out.buf, '|')) || (max = slurm_secs(f + 1)) < 0 ||
	    mins <= (max + 59) / 60 || strstr(f, "DenyOnLimit"))
		goto out;
	snprintf(mw, sizeof(mw), "%.*s", (int)strcspn(f + 1, "|\n"), f + 1);
	/* over it: does the cluster hold jobs to it? */
	sbuf_reset(&out);
	if (run_cmd(sc, NULL, &out, &err) != 0 || sbuf_addc(&out, '\0') < 0)
		goto out;
	conf_value(out.buf, "AccountingStorageEnforce", enf, sizeof(enf));
	if (!in_commas(enf, "limits") && !in_commas(enf, "safe"))
		goto out;
	rc = target_fail(t, TARGET_EFAIL, "target '%s': a time limit of %s is over the MaxWall "
	    "of QOS '%s' (%s), so Slurm would take the job and leave it pending for ever "
	    "(QOSMaxWallDurationPerJobLimit)", t->name, tm, qos, mw);
out:
	sbuf_release(&out);
	sbuf_release(&err);
	return rc;
}

/*
 * Does a Slurm command's message say that the controller could not be
 * reached, or cannot take a job for now (it holds MaxJobCount jobs:
 * "Slurm temporarily unable to accept job", "Resource temporarily
 * unavailable")? Neither refuses the job's options.
 */
static int
unreachable(const char *msg)
{
	return strstr(msg, "Unable to contact slurm controller") ||
	    strstr(msg, "Socket timed out") || strstr(msg, "Zero Bytes were transmitted") ||
	    strstr(msg, "Communication connection failure") ||
	    strstr(msg, "temporarily unable to accept job") ||
	    strstr(msg, "Resource temporarily unavailable");
}

/*
 * The options of job's runs tried with sbatch --test-only on an array as
 * big as the job's first, so that a bad partition, account, time or gres
 * fails with Slurm's own words. A pass is kept beside the status cache
 * for CHECK_KEEP seconds, under a name from the options (the array's size
 * aside) holding them whole: with kept, a pass kept for the same options
 * is taken (*took set) without asking Slurm. 0 or a TARGET_E* code.
 */
static int
test_only(struct target *t, const cJSON *runs, int kept, int *took)
{
	struct slurmpriv *p = priv(t);
	char **argv = xcalloc(p->nargs + 10, sizeof(*argv)), *own[4], *path;
	long m = max_array(t), n = cJSON_GetArraySize(runs);
	const cJSON *r0 = cJSON_GetArrayItem(runs, 0);
	int rc;
	struct sbuf out, err, key;
	struct stat sb;
	size_t i, a = 0, nown = 0;

	*took = 0;
	if (m < 0) {
		free(argv);
		return (int)m;
	}
	argv[a++] = "sbatch";
	argv[a++] = "--test-only";
	argv[a++] = "--job-name=xt-check";
	argv[a++] = "--output=/dev/null";
	resource_args(p, r0, argv, &a, own, &nown);
	for (i = 0; i < p->nargs; i++)
		argv[a++] = p->args[i];
	sbuf_init(&key, 1 << 20);
	for (i = 0; i < a; i++) {
		sbuf_adds(&key, argv[i]);
		sbuf_addc(&key, '\n');
	}
	path = xasprintf("%s.ok.%08lx", p->cache, (unsigned long)fnv1a(key.buf, key.len));
	sbuf_init(&out, 1 << 16);
	if (kept && stat(path, &sb) == 0 && time_now_ms() / 1000 - sb.st_mtime < CHECK_KEEP &&
	    sb.st_size == (off_t)key.len && file_read(path, &out) == 0 && out.len == key.len &&
	    !memcmp(out.buf, key.buf, key.len)) {
		*took = 1;
		rc = 0;
		goto out;
	}
	argv[a++] = own[nown++] = xasprintf("--array=1-%ld%%%d", n < m - 1 ? n : m - 1,
	    t->max_runs);
	sbuf_reset(&out);
	sbuf_init(&err, 1 << 16);
	if ((rc = run_cmd(argv, "#!/bin/sh\ntrue\n", &out, &err)) != 0) {
		const char *why = said(&err);

		rc = target_fail(t, TARGET_EFAIL, "target '%s': sbatch --test-only %s: %s", t->name,
		    unreachable(why) ? "could not ask Slurm (nothing is stored; try again)" :
		    "refused the job", why);
		(void)unlink(path);
	} else if ((rc = part_limits(t, argv, a)) < 0 || (rc = qos_limits(t, argv, a)) < 0) {
		(void)unlink(path);
	} else {
		(void)file_replace(path, key.buf, key.len, 0600);
	}
	sbuf_release(&err);
out:
	while (nown > 0)
		free(own[--nown]);
	free(argv);
	free(path);
	sbuf_release(&key);
	sbuf_release(&out);
	return rc;
}

/* Before anything is stored: the options checked (test_only, a pass kept taken). */
static int
slurm_prepare(struct target *t, struct store *st, cJSON *runs)
{
	(void)st;
	return test_only(t, runs, 1, &priv(t)->kept);
}

/*
 * An sbatch of the runs just stored failed, when their check was a pass
 * kept from before: checked now; if Slurm refuses them now, they fail
 * with its words (TARGET_EREFUSED) rather than waiting to be sent again.
 * A controller that cannot be reached refuses nothing: they stay queued.
 */
static int
recheck(struct target *t, struct store *st, const cJSON *job, const cJSON *runs)
{
	char *first = xstrdup(target_error(t)), *why;
	const char *ws = json_str(job, "ws");
	const cJSON *r;
	int took, rc, nf = 0;

	priv(t)->kept = 0;
	if (unreachable(first) || test_only(t, runs, 0, &took) == 0 ||
	    unreachable(target_error(t))) {
		target_fail(t, TARGET_EFAIL, "%s", first);
		free(first);
		return TARGET_EFAIL;
	}
	why = xasprintf("Slurm refused its job: %s", target_error(t));
	cJSON_ArrayForEach(r, runs)
		if (json_str(r, "run") && life_refused(st, ws, json_str(r, "run"), why) == 0)
			nf++;
	rc = target_fail(t, TARGET_EREFUSED, "%s (sbatch --test-only passed for these options "
	    "before, and refuses them now: %d of the job's %d runs failed)", first, nf,
	    cJSON_GetArraySize(runs));
	free(why);
	free(first);
	return rc;
}

static int
slurm_submit(struct target *t, struct store *st, const cJSON *job, const cJSON *runs)
{
	const char *ws = json_str(job, "ws"), *jname = json_str(job, "job");
	long *task = xcalloc((size_t)cJSON_GetArraySize(runs) + 1, sizeof(*task));
	struct snap s = { 0 };
	struct sjob j;
	const cJSON *r;
	size_t n = 0;
	int rc, known = 0;

	if (!ws || !jname) {
		free(task);
		return target_fail(t, TARGET_EFAIL, "a job record without ws or job");
	}
	if ((rc = sjob_load(t, st, ws, jname, &j)) < 0) {
		free(task);
		return rc;
	}
	/* a task sent before (a submit cut short, done again) is not sent twice */
	for (n = 1; n <= j.ntasks && !known; n++)
		known = j.w[n].array != 0;
	n = 0;
	if (known && (rc = snapshot(t, 1, &s)) < 0)
		goto out;
	cJSON_ArrayForEach(r, runs) {
		const char *run = json_str(r, "run");
		size_t k = run ? sjob_task(&j, run) : 0;
		const struct stask *tk;

		if (!k) {
			rc = target_fail(t, TARGET_EFAIL, "run '%s' is not a task of job %s",
			    run ? run : "(none)", jname);
			goto out;
		}
		if (j.w[k].array && (tk = snap_task(&s, j.w[k].array, j.w[k].index)) &&
		    (state_waits(tk->state) || state_runs(tk->state)))
			continue;
		task[n++] = (long)k;
	}
	if (n && (rc = send_tasks(t, st, job, task, n)) < 0 && priv(t)->kept)
		rc = recheck(t, st, job, runs);
	priv(t)->kept = 0;
out:
	snap_release(&s);
	sjob_release(&j);
	free(task);
	return rc;
}

/* The jobs read for one poll or cancel, by name. */
struct jobs {
	struct sjob *j;
	size_t n;
	struct hmap m;
};

static void
jobs_release(struct jobs *js)
{
	size_t i;

	for (i = 0; i < js->n; i++)
		sjob_release(&js->j[i]);
	free(js->j);
	hmap_release(&js->m);
}

/* The job named job, read once. NULL with t's message on error. */
static struct sjob *
jobs_get(struct target *t, struct store *st, const char *ws, const char *job, struct jobs *js)
{
	size_t *i = hmap_get(&js->m, job, strlen(job));
	int isnew;

	if (i)
		return &js->j[*i];
	js->j = xrealloc(js->j, (js->n + 1) * sizeof(*js->j));
	if (sjob_load(t, st, ws, job, &js->j[js->n]) < 0) {
		sjob_release(&js->j[js->n]);
		return NULL;
	}
	*hmap_put(&js->m, job, strlen(job), 0, &isnew) = js->n;
	return &js->j[js->n++];
}

/*
 * A run not waiting or running in Slurm, whose record (status) has not
 * ended: state is the state its task ended in ("" when Slurm no longer
 * says). Lost: life_lost records it, failed or queued again (then sent
 * again); a queued run's task that ended before the run started (it failed
 * to launch, or the script could not start xt-runq) is sent again at most
 * UNSTARTED_MAX - 1 times, then the run fails saying so.
 */
static int
settle_lost(struct target *t, struct store *st, const char *ws, struct target_status *s,
    const char *status, const cJSON *job, size_t task, const char *state)
{
	char why[200];
	int rc;

	snprintf(why, sizeof(why), "its Slurm task ended %s", *state ? state :
	    "and is gone from squeue");
	/* taken out of Slurm's queue by hand (scancel): cancelled, not run again */
	if (!strcmp(state, "CANCELLED") && (rc = life_cancel(st, ws, s->run,
	    "its Slurm task was cancelled before it started (scancel)")) != 1) {
		if (rc < 0)
			return target_fail(t, TARGET_EFAIL, "%s", store_error(st));
		s->state = TARGET_ENDED;
		snprintf(s->status, sizeof(s->status), "cancelled");
		return 0;
	}
	if ((rc = life_lost(st, ws, s->run, why)) == 1 && status && !strcmp(status, "queued"))
		rc = life_unstarted(st, ws, s->run, why, UNSTARTED_MAX);
	if (rc < 0)
		return target_fail(t, TARGET_EFAIL, "%s", store_error(st));
	if (rc == 1) {
		long k = (long)task;

		s->state = TARGET_QUEUED;
		return send_tasks(t, st, job, &k, 1);
	}
	{
		cJSON *now = run_load(st, ws, s->run, NULL);

		s->state = TARGET_ENDED;
		snprintf(s->status, sizeof(s->status), "%s", now && json_str(now, "status") ?
		    json_str(now, "status") : "");
		cJSON_Delete(now);
	}
	return 0;
}

/* A run polled whose task squeue no longer shows: settled after one sacct for all. */
struct gone {
	size_t i, k;		/* the run's place in the poll, its task */
	char *status, *job;	/* its record's status and job */
	long array;
};

/* The arrays of the tasks gone[0..n-1], once each, sorted. */
static long *
gone_arrays(const struct gone *g, size_t n, size_t *na)
{
	long *a = xcalloc(n ? n : 1, sizeof(*a));
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		a[i] = g[i].array;
	qsort(a, n, sizeof(*a), cmp_long);
	for (i = 0; i < n; i++)
		if (!m || a[m - 1] != a[i])
			a[m++] = a[i];
	*na = m;
	return a;
}

/*
 * Settle the runs gone[0..n-1] whose tasks squeue no longer shows, by the
 * states sacct gives them (none without accounting). 0 or a TARGET_E* code.
 */
static int
settle_gone(struct target *t, struct store *st, const char *ws, struct target_status *runs,
    struct gone *gone, size_t n, struct jobs *js)
{
	struct snap acct;
	size_t i, na;
	long *arrays = gone_arrays(gone, n, &na);
	int rc = 0;

	sacct(arrays, na, &acct);
	for (i = 0; i < n && rc == 0; i++) {
		struct gone *g = &gone[i];
		struct target_status *r = &runs[g->i];
		struct sjob *j = jobs_get(t, st, ws, g->job, js);
		const struct stask *tk;

		if (!j) {
			rc = TARGET_EFAIL;
			break;
		}
		tk = snap_task(&acct, j->w[g->k].array, j->w[g->k].index);
		/* accounting a step behind squeue: as a snapshot would show it */
		if (tk && state_waits(tk->state)) {
			r->state = TARGET_QUEUED;
		} else if (tk && state_runs(tk->state)) {
			r->state = TARGET_RUNNING;
			snprintf(r->node, sizeof(r->node), "%s", tk->node);
		} else {
			rc = settle_lost(t, st, ws, r, g->status, j->rec, g->k, tk ? tk->state : "");
		}
	}
	snap_release(&acct);
	free(arrays);
	return rc;
}

static int
slurm_poll(struct target *t, struct store *st, const char *ws, struct target_status *runs,
    size_t n)
{
	struct jobs js = { NULL, 0, { 0 } };
	struct gone *gone = NULL;
	struct snap s;
	size_t i, ngone = 0;
	int rc;

	if ((rc = snapshot(t, 0, &s)) < 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		struct target_status *r = &runs[i];
		cJSON *rec;
		const char *status, *jname;
		const struct stask *tk = NULL;
		struct sjob *j;
		size_t k;

		/*
		 * A task that waits is queued without a read of its run's record
		 * (a run ended meanwhile, say killed, ends at the next snapshot):
		 * of a big job, most runs wait, and on az:// each read is a request
		 */
		if (r->job && (j = jobs_get(t, st, ws, r->job, &js)) && (k = sjob_task(j, r->run)) &&
		    j->w[k].array && task_waits(&s, j, k, &tk)) {
			r->state = TARGET_QUEUED;
			continue;
		}
		rec = run_load(st, ws, r->run, NULL);
		status = json_str(rec, "status");
		jname = json_str(rec, "job");
		r->state = TARGET_LOST;
		if (!rec) {
			rc = target_fail(t, TARGET_EFAIL, "%s", store_error(st));
		} else if (run_status_final(status)) {
			r->state = TARGET_ENDED;
			snprintf(r->status, sizeof(r->status), "%s", status);
		} else if (!jname || !(j = jobs_get(t, st, ws, jname, &js))) {
			rc = TARGET_EFAIL;
			if (!jname)
				target_fail(t, rc, "run '%s' has no job", r->run);
		} else if (!(k = sjob_task(j, r->run))) {
			rc = target_fail(t, TARGET_EFAIL, "run '%s' is not a task of job %s", r->run,
			    jname);
		} else if (!j->w[k].array || task_waits(&s, j, k, &tk)) {
			/* never sent (a submit cut short: the next submit or poll sends it),
			 * sent after the snapshot, or waiting */
			r->state = TARGET_QUEUED;
			if (!j->w[k].array && status && !strcmp(status, "queued")) {
				long kk = (long)k;

				rc = send_tasks(t, st, j->rec, &kk, 1);
			}
		} else if (tk && state_runs(tk->state)) {
			r->state = TARGET_RUNNING;
			snprintf(r->node, sizeof(r->node), "%s", tk->node);
		} else if (tk) {
			rc = settle_lost(t, st, ws, r, status, j->rec, k, tk->state);
		} else {
			/* gone from squeue: sacct is asked once for all such */
			gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
			gone[ngone].i = i;
			gone[ngone].k = k;
			gone[ngone].status = xstrdup(status ? status : "");
			gone[ngone].job = xstrdup(jname);
			gone[ngone].array = j->w[k].array;
			ngone++;
		}
		cJSON_Delete(rec);
	}
	if (ngone && rc == 0)
		rc = settle_gone(t, st, ws, runs, gone, ngone, &js);
	for (i = 0; i < ngone; i++) {
		free(gone[i].status);
		free(gone[i].job);
	}
	free(gone);
	jobs_release(&js);
	snap_release(&s);
	return rc;
}

/* The entry of task k of j for list and cancel: {"store","ws","run","job","slurm"}. */
static cJSON *
entry(struct store *st, const char *ws, const struct sjob *j, size_t k)
{
	cJSON *e = cJSON_CreateObject();
	char id[64];

	json_set_str(e, "store", store_url(st));
	json_set_str(e, "ws", ws);
	json_set_str(e, "run", cJSON_GetArrayItem(j->runs, (int)k - 1)->valuestring);
	json_set_str(e, "job", j->name);
	task_key(id, sizeof(id), j->w[k].array, j->w[k].index);
	json_set_str(e, "slurm", id);
	return e;
}

/* scancel the tasks ids[0..n-1] ("ARRAY_INDEX"), with more options first. 0 or a TARGET_E* code. */
static int
scancel(struct target *t, const char *o1, const char *o2, char **ids, size_t n)
{
	char **argv = xcalloc(n + 4, sizeof(*argv));
	struct sbuf out, err;
	size_t a = 0;
	int rc;

	argv[a++] = "scancel";
	if (o1)
		argv[a++] = (char *)o1;
	if (o2)
		argv[a++] = (char *)o2;
	memcpy(argv + a, ids, n * sizeof(*argv));
	sbuf_init(&out, 1 << 16);
	sbuf_init(&err, 1 << 16);
	rc = run_cmd(argv, NULL, &out, &err);
	/* scancel --batch of Slurm 22.05 signals, and then exits 229 saying
	 * nothing: only what it says is a failure */
	if (rc != 0 && (rc < 0 || rc == 127 || err.len))
		rc = target_fail(t, TARGET_EFAIL, "target '%s': scancel: %s", t->name, said(&err));
	else
		rc = 0;
	sbuf_release(&out);
	sbuf_release(&err);
	free(argv);
	return rc;
}

/*
 * Call fn for each task of snapshot s that Slurm holds (waiting or
 * running), of store st and, when ws is not NULL, of workspace ws, with
 * its entry {"store","ws","run","job","slurm"}. Only a task that its
 * job's slurm.jsonl still places there counts (a run sent again holds its
 * newer one). Stops at fn's first non-zero return, which it returns.
 */
typedef int (*task_fn)(const struct stask *tk, const cJSON *entry, void *arg);
static int
each_task(struct target *t, struct store *st, const char *ws, const struct snap *s,
    task_fn fn, void *arg)
{
	struct jobs js = { NULL, 0, { 0 } };
	char sid[33], pre[64];
	size_t i, plen;
	int rc = 0;

	if (store_id(st, sid) < 0)
		return target_fail(t, TARGET_EFAIL, "%s", store_error(st));
	plen = (size_t)snprintf(pre, sizeof(pre), "xt:%s:", sid);
	for (i = 0; i < s->n && rc == 0; i++) {
		const struct stask *tk = &s->t[i];
		const char *w = tk->comment + plen, *jn = strchr(w, ':');
		struct sjob *j;
		char *tws;
		size_t k;

		if (strncmp(tk->comment, pre, plen) || !jn || !(state_waits(tk->state) ||
		    state_runs(tk->state)))
			continue;
		tws = xstrndup(w, (size_t)(jn - w));
		if (ws && strcmp(ws, tws)) {
			free(tws);
			continue;
		}
		if (!(j = jobs_get(t, st, tws, jn + 1, &js))) {
			free(tws);
			rc = TARGET_EFAIL;
			break;
		}
		/* another slurm target's job (a cluster has the user's jobs of each) */
		if (!json_str(j->rec, "target") || strcmp(json_str(j->rec, "target"), t->name)) {
			free(tws);
			continue;
		}
		for (k = 1; k <= j->ntasks; k++)
			if (j->w[k].array == tk->array && j->w[k].index == tk->index &&
			    cJSON_IsString(cJSON_GetArrayItem(j->runs, (int)k - 1))) {
				cJSON *e = entry(st, tws, j, k);

				rc = fn(tk, e, arg);
				cJSON_Delete(e);
				break;
			}
		free(tws);
	}
	jobs_release(&js);
	return rc;
}

struct killarg {
	struct target *t;
	const char *ws;
	char *const *names;
	size_t n;
	int *found;
	char **wait, **run;	/* the ids of the waiting and running tasks to cancel */
	size_t nwait, nrun;
	cJSON *waiting, *running;	/* the runs of the waiting and of the running ones */
};

static int
kill_one(const struct stask *tk, const cJSON *e, void *arg)
{
	struct killarg *k = arg;
	char ***ids = state_waits(tk->state) ? &k->wait : &k->run;
	size_t *n = state_waits(tk->state) ? &k->nwait : &k->nrun;

	if (!target_match(e, k->ws, k->names, k->n, k->found))
		return 0;
	*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
	(*ids)[(*n)++] = xstrdup(json_str(e, "slurm"));
	cJSON_AddItemToArray(state_waits(tk->state) ? k->waiting : k->running,
	    cJSON_CreateString(json_str(e, "run")));
	return 0;
}

/*
 * A running task is told to stop as a Ctrl-C would: SIGTERM to its batch
 * step alone, xt-runq exec, which stops the run's command (with its own
 * grace period) and records it cancelled. A waiting one is taken out of
 * Slurm's queue and recorded cancelled here.
 */
static int
slurm_cancel(struct target *t, struct store *st, const char *ws, char *const *names, size_t n,
    int grace_ms, int *found)
{
	struct killarg k = { t, ws, names, n, found, NULL, NULL, 0, 0, cJSON_CreateArray(),
		cJSON_CreateArray() };
	const cJSON *it;
	struct snap s;
	size_t i;
	int rc;

	(void)grace_ms;
	if ((rc = snapshot(t, 1, &s)) == 0)
		rc = each_task(t, st, ws, &s, kill_one, &k);
	/* a "kill" event first, for the executor to tell this stop from Slurm's
	 * own (a waiting task may start before its scancel) */
	cJSON_ArrayForEach(it, k.running)
		if (run_event(st, ws, it->valuestring, "kill", -1, NULL) < 0)
			warnx("run %s: %s", it->valuestring, store_error(st));
	cJSON_ArrayForEach(it, k.waiting)
		if (run_make(st, ws, it->valuestring) < 0 ||
		    run_event(st, ws, it->valuestring, "kill", -1, NULL) < 0)
			warnx("run %s: %s", it->valuestring, store_error(st));
	if (rc == 0 && k.nrun)
		rc = scancel(t, "--batch", "--signal=TERM", k.run, k.nrun);
	if (rc == 0 && k.nwait)
		rc = scancel(t, NULL, NULL, k.wait, k.nwait);
	if (rc == 0)
		cJSON_ArrayForEach(it, k.waiting)
			if (life_cancel(st, ws, it->valuestring, "killed with xt-runq kill") < 0)
				warnx("run %s: %s", it->valuestring, store_error(st));
	for (i = 0; i < k.nwait; i++)
		free(k.wait[i]);
	for (i = 0; i < k.nrun; i++)
		free(k.run[i]);
	free(k.wait);
	free(k.run);
	cJSON_Delete(k.waiting);
	cJSON_Delete(k.running);
	snap_release(&s);
	return rc;
}

struct listarg {
	target_list_fn fn;
	void *arg;
	struct hmap held;	/* the runs Slurm holds, by the snapshot */
	struct hmap open;	/* the runs of the index on this target, not ended */
	cJSON *shown;		/* what the snapshot shows: [state, entry] each */
	cJSON *later;		/* the open runs it does not show: [run, job] each */
};

static int
list_one(const struct stask *tk, const cJSON *e, void *arg)
{
	struct listarg *l = arg;
	const char *run = json_str(e, "run");
	cJSON *pair = cJSON_CreateArray(), *d = cJSON_Duplicate(e, 1);
	int isnew;

	hmap_put(&l->held, run, strlen(run), 0, &isnew);
	cJSON_AddItemToArray(pair, cJSON_CreateString(state_waits(tk->state) ? "queued" :
	    "running"));
	cJSON_AddItemToArray(pair, d);
	/* where it runs, or why Slurm has it wait ("Priority", "JobArrayTaskLimit") */
	if (!state_waits(tk->state) && tk->node[0])
		json_set_str(d, "node", tk->node);
	else if (state_waits(tk->state) && tk->reason[0] && strcmp(tk->reason, "None"))
		json_set_str(d, "reason", tk->reason);
	cJSON_AddItemToArray(l->shown, pair);
	return 0;
}

/*
 * A run on this target the index has not ended (kept in l->open): polled
 * if it is not a parent (its children's ends end it) and Slurm does not
 * hold it.
 */
static int
unheld(const cJSON *rec, void *arg)
{
	struct listarg *l = arg;
	const char *run = json_str(rec, "run");
	int isnew;

	hmap_put(&l->open, run, strlen(run), 0, &isnew);
	if (cJSON_GetObjectItemCaseSensitive(rec, "children") || hmap_get(&l->held, run,
	    strlen(run)))
		return 0;
	if (json_str(rec, "job")) {
		cJSON *pair = cJSON_CreateArray();

		cJSON_AddItemToArray(pair, cJSON_CreateString(run));
		cJSON_AddItemToArray(pair, cJSON_CreateString(json_str(rec, "job")));
		cJSON_AddItemToArray(l->later, pair);
	}
	return 1;
}

/*
 * The open runs that the snapshot did not show (sent after it was taken),
 * as their records say now, after the poll of them: those still queued or
 * running.
 */
static int
list_later(struct target *t, struct store *st, const char *ws, struct listarg *l)
{
	struct jobs js = { NULL, 0, { 0 } };
	const cJSON *pair;
	int rc = 0;

	cJSON_ArrayForEach(pair, l->later) {
		const char *run = cJSON_GetArrayItem(pair, 0)->valuestring;
		cJSON *now = run_load(st, ws, run, NULL), *e;
		const char *status = now ? json_str(now, "status") : NULL;
		struct sjob *j;
		size_t k;

		if (status && (!strcmp(status, "queued") || !strcmp(status, "running")) &&
		    (j = jobs_get(t, st, ws, cJSON_GetArrayItem(pair, 1)->valuestring, &js)) &&
		    (k = sjob_task(j, run))) {
			e = entry(st, ws, j, k);
			rc = l->fn(status, e, 0, l->arg);
			cJSON_Delete(e);
		}
		cJSON_Delete(now);
		if (rc != 0)
			break;
	}
	jobs_release(&js);
	return rc;
}

/*
 * What Slurm holds by the snapshot, which may be a poll-interval old: its
 * tasks, but for runs whose records have ended since (a run the index
 * does not have open is passed over once its own record says it ended);
 * then the runs the index has open that it does not show, polled (which
 * settles those Slurm no longer holds), as their records say now.
 */
static int
slurm_list(struct target *t, struct store *st, const char *ws, target_list_fn fn, void *arg)
{
	struct listarg l = { fn, arg, { 0 }, { 0 }, NULL, NULL };
	const cJSON *pair;
	struct snap s;
	int rc;

	if (!st)
		return target_fail(t, TARGET_EFAIL, "target '%s': the store is needed", t->name);
	hmap_init(&l.held);
	hmap_init(&l.open);
	l.shown = cJSON_CreateArray();
	l.later = cJSON_CreateArray();
	if ((rc = snapshot(t, 0, &s)) == 0)
		rc = each_task(t, st, ws, &s, list_one, &l);
	snap_release(&s);
	if (rc == 0 && ws)
		rc = target_settle_index(t, st, ws, unheld, &l);
	cJSON_ArrayForEach(pair, l.shown) {
		const cJSON *e = cJSON_GetArrayItem(pair, 1);
		const char *run = json_str(e, "run"), *ews = json_str(e, "ws");

		if (rc != 0)
			break;
		if (ws && !hmap_get(&l.open, run, strlen(run))) {
			cJSON *now = run_load(st, ews ? ews : ws, run, NULL);
			int ended = now && run_status_final(json_str(now, "status"));

			cJSON_Delete(now);
			if (ended)
				continue;
		}
		rc = fn(cJSON_GetArrayItem(pair, 0)->valuestring, e, 0, arg);
	}
	if (rc == 0 && ws)
		rc = list_later(t, st, ws, &l);
	cJSON_Delete(l.shown);
	cJSON_Delete(l.later);
	hmap_release(&l.held);
	hmap_release(&l.open);
	return rc;
}

/* In a job's line of scontrol show job: has it run its time limit? */
static int
over_time(const char *line)
{
	const char *r = strstr(line, " RunTime="), *l = strstr(line, " TimeLimit=");
	long run, lim;

	if (!r || !l)
		return 0;
	run = slurm_secs(r + 9);
	lim = slurm_secs(l + 11);
	return lim > 0 && run >= lim;
}

/* Is there a "kill" event in the run's log since its last start? */
static int
kill_logged(struct store *st, const char *ws, const char *run)
{
	char *path = xasprintf("ws/%s/runs/%s/log.jsonl", ws, run);
	const char *k, *start;
	struct store_stat sst;
	struct sbuf sb;
	int64_t off;
	int found = 0;

	sbuf_init(&sb, (size_t)1 << 20);
	if (store_stat(st, path, &sst) == 0) {
		/* the kill is among the last lines: it comes just before the signal */
		off = sst.size > 65536 ? sst.size - 65536 : 0;
		if (store_get(st, path, off, -1, &sb) == 0 && sbuf_addc(&sb, '\0') == 0) {
			start = strstr(sb.buf, "\"event\":\"started\"");
			for (k = sb.buf; (k = strstr(k, "\"event\":\"kill\"")); k++)
				found = !start || k > start;
		}
	}
	sbuf_release(&sb);
	free(path);
	return found;
}

int
target_slurm_stopped(struct store *st, const char *ws, const char *run, const char **status,
    char *why, size_t len)
{
	const char *job = getenv("SLURM_JOB_ID"), *arr = getenv("SLURM_ARRAY_JOB_ID"),
	    *task = getenv("SLURM_ARRAY_TASK_ID"), *had = getenv("SLURM_RESTART_COUNT"), *stp;
	char *argv[] = { "scontrol", "-o", "show", "job", NULL, NULL }, id[64];
	struct sbuf out, err;
	char state[32] = "";
	long restarts = -1;
	int rc = 0, tries = 0;

	if (kill_logged(st, ws, run)) {
		*status = "cancelled";
		snprintf(why, len, "killed with xt-runq kill");
		return 0;
	}
	if (!job || !*job)
		return -1;
	/* the task itself: the array's own id shows every task of the array */
	if (arr && *arr && task && *task)
		snprintf(id, sizeof(id), "%s_%s", arr, task);
	else
		snprintf(id, sizeof(id), "%s", job);
	argv[4] = id;
	sbuf_init(&out, 1 << 20);
	sbuf_init(&err, 1 << 16);
	/* Slurm signals every process of a step, scontrol too, and a step of
	 * several nodes is signalled more than once as it ends (its srun, its
	 * other nodes' ends): one killed so is asked again */
	while ((rc = run_cmd(argv, NULL, &out, &err)) > 128 && tries++ < 5) {
		sbuf_reset(&out);
		sbuf_reset(&err);
		usleep(100000);
	}
	if (rc == 0 && sbuf_addc(&out, '\0') == 0 && (stp = strstr(out.buf, " JobState="))) {
		snprintf(state, sizeof(state), "%.*s", (int)strcspn(stp + 10, " \n"), stp + 10);
		if ((stp = strstr(out.buf, " Restarts=")))
			restarts = strtol(stp + 10, NULL, 10);
	}
	if (!*state) {
		rc = -1;
	} else if (restarts > (had && *had ? strtol(had, NULL, 10) : 0)) {
		/* requeued (preempted, or scontrol requeue): Slurm counts the restart
		 * before it stops the task, and runs it again */
		*status = "requeued";
		snprintf(why, len, "Slurm requeued its job %s (preempted, or requeued by hand)", id);
	} else if (over_time(out.buf) || !strcmp(state, "TIMEOUT")) {
		/* the time limit's signal may come while the job still shows running */
		*status = "failed";
		snprintf(why, len, "Slurm stopped its job %s: TIMEOUT (its time limit)", id);
	} else if (state_runs(state) || state_waits(state) || !strcmp(state, "CANCELLED")) {
		/*
		 * a scancel: the job shows CANCELLED, or COMPLETING (scontrol shows
		 * that flag, not the end state under it, until every process of
		 * the job, this one too, has ended), or still running for a
		 * moment (1)
		 */
		*status = "cancelled";
		snprintf(why, len, "its Slurm job %s was cancelled (scancel)", id);
		rc = strcmp(state, "CANCELLED") && strcmp(state, "COMPLETING");
	} else {
		/* PREEMPTED, NODE_FAIL, DEADLINE, OUT_OF_MEMORY... */
		*status = "failed";
		snprintf(why, len, "Slurm stopped its job %s: %s", id, state);
	}
	sbuf_release(&out);
	sbuf_release(&err);
	return rc;
}

const struct target_ops target_slurm_ops = {
	"slurm", slurm_open, slurm_close, slurm_prepare, slurm_submit, slurm_cancel, slurm_poll, NULL,
	slurm_list, 1, 1,
};

/* The number in environment variable name, from min to max, into *v: 0, or -1 with err set. */
static int
env_num(const char *name, int64_t min, int64_t max, int64_t *v, char *err, size_t len)
{
	const char *s = getenv(name);

	if (s && parse_i64(s, min, max, v) == 0)
		return 0;
	snprintf(err, len, "%s is %s%s%s, not a number from %lld to %lld", name, s ? "'" : "unset",
	    s ? s : "", s ? "'" : "", (long long)min, (long long)max);
	return -1;
}

int
target_slurm_place(int *node_rank, int *nnodes, const char **addr, int *port, char *err,
    size_t len)
{
	const char *a = getenv("XT_MASTER_ADDR");
	int64_t n, k, p;

	if (!a)
		return 0;
	if (!*a) {
		snprintf(err, len, "XT_MASTER_ADDR is empty");
		return -1;
	}
	if (env_num("SLURM_NNODES", 1, 1 << 20, &n, err, len) < 0 ||
	    env_num("SLURM_NODEID", 0, n - 1, &k, err, len) < 0 ||
	    env_num("XT_MASTER_PORT", 1, 65535, &p, err, len) < 0)
		return -1;
	*node_rank = (int)k;
	*nnodes = (int)n;
	*addr = a;
	*port = (int)p;
	return 1;
}
