"""SimulatedBackend: virtual timelines computed by hand, reports and stop decisions, determinism, failures,
job_timeout, limits in virtual time, and resume after an interrupt (real optimizers, runner and journal)."""

import math
import os

import ConfigSpace as CS
import pytest

from bandster.backends import SimulatedBackend
from bandster.core.protocol import check_result
from bandster.optimizers import ASHA, AsyncBOHB, HyperBand, RandomSearch
from bandster.runtime.runner import Runner
from bandster.samplers import RandomSampling
from bandster.schedulers import Decision, RandomSearchScheduler
from bandster.schedulers.brackets import hyperband_iteration


def space(seed=0):
    return CS.ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=seed)


def quadratic(config, budget):
    return {"loss": (config["x"] - 0.3) ** 2 + config["y"] / budget, "info": {"b": budget}, "cost": budget}


@pytest.fixture
def make(tmp_path, run_id, no_thread_leak):
    """Build an optimizer on a SimulatedBackend; every one built is shut down at the end of the test."""
    made = []

    def _make(cls, objective=quadratic, n_workers=2, backend=None, **kwargs):
        kwargs.setdefault("min_budget", 1)
        kwargs.setdefault("max_budget", 9)
        kwargs.setdefault("eta", 3)
        kwargs.setdefault("seed", 0)
        kwargs.setdefault("working_directory", str(tmp_path))
        kwargs.setdefault("run_id", run_id)
        opt = cls(configspace=space(), backend=backend or SimulatedBackend(n_workers, objective), **kwargs)
        made.append(opt)
        return opt

    yield _make
    for opt in made:
        opt.shutdown()


def timeline(result):
    """``(config_id, budget, worker, submitted, started, finished)`` of every run, by start time."""
    rows = [(r.config_id, r.budget, r.worker_name, r.time_stamps["submitted"], r.time_stamps["started"],
             r.time_stamps["finished"]) for r in result.get_all_runs()]
    return sorted(rows, key=lambda row: (row[4], row[2]))


