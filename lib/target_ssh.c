/*
 * target_ssh.c: the ssh target, a pool of boxes reached with libssh2
 * (ssh.h). Each box has its own spool under remote-dir (its XT_HOME) and
 * its own xt-runq, the tools staged into remote-dir/bin.
 *
 * Configuration (targets.NAME): hosts (a list, or one name), max-runs
 * (per box), identity-file, known-hosts, ssh-config (a client config
 * instead of ~/.ssh/config; "none": no file), accept-new-hosts ("yes": a
 * new box's host key is recorded, as StrictHostKeyChecking=accept-new
 * does; default "no"), connect-timeout (seconds), remote-dir
 * (default ~/.xt; %h the host's name, %p its port, %r the login, %% a
 * '%'), env (NAME: VALUE set for xt-runq on the box, and so its runs),
 * binaries (the folder of the tools to stage).
 *
 * A box is made ready once per process, at its first use (prepare, or a
 * submit of a recovery): connected, the tools staged (ssh_stage: only
 * those missing or different), the store's credentials file written
 * (remote-dir/azure, mode 0600) for an Azure store, and the store's id
 * as the box sees it (xt-runq id) compared with this side's. Every
 * remote command runs the staged xt-runq with XT_HOME=remote-dir:
 *   add --kick   the entries of a submit, then a drain when none runs
 *   ls --kick    what the box holds, and a drain when work waits
 *   kill         runs it holds
 * so a submit, a look and a kill each cost one connection per box, the
 * connection kept for as long as the target is open.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hmap.h"
#include "index.h"
#include "json.h"
#include "life.h"
#include "run.h"
#include "ssh.h"
#include "target_int.h"
#include "banned.h"

/* The tools staged on a box */
static const char *const tools[] = { "xt", "xt-runq", "xt-log", "xt-put", "xt-get",
	"xt-submit", "xt-search", "xt-report" };
#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

enum { BOX_NEW, BOX_UP, BOX_READY, BOX_DOWN };

struct box {
	char *name;		/* as configured: "me@gpu2:2222" */
	struct ssh_host h;
	struct ssh *s;
	char *rdir;		/* remote-dir, expanded */
	int state, code;	/* BOX_*; the ssh code that put it down */
	char err[1024];
	int load, took;		/* runs it held at prepare; runs placed on it since */
};

struct sshpriv {
	struct box *box;
	size_t n;
	struct ssh_opts o;
	char *envs;		/* NAME='VALUE' ... for remote commands */
	char *bindir;		/* targets.NAME.binaries, or NULL */
};

static struct sshpriv *
priv(struct target *t)
{
	return t->priv;
}

/* remote-dir with %h %p %r %% of box b expanded. */
static char *
expand_dir(const char *fmt, const struct ssh_host *h)
{
	struct sbuf sb;
	const char *c;

	sbuf_init(&sb, 4096);
	for (c = fmt; *c; c++) {
		if (*c != '%' || !c[1]) {
			sbuf_addc(&sb, *c);
			continue;
		}
		c++;
		if (*c == 'h')
			sbuf_adds(&sb, h->alias);
		else if (*c == 'p')
			sbuf_addf(&sb, "%d", h->port);
		else if (*c == 'r')
			sbuf_adds(&sb, h->user);
		else
			sbuf_addc(&sb, *c);
	}
	return sb.buf ? sb.buf : xstrdup("");
}

