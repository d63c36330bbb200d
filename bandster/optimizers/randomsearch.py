"""Random search at the largest budget, with as many evaluations per iteration as one Hyperband bracket's budget."""

from __future__ import annotations

from typing import Any

from bandster.optimizers._bracket_optimizer import BracketOptimizer, require_configspace
from bandster.samplers.random import RandomSampling
from bandster.schedulers.hyperband import RandomSearchScheduler


class RandomSearch(BracketOptimizer):
    """Random search: every configuration is evaluated once, on ``max_budget``.

    Each iteration evaluates ``random_search_num_configs(min_budget, max_budget, eta)`` configurations:
    the budget one Hyperband bracket would spend, so the two compare at equal cost, as in HpBandSter.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
    eta, min_budget, max_budget : float
        Only used to size the iterations (HpBandSter's defaults: 3, 1, 1, i.e. one config per iteration).
    seed : int, optional
        Seeds the sampler.
    **kwargs
        Passed to :class:`~bandster.core.master.Master` (``run_id`` is required).
    points_to_evaluate : list of dict, optional
        Configurations (possibly partial; missing values come from the defaults) evaluated before sampled ones.
    previous_result : Result or str, optional
        Warm start from an earlier run's Result or its journal directory.
    """

    scheduler_class = RandomSearchScheduler

    def __init__(
        self,
        configspace: Any = None,
        eta: float = 3,
        min_budget: float = 1,
        max_budget: float = 1,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "RandomSearch")
        super().__init__(
            configspace,
            RandomSampling(configspace, seed=seed),
            eta,
            min_budget,
            max_budget,
            seed,
            optimizer_kwargs={},
            **kwargs,
        )
        self.num_configs_per_iteration = self.scheduler.num_configs_per_iteration
        # HpBandSter recorded min_budget = max_budget for random search: every run is on max_budget
        self.config.update(min_budget=max_budget, budgets=[float(max_budget)], max_SH_iter=1)
