"""Search quality: RandomSearch vs HyperBand vs BOHB at equal budget, over several seeds.

The problems (see ``benchmarks/problems.py`` for their exact definitions): counting ones (8 categorical + 8
continuous, budgets 9..729, as in the BOHB paper), a multi-fidelity Hartmann-6, a conditional Branin-style
space, and scikit-learn's SGDClassifier on the bundled digits data set with epochs as the budget.

Protocol
--------
* Each (problem, optimizer, seed) is one run: its own name server, one thread worker, ``seed`` passed to the
  optimizer, and the same ``seed`` seeding the worker's noise (so the three optimizers see the same noisy
  objective for a given seed). Compute returns at once; nothing sleeps.
* HyperBand and BOHB run ``--iterations`` brackets. Their (identical) planned total budget B is the budget of
  the comparison; RandomSearch (every configuration on ``max_budget``, one bracket's budget per iteration) runs
  enough iterations to reach B, and its runs beyond B are ignored.
* Cumulative budget = the sum of the budgets of the runs finished so far (in finish order), reported in units
  of ``max_budget``.
* Incumbent at a point: the configuration with the lowest observed loss among the runs on the largest budget
  evaluated so far (HpBandSter's trajectory rule). Before the first ``max_budget`` run this is a configuration
  seen only on a smaller budget.
* Regret of the incumbent = its exact loss at ``max_budget`` minus the optimum. The exact loss is the
  noise-free value for the synthetic problems (optima: counting ones -16, Hartmann-6 -3.32237, conditional
  Branin 0.397887), and the deterministic 27-epoch validation error for sgd_digits (computed when the
  incumbent was not run on 27 epochs). sgd_digits has no known optimum: its regret is measured against the
  best 27-epoch validation error seen in any run of any optimizer and seed of this invocation, so its
  regrets are relative to this invocation only.
* Tables: mean ± standard error over seeds of the regret at 10 %, 25 %, 50 % and 100 % (final) of B, and,
  per problem, in how many seeds BOHB's final regret is lower than HyperBand's and RandomSearch's (ties
  counted separately).
* Plots (``--plot-dir``): mean regret ± one standard error vs cumulative budget, log-log; regrets of zero are
  drawn at 1e-4 so that the log axis can show them.

* ``HpBandSterBOHB`` (only when named in ``--optimizers``): HpBandSter 0.7.4's own BOHB, run by
  ``benchmarks/hpbandster_bohb_driver.py`` in its old environment (``--hpbandster-python``, default
  ``/work/venvs/hpb/bin/python``; see docs/benchmarks.md) on the same problem, seeds, noise and bracket count,
  its runs judged by the same incumbent rule here.
* Also printed: the median final regret and the median at 50 % of B per optimizer, and one-sided Mann-Whitney
  p-values of BOHB against each other optimizer in both directions (``p(<)``: BOHB's final regrets are lower;
  ``p(>)``: higher). ``--json PATH`` saves every seed's regrets at each fraction (and the reference
  they are measured against, for sgd_digits the best error seen in that invocation); ``--bohb-kwargs JSON`` passes
  keywords to bandster's BOHB (e.g. ``'{"prior_weight": 3}'``).

    python benchmarks/quality.py [--seeds 10] [--iterations 40] [--problems counting_ones,hartmann6,...]
                                 [--optimizers RandomSearch,HyperBand,BOHB,HpBandSterBOHB]
                                 [--plot-dir DIR] [--json PATH] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import subprocess
import tempfile
import time
import warnings

import numpy as np
from scipy.stats import mannwhitneyu

from bandster.core.nameserver import NameServer
from bandster.core.worker import Worker
from bandster.optimizers import BOHB, HyperBand, RandomSearch, brackets

from problems import PROBLEMS, Problem

OPTIMIZERS = {"RandomSearch": RandomSearch, "HyperBand": HyperBand, "BOHB": BOHB, "HpBandSterBOHB": None}
DEFAULT_OPTIMIZERS = ("RandomSearch", "HyperBand", "BOHB")
HPBANDSTER_PYTHON = "/work/venvs/hpb/bin/python"
HERE = os.path.dirname(os.path.abspath(__file__))
FRACTIONS = (0.1, 0.25, 0.5, 1.0)
PLOT_FLOOR = 1e-4
_run_counter = itertools.count()


class ProblemWorker(Worker):
    """Evaluates ``problem.evaluate(config, budget, noise_seed)``: deterministic, returns at once."""

    def __init__(self, *args, problem: Problem, noise_seed: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.problem = problem
        self.noise_seed = noise_seed

    def compute(self, config, budget, **kwargs):
        return {"loss": float(self.problem.evaluate(config, budget, self.noise_seed)), "info": {}}


def planned_budget(problem: Problem, n_iterations: int) -> float:
    """Total budget of ``n_iterations`` Hyperband brackets (the same for BOHB)."""
    total = 0.0
    for i in range(n_iterations):
        ns, budgets = brackets.hyperband_iteration(i, problem.min_budget, problem.max_budget, problem.eta)
        total += sum(n * b for n, b in zip(ns, budgets, strict=True))
    return total


def run_hpbandster(problem: Problem, seed: int, n_iterations: int, python: str) -> list[tuple]:
    """HpBandSter's BOHB through ``hpbandster_bohb_driver.py`` in its own environment; runs as in :func:`run_one`."""
    request = json.dumps({"mode": "run", "problem": problem.name, "seed": seed, "n_iterations": n_iterations})
    done = subprocess.run(
        [python, os.path.join(HERE, "hpbandster_bohb_driver.py")],
        input=request, capture_output=True, text=True, check=False, timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"HpBandSter's driver failed ({python}):\n{done.stderr[-3000:]}")
    return [(float(b), loss, config) for b, loss, config in json.loads(done.stdout)["runs"]]


