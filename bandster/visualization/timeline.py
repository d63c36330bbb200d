"""Which worker ran what, when."""

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
    short_worker,
    stamp,
)


def get_worker_timeline_info(runs: Iterable[Run] | Result) -> dict[str, Any]:
    """One bar per run with a worker and both time stamps.

    Returns
    -------
    dict
        ``workers`` (sorted names), per bar ``row`` (index into ``workers``), ``start``, ``duration``,
        ``budget`` and ``failed`` (numpy arrays) and ``config_ids`` (list); ``busy`` (the fraction of the
        workers' time between the first start and the last finish that they were running, None for a zero
        span).
    """
    runs = [r for r in run_list(runs) if r.worker_name and stamp(r, "started") is not None
            and stamp(r, "finished") is not None]
    workers = sorted({r.worker_name for r in runs})
    row = {w: i for i, w in enumerate(workers)}
    start = np.array([stamp(r, "started") for r in runs], dtype=float)
    duration = np.array([stamp(r, "finished") for r in runs], dtype=float) - start
    busy = None
    if runs:
        span = float(np.max(start + duration) - np.min(start))
        busy = float(np.sum(duration) / (span * len(workers))) if span > 0 else None
    return {"workers": workers, "row": np.array([row[r.worker_name] for r in runs], dtype=int), "start": start,
            "duration": duration, "budget": np.array([float(r.budget) for r in runs]),
            "failed": np.array([r.status == "failed" for r in runs], dtype=bool),
            "config_ids": [tuple(r.config_id) for r in runs], "busy": busy}


def worker_timeline(runs: Iterable[Run] | Result, show: bool = False) -> tuple[Any, Any]:
    """Which worker ran what, when: one row per worker, one bar per run (coloured by budget).

    Gaps between bars are the time a worker was idle or waiting for its next job.

    Parameters
    ----------
    runs : list of Run or Result
        Runs without a worker name or without start and finish times are left out.
    show : bool

    Returns
    -------
    fig, ax
    """
    plt = pyplot()  # first: names the extra to install when matplotlib is missing
    import matplotlib.patches

    info = get_worker_timeline_info(runs)
    workers = info["workers"]
    fig, ax = plt.subplots(figsize=(9, max(3.5, 0.45 * len(workers) + 1.5)))
    if workers:
        colors = budget_colors(info["budget"])
        for budget, color in colors.items():
            for w in range(len(workers)):
                here = (info["row"] == w) & (info["budget"] == budget)
                if here.any():
                    ax.broken_barh(list(zip(info["start"][here], info["duration"][here], strict=True)),
                                   (w - 0.4, 0.8), facecolors=color, edgecolor="white", linewidth=0.3)
        failed = np.flatnonzero(info["failed"])
        for k in failed:
            ax.broken_barh([(info["start"][k], info["duration"][k])], (info["row"][k] - 0.4, 0.8),
                           facecolors="none", edgecolor=FAILED_COLOR, hatch="////", linewidth=0.8)
        handles = [matplotlib.patches.Patch(color=c, label=budget_label(b)) for b, c in colors.items()]
        if len(failed):
            handles.append(matplotlib.patches.Patch(facecolor="none", edgecolor=FAILED_COLOR, hatch="////",
                                                    label="failed"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        ax.set_yticks(range(len(workers)), [short_worker(w) for w in workers])
        if info["busy"] is not None:
            ax.set_title(f"Worker timeline (workers busy {100 * info['busy']:.0f}% "
                         "between the first start and the last finish)")
        else:
            ax.set_title("Worker timeline")
        ax.set_ylim(-0.6, len(workers) - 0.4)
    else:
        no_data(ax, "no run with a worker and start and finish times")
        ax.set_title("Worker timeline")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("worker")
    finish(fig, show)
    return fig, ax
