"""The per-step learning curves (bandster/visualization/intermediate.py): the data on a known journal, the
drawing with matplotlib."""

import math

import numpy as np
import pytest
from analysis_helpers import check_png, write_reporting_journal

from bandster.records.format import ReportLine
from bandster.records.result import Result, logged_results_to_HBS_result
from bandster.visualization import intermediate_values
from bandster.visualization.intermediate import get_intermediate_values_info


@pytest.fixture
def reported(tmp_path):
    write_reporting_journal(str(tmp_path))
    return logged_results_to_HBS_result(tmp_path)


def test_data(reported):
    info = get_intermediate_values_info(reported)
    curves = {c["config_id"]: c for c in info["curves"]}
    # worst last value first, the best (0.2) last
    assert [c["config_id"] for c in info["curves"]] == [(0, 0, 2), (0, 0, 1), (0, 0, 3), (0, 0, 0)]
    assert curves[(0, 0, 0)]["steps"].tolist() == [1.0, 3.0, 9.0]
    assert curves[(0, 0, 0)]["losses"].tolist() == [0.9, 0.5, 0.2]
    assert curves[(0, 0, 0)]["times"].tolist() == [1.0, 2.0, 3.0]  # after time_ref
    assert curves[(0, 0, 1)]["decisions"] == ["continue", "stop"]
    assert (curves[(0, 0, 1)]["stopped_at"], curves[(0, 0, 1)]["stopped_loss"]) == (3.0, 1.2)
    assert curves[(0, 0, 0)]["stopped_at"] is None
    assert {cid: c["status"] for cid, c in curves.items()} == {
        (0, 0, 0): "ok", (0, 0, 1): "stopped", (0, 0, 2): "stopped", (0, 0, 3): "running"}
    assert info["n_reports"] == 8
    assert info["stops"]["steps"].tolist() == [1.0, 3.0] and info["stops"]["losses"].tolist() == [2.0, 1.2]
    assert info["stops"]["config_ids"] == [(0, 0, 2), (0, 0, 1)]


def test_data_selection_and_cap(reported):
    assert [c["config_id"] for c in get_intermediate_values_info(reported, [(0, 0, 1)])["curves"]] == [(0, 0, 1)]
    best_two = get_intermediate_values_info(reported, max_curves=2)
    assert [c["config_id"] for c in best_two["curves"]] == [(0, 0, 3), (0, 0, 0)]
    assert len(best_two["stops"]["steps"]) == 0
    empty = get_intermediate_values_info(Result({}, {"time_ref": 0.0}))
    assert empty["curves"] == [] and empty["n_reports"] == 0


def test_attempts_are_separate_curves():
    lines = [ReportLine((0, 0, 0), 9.0, 1, 1.0, 0.5, 1.0, None, "continue"),
             ReportLine((0, 0, 0), 9.0, 2, 1.0, 0.4, 5.0, None, "continue"),
             ReportLine((0, 0, 0), 9.0, 2, 2.0, float("nan"), 6.0, None, "continue")]
    info = get_intermediate_values_info(Result({}, {"time_ref": 0.0}, reports=lines))
    assert sorted((c["attempt"], len(c["steps"])) for c in info["curves"]) == [(1, 1), (2, 2)]
    second = [c for c in info["curves"] if c["attempt"] == 2][0]
    assert math.isnan(second["losses"][1]) and second["final"] == 0.4  # the last finite value


def test_drawing(reported, tmp_path):
    pytest.importorskip("matplotlib")
    fig, ax = intermediate_values(reported, log_y=True)
    assert ax.get_title() == "Intermediate values (4 jobs, 2 stopped)"
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and np.array(crosses[0].get_xdata()).tolist() == [1.0, 3.0]
    check_png(fig, str(tmp_path / "intermediate.png"))
    fig, ax = intermediate_values(Result({}, {"time_ref": 0.0}))
    assert "no intermediate reports" in ax.texts[0].get_text()
