"""BOHB's config generator: a TPE-style pair of product-kernel KDEs per budget, vectorised and seedable."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace

from bandster.core._convert import config_to_dict, loss_for_ranking
from bandster.core.job import Job
from bandster.samplers._base import base_config_generator
from bandster.samplers.kde.encoding import SpaceEncoding
from bandster.samplers.kde.product_kde import BOUNDARIES, ProductKDE

__all__ = ["BANDWIDTH_FLOORS", "BOHB", "INACTIVE_RULES", "MODEL_BUDGET_RULES"]

#: The values of ``inactive``: how inactive (conditional) values enter the densities (see :class:`BOHB`)
INACTIVE_RULES = ("impute", "uniform", "within_branch")

#: The values of ``bandwidth_floor``: the lower bound of the continuous bandwidths (see :class:`BOHB`)
BANDWIDTH_FLOORS = ("fixed", "per_point")

#: The values of ``model_budget_rule``: which budget's model proposes (see :class:`BOHB`).
MODEL_BUDGET_RULES = ("enough", "full_split", "reached")
#: ``model_budget()`` under the ``"reached"`` rule: the model is fitted on every budget at once
REACHED = math.inf


class _Observations:
    """Model vectors and losses of one budget, in arrays that grow by doubling."""

    def __init__(self, dim: int) -> None:
        self.n = 0
        self.vectors = np.empty((8, dim))
        self.losses = np.empty(8)

    def append(self, vector: np.ndarray, loss: float) -> None:
        if self.n == len(self.losses):
            self.vectors = np.concatenate([self.vectors, np.empty_like(self.vectors)])
            self.losses = np.concatenate([self.losses, np.empty_like(self.losses)])
        self.vectors[self.n] = vector
        self.losses[self.n] = loss
        self.n += 1


def _config_key(config: Mapping[str, Any]) -> tuple:
    """A hashable key of a configuration dict of builtins (its items, sorted by name)."""
    return tuple(sorted(config.items()))


class BOHB(base_config_generator):
    """BOHB's model: per-budget good/bad kernel density estimates, l(x)/g(x) maximised by sampling.

    Every finished evaluation is stored, per budget, as ConfigSpace's vector form of its
    configuration and its loss (failed runs, NaN, ±inf and missing losses count as ``+inf``). A
    proposal uses one budget's model, by default that of the *largest budget that has enough
    observations* (``model_budget_rule`` below; observations on smaller budgets are kept, so a
    budget's model keeps improving even after a larger budget has one). Its
    observations are sorted by loss (stable, so ties keep arrival order) and split into

    * ``n_good = max(min_points_in_model, floor(top_n_percent * N / 100))`` best points and
    * ``n_bad = min(max(min_points_in_model, floor((100 - top_n_percent) * N / 100)), N - n_good)``
      next points,

    and two product-kernel KDEs are fitted: l on the good, g on the bad points (Gaussian kernels
    truncated to [0, 1] for floats and integers, Aitchison–Aitken for categoricals, Wang–Ryzin for
    ordinals; bandwidths from statsmodels' normal-reference rule, floored at ``min_bandwidth`` and
    kept inside each kernel's valid range; continuous columns of unconditional hyperparameters also at
    ``1 / (4 min(100, n + 1))`` for a density of n points, see :meth:`bandwidth_floors`). ``num_samples``
    candidates are drawn around good points: continuous, integer and ordinal columns with their bandwidth
    times ``bandwidth_factor``, categorical columns keeping the point's level with probability 1 - λ and
    otherwise drawing a uniform level, as HpBandSter does (widening λ instead made the candidates'
    categoricals nearly uniform and cost quality, see docs/bohb.md); all are scored at once by
    ``log l(x) - log g(x)`` and the best one that satisfies the space's conditions and forbidden clauses
    and is not a configuration already proposed or observed (possible only in spaces without float
    hyperparameters) is returned. If none is, or with probability ``random_fraction``, or before any
    model exists, the proposal is a sample from the space's prior.

    **Which budget's model proposes** (``model_budget_rule``):

    * ``"enough"`` (BOHB's rule, the default): the largest budget that has a model.
    * ``"full_split"``: the largest budget whose good set holds its full ``top_n_percent`` share, i.e. with at least
      :attr:`full_split_observations` observations (``floor(top_n_percent * N / 100) >= min_points_in_model``;
      2 (d + 1) = 34 against 114 for d = 16 with the defaults); while no budget has that many, BOHB's rule. The
      first model of a budget splits its few observations about in half (``min_points_in_model`` points each):
      its "good" density is the better half of a few configurations, and when the smaller budgets rank
      configurations well it proposes worse ones than the full-split model of a smaller budget. Under
      asynchronous successive halving the larger budgets hold only promoted configurations, the first of them
      promoted from rungs with few results; :class:`~bandster.optimizers.AsyncBOHB` uses this rule by default
      (measurements: docs/asynchronous.md).
    * ``"reached"``: one model over all budgets (:meth:`model_budget` returns ``inf``). Each configuration counts
      once, at the largest budget it was observed on; they are ranked by that budget (largest first), then by
      their loss there (:meth:`reached_observations`), and split as above with N = the number of configurations.
      This is the rung a stopping-type scheduler let a configuration reach, Optuna's TPE ranks pruned trials the
      same way (by the step they reached, then their value). Under stopping ASHA the lowest rung holds every
      configuration's first value and the upper rungs only those kept: a per-budget model sits on the lowest
      rung for most of a run and learns the fastest starters, while this one learns what the stopping rule
      kept longest. :class:`~bandster.optimizers.AsyncBOHB` with ``type="stopping"`` uses it by default
      (measurements: docs/benchmarks.md, "Early stopping and PASHA on learning curves").

    **When the first model appears.** A budget has a model once both sets hold at least
    ``min_points_in_model`` points, i.e. ``N - n_good >= min_points_in_model``. With the default
    ``min_points_in_model = d + 1`` and ``top_n_percent <= 50`` that is ``N = 2 (d + 1)`` observations
    on the budget (good = bad = d + 1), where d is the number of modelled hyperparameters (Constants
    and single-valued hyperparameters are not counted). This is what HpBandSter's code actually did
    (its FAQ said d + 2, which would leave the bad KDE a single point); :attr:`min_observations_for_model`
    gives the exact number for any setting.

    Inactive (conditional) values are imputed, column by column, from a random row of the same set
    (good or bad) in which that hyperparameter is active, or from the prior if there is none. The
    imputation draws come from a generator seeded by ``(seed, N)``, so a refit is a deterministic function
    of the seed and the data, however often or late it happens. With ``inactive="uniform"`` they are not
    imputed: a point's kernel in a column where it is inactive is the uniform density, and a candidate is
    scored on its active hyperparameters only, so the values of a branch's hyperparameters are judged by the
    points of that branch alone (``"within_branch"`` also divides out the densities of the parents' values).
    ``parent_prior_weight`` mixes TPE's uniform prior into the good density of the discrete hyperparameters
    that are parents of conditions only. Both options act only in spaces with conditions: elsewhere the model
    is the same, run for run (measurements on the conditional Branin and ``sgd_digits``: docs/bohb.md).

    Models are refitted lazily, at the first proposal after new data arrived, so :meth:`new_result`
    costs microseconds and a proposal milliseconds even with thousands of observations.

    Parameters
    ----------
    configspace : ConfigSpace.ConfigurationSpace
        The space; a private, re-seeded copy is used (the caller's object is never changed).
    min_points_in_model : int, optional
        Minimum size of each of the good and bad sets; default d + 1.
    top_n_percent : float
        Percentage of the observations (at least ``min_points_in_model``) in the good set; in (0, 100).
    num_samples : int
        Candidates drawn from l(x) per model-based proposal.
    random_fraction : float
        Probability that a proposal is drawn from the prior even when a model exists.
    bandwidth_factor : float
        Factor applied to the good KDE's bandwidths when drawing candidates.
    min_bandwidth : float
        Lower bound on every bandwidth (keeps a constant column from collapsing the density).
    model_budget_rule : {"enough", "full_split", "reached"}
        Which budget's model proposes (see above); "enough" is BOHB's.
    prior_weight : float
        Weight, in points, of the uniform prior mixed into the good density l(x) (TPE's prior; see
        :class:`~bandster.samplers.kde.ProductKDE`): candidates are then also drawn from the prior, and
        l(x) never falls below ``w / (n_good + w)`` times the prior's density. Default 0 (BOHB's model). On
        the conditional Branin it lets the model leave a decoy branch more often, on counting ones it costs
        (figures in docs/bohb.md), so it is off by default.
    boundary : {"truncate", "reflect", "none"}
        How continuous kernels treat the edges of [0, 1] (:class:`~bandster.samplers.kde.ProductKDE`): truncated
        and renormalised (default), reflected, or untruncated as HpBandSter's. Measured in docs/bohb.md; none of
        the others was better on all four quality problems.
    bandwidth_floor : {"per_point", "fixed"}
        ``"per_point"`` (default): continuous bandwidths of unconditional hyperparameters at least
        ``1 / (4 min(100, n + 1))`` (:meth:`bandwidth_floors`); ``"fixed"``: only ``min_bandwidth``, as HpBandSter.
    inactive : {"impute", "uniform", "within_branch"}
        How inactive (conditional) values enter the densities: ``"impute"`` (default) copies them from a
        random point of the same set where they are active (HpBandSter's way, every column); ``"uniform"``:
        such a point's kernel in that column is the uniform density and candidates are scored on their active
        hyperparameters only (:class:`~bandster.samplers.kde.ProductKDE`'s ``inactive_columns``);
        ``"within_branch"``: as ``"uniform"``, and the score is ``l(x | parents) / g(x | parents)``, the
        parents' own densities divided out. No effect in spaces without conditions.
    parent_prior_weight : float
        Weight, in points, of a uniform prior mixed into the good density's kernel of every categorical or
        ordinal hyperparameter that is the parent of a condition (``level_prior_weights`` of
        :class:`~bandster.samplers.kde.ProductKDE`; TPE's prior for those columns alone), in the candidates'
        sampling too. Default 0. No effect in spaces without conditions.
    seed : int, optional
        Seeds the private ConfigurationSpace copy and this object's ``numpy.random.Generator``: with
        the same seed and the same results fed back, the sequence of configurations is the same.
    **kwargs
        ``logger`` is passed to the base class; other keywords are accepted and ignored (for
        compatibility with the optimizer that forwards its own).

    Examples
    --------
    Ask-and-tell, with no workers or name server:

    >>> from ConfigSpace import ConfigurationSpace, Float, Categorical
    >>> cs = ConfigurationSpace({'x': (0.0, 1.0), 'kind': ['a', 'b']})
    >>> cg = BOHB(cs, seed=1)
    >>> picks = []
    >>> for _ in range(40):
    ...     config, info = cg.ask(budget=1.0)
    ...     loss = (config['x'] - 0.2) ** 2 + (0.0 if config['kind'] == 'a' else 0.1)
    ...     cg.tell(config, budget=1.0, loss=loss)
    ...     picks.append(info['model_based_pick'])
    >>> cg.min_observations_for_model, picks.index(True)
    (6, 6)
    >>> cg.largest_budget_with_model()
    1.0
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        min_points_in_model: int | None = None,
        top_n_percent: float = 15,
        num_samples: int = 64,
        random_fraction: float = 1 / 3,
        bandwidth_factor: float = 3,
        min_bandwidth: float = 1e-3,
        seed: int | None = None,
        model_budget_rule: str = "enough",
        prior_weight: float = 0.0,
        boundary: str = "truncate",
        bandwidth_floor: str = "per_point",
        inactive: str = "impute",
        parent_prior_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(logger=kwargs.pop("logger", None))
        if kwargs:
            self.logger.debug("BOHB config generator ignores keyword arguments %s", sorted(kwargs))
        if not isinstance(configspace, ConfigurationSpace):
            raise TypeError(f"configspace must be a ConfigSpace.ConfigurationSpace, got {type(configspace).__name__}")
        if len(configspace) == 0:
            raise ValueError("the configuration space has no hyperparameters; add some first")
        if not 0 < top_n_percent < 100:
            raise ValueError(f"top_n_percent must be in (0, 100); got {top_n_percent!r}")
        if int(num_samples) < 1:
            raise ValueError(f"num_samples must be at least 1; got {num_samples!r}")
        if not 0 <= random_fraction <= 1:
            raise ValueError(f"random_fraction must be in [0, 1]; got {random_fraction!r}")
        if not bandwidth_factor > 0:
            raise ValueError(f"bandwidth_factor must be positive; got {bandwidth_factor!r}")
        if not min_bandwidth > 0:
            raise ValueError(f"min_bandwidth must be positive; got {min_bandwidth!r}")
        if min_points_in_model is not None and int(min_points_in_model) < 1:
            raise ValueError(f"min_points_in_model must be at least 1; got {min_points_in_model!r}")
        if not (math.isfinite(prior_weight) and prior_weight >= 0):
            raise ValueError(f"prior_weight must be a finite number >= 0; got {prior_weight!r}")
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}; got {boundary!r}")
        if inactive not in INACTIVE_RULES:
            raise ValueError(f"inactive must be one of {INACTIVE_RULES}; got {inactive!r}")
        if not (math.isfinite(parent_prior_weight) and parent_prior_weight >= 0):
            raise ValueError(f"parent_prior_weight must be a finite number >= 0; got {parent_prior_weight!r}")
        if bandwidth_floor not in BANDWIDTH_FLOORS:
            raise ValueError(f"bandwidth_floor must be one of {BANDWIDTH_FLOORS}; got {bandwidth_floor!r}")
        if model_budget_rule not in MODEL_BUDGET_RULES:
            raise ValueError(f"model_budget_rule must be one of {MODEL_BUDGET_RULES}; got {model_budget_rule!r}")

        seed_sequence = np.random.SeedSequence(seed)
        cs_seed, impute_key = (int(v) for v in seed_sequence.generate_state(2))
        self.seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed_sequence.spawn(1)[0]))
        self._impute_key = impute_key
        self.configspace = copy.deepcopy(configspace)
        self.configspace.seed(cs_seed)
        self.encoding = SpaceEncoding(self.configspace)

        d = self.encoding.dim
        self.min_points_in_model = d + 1 if min_points_in_model is None else int(min_points_in_model)
        self.top_n_percent = top_n_percent
        self.num_samples = int(num_samples)
        self.random_fraction = float(random_fraction)
        self.bandwidth_factor = float(bandwidth_factor)
        self.min_bandwidth = float(min_bandwidth)
        self.model_budget_rule = model_budget_rule
        self.prior_weight = float(prior_weight)
        self.boundary = boundary
        self.bandwidth_floor = bandwidth_floor
        conditional = set(self.configspace.conditional_hyperparameters)
        names = [self.encoding.names[i] for i in self.encoding.model_columns]
        # continuous columns of hyperparameters active in every configuration: where "per_point" applies
        self._floored_columns = np.array(
            [t == "c" and name not in conditional for t, name in zip(self.encoding.var_types, names, strict=True)],
            dtype=bool,
        )
        self.inactive = inactive
        self.parent_prior_weight = float(parent_prior_weight)
        # model columns of conditional hyperparameters, and of the discrete ones that are parents of a condition
        self._conditional_columns = np.array([k for k, name in enumerate(names) if name in conditional], dtype=np.intp)
        parents = {name for name, children in self.configspace.children_of.items() if children}
        self._parent_columns = np.array(
            [k for k, name in enumerate(names) if name in parents and self.encoding.var_types[k] != "c"], dtype=np.intp
        )
        self._all_parent_columns = np.array([k for k, name in enumerate(names) if name in parents], dtype=np.intp)

        self._observations: dict[float, _Observations] = {}
        self._models: dict[float, tuple[int, ProductKDE, ProductKDE]] = {}
        self._seen: set[tuple] = set()  # configurations proposed or observed (dict items, sorted)
        # per configuration (key of its dict): (largest budget observed, loss there, model vector)
        self._reached: dict[tuple, tuple[float, float, np.ndarray]] = {}
        self._warned_unknown: set[str] = set()
        self._reached_version = 0

    # ------------------------------------------------------------------ arithmetic
    def split_sizes(self, n: int) -> tuple[int, int]:
        """``(n_good, n_bad)`` for ``n`` observations on one budget (see the class docstring).

        Examples
        --------
        >>> from ConfigSpace import ConfigurationSpace
        >>> BOHB(ConfigurationSpace({'x': (0.0, 1.0), 'y': (0.0, 1.0)})).split_sizes(100)
        (15, 85)
        """
        floor = self.min_points_in_model
        n_good = max(floor, int(self.top_n_percent * n // 100))
        n_bad = max(floor, int((100 - self.top_n_percent) * n // 100))
        return n_good, max(0, min(n_bad, n - n_good))

    def _enough(self, n: int) -> bool:
        return self.encoding.dim > 0 and self.split_sizes(n)[1] >= self.min_points_in_model

    @property
    def min_observations_for_model(self) -> int:
        """The number of observations a budget needs before it gets a model."""
        n = 2 * self.min_points_in_model
        while not self._enough(n) and self.encoding.dim > 0:
            n += 1
        return n

    @property
    def full_split_observations(self) -> int:
        """The number of observations from which a budget's good set is its full ``top_n_percent`` share.

        The smallest ``N >= min_observations_for_model`` with ``floor(top_n_percent * N / 100) >=
        min_points_in_model`` (the ``"full_split"`` rule of choosing the model's budget).

        Examples
        --------
        >>> from ConfigSpace import ConfigurationSpace
        >>> cg = BOHB(ConfigurationSpace({f"x{i}": (0.0, 1.0) for i in range(16)}))
        >>> cg.min_points_in_model, cg.min_observations_for_model, cg.full_split_observations
        (17, 34, 114)
        >>> 15 * 113 // 100, 15 * 114 // 100  # the top 15 % of 113 observations are 16 points, of 114 are 17
        (16, 17)
        """
        n = max(self.min_observations_for_model, math.ceil(self.min_points_in_model * 100 / self.top_n_percent) - 1)
        while int(self.top_n_percent * n // 100) < self.min_points_in_model:
            n += 1
        return n

    def largest_budget_with_model(self) -> float:
        """The largest budget with enough observations for a model, or ``-inf`` if there is none."""
        if self.model_budget_rule == "reached":
            return REACHED if self._enough(len(self._reached)) else -math.inf
        budgets = [b for b, obs in self._observations.items() if self._enough(obs.n)]
        return max(budgets) if budgets else -math.inf

    def model_budget(self) -> float:
        """The budget whose model proposes (``model_budget_rule``), or ``-inf`` while no budget has a model.

        ``"enough"``: :meth:`largest_budget_with_model`. ``"full_split"``: the largest budget with at least
        :attr:`full_split_observations` observations, or, while there is none, :meth:`largest_budget_with_model`.
        """
        if self.model_budget_rule == "full_split":
            need = self.full_split_observations
            full = [b for b, obs in self._observations.items() if obs.n >= need and self._enough(obs.n)]
            if full:
                return max(full)
        return self.largest_budget_with_model()

    # ------------------------------------------------------------------ data
    def reached_observations(self) -> tuple[np.ndarray, np.ndarray]:
        """Model vectors of every configuration observed, ranked by the largest budget each reached (largest
        first), then by its loss on that budget (ties in arrival order); and those budgets."""
        rows = sorted(enumerate(self._reached.values()), key=lambda item: (-item[1][0], item[1][1], item[0]))
        if not rows:
            return np.empty((0, self.encoding.dim)), np.empty(0)
        return np.array([r[1][2] for r in rows]), np.array([r[1][0] for r in rows])

    def observations(self, budget: float) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the stored model vectors (NaN = inactive) and losses of ``budget``."""
        obs = self._observations.get(float(budget))
        if obs is None:
            return np.empty((0, self.encoding.dim)), np.empty(0)
        return obs.vectors[: obs.n].copy(), obs.losses[: obs.n].copy()

    def impute_conditional_data(self, array: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Return a copy of ``array`` (model vectors, NaN = inactive) with every NaN filled.

        Each NaN takes the value of the same column in a uniformly chosen row where that column is
        active; a column with no active row takes prior draws (uniform on [0, 1] or a uniform level).
        Every column is treated, the first included.

        Parameters
        ----------
        array : numpy.ndarray, shape (n, d)
        rng : numpy.random.Generator, optional
            Defaults to this generator's own.
        """
        rng = self.rng if rng is None else rng
        out = np.array(array, dtype=float, copy=True)
        missing = np.isnan(out)
        for j in np.flatnonzero(missing.any(axis=0)):
            rows = np.flatnonzero(missing[:, j])
            donors = out[~missing[:, j], j]
            if donors.size:
                out[rows, j] = donors[rng.integers(donors.size, size=rows.size)]
            elif self.encoding.var_types[j] == "c":
                out[rows, j] = rng.random(rows.size)
            else:
                out[rows, j] = rng.integers(self.encoding.num_levels[j], size=rows.size)
        return out

    def get_model(self, budget: float | None = None) -> tuple[ProductKDE, ProductKDE] | None:
        """The ``(good, bad)`` KDEs of ``budget`` (default: :meth:`model_budget`), fitted if stale."""
        budget = self.model_budget() if budget is None else float(budget)
        if budget == REACHED:
            n = len(self._reached)
            if not self._enough(n):
                return None
            cached = self._models.get(REACHED)
            if cached is None or cached[0] != self._reached_version:
                vectors, _ = self.reached_observations()
                cached = (self._reached_version, *self._fit_sorted(vectors))
                self._models[REACHED] = cached
            return cached[1], cached[2]
        obs = self._observations.get(budget)
        if obs is None or not self._enough(obs.n):
            return None
        cached = self._models.get(budget)
        if cached is None or cached[0] != obs.n:
            cached = (obs.n, *self._fit(obs))
            self._models[budget] = cached
        return cached[1], cached[2]

    def _fit(self, obs: _Observations) -> tuple[ProductKDE, ProductKDE]:
        order = np.argsort(obs.losses[: obs.n], kind="stable")
        return self._fit_sorted(obs.vectors[order])

    def _fit_sorted(self, vectors: np.ndarray) -> tuple[ProductKDE, ProductKDE]:
        """The good and bad KDEs of model vectors sorted best first."""
        n = len(vectors)
        n_good, n_bad = self.split_sizes(n)
        enc = self.encoding
        if self._uses_inactive_kernels:  # inactive entries stay NaN: the KDE gives them the uniform kernel
            good, bad = vectors[:n_good], vectors[n_good : n_good + n_bad]
            # "within_branch" divides by the parents' marginal, so every column must be able to be left out
            columns = np.arange(enc.dim) if self.inactive == "within_branch" else self._conditional_columns
            extra: dict[str, Any] = {"inactive_columns": columns}
        else:
            rng = np.random.default_rng([self._impute_key, n])
            good = self.impute_conditional_data(vectors[:n_good], rng)
            bad = self.impute_conditional_data(vectors[n_good : n_good + n_bad], rng)
            extra = {}
        good_extra = dict(extra)
        if self.parent_prior_weight > 0 and len(self._parent_columns):
            weights = np.zeros(enc.dim)
            weights[self._parent_columns] = self.parent_prior_weight
            good_extra["level_prior_weights"] = weights

        def kde(rows: np.ndarray, prior_weight: float, more: dict[str, Any]) -> ProductKDE:
            floors, boundary = self.bandwidth_floors(len(rows)), self.boundary
            return ProductKDE(
                rows, enc.var_types, enc.num_levels, min_bandwidth=floors, prior_weight=prior_weight, boundary=boundary,
                **more,
            )

        return kde(good, self.prior_weight, good_extra), kde(bad, 0.0, extra)

    @property
    def _uses_inactive_kernels(self) -> bool:
        return self.inactive != "impute" and len(self._conditional_columns) > 0

    def bandwidth_floors(self, n: int) -> np.ndarray:
        """The lower bound of each column's bandwidth in a KDE of ``n`` points (``bandwidth_floor``).

        ``"fixed"``: ``min_bandwidth`` everywhere (HpBandSter's floor). ``"per_point"`` (the default): on
        continuous columns of unconditional hyperparameters (active in every configuration) at least
        ``1 / (4 min(100, n + 1))`` of the unit interval, so that ``n + 1`` kernels, each two bandwidths either
        side of its point (95 % of its mass), could still cover the whole interval; a quarter of Optuna's TPE
        "magic clip" ``1 / min(100, n + 1)``. Elsewhere ``min_bandwidth``. Without it a good set of a few close
        points shrinks its bandwidths with every refit and stops moving (on Branin it settled off the optimum in
        many seeds). Conditional columns keep ``min_bandwidth``: there the floor cost the conditional Branin
        (fewer runs left its decoy branch); the measurements are in docs/bohb.md.

        Examples
        --------
        >>> from ConfigSpace import ConfigurationSpace
        >>> cs = ConfigurationSpace({"x": (0.0, 1.0), "kind": ["a", "b"]})  # columns: kind, x
        >>> BOHB(cs).bandwidth_floors(9).tolist()  # 1 / (4 * 10) on x
        [0.001, 0.025]
        >>> BOHB(cs).bandwidth_floors(500).tolist(), BOHB(cs, bandwidth_floor="fixed").bandwidth_floors(9).tolist()
        ([0.001, 0.0025], [0.001, 0.001])
        """
        floors = np.full(self.encoding.dim, self.min_bandwidth)
        if self.bandwidth_floor == "per_point":
            floors[self._floored_columns] = max(self.min_bandwidth, 0.25 / min(100, n + 1))
        return floors

    # ------------------------------------------------------------------ proposals
    def get_config(self, budget: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """Propose a configuration: ``(config dict of builtins, {'model_based_pick': bool})``.

        ``budget`` does not choose the model: :meth:`model_budget` does (by default the largest budget with a
        model, as in BOHB).
        """
        model_budget = self.model_budget()
        if model_budget != -math.inf and self.rng.random() >= self.random_fraction:
            try:
                config = self._model_based_pick(model_budget)
            except Exception:  # a model failure must not stop the optimization
                self.logger.exception("model-based proposal failed; drawing from the prior instead")
                config = None
            if config is not None:
                self._seen.add(_config_key(config))
                return config, {"model_based_pick": True}
        config = config_to_dict(self.configspace.sample_configuration())
        self._seen.add(_config_key(config))
        return config, {"model_based_pick": False}

    def _model_based_pick(self, budget: float) -> dict[str, Any] | None:
        model = self.get_model(budget)
        if model is None:  # pragma: no cover - guarded by model_budget
            return None
        good, bad = model
        enc = self.encoding
        candidates = enc.snap(good.sample(self.num_samples, self.rng, self.bandwidth_factor, categorical_resample=True))
        full = enc.deactivate(enc.to_full(candidates))
        if self._uses_inactive_kernels:  # a candidate is scored on its active hyperparameters only
            candidates = enc.to_model(full)
        with np.errstate(invalid="ignore"):
            score = good.logpdf(candidates) - bad.logpdf(candidates)
            if self._uses_inactive_kernels and self.inactive == "within_branch":
                # l(x | parents) / g(x | parents): the branch a candidate is in does not count, only its place there
                parents = np.full_like(candidates, np.nan)
                parents[:, self._all_parent_columns] = candidates[:, self._all_parent_columns]
                score -= good.logpdf(parents) - bad.logpdf(parents)
        score = np.where(np.isnan(score), -np.inf, score)
        allowed = ~enc.forbidden(full)
        for i in np.argsort(-score, kind="stable"):
            if not allowed[i]:
                continue
            try:
                configuration = enc.to_configuration(full[i])
            except Exception as exc:  # ConfigSpace rejects it: try the next best
                self.logger.debug("candidate %d rejected by ConfigSpace: %s", i, exc)
                continue
            config = config_to_dict(configuration)
            if _config_key(config) in self._seen:  # a discrete space: this one was proposed or evaluated before
                continue
            return config
        self.logger.info("none of %d model-based candidates is valid and new; drawing from the prior", len(score))
        return None

    # ------------------------------------------------------------------ results
    def new_result(self, job: Job, update_model: bool = True) -> None:
        """Store a finished job's configuration and loss (``+inf`` when it failed).

        ``update_model`` is accepted for compatibility: models are refitted lazily at the next
        proposal anyway, so feeding many results costs no refits.
        """
        super().new_result(job, update_model=update_model)
        kwargs = getattr(job, "kwargs", None) or {}
        self._observe(
            kwargs.get("config"), kwargs.get("budget"), loss_for_ranking(job.result), f"job {getattr(job, 'id', '?')}"
        )

    def ask(self, budget: float | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Propose a configuration for your own evaluation loop; the same as :meth:`get_config`."""
        return self.get_config(budget)

    def tell(self, config: Mapping[str, Any], budget: float, loss: float | None) -> None:
        """Report the loss of ``config`` evaluated on ``budget`` (None, NaN or inf: a failed run)."""
        self._observe(config, budget, loss_for_ranking({"loss": loss}), "tell()")

    def _observe(self, config: Any, budget: Any, loss: float, source: str) -> None:
        try:
            budget = float(budget)
        except (TypeError, ValueError):
            budget = math.nan
        if not math.isfinite(budget):
            self.logger.warning("%s has no usable budget (%r); result not used by the model", source, budget)
            return
        if not isinstance(config, Mapping):
            self.logger.warning("%s has no config mapping (%r); result not used by the model", source, config)
            return
        full, unknown = self.encoding.encode(config)
        new_unknown = set(unknown) - self._warned_unknown
        if new_unknown:
            self._warned_unknown |= new_unknown
            self.logger.warning("%s: hyperparameters %s are not in the space; ignored", source, sorted(new_unknown))
        if len(unknown) == len(config) and len(config) > 0:
            self.logger.warning("%s: no hyperparameter of the config is in the space; result skipped", source)
            return
        obs = self._observations.get(budget)
        if obs is None:
            obs = self._observations[budget] = _Observations(self.encoding.dim)
        vector = self.encoding.to_model(full)
        obs.append(vector, loss)
        try:
            key = _config_key(config_to_dict(config))
        except (TypeError, ValueError):  # a value that is no builtin: it cannot be proposed again anyway
            key = None
        if key is not None:
            self._seen.add(key)
        if self.model_budget_rule == "reached":
            key = key if key is not None else ("#", len(self._reached), source)
            if key not in self._reached or budget >= self._reached[key][0]:
                self._reached[key] = (budget, loss, vector)
                self._reached_version += 1
