"""PBT's pure parts: quantiles, mutations and explore, and the scheduler's decisions through ask/tell."""

import ConfigSpace as CS
import numpy as np
import pytest

from bandster.samplers import RandomSampling
from bandster.schedulers.pbt import PBTScheduler, explore, make_mutations, quantiles


# ------------------------------------------------------------------ quantiles
def test_quantiles_by_hand():
    scores = {0: 0.8, 1: 0.1, 2: 0.5, 3: 0.3, 4: 0.9, 5: 0.2, 6: 0.7, 7: 0.4}
    assert quantiles(scores, 0.25) == ([4, 0], [1, 5])  # ceil(8 * 0.25) = 2 each
    assert quantiles({k: scores[k] for k in range(5)}, 0.25) == ([4, 0], [1, 3])  # ceil(1.25) = 2 <= floor(2.5)
    assert quantiles({0: 3.0, 1: 1.0, 2: 2.0}, 0.5) == ([0], [1])  # ceil(1.5) = 2 > floor(1.5): 1
    assert quantiles({0: 1.0}, 0.5) == ([], [])
    assert quantiles({}, 0.25) == ([], [])
    assert quantiles({0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}, 0.25) == ([3], [0])  # ties: the lower number is better
    with pytest.raises(ValueError, match="quantile_fraction"):
        quantiles(scores, 0.6)


# ------------------------------------------------------------------ explore
def space():
    cs = CS.ConfigurationSpace({"lr": CS.Float("lr", (1e-3, 0.5), log=True), "x": (0.0, 1.0), "n": (1, 10),
                                "c": ["a", "b", "c"], "k": 3})
    cs.add(CS.OrdinalHyperparameter("o", ["s", "m", "l"]))
    return cs


def test_perturbation_multiplies_by_a_factor_and_clips_to_the_space():
    mutations = make_mutations(space())
    assert sorted(mutations) == ["c", "lr", "n", "o", "x"]  # the constant is not mutated
    seen = set()
    for seed in range(40):
        new = explore({"lr": 0.1, "x": 0.9, "n": 5, "c": "a", "k": 3, "o": "m"}, mutations,
                      np.random.RandomState(seed), resample_probability=0.0)
        assert new["lr"] in (pytest.approx(0.12), pytest.approx(0.08))
        assert new["x"] in (1.0, pytest.approx(0.72))  # 0.9 * 1.2 = 1.08 is clipped to the upper bound
        assert new["n"] in (6, 4) and isinstance(new["n"], int)  # 5 * 1.2 = 6, 5 * 0.8 = 4: rounded
        assert new["o"] in ("s", "l")  # an ordinal moves to a neighbour
        assert new["c"] in ("a", "b", "c")  # a categorical without order is resampled
        assert new["k"] == 3
        seen.add((round(new["lr"], 6), new["x"], new["n"], new["o"], new["c"]))
    assert {s[0] for s in seen} == {0.12, 0.08} and {s[3] for s in seen} == {"s", "l"}
    assert {s[4] for s in seen} == {"a", "b", "c"}
    edge = {explore({"o": "s", "lr": 0.5, "n": 10}, mutations, np.random.RandomState(s), 0.0)["o"] for s in range(20)}
    assert edge == {"s", "m"}  # at the end of the sequence, moving out stays put
    top = [explore({"lr": 0.5}, mutations, np.random.RandomState(s), 0.0)["lr"] for s in range(20)]
    assert {round(v, 9) for v in top} == {0.5, 0.4}  # 0.6 clipped to 0.5


def test_resampling_draws_from_the_space_and_seeds_repeat():
    mutations = make_mutations(space())
    config = {"lr": 0.1, "x": 0.5, "n": 5, "c": "a", "k": 3, "o": "m"}
    drawn = [explore(config, mutations, np.random.RandomState(s), resample_probability=1.0) for s in range(30)]
    for new in drawn:
        assert 1e-3 <= new["lr"] <= 0.5 and 0 <= new["x"] <= 1 and 1 <= new["n"] <= 10
        CS.Configuration(space(), values=new).check_valid_configuration()
    assert len({d["lr"] for d in drawn}) == 30
    assert explore(config, mutations, np.random.RandomState(7)) == explore(config, mutations, np.random.RandomState(7))
    assert explore(config, mutations, np.random.RandomState(7)) != explore(config, mutations, np.random.RandomState(8))
    assert config == {"lr": 0.1, "x": 0.5, "n": 5, "c": "a", "k": 3, "o": "m"}  # not changed in place


