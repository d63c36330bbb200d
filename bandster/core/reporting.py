"""The job side of intermediate reports: what a running computation calls, whatever backend runs it.

A backend that runs a computation installs a :class:`Reporter` for the thread that runs it
(:func:`reporting_to`); :meth:`bandster.core.worker.Worker.report`, :meth:`~bandster.core.worker.Worker.should_stop`
and the ``report`` argument of plain objectives all go to :func:`current_reporter`. Outside any job (a
``compute`` called directly, in a unit test of the user's own) the :class:`NullReporter` answers: reports are
checked and dropped, and the job never stops.

The backend's reporter carries each report to the runner (``BackendListener.job_report``), which journals it and
asks the scheduler; the answer comes back as the return value of :meth:`Reporter.report`.
"""

from __future__ import annotations

import abc
import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["NullReporter", "Reporter", "check_report", "current_reporter", "reporting_to"]


class Reporter(abc.ABC):
    """Where the intermediate reports of one running job go.

    Implementations are backend-specific (a direct call in a thread, a message to the parent process, a Pyro
    call to the dispatcher, a Dask queue). Every implementation validates its arguments with
    :func:`check_report` first, so a bad report raises the same error on every backend.
    """

    @abc.abstractmethod
    def report(self, step: float, loss: float, info: Any = None) -> bool:
        """Record one point of the job's learning curve; True once the job should stop."""

    @abc.abstractmethod
    def should_stop(self) -> bool:
        """True once the job should stop (asked without reporting)."""


class NullReporter(Reporter):
    """The reporter outside any job: reports are checked and dropped; the job never stops."""

    def report(self, step: float, loss: float, info: Any = None) -> bool:
        check_report(step, loss, info)
        return False

    def should_stop(self) -> bool:
        return False


_NULL = NullReporter()
_local = threading.local()


def current_reporter() -> Reporter:
    """The reporter of the job this thread computes (a :class:`NullReporter` outside any job)."""
    return getattr(_local, "reporter", None) or _NULL


@contextlib.contextmanager
def reporting_to(reporter: Reporter) -> Iterator[Reporter]:
    """Install ``reporter`` for the calling thread while the block runs (nesting restores the outer one)."""
    previous = getattr(_local, "reporter", None)
    _local.reporter = reporter
    try:
        yield reporter
    finally:
        _local.reporter = previous


def check_report(step: Any, loss: Any, info: Any = None) -> tuple[float, float, Any]:
    """Validate one report: ``(step, loss, info)`` with step and loss as floats, or a clear error.

    ``step`` must be a finite number > 0 (budget units: epochs, iterations, seconds); ``loss`` a number (NaN and
    infinities are allowed and recorded as such: a diverged run reports them); ``info`` anything the journal can
    hold (None, or a dict of builtins).
    """
    if not isinstance(step, bool) and not isinstance(step, (int, float)):
        try:
            step = float(step)  # numpy scalars
        except (TypeError, ValueError):
            step = str(step)
    if isinstance(step, (bool, str)) or not math.isfinite(float(step)):
        raise TypeError(f"report(step={step!r}): the step must be a finite number (the epoch or budget reached)")
    if float(step) <= 0:
        raise ValueError(f"report(step={step!r}): the step must be > 0 (budget units reached so far)")
    if isinstance(loss, bool) or not isinstance(loss, (int, float)):
        try:
            loss = float(loss)  # numpy scalars, 0-d tensors
        except (TypeError, ValueError):
            raise TypeError(f"report(loss={loss!r}): the loss must be a number") from None
    if info is not None and not isinstance(info, dict):
        raise TypeError(f"report(info={info!r}): info must be None or a dict")
    return float(step), float(loss), info
