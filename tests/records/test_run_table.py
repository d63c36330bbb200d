"""RunTable: the compact store behind Result, on hand-made cases (no network, no journal files)."""

from __future__ import annotations

import json
import math
import pickle
import tracemalloc

import numpy as np
import pytest

from bandster.records.datum import Datum
from bandster.records.result import Result, logged_results_to_HBS_result
from bandster.records.run_table import DeferredRunTableBuilder, RunTableBuilder

OK = {"worker": "w0", "attempt": 1, "status": "ok"}


def stamps(t: float) -> dict:
    return {"submitted": t, "started": t + 0.5, "finished": t + 1.0}


def test_rows_are_unique_per_config_and_budget_the_last_wins_and_sorted_by_budget():
    b = RunTableBuilder()
    first = b.add_config((0, 0, 0), {"x": 1}, {})
    second = b.add_config((0, 0, 1), {"x": 2}, {})
    b.add_run(first, 9.0, stamps(100.0), {"loss": 3.0, "info": None}, None, OK)
    b.add_run(second, 3.0, stamps(101.0), {"loss": 2.0, "info": None}, None, OK)
    b.add_run(first, 3.0, stamps(102.0), {"loss": 1.0, "info": "a"}, None, OK)
    b.add_run(first, 9.0, stamps(103.0), {"loss": 0.5, "info": "b"}, None, None)  # replaces the first run
    table = b.finish(time_ref=100.0)
    assert len(table) == 3 and list(table.starts) == [0, 2, 3]
    assert table.budget.tolist() == [3.0, 9.0, 3.0] and table.row_config.tolist() == [0, 0, 1]
    assert table.result_at(1) == {"loss": 0.5, "info": "b"} and table.extras_at(1) is None  # no extras: unknown
    assert table.stamps_at(1) == {"submitted": 3.0, "started": 3.5, "finished": 4.0}  # relative to time_ref
    assert table.extras_at(0) == OK and table.extras_at(0) is not table.extras_at(0)  # fresh dicts
    assert table.datum_budgets == [9.0, 3.0]  # derived: the largest budget of the config's runs


def test_configs_replaced_in_place_and_ordered_by_iteration_when_asked():
    b = RunTableBuilder()
    for config_id in [(2, 0, 0), (0, 0, 0), (1, 0, 0), (0, 0, 1)]:
        b.add_config(config_id, {"id": list(config_id)}, {})
    assert b.add_config((1, 0, 0), {"id": "again"}, {"model_based_pick": True}) == 2  # keeps its place
    b.add_run(0, 1.0, stamps(0.0), None, "Traceback: boom", OK)
    table = b.finish(order_by_iteration=True)
    assert table.config_ids == [(0, 0, 0), (0, 0, 1), (1, 0, 0), (2, 0, 0)]  # stable within an iteration
    assert table.configs[2] == {"id": "again"} and table.config_infos[2] == {"model_based_pick": True}
    assert list(table.starts) == [0, 0, 0, 0, 1] and table.row_config.tolist() == [3]
    assert table.result_at(0) is None and table.exceptions == {0: "Traceback: boom"}
    assert table.datum_budgets == [0, 0, 0, 1.0]  # 0 without runs, as the journal reader always had it
    assert b.finish().config_ids[0] == (2, 0, 0)  # without ordering: as added


def test_unusual_results_and_stamps_are_kept_as_they_are():
    b = RunTableBuilder()
    i = b.add_config((0, 0, 0), {}, {})
    b.add_run(i, 1.0, {"submitted": 5, "finished": 7, "queued": 4.0}, {"loss": 2, "info": [1], "extra": 1}, None, OK)
    b.add_run(i, 2.0, {"finished": 6.0}, "not a dict", None, OK)
    b.add_run(i, 3.0, {}, {"loss": float("nan"), "info": None}, None, OK)
    table = b.finish(time_ref=1.0)
    assert table.stamps_at(0) == {"submitted": 4, "finished": 6, "queued": 3.0}  # ints stay ints
    assert table.result_at(0) == {"loss": 2, "info": [1], "extra": 1} and table.result_at(1) == "not a dict"
    assert math.isnan(table.result_at(2)["loss"]) and table.stamps_at(2) == {}
    losses = table.ranking_losses()
    assert losses[0] == 2.0 and np.isnan(losses[1:]).all()  # a string result and a NaN loss are failures
    fields = table.run_fields(range(3))
    assert [f[2] for f in fields[:2]] == [2, None] and fields[0][3] == [1]  # loss, info
    assert table.finish_order().tolist() == [1, 0, 2]  # finished 5.0 (row 1), 6 (row 0), never (row 2)


