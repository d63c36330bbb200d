"""bandster.analysis.live and the incremental journal reading under it (core.result's LineTail and JournalReader):
appended lines only, torn and garbled lines, a journal written over; the runs table with the user's info metrics;
Result.to_dataframe's export."""

from __future__ import annotations

import logging
import math
import os
import time

import pytest

from bandster.analysis.live import FIXED_COLUMNS, LiveRun, RunsTable
from bandster.analysis.status import read_status
from bandster.core.job import Job
from bandster.records.format import LineTail
from bandster.records.journal import Journal
from bandster.records.result import JournalReader, flatten_info, logged_results_to_HBS_result


def write(journal, k, loss=0.5, info=None, worker="bandster.run_t.worker.h.1.0"):
    """Configuration k, dispatched now and finished a moment later, as the master journals it."""
    cid = (k // 10, 0, k % 10)
    journal.new_config(cid, {"x": k / 100, "kind": "ab"[k % 2]}, {"model_based_pick": k % 3 == 0})
    journal.event("dispatch", config_id=list(cid), budget=1.0, worker=worker)
    job = Job(cid, config={}, budget=1.0)
    t0 = time.time()
    job.timestamps = {"submitted": t0, "started": t0 + 0.1, "finished": t0 + 0.6}
    job.worker_name = worker
    if loss is None:
        job.exception = "Traceback...\nValueError: no"
    else:
        job.result = {"loss": loss, "info": info if info is not None else {"acc": 1 - loss, "k": k}}
    journal(job)


def test_line_tail(tmp_path, caplog):
    path = tmp_path / "events.json"
    path.write_bytes(b'{"a": 1}\n\n{"b": 2}\n{"c"')
    tail = LineTail(str(path))
    assert tail.read() == [(1, {"a": 1}), (3, {"b": 2})] and tail.offset == len(b'{"a": 1}\n\n{"b": 2}\n')
    assert tail.read() == []  # the unfinished line waits
    with open(path, "ab") as fh:
        fh.write(b': 3}\nnot json\n{"d": 4}\n')
    with caplog.at_level(logging.WARNING):
        assert tail.read() == [(4, {"c": 3}), (6, {"d": 4})]
    assert "garbled line 5" in caplog.text
    read_so_far = tail.bytes_read
    path.write_bytes(b'{"e": 5}\n')  # written over: shorter
    assert tail.read() == [(1, {"e": 5})] and tail.restarted
    assert tail.bytes_read == read_so_far + len(b'{"e": 5}\n')
    assert LineTail(str(tmp_path / "missing.json")).read() == []


def test_journal_reader_reads_appended_lines_only(tmp_path):
    directory = str(tmp_path / "j")
    reader = JournalReader(directory)
    assert reader.read() is False and len(reader.result().data) == 0
    with Journal(directory) as journal:
        for k in range(5):
            write(journal, k)
        journal.flush()
        reader.read()
        first = reader.bytes_read
        assert first == os.path.getsize(journal.config_fn) + os.path.getsize(journal.results_fn)
        write(journal, 5, loss=None)
        write(journal, 0, loss=0.1)  # run again: the later result wins
        journal.flush()
        assert reader.read() is False
        appended = os.path.getsize(journal.config_fn) + os.path.getsize(journal.results_fn) - first
        assert reader.bytes_read - first == appended
    assert reader.result() == logged_results_to_HBS_result(directory)
    assert [r.loss for r in reader.result().get_runs_by_id((0, 0, 0))] == [0.1]


def test_live_run_follows_a_journal(tmp_path):
    directory = str(tmp_path / "j")
    live = LiveRun(directory)
    with Journal(directory) as journal:
        journal.event("run_started", n_iterations=1)
        for k in range(3):
            write(journal, k, loss=0.5 - k / 10)
        journal.event("dispatch", config_id=[0, 0, 9], budget=1.0, worker="bandster.run_t.worker.h.1.0")
        journal.flush()
        assert live.update()
        version = live.table.version
        status = live.status(now=time.time() + 10)
        assert status.state == "running" and status.runs_ok == 3 and status.runs_running == 1
        assert list(live.running_jobs()) == [((0, 0, 9), 1.0)]
        assert not live.update()  # nothing new: nothing read, nothing changed
        before = live.bytes_read
        write(journal, 9, loss=0.01)
        journal.event("run_finished")
        journal.flush()
        assert live.update()
        sizes = sum(os.path.getsize(os.path.join(directory, f)) for f in ("configs.json", "results.json",
                                                                          "events.json"))
        assert live.bytes_read == sizes and live.bytes_read > before
        changed = live.table.to_dict(since=version)
        assert [i for i, _ in changed["rows"]] == [3] and changed["total"] == 4
    status = live.status(now=time.time() + 10)
    assert status.state == "finished" and status.incumbent == (0, 0, 9) and status.runs_running == 0
    whole = read_status(directory, now=status.now).to_dict()
    assert status.to_dict() == whole | {"top": status.to_dict()["top"]}  # same status as bandster status
    assert status.to_dict()["top"][:5] == whole["top"]
    assert live.result() == logged_results_to_HBS_result(directory)


def test_live_run_starts_over_when_the_journal_is_written_over(tmp_path):
    directory = str(tmp_path / "j")
    with Journal(directory) as journal:
        for k in range(4):
            write(journal, k)
    live = LiveRun(directory)
    live.update()
    assert live.n_runs == 4
    with Journal(directory, overwrite=True) as journal:
        write(journal, 7)
    assert live.update() and live.n_runs == 1 and live.table.row((0, 0, 7), 1.0)["config_id"] == [0, 0, 7]


def test_runs_table_columns():
    table = RunsTable()
    table.add_config((0, 0, 0), {"x": 0.5, "loss": "clash", "kind": "a"}, {"model_based_pick": True})
    table.add_run((0, 0, 0), 1.0, {"submitted": 1.0, "started": 2.0, "finished": 4.5},
                  {"loss": 0.25, "info": {"acc": 0.9, "nested": {"f1": 0.8}, "curve": [1, 2]}}, None,
                  {"worker": "bandster.run_r.worker.host.7.0", "attempt": 2, "status": "ok"})
    table.add_config((0, 0, 1), {"x": 0.1}, {})
    table.add_run((0, 0, 1), 1.0, {}, {"loss": float("nan"), "info": None}, None, None)
    row = table.row((0, 0, 0), 1.0)
    assert row["loss"] == 0.25 and row["status"] == "ok" and row["worker"] == "host.7.0" and row["attempt"] == 2
    assert row["duration"] == 2.5 and row["config.loss"] == "clash" and row["model_based_pick"] is True
    assert row["info.acc"] == 0.9 and row["info.nested.f1"] == 0.8 and row["info.curve"] == "[1, 2]"
    failed = table.row((0, 0, 1), 1.0)
    assert failed["status"] == "failed" and failed["loss"] == "nan"
    kinds = dict(table.columns)
    assert kinds["submitted"] == "time" and kinds["info.acc"] == "number" and kinds["kind"] == "text"
    assert table.to_dict(since=1)["rows"] == [[1, list(table.row((0, 0, 1), 1.0).values())]]


def test_runs_table_rows_whatever_the_order_of_columns():
    """The columns a configuration's or an info's keys found first are reused (and appended when they follow
    each other): every row still holds each value under its own name, whatever order the keys come in, when a
    hyperparameter or metric first appears after others, nested or not finite."""
    configs = [{"x": 0.5, "kind": "a"}, {"kind": "b", "x": 0.25}, {"x": 0.75, "kind": "c", "depth": 3},
               {"x": float("nan"), "kind": "a"}, {}, {"depth": 1, "x": 0.1, "kind": "a"}]
    infos = [{"acc": 0.9, "n": 1}, {"n": 2, "acc": 0.8}, {"acc": float("inf"), "n": 3, "f1": 0.5}, None,
             {"acc": 0.7, "n": {"deep": 4}}, {"acc": 0.6, "n": 5}, 7.5, {}]
    table = RunsTable()
    expected = {}
    for k in range(24):
        cid = (0, 0, k)
        config, info = configs[k % len(configs)], infos[k % len(infos)]
        table.add_config(cid, config, {})
        row = table.add_run(cid, 1.0, {"started": 1.0, "finished": 2.0}, {"loss": 0.1 * k, "info": info}, None,
                            {"worker": "w", "attempt": 1, "status": "ok"})
        assert row is table.rows[-1]
        cells = {name: (None if isinstance(v, float) and not math.isfinite(v) else v) for name, v in config.items()}
        cells.update({name: (None if isinstance(v, float) and not math.isfinite(v) else v)
                      for name, v in flatten_info(info).items()})
        expected[cid] = cells
    names = {name for name, _ in table.columns}
    for cid, cells in expected.items():
        row = table.row(cid, 1.0)
        assert {name: row.get(name) for name in names - {n for n, _ in FIXED_COLUMNS}} == {
            name: cells.get(name) for name in names - {n for n, _ in FIXED_COLUMNS}}, cid
        assert row["loss"] == pytest.approx(0.1 * cid[2]) and row["duration"] == 1.0


def test_runs_table_sorts_mixed_cells_as_one_key_does():
    """Sorted by groups (numbers, config ids, text), each with a plain key: the order of one sort on
    ``(group, value)``, ties in journal order, descending too, empty cells last."""

    def one_key(value):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, value)
        return (1, tuple(value)) if isinstance(value, list) else (2, str(value))

    table = RunsTable()
    cells = [0.5, 2, None, "b", True, 0.5, "a", -1.0, None, 7, "a", False, 0.5, "10"]
    for k, cell in enumerate(cells):
        table.add_config((0, 0, k), {"x": cell, "y": k % 3}, {})
        table.add_run((0, 0, k), 1.0, {"started": float(k % 4), "finished": 5.0},
                      {"loss": [0.3, float("nan"), 0.1, None][k % 4], "info": {"m": cell}}, None, {})
    for sort in ("x", "info.m", "y", "loss", "config_id", "status", "duration", "nothing"):
        for descending in (False, True):
            answer = table.query(sort=sort, descending=descending, size=None)
            column = answer["columns"].index(sort) if sort in answer["columns"] else None
            values = [table.row((0, 0, k), 1.0).get(sort) for k in range(len(cells))]
            if column is None:
                expected = list(range(len(cells)))
            else:
                present = sorted((k for k in range(len(cells)) if values[k] is not None),
                                 key=lambda k: one_key(values[k]), reverse=descending)
                expected = present + [k for k in range(len(cells)) if values[k] is None]
            assert [row[0][2] for row in answer["rows"]] == expected, (sort, descending)


