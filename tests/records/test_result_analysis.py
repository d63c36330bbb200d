"""Every Result method against hand-built journals with known answers: a Hyperband run with failures, a
warm-started BOHB run (config ids (-1, 0, i)) and a RandomSearch run. The answers were worked out by hand from
the lines below (see the comments); the journals are written as a master writes them (run.json, configs.json,
results.json with the extras element, events.json)."""

from __future__ import annotations

import copy
import json
import math

import ConfigSpace as CS
import pytest

from bandster.analysis.status import read_status
from bandster.records.result import Result, logged_results_to_HBS_result

T0 = 1_800_000_000.0


def space() -> CS.ConfigurationSpace:
    cs = CS.ConfigurationSpace(seed=0)
    cs.add([CS.UniformFloatHyperparameter("x", 0.0, 1.0), CS.CategoricalHyperparameter("kind", ["a", "b"])])
    return cs


def write_journal(directory, manifest, configs, results, events=()):
    """configs: (config_id, config, info); results: (config_id, budget, submitted, started, finished, loss | None |
    'NaN', worker, attempt); a None loss is an exception. Times are relative to T0."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "run.json").write_text(json.dumps(manifest, indent=2))
    with open(directory / "configs.json", "w") as fh:
        for config_id, config, info in configs:
            fh.write(json.dumps([list(config_id), config, info]) + "\n")
    with open(directory / "results.json", "w") as fh:
        for config_id, budget, submitted, started, finished, loss, worker, attempt in results:
            stamps = {"submitted": T0 + submitted, "started": T0 + started, "finished": T0 + finished}
            if loss is None:
                result, exception = None, "Traceback (most recent call last):\nValueError: the bad kind fails"
                status = "failed"
            else:
                result, exception = {"loss": loss, "info": {"b": budget}}, None
                status = "ok" if isinstance(loss, float) and math.isfinite(loss) else "failed"
            extras = {"worker": worker, "attempt": attempt, "status": status}
            fh.write(json.dumps([list(config_id), budget, stamps, result, exception, extras]) + "\n")
    with open(directory / "events.json", "w") as fh:
        for event in events:
            fh.write(json.dumps(dict(event, time=T0 + event["time"])) + "\n")
    return directory


HB_CONFIG = {"time_ref": T0, "eta": 3, "min_budget": 1, "max_budget": 9, "budgets": [1.0, 3.0, 9.0],
             "max_SH_iter": 3}


def manifest(optimizer, hb_config, **extra):
    return {"format": "bandster-journal", "format_version": 1, "bandster_version": "test", "run_id": "hand",
            "optimizer": optimizer, "optimizer_kwargs": extra.pop("optimizer_kwargs", {}), "HB_config": hb_config,
            "configspace": space().to_serialized_dict(), "seed": 0, "created": T0 - 1, **extra}


# --- A: Hyperband with an exception, a NaN loss and a re-queued job -------------------------------------------

A_CONFIGS = [
    ((0, 0, 0), {"x": 0.1, "kind": "a"}, {"model_based_pick": False}),
    ((0, 0, 1), {"x": 0.2, "kind": "b"}, {"model_based_pick": False}),
    ((0, 0, 2), {"x": 0.3, "kind": "a"}, {"model_based_pick": False}),
    ((0, 0, 3), {"x": 0.4, "kind": "b"}, {"model_based_pick": False}),
    ((1, 0, 0), {"x": 0.5, "kind": "a"}, {"model_based_pick": False}),
    ((1, 0, 1), {"x": 0.6, "kind": "b"}, {"model_based_pick": False}),
]
# (config_id, budget, submitted, started, finished, loss, worker, attempt); r6 is written before r5 on purpose
A_RESULTS = [
    ((0, 0, 0), 1.0, 0, 0.5, 1, 5.0, "w0", 1),     # r1
    ((0, 0, 1), 1.0, 0, 0.5, 2, 2.0, "w1", 1),     # r2
    ((0, 0, 2), 1.0, 1, 1.5, 3, None, "w0", 1),    # r3: exception
    ((0, 0, 3), 1.0, 2, 2.5, 4, "NaN", "w1", 1),   # r4: NaN loss
    ((0, 0, 0), 3.0, 4, 4.5, 7, 3.0, "w1", 1),     # r6
    ((0, 0, 1), 3.0, 4, 4.5, 6, 1.5, "w0", 1),     # r5
    ((1, 0, 0), 3.0, 8, 8.5, 9, 0.9, "w1", 2),     # r8: its first worker died, second attempt
    ((0, 0, 1), 9.0, 7, 7.5, 10, 1.2, "w0", 1),    # r7
    ((1, 0, 1), 3.0, 9, 9.5, 11, 4.0, "w1", 1),    # r9
    ((1, 0, 0), 9.0, 11, 11.5, 13, 0.8, "w0", 1),  # r10
]


@pytest.fixture
def hb_result(tmp_path):
    write_journal(tmp_path / "hb", manifest("HyperBand", HB_CONFIG), A_CONFIGS, A_RESULTS)
    return logged_results_to_HBS_result(tmp_path / "hb")


def test_hb_incumbents(hb_result):
    assert hb_result.HB_config == HB_CONFIG
    assert hb_result.get_incumbent_id() == (1, 0, 0)  # budget 9: 1.2 and 0.8
    assert hb_result.get_incumbent_per_budget() == {1.0: (0, 0, 1), 3.0: (1, 0, 0), 9.0: (1, 0, 0)}
    assert hb_result.num_iterations() == 2


def test_hb_trajectories(hb_result):
    traj = hb_result.get_incumbent_trajectory()
    # r1 5.0; r2 2.0 lower; r3/r4 failed; r5 on budget 3 (larger); r6 3.0 no; r8 0.9 lower; r7 budget 9 (larger);
    # r9 budget 3 (smaller, never); r10 0.8 lower. The last run is the last incumbent: nothing repeated.
    assert traj == {
        "config_ids": [(0, 0, 0), (0, 0, 1), (0, 0, 1), (1, 0, 0), (0, 0, 1), (1, 0, 0)],
        "times_finished": [1.0, 2.0, 6.0, 9.0, 10.0, 13.0],
        "budgets": [1.0, 1.0, 3.0, 3.0, 9.0, 9.0],
        "losses": [5.0, 2.0, 1.5, 0.9, 1.2, 0.8],
    }
    largest = hb_result.get_incumbent_trajectory(all_budgets=False)
    assert largest == {"config_ids": [(0, 0, 1), (1, 0, 0)], "times_finished": [10.0, 13.0], "budgets": [9.0, 9.0],
                       "losses": [1.2, 0.8]}
    strict = hb_result.get_incumbent_trajectory(bigger_is_better=False)
    assert strict["losses"] == [5.0, 2.0, 1.5, 0.9, 0.8]  # r7 (1.2 > 0.9) no longer counts
    assert strict["config_ids"] == [(0, 0, 0), (0, 0, 1), (0, 0, 1), (1, 0, 0), (1, 0, 0)]
    assert strict["times_finished"] == [1.0, 2.0, 6.0, 9.0, 13.0]


def test_hb_runs(hb_result):
    order = [(r.config_id, r.budget) for r in hb_result.get_all_runs()]
    assert order == [((0, 0, 0), 1.0), ((0, 0, 1), 1.0), ((0, 0, 2), 1.0), ((0, 0, 3), 1.0), ((0, 0, 1), 3.0),
                     ((0, 0, 0), 3.0), ((1, 0, 0), 3.0), ((0, 0, 1), 9.0), ((1, 0, 1), 3.0), ((1, 0, 0), 9.0)]
    largest = [(r.config_id, r.budget) for r in hb_result.get_all_runs(only_largest_budget=True)]
    assert largest == [((0, 0, 2), 1.0), ((0, 0, 3), 1.0), ((0, 0, 0), 3.0), ((0, 0, 1), 9.0), ((1, 0, 1), 3.0),
                       ((1, 0, 0), 9.0)]
    (crashed,) = hb_result.get_runs_by_id((0, 0, 2))
    assert crashed.loss is None and crashed.info is None and crashed.status == "failed"
    assert crashed.error_logs.endswith("ValueError: the bad kind fails") and crashed.worker_name == "w0"
    (nan_run,) = hb_result.get_runs_by_id([0, 0, 3])
    assert math.isnan(nan_run.loss) and nan_run.status == "failed" and nan_run.info == {"b": 1.0}
    runs = hb_result.get_runs_by_id((1, 0, 0))
    assert [(r.budget, r.loss, r.attempt, r.status) for r in runs] == [(3.0, 0.9, 2, "ok"), (9.0, 0.8, 1, "ok")]
    assert runs[0].time_stamps == {"submitted": 8.0, "started": 8.5, "finished": 9.0}
    assert runs[0]["worker_name"] == "w1"


def test_hb_learning_curves_and_mapping(hb_result):
    curves = hb_result.get_learning_curves()
    assert len(curves) == 6
    assert curves[(0, 0, 0)] == [[(1.0, 5.0), (3.0, 3.0)]]
    assert curves[(0, 0, 1)] == [[(1.0, 2.0), (3.0, 1.5), (9.0, 1.2)]]
    assert curves[(0, 0, 2)] == [[]]  # the crashed run has no loss
    assert math.isnan(curves[(0, 0, 3)][0][0][1])
    budgets = hb_result.get_learning_curves(lc_extractor=lambda runs: [r.budget for r in runs],
                                            config_ids=[(1, 0, 0)])
    assert budgets == {(1, 0, 0): [3.0, 9.0]}
    mapping = hb_result.get_id2config_mapping()
    assert mapping[(0, 0, 1)] == {"config": {"x": 0.2, "kind": "b"}, "config_info": {"model_based_pick": False}}
    mapping[(0, 0, 1)]["config"]["x"] = -1
    assert hb_result[(0, 0, 1)].config["x"] == 0.2


def test_hb_fanova_data(hb_result):
    cs = space()
    before = copy.deepcopy(cs)
    X, y, returned = hb_result.get_fANOVA_data(cs)
    assert cs == before and "budget" in returned and "budget" not in cs
    names = list(returned.keys())
    # finite losses in finish order: r1 r2 r5 r6 r8 r7 r9 r10
    assert list(y) == [5.0, 2.0, 1.5, 3.0, 0.9, 1.2, 4.0, 0.8]
    assert list(X[:, names.index("budget")]) == [1, 1, 3, 3, 3, 9, 3, 9]
    assert list(X[:, names.index("kind")]) == [0, 1, 1, 0, 0, 1, 1, 0]
    assert X[:, names.index("x")] == pytest.approx([0.1, 0.2, 0.2, 0.1, 0.5, 0.2, 0.6, 0.5])
    X1, y1, space1 = hb_result.get_fANOVA_data(cs, budgets=[1.0], failed_loss=10.0, loss_fn=lambda r: r.loss / 2)
    assert "budget" not in space1 and X1.shape == (4, 2)
    assert list(y1) == [2.5, 1.0, 10.0, 10.0]  # r1 r2, then the exception and the NaN as failed_loss


def test_hb_dataframes(hb_result):
    df_x, df_y = hb_result.get_pandas_dataframe()
    assert len(df_x) == len(df_y) == 9  # every run with a loss: the exception is left out, the NaN kept
    assert set(df_x.columns) == {"x", "kind", "budget"}
    assert list(df_x["budget"]) == [1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 9.0, 3.0, 9.0]
    assert math.isnan(df_y["loss"].iloc[2])
    df_x9, df_y9 = hb_result.get_pandas_dataframe(budgets=[9.0], loss_fn=lambda r: -r.loss)
    assert "budget" not in df_x9.columns and list(df_y9["loss"]) == [-1.2, -0.8]
    assert list(df_x9["x"]) == [0.2, 0.5]
    df = hb_result.to_dataframe()
    assert len(df) == 10 and list(df["finished"]) == sorted(df["finished"])
    assert list(df.columns) == ["config_id", "x", "kind", "budget", "loss", "status", "stopped_at", "submitted",
                                "started", "finished", "worker", "attempt", "model_based_pick", "info.b"]
    assert (df["status"] == "failed").sum() == 2
    row = df[(df["config_id"] == (1, 0, 0)) & (df["budget"] == 3.0)].iloc[0]
    assert row["attempt"] == 2 and row["worker"] == "w1" and row["loss"] == 0.9 and row["started"] == 8.5
    assert not df["model_based_pick"].any()


# --- B: a warm-started BOHB run ---------------------------------------------------------------------------------

B_CONFIGS = [
    ((-1, 0, 0), {"x": 0.15, "kind": "a"}, {"model_based_pick": False, "warmstart": True, "warmstart_id": [0, 0, 0]}),
    ((-1, 0, 1), {"x": 0.25, "kind": "b"}, {"model_based_pick": True, "warmstart": True, "warmstart_id": [0, 0, 1]}),
    ((0, 0, 0), {"x": 0.35, "kind": "a"}, {"model_based_pick": True}),
    ((0, 0, 1), {"x": 0.45, "kind": "b"}, {"model_based_pick": False}),
]
B_RESULTS = [  # the earlier run's results finish before this run started (negative times)
    ((-1, 0, 0), 1.0, -12, -11, -10, 2.0, "old", 1),
    ((-1, 0, 1), 1.0, -10, -9, -8, None, "old", 1),
    ((-1, 0, 0), 9.0, -8, -7, -5, 0.5, "old", 1),
    ((0, 0, 0), 1.0, 0, 1, 2, 1.0, "w0", 1),
    ((0, 0, 1), 1.0, 0, 1, 3, 3.0, "w0", 1),
    ((0, 0, 0), 9.0, 3, 4, 6, 0.7, "w0", 1),
]


@pytest.fixture
def warm_dir(tmp_path):
    events = [{"time": 0, "event": "run_started"},
              {"time": 0, "event": "iteration_started", "iteration": 0, "num_configs": [2, 1],
               "budgets": [1.0, 9.0]},
              {"time": 0.5, "event": "dispatch", "config_id": [0, 0, 0], "budget": 1.0, "worker": "w0", "attempt": 1},
              {"time": 2.5, "event": "dispatch", "config_id": [0, 0, 1], "budget": 1.0, "worker": "w0", "attempt": 1},
              {"time": 3.5, "event": "dispatch", "config_id": [0, 0, 0], "budget": 9.0, "worker": "w0", "attempt": 1},
              {"time": 7, "event": "run_finished", "iterations": 1}]
    return write_journal(tmp_path / "warm", manifest("BOHB", HB_CONFIG, warmstart={"configs": 2, "runs": 3}),
                         B_CONFIGS, B_RESULTS, events)


def test_warm_start_result(warm_dir):
    result = logged_results_to_HBS_result(warm_dir)
    assert result.get_incumbent_id() == (-1, 0, 0)  # the earlier run's 0.5 beats this run's 0.7 on budget 9
    assert result.num_iterations() == 1  # iteration -1 is not counted
    assert [r.config_id for r in result.get_all_runs()][:3] == [(-1, 0, 0), (-1, 0, 1), (-1, 0, 0)]
    assert result.get_all_runs()[0].time_stamps["finished"] == -10.0
    traj = result.get_incumbent_trajectory()
    # (-1,0,0)@1 2.0; (-1,0,0)@9 0.5 (larger budget); this run's budget-1 runs are smaller, its 0.7 is not lower:
    # the incumbent is repeated at the last finish time
    assert traj == {"config_ids": [(-1, 0, 0)] * 3, "times_finished": [-10.0, -5.0, 6.0], "budgets": [1.0, 9.0, 9.0],
                    "losses": [2.0, 0.5, 0.5]}
    assert result.get_incumbent_per_budget() == {1.0: (0, 0, 0), 9.0: (-1, 0, 0)}
    (failed,) = result.get_runs_by_id((-1, 0, 1))
    assert failed.loss is None and failed.worker_name == "old" and "ValueError" in failed.error_logs
    mapping = result.get_id2config_mapping()
    assert mapping[(-1, 0, 1)]["config_info"]["warmstart_id"] == [0, 0, 1]
    df = result.to_dataframe()
    assert list(df["model_based_pick"]) == [False, True, False, True, False, True]
    assert list(df["config_id"])[:3] == [(-1, 0, 0), (-1, 0, 1), (-1, 0, 0)]
    X, y, _ = result.get_fANOVA_data(space())
    assert list(y) == [2.0, 0.5, 1.0, 3.0, 0.7]
    assert result.get_learning_curves(config_ids=[(-1, 0, 0)]) == {(-1, 0, 0): [[(1.0, 2.0), (9.0, 0.5)]]}


def test_warm_start_status(warm_dir):
    status = read_status(warm_dir, now=T0 + 100)
    assert status.state == "finished" and status.optimizer == "BOHB" and not status.live
    assert status.warmstart_runs == 3 and status.warmstart_configs == 2
    assert [(s.iteration, s.stage, s.budget, s.planned, s.done, s.failed, s.running, s.pending)
            for s in status.stages] == [(0, 0, 1.0, 2, 2, 0, 0, 0), (0, 1, 9.0, 1, 1, 0, 0, 0)]
    assert status.runs_ok == 3 and status.runs_failed == 0  # this run's own runs only
    assert [w.name for w in status.workers] == ["w0"] and status.workers[0].runs == 3
    assert status.compute_time == pytest.approx(1 + 2 + 2)
    assert status.incumbent == (-1, 0, 0) and status.incumbent_loss == 0.5
    text = status.format()
    assert "warm start (iteration -1): 3 runs of 2 configurations" in text and "FINISHED" in text


# --- C: RandomSearch ----------------------------------------------------------------------------------------------

RS_CONFIG = {"time_ref": T0, "eta": 3, "min_budget": 9, "max_budget": 9, "budgets": [9.0], "max_SH_iter": 1}
C_CONFIGS = [((i, 0, j), {"x": 0.1 * (3 * i + j + 1), "kind": "ab"[j % 2]}, {}) for i in range(2) for j in range(3)]
C_RESULTS = [
    ((0, 0, 0), 9.0, 0, 0, 1, 0.5, "w0", 1),
    ((0, 0, 1), 9.0, 0, 0, 2, 0.3, "w1", 1),
    ((0, 0, 2), 9.0, 1, 1, 3, 0.4, "w0", 1),
    ((1, 0, 0), 9.0, 2, 2, 4, 0.6, "w1", 1),
    ((1, 0, 1), 9.0, 3, 3, 5, None, "w0", 1),
    ((1, 0, 2), 9.0, 4, 4, 6, 0.2, "w1", 1),
]


@pytest.fixture
def rs_dir(tmp_path):
    kwargs = {"eta": 3, "min_budget": 1, "max_budget": 9}
    return write_journal(tmp_path / "rs", manifest("RandomSearch", RS_CONFIG, optimizer_kwargs=kwargs), C_CONFIGS,
                         C_RESULTS)


def test_random_search_result(rs_dir):
    result = logged_results_to_HBS_result(rs_dir)
    assert result.HB_config == RS_CONFIG and result.num_iterations() == 2
    assert result.get_incumbent_id() == (1, 0, 2)
    assert result.get_incumbent_per_budget() == {9.0: (1, 0, 2)}
    # the trajectory starts at min_budget = max_budget = 9, so only lower losses count: 0.5, 0.3, 0.2
    traj = result.get_incumbent_trajectory()
    assert traj == {"config_ids": [(0, 0, 0), (0, 0, 1), (1, 0, 2)], "times_finished": [1.0, 2.0, 6.0],
                    "budgets": [9.0, 9.0, 9.0], "losses": [0.5, 0.3, 0.2]}
    assert result.get_incumbent_trajectory(all_budgets=False) == traj
    assert [r.config_id for r in result.get_all_runs(only_largest_budget=True)] == [c for c, *_ in C_RESULTS]
    assert result.get_learning_curves()[(0, 0, 1)] == [[(9.0, 0.3)]]
    assert result.get_learning_curves()[(1, 0, 1)] == [[]]
    df_x, df_y = result.get_pandas_dataframe()
    assert "budget" not in df_x.columns and list(df_y["loss"]) == [0.5, 0.3, 0.4, 0.6, 0.2]
    X, y, returned = result.get_fANOVA_data(space(), failed_loss=1.0)
    assert "budget" not in returned and X.shape == (6, 2) and list(y) == [0.5, 0.3, 0.4, 0.6, 1.0, 0.2]
    df = result.to_dataframe()
    assert list(df["status"]) == ["ok", "ok", "ok", "ok", "failed", "ok"]
    assert df["model_based_pick"].isna().all()  # random search records no model_based_pick


def test_random_search_status_without_events(rs_dir):
    status = read_status(rs_dir, now=T0 + 100)
    # no events.json content: the state comes from the results, the plan from the bracket arithmetic
    assert status.state == "finished" and any("no events" in w for w in status.warnings)
    assert [(s.iteration, s.budget, s.planned, s.done, s.failed, s.pending) for s in status.stages] == [
        (0, 9.0, 3, 3, 0, 0), (1, 9.0, 3, 2, 1, 0)]
    assert [r[0] for r in status.top] == [(1, 0, 2), (0, 0, 1), (0, 0, 2), (0, 0, 0), (1, 0, 0)]
    assert {w.name: (w.runs, w.failed) for w in status.workers} == {"w0": (3, 1), "w1": (3, 0)}


def test_result_equals_its_pickle_and_reload(hb_result, tmp_path):
    import pickle

    again = logged_results_to_HBS_result(tmp_path / "hb")
    assert again == hb_result and pickle.loads(pickle.dumps(hb_result)) == hb_result
    assert isinstance(hb_result, Result) and "6 configs, 10 runs, 2 iterations" in repr(hb_result)
