/* searchjob.c: see searchjob.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "prune.h"
#include "run.h"
#include "search.h"
#include "searchjob.h"
#include "space.h"
#include "util.h"
#include "banned.h"

#define SLOT_TRIES 1000
#define PRUNE_EVERY 1.0	/* seconds between checks of a run */
#define LOG_MAX ((size_t)64 << 20)	/* a longer log is left out of prune checks */

static cJSON *given;	/* xt-submit's search options, name -> value */

/* The numeric options; the first NUM_WHOLE take whole numbers only (counts, steps, a seed). */
#define NUM_WHOLE 6
static const char *const numopts[] = {
	"seed", "startup", "delay-evaluation", "evaluation-interval", "min-resource", "min-runs",
	"slack-factor", "slack-amount", "truncation-percentage", "reduction-factor", NULL
};

/* 0: not numeric; 1: a number; 2: a whole number. */
static int
numopt_kind(const char *name)
{
	for (int i = 0; numopts[i]; i++)
		if (!strcmp(name, numopts[i]))
			return i < NUM_WHOLE ? 2 : 1;
	return 0;
}

void
searchjob_option(const char *name, const char *value)
{
	if (!given && !(given = cJSON_CreateObject()))
		die("out of memory");
	if (!strcmp(name, "search-opt")) {
		const char *eq = strchr(value, '=');
		char *key;
		double d;
		int kind;

		if (!eq)
			die_status(EXIT_USAGE, "option '--search-opt': expected NAME=VALUE, not '%s'", value);
		key = xstrndup(value, (size_t)(eq - value));
		kind = numopt_kind(key);
		if (strcmp(key, "metric") && strcmp(key, "goal") && !kind)
			die_status(EXIT_USAGE, "option '--search-opt': unknown name '%s'", key);
		if (kind && (parse_double(eq + 1, &d) < 0 || !isfinite(d) || d < 0))
			die_status(EXIT_USAGE, "option '--search-opt': %s '%s' is not a number >= 0", key,
			    eq + 1);
		if (kind == 2 && (d != floor(d) || d > 1e15))
			die_status(EXIT_USAGE, "option '--search-opt': %s '%s' is not a whole number",
			    key, eq + 1);
		json_set_str(given, key, eq + 1);
		free(key);
		return;
	}
	json_set_str(given, name, value);
}

static double
num(const char *key, double def)
{
	const char *s = json_str(given, key);
	double d;

	return s && parse_double(s, &d) == 0 ? d : def;
}

/*
 * The number of runs of a search job by algo over sp: nruns, or for a
 * grid without --runs (nruns < 0) one per point. Dies (2) when nruns is
 * more than the grid's points, or than the configurations of a finite
 * space (which random, tpe and gp never repeat; dgd repeats by design).
 */
static long
search_runs(int algo, const struct space *sp, const char *file, long nruns)
{
	uint64_t size = algo == SEARCH_GRID ? space_grid_size(sp) : algo == SEARCH_DGD ?
	    UINT64_MAX : space_size(sp);

	if (nruns < 0 && algo == SEARCH_GRID) {
		if (size > SEARCHJOB_RUNS_MAX)
			die_status(EXIT_USAGE, "--search grid: the grid of '%s' has %llu points, more "
			    "runs than a job can have (%ld); give --runs N", file,
			    (unsigned long long)size, (long)SEARCHJOB_RUNS_MAX);
		return (long)size;
	}
	if (nruns < 0)
		return 1;
	if ((uint64_t)nruns > size)
		die_status(EXIT_USAGE, "--runs %ld: %s '%s' has only %llu %s", nruns, algo == SEARCH_GRID ?
		    "the grid of" : "the space", file, (unsigned long long)size, algo == SEARCH_GRID ?
		    (size == 1 ? "point" : "points") : (size == 1 ? "configuration" :
		    "configurations"));
	return nruns;
}

