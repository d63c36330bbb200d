"""Hyperparameter importance by functional ANOVA over a random forest (Hutter, Hoos and Leyton-Brown, "An
Efficient Approach for Assessing Hyperparameter Importance", ICML 2014), written here on scikit-learn's
random forest (install the ``importance`` extra: ``pip install 'bandster[importance]'``).

A random forest is fitted to the losses of the configurations evaluated on one budget. Each tree is a
piecewise-constant function of the hyperparameters; under the uniform distribution over the search space
(hyperparameters on their own scale: log10 for log-scaled ones, one equal-width cell per category), its
variance splits exactly into a part explained by each hyperparameter alone (the variance of its marginal, the
tree averaged over all the others) and a remainder explained only by interactions. A hyperparameter's importance
is the fraction of the variance its marginal explains, averaged over the trees.

Caveats (see docs/analysis.md): the importance describes the forest, not the objective: with few configurations,
or configurations concentrated where a model-based optimizer looked, it describes the region sampled, weighted
as if the whole space had been; it is first-order only (what interactions explain is reported as one share);
categories are encoded by their index, so the trees split them as if ordered; inactive hyperparameters of
conditional spaces are set to the middle of their range; budgets are analysed separately.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.uniform(size=(64, 2))
>>> y = 10 * X[:, 0] + 0.1 * X[:, 1]
>>> shares = functional_anova(X, y, lower=[0, 0], upper=[1, 1], n_trees=16)
>>> bool(shares["importance"][0] > 0.9 > shares["importance"][1])
True
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from bandster.visualization._utils import Axis, configs_at_budget, hp_lookup

logger = logging.getLogger(__name__)

__all__ = ["functional_anova", "importance", "encode_configurations", "MIN_CONFIGURATIONS"]

#: Fewer configurations with a finite loss on a budget than this, and its importance is not computed.
MIN_CONFIGURATIONS = 5


def _random_forest(n_trees: int, seed: int | None) -> Any:
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError as err:
        raise ImportError(
            "hyperparameter importance needs scikit-learn, which is not installed: pip install 'bandster[importance]'"
        ) from err
    return RandomForestRegressor(n_estimators=n_trees, random_state=seed, min_samples_leaf=1, max_features=1.0)


def _leaves(tree: Any, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The boxes of a fitted scikit-learn tree: ``(low, high, value)``, one row per leaf."""
    left, right = tree.children_left, tree.children_right
    feature, threshold, value = tree.feature, tree.threshold, tree.value.reshape(len(tree.feature), -1)[:, 0]
    lows, highs, values = [], [], []
    stack = [(0, lower.copy(), upper.copy())]
    while stack:
        node, low, high = stack.pop()
        if left[node] == right[node]:  # a leaf
            lows.append(low)
            highs.append(high)
            values.append(value[node])
            continue
        j, t = feature[node], threshold[node]
        split = min(max(t, low[j]), high[j])
        left_high, right_low = high.copy(), low.copy()
        left_high[j], right_low[j] = split, split
        stack.append((left[node], low, left_high))
        stack.append((right[node], right_low, high))
    return np.array(lows), np.array(highs), np.array(values)


