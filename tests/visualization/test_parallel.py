"""bandster.visualization.parallel."""

import numpy as np
from analysis_helpers import check_png, space

from bandster import visualization as vis
from bandster.visualization.parallel import get_parallel_coordinates_info


def test_data(known):
    info = get_parallel_coordinates_info(known)
    assert info["budget"] == 3.0 and info["names"] == ["kind", "x"]
    assert info["config_ids"] == [(0, 0, 0), (0, 0, 1), (1, 0, 0)] and info["losses"].tolist() == [4.0, 1.0, 3.0]
    assert np.allclose(info["positions"], [[0.0, 0.0], [1.0, 0.25], [1.0, 1.0]])
    assert info["axes"][0]["ticks"] == [(0.0, "a"), (1.0, "b")] and info["axes"][0]["categorical"]
    info = get_parallel_coordinates_info(known, budget=1.0, hyperparameters=["x"])
    assert info["positions"].tolist() == [[0.0], [1.0]]
    assert get_parallel_coordinates_info(known, budget=7.0)["positions"].shape == (0, 0)


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.parallel_coordinates(bohb_result, configspace=space())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["kind", "lr (log)", "units", "x"]
    check_png(fig, tmp_path / "parallel_coordinates.png")
    fig, ax = vis.parallel_coordinates(bohb_result, budget=1.0, hyperparameters=["x", "kind"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "kind"]
    check_png(fig, tmp_path / "parallel_coordinates_budget1.png")
    assert shows == []
