"""The package as a whole: the data functions import and work without matplotlib, every public name of the old
module is still there, the runs the figure tests use have what they need, and every figure survives empty input."""

import os
import pkgutil
import subprocess
import sys

import matplotlib.pyplot as plt

from bandster import visualization as vis
from bandster.core.result import Result, Run

FIGURE_MODULES = {
    "concurrent_runs": "get_concurrent_runs_info", "correlation": "get_correlation_info",
    "curves": "get_learning_curves_info", "finished_runs": "get_finished_runs_info",
    "histogram": "get_histogram_info", "incumbent": "get_incumbent_info", "losses": "get_losses_info",
    "parallel": "get_parallel_coordinates_info", "scatter": "get_hyperparameter_scatter_info",
    "timeline": "get_worker_timeline_info", "slices": "get_slice_info", "comparison": "get_compare_info",
    "importance": "get_importance_info",
}

WITHOUT_MATPLOTLIB = r"""
import sys
sys.modules["matplotlib"] = None  # any "import matplotlib..." now raises ImportError
sys.path.insert(0, sys.argv[1])
import importlib
from analysis_helpers import known_result
import bandster.visualization as vis
result = known_result()
calls = {
    "concurrent_runs": lambda f: f(result), "correlation": lambda f: f(result), "curves": lambda f: f(result),
    "finished_runs": lambda f: f(result), "histogram": lambda f: f(result, result.get_id2config_mapping()),
    "incumbent": lambda f: f(result), "losses": lambda f: f(result), "parallel": lambda f: f(result),
    "scatter": lambda f: f(result, "x", "kind"), "timeline": lambda f: f(result), "slices": lambda f: f(result),
    "comparison": lambda f: f([result, result], ["A", "A"]), "importance": lambda f: f(result),
}
for module, function in %r.items():
    info = calls[module](getattr(importlib.import_module("bandster.visualization." + module), function))
    assert isinstance(info, dict) and info, module
assert vis.default_tool_tips(result, result.get_learning_curves())
try:
    vis.losses_over_time(result)
except ImportError as err:
    assert "pip install 'bandster[plots]'" in str(err), err
else:
    raise AssertionError("drawing without matplotlib should fail")
try:
    vis.interactive_HBS_plot
except ImportError as err:
    assert "bandster[plots]" in str(err), err
else:
    raise AssertionError("the interactive plot without matplotlib should fail")
assert not any(name.startswith("matplotlib.") for name in sys.modules)
print("ok")
"""


def test_data_functions_need_no_matplotlib():
    helpers = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "helpers")
    proc = subprocess.run([sys.executable, "-c", WITHOUT_MATPLOTLIB % FIGURE_MODULES, helpers], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_public_names():
    for name in vis.__all__:
        assert callable(getattr(vis, name)), name
    modules = {module.name for module in pkgutil.iter_modules(vis.__path__)}
    assert set(FIGURE_MODULES) < modules and not modules & set(vis.__all__)  # no module hides a function
    from bandster.visualization import interactive_HBS_plot  # noqa: F401 - loaded on first use


def test_the_run_is_what_the_plots_need(bohb_result):
    runs = bohb_result.get_all_runs()
    assert {r.budget for r in runs} == {1.0, 3.0, 9.0}
    assert any(r.status == "failed" for r in runs), "the run should have failures to plot"
    infos = [d["config_info"] for d in bohb_result.get_id2config_mapping().values()]
    assert any(i.get("model_based_pick") for i in infos) and any(not i.get("model_based_pick") for i in infos)


def test_plots_survive_empty_and_failed_only_runs(tmp_path, shows):
    empty = Result([{}], {"time_ref": 0, "min_budget": 1, "max_budget": 9, "budgets": [1.0, 3.0, 9.0]})
    failed = [Run((0, 0, 0), 1.0, None, None, {"submitted": 0, "started": 0, "finished": 1}, "boom",
                  worker_name="w")]
    figures = [
        vis.losses_over_time([])[0], vis.losses_over_time(failed)[0], vis.concurrent_runs_over_time([])[0],
        vis.finished_runs_over_time([])[0], vis.correlation_across_budgets(empty)[0],
        vis.performance_histogram_model_vs_random([], {})[0], vis.incumbent_over_time(empty)[0],
        vis.worker_timeline([])[0], vis.parallel_coordinates(empty)[0], vis.hyperparameter_scatter(empty, "x", "y")[0],
        vis.learning_curves(empty)[0], vis.interactive_HBS_plot({}, show=False)[0],
    ]
    for k, fig in enumerate(figures):
        fig.savefig(tmp_path / f"empty{k}.png", dpi=50)
        plt.close(fig)
    assert shows == []
