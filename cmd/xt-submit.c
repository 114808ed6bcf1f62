/*
 * xt-submit: make a job and its runs in the store, snapshot the code, and
 * hand the runs to a target (the local queue, drained by xt-runq). Prints
 * one JSON line per run. Everything is checked before anything is stored.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "config.h"
#include "gpu.h"
#include "job.h"
#include "json.h"
#include "name.h"
#include "run.h"
#include "searchjob.h"
#include "target.h"
#include "tool.h"
#include "tree.h"
#include "banned.h"

struct opts {
	const char *ws, *exp, *target, *desc, *codedir, *hpfile, *rerun, *parent_script;
	const char *hp_prefix;
	long nruns, retries;
	long nodes, procs, gpus;	/* the run's size; 0: not given */
	double max_minutes;
	int wait, dry_run, runs_given, no_check;
	cJSON *tags;
	struct tree tree;
};

static const char usage_text[] =
    "usage: xt-submit [options] -- COMMAND [ARGS...]\n"
    "       xt-submit [options] --rerun RUN\n"
    "options:\n"
    "  -w WS, -e EXP, -t TARGET, -s STORE   where the job goes\n"
    "  -n, --runs N             N runs (with --hp: N runs per hparam set)\n"
    "  --hp FILE|-              hparam sets as JSON lines, one run per line\n"
    "  --hp-prefix P            pass hparams as P<name>=<value> (default --; '' for none)\n"
    "  -C, --code-dir DIR       snapshot DIR (default .); -x PATTERN omits files\n"
    "  --tag NAME[=VALUE]       tag the job and its runs; -d, --description TEXT\n"
    "  --retries N              run a failed run again up to N times\n"
    "  --max-minutes M          stop a run after M minutes (it fails)\n"
    "  --parent-script FILE     run FILE (in the snapshot) once per machine first\n"
    "  --nodes N, --procs-per-node P  each run is N x P processes (torchrun's environment)\n"
    "  --gpus K                 each run gets K GPUs of its target (CUDA_VISIBLE_DEVICES)\n"
    "  --wait                   wait for the runs (local: drain the queue here); exit with\n"
    "                           the worst status\n"
    "  --dry-run                print what would be made; store nothing\n"
    "  --no-check               do not check that the command's program and script exist\n"
    "  --search ALGO --space FILE  each run gets its hparams when it starts (xt-search(1))\n"
    "  --prune POLICY           stop runs early; --search-opt NAME=VALUE sets metric, goal, ...\n";

/*
 * A size of the runs: option --OPT or the configuration's key (the same
 * name), from min to max; 0 when neither gives it.
 */
static long
size_opt(const char *key, long min, long max)
{
	const char *s = config_str(key, NULL), *from = config_origin(key);
	int64_t v;

	if (!s)
		return 0;
	if (parse_i64(s, min, max, &v) < 0) {
		if (from && !strcmp(from, "option"))
			die_status(EXIT_USAGE, "option '--%s': '%s' is not a whole number from %ld to %ld",
			    key, s, min, max);
		die_status(EXIT_USAGE, "%s: %s '%s' is not a whole number from %ld to %ld",
		    from ? from : key, key, s, min, max);
	}
	return (long)v;
}

/*
 * The runs' sizes, from the options and the configuration (a rerun's from
 * its job when neither gives them), checked against the target.
 */