def _tree_shares(tree: Any, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    """The fraction of the tree's variance that each feature's marginal explains (None for a constant tree)."""
    low, high, value = _leaves(tree, lower, upper)
    widths = (high - low) / (upper - lower)
    volume = np.prod(widths, axis=1)
    mean = float(volume @ value)
    total = float(volume @ value**2) - mean**2
    if total <= 1e-12 * max(1.0, mean**2):
        return None
    shares = np.zeros(len(lower))
    for j in range(len(lower)):
        cuts = np.unique(np.concatenate([low[:, j], high[:, j]]))  # every split on j (and the range's ends)
        others = np.prod(np.delete(widths, j, axis=1), axis=1)  # each leaf's share of the other dimensions
        # the tree averaged over the others, on each cell between two cuts: every leaf adds value * share to the
        # cells its interval on j covers (a difference array: linear in the number of leaves)
        changes = np.zeros(len(cuts))
        np.add.at(changes, np.searchsorted(cuts, low[:, j]), value * others)
        np.add.at(changes, np.searchsorted(cuts, high[:, j]), -value * others)
        marginal = np.cumsum(changes)[:-1]
        weights = np.diff(cuts) / (upper[j] - lower[j])
        shares[j] = float(weights @ (marginal - mean) ** 2) / total
    return shares


def functional_anova(X: np.ndarray, y: np.ndarray, lower: Sequence[float], upper: Sequence[float],
                     n_trees: int = 64, seed: int | None = 0) -> dict[str, np.ndarray]:
    """First-order functional ANOVA of ``y`` over the box ``[lower, upper]`` through a random forest.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, d)`` inputs, inside the box.
    y : numpy.ndarray
        ``(n,)`` targets.
    lower, upper : sequence of float
        The box each column is uniform on; columns with ``lower == upper`` get importance 0.
    n_trees : int
        Trees in the forest.
    seed : int, optional
        The forest's random state.

    Returns
    -------
    dict
        ``importance`` and ``std`` (per column: the mean and standard deviation over the trees of the fraction
        of the variance its marginal explains), ``interactions`` (the mean fraction no single column explains)
        and ``trees`` (how many trees were not constant).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    d = X.shape[1]
    varying = np.flatnonzero(upper > lower)
    importance, std = np.zeros(d), np.zeros(d)
    if not len(varying) or len(y) < 2 or np.ptp(y) == 0:
        return {"importance": importance, "std": std, "interactions": 0.0, "trees": 0}
    forest = _random_forest(n_trees, seed).fit(X[:, varying], y)
    shares = [s for s in (_tree_shares(t.tree_, lower[varying], upper[varying]) for t in forest.estimators_)
              if s is not None]
    if not shares:
        return {"importance": importance, "std": std, "interactions": 0.0, "trees": 0}
    matrix = np.array(shares)
    importance[varying] = matrix.mean(axis=0)
    std[varying] = matrix.std(axis=0)
    return {"importance": importance, "std": std, "interactions": float(np.mean(1 - matrix.sum(axis=1))),
            "trees": len(shares)}


def encode_configurations(configs: Sequence[dict], names: Sequence[str] | None = None,
                          configspace: Any = None) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Configurations as the numerical box :func:`functional_anova` works on.

    Numerical hyperparameters on their own scale (log10 when log-scaled), categories and ordinals as the index
    of their value with one unit-wide cell each, inactive values at the middle of the range. Ranges come from
    ``configspace`` when given, else from the values seen.

    Returns
    -------
    names, X, lower, upper
    """
    names = list(names) if names is not None else sorted({k for c in configs for k in c})
    hps = hp_lookup(configspace)
    X = np.zeros((len(configs), len(names)))
    lower, upper = np.zeros(len(names)), np.zeros(len(names))
    for j, name in enumerate(names):
        axis = Axis(name, [c.get(name) for c in configs], hps.get(name))
        if axis.categorical:
            lower[j], upper[j] = -0.5, len(axis.levels) - 0.5 if len(axis.levels) > 1 else -0.5
        else:
            lower[j], upper[j] = axis.raw(axis.lower), axis.raw(axis.upper)
        column = np.array([axis.raw(c.get(name)) for c in configs], dtype=float)
        column[np.isnan(column)] = (lower[j] + upper[j]) / 2
        X[:, j] = np.clip(column, lower[j], upper[j])
    return names, X, lower, upper


def _default_budget(result: Any) -> float | None:
    """The largest budget with at least :data:`MIN_CONFIGURATIONS` finite losses (else the one with most)."""
    counts: dict[float, int] = {}
    for r in result.get_all_runs():
        if r.status != "failed":
            counts[float(r.budget)] = counts.get(float(r.budget), 0) + 1
    enough = [b for b, n in counts.items() if n >= MIN_CONFIGURATIONS]
    if enough:
        return max(enough)
    return max(counts, key=lambda b: (counts[b], b)) if counts else None


def importance(result: Any, budget: float | None = None, configspace: Any = None, n_trees: int = 64,
               seed: int | None = 0) -> dict[str, Any]:
    """The functional ANOVA of the losses on one budget; see :meth:`bandster.records.result.Result.importance`.

    ``result`` is a :class:`~bandster.records.result.Result` (not imported here: ``Result.importance`` calls this
    function, and an import back would be an import cycle).

    Returns
    -------
    dict
        ``budget``, ``n`` (configurations used), ``hyperparameters`` (names, most important first),
        ``importance`` and ``std`` (``{name: float}``), ``interactions`` (float).

    Raises
    ------
    ValueError
        With fewer than :data:`MIN_CONFIGURATIONS` finite losses on the budget.
    """
    if budget is None:
        budget = _default_budget(result)
    _, rows = configs_at_budget(result, budget)
    if len(rows) < MIN_CONFIGURATIONS:
        budgets = sorted({float(r.budget) for r in result.get_all_runs() if r.status != "failed"})
        raise ValueError(
            f"importance needs at least {MIN_CONFIGURATIONS} configurations with a finite loss on one budget; "
            f"budget {budget} has {len(rows)} (budgets with finite losses: {budgets}): pass another budget or "
            "wait for more results"
        )
    names, X, lower, upper = encode_configurations([config for _, config, _ in rows], configspace=configspace)
    anova = functional_anova(X, np.array([loss for _, _, loss in rows]), lower, upper, n_trees=n_trees, seed=seed)
    order = sorted(range(len(names)), key=lambda j: -anova["importance"][j])
    return {"budget": float(budget), "n": len(rows), "hyperparameters": [names[j] for j in order],
            "importance": {names[j]: float(anova["importance"][j]) for j in order},
            "std": {names[j]: float(anova["std"][j]) for j in order}, "interactions": anova["interactions"]}
