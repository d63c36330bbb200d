"""Interactive figures of a run for the report and the dashboard: plotly.js figure specifications.

Each function here turns the data of a figure of :mod:`bandster.visualization` (its ``get_*_info`` function, in
:mod:`bandster.visualization.data`) into a plotly.js specification, a plain JSON-able dict ``{"data": [...],
"layout": {...}}`` that the page draws with ``Plotly.newPlot`` (plotly.js comes from the ``plotly`` package:
install the ``report`` extra). Building the dicts needs neither plotly nor matplotlib. Hovering over a point shows
its configuration, budget and loss; every figure zooms and pans; losses are on a log axis when they are positive
and span more than two decades, budgets when they span more than one.

Examples
--------
>>> from bandster.records.result import Result, Run
>>> from bandster.core.base_iteration import Datum
>>> d = Datum({"x": 0.5}, {}, budget=1.0)
>>> d.results[1.0] = {"loss": 0.3, "info": None}
>>> d.time_stamps[1.0] = {"submitted": 0.0, "started": 0.0, "finished": 1.0}
>>> result = Result([{(0, 0, 0): d}], {"max_budget": 1.0, "time_ref": 0.0})
>>> [name for name, _, _ in interactive_figures(result)][:2]
['incumbent_over_time', 'losses_over_time']
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from bandster.records.format import paused_gc
from bandster.records.result import Result

logger = logging.getLogger(__name__)

__all__ = ["interactive_figures", "comparison_figures", "config_text", "scatter_pair", "PLOTLY_CONFIG",
           "intermediate_values_figure"]

#: plotly.js options of every figure
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "scrollZoom": False}
#: above this many points a scatter is drawn with WebGL (``scattergl``)
WEBGL_POINTS = 2000
_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]


def _list(values: Any) -> list:
    """JSON-able numbers: NaN and infinities become None."""
    if not isinstance(values, list):
        array = np.asarray(values, dtype=float)
        values = array.tolist()
        if np.isfinite(array).all():
            return values
    return [None if isinstance(v, float) and v - v != 0.0 else v for v in values]  # v - v: NaN unless finite


def _cid(config_id: Iterable) -> str:
    return "(" + ", ".join(str(v) for v in config_id) + ")"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def config_text(config: Mapping | None, width: int = 60) -> str:
    """A configuration as hover text: ``name=value`` pairs, several to a line."""
    if not config:
        return ""
    lines, line = [], ""
    for key, value in config.items():
        part = html.escape(f"{key}={_fmt(value)}", quote=False)
        if line and len(line) + len(part) + 2 > width:
            lines.append(line)
            line = part
        else:
            line = f"{line}, {part}" if line else part
    lines.append(line)
    return "<br>".join(lines)


def _log_helps(values: Any, ratio: float = 100.0) -> bool:
    finite = [v for v in _list(values) if v is not None]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > ratio


def _layout(title: str, x: str, y: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 15}}, "height": 440, "margin": {"l": 70, "r": 30, "t": 50, "b": 55},
        "hovermode": "closest", "xaxis": {"title": {"text": x}}, "yaxis": {"title": {"text": y}},
        "legend": {"orientation": "h", "y": -0.18}, "template": None, "plot_bgcolor": "#fff",
    }
    for axis in ("xaxis", "yaxis"):
        layout[axis].update({"gridcolor": "#e5e5e5", "zeroline": False, "linecolor": "#999", "showline": True})
    for key, value in extra.items():
        if key in ("xaxis", "yaxis") and isinstance(value, dict):
            layout[key].update(value)
        else:
            layout[key] = value
    return layout


def _scatter(n: int) -> str:
    return "scattergl" if n > WEBGL_POINTS else "scatter"


class _Hover:
    """Hover texts of configurations: id, budget, loss and (``detail``) the configuration's values."""

    def __init__(self, configs: Mapping[tuple, Any]) -> None:
        self._configs = configs
        self._cache: dict[tuple, str] = {}

    def __call__(self, config_id: tuple, budget: float | None = None, loss: float | None = None,
                 detail: bool = True) -> str:
        config_id = tuple(config_id)
        head = f"<b>{_cid(config_id)}</b>"
        if budget is not None:
            head += f"  budget {_fmt(float(budget))}"
        if loss is not None and math.isfinite(loss):
            head += f"  loss {loss:.6g}"
        if not detail:
            return head
        text = self._cache.get(config_id)
        if text is None:
            text = self._cache[config_id] = config_text(self._configs.get(config_id))
        return head + ("<br>" + text if text else "")


