"""What HyperBand, BOHB and RandomSearch share: the budget ladder, the manifest, the iteration class."""

from __future__ import annotations

from typing import Any

from bandster.core.base_config_generator import base_config_generator
from bandster.core.base_iteration import BaseIteration
from bandster.core.master import Master
from bandster.samplers.initial_design import InitialDesign
from bandster.samplers.random import check_configspace
from bandster.schedulers import brackets
from bandster.schedulers.hyperband import HyperbandScheduler
from bandster.schedulers.successive_halving import SuccessiveHalving


class BracketOptimizer(Master):
    """A :class:`~bandster.core.master.Master` running Hyperband's brackets of successive halving.

    The schedule is a :class:`~bandster.schedulers.HyperbandScheduler` (``scheduler_class``) whose iterations
    come from :meth:`get_next_iteration`, so a subclass may still override that.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
    config_generator : base_config_generator
    eta, min_budget, max_budget : float
        The budget ladder (see :mod:`bandster.schedulers.brackets`).
    seed : int, optional
        Recorded in the journal's manifest (the config generator is seeded by the subclass).
    optimizer_kwargs : dict
        The optimizer's own arguments, for the manifest.
    points_to_evaluate : list of dict, optional
        Configurations (possibly partial: missing values come from the defaults) evaluated before any
        sampled one, in the first stages of the first iterations. Checked before anything starts.
    **kwargs
        Passed to :class:`~bandster.core.master.Master` (``run_id`` is required).
    """

    iteration_class: type[BaseIteration] = SuccessiveHalving
    scheduler_class: type[HyperbandScheduler] = HyperbandScheduler

    def __init__(
        self,
        configspace: Any,
        config_generator: base_config_generator,
        eta: float,
        min_budget: float,
        max_budget: float,
        seed: int | None,
        optimizer_kwargs: dict[str, Any],
        points_to_evaluate: list[dict] | None = None,
        **kwargs: Any,
    ) -> None:
        brackets.validate_budgets(min_budget, max_budget, eta)
        self.initial_design = InitialDesign(configspace, points_to_evaluate) if points_to_evaluate else None
        self.configspace = configspace
        self.seed = seed
        self.eta = eta
        self.min_budget = min_budget
        self.max_budget = max_budget
        self.budgets = brackets.budget_ladder(min_budget, max_budget, eta)
        self.max_SH_iter = len(self.budgets)
        self.optimizer_kwargs = dict(optimizer_kwargs, eta=eta, min_budget=min_budget, max_budget=max_budget)
        self.configspace_json = configspace.to_serialized_dict() if configspace is not None else None
        self.config = {
            "time_ref": None,
            "eta": eta,
            "min_budget": min_budget,
            "max_budget": max_budget,
            "budgets": list(self.budgets),
            "max_SH_iter": self.max_SH_iter,
        }
        super().__init__(config_generator=config_generator, **kwargs)

    def make_scheduler(self) -> HyperbandScheduler:
        return self.scheduler_class(
            self.config_generator, self.min_budget, self.max_budget, self.eta, iteration_class=self.iteration_class,
            initial_design=self.initial_design, iteration_factory=self.get_next_iteration,
        )

    def stage_plan(self, iteration: int) -> tuple[list[int], list[float]]:
        """``(configs per stage, budget per stage)`` of iteration ``iteration``."""
        return self.scheduler.stage_plan(iteration)

    def get_next_iteration(self, iteration: int, iteration_kwargs: dict | None = None) -> BaseIteration:
        """The successive-halving bracket that Hyperband's schedule gives iteration ``iteration``."""
        return self.scheduler.make_iteration(iteration, iteration_kwargs or {})


def require_configspace(configspace: Any, optimizer: str) -> Any:
    """Raise a clear ValueError when ``configspace`` is missing or empty."""
    if configspace is None:
        raise ValueError(f"{optimizer} needs a configspace: pass configspace=ConfigSpace.ConfigurationSpace(...)")
    return check_configspace(configspace)
