"""A discrete-event backend with a virtual clock: any optimizer on a benchmark in seconds.

The objective says how long each evaluation takes (its ``"cost"``, in virtual seconds) instead of taking it; the
backend keeps ``n_workers`` simulated workers busy on a virtual clock and hands finished jobs to the runner in the
order of their virtual finishing times. The real schedulers, samplers, runner and journal run unchanged, so a
study of an optimizer's decisions (which configuration, which budget, when) costs only their own compute time.
No threads, no sockets: everything happens in the thread that calls :meth:`SimulatedBackend.wait` (the runner's).
"""

from __future__ import annotations

import heapq
import inspect
import logging
import math
import traceback
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import Any

from bandster.backends._base import Backend, BackendListener
from bandster.backends._pool import Objective
from bandster.core import protocol
from bandster.core._convert import to_builtin
from bandster.core.job import Job
from bandster.core.reporting import reporting_arguments
from bandster.schedulers._base import Decision

logger = logging.getLogger(__name__)

__all__ = ["SimulatedBackend"]

_REPORT, _FINISH = 0, 1


class _Running:
    """A job on a simulated worker: its generator (if the objective reports), its pending outcome."""

    __slots__ = ("job", "worker", "deadline", "generator", "report", "result", "exception", "cancelled")

    def __init__(self, job: Job, worker: int, deadline: float | None) -> None:
        self.job = job
        self.worker = worker
        self.deadline = deadline
        self.generator: Generator | None = None
        self.report: tuple[Any, Any, Any] | None = None  # (step, loss, info) of the pending report
        self.result: dict | None = None
        self.exception: str | None = None
        self.cancelled = False

    def close(self) -> None:
        generator, self.generator = self.generator, None
        if generator is not None:
            generator.close()


