"""Unit tests of BOHB's config generator (bandster.optimizers.config_generators.bohb), standalone."""

from __future__ import annotations

import copy
import doctest
import logging
import math

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    Configuration,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    Integer,
    OrdinalHyperparameter,
)

from bandster.core.job import Job
from bandster.optimizers.config_generators import bohb as bohb_module
from bandster.samplers.bohb import BOHB


def floats(d: int, constants: int = 0, seed: int = 0) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    cs.add([Float(f"x{i}", (0.0, 1.0)) for i in range(d)])
    cs.add([Constant(f"k{i}", f"value{i}") for i in range(constants)])
    return cs


def mixed_space(seed: int = 0) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    cs.add(
        [
            Float("lr", (1e-5, 1e-1), log=True),
            Integer("units", (8, 512), log=True),
            Integer("layers", (1, 6)),
            Categorical("optimizer", ["adam", "sgd", "rmsprop"]),
            OrdinalHyperparameter("size", ["small", "medium", "large"]),
            Float("momentum", (0.0, 0.99)),
            Constant("arch", "mlp"),
        ]
    )
    cs.add(EqualsCondition(cs["momentum"], cs["optimizer"], "sgd"))
    return cs


def mixed_loss(config: dict) -> float:
    loss = (math.log10(config["lr"]) + 3) ** 2 + abs(config["layers"] - 3) + (config["size"] != "medium")
    return loss + (0.0 if config["optimizer"] == "sgd" else 0.5) + (1 - config.get("momentum", 0.0))


def make_job(config, budget, loss=None, result="auto", exception=None, i=0) -> Job:
    job = Job((0, 0, i), config=config, budget=budget)
    job.result = {"loss": loss, "info": {}} if result == "auto" else result
    job.exception = exception
    return job


def feed(cg: BOHB, cs: ConfigurationSpace, n: int, budget: float, loss_fn, seed: int = 0) -> None:
    space = copy.deepcopy(cs)
    space.seed(seed)
    configs = space.sample_configuration(n) if n > 1 else [space.sample_configuration()] * n
    for config in configs:
        config = dict(config)
        cg.tell(config, budget, loss_fn(config))


def zero(config: dict) -> float:
    return 0.0


# ---------------------------------------------------------------------------- thresholds and splits
@pytest.mark.parametrize("d", [1, 2, 3, 5, 8])
def test_first_model_after_2_d_plus_1_observations(d):
    cs = floats(d)
    cg = BOHB(cs, random_fraction=0.0, seed=1)
    assert cg.min_points_in_model == d + 1
    assert cg.min_observations_for_model == 2 * (d + 1)
    feed(cg, cs, 2 * (d + 1) - 1, 1.0, lambda c: c["x0"])
    assert cg.largest_budget_with_model() == -math.inf
    assert cg.get_model() is None
    assert cg.get_config(1.0)[1] == {"model_based_pick": False}
    feed(cg, cs, 1, 1.0, lambda c: c["x0"], seed=99)
    assert cg.largest_budget_with_model() == 1.0
    good, bad = cg.get_model()
    assert (len(good), len(bad)) == (d + 1, d + 1)
    assert cg.get_config(1.0)[1] == {"model_based_pick": True}


def test_threshold_with_custom_floor_and_large_top_fraction():
    cs = floats(2)
    # n_good = max(5, floor(0.6 N)) and the bad set needs 5 points: N = 10 gives (6, 4), N = 11 gives (6, 5)
    cg = BOHB(cs, min_points_in_model=5, top_n_percent=60)
    assert cg.split_sizes(10) == (6, 4)
    assert cg.split_sizes(11) == (6, 5)
    assert cg.min_observations_for_model == 11


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (6, (3, 3)),
        (7, (3, 4)),
        (20, (3, 17)),
        (40, (6, 34)),
        (100, (15, 85)),
        (101, (15, 85)),
        (1000, (150, 850)),
    ],
)
def test_split_arithmetic(n, expected):
    cg = BOHB(floats(2))  # d = 2, min_points_in_model = 3, top_n_percent = 15
    assert cg.split_sizes(n) == expected


def test_good_set_is_the_lowest_losses_and_ties_keep_arrival_order():
    cs = floats(2)
    cg = BOHB(cs, seed=0)
    values = np.linspace(0.05, 0.95, 20)
    losses = [3.0, 1.0, 2.0, 1.0, 5.0] + [1.0] * 15
    for v, loss in zip(values, losses, strict=True):
        cg.tell({"x0": float(v), "x1": float(v)}, 1.0, loss)
    good, bad = cg.get_model()
    n_good, n_bad = cg.split_sizes(20)
    assert (len(good), len(bad)) == (n_good, n_bad) == (3, 17)
    # loss 1.0 at arrivals 1, 3, 5, 6, ...: the first three of them are good
    assert good.data[:, 0] == pytest.approx(values[[1, 3, 5]])
    assert bad.data[-1, 0] == pytest.approx(values[4])  # the worst point comes last


