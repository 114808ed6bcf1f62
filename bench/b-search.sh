#!/bin/sh
# b-search: the quality and the speed of xt-search's Bayesian methods.
#   quality  xt-search next --algo tpe and gp, Optuna's TPESampler (Debian's
#            python3-optuna, default settings) and random search, on Branin
#            (2-D), Hartmann-6 and a noisy 4-D bowl: 20 seeds x 100 trials
#            each, the median over seeds of the best value found (for the
#            noisy one, the true value at the best observed point).
#            Goals: xt TPE at least as good as Optuna's TPE; TPE and GP
#            clearly better than random. With the difference of the TPE
#            medians, a 90% bootstrap interval over the seeds: 20 seeds
#            leave the noisy function's medians about +-0.04 apart.
#   speed    proposing one point after 1,000 trials of Hartmann-6, measured
#            the same way for xt's TPE, xt's GP and Optuna's TPE: the median
#            over repeats of one proposal in process (search_next in a tiny
#            program on libxt.a; Optuna's ask and suggest), with ratios;
#            also reading the 1,000 records in process, and the whole
#            xt-search process (CPU time, reading included).
#            Goal: < 2 ms per proposal.
# Prints a table and writes bench/out/results-search.json. OFFSET shifts
# the seeds (OFFSET+1 .. OFFSET+SEEDS), to check a result on fresh seeds.
#   bench/b-search.sh BINDIR [SEEDS TRIALS OFFSET]
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -ge 1 ] && [ -x "$1/xt-search" ] ||
    bench_usage "b-search.sh BINDIR [SEEDS TRIALS OFFSET] (BINDIR holds xt-search)"
bench_init b-search "$1"
seeds=${2:-20}
trials=${3:-100}
offset=${4:-0}
mkdir -p "$here/out"
# Debian's python, where python3-optuna is installed
py=/usr/bin/python3

[ -f "$lib" ] || fail "no '$lib': build first"
$py -c 'import optuna' 2>/dev/null || fail "no optuna for $py: scripts/deps.sh bench"

cat >"$tmp/speed.c" <<'EOF'
/*
 * Read a history (timed, best of 5 reads); print the median ms of
 * search_next(algo, 1) over reps, then the ms of one read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "search.h"
#include "stats.h"

int
main(int argc, char **argv)
{
	struct space sp;
	struct search s;
	char err[512];
	double t[64], tread = 1e9;
	int reps = 31, algo = search_algo_parse(argv[1]);
	FILE *fp;

	space_init(&sp);
	for (int i = 3; i < argc; i++)
		if (space_add_arg(&sp, argv[i], err, sizeof(err)) < 0)
			return fprintf(stderr, "%s\n", err), 1;
	for (int r = 0; r < 5; r++) {
		struct timespec a, b;

		if (r)
			search_release(&s);
		search_init(&s, &sp, "f", 0, 1);
		if (!(fp = fopen(argv[2], "r")))
			return fprintf(stderr, "cannot open history\n"), 1;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (search_read(&s, fp, argv[2], err, sizeof(err)) < 0)
			return fprintf(stderr, "cannot read history\n"), 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
		fclose(fp);
		t[0] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		tread = t[0] < tread ? t[0] : tread;
	}
	for (int r = 0; r < reps; r++) {
		struct timespec a, b;
		cJSON *out = cJSON_CreateArray();
		struct search_point keep;

		clock_gettime(CLOCK_MONOTONIC, &a);
		search_next(&s, algo, 1, out, err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		/* forget the proposal, so each rep sees the same 1,000 trials */
		keep = s.pt[--s.npt];
		free(keep.x);
		free(s.tried[--s.ntried]);
		cJSON_Delete(out);
	}
	printf("%.3f %.3f\n", stats_median(t, (size_t)reps), tread);
	search_release(&s);
	space_release(&sp);
	return 0;
}
EOF
bench_cc "$tmp/speed" "$tmp/speed.c" "$lib" || fail "cannot build the speed program"

cat >"$tmp/b.py" <<'EOF'
import json, math, os, random, resource, statistics, subprocess, sys, time
from multiprocessing import Pool
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)

BIN, TMP, SEEDS, TRIALS, SPEED = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
OFFSET = int(sys.argv[7])

def branin(x):
    a, b, c, r, s, t = 1, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s

HA = [1.0, 1.2, 3.0, 3.2]
HM = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HP = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]

