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