def test_finish_order_puts_runs_without_a_finish_stamp_last_in_their_order():
    b = RunTableBuilder()
    i = b.add_config((0, 0, 0), {}, {})
    for budget, stamp in [(1.0, {"submitted": 1.0}), (2.0, {"finished": 9.0}), (3.0, {}), (4.0, {"finished": 2.0})]:
        b.add_run(i, budget, stamp, None, None, None)
    table = b.finish()
    assert table.finish_order().tolist() == [3, 1, 0, 2]
    assert table.finish_order(np.array([0, 1])).tolist() == [1, 0]


def test_equal_plain_dicts_are_stored_once_floats_never_shared():
    b = RunTableBuilder()
    for n in range(3):
        i = b.add_config((0, 0, n), {"x": n}, {"model_based_pick": False})
        b.add_run(i, 1.0, stamps(n), {"loss": 1.0, "info": None}, None, {"worker": "w", "attempt": 1, "status": "ok"})
    i = b.add_config((0, 0, 3), {}, {"model_based_pick": 0})  # 0 == False, but not the same value
    b.add_run(i, 1.0, stamps(3), None, None, {"worker": "w", "attempt": 1.0, "status": "ok"})  # a float: not shared
    table = b.finish()
    assert table.config_infos[0] is table.config_infos[1] is table.config_infos[2]
    assert table.config_infos[3] == {"model_based_pick": 0} and type(table.config_infos[3]["model_based_pick"]) is int
    assert len(table.extras_values) == 2 and table.extras.tolist() == [0, 0, 0, 1]


def test_deferred_builder_replays_into_the_same_table():
    """DeferredRunTableBuilder records the calls (the usual result as its loss and info) and replays them in
    order, in parts too: the same indices and the same table as the builder fed directly, unusual results,
    failures, replaced configurations and runs included."""
    calls = [
        ("config", (0, 0, 0), {"x": 1}, {"model_based_pick": True}),
        ("run", (0, 0, 0), 1.0, stamps(100.0), {"loss": 0.5, "info": {"acc": 0.9}}, None, OK),
        ("config", (0, 0, 1), {"x": 2}, {}),
        ("run", (0, 0, 1), 1.0, stamps(101.0), None, "Traceback: boom", {"worker": "w1", "attempt": 2,
                                                                           "status": "failed"}),
        ("run", (0, 0, 1), 3.0, {"odd": "stamp"}, {"loss": 1, "info": None, "more": [1]}, None, None),
        ("config", (0, 0, 0), {"x": 3}, {}),  # replaced where it stands
        ("run", (0, 0, 0), 1.0, stamps(102.0), {"loss": float("nan"), "info": None}, None, OK),  # the later wins
        ("config", (1, 0, 0), {}, "N/A"),
        ("run", (1, 0, 0), 9.0, stamps(103.0), {"info": "no loss"}, None, OK),
    ]
    direct, deferred = RunTableBuilder(), DeferredRunTableBuilder()
    for position, call in enumerate(calls):
        for builder in (direct, deferred):
            if call[0] == "config":
                index = builder.add_config(*call[1:])
            else:
                builder.add_run(builder.index_of(call[1]), *call[2:])
        if call[0] == "config":
            assert deferred.index_of(call[1]) == direct.index_of(call[1])
        if position == 4:
            assert deferred.pending == 5
            deferred.built()  # a first replay: the rest is replayed by the next
            assert deferred.pending == 0
    assert index == direct.index_of((1, 0, 0))
    one, other = direct.finish(time_ref=100.0), deferred.built().finish(time_ref=100.0)
    assert len(one) == len(other) == 4  # (0, 0, 0) on budget 1 ran twice: one row
    for row in range(len(one)):
        assert repr((one.result_at(row), one.stamps_at(row), one.extras_at(row))) == repr(
            (other.result_at(row), other.stamps_at(row), other.extras_at(row)))
    assert one.config_ids == other.config_ids and one.configs == other.configs
    assert one.exceptions == other.exceptions and one.config_infos == other.config_infos
    with pytest.raises(ValueError, match="budget"):
        deferred.add_run(0, "x", {}, None, None, None)


