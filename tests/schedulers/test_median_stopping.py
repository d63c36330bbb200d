"""The median stopping rule by hand (bandster/schedulers/median_stopping.py)."""

import collections

import ConfigSpace as CS
import pytest

from bandster.samplers import RandomSampling
from bandster.schedulers import Decision, MedianStoppingScheduler
from bandster.schedulers._base import job_from_request
from bandster.schedulers.median_stopping import MedianStoppingRule


def test_rule_by_hand():
    rule = MedianStoppingRule(grace_period=2, min_samples_required=2)
    curves = {"a": [1.0, 0.8, 0.6, 0.5], "b": [1.2, 0.6, 0.4, 0.3], "c": [2.0, 1.0]}
    for key, curve in curves.items():
        for step, loss in enumerate(curve, start=1):
            rule.add(key, step, loss)
    # step 1 is inside the grace period
    rule.add("d", 1, 5.0)
    assert not rule.should_stop("d", 1)
    # step 2: peers a, b, c (latest step >= 2); averages over steps 2..2: 0.8, 0.6, 1.0 -> median 0.8
    rule.add("d", 2, 0.85)
    assert rule.peers(2, exclude="d") == ["a", "b", "c"]
    assert rule.median(2, exclude="d") == pytest.approx(0.8)
    assert rule.should_stop("d", 2)  # best 0.85 > 0.8
    # step 3: peers a, b; averages over steps 2..3: 0.7, 0.5 -> median 0.6; best so far 0.6: not strictly worse
    rule.add("d", 3, 0.6)
    assert rule.median(3, exclude="d") == pytest.approx(0.6)
    assert not rule.should_stop("d", 3)
    # step 4: peers a, b: averages 2..4: (0.8+0.6+0.5)/3, (0.6+0.4+0.3)/3 -> median 0.5333; best 0.6 > it
    rule.add("d", 4, 0.7)
    assert rule.median(4, exclude="d") == pytest.approx((1.9 / 3 + 1.3 / 3) / 2)
    assert rule.should_stop("d", 4)
    # step 5: only d has reached it: too few peers
    rule.add("d", 5, 0.9)
    assert rule.median(5, exclude="d") is None and not rule.should_stop("d", 5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="grace_period"):
        MedianStoppingRule(grace_period=-1)
    with pytest.raises(ValueError, match="min_samples_required"):
        MedianStoppingRule(min_samples_required=0)


def test_scheduler_by_hand_through_ask_and_tell():
    s = MedianStoppingScheduler(RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)}), seed=0), max_budget=3,
                                grace_period=1, min_samples_required=1, configs_per_iteration=2)
    s.grant(1)  # limit 1 x 2 x 3 = 6
    assert s.budget_limit_value == 6.0
    a, b = s.ask(), s.ask()
    with pytest.raises(RuntimeError):
        s.ask()  # charged 6
    ja, jb = job_from_request(a), job_from_request(b)
    assert s.on_report(ja, 1, 0.5) is Decision.CONTINUE  # no peer yet
    assert s.on_report(jb, 1, 0.4) is Decision.CONTINUE  # 0.4 < median(0.5)
    assert s.on_report(ja, 2, 0.45) is Decision.CONTINUE  # no peer at step 2 yet
    # b at step 2: peer a (steps 1..2 average 0.475); b's best so far 0.4: continue
    assert s.on_report(jb, 2, 0.48) is Decision.CONTINUE
    # a at step 3: no peer has reached 3; b at 3: peer a, average (0.5+0.45+0.3)/3 = 0.4167 < best 0.4? no: 0.4 < 0.4167
    assert s.on_report(ja, 3, 0.3) is Decision.CONTINUE
    assert s.on_report(jb, 3, 0.6) is Decision.CONTINUE
    s.tell(a, 0.3)
    s.tell(b, 0.6)
    assert s.consumed == 6.0 and s.is_done()
    s.grant(1)  # limit 12
    c = s.ask()
    jc = job_from_request(c)
    # c at step 1: peers a, b (latest 3 >= 1): averages at 1: 0.5, 0.4 -> median 0.45; 0.7 > 0.45: stop
    assert s.on_report(jc, 1, 0.7) is Decision.STOP
    s.tell(c, 0.7)
    assert s.consumed == 7.0
    assert [s.ask().config_id for _ in range(1)] == [(0, 0, 3)]


def test_replay_restores_the_curves_from_the_journaled_reports(tmp_path):
    """resume=True: the reports of the finished jobs are recorded again, so a new job is judged against them; the
    reports of a job without a result (running at the crash) are not, and a stopped job counts its step."""
    from bandster.core.job import Job
    from bandster.records.journal import Journal
    from bandster.records.result import logged_results_to_HBS_result

    with Journal(tmp_path) as journal:
        journal.write_manifest({"HB_config": {"time_ref": 0.0, "max_budget": 4.0}})
        curves = {(0, 0, 0): ([0.5, 0.4, 0.3, 0.2], None), (0, 0, 1): ([0.6, 0.9], 2.0), (0, 0, 2): ([0.1], "run")}
        for cid, (losses, end) in curves.items():
            journal.new_config(cid, {"x": 0.5}, {})
            for step, loss in enumerate(losses, start=1):
                decision = "stop" if end == 2.0 and step == 2 else "continue"
                journal.report(cid, 4.0, 1, float(step), loss, None, decision, float(step))
            if end != "run":
                job = Job(cid, config={"x": 0.5}, budget=4.0)
                job.timestamps = {"submitted": 0.0, "started": 0.0, "finished": float(len(losses))}
                job.result = {"loss": losses[-1], "info": {}}
                if end is not None:
                    job.result["stopped_at"] = end
                journal(job)
    result = logged_results_to_HBS_result(tmp_path)
    space = CS.ConfigurationSpace({"x": (0.0, 1.0)})
    scheduler = MedianStoppingScheduler(RandomSampling(space, seed=0), max_budget=4, grace_period=1,
                                        min_samples_required=2)
    requeued, counts = scheduler.replay(result, collections.Counter())
    assert [r.config_id for r in requeued] == [(0, 0, 2)]
    assert counts["reports"] == 6 and counts["runs"] == 2
    assert scheduler.jobs[(0, 0, 1)].stopped_at == 2.0 and scheduler.consumed == 4.0 + 2.0
    # peers at step 1: (0, 0, 0) and (0, 0, 1) only (the requeued job's 0.1 is not there): median(0.5, 0.6)
    assert scheduler.rule.median(1, exclude=(0, 0, 2)) == pytest.approx(0.55)
    scheduler.grant(1)
    assert scheduler.on_report(job_from_request(requeued[0]), 1, 0.7) is Decision.STOP  # 0.7 > 0.55
