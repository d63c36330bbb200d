"""Run, Result, and reading journals (bandster's and HpBandSter's) back."""

from __future__ import annotations

import copy
import json
import logging
import math
import pickle

import ConfigSpace as CS
import numpy as np
import pytest

from bandster.core.job import Job
from bandster.records.datum import Datum
from bandster.records.journal import Journal
from bandster.records.result import Result, Run, extract_HBS_learning_curves, logged_results_to_HBS_result

T0 = 1_700_000_000.0
HB_CONFIG = {
    "time_ref": T0,
    "eta": 3.0,
    "min_budget": 1.0,
    "max_budget": 9.0,
    "budgets": [1.0, 3.0, 9.0],
    "max_SH_iter": 3,
}


def stamps(submitted: float, finished: float) -> dict:
    return {"submitted": T0 + submitted, "started": T0 + submitted + 0.1, "finished": T0 + finished}


def datum(config: dict, runs: dict, info: dict | None = None) -> Datum:
    """A Datum as the master fills it: ``runs`` maps budget -> (loss | None, submitted, finished)."""
    d = Datum(config=config, config_info=info if info is not None else {"model_based_pick": False})
    for budget, (loss, submitted, finished) in runs.items():
        d.time_stamps[budget] = stamps(submitted, finished)
        if loss is None:
            d.results[budget] = None
            d.exceptions[budget] = "Traceback (most recent call last):\nValueError: boom"
        else:
            d.results[budget] = {"loss": loss, "info": {"budget_seen": budget}}
            d.exceptions[budget] = None
        status = "ok" if loss is not None and math.isfinite(loss) else "failed"
        d.extras[budget] = {"worker": "w0", "attempt": 1, "status": status}
    return d


def hand_made() -> Result:
    it0 = {
        (0, 0, 0): datum({"x": 0.1, "c": "a"}, {1.0: (5.0, 0, 1), 3.0: (4.0, 4, 5), 9.0: (3.0, 10, 11)}),
        (0, 0, 1): datum({"x": 0.2, "c": "b"}, {1.0: (2.0, 0, 2), 3.0: (1.0, 5, 6), 9.0: (float("nan"), 11, 12)}),
        (0, 0, 2): datum({"x": 0.3, "c": "a"}, {1.0: (None, 0, 3)}),
    }
    it1 = {
        (1, 0, 0): datum({"x": 0.4, "c": "b"}, {3.0: (0.5, 13, 14), 9.0: (2.5, 14, 15)}, {"model_based_pick": True}),
        (1, 0, 1): datum({"x": 0.5, "c": "a"}, {9.0: (-math.inf, 15, 16)}),
        (1, 0, 2): datum({"x": 0.6, "c": "b"}, {3.0: (7.0, 16, 17)}),
    }
    return Result([it0, it1], dict(HB_CONFIG))


# --- Run ---------------------------------------------------------------------------------------------


def test_run_struct():
    run = Run((0, 0, 1), 3.0, 0.25, {"a": 1}, {"finished": 2.0}, None, worker_name="w", attempt=2)
    assert run["loss"] == 0.25 and run["budget"] == 3.0 and run["info"] == {"a": 1} and run.status == "ok"
    with pytest.raises(KeyError):
        run["nope"]
    assert Run((0, 0, 1), 3.0, float("nan"), None, {}, None).status == "failed"
    assert Run((0, 0, 1), 3.0, None, None, {}, "tb").status == "failed"


def test_run_repr_survives_missing_stamps():
    text = repr(Run((0, 0, 1), None, None, None, {"submitted": 1.0}, "Traceback"))
    assert "submitted=1.0" in text and "finished=?" in text and "Traceback" in text
    assert "finished=?" in repr(Run((0, 0, 1), 1.0, 0.5, None, None, None))


def test_run_equality():
    a = Run((0, 0, 1), 3.0, float("nan"), {"v": float("nan")}, {"finished": 1.0}, None)
    b = Run([0, 0, 1], 3.0, float("nan"), {"v": "NaN"}, {"finished": 1.0}, None)  # as read back from JSON
    assert a == b
    assert a != Run((0, 0, 1), 3.0, 1.0, {"v": float("nan")}, {"finished": 1.0}, None)
    assert a != Run((0, 0, 1), 3.0, float("nan"), {"v": float("nan")}, {"finished": 1.5}, None)
    assert Run((0, 0, 1), 1.0, None, None, {}, "tb") != Run((0, 0, 1), 1.0, None, None, {}, "other")
    assert Run((0, 0, 1), 1.0, 1.0, None, {}, None, worker_name="a") != Run(
        (0, 0, 1), 1.0, 1.0, None, {}, None, worker_name="b"
    )


