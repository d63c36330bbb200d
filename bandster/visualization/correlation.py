"""Spearman rank correlation of the losses across budgets."""

from __future__ import annotations

from typing import Any

import numpy as np

from bandster.core._convert import is_finite_loss
from bandster.records.result import Result
from bandster.visualization._utils import finish, no_data, pyplot


def get_correlation_info(results_object: Result) -> dict[str, Any]:
    """The rank correlation of every pair of budgets.

    Returns
    -------
    dict
        ``budgets`` (sorted), and matrices over them: ``n`` (configurations evaluated on both budgets),
        ``rho`` and ``p`` (Spearman's rho and its p-value, above the diagonal where at least three
        configurations with varying losses were compared, NaN elsewhere; 1 on the diagonal for ``rho``).
    """
    from scipy.stats import spearmanr

    losses: dict[float, dict[tuple, float]] = {}
    for r in results_object.get_all_runs():
        if is_finite_loss(r.loss):
            losses.setdefault(float(r.budget), {})[r.config_id] = float(r.loss)
    budgets = sorted(losses)
    n = len(budgets)
    count = np.zeros((n, n), dtype=int)
    rho = np.full((n, n), np.nan)
    p = np.full((n, n), np.nan)
    for i, b1 in enumerate(budgets):
        for j, b2 in enumerate(budgets):
            common = sorted(set(losses[b1]) & set(losses[b2]))
            count[i, j] = len(common)
            if i == j:
                rho[i, j] = 1.0
                continue
            if j < i or len(common) < 3:
                continue
            x = [losses[b1][c] for c in common]
            y = [losses[b2][c] for c in common]
            if len(set(x)) < 2 or len(set(y)) < 2:
                continue
            rho[i, j], p[i, j] = spearmanr(x, y)
    return {"budgets": budgets, "n": count, "rho": rho, "p": p}


def correlation_across_budgets(results_object: Result, show: bool = False) -> tuple[Any, Any]:
    """Spearman rank correlation of the losses of the configurations evaluated on two budgets, for each pair.

    High correlation means small budgets rank configurations as large ones do (so successive halving keeps
    the right ones).

    Parameters
    ----------
    results_object : Result
    show : bool

    Returns
    -------
    fig, ax
        A matrix over the budgets; each cell holds rho, its p-value and the number of configurations
        compared (pairs with fewer than three are left blank).
    """
    info = get_correlation_info(results_object)
    budgets = info["budgets"]
    n = len(budgets)
    fig, ax = pyplot().subplots(figsize=(1.6 * max(n, 2) + 2, 1.3 * max(n, 2) + 1.5))
    if n < 2:
        no_data(ax, "fewer than two budgets with results:\nnothing to correlate")
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        for i in range(n):
            for j in range(i, n):
                count, rho = info["n"][i, j], info["rho"][i, j]
                if i == j:
                    ax.text(j, i, f"n={count}", ha="center", va="center", fontsize="small", color="w")
                elif np.isfinite(rho):
                    ax.text(j, i, f"\u03c1={rho:.2f}\np={info['p'][i, j]:.2g}\nn={count}", ha="center",
                            va="center", fontsize="small", color="w" if abs(rho) > 0.5 else "k")
                elif count < 3:
                    ax.text(j, i, f"n={count}", ha="center", va="center", fontsize="small", color="0.4")
        image = ax.imshow(np.ma.masked_invalid(info["rho"]), cmap="RdBu", vmin=-1, vmax=1)
        fig.colorbar(image, ax=ax, label="Spearman rank correlation")
        labels = [f"{b:g}" for b in budgets]
        ax.set_xticks(range(n), labels)
        ax.set_yticks(range(n), labels)
        ax.set_xlabel("budget")
        ax.set_ylabel("budget")
    ax.set_title("Rank correlation of losses across budgets")
    finish(fig, show)
    return fig, ax
