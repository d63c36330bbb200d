"""What the figures of :mod:`bandster.visualization` share: run selection, time stamps, budget colours and
labels, the axes of hyperparameters, and matplotlib imported only when a figure is drawn."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from bandster.core._convert import is_finite_loss

FAILED_COLOR = "#d62728"


def pyplot() -> Any:
    """``matplotlib.pyplot``, with an error naming the extra to install when matplotlib is missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "drawing bandster's figures needs matplotlib, which is not installed: pip install 'bandster[plots]' "
            "(the figures' data functions, bandster.visualization.data, work without it)"
        ) from err
    return plt


# Results and runs are duck-typed here (no import of bandster.records.result): Result.importance calls into
# bandster.analysis.importance, which uses these helpers, and an import back would be a cycle.


def run_list(runs_or_result: Any) -> list[Any]:
    """A list of runs from a Result (all its runs, finish-time order) or an iterable of runs."""
    if hasattr(runs_or_result, "get_all_runs"):
        return runs_or_result.get_all_runs()
    return list(runs_or_result)


def stamp(run: Any, key: str) -> float | None:
    """The run's time stamp ``key`` as a finite float, or None."""
    stamps = run.time_stamps
    if type(stamps) is dict:  # the usual case, first
        value = stamps.get(key)
        if type(value) is float and value - value == 0.0:  # finite
            return value
    elif not isinstance(stamps, Mapping):
        return None
    value = stamps.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


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
    colormap = pyplot().get_cmap(cmap) if isinstance(cmap, str) else cmap
    if getattr(colormap, "N", 256) <= 20:  # a qualitative map: take its colours in order
        return {b: colormap(i % colormap.N) for i, b in enumerate(ordered)}
    n = max(len(ordered) - 1, 1)
    return {b: colormap(0.1 + 0.8 * i / n) for i, b in enumerate(ordered)}


def budget_label(budget: float) -> str:
    """``'budget 9'`` or ``'budget 0.333'``."""
    return f"budget {int(budget)}" if float(budget).is_integer() else f"budget {budget:.4g}"


def finish(fig: Any, show: bool) -> None:
    """Lay the figure out and show it when asked."""
    fig.tight_layout()
    if show:
        pyplot().show()


def no_data(ax: Any, message: str) -> None:
    """Write ``message`` in the middle of an empty axes."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")


def short_worker(name: str) -> str:
    """A worker's name without its run id and host prefix."""
    marker = ".worker."
    return name.split(marker, 1)[1] if marker in name else name


def configs_at_budget(result: Any, budget: float | None) -> tuple[float | None, list[tuple[tuple, dict, float]]]:
    """``(budget, [(config_id, config, loss)])``: finite-loss runs on ``budget`` (default: the largest budget
    with at least two of them, else the largest with any)."""
    by_budget: dict[float, list[tuple[tuple, dict, float]]] = {}
    runs = [r for r in result.get_all_runs() if is_finite_loss(r.loss)]
    configs = {cid: entry["config"] for cid, entry in result.get_id2config_mapping().items()} if runs else {}
    for r in runs:
        config = configs.get(r.config_id)
        by_budget.setdefault(float(r.budget), []).append(
            (r.config_id, dict(config) if isinstance(config, Mapping) else {}, float(r.loss)))
    if budget is None:
        candidates = [b for b, rows in by_budget.items() if len(rows) >= 2] or list(by_budget)
        budget = max(candidates) if candidates else None
    return budget, by_budget.get(float(budget), []) if budget is not None else []


class Axis:
    """How one hyperparameter maps to a coordinate in [0, 1].

    Parameters
    ----------
    name : str
    values : list
        The values seen (None for inactive).
    hp : Hyperparameter, optional
        Gives the range, log scale and category order; without it they come from ``values``.
    """

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
        """``[(position in [0, 1], label)]``."""
        if self.levels is not None:
            n = len(self.levels)
            return [(self.unit(level), str(level)) for level in self.levels] if n > 1 else [(0.5, str(self.levels[0]))]
        return [(0.0, f"{self.lower:.3g}"), (1.0, f"{self.upper:.3g}")]


def hp_lookup(configspace: Any) -> dict[str, Any]:
    """``{name: hyperparameter}`` of a ConfigSpace space (empty without one)."""
    if configspace is None:
        return {}
    try:
        return {hp.name: hp for hp in configspace.values()}
    except AttributeError:
        return {}
