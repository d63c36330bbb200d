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

import math
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bandster.core._convert import is_finite_loss
from bandster.plan import format_duration
from bandster.records.format import find_journal, is_finite_number, journal_is_live, read_events, read_manifest
from bandster.records.result import Run, logged_results_to_HBS_result

__all__ = ["read_status", "RunStatus", "StageStatus", "WorkerStatus"]

#: events that end a call of ``run()``, and the state each leaves
_END_EVENTS = {"run_finished": "finished", "interrupted": "interrupted", "no_workers": "stopped"}
#: events that show the master is working
_WORK_EVENTS = ("run_started", "resumed", "iteration_started", "dispatch", "requeued")
#: events that start (or continue) a run
_START_EVENTS = ("run_started", "resumed")


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

    @property
    def short_name(self) -> str:
        """The name without the ``bandster.run_<run_id>.worker.`` prefix."""
        marker = ".worker."
        return self.name.split(marker, 1)[1] if marker in self.name else self.name


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
            "workers": [
                {"name": w.name, "host": w.host, "state": w.state,
                 "job": None if w.job is None else [list(w.job[0]), w.job[1]], "joined": w.joined,
                 "last_activity": w.last_activity, "runs": w.runs, "failed": w.failed, "busy": w.busy,
                 "reason": w.reason}
                for w in self.workers
            ],
            "runs": {"ok": self.runs_ok, "failed": self.runs_failed, "running": self.runs_running},
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
        out.append(f"  runs       {self.runs_ok + self.runs_failed} finished ({self.runs_ok} ok, {self.runs_failed} "
                   f"failed), {self.runs_running} {'running' if self.state == 'running' else 'in flight at stop'}; "
                   f"iterations {iterations}")
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
            rows = [[str(k), _cid(cid), f"{loss:.6g}", _config_text(config)]
                    for k, (cid, _, loss, config) in enumerate(shown, start=1)]
            out.extend(_table(["rank", "config_id", "loss", "config"], rows, align_left={3}))
        else:
            out.append("no run has finished with a finite loss yet")
        if self.incumbent is not None:
            out.append(f"incumbent (lowest loss on max_budget {_num(self.hb_config.get('max_budget'))}): "
                       f"{_cid(self.incumbent)}, loss {self.incumbent_loss:.6g}")
        out.append("")

        if self.workers:
            out.append(f"workers ({len(self.workers)} seen):")
            rows = []
            for w in self.workers:
                state = w.state
                if w.job is not None:
                    state += f" {_cid(w.job[0])} on {_num(w.job[1])}"
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
    time_ref = hb.get("time_ref") if is_finite_number(hb.get("time_ref")) else 0.0
    runs = [r for r in result.get_all_runs()]

    def absolute(run: Run, key: str) -> float | None:
        value = run.time_stamps.get(key) if isinstance(run.time_stamps, dict) else None
        return value + time_ref if is_finite_number(value) else None

    # --- life cycle --------------------------------------------------------------------------------
    started = None
    for e in events:
        if e["event"] == "run_started":
            started = e["time"]
            break
    if started is None:
        started = manifest.get("created") if is_finite_number(manifest.get("created")) else time_ref or None
    last_start = max((e["time"] for e in events if e["event"] in _START_EVENTS), default=-math.inf)
    since_start = [e for e in events if e["time"] >= last_start]
    ends = [e for e in since_start if e["event"] in _END_EVENTS]
    last_work = max((e["time"] for e in since_start if e["event"] in _WORK_EVENTS), default=-math.inf)
    warnings = []
    if ends and ends[-1]["time"] >= last_work:
        kinds = {e["event"] for e in ends}
        state = "interrupted" if "interrupted" in kinds else _END_EVENTS[ends[-1]["event"]]
        ended = ends[-1]["time"]
        if "no_workers" in kinds:
            warnings.append("the run stopped because no worker was left for max_wait_for_workers seconds; "
                            "resume=True continues it")
    elif live:
        state, ended = "running", None
    else:
        state, ended = "stopped", None
        if events:
            warnings.append("the master stopped without logging the end of its run (crashed or killed?); "
                            "resume=True continues it")
    for e in since_start:
        if e["event"] == "limit_reached":
            warnings.append(f"no new jobs after {e.get('limit', 'a limit')} was reached")
        elif e["event"] == "abandoned":
            warnings.append(f"{e.get('running', '?')} running jobs were abandoned after the interrupt")
    if not events and not live:
        state = "finished" if runs else "stopped"
        warnings.append("the journal has no events (an HpBandSter journal?): running jobs and workers are unknown")

    # --- which (config, budget) pairs are in flight --------------------------------------------------
    finished_at: dict[tuple, float] = {}
    for r in runs:
        stamp = absolute(r, "finished")
        finished_at[(r.config_id, float(r.budget))] = stamp if stamp is not None else -math.inf
    last_dispatch: dict[tuple, dict] = {}
    last_requeue: dict[tuple, float] = {}
    for e in events:
        if e["event"] in ("dispatch", "requeued"):
            key = _run_key(e)
            if key is None:
                continue
            if e["event"] == "dispatch":
                last_dispatch[key] = e
            else:
                last_requeue[key] = e["time"]
    in_flight: dict[tuple, dict] = {}
    for key, e in last_dispatch.items():
        done = finished_at.get(key)
        if done is not None and done >= e["time"] - 1e-6:
            continue
        if last_requeue.get(key, -math.inf) > e["time"]:
            continue  # back in the queue
        in_flight[key] = e

    # --- stages -------------------------------------------------------------------------------------
    plans: dict[int, tuple[list, list]] = {}
    for e in events:
        if e["event"] == "iteration_started" and isinstance(e.get("iteration"), int):
            ns, budgets = e.get("num_configs"), e.get("budgets")
            if isinstance(ns, list) and isinstance(budgets, list) and len(ns) == len(budgets):
                plans[e["iteration"]] = (ns, [float(b) for b in budgets])
    counts: dict[tuple[int, float], list[int]] = {}  # (iteration, budget) -> [done, failed, running]
    for r in runs:
        iteration = r.config_id[0] if r.config_id and isinstance(r.config_id[0], int) else None
        if iteration is None:
            continue
        entry = counts.setdefault((iteration, float(r.budget)), [0, 0, 0])
        if (r.config_id, float(r.budget)) in in_flight:
            continue  # re-dispatched after this (older) result; counted as running below
        entry[0 if r.status == "ok" else 1] += 1
    for cid, budget in in_flight:
        if isinstance(cid[0], int):
            counts.setdefault((cid[0], budget), [0, 0, 0])[2] += 1
    iterations = sorted({i for i, _ in counts if i >= 0} | set(plans))
    derived = _derived_plans(manifest, hb, [i for i in iterations if i not in plans])
    stages: list[StageStatus] = []
    for i in iterations:
        ns, budgets = plans.get(i) or derived.get(i) or ([], [])
        seen = sorted(b for it, b in counts if it == i)
        for b in seen:
            if b not in budgets:  # a journal that does not match its plan: show what is there
                ns, budgets = [None] * len(seen), seen
                break
        for j, (n, b) in enumerate(zip(ns, budgets, strict=True)):
            done, failed, running = counts.get((i, b), [0, 0, 0])
            stages.append(StageStatus(i, j, b, None if n is None else int(n), done, failed, running))
    warm = [r for r in runs if r.config_id and r.config_id[0] == -1]
    warm_configs = len({r.config_id for r in warm})

    # --- best configurations ------------------------------------------------------------------------
    ok = [r for r in runs if r.status == "ok" and is_finite_loss(r.loss)]
    top_budget = max((float(r.budget) for r in ok), default=None)
    best = sorted((r for r in ok if float(r.budget) == top_budget), key=lambda r: (float(r.loss), r.config_id))
    top_list = [(r.config_id, float(r.budget), float(r.loss), dict(result[r.config_id].config or {}))
                for r in best[: max(int(top), 0)]]
    incumbent = result.get_incumbent_id()
    incumbent_loss = None
    if incumbent is not None:
        incumbent_loss = float(result.get_runs_by_id(incumbent)[-1].loss)  # its run on the largest budget

    # --- workers ------------------------------------------------------------------------------------
    end_time = now if state == "running" else (ended or _last_time(events, runs, absolute) or now)
    workers: dict[str, WorkerStatus] = {}

    def worker(name: Any) -> WorkerStatus | None:
        if not isinstance(name, str) or not name:
            return None
        if name not in workers:
            workers[name] = WorkerStatus(name=name, host=_host_from_name(name))
        return workers[name]

    presence: dict[str, list[list[float | None]]] = {}
    for e in events:
        kind = e["event"]
        if kind == "worker_joined":
            w = worker(e.get("worker"))
            if w is None:
                continue
            if isinstance(e.get("host"), str):
                w.host = e["host"]
            w.joined = e["time"] if w.joined is None else w.joined
            w.state, w.reason = "idle", None
            presence.setdefault(w.name, []).append([e["time"], None])
            w.last_activity = _later(w.last_activity, e["time"])
        elif kind in ("worker_left", "worker_lost", "worker_retired"):
            w = worker(e.get("worker"))
            if w is None:
                continue
            w.state = {"worker_left": "left", "worker_lost": "lost", "worker_retired": "retired"}[kind]
            w.reason = e.get("reason") if isinstance(e.get("reason"), str) else None
            spans = presence.setdefault(w.name, [])
            if spans and spans[-1][1] is None:
                spans[-1][1] = e["time"]
            else:
                spans.append([None, e["time"]])
            w.last_activity = _later(w.last_activity, e["time"])
        elif kind == "dispatch":
            w = worker(e.get("worker"))
            if w is not None:
                w.last_activity = _later(w.last_activity, e["time"])
                if w.joined is None:
                    w.joined = e["time"]
    for r in runs:
        if r.config_id and r.config_id[0] == -1:
            continue  # warm-start runs were computed by an earlier run's workers
        w = worker(r.worker_name)
        if w is None:
            continue
        w.runs += 1
        w.failed += r.status != "ok"
        start, stop = absolute(r, "started"), absolute(r, "finished")
        if start is not None and stop is not None:
            w.busy += max(stop - start, 0.0)
        w.last_activity = _later(w.last_activity, stop)
        if w.joined is None or (start is not None and start < w.joined):
            w.joined = start if start is not None else w.joined
    for (cid, budget), e in in_flight.items():
        w = worker(e.get("worker"))
        if w is not None and w.state not in ("left", "lost", "retired"):
            w.state, w.job = "busy", (cid, budget)
    if state != "running":
        for w in workers.values():
            if w.state in ("idle", "busy"):
                w.state = "gone"
    worker_time = 0.0
    run_start = started if started is not None else end_time
    for w in workers.values():
        spans = presence.get(w.name) or []
        if not spans:
            spans = [[w.joined, None]]
        for begin, stop in spans:
            begin = max(begin if begin is not None else run_start, run_start)
            stop = stop if stop is not None else end_time
            worker_time += max(stop - begin, 0.0)
    ordered_workers = sorted(workers.values(), key=lambda w: w.short_name)

    # --- time ---------------------------------------------------------------------------------------
    own = [r for r in runs if not (r.config_id and r.config_id[0] == -1)]
    durations = []
    latencies = []
    for r in own:
        submitted, start, stop = absolute(r, "submitted"), absolute(r, "started"), absolute(r, "finished")
        if start is not None and stop is not None:
            durations.append((float(r.budget), max(stop - start, 0.0)))
        if submitted is not None and start is not None:
            latencies.append(max(start - submitted, 0.0))
    compute_time = sum(d for _, d in durations)
    gaps = []
    by_worker: dict[str, list[tuple[float, float]]] = {}
    for r in own:
        start, stop = absolute(r, "started"), absolute(r, "finished")
        if r.worker_name and start is not None and stop is not None:
            by_worker.setdefault(r.worker_name, []).append((start, stop))
    for spans in by_worker.values():
        spans.sort()
        gaps.extend(max(b[0] - a[1], 0.0) for a, b in zip(spans, spans[1:], strict=False))

    # --- what is left -------------------------------------------------------------------------------
    n_iterations = _n_iterations(events, manifest)
    remaining_budget = 0.0
    remaining_runs = 0
    for s in stages:
        if s.pending:
            remaining_runs += s.pending
            remaining_budget += s.pending * s.budget
    running_budget = sum(budget for _, budget in in_flight)
    future_note = ""
    if n_iterations is not None and n_iterations > len(iterations):
        future = _derived_plans(manifest, hb, list(range(max(iterations, default=-1) + 1, n_iterations)))
        for ns, budgets in future.values():
            remaining_runs += sum(ns)
            remaining_budget += sum(n * b for n, b in zip(ns, budgets, strict=True))
    elif n_iterations is None:
        future_note = "; the journal does not say how many iterations will follow, so only started ones count"
    budget_limit = _budget_limit(events)
    if budget_limit is not None:  # asynchronous: jobs start until their budgets add up to the limit
        started_budget = running_budget + sum(
            float(r.budget) for r in own if (r.config_id, float(r.budget)) not in in_flight
        )
        remaining_budget = max(budget_limit - started_budget, 0.0)
        remaining_runs = None  # an asynchronous run does not plan its number of runs
        future_note = (f"; asynchronous: a budget of {_num(remaining_budget)} of {_num(budget_limit)} is still to "
                       "start, in runs not planned ahead")
    if state != "running":
        remaining_seconds = None
        note = {"finished": "none, the run has finished",
                "interrupted": "the run was interrupted",
                "stopped": "the run is not running"}.get(state, "the run is not running")
    elif not durations or sum(b for b, _ in durations) <= 0:
        remaining_seconds = None
        note = "unknown until the first run finishes"
    else:
        per_unit = compute_time / sum(b for b, _ in durations)
        active = sum(1 for w in workers.values() if w.state in ("busy", "idle")) or 1
        remaining_seconds = (remaining_budget + 0.5 * running_budget) * per_unit / active
        if remaining_runs is not None:
            remaining_runs += len(in_flight)
        note = (f"{format_duration(per_unit)} per unit of budget so far, on {active} worker"
                f"{'s' if active != 1 else ''}{future_note}")

    return RunStatus(
        directory=directory,
        run_id=manifest.get("run_id") if isinstance(manifest.get("run_id"), str) else None,
        optimizer=manifest.get("optimizer") if isinstance(manifest.get("optimizer"), str) else None,
        state=state,
        live=live,
        now=now,
        started=started,
        ended=ended,
        last_activity=_last_time(events, runs, absolute),
        hb_config=hb,
        stages=stages,
        warmstart_runs=len(warm),
        warmstart_configs=warm_configs,
        top_budget=top_budget,
        top=top_list,
        incumbent=incumbent,
        incumbent_loss=incumbent_loss,
        workers=ordered_workers,
        runs_ok=sum(1 for r in own if r.status == "ok" and (r.config_id, float(r.budget)) not in in_flight),
        runs_failed=sum(1 for r in own if r.status != "ok" and (r.config_id, float(r.budget)) not in in_flight),
        runs_running=len(in_flight),
        iterations_started=len([i for i in iterations if i >= 0]),
        n_iterations=n_iterations,
        compute_time=compute_time,
        worker_time=worker_time,
        dispatch_latency=statistics.median(latencies) if latencies else None,
        gap_between_runs=statistics.median(gaps) if gaps else None,
        remaining_runs=remaining_runs if state == "running" else 0,
        remaining_seconds=remaining_seconds,
        remaining_note=note,
        warnings=warnings,
        virtual_clock=isinstance(manifest.get("backend"), dict) and manifest["backend"].get("name") == "simulated",
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


def _n_iterations(events: list[dict], manifest: dict) -> int | None:
    """The total number of iterations the run is to have, if the journal records it: the latest event with an
    integer ``n_iterations`` field (e.g. ``run_started``), else the manifest's ``n_iterations``."""
    value = manifest.get("n_iterations") if isinstance(manifest.get("n_iterations"), int) else None
    for e in events:
        n = e.get("n_iterations")
        if isinstance(n, int) and not isinstance(n, bool):
            value = n
    return value


def _budget_limit(events: list[dict]) -> float | None:
    """The total budget an asynchronous run may start, from its latest ``async_limits`` event (None: a synchronous
    run, which counts iterations instead)."""
    limit = None
    for e in events:
        if e.get("event") == "async_limits":
            value = e.get("budget_limit")
            limit = float(value) if is_finite_number(value) and math.isfinite(value) else None
    return limit


def _run_key(event: dict) -> tuple | None:
    cid, budget = event.get("config_id"), event.get("budget")
    if not isinstance(cid, list) or not is_finite_number(budget):
        return None
    try:
        key = tuple(cid)
        hash(key)
    except TypeError:
        return None
    return key, float(budget)


def _last_time(events: list[dict], runs: list[Run], absolute: Any) -> float | None:
    times = [e["time"] for e in events]
    times.extend(t for t in (absolute(r, "finished") for r in runs) if t is not None)
    return max(times) if times else None


def _host_from_name(name: str) -> str | None:
    marker = ".worker."
    if marker not in name:
        return None
    parts = name.split(marker, 1)[1].split(".")
    return ".".join(parts[:-2]) if len(parts) >= 3 else None


def _later(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


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
