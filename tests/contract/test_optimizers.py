"""One contract, every optimizer, every backend: the same checks for RandomSearch, HyperBand, BOHB, ASHA,
AsyncHyperBand, AsyncBOHB and PASHA, on bandster's Pyro runtime (a real name server and a thread worker), on the
simulated backend (virtual clock), on a ThreadBackend and on a ProcessBackend (a real child process); and for the
stopping-type optimizers (ASHA, AsyncHyperBand and AsyncBOHB with type="stopping", MedianStopping) on the simulated
backend with objectives that report every step, and on the Pyro, thread and process backends with objectives that
report through Worker.report or their report argument."""

import collections
import os
import pickle

import ConfigSpace as CS
import pytest

from bandster import optimizers
from bandster.core.result import logged_results_to_HBS_result
from bandster.core.worker import Worker
from bandster.schedulers import brackets
from bandster.schedulers.asha import hyperband_budget

from toy_workers import QuadraticWorker

SYNC = ["RandomSearch", "HyperBand", "BOHB"]
ASYNC = ["ASHA", "AsyncHyperBand", "AsyncBOHB", "PASHA"]  # PASHA is promotion-type: no reports needed
BACKENDS = ["pyro", "simulated", "threads", "processes"]
LADDER = {"min_budget": 1, "max_budget": 9, "eta": 3}


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0)


def objective(config, budget):
    return {"loss": (config["x"] - 0.3) ** 2 + config["y"] / 10 + 1.0 / budget, "info": {"budget": budget},
            "cost": budget}


class Setup:
    """Makes optimizers of one kind on one backend (one worker: every run is deterministic)."""

    def __init__(self, name, backend, request, tmp_path, run_id):
        self.name, self.backend, self.tmp_path, self.run_id = name, backend, tmp_path, run_id
        self.made = []
        if backend == "pyro":
            ns = request.getfixturevalue("nameserver")
            self.ns = ns
            self.worker = QuadraticWorker(run_id=run_id, nameserver=ns.host, nameserver_port=ns.port)
            self.worker.run(background=True)

    def make(self, **kwargs):
        cls = getattr(optimizers, self.name)
        if self.backend == "pyro":
            kwargs.update(nameserver=self.ns.host, nameserver_port=self.ns.port)
        elif self.backend == "simulated":
            from bandster.backends import SimulatedBackend

            kwargs["backend"] = SimulatedBackend(1, objective)
        elif self.backend == "threads":
            from bandster.backends import ThreadBackend

            kwargs["backend"] = ThreadBackend(1, objective)
        else:
            from bandster.backends import ProcessBackend

            # forked: a forkserver child imports this test module (and through it Pyro and the optimizers) again,
            # seconds per test on a loaded machine; tests/backends/test_processes.py covers the default method
            kwargs["backend"] = ProcessBackend(1, objective, start_method="fork")
        opt = cls(configspace=space(), run_id=self.run_id, working_directory=str(self.tmp_path), seed=1,
                  **LADDER, **kwargs)
        self.made.append(opt)
        return opt

    def close(self):
        for i, opt in enumerate(self.made):
            opt.shutdown(shutdown_workers=self.backend == "pyro" and i == len(self.made) - 1)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def setup(request, backend, tmp_path, run_id):
    name = request.node.callspec.params["name"]
    s = Setup(name, backend, request, tmp_path, run_id)
    yield s
    s.close()


def planned_counts(name, n_iterations):
    counts = collections.Counter()
    for i in range(n_iterations):
        if name == "RandomSearch":
            ns, budgets = [brackets.random_search_num_configs(1, 9, 3)], [9.0]
        else:
            ns, budgets = brackets.hyperband_iteration(i, 1, 9, 3)
        for n, b in zip(ns, budgets, strict=True):
            counts[(i, b)] += n
    return dict(counts)


def counts(result):
    return dict(collections.Counter((r.config_id[0], r.budget) for r in result.get_all_runs()))


def check_async_budget(result, n_iterations):
    started = [r.budget for r in sorted(result.get_all_runs(), key=lambda r: r.time_stamps["submitted"])]
    limit = hyperband_budget(n_iterations, 1, 9, 3)
    assert sum(started[:-1]) < limit <= sum(started)  # one worker: jobs start while less than the limit started
    keys = [(r.config_id, r.budget) for r in result.get_all_runs()]
    assert len(keys) == len(set(keys))  # no job twice