static void
sizes(struct opts *o, const cJSON *orig_job, struct target *tg)
{
	static const char *const key[3] = { "nodes", "procs-per-node", "gpus" };
	static const char *const field[3] = { "nodes", "procs_per_node", "gpus" };
	long *v[3] = { &o->nodes, &o->procs, &o->gpus };
	int i;

	for (i = 0; i < 3; i++)
		if (!(*v[i] = size_opt(key[i], i < 2 ? 1 : 0, i == 0 ? 10000 : 1024)) && orig_job)
			*v[i] = (long)json_num(orig_job, field[i], 0);
	if (o->nodes > 1 && !strcmp(target_type(tg), "local"))
		die_status(EXIT_USAGE, "--nodes %ld: target '%s' runs on this machine only; a run of several "
		    "nodes needs a target that places them (slurm)", o->nodes, target_name(tg));
	if (o->gpus > 0 && !strcmp(target_type(tg), "local")) {
		struct gpu_pool pool;
		char err[1024];

		size_t n;

		if (gpu_pool_load(&pool, target_name(tg), err, sizeof(err)) < 0)
			die_status(EXIT_USAGE, "%s", err);
		n = pool.n;
		gpu_pool_release(&pool);
		if ((size_t)o->gpus > n && !n)
			die_status(EXIT_USAGE, "--gpus %ld: target '%s' has no GPUs (none found on "
			    "this machine, and no targets.%s.gpus)", o->gpus, target_name(tg),
			    target_name(tg));
		if ((size_t)o->gpus > n)
			die_status(EXIT_USAGE, "--gpus %ld: target '%s' has only %zu GPU%s", o->gpus,
			    target_name(tg), n, n == 1 ? "" : "s");
	}
}

/* Set the runs' sizes that were given on a job's or a run's record. */
static void
set_sizes(const struct opts *o, cJSON *rec)
{
	if (o->nodes)
		json_set_num(rec, "nodes", (double)o->nodes);
	if (o->procs)
		json_set_num(rec, "procs_per_node", (double)o->procs);
	if (o->gpus)
		json_set_num(rec, "gpus", (double)o->gpus);
}

/* Read hparam sets: every line must be a JSON object; all are checked first. */
static cJSON *
read_hparams(const char *file)
{
	FILE *fp = strcmp(file, "-") ? fopen(file, "r") : stdin;
	struct jsonl_reader r;
	cJSON *all = cJSON_CreateArray(), *o;
	int rc;

	if (!fp)
		die("cannot open '%s':", file);
	jsonl_init(&r, fp, strcmp(file, "-") ? file : "<stdin>", 0);
	while ((rc = jsonl_next(&r, &o, 1)) == 1) {
		const cJSON *it;
		char why[256];

		cJSON_ArrayForEach(it, o)
			if (name_check(it->string, why, sizeof(why)) < 0)
				die("%s:%ld: hparam name '%s' %s", r.name, r.lineno, it->string, why);
		cJSON_AddItemToArray(all, o);
	}
	if (rc < 0)
		die("%s", r.err);
	if (cJSON_GetArraySize(all) == 0)
		die("%s: no hparam sets", r.name);
	jsonl_release(&r);
	if (fp != stdin)
		fclose(fp);
	return all;
}

static char *
cmd_text(const cJSON *argv, const cJSON *hp, const char *prefix)
{
	struct sbuf sb;
	const cJSON *it;

	sbuf_init(&sb, (size_t)1 << 20);
	cJSON_ArrayForEach(it, argv)
		sbuf_addf(&sb, "%s%s", sb.len ? " " : "", it->valuestring);
	if (*prefix && hp)
		cJSON_ArrayForEach(it, hp) {
			char *a = run_hp_arg(prefix, it);

			sbuf_addf(&sb, " %s", a);
			free(a);
		}
	return sbuf_detach(&sb, NULL);
}

static int
has_name(const cJSON *names, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, names)
		if (!strcmp(it->valuestring, name))
			return 1;
	return 0;
}

/* Refuse (2) an hparam of the sets or of the search's space that the command gives too. */
static void
check_swept(const struct opts *o, const cJSON *argv, const cJSON *hpsets, const cJSON *job)
{
	cJSON *names = searchjob_names(job);
	const cJSON *set, *it;
	char err[1024];
	int rc;

	rc = names ? job_check_hparams(argv, o->hp_prefix, names, err, sizeof(err)) : 0;
	cJSON_Delete(names);
	if (rc < 0)
		die_status(EXIT_USAGE, "--space '%s': %s", json_str(cJSON_GetObjectItemCaseSensitive(
		    job, "search"), "space_file"), err);
	names = cJSON_CreateArray();
	cJSON_ArrayForEach(set, hpsets)
		cJSON_ArrayForEach(it, set)
			if (!has_name(names, it->string))
				cJSON_AddItemToArray(names, cJSON_CreateString(it->string));
	rc = job_check_hparams(argv, o->hp_prefix, names, err, sizeof(err));
	cJSON_Delete(names);
	if (rc < 0)
		die_status(EXIT_USAGE, "--%s '%s': %s", o->hpfile ? "hp" : "rerun",
		    o->hpfile ? o->hpfile : o->rerun, err);
}