def test_extract_learning_curve():
    runs = [
        Run((0, 0, 0), 9.0, 1.0, None, {}, None),
        Run((0, 0, 0), 1.0, 3.0, None, {}, None),
        Run((0, 0, 0), 3.0, None, None, {}, "tb"),
    ]
    assert extract_HBS_learning_curves(runs) == [[(1.0, 3.0), (9.0, 1.0)]]
    assert extract_HBS_learning_curves([]) == [[]]


# --- Result on a hand-made run -----------------------------------------------------------------------


def test_result_shifts_time_on_copies():
    original = datum({"x": 1}, {1.0: (1.0, 2, 3)})
    result = Result([{(0, 0, 0): original}], dict(HB_CONFIG))
    assert result[(0, 0, 0)].time_stamps[1.0] == pytest.approx({"submitted": 2.0, "started": 2.1, "finished": 3.0})
    assert original.time_stamps[1.0]["submitted"] == T0 + 2  # the input is untouched
    assert result.HB_config == HB_CONFIG and result.num_iterations() == 1


def test_incumbent_ignores_nonfinite_and_lower_budgets():
    result = hand_made()
    # on budget 9: 3.0, NaN, 2.5, -inf -> the finite minimum is (1, 0, 0)
    assert result.get_incumbent_id() == (1, 0, 0)
    assert result.get_incumbent_per_budget() == {1.0: (0, 0, 1), 3.0: (1, 0, 0), 9.0: (1, 0, 0)}
    only_bad = Result([{(0, 0, 0): datum({"x": 1}, {9.0: (float("nan"), 0, 1), 3.0: (1.0, 0, 1)})}], HB_CONFIG)
    assert only_bad.get_incumbent_id() is None


def test_incumbent_trajectory_all_budgets():
    traj = hand_made().get_incumbent_trajectory()
    # finish order: (0,0,0)@1 t1, (0,0,1)@1 t2, (0,0,2)@1 failed t3, (0,0,0)@3 t5, (0,0,1)@3 t6,
    # (0,0,0)@9 t11, (0,0,1)@9 NaN t12, (1,0,0)@3 t14, (1,0,0)@9 t15, (1,0,1)@9 -inf t16, (1,0,2)@3 t17
    assert traj["config_ids"] == [(0, 0, 0), (0, 0, 1), (0, 0, 0), (0, 0, 1), (0, 0, 0), (1, 0, 0), (1, 0, 0)]
    assert traj["losses"] == [5.0, 2.0, 4.0, 1.0, 3.0, 2.5, 2.5]
    assert traj["budgets"] == [1.0, 1.0, 3.0, 3.0, 9.0, 9.0, 9.0]
    assert traj["times_finished"] == pytest.approx([1, 2, 5, 6, 11, 15, 17])
    assert all(math.isfinite(loss) for loss in traj["losses"])


def test_incumbent_trajectory_largest_budget_only():
    traj = hand_made().get_incumbent_trajectory(all_budgets=False)  # HpBandSter raised NameError here
    assert traj["config_ids"] == [(0, 0, 0), (1, 0, 0), (1, 0, 0)]
    assert traj["losses"] == [3.0, 2.5, 2.5]
    assert traj["budgets"] == [9.0, 9.0, 9.0]
    assert traj["times_finished"] == pytest.approx([11, 15, 16])


def test_incumbent_trajectory_options():
    result = hand_made()
    strict = result.get_incumbent_trajectory(bigger_is_better=False)
    assert strict["losses"] == [5.0, 2.0, 1.0, 0.5, 0.5]
    assert strict["budgets"] == [1.0, 1.0, 3.0, 3.0, 3.0]
    free = result.get_incumbent_trajectory(bigger_is_better=False, non_decreasing_budget=False)
    assert free["losses"][-2:] == [0.5, 0.5] and free["config_ids"][-2] == (1, 0, 0)
    empty = Result([{}], HB_CONFIG).get_incumbent_trajectory()
    assert empty == {"config_ids": [], "times_finished": [], "budgets": [], "losses": []}


