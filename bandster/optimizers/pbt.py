"""Population Based Training (PBT, Jaderberg et al. 2017) with HpBandSter's calling convention.

The rules are in :mod:`bandster.schedulers.pbt`; docs/pbt.md says when to use PBT and how a ``compute`` must
write its checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bandster.core.master import Master
from bandster.optimizers._bracket_optimizer import require_configspace
from bandster.records.result import Result
from bandster.samplers.initial_design import InitialDesign
from bandster.samplers.random import RandomSampling
from bandster.schedulers._base import positive_number
from bandster.schedulers.pbt import PBTScheduler, make_mutations

__all__ = ["PBT"]


class PBT(Master):
    """Population Based Training: a population trained in intervals; the worst copy the best and explore.

    Each of the ``population_size`` members trains in jobs of ``perturbation_interval`` budget units:
    ``compute(config, budget, working_directory, config_directory, previous_budget)`` continues from the checkpoint
    in ``config_directory`` (written by the previous job, or copied from another member's) at ``previous_budget``
    and trains until ``budget``. After each interval (past ``burn_in_period``), a member in the bottom
    ``quantile_fraction`` by loss copies a top member's checkpoint and configuration, then perturbs the
    configuration (:func:`bandster.schedulers.pbt.explore`). Members and their generations map onto config ids as
    ``(member, 0, generation)``; ``Result.get_lineage(member)`` and ``Result.get_schedule(member)`` read what
    happened back. The defaults are Ray Tune's ``PopulationBasedTraining``'s.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
        The initial population is drawn from it; its ranges bound every perturbation.
    population_size : int
        How many members train side by side (at least 2).
    perturbation_interval : float
        The budget of one job (Ray Tune's default: 60).
    max_budget : float
        Where every member's training ends (required).
    burn_in_period : float
        No exploit before a member has trained this far.
    hyperparam_mutations : dict, optional
        Which hyperparameters change and how (see :func:`bandster.schedulers.pbt.make_mutations`); default: every
        non-constant hyperparameter of ``configspace``.
    quantile_fraction : float
        The share of the population in the bottom and in the top quantile (at most 0.5).
    resample_probability : float
        How often a mutated hyperparameter is resampled instead of perturbed.
    perturbation_factors : tuple of float
        A perturbed numeric value is multiplied by one of these.
    custom_explore_fn : callable, optional
        ``custom_explore_fn(config) -> config``, applied after the mutations.
    synchronous : bool
        False (default): each member decides when its own job ends. True: every interval waits for the whole
        population.
    seed : int, optional
        Seeds the initial population and the exploit/explore choices.
    points_to_evaluate : list of dict, optional
        Configurations of the first members (missing values come from the defaults).
    **kwargs
        Passed to :class:`~bandster.core.master.Master` (``run_id`` is required; ``backend``, ``resume``,
        ``working_directory``, ...).

    Examples
    --------
    >>> import ConfigSpace as CS
    >>> from bandster.backends import SimulatedBackend
    >>> def train(config, budget, previous_budget=None, **kwargs):  # a made-up "training": loss falls with lr
    ...     return {"loss": 1.0 / (1.0 + config["lr"] * budget), "cost": budget - (previous_budget or 0)}
    >>> space = CS.ConfigurationSpace({"lr": (0.01, 1.0)})
    >>> pbt = PBT(space, population_size=4, perturbation_interval=2, max_budget=10, seed=0, run_id="pbt_doc",
    ...           working_directory="pbt_doc", backend=SimulatedBackend(2, train))
    >>> result = pbt.run(progress=False)
    >>> sorted(result.to_dataframe()["member"].unique().tolist())
    [0, 1, 2, 3]
    >>> pbt.shutdown()
    """

    def __init__(
        self,
        configspace: Any = None,
        population_size: int = 8,
        perturbation_interval: float = 60.0,
        max_budget: float | None = None,
        burn_in_period: float = 0.0,
        hyperparam_mutations: Mapping[str, Any] | None = None,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        perturbation_factors: Sequence[float] = (1.2, 0.8),
        custom_explore_fn: Callable[[dict], dict] | None = None,
        synchronous: bool = False,
        seed: int | None = None,
        points_to_evaluate: list[dict] | None = None,
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "PBT")
        if max_budget is None:
            raise ValueError("PBT needs max_budget: where every member's training ends (e.g. the number of epochs)")
        positive_number("max_budget", max_budget)
        positive_number("perturbation_interval", perturbation_interval)
        if configspace.conditions or configspace.forbidden_clauses:
            raise ValueError("PBT does not support configuration spaces with conditions or forbidden clauses (an "
                             "explored configuration could become invalid); use a flat space")
        self.configspace = configspace
        self.seed = seed
        self.mutations = make_mutations(configspace, hyperparam_mutations)
        self.initial_design = InitialDesign(configspace, points_to_evaluate) if points_to_evaluate else None
        self.max_budget = float(max_budget)
        self.pbt_settings = dict(
            population_size=population_size, perturbation_interval=float(perturbation_interval),
            max_budget=self.max_budget, burn_in_period=burn_in_period, quantile_fraction=quantile_fraction,
            resample_probability=resample_probability, perturbation_factors=tuple(perturbation_factors),
            custom_explore_fn=custom_explore_fn, synchronous=synchronous, seed=seed,
        )
        self.optimizer_kwargs = {k: v for k, v in self.pbt_settings.items() if k != "custom_explore_fn"}
        self.optimizer_kwargs["perturbation_factors"] = list(self.optimizer_kwargs["perturbation_factors"])
        self.optimizer_kwargs["hyperparam_mutations"] = sorted(self.mutations)
        self.configspace_json = configspace.to_serialized_dict()
        n_intervals = int(math.ceil(self.max_budget / float(perturbation_interval) - 1e-9))
        budgets = [min((k + 1) * float(perturbation_interval), self.max_budget) for k in range(n_intervals)]
        self.config = {"time_ref": None, "min_budget": budgets[0], "max_budget": self.max_budget,
                       "budgets": budgets, "max_SH_iter": len(budgets), "pbt": True}
        super().__init__(config_generator=RandomSampling(configspace, seed=seed), **kwargs)

    def make_scheduler(self) -> PBTScheduler:
        return PBTScheduler(self.config_generator, mutations=self.mutations, initial_design=self.initial_design,
                            **self.pbt_settings)

    def run(self, n_iterations: int = 1, min_n_workers: int = 1, iteration_kwargs: dict | None = None,
            progress: bool | None = None, max_wallclock_time: float | None = None,
            max_budget_spent: float | None = None, max_configs: int | None = None) -> Result:
        """Train the population until every member reaches ``max_budget`` (or a limit is reached).

        ``n_iterations`` is accepted for HpBandSter's signature and not used; the limits are
        :meth:`bandster.core.master.Master.run`'s. A call after a limit continues the population.
        ``max_configs`` does not apply (the population is fixed; an exploit is a new generation, not a new
        configuration to try): a ``ValueError`` says so.
        """
        if max_configs is not None:
            raise ValueError("max_configs does not apply to PBT: the population is fixed at population_size "
                             "members; limit the run with max_budget_spent (budget units trained) or "
                             "max_wallclock_time instead")
        return super().run(n_iterations, min_n_workers, iteration_kwargs, progress, max_wallclock_time,
                           max_budget_spent, max_configs)
