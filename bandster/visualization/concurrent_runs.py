"""The number of runs in progress over time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bandster.records.result import Result, Run
from bandster.visualization._utils import finish, no_data, pyplot, run_list, stamp


def get_concurrent_runs_info(runs: Iterable[Run] | Result) -> dict[str, Any]:
    """The exact step function of starts and finishes.

    Returns
    -------
    dict
        ``times`` and ``counts`` (numpy arrays; the count holds from each time to the next), ``mean`` (the
        time-weighted mean count, None when the span is zero or there is no run with both stamps).
    """
    changes = []
    for r in run_list(runs):
        start, stop = stamp(r, "started"), stamp(r, "finished")
        if start is not None and stop is not None and stop >= start:
            changes.append((start, 1))
            changes.append((stop, -1))
    if not changes:
        return {"times": np.zeros(0), "counts": np.zeros(0, dtype=int), "mean": None}
    changes.sort(key=lambda c: (c[0], c[1]))  # a finish before a start at the same instant
    times = [changes[0][0]]
    counts = [0]
    level = 0
    for t, delta in changes:
        level += delta
        times.append(t)
        counts.append(level)
    t, c = np.array(times, dtype=float), np.array(counts, dtype=int)
    span = t[-1] - t[0]
    mean = float(np.sum(c[:-1] * np.diff(t)) / span) if span > 0 else None
    return {"times": t, "counts": c, "mean": mean}


def concurrent_runs_over_time(runs: Iterable[Run] | Result, num_points: int | None = 512,
                              show: bool = False) -> tuple[Any, Any]:
    """The number of runs in progress over time.

    Parameters
    ----------
    runs : list of Run or Result
    num_points : int, optional
        Accepted for compatibility with HpBandSter (which ignored it too): the curve is the exact step
        function of starts and finishes, not a sampled one.
    show : bool
        Call ``plt.show()``.

    Returns
    -------
    fig, ax
    """
    info = get_concurrent_runs_info(runs)
    fig, ax = pyplot().subplots(figsize=(8, 4))
    if len(info["times"]):
        times, counts = info["times"], info["counts"]
        ax.step(times, counts, where="post", color="C0")
        ax.fill_between(times, counts, step="post", alpha=0.25, color="C0")
        if info["mean"] is not None:
            ax.axhline(info["mean"], color="0.3", ls="--", lw=1, label=f"mean {info['mean']:.2f}")
            ax.legend(loc="upper right")
        ax.set_ylim(bottom=0)
    else:
        no_data(ax, "no run with start and finish times")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("concurrent runs")
    ax.set_title("Runs in progress")
    finish(fig, show)
    return fig, ax
