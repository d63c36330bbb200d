"""The cumulative number of finished runs over time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bandster.records.result import Result, Run
from bandster.visualization._utils import (
    FAILED_COLOR,
    budget_colors,
    budget_label,
    finish,
    no_data,
    pyplot,
    run_list,
    stamp,
)


def get_finished_runs_info(runs: Iterable[Run] | Result) -> dict[str, Any]:
    """The finish times, sorted: the n-th time is when the n-th run finished.

    Returns
    -------
    dict
        ``per_budget`` (``{budget: times}``, smallest budget first), ``all`` and ``failed`` (numpy arrays).
    """
    runs = [r for r in run_list(runs) if stamp(r, "finished") is not None]
    budgets = sorted({float(r.budget) for r in runs})
    return {
        "per_budget": {b: np.sort([stamp(r, "finished") for r in runs if float(r.budget) == b]) for b in budgets},
        "all": np.sort(np.array([stamp(r, "finished") for r in runs], dtype=float)),
        "failed": np.sort(np.array([stamp(r, "finished") for r in runs if r.status == "failed"], dtype=float)),
    }


def finished_runs_over_time(runs: Iterable[Run] | Result, show: bool = False) -> tuple[Any, Any]:
    """The cumulative number of finished runs over time, in total and per budget.

    Returns
    -------
    fig, ax
    """
    info = get_finished_runs_info(runs)
    fig, ax = pyplot().subplots(figsize=(8, 4))
    if len(info["all"]):
        colors = budget_colors(info["per_budget"])
        for budget, times in info["per_budget"].items():
            ax.step(times, np.arange(1, len(times) + 1), where="post", color=colors[budget],
                    label=budget_label(budget))
        times = info["all"]
        ax.step(times, np.arange(1, len(times) + 1), where="post", color="k", lw=2, label="all budgets")
        failed = info["failed"]
        if len(failed):
            ax.step(failed, np.arange(1, len(failed) + 1), where="post", color=FAILED_COLOR, ls=":", label="failed")
        ax.legend(loc="upper left")
        ax.set_ylim(bottom=0)
    else:
        no_data(ax, "no finished runs")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("finished runs")
    ax.set_title("Finished runs over time")
    finish(fig, show)
    return fig, ax
