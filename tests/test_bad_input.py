"""Bad input: a clear error before anything starts, or a recorded failure while the optimization goes on."""

import math

import ConfigSpace as CS
import numpy as np
import pandas as pd
import pytest

from bandster.core.worker import Worker
from bandster.optimizers import BOHB, HyperBand, RandomSearch


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(min_budget=0), "min_budget"),
        (dict(min_budget=-1), "min_budget"),
        (dict(min_budget=10, max_budget=1), "min_budget"),
        (dict(eta=1), "eta"),
        (dict(eta=0.5), "eta"),
        (dict(min_budget=float("nan")), "min_budget"),
        (dict(configspace=None), "configspace"),
        (dict(configspace=CS.ConfigurationSpace()), "hyperparameter"),
        (dict(run_id="has.dot"), "run_id"),
        (dict(run_id="has space"), "run_id"),
        (dict(job_timeout=0), "job_timeout"),
        (dict(job_timeout=-5), "job_timeout"),
        (dict(max_wait_for_workers=0), "max_wait_for_workers"),
        (dict(job_queue_sizes=(0, 0)), "job_queue_sizes"),
        (dict(points_to_evaluate=[{"y": 1}]), "unknown hyperparameters"),
        (dict(points_to_evaluate=[{"x": 2.0}]), "not a valid configuration"),
    ],
)
@pytest.mark.parametrize("cls", [HyperBand, BOHB, RandomSearch])
def test_bad_arguments_fail_before_anything_starts(cls, kwargs, message, nameserver, run_id, tmp_path):
    args = dict(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                min_budget=1, max_budget=9, working_directory=str(tmp_path))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        cls(**args)


@pytest.mark.parametrize("n_iterations", [0, -1, 1.5, True, "3"])
def test_bad_n_iterations(n_iterations, nameserver, run_id, tmp_path):
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=1, max_budget=9, working_directory=str(tmp_path))
    with pytest.raises(ValueError, match="n_iterations"):
        hb.run(n_iterations=n_iterations)
    hb.shutdown()


def test_not_a_configspace(nameserver, run_id, tmp_path):
    with pytest.raises((TypeError, ValueError), match="ConfigurationSpace"):
        HyperBand(configspace={"x": (0, 1)}, run_id=run_id, nameserver=nameserver.host,
                  nameserver_port=nameserver.port, working_directory=str(tmp_path))


RETURNS = {
    "raises": (lambda c, b: 1 / 0, None, "ZeroDivisionError"),
    "none": (lambda c, b: None, None, "returned NoneType"),
    "list": (lambda c, b: [1.0], None, "returned list"),
    "no loss": (lambda c, b: {"info": 1}, None, "without 'loss'"),
    "string loss": (lambda c, b: {"loss": "0.5"}, None, "non-numeric loss"),
    "none loss": (lambda c, b: {"loss": None}, None, "non-numeric loss"),
    "nan loss": (lambda c, b: {"loss": math.nan, "info": None}, "nan", None),
    "inf loss": (lambda c, b: {"loss": math.inf, "info": None}, "inf", None),
    "numpy loss and arrays in info": (lambda c, b: {"loss": np.float32(c["x"]), "info": {"a": np.ones((2, 2))}},
                                      "ok", None),
    "dataframe in info": (lambda c, b: {"loss": c["x"], "info": {"df": pd.DataFrame({"a": [1]})}}, "ok", None),
}


class ReturnsWorker(Worker):
    def __init__(self, *args, fn, **kwargs):
        super().__init__(*args, **kwargs)
        self.fn = fn

    def compute(self, config, budget, **kwargs):
        return self.fn(config, budget)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", list(RETURNS))