def test_get_all_runs_is_time_ordered():
    result = hand_made()
    finished = [r.time_stamps["finished"] for r in result.get_all_runs()]
    assert finished == sorted(finished) and len(finished) == 11
    largest = result.get_all_runs(only_largest_budget=True)
    assert [(r.config_id, r.budget) for r in largest] == [
        ((0, 0, 2), 1.0),
        ((0, 0, 0), 9.0),
        ((0, 0, 1), 9.0),
        ((1, 0, 0), 9.0),
        ((1, 0, 1), 9.0),
        ((1, 0, 2), 3.0),
    ]


def test_get_runs_by_id():
    result = hand_made()
    runs = result.get_runs_by_id((0, 0, 1))
    assert [r.budget for r in runs] == [1.0, 3.0, 9.0]
    assert math.isnan(runs[2].loss) and runs[2].status == "failed" and runs[0].status == "ok"
    (failed,) = result.get_runs_by_id([0, 0, 2])
    assert failed.loss is None and failed.info is None and "ValueError: boom" in failed.error_logs
    assert failed.worker_name == "w0" and failed.attempt == 1


def test_mappings_and_learning_curves():
    result = hand_made()
    mapping = result.get_id2config_mapping()
    assert mapping[(1, 0, 0)] == {"config": {"x": 0.4, "c": "b"}, "config_info": {"model_based_pick": True}}
    mapping[(1, 0, 0)]["config"]["x"] = 99
    assert result[(1, 0, 0)].config["x"] == 0.4  # deep copies
    curves = result.get_learning_curves(config_ids=[(0, 0, 0), (0, 0, 2)])
    assert curves == {(0, 0, 0): [[(1.0, 5.0), (3.0, 4.0), (9.0, 3.0)]], (0, 0, 2): [[]]}
    assert len(result.get_learning_curves()) == 6
    assert result.num_iterations() == 2


def test_fanova_data_does_not_mutate_config_space():
    space = CS.ConfigurationSpace(seed=0)
    space.add([CS.UniformFloatHyperparameter("x", 0.0, 1.0), CS.CategoricalHyperparameter("c", ["a", "b"])])
    before = copy.deepcopy(space)
    X, y, returned = hand_made().get_fANOVA_data(space)
    assert space == before and "budget" not in space
    assert "budget" in returned and returned is not space
    names = list(returned.keys())
    assert X.shape == (8, 3) and y.shape == (8,)  # 8 runs with a finite loss
    first = X[0]  # (0, 0, 0) on budget 1, the first to finish
    assert first[names.index("x")] == pytest.approx(0.1)
    assert first[names.index("c")] == 0.0 and first[names.index("budget")] == 1.0
    assert y[0] == 5.0
    X2, y2, _ = hand_made().get_fANOVA_data(space, budgets=[9.0], failed_loss=100.0, loss_fn=lambda r: -r.loss)
    assert X2.shape == (4, 2) and sorted(y2) == [-3.0, -2.5, 100.0, 100.0]
    assert space == before


def test_pandas_dataframe_honours_loss_fn():
    result = hand_made()
    df_x, df_y = result.get_pandas_dataframe(loss_fn=lambda r: 10 * r.loss)
    assert len(df_x) == len(df_y) == 10  # the run without a loss is left out
    assert set(df_x.columns) == {"x", "c", "budget"}
    assert df_y["loss"].iloc[0] == 50.0
    df_x9, df_y9 = result.get_pandas_dataframe(budgets=[9.0])
    assert "budget" not in df_x9.columns and len(df_y9) == 4


def test_pandas_without_budgets_in_hb_config():
    config = {k: v for k, v in HB_CONFIG.items() if k != "budgets"}  # as RandomSearch had it
    result = Result([hand_made().data], config)
    df_x, _ = result.get_pandas_dataframe()
    assert sorted(df_x["budget"].unique()) == [1.0, 3.0, 9.0]


