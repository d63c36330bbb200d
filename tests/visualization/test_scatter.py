"""bandster.visualization.scatter."""

from analysis_helpers import check_png, space

from bandster import visualization as vis
from bandster.visualization.scatter import get_hyperparameter_scatter_info


def test_data(known):
    info = get_hyperparameter_scatter_info(known, "x", "kind")
    assert info["budget"] == 3.0 and info["x"]["values"].tolist() == [0.1, 0.2, 0.5]
    assert info["y"]["levels"] == ["a", "b"] and info["y"]["values"].tolist() == [0.0, 1.0, 1.0]
    assert info["best"] == 1 and info["config_ids"][1] == (0, 0, 1)
    assert get_hyperparameter_scatter_info(known, "x", "kind", log_x=True)["x"]["log"]
    assert get_hyperparameter_scatter_info(known, "x", "missing")["best"] is None


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.hyperparameter_scatter(bohb_result, "x", "lr", configspace=space())
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "x"
    check_png(fig, tmp_path / "hyperparameter_scatter.png")
    fig, ax = vis.hyperparameter_scatter(bohb_result, "kind", "units", budget=1.0, contour=False)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]  # the levels seen (no config space)
    check_png(fig, tmp_path / "hyperparameter_scatter_categorical.png")
    assert shows == []
