"""bandster.visualization.comparison: incumbents of several runs over time and budget spent, banded over seeds."""

import numpy as np
import pytest
from analysis_helpers import check_png, synthetic_result

from bandster import visualization as vis
from bandster.visualization.comparison import get_compare_info


def seed_run(losses):
    """One run on budget 1: the k-th configuration finishes at time k + 1 with ``losses[k]``."""
    configs = [{"x": k / 10} for k in range(len(losses))]
    return synthetic_result(configs, [(k, 1.0, loss, k, k + 1) for k, loss in enumerate(losses)])


def test_data_of_one_run():
    info = get_compare_info([seed_run([5.0, 3.0, 4.0, 1.0])])
    (group,) = info["groups"]
    (run,) = group["runs"]
    assert group["label"] == "run 1" and group["time"] is None and group["spent"] is None
    assert run["time"].tolist() == [1.0, 2.0, 4.0] and run["value"].tolist() == [5.0, 3.0, 1.0]
    assert run["spent"].tolist() == [1.0, 2.0, 4.0]  # budget 1 per run
    assert run["config_ids"] == [(0, 0, 0), (0, 0, 1), (0, 0, 3)]
    assert get_compare_info([seed_run([5.0, 3.0])], optimum=1.0)["groups"][0]["runs"][0]["value"].tolist() == [4, 2]


def test_budget_spent_counts_every_finished_run():
    configs = [{"x": 0.1}, {"x": 0.2}]
    result = synthetic_result(configs, [(0, 1.0, 2.0, 0, 1), (1, 1.0, None, 0, 2), (1, 9.0, 1.0, 3, 6)])
    run = get_compare_info([result])["groups"][0]["runs"][0]
    assert run["time"].tolist() == [1.0, 6.0] and run["spent"].tolist() == [1.0, 11.0]  # the failed run counts


def test_band_over_three_seeds_of_two_optimizers():
    seeds_a = [seed_run([4.0, 2.0, 1.0]), seed_run([3.0, 3.0, 3.0]), seed_run([5.0, 1.0, 0.5])]
    seeds_b = [seed_run([6.0, 6.0, 2.0]), seed_run([2.0, 2.0, 2.0]), seed_run([7.0, 5.0, 4.0])]
    info = get_compare_info(seeds_a + seeds_b, labels=["A"] * 3 + ["B"] * 3)
    a, b = info["groups"]
    assert [a["label"], b["label"]] == ["A", "B"] and len(a["runs"]) == 3
    band = a["time"]
    assert band["x"].tolist() == [1.0, 2.0, 3.0]
    assert band["median"].tolist() == [4.0, 2.0, 1.0]  # medians of (4, 3, 5), (2, 3, 1), (1, 3, 0.5)
    assert band["q25"].tolist() == [3.5, 1.5, 0.75] and band["q75"].tolist() == [4.5, 2.5, 2.0]
    assert b["spent"]["median"].tolist() == [6.0, 5.0, 2.0]
    with pytest.raises(ValueError, match="one label per result"):
        get_compare_info(seeds_a, labels=["A"])


def test_band_starts_where_every_seed_has_an_incumbent():
    late = synthetic_result([{"x": 0.1}, {"x": 0.2}], [(0, 1.0, None, 0, 1), (1, 1.0, 2.0, 1, 3)])
    band = get_compare_info([seed_run([4.0, 1.0]), late], labels=["A", "A"])["groups"][0]["time"]
    assert band["x"].tolist() == [3.0] and np.allclose(band["median"], [1.5])


def test_figure(bohb_result, hb_result, tmp_path, shows):
    fig, axes = vis.compare([bohb_result, hb_result, bohb_result], labels=["BOHB", "HyperBand", "BOHB"])
    assert axes.shape == (2,) and axes[1].get_xlabel().startswith("budget spent")
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert labels == ["BOHB (median of 2, quartiles)", "HyperBand"]
    check_png(fig, tmp_path / "compare.png")
    best = min(bohb_result.get_incumbent_trajectory()["losses"] + hb_result.get_incumbent_trajectory()["losses"])
    fig, axes = vis.compare([bohb_result, hb_result], optimum=best - 0.01)
    assert axes[0].get_yscale() == "log" and axes[0].get_ylabel().startswith("regret")
    check_png(fig, tmp_path / "compare_regret.png")
    assert shows == []