/* The job and its runs as records, before any name is allocated. */
static cJSON *
plan_runs(struct opts *o, const cJSON *argv, cJSON *hpsets)
{
	cJSON *runs = cJSON_CreateArray(), *hp;
	long i;
	char t[32];

	time_iso(time_now_ms(), t, sizeof(t));
	for (hp = hpsets ? hpsets->child : NULL; ; hp = hp ? hp->next : NULL) {
		for (i = 0; i < o->nruns; i++) {
			cJSON *r = cJSON_CreateObject();
			char *c = cmd_text(argv, hp, o->hp_prefix);

			json_set_str(r, "ws", o->ws);
			json_set_str(r, "exp", o->exp);
			json_set_str(r, "status", "queued");
			json_set_str(r, "target", o->target);
			json_set_str(r, "cmd", c);
			json_set(r, "hparams", hp ? cJSON_Duplicate(hp, 1) : cJSON_CreateObject());
			json_set(r, "given_hparams", hp ? cJSON_Duplicate(hp, 1) : cJSON_CreateObject());
			json_set(r, "tags", cJSON_Duplicate(o->tags, 1));
			json_set_str(r, "created", t);
			json_set_num(r, "attempt", 0);
			set_sizes(o, r);
			cJSON_AddItemToArray(runs, r);
			free(c);
		}
		if (!hp || !hp->next)
			break;
	}
	return runs;
}

static void
print_runs(const cJSON *runs)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, runs)
		json_print_line(stdout, r);
}

/* the ends a wait counts, in the order its summary names them */
static const char *const ends[] = { "completed", "failed", "cancelled", "pruned" };
#define NENDS (sizeof(ends) / sizeof(ends[0]))

/*
 * Have the target work its queue (the local one runs xt-runq here), then
 * wait for our runs to end; the worst exit status of the runs. A target
 * that runs them elsewhere is followed on stderr as xt-runq does here: a
 * line when a run is seen running and when it ends, then a summary.
 */
