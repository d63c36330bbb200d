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
import logging
import math
import threading
import time
from typing import Any

from bandster.core._convert import to_builtin

logger = logging.getLogger(__name__)

__all__ = ["JobReporter", "NullReporter", "Reporter", "check_report", "current_reporter", "deliver_reports",
           "mark_stopped", "report", "reporting_arguments", "reporting_to", "should_stop"]


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


class reporting_to:  # noqa: N801 - used as a function: ``with reporting_to(reporter):``
    """Install ``reporter`` for the calling thread while the block runs (nesting restores the outer one).

    A class rather than a generator-based context manager: every job of every backend enters it, and this costs a
    fraction of a microsecond.
    """

    __slots__ = ("reporter", "previous")

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.previous: Reporter | None = None

    def __enter__(self) -> Reporter:
        self.previous = getattr(_local, "reporter", None)
        _local.reporter = self.reporter
        return self.reporter

    def __exit__(self, *exc: Any) -> None:
        _local.reporter = self.previous


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


# ---------------------------------------------------------------------------------------------------- objectives
#: the arguments through which a plain objective reports: it gets them only if its signature names them
REPORT_ARGUMENTS = ("report", "should_stop")


def report(step: float, loss: float, info: Any = None) -> bool:
    """Report to the job this thread computes (:func:`current_reporter`); True once the job should stop."""
    return current_reporter().report(step, loss, info)


def should_stop() -> bool:
    """True once the job this thread computes should stop (asked without reporting)."""
    return current_reporter().should_stop()


def reporting_arguments(accepted: Any) -> dict[str, Any]:
    """The report functions a plain objective receives: ``report`` and/or ``should_stop``, each only if the
    objective's signature names it (a ``**kwargs`` alone does not: such objectives keep getting exactly what they
    got before).

    ``accepted`` is :func:`bandster.core.protocol.accepted_arguments` of the objective (a set of names, or None
    when the signature is unknown). The functions go to :func:`current_reporter`, so they work in whatever thread
    or process the backend runs the objective. Every backend that calls plain objectives uses this one function.

    Examples
    --------
    >>> sorted(reporting_arguments({"config", "budget", "report"}))
    ['report']
    >>> reporting_arguments({"config", "budget", "**"})
    {}
    """
    if not accepted or accepted.isdisjoint(REPORT_ARGUMENTS):
        return {}
    return {name: function for name, function in (("report", report), ("should_stop", should_stop))
            if name in accepted}


# ---------------------------------------------------------------------------------------------------- job side
#: Seconds a report of a job in another process than the master's may wait to share a message with later ones
#: (a report at a decision step never waits; see :class:`JobReporter`)
REPORT_INTERVAL = 0.05


def _crossed(levels: list[float], next_level: int, step: float) -> int:
    """The index of the first level above ``step``, from ``next_level`` on."""
    while next_level < len(levels) and levels[next_level] <= step * (1 + 1e-12):  # as StoppingRungs.crossed
        next_level += 1
    return next_level


