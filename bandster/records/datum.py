"""Datum: the record of one configuration inside an iteration, as HpBandSter's ``Result.data`` exposes it.

Iterations keep one Datum per configuration while they run; a :class:`~bandster.records.result.Result`
builds Datums on demand from its :class:`~bandster.records.run_table.RunTable`. The status strings are the
states an iteration moves a Datum through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bandster.core._convert import is_finite_loss

__all__ = ["Datum", "QUEUED", "RUNNING", "REVIEW", "CRASHED", "TERMINATED", "COMPLETED"]


class Datum:
    """Everything one iteration knows about one configuration.

    Parameters
    ----------
    config : dict
        The configuration, builtins only.
    config_info : dict
        Facts about how the configuration was chosen (e.g. ``model_based_pick``).
    results, time_stamps, exceptions : dict, optional
        Keyed by budget: the result dict (or None), the ``submitted/started/finished`` stamps, the error text.
    status : str
        ``QUEUED -> RUNNING -> REVIEW | CRASHED -> (QUEUED | TERMINATED) -> COMPLETED``.
    budget : float
        The current (or last) budget.

    Examples
    --------
    >>> class FinishedJob:  # what record() reads from a job
    ...     result, timestamps, exception = {"loss": 0.2, "info": {}}, {"finished": 1.0}, None
    ...     worker_name, attempt = "w0", 1
    >>> datum = Datum({"x": 1}, {})
    >>> datum.record(1.0, FinishedJob()), datum.status, datum.extras[1.0]["status"]
    (True, 'REVIEW', 'ok')
    """

    def __init__(
        self,
        config: dict,
        config_info: dict,
        results: dict | None = None,
        time_stamps: dict | None = None,
        exceptions: dict | None = None,
        status: str = "QUEUED",
        budget: float = 0,
    ) -> None:
        self.config = config
        self.config_info = config_info
        self.results = results if results is not None else {}
        self.time_stamps = time_stamps if time_stamps is not None else {}
        self.exceptions = exceptions if exceptions is not None else {}
        self.status = status
        self.budget = budget
        #: bandster extras per budget: ``{'worker': str, 'attempt': int, 'status': 'ok'|'failed'}``
        self.extras: dict[float, dict[str, Any]] = {}

    def record(self, budget: float, job: Any) -> bool:
        """Store a finished job's outcome on ``budget``; status REVIEW if its loss is finite, else CRASHED.

        Returns True for a usable (finite) result. Never raises on a bad result.
        """
        result = job.result
        ok = isinstance(result, Mapping) and is_finite_loss(result.get("loss"))
        self.results[budget] = result
        self.time_stamps[budget] = dict(job.timestamps or {})
        self.exceptions[budget] = job.exception
        self.extras[budget] = {
            "worker": job.worker_name,
            "attempt": getattr(job, "attempt", 1),
            "status": "ok" if ok else "failed",
        }
        self.budget = budget
        self.status = REVIEW if ok else CRASHED
        return ok

    def __repr__(self) -> str:
        return (
            f"Datum(config={self.config}, config_info={self.config_info}, status={self.status}, "
            f"budget={self.budget}, results={self.results}, exceptions={self.exceptions})"
        )


#: Statuses of a :class:`Datum` during an iteration.
QUEUED, RUNNING, REVIEW, CRASHED, TERMINATED, COMPLETED = (
    "QUEUED",
    "RUNNING",
    "REVIEW",
    "CRASHED",
    "TERMINATED",
    "COMPLETED",
)
