"""Every run's loss at the time it finished, per budget, with each budget's best loss so far."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from bandster.core._convert import is_finite_loss
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


def get_losses_info(runs: Iterable[Run] | Result,
                     get_loss_from_run_fn: Callable[[Run], float] = lambda r: r.loss) -> dict[str, Any]:
    """The finished runs' losses per budget.

    Returns
    -------
    dict
        ``budgets``: every budget with a finished run, smallest first; ``per_budget``: ``{budget: {"times",
        "losses", "best_so_far" (numpy arrays, in finish order), "config_ids" (list)}}`` for the budgets with a
        finite loss; ``failed_times`` and ``failed_config_ids``: the runs without a finite loss.
    """
    runs = [r for r in run_list(runs) if stamp(r, "finished") is not None]
    budgets = sorted({float(r.budget) for r in runs})
    per_budget: dict[float, dict[str, Any]] = {}
    failed: list[tuple[float, tuple]] = []
    for budget in budgets:
        points = []
        for r in runs:
            if float(r.budget) != budget:
                continue
            loss = get_loss_from_run_fn(r) if r.loss is not None else None
            if loss is None or not is_finite_loss(loss):
                failed.append((stamp(r, "finished"), tuple(r.config_id)))
                continue
            points.append((stamp(r, "finished"), float(loss), tuple(r.config_id)))
        if points:
            points.sort(key=lambda p: (p[0], p[1]))
            losses = np.array([p[1] for p in points])
            per_budget[budget] = {"times": np.array([p[0] for p in points]), "losses": losses,
                                  "best_so_far": np.minimum.accumulate(losses),
                                  "config_ids": [p[2] for p in points]}
    return {"budgets": budgets, "per_budget": per_budget, "failed_times": np.array([f[0] for f in failed]),
            "failed_config_ids": [f[1] for f in failed]}


def losses_over_time(
    runs: Iterable[Run] | Result,
    get_loss_from_run_fn: Callable[[Run], float] = lambda r: r.loss,
    cmap: Any = None,
    show: bool = False,
) -> tuple[Any, Any]:
    """Every run's loss at the time it finished, per budget, with each budget's best loss so far.

    Parameters
    ----------
    runs : list of Run or Result
    get_loss_from_run_fn : callable
        ``fn(run) -> float``, called for runs that returned a loss.
    cmap : str or Colormap, optional
        Colours of the budgets (HpBandSter's default ``tab10``).
    show : bool

    Returns
    -------
    fig, ax
        Failed runs (no loss, or a NaN or infinite one) are marked with red crosses along the top edge.
    """
    plt = pyplot()  # first: names the extra to install when matplotlib is missing
    import matplotlib.transforms

    info = get_losses_info(runs, get_loss_from_run_fn)
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = budget_colors(info["budgets"], cmap)
    for budget, points in info["per_budget"].items():
        ax.scatter(points["times"], points["losses"], s=14, color=colors[budget], alpha=0.6,
                   label=budget_label(budget))
        ax.step(points["times"], points["best_so_far"], where="post", color=colors[budget], lw=1.5)
    failed_times = info["failed_times"]
    if len(failed_times):
        blend = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
        ax.scatter(failed_times, np.full(len(failed_times), 0.98), marker="x", color=FAILED_COLOR, s=20,
                   transform=blend, label=f"failed ({len(failed_times)})", clip_on=False)
    if info["per_budget"] or len(failed_times):
        ax.legend(loc="upper right", fontsize="small")
    else:
        no_data(ax, "no finished runs")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("loss")
    ax.set_title("Losses over time (lines: best so far per budget)")
    finish(fig, show)
    return fig, ax
