"""Stopping-type ASHA and asynchronous Hyperband: the rule and the accounting, by hand
(bandster/schedulers/stopping.py)."""

import math

import ConfigSpace as CS
import pytest

from bandster.core.job import Job
from bandster.samplers import RandomSampling
from bandster.schedulers import Decision, StoppingASHAScheduler
from bandster.schedulers._base import job_from_request
from bandster.schedulers.asha import bracket_weights, hyperband_budget
from bandster.schedulers.stopping import StoppingRungs, num_to_continue, stopping_levels

C, S = Decision.CONTINUE, Decision.STOP


def scheduler(max_budget=27, n_brackets=1):
    sampler = RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), seed=0)
    return StoppingASHAScheduler(sampler, 1, max_budget, 3, n_brackets=n_brackets)


def report(s, request, step, loss):
    return s.on_report(job_from_request(request), step, loss)


def finish(s, request, loss, **extra):
    job = job_from_request(request)
    job.result = {"loss": loss, "info": {}, **extra}
    s.on_result(job)


def test_levels_and_ceil():
    assert stopping_levels(1, 27, 3) == [1.0, 3.0, 9.0]
    assert stopping_levels(2, 27, 3) == [2.0, 6.0, 18.0]  # anchored at min_budget, below max_budget
    assert [num_to_continue(n, 3) for n in (1, 2, 3, 4, 6, 7, 9, 10)] == [1, 1, 1, 2, 2, 3, 3, 4]
    assert num_to_continue(5, 2.5) == 2


def test_rule_by_hand():
    rungs = StoppingRungs([1, 3], eta=3)
    # n=1: ceil(1/3)=1, 0 better -> on; n=2: 1 kept, 0.2 has 0 better -> on; n=3: 0.9 has 2 better -> off;
    # n=4: ceil(4/3)=2 kept, 0.3 has 1 better -> on; n=5: 2 kept, 0.25 has 1 better (0.2) -> on;
    # n=6: 2 kept, 0.3 ties with 0.3 and has 2 better (0.2, 0.25) -> off
    decisions = [rungs.record(0, k, v) for k, v in
                 [("a", 0.5), ("b", 0.2), ("c", 0.9), ("d", 0.3), ("e", 0.25), ("f", 0.3)]]
    assert decisions == [True, True, False, True, True, False]
    assert rungs.values(0) == [0.2, 0.25, 0.3, 0.3, 0.5, 0.9]
    # ties rank alike: two equal values on a fresh rung both continue
    assert rungs.record(1, "a", 0.4) and rungs.record(1, "b", 0.4)
    with pytest.raises(ValueError, match="already has a value"):
        rungs.record(1, "a", 0.1)


def test_non_finite_loss_stops():
    rungs = StoppingRungs([1], eta=3)
    assert not rungs.record(0, "a", float("nan"))
    assert not rungs.record(0, "b", None)
    assert rungs.record(0, "c", 5.0)  # infinities rank last
    assert rungs.values(0) == [5.0, math.inf, math.inf]


def test_reports_drive_the_rungs_by_hand():
    s = scheduler()  # levels 1, 3, 9; max 27
    s.grant(3)
    a, b, c, d = (s.ask() for _ in range(4))
    assert [r.budget for r in (a, b, c, d)] == [27.0] * 4
    assert [r.config_id for r in (a, b, c, d)] == [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 0, 3)]
    assert report(s, a, 1, 0.5) is C          # rung 1: [0.5]
    assert report(s, a, 2, 0.45) is C         # between rungs: no decision
    assert report(s, b, 1, 0.2) is C          # rung 1: n=2, keep 1, 0 better
    assert report(s, c, 1, 0.9) is S          # n=3, keep 1, 2 better
    assert report(s, c, 2, 0.1) is S          # a report after STOP is ignored (STOP again)
    assert report(s, d, 1, 0.3) is C          # n=4, keep 2, 1 better
    # a jumps from step 2 to 10: recorded at rungs 3 and 9 (both first there): continue
    assert report(s, a, 10, 0.4) is C
    assert s.rung_sizes() == [[4, 1, 1]]
    # b reports step 3 with 0.45: rung 3 holds [0.4, 0.45], keep 1, 1 better -> stop
    assert report(s, b, 3, 0.45) is S
    # d reports step 9 with 0.35: rung 3 n=3 keep 1 (0.35 best) -> on; rung 9 n=2 keep 1, 0.35 < 0.4 -> on
    assert report(s, d, 9, 0.35) is C
    assert s.rung_sizes() == [[4, 3, 2]]
    assert s.jobs[(0, 0, 1)].stopped_at == 3.0 and s.jobs[(0, 0, 2)].stopped_at == 1.0


