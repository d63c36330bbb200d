"""The incumbent's loss over time, or its regret when the optimum is known."""

from __future__ import annotations

from typing import Any

import numpy as np

from bandster.records.result import Result
from bandster.visualization._utils import budget_colors, budget_label, finish, no_data, pyplot


def get_incumbent_info(result: Result, all_budgets: bool = True, bigger_is_better: bool = True,
                        non_decreasing_budget: bool = True, optimum: float | None = None) -> dict[str, Any]:
    """The incumbent trajectory with a finish time.

    Returns
    -------
    dict
        ``times``, ``values`` (the loss, or ``loss - optimum``) and ``budgets`` (numpy arrays), ``config_ids``
        (list), ``regret`` (whether ``values`` are regrets).
    """
    trajectory = result.get_incumbent_trajectory(all_budgets=all_budgets, bigger_is_better=bigger_is_better,
                                                 non_decreasing_budget=non_decreasing_budget)
    points = [p for p in zip(trajectory["times_finished"], trajectory["losses"], trajectory["budgets"],
                             trajectory["config_ids"], strict=True) if p[0] is not None]
    values = np.array([p[1] for p in points], dtype=float)
    if optimum is not None:
        values = values - float(optimum)
    return {"times": np.array([p[0] for p in points], dtype=float), "values": values,
            "budgets": np.array([p[2] for p in points], dtype=float), "config_ids": [tuple(p[3]) for p in points],
            "regret": optimum is not None}


def incumbent_over_time(
    result: Result,
    all_budgets: bool = True,
    bigger_is_better: bool = True,
    non_decreasing_budget: bool = True,
    optimum: float | None = None,
    log_y: bool | None = None,
    show: bool = False,
) -> tuple[Any, Any]:
    """The incumbent's loss over time, or its regret ``loss - optimum`` when the optimum is known.

    Parameters
    ----------
    result : Result
    all_budgets, bigger_is_better, non_decreasing_budget : bool
        As for :meth:`Result.get_incumbent_trajectory`.
    optimum : float, optional
        The best achievable loss: plot the regret instead of the loss.
    log_y : bool, optional
        Logarithmic loss axis; default: only for a regret that stays positive.
    show : bool

    Returns
    -------
    fig, ax
        A step line; the markers' colours give the incumbent's budget.
    """
    info = get_incumbent_info(result, all_budgets, bigger_is_better, non_decreasing_budget, optimum)
    fig, ax = pyplot().subplots(figsize=(8, 4.5))
    t, y = info["times"], info["values"]
    if len(t):
        ax.step(t, y, where="post", color="k", lw=1.5)
        colors = budget_colors(info["budgets"])
        seen = set()
        for ti, yi, b in zip(t, y, info["budgets"], strict=True):
            label = budget_label(b) if b not in seen else None
            seen.add(b)
            ax.scatter([ti], [yi], color=colors[float(b)], zorder=3, s=30, label=label)
        ax.legend(loc="upper right", fontsize="small", title="incumbent's budget")
        if log_y is None:
            log_y = info["regret"] and bool(np.all(y > 0))
        if log_y:
            ax.set_yscale("log")
    else:
        no_data(ax, "no incumbent yet (no finite loss)")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("regret (loss - optimum)" if info["regret"] else "incumbent's loss")
    ax.set_title("Regret over time" if info["regret"] else "Incumbent over time")
    finish(fig, show)
    return fig, ax