long
searchjob_submit(cJSON *job, int has_hp, long nruns)
{
	const char *algo = json_str(given, "search"), *file = json_str(given, "space");
	const char *policy = json_str(given, "prune"), *metric = json_str(given, "metric");
	const char *goal = json_str(given, "goal");
	char err[1024];
	cJSON *o;
	int a = algo ? search_algo_parse(algo) : -1;

	if (!given)
		return nruns < 0 ? 1 : nruns;
	if (!metric)
		metric = config_str("search.metric", NULL);
	if (!goal)
		goal = config_str("search.goal", "max");
	if (!algo != !file)
		die_status(EXIT_USAGE, "--search ALGO and --space FILE go together");
	if (algo && a < 0)
		die_status(EXIT_USAGE, "option '--search': unknown algorithm '%s'", algo);
	/* grid and random search do not look at results; a policy and the models do */
	if (!metric && (policy || (a != SEARCH_GRID && a != SEARCH_RANDOM)))
		die_status(EXIT_USAGE, "%s needs a metric: --search-opt metric=NAME", policy ?
		    "--prune" : "--search");
	if (strcmp(goal, "max") && strcmp(goal, "min"))
		die_status(EXIT_USAGE, "option '--search-opt': goal must be max or min, not '%s'", goal);
	if (algo || file) {
		struct space sp;
		struct sbuf sb;

		if (has_hp)
			die_status(EXIT_USAGE, "--search and --hp exclude each other");
		sbuf_init(&sb, (size_t)1 << 20);
		if (file_read(file, &sb) < 0)
			die_status(EXIT_USAGE, "option '--space': cannot read '%s':", file);
		space_init(&sp);
		if (space_load_text(&sp, file, sb.buf, sb.len, err, sizeof(err)) < 0)
			die_status(EXIT_USAGE, "%s", err);
		nruns = search_runs(a, &sp, file, nruns);
		space_release(&sp);
		o = cJSON_CreateObject();
		json_set_str(o, "algo", algo);
		json_set_str(o, "space", sb.buf);
		json_set_str(o, "space_file", file);
		if (metric)
			json_set_str(o, "metric", metric);
		json_set_str(o, "goal", goal);
		json_set_num(o, "seed", num("seed", 0));
		if (json_str(given, "startup"))
			json_set_num(o, "startup", num("startup", 10));
		json_set(job, "search", o);
		sbuf_release(&sb);
	}
	if (policy) {
		struct prune_opts po;

		if (prune_policy_parse(policy) < 0)
			die_status(EXIT_USAGE, "option '--prune': unknown policy '%s'", policy);
		prune_opts_default(&po, PRUNE_MEDIAN, metric);
		o = cJSON_CreateObject();
		json_set_str(o, "policy", policy);
		json_set_str(o, "metric", metric);
		json_set_str(o, "goal", goal);
		json_set_num(o, "delay-evaluation", num("delay-evaluation", (double)po.delay));
		json_set_num(o, "evaluation-interval", num("evaluation-interval", (double)po.interval));
		json_set_num(o, "slack-factor", num("slack-factor", po.slack_factor));
		json_set_num(o, "slack-amount", num("slack-amount", po.slack_amount));
		json_set_num(o, "truncation-percentage", num("truncation-percentage", po.truncation));
		json_set_num(o, "min-resource", num("min-resource", (double)po.min_resource));
		json_set_num(o, "reduction-factor", num("reduction-factor", po.reduction));
		json_set_num(o, "min-runs", num("min-runs", (double)po.min_runs));
		if (num("evaluation-interval", 1) < 1)
			die_status(EXIT_USAGE, "option '--search-opt': evaluation-interval must be >= 1");
		if (num("reduction-factor", 3) <= 1)
			die_status(EXIT_USAGE, "option '--search-opt': reduction-factor must be > 1");
		/* min-resource 0 would leave ASHA's first rung at 0 for ever */
		if (num("min-resource", 1) < 1)
			die_status(EXIT_USAGE, "option '--search-opt': min-resource must be >= 1");
		if (num("min-runs", 1) < 1)
			die_status(EXIT_USAGE, "option '--search-opt': min-runs must be >= 1");
		if (num("truncation-percentage", 0) > 100)
			die_status(EXIT_USAGE, "option '--search-opt': truncation-percentage must be "
			    "<= 100");
		json_set(job, "prune", o);
	}
	cJSON_Delete(given);
	given = NULL;
	return nruns < 0 ? 1 : nruns;
}

/* Load the space of job's search into sp (initialized here): 0, or -1 when it has none. */
static int
job_space(const cJSON *job, struct space *sp)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(job, "search");
	const char *text = json_str(s, "space");
	char err[1024];

	space_init(sp);
	if (!text || space_load_text(sp, json_str(s, "space_file") ? json_str(s, "space_file") :
	    "space", text, strlen(text), err, sizeof(err)) < 0) {
		space_release(sp);
		return -1;
	}
	return 0;
}

