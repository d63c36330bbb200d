"""Two hyperparameters against the loss."""

from __future__ import annotations

from typing import Any

import numpy as np

from bandster.records.result import Result
from bandster.visualization._utils import (
    FAILED_COLOR,
    Axis,
    budget_label,
    configs_at_budget,
    finish,
    hp_lookup,
    no_data,
    pyplot,
)


def get_hyperparameter_scatter_info(result: Result, x: str, y: str, budget: float | None = None,
                                     configspace: Any = None, log_x: bool | None = None,
                                     log_y: bool | None = None) -> dict[str, Any]:
    """The configurations on one budget that have both hyperparameters, with their losses.

    Returns
    -------
    dict
        ``budget``; ``x`` and ``y``: ``{"name", "values" (array: the value, or the level's index for a
        categorical), "log", "levels" (list for a categorical, else None)}``; ``losses`` (array),
        ``config_ids`` (list) and ``best`` (the index of the lowest loss, None without configurations).
    """
    budget, rows = configs_at_budget(result, budget)
    rows = [r for r in rows if r[1].get(x) is not None and r[1].get(y) is not None]
    hps = hp_lookup(configspace)
    coordinates = {}
    for key, name, log in (("x", x, log_x), ("y", y, log_y)):
        values = [c[name] for _, c, _ in rows]
        axis = Axis(name, values, hps.get(name))
        if log is not None and not axis.categorical:
            axis.log = bool(log)
        coords = [axis.raw(v) for v in values] if axis.categorical else [float(v) for v in values]
        coordinates[key] = {"name": name, "values": np.array(coords, dtype=float), "log": axis.log,
                            "levels": axis.levels}
    losses = np.array([loss for _, _, loss in rows], dtype=float)
    return {"budget": budget, **coordinates, "losses": losses, "config_ids": [tuple(cid) for cid, _, _ in rows],
            "best": int(np.argmin(losses)) if len(losses) else None}


def hyperparameter_scatter(
    result: Result,
    x: str,
    y: str,
    budget: float | None = None,
    contour: bool = True,
    configspace: Any = None,
    log_x: bool | None = None,
    log_y: bool | None = None,
    cmap: str = "viridis_r",
    show: bool = False,
) -> tuple[Any, Any]:
    """Two hyperparameters against the loss: one point per configuration, coloured by loss.

    Parameters
    ----------
    result : Result
    x, y : str
        Hyperparameter names.
    budget : float, optional
        Default: the largest budget with at least two finite losses.
    contour : bool
        Underlay a filled contour of the loss (triangulated; needs two numerical hyperparameters and at
        least six configurations with distinct positions).
    configspace : ConfigSpace.ConfigurationSpace, optional
        For log scales and category orders.
    log_x, log_y : bool, optional
        Logarithmic axes; default from ``configspace`` (linear without one).
    cmap : str
    show : bool

    Returns
    -------
    fig, ax
        The best configuration is marked with a red star; categorical axes show their levels.
    """
    info = get_hyperparameter_scatter_info(result, x, y, budget, configspace, log_x, log_y)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5.5))
    if info["best"] is None:
        no_data(ax, f"no configuration with both {x!r} and {y!r} and a finite loss")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        finish(fig, show)
        return fig, ax
    ax_x, ax_y = info["x"], info["y"]
    px, py, losses = ax_x["values"], ax_y["values"], info["losses"]
    colormap = plt.get_cmap(cmap)
    numerical = ax_x["levels"] is None and ax_y["levels"] is None
    if contour and numerical and len(set(zip(px.tolist(), py.tolist(), strict=True))) >= 6:
        tx = np.log10(px) if ax_x["log"] else px
        ty = np.log10(py) if ax_y["log"] else py
        try:
            from matplotlib.tri import LinearTriInterpolator, Triangulation

            # interpolate in the axes' own scales (log10 for log axes) on a grid, then draw in data coordinates
            interpolate = LinearTriInterpolator(Triangulation(tx, ty), losses)
            gx, gy = np.meshgrid(np.linspace(tx.min(), tx.max(), 120), np.linspace(ty.min(), ty.max(), 120))
            gz = interpolate(gx, gy)
            ax.contourf(10**gx if ax_x["log"] else gx, 10**gy if ax_y["log"] else gy, gz, levels=12, cmap=colormap,
                        alpha=0.35)
        except (RuntimeError, ValueError):  # degenerate triangulation (collinear points)
            pass
    order = np.argsort(-losses)
    points = ax.scatter(px[order], py[order], c=losses[order], cmap=colormap, s=36, edgecolors="k", linewidths=0.4)
    best = info["best"]
    ax.scatter([px[best]], [py[best]], marker="*", s=260, color=FAILED_COLOR, edgecolors="k", zorder=4,
               label=f"best: loss {losses[best]:.4g}")
    fig.colorbar(points, ax=ax, label="loss")
    for axis, set_scale, set_ticks in ((ax_x, ax.set_xscale, ax.set_xticks), (ax_y, ax.set_yscale, ax.set_yticks)):
        if axis["levels"] is not None:
            set_ticks(range(len(axis["levels"])), [str(v) for v in axis["levels"]])
        elif axis["log"]:
            set_scale("log")
    ax.use_sticky_edges = False  # the contour would otherwise clip the outermost points
    ax.margins(0.05)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"{x} and {y} on {budget_label(info['budget'])} (n={len(losses)})")
    finish(fig, show)
    return fig, ax
