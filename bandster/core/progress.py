"""The progress bar of a run: runs finished and failed, the best loss so far, iterations started."""

from __future__ import annotations

import math
import sys
from typing import Any

from tqdm.auto import tqdm

from bandster.core._convert import loss_for_ranking


class _Bar(tqdm):
    monitor_interval = 0  # no tqdm monitor thread: every thread a run starts ends with it


class ProgressBar:
    """A tqdm bar over the runs of :meth:`Master.run`.

    Parameters
    ----------
    enabled : bool or None
        None (the default of ``run(progress=None)``) shows the bar only when stderr is a terminal.
    total : int, optional
        The number of runs planned, if known.
    desc : str
        The bar's label.
    """

    def __init__(self, enabled: bool | None, total: int | None, desc: str) -> None:
        if enabled is None:
            enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self.enabled = bool(enabled)
        self.finished = 0
        self.failed = 0
        self.best = math.inf
        self._bar: Any = _Bar(total=total, desc=desc, unit="run", disable=not self.enabled, leave=True,
                              dynamic_ncols=True)

    def update(self, job: Any) -> None:
        """Count one finished job."""
        self.finished += 1
        loss = loss_for_ranking(job.result)
        changed = False
        if job.status == "failed":  # a stopped job (early stopping) is no failure
            self.failed += 1
            changed = True
        elif loss < self.best:
            self.best = loss
            changed = True
        if self.enabled:
            if changed:
                self._bar.set_postfix_str(f"failed={self.failed} best={self.best:.4g}", refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        self._bar.close()
