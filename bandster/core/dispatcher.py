"""The dispatcher: which workers exist, which job runs where, what happens when a worker vanishes.

It moves jobs and results and never decides what to evaluate (that is the runner's job). Workers pull.
Workers living in the master's process (threads) call :meth:`Dispatcher.next_job` directly, without Pyro:
it takes the previous job's outcome and waits for the next job in one call. Worker processes call
``exchange`` over Pyro through a :class:`~bandster.core.exchange.DispatcherLink`, which trades any number of
finished outcomes for new jobs while the worker computes. A worker process whose last job took less than
``prefetch_below`` seconds may hold up to ``prefetch`` jobs beyond the one it computes, so that jobs which
return at once do not each wait for a round trip; :meth:`Dispatcher.capacity` counts these places, and the
runner keeps that many jobs outstanding. A held job counts as started: :meth:`Dispatcher.withdraw_queued`
takes back only jobs no worker holds (held jobs are short ones by the rule above, and they finish).

Locking: one condition variable guards the worker table, the queue and the running jobs. Callbacks into
the runner (results, worker counts, events) are always made with it released.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import Pyro5.api
import Pyro5.errors

from bandster.core import protocol
from bandster.core.job import Job, as_id, id_to_json
from bandster.core.names import (
    dispatcher_name,
    local_dispatcher,
    register_local_dispatcher,
    unregister_local_dispatcher,
    worker_prefix,
)
from bandster.core.nameserver import DEFAULT_PORT, local_address_towards, validate_run_id
from bandster.core.reporting import deliver_reports, mark_stopped
from bandster.core.security import AuthDaemon, ThreadLocalProxies, make_proxy, nameserver_proxy

__all__ = ["Dispatcher", "Job", "local_dispatcher"]

class WorkerRecord:
    """What the dispatcher knows about one worker."""

    __slots__ = ("name", "uri", "info", "local", "jobs", "slots", "waiting", "wake", "joined", "last_seen")

    def __init__(self, name: str, info: dict, local: Any = None) -> None:
        self.name = name
        self.uri: str | None = info.get("uri")
        self.info = info
        self.local = local
        #: the jobs handed to this worker and not finished, in the order it runs them (the first is running,
        #: the others are held)
        self.jobs: list[Job] = []
        #: how many jobs it may hold at once (1, or 1 + prefetch while its jobs are short)
        self.slots = 1
        self.waiting = False
        self.wake = False
        self.joined = time.time()
        self.last_seen = self.joined


class Dispatcher:
    """Hands jobs to workers and results back to the master.

    Parameters
    ----------
    new_result_callback : callable
        Called with each finished :class:`Job` (from the thread that delivered the result).
    run_id : str
    ping_interval : float
        Seconds between liveness checks of remote workers (HpBandSter: 60 s in the Master, here 5 s).
    nameserver, nameserver_port : str, int
        Where the name server is.
    host : str, optional
        Address to bind the dispatcher's daemon; default: the local address on the route to the name server.
    logger : logging.Logger, optional
    queue_callback : callable, optional
        Called with the number of workers whenever it changes.
    nameserver_secret : str, optional
        The name server's secret (see :func:`bandster.core.credentials.find_secret`).
    max_attempts : int
        How often a job whose worker died is tried in total before it is recorded as failed.
    event_callback : callable, optional
        ``event_callback(kind, **fields)`` for the journal's events file.
    prefetch : int
        How many jobs a worker process may hold beyond the one it computes (0: none), while its last job
        took less than ``prefetch_below`` seconds.
    prefetch_below : float
        Seconds: a worker process whose last job was shorter gets jobs ahead.
    report_callback : callable, optional
        ``report_callback(job, step, loss, info) -> Decision`` for each intermediate report of a running job
        (:meth:`bandster.backends.BackendListener.job_report`); None: reports are dropped and jobs continue.
    """

    def __init__(
        self,
        new_result_callback: Callable[[Job], None],
        run_id: str = "0",
        ping_interval: float = 5,
        nameserver: str = "localhost",
        nameserver_port: int | None = None,
        host: str | None = None,
        logger: logging.Logger | None = None,
        queue_callback: Callable[[int], None] | None = None,
        nameserver_secret: str | None = None,
        max_attempts: int = 3,
        event_callback: Callable[..., None] | None = None,
        prefetch: int = 7,
        prefetch_below: float = 0.01,
        report_callback: Callable[..., Any] | None = None,
    ) -> None:
        if int(prefetch) < 0:
            raise ValueError(f"prefetch must be a number of jobs >= 0, got {prefetch!r}")
        if not ping_interval or ping_interval <= 0:
            raise ValueError(f"ping_interval must be a positive number of seconds, got {ping_interval!r}")
        if int(max_attempts) < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts!r}")
        self.new_result_callback = new_result_callback
        self.queue_callback = queue_callback
        self.event_callback = event_callback
        self.report_callback = report_callback
        self.run_id = validate_run_id(run_id)
        self.ping_interval = float(ping_interval)
        self.nameserver = nameserver
        self.nameserver_port = int(nameserver_port or DEFAULT_PORT)
        self.secret = nameserver_secret
        self.host = host
        self.max_attempts = int(max_attempts)
        self.prefetch = int(prefetch)
        self.prefetch_below = float(prefetch_below)
        #: seconds a worker process gets beyond ``job_timeout`` to report its own timeout before it counts as hung
        self.timeout_grace = max(5.0, self.ping_interval)
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self._cond = threading.Condition()
        self._workers: dict[str, WorkerRecord] = {}
        self._queue: collections.deque[Job] = collections.deque()
        self._running: dict[tuple, Job] = {}
        self._n_waiting = 0  # workers waiting in next_job/exchange for a job
        self._capacity = 0  # the sum of the workers' slots
        self._shutting_down = False
        self._stop_workers = False
        self._stopped = threading.Event()
        self._watch = threading.Event()  # wakes the watchdog early: a new deadline, or shutdown
        self._daemon: AuthDaemon | None = None
        self._daemon_thread: threading.Thread | None = None
        self._liveness_thread: threading.Thread | None = None
        self.uri: str | None = None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        """Serve in background threads, register with the name server and greet waiting workers."""
        if self._daemon is not None:
            return
        bind = self.host or local_address_towards(self.nameserver)
        self._daemon = AuthDaemon(host=bind, port=0, secret=self.secret)
        self.uri = str(self._daemon.register(DispatcherService(self), objectId=dispatcher_name(self.run_id)))
        register_local_dispatcher(self.uri, self)
        self._daemon_thread = threading.Thread(
            target=self._daemon.requestLoop, name=f"bandster-dispatcher-pyro-{self.run_id}", daemon=True
        )
        self._daemon_thread.start()
        try:
            with self._ns() as ns:
                ns.register(dispatcher_name(self.run_id), self.uri)
        except Pyro5.errors.PyroError as exc:
            self._teardown()
            raise RuntimeError(
                f"The dispatcher cannot register with the name server at {self.nameserver}:{self.nameserver_port} "
                f"({exc}). Is the NameServer started, and does the master have its secret?"
            ) from exc
        self._liveness_thread = threading.Thread(
            target=self._watchdog_loop, name=f"bandster-dispatcher-watchdog-{self.run_id}", daemon=True
        )
        self._liveness_thread.start()
        self.logger.info("dispatcher for run %s at %s", self.run_id, self.uri)
        self.trigger_discover_worker()

    def run(self) -> None:
        """Start (if needed) and block until :meth:`shutdown` (HpBandSter's blocking form)."""
        self.start()
        self._stopped.wait()

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Stop dispatching; tell workers to shut down (or to wait for the next master); join all threads."""
        with self._cond:
            if self._shutting_down:
                return
            self._shutting_down = True
            self._stop_workers = shutdown_workers
            self._cond.notify_all()
            busy = [r for r in self._workers.values() if not r.waiting]
        if shutdown_workers:
            for record in busy:
                self._tell_worker_to_stop(record)
        # let workers blocked in next_job receive their last reply before the daemon closes connections
        with self._cond:
            self._cond.wait_for(lambda: not any(r.waiting for r in self._workers.values()), timeout=5)
        self._teardown()
        self.logger.info("dispatcher for run %s shut down", self.run_id)

    def shutdown_all_workers(self, rediscover: bool = False) -> None:
        """Tell every known worker to shut down (the dispatcher keeps running)."""
        with self._cond:
            records = list(self._workers.values())
            self._stop_workers = True
            self._cond.notify_all()
        for record in records:
            self._tell_worker_to_stop(record)

    def _teardown(self) -> None:
        unregister_local_dispatcher(self.uri)
        if self.uri is not None:
            try:
                with self._ns(timeout=5) as ns:
                    ns.remove(dispatcher_name(self.run_id))
            except Pyro5.errors.PyroError:
                pass
        self._stopped.set()
        self._watch.set()
        if self._liveness_thread is not None and self._liveness_thread is not threading.current_thread():
            self._liveness_thread.join()
        daemon, self._daemon = self._daemon, None
        if daemon is not None:
            daemon.shutdown_completely(self._daemon_thread)

    # ------------------------------------------------------------------ master side
    def submit_job(self, id: tuple, *, job_timeout: float | None = None, attempt: int = 1,
                   decision_steps: list[float] | None = None, **kwargs: Any) -> Job:
        """Queue a job (``kwargs``: config, budget, working_directory, ...) and return it.

        ``job_timeout``: seconds the computation may take once started (None: no limit). ``decision_steps``: the
        steps at which its reports wait for the scheduler's answer (None: every step).
        """
        job = Job(id, **kwargs)
        job.timeout = job_timeout
        job.attempt = attempt
        job.decision_steps = decision_steps
        job.time_it("submitted")
        with self._cond:
            self._queue.append(job)
            self._cond.notify()
        return job

    def withdraw_queued(self) -> list[Job]:
        """Take back every job that no worker has started yet (when the master stops early)."""
        with self._cond:
            jobs = list(self._queue)
            self._queue.clear()
        return jobs

    def number_of_workers(self) -> int:
        """How many workers are currently known."""
        with self._cond:
            return len(self._workers)

    def capacity(self) -> int:
        """How many jobs the workers can take now: one per worker, plus the jobs worker processes with short
        jobs may hold ahead (``prefetch``). The runner keeps this many jobs outstanding."""
        with self._cond:
            return self._capacity

    def worker_names(self) -> list[str]:
        """The names of the known workers."""
        with self._cond:
            return list(self._workers)

    def trigger_discover_worker(self) -> None:
        """Greet every worker of this run registered with the name server (they then announce themselves)."""
        try:
            with self._ns() as ns:
                found = ns.list(prefix=worker_prefix(self.run_id))
        except Pyro5.errors.PyroError as exc:
            self.logger.warning("cannot list workers on the name server: %s", exc)
            return
        with self._cond:
            known = set(self._workers)
        for name, uri in found.items():
            if name in known:
                continue
            try:
                with make_proxy(uri, self.secret, timeout=5) as proxy:
                    proxy.hello(self.uri)
            except Pyro5.errors.PyroError as exc:
                self.logger.debug("worker %s did not answer hello: %s", name, exc)

    # ------------------------------------------------------------------ worker side
    def announce(self, worker_name: str, info: dict, local_worker: Any = None) -> bool:
        """A worker joins (or re-joins) the pool."""
        with self._cond:
            if self._shutting_down:
                return False
            rejoined = worker_name in self._workers
            if not rejoined:
                self._workers[worker_name] = WorkerRecord(worker_name, info, local_worker)
                self._capacity += 1
            n = len(self._workers)
        if not rejoined:
            self.logger.info("worker %s joined (%d workers)", worker_name, n)
            self._event("worker_joined", worker=worker_name, host=info.get("host"), workers=n)
            self._workers_changed(n)
        return True

    def goodbye(self, worker_name: str, outcome: dict | list | None = None, returned: list | None = None) -> None:
        """A worker leaves on its own, delivering its last outcome(s) (one, or a list from a worker process)
        and handing back the jobs it held and never started (``returned``: their ids; queued again as they
        were). Any other job it still had is queued again as one whose worker stopped in it."""
        outcomes = [outcome] if isinstance(outcome, dict) else outcome or []
        self._finish_all(self._take_outcomes(worker_name, outcomes, time.time()))
        self._lose_worker(worker_name, "shut down", requeue=True, event="worker_left",
                          returned={as_id(i) for i in returned or ()})

    def wake(self, worker_name: str) -> None:
        """Make a waiting ``next_job`` call of ``worker_name`` return now."""
        with self._cond:
            record = self._workers.get(worker_name)
            if record is not None:
                record.wake = True
                self._cond.notify_all()

    def report(self, worker_name: str, job_id: Any, attempt: int, reports: list | str | None) -> bool:
        """Reports of a running job from its worker (``[step, loss, info]`` each, oldest first, or :func:`pack`'s
        text of them) for the runner; True if the job must stop. Reports of a job that is not running on that
        worker in that attempt (it timed out, its worker was given up and the job queued again) are logged and
        ignored, and their sender is told to stop."""
        reports = protocol.unpack(reports) or []
        key = as_id(job_id)
        with self._cond:
            job = self._running.get(key)
            record = self._workers.get(worker_name)
            if record is not None:
                record.last_seen = time.time()
        if job is None or job.worker_name != worker_name or job.attempt != attempt:
            if reports:
                self.logger.info("reports of job %s from %s (attempt %s, steps %s) ignored: that attempt is no longer "
                                 "running", key, worker_name, attempt, [r[0] for r in reports])
            return True
        if self.report_callback is None:
            return False
        return deliver_reports(self.report_callback, job, reports)

    def cancel(self, job_id: Any) -> bool:
        """Stop a running job at its next report; False if it is not running."""
        with self._cond:
            job = self._running.get(as_id(job_id))
            if job is None:
                return False
            job.cancelled = True
            return True

    def next_job(self, worker_name: str, outcome: dict | None = None, wait: float = 2.0) -> dict:
        """Deliver ``outcome`` (the previous job's) and wait up to ``wait`` s for the next job (thread workers)."""
        if outcome is not None:
            self._finish_all(self._take_outcomes(worker_name, [outcome], None))
        with self._cond:
            record, reply = self._wait_for_work(worker_name, wait)
            if reply is not None:
                return reply
            handed = self._hand_out(record, 1)
        self._dispatched(handed)
        job = handed[0]
        return protocol.job_message(job.id, job.kwargs, job.attempt, job.timeout, job.decision_steps)

    def exchange(self, worker_name: str, outcomes: list | str | None = None, wait: float = 2.0) -> dict:
        """Deliver a worker process's finished ``outcomes`` and hand it jobs: the next one and, while its jobs
        are short, up to ``prefetch`` more (only jobs no idle worker waits for). A worker that holds no job
        waits up to ``wait`` s for one; a worker that still holds jobs gets an answer at once."""
        received = time.time()
        finished = self._take_outcomes(worker_name, protocol.unpack(outcomes) or [], received)
        self._finish_all(finished)  # the runner refills the queue from here, before the jobs are handed out
        with self._cond:
            record = self._workers.get(worker_name)
            if record is not None and record.jobs:  # it has work: answer at once, with jobs to spare if any
                record.last_seen = received
                if not self._queue or self._shutting_down or self._stop_workers:
                    return self._no_job_reply(record)
            else:
                record, reply = self._wait_for_work(worker_name, wait)
                if reply is not None:
                    return reply
            spare = len(self._queue) - self._n_waiting
            room = record.slots - len(record.jobs)
            n = max(min(room, spare), 0 if record.jobs else 1)
            handed = self._hand_out(record, n)
        self._dispatched(handed)
        if not handed:
            return {"command": protocol.WAIT}
        jobs = [protocol.job_message(j.id, j.kwargs, j.attempt, j.timeout, j.decision_steps)["job"] for j in handed]
        return {"command": protocol.JOBS, "jobs": protocol.pack(jobs)}

    def _no_job_reply(self, record: WorkerRecord | None) -> dict:
        """What a worker that gets no job now is told (called with the lock held)."""
        if record is None:
            return {"command": protocol.SHUTDOWN if self._stop_workers else protocol.ANNOUNCE}
        if self._shutting_down or self._stop_workers:
            return {"command": protocol.SHUTDOWN if self._stop_workers else protocol.DETACH}
        return {"command": protocol.WAIT}

    def _wait_for_work(self, worker_name: str, wait: float) -> tuple[WorkerRecord | None, dict | None]:
        """Wait (lock held) until ``worker_name`` may take a job from the queue: ``(record, None)``; or return
        ``(record, reply)`` with what to tell it instead (wait, announce, detach, shut down)."""
        deadline = time.monotonic() + max(0.0, float(wait))
        record = self._workers.get(worker_name)
        if record is None:
            return None, self._no_job_reply(None)
        record.last_seen = time.time()
        while True:
            if self._shutting_down or self._stop_workers:
                return record, self._no_job_reply(record)
            if self._queue and not record.jobs:
                return record, None
            if record.wake:
                record.wake = False
                return record, {"command": protocol.WAIT}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return record, {"command": protocol.WAIT}
            record.waiting = True
            self._n_waiting += 1
            try:
                self._cond.wait(remaining)
            finally:
                record.waiting = False
                self._n_waiting -= 1
            if worker_name not in self._workers:
                return None, {"command": protocol.ANNOUNCE}

    def _hand_out(self, record: WorkerRecord, n: int) -> list[Job]:
        """Take up to ``n`` jobs off the queue for ``record``, oldest first (lock held).

        A job that a worker holds behind others gets a deadline (``job_timeout``) counted from the end of the
        deadline of the job before it; a timed job is never held behind one without a limit."""
        handed = []
        now = time.monotonic()
        while len(handed) < n and self._queue:
            job = self._queue[0]
            ahead = record.jobs[-1] if record.jobs else None
            if job.timeout is not None and ahead is not None and ahead.deadline is None:
                break
            self._queue.popleft()
            job.worker_name = record.name
            job.time_it("started")  # for a held job, replaced by the worker's own figure with its outcome
            record.jobs.append(job)
            self._running[job.id] = job
            if job.timeout is not None:
                # a worker process kills its computation itself at the limit; the dispatcher's deadline is a
                # backstop for a worker that hangs altogether (a thread worker has no other limit)
                grace = 0.0 if record.local is not None else self.timeout_grace
                start = now if ahead is None else ahead.deadline
                job.deadline = start + job.timeout + grace
                self._watch.set()
            handed.append(job)
        return handed

    def _dispatched(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._event("dispatch", config_id=id_to_json(job.id), budget=job.kwargs.get("budget"),
                        worker=job.worker_name, attempt=job.attempt)

    def _take_outcomes(self, worker_name: str, outcomes: list[dict], received: float | None) -> list[Job]:
        """Match outcomes to their running jobs and fill them in (lock taken here; callbacks not made).

        ``received``: when a worker process's message arrived (``time.time()``); the job's ``finished`` and
        ``started`` stamps are then this minus the outcome's ``finished_ago`` and its ``duration``. None (thread
        workers): ``finished`` is now, ``started`` stays the moment the job was handed out."""
        finished = []
        with self._cond:
            for outcome in outcomes:
                job_id = as_id(outcome.get("id"))
                job = self._running.pop(job_id, None)
                if job is None:
                    self.logger.warning("result of unknown or finished job %s from %s dropped", job_id, worker_name)
                    continue
                record = self._workers.get(job.worker_name) if job.worker_name else None
                if record is not None and job in record.jobs:
                    record.jobs.remove(job)
                duration = outcome.get("duration")
                if received is None or not isinstance(outcome.get("finished_ago"), int | float):
                    job.time_it("finished")
                else:
                    end = max(job.timestamps.get("started", received), received - max(0.0, outcome["finished_ago"]))
                    job.timestamps["finished"] = end
                    if isinstance(duration, int | float):
                        job.timestamps["started"] = max(job.timestamps.get("started", end), end - duration)
                if record is not None and record.local is None and isinstance(duration, int | float):
                    slots = 1 + self.prefetch if duration < self.prefetch_below else 1
                    if record.name in self._workers:
                        self._capacity += slots - record.slots
                    record.slots = slots
                job.worker_name = worker_name
                job.result = outcome.get("result")
                job.exception = outcome.get("exception")
                job.worker_duration = duration
                mark_stopped(job)
                finished.append(job)
        return finished

    def _finish_all(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._finish(job)

    def _finish(self, job: Job) -> None:
        try:
            self.new_result_callback(job)
        except Exception:
            self.logger.exception("the result callback failed for job %s", job.id)

    # ------------------------------------------------------------------ liveness
    def _watchdog_loop(self) -> None:
        """Liveness checks every ``ping_interval`` s, and job deadlines (``job_timeout``) as they fall due."""
        proxies = ThreadLocalProxies(self.secret, timeout=min(self.ping_interval, 5.0))
        next_ping = time.monotonic() + self.ping_interval
        while not self._stopped.is_set():
            with self._cond:
                deadlines = [j.deadline for j in self._running.values() if j.deadline is not None]
            wake = min([next_ping, *deadlines])
            self._watch.wait(max(0.0, wake - time.monotonic()))
            self._watch.clear()
            if self._stopped.is_set():
                return
            self._expire_jobs()
            if time.monotonic() >= next_ping:
                self._check_liveness(proxies)
                next_ping = time.monotonic() + self.ping_interval

    def _check_liveness(self, proxies: ThreadLocalProxies) -> None:
        with self._cond:
            records = list(self._workers.values())
        for record in records:
            if self._stopped.is_set():
                return
            if record.local is not None:
                alive = record.local.is_running
            else:
                try:
                    alive = bool(proxies.get(record.uri).ping())
                except Pyro5.errors.PyroError:
                    proxies.drop(record.uri)
                    alive = False
            if not alive:
                self._lose_worker(record.name, "did not answer the liveness check", requeue=True)

    def _expire_jobs(self) -> None:
        """Record jobs past their deadline as failed and retire the workers that hang on them (the jobs such a
        worker held behind the expired one never started: they are queued again as they were)."""
        now = time.monotonic()
        expired: list[tuple[Job, WorkerRecord | None, list[Job]]] = []
        with self._cond:
            for job in list(self._running.values()):
                if job.deadline is None or job.deadline > now or self._running.get(job.id) is not job:
                    continue
                del self._running[job.id]
                record = self._workers.get(job.worker_name) if job.worker_name else None
                held: list[Job] = []
                if record is not None and job in record.jobs:
                    del self._workers[record.name]
                    self._capacity -= record.slots
                    held = [j for j in record.jobs if j is not job]
                    record.jobs = []
                    self._requeue(held, bump=False)
                job.time_it("finished")
                job.result = None
                job.exception = (
                    f"TimeoutError: the job exceeded its job_timeout of {job.timeout:g} s on worker "
                    f"{job.worker_name}; the worker was retired."
                )
                expired.append((job, record, held))
            n = len(self._workers)
            if expired:
                self._cond.notify_all()
        for job, record, held in expired:
            self.logger.warning("job %s on budget %s timed out after %s s; worker %s retired",
                                job.id, job.kwargs.get("budget"), job.timeout, job.worker_name)
            self._event("worker_retired", worker=job.worker_name, reason="job_timeout", config_id=id_to_json(job.id),
                        workers=n)
            self._requeued_events(held)
            if record is not None:
                self._tell_worker_to_stop(record)
            self._finish(job)
        if expired:
            self._workers_changed(n)

    def _lose_worker(self, worker_name: str, reason: str, requeue: bool, event: str = "worker_lost",
                     returned: set[tuple] | None = None) -> None:
        """Forget a worker. Its jobs are queued again (first in line, in their order): those in ``returned``
        (held and never started, as the worker itself said) as they were, the others with ``attempt + 1``, or
        recorded as failed once they had ``max_attempts`` (a dead worker's held jobs count as tried: whether
        it started them is unknown)."""
        with self._cond:
            record = self._workers.pop(worker_name, None)
            if record is None:
                return
            self._capacity -= record.slots
            jobs = [j for j in record.jobs if self._running.get(j.id) is j]
            record.jobs = []
            for job in jobs:
                del self._running[job.id]
            returned = returned or set()
            kept = [j for j in jobs if j.id in returned]
            tried = [j for j in jobs if j.id not in returned]
            failed = self._requeue(tried, bump=True) if requeue else tried
            self._requeue(kept, bump=False)
            for job in failed:
                job.time_it("finished")
                job.result = None
                job.exception = (
                    f"Worker {worker_name} {reason} while running this job "
                    f"(attempt {job.attempt} of {self.max_attempts})."
                )
            n = len(self._workers)
            self._cond.notify_all()
        if event == "worker_lost":
            self.logger.warning("worker %s %s; %d workers left", worker_name, reason, n)
        else:
            self.logger.info("worker %s left; %d workers left", worker_name, n)
        fields = {"held": [id_to_json(j.id) for j in jobs[1:]]} if len(jobs) > 1 else {}
        self._event(event, worker=worker_name, reason=reason, workers=n,
                    config_id=id_to_json(jobs[0].id) if jobs else None, **fields)
        self._requeued_events([j for j in jobs if j not in failed])
        for job in failed:
            self._finish(job)
        self._workers_changed(n)

    def _requeue(self, jobs: list[Job], bump: bool) -> list[Job]:
        """Put ``jobs`` back at the head of the queue in their order (lock held), with ``attempt + 1`` if
        ``bump``; return those that had their ``max_attempts`` already (not queued)."""
        failed = [j for j in jobs if bump and j.attempt >= self.max_attempts]
        again = [j for j in jobs if j not in failed]
        for job in reversed(again):
            if bump:
                job.attempt += 1
                job.stop_step = job.last_step = None  # the new attempt reports from its start
            job.worker_name = None
            job.deadline = None
            self._queue.appendleft(job)
        if again:
            self._cond.notify_all()
        return failed

    def _requeued_events(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._event("requeued", config_id=id_to_json(job.id), budget=job.kwargs.get("budget"),
                        attempt=job.attempt)

    def _tell_worker_to_stop(self, record: WorkerRecord) -> None:
        if record.local is not None:
            with record.local._cond:
                record.local._stop = True
            return
        try:
            with make_proxy(record.uri, self.secret, timeout=5) as proxy:
                proxy.shutdown()
        except Pyro5.errors.PyroError as exc:
            self.logger.debug("could not tell worker %s to shut down: %s", record.name, exc)

    # ------------------------------------------------------------------ helpers
    def _ns(self, timeout: float | None = 10.0) -> Pyro5.api.Proxy:
        return nameserver_proxy(self.nameserver, self.nameserver_port, self.secret, timeout=timeout)

    def _workers_changed(self, n: int) -> None:
        if self.queue_callback is not None:
            try:
                self.queue_callback(n)
            except Exception:
                self.logger.exception("queue_callback failed")

    def _event(self, kind: str, **fields: Any) -> None:
        if self.event_callback is not None:
            try:
                self.event_callback(kind, **fields)
            except Exception:
                self.logger.exception("event_callback failed")


@Pyro5.api.expose
class DispatcherService:
    """What the dispatcher offers over the network (only to clients that know the run's secret)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    def announce(self, worker_name: str, info: dict) -> bool:
        return self._dispatcher.announce(worker_name, info)

    def next_job(self, worker_name: str, outcome: dict | None = None, wait: float = 2.0) -> dict:
        return self._dispatcher.next_job(worker_name, outcome, min(float(wait), 30.0))

    def exchange(self, worker_name: str, outcomes: list | str | None = None, wait: float = 2.0) -> dict:
        return self._dispatcher.exchange(worker_name, outcomes, min(float(wait), 30.0))

    def report(self, worker_name: str, job_id: list, attempt: int, reports: list | str | None = None) -> bool:
        return self._dispatcher.report(worker_name, job_id, int(attempt), reports)

    def goodbye(self, worker_name: str, outcome: dict | list | str | None = None, returned: list | None = None) -> None:
        self._dispatcher.goodbye(worker_name, protocol.unpack(outcome), returned)

    @Pyro5.api.oneway
    def trigger_discover_worker(self) -> None:
        self._dispatcher.trigger_discover_worker()
