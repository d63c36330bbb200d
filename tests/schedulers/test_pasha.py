"""PASHA's rules by hand (bandster/schedulers/pasha.py)."""

import math

import ConfigSpace as CS
import pytest

from bandster.samplers import RandomSampling
from bandster.schedulers import Decision, PASHAScheduler
from bandster.schedulers._base import job_from_request
from bandster.schedulers.pasha import ProgressiveSchedule, noisy_distances, ranking_gaps, rankings_agree


def run_level(s, key, level, loss):
    s.start(key, 0, level)
    s.finish(key, loss)
    return s.update()


def test_top_level_rises_when_the_rankings_swap():
    s = ProgressiveSchedule([1.0, 3.0, 9.0, 27.0], eta=3)
    assert s.top_level == 1
    for key, loss in (("a", 0.5), ("b", 0.2), ("c", 0.9)):
        assert not run_level(s, key, 0, loss)
    d = s.propose()
    assert (d.kind, d.key, d.level) == ("promote", "b", 1)
    assert not run_level(s, "b", 1, 0.3)  # one configuration at the top rung: nothing to compare
    for key, loss in (("d", 0.1), ("e", 0.6), ("f", 0.7)):
        run_level(s, key, 0, loss)
    # rung 0 holds 6 results: floor(6/3) = 2 eligible: d (0.1) and b (promoted already)
    assert s.propose().key == "d"
    # d at rung 1: 0.4. Top rung order b (0.3), d (0.4); one rung below d (0.1) < b (0.2): swapped
    assert run_level(s, "d", 1, 0.4)
    assert s.top_level == 2
    # with 2 results at rung 1, floor(2/3) = 0: nothing to promote to the new top; a new configuration
    assert s.propose().kind == "new"


def test_no_promotion_above_the_top_level():
    s = ProgressiveSchedule([1.0, 3.0, 9.0], eta=2)
    for key, loss in (("a", 0.5), ("b", 0.2)):
        run_level(s, key, 0, loss)
    run_level(s, "b", 1, 0.2)
    run_level(s, "c", 0, 0.9)
    run_level(s, "d", 0, 0.8)
    # rung 1 is the top: b (alone there) may not move to 9; rung 0 (4 results, 2 eligible: b promoted, a 0.5)
    assert s.top_level == 1 and s.ladders[0].candidates(1) == []
    d = s.propose()
    assert (d.kind, d.key, d.level) == ("promote", "a", 1)


def test_soft_ranking_by_hand():
    top = [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    assert rankings_agree(top, {"a": 0.1, "b": 0.2, "c": 0.3}, 0.0)
    assert not rankings_agree(top, {"a": 0.2, "b": 0.1, "c": 0.3}, 0.0)
    assert not rankings_agree(top, {"a": 0.2, "b": 0.1, "c": 0.3}, 0.09)  # |0.2 - 0.1| = 0.1 > 0.09
    assert rankings_agree(top, {"a": 0.2, "b": 0.1, "c": 0.3}, 0.1)
    assert rankings_agree([("a", 1.0)], {"a": 5.0}, 0.0)


def test_noisy_distances_by_hand():
    curves = {
        "a": {1: 0.5, 2: 0.6, 3: 0.4},   # a vs b at 3: a better; at 2: b better; at 1: a better -> noisy, |0.4 - 0.45|
        "b": {1: 0.6, 2: 0.5, 3: 0.45},
        "c": {1: 0.1, 2: 0.1, 3: 0.9},   # c never swaps back against a or b
    }
    assert noisy_distances(curves, 2, 3) == [pytest.approx(0.05)]
    assert noisy_distances(curves, 3, 9) == []


def test_epsilon_from_reports_keeps_the_top():
    s = PASHAScheduler(RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)}), seed=0), 1, 27, 3)
    s.grant(5)
    requests = [s.ask() for _ in range(3)]
    assert s.max_budget_now == 3.0
    for request, loss in zip(requests, (0.5, 0.2, 0.9), strict=True):
        s.tell(request, loss)
    promoted = s.ask()
    assert promoted.config_id == requests[1].config_id and promoted.budget == 3.0
    assert promoted.previous_budget == 1.0
    assert s.on_report(job_from_request(promoted), 2, 0.3) is Decision.CONTINUE
    assert s.schedule.curves[promoted.config_id] == {1.0: 0.2, 2.0: 0.3}
    s.tell(promoted, 0.25)
    assert s.schedule.top_level == 1 and s.manifest()["type"] == "pasha"


def test_replay_records_the_journaled_reports_as_curve_points(tmp_path):
    import collections

    from bandster.records.journal import Journal
    from bandster.records.result import logged_results_to_HBS_result

    with Journal(tmp_path) as journal:
        journal.write_manifest({"HB_config": {"time_ref": 0.0, "max_budget": 9.0}})
        journal.new_config((0, 0, 0), {"x": 0.5}, {})
        journal.report((0, 0, 0), 1.0, 1, 0.5, 0.7, None, "continue", 1.0)
        journal.report((0, 0, 0), 1.0, 1, 1.0, 0.6, None, "continue", 2.0)
    scheduler = PASHAScheduler(RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)}), seed=0), 1, 9, 3)
    requeued, counts = scheduler.replay(logged_results_to_HBS_result(tmp_path), collections.Counter())
    assert [r.config_id for r in requeued] == [(0, 0, 0)] and counts["reports"] == 2
    assert scheduler.schedule.curves[(0, 0, 0)] == {0.5: 0.7, 1.0: 0.6}