static int
ssh_open(struct target *t, char *err, size_t errlen)
{
	const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(t->conf, "hosts"), *it;
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(t->conf, "env");
	const char *v, *rdir = target_conf_str(t, "remote-dir");
	struct sshpriv *p;
	struct sbuf envs;
	char w[300];
	int64_t secs;
	size_t i;

	target_conf_where(t, "hosts", w, sizeof(w));
	if (cJSON_IsString(hosts) ? !*hosts->valuestring :
	    !cJSON_IsArray(hosts) || !cJSON_GetArraySize(hosts)) {
		snprintf(err, errlen, "%s: target '%s' of type ssh needs hosts (a list of names as "
		    "ssh takes them)", w, t->name);
		return TARGET_EUSAGE;
	}
	p = t->priv = xcalloc(1, sizeof(*p));
	p->n = cJSON_IsString(hosts) ? 1 : (size_t)cJSON_GetArraySize(hosts);
	p->box = xcalloc(p->n, sizeof(*p->box));
	p->o.config = target_conf_str(t, "ssh-config");
	p->o.identity_file = target_conf_str(t, "identity-file");
	p->o.known_hosts = target_conf_str(t, "known-hosts");
	/* (a name with "key" in it would read as a credential's) */
	if ((v = target_conf_str(t, "accept-new-hosts"))) {
		if (!strcmp(v, "yes") || !strcmp(v, "true"))
			p->o.strict = SSH_STRICT_ACCEPT_NEW;
		else if (!strcmp(v, "no") || !strcmp(v, "false"))
			p->o.strict = SSH_STRICT_YES;
		else {
			target_conf_where(t, "accept-new-hosts", w, sizeof(w));
			snprintf(err, errlen, "%s: accept-new-hosts '%s': expected yes or no", w, v);
			return TARGET_EUSAGE;
		}
	}
	if ((v = target_conf_str(t, "connect-timeout"))) {
		if (parse_i64(v, 1, 3600, &secs) < 0) {
			target_conf_where(t, "connect-timeout", w, sizeof(w));
			snprintf(err, errlen, "%s: connect-timeout '%s': expected seconds from 1 to 3600",
			    w, v);
			return TARGET_EUSAGE;
		}
		p->o.connect_timeout_ms = (int)secs * 1000;
	}
	if ((v = target_conf_str(t, "binaries")))
		p->bindir = xstrdup(v);
	sbuf_init(&envs, 1 << 16);
	cJSON_ArrayForEach(it, env) {
		size_t k = strspn(it->string, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
		    "0123456789");

		if (!cJSON_IsString(it) || !k || it->string[k] || (*it->string >= '0' &&
		    *it->string <= '9')) {
			target_conf_where(t, "env", w, sizeof(w));
			snprintf(err, errlen, "%s: env '%s': expected NAME: VALUE, a name of letters, "
			    "digits and '_'", w, it->string);
			sbuf_release(&envs);
			return TARGET_EUSAGE;
		}
		sbuf_addf(&envs, "%s=", it->string);
		ssh_quote(&envs, it->valuestring);
		sbuf_addc(&envs, ' ');
	}
	p->envs = envs.buf ? envs.buf : xstrdup("");
	for (i = 0; i < p->n; i++) {
		struct box *b = &p->box[i];
		const cJSON *h = cJSON_IsString(hosts) ? hosts : cJSON_GetArrayItem(hosts, (int)i);
		char e[1024];

		if (!cJSON_IsString(h)) {
			snprintf(err, errlen, "%s: hosts[%zu]: expected a host name", w, i);
			return TARGET_EUSAGE;
		}
		b->name = xstrdup(h->valuestring);
		if (ssh_host_resolve(b->name, &p->o, &b->h, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "%s: host '%s': %s", w, b->name, e);
			return TARGET_EUSAGE;
		}
		b->rdir = expand_dir(rdir ? rdir : "~/.xt", &b->h);
	}
	return 0;
}

static void
ssh_close(struct target *t)
{
	struct sshpriv *p = priv(t);
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		ssh_free(p->box[i].s);
		if (p->box[i].name)
			ssh_host_release(&p->box[i].h);
		free(p->box[i].name);
		free(p->box[i].rdir);
	}
	free(p->box);
	free(p->envs);
	free(p->bindir);
	free(p);
}

/* Put b down with the message of code (the ssh session's, or fmt). Returns TARGET_EFAIL. */
static int
box_down(struct box *b, int code, const char *fmt, ...) PRINTF(3, 4);
static int
box_down(struct box *b, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	b->state = BOX_DOWN;
	b->code = code;
	return TARGET_EFAIL;
}

/* Connect to b once. 0, or TARGET_EFAIL with b down. */
static int
box_connect(struct target *t, struct box *b)
{
	int rc;

	if (b->state == BOX_DOWN)
		return TARGET_EFAIL;
	if (b->state != BOX_NEW)
		return 0;
	b->s = ssh_new(&b->h, &priv(t)->o);
	if ((rc = ssh_connect(b->s)) < 0)
		return box_down(b, rc, "%s", ssh_error(b->s));
	b->state = BOX_UP;
	return 0;
}

