"""Jobs as tasks on a Dask cluster (:class:`DaskBackend`): ``distributed.LocalCluster``, ``dask-jobqueue``
clusters on SLURM/PBS/SGE/LSF/HTCondor, or any scheduler a ``distributed.Client`` reaches.

The runner keeps deciding; Dask only executes. ``dask`` and ``distributed`` are imported only when this module's
classes are used (``pip install 'bandster[dask]'``).
"""

from __future__ import annotations

import collections
import itertools
import logging
import math
import multiprocessing.connection
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from bandster.backends._base import Backend, BackendListener
from bandster.backends._pool import Objective, job_message, timeout_error
from bandster.core import protocol
from bandster.core.job import Job
from bandster.core.reporting import REPORT_INTERVAL, JobReporter, deliver_reports, mark_stopped
from bandster.core.waiting import WARNING_INTERVAL

logger = logging.getLogger(__name__)

__all__ = ["DaskBackend", "child_main", "worker_name"]

#: the scheduler's event topic that announces workers joining and leaving
EVENT_TOPIC = "all"
#: how many recent job durations decide whether jobs are short (see ``prefetch_below``)
RECENT = 8


class _Flight:
    """One job in Dask: its task key, its future, and whether a lost worker's event counted an attempt of it."""

    __slots__ = ("job", "key", "future", "death_counted")

    def __init__(self, job: Job, key: str) -> None:
        self.job = job
        self.key = key
        self.future: Any = None
        self.death_counted = False  # a lost worker's event counted an attempt of this task


