"""The records' old homes (HpBandSter's paths and bandster's earlier ones) still give the same objects, and
pickles that name them still load."""

from __future__ import annotations

import pickle

import bandster.analysis.journal
import bandster.core.base_iteration
import bandster.core.journal
import bandster.core.result
import bandster.core.run_table
from bandster import records
from bandster.records import datum, journal, result, run_table
from bandster.records import format as journal_format


def test_old_paths_re_export_the_same_objects():
    for name in ("Result", "Run", "extract_HBS_learning_curves", "logged_results_to_HBS_result", "json_result_logger"):
        assert getattr(bandster.core.result, name) is getattr(result, name)
    for name in ("Journal", "json_result_logger", "encode_line", "WRITER_THREAD_NAME"):
        assert getattr(bandster.core.journal, name) is getattr(journal, name)
    for name in ("new_journal_directory", "latest_journal_directory", "lock_holder", "RUNS_DIRNAME",
                 "CONFIGS_FILENAME", "RESULTS_FILENAME", "EVENTS_FILENAME", "MANIFEST_FILENAME",
                 "PICKLE_FILENAME", "LOCK_FILENAME"):
        assert getattr(bandster.core.journal, name) is getattr(journal_format, name)
    for name in ("RunTable", "RunTableBuilder", "copy_dict", "STAMP_KEYS"):
        assert getattr(bandster.core.run_table, name) is getattr(run_table, name)
    for name in ("find_journal", "is_journal", "read_manifest", "read_events", "journal_is_live"):
        assert getattr(bandster.analysis.journal, name) is getattr(journal_format, name)
    for name in ("Datum", "QUEUED", "RUNNING", "REVIEW", "CRASHED", "TERMINATED", "COMPLETED"):
        assert getattr(bandster.core.base_iteration, name) is getattr(datum, name)
    for name in records.__all__:
        assert getattr(records, name) is not None
    for module in (bandster.core.result, bandster.core.journal, bandster.core.run_table, bandster.analysis.journal):
        assert all(hasattr(module, name) for name in module.__all__)


def _result() -> result.Result:
    entry = datum.Datum({"x": 0.5}, {"model_based_pick": False}, results={1.0: {"loss": 0.25, "info": {"a": 1}}},
                        time_stamps={1.0: {"submitted": 0.0, "started": 0.5, "finished": 1.0}})
    entry.extras[1.0] = {"worker": "w0", "attempt": 1, "status": "ok"}
    return result.Result([{(0, 0, 0): entry}], {"time_ref": 0.0, "budgets": [1.0], "max_budget": 1.0})


def test_a_pickle_naming_the_old_modules_loads(monkeypatch):
    """results.pkl files written before the move name bandster.core.result.Result and
    bandster.core.run_table.RunTable: pickle them under those names and load them back."""
    original = _result()
    monkeypatch.setattr(result.Result, "__module__", "bandster.core.result")
    monkeypatch.setattr(run_table.RunTable, "__module__", "bandster.core.run_table")
    old = pickle.dumps(original)
    monkeypatch.undo()
    assert b"bandster.core.result" in old and b"bandster.core.run_table" in old
    assert b"bandster.records" not in old
    loaded = pickle.loads(old)
    assert type(loaded) is result.Result and loaded == original
    assert loaded.get_all_runs()[0].info == {"a": 1}
    assert b"bandster.records.result" in pickle.dumps(loaded)