def test_bad_results_are_recorded_and_nothing_hangs(mode, nameserver, run_id, tmp_path):
    fn, kind, error = RETURNS[mode]
    w = ReturnsWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, fn=fn)
    w.run(background=True)
    hb = HyperBand(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                   min_budget=1, max_budget=3, working_directory=str(tmp_path), seed=1)
    result = hb.run(n_iterations=2)
    hb.shutdown(shutdown_workers=True)
    w.shutdown()
    runs = result.get_all_runs()
    # (1, 3, 3): iteration 0 runs 3 on budget 1 and 1 on budget 3 (a fresh sample if none may advance);
    # iteration 1 runs 2 on budget 3
    assert len(runs) == 6
    for r in runs:
        if error is not None:
            assert r.loss is None and error in r.error_logs, r
        elif kind == "nan":
            assert math.isnan(r.loss)
        elif kind == "inf":
            assert r.loss == math.inf
        else:
            assert isinstance(r.loss, float) and r.error_logs is None
    if mode == "numpy loss and arrays in info":
        assert runs[0].info == {"a": [[1.0, 1.0], [1.0, 1.0]]}
    if mode == "dataframe in info":
        assert "a" in runs[0].info["df"] and isinstance(runs[0].info["df"], str)  # kept as its repr
    if kind != "ok":  # failed runs are never promoted: the budget-3 run of iteration 0 is a fresh sample
        assert (0, 1, 0) in result.get_id2config_mapping()


@pytest.mark.timeout(60)
def test_non_finite_losses_warn_once_per_kind_and_are_counted_at_the_end(nameserver, run_id, tmp_path, caplog):
    """Issue 11, item 5: NaN and inf losses are failures that say so (once per kind, a count at the end), and an
    all-failed run says that it has no incumbent."""
    import logging

    def fn(config, budget):
        return {"loss": math.nan if config["x"] < 0.5 else math.inf, "info": None}

    w = ReturnsWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, fn=fn)
    w.run(background=True)
    hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=3), run_id=run_id,
                   nameserver=nameserver.host, nameserver_port=nameserver.port, min_budget=1, max_budget=3,
                   working_directory=str(tmp_path), seed=1)
    try:
        with caplog.at_level(logging.WARNING, logger="bandster"):
            result = hb.run(n_iterations=2)
    finally:
        hb.shutdown(shutdown_workers=True)
        w.shutdown()
    runs = result.get_all_runs()
    nan = sum(1 for r in runs if math.isnan(r.loss))
    inf = sum(1 for r in runs if r.loss == math.inf)
    assert nan and inf and nan + inf == len(runs) == 6
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("returned a loss of NaN" in m for m in messages) == 1
    assert sum("returned a loss of inf" in m for m in messages) == 1
    final = [m for m in messages if "returned a non-finite loss" in m]
    assert final == [f"6 of 6 runs returned a non-finite loss ({nan} NaN, {inf} inf) and count as failed; the run "
                     "has no incumbent (no run on the largest budget has a finite loss)"]
    assert result.get_incumbent_id() is None


@pytest.mark.timeout(60)
def test_non_finite_floats_in_info_come_back_as_floats(nameserver, run_id, tmp_path):
    """Issue 11, item 6: NaN/inf inside ``info`` are floats in the Result that ``run()`` returns, as in compute."""

    def fn(config, budget):
        return {"loss": 1.0, "info": {"nan": math.nan, "curve": [0.5, math.inf, -math.inf], "deep": {"v": math.nan},
                                      "text": "NaN"}}

    w = ReturnsWorker(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, fn=fn)
    w.run(background=True)
    rs = RandomSearch(configspace=space(), run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                      min_budget=1, max_budget=1, working_directory=str(tmp_path), seed=1)
    try:
        result = rs.run(n_iterations=1)
    finally:
        rs.shutdown(shutdown_workers=True)
        w.shutdown()
    info = result.get_all_runs()[0].info
    assert isinstance(info["nan"], float) and math.isnan(info["nan"])
    assert info["curve"][0] == 0.5 and info["curve"][1] == math.inf and info["curve"][2] == -math.inf
    assert math.isnan(info["deep"]["v"]) and info["text"] == "NaN"  # a string stays a string