def test_hyperparam_mutations_lists_functions_and_custom_explore():
    mutations = make_mutations(space(), {"n": [2, 4, 8, 16], "lr": lambda: 0.01, "x": lambda rng: rng.uniform(0, 1)})
    assert sorted(mutations) == ["lr", "n", "x"]
    new = explore({"lr": 0.1, "n": 4, "x": 0.5, "c": "b"}, mutations, np.random.RandomState(0), 1.0)
    assert new["lr"] == 0.01 and new["n"] in (2, 4, 8, 16) and new["c"] == "b"
    moves = {explore({"n": 4}, mutations, np.random.RandomState(s), 0.0)["n"] for s in range(20)}
    assert moves == {2, 8}  # a value list moves to a neighbour
    assert explore({"n": 5}, mutations, np.random.RandomState(0), 0.0)["n"] in (2, 4, 8, 16)  # not in the list
    perturbed = explore({"lr": 0.45}, mutations, np.random.RandomState(1), 0.0, (2.0,))["lr"]
    assert perturbed == 0.5  # a function's value is perturbed too, clipped to the space's range
    doubled = explore({"lr": 0.1, "n": 4, "x": 0.5}, mutations, np.random.RandomState(0), 0.0,
                      custom_explore_fn=lambda c: {**c, "n": c["n"] * 100})
    assert doubled["n"] in (200, 800)
    with pytest.raises(ValueError, match="not in the configspace"):
        make_mutations(space(), {"missing": None})
    with pytest.raises(TypeError, match="must be a list of values"):
        make_mutations(space(), {"lr": 3})
    with pytest.raises(ValueError, match="empty list"):
        make_mutations(space(), {"lr": []})


# ------------------------------------------------------------------ the scheduler, driven by ask and tell
def scheduler(**kwargs):
    cs = CS.ConfigurationSpace({"lr": (0.01, 0.5)})
    kwargs.setdefault("population_size", 4)
    kwargs.setdefault("perturbation_interval", 10)
    kwargs.setdefault("max_budget", 30)
    return PBTScheduler(RandomSampling(cs, seed=0), mutations=make_mutations(cs), seed=0, **kwargs)


def test_synchronous_generation_by_hand():
    s = scheduler(synchronous=True)
    first = [s.ask() for _ in range(4)]
    assert [r.config_id for r in first] == [(m, 0, 0) for m in range(4)]
    assert all(r.budget == 10 and r.previous_budget is None and r.checkpoint_from is None for r in first)
    assert first[0].config_info["pbt"] == {"member": 0, "generation": 0, "kind": "initial", "start_budget": 0.0}
    for request, loss in zip(first, [0.4, 0.1, 0.3, 0.9], strict=True):
        with pytest.raises(RuntimeError, match="nothing to evaluate"):
            s.ask()  # synchronous: nobody moves on before the whole population has finished the interval
        s.tell(request, loss)
    second = {r.config_id[0]: r for r in (s.ask() for _ in range(4))}
    # quantiles of 4 at 0.25: member 3 (0.9) is the bottom, member 1 (0.1) the top
    top, bottom = second[1], second[3]
    assert top.config_id == (1, 0, 1) and top.checkpoint_from == (1, 0, 0) and top.config == first[1].config
    assert top.config_info["pbt"]["kind"] == "continue"  # a fresh directory: (1, 0, 0) is frozen for copies
    assert bottom.config_id == (3, 0, 1) and bottom.checkpoint_from == (1, 0, 0)
    info = bottom.config_info["pbt"]
    assert info["kind"] == "exploit" and info["source_member"] == 1 and info["source_budget"] == 10
    assert info["config_before_explore"] == first[1].config
    assert bottom.config["lr"] != first[1].config["lr"] and 0.01 <= bottom.config["lr"] <= 0.5  # explored
    assert bottom.previous_budget == 10 and bottom.budget == 20
    for m in (0, 2):  # the middle continues where it is
        assert second[m].config_id == (m, 0, 0) and second[m].checkpoint_from is None
        assert second[m].previous_budget == 10 and second[m].budget == 20


