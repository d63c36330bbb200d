"""AsyncBracketScheduler (ASHA, asynchronous Hyperband) driven by hand through ask/tell."""

import ConfigSpace as CS
import pytest

from bandster.samplers import RandomSampling
from bandster.schedulers import AsyncBracketScheduler
from bandster.schedulers.asha import hyperband_budget


def scheduler(**kwargs):
    return AsyncBracketScheduler(RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)}), seed=3), 1, 9, 3, **kwargs)


def test_promotions_by_hand():
    s = scheduler()
    assert s.grant(1) == {"n_iterations": 1}
    assert s.pop_events()[0][0] == "iteration_started"
    a, b, c = (s.ask() for _ in range(3))
    assert [j.config_id for j in (a, b, c)] == [(0, 0, 0), (0, 0, 1), (0, 0, 2)]
    s.tell(a, 0.5)
    d = s.ask()  # one result on rung 0: floor(1/3) = 0 eligible, so a new configuration
    assert d.config_id == (0, 0, 3) and d.budget == 1.0
    s.tell(b, 0.2)
    s.tell(c, 0.9)
    e = s.ask()  # three results: floor(3/3) = 1 eligible, the best (b) moves up from budget 1
    assert (e.config_id, e.budget, e.previous_budget) == (b.config_id, 3.0, 1.0)


def test_budget_limit_of_one_hyperband_iteration():
    s = scheduler()
    s.grant(1)
    limit = hyperband_budget(1, 1, 9, 3)
    assert limit == 9 * 1 + 3 * 3 + 1 * 9  # bracket (9, 3, 1) on budgets (1, 3, 9)
    started = 0.0
    while not s.is_done():
        job = s.ask()
        assert started < limit  # a job starts only while less than the limit was started
        started += job.budget
        s.tell(job, job.config["x"])
    assert limit <= started < limit + 9


def test_max_configs_stops_new_configurations_not_promotions():
    s = scheduler()
    s.grant(5, max_configs=3)
    jobs = [s.ask() for _ in range(3)]
    with pytest.raises(RuntimeError, match="nothing to evaluate now"):
        s.ask()
    for job, loss in zip(jobs, (0.3, 0.1, 0.2), strict=True):
        s.tell(job, loss)
    promoted = s.ask()
    assert (promoted.config_id, promoted.budget) == ((0, 0, 1), 3.0)
    s.tell(promoted, 0.05)
    assert s.is_done()  # rung 1 has one result: nothing more is eligible, and no new configuration may start


def test_several_brackets_share_one_schedule():
    s = scheduler(n_brackets=3)
    s.grant(1)
    assert len(s.iterations) == 3
    jobs = []
    with pytest.raises(RuntimeError, match="nothing to evaluate now"):
        while True:
            jobs.append(s.ask())  # no results told: only new configurations, until the budget limit (27)
    assert sum(j.budget for j in jobs[:-1]) < 27 <= sum(j.budget for j in jobs)
    # each new configuration starts on the first rung of its bracket: bracket b on budgets[b]
    assert all(j.budget == (1.0, 3.0, 9.0)[j.config_id[0]] for j in jobs)
    assert len({j.config_id[0] for j in jobs}) > 1
    assert s.manifest()["n_brackets"] == 3
