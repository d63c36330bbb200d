"""bandster.visualization.correlation."""

import numpy as np
from analysis_helpers import check_png
from scipy.stats import spearmanr

from bandster import visualization as vis
from bandster.core._convert import is_finite_loss
from bandster.visualization.correlation import get_correlation_info


def test_data(known, bohb_result):
    info = get_correlation_info(known)
    assert info["budgets"] == [1.0, 3.0]
    assert info["n"].tolist() == [[2, 2], [2, 3]]  # two configurations ran on both budgets: too few for rho
    assert np.isnan(info["rho"][0, 1]) and info["rho"][0, 0] == 1.0
    info = get_correlation_info(bohb_result)
    losses = {}
    for r in bohb_result.get_all_runs():
        if is_finite_loss(r.loss):
            losses.setdefault(r.budget, {})[r.config_id] = r.loss
    common = sorted(set(losses[1.0]) & set(losses[3.0]))
    assert len(common) >= 3
    expected = spearmanr([losses[1.0][c] for c in common], [losses[3.0][c] for c in common])
    assert info["n"][0, 1] == len(common)
    assert info["rho"][0, 1] == expected[0] and info["p"][0, 1] == expected[1]
    assert np.isnan(info["rho"][2, 0])  # only above the diagonal


def test_figure(bohb_result, tmp_path, shows):
    fig, ax = vis.correlation_across_budgets(bohb_result)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "9"]
    check_png(fig, tmp_path / "correlation_across_budgets.png")
    assert shows == []
