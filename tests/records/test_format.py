"""The journal's format: file names, journal directories, the lock probe and every reader."""

from __future__ import annotations

import collections
import json
import logging
import math
import os
import re
import sys

import pytest

import bandster.records.format as format_module
from bandster.records.format import (
    CONFIGS_FILENAME,
    EVENTS_FILENAME,
    LOCK_FILENAME,
    MANIFEST_FILENAME,
    PICKLE_FILENAME,
    RESULTS_FILENAME,
    RUNS_DIRNAME,
    dispatch_counts,
    find_journal,
    is_finite_number,
    is_float,
    is_journal,
    journal_directory_prefix,
    journal_is_live,
    json_lines,
    latest_journal_directory,
    lock_holder,
    new_journal_directory,
    read_configs,
    read_events,
    read_hb_config,
    read_manifest,
    read_results,
    replace_nonfinite,
)
from bandster.records.journal import Journal


def test_the_file_names_are_hpbandsters_and_bandsters():
    assert (CONFIGS_FILENAME, RESULTS_FILENAME) == ("configs.json", "results.json")  # HpBandSter's
    assert (EVENTS_FILENAME, MANIFEST_FILENAME, PICKLE_FILENAME, LOCK_FILENAME, RUNS_DIRNAME) == (
        "events.json", "run.json", "results.pkl", "journal.lock", "bandster_runs")


def test_the_writer_uses_the_format_names(tmp_path):
    with Journal(tmp_path) as journal:
        journal.write_manifest({"HB_config": {"eta": 3}})
        journal.write_result_pickle({"x": 1})
        journal.event("run_started")
        assert lock_holder(tmp_path) is not None and journal_is_live(tmp_path)
    names = set(os.listdir(tmp_path))
    assert {CONFIGS_FILENAME, RESULTS_FILENAME, EVENTS_FILENAME, MANIFEST_FILENAME, PICKLE_FILENAME,
            LOCK_FILENAME} <= names
    assert lock_holder(tmp_path) is None and not journal_is_live(tmp_path)
    assert is_journal(tmp_path) and find_journal(tmp_path) == str(tmp_path)


# --- directories -------------------------------------------------------------------------------------


def test_new_journal_directory_is_fresh_and_named(tmp_path):
    path = new_journal_directory(tmp_path, "my_run")
    assert os.path.isabs(path) and os.path.isdir(path) and os.listdir(path) == []
    assert os.path.dirname(path) == str(tmp_path / "bandster_runs")
    assert re.fullmatch(r"my_run_\d{8}-\d{6}", os.path.basename(path))


def test_new_journal_directory_never_reuses(tmp_path, monkeypatch):
    monkeypatch.setattr(format_module.time, "strftime", lambda fmt: "20240102-030405")
    first = new_journal_directory(tmp_path, "r")
    second = new_journal_directory(tmp_path, "r")
    third = new_journal_directory(tmp_path, "r")
    assert [os.path.basename(p) for p in (first, second, third)] == [
        "r_20240102-030405",
        "r_20240102-030405_2",
        "r_20240102-030405_3",
    ]
    assert latest_journal_directory(tmp_path, "r") == third


def test_latest_journal_directory(tmp_path):
    assert latest_journal_directory(tmp_path, "r") is None
    runs = tmp_path / "bandster_runs"
    for name in ("r_20240101-000000", "r_20240301-000000", "r_20240201-000000_7", "rr_20250101-000000"):
        (runs / name).mkdir(parents=True)
    (runs / "r_20990101-000000.txt").write_text("not a directory")
    assert latest_journal_directory(tmp_path, "r") == str(runs / "r_20240301-000000")
    assert latest_journal_directory(tmp_path, "rr") == str(runs / "rr_20250101-000000")
    assert latest_journal_directory(tmp_path, "other") is None


def test_run_id_with_separator_stays_inside(tmp_path):
    path = new_journal_directory(tmp_path, "a/b")
    assert os.path.dirname(path) == str(tmp_path / "bandster_runs")
    assert latest_journal_directory(tmp_path, "a/b") == path


def test_journal_directory_prefix():
    assert journal_directory_prefix("mnist") == "mnist"
    assert journal_directory_prefix("a/b\\c\x00d") == "a_b_c_d"
    assert [journal_directory_prefix(x) for x in ("", ".", "..")] == ["run", "run.", "run.."]


