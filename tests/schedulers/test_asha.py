"""ASHA's rung arithmetic and promotion order on hand-computed cases, and the asynchronous iterations driven by
hand with fake jobs (no network)."""

from __future__ import annotations

import math

import pytest

from bandster.core.base_iteration import CRASHED, REVIEW, RUNNING
from bandster.core.job import Job
from bandster.optimizers.asha import (
    AsyncSchedule,
    Decision,
    RungLadder,
    bracket_weights,
    choose_bracket,
    hyperband_budget,
    ranking_loss,
)
from bandster.optimizers.iterations.asynchronous import AsyncBrackets, AsynchronousIteration

# ------------------------------------------------------------------ rung arithmetic


@pytest.mark.parametrize("eta, expected", [
    (3, [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3]),
    (2, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]),
    (2.5, [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4]),
    (4, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]),
])
def test_top_one_over_eta_of_a_rung(eta, expected):
    ladder = RungLadder([1, 10, 100], eta)
    got = []
    for n in range(11):
        got.append(ladder.num_to_promote(0))
        ladder.add_result(0, n, float(n))
    assert got == expected
    assert ladder.num_to_promote(2) == 0  # the top rung never promotes


def test_ranking_ties_go_to_the_earlier_result_and_failures_rank_last():
    ladder = RungLadder([1, 3, 9], 3)
    for key, loss in [("a", 2.0), ("fail", None), ("b", 1.0), ("nan", math.nan), ("c", 1.0), ("inf", math.inf)]:
        ladder.add_result(0, key, loss)
    ranking = ladder.ranking(0)
    assert [k for k, _ in ranking[:3]] == ["b", "c", "a"]
    assert {k for k, _ in ranking[3:]} == {"fail", "nan", "inf"} and all(math.isinf(v) for _, v in ranking[3:])
    assert ladder.candidates(0) == ["b", "c"]  # floor(6 / 3) = 2
    ladder.mark_promoted(0, "b")
    assert ladder.best_candidate(0) == "c"


def test_failed_results_never_promote():
    ladder = RungLadder([1, 3, 9], 3)
    for key, loss in [("none", None), ("nan", math.nan), ("inf", math.inf), ("str", "0.1"), ("bool", True)]:
        ladder.add_result(0, key, loss)
    assert ladder.num_to_promote(0) == 1
    assert ladder.candidates(0) == [] and ladder.best_candidate(0) is None
    ladder.add_result(0, "ok", 7.0)  # 6 results, top 2: "ok" and a failure
    assert ladder.candidates(0) == ["ok"] and ladder.best_candidate(0) == "ok"


def test_best_candidate_outside_the_top_is_not_eligible():
    ladder = RungLadder([1, 3], 3)
    for key, loss in [("a", 1.0), ("b", 2.0), ("c", 3.0)]:
        ladder.add_result(0, key, loss)
    ladder.mark_promoted(0, "a")
    assert ladder.best_candidate(0) is None  # b ranks second, only one of three moves on
    for key, loss in [("d", 5.0), ("e", 6.0), ("f", 7.0)]:
        ladder.add_result(0, key, loss)
    assert ladder.best_candidate(0) == "b" and ladder.candidates(0) == ["b"]


def test_rung_ladder_checks():
    with pytest.raises(ValueError, match="increase"):
        RungLadder([3, 1], 3)
    with pytest.raises(ValueError, match="eta"):
        RungLadder([1, 3], 1)
    ladder = RungLadder([1, 3], 3)
    ladder.add_result(0, "a", 1.0)
    with pytest.raises(ValueError, match="already"):
        ladder.add_result(0, "a", 2.0)
    with pytest.raises(IndexError):
        ladder.add_result(2, "b", 1.0)


def test_ranking_loss():
    assert ranking_loss(1) == 1.0 and ranking_loss(-2.5) == -2.5
    assert all(math.isinf(ranking_loss(v)) for v in (None, math.nan, -math.inf, "1", True, [1]))


# ------------------------------------------------------------------ Hyperband arithmetic


def test_hyperband_budget_hand_computed():
    # (1, 9, 3): iteration 0 = 9x1 + 3x3 + 1x9, iteration 1 = 3x3 + 1x9, iteration 2 = 3x9
    assert [hyperband_budget(1, 1, 9, 3, first=i) for i in range(4)] == [27.0, 18.0, 27.0, 27.0]
    assert hyperband_budget(4, 1, 9, 3) == 99.0
    # (9, 729, 3): brackets 81x9+27x27+9x81+3x243+729, 27x27+9x81+3x243+729, 9x81+3x243+729, 6x243+2x729, 5x729
    assert hyperband_budget(5, 9, 729, 3) == 3645 + 2916 + 2187 + 2916 + 3645


