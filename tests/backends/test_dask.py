"""DaskBackend on real Dask clusters: a LocalCluster with worker processes (HyperBand's exact runs per budget,
BOHB, ASHA, stop decisions through Dask queues, job_timeout in a subprocess child, resources, a worker process
SIGKILLed mid-job, max_attempts), and a cluster started from the command line (`dask scheduler` and `dask worker`
with a scheduler file) on which a master is SIGKILLed and resumed. Loopback only."""

import collections
import json
import logging
import os
import signal
import subprocess
import sys
import time

import ConfigSpace as CS
import dask_jobs  # tests/helpers, importable on the Dask workers too
import distributed  # the dask extra, part of the test extra
import pytest

from bandster.backends import DaskBackend
from bandster.optimizers import ASHA, BOHB, HyperBand

from testutil import kill_when_written

HELPERS = os.path.dirname(os.path.abspath(dask_jobs.__file__))
ROOT = os.path.dirname(os.path.dirname(HELPERS))
# min_budget 1, max_budget 9, eta 3: (iteration, budget) -> runs, by hand from HpBandSter's formula
TABLE = {(0, 1.0): 9, (0, 3.0): 3, (0, 9.0): 1, (1, 3.0): 3, (1, 9.0): 1, (2, 9.0): 3}


def space():
    return CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def events(opt, kind=None):
    with open(os.path.join(opt.journal.directory, "events.json")) as fh:
        found = [json.loads(line) for line in fh]
    return [e for e in found if kind is None or e["event"] == kind]


def worker_pids(client):
    return sorted(client.run(os.getpid).values())


def assert_ended(pids):
    deadline = time.monotonic() + 30
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"process {pid} still runs")


def local_cluster(**kwargs):
    kwargs = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": "127.0.0.1:0",
              "host": "127.0.0.1", "silence_logs": logging.ERROR, **kwargs}
    return distributed.LocalCluster(**kwargs)


@pytest.fixture(scope="module")
def client():
    """Two Dask worker processes with two threads and one "GPU" each."""
    cluster = local_cluster(threads_per_worker=2, resources={"GPU": 1})
    client = distributed.Client(cluster)
    pids = worker_pids(client)
    yield client
    client.close()
    cluster.close()
    assert_ended(pids)


@pytest.fixture
def make(client, tmp_path, run_id, no_thread_leak):
    made = []

    def _make(cls=HyperBand, objective=dask_jobs.quadratic, backend_kwargs=None, **kwargs):
        kwargs = {"min_budget": 1, "max_budget": 9, "eta": 3, "seed": 0, **kwargs}
        opt = cls(configspace=space(), run_id=run_id, working_directory=str(tmp_path),
                  backend=DaskBackend(client, objective, **(backend_kwargs or {})), **kwargs)
        made.append(opt)
        return opt

    yield _make
    for opt in made:
        opt.shutdown()


@pytest.mark.parametrize("kwargs, message", [
    ({"max_attempts": 0}, "max_attempts must be an integer >= 1"),
    ({"queued_per_thread": -1}, "queued_per_thread must be an integer >= 0"),
    ({"prefetch_below": -0.5}, "prefetch_below must be a number of seconds >= 0"),
    ({"prefetch_below": float("nan")}, "prefetch_below must be a number of seconds >= 0"),
    ({"pending": 1.5}, "pending must be an integer >= 0"),
    ({"resources": {"GPU": 0}}, "resources must be a dict"),
])
def test_bad_arguments_name_the_problem(client, kwargs, message):
    with pytest.raises(ValueError, match=message):
        DaskBackend(client, dask_jobs.quadratic, **kwargs)