/* The command line that runs the box's xt-runq with args (already quoted) appended. */
static void
runq_cmd(struct target *t, const struct box *b, struct store *st, struct sbuf *cmd,
    const char *args)
{
	sbuf_init(cmd, 1 << 20);
	sbuf_adds(cmd, "XT_BOX=");
	ssh_quote(cmd, b->name);
	sbuf_adds(cmd, " XT_HOME=");
	ssh_quote_path(cmd, b->rdir);
	sbuf_adds(cmd, " PATH=");
	ssh_quote_path(cmd, b->rdir);
	sbuf_addf(cmd, "/bin:\"$PATH\" %sexec xt-runq -j %d", priv(t)->envs, t->max_runs);
	if (st) {
		sbuf_adds(cmd, " -s ");
		ssh_quote(cmd, store_url(st));
	}
	sbuf_addf(cmd, " %s", args);
}

/*
 * Run xt-runq args on b with stdin in (NULL: none), its stdout into out
 * (may be NULL). 0, or TARGET_EFAIL with the message in b->err; a box
 * whose connection failed is put down.
 */
static int
box_runq(struct target *t, struct box *b, struct store *st, const char *args, const char *in,
    size_t inlen, struct sbuf *out)
{
	struct ssh_exec x;
	struct sbuf cmd;
	int rc;

	runq_cmd(t, b, st, &cmd, args);
	ssh_exec_init(&x, (size_t)64 << 20);
	x.in = in;
	x.inlen = inlen;
	rc = ssh_exec(b->s, cmd.buf, &x);
	if (rc == SSH_ELOST || rc == SSH_ECONNECT)
		rc = box_down(b, rc, "%s", ssh_error(b->s));
	else if (rc < 0)
		rc = TARGET_EFAIL, snprintf(b->err, sizeof(b->err), "%s", ssh_error(b->s));
	else if (x.status != 0) {
		char *nl;

		sbuf_addc(&x.err, '\0');
		if ((nl = strchr(x.err.buf, '\n')))
			*nl = '\0';
		snprintf(b->err, sizeof(b->err), "%s: xt-runq %s exited %d: %s", ssh_label(b->s),
		    args, x.status, x.err.len > 1 ? x.err.buf : "(no message)");
		rc = TARGET_EFAIL;
	}
	if (rc == 0 && out)
		sbuf_add(out, x.out.buf, x.out.len);
	ssh_exec_release(&x);
	sbuf_release(&cmd);
	return rc;
}

/*
 * The folder whose tools b gets: targets.NAME.binaries; else this
 * program's own when they are static, or when b is this machine (the
 * same kernel boot); else build-static/bin of the build tree beside
 * them. NULL with b->err set when there is none.
 */
static char *
tools_dir(struct target *t, struct box *b)
{
	char *self = self_dir(), *dir;
	struct sbuf out, mine;
	int same;

	if (priv(t)->bindir) {
		free(self);
		return xstrdup(priv(t)->bindir);
	}
	if (!self) {
		snprintf(b->err, sizeof(b->err), "cannot find this program (/proc/self/exe)");
		return NULL;
	}
#ifdef XT_STATIC_BUILD
	return self;
#endif
	sbuf_init(&out, 4096);
	sbuf_init(&mine, 4096);
	same = ssh_run(b->s, "cat /proc/sys/kernel/random/boot_id", &out) == 0 &&
	    file_read("/proc/sys/kernel/random/boot_id", &mine) == 0 && out.len == mine.len &&
	    !memcmp(out.buf, mine.buf, out.len);
	sbuf_release(&out);
	sbuf_release(&mine);
	if (same)
		return self;
	dir = xasprintf("%s/../../build-static/bin", self);
	free(self);
	if (access(dir, X_OK) == 0)
		return dir;
	snprintf(b->err, sizeof(b->err), "%s: the box is another machine and needs the static "
	    "xt tools, which are not beside this one: run make static, or set targets.%s.binaries",
	    ssh_label(b->s), t->name);
	free(dir);
	return NULL;
}

/*
 * Make b ready for runs of st (see the top): connected, tools staged,
 * credentials written, the store's id checked; its load counted. 0, or
 * TARGET_EFAIL with b down.
 */
