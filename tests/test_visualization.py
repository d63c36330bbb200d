"""Every plot of bandster.visualization renders a sensible PNG from a real run (BOHB with failures, and Hyperband,
which has no model), keeps HpBandSter's return shapes, and calls plt.show() only when asked."""

from __future__ import annotations

import itertools
import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from analysis_helpers import make_run, space  # noqa: E402

from bandster import visualization as vis  # noqa: E402
from bandster.core.result import Result, Run, logged_results_to_HBS_result  # noqa: E402
from bandster.optimizers import BOHB, HyperBand  # noqa: E402

_ids = itertools.count()


@pytest.fixture(scope="module")
def bohb_result(tmp_path_factory):
    directory = make_run(BOHB, str(tmp_path_factory.mktemp("bohb")), f"vis{os.getpid()}_{next(_ids)}",
                         n_iterations=4, min_points_in_model=4)
    return logged_results_to_HBS_result(directory)


@pytest.fixture(scope="module")
def hb_result(tmp_path_factory):
    directory = make_run(HyperBand, str(tmp_path_factory.mktemp("hb")), f"vis{os.getpid()}_{next(_ids)}",
                         n_iterations=2)
    return logged_results_to_HBS_result(directory)


@pytest.fixture
def shows(monkeypatch):
    calls = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: calls.append(1))
    return calls


def check_png(fig, path, min_size=(400, 250)):
    """Save ``fig`` as PNG and check it is of sensible size and not blank."""
    fig.savefig(path, dpi=80)
    plt.close(fig)
    image = matplotlib.image.imread(path)
    height, width = image.shape[:2]
    assert min_size[0] <= width <= 2500 and min_size[1] <= height <= 2500, (path, width, height)
    rgb = image[..., :3]
    not_white = np.mean(np.any(rgb < 0.95, axis=-1))
    assert not_white > 0.03, f"{path} is nearly blank ({not_white:.1%} non-white pixels)"
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20, f"{path} has almost no colours"
    assert os.path.getsize(path) > 5000
    return width, height


def test_the_run_is_what_the_plots_need(bohb_result):
    runs = bohb_result.get_all_runs()
    assert {r.budget for r in runs} == {1.0, 3.0, 9.0}
    assert any(r.status == "failed" for r in runs), "the run should have failures to plot"
    infos = [d["config_info"] for d in bohb_result.get_id2config_mapping().values()]
    assert any(i.get("model_based_pick") for i in infos) and any(not i.get("model_based_pick") for i in infos)


def test_hpbandster_plots(bohb_result, tmp_path, shows):
    runs = bohb_result.get_all_runs()
    id2conf = bohb_result.get_id2config_mapping()
    fig, ax = vis.losses_over_time(runs)
    assert ax.get_ylabel() == "loss" and any("failed" in t.get_text() for t in ax.get_legend().get_texts())
    check_png(fig, tmp_path / "losses_over_time.png")
    fig, ax = vis.losses_over_time(runs, get_loss_from_run_fn=lambda r: 2 * r.loss, cmap=plt.get_cmap("tab10"))
    check_png(fig, tmp_path / "losses_doubled.png")
    fig, ax = vis.concurrent_runs_over_time(runs, num_points=100)
    assert 1 <= max(ax.lines[0].get_ydata()) <= 2  # never more than the two workers (how many overlap is timing)
    check_png(fig, tmp_path / "concurrent_runs_over_time.png")
    fig, ax = vis.finished_runs_over_time(runs)
    total = [line for line in ax.lines if line.get_label() == "all budgets"][0]
    assert total.get_ydata()[-1] == len(runs)
    check_png(fig, tmp_path / "finished_runs_over_time.png")
    fig, ax = vis.correlation_across_budgets(bohb_result)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "9"]
    check_png(fig, tmp_path / "correlation_across_budgets.png")
    fig, axarr = vis.performance_histogram_model_vs_random(runs, id2conf)
    assert axarr.shape == (3, 2)
    check_png(fig, tmp_path / "performance_histogram_model_vs_random.png")
    lcs = bohb_result.get_learning_curves()
    tips = vis.default_tool_tips(bohb_result, lcs, include_run_info=True)
    assert set(tips) == set(lcs) and all(t.startswith("config_id: ") for t in tips.values())
    assert "budget 1: " in next(iter(tips.values()))
    fig, ax, check, none_button, all_button = vis.interactive_HBS_plot(lcs, tool_tip_strings=tips, log_x=True,
                                                                        title="curves")
    assert ax.get_xscale() == "log" and ax.get_title() == "curves"
    check_png(fig, tmp_path / "interactive_HBS_plot.png")
    assert shows == []  # nothing was shown (the interactive plot shows itself only on an interactive backend)


