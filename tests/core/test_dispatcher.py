"""The dispatcher with real worker processes: jobs held ahead by a worker process (prefetch), and many workers.

A worker process whose last job was short holds up to ``prefetch`` jobs beyond the one it computes. These
tests fix what happens to held jobs when the worker is killed, when it leaves, when the runner withdraws
queued jobs, and under ``job_timeout``; and that 256 real workers on one name server lose and duplicate
nothing. No test here depends on speed.
"""

import collections
import os
import signal
import threading

import ConfigSpace as CS
import pytest

from bandster.core import credentials
from bandster.core.dispatcher import Dispatcher
from bandster.optimizers import RandomSearch

from testutil import HELPERS, wait_until

WORKERS = os.path.join(HELPERS, "link_workers.py")


class Collector:
    """The dispatcher's callbacks: finished jobs and events, with a condition to wait on."""

    def __init__(self):
        self.cond = threading.Condition()
        self.jobs = []
        self.events = []

    def job(self, job):
        with self.cond:
            self.jobs.append(job)
            self.cond.notify_all()

    def event(self, kind, **fields):
        with self.cond:
            self.events.append((kind, fields))
            self.cond.notify_all()

    def wait_for(self, predicate, timeout=60):
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), f"timed out; jobs {self.jobs}, events {self.events}"

    def dispatched(self):
        with self.cond:
            return [tuple(f["config_id"]) for kind, f in self.events if kind == "dispatch"]


@pytest.fixture
def dispatcher(nameserver, run_id):
    collector = Collector()
    secret = credentials.find_secret(nameserver.host, nameserver.port)
    # prefetch_below 0.5 s: "instant" jobs count as short even on a loaded machine, 1 s "slow" ones do not
    d = Dispatcher(collector.job, run_id=run_id, ping_interval=0.5, nameserver=nameserver.host,
                   nameserver_port=nameserver.port, nameserver_secret=secret, event_callback=collector.event,
                   prefetch_below=0.5)
    d.start()
    d.collector = collector
    yield d
    d.shutdown(shutdown_workers=True)


def start_worker(spawn, nameserver, run_id, log, hang=False, threads=1):
    proc = spawn(WORKERS, run_id, nameserver.host, str(nameserver.port), log, str(threads),
                 env={"LINK_HANG": "1" if hang else "0"})
    assert proc.stdout.readline().strip() == "ready"
    return proc


def log_lines(log):
    if not os.path.exists(log):
        return []
    with open(log) as fh:
        return [line.rsplit(" ", 2) for line in fh.read().splitlines()]


def starts(log):
    """How often each job started, by config id text."""
    return collections.Counter(cid for cid, _, what in log_lines(log) if what == "start")


def submit(dispatcher, modes, timeout=None):
    """One job per mode, ids (0, 0, i); returns the Job objects (the dispatcher's own)."""
    jobs = []
    for i, mode in enumerate(modes):
        config = {"mode": mode[0], "seconds": mode[1]} if isinstance(mode, tuple) else {"mode": mode}
        jobs.append(dispatcher.submit_job((0, 0, i), job_timeout=timeout, config=config, budget=1.0,
                                          working_directory="."))
    return jobs


def key(i):
    return str([0, 0, i])


@pytest.mark.timeout(120)
def test_held_jobs_of_a_killed_worker_are_queued_again_and_run_once(dispatcher, nameserver, run_id, spawn, tmp_path):
    log = str(tmp_path / "log")
    submit(dispatcher, ["instant", "hang", "instant", "instant"])  # queued before any worker joins
    a = start_worker(spawn, nameserver, run_id, log, hang=True)
    c = dispatcher.collector
    # job 0 alone (no history yet); it was short, so jobs 1-3 come in one hand-over: 1 runs (and hangs), 2-3 held
    c.wait_for(lambda: len(c.dispatched()) == 4)
    assert c.dispatched() == [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 0, 3)]
    wait_until(lambda: starts(log)[key(1)] == 1)
    assert dispatcher.capacity() == 1 + dispatcher.prefetch
    assert starts(log) == {key(0): 1, key(1): 1}  # the held jobs never started
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=30)
    c.wait_for(lambda: any(kind == "worker_lost" for kind, _ in c.events))
    lost = next(f for kind, f in c.events if kind == "worker_lost")
    assert lost["config_id"] == [0, 0, 1] and lost["held"] == [[0, 0, 2], [0, 0, 3]]
    start_worker(spawn, nameserver, run_id, log)
    c.wait_for(lambda: len(c.jobs) == 4)
    ids = [j.id for j in c.jobs]
    assert sorted(ids) == [(0, 0, i) for i in range(4)]  # every job once, nothing lost
    attempts = {j.id: j.attempt for j in c.jobs}
    assert attempts == {(0, 0, 0): 1, (0, 0, 1): 2, (0, 0, 2): 2, (0, 0, 3): 2}
    assert all(j.status == "ok" for j in c.jobs)
    requeued = [tuple(f["config_id"]) for kind, f in c.events if kind == "requeued"]
    assert requeued == [(0, 0, 1), (0, 0, 2), (0, 0, 3)]
    counts = starts(log)
    assert counts[key(2)] == counts[key(3)] == 1  # the held jobs ran exactly once, on the second worker
    assert counts[key(1)] == 2  # the job the killed worker was running ran again


