"""bandster.visualization.incumbent."""

from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.visualization.incumbent import get_incumbent_info


def test_data(known):
    info = get_incumbent_info(known)
    assert info["times"].tolist() == [2.0, 3.0, 6.0, 8.0, 9.0]
    assert info["values"].tolist() == [5.0, 2.0, 4.0, 1.0, 1.0]  # a larger budget takes over with a higher loss
    assert info["budgets"].tolist() == [1.0, 1.0, 3.0, 3.0, 3.0] and info["config_ids"][-1] == (0, 0, 1)
    regret = get_incumbent_info(known, optimum=0.5)
    assert regret["regret"] and regret["values"].tolist() == [4.5, 1.5, 3.5, 0.5, 0.5]
    assert get_incumbent_info(known, all_budgets=False)["values"].tolist() == [4.0, 1.0, 1.0]


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.incumbent_over_time(bohb_result)
    traj = bohb_result.get_incumbent_trajectory()
    assert list(ax.lines[0].get_ydata()) == traj["losses"]
    check_png(fig, tmp_path / "incumbent_over_time.png")
    best = min(traj["losses"])
    fig, ax = vis.incumbent_over_time(bohb_result, optimum=best - 0.01)
    assert ax.get_yscale() == "log" and ax.get_ylabel().startswith("regret")
    check_png(fig, tmp_path / "regret_over_time.png")
    assert shows == []