@pytest.mark.parametrize("name", SYNC + ASYNC)
def test_runs_per_budget_and_journal_round_trip(setup, name):
    opt = setup.make()
    result = opt.run(n_iterations=2, progress=False)
    if name in SYNC:
        assert counts(result) == planned_counts(name, 2)
    else:
        check_async_budget(result, 2)
    assert all(r.loss is not None for r in result.get_all_runs())
    directory = opt.journal.directory
    assert logged_results_to_HBS_result(directory) == result
    with open(os.path.join(directory, "results.pkl"), "rb") as fh:
        assert pickle.load(fh) == result
    if name == "PASHA" and max(r.budget for r in result.get_all_runs()) < 9:
        # HpBandSter's incumbent is the best run on max_budget; PASHA reaches max_budget only when the rankings
        # keep changing, so its answer is the best run on the largest budget it reached
        assert opt.scheduler.max_budget_now < 9
    else:
        assert result.get_incumbent_id() is not None


@pytest.mark.parametrize("name", SYNC + ASYNC)
def test_resume_after_stopping_mid_run(setup, name):
    first = setup.make()
    partial = first.run(n_iterations=3, progress=False, max_budget_spent=30)
    assert 0 < len(partial.get_all_runs())
    first.shutdown()
    second = setup.make(resume=True)
    result = second.run(n_iterations=3, progress=False)  # counts the run's total
    assert second.journal.directory == first.journal.directory
    if name in SYNC:
        assert counts(result) == planned_counts(name, 3)
    else:
        check_async_budget(result, 3)
    finished_first = {(r.config_id, r.budget): r.loss for r in partial.get_all_runs()}
    after = {(r.config_id, r.budget): r.loss for r in result.get_all_runs()}
    assert all(after[key] == loss for key, loss in finished_first.items())  # nothing finished was run again


@pytest.mark.parametrize("name", SYNC + ASYNC)
def test_limits(setup, name):
    opt = setup.make()
    result = opt.run(n_iterations=5, progress=False, max_budget_spent=20)
    started = [r.budget for r in result.get_all_runs()]
    assert sum(started[:-1]) < 20 <= sum(started) or sum(started) < 20  # the last job to start crosses the limit
    before = set(result.get_id2config_mapping())
    result = opt.run(n_iterations=5, progress=False, max_configs=4)
    new = set(result.get_id2config_mapping()) - before
    assert 1 <= len(new) <= 4


# ---------------------------------------------------------------------------------------------------------------
# Stopping-type optimizers. Their point is to stop jobs at intermediate reports: on the simulated backend a generator
# objective reports every step; on the Pyro backend (a thread worker), threads and processes, an objective that
# reports every step through Worker.report or its report argument. The checks are those above with budgets counted
# in consumed steps (a stopped job consumes the step it was stopped at).
STOPPING = ["ASHA:stopping", "AsyncHyperBand:stopping", "AsyncBOHB:stopping", "MedianStopping"]


def curve_loss(config, step):
    return (config["x"] - 0.3) ** 2 + config["y"] / 10 + 1.0 / step


def reporting_objective(config, budget):
    for step in range(1, int(budget) + 1):
        yield step, curve_loss(config, step), 1.0
    return {"loss": curve_loss(config, budget), "info": {}}


def reporting_plain(config, budget, report):
    for step in range(1, int(budget) + 1):
        if report(step, curve_loss(config, step)):
            return {"loss": curve_loss(config, step), "info": {"told": step}}
    return {"loss": curve_loss(config, budget), "info": {"told": None}}


class ReportingWorker(Worker):
    def compute(self, config, budget, **kwargs):
        return reporting_plain(config, budget, self.report)