#: above this many points in one figure, hovering shows a point's id, budget and loss but not its configuration
#: (the page would carry every configuration's text; the runs table has them)
DETAILED_HOVER_POINTS = 20000


# --- one function per figure ----------------------------------------------------------------------------


def incumbent_figure(info: dict, hover: Callable[..., str]) -> dict:
    """The incumbent's loss over time (a step line; markers coloured by budget)."""
    times, values, budgets = _list(info["times"]), _list(info["values"]), _list(info["budgets"])
    texts = [hover(cid, b, v) for cid, b, v in zip(info["config_ids"], budgets, values, strict=True)]
    trace = {"type": "scatter", "mode": "lines+markers", "x": times, "y": values, "line": {"shape": "hv"},
             "text": texts, "hovertemplate": "%{text}<br>after %{x:.4g} s<extra></extra>", "name": "incumbent",
             "marker": {"color": budgets, "colorscale": "Viridis", "size": 8, "showscale": bool(budgets),
                        "colorbar": {"title": {"text": "budget"}}}}
    label = "regret" if info.get("regret") else info.get("label", "incumbent's loss")
    return {"data": [trace], "layout": _layout("Incumbent over time", "seconds since the start", label,
                                               yaxis={"type": "log" if _log_helps(values) else "linear"})}


def losses_figure(info: dict, hover: Callable[..., str]) -> dict:
    """Every run's loss when it finished, per budget, with the best loss so far."""
    traces = []
    all_losses: list[float] = []
    for k, budget in enumerate(info["per_budget"]):
        entry = info["per_budget"][budget]
        color = _COLORS[k % len(_COLORS)]
        losses = _list(entry["losses"])
        all_losses.extend(v for v in losses if v is not None)
        detail = sum(len(e["losses"]) for e in info["per_budget"].values()) <= DETAILED_HOVER_POINTS
        texts = [hover(cid, budget, loss, detail) for cid, loss in zip(entry["config_ids"], losses, strict=True)]
        traces.append({"type": _scatter(len(losses)), "mode": "markers", "x": _list(entry["times"]), "y": losses,
                       "name": f"budget {_fmt(float(budget))}", "legendgroup": str(budget), "text": texts,
                       "hovertemplate": "%{text}<br>finished after %{x:.4g} s<extra></extra>",
                       "marker": {"color": color, "size": 6, "opacity": 0.7}})
        traces.append({"type": "scatter", "mode": "lines", "x": _list(entry["times"]),
                       "y": _list(entry["best_so_far"]), "line": {"shape": "hv", "color": color},
                       "legendgroup": str(budget), "showlegend": False, "hoverinfo": "skip"})
    failed = _list(info.get("failed_times", []))
    if failed:
        top = max(all_losses) if all_losses else 1.0
        traces.append({"type": _scatter(len(failed)), "mode": "markers", "x": failed, "y": [top] * len(failed),
                       "name": "failed", "text": [hover(cid) + "<br>failed" for cid in info["failed_config_ids"]],
                       "hovertemplate": "%{text}<extra></extra>",
                       "marker": {"color": "#d62728", "symbol": "x", "size": 7}})
    return {"data": traces, "layout": _layout("Losses over time", "seconds since the start", info.get("label", "loss"),
                                              yaxis={"type": "log" if _log_helps(all_losses) else "linear"})}


def learning_curves_figure(info: dict, hover: Callable[..., str], max_curves: int = 300) -> dict:
    """Each configuration's loss over the budgets it reached (the best ``max_curves``)."""
    curves = info["curves"][-max_curves:]  # worst first: the last are the best
    traces, budgets, losses = [], [], []
    for curve in curves:
        b, y = _list(curve["budgets"]), _list(curve["losses"])
        budgets.extend(v for v in b if v is not None)
        losses.extend(v for v in y if v is not None)
        traces.append({"type": "scatter", "mode": "lines+markers", "x": b, "y": y, "showlegend": False,
                       "text": [hover(curve["config_id"], bb, yy) for bb, yy in zip(b, y, strict=True)],
                       "hovertemplate": "%{text}<extra></extra>", "line": {"width": 1}, "marker": {"size": 4}})
    return {"data": traces, "layout": _layout("Learning curves", "budget", "loss",
                                              xaxis={"type": "log" if _log_helps(budgets, 10) else "linear"},
                                              yaxis={"type": "log" if _log_helps(losses) else "linear"})}