def test_to_dataframe():
    df = hand_made().to_dataframe()
    assert len(df) == 11
    assert list(df.columns) == [
        "config_id",
        "x",
        "c",
        "budget",
        "loss",
        "status",
        "stopped_at",  # the step of a run stopped at an intermediate report (empty here)
        "submitted",
        "started",
        "finished",
        "worker",
        "attempt",
        "model_based_pick",
        "info.budget_seen",  # the user's info metrics, one column each
    ]
    row = df[(df["config_id"] == (1, 0, 0)) & (df["budget"] == 9.0)].iloc[0]
    assert row["loss"] == 2.5 and row["status"] == "ok" and bool(row["model_based_pick"]) is True
    assert row["info.budget_seen"] == 9.0
    assert row["finished"] == pytest.approx(15.0) and row["worker"] == "w0"
    assert list(df["finished"]) == sorted(df["finished"])
    assert (df["status"] == "failed").sum() == 3


def test_result_equality_and_pickle():
    result = hand_made()
    assert result == hand_made()
    clone = pickle.loads(pickle.dumps(result))
    assert clone == result and clone.get_incumbent_id() == result.get_incumbent_id()
    data = {config_id: result[config_id] for config_id in result.data}
    data[(0, 0, 0)].results[9.0] = {"loss": 3.5, "info": {"budget_seen": 9.0}}  # a copy: result is unchanged
    assert result == hand_made()
    changed = Result(data, dict(result.HB_config, time_ref=0.0))  # the stamps are relative already
    assert changed != result
    other_config = hand_made()
    other_config.HB_config["eta"] = 2.0
    assert other_config != result


# --- journal round trip ------------------------------------------------------------------------------


def make_job(config_id, budget, loss, submitted, finished, info=None, exception=None):
    job = Job(config_id, config={"x": 0.5}, budget=budget, working_directory=".")
    job.timestamps = stamps(submitted, finished)
    job.result = None if loss is None else {"loss": loss, "info": {} if info is None else info}
    job.exception = exception
    job.worker_name = "worker-1"
    return job


def test_round_trip_through_journal(tmp_path):
    jobs = [
        make_job((0, 0, 0), 1.0, 0.75, 0, 1, info={"acc": np.float32(0.5), "hist": np.arange(2)}),
        make_job((0, 0, 1), 1.0, None, 0, 2, exception="Traceback (most recent call last):\nKeyError: 'x'"),
        make_job((0, 0, 2), 1.0, float("nan"), 0, 3),
        make_job((0, 0, 0), 3.0, float("inf"), 4, 5, info={"curve": [float("nan"), 1.0]}),
        make_job((1, 0, 0), 3.0, -math.inf, 6, 7),
        make_job((1, 0, 0), 9.0, 0.25, 8, 9),
    ]
    in_memory: dict[int, dict] = {}
    with Journal(tmp_path) as journal:
        journal.write_manifest({"bandster_version": "test", "HB_config": HB_CONFIG})
        for job in jobs:
            if job.id not in journal.config_ids:
                journal.new_config(job.id, job.kwargs["config"], {"model_based_pick": job.id[0] == 1})
                in_memory.setdefault(job.id[0], {})[job.id] = Datum(
                    job.kwargs["config"], {"model_based_pick": job.id[0] == 1}
                )
            journal(job)
            d = in_memory[job.id[0]][job.id]
            d.results[job.kwargs["budget"]] = job.result
            d.time_stamps[job.kwargs["budget"]] = job.timestamps
            d.exceptions[job.kwargs["budget"]] = job.exception
            d.extras[job.kwargs["budget"]] = {"worker": job.worker_name, "attempt": job.attempt, "status": job.status}
        journal.flush()
        loaded = logged_results_to_HBS_result(tmp_path)  # readable while the journal is open
    expected = Result([in_memory[0], in_memory[1]], HB_CONFIG)
    assert loaded == expected
    assert loaded.HB_config == HB_CONFIG
    ok = loaded.get_runs_by_id((0, 0, 0))
    assert ok[0].loss == 0.75 and ok[0].info == {"acc": 0.5, "hist": [0, 1]} and ok[0].status == "ok"
    assert ok[1].loss == math.inf and ok[1].status == "failed" and math.isnan(ok[1].info["curve"][0])
    assert ok[1].info["curve"][1:] == [1.0]  # a non-finite float in info reads back as a float (issue 11, item 6)
    (failed,) = loaded.get_runs_by_id((0, 0, 1))
    assert failed.loss is None and "KeyError" in failed.error_logs and failed.worker_name == "worker-1"
    assert math.isnan(loaded.get_runs_by_id((0, 0, 2))[0].loss)
    assert loaded.get_runs_by_id((1, 0, 0))[0].loss == -math.inf
    assert loaded.get_incumbent_id() == (1, 0, 0)
    assert loaded[(0, 0, 0)].time_stamps[1.0]["finished"] == pytest.approx(1.0)
    assert loaded[(1, 0, 0)].config_info == {"model_based_pick": True}
    assert pickle.loads(pickle.dumps(loaded)) == loaded