@pytest.mark.timeout(120)
def test_a_leaving_worker_hands_its_held_jobs_back_unstarted(dispatcher, nameserver, run_id, spawn, tmp_path):
    log = str(tmp_path / "log")
    submit(dispatcher, ["instant", ("slow", 1.0), "instant", "instant"])
    a = start_worker(spawn, nameserver, run_id, log)
    c = dispatcher.collector
    c.wait_for(lambda: len(c.dispatched()) == 4)
    wait_until(lambda: starts(log)[key(1)] == 1)
    a.send_signal(signal.SIGUSR1)  # request_stop: finish the current job, hand the held ones back
    assert a.wait(timeout=30) == 0
    c.wait_for(lambda: any(kind == "worker_left" for kind, _ in c.events))
    assert sorted(j.id for j in c.jobs) == [(0, 0, 0), (0, 0, 1)]
    start_worker(spawn, nameserver, run_id, log)
    c.wait_for(lambda: len(c.jobs) == 4)
    assert {j.id: j.attempt for j in c.jobs} == {(0, 0, i): 1 for i in range(4)}  # handed back untried
    assert starts(log) == {key(i): 1 for i in range(4)}


@pytest.mark.timeout(120)
def test_a_job_handed_back_counts_as_tried_and_the_held_ones_do_not(dispatcher, nameserver, run_id, spawn, tmp_path):
    log = str(tmp_path / "log")
    submit(dispatcher, ["instant", "handback", "instant", "instant"])
    a = start_worker(spawn, nameserver, run_id, log, hang=True)  # raises HandBack in job 1, then leaves
    assert a.wait(timeout=60) == 0
    c = dispatcher.collector
    c.wait_for(lambda: any(kind == "worker_left" for kind, _ in c.events))
    assert c.dispatched() == [(0, 0, i) for i in range(4)]
    start_worker(spawn, nameserver, run_id, log)
    c.wait_for(lambda: len(c.jobs) == 4)
    assert {j.id: j.attempt for j in c.jobs} == {(0, 0, 0): 1, (0, 0, 1): 2, (0, 0, 2): 1, (0, 0, 3): 1}
    assert starts(log) == {key(0): 1, key(1): 2, key(2): 1, key(3): 1}


@pytest.mark.timeout(120)
def test_withdraw_takes_back_queued_jobs_and_held_jobs_finish(dispatcher, nameserver, run_id, spawn, tmp_path):
    log = str(tmp_path / "log")
    handed = 2 + dispatcher.prefetch  # job 0 alone, then job 1 (slow) and prefetch jobs held behind it
    submit(dispatcher, ["instant", ("slow", 1.0)] + ["instant"] * (dispatcher.prefetch + 2))
    start_worker(spawn, nameserver, run_id, log)
    c = dispatcher.collector
    c.wait_for(lambda: len(c.dispatched()) == handed)
    wait_until(lambda: starts(log)[key(1)] == 1)
    withdrawn = dispatcher.withdraw_queued()
    assert [j.id for j in withdrawn] == [(0, 0, handed), (0, 0, handed + 1)]  # held jobs count as started
    c.wait_for(lambda: len(c.jobs) == handed)
    assert sorted(j.id for j in c.jobs) == [(0, 0, i) for i in range(handed)]
    assert starts(log) == {key(i): 1 for i in range(handed)}
    assert dispatcher.withdraw_queued() == []


