"""The job-side report interface: the thread-local reporter and the checks every backend applies."""

import math
import threading

import numpy as np
import pytest

from bandster.core.reporting import NullReporter, Reporter, check_report, current_reporter, reporting_to


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