static int
box_ready(struct target *t, struct box *b, struct store *st, const char *id)
{
	const char *local[NTOOLS];
	char *dir, *bin, *paths[NTOOLS], *nl;
	struct sbuf out, creds;
	size_t i, copied = 0;
	int rc;

	if (b->state == BOX_READY)
		return 0;
	if (box_connect(t, b) < 0)
		return TARGET_EFAIL;
	if (!(dir = tools_dir(t, b)))
		return box_down(b, SSH_ERR, "%s", b->err);
	for (i = 0; i < NTOOLS; i++)
		local[i] = paths[i] = path_join(dir, tools[i]);
	bin = xasprintf("%s/bin", b->rdir);
	rc = ssh_stage(b->s, local, NTOOLS, bin, &copied);
	for (i = 0; i < NTOOLS; i++)
		free(paths[i]);
	free(bin);
	free(dir);
	if (rc < 0)
		return box_down(b, rc, "%s", ssh_error(b->s));
	if (copied)
		fprintf(stderr, "xt: %s: %s: %zu tool%s staged into %s/bin\n", t->name, b->name,
		    copied, copied == 1 ? "" : "s", b->rdir);
	/* an Azure store's credentials, for the box's xt only */
	sbuf_init(&creds, 1 << 16);
	if (store_creds_text(st, &creds) < 0) {
		sbuf_release(&creds);
		return box_down(b, SSH_ERR, "%s", store_error(st));
	}
	if (creds.len) {
		char *f = xasprintf("%s/azure", b->rdir);

		rc = ssh_put_buf(b->s, creds.buf, creds.len, f, 0600);
		free(f);
	}
	if (creds.buf)
		memset(creds.buf, 0, creds.cap);
	sbuf_release(&creds);
	if (rc < 0)
		return box_down(b, rc, "%s", ssh_error(b->s));
	/* the store's id as the box sees it, then what it holds */
	sbuf_init(&out, (size_t)64 << 20);
	if (box_runq(t, b, st, "id && exec xt-runq ls", NULL, 0, &out) < 0) {
		sbuf_release(&out);
		return box_down(b, b->code ? b->code : SSH_ERR, "%s: the box does not reach store "
		    "'%s' (%s)", b->name, store_url(st), b->err);
	}
	sbuf_addc(&out, '\0');
	if (strncmp(out.buf, id, 32) || out.buf[32] != '\n') {
		box_down(b, SSH_ERR, "%s: the box does not reach store '%s': it sees another store "
		    "there (id %.32s, not %s); a remote target needs a store its boxes share "
		    "(az://, or a shared folder)", b->name, store_url(st), out.buf, id);
		sbuf_release(&out);
		return TARGET_EFAIL;
	}
	b->load = 0;
	for (nl = out.buf + 33; (nl = strchr(nl, '\n')); nl++)
		b->load++;
	sbuf_release(&out);
	b->state = BOX_READY;
	return 0;
}

/* Ready every box; how many are. Those that are not are warned about. */
static int
ready_all(struct target *t, struct store *st, const char **why)
{
	struct sshpriv *p = priv(t);
	char id[33];
	size_t i;
	int up = 0;

	if (store_id(st, id) < 0) {
		*why = store_error(st);
		return -1;
	}
	for (i = 0; i < p->n; i++) {
		if (box_ready(t, &p->box[i], st, id) == 0)
			up++;
		else
			*why = p->box[i].err;
	}
	return up;
}

/* The ready box with the most free slots (fewest placed on ties), or NULL. */
static struct box *
pick(struct sshpriv *p)
{
	struct box *best = NULL;
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct box *b = &p->box[i];

		if (b->state != BOX_READY)
			continue;
		if (!best || b->load + b->took < best->load + best->took)
			best = b;
	}
	return best;
}

static int
ssh_prepare(struct target *t, struct store *st, cJSON *runs)
{
	struct sshpriv *p = priv(t);
	const char *why = "";
	cJSON *r;
	size_t i;
	int up = ready_all(t, st, &why);

	if (up < 0)
		return target_fail(t, TARGET_EFAIL, "%s", why);
	for (i = 0; i < p->n; i++)
		if (p->box[i].state != BOX_READY && up > 0)
			warnx("target '%s': box %s skipped: %s", t->name, p->box[i].name,
			    p->box[i].err);
	if (up == 0)
		return target_fail(t, TARGET_EFAIL, "target '%s': no box can take runs%s %s",
		    t->name, p->n > 1 ? "; the last said:" : ":", why);
	cJSON_ArrayForEach(r, runs) {
		struct box *b = pick(p);

		json_set_str(r, "box", b->name);
		b->took++;
	}
	return 0;
}

