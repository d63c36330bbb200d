"""One system on one problem over several seeds, in the interpreter of that system's environment.

Started by ``benchmarks/peers.py`` as ``python _peer_runner.py SYSTEM PROBLEM SEEDS BUDGET ITERATIONS OUT``
(``SEEDS`` a comma list, ``BUDGET`` the total budget B in budget units, ``ITERATIONS`` the number of Hyperband
brackets that spend B for bandster and HpBandSter). It imports only ``problems.py``, numpy, ConfigSpace and the
system's own library, so that it runs in the peers' environment without bandster. bandster's systems and
HpBandSter's BOHB run in bandster's environment through ``quality.run_one`` (which runs HpBandSter in its own
environment, ``$BANDSTER_HPBANDSTER_PYTHON``, with ``hpbandster_bohb_driver.py``).

It writes ``OUT`` as JSON: ``{"system", "problem", "version", "seeds": {seed: {"runs", "seconds"}}}``, where
``runs`` lists ``[budget, loss, config, cost]`` in the order the system observed them; ``cost`` is the budget
the run added to the total (equal to ``budget`` for systems that evaluate every budget from scratch, the
increment over the trial's previous rung for the stop-type systems, whose trials continue).

Each system is driven sequentially by one worker until its summed cost reaches B; ``peers.py`` ignores the runs
past B.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings

import ConfigSpace as CS
import numpy as np

from problems import PROBLEMS, Problem


def builtin(value):
    """``value`` with numpy scalars unwrapped, for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def plain(config) -> dict:
    """A configuration (any mapping) as a dict of builtins, active hyperparameters only."""
    return {k: builtin(v) for k, v in dict(config).items() if v is not None}


def rung_levels(problem: Problem) -> list[int]:
    """Resource levels r (budget = min_budget * r) of the rungs: 1, eta, eta^2, ..., max/min."""
    top = round(math.log(problem.max_budget / problem.min_budget) / math.log(problem.eta))
    return [int(round(problem.eta**k)) for k in range(top + 1)]


def hyperparameters(space) -> list:
    return list(space.values()) if hasattr(space, "values") else space.get_hyperparameters()


def parent_conditions(space) -> dict[str, list[tuple[str, list]]]:
    """child name -> [(parent name, allowed values)] (problems.py uses EqualsCondition and InCondition only)."""
    conds = space.conditions if hasattr(space, "conditions") else space.get_conditions()
    out: dict[str, list[tuple[str, list]]] = {}
    for c in conds:
        allowed = list(c.values) if hasattr(c, "values") else [c.value]
        out.setdefault(c.child.name, []).append((c.parent.name, allowed))
    return out


def ordered(space) -> list:
    """Hyperparameters with every parent before its children."""
    conds = parent_conditions(space)
    todo, done, order = hyperparameters(space), set(), []
    while todo:
        rest = []
        for hp in todo:
            if all(p in done for p, _ in conds.get(hp.name, [])):
                order.append(hp)
                done.add(hp.name)
            else:
                rest.append(hp)
        todo = rest
    return order


def is_active(name: str, values: dict, conds: dict) -> bool:
    return all(p in values and values[p] in allowed for p, allowed in conds.get(name, []))


def active_only(space, config: dict) -> dict:
    """A flat configuration (every hyperparameter set) reduced to its active hyperparameters."""
    conds, out = parent_conditions(space), {}
    for hp in ordered(space):
        if hp.name in config and is_active(hp.name, out, conds):
            out[hp.name] = builtin(config[hp.name])
    return out


# --- systems -------------------------------------------------------------------------------------------------


def run_bandster(optimizer: str):
    def run(problem: Problem, seed: int, budget: float, iterations: int) -> list:
        import quality

        with tempfile.TemporaryDirectory() as workdir:
            runs = quality.run_one(problem, optimizer, seed, iterations, workdir)
        return [[b, loss, plain(c), b] for b, loss, c in runs]

    return run


