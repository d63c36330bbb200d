"""Optimizers for learning curves: the median stopping rule and PASHA.

* :class:`MedianStopping`: every configuration runs on ``max_budget`` and reports its learning curve; a job is
  stopped when its best value is worse than the median of the other jobs' running averages
  (:mod:`bandster.schedulers.median_stopping`).
* :class:`PASHA`: promotion-type ASHA whose top budget starts at the second rung and grows while the rankings
  of the top two rungs disagree (:mod:`bandster.schedulers.pasha`).

Stopping-type ASHA, asynchronous Hyperband and asynchronous BOHB are ``ASHA(type="stopping")``,
``AsyncHyperBand(type="stopping")`` and ``AsyncBOHB(type="stopping")`` (:mod:`bandster.optimizers.asynchronous`).
docs/stopping.md describes all of them.
"""

from __future__ import annotations

from typing import Any

from bandster.optimizers._bracket_optimizer import BracketOptimizer, require_configspace
from bandster.optimizers.asynchronous import AsyncBracketOptimizer
from bandster.samplers.random import RandomSampling
from bandster.schedulers._base import positive_number
from bandster.schedulers.median_stopping import MedianStoppingScheduler
from bandster.schedulers.pasha import PASHAScheduler

__all__ = ["PASHA", "MedianStopping"]


class MedianStopping(BracketOptimizer):
    """Random configurations on ``max_budget``, stopped by the median stopping rule (Golovin et al. 2017).

    Each job is handed ``budget = max_budget``; at each report at step ``s >= grace_period``, once at least
    ``min_samples_required`` other jobs have reported a step ``>= s``, the job stops if its best loss so far is
    strictly worse than the median of those jobs' running averages up to ``s`` (Ray Tune's
    ``MedianStoppingRule``; :class:`~bandster.schedulers.median_stopping.MedianStoppingRule` has the exact rule and
    how it differs from Vizier's). Config ids ``(0, 0, n)``.

    ``run(n_iterations)``: the run may use ``n_iterations * configs_per_iteration * max_budget`` consumed steps
    (each running job charged ``max_budget`` until it ends, then what it consumed: the step it was stopped at).

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
    max_budget : float
        The budget of every job; reports are steps up to it.
    grace_period : float
        No stop before this step (budget units).
    min_samples_required : int
        How many other jobs must have reached a step before a job can be stopped there.
    configs_per_iteration : int
        What ``run(n_iterations=1)`` allows, in full-length jobs.
    seed : int, optional
    **kwargs
        As for :class:`~bandster.optimizers.ASHA` (``run_id`` is required; ``backend``, ``nameserver``,
        ``nameserver_port``, ``working_directory``, ``result_callbacks``, ``points_to_evaluate``, ...).

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.backends import SimulatedBackend
    >>> def curve(config, budget):
    ...     for step in range(1, int(budget) + 1):
    ...         yield step, config['x'] + 1 / step, 1.0
    ...     return {'loss': config['x'] + 1 / budget, 'info': {}}
    >>> opt = MedianStopping(CS.ConfigurationSpace({'x': (0.0, 1.0)}, seed=0), max_budget=9, grace_period=1,
    ...                      min_samples_required=2, seed=0, run_id='median_doc', working_directory='median_doc',
    ...                      backend=SimulatedBackend(4, curve))
    >>> result = opt.run(n_iterations=1, progress=False)
    >>> len(result.get_all_runs()) > 10  # stopped jobs leave room for more configurations
    True
    >>> opt.shutdown()
    """

    def __init__(
        self,
        configspace: Any = None,
        max_budget: float = 1,
        grace_period: float = 1,
        min_samples_required: int = 3,
        configs_per_iteration: int = 10,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "MedianStopping")
        positive_number("max_budget", max_budget)
        self.grace_period = grace_period
        self.min_samples_required = min_samples_required
        self.configs_per_iteration = configs_per_iteration
        super().__init__(
            configspace, RandomSampling(configspace, seed=seed), 3, max_budget, max_budget, seed,
            optimizer_kwargs={"grace_period": grace_period, "min_samples_required": min_samples_required,
                              "configs_per_iteration": configs_per_iteration, "type": "stopping"},
            **kwargs,
        )
        self.config.update(asynchronous=True, type="stopping")

    def make_scheduler(self) -> MedianStoppingScheduler:
        return MedianStoppingScheduler(
            self.config_generator, self.max_budget, grace_period=self.grace_period,
            min_samples_required=self.min_samples_required, configs_per_iteration=self.configs_per_iteration,
            initial_design=self.initial_design,
        )

    def budget_limit(self, n_iterations: int) -> float:
        """The consumed steps ``run(n_iterations)`` allows in total."""
        return self.scheduler.budget_limit(n_iterations)


class PASHA(AsyncBracketOptimizer):
    """Progressive ASHA (Bohdal et al., ICLR 2023): promotion-type ASHA whose top budget grows when needed.

    Configurations pause at rungs and are promoted, resuming from their ``config_directory`` with
    ``previous_budget``, as in ``ASHA(type="promotion")``; but promotions stop at the current top rung, which
    starts at the second budget of the ladder and rises by one rung whenever the ranking of the configurations
    at the top rung differs (beyond a soft-ranking ``epsilon`` estimated from observed rank swaps) from their
    order one rung below. See :mod:`bandster.schedulers.pasha` for the exact rules. Config ids ``(0, 0, n)``.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
    min_budget, max_budget, eta : float
        The ladder, as for :class:`~bandster.optimizers.ASHA`; ``max_budget`` is the most PASHA may reach.
    seed : int, optional
    **kwargs
        As for :class:`~bandster.optimizers.ASHA`.

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.backends import SimulatedBackend
    >>> def objective(config, budget):
    ...     return {'loss': config['x'] + 1 / budget, 'info': {}, 'cost': budget}
    >>> opt = PASHA(CS.ConfigurationSpace({'x': (0.0, 1.0)}, seed=0), min_budget=1, max_budget=27, eta=3, seed=0,
    ...             run_id='pasha_doc', working_directory='pasha_doc', backend=SimulatedBackend(2, objective))
    >>> result = opt.run(n_iterations=1, progress=False)
    >>> max(r.budget for r in result.get_all_runs()) <= 27
    True
    >>> opt.shutdown()
    """

    def __init__(
        self,
        configspace: Any = None,
        min_budget: float = 0.01,
        max_budget: float = 1,
        eta: float = 3,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "PASHA")
        super().__init__(
            configspace, RandomSampling(configspace, seed=seed), eta, min_budget, max_budget, seed,
            optimizer_kwargs={"pasha": True}, n_brackets=1, **kwargs,
        )

    def make_scheduler(self) -> PASHAScheduler:
        return PASHAScheduler(self.config_generator, self.min_budget, self.max_budget, self.eta,
                              initial_design=self.initial_design)