/* The box named name, or NULL. */
static struct box *
box_named(struct sshpriv *p, const char *name)
{
	size_t i;

	for (i = 0; name && i < p->n; i++)
		if (!strcmp(p->box[i].name, name))
			return &p->box[i];
	return NULL;
}

/* Send the entries of runs (records) placed on b; the count added, or TARGET_EFAIL. */
static int
box_add(struct target *t, struct box *b, struct store *st, const cJSON *runs)
{
	struct sbuf in, out;
	const cJSON *r;
	int rc;

	sbuf_init(&in, (size_t)1 << 30);
	cJSON_ArrayForEach(r, runs) {
		cJSON *e;
		char *line;
		size_t len;

		if (strcmp(json_str(r, "box") ? json_str(r, "box") : "", b->name))
			continue;
		e = cJSON_CreateObject();
		json_set_str(e, "store", store_url(st));
		json_set_str(e, "ws", json_str(r, "ws"));
		json_set_str(e, "run", json_str(r, "run"));
		if (json_str(r, "job"))
			json_set_str(e, "job", json_str(r, "job"));
		line = json_line(e, &len);
		sbuf_add(&in, line, len);
		free(line);
		cJSON_Delete(e);
	}
	if (!in.len) {
		sbuf_release(&in);
		return 0;
	}
	sbuf_init(&out, 1 << 16);
	rc = box_runq(t, b, st, "add --kick", in.buf, in.len, &out);
	sbuf_release(&in);
	sbuf_release(&out);
	return rc;
}

/*
 * Record that run rec (of workspace ws) goes to box b, in the store first:
 * a box drops a run whose record names another (run_moved).
 */
static int
place(struct target *t, struct store *st, cJSON *rec, const char *ws, struct box *b)
{
	struct life l;
	int rc;

	if ((rc = life_open(&l, st, json_str(rec, "ws") ? json_str(rec, "ws") : ws,
	    json_str(rec, "run"))) == 0) {
		json_set_str(l.rec, "box", b->name);
		rc = life_save(&l, 0);
	}
	life_release(&l);
	if (rc < 0)
		return target_fail(t, TARGET_EFAIL, "%s", store_error(st));
	json_set_str(rec, "box", b->name);
	b->took++;
	return 0;
}

static int
ssh_submit(struct target *t, struct store *st, const cJSON *job, const cJSON *runs)
{
	struct sshpriv *p = priv(t);
	cJSON *mine = cJSON_Duplicate(runs, 1), *r;
	char id[33] = "";
	size_t i;
	int rc = 0;

	/* a run placed on no box of this target (a recovery's, the config changed) gets one */
	cJSON_ArrayForEach(r, mine) {
		struct box *b = box_named(p, json_str(r, "box"));

		if (b && b->state == BOX_READY)
			continue;
		/* the store's id, read once for all the runs */
		if (!id[0] && store_id(st, id) < 0) {
			rc = target_fail(t, TARGET_EFAIL, "%s", store_error(st));
			goto out;
		}
		if (!b || box_ready(t, b, st, id) < 0) {
			const char *why = "";

			if (ready_all(t, st, &why) <= 0 || !(b = pick(p))) {
				rc = target_fail(t, TARGET_EFAIL, "target '%s': no box can take run %s: %s",
				    t->name, json_str(r, "run"), b ? b->err : why);
				goto out;
			}
			if (place(t, st, r, json_str(job, "ws"), b) < 0) {
				rc = TARGET_EFAIL;
				goto out;
			}
		}
	}
	for (i = 0; i < p->n && rc == 0; i++)
		if (p->box[i].state == BOX_READY && box_add(t, &p->box[i], st, mine) < 0)
			rc = target_fail(t, TARGET_EFAIL, "%s", p->box[i].err);
out:
	cJSON_Delete(mine);
	return rc;
}

/* Call fn for each entry that box b holds (xt-runq ls --kick there). 0, TARGET_EFAIL, or fn's. */
static int
box_each(struct target *t, struct box *b, struct store *st, target_list_fn fn, void *arg)
{
	struct sbuf out;
	char *line, *nl;
	int rc;

	if (box_connect(t, b) < 0)
		return TARGET_EFAIL;
	sbuf_init(&out, (size_t)64 << 20);
	if ((rc = box_runq(t, b, st, "ls --kick", NULL, 0, &out)) < 0) {
		sbuf_release(&out);
		return rc;
	}
	sbuf_addc(&out, '\0');
	for (line = out.buf; rc == 0 && line && *line; line = nl) {
		cJSON *e;

		if ((nl = strchr(line, '\n')))
			*nl++ = '\0';
		if (!(e = cJSON_Parse(line)))
			continue;
		json_set_str(e, "box", b->name);
		rc = fn(json_str(e, "state") ? json_str(e, "state") : "queued", e,
		    (long)json_num(e, "pid", 0), arg);
		cJSON_Delete(e);
	}
	sbuf_release(&out);
	return rc;
}

