"""bandster.visualization.importance."""

from analysis_helpers import check_png, dominated, space

from bandster import visualization as vis
from bandster.visualization.importance import get_importance_info


def test_data():
    result, configspace = dominated()
    info = get_importance_info(result, configspace=configspace)
    assert info["budgets"] == [1.0, 3.0] and info["hyperparameters"][0] == "x"
    assert info["importance"][3.0][0] > 0.8 and info["n"] == {1.0: 60, 3.0: 60} and not info["skipped"]
    assert info["std"][3.0].shape == (4,) and 0 <= info["interactions"][3.0] < 0.2
    assert get_importance_info(result, budgets=[3.0])["budgets"] == [3.0]


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.hyperparameter_importance(bohb_result, configspace=space())
    assert ax.get_xlim() == (0, 1) and len(ax.get_yticklabels()) == 4
    check_png(fig, tmp_path / "importance.png")
    assert shows == []
