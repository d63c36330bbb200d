"""Wall-clock time to synchronous BOHB's final regret: BOHB vs ASHA vs AsyncBOHB, with 16 workers.

The problems are those of ``benchmarks/problems.py`` with a known optimum (by default counting ones, the
multi-fidelity Hartmann-6 and the conditional Branin; budgets 9..729, eta 3). Each (problem, optimizer, seed) is
one run with its own name server and ``--workers`` thread workers that evaluate
``problem.evaluate(config, budget, seed)`` and sleep ``--ms_per_budget x (budget - previous_budget)``
milliseconds: simulated training that resumes from a checkpoint (synchronous BOHB's promotions get
``previous_budget`` too).

Budgets: BOHB (and HyperBand, if asked for) runs ``--iterations`` brackets. The asynchronous optimizers get
``--async_iterations`` Hyperband iterations' worth of budget (default: the same), so that they can also be measured
after BOHB's end. HyperBand is the synchronous reference of random sampling: with it in ``--optimizers``, a line
after the table says when each optimizer's mean curve reached HyperBand's mean final regret.

Incumbent at time t: among the runs finished by t, the configuration with the lowest loss on the largest budget
evaluated so far (HpBandSter's trajectory rule, as in ``benchmarks/quality.py``); its regret is its exact loss
(``problem.true_loss``) minus the optimum. Times are seconds since the run's first dispatch.

Reported per optimizer, over seeds 0..N-1: the mean wall time and final regret; the mean regret of the incumbent
at 50 % and 100 % of BOHB's mean wall time; the first time the mean (over seeds) regret is at most BOHB's mean
final regret (BOHB included: when its own curve gets there); and in how many seeds the optimizer reached that
seed's BOHB final regret before that BOHB run ended.

    python benchmarks/async_regret.py [--seeds 8] [--iterations 20] [--async_iterations 20] [--workers 16]
                                      [--ms_per_budget 2] [--problems counting_ones,hartmann6,cond_branin]
                                      [--optimizers ASHA,AsyncBOHB,HyperBand,AsyncHyperBand,...]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import logging
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from bandster.core.nameserver import NameServer
from bandster.core.worker import Worker
from bandster.optimizers import ASHA, BOHB, AsyncBOHB, AsyncHyperBand, HyperBand

from problems import PROBLEMS, Problem

OPTIMIZERS = {"BOHB": BOHB, "ASHA": ASHA, "AsyncBOHB": AsyncBOHB, "AsyncHyperBand": AsyncHyperBand,
              "AsyncBOHB_all_brackets": functools.partial(AsyncBOHB, n_brackets=None),
              "AsyncBOHB_enough": functools.partial(AsyncBOHB, model_budget_rule="enough"),
              "HyperBand": HyperBand}
#: synchronous optimizers: they run ``--iterations`` brackets, the others ``--async_iterations``' budget
SYNCHRONOUS = {"BOHB", "HyperBand"}
_ids = itertools.count()


class SimulatedTraining(Worker):
    """``problem.evaluate`` after sleeping in proportion to the budget increment."""

    def __init__(self, *args, problem: Problem, noise_seed: int, seconds_per_budget: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.problem = problem
        self.noise_seed = noise_seed
        self.seconds_per_budget = seconds_per_budget

    def compute(self, config, budget, previous_budget=None, **kwargs):
        time.sleep(self.seconds_per_budget * (budget - (previous_budget or 0.0)))
        return {"loss": float(self.problem.evaluate(config, budget, self.noise_seed)), "info": None}


def run_one(problem: Problem, name: str, seed: int, n_iterations: int, args: argparse.Namespace,
            workdir: str) -> list[tuple]:
    """``(finished s since the first dispatch, budget, loss, config)`` of every run, in finish order."""
    run_id = f"async_regret_{os.getpid()}_{next(_ids)}"
    ns = NameServer(run_id=run_id)
    host, port = ns.start()
    workers = [SimulatedTraining(run_id=run_id, nameserver=host, nameserver_port=port, id=i, problem=problem,
                                 noise_seed=seed, seconds_per_budget=args.ms_per_budget / 1000)
               for i in range(args.workers)]
    for w in workers:
        w.run(background=True)
    opt = OPTIMIZERS[name](configspace=problem.make_space(seed), run_id=run_id, nameserver=host,
                           nameserver_port=port, min_budget=problem.min_budget, max_budget=problem.max_budget,
                           eta=problem.eta, seed=seed, working_directory=os.path.join(workdir, run_id))
    try:
        result = opt.run(n_iterations=n_iterations, min_n_workers=args.workers, progress=False)
    finally:
        opt.shutdown(shutdown_workers=True)
        for w in workers:
            w.shutdown()
        ns.shutdown()
    id2conf = result.get_id2config_mapping()
    runs = result.get_all_runs()
    t0 = min(r.time_stamps["started"] for r in runs)
    return [(r.time_stamps["finished"] - t0, float(r.budget), r.loss, id2conf[r.config_id]["config"]) for r in runs]


def trajectory(problem: Problem, runs: list[tuple], optimum: float) -> list[tuple[float, float]]:
    """``(time, regret of the incumbent)`` after every run that changed it (runs in finish order)."""
    best: dict[float, tuple[float, dict]] = {}
    out: list[tuple[float, float]] = []
    incumbent = None
    for t, budget, loss, config in runs:
        if loss is None or not math.isfinite(loss):
            continue
        if budget not in best or loss < best[budget][0]:
            best[budget] = (loss, config)
        top = best[max(best)][1]
        if top is not incumbent:
            incumbent = top
            out.append((t, float(problem.true_loss(top)) - optimum))
    return out


def regret_at(traj: list[tuple[float, float]], t: float) -> float:
    """The incumbent's regret at time ``t`` (NaN before the first incumbent)."""
    value = math.nan
    for when, regret in traj:
        if when > t:
            break
        value = regret
    return value


