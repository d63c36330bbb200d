"""HpBandSter's interactive learning curves: a check box per iteration (and one for warm-start data), 'none'/'all'
buttons and tool tips.

A matplotlib-only figure (its widgets are matplotlib's): importing this module needs matplotlib; the package
imports it only when :func:`interactive_HBS_plot` is used. The tool tips' text comes from
:func:`bandster.visualization.tool_tips.default_tool_tips`, which needs no matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bandster.visualization._utils import pyplot

plt = pyplot()  # the error names the extra to install when matplotlib is missing
import matplotlib  # noqa: E402


def _done(fig: Any, show: bool) -> None:
    if show:
        plt.show()


WARMSTART_LABEL = "warmstart data"


def get_interactive_info(config_ids: list) -> dict[str, list]:
    """The check boxes of :func:`interactive_HBS_plot`: ``{label: config ids}``, one per iteration (in order),
    ``'warmstart data'`` for iteration -1 (the runs of a warm start), as in HpBandSter.

    Examples
    --------
    >>> get_interactive_info([(0, 0, 0), (1, 0, 0), (0, 0, 1), (-1, 0, 0)])
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

    check_ax = fig.add_axes((0.72, 0.2, 0.26, 0.7))
    groups = get_interactive_info(ids)
    group_lines = {label: [line for c in members for line in lines[c]] for label, members in groups.items()}
    labels = list(groups)
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
