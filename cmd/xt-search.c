/*
 * xt-search: hyperparameter search. grid and random print configurations
 * of a space; next proposes the next ones from the history of runs (ask
 * and tell over pipes); prune says which runs to stop early. Everything is
 * JSON lines: configurations and decisions on stdout, one per line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "prune.h"
#include "search.h"
#include "space.h"
#include "tool.h"
#include "banned.h"

static const char usage_text[] =
    "usage: xt-search grid [-n N] [-f FILE] [--seed S] [NAME=SPEC...]\n"
    "       xt-search random -n N [-f FILE] [--seed S] [NAME=SPEC...]\n"
    "       xt-search next --algo random|grid|tpe|gp|dgd [-n K] [--metric M]\n"
    "           [--goal max|min] [--seed S] [--startup N] [-f FILE] [NAME=SPEC...] <HISTORY\n"
    "       xt-search prune --policy median|bandit|truncation|asha [--metric M]\n"
    "           [--goal max|min] [--delay-evaluation N] [--evaluation-interval N]\n"
    "           [--slack-factor F] [--slack-amount A] [--truncation-percentage P]\n"
    "           [--min-resource R] [--reduction-factor F] [--min-runs N] [FILE...]\n"
    "SPEC: a value, [v1,v2,...], or $choice $randint $uniform $loguniform $normal\n"
    "$lognormal $quniform $qloguniform $qnormal $qlognormal $linspace (see xt-search(1)).\n"
    "FILE: XT's hp-config YAML (hyperparameter-distributions:).\n";

enum {
	O_SEED = 256, O_ALGO, O_METRIC, O_GOAL, O_STARTUP, O_POLICY, O_DELAY, O_INTERVAL,
	O_SFACTOR, O_SAMOUNT, O_TRUNC, O_MINRES, O_REDUCTION, O_MINRUNS
};

static const struct option longopts[] = {
	{ "file", required_argument, 0, 'f' },
	{ "count", required_argument, 0, 'n' },
	{ "seed", required_argument, 0, O_SEED },
	{ "algo", required_argument, 0, O_ALGO },
	{ "metric", required_argument, 0, O_METRIC },
	{ "goal", required_argument, 0, O_GOAL },
	{ "startup", required_argument, 0, O_STARTUP },
	{ "policy", required_argument, 0, O_POLICY },
	{ "delay-evaluation", required_argument, 0, O_DELAY },
	{ "evaluation-interval", required_argument, 0, O_INTERVAL },
	{ "slack-factor", required_argument, 0, O_SFACTOR },
	{ "slack-amount", required_argument, 0, O_SAMOUNT },
	{ "truncation-percentage", required_argument, 0, O_TRUNC },
	{ "min-resource", required_argument, 0, O_MINRES },
	{ "reduction-factor", required_argument, 0, O_REDUCTION },
	{ "min-runs", required_argument, 0, O_MINRUNS },
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 }
};

struct opts {
	const char *cmd, *file, *metric, *goal;
	int algo, policy, seeded, startup, have_n;
	long n;
	uint64_t seed;
	struct prune_opts po;
	int have[O_MINRUNS + 1];	/* which options were given */
};

static double
opt_num(const char *opt, const char *s, double min, double max)
{
	double d;

	if (parse_double(s, &d) < 0 || !(d >= min && d <= max))
		die_status(EXIT_USAGE, "option '%s': '%s' is not a number from %g to %g", opt, s,
		    min, max);
	return d;
}

