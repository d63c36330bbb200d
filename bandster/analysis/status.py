"""The state of a run, read from its journal: what ``bandster status`` prints.

:func:`read_status` works on a running run (it only reads, and skips a torn last line) and on a finished,
interrupted or crashed one. It reports, per iteration and stage, how many runs are done, running, failed and
pending; the best configurations; the workers seen and their last activity; how the workers' time split into
computing and everything else (waiting, dispatching, the optimizer's own work); and an estimate of the time
remaining.

Examples
--------
Print what ``bandster status`` prints::

    status = read_status("bandster_runs/myrun_20250101-120000")
    print(status.format())
    print(status.stages[0].pending, status.remaining_seconds)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from bandster.analysis.status_parts import (
    InFlight,
    LatestReports,
    LifeCycle,
    Progress,
    RunRecord,
    RunTimes,
    StageStatus,
    WorkerActivity,
    WorkerStatus,
    remaining_work,
    stage_statuses,
    worker_time,
)
from bandster.core.metric import Metric
from bandster.plan import format_duration
from bandster.records.format import find_journal, is_finite_number, journal_is_live, read_events, read_manifest
from bandster.records.result import Run, logged_results_to_HBS_result

__all__ = ["read_status", "RunStatus", "StageStatus", "WorkerStatus", "StatusBuilder", "run_record"]

@dataclass
class RunStatus:
    """The state of a run; see :func:`read_status`. ``format()`` renders what ``bandster status`` prints.

    Times are epoch seconds (the master's clock); durations are seconds.
    """

    directory: str
    run_id: str | None
    optimizer: str | None
    state: str
    live: bool
    now: float
    started: float | None
    ended: float | None
    last_activity: float | None
    hb_config: dict
    stages: list[StageStatus]
    warmstart_runs: int
    warmstart_configs: int
    top_budget: float | None
    top: list[tuple[tuple, float, float, dict]]
    incumbent: tuple | None
    incumbent_loss: float | None
    workers: list[WorkerStatus]
    runs_ok: int
    runs_failed: int
    runs_running: int
    iterations_started: int
    n_iterations: int | None
    compute_time: float
    worker_time: float
    dispatch_latency: float | None
    gap_between_runs: float | None
    remaining_runs: int | None
    remaining_seconds: float | None
    remaining_note: str
    warnings: list[str] = field(default_factory=list)
    #: the journal's times are a simulated backend's virtual seconds, not epoch seconds
    virtual_clock: bool = False
    #: runs the scheduler stopped at an intermediate report (not among ``runs_ok`` and ``runs_failed``)
    runs_stopped: int = 0
    #: ``{(config_id, budget): {"step", "loss", "time", "decision", "attempt"}}``: the latest intermediate report
    #: of each running job that has reported
    latest_reports: dict = field(default_factory=dict)
    #: intermediate reports in the journal
    n_reports: int = 0
    #: what the run optimises (run.json's ``metric``): losses are shown as the metric the objective returned
    metric: Metric = field(default_factory=Metric)

    @property
    def runs_finished(self) -> int:
        """Finished runs: ok, stopped and failed."""
        return self.runs_ok + self.runs_stopped + self.runs_failed

    @property
    def wall_time(self) -> float | None:
        """Seconds from the start of the run to its end (or to now while it runs)."""
        if self.started is None:
            return None
        end = self.now if self.live and self.state == "running" else (self.ended or self.last_activity)
        return None if end is None else max(end - self.started, 0.0)

    @property
    def utilisation(self) -> float | None:
        """The fraction of the workers' time spent computing."""
        return self.compute_time / self.worker_time if self.worker_time > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """Everything as builtins (for ``bandster status --json``)."""
        return {
            "directory": self.directory,
            "run_id": self.run_id,
            "optimizer": self.optimizer,
            "state": self.state,
            "live": self.live,
            "now": self.now,
            "started": self.started,
            "ended": self.ended,
            "last_activity": self.last_activity,
            "wall_time": self.wall_time,
            "HB_config": self.hb_config,
            "stages": [
                {"iteration": s.iteration, "stage": s.stage, "budget": s.budget, "planned": s.planned,
                 "done": s.done, "failed": s.failed, "running": s.running, "pending": s.pending}
                for s in self.stages
            ],
            "warmstart": {"runs": self.warmstart_runs, "configs": self.warmstart_configs},
            "top_budget": self.top_budget,
            "top": [{"config_id": list(cid), "budget": b, "loss": loss, "config": config}
                    for cid, b, loss, config in self.top],
            "incumbent": None if self.incumbent is None else list(self.incumbent),
            "incumbent_loss": self.incumbent_loss,
            "metric": self.metric.manifest(),
            "incumbent_metric": self.metric.shown(self.incumbent_loss),
            "workers": [
                {"name": w.name, "host": w.host, "state": w.state,
                 "job": None if w.job is None else [list(w.job[0]), w.job[1]], "joined": w.joined,
                 "last_activity": w.last_activity, "runs": w.runs, "failed": w.failed, "busy": w.busy,
                 "reason": w.reason, "report": self.latest_reports.get(w.job) if w.job is not None else None}
                for w in self.workers
            ],
            "runs": {"ok": self.runs_ok, "failed": self.runs_failed, "stopped": self.runs_stopped,
                     "running": self.runs_running},
            "reports": {"n": self.n_reports,
                        "latest": [{"config_id": list(cid), "budget": budget, **report}
                                   for (cid, budget), report in sorted(self.latest_reports.items())]},
            "iterations_started": self.iterations_started,
            "n_iterations": self.n_iterations,
            "compute_time": self.compute_time,
            "worker_time": self.worker_time,
            "utilisation": self.utilisation,
            "dispatch_latency": self.dispatch_latency,
            "gap_between_runs": self.gap_between_runs,
            "remaining": {"runs": self.remaining_runs, "seconds": self.remaining_seconds, "note": self.remaining_note},
            "warnings": list(self.warnings),
            "virtual_clock": self.virtual_clock,
        }

    # --- text ---------------------------------------------------------------------------------------

    def format(self, top: int | None = None) -> str:
        """The status as text (what ``bandster status`` prints).

        Parameters
        ----------
        top : int, optional
            Show at most this many of the best configurations (default: all that were collected).
        """
        out: list[str] = []
        title = f"run {self.run_id or '?'}" + (f" ({self.optimizer})" if self.optimizer else "")
        out.append(f"{title}: {self.state.upper()}")
        out.append(f"  journal    {self.directory}")
        if self.started is not None and self.virtual_clock:
            out.append(f"  started    at virtual time {format_duration(self.started)} (simulated backend); ran "
                       f"{format_duration(self.wall_time)} of virtual time")
        elif self.started is not None:
            ago = _ago(self.now, self.last_activity)
            out.append(f"  started    {_clock(self.started)}; ran {format_duration(self.wall_time)}; "
                       f"last activity {ago}")
        budgets = self.hb_config.get("budgets")
        if budgets:
            eta = self.hb_config.get("eta")
            out.append(f"  budgets    {', '.join(_num(b) for b in budgets)}" + (f" (eta {_num(eta)})" if eta else ""))
        iterations = f"{self.iterations_started} started"
        if self.n_iterations is not None:
            iterations += f" of {self.n_iterations}"
        stopped = f", {self.runs_stopped} stopped early" if self.runs_stopped or self.n_reports else ""
        out.append(f"  runs       {self.runs_finished} finished ({self.runs_ok} ok{stopped}, {self.runs_failed} "
                   f"failed), {self.runs_running} {'running' if self.state == 'running' else 'in flight at stop'}; "
                   f"iterations {iterations}")
        if self.n_reports:
            out.append(f"  reports    {self.n_reports} intermediate reports")
        for warning in self.warnings:
            out.append(f"  note       {warning}")
        out.append("")

        if self.warmstart_runs:
            out.append(f"warm start (iteration -1): {self.warmstart_runs} runs of {self.warmstart_configs} "
                       "configurations from an earlier run")
        if self.stages:
            running_label = "running" if self.state == "running" else "in flight"
            header = ["iteration", "stage", "budget", "configs", "done", "failed", running_label, "pending"]
            rows = []
            last_iteration = None
            for s in self.stages:
                rows.append([
                    str(s.iteration) if s.iteration != last_iteration else "",
                    str(s.stage),
                    _num(s.budget),
                    "?" if s.planned is None else str(s.planned),
                    str(s.done),
                    str(s.failed),
                    str(s.running),
                    "?" if s.pending is None else str(s.pending),
                ])
                last_iteration = s.iteration
            out.extend(_table(header, rows))
        else:
            out.append("no iteration has started yet")
        out.append("")

        shown = self.top if top is None else self.top[:top]
        if shown:
            out.append(f"best configurations on budget {_num(self.top_budget)}:")
            rows = [[str(k), _cid(cid), f"{self.metric.shown(loss):.6g}", _config_text(config)]
                    for k, (cid, _, loss, config) in enumerate(shown, start=1)]
            out.extend(_table(["rank", "config_id", self.metric.label, "config"], rows, align_left={3}))
        else:
            out.append("no run has finished with a finite loss yet")
        if self.incumbent is not None:
            out.append(f"incumbent ({self.metric.best} on max_budget {_num(self.hb_config.get('max_budget'))}): "
                       f"{_cid(self.incumbent)}, {self.metric.name} {self.metric.shown(self.incumbent_loss):.6g}")
        out.append("")

        if self.workers:
            out.append(f"workers ({len(self.workers)} seen):")
            rows = []
            for w in self.workers:
                state = w.state
                if w.job is not None:
                    state += f" {_cid(w.job[0])} on {_num(w.job[1])}"
                    report = self.latest_reports.get(w.job)
                    if report is not None:
                        value = "?" if report["loss"] is None else f"{report['loss']:.4g}"
                        state += f", step {_num(report['step'])}: {value}"
                elif w.reason and w.state in ("left", "lost", "retired"):
                    state += f" ({w.reason})"
                rows.append([w.short_name, w.host or "?", state, str(w.runs), str(w.failed),
                             format_duration(w.busy),
                             f"at {format_duration(w.last_activity)}" if self.virtual_clock
                             else _ago(self.now, w.last_activity)])
            out.extend(_table(["worker", "host", "state", "runs", "failed", "busy", "last activity"], rows,
                              align_left={0, 1, 2}))
        else:
            out.append("no worker has been seen yet")
        out.append("")

        util = self.utilisation
        time_line = f"time: computing {format_duration(self.compute_time)} (sum over runs)"
        if util is not None:
            other = max(self.worker_time - self.compute_time, 0.0)
            time_line += (f" = {100 * util:.0f}% of the workers' {format_duration(self.worker_time)}; idle, "
                          f"dispatch and optimizer overhead {format_duration(other)}")
        out.append(time_line)
        per_run = []
        if self.dispatch_latency is not None:
            per_run.append(f"median dispatch latency {_ms(self.dispatch_latency)}")
        if self.gap_between_runs is not None:
            per_run.append(f"median gap between a worker's runs {_ms(self.gap_between_runs)}")
        if per_run:
            out.append("      per run: " + ", ".join(per_run))
        if self.remaining_seconds is not None:
            runs = "" if self.remaining_runs is None else f" for {self.remaining_runs} runs"
            out.append(f"remaining: about {format_duration(self.remaining_seconds)}{runs} ({self.remaining_note})")
        else:
            out.append(f"remaining: {self.remaining_note}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.format()


# --------------------------------------------------------------------------------------------------------


def read_status(
    path: str | os.PathLike, now: float | None = None, top: int = 5, run_id: str | None = None
) -> RunStatus:
    """Read the state of a run from its journal.

    Parameters
    ----------
    path : str or path-like
        The run's journal directory, or a working directory (the newest journal in its ``bandster_runs``).
    now : float, optional
        The current time (epoch seconds), for "last activity" and the elapsed time; default ``time.time()``.
    top : int
        How many of the best configurations to collect.
    run_id : str, optional
        With a working directory: only consider journals of this run.

    Returns
    -------
    RunStatus

    Notes
    -----
    The state is ``running`` while a master holds the journal's lock and has not logged the end of its
    ``run()``; ``finished`` or ``interrupted`` after ``run()`` ended normally or on Ctrl-C; ``stopped`` when
    nobody holds the lock and the end was never logged (the master crashed or was killed: ``resume=True``
    continues it). Runs dispatched without a result are running (or, in a stopped run, were in flight).
    """
    directory = find_journal(path, run_id=run_id)
    now = time.time() if now is None else float(now)
    live = journal_is_live(directory)
    # events first: a result that lands between the two reads then still has its dispatch
    events = read_events(directory)
    manifest = read_manifest(directory) or {}
    result = logged_results_to_HBS_result(directory)
    hb = dict(result.HB_config)
    builder = StatusBuilder()
    for event in events:
        builder.add_event(event)
    time_ref = hb.get("time_ref") if is_finite_number(hb.get("time_ref")) else 0.0
    for run in result.get_all_runs():
        builder.add_run(run_record(run, time_ref))
    for report in result.get_reports():
        builder.add_report(report._replace(time=report.time + time_ref))
    return builder.status(directory, manifest, hb, live=live, now=now, top=top,
                          config_of=lambda cid: dict(result[cid].config or {}))


def run_record(run: Run, time_ref: float = 0.0) -> RunRecord:
    """A :class:`~bandster.records.result.Run` as the status sees it: absolute times (``time_ref`` added)."""
    stamps = run.time_stamps if isinstance(run.time_stamps, dict) else {}

    def absolute(key: str) -> float | None:
        value = stamps.get(key)
        return value + time_ref if is_finite_number(value) else None

    loss = float(run.loss) if is_finite_number(run.loss) else None
    worker = run.worker_name if isinstance(run.worker_name, str) else None
    stopped = run.status == "stopped"
    requested = run.requested_budget if stopped and is_finite_number(run.requested_budget) else None
    return RunRecord(tuple(run.config_id), float(run.budget), run.status == "ok" or (stopped and loss is not None),
                     loss, absolute("submitted"), absolute("started"), absolute("finished"), worker, stopped,
                     None if requested is None else float(requested))


class StatusBuilder:
    """Puts a :class:`RunStatus` together from events and runs fed one at a time, in journal order.

    :func:`read_status` feeds it a whole journal; the live dashboard keeps one and feeds it only the lines
    appended since its last read. Each part (:mod:`bandster.analysis.status_parts`) is tested alone.

    Examples
    --------
    >>> from bandster.analysis.status_parts import RunRecord
    >>> builder = StatusBuilder()
    >>> builder.add_event({"time": 100.0, "event": "run_started", "n_iterations": 1})
    >>> builder.add_run(RunRecord((0, 0, 0), 1.0, True, 0.5, 100.0, 100.5, 101.0, "w"))
    >>> builder.add_event({"time": 102.0, "event": "run_finished"})
    >>> status = builder.status("dir", {}, {"max_budget": 1.0}, live=False, now=200.0)
    >>> status.state, status.incumbent, status.runs_ok
    ('finished', (0, 0, 0), 1)
    """

    def __init__(self) -> None:
        self.life = LifeCycle()
        self.in_flight = InFlight()
        self.progress = Progress()
        self.activity = WorkerActivity()
        self.times = RunTimes()
        self.reports = LatestReports()
        self.last_finish: float | None = None

    def add_event(self, event: dict) -> None:
        """One event (a dict with a number ``time`` and a string ``event``, as :func:`read_events` gives)."""
        self.life.add_event(event)
        self.in_flight.add_event(event)
        self.progress.add_event(event)
        self.activity.add_event(event)

    def add_run(self, run: RunRecord, key: tuple | None = None) -> None:
        """One run (a later one of the same configuration and budget replaces the earlier); ``key``, its
        ``(config_id, budget)`` when the caller has it, is shared by every part's dict."""
        key = (run.config_id, run.budget) if key is None else key
        self.in_flight.add_run(run, key)
        self.progress.add_run(run, key)
        self.activity.add_run(run, key)
        self.times.add_run(run, key)
        if run.finished is not None:
            last = self.last_finish
            self.last_finish = run.finished if last is None or run.finished > last else last

    def add_report(self, report: Any) -> None:
        """One intermediate report (a :class:`~bandster.records.format.ReportLine`, absolute time), in order."""
        self.reports.add_report(report)

    @property
    def n_runs(self) -> int:
        return len(self.progress.runs)

    def status(self, directory: str, manifest: dict, hb: dict, live: bool, now: float, top: int = 5,
               config_of: Any = None) -> RunStatus:
        """The status as of ``now``.

        Parameters
        ----------
        directory : str
        manifest : dict
            ``run.json`` (empty when there is none).
        hb : dict
            The run's ``HB_config``.
        live : bool
            Whether a master holds the journal's lock.
        now : float
        top : int
            How many of the best configurations to collect.
        config_of : callable, optional
            ``config_of(config_id) -> dict``, the configurations of the best ones (default: empty dicts).
        """
        time_ref = hb.get("time_ref") if is_finite_number(hb.get("time_ref")) else 0.0
        in_flight = dict(self.in_flight.jobs)
        progress = self.progress
        state, ended, warnings = self.life.state(live, has_runs=bool(progress.runs))
        started = self.life.started(manifest, time_ref)
        last_activity = _later(self.life.last_time, self.last_finish)

        counts = progress.counts(in_flight)
        iterations = sorted({i for i, _ in counts if i >= 0} | set(progress.plans))
        derived = _derived_plans(manifest, hb, [i for i in iterations if i not in progress.plans])
        stages = stage_statuses(counts, progress.plans, derived)

        top_budget = progress.top_budget()
        config_of = config_of or (lambda cid: {})
        top_list = [(cid, top_budget, loss, config_of(cid)) for cid, loss in progress.best(top_budget, top)]
        max_budget = hb.get("max_budget")
        if not is_finite_number(max_budget):
            max_budget = max((key[1] for key in progress.runs), default=None)
        best = progress.best(float(max_budget), 1) if max_budget is not None else []
        incumbent, incumbent_loss = best[0] if best else (None, None)

        end_time = now if state == "running" else (ended or last_activity or now)
        workers = self.activity.statuses(in_flight, running=state == "running")
        run_start = started if started is not None else end_time

        n_iterations = self.life.n_iterations
        if n_iterations is None and isinstance(manifest.get("n_iterations"), int):
            n_iterations = manifest["n_iterations"]
        future = {}
        if n_iterations is not None and n_iterations > len(iterations):
            future = _derived_plans(manifest, hb, list(range(max(iterations, default=-1) + 1, n_iterations)))
        running_budget = sum(budget for _, budget in in_flight)
        started_budget = running_budget + self.times.started_budget - sum(self.times.budget_of(k) for k in in_flight)
        active = sum(1 for w in workers if w.state in ("busy", "idle"))
        remaining = remaining_work(state, stages, future, n_iterations, self.life.budget_limit, started_budget,
                                   running_budget, len(in_flight), self.times, active)
        runs_ok, runs_failed, runs_stopped = progress.own_outcomes(in_flight)
        return RunStatus(
            directory=directory,
            run_id=manifest.get("run_id") if isinstance(manifest.get("run_id"), str) else None,
            optimizer=manifest.get("optimizer") if isinstance(manifest.get("optimizer"), str) else None,
            state=state,
            live=live,
            now=now,
            started=started,
            ended=ended,
            last_activity=last_activity,
            hb_config=hb,
            stages=stages,
            warmstart_runs=progress.warm_runs,
            warmstart_configs=len(progress.warm_configs),
            top_budget=top_budget,
            top=top_list,
            incumbent=incumbent,
            incumbent_loss=incumbent_loss,
            workers=workers,
            runs_ok=runs_ok,
            runs_failed=runs_failed,
            runs_running=len(in_flight),
            iterations_started=len([i for i in iterations if i >= 0]),
            n_iterations=n_iterations,
            compute_time=self.times.compute_time,
            worker_time=worker_time(workers, run_start, end_time),
            dispatch_latency=self.times.latency(),
            gap_between_runs=self.times.gap(),
            remaining_runs=remaining.runs,
            remaining_seconds=remaining.seconds,
            remaining_note=remaining.note,
            warnings=warnings,
            virtual_clock=isinstance(manifest.get("backend"), dict) and manifest["backend"].get("name") == "simulated",
            metric=Metric.from_manifest(manifest),
            runs_stopped=runs_stopped,
            latest_reports=self.reports.of(in_flight),
            n_reports=self.reports.n_reports,
        )


# --------------------------------------------------------------------------------------------------------
# helpers


def _derived_plans(manifest: dict, hb: dict, iterations: list[int]) -> dict[int, tuple[list, list]]:
    """Stage sizes and budgets of ``iterations`` from the bracket arithmetic, where the optimizer is known."""
    if not iterations:
        return {}
    optimizer = str(manifest.get("optimizer") or "").lower()
    try:
        min_budget, max_budget, eta = float(hb["min_budget"]), float(hb["max_budget"]), float(hb["eta"])
    except (KeyError, TypeError, ValueError):
        return {}
    from bandster.optimizers import brackets

    out: dict[int, tuple[list, list]] = {}
    try:
        if optimizer == "randomsearch":
            kwargs = manifest.get("optimizer_kwargs") or {}
            low = float(kwargs.get("min_budget", min_budget))
            n = brackets.random_search_num_configs(low, max_budget, eta)
            return {i: ([n], [max_budget]) for i in iterations if i >= 0}
        if optimizer not in ("hyperband", "bohb", "h2bo"):  # unknown (e.g. an HpBandSter journal): no guess
            return {}
        for i in iterations:
            if i >= 0:
                ns, budgets = brackets.hyperband_iteration(i, min_budget, max_budget, eta)
                out[i] = (list(ns), [float(b) for b in budgets])
    except ValueError:
        return {}
    return out


def _later(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _num(value: Any) -> str:
    if not is_finite_number(value):
        return str(value)
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"


def _cid(config_id: Any) -> str:
    return "(" + ", ".join(str(v) for v in config_id) + ")" if isinstance(config_id, tuple | list) else str(config_id)


def _ms(seconds: float) -> str:
    if seconds >= 1:
        return format_duration(seconds)
    ms = seconds * 1000
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.2g} ms"


def _clock(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _ago(now: float, then: float | None) -> str:
    if then is None:
        return "-"
    delta = now - then
    if delta < 1:
        return "just now"
    return f"{format_duration(delta)} ago"


def _config_text(config: dict, width: int = 70) -> str:
    parts = []
    for key, value in config.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={text}")
    line = ", ".join(parts)
    return line if len(line) <= width else line[: width - 3] + "..."


def _table(header: list[str], rows: list[list[str]], align_left: set[int] | None = None) -> list[str]:
    align_left = align_left or set()
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i in align_left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    lines = ["  " + fmt(header)]
    lines.extend("  " + fmt(r) for r in rows)
    return lines