def hartmann6(x):
    return -sum(HA[i] * math.exp(-sum(HM[i][j] * (x[j] - HP[i][j] * 1e-4) ** 2 for j in range(6)))
                for i in range(4))

def bowl(x):
    return sum(10 * (v - 0.3) ** 2 for v in x)

# name: (bounds, true function, noise sd, optimum)
FUNCS = {
    "branin": ([(-5, 10), (0, 15)], branin, 0.0, 0.397887),
    "hartmann6": ([(0, 1)] * 6, hartmann6, 0.0, -3.32237),
    "noisy-bowl": ([(0, 1)] * 4, bowl, 0.5, 0.0),
}

def space_args(bounds):
    return ["x%d=$uniform(%g,%g)" % (i, lo, hi) for i, (lo, hi) in enumerate(bounds)]

def observe(fn, x, rng):
    bounds, f, sd, _ = FUNCS[fn]
    return f(x) + (rng.gauss(0, sd) if sd else 0.0)

def run_xt(job):
    fn, algo, seed = job
    bounds, f, _, _ = FUNCS[fn]
    rng = random.Random(seed * 7919)
    hist, best, best_obs = [], None, math.inf
    args = space_args(bounds)
    if algo == "random":
        out = subprocess.run([BIN + "/xt-search", "random", "-n", str(TRIALS), "--seed", str(seed)] + args,
                             capture_output=True, text=True, check=True).stdout.split("\n")
        points = [json.loads(l) for l in out if l]
    for i in range(TRIALS):
        if algo == "random":
            hp = points[i]
        else:
            p = subprocess.run([BIN + "/xt-search", "next", "--algo", algo, "--seed", str(seed * 100003 + i),
                                "--metric", "f", "--goal", "min"] + args,
                               input="".join(hist), capture_output=True, text=True, check=True)
            hp = json.loads(p.stdout)
        x = [hp["x%d" % j] for j in range(len(bounds))]
        y = observe(fn, x, rng)
        hist.append(json.dumps({"run": "run%d" % (i + 1), "status": "completed", "hparams": hp,
                                "metrics": {"f": y}}) + "\n")
        if y < best_obs:
            best_obs, best = y, f(x)
    return fn, algo, seed, best

def run_optuna(job):
    fn, algo, seed = job
    bounds, f, _, _ = FUNCS[fn]
    rng = random.Random(seed * 7919)
    st = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    best, best_obs = None, math.inf
    for i in range(TRIALS):
        t = st.ask()
        x = [t.suggest_float("x%d" % j, lo, hi) for j, (lo, hi) in enumerate(bounds)]
        y = observe(fn, x, rng)
        st.tell(t, y)
        if y < best_obs:
            best_obs, best = y, f(x)
    return fn, algo, seed, best

def dispatch(job):
    return run_optuna(job) if job[1] == "optuna-tpe" else run_xt(job)

ALGOS = ["tpe", "gp", "optuna-tpe", "random"]

def quality():
    jobs = [(fn, a, s) for fn in FUNCS for a in ALGOS for s in range(OFFSET + 1, OFFSET + SEEDS + 1)]
    with Pool(2) as pool:
        res = pool.map(dispatch, jobs, chunksize=1)
    med, per = {}, {}
    for fn in FUNCS:
        for a in ALGOS:
            per[(fn, a)] = [r[3] for r in res if r[0] == fn and r[1] == a]
            med[(fn, a)] = statistics.median(per[(fn, a)])
    return med, per

def interval(a, b, reps=2000):
    # 90% bootstrap interval of median(a) - median(b), seeds resampled
    rng = random.Random(12345)
    d = sorted(statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
               for _ in range(reps))
    return d[int(0.05 * reps)], d[int(0.95 * reps)]

