"""The Master: runs iterations (brackets) over the dispatcher's workers and keeps the journal.

The scheduling step (:meth:`Master._fill`) is event driven: it runs whenever a result arrives or the
number of workers changes, in the thread that brought the news, under the master's condition variable.
It keeps as many jobs outstanding as there are workers (plus ``job_queue_sizes[1]``), asking the active
iterations, oldest first, for their next run and starting a new iteration when none has one. The thread
that called :meth:`run` only waits until the last iteration is finished: nothing polls or sleeps.
"""

from __future__ import annotations

import collections
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from bandster.__version__ import __version__
from bandster.core import credentials, resume
from bandster.core.base_config_generator import base_config_generator
from bandster.core.base_iteration import BaseIteration
from bandster.core.dispatcher import Dispatcher
from bandster.core.initial_design import InitialDesign
from bandster.core.job import Job
from bandster.core.journal import Journal, latest_journal_directory, new_journal_directory
from bandster.core.nameserver import describe_runs, known_runs, validate_run_id
from bandster.core.progress import ProgressBar
from bandster.core.result import Result, Run, logged_results_to_HBS_result
from bandster.core.waiting import WaitWarnings
from bandster.core.warmstart import warm_start

logger = logging.getLogger(__name__)


class _NoWorkers(Exception):
    """No worker for longer than ``max_wait_for_workers``."""


def run_from_job(job: Job, time_ref: float) -> Run:
    """The :class:`Run` a finished job becomes in the Result (times relative to ``time_ref``), plus ``config``."""
    result = job.result if isinstance(job.result, dict) else None
    run = Run(
        job.id,
        job.kwargs.get("budget"),
        None if result is None else result.get("loss"),
        None if result is None else result.get("info"),
        {k: v - time_ref for k, v in job.timestamps.items()},
        job.exception,
        worker_name=job.worker_name,
        attempt=job.attempt,
        status=job.status,
    )
    run.config = dict(job.kwargs.get("config") or {})  # for trackers: the hyperparameters of this run
    return run


def nonfinite_loss_kind(job: Job) -> str | None:
    """``'NaN'``, ``'inf'`` or ``'-inf'`` when the job returned such a loss (it counts as failed), else None."""
    loss = job.result.get("loss") if isinstance(job.result, dict) else None
    if not isinstance(loss, float) or math.isfinite(loss):
        return None
    return "NaN" if math.isnan(loss) else ("inf" if loss > 0 else "-inf")


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