struct pollarg {
	struct hmap m;		/* run name -> its index in runs */
	struct target_status *runs;
	const char *ws;
};

static int
poll_one(const char *state, const cJSON *e, long pid, void *arg)
{
	struct pollarg *a = arg;
	const char *ws = json_str(e, "ws"), *run = json_str(e, "run");
	size_t *i;

	if (!ws || !run || strcmp(ws, a->ws) || !(i = hmap_get(&a->m, run, strlen(run))))
		return 0;
	if (!strcmp(state, "running")) {
		a->runs[*i].state = TARGET_RUNNING;
		a->runs[*i].pid = pid;
		snprintf(a->runs[*i].node, sizeof(a->runs[*i].node), "%s", json_str(e, "box"));
	} else if (a->runs[*i].state != TARGET_RUNNING) {
		a->runs[*i].state = TARGET_QUEUED;
	}
	return 0;
}

/*
 * A run no box holds, whose record has not ended: on a box that cannot
 * be reached, or gone from its box's queue. Lost: life_lost fails it or
 * queues it again, on a box that can take it.
 */
static int
settle_lost(struct target *t, struct store *st, const char *ws, struct target_status *s,
    cJSON *rec)
{
	struct sshpriv *p = priv(t);
	struct box *b = box_named(p, json_str(rec, "box"));
	const char *status = json_str(rec, "status");
	char why[1200];
	int rc;

	if (status && !strcmp(status, "queued") && b && b->state != BOX_DOWN) {
		/* never handed over (a submit cut short): handed now */
		rc = 1;
	} else {
		if (b && b->state == BOX_DOWN)
			snprintf(why, sizeof(why), "its box %s cannot be reached: %s", b->name, b->err);
		else
			snprintf(why, sizeof(why), "it is gone from the queue of its box %s",
			    b ? b->name : json_str(rec, "box") ? json_str(rec, "box") : "(none)");
		if ((rc = life_lost(st, ws, s->run, why)) < 0)
			return target_fail(t, TARGET_EFAIL, "%s", store_error(st));
		if (status && strcmp(status, "queued"))
			warnx("run %s: %s", s->run, why);
	}
	if (rc == 0) {
		cJSON *now = run_load(st, ws, s->run, NULL);

		s->state = TARGET_ENDED;
		snprintf(s->status, sizeof(s->status), "%s", now && json_str(now, "status") ?
		    json_str(now, "status") : "");
		cJSON_Delete(now);
		return 0;
	}
	/* queued again: on its box, or another that can take it */
	if (!b || b->state == BOX_DOWN) {
		const char *ignore;
		struct box *nb;

		if (ready_all(t, st, &ignore) < 0 || !(nb = pick(p))) {
			s->state = TARGET_QUEUED;	/* taken when a box answers */
			return 0;
		}
		if (place(t, st, rec, ws, nb) < 0)
			return TARGET_EFAIL;
		b = nb;
	} else {
		char id[33];

		if (store_id(st, id) < 0 || box_ready(t, b, st, id) < 0) {
			s->state = TARGET_QUEUED;
			return 0;
		}
	}
	{
		cJSON *one = cJSON_CreateArray();

		cJSON_AddItemReferenceToArray(one, rec);
		rc = box_add(t, b, st, one);
		cJSON_Delete(one);
	}
	s->state = TARGET_QUEUED;
	if (rc < 0)
		warnx("run %s: %s", s->run, b->err);
	return 0;
}

