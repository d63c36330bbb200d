"""Intermediate reports in the records layer: Journal.report and reports.json (bandster/records/journal.py,
format.py), ReportTable (reports.py), and the Result's reports and stopped runs (result.py)."""

import json
import logging
import math
import os
import pickle

import pytest

from bandster.core.job import Job
from bandster.records.format import REPORTS_FILENAME, read_reports
from bandster.records.journal import Journal
from bandster.records.reports import Report, ReportTable
from bandster.records.result import JournalReader, Result, logged_results_to_HBS_result


def finished(config_id, budget, loss, stopped_at=None, t=0.0):
    job = Job(config_id, config={"x": 0.1 * config_id[2]}, budget=budget)
    job.timestamps = {"submitted": t, "started": t, "finished": t + 1.0}
    job.result = {"loss": loss, "info": {"epochs": 3}}
    if stopped_at is not None:
        job.result["stopped_at"] = stopped_at
    job.worker_name = "w"
    return job


def write_journal(directory):
    with Journal(directory) as journal:
        journal.write_manifest({"HB_config": {"time_ref": 100.0, "max_budget": 9.0, "min_budget": 1.0}})
        for n in range(2):
            journal.new_config((0, 0, n), {"x": 0.1 * n}, {"model_based_pick": False})
        journal.report((0, 0, 0), 9.0, 1, 1, 0.9, {"acc": 0.5}, "continue", 101.0)
        journal.report((0, 0, 1), 9.0, 1, 1, float("nan"), {"curve": [float("inf")]}, "stop", 101.5)
        journal(finished((0, 0, 1), 9.0, float("nan"), stopped_at=1, t=100.5))
        journal.report((0, 0, 0), 9.0, 1, 3, 0.7, None, "continue", 103.0)
        journal(finished((0, 0, 0), 9.0, 0.6, t=100.0))


def test_report_lines_round_trip(tmp_path):
    write_journal(tmp_path)
    with open(tmp_path / REPORTS_FILENAME) as fh:
        raw = [json.loads(line) for line in fh]  # strict JSON: non-finite values as strings
    assert raw[1]["loss"] == "NaN" and raw[1]["info"] == {"curve": ["Infinity"]}
    assert raw[1]["nonfinite_info"] == [["curve", 0]]
    lines = list(read_reports(tmp_path))
    assert [(line.config_id, line.step, line.decision) for line in lines] == [
        ((0, 0, 0), 1.0, "continue"), ((0, 0, 1), 1.0, "stop"), ((0, 0, 0), 3.0, "continue")]
    assert math.isnan(lines[1].loss) and lines[1].info == {"curve": [math.inf]}
    assert lines[0].time == 101.0 and lines[0].attempt == 1 and lines[0].budget == 9.0


def test_bad_report_lines_are_skipped_or_kept_with_a_warning(tmp_path, caplog):
    good = {"time": 1.0, "config_id": [0, 0, 0], "budget": 9, "attempt": 1, "step": 1, "loss": 0.5, "info": None,
            "decision": "continue"}
    rows = [good, {**good, "config_id": [0, 0]}, {**good, "step": "three"}, {**good, "loss": "high"},
            {**good, "decision": "maybe", "attempt": 0}, [1, 2]]
    with open(tmp_path / REPORTS_FILENAME, "w") as fh:
        fh.write("".join(json.dumps(row) + "\n" for row in rows) + '{"time": 2.0, "conf')  # a torn last line
    with caplog.at_level(logging.WARNING):
        lines = list(read_reports(tmp_path / REPORTS_FILENAME))
    assert len(lines) == 3
    assert math.isnan(lines[1].loss) and (lines[2].decision, lines[2].attempt) == (None, None)
    text = caplog.text
    for expected in ("line 2", "three integers", "line 3", "not a finite number", "kept as NaN", "torn last line",
                     "not a JSON object"):
        assert expected in text
    assert list(read_reports(tmp_path / "nowhere")) == []  # a journal without reports.json has none