def intermediate_values_figure(info: dict, hover: Callable[..., str], max_points: int = 50000) -> dict:
    """Every job's reported values against the step (one line per job, coloured by its last value, best on
    top); red crosses mark the reports at which the scheduler stopped a job."""
    traces, losses, steps = [], [], []
    finals = [c["final"] for c in info["curves"] if math.isfinite(c["final"])]
    low, high = (min(finals), max(finals)) if finals else (0.0, 1.0)
    detail = info["n_reports"] <= DETAILED_HOVER_POINTS
    scale = [[0.0, "#440154"], [0.5, "#21918c"], [1.0, "#fde725"]]
    kept = 0
    for curve in reversed(info["curves"]):  # the best first, so that a cap on points drops the worst
        if kept >= max_points:
            break
        kept += len(curve["steps"])
        x, y = _list(curve["steps"]), _list(curve["losses"])
        steps.extend(v for v in x if v is not None)
        losses.extend(v for v in y if v is not None)
        where = (curve["final"] - low) / (high - low) if high > low and math.isfinite(curve["final"]) else 0.0
        color = _interpolate(scale, 1.0 - where)
        head = hover(curve["config_id"], curve["budget"], None, detail)
        attempt = f", attempt {curve['attempt']}" if curve["attempt"] not in (None, 1) else ""
        texts = [f"{head}<br>step {_fmt(s)}: {_fmt(v) if v is not None else 'not finite'} ({d or '?'}){attempt}"
                 for s, v, d in zip(x, y, curve["decisions"], strict=True)]
        traces.append({"type": _scatter(len(x)), "mode": "lines+markers", "x": x, "y": y, "showlegend": False,
                       "text": texts, "hovertemplate": "%{text}<extra></extra>", "line": {"width": 1,
                                                                                          "color": color},
                       "marker": {"size": 3, "color": color}, "name": _cid(curve["config_id"]),
                       "meta": {"status": curve["status"]}})
    traces.reverse()  # the worst drawn first, the best on top
    stops = info["stops"]
    if len(stops["steps"]):
        sx, sy = _list(stops["steps"]), _list(stops["losses"])
        traces.append({"type": "scatter", "mode": "markers", "x": sx, "y": sy, "name": "stopped here",
                       "text": [hover(cid, None, None, False) + "<br>stopped" for cid in stops["config_ids"]],
                       "hovertemplate": "%{text} at step %{x:.4g}, value %{y:.4g}<extra></extra>",
                       "marker": {"color": "#d62728", "symbol": "x", "size": 9}})
    title = f"Intermediate values ({len(info['curves'])} jobs, {len(stops['steps'])} stopped)"
    return {"data": traces, "layout": _layout(title, "step", "reported loss",
                                              xaxis={"type": "log" if _log_helps(steps, 100) else "linear"},
                                              yaxis={"type": "log" if _log_helps(losses) else "linear"})}


def _interpolate(scale: list[list], t: float) -> str:
    """The colour at ``t`` in [0, 1] of a colour scale ``[[position, '#rrggbb'], ...]``."""
    t = min(max(t, 0.0), 1.0)
    for (p0, c0), (p1, c1) in zip(scale, scale[1:], strict=False):
        if t <= p1:
            u = 0.0 if p1 == p0 else (t - p0) / (p1 - p0)
            a = [int(c0[i:i + 2], 16) for i in (1, 3, 5)]
            b = [int(c1[i:i + 2], 16) for i in (1, 3, 5)]
            return "#" + "".join(f"{round(x + u * (y - x)):02x}" for x, y in zip(a, b, strict=True))
    return scale[-1][1]


