"""The runner: asks a scheduler what to run, hands jobs to a backend, records what happened.

The scheduling step (:meth:`Runner._fill`) is event driven: it runs whenever a result arrives or the number of
workers changes, in the thread that brought the news, under the runner's condition variable. It keeps as many jobs
outstanding as there are workers (plus ``job_queue_sizes[1]``): jobs taken back from the backend (a limit, Ctrl-C)
and jobs re-queued by a resume first, then what the scheduler proposes. The thread that called :meth:`run` only
waits (through :meth:`Backend.wait`, so a simulated backend can advance its virtual clock) until the scheduler is
done: nothing polls or sleeps.

A result goes to the journal first, then to the scheduler (its iteration or rung, then the sampler), then to the
result callbacks, outside the lock. An intermediate report of a running job (:meth:`Runner.job_report`) is
journaled with the scheduler's decision under the same lock, before the decision goes back to the job; reports of
a job that is not running, that was already stopped, or of an earlier attempt are ignored and logged.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

from bandster.__version__ import __version__
from bandster.backends._base import Backend
from bandster.core import waiting
from bandster.core.job import Job
from bandster.core.metric import Metric
from bandster.core.progress import ProgressBar
from bandster.records.format import (
    as_id,
    config_directory,
    consumed_budget,
    dispatch_counts,
    latest_journal_directory,
    new_journal_directory,
    read_manifest,
    stopped_step,
)
from bandster.records.journal import Journal
from bandster.records.result import Result, Run, logged_results_to_HBS_result
from bandster.samplers.warm_start import warm_start
from bandster.schedulers._base import Decision, JobRequest, Scheduler, job_from_request, positive_int, positive_number

logger = logging.getLogger(__name__)

__all__ = ["NoWorkersError", "Runner", "run_from_job"]



@dataclasses.dataclass
class _RunningJob:
    """What the runner knows of a submitted job for its reports: its attempt, and the step it was stopped at."""

    attempt: int | None
    stopped_at: float | None = None


class NoWorkersError(RuntimeError):
    """No worker for longer than ``max_wait_for_workers``."""


def nonfinite_loss_kind(job: Job) -> str | None:
    """``'NaN'``, ``'inf'`` or ``'-inf'`` when the job returned such a loss (it counts as failed), else None."""
    loss = job.result.get("loss") if isinstance(job.result, dict) else None
    if not isinstance(loss, float) or math.isfinite(loss):
        return None
    return "NaN" if math.isnan(loss) else ("inf" if loss > 0 else "-inf")


def run_from_job(job: Job, time_ref: float) -> Run:
    """The :class:`Run` a finished job becomes in the Result (times relative to ``time_ref``), plus ``config``."""
    result = job.result if isinstance(job.result, dict) else None
    stopped_at = stopped_step(result)
    run = Run(
        job.id,
        consumed_budget(job.kwargs.get("budget"), stopped_at),
        None if result is None else result.get("loss"),
        None if result is None else result.get("info"),
        {k: v - time_ref for k, v in job.timestamps.items()},
        job.exception,
        worker_name=job.worker_name,
        attempt=job.attempt,
        status=job.status,
        stopped_at=stopped_at,
        requested_budget=None if stopped_at is None else job.kwargs.get("budget"),
    )
    run.config = dict(job.kwargs.get("config") or {})  # for trackers: the hyperparameters of this run
    return run


def copy_checkpoint(source: str, destination: str) -> None:
    """Copy the directory ``source`` to ``destination`` (a config directory not journaled yet): into a temporary
    directory first, renamed into place when complete; whatever a crashed copy left there is removed first."""
    partial = destination + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    if os.path.isdir(source):
        shutil.copytree(source, partial)
    else:
        os.makedirs(partial)
    shutil.rmtree(destination, ignore_errors=True)
    os.rename(partial, destination)


class CheckpointCopier:
    """A thread that copies checkpoint directories for the runner, so that no copy holds the runner's lock.

    ``put(request)`` queues the copy of ``request.checkpoint_from``'s directory into ``request.config_id``'s;
    when it is done the thread calls ``done(request, error)`` (which takes the runner's lock to submit the job).
    Copies run one at a time in the order queued. :meth:`close` finishes the queued copies and joins the thread.
    """

    def __init__(self, run_id: str, directory_of: Callable[[tuple], str],
                 done: Callable[[JobRequest, BaseException | None], None]) -> None:
        self._directory_of = directory_of
        self._done = done
        self._cond = threading.Condition()  # guards _queue and _closed
        self._queue: collections.deque[JobRequest] = collections.deque()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"bandster-checkpoint-copier-{run_id}", daemon=True)
        self._thread.start()

    def put(self, request: JobRequest) -> None:
        with self._cond:
            self._queue.append(request)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                request = self._queue.popleft()
            error = None
            try:
                copy_checkpoint(self._directory_of(request.checkpoint_from), self._directory_of(request.config_id))
            except Exception as exc:  # reported by done(): the job still runs, from whatever is there
                error = exc
            try:
                self._done(request, error)
            except Exception:
                logger.exception("submitting %s after its checkpoint copy failed", request.config_id)


class Runner:
    """Drives a :class:`~bandster.schedulers.Scheduler` over a :class:`~bandster.backends.Backend`.

    Parameters
    ----------
    scheduler : Scheduler
        Decides what runs.
    backend : Backend
        Runs it. :meth:`attach` starts it with this runner as its listener.
    run_id : str
        Names the run (journal directory, workers).
    working_directory : str
        Passed to every ``compute``; the journal goes to ``<working_directory>/bandster_runs/`` unless ``journal``
        is given.
    hb_config : dict
        HpBandSter's ``HB_config`` of the run (``time_ref`` is set when the journal opens); kept by reference.
    manifest : callable
        Returns what run.json records about the optimizer (called when the journal opens).
    journal : Journal, optional
        A journal to write to instead of a new one.
    extra_result_logger : callable, optional
        Called with every finished job, after the journal.
    result_callbacks : list of callable
        Each called with a :class:`Run` for every finished job, outside the lock; exceptions are logged.
    job_timeout : float or callable, optional
        Seconds, or a function of the budget returning seconds.
    max_wait_for_workers : float, optional
        Seconds without any worker after which the run ends with a RuntimeError.
    stop_grace_period : float
        On Ctrl-C, how long running jobs may still finish.
    job_queue_sizes : tuple of int
        ``(min, max)``: jobs outstanding are kept at ``max + number of workers`` (``dynamic_queue_size``) or at
        ``max``.
    dynamic_queue_size : bool
    previous_result : Result or str, optional
        Warm start: fed to the sampler and recorded as iteration -1 when the journal opens.
    resume : bool
        Continue the latest journal of ``run_id`` in ``working_directory``.
    logger : logging.Logger, optional
    metric : Metric, optional
        What is optimised (default: ``loss``, minimised): every result and report is turned into a loss here,
        whatever the backend.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.backends import SimulatedBackend
    >>> from bandster.schedulers import HyperbandScheduler
    >>> from bandster.samplers import RandomSampling
    >>> space = CS.ConfigurationSpace({'x': (0.0, 1.0)})
    >>> scheduler = HyperbandScheduler(RandomSampling(space, seed=0), min_budget=1, max_budget=9, eta=3)
    >>> backend = SimulatedBackend(2, lambda config, budget: {'loss': config['x'], 'cost': budget})
    >>> runner = Runner(scheduler, backend, run_id='doc', working_directory='runner_doc')
    >>> result = runner.run(n_iterations=1, progress=False)
    >>> len(result.get_all_runs())  # bracket (9, 3, 1)
    13
    >>> runner.shutdown()
    """

    def __init__(
        self,
        scheduler: Scheduler,
        backend: Backend,
        run_id: str,
        working_directory: str = ".",
        hb_config: dict | None = None,
        manifest: Callable[[], dict] | None = None,
        journal: Journal | None = None,
        extra_result_logger: Callable[[Job], None] | None = None,
        result_callbacks: list[Callable[[Run], Any]] | None = None,
        job_timeout: float | Callable[[float], float] | None = None,
        max_wait_for_workers: float | None = None,
        stop_grace_period: float = 60.0,
        job_queue_sizes: tuple[int, int] = (-1, 0),
        dynamic_queue_size: bool = True,
        previous_result: Any = None,
        resume: bool = False,
        logger: logging.Logger | None = None,
        metric: Metric | None = None,
    ) -> None:
        if job_timeout is not None and not callable(job_timeout):
            positive_number("job_timeout", job_timeout)
        if max_wait_for_workers is not None:
            positive_number("max_wait_for_workers", max_wait_for_workers)
        if job_queue_sizes[0] >= job_queue_sizes[1]:
            raise ValueError(f"job_queue_sizes must be (min, max) with min < max, got {job_queue_sizes!r}")
        self.scheduler = scheduler
        self.backend = backend
        self.run_id = run_id
        self.working_directory = os.path.abspath(working_directory)
        os.makedirs(self.working_directory, exist_ok=True)
        self.config: dict[str, Any] = hb_config if hb_config is not None else {"time_ref": None}
        self.config.setdefault("time_ref", None)
        self._manifest = manifest or (lambda: {})
        self.journal = journal
        self._extra_result_logger = extra_result_logger
        self.result_callbacks = list(result_callbacks or [])
        self.job_timeout = job_timeout
        self.max_wait_for_workers = max_wait_for_workers
        self.stop_grace_period = float(stop_grace_period)
        self.job_queue_sizes = tuple(job_queue_sizes)
        self.dynamic_queue_size = dynamic_queue_size
        self.previous_result = previous_result
        self.logger = logger if logger is not None else logging.getLogger(__name__)
        self.metric = metric if metric is not None else Metric()

        self._cond = threading.Condition()  # guards everything below and the scheduler
        self._early_lock = threading.Lock()  # guards _early_events
        self._early_events: list[tuple[str, dict]] = []
        self.num_running_jobs = 0
        self._n_workers = 0
        self._pending: collections.deque[JobRequest] = collections.deque()
        self._running: dict[tuple, _RunningJob] = {}  # (config_id, budget) of each submitted, unfinished job
        self._no_workers_since: float | None = None
        self._nonfinite: collections.Counter[str] = collections.Counter()  # NaN/inf losses in this run() call
        self._last_wait_log = float("-inf")
        self._resume = bool(resume)
        self._started_configs: set[tuple] = set()
        self._new_configs = 0
        self._max_configs: int | None = None
        self._budget_spent = 0.0
        self._budget_limit: float | None = None
        self._deadline: float | None = None
        self._stopping = False
        self._in_run = False
        self._progress: ProgressBar | None = None
        self._attached = False
        self._checkpoint_copier: CheckpointCopier | None = None

    # ------------------------------------------------------------------ set-up
    def attach(self) -> None:
        """Start the backend with this runner as its listener (once; :meth:`run` does it if needed)."""
        if not self._attached:
            self._attached = True
            self._no_workers_since = self.backend.monotonic()
            self.backend.start(self)

    def open_journal(self) -> None:
        """Open the run's journal (resuming the latest one with ``resume=True``) and write its manifest."""
        if self._resume:
            self._resume = False
            directory = latest_journal_directory(self.working_directory, self.run_id)
            if directory is not None:
                self._resume_from(directory)
                return
            self.logger.info("resume=True but no journal of run %s in %s: starting a new run", self.run_id,
                             self.working_directory)
        if self.config["time_ref"] is None:
            self.config["time_ref"] = self.backend.now()
        if self.journal is None:
            self.journal = Journal(new_journal_directory(self.working_directory, self.run_id))
        if self.journal.manifest is None:
            manifest = self.manifest()
            if self.previous_result is not None:
                manifest["warmstart"] = warm_start(
                    self.previous_result, self.scheduler.sampler, self.journal, self.config["time_ref"]
                )
            self.journal.write_manifest(manifest)
            self.event("run_started")
            self._write_early_events()
            self.logger.info("journal: %s", self.journal.directory)

    def manifest(self) -> dict[str, Any]:
        """run.json: the journal format, the optimizer's manifest, the backend."""
        return {
            "format": "bandster-journal",
            "format_version": 1,
            "bandster_version": __version__,
            "run_id": self.run_id,
            **self._manifest(),
            "HB_config": self.config,
            "working_directory": self.working_directory,
            "backend": self.backend.describe(),
            "created": time.time(),
            "hostname": os.uname().nodename,
            "pid": os.getpid(),
        }

    def _resume_from(self, directory: str) -> None:
        """Continue the journal in ``directory``: reopen it (taking its lock) and replay it into the scheduler."""
        if self.journal is not None:
            raise ValueError("resume=True continues the run's own journal; do not also pass a result_logger")
        result = logged_results_to_HBS_result(directory)
        attempts = dispatch_counts(directory)
        self.journal = Journal(directory, append=True)  # refuses if another master holds the journal
        old = read_manifest(directory) or {}  # an unreadable run.json is warned about by the reader
        time_ref = result.HB_config.get("time_ref")  # 0.0 is a time_ref (a simulated backend's clock starts there)
        self.config["time_ref"] = self.backend.now() if time_ref is None else time_ref
        with self._cond:
            requeued, counts = self.scheduler.replay(result, attempts)
            self._pending.extend(requeued)
            self._started_configs.update(result.get_id2config_mapping())
            self._drain_scheduler_events()
        manifest = {**self.manifest(), **{k: v for k, v in old.items() if k in ("created", "warmstart")}}
        manifest["resumed"] = list(old.get("resumed", [])) + [{"time": time.time(), "pid": os.getpid(), **counts}]
        self.journal.write_manifest(manifest)
        self.event("resumed", **counts)
        self._write_early_events()
        self.logger.info("resumed %s: %d iterations, %d finished runs, %d runs queued again", directory,
                         counts["iterations"], counts["runs"], counts["requeued"])

    # ------------------------------------------------------------------ running
    def run(
        self,
        n_iterations: int = 1,
        min_n_workers: int = 1,
        progress: bool | None = None,
        max_wallclock_time: float | None = None,
        max_budget_spent: float | None = None,
        max_configs: int | None = None,
        progress_name: str | None = None,
    ) -> Result:
        """Grant the scheduler ``n_iterations`` and run until it is done or a limit is reached.

        See :meth:`bandster.core.master.Master.run` for the meaning of every argument; returns the
        :class:`Result` of the whole run so far (also written to ``results.pkl``).
        """
        for name, value in (("max_wallclock_time", max_wallclock_time), ("max_budget_spent", max_budget_spent)):
            if value is not None:
                positive_number(name, value)
        positive_int("n_iterations", n_iterations, allow_none=False)
        positive_int("max_configs", max_configs)
        if int(min_n_workers) < 0:
            raise ValueError(f"min_n_workers must be >= 0, got {min_n_workers!r}")
        self.attach()
        self.open_journal()
        planned = self.scheduler.planned_runs(n_iterations)
        self._progress = ProgressBar(progress, planned, progress_name or type(self.scheduler).__name__)
        with self._cond:
            self._nonfinite.clear()
        try:
            self.wait_for_workers(min_n_workers)
            with self._cond:
                self._stopping = False
                facts = self.scheduler.grant(n_iterations, max_configs=max_configs)
                self._drain_scheduler_events()
                self.logger.info("starting with %d workers: %s", self._n_workers, facts)
                self.event("run_requested", requested=n_iterations, max_wallclock_time=max_wallclock_time,
                           max_budget_spent=max_budget_spent, max_configs=max_configs, **facts)
                self._budget_spent = 0.0
                self._budget_limit = max_budget_spent
                self._max_configs = max_configs
                self._new_configs = 0
                now = self.backend.monotonic()
                self._deadline = None if max_wallclock_time is None else now + max_wallclock_time
                self._in_run = True  # jobs are submitted only inside run(): after the replay and the grant
                self._fill()
                while not self._all_done():
                    self._wait_for_news()
                    if (self._deadline is not None and self.backend.monotonic() >= self._deadline
                            and not self._stopping):
                        self._stop_starting_jobs("max_wallclock_time")
        except KeyboardInterrupt:
            self._stop_after_interrupt()
        except NoWorkersError as exc:
            self.event("no_workers", waited=self.max_wait_for_workers)
            self.write_result()
            raise RuntimeError(str(exc)) from None
        finally:
            with self._cond:
                self._in_run = False
            self._progress.close()
            self._progress = None
        self.event("run_finished", iterations=self.scheduler.num_iterations)
        result = self.write_result()
        self._report_nonfinite(result)
        return result

    def _report_nonfinite(self, result: Result) -> None:
        """At the end of ``run()``: how many runs returned NaN or infinite losses (each kind was warned about
        once, when it first came), and whether the run therefore has no incumbent."""
        with self._cond:
            counts = dict(self._nonfinite)
        if not counts:
            return
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        incumbent = "" if result.get_incumbent_id() is not None else (
            "; the run has no incumbent (no run on the largest budget has a finite loss)")
        self.logger.warning("%d of %d runs returned a non-finite loss (%s) and count as failed%s",
                            sum(counts.values()), len(result.get_all_runs()), kinds, incumbent)

    def _stop_starting_jobs(self, reason: str) -> None:
        """A limit is reached (called with ``_cond`` held): no new job starts; running ones finish."""
        self._stopping = True
        self.scheduler.end_grant()
        withdrawn = self._withdraw_queued()
        self.logger.info("%s reached: no new jobs; %d running jobs finish", reason, self.num_running_jobs)
        self.event("limit_reached", limit=reason, running=self.num_running_jobs, withdrawn=len(withdrawn))

    def _withdraw_queued(self) -> list[Job]:
        """Take back the jobs no worker has started (with ``_cond`` held); they wait as pending, first in line for
        the next ``run()``."""
        withdrawn = self.backend.withdraw_queued()
        self.num_running_jobs -= len(withdrawn)
        for job in reversed(withdrawn):
            self._running.pop(_job_key(job), None)
            self._pending.appendleft(JobRequest(
                tuple(job.id), job.kwargs.get("config") or {}, float(job.kwargs.get("budget")),
                previous_budget=job.kwargs.get("previous_budget"), attempt=job.attempt,
            ))
        return withdrawn

    def _wait_for_news(self) -> None:
        """Wait (holding ``_cond``) for a result or a change of workers; enforce ``max_wait_for_workers``."""
        now = self.backend.monotonic()
        wallclock = None if self._deadline is None or self._stopping else max(0.0, self._deadline - now)
        if self._n_workers > 0:
            self.backend.wait(self._cond, wallclock)
            return
        since = self._no_workers_since if self._no_workers_since is not None else now
        waited = now - since
        if self.max_wait_for_workers is not None and waited >= self.max_wait_for_workers:
            raise NoWorkersError(
                f"No worker for {self.max_wait_for_workers:g} s (max_wait_for_workers) while runs remained; the "
                f"run stopped. Everything finished is in {self.journal.directory if self.journal else '?'}; "
                "start workers and continue it with resume=True."
            )
        last_log = max(since, self._last_wait_log)
        if now - last_log >= waiting.WARNING_INTERVAL:
            self._last_wait_log = last_log = now
            self.logger.warning("no worker for %.0f s while %d runs wait for one (run %s); start workers (%s)",
                                waited, len(self._pending) + self.num_running_jobs, self.run_id,
                                self.backend.describe().get("how_to_join", "see docs/workers.md"))
        timeout = last_log + waiting.WARNING_INTERVAL - now
        if self.max_wait_for_workers is not None:
            timeout = min(timeout, self.max_wait_for_workers - waited)
        if wallclock is not None:
            timeout = min(timeout, wallclock)
        self.backend.wait(self._cond, max(0.0, timeout))

    def _stop_after_interrupt(self) -> None:
        """Ctrl-C: no new jobs; let running ones finish for ``stop_grace_period`` s (a second Ctrl-C: don't)."""
        with self._cond:
            self._stopping = True
            self.scheduler.end_grant()
            withdrawn = self._withdraw_queued()
            running = self.num_running_jobs
        self.logger.warning("interrupted: no new jobs; waiting up to %g s for %d running jobs (Ctrl-C again to "
                            "abandon them)", self.stop_grace_period, running)
        self.event("interrupted", running=running, withdrawn=len(withdrawn))
        try:
            with self._cond:
                deadline = self.backend.monotonic() + self.stop_grace_period
                while self.num_running_jobs > 0:
                    remaining = deadline - self.backend.monotonic()
                    if remaining <= 0:
                        break
                    self.backend.wait(self._cond, remaining)  # a simulated backend's grace period is virtual
        except KeyboardInterrupt:
            pass
        with self._cond:
            abandoned = self.num_running_jobs
        if abandoned:
            self.logger.warning("%d running jobs abandoned", abandoned)
            self.event("abandoned", running=abandoned)

    def wait_for_workers(self, min_n_workers: int = 1) -> None:
        """Block until at least ``min_n_workers`` workers have joined, saying every few seconds what it waits for."""
        self.attach()
        start = self.backend.monotonic()
        next_warning = start + waiting.WARNING_INTERVAL
        while True:
            with self._cond:
                if self._n_workers >= min_n_workers:
                    return
                waited = self.backend.monotonic() - start
                if self.max_wait_for_workers is not None and waited >= self.max_wait_for_workers:
                    raise NoWorkersError(
                        f"Only {self._n_workers} of {min_n_workers} workers joined within "
                        f"{self.max_wait_for_workers:g} s (max_wait_for_workers). Are the workers started with the "
                        "same run_id and name server?"
                    )
                timeout = max(0.0, next_warning - self.backend.monotonic())
                if self.max_wait_for_workers is not None:
                    timeout = min(timeout, self.max_wait_for_workers - waited)
                self.backend.wait(self._cond, timeout)
                present = self._n_workers
                due = self.backend.monotonic() >= next_warning
            if present < min_n_workers and due:  # logged without the lock: the backend may ask its name server
                next_warning = self.backend.monotonic() + waiting.WARNING_INTERVAL
                self.logger.warning(
                    "waiting for %d workers (%d present) for run %s for %.0f s; %s",
                    min_n_workers, present, self.run_id, self.backend.monotonic() - start,
                    self.backend.how_to_add_workers(),
                )

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Shut the backend down (telling workers to shut down if ``shutdown_workers``) and close the journal."""
        if self._checkpoint_copier is not None:
            self._checkpoint_copier.close()
        self.backend.shutdown(shutdown_workers)
        if self.journal is not None:
            self.journal.close()

    # ------------------------------------------------------------------ the backend's listener
    def workers_changed(self, n_workers: int) -> None:
        """The backend's number of workers changed."""
        with self._cond:
            self._n_workers = n_workers
            if n_workers == 0:
                if self._no_workers_since is None:
                    self._no_workers_since = self.backend.monotonic()
                if not self._all_done() and self.num_running_jobs + len(self._pending) > 0:
                    self.logger.warning("no worker left; waiting for workers to join (max_wait_for_workers=%s)",
                                        self.max_wait_for_workers)
            else:
                self._no_workers_since = None
            self._fill()
            self._cond.notify_all()

    def job_finished(self, job: Job) -> None:
        """Record a finished job: journal first, then the scheduler (which feeds the sampler)."""
        if isinstance(job.result, dict) and not self.metric.is_default:
            job.result = self.metric.to_result(job.result)
        with self._cond:
            self.num_running_jobs -= 1
            running = self._running.pop(_job_key(job), None)
            if (running is not None and running.stopped_at is not None and isinstance(job.result, dict)
                    and stopped_step(job.result) is None):
                job.result["stopped_at"] = running.stopped_at  # stopped here, whatever the backend said
            self._refund(job)
            kind = nonfinite_loss_kind(job)
            if kind is not None:
                self._nonfinite[kind] += 1
                if self._nonfinite[kind] == 1:
                    self.logger.warning(
                        "run %s on budget %g returned a loss of %s: recorded as failed (never promoted or modelled);"
                        " further %s losses are counted and reported when run() ends", job.id,
                        job.kwargs.get("budget"), kind, kind)
            if self.journal is not None:
                self.journal(job)
            if self._progress is not None:
                self._progress.update(job)
            if self._extra_result_logger is not None:
                try:
                    self._extra_result_logger(job)
                except Exception:
                    self.logger.exception("result_logger failed on job %s", job.id)
            try:
                self.scheduler.on_result(job)
            except Exception:
                self.logger.exception("the scheduler could not take the result of %s", job.id)
            self._drain_scheduler_events()
            self._fill()
            if self._all_done() or self._stopping:
                self._cond.notify_all()
        if self.result_callbacks:
            run = run_from_job(job, self.config.get("time_ref") or 0.0)
            for callback in self.result_callbacks:
                try:
                    callback(run)
                except Exception:
                    self.logger.exception("result callback %r failed on job %s", callback, job.id)

    def job_report(self, job: Job, step: float, loss: float, info: Any = None) -> Decision:
        """An intermediate report of a running job: the scheduler decides, the journal records both.

        The report and the decision are one line of ``reports.json``, queued under the runner's lock before the
        decision is returned (so the journal's order is the order of the decisions). A report is ignored (not
        journaled, the scheduler not asked, logged) when its job is not running here (finished, withdrawn, or
        never submitted by this runner: STOP), when its job was already stopped (STOP), when it comes from an
        earlier attempt than one already reporting (STOP), or when its step is not a finite number (CONTINUE).
        A scheduler that raises is logged and the job continues. The reported value is in the metric's units
        (``metric=``/``mode=``): it becomes a loss here, for the scheduler and the journal.
        """
        loss = self.metric.to_loss(loss) if not self.metric.is_default else loss
        key = _job_key(job)
        attempt = getattr(job, "attempt", None)
        with self._cond:
            running = self._running.get(key)
            why = None
            if running is None:
                why = "the job is not running (finished, or not started by this run)"
            elif attempt is not None and running.attempt is not None and attempt < running.attempt:
                why = f"it comes from attempt {attempt}, and attempt {running.attempt} of the job runs now"
            else:
                if attempt is not None and (running.attempt is None or attempt > running.attempt):
                    running.attempt, running.stopped_at = attempt, None  # run again after its worker was lost
                if running.stopped_at is not None:
                    why = f"the job was stopped at step {running.stopped_at:g}"
            if why is not None:
                self.logger.info("report of job %s (budget %s) at step %s ignored: %s", key[0], key[1], step, why)
                return Decision.STOP
            try:
                step_value = float(step)
            except (TypeError, ValueError):
                step_value = math.nan
            if not math.isfinite(step_value):
                self.logger.warning("report of job %s at step %r ignored: a step is a finite number", key[0], step)
                return Decision.CONTINUE
            now = self.backend.now()
            try:
                decision = Decision(self.scheduler.on_report(job, step, loss, info))
            except Exception:
                self.logger.exception("the scheduler could not take the report of job %s at step %g; the job "
                                      "continues", key[0], step_value)
                decision = Decision.CONTINUE
            if decision is not Decision.CONTINUE:
                running.stopped_at = step_value
            if self.journal is not None:
                try:
                    loss = float(loss)
                except (TypeError, ValueError):
                    pass
                self.journal.report(key[0], key[1], attempt, step_value, loss, info, decision.value, now)
            self._drain_scheduler_events()
            return decision

    def backend_event(self, kind: str, **fields: Any) -> None:
        """A fact from the backend for the journal."""
        self.event(kind, **fields)

    # ------------------------------------------------------------------ scheduling
    def _max_outstanding(self) -> int:
        extra = self.job_queue_sizes[1]
        return extra + self.backend.capacity if self.dynamic_queue_size else extra

    def _next_request(self) -> JobRequest | None:
        if self._pending:
            return self._pending.popleft()
        request = self.scheduler.next_job()
        self._drain_scheduler_events()
        return request

    def _fill(self) -> None:
        """Submit jobs while there is room (called with ``_cond`` held)."""
        if self._stopping or not self._in_run:
            return
        while True:
            room = self.num_running_jobs < self._max_outstanding()
            if not room and (self.num_running_jobs > 0 or self._pending):
                return
            # with no room and nothing running, still advance the scheduler (a job taken waits as pending)
            request = self._next_request()
            if request is None:
                return
            if not room:
                self._pending.appendleft(request)
                return
            if self._budget_limit is not None and self._budget_spent >= self._budget_limit:
                self._pending.appendleft(request)
                if not (self.scheduler.refunds_budget and self.num_running_jobs > 0):
                    self._stop_starting_jobs("max_budget_spent")
                return  # a stopping scheduler: a running job may still give back budget when it ends
            new_config = request.config_id not in self._started_configs
            if new_config and self._max_configs is not None and self._new_configs >= self._max_configs:
                self._pending.appendleft(request)
                self._stop_starting_jobs("max_configs")
                return
            if new_config:
                self._started_configs.add(request.config_id)
                self._new_configs += 1
            self._submit(request)

    def _refund(self, job: Job) -> None:
        """A stopping scheduler's job ended: what it did not consume of its budget is given back (``_cond``
        held); ``max_budget_spent`` counts consumed steps, each running job charged its full budget."""
        if not self.scheduler.refunds_budget or self._budget_limit is None:
            return
        try:
            unused = float(job.kwargs.get("budget") or 0.0) - float(self.scheduler.consumed_budget(job))
        except Exception:
            self.logger.exception("the scheduler could not say what job %s consumed", job.id)
            return
        self._budget_spent = max(0.0, self._budget_spent - max(0.0, unused))

    def _submit(self, request: JobRequest) -> None:
        self._budget_spent += float(request.budget)
        self.num_running_jobs += 1
        if request.checkpoint_from is not None:
            if self.backend.background_copies:
                self._copier().put(request)  # submitted by the copier thread once the copy is done
                return
            copy_checkpoint(self.config_directory(request.checkpoint_from), self.config_directory(request.config_id))
        self._submit_now(request)

    def _submit_now(self, request: JobRequest) -> None:
        """Journal the configuration (after its checkpoint was copied: that line switches a PBT member to its new
        directory) and hand the job to the backend (``_cond`` held)."""
        if self.journal is not None:
            self.journal.new_config(request.config_id, request.config, request.config_info)
        directory = self.config_directory(request.config_id)
        job = job_from_request(request, working_directory=self.working_directory, config_directory=directory,
                               previous_budget=request.previous_budget)
        job.timeout = self._timeout_for(request.budget)
        job.metric = self.metric.name
        job.decision_steps = self.scheduler.decision_steps(job)
        self._running[_job_key(job)] = _RunningJob(job.attempt)
        self.backend.submit(job)

    def _copier(self) -> CheckpointCopier:
        if self._checkpoint_copier is None:
            self._checkpoint_copier = CheckpointCopier(self.run_id, self.config_directory, self._copied)
        return self._checkpoint_copier

    def _copied(self, request: JobRequest, error: BaseException | None) -> None:
        """The copier thread finished copying the checkpoint of ``request``: submit it (or, stopping, keep it)."""
        with self._cond:
            if error is not None:
                self.logger.error("could not copy the checkpoint of %s into %s: %s; the job runs without it",
                                  request.checkpoint_from, request.config_id, error)
            if self._stopping or not self._in_run:
                self.num_running_jobs -= 1
                self._budget_spent -= float(request.budget)
                self._pending.appendleft(request)
            else:
                self._submit_now(request)
            self._cond.notify_all()

    def _timeout_for(self, budget: float) -> float | None:
        if self.job_timeout is None:
            return None
        value = self.job_timeout(budget) if callable(self.job_timeout) else self.job_timeout
        return None if value is None else float(value)

    def config_directory(self, config_id: tuple) -> str:
        """The directory of one configuration, for its checkpoints: ``<journal>/configs/config_<i>_<j>_<k>``."""
        base = self.journal.directory if self.journal is not None else self.working_directory
        return config_directory(base, config_id)

    def _all_done(self) -> bool:
        if self.num_running_jobs > 0:
            return False
        if self._stopping:
            return True
        return not self._pending and self.scheduler.is_done()

    # ------------------------------------------------------------------ records
    def write_result(self) -> Result:
        """Flush the journal, read it back, write ``results.pkl`` and return the Result."""
        assert self.journal is not None
        self.journal.flush()
        result = logged_results_to_HBS_result(self.journal.directory)
        self.journal.write_result_pickle(result)
        return result

    def _drain_scheduler_events(self) -> None:
        for kind, fields in self.scheduler.pop_events():
            self.event(kind, **fields)

    def event(self, kind: str, **fields: Any) -> None:
        """Record an event in the journal, at the backend's time (:meth:`Backend.now`: the results' clock, virtual
        for a simulated backend); events before the journal opens (workers joining before ``run()``) are kept, with
        their time, and written when it opens."""
        fields["time"] = self.backend.now()
        with self._early_lock:
            if self.journal is None or self.journal.manifest is None:
                if len(self._early_events) < 10_000:
                    self._early_events.append((kind, fields))
                return
        self.journal.event(kind, **fields)

    def _write_early_events(self) -> None:
        with self._early_lock:
            early, self._early_events = self._early_events, []
        for kind, fields in early:
            self.journal.event(kind, **fields)  # their own "time" field replaces the time of writing


def _job_key(job: Job) -> tuple:
    """``(config_id, budget)`` of a job: what the runner keys its running jobs by."""
    budget = job.kwargs.get("budget")
    try:
        budget = float(budget)
    except (TypeError, ValueError):
        pass
    return as_id(job.id), budget
