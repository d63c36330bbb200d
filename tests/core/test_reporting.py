"""The job-side report interface: the thread-local reporter and the checks every backend applies."""

import math
import threading

import ConfigSpace as CS
import numpy as np
import pytest

from bandster.core import protocol
from bandster.core.job import Job
from bandster.core.reporting import (
    JobReporter,
    NullReporter,
    Reporter,
    check_report,
    current_reporter,
    deliver_reports,
    mark_stopped,
    reporting_arguments,
    reporting_to,
)
from bandster.schedulers._base import Decision


class Recording(Reporter):
    def __init__(self):
        self.reports = []

    def report(self, step, loss, info=None):
        self.reports.append(check_report(step, loss, info))
        return len(self.reports) >= 2

    def should_stop(self):
        return len(self.reports) >= 2


def test_outside_a_job_reports_are_checked_and_dropped():
    assert isinstance(current_reporter(), NullReporter)
    assert current_reporter().report(1, 0.5) is False
    assert current_reporter().should_stop() is False
    with pytest.raises(TypeError, match="step must be a finite number"):
        current_reporter().report("one", 0.5)


def test_the_installed_reporter_belongs_to_its_thread_and_nesting_restores():
    outer, inner = Recording(), Recording()
    seen_elsewhere = []
    with reporting_to(outer):
        assert current_reporter() is outer
        thread = threading.Thread(target=lambda: seen_elsewhere.append(current_reporter()), name="other")
        thread.start()
        thread.join()
        with reporting_to(inner):
            assert current_reporter() is inner
        assert current_reporter() is outer
        assert current_reporter().report(1, 0.3) is False
        assert current_reporter().report(2, 0.2, {"acc": 0.9}) is True
    assert isinstance(seen_elsewhere[0], NullReporter)
    assert isinstance(current_reporter(), NullReporter)
    assert outer.reports == [(1.0, 0.3, None), (2.0, 0.2, {"acc": 0.9})]


def test_check_report_converts_and_names_the_problem():
    assert check_report(np.int64(3), np.float32(0.25)) == (3.0, 0.25, None)
    step, loss, _ = check_report(1, float("nan"))
    assert math.isnan(loss)
    with pytest.raises(ValueError, match="must be > 0"):
        check_report(0, 1.0)
    with pytest.raises(TypeError, match="finite number"):
        check_report(float("inf"), 1.0)
    with pytest.raises(TypeError, match="finite number"):
        check_report(True, 1.0)
    with pytest.raises(TypeError, match="loss must be a number"):
        check_report(1, "low")
    with pytest.raises(TypeError, match="info must be None or a dict"):
        check_report(1, 1.0, [1, 2])


# ---------------------------------------------------------------------------------------------------- JobReporter
class Master:
    """A send function that stops the job at the steps in ``stop_at`` (as a runner's answer would)."""

    def __init__(self, stop_at=()):
        self.calls, self.stop_at = [], set(stop_at)

    def __call__(self, reports, wait):
        self.calls.append(([r[0] for r in reports], wait))
        return any(r[0] in self.stop_at for r in reports)


def test_a_report_at_a_decision_step_waits_and_returns_the_answer_on_that_report():
    master = Master(stop_at={3})
    reporter = JobReporter(master, decision_steps=[1, 3, 9], batch_interval=3600)
    assert [reporter.report(s, 1.0 / s) for s in (1, 2, 2.5, 3)] == [False, False, False, True]
    # step 1 crossed the first level; 2 and 2.5 waited (the interval had not passed); 3 took them along
    assert master.calls == [([1.0], True), ([2.0, 2.5, 3.0], True)]
    assert reporter.stopped and reporter.stopped_at == 3.0


def test_a_report_that_jumps_over_several_levels_decides_once():
    master = Master()
    reporter = JobReporter(master, decision_steps=[1, 3, 9], batch_interval=3600)
    reporter.report(4, 0.5)  # crosses 1 and 3
    reporter.report(5, 0.5)  # no level: waits
    reporter.report(9.0000000001, 0.5)  # 9 within the rounding tolerance of StoppingRungs.crossed... and beyond
    assert master.calls == [([4.0], True), ([5.0, 9.0000000001], True)]


def test_without_decision_steps_every_report_is_sent_and_close_sends_what_waits():
    master = Master()
    every = JobReporter(master, decision_steps=None, batch_interval=3600)
    every.report(1, 0.1)
    every.report(2, 0.1)
    assert master.calls == [([1.0], True), ([2.0], True)]
    master.calls.clear()
    none = JobReporter(master, decision_steps=[], batch_interval=3600)
    none.report(1, 0.1)  # the first report goes at once (nothing was sent for an interval)
    none.report(2, 0.1)
    none.report(3, 0.1)
    assert master.calls == [([1.0], False)]
    none.close()
    assert master.calls == [([1.0], False), ([2.0, 3.0], False)]


