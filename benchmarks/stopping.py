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
   ``--protocol complete`` (default): bandster's ``max_configs``, the runs go on until nothing is left to
   promote; ``trials_started``: the PASHA paper's protocol (Syne Tune's ``max_num_trials_started``), both runs
   end when configuration ``max_configs + 1`` starts. Also printed: the largest budget reached per seed,
   the steps per job budget (where the steps go), and PASHA's rises (what the ranking check saw each time).
3. *Rank correlations* (``ranks``): Spearman between the values at neighbouring rung steps of ``--max_configs``
   random configurations, over all and over the best third at the lower rung (PASHA compares the rankings of
   the configurations promoted into its top rung).

``--steps`` is the consumed-steps budget of an 81-step problem; a problem with ``S`` steps gets ``steps * S / 81``
(1,000 of 3,000 for ``sgd_curves``), the same number of full-length curves. The ladder is ``1..S`` steps, eta 3.

    python benchmarks/stopping.py [--seeds 20] [--problems hartmann6,cond_branin,sgd_curves] [--workers 16]
        [--steps 6000] [--max_configs 256] [--protocol complete|trials_started] [--skip equal,ranks,configs]
        [--async_bohb_kwargs '{"random_fraction": 0.5}']
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import logging
import math
import os
import tempfile

import numpy as np

from bandster.backends import SimulatedBackend
from bandster.optimizers import ASHA, BOHB, PASHA, AsyncBOHB, MedianStopping
from bandster.records.format import latest_journal_directory, read_events

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
    """The Result of one run, and its journal directory."""
    opt = make(name, problem, seed, args.workers, directory)
    try:
        result = opt.run(n_iterations=1000, progress=False, **limits)
    finally:
        opt.shutdown()
    return result, latest_journal_directory(directory, opt.run_id)


def regret(problem, config):
    return math.inf if config is None else problem.true_loss(config) - problem.optimum


def steps_for(problem, args) -> float:
    """The consumed-steps budget of ``problem``: ``--steps`` scaled by its curve length over 81."""
    return args.steps * curve_form(problem)[0] / 81


def equal_steps(problem, seed, args, directory):
    out = {}
    steps = steps_for(problem, args)
    for name in args.methods:
        result, _ = one_run(name, problem, seed, args, directory, max_budget_spent=steps)
        runs = result.get_all_runs()
        t = time_at_steps(runs, steps)
        out[name] = (regret(problem, returned_config(runs, result.get_id2config_mapping(), t)),
                     consumed_until(runs, t))
    return out


def configs_started_at(runs, n: int) -> float:
    """The virtual time at which the ``n``-th configuration (1-based) started (its first run)."""
    first = {}
    for r in runs:
        first[r.config_id] = min(first.get(r.config_id, math.inf), r.time_stamps["started"])
    return sorted(first.values())[n - 1]


def steps_by_budget(runs, t: float) -> dict[float, float]:
    """Steps consumed by virtual time ``t`` per job budget (the rung a job climbs to)."""
    out: dict[float, float] = {}
    for r in runs:
        used = max(0.0, min(r.time_stamps["finished"], t) - r.time_stamps["started"])
        out[float(r.budget)] = out.get(float(r.budget), 0.0) + used
    return out


def same_configs(problem, seed, args, directory):
    """ASHA and PASHA with the same number of configurations, under ``args.protocol``: ``complete`` (bandster's
    ``max_configs``: no new configuration after the ``max_configs``-th, the run goes on until nothing is left to
    promote) or ``trials_started`` (the PASHA paper's experiments: Syne Tune's
    ``StoppingCriterion(max_num_trials_started=N)`` ends the whole run, running jobs included, when configuration
    ``N + 1`` starts; here a run with ``max_configs = N + 1`` cut at that start). Per method: regret, consumed
    steps, the largest budget a finished job reached, the steps per job budget, and the rises of PASHA's top budget
    (its ``pasha_top_budget`` events, with the steps consumed by then)."""
    out = {}
    for name in ("ASHA", "PASHA"):
        if args.protocol == "complete":
            result, journal = one_run(name, problem, seed, args, directory, max_configs=args.max_configs)
            runs = result.get_all_runs()
            t = max(r.time_stamps["finished"] for r in runs)
        else:
            result, journal = one_run(name, problem, seed, args, directory, max_configs=args.max_configs + 1)
            runs = result.get_all_runs()
            t = configs_started_at(runs, args.max_configs + 1)
        reached = max((r.budget for r in runs if r.time_stamps["finished"] <= t), default=0.0)
        rises = [{**event, "steps": consumed_until(runs, event["time"])} for event in read_events(journal)
                 if event["event"] == "pasha_top_budget" and event["time"] <= t]
        out[name] = (regret(problem, returned_config(runs, result.get_id2config_mapping(), t)),
                     consumed_until(runs, t), reached, steps_by_budget(runs, t), rises)
    return out