def test_asynchronous_least_trained_first_burn_in_and_the_end():
    s = scheduler(population_size=2, burn_in_period=10, max_budget=25)
    a, b = s.ask(), s.ask()
    s.tell(a, 0.5)
    s.tell(b, 0.1)  # budget 10 >= burn_in: member 1 is on top and freezes its directory
    nxt = s.ask()
    assert nxt.config_id == (0, 0, 0) and nxt.budget == 20  # member 0 decided before 1 had a score: continues
    top = s.ask()
    assert top.config_id == (1, 0, 1) and top.checkpoint_from == (1, 0, 0)
    s.tell(nxt, 0.6)  # member 0 is the bottom now: it copies member 1's frozen checkpoint at budget 10
    exploit = s.ask()
    assert exploit.config_id == (0, 0, 1) and exploit.checkpoint_from == (1, 0, 0)
    assert exploit.previous_budget == 10 and exploit.budget == 20
    s.tell(top, 0.05)
    last = s.ask()
    assert last.config_id[0] == 1 and last.budget == 25  # the last interval ends at max_budget
    s.tell(exploit, 0.2)
    s.tell(last, 0.01)
    assert not s.is_done()
    rest = s.ask()
    assert rest.config_id[0] == 0
    s.tell(rest, 0.02)
    while not s.is_done():
        s.tell(s.ask(), 0.02)
    assert s.members[0].budget == s.members[1].budget == 25


def test_burn_in_delays_the_first_exploit():
    s = scheduler(population_size=2, burn_in_period=20, synchronous=True)
    a, b = s.ask(), s.ask()
    s.tell(a, 0.9)
    s.tell(b, 0.1)
    assert {r.config_id for r in (s.ask(), s.ask())} == {(0, 0, 0), (1, 0, 0)}  # 10 < burn-in: both continue


def test_a_failing_member_is_replaced_and_the_failure_recorded():
    s = scheduler(synchronous=True)
    first = [s.ask() for _ in range(4)]
    for request, loss in zip(first, [0.4, 0.1, 0.3, 0.9], strict=True):
        s.tell(request, loss)
    second = {r.config_id[0]: r for r in (s.ask() for _ in range(4))}
    s.pop_events()
    for m, loss in ((0, 0.3), (1, 0.05), (3, 0.2)):
        s.tell(second[m], loss)
    s.tell(second[2], None, exception="Traceback: boom")
    kinds = [kind for kind, _ in s.pop_events()]
    assert "pbt_member_failed" in kinds and "pbt_replace" in kinds
    third = {r.config_id[0]: r for r in (s.ask() for _ in range(4))}
    replaced = third[2]
    assert replaced.config_id == (2, 0, 1) and replaced.config_info["pbt"]["kind"] == "replace"
    assert replaced.checkpoint_from == (1, 0, 1)  # the top member's frozen directory, at budget 20
    assert replaced.previous_budget == 20


def test_a_member_without_anyone_to_copy_is_retried_then_dropped():
    s = scheduler(population_size=2)
    a, b = s.ask(), s.ask()
    s.tell(a, None, exception="boom")
    retry = s.ask()
    assert retry.config_id == (0, 0, 0) and retry.attempt == 2 and retry.previous_budget is None
    s.tell(retry, None, exception="boom")
    s.tell(s.ask(), None, exception="boom")
    assert s.members[0].dropped
    assert ("pbt_member_dropped", {"member": 0, "failures": 3, "reason": "failed with no member to copy from"}) in \
        s.pop_events()
    s.tell(b, 0.1)
    while not s.is_done():
        s.tell(s.ask(), 0.1)
    assert s.members[1].budget == 30


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="population_size"):
        scheduler(population_size=1)
    with pytest.raises(ValueError, match="quantile_fraction"):
        scheduler(quantile_fraction=0.75)
    with pytest.raises(ValueError, match="resample_probability"):
        scheduler(resample_probability=2)
    with pytest.raises(ValueError, match="perturbation_factors"):
        scheduler(perturbation_factors=(1.2, -1))
    with pytest.raises(ValueError, match="perturbation_interval"):
        scheduler(perturbation_interval=0)


def test_with_fewer_workers_the_least_trained_member_runs_first():
    s = scheduler(population_size=3)
    a, b, _running = s.ask(), s.ask(), s.ask()  # member 2 keeps running
    s.tell(a, 0.5)
    s.tell(b, 0.4)
    first = s.ask()
    assert first.config_id[0] == 0 and first.budget == 20  # both at 10: the lower number
    s.tell(first, 0.3)  # member 0 is now at 20, member 1 still at 10
    second = s.ask()
    assert second.config_id[0] == 1 and second.previous_budget == 10
    third = s.ask()
    assert third.config_id[0] == 0 and third.previous_budget == 20