def run_hpbandster(problem: Problem, seed: int, budget: float, iterations: int) -> list:
    import quality

    python = os.environ["BANDSTER_HPBANDSTER_PYTHON"]
    runs = quality.run_one(problem, "HpBandSterBOHB", seed, iterations, "", hpbandster_python=python)
    return [[b, loss, plain(c), b] for b, loss, c in runs]


def run_dehb(problem: Problem, seed: int, budget: float, iterations: int) -> list:
    from dehb import DEHB

    space = problem.make_space(seed)
    runs, spent = [], 0.0
    with tempfile.TemporaryDirectory() as out:
        dehb = DEHB(cs=space, dimensions=len(hyperparameters(space)), min_fidelity=problem.min_budget,
                    max_fidelity=problem.max_budget, eta=problem.eta, n_workers=1, seed=seed, output_path=out)
        while spent < budget:
            job = dehb.ask()
            config = plain(job["config"])  # a Configuration (DEHB converts its vector with use_configspace)
            fidelity = float(job["fidelity"])
            loss = float(problem.evaluate(config, fidelity, seed))
            dehb.tell(job, {"fitness": loss, "cost": fidelity})
            runs.append([fidelity, loss, config, fidelity])
            spent += fidelity
    return runs


def run_smac(facade_name: str):
    def run(problem: Problem, seed: int, budget: float, iterations: int) -> list:
        from smac import HyperbandFacade, MultiFidelityFacade, Scenario
        from smac.runhistory.dataclasses import TrialValue

        facade = {"SMAC-MF": MultiFidelityFacade, "SMAC-HB": HyperbandFacade}[facade_name]
        runs, spent = [], 0.0
        with tempfile.TemporaryDirectory() as out:
            scenario = Scenario(problem.make_space(seed), output_directory=out, n_trials=10**7,
                                min_budget=problem.min_budget, max_budget=problem.max_budget, seed=seed)
            smac = facade(scenario, target_function=lambda config, seed=0, budget=0.0: 0.0, overwrite=True,
                          logging_level=40)
            while spent < budget:
                info = smac.ask()
                config = plain(info.config)
                loss = float(problem.evaluate(config, info.budget, seed))
                smac.tell(info, TrialValue(cost=loss))
                runs.append([float(info.budget), loss, config, float(info.budget)])
                spent += info.budget
        return runs

    return run


def optuna_params(trial, space) -> dict:
    """Define-by-run: each active hyperparameter of ``space`` suggested in topological order."""
    conds, values = parent_conditions(space), {}
    for hp in ordered(space):
        if not is_active(hp.name, values, conds):
            continue
        if isinstance(hp, CS.CategoricalHyperparameter):
            values[hp.name] = trial.suggest_categorical(hp.name, [builtin(c) for c in hp.choices])
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            values[hp.name] = trial.suggest_int(hp.name, int(hp.lower), int(hp.upper), log=bool(hp.log))
        else:
            values[hp.name] = trial.suggest_float(hp.name, float(hp.lower), float(hp.upper), log=bool(hp.log))
    return values


def run_optuna(problem: Problem, seed: int, budget: float, iterations: int) -> list:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    levels = rung_levels(problem)
    space = problem.make_space(seed)
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=levels[-1], reduction_factor=problem.eta),
        study_name=f"peers-{problem.name}-{seed}",
    )
    runs, spent = [], 0.0
    while spent < budget:
        trial = study.ask()
        config = optuna_params(trial, space)
        previous, loss, pruned = 0.0, math.nan, False
        for r in levels:
            b = problem.min_budget * r
            loss = float(problem.evaluate(config, b, seed))
            runs.append([b, loss, config, b - previous])
            spent += b - previous
            previous = b
            trial.report(loss, r)
            if r < levels[-1] and trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, loss)
    return runs


def synetune_space(space) -> dict:
    from syne_tune.config_space import choice, loguniform, randint, uniform

    out = {}
    for hp in hyperparameters(space):
        if isinstance(hp, CS.CategoricalHyperparameter):
            out[hp.name] = choice([builtin(c) for c in hp.choices])
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            out[hp.name] = randint(int(hp.lower), int(hp.upper))
        else:
            out[hp.name] = (loguniform if hp.log else uniform)(float(hp.lower), float(hp.upper))
    return out


