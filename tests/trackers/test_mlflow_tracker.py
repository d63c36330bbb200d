"""bandster.trackers.mlflow_tracker: one MLflow run per bandster run, read back with MlflowClient from a local
sqlite store; MLflow's telemetry is switched off (and checked to be)."""

from __future__ import annotations

import math
import sys

import pytest

from bandster.callbacks import MLflowCallback


@pytest.fixture
def no_telemetry(monkeypatch):
    """MLflow reads these when it is imported and before it sends anything; they are what the docs tell users."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.mark.timeout(300)  # MLflow creates its sqlite schema with alembic: slow on a loaded machine
def test_one_mlflow_run_per_run(optimize, tmp_path, no_telemetry):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = MLflowCallback(uri, experiment_name="bandster-test", tags={"bandster.run_id": "r1"})
    result = optimize([tracker])
    assert tracker.failures == 0 and tracker.disabled is None

    from mlflow.telemetry.utils import is_telemetry_disabled
    from mlflow.tracking import MlflowClient

    assert is_telemetry_disabled()
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("bandster-test")
    recorded = client.search_runs([experiment.experiment_id], max_results=1000)
    runs = result.get_all_runs()
    assert len(recorded) == len(runs) == 13
    by_key = {(r.data.tags["bandster.config_id"], r.data.tags["bandster.budget"]): r for r in recorded}
    for run in runs:
        mlflow_run = by_key[(str(run.config_id), f"{run.budget:g}")]
        tags, params, metrics = mlflow_run.data.tags, mlflow_run.data.params, mlflow_run.data.metrics
        config = result[run.config_id].config
        assert params == {key: str(value) for key, value in config.items()}
        assert tags["bandster.run_id"] == "r1" and tags["bandster.status"] == run.status
        assert tags["bandster.worker"] == run.worker_name and tags["mlflow.runName"].endswith(f"budget {run.budget:g}")
        if run.status == "ok":
            assert mlflow_run.info.status == "FINISHED" and math.isclose(metrics["loss"], run.loss)
            assert metrics["info.units"] == config["units"] and metrics["duration"] >= 0
        else:
            assert mlflow_run.info.status == "FAILED" and "loss" not in metrics
            assert "Error" in tags["bandster.error"]


def test_failures_never_stop_the_optimization(optimize, tmp_path, no_telemetry, monkeypatch):
    blocked = tmp_path / "a file"
    blocked.write_text("not a directory")
    broken = MLflowCallback(f"sqlite:///{blocked / 'mlflow.db'}")  # the database cannot be created
    missing = MLflowCallback(f"sqlite:///{tmp_path / 'other.db'}")
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # uninstalled after construction
    result = optimize([missing])
    assert len(result.get_all_runs()) == 13 and "bandster[trackers]" in missing.disabled
    monkeypatch.delitem(sys.modules, "mlflow.tracking")
    result = optimize([broken])
    assert len(result.get_all_runs()) == 13 and broken.failures == 13 and broken.disabled is None
    assert not (tmp_path / "other.db").exists()