def test_a_budget_must_be_a_number():
    b = RunTableBuilder()
    i = b.add_config((0, 0, 0), {}, {})
    with pytest.raises(ValueError, match="budget of a run must be a number"):
        b.add_run(i, "3", {}, None, None, None)


def test_result_data_is_a_read_only_view_of_copies():
    d = Datum(config={"x": 0.5}, config_info={}, budget=3.0)
    d.results[3.0] = {"loss": 1.0, "info": None}
    d.time_stamps[3.0] = stamps(10.0)
    d.exceptions[3.0] = None
    d.extras[3.0] = dict(OK)
    result = Result({(0, 0, 0): d}, {"time_ref": 10.0, "max_budget": 3.0})
    d.config["x"] = 99  # the caller's Datum was copied
    view = result[(0, 0, 0)]
    assert view.config == {"x": 0.5} and view.time_stamps == {3.0: {"submitted": 0.0, "started": 0.5, "finished": 1.0}}
    view.results[3.0]["loss"] = -5.0
    assert result.get_incumbent_id() == (0, 0, 0) and result.get_runs_by_id((0, 0, 0))[0].loss == 1.0
    assert (0, 0, 0) in result.data and [0, 0, 0] in result.data and (9, 9, 9) not in result.data
    assert len(result.data) == 1 and list(result.data) == [(0, 0, 0)]
    with pytest.raises(KeyError):
        result[(1, 0, 0)]


def test_a_pickle_of_the_old_layout_still_loads():
    d = Datum(config={"x": 0.5}, config_info={"model_based_pick": False}, budget=1.0)
    d.results[1.0] = {"loss": 0.25, "info": None}
    d.time_stamps[1.0] = {"submitted": 0.0, "started": 0.1, "finished": 1.0}  # relative already
    d.exceptions[1.0] = None
    old = Result.__new__(Result)
    old.__dict__.update(HB_config={"time_ref": 50.0, "max_budget": 1.0}, data={(0, 0, 0): d})
    loaded = pickle.loads(pickle.dumps(old))
    run = loaded.get_all_runs()[0]
    assert run.loss == 0.25 and run.time_stamps["finished"] == 1.0 and loaded.get_incumbent_id() == (0, 0, 0)


def test_a_large_result_is_compact(tmp_path):
    """20,000 runs read from a journal: well under 1 KB of Python allocations each (461 bytes on CPython 3.11,
    configurations included; one Datum per configuration took about 2.3 KB)."""
    n = 20_000
    with open(tmp_path / "configs.json", "w") as fh:
        for k in range(n):
            fh.write(json.dumps([[k // 10, 0, k % 10], {"c": "ab"[k % 2], "n": k % 64, "x": k / n, "y": 1 / (k + 1)},
                                 {}]) + "\n")
    with open(tmp_path / "results.json", "w") as fh:
        for k in range(n):
            line = [[k // 10, 0, k % 10], 27.0, stamps(1e9 + k), {"loss": k / n, "info": None}, None, OK]
            fh.write(json.dumps(line) + "\n")
    tracemalloc.start()
    try:
        result = logged_results_to_HBS_result(tmp_path)
        size = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(result.get_all_runs()) == n
    assert size / n < 1000, f"{size / n:.0f} bytes per run"
