"""bandster.visualization.histogram."""

from analysis_helpers import check_png

from bandster import visualization as vis
from bandster.visualization.histogram import get_histogram_info


def test_data(known):
    info = get_histogram_info(known, known.get_id2config_mapping())
    assert info["budgets"] == [1.0, 3.0]
    assert info["losses"][1.0] == {"model based": [], "random": [5.0, 2.0]}
    assert info["losses"][3.0] == {"model based": [3.0], "random": [4.0, 1.0]}


def test_figure(bohb_result, tmp_path, shows):
    fig, axarr = vis.performance_histogram_model_vs_random(bohb_result.get_all_runs(),
                                                           bohb_result.get_id2config_mapping())
    assert axarr.shape == (3, 2)
    check_png(fig, tmp_path / "performance_histogram_model_vs_random.png")
    assert shows == []


def test_histogram_without_a_model(hb_result, tmp_path):
    """HpBandSter raised KeyError here: Hyperband's configs have no model_based_pick."""
    fig, axarr = vis.performance_histogram_model_vs_random(hb_result.get_all_runs(),
                                                           hb_result.get_id2config_mapping())
    assert axarr.shape == (3, 2)
    assert "no model based configurations" in [t.get_text() for t in axarr[0, 0].texts]
    check_png(fig, tmp_path / "histogram_hyperband.png")