def test_find_journal_picks_the_newest_of_a_run(tmp_path):
    older = new_journal_directory(tmp_path, "r")
    with open(os.path.join(older, MANIFEST_FILENAME), "w") as fh:
        json.dump({"created": 100.0}, fh)
    newer = os.path.join(tmp_path, RUNS_DIRNAME, "r_20000101-000000")  # named older, created later
    os.makedirs(newer)
    with open(os.path.join(newer, MANIFEST_FILENAME), "w") as fh:
        json.dump({"created": 200.0}, fh)
    other = new_journal_directory(tmp_path, "s")
    open(os.path.join(other, CONFIGS_FILENAME), "w").close()
    assert find_journal(tmp_path, run_id="r") == newer
    assert find_journal(os.path.join(tmp_path, RUNS_DIRNAME), run_id="s") == other
    with pytest.raises(FileNotFoundError, match="no run journal of run 'x'"):
        find_journal(tmp_path, run_id="x")
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        find_journal(tmp_path / "missing")


# --- values ------------------------------------------------------------------------------------------


def test_replace_nonfinite_copies_and_replaces():
    value = {"a": [1.0, math.inf, (-math.inf, math.nan)], "b": "NaN", "c": 3}
    assert replace_nonfinite(value) == {"a": [1.0, "Infinity", ["-Infinity", "NaN"]], "b": "NaN", "c": 3}
    assert value["a"][1] == math.inf  # the argument is left alone


def test_number_checks():
    assert [is_finite_number(v) for v in (1, 1.5, True, math.nan, math.inf, 10**400, "1", None)] == [
        True, True, False, False, False, False, False, False]
    assert [is_float(v) for v in (1, math.nan, 10**400, False)] == [True, True, False, False]


# --- readers -----------------------------------------------------------------------------------------


def test_json_lines_skips_bad_lines_with_their_numbers(tmp_path, caplog):
    path = tmp_path / "x.json"
    path.write_bytes(b'[1]\n\n{not json}\n\xff\xfe\n"ok"\n[2, "torn')
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        assert list(json_lines(path)) == [(1, [1]), (5, "ok")]
    assert "garbled line 3 (not valid JSON)" in caplog.text
    assert "garbled line 4 (not valid UTF-8)" in caplog.text
    assert "torn last line 6" in caplog.text


