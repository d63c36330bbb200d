"""Result callbacks: functions the master calls with every finished run (``result_callbacks=[...]``).

A callback receives a :class:`~bandster.records.result.Run` (times relative to the start of the run; its
``config`` attribute holds the configuration's values) and is
called outside the master's lock, from the thread that delivered the result; exceptions are logged and
ignored, so a failing tracker never stops an optimization. Stream results to any experiment tracker this way;
:class:`CSVWriter` is a complete example with no dependency. :class:`TensorBoardCallback` and
:class:`MLflowCallback` (the ``trackers`` extra; see :mod:`bandster.trackers`) record runs in TensorBoard and
MLflow.

Examples
--------
>>> from bandster.callbacks import CSVWriter
>>> writer = CSVWriter('runs.csv')
>>> # HyperBand(..., result_callbacks=[writer]) appends one row per finished run
"""

from __future__ import annotations

import csv
import json
import os
import threading
from typing import Any

from bandster.records.result import Run
from bandster.trackers.mlflow_tracker import MLflowCallback
from bandster.trackers.tensorboard import TensorBoardCallback

__all__ = ["CSVWriter", "read_csv", "TensorBoardCallback", "MLflowCallback"]

COLUMNS = ["config_id", "budget", "loss", "status", "worker", "attempt", "started", "finished", "config", "info",
           "error"]


class CSVWriter:
    """Append one CSV row per finished run to ``path`` (header written when the file is new).

    Parameters
    ----------
    path : str
        The CSV file; rows are flushed as they are written, so the file can be watched while the run goes on.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self._lock = threading.Lock()  # callbacks may come from several threads

    def __call__(self, run: Run) -> None:
        stamps = run.time_stamps or {}
        row = {
            "config_id": json.dumps(list(run.config_id)),
            "budget": run.budget,
            "loss": "" if run.loss is None else run.loss,
            "status": run.status or ("ok" if run.loss is not None else "failed"),
            "worker": run.worker_name or "",
            "attempt": run.attempt,
            "started": stamps.get("started", ""),
            "finished": stamps.get("finished", ""),
            "config": json.dumps(getattr(run, "config", None), default=repr),
            "info": json.dumps(run.info, default=repr),
            "error": (run.error_logs or "").strip().splitlines()[-1] if run.error_logs else "",
        }
        with self._lock:
            new = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
            with open(self.path, "a", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=COLUMNS)
                if new:
                    writer.writeheader()
                writer.writerow(row)

    def __repr__(self) -> str:
        return f"CSVWriter({self.path!r})"


def read_csv(path: str) -> list[dict[str, Any]]:
    """The rows a :class:`CSVWriter` wrote (values as strings)."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