static void
parse_opts(struct opts *o, int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "f:n:h", longopts, NULL)) != -1) {
		if (c >= O_SEED && c <= O_MINRUNS)
			o->have[c] = 1;
		switch (c) {
		case 'f': o->file = optarg; break;
		case 'n':
			o->n = (long)opt_i64("-n", optarg, 0, 100000000);
			o->have_n = 1;
			break;
		case O_SEED:
			o->seed = (uint64_t)opt_i64("--seed", optarg, 0, INT64_MAX);
			o->seeded = 1;
			break;
		case O_ALGO:
			if ((o->algo = search_algo_parse(optarg)) < 0)
				die_status(EXIT_USAGE, "option '--algo': unknown algorithm '%s'", optarg);
			break;
		case O_METRIC: o->metric = optarg; break;
		case O_GOAL: o->goal = optarg; break;
		case O_STARTUP: o->startup = (int)opt_i64("--startup", optarg, 0, 1000000); break;
		case O_POLICY:
			if ((o->policy = prune_policy_parse(optarg)) < 0)
				die_status(EXIT_USAGE, "option '--policy': unknown policy '%s'", optarg);
			break;
		case O_DELAY: o->po.delay = opt_i64("--delay-evaluation", optarg, 0, 1L << 40); break;
		case O_INTERVAL:
			o->po.interval = opt_i64("--evaluation-interval", optarg, 1, 1L << 40);
			break;
		case O_SFACTOR: o->po.slack_factor = opt_num("--slack-factor", optarg, 0, 1e9); break;
		case O_SAMOUNT: o->po.slack_amount = opt_num("--slack-amount", optarg, 0, 1e300); break;
		case O_TRUNC:
			o->po.truncation = opt_num("--truncation-percentage", optarg, 0, 100);
			break;
		case O_MINRES: o->po.min_resource = opt_i64("--min-resource", optarg, 1, 1L << 40); break;
		case O_REDUCTION:
			o->po.reduction = opt_num("--reduction-factor", optarg, 1.0001, 1e6);
			break;
		case O_MINRUNS: o->po.min_runs = opt_i64("--min-runs", optarg, 1, 1L << 30); break;
		case 'h':
			tool_help(usage_text);
		default:
			tool_usage(usage_text);
		}
	}
}

/* The space from -f and the NAME=SPEC operands; die (2) when it is bad or empty. */
static void
load_space(struct space *sp, const struct opts *o, int argc, char **argv)
{
	char err[1024];

	if (o->file && space_load(sp, o->file, err, sizeof(err)) < 0)
		die_status(EXIT_USAGE, "%s", err);
	for (int i = optind; i < argc; i++)
		if (space_add_arg(sp, argv[i], err, sizeof(err)) < 0)
			die_status(EXIT_USAGE, "%s", err);
	if (sp->n == 0)
		die_status(EXIT_USAGE, "no search space: give -f FILE or NAME=SPEC operands");
}

/* Metric and goal: the options, else config search.metric and search.goal. */
static int
goal_max(struct opts *o)
{
	if (!o->metric)
		o->metric = config_str("search.metric", NULL);
	if (!o->goal)
		o->goal = config_str("search.goal", "max");
	if (!o->metric)
		die_status(EXIT_USAGE, "no metric: give --metric M (or search.metric in xt.yaml)");
	if (strcmp(o->goal, "max") && strcmp(o->goal, "min"))
		die_status(EXIT_USAGE, "option '--goal': expected max or min, not '%s'", o->goal);
	return !strcmp(o->goal, "max");
}

static void
print_all(cJSON *arr)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (json_print_line(stdout, it) < 0)
			die("cannot write:");
}

static int
cmd_static(struct opts *o, const struct space *sp)
{
	struct rng r;

	rng_seed(&r, o->seed);
	if (!strcmp(o->cmd, "grid")) {
		uint64_t n = space_grid_size(sp);

		/* XT's max-runs: the first N points in grid order. */
		if (o->have_n && n > (uint64_t)o->n) {
			warnx("the grid has %llu points; -n %ld takes the first %ld",
			    (unsigned long long)n, o->n, o->n);
			n = (uint64_t)o->n;
		}
		for (uint64_t i = 0; i < n; i++) {
			cJSON *pt = space_grid_point(sp, i, &r);

			if (json_print_line(stdout, pt) < 0)
				die("cannot write:");
			cJSON_Delete(pt);
		}
		return 0;
	}
	if (!o->have_n)
		die_status(EXIT_USAGE, "random: give -n N");
	for (long i = 0; i < o->n; i++) {
		cJSON *pt = space_sample(sp, &r);

		if (json_print_line(stdout, pt) < 0)
			die("cannot write:");
		cJSON_Delete(pt);
	}
	return 0;
}

