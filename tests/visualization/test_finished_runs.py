"""bandster.visualization.finished_runs."""

from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.visualization.finished_runs import get_finished_runs_info


def test_data(known):
    info = get_finished_runs_info(known)
    assert {b: t.tolist() for b, t in info["per_budget"].items()} == {1.0: [2.0, 3.0, 4.0], 3.0: [6.0, 8.0, 9.0]}
    assert info["all"].tolist() == [2.0, 3.0, 4.0, 6.0, 8.0, 9.0] and info["failed"].tolist() == [4.0]


def test_figure(bohb_result, tmp_path, shows):
    runs = bohb_result.get_all_runs()
    fig, ax = vis.finished_runs_over_time(runs)
    total = [line for line in ax.lines if line.get_label() == "all budgets"][0]
    assert total.get_ydata()[-1] == len(runs)
    check_png(fig, tmp_path / "finished_runs_over_time.png")
    assert shows == []
