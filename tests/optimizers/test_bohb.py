"""BOHB (and the other optimizers) end to end over thread workers: spaces, seeds, warm starts, initial designs,
and search quality against random search."""

import json
import math
import os
import zlib

import ConfigSpace as CS
import numpy as np
import pytest

from bandster.core.result import logged_results_to_HBS_result
from bandster.core.worker import Worker
from bandster.optimizers import BOHB, HyperBand, RandomSearch


def stable_rng(*parts):
    return np.random.default_rng(zlib.crc32(json.dumps(parts, sort_keys=True, default=str).encode()))


class RichWorker(Worker):
    """Deterministic loss over a space with every kind of hyperparameter; fails for one branch."""

    def compute(self, config, budget, **kwargs):
        if config.get("fail") == "yes":
            raise RuntimeError("this branch always fails")
        x = math.log10(config["lr"]) + 3 + config["units"] / 64 + (config["act"] == "relu") + config["depth"] / 4
        if config["opt"] == "sgd":
            x += config["momentum"]
        noise = stable_rng(config, budget).normal(0, 1 / budget)
        return {"loss": float(x + noise), "info": {"budget": budget}}


def rich_space(seed=0):
    cs = CS.ConfigurationSpace(seed=seed)
    lr = CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True)
    units = CS.UniformIntegerHyperparameter("units", 4, 64, log=True)
    act = CS.CategoricalHyperparameter("act", ["relu", "tanh", "sigmoid"])
    depth = CS.OrdinalHyperparameter("depth", [1, 2, 4, 8])
    const = CS.Constant("arch", "mlp")
    opt = CS.CategoricalHyperparameter("opt", ["adam", "sgd"])
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
    fail = CS.CategoricalHyperparameter("fail", ["no", "yes"], weights=[0.9, 0.1])
    cs.add([lr, units, act, depth, const, opt, momentum, fail])
    cs.add(CS.EqualsCondition(momentum, opt, "sgd"))
    cs.add(CS.ForbiddenAndConjunction(CS.ForbiddenEqualsClause(act, "sigmoid"), CS.ForbiddenEqualsClause(depth, 8)))
    return cs


def run_optimizer(cls, nameserver, run_id, tmp_path, n_iterations, n_workers=1, worker=RichWorker, **kwargs):
    workers = [worker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, id=i)
               for i in range(n_workers)]
    for w in workers:
        w.run(background=True)
    opt = cls(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
              working_directory=str(tmp_path), **kwargs)
    try:
        result = opt.run(n_iterations=n_iterations, min_n_workers=n_workers, progress=False)
    finally:
        opt.shutdown(shutdown_workers=True)
        for w in workers:
            w.shutdown()
    return opt, result


def submission_order(opt):
    """(config_id, budget, config) in the order the master submitted them, from the journal."""
    with open(os.path.join(opt.journal.directory, "events.json")) as fh:
        dispatches = [json.loads(line) for line in fh if '"dispatch"' in line]
    configs = {}
    with open(os.path.join(opt.journal.directory, "configs.json")) as fh:
        for line in fh:
            cid, config, _ = json.loads(line)
            configs[tuple(cid)] = config
    return [(tuple(d["config_id"]), d["budget"], configs[tuple(d["config_id"])]) for d in dispatches]


@pytest.mark.timeout(180)
def test_bohb_on_a_rich_space(nameserver, run_id, tmp_path, no_thread_leak):
    cs = rich_space()
    opt, result = run_optimizer(BOHB, nameserver, run_id, tmp_path, n_iterations=8, n_workers=2,
                                configspace=cs, min_budget=1, max_budget=9, eta=3, seed=1)
    id2conf = result.get_id2config_mapping()
    runs = result.get_all_runs()
    assert len(runs) >= 8 * 5
    for entry in id2conf.values():
        config = entry["config"]
        CS.Configuration(cs, values=config).check_valid_configuration()  # legal, forbidden clauses respected
        assert ("momentum" in config) == (config["opt"] == "sgd")
        assert config["arch"] == "mlp"
    picks = [entry["config_info"].get("model_based_pick") for entry in id2conf.values()]
    assert any(picks) and not all(picks)
    failed = [r for r in runs if id2conf[r.config_id]["config"]["fail"] == "yes"]
    assert failed and all(r.loss is None and "always fails" in r.error_logs for r in failed)
    model = opt.config_generator.largest_budget_with_model()
    assert model in (1.0, 3.0, 9.0)
    assert opt.config_generator.model_budget_rule == "enough"  # BOHB's own rule by default


@pytest.mark.timeout(180)
@pytest.mark.parametrize("cls", [BOHB, HyperBand, RandomSearch])
def test_same_seed_same_sequence_with_one_worker(nameserver, run_id, tmp_path, cls):
    kwargs = dict(configspace=rich_space(), min_budget=1, max_budget=9, eta=3, seed=42)
    opt1, _ = run_optimizer(cls, nameserver, run_id, tmp_path / "a", n_iterations=6, **kwargs)
    opt2, _ = run_optimizer(cls, nameserver, run_id, tmp_path / "b", n_iterations=6, **kwargs)
    opt3, _ = run_optimizer(cls, nameserver, run_id, tmp_path / "c", n_iterations=6, **dict(kwargs, seed=43))
    first, second, other = submission_order(opt1), submission_order(opt2), submission_order(opt3)
    assert len(first) >= 18  # RandomSearch: 3 configurations per iteration
    assert first == second
    assert [c for _, _, c in first] != [c for _, _, c in other]


