"""Plots of a run, drawn with matplotlib (install the ``plots`` extra: ``pip install bandster[plots]``).

HpBandSter's functions keep their names, arguments and return shapes: :func:`losses_over_time`,
:func:`concurrent_runs_over_time`, :func:`finished_runs_over_time`, :func:`correlation_across_budgets`,
:func:`performance_histogram_model_vs_random`, :func:`interactive_HBS_plot` and :func:`default_tool_tips`.
Their bugs are fixed: the histogram works for runs without a model (Hyperband, random search), the interactive
plot honours ``log_x`` and ``colors_floats``, and ``num_points`` is accepted (the concurrency curve is exact).

New plots, each returning ``(fig, ax)``: :func:`incumbent_over_time` (incumbent or regret over time),
:func:`worker_timeline` (which worker ran what, when), :func:`parallel_coordinates` (configurations coloured by
loss), :func:`hyperparameter_scatter` (two hyperparameters against the loss) and :func:`learning_curves`.

No function calls ``plt.show()`` unless ``show=True`` (:func:`interactive_HBS_plot` shows itself only when
matplotlib's backend is interactive, unless told otherwise). Times are seconds since the start of the run (the
Result's ``time_ref``); warm-start runs, which ran before, have negative times.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from bandster.core.result import Result, Run
>>> runs = [Run((0, 0, 0), 1.0, 0.5, {}, {"submitted": 0, "started": 0, "finished": 1}, None, worker_name="w")]
>>> fig, ax = losses_over_time(runs)
>>> ax.get_ylabel()
'loss'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

try:
    import matplotlib
    import matplotlib.cm
    import matplotlib.patches
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import matplotlib.transforms
    from matplotlib import colors as mcolors
except ImportError as err:  # pragma: no cover - matplotlib is installed with the plots extra
    raise ImportError(
        "bandster.visualization needs matplotlib, which is not installed: pip install 'bandster[plots]'"
    ) from err
import numpy as np

from bandster.core._convert import is_finite_loss
from bandster.core.result import Result, Run

__all__ = [
    "default_tool_tips",
    "concurrent_runs_over_time",
    "finished_runs_over_time",
    "performance_histogram_model_vs_random",
    "correlation_across_budgets",
    "losses_over_time",
    "interactive_HBS_plot",
    "incumbent_over_time",
    "worker_timeline",
    "parallel_coordinates",
    "hyperparameter_scatter",
    "learning_curves",
    "budget_colors",
]

FAILED_COLOR = "#d62728"


# --------------------------------------------------------------------------------------------------------
# helpers


def _runs(runs_or_result: Any) -> list[Run]:
    """A list of runs from a Result (all its runs, finish-time order) or an iterable of runs."""
    if isinstance(runs_or_result, Result):
        return runs_or_result.get_all_runs()
    return list(runs_or_result)


def _stamp(run: Run, key: str) -> float | None:
    stamps = run.time_stamps if isinstance(run.time_stamps, Mapping) else {}
    value = stamps.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _finite(value: Any) -> bool:
    return is_finite_loss(value)


def budget_colors(budgets: Iterable[float], cmap: Any = None) -> dict[float, Any]:
    """One colour per budget, smallest budget first.

    Parameters
    ----------
    budgets : iterable of float
    cmap : str or Colormap, optional
        Default ``tab10`` (``viridis`` for more than ten budgets).

    Returns
    -------
    dict
        ``{budget: rgba}``.
    """
    ordered = sorted({float(b) for b in budgets})
    if cmap is None:
        cmap = "tab10" if len(ordered) <= 10 else "viridis"
    colormap = plt.get_cmap(cmap) if isinstance(cmap, str) else cmap
    if getattr(colormap, "N", 256) <= 20:  # a qualitative map: take its colours in order
        return {b: colormap(i % colormap.N) for i, b in enumerate(ordered)}
    n = max(len(ordered) - 1, 1)
    return {b: colormap(0.1 + 0.8 * i / n) for i, b in enumerate(ordered)}


def _budget_label(budget: float) -> str:
    return f"budget {int(budget)}" if float(budget).is_integer() else f"budget {budget:.4g}"


def _done(fig: Any, show: bool) -> None:
    if show:
        plt.show()


def _no_data(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _short_worker(name: str) -> str:
    marker = ".worker."
    return name.split(marker, 1)[1] if marker in name else name


# --------------------------------------------------------------------------------------------------------
# HpBandSter's plots


def default_tool_tips(result_object: Result, learning_curves: Mapping, include_run_info: bool = False) -> dict:
    """Text for each configuration of ``learning_curves``: its id, configuration and how it was chosen.

    Parameters
    ----------
    result_object : Result
    learning_curves : dict
        ``{config_id: curves}`` as from :meth:`Result.get_learning_curves`; only its keys are used.
    include_run_info : bool
        Add each run's budget, loss and duration.

    Returns
    -------
    dict
        ``{config_id: str}``.
    """
    id2conf = result_object.get_id2config_mapping()
    tips = {}
    for config_id in learning_curves:
        entry = id2conf.get(tuple(config_id), {})
        lines = [f"config_id: {tuple(config_id)}"]
        config = entry.get("config") or {}
        if isinstance(config, Mapping):
            for key, value in config.items():
                lines.append(f"  {key}: {value:.4g}" if isinstance(value, float) else f"  {key}: {value}")
        info = entry.get("config_info")
        if isinstance(info, Mapping) and "model_based_pick" in info:
            lines.append(f"model based pick: {info['model_based_pick']}")
        if include_run_info:
            for run in result_object.get_runs_by_id(config_id):
                start, stop = _stamp(run, "started"), _stamp(run, "finished")
                took = f", {stop - start:.3g} s" if start is not None and stop is not None else ""
                loss = "failed" if run.loss is None else f"loss {run.loss:.4g}"
                lines.append(f"{_budget_label(run.budget)}: {loss}{took}")
        tips[config_id] = "\n".join(lines)
    return tips


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
    runs = _runs(runs)
    changes = []
    for r in runs:
        start, stop = _stamp(r, "started"), _stamp(r, "finished")
        if start is not None and stop is not None and stop >= start:
            changes.append((start, 1))
            changes.append((stop, -1))
    fig, ax = plt.subplots(figsize=(8, 4))
    if changes:
        changes.sort(key=lambda c: (c[0], c[1]))  # a finish before a start at the same instant
        times = [changes[0][0]]
        counts = [0]
        level = 0
        for t, delta in changes:
            level += delta
            times.append(t)
            counts.append(level)
        ax.step(times, counts, where="post", color="C0")
        ax.fill_between(times, counts, step="post", alpha=0.25, color="C0")
        span = times[-1] - times[0]
        if span > 0:
            area = sum(c * (t1 - t0) for t0, t1, c in zip(times[:-1], times[1:], counts[:-1], strict=True))
            ax.axhline(area / span, color="0.3", ls="--", lw=1, label=f"mean {area / span:.2f}")
            ax.legend(loc="upper right")
        ax.set_ylim(bottom=0)
    else:
        _no_data(ax, "no run with start and finish times")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("concurrent runs")
    ax.set_title("Runs in progress")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


def finished_runs_over_time(runs: Iterable[Run] | Result, show: bool = False) -> tuple[Any, Any]:
    """The cumulative number of finished runs over time, in total and per budget.

    Returns
    -------
    fig, ax
    """
    runs = [r for r in _runs(runs) if _stamp(r, "finished") is not None]
    fig, ax = plt.subplots(figsize=(8, 4))
    if runs:
        colors = budget_colors(r.budget for r in runs)
        for budget, color in colors.items():
            times = sorted(_stamp(r, "finished") for r in runs if float(r.budget) == budget)
            ax.step(times, np.arange(1, len(times) + 1), where="post", color=color, label=_budget_label(budget))
        times = sorted(_stamp(r, "finished") for r in runs)
        ax.step(times, np.arange(1, len(times) + 1), where="post", color="k", lw=2, label="all budgets")
        failed = sorted(_stamp(r, "finished") for r in runs if r.status != "ok")
        if failed:
            ax.step(failed, np.arange(1, len(failed) + 1), where="post", color=FAILED_COLOR, ls=":", label="failed")
        ax.legend(loc="upper left")
        ax.set_ylim(bottom=0)
    else:
        _no_data(ax, "no finished runs")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("finished runs")
    ax.set_title("Finished runs over time")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


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
    runs = [r for r in _runs(runs) if _stamp(r, "finished") is not None]
    fig, ax = plt.subplots(figsize=(8, 5))
    colors = budget_colors((r.budget for r in runs), cmap)
    failed_times = []
    any_point = False
    for budget, color in colors.items():
        points = []
        for r in runs:
            if float(r.budget) != budget:
                continue
            loss = get_loss_from_run_fn(r) if r.loss is not None else None
            if loss is None or not _finite(loss):
                failed_times.append(_stamp(r, "finished"))
                continue
            points.append((_stamp(r, "finished"), float(loss)))
        if not points:
            continue
        any_point = True
        points.sort()
        t, y = np.array(points).T
        ax.scatter(t, y, s=14, color=color, alpha=0.6, label=_budget_label(budget))
        ax.step(t, np.minimum.accumulate(y), where="post", color=color, lw=1.5)
    if failed_times:
        blend = matplotlib.transforms.blended_transform_factory(ax.transData, ax.transAxes)
        ax.scatter(failed_times, np.full(len(failed_times), 0.98), marker="x", color=FAILED_COLOR, s=20,
                   transform=blend, label=f"failed ({len(failed_times)})", clip_on=False)
    if not any_point and not failed_times:
        _no_data(ax, "no finished runs")
    if any_point or failed_times:
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("loss")
    ax.set_title("Losses over time (lines: best so far per budget)")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


def correlation_across_budgets(results_object: Result, show: bool = False) -> tuple[Any, Any]:
    """Spearman rank correlation of the losses of the configurations evaluated on two budgets, for each pair.

    High correlation means small budgets rank configurations as large ones do (so successive halving keeps
    the right ones).

    Parameters
    ----------
    results_object : Result
    show : bool

    Returns
    -------
    fig, ax
        A matrix over the budgets; each cell holds rho, its p-value and the number of configurations
        compared (pairs with fewer than three are left blank).
    """
    from scipy.stats import spearmanr

    losses: dict[float, dict[tuple, float]] = {}
    for r in results_object.get_all_runs():
        if _finite(r.loss):
            losses.setdefault(float(r.budget), {})[r.config_id] = float(r.loss)
    budgets = sorted(losses)
    n = len(budgets)
    fig, ax = plt.subplots(figsize=(1.6 * max(n, 2) + 2, 1.3 * max(n, 2) + 1.5))
    if n < 2:
        _no_data(ax, "fewer than two budgets with results:\nnothing to correlate")
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        matrix = np.full((n, n), np.nan)
        for i, b1 in enumerate(budgets):
            for j, b2 in enumerate(budgets):
                common = sorted(set(losses[b1]) & set(losses[b2]))
                if i == j:
                    matrix[i, j] = 1.0
                    ax.text(j, i, f"n={len(common)}", ha="center", va="center", fontsize="small", color="w")
                    continue
                if j < i or len(common) < 3:
                    if j > i:
                        ax.text(j, i, f"n={len(common)}", ha="center", va="center", fontsize="small", color="0.4")
                    continue
                x = [losses[b1][c] for c in common]
                y = [losses[b2][c] for c in common]
                if len(set(x)) < 2 or len(set(y)) < 2:
                    continue
                rho, p = spearmanr(x, y)
                matrix[i, j] = rho
                ax.text(j, i, f"\u03c1={rho:.2f}\np={p:.2g}\nn={len(common)}", ha="center", va="center",
                        fontsize="small", color="w" if abs(rho) > 0.5 else "k")
        image = ax.imshow(np.ma.masked_invalid(matrix), cmap="RdBu", vmin=-1, vmax=1)
        fig.colorbar(image, ax=ax, label="Spearman rank correlation")
        labels = [f"{b:g}" for b in budgets]
        ax.set_xticks(range(n), labels)
        ax.set_yticks(range(n), labels)
        ax.set_xlabel("budget")
        ax.set_ylabel("budget")
    ax.set_title("Rank correlation of losses across budgets")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


def performance_histogram_model_vs_random(runs: Iterable[Run] | Result, id2conf: Mapping,
                                          show: bool = False) -> tuple[Any, Any]:
    """Histograms of the losses of model-based and of random configurations, one row per budget.

    Configurations whose ``config_info`` has no ``model_based_pick`` (Hyperband, random search, initial
    designs) count as random.

    Parameters
    ----------
    runs : list of Run or Result
    id2conf : dict
        :meth:`Result.get_id2config_mapping`.
    show : bool

    Returns
    -------
    fig : Figure
    axarr : numpy.ndarray
        Axes of shape ``(number of budgets, 2)``: column 0 model-based, column 1 random.
    """
    by_budget: dict[float, dict[str, list[float]]] = {}
    for r in _runs(runs):
        if not _finite(r.loss):
            continue
        info = (id2conf.get(r.config_id) or {}).get("config_info")
        model = bool(info.get("model_based_pick")) if isinstance(info, Mapping) else False
        entry = by_budget.setdefault(float(r.budget), {"model based": [], "random": []})
        entry["model based" if model else "random"].append(float(r.loss))
    budgets = sorted(by_budget) or [math.nan]
    fig, axarr = plt.subplots(len(budgets), 2, figsize=(9, 2.4 * len(budgets) + 0.8), squeeze=False,
                              sharey="row")
    for row, budget in enumerate(budgets):
        entry = by_budget.get(budget, {"model based": [], "random": []})
        values = entry["model based"] + entry["random"]
        bins = np.histogram_bin_edges(values, bins=min(20, max(len(values), 1))) if values else 10
        for col, kind in enumerate(("model based", "random")):
            ax = axarr[row, col]
            data = entry[kind]
            if data:
                ax.hist(data, bins=bins, color="C1" if col == 0 else "C0", alpha=0.8)
            else:
                _no_data(ax, f"no {kind} configurations")
            title = kind if math.isnan(budget) else f"{kind}, {_budget_label(budget)} (n={len(data)})"
            ax.set_title(title, fontsize="medium")
            if row == len(budgets) - 1:
                ax.set_xlabel("loss")
        axarr[row, 0].set_ylabel("runs")
    fig.tight_layout()
    _done(fig, show)
    return fig, axarr


WARMSTART_LABEL = "warmstart data"


def _get_iteration_groups(config_ids: list) -> dict[str, list]:
    """The check boxes of :func:`interactive_HBS_plot`: ``{label: config ids}``, one per iteration (in order),
    ``'warmstart data'`` for iteration -1 (the runs of a warm start), as in HpBandSter.

    Examples
    --------
    >>> _get_iteration_groups([(0, 0, 0), (1, 0, 0), (0, 0, 1), (-1, 0, 0)])
    {'warmstart data': [(-1, 0, 0)], 'iteration 0': [(0, 0, 0), (0, 0, 1)], 'iteration 1': [(1, 0, 0)]}
    """
    by_iteration: dict[Any, list] = {}
    for config_id in config_ids:
        first = config_id[0] if isinstance(config_id, tuple | list) and config_id else config_id
        by_iteration.setdefault(first, []).append(config_id)

    def order(key: Any) -> tuple:
        return (0, key, "") if isinstance(key, int) else (1, 0, str(key))

    groups = {}
    for key in sorted(by_iteration, key=order):
        label = WARMSTART_LABEL if key == -1 else (f"iteration {key}" if isinstance(key, int) else str(key))
        groups[label] = by_iteration[key]
    return groups


def interactive_HBS_plot(  # noqa: N802 - HpBandSter's name
    learning_curves: Mapping,
    tool_tip_strings: Mapping | None = None,
    log_y: bool = False,
    log_x: bool = False,
    reset_times: bool = False,
    color_map: str = "Set3",
    colors_floats: Mapping | None = None,
    title: str = "",
    show: bool | None = None,
) -> tuple[Any, Any, Any, Any, Any]:
    """Learning curves with a check box per iteration (and one for warm-start data, as in HpBandSter), 'none'/'all'
    buttons and tool tips on hover.

    Parameters
    ----------
    learning_curves : dict
        ``{config_id: [[(x, loss), ...], ...]}``, as from :meth:`Result.get_learning_curves` (x is the budget).
    tool_tip_strings : dict, optional
        ``{config_id: str}`` shown when the mouse is over a curve (see :func:`default_tool_tips`).
    log_y, log_x : bool
        Logarithmic axes.
    reset_times : bool
        Shift each curve so that it starts at x = 0 (for curves over time).
    color_map : str
        The colormap the curves' colours come from.
    colors_floats : dict, optional
        ``{config_id: float in [0, 1]}``: each curve's position in ``color_map`` (default: spread evenly).
    title : str
    show : bool or None
        Call ``plt.show()``; None (the default) shows the figure only when matplotlib's backend is interactive.

    Returns
    -------
    fig, ax, check, none_button, all_button
        Keep the widgets referenced for them to stay responsive.
    """
    from matplotlib.widgets import Button, CheckButtons

    ids = list(learning_curves)
    cmap = plt.get_cmap(color_map)
    fig = plt.figure(figsize=(11, 6))
    ax = fig.add_axes((0.07, 0.1, 0.62, 0.8))
    lines: dict[Any, list] = {}
    for k, config_id in enumerate(ids):
        if colors_floats is not None and config_id in colors_floats:
            color = cmap(float(colors_floats[config_id]))
        else:
            color = cmap(k / max(len(ids) - 1, 1)) if cmap.N > 20 else cmap(k % cmap.N)
        lines[config_id] = []
        for curve in learning_curves[config_id] or []:
            points = [(float(x), float(y)) for x, y in curve if y is not None]
            if not points:
                continue
            x, y = np.array(points).T
            if reset_times:
                x = x - x[0]
            (line,) = ax.plot(x, y, "o-", color=color, ms=4, picker=5, label=str(config_id))
            line._bandster_id = config_id  # type: ignore[attr-defined]
            lines[config_id].append(line)
    if log_y:
        ax.set_yscale("log")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("time [s]" if reset_times else "budget")
    ax.set_ylabel("loss")
    ax.set_title(title)

    groups = _get_iteration_groups(ids)
    group_lines = {label: [line for c in members for line in lines[c]] for label, members in groups.items()}
    labels = list(groups)
    check_ax = fig.add_axes((0.72, 0.2, 0.26, 0.7))
    check = CheckButtons(check_ax, labels, [True] * len(labels))

    def toggle(label: str | None) -> None:
        if label is None:
            return
        visible = check.get_status()[labels.index(label)] if label in labels else True
        for line in group_lines.get(label, []):
            line.set_visible(visible)
        fig.canvas.draw_idle()

    check.on_clicked(toggle)
    none_ax = fig.add_axes((0.72, 0.08, 0.12, 0.07))
    all_ax = fig.add_axes((0.86, 0.08, 0.12, 0.07))
    none_button = Button(none_ax, "none")
    all_button = Button(all_ax, "all")

    def set_all(state: bool) -> None:
        # one redraw at the end, not one per configuration
        check.eventson, check.drawon = False, False
        try:
            for index, active in enumerate(check.get_status()):
                if active != state:
                    check.set_active(index)
                    for line in group_lines[labels[index]]:
                        line.set_visible(state)
        finally:
            check.eventson, check.drawon = True, True
        fig.canvas.draw_idle()

    none_button.on_clicked(lambda event: set_all(False))
    all_button.on_clicked(lambda event: set_all(True))

    if tool_tip_strings:
        annotation = ax.annotate("", xy=(0, 0), xytext=(15, 15), textcoords="offset points",
                                 bbox={"boxstyle": "round", "fc": "w", "alpha": 0.9}, fontsize="small")
        annotation.set_visible(False)

        def hover(event: Any) -> None:
            if event.inaxes is not ax:
                return
            for config_id, config_lines in lines.items():
                for line in config_lines:
                    if line.get_visible() and line.contains(event)[0]:
                        annotation.xy = (event.xdata, event.ydata)
                        annotation.set_text(tool_tip_strings.get(config_id, str(config_id)))
                        annotation.set_visible(True)
                        fig.canvas.draw_idle()
                        return
            if annotation.get_visible():
                annotation.set_visible(False)
                fig.canvas.draw_idle()

        fig.canvas.mpl_connect("motion_notify_event", hover)
    fig._bandster_widgets = (check, none_button, all_button)  # type: ignore[attr-defined]
    if show is None:
        show = matplotlib.get_backend().lower() not in _NON_INTERACTIVE_BACKENDS
    _done(fig, show)
    return fig, ax, check, none_button, all_button


_NON_INTERACTIVE_BACKENDS = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template",
                             "module://matplotlib_inline.backend_inline", "inline"}


# --------------------------------------------------------------------------------------------------------
# new plots


def incumbent_over_time(
    result: Result,
    all_budgets: bool = True,
    bigger_is_better: bool = True,
    non_decreasing_budget: bool = True,
    optimum: float | None = None,
    log_y: bool | None = None,
    show: bool = False,
) -> tuple[Any, Any]:
    """The incumbent's loss over time, or its regret ``loss - optimum`` when the optimum is known.

    Parameters
    ----------
    result : Result
    all_budgets, bigger_is_better, non_decreasing_budget : bool
        As for :meth:`Result.get_incumbent_trajectory`.
    optimum : float, optional
        The best achievable loss: plot the regret instead of the loss.
    log_y : bool, optional
        Logarithmic loss axis; default: only for a regret that stays positive.
    show : bool

    Returns
    -------
    fig, ax
        A step line; the markers' colours give the incumbent's budget.
    """
    trajectory = result.get_incumbent_trajectory(all_budgets=all_budgets, bigger_is_better=bigger_is_better,
                                                 non_decreasing_budget=non_decreasing_budget)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    points = [(t, loss, b) for t, loss, b in zip(trajectory["times_finished"], trajectory["losses"],
                                                 trajectory["budgets"], strict=True) if t is not None]
    if points:
        t = np.array([p[0] for p in points], dtype=float)
        y = np.array([p[1] for p in points], dtype=float)
        if optimum is not None:
            y = y - float(optimum)
        ax.step(t, y, where="post", color="k", lw=1.5)
        colors = budget_colors(p[2] for p in points)
        seen = set()
        for ti, yi, (_, _, b) in zip(t, y, points, strict=True):
            label = _budget_label(b) if b not in seen else None
            seen.add(b)
            ax.scatter([ti], [yi], color=colors[float(b)], zorder=3, s=30, label=label)
        ax.legend(loc="upper right", fontsize="small", title="incumbent's budget")
        if log_y is None:
            log_y = optimum is not None and bool(np.all(y > 0))
        if log_y:
            ax.set_yscale("log")
    else:
        _no_data(ax, "no incumbent yet (no finite loss)")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("regret (loss - optimum)" if optimum is not None else "incumbent's loss")
    ax.set_title("Regret over time" if optimum is not None else "Incumbent over time")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


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
    runs = [r for r in _runs(runs) if r.worker_name and _stamp(r, "started") is not None
            and _stamp(r, "finished") is not None]
    workers = sorted({r.worker_name for r in runs})
    fig, ax = plt.subplots(figsize=(9, max(3.5, 0.45 * len(workers) + 1.5)))
    if runs:
        colors = budget_colors(r.budget for r in runs)
        row = {w: i for i, w in enumerate(workers)}
        for budget, color in colors.items():
            for w in workers:
                spans = [(_stamp(r, "started"), _stamp(r, "finished") - _stamp(r, "started")) for r in runs
                         if r.worker_name == w and float(r.budget) == budget]
                if spans:
                    ax.broken_barh(spans, (row[w] - 0.4, 0.8), facecolors=color, edgecolor="white", linewidth=0.3)
        failed = [r for r in runs if r.status != "ok"]
        for r in failed:
            start = _stamp(r, "started")
            ax.broken_barh([(start, _stamp(r, "finished") - start)], (row[r.worker_name] - 0.4, 0.8),
                           facecolors="none", edgecolor=FAILED_COLOR, hatch="////", linewidth=0.8)
        handles = [matplotlib.patches.Patch(color=c, label=_budget_label(b)) for b, c in colors.items()]
        if failed:
            handles.append(matplotlib.patches.Patch(facecolor="none", edgecolor=FAILED_COLOR, hatch="////",
                                                    label="failed"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        ax.set_yticks(range(len(workers)), [_short_worker(w) for w in workers])
        start = min(_stamp(r, "started") for r in runs)
        stop = max(_stamp(r, "finished") for r in runs)
        busy = sum(_stamp(r, "finished") - _stamp(r, "started") for r in runs)
        if stop > start:
            ax.set_title(f"Worker timeline (workers busy {100 * busy / ((stop - start) * len(workers)):.0f}% "
                         "between the first start and the last finish)")
        else:
            ax.set_title("Worker timeline")
        ax.set_ylim(-0.6, len(workers) - 0.4)
    else:
        _no_data(ax, "no run with a worker and start and finish times")
        ax.set_title("Worker timeline")
    ax.set_xlabel("wall clock time [s]")
    ax.set_ylabel("worker")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


def _configs_at_budget(result: Result, budget: float | None) -> tuple[float | None, list[tuple[tuple, dict, float]]]:
    """``(budget, [(config_id, config, loss)])``: finite-loss runs on ``budget`` (default: the largest budget
    with at least two of them, else the largest with any)."""
    by_budget: dict[float, list[tuple[tuple, dict, float]]] = {}
    for r in result.get_all_runs():
        if _finite(r.loss):
            config = result[r.config_id].config
            by_budget.setdefault(float(r.budget), []).append(
                (r.config_id, dict(config) if isinstance(config, Mapping) else {}, float(r.loss)))
    if budget is None:
        candidates = [b for b, rows in by_budget.items() if len(rows) >= 2] or list(by_budget)
        budget = max(candidates) if candidates else None
    return budget, by_budget.get(float(budget), []) if budget is not None else []


class _Axis:
    """How one hyperparameter maps to a coordinate in [0, 1]."""

    def __init__(self, name: str, values: list[Any], hp: Any = None) -> None:
        self.name = name
        self.levels: list[Any] | None = None
        self.log = False
        present = [v for v in values if v is not None]
        choices = getattr(hp, "choices", None) or getattr(hp, "sequence", None)
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
        if choices is not None:
            self.levels = list(choices)
        elif not numeric:
            self.levels = sorted({v for v in present}, key=str)
        if self.levels is not None:
            self.lower, self.upper = 0.0, float(max(len(self.levels) - 1, 1))
            return
        lower = getattr(hp, "lower", None)
        upper = getattr(hp, "upper", None)
        if lower is None or upper is None:
            lower = min(present) if present else 0.0
            upper = max(present) if present else 1.0
        self.log = bool(getattr(hp, "log", False)) and lower > 0
        self.lower, self.upper = float(lower), float(upper)

    @property
    def categorical(self) -> bool:
        return self.levels is not None

    def raw(self, value: Any) -> float:
        """The value on the axis' own scale (log10 for log axes, level index for categoricals)."""
        if value is None:
            return math.nan
        if self.levels is not None:
            try:
                return float(self.levels.index(value))
            except ValueError:
                return math.nan
        value = float(value)
        return math.log10(value) if self.log and value > 0 else value

    def unit(self, value: Any) -> float:
        """The value mapped to [0, 1]."""
        low = math.log10(self.lower) if self.log else self.lower
        high = math.log10(self.upper) if self.log else self.upper
        raw = self.raw(value)
        if high == low:
            return 0.5 if not math.isnan(raw) else math.nan
        return (raw - low) / (high - low)

    def ticks(self) -> list[tuple[float, str]]:
        if self.levels is not None:
            n = len(self.levels)
            return [(self.unit(level), str(level)) for level in self.levels] if n > 1 else [(0.5, str(self.levels[0]))]
        return [(0.0, f"{self.lower:.3g}"), (1.0, f"{self.upper:.3g}")]


