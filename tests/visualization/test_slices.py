"""bandster.visualization.slices (Optuna's slice plot)."""

import numpy as np
from analysis_helpers import check_png, space

from bandster import visualization as vis
from bandster.visualization.slices import get_slice_info


def test_data(known):
    info = get_slice_info(known)
    assert info["budget"] == 3.0 and info["losses"].tolist() == [4.0, 1.0, 3.0]
    assert info["order"].tolist() == [0, 1, 2] and info["config_ids"] == [(0, 0, 0), (0, 0, 1), (1, 0, 0)]
    kind, x = info["panels"]
    assert kind["levels"] == ["a", "b"] and kind["values"].tolist() == [0.0, 1.0, 1.0]
    assert x["name"] == "x" and x["values"].tolist() == [0.1, 0.2, 0.5] and x["levels"] is None
    missing = get_slice_info(known, hyperparameters=["nope"])["panels"][0]
    assert np.isnan(missing["values"]).all()


def test_figure(bohb_result, tmp_path, shows):
    fig, axes = vis.hyperparameter_slices(bohb_result, configspace=space())
    assert axes.shape == (4,) and [ax.get_xlabel() for ax in axes] == ["kind", "lr", "units", "x"]
    assert axes[1].get_xscale() == "log" and axes[0].get_ylabel() == "loss"
    check_png(fig, tmp_path / "slices.png")
    fig, axes = vis.hyperparameter_slices(bohb_result, budget=99.0)
    assert axes.shape == (1,)
    assert "no configuration" in axes[0].texts[0].get_text()
    assert shows == []