def test_live_run_result_built_on_first_use_follows_updates(tmp_path):
    """The Result is built only when asked for (the figures): after updates, in parts or not, it is the Result of
    everything read, equal to the journal read at once."""
    directory = str(tmp_path / "j")
    live = LiveRun(directory)
    with Journal(directory) as journal:
        for k in range(6):
            write(journal, k, loss=None if k == 4 else k / 10)
        journal.flush()
        live.update(max_bytes=200)  # a part
        while not live.at_end:
            live.update(max_bytes=200)
        assert live.result() == logged_results_to_HBS_result(directory)
        write(journal, 6)
        write(journal, 2, loss=0.01)  # the same configuration and budget again: the later result wins
        journal.event("dispatch", config_id=[9, 9, 9], budget=1.0, worker="w")
        journal.flush()
        live.update()
        live.update()
        result = live.result()
        assert result == logged_results_to_HBS_result(directory)
        assert [r.loss for r in result.get_runs_by_id((0, 0, 2))] == [0.01] and len(result.get_all_runs()) == 7
        assert live.result() is result  # the same version: built once


def test_to_dataframe_exports_info_metrics(tmp_path):
    pd = pytest.importorskip("pandas")
    directory = str(tmp_path / "j")
    with Journal(directory) as journal:
        for k in range(4):
            write(journal, k, loss=None if k == 3 else 0.5 - k / 10)
    df = logged_results_to_HBS_result(directory).to_dataframe()
    assert list(df.columns[-2:]) == ["info.acc", "info.k"] and len(df) == 4
    assert df["info.acc"].tolist()[:3] == pytest.approx([0.5, 0.6, 0.7]) and df["info.acc"].isna().tolist()[3]
    csv = tmp_path / "runs.csv"
    df.to_csv(csv, index=False)
    assert csv.read_text().splitlines()[0].endswith("info.acc,info.k")
    pytest.importorskip("pyarrow", reason="Parquet export needs pyarrow (pip install pyarrow)")
    df.to_parquet(tmp_path / "runs.parquet")
    back = pd.read_parquet(tmp_path / "runs.parquet")
    assert list(back.columns) == list(df.columns) and list(back["config_id"].iloc[0]) == [0, 0, 0]
    assert back["info.acc"].tolist()[:3] == pytest.approx([0.5, 0.6, 0.7])