int
searchjob_log_scale(const cJSON *job, const char *name)
{
	struct space sp;
	int i, log = 0;

	if (!job || job_space(job, &sp) < 0)
		return 0;
	for (i = 0; i < sp.n; i++)
		if (!strcmp(sp.hp[i].name, name))
			log = sp.hp[i].kind == HP_LOGUNIFORM || sp.hp[i].kind == HP_QLOGUNIFORM ||
			    sp.hp[i].kind == HP_LOGNORMAL || sp.hp[i].kind == HP_QLOGNORMAL;
	space_release(&sp);
	return log;
}

cJSON *
searchjob_names(const cJSON *job)
{
	struct space sp;
	cJSON *names;

	if (job_space(job, &sp) < 0)
		return NULL;
	names = cJSON_CreateArray();
	for (int i = 0; i < sp.n; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(sp.hp[i].name));
	space_release(&sp);
	return names;
}

/* The slots' history: run records with the slots' hparams; *mine: this run's slot, if any. */
static cJSON *
history(struct store *st, const char *ws, const char *dir, const char *run, long *nslots,
    cJSON **mine)
{
	cJSON *hist = cJSON_CreateArray();
	struct sbuf sb;
	long k;

	sbuf_init(&sb, (size_t)1 << 20);
	*mine = NULL;
	for (k = 0;; k++) {
		char *p = xasprintf("%s/%ld.json", dir, k);
		int rc = store_get(st, p, 0, -1, &sb);
		cJSON *slot, *rec;
		const char *who;

		free(p);
		if (rc == STORE_ENOENT)
			break;
		if (rc < 0 || !(slot = cJSON_Parse(sb.buf)) || !(who = json_str(slot, "run")))
			continue;
		if (!strcmp(who, run) && !*mine)
			*mine = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(slot, "hparams"), 1);
		if (!(rec = run_load(st, ws, who, &rc))) {
			rec = cJSON_CreateObject();
			json_set_str(rec, "run", who);
			json_set_str(rec, "status", "queued");
		}
		json_set(rec, "hparams", cJSON_DetachItemFromObjectCaseSensitive(slot, "hparams"));
		cJSON_AddItemToArray(hist, rec);
		cJSON_Delete(slot);
	}
	sbuf_release(&sb);
	*nslots = k;
	return hist;
}

/*
 * Give rec the hparams hp (consumed): its "given_hparams", merged into its
 * "hparams" (over anything logged before it started), and added to its "cmd".
 */
static void
give(const cJSON *job, cJSON *rec, cJSON *hp)
{
	const char *prefix = json_str(job, "hp_prefix"), *cmd = json_str(rec, "cmd");
	cJSON *all = cJSON_GetObjectItemCaseSensitive(rec, "hparams");
	struct sbuf sb;
	const cJSON *it;

	sbuf_init(&sb, SBUF_MAX_DEFAULT);
	sbuf_adds(&sb, cmd ? cmd : "");
	if (prefix && *prefix)
		cJSON_ArrayForEach(it, hp) {
			char *a = run_hp_arg(prefix, it);

			sbuf_addf(&sb, " %s", a);
			free(a);
		}
	json_set_str(rec, "cmd", sb.buf);
	if (!cJSON_IsObject(all)) {
		all = cJSON_CreateObject();
		json_set(rec, "hparams", all);
	}
	cJSON_ArrayForEach(it, hp)
		json_set(all, it->string, cJSON_Duplicate(it, 1));
	json_set(rec, "given_hparams", hp);
	sbuf_release(&sb);
}