class SimulatedBackend(Backend):
    """Runs jobs on ``n_workers`` simulated workers with a virtual clock (no threads, no sockets).

    ``objective(config, budget, **kwargs)`` is called when a simulated worker takes a job. It returns what a
    worker's ``compute`` returns plus ``"cost"``, the virtual seconds the evaluation takes: the job finishes that
    much later on the virtual clock. Or it is a generator function that yields intermediate reports
    ``(step, loss, cost)`` or ``(step, loss, cost, info)``, where ``cost`` is the virtual seconds since the
    previous report (or the start), and finally returns the result (a ``"cost"`` in it is the time after the last
    report; default 0). Each report reaches the runner (:meth:`BackendListener.job_report`, hence the scheduler's
    ``on_report``) at its virtual time; the decision is sent back into the generator (``yield`` evaluates to it)
    and takes effect at that time:

    * ``Decision.CONTINUE``: the generator runs on to its next report;
    * ``Decision.STOP``: the generator is closed and the job ends at the report's time; its result is the
      report's loss (and info), with ``"stopped_at": step`` added;
    * ``Decision.PAUSE``: treated like STOP (this backend keeps no suspended jobs); a scheduler continues a
      paused configuration by asking for a new job, which receives ``previous_budget`` and ``config_directory``.

    The objective receives ``config_id``, ``working_directory``, ``config_directory`` and ``previous_budget``
    when its signature names them (or takes ``**kwargs``), as ``compute`` does; ``config_directory`` is created
    first when it is named. What it returns is checked as a worker checks ``compute``'s return
    (:func:`bandster.core.protocol.check_result`): None, a string, a dict without ``loss``, a non-numeric loss or
    an exception make a failed run with the same error text as on the Pyro backend; a NaN or infinite loss is
    recorded and counts as failed. A missing or negative ``cost`` fails the run with an error saying so.

    Time: :meth:`now` and :meth:`monotonic` are the virtual clock, starting at ``start_time`` (so the run's
    ``time_ref`` is ``start_time`` and a Result's time stamps are virtual seconds; ``max_wallclock_time`` is
    virtual too). A job's ``job_timeout`` applies in virtual time: a job whose cost exceeds it fails at the limit
    with the timeout error of a worker process. Ties are broken by the order in which events were scheduled and
    a free job goes to the lowest-numbered free worker (``sim-0``, ``sim-1``, ...), so the same seed gives the
    same Result, time stamps included.

    Parameters
    ----------
    n_workers : int
        How many jobs run at once.
    objective : callable
        ``objective(config, budget, **kwargs)`` as above.
    start_time : float
        The virtual clock's start. When resuming a simulated run (``resume=True``), pass the last finishing time
        of the earlier run so that the new runs follow it on the clock.

    Notes
    -----
    :meth:`cancel` stops a running generator job at its next report (as a STOP decision would); a job of a plain
    objective cannot be stopped (False). A ``KeyboardInterrupt`` (or ``SystemExit``) raised by the objective
    leaves through the runner's wait, as Ctrl-C would: the job it interrupted goes back to the queue, not
    started, so the runner takes it back and a later ``run()`` or ``resume=True`` runs it again.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.optimizers import HyperBand
    >>> def objective(config, budget):
    ...     return {'loss': (config['x'] - 0.3) ** 2 + 1 / budget, 'info': {}, 'cost': budget}
    >>> hb = HyperBand(configspace=CS.ConfigurationSpace({'x': (0.0, 1.0)}, seed=0), run_id='sim_doc',
    ...                min_budget=1, max_budget=9, eta=3, seed=0, working_directory='sim_doc',
    ...                backend=SimulatedBackend(2, objective))
    >>> result = hb.run(n_iterations=1, progress=False)
    >>> len(result.get_all_runs()), max(r.time_stamps['finished'] for r in result.get_all_runs())
    (13, 20.0)
    >>> hb.shutdown()
    """

    name = "simulated"
    background_copies = False  # virtual clock: a checkpoint copy happens before the job is submitted

    def __init__(self, n_workers: int, objective: Callable[..., Any], start_time: float = 0.0) -> None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
        if not callable(objective):
            raise TypeError(f"objective must be callable as objective(config, budget, **kwargs), got {objective!r}")
        if isinstance(start_time, bool) or not isinstance(start_time, int | float) or not math.isfinite(start_time):
            raise ValueError(f"start_time must be a finite number of virtual seconds, got {start_time!r}")
        self.objective = objective
        self.worker_names = [f"sim-{i}" for i in range(n_workers)]
        self._call = Objective(objective)  # passes the optional arguments the objective names
        if reporting_arguments(self._call.accepted) and not inspect.isgeneratorfunction(objective):
            named = sorted(reporting_arguments(self._call.accepted))
            raise TypeError(
                f"the SimulatedBackend's objective {self._call.describe()} names {named}: a simulated job reports by "
                "yielding (step, loss, cost) instead (a call cannot be paused on the virtual clock); make the "
                "objective a generator function, or run it on a ThreadBackend or ProcessBackend")
        self._now = float(start_time)
        self._start_time = float(start_time)
        self._listener: BackendListener | None = None
        self._queue: deque[Job] = deque()
        self._free = list(range(n_workers))  # a heap: the lowest-numbered free worker takes the next job
        self._events: list[tuple[float, int, int, _Running]] = []  # (time, sequence, kind, job)
        self._sequence = 0
        self._running: dict[int, _Running] = {}  # id(job) -> its state
        self._idle_waits = 0
        self._shut_down = False

    # ------------------------------------------------------------------ Backend
    def start(self, listener: BackendListener) -> None:
        if self._listener is not None:
            if listener is not self._listener:
                raise RuntimeError("this SimulatedBackend already serves another runner; make one per optimizer")
            return
        self._listener = listener
        for i, worker in enumerate(self.worker_names):
            listener.backend_event("worker_joined", worker=worker, host="simulated", workers=i + 1)
        listener.workers_changed(len(self.worker_names))

    def submit(self, job: Job) -> None:
        self._require_started()
        job.timestamps["submitted"] = self._now
        self._queue.append(job)
        self._idle_waits = 0

    def withdraw_queued(self) -> list[Job]:
        jobs = list(self._queue)
        self._queue.clear()
        return jobs

    def cancel(self, job: Job) -> bool:
        """Stop a running generator job at its next report (False for a queued job or a plain objective's)."""
        running = self._running.get(id(job))
        if running is None or running.generator is None:
            return False
        running.cancelled = True
        return True

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Forget every queued and running job (their generators are closed); the backend cannot be used again."""
        self._shut_down = True
        for running in self._running.values():
            running.close()
        self._running.clear()
        self._events.clear()
        self._queue.clear()

    @property
    def n_workers(self) -> int:
        return 0 if self._shut_down else len(self.worker_names)

    def now(self) -> float:
        """The virtual clock (seconds since ``start_time``, plus ``start_time``)."""
        return self._now

    def monotonic(self) -> float:
        """The virtual clock, as :meth:`now`: limits such as ``max_wallclock_time`` are virtual."""
        return self._now

    def describe(self) -> dict[str, Any]:
        objective = getattr(self.objective, "__qualname__", type(self.objective).__qualname__)
        return {
            "name": self.name,
            "n_workers": len(self.worker_names),
            "objective": f"{getattr(self.objective, '__module__', '?')}.{objective}",
            "start_time": self._start_time,
            "how_to_join": f"a SimulatedBackend has a fixed number of workers ({len(self.worker_names)}); "
                           "run(min_n_workers=...) must not exceed it",
        }

    def wait(self, condition: Any, timeout: float | None) -> None:
        """Advance the virtual clock to the next event and deliver it (in this thread, ``condition`` held).

        Queued jobs start first on free workers (their objective is called now). Then the earliest event (a
        report or a job's end) happens, unless it lies more than ``timeout`` virtual seconds ahead: the clock then
        advances by ``timeout`` and nothing happens.

        Raises
        ------
        RuntimeError
            When nothing runs or is queued and nothing can ever change, but the runner waits (without a timeout,
            or a second time in a row): e.g. ``run(min_n_workers=...)`` larger than ``n_workers``, or a scheduler
            that proposes nothing while nothing runs.
        """
        self._require_started()
        self._start_queued()
        if not self._events:
            if timeout is None or self._idle_waits > 0:
                raise RuntimeError(
                    f"the runner waits for news from the SimulatedBackend, but no job runs or is queued and its "
                    f"{len(self.worker_names)} workers never change (virtual time {self._now:g} s): is "
                    "run(min_n_workers=...) larger than n_workers, or does the scheduler propose nothing while "
                    "nothing runs?"
                )
            self._idle_waits += 1
            self._now += max(0.0, timeout)
            return
        self._idle_waits = 0
        when = self._events[0][0]
        if timeout is not None and when > self._now + timeout:
            self._now += max(0.0, timeout)
            return
        _, _, kind, running = heapq.heappop(self._events)
        self._now = max(self._now, when)
        if kind == _FINISH:
            self._deliver(running)
        else:
            self._report(running)

    # ------------------------------------------------------------------ the simulation
    def _require_started(self) -> BackendListener:
        if self._shut_down:
            raise RuntimeError("this SimulatedBackend is shut down; make a new one for a new optimizer")
        if self._listener is None:
            raise RuntimeError("the SimulatedBackend is not started: the runner starts it (Runner.attach)")
        return self._listener

    def _push(self, when: float, kind: int, running: _Running) -> None:
        self._sequence += 1
        heapq.heappush(self._events, (when, self._sequence, kind, running))

    def _start_queued(self) -> None:
        while self._queue and self._free:
            self._start(self._queue.popleft())

    def _start(self, job: Job) -> None:
        worker = heapq.heappop(self._free)
        job.worker_name = self.worker_names[worker]
        job.timestamps["started"] = self._now
        running = _Running(job, worker, None if job.timeout is None else self._now + job.timeout)
        self._running[id(job)] = running
        self._listener.backend_event("dispatch", config_id=list(job.id), budget=job.kwargs.get("budget"),
                                     worker=job.worker_name, attempt=job.attempt)
        try:
            value = self._call(**job.kwargs, config_id=job.id)
        except BaseException as exc:  # noqa: BLE001 - everything an objective raises is recorded
            self._raised(running, exc)
            return
        if inspect.isgenerator(value):
            running.generator = value
            self._advance(running, None)
            return
        result, error, cost = _check(value, require_cost=True, metric=running.job.metric)
        self._end_after(running, cost, result, error)

    def _raised(self, running: _Running, exc: BaseException) -> None:
        """The objective raised ``exc`` (inside an ``except`` block): a failed run, or an interrupt."""
        running.close()
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            self._requeue(running)
            raise exc
        self._end_after(running, 0.0, None, traceback.format_exc())

    def _requeue(self, running: _Running) -> None:
        """The objective was interrupted: its job goes back to the front of the queue, not started."""
        job = running.job
        del self._running[id(job)]
        heapq.heappush(self._free, running.worker)
        job.timestamps.pop("started", None)
        job.worker_name = None
        self._queue.appendleft(job)

    def _advance(self, running: _Running, decision: Decision | None) -> None:
        """Run a generator objective to its next report (scheduled at its virtual time) or to its end."""
        try:
            item = next(running.generator) if decision is None else running.generator.send(decision)
        except StopIteration as stop:
            running.generator = None
            result, error, cost = _check(stop.value, require_cost=False, metric=running.job.metric)
            self._end_after(running, cost, result, error)
            return
        except BaseException as exc:  # noqa: BLE001 - everything an objective raises is recorded
            self._raised(running, exc)
            return
        report, cost, error = _check_report(item)
        if error is not None:
            running.close()
            self._end_after(running, 0.0, None, error)
        elif not self._end_if_timed_out(running, self._now + cost):
            running.report = report
            self._push(self._now + cost, _REPORT, running)

    def _report(self, running: _Running) -> None:
        """A report's virtual time has come: the runner decides; STOP and PAUSE end the job now."""
        step, loss, info = running.report
        decision = self._listener.job_report(running.job, step, loss, info)
        try:
            decision = Decision(decision)
        except ValueError:
            logger.error("job_report returned %r, not a Decision, for job %s; the job continues",
                         decision, running.job.id)
            decision = Decision.CONTINUE
        if running.cancelled:
            decision = Decision.STOP
        if decision is Decision.CONTINUE:
            self._advance(running, decision)
            return
        running.close()
        result, error = protocol.check_result({"loss": loss, "info": info})
        if result is not None:
            result["stopped_at"] = to_builtin(step, path="step")
        running.result, running.exception = result, error
        self._deliver(running)

    def _end_after(self, running: _Running, cost: float, result: dict | None, error: str | None) -> None:
        """The job ends ``cost`` virtual seconds from now with this outcome (or at its ``job_timeout``)."""
        if self._end_if_timed_out(running, self._now + cost):
            return
        running.result, running.exception = result, error
        self._push(self._now + cost, _FINISH, running)

    def _end_if_timed_out(self, running: _Running, when: float) -> bool:
        """If ``when`` lies past the job's deadline, the job fails at the deadline (True)."""
        if running.deadline is None or when <= running.deadline:
            return False
        running.close()
        running.result = None
        running.exception = (f"TimeoutError: the job exceeded its job_timeout of {running.job.timeout:g} s and "
                             "was killed")
        self._push(running.deadline, _FINISH, running)
        return True

    def _deliver(self, running: _Running) -> None:
        """The job ends now: time stamp, outcome, its worker is free, the runner is told."""
        job = running.job
        del self._running[id(job)]
        heapq.heappush(self._free, running.worker)
        job.timestamps["finished"] = self._now
        job.result, job.exception = running.result, running.exception
        self._listener.job_finished(job)


def _cost(value: Any) -> float | None:
    """``value`` as virtual seconds if it is a finite number >= 0, else None."""
    if isinstance(value, bool):
        return None
    try:
        cost = float(value)
    except (TypeError, ValueError):
        return None
    return cost if math.isfinite(cost) and cost >= 0 else None


def _check(value: Any, require_cost: bool, metric: str = "loss") -> tuple[dict | None, str | None, float]:
    """What the objective returned: ``(result, error, cost)``, checked as a worker checks ``compute``'s return."""
    cost: float | None = 0.0
    given = None
    if isinstance(value, Mapping) and "cost" in value:
        given = value["cost"]
        cost = _cost(given)
        value = {key: item for key, item in value.items() if key != "cost"}
    elif require_cost:
        cost = None
    result, error = protocol.check_result(value, metric)
    if error is not None:
        return None, error, cost or 0.0
    if cost is None:
        if given is None and require_cost:
            return None, ("the objective returned no 'cost' (the virtual seconds the evaluation takes); return "
                          "e.g. {'loss': ..., 'info': ..., 'cost': budget}"), 0.0
        return None, f"the objective's 'cost' must be a finite number >= 0 (virtual seconds), got {given!r}", 0.0
    return result, None, cost


def _check_report(item: Any) -> tuple[tuple[Any, Any, Any] | None, float, str | None]:
    """A yielded report: ``((step, loss, info), cost, None)``, or ``(None, 0, error)``."""
    if isinstance(item, tuple) and len(item) in (3, 4):
        cost = _cost(item[2])
        if cost is not None:
            info = item[3] if len(item) == 4 else None
            return (item[0], item[1], info), cost, None
        return None, 0.0, (f"the objective yielded a report with cost {item[2]!r}; the cost must be a finite "
                           "number >= 0 (virtual seconds since the previous report)")
    text = repr(item)
    text = text if len(text) <= 80 else text[:77] + "..."
    return None, 0.0, (f"the objective yielded {type(item).__name__} ({text}); yield (step, loss, cost) or "
                       "(step, loss, cost, info)")
