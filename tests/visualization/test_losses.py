"""bandster.visualization.losses: the data on a known Result, and the figure of a real run."""

import matplotlib.pyplot as plt
import numpy as np
from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.visualization.losses import get_losses_info


def test_data(known):
    info = get_losses_info(known)
    assert info["budgets"] == [1.0, 3.0]
    assert info["per_budget"][1.0]["times"].tolist() == [2.0, 3.0]
    assert info["per_budget"][3.0]["losses"].tolist() == [4.0, 1.0, 3.0]
    assert info["per_budget"][3.0]["best_so_far"].tolist() == [4.0, 1.0, 1.0]
    assert info["per_budget"][3.0]["config_ids"] == [(0, 0, 0), (0, 0, 1), (1, 0, 0)]
    assert info["failed_times"].tolist() == [4.0] and info["failed_config_ids"] == [(0, 0, 2)]
    doubled = get_losses_info(known, get_loss_from_run_fn=lambda r: 2 * r.loss)
    assert doubled["per_budget"][1.0]["losses"].tolist() == [10.0, 4.0]
    assert get_losses_info([])["per_budget"] == {}


def test_figure(bohb_result, tmp_path, shows):
    runs = bohb_result.get_all_runs()
    fig, ax = vis.losses_over_time(runs)
    assert ax.get_ylabel() == "loss" and any("failed" in t.get_text() for t in ax.get_legend().get_texts())
    check_png(fig, tmp_path / "losses_over_time.png")
    fig, ax = vis.losses_over_time(runs, get_loss_from_run_fn=lambda r: 2 * r.loss, cmap=plt.get_cmap("tab10"))
    check_png(fig, tmp_path / "losses_doubled.png")
    assert shows == []


def test_known_figure(known):
    fig, ax = vis.losses_over_time(known)
    budget3 = [line for line in ax.lines][1]  # best so far on budget 3
    assert np.array_equal(budget3.get_ydata(), [4.0, 1.0, 1.0])
    plt.close(fig)
