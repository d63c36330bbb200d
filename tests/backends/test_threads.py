"""ThreadBackend: exact runs per budget with real optimizers, runner and journal; optional arguments; bad returns
recorded with the Pyro backend's texts; job_timeout with a thread that cannot be killed."""

import json
import os
import threading
import time

import ConfigSpace as CS
import pytest

from bandster.backends import ThreadBackend
from bandster.core.job import Job
from bandster.core.protocol import check_result
from bandster.optimizers import HyperBand
from bandster.schedulers._base import Decision
from bandster.schedulers.brackets import hyperband_iteration


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def events(opt):
    with open(os.path.join(opt.journal.directory, "events.json")) as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def make(tmp_path, run_id, no_thread_leak):
    made = []

    def _make(objective, n_workers=2, backend_cls=ThreadBackend, **kwargs):
        opt = HyperBand(configspace=space(), run_id=run_id, min_budget=1, max_budget=9, eta=3, seed=0,
                        working_directory=str(tmp_path), backend=backend_cls(n_workers, objective), **kwargs)
        made.append(opt)
        return opt

    yield _make
    for opt in made:
        opt.shutdown()


def test_hyperband_runs_every_planned_job_on_named_threads(make):
    opt = make(lambda config, budget: {"loss": config["x"] / budget, "info": {"b": budget}})
    result = opt.run(n_iterations=1, progress=False)
    runs = result.get_all_runs()
    ns, budgets = hyperband_iteration(0, 1, 9, 3)
    assert sorted(r.budget for r in runs) == sorted(b for n, b in zip(ns, budgets, strict=True) for _ in range(n))
    assert all(r.loss is not None and r.worker_name in ("thread-0", "thread-1") for r in runs)
    assert sum(e["event"] == "dispatch" for e in events(opt)) == len(runs)
    manifest = json.load(open(os.path.join(opt.journal.directory, "run.json")))
    assert manifest["backend"]["name"] == "threads" and manifest["backend"]["n_workers"] == 2


def test_objective_gets_only_the_arguments_it_names(make):
    seen = []

    def objective(config, budget, config_directory, previous_budget):
        seen.append((budget, previous_budget, os.path.isdir(config_directory)))
        return {"loss": config["x"], "info": {}}

    make(objective).run(n_iterations=1, progress=False)
    assert all(created for _, _, created in seen)
    assert {(b, p) for b, p, _ in seen} >= {(1.0, None), (3.0, 1.0), (9.0, 3.0)}


@pytest.mark.parametrize("value", [None, "0.5", {"info": {}}, {"loss": "high"}])
def test_bad_returns_fail_with_the_texts_of_the_pyro_backend(make, value):
    result = make(lambda config, budget: value, n_workers=1).run(n_iterations=1, progress=False)
    expected = check_result(value)[1]
    assert {r.error_logs for r in result.get_all_runs()} == {expected}


def test_an_exception_is_a_failed_run_with_its_traceback(make):
    def objective(config, budget):
        raise SystemExit("the objective called sys.exit")

    result = make(objective, n_workers=1).run(n_iterations=1, progress=False)
    assert all("SystemExit: the objective called sys.exit" in r.error_logs for r in result.get_all_runs())


def test_job_timeout_fails_the_job_and_the_slot_goes_on(make):
    def objective(config, budget):
        if budget == 9:
            time.sleep(1.0)  # overruns its limit; the thread finishes in the background
        return {"loss": config["x"], "info": {}}

    opt = make(objective, job_timeout=lambda budget: 0.2 if budget == 9 else None)
    result = opt.run(n_iterations=1, progress=False)
    failed = [r for r in result.get_all_runs() if r.error_logs]
    assert [r.budget for r in failed] == [9.0]
    assert "TimeoutError: the job exceeded its job_timeout of 0.2 s" in failed[0].error_logs
    assert any(e["event"] == "worker_retired" and e["reason"] == "job_timeout" for e in events(opt))
    assert len(result.get_all_runs()) == 13


def test_a_shut_down_backend_takes_no_jobs_and_n_workers_is_zero(make):
    opt = make(lambda config, budget: {"loss": 0.0, "info": {}})
    opt.run(n_iterations=1, progress=False)
    opt.shutdown()
    assert opt.backend.n_workers == 0
    with pytest.raises(ValueError, match="n_workers must be an integer"):
        ThreadBackend(0, lambda config, budget: 0.0)


