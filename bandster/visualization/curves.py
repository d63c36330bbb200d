"""The loss of each configuration over the budgets it ran on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bandster.core._convert import is_finite_loss
from bandster.records.result import Result
from bandster.visualization._utils import finish, no_data, pyplot


def get_learning_curves_info(result: Result, config_ids: Iterable[tuple] | None = None) -> dict[str, Any]:
    """The finite points of each configuration's learning curve.

    Returns
    -------
    dict
        ``curves``: one dict per configuration with ``config_id``, ``budgets`` and ``losses`` (arrays) and
        ``final`` (the loss on its largest budget), worst ``final`` first; without ``config_ids``, only the
        configurations that ran on more than one budget (all of them if none did).
    """
    curves = result.get_learning_curves(config_ids=config_ids)
    points = {cid: [(float(b), float(loss)) for b, loss in lc[0] if is_finite_loss(loss)]
              for cid, lc in curves.items() if lc}
    points = {cid: p for cid, p in points.items() if p}
    if config_ids is None and any(len(p) > 1 for p in points.values()):
        points = {cid: p for cid, p in points.items() if len(p) > 1}
    ordered = sorted(points, key=lambda c: -points[c][-1][1])
    return {"curves": [{"config_id": tuple(cid), "budgets": np.array([b for b, _ in points[cid]]),
                        "losses": np.array([loss for _, loss in points[cid]]), "final": points[cid][-1][1]}
                       for cid in ordered]}


def learning_curves(result: Result, config_ids: Iterable[tuple] | None = None, log_x: bool = True,
                    log_y: bool = False, cmap: str = "viridis_r", show: bool = False) -> tuple[Any, Any]:
    """The loss of each configuration over the budgets it ran on, coloured by its loss on its largest budget.

    Parameters
    ----------
    result : Result
    config_ids : list of tuple, optional
        Default: every configuration that ran on more than one budget (all of them if none did).
    log_x, log_y : bool
    cmap : str
    show : bool

    Returns
    -------
    fig, ax
    """
    plt = pyplot()  # first: names the extra to install when matplotlib is missing
    import matplotlib.cm
    import matplotlib.ticker
    from matplotlib import colors as mcolors

    curves = get_learning_curves_info(result, config_ids)["curves"]
    fig, ax = plt.subplots(figsize=(8, 5))
    if curves:
        finals = np.array([c["final"] for c in curves])
        norm = mcolors.Normalize(vmin=float(finals.min()), vmax=float(max(finals.max(), finals.min() + 1e-12)))
        colormap = plt.get_cmap(cmap)
        for curve in curves:
            ax.plot(curve["budgets"], curve["losses"], "o-", ms=3, lw=1, alpha=0.8,
                    color=colormap(norm(curve["final"])))
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax,
                     label="loss on the largest budget reached")
        if log_x:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        budgets = sorted({float(b) for c in curves for b in c["budgets"]})
        if len(budgets) <= 12:  # label the budgets themselves
            ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    else:
        no_data(ax, "no finite losses")
    ax.set_xlabel("budget")
    ax.set_ylabel("loss")
    ax.set_title(f"Learning curves ({len(curves)} configurations)")
    finish(fig, show)
    return fig, ax
