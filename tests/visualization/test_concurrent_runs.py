"""bandster.visualization.concurrent_runs."""

from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.visualization.concurrent_runs import get_concurrent_runs_info


def test_data(known):
    info = get_concurrent_runs_info(known)
    assert info["times"][0] == 0.0 and info["times"][-1] == 9.0
    assert max(info["counts"]) == 2 and info["counts"][-1] == 0
    assert abs(info["mean"] - 12 / 9) < 1e-12  # 12 s of runs over 9 s
    assert get_concurrent_runs_info([])["mean"] is None


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.concurrent_runs_over_time(bohb_result.get_all_runs(), num_points=100)
    assert 1 <= max(ax.lines[0].get_ydata()) <= 2  # never more than the two workers (how many overlap is timing)
    check_png(fig, tmp_path / "concurrent_runs_over_time.png")
    assert shows == []