def test_constants_do_not_count_toward_d():
    cs = floats(2, constants=3)
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    assert cg.encoding.dim == 2
    assert cg.min_points_in_model == 3
    assert cg.min_observations_for_model == 6
    feed(cg, cs, 6, 1.0, lambda c: c["x0"])
    config, info = cg.get_config(1.0)
    assert info["model_based_pick"]
    assert {config[f"k{i}"] for i in range(3)} == {"value0", "value1", "value2"}


def test_space_of_constants_only_never_models():
    cs = ConfigurationSpace({"a": "x", "b": 3})
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    for _ in range(10):
        config, info = cg.get_config(1.0)
        cg.tell(config, 1.0, 1.0)
    assert config == {"a": "x", "b": 3} and info == {"model_based_pick": False}
    assert cg.largest_budget_with_model() == -math.inf


# ---------------------------------------------------------------------------- kernels in the model
def test_categorical_bandwidths_valid_in_the_model():
    cs = ConfigurationSpace(seed=0)
    cs.add([Categorical("c", [f"v{i}" for i in range(10)]), Float("x", (0.0, 1.0))])
    cg = BOHB(cs, seed=0)
    for i in range(30):  # extreme levels only: HpBandSter's index rule gives a bandwidth above 1
        cg.tell({"c": "v0" if i % 2 else "v9", "x": 0.5}, 1.0, float(i))
    for kde in cg.get_model():
        assert kde.var_types == "uc"
        assert 1e-3 <= kde.bandwidths[0] <= 0.9
        probs = kde.pdf(np.column_stack([np.arange(10.0), np.full(10, 0.5)]))
        assert (probs > 0).all()  # unseen levels keep a positive density


def test_ordinal_hyperparameters_are_modelled_with_wang_ryzin():
    cs = ConfigurationSpace(seed=0)
    cs.add([OrdinalHyperparameter("size", ["xs", "s", "m", "l", "xl"]), Float("x", (0.0, 1.0))])
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    assert cg.encoding.var_types == "oc"
    order = ["xs", "s", "m", "l", "xl"]
    feed(cg, cs, 100, 1.0, lambda c: abs(order.index(c["size"]) - 1) + 0.1 * c["x"])
    picks = [cg.get_config(1.0) for _ in range(100)]
    assert all(info["model_based_pick"] for _, info in picks)
    sizes = [config["size"] for config, _ in picks]
    assert set(sizes) <= set(order)
    assert sizes.count("s") > 50


# ---------------------------------------------------------------------------- conditions and imputation
def test_imputation_fills_every_column_including_the_first():
    cg = BOHB(mixed_space(), seed=0)
    array = np.array([[np.nan, 0.3, 1.0], [0.5, np.nan, 2.0], [0.7, 0.1, np.nan], [np.nan, np.nan, np.nan]])
    out = cg.impute_conditional_data(array, np.random.default_rng(0))
    assert not np.isnan(out).any()
    assert set(out[[0, 3], 0]) <= {0.5, 0.7}
    assert set(out[[1, 3], 1]) <= {0.3, 0.1}
    assert set(out[[2, 3], 2]) <= {1.0, 2.0}
    assert np.isnan(array).sum() == 6  # the input is not modified


def test_imputation_from_the_prior_when_a_column_is_never_active():
    cg = BOHB(mixed_space(), seed=0)
    j = cg.encoding.var_types.index("u")
    array = np.zeros((4, cg.encoding.dim))
    array[:, j] = np.nan
    array[:, 0] = np.nan
    out = cg.impute_conditional_data(array, np.random.default_rng(1))
    assert set(out[:, j]) <= {0.0, 1.0, 2.0}
    assert ((out[:, 0] >= 0) & (out[:, 0] <= 1)).all()


def test_imputation_in_the_model_is_deterministic_given_the_seed():
    cs = mixed_space()
    models = []
    for _ in range(2):
        cg = BOHB(cs, seed=42)
        feed(cg, cs, 60, 1.0, mixed_loss)
        good, bad = cg.get_model()
        assert np.isfinite(good.data).all() and np.isfinite(bad.data).all()
        models.append((good.data, bad.data))
        cg.get_config(1.0)  # refits happen whenever; same data gives the same imputation
        assert np.array_equal(cg.get_model()[0].data, good.data)
    assert np.array_equal(models[0][0], models[1][0]) and np.array_equal(models[0][1], models[1][1])