def test_reports_after_the_stop_are_not_sent_and_are_logged(caplog):
    master = Master(stop_at={1})
    reporter = JobReporter(master)
    assert reporter.report(1, 0.5) is True
    with caplog.at_level("INFO", logger="bandster.core.reporting"):
        assert reporter.report(2, 0.4) is True
        assert reporter.should_stop() is True
    assert master.calls == [([1.0], True)]
    assert "report at step 2 ignored: the job was told to stop at step 1" in caplog.text
    reporter.close()
    assert master.calls == [([1.0], True)]


def test_should_stop_asks_the_master_with_the_reports_that_wait():
    master = Master(stop_at={2})
    reporter = JobReporter(master, decision_steps=[5], batch_interval=3600)
    reporter.report(1, 0.5)
    reporter.report(2, 0.5)
    assert reporter.should_stop() is True
    assert master.calls == [([1.0], False), ([2.0], True)]


def test_info_is_converted_to_builtins_before_it_leaves():
    master = Master()
    sent = []
    reporter = JobReporter(lambda reports, wait: sent.extend(reports) or master(reports, wait))
    reporter.report(np.int64(2), np.float32(0.5), {"acc": np.float64(0.9), "n": np.arange(2)})
    assert sent == [[2.0, 0.5, {"acc": 0.9, "n": [0, 1]}]]
    assert type(sent[0][2]["acc"]) is float


def test_report_arguments_only_for_objectives_that_name_them():
    assert reporting_arguments({"config", "budget"}) == {}
    assert reporting_arguments({"config", "budget", protocol.ANY}) == {}
    assert reporting_arguments(None) == {}
    given = reporting_arguments({"config", "budget", "report", "should_stop"})
    with reporting_to(Recording()) as recording:
        assert given["report"](1, 0.5) is False and given["report"](2, 0.5) is True
        assert given["should_stop"]() is True
    assert [r[0] for r in recording.reports] == [1.0, 2.0]


# ---------------------------------------------------------------------------------------------------- master side
def test_deliver_reports_stops_on_stop_and_pause_and_ignores_what_follows(caplog):
    answers = {2.0: Decision.STOP}
    seen = []

    def job_report(job, step, loss, info):
        seen.append(step)
        return answers.get(step, Decision.CONTINUE)

    job = Job((0, 0, 1), config={}, budget=9.0)
    assert deliver_reports(job_report, job, [[1.0, 0.5, None]]) is False
    with caplog.at_level("INFO", logger="bandster.core.reporting"):
        assert deliver_reports(job_report, job, [[2.0, 0.4, None], [3.0, 0.3, None]]) is True
    assert seen == [1.0, 2.0] and job.stop_step == 2.0 and job.last_step == 2.0
    assert "report of job (0, 0, 1) at step 3.0 ignored: the job was told to stop at step 2.0" in caplog.text
    job.result = {"loss": 0.4, "info": {}}
    mark_stopped(job)
    assert job.result["stopped_at"] == 2.0

    paused = Job((0, 0, 2), config={}, budget=9.0)
    assert deliver_reports(lambda *a: Decision.PAUSE, paused, [[1.0, 0.5, None]]) is True
    paused.result = None  # a failed run stays failed
    mark_stopped(paused)
    assert paused.result is None


def test_a_cancelled_job_stops_at_its_next_report_which_is_still_delivered():
    seen = []
    job = Job((0, 0, 1), config={}, budget=9.0)
    job.cancelled = True
    assert deliver_reports(lambda j, step, loss, info: seen.append(step) or Decision.CONTINUE, job,
                           [[4.0, 0.5, None]]) is True
    assert seen == [4.0] and job.stop_step == 4.0

    asked = Job((0, 0, 2), config={}, budget=9.0)
    assert deliver_reports(lambda *a: Decision.CONTINUE, asked, [[2.0, 0.5, None]]) is False
    asked.cancelled = True
    assert deliver_reports(lambda *a: Decision.CONTINUE, asked, []) is True  # should_stop() after cancel
    assert asked.stop_step == 2.0


def test_the_default_decision_steps():
    from bandster.samplers import RandomSampling
    from bandster.schedulers import MedianStoppingScheduler, RandomSearchScheduler, StoppingASHAScheduler

    cs = CS.ConfigurationSpace({"x": (0.0, 1.0)})
    job = Job((0, 0, 0), config={}, budget=9.0)
    assert RandomSearchScheduler(RandomSampling(cs), 1, 9, 3).decision_steps(job) == []  # never decides
    assert MedianStoppingScheduler(RandomSampling(cs), 9).decision_steps(job) is None  # any step
    asha = StoppingASHAScheduler(RandomSampling(cs), 1, 9, 3)
    request = asha.ask()
    assert asha.decision_steps(Job(request.config_id, config={}, budget=9.0)) == [1.0, 3.0]