def speed():
    rng = random.Random(5)
    bounds = FUNCS["hartmann6"][0]
    path = os.path.join(TMP, "h1000")
    st = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    dist = {"x%d" % j: optuna.distributions.FloatDistribution(0, 1) for j in range(6)}
    with open(path, "w") as fp:
        for i in range(1000):
            x = [rng.random() for _ in range(6)]
            y = hartmann6(x)
            hp = {"x%d" % j: x[j] for j in range(6)}
            fp.write(json.dumps({"run": "run%d" % i, "status": "completed", "hparams": hp,
                                 "metrics": {"f": y}}) + "\n")
            st.add_trial(optuna.trial.create_trial(params=hp, distributions=dist, value=y))
    args = space_args(bounds)
    out = {}
    for algo in ("tpe", "gp"):
        prop, read = subprocess.run([SPEED, algo, path] + args, capture_output=True, text=True,
                                    check=True).stdout.split()
        out["xt-" + algo + " in process"] = float(prop)
        out["xt read 1,000 records"] = float(read)
        cpu = []
        for r in range(9):
            t0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            with open(path) as fp:
                subprocess.run([BIN + "/xt-search", "next", "--algo", algo, "--seed", str(r), "--metric", "f",
                                "--goal", "min"] + args, stdin=fp, capture_output=True, check=True)
            t1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(((t1.ru_utime - t0.ru_utime) + (t1.ru_stime - t0.ru_stime)) * 1e3)
        out["xt-" + algo + " process (cpu)"] = statistics.median(cpu)
    ts = []
    for r in range(31):
        t0 = time.perf_counter()
        t = st.ask()
        for j in range(6):
            t.suggest_float("x%d" % j, 0, 1)
        ts.append((time.perf_counter() - t0) * 1e3)
        st.tell(t, 0.0)
    out["optuna-tpe in process"] = statistics.median(ts)
    return out

sp = speed()
print("speed: one proposal after 1,000 trials of Hartmann-6 (median ms)")
for k, v in sp.items():
    print("  %-28s %9.3f ms" % (k, v))
o = sp["optuna-tpe in process"]
for a in ("tpe", "gp"):
    t = sp["xt-" + a + " in process"]
    print("  ratio optuna-tpe / xt-%s in process: %.1fx; goal < 2 ms: %s" % (a, o / t, "met" if t < 2 else "NOT met"))
sys.stdout.flush()
t0 = time.time()
med, per = quality()
print("quality: median over %d seeds (%d..%d) of the best value after %d trials (lower is better)" %
      (SEEDS, OFFSET + 1, OFFSET + SEEDS, TRIALS))
print("  %-11s %10s %10s %10s %10s %10s" % ("function", "optimum", "xt-tpe", "xt-gp", "optuna-tpe", "random"))
res = {"speed_ms": sp, "seeds": SEEDS, "seed_offset": OFFSET, "trials": TRIALS, "quality": {}}
for fn in FUNCS:
    opt = FUNCS[fn][3]
    print("  %-11s %10.4f %10.4f %10.4f %10.4f %10.4f" % (fn, opt, med[(fn, "tpe")], med[(fn, "gp")],
                                                        med[(fn, "optuna-tpe")], med[(fn, "random")]))
    res["quality"][fn] = {a: med[(fn, a)] for a in ALGOS}
print("regret ratios (regret = best - optimum; > 1 means the first is better):")
for fn in FUNCS:
    opt = FUNCS[fn][3]
    rg = {a: max(med[(fn, a)] - opt, 1e-9) for a in ALGOS}
    print("  %-11s optuna-tpe/xt-tpe %6.2f   random/xt-tpe %6.2f   random/xt-gp %6.2f   optuna-tpe/xt-gp %6.2f" %
          (fn, rg["optuna-tpe"] / rg["tpe"], rg["random"] / rg["tpe"], rg["random"] / rg["gp"],
           rg["optuna-tpe"] / rg["gp"]))
print("median xt-tpe - median optuna-tpe, with a 90%% bootstrap interval over the %d seeds"
      " (an interval across 0: the seeds cannot tell them apart):" % SEEDS)
for fn in FUNCS:
    lo, hi = interval(per[(fn, "tpe")], per[(fn, "optuna-tpe")])
    print("  %-11s %+8.4f  [%+.4f, %+.4f]" % (fn, med[(fn, "tpe")] - med[(fn, "optuna-tpe")], lo, hi))
    res["quality"][fn]["tpe_minus_optuna_90"] = [lo, hi]
print("goal xt-tpe at least as good as optuna-tpe: " + ", ".join(
    "%s %s" % (fn, "met" if med[(fn, "tpe")] <= med[(fn, "optuna-tpe")] else "NOT met") for fn in FUNCS))
print("quality run took %.0f s" % (time.time() - t0))
json.dump(res, open(sys.argv[6], "w"), indent=1)
EOF
$py "$tmp/b.py" "$bin" "$tmp" "$seeds" "$trials" "$tmp/speed" "$here/out/results-search.json" "$offset" ||
    fail "the benchmark failed"