class Master:
    """Base class of the optimizers: iterations of successive halving over a pool of workers.

    Parameters
    ----------
    run_id : str
        Identifies the run on the name server; workers of the same run_id serve it.
    config_generator : base_config_generator
        Proposes configurations (random sampling, BOHB's model, ...).
    working_directory : str
        Passed to every ``compute`` call; the journal goes to ``<working_directory>/bandster_runs/`` unless
        ``result_logger`` is a journal.
    ping_interval : float
        Seconds between liveness checks of workers (HpBandSter: 60).
    nameserver, nameserver_port : str, int
        The name server (port None: 9090, Pyro's default, as in HpBandSter).
    host : str, optional
        Address the dispatcher binds to.
    shutdown_workers : bool
        Default for :meth:`shutdown` when it is called without an argument at the end of a ``with`` block.
    job_queue_sizes : tuple of int
        ``(min, max)``; jobs outstanding (queued or running) are kept at ``max + number of workers`` when
        ``dynamic_queue_size`` (the default), so ``(-1, 0)`` means one job per worker. Raise ``max`` to
        prefetch.
    dynamic_queue_size : bool
        If False, ``job_queue_sizes[1]`` is the absolute number of outstanding jobs.
    logger : logging.Logger, optional
    result_logger : json_result_logger or callable, optional
        A :class:`~bandster.core.result.json_result_logger` becomes this run's journal; any other callable
        is called with every finished job, in addition to the default journal.
    previous_result : Result or str, optional
        Warm start: an earlier run's Result, or its journal directory. Its runs (failed ones included) are fed
        to the config generator before the first iteration and recorded in the new journal as iteration -1
        (see :mod:`bandster.core.warmstart`).
    nameserver_secret : str, optional
        The name server's secret; found automatically for name servers started by this user.
    max_attempts : int
        How often a job whose worker died is tried in total.
    job_timeout : float or callable, optional
        Hard limit on one computation, in seconds, or a function of the budget returning seconds (evaluated
        on the master). A job that overruns is recorded as failed with a timeout error. Worker processes then
        run each job in a child process that they kill at the limit; a thread worker in the master's process
        whose job overruns is retired (a thread cannot be killed) and reported in the journal's events.
    max_wait_for_workers : float, optional
        If no worker is left (or none came) for this many seconds while work remains, the run ends with a
        RuntimeError, after writing the journal and ``results.pkl``. None (default): wait forever, logging it.
    resume : bool
        Continue the latest journal of this ``run_id`` in ``working_directory`` (after a crash of the master):
        finished runs are not repeated, runs in flight are queued again, the brackets and the model continue,
        and ``run(n_iterations)`` counts the run's total. Starts a new run if there is no journal.
    result_callbacks : list of callable, optional
        Each is called with a :class:`~bandster.core.result.Run` for every finished job (outside the master's
        lock; exceptions are logged and ignored), e.g. to stream results to an experiment tracker.
    stop_grace_period : float
        On Ctrl-C (or ``bandster stop``), how long running jobs may still finish before they are abandoned.
    """

    def __init__(
        self,
        run_id: str,
        config_generator: base_config_generator,
        working_directory: str = ".",
        ping_interval: float = 5,
        nameserver: str = "127.0.0.1",
        nameserver_port: int | None = None,
        host: str | None = None,
        shutdown_workers: bool = True,
        job_queue_sizes: tuple[int, int] = (-1, 0),
        dynamic_queue_size: bool = True,
        logger: logging.Logger | None = None,
        result_logger: Any = None,
        previous_result: Any = None,
        nameserver_secret: str | None = None,
        max_attempts: int = 3,
        job_timeout: float | Callable[[float], float] | None = None,
        max_wait_for_workers: float | None = None,
        resume: bool = False,
        result_callbacks: list[Callable[[Run], Any]] | None = None,
        stop_grace_period: float = 60.0,
    ) -> None:
        self.run_id = validate_run_id(run_id)
        if job_timeout is not None and not callable(job_timeout):
            _positive("job_timeout", job_timeout)
        if max_wait_for_workers is not None:
            _positive("max_wait_for_workers", max_wait_for_workers)
        self.job_timeout = job_timeout
        self.max_wait_for_workers = max_wait_for_workers
        self.stop_grace_period = float(stop_grace_period)
        self.result_callbacks = list(result_callbacks or [])
        if job_queue_sizes[0] >= job_queue_sizes[1]:
            raise ValueError(f"job_queue_sizes must be (min, max) with min < max, got {job_queue_sizes!r}")
        self.working_directory = os.path.abspath(working_directory)
        os.makedirs(self.working_directory, exist_ok=True)
        self.config_generator = config_generator
        self.logger = logger if logger is not None else logging.getLogger(type(self).__module__)
        self.job_queue_sizes = tuple(job_queue_sizes)
        self.dynamic_queue_size = dynamic_queue_size
        self.shutdown_workers = shutdown_workers
        self.previous_result = previous_result
        self.iterations: list[BaseIteration] = []
        self.config: dict[str, Any] = {"time_ref": None}
        self.num_running_jobs = 0
        self.warmstart_iteration: list = []
        self._nonfinite: collections.Counter[str] = collections.Counter()  # NaN/inf losses in this run() call

        self.journal: Journal | None = result_logger if isinstance(result_logger, Journal) else None
        self._owns_journal = False
        self._extra_result_logger: Callable[[Job], None] | None = (
            None if result_logger is None or isinstance(result_logger, Journal) else result_logger
        )
        self._cond = threading.Condition()
        self._early_lock = threading.Lock()  # guards _early_events
        self._early_events: list[tuple[str, dict]] = []
        self._n_workers = 0
        self._iterations_left = 0
        self._iteration_kwargs: dict[str, Any] = {}
        # runs taken from iterations but not submitted yet (no room, or re-queued on resume), with their attempt
        self._pending_runs: collections.deque[tuple[tuple, int]] = collections.deque()
        self._active: list[BaseIteration] = []  # unfinished iterations, oldest first
        self._no_workers_since: float | None = time.monotonic()
        self._no_workers_warnings = WaitWarnings()  # when to say again that no worker is there
        self._resume = bool(resume)
        self._resumed_iterations: int | None = None
        self._budget_spent = 0.0
        self._budget_limit: float | None = None
        self._deadline: float | None = None
        self._stopping = False
        self._progress: ProgressBar | None = None
        self._initial_design: InitialDesign | None = None

        secret = credentials.find_secret(nameserver, nameserver_port or 9090, nameserver_secret)
        self.dispatcher = Dispatcher(
            self.job_callback,
            run_id=self.run_id,
            ping_interval=ping_interval,
            nameserver=nameserver,
            nameserver_port=nameserver_port,
            host=host,
            logger=logging.getLogger("bandster.core.dispatcher"),
            queue_callback=self.adjust_queue_size,
            nameserver_secret=secret,
            max_attempts=max_attempts,
            event_callback=self._event,
        )
        self.dispatcher.start()

    # ------------------------------------------------------------------ to implement
    def get_next_iteration(self, iteration: int, iteration_kwargs: dict | None = None) -> BaseIteration:
        """Return the iteration (bracket) with index ``iteration``; implemented by each optimizer."""
        raise NotImplementedError("subclasses of Master implement get_next_iteration(iteration, iteration_kwargs)")

    def _iterations_to_start(self, n_iterations: int) -> int:
        """How many new iterations ``run(n_iterations)`` lets the master start (called with ``_cond`` held).

        The synchronous optimizers start ``n_iterations`` more brackets. The asynchronous ones
        (:mod:`bandster.optimizers.asynchronous`) keep one iteration per bracket for the whole run, raise the
        budget those may spend instead, and return 0.
        """
        return n_iterations

    def _replay(self, result: Result, attempts: collections.Counter) -> dict[str, int]:
        """Rebuild the iterations from a journal read back (``resume=True``; called with ``_cond`` held).

        Returns the counts logged with the ``resumed`` event: ``iterations``, ``runs``, ``requeued``.
        """
        return resume.replay(self, result, attempts)

    def _planned_runs(self, first: int, n_iterations: int) -> int | None:
        """How many runs iterations ``first .. first + n_iterations - 1`` will make, if known."""
        return None

    def _manifest(self) -> dict[str, Any]:
        """What run.json records about this optimizer; subclasses add their arguments and config space."""
        return {
            "format": "bandster-journal",
            "format_version": 1,
            "bandster_version": __version__,
            "run_id": self.run_id,
            "optimizer": type(self).__name__,
            "optimizer_kwargs": getattr(self, "_optimizer_kwargs", {}),
            "HB_config": self.config,
            "configspace": getattr(self, "_configspace_json", None),
            "seed": getattr(self, "seed", None),
            "working_directory": self.working_directory,
            "created": time.time(),
            "hostname": os.uname().nodename,
            "pid": os.getpid(),
        }

    # ------------------------------------------------------------------ public API
    def run(
        self,
        n_iterations: int = 1,
        min_n_workers: int = 1,
        iteration_kwargs: dict | None = None,
        progress: bool | None = None,
        max_wallclock_time: float | None = None,
        max_budget_spent: float | None = None,
    ) -> Result:
        """Run ``n_iterations`` more iterations and return the :class:`Result` of the whole run so far.

        Waits for ``min_n_workers`` workers first. Iteration indices keep counting across calls, as in
        HpBandSter; after ``resume=True`` the first call counts the run's total instead.

        Ctrl-C (SIGINT, also sent by ``bandster stop DIR``) stops cleanly: no new jobs start, running jobs
        may finish for ``stop_grace_period`` seconds (a second Ctrl-C abandons them), ``results.pkl`` is
        written, and the Result of every finished run is returned.

        Parameters
        ----------
        n_iterations : int
            How many iterations (brackets) to add.
        min_n_workers : int
            Start once this many workers have joined.
        iteration_kwargs : dict, optional
            Extra arguments for each iteration (e.g. ``resampling_rate`` for SuccessiveResampling).
        progress : bool or None
            Show a progress bar (runs finished / failed, best loss): None shows it only when stderr is a
            terminal; True or False force it on or off.
        max_wallclock_time : float, optional
            Seconds after which no new job starts (running jobs finish, then ``run`` returns).
        max_budget_spent : float, optional
            No new job starts once the budgets of the jobs started in this run (this call) add up to this.
        """
        for name, value in (("max_wallclock_time", max_wallclock_time), ("max_budget_spent", max_budget_spent)):
            if value is not None:
                _positive(name, value)
        if isinstance(n_iterations, bool) or not isinstance(n_iterations, int) or n_iterations < 1:
            raise ValueError(f"n_iterations must be an integer >= 1, got {n_iterations!r}")
        if int(min_n_workers) < 0:
            raise ValueError(f"min_n_workers must be >= 0, got {min_n_workers!r}")
        self._open_journal()
        if self._resumed_iterations is not None:  # n_iterations counts the resumed run's total
            n_iterations = max(0, n_iterations - self._resumed_iterations)
            self._resumed_iterations = None
        first = len(self.iterations) + self._iterations_left
        self._progress = ProgressBar(progress, self._planned_runs(first, n_iterations) if n_iterations else 0,
                                     type(self).__name__)
        with self._cond:
            self._nonfinite.clear()
        try:
            self.wait_for_workers(min_n_workers)
            self.logger.info("starting %d iterations with %d workers", n_iterations, self._n_workers)
            with self._cond:
                self._stopping = False
                self._iteration_kwargs = dict(iteration_kwargs or {})
                self._iterations_left += self._iterations_to_start(n_iterations)
                # n_iterations: the iterations the run will have in all (what `bandster status` counts against)
                self._event("run_requested", n_iterations=len(self.iterations) + self._iterations_left,
                            requested=n_iterations, max_wallclock_time=max_wallclock_time,
                            max_budget_spent=max_budget_spent)
                self._budget_spent = 0.0
                self._budget_limit = max_budget_spent
                self._deadline = None if max_wallclock_time is None else time.monotonic() + max_wallclock_time
                self._fill()
                while not self._all_done():
                    self._wait_for_news()
                    if self._deadline is not None and time.monotonic() >= self._deadline and not self._stopping:
                        self._stop_starting_jobs("max_wallclock_time")
        except KeyboardInterrupt:
            self._stop_after_interrupt()
        except _NoWorkers as exc:
            self._event("no_workers", waited=self.max_wait_for_workers)
            self._write_result()
            raise RuntimeError(str(exc)) from None
        finally:
            self._progress.close()
            self._progress = None
        self._event("run_finished", iterations=len(self.iterations))
        result = self._write_result()
        self._report_nonfinite(result)
        return result

    def _report_nonfinite(self, result: Result) -> None:
        """At the end of ``run()``: how many runs returned NaN or infinite losses (each kind was warned about
        once, when it first came), and whether the run therefore has no incumbent."""
        with self._cond:
            counts = dict(self._nonfinite)
        if not counts:
            return
        total = sum(counts.values())
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        incumbent = "" if result.get_incumbent_id() is not None else (
            "; the run has no incumbent (no run on the largest budget has a finite loss)")
        self.logger.warning("%d of %d runs returned a non-finite loss (%s) and count as failed%s", total,
                            len(result.get_all_runs()), kinds, incumbent)

    def _stop_starting_jobs(self, reason: str) -> None:
        """A limit is reached (called with ``_cond`` held): no new job starts; running ones finish."""
        self._stopping = True
        self._iterations_left = 0
        withdrawn = self._withdraw_queued()
        self.logger.info("%s reached: no new jobs; %d running jobs finish", reason, self.num_running_jobs)
        self._event("limit_reached", limit=reason, running=self.num_running_jobs, withdrawn=len(withdrawn))

    def _withdraw_queued(self) -> list[Job]:
        """Take back the jobs no worker has started (with ``_cond`` held); they wait as pending runs, first in
        line for the next ``run()``, so their iterations can still finish."""
        withdrawn = self.dispatcher.withdraw_queued()
        self.num_running_jobs -= len(withdrawn)
        for job in reversed(withdrawn):
            self._pending_runs.appendleft(((job.id, job.kwargs.get("config"), job.kwargs.get("budget")), job.attempt))
        return withdrawn

    def _wait_for_news(self) -> None:
        """Wait (holding ``_cond``) for a result or a change of workers; enforce ``max_wait_for_workers``."""
        wallclock = None if self._deadline is None or self._stopping else max(0.0, self._deadline - time.monotonic())
        if self._n_workers > 0:
            self._cond.wait(wallclock)
            return
        if self._no_workers_warnings.due():
            self.logger.warning("no worker for %.0f s while runs remain (run %r, name server %s:%s); %s",
                                self._no_workers_warnings.waited, self.run_id, self.dispatcher.nameserver,
                                self.dispatcher.nameserver_port, self._how_to_start_workers())
        nudge = self._no_workers_warnings.until_next()
        wallclock = nudge if wallclock is None else min(nudge, wallclock)
        if self.max_wait_for_workers is None:
            self._cond.wait(wallclock)
            return
        since = self._no_workers_since if self._no_workers_since is not None else time.monotonic()
        remaining = since + self.max_wait_for_workers - time.monotonic()
        if remaining <= 0:
            raise _NoWorkers(
                f"No worker for {self.max_wait_for_workers:g} s (max_wait_for_workers) while runs remained; the "
                f"run stopped. Everything finished is in {self.journal.directory if self.journal else '?'}; "
                "start workers and continue it with resume=True."
            )
        self._cond.wait(remaining if wallclock is None else min(remaining, wallclock))

    def _stop_after_interrupt(self) -> None:
        """Ctrl-C: no new jobs; let running ones finish for ``stop_grace_period`` s (a second Ctrl-C: don't)."""
        with self._cond:
            self._stopping = True
            self._iterations_left = 0
            withdrawn = self._withdraw_queued()
            running = self.num_running_jobs
        self.logger.warning("interrupted: no new jobs; waiting up to %g s for %d running jobs (Ctrl-C again to "
                            "abandon them)", self.stop_grace_period, running)
        self._event("interrupted", running=running, withdrawn=len(withdrawn))
        try:
            with self._cond:
                self._cond.wait_for(lambda: self.num_running_jobs <= 0, timeout=self.stop_grace_period)
        except KeyboardInterrupt:
            pass
        with self._cond:
            abandoned = self.num_running_jobs
        if abandoned:
            self.logger.warning("%d running jobs abandoned", abandoned)
            self._event("abandoned", running=abandoned)

    def wait_for_workers(self, min_n_workers: int = 1) -> None:
        """Block until at least ``min_n_workers`` workers have joined (woken by each join; no polling).

        A wait of more than a few seconds is logged at WARNING every few seconds, with the workers present,
        how to start more, and the runs the name server knows (a worker started with another run_id).
        """
        clock = WaitWarnings()
        deadline = None if self.max_wait_for_workers is None else clock.start + self.max_wait_for_workers
        with self._cond:
            if self._n_workers < min_n_workers:
                self.logger.info("waiting for %d workers (%d present)", min_n_workers, self._n_workers)
        while True:
            with self._cond:
                wait = clock.until_next() if deadline is None else min(clock.until_next(),
                                                                       deadline - time.monotonic())
                if self._cond.wait_for(lambda: self._n_workers >= min_n_workers, max(0.0, wait)):
                    return
                present = self._n_workers
                if deadline is not None and time.monotonic() >= deadline:
                    raise _NoWorkers(
                        f"Only {present} of {min_n_workers} workers joined within {self.max_wait_for_workers:g} s "
                        "(max_wait_for_workers). Are the workers started with the same run_id and name server?"
                    )
                if not clock.due():
                    continue
            self.logger.warning(self._waiting_for_workers_message(min_n_workers, present, clock.waited))

    def _waiting_for_workers_message(self, wanted: int, present: int, waited: float) -> str:
        """What ``wait_for_workers`` logs: who is missing, how to start workers, which runs exist."""
        host, port = self.dispatcher.nameserver, self.dispatcher.nameserver_port
        try:
            others = {k: v for k, v in known_runs(host, port, self.dispatcher.secret).items() if k != self.run_id}
            runs = f"workers or masters of other runs on that name server: {describe_runs(others)}"
        except Exception as exc:  # noqa: BLE001 - only for the message
            runs = f"(the name server did not answer: {exc})"
        return (f"waiting {waited:.0f} s for {wanted} worker{'s' if wanted != 1 else ''} ({present} present) for "
                f"run {self.run_id!r} on the name server {host}:{port}; {self._how_to_start_workers()} "
                f"{runs}")

    def _how_to_start_workers(self) -> str:
        host, port = self.dispatcher.nameserver, self.dispatcher.nameserver_port
        return (f"start workers with `bandster worker --run-id {self.run_id} --nameserver {host} --nameserver-port "
                f"{port} MODULE:CLASS` or Worker(run_id={self.run_id!r}, nameserver={host!r}, "
                f"nameserver_port={port}).run().")

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Stop the dispatcher (telling workers to shut down if ``shutdown_workers``) and close the journal."""
        self.dispatcher.shutdown(shutdown_workers)
        if self.journal is not None:
            self.journal.close()

    def adjust_queue_size(self, number_of_workers: int | None = None) -> None:
        """Called by the dispatcher when the number of workers changes."""
        with self._cond:
            if number_of_workers is not None:
                self._n_workers = number_of_workers
            if self._n_workers == 0:
                if self._no_workers_since is None:
                    self._no_workers_since = time.monotonic()
                    self._no_workers_warnings = WaitWarnings()
                if not self._all_done() and self.num_running_jobs + len(self._pending_runs) > 0:
                    self.logger.warning("no worker left; waiting for workers to join (max_wait_for_workers=%s)",
                                        self.max_wait_for_workers)
            else:
                self._no_workers_since = None
            self._fill()
            self._cond.notify_all()

    def active_iterations(self) -> list[int]:
        """Indices of the iterations that are not finished."""
        return [i for i, it in enumerate(self.iterations) if not it.is_finished]

    def job_callback(self, job: Job) -> None:
        """Record a finished job: journal first, then the iteration, then the config generator."""
        with self._cond:
            self.num_running_jobs -= 1
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
                self.iterations[job.id[0]].register_result(job)
            except Exception:
                self.logger.exception("iteration %s could not register the result of %s", job.id[0], job.id)
            try:
                self.config_generator.new_result(job)
            except Exception:
                self.logger.exception("the config generator failed on the result of %s", job.id)
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

    # ------------------------------------------------------------------ scheduling
    def _sample_config(self, budget: float) -> tuple[dict, dict]:
        """The iterations' config sampler: the initial design first, then the config generator."""
        if self._initial_design is not None:
            config = self._initial_design.pop()
            if config is not None:
                return config, {"model_based_pick": False, "initial_design": True}
        return self.config_generator.get_config(budget)

    def _max_outstanding(self) -> int:
        extra = self.job_queue_sizes[1]
        return extra + self._n_workers if self.dynamic_queue_size else extra

    def _new_iteration(self, index: int) -> BaseIteration:
        kwargs = dict(self._iteration_kwargs)
        kwargs.setdefault("result_logger", self.journal)
        iteration = self.get_next_iteration(index, kwargs)
        self.iterations.append(iteration)
        self._active.append(iteration)
        self._event("iteration_started", iteration=index, num_configs=list(iteration.num_configs),
                    budgets=list(iteration.budgets))
        return iteration

    def _next_run(self) -> tuple[tuple, int] | None:
        """The next ``(run, attempt)`` to submit: pending runs first, then the iterations, oldest first."""
        if self._pending_runs:
            return self._pending_runs.popleft()
        while True:
            for it in list(self._active):
                run = it.get_next_run()
                if run is not None:
                    return run, 1
                if it.is_finished:
                    self._active.remove(it)
                    # the journal (and the Result read back from it) holds its records: keep the master's memory
                    # proportional to the unfinished iterations, not to the length of the run
                    it.data = {}
            if self._iterations_left <= 0 or self._stopping:
                return None
            self._iterations_left -= 1
            self._new_iteration(len(self.iterations))

    def _fill(self) -> None:
        """Submit runs while there is room (called with ``_cond`` held)."""
        if self._stopping:
            return
        while True:
            room = self.num_running_jobs < self._max_outstanding()
            if not room and (self.num_running_jobs > 0 or self._pending_runs):
                return
            # with no room and nothing running, still advance the iterations (a run taken waits as pending)
            taken = self._next_run()
            if taken is None:
                return
            if not room:
                self._pending_runs.appendleft(taken)
                return
            (config_id, config, budget), attempt = taken
            if self._budget_limit is not None and self._budget_spent >= self._budget_limit:
                self._pending_runs.appendleft(taken)
                self._stop_starting_jobs("max_budget_spent")
                return
            self._budget_spent += float(budget)
            self.num_running_jobs += 1
            job = self.dispatcher.submit_job(
                config_id,
                job_timeout=self._timeout_for(budget),
                config=config,
                budget=float(budget),
                working_directory=self.working_directory,
                config_directory=self.config_directory(config_id),
                previous_budget=self._previous_budget(config_id, budget),
            )
            job.attempt = attempt

    def _timeout_for(self, budget: float) -> float | None:
        if self.job_timeout is None:
            return None
        value = self.job_timeout(budget) if callable(self.job_timeout) else self.job_timeout
        return None if value is None else float(value)

    def config_directory(self, config_id: tuple) -> str:
        """The directory of one configuration, for its checkpoints: ``<journal>/configs/config_<i>_<j>_<k>``.

        The same directory for every budget the configuration runs on, whichever worker runs it, so a
        promoted configuration can resume from its own checkpoint. ``compute`` receives it as
        ``config_directory`` (with ``previous_budget``) when its signature accepts them.
        """
        base = self.journal.directory if self.journal is not None else self.working_directory
        return os.path.join(base, "configs", "config_" + "_".join(str(int(i)) for i in config_id))

    def _previous_budget(self, config_id: tuple, budget: float) -> float | None:
        """The largest smaller budget this configuration already finished successfully on, or None."""
        try:
            datum = self.iterations[config_id[0]].data[config_id]
        except (IndexError, KeyError):
            return None
        done = [b for b, r in datum.results.items() if r is not None and b < budget]
        return float(max(done)) if done else None

    def _all_done(self) -> bool:
        if self.num_running_jobs > 0:
            return False
        if self._stopping:
            return True
        return self._iterations_left <= 0 and not self._pending_runs and all(it.is_finished for it in self._active)

    # ------------------------------------------------------------------ records
    def _open_journal(self) -> None:
        if self._resume:
            self._resume = False
            directory = latest_journal_directory(self.working_directory, self.run_id)
            if directory is not None:
                self._resume_from(directory)
                return
            self.logger.info("resume=True but no journal of run %s in %s: starting a new run", self.run_id,
                             self.working_directory)
        if self.config["time_ref"] is None:
            self.config["time_ref"] = time.time()
        if self.journal is None:
            self.journal = Journal(new_journal_directory(self.working_directory, self.run_id))
            self._owns_journal = True
        if self.journal.manifest is None:
            manifest = self._manifest()
            if self.previous_result is not None:
                manifest["warmstart"] = warm_start(
                    self.previous_result, self.config_generator, self.journal, self.config["time_ref"]
                )
            self.journal.write_manifest(manifest)
            self._event("run_started")
            self._write_early_events()
            self.logger.info("journal: %s", self.journal.directory)

    def _resume_from(self, directory: str) -> None:
        """Continue the journal in ``directory``: reopen it (taking its lock) and replay it."""
        if self.journal is not None:
            raise ValueError("resume=True continues the run's own journal; do not also pass a result_logger")
        result, attempts = resume.load(directory)
        self.journal = Journal(directory, append=True)  # refuses if another master holds the journal
        self._owns_journal = True
        manifest = {}
        try:
            with open(os.path.join(directory, "run.json")) as fh:
                manifest = json.load(fh)
        except (OSError, ValueError):
            self.logger.warning("the journal in %s has no readable run.json; using this optimizer's settings",
                                directory)
        self.config["time_ref"] = result.HB_config.get("time_ref") or time.time()
        with self._cond:
            counts = self._replay(result, attempts)
        self._resumed_iterations = len(self.iterations)
        manifest = {**self._manifest(), **{k: v for k, v in manifest.items() if k in ("created", "warmstart")}}
        manifest.setdefault("resumed", []).append({"time": time.time(), "pid": os.getpid(), **counts})
        self.journal.write_manifest(manifest)
        self._event("resumed", **counts)
        self._write_early_events()
        self.logger.info("resumed %s: %d iterations, %d finished runs, %d runs queued again", directory,
                         counts["iterations"], counts["runs"], counts["requeued"])

    def _write_result(self) -> Result:
        assert self.journal is not None
        self.journal.flush()
        result = logged_results_to_HBS_result(self.journal.directory)
        self.journal.write_result_pickle(result)
        return result

    def _event(self, kind: str, **fields: Any) -> None:
        """Record an event in the journal; events before the journal opens (workers joining before ``run()``)
        are kept, with their time, and written when it opens."""
        with self._early_lock:
            if self.journal is None or self.journal.manifest is None:
                if len(self._early_events) < 10_000:
                    self._early_events.append((kind, dict(fields, time=time.time())))
                return
        self.journal.event(kind, **fields)

    def _write_early_events(self) -> None:
        with self._early_lock:
            early, self._early_events = self._early_events, []
        for kind, fields in early:
            self.journal.event(kind, **fields)  # their own "time" field replaces the time of writing

    def __enter__(self) -> Master:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(self.shutdown_workers)
