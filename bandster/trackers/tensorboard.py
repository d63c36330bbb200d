"""Runs to TensorBoard: scalars per run and the HParams dashboard, written with tensorboardX."""

from __future__ import annotations

import math
import os
from typing import Any

from bandster.records.result import Run
from bandster.trackers._base import TrackerCallback, check_installed, config_id_text, require, run_metrics, run_params


class TensorBoardCallback(TrackerCallback):
    """Write every finished run to TensorBoard event files (install the ``trackers`` extra).

    Each run (one configuration on one budget) gets its own directory ``LOGDIR/<config id>_budget_<budget>``
    holding its metrics as scalars (``loss``, ``duration``, ``info/<key>`` for the numbers in ``info``) and the
    HParams dashboard's record of it: the configuration and the budget as hyperparameters, the same metrics as
    its metrics. ``LOGDIR/bandster`` holds the run's progress: ``loss/budget_<b>`` and ``best_loss/budget_<b>``
    against the number of finished runs. View with ``tensorboard --logdir LOGDIR``.

    Written with tensorboardX (a small writer without TensorFlow); any failure is logged and the optimization
    goes on.

    Parameters
    ----------
    logdir : str
        Created if needed; several optimizations can share it only with distinct subdirectories.

    Examples
    --------
    >>> from bandster.callbacks import TensorBoardCallback
    >>> tensorboard = TensorBoardCallback("tensorboard")
    >>> # HyperBand(..., result_callbacks=[tensorboard]); tensorboard.close() at the end
    """

    def __init__(self, logdir: str) -> None:
        check_installed("tensorboardX", "TensorBoardCallback")
        super().__init__()
        self.logdir = os.path.abspath(logdir)
        self._summary: Any = None
        self._hparams: Any = None
        self._progress: Any = None
        self._count = 0
        self._best: dict[float, float] = {}

    def open(self) -> None:
        tensorboardx = require("tensorboardX", "TensorBoardCallback")
        self._summary = tensorboardx.SummaryWriter
        self._hparams = require("tensorboardX.summary", "TensorBoardCallback").hparams
        os.makedirs(self.logdir, exist_ok=True)
        self._progress = self._summary(logdir=os.path.join(self.logdir, "bandster"))

    def record(self, run: Run) -> None:
        metrics = {key.replace(".", "/"): value for key, value in run_metrics(run).items()}
        budget = float(run.budget)
        step = int(budget) if budget.is_integer() else 0
        writer = self._summary(logdir=os.path.join(self.logdir, f"{config_id_text(run)}_budget_{budget:g}"))
        try:
            hparams = {key: value if isinstance(value, int | float | str | bool) else str(value)
                       for key, value in run_params(run).items()}
            hparams["budget"] = budget
            experiment, start, end = self._hparams(hparams, metrics)
            for summary in (experiment, start, end):
                writer.file_writer.add_summary(summary)
            for key, value in metrics.items():
                writer.add_scalar(key, value, step)
        finally:
            writer.close()
        self._count += 1
        if "loss" in metrics:
            self._best[budget] = min(self._best.get(budget, math.inf), metrics["loss"])
            self._progress.add_scalar(f"loss/budget_{budget:g}", metrics["loss"], self._count)
            self._progress.add_scalar(f"best_loss/budget_{budget:g}", self._best[budget], self._count)
        self._progress.flush()

    def close(self) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.close()

    def __repr__(self) -> str:
        return f"TensorBoardCallback({self.logdir!r})"