def parallel_coordinates_figure(info: dict, hover: Callable[..., str]) -> dict:
    """The configurations of one budget on parallel axes, coloured by loss (drag along an axis to filter)."""
    positions = np.asarray(info["positions"], dtype=float)
    dimensions = []
    for j, axis in enumerate(info["axes"]):
        ticks = axis["ticks"]
        dimensions.append({"label": axis["name"] + (" (log)" if axis["log"] else ""), "range": [0, 1],
                           "values": _list(positions[:, j]) if len(positions) else [],
                           "tickvals": [p for p, _ in ticks], "ticktext": [t for _, t in ticks]})
    losses = _list(info["losses"])
    dimensions.append({"label": "loss", "values": losses})
    trace = {"type": "parcoords", "dimensions": dimensions,
             "line": {"color": losses, "colorscale": "Viridis", "reversescale": True, "showscale": True,
                      "colorbar": {"title": {"text": "loss"}}}}
    budget = info.get("budget")
    title = "Parallel coordinates" + (f" on budget {_fmt(float(budget))}" if budget is not None else "")
    layout = _layout(title, "", "")
    layout.pop("xaxis"), layout.pop("yaxis")
    layout["margin"] = {"l": 60, "r": 60, "t": 80, "b": 30}
    return {"data": [trace], "layout": layout}


def scatter_figure(info: dict, hover: Callable[..., str]) -> dict:
    """Two hyperparameters against the loss (colour); the best configuration ringed."""
    losses = _list(info["losses"])
    budget = info.get("budget")
    detail = len(losses) <= DETAILED_HOVER_POINTS
    texts = [hover(cid, budget, loss, detail) for cid, loss in zip(info["config_ids"], losses, strict=True)]
    axes = {}
    for key in ("x", "y"):
        entry = info[key]
        axis: dict[str, Any] = {"title": {"text": entry["name"]}}
        if entry.get("levels") is not None:
            axis.update(tickvals=list(range(len(entry["levels"]))), ticktext=[str(v) for v in entry["levels"]])
        elif entry.get("log"):
            axis["type"] = "log"
        axes[key] = axis
    traces = [{"type": _scatter(len(losses)), "mode": "markers", "x": _list(info["x"]["values"]),
               "y": _list(info["y"]["values"]), "text": texts, "hovertemplate": "%{text}<extra></extra>",
               "showlegend": False,
               "marker": {"color": losses, "colorscale": "Viridis", "reversescale": True, "size": 8,
                          "showscale": True, "colorbar": {"title": {"text": "loss"}}}}]
    best = info.get("best")
    if best is not None:
        traces.append({"type": "scatter", "mode": "markers", "x": [_list(info["x"]["values"])[best]],
                       "y": [_list(info["y"]["values"])[best]], "name": "best", "hoverinfo": "skip",
                       "marker": {"size": 16, "color": "rgba(0,0,0,0)", "line": {"color": "#d62728", "width": 2}}})
    title = f"{info['x']['name']} and {info['y']['name']}" + (f" on budget {_fmt(float(budget))}"
                                                             if budget is not None else "")
    return {"data": traces, "layout": _layout(title, "", "", xaxis=axes["x"], yaxis=axes["y"])}


def correlation_figure(info: dict, hover: Callable[..., str]) -> dict:
    """Spearman's rank correlation of the losses between every two budgets."""
    labels = [_fmt(float(b)) for b in info["budgets"]]
    rho = [[None if not math.isfinite(v) else v for v in row] for row in np.asarray(info["rho"], float).tolist()]
    n = np.asarray(info["n"]).tolist()
    trace = {"type": "heatmap", "x": labels, "y": labels, "z": rho, "zmin": -1, "zmax": 1, "colorscale": "RdBu",
             "customdata": n, "hovertemplate": "budgets %{x} and %{y}<br>rho %{z:.3f}<br>%{customdata} "
                                               "configurations<extra></extra>"}
    return {"data": [trace], "layout": _layout("Rank correlation across budgets", "budget", "budget",
                                               xaxis={"type": "category"}, yaxis={"type": "category"})}


