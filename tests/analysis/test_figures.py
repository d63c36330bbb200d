"""The interactive (plotly) figures of intermediate reports (bandster/analysis/figures.py)."""

from analysis_helpers import write_reporting_journal

from bandster.analysis.figures import _Hover, interactive_figures, intermediate_values_figure
from bandster.records.result import logged_results_to_HBS_result
from bandster.visualization.intermediate import get_intermediate_values_info


def test_intermediate_values_figure(tmp_path):
    write_reporting_journal(str(tmp_path))
    result = logged_results_to_HBS_result(tmp_path)
    configs = {cid: e["config"] for cid, e in result.get_id2config_mapping().items()}
    spec = intermediate_values_figure(get_intermediate_values_info(result), _Hover(configs))
    lines, stops = spec["data"][:-1], spec["data"][-1]
    assert [trace["name"] for trace in lines] == ["(0, 0, 2)", "(0, 0, 1)", "(0, 0, 3)", "(0, 0, 0)"]  # best on top
    assert lines[-1]["x"] == [1.0, 3.0, 9.0] and lines[-1]["y"] == [0.9, 0.5, 0.2]
    assert "step 3: 0.5 (continue)" in lines[-1]["text"][1] and "x=0.1" in lines[-1]["text"][1]
    assert lines[-1]["line"]["color"] != lines[0]["line"]["color"]  # coloured by the last value
    assert (stops["name"], stops["x"], stops["y"]) == ("stopped here", [1.0, 3.0], [2.0, 1.2])
    assert spec["layout"]["title"]["text"] == "Intermediate values (4 jobs, 2 stopped)"
    assert spec["layout"]["xaxis"]["title"]["text"] == "step"
    capped = intermediate_values_figure(get_intermediate_values_info(result), _Hover(configs), max_points=3)
    assert [trace["name"] for trace in capped["data"][:-1]] == ["(0, 0, 0)"]  # the best job's 3 points


def test_interactive_figures_include_it_only_with_reports(tmp_path):
    write_reporting_journal(str(tmp_path))
    names = [name for name, _, _ in interactive_figures(logged_results_to_HBS_result(tmp_path))]
    assert names.index("intermediate_values") == names.index("learning_curves") + 1
    (tmp_path / "reports.json").unlink()
    assert "intermediate_values" not in [name for name, _, _ in
                                         interactive_figures(logged_results_to_HBS_result(tmp_path))]