@pytest.mark.timeout(120)
def test_held_jobs_keep_their_time_limit_and_are_stamped_when_they_start(dispatcher, nameserver, run_id, spawn,
                                                                         tmp_path):
    log = str(tmp_path / "log")
    jobs = submit(dispatcher, ["instant", "instant", "hang", "instant"], timeout=1.5)
    start_worker(spawn, nameserver, run_id, log, hang=True)
    c = dispatcher.collector
    c.wait_for(lambda: len(c.jobs) == 4)
    by_id = {j.id: j for j in c.jobs}
    assert [j.status for j in jobs] == ["ok", "ok", "failed", "ok"]
    assert "job_timeout of 1.5 s" in by_id[(0, 0, 2)].exception  # killed by the worker process itself
    # held behind the hanging job: handed out before it started, started when it ended (the worker's figure)
    held, hung = by_id[(0, 0, 3)], by_id[(0, 0, 2)]
    assert held.timestamps["started"] >= hung.timestamps["finished"] - 0.05
    assert held.timestamps["started"] - hung.timestamps["started"] >= 1.4
    assert held.deadline >= hung.deadline + 1.5  # the dispatcher's backstop counts the jobs ahead of it
    assert all(j.timestamps["submitted"] <= j.timestamps["started"] <= j.timestamps["finished"] for j in jobs)
    assert starts(log) == {key(i): 1 for i in range(4)}


@pytest.mark.timeout(300)
def test_256_workers_on_one_name_server_lose_and_duplicate_nothing(nameserver, run_id, spawn, tmp_path):
    """8 worker processes of 32 thread workers each, every one a real Pyro worker with its own daemon."""
    log = str(tmp_path / "log")
    procs = [spawn(WORKERS, run_id, nameserver.host, str(nameserver.port), log, "32") for _ in range(8)]
    cs = CS.ConfigurationSpace({"mode": ["slow"], "seconds": [0.05]})
    rs = RandomSearch(configspace=cs, run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port,
                      min_budget=1, max_budget=9, eta=3, working_directory=str(tmp_path), seed=0)
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        rs.wait_for_workers(256)
        result = rs.run(n_iterations=256, min_n_workers=256, progress=False)  # 3 configs each: 768 jobs
    finally:
        rs.shutdown(shutdown_workers=True)
        for proc in procs:
            assert proc.wait(timeout=60) == 0
    runs = [(r.config_id, r.budget) for r in result.get_all_runs()]
    assert len(runs) == len(set(runs)) == 768
    assert {cid for cid, _ in runs} == {(i, 0, k) for i in range(256) for k in range(3)}
    assert all(r.status == "ok" for r in result.get_all_runs())
    computed = starts(log)
    assert sum(computed.values()) == 768 and set(computed.values()) == {1}  # each evaluated exactly once
    assert len({r.worker_name for r in result.get_all_runs()}) > 32  # spread over many workers


def test_reports_reach_the_callback_only_from_the_running_attempt_and_cancel_stops_the_job(nameserver, run_id,
                                                                                             caplog):
    from bandster.core import protocol
    from bandster.core.worker import Worker
    from bandster.schedulers._base import Decision

    collector, reports = Collector(), []
    started, go, answers = threading.Event(), threading.Event(), []

    class Blocking(Worker):
        def compute(self, config, budget, **kwargs):
            answers.append(self.report(1, 0.5))
            started.set()
            go.wait(60)
            answers.append(self.report(2, 0.4))
            return {"loss": 0.4, "info": {}}

    secret = credentials.find_secret(nameserver.host, nameserver.port)
    d = Dispatcher(collector.job, run_id=run_id, ping_interval=0.5, nameserver=nameserver.host,
                   nameserver_port=nameserver.port, nameserver_secret=secret,
                   report_callback=lambda job, step, loss, info: reports.append((job.id, step)) or Decision.CONTINUE)
    d.start()
    worker = Blocking(run_id=run_id, nameserver=nameserver.host, nameserver_port=nameserver.port, id="b")
    worker.run(background=True)
    try:
        job = d.submit_job((0, 0, 0), config={}, budget=9.0, decision_steps=[3.0])
        assert started.wait(60)
        with caplog.at_level("INFO", logger="bandster.core.dispatcher"):
            assert d.report(worker.worker_id, [0, 0, 0], 2, [[5.0, 0.1, None]]) is True  # a stale attempt
            assert d.report("elsewhere", [0, 0, 0], 1, [[5.0, 0.1, None]]) is True  # not its worker
            assert d.report(worker.worker_id, [0, 0, 9], 1, [[5.0, 0.1, None]]) is True  # not running at all
        assert caplog.text.count("ignored: that attempt is no longer running") == 3
        assert d.report(worker.worker_id, [0, 0, 0], 1, protocol.pack([[1.5, 0.45, {"a": 1}]])) is False
        assert d.cancel((0, 0, 0)) is True and d.cancel((0, 0, 7)) is False
        go.set()
        collector.wait_for(lambda: collector.jobs)
    finally:
        go.set()
        worker.shutdown()
        d.shutdown(shutdown_workers=True)
    assert answers == [False, True]
    assert reports == [((0, 0, 0), 1.0), ((0, 0, 0), 1.5), ((0, 0, 0), 2.0)]
    assert collector.jobs[0] is job and job.result["stopped_at"] == 2.0
