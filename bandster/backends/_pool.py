"""What the local backends share: a queue of jobs taken by ``n_workers`` named slot threads, and the call of a
plain objective (:class:`Objective`).

A subclass says how one slot runs one job (:meth:`LocalBackend.execute`): in the slot's thread
(:class:`~bandster.backends.threads.ThreadBackend`) or in the slot's child process
(:class:`~bandster.backends.processes.ProcessBackend`). The queue, the time stamps, the journal's events and the
listener calls are here; the backend's lock is never held while the listener is called.
"""

from __future__ import annotations

import abc
import collections
import logging
import os
import threading
import traceback
from collections.abc import Callable
from typing import Any

from bandster.backends._base import Backend, BackendListener
from bandster.core import protocol
from bandster.core.job import Job
from bandster.core.reporting import deliver_reports, mark_stopped, reporting_arguments

logger = logging.getLogger(__name__)

__all__ = ["LocalBackend", "Objective", "Lost"]

#: job arguments an objective gets only if its signature names them (or takes ``**kwargs``); ``config`` and
#: ``budget`` are always passed
OPTIONAL_ARGUMENTS = ("config_id", "working_directory", *protocol.OPTIONAL_ARGUMENTS)


class Objective:
    """``objective(config, budget, **kwargs)`` called as a worker's ``compute``: it receives ``config_id``,
    ``working_directory``, ``config_directory`` and ``previous_budget`` only if its signature names them (or
    takes ``**kwargs``); ``config_directory`` is created first when it is named. ``report(step, loss, info=None)
    -> bool`` and ``should_stop() -> bool`` (:func:`bandster.core.reporting.reporting_arguments`) only if its
    signature names them. Picklable with cloudpickle."""

    def __init__(self, function: Callable[..., Any]) -> None:
        if not callable(function):
            raise TypeError(f"objective must be callable as objective(config, budget, **kwargs), got {function!r}")
        self.function = function
        self.accepted = protocol.accepted_arguments(function)

    def __call__(self, **kwargs: Any) -> Any:
        accepted = self.accepted
        if accepted is not None and protocol.ANY not in accepted:
            for name in OPTIONAL_ARGUMENTS:
                if name not in accepted:
                    kwargs.pop(name, None)
        kwargs.update(reporting_arguments(accepted))
        directory = kwargs.get("config_directory")
        if directory and (accepted is None or "config_directory" in accepted):
            os.makedirs(directory, exist_ok=True)
        return self.function(**kwargs)

    def describe(self) -> str:
        function = self.function
        name = getattr(function, "__qualname__", type(function).__qualname__)
        return f"{getattr(function, '__module__', '?')}.{name}"


class Lost(Exception):
    """Raised by :meth:`LocalBackend.execute` when the slot's worker died while running the job (it is re-run)."""


def job_message(job: Job) -> dict[str, Any]:
    """The job as a worker receives it (:func:`bandster.core.protocol.job_message`'s ``job``)."""
    return protocol.job_message(job.id, job.kwargs, job.attempt, job.timeout, job.decision_steps)["job"]


