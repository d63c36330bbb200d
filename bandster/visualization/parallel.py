"""The configurations evaluated on one budget as lines across their hyperparameters, coloured by loss."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bandster.records.result import Result
from bandster.visualization._utils import Axis, budget_label, configs_at_budget, finish, hp_lookup, no_data, pyplot

INACTIVE = -0.08  # where an inactive hyperparameter is drawn, below its axis


def get_parallel_coordinates_info(result: Result, budget: float | None = None,
                                   hyperparameters: Sequence[str] | None = None,
                                   configspace: Any = None) -> dict[str, Any]:
    """Every configuration's hyperparameters mapped to [0, 1] on their axes.

    Returns
    -------
    dict
        ``budget``; ``axes``: one dict per axis with ``name``, ``log``, ``categorical`` and ``ticks``
        (``[(position, label)]``); ``positions``: an array (configurations x axes) in [0, 1], NaN where a
        hyperparameter is inactive; ``losses`` (array) and ``config_ids`` (list), in the configurations' order.
    """
    budget, rows = configs_at_budget(result, budget)
    names = list(hyperparameters) if hyperparameters is not None else sorted({k for _, c, _ in rows for k in c})
    hps = hp_lookup(configspace)
    axes = [Axis(name, [c.get(name) for _, c, _ in rows], hps.get(name)) for name in names] if rows else []
    positions = np.array([[a.unit(config.get(a.name)) for a in axes] for _, config, _ in rows],
                         dtype=float).reshape(len(rows), len(axes))
    return {"budget": budget, "positions": positions, "losses": np.array([loss for _, _, loss in rows]),
            "config_ids": [tuple(cid) for cid, _, _ in rows], "names": names,
            "axes": [{"name": a.name, "log": a.log, "categorical": a.categorical, "ticks": a.ticks()} for a in axes]}


def parallel_coordinates(
    result: Result,
    budget: float | None = None,
    hyperparameters: Sequence[str] | None = None,
    configspace: Any = None,
    cmap: str = "viridis_r",
    show: bool = False,
) -> tuple[Any, Any]:
    """The configurations evaluated on one budget as lines across their hyperparameters, coloured by loss.

    Parameters
    ----------
    result : Result
    budget : float, optional
        Default: the largest budget with at least two finite losses.
    hyperparameters : list of str, optional
        Which axes, in which order; default all, sorted by name.
    configspace : ConfigSpace.ConfigurationSpace, optional
        Gives the axes their ranges, log scales and category orders; without it they come from the data.
    cmap : str
        The loss colormap (default: yellow is a low loss, dark blue a high one).
    show : bool

    Returns
    -------
    fig, ax
        The best configurations are drawn last (on top). Inactive hyperparameters are drawn below the axis,
        at "n/a".
    """
    plt = pyplot()  # first: names the extra to install when matplotlib is missing
    import matplotlib.cm
    from matplotlib import colors as mcolors

    info = get_parallel_coordinates_info(result, budget, hyperparameters, configspace)
    axes, losses = info["axes"], info["losses"]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(info["names"]) + 2.5), 5))
    if not axes:
        no_data(ax, "no configuration with a finite loss")
        ax.set_title("Parallel coordinates")
        finish(fig, show)
        return fig, ax
    norm = mcolors.Normalize(vmin=float(losses.min()), vmax=float(losses.max()) if losses.max() > losses.min()
                             else float(losses.min()) + 1e-12)
    colormap = plt.get_cmap(cmap)
    xs = np.arange(len(axes))
    positions = np.where(np.isnan(info["positions"]), INACTIVE, info["positions"])
    for k in np.argsort(-losses):  # worst first, best on top
        ax.plot(xs, positions[k], color=colormap(norm(losses[k])), alpha=0.75, lw=1.2)
    for i, a in enumerate(axes):
        ax.axvline(i, color="0.5", lw=0.8)
        for y, label in a["ticks"]:
            ax.text(i + 0.04, y, label, fontsize="x-small", va="center", color="0.25")
        ax.text(i + 0.04, INACTIVE, "n/a", fontsize="x-small", va="center", color="0.6")
    ax.set_xticks(xs, [a["name"] + (" (log)" if a["log"] else "") for a in axes], rotation=20)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(axes) - 0.4)
    ax.set_ylim(-0.13, 1.05)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax, label="loss")
    ax.set_title(f"Configurations on {budget_label(info['budget'])} (n={len(losses)})")
    finish(fig, show)
    return fig, ax