def test_model_based_configs_satisfy_conditions():
    cs = mixed_space()
    cg = BOHB(cs, random_fraction=0.0, seed=3)
    feed(cg, cs, 80, 1.0, mixed_loss)
    for _ in range(100):
        config, info = cg.get_config(1.0)
        assert info["model_based_pick"]
        Configuration(cs, values=config)  # raises if an active value is missing or an inactive one set
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        assert config["arch"] == "mlp"
        assert isinstance(config["units"], int) and isinstance(config["optimizer"], str)


def test_forbidden_clauses_respected_by_model_based_samples():
    cs = ConfigurationSpace(seed=0)
    a = Categorical("a", ["p", "q", "r"], default="r")  # the default must not be forbidden
    cs.add([a, Categorical("b", ["u", "v"]), Float("x", (0.0, 1.0))])
    cs.add(
        ForbiddenEqualsClause(cs["a"], "p"),
        ForbiddenAndConjunction(ForbiddenEqualsClause(cs["a"], "q"), ForbiddenEqualsClause(cs["b"], "u")),
    )

    def loss(c):  # good configs are (q, v) and (r, u): their product neighbourhood holds (q, u)
        return (0.0 if (c["a"], c["b"]) in {("q", "v"), ("r", "u")} else 1.0) + abs(c["x"] - 0.5)

    cg = BOHB(cs, random_fraction=0.0, seed=5)
    feed(cg, cs, 120, 1.0, loss)
    good, _ = cg.get_model()
    candidates = cg.encoding.to_full(good.sample(2000, np.random.default_rng(0), cg.bandwidth_factor))
    assert cg.encoding.forbidden(cg.encoding.deactivate(candidates)).mean() > 0.1  # the test has teeth
    model_based = 0
    for _ in range(300):
        config, info = cg.get_config(1.0)
        model_based += info["model_based_pick"]
        assert config["a"] != "p"
        assert (config["a"], config["b"]) != ("q", "u")
    assert model_based > 250


def test_only_the_chosen_candidate_is_converted(monkeypatch):
    cs = mixed_space()
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    feed(cg, cs, 50, 1.0, mixed_loss)
    calls = []
    original = cg.encoding.to_configuration
    monkeypatch.setattr(cg.encoding, "to_configuration", lambda v: calls.append(1) or original(v))
    for _ in range(20):
        assert cg.get_config(1.0)[1]["model_based_pick"]
    assert len(calls) == 20


def test_no_valid_candidate_falls_back_to_the_prior(monkeypatch):
    cs = floats(2)
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    feed(cg, cs, 10, 1.0, lambda c: c["x0"])
    monkeypatch.setattr(cg.encoding, "forbidden", lambda full: np.ones(len(full), dtype=bool))
    config, info = cg.get_config(1.0)
    assert info == {"model_based_pick": False} and set(config) == {"x0", "x1"}


def test_a_failing_model_falls_back_to_the_prior(monkeypatch, caplog):
    cs = floats(2)
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    feed(cg, cs, 10, 1.0, lambda c: c["x0"])

    def boom(budget):
        raise RuntimeError("boom")

    monkeypatch.setattr(cg, "_model_based_pick", boom)
    with caplog.at_level(logging.ERROR):
        assert cg.get_config(1.0)[1] == {"model_based_pick": False}
    assert "boom" in caplog.text


# ---------------------------------------------------------------------------- budgets and results
def test_smaller_budget_observations_are_kept():
    cs = floats(2)
    cg = BOHB(cs, seed=0)
    feed(cg, cs, 10, 1.0, lambda c: c["x0"])
    feed(cg, cs, 10, 3.0, lambda c: c["x0"], seed=1)
    assert cg.largest_budget_with_model() == 3.0
    feed(cg, cs, 7, 1.0, lambda c: c["x0"], seed=2)
    assert len(cg.observations(1.0)[1]) == 17  # HpBandSter dropped these 7
    assert len(cg.get_model(1.0)[0]) + len(cg.get_model(1.0)[1]) == 17
    assert cg.largest_budget_with_model() == 3.0


def test_model_uses_the_largest_budget_with_enough_points():
    cs = floats(1)
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    feed(cg, cs, 30, 1.0, lambda c: abs(c["x0"] - 0.1))
    feed(cg, cs, 3, 9.0, lambda c: abs(c["x0"] - 0.9))  # not enough for a model
    assert cg.largest_budget_with_model() == 1.0
    feed(cg, cs, 30, 9.0, lambda c: abs(c["x0"] - 0.9), seed=1)
    assert cg.largest_budget_with_model() == 9.0
    xs = [cg.get_config(1.0)[0]["x0"] for _ in range(50)]
    assert np.median(xs) > 0.7  # the budget-9 model, although budget 1 was asked for