def run_synetune(scheduler_name: str):
    def run(problem: Problem, seed: int, budget: float, iterations: int) -> list:
        import datetime

        from syne_tune.backend.trial_status import Trial
        from syne_tune.optimizer.baselines import ASHA, BOHB
        from syne_tune.optimizer.scheduler import SchedulerDecision

        random.seed(seed)
        np.random.seed(seed)
        levels = rung_levels(problem)
        space = problem.make_space(seed)
        cls = {"SyneTune-BOHB": BOHB, "SyneTune-ASHA": ASHA}[scheduler_name]
        scheduler = cls(synetune_space(space), metric="loss", time_attr="epoch", max_t=levels[-1], random_seed=seed)
        runs, spent, trial_id = [], 0.0, 0
        while spent < budget:
            suggestion = scheduler.suggest()
            trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.datetime.now())
            trial_id += 1
            scheduler.on_trial_add(trial)
            config = active_only(space, suggestion.config)
            previous = 0.0
            for r in levels:
                b = problem.min_budget * r
                loss = float(problem.evaluate(config, b, seed))
                runs.append([b, loss, config, b - previous])
                spent += b - previous
                previous = b
                if scheduler.on_trial_result(trial, {"loss": loss, "epoch": r}) == SchedulerDecision.STOP:
                    break
        return runs

    return run


SYSTEMS = {
    "bandster-BOHB": run_bandster("BOHB"),
    "bandster-HyperBand": run_bandster("HyperBand"),
    "HpBandSter-BOHB": run_hpbandster,
    "DEHB": run_dehb,
    "SMAC-MF": run_smac("SMAC-MF"),
    "SMAC-HB": run_smac("SMAC-HB"),
    "Optuna-TPE+HB": run_optuna,
    "SyneTune-BOHB": run_synetune("SyneTune-BOHB"),
    "SyneTune-ASHA": run_synetune("SyneTune-ASHA"),
}
LIBRARIES = {
    "bandster-BOHB": "bandster",
    "bandster-HyperBand": "bandster",
    "HpBandSter-BOHB": "hpbandster",
    "DEHB": "dehb",
    "SMAC-MF": "smac",
    "SMAC-HB": "smac",
    "Optuna-TPE+HB": "optuna",
    "SyneTune-BOHB": "syne-tune",
    "SyneTune-ASHA": "syne-tune",
}


def version(system: str) -> str:
    from importlib import metadata

    name = LIBRARIES[system]
    if name == "hpbandster":  # installed in its own environment, not this one
        probe = "import importlib.metadata as m; print(m.version('hpbandster'))"
        found = subprocess.run([os.environ["BANDSTER_HPBANDSTER_PYTHON"], "-c", probe], capture_output=True,
                               text=True)
        return f"hpbandster {found.stdout.strip() or '?'}"
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:  # bandster from a checkout on PYTHONPATH
        return f"{name} (checkout {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))})"


def main() -> None:
    system, problem_name, seeds, budget, iterations, out = sys.argv[1:7]
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    problem = PROBLEMS[problem_name]
    run = SYSTEMS[system]
    result = {"system": system, "problem": problem_name, "version": version(system), "seeds": {}}
    for seed in (int(s) for s in seeds.split(",")):
        t0 = time.perf_counter()
        runs = run(problem, seed, float(budget), int(iterations))
        result["seeds"][str(seed)] = {"runs": runs, "seconds": time.perf_counter() - t0}
        print(f"{system} {problem_name} seed {seed}: {len(runs)} runs, {time.perf_counter() - t0:.1f} s", flush=True)
        with open(out + ".part", "w") as f:  # written after every seed: a run cut short keeps what it finished
            json.dump(result, f)
        os.replace(out + ".part", out)


if __name__ == "__main__":
    main()
