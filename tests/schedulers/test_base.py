"""The Scheduler base class: defaults, the initial design, ask/tell bookkeeping."""

import ConfigSpace as CS
import pytest

from bandster.core.job import Job
from bandster.samplers import InitialDesign, RandomSampling
from bandster.schedulers import Decision, HyperbandScheduler, JobRequest
from bandster.schedulers._base import job_from_request, positive_int, positive_number


def test_reports_continue_by_default():
    s = HyperbandScheduler(RandomSampling(CS.ConfigurationSpace({"x": (0.0, 1.0)})), 1, 3, 3)
    assert s.on_report(Job((0, 0, 0), config={}, budget=1.0), step=1, loss=0.5) is Decision.CONTINUE
    assert Decision("stop") is Decision.STOP


def test_initial_design_comes_first():
    space = CS.ConfigurationSpace({"x": (0.0, 1.0), "y": (0, 10)})
    s = HyperbandScheduler(RandomSampling(space, seed=0), 1, 3, 3,
                           initial_design=InitialDesign(space, [{"x": 0.25}]))
    s.grant(1)
    first = s.ask()
    assert first.config["x"] == 0.25 and first.config["y"] == space["y"].default_value
    assert first.config_info == {"model_based_pick": False, "initial_design": True}
    assert s.ask().config_info != first.config_info


def test_job_from_request_carries_attempt_and_kwargs():
    request = JobRequest((0, 0, 1), {"x": 1}, 3.0, attempt=2)
    job = job_from_request(request, working_directory="/w")
    assert job.id == (0, 0, 1) and job.attempt == 2 and job.kwargs == {"config": {"x": 1}, "budget": 3.0,
                                                                          "working_directory": "/w"}


@pytest.mark.parametrize("value", [0, -1, float("nan"), True, "3"])
def test_positive_number_names_the_argument(value):
    with pytest.raises(ValueError, match="max_budget_spent must be a positive number"):
        positive_number("max_budget_spent", value)


def test_positive_int():
    assert positive_int("max_configs", None) is None
    assert positive_int("n", 2) == 2
    with pytest.raises(ValueError, match="n_iterations must be an integer >= 1, got 0"):
        positive_int("n_iterations", 0, allow_none=False)