def _hp_lookup(configspace: Any) -> dict[str, Any]:
    if configspace is None:
        return {}
    try:
        return {hp.name: hp for hp in configspace.values()}
    except AttributeError:
        return {}


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
    budget, rows = _configs_at_budget(result, budget)
    names = list(hyperparameters) if hyperparameters is not None else sorted({k for _, c, _ in rows for k in c})
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(names) + 2.5), 5))
    if not rows or not names:
        _no_data(ax, "no configuration with a finite loss")
        ax.set_title("Parallel coordinates")
        fig.tight_layout()
        _done(fig, show)
        return fig, ax
    hps = _hp_lookup(configspace)
    axes = [_Axis(name, [c.get(name) for _, c, _ in rows], hps.get(name)) for name in names]
    losses = np.array([loss for _, _, loss in rows])
    norm = mcolors.Normalize(vmin=float(losses.min()), vmax=float(losses.max()) if losses.max() > losses.min()
                             else float(losses.min()) + 1e-12)
    colormap = plt.get_cmap(cmap)
    xs = np.arange(len(names))
    for k in np.argsort(-losses):  # worst first, best on top
        _, config, loss = rows[k]
        ys = np.array([a.unit(config.get(a.name)) for a in axes])
        ys = np.where(np.isnan(ys), -0.08, ys)
        ax.plot(xs, ys, color=colormap(norm(loss)), alpha=0.75, lw=1.2)
    for i, a in enumerate(axes):
        ax.axvline(i, color="0.5", lw=0.8)
        for y, label in a.ticks():
            ax.text(i + 0.04, y, label, fontsize="x-small", va="center", color="0.25")
        ax.text(i + 0.04, -0.08, "n/a", fontsize="x-small", va="center", color="0.6")
    ax.set_xticks(xs, [a.name + (" (log)" if a.log else "") for a in axes], rotation=20)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(names) - 0.4)
    ax.set_ylim(-0.13, 1.05)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax, label="loss")
    ax.set_title(f"Configurations on {_budget_label(budget)} (n={len(rows)})")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


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
    budget, rows = _configs_at_budget(result, budget)
    rows = [r for r in rows if r[1].get(x) is not None and r[1].get(y) is not None]
    fig, ax = plt.subplots(figsize=(7, 5.5))
    if not rows:
        _no_data(ax, f"no configuration with both {x!r} and {y!r} and a finite loss")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        fig.tight_layout()
        _done(fig, show)
        return fig, ax
    hps = _hp_lookup(configspace)
    ax_x = _Axis(x, [c[x] for _, c, _ in rows], hps.get(x))
    ax_y = _Axis(y, [c[y] for _, c, _ in rows], hps.get(y))
    if log_x is not None and not ax_x.categorical:
        ax_x.log = bool(log_x)
    if log_y is not None and not ax_y.categorical:
        ax_y.log = bool(log_y)

    def coords(axis: _Axis, values: list[Any]) -> np.ndarray:
        if axis.categorical:
            return np.array([axis.raw(v) for v in values], dtype=float)
        return np.array([float(v) for v in values], dtype=float)

    px = coords(ax_x, [c[x] for _, c, _ in rows])
    py = coords(ax_y, [c[y] for _, c, _ in rows])
    losses = np.array([loss for _, _, loss in rows])
    colormap = plt.get_cmap(cmap)
    if contour and not ax_x.categorical and not ax_y.categorical and len({(a, b) for a, b in zip(px, py,
                                                                                                 strict=True)}) >= 6:
        tx = np.log10(px) if ax_x.log else px
        ty = np.log10(py) if ax_y.log else py
        try:
            from matplotlib.tri import LinearTriInterpolator, Triangulation

            # interpolate in the axes' own scales (log10 for log axes) on a grid, then draw in data coordinates
            interpolate = LinearTriInterpolator(Triangulation(tx, ty), losses)
            gx, gy = np.meshgrid(np.linspace(tx.min(), tx.max(), 120), np.linspace(ty.min(), ty.max(), 120))
            gz = interpolate(gx, gy)
            ax.contourf(10**gx if ax_x.log else gx, 10**gy if ax_y.log else gy, gz, levels=12, cmap=colormap,
                        alpha=0.35)
        except (RuntimeError, ValueError):  # degenerate triangulation (collinear points)
            pass
    order = np.argsort(-losses)
    points = ax.scatter(px[order], py[order], c=losses[order], cmap=colormap, s=36, edgecolors="k", linewidths=0.4)
    best = int(np.argmin(losses))
    ax.scatter([px[best]], [py[best]], marker="*", s=260, color=FAILED_COLOR, edgecolors="k", zorder=4,
               label=f"best: loss {losses[best]:.4g}")
    fig.colorbar(points, ax=ax, label="loss")
    for axis, set_scale, set_ticks in ((ax_x, ax.set_xscale, ax.set_xticks), (ax_y, ax.set_yscale, ax.set_yticks)):
        if axis.categorical:
            set_ticks(range(len(axis.levels)), [str(v) for v in axis.levels])
        elif axis.log:
            set_scale("log")
    ax.use_sticky_edges = False  # the contour would otherwise clip the outermost points
    ax.margins(0.05)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"{x} and {y} on {_budget_label(budget)} (n={len(rows)})")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax


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
    curves = result.get_learning_curves(config_ids=config_ids)
    points = {cid: [(float(b), float(loss)) for b, loss in lc[0] if _finite(loss)] for cid, lc in curves.items()
              if lc}
    points = {cid: p for cid, p in points.items() if p}
    if config_ids is None and any(len(p) > 1 for p in points.values()):
        points = {cid: p for cid, p in points.items() if len(p) > 1}
    fig, ax = plt.subplots(figsize=(8, 5))
    if points:
        finals = np.array([p[-1][1] for p in points.values()])
        norm = mcolors.Normalize(vmin=float(finals.min()), vmax=float(max(finals.max(), finals.min() + 1e-12)))
        colormap = plt.get_cmap(cmap)
        for cid in sorted(points, key=lambda c: -points[c][-1][1]):
            b, loss = np.array(points[cid]).T
            ax.plot(b, loss, "o-", ms=3, lw=1, alpha=0.8, color=colormap(norm(points[cid][-1][1])))
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=colormap), ax=ax,
                     label="loss on the largest budget reached")
        if log_x:
            ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        budgets = sorted({b for p in points.values() for b, _ in p})
        if len(budgets) <= 12:  # label the budgets themselves
            ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    else:
        _no_data(ax, "no finite losses")
    ax.set_xlabel("budget")
    ax.set_ylabel("loss")
    ax.set_title(f"Learning curves ({len(points)} configurations)")
    fig.tight_layout()
    _done(fig, show)
    return fig, ax