int
searchjob_assign(struct store *st, const char *ws, const cJSON *job, cJSON *rec)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(job, "search");
	const cJSON *hp = run_given_hparams(rec);
	const char *run = json_str(rec, "run"), *text = json_str(s, "space");
	char err[1024], *dir;
	struct space sp;
	int ret = -1;

	if (!cJSON_IsObject(s) || (cJSON_IsObject(hp) && hp->child))
		return 0;
	space_init(&sp);
	if (!text || space_load_text(&sp, json_str(s, "space_file") ? json_str(s, "space_file") :
	    "space", text, strlen(text), err, sizeof(err)) < 0) {
		warnx("run %s: the job's search space is bad: %s", run, text ? err : "missing");
		space_release(&sp);
		return -1;
	}
	dir = xasprintf("ws/%s/jobs/%s/search", ws, json_str(job, "job"));
	for (int t = 0; t < SLOT_TRIES && ret < 0; t++) {
		struct search se;
		cJSON *mine, *out, *slot;
		long k;
		int rc, algo = search_algo_parse(json_str(s, "algo") ? json_str(s, "algo") : "");
		cJSON *hist = history(st, ws, dir, run, &k, &mine);
		char *p, *line;
		size_t len;

		if (mine) {
			give(job, rec, mine);
			cJSON_Delete(hist);
			ret = 0;
			break;
		}
		/* Each slot its own seed: replayable, and different from the slot before. */
		search_init(&se, &sp, json_str(s, "metric") ? json_str(s, "metric") : "",
		    !strcmp(json_str(s, "goal") ?
		    json_str(s, "goal") : "max", "max"), (uint64_t)json_num(s, "seed", 0) * 1000003 +
		    (uint64_t)k);
		se.startup = (int)json_num(s, "startup", 10);
		for (const cJSON *r = hist->child; r; r = r->next)
			search_add(&se, r, err, sizeof(err));
		out = cJSON_CreateArray();
		if (algo < 0 || search_next(&se, algo, 1, out, err, sizeof(err)) != 1) {
			warnx("run %s: the search proposed nothing: %s", run, algo < 0 ? "bad algorithm" :
			    "the space is used up");
			cJSON_Delete(out);
			cJSON_Delete(hist);
			search_release(&se);
			break;
		}
		slot = cJSON_CreateObject();
		json_set_str(slot, "run", run);
		json_set(slot, "hparams", cJSON_DetachItemFromArray(out, 0));
		line = json_line(slot, &len);
		p = xasprintf("%s/%ld.json", dir, k);
		rc = store_create(st, p, line, len);
		if (rc == 0) {
			give(job, rec, cJSON_DetachItemFromObjectCaseSensitive(slot, "hparams"));
			ret = 0;
		} else if (rc != STORE_EXIST) {
			warnx("run %s: cannot claim search slot %ld: %s", run, k, store_error(st));
			t = SLOT_TRIES;
		}
		free(p);
		free(line);
		cJSON_Delete(slot);
		cJSON_Delete(out);
		cJSON_Delete(hist);
		search_release(&se);
	}
	free(dir);
	space_release(&sp);
	return ret;
}

int
searchjob_learns(const cJSON *job)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(job, "search");
	int algo = search_algo_parse(json_str(s, "algo") ? json_str(s, "algo") : "");

	return algo == SEARCH_TPE || algo == SEARCH_GP || algo == SEARCH_DGD;
}

void
searchjob_pruner_init(struct searchjob_pruner *w)
{
	memset(w, 0, sizeof(*w));
	sbuf_init(&w->sb, LOG_MAX);
}

void
searchjob_pruner_release(struct searchjob_pruner *w)
{
	for (int i = 0; i < w->nlog; i++) {
		free(w->log[i].run);
		free(w->log[i].path);
	}
	free(w->log);
	if (w->state > 0)
		prune_release(&w->p);
	free(w->metric);
	sbuf_release(&w->sb);
	memset(w, 0, sizeof(*w));
}

