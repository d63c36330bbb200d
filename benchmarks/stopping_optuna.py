"""Optuna's pruners on the learning curves of ``benchmarks/stopping.py`` (run it with Optuna's interpreter).

Optuna is no dependency of bandster (it belongs to the ``benchmarks`` extra; here it was run from a separate
environment): this script imports only Optuna, ConfigSpace, numpy and ``benchmarks/problems.py``. Each study is
driven through Optuna's ask/tell with ``--workers`` trials in flight in a lockstep simulation of the same cost
model as ``stopping.py`` (one virtual second per step, every step of every running trial costs one step; ties in
worker order): at each step a running trial reports its loss (``trial.report``) and is pruned if
``trial.should_prune()``; a trial that reaches the last step (81; 27 for ``sgd_curves``) is told its last loss.
The run ends when ``--steps`` steps are consumed. Regret and the returned configuration are those of
``stopping.py`` (the best of the trials that reached the most steps). Configurations are proposed define-by-run
from the problems' ConfigSpace spaces (conditions included). As in ``stopping.py``, ``--steps`` is the budget of
an 81-step problem; ``sgd_curves`` (27 epochs) gets ``steps * 27 / 81``, and its curves come from the same on-disk
table (``problems.sgd_table``).

    /work/venvs/peers/bin/python benchmarks/stopping_optuna.py [--seeds 20]
        [--problems hartmann6,cond_branin,sgd_curves] [--steps 3000] [--workers 16]
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics

import ConfigSpace as CS
import optuna

from problems import PROBLEMS, Problem, curve_form, sgd_curves_optimum


def suggest(trial: optuna.trial.Trial, space: CS.ConfigurationSpace) -> dict:
    """A configuration of ``space``, define-by-run (only hyperparameters whose conditions hold)."""
    config: dict = {}
    conditions: dict[str, list] = {}
    for condition in space.conditions:
        conditions.setdefault(condition.child.name, []).append(condition)
    for hp in space.values():
        active = True
        for condition in conditions.get(hp.name, []):
            parent = config.get(condition.parent.name)
            if isinstance(condition, CS.EqualsCondition):
                active &= parent == condition.value
            elif isinstance(condition, CS.InCondition):
                active &= parent in condition.values
            else:
                raise NotImplementedError(type(condition).__name__)
        if not active:
            continue
        if isinstance(hp, CS.UniformFloatHyperparameter):
            config[hp.name] = trial.suggest_float(hp.name, hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            config[hp.name] = trial.suggest_int(hp.name, hp.lower, hp.upper, log=hp.log)
        elif isinstance(hp, CS.CategoricalHyperparameter):
            config[hp.name] = trial.suggest_categorical(hp.name, list(hp.choices))
        else:
            raise NotImplementedError(type(hp).__name__)
    return config


def make_study(name: str, seed: int, max_steps: int) -> optuna.Study:
    if name == "TPE+Hyperband":
        sampler, pruner = optuna.samplers.TPESampler(seed=seed), optuna.pruners.HyperbandPruner(1, max_steps, 3)
    elif name == "TPE+Median":
        sampler, pruner = optuna.samplers.TPESampler(seed=seed), optuna.pruners.MedianPruner(n_warmup_steps=3)
    elif name == "Random+SH":
        sampler = optuna.samplers.RandomSampler(seed=seed)
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    else:
        raise ValueError(name)
    # a fixed study name: HyperbandPruner assigns trials to brackets by hashing it with the trial number
    return optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner, study_name=f"{name}-{seed}")


def simulate(name: str, problem: Problem, seed: int, steps: int, workers: int) -> float:
    max_steps, per_step = curve_form(problem)
    study = make_study(name, seed, max_steps)
    space = problem.make_space(seed)
    running: list[list] = []  # [trial, config, step, last loss]
    finished: list[tuple[int, float, dict]] = []  # (steps reached, last loss, config)
    consumed = 0
    while consumed < steps:
        while len(running) < workers:
            trial = study.ask()
            running.append([trial, suggest(trial, space), 0, math.inf])
        for entry in list(running):
            if consumed >= steps:
                break
            trial, config, step, _ = entry
            step += 1
            consumed += 1
            loss = problem.evaluate(config, per_step * step, seed)
            entry[2], entry[3] = step, loss
            trial.report(loss, step)
            if step >= max_steps:
                study.tell(trial, loss)
            elif trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                continue
            running.remove(entry)
            finished.append((step, loss, config))
    if not finished:
        return math.inf
    reach = max(s for s, _, _ in finished)
    best = min((f for f in finished if f[0] == reach), key=lambda f: f[1])
    return problem.true_loss(best[2]) - problem.optimum


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--problems", default="hartmann6,cond_branin,sgd_curves")
    parser.add_argument("--methods", default="TPE+Hyperband,TPE+Median,Random+SH")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.basicConfig(level=logging.WARNING)
    for problem_name in args.problems.split(","):
        problem = PROBLEMS[problem_name]
        if problem_name == "sgd_curves":
            sgd_curves_optimum()
        steps = round(args.steps * curve_form(problem)[0] / 81)
        print(f"\n{problem_name}: regret at {steps} consumed steps, {args.seeds} seeds, {args.workers} trials "
              "in flight (mean +- s.e., median; then the 20 values)")
        for name in args.methods.split(","):
            values = [simulate(name, problem, seed, steps, args.workers) for seed in range(args.seeds)]
            se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
            print(f"  {name:16s} {statistics.fmean(values):.4f} +- {se:.4f}   median {statistics.median(values):.4f}")
            print("   ", " ".join(f"{v:.4f}" for v in values))


if __name__ == "__main__":
    main()