def test_a_report_that_lowers_epsilon_raises_the_top_level_at_once():
    # Ladder 1, 4, 16 (eta 2): the top rung T is 4, epsilon comes from the steps in (1, 4].
    s = ProgressiveSchedule([1.0, 4.0, 16.0], eta=2)
    for key, loss in (("a", 0.20), ("b", 0.25), ("c", 0.27), ("x", 0.9), ("y", 0.95), ("z", 0.97)):
        assert not run_level(s, key, 0, loss)
    s.start("a", 0, 1)
    assert not s.report("a", 2, 0.30) and not s.report("a", 3, 0.36)
    s.finish("a", 0.40)
    assert not s.update() and s.epsilon == 0.0  # a alone at the top rung
    s.start("c", 0, 1)
    assert not s.report("c", 2, 0.28) and not s.report("c", 3, 0.40)
    s.finish("c", 0.325)
    # (a, c): at 4 a is worse (0.40 > 0.325), at 3 better (0.36 < 0.40), at 2 worse again (0.30 > 0.28): noisy,
    # distance 0.075 = epsilon. Top rung c (0.325), a (0.40); one rung below c 0.27, a 0.20: c ranked first but
    # |0.27 - 0.20| = 0.07 <= 0.075, same group: the rankings agree.
    assert not s.update()
    assert s.epsilon == pytest.approx(0.075) and s.top_level == 1
    s.start("b", 0, 1)
    # b at 2 (0.34): (a, b) never reverses; (b, c) at 2 b worse, at 1 better: one reversal only. Epsilon stays.
    assert not s.report("b", 2, 0.34)
    assert s.epsilon == pytest.approx(0.075)
    # b at 3 (0.39): (b, c) at 3 b better (0.39 < 0.40), at 2 worse, at 1 better again: noisy, distance 0.01.
    # Epsilon = 90th percentile of [0.075, 0.01] = 0.01 + 0.9 * 0.065 = 0.0685 < 0.07: c left its group, and the
    # top level rises on this report, before b's result (Syne Tune 0.13 re-checks after every report).
    assert s.report("b", 3, 0.39)
    assert s.epsilon == pytest.approx(0.0685) and s.top_level == 2
    assert s.history == [(2, s.budget_started)]


def test_a_report_outside_the_top_two_rungs_changes_nothing():
    s = ProgressiveSchedule([1.0, 3.0, 9.0, 27.0], eta=3)
    s.start("a", 0, 0)
    assert not s.report("a", 0.5, 0.7)  # below level(T - 1) = 1: cannot be a step of (1, 3]
    assert s.curves["a"] == {0.5: 0.7} and s.epsilon == 0.0 and s.top_level == 1


def test_the_scheduler_raises_its_top_budget_on_a_report():
    # The hand-computed case above through ask/tell/on_report: ladder 1, 4, 16 (eta 4); 12 configurations at
    # rung 0, floor(12 / 4) = 3 eligible (losses 0.20, 0.25, 0.27).
    s = PASHAScheduler(RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)}), seed=0), 1, 16, 4)
    s.grant(50)
    first = [s.ask() for _ in range(12)]
    losses = [0.20, 0.25, 0.27] + [0.9 + 0.005 * i for i in range(9)]
    for request, loss in zip(first, losses, strict=True):
        s.tell(request, loss)
    a = s.ask()
    assert a.config_id == first[0].config_id and a.budget == 4.0
    for step, loss in ((2, 0.30), (3, 0.36)):
        assert s.on_report(job_from_request(a), step, loss) is Decision.CONTINUE
    s.tell(a, 0.40)
    b, c = s.ask(), s.ask()
    assert (b.config_id, c.config_id) == (first[1].config_id, first[2].config_id)
    for step, loss in ((2, 0.28), (3, 0.40)):
        s.on_report(job_from_request(c), step, loss)
    s.tell(c, 0.325)
    assert s.max_budget_now == 4.0 and s.schedule.epsilon == pytest.approx(0.075)
    s.pop_events()
    assert s.on_report(job_from_request(b), 2, 0.34) is Decision.CONTINUE and s.max_budget_now == 4.0
    assert s.on_report(job_from_request(b), 3, 0.39) is Decision.CONTINUE
    assert s.max_budget_now == 16.0
    rises = [fields for kind, fields in s.pop_events() if kind == "pasha_top_budget"]
    assert len(rises) == 1 and (rises[0]["budget"], rises[0]["previous"]) == (16.0, 4.0)
    # compared at 4: c (0.325), a (0.40), one rung below 0.27, 0.20: both positions off by 0.07 > 0.0685
    assert (rises[0]["configs"], rises[0]["out_of_group"]) == (2, 2)
    assert rises[0]["largest_gap"] == pytest.approx(0.07) and rises[0]["epsilon"] == pytest.approx(0.0685)


