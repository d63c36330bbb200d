"""Histograms of the losses of model-based and of random configurations."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from bandster.core._convert import is_finite_loss
from bandster.records.result import Result, Run
from bandster.visualization._utils import budget_label, finish, no_data, pyplot, run_list

KINDS = ("model based", "random")


def get_histogram_info(runs: Iterable[Run] | Result, id2conf: Mapping) -> dict[str, Any]:
    """The finite losses per budget, split by how their configuration was chosen.

    Returns
    -------
    dict
        ``budgets`` (sorted) and ``losses``: ``{budget: {"model based": [...], "random": [...]}}``.
        Configurations whose ``config_info`` has no ``model_based_pick`` count as random.
    """
    by_budget: dict[float, dict[str, list[float]]] = {}
    for r in run_list(runs):
        if not is_finite_loss(r.loss):
            continue
        info = (id2conf.get(r.config_id) or {}).get("config_info")
        model = bool(info.get("model_based_pick")) if isinstance(info, Mapping) else False
        entry = by_budget.setdefault(float(r.budget), {kind: [] for kind in KINDS})
        entry[KINDS[0] if model else KINDS[1]].append(float(r.loss))
    return {"budgets": sorted(by_budget), "losses": by_budget}


def performance_histogram_model_vs_random(runs: Iterable[Run] | Result, id2conf: Mapping,
                                          show: bool = False) -> tuple[Any, Any]:
    """Histograms of the losses of model-based and of random configurations, one row per budget.

    Configurations whose ``config_info`` has no ``model_based_pick`` (Hyperband, random search, initial
    designs) count as random.

    Parameters
    ----------
    runs : list of Run or Result
    id2conf : dict
        :meth:`Result.get_id2config_mapping`.
    show : bool

    Returns
    -------
    fig : Figure
    axarr : numpy.ndarray
        Axes of shape ``(number of budgets, 2)``: column 0 model-based, column 1 random.
    """
    info = get_histogram_info(runs, id2conf)
    budgets = info["budgets"] or [math.nan]
    fig, axarr = pyplot().subplots(len(budgets), 2, figsize=(9, 2.4 * len(budgets) + 0.8), squeeze=False,
                                   sharey="row")
    for row, budget in enumerate(budgets):
        entry = info["losses"].get(budget, {kind: [] for kind in KINDS})
        values = entry[KINDS[0]] + entry[KINDS[1]]
        bins = np.histogram_bin_edges(values, bins=min(20, max(len(values), 1))) if values else 10
        for col, kind in enumerate(KINDS):
            ax = axarr[row, col]
            data = entry[kind]
            if data:
                ax.hist(data, bins=bins, color="C1" if col == 0 else "C0", alpha=0.8)
            else:
                no_data(ax, f"no {kind} configurations")
            title = kind if math.isnan(budget) else f"{kind}, {budget_label(budget)} (n={len(data)})"
            ax.set_title(title, fontsize="medium")
            if row == len(budgets) - 1:
                ax.set_xlabel("loss")
        axarr[row, 0].set_ylabel("runs")
    finish(fig, show)
    return fig, axarr