def test_hyperband_runs_exactly_its_brackets_one_task_per_job(make, client):
    opt = make()
    assert opt.backend.n_workers == 4  # two workers with two threads, read from the scheduler
    result = opt.run(n_iterations=3, progress=False)
    runs = result.get_all_runs()
    counts = collections.Counter((r.config_id[0], r.budget) for r in runs)
    assert counts == TABLE
    assert all(r.error_logs is None and r.attempt == 1 for r in runs)
    assert len({(r.config_id, r.budget) for r in runs}) == len(runs)  # nothing counted twice
    assert {r.info["pid"] for r in runs} <= set(worker_pids(client))  # computed in the Dask worker processes
    assert all(r.worker_name.startswith("dask.") for r in runs)
    assert len(events(opt, "dispatch")) == len(runs)  # one task per job
    manifest_backend = json.load(open(os.path.join(opt.journal.directory, "run.json")))["backend"]
    assert manifest_backend["name"] == "dask" and manifest_backend["scheduler"].startswith("tcp://127.0.0.1")


def test_bohb_and_bad_returns(make):
    opt = make(BOHB, min_points_in_model=3)
    runs = opt.run(n_iterations=2, progress=False).get_all_runs()
    assert collections.Counter((r.config_id[0], r.budget) for r in runs) == {
        k: v for k, v in TABLE.items() if k[0] < 2}
    assert all(r.loss is not None for r in runs)
    bad = make(objective=dask_jobs.returns_string)
    runs = bad.run(n_iterations=1, progress=False).get_all_runs()
    assert len(runs) == 13 and all("compute() returned str ('not a dict')" in r.error_logs for r in runs)


def test_asha_and_stop_decisions_through_dask_queues(make):
    opt = make(ASHA)
    runs = opt.run(n_iterations=1, progress=False).get_all_runs()
    assert runs and all(r.error_logs is None for r in runs)
    assert {r.budget for r in runs} >= {1.0, 3.0}  # promotions happened
    for job_timeout in (None, 60):  # with a limit, the job's child process relays its reports through the task
        stopping = make(ASHA, objective=dask_jobs.reporting, type="stopping", job_timeout=job_timeout)
        # 20 configurations: with 4 in flight, a handful of jobs may arrive in an order where each one is among the
        # best so far (then none is stopped); twenty cannot
        runs = stopping.run(n_iterations=10, max_configs=20, progress=False).get_all_runs()
        assert len(runs) == 20 and all(r.error_logs is None for r in runs)
        steps = [r.info["steps"] for r in runs]
        # every report went to the scheduler and its decisions came back: jobs stopped at the rungs (steps 1, 3)
        states = stopping.scheduler.jobs.values()
        stopped = [s for s in states if s.stopped_at is not None]
        assert stopped and {1, 3} & set(steps) and max(steps) == 9
        assert sorted(steps) == sorted(int(s.consumed) for s in states)
        assert sorted(r.stopped_at for r in runs if r.stopped_at is not None) == sorted(s.stopped_at for s in stopped)


def test_job_timeout_kills_a_hung_computation_in_a_child_process(make, tmp_path):
    opt = make(objective=dask_jobs.hangs_once, job_timeout=10, max_budget=3)  # 4 runs, each in a child process
    runs = opt.run(n_iterations=1, progress=False).get_all_runs()
    assert len(runs) == 4
    hung = [r for r in runs if r.config_id == (0, 0, 0) and r.budget == 1.0]
    assert len(hung) == 1 and "TimeoutError" in hung[0].error_logs and "10 s" in hung[0].error_logs
    assert all(r.error_logs is None for r in runs if r is not hung[0])
    with open(tmp_path / "hung.pid") as fh:
        assert_ended([int(fh.read())])  # the child was killed, its Dask worker kept working


def test_resources_give_each_gpu_one_job(make, client, tmp_path):
    opt = make(objective=dask_jobs.timed, backend_kwargs={"resources": {"GPU": 1}})
    assert opt.backend.n_workers == 2  # one per GPU, although the workers have two threads each
    runs = opt.run(n_iterations=1, progress=False).get_all_runs()
    assert len(runs) == 13 and all(r.error_logs is None for r in runs)
    files = [f for f in os.listdir(tmp_path) if f.startswith("spans-")]
    assert files
    for name in files:  # never two jobs at once in one GPU worker
        with open(tmp_path / name) as fh:
            spans = sorted(json.loads(line) for line in fh)
        assert all(a[1] <= b[0] + 1e-3 for a, b in zip(spans, spans[1:], strict=False))
    with pytest.raises(ValueError, match="resources must be a dict"):
        DaskBackend(client, dask_jobs.quadratic, resources={"GPU": 0})
    with pytest.raises(TypeError, match="distributed.Client"):
        DaskBackend("tcp://127.0.0.1:8786", dask_jobs.quadratic)


