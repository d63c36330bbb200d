"""ProcessBackend: real child processes SIGKILLed mid-job (the job is re-run, nothing else goes down),
max_attempts, job_timeout (the process is killed and replaced), closures, bad returns with the Pyro backend's
texts, and objectives that cannot be sent."""

import json
import os
import signal
import threading
import time

import ConfigSpace as CS
import pytest

from bandster.backends import ProcessBackend
from bandster.core.protocol import check_result
from bandster.optimizers import HyperBand


def events(opt):
    with open(os.path.join(opt.journal.directory, "events.json")) as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture
def make(tmp_path, run_id, no_thread_leak):
    made = []

    def _make(objective, n_workers=2, max_attempts=3, **kwargs):
        opt = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), run_id=run_id, min_budget=1,
                        max_budget=9, eta=3, seed=0, working_directory=str(tmp_path),
                        backend=ProcessBackend(n_workers, objective, max_attempts=max_attempts), **kwargs)
        made.append(opt)
        return opt

    yield _make
    for opt in made:
        pids = opt.backend.pids
        assert pids
        opt.shutdown()
        assert opt.backend.pids == []
        for pid in pids:  # every process ended and was reaped
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


def kill_when_written(path, killed):
    """In a thread: wait for ``path`` (a pid written by the objective), SIGKILL that process."""
    def watch():
        deadline = time.monotonic() + 120
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.02)
        with open(path) as fh:
            pid = int(fh.read())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    thread = threading.Thread(target=watch, name="test-killer")
    thread.start()
    return thread


def test_a_process_killed_mid_job_is_replaced_and_its_job_rerun(make, tmp_path):
    marker = str(tmp_path / "pid")

    def objective(config, budget, config_id):  # a closure, sent with cloudpickle
        if config_id == (0, 0, 0) and not os.path.exists(marker):
            with open(marker + ".tmp", "w") as fh:
                fh.write(str(os.getpid()))
            os.rename(marker + ".tmp", marker)
            time.sleep(120)  # killed long before
        return {"loss": config["x"] / budget, "info": {"pid": os.getpid()}}

    killed = []
    watcher = kill_when_written(marker, killed)
    opt = make(objective)
    result = opt.run(n_iterations=1, progress=False)
    watcher.join()
    runs = result.get_all_runs()
    assert len(runs) == 13 and all(r.error_logs is None for r in runs)  # nothing else went down
    rerun = [r for r in runs if r.config_id == (0, 0, 0) and r.budget == 1.0]
    assert [r.attempt for r in rerun] == [2] and rerun[0].info["pid"] != killed[0]
    kinds = [(e["event"], e.get("attempt")) for e in events(opt) if e.get("config_id") == [0, 0, 0]]
    assert ("worker_lost", None) in kinds and ("requeued", 2) in kinds
    assert [k for k in kinds if k[0] == "dispatch"][:2] == [("dispatch", 1), ("dispatch", 2)]


def test_a_job_that_kills_its_process_every_time_fails_after_max_attempts(make):
    def objective(config, budget, config_id):
        if config_id == (0, 0, 1):
            os.kill(os.getpid(), signal.SIGKILL)
        return {"loss": config["x"], "info": {}}

    result = make(objective, max_attempts=2).run(n_iterations=1, progress=False)
    failed = [r for r in result.get_all_runs() if r.error_logs]
    assert len(failed) == 1 and failed[0].config_id == (0, 0, 1) and failed[0].attempt == 2
    assert "was killed by signal 9 while running this job (attempt 2 of 2)" in failed[0].error_logs