def first_time_at_most(traj: list[tuple[float, float]], level: float) -> float | None:
    """When the incumbent's regret first got to ``level`` or lower; None if it never did."""
    for t, regret in traj:
        if regret <= level + 1e-12:
            return t
    return None


def mean_regret_at(trajs: list[list[tuple[float, float]]], t: float) -> float:
    """The mean over seeds of the incumbent's regret at ``t``; NaN while a seed has no incumbent."""
    values = [regret_at(traj, t) for traj in trajs]
    return math.nan if any(math.isnan(v) for v in values) else statistics.mean(values)


def mean_curve_reaches(trajs: list[list[tuple[float, float]]], level: float) -> float | None:
    """The first time at which the mean over seeds of the incumbent's regret is <= ``level`` (None: never)."""
    for t in sorted({when for traj in trajs for when, _ in traj}):
        value = mean_regret_at(trajs, t)
        if not math.isnan(value) and value <= level + 1e-12:
            return t
    return None


def report(problem: Problem, names: list[str], trajs: dict, walls: dict, seeds: int) -> None:
    finals = {o: [traj[-1][1] for traj in trajs[o]] for o in names}
    target = statistics.mean(finals["BOHB"])
    bohb_wall = statistics.mean(walls["BOHB"])
    print(f"target: BOHB's mean final regret {target:.4g}; BOHB's mean wall time {bohb_wall:.2f} s\n")
    print("| optimizer | wall s | final regret (mean ± s.e.) | regret at 50 % / 100 % of BOHB's time | "
          "mean regret <= target after | seeds reaching their BOHB's final regret before BOHB ended |")
    print("|---|---|---|---|---|---|")
    for name in names:
        values = finals[name]
        se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan
        half, full = (mean_regret_at(trajs[name], f * bohb_wall) for f in (0.5, 1.0))
        when = mean_curve_reaches(trajs[name], target)
        before = 0
        for seed, traj in enumerate(trajs[name]):
            t = first_time_at_most(traj, finals["BOHB"][seed])
            before += t is not None and t < walls["BOHB"][seed]
        when_text = "never" if when is None else f"{when:.2f} s"
        print(f"| {name} | {statistics.mean(walls[name]):.2f} | {statistics.mean(values):.4g} ± {se:.2g} | "
              f"{half:.4g} / {full:.4g} | {when_text} | {before}/{seeds} |", flush=True)
    if "HyperBand" in names:  # random sampling's synchronous reference, for ASHA and AsyncHyperBand
        hb_target = statistics.mean(finals["HyperBand"])
        hb_wall = statistics.mean(walls["HyperBand"])
        print(f"\nHyperBand's mean final regret {hb_target:.4g}, mean wall time {hb_wall:.2f} s; mean regret <= it "
              "after: " + ", ".join(
                  f"{name} " + ("never" if (t := mean_curve_reaches(trajs[name], hb_target)) is None else f"{t:.2f} s")
                  for name in names), flush=True)


def compare(problems: list[str], names: list[str], seeds: int, run: Callable[[Problem, str, int], list[tuple]]) -> None:
    """Run every optimizer of ``names`` on every seed of every problem and print :func:`report`'s tables;
    ``run(problem, name, seed)`` returns ``(finished s since the first dispatch, budget, loss, config)`` per run."""
    for problem_name in problems:
        problem = PROBLEMS[problem_name]
        if problem.optimum is None:
            raise SystemExit(f"{problem_name} has no known optimum; pick a synthetic problem")
        t_start = time.perf_counter()
        trajs: dict[str, list] = {o: [] for o in names}
        walls: dict[str, list[float]] = {o: [] for o in names}
        for seed in range(seeds):
            for name in names:
                runs = run(problem, name, seed)
                trajs[name].append(trajectory(problem, runs, problem.optimum))
                walls[name].append(max(t for t, *_ in runs))
        print(f"\n### {problem_name}: {problem.description}; {time.perf_counter() - t_start:.0f} s\n")
        report(problem, names, trajs, walls, seeds)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=20, help="BOHB's brackets")
    parser.add_argument("--async_iterations", type=int, default=None,
                        help="Hyperband iterations' budget of the asynchronous optimizers (default: --iterations)")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--ms_per_budget", type=float, default=2.0)
    parser.add_argument("--problems", default="counting_ones,hartmann6,cond_branin")
    parser.add_argument("--optimizers", default="ASHA,AsyncBOHB",
                        help=f"comma list of {', '.join(OPTIMIZERS)}; BOHB (the reference) always runs")
    args = parser.parse_args()
    async_iterations = args.async_iterations or args.iterations
    logging.basicConfig(level=logging.WARNING)
    names = ["BOHB"] + [o for o in args.optimizers.split(",") if o and o != "BOHB"]
    for name in names:
        if name not in OPTIMIZERS:
            parser.error(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    print(f"{args.workers} thread workers; BOHB {args.iterations} brackets, the others {async_iterations} Hyperband "
          f"iterations' budget; sleep {args.ms_per_budget} ms x budget increment; seeds 0..{args.seeds - 1}")
    with tempfile.TemporaryDirectory() as workdir:
        compare(args.problems.split(","), names, args.seeds,
                lambda problem, name, seed: run_one(problem, name, seed, args.iterations if name in SYNCHRONOUS
                                                    else async_iterations, args, workdir))

if __name__ == "__main__":
    main()