def set_allowed_failures(n, dask_scheduler=None):
    dask_scheduler.allowed_failures = n


def test_a_dask_worker_killed_mid_job_loses_nothing(tmp_path, run_id, no_thread_leak, caplog):
    cluster = local_cluster()
    client = distributed.Client(cluster)
    pids = worker_pids(client)
    try:
        # Dask re-runs the task itself (allowed-failures 3), or gives up at once (0: KilledWorker, and the backend
        # submits it again); with max_attempts=1 the backend fails the job at the first death
        for max_attempts, allowed_failures in ((3, 3), (3, 0), (1, 3)):
            client.run_on_scheduler(set_allowed_failures, allowed_failures)
            caplog.clear()
            directory = tmp_path / f"{max_attempts}-{allowed_failures}"
            directory.mkdir()
            killed = []
            watcher = kill_when_written(str(directory / "pid"), killed)
            opt = HyperBand(configspace=space(), run_id=run_id, min_budget=1, max_budget=9, eta=3, seed=0,
                            working_directory=str(directory),
                            backend=DaskBackend(client, dask_jobs.killed_once, max_attempts=max_attempts))
            try:
                runs = opt.run(n_iterations=1, progress=False).get_all_runs()
                client.wait_for_workers(2, timeout=60)  # the nanny's new process: the backend follows
                deadline = time.monotonic() + 30
                while opt.backend.n_workers != 2 and time.monotonic() < deadline:
                    time.sleep(0.05)
            finally:
                watcher.join()
                opt.shutdown()
            assert killed and killed[0] in pids
            assert len(runs) == 13 and len({(r.config_id, r.budget) for r in runs}) == 13
            victim = [r for r in runs if r.config_id == (0, 0, 0) and r.budget == 1.0]
            lost = [e for e in events(opt, "worker_lost") if e.get("config_id") == [0, 0, 0]]
            assert len(lost) == 1
            dispatches = [e for e in events(opt, "dispatch") if e["config_id"] == [0, 0, 0] and e["budget"] == 1.0]
            if max_attempts == 3:  # re-run on a live worker: the second attempt, journaled as on Pyro
                assert all(r.error_logs is None for r in runs)
                assert victim[0].attempt == 2 and victim[0].info["pid"] != killed[0]
                assert [e["attempt"] for e in events(opt, "requeued")] == [2]
                assert [e["attempt"] for e in dispatches] == [1, 2]
                # the cluster's size was followed: one worker fewer, then the nanny's new one
                sizes = [e["workers"] for e in events(opt, "workers_changed")]
                assert 1 in sizes and sizes[-1] == 2
                gave_up = [r for r in caplog.records if "Dask gave up on the task of job (0, 0, 0)" in r.getMessage()]
                assert len(gave_up) == (allowed_failures == 0)  # KilledWorker: submitted again, same attempt 2
            else:  # no attempt left: failed, saying why
                assert "attempt 1 of 1" in victim[0].error_logs and victim[0].loss is None
                assert [e["attempt"] for e in dispatches] == [1]
                assert all(r.error_logs is None for r in runs if r is not victim[0])
            pids = worker_pids(client)
    finally:
        client.close()
        cluster.close()
    assert_ended(pids)


def test_an_adaptive_cluster_grows_with_the_pending_jobs(tmp_path, run_id, no_thread_leak):
    """No worker at first: the backend keeps ``pending`` tasks waiting, Dask's adaptive scaling starts workers
    for them, and the backend gives each new slot a job."""
    with local_cluster(n_workers=0, processes=False, host=None) as cluster, distributed.Client(cluster) as client:
        cluster.adapt(minimum=0, maximum=2, interval="100ms", wait_count=50, target_duration="10ms")
        opt = HyperBand(configspace=space(), run_id=run_id, min_budget=1, max_budget=9, eta=3, seed=0,
                        working_directory=str(tmp_path), backend=DaskBackend(client, dask_jobs.slow, pending=2))
        try:
            assert opt.backend.n_workers == 1 and opt.backend.capacity == 2  # no slot yet: demand for two
            runs = opt.run(n_iterations=1, progress=False).get_all_runs()
        finally:
            opt.shutdown()
    assert len(runs) == 13 and all(r.error_logs is None for r in runs)
    sizes = [e["workers"] for e in events(opt, "workers_changed")]
    assert sizes[0] == 0 and 2 in sizes  # it grew from nothing to the maximum