@pytest.mark.timeout(180)
def test_warm_start_from_a_journal_with_failures(nameserver, run_id, tmp_path):
    cs = rich_space()
    old, old_result = run_optimizer(BOHB, nameserver, run_id, tmp_path / "old", n_iterations=4,
                                    configspace=cs, min_budget=1, max_budget=9, seed=5)
    old_runs = old_result.get_all_runs()
    assert any(r.loss is None for r in old_runs)  # failures must not break the warm start
    new, result = run_optimizer(BOHB, nameserver, run_id, tmp_path / "new", n_iterations=1,
                                configspace=cs, min_budget=1, max_budget=9, seed=6,
                                previous_result=old.journal.directory)
    with open(os.path.join(new.journal.directory, "run.json")) as fh:
        manifest = json.load(fh)
    n_configs = len(old_result.get_id2config_mapping())
    assert manifest["warmstart"] == {"source": old.journal.directory, "configs": n_configs, "runs": len(old_runs)}
    warm = [r for r in result.get_all_runs() if r.config_id[0] == -1]
    assert len(warm) == len(old_runs)
    assert sorted((r.budget, r.loss is None) for r in warm) == sorted((r.budget, r.loss is None) for r in old_runs)
    assert all(t <= 1e-6 for r in warm for t in r.time_stamps.values())  # they end when the new run starts
    info = result.get_id2config_mapping()[warm[0].config_id]["config_info"]
    assert info["warmstart"] is True and len(info["warmstart_id"]) == 3
    # the model existed from the start: the new run's first configuration can be model based
    new_picks = [e["config_info"].get("model_based_pick") for cid, e in sorted(result.get_id2config_mapping().items())
                 if cid[0] == 0]
    assert any(new_picks[:5])
    assert logged_results_to_HBS_result(new.journal.directory) == result


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cls", [BOHB, HyperBand, RandomSearch])
def test_points_to_evaluate_come_first(nameserver, run_id, tmp_path, cls):
    points = [{"lr": 0.01, "opt": "sgd", "momentum": 0.5}, {"act": "tanh"}]
    opt, result = run_optimizer(cls, nameserver, run_id, tmp_path, n_iterations=1, configspace=rich_space(),
                                min_budget=3, max_budget=9, seed=7, points_to_evaluate=points)
    id2conf = result.get_id2config_mapping()
    first, second = id2conf[(0, 0, 0)], id2conf[(0, 0, 1)]
    assert first["config"]["lr"] == 0.01 and first["config"]["momentum"] == 0.5 and first["config"]["opt"] == "sgd"
    assert first["config"]["units"] == rich_space()["units"].default_value
    assert second["config"]["act"] == "tanh" and "momentum" not in second["config"]
    assert first["config_info"]["initial_design"] and second["config_info"]["initial_design"]
    assert not id2conf.get((0, 0, 2), {"config_info": {}})["config_info"].get("initial_design")


def test_invalid_points_to_evaluate_fail_before_anything_starts(nameserver, run_id, tmp_path):
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        BOHB(configspace=rich_space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
             working_directory=str(tmp_path), points_to_evaluate=[{"nope": 1}])
    with pytest.raises(ValueError, match="not a valid configuration"):
        HyperBand(configspace=rich_space(), run_id=run_id, nameserver=nameserver.host,
                  nameserver_port=nameserver.port, working_directory=str(tmp_path),
                  points_to_evaluate=[{"act": "sigmoid", "depth": 8}])


# ---------------------------------------------------------------------------------------------- quality
OPTIMUM = np.array([0.7, 0.2, 0.55, 0.35, 0.8, 0.1])


def true_loss(config):
    x = np.array([config[f"x{i}"] for i in range(6)])
    return float(np.sum((x - OPTIMUM) ** 2))


class NoisyQuadratic(Worker):
    """A 6-d quadratic observed through noise that shrinks with the budget (a multi-fidelity problem)."""

    def compute(self, config, budget, **kwargs):
        noise = stable_rng(config, budget).normal(0, 0.5 / math.sqrt(budget))
        return {"loss": true_loss(config) + noise, "info": None}


def regret(result):
    """True loss of the configuration with the best observed loss on the largest budget."""
    max_budget = max(r.budget for r in result.get_all_runs())
    best = min((r for r in result.get_all_runs() if r.budget == max_budget and r.loss is not None),
               key=lambda r: r.loss)
    return true_loss(result.get_id2config_mapping()[best.config_id]["config"])


@pytest.mark.timeout(300)
def test_bohb_beats_random_search_on_average(nameserver, run_id, tmp_path):
    cs = CS.ConfigurationSpace({f"x{i}": (0.0, 1.0) for i in range(6)})
    regrets = {BOHB: [], RandomSearch: []}
    for seed in range(8):
        for cls in regrets:
            _, result = run_optimizer(cls, nameserver, run_id, tmp_path / f"{cls.__name__}{seed}", n_iterations=12,
                                      worker=NoisyQuadratic, configspace=cs, min_budget=1, max_budget=27, eta=3,
                                      seed=seed)
            regrets[cls].append(regret(result))
    bohb, rs = np.mean(regrets[BOHB]), np.mean(regrets[RandomSearch])
    print(f"mean regret BOHB {bohb:.4f} RandomSearch {rs:.4f}")
    assert bohb < rs, (regrets[BOHB], regrets[RandomSearch])
