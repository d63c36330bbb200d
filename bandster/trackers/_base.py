"""What the tracker callbacks share: lazy imports that name the extra to install, one lock per tracker, failures
logged and never raised, and the metrics and parameters of a run."""

from __future__ import annotations

import abc
import importlib
import importlib.util
import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

from bandster.records.result import Run

logger = logging.getLogger(__name__)


def require(module: str, owner: str, extra: str = "trackers") -> Any:
    """Import ``module``, or raise an ImportError that names the package and the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"{owner} needs {module.split('.')[0]}, which is not installed: "
                          f"pip install 'bandster[{extra}]'") from err


def check_installed(module: str, owner: str, extra: str = "trackers") -> None:
    """Raise the ImportError of :func:`require` now, without importing ``module``, if it is missing."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or the module blocked in sys.modules
        found = False
    if not found:
        raise ImportError(f"{owner} needs {module}, which is not installed: pip install 'bandster[{extra}]'")


def _numbers(prefix: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, bool):
        out[prefix] = float(value)
    elif isinstance(value, int | float) and math.isfinite(value):
        out[prefix] = float(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _numbers(f"{prefix}.{key}", item, out)


def run_metrics(run: Run) -> dict[str, float]:
    """``loss`` (when finite), ``duration`` (seconds, when both stamps are there) and every finite number of the
    run's ``info`` as ``info.<key>`` (nested dicts as ``info.<key>.<key>``)."""
    metrics: dict[str, float] = {}
    if isinstance(run.loss, int | float) and not isinstance(run.loss, bool) and math.isfinite(run.loss):
        metrics["loss"] = float(run.loss)
    stamps = run.time_stamps if isinstance(run.time_stamps, Mapping) else {}
    started, finished = stamps.get("started"), stamps.get("finished")
    if isinstance(started, int | float) and isinstance(finished, int | float):
        metrics["duration"] = float(finished - started)
    if isinstance(run.info, Mapping):
        for key, value in run.info.items():
            _numbers(f"info.{key}", value, metrics)
    return metrics


def run_params(run: Run) -> dict[str, Any]:
    """The run's configuration (active hyperparameters; ``config`` as the master adds it to each Run)."""
    config = getattr(run, "config", None)
    if not isinstance(config, Mapping):
        return {}
    return {str(k): v for k, v in config.items() if v is not None}


def config_id_text(run: Run) -> str:
    """``'0_0_1'`` for the config id ``(0, 0, 1)``."""
    return "_".join(str(part) for part in run.config_id)


class TrackerCallback(abc.ABC):
    """A result callback that records each run in an experiment tracker.

    The tracker's package is imported and its client opened on the first run (:meth:`open`), then every run is
    recorded (:meth:`record`) under one lock. Nothing escapes: a missing package switches the tracker off with
    one error in the log, and any other failure is logged with the run it concerns and counted in
    :attr:`failures`, while the optimization goes on.

    Examples
    --------
    >>> from bandster.records.result import Run
    >>> class Printer(TrackerCallback):
    ...     def open(self):
    ...         self.lines = []
    ...     def record(self, run):
    ...         self.lines.append(f"{run.config_id} {run.budget:g}: {run_metrics(run)}")
    ...     def close(self):
    ...         pass
    >>> printer = Printer()
    >>> printer(Run((0, 0, 1), 3.0, 0.25, {"acc": 0.9}, {"started": 1.0, "finished": 3.5}, None))
    >>> printer.lines
    ["(0, 0, 1) 3: {'loss': 0.25, 'duration': 2.5, 'info.acc': 0.9}"]
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opened = False
        self.disabled: str | None = None  #: why the tracker switched itself off (None while it works)
        self.failures = 0  #: how many runs could not be recorded

    def __call__(self, run: Run) -> None:
        with self._lock:
            if self.disabled is not None:
                return
            try:
                if not self._opened:
                    self.open()
                    self._opened = True
                self.record(run)
            except ImportError as err:
                self.disabled = str(err)
                logger.error("%r is switched off: %s", self, err)
            except Exception:
                self.failures += 1
                logger.warning("%r could not record the run of %s on budget %s (the optimization goes on)", self,
                               run.config_id, run.budget, exc_info=True)

    @abc.abstractmethod
    def open(self) -> None:
        """Import the tracker's package and open its client (called once, under the lock)."""

    @abc.abstractmethod
    def record(self, run: Run) -> None:
        """Record one finished run (called under the lock)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush and close what the tracker holds open."""