static int
wait_runs(struct store *st, struct target *t, const char *ws, const cJSON *runs)
{
	int n = cJSON_GetArraySize(runs), left = n, i, worst = 0, say;
	struct target_status *s = xcalloc((size_t)n, sizeof(*s));
	char *shown = xcalloc((size_t)n, 1);	/* s[i]'s run was said to be running */
	int count[NENDS + 1] = { 0 }, nlost = 0, nunread = 0;
	const cJSON *r;

	if (target_drain(t) < 0)
		die("%s", target_error(t));
	say = !target_spools_here(target_name(t));
	i = 0;
	cJSON_ArrayForEach(r, runs) {
		s[i].job = json_str(r, "job");
		s[i++].run = json_str(r, "run");
	}
	/* another xt-runq may still be running some: wait for their end, while
	 * the target holds them */
	while (left > 0) {
		int k = 0;

		if (target_poll(t, st, ws, s, (size_t)left) < 0)
			die("%s", target_error(t));
		/* the runs that have left the target are counted, in order; the others kept */
		for (i = 0; i < left; i++) {
			cJSON *rec;

			if (s[i].state == TARGET_QUEUED || s[i].state == TARGET_RUNNING) {
				if (say && s[i].state == TARGET_RUNNING && !shown[i]) {
					fprintf(stderr, "xt-submit: %s running%s%s\n", s[i].run,
					    s[i].node[0] ? " on " : "", s[i].node);
					shown[i] = 1;
				}
				shown[k] = shown[i];
				s[k++] = s[i];
			} else if (s[i].state == TARGET_LOST && s[i].status[0]) {
				warnx("run '%s' is %s but no longer in %s", s[i].run, s[i].status,
				    target_where(t));
				worst = worst ? worst : 1;
				nlost++;
			} else if ((rec = run_load(st, ws, s[i].run, NULL))) {
				const char *status = json_str(rec, "status");
				int code = (int)json_num(rec, "exit_code", 1);
				size_t e;

				if ((!status || strcmp(status, "completed") != 0) && code == 0)
					code = 1;
				if (code > worst)
					worst = code;
				for (e = 0; e < NENDS && (!status || strcmp(status, ends[e])); e++)
					;
				count[e]++;
				if (say) {
					double d = json_num(rec, "duration", -1);

					fprintf(stderr, "xt-submit: %s %s", s[i].run, status ? status :
					    "ended");
					if (code != 0 && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(rec,
					    "exit_code")))
						fprintf(stderr, " (exit %d)", code);
					if (d >= 0)
						fprintf(stderr, " after %.1fs", d);
					fputc('\n', stderr);
				}
				cJSON_Delete(rec);
			} else {
				/* ended, but how is not known: not a success */
				warnx("run '%s' ended, but its record cannot be read: %s", s[i].run,
				    store_error(st));
				worst = worst ? worst : 1;
				nunread++;
			}
		}
		/* a remote target is asked less often: each look costs a round trip */
		if ((left = k) > 0)
			usleep(target_spools_here(target_name(t)) ? 100000 : 500000);
	}
	if (say) {
		int sep = ':';

		fprintf(stderr, "xt-submit: %d run%s", n, n == 1 ? "" : "s");
		for (size_t e = 0; e <= NENDS; e++)
			if (count[e]) {
				fprintf(stderr, "%c %d %s", sep, count[e], e < NENDS ? ends[e] :
				    "ended otherwise");
				sep = ',';
			}
		if (nlost) {
			fprintf(stderr, "%c %d lost", sep, nlost);
			sep = ',';
		}
		if (nunread)
			fprintf(stderr, "%c %d unknown", sep, nunread);
		fputc('\n', stderr);
	}
	free(shown);
	free(s);
	return worst > 255 ? 255 : worst;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "workspace", required_argument, 0, 'w' },
		{ "experiment", required_argument, 0, 'e' },
		{ "target", required_argument, 0, 't' },
		{ "store", required_argument, 0, 's' },
		{ "runs", required_argument, 0, 'n' },
		{ "hp", required_argument, 0, 'H' },
		{ "hp-prefix", required_argument, 0, 'P' },
		{ "code-dir", required_argument, 0, 'C' },
		{ "omit", required_argument, 0, 'x' },
		{ "tag", required_argument, 0, 'T' },
		{ "description", required_argument, 0, 'd' },
		{ "retries", required_argument, 0, 'R' },
		{ "max-minutes", required_argument, 0, 'M' },
		{ "parent-script", required_argument, 0, 'S' },
		{ "nodes", required_argument, 0, 'z' },
		{ "procs-per-node", required_argument, 0, 'z' },
		{ "gpus", required_argument, 0, 'z' },
		{ "rerun", required_argument, 0, 'r' },
		{ "wait", no_argument, 0, 'W' },
		{ "dry-run", no_argument, 0, 'D' },
		{ "no-check", no_argument, 0, 'K' },
		{ "search", required_argument, 0, 'A' },
		{ "space", required_argument, 0, 'A' },
		{ "prune", required_argument, 0, 'A' },
		{ "search-opt", required_argument, 0, 'A' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct opts o;
	char *rerun = NULL;	/* o.rerun, its '$lastrun' expanded */
	struct store *st = NULL;
	struct target *tg;
	cJSON *cmd, *hpsets = NULL, *runs, *job, *orig_job = NULL, *orig = NULL;
	char why[256], why2[1024], t[32], *from_manifest = NULL;
	int c, i, ret = 0, prefix_given = 0, exp_given = 0, li = 0;
	struct stat sb;

	tool_init(argc, argv);
	memset(&o, 0, sizeof(o));
	o.nruns = 1;
	o.codedir = ".";
	o.hp_prefix = "--";
	o.tags = cJSON_CreateObject();
	tree_init(&o.tree);
	while ((c = getopt_long(argc, argv, "+w:e:t:s:n:C:x:d:h", longopts, &li)) != -1) {
		switch (c) {
		case 'w': config_set("workspace", optarg); break;
		case 'e': config_set("experiment", optarg); exp_given = 1; break;
		case 't': o.target = optarg; break;
		case 's': config_set("store", optarg); break;
		case 'n':
			o.nruns = (long)opt_i64("--runs", optarg, 1, SEARCHJOB_RUNS_MAX);
			o.runs_given = 1;
			break;
		case 'H': o.hpfile = optarg; break;
		case 'P': o.hp_prefix = optarg; prefix_given = 1; break;
		case 'C': o.codedir = optarg; break;
		case 'x': tree_omit(&o.tree, optarg); break;
		case 'd': o.desc = optarg; break;
		case 'R': o.retries = (long)opt_i64("--retries", optarg, 0, 1000); break;
		case 'M':
			if (parse_double(optarg, &o.max_minutes) < 0 || !(o.max_minutes > 0) ||
			    !isfinite(o.max_minutes))
				die_status(EXIT_USAGE, "option '--max-minutes': '%s' is not a number > 0", optarg);
			break;
		case 'S': o.parent_script = optarg; break;
		case 'z': config_set(longopts[li].name, optarg); break;
		case 'r': o.rerun = optarg; break;
		case 'W': o.wait = 1; break;
		case 'D': o.dry_run = 1; break;
		case 'K': o.no_check = 1; break;
		case 'A': searchjob_option(longopts[li].name, optarg); break;
		case 'T': {
			char *name = NULL;
			cJSON *v = json_parse_assign(optarg, &name);

			if (!v) {
				name = xstrdup(optarg);
				v = cJSON_CreateTrue();
			}
			if (name_check(name, why, sizeof(why)) < 0)
				die_status(EXIT_USAGE, "tag name '%s' %s", name, why);
			json_set(o.tags, name, v);
			free(name);
			break;
		}
		case 'h': tool_help(usage_text);
		default: tool_usage(usage_text);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && !strcmp(argv[0], "--")) {
		argc--;
		argv++;
	}
	if (o.rerun ? argc > 0 : argc == 0) {
		tool_usage_error(usage_text, "%s", o.rerun ? "--rerun takes no command" :
		    "missing command (after --)");
	}
	o.ws = tool_workspace();
	o.exp = config_experiment();
	if (name_check(o.exp, why, sizeof(why)) < 0)
		die_status(EXIT_USAGE, "experiment '%s' %s", o.exp, why);
	if (!o.target)
		o.target = config_str("target", "local");
	tg = tool_target(o.target);
	tree_omit(&o.tree, ".git");
	tree_omit(&o.tree, "__pycache__");
	if (o.hpfile)
		hpsets = read_hparams(o.hpfile);

	cmd = cJSON_CreateArray();
	if (o.rerun) {
		long a, b;

		st = tool_store();
		o.rerun = rerun = tool_name(st, o.ws, o.rerun);
		if (!name_parse_run(o.rerun, &a, &b))
			die_status(EXIT_USAGE, "--rerun: '%s' is not a run name", o.rerun);
		if (!(orig = run_load(st, o.ws, o.rerun, NULL)))
			die("--rerun: %s", store_error(st));
		if (!json_str(orig, "job") || !(orig_job = run_job_load(st, o.ws, json_str(orig, "job"))))
			die("--rerun: run '%s' has no job record", o.rerun);
		if (json_num(orig, "children", 0) > 0)
			die("--rerun: '%s' is a parent run; rerun one of its children", o.rerun);
		cJSON_Delete(cmd);
		cmd = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(orig_job, "argv"), 1);
		if (json_str(orig_job, "hp_prefix") && !prefix_given)
			o.hp_prefix = json_str(orig_job, "hp_prefix");
		if (json_str(orig, "exp") && !exp_given)
			o.exp = json_str(orig, "exp");
		if (!hpsets) {
			hpsets = cJSON_CreateArray();
			cJSON_AddItemToArray(hpsets, cJSON_Duplicate(run_given_hparams(orig), 1));
		}
		from_manifest = xasprintf("ws/%s/jobs/%s/code.jsonl", o.ws, json_str(orig, "job"));
		if (!o.parent_script && json_str(orig_job, "parent_script"))
			o.parent_script = json_str(orig_job, "parent_script");
	} else {
		for (i = 0; i < argc; i++)
			cJSON_AddItemToArray(cmd, cJSON_CreateString(argv[i]));
		if (stat(o.codedir, &sb) < 0)
			die("code folder '%s':", o.codedir);
		if (!S_ISDIR(sb.st_mode))
			die("code folder '%s': not a folder", o.codedir);
		if (tree_scan(&o.tree, o.codedir, "") < 0)
			die("cannot snapshot the code in '%s'", o.codedir);
		if (o.parent_script) {
			size_t k;
			int found = 0;

			for (k = 0; k < o.tree.n; k++)
				found |= !strcmp(o.tree.files[k].rel, o.parent_script);
			if (!found)
				die("--parent-script: '%s' is not in the code folder '%s'", o.parent_script,
				    o.codedir);
		}
		if (!o.no_check && job_check_command(cmd, &o.tree, o.codedir, why2, sizeof(why2)) < 0)
			die_status(EXIT_USAGE, "%s", why2);
	}

	job = cJSON_CreateObject();
	json_set_str(job, "ws", o.ws);
	json_set_str(job, "exp", o.exp);
	json_set_str(job, "target", o.target);
	json_set(job, "argv", cJSON_Duplicate(cmd, 1));
	json_set_str(job, "hp_prefix", o.hp_prefix);
	json_set(job, "tags", cJSON_Duplicate(o.tags, 1));
	if (o.desc)
		json_set_str(job, "description", o.desc);
	json_set_num(job, "retries", (double)o.retries);
	if (o.max_minutes > 0)
		json_set_num(job, "max_minutes", o.max_minutes);
	if (o.parent_script)
		json_set_str(job, "parent_script", o.parent_script);
	sizes(&o, orig_job, tg);
	set_sizes(&o, job);
	if (o.rerun)
		json_set_str(job, "rerun_of", o.rerun);
	time_iso(time_now_ms(), t, sizeof(t));
	json_set_str(job, "created", t);
	o.nruns = searchjob_submit(job, o.hpfile != NULL, o.runs_given ? o.nruns : -1);
	check_swept(&o, cmd, hpsets, job);
	runs = plan_runs(&o, cmd, hpsets);

	if (o.dry_run) {
		print_runs(runs);
	} else {
		struct sbuf lines;
		int rc;

		if (!st)
			st = tool_store();
		/* a submit killed before is finished or undone first */
		job_recover_all();
		/* a remote target gets ready (its boxes) before anything is stored */
		if ((rc = target_prepare(tg, st, runs)) < 0)
			die_status(rc == TARGET_EUSAGE ? EXIT_USAGE : 1, "%s", target_error(tg));
		/* the lines are made before the runs go: afterwards only written */
		sbuf_init(&lines, (size_t)1 << 32);
		if (job_create(st, job, runs, &o.tree, from_manifest, tg, &lines, why2,
		    sizeof(why2)) < 0)
			die("%s", why2);
		if (fwrite(lines.buf, 1, lines.len, stdout) != lines.len)
			die("error writing to standard output:");
		sbuf_release(&lines);
		if (o.wait)
			ret = wait_runs(st, tg, o.ws, runs);
	}
	cJSON_Delete(runs);
	cJSON_Delete(job);
	cJSON_Delete(cmd);
	cJSON_Delete(hpsets);
	cJSON_Delete(orig);
	cJSON_Delete(orig_job);
	cJSON_Delete(o.tags);
	free(from_manifest);
	free(rerun);
	tree_release(&o.tree);
	target_close(tg);
	store_close(st);
	config_release();
	stdout_close();
	return ret;
}