def histogram_figure(info: dict, hover: Callable[..., str]) -> dict:
    """The losses of model-based and of random configurations per budget, as box plots with their points."""
    traces = []
    for k, kind in enumerate(("model based", "random")):
        x, y = [], []
        for budget in info["budgets"]:
            values = [v for v in _list(list(info["losses"][budget].get(kind, []))) if v is not None]
            x.extend([f"budget {_fmt(float(budget))}"] * len(values))
            y.extend(values)
        if y:
            traces.append({"type": "box", "x": x, "y": y, "name": kind, "boxpoints": "all", "jitter": 0.4,
                           "pointpos": 0, "marker": {"color": _COLORS[k], "size": 4, "opacity": 0.6}})
    losses = [v for t in traces for v in t["y"]]
    return {"data": traces, "layout": _layout("Model-based and random configurations", "", "loss", boxmode="group",
                                              yaxis={"type": "log" if _log_helps(losses) else "linear"})}


def timeline_figure(info: dict, hover: Callable[..., str], max_bars: int = 20000) -> dict:
    """Which worker ran what, when: one bar per run (the last ``max_bars``), coloured by budget."""
    workers = list(info["workers"])
    rows, starts = np.asarray(info["row"]), _list(info["start"])
    durations, budgets = _list(info["duration"]), _list(info["budget"])
    failed = np.asarray(info["failed"], dtype=bool).tolist()
    keep = range(max(len(starts) - max_bars, 0), len(starts))
    by_budget: dict[Any, list[int]] = {}
    for i in keep:
        by_budget.setdefault("failed" if failed[i] else budgets[i], []).append(i)
    traces = []
    for k, (budget, idx) in enumerate(sorted(by_budget.items(), key=lambda kv: (isinstance(kv[0], str), kv[0]))):
        color = "#d62728" if budget == "failed" else _COLORS[k % len(_COLORS)]
        traces.append({"type": "bar", "orientation": "h", "base": [starts[i] for i in idx],
                       "x": [durations[i] for i in idx], "y": [workers[int(rows[i])] for i in idx],
                       "name": "failed" if budget == "failed" else f"budget {_fmt(budget)}",
                       "marker": {"color": color}, "width": 0.7,
                       "text": [hover(info["config_ids"][i], budgets[i], detail=len(keep) <= DETAILED_HOVER_POINTS)
                                for i in idx], "textposition": "none",
                       "hovertemplate": "%{text}<br>%{y}: from %{base:.4g} s for %{x:.4g} s<extra></extra>"})
    height = max(300, 60 + 28 * len(workers))
    return {"data": traces, "layout": _layout("Worker timeline", "seconds since the start", "", height=height,
                                              barmode="overlay", yaxis={"type": "category", "automargin": True})}


def concurrent_figure(info: dict, hover: Callable[..., str]) -> dict:
    """Runs in progress over time."""
    trace = {"type": "scatter", "mode": "lines", "x": _list(info["times"]), "y": _list(info["counts"]),
             "line": {"shape": "hv"}, "name": "running", "hovertemplate": "%{y} running at %{x:.4g} s<extra></extra>"}
    return {"data": [trace], "layout": _layout("Concurrent runs", "seconds since the start", "runs in progress")}


def finished_figure(info: dict, hover: Callable[..., str]) -> dict:
    """Finished runs over time, in total and per budget."""
    traces = []
    series = [("all", info["all"])] + [(f"budget {_fmt(float(b))}", t) for b, t in info["per_budget"].items()]
    if len(info.get("failed", [])):
        series.append(("failed", info["failed"]))
    for k, (name, times) in enumerate(series):
        times = sorted(v for v in _list(times) if v is not None)
        traces.append({"type": "scatter", "mode": "lines", "x": times, "y": list(range(1, len(times) + 1)),
                       "line": {"shape": "hv", "color": "#d62728" if name == "failed" else _COLORS[k % len(_COLORS)]},
                       "name": name, "hovertemplate": name + ": %{y} after %{x:.4g} s<extra></extra>"})
    return {"data": traces, "layout": _layout("Finished runs", "seconds since the start", "runs finished")}


# --- all of a run's figures ------------------------------------------------------------------------------


