"""bandster.trackers.tensorboard: runs written with tensorboardX, read back with TensorBoard's own event reader."""

from __future__ import annotations

import logging
import math
import os
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from bandster.callbacks import TensorBoardCallback


def read(directory):
    events = EventAccumulator(directory)
    events.Reload()
    scalars = {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}
    try:
        contents = events.PluginTagToContent("hparams")
    except KeyError:  # a directory without the HParams dashboard's records
        contents = {}
    return scalars, {tag: plugin_data_pb2.HParamsPluginData.FromString(content) for tag, content in contents.items()}


def test_scalars_and_hparams_of_every_run(optimize, tmp_path):
    tracker = TensorBoardCallback(str(tmp_path / "tb"))
    result = optimize([tracker])
    tracker.close()
    assert tracker.failures == 0 and tracker.disabled is None
    runs = result.get_all_runs()
    directories = sorted(d for d in os.listdir(tmp_path / "tb") if d != "bandster")
    assert len(directories) == len(runs) == 13
    failed = 0
    for run in runs:
        name = "_".join(map(str, run.config_id)) + f"_budget_{run.budget:g}"
        scalars, hparams = read(str(tmp_path / "tb" / name))
        start = hparams["_hparams_/session_start_info"].session_start_info.hparams
        config = result[run.config_id].config
        assert start["budget"].number_value == run.budget
        assert start["kind"].string_value == config["kind"] and math.isclose(start["x"].number_value, config["x"])
        experiment = hparams["_hparams_/experiment"].experiment
        metrics = {info.name.tag for info in experiment.metric_infos}
        if run.status == "ok":
            assert scalars["loss"] == [(int(run.budget), pytest.approx(run.loss, rel=1e-6))]
            assert scalars["info/units"][0][1] == config["units"] and "info/budget" in scalars
            assert {"loss", "duration", "info/units"} <= metrics
        else:
            failed += 1
            assert "loss" not in scalars and "duration" in scalars
    assert failed == sum(r.status != "ok" for r in runs) >= 2
    progress, _ = read(str(tmp_path / "tb" / "bandster"))
    best = progress["best_loss/budget_1"]
    assert [value for _, value in best] == sorted((value for _, value in best), reverse=True)  # never rises
    finite = [r for r in runs if r.status == "ok" and r.budget == 9.0]
    assert progress["best_loss/budget_9"][-1][1] == pytest.approx(min(r.loss for r in finite), rel=1e-6)


def test_a_failing_writer_never_stops_the_optimization(optimize, tmp_path):
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory")
    broken = TensorBoardCallback(str(blocked / "tb"))  # cannot be created
    result = optimize([broken])
    assert len(result.get_all_runs()) == 13
    assert broken.failures == 13 and broken.disabled is None


def test_a_missing_package_switches_the_tracker_off_once(optimize, tmp_path, monkeypatch, caplog):
    missing = TensorBoardCallback(str(tmp_path / "tb"))
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # uninstalled after construction
    with caplog.at_level(logging.WARNING, logger="bandster.trackers._base"):
        result = optimize([missing])
    assert len(result.get_all_runs()) == 13
    assert missing.disabled is not None and "pip install 'bandster[trackers]'" in missing.disabled
    assert sum("is switched off" in r.getMessage() for r in caplog.records) == 1  # said once, not per run
    assert not (tmp_path / "tb").exists()
    with pytest.raises(ImportError, match=r"TensorBoardCallback needs tensorboardX.*bandster\[trackers\]"):
        TensorBoardCallback(str(tmp_path / "tb"))