class DaskBackend(Backend):
    """Runs each job as one task on a Dask cluster through ``client`` (a ``distributed.Client``).

    One task per job, submitted when the scheduler has a job and a slot is free: the jobs in flight are bounded
    by the cluster's threads (counting only the workers that have ``resources``), read from the Dask scheduler
    whenever a worker joins or leaves, so an adaptive ``dask-jobqueue`` cluster that grows or shrinks gets as
    many jobs as it can run. While jobs are short (the last few took less than ``prefetch_below`` s), up to
    ``queued_per_thread`` more tasks per thread wait in Dask, hiding the round trip to the scheduler (as the
    Pyro backend's workers hold short jobs ahead).

    Faults and attempts. Dask re-runs the tasks of a worker that died (up to its
    ``distributed.scheduler.allowed-failures``, default 3, then ``KilledWorker``) without telling the client;
    this backend subscribes to the scheduler's worker events and maps them onto bandster's ``max_attempts``:

    * each death of a worker that held one of our tasks (computing it, or queued on that worker) counts as one
      attempt of that job: the journal's events get ``worker_lost``, ``requeued`` (attempt + 1) and the next
      ``dispatch``, as on the Pyro backend;
    * after ``max_attempts`` attempts the task is cancelled and the job recorded as failed, saying so;
    * if Dask gives up first (``KilledWorker``, when ``allowed-failures`` < ``max_attempts`` - 1), the job is
      submitted again as a new task while attempts remain. So ``max_attempts`` alone decides, whatever the
      scheduler's setting; a result is taken once (the task's future), so a job is never counted twice.

    ``job_timeout``: the computation runs in a child process of the Dask worker started with ``subprocess``
    (Dask's worker processes are daemonic and may not start ``multiprocessing`` children), killed at the limit;
    the job fails with a ``TimeoutError`` and the worker takes its next task. Without a limit the computation
    runs in the Dask worker's thread.

    Intermediate reports (an objective's ``report(step, loss)`` argument, or
    :func:`bandster.core.reporting.report`) travel through a ``distributed.Queue`` to this process, where the
    runner's scheduler decides; at the scheduler's decision steps the task waits for the answer on a queue of its
    own, so ``report`` returns True on the report where the job must stop (other reports are batched, as on the
    process backend). Nothing polls files. A stopped job's result is marked ``"stopped_at"``.

    The objective is pickled by Dask (cloudpickle): functions from a notebook, closures and lambdas work; a
    function of a module must be importable on the workers. Checkpoint directories (``config_directory``) are
    paths under ``working_directory``: on a cluster, use a filesystem every node shares, as with bandster's own
    workers.

    Parameters
    ----------
    client : distributed.Client
        A connected client: ``Client(LocalCluster(...))``, ``Client(SLURMCluster(...))``,
        ``Client(scheduler_file="...")`` or ``Client("tcp://host:8786")``. It stays the caller's: the backend
        never closes it or the cluster.
    objective : callable
        ``objective(config, budget, **kwargs)`` returning ``{'loss': float, 'info': ...}`` (checked as a
        worker's ``compute`` return is); it receives ``config_id``, ``working_directory``,
        ``config_directory`` and ``previous_budget`` when its signature names them (or takes ``**kwargs``).
    resources : dict, optional
        Dask resources each job needs, e.g. ``{"GPU": 1}`` for workers started with
        ``--resources "GPU=1"``: such a worker takes one job at a time, and workers without the resource none.
    max_attempts : int
        How often a job whose Dask worker died is tried in total.
    queued_per_thread : int
        Tasks per worker thread that may wait in Dask beyond the running ones while jobs are short.
    prefetch_below : float
        Seconds: jobs shorter than this count as short (default 1 s: a round trip through the Dask scheduler
        takes milliseconds, and synchronous HyperBand's short stages then keep every worker busy; 0 turns
        queueing off, so that an asynchronous scheduler's promotions never wait behind queued tasks).
    pending : int
        Tasks kept waiting in Dask beyond the ones the workers can run now. 0 (default) for a cluster of fixed
        size; for an adaptive cluster (``cluster.adapt(...)``), which grows only while tasks wait, the number of
        workers it may add (e.g. ``maximum - minimum``): Dask then sees that much demand and starts workers, and
        the backend gives each new slot a job.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from distributed import Client, LocalCluster
    >>> from bandster.optimizers import HyperBand
    >>> def objective(config, budget):
    ...     return {'loss': (config['x'] - 0.3) ** 2 + 1 / budget, 'info': {}}
    >>> cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    >>> client = Client(cluster)
    >>> hb = HyperBand(configspace=CS.ConfigurationSpace({'x': (0.0, 1.0)}, seed=0), run_id='dask_doc',
    ...                min_budget=1, max_budget=9, eta=3, seed=0, working_directory='dask_doc',
    ...                backend=DaskBackend(client, objective))
    >>> len(hb.run(n_iterations=1, progress=False).get_all_runs())
    13
    >>> hb.shutdown(); client.close(); cluster.close()
    """

    name = "dask"

    def __init__(
        self,
        client: Any,
        objective: Callable[..., Any],
        resources: Mapping[str, float] | None = None,
        max_attempts: int = 3,
        queued_per_thread: int = 2,
        prefetch_below: float = 1.0,
        pending: int = 0,
    ) -> None:
        try:
            import cloudpickle
            import distributed
        except ImportError as exc:
            raise ImportError("DaskBackend needs dask and distributed: pip install 'bandster[dask]'") from exc
        if not isinstance(client, distributed.Client):
            raise TypeError(f"client must be a distributed.Client (e.g. Client(LocalCluster()) or "
                            f"Client(scheduler_file=...)), got {type(client).__name__}")
        if client.asynchronous:
            raise ValueError("DaskBackend needs a synchronous distributed.Client (asynchronous=False)")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        if isinstance(queued_per_thread, bool) or not isinstance(queued_per_thread, int) or queued_per_thread < 0:
            raise ValueError(f"queued_per_thread must be an integer >= 0, got {queued_per_thread!r}")
        if (isinstance(prefetch_below, bool) or not isinstance(prefetch_below, int | float)
                or not math.isfinite(prefetch_below) or prefetch_below < 0):
            raise ValueError(f"prefetch_below must be a number of seconds >= 0 (0: never queue tasks ahead), "
                             f"got {prefetch_below!r}")
        if isinstance(pending, bool) or not isinstance(pending, int) or pending < 0:
            raise ValueError(f"pending must be an integer >= 0, got {pending!r}")
        if resources is not None:
            if not isinstance(resources, Mapping) or not all(
                    isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and v > 0
                    for k, v in resources.items()):
                raise ValueError(f"resources must be a dict of resource names to positive amounts, e.g. "
                                 f"{{'GPU': 1}}, got {resources!r}")
            resources = dict(resources)
        self.client = client
        self.objective = objective if isinstance(objective, Objective) else Objective(objective)
        try:
            payload = cloudpickle.dumps(self.objective)
        except Exception as exc:
            raise TypeError(f"the objective {self.objective.describe()} cannot be sent to Dask workers "
                            f"({type(exc).__name__}: {exc}); objects it uses (open files, locks, sockets, clients) "
                            "must be created inside it") from exc
        self.resources = resources or None
        self.max_attempts = max_attempts
        self.queued_per_thread = queued_per_thread
        self.prefetch_below = float(prefetch_below)
        self.pending = pending
        self._token = uuid.uuid4().hex[:12]
        self._channel = f"bandster-reports-{self._token}"
        self._task = _Task(self.objective, payload)
        self._keys = itertools.count()
        self._cond = threading.Condition()  # guards everything below
        self._listener: BackendListener | None = None
        self._stopped = False
        self._queue: collections.deque[Job] = collections.deque()  # jobs waiting for a slot
        self._inflight: dict[str, _Flight] = {}
        self._finished: list[str] = []  # keys whose futures are done, not yet taken
        self._lost: list[tuple[str, list[str], str]] = []  # (worker, keys, reason) from the scheduler's events
        self._membership: list[tuple[str, str, Any]] = []  # ("worker_joined" | "worker_left", worker, host)
        self._slots = 0
        self._slots_told: int | None = None
        self._workers: dict[str, Any] = {}
        self._identity_seq = itertools.count()
        self._identity_applied = -1
        self._durations: collections.deque[float] = collections.deque(maxlen=RECENT)
        self._threads: list[threading.Thread] = []
        self._reports: Any = None

    # ------------------------------------------------------------------ Backend
    def start(self, listener: BackendListener) -> None:
        from distributed import Queue

        if self._listener is not None:
            if listener is not self._listener:
                raise RuntimeError("this DaskBackend already serves another runner; make one backend per optimizer")
            return
        if self._stopped:
            raise RuntimeError("this DaskBackend is shut down; make a new one")
        if self.client.status not in ("running", "connecting", "newly-created"):
            raise RuntimeError(f"the distributed.Client is {self.client.status}; connect it first")
        self._listener = listener
        self._reports = Queue(self._channel, client=self.client)
        self.client.subscribe_topic(EVENT_TOPIC, self._on_event)
        info = self.client.scheduler_info(n_workers=-1)
        self._apply_workers(next(self._identity_seq), info.get("workers", {}))
        for target, name in ((self._serve, "results"), (self._serve_reports, "reports")):
            thread = threading.Thread(target=target, name=f"bandster-dask-{name}-{self._token}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def submit(self, job: Job) -> None:
        job.time_it("submitted")
        with self._cond:
            if self._listener is None or self._stopped:
                raise RuntimeError("the DaskBackend is not running: the runner starts it (Runner.attach), and a "
                                   "shut-down backend takes no jobs")
            if self._queue or len(self._inflight) >= self.capacity:
                self._queue.append(job)
                return
        self._send(job)

    def withdraw_queued(self) -> list[Job]:
        with self._cond:
            jobs = list(self._queue)
            self._queue.clear()
        return jobs

    def cancel(self, job: Job) -> bool:
        """Stop a running job at its next report (False if it is not in Dask)."""
        with self._cond:
            flight = next((f for f in self._inflight.values() if tuple(f.job.id) == tuple(job.id)), None)
            if flight is None:
                return False
            flight.job.cancelled = True
        return True

    @property
    def n_workers(self) -> int:
        """The threads of the Dask workers that can take a job (with ``resources``: as many jobs as their
        resources allow); with ``pending``, never below 1, so that the runner submits the jobs an adaptive
        cluster needs to see before it starts a worker."""
        if self._listener is None or self._stopped:
            return 0
        return max(self._slots, 1 if self.pending else 0)

    @property
    def capacity(self) -> int:
        if self._listener is None or self._stopped:
            return 0
        slots = self._slots
        with self._cond:
            short = len(self._durations) == RECENT and max(self._durations) < self.prefetch_below
        return (slots * (1 + self.queued_per_thread) if short else slots) + self.pending

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Cancel the tasks in flight and stop the backend's threads. The client and its cluster stay open (they
        are the caller's; ``shutdown_workers`` does not apply)."""
        with self._cond:
            if self._stopped:
                return
            self._stopped = True
            futures = [f.future for f in self._inflight.values() if f.future is not None]
            self._inflight.clear()
            self._queue.clear()
            self._cond.notify_all()
        if self._listener is None:
            return
        try:
            self.client.unsubscribe_topic(EVENT_TOPIC)
        except Exception:  # noqa: BLE001 - the client may be closed already
            logger.debug("unsubscribing from the scheduler's events failed", exc_info=True)
        if futures and self.client.status == "running":
            try:
                self.client.cancel(futures)
            except Exception:  # noqa: BLE001
                logger.debug("cancelling %d tasks failed", len(futures), exc_info=True)
        if self._reports is not None and self.client.status == "running":
            try:
                self._reports.put(None, timeout=10)  # wakes the report thread
            except Exception:  # noqa: BLE001
                logger.debug("could not wake the report thread", exc_info=True)
        for thread in self._threads:
            thread.join(15.0)
            if thread.is_alive():
                logger.warning("%s did not end within 15 s of shutdown", thread.name)
        if self._reports is not None and self.client.status == "running":
            try:
                self._reports.close()
            except Exception:  # noqa: BLE001
                pass

    def describe(self) -> dict[str, Any]:
        address = getattr(self.client.scheduler, "address", None)
        return {"name": self.name, "scheduler": address, "objective": self.objective.describe(),
                "resources": self.resources, "max_attempts": self.max_attempts, "pending": self.pending,
                "how_to_join": f"add Dask workers to the scheduler {address}"
                               + (f" with resources {self.resources} (dask worker --resources "
                                  f"\"{','.join(f'{k}={v:g}' for k, v in self.resources.items())}\")"
                                  if self.resources else "")
                               + ", e.g. `dask worker --scheduler-file FILE` or cluster.scale(n)"}

    def how_to_add_workers(self) -> str:
        text = super().how_to_add_workers()
        with self._cond:
            workers = dict(self._workers)
        if workers and self.resources:
            have = {address: w.get("resources") for address, w in workers.items()}
            text += f"; the scheduler's workers have resources {have}, the jobs need {self.resources}"
        return text

    # ------------------------------------------------------------------ sending
    def _send(self, job: Job, announce: bool = True) -> None:
        """Submit one job as one task (without the lock: ``client.submit`` may take a while); ``announce``:
        journal its dispatch (not when a lost worker's event already did for this attempt)."""
        key = f"bandster-{self._token}-{next(self._keys)}"
        flight = _Flight(job, key)
        with self._cond:
            if self._stopped:
                return
            self._inflight[key] = flight
        job.worker_name = None
        job.timestamps.pop("started", None)
        if announce:
            self.event("dispatch", config_id=list(job.id), budget=job.kwargs.get("budget"), worker=None,
                       attempt=job.attempt)
        future = self.client.submit(self._task, job_message(job), self._channel, key, key=key, pure=False,
                                    resources=self.resources, retries=0)
        with self._cond:
            flight.future = future
        future.add_done_callback(self._future_done)

    def _future_done(self, future: Any) -> None:  # a thread of Dask's
        with self._cond:
            self._finished.append(future.key)
            self._cond.notify_all()

    def _fill(self) -> None:
        """Send waiting jobs while slots are free (the backend's thread)."""
        while True:
            with self._cond:
                if self._stopped or not self._queue or len(self._inflight) >= self.capacity:
                    return
                job = self._queue.popleft()
            self._send(job)

    # ------------------------------------------------------------------ the cluster's size and faults
    async def _on_event(self, event: tuple) -> None:  # Dask's event loop
        _, message = event
        if not isinstance(message, dict):
            return
        action = message.get("action")
        if action not in ("add-worker", "remove-worker"):
            return
        if action == "remove-worker":
            with self._cond:
                mine = [k for k in message.get("processing-tasks") or () if k in self._inflight]
                if mine:
                    reason = "was removed from the Dask scheduler (died or left)"
                    self._lost.append((worker_name(str(message.get("worker"))), mine, reason))
                    self._cond.notify_all()
        seq = next(self._identity_seq)
        try:
            info = await self.client.scheduler.identity(n_workers=-1)
        except Exception:  # noqa: BLE001 - the client is closing
            logger.debug("could not ask the Dask scheduler for its workers", exc_info=True)
            return
        self._apply_workers(seq, info.get("workers", {}))

    def _apply_workers(self, seq: int, workers: dict[str, Any]) -> None:
        slots = 0
        for info in workers.values():
            if info.get("status", "running") not in ("running", "init"):
                continue
            n = int(info.get("nthreads") or 0)
            for resource, need in (self.resources or {}).items():
                n = min(n, int((info.get("resources") or {}).get(resource, 0) // need))
            slots += max(0, n)
        with self._cond:
            if seq < self._identity_applied:
                return
            self._identity_applied = seq
            for address in workers.keys() - self._workers.keys():
                self._membership.append(("worker_joined", worker_name(address), workers[address].get("host")))
            for address in self._workers.keys() - workers.keys():
                self._membership.append(("worker_left", worker_name(address), None))
            self._workers = dict(workers)
            self._slots = slots
            self._cond.notify_all()

    def _take_lost(self, worker: str, keys: list[str], reason: str) -> None:
        """Dask re-runs the tasks of a lost worker by itself: count an attempt for each, or end it."""
        for key in keys:
            with self._cond:
                flight = self._inflight.get(key)
            if flight is None:
                continue
            job = flight.job
            logger.warning("Dask worker %s %s while it held job %s (attempt %d of %d)", worker, reason, job.id,
                           job.attempt, self.max_attempts)
            self.event("worker_lost", worker=worker, reason=reason, workers=self._slots, config_id=list(job.id))
            if job.attempt < self.max_attempts:
                job.attempt += 1
                job.stop_step = job.last_step = None  # the new attempt reports from its start
                flight.death_counted = True
                self.event("requeued", config_id=list(job.id), budget=job.kwargs.get("budget"), attempt=job.attempt)
                self.event("dispatch", config_id=list(job.id), budget=job.kwargs.get("budget"), worker=None,
                           attempt=job.attempt)
                continue
            with self._cond:
                if self._inflight.pop(key, None) is None:
                    continue
            try:
                self.client.cancel([flight.future])
            except Exception:  # noqa: BLE001
                logger.debug("cancelling %s failed", key, exc_info=True)
            self._fail(job, f"Dask worker {worker} {reason} while running this job (attempt {job.attempt} of "
                            f"{self.max_attempts}).", worker)

    # ------------------------------------------------------------------ results
    def _serve(self) -> None:
        """The backend's thread: results, lost workers and changes of the cluster's size go to the listener."""
        try:
            while True:
                with self._cond:
                    while not (self._finished or self._lost or self._membership or self._stopped
                               or self._slots != self._slots_told):
                        self._cond.wait()
                    if self._stopped:
                        return
                    finished, self._finished = self._finished, []
                    lost, self._lost = self._lost, []
                    membership, self._membership = self._membership, []
                    slots = self._slots if self._slots != self._slots_told else None
                    self._slots_told = self._slots
                    told = self.n_workers
                for worker, keys, reason in lost:
                    self._take_lost(worker, keys, reason)
                gone = {worker for worker, _, _ in lost}
                for kind, worker, host in membership:
                    if worker not in gone:  # a worker lost with jobs is journaled as worker_lost
                        self.event(kind, worker=worker, host=host, workers=self._slots)
                if finished:
                    self._collect(finished)
                if slots is not None:
                    self.event("workers_changed", workers=slots)
                    self._listener.workers_changed(told)
                self._fill()
        except Exception:
            logger.exception("the DaskBackend's result thread stopped by an unexpected error")

    def _collect(self, keys: list[str]) -> None:
        with self._cond:
            flights = [f for f in (self._inflight.pop(k, None) for k in keys) if f is not None]
        done = [f for f in flights if f.future.status == "finished"]
        outcomes: list[Any] = []
        if done:
            try:
                outcomes = self.client.gather([f.future for f in done])
            except Exception:  # noqa: BLE001 - one by one, so one bad result does not take the others
                outcomes = []
                for flight in done:
                    try:
                        outcomes.append(flight.future.result())
                    except Exception as exc:  # noqa: BLE001
                        outcomes.append(exc)
        for flight, outcome in zip(done, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                self._task_failed(flight, outcome)
            else:
                self._finish(flight.job, outcome)
        for flight in flights:
            if flight.future.status == "finished":
                continue
            try:
                error = flight.future.exception() if flight.future.status == "error" else None
            except Exception as exc:  # noqa: BLE001 - cancelled
                error = exc
            self._task_failed(flight, error)

    def _task_failed(self, flight: _Flight, error: BaseException | None) -> None:
        """The task itself failed (our task never raises for the objective's errors): the worker died more
        often than Dask allows (``KilledWorker``), the task was cancelled, or the objective could not be loaded."""
        job = flight.job
        if self._stopped:
            return
        kind = type(error).__name__ if error is not None else "cancelled"
        if kind in ("KilledWorker", "cancelled", "CancelledError", "FutureCancelledError"):
            counted = flight.death_counted  # the last death was counted from the scheduler's events
            if not counted:
                self.event("worker_lost", worker=None, reason=f"the task ended with {kind}",
                           workers=self._slots, config_id=list(job.id))
                if job.attempt >= self.max_attempts:
                    self._fail(job, f"the Dask task of this job ended with {kind}: {error} (attempt {job.attempt} "
                                    f"of {self.max_attempts})", None)
                    return
                job.attempt += 1
                job.stop_step = job.last_step = None
                self.event("requeued", config_id=list(job.id), budget=job.kwargs.get("budget"), attempt=job.attempt)
            logger.warning("Dask gave up on the task of job %s (%s); submitting it again (attempt %d of %d)",
                           job.id, kind, job.attempt, self.max_attempts)
            self._send(job, announce=not counted)  # a counted death journaled this attempt's dispatch already
            return
        text = "".join(traceback.format_exception(error)) if error is not None else kind
        self._fail(job, f"the Dask worker could not run this job (is the objective importable there?):\n{text}",
                   None)

    def _finish(self, job: Job, outcome: dict[str, Any]) -> None:
        job.time_it("finished")
        duration = float(outcome.get("duration") or 0.0)
        job.timestamps["started"] = job.timestamps["finished"] - duration
        job.worker_name = outcome.get("worker")
        job.result, job.exception = outcome.get("result"), outcome.get("exception")
        mark_stopped(job)
        with self._cond:
            self._durations.append(duration)
        self._listener.job_finished(job)

    def _fail(self, job: Job, text: str, worker: str | None) -> None:
        job.time_it("finished")
        job.worker_name = job.worker_name or worker
        job.result, job.exception = None, text
        self._listener.job_finished(job)

    def event(self, kind: str, **fields: Any) -> None:
        try:
            self._listener.backend_event(kind, **fields)
        except Exception:
            logger.exception("backend_event failed")

    # ------------------------------------------------------------------ reports
    def _serve_reports(self) -> None:
        """The backend's report thread: the reports of a task go to the runner
        (:func:`bandster.core.reporting.deliver_reports`); when the task waits, whether it must stop goes back on
        the task's own queue."""
        from distributed import Queue

        while True:
            try:
                item = self._reports.get()
            except Exception:  # noqa: BLE001 - the client closed under us
                if not self._stopped:
                    logger.exception("the DaskBackend's report channel failed; reports are no longer delivered")
                return
            if item is None or self._stopped:
                return
            with self._cond:
                flight = self._inflight.get(item.get("key"))
            if flight is None:
                logger.info("reports of task %s ignored: its job is no longer running here", item.get("key"))
                stop = True
            else:
                stop = deliver_reports(self._listener.job_report, flight.job, item.get("reports") or [])
            if not item.get("wait"):
                continue
            try:
                reply = Queue(item["reply"], client=self.client)
                reply.put(bool(stop))
                reply.close()
            except Exception:  # noqa: BLE001
                logger.warning("the answer to the reports of task %s could not be sent back", item.get("key"),
                               exc_info=True)


class _Task:
    """What a Dask worker runs for one job (pickled by Dask once per backend and cached by it)."""

    def __init__(self, objective: Objective, payload: bytes) -> None:
        self.objective = objective
        self.payload = payload  # the objective, cloudpickled, for a child process under job_timeout

    def __call__(self, message: dict[str, Any], channel: str, key: str) -> dict[str, Any]:
        worker = _worker_name()
        link = _QueueLink(channel, key)
        try:
            if message.get("timeout") is None:
                reporter = JobReporter(link.send, message.get("decide"), REPORT_INTERVAL)
                outcome = _run(self.objective, message, reporter)
            else:
                outcome = _run_in_child(self.payload, message, float(message["timeout"]), link.send)
        finally:
            link.close()
        outcome["worker"] = worker
        return outcome


def worker_name(address: str) -> str:
    """How runs and the journal's events name a Dask worker: ``dask.<address>`` (a restarted worker process has
    a new address)."""
    return f"dask.{address}"


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return worker_name(get_worker().address)
    except Exception:  # noqa: BLE001 - not in a worker (a test calling the task directly)
        return worker_name(f"local-{os.getpid()}")


def _run(objective: Any, message: dict[str, Any], reporter: JobReporter | None) -> dict[str, Any]:
    """:func:`bandster.core.protocol.run_compute` with the job's reporter, with ``SystemExit``/``KeyboardInterrupt``
    recorded as a failure (they must not end a Dask worker's thread)."""
    try:
        return protocol.run_compute(objective, message, {protocol.ANY}, reporter)
    except BaseException:  # noqa: BLE001 - the objective's, recorded
        return {"id": list(message["id"]), "result": None, "exception": traceback.format_exc(), "duration": 0.0}


class _QueueLink:
    """A task's side of the report channel: ``send(reports, wait)`` (a :class:`~bandster.core.reporting.JobReporter`'s
    ``send``) puts the reports on the backend's queue and, with ``wait``, takes whether to stop from the task's own
    queue (created on the first report, removed when the task ends)."""

    def __init__(self, channel: str, key: str) -> None:
        self.channel = channel
        self.key = key
        self.reply_name = f"{channel}-{key}"
        self._reports: Any = None
        self._reply: Any = None

    def send(self, reports: list, wait: bool) -> bool | None:
        from distributed import Queue

        if self._reply is None:
            self._reply = Queue(self.reply_name)
            self._reports = Queue(self.channel)
        self._reports.put({"key": self.key, "reply": self.reply_name, "reports": reports, "wait": bool(wait)})
        if not wait:
            return None
        since = time.monotonic()
        while True:
            try:
                return bool(self._reply.get(timeout=WARNING_INTERVAL))
            except TimeoutError:
                logger.warning("task %s has waited %.0f s for the answer to its report at step %g", self.key,
                               time.monotonic() - since, reports[-1][0] if reports else float("nan"))

    def close(self) -> None:
        for queue in (self._reply, self._reports):
            if queue is not None:
                try:
                    queue.close()
                except Exception:  # noqa: BLE001
                    pass


# ---------------------------------------------------------------------- the child process under job_timeout
def _run_in_child(payload: bytes, message: dict[str, Any], timeout: float, send: Any) -> dict[str, Any]:
    """Run the job in a ``subprocess`` child (killed at ``timeout`` s); its reports are relayed to ``send``."""
    ours, theirs = socket.socketpair()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    start = time.monotonic()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from bandster.backends.dask import child_main; child_main()",
             str(theirs.fileno())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
    finally:
        theirs.close()
    connection = multiprocessing.connection.Connection(ours.detach())
    error = None
    try:
        connection.send_bytes(payload)
        connection.send(message)
        deadline = start + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not connection.poll(remaining):
                error = timeout_error(timeout)
                break
            try:
                kind, *value = connection.recv()
            except (EOFError, OSError):
                process.wait()
                error = f"the job's child process died (exit code {process.returncode}) without a result"
                break
            if kind == "outcome":
                return value[0]
            reports, wait = value
            try:
                answer = send(reports, wait)
            except Exception:  # noqa: BLE001 - the channel failed: the job stops rather than run blind
                logger.exception("the reports of the job could not be sent; it is told to stop")
                answer = True
            if wait:
                connection.send(bool(answer))
    except (OSError, EOFError) as exc:
        error = f"the job's child process could not be reached ({exc})"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        connection.close()
    return {"id": list(message["id"]), "result": None, "exception": error, "duration": time.monotonic() - start}


def child_main() -> None:
    """The child process of a job under ``job_timeout``: read the objective and the job from the inherited socket
    (``sys.argv[1]``), run it, send the outcome. Dies with its Dask worker (Linux)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the parent kills it at the limit anyway
        pass
    import cloudpickle

    connection = multiprocessing.connection.Connection(int(sys.argv[1]))
    objective = cloudpickle.loads(connection.recv_bytes())
    message = connection.recv()

    def send(reports: list, wait: bool) -> bool | None:
        connection.send(("reports", reports, wait))
        return bool(connection.recv()) if wait else None

    outcome = _run(objective, message, JobReporter(send, message.get("decide"), REPORT_INTERVAL))
    connection.send(("outcome", outcome))
    connection.close()
