"""bandster.analysis.importance and Result.importance: functional ANOVA over a scikit-learn random forest."""

from __future__ import annotations

import os
import sys

import ConfigSpace as CS
import numpy as np
import pytest
from analysis_helpers import dominated, known_result, make_run, space

from bandster.analysis.importance import encode_configurations, functional_anova
from bandster.core.result import logged_results_to_HBS_result
from bandster.core.worker import Worker
from bandster.optimizers import HyperBand


def test_the_dominant_hyperparameter_is_ranked_first():
    result, space = dominated()
    for configspace in (None, space):
        shares = result.importance(configspace=configspace)
        assert list(shares)[0] == "x" and shares["x"] > 0.8, shares
        assert shares["lr"] < 0.05 and sum(shares.values()) <= 1 + 1e-9
    assert list(result.importance(budget=1.0))[0] == "x"
    assert result.importance(seed=1)["x"] > 0.8  # not an accident of one forest


class LearningRateWorker(Worker):
    """The learning rate decides; the rest matters little."""

    def compute(self, config, budget, **kwargs):
        loss = (np.log10(config["lr"]) + 2.5) ** 2 + 0.02 * config["x"] + 0.01 * (config["kind"] == "b") + 1 / budget
        return {"loss": loss, "info": {}}


def test_a_real_run_where_the_learning_rate_dominates(tmp_path):
    directory = make_run(HyperBand, str(tmp_path), f"imp{os.getpid()}", n_iterations=6, worker=LearningRateWorker)
    result = logged_results_to_HBS_result(directory)
    shares = result.importance(budget=1.0, configspace=space())
    # 18 configurations on budget 1: the shares are noisy (0.63 to 0.86 for the optimizer's seeds 1 to 3)
    assert list(shares)[0] == "lr" and shares["lr"] > 0.5 and shares["lr"] > 2 * list(shares.values())[1], shares


def test_exact_shares_of_known_functions():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(300, 3))
    additive = functional_anova(X, 3 * X[:, 0] + X[:, 1], [0, 0, 0], [1, 1, 1], n_trees=32)
    assert abs(additive["importance"][0] - 0.9) < 0.05 and abs(additive["importance"][1] - 0.1) < 0.05
    assert additive["importance"][2] < 0.01 and additive["interactions"] < 0.05 and additive["trees"] == 32
    xor = functional_anova(X, ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.5)).astype(float), [0, 0, 0], [1, 1, 1])
    assert xor["interactions"] > 0.85 and xor["importance"].max() < 0.1  # only the pair explains it
    constant = functional_anova(X, np.ones(300), [0, 0, 0], [1, 1, 1])
    assert constant["trees"] == 0 and not constant["importance"].any()


def test_encoding():
    names, X, lower, upper = encode_configurations([{"a": 0.001, "c": "q"}, {"a": 0.1}],
                                                   configspace=None)
    assert names == ["a", "c"] and X[:, 0].tolist() == [0.001, 0.1] and lower.tolist() == [0.001, -0.5]
    assert upper.tolist() == [0.1, -0.5]  # one level seen: a constant column (importance 0)
    space = CS.ConfigurationSpace()
    space.add([CS.UniformFloatHyperparameter("a", 1e-4, 1, log=True), CS.CategoricalHyperparameter("c", ["p", "q"])])
    names, X, lower, upper = encode_configurations([{"a": 0.001, "c": "q"}, {"a": 0.1}], configspace=space)
    assert np.allclose(X, [[-3, 1], [-1, 0.5]]) and lower.tolist() == [-4, -0.5] and upper.tolist() == [0, 1.5]


def test_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="at least 5 configurations with a finite loss"):
        known_result().importance()
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)
    result, _ = dominated(10)
    with pytest.raises(ImportError, match=r"pip install 'bandster\[importance\]'"):
        result.importance()