# ---------------------------------------------------------------------- a cluster from the command line
@pytest.fixture
def cli_cluster(tmp_path):
    """`dask scheduler` and `dask worker` (two worker processes under a nanny) sharing a scheduler file."""
    scheduler_file = str(tmp_path / "scheduler.json")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HELPERS, ROOT, os.environ.get("PYTHONPATH", "")]))
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    procs = []
    log = open(tmp_path / "cluster.log", "w")
    try:
        procs.append(subprocess.Popen([*dask, "--scheduler-file", scheduler_file, "--host", "127.0.0.1",
                                       "--port", "0", "--dashboard-address", "127.0.0.1:0", "--no-dashboard"],
                                      env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                       scheduler_file, "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1",
                                       "--no-dashboard"],
                                      env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))
        with distributed.Client(scheduler_file=scheduler_file, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            pids = worker_pids(client)
        yield scheduler_file, env
    finally:
        for proc in reversed(procs):  # the worker's nanny ends its worker processes on SIGTERM
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    assert_ended(pids)


def test_cli_cluster_scheduler_file_and_master_sigkill_resume(cli_cluster, tmp_path, run_id):
    scheduler_file, env = cli_cluster
    work = str(tmp_path / "work")
    command = [sys.executable, os.path.join(HELPERS, "dask_master.py"), scheduler_file, work, run_id]
    master = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        results = None
        while time.monotonic() < deadline and master.poll() is None:  # kill it once a few runs are recorded
            runs_dir = os.path.join(work, "bandster_runs")
            journals = os.listdir(runs_dir) if os.path.isdir(runs_dir) else []
            if journals:
                results = os.path.join(runs_dir, journals[0], "results.json")
                if os.path.exists(results) and sum(1 for _ in open(results)) >= 4:
                    break
            time.sleep(0.05)
        assert master.poll() is None, master.communicate()[0]
        master.send_signal(signal.SIGKILL)
    finally:
        if master.poll() is None:
            master.kill()
        output = master.communicate()[0]
    recorded = sum(1 for _ in open(results))
    assert 4 <= recorded < 13, output
    resumed = subprocess.run([*command, "resume"], env=env, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "RUNS 13" in resumed.stdout, resumed.stdout + resumed.stderr
    from bandster.core.result import logged_results_to_HBS_result

    result = logged_results_to_HBS_result(os.path.dirname(results))
    runs = result.get_all_runs()
    assert len(runs) == 13 and len({(r.config_id, r.budget) for r in runs}) == 13
    assert all(r.error_logs is None for r in runs)
    assert collections.Counter(r.budget for r in runs) == {1.0: 9, 3.0: 3, 9.0: 1}


@pytest.mark.parametrize("synchronous", [False, True])
def test_pbt_population_with_checkpoint_copies_on_dask(client, tmp_path, run_id, no_thread_leak, synchronous):
    import pbt_helpers  # tests/helpers, importable on the Dask workers too

    from bandster.optimizers import PBT

    pbt = PBT(pbt_helpers.space(), population_size=4, perturbation_interval=2, max_budget=8, seed=3,
              synchronous=synchronous, run_id=run_id, working_directory=str(tmp_path),
              backend=DaskBackend(client, pbt_helpers.train))
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown()
    pbt_helpers.check_population(result, 4, 8)  # each job loaded the checkpoint its lineage names
    assert any(c["config_info"].get("pbt", {}).get("kind") == "exploit"
               for c in result.get_id2config_mapping().values()), "no member exploited another"
    assert {r.info["pid"] for r in result.get_all_runs()} <= set(worker_pids(client))
