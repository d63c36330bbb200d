"""The parts of :func:`bandster.analysis.status.read_status`, each fed event by event and run by run.

A run's status is put together from six accumulators, each testable alone and each taking the journal's lines
in file order, one at a time, so that the live dashboard (:mod:`bandster.analysis.live`) feeds them only the
lines appended since its last read and ``bandster status`` feeds them a whole journal:

- :class:`LifeCycle`: when the run started and ended, its state, and the notes about how it ended;
- :class:`InFlight`: which (configuration, budget) pairs were dispatched without a result since;
- :class:`Progress`: runs per iteration and stage, warm-start runs, the best configurations, the incumbent;
- :class:`WorkerActivity`: what each worker did and how long it was there;
- :class:`RunTimes`: computing time, dispatch latency, gaps between a worker's runs;
- :class:`LatestReports`: the latest intermediate report (step and value) of each job, for the running ones.

A run is a :class:`RunRecord` (absolute epoch times); the latest result of a (configuration, budget) pair
replaces an earlier one, as in :class:`~bandster.records.result.Result`. Nothing here reads a file.

Examples
--------
>>> life = LifeCycle()
>>> life.add_event({"time": 10.0, "event": "run_started"})
>>> life.add_event({"time": 20.0, "event": "run_finished"})
>>> life.state(live=False, has_runs=True)
('finished', 20.0, [])
"""

from __future__ import annotations

import dataclasses
import heapq
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["RunRecord", "StageStatus", "WorkerStatus", "LifeCycle", "InFlight", "Progress", "LatestReports",
           "WorkerActivity",
           "RunTimes", "run_key", "stage_statuses", "remaining_work", "Remaining", "worker_time",
           "host_from_name"]

