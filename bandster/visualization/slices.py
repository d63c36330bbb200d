"""Optuna's slice plot: the loss against each hyperparameter, one panel per hyperparameter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from bandster.records.result import Result
from bandster.visualization._utils import Axis, budget_label, configs_at_budget, hp_lookup, no_data, pyplot


def get_slice_info(result: Result, budget: float | None = None, hyperparameters: Sequence[str] | None = None,
                    configspace: Any = None) -> dict[str, Any]:
    """The configurations of one budget, per hyperparameter.

    Returns
    -------
    dict
        ``budget``; ``losses``, ``order`` (the position of each configuration's run in finish order: the colour
        of Optuna's slice plot) and ``config_ids``; ``panels``: one dict per hyperparameter with ``name``,
        ``values`` (array; NaN where inactive; a categorical's level index), ``levels`` (None for numerical)
        and ``log``.
    """
    budget, rows = configs_at_budget(result, budget)
    names = list(hyperparameters) if hyperparameters is not None else sorted({k for _, c, _ in rows for k in c})
    hps = hp_lookup(configspace)
    panels = []
    for name in names:
        values = [c.get(name) for _, c, _ in rows]
        axis = Axis(name, values, hps.get(name))
        if axis.categorical:
            coords = [axis.raw(v) for v in values]
        else:
            coords = [math.nan if v is None else float(v) for v in values]
        panels.append({"name": name, "values": np.array(coords, dtype=float), "levels": axis.levels, "log": axis.log})
    return {"budget": budget, "losses": np.array([loss for _, _, loss in rows], dtype=float),
            "order": np.arange(len(rows)), "config_ids": [tuple(cid) for cid, _, _ in rows], "panels": panels}


def hyperparameter_slices(result: Result, budget: float | None = None, hyperparameters: Sequence[str] | None = None,
                          configspace: Any = None, cmap: str = "Blues", log_y: bool = False,
                          show: bool = False) -> tuple[Any, Any]:
    """The loss against each hyperparameter (Optuna's slice plot), coloured by when the run finished.

    Parameters
    ----------
    result : Result
    budget : float, optional
        Default: the largest budget with at least two finite losses.
    hyperparameters : list of str, optional
        Which panels, in which order; default all, sorted by name.
    configspace : ConfigSpace.ConfigurationSpace, optional
        For log scales and category orders.
    cmap : str
        Colours from the first run (light) to the last (dark).
    log_y : bool
    show : bool

    Returns
    -------
    fig : Figure
    axes : numpy.ndarray
        One axes per hyperparameter (shape ``(n,)``; one empty axes without data).
    """
    plt = pyplot()
    import matplotlib.ticker

    info = get_slice_info(result, budget, hyperparameters, configspace)
    panels = info["panels"] if len(info["losses"]) else []
    n = max(len(panels), 1)
    fig, axes = plt.subplots(1, n, figsize=(min(3.2 * n + 1.5, 24), 4), sharey=True, squeeze=False,
                             layout="constrained")  # constrained: one colour bar for all the panels
    axes = axes[0]
    if not panels:
        no_data(axes[0], "no configuration with a finite loss")
        if show:
            plt.show()
        return fig, axes
    points = None
    for ax, panel in zip(axes, panels, strict=True):
        present = ~np.isnan(panel["values"])
        points = ax.scatter(panel["values"][present], info["losses"][present], c=info["order"][present], cmap=cmap,
                            vmin=0, vmax=max(len(info["losses"]) - 1, 1), s=24, edgecolors="0.3", linewidths=0.4)
        if panel["levels"] is not None:
            ax.set_xticks(range(len(panel["levels"])), [str(v) for v in panel["levels"]])
        elif panel["log"]:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # minor labels would overlap
        ax.set_xlabel(panel["name"])
        if log_y:
            ax.set_yscale("log")
    axes[0].set_ylabel("loss")
    fig.colorbar(points, ax=list(axes), label="run (finish order)")
    fig.suptitle(f"Slices on {budget_label(info['budget'])} (n={len(info['losses'])})")
    if show:
        plt.show()
    return fig, axes
