"""Runs to MLflow: one MLflow run per bandster run, with its parameters, metrics and tags."""

from __future__ import annotations

import os
import re
import time
from typing import Any

from bandster.records.result import Run
from bandster.trackers._base import TrackerCallback, check_installed, require, run_metrics, run_params

_INVALID_KEY = re.compile(r"[^\w\-. /]")


def _key(name: str) -> str:
    """A name MLflow accepts as a key (letters, digits, ``_-. /``)."""
    return _INVALID_KEY.sub("_", name)[:250] or "_"


class MLflowCallback(TrackerCallback):
    """Record every finished run as one MLflow run (install the ``trackers`` extra).

    Each MLflow run holds the configuration as parameters, ``loss``, ``duration`` and the numbers of ``info``
    (``info.<key>``) as metrics, and the tags ``bandster.config_id``, ``bandster.budget``, ``bandster.status``,
    ``bandster.worker`` and ``bandster.attempt`` (plus ``bandster.error``, the last line of a failed run's
    traceback); a failed run ends with MLflow's status FAILED. The MLflow run ends when it is recorded, so its
    start time is the recording time less the run's duration.

    MLflow sends anonymous usage telemetry unless told not to: set ``MLFLOW_DISABLE_TELEMETRY=true`` (or
    ``DO_NOT_TRACK=true``) in the environment before MLflow is imported. Any failure is logged and the
    optimization goes on.

    Parameters
    ----------
    tracking_uri : str, optional
        Where to record, e.g. ``sqlite:///mlflow.db`` or ``http://127.0.0.1:5000``; default MLflow's own
        (``MLFLOW_TRACKING_URI``, else a local ``sqlite:///mlflow.db``).
    experiment_name : str, optional
        Created if missing; default ``MLFLOW_EXPERIMENT_NAME``, else MLflow's ``Default`` experiment.
    tags : dict, optional
        Added to every MLflow run (e.g. ``{"bandster.run_id": run_id}``).

    Examples
    --------
    >>> from bandster.callbacks import MLflowCallback
    >>> tracker = MLflowCallback("sqlite:///mlflow.db", experiment_name="my-search")
    >>> # HyperBand(..., result_callbacks=[tracker])
    """

    def __init__(self, tracking_uri: str | None = None, experiment_name: str | None = None,
                 tags: dict[str, Any] | None = None) -> None:
        check_installed("mlflow", "MLflowCallback")
        super().__init__()
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        self._client: Any = None
        self._entities: Any = None
        self._experiment_id: str | None = None

    def open(self) -> None:
        tracking = require("mlflow.tracking", "MLflowCallback")
        self._entities = require("mlflow.entities", "MLflowCallback")
        self._client = tracking.MlflowClient(tracking_uri=self.tracking_uri)
        name = self.experiment_name or os.environ.get("MLFLOW_EXPERIMENT_NAME") or "Default"
        experiment = self._client.get_experiment_by_name(name)
        self._experiment_id = experiment.experiment_id if experiment is not None else \
            self._client.create_experiment(name)

    def record(self, run: Run) -> None:
        entities = self._entities
        metrics = run_metrics(run)
        now = int(time.time() * 1000)
        start = now - int(1000 * metrics.get("duration", 0.0))
        tags = {**self.tags, "bandster.config_id": str(tuple(run.config_id)), "bandster.budget": f"{run.budget:g}",
                "bandster.status": str(run.status), "bandster.worker": str(run.worker_name or ""),
                "bandster.attempt": str(run.attempt)}
        if run.error_logs:
            tags["bandster.error"] = run.error_logs.strip().splitlines()[-1][:5000]
        name = f"{tuple(run.config_id)} budget {run.budget:g}"
        created = self._client.create_run(self._experiment_id, start_time=start, tags=tags, run_name=name)
        run_id = created.info.run_id
        try:
            step = int(run.budget) if float(run.budget).is_integer() else 0
            self._client.log_batch(
                run_id,
                metrics=[entities.Metric(_key(k), v, now, step) for k, v in metrics.items()],
                params=[entities.Param(_key(k), str(v)[:6000]) for k, v in run_params(run).items()],
            )
        finally:
            status = {"ok": "FINISHED", "stopped": "KILLED"}.get(run.status, "FAILED")  # stopped early: KILLED
            self._client.set_terminated(run_id, status=status, end_time=now)

    def close(self) -> None:
        """Nothing to do: each MLflow run ends when it is recorded."""

    def __repr__(self) -> str:
        return f"MLflowCallback(tracking_uri={self.tracking_uri!r}, experiment_name={self.experiment_name!r})"
