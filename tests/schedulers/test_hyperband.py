"""The synchronous schedulers, driven by hand through ask/tell: no runner, no backend, no threads."""

import ConfigSpace as CS
import pytest

from bandster.core.job import Job
from bandster.samplers import RandomSampling
from bandster.schedulers import HyperbandScheduler, IterationScheduler, RandomSearchScheduler
from bandster.schedulers.successive_halving import SuccessiveHalving


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)})


def test_hyperband_brackets_by_hand():
    s = HyperbandScheduler(RandomSampling(space(), seed=0), min_budget=1, max_budget=9, eta=3)
    assert s.is_done()  # nothing granted yet
    assert s.grant(2) == {"n_iterations": 2}
    assert s.planned_runs(1) == 3  # a further grant would start iteration 2: 3 configurations on budget 9
    first = [s.next_job() for _ in range(9)]
    assert [j.budget for j in first] == [1.0] * 9
    assert [j.config_id for j in first] == [(0, 0, i) for i in range(9)]
    assert [kind for kind, _ in s.pop_events()] == ["iteration_started"]
    # bracket 0 waits at its stage barrier; idle workers take bracket 1's runs (3 configurations on budget 3)
    second = [s.next_job() for _ in range(3)]
    assert [(j.config_id, j.budget) for j in second] == [((1, 0, i), 3.0) for i in range(3)]
    assert s.next_job() is None  # both brackets wait, the grant is used up
    losses = [0.5, 0.1, 0.9, 0.3, 0.8, 0.7, 0.2, 0.6, 0.4]
    for job, loss in zip(first, losses, strict=True):
        s.on_result(_job(job, loss))
    promoted = [s.next_job() for _ in range(3)]
    # the best three of stage 0 (losses 0.1, 0.3, 0.2: configs 1, 3, 6) move to budget 3, from budget 1, in id order
    assert [(j.config_id, j.budget, j.previous_budget) for j in promoted] == [
        ((0, 0, 1), 3.0, 1.0), ((0, 0, 3), 3.0, 1.0), ((0, 0, 6), 3.0, 1.0)]
    assert not s.is_done()


def _job(request, loss):
    job = Job(request.config_id, config=request.config, budget=request.budget)
    job.result = {"loss": loss, "info": {}}
    return job


def test_ask_tell_runs_a_bracket_to_the_end_and_asks_for_more():
    s = HyperbandScheduler(RandomSampling(space(), seed=1), min_budget=1, max_budget=9, eta=3)
    told = []
    s.grant(1)
    while not s.is_done():
        job = s.ask()
        s.tell(job, {"loss": job.config["x"], "info": {"b": job.budget}})
        told.append((job.config_id, job.budget))
    assert len(told) == 9 + 3 + 1  # bracket (9, 3, 1)
    assert [b for _, b in told].count(9.0) == 1
    job = s.ask()  # a finished grant: ask() grants the next iteration
    assert job.config_id == (1, 0, 0) and job.budget == 3.0


def test_ask_at_a_stage_barrier_says_what_it_waits_for():
    s = HyperbandScheduler(RandomSampling(space(), seed=1), min_budget=1, max_budget=3, eta=3)
    s.grant(1)
    jobs = [s.ask() for _ in range(3)]
    with pytest.raises(RuntimeError, match="3 asked evaluations await tell"):
        s.ask()
    with pytest.raises(ValueError, match="not handed out by ask"):
        s.tell(jobs[0].__class__((9, 9, 9), {}, 1.0), 0.0)
    s.tell(jobs[0], None, exception="boom")  # a failure ranks last
    s.tell(jobs[1], 0.2)
    s.tell(jobs[2], 0.1)
    assert s.ask().config_id == jobs[2].config_id
    with pytest.raises(ValueError, match="told already"):
        s.tell(jobs[1], 0.3)


def test_iteration_scheduler_with_a_custom_factory_and_kwargs():
    made = []

    def factory(index, kwargs):
        made.append((index, dict(kwargs)))
        return SuccessiveHalving(HPB_iter=index, num_configs=[2], budgets=[1.0], config_sampler=s.sample_config)

    s = IterationScheduler(RandomSampling(space(), seed=2), factory, iteration_kwargs={"a": 1})
    s.grant(2)
    s.set_iteration_kwargs({"b": 2})
    jobs = [s.next_job() for _ in range(4)]
    assert [j.config_id for j in jobs] == [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 0, 1)]
    assert made == [(0, {"b": 2}), (1, {"b": 2})]
    s.end_grant()
    assert s.next_job() is None


def test_random_search_scheduler_plans_one_stage_on_max_budget():
    # HpBandSter: as many configurations per iteration as budgets on the ladder 1, 3, 9
    s = RandomSearchScheduler(RandomSampling(space(), seed=0), min_budget=1, max_budget=9, eta=3)
    assert s.plan(0) == ([3], [9.0]) and s.plan(5) == ([3], [9.0])
    s.grant(1)
    assert {s.next_job().budget for _ in range(3)} == {9.0}
    assert s.next_job() is None


def test_manifest_names_the_settings():
    s = HyperbandScheduler(RandomSampling(space(), seed=0), 1, 9, 3)
    assert s.manifest() == {"scheduler": "HyperbandScheduler", "min_budget": 1, "max_budget": 9, "eta": 3,
                            "iteration_class": "SuccessiveHalving"}