def run_one(
    problem: Problem,
    optimizer: str,
    seed: int,
    n_iterations: int,
    workdir: str,
    hpbandster_python: str = "",
    bohb_kwargs: dict | None = None,
) -> list[tuple]:
    """Run one optimizer once; return ``(budget, loss, config)`` for every run, in finish order."""
    if optimizer == "HpBandSterBOHB":
        return run_hpbandster(problem, seed, n_iterations, hpbandster_python or HPBANDSTER_PYTHON)
    run_id = f"quality-{problem.name}-{optimizer}-{seed}-{os.getpid()}-{next(_run_counter)}"
    if optimizer == "RandomSearch":
        per_iteration = brackets.random_search_num_configs(problem.min_budget, problem.max_budget, problem.eta)
        target = planned_budget(problem, n_iterations)
        n_iterations = max(1, math.ceil(target / (per_iteration * problem.max_budget) - 1e-9))
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    worker = ProblemWorker(run_id=run_id, nameserver=host, nameserver_port=port, problem=problem, noise_seed=seed)
    worker.run(background=True)
    opt = OPTIMIZERS[optimizer](
        configspace=problem.make_space(seed),
        run_id=run_id,
        nameserver=host,
        nameserver_port=port,
        min_budget=problem.min_budget,
        max_budget=problem.max_budget,
        eta=problem.eta,
        seed=seed,
        working_directory=os.path.join(workdir, run_id),
        **((bohb_kwargs or {}) if optimizer == "BOHB" else {}),
    )
    try:
        result = opt.run(n_iterations=n_iterations, min_n_workers=1, progress=False)
    finally:
        opt.shutdown(shutdown_workers=True)
        worker.shutdown()
        ns.shutdown()
    id2conf = result.get_id2config_mapping()
    return [(float(r.budget), r.loss, id2conf[r.config_id]["config"]) for r in result.get_all_runs()]