# ---------------------------------------------------------------------------------------------------- timelines
def test_hyperband_bracket_on_two_workers_follows_the_hand_computed_timeline(make):
    result = make(HyperBand).run(n_iterations=1, progress=False)
    rows = timeline(result)
    # stage 0: nine jobs of 1 s, two at a time; the free job goes to the lowest-numbered free worker
    stage0 = [(row[2], row[4], row[5]) for row in rows if row[1] == 1.0]
    assert stage0 == [(f"sim-{k % 2}", float(k // 2), float(k // 2 + 1)) for k in range(9)]
    # stage 1 waits for the last stage-0 result (t=5): three jobs of 3 s on two workers; stage 2: one of 9 s
    stage1 = [(row[2], row[4], row[5]) for row in rows if row[1] == 3.0]
    assert stage1 == [("sim-0", 5.0, 8.0), ("sim-1", 5.0, 8.0), ("sim-0", 8.0, 11.0)]
    stage2 = [(row[2], row[4], row[5]) for row in rows if row[1] == 9.0]
    assert stage2 == [("sim-0", 11.0, 20.0)]
    assert all(row[3] == row[4] for row in rows)  # one job per worker: each starts when it is submitted
    assert result.HB_config["time_ref"] == 0.0
    # the promoted configurations are the best of their stage
    losses = {(r.config_id, r.budget): r.loss for r in result.get_all_runs()}
    best3 = sorted((loss, cid) for (cid, b), loss in losses.items() if b == 1.0)[:3]
    assert {cid for _, cid in best3} == {row[0] for row in rows if row[1] == 3.0}


def test_objective_gets_the_optional_arguments_it_names_and_pays_only_the_increment(make, tmp_path):
    seen = []

    def objective(config, budget, config_id, working_directory, config_directory, previous_budget):
        seen.append((config_id, budget, previous_budget, os.path.isdir(config_directory), working_directory))
        return {"loss": config["x"], "info": {}, "cost": budget - (previous_budget or 0.0)}

    result = make(HyperBand, objective).run(n_iterations=1, progress=False)
    assert all(made for *_, made, _ in seen)
    assert {wd for *_, wd in seen} == {str(tmp_path)}
    previous = {(cid, budget): prev for cid, budget, prev, _, _ in seen}
    assert all(previous[(cid, 1.0)] is None for cid, b in previous if b == 1.0)
    assert all(previous[(cid, b)] == b / 3 for cid, b in previous if b > 1.0)
    # stage 1 costs 2 s per job (3 - 1): 5-7, 5-7, 7-9; stage 2 costs 6 s (9 - 3): 9-15
    rows = timeline(result)
    assert [(row[2], row[4], row[5]) for row in rows if row[1] > 1.0] == [
        ("sim-0", 5.0, 7.0), ("sim-1", 5.0, 7.0), ("sim-0", 7.0, 9.0), ("sim-0", 9.0, 15.0)]


# ---------------------------------------------------------------------------------------------------- reports
def index(config_id):
    """The order of a configuration of random search on (1, 9, 3): three per iteration."""
    return 3 * config_id[0] + config_id[2]


class StopEvenConfigs(RandomSearchScheduler):
    """Stops configurations with an even index at report ``stop_step``; every report is kept."""

    def __init__(self, *args, stop_step, decision=Decision.STOP, **kwargs):
        super().__init__(*args, **kwargs)
        self.stop_step = stop_step
        self.decision = decision
        self.reports = []

    def on_report(self, job, step, loss, info=None):
        self.reports.append((job.id, step, loss))
        if index(job.id) % 2 == 0 and step == self.stop_step:
            return self.decision
        return Decision.CONTINUE


def epochs(closed):
    """A generator objective: one report per unit of budget, 1 s each; records what it was sent and closing."""

    def objective(config, budget, config_id):
        decisions = []
        try:
            for epoch in range(1, int(budget) + 1):
                decisions.append((yield epoch, config["x"] / epoch, 1.0, {"epoch": epoch}))
        finally:
            closed[config_id] = decisions
        return {"loss": config["x"] / budget, "info": {"epochs": int(budget)}}

    return objective


@pytest.mark.parametrize("decision", [Decision.STOP, Decision.PAUSE])
def test_a_stop_decision_ends_the_job_at_its_report(tmp_path, run_id, no_thread_leak, decision):
    closed = {}
    scheduler = StopEvenConfigs(RandomSampling(space(), seed=0), 1, 9, 3, stop_step=3, decision=decision)
    runner = Runner(scheduler, SimulatedBackend(2, epochs(closed)), run_id=run_id, working_directory=str(tmp_path))
    try:
        result = runner.run(n_iterations=3, progress=False)
    finally:
        runner.shutdown()
    runs = {index(r.config_id): r for r in result.get_all_runs()}
    assert sorted(runs) == list(range(9))
    ids = {index(cid): cid for cid in result.get_id2config_mapping()}
    # even configs stop after 3 s, odd ones run their 9 epochs; by hand, on two workers:
    expected = {0: ("sim-0", 0, 3), 1: ("sim-1", 0, 9), 2: ("sim-0", 3, 6), 3: ("sim-0", 6, 15),
                4: ("sim-1", 9, 12), 5: ("sim-1", 12, 21), 6: ("sim-0", 15, 18), 7: ("sim-0", 18, 27),
                8: ("sim-1", 21, 24)}
    for n, (worker, start, end) in expected.items():
        run = runs[n]
        assert (run.worker_name, run.time_stamps["started"], run.time_stamps["finished"]) == (worker, start, end)
        x = result.get_id2config_mapping()[ids[n]]["config"]["x"]
        if n % 2 == 0:  # the latest report is the result
            assert run.loss == pytest.approx(x / 3) and run.info == {"epoch": 3}
            assert closed[ids[n]] == [Decision.CONTINUE, Decision.CONTINUE]
        else:
            assert run.loss == pytest.approx(x / 9) and run.info == {"epochs": 9}
            assert closed[ids[n]] == [Decision.CONTINUE] * 9
        # a stopped job is recorded as stopped, at the step it was stopped at
        assert (run.status, run.budget, run.stopped_at) == (("stopped", 3.0, 3.0) if n % 2 == 0 else ("ok", 9.0, None))
    lines = [line for line in open(os.path.join(runner.journal.directory, "results.json"))]
    assert sum('"stopped_at": 3' in line for line in lines) == 5
    assert len(scheduler.reports) == 5 * 3 + 4 * 9
    assert scheduler.reports[:2] == [((0, 0, 0), 1, pytest.approx(runs[0].loss * 3)),
                                     ((0, 0, 1), 1, pytest.approx(runs[1].loss * 9))]


# ---------------------------------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("cls", [ASHA, AsyncBOHB, HyperBand])
def test_the_same_seed_gives_the_same_result_time_stamps_included(make, tmp_path, cls):
    def objective(config, budget, previous_budget):  # many ties: costs are whole seconds
        return {"loss": (config["x"] - 0.3) ** 2 + config["y"] / budget, "info": {},
                "cost": budget - (previous_budget or 0)}

    kwargs = dict(objective=objective, n_workers=4, max_budget=27)
    first = make(cls, run_id="a", working_directory=str(tmp_path / "a"), **kwargs).run(4, progress=False)
    second = make(cls, run_id="b", working_directory=str(tmp_path / "b"), **kwargs).run(4, progress=False)
    other = make(cls, run_id="c", working_directory=str(tmp_path / "c"), **dict(kwargs, seed=1)).run(4, progress=False)
    assert len(first.get_all_runs()) > 40
    assert first == second
    assert timeline(first) == timeline(second)
    assert first != other


# ---------------------------------------------------------------------------------------------------- failures
BAD_RETURNS = [None, "a string", {"info": {}, "cost": 1}, {"loss": "high", "cost": 1}, {"loss": [1, 2], "cost": 1}]


def test_bad_returns_are_failed_runs_with_the_pyro_backends_error_texts(make):
    def objective(config, budget, config_id):
        n = index(config_id)
        if n < len(BAD_RETURNS):
            return BAD_RETURNS[n]
        if n == 5:
            raise ValueError("boom")
        if n == 6:
            return {"loss": math.nan, "info": {}, "cost": 2}
        if n == 7:
            return {"loss": 1.0, "info": {}}  # no cost
        return {"loss": 1.0, "info": {}, "cost": -1}

    result = make(RandomSearch, objective, n_workers=1).run(n_iterations=3, progress=False)
    runs = {index(r.config_id): r for r in result.get_all_runs()}
    assert sorted(runs) == list(range(9))
    for n, value in enumerate(BAD_RETURNS):
        expected = check_result({k: v for k, v in value.items() if k != "cost"} if isinstance(value, dict)
                                else value)[1]
        assert expected and runs[n].error_logs == expected, n
        assert runs[n].loss is None and runs[n].status == "failed"
    assert runs[5].error_logs.rstrip().endswith("ValueError: boom") and "Traceback" in runs[5].error_logs
    assert math.isnan(runs[6].loss) and runs[6].status == "failed" and runs[6].error_logs is None
    assert "no 'cost'" in runs[7].error_logs and runs[7].status == "failed"
    assert "'cost' must be a finite number >= 0" in runs[8].error_logs
    # a failure takes the cost it returned, if any (one worker: each job starts when the previous one ended)
    assert [runs[n].time_stamps["finished"] for n in range(9)] == [0, 0, 1, 2, 3, 3, 5, 5, 5]


def test_bad_reports_and_exceptions_of_a_generator_objective_fail_the_run(make):
    def objective(config, budget, config_id):
        n = config_id[0]
        yield 1, 0.5, 1.0
        if n == 0:
            yield "not a tuple"
        elif n == 1:
            yield 2, 0.4, -3
        elif n == 2:
            raise RuntimeError("diverged")
        elif n == 3:
            return None
        return {"loss": 0.25, "info": {}, "cost": 0.5}

    result = make(RandomSearch, objective, n_workers=1, max_budget=1, eta=3).run(n_iterations=5, progress=False)
    runs = {r.config_id[0]: r for r in result.get_all_runs()}  # one configuration per iteration
    assert "yielded str ('not a tuple'); yield (step, loss, cost)" in runs[0].error_logs
    assert "cost -3" in runs[1].error_logs
    assert runs[2].error_logs.rstrip().endswith("RuntimeError: diverged")
    assert runs[3].error_logs == check_result(None)[1]
    assert runs[4].loss == 0.25 and runs[4].status == "ok"
    assert [runs[i].time_stamps["finished"] for i in range(5)] == [1.0, 2.0, 3.0, 4.0, 5.5]


# ---------------------------------------------------------------------------------------------------- job_timeout
def test_job_timeout_applies_in_virtual_time(make):
    def objective(config, budget, config_id):
        return {"loss": 1.0, "info": {}, "cost": 2.0 * index(config_id)}  # 0, 2, 4, 6, ... s

    result = make(RandomSearch, objective, n_workers=1, job_timeout=5).run(n_iterations=3, progress=False)
    runs = sorted(result.get_all_runs(), key=lambda r: index(r.config_id))
    assert [r.status for r in runs] == ["ok"] * 3 + ["failed"] * 6
    text = "TimeoutError: the job exceeded its job_timeout of 5 s and was killed"
    assert all(r.error_logs == text for r in runs[3:])
    durations = [r.time_stamps["finished"] - r.time_stamps["started"] for r in runs]
    assert durations == [0.0, 2.0, 4.0] + [5.0] * 6


def test_job_timeout_stops_a_reporting_objective_between_reports(make):
    reports = []

    def objective(config, budget):
        for step in range(1, 5):
            reports.append(step)
            yield step, 1.0 / step, 2.0  # reports at 2, 4, 6, 8 s
        return {"loss": 0.1, "info": {}}

    result = make(RandomSearch, objective, n_workers=1, max_budget=1, job_timeout=lambda budget: 5 * budget)
    result = result.run(n_iterations=1, progress=False)
    (run,) = result.get_all_runs()
    assert run.status == "failed" and run.time_stamps["finished"] == 5.0
    assert "job_timeout of 5 s" in run.error_logs
    assert reports == [1, 2, 3]  # the third report would come at 6 s: the generator never got past it


# ---------------------------------------------------------------------------------------------------- limits
def test_max_wallclock_time_is_virtual(make):
    result = make(HyperBand).run(n_iterations=3, max_wallclock_time=4.5, progress=False)
    rows = timeline(result)
    # at 4 s the last stage-0 job starts and iteration 1 takes the idle worker (3 s); at 4.5 s nothing more starts
    assert [(row[1], row[4], row[5]) for row in rows][-2:] == [(1.0, 4.0, 5.0), (3.0, 4.0, 7.0)]
    assert len(rows) == 10 and max(row[5] for row in rows) == 7.0


def test_max_budget_spent_and_max_configs(make, tmp_path):
    result = make(HyperBand, run_id="spent").run(n_iterations=1, max_budget_spent=5, progress=False)
    assert [(row[4], row[5]) for row in timeline(result)] == [(0, 1), (0, 1), (1, 2), (1, 2), (2, 3)]
    result = make(HyperBand, run_id="configs").run(n_iterations=1, max_configs=4, progress=False)
    assert len(result.get_all_runs()) == 4
    result = make(ASHA, run_id="asha_configs").run(n_iterations=3, max_configs=6, progress=False)
    assert len(result.get_id2config_mapping()) == 6
    assert max(r.budget for r in result.get_all_runs()) > 1  # ASHA keeps promoting


def test_run_asking_for_more_workers_than_simulated_fails_clearly(make):
    with pytest.raises(RuntimeError, match="min_n_workers.*larger than n_workers"):
        make(HyperBand).run(n_iterations=1, min_n_workers=3, progress=False)


def test_bandster_status_of_a_simulated_journal_is_on_the_virtual_clock(make, tmp_path):
    from bandster.analysis.status import read_status

    opt = make(HyperBand)
    opt.run(n_iterations=2, progress=False)
    status = read_status(opt.journal.directory)
    assert status.state == "finished" and status.virtual_clock
    assert (status.runs_ok, status.runs_running) == (17, 0)  # dispatch events and results share the clock
    assert status.started == 0.0 and status.wall_time == 25.0
    text = status.format()
    assert "at virtual time 0s (simulated backend); ran 25s of virtual time" in text and " ago" not in text


# ---------------------------------------------------------------------------------------------------- resume
def test_resume_after_a_keyboard_interrupt_from_the_objective(make, tmp_path):
    calls = []

    def interrupted(config, budget, config_id):
        calls.append(config_id)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return quadratic(config, budget)

    interrupted_opt = make(HyperBand, interrupted, stop_grace_period=100)
    first = interrupted_opt.run(n_iterations=2, progress=False)
    interrupted_opt.shutdown()
    done = first.get_all_runs()
    # five started and finished (the grace period is virtual: the job running beside the interrupt finished too)
    assert len(done) == 5 and all(r.status == "ok" for r in done)
    assert calls[5] not in {r.config_id for r in done}
    last = max(r.time_stamps["finished"] for r in done)

    resumed = make(HyperBand, quadratic, resume=True, backend=SimulatedBackend(2, quadratic, start_time=last))
    result = resumed.run(n_iterations=2, progress=False)
    runs = result.get_all_runs()
    planned = sum(sum(hyperband_iteration(i, 1, 9, 3)[0]) for i in range(2))
    assert len(runs) == planned
    assert len({(r.config_id, r.budget) for r in runs}) == planned  # nothing run twice
    assert all(r.status == "ok" for r in runs)
    again = [r for r in runs if r.config_id == calls[5]]
    assert again[0].attempt == 2  # dispatched once before the interrupt
    assert all(r.time_stamps["started"] >= last for r in runs if r not in done)
    for r in done:  # the first part is kept as it was
        assert r in runs


# ---------------------------------------------------------------------------------------------------- the backend alone
class Listener:
    """The runner's side of the backend, recording what it is told."""

    def __init__(self):
        self.finished, self.workers, self.events = [], [], []

    def job_finished(self, job):
        self.finished.append(job)

    def workers_changed(self, n_workers):
        self.workers.append(n_workers)

    def job_report(self, job, step, loss, info=None):
        return Decision.CONTINUE

    def backend_event(self, kind, **fields):
        self.events.append(kind)


def test_queue_withdraw_cancel_and_shutdown():
    import threading

    from bandster.core.job import Job

    def objective(config, budget):
        for step in range(3):
            yield step, 1.0, 1.0
        return {"loss": 0.0, "info": {}}

    backend = SimulatedBackend(1, objective)
    listener = Listener()
    backend.start(listener)
    backend.start(listener)  # idempotent
    with pytest.raises(RuntimeError, match="another runner"):
        backend.start(Listener())
    assert listener.workers == [1] and listener.events == ["worker_joined"]
    jobs = [Job((0, 0, i), config={}, budget=1.0) for i in range(3)]
    for job in jobs:
        backend.submit(job)
    cond = threading.Condition()
    with cond:
        backend.wait(cond, None)  # job 0 starts; its first report comes at 1 s
    assert backend.now() == 1.0 and backend.cancel(jobs[0]) and not backend.cancel(jobs[1])
    with cond:
        backend.wait(cond, 0.5)  # the next report (2 s) is further away than the timeout
        assert backend.now() == 1.5 and not listener.finished
        backend.wait(cond, None)
    assert listener.finished == [jobs[0]] and jobs[0].result["stopped_at"] == 1
    assert jobs[0].timestamps == {"submitted": 0.0, "started": 0.0, "finished": 2.0}
    assert backend.withdraw_queued() == jobs[1:]
    backend.shutdown()
    assert backend.n_workers == 0
    with pytest.raises(RuntimeError, match="shut down"):
        backend.submit(jobs[1])


def test_a_plain_objective_that_names_report_is_refused_with_what_to_do():
    from bandster.backends import SimulatedBackend

    def objective(config, budget, report):
        return {"loss": 0.0, "cost": 1.0}

    with pytest.raises(TypeError, match=r"names \['report'\]: a simulated job reports by yielding"):
        SimulatedBackend(1, objective)

    def generator(config, budget, report=None):  # a generator function may name it; it reports by yielding
        yield 1, 0.5, 1.0
        return {"loss": 0.5}

    SimulatedBackend(1, generator)