/* Set w up for job: 0, or -1 when it has no usable policy. */
static int
pruner_setup(struct searchjob_pruner *w, const char *ws, const cJSON *job)
{
	const cJSON *po = cJSON_GetObjectItemCaseSensitive(job, "prune"), *it;
	struct prune_opts o;
	int policy;

	if (!cJSON_IsObject(po) || !json_str(po, "metric"))
		return -1;
	if ((policy = prune_policy_parse(json_str(po, "policy") ? json_str(po, "policy") : "")) < 0)
		return -1;
	w->metric = xstrdup(json_str(po, "metric"));
	prune_opts_default(&o, policy, w->metric);
	o.maximize = !json_str(po, "goal") || !strcmp(json_str(po, "goal"), "max");
	o.delay = (long)json_num(po, "delay-evaluation", (double)o.delay);
	o.interval = (long)json_num(po, "evaluation-interval", (double)o.interval);
	o.interval = o.interval < 1 ? 1 : o.interval;
	o.slack_factor = json_num(po, "slack-factor", 0);
	o.slack_amount = json_num(po, "slack-amount", 0);
	o.truncation = json_num(po, "truncation-percentage", o.truncation);
	o.min_resource = (long)json_num(po, "min-resource", 1);
	o.reduction = fmax(json_num(po, "reduction-factor", 3), 1.0001);
	o.min_runs = (long)json_num(po, "min-runs", (double)o.min_runs);
	prune_init(&w->p, &o);
	/* every run now, in the job's order, so that a late log keeps its run's place */
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(job, "runs")) {
		struct searchjob_log *l;
		int idx;

		if (!cJSON_IsString(it) || (idx = prune_run_add(&w->p, it->valuestring)) < w->nlog)
			continue;
		w->log = xrealloc(w->log, (size_t)(w->nlog + 1) * sizeof(*w->log));
		l = &w->log[w->nlog++];
		memset(l, 0, sizeof(*l));
		l->run = xstrdup(it->valuestring);
		l->path = run_path(ws, l->run, "log.jsonl");
		l->idx = idx;
	}
	return 0;
}

/* Forget what was taken from l: its run is read again from the start. */
static void
forget(struct searchjob_pruner *w, struct searchjob_log *l)
{
	prune_run_reset(&w->p, l->idx);
	l->off = 0;
	l->ntail = 0;
}

/*
 * Feed the whole lines l's log gained to w->p, each tagged with the run's
 * name. As a read of the whole log would: a log that cannot be read (or
 * is longer than LOG_MAX) gives nothing, and a NUL byte ends what is read.
 */
static void
follow(struct searchjob_pruner *w, struct store *st, struct searchjob_log *l)
{
	struct sbuf *sb = &w->sb;
	char *line, *nl, *end, err[256];
	size_t got;
	int rc;

	sb->max = l->ntail + (LOG_MAX - (size_t)l->off);
	rc = store_get(st, l->path, l->off - (int64_t)l->ntail, -1, sb);
	if (rc == 0 && (sb->len < l->ntail || memcmp(sb->buf, l->tail, l->ntail))) {
		forget(w, l);
		sb->max = LOG_MAX;
		rc = store_get(st, l->path, 0, -1, sb);
	}
	if (rc < 0) {
		forget(w, l);
		return;
	}
	end = sb->buf + sb->len;
	for (line = sb->buf + l->ntail; line < end; line = nl + 1) {
		cJSON *o;

		if (!(nl = memchr(line, '\n', (size_t)(end - line))) ||
		    memchr(line, '\0', (size_t)(nl - line)))
			break;
		*nl = '\0';
		if ((o = cJSON_Parse(line))) {
			json_set_str(o, "run", l->run);
			prune_add(&w->p, o, err, sizeof(err));
			cJSON_Delete(o);
		}
		*nl = '\n';
	}
	/* sb holds the bytes from off - ntail to off + got */
	got = (size_t)(line - sb->buf) - l->ntail;
	l->off += (int64_t)got;
	l->ntail = l->ntail + got < sizeof(l->tail) ? l->ntail + got : sizeof(l->tail);
	memcpy(l->tail, line - l->ntail, l->ntail);
}

int
searchjob_pruner_read(struct searchjob_pruner *w, struct store *st, const char *ws,
    const cJSON *job)
{
	if (w->state == 0)
		w->state = pruner_setup(w, ws, job) < 0 ? -1 : 1;
	if (w->state < 0)
		return -1;
	for (int i = 0; i < w->nlog; i++)
		follow(w, st, &w->log[i]);
	return 0;
}

int
searchjob_prune_due(const struct searchjob_pruner *w)
{
	return w->state >= 0 && time_mono() - w->last >= PRUNE_EVERY;
}

int
searchjob_prune(struct store *st, const char *ws, const cJSON *job, const char *run,
    struct searchjob_pruner *w)
{
	double now = time_mono();
	cJSON *d;

	if (w->state < 0 || now - w->last < PRUNE_EVERY)
		return 0;
	w->last = now;
	if (searchjob_pruner_read(w, st, ws, job) < 0 || !(d = prune_check_run(&w->p, run)))
		return 0;
	cJSON_DeleteItemFromObjectCaseSensitive(d, "run");
	run_event(st, ws, run, "pruned", -1, d);
	return 1;
}