def rung_rank_correlations(problem, seed: int, n: int, eta: float = 3) -> list[tuple[int, int, float, float]]:
    """Spearman rank correlations of ``n`` random configurations' values at neighbouring rung steps of the
    problem's curve (noise of ``seed``): ``(step, next step, rho over all n, rho over the best floor(n / eta)
    at the lower step, those ASHA may promote)``."""
    from scipy.stats import spearmanr

    steps, per_step = curve_form(problem)
    rungs = [1]
    while rungs[-1] * eta <= steps:
        rungs.append(int(rungs[-1] * eta))
    configs = [dict(c) for c in problem.make_space(seed).sample_configuration(n)]
    values = np.array([[problem.evaluate(c, per_step * s, seed) for s in rungs] for c in configs])
    out = []
    for k in range(len(rungs) - 1):
        low, high = values[:, k], values[:, k + 1]
        best = np.argsort(low, kind="stable")[:max(2, int(n // eta))]
        out.append((rungs[k], rungs[k + 1], float(spearmanr(low, high)[0]),
                    float(spearmanr(low[best], high[best])[0])))
    return out


def print_rises(per_seed: list[list[dict]]) -> None:
    """PASHA's rises of its top budget (the ``pasha_top_budget`` events), per budget it rose from: in how many
    seeds, and the means of the steps consumed by then, the configurations compared, epsilon, the positions out of
    their soft-ranking group and the largest gap."""
    by_budget: dict[float, list[dict]] = {}
    for rises in per_seed:
        for rise in rises:
            by_budget.setdefault(rise["previous"], []).append(rise)
    print(f"  PASHA's rises (of {len(per_seed)} seeds; means): ", end="")
    print("; ".join(
        f"from {budget:g} in {len(rises)} after {np.mean([r['steps'] for r in rises]):.0f} steps, "
        f"{np.mean([r['configs'] for r in rises]):.1f} configs, epsilon {np.mean([r['epsilon'] for r in rises]):.4g}, "
        f"{np.mean([r['out_of_group'] for r in rises]):.1f} out of group, largest gap "
        f"{np.mean([r['largest_gap'] for r in rises]):.4g}"
        for budget, rises in sorted(by_budget.items())) or "none")


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
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: equal,ranks,configs")
    parser.add_argument("--protocol", default="complete", choices=("complete", "trials_started"),
                        help="how the PASHA-vs-ASHA runs with --max_configs end (see same_configs)")
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
            if "ranks" not in skip:
                table = [rung_rank_correlations(problem, seed, args.max_configs) for seed in range(args.seeds)]
                print(f"\n{problem_name}: Spearman rank correlation between neighbouring rungs, {args.max_configs} "
                      f"random configurations, {args.seeds} seeds (mean; all / the best third at the lower rung)")
                for k, (low, high, _, _) in enumerate(table[0]):
                    print(f"  steps {low:3d} -> {high:3d}: {np.mean([t[k][2] for t in table]):.3f} / "
                          f"{np.mean([t[k][3] for t in table]):.3f}")
            if "configs" not in skip:
                rows = {"ASHA": [], "PASHA": []}
                for seed in range(args.seeds):
                    for name, row in same_configs(problem, seed, args, os.path.join(directory, "c")).items():
                        rows[name].append(row)
                regrets = {name: [row[0] for row in rows[name]] for name in rows}
                steps = {name: [row[1] for row in rows[name]] for name in rows}
                (am, ase, _), (pm, pse, _) = summary(regrets["ASHA"]), summary(regrets["PASHA"])
                ratio = np.mean(steps["PASHA"]) / np.mean(steps["ASHA"])
                print(f"\n{problem_name}: max_configs={args.max_configs}, {args.seeds} seeds, protocol {args.protocol}")
                for name, (mean, se) in (("ASHA", (am, ase)), ("PASHA", (pm, pse))):
                    reached = sorted(collections.Counter(row[2] for row in rows[name]).items())
                    budgets = sorted({b for row in rows[name] for b in row[3]})
                    per_budget = ", ".join(f"{b:g}: {np.mean([row[3].get(b, 0.0) for row in rows[name]]):.0f}"
                                           for b in budgets)
                    print(f"  {name:5s} regret {mean:.4f} +- {se:.4f}, steps {np.mean(steps[name]):.0f}; largest "
                          f"budget reached (budget: seeds) {', '.join(f'{b:g}: {c}' for b, c in reached)}; steps "
                          f"per job budget {per_budget}")
                    print("   ", " ".join(f"{v:.4f}" for v in regrets[name]))
                print(f"  PASHA/ASHA steps {ratio:.2f}; PASHA within one s.e. of ASHA: {pm <= am + ase}; "
                      f"target (within and <= 0.60): {pm <= am + ase and ratio <= 0.60}")
                print_rises([row[4] for row in rows["PASHA"]])

if __name__ == "__main__":
    main()