def test_ask_tell_budget_accounting_by_hand():
    s = scheduler(max_budget=9)  # levels 1, 3
    s.grant(1)  # limit: one Hyperband iteration on 1, 3, 9 = 27
    assert s.budget_limit_value == hyperband_budget(1, 1, 9, 3) == 27.0
    a, b, c = s.ask(), s.ask(), s.ask()  # charged 3 x 9 = 27: nothing more starts
    with pytest.raises(RuntimeError, match="nothing to evaluate"):
        s.ask()
    assert report(s, a, 1, 0.5) is C and report(s, b, 1, 0.2) is C and report(s, c, 1, 0.9) is S
    s.tell(c, {"loss": 0.9, "info": {}})  # consumed 1; charged 9 + 9 + 1 = 19
    assert s.consumed == 1.0 and s.budget_charged == 19.0
    d = s.ask()  # 19 < 27
    assert d.config_id == (0, 0, 3)
    s.tell(a, 0.3)  # ran to the end: consumed 9
    s.tell(b, 0.1)
    assert s.consumed == 19.0 and s.budget_charged == 28.0 and not s.is_done()
    s.tell(d, None)  # failed without reports: its full budget
    assert s.consumed == 28.0 and s.is_done()


def test_failed_job_with_reports_consumes_its_last_step():
    s = scheduler(max_budget=9)
    s.grant(1)
    a = s.ask()
    report(s, a, 1, 0.5)
    report(s, a, 2, 0.4)
    finish(s, a, float("nan"))
    assert s.consumed == 2.0


def test_sampler_gets_rung_values_not_stopped_finals():
    fed = []

    class Recorder(RandomSampling):
        def new_result(self, job, update_model=True):
            fed.append((job.id, job.kwargs["budget"], job.result["loss"]))

    s = StoppingASHAScheduler(Recorder(CS.ConfigurationSpace({"x": (0.0, 1.0)}), seed=0), 1, 9, 3)
    s.grant(1)
    a, b = s.ask(), s.ask()
    report(s, a, 1, 0.5)
    report(s, b, 1, 0.7)  # n=2, keep 1: stop
    finish(s, b, 0.7, stopped_at=1)
    report(s, a, 3, 0.3)
    finish(s, a, 0.2)
    assert fed == [((0, 0, 0), 1.0, 0.5), ((0, 0, 1), 1.0, 0.7), ((0, 0, 0), 3.0, 0.3), ((0, 0, 0), 9.0, 0.2)]


def test_brackets_have_their_own_grace_periods():
    s = scheduler(max_budget=27, n_brackets=3)  # grace periods 1, 3, 9
    assert [r.levels for r in s.rungs] == [[1.0, 3.0, 9.0], [3.0, 9.0], [9.0]]
    assert s.weights == bracket_weights(4, 3, 3) == [27, 9, 6]
    s.grant(5)
    requests = [s.ask() for _ in range(5)]
    # choose_bracket, weights 27, 9, 6 (sum 42), shortfalls w * (N + 1) - count * 42:
    # N=0: 27, 9, 6 -> 0; N=1: 12, 18, 12 -> 1; N=2: 39, -15, 18 -> 0; N=3: 24, -6, 24 -> 0 (tie: lower);
    # N=4: 9, 3, 30 -> 2
    assert [r.config_id[0] for r in requests] == [0, 1, 0, 0, 2]
    one = requests[1]
    assert report(s, one, 1, 9.9) is C and report(s, one, 2, 9.9) is C  # bracket 1 decides first at 3
    assert report(s, one, 3, 9.9) is C  # first at its rung 3
    assert s.rung_sizes() == [[0, 0, 0], [1, 0], [0]]


def test_unknown_and_odd_reports():
    s = scheduler()
    s.grant(1)
    a = s.ask()
    assert s.on_report(Job((0, 0, 99), config={}, budget=27.0), 1, 0.1) is S
    assert report(s, a, "x", 0.1) is C
    assert report(s, a, 2, 0.1) is C
    assert report(s, a, 1, 0.1) is C  # a decreasing step is ignored
    assert s.jobs[(0, 0, 0)].steps == [2.0]


def test_n_brackets_is_checked():
    with pytest.raises(ValueError, match="n_brackets must be an integer between 1 and the number of rung levels"):
        scheduler(max_budget=9, n_brackets=3)