def trajectory(problem: Problem, runs: list[tuple], budget_cap: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Cumulative budget (units of max_budget) and the incumbent's exact loss after each run up to ``budget_cap``.

    ``runs`` are ``(budget, loss, config)`` or ``(budget, loss, config, cost)``, where ``cost`` is what the run
    added to the cumulative budget (``benchmarks/peers.py``: a rung of a continued trial costs its increment).

    Also returns the lowest ``max_budget`` loss seen (observed runs and incumbents' exact losses), used as the
    reference of problems without a known optimum.
    """
    best_per_budget: dict[float, tuple[float, dict]] = {}
    exact_cache: dict[int, float] = {}
    cum, values = [], []
    spent = 0.0
    best_top = math.inf
    for budget, loss, config, *cost in runs:  # cost: what the run added to the total (default: its budget)
        cost = cost[0] if cost else budget
        if spent + cost > budget_cap * (1 + 1e-9):
            break
        spent += cost
        if loss is not None and math.isfinite(loss):
            if budget >= problem.max_budget:
                best_top = min(best_top, loss)
            if budget not in best_per_budget or loss < best_per_budget[budget][0]:
                best_per_budget[budget] = (loss, config)
        if not best_per_budget:
            continue
        incumbent = best_per_budget[max(best_per_budget)][1]
        key = id(incumbent)
        if key not in exact_cache:
            exact_cache[key] = float(problem.true_loss(incumbent))
        best_top = min(best_top, exact_cache[key])
        cum.append(spent / problem.max_budget)
        values.append(exact_cache[key])
    return np.array(cum), np.array(values), best_top


def value_at(cum: np.ndarray, values: np.ndarray, x: float) -> float:
    """The step function ``values`` (changing at ``cum``) at ``x``; NaN before the first point."""
    i = np.searchsorted(cum, x * (1 + 1e-9), side="right") - 1
    return float(values[i]) if i >= 0 else math.nan


def mean_se(samples: list[float]) -> tuple[float, float]:
    a = np.asarray([s for s in samples if not math.isnan(s)], dtype=float)
    if len(a) == 0:
        return math.nan, math.nan
    se = float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else math.nan
    return float(a.mean()), se


def median(samples: list[float]) -> float:
    a = [s for s in samples if not math.isnan(s)]
    return float(np.median(a)) if a else math.nan


def one_sided_p(a: list[float], b: list[float], alternative: str) -> float:
    """One-sided Mann-Whitney U p-value that ``a`` is ``alternative`` ("less"/"greater") than ``b``."""
    a = [x for x in a if not math.isnan(x)]
    b = [x for x in b if not math.isnan(x)]
    if not a or not b:
        return math.nan
    return float(mannwhitneyu(a, b, alternative=alternative).pvalue)


def fmt(mean: float, se: float) -> str:
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.4g} ± {se:.2g}" if not math.isnan(se) else f"{mean:.4g}"


def plot(problem: Problem, curves: dict[str, list[tuple]], reference: float, total: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = min(c[0][0] for runs in curves.values() for c in runs if len(c[0]))
    grid = np.geomspace(start, total, 300)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, runs in curves.items():
        matrix = np.array([[value_at(cum, vals, x) - reference for x in grid] for cum, vals in runs])
        matrix = np.maximum(matrix, PLOT_FLOOR)
        n = np.sum(~np.isnan(matrix), axis=0)
        with warnings.catch_warnings():  # grid points before this optimizer's first run are all NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(matrix, axis=0)
            se = np.nanstd(matrix, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1))
        line = ax.plot(grid, mean, label=name)[0]
        ax.fill_between(grid, np.maximum(mean - se, PLOT_FLOOR), mean + se, color=line.get_color(), alpha=0.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("cumulative budget / max_budget")
    ax.set_ylabel("regret of incumbent (mean ± s.e.)")
    ax.set_title(f"{problem.name}: {len(next(iter(curves.values())))} seeds", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (0 .. N-1); default 10")
    parser.add_argument("--iterations", type=int, default=40, help="HyperBand/BOHB brackets per run; default 40")
    parser.add_argument("--problems", default=",".join(PROBLEMS), help=f"comma list of {', '.join(PROBLEMS)}")
    parser.add_argument(
        "--optimizers", default=",".join(DEFAULT_OPTIMIZERS), help=f"comma list of {', '.join(OPTIMIZERS)}"
    )
    parser.add_argument("--hpbandster-python", default=HPBANDSTER_PYTHON, help="interpreter with HpBandSter 0.7.4")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed .. first-seed + N - 1")
    parser.add_argument("--json", default=None, help="save every seed's regrets here")
    parser.add_argument("--bohb-kwargs", default="{}", help='JSON keywords for BOHB, e.g. \'{"prior_weight": 3}\'')
    parser.add_argument("--plot-dir", default=None, help="where to save the plots (default: a new temp dir)")
    parser.add_argument("--quick", action="store_true", help="3 seeds, 10 iterations: a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.iterations = 3, 10
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    optimizers = [o.strip() for o in args.optimizers.split(",") if o.strip()]
    for name in problems:
        if name not in PROBLEMS:
            parser.error(f"unknown problem {name!r}; choose from {', '.join(PROBLEMS)}")
    for name in optimizers:
        if name not in OPTIMIZERS:
            parser.error(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    logging.basicConfig(level=logging.WARNING)
    plot_dir = args.plot_dir or tempfile.mkdtemp(prefix="bandster_quality_")
    os.makedirs(plot_dir, exist_ok=True)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    saved: dict[str, dict] = {}
    bohb_kwargs = json.loads(args.bohb_kwargs)
    print(f"seeds {seeds[0]}..{seeds[-1]}, {args.iterations} HyperBand/BOHB iterations per run; plots in {plot_dir}")
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for name in problems:
            problem = PROBLEMS[name]
            total = planned_budget(problem, args.iterations) / problem.max_budget
            t0 = time.perf_counter()
            curves: dict[str, list[tuple]] = {}
            best_seen = math.inf
            for opt_name in optimizers:
                curves[opt_name] = []
                for seed in seeds:
                    runs = run_one(
                        problem, opt_name, seed, args.iterations, workdir, args.hpbandster_python, bohb_kwargs
                    )
                    cum, vals, best_top = trajectory(problem, runs, total * problem.max_budget)
                    curves[opt_name].append((cum, vals))
                    best_seen = min(best_seen, best_top)
            reference = problem.optimum if problem.optimum is not None else best_seen
            ref_text = f"optimum {reference:.6g}" if problem.optimum is not None else f"best seen {reference:.6g}"
            print(f"\n### {name}: {problem.description}")
            print(
                f"budget B = {total:.0f} x max_budget ({problem.max_budget:g}); regret vs {ref_text}; "
                f"{time.perf_counter() - t0:.0f} s\n"
            )
            header = [f"{int(f * 100)} % of B" for f in FRACTIONS[:-1]] + ["final (100 %)"]
            print("| optimizer | " + " | ".join(header) + " |")
            print("|---" * (len(header) + 1) + "|")
            finals: dict[str, list[float]] = {}
            halves: dict[str, list[float]] = {}
            saved[name] = {"seeds": seeds, "iterations": args.iterations, "reference": reference, "regrets": {}}
            for opt_name, runs in curves.items():
                cells = []
                saved[name]["regrets"][opt_name] = {}
                for f in FRACTIONS:
                    regrets = [value_at(cum, vals, f * total) - reference for cum, vals in runs]
                    saved[name]["regrets"][opt_name][str(f)] = regrets
                    cells.append(fmt(*mean_se(regrets)))
                    if f == 1.0:
                        finals[opt_name] = regrets
                    if f == 0.5:
                        halves[opt_name] = regrets
                print(f"| {opt_name} | " + " | ".join(cells) + " |")
            print("\n| optimizer | median at 50 % of B | median final | BOHB p(<) | BOHB p(>) |")
            print("|---|---|---|---|---|")
            for opt_name in finals:
                if opt_name != "BOHB" and "BOHB" in finals:
                    less = one_sided_p(finals["BOHB"], finals[opt_name], "less")
                    more = one_sided_p(finals["BOHB"], finals[opt_name], "greater")
                    tests = f"{less:.3g} | {more:.3g}"
                else:
                    tests = "- | -"
                print(f"| {opt_name} | {median(halves[opt_name]):.4g} | {median(finals[opt_name]):.4g} | {tests} |")
            if "BOHB" in finals:
                comparisons = []
                for other in (o for o in finals if o != "BOHB"):
                    pairs = list(zip(finals["BOHB"], finals[other], strict=True))
                    wins = sum(a < b - 1e-12 for a, b in pairs)
                    ties = sum(abs(a - b) <= 1e-12 for a, b in pairs)
                    comparisons.append(f"lower than {other} in {wins}/{len(pairs)} seeds ({ties} ties)")
                if comparisons:
                    print("\nBOHB's final regret is " + ", ".join(comparisons) + ".")
            path = os.path.join(plot_dir, f"quality_{name}.png")
            plot(problem, curves, reference, total, path)
            print(f"plot: {path}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(saved, fh)
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