@pytest.mark.parametrize(
    ("kwargs", "d", "expected"),
    [
        ({}, 1, 14),  # min_points 2: floor(0.15 N) >= 2 from N = 14 (13 * 0.15 = 1.95)
        ({}, 2, 20),  # min_points 3: 0.15 * 20 = 3 exactly
        ({}, 16, 114),  # min_points 17: 0.15 * 113 = 16.95, 0.15 * 114 = 17.1
        ({"top_n_percent": 10}, 2, 30),
        ({"min_points_in_model": 5, "top_n_percent": 60}, 2, 11),  # 0.6 * 9 >= 5, but a model needs 11
    ],
)
def test_full_split_observations(kwargs, d, expected):
    cg = BOHB(floats(d), **kwargs)
    assert cg.full_split_observations == expected
    n = expected
    assert int(cg.top_n_percent * n // 100) >= cg.min_points_in_model and n >= cg.min_observations_for_model
    assert n == cg.min_observations_for_model or int(cg.top_n_percent * (n - 1) // 100) < cg.min_points_in_model


def test_full_split_rule_prefers_a_budget_with_a_full_good_set():
    # d = 1: a model from 4 observations, a full 15 % good set (2 points) from 14
    cs = floats(1)
    enough = BOHB(cs, random_fraction=0.0, seed=0)
    full = BOHB(cs, random_fraction=0.0, seed=0, model_budget_rule="full_split")
    assert enough.model_budget_rule == "enough" and full.full_split_observations == 14

    def both(n, budget, loss_fn, seed):
        feed(enough, cs, n, budget, loss_fn, seed)
        feed(full, cs, n, budget, loss_fn, seed)

    assert enough.model_budget() == full.model_budget() == -math.inf
    both(10, 1.0, lambda c: abs(c["x0"] - 0.1), 0)
    assert enough.model_budget() == full.model_budget() == 1.0
    both(5, 9.0, lambda c: abs(c["x0"] - 0.9), 1)  # 5 >= 4: a model on 9; no budget has 14 yet
    assert enough.model_budget() == full.model_budget() == 9.0
    both(4, 1.0, lambda c: abs(c["x0"] - 0.1), 2)  # budget 1 has 14: a full split
    assert enough.model_budget() == 9.0 and full.model_budget() == 1.0
    assert enough.largest_budget_with_model() == full.largest_budget_with_model() == 9.0
    xs = [full.get_config(9.0)[0]["x0"] for _ in range(50)]
    assert np.median(xs) < 0.3  # the budget-1 model proposes
    good, bad = full.get_model()
    assert (len(good), len(bad)) == full.split_sizes(14) == (2, 11)  # the budget-1 model: a 15 % good set
    both(8, 9.0, lambda c: abs(c["x0"] - 0.9), 3)  # budget 9 has 13: not yet
    assert full.model_budget() == 1.0
    both(1, 9.0, lambda c: abs(c["x0"] - 0.9), 4)
    assert enough.model_budget() == full.model_budget() == 9.0


@pytest.mark.parametrize(
    ("result", "exception"),
    [
        (None, "Traceback: worker died"),
        ({"loss": float("nan")}, None),
        ({"loss": float("inf")}, None),
        ({"loss": float("-inf")}, None),
        ({"loss": None}, None),
        ({"loss": "abc"}, None),
        ({"no_loss": 1.0}, None),
        ("not a dict", None),
    ],
)
def test_failed_and_non_finite_results_count_as_inf(result, exception, caplog):
    cs = floats(2)
    cg = BOHB(cs, seed=0)
    with caplog.at_level(logging.WARNING):
        cg.new_result(make_job({"x0": 0.5, "x1": 0.5}, 1.0, result=result, exception=exception))
    vectors, losses = cg.observations(1.0)
    assert losses.tolist() == [math.inf]
    assert vectors[0].tolist() == [0.5, 0.5]
    if exception:
        assert "worker died" in caplog.text


def test_failed_runs_are_modelled_as_bad_and_never_crash():
    cs = mixed_space()
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    space = copy.deepcopy(cs)
    space.seed(0)
    for i, config in enumerate(space.sample_configuration(60)):
        config = dict(config)
        loss = [float("nan"), float("inf"), None, mixed_loss(config)][i % 4]
        cg.new_result(make_job(config, 1.0, loss=loss, i=i))
    for _ in range(30):
        config, info = cg.get_config(1.0)
        Configuration(cs, values=config)
    assert info["model_based_pick"]
    assert np.isinf(cg.observations(1.0)[1]).sum() == 45


def test_bad_input_is_skipped_with_a_warning(caplog):
    cs = floats(2)
    cg = BOHB(cs, seed=0)
    with caplog.at_level(logging.WARNING):
        cg.new_result(make_job({"x0": 0.5, "x1": 0.5, "bogus": 3}, 1.0, loss=1.0))  # unknown key: skipped
        cg.new_result(make_job({"nothing": 1}, 1.0, loss=1.0))  # nothing known: skipped
        cg.new_result(make_job(None, 1.0, loss=1.0))  # no config
        cg.new_result(make_job({"x0": 0.5}, None, loss=1.0))  # no budget
        cg.new_result(make_job({"x0": 0.5}, "abc", loss=1.0))
        cg.new_result(make_job({"x0": 7.0, "x1": "z"}, 1.0, loss=1.0))  # out of range / wrong type
        cg.tell({"x0": 0.1}, 1.0, None)  # missing x1: imputed later
    assert "bogus" in caplog.text and "not in the space" in caplog.text
    assert "no usable budget" in caplog.text and "no config mapping" in caplog.text
    vectors, losses = cg.observations(1.0)
    assert losses.tolist() == [1.0, 1.0, math.inf]
    assert np.isnan(vectors[1]).all() and np.isnan(vectors[2, 1])
    feed(cg, cs, 10, 1.0, lambda c: c["x0"])
    good, bad = cg.get_model()
    assert np.isfinite(good.data).all() and np.isfinite(bad.data).all()
    cg.get_config(1.0)


def test_values_of_inactive_hyperparameters_are_dropped():
    cs = mixed_space()
    cg = BOHB(cs, seed=0)
    config = {"lr": 1e-3, "units": 64, "layers": 2, "optimizer": "adam", "size": "small", "momentum": 0.9}
    cg.tell(config, 1.0, 1.0)
    vectors, _ = cg.observations(1.0)
    names = [cg.encoding.names[i] for i in cg.encoding.model_columns]
    assert "arch" not in names
    assert np.isnan(vectors[0, names.index("momentum")])
    assert np.isfinite(np.delete(vectors[0], names.index("momentum"))).all()


def test_update_model_false_is_accepted():
    cs = floats(1)
    cg = BOHB(cs, random_fraction=0.0, seed=0)
    for i, x in enumerate(np.linspace(0, 1, 10)):
        cg.new_result(make_job({"x0": float(x)}, 1.0, loss=float(x), i=i), update_model=False)
    assert cg.get_config(1.0)[1]["model_based_pick"]


# ---------------------------------------------------------------------------- seeds and quality
def _run(seed: int, steps: int = 60, space_seed: int = 123):
    cs = mixed_space(seed=space_seed)  # the user's space seed must not matter
    cg = BOHB(cs, seed=seed)
    out = []
    for _ in range(steps):
        config, info = cg.ask(1.0)
        cg.tell(config, 1.0, mixed_loss(config))
        out.append((config, info))
    return out


def test_same_seed_same_sequence_and_users_space_untouched():
    cs = mixed_space(seed=7)
    state = cs.random.get_state()[1].copy()
    BOHB(cs, seed=1).get_config(1.0)
    assert np.array_equal(cs.random.get_state()[1], state)
    a, b, c = _run(11), _run(11, space_seed=5), _run(12)
    assert a == b
    assert a != c
    assert sum(info["model_based_pick"] for _, info in a) > 20


def test_model_based_picks_concentrate_near_the_optimum():
    cs = floats(2, seed=0)
    cg = BOHB(cs, random_fraction=0.5, seed=2024)
    feed(cg, cs, 200, 1.0, lambda c: (c["x0"] - 0.2) ** 2 + (c["x1"] - 0.7) ** 2, seed=3)
    model, prior = [], []
    for _ in range(400):
        config, info = cg.get_config(1.0)
        dist = math.hypot(config["x0"] - 0.2, config["x1"] - 0.7)
        (model if info["model_based_pick"] else prior).append(dist)
    assert len(model) > 150 and len(prior) > 150
    assert np.median(model) < 0.15
    assert np.median(model) < np.median(prior) / 3
    assert np.mean(np.array(model) < 0.1) > 0.5 > np.mean(np.array(prior) < 0.1)


def test_categorical_levels_of_candidates_follow_hpbandsters_rule():
    """With one candidate per proposal, the proposals are the candidates: check their categorical levels.

    Six observations of (x, k) with d = 2: good = the 3 lowest losses with k = 1, 1, 0, so the good
    density's λ for k is 1.06 * std([1, 1, 0]) * 3 ** (-1 / 6) = 0.4161. A candidate keeps its datum's level
    with probability 1 - λ / 2 (HpBandSter: keep with probability 1 - λ, else a uniform level), so
    P(k = 1) = 2/3 (1 - λ / 2) + 1/3 (λ / 2) = 0.5973. (Widened by bandwidth_factor 3, as bandster did
    before, λ would reach the uniform cap and P(k = 1) would be 0.5.)
    """
    cs = ConfigurationSpace(seed=0)
    cs.add([Float("x", (0.0, 1.0)), Categorical("k", ["no", "yes"])])
    cg = BOHB(cs, num_samples=1, random_fraction=0.0, seed=5)
    rows = [(0.1, "yes", 0.0), (0.2, "yes", 1.0), (0.3, "no", 2.0), (0.6, "no", 3.0), (0.7, "no", 4.0),
            (0.8, "yes", 5.0)]
    for x, k, loss in rows:
        cg.tell({"x": x, "k": k}, 1.0, loss)
    good, _ = cg.get_model(1.0)
    lam = 1.06 * np.std([1.0, 1.0, 0.0]) * 3 ** (-1 / 6)
    assert cg.encoding.var_types == "uc"  # ConfigSpace's order: k, x
    assert good.bandwidths[0] == pytest.approx(lam) and lam == pytest.approx(0.4161, abs=1e-4)
    picks = [cg.get_config(1.0) for _ in range(6000)]
    assert all(info["model_based_pick"] for _, info in picks)
    share = np.mean([config["k"] == "yes" for config, _ in picks])
    assert share == pytest.approx(2 / 3 * (1 - lam / 2) + 1 / 3 * lam / 2, abs=0.02)


def test_prior_weight_goes_into_the_good_density_only():
    cs = floats(2, seed=0)
    cg = BOHB(cs, prior_weight=2.0, seed=1)
    feed(cg, cs, 20, 1.0, lambda c: c["x0"], seed=2)
    good, bad = cg.get_model(1.0)
    assert (good.prior_weight, bad.prior_weight) == (2.0, 0.0)
    # far from every good point, l(x) is at least w / (n_good + w) times the uniform density (1 here)
    assert good.pdf([[1.0, 1.0]])[0] >= 2.0 / (len(good) + 2.0)
    assert BOHB(cs).get_model(1.0) is None and BOHB(cs).prior_weight == 0.0
    with pytest.raises(ValueError, match="prior_weight"):
        BOHB(cs, prior_weight=-1)


def test_per_point_bandwidth_floor_of_continuous_columns():
    # 1 / (4 min(100, n + 1)) on continuous columns, min_bandwidth elsewhere
    cs = ConfigurationSpace({"x": (0.0, 1.0), "kind": ["a", "b"]})
    cg = BOHB(cs, seed=0)
    assert cg.bandwidth_floor == "per_point"
    assert cg.bandwidth_floors(3).tolist() == [1e-3, 0.0625]
    assert cg.bandwidth_floors(99).tolist() == [1e-3, 0.0025]
    assert cg.bandwidth_floors(1000).tolist() == [1e-3, 0.0025]
    assert BOHB(cs, min_bandwidth=0.2).bandwidth_floors(3).tolist() == [0.2, 0.2]
    assert BOHB(cs, bandwidth_floor="fixed").bandwidth_floors(3).tolist() == [1e-3, 1e-3]
    # in the model: the good set's x values coincide, so its bandwidth is the floor of n_good points
    for floor, expected in (("per_point", None), ("fixed", 1e-3)):
        cg = BOHB(cs, seed=0, bandwidth_floor=floor)
        for i in range(12):
            cg.tell({"x": 0.3 if i < 6 else 0.1 + 0.05 * i, "kind": "a"}, 1.0, float(i))
        good, bad = cg.get_model(1.0)
        n_good = cg.split_sizes(12)[0]
        assert good.bandwidths[1] == pytest.approx(expected if expected else 0.25 / (n_good + 1))
        assert bad.bandwidths[1] >= 0.25 / (len(bad) + 1) - 1e-12


def test_per_point_floor_leaves_conditional_columns_at_min_bandwidth():
    cs = ConfigurationSpace({"kind": ["a", "b"], "x": (0.0, 1.0), "y": (0.0, 1.0)})
    cs.add(EqualsCondition(cs["y"], cs["kind"], "b"))
    # columns: kind (categorical), x (unconditional, floored), y (active only with kind = b: not floored)
    assert BOHB(cs).bandwidth_floors(9).tolist() == [1e-3, 0.025, 1e-3]


def test_boundary_option_reaches_both_densities():
    cs = floats(2, seed=0)
    cg = BOHB(cs, boundary="reflect", seed=1)
    feed(cg, cs, 20, 1.0, lambda c: c["x0"], seed=2)
    good, bad = cg.get_model(1.0)
    assert (good.boundary, bad.boundary) == ("reflect", "reflect")
    assert cg.get_config(1.0)[0].keys() == {"x0", "x1"}
    with pytest.raises(ValueError, match="boundary"):
        BOHB(cs, boundary="wrap")
    with pytest.raises(ValueError, match="bandwidth_floor"):
        BOHB(cs, bandwidth_floor="magic")


def test_parameter_validation():
    cs = floats(1)
    for kwargs in (
        {"top_n_percent": 0},
        {"top_n_percent": 100},
        {"num_samples": 0},
        {"random_fraction": 1.5},
        {"bandwidth_factor": 0},
        {"min_bandwidth": 0},
        {"min_points_in_model": 0},
        {"model_budget_rule": "largest"},
    ):
        with pytest.raises(ValueError):
            BOHB(cs, **kwargs)
    with pytest.raises(TypeError):
        BOHB({"x": (0.0, 1.0)})
    with pytest.raises(ValueError):
        BOHB(ConfigurationSpace())


def test_docstring_examples_run():
    assert doctest.testmod(bohb_module, raise_on_error=False).failed == 0


def test_model_based_picks_never_repeat_a_configuration_of_a_discrete_space():
    """Of 36 configurations, a model-based pick is never one proposed or observed before; once the model's
    candidates hold nothing new, the proposal comes from the prior."""
    cs = ConfigurationSpace({"a": ["p", "q", "r", "s", "t", "u"], "b": ["p", "q", "r", "s", "t", "u"]})
    cg = BOHB(cs, random_fraction=0.0, min_points_in_model=2, seed=0)
    seen, model_picks = set(), 0
    for _ in range(36):
        config, info = cg.ask(budget=1.0)
        key = (config["a"], config["b"])
        if info["model_based_pick"]:
            model_picks += 1
            assert key not in seen, (key, sorted(seen))
        seen.add(key)
        cg.tell(config, budget=1.0, loss="pqrstu".index(config["a"]) + "pqrstu".index(config["b"]))
    assert model_picks >= 10


def test_reached_rule_ranks_configurations_by_the_budget_they_reached():
    # stopping-type rung data: every configuration has a value on budget 1; those with x0 > 0.5 were kept and
    # reached budget 3, where their losses are larger than the budget-1 losses of the stopped ones
    cs = floats(1)
    cg = BOHB(cs, random_fraction=0.0, seed=0, model_budget_rule="reached", min_points_in_model=2)
    assert cg.model_budget() == -math.inf
    xs = np.linspace(0.01, 0.99, 20)
    for x in xs:
        cg.tell({"x0": float(x)}, 1.0, 0.1 * x)  # at budget 1 small x looks best
    for x in xs[xs > 0.5]:
        cg.tell({"x0": float(x)}, 3.0, 1.0 + (x - 0.8) ** 2)  # but only large x reached budget 3
    assert cg.model_budget() == math.inf  # one model over all budgets
    vectors, budgets = cg.reached_observations()
    assert len(vectors) == 20 and budgets.tolist() == [3.0] * 10 + [1.0] * 10
    assert vectors[0, 0] == pytest.approx(xs[xs > 0.5][np.argmin((xs[xs > 0.5] - 0.8) ** 2)])
    assert vectors[10, 0] == pytest.approx(0.01)  # the stopped ones follow, by their budget-1 loss
    good, bad = cg.get_model()
    assert (len(good), len(bad)) == cg.split_sizes(20) == (3, 17)
    assert float(np.min(good.data)) > 0.5  # the good set: configurations that reached budget 3
    picks = [cg.get_config(1.0)[0]["x0"] for _ in range(30)]
    assert np.median(picks) > 0.5
    # "full_split" fits the budget-1 model here (20 observations, 10 on budget 3) and proposes small x
    full = BOHB(cs, random_fraction=0.0, seed=0, model_budget_rule="full_split", min_points_in_model=2)
    for x in xs:
        full.tell({"x0": float(x)}, 1.0, 0.1 * x)
    for x in xs[xs > 0.5]:
        full.tell({"x0": float(x)}, 3.0, 1.0 + (x - 0.8) ** 2)
    assert full.model_budget() == 1.0
    assert np.median([full.get_config(1.0)[0]["x0"] for _ in range(30)]) < 0.5


def branch_space(seed: int = 0) -> ConfigurationSpace:
    """A categorical ``branch`` whose level a activates x, and b activates y; z is unconditional."""
    cs = ConfigurationSpace(seed=seed)
    cs.add([Categorical("branch", ["a", "b"]), Float("x", (0.0, 1.0)), Float("y", (0.0, 1.0)), Float("z", (0.0, 1.0))])
    cs.add([EqualsCondition(cs["x"], cs["branch"], "a"), EqualsCondition(cs["y"], cs["branch"], "b")])
    return cs


def feed_branches(cg: BOHB) -> None:
    # 12 observations: the 5 best (the good set: d + 1 = 5 points) in branch a, the others alternate
    for i in range(12):
        branch = "a" if i < 5 or i % 2 else "b"
        key = "x" if branch == "a" else "y"
        cg.tell({"branch": branch, key: 0.1 + 0.07 * i, "z": 0.5}, 1.0, float(i))


def test_parent_prior_weight_mixes_the_uniform_into_the_parents_column_of_the_good_density():
    cs = branch_space()
    cg = BOHB(cs, parent_prior_weight=1.0, inactive="uniform", seed=0)
    feed_branches(cg)
    names = [cg.encoding.names[i] for i in cg.encoding.model_columns]
    b, x, y, z = (names.index(n) for n in ("branch", "x", "y", "z"))
    good, bad = cg.get_model(1.0)
    assert len(good) == 5 and good.level_prior_weights.tolist() == [1.0 if j == b else 0.0 for j in range(4)]
    assert bad.level_prior_weights.tolist() == [0.0] * 4
    # every good point is in branch a (λ = min_bandwidth) and at z = 0.5 (h = the floor 1 / (4 (5 + 1))):
    # l(branch = b, z = 0.5) = (5 λ + 1 / 2) / (5 + 1) times the Gaussian's peak
    query = np.full((2, 4), np.nan)
    query[:, b], query[:, z] = [0, 1], 0.5  # level indices of a and b
    peak = 1.0 / (0.25 / 6 * np.sqrt(2.0 * np.pi))
    assert good.bandwidths[z] == pytest.approx(0.25 / 6)
    assert good.pdf(query).tolist() == pytest.approx([(5 * (1 - 1e-3) + 0.5) / 6 * peak, (5 * 1e-3 + 0.5) / 6 * peak])
    # without the weight, the model's l(branch = b) is λ = 1e-3 itself
    cg0 = BOHB(cs, inactive="uniform", seed=0)
    feed_branches(cg0)
    assert cg0.get_model(1.0)[0].pdf(query).tolist() == pytest.approx([(1 - 1e-3) * peak, 1e-3 * peak])


def test_inactive_uniform_scores_a_branch_on_its_own_points_only():
    cs = branch_space()
    cg = BOHB(cs, inactive="uniform", seed=0)
    feed_branches(cg)
    names = [cg.encoding.names[i] for i in cg.encoding.model_columns]
    b, y, z = (names.index(n) for n in ("branch", "y", "z"))
    good, bad = cg.get_model(1.0)
    assert np.isnan(good.data).any()  # inactive values are not imputed
    # no good point has y active: the good density of branch b does not depend on y (uniform kernels)
    query = np.full((3, 4), np.nan)
    query[:, b], query[:, z], query[:, y] = 1, 0.5, [0.1, 0.5, 0.9]
    assert np.ptp(good.logpdf(query)) == pytest.approx(0.0, abs=1e-12)
    # ... while the bad density follows its branch-b points, at y = 0.1 + 0.07 i for i = 6, 8, 10
    assert bad.pdf(query[[0]])[0] < bad.pdf(query[[1]])[0]
    # imputed (the default), the good points carry prior draws for y, and l varies with y
    cg_imp = BOHB(cs, seed=0)
    feed_branches(cg_imp)
    good_imp, _ = cg_imp.get_model(1.0)
    assert not np.isnan(good_imp.data).any()
    filled = np.where(np.isnan(query), 0.5, query)
    assert np.ptp(good_imp.logpdf(filled)) > 0.1
    # proposals are valid configurations
    for _ in range(30):
        config, _ = cg.get_config(1.0)
        assert ("x" in config) == (config["branch"] == "a") and ("y" in config) == (config["branch"] == "b")


def test_decoy_settings_change_nothing_on_spaces_without_conditions():
    unconditional = ConfigurationSpace(seed=0)
    unconditional.add([Float("x", (0.0, 1.0)), Integer("n", (1, 9)), Categorical("kind", ["a", "b", "c"]),
                       OrdinalHyperparameter("size", ["s", "m", "l"])])
    for cs in (unconditional, floats(3)):
        runs = []
        for kwargs in ({}, {"inactive": "uniform", "parent_prior_weight": 3.0}):
            cg = BOHB(cs, seed=5, **kwargs)
            configs = []
            for i in range(60):
                config, info = cg.get_config(1.0)
                configs.append((config, info["model_based_pick"]))
                cg.tell(config, 1.0, float(np.sin(7.0 * i) + sum(v for v in config.values() if isinstance(v, float))))
            runs.append(configs)
        assert runs[0] == runs[1] and sum(model for _, model in runs[0]) > 10
    # on a conditional space they do change the proposals
    runs = []
    for kwargs in ({}, {"inactive": "uniform", "parent_prior_weight": 3.0}):
        cg = BOHB(branch_space(), seed=5, **kwargs)
        feed_branches(cg)
        runs.append([cg.get_config(1.0)[0] for _ in range(20)])
    assert runs[0] != runs[1]


def test_decoy_settings_are_validated():
    cs = branch_space()
    with pytest.raises(ValueError, match="inactive"):
        BOHB(cs, inactive="drop")
    with pytest.raises(ValueError, match="parent_prior_weight"):
        BOHB(cs, parent_prior_weight=-1.0)
    with pytest.raises(ValueError, match="parent_prior_weight"):
        BOHB(cs, parent_prior_weight=math.inf)
