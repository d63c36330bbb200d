"""The Master: runs iterations (brackets) over the dispatcher's workers and keeps the journal.

The scheduling step (:meth:`Master._fill`) is event driven: it runs whenever a result arrives or the
number of workers changes, in the thread that brought the news, under the master's condition variable.
It keeps as many jobs outstanding as there are workers (plus ``job_queue_sizes[1]``), asking the active
iterations, oldest first, for their next run and starting a new iteration when none has one. The thread
that called :meth:`run` only waits until the last iteration is finished: nothing polls or sleeps.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from bandster.__version__ import __version__
from bandster.core import credentials
from bandster.core.base_config_generator import base_config_generator
from bandster.core.base_iteration import BaseIteration
from bandster.core.dispatcher import Dispatcher
from bandster.core.initial_design import InitialDesign
from bandster.core.job import Job
from bandster.core.journal import Journal, new_journal_directory
from bandster.core.nameserver import validate_run_id
from bandster.core.progress import ProgressBar
from bandster.core.result import Result, logged_results_to_HBS_result
from bandster.core.warmstart import warm_start

logger = logging.getLogger(__name__)


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
    ) -> None:
        self.run_id = validate_run_id(run_id)
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

        self.journal: Journal | None = result_logger if isinstance(result_logger, Journal) else None
        self._owns_journal = False
        self._extra_result_logger: Callable[[Job], None] | None = (
            None if result_logger is None or isinstance(result_logger, Journal) else result_logger
        )
        self._cond = threading.Condition()
        self._n_workers = 0
        self._iterations_left = 0
        self._iteration_kwargs: dict[str, Any] = {}
        self._held_run: tuple | None = None
        self._active: list[BaseIteration] = []  # unfinished iterations, oldest first
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
    ) -> Result:
        """Run ``n_iterations`` more iterations and return the :class:`Result` of the whole run so far.

        Waits for ``min_n_workers`` workers first. Iteration indices keep counting across calls, as in
        HpBandSter. On Ctrl-C the journal and ``results.pkl`` keep every finished run before the
        KeyboardInterrupt propagates.

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
        """
        if isinstance(n_iterations, bool) or not isinstance(n_iterations, int) or n_iterations < 1:
            raise ValueError(f"n_iterations must be an integer >= 1, got {n_iterations!r}")
        if int(min_n_workers) < 0:
            raise ValueError(f"min_n_workers must be >= 0, got {min_n_workers!r}")
        self._open_journal()
        first = len(self.iterations) + self._iterations_left
        self._progress = ProgressBar(progress, self._planned_runs(first, n_iterations), type(self).__name__)
        try:
            self.wait_for_workers(min_n_workers)
            self.logger.info("starting %d iterations with %d workers", n_iterations, self._n_workers)
            with self._cond:
                self._stopping = False
                self._iteration_kwargs = dict(iteration_kwargs or {})
                self._iterations_left += n_iterations
                self._fill()
                while not self._all_done():
                    self._cond.wait()
        except KeyboardInterrupt:
            self.logger.warning("interrupted: no new jobs; the journal and results.pkl keep every finished run")
            with self._cond:
                self._stopping = True
                self._iterations_left = 0
            self._event("interrupted")
            self._write_result()
            raise
        finally:
            self._progress.close()
            self._progress = None
        self._event("run_finished", iterations=len(self.iterations))
        return self._write_result()

    def wait_for_workers(self, min_n_workers: int = 1) -> None:
        """Block until at least ``min_n_workers`` workers have joined (woken by each join; no polling)."""
        with self._cond:
            if self._n_workers < min_n_workers:
                self.logger.info("waiting for %d workers (%d present)", min_n_workers, self._n_workers)
            self._cond.wait_for(lambda: self._n_workers >= min_n_workers)

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
            self._fill()
            self._cond.notify_all()

    def active_iterations(self) -> list[int]:
        """Indices of the iterations that are not finished."""
        return [i for i, it in enumerate(self.iterations) if not it.is_finished]

    def job_callback(self, job: Job) -> None:
        """Record a finished job: journal first, then the iteration, then the config generator."""
        with self._cond:
            self.num_running_jobs -= 1
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
            if self._all_done():
                self._cond.notify_all()

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

    def _next_run(self) -> tuple | None:
        if self._held_run is not None:
            run, self._held_run = self._held_run, None
            return run
        while True:
            for it in list(self._active):
                run = it.get_next_run()
                if run is not None:
                    return run
                if it.is_finished:
                    self._active.remove(it)
            if self._iterations_left <= 0 or self._stopping:
                return None
            index = len(self.iterations)
            kwargs = dict(self._iteration_kwargs)
            kwargs.setdefault("result_logger", self.journal)
            self.iterations.append(self.get_next_iteration(index, kwargs))
            self._active.append(self.iterations[-1])
            self._iterations_left -= 1
            self._event("iteration_started", iteration=index,
                        num_configs=list(self.iterations[-1].num_configs),
                        budgets=list(self.iterations[-1].budgets))

    def _fill(self) -> None:
        """Submit runs while there is room (called with ``_cond`` held)."""
        if self._stopping:
            return
        while self.num_running_jobs < self._max_outstanding() or (
            self.num_running_jobs == 0 and self._held_run is None
        ):
            run = self._next_run()
            if run is None:
                return
            if self.num_running_jobs >= self._max_outstanding():
                self._held_run = run  # no worker for it yet; it goes first when one joins
                return
            config_id, config, budget = run
            self.num_running_jobs += 1
            self.dispatcher.submit_job(
                config_id,
                config=config,
                budget=float(budget),
                working_directory=self.working_directory,
                config_directory=self.config_directory(config_id),
                previous_budget=self._previous_budget(config_id, budget),
            )

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
        return self._iterations_left <= 0 and self._held_run is None and all(it.is_finished for it in self._active)

    # ------------------------------------------------------------------ records
    def _open_journal(self) -> None:
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
            self.logger.info("journal: %s", self.journal.directory)

    def _write_result(self) -> Result:
        assert self.journal is not None
        self.journal.flush()
        result = logged_results_to_HBS_result(self.journal.directory)
        self.journal.write_result_pickle(result)
        return result

    def _event(self, kind: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.event(kind, **fields)

    def __enter__(self) -> Master:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(self.shutdown_workers)
