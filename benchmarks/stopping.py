"""Early stopping and PASHA on learning curves, in simulated time (issue 14's benchmark).

Problems: Hartmann-6 and the conditional Branin of ``benchmarks/problems.py`` in fidelity form, as learning
curves: a job of ``S`` steps (``S = 81``) reports at every step ``s`` the problem's noisy loss at budget
``9 * s`` (the problems' budgets 9..729), whose noise is fixed per (config, budget, seed) (``problems.rng_for``);
and ``sgd_curves``, real per-epoch learning curves: scikit-learn's SGDClassifier on the digits, trained one epoch
at a time (``S = 27`` epochs; a grid of 2,550 configurations whose curves are computed once and cached on disk,
``problems.sgd_table``; its optimum is the grid's best 27-epoch validation error). One step costs one virtual
second on one of ``--workers`` simulated workers (``SimulatedBackend``); a promotion resumes from its checkpoint
(it costs the increment only). Regret = the true loss at the largest budget of the
configuration a method returns, minus the optimum; the returned configuration is the best of the runs that reached
the largest number of steps of that method's run (stopped runs count at their last step).

Two comparisons, ``--seeds`` seeds each:

1. *Equal consumed steps*: stopping ASHA, AsyncBOHB(type="stopping"), MedianStopping, PASHA, promotion ASHA and
   synchronous BOHB run until ``--steps`` steps are consumed (``max_budget_spent``; the runs of the
   promotion-type methods are charged their full budget, so they are cut at the virtual time where the consumed
   steps, counted from the time stamps, reach ``--steps``); regret of the configuration returned at that point.
2. *PASHA vs promotion ASHA at the same max_configs* (``--max_configs``): final regret and consumed steps; the
   target is PASHA within one standard error of ASHA's mean final regret with at most 60 % of its steps.

``--steps`` is the consumed-steps budget of an 81-step problem; a problem with ``S`` steps gets ``steps * S / 81``
(1,000 of 3,000 for ``sgd_curves``), the same number of full-length curves. The ladder is ``1..S`` steps, eta 3.

    python benchmarks/stopping.py [--seeds 20] [--problems hartmann6,cond_branin,sgd_curves] [--workers 16]
        [--steps 6000] [--max_configs 256] [--async_bohb_kwargs '{"random_fraction": 0.5}']
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import tempfile

import numpy as np

from bandster.backends import SimulatedBackend
from bandster.optimizers import ASHA, BOHB, PASHA, AsyncBOHB, MedianStopping

from problems import PROBLEMS, Problem, curve_form, sgd_curves_optimum

_ids = itertools.count()
#: extra keyword arguments of AsyncBOHB(type="stopping") (``--async_bohb_kwargs``)
ASYNC_BOHB_KWARGS: dict = {}


def learning_curve(problem: Problem, seed: int):
    """The generator objective: a report per step from ``previous_budget`` (a checkpoint) to ``budget``."""

    per_step = curve_form(problem)[1]

    def objective(config, budget, previous_budget=None):
        start = int(round(previous_budget or 0))
        loss = math.inf
        for step in range(start + 1, int(round(budget)) + 1):
            loss = problem.evaluate(config, per_step * step, seed)
            yield step, loss, 1.0, {"step": step}
        return {"loss": loss, "info": {"step": int(round(budget))}}

    return objective


def make(name: str, problem: Problem, seed: int, workers: int, directory: str):
    space = problem.make_space(seed)
    common = dict(configspace=space, seed=seed, run_id=f"stop{next(_ids)}", working_directory=directory,
                  backend=SimulatedBackend(workers, learning_curve(problem, seed)))
    steps = curve_form(problem)[0]
    ladder = dict(min_budget=1, max_budget=steps, eta=3)
    if name == "ASHA_stopping":
        return ASHA(type="stopping", **ladder, **common)
    if name == "AsyncBOHB_stopping":
        return AsyncBOHB(type="stopping", **ladder, **common, **ASYNC_BOHB_KWARGS)
    if name == "MedianStopping":
        return MedianStopping(max_budget=steps, grace_period=3, min_samples_required=3, **common)
    if name == "PASHA":
        return PASHA(**ladder, **common)
    if name == "ASHA":
        return ASHA(**ladder, **common)
    if name == "BOHB":
        return BOHB(**ladder, **common)
    raise ValueError(name)


def consumed_until(runs, t: float) -> float:
    """Steps consumed by virtual time ``t`` (one step per virtual second per busy worker)."""
    return sum(max(0.0, min(r.time_stamps["finished"], t) - r.time_stamps["started"]) for r in runs)


def returned_config(runs, id2conf, t: float):
    """The best run of those finished by ``t`` that reached the most steps."""
    done = [r for r in runs if r.time_stamps["finished"] <= t and r.loss is not None and math.isfinite(r.loss)]
    if not done:
        return None
    reach = max((r.info or {}).get("step", r.budget) for r in done)
    best = min((r for r in done if (r.info or {}).get("step", r.budget) == reach), key=lambda r: r.loss)
    return id2conf[best.config_id]["config"]


def time_at_steps(runs, steps: float) -> float:
    """The virtual time at which ``steps`` steps are consumed (bisection on the piecewise-linear consumption)."""
    lo, hi = 0.0, max(r.time_stamps["finished"] for r in runs)
    if consumed_until(runs, hi) <= steps:
        return hi
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if consumed_until(runs, mid) < steps else (lo, mid)
    return hi


def one_run(name, problem, seed, args, directory, **limits):
    opt = make(name, problem, seed, args.workers, directory)
    try:
        result = opt.run(n_iterations=1000, progress=False, **limits)
    finally:
        opt.shutdown()
    return result


def regret(problem, config):
    return math.inf if config is None else problem.true_loss(config) - problem.optimum


def steps_for(problem, args) -> float:
    """The consumed-steps budget of ``problem``: ``--steps`` scaled by its curve length over 81."""
    return args.steps * curve_form(problem)[0] / 81


def equal_steps(problem, seed, args, directory):
    out = {}
    steps = steps_for(problem, args)
    for name in args.methods:
        result = one_run(name, problem, seed, args, directory, max_budget_spent=steps)
        runs = result.get_all_runs()
        t = time_at_steps(runs, steps)
        out[name] = (regret(problem, returned_config(runs, result.get_id2config_mapping(), t)),
                     consumed_until(runs, t))
    return out


def same_configs(problem, seed, args, directory):
    out = {}
    for name in ("ASHA", "PASHA"):
        result = one_run(name, problem, seed, args, directory, max_configs=args.max_configs)
        runs = result.get_all_runs()
        t = max(r.time_stamps["finished"] for r in runs)
        out[name] = (regret(problem, returned_config(runs, result.get_id2config_mapping(), t)),
                     consumed_until(runs, t))
    return out


def summary(values):
    """Mean, standard error and median (an infinite regret, no configuration returned, gives inf or nan)."""
    array = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        se = float(np.std(array, ddof=1) / math.sqrt(len(array))) if len(array) > 1 else 0.0
    return float(np.mean(array)), se, float(np.median(array))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--problems", default="hartmann6,cond_branin,sgd_curves")
    parser.add_argument("--methods", default="ASHA_stopping,AsyncBOHB_stopping,MedianStopping,PASHA,ASHA,BOHB")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--steps", type=float, default=6000)
    parser.add_argument("--max_configs", type=int, default=256)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: equal,configs")
    parser.add_argument("--async_bohb_kwargs", default="{}", help="JSON: extra keyword arguments of AsyncBOHB")
    args = parser.parse_args()
    ASYNC_BOHB_KWARGS.update(json.loads(args.async_bohb_kwargs))
    args.methods = args.methods.split(",")
    logging.basicConfig(level=logging.WARNING)
    skip = set(filter(None, args.skip.split(",")))
    with tempfile.TemporaryDirectory() as directory:
        for problem_name in args.problems.split(","):
            problem = PROBLEMS[problem_name]
            if problem_name == "sgd_curves":
                print(f"\nsgd_curves: optimum (best 27-epoch validation error of the grid) {sgd_curves_optimum():.4f}")
            if "equal" not in skip:
                table = {name: [] for name in args.methods}
                for seed in range(args.seeds):
                    for name, (r, _) in equal_steps(problem, seed, args, os.path.join(directory, "e")).items():
                        table[name].append(r)
                print(f"\n{problem_name}: regret at {steps_for(problem, args):g} consumed steps, {args.seeds} seeds, "
                      f"{args.workers} workers (mean +- s.e., median)")
                for name, values in table.items():
                    mean, se, median = summary(values)
                    print(f"  {name:20s} {mean:.4f} +- {se:.4f}   median {median:.4f}")
                    print("   ", " ".join(f"{v:.4f}" for v in values))
            if "configs" not in skip:
                regrets = {"ASHA": [], "PASHA": []}
                steps = {"ASHA": [], "PASHA": []}
                for seed in range(args.seeds):
                    for name, (r, c) in same_configs(problem, seed, args, os.path.join(directory, "c")).items():
                        regrets[name].append(r)
                        steps[name].append(c)
                (am, ase, _), (pm, pse, _) = summary(regrets["ASHA"]), summary(regrets["PASHA"])
                ratio = np.mean(steps["PASHA"]) / np.mean(steps["ASHA"])
                print(f"\n{problem_name}: max_configs={args.max_configs}, {args.seeds} seeds")
                print(f"  ASHA  regret {am:.4f} +- {ase:.4f}, steps {np.mean(steps['ASHA']):.0f}")
                print(f"  PASHA regret {pm:.4f} +- {pse:.4f}, steps {np.mean(steps['PASHA']):.0f}")
                print(f"  PASHA/ASHA steps {ratio:.2f}; PASHA within one s.e. of ASHA: {pm <= am + ase}; "
                      f"target (within and <= 0.60): {pm <= am + ase and ratio <= 0.60}")


if __name__ == "__main__":
    main()