def test_json_lines_missing_file_and_filter(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        assert list(json_lines(tmp_path / "none.json", missing_ok=True)) == []
    assert caplog.text == ""
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        assert list(json_lines(tmp_path / "none.json")) == []
    assert "none.json cannot be read" in caplog.text
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}\n{broken "b"\n{"b": 2}\n')
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        assert list(json_lines(path, containing=b'"b"')) == [(3, {"b": 2})]  # line 1 is never parsed
    assert "garbled line 2" in caplog.text


def test_read_configs_and_results(tmp_path):
    configs = tmp_path / CONFIGS_FILENAME
    configs.write_text(
        '[[0, 0, 0], {"x": 1}, {"model_based_pick": false}]\n'
        '[[0, 0, 1], {"x": 2}]\n'  # HpBandSter's two-element line
        '[[0, 0, true], {"x": 3}, {}]\n'  # not a config id: skipped
        '[[0, 0, 2], {"x": 4}, 7]\n'  # config_info not an object: left empty
    )
    assert list(read_configs(configs)) == [
        ((0, 0, 0), {"x": 1}, {"model_based_pick": False}),
        ((0, 0, 1), {"x": 2}, "N/A"),
        ((0, 0, 2), {"x": 4}, {}),
    ]
    results = tmp_path / RESULTS_FILENAME
    results.write_text(
        '[[0, 0, 0], 1, {"finished": 2.0}, {"loss": "Infinity", "info": null}, null, {"worker": "w", "attempt": 2}]\n'
        '[[0, 0, 1], 1.0, {"finished": "x"}, {"loss": NaN, "info": 1}, null]\n'
        '[[0, 0, 2], "Infinity", {}, null, "boom"]\n'  # budget not finite: skipped
    )
    rows = list(read_results(results))
    assert rows[0] == ((0, 0, 0), 1.0, {"finished": 2.0}, {"loss": math.inf, "info": None}, None,
                       {"worker": "w", "attempt": 2})
    assert rows[1][:3] == ((0, 0, 1), 1.0, {}) and math.isnan(rows[1][3]["loss"]) and rows[1][5] is None
    assert len(rows) == 2 and rows[0][1] is rows[1][1]  # equal budgets share one float


def test_read_events_and_dispatch_counts(tmp_path, caplog):
    assert read_events(tmp_path) == [] and dispatch_counts(tmp_path) == collections.Counter()
    lines = [
        {"time": 1.0, "event": "run_started"},
        {"time": 2.0, "event": "dispatch", "config_id": [0, 0, 0], "budget": 1},
        {"time": 3.0, "event": "dispatch", "config_id": [0, 0, 0], "budget": 1.0},
        {"time": 4.0, "event": "requeued", "config_id": [0, 0, 1], "budget": 1.0, "note": "dispatch"},
        {"time": 5.0, "event": "dispatch", "config_id": [0, 0, 1]},  # no budget: not counted
        {"event": "dispatch", "config_id": [0, 0, 2], "budget": 1.0},  # no time: not an event for read_events
        [1, 2],
    ]
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"time": 6.0, "event": "dispa'
    (tmp_path / EVENTS_FILENAME).write_text(text)
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        events = read_events(tmp_path)
        counts = dispatch_counts(tmp_path)
    assert [e["time"] for e in events] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert counts == collections.Counter({((0, 0, 0), 1.0): 2, ((0, 0, 2), 1.0): 1})
    assert "torn last line 8" in caplog.text


def test_read_manifest_and_hb_config(tmp_path, caplog):
    assert read_manifest(tmp_path) is None and read_hb_config(tmp_path) is None
    (tmp_path / MANIFEST_FILENAME).write_text("{broken")
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        assert read_manifest(tmp_path) is None and read_hb_config(tmp_path) is None
    assert "HB_config is inferred from the results" in caplog.text
    (tmp_path / MANIFEST_FILENAME).write_text(json.dumps(
        {"created": 5.0, "HB_config": {"eta": 3, "min_budget": "one", "budgets": [1, 3, 9], "time_ref": None}}))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        assert read_manifest(tmp_path)["created"] == 5.0
        assert read_hb_config(tmp_path) == {"eta": 3, "budgets": [1, 3, 9], "time_ref": None}
    assert "HB_config entries min_budget are not valid" in caplog.text
    (tmp_path / MANIFEST_FILENAME).write_text("[1, 2]")
    assert read_manifest(tmp_path) is None


@pytest.mark.skipif(sys.platform != "linux", reason="flock semantics checked on Linux")
def test_lock_holder_names_this_process(tmp_path):
    assert lock_holder(tmp_path) is None
    with Journal(tmp_path):
        pid, host = lock_holder(tmp_path)
        assert pid == os.getpid() and host
    (tmp_path / LOCK_FILENAME).write_text("garbage")  # a lock file nobody holds
    assert lock_holder(tmp_path) is None


def test_line_tail_reads_the_same_with_and_without_orjson(tmp_path, monkeypatch):
    """orjson (optional) parses strict JSON only: a batch with HpBandSter's bare NaN tokens, a huge integer or a
    garbled line falls back to the json module, line by line where needed, and gives the same values."""
    lines = [b'[[0, 0, 0], 1.0, {"finished": 2.5}, {"loss": NaN, "info": {"k": 1}}, null]',
             b'[[0, 0, 1], 1.0, {}, {"loss": 0.5, "info": {"big": 123456789012345678901234567890}}, null]',
             b'not json', b'[[0, 0, 2], 3.0, {}, {"loss": -Infinity, "info": "\\u00e9\xc3\xa9"}, null]',
             b'{"event": "dispatch", "time": 1.5}', b'']
    path = tmp_path / "results.json"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with_default = format_module.LineTail(str(path)).read()
    monkeypatch.setattr(format_module, "_orjson", None)
    with_json = format_module.LineTail(str(path)).read()
    assert repr(with_default) == repr(with_json)  # repr: NaN != NaN
    assert [n for n, _ in with_json] == [1, 2, 4, 5]
    assert with_json[1][1][3]["info"]["big"] == 123456789012345678901234567890


@pytest.mark.parametrize("lines", [
    [b'{"a": 1}', b'{"b": 2}\r', b'[1, 2]'],  # the usual lines (one with a CR before its newline): one array
    [b'{"a": 1}', b'1, 2', b'{"b": 2}'],  # a line of two values: as many values as lines no more
    [b'{"a": 1}', b' \t', b'{"b": 2}', b''],  # blank lines: skipped, the line numbers kept
])
def test_line_tail_parses_a_batch_as_each_line_alone(tmp_path, lines):
    """With orjson, a part is parsed as one array (its newlines made commas); any line that is not one JSON value
    sends it to the line-by-line reading, so the values and line numbers are those of each line parsed alone."""
    path = tmp_path / "events.json"
    path.write_bytes(b"\n".join(lines) + b"\n")
    expected = []
    for number, line in enumerate(lines, start=1):
        try:
            expected.append((number, json.loads(line)))
        except ValueError:
            pass
    assert format_module.LineTail(str(path)).read() == expected


def test_paused_gc_long_lived_moves_what_was_built_to_the_oldest_generation():
    """long_lived=True: what was built during the pause goes to the collector's oldest generation at once (not
    walked by the young collections first); someone else's gc.freeze() is left as it is."""
    import gc

    with format_module.paused_gc(long_lived=True):
        built = [[k] for k in range(100)]
    assert gc.isenabled()
    oldest = {id(obj) for obj in gc.get_objects(generation=2)}
    assert all(id(item) in oldest for item in built)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with format_module.paused_gc(long_lived=True):
            more = [[k] for k in range(100)]
        assert gc.get_freeze_count() == frozen and more  # nothing unfrozen
    finally:
        gc.unfreeze()