def pbt_schedule_figure(info: dict, hover: Callable[..., str]) -> dict:
    """PBT: the best member's hyperparameters over the budget (one step line per numeric hyperparameter, each
    scaled to its own axis range in the hover), exploits as dotted vertical lines."""
    traces, shapes = [], []
    for k, (name, h) in enumerate(info["hyperparameters"].items()):
        if not h["numeric"]:
            continue
        xs, ys = [], []
        for start, end, value in zip(_list(h["starts"]), _list(h["ends"]), _list(h["values"]), strict=True):
            xs += [start, end]
            ys += [value, value]
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": name,
                       "line": {"color": _COLORS[k % len(_COLORS)], "width": 2},
                       "yaxis": "y" if not traces else f"y{len(traces) + 1}",
                       "hovertemplate": f"{html.escape(name)} %{{y:.4g}} at budget %{{x:.4g}}<extra></extra>"})
    for budget, source in zip(info["exploits"]["budget"], info["exploits"]["source_member"], strict=True):
        shapes.append({"type": "line", "x0": budget, "x1": budget, "yref": "paper", "y0": 0, "y1": 1,
                       "line": {"dash": "dot", "color": "#d62728", "width": 1}, "name": f"from member {source}"})
    extra: dict[str, Any] = {"shapes": shapes}
    if traces:
        values = traces[0]["y"]
        extra["yaxis"] = {"type": "log" if _log_helps(values, 10) else "linear", "title": {"text": traces[0]["name"]}}
    for i, trace in enumerate(traces[1:], start=2):  # further hyperparameters on overlaid axes of their own
        extra[f"yaxis{i}"] = {"overlaying": "y", "side": "right", "title": {"text": trace["name"]},
                              "type": "log" if _log_helps(trace["y"], 10) else "linear", "showgrid": False}
    title = f"PBT schedule of member {info['member']} (dotted: copied another member's checkpoint)"
    return {"data": traces, "layout": _layout(title, "budget", "value", **extra)}


def pbt_population_figure(info: dict, hover: Callable[..., str]) -> dict:
    """PBT: every member's loss over the budget; crosses where a member copied another's checkpoint."""
    traces, losses = [], []
    for member, curve in info["members"].items():
        y = _list(curve["losses"])
        losses.extend(v for v in y if v is not None)
        traces.append({"type": "scatter", "mode": "lines+markers", "x": _list(curve["budgets"]), "y": y,
                       "name": f"member {member}", "line": {"width": 1, "color": _COLORS[member % len(_COLORS)]},
                       "marker": {"size": 4},
                       "hovertemplate": f"member {member}<br>budget %{{x:.4g}} loss %{{y:.6g}}<extra></extra>"})
    ex = info["exploits"]
    if ex["member"]:
        texts = [f"member {m} copied member {s} ({kind})" for m, s, kind in
                 zip(ex["member"], ex["source_member"], ex["kind"], strict=True)]
        traces.append({"type": "scatter", "mode": "markers", "x": ex["budget"], "y": ex["loss"], "text": texts,
                       "name": "exploit", "marker": {"symbol": "x", "size": 8, "color": "#000"},
                       "hovertemplate": "%{text}<br>budget %{x:.4g} loss %{y:.6g}<extra></extra>"})
    return {"data": traces, "layout": _layout("PBT population", "budget", "loss",
                                              yaxis={"type": "log" if _log_helps(losses) else "linear"})}


class _Snapshot:
    """A :class:`Result` as the figures read it: its runs and its configurations built once for all of them
    (each figure's data function would build them again; the figures only read them)."""

    def __init__(self, result: Result) -> None:
        self._result = result
        self.HB_config = result.HB_config
        self._all_runs: list | None = None
        self._mapping: dict | None = None

    def get_all_runs(self, only_largest_budget: bool = False) -> list:
        if only_largest_budget:
            return self._result.get_all_runs(only_largest_budget=True)
        if self._all_runs is None:
            self._all_runs = self._result.get_all_runs()
        return list(self._all_runs)

    def get_id2config_mapping(self) -> dict:
        if self._mapping is None:
            self._mapping = self._result.get_id2config_mapping()
        return self._mapping

    def __getitem__(self, config_id: tuple) -> Any:
        return self._result[config_id]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)


