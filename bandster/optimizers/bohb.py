"""BOHB (Falkner, Klein and Hutter, ICML 2018): Hyperband's brackets with a KDE model choosing configurations."""

from __future__ import annotations

import inspect
from typing import Any

from bandster.optimizers._bracket_optimizer import BracketOptimizer, require_configspace
from bandster.samplers.bohb import BOHB as BOHBConfigGenerator

#: BOHB's model settings: the keyword arguments of the sampler (:class:`bandster.samplers.bohb.BOHB`), declared
#: there once; the optimizers pass them through
MODEL_SETTINGS = tuple(
    name for name, p in inspect.signature(BOHBConfigGenerator).parameters.items()
    if name not in ("configspace", "seed", "logger") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
)


def bohb_model(configspace: Any, seed: int | None, **settings: Any) -> tuple[BOHBConfigGenerator, dict[str, Any]]:
    """BOHB's model for an optimizer (BOHB, AsyncBOHB), and all its settings (defaults filled in) as the journal's
    manifest records them. ``settings`` are :data:`MODEL_SETTINGS` (the sampler's keyword arguments)."""
    unknown = sorted(set(settings) - set(MODEL_SETTINGS))
    if unknown:
        raise TypeError(f"unknown BOHB model settings {unknown}; the settings are {list(MODEL_SETTINGS)}")
    bound = inspect.signature(BOHBConfigGenerator).bind(configspace, seed=seed, **settings)
    bound.apply_defaults()
    model_kwargs = {name: bound.arguments[name] for name in MODEL_SETTINGS}
    return BOHBConfigGenerator(configspace, seed=seed, **model_kwargs), model_kwargs


def split_model_settings(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the model settings (:data:`MODEL_SETTINGS`) out of an optimizer's ``kwargs``."""
    return {name: kwargs.pop(name) for name in MODEL_SETTINGS if name in kwargs}


class BOHB(BracketOptimizer):
    """BOHB: successive-halving brackets whose new configurations come from a Tree-Parzen-style KDE model.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
        The search space (floats, ints, categoricals, ordinals, constants, conditions, forbidden clauses).
    eta, min_budget, max_budget : float
        As for :class:`~bandster.optimizers.HyperBand`.
    min_points_in_model : int, optional
        Observations on a budget needed before it gets a model; default d + 1 (d = number of
        non-constant hyperparameters). With the default split the first model appears at 2(d + 1).
    top_n_percent : float
        Percentage of observations that make the "good" density l(x).
    num_samples : int
        Candidates drawn from l(x) per proposal; the one maximising l(x)/g(x) is evaluated.
    random_fraction : float
        Fraction of proposals drawn from the prior instead of the model.
    bandwidth_factor : float
        Widens the bandwidths when drawing candidates.
    min_bandwidth : float
        Floor of every bandwidth (keeps diversity when many points coincide).
    model_budget_rule : {"enough", "full_split", "reached"}
        Which budget's model proposes: "enough" (BOHB's rule, the default) the largest budget with a model;
        "full_split" the largest whose good set is a full ``top_n_percent`` share; "reached" one model over all
        budgets, configurations ranked by the largest budget they reached; see :class:`bandster.samplers.bohb.BOHB`.
    prior_weight : float
        Weight of a uniform prior mixed into the good density (TPE's prior); 0 (default) is BOHB's model.
        It helps leave a decoy branch of a conditional space and costs on counting ones (docs/bohb.md).
    boundary : {"truncate", "reflect", "none"}
        How the continuous kernels treat the edges of [0, 1]: truncated and renormalised (default), reflected, or
        untruncated as in HpBandSter; see :class:`bandster.samplers.kde.ProductKDE` (keyword of the model).
    bandwidth_floor : {"per_point", "fixed"}
        Lower bound of the continuous bandwidths: ``1 / (4 min(100, n + 1))`` for a density of n points
        (default), or ``min_bandwidth`` only, HpBandSter's (keyword of the model; measurements in docs/bohb.md).
    inactive : {"impute", "uniform", "within_branch"}
        How inactive (conditional) values enter the densities: imputed from the same set (default, HpBandSter's)
        or as uniform kernels with candidates scored on their active hyperparameters (keyword of the model,
        :class:`bandster.samplers.bohb.BOHB`; only spaces with conditions are affected).
    parent_prior_weight : float
        Weight of TPE's uniform prior in the good density of the categoricals that are parents of conditions only
        (keyword of the model; default 0; only spaces with conditions are affected).
    seed : int, optional
        Seeds the model's own generator and a private copy of the config space: with one worker the same
        seed gives the same configurations and budgets in the same order.
    **kwargs
        Passed to :class:`~bandster.core.master.Master` (``run_id`` is required).
    points_to_evaluate : list of dict, optional
        Configurations (possibly partial; missing values come from the defaults) evaluated before sampled ones.
    previous_result : Result or str, optional
        Warm start from an earlier run's Result or its journal directory.

    See Also
    --------
    bandster.samplers.bohb.BOHB : the model on its own (ask-and-tell).
    """

    def __init__(
        self,
        configspace: Any = None,
        eta: float = 3,
        min_budget: float = 0.01,
        max_budget: float = 1,
        min_points_in_model: int | None = None,
        top_n_percent: float = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
        seed: int | None = None,
        model_budget_rule: str = "enough",
        prior_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        require_configspace(configspace, "BOHB")
        generator, model_kwargs = bohb_model(  # HpBandSter's explicit signature above; the sampler checks them
            configspace, seed, min_points_in_model=min_points_in_model, top_n_percent=top_n_percent,
            num_samples=num_samples, random_fraction=random_fraction, bandwidth_factor=bandwidth_factor,
            min_bandwidth=min_bandwidth, model_budget_rule=model_budget_rule, prior_weight=prior_weight,
            **split_model_settings(kwargs),
        )
        super().__init__(
            configspace, generator, eta, min_budget, max_budget, seed, optimizer_kwargs=model_kwargs, **kwargs
        )
