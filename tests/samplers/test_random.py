"""RandomSampling: seeding, purity of the user's space, active hyperparameters only, builtins."""

from __future__ import annotations

import copy

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
    NormalFloatHyperparameter,
    OrdinalHyperparameter,
)

from bandster.core._convert import config_to_dict
from bandster.core.base_config_generator import base_config_generator
from bandster.optimizers.config_generators import RandomSampling
from bandster.optimizers.config_generators.random_sampling import configurations_to_dicts


def make_space(seed=1):
    cs = ConfigurationSpace(seed=seed)
    cs.add(
        [
            Float("lr", (1e-5, 1e-1), log=True),
            Integer("units", (1, 100)),
            Integer("wide", (1, 1000), log=True),
            Categorical("opt", ["sgd", "adam", "rms"], weights=[1, 2, 3]),
            Float("momentum", (0.0, 0.99)),
            Constant("act", "relu"),
            Constant("layers", 3),
            OrdinalHyperparameter("batch", [16, 32, 64]),
            Categorical("nesterov", [True, False]),
            Categorical("mixed", ["x", 1, 2.5]),
            NormalFloatHyperparameter("drop", mu=0.3, sigma=0.1, lower=0.0, upper=0.9),
        ]
    )
    cs.add(EqualsCondition(cs["momentum"], cs["opt"], "sgd"))
    cs.add(EqualsCondition(cs["nesterov"], cs["opt"], "sgd"))
    cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(cs["opt"], "adam"), ForbiddenEqualsClause(cs["batch"], 16)))
    return cs


def draw(sampler, n, budget=1.0):
    return [sampler.get_config(budget) for _ in range(n)]


def test_is_a_config_generator_returning_dict_and_empty_info():
    sampler = RandomSampling(make_space(), seed=0)
    assert isinstance(sampler, base_config_generator)
    config, info = sampler.get_config(budget=3.0)
    assert isinstance(config, dict) and info == {}
    assert {"lr", "units", "opt", "act"} <= set(config)


def test_same_seed_same_sequence_and_different_seed_differs():
    a = [c for c, _ in draw(RandomSampling(make_space(), seed=42), 150)]
    b = [c for c, _ in draw(RandomSampling(make_space(), seed=42), 150)]
    c = [c for c, _ in draw(RandomSampling(make_space(), seed=43), 150)]
    assert a == b
    assert a != c
    assert len({repr(sorted(x.items())) for x in a}) > 140  # really random, not one config repeated


def test_sequence_does_not_depend_on_the_user_space_state():
    cs = make_space(seed=1)
    a = [c for c, _ in draw(RandomSampling(cs, seed=7), 20)]
    cs.sample_configuration(size=13)  # advance the user's random state
    b = [c for c, _ in draw(RandomSampling(cs, seed=7), 20)]
    assert a == b


def test_user_space_is_not_mutated_or_reseeded():
    cs = make_space(seed=5)
    twin = make_space(seed=5)
    sampler = RandomSampling(cs, seed=99)
    draw(sampler, 200)
    assert sampler.configspace is not cs
    assert cs == twin
    # the user's random state is where it was: it draws what an untouched twin draws
    assert [dict(c) for c in cs.sample_configuration(size=5)] == [dict(c) for c in twin.sample_configuration(size=5)]


def test_seed_none_gives_independent_streams():
    cs = make_space()
    a = [c for c, _ in draw(RandomSampling(cs), 10)]
    b = [c for c, _ in draw(RandomSampling(cs), 10)]
    assert a != b


def test_only_active_hyperparameters_and_builtin_types():
    cs = make_space()
    for config, _ in draw(RandomSampling(cs, seed=3, batch_size=16), 300):
        assert ("momentum" in config) == (config["opt"] == "sgd")
        assert ("nesterov" in config) == (config["opt"] == "sgd")
        assert not (config["opt"] == "adam" and config["batch"] == 16)  # forbidden
        assert config["act"] == "relu" and config["layers"] == 3
        for value in config.values():
            assert type(value) in (float, int, str, bool)
        assert type(config["lr"]) is float and type(config["units"]) is int
        assert 1e-5 <= config["lr"] <= 1e-1
        # the dict is a legal configuration of the space
        Configuration(cs, values=config).check_valid_configuration()


def test_batched_conversion_equals_configspace_conversion():
    cs = make_space(seed=11)
    configurations = cs.sample_configuration(size=2000)
    fast = configurations_to_dicts(cs, configurations)
    slow = [config_to_dict(c) for c in configurations]
    assert [list(d.items()) for d in fast] == [list(d.items()) for d in slow]  # values and key order
    assert [[type(v) for v in d.values()] for d in fast] == [[type(v) for v in d.values()] for d in slow]
    assert configurations_to_dicts(cs, []) == []


@pytest.mark.parametrize("batch_size", [1, 5, 64])
def test_batch_size_only_changes_chunking(batch_size):
    sampler = RandomSampling(make_space(), seed=1, batch_size=batch_size)
    configs = [c for c, _ in draw(sampler, 70)]
    assert len(configs) == 70
    assert len(sampler._buffer) == (-70) % batch_size
    assert [c for c, _ in draw(RandomSampling(make_space(), seed=1, batch_size=batch_size), 70)] == configs


def test_budget_is_ignored():
    a = [c for c, _ in draw(RandomSampling(make_space(), seed=2), 10, budget=1.0)]
    b = [c for c, _ in draw(RandomSampling(make_space(), seed=2), 10, budget=81.0)]
    assert a == b


def test_deepcopy_of_sampler_continues_identically():
    sampler = RandomSampling(make_space(), seed=4)
    draw(sampler, 3)
    twin = copy.deepcopy(sampler)
    assert draw(sampler, 100) == draw(twin, 100)


def test_errors():
    with pytest.raises(ValueError, match="configspace is None"):
        RandomSampling(None)
    with pytest.raises(ValueError, match="no hyperparameters"):
        RandomSampling(ConfigurationSpace())
    with pytest.raises(TypeError, match="ConfigurationSpace"):
        RandomSampling({"x": (0.0, 1.0)})
    with pytest.raises(ValueError, match="batch_size"):
        RandomSampling(make_space(), batch_size=0)
    with pytest.raises(ValueError, match="seed"):
        RandomSampling(make_space(), seed=-1)
    with pytest.raises(ValueError, match="seed"):
        RandomSampling(make_space(), seed=2**40)


def test_numpy_seed_is_accepted():
    a = [c for c, _ in draw(RandomSampling(make_space(), seed=np.int64(8)), 5)]
    b = [c for c, _ in draw(RandomSampling(make_space(), seed=8), 5)]
    assert a == b


def test_simple_space_dict_form():
    cs = ConfigurationSpace(space={"x": (0.0, 1.0), "k": (1, 4), "c": ["a", "b"]}, seed=0)
    config, info = RandomSampling(cs, seed=0).get_config(1.0)
    assert sorted(config) == ["c", "k", "x"]
    assert 0.0 <= config["x"] <= 1.0 and config["k"] in (1, 2, 3, 4) and config["c"] in ("a", "b")
    assert info == {}