def test_bracket_weights_are_synchronous_hyperbands_new_configurations():
    assert bracket_weights(3, 3) == [9, 3, 3]
    assert bracket_weights(5, 3) == [81, 27, 9, 6, 5]
    assert bracket_weights(5, 3, n_brackets=2) == [81, 27]
    assert bracket_weights(1, 3) == [1]
    with pytest.raises(ValueError, match="n_brackets"):
        bracket_weights(3, 3, n_brackets=4)


def test_choose_bracket_hand_computed_cycle():
    # shortfall w_b (N + 1) - c_b * 15 with weights 9, 3, 3; ties to the lower bracket
    counts, order = [0, 0, 0], []
    for _ in range(15):
        b = choose_bracket(counts, [9, 3, 3])
        counts[b] += 1
        order.append(b)
    assert order == [0, 1, 0, 2, 0, 0, 1, 0, 2, 0, 0, 1, 0, 2, 0]
    assert counts == [9, 3, 3]
    assert choose_bracket([5], [1]) == 0


# ------------------------------------------------------------------ the schedule


def drive(schedule, losses, steps):
    """One worker: propose, start, finish with ``losses[(key, budget)]``; return the decisions."""
    made = []
    next_key = 0
    for _ in range(steps):
        d = schedule.propose()
        if d is None:
            break
        key = d.key
        if d.kind == "new":
            key, next_key = f"c{next_key}", next_key + 1
        made.append((d.kind, key, d.budget))
        schedule.start(key, d.bracket, d.level)
        schedule.finish(key, losses[(key, d.budget)])
    return made


def test_asha_promotion_order_one_worker_hand_computed():
    losses = {("c0", 1): 5, ("c1", 1): 3, ("c2", 1): 4, ("c1", 3): 2, ("c3", 1): 1, ("c3", 3): 2.5,
              ("c4", 1): 6, ("c5", 1): 0.5, ("c5", 3): 1.5, ("c5", 9): 1.2, ("c6", 1): 9}
    s = AsyncSchedule([1, 3, 9], eta=3)
    made = drive(s, losses, 11)
    assert made == [
        ("new", "c0", 1), ("new", "c1", 1), ("new", "c2", 1),
        ("promote", "c1", 3),  # rung 1 has 3 results: the best (c1) moves up
        ("new", "c3", 1),  # rung 0: 4 results, top 1 is c1, already promoted
        ("promote", "c3", 3),  # c3 is now the best of rung 0
        ("new", "c4", 1), ("new", "c5", 1),
        ("promote", "c5", 3),  # 6 results: top 2 are c5 and c3
        ("promote", "c5", 9),  # rung 1 (c1 2, c3 2.5, c5 1.5): the highest rung goes first
        ("new", "c6", 1),
    ]
    assert s.rung_sizes() == [[7, 3, 1]]
    assert s.budget_started == 7 * 1 + 3 * 3 + 9


def test_highest_rung_first_and_lowest_loss_within_it():
    s = AsyncSchedule([1, 3, 9, 27], eta=3)
    for key, loss in [("a", 1), ("b", 2), ("c", 3)]:
        s.start(key, 0, 0)
        s.finish(key, loss)
    s.start("a", 0, 1)
    s.finish("a", 0.5)
    for key, loss in [("d", 0.1), ("e", 5), ("f", 6)]:  # rung 0: d and a are the top 2; d is eligible
        s.start(key, 0, 0)
        s.finish(key, loss)
    assert s.propose() == Decision("promote", 0, 1, 3.0, "d")
    for key, loss in [("x", 7), ("y", 8), ("z", 9)]:  # rung 1 with a, x, y, z... only a on rung 1 so far
        s.start(key, 0, 0)
        s.finish(key, loss)
    s.start("d", 0, 1)
    s.finish("d", 0.2)
    s.start("b", 0, 1)
    s.finish("b", 0.9)
    # rung 1: d 0.2, a 0.5, b 0.9 -> d is eligible for budget 9 and goes before rung 0's candidates
    assert s.propose() == Decision("promote", 0, 2, 9.0, "d")


def test_several_workers_results_in_any_order():
    s = AsyncSchedule([1, 3, 9], eta=3)
    started = []
    for _ in range(3):  # three free workers, nothing finished: three new configurations
        d = s.propose()
        assert d.kind == "new" and d.budget == 1.0
        key = len(started)
        s.start(key, d.bracket, d.level)
        started.append(key)
    assert s.num_running == 3 and not s.finished
    s.finish(2, 0.3)
    s.finish(0, 0.1)
    assert s.propose().kind == "new"  # two results: floor(2/3) = 0
    s.finish(1, math.nan)
    assert s.propose() == Decision("promote", 0, 1, 3.0, 0)
    with pytest.raises(ValueError, match="already running"):
        s.start(3, 0, 0)
        s.start(3, 0, 0)
    with pytest.raises(ValueError, match="only move up"):
        s.start(0, 0, 0)
    with pytest.raises(ValueError, match="starts on level"):
        s.start("new", 0, 1)
    with pytest.raises(ValueError, match="not running"):
        s.finish(0, 1.0)