def test_runs_table_query_sorts_filters_and_pages_on_the_server(tmp_path):
    directory = str(tmp_path / "j")
    losses = [0.5, None, 0.2, 0.9, None, 0.1, 0.7]
    with Journal(directory) as journal:
        for k, loss in enumerate(losses):
            write(journal, k, loss=loss)
    live = LiveRun(directory)
    live.update()
    answer = live.query_table(sort="loss", page=0, size=3)
    assert answer["total"] == answer["matched"] == 7 and answer["page"] == 0 and len(answer["rows"]) == 3
    loss_col = answer["columns"].index("loss")
    assert [row[loss_col] for row in answer["rows"]] == [0.1, 0.2, 0.5]
    last = live.query_table(sort="loss", page=99, size=3)  # past the end: the last page; empty losses last
    assert last["page"] == 2 and [row[loss_col] for row in last["rows"]] == [None]
    down = live.query_table(sort="loss", descending=True, size=10)["rows"]
    assert [row[loss_col] for row in down] == [0.9, 0.7, 0.5, 0.2, 0.1, None, None]  # empty still last
    assert all(len(row) == len(answer["columns"]) for row in down)
    failed = live.query_table(sort="config_id", filters={"status": "=failed"}, size=10)
    assert failed["matched"] == 2 and [row[0] for row in failed["rows"]] == [[0, 0, 1], [0, 0, 4]]
    assert live.query_table(filters={"loss": ">0.4", "kind": "a"})["matched"] == 2  # 0.5 (k=0) and 0.7 (k=6)
    assert live.query_table(filters={"status": "!ok"})["matched"] == 2
    assert live.query_table(filters={"info.k": "<=2"})["matched"] == 2  # k=0 and k=2 (k=1 failed: no info)
    assert live.query_table(filters={"config_id": "(0, 0, 3)"})["matched"] == 1  # as the page shows the id
    assert live.query_table(filters={"nope": "x"})["matched"] == 7  # an unknown column filters nothing
    csv_text = live.table_csv(sort="loss", filters={"status": "ok"})
    lines = csv_text.splitlines()
    assert lines[0].split(",")[:3] == ["config_id", "budget", "loss"] and len(lines) == 6
    assert lines[1].startswith('"(0, 0, 5)",1.0,0.1,ok,')