def make_stopping(name, tmp_path, run_id, backend="simulated", request=None, **kwargs):
    from bandster.backends import ProcessBackend, SimulatedBackend, ThreadBackend

    cls_name, _, kind = name.partition(":")
    cls = getattr(optimizers, cls_name)
    ladder = dict(LADDER)
    if kind:
        kwargs["type"] = kind
    else:
        ladder.pop("min_budget"), ladder.pop("eta")
    if backend == "pyro":
        ns = request.getfixturevalue("nameserver")
        ReportingWorker(run_id=run_id, nameserver=ns.host, nameserver_port=ns.port).run(background=True)
        kwargs.update(nameserver=ns.host, nameserver_port=ns.port)
    elif backend == "threads":
        kwargs["backend"] = ThreadBackend(1, reporting_plain)
    elif backend == "processes":
        kwargs["backend"] = ProcessBackend(1, reporting_plain, start_method="fork")  # see Setup.make
    else:
        kwargs["backend"] = SimulatedBackend(1, reporting_objective)
    return cls(configspace=space(), run_id=run_id, working_directory=str(tmp_path), seed=1, **ladder, **kwargs)


def check_consumed(opt, limit):
    consumed = [state.consumed for _, state in sorted(opt.scheduler.jobs.items(), key=lambda kv: kv[0][::-1])
                if not state.running]
    # one worker: a job starts while the consumed steps of the finished ones are below the limit
    assert sum(consumed) >= limit and sum(consumed) - max(consumed) < limit


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", STOPPING)
def test_stopping_runs_and_journal_round_trip(name, backend, tmp_path, run_id, request):
    opt = make_stopping(name, tmp_path, run_id, backend, request)
    result = opt.run(n_iterations=2, progress=False)
    runs = result.get_all_runs()
    # every job is handed max_budget; a stopped one is recorded at the step it was stopped at
    assert all(r.loss is not None for r in runs)
    assert all((r.budget, r.stopped_at) == (9.0, None) if r.status == "ok" else
               (r.status == "stopped" and r.budget == r.stopped_at < 9 and r.requested_budget == 9.0) for r in runs)
    check_consumed(opt, opt.budget_limit(2))
    stopped = [st for st in opt.scheduler.jobs.values() if st.stopped_at is not None]
    assert stopped and all(st.consumed == st.stopped_at < 9 for st in stopped)
    if backend != "simulated":  # report() said True on the report the scheduler stopped the job at
        assert {(r.config_id, r.info["told"]) for r in runs} == {
            (key, st.stopped_at) for key, st in opt.scheduler.jobs.items()}
    assert sorted(st.stopped_at for st in stopped) == sorted(r.stopped_at for r in runs if r.status == "stopped")
    directory = opt.journal.directory
    assert logged_results_to_HBS_result(directory) == result
    with open(os.path.join(directory, "results.pkl"), "rb") as fh:
        assert pickle.load(fh) == result
    assert result.get_incumbent_id() is not None
    opt.shutdown(shutdown_workers=True)


@pytest.mark.parametrize("name", STOPPING)
def test_stopping_resume_after_stopping_mid_run(name, tmp_path, run_id):
    first = make_stopping(name, tmp_path, run_id)
    partial = first.run(n_iterations=3, progress=False, max_budget_spent=30)
    assert 0 < len(partial.get_all_runs())
    first.shutdown()
    second = make_stopping(name, tmp_path, run_id, resume=True)
    result = second.run(n_iterations=3, progress=False)
    assert second.journal.directory == first.journal.directory
    # the replay counts a journaled stopped job with the step it was stopped at: the run ends at its limit
    assert second.scheduler.consumed >= second.budget_limit(3) * (1 - 1e-9)
    finished_first = {(r.config_id, r.budget): r.loss for r in partial.get_all_runs()}
    after = {(r.config_id, r.budget): r.loss for r in result.get_all_runs()}
    assert all(after[key] == loss for key, loss in finished_first.items())  # nothing finished was run again
    # the job that waited at the limit was journaled as dispatched or not at all; either way the run ends
    assert not second.scheduler.num_running
    second.shutdown()


@pytest.mark.parametrize("name", STOPPING)
def test_stopping_limits(name, tmp_path, run_id):
    opt = make_stopping(name, tmp_path, run_id)
    first = opt.run(n_iterations=5, progress=False, max_budget_spent=20)
    check_consumed(opt, 20)
    before = set(first.get_id2config_mapping())  # the job that waited at the limit starts first now
    result = opt.run(n_iterations=5, progress=False, max_configs=4)
    new = set(result.get_id2config_mapping()) - before
    assert len(new) == 4
    opt.shutdown()
