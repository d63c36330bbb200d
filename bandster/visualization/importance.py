"""Hyperparameter importance per budget (functional ANOVA over a random forest)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bandster.records.result import Result
from bandster.visualization._utils import budget_colors, budget_label, finish, no_data, pyplot


def get_importance_info(result: Result, budgets: Iterable[float] | None = None, configspace: Any = None,
                         n_trees: int = 64, seed: int | None = 0) -> dict[str, Any]:
    """The importance of every hyperparameter on each budget with enough finite losses.

    Needs scikit-learn (:mod:`bandster.analysis.importance`), not matplotlib.

    Parameters
    ----------
    budgets : iterable of float, optional
        Default: every budget with at least
        :data:`~bandster.analysis.importance.MIN_CONFIGURATIONS` finite losses.

    Returns
    -------
    dict
        ``hyperparameters`` (most important on the largest budget first), ``budgets`` (those analysed),
        ``importance`` and ``std`` (``{budget: array}`` in the order of ``hyperparameters``), ``n`` and
        ``interactions`` (``{budget: value}``), ``skipped`` (``{budget: reason}``).
    """
    from bandster.analysis.importance import MIN_CONFIGURATIONS, importance

    counts: dict[float, int] = {}
    for r in result.get_all_runs():
        if r.status != "failed":
            counts[float(r.budget)] = counts.get(float(r.budget), 0) + 1
    wanted = sorted(float(b) for b in budgets) if budgets is not None else sorted(counts)
    analyses, skipped = {}, {}
    for budget in wanted:
        if counts.get(budget, 0) < MIN_CONFIGURATIONS:
            skipped[budget] = f"{counts.get(budget, 0)} finite losses (fewer than {MIN_CONFIGURATIONS})"
            continue
        analyses[budget] = importance(result, budget, configspace=configspace, n_trees=n_trees, seed=seed)
    names = analyses[max(analyses)]["hyperparameters"] if analyses else []
    for analysis in analyses.values():
        names += [n for n in analysis["hyperparameters"] if n not in names]
    return {
        "hyperparameters": names,
        "budgets": sorted(analyses),
        "importance": {b: np.array([a["importance"].get(n, 0.0) for n in names]) for b, a in analyses.items()},
        "std": {b: np.array([a["std"].get(n, 0.0) for n in names]) for b, a in analyses.items()},
        "n": {b: a["n"] for b, a in analyses.items()},
        "interactions": {b: a["interactions"] for b, a in analyses.items()},
        "skipped": skipped,
    }


def hyperparameter_importance(result: Result, budgets: Iterable[float] | None = None, configspace: Any = None,
                              n_trees: int = 64, seed: int | None = 0, show: bool = False) -> tuple[Any, Any]:
    """Each hyperparameter's importance (the share of the loss's variance it explains alone), per budget.

    Horizontal bars, one colour per budget, with the standard deviation over the forest's trees; see
    :meth:`bandster.records.result.Result.importance` and the caveats in the docs' analysis page.

    Parameters
    ----------
    result : Result
    budgets : iterable of float, optional
        Default: every budget with at least five finite losses.
    configspace : ConfigSpace.ConfigurationSpace, optional
        The hyperparameters' ranges, log scales and categories (else taken from the values seen).
    n_trees : int
    seed : int, optional
    show : bool

    Returns
    -------
    fig, ax
    """
    info = get_importance_info(result, budgets, configspace, n_trees, seed)
    plt = pyplot()
    names, analysed = info["hyperparameters"], info["budgets"]
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.5 * len(names) * max(len(analysed), 1) ** 0.5 + 1.5)))
    if analysed and names:
        colors = budget_colors(analysed)
        height = 0.8 / len(analysed)
        rows = np.arange(len(names))
        for k, budget in enumerate(analysed):
            ax.barh(rows - 0.4 + (k + 0.5) * height, info["importance"][budget], height=height,
                    xerr=info["std"][budget], color=colors[budget], ecolor="0.3", capsize=2,
                    label=f"{budget_label(budget)} (n={info['n'][budget]}, "
                          f"interactions {info['interactions'][budget]:.0%})")
        ax.set_yticks(rows, names)
        ax.invert_yaxis()  # the most important on top
        ax.set_xlim(0, 1)
        ax.legend(loc="lower right", fontsize="small")
    else:
        no_data(ax, "no budget with enough finite losses")
    ax.set_xlabel("share of the loss's variance explained alone (functional ANOVA)")
    ax.set_title("Hyperparameter importance")
    finish(fig, show)
    return fig, ax
