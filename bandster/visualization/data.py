"""The data of every figure of :mod:`bandster.visualization`, without matplotlib.

Each figure's module splits the computation of its data from its drawing (as Optuna does); the data functions
are public and gathered here, for other plotting libraries (the HTML report and the dashboard draw their
plotly.js figures from them, :mod:`bandster.analysis.figures`) and for tests. They return plain dicts, lists and
numpy arrays, and importing this module imports no matplotlib.

- :func:`get_losses_info`: the data of :func:`~bandster.visualization.losses_over_time`
- :func:`get_concurrent_runs_info`: the data of :func:`~bandster.visualization.concurrent_runs_over_time`
- :func:`get_finished_runs_info`: the data of :func:`~bandster.visualization.finished_runs_over_time`
- :func:`get_correlation_info`: the data of :func:`~bandster.visualization.correlation_across_budgets`
- :func:`get_histogram_info`: the data of :func:`~bandster.visualization.performance_histogram_model_vs_random`
- :func:`get_incumbent_info`: the data of :func:`~bandster.visualization.incumbent_over_time`
- :func:`get_worker_timeline_info`: the data of :func:`~bandster.visualization.worker_timeline`
- :func:`get_parallel_coordinates_info`: the data of :func:`~bandster.visualization.parallel_coordinates`
- :func:`get_hyperparameter_scatter_info`: the data of :func:`~bandster.visualization.hyperparameter_scatter`
- :func:`get_learning_curves_info`: the data of :func:`~bandster.visualization.learning_curves`
- :func:`get_importance_info`: the data of :func:`~bandster.visualization.hyperparameter_importance`
- :func:`get_slice_info`: the data of :func:`~bandster.visualization.hyperparameter_slices`
- :func:`get_compare_info`: the data of :func:`~bandster.visualization.compare`
- :func:`get_intermediate_values_info`: the data of :func:`~bandster.visualization.intermediate_values`
- :func:`get_pbt_schedule_info`: the data of :func:`~bandster.visualization.pbt_schedule`
- :func:`get_pbt_population_info`: the data of :func:`~bandster.visualization.pbt_population`

(:func:`~bandster.visualization.interactive_HBS_plot`'s data, ``get_interactive_info``, stays in its module,
which needs matplotlib.)

Examples
--------
>>> from bandster.records.result import Run
>>> runs = [Run((0, 0, 0), 1.0, 0.5, {}, {"submitted": 0, "started": 0, "finished": 1}, None, worker_name="w")]
>>> info = get_losses_info(runs)
>>> list(info["per_budget"]), info["per_budget"][1.0]["best_so_far"].tolist()
([1.0], [0.5])
"""

from __future__ import annotations

from bandster.visualization.comparison import get_compare_info
from bandster.visualization.concurrent_runs import get_concurrent_runs_info
from bandster.visualization.correlation import get_correlation_info
from bandster.visualization.curves import get_learning_curves_info
from bandster.visualization.finished_runs import get_finished_runs_info
from bandster.visualization.histogram import get_histogram_info
from bandster.visualization.importance import get_importance_info
from bandster.visualization.incumbent import get_incumbent_info
from bandster.visualization.intermediate import get_intermediate_values_info
from bandster.visualization.losses import get_losses_info
from bandster.visualization.parallel import get_parallel_coordinates_info
from bandster.visualization.pbt import get_pbt_population_info, get_pbt_schedule_info
from bandster.visualization.scatter import get_hyperparameter_scatter_info
from bandster.visualization.slices import get_slice_info
from bandster.visualization.timeline import get_worker_timeline_info

__all__ = [
    "get_compare_info",
    "get_concurrent_runs_info",
    "get_correlation_info",
    "get_finished_runs_info",
    "get_histogram_info",
    "get_hyperparameter_scatter_info",
    "get_importance_info",
    "get_incumbent_info",
    "get_pbt_population_info",
    "get_pbt_schedule_info",
    "get_intermediate_values_info",
    "get_learning_curves_info",
    "get_losses_info",
    "get_parallel_coordinates_info",
    "get_slice_info",
    "get_worker_timeline_info",
]