static int
cmd_next(struct opts *o, const struct space *sp)
{
	struct search s;
	cJSON *out;
	char err[1024];
	int maximize = goal_max(o), made;

	if (!o->have[O_ALGO])
		die_status(EXIT_USAGE, "next: give --algo random|grid|tpe|gp|dgd");
	search_init(&s, sp, o->metric, maximize, o->seed);
	if (o->have[O_STARTUP])
		s.startup = o->startup;
	if (search_read(&s, stdin, "<stdin>", err, sizeof(err)) < 0)
		die("%s", err);
	out = cJSON_CreateArray();
	made = search_next(&s, o->algo, o->n > 0 ? (int)o->n : 1, out, err, sizeof(err));
	if (made < 0)
		die_status(EXIT_USAGE, "%s", err);
	print_all(out);
	if (made < (o->n > 0 ? o->n : 1))
		warnx("the space is used up: %d of %ld proposed", made, o->n > 0 ? o->n : 1);
	cJSON_Delete(out);
	search_release(&s);
	return 0;
}

static int
cmd_prune(struct opts *o, int argc, char **argv)
{
	struct prune p;
	struct prune_opts po;
	char err[1024];
	cJSON *out;
	int ret = 0;

	if (!o->have[O_POLICY])
		die_status(EXIT_USAGE, "prune: give --policy median|bandit|truncation|asha");
	prune_opts_default(&po, o->policy, NULL);
	po.maximize = goal_max(o);
	po.metric = o->metric;
#define TAKE(opt, field) if (o->have[opt]) po.field = o->po.field
	TAKE(O_DELAY, delay); TAKE(O_INTERVAL, interval); TAKE(O_SFACTOR, slack_factor);
	TAKE(O_SAMOUNT, slack_amount); TAKE(O_TRUNC, truncation); TAKE(O_MINRES, min_resource);
	TAKE(O_REDUCTION, reduction); TAKE(O_MINRUNS, min_runs);
#undef TAKE
	prune_init(&p, &po);
	if (optind == argc && prune_read(&p, stdin, "<stdin>", err, sizeof(err)) < 0)
		die("%s", err);
	for (int i = optind; i < argc; i++) {
		FILE *fp = strcmp(argv[i], "-") ? fopen(argv[i], "r") : stdin;

		if (!fp)
			die("cannot open '%s':", argv[i]);
		if (prune_read(&p, fp, strcmp(argv[i], "-") ? argv[i] : "<stdin>", err,
		    sizeof(err)) < 0)
			die("%s", err);
		if (fp != stdin)
			fclose(fp);
	}
	out = prune_decide(&p);
	print_all(out);
	cJSON_Delete(out);
	prune_release(&p);
	return ret;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct space sp;
	int ret;

	tool_init(argc, argv);
	if (argc < 2)
		tool_usage_error(usage_text, "missing command (grid, random, next, prune)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		tool_help(usage_text);
	o.cmd = argv[1];
	if (strcmp(o.cmd, "grid") && strcmp(o.cmd, "random") && strcmp(o.cmd, "next") &&
	    strcmp(o.cmd, "prune"))
		die_status(EXIT_USAGE, "unknown command '%s' (grid, random, next, prune)", o.cmd);
	parse_opts(&o, argc - 1, argv + 1);
	optind++;
	if (!o.seeded)
		o.seed = (uint64_t)time_now_ms() ^ ((uint64_t)getpid() << 32);
	if (!strcmp(o.cmd, "prune")) {
		ret = cmd_prune(&o, argc, argv);
	} else {
		space_init(&sp);
		load_space(&sp, &o, argc, argv);
		ret = !strcmp(o.cmd, "next") ? cmd_next(&o, &sp) : cmd_static(&o, &sp);
		space_release(&sp);
	}
	config_release();
	stdout_close();
	return ret;
}