class LocalBackend(Backend):
    """``n_workers`` slots on this machine, each a named thread that takes the oldest queued job.

    Parameters
    ----------
    n_workers : int
        How many jobs run at once.
    objective : callable
        ``objective(config, budget, **kwargs)`` (see :class:`Objective`); what it returns is checked as a worker
        checks ``compute``'s return (:func:`bandster.core.protocol.check_result`).
    max_attempts : int
        How often a job whose worker died is tried in total (as on the Pyro backend).
    """

    #: the prefix of the slots' names (``<prefix>-0``, ...)
    slot_prefix = "local"

    def __init__(self, n_workers: int, objective: Callable[..., Any], max_attempts: int = 3) -> None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        self.objective = objective if isinstance(objective, Objective) else Objective(objective)
        self.max_attempts = max_attempts
        self._n = n_workers
        self._cond = threading.Condition()  # guards _queue and _stopped
        self._queue: collections.deque[Job] = collections.deque()
        self._stopped = False
        self._listener: BackendListener | None = None
        self._threads: list[threading.Thread] = []
        self._active: dict[tuple, Job] = {}  # the running jobs, by id (guarded by _cond)

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def execute(self, slot: int, job: Job) -> dict[str, Any]:
        """Run ``job`` on ``slot`` and return its outcome (:func:`bandster.core.protocol.run_compute`'s); raise
        :class:`Lost` if the slot's worker died meanwhile."""

    def slot_started(self, slot: int) -> None:
        """Called in the slot's thread before it takes jobs (a process backend starts its child here)."""

    def slot_stopped(self, slot: int) -> None:
        """Called in the slot's thread when it ends."""

    def interrupt(self) -> None:
        """Wake the slots that wait for a running job (called by :meth:`shutdown`, without the lock)."""

    def worker_name(self, slot: int) -> str:
        return f"{self.slot_prefix}-{slot}"

    # ------------------------------------------------------------------ Backend
    def start(self, listener: BackendListener) -> None:
        if self._listener is not None:
            if listener is not self._listener:
                raise RuntimeError(f"this {type(self).__name__} already serves another runner; make one per "
                                   "optimizer")
            return
        if self._stopped:
            raise RuntimeError(f"this {type(self).__name__} is shut down; make a new one")
        self._listener = listener
        for slot in range(self._n):
            thread = threading.Thread(target=self._serve, args=(slot,), daemon=True,
                                      name=f"bandster-{self.slot_prefix}-{slot}")
            self._threads.append(thread)
            thread.start()
        listener.workers_changed(self._n)

    def submit(self, job: Job) -> None:
        job.time_it("submitted")
        with self._cond:
            if self._listener is None or self._stopped:
                raise RuntimeError(f"the {type(self).__name__} is not running: the runner starts it "
                                   "(Runner.attach), and a shut-down backend takes no jobs")
            self._queue.append(job)
            self._cond.notify()

    def withdraw_queued(self) -> list[Job]:
        with self._cond:
            jobs = list(self._queue)
            self._queue.clear()
        return jobs

    @property
    def n_workers(self) -> int:
        return 0 if self._listener is None or self._stopped else self._n

    def cancel(self, job: Job) -> bool:
        """Stop a running job at its next report (False if it is not running)."""
        with self._cond:
            running = self._active.get(job.id)
            if running is None:
                return False
            running.cancelled = True
            return True

    def receive_reports(self, job_id: tuple, attempt: int, reports: list) -> bool:
        """Reports of attempt ``attempt`` of a running job (``[step, loss, info]`` each, oldest first) for the
        runner; True if the job must stop. Reports of an attempt that is no longer running (it timed out, or was
        queued again) are logged and ignored."""
        with self._cond:
            job = self._active.get(job_id)
        if job is None or job.attempt != attempt:
            if reports:
                logger.info("reports of job %s (attempt %s, steps %s) ignored: that attempt is no longer running",
                            job_id, attempt, [r[0] for r in reports])
            return True
        return deliver_reports(self._listener.job_report, job, reports)

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Stop the slots (a running job is abandoned: a child process is killed, a thread is left to finish
        its computation) and join their threads."""
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()
        self.interrupt()
        for thread in self._threads:
            thread.join(10.0)
            if thread.is_alive():
                logger.warning("%s is still in a computation after shutdown; it is left to finish", thread.name)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "n_workers": self._n, "objective": self.objective.describe(),
                "max_attempts": self.max_attempts,
                "how_to_join": f"a {type(self).__name__} has a fixed number of workers ({self._n}); "
                               "run(min_n_workers=...) must not exceed it"}

    # ------------------------------------------------------------------ the slots
    @property
    def stopped(self) -> bool:
        return self._stopped

    def event(self, kind: str, **fields: Any) -> None:
        """A fact for the journal's events."""
        try:
            self._listener.backend_event(kind, **fields)
        except Exception:
            logger.exception("backend_event failed")

    def _take(self) -> Job | None:
        with self._cond:
            while not self._queue and not self._stopped:
                self._cond.wait()
            return None if self._stopped else self._queue.popleft()

    def _serve(self, slot: int) -> None:
        try:
            self.slot_started(slot)
            while True:
                job = self._take()
                if job is None:
                    return
                self._run(slot, job)
        except Exception:
            logger.exception("slot %s of the %s stopped by an unexpected error", slot, type(self).__name__)
        finally:
            self.slot_stopped(slot)

    def _run(self, slot: int, job: Job) -> None:
        job.worker_name = self.worker_name(slot)
        job.time_it("started")
        self.event("dispatch", config_id=list(job.id), budget=job.kwargs.get("budget"), worker=job.worker_name,
                   attempt=job.attempt)
        with self._cond:
            self._active[job.id] = job
        try:
            outcome = self.execute(slot, job)
        except Lost as exc:
            self._inactive(job)
            if self._stopped:
                return
            self._lost(job, str(exc))
            return
        except Exception:  # a fault of the backend itself: the job fails, saying so, instead of being lost
            logger.exception("the %s could not run job %s", type(self).__name__, job.id)
            outcome = {"result": None, "exception": f"the {type(self).__name__} could not run this job:\n"
                                                    f"{traceback.format_exc()}"}
        self._inactive(job)
        if self._stopped:
            return
        job.time_it("finished")
        job.result, job.exception = outcome.get("result"), outcome.get("exception")
        mark_stopped(job)
        self._listener.job_finished(job)

    def _inactive(self, job: Job) -> None:
        with self._cond:
            if self._active.get(job.id) is job:
                del self._active[job.id]

    def _lost(self, job: Job, reason: str) -> None:
        """The job's worker died: queue the job again (attempt + 1), or fail it after ``max_attempts``."""
        worker = job.worker_name
        logger.warning("worker %s %s while running job %s (attempt %d of %d)", worker, reason, job.id,
                       job.attempt, self.max_attempts)
        self.event("worker_lost", worker=worker, reason=reason, workers=self._n, config_id=list(job.id))
        if job.attempt < self.max_attempts:
            job.attempt += 1
            job.worker_name = None
            job.stop_step = job.last_step = None  # the new attempt reports from its start
            job.timestamps.pop("started", None)
            self.event("requeued", config_id=list(job.id), budget=job.kwargs.get("budget"), attempt=job.attempt)
            with self._cond:
                if not self._stopped:
                    self._queue.appendleft(job)
                    self._cond.notify()
            return
        job.time_it("finished")
        job.result = None
        job.exception = f"Worker {worker} {reason} while running this job (attempt {job.attempt} of " \
                        f"{self.max_attempts})."
        self._listener.job_finished(job)


def timeout_error(timeout: float) -> str:
    """The error text of a job killed at its ``job_timeout`` (as on a worker process)."""
    return f"TimeoutError: the job exceeded its job_timeout of {timeout:g} s and was killed"