def scatter_pair(result: Result, configspace: Any) -> tuple[str, str] | None:
    """Two hyperparameters for the scatter plot: numerical ones first, in the space's order."""
    names: list[str] = []
    kinds: dict[str, bool] = {}
    if configspace is not None:
        for hp in configspace.values():
            names.append(hp.name)
            kinds[hp.name] = hasattr(hp, "lower")
    else:
        for entry in result.get_id2config_mapping().values():
            if isinstance(entry["config"], dict):
                for key, value in entry["config"].items():
                    if key not in kinds:
                        names.append(key)
                        kinds[key] = isinstance(value, int | float) and not isinstance(value, bool)
    ordered = [n for n in names if kinds.get(n)] + [n for n in names if not kinds.get(n)]
    return (ordered[0], ordered[1]) if len(ordered) >= 2 else None


def interactive_figures(result: Result, configspace: Any = None,
                        configs: Mapping[tuple, Mapping] | None = None) -> list[tuple[str, str, dict]]:
    """The interactive figures of a run: ``(name, caption, plotly spec)``.

    Warm-start runs (iteration -1, computed by an earlier run) are left out of the figures over time. A figure
    whose data cannot be computed is left out (logged). ``configs`` (``{config_id: configuration}``, default
    from ``result``) gives the hover texts.
    """
    with paused_gc():  # figures of a large run allocate many small objects: see paused_gc
        return _interactive_figures(_Snapshot(result), configspace, configs)


def _interactive_figures(result: Any, configspace: Any, configs: Mapping[tuple, Mapping] | None
                         ) -> list[tuple[str, str, dict]]:
    from bandster.visualization.data import (
        get_concurrent_runs_info,
        get_correlation_info,
        get_finished_runs_info,
        get_histogram_info,
        get_hyperparameter_scatter_info,
        get_incumbent_info,
        get_intermediate_values_info,
        get_learning_curves_info,
        get_losses_info,
        get_parallel_coordinates_info,
        get_pbt_population_info,
        get_pbt_schedule_info,
        get_worker_timeline_info,
    )

    if configs is None:
        configs = {cid: entry["config"] for cid, entry in result.get_id2config_mapping().items()}
    hover = _Hover(configs)
    all_runs = result.get_all_runs()
    own = [r for r in all_runs if not (r.config_id and r.config_id[0] == -1)]
    budgets = {float(r.budget) for r in all_runs if r.status != "failed"}
    plans: list[tuple[str, str, Callable[[], dict]]] = [
        ("incumbent_over_time", "The incumbent's loss over time; the markers' colours give its budget.",
         lambda: incumbent_figure(get_incumbent_info(result), hover)),
        ("losses_over_time", "Every run's loss when it finished, per budget; lines: the best loss so far. "
         "Red crosses: failed runs.", lambda: losses_figure(get_losses_info(own), hover)),
        ("learning_curves", "Each configuration's loss over the budgets it reached.",
         lambda: learning_curves_figure(get_learning_curves_info(result), hover)),
    ]
    if result.get_reports():
        plans.append(("intermediate_values", "Every job's reported values per step (Worker.report), coloured by its "
                      "last value; red crosses: where the scheduler stopped a job.",
                      lambda: intermediate_values_figure(get_intermediate_values_info(result, max_curves=300),
                                                         hover)))
    plans += [
        ("parallel_coordinates", "The configurations of the largest budget, coloured by loss; drag along an axis "
         "to keep a range.", lambda: parallel_coordinates_figure(
             get_parallel_coordinates_info(result, configspace=configspace), hover)),
    ]
    pair = scatter_pair(result, configspace)
    if pair is not None:
        plans.append(("hyperparameter_scatter", f"{pair[0]} and {pair[1]} against the loss.",
                      lambda: scatter_figure(get_hyperparameter_scatter_info(result, pair[0], pair[1],
                                                                              configspace=configspace), hover)))
    if len(budgets) >= 2:
        plans.append(("correlation_across_budgets", "How well each budget's ranking of the configurations agrees "
                      "with the others' (Spearman).", lambda: correlation_figure(get_correlation_info(result),
                                                                                 hover)))
    if result.get_pbt_members():
        plans.append(("pbt_schedule", "PBT: the best member's hyperparameters over the budget (the schedule it "
                      "inherited through its exploits, dotted).",
                      lambda: pbt_schedule_figure(get_pbt_schedule_info(result), hover)))
        plans.append(("pbt_population", "PBT: every member's loss over the budget; crosses: a member copied the "
                      "checkpoint at that budget and loss.",
                      lambda: pbt_population_figure(get_pbt_population_info(result), hover)))
    plans += [
        ("performance_histogram_model_vs_random", "Losses of model-based and of random configurations per budget.",
         lambda: histogram_figure(get_histogram_info(all_runs, result.get_id2config_mapping()), hover)),
        ("worker_timeline", "Which worker ran what, when; gaps are idle time.",
         lambda: timeline_figure(get_worker_timeline_info(own), hover)),
        ("concurrent_runs_over_time", "Runs in progress over time.",
         lambda: concurrent_figure(get_concurrent_runs_info(own), hover)),
        ("finished_runs_over_time", "Finished runs over time.",
         lambda: finished_figure(get_finished_runs_info(own), hover)),
    ]
    figures = []
    for name, caption, build in plans:
        try:
            figures.append((name, caption, build()))
        except Exception:  # one figure's data must not cost the others
            logger.exception("the interactive figure %s could not be made", name)
    return figures