def test_result_reports_and_stopped_runs(tmp_path):
    write_journal(tmp_path)
    result = logged_results_to_HBS_result(tmp_path)
    reports = result.get_reports()
    assert reports[0] == Report((0, 0, 0), 9.0, 1.0, 0.9, 1.0, {"acc": 0.5}, 1, "continue")  # time - time_ref
    assert [r.step for r in result.get_reports((0, 0, 0))] == [1.0, 3.0]
    assert result.get_reports((5, 5, 5)) == []
    stopped, full = result.get_runs_by_id((0, 0, 1))[0], result.get_runs_by_id((0, 0, 0))[0]
    assert (stopped.status, stopped.budget, stopped.stopped_at) == ("stopped", 1.0, 1.0)  # NaN but stopped
    assert stopped.requested_budget == 9.0 and full.requested_budget is None
    assert (full.status, full.budget, full.stopped_at) == ("ok", 9.0, None)
    assert "stopped_at=1.0" in repr(stopped)
    # HpBandSter's learning curves: one point per finished run
    assert result.get_learning_curves()[(0, 0, 0)] == [[(9.0, 0.6)]]

    runs = result.to_dataframe()
    assert list(runs["status"]) == ["ok", "stopped"] and list(runs["budget"]) == [9.0, 1.0]
    assert runs["stopped_at"].isna().tolist() == [True, False]
    frame = result.to_dataframe(reports=True)
    assert list(frame.columns) == ["config_id", "x", "budget", "step", "loss", "time", "attempt", "decision",
                                   "info.acc", "info.curve"]
    assert frame["step"].tolist() == [1.0, 1.0, 3.0] and frame["decision"].tolist()[1] == "stop"
    assert frame["x"].tolist() == [0.0, 0.1, 0.0]

    again = pickle.loads(pickle.dumps(result))
    assert again == result and again.get_reports()[2:] == result.get_reports()[2:]  # [1] has a NaN loss
    other = logged_results_to_HBS_result(tmp_path)
    assert other == result
    os.remove(tmp_path / REPORTS_FILENAME)
    assert logged_results_to_HBS_result(tmp_path) != result  # the reports count in the comparison


def test_results_pickled_before_reports_load_without_them(tmp_path):
    write_journal(tmp_path)
    result = logged_results_to_HBS_result(tmp_path)
    state = dict(result.__dict__)
    del state["_reports"]
    old = Result.__new__(Result)
    old.__setstate__(state)
    assert old.get_reports() == [] and len(old.get_all_runs()) == 2
    assert "reports" not in repr(old) and "3 reports" in repr(result)


def test_journal_reader_reads_reports_as_they_come(tmp_path):
    seen = []
    reader = JournalReader(tmp_path, on_report=seen.append)
    with Journal(tmp_path) as journal:
        journal.new_config((0, 0, 0), {"x": 0.0}, {})
        journal.report((0, 0, 0), 9.0, 1, 1, 0.9, None, "continue", 1.0)
        journal.flush()
        reader.read()
        assert [line.step for line in seen] == [1.0]
        journal.report((0, 0, 0), 9.0, 1, 2, 0.8, None, "stop", 2.0)
        journal.flush()
        reader.read()
    assert [line.step for line in seen] == [1.0, 2.0]
    assert [r.step for r in reader.result({"time_ref": 0.0}).get_reports()] == [1.0, 2.0]


def test_report_table_by_config():
    table = ReportTable()
    assert len(table) == 0 and table.reports() == []
    from bandster.records.format import ReportLine

    table = ReportTable.from_lines([ReportLine((0, 0, 1), 9.0, None, 1.0, 0.5, 10.0, None, None),
                                    ReportLine((0, 0, 2), 9.0, 2, 1.0, 0.4, 11.0, None, "pause"),
                                    ReportLine((0, 0, 1), 9.0, None, 2.0, 0.3, 12.0, None, "continue")], time_ref=10.0)
    assert [r.step for r in table.reports(table.rows_of((0, 0, 1)))] == [1.0, 2.0]
    assert table.reports(table.rows_of((0, 0, 2)))[0][-2:] == (2, "pause")
    assert table.reports([0])[0].attempt is None and table.reports([0])[0].time == 0.0
    assert pickle.loads(pickle.dumps(table)).reports() == table.reports()


@pytest.mark.parametrize("marker", [3, 3.0])
def test_job_status_stopped(marker):
    job = finished((0, 0, 0), 9.0, 0.5, stopped_at=marker)
    assert job.status == "stopped"
    job.result = None
    assert job.status == "failed"
