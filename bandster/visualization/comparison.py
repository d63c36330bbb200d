"""Several runs' incumbent trajectories over wall-clock time and over budget spent, with a band over seeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bandster.records.result import Result
from bandster.visualization._utils import finish, no_data, pyplot, stamp

AXES = ("time", "spent")
AXIS_LABELS = {"time": "wall clock time [s]", "spent": "budget spent (sum of the budgets of finished runs)"}


def _trajectory(result: Result, all_budgets: bool, bigger_is_better: bool, non_decreasing_budget: bool,
                optimum: float | None) -> dict[str, Any]:
    """One run's incumbent: ``time``, ``spent`` (the budget of all runs finished by then), ``value``."""
    trajectory = result.get_incumbent_trajectory(all_budgets=all_budgets, bigger_is_better=bigger_is_better,
                                                 non_decreasing_budget=non_decreasing_budget)
    finished = [(stamp(r, "finished"), float(r.budget)) for r in result.get_all_runs()]
    finished = sorted((t, b) for t, b in finished if t is not None)
    ends = np.array([t for t, _ in finished])
    spent = np.cumsum([b for _, b in finished])
    points = [(t, loss, cid) for t, loss, cid in zip(trajectory["times_finished"], trajectory["losses"],
                                                     trajectory["config_ids"], strict=True) if t is not None]
    times = np.array([p[0] for p in points], dtype=float)
    done = np.searchsorted(ends, times, side="right")  # runs finished by each change, itself included
    values = np.array([p[1] for p in points], dtype=float) - (float(optimum) if optimum is not None else 0.0)
    return {"time": times, "spent": spent[done - 1] if len(done) else np.zeros(0), "value": values,
            "config_ids": [tuple(p[2]) for p in points]}


def _band(runs: list[dict[str, Any]], axis: str) -> dict[str, np.ndarray]:
    """Median and quartiles over runs of their step functions along ``axis``, from where every run has an
    incumbent; exact (the grid is every run's change points)."""
    grid = np.unique(np.concatenate([run[axis] for run in runs]))
    start = max(run[axis][0] for run in runs)
    grid = grid[grid >= start]
    steps = np.empty((len(runs), len(grid)))
    for k, run in enumerate(runs):
        steps[k] = run["value"][np.searchsorted(run[axis], grid, side="right") - 1]  # the value holding at x
    q25, median, q75 = np.percentile(steps, [25, 50, 75], axis=0)
    return {"x": grid, "median": median, "q25": q25, "q75": q75}


def get_compare_info(results: Sequence[Result], labels: Sequence[str] | None = None, all_budgets: bool = True,
                      bigger_is_better: bool = True, non_decreasing_budget: bool = True,
                      optimum: float | None = None) -> dict[str, Any]:
    """Each run's incumbent trajectory, grouped by label, with each group's median and quartiles.

    Parameters
    ----------
    results : list of Result
    labels : list of str, optional
        One per result; results sharing a label are seeds of one optimizer on one problem (default: every
        result its own group, ``run 1``, ``run 2``, ...).

    Returns
    -------
    dict
        ``regret`` (whether values are ``loss - optimum``) and ``groups``: in order of first appearance, each
        ``{"label", "runs": [{"time", "spent", "value" (arrays, one entry per change of the incumbent),
        "config_ids"}], "time", "spent"}``, where ``time`` and ``spent`` are the band over the group's runs
        (``{"x", "median", "q25", "q75"}`` arrays, from where every run has an incumbent), None for a group of
        one run or when a run has no incumbent.
    """
    results = list(results)
    labels = list(labels) if labels is not None else [f"run {k + 1}" for k in range(len(results))]
    if len(labels) != len(results):
        raise ValueError(f"compare got {len(results)} results but {len(labels)} labels: give one label per result")
    groups: dict[str, list[dict[str, Any]]] = {}
    for result, label in zip(results, labels, strict=True):
        run = _trajectory(result, all_budgets, bigger_is_better, non_decreasing_budget, optimum)
        groups.setdefault(str(label), []).append(run)
    info = []
    for label, runs in groups.items():
        banded = len(runs) > 1 and all(len(run["time"]) for run in runs)
        info.append({"label": label, "runs": runs, **{axis: _band(runs, axis) if banded else None for axis in AXES}})
    return {"groups": info, "regret": optimum is not None}


def compare(results: Sequence[Result], labels: Sequence[str] | None = None, all_budgets: bool = True,
            bigger_is_better: bool = True, non_decreasing_budget: bool = True, optimum: float | None = None,
            log_y: bool | None = None, log_x: bool = False, show: bool = False) -> tuple[Any, Any]:
    """Several runs' incumbents over wall-clock time (left) and over budget spent (right).

    Runs sharing a label (seeds of one optimizer on one problem) are drawn as their median with a band from the
    first to the third quartile; a label with one run as its own step line.

    Parameters
    ----------
    results : list of Result
    labels : list of str, optional
        One per result; equal labels are grouped (default: one group per result).
    all_budgets, bigger_is_better, non_decreasing_budget : bool
        As for :meth:`Result.get_incumbent_trajectory`.
    optimum : float, optional
        The best achievable loss: plot the regret instead of the loss.
    log_y : bool, optional
        Default: logarithmic for a regret that stays positive.
    log_x : bool
    show : bool

    Returns
    -------
    fig : Figure
    axes : numpy.ndarray
        Shape ``(2,)``: over time, over budget spent.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from bandster.records.result import Result
    >>> fig, axes = compare([Result([{}], {"time_ref": 0})])
    >>> axes.shape
    (2,)
    """
    info = get_compare_info(results, labels, all_budgets, bigger_is_better, non_decreasing_budget, optimum)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    values = [run["value"] for group in info["groups"] for run in group["runs"]]
    if not any(len(v) for v in values):
        no_data(axes[0], "no incumbent in any run (no finite loss)")
    else:
        for k, group in enumerate(info["groups"]):
            color = f"C{k % 10}"
            for ax, axis in zip(axes, AXES, strict=True):
                band = group[axis]
                if band is not None:
                    ax.fill_between(band["x"], band["q25"], band["q75"], step="post", color=color, alpha=0.25, lw=0)
                    ax.step(band["x"], band["median"], where="post", color=color, lw=1.8,
                            label=f"{group['label']} (median of {len(group['runs'])}, quartiles)")
                    continue
                for n, run in enumerate(group["runs"]):
                    ax.step(run[axis], run["value"], where="post", color=color, lw=1.5,
                            label=group["label"] if n == 0 else None)
        if log_y is None:
            log_y = info["regret"] and all(bool(np.all(v > 0)) for v in values)
        for ax in axes:
            if log_y:
                ax.set_yscale("log")
            if log_x:
                ax.set_xscale("log")
        axes[1].legend(loc="upper right", fontsize="small")
    for ax, axis in zip(axes, AXES, strict=True):
        ax.set_xlabel(AXIS_LABELS[axis])
    axes[0].set_ylabel("regret (loss - optimum)" if info["regret"] else "incumbent's loss")
    axes[0].set_title("Incumbent over time")
    axes[1].set_title("Incumbent over budget spent")
    finish(fig, show)
    return fig, axes