def test_job_timeout_kills_the_process_and_a_fresh_one_goes_on(make):
    def objective(config, budget):
        if budget == 9:
            time.sleep(120)
        return {"loss": config["x"], "info": {"pid": os.getpid()}}

    opt = make(objective, n_workers=1, job_timeout=lambda budget: 1.0 if budget == 9 else None)
    result = opt.run(n_iterations=1, progress=False)
    failed = [r for r in result.get_all_runs() if r.error_logs]
    assert [r.budget for r in failed] == [9.0]
    assert failed[0].error_logs == "TimeoutError: the job exceeded its job_timeout of 1 s and was killed"
    assert any(e["event"] == "worker_retired" and e["reason"] == "job_timeout" for e in events(opt))
    opt.run(n_iterations=2, progress=False)  # the next bracket runs on the fresh process
    pids = {r.info["pid"] for r in opt.runner.write_result().get_all_runs() if r.info}
    assert len(pids) == 2


@pytest.mark.parametrize("value", [None, "0.5", {"loss": [1, 2]}])
def test_bad_returns_fail_with_the_texts_of_the_pyro_backend(make, value):
    result = make(lambda config, budget: value, n_workers=1).run(n_iterations=1, progress=False)
    assert {r.error_logs for r in result.get_all_runs()} == {check_result(value)[1]}


def test_an_objective_that_cannot_be_sent_is_refused_at_once():
    lock = threading.Lock()
    with pytest.raises(TypeError, match="cannot be sent to worker processes"):
        ProcessBackend(1, lambda config, budget: lock and 0.0)


# ---------------------------------------------------------------------------------------------------- reports
def reporting_objective(marker):
    """Reports x + 1/step every step; job (0, 0, 0) is SIGKILLed (through ``marker``) after its first report on
    its first attempt; job (0, 0, 2) hangs after its first report (job_timeout)."""

    def objective(config, budget, config_id, report, should_stop):
        told, loss = None, None
        for step in range(1, int(budget) + 1):
            loss = config["x"] + 1.0 / step
            stop = report(step, loss, {"pid": os.getpid()})
            if step == 1 and config_id == (0, 0, 2):
                time.sleep(120)  # killed at its job_timeout
            if stop:
                told = step
                break
            if step == 1 and config_id == (0, 0, 0) and not os.path.exists(marker):
                with open(marker + ".tmp", "w") as fh:
                    fh.write(str(os.getpid()))
                os.rename(marker + ".tmp", marker)
                time.sleep(120)  # killed long before
        return {"loss": loss, "info": {"told": told, "should_stop": should_stop(), "pid": os.getpid()}}

    return objective


def test_stopping_asha_on_processes_with_a_sigkill_and_a_job_timeout(tmp_path, run_id, no_thread_leak):
    from bandster.optimizers import ASHA

    marker = str(tmp_path / "pid")
    killed = []
    watcher = kill_when_written(marker, killed)
    opt = ASHA(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0), run_id=run_id, min_budget=1,
               max_budget=9, eta=3, type="stopping", seed=0, working_directory=str(tmp_path),
               backend=ProcessBackend(2, reporting_objective(marker)), job_timeout=2.0)
    result = opt.run(n_iterations=2, progress=False)
    watcher.join()
    opt.shutdown()
    runs = {r.config_id: r for r in result.get_all_runs()}
    # the SIGKILLed job ran again (attempt 2) and finished; the hung one failed at its limit
    assert runs[(0, 0, 0)].attempt == 2 and runs[(0, 0, 0)].info["pid"] != killed[0]
    assert runs[(0, 0, 2)].loss is None and "job_timeout of 2 s" in runs[(0, 0, 2)].error_logs
    # report() returned True on the very report at which the scheduler stopped each job, and the run says so
    stopped = {(tuple(e["config_id"]), e["step"]) for e in events(opt) if e["event"] == "job_stopped"}
    told = {(r.config_id, float(r.info["told"])) for r in runs.values() if r.info and r.info["told"] is not None}
    assert told and told == {s for s in stopped if s[0] != (0, 0, 2)}  # the hung job returned nothing
    assert {(r.config_id, r.stopped_at) for r in runs.values() if r.status == "stopped"} == told
    assert all(r.info["should_stop"] is (r.info["told"] is not None) for r in runs.values() if r.info)
