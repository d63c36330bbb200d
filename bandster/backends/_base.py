"""The backend interface: where jobs run.

A backend executes; it never decides what to evaluate. The runner (:class:`bandster.runtime.runner.Runner`)
submits jobs and is told, through the :class:`BackendListener` it passes to :meth:`Backend.start`, about finished
jobs, intermediate reports and the number of workers.
"""

from __future__ import annotations

import abc
import threading
import time
from typing import Any, Protocol

from bandster.core.job import Job
from bandster.schedulers._base import Decision

__all__ = ["Backend", "BackendListener"]


class BackendListener(Protocol):
    """What a backend tells the runner (each method may be called from any of the backend's threads)."""

    def job_finished(self, job: Job) -> None:
        """A job ended: ``job.result``/``job.exception``, ``job.timestamps`` and ``job.worker_name`` are set."""

    def workers_changed(self, n_workers: int) -> None:
        """The number of workers that can take jobs changed."""

    def job_report(self, job: Job, step: float, loss: float, info: Any = None) -> Decision:
        """A running job reported an intermediate value; the answer is passed back to the job."""

    def backend_event(self, kind: str, **fields: Any) -> None:
        """A fact for the journal's events (dispatches, workers joining and leaving, ...)."""


class Backend(abc.ABC):
    """Executes jobs for a runner.

    Life cycle: :meth:`start` (once, with the listener), then any number of :meth:`submit`,
    :meth:`withdraw_queued` and :meth:`cancel` calls, then :meth:`shutdown`. ``submit`` never blocks: a backend
    queues what it cannot start at once. Time stamps (``submitted``, ``started``, ``finished``) are taken with
    :meth:`now`, so a simulated backend can keep a virtual clock.
    """

    #: a short name for the journal's manifest
    name = "backend"
    #: True when the runner may copy checkpoint directories (PBT's exploit) in a thread of its own and submit the
    #: job when the copy is done; a backend with a virtual clock (nothing happens outside its ``wait``) says False,
    #: and the runner then copies before it submits.
    background_copies = True

    @abc.abstractmethod
    def start(self, listener: BackendListener) -> None:
        """Begin serving ``listener`` (idempotent for the same listener)."""

    @abc.abstractmethod
    def submit(self, job: Job) -> None:
        """Queue ``job`` (``job.kwargs`` is what ``compute`` receives; ``job.timeout`` its limit or None)."""

    @abc.abstractmethod
    def withdraw_queued(self) -> list[Job]:
        """Take back every job that has not started, oldest first."""

    @abc.abstractmethod
    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Stop serving; with ``shutdown_workers``, end the workers too. Joins the backend's threads."""

    @property
    @abc.abstractmethod
    def n_workers(self) -> int:
        """How many jobs can run at once now."""

    @property
    def capacity(self) -> int:
        """How many jobs the runner should keep outstanding: :attr:`n_workers`, unless workers may hold jobs
        ahead of the one they compute (the :class:`~bandster.backends.PyroBackend` with short jobs)."""
        return self.n_workers

    def cancel(self, job: Job) -> bool:
        """Ask a running job to stop (its compute sees the stop at its next report); True if it was found."""
        return False

    def now(self) -> float:
        """The clock of this backend's time stamps (seconds; ``time.time()`` unless simulated)."""
        return time.time()

    def monotonic(self) -> float:
        """The clock of limits such as ``max_wallclock_time`` (``time.monotonic()`` unless simulated)."""
        return time.monotonic()

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait for news, holding ``condition`` (the runner's). Real backends deliver news from their own threads,
        so this waits on the condition; a simulated backend advances its clock to the next event instead."""
        condition.wait(timeout)

    def describe(self) -> dict[str, Any]:
        """What run.json records about the backend."""
        return {"name": self.name}

    def how_to_add_workers(self) -> str:
        """What the runner logs while it waits for workers: how to start them, and anything the backend sees
        that explains their absence. Called without the runner's lock held."""
        return "start workers (" + str(self.describe().get("how_to_join", "see docs/workers.md")) + ")"
