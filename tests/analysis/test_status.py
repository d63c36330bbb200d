"""``bandster status`` with intermediate reports (bandster/analysis/status.py): stopped runs counted, each
running job's latest step and value."""

from analysis_helpers import REPORTING_T0, write_reporting_journal

from bandster.analysis.status import read_status
from bandster.analysis.status_parts import LatestReports
from bandster.cli import main as cli
from bandster.records.format import ReportLine


def test_status_of_a_live_run_with_reports(tmp_path):
    journal = write_reporting_journal(str(tmp_path), keep_open=True)
    try:
        status = read_status(tmp_path, now=REPORTING_T0 + 20)
        assert status.state == "running"
        assert (status.runs_ok, status.runs_stopped, status.runs_failed, status.runs_running) == (1, 2, 0, 1)
        assert status.runs_finished == 3 and status.n_reports == 8
        assert status.latest_reports == {((0, 0, 3), 9.0): {"step": 2.0, "loss": 0.6, "time": REPORTING_T0 + 8,
                                                            "decision": "continue", "attempt": 1}}
        text = status.format()
        assert "3 finished (1 ok, 2 stopped early, 0 failed), 1 running" in text
        assert "busy (0, 0, 3) on 9, step 2: 0.6" in text and "8 intermediate reports" in text
        as_dict = status.to_dict()
        assert as_dict["runs"] == {"ok": 1, "failed": 0, "stopped": 2, "running": 1}
        assert as_dict["reports"]["latest"] == [{"config_id": [0, 0, 3], "budget": 9.0, "step": 2.0, "loss": 0.6,
                                                 "time": REPORTING_T0 + 8, "decision": "continue", "attempt": 1}]
        busy = [w for w in as_dict["workers"] if w["state"] == "busy"]
        assert busy[0]["report"]["step"] == 2.0
    finally:
        journal.close()
    # the CLI prints the same
    assert cli(["status", str(tmp_path)]) == 0


def test_the_cli_shows_the_latest_step(tmp_path, capsys):
    journal = write_reporting_journal(str(tmp_path), keep_open=True)
    try:
        assert cli(["status", str(tmp_path)]) == 0
    finally:
        journal.close()
    out = capsys.readouterr().out
    assert "step 2: 0.6" in out and "2 stopped early" in out


def test_status_of_a_finished_run_with_reports(tmp_path):
    write_reporting_journal(str(tmp_path))
    status = read_status(tmp_path)
    # the job that never finished was in flight at the stop: its report is still shown
    assert status.state == "finished" and status.runs_stopped == 2 and status.runs_running == 1
    assert list(status.latest_reports) == [((0, 0, 3), 9.0)]


def test_latest_report_of_an_earlier_attempt_is_not_shown():
    latest = LatestReports()
    latest.add_report(ReportLine((0, 0, 1), 9.0, 1, 4.0, 0.4, 12.0, None, "continue"))
    latest.add_report(ReportLine((0, 0, 2), 9.0, None, 1.0, float("nan"), 13.0, None, None))
    assert latest.of({((0, 0, 1), 9.0): {"attempt": 2}}) == {}  # run again: it has not reported yet
    assert latest.of({((0, 0, 2), 9.0): {}})[((0, 0, 2), 9.0)]["loss"] is None  # not finite
    assert latest.of({((0, 0, 9), 9.0): {}}) == {} and latest.n_reports == 2