def test_budget_limit_stops_new_jobs_and_running_ones_finish():
    s = AsyncSchedule([1, 3, 9], eta=3)
    s.budget_limit = 5
    for key, loss in [("a", 1), ("b", 2), ("c", 3)]:
        d = s.propose()
        s.start(key, d.bracket, d.level)
        s.finish(key, loss)
    d = s.propose()
    assert d == Decision("promote", 0, 1, 3.0, "a")
    s.start("a", 0, 1)  # 3 + 3 = 6 >= 5: the last job may overshoot
    assert s.budget_started == 6 and s.propose() is None
    assert not s.finished  # a is still running
    s.finish("a", 0.5)
    assert s.finished
    s.budget_limit = 7  # a later run() raises the limit
    assert not s.finished and s.propose().kind == "new"


def test_config_limit_leaves_only_promotions():
    losses = {(f"c{i}", 1): v for i, v in enumerate([5, 3, 4, 1, 6, 0.5])}
    losses.update({("c1", 3): 2, ("c3", 3): 2.5, ("c5", 3): 1.5, ("c5", 9): 1.2})
    s = AsyncSchedule([1, 3, 9], eta=3)
    s.new_config_limit = 6
    made = drive(s, losses, 100)
    assert [m for m in made if m[0] == "new"] == [("new", f"c{i}", 1) for i in range(6)]
    assert made[-2:] == [("promote", "c5", 3), ("promote", "c5", 9)]
    assert s.propose() is None and s.finished


def test_async_hyperband_brackets_and_cross_bracket_promotion():
    s = AsyncSchedule([1, 3, 9], eta=3, n_brackets=3)
    assert [r.budgets for r in s.ladders] == [[1, 3, 9], [3, 9], [9]]
    kinds = []
    for key in range(5):
        d = s.propose()
        kinds.append((d.bracket, d.budget))
        s.start(key, d.bracket, d.level)
    assert kinds == [(0, 1.0), (1, 3.0), (0, 1.0), (2, 9.0), (0, 1.0)]  # new configurations only
    assert s.started == [3, 1, 1]
    for key, loss in [(0, 0.4), (2, 0.2), (4, 0.9), (1, 0.5), (3, 0.1)]:
        s.finish(key, loss)
    # bracket 0's first rung holds 0, 2, 4: the best (2) moves up; bracket 1's first rung holds only 1
    assert s.propose() == Decision("promote", 0, 1, 3.0, 2)
    s.start(2, 0, 1)
    s.finish(2, 0.05)
    assert s.propose() == Decision("new", 0, 0, 1.0)  # shortfalls 9, 3, 3 after 5 configurations
    s.start(5, 0, 0)
    assert s.propose() == Decision("new", 1, 1, 3.0)  # then 3, 6, 6
    s.start(6, 1, 1)
    s.finish(5, 0.3)
    s.finish(6, 0.6)
    s.start(7, 1, 1)
    s.finish(7, 0.7)  # bracket 1, budget 3: 1 (0.5), 6, 7: key 1 is eligible
    for key, loss in [("a", 0.3), ("b", 0.4), ("c", 0.5)]:  # bracket 0, budget 3: three more results
        s.start(key, 0, 0)
        s.finish(key, 1.0)
        s.start(key, 0, 1)
        s.finish(key, loss)
    # budget 3 in bracket 0: 2 (0.05), a, b, c: top 1 is 2, which is not promoted yet, lower than key 1 (0.5)
    assert s.propose() == Decision("promote", 0, 2, 9.0, 2)
    s.start(2, 0, 2)
    # bracket 0 now offers nothing on budget 3 (top 1 of 4 is 2, promoted); bracket 1 offers key 1
    assert s.propose() == Decision("promote", 1, 2, 9.0, 1)
    s.start(1, 1, 2)
    assert s.propose() == Decision("promote", 0, 1, 3.0, 5)  # then budget 1: 2 (promoted), 5 (0.3) in the top 2


def test_schedule_checks():
    with pytest.raises(ValueError, match="n_brackets"):
        AsyncSchedule([1, 3], 3, n_brackets=3)
    with pytest.raises(ValueError, match="weights"):
        AsyncSchedule([1, 3], 3, n_brackets=2, weights=[1])
    s = AsyncSchedule([1, 3], 3, n_brackets=2, weights=[0, 1])
    assert s.propose() == Decision("new", 1, 1, 3.0)


