"""Per-step learning curves: the intermediate values each job reported (``Worker.report``), with the stops.

Where :func:`~bandster.visualization.learning_curves` draws one point per finished run (HpBandSter's learning
curves), this draws every report of every job against its step, and marks the report at which the scheduler
stopped a job (a stopping-type scheduler: ``ASHA(type="stopping")``, ``MedianStopping``, ...). It is Optuna's
"intermediate values" plot, with the decisions added.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from bandster.records.result import Result
from bandster.visualization._utils import FAILED_COLOR, finish, no_data, pyplot

_STOPS = ("stop", "pause")


def get_intermediate_values_info(result: Result, config_ids: Iterable[tuple] | None = None,
                                  max_curves: int | None = None) -> dict[str, Any]:
    """The reported values of every job, one curve per (configuration, budget, attempt).

    Parameters
    ----------
    result : Result
    config_ids : iterable of tuple, optional
        Only these configurations (default: all that reported).
    max_curves : int, optional
        Keep the curves of the best ``max_curves`` jobs (by their last finite value).

    Returns
    -------
    dict
        ``curves``: one dict per job, worst last value first (so the best are drawn last, on top), with
        ``config_id``, ``budget`` (the budget the job was handed), ``attempt``, ``steps``, ``losses`` and
        ``times`` (arrays, in report order; non-finite losses as NaN), ``decisions`` (list), ``stopped_at`` (the
        step of the report the scheduler stopped it at, or None), ``stopped_loss``, ``final`` (its last finite
        value) and ``status`` (its run's status; ``'running'`` when the configuration has no result, ``'lost'``
        for an attempt whose outcome was lost while another attempt's is recorded); ``stops``: ``steps``,
        ``losses`` and ``config_ids`` of the stop decisions; ``n_reports``: the number of reports drawn.
    """
    wanted = None if config_ids is None else {tuple(cid) for cid in config_ids}
    curves: dict[tuple, dict[str, Any]] = {}
    for report in result.get_reports():
        cid = tuple(report.config_id)
        if wanted is not None and cid not in wanted:
            continue
        key = (cid, report.budget, report.attempt)
        curve = curves.get(key)
        if curve is None:
            curve = curves[key] = {"config_id": cid, "budget": report.budget, "attempt": report.attempt,
                                   "steps": [], "losses": [], "times": [], "decisions": [], "stopped_at": None,
                                   "stopped_loss": None}
        loss = float(report.loss) if isinstance(report.loss, int | float) else math.nan
        curve["steps"].append(float(report.step))
        curve["losses"].append(loss)
        curve["times"].append(float(report.time))
        curve["decisions"].append(report.decision)
        if report.decision in _STOPS and curve["stopped_at"] is None:
            curve["stopped_at"], curve["stopped_loss"] = float(report.step), loss
    statuses: dict[tuple, str] = {}
    for run in result.get_all_runs():
        statuses[(tuple(run.config_id), run.attempt)] = run.status
        statuses.setdefault((tuple(run.config_id), None), "lost")  # another attempt of it has a result
    out = []
    for curve in curves.values():
        finite = [v for v in curve["losses"] if math.isfinite(v)]
        curve["final"] = finite[-1] if finite else math.inf
        curve["status"] = statuses.get((curve["config_id"], curve["attempt"] or 1),
                                       statuses.get((curve["config_id"], None), "running"))
        for name in ("steps", "losses", "times"):
            curve[name] = np.array(curve[name], dtype=float)
        out.append(curve)
    out.sort(key=lambda c: (-c["final"], c["config_id"]))
    if max_curves is not None and len(out) > max_curves:
        out = out[len(out) - max_curves:]
    stops = [c for c in out if c["stopped_at"] is not None]
    return {"curves": out, "n_reports": int(sum(len(c["steps"]) for c in out)),
            "stops": {"steps": np.array([c["stopped_at"] for c in stops], dtype=float),
                      "losses": np.array([c["stopped_loss"] for c in stops], dtype=float),
                      "config_ids": [c["config_id"] for c in stops]}}


def intermediate_values(result: Result, config_ids: Iterable[tuple] | None = None, max_curves: int | None = 300,
                        log_x: bool = False, log_y: bool = False, cmap: str = "viridis_r",
                        show: bool = False) -> tuple[Any, Any]:
    """Every job's reported values against the step, coloured by its last value; red crosses: stop decisions.

    Parameters
    ----------
    result : Result
    config_ids : list of tuple, optional
        Only these configurations (default: every one that reported).
    max_curves : int, optional
        At most this many jobs, the best by their last value.
    log_x, log_y : bool
    cmap : str
    show : bool

    Returns
    -------
    fig, ax

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from bandster.records.format import ReportLine
    >>> lines = [ReportLine((0, 0, 0), 9.0, 1, s, 1 / s, s, None, "continue") for s in (1.0, 2.0, 3.0)]
    >>> lines.append(ReportLine((0, 0, 1), 9.0, 1, 1.0, 2.0, 1.0, None, "stop"))
    >>> fig, ax = intermediate_values(Result({}, {"time_ref": 0.0}, reports=lines))
    >>> ax.get_xlabel(), ax.get_title()
    ('step', 'Intermediate values (2 jobs, 1 stopped)')
    """
    plt = pyplot()  # first: names the extra to install when matplotlib is missing
    import matplotlib.cm
    from matplotlib import colors as mcolors

    info = get_intermediate_values_info(result, config_ids, max_curves)
    curves = info["curves"]
    fig, ax = plt.subplots(figsize=(8, 5))
    finals = np.array([c["final"] for c in curves if math.isfinite(c["final"])])
    if len(finals):
        norm = mcolors.Normalize(vmin=float(finals.min()), vmax=float(max(finals.max(), finals.min() + 1e-12)))
        colormap = plt.get_cmap(cmap)
        for curve in curves:
            color = colormap(norm(curve["final"])) if math.isfinite(curve["final"]) else "0.6"
            ax.plot(curve["steps"], curve["losses"], "-", lw=1, alpha=0.8, color=color)
        stops = info["stops"]
        if len(stops["steps"]):
            ax.plot(stops["steps"], stops["losses"], "x", color=FAILED_COLOR, ms=7, mew=1.5, ls="none",
                    label="stopped here")
            ax.legend(loc="upper right")
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax, label="last reported value")
        if log_x:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
    else:
        no_data(ax, "no intermediate reports with a finite value")
    ax.set_xlabel("step")
    ax.set_ylabel("reported loss")
    ax.set_title(f"Intermediate values ({len(curves)} jobs, {len(info['stops']['steps'])} stopped)")
    finish(fig, show)
    return fig, ax