def test_ranking_gaps_and_the_record_of_a_rise_by_hand():
    top = [("a", 1.0), ("b", 2.0), ("c", 3.0)]
    # one rung below: a 0.3, b 0.1, c 0.2 -> ascending 0.1, 0.2, 0.3; gaps |0.3 - 0.1|, |0.1 - 0.2|, |0.2 - 0.3|
    assert ranking_gaps(top, {"a": 0.3, "b": 0.1, "c": 0.2}) == pytest.approx([0.2, 0.1, 0.1])
    assert ranking_gaps(top[:2], {"a": float("inf"), "b": 0.1}) == [math.inf, math.inf]
    s = ProgressiveSchedule([1.0, 3.0, 9.0, 27.0], eta=3)
    for key, loss in (("a", 0.5), ("b", 0.2), ("c", 0.9), ("d", 0.1), ("e", 0.6), ("f", 0.7)):
        run_level(s, key, 0, loss)
    run_level(s, "b", 1, 0.3)
    assert run_level(s, "d", 1, 0.4)  # top rung b, d; below d 0.1 < b 0.2: gaps 0.1, 0.1 > epsilon 0
    assert s.rises == [{"level": 2, "configs": 2, "epsilon": 0.0, "out_of_group": 2,
                        "largest_gap": pytest.approx(0.1)}]


def write_pasha_journal(directory, last_report: bool):
    """The hand-computed run of test_a_report_that_lowers_epsilon_raises_the_top_level_at_once as a journal
    (ladder 1, 4, 16, eta 4): 12 results at budget 1, a and c at 4 with their reports, b at 4 running at the
    crash with its report at step 2 (and at step 3 if ``last_report``)."""
    from bandster.core.job import Job
    from bandster.records.journal import Journal

    def result(journal, k, budget, loss, finished):
        job = Job((0, 0, k), config={"x": k / 20}, budget=budget)
        job.timestamps = {"submitted": finished - 1, "started": finished - 1, "finished": finished}
        job.result = {"loss": loss, "info": {}}
        job.worker_name, job.attempt = "w", 1
        journal(job)

    losses = [0.20, 0.25, 0.27] + [0.9 + 0.005 * i for i in range(9)]
    with Journal(directory) as journal:
        journal.write_manifest({"HB_config": {"time_ref": 0.0, "min_budget": 1.0, "max_budget": 16.0, "eta": 4}})
        for k, loss in enumerate(losses):
            journal.new_config((0, 0, k), {"x": k / 20}, {})
            result(journal, k, 1.0, loss, float(k + 1))
        clock = 12.0
        for k, curve, loss in ((0, ((2, 0.30), (3, 0.36)), 0.40), (2, ((2, 0.28), (3, 0.40)), 0.325)):
            for step, value in curve:
                clock += 1
                journal.report((0, 0, k), 4.0, 1, float(step), value, None, "continue", clock)
            clock += 1
            result(journal, k, 4.0, loss, clock)
        for step, value in ((2, 0.34), (3, 0.39))[:2 if last_report else 1]:
            clock += 1
            journal.report((0, 0, 1), 4.0, 1, float(step), value, None, "continue", clock)


@pytest.mark.parametrize("last_report", [True, False])
def test_resume_takes_the_top_level_decisions_again_in_journal_order(tmp_path, last_report):
    import collections

    from bandster.records.result import logged_results_to_HBS_result

    write_pasha_journal(tmp_path, last_report)
    scheduler = PASHAScheduler(RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)}), seed=0), 1, 16, 4)
    requeued, counts = scheduler.replay(logged_results_to_HBS_result(tmp_path),
                                        collections.Counter({((0, 0, 1), 4.0): 1}))
    assert [(r.config_id, r.budget) for r in requeued] == [((0, 0, 1), 4.0)] and counts["runs"] == 14
    if last_report:  # as live: b's report at step 3 lowered epsilon to 0.0685 < 0.07, and the top rose
        assert scheduler.max_budget_now == 16.0 and scheduler.schedule.epsilon == pytest.approx(0.0685)
        assert [(r["level"], r["configs"], r["out_of_group"]) for r in scheduler.schedule.rises] == [(2, 2, 2)]
    else:  # epsilon 0.075 (a, c) when c's result came: the rankings agreed, and nothing since changed that;
        # results replayed before the reports would have compared with epsilon 0 and risen
        assert scheduler.max_budget_now == 4.0 and scheduler.schedule.epsilon == pytest.approx(0.075)
        assert scheduler.schedule.rises == []
    assert scheduler.schedule.curves[(0, 0, 1)] == ({1.0: 0.25, 2.0: 0.34, 3.0: 0.39} if last_report
                                                    else {1.0: 0.25, 2.0: 0.34})