def test_runs_table_query_follows_appended_runs(tmp_path):
    """The page asks again when the version changed; the answer has the appended run, read incrementally."""
    directory = str(tmp_path / "j")
    with Journal(directory) as journal:
        for k in range(3):
            write(journal, k, loss=0.5)
        journal.flush()
        live = LiveRun(directory)
        live.update()
        first = live.query_table(sort="loss", size=2)
        before = live.bytes_read
        write(journal, 3, loss=0.01)
        journal.flush()
        assert live.update()
        again = live.query_table(sort="loss", size=2)
        assert again["version"] > first["version"] and again["total"] == 4
        assert again["rows"][0][0] == [0, 0, 3] and again["rows"][0][2] == 0.01
        assert live.bytes_read - before == sum(os.path.getsize(os.path.join(directory, f)) for f in (
            "configs.json", "results.json", "events.json")) - before


def test_a_journal_read_in_parts_adds_up_to_one_read(tmp_path):
    """The dashboard reads a large journal in parts and shows the state read so far: results wait for their
    configuration's line, and the parts end in the state one read gives."""
    directory = str(tmp_path / "j")
    with Journal(directory) as journal:
        journal.event("run_started", n_iterations=3)
        for k in range(40):
            write(journal, k, loss=None if k % 7 == 3 else 0.5 - k / 100)
        write(journal, 5, loss=0.001)  # run again: the later result wins
        journal.event("dispatch", config_id=[9, 0, 9], budget=1.0, worker="bandster.run_t.worker.h.1.0")
    whole = LiveRun(directory)
    whole.update()
    parts = LiveRun(directory)
    seen = []
    for _ in range(1000):
        parts.update(max_bytes=300)
        seen.append(parts.n_runs)
        if parts.at_end:
            break
    assert parts.loaded and len(seen) > 5 and seen[0] < seen[len(seen) // 2] < 40  # partial states on the way
    assert parts.table.rows == whole.table.rows and parts.table.columns == whole.table.columns
    now = time.time() + 10
    assert parts.status(now=now).to_dict() == whole.status(now=now).to_dict()
    assert parts.result() == whole.result() == logged_results_to_HBS_result(directory)
    assert parts.bytes_read >= whole.bytes_read  # a part's unfinished last line is read again with the next part


def test_live_run_reads_reports_as_they_come(tmp_path):
    from analysis_helpers import REPORTING_T0, write_reporting_journal

    live = LiveRun(str(tmp_path))
    journal = write_reporting_journal(str(tmp_path), keep_open=True)
    try:
        assert live.update()
        status = live.status(now=REPORTING_T0 + 10)
        assert (status.runs_stopped, status.runs_running, status.n_reports) == (2, 1, 8)
        assert status.latest_reports[((0, 0, 3), 9.0)]["step"] == 2.0
        assert len(live.result().get_reports()) == 8
        version = live.version
        journal.report((0, 0, 3), 9.0, 1, 3.0, 0.55, None, "continue", REPORTING_T0 + 9)
        journal.flush()
        assert live.update() and live.version == version + 1  # one new line read, nothing else
        assert live.status().latest_reports[((0, 0, 3), 9.0)]["step"] == 3.0
        assert len(live.result().get_reports()) == 9
        rows = {tuple(row[0]): row for _, row in live.table.changed_since(0)}
        assert rows[(0, 0, 1)][:4] == [[0, 0, 1], 3.0, 1.2, "stopped"]
    finally:
        journal.close()
