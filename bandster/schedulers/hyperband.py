"""Synchronous brackets: successive halving (or resampling) iterations, one after another, Hyperband's schedule.

:class:`IterationScheduler` runs any iterations (:class:`~bandster.core.base_iteration.BaseIteration` objects that a
factory makes: HpBandSter's ``Master.get_next_iteration``); :class:`HyperbandScheduler` makes Hyperband's brackets
(HpBandSter's arithmetic, :mod:`bandster.optimizers.brackets`); :class:`RandomSearchScheduler` one stage on the
largest budget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bandster.core.base_iteration import BaseIteration
from bandster.core.job import Job
from bandster.schedulers import brackets
from bandster.schedulers._base import JobRequest, Scheduler, positive_int
from bandster.schedulers.successive_halving import SuccessiveHalving

logger = logging.getLogger(__name__)

__all__ = ["HyperbandScheduler", "IterationScheduler", "RandomSearchScheduler"]

IterationFactory = Callable[[int, dict], BaseIteration]


def previous_budget(datum: Any, budget: float) -> float | None:
    """The largest smaller budget ``datum`` (a configuration's record) finished successfully on, or None."""
    if datum is None:
        return None
    done = [b for b, r in datum.results.items() if r is not None and b < budget]
    return float(max(done)) if done else None


def _stage_complete(iteration: Any) -> bool:
    """True when every run of the iteration's current stage has a result (the stage barrier is reached)."""
    stage = getattr(iteration, "stage", None)
    if getattr(iteration, "is_finished", True) or stage is None or not hasattr(iteration, "actual_num_configs"):
        return False
    return (iteration.num_running == 0 and iteration.num_pending() == 0
            and iteration.actual_num_configs[stage] >= iteration.num_configs[stage])


def request_for(iteration: Any, run: tuple, attempt: int = 1) -> JobRequest:
    """The :class:`JobRequest` for ``run`` (``(config_id, config, budget)``) handed out by ``iteration``: with the
    configuration's ``config_info`` and ``previous_budget`` from the iteration's record of it."""
    config_id, config, budget = run
    datum = iteration.data.get(config_id)
    return JobRequest(
        tuple(config_id), config, float(budget),
        config_info=getattr(datum, "config_info", None) or {},
        previous_budget=previous_budget(datum, float(budget)),
        attempt=attempt,
    )


class IterationScheduler(Scheduler):
    """Runs iterations one after another; idle workers take runs of the next while one waits at a stage barrier.

    ``grant(n)`` allows ``n`` more iterations (after a resume, the first grant counts the run's total). The
    active iterations are asked for their next run oldest first; when none has one and the grant allows, the next
    iteration starts.

    Parameters
    ----------
    sampler : base_config_generator
        Proposes the configurations of each iteration.
    iteration_factory : callable
        ``iteration_factory(index, iteration_kwargs) -> BaseIteration``; its iteration must sample through the
        ``config_sampler`` it is given (``iteration_kwargs["config_sampler"]`` is :meth:`sample_config`).
    initial_design : InitialDesign, optional
    plan : callable, optional
        ``plan(index) -> (num_configs, budgets)`` of iteration ``index`` (for progress bars and the journal).
    iteration_kwargs : dict, optional
        Passed to the factory for every iteration.

    Examples
    --------
    Ask and tell, with your own loop:

    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> space = CS.ConfigurationSpace({'x': (0.0, 1.0)})
    >>> scheduler = HyperbandScheduler(RandomSampling(space, seed=1), min_budget=1, max_budget=9, eta=3)
    >>> scheduler.grant(1)
    {'n_iterations': 1}
    >>> while not scheduler.is_done():
    ...     job = scheduler.ask()
    ...     scheduler.tell(job, job.config['x'] / job.budget)
    >>> [len(it.data) for it in scheduler.iterations]
    [9]
    """

    def __init__(
        self,
        sampler: Any,
        iteration_factory: IterationFactory,
        initial_design: Any = None,
        plan: Callable[[int], tuple[list, list]] | None = None,
        iteration_kwargs: dict | None = None,
    ) -> None:
        super().__init__(sampler, initial_design)
        self.iteration_factory = iteration_factory
        self.plan = plan
        self.iteration_kwargs = dict(iteration_kwargs or {})
        self.iterations: list[BaseIteration] = []
        self.active: list[BaseIteration] = []  # unfinished iterations, oldest first
        self.iterations_left = 0
        self._resumed = False

    @property
    def num_iterations(self) -> int:
        return len(self.iterations)

    # ------------------------------------------------------------------ Scheduler
    def grant(self, n_iterations: int, max_configs: int | None = None) -> dict[str, Any]:
        """Allow ``n_iterations`` more iterations (the run's total after a resume)."""
        positive_int("n_iterations", n_iterations, allow_none=False)
        if self._resumed:  # n_iterations counts the resumed run's total
            self._resumed = False
            n_iterations = max(0, n_iterations - len(self.iterations))
        self.iterations_left += n_iterations
        return {"n_iterations": len(self.iterations) + self.iterations_left}

    def planned_runs(self, n_iterations: int) -> int | None:
        if self.plan is None:
            return None
        first = len(self.iterations) + self.iterations_left
        if self._resumed:
            n_iterations = max(0, n_iterations - len(self.iterations))
        return sum(sum(n for n in self.plan(i)[0] if n is not None) for i in range(first, first + n_iterations))

    def end_grant(self) -> None:
        self.iterations_left = 0

    def set_iteration_kwargs(self, iteration_kwargs: dict | None) -> None:
        """Extra arguments for the iterations started from now on (e.g. ``resampling_rate``)."""
        self.iteration_kwargs = dict(iteration_kwargs or {})

    def next_job(self) -> JobRequest | None:
        while True:
            for it in list(self.active):
                run = it.get_next_run()
                if run is not None:
                    return request_for(it, run)
                if it.is_finished:
                    self.active.remove(it)
                    # the journal (and the Result read back from it) holds its records: keep the memory
                    # proportional to the unfinished iterations, not to the length of the run
                    it.data = {}
            if self.iterations_left <= 0:
                return None
            self.iterations_left -= 1
            self.new_iteration(len(self.iterations))

    def on_result(self, job: Job) -> None:
        try:
            iteration = self.iterations[job.id[0]]
            iteration.register_result(job)
            if _stage_complete(iteration):
                iteration.process_results()  # promote now, so is_done() is right without another next_job()
        except Exception:
            logger.exception("iteration %s could not register the result of %s", job.id[0], job.id)
        self.feed_sampler(job)

    def is_done(self) -> bool:
        return self.iterations_left <= 0 and all(it.is_finished for it in self.active)

    def manifest(self) -> dict[str, Any]:
        return {"scheduler": type(self).__name__}

    # ------------------------------------------------------------------ iterations
    def new_iteration(self, index: int) -> BaseIteration:
        """Create iteration ``index`` with the factory and make it active."""
        iteration = self.iteration_factory(index, dict(self.iteration_kwargs))
        self.iterations.append(iteration)
        self.active.append(iteration)
        self._event("iteration_started", iteration=index, num_configs=list(iteration.num_configs),
                    budgets=list(iteration.budgets))
        return iteration

    def replay(self, result: Any, attempts: Any) -> tuple[list[JobRequest], dict[str, int]]:
        """Rebuild the iterations from a journal (``resume=True``).

        Each recorded iteration is created again; its configurations are handed out again in their recorded order
        (so config ids and configurations match), and each recorded result is registered again, which re-does the
        promotions. Runs without a result are returned to be run first (their attempt counted from the journal's
        dispatches). Every recorded result, warm-start runs included, goes to the sampler.
        """
        time_ref = result.HB_config.get("time_ref") or 0.0
        id2conf = result.get_id2config_mapping()
        done = {(r.config_id, float(r.budget)): r for r in result.get_all_runs()}
        for run in result.get_all_runs():
            self.feed_sampler(Job.from_run(run, id2conf[run.config_id]["config"], time_ref), update_model=False)
        self.skip_initial_design(e["config_info"] for e in id2conf.values())

        n_iterations = max((cid[0] for cid in id2conf), default=-1) + 1
        requeued: list[JobRequest] = []
        for index in range(n_iterations):
            recorded = {cid: e for cid, e in id2conf.items() if cid[0] == index}
            iteration = self.new_iteration(index)
            fresh = iteration.config_sampler

            def sampler(budget: float, it: Any = iteration, recorded: dict = recorded, fresh: Any = fresh) -> tuple:
                entry = recorded.get((it.HPB_iter, it.stage, it.actual_num_configs[it.stage]))
                if entry is not None:
                    return entry["config"], entry["config_info"]
                return fresh(budget)

            iteration.config_sampler = sampler
            while True:
                run = iteration.get_next_run()
                if run is None:
                    break
                config_id, config, budget = run
                recorded_run = done.get((tuple(config_id), float(budget)))
                if recorded_run is None:
                    requeued.append(request_for(iteration, run, attempts[(tuple(config_id), float(budget))] + 1))
                    continue
                iteration.register_result(Job.from_run(recorded_run, config, time_ref))
            iteration.config_sampler = fresh
        self._resumed = True
        return requeued, {"iterations": n_iterations, "runs": len(done), "requeued": len(requeued)}


class HyperbandScheduler(IterationScheduler):
    """Hyperband's brackets of successive halving (HpBandSter's budget arithmetic), synchronously.

    Iteration ``i`` is the bracket ``brackets.hyperband_iteration(i, min_budget, max_budget, eta)``.

    Parameters
    ----------
    sampler : base_config_generator
        Random sampling gives Hyperband; BOHB's KDE model gives BOHB.
    min_budget, max_budget, eta : float
        The budget ladder.
    iteration_class : type, optional
        :class:`~bandster.optimizers.iterations.SuccessiveHalving` (default) or ``SuccessiveResampling``.
    initial_design : InitialDesign, optional
    iteration_kwargs : dict, optional
        Passed to every iteration (e.g. ``resampling_rate``).
    iteration_factory : callable, optional
        Makes the iterations instead of :meth:`make_iteration` (HpBandSter's ``Master.get_next_iteration``).

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> scheduler = HyperbandScheduler(RandomSampling(CS.ConfigurationSpace({'x': (0.0, 1.0)})), 1, 9, 3)
    >>> scheduler.plan(0), scheduler.plan(1)
    (([9, 3, 1], [1.0, 3.0, 9.0]), ([3, 1], [3.0, 9.0]))
    """

    def __init__(
        self,
        sampler: Any,
        min_budget: float,
        max_budget: float,
        eta: float = 3,
        iteration_class: type | None = None,
        initial_design: Any = None,
        iteration_kwargs: dict | None = None,
        iteration_factory: IterationFactory | None = None,
    ) -> None:
        brackets.validate_budgets(min_budget, max_budget, eta)
        self.min_budget = min_budget
        self.max_budget = max_budget
        self.eta = eta
        self.budgets = brackets.budget_ladder(min_budget, max_budget, eta)
        self.iteration_class = SuccessiveHalving if iteration_class is None else iteration_class
        super().__init__(sampler, iteration_factory or self.make_iteration, initial_design, self.stage_plan,
                         iteration_kwargs)

    def stage_plan(self, iteration: int) -> tuple[list, list]:
        """``(configs per stage, budget per stage)`` of iteration ``iteration``."""
        return brackets.hyperband_iteration(iteration, self.min_budget, self.max_budget, self.eta)

    def make_iteration(self, index: int, iteration_kwargs: dict) -> BaseIteration:
        """The successive-halving bracket of iteration ``index``."""
        ns, budgets = self.plan(index)
        return self.iteration_class(HPB_iter=index, num_configs=ns, budgets=budgets,
                                    config_sampler=self.sample_config, **iteration_kwargs)

    def manifest(self) -> dict[str, Any]:
        return {"scheduler": type(self).__name__, "min_budget": self.min_budget, "max_budget": self.max_budget,
                "eta": self.eta, "iteration_class": self.iteration_class.__name__}


class RandomSearchScheduler(HyperbandScheduler):
    """Random search as HpBandSter runs it: each iteration evaluates a batch of configurations on ``max_budget``.

    The batch size is HpBandSter's: the number of budgets on the ladder ``(min_budget, max_budget, eta)``
    (:func:`~bandster.schedulers.brackets.random_search_num_configs`; HpBandSter's defaults 1, 1, 3: one
    configuration per iteration).

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.samplers import RandomSampling
    >>> RandomSearchScheduler(RandomSampling(CS.ConfigurationSpace({'x': (0.0, 1.0)})), 1, 9, 3).plan(0)
    ([3], [9.0])
    """

    def __init__(self, sampler: Any, min_budget: float = 1, max_budget: float = 1, eta: float = 3,
                 **kwargs: Any) -> None:
        self.num_configs_per_iteration = brackets.random_search_num_configs(min_budget, max_budget, eta)
        super().__init__(sampler, min_budget, max_budget, eta, **kwargs)

    def stage_plan(self, iteration: int) -> tuple[list, list]:
        return [self.num_configs_per_iteration], [float(self.max_budget)]