def test_hb_config_is_inferred_without_manifest(tmp_path):
    with Journal(tmp_path) as journal:
        journal(make_job((0, 0, 0), 1.0, 1.0, 5, 6))
        journal(make_job((0, 0, 0), 3.0, 0.5, 7, 8))
        journal(make_job((0, 0, 1), 9.0, 0.2, 2, 10))
    loaded = logged_results_to_HBS_result(tmp_path)
    assert loaded.HB_config == {
        "eta": 3.0,
        "min_budget": 1.0,
        "max_budget": 9.0,
        "budgets": [1.0, 3.0, 9.0],
        "max_SH_iter": 3,
        "time_ref": T0 + 2,
    }
    assert loaded[(0, 0, 1)].time_stamps[9.0]["submitted"] == 0.0
    assert loaded[(0, 0, 0)].config_info == {}  # written by the result's unknown-id path


ORIGINAL_CONFIGS = """\
[[0, 0, 0], {"x": 0.1}, {}]
[[0, 0, 1], {"x": 0.2}, {"model_based_pick": false}]
[[1, 0, 0], {"x": 0.3}]
"""
ORIGINAL_RESULTS = """\
[[0, 0, 0], 1.0, {"submitted": 1.0, "started": 1.1, "finished": 1.5}, {"loss": NaN, "info": {}}, null]
[[0, 0, 1], 1.0, {"submitted": 1.2, "started": 1.3, "finished": 1.6}, {"loss": 0.5, "info": {"a": [1]}}, null]
[[0, 0, 1], 3.0, {"submitted": 2.0, "started": 2.1, "finished": 2.5}, {"loss": Infinity, "info": {}}, null]
[[1, 0, 0], 3.0, {"submitted": 3.0, "started": 3.1, "finished": 3.5}, null, "Traceback: died"]
[[1, 0, 0], 9.0, {"submitted": 4.0, "started": 4.1, "finished": 4.5}, {"loss": 0.25, "info": null}, null]
"""


def test_loads_original_hpbandster_journal(tmp_path, caplog):
    (tmp_path / "configs.json").write_text(ORIGINAL_CONFIGS)
    (tmp_path / "results.json").write_text(ORIGINAL_RESULTS)
    with caplog.at_level(logging.WARNING):
        result = logged_results_to_HBS_result(str(tmp_path))
    assert caplog.records == []
    assert result.HB_config == {
        "eta": 3.0,
        "min_budget": 1.0,
        "max_budget": 9.0,
        "budgets": [1.0, 3.0, 9.0],
        "max_SH_iter": 3,
        "time_ref": 1.0,
    }
    assert result[(1, 0, 0)].config_info == "N/A" and result[(0, 0, 0)].config == {"x": 0.1}
    (nan_run,) = result.get_runs_by_id((0, 0, 0))
    assert math.isnan(nan_run.loss) and nan_run.status == "failed" and nan_run.worker_name is None
    assert nan_run.time_stamps == pytest.approx({"submitted": 0.0, "started": 0.1, "finished": 0.5})
    assert result.get_runs_by_id((0, 0, 1))[1].loss == math.inf
    assert result.get_runs_by_id((1, 0, 0))[0].error_logs == "Traceback: died"
    assert result.get_incumbent_id() == (1, 0, 0)
    assert result.num_iterations() == 2
    assert [r.config_id for r in result.get_all_runs()] == [(0, 0, 0), (0, 0, 1), (0, 0, 1), (1, 0, 0), (1, 0, 0)]


