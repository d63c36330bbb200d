"""HpBandSter's Master: an optimizer as one object, now a facade over a scheduler, a runner and a backend.

``Master(run_id, config_generator, ...)`` builds

* a scheduler (:class:`~bandster.schedulers.IterationScheduler` over :meth:`Master.get_next_iteration`, which each
  optimizer implements; the asynchronous optimizers use :class:`~bandster.schedulers.AsyncBracketScheduler`),
* a backend (``backend=``; by default :class:`~bandster.backends.PyroBackend` on ``nameserver``/``run_id``,
  started at once, as HpBandSter's dispatcher was, so workers may join before :meth:`run`),
* a :class:`~bandster.runtime.runner.Runner` between them that also keeps the journal.

Everything HpBandSter users call (``run``, ``shutdown``, ``iterations``, ``config``, ``wait_for_workers``,
``job_callback``, ...) keeps its name, signature and behaviour; docs/architecture.md describes the layers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from bandster.backends._base import Backend
from bandster.backends.pyro import PyroBackend
from bandster.core.base_config_generator import base_config_generator
from bandster.core.base_iteration import BaseIteration
from bandster.core.job import Job
from bandster.core.metric import Metric
from bandster.core.nameserver import validate_run_id
from bandster.records.journal import Journal
from bandster.records.result import Result, Run
from bandster.runtime.runner import Runner, run_from_job
from bandster.schedulers._base import Scheduler
from bandster.schedulers.hyperband import IterationScheduler

logger = logging.getLogger(__name__)

__all__ = ["Master", "run_from_job"]


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
        A :class:`~bandster.records.journal.json_result_logger` becomes this run's journal; any other callable
        is called with every finished job, in addition to the default journal.
    previous_result : Result or str, optional
        Warm start: an earlier run's Result, or its journal directory. Its runs (failed ones included) are fed
        to the config generator before the first iteration and recorded in the new journal as iteration -1
        (see :mod:`bandster.samplers.warm_start`).
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
        Each is called with a :class:`~bandster.records.result.Run` for every finished job (outside the master's
        lock; exceptions are logged and ignored), e.g. to stream results to an experiment tracker.
    stop_grace_period : float
        On Ctrl-C (or ``bandster stop``), how long running jobs may still finish before they are abandoned.
    backend : Backend, optional
        Where jobs run (:mod:`bandster.backends`); default: a :class:`~bandster.backends.PyroBackend` on
        ``nameserver``, ``nameserver_port`` and ``run_id`` (the name-server arguments are ignored otherwise).
    metric : str
        The key of the workers' result dicts to optimise (default ``"loss"``): ``compute`` may return e.g.
        ``{'accuracy': 0.93, 'info': ...}`` with ``metric="accuracy"``. Intermediate reports are in its units.
    mode : {"min", "max"}
        Minimise or maximise ``metric``. With ``"max"`` bandster minimises the negated metric internally (the
        journal's and the Result's ``loss`` is ``-metric``, each run's ``info[metric]`` holds the value as
        returned), and ``bandster status``, ``bandster report`` and the plots show the metric as returned
        (:class:`bandster.core.metric.Metric`).
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
        backend: Backend | None = None,
        metric: str = "loss",
        mode: str = "min",
    ) -> None:
        self._run_id = validate_run_id(run_id)
        self.metric = Metric(metric, mode)
        self.working_directory = os.path.abspath(working_directory)
        self.config_generator = config_generator
        self.logger = logger if logger is not None else logging.getLogger(type(self).__module__)
        self.shutdown_workers = shutdown_workers
        self.previous_result = previous_result
        self.config: dict[str, Any] = getattr(self, "config", None) or {"time_ref": None}
        self.config.setdefault("time_ref", None)
        if not self.metric.is_default:  # the Result's HB_config carries it to the plots
            self.config["metric"] = self.metric.manifest()
        self.warmstart_iteration: list = []
        if backend is not None and not isinstance(backend, Backend):
            raise TypeError(f"backend must be a bandster.backends.Backend, got {type(backend).__name__}")
        self.scheduler = self.make_scheduler()
        self.backend = backend if backend is not None else PyroBackend(
            self.run_id, nameserver=nameserver, nameserver_port=nameserver_port, host=host,
            ping_interval=ping_interval, nameserver_secret=nameserver_secret, max_attempts=max_attempts,
        )
        self.runner = Runner(
            self.scheduler,
            self.backend,
            run_id=self.run_id,
            working_directory=self.working_directory,
            hb_config=self.config,
            manifest=self._manifest,
            journal=result_logger if isinstance(result_logger, Journal) else None,
            extra_result_logger=None if result_logger is None or isinstance(result_logger, Journal) else result_logger,
            result_callbacks=result_callbacks,
            job_timeout=job_timeout,
            max_wait_for_workers=max_wait_for_workers,
            stop_grace_period=stop_grace_period,
            job_queue_sizes=job_queue_sizes,
            dynamic_queue_size=dynamic_queue_size,
            previous_result=previous_result,
            resume=resume,
            logger=self.logger,
            metric=self.metric,
        )
        self.runner.attach()

    # ------------------------------------------------------------------ to implement
    def get_next_iteration(self, iteration: int, iteration_kwargs: dict | None = None) -> BaseIteration:
        """Return the iteration (bracket) with index ``iteration``; implemented by each optimizer."""
        raise NotImplementedError("subclasses of Master implement get_next_iteration(iteration, iteration_kwargs)")

    def make_scheduler(self) -> Scheduler:
        """The scheduler this optimizer runs: iterations from :meth:`get_next_iteration`, one after another."""
        return IterationScheduler(self.config_generator, self.get_next_iteration)

    def _manifest(self) -> dict[str, Any]:
        """What run.json records about this optimizer (the runner adds the journal's and the backend's facts)."""
        return {
            "optimizer": type(self).__name__,
            "optimizer_kwargs": getattr(self, "optimizer_kwargs", {}),
            "configspace": getattr(self, "configspace_json", None),
            "seed": getattr(self, "seed", None),
            "scheduler": self.scheduler.manifest(),
            "metric": self.metric.manifest(),
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
        max_configs: int | None = None,
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
        max_configs : int, optional
            No new configuration starts once this many have started in this call (the synchronous optimizers
            then stop starting jobs, as for ``max_budget_spent``; the asynchronous ones keep promoting).
        """
        self._set_iteration_kwargs(iteration_kwargs)
        return self.runner.run(
            n_iterations,
            min_n_workers=min_n_workers,
            progress=progress,
            max_wallclock_time=max_wallclock_time,
            max_budget_spent=max_budget_spent,
            max_configs=max_configs,
            progress_name=type(self).__name__,
        )

    def _set_iteration_kwargs(self, iteration_kwargs: dict | None) -> None:
        if isinstance(self.scheduler, IterationScheduler):
            self.scheduler.set_iteration_kwargs(iteration_kwargs)
        elif iteration_kwargs:
            self.logger.warning("%s takes no iteration_kwargs; ignoring %s", type(self).__name__,
                                sorted(iteration_kwargs))

    def wait_for_workers(self, min_n_workers: int = 1) -> None:
        """Block until at least ``min_n_workers`` workers have joined (woken by each join; no polling)."""
        self.runner.wait_for_workers(min_n_workers)

    def shutdown(self, shutdown_workers: bool = False) -> None:
        """Stop the backend (telling workers to shut down if ``shutdown_workers``) and close the journal."""
        self.runner.shutdown(shutdown_workers)

    def adjust_queue_size(self, number_of_workers: int | None = None) -> None:
        """HpBandSter's name: the number of workers changed (the backend tells the runner)."""
        self.runner.workers_changed(self.backend.n_workers if number_of_workers is None else number_of_workers)

    def job_callback(self, job: Job) -> None:
        """HpBandSter's name: record a finished job (journal, then the iteration, then the config generator)."""
        self.runner.job_finished(job)

    def active_iterations(self) -> list[int]:
        """Indices of the iterations that are not finished."""
        return [i for i, it in enumerate(self.iterations) if not it.is_finished]

    def config_directory(self, config_id: tuple) -> str:
        """The directory of one configuration, for its checkpoints: ``<journal>/configs/config_<i>_<j>_<k>``.

        The same directory for every budget the configuration runs on, whichever worker runs it, so a
        promoted configuration can resume from its own checkpoint. ``compute`` receives it as
        ``config_directory`` (with ``previous_budget``) when its signature accepts them.
        """
        return self.runner.config_directory(config_id)

    # ------------------------------------------------------------------ what HpBandSter users read
    @property
    def run_id(self) -> str:
        """The run's id (its journal directory's prefix; workers of this run_id serve it)."""
        return self._run_id

    @run_id.setter
    def run_id(self, value: str) -> None:
        self._run_id = validate_run_id(value)
        if hasattr(self, "runner"):
            self.runner.run_id = self._run_id

    @property
    def iterations(self) -> list:
        """The iterations started so far (their ``data`` is released once they finish)."""
        return getattr(self.scheduler, "iterations", [])

    @property
    def journal(self) -> Journal | None:
        """This run's journal (None until :meth:`run` opens it, unless ``result_logger`` gave one)."""
        return self.runner.journal

    @property
    def dispatcher(self) -> Any:
        """The Pyro dispatcher of the default backend (None for other backends)."""
        return getattr(self.backend, "dispatcher", None)

    @property
    def num_running_jobs(self) -> int:
        """Jobs submitted to the backend and not finished."""
        return self.runner.num_running_jobs

    @property
    def job_timeout(self) -> Any:
        return self.runner.job_timeout

    @property
    def max_wait_for_workers(self) -> float | None:
        return self.runner.max_wait_for_workers

    @property
    def result_callbacks(self) -> list:
        return self.runner.result_callbacks

    def _open_journal(self) -> None:
        """Open (or, with ``resume=True``, reopen) the journal now instead of at :meth:`run`."""
        self.runner.open_journal()

    def _write_result(self) -> Result:
        """Flush the journal and write ``results.pkl``; return the Result read back."""
        return self.runner.write_result()

    def __enter__(self) -> Master:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(self.shutdown_workers)