static int
ssh_poll(struct target *t, struct store *st, const char *ws, struct target_status *runs,
    size_t n)
{
	struct sshpriv *p = priv(t);
	struct pollarg a = { { 0 }, runs, ws };
	size_t i;
	int isnew, rc = 0, pass;

	hmap_init(&a.m);
	for (i = 0; i < n; i++)
		*hmap_put(&a.m, runs[i].run, strlen(runs[i].run), i, &isnew) = i;
	/* the boxes, then the records of runs they do not hold, then (a run that
	 * was moving between the box's queue and its running runs) once more */
	for (pass = 0; pass < 2 && rc == 0; pass++) {
		int left = 0;

		for (i = 0; i < p->n; i++)
			if (p->box[i].state != BOX_DOWN)
				box_each(t, &p->box[i], NULL, poll_one, &a);
		for (i = 0; i < n && rc == 0; i++) {
			cJSON *rec;
			int lrc;

			if (runs[i].state != TARGET_LOST || runs[i].status[0])
				continue;
			if (!(rec = run_load(st, ws, runs[i].run, &lrc)) && lrc != STORE_ENOENT) {
				rc = target_fail(t, TARGET_EFAIL, "%s", store_error(st));
				break;
			}
			if (rec && run_status_final(json_str(rec, "status"))) {
				runs[i].state = TARGET_ENDED;
				snprintf(runs[i].status, sizeof(runs[i].status), "%s",
				    json_str(rec, "status"));
			} else if (pass == 1 && rec) {
				rc = settle_lost(t, st, ws, &runs[i], rec);
			} else {
				left++;
			}
			cJSON_Delete(rec);
		}
		if (!left)
			break;
	}
	hmap_release(&a.m);
	return rc;
}

struct killarg {
	const char *ws;
	char *const *names;
	size_t n;
	int *found;
	struct sbuf args;	/* the run names to kill on the box, quoted */
};

static int
kill_one(const char *state, const cJSON *e, long pid, void *arg)
{
	struct killarg *k = arg;

	(void)state;
	(void)pid;
	if (target_match(e, k->ws, k->names, k->n, k->found)) {
		sbuf_addc(&k->args, ' ');
		ssh_quote(&k->args, json_str(e, "run"));
	}
	return 0;
}

static int
ssh_cancel(struct target *t, struct store *st, const char *ws, char *const *names, size_t n,
    int grace_ms, int *found)
{
	struct sshpriv *p = priv(t);
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct box *b = &p->box[i];
		struct killarg k = { ws, names, n, found, { 0 } };

		sbuf_init(&k.args, 1 << 20);
		if (grace_ms >= 0)
			sbuf_addf(&k.args, "-g %d.%03d ", grace_ms / 1000, grace_ms % 1000);
		sbuf_adds(&k.args, "-w ");
		ssh_quote(&k.args, ws);
		sbuf_adds(&k.args, " kill");
		{
			size_t base = k.args.len;

			if (box_each(t, b, NULL, kill_one, &k) < 0)
				warnx("target '%s': box %s: %s", t->name, b->name, b->err);
			else if (k.args.len > base && box_runq(t, b, st, k.args.buf, NULL, 0, NULL) < 0)
				warnx("target '%s': box %s: %s", t->name, b->name, b->err);
		}
		sbuf_release(&k.args);
	}
	return 0;
}

/*
 * The runs of ws on boxes that are down, by the index (their latest
 * records: of this target, on such a box, not ended), settled as a poll
 * settles them. 0 or a TARGET_E* code.
 */
/* A run on a box that is down. */
static int
on_down_box(const cJSON *rec, void *arg)
{
	struct box *b = box_named(arg, json_str(rec, "box"));

	return b && b->state == BOX_DOWN;
}

static int
settle_down(struct target *t, struct store *st, const char *ws)
{
	return target_settle_index(t, st, ws, on_down_box, priv(t));
}

static int
ssh_list(struct target *t, struct store *st, const char *ws, target_list_fn fn, void *arg)
{
	struct sshpriv *p = priv(t);
	size_t i;
	int rc = 0, down = 0;

	for (i = 0; i < p->n && rc >= 0; i++) {
		rc = box_each(t, &p->box[i], NULL, fn, arg);
		if (rc == TARGET_EFAIL) {
			warnx("target '%s': box %s: %s", t->name, p->box[i].name, p->box[i].err);
			down++;
			rc = 0;
		}
	}
	if (rc == 0 && down && st && ws)
		rc = settle_down(t, st, ws);
	if (rc == 0 && down == (int)p->n)
		return target_fail(t, TARGET_EFAIL, "target '%s': no box answered", t->name);
	return rc;
}

const struct target_ops target_ssh_ops = {
	"ssh", ssh_open, ssh_close, ssh_prepare, ssh_submit, ssh_cancel, ssh_poll, NULL, ssh_list,
	0, 0,
};