def test_interactive_widgets(bohb_result, shows):
    lcs = bohb_result.get_learning_curves()
    ids = list(lcs)
    colors = {cid: 0.0 for cid in ids}
    fig, ax, check, none_button, all_button = vis.interactive_HBS_plot(lcs, colors_floats=colors, log_y=True,
                                                                        reset_times=True, show=False)
    assert ax.get_yscale() == "log"
    assert len({tuple(line.get_color()) for line in ax.lines}) == 1  # colors_floats is honoured
    # one check box per iteration, as in HpBandSter (not one per configuration: issue 11, item 17)
    iterations = sorted({cid[0] for cid in ids})
    assert [t.get_text() for t in check.labels] == [f"iteration {i}" for i in iterations]
    assert len(ids) > len(iterations)
    first = [line for line in ax.lines if line.get_label() in {str(c) for c in ids if c[0] == iterations[0]}]
    assert first and all(line.get_visible() for line in first)
    check.set_active(0)
    assert not any(line.get_visible() for line in first)
    assert any(line.get_visible() for line in ax.lines)  # the other iterations stay
    check.set_active(0)
    assert all(line.get_visible() for line in first)
    check.set_active(0)
    none_button._observers.process("clicked", None)
    assert not any(line.get_visible() for line in ax.lines) and not any(check.get_status())
    all_button._observers.process("clicked", None)
    assert all(line.get_visible() for line in ax.lines) and all(check.get_status())
    plt.close(fig)
    assert shows == []
    fig, *_ = vis.interactive_HBS_plot(lcs, show=True)
    plt.close(fig)
    assert shows == [1]


def test_interactive_plot_groups_warm_start_data(shows):
    lcs = {(-1, 0, 0): [[(1.0, 0.5)]], (0, 0, 0): [[(1.0, 0.4)]], (0, 0, 1): [[(1.0, 0.3)]], (1, 0, 0): [[(3.0, 0.2)]]}
    fig, ax, check, *_ = vis.interactive_HBS_plot(lcs, show=False)
    assert [t.get_text() for t in check.labels] == ["warmstart data", "iteration 0", "iteration 1"]
    check.set_active(0)
    assert [line.get_visible() for line in ax.lines] == [False, True, True, True]
    plt.close(fig)


def test_histogram_without_a_model(hb_result, tmp_path):
    """HpBandSter raised KeyError here: Hyperband's configs have no model_based_pick."""
    fig, axarr = vis.performance_histogram_model_vs_random(hb_result.get_all_runs(),
                                                           hb_result.get_id2config_mapping())
    assert axarr.shape == (3, 2)
    assert "no model based configurations" in [t.get_text() for t in axarr[0, 0].texts]
    check_png(fig, tmp_path / "histogram_hyperband.png")


def test_new_plots(bohb_result, tmp_path, shows):
    cs = space()
    fig, ax = vis.incumbent_over_time(bohb_result)
    traj = bohb_result.get_incumbent_trajectory()
    assert list(ax.lines[0].get_ydata()) == traj["losses"]
    check_png(fig, tmp_path / "incumbent_over_time.png")
    best = min(traj["losses"])
    fig, ax = vis.incumbent_over_time(bohb_result, optimum=best - 0.01)
    assert ax.get_yscale() == "log" and ax.get_ylabel().startswith("regret")
    check_png(fig, tmp_path / "regret_over_time.png")
    fig, ax = vis.worker_timeline(bohb_result)
    assert len(ax.get_yticklabels()) == 2  # two workers
    check_png(fig, tmp_path / "worker_timeline.png")
    fig, ax = vis.parallel_coordinates(bohb_result, configspace=cs)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["kind", "lr (log)", "units", "x"]
    check_png(fig, tmp_path / "parallel_coordinates.png")
    fig, ax = vis.parallel_coordinates(bohb_result, budget=1.0, hyperparameters=["x", "kind"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "kind"]
    check_png(fig, tmp_path / "parallel_coordinates_budget1.png")
    fig, ax = vis.hyperparameter_scatter(bohb_result, "x", "lr", configspace=cs)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "x"
    check_png(fig, tmp_path / "hyperparameter_scatter.png")
    fig, ax = vis.hyperparameter_scatter(bohb_result, "kind", "units", budget=1.0, contour=False)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]  # the levels seen (no config space)
    check_png(fig, tmp_path / "hyperparameter_scatter_categorical.png")
    fig, ax = vis.learning_curves(bohb_result)
    check_png(fig, tmp_path / "learning_curves.png")
    assert shows == []
    fig, ax = vis.worker_timeline(bohb_result.get_all_runs(), show=True)
    plt.close(fig)
    assert shows == [1]


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
