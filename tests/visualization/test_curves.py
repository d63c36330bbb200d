"""bandster.visualization.curves."""

from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.visualization.curves import get_learning_curves_info


def test_data(known):
    curves = get_learning_curves_info(known)["curves"]
    assert [c["config_id"] for c in curves] == [(0, 0, 0), (0, 0, 1)]  # the two with more than one budget, worst first
    assert curves[0]["budgets"].tolist() == [1.0, 3.0] and curves[0]["losses"].tolist() == [5.0, 4.0]
    assert curves[1]["final"] == 1.0
    chosen = get_learning_curves_info(known, config_ids=[(1, 0, 0), (0, 0, 2)])["curves"]
    assert [c["config_id"] for c in chosen] == [(1, 0, 0)]  # (0, 0, 2) has no finite loss


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.learning_curves(bohb_result)
    check_png(fig, tmp_path / "learning_curves.png")
    assert shows == []
