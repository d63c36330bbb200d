"""Figures of a run, drawn with matplotlib (install the ``plots`` extra: ``pip install bandster[plots]``).

HpBandSter's functions keep their names, arguments and return shapes: :func:`losses_over_time`,
:func:`concurrent_runs_over_time`, :func:`finished_runs_over_time`, :func:`correlation_across_budgets`,
:func:`performance_histogram_model_vs_random`, :func:`interactive_HBS_plot` and :func:`default_tool_tips`.
Their bugs are fixed: the histogram works for runs without a model (Hyperband, random search), the interactive
plot honours ``log_x`` and ``colors_floats``, and ``num_points`` is accepted (the concurrency curve is exact).

New plots, each returning ``(fig, ax)``: :func:`incumbent_over_time` (incumbent or regret over time),
:func:`worker_timeline` (which worker ran what, when), :func:`parallel_coordinates` (configurations coloured by
loss), :func:`hyperparameter_scatter` (two hyperparameters against the loss), :func:`learning_curves`,
:func:`intermediate_values` (every reported value of every job against its step, stop decisions marked),
:func:`hyperparameter_importance` (functional ANOVA per budget; needs scikit-learn), :func:`hyperparameter_slices`
(Optuna's slice plot) and :func:`compare` (several runs' incumbents over time and budget spent, with a band over
seeds; returns ``(fig, axes)``); for PBT runs :func:`pbt_schedule` (the best member's hyperparameters over the
budget) and :func:`pbt_population` (every member's loss over the budget, exploits marked).

One module per figure (``bandster.visualization.losses``, ``.incumbent``, ...), each with a function computing the
figure's data as plain dicts, lists and numpy arrays (``get_<figure>_info``, public, all gathered in
:mod:`bandster.visualization.data`) and the function drawing it, as Optuna splits them. The data functions need no
matplotlib, and importing this package does not import it: matplotlib is imported when a figure is drawn
(:func:`interactive_HBS_plot`, all widgets, is the exception: its module is loaded on first use).

No function calls ``plt.show()`` unless ``show=True`` (:func:`interactive_HBS_plot` shows itself only when
matplotlib's backend is interactive, unless told otherwise). Times are seconds since the start of the run (the
Result's ``time_ref``); warm-start runs, which ran before, have negative times.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from bandster.records.result import Result, Run
>>> runs = [Run((0, 0, 0), 1.0, 0.5, {}, {"submitted": 0, "started": 0, "finished": 1}, None, worker_name="w")]
>>> fig, ax = losses_over_time(runs)
>>> ax.get_ylabel()
'loss'
"""

from __future__ import annotations

from typing import Any

from bandster.visualization._utils import budget_colors
from bandster.visualization.comparison import compare
from bandster.visualization.concurrent_runs import concurrent_runs_over_time
from bandster.visualization.correlation import correlation_across_budgets
from bandster.visualization.curves import learning_curves
from bandster.visualization.finished_runs import finished_runs_over_time
from bandster.visualization.histogram import performance_histogram_model_vs_random
from bandster.visualization.importance import hyperparameter_importance
from bandster.visualization.incumbent import incumbent_over_time
from bandster.visualization.intermediate import intermediate_values
from bandster.visualization.losses import losses_over_time
from bandster.visualization.parallel import parallel_coordinates
from bandster.visualization.pbt import pbt_population, pbt_schedule
from bandster.visualization.scatter import hyperparameter_scatter
from bandster.visualization.slices import hyperparameter_slices
from bandster.visualization.timeline import worker_timeline
from bandster.visualization.tool_tips import default_tool_tips

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
    "intermediate_values",
    "hyperparameter_importance",
    "hyperparameter_slices",
    "compare",
    "pbt_schedule",
    "pbt_population",
    "budget_colors",
]


def __getattr__(name: str) -> Any:
    """:func:`interactive_HBS_plot` is loaded on first use: its module needs matplotlib to be imported."""
    if name == "interactive_HBS_plot":
        from bandster.visualization.interactive import interactive_HBS_plot

        return interactive_HBS_plot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