# ------------------------------------------------------------------ the iterations, driven by hand


class Sampler:
    def __init__(self):
        self.calls = []

    def __call__(self, budget):
        self.calls.append(budget)
        return {"x": len(self.calls) / 100}, {"model_based_pick": False}


class Recorder:
    def __init__(self):
        self.configs = []

    def new_config(self, config_id, config, config_info):
        self.configs.append(config_id)


def finish(it, run, loss=None, result="default"):
    config_id, config, budget = run
    job = Job(config_id, config=config, budget=budget)
    job.timestamps = {"submitted": 1.0, "started": 2.0, "finished": 3.0}
    job.result = {"loss": loss, "info": None} if result == "default" else result
    job.worker_name = "w"
    it.register_result(job)
    return job


def make_iterations(budgets=(1.0, 3.0, 9.0), n_brackets=1):
    schedule = AsyncSchedule(list(budgets), 3, n_brackets)
    shared = AsyncBrackets(schedule)
    sampler, recorder = Sampler(), Recorder()
    its = [AsynchronousIteration(b, shared, sampler, result_logger=recorder) for b in range(n_brackets)]
    return its, schedule, sampler, recorder


def test_iteration_hands_out_config_ids_and_promotions():
    (it,), schedule, sampler, recorder = make_iterations()
    runs = [it.get_next_run() for _ in range(3)]
    assert [r[0] for r in runs] == [(0, 0, 0), (0, 0, 1), (0, 0, 2)]
    assert [r[2] for r in runs] == [1.0, 1.0, 1.0] and sampler.calls == [1.0, 1.0, 1.0]
    assert recorder.configs == [(0, 0, 0), (0, 0, 1), (0, 0, 2)]
    assert it.num_running == 3 and it.data[(0, 0, 0)].status == RUNNING and not it.is_finished
    finish(it, runs[0], 0.5)
    finish(it, runs[1], None, result={"loss": math.nan, "info": None})
    finish(it, runs[2], None, result=None)
    assert it.data[(0, 0, 0)].status == REVIEW and it.data[(0, 0, 1)].status == CRASHED
    assert it.data[(0, 0, 2)].status == CRASHED and it.data[(0, 0, 2)].extras[1.0]["status"] == "failed"
    promoted = it.get_next_run()
    assert promoted == ((0, 0, 0), {"x": 0.01}, 3.0)  # same id, larger budget
    assert it.data[(0, 0, 0)].results == {1.0: {"loss": 0.5, "info": None}}
    assert it.rung_sizes() == [3, 1, 0]
    with pytest.raises(ValueError, match="RUNNING on budget 3.0"):
        finish(it, ((0, 0, 0), {}, 1.0), 0.1)
    with pytest.raises(ValueError, match="does not know"):
        finish(it, ((0, 0, 99), {}, 1.0), 0.1)
    finish(it, promoted, 0.4)
    assert sorted(it.data[(0, 0, 0)].results) == [1.0, 3.0]
    schedule.budget_limit = schedule.budget_started
    assert it.get_next_run() is None and it.is_finished


def test_iteration_added_configuration_goes_first_and_import_skips_checks():
    (it,), schedule, sampler, recorder = make_iterations()
    cid = it.add_configuration({"x": 0.77}, {"mine": True})
    assert it.num_pending() == 1 and recorder.configs == [cid]
    run = it.get_next_run()
    assert run == ((0, 0, 0), {"x": 0.77}, 1.0) and sampler.calls == []
    finish(it, run, 0.3)
    other = it.add_configuration({"x": 0.1})
    job = Job(other, config={"x": 0.1}, budget=1.0)
    job.result = {"loss": 0.2, "info": None}
    it.register_result(job, skip_sanity_checks=True)  # imported without being handed out
    assert it.data[other].status == REVIEW and schedule.ladders[0].ranking(0)[0] == (other, 0.2)


def test_async_hyperband_iterations_share_one_schedule():
    its, schedule, sampler, recorder = make_iterations(n_brackets=3)
    assert [it.budgets for it in its] == [[1.0, 3.0, 9.0], [3.0, 9.0], [9.0]]
    runs = [its[2].get_next_run() for _ in range(4)]  # whichever iteration is asked, the schedule decides
    assert [(r[0], r[2]) for r in runs] == [((0, 0, 0), 1.0), ((1, 0, 0), 3.0), ((0, 0, 1), 1.0), ((2, 0, 0), 9.0)]
    assert sampler.calls == [1.0, 3.0, 1.0, 9.0]
    assert its[1].data[(1, 0, 0)].budget == 3.0 and its[0].num_running == 2
    for run in runs:
        finish(its[run[0][0]], run, 0.5)
    assert all(it.is_finished is False for it in its)