#: events that end a call of ``run()``, and the state each leaves
END_EVENTS = {"run_finished": "finished", "interrupted": "interrupted", "no_workers": "stopped"}
#: events that show the master is working
WORK_EVENTS = frozenset(("run_started", "resumed", "iteration_started", "dispatch", "requeued"))
#: events that start (or continue) a run
START_EVENTS = frozenset(("run_started", "resumed"))
_WORKER_GONE = {"worker_left": "left", "worker_lost": "lost", "worker_retired": "retired"}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _later(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b > a else a  # max(a, b), without the call


class RunRecord(NamedTuple):
    """One run as the status sees it. Times are epoch seconds (None when not recorded). ``ok``: it finished with
    a finite loss (a stopped run included); ``stopped``: the scheduler stopped it at an intermediate report (its
    budget is the step it was stopped at)."""

    config_id: tuple
    budget: float
    ok: bool
    loss: float | None
    submitted: float | None
    started: float | None
    finished: float | None
    worker: str | None
    stopped: bool = False
    #: the budget the job was handed, when it differs from ``budget`` (a stopped run)
    requested_budget: float | None = None

    @property
    def key(self) -> tuple:
        return self.config_id, self.budget

    @property
    def dispatch_key(self) -> tuple:
        """``(config_id, budget the job was handed)``: the key of its ``dispatch`` event."""
        return self.config_id, self.budget if self.requested_budget is None else self.requested_budget

    @property
    def warm(self) -> bool:
        """A warm-start run (iteration -1), computed by an earlier run's workers."""
        return bool(self.config_id) and self.config_id[0] == -1

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return max(self.finished - self.started, 0.0)


def run_key(event: dict) -> tuple | None:
    """``(config_id, budget)`` of a ``dispatch`` or ``requeued`` event; None when it has no usable one."""
    cid, budget = event.get("config_id"), event.get("budget")
    finite = budget - budget == 0.0 if type(budget) is float else _is_number(budget)  # x - x: NaN unless finite
    if not finite or not isinstance(cid, list):
        return None
    try:
        key = tuple(cid)
        hash(key)
    except TypeError:
        return None
    return key, budget if type(budget) is float else float(budget)


# --------------------------------------------------------------------------------------------------------


class LifeCycle:
    """The run's start, end and state from its events (and a few facts they carry)."""

    def __init__(self) -> None:
        self.first_start: float | None = None  # the first run_started
        self.n_events = 0
        self.last_time: float | None = None
        self.n_iterations: int | None = None  # the latest integer n_iterations of any event
        self.budget_limit: float | None = None  # the latest async_limits event's budget_limit
        self._reset_since_start()

    def _reset_since_start(self) -> None:
        self._end_kinds: set[str] = set()
        self._last_end: dict | None = None
        self._last_work = -math.inf
        self._notes: list[str] = []

    def add_event(self, event: dict) -> None:
        kind, when = event["event"], event["time"]
        self.n_events += 1
        self.last_time = _later(self.last_time, when)
        if kind in START_EVENTS:
            if kind == "run_started" and self.first_start is None:
                self.first_start = when
            self._reset_since_start()
        n = event.get("n_iterations")
        if isinstance(n, int) and not isinstance(n, bool):
            self.n_iterations = n
        if kind == "async_limits":
            value = event.get("budget_limit")
            self.budget_limit = float(value) if _is_number(value) else None
        if kind in END_EVENTS:
            self._end_kinds.add(kind)
            self._last_end = event
        if kind in WORK_EVENTS:
            self._last_work = when if when > self._last_work else self._last_work
        if kind == "limit_reached":
            self._notes.append(f"no new jobs after {event.get('limit', 'a limit')} was reached")
        elif kind == "abandoned":
            self._notes.append(f"{event.get('running', '?')} running jobs were abandoned after the interrupt")

    def started(self, manifest: dict, time_ref: float) -> float | None:
        """The first ``run_started``; else the manifest's ``created``; else ``time_ref`` (None if 0)."""
        if self.first_start is not None:
            return self.first_start
        return manifest.get("created") if _is_number(manifest.get("created")) else time_ref or None

    def state(self, live: bool, has_runs: bool) -> tuple[str, float | None, list[str]]:
        """``(state, ended, warnings)``; see :func:`~bandster.analysis.status.read_status`."""
        warnings = []
        if self._last_end is not None and self._last_end["time"] >= self._last_work:
            state = "interrupted" if "interrupted" in self._end_kinds else END_EVENTS[self._last_end["event"]]
            ended = self._last_end["time"]
            if "no_workers" in self._end_kinds:
                warnings.append("the run stopped because no worker was left for max_wait_for_workers seconds; "
                                "resume=True continues it")
        elif live:
            state, ended = "running", None
        else:
            state, ended = "stopped", None
            if self.n_events:
                warnings.append("the master stopped without logging the end of its run (crashed or killed?); "
                                "resume=True continues it")
        warnings.extend(self._notes)
        if not self.n_events and not live:
            state = "finished" if has_runs else "stopped"
            warnings.append("the journal has no events (an HpBandSter journal?): running jobs and workers are "
                            "unknown")
        return state, ended, warnings


class InFlight:
    """The (configuration, budget) pairs dispatched and neither finished since nor put back in the queue."""

    def __init__(self) -> None:
        self._finished: dict[tuple, float] = {}
        self._dispatch: dict[tuple, dict] = {}
        self._requeue: dict[tuple, float] = {}
        self.jobs: dict[tuple, dict] = {}  # key -> its dispatch event

    def _refresh(self, key: tuple) -> None:
        event = self._dispatch.get(key)
        done = self._finished.get(key)
        if (event is None or (done is not None and done >= event["time"] - 1e-6)
                or self._requeue.get(key, -math.inf) > event["time"]):
            self.jobs.pop(key, None)
        else:
            self.jobs[key] = event

    def add_event(self, event: dict) -> None:
        if event["event"] not in ("dispatch", "requeued"):
            return
        key = run_key(event)
        if key is None:
            return
        if event["event"] == "dispatch":
            self._dispatch[key] = event
        else:
            self._requeue[key] = event["time"]
        self._refresh(key)

    def add_run(self, run: RunRecord, key: tuple | None = None) -> None:
        """A run read (``key``: its ``(config_id, budget)`` when the caller has it, shared, not made again)."""
        if key is None or run.requested_budget is not None:
            key = (run.config_id, run.budget if run.requested_budget is None else run.requested_budget)  # dispatch_key
        finished = run.finished
        self._finished[key] = finished if finished is not None else -math.inf
        event = self._dispatch.get(key)
        if event is not None:
            if finished is not None and finished >= event["time"] - 1e-6:  # the usual end: no longer in flight
                self.jobs.pop(key, None)
            else:
                self._refresh(key)


# --------------------------------------------------------------------------------------------------------


@dataclass
class StageStatus:
    """Counts of one stage of one iteration.

    Attributes
    ----------
    iteration, stage : int
    budget : float
    planned : int or None
        Configurations the stage runs (None when the journal does not say and it cannot be derived).
    done, failed, running : int
        Runs that finished with a finite loss, that failed (exception, NaN or inf loss), that are in flight.
    pending : int or None
        ``planned - done - failed - running``: not started yet (or, in a run that stopped, never run).
    """

    iteration: int
    stage: int
    budget: float
    planned: int | None
    done: int = 0
    failed: int = 0
    running: int = 0

    @property
    def pending(self) -> int | None:
        if self.planned is None:
            return None
        return max(self.planned - self.done - self.failed - self.running, 0)


class Progress:
    """Runs per (iteration, budget), warm-start runs, runs per outcome and the finite losses per budget."""

    def __init__(self) -> None:
        self.plans: dict[int, tuple[list, list[float]]] = {}  # iteration -> (num_configs, budgets) as announced
        self.runs: dict[tuple, RunRecord] = {}  # key -> its latest run
        self._counts: dict[tuple[int, float], list[int]] = {}  # (iteration, budget) -> [ok, failed]
        self._losses: dict[float, dict[tuple, float]] = {}  # budget -> {config_id: finite loss} of ok runs
        self.warm_configs: set[tuple] = set()
        self.warm_runs = 0
        self.own_ok = 0
        self.own_failed = 0
        self.own_stopped = 0

    def add_event(self, event: dict) -> None:
        if event["event"] == "iteration_started" and isinstance(event.get("iteration"), int):
            ns, budgets = event.get("num_configs"), event.get("budgets")
            if isinstance(ns, list) and isinstance(budgets, list) and len(ns) == len(budgets):
                self.plans[event["iteration"]] = (ns, [float(b) for b in budgets])

    def _count(self, run: RunRecord, sign: int) -> None:
        config_id, budget, ok, loss = run.config_id, run.budget, run.ok, run.loss
        iteration = config_id[0] if config_id and isinstance(config_id[0], int) else None
        if iteration is not None:
            counts = self._counts.get((iteration, budget))
            if counts is None:
                counts = self._counts[(iteration, budget)] = [0, 0]
            counts[0 if ok else 1] += sign
        finite = ok and (loss - loss == 0.0 if type(loss) is float else _is_number(loss))  # x - x: NaN unless finite
        if finite:
            losses = self._losses.get(budget)
            if losses is None:
                losses = self._losses[budget] = {}
            if sign > 0:
                losses[config_id] = float(loss)
            else:
                losses.pop(config_id, None)
                if not losses:
                    del self._losses[budget]
        if run.warm:
            self.warm_runs += sign
        elif run.stopped:
            self.own_stopped += sign
        elif run.ok:
            self.own_ok += sign
        else:
            self.own_failed += sign

    def add_run(self, run: RunRecord, key: tuple | None = None) -> None:
        """A run read (``key``: its ``(config_id, budget)`` when the caller has it, shared, not made again)."""
        key = (run.config_id, run.budget) if key is None else key
        old = self.runs.get(key)
        if old is not None:
            self._count(old, -1)
        self.runs[key] = run
        self._count(run, +1)
        if run.warm:
            self.warm_configs.add(run.config_id)

    def counts(self, in_flight: dict[tuple, Any]) -> dict[tuple[int, float], list[int]]:
        """``{(iteration, budget): [done, failed, running]}``; a pair in flight counts as running, not by its
        older result."""
        counts = {key: [ok, failed, 0] for key, (ok, failed) in self._counts.items()}
        for key in in_flight:
            cid, budget = key
            old = self.runs.get(key)
            if old is not None and old.config_id and isinstance(old.config_id[0], int):
                counts[(old.config_id[0], budget)][0 if old.ok else 1] -= 1
            if cid and isinstance(cid[0], int):
                counts.setdefault((cid[0], budget), [0, 0, 0])[2] += 1
        return counts

    def top_budget(self) -> float | None:
        """The largest budget with a finite loss."""
        return max(self._losses, default=None)

    def best(self, budget: float | None, n: int) -> list[tuple[tuple, float]]:
        """The ``n`` lowest ``(config_id, loss)`` on ``budget`` (ties to the smaller id)."""
        losses = self._losses.get(budget) if budget is not None else None
        if not losses:
            return []
        return [(cid, loss) for loss, cid in heapq.nsmallest(max(int(n), 0), ((v, k) for k, v in losses.items()))]

    def own_outcomes(self, in_flight: dict[tuple, Any]) -> tuple[int, int, int]:
        """``(ok, failed, stopped)`` among this run's own runs, leaving out pairs in flight (they count as
        running)."""
        ok, failed, stopped = self.own_ok, self.own_failed, self.own_stopped
        for key in in_flight:
            old = self.runs.get(key)
            if old is not None and not old.warm:
                if old.stopped:
                    stopped -= 1
                elif old.ok:
                    ok -= 1
                else:
                    failed -= 1
        return ok, failed, stopped


def stage_statuses(counts: dict[tuple[int, float], list[int]], plans: dict[int, tuple[list, list]],
                   derived: dict[int, tuple[list, list]]) -> list[StageStatus]:
    """The stages of every started iteration: announced plans first, else ``derived`` ones, else what ran."""
    ran: dict[int, list[float]] = {}
    for i, b in counts:
        ran.setdefault(i, []).append(b)
    iterations = sorted({i for i in ran if i >= 0} | set(plans))
    stages: list[StageStatus] = []
    for i in iterations:
        ns, budgets = plans.get(i) or derived.get(i) or ([], [])
        seen = sorted(ran.get(i, []))
        for b in seen:
            if b not in budgets:  # a journal that does not match its plan: show what is there
                ns, budgets = [None] * len(seen), seen
                break
        for j, (n, b) in enumerate(zip(ns, budgets, strict=True)):
            done, failed, running = counts.get((i, b), [0, 0, 0])
            stages.append(StageStatus(i, j, b, None if n is None else int(n), done, failed, running))
    return stages


class LatestReports:
    """The latest intermediate report of each job (``(config_id, budget)``), for the running ones' progress.

    Fed the lines of ``reports.json`` (:class:`~bandster.records.format.ReportLine`, absolute times) in order.

    Examples
    --------
    >>> from bandster.records.format import ReportLine
    >>> latest = LatestReports()
    >>> latest.add_report(ReportLine((0, 0, 1), 9.0, 1, 2.0, 0.4, 12.0, None, "continue"))
    >>> latest.of({((0, 0, 1), 9.0): {"attempt": 1}})
    {((0, 0, 1), 9.0): {'step': 2.0, 'loss': 0.4, 'time': 12.0, 'decision': 'continue', 'attempt': 1}}
    """

    def __init__(self) -> None:
        self.latest: dict[tuple, dict[str, Any]] = {}
        self.n_reports = 0

    def add_report(self, line: Any) -> None:
        key = (tuple(line.config_id), float(line.budget))
        self.n_reports += 1
        self.latest[key] = {"step": line.step, "loss": line.loss if _is_number(line.loss) else None,
                            "time": line.time, "decision": line.decision, "attempt": line.attempt}

    def of(self, in_flight: dict[tuple, dict]) -> dict[tuple, dict[str, Any]]:
        """The latest report of each job in flight (``{key: dispatch event}``), when it comes from the attempt
        dispatched last (a job run again after a resume has not reported yet until it does)."""
        out = {}
        for key, event in in_flight.items():
            report = self.latest.get(key)
            if report is None:
                continue
            dispatched = event.get("attempt") if isinstance(event, dict) else None
            if (isinstance(dispatched, int) and isinstance(report["attempt"], int)
                    and report["attempt"] < dispatched):
                continue
            out[key] = dict(report)
        return out


# --------------------------------------------------------------------------------------------------------


@dataclass
class WorkerStatus:
    """What one worker did.

    Attributes
    ----------
    name : str
        Its full name on the name server.
    host : str or None
    state : {'busy', 'idle', 'left', 'lost', 'retired', 'gone'}
        ``retired``: a thread worker whose job overran ``job_timeout``; ``gone``: the run is not running any
        more and the journal does not say the worker left.
    job : tuple or None
        ``(config_id, budget)`` it is computing.
    joined, last_activity : float or None
        Epoch seconds.
    runs, failed : int
        Runs it finished, and how many of them failed.
    busy : float
        Seconds it spent computing (sum of its runs' durations).
    reason : str or None
        Why it left or was lost.
    """

    name: str
    host: str | None = None
    state: str = "idle"
    job: tuple | None = None
    joined: float | None = None
    last_activity: float | None = None
    runs: int = 0
    failed: int = 0
    busy: float = 0.0
    reason: str | None = None
    spans: list = field(default_factory=list, repr=False, compare=False)  # [joined, left] pairs

    @property
    def short_name(self) -> str:
        """The name without the ``bandster.run_<run_id>.worker.`` prefix."""
        marker = ".worker."
        return self.name.split(marker, 1)[1] if marker in self.name else self.name


def host_from_name(name: str) -> str | None:
    """The host part of a worker's name ``bandster.run_<id>.worker.<host>.<pid>.<n>``, if it has one."""
    marker = ".worker."
    if marker not in name:
        return None
    parts = name.split(marker, 1)[1].split(".")
    return ".".join(parts[:-2]) if len(parts) >= 3 else None


class WorkerActivity:
    """Every worker seen in the events and runs: state, runs, busy time, presence."""

    def __init__(self) -> None:
        self.workers: dict[str, WorkerStatus] = {}
        self._runs: dict[tuple, RunRecord] = {}  # key -> the run counted for it

    def _worker(self, name: Any) -> WorkerStatus | None:
        if not isinstance(name, str) or not name:
            return None
        if name not in self.workers:
            self.workers[name] = WorkerStatus(name=name, host=host_from_name(name))
        return self.workers[name]

    def add_event(self, event: dict) -> None:
        kind, when = event["event"], event["time"]
        if kind == "dispatch":  # the most frequent event, first
            w = self._worker(event.get("worker"))
            if w is not None:
                w.last_activity = _later(w.last_activity, when)
                w.joined = when if w.joined is None else min(w.joined, when)
        elif kind == "worker_joined":
            w = self._worker(event.get("worker"))
            if w is None:
                return
            if isinstance(event.get("host"), str):
                w.host = event["host"]
            w.joined = when if w.joined is None else min(w.joined, when)  # the earliest sign, in any order
            w.state, w.reason = "idle", None
            w.spans.append([when, None])
            w.last_activity = _later(w.last_activity, when)
        elif kind in _WORKER_GONE:
            w = self._worker(event.get("worker"))
            if w is None:
                return
            w.state = _WORKER_GONE[kind]
            w.reason = event.get("reason") if isinstance(event.get("reason"), str) else None
            if w.spans and w.spans[-1][1] is None:
                w.spans[-1][1] = when
            else:
                w.spans.append([None, when])
            w.last_activity = _later(w.last_activity, when)

    def _count(self, run: RunRecord, sign: int, w: WorkerStatus | None = None) -> None:
        if w is None:
            w = self.workers.get(run.worker) if isinstance(run.worker, str) else None
            if w is None:
                return
        w.runs += sign
        if not run.ok:
            w.failed += sign
        duration = run.duration
        if duration is not None:
            w.busy += sign * duration

    def add_run(self, run: RunRecord, key: tuple | None = None) -> None:
        """A run read (``key``: its ``(config_id, budget)`` when the caller has it, shared, not made again)."""
        if run.warm:
            return  # warm-start runs were computed by an earlier run's workers
        key = (run.config_id, run.budget) if key is None else key
        old = self._runs.get(key)
        if old is not None:
            self._count(old, -1)
        w = self.workers.get(run.worker) if type(run.worker) is str else None
        if w is None:
            w = self._worker(run.worker)
            if w is None:
                self._runs.pop(key, None)
                return
        self._runs[key] = run
        self._count(run, +1, w)
        w.last_activity = _later(w.last_activity, run.finished)
        if w.joined is None or (run.started is not None and run.started < w.joined):
            w.joined = run.started if run.started is not None else w.joined

    def statuses(self, in_flight: dict[tuple, dict], running: bool) -> list[WorkerStatus]:
        """Copies of the workers with their jobs in flight, sorted by short name; ``gone`` when the run stopped."""
        out = {name: dataclasses.replace(w, spans=[list(s) for s in w.spans]) for name, w in self.workers.items()}
        for key, event in in_flight.items():
            w = out.get(event.get("worker")) if isinstance(event.get("worker"), str) else None
            if w is not None and w.state not in ("left", "lost", "retired"):
                w.state, w.job = "busy", key
        if not running:
            for w in out.values():
                if w.state in ("idle", "busy"):
                    w.state = "gone"
        return sorted(out.values(), key=lambda w: w.short_name)


def worker_time(workers: list[WorkerStatus], run_start: float, end_time: float) -> float:
    """The workers' summed presence between ``run_start`` and ``end_time`` (seconds)."""
    total = 0.0
    for w in workers:
        for begin, stop in w.spans or [[w.joined, None]]:
            begin = max(begin if begin is not None else run_start, run_start)
            stop = stop if stop is not None else end_time
            total += max(stop - begin, 0.0)
    return total


class RunTimes:
    """Computing time, dispatch latencies and a worker's gaps between runs (this run's own runs)."""

    def __init__(self) -> None:
        self._runs: dict[tuple, RunRecord] = {}
        self.compute_time = 0.0  # sum of the runs' durations
        self.timed_budget = 0.0  # sum of the budgets of the runs with a duration
        self.started_budget = 0.0  # sum of the budgets of all own runs

    def _count(self, run: RunRecord, sign: int) -> None:
        self.started_budget += sign * run.budget
        duration = run.duration
        if duration is not None:
            self.compute_time += sign * duration
            self.timed_budget += sign * run.budget

    def add_run(self, run: RunRecord, key: tuple | None = None) -> None:
        """A run read (``key``: its ``(config_id, budget)`` when the caller has it, shared, not made again)."""
        if run.warm:
            return
        key = (run.config_id, run.budget) if key is None else key
        old = self._runs.get(key)
        if old is not None:
            self._count(old, -1)
        self._runs[key] = run
        self._count(run, +1)

    def latency(self) -> float | None:
        """The median time from submission to start."""
        values = [max(r.started - r.submitted, 0.0) for r in self._runs.values()
                  if r.started is not None and r.submitted is not None]
        return statistics.median(values) if values else None

    def gap(self) -> float | None:
        """The median time between the end of a worker's run and the start of its next."""
        by_worker: dict[str, list[tuple[float, float]]] = {}
        for r in self._runs.values():
            if r.worker and r.started is not None and r.finished is not None:
                by_worker.setdefault(r.worker, []).append((r.started, r.finished))
        gaps = []
        for spans in by_worker.values():
            spans.sort()
            gaps.extend(max(b[0] - a[1], 0.0) for a, b in zip(spans, spans[1:], strict=False))
        return statistics.median(gaps) if gaps else None

    def budget_of(self, key: tuple) -> float:
        run = self._runs.get(key)
        return run.budget if run is not None else 0.0


class Remaining(NamedTuple):
    runs: int | None
    seconds: float | None
    note: str


def remaining_work(state: str, stages: list[StageStatus], future: dict[int, tuple[list, list]],
                   n_iterations: int | None, budget_limit: float | None, started_budget: float,
                   running_budget: float, n_running: int, times: RunTimes, active_workers: int) -> Remaining:
    """What is left: runs, an estimate of the seconds, and how it was estimated.

    ``future`` holds the stage sizes and budgets of the iterations not started yet (when they can be derived);
    ``started_budget`` is the budget of every run started so far (in flight included).
    """
    remaining_budget = 0.0
    remaining_runs: int | None = 0
    for s in stages:
        if s.pending:
            remaining_runs += s.pending
            remaining_budget += s.pending * s.budget
    future_note = ""
    if future:
        for ns, budgets in future.values():
            remaining_runs += sum(ns)
            remaining_budget += sum(n * b for n, b in zip(ns, budgets, strict=True))
    elif n_iterations is None:
        future_note = "; the journal does not say how many iterations will follow, so only started ones count"
    if budget_limit is not None and math.isfinite(budget_limit):  # asynchronous: a budget limit, no plan
        remaining_budget = max(budget_limit - started_budget, 0.0)
        remaining_runs = None
        future_note = (f"; asynchronous: a budget of {_short_num(remaining_budget)} of {_short_num(budget_limit)} "
                       "is still to start, in runs not planned ahead")
    if state != "running":
        note = {"finished": "none, the run has finished", "interrupted": "the run was interrupted",
                "stopped": "the run is not running"}.get(state, "the run is not running")
        return Remaining(0, None, note)
    if times.timed_budget <= 0:
        return Remaining(remaining_runs, None, "unknown until the first run finishes")
    from bandster.plan import format_duration

    per_unit = times.compute_time / times.timed_budget
    active = active_workers or 1
    seconds = (remaining_budget + 0.5 * running_budget) * per_unit / active
    if remaining_runs is not None:
        remaining_runs += n_running
    note = (f"{format_duration(per_unit)} per unit of budget so far, on {active} worker"
            f"{'s' if active != 1 else ''}{future_note}")
    return Remaining(remaining_runs, seconds, note)


def _short_num(value: Any) -> str:
    if not _is_number(value):
        return str(value)
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"