class JobReporter(Reporter):
    """The reporter of one running job, whatever carries its reports: checks them, sends them, and remembers
    the answer.

    A report at a *decision step* (``decision_steps``: the scheduler's rung levels; None: every step) is sent at
    once with every report before it, and waits for the answer, so :meth:`report` returns True on the very report
    that crossed a rung where the job is stopped. Other reports are sent at once too, unless one was sent less
    than ``batch_interval`` seconds ago: those wait for the next report that is sent (or for :meth:`close`, at the
    job's end), so a job that reports thousands of times a second costs its master one message per interval.
    Once the job is told to stop, further reports are not sent (they are logged and ignored) and every report
    returns True.

    Parameters
    ----------
    send : callable
        ``send(reports, wait) -> bool | None``: deliver ``reports`` (a list of ``[step, loss, info]``, oldest
        first) to the master; with ``wait`` return True if the job must stop; without, it may return None.
    decision_steps : sequence of float, optional
        The steps at which the scheduler decides (None: any step may be one).
    batch_interval : float
        Seconds; 0 sends every report at once.

    Examples
    --------
    >>> sent = []
    >>> reporter = JobReporter(lambda reports, wait: sent.append((reports, wait)) or reports[-1][0] >= 3,
    ...                        decision_steps=[1, 3], batch_interval=60)
    >>> [reporter.report(step, 1 / step) for step in (1, 2, 3, 4)]
    [False, False, True, True]
    >>> [(len(reports), wait) for reports, wait in sent]
    [(1, True), (2, True)]
    """

    __slots__ = ("_send", "_steps", "_levels", "_next_level", "batch_interval", "_pending", "_last_sent",
                 "stopped_at", "_stopped", "_ignored", "_lock")

    def __init__(self, send: Any, decision_steps: Any = None, batch_interval: float = 0.0) -> None:
        # cheap: one is made for every job, and most jobs never report
        self._send = send
        self._steps = decision_steps
        self._levels: list[float] | None = None  # sorted on the first report
        self._next_level = 0
        self.batch_interval = batch_interval
        self._pending: list[list[Any]] = []
        self._last_sent = -math.inf
        #: the step at which the job learned it must stop (None while it continues)
        self.stopped_at: float | None = None
        self._stopped = False
        self._ignored = 0
        self._lock = threading.Lock()  # a compute may report from threads of its own

    def _decides(self, step: float) -> bool:
        if self._steps is None:
            return True
        if self._levels is None:
            self._levels = sorted(float(s) for s in self._steps)
        after = _crossed(self._levels, self._next_level, step)
        crossed, self._next_level = after > self._next_level, after
        return crossed

    def report(self, step: float, loss: float, info: Any = None) -> bool:
        step, loss, info = check_report(step, loss, info)
        if info is not None:
            info = to_builtin(info, path="info")
        with self._lock:
            return self._report(step, loss, info)

    def _report(self, step: float, loss: float, info: Any) -> bool:
        if self._stopped:
            self._ignored += 1
            if self._ignored == 1:
                logger.info("report at step %g ignored: the job was told to stop at step %s (further "
                                  "reports of the job are ignored too)", step, self.stopped_at)
            return True
        self._pending.append([step, loss, info])
        if self._decides(step):
            self._flush(True)
        elif time.monotonic() - self._last_sent >= self.batch_interval:
            self._flush(False)
        return self._stopped

    def should_stop(self) -> bool:
        with self._lock:
            if not self._stopped:
                self._flush(True)
            return self._stopped

    def close(self) -> None:
        """Send the reports still waiting (the job's end: before its outcome leaves)."""
        if not self._pending:
            return
        with self._lock:
            if self._pending and not self._stopped:
                self._flush(False)

    @property
    def stopped(self) -> bool:
        """True once the job was told to stop."""
        return self._stopped

    def _flush(self, wait: bool) -> None:
        reports, self._pending = self._pending, []
        self._last_sent = time.monotonic()
        if self._send(reports, wait) and not self._stopped:
            self._stopped = True
            self.stopped_at = reports[-1][0] if reports else None


# ---------------------------------------------------------------------------------------------------- master side
def deliver_reports(job_report: Any, job: Any, reports: Any) -> bool:
    """Give a running job's reports to the runner, in order; True if the job must stop.

    ``job_report`` is :meth:`bandster.backends.BackendListener.job_report`; ``job`` the master's running
    :class:`~bandster.core.job.Job` (the caller has checked that the reports come from its current attempt).
    A STOP or PAUSE answer (PAUSE: no backend but the simulated one keeps suspended jobs) sets ``job.stop_step``;
    so does the first report after :meth:`~bandster.backends.Backend.cancel` (``job.cancelled``), and a
    ``should_stop()`` (no reports) of a cancelled job answers True at its last step. Reports that arrive after the
    stop are ignored and logged. Every backend's master side uses this one function.
    """
    for item in reports:
        step, loss, info = item[0], item[1], item[2] if len(item) > 2 else None
        if job.stop_step is not None:
            logger.info("report of job %s at step %s ignored: the job was told to stop at step %s", job.id, step,
                        job.stop_step)
            continue
        try:
            decision = job_report(job, step, loss, info)
        except Exception:
            logger.exception("the runner could not take the report of job %s at step %s", job.id, step)
            decision = "continue"
        job.last_step = step
        if decision in ("stop", "pause") or job.cancelled:  # Decision is a str enum
            job.stop_step = step
    if job.cancelled and job.stop_step is None:  # should_stop() of a cancelled job: it stops where it got to
        job.stop_step = job.last_step
        return True
    return job.stop_step is not None


def mark_stopped(job: Any) -> None:
    """Mark a finished job that was told to stop: ``result["stopped_at"]`` is the step it was stopped at (as the
    simulated backend marks it); a failed run stays failed."""
    if job.stop_step is not None and isinstance(job.result, dict):
        job.result.setdefault("stopped_at", job.stop_step)