def comparison_figures(info: dict) -> list[tuple[str, str, dict]]:
    """Incumbent trajectories of several runs overlaid: over wall-clock time and over budget spent.

    ``info`` is what :func:`bandster.analysis.compare.compare_info` returns (the data of
    :func:`bandster.visualization.compare`, each run named): ``groups``, each with a ``label``, its ``runs`` (each
    with ``name``, ``time``, ``spent``, ``value`` and ``config_ids``) and, for several runs, the band over them per
    axis (``time`` and ``spent``: ``x``, ``median``, ``q25``, ``q75``).
    """
    figures = []
    ylabel = "regret" if info.get("regret") else "incumbent's loss"
    for axis, title, xlabel in (("time", "Incumbent over wall-clock time", "seconds since the start"),
                                ("spent", "Incumbent over budget spent", "budget spent (sum of the finished runs' "
                                                                          "budgets)")):
        traces = []
        values: list[float] = []
        for k, group in enumerate(info["groups"]):
            color = _COLORS[k % len(_COLORS)]
            band = group.get(axis)
            many = len(group["runs"]) > 1
            if band is not None:
                x = _list(band["x"])
                traces.append({"type": "scatter", "mode": "lines", "x": x + x[::-1],
                               "y": _list(band["q75"]) + _list(band["q25"])[::-1], "fill": "toself",
                               "fillcolor": color, "opacity": 0.2, "line": {"width": 0, "shape": "hv"},
                               "hoverinfo": "skip", "legendgroup": group["label"], "showlegend": False})
                traces.append({"type": "scatter", "mode": "lines", "x": x, "y": _list(band["median"]),
                               "line": {"shape": "hv", "color": color, "width": 3},
                               "name": f"{group['label']}: median of {len(group['runs'])} (band: quartiles)",
                               "legendgroup": group["label"],
                               "hovertemplate": html.escape(group["label"]) + " median %{y:.6g} at %{x:.4g}"
                                                                              "<extra></extra>"})
            for run in group["runs"]:
                y = _list(run["value"])
                values.extend(v for v in y if v is not None)
                name = html.escape(str(run.get("name", group["label"])))
                traces.append({"type": "scatter", "mode": "lines+markers", "x": _list(run[axis]), "y": y,
                               "line": {"shape": "hv", "color": color, "width": 1 if many else 2},
                               "marker": {"size": 4}, "opacity": 0.55 if many else 1.0, "name": name,
                               "legendgroup": group["label"], "text": [_cid(c) for c in run["config_ids"]],
                               "hovertemplate": name + "<br>incumbent %{text}<br>" + ylabel
                                                + " %{y:.6g} at %{x:.4g}<extra></extra>"})
        layout = _layout(title, xlabel, ylabel, yaxis={"type": "log" if _log_helps(values) else "linear"})
        if axis == "spent" and any(_log_helps(r["spent"], 10) for g in info["groups"] for r in g["runs"]):
            layout["xaxis"]["type"] = "log"
        figures.append((f"compare_{axis}", f"{title}: one line per run; for several runs of one optimizer, their "
                        "median and the band between the quartiles.", {"data": traces, "layout": layout}))
    return figures