def test_string_nonfinite_losses_become_floats(tmp_path):
    (tmp_path / "configs.json").write_text('[[0, 0, 0], {"x": 1}, {}]\n')
    lines = [
        [[0, 0, 0], b, {"submitted": b, "finished": b + 1}, {"loss": loss, "info": {"s": "NaN"}}, None]
        for b, loss in ((1.0, "NaN"), (2.0, "Infinity"), (3.0, "-Infinity"))
    ]
    (tmp_path / "results.json").write_text("".join(json.dumps(line) + "\n" for line in lines))
    runs = logged_results_to_HBS_result(tmp_path).get_runs_by_id((0, 0, 0))
    assert math.isnan(runs[0].loss) and runs[1].loss == math.inf and runs[2].loss == -math.inf
    assert runs[0].info == {"s": "NaN"}  # only the loss is converted


def test_torn_last_line_is_skipped_with_warning(tmp_path, caplog):
    (tmp_path / "configs.json").write_text('[[0, 0, 0], {"x": 1}, {}]\n[[0, 0, 1], {"x"')
    (tmp_path / "results.json").write_text(
        '[[0, 0, 0], 1.0, {"submitted": 1.0, "started": 1.1, "finished": 1.5}, {"loss": 1.0, "info": {}}, null]\n'
        '[[0, 0, 0], 3.0, {"submitted": 2.0, "started": 2.1, "fini'
    )
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        result = logged_results_to_HBS_result(tmp_path)
    torn = [rec for rec in caplog.records if "torn last line" in rec.getMessage()]
    assert len(torn) == 2
    assert list(result.data) == [(0, 0, 0)] and list(result[(0, 0, 0)].results) == [1.0]


def test_garbled_middle_line_is_skipped_with_warning(tmp_path, caplog):
    (tmp_path / "configs.json").write_text('[[0, 0, 0], {"x": 1}, {}]\n{{{garbage\n[[0, 0, 1], {"x": 2}, {}]\n')
    (tmp_path / "results.json").write_text('"not a result line"\n')
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        result = logged_results_to_HBS_result(tmp_path)
    assert "garbled line 2" in caplog.text and "line 1 is not a result line" in caplog.text
    assert set(result.data) == {(0, 0, 0), (0, 0, 1)}


def test_unknown_config_id_gets_empty_datum(tmp_path, caplog):
    (tmp_path / "configs.json").write_text('[[0, 0, 0], {"x": 1}, {}]\n')
    (tmp_path / "results.json").write_text(
        '[[0, 0, 0], 1.0, {"submitted": 1.0, "finished": 2.0}, {"loss": 1.0, "info": {}}, null]\n'
        '[[5, 0, 3], 1.0, {"submitted": 1.5, "finished": 2.5}, {"loss": 0.5, "info": {}}, null]\n'
        '[[5, 0, 3], 3.0, {"submitted": 3.0, "finished": 4.0}, {"loss": 0.4, "info": {}}, null]\n'
    )
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        result = logged_results_to_HBS_result(tmp_path)
    assert sum("(5, 0, 3)" in rec.getMessage() for rec in caplog.records) == 1
    assert result[(5, 0, 3)].config == {} and result[(5, 0, 3)].config_info == {}
    assert [r.loss for r in result.get_runs_by_id((5, 0, 3))] == [0.5, 0.4]
    assert result.num_iterations() == 6


def test_later_result_line_wins(tmp_path):
    (tmp_path / "configs.json").write_text('[[0, 0, 0], {"x": 1}, {}]\n')
    (tmp_path / "results.json").write_text(
        '[[0, 0, 0], 1.0, {"submitted": 1.0, "finished": 2.0}, null, "worker died", '
        '{"worker": "a", "attempt": 1, "status": "failed"}]\n'
        '[[0, 0, 0], 1.0, {"submitted": 3.0, "finished": 4.0}, {"loss": 0.5, "info": {}}, null, '
        '{"worker": "b", "attempt": 2, "status": "ok", "future_field": 1}, "ignored extra element"]\n'
    )
    (run,) = logged_results_to_HBS_result(tmp_path).get_runs_by_id((0, 0, 0))
    assert run.loss == 0.5 and run.error_logs is None and run.worker_name == "b" and run.attempt == 2
    assert run.time_stamps["finished"] == 3.0  # relative to time_ref = 1.0


def test_missing_journal_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run journal"):
        logged_results_to_HBS_result(tmp_path)
