"""bandster.visualization.timeline."""

import matplotlib.pyplot as plt
from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.visualization.timeline import get_worker_timeline_info


def test_data(known):
    info = get_worker_timeline_info(known)
    assert info["workers"] == ["w0", "w1"]
    assert info["row"].tolist() == [0, 1, 0, 0, 1, 0]
    assert info["start"].tolist() == [0.0, 0.0, 2.0, 4.0, 6.0, 8.0]
    assert info["duration"].tolist() == [2.0, 3.0, 2.0, 2.0, 2.0, 1.0]
    assert info["failed"].tolist() == [False, False, True, False, False, False]
    assert info["config_ids"][2] == (0, 0, 2) and abs(info["busy"] - 12 / 18) < 1e-12
    assert get_worker_timeline_info([])["busy"] is None


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.worker_timeline(bohb_result)
    # one row per worker that ran something (two were started; with short jobs one of them may have run them all)
    workers = {r.worker_name for r in bohb_result.get_all_runs()}
    assert 1 <= len(workers) <= 2
    assert sorted(get_worker_timeline_info(bohb_result)["workers"]) == sorted(workers)
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert len(labels) == len(workers) and all(any(w.endswith(label) for w in workers) for label in labels)
    check_png(fig, tmp_path / "worker_timeline.png")
    assert shows == []
    fig, ax = vis.worker_timeline(bohb_result.get_all_runs(), show=True)
    plt.close(fig)
    assert shows == [1]