# ---------------------------------------------------------------------------------------------------- reports
def curve(config, budget, report, should_stop):
    """Reports x + 1/step every step; says at which step report() first answered True."""
    told, loss = None, None
    for step in range(1, int(budget) + 1):
        loss = config["x"] + 1.0 / step
        if report(step, loss, {"step": step}):
            told = step
            break
    return {"loss": loss, "info": {"told": told, "should_stop": should_stop()}}


def stopped_events(opt):
    return {(tuple(e["config_id"]), e["step"]) for e in events(opt) if e["event"] == "job_stopped"}


def check_stops(opt, result):
    """report() returned True on the very report at which the scheduler stopped the job, and the run says so."""
    told = {(r.config_id, float(r.info["told"])) for r in result.get_all_runs() if r.info["told"] is not None}
    assert told and told == stopped_events(opt)
    for run in result.get_all_runs():
        assert run.info["should_stop"] is (run.info["told"] is not None)


def test_stopping_asha_stops_thread_jobs_on_the_report_that_crossed_the_rung(tmp_path, run_id, no_thread_leak):
    from bandster.optimizers import ASHA

    opt = ASHA(configspace=space(), run_id=run_id, min_budget=1, max_budget=9, eta=3, type="stopping", seed=0,
               working_directory=str(tmp_path), backend=ThreadBackend(2, curve))
    result = opt.run(n_iterations=2, progress=False)
    opt.shutdown()
    check_stops(opt, result)
    # the backend marked each stopped job's result (stopped_at): it is recorded as stopped at that step
    marked = {(r.config_id, r.stopped_at) for r in result.get_all_runs() if r.status == "stopped"}
    assert marked == stopped_events(opt)


class Listener:
    """A runner stand-in that records what a backend tells it (every report continues)."""

    def __init__(self):
        self.reports, self.finished, self.done = [], [], threading.Event()

    def job_finished(self, job):
        self.finished.append(job)
        self.done.set()

    def workers_changed(self, n):
        pass

    def job_report(self, job, step, loss, info=None):
        self.reports.append((job.id, step))
        return Decision.CONTINUE

    def backend_event(self, kind, **fields):
        pass


def test_cancel_stops_a_running_job_at_its_next_report_and_later_reports_are_ignored(caplog, no_thread_leak):
    reported, go, answers = threading.Event(), threading.Event(), []

    def objective(config, budget, report):
        answers.append(report(1, 0.9))
        reported.set()
        go.wait(60)
        answers.append(report(2, 0.8))
        answers.append(report(3, 0.7))
        return {"loss": 0.7, "info": {}}

    backend, listener = ThreadBackend(1, objective), Listener()
    backend.start(listener)
    job = Job((0, 0, 0), config={}, budget=9.0)
    assert backend.cancel(job) is False  # not running yet
    backend.submit(job)
    assert reported.wait(60)
    assert backend.cancel(job) is True
    with caplog.at_level("INFO", logger="bandster.core.reporting"):
        go.set()
        assert listener.done.wait(60)
    backend.shutdown()
    assert answers == [False, True, True]
    assert listener.reports == [((0, 0, 0), 1.0), ((0, 0, 0), 2.0)]
    assert job.result == {"loss": 0.7, "info": {}, "stopped_at": 2.0}
    assert "ignored: the job was told to stop at step 2" in caplog.text


def test_reports_of_a_timed_out_job_are_ignored_and_it_is_told_to_stop(caplog, no_thread_leak):
    go, answers, returned = threading.Event(), [], threading.Event()

    def objective(config, budget, report):
        go.wait(60)
        answers.append(report(1, 0.5))
        returned.set()
        return {"loss": 0.5, "info": {}}

    backend, listener = ThreadBackend(1, objective), Listener()
    backend.start(listener)
    job = Job((0, 0, 0), config={}, budget=9.0)
    job.timeout = 0.1
    backend.submit(job)
    assert listener.done.wait(60)
    assert "TimeoutError" in job.exception
    with caplog.at_level("INFO", logger="bandster.backends._pool"):
        go.set()
        assert returned.wait(60)
    backend.shutdown()
    assert answers == [True] and listener.reports == []
    assert "reports of job (0, 0, 0) (attempt 1, steps [1.0]) ignored: that attempt is no longer running" in caplog.text
